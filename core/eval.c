/* eval.c - the evaluation protocol (see eval.h). */
#include "eval.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rs_eval_split(const rs_corpus *c, int holdout_days, rs_split which, rs_corpus **out,
                  rs_error *e)
{
    if (holdout_days <= 0)
        return rs_corpus_split(c, which, out, e);
    int64_t max_ts = INT64_MIN;
    for (int64_t r = 0; r < c->n_receipts; r++)
        if (c->ts[r] != INT64_MIN && c->ts[r] > max_ts)
            max_ts = c->ts[r];
    if (max_ts == INT64_MIN)
        return rs_seterr(e, RS_EUSAGE,
                         "--holdout-days: the receipts have no timestamps (use the hash split)");
    int64_t cutoff = max_ts - (int64_t)holdout_days * 86400;
    uint8_t *keep = malloc((size_t)c->n_receipts + 1);
    if (!keep)
        return rs_seterr(e, RS_EINTERNAL, "evaluation: out of memory");
    for (int64_t r = 0; r < c->n_receipts; r++) {
        int test = c->ts[r] != INT64_MIN && c->ts[r] > cutoff;
        int valid = !test && c->split_hash[r] % 5 == 1;
        switch (which) {
        case RS_SPLIT_ALL: keep[r] = 1; break;
        case RS_SPLIT_TRAIN: keep[r] = !test; break;
        case RS_SPLIT_TEST: keep[r] = (uint8_t)test; break;
        case RS_SPLIT_FIT: keep[r] = !test && !valid; break;
        case RS_SPLIT_VALID: keep[r] = (uint8_t)valid; break;
        default: keep[r] = 0; break;
        }
    }
    int rc = rs_corpus_filter(c, keep, out, e);
    free(keep);
    return rc;
}

void rs_eval_queries_free(rs_eval_queries *q)
{
    if (!q)
        return;
    free(q->off);
    free(q->items);
    free(q);
}

int rs_eval_queries_build(const rs_corpus *train, const rs_corpus *test,
                          rs_eval_queries **out, rs_error *e)
{
    int rc = RS_EINTERNAL;
    int64_t *cnt = NULL;
    rs_eval_queries *q = calloc(1, sizeof *q);
    *out = NULL;
    if (!q)
        goto oom;
    if (train->n_items != test->n_items) {
        rc = rs_seterr(e, RS_EUSAGE, "evaluation: training and test index spaces differ");
        goto done;
    }
    cnt = calloc((size_t)train->n_items + 1, sizeof *cnt);
    q->off = malloc(((size_t)test->n_receipts + 1) * sizeof *q->off);
    q->items = malloc(((size_t)test->offsets[test->n_receipts] + 1) * sizeof *q->items);
    if (!cnt || !q->off || !q->items)
        goto oom;
    rs_corpus_item_counts(train, cnt);
    q->off[0] = 0;
    int64_t at = 0;
    for (int64_t r = 0; r < test->n_receipts; r++) {
        int64_t start = at;
        for (int64_t p = test->offsets[r]; p < test->offsets[r + 1]; p++) {
            int32_t it = test->items[p];
            /* corpus rows hold distinct items; guard against repeats anyway */
            int dup = 0;
            for (int64_t j = start; j < at; j++)
                if (q->items[j] == it) {
                    dup = 1;
                    break;
                }
            if (!dup && it >= 0 && it < train->n_items && cnt[it] > 0)
                q->items[at++] = it;
        }
        if (at - start >= 2) {
            q->n_baskets++;
            q->off[q->n_baskets] = at;
        } else {
            at = start;
        }
    }
    q->n_queries = at;
    *out = q;
    q = NULL;
    rc = RS_OK;
    goto done;
oom:
    rc = rs_seterr(e, RS_EINTERNAL, "evaluation: out of memory");
done:
    rs_eval_queries_free(q);
    free(cnt);
    return rc;
}

