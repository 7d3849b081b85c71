/* test_clusters_store.c - derived categories in the store: apply moves the model's
 * products into the clusters' categories (their catalogue category kept), retires the
 * category models and refreshes popularity; a failure changes nothing; applying again
 * replaces; undo restores; a version-2 database is read as it is and upgraded by a
 * writer. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusters.h"
#include "clusters_store.h"
#include "fixture_emb.h"
#include "store.h"
#include "testlib.h"

static void exec(rs_store *s, const char *sql)
{
    rs_error e = {0};
    if (rs_store_exec(s, sql, &e) != RS_OK)
        test_fail_at(__FILE__, __LINE__, "%s", e.msg);
}

static long long q1(rs_store *s, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -999;
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Six products: 1-3 in "a", 4-6 in "b"; receipts {1,2}, {3,4}, {5,6}, {1,5}; an active
 * category model and an active product model. */
static rs_store *world(const char *path)
{
    rs_store *s = NULL;
    rs_error e = {0};
    if (rs_store_open(path, RS_STORE_CREATE, &s, &e) != RS_OK)
        test_fail_at(__FILE__, __LINE__, "%s", e.msg);
    exec(s, "INSERT INTO cities(id, name) VALUES (1, 'X');"
            "INSERT INTO categories(id, ext_id, name, level) VALUES (1, 'a', 'A', 1), (2, 'b', 'B', 1);"
            "INSERT INTO products(id, ext_id, name, category_id) VALUES"
            " (1, 'p1', 'red mug', 1), (2, 'p2', 'red cup', 1), (3, 'p3', 'blue bag', 1),"
            " (4, 'p4', 'blue box', 2), (5, 'p5', 'red pot', 2), (6, 'p6', 'green hat', 2);"
            "INSERT INTO receipts(id, ext_id, city_id) VALUES (1,'r1',1),(2,'r2',1),(3,'r3',1),(4,'r4',1);"
            "INSERT INTO receipt_items(receipt_id, product_id) VALUES"
            " (1,1),(1,2),(2,3),(2,4),(3,5),(3,6),(4,1),(4,5);"
            "INSERT INTO models(city_id, kind, path, params, created_at, active) VALUES"
            " (1, 'product', 'p.rsm', '{}', 'now', 1), (1, 'category', 'c.rsm', '{}', 'now', 1);"
            "INSERT INTO meta(key, value) VALUES ('categories:1', '{}'), ('completion:1', '{}');");
    CHECK_EQ_INT(rs_store_refresh_popularity(s, &e), RS_OK);
    return s;
}

/* Two clusters of the model's five rows (products 1-5; product 6 not in the model):
 * {1, 2, 5} "red" and {3, 4} "blue". */
static rs_clusters *two_clusters(void)
{
    rs_clusters *c = calloc(1, sizeof *c);
    c->k = 2;
    c->rows = 5;
    c->assign = malloc(5 * sizeof *c->assign);
    static const int32_t a[5] = {0, 0, 1, 1, 0};
    memcpy(c->assign, a, sizeof a);
    c->name = calloc(2, sizeof *c->name);
    c->name[0] = strdup("red mug");
    c->name[1] = strdup("blue bag");
    c->size = calloc(2, sizeof *c->size);
    return c;
}

