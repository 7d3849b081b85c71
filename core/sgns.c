/* sgns.c - skip-gram with negative sampling over receipts (see sgns.h).
 *
 * The algorithm is word2vec's skip-gram (Mikolov et al. 2013) with three changes that
 * suit receipts:
 *   - a receipt has no order, so every other kept item of the receipt is a context
 *     (or `window` of them drawn without replacement);
 *   - negatives come from an alias table over count^ns_exponent (O(1) per draw, exact
 *     for any exponent and any vocabulary size, instead of word2vec's 1e8-int table);
 *   - negatives are drawn per (target, context) pair as in word2vec, one pair ahead,
 *     and their output rows prefetched, so the random reads of the output matrix
 *     overlap with the arithmetic of the current pair.  shared_negatives = 1 instead
 *     reuses one negative set for all contexts of a target within a receipt: ~25%
 *     faster, but on the Instacart sample HR@10 drops from 0.100 to 0.091 (measured,
 *     docs/BENCHMARKS.md), so it is off by default.
 *
 * Roles, as in word2vec: for the pair (target t, context c) the input vector of c is
 * trained to predict t through t's output vector and the negatives' output vectors.
 *
 * Layout: during training both matrices have rows padded to a multiple of 8 floats
 * (zeros that stay zero), 64-byte aligned, so the dot/axpy kernels are whole 8-lane
 * vector operations with no tails.  Rows are ordered by descending count, so frequent
 * items share cache lines and pages.  The result is copied to the compact rs_embedding.
 *
 * Threads: every epoch the receipt order is a fresh permutation drawn from the seed;
 * thread k trains the k-th contiguous share of it, updating the shared matrices without
 * locks (Hogwild).  Each thread has its own random stream derived from (seed, epoch,
 * thread), so with one thread the output is a pure function of corpus and params.
 */
#include "sgns.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stddef.h>

#include "completion.h"
#include "kinds.h"
#include "rng.h"

void rs_sgns_defaults(rs_sgns_params *p)
{
    memset(p, 0, sizeof *p);
    p->dim = 64;
    p->epochs = 20;
    p->negative = 5;
    /* word2vec's 0.75 keeps in.out close to a lift (PMI), which is what the category
     * weights of the complements need (planted complementary categories: 85% of rows
     * at 0.75, 15% at 0).  For basket completion on Instacart 0 is better (HR@10 0.100
     * vs 0.050): the default grid (assets/grid.json) spans both. */
    p->ns_exponent = 0.75;
    p->subsample = 1e-3;
    p->lr = 0.025;
    p->min_count = 1;
    p->window = 0;
    p->threads = 1;
    p->seed = 1;
    p->shared_negatives = 0;
}

int rs_sgns_params_check(const rs_sgns_params *p, rs_error *e)
{
    if (p->dim < 1 || p->dim > 4096)
        return rs_seterr(e, RS_EUSAGE, "dim must be 1..4096 (got %d)", p->dim);
    if (p->epochs < 1 || p->epochs > 100000)
        return rs_seterr(e, RS_EUSAGE, "epochs must be 1..100000 (got %d)", p->epochs);
    if (p->negative < 0 || p->negative > 1000)
        return rs_seterr(e, RS_EUSAGE, "negative must be 0..1000 (got %d)", p->negative);
    if (!isfinite(p->ns_exponent) || fabs(p->ns_exponent) > 10)
        return rs_seterr(e, RS_EUSAGE, "ns_exponent must be a number in -10..10 (got %g)",
                         p->ns_exponent);
    if (!(p->subsample >= 0) || !isfinite(p->subsample))
        return rs_seterr(e, RS_EUSAGE, "subsample must be >= 0 (got %g)", p->subsample);
    if (!(p->lr > 0) || !isfinite(p->lr) || p->lr > 10)
        return rs_seterr(e, RS_EUSAGE, "lr must be in (0, 10] (got %g)", p->lr);
    if (p->min_count < 1)
        return rs_seterr(e, RS_EUSAGE, "min_count must be >= 1 (got %d)", p->min_count);
    if (p->window < 0)
        return rs_seterr(e, RS_EUSAGE, "window must be >= 0 (got %d)", p->window);
    if (p->threads < 1 || p->threads > 256)
        return rs_seterr(e, RS_EUSAGE, "threads must be 1..256 (got %d)", p->threads);
    return RS_OK;
}

