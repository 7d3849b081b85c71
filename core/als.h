/* als.h - implicit-feedback ALS (Hu, Koren & Volinsky 2008), the "ALS" baseline.
 *
 * X is receipts x items with x = receipt_items.weight (1 for plain receipts); the
 * preference p = [x > 0] and the confidence c = 1 + α·x.  Alternating exact solves:
 *   receipt u:  (YᵀY + Yᵀ(C_u − I)Y + λI) x_u = YᵀC_u p_u
 *   item i:     (XᵀX + Xᵀ(C_i − I)X + λI) y_i = XᵀC_i p_i
 * each an f×f symmetric positive definite system solved by LAPACK sposv, the rank-1
 * updates by CBLAS ssyr.  Deterministic for a given seed.
 *
 * A basket is scored by folding it in as a new receipt (the same solve with Y fixed),
 * then u·y_j.  The model is an rs_embedding (kind "als"): rows = items seen, in = Y
 * (item factors), out = Y as well (a copy, so the file keeps the usual shape); the fold-in
 * needs λ and α, which live in the sidecar params ("als_lambda", "als_alpha").
 */
#ifndef RS_ALS_H
#define RS_ALS_H

#include <stdint.h>

#include "corpus.h"
#include "error.h"
#include "embedding.h"

typedef struct rs_als_params {
    int factors;   /* f (64) */
    double lambda; /* L2 regularisation (0.1) */
    double alpha;  /* confidence slope (10) */
    int iters;     /* alternations (15) */
    uint64_t seed; /* initialisation (1) */
} rs_als_params;

void rs_als_defaults(rs_als_params *p);

int rs_als_fit(const rs_corpus *c, const rs_als_params *p, rs_embedding **out,
               rs_error *e);

/* Fold-in scorer: keeps YᵀY and scratch space; one per thread. */
typedef struct rs_als_scorer rs_als_scorer;
int rs_als_scorer_new(const rs_embedding *m, double lambda, double alpha,
                      rs_als_scorer **out, rs_error *e);
void rs_als_scorer_free(rs_als_scorer *s);
/* scores[n_items]; items without a row: -INFINITY.  Returns context items known. */
int rs_als_score(rs_als_scorer *s, const int32_t *ctx, int n, float *scores);
/* The same with a weight per context item (confidence 1 + alpha * w[t], as the fit
 * reads receipt_items.weight; items with w <= 0 are skipped): a customer's history,
 * w = how many of their receipts hold the item. */
int rs_als_score_weighted(rs_als_scorer *s, const int32_t *ctx, const float *w, int n,
                          float *scores);

/* The kind "als" (kinds.h): parameters als_factors, als_lambda, als_alpha, als_iters
 * (seed), the fit and the completion part (fold-in with λ and α). */
typedef struct rs_param_group rs_param_group;
typedef struct rs_fit_opts rs_fit_opts;
typedef struct rs_completion_parts rs_completion_parts;
extern const rs_param_group RS_ALS_PARAMS;
int rs_als_fit_kind(const rs_corpus *c, const void *params, const rs_fit_opts *o,
                    rs_embedding **out, rs_error *e);
void rs_als_parts(const rs_embedding *m, const void *params, rs_completion_parts *parts);

#endif
