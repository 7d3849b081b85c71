/* rec_catalogue.c - what the recommender knows about the catalogue of its city:
 * products and categories (ext ids, names, the category CSR), popularity of products
 * and categories in the city, the co-purchase index (receipts of each product), and
 * the lookups on them (external id, name search).  Loaded once at open; read-only
 * after.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "hash.h"
#include "rec_internal.h"


/* One buffer for every catalogue string (a malloc per string, 200k of them on the
 * large world, was a large share of the open time).  Offset 0 holds "" (holes, NULL
 * columns).  (Not import.c's arena: this one only appends strings.) */
typedef struct str_pool {
    char *p;
    size_t n, cap;
} str_pool;

/* Appends s with its NUL; returns its offset, or SIZE_MAX when out of memory. */
static size_t str_pool_add(str_pool *a, const unsigned char *s)
{
    if (!s || !s[0])
        return 0;
    size_t len = strlen((const char *)s) + 1;
    if (a->n + len > a->cap) {
        size_t c = a->cap ? a->cap : 1 << 16;
        while (c < a->n + len)
            c *= 2;
        char *q = realloc(a->p, c);
        if (!q)
            return SIZE_MAX;
        a->p = q;
        a->cap = c;
    }
    memcpy(a->p + a->n, s, len);
    a->n += len;
    return a->n - len;
}

static uint64_t ext_hash(const char *s)
{
    return rs_fnv1a64(RS_FNV64_INIT, s, strlen(s));
}

/* coalesce(max(id), 0) of a table (ids are dense, but trust max(id) rather than
 * count). */
static int max_id(rs_recommender *r, const char *sql, const char *what, int64_t *n,
                  rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    if (sqlite3_prepare_v2(rs_store_db(r->store), sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        rc = rs_store_sqlerr(r->store, e, what);
    else
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

#define CAT_OOM (-1) /* out of memory inside a loader: the caller says so */

/* Categories: names and ext ids into sp (offsets in *coff, 2 per category), parents.
 * RS_OK, CAT_OOM, or a store error. */
static int load_categories(rs_recommender *r, str_pool *sp, size_t **coff, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int64_t n = 0;
    int rc, step;
    if ((rc = max_id(r, "SELECT coalesce(max(id),0) FROM categories", "reading categories", &n,
                     e)))
        return rc;
    if (n > INT32_MAX - 1)
        return rs_seterr(e, RS_EDATA, "too many categories (%lld)", (long long)n);
    r->n_categories = (int32_t)n;
    r->cat_name = calloc((size_t)n + 1, sizeof *r->cat_name);
    r->cat_ext = calloc((size_t)n + 1, sizeof *r->cat_ext);
    r->cat_parent = malloc(((size_t)n + 1) * sizeof *r->cat_parent);
    size_t *off = *coff = calloc(2 * (size_t)n + 1, sizeof *off);
    if (!r->cat_name || !r->cat_ext || !r->cat_parent || !off)
        return CAT_OOM;
    for (int64_t i = 0; i < n; i++)
        r->cat_parent[i] = -1;
    if (sqlite3_prepare_v2(rs_store_db(r->store),
                           "SELECT id, name, parent_id, ext_id FROM categories", -1, &st,
                           NULL) != SQLITE_OK)
        return rs_store_sqlerr(r->store, e, "reading categories");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id < 1 || id > n)
            continue;
        if (!off[2 * (id - 1)] && !off[2 * (id - 1) + 1]) { /* the first row of an id */
            size_t a = str_pool_add(sp, sqlite3_column_text(st, 1));
            size_t b = a == SIZE_MAX ? SIZE_MAX : str_pool_add(sp, sqlite3_column_text(st, 3));
            if (a == SIZE_MAX || b == SIZE_MAX) {
                sqlite3_finalize(st);
                return CAT_OOM;
            }
            off[2 * (id - 1)] = a;
            off[2 * (id - 1) + 1] = b;
        }
        int64_t par = sqlite3_column_type(st, 2) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 2);
        r->cat_parent[id - 1] = par >= 1 && par <= n ? (int32_t)(par - 1) : -1;
    }
    if (step != SQLITE_DONE)
        rc = rs_store_sqlerr(r->store, e, "reading categories");
    sqlite3_finalize(st);
    return rc;
}