int rs_eval_completion(rs_completion *c, const rs_eval_queries *q, const rs_corpus *train,
                       int k, rs_eval_progress_fn progress, void *progress_ctx,
                       rs_rank_metrics *m, rs_error *e)
{
    int rc = RS_EINTERNAL;
    int32_t n = rs_completion_n_items(c);
    int64_t *cnt = NULL;
    uint8_t *cat = NULL;
    float *scores = NULL;
    int32_t *ctx = NULL, *top = NULL;
    rs_rank_acc *acc = NULL;
    if (train->n_items > n) {
        rc = rs_seterr(e, RS_EUSAGE, "evaluation: the scorer covers %d items, the data %d",
                       (int)n, (int)train->n_items);
        goto done;
    }
    cnt = calloc((size_t)n + 1, sizeof *cnt);
    cat = calloc((size_t)n + 1, 1);
    scores = malloc(((size_t)n + 1) * sizeof *scores);
    top = malloc(((size_t)k + 1) * sizeof *top);
    int64_t maxb = 0;
    for (int64_t b = 0; b < q->n_baskets; b++)
        if (q->off[b + 1] - q->off[b] > maxb)
            maxb = q->off[b + 1] - q->off[b];
    ctx = malloc(((size_t)maxb + 1) * sizeof *ctx);
    if (!cnt || !cat || !scores || !top || !ctx)
        goto oom;
    rs_corpus_item_counts(train, cnt);
    for (int32_t i = 0; i < train->n_items; i++)
        cat[i] = cnt[i] > 0;
    if ((rc = rs_rank_acc_new(k, n, cat, cnt, train->n_receipts, &acc, e)))
        goto done;
    for (int64_t b = 0; b < q->n_baskets; b++) {
        const int32_t *items = q->items + q->off[b];
        int nb = (int)(q->off[b + 1] - q->off[b]);
        for (int t = 0; t < nb; t++) {
            int nc = 0;
            for (int j = 0; j < nb; j++)
                if (j != t)
                    ctx[nc++] = items[j];
            rs_completion_score(c, ctx, nc, scores);
            int nt = rs_topk(scores, n, k, top);
            rs_rank_acc_add(acc, top, nt, &items[t], 1);
        }
        if (progress && (b % 64 == 0 || b + 1 == q->n_baskets))
            progress(progress_ctx, (double)(b + 1) / (double)q->n_baskets);
    }
    rs_rank_acc_result(acc, m);
    rc = RS_OK;
    goto done;
oom:
    rc = rs_seterr(e, RS_EINTERNAL, "evaluation: out of memory");
done:
    rs_rank_acc_free(acc);
    free(cnt);
    free(cat);
    free(scores);
    free(ctx);
    free(top);
    return rc;
}

/* rs_eval_blends works through the queries in blocks: the main thread computes each
 * query's z-scores once (compacted to the candidates, NaN replaced by the method's
 * floor, plus a "known" mask), then the weight vectors are shared out among threads,
 * each owning the accumulators of its vectors, so the sums, rankings and metrics are
 * exactly those of a single-threaded pass. */
typedef struct blend_block {
    /* fixed for the run */
    int k, nu;                       /* top k; number of methods in use */
    int um[RS_COMP_N];               /* the methods in use, ascending */
    int32_t ncand;
    const int32_t *cidx, *pos;
    const double (*weights)[RS_COMP_N];
    rs_rank_acc **acc;
    /* the current block */
    int nq;
    const float *zc;                 /* [nq][nu][ncand] */
    const uint8_t *kn;               /* [nq][nu][ncand] */
    const int32_t *ctx;              /* contexts of the block, back to back */
    const int *ctx_off;              /* [nq + 1] */
    const int32_t *target;           /* [nq] */
} blend_block;

typedef struct blend_worker {
    const blend_block *b;
    int w0, w1;                      /* this worker's weight vectors */
    float *scores;                   /* [ncand] */
    int32_t *top;                    /* [k] */
} blend_worker;

