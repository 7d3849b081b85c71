/* import_feed.c - how parsed receipts reach SQLite (import_int.h).
 *
 * A per-row sqlite3_step() costs about as much as the row insert itself.  The writer
 * collects a chunk's new receipts and lines in arrays and inserts them with one
 * INSERT ... SELECT from an eponymous virtual table that reads those arrays.
 *
 * The receipts' external ids are not kept in memory (a 2 GB file holds millions):
 * a fixed-size Bloom filter (32 MiB; 4 bits in one 64-bit word per key, so one cache
 * miss) answers "certainly new" for almost every new receipt; a "maybe" is resolved
 * among the receipts queued for the current flush (im->pend) and then through the
 * UNIQUE index on receipts.ext_id.  False "maybe"s (an SQLite lookup that finds
 * nothing): 1 in 110,000 new receipts with 1 million receipts, 1 in 7,000 with 4
 * million, 1 in 11 with 50 million.
 */
#include <stdlib.h>
#include <string.h>

#include "import_int.h"

/* ---- the feed virtual tables ----------------------------------------------------- */

typedef struct feed_vtab {
    sqlite3_vtab base;
    feedaux *aux;
} feed_vtab;

typedef struct feed_cur {
    sqlite3_vtab_cursor base;
    size_t i;
} feed_cur;

static int feed_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                        sqlite3_vtab **out, char **err)
{
    (void)argc;
    (void)argv;
    (void)err;
    feedaux *a = aux;
    int rc = sqlite3_declare_vtab(db, a->kind == 0 ? "CREATE TABLE x(rec, prod, qty, w)"
                                                   : "CREATE TABLE x(id, ext, city, ts, cust)");
    if (rc != SQLITE_OK)
        return rc;
    feed_vtab *v = sqlite3_malloc(sizeof *v);
    if (!v)
        return SQLITE_NOMEM;
    memset(v, 0, sizeof *v);
    v->aux = a;
    *out = &v->base;
    return SQLITE_OK;
}

static int feed_disconnect(sqlite3_vtab *v)
{
    sqlite3_free(v);
    return SQLITE_OK;
}

static int feed_best_index(sqlite3_vtab *v, sqlite3_index_info *info)
{
    (void)v;
    info->estimatedCost = 1e6;
    info->estimatedRows = 1000000;
    return SQLITE_OK;
}

static int feed_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
    (void)v;
    feed_cur *c = sqlite3_malloc(sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    *out = &c->base;
    return SQLITE_OK;
}

static int feed_close(sqlite3_vtab_cursor *c)
{
    sqlite3_free(c);
    return SQLITE_OK;
}

static int feed_filter(sqlite3_vtab_cursor *c, int idx, const char *idxs, int argc,
                       sqlite3_value **argv)
{
    (void)idx;
    (void)idxs;
    (void)argc;
    (void)argv;
    ((feed_cur *)c)->i = 0;
    return SQLITE_OK;
}

static int feed_next(sqlite3_vtab_cursor *c)
{
    ((feed_cur *)c)->i++;
    return SQLITE_OK;
}

static int feed_eof(sqlite3_vtab_cursor *c)
{
    const feedaux *a = ((feed_vtab *)c->pVtab)->aux;
    return ((feed_cur *)c)->i >= (a->kind == 0 ? a->im->nfitem : a->im->nfrec);
}

static int feed_column(sqlite3_vtab_cursor *c, sqlite3_context *ctx, int col)
{
    const feedaux *a = ((feed_vtab *)c->pVtab)->aux;
    size_t i = ((feed_cur *)c)->i;
    if (a->kind == 0) {
        const feeditem *x = &a->im->fitem[i];
        switch (col) {
        case 0: sqlite3_result_int64(ctx, x->rec); break;
        case 1: sqlite3_result_int64(ctx, x->prod); break;
        case 2: sqlite3_result_double(ctx, x->qty); break;
        default: sqlite3_result_double(ctx, x->w); break;
        }
        return SQLITE_OK;
    }
    const feedrec *x = &a->im->frec[i];
    switch (col) {
    case 0: sqlite3_result_int64(ctx, x->id); break;
    case 1: sqlite3_result_text(ctx, x->ext, (int)x->extn, SQLITE_STATIC); break;
    case 2: sqlite3_result_int64(ctx, x->city); break;
    case 3:
        if (x->has_ts)
            sqlite3_result_int64(ctx, x->ts);
        else
            sqlite3_result_null(ctx);
        break;
    default:
        if (x->custn)
            sqlite3_result_text(ctx, x->cust, (int)x->custn, SQLITE_STATIC);
        else
            sqlite3_result_null(ctx);
        break;
    }
    return SQLITE_OK;
}

static int feed_rowid(sqlite3_vtab_cursor *c, sqlite3_int64 *rowid)
{
    *rowid = (sqlite3_int64)((feed_cur *)c)->i;
    return SQLITE_OK;
}

