/* w2v_format.h - the word2vec vector formats, for exchange with gensim, Spark,
 * word2vec.c and friends.
 *
 * Both start with a text header line "count dim".  Text format: then one line per
 * vector, "word v1 v2 ... vdim" separated by single spaces.  Binary format: then per
 * vector the word, one space, dim little-endian float32 values, and (as word2vec.c
 * and gensim write it) a newline.  Words are non-empty and contain no whitespace.
 */
#ifndef RS_W2V_FORMAT_H
#define RS_W2V_FORMAT_H

#include <stdint.h>
#include <stdio.h>

#include "error.h"

typedef enum {
    RS_W2V_AUTO = 0, /* reading only: decided from the first vector */
    RS_W2V_TEXT,     /* "word2vec" */
    RS_W2V_BINARY,   /* "word2vec-bin" */
} rs_w2v_format;

typedef struct rs_w2v {
    int64_t count;      /* vectors */
    int dim;
    rs_w2v_format format; /* what the file was (TEXT or BINARY) */
    char **words;       /* [count] */
    float *vectors;     /* [count * dim] */
} rs_w2v;

/* "word2vec" / "word2vec-bin" / "auto" -> format; RS_EUSAGE for anything else. */
int rs_w2v_format_parse(const char *name, rs_w2v_format *out);

/* Reads a whole file (a regular file only, opened without blocking and read into
 * private memory: core/readfile.h).  A UTF-8 byte-order mark before the header is
 * skipped.  RS_W2V_AUTO: text when the first vector line reads as text; else binary
 * when the first 4 KiB after the header hold a NUL or are not UTF-8; else text (so a
 * text file with a bad first vector gets text errors).  Every problem is RS_EDATA with the file, the line (text) or
 * vector number (binary) and what is wrong: a bad header, a vector with the wrong
 * number of values, a value that does not parse or is NaN/Inf, a duplicate word, an
 * empty word, a truncated file (fewer vectors than the header says), trailing data. */
int rs_w2v_read(const char *path, rs_w2v_format format, rs_w2v **out, rs_error *e);
void rs_w2v_free(rs_w2v *w);

/* Writes count vectors (row-major, dim floats each) under the given words to path
 * through core/atomicfile.h (an exclusive temporary file renamed into place; a target
 * that is a FIFO, a device, a directory or a symbolic link is refused with RS_EUSAGE).
 * Words must be non-empty without whitespace (RS_EUSAGE otherwise); text values are
 * printed with 9 significant digits, so a float32 reads back bit-identical. */
int rs_w2v_write(const char *path, rs_w2v_format format, int64_t count, int dim,
                 const char *const *words, const float *vectors, rs_error *e);
/* The same to an open stream (standard output for "-"); name is for messages. */
int rs_w2v_write_stream(FILE *f, const char *name, rs_w2v_format format, int64_t count,
                        int dim, const char *const *words, const float *vectors, rs_error *e);

#endif
