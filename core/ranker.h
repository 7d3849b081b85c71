/* ranker.h - a learned second-level ranker: gradient-boosted trees over a feature
 * matrix, through XGBoost's C API (libxgboost 1.7.4 from Debian).
 *
 * Training data: rows grouped by query (a customer, a basket), the rows of a group
 * consecutive; a label per row (1 relevant, 0 not); NAN for a missing feature.
 * Training (rs_ranker_train):
 *   - the queries are split into a fit part and a validation slice (every
 *     valid_every-th query, from the first; deterministic, no sampling);
 *   - for each objective asked for (rank:pairwise with the queries as groups,
 *     binary:logistic), trees are grown one round at a time on the fit part, and
 *     after each round the validation slice is scored: the mean over its queries of
 *     NDCG@eval_k (rows ordered by prediction, ties by row order); training stops
 *     after early_stop rounds without improvement, and the model keeps the rounds of
 *     its best validation score;
 *   - with RS_RANKER_AUTO, the objective with the higher best validation NDCG wins
 *     (ties: rank:pairwise).
 * The fixed parameters (tree_method hist, max_bin 256, no row or column sampling)
 * and the seed and nthread of params make a run repeat bit for bit; a different
 * nthread may give a different model (rank:* objectives in XGBoost 1.7.4 do), so
 * callers that promise thread-independent results pass a constant.
 *
 * XGBoost 1.7.4 pitfalls handled here: a prediction on a DMatrix the booster has seen
 * may come from its cache, so every rs_ranker_predict/contribs call builds a new
 * DMatrix and frees it; predicting from several threads on one booster is unsafe, so
 * the calls on one ranker are serialized by its lock (one ranker per worker, through
 * rs_ranker_copy, predicts in parallel).  Every XGBoost error carries
 * XGBGetLastError's text.
 */
#ifndef RS_RANKER_H
#define RS_RANKER_H

#include <stdint.h>

#include "error.h"

typedef enum {
    RS_RANKER_AUTO = 0,     /* chosen on the validation slice */
    RS_RANKER_PAIRWISE,     /* rank:pairwise, groups = queries */
    RS_RANKER_LOGISTIC,     /* binary:logistic */
} rs_ranker_objective;

/* "auto", "rank:pairwise", "binary:logistic". */
const char *rs_ranker_objective_name(int objective);

typedef struct rs_ranker_params {
    int objective;       /* rs_ranker_objective (AUTO) */
    int threads;         /* XGBoost nthread (1) */
    uint64_t seed;       /* XGBoost seed (1) */
    int max_rounds;      /* 300 */
    int early_stop;      /* rounds without improvement before stopping (20) */
    double eta;          /* 0.1 */
    int max_depth;       /* 6 */
    double min_child_weight; /* 1 */
    double lambda;       /* L2 on leaf weights (1) */
    int valid_every;     /* every n-th query is validation (5) */
    int eval_k;          /* NDCG@k of the validation slice (10) */
} rs_ranker_params;

void rs_ranker_defaults(rs_ranker_params *p);

typedef struct rs_ranker_data {
    int64_t n_rows;
    int n_features;
    const float *x;            /* [n_rows][n_features], row-major, NAN = missing */
    const float *label;        /* [n_rows] */
    int64_t n_groups;
    const uint32_t *group_size; /* [n_groups], summing to n_rows */
} rs_ranker_data;

typedef struct rs_ranker rs_ranker;

/* What training found (also for a loaded ranker: objective and rounds). */
typedef struct rs_ranker_info {
    int objective;             /* the one kept */
    int rounds;                /* trees kept (best validation round + 1) */
    double valid_ndcg;         /* its validation NDCG@k (NAN for a loaded ranker) */
    double valid_ndcg_other;   /* the other objective's, NAN when not tried */
    int rounds_other;
    int64_t fit_rows, valid_rows;
    int64_t fit_groups, valid_groups;
} rs_ranker_info;

/* RS_EUSAGE when the data has no validation query with a positive, or no fit query. */
int rs_ranker_train(const rs_ranker_data *d, const rs_ranker_params *p, rs_ranker **out,
                    rs_error *e);
void rs_ranker_free(rs_ranker *r);
/* A second ranker on the same trees (its own booster and lock), for a worker thread;
 * threads: its XGBoost nthread (predictions do not depend on it). */
int rs_ranker_copy(rs_ranker *r, int threads, rs_ranker **out, rs_error *e);

void rs_ranker_info_get(const rs_ranker *r, rs_ranker_info *out);
int rs_ranker_n_features(const rs_ranker *r);

/* out[n_rows]: higher is better (a margin for rank:pairwise, a probability for
 * binary:logistic). */
int rs_ranker_predict(rs_ranker *r, const float *x, int64_t n_rows, float *out, rs_error *e);
/* out[n_rows][n_features + 1]: each feature's contribution to the margin (SHAP values,
 * XGBoost's pred_contribs), the last column the bias; a row's sum is its margin. */
int rs_ranker_contribs(rs_ranker *r, const float *x, int64_t n_rows, float *out,
                       rs_error *e);

/* The booster as an XGBoost JSON model file, written through atomicfile.h; load checks
 * that the file's model has n_features features.  Errors name the path. */
int rs_ranker_save(rs_ranker *r, const char *path, rs_error *e);
int rs_ranker_load(const char *path, int n_features, int threads, rs_ranker **out,
                   rs_error *e);

#endif
