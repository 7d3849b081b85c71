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
 */
#ifndef RS_EASE_H
#define RS_EASE_H

#include <stdint.h>

#include "corpus.h"
#include "error.h"
#include "sgns.h"

#define RS_EASE_MAX_ITEMS 20000
#define RS_EASE_DEFAULT_LAMBDA 100.0

int rs_ease_fit(const rs_corpus *c, double lambda, int32_t max_items, rs_embedding **out,
                rs_error *e);

/* scores[n_items]: sum over the context rows of B; items without a row: -INFINITY.
 * Returns how many context items had a row. */
int rs_ease_score(const rs_embedding *m, const int32_t *ctx, int n, float *scores);

#endif
