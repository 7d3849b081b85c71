/* rec_completion.c - the completion kind (recommend.h): the city's active completion
 * scorer (completion.h) behind a pool (each scorer is not thread-safe), and
 * rs_recommend_many(), which answers a batch and scores the completion of all its
 * queries as one block (or with the scorer's fused top-k).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "completion.h"
#include "rec_internal.h"

int rec_open_completion(rs_recommender *r, rs_error *e)
{
    comp_pool *p = calloc(1, sizeof *p);
    if (!p)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    r->pool = p;
    if (r->opt.no_completion) {
        r->comp_status = RS_EUSAGE;
        snprintf(r->comp_message, sizeof r->comp_message, "completion not loaded");
        return RS_OK;
    }
    int n = r->opt.workers > 0 ? r->opt.workers : 1;
    p->scorers = calloc((size_t)n, sizeof *p->scorers);
    p->free_stack = calloc((size_t)n, sizeof *p->free_stack);
    if (!p->scorers || !p->free_stack)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    for (int i = 0; i < n; i++) {
        rs_error ce = {0};
        int64_t used = 0;
        int rc = rs_completion_open(r->store, r->city, &p->scorers[i], &used, &ce);
        if (rc) {
            p->scorers[i] = NULL;
            if (i == 0) {
                r->comp_status = rc;
                snprintf(r->comp_message, sizeof r->comp_message,
                         "no completion model for city '%.60s': %.150s", r->city_name,
                         ce.msg);
                return RS_OK;
            }
            break;
        }
        r->comp_city = used;
        p->free_stack[p->n_free++] = i;
        p->n = i + 1;
        /* one scorer serves every batch worker (saves loading and packing the model
         * again per worker) */
        if (i == 0 && r->opt.shared_sgns && rs_completion_topk_ok(p->scorers[0]))
            break;
    }
    snprintf(r->comp_name, sizeof r->comp_name, "%s", rs_completion_name(p->scorers[0]));
    r->comp_is_popularity = strcmp(r->comp_name, "popularity") == 0;
    snprintf(r->comp_fallback_name, sizeof r->comp_fallback_name,
             "popularity (fallback: %.200s knows no product of the context)", r->comp_name);
    return RS_OK;
}

void rec_close_completion(comp_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++)
        rs_completion_close(p->scorers[i]);
    free(p->scorers);
    free(p->free_stack);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

static int pool_take(comp_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    while (pool->n_free == 0)
        pthread_cond_wait(&pool->cv, &pool->mu);
    int slot = pool->free_stack[--pool->n_free];
    pthread_mutex_unlock(&pool->mu);
    return slot;
}

static void pool_give(comp_pool *pool, int slot)
{
    pthread_mutex_lock(&pool->mu);
    pool->free_stack[pool->n_free++] = slot;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
}

static void completion_head(const rs_recommender *r, rs_rec_list *l)
{
    l->status = r->comp_status;
    snprintf(l->message, sizeof l->message, "%s", r->comp_message);
    l->model_city = r->comp_city;
    l->model_id = 0;
    l->model_path = r->comp_name;
}

/* The completion list when the scorer knew no context product (the products are not
 * in its models, or the context holds no product of the catalogue at all): rather than
 * the arbitrary order of all-zero scores, the most popular products of the city
 * (receipts holding them, ties by index), the context excluded and the mask applied;
 * score log(1 + receipts) as the popularity method scores.  Marked as a fallback. */
static void popularity_list(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res)
{
    rs_rec_list *l = &res->lists[RS_REC_COMPLETION];
    rs_rec_scratch *sc = res->scratch;
    rs_topheap t;
    l->popularity_fallback = 1;
    l->model_path = r->comp_fallback_name;
    if (rec_topk_init(sc, &t, q->k[RS_REC_COMPLETION])) {
        rec_list_oom(l);
        return;
    }
    for (int32_t p = 0; p < r->n_products; p++)
        if (r->pop[p] > 0 && !sc->isq[p] && !rec_masked_out(r, q, p))
            rs_topheap_push(&t, (float)log1p((double)r->pop[p]), p);
    rec_list_from_heap(r, l, &t);
}

/* Whether a context the scorer knew `known` products of is answered by popularity
 * instead (the scorer is not popularity itself). */
