/* ease.h - EASE^R (Steck 2019), the closed-form item-item regression baseline.
 *
 *   G = XᵀX + λI over the items seen in the corpus (X binary receipts x items)
 *   P = G⁻¹ through LAPACK Cholesky (spotrf, spotri), float32
 *   B = I − P·diag(1/diag P), i.e. B[i][j] = −P[i][j] / P[j][j], diag B = 0
 * A basket c scores item j with sum_{i in c} B[i][j].
 *
 * The result is an rs_embedding (so it is saved and registered like the other models,
 * kind "ease"): rows = vocabulary (items with at least one receipt), dim = rows,
 * in = B row-major (row r = B[row_item[r]][.] over the vocabulary columns), out = NULL,
 * counts = training receipts.  Memory is rows² floats: the fit refuses more than
 * max_items rows (RS_EUSAGE) — default RS_EASE_MAX_ITEMS.
 *
 * Two ways to the same P: the direct n x n Cholesky, or, when the corpus has fewer
 * receipts m than items n, the Woodbury identity
 *   (λI + XᵀX)⁻¹ = (1/λ)·I − (1/λ²)·Xᵀ (I + X Xᵀ/λ)⁻¹ X
 * whose Cholesky is m x m (m³ flops instead of n³: 7x less on the Instacart sample,
 * 8,131 receipts over 15,535 items).  rs_ease_fit() picks the cheaper one.
 */
#ifndef RS_EASE_H
#define RS_EASE_H

#include <stdint.h>

#include "corpus.h"
#include "error.h"
#include "embedding.h"

#define RS_EASE_MAX_ITEMS 20000
#define RS_EASE_DEFAULT_ITEMS 4000 /* the kind's default item cap (the most frequent) */
#define RS_EASE_DEFAULT_LAMBDA 100.0
#define RS_EASE_DEFAULT_MIN_COUNT 1

int rs_ease_fit(const rs_corpus *c, double lambda, int32_t max_items, rs_embedding **out,
                rs_error *e);

typedef enum { RS_EASE_AUTO = 0, RS_EASE_DIRECT, RS_EASE_WOODBURY } rs_ease_path;
/* rs_ease_fit() with the item min count and the inverse chosen.  Items in fewer than
 * min_count receipts are left out of the vocabulary (no row: never recommended, ignored
 * in a context); rs_ease_fit() uses RS_EASE_DEFAULT_MIN_COUNT = 1 (all items): on the
 * Instacart sample's validation part min counts 5 / 12 / 20 LOWER HR@10 (0.1070 ->
 * 0.1063 / 0.1026 / 0.1005). */
int rs_ease_fit_path(const rs_corpus *c, double lambda, int64_t min_count, int32_t max_items,
                     rs_ease_path path, rs_embedding **out, rs_error *e);

/* scores[n_items]: sum over the context rows of B; items without a row: -INFINITY.
 * When no context item has a row: 0.001·log(1 + training receipts) per row (popularity
 * order).  Returns how many context items had a row. */
int rs_ease_score(const rs_embedding *m, const int32_t *ctx, int n, float *scores);
/* The same with a weight per context item: sum of w[t] * B[ctx[t]]. */
int rs_ease_score_weighted(const rs_embedding *m, const int32_t *ctx, const float *w, int n,
                           float *scores);

/* The smallest item min count that leaves at most max_items items of c in the
 * vocabulary (1 when c has no more; ties at the cut are all left out). */
int rs_ease_auto_min_count(const rs_corpus *c, int32_t max_items, int64_t *min_count,
                           rs_error *e);

/* The kind "ease" (kinds.h): the parameters (ease_lambda), the fit and the completion
 * part.  The kind fits on at most rs_fit_opts.max_items items (default
 * RS_EASE_DEFAULT_ITEMS), the most frequent ones (rs_ease_auto_min_count); the others
 * have no row (EASE does not score them).  The dense rows² matrix is what bounds it: on
 * the Instacart sample (15,535 items seen) all items take 965 MB, 4,000 take 64 MB, and
 * validation HR@10 moves by less than 0.002 (docs/BENCHMARKS.md). */
typedef struct rs_ease_params {
    double lambda; /* ease_lambda (RS_EASE_DEFAULT_LAMBDA) */
} rs_ease_params;
typedef struct rs_param_group rs_param_group;
typedef struct rs_fit_opts rs_fit_opts;
typedef struct rs_completion_parts rs_completion_parts;
extern const rs_param_group RS_EASE_PARAMS;
int rs_ease_fit_kind(const rs_corpus *c, const void *params, const rs_fit_opts *o,
                     rs_embedding **out, rs_error *e);
void rs_ease_parts(const rs_embedding *m, const void *params, rs_completion_parts *parts);

/* The kind "category-ease": EASE on category baskets (each receipt's distinct
 * categories), its own λ (category_ease_lambda) so that a grid or the kind's built-in
 * search (RS_CATEGORY_EASE_SEARCH, chosen on validation by `train`) sets it apart from
 * the product EASE's; every category with a receipt has a row.  Its parts are
 * rs_ease_parts (the ease part of a scorer over the category index space). */
typedef struct rs_category_ease_params {
    double lambda; /* category_ease_lambda (RS_EASE_DEFAULT_LAMBDA) */
} rs_category_ease_params;
extern const rs_param_group RS_CATEGORY_EASE_PARAMS;
/* A log-spaced λ ladder: a few hundred categories fit in milliseconds each. */
#define RS_CATEGORY_EASE_SEARCH \
    "{\"category_ease_lambda\": [1, 3, 10, 30, 100, 300, 1000]}"
int rs_category_ease_fit_kind(const rs_corpus *c, const void *params, const rs_fit_opts *o,
                              rs_embedding **out, rs_error *e);

#endif
