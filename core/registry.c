/* registry.c - the model registry: rows of the `models` table (schema in store.h).
 *
 * At most one row per (city, kind, split) is active; the partial unique index
 * models_active enforces it, and rs_registry_add switches the flag inside one
 * transaction so readers never see zero or two active models.
 */
#include "model.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int rs_model_new_path(rs_store *s, int64_t city_id, const char *kind, const char *split,
                      char *buf, size_t n, rs_error *e)
{
    int rc = rs_store_ensure_models_dir(s, e);
    if (rc)
        return rc;
    char *dir = realpath(rs_store_models_dir(s), NULL);
    if (!dir)
        return rs_seterr(e, RS_EINTERNAL, "%s: %s", rs_store_models_dir(s), strerror(errno));
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t t = ts.tv_sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    rc = RS_EINTERNAL;
    for (int k = 0; k < 1000; k++) {
        int len;
        if (k == 0)
            len = snprintf(buf, n, "%s/%s-c%lld-%s-%s-%09ld.rsm", dir, kind,
                           (long long)city_id, split, stamp, (long)ts.tv_nsec);
        else
            len = snprintf(buf, n, "%s/%s-c%lld-%s-%s-%09ld-%d.rsm", dir, kind,
                           (long long)city_id, split, stamp, (long)ts.tv_nsec, k);
        if (len < 0 || (size_t)len >= n) {
            rc = rs_seterr(e, RS_EINTERNAL, "%s: model path too long", dir);
            break;
        }
        struct stat st;
        if (lstat(buf, &st) != 0 && errno == ENOENT) {
            rc = RS_OK;
            break;
        }
    }
    if (rc == RS_EINTERNAL)
        rs_seterr(e, RS_EINTERNAL, "%s: no free model file name", dir);
    free(dir);
    return rc;
}

int rs_registry_add(rs_store *s, int64_t city_id, const char *kind, const char *split,
                    const char *path, const char *params_json, const char *metrics_json,
                    const char *fingerprint, double seconds, int activate, int64_t *id,
                    rs_error *e)
{
    sqlite3 *db = rs_store_db(s);
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    int outer = !sqlite3_get_autocommit(db); /* the caller holds a transaction */
    if (!split || !*split)
        split = "all";
    if (!kind || !*kind || strlen(kind) >= 16)
        return rs_seterr(e, RS_EUSAGE, "model kind must be 1..15 characters");
    if ((rc = rs_store_exec(s, outer ? "SAVEPOINT rs_registry_add" : "BEGIN IMMEDIATE", e)))
        return rc;
    if (activate) {
        if (sqlite3_prepare_v2(db,
                               "UPDATE models SET active = 0 WHERE active AND city_id = ?1"
                               " AND kind = ?2 AND split = ?3",
                               -1, &st, NULL) != SQLITE_OK) {
            rc = rs_store_sqlerr(s, e, "registering a model");
            goto done;
        }
        sqlite3_bind_int64(st, 1, city_id);
        sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, split, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = rs_store_sqlerr(s, e, "registering a model");
            goto done;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO models(city_id, kind, path, split, params, metrics,"
                           " fingerprint, seconds, created_at, active) VALUES (?1, ?2, ?3, ?4,"
                           " ?5, ?6, ?7, ?8, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?9)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = rs_store_sqlerr(s, e, "registering a model");
        goto done;
    }
    sqlite3_bind_int64(st, 1, city_id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, split, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, params_json ? params_json : "{}", -1, SQLITE_STATIC);
    if (metrics_json)
        sqlite3_bind_text(st, 6, metrics_json, -1, SQLITE_STATIC);
    if (fingerprint)
        sqlite3_bind_text(st, 7, fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 8, seconds);
    sqlite3_bind_int(st, 9, activate ? 1 : 0);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = rs_store_sqlerr(s, e, "registering a model");
        goto done;
    }
    if (id)
        *id = sqlite3_last_insert_rowid(db);
done:
    sqlite3_finalize(st);
    if (rc) {
        if (outer) {
            rs_store_exec(s, "ROLLBACK TO rs_registry_add", NULL);
            rs_store_exec(s, "RELEASE rs_registry_add", NULL);
        } else {
            rs_store_rollback(s);
        }
        return rc;
    }
    return rs_store_exec(s, outer ? "RELEASE rs_registry_add" : "COMMIT", e);
}

