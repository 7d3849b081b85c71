/* runs.c - the runs and evaluations tables (see runs.h). */
#include "runs.h"

#include <stdlib.h>
#include <string.h>

int rs_runs_insert(rs_store *s, int64_t city, const char *kind, const char *grid,
                   const char *params, const char *metrics, double seconds, int64_t *id,
                   rs_error *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "INSERT INTO runs(city_id, kind, grid, params, metrics, seconds,"
                           " created_at, selected) VALUES (?,?,?,?,?,?,"
                           " strftime('%Y-%m-%dT%H:%M:%SZ','now'), 0)",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "recording a run");
    sqlite3_bind_int64(st, 1, city);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    if (grid)
        sqlite3_bind_text(st, 3, grid, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, params, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, metrics, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 6, seconds);
    int rc = sqlite3_step(st) == SQLITE_DONE ? RS_OK : rs_store_sqlerr(s, e, "recording a run");
    sqlite3_finalize(st);
    if (!rc && id)
        *id = sqlite3_last_insert_rowid(rs_store_db(s));
    return rc;
}

int rs_runs_select(rs_store *s, int64_t city, const char *kind, int64_t run_id,
                   int64_t model_id, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "UPDATE runs SET selected = (id = ?1),"
                           " model_id = CASE WHEN id = ?1 AND ?4 > 0 THEN ?4 ELSE model_id END"
                           " WHERE city_id = ?2 AND kind = ?3",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "selecting a run");
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, city);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, model_id);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "selecting a run");
    sqlite3_finalize(st);
    return rc;
}

int rs_evaluations_insert(rs_store *s, int64_t city, const char *method, const char *split,
                          const char *metrics, const char *models, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "INSERT INTO evaluations(city_id, method, split, metrics, models,"
                           " created_at) VALUES (?,?,?,?,?,"
                           " strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "recording an evaluation");
    sqlite3_bind_int64(st, 1, city);
    sqlite3_bind_text(st, 2, method, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, split, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, metrics, -1, SQLITE_STATIC);
    if (models && *models)
        sqlite3_bind_text(st, 5, models, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? RS_OK
                                             : rs_store_sqlerr(s, e, "recording an evaluation");
    sqlite3_finalize(st);
    return rc;
}

static int dup_col(sqlite3_stmt *st, int col, char **out, rs_error *e)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    if (!out || !t)
        return RS_OK;
    if (!(*out = strdup(t)))
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    return RS_OK;
}

int rs_runs_active_params(rs_store *s, int64_t city, const char *kind, int fallback,
                          char **out, int64_t *model_id, char **metrics, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    if (model_id)
        *model_id = 0;
    if (metrics)
        *metrics = NULL;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT params, id, metrics FROM models WHERE active AND kind = ?1"
                           " AND split = 'all' AND city_id IN (?2, ?3)"
                           " ORDER BY city_id = ?2 DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading active parameters");
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, city);
    sqlite3_bind_int64(st, 3, fallback ? 0 : city);
    int rc = RS_OK, step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        if (model_id)
            *model_id = sqlite3_column_int64(st, 1);
        if (!(rc = dup_col(st, 0, out, e)))
            rc = dup_col(st, 2, metrics, e);
    } else if (step != SQLITE_DONE) {
        rc = rs_store_sqlerr(s, e, "reading active parameters");
    }
    sqlite3_finalize(st);
    if (rc) {
        free(*out);
        *out = NULL;
        if (metrics) {
            free(*metrics);
            *metrics = NULL;
        }
    }
    return rc;
}
