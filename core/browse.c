/* browse.c - the reads of the terminal interface (see browse.h). */
#include "browse.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"
#include "model.h"
#include "store.h"

#include <cjson/cJSON.h>
#include <math.h>

static char *dup_text(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    return t ? strdup(t) : NULL;
}

void rs_browse_cities_free(rs_browse_city *c, int n)
{
    if (!c)
        return;
    for (int i = 0; i < n; i++)
        free(c[i].name);
    free(c);
}

int rs_browse_cities(rs_store *s, rs_browse_city **out, int *n, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    rs_browse_city *v = NULL;
    int cap = 0, len = 0, step, rc = RS_OK;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(rs_store_db(s), "SELECT id, name, receipts FROM cities ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "cities");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            int nc = cap ? 2 * cap : 16;
            rs_browse_city *w = realloc(v, (size_t)nc * sizeof *w);
            if (!w) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                goto done;
            }
            v = w;
            cap = nc;
        }
        const char *name = (const char *)sqlite3_column_text(st, 1);
        v[len].id = sqlite3_column_int64(st, 0);
        v[len].receipts = sqlite3_column_int64(st, 2);
        if (!(v[len].name = strdup(name ? name : ""))) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
        len++;
    }
    if (step != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "cities");
done:
    sqlite3_finalize(st);
    if (rc != RS_OK) {
        rs_browse_cities_free(v, len);
        return rc;
    }
    *out = v;
    *n = len;
    return RS_OK;
}

int rs_browse_model_owners(rs_store *s, const int64_t *city_ids, int n, int *own_product,
                           int *own_category, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int step;
    for (int i = 0; i < n; i++)
        own_product[i] = own_category[i] = 0;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT city_id, kind FROM models WHERE active AND split = 'all'",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "models");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t city = sqlite3_column_int64(st, 0);
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        for (int i = 0; i < n && kind; i++) {
            if (city_ids[i] != city)
                continue;
            if (strcmp(kind, RS_KIND_PRODUCT) == 0)
                own_product[i] = 1;
            if (strcmp(kind, RS_KIND_CATEGORY) == 0)
                own_category[i] = 1;
        }
    }
    int rc = step == SQLITE_DONE ? RS_OK : rs_store_sqlerr(s, e, "models");
    sqlite3_finalize(st);
    return rc;
}

int rs_browse_models_signature(rs_store *s, char *buf, size_t n, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    buf[0] = 0;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT count(*), coalesce(max(id), 0), coalesce(sum(id * active), 0)"
                           " FROM models", -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "models");
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(buf, n, "%lld/%lld/%lld", (long long)sqlite3_column_int64(st, 0),
                 (long long)sqlite3_column_int64(st, 1), (long long)sqlite3_column_int64(st, 2));
    else
        rc = rs_store_sqlerr(s, e, "models");
    sqlite3_finalize(st);
    return rc;
}

void rs_browse_rows_free(rs_browse_rows *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n; i++) {
        free(r->v[i].kind);
        free(r->v[i].split);
        free(r->v[i].params);
        free(r->v[i].metrics);
        free(r->v[i].models);
    }
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

/* Column layout shared by the three row queries. */
enum { COL_ID, COL_CITY, COL_MODEL, COL_KIND, COL_SPLIT, COL_PARAMS, COL_METRICS,
       COL_SECONDS, COL_SELECTED, COL_CREATED, COL_MODELS };

/* Runs st (bound by the caller) and appends its rows to out; st is finalized. */
static int collect_rows(rs_store *s, sqlite3_stmt *st, rs_browse_rows *out, const char *what,
                        rs_error *e)
{
    int cap = 0, step, rc = RS_OK;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap) {
            int nc = cap ? 2 * cap : 16;
            rs_browse_row *w = realloc(out->v, (size_t)nc * sizeof *w);
            if (!w) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                goto done;
            }
            out->v = w;
            cap = nc;
        }
        rs_browse_row *r = &out->v[out->n];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(st, COL_ID);
        r->city_id = sqlite3_column_int64(st, COL_CITY);
        r->model_id = sqlite3_column_int64(st, COL_MODEL);
        r->kind = dup_text(st, COL_KIND);
        r->split = dup_text(st, COL_SPLIT);
        r->params = dup_text(st, COL_PARAMS);
        r->metrics = dup_text(st, COL_METRICS);
        r->seconds = sqlite3_column_double(st, COL_SECONDS);
        r->has_seconds = sqlite3_column_type(st, COL_SECONDS) != SQLITE_NULL;
        r->selected = sqlite3_column_int(st, COL_SELECTED);
        const char *ca = (const char *)sqlite3_column_text(st, COL_CREATED);
        snprintf(r->created_at, sizeof r->created_at, "%s", ca ? ca : "");
        if (sqlite3_column_count(st) > COL_MODELS)
            r->models = dup_text(st, COL_MODELS);
        out->n++;
        /* a NULL kind or split stays NULL (the caller skips such rows); a text that
         * could not be copied is out of memory */
        if ((!r->kind && sqlite3_column_type(st, COL_KIND) != SQLITE_NULL) ||
            (!r->split && sqlite3_column_type(st, COL_SPLIT) != SQLITE_NULL) ||
            (!r->params && sqlite3_column_type(st, COL_PARAMS) != SQLITE_NULL) ||
            (!r->metrics && sqlite3_column_type(st, COL_METRICS) != SQLITE_NULL)) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
    }
    if (step != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, what);
