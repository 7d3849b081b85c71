/* ease.c - EASE^R closed form through LAPACK Cholesky (see ease.h). */
#include "ease.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stddef.h>

#include "lapack.h"
#include "completion.h"
#include "kinds.h"

/* The recoscope binary runs OpenBLAS single-threaded (cli/main.c: its idle workers spin
 * and take the cores our own threads use); the Cholesky and inverse here are the one
 * place where its threads pay, so they get every core for the call and the previous
 * count back afterwards.  An explicit OPENBLAS_NUM_THREADS is left alone. */
static int blas_threads_begin(void)
{
    if (getenv("OPENBLAS_NUM_THREADS"))
        return 0;
    int prev = openblas_get_num_threads();
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu > 1 && ncpu != prev)
        openblas_set_num_threads((int)ncpu);
    return prev;
}

static void blas_threads_end(int prev)
{
    if (prev > 0 && prev != openblas_get_num_threads())
        openblas_set_num_threads(prev);
}

/* P = (G + λI)⁻¹ directly: G = XᵀX over the vocabulary, Cholesky of n x n.  On return
 * P (n x n, row-major, both triangles) is in G. */
static int inverse_direct(const rs_corpus *c, const rs_embedding *m, double lambda, float *G,
                          rs_error *e)
{
    size_t n = (size_t)m->rows;
    /* G = XᵀX, both triangles (symmetric, so row/column-major agree). */
    for (int64_t q = 0; q < c->n_receipts; q++) {
        for (int64_t a = c->offsets[q]; a < c->offsets[q + 1]; a++) {
            int32_t ra = m->item_row[c->items[a]];
            if (ra < 0)
                continue;
            for (int64_t b = c->offsets[q]; b < c->offsets[q + 1]; b++) {
                int32_t rb = m->item_row[c->items[b]];
                if (rb >= 0)
                    G[(size_t)ra * n + (size_t)rb] += 1.0f;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        G[i * n + i] += (float)lambda;
    int nn = (int)n, info = 0, info2 = 0;
    int bt = blas_threads_begin();
    spotrf_("L", &nn, G, &nn, &info, 1);
    if (info == 0)
        spotri_("L", &nn, G, &nn, &info2, 1);
    blas_threads_end(bt);
    if (info != 0)
        return rs_seterr(e, RS_EINTERNAL, "EASE: Cholesky factorisation failed (info %d)", info);
    if (info2 != 0)
        return rs_seterr(e, RS_EINTERNAL, "EASE: inverse failed (info %d)", info2);
    /* Column-major lower triangle holds P: element (i, j), i >= j, at G[j*n + i].
     * Mirror it so G[i*n + j] = P[i][j] everywhere. */
    for (size_t j = 0; j < n; j++)
        for (size_t i = j + 1; i < n; i++)
            G[i * n + j] = G[j * n + i];
    return RS_OK;
}

/* Whether receipt q holds an item of the vocabulary. */
static int receipt_has_row(const rs_corpus *c, const rs_embedding *m, int64_t q)
{
    for (int64_t a = c->offsets[q]; a < c->offsets[q + 1]; a++)
        if (m->item_row[c->items[a]] >= 0)
            return 1;
    return 0;
}

/* The same P through the Woodbury identity, for fewer receipts than items (m < n):
 *   (λI + XᵀX)⁻¹ = (1/λ)·I − (1/λ²)·Xᵀ K⁻¹ X,   K = I + (1/λ)·X Xᵀ   (m x m)
 * so the Cholesky is m x m (m³ instead of n³ flops) and the rest is sparse:
 * A = K⁻¹ X (m x n, by blocks of columns) and Xᵀ A (n x n).  On return P is in P. */
#define EASE_BLOCK 256
static int inverse_woodbury(const rs_corpus *c, const rs_embedding *m, double lambda,
                            float *P, rs_error *e)
{
    int rc = RS_OK;
    size_t n = (size_t)m->rows;
    float *K = NULL, *A = NULL;
    int64_t *roff = NULL, *rpos = NULL;
    int32_t *rec = NULL, *qrow = NULL;
    /* receipts with items, numbered 0..nr-1 */
    qrow = malloc(((size_t)c->n_receipts + 1) * sizeof *qrow);
    roff = calloc(n + 1, sizeof *roff);
    rpos = malloc((n + 1) * sizeof *rpos);
    if (!qrow || !roff || !rpos)
        goto oom;
    int32_t nr = 0;
    for (int64_t q = 0; q < c->n_receipts; q++)
        qrow[q] = receipt_has_row(c, m, q) ? nr++ : -1;
    size_t mr = (size_t)nr;
    /* item -> receipts (CSC of X) */
    for (int64_t a = 0; a < c->offsets[c->n_receipts]; a++)
        if (m->item_row[c->items[a]] >= 0)
            roff[m->item_row[c->items[a]] + 1]++;
    for (size_t i = 0; i < n; i++)
        roff[i + 1] += roff[i];
    memcpy(rpos, roff, n * sizeof *rpos);
    rec = malloc(((size_t)roff[n] + 1) * sizeof *rec);
    K = calloc(mr * mr, sizeof *K);
    A = malloc(mr * EASE_BLOCK * sizeof *A);
    if (!rec || !K || !A)
        goto oom;
    for (int64_t q = 0; q < c->n_receipts; q++)
        for (int64_t a = c->offsets[q]; a < c->offsets[q + 1]; a++)
            if (m->item_row[c->items[a]] >= 0)
                rec[rpos[m->item_row[c->items[a]]]++] = qrow[q];
    /* K = I + X Xᵀ / λ: every item adds 1/λ to each pair of its receipts */
    float il = (float)(1.0 / lambda);
    for (size_t i = 0; i < n; i++)
        for (int64_t x = roff[i]; x < roff[i + 1]; x++) {
            float *row = K + (size_t)rec[x] * mr;
            for (int64_t y = roff[i]; y < roff[i + 1]; y++)
                row[rec[y]] += il;
        }
    for (size_t a = 0; a < mr; a++)
        K[a * mr + a] += 1.0f;
    int nn = nr, info = 0, info2 = 0;
    int bt = blas_threads_begin();
    spotrf_("L", &nn, K, &nn, &info, 1);
    if (info == 0)
        spotri_("L", &nn, K, &nn, &info2, 1);
    blas_threads_end(bt);
    if (info != 0) {
        rc = rs_seterr(e, RS_EINTERNAL, "EASE: Cholesky factorisation failed (info %d)", info);
        goto done;
    }
    if (info2 != 0) {
        rc = rs_seterr(e, RS_EINTERNAL, "EASE: inverse failed (info %d)", info2);
        goto done;
    }
    for (size_t j = 0; j < mr; j++)
        for (size_t i = j + 1; i < mr; i++)
            K[i * mr + j] = K[j * mr + i];
    /* P = Xᵀ K⁻¹ X over blocks of columns j: A[a][jj] = sum over receipts b of item
     * j of K⁻¹[a][b]; then P[i][j] = sum over receipts a of item i of A[a][jj]. */
    memset(P, 0, n * n * sizeof *P);
    for (size_t j0 = 0; j0 < n; j0 += EASE_BLOCK) {
        size_t jb = n - j0 < EASE_BLOCK ? n - j0 : EASE_BLOCK;
        memset(A, 0, mr * jb * sizeof *A);
        for (size_t jj = 0; jj < jb; jj++)
            for (int64_t y = roff[j0 + jj]; y < roff[j0 + jj + 1]; y++) {
                const float *kb = K + (size_t)rec[y] * mr; /* row b = column b */
                for (size_t a = 0; a < mr; a++)
                    A[a * jb + jj] += kb[a];
            }
        for (int64_t q = 0; q < c->n_receipts; q++) {
            if (qrow[q] < 0)
                continue;
            const float *arow = A + (size_t)qrow[q] * jb;
            for (int64_t x = c->offsets[q]; x < c->offsets[q + 1]; x++) {
                if (m->item_row[c->items[x]] < 0)
                    continue;
                float *prow = P + (size_t)m->item_row[c->items[x]] * n + j0;
                for (size_t jj = 0; jj < jb; jj++)
                    prow[jj] += arow[jj];
            }
        }
    }
    float il2 = (float)(1.0 / (lambda * lambda));
    for (size_t i = 0; i < n; i++) {
        float *prow = P + i * n;
        for (size_t j = 0; j < n; j++)
            prow[j] *= -il2;
        prow[i] += il;
    }
    goto done;
oom:
    rc = rs_seterr(e, RS_EINTERNAL, "EASE: out of memory");
done:
    free(K);
    free(A);
    free(roff);
    free(rpos);
    free(rec);
    free(qrow);
    return rc;
}

int rs_ease_fit_path(const rs_corpus *c, double lambda, int64_t min_count, int32_t max_items,
                     rs_ease_path path, rs_embedding **out, rs_error *e)
{
    int rc = RS_EINTERNAL;
    rs_embedding *m = NULL;
    float *dg = NULL;
    int64_t *cnt = NULL;
    *out = NULL;
    if (!(lambda > 0.0) || !isfinite(lambda))
        return rs_seterr(e, RS_EUSAGE, "ease_lambda must be positive (got %g)", lambda);
    if (min_count < 1)
        return rs_seterr(e, RS_EUSAGE, "EASE: min count must be at least 1 (got %" PRId64 ")",
                         min_count);
    if (max_items <= 0)
        max_items = RS_EASE_MAX_ITEMS;
    cnt = calloc((size_t)c->n_items + 1, sizeof *cnt);
    if (!cnt)
        goto oom;
    rs_corpus_item_counts(c, cnt);
    if ((rc = rs_embedding_vocab(c->n_items, cnt, min_count, RS_VOCAB_BY_INDEX, 0, &m, e)))
        goto done;
    int32_t rows = m->rows;
    m->dim = rows;
    if (rows == 0) {
        rc = rs_seterr(e, RS_EDATA, "EASE: no item with at least %" PRId64 " receipts to fit on",
                       min_count);
        goto done;
    }
    if (rows > max_items) {
        rc = rs_seterr(e, RS_EUSAGE,
                       "EASE: %d items exceed the cap of %d (rows^2 floats in memory)",
                       (int)rows, (int)max_items);
        goto done;
    }
    if ((rc = rs_embedding_alloc(m, 0, e)))
        goto done;
    dg = malloc((size_t)rows * sizeof *dg);
    if (!dg)
        goto oom;
    /* receipts with a vocabulary item: the side of the Woodbury inverse */
    int64_t nrec = 0;
    for (int64_t q = 0; q < c->n_receipts; q++)
        nrec += receipt_has_row(c, m, q);
    if (path == RS_EASE_AUTO)
        path = nrec < rows ? RS_EASE_WOODBURY : RS_EASE_DIRECT;
    if (path == RS_EASE_WOODBURY && nrec > (int64_t)RS_EASE_MAX_ITEMS * 4) {
        rc = rs_seterr(e, RS_EUSAGE, "EASE: %" PRId64 " receipts are too many for the "
                                     "receipt-side (Woodbury) inverse", nrec);
        goto done;
    }
    size_t n = (size_t)rows;
    float *G = m->in;
    rc = path == RS_EASE_WOODBURY ? inverse_woodbury(c, m, lambda, G, e)
                                  : inverse_direct(c, m, lambda, G, e);
    if (rc)
        goto done;
    for (size_t j = 0; j < n; j++)
        dg[j] = G[j * n + j];
    for (size_t i = 0; i < n; i++) {
        float *row = G + i * n;
        for (size_t j = 0; j < n; j++)
            row[j] = -row[j] / dg[j];
        row[i] = 0.0f;
    }
    *out = m;
    m = NULL;
    rc = RS_OK;
    goto done;
oom:
    rc = rs_seterr(e, RS_EINTERNAL, "EASE: out of memory");
done:
    rs_embedding_free(m);
    free(dg);
    free(cnt);
    return rc;
}

int rs_ease_fit(const rs_corpus *c, double lambda, int32_t max_items, rs_embedding **out,
                rs_error *e)
{
    return rs_ease_fit_path(c, lambda, RS_EASE_DEFAULT_MIN_COUNT, max_items, RS_EASE_AUTO, out,
                            e);
}

int rs_ease_score(const rs_embedding *m, const int32_t *ctx, int n, float *scores)
{
    return rs_ease_score_weighted(m, ctx, NULL, n, scores);
}

int rs_ease_score_weighted(const rs_embedding *m, const int32_t *ctx, const float *w, int n,
                           float *scores)
{
    size_t rows = (size_t)m->rows;
    int known = 0;
    /* Items outside the vocabulary stay -INFINITY; the context rows of B are summed
     * straight into the item positions. */
    for (int32_t i = 0; i < m->n_items; i++)
        scores[i] = -INFINITY;
    for (int t = 0; t < n; t++) {
        int32_t q = ctx[t];
        if (q < 0 || q >= m->n_items || m->item_row[q] < 0)
            continue;
        const float *b = m->in + (size_t)m->item_row[q] * rows;
        float x = w ? w[t] : 1.0f;
        if (known == 0)
            for (size_t r = 0; r < rows; r++)
                scores[m->row_item[r]] = w ? x * b[r] : b[r];
        else
            for (size_t r = 0; r < rows; r++)
                scores[m->row_item[r]] += w ? x * b[r] : b[r];
        known++;
    }
    /* No context item in the vocabulary (with an item min count, a basket of rare
     * items): rank the vocabulary by popularity, on a scale far below real B sums. */
    if (known == 0)
        for (size_t r = 0; r < rows; r++)
            scores[m->row_item[r]] =
                m->counts ? 1e-3f * (float)log1p((double)m->counts[r]) : 0.0f;
    return known;
}

/* ---- the kind "ease" (kinds.h) ---------------------------------------------------- */

static void ease_defaults(void *p)
{
    rs_ease_params *q = p;
    q->lambda = RS_EASE_DEFAULT_LAMBDA;
}

static const rs_param_def EASE_DEFS[] = {
    {"ease_lambda", RS_PARAM_REAL, 1e-12, 1e12, offsetof(rs_ease_params, lambda)},
};

const rs_param_group RS_EASE_PARAMS = {
    "ease", EASE_DEFS, 1, sizeof(rs_ease_params), ease_defaults, -1,
};

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

int rs_ease_auto_min_count(const rs_corpus *c, int32_t max_items, int64_t *min_count,
                           rs_error *e)
{
    int64_t *cnt = calloc((size_t)c->n_items + 1, sizeof *cnt);
    *min_count = 1;
    if (!cnt)
        return rs_seterr(e, RS_EINTERNAL, "EASE: out of memory");
    rs_corpus_item_counts(c, cnt);
    int32_t seen = 0;
    for (int32_t i = 0; i < c->n_items; i++)
        if (cnt[i] > 0)
            cnt[seen++] = cnt[i];
    if (max_items > 0 && seen > max_items) {
        qsort(cnt, (size_t)seen, sizeof *cnt, cmp_desc);
        /* the (max_items+1)-th most frequent item is left out, and all its equals */
        *min_count = cnt[max_items] + 1;
    }
    free(cnt);
    return RS_OK;
}

int rs_ease_fit_kind(const rs_corpus *c, const void *params, const rs_fit_opts *o,
                     rs_embedding **out, rs_error *e)
{
    const rs_ease_params *p = params;
    int32_t cap = o->max_items > 0 ? o->max_items : RS_EASE_DEFAULT_ITEMS;
    int64_t min_count = 1;
    int rc = rs_ease_auto_min_count(c, cap, &min_count, e);
    if (rc)
        return rc;
    return rs_ease_fit_path(c, p->lambda, min_count, cap, RS_EASE_AUTO, out, e);
}

/* ---- the kind "category-ease" (kinds.h): EASE on category baskets ------------------- */

static void category_ease_defaults(void *p)
{
    rs_category_ease_params *q = p;
    q->lambda = RS_EASE_DEFAULT_LAMBDA;
}

static const rs_param_def CATEGORY_EASE_DEFS[] = {
    {"category_ease_lambda", RS_PARAM_REAL, 1e-12, 1e12,
     offsetof(rs_category_ease_params, lambda)},
};

const rs_param_group RS_CATEGORY_EASE_PARAMS = {
    "category_ease", CATEGORY_EASE_DEFS, 1, sizeof(rs_category_ease_params),
    category_ease_defaults, -1,
};

int rs_category_ease_fit_kind(const rs_corpus *c, const void *params, const rs_fit_opts *o,
                              rs_embedding **out, rs_error *e)
{
    (void)o; /* a category vocabulary is small: every category with a receipt */
    const rs_category_ease_params *p = params;
    return rs_ease_fit_path(c, p->lambda, 1, RS_EASE_MAX_ITEMS, RS_EASE_AUTO, out, e);
}

void rs_ease_parts(const rs_embedding *m, const void *params, rs_completion_parts *parts)
{
    (void)params;
    parts->ease = m;
}