/* Products: ext ids and names into sp (offsets in *poff, 2 per product), categories.
 * RS_OK, CAT_OOM, or a store error. */
static int load_products(rs_recommender *r, str_pool *sp, size_t **poff, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int64_t n = 0;
    int rc, step;
    if ((rc = max_id(r, "SELECT coalesce(max(id),0) FROM products", "reading products", &n, e)))
        return rc;
    if (n > INT32_MAX / 4)
        return rs_seterr(e, RS_EDATA, "too many products (%lld)", (long long)n);
    r->n_products = (int32_t)n;
    r->ext = calloc((size_t)n + 1, sizeof *r->ext);
    r->name = calloc((size_t)n + 1, sizeof *r->name);
    r->prod_cat = malloc(((size_t)n + 1) * sizeof *r->prod_cat);
    r->cat_off = calloc((size_t)r->n_categories + 2, sizeof *r->cat_off);
    size_t *off = *poff = calloc(2 * (size_t)n + 1, sizeof *off);
    if (!r->ext || !r->name || !r->prod_cat || !r->cat_off || !off)
        return CAT_OOM;
    for (int64_t i = 0; i < n; i++)
        r->prod_cat[i] = -1;
    if (sqlite3_prepare_v2(rs_store_db(r->store),
                           "SELECT id, ext_id, name, category_id FROM products", -1, &st,
                           NULL) != SQLITE_OK)
        return rs_store_sqlerr(r->store, e, "reading products");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id < 1 || id > n)
            continue;
        size_t a = str_pool_add(sp, sqlite3_column_text(st, 1));
        size_t b = a == SIZE_MAX ? SIZE_MAX : str_pool_add(sp, sqlite3_column_text(st, 2));
        if (a == SIZE_MAX || b == SIZE_MAX) {
            sqlite3_finalize(st);
            return CAT_OOM;
        }
        off[2 * (id - 1)] = a;
        off[2 * (id - 1) + 1] = b;
        int64_t c = sqlite3_column_int64(st, 3);
        r->prod_cat[id - 1] = c >= 1 && c <= r->n_categories ? (int32_t)(c - 1) : -1;
    }
    if (step != SQLITE_DONE)
        rc = rs_store_sqlerr(r->store, e, "reading products");
    sqlite3_finalize(st);
    return rc;
}

/* The ext id hash table and the category CSR (holes, never expected, have "" ids and
 * are in neither).  0, or CAT_OOM. */
static int index_catalogue(rs_recommender *r)
{
    int32_t n = r->n_products;
    r->ext_cap = 16;
    while (r->ext_cap < 2 * (size_t)n + 16)
        r->ext_cap *= 2;
    if (!(r->ext_table = calloc(r->ext_cap, sizeof *r->ext_table)))
        return CAT_OOM;
    for (int32_t i = 0; i < n; i++) {
        if (!r->ext[i][0])
            continue;
        size_t h = (size_t)ext_hash(r->ext[i]) & (r->ext_cap - 1);
        while (r->ext_table[h])
            h = (h + 1) & (r->ext_cap - 1);
        r->ext_table[h] = i + 1;
        if (r->prod_cat[i] >= 0)
            r->cat_off[r->prod_cat[i] + 1]++;
    }
    for (int32_t c = 0; c < r->n_categories; c++)
        r->cat_off[c + 1] += r->cat_off[c];
    if (!(r->cat_items = malloc(((size_t)r->cat_off[r->n_categories] + 1) * sizeof *r->cat_items)))
        return CAT_OOM;
    int64_t *fill = calloc((size_t)r->n_categories + 1, sizeof *fill);
    if (!fill)
        return CAT_OOM;
    for (int32_t i = 0; i < n; i++) {
        int32_t c = r->prod_cat[i];
        if (c >= 0 && r->ext[i][0])
            r->cat_items[r->cat_off[c] + fill[c]++] = i;
    }
    free(fill);
    return 0;
}

