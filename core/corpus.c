/* corpus.c - see corpus.h. */
#include "corpus.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

void rs_corpus_free(rs_corpus *c)
{
    if (!c)
        return;
    free(c->item_category);
    free(c->offsets);
    free(c->items);
    free(c->weights);
    free(c->split_hash);
    free(c->city);
    free(c->ts);
    free(c->receipt_id);
    free(c);
}

/* Allocates the per-receipt arrays for n receipts and the item arrays for m items. */
static rs_corpus *corpus_alloc(int64_t n, int64_t m)
{
    rs_corpus *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->n_receipts = n;
    c->offsets = calloc((size_t)n + 1, sizeof *c->offsets);
    c->items = malloc(((size_t)m + 1) * sizeof *c->items);
    c->weights = malloc(((size_t)m + 1) * sizeof *c->weights);
    c->split_hash = malloc(((size_t)n + 1) * sizeof *c->split_hash);
    c->city = malloc(((size_t)n + 1) * sizeof *c->city);
    c->ts = malloc(((size_t)n + 1) * sizeof *c->ts);
    c->receipt_id = malloc(((size_t)n + 1) * sizeof *c->receipt_id);
    if (!c->offsets || !c->items || !c->weights || !c->split_hash || !c->city || !c->ts ||
        !c->receipt_id) {
        rs_corpus_free(c);
        return NULL;
    }
    return c;
}

static int64_t scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* product id -> category index of every product. */
static int load_categories(rs_store *s, rs_corpus *c, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    for (int32_t i = 0; i < c->n_items; i++)
        c->item_category[i] = -1;
    if (sqlite3_prepare_v2(rs_store_db(s), "SELECT id, category_id FROM products", -1, &st,
                           NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading products");
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), cat = sqlite3_column_int64(st, 1);
        if (id >= 1 && id <= c->n_items)
            c->item_category[id - 1] =
                (cat >= 1 && cat <= c->n_categories) ? (int32_t)(cat - 1) : -1;
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? RS_OK : rs_store_sqlerr(s, e, "reading products");
}

/* The receipts of the city (all with city 0), in id order; rec_index[receipts.id] = row. */
static int load_receipts(rs_store *s, rs_corpus *c, int64_t nrec, int64_t maxrec,
                         int32_t *rec_index, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT id, ext_id, city_id, ts FROM receipts%s ORDER BY id",
             c->city_id ? " WHERE city_id = ?" : "");
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading receipts");
    if (c->city_id)
        sqlite3_bind_int64(st, 1, c->city_id);
    int64_t r = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && r < nrec) {
        int64_t id = sqlite3_column_int64(st, 0);
        const void *ext = sqlite3_column_blob(st, 1);
        int extn = sqlite3_column_bytes(st, 1);
        c->receipt_id[r] = id;
        c->split_hash[r] = rs_fnv1a64(RS_FNV64_INIT, ext, (size_t)extn);
        c->city[r] = (int32_t)sqlite3_column_int64(st, 2);
        c->ts[r] = sqlite3_column_type(st, 3) == SQLITE_NULL ? INT64_MIN
                                                              : sqlite3_column_int64(st, 3);
        if (id >= 0 && id <= maxrec)
            rec_index[id] = (int32_t)r;
        r++;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        return rs_store_sqlerr(s, e, "reading receipts");
    c->n_receipts = r;
    return RS_OK;
}

/* Items arrive in primary-key order (receipt_id, product_id), and corpus rows are in
 * receipt id order, so one pass fills the CSR arrays. */
static int load_items(rs_store *s, rs_corpus *c, int64_t nitems, int64_t maxrec,
                      const int32_t *rec_index, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rs_store_db(s), "SELECT receipt_id, product_id, weight FROM "
                                           "receipt_items", -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading receipt items");
    int64_t m = 0, cur = -1;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && m < nitems) {
        int64_t rid = sqlite3_column_int64(st, 0), pid = sqlite3_column_int64(st, 1);
        if (rid < 0 || rid > maxrec || rec_index[rid] < 0 || pid < 1 || pid > c->n_items)
            continue;
        int64_t row = rec_index[rid];
        while (cur < row)
            c->offsets[++cur] = m;
        c->items[m] = (int32_t)(pid - 1);
        c->weights[m] = (float)sqlite3_column_double(st, 2);
        m++;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        return rs_store_sqlerr(s, e, "reading receipt items");
    while (cur < c->n_receipts)
        c->offsets[++cur] = m;
    return RS_OK;
}

