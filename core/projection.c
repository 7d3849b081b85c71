/* projection.c - PCA and the neighbourhood-preserving layout of a model's input
 * vectors (see projection.h; the cache file is projection_cache.c, whose PROJ_VERSION
 * must be raised when anything here changes the coordinates). */
#include "projection.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "lapack.h"
#include "rng.h"
#include "topheap.h"

#define BLOCK 256 /* query rows per sgemm block of the neighbour search */
#define PLACE_K 5 /* sample rows a placed row is averaged over */
#define REFINE_EPOCHS 100 /* epochs over every row after the placement */

/* UMAP's curve 1 / (1 + a d^2b) for spread 1, min_dist 0.1 */
#define UMAP_A 1.577f
#define UMAP_B 0.8951f
#define NEGATIVES 5
#define GRAD_CLIP 4.0f

const char *rs_proj_method_name(rs_proj_method m)
{
    return m == RS_PROJ_PCA ? "pca" : m == RS_PROJ_LAYOUT ? "layout" : "?";
}

void rs_proj_free(rs_proj *p)
{
    if (!p)
        return;
    free(p->xy);
    free(p);
}

rs_proj *rs_proj_new(int32_t rows)
{
    rs_proj *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->rows = rows;
    p->xy = calloc(2 * (size_t)(rows > 0 ? rows : 1), sizeof *p->xy);
    if (!p->xy) {
        free(p);
        return NULL;
    }
    return p;
}

void rs_layout_opts_defaults(rs_layout_opts *o)
{
    memset(o, 0, sizeof *o);
    o->neighbours = 15;
    o->sample = 5000;
    o->seed = 1;
}

/* ------------------------------------------------------------------ PCA ---- */

/* The two leading eigenvectors (axes[0..d), axes[d..2d)) of the covariance of the
 * centred rows x (n x d, centred in place), with their shares of the variance.
 *
 * The covariance is summed in double by plain loops and its eigenvectors come from
 * LAPACK's dsyev in double: BLAS and LAPACK round differently with their thread count
 * and CPU kernel, and a map must be the same picture for the same model anywhere
 * (the layout started from it amplifies any difference); in double, what differs is
 * far below the float the axes are used in. */
static int pca_axes(float *x, int32_t n, int d, double *axes, float var[2], rs_error *e)
{
    int rc = RS_OK;
    double *mean = calloc((size_t)d, sizeof *mean);
    double *cov = calloc((size_t)d * d, sizeof *cov);
    double *w = calloc((size_t)d, sizeof *w);
    double *work = NULL;
    if (!mean || !cov || !w) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory (PCA)");
        goto done;
    }
    for (int32_t r = 0; r < n; r++)
        for (int j = 0; j < d; j++)
            mean[j] += x[(size_t)r * d + j];
    for (int j = 0; j < d; j++)
        mean[j] /= n;
    for (int32_t r = 0; r < n; r++)
        for (int j = 0; j < d; j++)
            x[(size_t)r * d + j] = (float)(x[(size_t)r * d + j] - mean[j]);
    for (int32_t r = 0; r < n; r++) {
        const float *v = x + (size_t)r * d;
        for (int i = 0; i < d; i++) {
            double vi = v[i], *ci = cov + (size_t)i * d;
            for (int j = i; j < d; j++)
                ci[j] += vi * v[j];
        }
    }
    for (int i = 0; i < d; i++)
        for (int j = i; j < d; j++) {
            cov[(size_t)i * d + j] /= n;
            cov[(size_t)j * d + i] = cov[(size_t)i * d + j];
        }
    int info = 0, lwork = -1, dd = d;
    double wq = 0;
    dsyev_("V", "L", &dd, cov, &dd, w, &wq, &lwork, &info, 1, 1);
    lwork = info == 0 && wq >= 1 ? (int)wq : 3 * d;
    if (!(work = malloc((size_t)lwork * sizeof *work))) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory (PCA)");
        goto done;
    }
    dsyev_("V", "L", &dd, cov, &dd, w, work, &lwork, &info, 1, 1);
    if (info != 0) {
        rc = rs_seterr(e, RS_EINTERNAL, "PCA: the eigenvalue solver failed (dsyev info %d)",
                       info);
        goto done;
    }
    double total = 0;
    for (int j = 0; j < d; j++)
        total += w[j] > 0 ? w[j] : 0;
    for (int k = 0; k < 2; k++) {
        /* eigenvalues ascend: the leading ones are last; vectors are columns */
        const double *v = cov + (size_t)(d - 1 - k) * d;
        int big = 0;
        for (int j = 1; j < d; j++)
            if (fabs(v[j]) > fabs(v[big]) + 1e-12)
                big = j;
        double sign = v[big] < 0 ? -1.0 : 1.0; /* one picture per model */
        for (int j = 0; j < d; j++)
            axes[k * d + j] = sign * v[j];
        double ev = w[d - 1 - k];
        var[k] = total > 0 && ev > 0 ? (float)(ev / total) : 0.0f;
    }
