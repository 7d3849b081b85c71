/* recommend.c - synonyms, categories, complements and completion for one city.
 *
 * Everything a query needs is loaded at open (recommend.h says what), so a query only
 * does dense arithmetic: dot products with the normalised input rows of the query's
 * categories for synonyms (one sgemv over the whole normalised matrix for any-category
 * synonyms), one sgemv over the category model for categories, dot products over the
 * products of the chosen categories for complements, and the completion scorer's pass.
 * The recommender is read-only after open except for three internally synchronised
 * caches: the pool of completion scorers (not thread-safe each, behind a mutex), the
 * per-row 1/|row| of the product model (filled on first use, relaxed atomics) and the
 * whole normalised matrix (built on the first any-category query, behind a mutex) --
 * normalising 100k rows at open was most of the TUI's startup.  Per-call scratch
 * lives in the result.
 */
#include "recommend.h"

#include <cblas.h>
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "completion.h"
#include "corpus.h"
#include "hash.h"
#include "model.h"
#include "topheap.h"
#include "powertf.h"
#include "sgns.h"

/* ---------------------------------------------------------------- the structure */

typedef struct comp_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rs_completion **scorers;
    int n;
    int *free_stack; /* indices of idle scorers */
    int n_free;
} comp_pool;

/* The normalised input matrix of the product model ([rows * dim]), needed only by
 * whole-catalogue synonyms: built on the first such query (open stays cheap; the
 * per-category path normalises the few rows it reads, with the same arithmetic). */
typedef struct norm_cache {
    pthread_mutex_t mu;
    float *m;            /* NULL until built */
    int failed;          /* out of memory building it */
    /* 1/|row| of each row as the bits of a double, 0 until first computed (any thread
     * may fill an entry: they all store the same bits; relaxed atomics make that
     * race-free and cost a plain load/store) */
    _Atomic uint64_t *inv;
    int32_t rows;
    /* batches (cat_rows): the product model's normalised input rows and its output
     * rows copied in cat_items order, so a category's products are read sequentially
     * (zero rows for products without one); NULL until built */
    float *cat_norm, *cat_out;
    int cat_failed;
} norm_cache;

typedef struct model_slot {
    rs_embedding *m;
    int status;          /* RS_OK when loaded */
    char message[256];
    int64_t city;        /* city whose model answered */
    int64_t id;          /* models.id */
    char path[1024];
    int broken;          /* a model is registered active but its file did not load */
    rs_error err;        /* then: why (the file and what is wrong) */
} model_slot;

struct rs_recommender {
    rs_store *store;
    int64_t city;
    char city_name[256];
    rs_rec_options opt;

    /* catalogue */
    int32_t n_products, n_categories;
    char **ext, **name;  /* [n_products], "" for holes */
    int32_t *prod_cat;   /* [n_products] category index, -1 none */
    char **cat_name;     /* [n_categories] */
    char **cat_ext;      /* [n_categories] */
    int32_t *cat_parent; /* [n_categories] parent category index, -1 none */
    int64_t *cat_off;    /* [n_categories + 1] products of each category (CSR) */
    int32_t *cat_items;
    int32_t *ext_table;  /* open addressing: product index + 1, 0 empty */
    size_t ext_cap;

    /* popularity in the city */
    int64_t n_receipts;
    int64_t *pop;        /* [n_products] */
    double *pct;
    int64_t *cpop;       /* [n_categories] */
    double *cshare, *cpct;

    /* co-purchase: receipts (0..n_receipts) of each product, ascending */
    int64_t *post_off;   /* [n_products + 1], NULL without the index */
    int32_t *post;

    /* models */
    model_slot pm, cm;   /* product, category */
    struct norm_cache *norm; /* the whole normalised input matrix, built on first use */
    char *arena;         /* every catalogue string (ext, name, cat_name, cat_ext) */

    /* completion */
    comp_pool *pool;
    int comp_status;
    char comp_message[256];
    char comp_name[256];
    int64_t comp_city;
};

typedef struct rs_rec_scratch {
    float *f;      size_t f_cap;   /* scores */
    float *v;      size_t v_cap;   /* a query vector */
    double *d;     size_t d_cap;   /* category logits / weights */
    int32_t *h;    size_t h_cap;   /* top-k heap (indices) */
    float *hs;     size_t hs_cap;  /* top-k heap (scores) */
    int32_t *u;    size_t u_cap;   /* union of the query's receipts */
    int32_t *cats; size_t cats_cap;
    double *cw;    size_t cw_cap;  /* category weight / importance / t / share (4 x C) */
    int *slots;    size_t slots_cap;
    int d_valid;                   /* d holds this call's category weights */
    uint8_t *isq;  size_t isq_cap; /* query product flags */
    uint8_t *isqc; size_t isqc_cap;/* query category flags */
    double *acc;   size_t acc_cap; /* a vector sum in double */
    float *nr;     size_t nr_cap;  /* one normalised product row */
    const float *cn, *co;          /* a batch's category-ordered rows (cat_rows), else
                                    * NULL */
} rs_rec_scratch;

static const char *const KIND_NAMES[RS_REC_NKINDS] = {"synonyms", "categories", "complements",
                                                       "completion"};

const char *rs_rec_kind_name(rs_rec_kind k)
{
    return (unsigned)k < RS_REC_NKINDS ? KIND_NAMES[k] : NULL;
}

int rs_rec_kind_parse(const char *name, rs_rec_kind *out, rs_error *e)
{
    for (int k = 0; k < RS_REC_NKINDS; k++)
        if (name && strcmp(name, KIND_NAMES[k]) == 0) {
            *out = (rs_rec_kind)k;
            return RS_OK;
        }
    return rs_seterr(e, RS_EUSAGE,
                     "unknown kind '%s' (synonyms, categories, complements, completion)",
                     name ? name : "");
}

void rs_rec_query_defaults(rs_rec_query *q)
{
    memset(q, 0, sizeof *q);
    q->kinds = RS_REC_ALL_KINDS;
    for (int k = 0; k < RS_REC_NKINDS; k++)
        q->k[k] = RS_REC_DEFAULT_K;
    q->min_pct = RS_REC_DEFAULT_MIN_PCT;
    q->max_pct = RS_REC_DEFAULT_MAX_PCT;
    q->complement_categories = RS_REC_DEFAULT_COMPLEMENT_CATEGORIES;
}

void rs_rec_options_defaults(rs_rec_options *o)
{
    memset(o, 0, sizeof *o);
    o->workers = 1;
}

/* Grows *p to hold n elements of size sz (keeps contents).  0 on success. */
static int grow(void *pp, size_t *cap, size_t n, size_t sz)
{
    void **p = pp;
    if (n <= *cap && *p)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < n)
        c *= 2;
    void *q = realloc(*p, c * sz);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Grows a flag array keeping it all-zero beyond the old size (callers keep the used
 * part zero between calls). */
static int grow_zero(uint8_t **p, size_t *cap, size_t n)
{
    if (n <= *cap && *p)
        return 0;
    uint8_t *q = realloc(*p, n);
    if (!q)
        return -1;
    memset(q + *cap, 0, n - *cap);
    *p = q;
    *cap = n;
    return 0;
}

/* ---------------------------------------------------------------- loading */

/* One buffer for every catalogue string (a malloc per string, 200k of them on the
 * large world, was a large share of the open time).  Offset 0 holds "" (holes, NULL
 * columns). */
typedef struct arena {
    char *p;
    size_t n, cap;
} arena;

/* Appends s with its NUL; returns its offset, or SIZE_MAX when out of memory. */
static size_t arena_add(arena *a, const unsigned char *s)
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

