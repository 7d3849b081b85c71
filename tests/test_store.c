/* test_store.c - schema creation, versioning, cities, popularity and percentiles. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corpus.h"
#include "customers.h"
#include "store.h"
#include "testlib.h"

static void exec(rs_store *s, const char *sql)
{
    rs_error e = {0};
    if (rs_store_exec(s, sql, &e) != RS_OK)
        test_fail_at(__FILE__, __LINE__, "%s", e.msg);
}

static double q1(rs_store *s, const char *sql)
{
    sqlite3_stmt *st;
    double v = -999;
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_create_and_reopen(void)
{
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/sub/x.db", dir);
    rs_store *s = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_store_open(path, RS_STORE_READONLY, &s, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "no database") != NULL);
    CHECK_EQ_INT(rs_store_open(path, RS_STORE_CREATE, &s, &e), RS_OK);
    CHECK(q1(s, "PRAGMA user_version") == RS_SCHEMA_VERSION);
    char mode[16] = "";
    sqlite3_stmt *st;
    sqlite3_prepare_v2(rs_store_db(s), "PRAGMA journal_mode", -1, &st, NULL);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    CHECK_STR(mode, "wal");
    char md[600];
    snprintf(md, sizeof md, "%s/sub/x-models", dir);
    CHECK_STR(rs_store_models_dir(s), md);
    rs_store_close(s);
    CHECK_EQ_INT(rs_store_open(path, RS_STORE_READONLY, &s, &e), RS_OK);
    rs_store_close(s);

    /* another schema version is refused with a clear message */
    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL);
    sqlite3_close(db);
    CHECK_EQ_INT(rs_store_open(path, 0, &s, &e), RS_EDATA);
    CHECK(strstr(e.msg, "schema version 99") != NULL);

    /* a file that is not SQLite */
    const char *junk = test_write_file(dir, "junk.db", "this is not a database at all, really");
    CHECK_EQ_INT(rs_store_open(junk, 0, &s, &e), RS_EDATA);
    CHECK(strstr(e.msg, "not a recoscope database") != NULL);
}

static void test_popularity(void)
{
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/p.db", dir);
    rs_store *s = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_store_open(path, RS_STORE_CREATE, &s, &e), RS_OK);
    exec(s, "INSERT INTO cities(id,name) VALUES (1,'north'),(2,'south');"
            "INSERT INTO categories(id,ext_id,name,parent_id,level) VALUES"
            " (1,'d','Dept',NULL,0),(2,'a','Apples',1,1),(3,'b','Bread',1,1);"
            "INSERT INTO products(id,ext_id,name,category_id) VALUES"
            " (1,'p1','Red apple',2),(2,'p2','Green apple',2),(3,'p3','Rye bread',3);"
            "INSERT INTO receipts(id,ext_id,city_id) VALUES (1,'r1',1),(2,'r2',1),(3,'r3',2),"
            " (4,'r4',1);"
            "INSERT INTO receipt_items(receipt_id,product_id) VALUES"
            " (1,1),(1,2),(1,3),(2,1),(3,3),(4,1),(4,3);");
    CHECK_EQ_INT(rs_store_refresh_popularity(s, &e), RS_OK);
    /* north: p1 in 3 of 3 receipts, p3 in 2, p2 in 1 */
    CHECK_NEAR(q1(s, "SELECT receipts FROM product_popularity WHERE city_id=1 AND product_id=1"),
               3, 0);
    CHECK_NEAR(q1(s, "SELECT share FROM product_popularity WHERE city_id=1 AND product_id=3"),
               2.0 / 3.0, 1e-12);
    CHECK_NEAR(q1(s, "SELECT percentile FROM product_popularity WHERE city_id=1 AND product_id=1"),
               100, 1e-9);
    CHECK_NEAR(q1(s, "SELECT percentile FROM product_popularity WHERE city_id=1 AND product_id=3"),
               50, 1e-9);
    CHECK_NEAR(q1(s, "SELECT percentile FROM product_popularity WHERE city_id=1 AND product_id=2"),
               0, 1e-9);
    /* all cities: p1 3, p3 3 (tie), p2 1 */
    CHECK_NEAR(q1(s, "SELECT percentile FROM product_popularity WHERE city_id=0 AND product_id=3"),
               50, 1e-9);
    CHECK_NEAR(q1(s, "SELECT receipts FROM product_popularity WHERE city_id=0 AND product_id=3"),
               3, 0);
    /* categories counted once per receipt: Apples in r1 (twice), r2, r4 = 3 */
    CHECK_NEAR(q1(s, "SELECT receipts FROM category_popularity WHERE city_id=1 AND category_id=2"),
               3, 0);
    CHECK_NEAR(q1(s, "SELECT receipts FROM cities WHERE id=1"), 3, 0);
    int64_t id = -1;
    CHECK_EQ_INT(rs_store_city_id(s, "south", &id, &e), RS_OK);
    CHECK_EQ_INT(id, 2);
    CHECK_EQ_INT(rs_store_city_id(s, "all", &id, &e), RS_OK);
    CHECK_EQ_INT(id, 0);
    CHECK_EQ_INT(rs_store_city_id(s, "atlantis", &id, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "atlantis") != NULL);

    /* corpus: CSR rows in receipt order, categories deduplicated */
    rs_corpus *c = NULL, *cc = NULL, *north = NULL;
    CHECK_EQ_INT(rs_corpus_load(s, 0, &c, &e), RS_OK);
    CHECK_EQ_INT(c->n_receipts, 4);
    CHECK_EQ_INT(c->offsets[1], 3);
    CHECK_EQ_INT(c->items[0], 0);
    CHECK_EQ_INT(c->items[2], 2);
    CHECK_EQ_INT(rs_corpus_categories(c, &cc, &e), RS_OK);
    CHECK_EQ_INT(cc->offsets[1], 2); /* r1: Apples, Bread */
    CHECK_EQ_INT(cc->items[0], 1);
    CHECK_EQ_INT(rs_corpus_load(s, 1, &north, &e), RS_OK);
    CHECK_EQ_INT(north->n_receipts, 3);
    CHECK_EQ_INT(north->offsets[3], 6);
    rs_corpus_free(c);
    rs_corpus_free(cc);
    rs_corpus_free(north);
    rs_store_close(s);
}

