/* custrec.c - one customer's history and lists (see custrec.h). */
#include "custrec.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "custeval_record.h"
#include "embedding.h"
#include "model.h"
#include "topheap.h"

#define MAX_LATEST 32

struct rs_custrec {
    rs_store *s;                 /* borrowed */
    int64_t city_id;
    int32_t n_items;
    int64_t *pop;                /* [n_items] receipts of the city holding each */
    rs_embedding *sgns;          /* the product model, NULL when none */
    int64_t model_id;
    rs_custeval_latest_row latest[MAX_LATEST]; /* best precision@k first */
    int n_latest;
};

static const char *const LIST_NAMES[RS_CUSTREC_NLISTS] = {"buy_again", "new_for_you",
                                                          "ranked"};

const char *rs_custrec_list_name(int list)
{
    return list >= 0 && list < RS_CUSTREC_NLISTS ? LIST_NAMES[list] : "?";
}

int64_t rs_custrec_product_model(const rs_custrec *r)
{
    return r->sgns ? r->model_id : 0;
}

void rs_custrec_close(rs_custrec *r)
{
    if (!r)
        return;
    free(r->pop);
    rs_embedding_free(r->sgns);
    free(r);
}

/* Popularity of the city: product_popularity (city 0 = all cities). */
static int load_popularity(rs_custrec *r, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rs_store_db(r->s),
                           "SELECT product_id, receipts FROM product_popularity WHERE city_id = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(r->s, e, "reading popularity");
    sqlite3_bind_int64(st, 1, r->city_id);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t p = sqlite3_column_int64(st, 0);
        if (p >= 1 && p <= r->n_items)
            r->pop[p - 1] = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? RS_OK : rs_store_sqlerr(r->s, e, "reading popularity");
}

