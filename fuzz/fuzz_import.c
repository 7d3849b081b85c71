/* fuzz_import.c - one import preset's row mapping, end to end into a fresh in-memory
 * store.  Built once per layout with -DFUZZ_LAYOUT=<n> (see fuzz/meson.build):
 *
 *   0 canonical        parts: categories.csv, products.csv, receipts.csv
 *   1 instacart        parts: departments.csv, aisles.csv, products.csv,
 *                      order_products__prior.csv (in a directory)
 *   2 completejourney  original layout: product.csv, transaction_data.csv
 *   3 completejourney  R export: products.csv, transactions.csv
 *   4 online-retail    one file
 *   5 basket-lines     one file
 *   6 events           one file
 *
 * The input is split into the parts at lines "@@" ("\n@@\n"); missing parts are empty
 * files.  After a successful import the store must pass PRAGMA integrity_check and
 * every receipt line must reference an existing product and receipt; after a failed one
 * the store must be empty again (the transaction rolled back).
 *
 * Streamed input (issue 11 item 13): for the layouts whose receipts are one file (0, 4,
 * 5, 6), inputs whose size has bit 1 set are imported a second time with that file read
 * through a pipe (/dev/fd/N) into a fresh store: the outcome (the code and every
 * table's row count) must be the same as from the regular file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "fuzz_common.h"
#include "fuzz_stream.h"
#include "import.h"
#include "store.h"
#include "timeutil.h"

#ifndef FUZZ_LAYOUT
#define FUZZ_LAYOUT 0
#endif

static int64_t q1(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        abort();
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void check_store(rs_store *s, int ok)
{
    sqlite3 *db = rs_store_db(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
        abort();
    if (sqlite3_step(st) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
        abort();
    sqlite3_finalize(st);
    if (!ok) {
        if (q1(db, "SELECT count(*) FROM products") != 0 ||
            q1(db, "SELECT count(*) FROM receipts") != 0 ||
            q1(db, "SELECT count(*) FROM receipt_items") != 0 ||
            q1(db, "SELECT count(*) FROM import_ledger") != 0)
            abort();
        return;
    }
    if (q1(db, "SELECT count(*) FROM receipt_items ri LEFT JOIN products p ON p.id = "
               "ri.product_id WHERE p.id IS NULL") != 0 ||
        q1(db, "SELECT count(*) FROM receipt_items ri LEFT JOIN receipts r ON r.id = "
               "ri.receipt_id WHERE r.id IS NULL") != 0)
        abort();
    /* dense product numbering 1..n */
    if (q1(db, "SELECT count(*) FROM products") != q1(db, "SELECT coalesce(max(id), 0) FROM products"))
        abort();
}

/* The row counts that a streamed import must reproduce. */
static void counts(rs_store *s, int64_t out[5])
{
    static const char *const SQL[5] = {
        "SELECT count(*) FROM products", "SELECT count(*) FROM categories",
        "SELECT count(*) FROM receipts", "SELECT count(*) FROM receipt_items",
        "SELECT coalesce(sum(quantity), 0) * 1000 + coalesce(sum(weight), 0) FROM receipt_items"};
    for (int i = 0; i < 5; i++)
        out[i] = q1(rs_store_db(s), SQL[i]);
}

/* Imports o with o->inputs[0] replaced by a pipe carrying the bytes of that file; the
 * result must equal (rc0, c0). */
static void check_streamed(rs_import_opts *o, const uint8_t *bytes, size_t n, int rc0,
                           const int64_t c0[5])
{
    rs_store *s = NULL;
    rs_error e;
    if (rs_store_open(":memory:", RS_STORE_CREATE, &s, &e) != RS_OK)
        abort();
    fuzz_stream fs;
    fuzz_stream_begin(&fs, bytes, n);
    const char *in[1] = {fs.path};
    const char *const *saved = o->inputs;
    o->inputs = in;
    rs_import_report rep;
    int rc = rs_import_run(s, o, &rep, &e);
    fuzz_stream_end(&fs);
    o->inputs = saved;
    if (rc != rc0)
        abort();
    int64_t c[5];
    counts(s, c);
    for (int i = 0; i < 5; i++)
        if (c[i] != c0[i])
            abort();
    rs_import_report_free(&rep);
    rs_store_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off[4], len[4];
    int nparts = fuzz_split(data, size, 4, off, len);
    for (int i = nparts; i < 4; i++) {
        off[i] = size;
        len[i] = 0;
    }
    static const char *const names[7][4] = {
        {"categories.csv", "products.csv", "receipts.csv", NULL},
        {"departments.csv", "aisles.csv", "products.csv", "order_products__prior.csv"},
        {"product.csv", "transaction_data.csv", NULL, NULL},
        {"products.csv", "transactions.csv", NULL, NULL},
        {"online_retail.csv", NULL, NULL, NULL},
        {"groceries.csv", NULL, NULL, NULL},
        {"events.csv", NULL, NULL, NULL},
    };
    const char *const *nm = names[FUZZ_LAYOUT];
    const char *paths[4] = {NULL, NULL, NULL, NULL};
    for (int i = 0; i < 4 && nm[i]; i++) {
        paths[i] = fuzz_path(i, nm[i]);
        fuzz_write(paths[i], data + off[i], len[i]);
    }

    rs_error e;
    rs_store *s = NULL;
    if (rs_store_open(":memory:", RS_STORE_CREATE, &s, &e) != RS_OK)
        abort();
    rs_import_opts o;
    rs_import_opts_init(&o);
    o.threads = 2;
    const char *dir = fuzz_dir();
    const char *in1[1];
    switch (FUZZ_LAYOUT) {
    case 0:
        o.categories = paths[0];
        o.products = paths[1];
        in1[0] = paths[2];
        o.inputs = in1;
        o.ninputs = 1;
        break;
    case 1:
    case 2:
    case 3:
        o.preset = FUZZ_LAYOUT == 1 ? "instacart" : "completejourney";
        in1[0] = dir;
        o.inputs = in1;
        o.ninputs = 1;
        break;
    default:
        o.preset = FUZZ_LAYOUT == 4 ? "online-retail" : FUZZ_LAYOUT == 5 ? "basket-lines" : "events";
        in1[0] = paths[0];
        o.inputs = in1;
        o.ninputs = 1;
        o.skip_unknown = (size & 1) != 0;
        if (FUZZ_LAYOUT == 6) /* the corpus is RetailRocket's layout */
            o.time_unit = RS_TIME_MILLIS;
        break;
    }
    rs_import_report rep;
    int rc = rs_import_run(s, &o, &rep, &e);
    if (rc != RS_OK && rc != RS_EDATA && rc != RS_EUSAGE)
        abort(); /* internal errors on bad input are bugs */
    check_store(s, rc == RS_OK);
    rs_import_report_free(&rep);
    int one_file = FUZZ_LAYOUT == 0 || FUZZ_LAYOUT >= 4;
    if (one_file && (size & 2)) {
        int64_t c0[5];
        counts(s, c0);
        int part = FUZZ_LAYOUT == 0 ? 2 : 0;
        check_streamed(&o, data + off[part], len[part], rc, c0);
    }
    rs_import_opts_free(&o);
    rs_store_close(s);
    for (int i = 0; i < 4; i++)
        if (paths[i])
            unlink(paths[i]);
    return 0;
}
