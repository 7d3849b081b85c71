/* clusters_store.h - derived categories in the store (schema version 3).
 *
 * Applying a clustering (clusters.h) of a product model makes its clusters the
 * catalogue's categories for the products the model holds:
 *   - a derivations row (city and model clustered, method, k, params, time, active);
 *   - a department "(derived clusters)" (ext id "derived:<derivation>") and one category
 *     per cluster under it (ext id "derived:<derivation>:<n>", n from 1, named by the
 *     cluster's name), all with categories.derived = 1;
 *   - every product of the model moved into its cluster's category, its catalogue
 *     category kept in products.source_category_id (products the model does not hold
 *     keep their category); an import that later names a product's catalogue category
 *     updates the source, not the derived category (import.c);
 *   - the active models fitted on category baskets retired (their vocabulary was the
 *     old categories: `train` fits them again), and the popularity tables refreshed.
 * One transaction: a failure leaves the database as it was.  Applying again replaces
 * the active derivation; undoing restores every product's catalogue category, deletes
 * the derived categories and retires the category-basket models again.  Derivations
 * are global (categories are), whichever city's model was clustered.
 */
#ifndef RS_CLUSTERS_STORE_H
#define RS_CLUSTERS_STORE_H

#include <stdint.h>

#include "clusters.h"
#include "embedding.h"
#include "error.h"
#include "store.h"

typedef struct rs_derivation {
    int64_t id;
    int64_t city_id;     /* the city whose model was clustered (0: all cities) */
    int64_t model_id;
    int k;
    int64_t products;    /* products in derived categories */
    int64_t retired;     /* category-basket models retired by the last apply or undo */
    char created_at[32];
} rs_derivation;

/* Applies c (a clustering of m, the registered model model_id of city_id; c->name
 * set) as described above; params is a JSON object recorded with it (NULL: "{}").
 * out (may be NULL) receives the new derivation. */
int rs_clusters_apply(rs_store *s, int64_t city_id, int64_t model_id, const rs_embedding *m,
                      const rs_clusters *c, const char *params, rs_derivation *out,
                      rs_error *e);

/* Undoes the active derivation; out (may be NULL) receives what was undone.
 * RS_EUSAGE when there is none. */
int rs_clusters_undo(rs_store *s, rs_derivation *out, rs_error *e);

/* The active derivation: *found 0 when there is none (or the schema predates them). */
int rs_clusters_current(rs_store *s, rs_derivation *out, int *found, rs_error *e);

#endif
