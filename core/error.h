/* error.h - the error convention of core.
 *
 * Every fallible core function returns an int: RS_OK (0) or one of the codes below,
 * which double as the process exit codes of the CLI.  The caller passes an rs_error
 * that receives a human-readable message ("file:line:col: what is wrong", or the key,
 * or the model file and what is wrong with it).  Core never prints and never exits.
 */
#ifndef RS_ERROR_H
#define RS_ERROR_H

#include <stddef.h>

enum {
    RS_OK = 0,
    RS_EUSAGE = 1,    /* bad arguments, unknown product/city asked for by the user */
    RS_EDATA = 2,     /* bad input data: CSV, JSON, model file */
    RS_EINTERNAL = 3, /* I/O, SQLite, out of memory, bugs */
};

typedef struct rs_error {
    int code;
    char msg[1024];
} rs_error;

/* Sets e (if not NULL) and returns code, so callers can write
 * `return rs_seterr(e, RS_EDATA, "%s:%d: ...", ...)`. */
int rs_seterr(rs_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message (for adding context on the way up). */
void rs_errctx(rs_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
