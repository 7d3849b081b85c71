/* embedding.h - the vectors every model kind shares (SGNS, ALS, EASE, imported
 * word2vec): rows over an index space of products or categories.
 *
 * Trainers build one in three steps: rs_embedding_vocab() chooses the rows (items
 * with enough receipts, in index order or by descending count), rs_embedding_alloc()
 * gives it its matrices, the trainer fills them; rs_embedding_check_finite() is the
 * gate before anything is saved or served.  Loaded models (model.h) hold their arrays
 * in one read-only block of the file's bytes, shared by every instance loaded from the
 * same unchanged file.
 */
#ifndef RS_EMBEDDING_H
#define RS_EMBEDDING_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* An embedding over the index space of a corpus (products or categories).  Only items
 * with count >= min_count have a row. */
typedef struct rs_embedding {
    int32_t n_items;   /* size of the index space */
    int32_t rows;      /* vocabulary size */
    int32_t dim;
    int32_t *row_item; /* [rows] item index of each row */
    int32_t *item_row; /* [n_items] row of each item, -1 when not in the vocabulary */
    float *in;         /* [rows * dim] input vectors (synonyms: cosine in.in) */
    float *out;        /* [rows * dim] output vectors (completion: in.out); NULL when the
                          model has none (EASE, imported input vectors) */
    int64_t *counts;   /* [rows] training receipts holding the item (NULL: unknown) */
    char kind[16];     /* kind recorded in the file ("" when trained in memory) */
    const char **ext_ids; /* [rows] external ids (into block) when loaded from a file,
                             else NULL */
    void *block;       /* when loaded from a file: the file's bytes in private read-only
                          memory (model_io.c), holding in/out/counts/row_item and the ext
                          id strings; item_row and ext_ids are separate heap arrays */
    size_t block_len;
    void (*release)(void *block, size_t len); /* gives block back (rs_embedding_free) */
} rs_embedding;

/* Row order of rs_embedding_vocab(). */
enum {
    RS_VOCAB_BY_INDEX = 0, /* rows in item index order */
    RS_VOCAB_BY_COUNT = 1, /* by descending count, ties by index (word2vec's order) */
};

/* A new embedding with no matrices over n_items items: a row for every item with
 * count[i] >= min_count and count[i] > 0, in the given order; counts[] holds each
 * row's count, dim is set.  rows may be 0 (the caller says why that is an error).
 * RS_EINTERNAL when out of memory. */
int rs_embedding_vocab(int32_t n_items, const int64_t *count, int64_t min_count, int order,
                       int dim, rs_embedding **out, rs_error *e);

/* Allocates m->in (and m->out when with_out) as rows x m->dim zeroed floats. */
int rs_embedding_alloc(rs_embedding *m, int with_out, rs_error *e);

void rs_embedding_free(rs_embedding *m);

/* RS_OK when every value of in and out is finite; else RS_EDATA saying which matrix,
 * row (with its external id when known) and value is NaN or infinite.  what prefixes
 * the message (a model file path, "ALS", ...).  Cheap: one pass over the matrices. */
int rs_embedding_check_finite(const rs_embedding *m, const char *what, rs_error *e);

/* scores[i] for every item index i (n_items entries): sum over the context rows of
 * in[ctx] . out[i]; items without a row get -INFINITY.  Context items without a row
 * (or out of range) are ignored.  Returns how many context items had a row, or -1
 * (all scores -INFINITY) when the model has no output matrix or memory ran out. */
int rs_embedding_score_inout(const rs_embedding *m, const int32_t *ctx, int n, float *scores);

#endif
