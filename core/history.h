/* history.h - customers' purchase histories over a city's corpus, and the time split
 * that evaluates personal recommendations.
 *
 * An rs_histories indexes the receipts of a corpus (corpus.h) by customer: customer c
 * (0 .. n_customers-1, in customers.id order) owns the corpus rows
 * rec[off[c] .. off[c+1]), ordered by time (receipts.ts, then receipts.id, which is
 * the import order and, for the Instacart layout, the order sequence).  Receipts
 * without a customer belong to nobody.  The corpus is borrowed, not owned.
 *
 * Time split (rs_histories_split), the protocol of `eval --customers`:
 *   - by days (days > 0): the city's cutoff T = its latest receipt time - days; every
 *     receipt after T is held out (the test window), every receipt at or before T is
 *     training data for everyone.  One cutoff for the whole city: no customer's future
 *     ever trains the models that are scored on another's.
 *   - by orders (orders > 0, for data without dates such as the Instacart layout): each
 *     customer's last `orders` receipts are held out, the rest is training data.
 *   A customer is evaluated when they have at least one training and one held-out
 *   receipt.  The validation window for selection is carved the same way from the
 *   training part alone (rs_histories_split applied to the training rows).
 */
#ifndef RS_HISTORY_H
#define RS_HISTORY_H

#include <stdint.h>

#include "corpus.h"
#include "error.h"
#include "store.h"

typedef struct rs_histories {
    const rs_corpus *corpus;  /* borrowed */
    int32_t n_customers;
    int64_t *customer_id;     /* [n_customers] customers.id */
    char **ext_id;            /* [n_customers] external ids (owned) */
    int64_t *off;             /* [n_customers + 1] into rec */
    int64_t *rec;             /* corpus rows, each customer's in time order */
    int32_t *row_customer;    /* [corpus->n_receipts] customer of each row, -1 none */
} rs_histories;

/* Indexes corpus c (the receipts of one city, rs_corpus_load) by the customers of the
 * store.  A database without customers (or a version-1 one) gives zero customers. */
int rs_histories_load(rs_store *s, const rs_corpus *c, rs_histories **out, rs_error *e);
void rs_histories_free(rs_histories *h);

/* Marks held_out[row] = 1 for the test window of the split (days or orders; exactly
 * one of them > 0), 0 otherwise; rows may be limited to those with use[row] != 0
 * (use NULL: all rows), so the validation window is the same split over the training
 * rows.  *cutoff receives T for a days split (0 for orders).  RS_EUSAGE when the
 * receipts carry no time and days > 0. */
int rs_histories_split(const rs_histories *h, int days, int orders, const uint8_t *use,
                       uint8_t *held_out, int64_t *cutoff, rs_error *e);

/* One customer per row: the distinct products of each customer's rows with keep[row]
 * (NULL: all), weights = the number of those receipts holding the product; rows in
 * customer order (customers without such rows have an empty row).  receipt_id holds
 * the customers.id and ts the latest kept receipt time.  The matrix that the
 * customer-level ALS, EASE and item-item fit on. */
int rs_histories_customer_corpus(const rs_histories *h, const uint8_t *keep, rs_corpus **out,
                                 rs_error *e);

#endif
