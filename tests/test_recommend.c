/* test_recommend.c - the recommenders on a tiny hand-made world: a database built here
 * with the store API, product and category models written with the model API, and the
 * expected answers computed by brute force in this file.  At the end, when RS_BIN is
 * set, the CLI is driven on the same database (--json and --batch output shape). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "model.h"
#include "publish.h"
#include "powertf.h"
#include "recommend.h"
#include "sgns.h"
#include "store.h"
#include "rec_world.h"
#include "testlib.h"

static double dot(const float *a, const float *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

static void test_allocate(void)
{
    int slots[4];
    double a[] = {0.5, 0.3, 0.2};
    rs_rec_allocate(a, 3, 10, slots);
    CHECK(slots[0] == 5 && slots[1] == 3 && slots[2] == 2);
    double b[] = {1, 1, 1};
    rs_rec_allocate(b, 3, 10, slots); /* equal remainders: lower index first */
    CHECK(slots[0] == 4 && slots[1] == 3 && slots[2] == 3);
    double c[] = {0.46, 0.27, 0.27}; /* 4.6, 2.7, 2.7 -> 4, 2, 2 + remainders .7,.7 (tie) then .6 */
    rs_rec_allocate(c, 3, 10, slots);
    CHECK(slots[0] == 4 && slots[1] == 3 && slots[2] == 3);
    double d[] = {0.05, 0.05, 0.9};
    rs_rec_allocate(d, 3, 3, slots); /* 0.15, 0.15, 2.7 -> 0,0,2 + one by largest remainder */
    CHECK(slots[0] == 0 && slots[1] == 0 && slots[2] == 3);
    double z[] = {0, 0, 0, 0};
    rs_rec_allocate(z, 4, 6, slots);
    CHECK(slots[0] == 2 && slots[1] == 2 && slots[2] == 1 && slots[3] == 1);
    double one[] = {0.3};
    rs_rec_allocate(one, 1, 7, slots);
    CHECK_EQ_INT(slots[0], 7);
    int sum = 0;
    double e[] = {0.123, 0.456, 0.2, 0.221};
    rs_rec_allocate(e, 4, 13, slots);
    for (int i = 0; i < 4; i++)
        sum += slots[i];
    CHECK_EQ_INT(sum, 13);
}

/* brute-force synonyms of query q (one product) for model v */
static void expect_synonyms(int v, const int *q, int nq, const double *pct, double lo, double hi,
                            int k, int same_cat, int *out, double *score, int *n)
{
    double qv[PDIM] = {0};
    for (int i = 0; i < nq; i++) {
        const float *x = pin[v] + q[i] * PDIM;
        double nx = sqrt(dot(x, x, PDIM));
        for (int j = 0; j < PDIM; j++)
            qv[j] += x[j] / nx;
    }
    double nq2 = 0;
    for (int j = 0; j < PDIM; j++)
        nq2 += qv[j] * qv[j];
    double cs[NP];
    int ok[NP];
    for (int p = 0; p < NP; p++) {
        const float *x = pin[v] + p * PDIM;
        double s = 0;
        for (int j = 0; j < PDIM; j++)
            s += x[j] * qv[j];
        cs[p] = s / sqrt(dot(x, x, PDIM)) / sqrt(nq2);
        ok[p] = pct[p] >= lo && pct[p] <= hi;
        int incat = 0;
        for (int i = 0; i < nq; i++) {
            ok[p] &= p != q[i];
            incat |= p / 3 == q[i] / 3;
        }
        if (same_cat)
            ok[p] &= incat;
    }
    *n = 0;
    while (*n < k) {
        int best = -1;
        for (int p = 0; p < NP; p++)
            if (ok[p] && (best < 0 || cs[p] > cs[best] + 1e-6))
                best = p;
        if (best < 0)
            break;
        ok[best] = 0;
        score[*n] = cs[best];
        out[(*n)++] = best;
    }
}

static int run(const rs_recommender *r, rs_rec_result *res, const int32_t *q, int nq, int k,
               double lo, double hi, unsigned flags)
{
    rs_rec_query qq;
    rs_rec_query_defaults(&qq);
    qq.products = q;
    qq.n_products = nq;
    for (int i = 0; i < RS_REC_NKINDS; i++)
        qq.k[i] = k;
    qq.kinds = RS_REC_ALL_KINDS | RS_REC_BIT(RS_REC_COMPLETION);
    qq.min_pct = lo;
    qq.max_pct = hi;
    qq.flags = flags;
    rs_error e = {0};
    int rc = rs_recommend(r, &qq, res, &e);
    if (rc)
        fprintf(stderr, "rs_recommend: %s\n", e.msg);
    return rc;
}

