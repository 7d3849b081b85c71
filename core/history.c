/* history.c - customers' histories over a corpus (see history.h). */
#include "history.h"

#include <stdlib.h>
#include <string.h>

#include "customers.h"

void rs_histories_free(rs_histories *h)
{
    if (!h)
        return;
    for (int32_t c = 0; h->ext_id && c < h->n_customers; c++)
        free(h->ext_id[c]);
    free(h->ext_id);
    free(h->customer_id);
    free(h->off);
    free(h->rec);
    free(h->row_customer);
    free(h);
}

/* receipts.id -> corpus row, through a sorted copy of the corpus's receipt ids (the
 * corpus is in receipt id order, but a filtered one need not start at 1). */
static int64_t row_of_receipt(const rs_corpus *c, int64_t rid)
{
    int64_t lo = 0, hi = c->n_receipts - 1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (c->receipt_id[mid] == rid)
            return mid;
        if (c->receipt_id[mid] < rid)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* Rows of one customer by time, unknown times (INT64_MIN) first, then receipt id
 * (qsort_r: the corpus is the context). */
static int cmp_rows(const void *a, const void *b, void *ctx)
{
    const rs_corpus *c = ctx;
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    int64_t tx = c->ts[x], ty = c->ts[y];
    if (tx != ty)
        return tx < ty ? -1 : 1;
    int64_t ix = c->receipt_id[x], iy = c->receipt_id[y];
    return (ix > iy) - (ix < iy);
}

/* Reads (receipt id, customer index) pairs of the corpus's city into row_customer and
 * the customers' ids into h. */
static int read_customers(rs_store *s, const rs_corpus *c, rs_histories *h, rs_error *e)
{
    sqlite3 *db = rs_store_db(s);
    sqlite3_stmt *st = NULL;
    int rc = RS_OK, step;
    int64_t n = 0, cap = 0;
    const char *sql =
        c->city_id ? "SELECT r.id, k.id, k.ext_id FROM receipts r JOIN customers k"
                     " ON k.city_id = r.city_id AND k.ext_id = r.customer"
                     " WHERE r.city_id = ?1 ORDER BY k.id"
                   : "SELECT r.id, k.id, k.ext_id FROM receipts r JOIN customers k"
                     " ON k.city_id = r.city_id AND k.ext_id = r.customer ORDER BY k.id";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading customers' receipts");
    if (c->city_id)
        sqlite3_bind_int64(st, 1, c->city_id);
    int64_t last = -1;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t rid = sqlite3_column_int64(st, 0), kid = sqlite3_column_int64(st, 1);
        int64_t row = row_of_receipt(c, rid);
        if (row < 0)
            continue;
        if (kid != last) {
            if (n == cap) {
                int64_t nc = cap ? cap * 2 : 256;
                int64_t *ids = realloc(h->customer_id, (size_t)nc * sizeof *ids);
                if (ids)
                    h->customer_id = ids;
                char **ex = realloc(h->ext_id, (size_t)nc * sizeof *ex);
                if (ex)
                    h->ext_id = ex;
                if (!ids || !ex) {
                    rc = rs_seterr(e, RS_EINTERNAL, "out of memory reading customers");
                    break;
                }
                cap = nc;
            }
            const char *x = (const char *)sqlite3_column_text(st, 2);
            h->customer_id[n] = kid;
            h->ext_id[n] = strdup(x ? x : "");
            h->n_customers = (int32_t)++n;
            if (!h->ext_id[n - 1]) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory reading customers");
                break;
            }
            last = kid;
        }
        h->row_customer[row] = (int32_t)(n - 1);
    }
    if (rc == RS_OK && step != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "reading customers' receipts");
    sqlite3_finalize(st);
    return rc;
}

int rs_histories_load(rs_store *s, const rs_corpus *c, rs_histories **out, rs_error *e)
{
    *out = NULL;
    rs_histories *h = calloc(1, sizeof *h);
    if (!h)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    h->corpus = c;
    h->row_customer = malloc(((size_t)c->n_receipts + 1) * sizeof *h->row_customer);
    int rc = RS_OK;
    if (!h->row_customer) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto fail;
    }
    for (int64_t r = 0; r < c->n_receipts; r++)
        h->row_customer[r] = -1;
    if (rs_customers_available(s) && (rc = read_customers(s, c, h, e)) != RS_OK)
        goto fail;
    h->off = calloc((size_t)h->n_customers + 1, sizeof *h->off);
    h->rec = malloc(((size_t)c->n_receipts + 1) * sizeof *h->rec);
    if (!h->off || !h->rec) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto fail;
    }
    for (int64_t r = 0; r < c->n_receipts; r++)
        if (h->row_customer[r] >= 0)
            h->off[h->row_customer[r] + 1]++;
    for (int32_t k = 0; k < h->n_customers; k++)
        h->off[k + 1] += h->off[k];
    {
        int64_t *fill = malloc(((size_t)h->n_customers + 1) * sizeof *fill);
        if (!fill) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto fail;
        }
        memcpy(fill, h->off, (size_t)h->n_customers * sizeof *fill);
        for (int64_t r = 0; r < c->n_receipts; r++)
            if (h->row_customer[r] >= 0)
                h->rec[fill[h->row_customer[r]]++] = r;
        free(fill);
    }
    for (int32_t k = 0; k < h->n_customers; k++)
        qsort_r(h->rec + h->off[k], (size_t)(h->off[k + 1] - h->off[k]), sizeof *h->rec,
                cmp_rows, (void *)c);
    *out = h;
    return RS_OK;