done:
    sqlite3_finalize(st);
    if (rc != RS_OK)
        rs_browse_rows_free(out);
    return rc;
}

/* Prepares sql with ?1 bound to city and collects its rows. */
static int query_rows(rs_store *s, const char *sql, int64_t city, rs_browse_rows *out,
                      const char *what, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    out->v = NULL;
    out->n = 0;
    out->city_id = city;
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, what);
    sqlite3_bind_int64(st, 1, city);
    return collect_rows(s, st, out, what, e);
}

/* The city itself when the table holds rows of it, else 0 (all cities). */
static int64_t rows_city(rs_store *s, const char *table, int64_t city)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE city_id = ?1", table);
    sqlite3_stmt *st = NULL;
    int64_t n = 0;
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, city);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n > 0 ? city : 0;
}

int rs_browse_active_models(rs_store *s, int64_t city_id, rs_browse_rows *out, rs_error *e)
{
    return query_rows(s,
                      "SELECT id, city_id, 0, kind, split, NULL, metrics, seconds, 0,"
                      " created_at FROM models WHERE active AND (city_id = ?1 OR city_id = 0)"
                      " ORDER BY kind, city_id = ?1 DESC, split",
                      city_id, out, "models", e);
}

/* Whether evaluations record the models they measured (a column added by the first
 * writer of a newer recoscope). */
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

int rs_browse_evaluations(rs_store *s, int64_t city_id, rs_browse_rows *out, rs_error *e)
{
    int rc = query_rows(s,
                        evals_have_models(s)
                            ? "SELECT 0, city_id, 0, method, split, NULL, metrics, NULL, 0,"
                              " created_at, models FROM evaluations e WHERE city_id = ?1"
                              " AND id = (SELECT max(id) FROM evaluations f WHERE"
                              " f.city_id = ?1 AND f.method = e.method AND f.split = e.split)"
                              " ORDER BY method, split"
                            : "SELECT 0, city_id, 0, method, split, NULL, metrics, NULL, 0,"
                              " created_at FROM evaluations e WHERE city_id = ?1"
                              " AND id = (SELECT max(id) FROM evaluations f WHERE"
                              " f.city_id = ?1 AND f.method = e.method AND f.split = e.split)"
                              " ORDER BY method, split",
                        rows_city(s, "evaluations", city_id), out, "evaluations", e);
    for (int i = 0; rc == RS_OK && i < out->n; i++)
        if (out->v[i].models)
            rc = rs_evaluation_stale(s, out->city_id, out->v[i].models, &out->v[i].stale, e);
    if (rc != RS_OK)
        rs_browse_rows_free(out);
    return rc;
}

int rs_browse_runs(rs_store *s, int64_t city_id, rs_browse_rows *out, rs_error *e)
{
    return query_rows(s,
                      "SELECT id, city_id, coalesce(model_id, 0), kind, '', params, metrics,"
                      " seconds, selected, created_at FROM runs WHERE city_id = ?1 ORDER BY id",
                      rows_city(s, "runs", city_id), out, "runs", e);
}

const char *rs_browse_kind_method(const char *kind)
{
    const rs_kind *k = kind ? rs_kind_find(kind) : NULL;
    return k ? k->label : NULL;
}

const char *rs_browse_kind_baseline(const char *kind)
{
    const rs_kind *k = kind ? rs_kind_find(kind) : NULL;
    if (!k)
        return NULL;
    return k->baskets == RS_BASKETS_CATEGORIES ? "category popularity" : "popularity";
}

/* hr@10 of a metrics JSON text (flat, as train and eval write it), or NaN. */
static double json_hr(const char *text)
{
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, RS_RANK_METRICS[0].key);
    double r = cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
    cJSON_Delete(j);
    return r;
}

/* The latest evaluation of (city, method): its hr@10 and time; 0 when there is none.
 * With kind and model_id, only an evaluation recorded with that model (any city); with
 * near, the one of that time first (the same evaluation run).  1 found, 0 none, -1 a
 * failed read (in e). */
