/* glove.h - GloVe (Pennington, Socher & Manning 2014) over receipts, the "glove" kind.
 *
 * X[a][b] = receipts holding both a and b (a != b; a receipt is a set, so every pair
 * of its items counts once, whatever their order).  The model minimises the weighted
 * least squares
 *     J = sum over a, b with X[a][b] > 0 of f(X[a][b]) (w_a . c_b + bw_a + bc_b - log X[a][b])^2
 *     f(x) = (x / x_max)^alpha for x < x_max, else 1
 * by AdaGrad over the non-zero entries (visited in one seeded shuffled order, as the
 * original glove.c does), with gradient sums starting at 1.  With threads = 1 and a
 * fixed seed the result is bit-identical from run to run; more threads share the
 * matrices without locks (Hogwild, as glove.c).
 *
 * The model is an rs_embedding (kind "glove") of dim = 2 * glove_dim + 1 over the items
 * with at least glove_min_count receipts:
 *     in[a]  = [ w_a, c_a, 1 ]
 *     out[b] = [ c_b / 2, w_b / 2, (bw_b + bc_b) / 2 ]
 * so in[a] . out[b] = (w_a . c_b + c_a . w_b) / 2 + (bw_b + bc_b) / 2: the mean of the
 * two (symmetric) estimates of log X[a][b] less the context's own bias, which ranks b
 * for a.  A basket scores b by the sum over its items, i.e. the completion kernel of
 * in . out (completion method "glove").
 */
#ifndef RS_GLOVE_H
#define RS_GLOVE_H

#include <stdint.h>

#include "corpus.h"
#include "embedding.h"
#include "error.h"

#define RS_KIND_GLOVE "glove" /* its registry and file word */

typedef struct rs_glove_params {
    int dim;        /* glove_dim: vector size (32) */
    int epochs;     /* glove_epochs: passes over the non-zero entries (25) */
    double x_max;   /* glove_xmax: the count where the weight saturates (10) */
    double alpha;   /* glove_alpha: the weight's exponent (0.75) */
    double lr;      /* glove_lr: AdaGrad's step (0.05) */
    int min_count;  /* glove_min_count: items in fewer receipts get no row (1) */
    int threads;    /* glove_threads: worker threads (1) */
    uint64_t seed;  /* initialisation and order (1) */
} rs_glove_params;

void rs_glove_defaults(rs_glove_params *p);

/* The co-occurrence counts of c over its vocabulary rows (item_row of m): CSR with
 * columns ascending.  Exposed for the tests. */
typedef struct rs_glove_cooc {
    int32_t rows;
    int64_t *off;   /* [rows + 1] */
    int32_t *col;   /* [nnz] */
    float *x;       /* [nnz] receipts holding both */
} rs_glove_cooc;
int rs_glove_cooc_build(const rs_corpus *c, const int32_t *item_row, int32_t rows,
                        rs_glove_cooc **out, rs_error *e);
void rs_glove_cooc_free(rs_glove_cooc *x);

/* Fits on every receipt of c.  *loss (may be NULL) receives the mean weighted squared
 * error of the last epoch (J / 2 per entry).  Optional progress (0..1). */
typedef void (*rs_glove_progress_fn)(void *ctx, double done);
int rs_glove_fit(const rs_corpus *c, const rs_glove_params *p, rs_glove_progress_fn progress,
                 void *progress_ctx, rs_embedding **out, double *loss, rs_error *e);

/* The kind "glove" (kinds.h): the parameters (glove_dim, glove_epochs, glove_xmax,
 * glove_alpha, glove_lr, glove_min_count, glove_threads; seed), the fit and the
 * completion part (in.out as above). */
typedef struct rs_param_group rs_param_group;
typedef struct rs_fit_opts rs_fit_opts;
typedef struct rs_completion_parts rs_completion_parts;
extern const rs_param_group RS_GLOVE_PARAMS;
int rs_glove_fit_kind(const rs_corpus *c, const void *params, const rs_fit_opts *o,
                      rs_embedding **out, rs_error *e);
void rs_glove_parts(const rs_embedding *m, const void *params, rs_completion_parts *parts);

#endif