int rs_sgns_params_json(const rs_sgns_params *p, char *buf, size_t n)
{
    int k = snprintf(buf, n,
                     "{\"dim\":%d,\"epochs\":%d,\"negative\":%d,\"ns_exponent\":%.10g,"
                     "\"subsample\":%.10g,\"lr\":%.10g,\"min_count\":%d,\"window\":%d,"
                     "\"threads\":%d,\"seed\":%llu,\"shared_negatives\":%d}",
                     p->dim, p->epochs, p->negative, p->ns_exponent, p->subsample, p->lr,
                     p->min_count, p->window, p->threads, (unsigned long long)p->seed,
                     p->shared_negatives);
    return (k < 0 || (size_t)k >= n) ? -1 : k;
}

/* ---- the sigmoid -------------------------------------------------------------------- */

#define SIG_MAX 8.0f
#define SIG_N 2048

typedef struct sig_table {
    float v[SIG_N + 1];
} sig_table;

static void sig_build(sig_table *s)
{
    for (int i = 0; i <= SIG_N; i++) {
        double x = ((double)i / SIG_N * 2.0 - 1.0) * SIG_MAX;
        s->v[i] = (float)(1.0 / (1.0 + exp(-x)));
    }
}

/* sigmoid(x), clamped beyond +-SIG_MAX (word2vec skips such pairs instead, which never
 * corrects a badly wrong negative; clamping keeps a small gradient). */
static inline float sig(const sig_table *s, float x)
{
    if (x >= SIG_MAX)
        return s->v[SIG_N];
    if (!(x > -SIG_MAX)) /* and NaN, which a diverging run produces: never an index */
        return s->v[0];
    return s->v[(int)((x + SIG_MAX) * (SIG_N / (2 * SIG_MAX)) + 0.5f)];
}

/* ---- vector kernels over rows padded to 8 floats ------------------------------------- */

typedef float v8f __attribute__((vector_size(32), aligned(32)));

static inline float dot8(const float *restrict a, const float *restrict b, int dp)
{
    const v8f *va = (const v8f *)a, *vb = (const v8f *)b;
    v8f acc0 = {0}, acc1 = {0};
    int n = dp / 8, i = 0;
#pragma GCC unroll 8
    for (; i + 1 < n; i += 2) {
        acc0 += va[i] * vb[i];
        acc1 += va[i + 1] * vb[i + 1];
    }
    if (i < n)
        acc0 += va[i] * vb[i];
    acc0 += acc1;
    return ((acc0[0] + acc0[4]) + (acc0[1] + acc0[5])) + ((acc0[2] + acc0[6]) + (acc0[3] + acc0[7]));
}

/* ---- training ----------------------------------------------------------------------- */

typedef struct trainer {
    const rs_sgns_params *p;
    int dp;                 /* padded dimension */
    int32_t rows;
    float *in, *out;        /* [rows * dp] padded, 64-byte aligned */
    float *keep;            /* [rows] subsampling keep probability */
    rs_alias_entry *neg;    /* [rows] negative distribution, count^ns_exponent */
    sig_table sig;
    int64_t n_sent;         /* receipts with >= 2 vocabulary items */
    int64_t *sent_off;      /* [n_sent + 1] */
    int32_t *sent_rows;     /* rows of each receipt */
    int32_t max_len;        /* longest receipt */
    int32_t *order;         /* [n_sent] receipt order of the current epoch */
    int64_t total_work;     /* epochs * tokens, for the learning-rate schedule */
    _Atomic int64_t done;   /* tokens processed so far by all threads */
    rs_progress_fn progress;
    void *progress_ctx;
    int epoch;
} trainer;

