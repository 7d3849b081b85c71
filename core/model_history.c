/* model_history.c - the registry's history: listing models with their validation and
 * held-out scores, activating an older one, pruning, and which evaluations are stale
 * (model.h, "model history").
 */
#include "model.h"

#include <cjson/cJSON.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kinds.h"

static char *dup_col(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    return t ? strdup(t) : NULL;
}

static void copy_col(sqlite3_stmt *st, int col, char *buf, size_t n)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    snprintf(buf, n, "%s", t ? t : "");
}

/* Whether evaluations has the models column (absent in files older than it). */
static int evals_have_models(rs_store *s)
{
    sqlite3_stmt *st = NULL;
    int have = 0;
    if (sqlite3_prepare_v2(rs_store_db(s), "SELECT 1 FROM pragma_table_info('evaluations')"
                           " WHERE name = 'models'", -1, &st, NULL) == SQLITE_OK)
        have = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return have;
}

int rs_evaluations_models_column(rs_store *s, rs_error *e)
{
    if (evals_have_models(s))
        return RS_OK;
    int rc = rs_store_exec(s, "ALTER TABLE evaluations ADD COLUMN models TEXT", e);
    /* another writer may have added it meanwhile */
    return rc && evals_have_models(s) ? RS_OK : rc;
}

int rs_registry_in_use(rs_store *s, int64_t city_id, const char *kind, int64_t *model_id,
                       rs_error *e)
{
    sqlite3_stmt *st = NULL;
    *model_id = 0;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT id FROM models WHERE active AND kind = ?1 AND split = 'all'"
                           " AND city_id IN (?2, 0) ORDER BY city_id = ?2 DESC, id DESC"
                           " LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading the model registry");
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, city_id);
    int step = sqlite3_step(st), rc = RS_OK;
    if (step == SQLITE_ROW)
        *model_id = sqlite3_column_int64(st, 0);
    else if (step != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "reading the model registry");
    sqlite3_finalize(st);
    return rc;
}

int rs_registry_models_json(rs_store *s, int64_t city_id, const char *const *kinds,
                            char **out, rs_error *e)
{
    cJSON *o = cJSON_CreateObject();
    int rc = RS_OK;
    *out = NULL;
    if (!o)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    for (int i = 0; kinds && kinds[i] && rc == RS_OK; i++) {
        int64_t id = 0;
        if ((rc = rs_registry_in_use(s, city_id, kinds[i], &id, e)) == RS_OK && id > 0 &&
            !cJSON_AddNumberToObject(o, kinds[i], (double)id))
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    if (rc == RS_OK && !(*out = cJSON_PrintUnformatted(o)))
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
    cJSON_Delete(o);
    return rc;
}

int rs_evaluation_stale(rs_store *s, int64_t city_id, const char *models_json, int *stale,
                        rs_error *e)
{
    *stale = 0;
    cJSON *o = models_json ? cJSON_Parse(models_json) : NULL;
    int rc = RS_OK;
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return RS_OK;
    }
    for (cJSON *it = o->child; it && rc == RS_OK && !*stale; it = it->next) {
        int64_t now = 0;
        if (!it->string || !cJSON_IsNumber(it))
            continue;
        if ((rc = rs_registry_in_use(s, city_id, it->string, &now, e)) == RS_OK)
            *stale = now != (int64_t)it->valuedouble;
    }
    cJSON_Delete(o);
    return rc;
}

void rs_model_list_free(rs_model_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->rows[i].params);
        free(l->rows[i].metrics);
        free(l->rows[i].eval_metrics);
    }
    free(l->rows);
    l->rows = NULL;
    l->n = 0;
}

/* The latest evaluation of row's model (the kind's method, recorded with it). */
static int latest_eval(rs_store *s, rs_model_row *row, rs_error *e)
{
    const rs_kind *k = rs_kind_find(row->info.kind);
    sqlite3_stmt *st = NULL;
    if (!k || !evals_have_models(s))
        return RS_OK;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT id, metrics, created_at, city_id FROM evaluations"
                           " WHERE method = ?1 AND json_valid(models)"
                           " AND json_extract(models, '$.' || ?2) = ?3"
                           " ORDER BY id DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading evaluations");
    sqlite3_bind_text(st, 1, k->label, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, row->info.kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, row->info.id);
    int step = sqlite3_step(st), rc = RS_OK;
    if (step == SQLITE_ROW) {
        row->eval_id = sqlite3_column_int64(st, 0);
        row->eval_metrics = dup_col(st, 1);
        copy_col(st, 2, row->eval_created_at, sizeof row->eval_created_at);
        int64_t city = sqlite3_column_int64(st, 3), now = 0;
        sqlite3_finalize(st);
        st = NULL;
        if ((rc = rs_registry_in_use(s, city, row->info.kind, &now, e)) == RS_OK)
            row->eval_stale = now != row->info.id;
    } else if (step != SQLITE_DONE) {
        rc = rs_store_sqlerr(s, e, "reading evaluations");
    }
    sqlite3_finalize(st);
    return rc;
}

