/* stats.c - summary statistics (see stats.h). */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

const int rs_stats_bin_lo[RS_STATS_BINS] = {1, 2, 3, 4, 5, 6, 8, 11, 16, 21, 31, 51};

static int scalar(rs_store *s, const char *sql, int64_t city, int64_t *out, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "computing statistics");
    if (sqlite3_bind_parameter_count(st) >= 1)
        sqlite3_bind_int64(st, 1, city);
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = rs_store_sqlerr(s, e, "computing statistics");
    else
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

static char *dup_col(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return strdup(t ? t : "");
}

static int top(rs_store *s, const char *sql, int64_t city, rs_stats_item *out, int *n, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK, step;
    *n = 0;
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "computing top lists");
    sqlite3_bind_int64(st, 1, city);
    sqlite3_bind_int(st, 2, RS_STATS_TOP);
    while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < RS_STATS_TOP) {
        rs_stats_item *it = &out[*n];
        it->id = sqlite3_column_int64(st, 0);
        it->ext_id = dup_col(st, 1);
        it->name = dup_col(st, 2);
        it->receipts = sqlite3_column_int64(st, 3);
        it->share = sqlite3_column_double(st, 4);
        (*n)++;
        if (!it->ext_id || !it->name) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            break;
        }
    }
    if (rc == RS_OK && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "computing top lists");
    sqlite3_finalize(st);
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int list_cities(rs_store *s, rs_stats *st, rs_error *e)
{
    st->cities = calloc((size_t)st->ncities + 1, sizeof *st->cities);
    if (!st->cities)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT c.id, c.name, (SELECT count(*) FROM receipts r WHERE r.city_id"
                           " = c.id) FROM cities c ORDER BY c.id", -1, &q, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "listing cities");
    int64_t k = 0;
    int step, rc = RS_OK;
    while ((step = sqlite3_step(q)) == SQLITE_ROW && k < st->ncities) {
        st->cities[k].id = sqlite3_column_int64(q, 0);
        st->cities[k].receipts = sqlite3_column_int64(q, 2);
        if (!(st->cities[k++].name = dup_col(q, 1))) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            break;
        }
    }
    st->ncities = k;
    if (rc == RS_OK && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "listing cities");
    sqlite3_finalize(q);
    return rc;
}

/* The distinct-product counts of the city's receipts (one ordered scan of receipt_items,
 * clustered by receipt), into *out (n entries, malloc-ed). */
static int receipt_sizes(rs_store *s, int64_t city, int64_t **out, size_t *n, rs_error *e)
{
    int64_t nrec = 0;
    int rc, step;
    sqlite3_stmt *q = NULL;
    int64_t *cnt = NULL, *keep = NULL;
    *out = NULL;
    *n = 0;
    if ((rc = scalar(s, "SELECT coalesce(max(id), 0) FROM receipts", 0, &nrec, e)))
        return rc;
    cnt = calloc((size_t)nrec + 1, sizeof *cnt);
    keep = calloc((size_t)nrec + 1, sizeof *keep);
    if (!cnt || !keep) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    if (sqlite3_prepare_v2(rs_store_db(s), "SELECT receipt_id FROM receipt_items", -1, &q, NULL) !=
        SQLITE_OK) {
        rc = rs_store_sqlerr(s, e, "reading receipt sizes");
        goto done;
    }
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t r = sqlite3_column_int64(q, 0);
        if (r >= 1 && r <= nrec)
            cnt[r]++;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (step != SQLITE_DONE) {
        rc = rs_store_sqlerr(s, e, "reading receipt sizes");
        goto done;
    }
    /* keep the receipts of the city */
    if (sqlite3_prepare_v2(rs_store_db(s), "SELECT id FROM receipts WHERE ?1 = 0 OR city_id = ?1",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = rs_store_sqlerr(s, e, "reading receipts");
        goto done;
    }
    sqlite3_bind_int64(q, 1, city);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t r = sqlite3_column_int64(q, 0);
        if (r >= 1 && r <= nrec)
            keep[(*n)++] = cnt[r];
    }
    if (step != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "reading receipts");
done:
    sqlite3_finalize(q);
    free(cnt);
    if (rc) {
        free(keep);
        *n = 0;
    } else {
        *out = keep;
    }
    return rc;
}