static int latest_eval(rs_store *s, int64_t city, const char *method, const char *kind,
                       int64_t model_id, const char *near, double *hr, char *created,
                       size_t n, char *split, size_t sn, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int found = 0;
    const char *sql =
        kind ? "SELECT metrics, created_at, split FROM evaluations WHERE method = ?2"
               " AND json_valid(models) AND json_extract(models, '$.' || ?3) = ?4"
               " ORDER BY id DESC LIMIT 1"
             : "SELECT metrics, created_at, split FROM evaluations WHERE city_id = ?1"
               " AND method = ?2 ORDER BY created_at = ?5 DESC, id DESC LIMIT 1";
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) != SQLITE_OK) {
        rs_store_sqlerr(s, e, "reading evaluations");
        return -1;
    }
    sqlite3_bind_int64(st, 1, city);
    sqlite3_bind_text(st, 2, method, -1, SQLITE_STATIC);
    if (kind) {
        sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, model_id);
    } else {
        sqlite3_bind_text(st, 5, near ? near : "", -1, SQLITE_STATIC);
    }
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 1);
        const char *sp = (const char *)sqlite3_column_text(st, 2);
        *hr = json_hr((const char *)sqlite3_column_text(st, 0));
        snprintf(created, n, "%s", c ? c : "");
        snprintf(split, sn, "%s", sp ? sp : "");
        found = 1;
    } else if (step != SQLITE_DONE) {
        rs_store_sqlerr(s, e, "reading evaluations");
        found = -1;
    }
    sqlite3_finalize(st);
    return found;
}

/* Popularity's hr@10 among the latest completion candidates of the city (validation;
 * NaN when there is none). */
static int validation_popularity(rs_store *s, int64_t city, double *hr, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    *hr = NAN;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT metrics FROM runs WHERE city_id = ?1 AND kind = 'completion'"
                           " AND params LIKE '%\"method\":\"popularity\"%'"
                           " ORDER BY id DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading runs");
    sqlite3_bind_int64(st, 1, city);
    int step = sqlite3_step(st), rc = RS_OK;
    if (step == SQLITE_ROW)
        *hr = json_hr((const char *)sqlite3_column_text(st, 0));
    else if (step != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "reading runs");
    sqlite3_finalize(st);
    return rc;
}

int rs_browse_model_trust(rs_store *s, int64_t model_id, rs_browse_trust *out, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    out->hr = out->pop_hr = NAN;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT city_id, kind, metrics, created_at FROM models WHERE id = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "models");
    sqlite3_bind_int64(st, 1, model_id);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        sqlite3_finalize(st);
        return step == SQLITE_DONE ? rs_seterr(e, RS_EUSAGE, "no model #%lld", (long long)model_id)
                                   : rs_store_sqlerr(s, e, "models");
    }
    int64_t city = sqlite3_column_int64(st, 0);
    char kbuf[32];
    const char *kt = (const char *)sqlite3_column_text(st, 1);
    snprintf(kbuf, sizeof kbuf, "%s", kt ? kt : "");
    const char *kind = kt ? kbuf : NULL; /* a copy: st is finalized below */
    const char *ca = (const char *)sqlite3_column_text(st, 3);
    char created[32], ecreated[32] = "", pcreated[32], split[32] = "", psplit[32];
    snprintf(created, sizeof created, "%s", ca ? ca : "");
    double valid_hr = json_hr((const char *)sqlite3_column_text(st, 2));
    const rs_kind *k = kind ? rs_kind_find(kind) : NULL;
    snprintf(out->scorer, sizeof out->scorer, "%s", k ? k->title : kind ? kind : "?");
    const char *method = rs_browse_kind_method(kind), *base = rs_browse_kind_baseline(kind);
    int baskets = k ? (int)k->baskets : -1;
    sqlite3_finalize(st);
    double ehr = NAN, phr = NAN;
    int recorded = method && kind && evals_have_models(s)
                       ? latest_eval(s, city, method, kind, model_id, NULL, &ehr, ecreated,
                                     sizeof ecreated, split, sizeof split, e)
                       : 0;
    if (recorded < 0)
        return e->code;
    if (!recorded && method) {
        int any = latest_eval(s, city, method, NULL, 0, NULL, &ehr, ecreated, sizeof ecreated,
                              split, sizeof split, e);
        if (any < 0)
            return e->code;
        if (any) {
            /* an evaluation that does not say what it measured: by time */
            recorded = strcmp(ecreated, created) >= 0;
            out->stale = !recorded;
        }
    }
    if (recorded && isfinite(ehr)) {
        out->hr = ehr;
        int pop = latest_eval(s, city, base, NULL, 0, ecreated, &phr, pcreated, sizeof pcreated,
                              psplit, sizeof psplit, e);
        if (pop < 0)
            return e->code;
        if (pop)
            out->pop_hr = phr;
        snprintf(out->split, sizeof out->split, "held-out");
        return RS_OK;
    }
    out->hr = valid_hr;
    int rc = RS_OK;
    if (baskets == RS_BASKETS_PRODUCTS)
        rc = validation_popularity(s, city, &out->pop_hr, e);
    snprintf(out->split, sizeof out->split, "validation");
    return rc;
}

