/* test_receipts.c - the receipts behind a co-purchase count: the recommender's list
 * (rs_rec_copurchase_receipts) against a brute-force count over the receipts, per city
 * and for all cities, with a basket; their contents, times, customers and order
 * (rs_browse_receipts); refusals without the co-purchase index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "browse.h"
#include "import.h"
#include "recommend.h"
#include "store.h"
#include "testlib.h"

#define NP 6
/* receipt, product, city, timestamp, customer */
static const char RECEIPTS[] =
    "receipt_id,product_id,city,timestamp,customer_id\n"
    "r1,p1,North,2024-01-01 10:00,c1\n"
    "r1,p2,North,2024-01-01 10:00,c1\n"
    "r1,p3,North,2024-01-01 10:00,c1\n"
    "r2,p1,North,2024-01-03 09:30,c2\n"
    "r2,p2,North,2024-01-03 09:30,c2\n"
    "r3,p1,North,2024-01-02 12:00,\n"
    "r3,p4,North,2024-01-02 12:00,\n"
    "r4,p2,South,2024-02-01 08:00,c3\n"
    "r4,p1,South,2024-02-01 08:00,c3\n"
    "r5,p5,South,,\n"
    "r5,p2,South,,\n"
    "r6,p1,North,2024-01-05 18:00,c1\n"
    "r6,p6,North,2024-01-05 18:00,c1\n"
    "r6,p2,North,2024-01-05 18:00,c1\n";

/* Brute force over the text above: receipts of city (NULL: all) with p and any of q. */
static int brute(const char *city, int p, const int *q, int nq)
{
    static const struct { int r; int p; const char *city; } L[] = {
        {1, 1, "North"}, {1, 2, "North"}, {1, 3, "North"}, {2, 1, "North"}, {2, 2, "North"},
        {3, 1, "North"}, {3, 4, "North"}, {4, 2, "South"}, {4, 1, "South"}, {5, 5, "South"},
        {5, 2, "South"}, {6, 1, "North"}, {6, 6, "North"}, {6, 2, "North"}};
    int n = 0;
    for (int r = 1; r <= 6; r++) {
        int hp = 0, hq = 0, in_city = 0;
        for (size_t i = 0; i < sizeof L / sizeof L[0]; i++) {
            if (L[i].r != r)
                continue;
            in_city = !city || strcmp(L[i].city, city) == 0;
            hp |= L[i].p == p;
            for (int k = 0; k < nq; k++)
                hq |= L[i].p == q[k] && q[k] != p;
        }
        n += in_city && hp && hq;
    }
    return n;
}

