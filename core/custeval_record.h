/* custeval_record.h - the results of `eval --customers` (custeval.h) as rows of the
 * evaluations table, and which method the latest of them validated best.
 *
 * One row per method of a result, method "customer <name>" (rs_pers_method_name, or
 * whatever name a later method gives: rs_custeval_method_name), and one row "customer
 * candidates" for the candidate recall of the union; split "customers <split>", where
 * <split> is rs_custeval_split_name's "last-30-days" or "last-1-orders".  The metrics
 * are one flat JSON object: k, customers, precision@5, precision@<k>, recall@<k>,
 * map@<k>, ndcg@<k>, auc, coverage@<k>, novelty@<k>, fit_seconds (the candidate row:
 * customers and candidate_recall@<N> for each N).  Baselines of a refit: no models
 * recorded, never stale.
 */
#ifndef RS_CUSTEVAL_RECORD_H
#define RS_CUSTEVAL_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "custeval.h"
#include "error.h"
#include "store.h"

#define RS_CUSTEVAL_METHOD_PREFIX "customer "
#define RS_CUSTEVAL_SPLIT_PREFIX "customers "
#define RS_CUSTEVAL_CANDIDATES "customer candidates"

/* "last-30-days" / "last-1-orders" for the split of o. */
void rs_custeval_split_name(const rs_custeval_opts *o, char *buf, size_t n);
/* The name of a row's method: rs_pers_method_name, else "method-<m>". */
const char *rs_custeval_method_name(int m, char *buf, size_t n);

/* The metrics JSON of one row (malloc-ed; NULL on OOM). */
char *rs_custeval_row_json(const rs_custeval_result *r, const rs_custeval_row *row);

/* Writes every row of r (and the candidate row) for r->city_id, split as above, in
 * one transaction. */
int rs_custeval_record(rs_store *s, const rs_custeval_result *r, const rs_custeval_opts *o,
                       rs_error *e);

/* The latest customer evaluation of a city: the latest row of each method on the split
 * of the newest customer row (the candidate row left out), best precision@k first
 * (ties: name).  At most max rows; *n receives how many (0: the city has none). */
typedef struct rs_custeval_latest_row {
    char method[64];      /* bare name: "buyagain" */
    char split[48];       /* bare split: "last-30-days" */
    char created_at[32];
    int k;
    double precision_k;
    int64_t customers;
} rs_custeval_latest_row;
int rs_custeval_latest(rs_store *s, int64_t city_id, rs_custeval_latest_row *out, int max,
                       int *n, rs_error *e);

#endif