static void blend_run(blend_worker *wk)
{
    const blend_block *b = wk->b;
    int32_t ncand = b->ncand;
    for (int qi = 0; qi < b->nq; qi++) {
        const float *zq = b->zc + (size_t)qi * (size_t)b->nu * (size_t)ncand;
        const uint8_t *kq = b->kn + (size_t)qi * (size_t)b->nu * (size_t)ncand;
        const int32_t *ctx = b->ctx + b->ctx_off[qi];
        int nc = b->ctx_off[qi + 1] - b->ctx_off[qi];
        for (int w = wk->w0; w < wk->w1; w++) {
            const double *wt = b->weights[w];
            const float *zu[RS_COMP_N];
            const uint8_t *ku[RS_COMP_N];
            float wf[RS_COMP_N];
            int n = 0;
            for (int u = 0; u < b->nu; u++)
                if (wt[b->um[u]] != 0.0) {
                    zu[n] = zq + (size_t)u * (size_t)ncand;
                    ku[n] = kq + (size_t)u * (size_t)ncand;
                    wf[n] = (float)wt[b->um[u]];
                    n++;
                }
            float *scores = wk->scores;
            for (int32_t j = 0; j < ncand; j++) {
                float s = 0.0f;
                uint8_t cand = 0;
                for (int u = 0; u < n; u++) {
                    s += wf[u] * zu[u][j];
                    cand |= ku[u][j];
                }
                scores[j] = cand ? s : -INFINITY;
            }
            for (int j = 0; j < nc; j++)
                if (b->pos[ctx[j]] >= 0)
                    scores[b->pos[ctx[j]]] = -INFINITY;
            int nt = rs_topk(scores, ncand, b->k, wk->top);
            for (int j = 0; j < nt; j++)
                wk->top[j] = b->cidx[wk->top[j]];
            rs_rank_acc_add(b->acc[w], wk->top, nt, &b->target[qi], 1);
        }
    }
}

static void *blend_thread(void *arg)
{
    blend_run(arg);
    return NULL;
}

