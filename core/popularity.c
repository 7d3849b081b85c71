/* popularity.c - the derived tables: product and category popularity per city (and
 * all cities = 0), and the customers of each city (see store.h for the schema). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "customers.h"
#include "store.h"

typedef struct {
    int64_t id;
    int64_t count;
} idcount;

static int cmp_idcount(const void *a, const void *b)
{
    const idcount *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Writes one city's counts (dense array indexed by id-1, n entries) into the table
 * behind ins.  Percentiles come from a sort by count; the rows are then written in
 * primary-key order (city, id), which keeps the WITHOUT ROWID b-tree appends
 * sequential: several times faster than writing them in count order. */
static int write_popularity(rs_store *s, sqlite3_stmt *ins, int64_t city, const int64_t *counts,
                            int64_t n, int64_t total, rs_error *e)
{
    int64_t sold = 0;
    for (int64_t i = 0; i < n; i++)
        sold += counts[i] > 0;
    if (sold == 0)
        return RS_OK;
    idcount *v = malloc((size_t)sold * sizeof *v);
    double *pct = malloc((size_t)n * sizeof *pct);
    if (!v || !pct) {
        free(v);
        free(pct);
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (counts[i] > 0)
            v[k++] = (idcount){i + 1, counts[i]};
    qsort(v, (size_t)sold, sizeof *v, cmp_idcount);
    /* percent_rank: (number of items with a strictly smaller count) / (sold - 1). */
    int64_t rank_start = 0;
    for (int64_t i = 0; i < sold; i++) {
        if (i > 0 && v[i].count != v[i - 1].count)
            rank_start = i;
        pct[v[i].id - 1] = sold > 1 ? 100.0 * (double)rank_start / (double)(sold - 1) : 100.0;
    }
    int rc = RS_OK;
    for (int64_t i = 0; i < n && rc == RS_OK; i++) {
        if (counts[i] <= 0)
            continue;
        sqlite3_bind_int64(ins, 1, city);
        sqlite3_bind_int64(ins, 2, i + 1);
        sqlite3_bind_int64(ins, 3, counts[i]);
        sqlite3_bind_double(ins, 4, total > 0 ? (double)counts[i] / (double)total : 0.0);
        sqlite3_bind_double(ins, 5, pct[i]);
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = rs_store_sqlerr(s, e, "writing popularity");
        sqlite3_reset(ins);
    }
    free(v);
    free(pct);
    return rc;
}

static int max_id(rs_store *s, const char *table, int64_t *out, rs_error *e)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT coalesce(max(id), 0) FROM %s", table);
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        rc = rs_store_sqlerr(s, e, "reading ids");
    else
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

/* Counting happens in C over one ordered scan of receipt_items merged with one ordered
 * scan of receipts (both are in receipt id order): a GROUP BY over the join is several
 * times slower on millions of lines.  Memory: (cities+1) x products counters, 8 bytes
 * each (20 cities x 100k products = 17 MB), nothing per receipt. */
/* The counts of one refresh: receipts per (city, product) and (city, category), city
 * 0 = all cities, and receipts per city. */
typedef struct pop_counts {
    int64_t ncity, nprod, ncat, nrec;
    int64_t *pcount, *ccount, *city_total; /* [(ncity+1) * (nprod+1)], ..., [ncity+1] */
    int64_t *prod_cat, *cat_seen;          /* [nprod+1], [ncat+1] */
} pop_counts;

static void pop_counts_free(pop_counts *pc)
{
    free(pc->pcount);
    free(pc->ccount);
    free(pc->city_total);
    free(pc->prod_cat);
    free(pc->cat_seen);
}

static int read_product_categories(rs_store *s, pop_counts *pc, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int step, rc = RS_OK;
    if (sqlite3_prepare_v2(rs_store_db(s), "SELECT id, category_id FROM products", -1, &st,
                           NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading products");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), c = sqlite3_column_int64(st, 1);
        if (id >= 1 && id <= pc->nprod)
            pc->prod_cat[id] = (c >= 1 && c <= pc->ncat) ? c : 0;
    }
    if (step != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "reading products");
    sqlite3_finalize(st);
    return rc;
}

/* Advances the receipts cursor by one row, counting the receipt for its city. */
static int next_receipt(sqlite3_stmt *rst, pop_counts *pc, int64_t *cur_id, int64_t *cur_city)
{
    int rstep = sqlite3_step(rst);
    if (rstep != SQLITE_ROW)
        return rstep;
    *cur_id = sqlite3_column_int64(rst, 0);
    *cur_city = sqlite3_column_int64(rst, 1);
    if (*cur_id >= 1 && *cur_id <= pc->nrec && *cur_city >= 1 && *cur_city <= pc->ncity) {
        pc->city_total[*cur_city]++;
        pc->city_total[0]++;
    }
    return rstep;
}

/* receipt_items is clustered by (receipt_id, product_id): categories are counted once
 * per receipt by remembering the last receipt that touched each category.  The receipts
 * cursor advances alongside to find each line's city. */
static int count_lines(rs_store *s, pop_counts *pc, rs_error *e)
{
    sqlite3_stmt *st = NULL, *rst = NULL;
    int rc = RS_OK;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT receipt_id, product_id FROM receipt_items ORDER BY receipt_id",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(rs_store_db(s), "SELECT id, city_id FROM receipts ORDER BY id", -1,
                           &rst, NULL) != SQLITE_OK) {
        rc = rs_store_sqlerr(s, e, "reading receipt items");
        goto done;
    }
    size_t np1 = (size_t)pc->nprod + 1, nk1 = (size_t)pc->ncat + 1;
    int64_t cur_id = 0, cur_city = 0; /* the receipts cursor's row */
    int step, rstep = SQLITE_ROW;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t r = sqlite3_column_int64(st, 0), p = sqlite3_column_int64(st, 1);
        while (rstep == SQLITE_ROW && cur_id < r)
            if ((rstep = next_receipt(rst, pc, &cur_id, &cur_city)) != SQLITE_ROW)
                break;
        if (rstep != SQLITE_ROW && rstep != SQLITE_DONE)
            break;
        if (r < 1 || r > pc->nrec || p < 1 || p > pc->nprod)
            continue;
        int64_t c = (cur_id == r && cur_city >= 1 && cur_city <= pc->ncity) ? cur_city : 0;
        pc->pcount[(size_t)c * np1 + (size_t)p]++;
        pc->pcount[(size_t)p]++;
        int64_t k = pc->prod_cat[p];
        if (k && pc->cat_seen[k] != r) {
            pc->cat_seen[k] = r;
            pc->ccount[(size_t)c * nk1 + (size_t)k]++;
            pc->ccount[(size_t)k]++;
        }
    }
    if (step == SQLITE_DONE) /* receipts after the last line still count */
        while (rstep == SQLITE_ROW &&
               (rstep = next_receipt(rst, pc, &cur_id, &cur_city)) == SQLITE_ROW)
            ;
    if ((step != SQLITE_ROW && step != SQLITE_DONE) ||
        (rstep != SQLITE_ROW && rstep != SQLITE_DONE))
        rc = rs_store_sqlerr(s, e, "reading receipt items");
