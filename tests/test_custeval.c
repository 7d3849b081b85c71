/* test_custeval.c - customers' histories, the time split, the personal recommenders
 * and their evaluation (issue 14), against values worked out by hand. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "corpus.h"
#include "custeval.h"
#include "history.h"
#include "personal.h"
#include "store.h"
#include "testlib.h"

static void exec(rs_store *s, const char *sql)
{
    rs_error e = {0};
    if (rs_store_exec(s, sql, &e) != RS_OK)
        test_fail_at(__FILE__, __LINE__, "%s", e.msg);
}

static void test_list_metrics(void)
{
    /* list 5 3 9 1, targets {1, 3, 7}, k = 3: one hit at rank 1 (0-based) */
    int32_t list[] = {5, 3, 9, 1}, targets[] = {1, 3, 7};
    double p, r, ap, nd;
    rs_custeval_list_metrics(list, 4, 3, targets, 3, &p, &r, &ap, &nd);
    CHECK_NEAR(p, 1.0 / 3.0, 1e-12);
    CHECK_NEAR(r, 1.0 / 3.0, 1e-12);
    CHECK_NEAR(ap, (1.0 / 2.0) / 3.0, 1e-12);
    CHECK_NEAR(nd, (1.0 / log2(3.0)) / (1.0 + 1.0 / log2(3.0) + 0.5), 1e-12);
    /* k = 4: the second hit at rank 3 */
    rs_custeval_list_metrics(list, 4, 4, targets, 3, &p, &r, &ap, &nd);
    CHECK_NEAR(p, 0.5, 1e-12);
    CHECK_NEAR(ap, (0.5 + 2.0 / 4.0) / 3.0, 1e-12);
    /* a short list counts the missing places as misses */
    rs_custeval_list_metrics(list, 1, 10, targets, 3, &p, &r, &ap, &nd);
    CHECK_NEAR(p, 0.0, 1e-12);
}

/* Two customers in one city, five products (index = id - 1).  Days 1..5:
 *   ann: d1 {1,2}, d2 {1,3}, d4 {1},   d5 {1,4}     (d5 held out with a 1-day split)
 *   bob: d1 {2,3}, d3 {2},   d5 {5}
 *   a receipt without customer on d2 {4,5}. */
static rs_store *world(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/c.db", dir);
    rs_store *s = NULL;
    rs_error e = {0};
    if (rs_store_open(path, RS_STORE_CREATE, &s, &e) != RS_OK) {
        test_fail_at(__FILE__, __LINE__, "%s", e.msg);
        return NULL;
    }
    exec(s, "INSERT INTO cities(id,name) VALUES (1,'north');"
            "INSERT INTO categories(id,ext_id,name,parent_id,level) VALUES (1,'c','C',NULL,1);"
            "INSERT INTO products(id,ext_id,name,category_id) VALUES (1,'p1','P1',1),"
            " (2,'p2','P2',1),(3,'p3','P3',1),(4,'p4','P4',1),(5,'p5','P5',1);"
            "INSERT INTO receipts(id,ext_id,city_id,ts,customer) VALUES"
            " (1,'a1',1,86400,'ann'),(2,'a2',1,172800,'ann'),(3,'a4',1,345600,'ann'),"
            " (4,'a5',1,432000,'ann'),(5,'b1',1,86400,'bob'),(6,'b3',1,259200,'bob'),"
            " (7,'b5',1,432000,'bob'),(8,'x2',1,172800,NULL);"
            "INSERT INTO receipt_items(receipt_id,product_id) VALUES (1,1),(1,2),(2,1),(2,3),"
            " (3,1),(4,1),(4,4),(5,2),(5,3),(6,2),(7,5),(8,4),(8,5);");
    if (rs_store_refresh_popularity(s, &e) != RS_OK)
        test_fail_at(__FILE__, __LINE__, "%s", e.msg);
    return s;
}