int rs_corpus_load(rs_store *s, int64_t city_id, rs_corpus **out, rs_error *e)
{
    sqlite3 *db = rs_store_db(s);
    sqlite3_stmt *st = NULL;
    rs_corpus *c = NULL;
    int32_t *rec_index = NULL; /* receipts.id -> corpus row, -1 when not in the corpus */
    int rc = RS_OK;
    *out = NULL;

    /* One read transaction so receipts and items are a consistent snapshot even while
     * an import writes (WAL). */
    if ((rc = rs_store_exec(s, "BEGIN", e)))
        return rc;
    int64_t nprod = scalar(db, "SELECT coalesce(max(id), 0) FROM products");
    int64_t ncat = scalar(db, "SELECT coalesce(max(id), 0) FROM categories");
    int64_t maxrec = scalar(db, "SELECT coalesce(max(id), 0) FROM receipts");
    int64_t nitems = scalar(db, "SELECT count(*) FROM receipt_items");
    int64_t nrec = 0;
    {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM receipts%s",
                 city_id ? " WHERE city_id = ?" : "");
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
            rc = rs_store_sqlerr(s, e, "counting receipts");
            goto done;
        }
        if (city_id)
            sqlite3_bind_int64(st, 1, city_id);
        if (sqlite3_step(st) == SQLITE_ROW)
            nrec = sqlite3_column_int64(st, 0);
        else
            rc = rs_store_sqlerr(s, e, "counting receipts");
        sqlite3_finalize(st);
        st = NULL;
        if (rc)
            goto done;
    }
    if (nprod < 0 || ncat < 0 || maxrec < 0 || nitems < 0) {
        rc = rs_store_sqlerr(s, e, "reading sizes");
        goto done;
    }
    if (nprod > INT32_MAX || maxrec > INT32_MAX) {
        rc = rs_seterr(e, RS_EDATA, "%s: too many products or receipts for one corpus",
                       rs_store_path(s));
        goto done;
    }
    c = corpus_alloc(nrec, nitems);
    rec_index = malloc(((size_t)maxrec + 1) * sizeof *rec_index);
    if (c)
        c->item_category = malloc(((size_t)nprod + 1) * sizeof *c->item_category);
    if (!c || !rec_index || !c->item_category) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory loading receipts");
        goto done;
    }
    c->city_id = city_id;
    c->n_items = (int32_t)nprod;
    c->n_categories = (int32_t)ncat;
    for (int64_t i = 0; i <= maxrec; i++)
        rec_index[i] = -1;
    if ((rc = load_categories(s, c, e)) || (rc = load_receipts(s, c, nrec, maxrec, rec_index, e)))
        goto done;
    rc = load_items(s, c, nitems, maxrec, rec_index, e);
done:
    sqlite3_finalize(st);
    rs_store_exec(s, "COMMIT", NULL);
    free(rec_index);
    if (rc)
        rs_corpus_free(c);
    else
        *out = c;
    return rc;
}

int rs_corpus_filter(const rs_corpus *c, const uint8_t *keep, rs_corpus **out, rs_error *e)
{
    int64_t n = 0, m = 0;
    for (int64_t r = 0; r < c->n_receipts; r++)
        if (keep[r]) {
            n++;
            m += c->offsets[r + 1] - c->offsets[r];
        }
    rs_corpus *d = corpus_alloc(n, m);
    if (!d)
        return rs_seterr(e, RS_EINTERNAL, "out of memory splitting receipts");
    d->city_id = c->city_id;
    d->n_items = c->n_items;
    d->n_categories = c->n_categories;
    if (c->item_category) {
        d->item_category = malloc(((size_t)c->n_items + 1) * sizeof *d->item_category);
        if (!d->item_category) {
            rs_corpus_free(d);
            return rs_seterr(e, RS_EINTERNAL, "out of memory splitting receipts");
        }
        memcpy(d->item_category, c->item_category, (size_t)c->n_items * sizeof *d->item_category);
    }
    int64_t k = 0, j = 0;
    for (int64_t r = 0; r < c->n_receipts; r++) {
        if (!keep[r])
            continue;
        int64_t a = c->offsets[r], b = c->offsets[r + 1];
        memcpy(d->items + j, c->items + a, (size_t)(b - a) * sizeof *d->items);
        memcpy(d->weights + j, c->weights + a, (size_t)(b - a) * sizeof *d->weights);
        d->offsets[k] = j;
        d->split_hash[k] = c->split_hash[r];
        d->city[k] = c->city[r];
        d->ts[k] = c->ts[r];
        d->receipt_id[k] = c->receipt_id[r];
        j += b - a;
        k++;
    }
    d->offsets[k] = j;
    *out = d;
    return RS_OK;
}

