/* jsonw.h - the JSON writer of the hot paths (recommend --json / --batch, serve):
 * a growing byte buffer and the values, written without printf where it counts.
 *
 * Strings are escaped as JSON requires ('"', '\\', C0 controls as \u00XX) and, so that
 * the text is inert on a terminal, DEL, C1 controls, U+2028/U+2029 and the bidirectional
 * formatting characters as \uXXXX too, invalid UTF-8 as \ufffd: by the one rule of
 * core/sanitize.c (rs_sanitize_json_char), which rs_sanitize_json applies to cJSON's
 * text, so the two writers cannot disagree.
 * Numbers are "%.7g" (the same bytes, mostly without printf's multi-precision
 * conversion); NaN and infinities are written as null.  Out of memory is sticky: the writer stops growing and sets oom, and
 * the caller checks it once at the end.  Cold paths use cJSON (then rs_sanitize_json
 * for a terminal).
 */
#ifndef RS_JSONW_H
#define RS_JSONW_H

#include <stddef.h>

typedef struct rs_jsonw {
    char *p;      /* the text, NUL-terminated once anything was written */
    size_t n, cap;
    int oom;      /* an allocation failed: the text is incomplete */
} rs_jsonw;

/* Room for more bytes (and the NUL). */
void rs_jsonw_reserve(rs_jsonw *b, size_t more);
/* Raw bytes (the caller's own JSON syntax). */
void rs_jsonw_put(rs_jsonw *b, const char *s, size_t n);
void rs_jsonw_puts(rs_jsonw *b, const char *s);
void rs_jsonw_printf(rs_jsonw *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string (quoted and escaped); NULL is written as "". */
void rs_jsonw_str(rs_jsonw *b, const char *s);
/* A decimal integer (what "%lld" prints). */
void rs_jsonw_int(rs_jsonw *b, long long v);
/* "%.7g" of x, or null when it is not finite. */
void rs_jsonw_num(rs_jsonw *b, double x);

#endif
