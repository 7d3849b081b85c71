/* corpus.h - receipts in memory, in the compact form the numeric code works on.
 *
 * A corpus is a CSR matrix receipts x products: receipt r holds the distinct product
 * indices items[offsets[r] .. offsets[r+1]), ascending.  A product index is
 * products.id - 1 (ids are dense, see store.h), so every corpus of one database shares
 * one index space, whatever city or split it covers.  A category corpus has the same
 * shape with category indices (categories.id - 1) deduplicated per receipt.
 */
#ifndef RS_CORPUS_H
#define RS_CORPUS_H

#include <stdint.h>

#include "error.h"
#include "store.h"

typedef struct rs_corpus {
    int64_t city_id;          /* 0 = all cities */
    int32_t n_items;          /* size of the index space: products (or categories) */
    int32_t n_categories;     /* categories in the database (all levels) */
    int32_t *item_category;   /* [n_items] category index of each product; -1 none.
                                 NULL in a category corpus. */
    int64_t n_receipts;
    int64_t *offsets;         /* [n_receipts + 1] */
    int32_t *items;           /* [offsets[n_receipts]] */
    float *weights;           /* [offsets[n_receipts]] receipt_items.weight */
    uint64_t *split_hash;     /* [n_receipts] FNV-1a-64 of the receipt's external id */
    int32_t *city;            /* [n_receipts] city id */
    int64_t *ts;              /* [n_receipts] unix seconds, INT64_MIN when unknown */
    int64_t *receipt_id;      /* [n_receipts] receipts.id */
} rs_corpus;

/* Which receipts a split keeps (DESIGN §4): bucket = FNV-1a-64(ext id) % 5. */
typedef enum {
    RS_SPLIT_ALL = 0,   /* everything: models for browsing */
    RS_SPLIT_TRAIN,     /* bucket != 0: fit for the reported figures */
    RS_SPLIT_TEST,      /* bucket == 0: held out, reported figures only */
    RS_SPLIT_FIT,       /* bucket >= 2: fit during grid search */
    RS_SPLIT_VALID,     /* bucket == 1: grid-search selection */
} rs_split;

/* Loads the receipts of one city (0 = all cities). */
int rs_corpus_load(rs_store *s, int64_t city_id, rs_corpus **out, rs_error *e);
void rs_corpus_free(rs_corpus *c);

/* A new corpus with the receipts of c that fall in split. */
int rs_corpus_split(const rs_corpus *c, rs_split split, rs_corpus **out, rs_error *e);
/* A new corpus with the receipts r of c where keep[r] != 0. */
int rs_corpus_filter(const rs_corpus *c, const uint8_t *keep, rs_corpus **out, rs_error *e);
/* The category corpus of a product corpus (weights: 1). */
int rs_corpus_categories(const rs_corpus *c, rs_corpus **out, rs_error *e);

/* counts[i] = number of receipts holding item i (caller allocates n_items entries). */
void rs_corpus_item_counts(const rs_corpus *c, int64_t *counts);

/* A short text that identifies the data a model was trained on (receipts, items,
 * a hash of the receipt ids and items), for the model sidecar. */
void rs_corpus_fingerprint(const rs_corpus *c, char *buf, size_t n);

const char *rs_split_name(rs_split s);
int rs_split_parse(const char *name, rs_split *out);

#endif
