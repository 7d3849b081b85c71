/* search.c - the in-memory name index of the TUI's search (see search.h). */
#include "search.h"

#include <stdlib.h>
#include <string.h>

struct tui_search {
    char *text;       /* names, lowercased, each followed by '\n' */
    size_t len;
    int64_t *off;     /* [n + 1] start of each name in text */
    int32_t n;
};

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

tui_search *tui_search_new(const rs_recommender *r)
{
    int32_t n = rs_rec_n_products(r);
    tui_search *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->n = n;
    s->off = malloc(((size_t)n + 1) * sizeof *s->off);
    size_t cap = (size_t)n * 32 + 64, len = 0;
    s->text = malloc(cap);
    if (!s->off || !s->text)
        goto fail;
    for (int32_t i = 0; i < n; i++) {
        rs_rec_product info;
        const char *name = "";
        if (rs_rec_product_info(r, i, &info, NULL) == RS_OK && info.name)
            name = info.name;
        size_t k = strlen(name);
        if (len + k + 2 > cap) {
            size_t nc = (len + k + 2) * 2;
            char *t = realloc(s->text, nc);
            if (!t)
                goto fail;
            s->text = t;
            cap = nc;
        }
        s->off[i] = (int64_t)len;
        for (size_t j = 0; j < k; j++) /* a newline inside a name must not split it */
            s->text[len++] = name[j] == '\n' ? ' ' : lower(name[j]);
        s->text[len++] = '\n';
    }
    s->off[n] = (int64_t)len;
    s->text[len] = 0;
    s->len = len;
    return s;
fail:
    tui_search_free(s);
    return NULL;
}

void tui_search_free(tui_search *s)
{
    if (!s)
        return;
    free(s->text);
    free(s->off);
    free(s);
}

static int is_word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* 2: word occurs at a word start, 1: occurs inside a word, 0: absent. */
static int word_match(const char *name, size_t nlen, const char *w, size_t wl)
{
    int best = 0;
    const char *p = name, *end = name + nlen;
    while (p + wl <= end) {
        const char *hit = memmem(p, (size_t)(end - p), w, wl);
        if (!hit)
            break;
        if (hit == name || !is_word_char((unsigned char)hit[-1]))
            return 2;
        best = 1;
        p = hit + 1;
    }
    return best;
}

#define MAX_WORDS 8

int tui_search_run(const tui_search *s, const char *text, const int32_t *order, int32_t *out,
                   int max)
{
    if (!s || !text || max <= 0 || s->n == 0)
        return 0;
    char q[256];
    size_t qn = 0;
    for (const char *p = text; *p && qn + 1 < sizeof q; p++)
        q[qn++] = lower(*p) == '\n' ? ' ' : lower(*p);
    q[qn] = 0;
    const char *w[MAX_WORDS];
    size_t wl[MAX_WORDS];
    int nw = 0;
    for (char *p = q; *p && nw < MAX_WORDS;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        char *start = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        w[nw] = start;
        wl[nw] = (size_t)(p - start);
        nw++;
    }
    if (nw == 0)
        return 0;
    /* Names in ranking order (most popular first): the word-start matches fill out[]
     * from the front, the other substring matches are kept aside; the scan stops as
     * soon as max word-start matches are found, so short, common queries are cheap. */
    int lead = 0;
    for (int j = 1; j < nw; j++)
        if (wl[j] > wl[lead])
            lead = j;
    int32_t *rest = malloc((size_t)max * sizeof *rest);
    uint8_t *cand = calloc((size_t)s->n, 1);
    if (!rest || !cand) {
        free(rest);
        free(cand);
        return 0;
    }
    /* candidates: one memmem pass over all names for the longest word (hits come in
     * increasing position, so the owning name advances monotonically) */
    int32_t owner = 0;
    for (const char *p = s->text, *end = s->text + s->len; p < end;) {
        const char *hit = memmem(p, (size_t)(end - p), w[lead], wl[lead]);
        if (!hit)
            break;
        int64_t pos = hit - s->text;
        while (owner + 1 < s->n && s->off[owner + 1] <= pos)
            owner++;
        cand[owner] = 1;
        p = s->text + s->off[owner + 1];
    }
    int nfront = 0, nrest = 0;
    for (int32_t k = 0; k < s->n && nfront < max; k++) {
        int32_t i = order ? order[k] : k;
        if (i < 0 || i >= s->n || !cand[i])
            continue;
        const char *name = s->text + s->off[i];
        size_t nlen = (size_t)(s->off[i + 1] - s->off[i] - 1);
        int all_prefix = 1, ok = 1;
        for (int j = 0; j < nw && ok; j++) {
            int m = word_match(name, nlen, w[j], wl[j]);
            ok = m > 0;
            all_prefix &= m == 2;
        }
        if (!ok)
            continue;
        if (all_prefix)
            out[nfront++] = i;
        else if (nrest < max)
            rest[nrest++] = i;
    }
    int n = nfront;
    for (int k = 0; k < nrest && n < max; k++)
        out[n++] = rest[k];
    free(rest);
    free(cand);
    return n;
}

static const int64_t *sort_pop;

static int cmp_pop(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    if (sort_pop[a] != sort_pop[b])
        return sort_pop[a] > sort_pop[b] ? -1 : 1;
    return a < b ? -1 : a > b;
}

int32_t *tui_search_order(const int64_t *pop, int32_t n)
{
    int32_t *o = malloc(((size_t)n + 1) * sizeof *o);
    if (!o)
        return NULL;
    for (int32_t i = 0; i < n; i++)
        o[i] = i;
    /* qsort has no context argument in C17; the TUI sorts from one thread only */
    sort_pop = pop;
    qsort(o, (size_t)n, sizeof *o, cmp_pop);
    sort_pop = NULL;
    return o;
}