int rs_registry_list(rs_store *s, int64_t city_id, const char *kind, rs_model_list *out,
                     rs_error *e)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = RS_OK, step;
    memset(out, 0, sizeof *out);
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT m.id, m.city_id, m.kind, m.split, m.path, m.created_at,"
                           " m.seconds, m.active, m.params, m.metrics,"
                           " CASE WHEN m.city_id = 0 THEN 'all cities' ELSE c.name END"
                           " FROM models m LEFT JOIN cities c ON c.id = m.city_id"
                           " WHERE (?1 < 0 OR m.city_id = ?1) AND (?2 IS NULL OR m.kind = ?2)"
                           " ORDER BY m.id DESC", -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading the model registry");
    sqlite3_bind_int64(st, 1, city_id);
    if (kind)
        sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            rs_model_row *g = realloc(out->rows, nc * sizeof *g);
            if (!g) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                break;
            }
            out->rows = g;
            cap = nc;
        }
        rs_model_row *r = &out->rows[out->n++];
        memset(r, 0, sizeof *r);
        r->info.id = sqlite3_column_int64(st, 0);
        r->info.city_id = sqlite3_column_int64(st, 1);
        copy_col(st, 2, r->info.kind, sizeof r->info.kind);
        copy_col(st, 3, r->info.split, sizeof r->info.split);
        copy_col(st, 4, r->info.path, sizeof r->info.path);
        copy_col(st, 5, r->info.created_at, sizeof r->info.created_at);
        r->info.seconds = sqlite3_column_double(st, 6);
        r->active = sqlite3_column_int(st, 7) != 0;
        r->params = dup_col(st, 8);
        r->metrics = dup_col(st, 9);
        copy_col(st, 10, r->city_name, sizeof r->city_name);
    }
    if (rc == RS_OK && step != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "reading the model registry");
    sqlite3_finalize(st);
    for (size_t i = 0; rc == RS_OK && i < out->n; i++)
        rc = latest_eval(s, &out->rows[i], e);
    if (rc)
        rs_model_list_free(out);
    return rc;
}

/* The model row id; RS_EUSAGE when there is none. */
static int model_by_id(rs_store *s, int64_t id, rs_model_info *info, int *active, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT city_id, kind, split, path, created_at, seconds, active"
                           " FROM models WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading the model registry");
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st), rc = RS_OK;
    if (step == SQLITE_ROW) {
        memset(info, 0, sizeof *info);
        info->id = id;
        info->city_id = sqlite3_column_int64(st, 0);
        copy_col(st, 1, info->kind, sizeof info->kind);
        copy_col(st, 2, info->split, sizeof info->split);
        copy_col(st, 3, info->path, sizeof info->path);
        copy_col(st, 4, info->created_at, sizeof info->created_at);
        info->seconds = sqlite3_column_double(st, 5);
        *active = sqlite3_column_int(st, 6) != 0;
    } else if (step == SQLITE_DONE) {
        rc = rs_seterr(e, RS_EUSAGE, "no model %lld in the registry (see `recoscope models`)",
                       (long long)id);
    } else {
        rc = rs_store_sqlerr(s, e, "reading the model registry");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Runs one statement with up to three int64/text parameters bound by the caller's
 * order: ints first (n_int of them), then the text. */
static int exec_bound(rs_store *s, const char *sql, const int64_t *ints, int n_int,
                      const char *const *texts, int n_text, const char *what, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, what);
    for (int i = 0; i < n_int; i++)
        sqlite3_bind_int64(st, i + 1, ints[i]);
    for (int i = 0; i < n_text; i++)
        sqlite3_bind_text(st, n_int + i + 1, texts[i], -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? RS_OK : rs_store_sqlerr(s, e, what);
    sqlite3_finalize(st);
    return rc;
}

int rs_registry_activate(rs_store *s, int64_t id, rs_model_info *info, int64_t *previous,
                         rs_error *e)
{
    rs_model_info local, cur;
    int active = 0, rc;
    if (!info)
        info = &local;
    if (previous)
        *previous = 0;
    if ((rc = model_by_id(s, id, info, &active, e)))
        return rc;
    /* the file must load (and hold the kind the registry says) before it serves */
    rs_embedding *m = NULL;
    if ((rc = rs_registry_load(s, info, &m, e))) {
        rs_errctx(e, "model %lld cannot be activated", (long long)id);
        return rc;
    }
    rs_embedding_free(m);
    if (previous && rs_registry_active(s, info->city_id, info->kind, info->split, &cur,
                                       NULL) == RS_OK)
        *previous = cur.id;
    if (active)
        return RS_OK;
    if ((rc = rs_store_begin(s, e)))
        return rc;
    const int64_t ints[2] = {info->city_id, id};
    const char *const texts[2] = {info->kind, info->split};
    if ((rc = exec_bound(s, "UPDATE models SET active = 0 WHERE active AND city_id = ?1"
                         " AND id <> ?2 AND kind = ?3 AND split = ?4", ints, 2, texts, 2,
                         "activating a model", e)) ||
        (rc = exec_bound(s, "UPDATE models SET active = 1 WHERE id = ?1", &ints[1], 1, NULL,
                         0, "activating a model", e))) {
        rs_store_rollback(s);
        return rc;
    }
    return rs_store_commit(s, e);
}

/* Whether path is a file directly inside the models directory. */
static int in_models_dir(rs_store *s, const char *path)
{
    char *dir = realpath(rs_store_models_dir(s), NULL);
    char *copy = strdup(path);
    int inside = 0;
    if (dir && copy) {
        char *parent = realpath(dirname(copy), NULL);
        inside = parent && strcmp(parent, dir) == 0;
        free(parent);
    }
    free(dir);
    free(copy);
    return inside;
}

/* The rows to prune (ids and paths) for the filter. */
typedef struct victims {
    int64_t *ids;
    char **paths;
    size_t n, cap;
} victims;

static void victims_free(victims *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->paths[i]);
    free(v->ids);
    free(v->paths);
}