static const sqlite3_module FEED_MODULE = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = feed_connect,
    .xBestIndex = feed_best_index,
    .xDisconnect = feed_disconnect,
    .xDestroy = feed_disconnect,
    .xOpen = feed_open,
    .xClose = feed_close,
    .xFilter = feed_filter,
    .xNext = feed_next,
    .xEof = feed_eof,
    .xColumn = feed_column,
    .xRowid = feed_rowid,
};

int imp_feed_init(imp *im, rs_error *e)
{
    im->aux[0] = (feedaux){im, 0};
    im->aux[1] = (feedaux){im, 1};
    if (sqlite3_create_module_v2(im->db, "rs_import_items", &FEED_MODULE, &im->aux[0], NULL) !=
            SQLITE_OK ||
        sqlite3_create_module_v2(im->db, "rs_import_receipts", &FEED_MODULE, &im->aux[1], NULL) !=
            SQLITE_OK)
        return imp_sqlfail(im, e, "registering the import feed");
    im->modules = 1;
    if (sqlite3_prepare_v3(im->db,
                           "INSERT INTO receipt_items(receipt_id, product_id, quantity, weight)"
                           " SELECT rec, prod, qty, w FROM rs_import_items WHERE 1"
                           " ON CONFLICT(receipt_id, product_id) DO UPDATE SET"
                           " quantity = quantity + excluded.quantity,"
                           " weight = max(weight, excluded.weight)",
                           -1, SQLITE_PREPARE_PERSISTENT, &im->st_feed_item, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(im->db,
                           "INSERT INTO receipts(id, ext_id, city_id, ts, customer)"
                           " SELECT id, ext, city, ts, cust FROM rs_import_receipts",
                           -1, SQLITE_PREPARE_PERSISTENT, &im->st_feed_rec, NULL) != SQLITE_OK)
        return imp_sqlfail(im, e, "preparing the import feed");
    return RS_OK;
}

void imp_feed_free(imp *im)
{
    sqlite3_finalize(im->st_feed_item);
    sqlite3_finalize(im->st_feed_rec);
    sqlite3_finalize(im->st_rec_find);
    im->st_feed_item = im->st_feed_rec = im->st_rec_find = NULL;
    if (im->modules) {
        sqlite3_create_module_v2(im->db, "rs_import_items", NULL, NULL, NULL);
        sqlite3_create_module_v2(im->db, "rs_import_receipts", NULL, NULL, NULL);
        im->modules = 0;
    }
    free(im->frec);
    free(im->fitem);
    im->frec = NULL;
    im->fitem = NULL;
    sm_free(&im->pend);
    free(im->recbloom);
    im->recbloom = NULL;
}

/* ---- receipt ids ------------------------------------------------------------------ */

#define BLOOM_BITS ((size_t)1 << 28)

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t bloom_mask(uint64_t h2)
{
    return ((uint64_t)1 << (h2 & 63)) | ((uint64_t)1 << ((h2 >> 6) & 63)) |
           ((uint64_t)1 << ((h2 >> 12) & 63)) | ((uint64_t)1 << ((h2 >> 18) & 63));
}

static void bloom_add(uint64_t *b, uint64_t h)
{
    uint64_t h2 = mix64(h);
    b[(h2 >> 24) & (BLOOM_BITS / 64 - 1)] |= bloom_mask(h2);
}

static int bloom_has(const uint64_t *b, uint64_t h)
{
    uint64_t h2 = mix64(h), m = bloom_mask(h2);
    return (b[(h2 >> 24) & (BLOOM_BITS / 64 - 1)] & m) == m;
}

int imp_load_receipts(imp *im, rs_error *e)
{
    if (im->recs_loaded)
        return RS_OK;
    sqlite3_stmt *st = NULL;
    int rc = RS_OK, step;
    /* calloc: the pages stay untouched (not resident) until a bit is set in them */
    if (!im->recbloom && !(im->recbloom = calloc(BLOOM_BITS / 64, sizeof *im->recbloom)))
        return imp_oom(e);
    if ((!im->st_rec_find &&
         sqlite3_prepare_v3(im->db, "SELECT id FROM receipts WHERE ext_id = ?1", -1,
                            SQLITE_PREPARE_PERSISTENT, &im->st_rec_find, NULL) != SQLITE_OK) ||
        sqlite3_prepare_v2(im->db, "SELECT id, ext_id FROM receipts", -1, &st, NULL) != SQLITE_OK)
        return imp_sqlfail(im, e, "loading receipt ids");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *k = (const char *)sqlite3_column_text(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if (k)
            bloom_add(im->recbloom, imp_hstr(k, n));
        if (id >= im->next_rec)
            im->next_rec = id + 1;
    }
    if (step != SQLITE_DONE)
        rc = imp_sqlfail(im, e, "loading receipt ids");
    sqlite3_finalize(st);
    if (rc == RS_OK)
        im->recs_loaded = 1;
    return rc;
}

/* *out = the id of the receipt with external id ext, or 0 when there is none. */
static int find_receipt(imp *im, const char *ext, size_t n, uint64_t h, int64_t *out,
                        rs_error *e)
{
    *out = 0;
    if (!bloom_has(im->recbloom, h))
        return RS_OK;
    sment *x = sm_find(&im->pend, ext, n, h);
    if (x) {
        *out = x->v;
        return RS_OK;
    }
    sqlite3_stmt *st = im->st_rec_find;
    sqlite3_bind_text(st, 1, ext, (int)n, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return imp_sqlfail(im, e, "looking up a receipt");
    return RS_OK;
}

int imp_receipt_id(imp *im, const char *ext, size_t n, const char *city, size_t cityn,
                   int has_ts, int64_t ts, const char *cust, size_t custn, int64_t *out,
                   rs_error *e)
{
    uint64_t h = imp_hstr(ext, n);
    int64_t found;
    int rc = find_receipt(im, ext, n, h, &found, e);
    if (rc)
        return rc;
    if (found) {
        *out = found;
        return RS_OK;
    }
    int64_t cid = 0;
    if ((rc = imp_city_id(im, city, cityn, &cid, e)))
        return rc;
    int64_t id = im->next_rec++;
    const char *key;
    if (sm_put2(&im->pend, ext, n, id, &key))
        return imp_oom(e);
    bloom_add(im->recbloom, h);
    /* queued for imp_flush_feed(); the ext id is the map's copy, the customer must stay
     * valid until the flush */
    if (im->nfrec == im->capfrec) {
        size_t cap = im->capfrec ? im->capfrec * 2 : 4096;
        feedrec *nr = realloc(im->frec, cap * sizeof *nr);
        if (!nr)
            return imp_oom(e);
        im->frec = nr;
        im->capfrec = cap;
    }
    im->frec[im->nfrec++] =
        (feedrec){id, cid, ts, key, cust, (uint32_t)n, (uint32_t)custn, has_ts};
    im->rep->receipts_added++;
    im->rep->receipts_no_customer += custn == 0;
    *out = id;
    return RS_OK;
}

/* ---- receipt lines ---------------------------------------------------------------- */

/* Sorts each run of lines of one receipt by product and merges equal products, so
 * that receipt_items gets keys in increasing order (SQLite's b-tree then appends
 * instead of searching) and fewer conflicts.  With line hashes (RS_PF_DEDUP_LINES) a
 * line equal to the first one of its product in the run is dropped, not summed. */
void imp_sort_items(imp *im)
{
    feeditem *v = im->fitem;
    size_t n = im->nfitem, out = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && v[j].rec == v[i].rec)
            j++;
        for (size_t a = i + 1; a < j; a++) { /* insertion sort: receipts are small */
            feeditem x = v[a];
            size_t b = a;
            while (b > i && v[b - 1].prod > x.prod) {
                v[b] = v[b - 1];
                b--;
            }
            v[b] = x;
        }
        for (size_t a = i; a < j; a++) {
            if (a > i && v[a].prod == v[out - 1].prod && v[a].lh && v[a].lh == v[out - 1].lh)
                im->rep->skipped_duplicates++; /* the same line again: counted once */
            else if (a > i && v[a].prod == v[out - 1].prod) {
                v[out - 1].qty += v[a].qty;
                if (v[a].w > v[out - 1].w)
                    v[out - 1].w = v[a].w;
            } else
                v[out++] = v[a];
        }
        i = j;
    }
    im->nfitem = out;
}