done:
    free(mean);
    free(cov);
    free(w);
    free(work);
    return rc;
}

/* xy = x . axes' for n centred rows. */
static void project2(const float *x, int32_t n, int d, const double *axes, float *xy)
{
    for (int32_t r = 0; r < n; r++) {
        const float *v = x + (size_t)r * d;
        double a = 0, b = 0;
        for (int j = 0; j < d; j++) {
            a += v[j] * axes[j];
            b += v[j] * axes[d + j];
        }
        xy[2 * r] = (float)a;
        xy[2 * r + 1] = (float)b;
    }
}

int rs_proj_pca(const rs_embedding *m, rs_proj **out, float var[2], rs_error *e)
{
    *out = NULL;
    if (m->rows < 2 || m->dim < 2)
        return rs_seterr(e, RS_EUSAGE, "a map needs a model of at least 2 rows and 2 "
                         "dimensions (this one: %d rows, %d dimensions)", m->rows, m->dim);
    float v2[2] = {0, 0};
    float *x = rs_eval_unit_rows(m);
    double *axes = malloc(2 * (size_t)m->dim * sizeof *axes);
    rs_proj *p = rs_proj_new(m->rows);
    int rc = RS_OK;
    if (!x || !axes || !p) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory (PCA of %d rows)", m->rows);
        goto done;
    }
    if ((rc = pca_axes(x, m->rows, m->dim, axes, v2, e)) != RS_OK)
        goto done;
    project2(x, m->rows, m->dim, axes, p->xy);
    if (var) {
        var[0] = v2[0];
        var[1] = v2[1];
    }
    *out = p;
    p = NULL;
done:
    free(x);
    free(axes);
    rs_proj_free(p);
    return rc;
}

/* --------------------------------------------------------------- layout ---- */

static int cancelled(const rs_layout_opts *o)
{
    return o->cancel && atomic_load(o->cancel);
}

static void progress(const rs_layout_opts *o, int permille)
{
    if (o->progress)
        atomic_store(o->progress, permille);
}

/* Exact similarity in double: the neighbours must not depend on how BLAS rounds. */
static double dot_exact(const float *a, const float *b, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++)
        s += (double)a[j] * b[j];
    return s;
}

/* For each of the nq rows of q (nq x d), the k most similar rows of s (ns x d) by dot
 * product: nbr[i k + j] (most similar first, ties by the lower row) and their cosine
 * distances 1 - sim.  With self, q is s and a row is never its own neighbour.
 * sgemm proposes k + CAND_EXTRA candidates, their similarities are recomputed exactly
 * and the best k kept: the result does not depend on BLAS's rounding (thread count,
 * CPU kernel) unless candidates tie within it.  Progress goes from p0 to p1. */