static int load_catalogue(rs_recommender *r, rs_error *e)
{
    sqlite3 *db = rs_store_db(r->store);
    sqlite3_stmt *st = NULL;
    int rc = RS_OK, step;
    int64_t n;
    arena ar = {0};
    size_t *coff = NULL, *poff = NULL; /* string offsets: 2 per category / product */
    if (arena_add(&ar, (const unsigned char *)"x") == SIZE_MAX) /* reserves offset 0 */
        goto oom;
    ar.p[0] = 0;
    ar.n = 1;
    /* ids are dense, but trust max(id) rather than count */
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id),0) FROM categories", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = rs_store_sqlerr(r->store, e, "reading categories");
        goto done;
    }
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (n > INT32_MAX - 1) {
        rc = rs_seterr(e, RS_EDATA, "too many categories (%lld)", (long long)n);
        goto done;
    }
    r->n_categories = (int32_t)n;
    r->cat_name = calloc((size_t)n + 1, sizeof *r->cat_name);
    r->cat_ext = calloc((size_t)n + 1, sizeof *r->cat_ext);
    r->cat_parent = malloc(((size_t)n + 1) * sizeof *r->cat_parent);
    coff = calloc(2 * (size_t)n + 1, sizeof *coff);
    if (!r->cat_name || !r->cat_ext || !r->cat_parent || !coff)
        goto oom;
    for (int64_t i = 0; i < n; i++)
        r->cat_parent[i] = -1;
    if (sqlite3_prepare_v2(db, "SELECT id, name, parent_id, ext_id FROM categories", -1, &st, NULL) !=
        SQLITE_OK) {
        rc = rs_store_sqlerr(r->store, e, "reading categories");
        goto done;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id < 1 || id > n)
            continue;
        if (!coff[2 * (id - 1)] && !coff[2 * (id - 1) + 1]) { /* the first row of an id */
            size_t a = arena_add(&ar, sqlite3_column_text(st, 1));
            size_t b = a == SIZE_MAX ? SIZE_MAX : arena_add(&ar, sqlite3_column_text(st, 3));
            if (a == SIZE_MAX || b == SIZE_MAX)
                goto oom;
            coff[2 * (id - 1)] = a;
            coff[2 * (id - 1) + 1] = b;
        }
        int64_t par = sqlite3_column_type(st, 2) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 2);
        r->cat_parent[id - 1] = par >= 1 && par <= n ? (int32_t)(par - 1) : -1;
    }
    if (step != SQLITE_DONE) {
        rc = rs_store_sqlerr(r->store, e, "reading categories");
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;

    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id),0) FROM products", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = rs_store_sqlerr(r->store, e, "reading products");
        goto done;
    }
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (n > INT32_MAX / 4) {
        rc = rs_seterr(e, RS_EDATA, "too many products (%lld)", (long long)n);
        goto done;
    }
    r->n_products = (int32_t)n;
    r->ext = calloc((size_t)n + 1, sizeof *r->ext);
    r->name = calloc((size_t)n + 1, sizeof *r->name);
    r->prod_cat = malloc(((size_t)n + 1) * sizeof *r->prod_cat);
    r->cat_off = calloc((size_t)r->n_categories + 2, sizeof *r->cat_off);
    poff = calloc(2 * (size_t)n + 1, sizeof *poff);
    if (!r->ext || !r->name || !r->prod_cat || !r->cat_off || !poff)
        goto oom;
    for (int64_t i = 0; i < n; i++)
        r->prod_cat[i] = -1;
    if (sqlite3_prepare_v2(db, "SELECT id, ext_id, name, category_id FROM products", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = rs_store_sqlerr(r->store, e, "reading products");
        goto done;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id < 1 || id > n)
            continue;
        size_t a = arena_add(&ar, sqlite3_column_text(st, 1));
        size_t b = a == SIZE_MAX ? SIZE_MAX : arena_add(&ar, sqlite3_column_text(st, 2));
        if (a == SIZE_MAX || b == SIZE_MAX)
            goto oom;
        poff[2 * (id - 1)] = a;
        poff[2 * (id - 1) + 1] = b;
        int64_t c = sqlite3_column_int64(st, 3);
        r->prod_cat[id - 1] = c >= 1 && c <= r->n_categories ? (int32_t)(c - 1) : -1;
    }
    if (step != SQLITE_DONE) {
        rc = rs_store_sqlerr(r->store, e, "reading products");
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    /* the arena no longer moves: point into it (holes and NULLs at offset 0, "") */
    r->arena = ar.p;
    ar.p = NULL;
    for (int32_t i = 0; i < r->n_categories; i++) {
        r->cat_name[i] = r->arena + coff[2 * (size_t)i];
        r->cat_ext[i] = r->arena + coff[2 * (size_t)i + 1];
    }
    for (int64_t i = 0; i < n; i++) {
        r->ext[i] = r->arena + poff[2 * i];
        r->name[i] = r->arena + poff[2 * i + 1];
    }

    /* holes (never expected) get empty strings; ext id table; category CSR */
    r->ext_cap = 16;
    while (r->ext_cap < 2 * (size_t)n + 16)
        r->ext_cap *= 2;
    if (!(r->ext_table = calloc(r->ext_cap, sizeof *r->ext_table)))
        goto oom;
    for (int64_t i = 0; i < n; i++) {
        if (!r->ext[i][0])
            continue;
        size_t h = (size_t)ext_hash(r->ext[i]) & (r->ext_cap - 1);
        while (r->ext_table[h])
            h = (h + 1) & (r->ext_cap - 1);
        r->ext_table[h] = (int32_t)(i + 1);
        if (r->prod_cat[i] >= 0)
            r->cat_off[r->prod_cat[i] + 1]++;
    }
    for (int32_t c = 0; c < r->n_categories; c++)
        r->cat_off[c + 1] += r->cat_off[c];
    if (!(r->cat_items = malloc(((size_t)r->cat_off[r->n_categories] + 1) * sizeof *r->cat_items)))
        goto oom;
    {
        int64_t *fill = calloc((size_t)r->n_categories + 1, sizeof *fill);
        if (!fill)
            goto oom;
        for (int64_t i = 0; i < n; i++) {
            int32_t c = r->prod_cat[i];
            if (c >= 0 && r->ext[i][0])
                r->cat_items[r->cat_off[c] + fill[c]++] = (int32_t)i;
        }
        free(fill);
    }
    goto done;
oom:
    rc = rs_seterr(e, RS_EINTERNAL, "out of memory loading the catalogue");
done:
    sqlite3_finalize(st);
    free(ar.p);
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
                           "SELECT category_id, receipts, share, percentile FROM category_popularity"
                           " WHERE city_id = ?1",
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

static int load_popularity(rs_recommender *r, rs_error *e)
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

    int need_corpus = !r->opt.no_copurchase || prow == 0 || crow == 0;
    if (!need_corpus) {
        /* receipts of the city: cities.receipts, or all receipts for city 0 */
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
    if ((rc = rs_corpus_load(r->store, r->city, &c, e)))
        return rc;
    r->n_receipts = c->n_receipts;
    if (c->n_receipts > INT32_MAX) {
        rc = rs_seterr(e, RS_EDATA, "too many receipts in one city for the co-purchase index");
        goto done;
    }
    int32_t nitems = c->n_items < r->n_products ? c->n_items : r->n_products;
    if (prow == 0 || crow == 0) {
        /* the popularity tables were never refreshed: compute the same numbers */
        int64_t *cnt = calloc((size_t)c->n_items + 1, sizeof *cnt);
        if (!cnt) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
        rs_corpus_item_counts(c, cnt);
        for (int32_t i = 0; i < nitems; i++)
            r->pop[i] = cnt[i];
        free(cnt);
        memset(r->cpop, 0, nc * sizeof *r->cpop);
        int64_t *seen = malloc(nc * sizeof *seen);
        if (!seen) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
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
            percentiles_from_counts(r->cpop, r->n_categories, r->cpct)) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
    }
    if (!r->opt.no_copurchase) {
        r->post_off = calloc(np + 1, sizeof *r->post_off);
        if (!r->post_off) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory building the co-purchase index");
            goto done;
        }
        int64_t total = c->offsets[c->n_receipts];
        for (int64_t j = 0; j < total; j++)
            if (c->items[j] >= 0 && c->items[j] < nitems)
                r->post_off[c->items[j] + 1]++;
        for (int32_t i = 0; i < r->n_products; i++)
            r->post_off[i + 1] += r->post_off[i];
        r->post = malloc(((size_t)r->post_off[r->n_products] + 1) * sizeof *r->post);
        int64_t *fill = calloc(np, sizeof *fill);
        if (!r->post || !fill) {
            free(fill);
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory building the co-purchase index");
            goto done;
        }
        /* receipts in order, so every posting list comes out ascending */
        for (int64_t rr = 0; rr < c->n_receipts; rr++)
            for (int64_t j = c->offsets[rr]; j < c->offsets[rr + 1]; j++) {
                int32_t p = c->items[j];
                if (p >= 0 && p < nitems)
                    r->post[r->post_off[p] + fill[p]++] = (int32_t)rr;
            }
        free(fill);
    }
done:
    rs_corpus_free(c);
    return rc;
}

