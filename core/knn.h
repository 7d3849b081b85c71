/* knn.h - item-item cosine co-occurrence (the "item-item" baseline, DESIGN §2).
 *
 * sim(a, b) = co(a, b) / sqrt(n(a) n(b)), co = receipts holding both, n = receipts
 * holding the item.  Stored sparse (CSR over items, neighbours ascending).  A basket is
 * scored by summing the rows of its items; items that never co-occur with the basket
 * get -INFINITY (they are not candidates).
 */
#ifndef RS_KNN_H
#define RS_KNN_H

#include <stdint.h>

#include "corpus.h"
#include "error.h"

typedef struct rs_knn rs_knn;

int rs_knn_build(const rs_corpus *c, rs_knn **out, rs_error *e);
void rs_knn_free(rs_knn *k);

int32_t rs_knn_n_items(const rs_knn *k);
/* Receipts holding item i. */
int64_t rs_knn_count(const rs_knn *k, int32_t i);
/* Receipts holding both a and b (0 when a == b or out of range). */
int64_t rs_knn_cooc(const rs_knn *k, int32_t a, int32_t b);
/* Cosine co-occurrence of a and b. */
float rs_knn_sim(const rs_knn *k, int32_t a, int32_t b);
/* scores[n_items]: sum over the context of sim(ctx, i); -INFINITY where all are 0.
 * Returns how many context items occur in the training receipts. */
int rs_knn_score(const rs_knn *k, const int32_t *ctx, int n, float *scores);
/* The same with a weight per context item: sum of w[t] * sim(ctx[t], i). */
int rs_knn_score_weighted(const rs_knn *k, const int32_t *ctx, const float *w, int n,
                          float *scores);
/* Stored neighbour pairs (for sizes in reports). */
int64_t rs_knn_nnz(const rs_knn *k);

#endif