int rs_browse_model_items(rs_store *s, int64_t city_id, const char *kind, int64_t model_id,
                          int32_t n_items, uint8_t **in, int32_t *rows, rs_error *e)
{
    rs_embedding *m = NULL;
    rs_model_info info;
    int64_t used = 0;
    *in = NULL;
    *rows = 0;
    int rc = rs_registry_load_active(s, city_id, kind, "all", &m, &used, &info, e);
    if (rc != RS_OK)
        return rc;
    if (info.id != model_id) {
        rs_embedding_free(m);
        return rs_seterr(e, RS_EUSAGE, "the active %s model is #%lld, not #%lld", kind,
                         (long long)info.id, (long long)model_id);
    }
    uint8_t *v = calloc((size_t)(n_items > 0 ? n_items : 0) + 1, 1);
    if (!v) {
        rs_embedding_free(m);
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    int32_t count = 0;
    for (int32_t row = 0; row < m->rows; row++) {
        int32_t it = m->row_item[row];
        if (it >= 0 && it < n_items && !v[it]) {
            v[it] = 1;
            count++;
        }
    }
    rs_embedding_free(m);
    *in = v;
    *rows = count;
    return RS_OK;
}

void rs_browse_receipts_free(rs_browse_receipt *v, int n)
{
    if (!v)
        return;
    for (int i = 0; i < n; i++) {
        free(v[i].ext_id);
        free(v[i].customer);
        free(v[i].products);
    }
    free(v);
}

static int cmp_receipt(const void *x, const void *y)
{
    const rs_browse_receipt *a = x, *b = y;
    if (a->has_ts != b->has_ts)
        return b->has_ts - a->has_ts;
    if (a->has_ts && a->ts != b->ts)
        return a->ts > b->ts ? -1 : 1;
    return (a->id < b->id) - (a->id > b->id);
}

/* The products of one receipt (ascending: the primary key's order). */
static int receipt_products(rs_store *s, sqlite3_stmt *st, rs_browse_receipt *r, rs_error *e)
{
    int cap = 0, step;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, r->id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (r->n_products == cap) {
            int nc = cap ? 2 * cap : 16;
            int32_t *v = realloc(r->products, (size_t)nc * sizeof *v);
            if (!v)
                return rs_seterr(e, RS_EINTERNAL, "out of memory");
            r->products = v;
            cap = nc;
        }
        r->products[r->n_products++] = (int32_t)(sqlite3_column_int64(st, 0) - 1);
    }
    return step == SQLITE_DONE ? RS_OK : rs_store_sqlerr(s, e, "receipt_items");
}

int rs_browse_receipts(rs_store *s, const int64_t *ids, int n_ids, rs_browse_receipt **out,
                       int *n, rs_error *e)
{
    sqlite3_stmt *head = NULL, *items = NULL;
    rs_browse_receipt *v = calloc((size_t)(n_ids > 0 ? n_ids : 0) + 1, sizeof *v);
    int len = 0, rc = RS_OK;
    *out = NULL;
    *n = 0;
    if (!v)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    if (sqlite3_prepare_v2(rs_store_db(s), "SELECT ext_id, ts, customer FROM receipts"
                           " WHERE id = ?1", -1, &head, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(rs_store_db(s), "SELECT product_id FROM receipt_items"
                           " WHERE receipt_id = ?1 ORDER BY product_id", -1, &items,
                           NULL) != SQLITE_OK) {
        rc = rs_store_sqlerr(s, e, "receipts");
        goto done;
    }
    for (int i = 0; i < n_ids && rc == RS_OK; i++) {
        sqlite3_reset(head);
        sqlite3_bind_int64(head, 1, ids[i]);
        int step = sqlite3_step(head);
        if (step == SQLITE_DONE)
            continue; /* not in the store (any more) */
        if (step != SQLITE_ROW) {
            rc = rs_store_sqlerr(s, e, "receipts");
            break;
        }
        rs_browse_receipt *r = &v[len++];
        r->id = ids[i];
        r->ext_id = dup_text(head, 0);
        r->has_ts = sqlite3_column_type(head, 1) != SQLITE_NULL;
        r->ts = sqlite3_column_int64(head, 1);
        r->customer = dup_text(head, 2);
        if (!r->ext_id)
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        else
            rc = receipt_products(s, items, r, e);
    }
done:
    sqlite3_finalize(head);
    sqlite3_finalize(items);
    if (rc != RS_OK) {
        rs_browse_receipts_free(v, len);
        return rc;
    }
    qsort(v, (size_t)len, sizeof *v, cmp_receipt);
    *out = v;
    *n = len;
    return RS_OK;
}
