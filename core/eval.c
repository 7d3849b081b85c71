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

enum { BLEND_MAX_THREADS = 8 };

/* Everything one rs_eval_blends call allocates. */
typedef struct blend_state {
    rs_completion *c;
    const rs_eval_queries *q;
    int n_w;
    int32_t n;                       /* index space */
    int64_t *cnt;
    uint8_t *cat, *kn;
    float *z[RS_COMP_N], zlo[RS_COMP_N], *zc;
    int32_t *ctx, *pos, *bctx, *btarget;
    int *boff;
    size_t per_q;                    /* compacted scores per query */
    int bq, nt;                      /* queries per block, threads */
    rs_rank_acc **acc;
    blend_block blk;
    blend_worker wk[BLEND_MAX_THREADS];
} blend_state;

static void blends_free(blend_state *st)
{
    if (st->acc)
        for (int w = 0; w < st->n_w; w++)
            rs_rank_acc_free(st->acc[w]);
    free(st->acc);
    for (int mm = 0; mm < RS_COMP_N; mm++)
        free(st->z[mm]);
    for (int t = 0; t < BLEND_MAX_THREADS; t++) {
        free(st->wk[t].scores);
        free(st->wk[t].top);
    }
    free(st->zc);
    free(st->kn);
    free(st->bctx);
    free(st->boff);
    free(st->btarget);
    free(st->pos);
    free(st->cnt);
    free(st->cat);
    free(st->ctx);
}

/* Allocations, the methods in use, the accumulators, block size and threads. */
static int blends_setup(blend_state *st, const rs_corpus *train, int k,
                        const double (*weights)[RS_COMP_N], rs_error *e)
{
    blend_block *blk = &st->blk;
    int32_t n = st->n;
    int rc;
    if (!(st->acc = calloc((size_t)st->n_w + 1, sizeof *st->acc)))
        goto oom;
    for (int w = 0; w < st->n_w; w++)
        for (int mm = 0; mm < RS_COMP_N; mm++)
            if (weights[w][mm] != 0.0 && !st->z[mm] &&
                !(st->z[mm] = malloc(((size_t)n + 1) * sizeof *st->z[mm])))
                goto oom;
    for (int mm = 0; mm < RS_COMP_N; mm++)
        if (st->z[mm])
            blk->um[blk->nu++] = mm;
    st->cnt = calloc((size_t)n + 1, sizeof *st->cnt);
    st->cat = calloc((size_t)n + 1, 1);
    int64_t maxb = 0;
    for (int64_t b = 0; b < st->q->n_baskets; b++)
        if (st->q->off[b + 1] - st->q->off[b] > maxb)
            maxb = st->q->off[b + 1] - st->q->off[b];
    st->ctx = malloc(((size_t)maxb + 1) * sizeof *st->ctx);
    if (!st->cnt || !st->cat || !st->ctx)
        goto oom;
    rs_corpus_item_counts(train, st->cnt);
    for (int32_t i = 0; i < train->n_items; i++)
        st->cat[i] = st->cnt[i] > 0;
    for (int w = 0; w < st->n_w; w++)
        if ((rc = rs_rank_acc_new(k, n, st->cat, st->cnt, train->n_receipts, &st->acc[w], e)))
            return rc;
    const int32_t *cidx = NULL;
    int32_t ncand = rs_completion_candidates(st->c, &cidx);
    if (!(st->pos = malloc(((size_t)n + 1) * sizeof *st->pos)))
        goto oom;
    for (int32_t i = 0; i < n; i++)
        st->pos[i] = -1;
    for (int32_t j = 0; j < ncand; j++)
        st->pos[cidx[j]] = j;
    /* block size: about 8M compacted scores in flight; threads: cores, at most one
     * per weight vector */
    size_t per_q = (size_t)(blk->nu ? blk->nu : 1) * (size_t)(ncand ? ncand : 1);
    int bq = (int)((size_t)8 << 20) / (int)(per_q < ((size_t)8 << 20) ? per_q : ((size_t)8 << 20));
    bq = bq < 1 ? 1 : bq > 256 ? 256 : bq;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = (int)(ncpu < 1 ? 1 : ncpu > BLEND_MAX_THREADS ? BLEND_MAX_THREADS : ncpu);
    nt = nt > st->n_w ? (st->n_w > 0 ? st->n_w : 1) : nt;
    st->per_q = per_q;
    st->bq = bq;
    st->nt = nt;
    st->zc = malloc((size_t)bq * per_q * sizeof *st->zc);
    st->kn = malloc((size_t)bq * per_q);
    st->bctx = malloc(((size_t)bq * (size_t)(maxb + 1)) * sizeof *st->bctx);
    st->boff = malloc(((size_t)bq + 1) * sizeof *st->boff);
    st->btarget = malloc(((size_t)bq + 1) * sizeof *st->btarget);
    if (!st->zc || !st->kn || !st->bctx || !st->boff || !st->btarget)
        goto oom;
    blk->k = k;
    blk->ncand = ncand;
    blk->cidx = cidx;
    blk->pos = st->pos;
    blk->weights = weights;
    blk->acc = st->acc;
    blk->zc = st->zc;
    blk->kn = st->kn;
    blk->ctx = st->bctx;
    blk->ctx_off = st->boff;
    blk->target = st->btarget;
    for (int t = 0; t < nt; t++) {
        st->wk[t].b = blk;
        st->wk[t].w0 = (int)((int64_t)st->n_w * t / nt);
        st->wk[t].w1 = (int)((int64_t)st->n_w * (t + 1) / nt);
        st->wk[t].scores = malloc(((size_t)ncand + 1) * sizeof *st->wk[t].scores);
        st->wk[t].top = malloc(((size_t)k + 1) * sizeof *st->wk[t].top);
        if (!st->wk[t].scores || !st->wk[t].top)
            goto oom;
    }
    return RS_OK;
oom:
    return rs_seterr(e, RS_EINTERNAL, "evaluation: out of memory");
}