int rs_eval_blends(rs_completion *c, const rs_eval_queries *q, const rs_corpus *train,
                   int k, int n_w, const double (*weights)[RS_COMP_N],
                   rs_eval_progress_fn progress, void *progress_ctx, rs_rank_metrics *m,
                   rs_error *e)
{
    enum { MAX_THREADS = 8 };
    int rc = RS_EINTERNAL;
    int32_t n = rs_completion_n_items(c);
    int64_t *cnt = NULL;
    uint8_t *cat = NULL, *kn = NULL;
    float *z[RS_COMP_N] = {0}, zlo[RS_COMP_N], *zc = NULL;
    int32_t *ctx = NULL, *pos = NULL, *bctx = NULL, *btarget = NULL;
    int *boff = NULL;
    blend_worker wk[MAX_THREADS];
    memset(wk, 0, sizeof wk);
    rs_rank_acc **acc = calloc((size_t)n_w + 1, sizeof *acc);
    if (!acc)
        goto oom;
    if (train->n_items > n) {
        rc = rs_seterr(e, RS_EUSAGE, "evaluation: the scorer covers %d items, the data %d",
                       (int)n, (int)train->n_items);
        goto done;
    }
    blend_block blk;
    memset(&blk, 0, sizeof blk);
    for (int w = 0; w < n_w; w++)
        for (int mm = 0; mm < RS_COMP_N; mm++)
            if (weights[w][mm] != 0.0 && !z[mm]) {
                z[mm] = malloc(((size_t)n + 1) * sizeof *z[mm]);
                if (!z[mm])
                    goto oom;
            }
    for (int mm = 0; mm < RS_COMP_N; mm++)
        if (z[mm])
            blk.um[blk.nu++] = mm;
    cnt = calloc((size_t)n + 1, sizeof *cnt);
    cat = calloc((size_t)n + 1, 1);
    int64_t maxb = 0;
    for (int64_t b = 0; b < q->n_baskets; b++)
        if (q->off[b + 1] - q->off[b] > maxb)
            maxb = q->off[b + 1] - q->off[b];
    ctx = malloc(((size_t)maxb + 1) * sizeof *ctx);
    if (!cnt || !cat || !ctx)
        goto oom;
    rs_corpus_item_counts(train, cnt);
    for (int32_t i = 0; i < train->n_items; i++)
        cat[i] = cnt[i] > 0;
    for (int w = 0; w < n_w; w++)
        if ((rc = rs_rank_acc_new(k, n, cat, cnt, train->n_receipts, &acc[w], e)))
            goto done;
    rc = RS_EINTERNAL;
    const int32_t *cidx = NULL;
    int32_t ncand = rs_completion_candidates(c, &cidx);
    pos = malloc(((size_t)n + 1) * sizeof *pos);
    if (!pos)
        goto oom;
    for (int32_t i = 0; i < n; i++)
        pos[i] = -1;
    for (int32_t j = 0; j < ncand; j++)
        pos[cidx[j]] = j;

    /* block size: about 8M compacted scores in flight; threads: cores, at most one
     * per weight vector */
    size_t per_q = (size_t)(blk.nu ? blk.nu : 1) * (size_t)(ncand ? ncand : 1);
    int bq = (int)((size_t)8 << 20) / (int)(per_q < ((size_t)8 << 20) ? per_q : ((size_t)8 << 20));
    bq = bq < 1 ? 1 : bq > 256 ? 256 : bq;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = (int)(ncpu < 1 ? 1 : ncpu > MAX_THREADS ? MAX_THREADS : ncpu);
    nt = nt > n_w ? (n_w > 0 ? n_w : 1) : nt;
    zc = malloc((size_t)bq * per_q * sizeof *zc);
    kn = malloc((size_t)bq * per_q);
    bctx = malloc(((size_t)bq * (size_t)(maxb + 1)) * sizeof *bctx);
    boff = malloc(((size_t)bq + 1) * sizeof *boff);
    btarget = malloc(((size_t)bq + 1) * sizeof *btarget);
    if (!zc || !kn || !bctx || !boff || !btarget)
        goto oom;
    blk.k = k;
    blk.ncand = ncand;
    blk.cidx = cidx;
    blk.pos = pos;
    blk.weights = weights;
    blk.acc = acc;
    blk.zc = zc;
    blk.kn = kn;
    blk.ctx = bctx;
    blk.ctx_off = boff;
    blk.target = btarget;
    for (int t = 0; t < nt; t++) {
        wk[t].b = &blk;
        wk[t].w0 = (int)((int64_t)n_w * t / nt);
        wk[t].w1 = (int)((int64_t)n_w * (t + 1) / nt);
        wk[t].scores = malloc(((size_t)ncand + 1) * sizeof *wk[t].scores);
        wk[t].top = malloc(((size_t)k + 1) * sizeof *wk[t].top);
        if (!wk[t].scores || !wk[t].top)
            goto oom;
    }

    int64_t b = 0;
    int t_in = 0; /* position inside basket b */
    while (b < q->n_baskets) {
        /* 1. the next block of queries: z-scores on this thread (c is not shared) */
        blk.nq = 0;
        boff[0] = 0;
        int64_t last_b = b;
        while (blk.nq < bq && b < q->n_baskets) {
            const int32_t *items = q->items + q->off[b];
            int nb = (int)(q->off[b + 1] - q->off[b]);
            if (t_in >= nb) {
                b++;
                t_in = 0;
                continue;
            }
            int nc = 0;
            for (int j = 0; j < nb; j++)
                if (j != t_in)
                    ctx[nc++] = items[j];
            rs_completion_zscores(c, ctx, nc, z, zlo);
            float *zq = zc + (size_t)blk.nq * per_q;
            uint8_t *kq = kn + (size_t)blk.nq * per_q;
            for (int u = 0; u < blk.nu; u++) {
                const float *zm = z[blk.um[u]];
                float lo = zlo[blk.um[u]];
                float *zo = zq + (size_t)u * (size_t)ncand;
                uint8_t *ko = kq + (size_t)u * (size_t)ncand;
                for (int32_t j = 0; j < ncand; j++) {
                    float v = zm[cidx[j]];
                    int nan = isnan(v);
                    zo[j] = nan ? lo : v;
                    ko[j] = (uint8_t)!nan;
                }
            }
            memcpy(bctx + boff[blk.nq], ctx, (size_t)nc * sizeof *ctx);
            boff[blk.nq + 1] = boff[blk.nq] + nc;
            btarget[blk.nq] = items[t_in];
            blk.nq++;
            t_in++;
            last_b = b;
        }
        if (blk.nq == 0)
            break;
        /* 2. the weight vectors, shared out */
        pthread_t th[MAX_THREADS];
        int started = 0;
        for (int t = 1; t < nt; t++) {
            if (pthread_create(&th[t], NULL, blend_thread, &wk[t]) != 0)
                break;
            started = t;
        }
        blend_run(&wk[0]);
        for (int t = started + 1; t < nt; t++) /* threads that could not start */
            blend_run(&wk[t]);
        for (int t = 1; t <= started; t++)
            pthread_join(th[t], NULL);
        if (progress)
            progress(progress_ctx, (double)(last_b + 1) / (double)q->n_baskets);
    }
    for (int w = 0; w < n_w; w++)
        rs_rank_acc_result(acc[w], &m[w]);
    rc = RS_OK;
    goto done;
oom:
    rc = rs_seterr(e, RS_EINTERNAL, "evaluation: out of memory");
done:
    if (acc)
        for (int w = 0; w < n_w; w++)
            rs_rank_acc_free(acc[w]);
    free(acc);
    for (int mm = 0; mm < RS_COMP_N; mm++)
        free(z[mm]);
    for (int t = 0; t < MAX_THREADS; t++) {
        free(wk[t].scores);
        free(wk[t].top);
    }
    free(zc);
    free(kn);
    free(bctx);
    free(boff);
    free(btarget);
    free(pos);
    free(cnt);
    free(cat);
    free(ctx);
    return rc;
}