typedef struct worker {
    trainer *t;
    int id;
    int64_t from, to;       /* share of t->order */
    int failed;
} worker;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The update of one (context x, targets y[0..nn)) group: y[0] is the true target
 * (label 1), the others negatives (label 0).  All dots come first (independent, so
 * they overlap in the pipeline); the context's gradient is taken against the old
 * output vectors, as word2vec does.  dp is a compile-time constant in the hot
 * instantiations below, which keeps x and the gradient in registers. */
static inline __attribute__((always_inline)) void
update_group(float *restrict x, float *restrict const *y, int nn, float alpha,
             const sig_table *st, float *restrict g, int dp)
{
    v8f *vx = (v8f *)x;
    v8f e[dp / 8 > 0 ? dp / 8 : 1];
    for (int k = 0; k < nn; k++)
        g[k] = ((k == 0 ? 1.0f : 0.0f) - sig(st, dot8(x, y[k], dp))) * alpha;
#pragma GCC unroll 16
    for (int i = 0; i < dp / 8; i++)
        e[i] = (v8f){0};
    for (int k = 0; k < nn; k++) {
        v8f *vy = (v8f *)y[k];
        v8f vg = {g[k], g[k], g[k], g[k], g[k], g[k], g[k], g[k]};
#pragma GCC unroll 16
        for (int i = 0; i < dp / 8; i++) {
            e[i] += vg * vy[i];
            vy[i] += vg * vx[i];
        }
    }
#pragma GCC unroll 16
    for (int i = 0; i < dp / 8; i++)
        vx[i] += e[i];
}

/* Trains one receipt.  kept, ctx: scratch of max_len; ys, ys_next, g: negative + 1.
 * Compiled twice on x86-64 (AVX2+FMA and baseline), picked at load time. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
static void train_receipt(trainer *t, rs_rng *r, const int32_t *items, int len, float alpha,
                          int32_t *kept, int32_t *ctx, float **ys, float **ys_next,
                          float *g)
{
    const rs_sgns_params *p = t->p;
    const int dp = t->dp, nneg = p->negative;
    int m = 0;
    for (int i = 0; i < len; i++) {
        int32_t w = items[i];
        if (t->keep[w] >= 1.0f || rs_rng_plus_float(r) < t->keep[w])
            kept[m++] = w;
    }
    if (m < 2)
        return;
    float *in = t->in, *out = t->out;
    for (int ti = 0; ti < m; ti++) {
        int32_t target = kept[ti];
        /* contexts: every other kept item, or `window` of them without replacement */
        int nc = 0;
        for (int j = 0; j < m; j++)
            if (j != ti)
                ctx[nc++] = kept[j];
        if (p->window > 0 && p->window < nc) {
            for (int j = 0; j < p->window; j++) {
                int k = j + (int)rs_rng_plus_below(r, (uint32_t)(nc - j));
                int32_t tmp = ctx[j];
                ctx[j] = ctx[k];
                ctx[k] = tmp;
            }
            nc = p->window;
        }
        /* ys[0] is the target (label 1), ys[1..nn) the negatives (label 0); a negative
         * that hits the target is dropped, as in word2vec.  Without sharing, the next
         * context's negatives are drawn one step ahead and their rows prefetched, so
         * the random reads of the output matrix overlap with the arithmetic. */
        int nn = 1, nn_next = 1;
        ys[0] = ys_next[0] = out + (size_t)target * dp;
        for (int k = 0; k < nneg; k++) {
            int32_t s = rs_alias_draw_plus(t->neg, (uint32_t)t->rows, r);
            if (s != target)
                ys_next[nn_next++] = out + (size_t)s * dp;
        }
        for (int c = 0; c < nc; c++) {
            if (c == 0 || !p->shared_negatives) {
                float **tmp = ys;
                ys = ys_next;
                ys_next = tmp;
                nn = nn_next;
                if (!p->shared_negatives && c + 1 < nc) {
                    nn_next = 1;
                    ys_next[0] = ys[0];
                    for (int k = 0; k < nneg; k++) {
                        int32_t s = rs_alias_draw_plus(t->neg, (uint32_t)t->rows, r);
                        if (s != target) {
                            float *row = out + (size_t)s * dp;
                            for (int b = 0; b < dp; b += 16)
                                __builtin_prefetch(row + b, 1, 3);
                            ys_next[nn_next++] = row;
                        }
                    }
                }
            }
            float *x = in + (size_t)ctx[c] * dp;
            switch (dp) { /* constant dp for the usual sizes: fully unrolled */
            case 32: update_group(x, ys, nn, alpha, &t->sig, g, 32); break;
            case 64: update_group(x, ys, nn, alpha, &t->sig, g, 64); break;
            case 128: update_group(x, ys, nn, alpha, &t->sig, g, 128); break;
            default: update_group(x, ys, nn, alpha, &t->sig, g, dp); break;
            }
        }
    }
}

