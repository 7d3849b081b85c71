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
int rs_store_refresh_popularity(rs_store *s, rs_error *e)
{
    int rc = RS_OK;
    int64_t ncity = 0, nprod = 0, ncat = 0, nrec = 0;
    int64_t *pcount = NULL, *ccount = NULL, *city_total = NULL;
    int64_t *prod_cat = NULL, *cat_seen = NULL;
    sqlite3_stmt *st = NULL, *ins = NULL, *rst = NULL;

    if ((rc = max_id(s, "cities", &ncity, e)) || (rc = max_id(s, "products", &nprod, e)) ||
        (rc = max_id(s, "categories", &ncat, e)) || (rc = max_id(s, "receipts", &nrec, e)))
        return rc;
    size_t nc1 = (size_t)ncity + 1;
    pcount = calloc(nc1 * ((size_t)nprod + 1), sizeof *pcount);
    ccount = calloc(nc1 * ((size_t)ncat + 1), sizeof *ccount);
    city_total = calloc(nc1, sizeof *city_total);
    prod_cat = calloc((size_t)nprod + 1, sizeof *prod_cat);
    cat_seen = calloc((size_t)ncat + 1, sizeof *cat_seen);
    if (!pcount || !ccount || !city_total || !prod_cat || !cat_seen) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory computing popularity");
        goto done;
    }

    int step;
    if (sqlite3_prepare_v2(rs_store_db(s), "SELECT id, category_id FROM products", -1, &st, NULL) !=
        SQLITE_OK) {
        rc = rs_store_sqlerr(s, e, "reading products");
        goto done;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), c = sqlite3_column_int64(st, 1);
        if (id >= 1 && id <= nprod)
            prod_cat[id] = (c >= 1 && c <= ncat) ? c : 0;
    }
    if (step != SQLITE_DONE) {
        rc = rs_store_sqlerr(s, e, "reading products");
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;

    /* receipt_items is clustered by (receipt_id, product_id): categories are counted
     * once per receipt by remembering the last receipt that touched each category.  The
     * receipts cursor advances alongside to find each line's city. */
    if (sqlite3_prepare_v2(rs_store_db(s), "SELECT receipt_id, product_id FROM receipt_items"
                                  " ORDER BY receipt_id", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(rs_store_db(s), "SELECT id, city_id FROM receipts ORDER BY id", -1, &rst,
                           NULL) != SQLITE_OK) {
        rc = rs_store_sqlerr(s, e, "reading receipt items");
        goto done;
    }
    size_t np1 = (size_t)nprod + 1, nk1 = (size_t)ncat + 1;
    int64_t cur_id = 0, cur_city = 0; /* the receipts cursor's row */
    int rstep = SQLITE_ROW;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t r = sqlite3_column_int64(st, 0), p = sqlite3_column_int64(st, 1);
        while (rstep == SQLITE_ROW && cur_id < r) {
            if ((rstep = sqlite3_step(rst)) != SQLITE_ROW)
                break;
            cur_id = sqlite3_column_int64(rst, 0);
            cur_city = sqlite3_column_int64(rst, 1);
            if (cur_id >= 1 && cur_id <= nrec && cur_city >= 1 && cur_city <= ncity) {
                city_total[cur_city]++;
                city_total[0]++;
            }
        }
        if (rstep != SQLITE_ROW && rstep != SQLITE_DONE)
            break;
        if (r < 1 || r > nrec || p < 1 || p > nprod)
            continue;
        int64_t c = (cur_id == r && cur_city >= 1 && cur_city <= ncity) ? cur_city : 0;
        pcount[(size_t)c * np1 + (size_t)p]++;
        pcount[(size_t)p]++;
        int64_t k = prod_cat[p];
        if (k && cat_seen[k] != r) {
            cat_seen[k] = r;
            ccount[(size_t)c * nk1 + (size_t)k]++;
            ccount[(size_t)k]++;
        }
    }
    if (step == SQLITE_DONE) /* receipts after the last line still count */
        while (rstep == SQLITE_ROW && (rstep = sqlite3_step(rst)) == SQLITE_ROW) {
            cur_id = sqlite3_column_int64(rst, 0);
            cur_city = sqlite3_column_int64(rst, 1);
            if (cur_id >= 1 && cur_id <= nrec && cur_city >= 1 && cur_city <= ncity) {
                city_total[cur_city]++;
                city_total[0]++;
            }
        }
    if ((step != SQLITE_ROW && step != SQLITE_DONE) ||
        (rstep != SQLITE_ROW && rstep != SQLITE_DONE)) {
        rc = rs_store_sqlerr(s, e, "reading receipt items");
        goto done;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(rst);
    st = rst = NULL;

    if ((rc = rs_store_exec(s, "DELETE FROM product_popularity; DELETE FROM category_popularity;",
                            e)))
        goto done;
    const char *sqls[2] = {
        "INSERT INTO product_popularity(city_id, product_id, receipts, share, percentile)"
        " VALUES (?1, ?2, ?3, ?4, ?5)",
        "INSERT INTO category_popularity(city_id, category_id, receipts, share, percentile)"
        " VALUES (?1, ?2, ?3, ?4, ?5)"};
    for (int which = 0; which < 2 && rc == RS_OK; which++) {
        if (sqlite3_prepare_v2(rs_store_db(s), sqls[which], -1, &ins, NULL) != SQLITE_OK) {
            rc = rs_store_sqlerr(s, e, "writing popularity");
            goto done;
        }
        int64_t n = which == 0 ? nprod : ncat;
        int64_t *counts = which == 0 ? pcount : ccount;
        size_t stride = which == 0 ? np1 : nk1;
        for (int64_t c = 0; c <= ncity && rc == RS_OK; c++)
            rc = write_popularity(s, ins, c, counts + (size_t)c * stride + 1, n, city_total[c], e);
        sqlite3_finalize(ins);
        ins = NULL;
    }
    if (rc)
        goto done;
    if (sqlite3_prepare_v2(rs_store_db(s), "UPDATE cities SET receipts = ?2 WHERE id = ?1", -1, &ins,
                           NULL) != SQLITE_OK) {
        rc = rs_store_sqlerr(s, e, "writing city counts");
        goto done;
    }
    for (int64_t c = 1; c <= ncity && rc == RS_OK; c++) {
        sqlite3_bind_int64(ins, 1, c);
        sqlite3_bind_int64(ins, 2, city_total[c]);
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = rs_store_sqlerr(s, e, "writing city counts");
        sqlite3_reset(ins);
    }
    if (rc == RS_OK)
        rc = rs_customers_refresh(s, e);
done:
    sqlite3_finalize(st);
    sqlite3_finalize(rst);
    sqlite3_finalize(ins);
    free(pcount);
    free(ccount);
    free(city_total);
    free(prod_cat);
    free(cat_seen);
    return rc;
}
