/* knn.c - sparse item-item co-occurrence counts and cosine scores. */
#include "knn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct rs_knn {
    int32_t n_items;
    int64_t *count;   /* [n_items] */
    int64_t *off;     /* [n_items + 1] */
    int32_t *nbr;     /* [nnz] ascending per row */
    int32_t *co;      /* [nnz] */
    float *sim;       /* [nnz] */
};

void rs_knn_free(rs_knn *k)
{
    if (!k)
        return;
    free(k->count);
    free(k->off);
    free(k->nbr);
    free(k->co);
    free(k->sim);
    free(k);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int rs_knn_build(const rs_corpus *c, rs_knn **out, rs_error *e)
{
    int rc = RS_EINTERNAL;
    int32_t n = c->n_items;
    int64_t *toff = NULL, *fill = NULL;
    int64_t *trc = NULL;     /* receipts of each item (transpose) */
    int32_t *acc = NULL, *touched = NULL;
    rs_knn *k = calloc(1, sizeof *k);
    *out = NULL;
    if (!k)
        goto oom;
    k->n_items = n;
    k->count = calloc((size_t)n + 1, sizeof *k->count);
    k->off = calloc((size_t)n + 1, sizeof *k->off);
    toff = calloc((size_t)n + 1, sizeof *toff);
    fill = calloc((size_t)n + 1, sizeof *fill);
    acc = calloc((size_t)n + 1, sizeof *acc);
    touched = malloc(((size_t)n + 1) * sizeof *touched);
    if (!k->count || !k->off || !toff || !fill || !acc || !touched)
        goto oom;
    int64_t nnz_items = c->offsets[c->n_receipts];
    for (int64_t p = 0; p < nnz_items; p++)
        k->count[c->items[p]]++;
    for (int32_t i = 0; i < n; i++)
        toff[i + 1] = toff[i] + k->count[i];
    trc = malloc(((size_t)nnz_items + 1) * sizeof *trc);
    if (!trc)
        goto oom;
    for (int64_t r = 0; r < c->n_receipts; r++)
        for (int64_t p = c->offsets[r]; p < c->offsets[r + 1]; p++) {
            int32_t i = c->items[p];
            trc[toff[i] + fill[i]++] = r;
        }
    /* Two passes: count the neighbours of each row, then fill them. */
    for (int pass = 0; pass < 2; pass++) {
        for (int32_t i = 0; i < n; i++) {
            int nt = 0;
            for (int64_t q = toff[i]; q < toff[i + 1]; q++) {
                int64_t r = trc[q];
                for (int64_t p = c->offsets[r]; p < c->offsets[r + 1]; p++) {
                    int32_t j = c->items[p];
                    if (j == i)
                        continue;
                    if (acc[j]++ == 0)
                        touched[nt++] = j;
                }
            }
            if (pass == 0) {
                k->off[i + 1] = k->off[i] + nt;
            } else {
                qsort(touched, (size_t)nt, sizeof *touched, cmp_i32);
                int64_t base = k->off[i];
                for (int t = 0; t < nt; t++) {
                    int32_t j = touched[t];
                    k->nbr[base + t] = j;
                    k->co[base + t] = acc[j];
                    k->sim[base + t] =
                        (float)(acc[j] / sqrt((double)k->count[i] * (double)k->count[j]));
                }
            }
            for (int t = 0; t < nt; t++)
                acc[touched[t]] = 0;
        }
        if (pass == 0) {
            size_t nnz = (size_t)k->off[n] + 1;
            k->nbr = malloc(nnz * sizeof *k->nbr);
            k->co = malloc(nnz * sizeof *k->co);
            k->sim = malloc(nnz * sizeof *k->sim);
            if (!k->nbr || !k->co || !k->sim)
                goto oom;
        }
    }
    *out = k;
    k = NULL;
    rc = RS_OK;
    goto done;
oom:
    rc = rs_seterr(e, RS_EINTERNAL, "item-item: out of memory (%d items)", (int)n);
done:
    rs_knn_free(k);
    free(toff);
    free(fill);
    free(trc);
    free(acc);
    free(touched);
    return rc;
}

int32_t rs_knn_n_items(const rs_knn *k) { return k->n_items; }
int64_t rs_knn_nnz(const rs_knn *k) { return k->off[k->n_items]; }

int64_t rs_knn_count(const rs_knn *k, int32_t i)
{
    return (i >= 0 && i < k->n_items) ? k->count[i] : 0;
}

static int64_t find(const rs_knn *k, int32_t a, int32_t b)
{
    if (a < 0 || b < 0 || a >= k->n_items || b >= k->n_items)
        return -1;
    int64_t lo = k->off[a], hi = k->off[a + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (k->nbr[mid] < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < k->off[a + 1] && k->nbr[lo] == b) ? lo : -1;
}

int64_t rs_knn_cooc(const rs_knn *k, int32_t a, int32_t b)
{
    int64_t p = find(k, a, b);
    return p < 0 ? 0 : k->co[p];
}

float rs_knn_sim(const rs_knn *k, int32_t a, int32_t b)
{
    int64_t p = find(k, a, b);
    return p < 0 ? 0.0f : k->sim[p];
}

int rs_knn_score(const rs_knn *k, const int32_t *ctx, int n, float *scores)
{
    return rs_knn_score_weighted(k, ctx, NULL, n, scores);
}

int rs_knn_score_weighted(const rs_knn *k, const int32_t *ctx, const float *w, int n,
                          float *scores)
{
    int known = 0;
    for (int32_t i = 0; i < k->n_items; i++)
        scores[i] = -INFINITY;
    for (int t = 0; t < n; t++) {
        int32_t q = ctx[t];
        if (q < 0 || q >= k->n_items || k->count[q] == 0)
            continue;
        known++;
        float x = w ? w[t] : 1.0f;
        for (int64_t p = k->off[q]; p < k->off[q + 1]; p++) {
            int32_t j = k->nbr[p];
            if (scores[j] == -INFINITY)
                scores[j] = 0.0f;
            scores[j] += w ? x * k->sim[p] : k->sim[p];
        }
    }
    return known;
}