int rs_registry_active(rs_store *s, int64_t city_id, const char *kind, const char *split,
                       rs_model_info *info, rs_error *e)
{
    sqlite3 *db = rs_store_db(s);
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    if (!split || !*split)
        split = "all";
    if (sqlite3_prepare_v2(db,
                           "SELECT id, city_id, kind, split, path, created_at, seconds FROM"
                           " models WHERE active AND city_id = ?1 AND kind = ?2 AND split = ?3"
                           " ORDER BY id DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading the model registry");
    sqlite3_bind_int64(st, 1, city_id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, split, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        memset(info, 0, sizeof *info);
        info->id = sqlite3_column_int64(st, 0);
        info->city_id = sqlite3_column_int64(st, 1);
        const char *k = (const char *)sqlite3_column_text(st, 2);
        const char *sp = (const char *)sqlite3_column_text(st, 3);
        const char *p = (const char *)sqlite3_column_text(st, 4);
        const char *c = (const char *)sqlite3_column_text(st, 5);
        snprintf(info->kind, sizeof info->kind, "%s", k ? k : "");
        snprintf(info->split, sizeof info->split, "%s", sp ? sp : "");
        if (!p || strlen(p) >= sizeof info->path)
            rc = rs_seterr(e, RS_EDATA, "%s: model %lld has a missing or too long path",
                           rs_store_path(s), (long long)info->id);
        else
            snprintf(info->path, sizeof info->path, "%s", p);
        snprintf(info->created_at, sizeof info->created_at, "%s", c ? c : "");
        info->seconds = sqlite3_column_double(st, 6);
    } else if (step == SQLITE_DONE) {
        rc = rs_seterr(e, RS_EUSAGE, "no active %s model for %s%lld (split %s); run `recoscope "
                       "train` first", kind, city_id ? "city " : "all cities, id ",
                       (long long)city_id, split);
    } else {
        rc = rs_store_sqlerr(s, e, "reading the model registry");
    }
    sqlite3_finalize(st);
    return rc;
}

int rs_registry_resolve(rs_store *s, const char *path, char *buf, size_t n)
{
    if (path[0] == '/')
        return snprintf(buf, n, "%s", path) < (int)n ? 0 : -1;
    /* Relative: the database's directory first, so a file of the same name under the
     * working directory (another world's) is never taken; the path as given only when
     * nothing is there (registries written by old versions, relative to their cwd). */
    char *copy = strdup(rs_store_path(s));
    if (!copy)
        return -1;
    int len = snprintf(buf, n, "%s/%s", dirname(copy), path);
    free(copy);
    if (len < 0 || (size_t)len >= n)
        return -1;
    if (access(buf, F_OK) != 0 && access(path, F_OK) == 0)
        return snprintf(buf, n, "%s", path) < (int)n ? 0 : -1;
    return 0;
}

int rs_registry_load(rs_store *s, const rs_model_info *info, rs_embedding **out, rs_error *e)
{
    char path[PATH_MAX];
    rs_embedding *m = NULL;
    *out = NULL;
    if (rs_registry_resolve(s, info->path, path, sizeof path) != 0)
        return rs_seterr(e, RS_EINTERNAL, "%s: model path too long", info->path);
    int rc = rs_model_load(path, &m, e);
    if (rc)
        return rc;
    if (strcmp(m->kind, info->kind) != 0) {
        rc = rs_seterr(e, RS_EDATA, "%s: the file holds a %s model, the registry says %s", path,
                       m->kind, info->kind);
        rs_embedding_free(m);
        return rc;
    }
    *out = m;
    return RS_OK;
}

int rs_registry_load_active(rs_store *s, int64_t city_id, const char *kind, const char *split,
                            rs_embedding **out, int64_t *used_city, rs_model_info *info,
                            rs_error *e)
{
    rs_model_info local;
    if (!info)
        info = &local;
    *out = NULL;
    int rc = rs_registry_active(s, city_id, kind, split, info, e);
    if (rc == RS_EUSAGE && city_id != 0)
        rc = rs_registry_active(s, 0, kind, split, info, e);
    if (rc)
        return rc;
    rs_embedding *m = NULL;
    if ((rc = rs_registry_load(s, info, &m, e))) {
        rs_errctx(e, "active %s model %lld", kind, (long long)info->id);
        return rc;
    }
    if (used_city)
        *used_city = info->city_id;
    *out = m;
    return RS_OK;
}
