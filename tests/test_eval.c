/* test_eval.c - the evaluation protocol on hand-made data: split, queries, metrics of
 * popularity (hand-computed), blends == scorers, synonym metrics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/completion.h"
#include "../core/completion_choice.h"
#include "../core/eval.h"
#include "../core/knn.h"
#include "testlib.h"

static rs_corpus *make_corpus(int32_t n_items, const int32_t *flat)
{
    rs_corpus *c = calloc(1, sizeof *c);
    int64_t total = 0;
    int n_receipts = 0;
    for (const int32_t *p = flat; *p != -2; p++) {
        total += *p >= 0;
        n_receipts += *p == -1;
    }
    c->n_items = n_items;
    c->n_receipts = n_receipts;
    c->offsets = calloc((size_t)n_receipts + 1, sizeof *c->offsets);
    c->items = calloc((size_t)total + 1, sizeof *c->items);
    c->weights = calloc((size_t)total + 1, sizeof *c->weights);
    c->split_hash = calloc((size_t)n_receipts + 1, sizeof *c->split_hash);
    c->city = calloc((size_t)n_receipts + 1, sizeof *c->city);
    c->ts = calloc((size_t)n_receipts + 1, sizeof *c->ts);
    c->receipt_id = calloc((size_t)n_receipts + 1, sizeof *c->receipt_id);
    c->item_category = calloc((size_t)n_items + 1, sizeof *c->item_category);
    int64_t at = 0;
    int r = 0;
    for (const int32_t *p = flat; *p != -2; p++) {
        if (*p == -1) {
            c->offsets[++r] = at;
            continue;
        }
        c->items[at] = *p;
        c->weights[at] = 1.0f;
        at++;
    }
    for (int i = 0; i < n_receipts; i++) {
        c->receipt_id[i] = i + 1;
        c->split_hash[i] = (uint64_t)i;
        c->ts[i] = INT64_MIN;
    }
    return c;
}

static const int32_t TRAIN[] = {0, 1, 2, -1, 0, 1, -1, 0, 2, -1, 0, 3, -1, 1, -1, -2};
static const int32_t TEST[] = {0, 1, 9, -1, 2, -1, 0, 3, 4, -1, 5, 6, -1, -2};

static void test_queries_and_popularity(void)
{
    rs_corpus *tr = make_corpus(10, TRAIN), *te = make_corpus(10, TEST);
    rs_eval_queries *q = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_eval_queries_build(tr, te, &q, &e), RS_OK);
    if (!q)
        goto done;
    /* {0,1,9} -> {0,1}; {2} too short; {0,3,4} -> {0,3}; {5,6} unknown */
    CHECK_EQ_INT(q->n_baskets, 2);
    CHECK_EQ_INT(q->n_queries, 4);
    CHECK_EQ_INT(q->items[0], 0);
    CHECK_EQ_INT(q->items[1], 1);
    CHECK_EQ_INT(q->items[2], 0);
    CHECK_EQ_INT(q->items[3], 3);
    /* popularity 0:4 1:3 2:2 3:1.  k = 1: targets 0|{1} hit, 1|{0} hit, 0|{3} hit,
     * 3|{0} miss (1 first) */
    rs_rank_metrics m;
    CHECK_EQ_INT(rs_eval_baseline(tr, q, RS_COMP_POPULARITY, NULL, 1, &m, &e), RS_OK);
    CHECK_EQ_INT(m.n_queries, 4);
    CHECK_NEAR(m.hr, 0.75, 1e-12);
    CHECK_NEAR(m.ndcg, 0.75, 1e-12);
    /* k = 3: 3|{0} gets [1, 2, 3]: hit at rank 2 */
    CHECK_EQ_INT(rs_eval_baseline(tr, q, RS_COMP_POPULARITY, NULL, 3, &m, &e), RS_OK);
    CHECK_NEAR(m.hr, 1.0, 1e-12);
    CHECK_NEAR(m.ndcg, (3 + 0.5) / 4.0, 1e-12);
    CHECK_NEAR(m.mrr, (3 + 1 / 3.0) / 4.0, 1e-12);
    CHECK_NEAR(m.precision, 4 / 12.0, 1e-12);
    CHECK_NEAR(m.coverage, 1.0, 1e-12); /* all 4 training items recommended */
    /* item-item: 3|{0}: sims from 0: 1: 2/sqrt(12), 2: 2/sqrt(8), 3: 1/2 -> [2, 1, 3]:
     * rank 2 again; 0|{3}: only 0 co-occurs with 3 -> hit at 0 */
    rs_knn *k = NULL;
    CHECK_EQ_INT(rs_knn_build(tr, &k, &e), RS_OK);
    CHECK_EQ_INT(rs_eval_baseline(tr, q, RS_COMP_ITEMITEM, k, 2, &m, &e), RS_OK);
    /* k = 2: 0|{1}: sims from 1: 0: 2/sqrt(12) = .577, 2: 1/sqrt(6) = .408 -> hit 0;
     * 1|{0}: [2 (.707), 1 (.577)] -> rank 1; 0|{3}: hit 0; 3|{0}: miss */
    CHECK_NEAR(m.hr, 0.75, 1e-12);
    CHECK_NEAR(m.ndcg, (1 + 1 / log2(3.0) + 1) / 4.0, 1e-9);

    /* blends evaluated at once equal the scorers built with the same weights */
    int64_t cnt[10];
    rs_corpus_item_counts(tr, cnt);
    rs_completion_parts parts;
    memset(&parts, 0, sizeof parts);
    parts.n_items = 10;
    parts.pop_counts = cnt;
    parts.knn = k;
    parts.weights[RS_COMP_POPULARITY] = 1;
    parts.weights[RS_COMP_ITEMITEM] = 1;
    rs_completion *all = NULL;
    CHECK_EQ_INT(rs_completion_from_parts(&parts, &all, &e), RS_OK);
    double w[3][RS_COMP_N] = {{1, 0, 0, 0, 0}, {0, 1, 0, 0, 0}, {0.3, 0.7, 0, 0, 0}};
    rs_rank_metrics mb[3];
    CHECK_EQ_INT(rs_eval_blends(all, q, tr, 2, 3, (const double(*)[RS_COMP_N])w, NULL, NULL,
                                mb, &e),
                 RS_OK);
    for (int i = 0; i < 3; i++) {
        rs_completion *one = NULL;
        memcpy(parts.weights, w[i], sizeof parts.weights);
        CHECK_EQ_INT(rs_completion_from_parts(&parts, &one, &e), RS_OK);
        rs_rank_metrics ms;
        CHECK_EQ_INT(rs_eval_completion(one, q, tr, 2, NULL, NULL, &ms, &e), RS_OK);
        CHECK_NEAR(mb[i].hr, ms.hr, 0);
        CHECK_NEAR(mb[i].ndcg, ms.ndcg, 0);
        CHECK_NEAR(mb[i].coverage, ms.coverage, 0);
        if (i == 2)
            CHECK(strstr(rs_completion_name(one), "blend(") != NULL);
        else
            CHECK_STR(rs_completion_name(one), i == 0 ? "popularity" : "itemitem");
        rs_completion_close(one);
    }
    CHECK_NEAR(mb[0].hr, 0.75, 1e-12); /* popularity, k = 2: 3|{0} gets [1, 2] */
    rs_completion_close(all);
    /* a method without its part is refused */
    memset(parts.weights, 0, sizeof parts.weights);
    parts.weights[RS_COMP_EASE] = 1;
    rs_completion *bad = NULL;
    CHECK_EQ_INT(rs_completion_from_parts(&parts, &bad, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "ease") != NULL);
    rs_knn_free(k);
    rs_eval_queries_free(q);