static void test_histories_and_split(rs_store *s)
{
    rs_error e = {0};
    rs_corpus *c = NULL;
    rs_histories *h = NULL;
    CHECK_EQ_INT(rs_corpus_load(s, 1, &c, &e), RS_OK);
    CHECK_EQ_INT(rs_histories_load(s, c, &h, &e), RS_OK);
    if (!c || !h)
        return;
    CHECK_EQ_INT(h->n_customers, 2);
    CHECK_STR(h->ext_id[0], "ann");
    CHECK_EQ_INT(h->off[1] - h->off[0], 4);
    CHECK_EQ_INT(h->off[2] - h->off[1], 3);
    CHECK_EQ_INT(h->row_customer[7], -1); /* the receipt without customer */
    uint8_t held[8];
    int64_t cutoff = 0;
    CHECK_EQ_INT(rs_histories_split(h, 1, 0, NULL, held, &cutoff, &e), RS_OK);
    CHECK_EQ_INT(cutoff, 432000 - 86400);
    CHECK(held[3] && held[6] && !held[2] && !held[7]);
    CHECK_EQ_INT(rs_histories_split(h, 0, 2, NULL, held, &cutoff, &e), RS_OK);
    CHECK(held[2] && held[3] && !held[1] && held[5] && held[6] && !held[4]);
    CHECK_EQ_INT(rs_histories_split(h, 1, 1, NULL, held, &cutoff, &e), RS_EUSAGE);
    /* the customer rows of the training part (days split): ann {1:3, 2:1, 3:1} */
    CHECK_EQ_INT(rs_histories_split(h, 1, 0, NULL, held, &cutoff, &e), RS_OK);
    uint8_t keep[8];
    for (int r = 0; r < 8; r++)
        keep[r] = !held[r];
    rs_corpus *cc = NULL;
    CHECK_EQ_INT(rs_histories_customer_corpus(h, keep, &cc, &e), RS_OK);
    if (cc) {
        CHECK_EQ_INT(cc->n_receipts, 2);
        CHECK_EQ_INT(cc->offsets[1], 3);
        CHECK_EQ_INT(cc->items[0], 0);
        CHECK_NEAR(cc->weights[0], 3.0, 0);
        CHECK_EQ_INT(cc->offsets[2] - cc->offsets[1], 2); /* bob {2, 3} */
        rs_corpus_free(cc);
    }

    /* buy-again for ann at the cutoff (day 4): product 1 in days 1, 2, 4 */
    rs_personal_parts parts;
    rs_personal_parts_defaults(&parts);
    parts.n_items = c->n_items;
    rs_personal *p = NULL;
    CHECK_EQ_INT(rs_personal_new(&parts, &p, &e), RS_OK);
    int64_t rows[3] = {h->rec[0], h->rec[1], h->rec[2]};
    CHECK_EQ_INT(rs_personal_set_history(p, c, rows, 3, cutoff), 3);
    float sc[5];
    CHECK_EQ_INT(rs_personal_score(p, RS_PERS_BUYAGAIN, sc), 3);
    double w1 = pow(0.5, 3.0 / 30.0), w2 = pow(0.5, 2.0 / 30.0), w4 = 1.0;
    CHECK_NEAR(sc[0], w1 + w2 + w4, 1e-5);
    CHECK_NEAR(sc[1], w1, 1e-6);
    CHECK_NEAR(sc[2], w2, 1e-6);
    CHECK(sc[3] == -INFINITY && sc[4] == -INFINITY);
    CHECK_EQ_INT(rs_personal_score(p, RS_PERS_EASE, sc), -1); /* no part */
    rs_personal_free(p);
    rs_histories_free(h);
    rs_corpus_free(c);
}

static void test_evaluation(rs_store *s)
{
    rs_error e = {0};
    rs_custeval_opts o;
    rs_custeval_defaults(&o);
    o.holdout_days = 1;
    o.k = 2;
    o.methods = (1u << RS_PERS_POPULARITY) | (1u << RS_PERS_BUYAGAIN);
    rs_custeval_result r;
    CHECK_EQ_INT(rs_custeval_run(s, 1, &o, &r, &e), RS_OK);
    CHECK_EQ_INT(r.customers, 2);
    CHECK_EQ_INT(r.test_receipts, 2);
    CHECK_EQ_INT(r.n_rows, 2);
    /* training popularity (receipts 1,2,3,5,6,8): p1 3, p2 3, p3 2, p4 1, p5 1.
     * popularity top 2: p1, p2 (tie: smaller index).  ann's targets {1, 4}: 1 hit;
     * bob's {5}: 0.  buy-again: ann's list p1, p2 (weights 2.9 vs 0.93) -> 1 hit;
     * bob's p2 (days 1, 3), p3 -> 0 hits. */
    for (int i = 0; i < r.n_rows; i++) {
        const rs_custeval_row *x = &r.rows[i];
        CHECK_NEAR(x->precision_k, (0.5 + 0.0) / 2.0, 1e-12);
        CHECK_NEAR(x->recall_k, (0.5 + 0.0) / 2.0, 1e-12);
        CHECK_EQ_INT(x->customers, 2);
    }
    /* the same figures with one thread */
    o.threads = 1;
    rs_custeval_result r1;
    CHECK_EQ_INT(rs_custeval_run(s, 1, &o, &r1, &e), RS_OK);
    CHECK_EQ_INT(r1.n_rows, r.n_rows);
    for (int i = 0; i < r.n_rows && i < r1.n_rows; i++) {
        CHECK_NEAR(r.rows[i].precision_k, r1.rows[i].precision_k, 0);
        CHECK_NEAR(r.rows[i].ndcg_k, r1.rows[i].ndcg_k, 0);
        CHECK_NEAR(r.rows[i].auc, r1.rows[i].auc, 0);
        CHECK_NEAR(r.rows[i].coverage_k, r1.rows[i].coverage_k, 0);
    }
    /* nobody on both sides: a clear usage error */
    o.holdout_days = 10;
    CHECK_EQ_INT(rs_custeval_run(s, 1, &o, &r, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "both sides") != NULL);
}

int main(void)
{
    test_list_metrics();
    rs_store *s = world(test_tmpdir());
    if (s) {
        test_histories_and_split(s);
        test_evaluation(s);
        rs_store_close(s);
    }
    return test_summary();
}
