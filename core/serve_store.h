/* serve_store.h - what `recoscope serve` and `train --if-changed` ask the store.
 *
 * The service reads the database only (RS_STORE_READONLY): the active models (their
 * ids and ages for /metrics) and a signature of everything a recommender loads, polled
 * to notice that `train` or `import` ran (the cities come from browse.h).
 *
 * Staleness (train --if-changed).  Receipts are only ever added (import never deletes
 * or rewrites a receipt; ids grow), and a model's fingerprint (corpus.h) records the
 * number of receipts it was fitted on ("receipts=N ...").  A city's split-"all" models
 * were fitted on every receipt of the city, so the receipts newer than such a model
 * are exactly the city's receipts beyond those N: the city is stale when its receipt
 * count now differs from N.  For a model without that fingerprint (imported with
 * `import-model`) or of another split, the rule falls back to time: stale when a
 * receipts file was imported (import_ledger) at or after the model was registered.
 * A city with no active model of the split is stale.
 */
#ifndef RS_SERVE_STORE_H
#define RS_SERVE_STORE_H

#include <stdint.h>

#include "error.h"
#include "store.h"

typedef struct rs_serve_model {
    int64_t id;
    int64_t city_id;
    char kind[16];
    char split[8];
    int64_t created;      /* unix seconds (registration time) */
    int64_t receipts;     /* from the fingerprint; -1 when it has none */
} rs_serve_model;

/* The active models of every city and kind (city, kind, split order).  free(*out). */
int rs_serve_active_models(rs_store *s, rs_serve_model **out, int *n, rs_error *e);

/* A short text that changes whenever the models (the registry signature of browse.h),
 * the catalogue or the receipts change: "<registry> products=N ledger=M". */
int rs_serve_signature(rs_store *s, char *buf, size_t n, rs_error *e);

typedef struct rs_serve_stale {
    int64_t city_id;
    int stale;           /* 1: retrain */
    int64_t receipts;    /* receipts of the city now */
    int64_t trained_on;  /* receipts the oldest active model was fitted on (-1 unknown) */
    char reason[160];    /* why it is (or is not) stale, for the train log */
} rs_serve_stale;

/* For each of cities[0..n) (0 = all cities): is any active model of split and of one
 * of kinds (a NULL-terminated list of kind names; NULL = every kind) stale by the rule
 * above.  out[i] receives city i's verdict (caller allocates n entries). */
int rs_serve_stale_cities(rs_store *s, const int64_t *cities, int n, const char *split,
                          const char *const *kinds, rs_serve_stale *out, rs_error *e);

#endif