done:
    rs_corpus_free(tr);
    rs_corpus_free(te);
}

static void test_splits(void)
{
    /* ten one-item receipts with split_hash 0..9 */
    const int32_t flat[] = {0, -1, 1, -1, 2, -1, 3, -1, 4, -1, 0, -1, 1, -1, 2, -1, 3, -1,
                            4, -1, -2};
    rs_corpus *c = make_corpus(5, flat), *p = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_eval_split(c, 0, RS_SPLIT_TEST, &p, &e), RS_OK);
    CHECK_EQ_INT(p->n_receipts, 2); /* hashes 0 and 5 */
    rs_corpus_free(p);
    CHECK_EQ_INT(rs_eval_split(c, 0, RS_SPLIT_VALID, &p, &e), RS_OK);
    CHECK_EQ_INT(p->n_receipts, 2); /* 1 and 6 */
    rs_corpus_free(p);
    CHECK_EQ_INT(rs_eval_split(c, 0, RS_SPLIT_FIT, &p, &e), RS_OK);
    CHECK_EQ_INT(p->n_receipts, 6);
    rs_corpus_free(p);
    /* no timestamps: a time split is a usage error */
    CHECK_EQ_INT(rs_eval_split(c, 7, RS_SPLIT_TEST, &p, &e), RS_EUSAGE);
    /* timestamps one day apart: the last 3 days are held out (ts > max - 3 days) */
    for (int i = 0; i < 10; i++)
        c->ts[i] = 1700000000 + (int64_t)i * 86400;
    CHECK_EQ_INT(rs_eval_split(c, 3, RS_SPLIT_TEST, &p, &e), RS_OK);
    CHECK_EQ_INT(p->n_receipts, 3);
    rs_corpus_free(p);
    CHECK_EQ_INT(rs_eval_split(c, 3, RS_SPLIT_TRAIN, &p, &e), RS_OK);
    CHECK_EQ_INT(p->n_receipts, 7);
    rs_corpus_free(p);
    CHECK_EQ_INT(rs_eval_split(c, 3, RS_SPLIT_VALID, &p, &e), RS_OK);
    CHECK_EQ_INT(p->n_receipts, 2); /* hashes 1 and 6 are both before the cut */
    rs_corpus_free(p);
    rs_corpus_free(c);
}