fail:
    rs_histories_free(h);
    return rc;
}

int rs_histories_split(const rs_histories *h, int days, int orders, const uint8_t *use,
                       uint8_t *held_out, int64_t *cutoff, rs_error *e)
{
    const rs_corpus *c = h->corpus;
    *cutoff = 0;
    if ((days > 0) == (orders > 0))
        return rs_seterr(e, RS_EUSAGE, "a time split is by days or by orders (one of them)");
    memset(held_out, 0, (size_t)c->n_receipts);
    if (days > 0) {
        int64_t latest = INT64_MIN;
        for (int64_t r = 0; r < c->n_receipts; r++)
            if ((!use || use[r]) && c->ts[r] != INT64_MIN && c->ts[r] > latest)
                latest = c->ts[r];
        if (latest == INT64_MIN)
            return rs_seterr(e, RS_EUSAGE,
                             "the receipts carry no time: split by orders "
                             "(--holdout-orders K) instead of days");
        *cutoff = latest - (int64_t)days * 86400;
        for (int64_t r = 0; r < c->n_receipts; r++)
            held_out[r] = (!use || use[r]) && c->ts[r] != INT64_MIN && c->ts[r] > *cutoff;
        return RS_OK;
    }
    for (int32_t k = 0; k < h->n_customers; k++) {
        int left = orders;
        for (int64_t j = h->off[k + 1] - 1; j >= h->off[k] && left > 0; j--) {
            int64_t r = h->rec[j];
            if (use && !use[r])
                continue;
            held_out[r] = 1;
            left--;
        }
    }
    return RS_OK;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int rs_histories_customer_corpus(const rs_histories *h, const uint8_t *keep, rs_corpus **out,
                                 rs_error *e)
{
    const rs_corpus *c = h->corpus;
    *out = NULL;
    int64_t lines = 0;
    for (int64_t r = 0; r < c->n_receipts; r++)
        if (h->row_customer[r] >= 0 && (!keep || keep[r]))
            lines += c->offsets[r + 1] - c->offsets[r];
    rs_corpus *d = calloc(1, sizeof *d);
    int32_t *buf = malloc(((size_t)lines + 1) * sizeof *buf);
    int rc = RS_OK;
    if (!d || !buf)
        goto oom;
    size_t n = (size_t)h->n_customers;
    d->city_id = c->city_id;
    d->n_items = c->n_items;
    d->n_categories = c->n_categories;
    d->n_receipts = h->n_customers;
    d->offsets = calloc(n + 1, sizeof *d->offsets);
    d->items = malloc(((size_t)lines + 1) * sizeof *d->items);
    d->weights = malloc(((size_t)lines + 1) * sizeof *d->weights);
    d->split_hash = calloc(n + 1, sizeof *d->split_hash);
    d->city = calloc(n + 1, sizeof *d->city);
    d->ts = malloc((n + 1) * sizeof *d->ts);
    d->receipt_id = malloc((n + 1) * sizeof *d->receipt_id);
    if (c->item_category) {
        d->item_category = malloc(((size_t)c->n_items + 1) * sizeof *d->item_category);
        if (d->item_category)
            memcpy(d->item_category, c->item_category, (size_t)c->n_items * sizeof(int32_t));
    }
    if (!d->offsets || !d->items || !d->weights || !d->split_hash || !d->city || !d->ts ||
        !d->receipt_id || (c->item_category && !d->item_category))
        goto oom;
    int64_t used = 0;
    for (int32_t k = 0; k < h->n_customers; k++) {
        int64_t m = 0, last_ts = INT64_MIN;
        for (int64_t j = h->off[k]; j < h->off[k + 1]; j++) {
            int64_t r = h->rec[j];
            if (keep && !keep[r])
                continue;
            for (int64_t p = c->offsets[r]; p < c->offsets[r + 1]; p++)
                buf[m++] = c->items[p];
            if (c->ts[r] > last_ts)
                last_ts = c->ts[r];
            d->city[k] = c->city[r];
        }
        qsort(buf, (size_t)m, sizeof *buf, cmp_i32);
        d->offsets[k] = used;
        for (int64_t p = 0; p < m;) {
            int64_t q = p;
            while (q < m && buf[q] == buf[p])
                q++;
            d->items[used] = buf[p];
            d->weights[used] = (float)(q - p);
            used++;
            p = q;
        }
        d->receipt_id[k] = h->customer_id[k];
        d->ts[k] = last_ts;
        d->split_hash[k] = (uint64_t)h->customer_id[k];
    }
    d->offsets[n] = used;
    free(buf);
    *out = d;
    return RS_OK;
oom:
    rc = rs_seterr(e, RS_EINTERNAL, "out of memory building customer rows");
    free(buf);
    rs_corpus_free(d);
    return rc;
}