static void check_city(rs_store *s, const char *city)
{
    int64_t id = 0;
    rs_error e = {0};
    CHECK_EQ_INT(rs_store_city_id(s, city, &id, &e), RS_OK);
    rs_rec_options o;
    rs_rec_options_defaults(&o);
    o.no_completion = 1;
    rs_recommender *r = NULL;
    CHECK_EQ_INT(rs_recommender_open(s, id, &o, &r, &e), RS_OK);
    if (!r)
        return;
    for (int p = 1; p <= NP; p++)
        for (int q = 1; q <= NP; q++) {
            int32_t pi = -1, qi = -1;
            char ext[8];
            snprintf(ext, sizeof ext, "p%d", p);
            CHECK_EQ_INT(rs_rec_find_ext(r, ext, &pi, &e), RS_OK);
            snprintf(ext, sizeof ext, "p%d", q);
            CHECK_EQ_INT(rs_rec_find_ext(r, ext, &qi, &e), RS_OK);
            int64_t *ids = NULL, n = -1;
            CHECK_EQ_INT(rs_rec_copurchase_receipts(r, &qi, 1, pi, &ids, &n, &e), RS_OK);
            int qq[1] = {q};
            CHECK_EQ_INT(n, brute(id ? city : NULL, p, qq, 1));
            for (int64_t i = 1; i < n; i++)
                CHECK(ids[i - 1] < ids[i]);
            free(ids);
        }
    /* a basket: p2 with p1 or p3 */
    int32_t q2[2], p2 = -1;
    rs_rec_find_ext(r, "p1", &q2[0], &e);
    rs_rec_find_ext(r, "p3", &q2[1], &e);
    rs_rec_find_ext(r, "p2", &p2, &e);
    int64_t *ids = NULL, n = -1;
    CHECK_EQ_INT(rs_rec_copurchase_receipts(r, q2, 2, p2, &ids, &n, &e), RS_OK);
    int qq[2] = {1, 3};
    CHECK_EQ_INT(n, brute(id ? city : NULL, 2, qq, 2));
    /* the contents: latest first, products, customer where known */
    rs_browse_receipt *v = NULL;
    int nv = 0;
    CHECK_EQ_INT(rs_browse_receipts(s, ids, (int)n, &v, &nv, &e), RS_OK);
    CHECK_EQ_INT(nv, n);
    for (int i = 1; i < nv; i++)
        CHECK(!v[i].has_ts || (v[i - 1].has_ts && v[i - 1].ts >= v[i].ts));
    if (id && strcmp(city, "North") == 0 && nv == 3) {
        CHECK_STR(v[0].ext_id, "r6"); /* 2024-01-05 */
        CHECK_STR(v[1].ext_id, "r2");
        CHECK_STR(v[2].ext_id, "r1");
        CHECK_STR(v[0].customer, "c1");
        CHECK_EQ_INT(v[0].n_products, 3);
        CHECK_EQ_INT(v[0].ts, 1704477600); /* 2024-01-05 18:00 UTC */
    }
    rs_browse_receipts_free(v, nv);
    free(ids);
    /* refusals */
    CHECK_EQ_INT(rs_rec_copurchase_receipts(r, q2, 0, p2, &ids, &n, &e), RS_EUSAGE);
    CHECK_EQ_INT(rs_rec_copurchase_receipts(r, q2, 1, 999, &ids, &n, &e), RS_EUSAGE);
    rs_recommender_close(r);
    /* without the co-purchase index: a usage error that says so */
    o.no_copurchase = 1;
    CHECK_EQ_INT(rs_recommender_open(s, id, &o, &r, &e), RS_OK);
    CHECK_EQ_INT(rs_rec_copurchase_receipts(r, q2, 1, p2, &ids, &n, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "co-purchase index") != NULL);
    rs_recommender_close(r);
}

int main(void)
{
    const char *dir = test_tmpdir();
    if (!dir)
        return 1;
    char prod[4200], db[4200];
    snprintf(prod, sizeof prod, "%s", test_write_file(dir, "products.csv",
             "product_id,name,category\np1,Milk,Dairy\np2,Bread,Bakery\np3,Butter,Dairy\n"
             "p4,Tea,Drinks\np5,Soap,Home\np6,Jam,Pantry\n"));
    const char *rec = test_write_file(dir, "receipts.csv", RECEIPTS);
    snprintf(db, sizeof db, "%s/r.db", dir);
    rs_store *s = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_store_open(db, RS_STORE_CREATE, &s, &e), RS_OK);
    rs_import_opts o;
    rs_import_opts_init(&o);
    o.products = prod;
    o.inputs = &rec;
    o.ninputs = 1;
    o.threads = 1;
    rs_import_report rep;
    CHECK_EQ_INT(rs_import_run(s, &o, &rep, &e), RS_OK);
    if (e.msg[0])
        fprintf(stderr, "%s\n", e.msg);
    rs_import_report_free(&rep);
    rs_import_opts_free(&o);
    check_city(s, "North");
    check_city(s, "South");
    check_city(s, "all");
    /* an id not in the store is left out */
    int64_t ids[2] = {1, 999999};
    rs_browse_receipt *v = NULL;
    int nv = -1;
    CHECK_EQ_INT(rs_browse_receipts(s, ids, 2, &v, &nv, &e), RS_OK);
    CHECK_EQ_INT(nv, 1);
    rs_browse_receipts_free(v, nv);
    rs_store_close(s);
    return test_summary();
}