static void *worker_run(void *arg)
{
    worker *w = arg;
    trainer *t = w->t;
    const rs_sgns_params *p = t->p;
    int32_t *kept = malloc(((size_t)t->max_len + 1) * sizeof *kept);
    int32_t *ctx = malloc(((size_t)t->max_len + 1) * sizeof *ctx);
    float **ys = malloc(((size_t)p->negative + 1) * sizeof *ys);
    float **ys_next = malloc(((size_t)p->negative + 1) * sizeof *ys_next);
    float *g = malloc(((size_t)p->negative + 1) * sizeof *g);
    if (!kept || !ctx || !ys || !ys_next || !g) {
        w->failed = 1;
        goto done;
    }
    rs_rng r;
    rs_rng_seed(&r, p->seed, (uint64_t)t->epoch + 1, (uint64_t)w->id + 1);
    double last_report = 0;
    int64_t pending = 0;
    int64_t done_now = atomic_load_explicit(&t->done, memory_order_relaxed);
    for (int64_t k = w->from; k < w->to; k++) {
        int32_t s = t->order[k];
        int64_t a = t->sent_off[s], b = t->sent_off[s + 1];
        double frac = (double)done_now / (double)(t->total_work + 1);
        float alpha = (float)(p->lr * (frac < 1.0 - 1e-4 ? 1.0 - frac : 1e-4));
        train_receipt(t, &r, t->sent_rows + a, (int)(b - a), alpha, kept, ctx, ys, ys_next, g);
        pending += b - a;
        /* the shared counter is touched once per 256 tokens, not per receipt */
        if (pending >= 256 || k + 1 == w->to) {
            done_now = atomic_fetch_add_explicit(&t->done, pending, memory_order_relaxed) +
                       pending;
            pending = 0;
            if (w->id == 0 && t->progress) {
                double now = now_seconds();
                if (now - last_report >= 0.1) {
                    last_report = now;
                    t->progress(t->progress_ctx, (double)done_now / (double)t->total_work);
                }
            }
        }
    }
done:
    free(kept);
    free(ctx);
    free(ys);
    free(ys_next);
    free(g);
    return NULL;
}

/* Receipts as rows of the vocabulary, only those with two vocabulary items or more;
 * *tokens receives their total length. */
