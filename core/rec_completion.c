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
            if (rs_store_damaged(r->store)) /* a damaged database is not "no model" */
                return rs_seterr(e, ce.code, "%s", ce.msg);
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

int rec_scorer_usable(const rs_recommender *r)
{
    return !r->comp_status && r->pool && r->pool->n > 0;
}

int rec_scorer_is_inout(const rs_recommender *r)
{
    return rec_scorer_usable(r) && rs_completion_topk_ok(r->pool->scorers[0]);
}

const char *rec_scorer_name(const rs_recommender *r)
{
    return r->comp_name;
}

int rec_completion_scores(const rs_recommender *r, rs_rec_result *res)
{
    rs_rec_scratch *sc = res->scratch;
    if (sc->csp)
        return 0;
    if (sc->cs_failed || !rec_scorer_usable(r))
        return -1;
    comp_pool *pool = r->pool;
    int slot = pool_take(pool);
    rs_completion *c = pool->scorers[slot];
    int32_t ni = rs_completion_n_items(c);
    int ok = !rec_grow(&sc->cs, &sc->cs_cap, (size_t)ni + 1, sizeof *sc->cs);
    if (ok)
        sc->cs_known = rs_completion_score(c, res->query, res->n_query, sc->cs);
    pool_give(pool, slot);
    if (!ok) {
        sc->cs_failed = 1;
        return -1;
    }
    sc->csp = sc->cs;
    sc->cs_n = ni;
    return 0;
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
    if (!rec_scorer_usable(r))
        return;
    if (rec_completion_scores(r, res))
        rec_list_oom(l);
    else if (use_popularity(r, sc->cs_known))
        popularity_list(r, q, res);
    else
        completion_list(r, q, res, sc->csp, sc->cs_n);
}

/* Whether query i of rs_recommend_many wants a completion list. */
static int wants_completion(const rs_rec_query *qs, const int *codes, int i)
{
    return codes[i] == RS_OK && (qs[i].kinds & RS_REC_BIT(RS_REC_COMPLETION));
}

/* Whether query i wants the scorer's full scores: completion, or complements ranked by
 * a scorer that is not in.out alone (whose ranking complements compute themselves). */
static int wants_scores(const rs_recommender *r, const rs_rec_query *qs, const int *codes,
                        int i)
{
    unsigned k = RS_REC_BIT(RS_REC_COMPLETION) |
                 (rec_scorer_is_inout(r) ? 0u : RS_REC_BIT(RS_REC_COMPLEMENTS));
    return codes[i] == RS_OK && (qs[i].kinds & k);
}

/* The contexts (distinct query products) of the queries that want(), one after the
 * other in ctx, context b at ctx[off[b] .. off[b+1]). */
static int gather_contexts(const rs_recommender *r, const rs_rec_query *qs, int n,
                           rs_rec_result *const *res, const int *codes, int32_t *ctx,
                           int32_t *off, int fused)
{
    int b = 0;
    off[0] = 0;
    for (int i = 0; i < n; i++)
        if (fused ? wants_completion(qs, codes, i) : wants_scores(r, qs, codes, i)) {
            memcpy(ctx + off[b], res[i]->query, (size_t)res[i]->n_query * sizeof *ctx);
            off[b + 1] = off[b] + res[i]->n_query;
            b++;
        }
    return b;
}

/* The completion lists of rs_recommend_many straight from the scorer's fused top-k
 * (rs_completion_topk_many: sgns alone, no block of scores written and read back),
 * when every query asks the same k and mask: the lists completion_list() would give
 * (the same scores, the context and masked products left out, ties by index).
 * Returns 0 when it did not apply (nothing changed), 1 when done (OOM rows marked). */