int rec_load_catalogue(rs_recommender *r, rs_error *e)
{
    int rc = RS_OK;
    str_pool sp = {0};
    size_t *coff = NULL, *poff = NULL; /* string offsets: 2 per category / product */
    if (str_pool_add(&sp, (const unsigned char *)"x") == SIZE_MAX) { /* reserves offset 0 */
        rc = CAT_OOM;
        goto done;
    }
    sp.p[0] = 0;
    sp.n = 1;
    if ((rc = load_categories(r, &sp, &coff, e)) || (rc = load_products(r, &sp, &poff, e)))
        goto done;
    /* the pool no longer moves: point into it (holes and NULLs at offset 0, "") */
    r->strings = sp.p;
    sp.p = NULL;
    for (int32_t i = 0; i < r->n_categories; i++) {
        r->cat_name[i] = r->strings + coff[2 * (size_t)i];
        r->cat_ext[i] = r->strings + coff[2 * (size_t)i + 1];
    }
    for (int32_t i = 0; i < r->n_products; i++) {
        r->ext[i] = r->strings + poff[2 * (size_t)i];
        r->name[i] = r->strings + poff[2 * (size_t)i + 1];
    }
    rc = index_catalogue(r);
done:
    if (rc == CAT_OOM)
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory loading the catalogue");
    free(sp.p);
    free(coff);
    free(poff);
    return rc;
}
static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* percent_rank as store.c computes it: share of the sold items with a strictly smaller
 * count, over (sold - 1); unsold items get 0. */
static int percentiles_from_counts(const int64_t *counts, int32_t n, double *pct)
{
    int64_t sold = 0;
    for (int32_t i = 0; i < n; i++)
        sold += counts[i] > 0;
    for (int32_t i = 0; i < n; i++)
        pct[i] = 0.0;
    if (sold == 0)
        return 0;
    int64_t *v = malloc((size_t)sold * sizeof *v);
    if (!v)
        return -1;
    int64_t k = 0;
    for (int32_t i = 0; i < n; i++)
        if (counts[i] > 0)
            v[k++] = counts[i];
    qsort(v, (size_t)sold, sizeof *v, cmp_i64);
    for (int32_t i = 0; i < n; i++) {
        if (counts[i] <= 0)
            continue;
        int64_t lo = 0, hi = sold; /* first position with v >= counts[i] */
        while (lo < hi) {
            int64_t mid = (lo + hi) / 2;
            if (v[mid] < counts[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        pct[i] = sold > 1 ? 100.0 * (double)lo / (double)(sold - 1) : 100.0;
    }
    free(v);
    return 0;
}

/* Popularity from the store's tables; fills *have_rows with the rows found. */
static int load_popularity_tables(rs_recommender *r, int64_t *prod_rows, int64_t *cat_rows,
                                  rs_error *e)
{
    sqlite3 *db = rs_store_db(r->store);
    sqlite3_stmt *st = NULL;
    int rc = RS_OK, step;
    *prod_rows = *cat_rows = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT product_id, receipts, percentile FROM product_popularity"
                           " WHERE city_id = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = rs_store_sqlerr(r->store, e, "reading product popularity");
        goto done;
    }
    sqlite3_bind_int64(st, 1, r->city);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id < 1 || id > r->n_products)
            continue;
        r->pop[id - 1] = sqlite3_column_int64(st, 1);
        r->pct[id - 1] = sqlite3_column_double(st, 2);
        (*prod_rows)++;
    }
    if (step != SQLITE_DONE) {
        rc = rs_store_sqlerr(r->store, e, "reading product popularity");
        goto done;
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db,
                           "SELECT category_id, receipts, share, percentile"
                           " FROM category_popularity WHERE city_id = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        st = NULL;
        rc = rs_store_sqlerr(r->store, e, "reading category popularity");
        goto done;
    }
    sqlite3_bind_int64(st, 1, r->city);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id < 1 || id > r->n_categories)
            continue;
        r->cpop[id - 1] = sqlite3_column_int64(st, 1);
        r->cshare[id - 1] = sqlite3_column_double(st, 2);
        r->cpct[id - 1] = sqlite3_column_double(st, 3);
        (*cat_rows)++;
    }
    if (step != SQLITE_DONE)
        rc = rs_store_sqlerr(r->store, e, "reading category popularity");
