/* customers.h - customers as first-class rows: one per (city, customer id) seen on the
 * receipts, with their receipt count and first and last purchase times.
 *
 * The `customers` table (store.h) is derived from receipts.customer, like popularity:
 * rs_customers_refresh() runs inside every import's transaction (through
 * rs_store_refresh_popularity), so it always matches the receipts.  A customer's id
 * (customers.id) is stable across refreshes: rows are upserted by (city, ext id), never
 * renumbered, so models indexed by customer stay valid after an import adds receipts.
 * Receipts without a customer (NULL or empty) belong to no customer.
 */
#ifndef RS_CUSTOMERS_H
#define RS_CUSTOMERS_H

#include <stdint.h>

#include "error.h"
#include "store.h"

/* Recomputes the customers table from the receipts (within the caller's transaction). */
int rs_customers_refresh(rs_store *s, rs_error *e);

typedef struct rs_customer {
    int64_t id;        /* customers.id */
    int64_t city_id;
    char ext_id[128];  /* as in receipts.customer (cut at 127 bytes) */
    int64_t receipts;
    int64_t first_ts;  /* unix seconds; 0 when the receipts carry no time */
    int64_t last_ts;
} rs_customer;

/* Whether the database has the customers table (schema version 2; readers read a
 * version-1 file as it is, without customers, until a writer upgrades it). */
int rs_customers_available(rs_store *s);

/* Customers of a city (0 = every city), most receipts first (ties: smaller id), at most
 * max of them from offset.  *n receives how many were written. */
int rs_customers_list(rs_store *s, int64_t city_id, int64_t offset, int max, rs_customer *out,
                      int *n, rs_error *e);
/* Number of customers of a city (0 = every city). */
int rs_customers_count(rs_store *s, int64_t city_id, int64_t *n, rs_error *e);
/* One customer by external id in a city (0: the one with most receipts in any city).
 * RS_EUSAGE "unknown customer 'X'" when absent. */
int rs_customers_find(rs_store *s, int64_t city_id, const char *ext_id, rs_customer *out,
                      rs_error *e);

#endif