static int completion_fused(const rs_recommender *r, const rs_rec_query *qs, int n,
                            rs_rec_result *const *res, const int *codes)
{
    rs_completion *c = r->pool->scorers[0];
    int32_t ni = rs_completion_n_items(c);
    int first = -1, want = 0;
    size_t nctx = 0;
    for (int i = 0; i < n; i++)
        if (wants_completion(qs, codes, i)) {
            first = first < 0 ? i : first;
            want++;
            nctx += (size_t)res[i]->n_query;
        }
    if (!rs_completion_topk_ok(c) || ni > r->n_products || want == 0)
        return 0;
    const rs_rec_query *q0 = &qs[first];
    int k = q0->k[RS_REC_COMPLETION];
    int nomask = (q0->flags & RS_REC_NO_MASK) != 0;
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
        gather_contexts(r, qs, n, res, codes, ctx, off, 1);
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
                popularity_list(r, &qs[i], res[i]);
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

/* The full scores of every query that wants them, as one block
 * (rs_completion_score_many) in the first such result's cs; each result's csp points
 * at its row.  Nothing set (the kinds then score alone, or say out of memory) when it
 * cannot. */
static void score_block(const rs_recommender *r, const rs_rec_query *qs, int n,
                        rs_rec_result *const *res, const int *codes)
{
    int first = -1, want = 0;
    size_t nctx = 0;
    for (int i = 0; i < n; i++)
        if (wants_scores(r, qs, codes, i)) {
            first = first < 0 ? i : first;
            want++;
            nctx += (size_t)res[i]->n_query;
        }
    if (want == 0)
        return;
    comp_pool *pool = r->pool;
    int slot = pool_take(pool);
    rs_completion *c = pool->scorers[slot];
    int32_t ni = rs_completion_n_items(c);
    rs_rec_scratch *sc0 = res[first]->scratch;
    int32_t *ctx = malloc((nctx + 1) * sizeof *ctx);
    int32_t *off = malloc(((size_t)want + 1) * sizeof *off);
    int *known = malloc(((size_t)want + 1) * sizeof *known);
    int ok = ctx && off && known &&
             !rec_grow(&sc0->cs, &sc0->cs_cap, (size_t)want * (size_t)ni + 1, sizeof *sc0->cs);
    if (ok) {
        gather_contexts(r, qs, n, res, codes, ctx, off, 0);
        rs_completion_score_many(c, ctx, off, want, sc0->cs, known);
    }
    pool_give(pool, slot);
    for (int i = 0, b = 0; ok && i < n; i++)
        if (wants_scores(r, qs, codes, i)) {
            rs_rec_scratch *sc = res[i]->scratch;
            sc->csp = sc0->cs + (size_t)b * (size_t)ni;
            sc->cs_n = ni;
            sc->cs_known = known[b];
            b++;
        }
    free(ctx);
    free(off);
    free(known);
}

int rs_recommend_many(const rs_recommender *r, const rs_rec_query *qs, int n,
                      rs_rec_result *const *res, int *codes, rs_error *errs)
{
    unsigned late = RS_REC_BIT(RS_REC_COMPLEMENTS) | RS_REC_BIT(RS_REC_COMPLETION);
    /* many calls: synonyms and complements read the product rows from copies in
     * category order (built once per recommender; the same bits), one category's
     * products one after the other in memory */
    const float *cn = NULL, *co = NULL;
    for (int i = 0; i < n && !cn; i++)
        if ((qs[i].kinds & (RS_REC_BIT(RS_REC_SYNONYMS) | RS_REC_BIT(RS_REC_COMPLEMENTS))) &&
            r->pm.m && r->pm.m->rows > 0 && r->norm && r->cat_items)
            if (rec_cat_rows(r, &cn, &co)) /* out of memory: the rows as usual */
                break;
    /* 1. every query set up, its synonyms and categories */
    for (int i = 0; i < n; i++) {
        errs[i].code = 0;
        errs[i].msg[0] = 0;
        codes[i] = rec_begin(r, &qs[i], res[i], &errs[i]);
        if (codes[i] != RS_OK)
            continue;
        res[i]->scratch->cn = cn;
        res[i]->scratch->co = co;
        rec_run(r, &qs[i], res[i], ~late);
    }
    /* 2. the scorer's scores of the block (complements and completion share them) */
    int usable = rec_scorer_usable(r);
    if (usable)
        score_block(r, qs, n, res, codes);
    /* 3. complements, then completion (fused top-k for in.out alone, else the block) */
    for (int i = 0; i < n; i++)
        if (codes[i] == RS_OK)
            rec_run(r, &qs[i], res[i], RS_REC_BIT(RS_REC_COMPLEMENTS));
    for (int i = 0; i < n; i++)
        if (wants_completion(qs, codes, i))
            completion_head(r, &res[i]->lists[RS_REC_COMPLETION]);
    int fused = usable && completion_fused(r, qs, n, res, codes);
    for (int i = 0; i < n; i++) {
        if (codes[i] != RS_OK)
            continue;
        if (!fused)
            rec_run(r, &qs[i], res[i], RS_REC_BIT(RS_REC_COMPLETION));
        res[i]->scratch->cn = res[i]->scratch->co = NULL;
        rec_end(r, res[i]);
    }
    return RS_OK;
}