done:
    sqlite3_finalize(st);
    return rc;
}

/* The popularity tables were never refreshed: the same numbers from the receipts. */
static int popularity_from_corpus(rs_recommender *r, const rs_corpus *c, rs_error *e)
{
    size_t nc = (size_t)r->n_categories + 1;
    int32_t nitems = c->n_items < r->n_products ? c->n_items : r->n_products;
    int64_t *cnt = calloc((size_t)c->n_items + 1, sizeof *cnt);
    if (!cnt)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    rs_corpus_item_counts(c, cnt);
    for (int32_t i = 0; i < nitems; i++)
        r->pop[i] = cnt[i];
    free(cnt);
    memset(r->cpop, 0, nc * sizeof *r->cpop);
    int64_t *seen = malloc(nc * sizeof *seen);
    if (!seen)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    for (size_t k = 0; k < nc; k++)
        seen[k] = -1;
    for (int64_t rr = 0; rr < c->n_receipts; rr++)
        for (int64_t j = c->offsets[rr]; j < c->offsets[rr + 1]; j++) {
            int32_t p = c->items[j];
            int32_t k = p >= 0 && p < r->n_products ? r->prod_cat[p] : -1;
            if (k >= 0 && seen[k] != rr) {
                seen[k] = rr;
                r->cpop[k]++;
            }
        }
    free(seen);
    for (int32_t k = 0; k < r->n_categories; k++)
        r->cshare[k] = c->n_receipts ? (double)r->cpop[k] / (double)c->n_receipts : 0.0;
    if (percentiles_from_counts(r->pop, r->n_products, r->pct) ||
        percentiles_from_counts(r->cpop, r->n_categories, r->cpct))
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    return RS_OK;
}

/* The co-purchase index: the receipts of each product, ascending. */
static int build_postings(rs_recommender *r, const rs_corpus *c, rs_error *e)
{
    size_t np = (size_t)r->n_products + 1;
    int32_t nitems = c->n_items < r->n_products ? c->n_items : r->n_products;
    r->post_off = calloc(np + 1, sizeof *r->post_off);
    if (!r->post_off)
        return rs_seterr(e, RS_EINTERNAL, "out of memory building the co-purchase index");
    int64_t total = c->offsets[c->n_receipts];
    for (int64_t j = 0; j < total; j++)
        if (c->items[j] >= 0 && c->items[j] < nitems)
            r->post_off[c->items[j] + 1]++;
    for (int32_t i = 0; i < r->n_products; i++)
        r->post_off[i + 1] += r->post_off[i];
    r->post = malloc(((size_t)r->post_off[r->n_products] + 1) * sizeof *r->post);
    r->post_receipt = malloc(((size_t)c->n_receipts + 1) * sizeof *r->post_receipt);
    int64_t *fill = calloc(np, sizeof *fill);
    if (!r->post || !r->post_receipt || !fill) {
        free(fill);
        return rs_seterr(e, RS_EINTERNAL, "out of memory building the co-purchase index");
    }
    memcpy(r->post_receipt, c->receipt_id, (size_t)c->n_receipts * sizeof *r->post_receipt);
    r->n_post_receipts = c->n_receipts;
    /* receipts in order, so every posting list comes out ascending */
    for (int64_t rr = 0; rr < c->n_receipts; rr++)
        for (int64_t j = c->offsets[rr]; j < c->offsets[rr + 1]; j++) {
            int32_t p = c->items[j];
            if (p >= 0 && p < nitems)
                r->post[r->post_off[p] + fill[p]++] = (int32_t)rr;
        }
    free(fill);
    return RS_OK;
}

