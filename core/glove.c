/* glove.c - GloVe over receipts (see glove.h). */
#include "glove.h"

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "completion.h"
#include "kinds.h"

void rs_glove_defaults(rs_glove_params *p)
{
    p->dim = 32;
    p->epochs = 25;
    p->x_max = 10.0;
    p->alpha = 0.75;
    p->lr = 0.05;
    p->min_count = 1;
    p->threads = 1;
    p->seed = 1;
}

/* ---- co-occurrence counts ---------------------------------------------------------- */

/* Pair entries expanded at once while counting (one chunk of rows at a time), so the
 * memory stays bounded on corpora with many long receipts. */
#define COOC_CHUNK ((int64_t)1 << 24)

void rs_glove_cooc_free(rs_glove_cooc *x)
{
    if (!x)
        return;
    free(x->off);
    free(x->col);
    free(x->x);
    free(x);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Appends the non-zero entries of row a (acc over touched[0..nt)) to x; grows it. */
static int append_row(rs_glove_cooc *x, int64_t *cap, float *acc, int32_t *touched, int32_t nt)
{
    int64_t at = x->off[x->rows];
    if (at + nt > *cap) {
        int64_t nc = *cap ? *cap : 1024;
        while (nc < at + nt)
            nc *= 2;
        int32_t *col = realloc(x->col, (size_t)nc * sizeof *col);
        if (col)
            x->col = col;
        float *v = col ? realloc(x->x, (size_t)nc * sizeof *v) : NULL;
        if (v)
            x->x = v;
        if (!col || !v)
            return -1;
        *cap = nc;
    }
    qsort(touched, (size_t)nt, sizeof *touched, cmp_i32);
    for (int32_t j = 0; j < nt; j++) {
        x->col[at + j] = touched[j];
        x->x[at + j] = acc[touched[j]];
        acc[touched[j]] = 0.0f;
    }
    x->rows++;
    x->off[x->rows] = at + nt;
    return 0;
}

/* The rows of receipt r with a vocabulary row, into buf; returns how many. */
static int32_t receipt_rows(const rs_corpus *c, const int32_t *item_row, int64_t r,
                            int32_t *buf)
{
    int32_t n = 0;
    for (int64_t p = c->offsets[r]; p < c->offsets[r + 1]; p++) {
        int32_t it = c->items[p];
        if (it >= 0 && it < c->n_items && item_row[it] >= 0)
            buf[n++] = item_row[it];
    }
    return n;
}

int rs_glove_cooc_build(const rs_corpus *c, const int32_t *item_row, int32_t rows,
                        rs_glove_cooc **out, rs_error *e)
{
    int rc = RS_OK;
    int64_t *deg = calloc((size_t)rows + 1, sizeof *deg);
    int64_t *pos = malloc(((size_t)rows + 1) * sizeof *pos);
    float *acc = calloc((size_t)rows + 1, sizeof *acc);
    int32_t *touched = malloc(((size_t)rows + 1) * sizeof *touched);
    int32_t *seen = malloc(((size_t)rows + 1) * sizeof *seen);
    int32_t *buf = NULL, *rbuf = NULL;
    int64_t cap = 0, maxlen = 0;
    rs_glove_cooc *x = calloc(1, sizeof *x);
    *out = NULL;
    if (!deg || !pos || !acc || !touched || !seen || !x)
        goto oom;
    if (!(x->off = calloc((size_t)rows + 1, sizeof *x->off)))
        goto oom;
    for (int64_t r = 0; r < c->n_receipts; r++)
        if (c->offsets[r + 1] - c->offsets[r] > maxlen)
            maxlen = c->offsets[r + 1] - c->offsets[r];
    if (!(rbuf = malloc(((size_t)maxlen + 1) * sizeof *rbuf)))
        goto oom;
    for (int64_t r = 0; r < c->n_receipts; r++) {
        int32_t n = receipt_rows(c, item_row, r, rbuf);
        for (int32_t j = 0; j < n; j++)
            deg[rbuf[j]] += n - 1;
    }
    int64_t biggest = 0;
    for (int32_t a = 0; a < rows; a++)
        if (deg[a] > biggest)
            biggest = deg[a];
    int64_t bufn = biggest > COOC_CHUNK ? biggest : COOC_CHUNK;
    if (!(buf = malloc(((size_t)bufn + 1) * sizeof *buf)))
        goto oom;
    for (int32_t i = 0; i < rows; i++)
        seen[i] = -1;
    /* rows lo..hi-1 at a time: their pair entries, then each row accumulated */
    for (int32_t lo = 0; lo < rows;) {
        int32_t hi = lo;
        int64_t sum = 0;
        while (hi < rows && (hi == lo || sum + deg[hi] <= bufn))
            sum += deg[hi++];
        int64_t at = 0;
        for (int32_t a = lo; a < hi; a++) {
            pos[a] = at;
            at += deg[a];
        }
        for (int64_t r = 0; r < c->n_receipts; r++) {
            int32_t n = receipt_rows(c, item_row, r, rbuf);
            for (int32_t j = 0; j < n; j++) {
                int32_t a = rbuf[j];
                if (a < lo || a >= hi)
                    continue;
                for (int32_t k = 0; k < n; k++)
                    if (k != j)
                        buf[pos[a]++] = rbuf[k];
            }
        }
        at = 0;
        for (int32_t a = lo; a < hi; a++) {
            int32_t nt = 0;
            for (int64_t p = at; p < at + deg[a]; p++) {
                int32_t b = buf[p];
                if (b == a)
                    continue; /* an item twice in one receipt (corpus rows are sets) */
                if (seen[b] != a) {
                    seen[b] = a;
                    touched[nt++] = b;
                }
                acc[b] += 1.0f;
            }
            at += deg[a];
            if (append_row(x, &cap, acc, touched, nt))
                goto oom;
        }
        lo = hi;
    }
    *out = x;
    x = NULL;
    goto done;
oom:
    rc = rs_seterr(e, RS_EINTERNAL, "glove: out of memory counting co-occurrences");
done:
    rs_glove_cooc_free(x);
    free(deg);
    free(pos);
    free(acc);
    free(touched);
    free(seen);
    free(buf);
    free(rbuf);
    return rc;
}

/* ---- training ----------------------------------------------------------------------- */

/* splitmix64: the seed stream of the initialisation and the shuffle */
static uint64_t mix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unif01(uint64_t *s) { return (double)(mix64(s) >> 11) * 0x1.0p-53; }

typedef struct glove_entry {
    int32_t a, b;
    float logx, f; /* log X[a][b] and its weight f(X[a][b]) */
} glove_entry;

typedef struct glove_state {
    int d;
    float lr;
    float *w, *c, *bw, *bc;       /* [rows * d], [rows * d], [rows], [rows] */
    float *gw, *gc, *gbw, *gbc;   /* AdaGrad sums, the same shapes */
    const glove_entry *ent;
} glove_state;

typedef struct glove_worker {
    glove_state *st;
    int64_t lo, hi;   /* entries of this worker */
    double cost;
    int bad;          /* a non-finite residual was met */
    pthread_t tid;
} glove_worker;

/* One pass over entries lo..hi-1 (glove.c's update, AdaGrad with the step inside the
 * squared sums). */
static void *glove_pass(void *arg)
{
    glove_worker *wk = arg;
    glove_state *st = wk->st;
    const int d = st->d;
    double cost = 0.0;
    for (int64_t i = wk->lo; i < wk->hi; i++) {
        const glove_entry *en = &st->ent[i];
        float *w = st->w + (size_t)en->a * (size_t)d, *gw = st->gw + (size_t)en->a * (size_t)d;
        float *c = st->c + (size_t)en->b * (size_t)d, *gc = st->gc + (size_t)en->b * (size_t)d;
        float diff = st->bw[en->a] + st->bc[en->b] - en->logx;
        for (int k = 0; k < d; k++)
            diff += w[k] * c[k];
        float fdiff = en->f * diff;
        if (!isfinite(fdiff)) {
            wk->bad = 1;
            break;
        }
        cost += 0.5 * (double)fdiff * (double)diff;
        fdiff *= st->lr;
        for (int k = 0; k < d; k++) {
            float t1 = fdiff * c[k], t2 = fdiff * w[k];
            w[k] -= t1 / sqrtf(gw[k]);
            c[k] -= t2 / sqrtf(gc[k]);
            gw[k] += t1 * t1;
            gc[k] += t2 * t2;
        }
        st->bw[en->a] -= fdiff / sqrtf(st->gbw[en->a]);
        st->bc[en->b] -= fdiff / sqrtf(st->gbc[en->b]);
        st->gbw[en->a] += fdiff * fdiff;
        st->gbc[en->b] += fdiff * fdiff;
    }
    wk->cost = cost;
    return NULL;
}

/* The entries of x with their weights, in one shuffled order (Fisher-Yates, seeded). */
static glove_entry *make_entries(const rs_glove_cooc *x, const rs_glove_params *p,
                                 uint64_t *rng)
{
    int64_t nnz = x->off[x->rows];
    glove_entry *ent = malloc(((size_t)nnz + 1) * sizeof *ent);
    if (!ent)
        return NULL;
    for (int32_t a = 0; a < x->rows; a++)
        for (int64_t q = x->off[a]; q < x->off[a + 1]; q++) {
            double v = x->x[q];
            ent[q].a = a;
            ent[q].b = x->col[q];
            ent[q].logx = (float)log(v);
            ent[q].f = v < p->x_max ? (float)pow(v / p->x_max, p->alpha) : 1.0f;
        }
    for (int64_t i = nnz - 1; i > 0; i--) {
        int64_t j = (int64_t)(mix64(rng) % (uint64_t)(i + 1));
        glove_entry t = ent[i];
        ent[i] = ent[j];
        ent[j] = t;
    }
    return ent;
}

/* Runs the epochs; *loss receives the last epoch's mean cost. */
static int run_epochs(glove_state *st, int64_t nnz, const rs_glove_params *p,
                      rs_glove_progress_fn progress, void *pctx, double *loss, rs_error *e)
{
    int nt = p->threads < 1 ? 1 : p->threads;
    if (nt > 64)
        nt = 64;
    if (nnz < (int64_t)nt * 1024)
        nt = 1; /* too few entries to share out */
    glove_worker wk[64];
    int threaded[64];
    for (int ep = 0; ep < p->epochs; ep++) {
        double cost = 0.0;
        int bad = 0;
        for (int t = 0; t < nt; t++) {
            wk[t] = (glove_worker){.st = st, .lo = nnz * t / nt, .hi = nnz * (t + 1) / nt};
            /* a thread that cannot start: this one does its share */
            threaded[t] = nt > 1 && pthread_create(&wk[t].tid, NULL, glove_pass, &wk[t]) == 0;
            if (!threaded[t])
                glove_pass(&wk[t]);
        }
        for (int t = 0; t < nt; t++) {
            if (threaded[t])
                pthread_join(wk[t].tid, NULL);
            cost += wk[t].cost;
            bad |= wk[t].bad;
        }
        if (bad)
            return rs_seterr(e, RS_EDATA,
                             "glove: training diverged (non-finite residual in epoch %d); "
                             "lower glove_lr (now %g)", ep + 1, p->lr);
        *loss = nnz ? cost / (double)nnz : 0.0;
        if (progress)
            progress(pctx, (double)(ep + 1) / (double)p->epochs);
    }
    return RS_OK;
}

/* The model's vectors from the trained state (see glove.h for the layout). */
static void fold_vectors(const glove_state *st, rs_embedding *m)
{
    const int d = st->d, D = m->dim;
    for (int32_t r = 0; r < m->rows; r++) {
        float *in = m->in + (size_t)r * (size_t)D, *out = m->out + (size_t)r * (size_t)D;
        const float *w = st->w + (size_t)r * (size_t)d, *c = st->c + (size_t)r * (size_t)d;
        for (int k = 0; k < d; k++) {
            in[k] = w[k];
            in[d + k] = c[k];
            out[k] = 0.5f * c[k];
            out[d + k] = 0.5f * w[k];
        }
        in[2 * d] = 1.0f;
        out[2 * d] = 0.5f * (st->bw[r] + st->bc[r]);
    }
}

int rs_glove_fit(const rs_corpus *c, const rs_glove_params *p, rs_glove_progress_fn progress,
                 void *progress_ctx, rs_embedding **out, double *loss, rs_error *e)
{
    int rc = RS_OK;
    int64_t *count = NULL;
    rs_embedding *m = NULL;
    rs_glove_cooc *x = NULL;
    glove_entry *ent = NULL;
    glove_state st = {0};
    double last = 0.0;
    uint64_t rng = p->seed;
    *out = NULL;
    if (p->dim < 1 || p->dim > 2047 || p->epochs < 1 || !(p->x_max > 0) ||
        !(p->lr > 0) || !isfinite(p->alpha))
        return rs_seterr(e, RS_EUSAGE, "glove: bad parameters (dim %d, epochs %d, x_max %g, "
                         "lr %g, alpha %g)", p->dim, p->epochs, p->x_max, p->lr, p->alpha);
    if (!(count = calloc((size_t)c->n_items + 1, sizeof *count)))
        goto oom;
    rs_corpus_item_counts(c, count);
    if ((rc = rs_embedding_vocab(c->n_items, count, p->min_count, RS_VOCAB_BY_INDEX,
                                 2 * p->dim + 1, &m, e)))
        goto done;
    if (m->rows == 0) {
        rc = rs_seterr(e, RS_EUSAGE, "glove: no item has %d receipts (glove_min_count)",
                       p->min_count);
        goto done;
    }
    if ((rc = rs_embedding_alloc(m, 1, e)) ||
        (rc = rs_glove_cooc_build(c, m->item_row, m->rows, &x, e)))
        goto done;
    int64_t nnz = x->off[x->rows];
    size_t cells = (size_t)m->rows * (size_t)p->dim;
    st.d = p->dim;
    st.lr = (float)p->lr;
    st.w = malloc((cells + 1) * sizeof *st.w);
    st.c = malloc((cells + 1) * sizeof *st.c);
    st.gw = malloc((cells + 1) * sizeof *st.gw);
    st.gc = malloc((cells + 1) * sizeof *st.gc);
    st.bw = malloc(((size_t)m->rows + 1) * sizeof *st.bw);
    st.bc = malloc(((size_t)m->rows + 1) * sizeof *st.bc);
    st.gbw = malloc(((size_t)m->rows + 1) * sizeof *st.gbw);
    st.gbc = malloc(((size_t)m->rows + 1) * sizeof *st.gbc);
    if (!st.w || !st.c || !st.gw || !st.gc || !st.bw || !st.bc || !st.gbw || !st.gbc)
        goto oom;
    /* glove.c: every parameter uniform in (-0.5, 0.5) / dim, squared sums 1 */
    for (size_t i = 0; i < cells; i++)
        st.w[i] = (float)((unif01(&rng) - 0.5) / p->dim);
    for (size_t i = 0; i < cells; i++)
        st.c[i] = (float)((unif01(&rng) - 0.5) / p->dim);
    for (int32_t r = 0; r < m->rows; r++) {
        st.bw[r] = (float)((unif01(&rng) - 0.5) / p->dim);
        st.bc[r] = (float)((unif01(&rng) - 0.5) / p->dim);
        st.gbw[r] = st.gbc[r] = 1.0f;
    }
    for (size_t i = 0; i < cells; i++)
        st.gw[i] = st.gc[i] = 1.0f;
    if (!(ent = make_entries(x, p, &rng)))
        goto oom;
    rs_glove_cooc_free(x);
    x = NULL;
    st.ent = ent;
    if ((rc = run_epochs(&st, nnz, p, progress, progress_ctx, &last, e)))
        goto done;
    fold_vectors(&st, m);
    if ((rc = rs_embedding_check_finite(m, "glove", e)))
        goto done;
    snprintf(m->kind, sizeof m->kind, "glove");
    if (loss)
        *loss = last;
    *out = m;
    m = NULL;
    goto done;
oom:
    rc = rs_seterr(e, RS_EINTERNAL, "glove: out of memory");
done:
    rs_embedding_free(m);
    rs_glove_cooc_free(x);
    free(ent);
    free(count);
    free(st.w);
    free(st.c);
    free(st.gw);
    free(st.gc);
    free(st.bw);
    free(st.bc);
    free(st.gbw);
    free(st.gbc);
    return rc;
}

/* ---- the kind "glove" (kinds.h) ------------------------------------------------------ */

static void glove_defaults(void *p) { rs_glove_defaults(p); }

#define GLOVE_INT(name, field, lo, hi) \
    {name, RS_PARAM_INT, lo, hi, offsetof(rs_glove_params, field)}
#define GLOVE_REAL(name, field, lo, hi) \
    {name, RS_PARAM_REAL, lo, hi, offsetof(rs_glove_params, field)}
static const rs_param_def GLOVE_DEFS[] = {
    GLOVE_INT("glove_dim", dim, 1, 2047),
    GLOVE_INT("glove_epochs", epochs, 1, 100000),
    GLOVE_REAL("glove_xmax", x_max, 1e-6, 1e12),
    GLOVE_REAL("glove_alpha", alpha, 0, 10),
    GLOVE_REAL("glove_lr", lr, 1e-9, 10),
    GLOVE_INT("glove_min_count", min_count, 1, 1e9),
    GLOVE_INT("glove_threads", threads, 1, 64),
};

const rs_param_group RS_GLOVE_PARAMS = {
    "glove", GLOVE_DEFS, (int)(sizeof GLOVE_DEFS / sizeof GLOVE_DEFS[0]),
    sizeof(rs_glove_params), glove_defaults, (long)offsetof(rs_glove_params, seed),
};

int rs_glove_fit_kind(const rs_corpus *c, const void *params, const rs_fit_opts *o,
                      rs_embedding **out, rs_error *e)
{
    return rs_glove_fit(c, params, o->progress, o->progress_ctx, out, NULL, e);
}

void rs_glove_parts(const rs_embedding *m, const void *params, rs_completion_parts *parts)
{
    (void)params;
    parts->glove = m;
}