static void test_synonyms(void)
{
    /* items 0,1 in category 0 and 2,3 in category 1; vectors make 0~1 and 2~3 */
    const int32_t flat[] = {0, 2, -1, 0, 3, -1, 1, 2, -1, 1, 3, -1, 0, 1, -1, -2};
    rs_corpus *c = make_corpus(4, flat);
    c->item_category[0] = c->item_category[1] = 0;
    c->item_category[2] = c->item_category[3] = 1;
    rs_knn *k = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_knn_build(c, &k, &e), RS_OK);
    float in[8] = {1, 0, 0.9f, 0.1f, 0, 1, 0.1f, 0.9f};
    int32_t row_item[4] = {0, 1, 2, 3}, item_row[4] = {0, 1, 2, 3};
    int64_t counts[4] = {3, 3, 2, 2};
    rs_embedding m = {.n_items = 4, .rows = 4, .dim = 2, .row_item = row_item,
                      .item_row = item_row, .in = in, .counts = counts};
    rs_synonym_metrics s;
    CHECK_EQ_INT(rs_eval_synonyms(&m, c, k, 1, 1, 0, &s, &e), RS_OK);
    CHECK_EQ_INT(s.n_items, 4);
    CHECK_NEAR(s.purity, 1.0, 1e-12);
    /* co-purchase of the nearest: 0-1: 1/3; 1-0: 1/3; 2-3: 0; 3-2: 0 */
    CHECK_NEAR(s.copurchase, (1 / 3.0 + 1 / 3.0) / 4, 1e-12);
    /* min_count 3 keeps items 0 and 1 only */
    CHECK_EQ_INT(rs_eval_synonyms(&m, c, k, 1, 3, 0, &s, &e), RS_OK);
    CHECK_EQ_INT(s.n_items, 2);
    float *u = rs_eval_unit_rows(&m), scratch[4];
    int32_t top[2];
    CHECK_EQ_INT(rs_eval_nearest(&m, u, 3, 2, scratch, top), 2);
    CHECK_EQ_INT(top[0], 2);
    free(u);
    rs_knn_free(k);
    rs_corpus_free(c);
}