static void size_summary(rs_stats *st, int64_t *sizes, size_t n)
{
    if (n == 0)
        return;
    qsort(sizes, n, sizeof *sizes, cmp_i64);
    st->size_min = sizes[0];
    st->size_max = sizes[n - 1];
    st->size_median = n % 2 ? (double)sizes[n / 2]
                            : ((double)sizes[n / 2 - 1] + (double)sizes[n / 2]) / 2.0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += (double)sizes[i];
        int b = RS_STATS_BINS - 1;
        while (b > 0 && sizes[i] < rs_stats_bin_lo[b])
            b--;
        if (sizes[i] >= 1)
            st->hist[b]++;
    }
    st->size_mean = sum / (double)n;
}

int rs_stats_compute(rs_store *s, int64_t city, rs_stats *st, rs_error *e)
{
    memset(st, 0, sizeof *st);
    st->city_id = city;
    int rc;
    int64_t *sizes = NULL;
    size_t n = 0;
    if ((rc = scalar(s, "SELECT count(*) FROM products", 0, &st->products, e)) ||
        (rc = scalar(s, "SELECT count(*) FROM categories WHERE level >= 1", 0, &st->categories, e)) ||
        (rc = scalar(s, "SELECT count(*) FROM categories WHERE level = 0", 0, &st->departments, e)) ||
        (rs_store_version(s) >= 3 &&
         (rc = scalar(s, "SELECT count(*) FROM categories WHERE level >= 1 AND derived", 0,
                      &st->derived_categories, e))) ||
        (rc = scalar(s, "SELECT count(*) FROM cities", 0, &st->ncities, e)) ||
        (rc = scalar(s, "SELECT count(*) FROM receipts WHERE ?1 = 0 OR city_id = ?1", city,
                     &st->receipts, e)))
        return rc;
    if (city == 0)
        rc = scalar(s, "SELECT count(*) FROM receipt_items", 0, &st->lines, e);
    else
        rc = scalar(s, "SELECT count(*) FROM receipt_items JOIN receipts r ON r.id = receipt_id"
                       " WHERE r.city_id = ?1", city, &st->lines, e);
    if (rc || (rc = list_cities(s, st, e)))
        return rc;
    if ((rc = top(s,
                  "SELECT p.id, p.ext_id, p.name, pp.receipts, pp.share FROM product_popularity pp"
                  " JOIN products p ON p.id = pp.product_id WHERE pp.city_id = ?1"
                  " ORDER BY pp.receipts DESC, p.id LIMIT ?2",
                  city, st->top_products, &st->ntop_products, e)) ||
        (rc = top(s,
                  "SELECT c.id, c.ext_id, c.name, cp.receipts, cp.share FROM category_popularity cp"
                  " JOIN categories c ON c.id = cp.category_id WHERE cp.city_id = ?1"
                  " ORDER BY cp.receipts DESC, c.id LIMIT ?2",
                  city, st->top_categories, &st->ntop_categories, e)))
        return rc;
    if ((rc = receipt_sizes(s, city, &sizes, &n, e)) == RS_OK)
        size_summary(st, sizes, n);
    free(sizes);
    return rc;
}

void rs_stats_free(rs_stats *st)
{
    for (int64_t i = 0; st->cities && i < st->ncities; i++)
        free(st->cities[i].name);
    free(st->cities);
    for (int i = 0; i < st->ntop_products; i++) {
        free(st->top_products[i].ext_id);
        free(st->top_products[i].name);
    }
    for (int i = 0; i < st->ntop_categories; i++) {
        free(st->top_categories[i].ext_id);
        free(st->top_categories[i].name);
    }
    memset(st, 0, sizeof *st);
}
