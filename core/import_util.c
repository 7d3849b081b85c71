/* import_util.c - the importer's string pool, string map and text helpers
 * (import_int.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_int.h"

/* ---- string pool ---------------------------------------------------------------- */

char *strpool_alloc(strpool *a, size_t n)
{
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > ((size_t)1 << 20) ? n : ((size_t)1 << 20);
        strpool_block *b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    char *p = a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

char *strpool_dup(strpool *a, const char *s, size_t n)
{
    char *p = strpool_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void strpool_free(strpool *a)
{
    for (strpool_block *b = a->head, *nx; b; b = nx) {
        nx = b->next;
        free(b);
    }
    a->head = NULL;
}

/* ---- string map ------------------------------------------------------------------ */

static int sm_grow(strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    sment *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        sment *x = &m->t[i];
        if (!x->k)
            continue;
        size_t j = x->h & (cap - 1);
        while (t[j].k)
            j = (j + 1) & (cap - 1);
        t[j] = *x;
    }
    free(m->t);
    m->t = t;
    m->cap = cap;
    return 0;
}

int sm_put2(strmap *m, const char *s, size_t n, int64_t v, const char **stored)
{
    if ((m->len + 1) * 2 > m->cap && sm_grow(m))
        return -1;
    uint64_t h = imp_hstr(s, n);
    char *k = strpool_dup(&m->keys, s, n);
    if (!k)
        return -1;
    size_t j = h & (m->cap - 1);
    while (m->t[j].k)
        j = (j + 1) & (m->cap - 1);
    m->t[j] = (sment){k, h, v, (uint32_t)n};
    m->len++;
    if (stored)
        *stored = k;
    return 0;
}

int sm_put(strmap *m, const char *s, size_t n, int64_t v) { return sm_put2(m, s, n, v, NULL); }

void sm_free(strmap *m)
{
    free(m->t);
    strpool_free(&m->keys);
    memset(m, 0, sizeof *m);
}

/* ---- numbers and text ------------------------------------------------------------- */

int imp_parse_num(const char *s, size_t n, double *out)
{
    imp_trim(&s, &n);
    if (n == 0 || n > 63)
        return -1;
    size_t i = 0;
    int neg = 0;
    if (s[i] == '-' || s[i] == '+')
        neg = s[i++] == '-';
    double v = 0;
    size_t digits = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        v = v * 10 + (s[i++] - '0');
        digits++;
    }
    if (i == n && digits) {
        *out = neg ? -v : v;
        return 0;
    }
    char buf[64];
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    if (end == buf || *end || errno == ERANGE || d - d != 0) /* NaN and infinities too */
        return -1;
    *out = d;
    return 0;
}

char *imp_utf8_fix(strpool *a, const char *s, size_t n, size_t *outn)
{
    char *o = strpool_alloc(a, n * 3 + 1), *q = o;
    if (!o)
        return NULL;
    size_t i = 0;
    while (i < n) {
        size_t k = 1;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
            if (k == 0 || i + k > n || !rs_utf8_valid(s + i, k)) {
                memcpy(q, "\xEF\xBF\xBD", 3);
                q += 3;
                i++;
                continue;
            }
        }
        memcpy(q, s + i, k);
        q += k;
        i += k;
    }
    *q = '\0';
    *outn = (size_t)(q - o);
    return o;
}

int imp_is_na(const char *p, size_t n)
{
    return n == 0 || (n == 2 && strncasecmp(p, "NA", 2) == 0) ||
           (n == 4 && strncasecmp(p, "NULL", 4) == 0);
}