int imp_flush_feed(imp *im, rs_error *e)
{
    int rc = RS_OK;
    if (im->nfrec) {
        int step = sqlite3_step(im->st_feed_rec);
        sqlite3_reset(im->st_feed_rec);
        if (step != SQLITE_DONE)
            rc = imp_sqlfail(im, e, "adding receipts");
        im->nfrec = 0;
        sm_free(&im->pend); /* they are in the database now */
    }
    if (rc == RS_OK && im->nfitem) {
        int step = sqlite3_step(im->st_feed_item);
        sqlite3_reset(im->st_feed_item);
        if (step != SQLITE_DONE)
            rc = imp_sqlfail(im, e, "adding receipt lines");
        im->nfitem = 0;
    }
    return rc;
}

int imp_queue_item(imp *im, int64_t rec, int64_t prod, double qty, double w, uint64_t lh,
                   rs_error *e)
{
    if (im->nfitem == im->capfitem) {
        size_t cap = im->capfitem ? im->capfitem * 2 : 65536;
        feeditem *ni = realloc(im->fitem, cap * sizeof *ni);
        if (!ni)
            return imp_oom(e);
        im->fitem = ni;
        im->capfitem = cap;
    }
    im->fitem[im->nfitem++] = (feeditem){rec, prod, qty, w, lh};
    return RS_OK;
}
