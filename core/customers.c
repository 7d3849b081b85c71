/* customers.c - the customers table (see customers.h). */
#include "customers.h"

#include <stdio.h>
#include <string.h>

int rs_customers_refresh(rs_store *s, rs_error *e)
{
    if (!rs_customers_available(s))
        return RS_OK;
    /* Upsert by (city, ext id): ids stay stable (new customers get the next ids, in
     * (city, ext id) order, the index's order: no sort).  Customers whose receipts all
     * went away cannot happen (receipts are never deleted), so nothing is removed. */
    return rs_store_exec(
        s,
        "INSERT INTO customers(city_id, ext_id, receipts, first_ts, last_ts)"
        " SELECT city_id, customer, count(*), min(ts), max(ts) FROM receipts"
        "  WHERE customer IS NOT NULL AND customer <> '' GROUP BY city_id, customer"
        " ON CONFLICT(city_id, ext_id) DO UPDATE SET receipts = excluded.receipts,"
        "  first_ts = excluded.first_ts, last_ts = excluded.last_ts"
        "  WHERE receipts <> excluded.receipts OR first_ts IS NOT excluded.first_ts"
        "   OR last_ts IS NOT excluded.last_ts",
        e);
}

int rs_customers_available(rs_store *s)
{
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(rs_store_db(s), "SELECT id FROM customers LIMIT 0", -1, &st,
                                NULL) == SQLITE_OK;
    sqlite3_finalize(st);
    return ok;
}

static int need_table(rs_store *s, rs_error *e)
{
    if (rs_customers_available(s))
        return RS_OK;
    return rs_seterr(e, RS_EUSAGE,
                     "%s: this database predates customers (schema version 1): any "
                     "`recoscope import` upgrades it",
                     rs_store_path(s));
}

static void read_row(sqlite3_stmt *st, rs_customer *c)
{
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    c->city_id = sqlite3_column_int64(st, 1);
    const char *x = (const char *)sqlite3_column_text(st, 2);
    snprintf(c->ext_id, sizeof c->ext_id, "%s", x ? x : "");
    c->receipts = sqlite3_column_int64(st, 3);
    c->first_ts = sqlite3_column_int64(st, 4);
    c->last_ts = sqlite3_column_int64(st, 5);
}

#define CUSTOMER_COLS "id, city_id, ext_id, receipts, coalesce(first_ts, 0), coalesce(last_ts, 0)"

int rs_customers_list(rs_store *s, int64_t city_id, int64_t offset, int max, rs_customer *out,
                      int *n, rs_error *e)
{
    *n = 0;
    int rc = need_table(s, e);
    if (rc)
        return rc;
    sqlite3_stmt *st = NULL;
    const char *sql = city_id
                          ? "SELECT " CUSTOMER_COLS " FROM customers WHERE city_id = ?1"
                            " ORDER BY receipts DESC, id LIMIT ?2 OFFSET ?3"
                          : "SELECT " CUSTOMER_COLS " FROM customers"
                            " ORDER BY receipts DESC, id LIMIT ?2 OFFSET ?3";
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading customers");
    if (city_id)
        sqlite3_bind_int64(st, 1, city_id);
    sqlite3_bind_int(st, 2, max);
    sqlite3_bind_int64(st, 3, offset);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < max)
        read_row(st, &out[(*n)++]);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "reading customers");
    sqlite3_finalize(st);
    return rc;
}

int rs_customers_count(rs_store *s, int64_t city_id, int64_t *n, rs_error *e)
{
    *n = 0;
    int rc = need_table(s, e);
    if (rc)
        return rc;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           city_id ? "SELECT count(*) FROM customers WHERE city_id = ?1"
                                   : "SELECT count(*) FROM customers",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "counting customers");
    if (city_id)
        sqlite3_bind_int64(st, 1, city_id);
    if (sqlite3_step(st) == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    else
        rc = rs_store_sqlerr(s, e, "counting customers");
    sqlite3_finalize(st);
    return rc;
}

int rs_customers_find(rs_store *s, int64_t city_id, const char *ext_id, rs_customer *out,
                      rs_error *e)
{
    int rc = need_table(s, e);
    if (rc)
        return rc;
    sqlite3_stmt *st = NULL;
    const char *sql = city_id ? "SELECT " CUSTOMER_COLS " FROM customers"
                                " WHERE city_id = ?1 AND ext_id = ?2"
                              : "SELECT " CUSTOMER_COLS " FROM customers WHERE ext_id = ?2"
                                " ORDER BY receipts DESC, id LIMIT 1";
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "looking up a customer");
    if (city_id)
        sqlite3_bind_int64(st, 1, city_id);
    sqlite3_bind_text(st, 2, ext_id ? ext_id : "", -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        read_row(st, out);
    else if (step == SQLITE_DONE)
        rc = rs_seterr(e, RS_EUSAGE, "unknown customer '%s'%s", ext_id ? ext_id : "",
                       city_id ? " in this city" : "");
    else
        rc = rs_store_sqlerr(s, e, "looking up a customer");
    sqlite3_finalize(st);
    return rc;
}