/* Complements without RS_REC_KEEP_BELOW_CHANCE: the rows kept are the candidates (in
 * the unfiltered order) that the rule of recommend.h step 7 keeps, recomputed here by
 * brute force (in.out: no completion choice, the scorer is sgns alone). */
static void test_below_chance(const rs_recommender *r, rs_rec_result *res, int32_t q)
{
    rs_rec_query qq;
    rs_rec_query_defaults(&qq);
    qq.products = &q;
    qq.n_products = 1;
    qq.kinds = RS_REC_BIT(RS_REC_COMPLEMENTS);
    qq.k[RS_REC_COMPLEMENTS] = NP;
    qq.complement_categories = NC;
    qq.flags = RS_REC_NO_MASK | RS_REC_KEEP_BELOW_CHANCE;
    rs_error e = {0};
    CHECK_EQ_INT(rs_recommend(r, &qq, res, &e), RS_OK);
    const rs_rec_list *l = &res->lists[RS_REC_COMPLEMENTS];
    CHECK_STR(l->scorer, "sgns");
    CHECK_EQ_INT(l->n_below_chance, 0);
    int32_t all[NP], want[NP];
    int n_all = l->n, n_want = 0;
    double mean_out[PDIM] = {0}, chance = 0;
    for (int p = 0; p < NP; p++)
        for (int j = 0; j < PDIM; j++)
            mean_out[j] += pout[1][p * PDIM + j] / NP;
    for (int j = 0; j < PDIM; j++)
        chance += pin[1][q * PDIM + j] * mean_out[j];
    int64_t N = rs_rec_n_receipts(r), nq = 0;
    for (int i = 0; i < NREC; i++)
        for (int t = 0; t < rsize[i]; t++)
            nq += rcity[i] == 1 && receipts[i][t] == q;
    for (int i = 0; i < l->n; i++) {
        const rs_rec_row *w = &l->rows[i];
        all[i] = w->index;
        double expect = (double)w->popularity * (double)nq / (double)N;
        int below;
        if (w->popularity > 0 && (double)w->copurchase >= expect)
            below = 0;
        else {
            double cdf = 0; /* Poisson(expect) lower tail at the count */
            for (int64_t j = 0; j <= w->copurchase; j++)
                cdf += exp(-expect + (double)j * log(expect) - lgamma((double)j + 1));
            below = (w->popularity > 0 && cdf < 0.05) || w->score < chance - 1e-6;
        }
        if (!below)
            want[n_want++] = w->index;
    }
    qq.flags = RS_REC_NO_MASK;
    CHECK_EQ_INT(rs_recommend(r, &qq, res, &e), RS_OK);
    CHECK(n_want < n_all); /* the world has some: the test means something */
    CHECK_EQ_INT(l->n, n_want);
    CHECK_EQ_INT(l->n_below_chance, n_all - n_want);
    for (int i = 0; i < l->n && i < n_want; i++)
        CHECK_EQ_INT(l->rows[i].index, want[i]);
    (void)all;
}

/* Synonyms: the candidates bought with the query far above chance (lift >= 2, Poisson
 * upper tail < 0.01, recomputed here) are demoted after the others, each group in
 * cosine order; with RS_REC_KEEP_BELOW_CHANCE the plain cosine order.  Every row
 * carries its co-purchase count and lift. */
