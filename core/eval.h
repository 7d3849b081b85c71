/* eval.h - the evaluation protocol of DESIGN §4 (basket completion, leave one out).
 *
 * Split: bucket = FNV-1a-64(receipt ext id) % 5; bucket 0 held out (test), bucket 1
 * validation, buckets 2..4 fit (grid search).  With holdout_days > 0 the test part is
 * instead the receipts of the last N days (ts > max ts - N·86400; receipts without a
 * timestamp stay in training); validation/fit then split the rest by bucket 1 / other.
 *
 * Queries: for each receipt of the evaluated part, its distinct items known to the
 * training part (at least one training receipt); receipts with >= 2 such items; each
 * item in turn is the target and the others the context; candidates exclude the
 * context.  Metrics (metrics.h) averaged over targets.
 *
 * The category model is evaluated by the same code on category corpora
 * (rs_corpus_categories of both parts).
 */
#ifndef RS_EVAL_H
#define RS_EVAL_H

#include <stdint.h>

#include "completion.h"
#include "corpus.h"
#include "error.h"
#include "kinds.h"
#include "knn.h"
#include "metrics.h"
#include "embedding.h"

/* The part `which` of c under the protocol (see above). */
int rs_eval_split(const rs_corpus *c, int holdout_days, rs_split which, rs_corpus **out,
                  rs_error *e);

typedef struct rs_eval_queries {
    int64_t n_baskets;  /* eligible held-out receipts */
    int64_t *off;       /* [n_baskets + 1] */
    int32_t *items;     /* known distinct items of each basket, ascending */
    int64_t n_queries;  /* = total items (one query per item) */
} rs_eval_queries;

int rs_eval_queries_build(const rs_corpus *train, const rs_corpus *test,
                          rs_eval_queries **out, rs_error *e);
void rs_eval_queries_free(rs_eval_queries *q);

/* Runs every query through the scorer.  Catalogue (coverage) and novelty come from
 * train.  Optional progress callback (0..1). */
typedef void (*rs_eval_progress_fn)(void *ctx, double done);
int rs_eval_completion(rs_completion *c, const rs_eval_queries *q, const rs_corpus *train,
                       int k, rs_eval_progress_fn progress, void *progress_ctx,
                       rs_rank_metrics *m, rs_error *e);

/* Evaluates n_w weight vectors (each RS_COMP_N doubles) at once: scorer c must hold
 * every part any vector uses with a non-zero weight.  m[w] gets the metrics of
 * vector w, identical to rs_eval_completion of a scorer built with those weights. */
int rs_eval_blends(rs_completion *c, const rs_eval_queries *q, const rs_corpus *train,
                   int k, int n_w, const double (*weights)[RS_COMP_N],
                   rs_eval_progress_fn progress, void *progress_ctx, rs_rank_metrics *m,
                   rs_error *e);

/* Scores model m of kind (fitted with the parameters p) alone on the queries;
 * popularity and catalogue from train (a category corpus for category baskets). */
int rs_eval_kind(const rs_corpus *train, const rs_eval_queries *q, const rs_kind *kind,
                 const rs_embedding *m, const rs_train_params *p, int k, rs_rank_metrics *out,
                 rs_error *e);
/* Scores a baseline method (RS_COMP_POPULARITY, or RS_COMP_ITEMITEM with knn built on
 * train) on the queries. */
int rs_eval_baseline(const rs_corpus *train, const rs_eval_queries *q, rs_comp_method method,
                     const rs_knn *knn, int k, rs_rank_metrics *out, rs_error *e);

/* Synonym metrics of a product model: for up to max_items items with at least
 * min_count training receipts (chosen evenly over them by count order, deterministic),
 * the k nearest by input cosine; category purity@k (train->item_category) and the
 * co-purchase rate measured on the receipts behind cooc (use the training part). */
typedef struct rs_synonym_metrics {
    int k;
    int64_t n_items;
    double purity, copurchase;
} rs_synonym_metrics;
int rs_eval_synonyms(const rs_embedding *m, const rs_corpus *train, const rs_knn *cooc,
                     int k, int64_t min_count, int64_t max_items, rs_synonym_metrics *out,
                     rs_error *e);

/* The k nearest rows to item by input cosine (excluding the item): writes item indices
 * into top, returns how many (0 when the item has no row).  unit = row-normalised in
 * (rows x dim), scratch has rows floats. */
int rs_eval_nearest(const rs_embedding *m, const float *unit, int32_t item, int k,
                    float *scratch, int32_t *top);
/* Row-normalised copy of m->in (malloc-ed; NULL on OOM). */
float *rs_eval_unit_rows(const rs_embedding *m);

#endif
