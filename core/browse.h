/* browse.h - the reads of the terminal interface: what it lists (cities, which cities
 * own models, whether the registry changed) and the rows of its metric panel (active
 * models, evaluations, grid-search runs), so that no SQL lives outside core.
 *
 * Every function reads only; errors carry the SQLite message (rs_store_sqlerr).  Rows
 * come back in one rs_browse_rows (free it with rs_browse_rows_free); metric and
 * parameter objects are handed over as the JSON text the writers stored (train, eval,
 * the grid search), for the caller to read.
 */
#ifndef RS_BROWSE_H
#define RS_BROWSE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct rs_store rs_store;

typedef struct rs_browse_city {
    int64_t id;
    char *name;
    int64_t receipts;
} rs_browse_city;

/* The cities, by id.  *out is malloc-ed (free with rs_browse_cities_free). */
int rs_browse_cities(rs_store *s, rs_browse_city **out, int *n, rs_error *e);
void rs_browse_cities_free(rs_browse_city *c, int n);

/* Which cities own an active model of a kind (split "all"): for each of the n ids,
 * own_product[i] / own_category[i] are set to 0 or 1.  A city id not in the registry
 * gets 0. */
int rs_browse_model_owners(rs_store *s, const int64_t *city_ids, int n, int *own_product,
                           int *own_category, rs_error *e);

/* A short signature of the model registry ("count/max id/sum of active ids") that
 * changes when a model is added or activated. */
int rs_browse_models_signature(rs_store *s, char *buf, size_t n, rs_error *e);

/* One row of the metric panel's sections. */
typedef struct rs_browse_row {
    int64_t id;       /* models.id / runs.id (0 for an evaluation) */
    int64_t city_id;
    int64_t model_id; /* runs: the model the run produced (0: none) */
    char *kind;       /* models, runs: kind; evaluations: the method */
    char *split;      /* models, evaluations ("" for runs) */
    char *params;     /* runs: the parameters' JSON, or NULL */
    char *metrics;    /* the metrics' JSON, or NULL */
    double seconds;   /* models: training seconds, runs: run seconds (0 when NULL) */
    int has_seconds;  /* the column was not NULL */
    int selected;     /* runs: the grid search selected it */
    char created_at[32]; /* ISO 8601 UTC, "" when unknown */
    char *models;     /* evaluations: the models it measured ({"kind":id}), or NULL (a
                         baseline, or a row written before evaluations recorded them) */
    int stale;        /* evaluations: one of those models is no longer in use */
} rs_browse_row;

typedef struct rs_browse_rows {
    rs_browse_row *v;
    int n;
    int64_t city_id; /* the city whose rows these are (the fallback: 0 = all cities) */
} rs_browse_rows;

void rs_browse_rows_free(rs_browse_rows *r);

/* The active models of the city and of all cities (city 0), ordered by kind, the
 * city's own first, then split. */
int rs_browse_active_models(rs_store *s, int64_t city_id, rs_browse_rows *out, rs_error *e);
/* The latest evaluation per (method, split) of the city, or of all cities when the
 * city has none (out->city_id says which), ordered by method and split; with the
 * models each measured and whether they are stale (rs_evaluation_stale, model.h). */
int rs_browse_evaluations(rs_store *s, int64_t city_id, rs_browse_rows *out, rs_error *e);
/* The grid-search runs of the city, or of all cities when the city has none, in run
 * order. */
int rs_browse_runs(rs_store *s, int64_t city_id, rs_browse_rows *out, rs_error *e);

/* The trust signal of a pane: the HR@10 of the model serving it beside popularity's,
 * on the same part of the data.  Held-out when an evaluation of the model's method
 * (kinds.h label: "sgns in.out", "category sgns in.out") measured this very model (the
 * evaluation's models record it; rows written before they did: an evaluation of the
 * model's city not older than the model), with popularity's ("popularity", "category
 * popularity") of the same evaluation run; else validation: the model's own figures from
 * `train` and the popularity candidate of the same validation part (runs of kind
 * "completion"; product baskets only).  Unknown figures are NaN. */
typedef struct rs_browse_trust {
    char scorer[48];    /* the kind's title: "product SGNS", "category SGNS" */
    double hr, pop_hr;  /* HR@10 */
    char split[32];     /* "held-out" or "validation" */
    int stale;          /* an evaluation exists, but of an older model */
} rs_browse_trust;

int rs_browse_model_trust(rs_store *s, int64_t model_id, rs_browse_trust *out, rs_error *e);

/* The method serving completion in evaluations of a model kind ("sgns in.out"), and the
 * popularity method beside it ("popularity", "category popularity"); NULL for an
 * unknown kind. */
const char *rs_browse_kind_method(const char *kind);
const char *rs_browse_kind_baseline(const char *kind);

/* The items (rows) of the active model of (city, kind, split "all") with the registry
 * id model_id, as a 0/1 map over n_items item indices: *in is calloc-ed
 * (n_items + 1 bytes) and *rows receives the number of distinct items.  RS_EUSAGE
 * when the active model is not model_id (the registry moved on), or the loader's
 * error for a broken file. */
int rs_browse_model_items(rs_store *s, int64_t city_id, const char *kind, int64_t model_id,
                          int32_t n_items, uint8_t **in, int32_t *rows, rs_error *e);

/* One receipt of the drill-down (the receipts behind a co-purchase count). */
typedef struct rs_browse_receipt {
    int64_t id;
    char *ext_id;
    int64_t ts;         /* unix seconds (has_ts 0: unknown) */
    int has_ts;
    char *customer;     /* NULL when unknown */
    int32_t *products;  /* product indices (products.id - 1), ascending */
    int n_products;
} rs_browse_receipt;

/* The receipts with these ids, latest first (by time, then id; receipts without a
 * time last): *out is malloc-ed (rs_browse_receipts_free), *n may be below n_ids when
 * an id is not in the store. */
int rs_browse_receipts(rs_store *s, const int64_t *ids, int n_ids, rs_browse_receipt **out,
                       int *n, rs_error *e);
void rs_browse_receipts_free(rs_browse_receipt *v, int n);

#endif