static void test_synonym_demotion(const rs_recommender *r, rs_rec_result *res)
{
    int demoted_seen = 0;
    for (int32_t q = 0; q < NP; q++) {
        rs_rec_query qq;
        rs_rec_query_defaults(&qq);
        qq.products = &q;
        qq.n_products = 1;
        qq.kinds = RS_REC_BIT(RS_REC_SYNONYMS);
        qq.k[RS_REC_SYNONYMS] = NP;
        qq.flags = RS_REC_NO_MASK | RS_REC_SYNONYMS_ANY_CATEGORY | RS_REC_KEEP_BELOW_CHANCE;
        rs_error e = {0};
        CHECK_EQ_INT(rs_recommend(r, &qq, res, &e), RS_OK);
        const rs_rec_list *l = &res->lists[RS_REC_SYNONYMS];
        int32_t plain[NP], want[NP];
        int n = l->n, nw = 0;
        int64_t N = rs_rec_n_receipts(r), nq = 0;
        for (int i = 0; i < NREC; i++)
            for (int j = 0; j < rsize[i]; j++)
                nq += receipts[i][j] == q;
        int comp[NP];
        for (int i = 0; i < n; i++) {
            const rs_rec_row *w = &l->rows[i];
            plain[i] = w->index;
            CHECK(w->copurchase >= 0 && !w->demoted);
            double expect = (double)w->popularity * (double)nq / (double)N, cdf = 0;
            for (int64_t j = 0; j < w->copurchase; j++)
                cdf += exp(-expect + (double)j * log(expect) - lgamma((double)j + 1));
            comp[i] = w->copurchase > 0 && w->lift >= 2.0 && 1.0 - cdf < 0.01;
        }
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < n; i++)
                if (comp[i] == pass)
                    want[nw++] = plain[i];
        qq.flags &= ~(unsigned)RS_REC_KEEP_BELOW_CHANCE;
        CHECK_EQ_INT(rs_recommend(r, &qq, res, &e), RS_OK);
        CHECK_EQ_INT(l->n, n);
        for (int i = 0; i < n && i < l->n; i++) {
            CHECK_EQ_INT(l->rows[i].index, want[i]);
            demoted_seen += l->rows[i].demoted;
        }
    }
    (void)demoted_seen; /* (too few receipts here to demote: test_recommend_world does) */
}