static void load_model(rs_recommender *r, const char *kind, model_slot *slot)
{
    rs_error e = {0};
    rs_model_info info;
    memset(&info, 0, sizeof info);
    memset(slot, 0, sizeof *slot);
    slot->status = rs_registry_load_active(r->store, r->city, kind, "all", &slot->m, &slot->city,
                                           &info, &e);
    if (slot->status) {
        slot->m = NULL;
        /* registered but unloadable (truncated, deleted, corrupt) is not "no model" */
        rs_model_info reg;
        rs_error ignore = {0};
        slot->broken = rs_registry_active(r->store, r->city, kind, "all", &reg, &ignore) == RS_OK ||
                       (r->city != 0 &&
                        rs_registry_active(r->store, 0, kind, "all", &reg, &ignore) == RS_OK);
        if (slot->broken) {
            slot->err = e;
            if (slot->err.code == RS_EUSAGE) /* e.g. the file is gone: bad data, not usage */
                slot->err.code = RS_EDATA;
            slot->status = slot->err.code;
            snprintf(slot->message, sizeof slot->message, "%s model failed to load: %.200s",
                     kind, e.msg);
        } else {
            snprintf(slot->message, sizeof slot->message, "no %s model for city '%.60s': %.150s",
                     kind, r->city_name, e.msg);
        }
        return;
    }
    slot->id = info.id;
    snprintf(slot->path, sizeof slot->path, "%s", info.path);
    if (slot->m->dim <= 0 || slot->m->rows < 0) {
        snprintf(slot->message, sizeof slot->message, "%.200s: empty %s model", info.path, kind);
        slot->status = RS_EDATA;
        slot->broken = 1;
        rs_seterr(&slot->err, RS_EDATA, "%s: empty %s model", info.path, kind);
        rs_embedding_free(slot->m);
        slot->m = NULL;
    }
}

static int open_completion(rs_recommender *r, rs_error *e)
{
    comp_pool *p = calloc(1, sizeof *p);
    if (!p)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    r->pool = p;
    if (r->opt.no_completion) {
        r->comp_status = RS_EUSAGE;
        snprintf(r->comp_message, sizeof r->comp_message, "completion not loaded");
        return RS_OK;
    }
    int n = r->opt.workers > 0 ? r->opt.workers : 1;
    p->scorers = calloc((size_t)n, sizeof *p->scorers);
    p->free_stack = calloc((size_t)n, sizeof *p->free_stack);
    if (!p->scorers || !p->free_stack)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    for (int i = 0; i < n; i++) {
        rs_error ce = {0};
        int64_t used = 0;
        int rc = rs_completion_open(r->store, r->city, &p->scorers[i], &used, &ce);
        if (rc) {
            p->scorers[i] = NULL;
            if (i == 0) {
                r->comp_status = rc;
                snprintf(r->comp_message, sizeof r->comp_message,
                         "no completion model for city '%.60s': %.150s", r->city_name,
                         ce.msg);
                return RS_OK;
            }
            break;
        }
        r->comp_city = used;
        p->free_stack[p->n_free++] = i;
        p->n = i + 1;
        /* one scorer serves every batch worker (saves loading and packing the model
         * again per worker) */
        if (i == 0 && r->opt.shared_sgns && rs_completion_topk_ok(p->scorers[0]))
            break;
    }
    snprintf(r->comp_name, sizeof r->comp_name, "%s", rs_completion_name(p->scorers[0]));
    return RS_OK;
}

static void close_completion(comp_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++)
        rs_completion_close(p->scorers[i]);
    free(p->scorers);
    free(p->free_stack);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

/* Row `row` of the product model's input matrix scaled to unit length (a zero row
 * stays zero).  The one definition of a normalised row: the per-category synonyms and
 * the whole matrix below give the same bits. */
static void norm_row(const rs_embedding *m, const norm_cache *c, int32_t row, float *out)
{
    size_t dim = (size_t)m->dim;
    const float *x = m->in + (size_t)row * dim;
    double inv;
    uint64_t bits = c && c->inv && row < c->rows
                        ? atomic_load_explicit(&c->inv[row], memory_order_relaxed)
                        : 0;
    if (bits) {
        memcpy(&inv, &bits, sizeof inv);
    } else {
        double s = 0;
        for (size_t j = 0; j < dim; j++)
            s += (double)x[j] * x[j];
        inv = s > 0 ? 1.0 / sqrt(s) : 0.0;
        memcpy(&bits, &inv, sizeof bits);
        if (c && c->inv && row < c->rows)
            atomic_store_explicit(&c->inv[row], bits, memory_order_relaxed);
    }
    for (size_t j = 0; j < dim; j++)
        out[j] = (float)(x[j] * inv);
}

static int open_norm_cache(rs_recommender *r, rs_error *e)
{
    if (!(r->norm = calloc(1, sizeof *r->norm)))
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    pthread_mutex_init(&r->norm->mu, NULL);
    if (r->pm.m && r->pm.m->rows > 0) {
        /* calloc: untouched zero pages until a row is first normalised */
        if (!(r->norm->inv = calloc((size_t)r->pm.m->rows, sizeof *r->norm->inv)))
            return rs_seterr(e, RS_EINTERNAL, "out of memory");
        r->norm->rows = r->pm.m->rows;
    }
    return RS_OK;
}

static void close_norm_cache(norm_cache *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c->m);
    free(c->cat_norm);
    free(c->cat_out);
    free((void *)c->inv);
    free(c);
}

/* The whole normalised matrix (built once, under the cache's mutex); NULL when out of
 * memory. */
static const float *norm_matrix(const rs_recommender *r)
{
    norm_cache *c = r->norm;
    const rs_embedding *m = r->pm.m;
    pthread_mutex_lock(&c->mu);
    if (!c->m && !c->failed) {
        size_t rows = (size_t)m->rows, dim = (size_t)m->dim;
        float *n = malloc(rows * dim * sizeof *n + 1);
        if (n) {
            for (size_t i = 0; i < rows; i++)
                norm_row(m, c, (int32_t)i, n + i * dim);
            c->m = n;
        } else {
            c->failed = 1;
        }
    }
    const float *out = c->m;
    pthread_mutex_unlock(&c->mu);
    return out;
}

static int has_row(const rs_embedding *m, int32_t item);

/* The category-ordered rows (see norm_cache), built once under the cache's mutex;
 * 0 when they are there, -1 (nothing set) when out of memory. */
static int cat_rows(const rs_recommender *r, const float **cn, const float **co)
{
    norm_cache *c = r->norm;
    const rs_embedding *m = r->pm.m;
    pthread_mutex_lock(&c->mu);
    if (!c->cat_norm && !c->cat_failed) {
        size_t n = (size_t)r->cat_off[r->n_categories], dim = (size_t)m->dim;
        float *a = malloc(n * dim * sizeof *a + 1), *b = malloc(n * dim * sizeof *b + 1);
        if (a && b) {
            for (size_t j = 0; j < n; j++) {
                int32_t p = r->cat_items[j];
                if (has_row(m, p)) {
                    norm_row(m, c, m->item_row[p], a + j * dim);
                    memcpy(b + j * dim, m->out + (size_t)m->item_row[p] * dim,
                           dim * sizeof *b);
                } else {
                    memset(a + j * dim, 0, dim * sizeof *a);
                    memset(b + j * dim, 0, dim * sizeof *b);
                }
            }
            c->cat_norm = a;
            c->cat_out = b;
        } else {
            free(a);
            free(b);
            c->cat_failed = 1;
        }
    }
    *cn = c->cat_norm;
    *co = c->cat_out;
    pthread_mutex_unlock(&c->mu);
    return *cn ? 0 : -1;
}

static void free_contents(rs_recommender *r)
{
    free(r->arena);
    free(r->cat_ext);
    free(r->ext);
    free(r->name);
    free(r->prod_cat);
    free(r->cat_name);
    free(r->cat_parent);
    free(r->cat_off);
    free(r->cat_items);
    free(r->ext_table);
    free(r->pop);
    free(r->pct);
    free(r->cpop);
    free(r->cshare);
    free(r->cpct);
    free(r->post_off);
    free(r->post);
    rs_embedding_free(r->pm.m);
    rs_embedding_free(r->cm.m);
    close_norm_cache(r->norm);
    close_completion(r->pool);
}

static int fill(rs_recommender *r, rs_error *e)
{
    int rc;
    if (r->city) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(rs_store_db(r->store), "SELECT name FROM cities WHERE id = ?1", -1,
                               &st, NULL) != SQLITE_OK)
            return rs_store_sqlerr(r->store, e, "reading cities");
        sqlite3_bind_int64(st, 1, r->city);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            snprintf(r->city_name, sizeof r->city_name, "%s",
                     (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        if (step != SQLITE_ROW)
            return rs_seterr(e, RS_EUSAGE, "unknown city id %lld", (long long)r->city);
    } else {
        snprintf(r->city_name, sizeof r->city_name, "all");
    }
    if ((rc = load_catalogue(r, e)) || (rc = load_popularity(r, e)))
        return rc;
    load_model(r, RS_KIND_PRODUCT, &r->pm);
    load_model(r, RS_KIND_CATEGORY, &r->cm);
    if ((rc = open_norm_cache(r, e)))
        return rc;
    return open_completion(r, e);
}