static void test_apply_undo(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/d.db", test_tmpdir());
    rs_store *s = world(path);
    rs_error e = {0};
    static const float v[5 * 2] = {1, 0, 1, 0, 0, 1, 0, 1, 1, 0};
    rs_embedding *m = fixture_emb(5, 2, v);
    m->n_items = 6; /* item 5 (product 6) has no row */
    rs_clusters *c = two_clusters();

    /* a failure half way (a product that cannot move) changes nothing */
    exec(s, "CREATE TEMP TRIGGER no_move BEFORE UPDATE OF category_id ON products"
            " WHEN new.id = 4 BEGIN SELECT RAISE(ABORT, 'refused'); END;");
    CHECK(rs_clusters_apply(s, 1, 1, m, c, NULL, NULL, &e) != RS_OK);
    CHECK(strstr(e.msg, "nothing was changed") != NULL);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM categories"), 2);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM derivations"), 0);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM products WHERE source_category_id IS NOT NULL"), 0);
    CHECK_EQ_INT(q1(s, "SELECT active FROM models WHERE kind = 'category'"), 1);
    exec(s, "DROP TRIGGER no_move");

    /* clusters of another model are refused */
    c->rows = 4;
    CHECK_EQ_INT(rs_clusters_apply(s, 1, 1, m, c, NULL, NULL, &e), RS_EINTERNAL);
    c->rows = 5;

    rs_derivation d;
    CHECK_EQ_INT(rs_clusters_apply(s, 1, 1, m, c, "{\"k\":2}", &d, &e), RS_OK);
    CHECK_EQ_INT(d.k, 2);
    CHECK_EQ_INT(d.products, 5);
    CHECK_EQ_INT(d.retired, 1);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM categories WHERE derived AND level = 1"), 2);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM categories WHERE derived AND level = 0"), 1);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM categories c JOIN products p ON p.category_id = c.id"
                       " WHERE c.name = 'red mug' AND p.id IN (1, 2, 5)"), 3);
    CHECK_EQ_INT(q1(s, "SELECT source_category_id FROM products WHERE id = 5"), 2);
    CHECK_EQ_INT(q1(s, "SELECT category_id FROM products WHERE id = 6"), 2);
    CHECK_EQ_INT(q1(s, "SELECT source_category_id IS NULL FROM products WHERE id = 6"), 1);
    CHECK_EQ_INT(q1(s, "SELECT active FROM models WHERE kind = 'category'"), 0);
    CHECK_EQ_INT(q1(s, "SELECT active FROM models WHERE kind = 'product'"), 1);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM meta WHERE key LIKE 'categories:%'"), 0);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM meta WHERE key = 'completion:1'"), 1);
    /* the "red" cluster is in receipts 1, 3 and 4 of city 1 */
    CHECK_EQ_INT(q1(s, "SELECT cp.receipts FROM category_popularity cp JOIN categories c"
                       " ON c.id = cp.category_id WHERE c.name = 'red mug' AND cp.city_id = 1"), 3);
    int found = 0;
    rs_derivation cur;
    CHECK_EQ_INT(rs_clusters_current(s, &cur, &found, &e), RS_OK);
    CHECK(found && cur.id == d.id && cur.model_id == 1);

    /* applying again replaces the derivation: one active, its categories only */
    c->assign[2] = 0;
    CHECK_EQ_INT(rs_clusters_apply(s, 1, 1, m, c, NULL, &d, &e), RS_OK);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM derivations"), 2);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM derivations WHERE active"), 1);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM categories WHERE derived"), 3);
    CHECK_EQ_INT(q1(s, "SELECT source_category_id FROM products WHERE id = 3"), 1);

    /* undo: every product back, no derived category left; a second undo is refused */
    rs_derivation u;
    CHECK_EQ_INT(rs_clusters_undo(s, &u, &e), RS_OK);
    CHECK_EQ_INT(u.products, 5);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM categories WHERE derived"), 0);
    CHECK_EQ_INT(q1(s, "SELECT group_concat(category_id, '') FROM products"), 111222);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM products WHERE source_category_id IS NOT NULL"), 0);
    CHECK_EQ_INT(q1(s, "SELECT receipts FROM category_popularity WHERE city_id = 1 AND category_id = 1"), 3);
    CHECK_EQ_INT(rs_clusters_undo(s, NULL, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "no derived categories") != NULL);
    CHECK_EQ_INT(rs_clusters_current(s, &cur, &found, &e), RS_OK);
    CHECK(!found);

    rs_clusters_free(c);
    rs_embedding_free(m);
    rs_store_close(s);
}

/* A version-2 database: readers read it as it is (no derivations), a writer upgrades. */
static void test_version2(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/v2.db", test_tmpdir());
    rs_store *s = world(path);
    rs_store_close(s);
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "ALTER TABLE categories DROP COLUMN derived;"
                                  "ALTER TABLE products DROP COLUMN source_category_id;"
                                  "DROP TABLE derivations; PRAGMA user_version=2;",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    rs_error e = {0};
    CHECK_EQ_INT(rs_store_open(path, RS_STORE_READONLY, &s, &e), RS_OK);
    CHECK_EQ_INT(rs_store_version(s), 2);
    int found = 1;
    rs_derivation d;
    CHECK_EQ_INT(rs_clusters_current(s, &d, &found, &e), RS_OK);
    CHECK(!found);
    rs_store_close(s);
    CHECK_EQ_INT(rs_store_open(path, 0, &s, &e), RS_OK);
    CHECK_EQ_INT(rs_store_version(s), RS_SCHEMA_VERSION);
    CHECK_EQ_INT(q1(s, "PRAGMA user_version"), 3);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM products WHERE source_category_id IS NULL"), 6);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM derivations"), 0);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM customers"), 0);
    rs_store_close(s);
}

int main(void)
{
    test_apply_undo();
    test_version2();
    return test_summary();
}