static void test_core(rs_store *s)
{
    rs_error e = {0};
    rs_recommender *all = NULL, *c1 = NULL, *c2 = NULL;
    rs_rec_result *res = rs_rec_result_new();
    CHECK(res != NULL);
    CHECK_EQ_INT(rs_recommender_open(s, 0, NULL, &all, &e), RS_OK);
    CHECK_EQ_INT(rs_recommender_open(s, 1, NULL, &c1, &e), RS_OK);
    CHECK_EQ_INT(rs_recommender_open(s, 2, NULL, &c2, &e), RS_OK);
    rs_recommender *bad = NULL;
    CHECK_EQ_INT(rs_recommender_open(s, 9, NULL, &bad, &e), RS_EUSAGE);
    if (!all || !c1 || !c2 || !res)
        goto done;
    CHECK_EQ_INT(rs_rec_n_products(all), NP);
    CHECK_EQ_INT(rs_rec_n_categories(all), NC);
    CHECK_EQ_INT(rs_rec_n_receipts(all), NREC);
    CHECK_STR(rs_rec_city_name(c1), "Springfield");

    /* lookups */
    int32_t idx = -1;
    CHECK_EQ_INT(rs_rec_find_ext(all, "P5", &idx, &e), RS_OK);
    CHECK_EQ_INT(idx, 4);
    CHECK_EQ_INT(rs_rec_find_ext(all, "nope", &idx, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "nope") != NULL);
    int32_t hits[8];
    int nh = 0;
    CHECK_EQ_INT(rs_rec_search(all, "butt", hits, 8, &nh, &e), RS_OK); /* prefix */
    CHECK_EQ_INT(nh, 2);
    CHECK(nh == 2 && ((hits[0] == 9 && hits[1] == 10) || (hits[0] == 10 && hits[1] == 9)));
    CHECK_EQ_INT(rs_rec_search(all, "alted butt", hits, 8, &nh, &e), RS_OK); /* substring */
    CHECK(nh == 2);
    CHECK_EQ_INT(rs_rec_search(all, "50%", hits, 8, &nh, &e), RS_OK);
    CHECK(nh >= 1 && hits[0] == 11);
    CHECK_EQ_INT(rs_rec_search(all, "zzzz", hits, 8, &nh, &e), RS_OK);
    CHECK_EQ_INT(nh, 0);
    CHECK_EQ_INT(rs_rec_resolve(all, "P3", &idx, &e), RS_OK);
    CHECK_EQ_INT(idx, 2);
    CHECK_EQ_INT(rs_rec_resolve(all, "corn fl", &idx, &e), RS_OK);
    CHECK_EQ_INT(idx, 3);
    CHECK_EQ_INT(rs_rec_resolve(all, "qqqq", &idx, &e), RS_EUSAGE);
    rs_rec_product info;
    CHECK_EQ_INT(rs_rec_product_info(c1, 0, &info, &e), RS_OK);
    CHECK_STR(info.category, "Milk");
    int64_t pop0 = 0;
    for (int r = 0; r < NREC; r++)
        if (rcity[r] == 1)
            for (int j = 0; j < rsize[r]; j++)
                pop0 += receipts[r][j] == 0;
    CHECK_EQ_INT(info.popularity, pop0);
    CHECK_NEAR(info.percentile, 100.0, 1e-9);
    CHECK_EQ_INT(rs_rec_product_info(c1, NP, &info, &e), RS_EUSAGE);

    /* errors */
    rs_rec_query q;
    rs_rec_query_defaults(&q);
    CHECK_EQ_INT(rs_recommend(all, &q, res, &e), RS_EUSAGE); /* empty */
    int32_t one = 3;
    q.products = &one;
    q.n_products = 1;
    q.k[RS_REC_SYNONYMS] = 0;
    CHECK_EQ_INT(rs_recommend(all, &q, res, &e), RS_EUSAGE);
    q.k[RS_REC_SYNONYMS] = RS_REC_K_MAX + 1;
    CHECK_EQ_INT(rs_recommend(all, &q, res, &e), RS_EUSAGE);
    q.k[RS_REC_SYNONYMS] = 5;
    q.min_pct = 60;
    q.max_pct = 50;
    CHECK_EQ_INT(rs_recommend(all, &q, res, &e), RS_EUSAGE);
    q.min_pct = 0;
    q.max_pct = 100;
    one = NP;
    CHECK_EQ_INT(rs_recommend(all, &q, res, &e), RS_EUSAGE);

    /* synonyms: brute force, ties by index (products 1 and 2 share a vector) */
    const double *pct = rs_rec_popularity_percentiles(all);
    int expd[NP], n;
    double esc[NP];
    int32_t q0 = 0;
    const unsigned ANY = RS_REC_SYNONYMS_ANY_CATEGORY;
    CHECK_EQ_INT(run(all, res, &q0, 1, NP, 0, 100, RS_REC_NO_MASK | ANY), RS_OK);
    const rs_rec_list *syn = &res->lists[RS_REC_SYNONYMS];
    double nopct[NP];
    for (int p = 0; p < NP; p++)
        nopct[p] = 50;
    expect_synonyms(0, (int[]){0}, 1, nopct, 0, 100, NP, 0, expd, esc, &n);
    CHECK_EQ_INT(n, NP - 1);
    CHECK_EQ_INT(syn->n, n);
    for (int i = 0; i < n && i < syn->n; i++) {
        CHECK_EQ_INT(syn->rows[i].index, expd[i]);
        CHECK_NEAR(syn->rows[i].score, esc[i], 1e-5);
    }
    int seen1 = -1, seen2 = -1;
    for (int i = 0; i < syn->n; i++) {
        seen1 = syn->rows[i].index == 1 ? i : seen1;
        seen2 = syn->rows[i].index == 2 ? i : seen2;
    }
    CHECK(seen1 >= 0 && seen2 == seen1 + 1); /* equal cosines, lower index first */
    /* the default (same-category) path: the any-category list restricted to category 0 */
    int32_t anyl[NP];
    int nany = syn->n;
    for (int i = 0; i < nany; i++)
        anyl[i] = syn->rows[i].index;
    CHECK_EQ_INT(run(all, res, &q0, 1, NP, 0, 100, RS_REC_NO_MASK), RS_OK);
    CHECK_EQ_INT(syn->n, 2);
    for (int i = 0, j = 0; i < nany; i++)
        if (anyl[i] / 3 == 0) {
            CHECK(j < syn->n && syn->rows[j].index == anyl[i]);
            j++;
        }
    CHECK(syn->n == 2 && syn->rows[0].index == 1 && syn->rows[1].index == 2);
    CHECK(syn->n == 2 && syn->rows[0].score == syn->rows[1].score);
    CHECK_EQ_INT(syn->model_city, 0);
    CHECK_STR(res->lists[RS_REC_SYNONYMS].rows[0].category,
              CAT_NAMES[res->lists[RS_REC_SYNONYMS].rows[0].index / 3]);

    /* basket synonyms with the mask on */
    int32_t qb[2] = {3, 6};
    for (int same = 0; same < 2; same++) {
    CHECK_EQ_INT(run(all, res, qb, 2, 4, 20, 90, same ? 0 : ANY), RS_OK);
    expect_synonyms(0, (int[]){3, 6}, 2, pct, 20, 90, 4, same, expd, esc, &n);
    CHECK_EQ_INT(syn->n, n);
    for (int i = 0; i < n && i < syn->n; i++) {
        CHECK_EQ_INT(syn->rows[i].index, expd[i]);
        CHECK(syn->rows[i].percentile >= 20 && syn->rows[i].percentile <= 90);
        CHECK(syn->rows[i].index != 3 && syn->rows[i].index != 6);
        CHECK_NEAR(syn->rows[i].score, esc[i], 1e-5);
    }
    }
    /* the mask drops product 0 (percentile 100) and the unsold product 11 */
    CHECK_EQ_INT(run(all, res, &qb[0], 1, 20, 5, 99, ANY), RS_OK);
    int kept = 0;
    for (int p = 0; p < NP; p++)
        kept += p != 3 && pct[p] >= 5 && pct[p] <= 99;
    for (int i = 0; i < syn->n; i++)
        CHECK(syn->rows[i].index != 0 && syn->rows[i].index != 11);
    CHECK_EQ_INT(syn->n, kept);
    CHECK(kept < NP - 2);
    CHECK_EQ_INT(run(all, res, &qb[0], 1, 20, 5, 99, RS_REC_NO_MASK | ANY), RS_OK);
    CHECK_EQ_INT(syn->n, NP - 1);

    /* city model and fallback */
    CHECK_EQ_INT(run(c1, res, &q0, 1, 3, 0, 100, RS_REC_NO_MASK | ANY), RS_OK);
    CHECK_EQ_INT(syn->model_city, 1);
    CHECK(strstr(syn->model_path, "product-c1") != NULL);
    expect_synonyms(1, (int[]){0}, 1, nopct, 0, 100, 3, 0, expd, esc, &n);
    for (int i = 0; i < n && i < syn->n; i++)
        CHECK_EQ_INT(syn->rows[i].index, expd[i]);
    CHECK_EQ_INT(res->lists[RS_REC_CATEGORIES].model_city, 0); /* no city-1 category model */
    CHECK_EQ_INT(run(c2, res, &q0, 1, 3, 0, 100, RS_REC_NO_MASK), RS_OK);
    CHECK_EQ_INT(syn->model_city, 0);
    CHECK(strstr(syn->model_path, "product-all") != NULL);

    /* categories: softmax over the other categories */
    int32_t q4 = 4; /* Cereal */
    CHECK_EQ_INT(run(all, res, &q4, 1, 10, 0, 100, 0), RS_OK);
    const rs_rec_list *cat = &res->lists[RS_REC_CATEGORIES];
    double lg[NC], z = 0, mx = -1e30;
    for (int c = 0; c < NC; c++) {
        lg[c] = dot(cin + 1 * CDIM, cout_ + c * CDIM, CDIM);
        if (c != 1)
            mx = fmax(mx, lg[c]);
    }
    for (int c = 0; c < NC; c++)
        z += c != 1 ? exp(lg[c] - mx) : 0;
    CHECK_EQ_INT(cat->n, NC - 1);
    double wsum = 0;
    for (int i = 0; i < cat->n; i++) {
        int c = cat->rows[i].index;
        CHECK(c != 1);
        CHECK_NEAR(cat->rows[i].score, exp(lg[c] - mx) / z, 1e-6);
        CHECK_STR(cat->rows[i].name, CAT_NAMES[c]);
        wsum += cat->rows[i].score;
        if (i)
            CHECK(cat->rows[i - 1].score >= cat->rows[i].score);
    }
    CHECK_NEAR(wsum, 1.0, 1e-9);
    CHECK_EQ_INT(run(all, res, &q4, 1, 10, 0, 100, RS_REC_INCLUDE_OWN_CATEGORY), RS_OK);
    CHECK_EQ_INT(cat->n, NC);

    /* complements: the explanation fields, recomputed here */
    CHECK_EQ_INT(run(c1, res, &q4, 1, 5, 0, 100, RS_REC_NO_MASK | RS_REC_KEEP_BELOW_CHANCE),
                 RS_OK);
    const rs_rec_list *cmp = &res->lists[RS_REC_COMPLEMENTS];
    const rs_rec_list *cat1 = &res->lists[RS_REC_CATEGORIES];
    CHECK(cmp->n == 5);
    CHECK_EQ_INT(cmp->model_city, 1);
    CHECK_EQ_INT(cmp->model2_city, 0);
    double imp[NC], w[NC], tr[NC];
    int cid[NC];
    for (int i = 0; i < cat1->n; i++) {
        cid[i] = cat1->rows[i].index;
        w[i] = cat1->rows[i].score;
        double share;
        rs_rec_category_popularity(c1, cid[i], &share, NULL);
        imp[i] = w[i] * share;
    }
    rs_yeojohnson_fit_transform(imp, (size_t)cat1->n, tr);
    double sm = 0, sh[NC];
    for (int i = 0; i < cat1->n; i++)
        sm += exp(tr[i]);
    for (int i = 0; i < cat1->n; i++)
        sh[i] = exp(tr[i]) / sm;
    int slots[NC];
    rs_rec_allocate(sh, cat1->n, 5, slots);
    int per_cat[NC] = {0};
    for (int i = 0; i < cmp->n; i++) {
        const rs_rec_row *row = &cmp->rows[i];
        int j = -1;
        for (int t = 0; t < cat1->n; t++)
            if (cid[t] == row->category_index)
                j = t;
        CHECK(j >= 0);
        if (j < 0)
            continue;
        per_cat[j]++;
        CHECK_NEAR(row->cat_weight, w[j], 1e-9);
        CHECK_NEAR(row->cat_importance, imp[j], 1e-9);
        CHECK_NEAR(row->cat_transformed, tr[j], 1e-6); /* input order differs: Brent path */
        CHECK_NEAR(row->cat_share, sh[j], 1e-6);
        CHECK_EQ_INT(row->cat_slots, slots[j]);
        CHECK_NEAR(row->score, dot(pin[1] + 4 * PDIM, pout[1] + row->index * PDIM, PDIM), 1e-5);
        /* co-purchase and lift in city 1, by brute force */
        int64_t co = 0, np = 0, nq = 0, N = 0;
        for (int r = 0; r < NREC; r++) {
            if (rcity[r] != 1)
                continue;
            N++;
            int hp = 0, hq = 0;
            for (int t = 0; t < rsize[r]; t++) {
                hp |= receipts[r][t] == row->index;
                hq |= receipts[r][t] == 4;
            }
            co += hp && hq;
            np += hp;
            nq += hq;
        }
        CHECK_EQ_INT(row->copurchase, co);
        CHECK_NEAR(row->lift, np && nq ? (double)co * N / ((double)np * nq) : 0.0, 1e-9);
        CHECK_EQ_INT(row->popularity, np);
    }
    for (int j = 0; j < cat1->n; j++)
        CHECK(per_cat[j] <= slots[j] + 3); /* a category never gets more than its products */
    for (int i = 1; i < cmp->n; i++)
        if (cmp->rows[i].category_index == cmp->rows[i - 1].category_index)
            CHECK(cmp->rows[i - 1].score >= cmp->rows[i].score);

    /* a single candidate category takes every slot with share 1 */
    rs_rec_query qs;
    rs_rec_query_defaults(&qs);
    qs.products = &q4;
    qs.n_products = 1;
    qs.kinds = RS_REC_BIT(RS_REC_COMPLEMENTS);
    qs.k[RS_REC_COMPLEMENTS] = 3;
    qs.complement_categories = 1;
    qs.flags = RS_REC_NO_MASK | RS_REC_KEEP_BELOW_CHANCE;
    CHECK_EQ_INT(rs_recommend(c1, &qs, res, &e), RS_OK);
    CHECK_EQ_INT(cmp->n, 3);
    for (int i = 0; i < cmp->n; i++) {
        CHECK_NEAR(cmp->rows[i].cat_share, 1.0, 1e-12);
        CHECK_NEAR(cmp->rows[i].cat_transformed, 0.0, 1e-12);
        CHECK_EQ_INT(cmp->rows[i].cat_slots, 3);
    }
    CHECK_EQ_INT(res->lists[RS_REC_SYNONYMS].n, 0); /* kind not asked */
    test_below_chance(c1, res, q4);
    test_synonym_demotion(all, res);

    /* completion: the fallback scorer (product model in.out), context excluded */
    CHECK_EQ_INT(run(all, res, qb, 2, 3, 0, 100, RS_REC_NO_MASK), RS_OK);
    const rs_rec_list *comp = &res->lists[RS_REC_COMPLETION];
    CHECK_EQ_INT(comp->status, RS_OK);
    CHECK_EQ_INT(comp->n, 3);
    for (int i = 0; i < comp->n; i++)
        CHECK(comp->rows[i].index != 3 && comp->rows[i].index != 6);

    /* reload after a new model: changed, and the new vectors answer */
    int changed = -1;
    CHECK_EQ_INT(rs_recommender_reload(c2, &changed, &e), RS_OK);
    CHECK_EQ_INT(changed, 0);
    {
        const char *pext[NP];
        char pb[NP][8];
        for (int p = 0; p < NP; p++) {
            snprintf(pb[p], sizeof pb[p], "P%d", p + 1);
            pext[p] = pb[p];
        }
        int64_t id;
        CHECK_EQ_INT(save_model(s, rs_store_models_dir(s), "product-c2.rsm", RS_KIND_PRODUCT, 2,
                                NP, PDIM, pin[1], pout[1], pext, &id),
                     RS_OK);
    }
    CHECK_EQ_INT(rs_recommender_reload(c2, &changed, &e), RS_OK);
    CHECK_EQ_INT(changed, 1);
    CHECK_EQ_INT(run(c2, res, &q0, 1, 3, 0, 100, RS_REC_NO_MASK), RS_OK);
    CHECK_EQ_INT(syn->model_city, 2);
done:
    rs_rec_result_free(res);
    rs_recommender_close(all);
    rs_recommender_close(c1);
    rs_recommender_close(c2);
}

