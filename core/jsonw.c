/* jsonw.c - the JSON writer of the hot paths (jsonw.h). */
#include "jsonw.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

void rs_jsonw_reserve(rs_jsonw *b, size_t more)
{
    if (b->oom || b->n + more + 1 <= b->cap)
        return;
    size_t c = b->cap ? b->cap : 256;
    while (c < b->n + more + 1)
        c *= 2;
    char *q = realloc(b->p, c);
    if (!q) {
        b->oom = 1;
        return;
    }
    b->p = q;
    b->cap = c;
}

void rs_jsonw_put(rs_jsonw *b, const char *s, size_t n)
{
    rs_jsonw_reserve(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void rs_jsonw_puts(rs_jsonw *b, const char *s) { rs_jsonw_put(b, s, strlen(s)); }

void rs_jsonw_printf(rs_jsonw *b, const char *fmt, ...)
{
    va_list ap;
    char tmp[128];
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        rs_jsonw_put(b, tmp, (size_t)n);
        return;
    }
    rs_jsonw_reserve(b, (size_t)n);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

/* A JSON string: quotes, backslashes and C0 controls escaped here, everything from DEL
 * up by the one rule of sanitize.c (rs_sanitize_json_char, as rs_sanitize_json). */
void rs_jsonw_str(rs_jsonw *b, const char *s)
{
    rs_jsonw_put(b, "\"", 1);
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    size_t left = strlen((const char *)u);
    while (left > 0) {
        size_t run = 0;
        while (run < left && u[run] >= 0x20 && u[run] < 0x7F && u[run] != '"' && u[run] != '\\')
            run++;
        if (run) {
            rs_jsonw_put(b, (const char *)u, run);
            u += run;
            left -= run;
            continue;
        }
        unsigned c = *u;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            rs_jsonw_put(b, esc, 2);
            u++;
            left--;
        } else if (c < 0x20) {
            rs_jsonw_printf(b, "\\u%04x", c);
            u++;
            left--;
        } else {
            char out[8];
            size_t w, k = rs_sanitize_json_char(u, left, out, &w);
            rs_jsonw_put(b, out, w);
            u += k;
            left -= k;
        }
    }
    rs_jsonw_put(b, "\"", 1);
}

/* Writes "%.7g" of x as printf does into out (at least 32 bytes) and returns the
 * length, or 0 when it cannot be sure (not finite, out of its range, or the value is
 * within a hair of a rounding tie): then the caller uses snprintf. */
static int fmt_g7(double x, char *out)
{
    static const long double P10[28] = {
        1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
        1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
        1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
    int n = 0;
    if (x == 0.0) {
        if (signbit(x))
            out[n++] = '-';
        out[n++] = '0';
        out[n] = 0;
        return n;
    }
    double a = fabs(x);
    if (!(a >= 1e-20 && a < 1e20))
        return 0;
    int e = (int)floor(log10(a));
    long double y = 0;
    uint64_t d = 0;
    for (int tries = 0; tries < 3; tries++) {
        int k = 6 - e;
        if (k > 27 || k < -27)
            return 0;
        y = k >= 0 ? (long double)a * P10[k] : (long double)a / P10[-k];
        if (y < 999999.5L)
            e--;
        else if (y >= 9999999.5L)
            e++;
        else
            break;
    }
    if (!(y >= 999999.5L && y < 9999999.5L))
        return 0;
    long double fl = floorl(y), fr = y - fl;
    if (fabsl(fr - 0.5L) < 1e-6L)
        return 0; /* (nearly) a tie: printf decides on the exact binary value */
    d = (uint64_t)fl + (fr > 0.5L);
    if (d < 1000000 || d > 9999999)
        return 0;
    char dig[7];
    for (int i = 6; i >= 0; i--) {
        dig[i] = (char)('0' + d % 10);
        d /= 10;
    }
    int last = 6; /* last significant digit kept (trailing zeros dropped) */
    while (last > 0 && dig[last] == '0')
        last--;
    if (x < 0)
        out[n++] = '-';
    if (e < -4 || e >= 7) {
        out[n++] = dig[0];
        if (last > 0) {
            out[n++] = '.';
            for (int i = 1; i <= last; i++)
                out[n++] = dig[i];
        }
        out[n++] = 'e';
        out[n++] = e < 0 ? '-' : '+';
        int ae = e < 0 ? -e : e;
        if (ae >= 100)
            out[n++] = (char)('0' + ae / 100);
        out[n++] = (char)('0' + ae / 10 % 10);
        out[n++] = (char)('0' + ae % 10);
    } else if (e >= 0) {
        for (int i = 0; i <= e; i++)
            out[n++] = dig[i];
        if (last > e) {
            out[n++] = '.';
            for (int i = e + 1; i <= last; i++)
                out[n++] = dig[i];
        }
    } else {
        out[n++] = '0';
        out[n++] = '.';
        for (int i = 0; i < -e - 1; i++)
            out[n++] = '0';
        for (int i = 0; i <= last; i++)
            out[n++] = dig[i];
    }
    out[n] = 0;
    return n;
}

/* A decimal integer (what "%lld" prints). */
void rs_jsonw_int(rs_jsonw *b, long long v)
{
    char tmp[24];
    int n = (int)sizeof tmp;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--n] = '-';
    rs_jsonw_put(b, tmp + n, sizeof tmp - (size_t)n);
}

void rs_jsonw_num(rs_jsonw *b, double x)
{
    char tmp[40];
    int n;
    /* fmt_g7: the same bytes as "%.7g" without printf's multi-precision conversion
     * (most of the JSON time); printf when it is not sure */
    if (isfinite(x) && (n = fmt_g7(x, tmp)) > 0)
        rs_jsonw_put(b, tmp, (size_t)n);
    else if (isfinite(x) && (n = snprintf(tmp, sizeof tmp, "%.7g", x)) > 0 &&
             (size_t)n < sizeof tmp)
        rs_jsonw_put(b, tmp, (size_t)n);
    else if (isfinite(x))
        rs_jsonw_printf(b, "%.7g", x);
    else
        rs_jsonw_puts(b, "null");
}