static int use_popularity(const rs_recommender *r, int known)
{
    return known == 0 && !r->comp_is_popularity;
}

/* popularity_list() for query res of a batch (whose query flags are not set). */
static void batch_popularity_list(const rs_recommender *r, const rs_rec_query *q,
                                  rs_rec_result *res)
{
    rs_rec_scratch *sc = res->scratch;
    if (rec_grow_zero(&sc->isq, &sc->isq_cap, (size_t)r->n_products + 1)) {
        rec_list_oom(&res->lists[RS_REC_COMPLETION]);
        return;
    }
    for (int j = 0; j < res->n_query; j++)
        sc->isq[res->query[j]] = 1;
    popularity_list(r, q, res);
    for (int j = 0; j < res->n_query; j++)
        sc->isq[res->query[j]] = 0;
}

/* The completion list from the scorer's scores f (n_items ni) for the query of res. */
static void completion_list(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res,
                            const float *f, int32_t ni)
{
    rs_rec_list *l = &res->lists[RS_REC_COMPLETION];
    rs_rec_scratch *sc = res->scratch;
    rs_topheap t;
    if (rec_topk_init(sc, &t, q->k[RS_REC_COMPLETION])) {
        rec_list_oom(l);
        return;
    }
    int32_t lim = ni < r->n_products ? ni : r->n_products;
    /* thr: -INFINITY until the heap is full, then its worst score; an item at or
     * below it cannot enter (ties go to the smaller index, seen first), and the one
     * comparison also drops -INFINITY and NaN */
    float thr = -INFINITY;
    enum { BLK = 16 };
    for (int32_t b0 = 0; b0 < lim; b0 += BLK) {
        int32_t b1 = lim - b0 > BLK ? b0 + BLK : lim;
        if (b1 - b0 == BLK) {
            /* once the heap is full almost every block lies at or below thr: one
             * vectorisable test skips it (the same items the loop below would skip) */
            typedef float v4f __attribute__((vector_size(16)));
            typedef int v4i __attribute__((vector_size(16)));
            v4f x0, x1, x2, x3, t4 = {thr, thr, thr, thr};
            memcpy(&x0, f + b0, sizeof x0);
            memcpy(&x1, f + b0 + 4, sizeof x1);
            memcpy(&x2, f + b0 + 8, sizeof x2);
            memcpy(&x3, f + b0 + 12, sizeof x3);
            v4i gt = (x0 > t4) | (x1 > t4) | (x2 > t4) | (x3 > t4);
            if (!(gt[0] | gt[1] | gt[2] | gt[3]))
                continue;
        }
        for (int32_t p = b0; p < b1; p++) {
            float s = f[p];
            if (!(s > thr) || sc->isq[p] || rec_masked_out(r, q, p))
                continue;
            rs_topheap_push(&t, s, p);
            if (t.n == t.k)
                thr = t.sc[0];
        }
    }
    rec_list_from_heap(r, l, &t);
}

void rec_run_completion(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res)
{
    rs_rec_list *l = &res->lists[RS_REC_COMPLETION];
    rs_rec_scratch *sc = res->scratch;
    completion_head(r, l);
    comp_pool *pool = r->pool;
    if (r->comp_status || !pool || pool->n == 0)
        return;
    int slot = pool_take(pool);
    rs_completion *c = pool->scorers[slot];
    int32_t ni = rs_completion_n_items(c);
    int ok = !rec_grow(&sc->f, &sc->f_cap, (size_t)ni + 1, sizeof *sc->f), known = 0;
    if (ok)
        known = rs_completion_score(c, res->query, res->n_query, sc->f);
    pool_give(pool, slot);
    if (!ok)
        rec_list_oom(l);
    else if (use_popularity(r, known))
        popularity_list(r, q, res);
    else
        completion_list(r, q, res, sc->f, ni);
}

/* Whether query i of rs_recommend_many wants a completion list. */
static int wants_completion(const rs_rec_query *qs, const int *codes, int i)
{
    return codes[i] == RS_OK && (qs[i].kinds & RS_REC_BIT(RS_REC_COMPLETION));
}

/* The contexts (distinct query products) of the queries that want completion, one
 * after the other in ctx, context b at ctx[off[b] .. off[b+1]). */
