/* custrec.h - serving one customer (issue 14): their history and three lists, from
 * parts that need no refit at request time.
 *
 * An rs_custrec is opened on a city: it loads the city's popularity (receipts holding
 * each product, product_popularity), the active product model (the city's, else all
 * cities'; personal.h's SGNS history mean needs its output vectors) and the latest
 * `eval --customers` rows of the city (custeval_record.h).  A query reads one
 * customer's receipts (oldest first, by time then id, as history.h orders them) with
 * their products, and answers, with the recency weights of personal.h (now = the
 * customer's last receipt; the order of a list does not depend on it):
 *   buy again     the customer's own products by history weight (rs_pers buyagain)
 *   new for you   products NOT in their history: the SGNS history mean (in . out of the
 *                 product model), else (no product model, or it knows none of their
 *                 products) the city's popularity; the list says which
 *   ranked        the method the latest `eval --customers` of the city validated best
 *                 on precision@k, among those servable here (popularity, buyagain,
 *                 sgns); when the best one needs a refit (item-item, EASE, ALS on
 *                 customer rows; the second-level ranker) the best servable answers
 *                 and `why` says so; without
 *                 an evaluation, buy-again (`why` says so).  The history is not
 *                 excluded (as evaluated).
 * Every row says which servable scorers proposed it (its rank in each one's top
 * RS_CUSTREC_PROPOSE_N) and its history weight and count.  Ties: smaller product
 * index first.  A query reads the store: one query at a time per rs_custrec (the
 * answer is the caller's).
 */
#ifndef RS_CUSTREC_H
#define RS_CUSTREC_H

#include <stdint.h>

#include "customers.h"
#include "error.h"
#include "personal.h"
#include "store.h"

#define RS_CUSTREC_PROPOSE_N 50 /* a scorer "proposed" a row in its top 50 */
#define RS_CUSTREC_K_MAX 200

typedef enum {
    RS_CUSTREC_BUYAGAIN = 0,
    RS_CUSTREC_NEW,
    RS_CUSTREC_RANKED,
    RS_CUSTREC_NLISTS,
} rs_custrec_list_kind;

/* "buy_again", "new_for_you", "ranked". */
const char *rs_custrec_list_name(int list);

typedef struct rs_custrec rs_custrec;

int rs_custrec_open(rs_store *s, int64_t city_id, rs_custrec **out, rs_error *e);
void rs_custrec_close(rs_custrec *r);
/* Whether the product model answers (new for you by SGNS); its registry id (0: none). */
int64_t rs_custrec_product_model(const rs_custrec *r);

typedef struct rs_custrec_receipt {
    int64_t id;          /* receipts.id */
    char ext_id[64];     /* cut at 63 bytes (raw data: sanitize to print) */
    int64_t ts;          /* unix seconds; INT64_MIN when unknown */
    int64_t first, n;    /* its products: items[first .. first + n) */
} rs_custrec_receipt;

typedef struct rs_custrec_row {
    int32_t product;     /* product index (products.id - 1) */
    float score;         /* the list's score */
    float weight, count; /* history weight and receipts of theirs holding it (0: never) */
    int rank[RS_PERS_N]; /* rank (0 = best) in each servable scorer's top
                            RS_CUSTREC_PROPOSE_N, -1 when not in it or not servable */
} rs_custrec_row;

typedef struct rs_custrec_list {
    rs_custrec_row *rows;
    int n;
    int method;          /* rs_pers_method that ranked it */
    char why[256];       /* "" or what answered instead and why */
} rs_custrec_list;

typedef struct rs_custrec_answer {
    rs_customer customer;
    int n_receipts;
    rs_custrec_receipt *receipts; /* oldest first */
    int32_t *items;               /* products of the receipts, per receipt ascending */
    float *quantity;              /* receipt_items.quantity alongside */
    int64_t n_items;
    int32_t n_hist;               /* distinct products, ascending, with weight and count */
    int32_t *hist;
    float *hist_weight, *hist_count;
    rs_custrec_list lists[RS_CUSTREC_NLISTS];
    double ranked_precision;      /* the ranked method's precision@k on record (NaN: none) */
    int ranked_k;
    char ranked_split[48];        /* the split it was validated on ("" when none) */
} rs_custrec_answer;

/* The answer for customer ext_id of the city, k rows a list (1..RS_CUSTREC_K_MAX).
 * RS_EUSAGE "unknown customer 'X' in <city>" when the city has no such customer. */
int rs_custrec_query(const rs_custrec *r, const char *ext_id, int k, rs_custrec_answer **out,
                     rs_error *e);
void rs_custrec_answer_free(rs_custrec_answer *a);

#endif