int rs_recommender_open(rs_store *s, int64_t city_id, const rs_rec_options *opt,
                        rs_recommender **out, rs_error *e)
{
    *out = NULL;
    rs_recommender *r = calloc(1, sizeof *r);
    if (!r)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    r->store = s;
    r->city = city_id;
    if (opt)
        r->opt = *opt;
    else
        rs_rec_options_defaults(&r->opt);
    int rc = fill(r, e);
    if (rc) {
        rs_recommender_close(r);
        return rc;
    }
    *out = r;
    return RS_OK;
}

void rs_recommender_close(rs_recommender *r)
{
    if (!r)
        return;
    free_contents(r);
    free(r);
}

int rs_recommender_reload(rs_recommender *r, int *changed, rs_error *e)
{
    rs_recommender *n = NULL;
    int rc = rs_recommender_open(r->store, r->city, &r->opt, &n, e);
    if (rc)
        return rc;
    if (changed)
        *changed = n->pm.id != r->pm.id || n->cm.id != r->cm.id ||
                   n->n_products != r->n_products || n->n_receipts != r->n_receipts ||
                   n->n_categories != r->n_categories || n->pm.status != r->pm.status ||
                   n->cm.status != r->cm.status || strcmp(n->comp_name, r->comp_name) != 0;
    rs_recommender tmp = *r;
    *r = *n;
    *n = tmp;
    rs_recommender_close(n);
    return RS_OK;
}

/* ---------------------------------------------------------------- lookups */

int rs_rec_check_models(const rs_recommender *r, unsigned kinds, rs_error *e)
{
    unsigned need_pm = RS_REC_BIT(RS_REC_SYNONYMS) | RS_REC_BIT(RS_REC_COMPLEMENTS);
    unsigned need_cm = RS_REC_BIT(RS_REC_CATEGORIES) | RS_REC_BIT(RS_REC_COMPLEMENTS);
    const model_slot *bad = (kinds & need_pm) && r->pm.broken   ? &r->pm
                            : (kinds & need_cm) && r->cm.broken ? &r->cm
                                                                : NULL;
    if (!bad)
        return RS_OK;
    return rs_seterr(e, bad->err.code ? bad->err.code : RS_EDATA, "%s", bad->err.msg);
}

int64_t rs_rec_city(const rs_recommender *r) { return r->city; }
const char *rs_rec_city_name(const rs_recommender *r) { return r->city_name; }
int32_t rs_rec_n_products(const rs_recommender *r) { return r->n_products; }
int32_t rs_rec_n_categories(const rs_recommender *r) { return r->n_categories; }
int64_t rs_rec_n_receipts(const rs_recommender *r) { return r->n_receipts; }
const int64_t *rs_rec_popularity_counts(const rs_recommender *r) { return r->pop; }
const double *rs_rec_popularity_percentiles(const rs_recommender *r) { return r->pct; }

const char *rs_rec_category_name(const rs_recommender *r, int32_t c)
{
    return c >= 0 && c < r->n_categories ? r->cat_name[c] : "";
}

int64_t rs_rec_category_popularity(const rs_recommender *r, int32_t c, double *share,
                                   double *percentile)
{
    int ok = c >= 0 && c < r->n_categories;
    if (share)
        *share = ok ? r->cshare[c] : 0.0;
    if (percentile)
        *percentile = ok ? r->cpct[c] : 0.0;
    return ok ? r->cpop[c] : 0;
}

static int has_row(const rs_embedding *m, int32_t item)
{
    return m && item >= 0 && item < m->n_items && m->item_row[item] >= 0 &&
           m->item_row[item] < m->rows;
}

