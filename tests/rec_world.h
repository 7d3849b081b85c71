/* rec_world.h - the tiny hand-made world of the recommender tests (test_recommend,
 * test_recommend_i11): a database built with the store API (2 cities, 4 categories of
 * 3 products, 80 receipts), product models (all cities and city 1) and a category
 * model written with the model API; the vectors and receipts are kept here so a test
 * can compute the expected answers by brute force. */
#ifndef RS_TEST_REC_WORLD_H
#define RS_TEST_REC_WORLD_H

#include <stdint.h>

#include "store.h"

#define NP 12   /* products: category c holds products 3c .. 3c+2 */
#define NC 4
#define PDIM 4
#define CDIM 3
#define NREC 80

extern float pin[2][NP * PDIM], pout[2][NP * PDIM]; /* [0] all cities, [1] city 1 */
extern float cin[NC * CDIM], cout_[NC * CDIM];
extern int receipts[NREC][4], rsize[NREC], rcity[NREC];
extern const char *CAT_NAMES[NC];
extern const char *PROD_NAMES[NP];

/* Publishes a model of n items (ext ids ext, rows in item order, counts 10) with the
 * given input and output vectors (out NULL: a model without output vectors), active
 * for city. */
int save_model(rs_store *s, const char *dir, const char *name, const char *kind, int64_t city,
               int n, int dim, const float *in, const float *out, const char *const *ext,
               int64_t *id);

/* Builds the world in dir (dbpath receives the database's path); NULL on failure. */
rs_store *build_world(const char *dir, char *dbpath, size_t n);

#endif
