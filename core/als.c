/* als.c - implicit ALS with exact f×f solves (see als.h). */
#include "als.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>

#include "lapack.h"
#include "completion.h"
#include "kinds.h"
#include "rng.h"

void rs_als_defaults(rs_als_params *p)
{
    p->factors = 64;
    p->lambda = 0.1;
    p->alpha = 10.0;
    p->iters = 15;
    p->seed = 1;
}

/* One side of the alternation: for each of n_rows rows (receipts or items) with its
 * entries idx[off[r]..off[r+1]) into the fixed factors F (n_fixed x f), solve for
 * the row's factor into S.  gram = FᵀF (f x f).  Returns RS_OK or the LAPACK info. */
static int solve_side(int64_t n_rows, const int64_t *off, const int32_t *idx,
                      const float *w, const float *F, const float *gram, int f,
                      double lambda, double alpha, float *S, float *A, float *b)
{
    for (int64_t r = 0; r < n_rows; r++) {
        memcpy(A, gram, (size_t)f * (size_t)f * sizeof *A);
        for (int i = 0; i < f; i++)
            A[i * f + i] += (float)lambda;
        memset(b, 0, (size_t)f * sizeof *b);
        for (int64_t p = off[r]; p < off[r + 1]; p++) {
            const float *y = F + (size_t)idx[p] * (size_t)f;
            float x = w ? w[p] : 1.0f;
            if (!(x > 0.0f))
                x = 1.0f;
            float cm1 = (float)alpha * x;
            cblas_ssyr(CblasColMajor, CblasLower, f, cm1, y, 1, A, f);
            cblas_saxpy(f, 1.0f + cm1, y, 1, b, 1);
        }
        int info = 0, one = 1;
        sposv_("L", &f, &one, A, &f, b, &f, &info, 1);
        if (info != 0)
            return info;
        memcpy(S + (size_t)r * (size_t)f, b, (size_t)f * sizeof *b);
    }
    return 0;
}

/* The fit's buffers: the item side's transpose of the receipts (toff/trec/tw, ridx:
 * the row of each receipt line) and the solves' scratch. */
typedef struct als_work {
    int64_t *toff, *fill;
    int32_t *trec, *ridx;
    float *tw, *X, *gram, *A, *b;
} als_work;

static void als_work_free(als_work *w)
{
    free(w->toff);
    free(w->fill);
    free(w->trec);
    free(w->ridx);
    free(w->tw);
    free(w->X);
    free(w->gram);
    free(w->A);
    free(w->b);
}

/* Allocates w for m's rows and fills the transpose (items -> receipts with weights). */
static int als_work_build(const rs_corpus *c, const rs_embedding *m, int f, als_work *w,
                          rs_error *e)
{
    int32_t rows = m->rows;
    int64_t nnz = c->offsets[c->n_receipts];
    w->ridx = malloc(((size_t)nnz + 1) * sizeof *w->ridx);
    w->trec = malloc(((size_t)nnz + 1) * sizeof *w->trec);
    w->tw = malloc(((size_t)nnz + 1) * sizeof *w->tw);
    w->toff = calloc((size_t)rows + 1, sizeof *w->toff);
    w->fill = calloc((size_t)rows + 1, sizeof *w->fill);
    w->X = malloc((size_t)c->n_receipts * (size_t)f * sizeof *w->X);
    w->gram = malloc((size_t)f * (size_t)f * sizeof *w->gram);
    w->A = malloc((size_t)f * (size_t)f * sizeof *w->A);
    w->b = malloc((size_t)f * sizeof *w->b);
    if (!w->ridx || !w->trec || !w->tw || !w->toff || !w->fill || !w->X || !w->gram || !w->A ||
        !w->b)
        return rs_seterr(e, RS_EINTERNAL, "ALS: out of memory");
    for (int32_t r = 0; r < rows; r++)
        w->toff[r + 1] = w->toff[r] + m->counts[r];
    /* Receipt side indexes rows; item side is the transpose. */
    for (int64_t q = 0; q < nnz; q++)
        w->ridx[q] = m->item_row[c->items[q]];
    for (int64_t u = 0; u < c->n_receipts; u++)
        for (int64_t q = c->offsets[u]; q < c->offsets[u + 1]; q++) {
            int32_t row = w->ridx[q];
            int64_t at = w->toff[row] + w->fill[row]++;
            if (u > INT32_MAX)
                return rs_seterr(e, RS_EUSAGE, "ALS: more than %d receipts", INT32_MAX);
            w->trec[at] = (int32_t)u;
            w->tw[at] = c->weights ? c->weights[q] : 1.0f;
        }
    return RS_OK;
}

/* The largest confidence 1 + alpha x weight, in *cmax: beyond single precision the
 * solves fail or give NaN, so such weights are refused. */