int rs_custrec_open(rs_store *s, int64_t city_id, rs_custrec **out, rs_error *e)
{
    *out = NULL;
    rs_custrec *r = calloc(1, sizeof *r);
    if (!r)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    r->s = s;
    r->city_id = city_id;
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    if (sqlite3_prepare_v2(rs_store_db(s), "SELECT coalesce(max(id), 0) FROM products", -1, &st,
                           NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
        rc = rs_store_sqlerr(s, e, "counting products");
    else
        r->n_items = (int32_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc == RS_OK && !(r->pop = calloc((size_t)r->n_items + 1, sizeof *r->pop)))
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
    if (rc == RS_OK)
        rc = load_popularity(r, e);
    if (rc == RS_OK) {
        /* no product model is not an error: new-for-you falls back to popularity */
        rs_model_info info;
        int64_t used = 0;
        rs_error me = {0};
        int mrc = rs_registry_load_active(s, city_id, "product", "all", &r->sgns, &used, &info,
                                          &me);
        if (mrc == RS_OK)
            r->model_id = info.id;
        else if (mrc != RS_EUSAGE)
            rc = rs_seterr(e, mrc, "%s", me.msg); /* registered but broken: say so */
    }
    if (rc == RS_OK)
        rc = rs_custeval_latest(s, city_id, r->latest, MAX_LATEST, &r->n_latest, e);
    if (rc) {
        rs_custrec_close(r);
        return rc;
    }
    *out = r;
    return RS_OK;
}

void rs_custrec_answer_free(rs_custrec_answer *a)
{
    if (!a)
        return;
    free(a->receipts);
    free(a->items);
    free(a->quantity);
    free(a->hist);
    free(a->hist_weight);
    free(a->hist_count);
    for (int l = 0; l < RS_CUSTREC_NLISTS; l++)
        free(a->lists[l].rows);
    free(a);
}

/* The customer's receipts (time, then id) and their products into a. */
static int load_history(const rs_custrec *r, rs_custrec_answer *a, rs_error *e)
{
    sqlite3_stmt *st = NULL, *it = NULL;
    sqlite3 *db = rs_store_db(r->s);
    int rc = RS_OK, step;
    int cap = 16;
    int64_t icap = 64;
    a->receipts = malloc((size_t)cap * sizeof *a->receipts);
    a->items = malloc((size_t)icap * sizeof *a->items);
    a->quantity = malloc((size_t)icap * sizeof *a->quantity);
    if (!a->receipts || !a->items || !a->quantity)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    if (sqlite3_prepare_v2(db,
                           "SELECT id, ext_id, ts FROM receipts WHERE customer = ?1 AND"
                           " city_id = ?2 ORDER BY ts IS NULL, ts, id",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT product_id, quantity FROM receipt_items WHERE receipt_id = ?1"
                           " ORDER BY product_id",
                           -1, &it, NULL) != SQLITE_OK) {
        rc = rs_store_sqlerr(r->s, e, "reading the customer's receipts");
        goto done;
    }
    sqlite3_bind_text(st, 1, a->customer.ext_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->customer.city_id);
    while (rc == RS_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (a->n_receipts == cap) {
            void *nr = realloc(a->receipts, (size_t)cap * 2 * sizeof *a->receipts);
            if (!nr) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                break;
            }
            a->receipts = nr;
            cap *= 2;
        }
        rs_custrec_receipt *rc_ = &a->receipts[a->n_receipts++];
        const char *x = (const char *)sqlite3_column_text(st, 1);
        rc_->id = sqlite3_column_int64(st, 0);
        snprintf(rc_->ext_id, sizeof rc_->ext_id, "%s", x ? x : "");
        rc_->ts = sqlite3_column_type(st, 2) == SQLITE_NULL ? INT64_MIN
                                                            : sqlite3_column_int64(st, 2);
        rc_->first = a->n_items;
        sqlite3_reset(it);
        sqlite3_bind_int64(it, 1, rc_->id);
        while ((step = sqlite3_step(it)) == SQLITE_ROW) {
            int64_t p = sqlite3_column_int64(it, 0);
            if (p < 1 || p > r->n_items)
                continue;
            if (a->n_items == icap) {
                void *ni = realloc(a->items, (size_t)icap * 2 * sizeof *a->items);
                void *nq = ni ? realloc(a->quantity, (size_t)icap * 2 * sizeof *a->quantity)
                              : NULL;
                if (ni)
                    a->items = ni;
                if (nq)
                    a->quantity = nq;
                if (!ni || !nq) {
                    rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                    break;
                }
                icap *= 2;
            }
            a->items[a->n_items] = (int32_t)(p - 1);
            a->quantity[a->n_items++] = (float)sqlite3_column_double(it, 1);
        }
        if (rc == RS_OK && step != SQLITE_DONE)
            rc = rs_store_sqlerr(r->s, e, "reading the customer's receipts");
        rc_->n = a->n_items - rc_->first;
        step = SQLITE_DONE;
    }
    if (rc == RS_OK && step != SQLITE_DONE)
        rc = rs_store_sqlerr(r->s, e, "reading the customer's receipts");
done:
    sqlite3_finalize(st);
    sqlite3_finalize(it);
    return rc;
}

/* The top k of scores (finite only; skip[i] != 0 left out; skip may be NULL) into
 * idx/sc, best first; returns how many. */
static int top_k(const float *scores, int32_t n, const uint8_t *skip, int k, int32_t *idx,
                 float *sc)
{
    rs_topheap t = {idx, sc, 0, k};
    for (int32_t i = 0; i < n; i++)
        if (isfinite(scores[i]) && !(skip && skip[i]))
            rs_topheap_push(&t, scores[i], i);
    rs_topheap_sort(&t);
    return t.n;
}

/* The method that answers the ranked list: the best validated servable one. */
static int ranked_method(const rs_custrec *r, int have_sgns, rs_custrec_answer *a)
{
    char *why = a->lists[RS_CUSTREC_RANKED].why;
    size_t wn = sizeof a->lists[RS_CUSTREC_RANKED].why;
    a->ranked_precision = NAN;
    if (r->n_latest == 0) {
        snprintf(why, wn, "no `eval --customers` of this city on record: buy-again");
        return RS_PERS_BUYAGAIN;
    }
    const rs_custeval_latest_row *best = &r->latest[0];
    for (int i = 0; i < r->n_latest; i++) {
        const rs_custeval_latest_row *x = &r->latest[i];
        int m = -1;
        rs_error pe;
        if (rs_pers_method_parse(x->method, &m, &pe) != RS_OK)
            continue;
        if (m != RS_PERS_POPULARITY && m != RS_PERS_BUYAGAIN && !(m == RS_PERS_SGNS && have_sgns))
            continue;
        a->ranked_precision = x->precision_k;
        a->ranked_k = x->k;
        snprintf(a->ranked_split, sizeof a->ranked_split, "%s", x->split);
        if (x == best)
            snprintf(why, wn, "%s: validated best by `eval --customers` (%s, p@%d %.4f)",
                     x->method, x->split, x->k, x->precision_k);
        else
            snprintf(why, wn,
                     "%s: the best servable one; %s was validated best (%s, p@%d %.4f vs "
                     "%.4f) but is not served without a refit",
                     x->method, best->method, x->split, x->k, best->precision_k,
                     x->precision_k);
        return m;
    }
    snprintf(why, wn, "no servable method on record (best: %s): buy-again", best->method);
    return RS_PERS_BUYAGAIN;
}

/* Fills list l from scores: top k (without the history when exclude), rows with their
 * history weight and count. */
static int fill_list(rs_custrec_answer *a, int l, const float *scores, int32_t n,
                     const uint8_t *skip, int k, rs_error *e)
{
    rs_custrec_list *L = &a->lists[l];
    int32_t *idx = malloc((size_t)k * sizeof *idx);
    float *sc = malloc((size_t)k * sizeof *sc);
    L->rows = calloc((size_t)k, sizeof *L->rows);
    int rc = RS_OK;
    if (!idx || !sc || !L->rows) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    L->n = top_k(scores, n, skip, k, idx, sc);
    for (int i = 0; i < L->n; i++) {
        rs_custrec_row *w = &L->rows[i];
        w->product = idx[i];
        w->score = sc[i];
        for (int m = 0; m < RS_PERS_N; m++)
            w->rank[m] = -1;
        /* history weight and count: binary search in the ascending history */
        int32_t lo = 0, hi = a->n_hist;
        while (lo < hi) {
            int32_t mid = lo + (hi - lo) / 2;
            if (a->hist[mid] < idx[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < a->n_hist && a->hist[lo] == idx[i]) {
            w->weight = a->hist_weight[lo];
            w->count = a->hist_count[lo];
        }
    }
done:
    free(idx);
    free(sc);
    return rc;
}

/* The rank of every listed row in each servable scorer's top RS_CUSTREC_PROPOSE_N. */
static void mark_proposed(rs_custrec_answer *a, int m, const float *scores, int32_t n)
{
    int32_t idx[RS_CUSTREC_PROPOSE_N];
    float sc[RS_CUSTREC_PROPOSE_N];
    int got = top_k(scores, n, NULL, RS_CUSTREC_PROPOSE_N, idx, sc);
    for (int l = 0; l < RS_CUSTREC_NLISTS; l++)
        for (int i = 0; i < a->lists[l].n; i++)
            for (int j = 0; j < got; j++)
                if (idx[j] == a->lists[l].rows[i].product)
                    a->lists[l].rows[i].rank[m] = j;
}

/* The history as a one-customer corpus for personal.h, and the three lists. */
static int answer_lists(const rs_custrec *r, rs_custrec_answer *a, int k, rs_error *e)
{
    int32_t n = r->n_items;
    rs_corpus c;
    memset(&c, 0, sizeof c);
    c.city_id = r->city_id;
    c.n_items = n;
    c.n_receipts = a->n_receipts;
    int64_t *rows = malloc(((size_t)a->n_receipts + 1) * sizeof *rows);
    c.offsets = malloc(((size_t)a->n_receipts + 1) * sizeof *c.offsets);
    c.ts = malloc(((size_t)a->n_receipts + 1) * sizeof *c.ts);
    float *sc[RS_PERS_N] = {0};
    uint8_t *inhist = calloc((size_t)n + 1, 1);
    rs_personal *p = NULL;
    int rc = RS_OK;
    for (int m = 0; m < RS_PERS_N; m++)
        if (m == RS_PERS_POPULARITY || m == RS_PERS_BUYAGAIN || m == RS_PERS_SGNS)
            if (!(sc[m] = malloc(((size_t)n + 1) * sizeof *sc[m])))
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
    if (rc == RS_OK && (!rows || !c.offsets || !c.ts || !inhist))
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
    if (rc)
        goto done;
    c.items = a->items;
    for (int i = 0; i < a->n_receipts; i++) {
        rows[i] = i;
        c.offsets[i] = a->receipts[i].first;
        c.ts[i] = a->receipts[i].ts;
    }
    c.offsets[a->n_receipts] = a->n_items;
    rs_personal_parts parts;
    rs_personal_parts_defaults(&parts);
    parts.n_items = n;
    parts.pop_counts = r->pop;
    parts.sgns = r->sgns && r->sgns->out ? r->sgns : NULL;
    if ((rc = rs_personal_new(&parts, &p, e)))
        goto done;
    int64_t now = a->n_receipts ? a->receipts[a->n_receipts - 1].ts : 0;
    rs_personal_set_history(p, &c, rows, a->n_receipts, now);
    const int32_t *hi;
    const float *hw, *hc;
    a->n_hist = rs_personal_history(p, &hi, &hw, &hc);
    a->hist = malloc(((size_t)a->n_hist + 1) * sizeof *a->hist);
    a->hist_weight = malloc(((size_t)a->n_hist + 1) * sizeof *a->hist_weight);
    a->hist_count = malloc(((size_t)a->n_hist + 1) * sizeof *a->hist_count);
    if (!a->hist || !a->hist_weight || !a->hist_count) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    memcpy(a->hist, hi, (size_t)a->n_hist * sizeof *hi);
    memcpy(a->hist_weight, hw, (size_t)a->n_hist * sizeof *hw);
    memcpy(a->hist_count, hc, (size_t)a->n_hist * sizeof *hc);
    for (int32_t j = 0; j < a->n_hist; j++)
        inhist[a->hist[j]] = 1;
    rs_personal_score(p, RS_PERS_POPULARITY, sc[RS_PERS_POPULARITY]);
    rs_personal_score(p, RS_PERS_BUYAGAIN, sc[RS_PERS_BUYAGAIN]);
    int sgns_known = parts.sgns ? rs_personal_score(p, RS_PERS_SGNS, sc[RS_PERS_SGNS]) : -1;
    int have_sgns = sgns_known > 0;
    /* buy again */
    a->lists[RS_CUSTREC_BUYAGAIN].method = RS_PERS_BUYAGAIN;
    rc = fill_list(a, RS_CUSTREC_BUYAGAIN, sc[RS_PERS_BUYAGAIN], n, NULL, k, e);
    /* new for you: never in the history */
    rs_custrec_list *nl = &a->lists[RS_CUSTREC_NEW];
    nl->method = have_sgns ? RS_PERS_SGNS : RS_PERS_POPULARITY;
    if (!have_sgns)
        snprintf(nl->why, sizeof nl->why, "%s: the city's popularity answers",
                 !r->sgns             ? "no product model"
                 : !parts.sgns        ? "the product model has no output vectors"
                                      : "the product model knows none of their products");
    if (rc == RS_OK)
        rc = fill_list(a, RS_CUSTREC_NEW, sc[nl->method], n, inhist, k, e);
    /* ranked */
    int rm = ranked_method(r, have_sgns, a);
    a->lists[RS_CUSTREC_RANKED].method = rm;
    if (rc == RS_OK)
        rc = fill_list(a, RS_CUSTREC_RANKED, sc[rm], n, NULL, k, e);
    if (rc == RS_OK)
        for (int m = 0; m < RS_PERS_N; m++)
            if (sc[m] && (m != RS_PERS_SGNS || have_sgns))
                mark_proposed(a, m, sc[m], n);
done:
    rs_personal_free(p);
    for (int m = 0; m < RS_PERS_N; m++)
        free(sc[m]);
    free(inhist);
    free(rows);
    free(c.offsets);
    free(c.ts);
    return rc;
}

int rs_custrec_query(const rs_custrec *r, const char *ext_id, int k, rs_custrec_answer **out,
                     rs_error *e)
{
    *out = NULL;
    if (k < 1 || k > RS_CUSTREC_K_MAX)
        return rs_seterr(e, RS_EUSAGE, "k must be 1..%d (got %d)", RS_CUSTREC_K_MAX, k);
    rs_custrec_answer *a = calloc(1, sizeof *a);
    if (!a)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    int rc = rs_customers_find(r->s, r->city_id, ext_id, &a->customer, e);
    if (rc == RS_OK)
        rc = load_history(r, a, e);
    if (rc == RS_OK)
        rc = answer_lists(r, a, k, e);
    if (rc) {
        rs_custrec_answer_free(a);
        return rc;
    }
    *out = a;
    return RS_OK;
}