int rs_rec_product_info(const rs_recommender *r, int32_t index, rs_rec_product *info,
                        rs_error *e)
{
    if (index < 0 || index >= r->n_products)
        return rs_seterr(e, RS_EUSAGE, "product index %d out of range (0..%d)", (int)index,
                         (int)r->n_products - 1);
    info->index = index;
    info->ext_id = r->ext[index];
    info->name = r->name[index];
    info->category_index = r->prod_cat[index];
    info->category = rs_rec_category_name(r, r->prod_cat[index]);
    info->popularity = r->pop[index];
    info->percentile = r->pct[index];
    info->in_product_model = has_row(r->pm.m, index);
    return RS_OK;
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

int rs_rec_search(const rs_recommender *r, const char *text, int32_t *out, int max, int *n,
                  rs_error *e)
{
    *n = 0;
    if (!text || max <= 0)
        return RS_OK;
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
    if (rs_rec_find_ext(r, text, index, NULL) == RS_OK)
        return RS_OK;
    int n = 0, rc = rs_rec_search(r, text, index, 1, &n, e);
    if (rc)
        return rc;
    if (n == 0)
        return rs_seterr(e, RS_EUSAGE, "no product matches '%s'", text ? text : "");
    return RS_OK;
}

/* ---------------------------------------------------------------- pieces */

typedef struct {
    double rem;
    double share;
    int i;
} slot_rem;

static int cmp_rem(const void *a, const void *b)
{
    const slot_rem *x = a, *y = b;
    if (x->rem != y->rem)
        return x->rem > y->rem ? -1 : 1;
    if (x->share != y->share)
        return x->share > y->share ? -1 : 1;
    return x->i - y->i;
}

void rs_rec_allocate(const double *shares, int n, int k, int *slots)
{
    if (n <= 0)
        return;
    double total = 0;
    for (int i = 0; i < n; i++)
        total += shares[i] > 0 && isfinite(shares[i]) ? shares[i] : 0.0;
    slot_rem *rem = malloc((size_t)n * sizeof *rem);
    int given = 0;
    for (int i = 0; i < n; i++) {
        double s = total > 0 ? (shares[i] > 0 && isfinite(shares[i]) ? shares[i] / total : 0.0)
                             : 1.0 / n;
        double q = s * k;
        slots[i] = (int)floor(q);
        given += slots[i];
        if (rem)
            rem[i] = (slot_rem){q - floor(q), s, i};
    }
    if (!rem) {
        /* out of memory: hand the rest out in index order (still a valid allocation) */
        for (int i = 0; given < k; i = (i + 1) % n, given++)
            slots[i]++;
        return;
    }
    qsort(rem, (size_t)n, sizeof *rem, cmp_rem);
    for (int j = 0; given < k; j = (j + 1) % n, given++)
        slots[rem[j].i]++;
    free(rem);
}

/* Prefetches the row of product p (if it has one) of a row-major matrix: the
 * per-category scans read rows scattered over a 25 MB matrix, and waiting for them
 * was most of their time. */
static inline void prefetch_row(const rs_embedding *m, const float *base, int32_t p)
{
    if (p >= 0 && p < m->n_items && m->item_row[p] >= 0) {
        const char *x = (const char *)(base + (size_t)m->item_row[p] * (size_t)m->dim);
        size_t bytes = (size_t)m->dim * sizeof(float);
        for (size_t o = 0; o < bytes; o += 64)
            __builtin_prefetch(x + o);
    }
}

enum { PREFETCH_AHEAD = 8 }; /* rows ahead of the one being scored */

/* top-k selection: the heap of core/topheap.h */
typedef rs_topheap topk;

static int topk_init(rs_rec_scratch *sc, topk *t, int k)
{
    if (grow(&sc->h, &sc->h_cap, (size_t)k + 1, sizeof *sc->h) ||
        grow(&sc->hs, &sc->hs_cap, (size_t)k + 1, sizeof *sc->hs))
        return -1;
    t->idx = sc->h;
    t->sc = sc->hs;
    t->n = 0;
    t->k = k;
    return 0;
}

/* ---------------------------------------------------------------- queries */

rs_rec_result *rs_rec_result_new(void)
{
    rs_rec_result *res = calloc(1, sizeof *res);
    if (!res)
        return NULL;
    if (!(res->scratch = calloc(1, sizeof *res->scratch))) {
        free(res);
        return NULL;
    }
    return res;
}

void rs_rec_result_free(rs_rec_result *res)
{
    if (!res)
        return;
    for (int k = 0; k < RS_REC_NKINDS; k++)
        free(res->lists[k].rows);
    free(res->query);
    free(res->query_categories);
    rs_rec_scratch *s = res->scratch;
    if (s) {
        free(s->f);
        free(s->v);
        free(s->d);
        free(s->h);
        free(s->hs);
        free(s->u);
        free(s->cats);
        free(s->cw);
        free(s->slots);
        free(s->isq);
        free(s->isqc);
        free(s->acc);
        free(s->nr);
        free(s);
    }
    free(res);
}

static int list_reserve(rs_rec_list *l, int n)
{
    /* rows are allocated exactly for the k asked (k <= RS_REC_K_MAX), reusing memory */
    rs_rec_row *p = realloc(l->rows, ((size_t)n + 1) * sizeof *p);
    if (!p)
        return -1;
    l->rows = p;
    return 0;
}

static int max_dim(const rs_recommender *r)
{
    int a = r->pm.m ? r->pm.m->dim : 0, b = r->cm.m ? r->cm.m->dim : 0;
    return a > b ? a : b;
}

static int masked_out(const rs_recommender *r, const rs_rec_query *q, int32_t p)
{
    if (q->flags & RS_REC_NO_MASK)
        return 0;
    double pc = r->pct[p];
    return pc < q->min_pct || pc > q->max_pct;
}

static void fill_product_row(const rs_recommender *r, rs_rec_row *row, int32_t p, double score)
{
    memset(row, 0, sizeof *row);
    row->index = p;
    row->ext_id = r->ext[p];
    row->name = r->name[p];
    row->category_index = r->prod_cat[p];
    row->category = rs_rec_category_name(r, r->prod_cat[p]);
    row->score = score;
    row->popularity = r->pop[p];
    row->percentile = r->pct[p];
}

static void list_model(rs_rec_list *l, const model_slot *m)
{
    l->status = m->status;
    snprintf(l->message, sizeof l->message, "%s", m->message);
    l->model_city = m->city;
    l->model_id = m->id;
    l->model_path = m->path;
}

#define OOM(l) (snprintf((l)->message, sizeof (l)->message, "out of memory"), (l)->status = RS_EINTERNAL)

static void run_synonyms(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res)
{
    rs_rec_list *l = &res->lists[RS_REC_SYNONYMS];
    rs_rec_scratch *sc = res->scratch;
    list_model(l, &r->pm);
    if (!r->pm.m)
        return;
    const rs_embedding *m = r->pm.m;
    int dim = m->dim;
    if (grow(&sc->v, &sc->v_cap, (size_t)dim, sizeof *sc->v) ||
        grow(&sc->nr, &sc->nr_cap, (size_t)dim, sizeof *sc->nr) ||
        grow(&sc->f, &sc->f_cap, (size_t)m->rows + 1, sizeof *sc->f)) {
        OOM(l);
        return;
    }
    /* normalised mean of the members' normalised vectors */
    double *acc = sc->acc;
    memset(acc, 0, (size_t)dim * sizeof *acc);
    int used = 0;
    for (int i = 0; i < res->n_query; i++) {
        int32_t p = res->query[i];
        if (!has_row(m, p))
            continue;
        const float *x = sc->nr;
        norm_row(m, r->norm, m->item_row[p], sc->nr);
        for (int j = 0; j < dim; j++)
            acc[j] += x[j];
        used++;
    }
    if (!used) {
        l->status = RS_EUSAGE;
        snprintf(l->message, sizeof l->message,
                 "no query product is in the product model (too few receipts)");
        return;
    }
    double norm = 0;
    for (int j = 0; j < dim; j++)
        norm += acc[j] * acc[j];
    norm = norm > 0 ? 1.0 / sqrt(norm) : 0.0;
    for (int j = 0; j < dim; j++)
        sc->v[j] = (float)(acc[j] * norm);
    topk t;
    if (topk_init(sc, &t, q->k[RS_REC_SYNONYMS])) {
        OOM(l);
        return;
    }
    if (!(q->flags & RS_REC_SYNONYMS_ANY_CATEGORY) && res->n_query_categories > 0) {
        /* substitutes share a need, so they live in the query's categories: score only
         * those products (a dot product each with the normalised rows) */
        for (int ci = 0; ci < res->n_query_categories; ci++) {
            int32_t c = res->query_categories[ci];
            for (int64_t j = r->cat_off[c]; j < r->cat_off[c + 1]; j++) {
                int32_t p = r->cat_items[j];
                if (!sc->cn && j + PREFETCH_AHEAD < r->cat_off[c + 1])
                    prefetch_row(m, m->in, r->cat_items[j + PREFETCH_AHEAD]);
                if (sc->isq[p] || !has_row(m, p) || masked_out(r, q, p))
                    continue;
                /* the same bits either way: cat_rows() is made of norm_row()s */
                const float *x = sc->nr;
                if (sc->cn)
                    x = sc->cn + (size_t)j * (size_t)dim;
                else
                    norm_row(m, r->norm, m->item_row[p], sc->nr);
                rs_topheap_push(&t, cblas_sdot(dim, sc->v, 1, x, 1), p);
            }
        }
    } else {
        const float *pn = m->rows > 0 ? norm_matrix(r) : NULL;
        if (m->rows > 0 && !pn) {
            OOM(l);
            return;
        }
        if (m->rows > 0)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, m->rows, dim, 1.0f, pn, dim, sc->v, 1,
                        0.0f, sc->f, 1);
        for (int32_t row = 0; row < m->rows; row++) {
            int32_t p = m->row_item[row];
            if (p < 0 || p >= r->n_products || sc->isq[p] || masked_out(r, q, p))
                continue;
            rs_topheap_push(&t, sc->f[row], p);
        }
    }
    rs_topheap_sort(&t);
    if (list_reserve(l, t.n)) {
        OOM(l);
        return;
    }
    for (int i = 0; i < t.n; i++)
        fill_product_row(r, &l->rows[i], t.idx[i], t.sc[i]);
    l->n = t.n;
}

/* Category softmax over the eligible categories; sc->d[row] = weight (0 when not
 * eligible).  Returns 0, or sets the list's status. */
static int category_weights(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res,
                            rs_rec_list *l)
{
    rs_rec_scratch *sc = res->scratch;
    const rs_embedding *m = r->cm.m;
    if (!m) {
        list_model(l, &r->cm);
        return -1;
    }
    if (sc->d_valid)
        return 0; /* the categories kind of this call computed them (same query) */
    int dim = m->dim;
    if (grow(&sc->v, &sc->v_cap, (size_t)dim, sizeof *sc->v) ||
        grow(&sc->f, &sc->f_cap, (size_t)m->rows + 1, sizeof *sc->f) ||
        grow(&sc->d, &sc->d_cap, (size_t)m->rows + 1, sizeof *sc->d)) {
        OOM(l);
        return -1;
    }
    double *acc = sc->acc;
    memset(acc, 0, (size_t)dim * sizeof *acc);
    int used = 0;
    for (int i = 0; i < res->n_query_categories; i++) {
        int32_t c = res->query_categories[i];
        if (!has_row(m, c))
            continue;
        const float *x = m->in + (size_t)m->item_row[c] * dim;
        for (int j = 0; j < dim; j++)
            acc[j] += x[j];
        used++;
    }
    if (!used) {
        l->status = RS_EUSAGE;
        snprintf(l->message, sizeof l->message,
                 "the query's categories are not in the category model");
        return -1;
    }
    for (int j = 0; j < dim; j++)
        sc->v[j] = (float)(acc[j] / used);
    if (m->rows > 0)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, m->rows, dim, 1.0f, m->out, dim, sc->v, 1, 0.0f,
                    sc->f, 1);
    double mx = -INFINITY;
    int include_own = (q->flags & RS_REC_INCLUDE_OWN_CATEGORY) != 0;
    for (int32_t row = 0; row < m->rows; row++) {
        int32_t c = m->row_item[row];
        int ok = c >= 0 && c < r->n_categories && (include_own || !sc->isqc[c]);
        sc->d[row] = ok ? sc->f[row] : -INFINITY;
        if (ok && sc->d[row] > mx)
            mx = sc->d[row];
    }
    if (mx == -INFINITY) {
        l->status = RS_EUSAGE;
        snprintf(l->message, sizeof l->message, "no other category in the category model");
        return -1;
    }
    double z = 0;
    for (int32_t row = 0; row < m->rows; row++) {
        sc->d[row] = sc->d[row] == -INFINITY ? 0.0 : exp(sc->d[row] - mx);
        z += sc->d[row];
    }
    for (int32_t row = 0; row < m->rows; row++)
        sc->d[row] /= z;
    sc->d_valid = 1;
    return 0;
}

