/* w2v_import.h - word2vec vectors (gensim, word2vec.c, Spark) as a recoscope model.
 *
 * The words of the file are external ids of the database's products (kind "product")
 * or categories (kind "category").  Words that are no known id are counted and
 * skipped; none known is an error.  An optional second file holds the output vectors
 * (gensim: syn1neg) under the same words and dimension; without it the model has input
 * vectors only (synonyms work, complements and completion need output vectors).  The
 * model is published (core/publish.h) for the city, active unless told otherwise.
 */
#ifndef RS_W2V_IMPORT_H
#define RS_W2V_IMPORT_H

#include <stdint.h>

#include "error.h"
#include "store.h"
#include "w2v_format.h"

typedef struct rs_w2v_import_opts {
    const char *input;     /* input vectors (gensim: model.wv) */
    const char *output;    /* output vectors, or NULL */
    rs_w2v_format format;  /* of both files; RS_W2V_AUTO decides per file */
    int64_t city_id;       /* 0 = all cities */
    const char *kind;      /* RS_KIND_PRODUCT or RS_KIND_CATEGORY */
    int activate;
} rs_w2v_import_opts;

typedef struct rs_w2v_import_result {
    int64_t id;                /* the registered model */
    int64_t words;             /* vectors in the input file */
    int64_t known;             /* of them, known ids: the model's rows */
    int dim;
    int has_output;
    rs_w2v_format format;      /* what the input file was */
    char first_unknown[256];   /* the first word skipped (raw data: sanitize to print),
                                  "" when every word is known */
    char path[1024];           /* the model file written */
} rs_w2v_import_result;

/* Reads, maps, publishes.  words, known and first_unknown are set as soon as the words
 * are mapped, also when a later step fails (so the caller can warn about them).  Errors (RS_EDATA for the files' contents, with the file,
 * line or vector and what is wrong; RS_EUSAGE for a missing file) may quote words:
 * they are raw data, sanitize them before printing. */
int rs_w2v_import(rs_store *s, const rs_w2v_import_opts *o, rs_w2v_import_result *r,
                  rs_error *e);

#endif