/* Customers: derived rows per (city, customer), stable ids, and the upgrade of a
 * version-1 database (which had no customers table). */
static void test_customers(void)
{
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/c.db", dir);
    rs_store *s = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_store_open(path, RS_STORE_CREATE, &s, &e), RS_OK);
    CHECK(rs_customers_available(s));
    exec(s, "INSERT INTO cities(id,name) VALUES (1,'north'),(2,'south');"
            "INSERT INTO categories(id,ext_id,name,parent_id,level) VALUES (1,'a','A',NULL,1);"
            "INSERT INTO products(id,ext_id,name,category_id) VALUES (1,'p1','P1',1);"
            "INSERT INTO receipts(id,ext_id,city_id,ts,customer) VALUES"
            " (1,'r1',1,100,'ann'),(2,'r2',1,300,'ann'),(3,'r3',1,200,'bob'),"
            " (4,'r4',2,50,'ann'),(5,'r5',1,NULL,NULL),(6,'r6',1,400,'');"
            "INSERT INTO receipt_items(receipt_id,product_id) VALUES (1,1),(2,1),(3,1),(4,1),"
            " (5,1),(6,1);");
    CHECK_EQ_INT(rs_store_refresh_popularity(s, &e), RS_OK);
    int64_t n = -1;
    CHECK_EQ_INT(rs_customers_count(s, 1, &n, &e), RS_OK);
    CHECK_EQ_INT(n, 2); /* ann, bob in north; no customer and '' are nobody */
    CHECK_EQ_INT(rs_customers_count(s, 0, &n, &e), RS_OK);
    CHECK_EQ_INT(n, 3); /* ann in two cities is two rows */
    rs_customer c[4];
    int got = 0;
    CHECK_EQ_INT(rs_customers_list(s, 1, 0, 4, c, &got, &e), RS_OK);
    CHECK_EQ_INT(got, 2);
    CHECK_STR(c[0].ext_id, "ann");
    CHECK_EQ_INT(c[0].receipts, 2);
    CHECK_EQ_INT(c[0].first_ts, 100);
    CHECK_EQ_INT(c[0].last_ts, 300);
    int64_t ann_id = c[0].id;
    rs_customer one;
    CHECK_EQ_INT(rs_customers_find(s, 2, "ann", &one, &e), RS_OK);
    CHECK_EQ_INT(one.receipts, 1);
    CHECK_EQ_INT(rs_customers_find(s, 1, "zed", &one, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "zed") != NULL);
    /* a new receipt: counts move, ids stay */
    exec(s, "INSERT INTO receipts(id,ext_id,city_id,ts,customer) VALUES (7,'r7',1,500,'ann');"
            "INSERT INTO receipt_items(receipt_id,product_id) VALUES (7,1);");
    CHECK_EQ_INT(rs_store_refresh_popularity(s, &e), RS_OK);
    CHECK_EQ_INT(rs_customers_find(s, 1, "ann", &one, &e), RS_OK);
    CHECK_EQ_INT(one.id, ann_id);
    CHECK_EQ_INT(one.receipts, 3);
    CHECK_EQ_INT(one.last_ts, 500);
    rs_store_close(s);

    /* version 1: no customers table; a reader reads it as it is, a writer upgrades */
    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "DROP TABLE customers; DROP INDEX receipts_customer;"
                     " PRAGMA user_version=1; PRAGMA application_id=0;", NULL, NULL, NULL);
    sqlite3_close(db);
    CHECK_EQ_INT(rs_store_open(path, RS_STORE_READONLY, &s, &e), RS_OK);
    CHECK(!rs_customers_available(s));
    CHECK_EQ_INT(rs_customers_count(s, 0, &n, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "schema version 1") != NULL);
    rs_store_close(s);
    CHECK_EQ_INT(rs_store_open(path, 0, &s, &e), RS_OK);
    CHECK(rs_customers_available(s));
    CHECK(q1(s, "PRAGMA user_version") == RS_SCHEMA_VERSION);
    CHECK(q1(s, "PRAGMA application_id") == RS_APPLICATION_ID);
    CHECK_EQ_INT(rs_customers_count(s, 0, &n, &e), RS_OK);
    CHECK_EQ_INT(n, 3);
    rs_store_close(s);
}