static int als_confidence(const rs_corpus *c, const rs_als_params *p, double *cmax,
                          rs_error *e)
{
    int64_t nnz = c->offsets[c->n_receipts];
    double wmax = 0.0;
    for (int64_t q = 0; c->weights && q < nnz; q++)
        if (c->weights[q] > wmax || !(c->weights[q] == c->weights[q]))
            wmax = c->weights[q] == c->weights[q] ? c->weights[q] : INFINITY;
    *cmax = 1.0 + p->alpha * (wmax > 0.0 ? wmax : 1.0);
    if (!isfinite(*cmax) || *cmax > 1e30)
        return rs_seterr(e, RS_EDATA,
                         "ALS: event weights up to %g make the confidence 1 + als_alpha x "
                         "weight %g, beyond single precision: nothing fitted (weights must be "
                         "finite and small, e.g. counts)",
                         wmax, *cmax);
    return RS_OK;
}

/* The alternating solves from the seeded start, into m->in. */
static int als_iterate(const rs_corpus *c, const rs_als_params *p, double cmax, rs_embedding *m,
                       als_work *w, rs_error *e)
{
    int f = p->factors;
    int32_t rows = m->rows;
    uint64_t seed = p->seed;
    float scale = 0.1f / sqrtf((float)f);
    for (size_t i = 0; i < (size_t)rows * (size_t)f; i++)
        m->in[i] =
            scale * (float)((double)(rs_splitmix64(&seed) >> 11) / 9007199254740992.0 - 0.5) *
            2.0f;
    for (int it = 0; it < p->iters; it++) {
        /* receipts given items */
        cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, f, rows, 1.0f, m->in, f, 0.0f,
                    w->gram, f);
        int info = solve_side(c->n_receipts, c->offsets, w->ridx, c->weights, m->in, w->gram, f,
                              p->lambda, p->alpha, w->X, w->A, w->b);
        if (info == 0) {
            cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, f,
                        (int)c->n_receipts, 1.0f, w->X, f, 0.0f, w->gram, f);
            info = solve_side(rows, w->toff, w->trec, w->tw, w->X, w->gram, f, p->lambda,
                              p->alpha, m->in, w->A, w->b);
        }
        if (info != 0 && cmax > 1e6)
            return rs_seterr(e, RS_EDATA,
                             "ALS: the factor solve failed at iteration %d (LAPACK info %d): "
                             "the confidences 1 + als_alpha x weight reach %g, too far apart "
                             "for single precision; use smaller event weights or als_alpha",
                             it + 1, info, cmax);
        if (info != 0)
            return rs_seterr(e, RS_EINTERNAL, "ALS: solve failed at iteration %d (info %d)",
                             it + 1, info);
    }
    return RS_OK;
}

int rs_als_fit(const rs_corpus *c, const rs_als_params *p, rs_embedding **out,
               rs_error *e)
{
    int rc;
    int f = p->factors;
    rs_embedding *m = NULL;
    int64_t *cnt = NULL;
    als_work w = {0};
    double cmax = 1.0;
    *out = NULL;
    if (f <= 0 || f > 4096)
        return rs_seterr(e, RS_EUSAGE, "als_factors must be in 1..4096 (got %d)", f);
    if (!(p->lambda > 0.0) || p->alpha < 0.0 || p->iters <= 0)
        return rs_seterr(e, RS_EUSAGE,
                         "ALS needs als_lambda > 0, als_alpha >= 0, als_iters > 0 "
                         "(got %g, %g, %d)", p->lambda, p->alpha, p->iters);
    cnt = calloc((size_t)c->n_items + 1, sizeof *cnt);
    if (!cnt) {
        rc = rs_seterr(e, RS_EINTERNAL, "ALS: out of memory");
        goto done;
    }
    rs_corpus_item_counts(c, cnt);
    if ((rc = rs_embedding_vocab(c->n_items, cnt, 1, RS_VOCAB_BY_INDEX, f, &m, e)))
        goto done;
    if (m->rows == 0 || c->n_receipts == 0) {
        rc = rs_seterr(e, RS_EDATA, "ALS: no receipts to fit on");
        goto done;
    }
    if ((rc = rs_embedding_alloc(m, 1, e)) || (rc = als_work_build(c, m, f, &w, e)) ||
        (rc = als_confidence(c, p, &cmax, e)) || (rc = als_iterate(c, p, cmax, m, &w, e)))
        goto done;
    memcpy(m->out, m->in, (size_t)m->rows * (size_t)f * sizeof *m->in);
    if ((rc = rs_embedding_check_finite(m, "ALS: the factors are not kept", e)))
        goto done;
    *out = m;
    m = NULL;
done:
    rs_embedding_free(m);
    free(cnt);
    als_work_free(&w);
    return rc;
}

struct rs_als_scorer {
    const rs_embedding *m;
    double lambda, alpha;
    float *gram, *A, *b, *s;
};

