/* custeval.h - evaluating personal recommendations on a time split (issue 14).
 *
 * For one city: the receipts are split in time (history.h: the last N days of the
 * city, or each customer's last K receipts); every model is fitted on the training
 * part only — popularity and SGNS on the training receipts, item-item, EASE and ALS on
 * the customer × product matrix of the training part (a customer's row holds the
 * products of their training receipts, weighted by how many receipts hold each) — and
 * each customer with training and held-out receipts gets, from their training history
 * at the cutoff, a ranked list of every product (their own products included: buying
 * again is allowed).  The targets are the distinct products of their held-out
 * receipts.  Per method, averaged over those customers:
 *   precision@5, precision@k, recall@k, MAP@k (AP@k = sum over hits at rank i of
 *   precision@i, over min(k, |targets|)), NDCG@k (1 / log2(rank + 2), rank from 0),
 *   ROC AUC (each target against `negatives` products sold in training and not among
 *   the targets, drawn per customer from a seeded generator; ties count one half),
 *   catalogue coverage@k (share of the products sold in training that appear in any
 *   list) and novelty@k (mean -log2 of the training popularity share of the listed
 *   products).
 * And for the union of the methods' top N: candidate recall@N (share of the targets
 * inside it) for N = 50, 100, 200 — what a second-level ranker can reach.
 * Method "ranked" (RS_PERS_RANKED) is the second level (custrank.h): a ranker trained
 * on the validation window carved from before the held-out one, over the candidates
 * of the other methods of o->methods; products outside its candidates are not listed
 * (in AUC they tie at -infinity).  Its fit_seconds cover the validation-side fit of
 * the first level, the training queries and the ranker.
 * Lists are ordered by score, ties by the smaller product index; products a method
 * cannot score (-INFINITY) are never listed.  Results do not depend on the number of
 * threads.
 */
#ifndef RS_CUSTEVAL_H
#define RS_CUSTEVAL_H

#include <stdint.h>

#include "error.h"
#include "personal.h"
#include "store.h"

typedef struct rs_custeval_opts {
    int holdout_days;    /* > 0: the last N days of the city held out */
    int holdout_orders;  /* > 0: each customer's last K receipts held out */
    int k;               /* list length (10) */
    int negatives;       /* sampled negatives per customer for AUC (100) */
    uint64_t seed;       /* for the negatives and the SGNS fit (1) */
    int threads;         /* 2 */
    unsigned methods;    /* bit per rs_pers_method (all) */
    double ease_lambda;  /* EASE on customer rows (100) */
    int als_factors;     /* 64 */
    double als_lambda, als_alpha; /* 0.1, 10 */
    int als_iters;       /* 15 */
    int32_t ease_cap;    /* EASE only with at most this many products (20000) */
    int rank_candidates; /* ranked: each first-level method's top N are candidates (100) */
    int rank_windows;    /* ranked: validation windows the ranker learns from (3) */
} rs_custeval_opts;

void rs_custeval_defaults(rs_custeval_opts *o);

#define RS_CUSTEVAL_NCAND 3 /* candidate recall at 50, 100, 200 */

typedef struct rs_custeval_row {
    int method;          /* rs_pers_method, or -1 for the candidate union row */
    int64_t customers;   /* customers scored */
    double precision5, precision_k, recall_k, map_k, ndcg_k, auc;
    double coverage_k, novelty_k;
    double fit_seconds;
} rs_custeval_row;

typedef struct rs_custeval_result {
    int64_t city_id;
    int64_t customers;        /* with a training and a held-out receipt */
    int64_t train_receipts, test_receipts;
    int64_t cutoff;           /* days split: the cutoff time; 0 for orders */
    int k;
    int n_rows;
    rs_custeval_row rows[RS_PERS_N];
    double cand_recall[RS_CUSTEVAL_NCAND]; /* union of every method's top N */
    int cand_n[RS_CUSTEVAL_NCAND];
    char skipped[256];        /* methods that could not be fitted, and why ("" if none) */
    char ranker[160];         /* the ranked row's ranker: objective, rounds, queries */
} rs_custeval_result;

/* Evaluates every method of o->methods on the city's customers.  RS_EUSAGE when the
 * city has no customers with both a training and a held-out receipt (the message says
 * how many customers and receipts there are). */
int rs_custeval_run(rs_store *s, int64_t city_id, const rs_custeval_opts *o,
                    rs_custeval_result *out, rs_error *e);

/* The metrics of one ranked list against targets (sorted ascending), for tests:
 * list[0..n_list) best first. */
void rs_custeval_list_metrics(const int32_t *list, int n_list, int k, const int32_t *targets,
                              int n_targets, double *precision, double *recall, double *ap,
                              double *ndcg);

#endif