/* Receipts of the city: cities.receipts, or all receipts for city 0. */
static int count_receipts(rs_recommender *r, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    const char *sql = r->city ? "SELECT receipts FROM cities WHERE id = ?1"
                              : "SELECT count(*) FROM receipts";
    if (sqlite3_prepare_v2(rs_store_db(r->store), sql, -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(r->store, e, "counting receipts");
    if (r->city)
        sqlite3_bind_int64(st, 1, r->city);
    if (sqlite3_step(st) == SQLITE_ROW)
        r->n_receipts = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return RS_OK;
}

int rec_load_popularity(rs_recommender *r, rs_error *e)
{
    int rc = RS_OK;
    rs_corpus *c = NULL;
    size_t np = (size_t)r->n_products + 1, nc = (size_t)r->n_categories + 1;
    r->pop = calloc(np, sizeof *r->pop);
    r->pct = calloc(np, sizeof *r->pct);
    r->cpop = calloc(nc, sizeof *r->cpop);
    r->cshare = calloc(nc, sizeof *r->cshare);
    r->cpct = calloc(nc, sizeof *r->cpct);
    if (!r->pop || !r->pct || !r->cpop || !r->cshare || !r->cpct)
        return rs_seterr(e, RS_EINTERNAL, "out of memory loading popularity");
    int64_t prow, crow;
    if ((rc = load_popularity_tables(r, &prow, &crow, e)))
        return rc;
    if (r->opt.no_copurchase && prow != 0 && crow != 0)
        return count_receipts(r, e); /* no need for the receipts themselves */
    if ((rc = rs_corpus_load(r->store, r->city, &c, e)))
        return rc;
    r->n_receipts = c->n_receipts;
    if (c->n_receipts > INT32_MAX)
        rc = rs_seterr(e, RS_EDATA, "too many receipts in one city for the co-purchase index");
    else if (prow == 0 || crow == 0)
        rc = popularity_from_corpus(r, c, e);
    if (!rc && !r->opt.no_copurchase)
        rc = build_postings(r, c, e);
    rs_corpus_free(c);
    return rc;
}

int rs_rec_find_ext(const rs_recommender *r, const char *ext_id, int32_t *index, rs_error *e)
{
    if (ext_id && ext_id[0] && r->ext_cap) {
        size_t h = (size_t)ext_hash(ext_id) & (r->ext_cap - 1);
        for (; r->ext_table[h]; h = (h + 1) & (r->ext_cap - 1))
            if (strcmp(r->ext[r->ext_table[h] - 1], ext_id) == 0) {
                *index = r->ext_table[h] - 1;
                return RS_OK;
            }
    }
    return rs_seterr(e, RS_EUSAGE, "unknown product '%s'", ext_id ? ext_id : "");
}

typedef struct {
    int32_t idx;
    double rank;
    int64_t pop;
} hit;

static int cmp_hit(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    if (x->pop != y->pop)
        return x->pop > y->pop ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Runs sql (?1 = pattern, ?2 = limit) and collects (product index, rank). */
static int search_sql(const rs_recommender *r, const char *sql, const char *pattern, int limit,
                      hit **hits, int *nhits, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK, step;
    *nhits = 0;
    if (sqlite3_prepare_v2(rs_store_db(r->store), sql, -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(r->store, e, "searching products");
    sqlite3_bind_text(st, 1, pattern, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, limit);
    hit *h = malloc((size_t)limit * sizeof *h + 1);
    if (!h) {
        sqlite3_finalize(st);
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW && *nhits < limit) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id < 1 || id > r->n_products)
            continue;
        h[*nhits] = (hit){(int32_t)(id - 1), sqlite3_column_double(st, 1), r->pop[id - 1]};
        (*nhits)++;
    }
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        rc = rs_store_sqlerr(r->store, e, "searching products");
    sqlite3_finalize(st);
    if (rc) {
        free(h);
        return rc;
    }
    *hits = h;
    return RS_OK;
}

/* Whether text holds anything to search for (not empty, not only white space): an
 * empty pattern would match every name, and "the best match" would be any product. */
static int searchable(const char *text)
{
    for (const char *t = text; t && *t; t++)
        if (!isspace((unsigned char)*t))
            return 1;
    return 0;
}

int rs_rec_search(const rs_recommender *r, const char *text, int32_t *out, int max, int *n,
                  rs_error *e)
{
    *n = 0;
    if (!searchable(text) || max <= 0)
        return RS_OK; /* nothing to look for: no match (not every product) */
    /* FTS query: every token (runs of letters/digits/UTF-8 bytes, as unicode61 splits
     * them) as a quoted prefix term, all required */
    size_t len = strlen(text);
    char *fts = malloc(len * 4 + 8);
    char *like = malloc(len * 2 + 8);
    hit *hits = NULL;
    int nh = 0, rc = RS_OK;
    if (!fts || !like) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    size_t o = 0;
    int tokens = 0;
    for (size_t i = 0; i < len;) {
        unsigned char ch = (unsigned char)text[i];
        if (!(isalnum(ch) || ch >= 0x80)) {
            i++;
            continue;
        }
        if (tokens++)
            fts[o++] = ' ';
        fts[o++] = '"';
        while (i < len && (isalnum((unsigned char)text[i]) || (unsigned char)text[i] >= 0x80))
            fts[o++] = text[i++];
        fts[o++] = '"';
        fts[o++] = '*';
    }
    fts[o] = 0;
    int limit = max < 200 ? 200 : max;
    if (tokens) {
        if ((rc = search_sql(r,
                             "SELECT rowid, rank FROM products_fts WHERE products_fts MATCH ?1"
                             " ORDER BY rank LIMIT ?2",
                             fts, limit, &hits, &nh, e)))
            goto done;
    }
    if (nh == 0) {
        free(hits);
        hits = NULL;
        /* substring fallback, LIKE wildcards in the text escaped */
        o = 0;
        like[o++] = '%';
        for (size_t i = 0; i < len; i++) {
            if (text[i] == '%' || text[i] == '_' || text[i] == '\\')
                like[o++] = '\\';
            like[o++] = text[i];
        }
        like[o++] = '%';
        like[o] = 0;
        if ((rc = search_sql(r,
                             "SELECT id, 0.0 FROM products WHERE name LIKE ?1 ESCAPE '\\'"
                             " LIMIT ?2",
                             like, 100000, &hits, &nh, e)))
            goto done;
    }
    qsort(hits, (size_t)nh, sizeof *hits, cmp_hit);
    for (int i = 0; i < nh && i < max; i++)
        out[(*n)++] = hits[i].idx;
done:
    free(hits);
    free(fts);
    free(like);
    return rc;
}

int rs_rec_resolve(const rs_recommender *r, const char *text, int32_t *index, rs_error *e)
{
    if (!searchable(text))
        return rs_seterr(e, RS_EUSAGE,
                         "empty product name: give an external id or words of its name");
    if (rs_rec_find_ext(r, text, index, NULL) == RS_OK)
        return RS_OK;
    int n = 0, rc = rs_rec_search(r, text, index, 1, &n, e);
    if (rc)
        return rc;
    if (n == 0)
        return rs_seterr(e, RS_EUSAGE, "no product matches '%s'", text ? text : "");
    return RS_OK;
}

/* receipts of the city holding any query product (sorted union) */
static int union_receipts(const rs_recommender *r, rs_rec_result *res, int64_t *n)
{
    rs_rec_scratch *sc = res->scratch;
    size_t total = 0;
    for (int i = 0; i < res->n_query; i++) {
        int32_t p = res->query[i];
        total += (size_t)(r->post_off[p + 1] - r->post_off[p]);
    }
    if (res->n_query > 1 && res->n_query <= 8) {
        /* a few ascending lists: merge them one by one into a sorted, duplicate-free
         * union (the same set the sort below gives, without sorting) */
        if (rec_grow(&sc->u, &sc->u_cap, 2 * total + 2, sizeof *sc->u))
            return -1;
        int32_t *cur = sc->u, *nxt = sc->u + total + 1;
        size_t nc = 0;
        for (int i = 0; i < res->n_query; i++) {
            int32_t p = res->query[i];
            const int32_t *b = r->post + r->post_off[p];
            size_t nb = (size_t)(r->post_off[p + 1] - r->post_off[p]), x = 0, y = 0, w = 0;
            /* (a receipt may list a product twice: drop repeats as the sort does) */
            while (x < nc || y < nb) {
                int32_t v = y >= nb || (x < nc && cur[x] <= b[y]) ? cur[x] : b[y];
                x += x < nc && cur[x] == v;
                y += y < nb && b[y] == v;
                if (w == 0 || nxt[w - 1] != v)
                    nxt[w++] = v;
            }
            int32_t *t = cur;
            cur = nxt;
            nxt = t;
            nc = w;
        }
        if (cur != sc->u)
            memmove(sc->u, cur, nc * sizeof *sc->u);
        *n = (int64_t)nc;
        return 0;
    }
    if (rec_grow(&sc->u, &sc->u_cap, total + 1, sizeof *sc->u))
        return -1;
    size_t o = 0;
    for (int i = 0; i < res->n_query; i++) {
        int32_t p = res->query[i];
        memcpy(sc->u + o, r->post + r->post_off[p],
               (size_t)(r->post_off[p + 1] - r->post_off[p]) * sizeof *sc->u);
        o += (size_t)(r->post_off[p + 1] - r->post_off[p]);
    }
    if (res->n_query > 1) {
        qsort(sc->u, o, sizeof *sc->u, cmp_i32);
        size_t w = 0;
        for (size_t i = 0; i < o; i++)
            if (w == 0 || sc->u[w - 1] != sc->u[i])
                sc->u[w++] = sc->u[i];
        o = w;
    }
    *n = (int64_t)o;
    return 0;
}

int rec_query_receipts(const rs_recommender *r, rs_rec_result *res, int64_t *n)
{
    rs_rec_scratch *sc = res->scratch;
    if (sc->u_valid) {
        *n = sc->u_n;
        return 0;
    }
    size_t words = ((size_t)r->n_receipts + 63) / 64 + 1;
    if (union_receipts(r, res, &sc->u_n) ||
        rec_grow_zero((uint8_t **)&sc->qb, &sc->qb_cap, words * sizeof *sc->qb))
        return -1;
    for (int64_t i = 0; i < sc->u_n; i++)
        sc->qb[sc->u[i] >> 6] |= 1ull << (sc->u[i] & 63);
    sc->u_valid = 1;
    *n = sc->u_n;
    return 0;
}

void rec_query_receipts_clear(rs_rec_result *res)
{
    rs_rec_scratch *sc = res->scratch;
    if (!sc->u_valid)
        return;
    for (int64_t i = 0; i < sc->u_n; i++)
        sc->qb[sc->u[i] >> 6] = 0;
    sc->u_valid = 0;
}

void rec_copurchase(const rs_recommender *r, const rs_rec_result *res, int32_t p,
                    rs_rec_row *row)
{
    const rs_rec_scratch *sc = res->scratch;
    int64_t np = r->post_off[p + 1] - r->post_off[p], qn = sc->u_n, co = 0;
    /* one bit test per receipt of p against the query's receipts */
    const int32_t *post = r->post + r->post_off[p];
    for (int64_t j = 0; j < np; j++)
        co += (sc->qb[post[j] >> 6] >> (post[j] & 63)) & 1;
    row->copurchase = co;
    row->lift = np > 0 && qn > 0 ? (double)row->copurchase * (double)r->n_receipts /
                                       ((double)np * (double)qn)
                                 : 0.0;
}

/* e^-l l^j / j! in logs, summed from j = a to b (b - a bounded by the callers). */
static double poisson_sum(int64_t a, int64_t b, double lambda)
{
    double s = 0;
    for (int64_t j = a; j <= b; j++)
        s += exp(-lambda + (double)j * log(lambda) - lgamma((double)j + 1.0));
    return s;
}

double rec_poisson_cdf(int64_t k, double lambda)
{
    if (k < 0)
        return 0.0;
    if (!(lambda > 0))
        return 1.0;
    if (k > 2000 || lambda > 2000) { /* normal approximation, continuity corrected */
        double z = ((double)k + 0.5 - lambda) / sqrt(lambda);
        return 0.5 * erfc(-z / sqrt(2.0));
    }
    double s = poisson_sum(0, k, lambda);
    return s > 1.0 ? 1.0 : s;
}

double rec_poisson_sf(int64_t k, double lambda)
{
    return k <= 0 ? 1.0 : 1.0 - rec_poisson_cdf(k - 1, lambda);
}