static void gather_contexts(const rs_rec_query *qs, int n, rs_rec_result *const *res,
                            const int *codes, int32_t *ctx, int32_t *off)
{
    int b = 0;
    off[0] = 0;
    for (int i = 0; i < n; i++)
        if (wants_completion(qs, codes, i)) {
            memcpy(ctx + off[b], res[i]->query, (size_t)res[i]->n_query * sizeof *ctx);
            off[b + 1] = off[b] + res[i]->n_query;
            b++;
        }
}

/* The completion lists of rs_recommend_many straight from the scorer's fused top-k
 * (rs_completion_topk_many: sgns alone, no block of scores written and read back),
 * when every query asks the same k and mask: the lists completion_list() would give
 * (the same scores, the context and masked products left out, ties by index).
 * Returns 0 when it did not apply (nothing changed), 1 when done (OOM rows marked). */
static int completion_fused(const rs_recommender *r, const rs_rec_query *qs, int n,
                            rs_rec_result *const *res, const int *codes, int want, int first,
                            size_t nctx, rs_completion *c)
{
    int32_t ni = rs_completion_n_items(c);
    const rs_rec_query *q0 = &qs[first];
    int k = q0->k[RS_REC_COMPLETION];
    int nomask = (q0->flags & RS_REC_NO_MASK) != 0;
    if (!rs_completion_topk_ok(c) || ni > r->n_products)
        return 0;
    for (int i = first; i < n; i++)
        if (wants_completion(qs, codes, i) &&
            (qs[i].k[RS_REC_COMPLETION] != k || ((qs[i].flags & RS_REC_NO_MASK) != 0) != nomask ||
             (!nomask && (qs[i].min_pct != q0->min_pct || qs[i].max_pct != q0->max_pct))))
            return 0;
    int32_t *ctx = malloc((nctx + 1) * sizeof *ctx);
    int32_t *off = malloc(((size_t)want + 1) * sizeof *off);
    int32_t *tidx = malloc(((size_t)want * (size_t)k + 1) * sizeof *tidx);
    float *tsc = malloc(((size_t)want * (size_t)k + 1) * sizeof *tsc);
    int *tcnt = malloc(((size_t)want + 1) * sizeof *tcnt);
    int *known = malloc(((size_t)want + 1) * sizeof *known);
    uint8_t *allow = nomask ? NULL : malloc((size_t)ni + 1);
    int ok = ctx && off && tidx && tsc && tcnt && known && (nomask || allow);
    if (ok) {
        gather_contexts(qs, n, res, codes, ctx, off);
        if (allow)
            for (int32_t p = 0; p < ni; p++)
                allow[p] = !rec_masked_out(r, q0, p);
        /* only reads the scorer: no need to take it from the pool */
        ok = rs_completion_topk_many(c, ctx, off, want, allow, k, tidx, tsc, tcnt, known) >= 0;
    }
    int b = 0;
    for (int i = 0; i < n; i++)
        if (wants_completion(qs, codes, i)) {
            rs_rec_list *l = &res[i]->lists[RS_REC_COMPLETION];
            if (!ok || rec_list_reserve(l, tcnt[b])) {
                rec_list_oom(l);
            } else if (use_popularity(r, known[b])) {
                batch_popularity_list(r, &qs[i], res[i]);
            } else {
                for (int j = 0; j < tcnt[b]; j++)
                    rec_fill_product_row(r, &l->rows[j],
                                         tidx[(size_t)b * (size_t)k + (size_t)j],
                                         tsc[(size_t)b * (size_t)k + (size_t)j]);
                l->n = tcnt[b];
            }
            b++;
        }
    free(ctx);
    free(off);
    free(tidx);
    free(tsc);
    free(tcnt);
    free(known);
    free(allow);
    return 1;
}

/* The completion lists of rs_recommend_many from one block of full scores
 * (rs_completion_score_many) kept in the first query's scratch: any scorer. */