done:
    sqlite3_finalize(st);
    sqlite3_finalize(rst);
    return rc;
}

/* Replaces both popularity tables and the cities' receipt counts. */
static int write_counts(rs_store *s, const pop_counts *pc, rs_error *e)
{
    sqlite3_stmt *ins = NULL;
    int rc = rs_store_exec(s, "DELETE FROM product_popularity; DELETE FROM category_popularity;",
                           e);
    const char *sqls[2] = {
        "INSERT INTO product_popularity(city_id, product_id, receipts, share, percentile)"
        " VALUES (?1, ?2, ?3, ?4, ?5)",
        "INSERT INTO category_popularity(city_id, category_id, receipts, share, percentile)"
        " VALUES (?1, ?2, ?3, ?4, ?5)"};
    for (int which = 0; which < 2 && rc == RS_OK; which++) {
        if (sqlite3_prepare_v2(rs_store_db(s), sqls[which], -1, &ins, NULL) != SQLITE_OK)
            return rs_store_sqlerr(s, e, "writing popularity");
        int64_t n = which == 0 ? pc->nprod : pc->ncat;
        int64_t *counts = which == 0 ? pc->pcount : pc->ccount;
        size_t stride = (size_t)n + 1;
        for (int64_t c = 0; c <= pc->ncity && rc == RS_OK; c++)
            rc = write_popularity(s, ins, c, counts + (size_t)c * stride + 1, n,
                                  pc->city_total[c], e);
        sqlite3_finalize(ins);
        ins = NULL;
    }
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(rs_store_db(s), "UPDATE cities SET receipts = ?2 WHERE id = ?1", -1,
                           &ins, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "writing city counts");
    for (int64_t c = 1; c <= pc->ncity && rc == RS_OK; c++) {
        sqlite3_bind_int64(ins, 1, c);
        sqlite3_bind_int64(ins, 2, pc->city_total[c]);
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = rs_store_sqlerr(s, e, "writing city counts");
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    return rc;
}

int rs_store_refresh_popularity(rs_store *s, rs_error *e)
{
    pop_counts pc;
    memset(&pc, 0, sizeof pc);
    int rc;
    if ((rc = max_id(s, "cities", &pc.ncity, e)) || (rc = max_id(s, "products", &pc.nprod, e)) ||
        (rc = max_id(s, "categories", &pc.ncat, e)) || (rc = max_id(s, "receipts", &pc.nrec, e)))
        return rc;
    size_t nc1 = (size_t)pc.ncity + 1;
    pc.pcount = calloc(nc1 * ((size_t)pc.nprod + 1), sizeof *pc.pcount);
    pc.ccount = calloc(nc1 * ((size_t)pc.ncat + 1), sizeof *pc.ccount);
    pc.city_total = calloc(nc1, sizeof *pc.city_total);
    pc.prod_cat = calloc((size_t)pc.nprod + 1, sizeof *pc.prod_cat);
    pc.cat_seen = calloc((size_t)pc.ncat + 1, sizeof *pc.cat_seen);
    if (!pc.pcount || !pc.ccount || !pc.city_total || !pc.prod_cat || !pc.cat_seen)
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory computing popularity");
    if (rc == RS_OK)
        rc = read_product_categories(s, &pc, e);
    if (rc == RS_OK)
        rc = count_lines(s, &pc, e);
    if (rc == RS_OK)
        rc = write_counts(s, &pc, e);
    if (rc == RS_OK)
        rc = rs_customers_refresh(s, e);
    pop_counts_free(&pc);
    return rc;
}