/* Another process writes and closes while this one has two stores open (the TUI's
 * loader, serve's reload).  Opening the second store must not drop this process's
 * locks on the database file; it did when the open probed the file with open + close
 * (POSIX locks go with any close of the file): the other process's writer then took
 * its close for the last one and deleted -wal and -shm under this process. */
static void write_in_child(const char *path, const char *sql)
{
    pid_t pid = fork();
    if (pid == 0) {
        rs_store *w = NULL;
        rs_error e = {0};
        int ok = rs_store_open(path, 0, &w, &e) == RS_OK && rs_store_exec(w, sql, &e) == RS_OK;
        rs_store_close(w);
        _exit(ok ? 0 : 1);
    }
    int st = -1;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Whether another process sees this one holding SQLite's SHARED lock on the database
 * file (the byte range SQLite's unix VFS locks: PENDING_BYTE + 2, 510 bytes). */
static int parent_holds_shared_lock(const char *path)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(path, O_RDWR);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
                           .l_start = 0x40000000 + 2, .l_len = 510};
        int held = fd >= 0 && fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK &&
                   fl.l_pid == parent;
        _exit(held ? 0 : 1);
    }
    int st = -1;
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_connections_in_one_process(void)
{
    const char *dir = test_tmpdir();
    char path[512], shm[600];
    snprintf(path, sizeof path, "%s/m.db", dir);
    snprintf(shm, sizeof shm, "%s-shm", path);
    rs_store *r1 = NULL, *r2 = NULL, *r3 = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_store_open(path, RS_STORE_CREATE, &r1, &e), RS_OK);
    rs_store_close(r1);
    write_in_child(path, "INSERT INTO cities(id,name) VALUES (1,'one')");
    CHECK_EQ_INT(rs_store_open(path, RS_STORE_READONLY, &r1, &e), RS_OK);
    CHECK(r1 && q1(r1, "SELECT count(*) FROM cities") == 1);
    CHECK(parent_holds_shared_lock(path));
    CHECK_EQ_INT(rs_store_open(path, RS_STORE_READONLY, &r2, &e), RS_OK);
    CHECK(parent_holds_shared_lock(path)); /* opening r2 kept r1's lock */
    write_in_child(path, "INSERT INTO cities(id,name) VALUES (2,'two')");
    CHECK(access(shm, F_OK) == 0); /* this process still has the database open */
    CHECK(r1 && q1(r1, "SELECT count(*) FROM cities") == 2);
    CHECK(r2 && q1(r2, "SELECT count(*) FROM cities") == 2);
    CHECK_EQ_INT(rs_store_open(path, RS_STORE_READONLY, &r3, &e), RS_OK);
    CHECK(r3 && q1(r3, "SELECT count(*) FROM cities") == 2);
    rs_store_close(r1);
    rs_store_close(r2);
    rs_store_close(r3);
}

int main(void)
{
    test_connections_in_one_process();
    test_create_and_reopen();
    test_popularity();
    test_customers();
    return test_summary();
}
