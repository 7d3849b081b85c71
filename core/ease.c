/* ease.c - EASE^R closed form through LAPACK Cholesky (see ease.h). */
#include "ease.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lapack.h"

int rs_ease_fit(const rs_corpus *c, double lambda, int32_t max_items, rs_embedding **out,
                rs_error *e)
{
    int rc = RS_EINTERNAL;
    rs_embedding *m = NULL;
    float *dg = NULL;
    int64_t *cnt = NULL;
    *out = NULL;
    if (!(lambda > 0.0))
        return rs_seterr(e, RS_EUSAGE, "ease_lambda must be positive (got %g)", lambda);
    if (max_items <= 0)
        max_items = RS_EASE_MAX_ITEMS;
    cnt = calloc((size_t)c->n_items + 1, sizeof *cnt);
    if (!cnt)
        goto oom;
    rs_corpus_item_counts(c, cnt);
    int32_t rows = 0;
    for (int32_t i = 0; i < c->n_items; i++)
        rows += cnt[i] > 0;
    if (rows == 0) {
        rc = rs_seterr(e, RS_EDATA, "EASE: no receipts to fit on");
        goto done;
    }
    if (rows > max_items) {
        rc = rs_seterr(e, RS_EUSAGE,
                       "EASE: %d items exceed the cap of %d (rows^2 floats in memory)",
                       (int)rows, (int)max_items);
        goto done;
    }
    m = calloc(1, sizeof *m);
    if (!m)
        goto oom;
    m->n_items = c->n_items;
    m->rows = rows;
    m->dim = rows;
    m->row_item = malloc((size_t)rows * sizeof *m->row_item);
    m->item_row = malloc(((size_t)c->n_items + 1) * sizeof *m->item_row);
    m->counts = malloc((size_t)rows * sizeof *m->counts);
    m->in = calloc((size_t)rows * (size_t)rows, sizeof *m->in);
    dg = malloc((size_t)rows * sizeof *dg);
    if (!m->row_item || !m->item_row || !m->counts || !m->in || !dg)
        goto oom;
    int32_t r = 0;
    for (int32_t i = 0; i < c->n_items; i++) {
        m->item_row[i] = cnt[i] > 0 ? r : -1;
        if (cnt[i] > 0) {
            m->row_item[r] = i;
            m->counts[r] = cnt[i];
            r++;
        }
    }
    /* G = XᵀX, both triangles (symmetric, so row/column-major agree). */
    size_t n = (size_t)rows;
    float *G = m->in;
    for (int64_t q = 0; q < c->n_receipts; q++) {
        for (int64_t a = c->offsets[q]; a < c->offsets[q + 1]; a++) {
            size_t ra = (size_t)m->item_row[c->items[a]];
            for (int64_t b = c->offsets[q]; b < c->offsets[q + 1]; b++)
                G[ra * n + (size_t)m->item_row[c->items[b]]] += 1.0f;
        }
    }
    for (size_t i = 0; i < n; i++)
        G[i * n + i] += (float)lambda;
    int nn = rows, info = 0;
    spotrf_("L", &nn, G, &nn, &info, 1);
    if (info != 0) {
        rc = rs_seterr(e, RS_EINTERNAL, "EASE: Cholesky factorisation failed (info %d)", info);
        goto done;
    }
    spotri_("L", &nn, G, &nn, &info, 1);
    if (info != 0) {
        rc = rs_seterr(e, RS_EINTERNAL, "EASE: inverse failed (info %d)", info);
        goto done;
    }
    /* Column-major lower triangle holds P: element (i, j), i >= j, at G[j*n + i].
     * Mirror it so G[i*n + j] = P[i][j] everywhere. */
    for (size_t j = 0; j < n; j++)
        for (size_t i = j + 1; i < n; i++)
            G[i * n + j] = G[j * n + i];
    for (size_t j = 0; j < n; j++)
        dg[j] = G[j * n + j];
    for (size_t i = 0; i < n; i++) {
        float *row = G + i * n;
        for (size_t j = 0; j < n; j++)
            row[j] = -row[j] / dg[j];
        row[i] = 0.0f;
    }
    *out = m;
    m = NULL;
    rc = RS_OK;
    goto done;
oom:
    rc = rs_seterr(e, RS_EINTERNAL, "EASE: out of memory");
done:
    rs_embedding_free(m);
    free(dg);
    free(cnt);
    return rc;
}

int rs_ease_score(const rs_embedding *m, const int32_t *ctx, int n, float *scores)
{
    size_t rows = (size_t)m->rows;
    int known = 0;
    /* Items outside the vocabulary stay -INFINITY; the context rows of B are summed
     * straight into the item positions. */
    for (int32_t i = 0; i < m->n_items; i++)
        scores[i] = -INFINITY;
    for (int t = 0; t < n; t++) {
        int32_t q = ctx[t];
        if (q < 0 || q >= m->n_items || m->item_row[q] < 0)
            continue;
        const float *b = m->in + (size_t)m->item_row[q] * rows;
        if (known == 0)
            for (size_t r = 0; r < rows; r++)
                scores[m->row_item[r]] = b[r];
        else
            for (size_t r = 0; r < rows; r++)
                scores[m->row_item[r]] += b[r];
        known++;
    }
    if (known == 0)
        for (size_t r = 0; r < rows; r++)
            scores[m->row_item[r]] = 0.0f;
    return known;
}
