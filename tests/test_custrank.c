/* test_custrank.c - the second level of personal recommendations (core/custrank.h):
 * the feature table on a history worked out by hand; on the synthetic world with
 * planted customers, the ranked list scores at least as well as buy-again on
 * precision@10, and its figures repeat exactly, whatever the evaluation's threads. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "custeval.h"
#include "custrank.h"
#include "import.h"
#include "personal.h"
#include "store.h"
#include "synth.h"
#include "testlib.h"

static int feature(const char *name)
{
    for (int f = 0; f < rs_custrank_n_features(); f++)
        if (strcmp(rs_custrank_feature_name(f), name) == 0)
            return f;
    test_fail_at(__FILE__, __LINE__, "no feature %s", name);
    return 0;
}

/* One customer, four products (0, 1 in category 0; 2, 3 in category 1), receipts on
 * days 1 {0,1}, 3 {0,2}, 5 {0}; now = day 7; the city's counts 5 3 2 1 of 10. */
static void test_features(void)
{
    int64_t offsets[] = {0, 2, 4, 5}, ts[] = {86400, 3 * 86400, 5 * 86400};
    int32_t items[] = {0, 1, 0, 2, 0}, cat[] = {0, 0, 1, 1};
    rs_corpus c;
    memset(&c, 0, sizeof c);
    c.n_items = 4;
    c.n_categories = 2;
    c.item_category = cat;
    c.n_receipts = 3;
    c.offsets = offsets;
    c.items = items;
    c.ts = ts;
    int64_t pop[] = {5, 3, 2, 1}, rows[] = {0, 1, 2};
    rs_personal_parts parts;
    rs_personal_parts_defaults(&parts);
    parts.n_items = 4;
    parts.pop_counts = pop;
    rs_personal *p = NULL;
    rs_custrank_city *city = NULL;
    rs_custrank_scorer *s = NULL;
    rs_error e = {0};
    float sc[2][4];
    CHECK_EQ_INT(rs_personal_new(&parts, &p, &e), RS_OK);
    CHECK_EQ_INT(rs_custrank_city_new(&c, NULL, NULL, pop, 10, 7 * 86400, &city, &e), RS_OK);
    CHECK_EQ_INT(rs_custrank_features_new(100, city, 4, 2, cat, &s, &e), RS_OK);
    if (!p || !city || !s)
        goto done;
    int64_t now = 7 * 86400;
    rs_personal_set_history(p, &c, rows, 3, now);
    rs_personal_score(p, RS_PERS_POPULARITY, sc[0]);
    rs_personal_score(p, RS_PERS_BUYAGAIN, sc[1]);
    const float *first[RS_CUSTRANK_LEVEL1] = {sc[0], sc[1]};
    const int32_t *cand;
    const float *x;
    int32_t n = rs_custrank_features(s, p, first, &c, rows, 3, now, &cand, &x);
    CHECK_EQ_INT(n, 4); /* popularity's 0 1 2 3, buy-again's inside them */
    int nf = rs_custrank_n_features();
    for (int32_t q = 0; q < n; q++) {
        const float *v = x + (size_t)q * (size_t)nf;
#define F(name) v[feature(name)]
        CHECK_NEAR(F("rank_popularity"), cand[q] + 1, 0);
        CHECK_NEAR(F("cust_receipts"), 3, 0);
        CHECK_NEAR(F("cust_basket"), 5.0 / 3.0, 1e-6);
        CHECK_NEAR(F("cust_days_since"), 2, 1e-6);
        CHECK_NEAR(F("cust_distinct"), 3, 0);
        CHECK_NEAR(F("cust_repeat"), 2.0 / 5.0, 1e-6);
        CHECK_NEAR(F("pop_share"), pop[cand[q]] / 10.0, 1e-6);
        CHECK(isnan(F("item_repeat"))); /* no customer matrix given */
        switch (cand[q]) {
        case 0:
            CHECK_NEAR(F("lists"), 2, 0);
            CHECK_NEAR(F("rank_buyagain"), 1, 0);
            CHECK_NEAR(F("hist_count"), 3, 0);
            CHECK_NEAR(F("hist_share"), 1, 1e-6);
            CHECK_NEAR(F("days_since_bought"), 2, 1e-6);
            CHECK_NEAR(F("orders_since_bought"), 0, 0);
            CHECK_NEAR(F("interval_days"), 2, 1e-6);
            CHECK_NEAR(F("due_ratio"), 1, 1e-6);
            CHECK_NEAR(F("rate_since_first"), 1, 1e-6);
            CHECK_NEAR(F("category_share"), 4.0 / 5.0, 1e-6);
            CHECK_NEAR(F("recent_share"), 1, 1e-6);
            CHECK_NEAR(F("trend"), 2, 1e-6);
            break;
        case 2:
            CHECK_NEAR(F("hist_count"), 1, 0);
            CHECK_NEAR(F("days_since_bought"), 4, 1e-6);
            CHECK_NEAR(F("orders_since_bought"), 1, 0);
            CHECK(isnan(F("interval_days")) && isnan(F("due_ratio")));
            CHECK_NEAR(F("rate_since_first"), 0.5, 1e-6);
            CHECK_NEAR(F("category_share"), 1.0 / 5.0, 1e-6);
            CHECK_NEAR(F("recent_share"), 1.0 / 3.0, 1e-6);
            break;
        case 3:
            CHECK_NEAR(F("lists"), 1, 0);
            CHECK(isnan(F("rank_buyagain")) && isnan(F("score_buyagain")));
            CHECK_NEAR(F("hist_count"), 0, 0);
            CHECK(isnan(F("days_since_bought")) && isnan(F("orders_since_bought")));
            CHECK_NEAR(F("category_share"), 1.0 / 5.0, 1e-6);
            CHECK_NEAR(F("recent_share"), 0, 0);
            break;
        default:
            break;
        }
#undef F
    }
    /* a second customer on the same scratch: nothing left over from the first */
    int64_t one[] = {2};
    rs_personal_set_history(p, &c, one, 1, now);
    rs_personal_score(p, RS_PERS_BUYAGAIN, sc[1]);
    n = rs_custrank_features(s, p, first, &c, one, 1, now, &cand, &x);
    CHECK_EQ_INT(n, 4);
    for (int32_t q = 0; q < n; q++) {
        const float *v = x + (size_t)q * (size_t)nf;
        CHECK_NEAR(v[feature("hist_count")], cand[q] == 0 ? 1 : 0, 0);
        CHECK_NEAR(v[feature("category_share")], cat[cand[q]] == 0 ? 1 : 0, 0);
    }
    for (int f = 0; f < nf; f++)
        CHECK(rs_custrank_feature_how(f) && rs_custrank_feature_how(f)[0]);
done:
    rs_custrank_scorer_free(s);
    rs_custrank_city_free(city);
    rs_personal_free(p);
}