static void run_categories(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res)
{
    rs_rec_list *l = &res->lists[RS_REC_CATEGORIES];
    list_model(l, &r->cm);
    if (category_weights(r, q, res, l))
        return;
    rs_rec_scratch *sc = res->scratch;
    const rs_embedding *m = r->cm.m;
    topk t;
    if (topk_init(sc, &t, q->k[RS_REC_CATEGORIES])) {
        OOM(l);
        return;
    }
    for (int32_t row = 0; row < m->rows; row++)
        if (sc->d[row] > 0)
            rs_topheap_push(&t, (float)sc->d[row], m->row_item[row]);
    rs_topheap_sort(&t);
    if (list_reserve(l, t.n)) {
        OOM(l);
        return;
    }
    for (int i = 0; i < t.n; i++) {
        int32_t c = t.idx[i];
        rs_rec_row *row = &l->rows[i];
        memset(row, 0, sizeof *row);
        row->index = c;
        row->ext_id = r->cat_ext[c];
        row->name = r->cat_name[c];
        row->category = rs_rec_category_name(r, r->cat_parent[c]);
        row->category_index = c;
        row->score = sc->d[m->item_row[c]]; /* the double weight, not the float copy */
        row->popularity = r->cpop[c];
        row->percentile = r->cpct[c];
    }
    l->n = t.n;
}

/* receipts of the city holding any query product (sorted union) */
static int query_receipts(const rs_recommender *r, rs_rec_result *res, int64_t *n)
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
        if (grow(&sc->u, &sc->u_cap, 2 * total + 2, sizeof *sc->u))
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
    if (grow(&sc->u, &sc->u_cap, total + 1, sizeof *sc->u))
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

