/* custeval_record.c - customer evaluations into the evaluations table and back (see
 * custeval_record.h). */
#include "custeval_record.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "personal.h"
#include "runs.h"

void rs_custeval_split_name(const rs_custeval_opts *o, char *buf, size_t n)
{
    if (o->holdout_days > 0)
        snprintf(buf, n, "last-%d-days", o->holdout_days);
    else
        snprintf(buf, n, "last-%d-orders", o->holdout_orders > 0 ? o->holdout_orders : 1);
}

const char *rs_custeval_method_name(int m, char *buf, size_t n)
{
    const char *name = rs_pers_method_name(m);
    if (name)
        return name;
    snprintf(buf, n, "method-%d", m);
    return buf;
}

/* A finite number, else null (JSON has no NaN). */
static void num(char *buf, size_t n, double v)
{
    if (isfinite(v))
        snprintf(buf, n, "%.6f", v);
    else
        snprintf(buf, n, "null");
}

char *rs_custeval_row_json(const rs_custeval_result *r, const rs_custeval_row *row)
{
    char v[9][32], pk[64] = "", *out = NULL;
    const double x[9] = {row->precision5, row->precision_k, row->recall_k,
                         row->map_k,      row->ndcg_k,      row->auc,
                         row->coverage_k, row->novelty_k,   row->fit_seconds};
    for (int i = 0; i < 9; i++)
        num(v[i], sizeof v[i], x[i]);
    int k = r->k;
    if (k != 5) /* precision@5 is always there: no second key of that name */
        snprintf(pk, sizeof pk, ",\"precision@%d\":%s", k, v[1]);
    if (asprintf(&out,
                 "{\"k\":%d,\"customers\":%" PRId64 ",\"precision@5\":%s%s,\"recall@%d\":%s,"
                 "\"map@%d\":%s,\"ndcg@%d\":%s,\"auc\":%s,\"coverage@%d\":%s,\"novelty@%d\":%s,"
                 "\"fit_seconds\":%s,\"train_receipts\":%" PRId64 ",\"test_receipts\":%" PRId64
                 "}",
                 k, row->customers, v[0], pk, k, v[2], k, v[3], k, v[4], v[5], k, v[6], k, v[7],
                 v[8], r->train_receipts, r->test_receipts) < 0)
        return NULL;
    return out;
}

static char *candidates_json(const rs_custeval_result *r)
{
    char buf[512];
    size_t used = (size_t)snprintf(buf, sizeof buf, "{\"k\":%d,\"customers\":%" PRId64, r->k,
                                   r->customers);
    for (int c = 0; c < RS_CUSTEVAL_NCAND && used < sizeof buf; c++) {
        char v[32];
        num(v, sizeof v, r->cand_recall[c]);
        used += (size_t)snprintf(buf + used, sizeof buf - used, ",\"candidate_recall@%d\":%s",
                                 r->cand_n[c], v);
    }
    if (used + 2 >= sizeof buf)
        return NULL;
    snprintf(buf + used, sizeof buf - used, "}");
    return strdup(buf);
}

static int record_rows(rs_store *s, const rs_custeval_result *r, const char *split,
                       rs_error *e)
{
    for (int i = 0; i <= r->n_rows; i++) {
        char method[96], nb[32];
        char *mj;
        if (i < r->n_rows) {
            snprintf(method, sizeof method, "%s%s", RS_CUSTEVAL_METHOD_PREFIX,
                     rs_custeval_method_name(r->rows[i].method, nb, sizeof nb));
            mj = rs_custeval_row_json(r, &r->rows[i]);
        } else {
            snprintf(method, sizeof method, "%s", RS_CUSTEVAL_CANDIDATES);
            mj = candidates_json(r);
        }
        if (!mj)
            return rs_seterr(e, RS_EINTERNAL, "out of memory");
        int rc = rs_evaluations_insert(s, r->city_id, method, split, mj, NULL, e);
        free(mj);
        if (rc)
            return rc;
    }
    return RS_OK;
}