static void completion_block(const rs_recommender *r, const rs_rec_query *qs, int n,
                             rs_rec_result *const *res, const int *codes, int want, int first,
                             size_t nctx)
{
    comp_pool *pool = r->pool;
    int slot = pool_take(pool);
    rs_completion *c = pool->scorers[slot];
    int32_t ni = rs_completion_n_items(c);
    rs_rec_scratch *sc0 = res[first]->scratch;
    int32_t *ctx = malloc((nctx + 1) * sizeof *ctx);
    int32_t *off = malloc(((size_t)want + 1) * sizeof *off);
    int *known = malloc(((size_t)want + 1) * sizeof *known);
    int ok = ctx && off && known &&
             !rec_grow(&sc0->f, &sc0->f_cap, (size_t)want * (size_t)ni + 1, sizeof *sc0->f);
    if (ok) {
        gather_contexts(qs, n, res, codes, ctx, off);
        rs_completion_score_many(c, ctx, off, want, sc0->f, known);
    }
    pool_give(pool, slot);
    int b = 0;
    for (int i = 0; i < n; i++) {
        if (!wants_completion(qs, codes, i))
            continue;
        rs_rec_result *ri = res[i];
        rs_rec_scratch *sc = ri->scratch;
        if (!ok || rec_grow_zero(&sc->isq, &sc->isq_cap, (size_t)r->n_products + 1)) {
            rec_list_oom(&ri->lists[RS_REC_COMPLETION]);
            b++;
            continue;
        }
        for (int j = 0; j < ri->n_query; j++)
            sc->isq[ri->query[j]] = 1;
        if (use_popularity(r, known[b]))
            popularity_list(r, &qs[i], ri);
        else
            completion_list(r, &qs[i], ri, sc0->f + (size_t)b * (size_t)ni, ni);
        for (int j = 0; j < ri->n_query; j++)
            sc->isq[ri->query[j]] = 0;
        b++;
    }
    free(ctx);
    free(off);
    free(known);
}

int rs_recommend_many(const rs_recommender *r, const rs_rec_query *qs, int n,
                      rs_rec_result *const *res, int *codes, rs_error *errs)
{
    int want = 0;
    /* many calls: synonyms and complements read the product rows from copies in
     * category order (built once per recommender; the same bits), one category's
     * products one after the other in memory */
    const float *cn = NULL, *co = NULL;
    for (int i = 0; i < n && !cn; i++)
        if ((qs[i].kinds & (RS_REC_BIT(RS_REC_SYNONYMS) | RS_REC_BIT(RS_REC_COMPLEMENTS))) &&
            r->pm.m && r->pm.m->rows > 0 && r->norm && r->cat_items)
            if (rec_cat_rows(r, &cn, &co)) /* out of memory: the rows as usual */
                break;
    for (int i = 0; i < n; i++) {
        rs_rec_query q = qs[i];
        q.kinds &= ~RS_REC_BIT(RS_REC_COMPLETION);
        errs[i].code = 0;
        errs[i].msg[0] = 0;
        if (res[i] && res[i]->scratch) {
            res[i]->scratch->cn = cn;
            res[i]->scratch->co = co;
        }
        codes[i] = rs_recommend(r, &q, res[i], &errs[i]);
        if (res[i] && res[i]->scratch)
            res[i]->scratch->cn = res[i]->scratch->co = NULL;
        if (wants_completion(qs, codes, i)) {
            if (qs[i].k[RS_REC_COMPLETION] < 1 || qs[i].k[RS_REC_COMPLETION] > RS_REC_K_MAX)
                codes[i] = rs_seterr(&errs[i], RS_EUSAGE,
                                     "k for completion must be 1..%d (got %d)", RS_REC_K_MAX,
                                     qs[i].k[RS_REC_COMPLETION]);
            else
                want++;
        }
    }
    if (want == 0)
        return RS_OK;
    comp_pool *pool = r->pool;
    int usable = !r->comp_status && pool && pool->n > 0;
    for (int i = 0; i < n; i++)
        if (wants_completion(qs, codes, i))
            completion_head(r, &res[i]->lists[RS_REC_COMPLETION]);
    if (!usable)
        return RS_OK;
    /* the contexts (distinct query products) of every query that wants completion,
     * scored as one block; the scores live in the first such result's scratch */
    int first = -1;
    size_t nctx = 0;
    for (int i = 0; i < n; i++)
        if (wants_completion(qs, codes, i)) {
            if (first < 0)
                first = i;
            nctx += (size_t)res[i]->n_query;
        }
    if (!completion_fused(r, qs, n, res, codes, want, first, nctx, pool->scorers[0]))
        completion_block(r, qs, n, res, codes, want, first, nctx);
    return RS_OK;
}