/* Scores the queries with a scorer over parts (weights set by the caller). */
static int eval_parts(const rs_corpus *train, const rs_eval_queries *q,
                      rs_completion_parts *parts, int k, rs_rank_metrics *out, rs_error *e)
{
    rs_completion *c = NULL;
    int64_t *cnt = calloc((size_t)train->n_items + 1, sizeof *cnt);
    if (!cnt)
        return rs_seterr(e, RS_EINTERNAL, "evaluation: out of memory");
    rs_corpus_item_counts(train, cnt);
    parts->n_items = train->n_items;
    parts->pop_counts = cnt;
    int rc = rs_completion_from_parts(parts, &c, e);
    if (!rc)
        rc = rs_eval_completion(c, q, train, k, NULL, NULL, out, e);
    rs_completion_close(c);
    free(cnt);
    return rc;
}

int rs_eval_kind(const rs_corpus *train, const rs_eval_queries *q, const rs_kind *kind,
                 const rs_embedding *m, const rs_train_params *p, int k, rs_rank_metrics *out,
                 rs_error *e)
{
    rs_completion_parts parts;
    memset(&parts, 0, sizeof parts);
    if (!kind->parts || kind->comp < 0 || kind->comp >= RS_COMP_N)
        return rs_seterr(e, RS_EUSAGE, "evaluation: kind '%s' does not score baskets",
                         kind->name);
    kind->parts(m, rs_params_cget(p, kind->params), &parts);
    parts.weights[kind->comp] = 1.0;
    return eval_parts(train, q, &parts, k, out, e);
}

int rs_eval_baseline(const rs_corpus *train, const rs_eval_queries *q, rs_comp_method method,
                     const rs_knn *knn, int k, rs_rank_metrics *out, rs_error *e)
{
    rs_completion_parts parts;
    memset(&parts, 0, sizeof parts);
    if (method != RS_COMP_POPULARITY && method != RS_COMP_ITEMITEM)
        return rs_seterr(e, RS_EUSAGE, "evaluation: %s is not a baseline",
                         rs_comp_method_name(method));
    parts.knn = knn;
    parts.weights[method] = 1.0;
    return eval_parts(train, q, &parts, k, out, e);
}

float *rs_eval_unit_rows(const rs_embedding *m)
{
    size_t d = (size_t)m->dim;
    float *u = malloc(((size_t)m->rows * d + 1) * sizeof *u);
    if (!u)
        return NULL;
    for (int32_t r = 0; r < m->rows; r++) {
        const float *v = m->in + (size_t)r * d;
        double s = 0.0;
        for (size_t j = 0; j < d; j++)
            s += (double)v[j] * v[j];
        float inv = s > 0.0 ? (float)(1.0 / sqrt(s)) : 0.0f;
        for (size_t j = 0; j < d; j++)
            u[(size_t)r * d + j] = v[j] * inv;
    }
    return u;
}