#define CAND_EXTRA 8
static int nearest(const float *q, int32_t nq, const float *s, int32_t ns, int d, int k,
                   int self, int32_t *nbr, float *dist, const rs_layout_opts *o, int p0,
                   int p1, rs_error *e)
{
    int kc = k + CAND_EXTRA;
    float *sim = malloc((size_t)BLOCK * (size_t)ns * sizeof *sim);
    int32_t *ci = malloc((size_t)kc * sizeof *ci);
    float *cs = malloc((size_t)kc * sizeof *cs);
    double *ex = malloc((size_t)kc * sizeof *ex);
    if (!sim || !ci || !cs || !ex) {
        free(sim);
        free(ci);
        free(cs);
        free(ex);
        return rs_seterr(e, RS_EINTERNAL, "out of memory (neighbours of %d rows)", nq);
    }
    int rc = RS_OK;
    for (int32_t b0 = 0; b0 < nq && rc == RS_OK; b0 += BLOCK) {
        if (cancelled(o)) {
            rc = rs_seterr(e, RS_EUSAGE, "cancelled");
            break;
        }
        int bn = nq - b0 < BLOCK ? nq - b0 : BLOCK;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, bn, ns, d, 1.0f,
                    q + (size_t)b0 * d, d, s, d, 0.0f, sim, ns);
        for (int i = 0; i < bn; i++) {
            const float *qi = q + (size_t)(b0 + i) * d;
            rs_topheap t = {.idx = ci, .sc = cs, .n = 0, .k = kc};
            const float *row = sim + (size_t)i * ns;
            for (int32_t j = 0; j < ns; j++)
                if (!self || j != b0 + i)
                    rs_topheap_push(&t, row[j], j);
            /* exact similarities, then insertion by (similarity desc, row asc) */
            for (int c = 0; c < t.n; c++)
                ex[c] = dot_exact(qi, s + (size_t)ci[c] * d, d);
            for (int a = 1; a < t.n; a++) {
                double v = ex[a];
                int32_t id = ci[a];
                int b = a - 1;
                while (b >= 0 && (ex[b] < v || (ex[b] == v && ci[b] > id))) {
                    ex[b + 1] = ex[b];
                    ci[b + 1] = ci[b];
                    b--;
                }
                ex[b + 1] = v;
                ci[b + 1] = id;
            }
            int32_t *ni = nbr + (size_t)(b0 + i) * k;
            float *di = dist + (size_t)(b0 + i) * k;
            for (int j = 0; j < k; j++) {
                int c = j < t.n ? j : t.n - 1; /* fewer candidates than k: repeat the last */
                ni[j] = c >= 0 ? ci[c] : 0;
                double sj = c >= 0 ? ex[c] : 1.0;
                di[j] = sj < 1.0 ? (float)(1.0 - sj) : 0.0f; /* similarity -> distance */
            }
        }
        progress(o, p0 + (int)((int64_t)(p1 - p0) * (b0 + bn) / nq));
    }
    free(sim);
    free(ci);
    free(cs);
    free(ex);
    return rc;
}

/* One undirected edge of the neighbour graph. */
typedef struct edge {
    int32_t a, b;
    float w;
} edge;

