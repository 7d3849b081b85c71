/* personal.c - first-level personal recommenders (see personal.h). */
#include "personal.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "als.h"
#include "ease.h"
#include "knn.h"

static const char *const NAMES[RS_PERS_N] = {"popularity", "buyagain", "itemitem", "ease",
                                             "als",        "sgns",     "ranked"};

const char *rs_pers_method_name(int m)
{
    return m >= 0 && m < RS_PERS_N ? NAMES[m] : NULL;
}

int rs_pers_method_parse(const char *name, int *out, rs_error *e)
{
    for (int m = 0; m < RS_PERS_N; m++)
        if (name && strcmp(name, NAMES[m]) == 0) {
            *out = m;
            return RS_OK;
        }
    return rs_seterr(e, RS_EUSAGE,
                     "unknown personal method '%s' (popularity, buyagain, itemitem, ease, "
                     "als, sgns, ranked)",
                     name ? name : "");
}

void rs_personal_parts_defaults(rs_personal_parts *p)
{
    memset(p, 0, sizeof *p);
    p->half_life_days = 30.0;
    p->half_life_orders = 4.0;
    p->als_lambda = 0.1;
    p->als_alpha = 10.0;
}

struct rs_personal {
    rs_personal_parts p;
    rs_als_scorer *als;
    /* the history: distinct items ascending, their weights and counts */
    int32_t n_hist;
    int32_t *hist;
    float *weight, *count;
    /* scratch: an item -> slot map (-1), sorting space, the SGNS query vector */
    int32_t *slot, *sorted;
    float *ws, *cs;
    float *q;
};

void rs_personal_free(rs_personal *p)
{
    if (!p)
        return;
    rs_als_scorer_free(p->als);
    free(p->hist);
    free(p->weight);
    free(p->count);
    free(p->slot);
    free(p->sorted);
    free(p->ws);
    free(p->cs);
    free(p->q);
    free(p);
}

int rs_personal_new(const rs_personal_parts *parts, rs_personal **out, rs_error *e)
{
    *out = NULL;
    rs_personal *p = calloc(1, sizeof *p);
    if (!p)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    p->p = *parts;
    size_t n = (size_t)parts->n_items + 1;
    p->hist = malloc(n * sizeof *p->hist);
    p->weight = malloc(n * sizeof *p->weight);
    p->count = malloc(n * sizeof *p->count);
    p->slot = malloc(n * sizeof *p->slot);
    p->sorted = malloc(n * sizeof *p->sorted);
    p->ws = malloc(n * sizeof *p->ws);
    p->cs = malloc(n * sizeof *p->cs);
    p->q = parts->sgns ? calloc((size_t)parts->sgns->dim + 1, sizeof *p->q) : NULL;
    int rc = RS_OK;
    if (!p->hist || !p->weight || !p->count || !p->slot || !p->sorted || !p->ws || !p->cs ||
        (parts->sgns && !p->q)) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto fail;
    }
    for (int32_t i = 0; i < parts->n_items; i++)
        p->slot[i] = -1;
    if (parts->als && (rc = rs_als_scorer_new(parts->als, parts->als_lambda, parts->als_alpha,
                                              &p->als, e)) != RS_OK)
        goto fail;
    *out = p;
    return RS_OK;
