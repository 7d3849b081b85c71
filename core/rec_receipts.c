/* rec_receipts.c - the receipts behind a co-purchase count (see recommend.h). */
#include <stdlib.h>

#include "rec_internal.h"

/* Whether the ascending list a (n entries) holds v. */
static int holds(const int32_t *a, int64_t n, int32_t v)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && a[lo] == v;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

int rs_rec_copurchase_receipts(const rs_recommender *r, const int32_t *query, int nq,
                               int32_t p, int64_t **ids, int64_t *n, rs_error *e)
{
    *ids = NULL;
    *n = 0;
    if (!r->post_off || !r->post_receipt)
        return rs_seterr(e, RS_EUSAGE, "the co-purchase index of %s is not built (yet)",
                         r->city_name);
    if (nq < 1 || p < 0 || p >= r->n_products)
        return rs_seterr(e, RS_EUSAGE, "receipts of a pair: a product (%d of %d) and at "
                         "least one query product (%d given)", p, r->n_products, nq);
    for (int i = 0; i < nq; i++)
        if (query[i] < 0 || query[i] >= r->n_products)
            return rs_seterr(e, RS_EUSAGE, "query product %d out of range (%d products)",
                             query[i], r->n_products);
    const int32_t *pp = r->post + r->post_off[p];
    int64_t np = r->post_off[p + 1] - r->post_off[p];
    int64_t *out = malloc(((size_t)np + 1) * sizeof *out);
    if (!out)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    int64_t m = 0;
    for (int64_t i = 0; i < np; i++) {
        if (i > 0 && pp[i] == pp[i - 1])
            continue; /* a receipt listing the product twice counts once */
        for (int q = 0; q < nq; q++) {
            const int32_t *qp = r->post + r->post_off[query[q]];
            int64_t nqp = r->post_off[query[q] + 1] - r->post_off[query[q]];
            if (query[q] != p && holds(qp, nqp, pp[i])) {
                out[m++] = r->post_receipt[pp[i]];
                break;
            }
        }
    }
    qsort(out, (size_t)m, sizeof *out, cmp_i64);
    *ids = out;
    *n = m;
    return RS_OK;
}
