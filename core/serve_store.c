/* serve_store.c - the store queries of `recoscope serve` and `train --if-changed`
 * (see serve_store.h for the staleness rule). */
#include "serve_store.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "browse.h"
#include "hash.h"

/* "receipts=N ..." -> N; -1 when the fingerprint does not start that way. */
static int64_t fingerprint_receipts(const char *fp)
{
    if (!fp || strncmp(fp, "receipts=", 9) != 0)
        return -1;
    char *end = NULL;
    long long v = strtoll(fp + 9, &end, 10);
    if (end == fp + 9 || (*end && *end != ' ') || v < 0)
        return -1;
    return (int64_t)v;
}

int rs_serve_active_models(rs_store *s, rs_serve_model **out, int *n, rs_error *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    rs_serve_model *v = NULL;
    int cnt = 0, cap = 0, rc = RS_OK, step;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT id, city_id, kind, split,"
                           " coalesce(CAST(strftime('%s', created_at) AS INTEGER), 0), fingerprint"
                           " FROM models WHERE active ORDER BY city_id, kind, split",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading the model registry");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            rs_serve_model *w = realloc(v, (size_t)cap * sizeof *w);
            if (!w) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                goto done;
            }
            v = w;
        }
        rs_serve_model *m = &v[cnt++];
        const char *kind = (const char *)sqlite3_column_text(st, 2);
        const char *split = (const char *)sqlite3_column_text(st, 3);
        m->id = sqlite3_column_int64(st, 0);
        m->city_id = sqlite3_column_int64(st, 1);
        snprintf(m->kind, sizeof m->kind, "%s", kind ? kind : "");
        snprintf(m->split, sizeof m->split, "%s", split ? split : "");
        m->created = sqlite3_column_int64(st, 4);
        m->receipts = fingerprint_receipts((const char *)sqlite3_column_text(st, 5));
    }
    if (step != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "reading the model registry");
done:
    sqlite3_finalize(st);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *n = cnt;
    return RS_OK;
}

/* A digest of the stored choices (meta "completion:<city>", and the category ranking's
 * "categories:<city>"): `train` writes
 * them after it registers the models, so a reload between the two would otherwise keep
 * serving the previous choice (complements and completion rank by it). */
static int choices_digest(rs_store *s, uint64_t *h, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int step;
    *h = RS_FNV64_INIT;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT key, value FROM meta WHERE key LIKE 'completion:%' OR key LIKE "
                           "'categories:%' ORDER BY key",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading the completion choices");
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        for (int c = 0; c < 2; c++) {
            const char *v = (const char *)sqlite3_column_text(st, c);
            *h = rs_fnv1a64(*h, v ? v : "", v ? strlen(v) + 1 : 1);
        }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? RS_OK : rs_store_sqlerr(s, e, "reading the completion choices");
}

int rs_serve_signature(rs_store *s, char *buf, size_t n, rs_error *e)
{
    char reg[160];
    sqlite3_stmt *st = NULL;
    uint64_t choices = 0;
    int rc;
    buf[0] = 0;
    if ((rc = rs_browse_models_signature(s, reg, 128, e)) || (rc = choices_digest(s, &choices, e)))
        return rc;
    size_t used = strlen(reg);
    snprintf(reg + used, sizeof reg - used, " choices=%016" PRIx64, choices);
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT (SELECT coalesce(max(id), 0) FROM products),"
                           " (SELECT coalesce(max(id), 0) FROM import_ledger)",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading the catalogue");
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(buf, n, "%s products=%lld ledger=%lld", reg,
                 (long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 1));
    else
        rc = rs_store_sqlerr(s, e, "reading the catalogue");
    sqlite3_finalize(st);
    return rc;
}

/* The verdict for one city; st0 counts its receipts, st1 lists its active models of
 * the split with the newest receipts import not older than each. */
static int kind_wanted(const char *const *kinds, const char *kind)
{
    if (!kinds)
        return 1;
    for (; *kinds; kinds++)
        if (kind && strcmp(*kinds, kind) == 0)
            return 1;
    return 0;
}

static int stale_one(sqlite3_stmt *st0, sqlite3_stmt *st1, int64_t city, const char *split,
                     const char *const *kinds, rs_serve_stale *o)
{
    memset(o, 0, sizeof *o);
    o->city_id = city;
    o->trained_on = -1;
    sqlite3_reset(st0);
    sqlite3_bind_int64(st0, 1, city);
    if (sqlite3_step(st0) != SQLITE_ROW)
        return -1;
    o->receipts = sqlite3_column_int64(st0, 0);
    sqlite3_reset(st1);
    sqlite3_bind_int64(st1, 1, city);
    sqlite3_bind_text(st1, 2, split, -1, SQLITE_STATIC);
    int step, models = 0;
    while ((step = sqlite3_step(st1)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st1, 0);
        const char *kind = (const char *)sqlite3_column_text(st1, 1);
        if (!kind_wanted(kinds, kind))
            continue;
        models++;
        int64_t n = fingerprint_receipts((const char *)sqlite3_column_text(st1, 2));
        int newer_import = sqlite3_column_int(st1, 3);
        if (n >= 0 && (o->trained_on < 0 || n < o->trained_on))
            o->trained_on = n;
        if (o->stale)
            continue;
        if (n >= 0 && strcmp(split, "all") == 0) {
            if (n != o->receipts) {
                o->stale = 1;
                snprintf(o->reason, sizeof o->reason,
                         "%" PRId64 " receipts now, %s model %" PRId64 " was fitted on %" PRId64,
                         o->receipts, kind ? kind : "?", id, n);
            }
        } else if (newer_import) {
            o->stale = 1;
            snprintf(o->reason, sizeof o->reason,
                     "receipts imported since %s model %" PRId64 " was registered",
                     kind ? kind : "?", id);
        }
    }
    if (step != SQLITE_DONE)
        return -1;
    if (!models) {
        o->stale = 1;
        snprintf(o->reason, sizeof o->reason, "no active model (split %s)", split);
    } else if (!o->stale) {
        snprintf(o->reason, sizeof o->reason, "up to date: %d models fitted on its %" PRId64
                 " receipts", models, o->receipts);
    }
    return 0;
}

int rs_serve_stale_cities(rs_store *s, const int64_t *cities, int n, const char *split,
                          const char *const *kinds, rs_serve_stale *out, rs_error *e)
{
    sqlite3 *db = rs_store_db(s);
    sqlite3_stmt *st0 = NULL, *st1 = NULL;
    int rc = RS_OK;
    if (!split || !*split)
        split = "all";
    if (sqlite3_prepare_v2(db,
                           "SELECT CASE WHEN ?1 = 0 THEN (SELECT count(*) FROM receipts)"
                           " ELSE (SELECT count(*) FROM receipts WHERE city_id = ?1) END",
                           -1, &st0, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT m.id, m.kind, m.fingerprint, EXISTS (SELECT 1 FROM"
                           " import_ledger l WHERE l.kind = 'receipts' AND l.imported_at >="
                           " m.created_at) FROM models m WHERE m.active AND m.city_id = ?1"
                           " AND m.split = ?2 ORDER BY m.kind",
                           -1, &st1, NULL) != SQLITE_OK) {
        rc = rs_store_sqlerr(s, e, "reading the model registry");
        goto done;
    }
    for (int i = 0; i < n; i++)
        if (stale_one(st0, st1, cities[i], split, kinds, &out[i])) {
            rc = rs_store_sqlerr(s, e, "comparing receipts with the active models");
            goto done;
        }
done:
    sqlite3_finalize(st0);
    sqlite3_finalize(st1);
    return rc;
}