int rs_eval_nearest(const rs_embedding *m, const float *unit, int32_t item, int k,
                    float *scratch, int32_t *top)
{
    if (item < 0 || item >= m->n_items || m->item_row[item] < 0)
        return 0;
    int32_t row = m->item_row[item];
    size_t d = (size_t)m->dim;
    cblas_sgemv(CblasRowMajor, CblasNoTrans, m->rows, m->dim, 1.0f, unit, m->dim,
                unit + (size_t)row * d, 1, 0.0f, scratch, 1);
    scratch[row] = -INFINITY;
    int n = rs_topk(scratch, m->rows, k, top);
    for (int i = 0; i < n; i++)
        top[i] = m->row_item[top[i]];
    return n;
}

static int cmp_count_desc(const void *a, const void *b, void *arg)
{
    const int64_t *cnt = arg;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (cnt[x] != cnt[y])
        return cnt[x] < cnt[y] ? 1 : -1;
    return (x > y) - (x < y);
}

int rs_eval_synonyms(const rs_embedding *m, const rs_corpus *train, const rs_knn *cooc,
                     int k, int64_t min_count, int64_t max_items, rs_synonym_metrics *out,
                     rs_error *e)
{
    int rc = RS_EINTERNAL;
    float *unit = NULL, *scratch = NULL;
    int32_t *top = NULL, *cand = NULL;
    int64_t *co = NULL;
    memset(out, 0, sizeof *out);
    out->k = k;
    if (!train->item_category) {
        rc = rs_seterr(e, RS_EUSAGE, "synonym metrics need a product corpus");
        goto done;
    }
    unit = rs_eval_unit_rows(m);
    scratch = malloc(((size_t)m->rows + 1) * sizeof *scratch);
    top = malloc(((size_t)k + 1) * sizeof *top);
    co = malloc(((size_t)k + 1) * sizeof *co);
    cand = malloc(((size_t)m->rows + 1) * sizeof *cand);
    if (!unit || !scratch || !top || !co || !cand)
        goto oom;
    int64_t nc = 0;
    for (int32_t r = 0; r < m->rows; r++) {
        int32_t it = m->row_item[r];
        if (it < train->n_items && rs_knn_count(cooc, it) >= min_count)
            cand[nc++] = it;
    }
    /* the knn counts are the training receipts: sort by them (then index) */
    int64_t *cnt = calloc((size_t)train->n_items + 1, sizeof *cnt);
    if (!cnt)
        goto oom;
    rs_corpus_item_counts(train, cnt);
    qsort_r(cand, (size_t)nc, sizeof *cand, cmp_count_desc, cnt);
    free(cnt);
    int64_t take = (max_items > 0 && nc > max_items) ? max_items : nc;
    double pur = 0.0, cop = 0.0;
    for (int64_t s = 0; s < take; s++) {
        int32_t p = cand[take == nc ? s : (int64_t)((double)s * (double)nc / (double)take)];
        int n = rs_eval_nearest(m, unit, p, k, scratch, top);
        if (n == 0)
            continue;
        for (int j = 0; j < n; j++)
            co[j] = rs_knn_cooc(cooc, p, top[j]);
        pur += rs_metric_category_purity(train->item_category[p], top, n,
                                         train->item_category);
        cop += rs_metric_copurchase(co, n, rs_knn_count(cooc, p));
        out->n_items++;
    }
    if (out->n_items > 0) {
        out->purity = pur / (double)out->n_items;
        out->copurchase = cop / (double)out->n_items;
    }
    rc = RS_OK;
    goto done;
oom:
    rc = rs_seterr(e, RS_EINTERNAL, "synonym metrics: out of memory");
done:
    free(unit);
    free(scratch);
    free(top);
    free(co);
    free(cand);
    return rc;
}