fail:
    rs_personal_free(p);
    return rc;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int rs_personal_set_history(rs_personal *p, const rs_corpus *c, const int64_t *rows,
                            int64_t n, int64_t now)
{
    for (int32_t j = 0; j < p->n_hist; j++)
        p->slot[p->hist[j]] = -1;
    p->n_hist = 0;
    int timed = n > 0;
    for (int64_t j = 0; j < n; j++)
        timed = timed && c->ts[rows[j]] != INT64_MIN;
    for (int64_t j = 0; j < n; j++) {
        int64_t r = rows[j];
        double age = timed ? (double)(now - c->ts[r]) / 86400.0 / p->p.half_life_days
                           : (double)(n - 1 - j) / p->p.half_life_orders;
        float w = (float)pow(0.5, age > 0 ? age : 0);
        for (int64_t k = c->offsets[r]; k < c->offsets[r + 1]; k++) {
            int32_t i = c->items[k];
            if (i < 0 || i >= p->p.n_items)
                continue;
            int32_t s = p->slot[i];
            if (s < 0) {
                s = p->slot[i] = p->n_hist++;
                p->hist[s] = i;
                p->weight[s] = 0.0f;
                p->count[s] = 0.0f;
            }
            p->weight[s] += w;
            p->count[s] += 1.0f;
        }
    }
    /* ascending items, their weights and counts alongside (slots re-pointed) */
    int32_t m = p->n_hist;
    memcpy(p->sorted, p->hist, (size_t)m * sizeof *p->sorted);
    qsort(p->sorted, (size_t)m, sizeof *p->sorted, cmp_i32);
    for (int32_t j = 0; j < m; j++) {
        int32_t s = p->slot[p->sorted[j]];
        p->ws[j] = p->weight[s];
        p->cs[j] = p->count[s];
    }
    memcpy(p->hist, p->sorted, (size_t)m * sizeof *p->hist);
    memcpy(p->weight, p->ws, (size_t)m * sizeof *p->weight);
    memcpy(p->count, p->cs, (size_t)m * sizeof *p->count);
    for (int32_t j = 0; j < m; j++)
        p->slot[p->hist[j]] = j;
    return p->n_hist;
}

int32_t rs_personal_history(const rs_personal *p, const int32_t **items, const float **weight,
                            const float **count)
{
    if (items)
        *items = p->hist;
    if (weight)
        *weight = p->weight;
    if (count)
        *count = p->count;
    return p->n_hist;
}

/* (sum of weight x input vector) . output vector, for the items of the product model. */
static int score_sgns(rs_personal *p, float *scores)
{
    const rs_embedding *m = p->p.sgns;
    int d = m->dim, known = 0;
    memset(p->q, 0, (size_t)d * sizeof *p->q);
    for (int32_t j = 0; j < p->n_hist; j++) {
        int32_t i = p->hist[j];
        if (i >= m->n_items || m->item_row[i] < 0)
            continue;
        cblas_saxpy(d, p->weight[j], m->in + (size_t)m->item_row[i] * (size_t)d, 1, p->q, 1);
        known++;
    }
    for (int32_t i = 0; i < p->p.n_items; i++)
        scores[i] = -INFINITY;
    if (known == 0)
        return 0;
    for (int32_t r = 0; r < m->rows; r++)
        scores[m->row_item[r]] =
            cblas_sdot(d, p->q, 1, m->out + (size_t)r * (size_t)d, 1);
    return known;
}

/* A part's scores cover its own index space; items past it cannot be scored. */
static void pad(float *scores, int32_t from, int32_t n)
{
    for (int32_t i = from; i < n; i++)
        scores[i] = -INFINITY;
}

int rs_personal_score(rs_personal *p, int m, float *scores)
{
    const rs_personal_parts *pp = &p->p;
    int32_t n = pp->n_items;
    switch (m) {
    case RS_PERS_POPULARITY:
        if (!pp->pop_counts)
            return -1;
        for (int32_t i = 0; i < n; i++)
            scores[i] = pp->pop_counts[i] > 0 ? (float)log1p((double)pp->pop_counts[i])
                                              : -INFINITY;
        return p->n_hist;
    case RS_PERS_BUYAGAIN:
        for (int32_t i = 0; i < n; i++)
            scores[i] = -INFINITY;
        for (int32_t j = 0; j < p->n_hist; j++)
            scores[p->hist[j]] = p->weight[j];
        return p->n_hist;
    case RS_PERS_ITEMITEM: {
        if (!pp->knn)
            return -1;
        int k = rs_knn_score_weighted(pp->knn, p->hist, p->weight, p->n_hist, scores);
        pad(scores, rs_knn_n_items(pp->knn), n);
        return k;
    }
    case RS_PERS_EASE: {
        if (!pp->ease)
            return -1;
        int k = rs_ease_score_weighted(pp->ease, p->hist, p->weight, p->n_hist, scores);
        pad(scores, pp->ease->n_items, n);
        return k;
    }
    case RS_PERS_ALS: {
        if (!p->als)
            return -1;
        int k = rs_als_score_weighted(p->als, p->hist, p->count, p->n_hist, scores);
        pad(scores, pp->als->n_items, n);
        return k;
    }
    case RS_PERS_SGNS:
        if (!pp->sgns || !pp->sgns->out)
            return -1;
        return score_sgns(p, scores);
    default:
        return -1;
    }
}