static int find_victims(rs_store *s, int64_t city_id, const char *kind, int keep, victims *v,
                        rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK, step;
    /* rank within (city, kind, split), newest first; the active one is never a victim */
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT id, path FROM (SELECT id, path, active, row_number() OVER"
                           " (PARTITION BY city_id, kind, split ORDER BY id DESC) AS rank"
                           " FROM models WHERE (?1 < 0 OR city_id = ?1)"
                           " AND (?2 IS NULL OR kind = ?2))"
                           " WHERE rank > ?3 AND NOT active ORDER BY id", -1, &st,
                           NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading the model registry");
    sqlite3_bind_int64(st, 1, city_id);
    if (kind)
        sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, keep);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (v->n == v->cap) {
            size_t nc = v->cap ? v->cap * 2 : 16;
            int64_t *ni = realloc(v->ids, nc * sizeof *ni);
            if (ni)
                v->ids = ni;
            char **np = ni ? realloc(v->paths, nc * sizeof *np) : NULL;
            if (!np) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                break;
            }
            v->paths = np;
            v->cap = nc;
        }
        v->ids[v->n] = sqlite3_column_int64(st, 0);
        v->paths[v->n] = dup_col(st, 1);
        if (!v->paths[v->n]) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            break;
        }
        v->n++;
    }
    if (rc == RS_OK && step != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "reading the model registry");
    sqlite3_finalize(st);
    return rc;
}

/* Whether a remaining row still uses path. */
static int path_in_use(rs_store *s, const char *path)
{
    sqlite3_stmt *st = NULL;
    int used = 1;
    if (sqlite3_prepare_v2(rs_store_db(s), "SELECT 1 FROM models WHERE path = ?1 LIMIT 1", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
        used = sqlite3_step(st) != SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return used;
}

/* Unregisters the victims in one transaction (runs pointing at them unlinked). */
static int drop_rows(rs_store *s, const victims *v, rs_error *e)
{
    int rc = rs_store_begin(s, e);
    for (size_t i = 0; rc == RS_OK && i < v->n; i++)
        if (!(rc = exec_bound(s, "UPDATE runs SET model_id = NULL WHERE model_id = ?1",
                              &v->ids[i], 1, NULL, 0, "pruning models", e)))
            rc = exec_bound(s, "DELETE FROM models WHERE id = ?1", &v->ids[i], 1, NULL, 0,
                            "pruning models", e);
    if (rc) {
        rs_store_rollback(s);
        return rc;
    }
    return rs_store_commit(s, e);
}

int rs_registry_prune(rs_store *s, int64_t city_id, const char *kind, int keep, int dry_run,
                      rs_prune_result *r, rs_error *e)
{
    victims v = {0};
    memset(r, 0, sizeof *r);
    if (keep < 1)
        return rs_seterr(e, RS_EUSAGE, "keep at least 1 model per city and kind (got %d)",
                         keep);
    int rc = find_victims(s, city_id, kind, keep, &v, e);
    if (rc == RS_OK && !dry_run)
        rc = drop_rows(s, &v, e);
    for (size_t i = 0; rc == RS_OK && i < v.n; i++) {
        r->rows++;
        struct stat st;
        char path[PATH_MAX];
        if (rs_registry_resolve(s, v.paths[i], path, sizeof path) != 0 ||
            !in_models_dir(s, path)) {
            r->kept_outside++;
            continue;
        }
        if (!dry_run && path_in_use(s, v.paths[i]))
            continue;
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        r->files++;
        r->bytes += (int64_t)st.st_size;
        if (dry_run)
            continue;
        char side[PATH_MAX + 8];
        snprintf(side, sizeof side, "%s.json", path);
        (void)unlink(path);
        (void)unlink(side);
    }
    victims_free(&v);
    return rc;
}
