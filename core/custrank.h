/* custrank.h - the second level of personal recommendations (issue 14): a learned
 * ranker (ranker.h, XGBoost) over the union of the first-level methods' candidates.
 *
 * Candidates of a customer: the union of the top N (rank_candidates, 100) of every
 * first-level method that scores (personal.h), from their history at "now".  Each
 * (customer, candidate) gets the features of RS_CUSTRANK_FEATURES (the one table:
 * name and how computed, rs_custrank_feature_*), NAN where a feature is undefined.
 *
 * Training (rs_custrank_train), never on the held-out window: o->rank_windows
 * validation windows are carved from the training rows alone with the same split,
 * one after the other back in time (history.h: the last N days before the cutoff,
 * then the N days before those, ...; or each customer's last K training receipts,
 * then the K before them, ...); the first-level models are fitted once, on the rows
 * before the earliest window; in each window, each customer with receipts in it and
 * before it gives one query: their candidates from their history before the window
 * (at its cutoff), labelled 1 when bought in the window.  Queries without a positive candidate are
 * left out (they carry no ranking information).  The ranker (objective chosen on a
 * validation slice of those queries, ranker.h) is trained with RS_CUSTRANK_THREADS
 * threads and o->seed, whatever o->threads, so its figures repeat on any machine.
 * Scoring (rs_custrank_score) then uses the models fitted on the whole training part
 * and the history before the held-out window.
 */
#ifndef RS_CUSTRANK_H
#define RS_CUSTRANK_H

#include <stdint.h>

#include "corpus.h"
#include "custeval.h"
#include "error.h"
#include "history.h"
#include "personal.h"
#include "ranker.h"

#define RS_CUSTRANK_THREADS 2
#define RS_CUSTRANK_RECENT_DAYS 28
#define RS_CUSTRANK_MAX_WINDOWS 8

/* The first-level methods the ranker reads (every one but ranked itself). */
#define RS_CUSTRANK_LEVEL1 RS_PERS_RANKED

int rs_custrank_n_features(void);
const char *rs_custrank_feature_name(int f);
const char *rs_custrank_feature_how(int f);

/* The city's figures of one side of a split that the candidate features read: the
 * popularity shares pop / pop_receipts (the fitted models' counts), the recent rate
 * (receipts of c not excluded within RS_CUSTRANK_RECENT_DAYS before ref_time) and the
 * repeat share from the customer matrix cust (history.h: weights = receipts). */
typedef struct rs_custrank_city rs_custrank_city;
int rs_custrank_city_new(const rs_corpus *c, const uint8_t *exclude, const rs_corpus *cust,
                         const int64_t *pop, int64_t pop_receipts, int64_t ref_time,
                         rs_custrank_city **out, rs_error *e);
void rs_custrank_city_free(rs_custrank_city *c);

typedef struct rs_custrank rs_custrank;

/* Trains on the validation window of the training rows (held[r] == 0).  Notes of
 * first-level methods that could not be fitted go to res->skipped. */
int rs_custrank_train(const rs_histories *h, const uint8_t *held, const rs_custeval_opts *o,
                      rs_custrank **out, rs_custeval_result *res, rs_error *e);
void rs_custrank_free(rs_custrank *r);
rs_ranker *rs_custrank_ranker(rs_custrank *r);
/* The validation windows, training queries and rows (after the queries without a
 * positive were left out). */
void rs_custrank_counts(const rs_custrank *r, int *windows, int64_t *queries, int64_t *rows);

/* Per thread: candidates, features and the ranker's own copy. */
typedef struct rs_custrank_scorer rs_custrank_scorer;
int rs_custrank_scorer_new(rs_custrank *r, const rs_custrank_city *city, int32_t n_items,
                           int32_t n_categories, const int32_t *item_category,
                           rs_custrank_scorer **out, rs_error *e);
/* A scorer without a ranker: rs_custrank_features only (each method's top topn). */
int rs_custrank_features_new(int topn, const rs_custrank_city *city, int32_t n_items,
                             int32_t n_categories, const int32_t *item_category,
                             rs_custrank_scorer **out, rs_error *e);
void rs_custrank_scorer_free(rs_custrank_scorer *s);

/* The candidates and their feature rows for one customer: sc[m] the scores of method
 * m (NULL: not scored), p the personal state after rs_personal_set_history(rows[0..n),
 * now).  *cand and *x point into s (valid until the next call); returns the number of
 * candidates. */
int32_t rs_custrank_features(rs_custrank_scorer *s, const rs_personal *p,
                             const float *const sc[RS_CUSTRANK_LEVEL1], const rs_corpus *c,
                             const int64_t *rows, int64_t n, int64_t now,
                             const int32_t **cand, const float **x);

/* out[n_items]: the ranker's score for each candidate, -INFINITY elsewhere. */
int rs_custrank_score(rs_custrank_scorer *s, const rs_personal *p,
                      const float *const sc[RS_CUSTRANK_LEVEL1], const rs_corpus *c,
                      const int64_t *rows, int64_t n, int64_t now, float *out, rs_error *e);

#endif