void rs_als_scorer_free(rs_als_scorer *s)
{
    if (!s)
        return;
    free(s->gram);
    free(s->A);
    free(s->b);
    free(s->s);
    free(s);
}

int rs_als_scorer_new(const rs_embedding *m, double lambda, double alpha,
                      rs_als_scorer **out, rs_error *e)
{
    *out = NULL;
    rs_als_scorer *s = calloc(1, sizeof *s);
    if (!s)
        return rs_seterr(e, RS_EINTERNAL, "ALS: out of memory");
    int f = m->dim;
    s->m = m;
    s->lambda = lambda > 0 ? lambda : 0.1;
    s->alpha = alpha >= 0 ? alpha : 10.0;
    s->gram = malloc((size_t)f * (size_t)f * sizeof *s->gram);
    s->A = malloc((size_t)f * (size_t)f * sizeof *s->A);
    s->b = malloc((size_t)f * sizeof *s->b);
    s->s = malloc(((size_t)m->rows + 1) * sizeof *s->s);
    if (!s->gram || !s->A || !s->b || !s->s) {
        rs_als_scorer_free(s);
        return rs_seterr(e, RS_EINTERNAL, "ALS: out of memory");
    }
    cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, f, m->rows, 1.0f, m->in, f, 0.0f,
                s->gram, f);
    *out = s;
    return RS_OK;
}

int rs_als_score(rs_als_scorer *s, const int32_t *ctx, int n, float *scores)
{
    return rs_als_score_weighted(s, ctx, NULL, n, scores);
}

int rs_als_score_weighted(rs_als_scorer *s, const int32_t *ctx, const float *w, int n,
                          float *scores)
{
    const rs_embedding *m = s->m;
    int f = m->dim;
    for (int32_t i = 0; i < m->n_items; i++)
        scores[i] = -INFINITY;
    memcpy(s->A, s->gram, (size_t)f * (size_t)f * sizeof *s->A);
    for (int i = 0; i < f; i++)
        s->A[i * f + i] += (float)s->lambda;
    memset(s->b, 0, (size_t)f * sizeof *s->b);
    int known = 0;
    for (int t = 0; t < n; t++) {
        int32_t q = ctx[t];
        if (q < 0 || q >= m->n_items || m->item_row[q] < 0)
            continue;
        const float *y = m->in + (size_t)m->item_row[q] * (size_t)f;
        /* confidence 1 + alpha * x, as in the fit (x = 1 without weights) */
        float x = w ? w[t] : 1.0f;
        if (!(x > 0.0f))
            continue;
        float cm1 = (float)s->alpha * x;
        cblas_ssyr(CblasColMajor, CblasLower, f, cm1, y, 1, s->A, f);
        cblas_saxpy(f, 1.0f + cm1, y, 1, s->b, 1);
        known++;
    }
    if (known > 0) {
        int info = 0, one = 1;
        sposv_("L", &f, &one, s->A, &f, s->b, &f, &info, 1);
        if (info != 0)
            memset(s->b, 0, (size_t)f * sizeof *s->b);
    }
    cblas_sgemv(CblasRowMajor, CblasNoTrans, m->rows, f, 1.0f, m->in, f, s->b, 1, 0.0f,
                s->s, 1);
    for (int32_t r = 0; r < m->rows; r++)
        scores[m->row_item[r]] = s->s[r];
    return known;
}

/* ---- the kind "als" (kinds.h) ----------------------------------------------------- */

static void als_defaults(void *p) { rs_als_defaults(p); }

static const rs_param_def ALS_DEFS[] = {
    {"als_factors", RS_PARAM_INT, 1, 4096, offsetof(rs_als_params, factors)},
    {"als_lambda", RS_PARAM_REAL, 1e-12, 1e12, offsetof(rs_als_params, lambda)},
    {"als_alpha", RS_PARAM_REAL, 0, 1e9, offsetof(rs_als_params, alpha)},
    {"als_iters", RS_PARAM_INT, 1, 10000, offsetof(rs_als_params, iters)},
};

const rs_param_group RS_ALS_PARAMS = {
    "als", ALS_DEFS, (int)(sizeof ALS_DEFS / sizeof ALS_DEFS[0]), sizeof(rs_als_params),
    als_defaults, (long)offsetof(rs_als_params, seed),
};

int rs_als_fit_kind(const rs_corpus *c, const void *params, const rs_fit_opts *o,
                    rs_embedding **out, rs_error *e)
{
    (void)o;
    return rs_als_fit(c, params, out, e);
}

void rs_als_parts(const rs_embedding *m, const void *params, rs_completion_parts *parts)
{
    const rs_als_params *p = params;
    parts->als = m;
    parts->als_lambda = (float)p->lambda;
    parts->als_alpha = (float)p->alpha;
}
