/* embedding.c - the shared vocabulary skeleton, freeing, the finiteness gate and the
 * in.out scorer of rs_embedding (see embedding.h). */
#include "embedding.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_rows_by_count(const void *a, const void *b, void *ctx)
{
    const int64_t *cnt = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (cnt[x] != cnt[y])
        return cnt[x] > cnt[y] ? -1 : 1;
    return (x > y) - (x < y);
}

int rs_embedding_vocab(int32_t n_items, const int64_t *count, int64_t min_count, int order,
                       int dim, rs_embedding **out, rs_error *e)
{
    *out = NULL;
    rs_embedding *m = calloc(1, sizeof *m);
    if (!m)
        return rs_seterr(e, RS_EINTERNAL, "out of memory building a vocabulary");
    m->n_items = n_items;
    m->dim = dim;
    m->item_row = malloc(((size_t)n_items + 1) * sizeof *m->item_row);
    m->row_item = malloc(((size_t)n_items + 1) * sizeof *m->row_item);
    if (!m->item_row || !m->row_item)
        goto oom;
    int32_t rows = 0;
    for (int32_t i = 0; i < n_items; i++)
        if (count[i] >= min_count && count[i] > 0)
            m->row_item[rows++] = i;
    if (order == RS_VOCAB_BY_COUNT && rows > 1)
        qsort_r(m->row_item, (size_t)rows, sizeof *m->row_item, cmp_rows_by_count,
                (void *)(uintptr_t)count);
    for (int32_t i = 0; i < n_items; i++)
        m->item_row[i] = -1;
    for (int32_t r = 0; r < rows; r++)
        m->item_row[m->row_item[r]] = r;
    m->rows = rows;
    m->counts = malloc(((size_t)rows + 1) * sizeof *m->counts);
    if (!m->counts)
        goto oom;
    for (int32_t r = 0; r < rows; r++)
        m->counts[r] = count[m->row_item[r]];
    *out = m;
    return RS_OK;
oom:
    rs_embedding_free(m);
    return rs_seterr(e, RS_EINTERNAL, "out of memory building a vocabulary");
}

int rs_embedding_alloc(rs_embedding *m, int with_out, rs_error *e)
{
    size_t cells = (size_t)m->rows * (size_t)m->dim;
    m->in = calloc(cells + 1, sizeof *m->in);
    m->out = with_out ? calloc(cells + 1, sizeof *m->out) : NULL;
    if (!m->in || (with_out && !m->out))
        return rs_seterr(e, RS_EINTERNAL, "out of memory: %d x %d vectors", m->rows, m->dim);
    return RS_OK;
}

void rs_embedding_free(rs_embedding *m)
{
    if (!m)
        return;
    if (m->block) {
        if (m->release)
            m->release(m->block, m->block_len);
    } else {
        free(m->row_item);
        free(m->in);
        free(m->out);
        free(m->counts);
    }
    free(m->item_row);
    free(m->ext_ids);
    free(m);
}

/* Index of the first NaN or infinity in v[0..n), or n.  Checked on the bit pattern
 * (exponent all ones), blockwise so the common all-finite case vectorises. */
static size_t first_nonfinite(const float *v, size_t n)
{
    const size_t B = 1024;
    for (size_t at = 0; at < n; at += B) {
        size_t end = n - at < B ? n : at + B;
        uint32_t bad = 0;
        for (size_t i = at; i < end; i++) {
            uint32_t u;
            memcpy(&u, &v[i], 4);
            bad |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
        }
        if (bad)
            for (size_t i = at; i < end; i++)
                if (!isfinite(v[i]))
                    return i;
    }
    return n;
}

int rs_embedding_check_finite(const rs_embedding *m, const char *what, rs_error *e)
{
    size_t cells = (size_t)m->rows * (size_t)m->dim;
    for (int k = 0; k < 2; k++) {
        const float *v = k == 0 ? m->in : m->out;
        if (!v)
            continue;
        size_t i = first_nonfinite(v, cells);
        if (i == cells)
            continue;
        int32_t row = (int32_t)(i / (size_t)m->dim);
        int col = (int)(i % (size_t)m->dim);
        const char *id = m->ext_ids ? m->ext_ids[row] : NULL;
        return rs_seterr(e, RS_EDATA, "%s: non-finite value in row %d%s%s%s of the %s "
                         "matrix: value %d is %s", what ? what : "model", row,
                         id ? " (id \"" : "", id ? id : "", id ? "\")" : "",
                         k == 0 ? "input" : "output", col + 1, isnan(v[i]) ? "NaN" : "infinite");
    }
    return RS_OK;
}

int rs_embedding_score_inout(const rs_embedding *m, const int32_t *ctx, int n, float *scores)
{
    for (int32_t i = 0; i < m->n_items; i++)
        scores[i] = -INFINITY;
    if (!m->out || m->rows == 0)
        return -1;
    float *v = calloc((size_t)m->dim, sizeof *v);
    float *rs = malloc((size_t)m->rows * sizeof *rs);
    int used = -1;
    if (!v || !rs)
        goto done;
    used = 0;
    for (int k = 0; k < n; k++) {
        if (ctx[k] < 0 || ctx[k] >= m->n_items)
            continue;
        int32_t r = m->item_row[ctx[k]];
        if (r < 0)
            continue;
        used++;
        const float *x = m->in + (size_t)r * m->dim;
        for (int d = 0; d < m->dim; d++)
            v[d] += x[d];
    }
    if (used == 0)
        goto done;
    cblas_sgemv(CblasRowMajor, CblasNoTrans, m->rows, m->dim, 1.0f, m->out, m->dim, v, 1, 0.0f,
                rs, 1);
    for (int32_t r = 0; r < m->rows; r++)
        scores[m->row_item[r]] = rs[r];
done:
    free(v);
    free(rs);
    return used;
}