/* The next block of queries from (*b, *t_in): their z-scores on this thread (the scorer
 * is not shared).  Returns the basket of the block's last query. */
static int64_t blends_fill(blend_state *st, int64_t *b, int *t_in)
{
    blend_block *blk = &st->blk;
    const rs_eval_queries *q = st->q;
    int32_t ncand = blk->ncand;
    int64_t last_b = *b;
    blk->nq = 0;
    st->boff[0] = 0;
    while (blk->nq < st->bq && *b < q->n_baskets) {
        const int32_t *items = q->items + q->off[*b];
        int nb = (int)(q->off[*b + 1] - q->off[*b]);
        if (*t_in >= nb) {
            (*b)++;
            *t_in = 0;
            continue;
        }
        int nc = 0;
        for (int j = 0; j < nb; j++)
            if (j != *t_in)
                st->ctx[nc++] = items[j];
        rs_completion_zscores(st->c, st->ctx, nc, st->z, st->zlo);
        float *zq = st->zc + (size_t)blk->nq * st->per_q;
        uint8_t *kq = st->kn + (size_t)blk->nq * st->per_q;
        for (int u = 0; u < blk->nu; u++) {
            const float *zm = st->z[blk->um[u]];
            float lo = st->zlo[blk->um[u]];
            float *zo = zq + (size_t)u * (size_t)ncand;
            uint8_t *ko = kq + (size_t)u * (size_t)ncand;
            for (int32_t j = 0; j < ncand; j++) {
                float v = zm[blk->cidx[j]];
                int nan = isnan(v);
                zo[j] = nan ? lo : v;
                ko[j] = (uint8_t)!nan;
            }
        }
        memcpy(st->bctx + st->boff[blk->nq], st->ctx, (size_t)nc * sizeof *st->ctx);
        st->boff[blk->nq + 1] = st->boff[blk->nq] + nc;
        st->btarget[blk->nq] = items[*t_in];
        blk->nq++;
        (*t_in)++;
        last_b = *b;
    }
    return last_b;
}

/* The weight vectors of the current block, shared out among the threads. */
static void blends_threads(blend_state *st)
{
    pthread_t th[BLEND_MAX_THREADS];
    int started = 0;
    for (int t = 1; t < st->nt; t++) {
        if (pthread_create(&th[t], NULL, blend_thread, &st->wk[t]) != 0)
            break;
        started = t;
    }
    blend_run(&st->wk[0]);
    for (int t = started + 1; t < st->nt; t++) /* threads that could not start */
        blend_run(&st->wk[t]);
    for (int t = 1; t <= started; t++)
        pthread_join(th[t], NULL);
}

int rs_eval_blends(rs_completion *c, const rs_eval_queries *q, const rs_corpus *train,
                   int k, int n_w, const double (*weights)[RS_COMP_N],
                   rs_eval_progress_fn progress, void *progress_ctx, rs_rank_metrics *m,
                   rs_error *e)
{
    blend_state st;
    memset(&st, 0, sizeof st);
    st.c = c;
    st.q = q;
    st.n_w = n_w;
    st.n = rs_completion_n_items(c);
    int rc;
    if (train->n_items > st.n) {
        rc = rs_seterr(e, RS_EUSAGE, "evaluation: the scorer covers %d items, the data %d",
                       (int)st.n, (int)train->n_items);
        goto done;
    }
    if ((rc = blends_setup(&st, train, k, weights, e)))
        goto done;
    int64_t b = 0;
    int t_in = 0; /* position inside basket b */
    while (b < q->n_baskets) {
        int64_t last_b = blends_fill(&st, &b, &t_in);
        if (st.blk.nq == 0)
            break;
        blends_threads(&st);
        if (progress)
            progress(progress_ctx, (double)(last_b + 1) / (double)q->n_baskets);
    }
    for (int w = 0; w < n_w; w++)
        rs_rank_acc_result(st.acc[w], &m[w]);
done:
    blends_free(&st);
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