static int build_sentences(trainer *t, const rs_corpus *c, const rs_embedding *m,
                           int64_t *tokens, rs_error *e)
{
    *tokens = 0;
    for (int64_t s = 0; s < c->n_receipts; s++) {
        int64_t k = 0;
        for (int64_t i = c->offsets[s]; i < c->offsets[s + 1]; i++)
            k += m->item_row[c->items[i]] >= 0;
        if (k >= 2) {
            t->n_sent++;
            *tokens += k;
        }
    }
    if (t->n_sent > INT32_MAX)
        return rs_seterr(e, RS_EDATA, "too many receipts for one model (%lld)",
                         (long long)t->n_sent);
    t->sent_off = malloc(((size_t)t->n_sent + 1) * sizeof *t->sent_off);
    t->sent_rows = malloc(((size_t)*tokens + 1) * sizeof *t->sent_rows);
    t->order = malloc(((size_t)t->n_sent + 1) * sizeof *t->order);
    if (!t->sent_off || !t->sent_rows || !t->order)
        return rs_seterr(e, RS_EINTERNAL, "out of memory training the embedding");
    int64_t j = 0, s2 = 0;
    for (int64_t s = 0; s < c->n_receipts; s++) {
        int64_t start = j;
        for (int64_t i = c->offsets[s]; i < c->offsets[s + 1]; i++) {
            int32_t r = m->item_row[c->items[i]];
            if (r >= 0)
                t->sent_rows[j++] = r;
        }
        if (j - start < 2) {
            j = start;
            continue;
        }
        if (j - start > INT32_MAX / 2)
            return rs_seterr(e, RS_EDATA, "receipt %lld has too many items (%lld)",
                             (long long)c->receipt_id[s], (long long)(j - start));
        if (j - start > t->max_len)
            t->max_len = (int32_t)(j - start);
        t->sent_off[s2++] = start;
    }
    t->sent_off[s2] = j;
    return RS_OK;
}

/* Subsampling, the negative table, the sigmoid and the initial matrices. */
static int build_tables(trainer *t, const rs_embedding *m, int64_t tokens, rs_error *e)
{
    const rs_sgns_params *p = t->p;
    int32_t rows = t->rows;
    int rc = RS_OK;
    /* subsampling: word2vec's keep probability (sqrt(f / (t N)) + 1) * t N / f, with f
     * the item's receipt count and N the tokens of the training receipts */
    double *weights = malloc((size_t)rows * sizeof *weights), sum = 0.0;
    t->keep = malloc((size_t)rows * sizeof *t->keep);
    t->neg = malloc((size_t)rows * sizeof *t->neg);
    if (!t->keep || !weights || !t->neg)
        goto oom;
    for (int32_t r = 0; r < rows; r++) {
        double f = (double)m->counts[r];
        double tn = p->subsample * (double)tokens;
        double keep = p->subsample > 0 ? (sqrt(f / tn) + 1.0) * tn / f : 1.0;
        t->keep[r] = keep >= 1.0 ? 1.0f : (float)keep;
        weights[r] = pow(f, p->ns_exponent);
        sum += weights[r];
    }
    if (!isfinite(sum) || !(sum > 0.0)) {
        rc = rs_seterr(e, RS_EUSAGE, "ns_exponent %g: the negative distribution count^%g "
                                     "overflows (most frequent item: %lld receipts)",
                       p->ns_exponent, p->ns_exponent, (long long)m->counts[0]);
        goto done;
    }
    if (rs_alias_build(t->neg, weights, (uint32_t)rows, RS_ALIAS_SUB))
        goto oom;
    sig_build(&t->sig);
    /* matrices: input uniform in [-0.5, 0.5) / dim (word2vec), output zero */
    size_t bytes = ((size_t)rows * (size_t)t->dp * sizeof(float) + 63) / 64 * 64;
    t->in = aligned_alloc(64, bytes);
    t->out = aligned_alloc(64, bytes);
    if (!t->in || !t->out)
        goto oom;
    memset(t->out, 0, bytes);
    memset(t->in, 0, bytes);
    rs_rng r;
    rs_rng_seed(&r, p->seed, 0, 0);
    for (int32_t i = 0; i < rows; i++)
        for (int d = 0; d < p->dim; d++)
            t->in[(size_t)i * t->dp + d] = (rs_rng_plus_float(&r) - 0.5f) / (float)p->dim;
    goto done;
oom:
    rc = rs_seterr(e, RS_EINTERNAL, "out of memory training the embedding");
done:
    free(weights);
    return rc;
}