static int cmp_edge(const void *x, const void *y)
{
    const edge *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

/* The fuzzy memberships of each row's k neighbours (rho = the nearest distance,
 * sigma so that the memberships sum to log2 k), symmetrised as a + b - ab into
 * undirected edges.  *edges is malloc-ed. */
static int fuzzy_graph(int32_t n, int k, const int32_t *nbr, const float *dist, edge **edges,
                       int64_t *n_edges, rs_error *e)
{
    edge *v = malloc((size_t)n * (size_t)k * sizeof *v + 1);
    if (!v)
        return rs_seterr(e, RS_EINTERNAL, "out of memory (neighbour graph)");
    double target = log2((double)k);
    int64_t m = 0;
    for (int32_t i = 0; i < n; i++) {
        const float *di = dist + (size_t)i * k;
        float rho = di[0];
        for (int j = 0; j < k; j++)
            if (di[j] > 0) {
                rho = di[j];
                break;
            }
        double lo = 0, hi = INFINITY, sigma = 1;
        for (int it = 0; it < 64; it++) {
            double sum = 0;
            for (int j = 0; j < k; j++) {
                double dd = di[j] - rho;
                sum += dd > 0 ? exp(-dd / sigma) : 1.0;
            }
            if (fabs(sum - target) < 1e-5)
                break;
            if (sum > target) {
                hi = sigma;
                sigma = (lo + hi) / 2;
            } else {
                lo = sigma;
                sigma = isinf(hi) ? sigma * 2 : (lo + hi) / 2;
            }
        }
        if (sigma < 1e-3 * (rho > 0 ? rho : 1e-3))
            sigma = 1e-3 * (rho > 0 ? rho : 1e-3);
        for (int j = 0; j < k; j++) {
            int32_t t = nbr[(size_t)i * k + j];
            if (t == i)
                continue;
            double dd = di[j] - rho;
            float w = (float)(dd > 0 ? exp(-dd / sigma) : 1.0);
            v[m++] = (edge){i < t ? i : t, i < t ? t : i, w};
        }
    }
    qsort(v, (size_t)m, sizeof *v, cmp_edge);
    int64_t o = 0;
    for (int64_t i = 0; i < m; i++) {
        if (o > 0 && v[o - 1].a == v[i].a && v[o - 1].b == v[i].b) {
            float a = v[o - 1].w, b = v[i].w; /* both directions: the fuzzy union */
            v[o - 1].w = a + b - a * b;
        } else {
            v[o++] = v[i];
        }
    }
    *edges = v;
    *n_edges = o;
    return RS_OK;
}

static inline float clip(float g)
{
    return g > GRAD_CLIP ? GRAD_CLIP : (g < -GRAD_CLIP ? -GRAD_CLIP : g);
}

/* Stochastic gradient descent of the layout y (n x 2) on the edges, UMAP's schedule:
 * an edge of weight w is sampled every w_max / w epochs, with NEGATIVES random rows
 * pushed away each time. */
static int optimise(float *y, int32_t n, const edge *ed, int64_t ne, int epochs,
                    const rs_layout_opts *o, int p0, int p1, rs_error *e)
{
    float wmax = 0;
    for (int64_t j = 0; j < ne; j++)
        if (ed[j].w > wmax)
            wmax = ed[j].w;
    float *every = malloc((size_t)ne * sizeof *every + 1);
    float *next = malloc((size_t)ne * sizeof *next + 1);
    float *next_neg = malloc((size_t)ne * sizeof *next_neg + 1);
    if (!every || !next || !next_neg) {
        free(every);
        free(next);
        free(next_neg);
        return rs_seterr(e, RS_EINTERNAL, "out of memory (layout)");
    }
    for (int64_t j = 0; j < ne; j++) {
        every[j] = ed[j].w > 0 ? wmax / ed[j].w : INFINITY;
        next[j] = every[j];
        next_neg[j] = every[j] / NEGATIVES;
    }
    rs_rng rng;
    rs_rng_seed(&rng, o->seed, 0x6c61796f7574ULL /* "layout" */, (uint64_t)n);
    const float a = UMAP_A, b = UMAP_B;
    int rc = RS_OK;
    for (int ep = 0; ep < epochs; ep++) {
        if (cancelled(o)) {
            rc = rs_seterr(e, RS_EUSAGE, "cancelled");
            break;
        }
        float alpha = 1.0f - (float)ep / (float)epochs;
        for (int64_t j = 0; j < ne; j++) {
            if (next[j] > (float)ep + 1)
                continue;
            float *yi = y + 2 * (size_t)ed[j].a, *yk = y + 2 * (size_t)ed[j].b;
            float dx = yi[0] - yk[0], dy = yi[1] - yk[1];
            float d2 = dx * dx + dy * dy;
            if (d2 > 0) {
                float g = -2.0f * a * b * powf(d2, b - 1.0f) / (a * powf(d2, b) + 1.0f);
                float gx = clip(g * dx) * alpha, gy = clip(g * dy) * alpha;
                yi[0] += gx;
                yi[1] += gy;
                yk[0] -= gx;
                yk[1] -= gy;
            }
            next[j] += every[j];
            int negs = (int)(((float)ep + 1 - next_neg[j]) / (every[j] / NEGATIVES));
            for (int q = 0; q < negs; q++) {
                int32_t t = (int32_t)rs_rng_plus_below(&rng, (uint32_t)n);
                if (t == ed[j].a)
                    continue;
                float *yt = y + 2 * (size_t)t;
                float ex = yi[0] - yt[0], ey = yi[1] - yt[1];
                float e2 = ex * ex + ey * ey;
                float gx, gy;
                if (e2 > 0) {
                    float g = 2.0f * b / ((0.001f + e2) * (a * powf(e2, b) + 1.0f));
                    gx = clip(g * ex);
                    gy = clip(g * ey);
                } else {
                    gx = gy = GRAD_CLIP;
                }
                yi[0] += gx * alpha;
                yi[1] += gy * alpha;
            }
            if (negs > 0)
                next_neg[j] += (float)negs * (every[j] / NEGATIVES);
        }
        if ((ep & 7) == 7)
            progress(o, p0 + (int)((int64_t)(p1 - p0) * (ep + 1) / epochs));
    }
    free(every);
    free(next);
    free(next_neg);
    return rc;
}

/* The rows fitted directly: all of them, or a seeded sample of o->sample rows (sorted,
 * so the fit reads the rows in model order). */
static int32_t *choose_sample(int32_t rows, const rs_layout_opts *o, int32_t *ns)
{
    int32_t n = o->sample > 0 && o->sample < rows ? o->sample : rows;
    int32_t *idx = malloc((size_t)rows * sizeof *idx);
    if (!idx)
        return NULL;
    for (int32_t i = 0; i < rows; i++)
        idx[i] = i;
    if (n < rows) { /* partial Fisher-Yates */
        rs_rng rng;
        rs_rng_seed(&rng, o->seed, 0x73616d706c65ULL /* "sample" */, (uint64_t)rows);
        for (int32_t i = 0; i < n; i++) {
            int32_t j = i + (int32_t)rs_rng_starstar_below(&rng, (uint64_t)(rows - i));
            int32_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        /* sort the chosen ones (counting sort through a mark) */
        uint8_t *mark = calloc((size_t)rows, 1);
        if (!mark) {
            free(idx);
            return NULL;
        }
        for (int32_t i = 0; i < n; i++)
            mark[idx[i]] = 1;
        int32_t m = 0;
        for (int32_t i = 0; i < rows; i++)
            if (mark[i])
                idx[m++] = i;
        free(mark);
    }
    *ns = n;
    return idx;
}

/* Initial coordinates of the fitted rows: the PCA scaled into [-10, 10]. */
static void init_from_pca(const rs_proj *pca, const int32_t *sample, int32_t ns, float *y)
{
    float mx = 0;
    for (int32_t i = 0; i < ns; i++)
        for (int c = 0; c < 2; c++) {
            float v = fabsf(pca->xy[2 * (size_t)sample[i] + c]);
            if (v > mx)
                mx = v;
        }
    float s = mx > 0 ? 10.0f / mx : 1.0f;
    for (int32_t i = 0; i < ns; i++)
        for (int c = 0; c < 2; c++)
            y[2 * (size_t)i + c] = pca->xy[2 * (size_t)sample[i] + c] * s;
}

/* Every row not fitted: the similarity-weighted mean of its PLACE_K nearest sample
 * rows (ns >= PLACE_K), which become its anchors (anchor[r PLACE_K ..], sample
 * indices, nearest first; a sample row's anchors are filled by the caller). */
static int place_rest(const float *x, int32_t rows, int d, const int32_t *sample, int32_t ns,
                      const float *sx, const float *ys, float *xy, int32_t *anchor,
                      const rs_layout_opts *o, rs_error *e)
{
    int32_t nr = rows - ns;
    int k = PLACE_K;
    float *q = malloc(((size_t)nr * d + 1) * sizeof *q);
    int32_t *who = malloc(((size_t)nr + 1) * sizeof *who);
    int32_t *nbr = malloc(((size_t)nr * k + 1) * sizeof *nbr);
    float *dist = malloc(((size_t)nr * k + 1) * sizeof *dist);
    uint8_t *in = calloc((size_t)rows, 1);
    int rc = RS_OK;
    if (!q || !who || !nbr || !dist || !in) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory (placing %d rows)", nr);
        goto done;
    }
    for (int32_t i = 0; i < ns; i++) {
        in[sample[i]] = 1;
        xy[2 * (size_t)sample[i]] = ys[2 * (size_t)i];
        xy[2 * (size_t)sample[i] + 1] = ys[2 * (size_t)i + 1];
    }
    int32_t m = 0;
    for (int32_t r = 0; r < rows; r++)
        if (!in[r]) {
            memcpy(q + (size_t)m * d, x + (size_t)r * d, (size_t)d * sizeof *q);
            who[m++] = r;
        }
    if ((rc = nearest(q, nr, sx, ns, d, k, 0, nbr, dist, o, 450, 600, e)) != RS_OK)
        goto done;
    for (int32_t i = 0; i < nr; i++) {
        memcpy(anchor + (size_t)who[i] * PLACE_K, nbr + (size_t)i * k, PLACE_K * sizeof *anchor);
        const float *di = dist + (size_t)i * k;
        double spread = 0;
        for (int j = 0; j < k; j++)
            spread += di[j] - di[0];
        spread = spread / k + 1e-6;
        double sw = 0, px = 0, py = 0;
        for (int j = 0; j < k; j++) {
            double w = exp(-(di[j] - di[0]) / spread);
            int32_t t = nbr[(size_t)i * k + j];
            px += w * ys[2 * (size_t)t];
            py += w * ys[2 * (size_t)t + 1];
            sw += w;
        }
        xy[2 * (size_t)who[i]] = (float)(px / sw);
        xy[2 * (size_t)who[i] + 1] = (float)(py / sw);
    }
done:
    free(q);
    free(who);
    free(nbr);
    free(dist);
    free(in);
    return rc;
}

/* The neighbour graph of every row, approximately: a row's candidates are the rows
 * whose nearest anchor is one of its own anchors (at most BUCKET_CAP from each), and
 * the best k of them by exact similarity are kept (ties by the lower row). */
#define BUCKET_CAP 200
static int candidate_graph(const float *x, int32_t rows, int d, int k, int32_t ns,
                           const int32_t *anchor, int32_t *nbr, float *dist,
                           const rs_layout_opts *o, rs_error *e)
{
    int64_t *off = calloc((size_t)ns + 1, sizeof *off);
    int32_t *members = malloc(((size_t)rows + 1) * sizeof *members);
    int32_t *stamp = malloc(((size_t)rows + 1) * sizeof *stamp);
    int32_t *ci = malloc((size_t)k * sizeof *ci);
    double *cs = malloc((size_t)k * sizeof *cs);
    if (!off || !members || !stamp || !ci || !cs) {
        free(off);
        free(members);
        free(stamp);
        free(ci);
        free(cs);
        return rs_seterr(e, RS_EINTERNAL, "out of memory (neighbours of %d rows)", rows);
    }
    for (int32_t r = 0; r < rows; r++) {
        off[anchor[(size_t)r * PLACE_K] + 1]++;
        stamp[r] = -1;
    }
    for (int32_t a = 0; a < ns; a++)
        off[a + 1] += off[a];
    for (int32_t r = 0; r < rows; r++) /* in row order inside each bucket */
        members[off[anchor[(size_t)r * PLACE_K]]++] = r;
    for (int32_t a = ns; a > 0; a--)
        off[a] = off[a - 1];
    off[0] = 0;
    int rc = RS_OK;
    for (int32_t i = 0; i < rows && rc == RS_OK; i++) {
        if ((i & 1023) == 0 && cancelled(o)) {
            rc = rs_seterr(e, RS_EUSAGE, "cancelled");
            break;
        }
        const float *xi = x + (size_t)i * d;
        int n = 0;
        stamp[i] = i;
        for (int t = 0; t < PLACE_K; t++) {
            int32_t a = anchor[(size_t)i * PLACE_K + t];
            int64_t end = off[a + 1] - off[a] > BUCKET_CAP ? off[a] + BUCKET_CAP : off[a + 1];
            for (int64_t j = off[a]; j < end; j++) {
                int32_t c = members[j];
                if (stamp[c] == i)
                    continue;
                stamp[c] = i;
                double sc = dot_exact(xi, x + (size_t)c * d, d);
                /* insertion into the best k by (similarity desc, row asc) */
                if (n == k && (sc < cs[k - 1] || (sc == cs[k - 1] && c > ci[k - 1])))
                    continue;
                int pos = n < k ? n++ : k - 1;
                while (pos > 0 && (cs[pos - 1] < sc || (cs[pos - 1] == sc && ci[pos - 1] > c))) {
                    cs[pos] = cs[pos - 1];
                    ci[pos] = ci[pos - 1];
                    pos--;
                }
                cs[pos] = sc;
                ci[pos] = c;
            }
        }
        for (int j = 0; j < k; j++) {
            int c = j < n ? j : n - 1;
            nbr[(size_t)i * k + j] = c >= 0 ? ci[c] : i;
            double sj = c >= 0 ? cs[c] : 1.0;
            dist[(size_t)i * k + j] = sj < 1.0 ? (float)(1.0 - sj) : 0.0f;
        }
    }
    free(off);
    free(members);
    free(stamp);
    free(ci);
    free(cs);
    return rc;
}

/* After the placement: the neighbour graph of every row (candidate_graph) and more
 * epochs of the descent over all of them, from the placed coordinates, so that rows
 * outside the sample find their own neighbours instead of sitting on their anchors'. */
static int refine_all(const float *x, int32_t rows, int d, int k, int32_t ns,
                      const int32_t *anchor, float *xy, const rs_layout_opts *o, rs_error *e)
{
    int32_t *nbr = malloc(((size_t)rows * k + 1) * sizeof *nbr);
    float *dist = malloc(((size_t)rows * k + 1) * sizeof *dist);
    edge *ed = NULL;
    int64_t ne = 0;
    int rc = RS_OK;
    if (!nbr || !dist)
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory (neighbours of %d rows)", rows);
    if (rc == RS_OK)
        rc = candidate_graph(x, rows, d, k, ns, anchor, nbr, dist, o, e);
    progress(o, 700);
    if (rc == RS_OK)
        rc = fuzzy_graph(rows, k, nbr, dist, &ed, &ne, e);
    free(nbr);
    free(dist);
    if (rc == RS_OK)
        rc = optimise(xy, rows, ed, ne, REFINE_EPOCHS, o, 700, 1000, e);
    free(ed);
    return rc;
}

int rs_proj_layout(const rs_embedding *m, const rs_layout_opts *opts, const rs_proj *init,
                   rs_proj **out, rs_error *e)
{
    rs_layout_opts o;
    if (opts)
        o = *opts;
    else
        rs_layout_opts_defaults(&o);
    *out = NULL;
    if (m->rows < 2 || m->dim < 2)
        return rs_seterr(e, RS_EUSAGE, "a map needs a model of at least 2 rows and 2 "
                         "dimensions (this one: %d rows, %d dimensions)", m->rows, m->dim);
    if (o.sample > 0 && o.sample < 16)
        o.sample = 16; /* a placed row needs PLACE_K anchors */
    int d = m->dim, rc = RS_OK;
    int32_t ns = 0;
    rs_proj *pca = NULL, *p = NULL;
    float *x = NULL, *sx = NULL, *ys = NULL, *dist = NULL;
    int32_t *sample = NULL, *nbr = NULL, *anchor = NULL;
    edge *ed = NULL;
    int64_t ne = 0;
    progress(&o, 0);
    if (!init) {
        if ((rc = rs_proj_pca(m, &pca, NULL, e)) != RS_OK)
            return rc;
        init = pca;
    }
    x = rs_eval_unit_rows(m);
    sample = choose_sample(m->rows, &o, &ns);
    if (!x || !sample)
        goto oom;
    int k = o.neighbours < ns - 1 ? o.neighbours : ns - 1;
    if (k < 1)
        k = 1;
    sx = malloc(((size_t)ns * d + 1) * sizeof *sx);
    ys = malloc(((size_t)ns * 2 + 1) * sizeof *ys);
    nbr = malloc(((size_t)ns * k + 1) * sizeof *nbr);
    dist = malloc(((size_t)ns * k + 1) * sizeof *dist);
    p = rs_proj_new(m->rows);
    if (!sx || !ys || !nbr || !dist || !p)
        goto oom;
    for (int32_t i = 0; i < ns; i++)
        memcpy(sx + (size_t)i * d, x + (size_t)sample[i] * d, (size_t)d * sizeof *sx);
    int part = ns < m->rows; /* fitted on a sample: the rest placed, then refined */
    if ((rc = nearest(sx, ns, sx, ns, d, k, 1, nbr, dist, &o, 0, part ? 150 : 250, e)) !=
            RS_OK ||
        (rc = fuzzy_graph(ns, k, nbr, dist, &ed, &ne, e)) != RS_OK)
        goto done;
    init_from_pca(init, sample, ns, ys);
    int epochs = o.epochs > 0 ? o.epochs : (ns <= 2000 ? 500 : 200);
    if ((rc = optimise(ys, ns, ed, ne, epochs, &o, part ? 150 : 250, part ? 450 : 1000, e)) !=
        RS_OK)
        goto done;
    if (part) {
        if (!(anchor = malloc((size_t)m->rows * PLACE_K * sizeof *anchor)))
            goto oom;
        for (int32_t i = 0; i < ns; i++) { /* a sample row: itself, then its neighbours */
            int32_t *an = anchor + (size_t)sample[i] * PLACE_K;
            an[0] = i;
            for (int t = 1; t < PLACE_K; t++)
                an[t] = nbr[(size_t)i * k + (t - 1 < k ? t - 1 : k - 1)];
        }
        if ((rc = place_rest(x, m->rows, d, sample, ns, sx, ys, p->xy, anchor, &o, e)) !=
                RS_OK ||
            (rc = refine_all(x, m->rows, d, o.neighbours < m->rows - 1 ? o.neighbours
                             : m->rows - 1, ns, anchor, p->xy, &o, e)) != RS_OK)
            goto done;
    } else {
        memcpy(p->xy, ys, 2 * (size_t)ns * sizeof *ys);
    }
    for (int64_t i = 0; i < 2 * (int64_t)m->rows; i++)
        if (!isfinite(p->xy[i])) {
            rc = rs_seterr(e, RS_EINTERNAL, "layout: a coordinate is not finite (row %lld)",
                           (long long)(i / 2));
            goto done;
        }
    progress(&o, 1000);
    *out = p;
    p = NULL;
    goto done;
oom:
    rc = rs_seterr(e, RS_EINTERNAL, "out of memory (layout of %d rows)", m->rows);
done:
    rs_proj_free(pca);
    rs_proj_free(p);
    free(x);
    free(sx);
    free(ys);
    free(dist);
    free(sample);
    free(nbr);
    free(anchor);
    free(ed);
    return rc;
}
