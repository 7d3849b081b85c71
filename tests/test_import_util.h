/* test_import_util.h - helpers shared by the importer's tests (test_import.c,
 * test_import_i11.c): files, a store, one-value queries, an import run, a file hash. */
#ifndef RS_TEST_IMPORT_UTIL_H
#define RS_TEST_IMPORT_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "sha256.h"
#include "store.h"
#include "testlib.h"

static inline char *wr(const char *dir, const char *name, const char *text)
{
    return strdup(test_write_file(dir, name, text));
}

static inline rs_store *open_db(const char *path)
{
    rs_store *s = NULL;
    rs_error e = {0};
    if (rs_store_open(path, RS_STORE_CREATE, &s, &e) != RS_OK) {
        fprintf(stderr, "open %s: %s\n", path, e.msg);
        exit(1);
    }
    return s;
}

static inline int64_t q1(rs_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -999;
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        fprintf(stderr, "query failed: %s: %s\n", sql, sqlite3_errmsg(rs_store_db(s)));
    sqlite3_finalize(st);
    return v;
}

static inline double qd(rs_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    double v = -999;
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return v;
}

static inline const char *qs(rs_store *s, const char *sql)
{
    static char qs_buf[1024];
    sqlite3_stmt *st = NULL;
    snprintf(qs_buf, sizeof qs_buf, "(no row)");
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        snprintf(qs_buf, sizeof qs_buf, "%s", t ? t : "(null)");
    }
    sqlite3_finalize(st);
    return qs_buf;
}

/* Runs an import; the report is kept in *rep when given (caller frees). */
static inline int run(rs_store *s, rs_import_opts *o, rs_import_report *rep, rs_error *e)
{
    rs_import_report local;
    rs_error le = {0};
    int rc = rs_import_run(s, o, rep ? rep : &local, e ? e : &le);
    if (!rep)
        rs_import_report_free(&local);
    if (rc && !e)
        fprintf(stderr, "import failed: %s\n", le.msg);
    return rc;
}

static inline void file_hash(const char *path, char hex[65])
{
    FILE *f = fopen(path, "rb");
    rs_sha256 c;
    unsigned char d[32], buf[65536];
    rs_sha256_init(&c);
    size_t n;
    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
        rs_sha256_update(&c, buf, n);
    if (f)
        fclose(f);
    rs_sha256_final(&c, d);
    rs_sha256_tohex(d, hex);
}

static inline rs_store *preset_db(const char *dir, const char *name)
{
    char db[600];
    snprintf(db, sizeof db, "%s/%s.db", dir, name);
    return open_db(db);
}

#endif