/* Whether every value of the training matrices is finite (x - x is 0 only then). */
static int matrices_finite(const trainer *t)
{
    size_t n = (size_t)t->rows * (size_t)t->dp;
    float acc = 0.0f;
    for (size_t i = 0; i < n; i++)
        acc += (t->in[i] - t->in[i]) + (t->out[i] - t->out[i]);
    return acc == 0.0f;
}

/* One epoch: this epoch's order (Fisher-Yates from a stream of (seed, epoch)), then the
 * threads over their shares of it. */
static int run_epoch(trainer *t, int ep, int nthreads, pthread_t *tids, worker *ws,
                     rs_error *e)
{
    rs_rng r;
    rs_rng_seed(&r, t->p->seed, (uint64_t)ep + 1, 0);
    for (int64_t i = 0; i < t->n_sent; i++)
        t->order[i] = (int32_t)i;
    for (int64_t i = t->n_sent - 1; i > 0; i--) {
        int64_t k = (int64_t)rs_rng_plus_below(&r, (uint32_t)(i + 1));
        int32_t tmp = t->order[i];
        t->order[i] = t->order[k];
        t->order[k] = tmp;
    }
    t->epoch = ep;
    int started = 0;
    for (int k = 0; k < nthreads; k++) {
        ws[k] = (worker){.t = t, .id = k, .from = t->n_sent * k / nthreads,
                         .to = t->n_sent * (k + 1) / nthreads};
        if (nthreads == 1) {
            worker_run(&ws[k]);
            continue;
        }
        if (pthread_create(&tids[k], NULL, worker_run, &ws[k]) != 0) {
            ws[k].failed = 1;
            break;
        }
        started++;
    }
    for (int k = 0; k < started; k++)
        pthread_join(tids[k], NULL);
    for (int k = 0; k < nthreads; k++)
        if (ws[k].failed)
            return rs_seterr(e, RS_EINTERNAL,
                             "training thread %d could not start (out of memory or threads)",
                             k);
    return RS_OK;
}

static int run_epochs(trainer *t, rs_error *e)
{
    const rs_sgns_params *p = t->p;
    int nthreads = p->threads, rc = RS_OK;
    if (nthreads > t->n_sent)
        nthreads = t->n_sent > 0 ? (int)t->n_sent : 1;
    pthread_t *tids = calloc((size_t)nthreads, sizeof *tids);
    worker *ws = calloc((size_t)nthreads, sizeof *ws);
    if (!tids || !ws)
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory training the embedding");
    for (int ep = 0; !rc && ep < p->epochs && t->n_sent > 0; ep++) {
        if ((rc = run_epoch(t, ep, nthreads, tids, ws, e)))
            break;
        /* a diverging run is stopped at the end of the epoch it blew up in (the
         * sigmoid clamps NaN, so nothing crashes on the way) */
        if (!matrices_finite(t))
            rc = rs_seterr(e, RS_EDATA,
                           "training diverged at epoch %d of %d (non-finite vectors); lower "
                           "lr (now %g), negative (%d) or ns_exponent (%g)",
                           ep + 1, p->epochs, p->lr, p->negative, p->ns_exponent);
    }
    free(tids);
    free(ws);
    return rc;
}