/* The stored choice: written as before (byte for byte), read back the same. */
static void test_choice_format(void)
{
    rs_completion_choice c, d;
    rs_error e = {0};
    memset(&c, 0, sizeof c);
    c.weights[RS_COMP_POPULARITY] = 0.1;
    c.weights[RS_COMP_SGNS] = 0.225;
    c.weights[RS_COMP_EASE] = 0.675;
    c.models[RS_COMP_SGNS] = 9;
    c.models[RS_COMP_ALS] = 11;
    c.models[RS_COMP_EASE] = 12;
    c.run = 138;
    c.has_metrics = 1;
    c.metrics = (rs_rank_metrics){.k = 10, .n_queries = 6369, .hr = 0.38342, .ndcg = 0.227808};
    char *j = rs_choice_json(&c, RS_BASKETS_PRODUCTS);
    CHECK_STR(j, "{\"method\":\"blend\",\"weights\":{\"popularity\":0.1,\"sgns\":0.225,"
                 "\"ease\":0.675},\"models\":{\"product\":9,\"als\":11,\"ease\":12},"
                 "\"run\":138,\"metrics\":{\"k\":10,\"queries\":6369,\"hr@10\":0.383420,"
                 "\"ndcg@10\":0.227808,\"mrr\":0.000000,\"precision@10\":0.000000,"
                 "\"recall@10\":0.000000,\"coverage@10\":0.000000,\"novelty\":0.000000}}");
    CHECK_EQ_INT(rs_choice_parse(j, RS_BASKETS_PRODUCTS, "t", &d, &e), RS_OK);
    for (int m = 0; m < RS_COMP_N; m++) {
        CHECK_NEAR(d.weights[m], c.weights[m], 1e-12);
        CHECK_EQ_INT(d.models[m], c.models[m]);
    }
    CHECK_EQ_INT(d.run, 138);
    CHECK_NEAR(d.metrics.hr, 0.38342, 1e-9);
    free(j);
    /* one method: its name, weight 1 */
    CHECK_EQ_INT(rs_choice_parse("{\"method\":\"ease\",\"weights\":{\"sgns\":5}}",
                                 RS_BASKETS_PRODUCTS, "t", &d, &e), RS_OK);
    CHECK_NEAR(d.weights[RS_COMP_EASE], 1.0, 0);
    CHECK_NEAR(d.weights[RS_COMP_SGNS], 0.0, 0);
    CHECK_STR(rs_choice_method(&d), "ease");
    CHECK_EQ_INT(rs_choice_parse("[1]", RS_BASKETS_PRODUCTS, "meta 'x'", &d, &e), RS_EDATA);
    CHECK(strstr(e.msg, "meta 'x' is not a JSON object") != NULL);
    CHECK_EQ_INT(rs_choice_parse("{\"method\":\"magic\"}", RS_BASKETS_PRODUCTS, "t", &d, &e),
                 RS_EUSAGE);
    CHECK_EQ_INT(rs_choice_parse("{\"method\":\"blend\",\"weights\":{\"ease\":\"x\"}}",
                                 RS_BASKETS_PRODUCTS, "t", &d, &e), RS_EDATA);
}

int main(void)
{
    test_choice_format();
    test_queries_and_popularity();
    test_splits();
    test_synonyms();
    return test_summary();
}