/* |a ∩ b| of two ascending lists; gallops through the longer one */
static int64_t intersect_count(const int32_t *a, int64_t na, const int32_t *b, int64_t nb)
{
    if (na > nb) {
        const int32_t *t = a;
        a = b;
        b = t;
        int64_t tn = na;
        na = nb;
        nb = tn;
    }
    int64_t cnt = 0, j = 0;
    for (int64_t i = 0; i < na && j < nb; i++) {
        int32_t x = a[i];
        if (b[j] < x) {
            int64_t step = 1, lo = j, hi;
            while (lo + step < nb && b[lo + step] < x)
                step *= 2;
            hi = lo + step < nb ? lo + step : nb;
            lo = lo + step / 2;
            while (lo < hi) { /* first >= x in [lo, hi) */
                int64_t mid = lo + (hi - lo) / 2;
                if (b[mid] < x)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            j = lo;
        }
        if (j < nb && b[j] == x) {
            cnt++;
            j++;
        }
    }
    return cnt;
}

typedef struct {
    int32_t c;
    double share;
    int pos;
} cat_order;

static int cmp_cat_order(const void *a, const void *b)
{
    const cat_order *x = a, *y = b;
    if (x->share != y->share)
        return x->share > y->share ? -1 : 1;
    return (x->c > y->c) - (x->c < y->c);
}

static void run_complements(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res)
{
    rs_rec_list *l = &res->lists[RS_REC_COMPLEMENTS];
    rs_rec_scratch *sc = res->scratch;
    list_model(l, &r->pm);
    if (!r->pm.m)
        return;
    if (category_weights(r, q, res, l)) {
        if (!r->cm.m)
            list_model(l, &r->cm);
        return;
    }
    list_model(l, &r->pm);
    l->model2_city = r->cm.city;
    l->model2_id = r->cm.id;
    l->model2_path = r->cm.path;
    const rs_embedding *cm = r->cm.m, *pm = r->pm.m;
    int C = q->complement_categories, k = q->k[RS_REC_COMPLEMENTS];
    /* 1. candidates: the 2C strongest associations (category weight), of which the C
     * with the highest importance (weight x the category's share in the city) */
    topk t;
    if (topk_init(sc, &t, 2 * C) ||
        grow(&sc->cats, &sc->cats_cap, (size_t)(2 * C), sizeof *sc->cats)) {
        OOM(l);
        return;
    }
    for (int32_t row = 0; row < cm->rows; row++)
        if (sc->d[row] > 0)
            rs_topheap_push(&t, (float)sc->d[row], cm->row_item[row]);
    int n2 = t.n;
    memcpy(sc->cats, t.idx, (size_t)n2 * sizeof *sc->cats);
    topk_init(sc, &t, C); /* cannot fail: the heap already holds 2C */
    for (int i = 0; i < n2; i++) {
        int32_t c = sc->cats[i];
        rs_topheap_push(&t, (float)(sc->d[cm->item_row[c]] * r->cshare[c]), c);
    }
    rs_topheap_sort(&t);
    C = t.n;
    if (C == 0) {
        l->status = RS_EUSAGE;
        snprintf(l->message, sizeof l->message, "no candidate category");
        return;
    }
    if (grow(&sc->cats, &sc->cats_cap, (size_t)C, sizeof *sc->cats) ||
        grow(&sc->cw, &sc->cw_cap, (size_t)C * 4, sizeof *sc->cw) ||
        grow(&sc->slots, &sc->slots_cap, (size_t)C, sizeof *sc->slots)) {
        OOM(l);
        return;
    }
    memcpy(sc->cats, t.idx, (size_t)C * sizeof *sc->cats);
    double *w = sc->cw, *imp = sc->cw + C, *tr = sc->cw + 2 * C, *share = sc->cw + 3 * C;
    /* 2.-4. importance, Yeo-Johnson, softmax */
    for (int i = 0; i < C; i++) {
        int32_t c = sc->cats[i];
        w[i] = sc->d[cm->item_row[c]];
        imp[i] = w[i] * r->cshare[c];
    }
    rs_yeojohnson_fit_transform(imp, (size_t)C, tr);
    double mx = -INFINITY, z = 0;
    for (int i = 0; i < C; i++)
        mx = tr[i] > mx ? tr[i] : mx;
    for (int i = 0; i < C; i++)
        z += (share[i] = exp(tr[i] - mx));
    for (int i = 0; i < C; i++)
        share[i] /= z;
    /* 5. slots */
    rs_rec_allocate(share, C, k, sc->slots);
    cat_order order[C];
    for (int i = 0; i < C; i++)
        order[i] = (cat_order){sc->cats[i], share[i], i};
    qsort(order, (size_t)C, sizeof *order, cmp_cat_order);

    /* 6. products of each category by sum_q in[q] . out[p] */
    int dim = pm->dim;
    if (grow(&sc->v, &sc->v_cap, (size_t)dim, sizeof *sc->v) || list_reserve(l, k)) {
        OOM(l);
        return;
    }
    int used = 0;
    for (int j = 0; j < dim; j++)
        sc->v[j] = 0;
    for (int i = 0; i < res->n_query; i++) {
        int32_t p = res->query[i];
        if (!has_row(pm, p))
            continue;
        const float *x = pm->in + (size_t)pm->item_row[p] * dim;
        for (int j = 0; j < dim; j++)
            sc->v[j] += x[j];
        used++;
    }
    if (!used) {
        l->status = RS_EUSAGE;
        snprintf(l->message, sizeof l->message,
                 "no query product is in the product model (too few receipts)");
        return;
    }
    int64_t qn = 0;
    int copurchase = r->post_off && !(q->flags & RS_REC_NO_COPURCHASE);
    if (copurchase && query_receipts(r, res, &qn)) {
        OOM(l);
        return;
    }
    int carry = 0, n = 0;
    for (int oi = 0; oi < C && n < k; oi++) {
        int i = order[oi].pos;
        int32_t c = sc->cats[i];
        int want = sc->slots[i] + carry;
        if (want <= 0)
            continue;
        if (want > k - n)
            want = k - n;
        /* the heap scratch is free again: rank this category's products */
        topk pt;
        if (topk_init(sc, &pt, want)) {
            OOM(l);
            return;
        }
        for (int64_t j = r->cat_off[c]; j < r->cat_off[c + 1]; j++) {
            int32_t p = r->cat_items[j];
            if (!sc->co && j + PREFETCH_AHEAD < r->cat_off[c + 1])
                prefetch_row(pm, pm->out, r->cat_items[j + PREFETCH_AHEAD]);
            if (sc->isq[p] || !has_row(pm, p) || masked_out(r, q, p))
                continue;
            const float *o = sc->co ? sc->co + (size_t)j * (size_t)dim
                                    : pm->out + (size_t)pm->item_row[p] * dim;
            float s = cblas_sdot(dim, sc->v, 1, o, 1);
            rs_topheap_push(&pt, s, p);
        }
        rs_topheap_sort(&pt);
        carry = want - pt.n;
        for (int j = 0; j < pt.n; j++) {
            rs_rec_row *row = &l->rows[n++];
            int32_t p = pt.idx[j];
            fill_product_row(r, row, p, pt.sc[j]);
            row->cat_weight = w[i];
            row->cat_importance = imp[i];
            row->cat_transformed = tr[i];
            row->cat_share = share[i];
            row->cat_slots = sc->slots[i];
            if (copurchase) {
                int64_t np = r->post_off[p + 1] - r->post_off[p];
                row->copurchase = intersect_count(sc->u, qn, r->post + r->post_off[p], np);
                row->lift = np > 0 && qn > 0 ? (double)row->copurchase * (double)r->n_receipts /
                                                   ((double)np * (double)qn)
                                             : 0.0;
            } else {
                row->copurchase = -1;
            }
        }
    }
    l->n = n;
}

/* Takes an idle completion scorer of the pool (waits for one). */
static int pool_take(comp_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    while (pool->n_free == 0)
        pthread_cond_wait(&pool->cv, &pool->mu);
    int slot = pool->free_stack[--pool->n_free];
    pthread_mutex_unlock(&pool->mu);
    return slot;
}

static void pool_give(comp_pool *pool, int slot)
{
    pthread_mutex_lock(&pool->mu);
    pool->free_stack[pool->n_free++] = slot;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
}

static void completion_head(const rs_recommender *r, rs_rec_list *l)
{
    l->status = r->comp_status;
    snprintf(l->message, sizeof l->message, "%s", r->comp_message);
    l->model_city = r->comp_city;
    l->model_id = 0;
    l->model_path = r->comp_name;
}

/* The completion list from the scorer's scores f (n_items ni) for the query of res. */
static void completion_list(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res,
                            const float *f, int32_t ni)
{
    rs_rec_list *l = &res->lists[RS_REC_COMPLETION];
    rs_rec_scratch *sc = res->scratch;
    topk t;
    if (topk_init(sc, &t, q->k[RS_REC_COMPLETION])) {
        OOM(l);
        return;
    }
    int32_t lim = ni < r->n_products ? ni : r->n_products;
    /* thr: -INFINITY until the heap is full, then its worst score; an item at or
     * below it cannot enter (ties go to the smaller index, seen first), and the one
     * comparison also drops -INFINITY and NaN */
    float thr = -INFINITY;
    enum { BLK = 16 };
    for (int32_t b0 = 0; b0 < lim; b0 += BLK) {
        int32_t b1 = lim - b0 > BLK ? b0 + BLK : lim;
        if (b1 - b0 == BLK) {
            /* once the heap is full almost every block lies at or below thr: one
             * vectorisable test skips it (the same items the loop below would skip) */
            typedef float v4f __attribute__((vector_size(16)));
            typedef int v4i __attribute__((vector_size(16)));
            v4f x0, x1, x2, x3, t4 = {thr, thr, thr, thr};
            memcpy(&x0, f + b0, sizeof x0);
            memcpy(&x1, f + b0 + 4, sizeof x1);
            memcpy(&x2, f + b0 + 8, sizeof x2);
            memcpy(&x3, f + b0 + 12, sizeof x3);
            v4i gt = (x0 > t4) | (x1 > t4) | (x2 > t4) | (x3 > t4);
            if (!(gt[0] | gt[1] | gt[2] | gt[3]))
                continue;
        }
        for (int32_t p = b0; p < b1; p++) {
            float s = f[p];
            if (!(s > thr) || sc->isq[p] || masked_out(r, q, p))
                continue;
            rs_topheap_push(&t, s, p);
            if (t.n == t.k)
                thr = t.sc[0];
        }
    }
    rs_topheap_sort(&t);
    if (list_reserve(l, t.n)) {
        OOM(l);
        return;
    }
    for (int i = 0; i < t.n; i++)
        fill_product_row(r, &l->rows[i], t.idx[i], t.sc[i]);
    l->n = t.n;
}

static void run_completion(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res)
{
    rs_rec_list *l = &res->lists[RS_REC_COMPLETION];
    rs_rec_scratch *sc = res->scratch;
    completion_head(r, l);
    comp_pool *pool = r->pool;
    if (r->comp_status || !pool || pool->n == 0)
        return;
    int slot = pool_take(pool);
    rs_completion *c = pool->scorers[slot];
    int32_t ni = rs_completion_n_items(c);
    int ok = !grow(&sc->f, &sc->f_cap, (size_t)ni + 1, sizeof *sc->f);
    if (ok)
        rs_completion_score(c, res->query, res->n_query, sc->f);
    pool_give(pool, slot);
    if (!ok) {
        OOM(l);
        return;
    }
    completion_list(r, q, res, sc->f, ni);
}

int rs_recommend(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res,
                 rs_error *e)
{
    if (!q || !res || !res->scratch)
        return rs_seterr(e, RS_EINTERNAL, "rs_recommend: no query or result");
    for (int k = 0; k < RS_REC_NKINDS; k++) {
        rs_rec_list *l = &res->lists[k];
        l->n = 0;
        l->status = RS_OK;
        l->message[0] = 0;
        l->model_city = 0;
        l->model_id = 0;
        l->model_path = "";
        l->model2_city = 0;
        l->model2_id = 0;
        l->model2_path = "";
    }
    res->n_query = res->n_query_categories = 0;
    if (res->scratch)
        res->scratch->d_valid = 0;
    if (q->n_products <= 0 || !q->products)
        return rs_seterr(e, RS_EUSAGE, "empty query: give at least one product");
    for (int k = 0; k < RS_REC_NKINDS; k++)
        if ((q->kinds & RS_REC_BIT(k)) && (q->k[k] < 1 || q->k[k] > RS_REC_K_MAX))
            return rs_seterr(e, RS_EUSAGE, "k for %s must be 1..%d (got %d)", KIND_NAMES[k],
                             RS_REC_K_MAX, q->k[k]);
    if (!(q->min_pct >= 0 && q->max_pct <= 100 && q->min_pct <= q->max_pct))
        return rs_seterr(e, RS_EUSAGE,
                         "percentile bounds must satisfy 0 <= min <= max <= 100 (got %g, %g)",
                         q->min_pct, q->max_pct);
    if ((q->kinds & RS_REC_BIT(RS_REC_COMPLEMENTS)) &&
        (q->complement_categories < 1 || q->complement_categories > RS_REC_K_MAX))
        return rs_seterr(e, RS_EUSAGE, "complement categories must be 1..%d (got %d)",
                         RS_REC_K_MAX, q->complement_categories);
    for (int i = 0; i < q->n_products; i++)
        if (q->products[i] < 0 || q->products[i] >= r->n_products)
            return rs_seterr(e, RS_EUSAGE, "product index %d out of range (0..%d)",
                             (int)q->products[i], (int)r->n_products - 1);

    rs_rec_scratch *sc = res->scratch;
    /* query arrays: sized exactly each call (small) */
    int32_t *qp = realloc(res->query, ((size_t)q->n_products + 1) * sizeof *qp);
    if (!qp)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    res->query = qp;
    int32_t *qc = realloc(res->query_categories, ((size_t)q->n_products + 1) * sizeof *qc);
    if (!qc)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    res->query_categories = qc;
    if (grow_zero(&sc->isq, &sc->isq_cap, (size_t)r->n_products + 1) ||
        grow_zero(&sc->isqc, &sc->isqc_cap, (size_t)r->n_categories + 1) ||
        grow(&sc->acc, &sc->acc_cap, (size_t)max_dim(r) + 1, sizeof *sc->acc))
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    for (int i = 0; i < q->n_products; i++) {
        int32_t p = q->products[i];
        if (sc->isq[p])
            continue;
        sc->isq[p] = 1;
        res->query[res->n_query++] = p;
        int32_t c = r->prod_cat[p];
        if (c >= 0 && !sc->isqc[c]) {
            sc->isqc[c] = 1;
            res->query_categories[res->n_query_categories++] = c;
        }
    }
    if (q->kinds & RS_REC_BIT(RS_REC_SYNONYMS))
        run_synonyms(r, q, res);
    if (q->kinds & RS_REC_BIT(RS_REC_CATEGORIES))
        run_categories(r, q, res);
    if (q->kinds & RS_REC_BIT(RS_REC_COMPLEMENTS))
        run_complements(r, q, res);
    if (q->kinds & RS_REC_BIT(RS_REC_COMPLETION))
        run_completion(r, q, res);
    /* clear the flags for the next call (O(query), not O(catalogue)) */
    for (int i = 0; i < res->n_query; i++)
        sc->isq[res->query[i]] = 0;
    for (int i = 0; i < res->n_query_categories; i++)
        sc->isqc[res->query_categories[i]] = 0;
    return RS_OK;
}

/* Whether query i of rs_recommend_many wants a completion list. */
static int wants_completion(const rs_rec_query *qs, const int *codes, int i)
{
    return codes[i] == RS_OK && (qs[i].kinds & RS_REC_BIT(RS_REC_COMPLETION));
}

/* The completion lists of rs_recommend_many straight from the scorer's fused top-k
 * (rs_completion_topk_many: sgns alone, no block of scores written and read back),
 * when every query asks the same k and mask: the lists completion_list() would give
 * (the same scores, the context and masked products left out, ties by index).
 * Returns 0 when it did not apply (nothing changed), 1 when done (OOM rows marked). */
static int completion_fused(const rs_recommender *r, const rs_rec_query *qs, int n,
                            rs_rec_result *const *res, const int *codes, int want, int first,
                            size_t nctx, rs_completion *c)
{
    int32_t ni = rs_completion_n_items(c);
    const rs_rec_query *q0 = &qs[first];
    int k = q0->k[RS_REC_COMPLETION];
    int nomask = (q0->flags & RS_REC_NO_MASK) != 0;
    if (!rs_completion_topk_ok(c) || ni > r->n_products)
        return 0;
    for (int i = first; i < n; i++)
        if (wants_completion(qs, codes, i) &&
            (qs[i].k[RS_REC_COMPLETION] != k || ((qs[i].flags & RS_REC_NO_MASK) != 0) != nomask ||
             (!nomask && (qs[i].min_pct != q0->min_pct || qs[i].max_pct != q0->max_pct))))
            return 0;
    int32_t *ctx = malloc((nctx + 1) * sizeof *ctx);
    int32_t *off = malloc(((size_t)want + 1) * sizeof *off);
    int32_t *tidx = malloc(((size_t)want * (size_t)k + 1) * sizeof *tidx);
    float *tsc = malloc(((size_t)want * (size_t)k + 1) * sizeof *tsc);
    int *tcnt = malloc(((size_t)want + 1) * sizeof *tcnt);
    uint8_t *allow = nomask ? NULL : malloc((size_t)ni + 1);
    int ok = ctx && off && tidx && tsc && tcnt && (nomask || allow);
    if (ok) {
        int b = 0;
        off[0] = 0;
        for (int i = 0; i < n; i++)
            if (wants_completion(qs, codes, i)) {
                memcpy(ctx + off[b], res[i]->query, (size_t)res[i]->n_query * sizeof *ctx);
                off[b + 1] = off[b] + res[i]->n_query;
                b++;
            }
        if (allow)
            for (int32_t p = 0; p < ni; p++)
                allow[p] = !masked_out(r, q0, p);
        /* only reads the scorer: no need to take it from the pool */
        ok = rs_completion_topk_many(c, ctx, off, want, allow, k, tidx, tsc, tcnt, NULL) >= 0;
    }
    int b = 0;
    for (int i = 0; i < n; i++)
        if (wants_completion(qs, codes, i)) {
            rs_rec_list *l = &res[i]->lists[RS_REC_COMPLETION];
            if (!ok || list_reserve(l, tcnt[b])) {
                OOM(l);
            } else {
                for (int j = 0; j < tcnt[b]; j++)
                    fill_product_row(r, &l->rows[j], tidx[(size_t)b * (size_t)k + (size_t)j],
                                     tsc[(size_t)b * (size_t)k + (size_t)j]);
                l->n = tcnt[b];
            }
            b++;
        }
    free(ctx);
    free(off);
    free(tidx);
    free(tsc);
    free(tcnt);
    free(allow);
    return 1;
}

int rs_recommend_many(const rs_recommender *r, const rs_rec_query *qs, int n,
                      rs_rec_result *const *res, int *codes, rs_error *errs)
{
    int want = 0;
    /* many calls: synonyms and complements read the product rows from copies in
     * category order (built once per recommender; the same bits), one category's
     * products one after the other in memory */
    const float *cn = NULL, *co = NULL;
    for (int i = 0; i < n && !cn; i++)
        if ((qs[i].kinds & (RS_REC_BIT(RS_REC_SYNONYMS) | RS_REC_BIT(RS_REC_COMPLEMENTS))) &&
            r->pm.m && r->pm.m->rows > 0 && r->norm && r->cat_items)
            if (cat_rows(r, &cn, &co)) /* out of memory: the rows as usual */
                break;
    for (int i = 0; i < n; i++) {
        rs_rec_query q = qs[i];
        q.kinds &= ~RS_REC_BIT(RS_REC_COMPLETION);
        errs[i].code = 0;
        errs[i].msg[0] = 0;
        if (res[i] && res[i]->scratch) {
            res[i]->scratch->cn = cn;
            res[i]->scratch->co = co;
        }
        codes[i] = rs_recommend(r, &q, res[i], &errs[i]);
        if (res[i] && res[i]->scratch)
            res[i]->scratch->cn = res[i]->scratch->co = NULL;
        if (codes[i] == RS_OK && (qs[i].kinds & RS_REC_BIT(RS_REC_COMPLETION))) {
            if (qs[i].k[RS_REC_COMPLETION] < 1 || qs[i].k[RS_REC_COMPLETION] > RS_REC_K_MAX)
                codes[i] = rs_seterr(&errs[i], RS_EUSAGE, "k for completion must be 1..%d (got %d)",
                                     RS_REC_K_MAX, qs[i].k[RS_REC_COMPLETION]);
            else
                want++;
        }
    }
    if (want == 0)
        return RS_OK;
    comp_pool *pool = r->pool;
    int usable = !r->comp_status && pool && pool->n > 0;
    for (int i = 0; i < n; i++)
        if (codes[i] == RS_OK && (qs[i].kinds & RS_REC_BIT(RS_REC_COMPLETION)))
            completion_head(r, &res[i]->lists[RS_REC_COMPLETION]);
    if (!usable)
        return RS_OK;
    /* the contexts (distinct query products) of every query that wants completion,
     * scored as one block; the scores live in the first such result's scratch */
    int first = -1;
    size_t nctx = 0;
    for (int i = 0; i < n; i++)
        if (codes[i] == RS_OK && (qs[i].kinds & RS_REC_BIT(RS_REC_COMPLETION))) {
            if (first < 0)
                first = i;
            nctx += (size_t)res[i]->n_query;
        }
    if (completion_fused(r, qs, n, res, codes, want, first, nctx, pool->scorers[0]))
        return RS_OK;
    int slot = pool_take(pool);
    rs_completion *c = pool->scorers[slot];
    int32_t ni = rs_completion_n_items(c);
    rs_rec_scratch *sc0 = res[first]->scratch;
    int32_t *ctx = malloc((nctx + 1) * sizeof *ctx);
    int32_t *off = malloc(((size_t)want + 1) * sizeof *off);
    int ok = ctx && off && !grow(&sc0->f, &sc0->f_cap, (size_t)want * (size_t)ni + 1,
                                 sizeof *sc0->f);
    if (ok) {
        int b = 0;
        off[0] = 0;
        for (int i = 0; i < n; i++)
            if (codes[i] == RS_OK && (qs[i].kinds & RS_REC_BIT(RS_REC_COMPLETION))) {
                memcpy(ctx + off[b], res[i]->query, (size_t)res[i]->n_query * sizeof *ctx);
                off[b + 1] = off[b] + res[i]->n_query;
                b++;
            }
        rs_completion_score_many(c, ctx, off, want, sc0->f, NULL);
    }
    pool_give(pool, slot);
    if (ok) {
        int b = 0;
        for (int i = 0; i < n; i++)
            if (codes[i] == RS_OK && (qs[i].kinds & RS_REC_BIT(RS_REC_COMPLETION))) {
                rs_rec_result *ri = res[i];
                rs_rec_scratch *sc = ri->scratch;
                if (grow_zero(&sc->isq, &sc->isq_cap, (size_t)r->n_products + 1)) {
                    OOM(&ri->lists[RS_REC_COMPLETION]);
                    b++;
                    continue;
                }
                for (int j = 0; j < ri->n_query; j++)
                    sc->isq[ri->query[j]] = 1;
                completion_list(r, &qs[i], ri, sc0->f + (size_t)b * (size_t)ni, ni);
                for (int j = 0; j < ri->n_query; j++)
                    sc->isq[ri->query[j]] = 0;
                b++;
            }
    } else {
        for (int i = 0; i < n; i++)
            if (codes[i] == RS_OK && (qs[i].kinds & RS_REC_BIT(RS_REC_COMPLETION)))
                OOM(&res[i]->lists[RS_REC_COMPLETION]);
    }
    free(ctx);
    free(off);
    return RS_OK;
}