int rs_sgns_train(const rs_corpus *c, const rs_sgns_params *p, rs_progress_fn progress,
                  void *progress_ctx, rs_embedding **out, rs_error *e)
{
    int rc = RS_OK;
    trainer t;
    memset(&t, 0, sizeof t);
    rs_embedding *m = NULL;
    int64_t tokens = 0;
    *out = NULL;
    if ((rc = rs_sgns_params_check(p, e)))
        return rc;
    t.p = p;
    t.dp = (p->dim + 7) / 8 * 8;
    t.progress = progress;
    t.progress_ctx = progress_ctx;
    atomic_init(&t.done, 0);
    /* vocabulary: items in >= min_count receipts, by descending count */
    int64_t *count = calloc((size_t)c->n_items + 1, sizeof *count);
    if (!count) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory training the embedding");
        goto done;
    }
    rs_corpus_item_counts(c, count);
    rc = rs_embedding_vocab(c->n_items, count, p->min_count, RS_VOCAB_BY_COUNT, p->dim, &m, e);
    free(count);
    if (rc)
        goto done;
    t.rows = m->rows;
    if (m->rows == 0) {
        rc = rs_seterr(e, RS_EDATA,
                       "no item is in at least %d receipt(s): nothing to train on (%lld "
                       "receipts)",
                       p->min_count, (long long)c->n_receipts);
        goto done;
    }
    if ((rc = build_sentences(&t, c, m, &tokens, e)) || (rc = build_tables(&t, m, tokens, e)))
        goto done;
    t.total_work = (int64_t)p->epochs * tokens;
    if ((rc = run_epochs(&t, e)))
        goto done;
    if (progress)
        progress(progress_ctx, 1.0);
    /* compact copies */
    if ((rc = rs_embedding_alloc(m, 1, e)))
        goto done;
    for (int32_t i = 0; i < m->rows; i++) {
        memcpy(m->in + (size_t)i * p->dim, t.in + (size_t)i * t.dp, (size_t)p->dim * sizeof(float));
        memcpy(m->out + (size_t)i * p->dim, t.out + (size_t)i * t.dp,
               (size_t)p->dim * sizeof(float));
    }
done:
    free(t.keep);
    free(t.neg);
    free(t.sent_off);
    free(t.sent_rows);
    free(t.order);
    free(t.in);
    free(t.out);
    if (rc)
        rs_embedding_free(m);
    else
        *out = m;
    return rc;
}

/* ---- the kinds "product" and "category" (kinds.h) ---------------------------------- */

static void sgns_defaults(void *p) { rs_sgns_defaults(p); }

#define SGNS_INT(name, field, lo, hi) {name, RS_PARAM_INT, lo, hi, offsetof(rs_sgns_params, field)}
#define SGNS_REAL(name, field, lo, hi) {name, RS_PARAM_REAL, lo, hi, offsetof(rs_sgns_params, field)}
static const rs_param_def SGNS_DEFS[] = {
    SGNS_INT("dim", dim, 1, 4096),
    SGNS_INT("epochs", epochs, 1, 100000),
    SGNS_INT("negative", negative, 0, 1000),
    SGNS_REAL("ns_exponent", ns_exponent, -10, 10),
    SGNS_REAL("subsample", subsample, 0, 1),
    SGNS_REAL("lr", lr, 1e-9, 10),
    SGNS_INT("min_count", min_count, 1, 1e9),
    SGNS_INT("window", window, 0, 1e6),
    SGNS_INT("threads", threads, 1, 1024),
};

const rs_param_group RS_SGNS_PARAMS = {
    "sgns", SGNS_DEFS, (int)(sizeof SGNS_DEFS / sizeof SGNS_DEFS[0]), sizeof(rs_sgns_params),
    sgns_defaults, (long)offsetof(rs_sgns_params, seed),
};

int rs_sgns_fit_kind(const rs_corpus *c, const void *params, const rs_fit_opts *o,
                     rs_embedding **out, rs_error *e)
{
    return rs_sgns_train(c, params, o->progress, o->progress_ctx, out, e);
}

void rs_sgns_parts(const rs_embedding *m, const void *params, rs_completion_parts *parts)
{
    (void)params;
    parts->sgns = m;
}