/* ---- the CLI on the same world ---- */

static char *run_cmd(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (n + 1 >= cap) {
            char *q = realloc(buf, cap *= 2);
            if (!q) {
                free(buf);
                buf = NULL;
            }
            buf = q;
        }
    }
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (buf)
        buf[n] = 0;
    return buf;
}

static void test_cli(const char *dir, const char *db)
{
    const char *bin = getenv("RS_BIN");
    if (!bin) {
        printf("RS_BIN unset: CLI checks skipped\n");
        return;
    }
    char cmd[4096];
    int st;
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' recommend --product P5 --city Springfield --json -k 3",
             bin, db);
    char *out = run_cmd(cmd, &st);
    CHECK_EQ_INT(st, 0);
    cJSON *j = out ? cJSON_Parse(out) : NULL;
    CHECK(j != NULL);
    if (j) {
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "city")), "Springfield");
        const char *kinds[] = {"synonyms", "categories", "complements"};
        for (int k = 0; k < 3; k++) {
            cJSON *a = cJSON_GetObjectItem(j, kinds[k]);
            CHECK(cJSON_IsArray(a) && cJSON_GetArraySize(a) >= 1);
            cJSON *row = cJSON_GetArrayItem(a, 0);
            CHECK(cJSON_IsString(cJSON_GetObjectItem(row, "id")));
            CHECK(cJSON_IsString(cJSON_GetObjectItem(row, "name")));
            CHECK(cJSON_IsNumber(cJSON_GetObjectItem(row, "score")));
            CHECK(cJSON_IsNumber(cJSON_GetObjectItem(row, "popularity")));
            CHECK(cJSON_IsNumber(cJSON_GetObjectItem(row, "percentile")));
            if (k == 2) {
                CHECK(cJSON_IsNumber(cJSON_GetObjectItem(row, "share")));
                CHECK(cJSON_IsNumber(cJSON_GetObjectItem(row, "copurchase")));
                CHECK(cJSON_IsNumber(cJSON_GetObjectItem(row, "lift")));
                CHECK(cJSON_IsString(cJSON_GetObjectItem(row, "category")));
            }
        }
        cJSON *models = cJSON_GetObjectItem(j, "models");
        cJSON *sm = cJSON_GetObjectItem(models, "synonyms");
        CHECK(cJSON_IsFalse(cJSON_GetObjectItem(sm, "fallback")));
        cJSON *cm = cJSON_GetObjectItem(models, "categories");
        CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cm, "fallback")));
        cJSON_Delete(j);
    }
    free(out);

    /* the table, and usage errors */
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' recommend --name 'corn' --kind synonyms 2>/dev/null", bin, db);
    out = run_cmd(cmd, &st);
    CHECK_EQ_INT(st, 0);
    CHECK(out && strstr(out, "SYNONYMS") && strstr(out, "Corn flakes"));
    free(out);
    const char *bad[] = {"--product NOPE", "--product P1 --city Atlantis", "--basket ,",
                         "--product P1 -k 0", "--product P1 -k 5000", "--product P1 --kind x",
                         "--product P1 --min-pct 80 --max-pct 10", "", "--product P1 --basket P2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(cmd, sizeof cmd, "'%s' --db '%s' recommend %s 2>/dev/null", bin, db, bad[i]);
        out = run_cmd(cmd, &st);
        if (st != 1)
            fprintf(stderr, "'%s' gave exit %d\n", bad[i], st);
        CHECK_EQ_INT(st, 1);
        free(out);
    }
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' recommend --help", bin, db);
    out = run_cmd(cmd, &st);
    CHECK_EQ_INT(st, 0);
    CHECK(out && strstr(out, "--batch"));
    free(out);

    /* batch: JSON arrays, plain ids, unknown ids, garbage; order kept */
    const char *input = "[\"P1\",\"P4\"]\n"
                        "P5\n"
                        "[\"P2\",\"NOPE\"]\n"
                        "[\"NOPE\"]\n"
                        "[1,2\n"
                        "\n"
                        "P7 P8 P9\n";
    char inpath[1024];
    snprintf(inpath, sizeof inpath, "%s", test_write_file(dir, "batch.txt", input));
    for (int threads = 1; threads <= 3; threads += 2) {
        snprintf(cmd, sizeof cmd, "'%s' --db '%s' recommend --batch '%s' -k 4 --no-mask --threads %d", bin,
                 db, inpath, threads);
        out = run_cmd(cmd, &st);
        CHECK_EQ_INT(st, 0);
        int lines = 0;
        for (char *l = out ? strtok(out, "\n") : NULL; l; l = strtok(NULL, "\n"), lines++) {
            cJSON *o = cJSON_Parse(l);
            CHECK(o != NULL);
            if (!o)
                continue;
            const char *kinds[] = {"synonyms", "categories", "complements", "completion"};
            for (int k = 0; k < 4; k++)
                CHECK(cJSON_IsArray(cJSON_GetObjectItem(o, kinds[k])));
            cJSON *err = cJSON_GetObjectItem(o, "error");
            int nsyn = cJSON_GetArraySize(cJSON_GetObjectItem(o, "synonyms"));
            int ncomp = cJSON_GetArraySize(cJSON_GetObjectItem(o, "completion"));
            switch (lines) {
            case 0:
            case 1:
            case 6:
                CHECK(err == NULL);
                CHECK(ncomp > 0);
                CHECK(lines == 6 ? nsyn == 0 : nsyn > 0); /* line 6 holds all of Bread */
                break;
            case 2: /* one known id: answered, error names the unknown one */
                CHECK(err && strstr(err->valuestring, "NOPE"));
                CHECK(ncomp > 0);
                break;
            case 3: /* unknown ids alone: completion answers with popularity (issue 11) */
                CHECK(err && strstr(err->valuestring, "NOPE"));
                CHECK(ncomp > 0);
                CHECK_EQ_INT(nsyn, 0);
                break;
            default: /* not a context */
                CHECK(err != NULL);
                CHECK_EQ_INT(ncomp, 0);
            }
            if (lines == 1) {
                cJSON *a = cJSON_GetObjectItem(o, "completion");
                cJSON *it;
                cJSON_ArrayForEach(it, a) CHECK(strcmp(cJSON_GetObjectItem(it, "id")->valuestring, "P5") != 0);
            }
            cJSON_Delete(o);
        }
        CHECK_EQ_INT(lines, 7);
        free(out);
    }
}

int main(void)
{
    test_allocate();
    const char *dir = test_tmpdir();
    char db[1024];
    rs_store *s = build_world(dir, db, sizeof db);
    CHECK(s != NULL);
    if (!s)
        return test_summary();
    test_core(s);
    rs_store_close(s);
    test_cli(dir, db);
    return test_summary();
}