int rs_custeval_record(rs_store *s, const rs_custeval_result *r, const rs_custeval_opts *o,
                       rs_error *e)
{
    char split[64], bare[48];
    rs_custeval_split_name(o, bare, sizeof bare);
    snprintf(split, sizeof split, "%s%s", RS_CUSTEVAL_SPLIT_PREFIX, bare);
    int rc = rs_evaluations_models_column(s, e);
    if (rc == RS_OK)
        rc = rs_store_begin(s, e);
    if (rc)
        return rc;
    rc = record_rows(s, r, split, e);
    if (rc == RS_OK)
        rc = rs_store_commit(s, e);
    if (rc)
        rs_store_rollback(s);
    return rc;
}

/* precision@k and k of a metrics text; NaN when absent. */
static double json_pk(const char *text, int *k, int64_t *customers)
{
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    const cJSON *kv = cJSON_GetObjectItemCaseSensitive(j, "k");
    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(j, "customers");
    double r = NAN;
    *k = cJSON_IsNumber(kv) ? kv->valueint : 0;
    *customers = cJSON_IsNumber(cv) ? (int64_t)cv->valuedouble : 0;
    if (*k > 0) {
        char key[32];
        snprintf(key, sizeof key, "precision@%d", *k);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
        if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
            r = v->valuedouble;
    }
    cJSON_Delete(j);
    return r;
}

static int cmp_latest(const void *a, const void *b)
{
    const rs_custeval_latest_row *x = a, *y = b;
    int fx = isfinite(x->precision_k), fy = isfinite(y->precision_k);
    if (fx != fy)
        return fy - fx;
    if (fx && x->precision_k != y->precision_k)
        return x->precision_k < y->precision_k ? 1 : -1;
    return strcmp(x->method, y->method);
}

int rs_custeval_latest(rs_store *s, int64_t city_id, rs_custeval_latest_row *out, int max,
                       int *n, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    *n = 0;
    /* the split of the newest customer row, then the latest row of each method on it */
    if (sqlite3_prepare_v2(
            rs_store_db(s),
            "WITH last AS (SELECT split FROM evaluations WHERE city_id = ?1 AND method LIKE"
            " 'customer %' AND split LIKE 'customers %' ORDER BY id DESC LIMIT 1)"
            " SELECT e.method, e.split, e.metrics, e.created_at FROM evaluations e, last"
            " WHERE e.city_id = ?1 AND e.split = last.split AND e.method LIKE 'customer %'"
            " AND e.method <> ?2 AND e.id = (SELECT max(id) FROM evaluations f WHERE"
            " f.city_id = ?1 AND f.method = e.method AND f.split = e.split)",
            -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading customer evaluations");
    sqlite3_bind_int64(st, 1, city_id);
    sqlite3_bind_text(st, 2, RS_CUSTEVAL_CANDIDATES, -1, SQLITE_STATIC);
    int step, rc = RS_OK;
    size_t mp = strlen(RS_CUSTEVAL_METHOD_PREFIX), sp = strlen(RS_CUSTEVAL_SPLIT_PREFIX);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n >= max)
            continue;
        rs_custeval_latest_row *r = &out[*n];
        const char *m = (const char *)sqlite3_column_text(st, 0);
        const char *sv = (const char *)sqlite3_column_text(st, 1);
        const char *c = (const char *)sqlite3_column_text(st, 3);
        if (!m || !sv || strlen(m) <= mp || strlen(sv) <= sp)
            continue;
        snprintf(r->method, sizeof r->method, "%s", m + mp);
        snprintf(r->split, sizeof r->split, "%s", sv + sp);
        snprintf(r->created_at, sizeof r->created_at, "%s", c ? c : "");
        r->precision_k = json_pk((const char *)sqlite3_column_text(st, 2), &r->k, &r->customers);
        (*n)++;
    }
    if (step != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "reading customer evaluations");
    sqlite3_finalize(st);
    if (rc == RS_OK && *n > 1)
        qsort(out, (size_t)*n, sizeof *out, cmp_latest);
    return rc;
}