static int split_keeps(rs_split s, uint64_t h)
{
    int b = rs_split_bucket(h);
    switch (s) {
    case RS_SPLIT_ALL: return 1;
    case RS_SPLIT_TRAIN: return b != 0;
    case RS_SPLIT_TEST: return b == 0;
    case RS_SPLIT_FIT: return b >= 2;
    case RS_SPLIT_VALID: return b == 1;
    }
    return 0;
}

int rs_corpus_split(const rs_corpus *c, rs_split split, rs_corpus **out, rs_error *e)
{
    uint8_t *keep = malloc((size_t)c->n_receipts + 1);
    if (!keep)
        return rs_seterr(e, RS_EINTERNAL, "out of memory splitting receipts");
    for (int64_t r = 0; r < c->n_receipts; r++)
        keep[r] = (uint8_t)split_keeps(split, c->split_hash[r]);
    int rc = rs_corpus_filter(c, keep, out, e);
    free(keep);
    return rc;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int rs_corpus_categories(const rs_corpus *c, rs_corpus **out, rs_error *e)
{
    if (!c->item_category)
        return rs_seterr(e, RS_EUSAGE, "already a category corpus");
    int64_t m = c->offsets[c->n_receipts];
    rs_corpus *d = corpus_alloc(c->n_receipts, m);
    if (!d)
        return rs_seterr(e, RS_EINTERNAL, "out of memory mapping receipts to categories");
    d->city_id = c->city_id;
    d->n_items = c->n_categories;
    d->n_categories = c->n_categories;
    int64_t j = 0;
    for (int64_t r = 0; r < c->n_receipts; r++) {
        int64_t start = j;
        for (int64_t i = c->offsets[r]; i < c->offsets[r + 1]; i++) {
            int32_t k = c->item_category[c->items[i]];
            if (k >= 0)
                d->items[j++] = k;
        }
        qsort(d->items + start, (size_t)(j - start), sizeof *d->items, cmp_i32);
        int64_t w = start;
        for (int64_t i = start; i < j; i++)
            if (i == start || d->items[i] != d->items[i - 1])
                d->items[w++] = d->items[i];
        j = w;
        for (int64_t i = start; i < j; i++)
            d->weights[i] = 1.0f;
        d->offsets[r] = start;
        d->split_hash[r] = c->split_hash[r];
        d->city[r] = c->city[r];
        d->ts[r] = c->ts[r];
        d->receipt_id[r] = c->receipt_id[r];
    }
    d->offsets[c->n_receipts] = j;
    *out = d;
    return RS_OK;
}

void rs_corpus_item_counts(const rs_corpus *c, int64_t *counts)
{
    memset(counts, 0, (size_t)c->n_items * sizeof *counts);
    int64_t m = c->offsets[c->n_receipts];
    for (int64_t i = 0; i < m; i++)
        counts[c->items[i]]++;
}

void rs_corpus_fingerprint(const rs_corpus *c, char *buf, size_t n)
{
    uint64_t h = RS_FNV64_INIT;
    h = rs_fnv1a64(h, c->receipt_id, (size_t)c->n_receipts * sizeof *c->receipt_id);
    h = rs_fnv1a64(h, c->items, (size_t)c->offsets[c->n_receipts] * sizeof *c->items);
    snprintf(buf, n, "receipts=%" PRId64 " items=%" PRId64 " hash=%016" PRIx64, c->n_receipts,
             c->offsets[c->n_receipts], h);
}

const char *rs_split_name(rs_split s)
{
    static const char *names[] = {"all", "train", "test", "fit", "valid"};
    return (unsigned)s < 5 ? names[s] : "?";
}

int rs_split_parse(const char *name, rs_split *out)
{
    for (int i = 0; i < 5; i++)
        if (strcmp(name, rs_split_name((rs_split)i)) == 0) {
            *out = (rs_split)i;
            return RS_OK;
        }
    return RS_EUSAGE;
}
