/* metrics.h - ranking metrics of the evaluation protocol (DESIGN §4).
 *
 * Ranks are 0-based.  For one query with target set T (basket completion: one target)
 * and a ranked list top[0..k):
 *   HR@k        1 if any target is in the list
 *   NDCG@k      sum over hits of 1/log2(rank+2), divided by the ideal DCG
 *               (sum_{r < min(k,|T|)} 1/log2(r+2))
 *   MRR         1/(rank+1) of the first hit inside the list, else 0 (MRR@k)
 *   precision@k hits / k
 *   recall@k    hits / |T|
 * averaged over queries.  Over the whole run:
 *   coverage@k  distinct items recommended in any list / catalogue size
 *   novelty     mean over recommended items of -log2(popularity share), share =
 *               training receipts holding the item / training receipts
 * And for synonyms of an item p (list s_1..s_k):
 *   category purity@k  share of the s_j in p's category
 *   co-purchase rate   mean over j of co-receipts(p, s_j) / receipts(p)
 */
#ifndef RS_METRICS_H
#define RS_METRICS_H

#include <stdint.h>

#include "error.h"

typedef struct rs_rank_metrics {
    int k;
    int64_t n_queries;
    double hr, ndcg, mrr, precision, recall; /* averages once finished */
    double coverage, novelty;
} rs_rank_metrics;

typedef struct rs_rank_acc rs_rank_acc;

/* n_items: catalogue size for coverage (items that can be recommended; items of the
 * index space outside the catalogue are ignored); in_catalogue may be NULL (all).
 * counts/n_receipts: training popularity for novelty (counts may be NULL: no novelty). */
int rs_rank_acc_new(int k, int32_t n_items, const uint8_t *in_catalogue,
                    const int64_t *counts, int64_t n_receipts, rs_rank_acc **out,
                    rs_error *e);
void rs_rank_acc_free(rs_rank_acc *a);
/* Adds one query: the ranked list (n_top <= k entries, may be shorter) and targets. */
void rs_rank_acc_add(rs_rank_acc *a, const int32_t *top, int n_top, const int32_t *targets,
                     int n_targets);
void rs_rank_acc_result(const rs_rank_acc *a, rs_rank_metrics *m);

/* The k best items by score (descending; ties: lower index first), skipping
 * -INFINITY and NaN.  Returns how many were written (<= k). */
int rs_topk(const float *scores, int32_t n, int k, int32_t *top);

/* Single-query helpers (for tests and callers that need them). */
double rs_metric_dcg_gain(int rank);  /* 1/log2(rank+2) */

/* Synonym metrics for one item p: purity = share of syn[0..n) whose category equals
 * category_p (item_category maps item -> category; -1 never matches); co-purchase =
 * mean of co_receipts[j] / receipts_p (0 when n or receipts_p is 0). */
double rs_metric_category_purity(int32_t category_p, const int32_t *syn, int n,
                                 const int32_t *item_category);
double rs_metric_copurchase(const int64_t *co_receipts, int n, int64_t receipts_p);

/* Metric name for selection: "hr@10", "ndcg@10", "mrr", "precision@10", "recall@10",
 * "coverage@10", "novelty" (k must equal m->k).  Returns 0 and sets *value, or -1 when
 * the name is unknown. */
int rs_rank_metric_get(const rs_rank_metrics *m, const char *name, double *value);

/* JSON object text of m (malloc-ed; NULL on OOM). */
char *rs_rank_metrics_json(const rs_rank_metrics *m);

#endif