static int import_world(rs_store *s, const char *wdir)
{
    rs_import_opts o;
    rs_import_opts_init(&o);
    char pp[1100], cp[1100], rp[1100];
    snprintf(pp, sizeof pp, "%s/products.csv", wdir);
    snprintf(cp, sizeof cp, "%s/categories.csv", wdir);
    snprintf(rp, sizeof rp, "%s/receipts.csv", wdir);
    const char *inputs[1] = {rp};
    o.products = pp;
    o.categories = cp;
    o.inputs = inputs;
    o.ninputs = 1;
    o.threads = 1;
    rs_import_report rep;
    memset(&rep, 0, sizeof rep);
    rs_error e = {0};
    int rc = rs_import_run(s, &o, &rep, &e);
    if (rc)
        fprintf(stderr, "import: %s\n", e.msg);
    rs_import_report_free(&rep);
    rs_import_opts_free(&o);
    return rc;
}

static const rs_custeval_row *row_of(const rs_custeval_result *r, int m)
{
    for (int i = 0; i < r->n_rows; i++)
        if (r->rows[i].method == m)
            return &r->rows[i];
    return NULL;
}

static void test_world(void)
{
    const char *dir = test_tmpdir();
    char wdir[600], db[600];
    snprintf(wdir, sizeof wdir, "%s/w", dir);
    snprintf(db, sizeof db, "%s/w.db", dir);
    rs_synth_params sp;
    rs_synth_defaults(&sp, 0);
    sp.seed = 5;
    sp.cities = 1;
    sp.departments = 6;
    sp.categories = 40;
    sp.products = 800;
    sp.receipts = 8000;
    rs_error e = {0};
    rs_store *s = NULL;
    if (rs_synth_write(&sp, wdir, &e)) {
        fprintf(stderr, "synth: %s\n", e.msg);
        CHECK(0);
        return;
    }
    CHECK_EQ_INT(rs_store_open(db, RS_STORE_CREATE, &s, &e), RS_OK);
    if (!s || import_world(s, wdir)) {
        CHECK(0);
        rs_store_close(s);
        return;
    }
    rs_custeval_opts o;
    rs_custeval_defaults(&o);
    o.holdout_days = 14;
    o.threads = 2;
    o.rank_windows = 1;     /* one window, 30 candidates a method: a short test */
    o.rank_candidates = 30;
    rs_custeval_result r, r1;
    CHECK_EQ_INT(rs_custeval_run(s, 0, &o, &r, &e), RS_OK);
    for (int i = 0; i < r.n_rows; i++)
        printf("%-10s p@10 %.4f r@10 %.4f auc %.4f fit %.1f s\n",
               rs_pers_method_name(r.rows[i].method), r.rows[i].precision_k,
               r.rows[i].recall_k, r.rows[i].auc, r.rows[i].fit_seconds);
    printf("ranker: %s\n", r.ranker);
    const rs_custeval_row *ba = row_of(&r, RS_PERS_BUYAGAIN), *rk = row_of(&r, RS_PERS_RANKED);
    CHECK(ba && rk);
    if (ba && rk) {
        CHECK(rk->precision_k >= ba->precision_k);
        CHECK(rk->customers == ba->customers);
    }
    /* one evaluation thread: the same ranked figures, bit for bit */
    o.threads = 1;
    CHECK_EQ_INT(rs_custeval_run(s, 0, &o, &r1, &e), RS_OK);
    const rs_custeval_row *rk1 = row_of(&r1, RS_PERS_RANKED);
    CHECK(rk1 != NULL);
    if (rk && rk1) {
        CHECK(rk->precision5 == rk1->precision5 && rk->precision_k == rk1->precision_k);
        CHECK(rk->map_k == rk1->map_k && rk->ndcg_k == rk1->ndcg_k && rk->auc == rk1->auc);
        CHECK(rk->coverage_k == rk1->coverage_k && rk->novelty_k == rk1->novelty_k);
    }
    CHECK_STR(r.ranker, r1.ranker);
    rs_store_close(s);
}

int main(void)
{
    test_features();
    test_world();
    return test_summary();
}
