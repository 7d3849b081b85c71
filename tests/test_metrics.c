/* test_metrics.c - every ranking metric against values computed by hand. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/metrics.h"
#include "testlib.h"

static void test_rank_metrics(void)
{
    rs_rank_acc *a = NULL;
    rs_error e = {0};
    int64_t counts[10];
    for (int i = 0; i < 10; i++)
        counts[i] = i + 1;
    CHECK_EQ_INT(rs_rank_acc_new(3, 10, NULL, counts, 16, &a, &e), RS_OK);
    /* q1: target 7 at rank 2 -> HR 1, NDCG 1/log2(4) = 0.5, MRR 1/3, P 1/3, R 1 */
    int32_t l1[] = {5, 2, 7}, t1 = 7;
    rs_rank_acc_add(a, l1, 3, &t1, 1);
    /* q2: a miss */
    int32_t l2[] = {1, 2, 3}, t2 = 9;
    rs_rank_acc_add(a, l2, 3, &t2, 1);
    /* q3: a short list with the target first */
    int32_t l3[] = {4}, t3 = 4;
    rs_rank_acc_add(a, l3, 1, &t3, 1);
    rs_rank_metrics m;
    rs_rank_acc_result(a, &m);
    CHECK_EQ_INT(m.n_queries, 3);
    CHECK_NEAR(m.hr, 2.0 / 3.0, 1e-12);
    CHECK_NEAR(m.ndcg, (0.5 + 1.0) / 3.0, 1e-12);
    CHECK_NEAR(m.mrr, (1.0 / 3.0 + 1.0) / 3.0, 1e-12);
    CHECK_NEAR(m.precision, (1.0 / 3.0 + 1.0 / 3.0) / 3.0, 1e-12);
    CHECK_NEAR(m.recall, 2.0 / 3.0, 1e-12);
    /* recommended {5,2,7,1,3,4}: 6 of 10 */
    CHECK_NEAR(m.coverage, 0.6, 1e-12);
    /* -log2(count/16) over 5,2,7,1,2,3,4 (counts 6,3,8,2,3,4,5) */
    double nov = (-log2(6 / 16.0) - 2 * log2(3 / 16.0) - log2(8 / 16.0) - log2(2 / 16.0) -
                  log2(4 / 16.0) - log2(5 / 16.0)) / 7.0;
    CHECK_NEAR(m.novelty, nov, 1e-12);
    CHECK_NEAR(m.novelty, 1.989026, 1e-6); /* by hand: 13.923183 / 7 */
    double v = 0;
    CHECK_EQ_INT(rs_rank_metric_get(&m, "hr@3", &v), 0);
    CHECK_NEAR(v, 2.0 / 3.0, 1e-12);
    CHECK_EQ_INT(rs_rank_metric_get(&m, "ndcg@3", &v), 0);
    CHECK_NEAR(v, 0.5, 1e-12);
    CHECK_EQ_INT(rs_rank_metric_get(&m, "mrr", &v), 0);
    CHECK_EQ_INT(rs_rank_metric_get(&m, "hr@10", &v), -1);
    CHECK_EQ_INT(rs_rank_metric_get(&m, "auc", &v), -1);
    char *j = rs_rank_metrics_json(&m);
    CHECK(j && strstr(j, "\"hr@3\":0.666667"));
    free(j);
    rs_rank_acc_free(a);

    /* two targets: hits at ranks 1 and 2: DCG 1/log2(3) + 1/log2(4), IDCG 1 + 1/log2(3) */
    uint8_t cat[10] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    CHECK_EQ_INT(rs_rank_acc_new(3, 10, cat, NULL, 0, &a, &e), RS_OK);
    int32_t l4[] = {1, 2, 3}, t4[] = {2, 3};
    rs_rank_acc_add(a, l4, 3, t4, 2);
    rs_rank_acc_result(a, &m);
    CHECK_NEAR(m.ndcg, (1 / log2(3.0) + 0.5) / (1 + 1 / log2(3.0)), 1e-12);
    CHECK_NEAR(m.ndcg, 0.693426, 1e-6);
    CHECK_NEAR(m.mrr, 0.5, 1e-12);
    CHECK_NEAR(m.precision, 2.0 / 3.0, 1e-12);
    CHECK_NEAR(m.recall, 1.0, 1e-12);
    CHECK_NEAR(m.coverage, 3.0 / 8.0, 1e-12); /* catalogue = items 0..7 */
    CHECK_NEAR(m.novelty, 0.0, 0.0);          /* no counts given */
    rs_rank_acc_free(a);
    CHECK_NEAR(rs_metric_dcg_gain(0), 1.0, 1e-15);
    CHECK_NEAR(rs_metric_dcg_gain(2), 0.5, 1e-15);
    CHECK(rs_rank_acc_new(0, 10, NULL, NULL, 0, &a, &e) == RS_EUSAGE);
}

static void test_topk(void)
{
    float s[] = {1.0f, 3.0f, 3.0f, -INFINITY, 2.0f, NAN};
    int32_t top[10];
    CHECK_EQ_INT(rs_topk(s, 6, 3, top), 3);
    CHECK_EQ_INT(top[0], 1); /* tie 3.0: lower index first */
    CHECK_EQ_INT(top[1], 2);
    CHECK_EQ_INT(top[2], 4);
    CHECK_EQ_INT(rs_topk(s, 6, 10, top), 4); /* -inf and NaN are never returned */
    CHECK_EQ_INT(top[3], 0);
    CHECK_EQ_INT(rs_topk(s, 6, 1, top), 1);
    CHECK_EQ_INT(top[0], 1);
}

static void test_synonym_metrics(void)
{
    int32_t item_category[] = {2, 5, 2, 2};
    int32_t syn[] = {0, 1, 3};
    CHECK_NEAR(rs_metric_category_purity(2, syn, 3, item_category), 2.0 / 3.0, 1e-12);
    CHECK_NEAR(rs_metric_category_purity(-1, syn, 3, item_category), 0.0, 0.0);
    CHECK_NEAR(rs_metric_category_purity(2, syn, 0, item_category), 0.0, 0.0);
    int64_t co[] = {1, 0, 3};
    CHECK_NEAR(rs_metric_copurchase(co, 3, 4), (0.25 + 0.0 + 0.75) / 3.0, 1e-12);
    CHECK_NEAR(rs_metric_copurchase(co, 3, 0), 0.0, 0.0);
}

int main(void)
{
    test_rank_metrics();
    test_topk();
    test_synonym_metrics();
    return test_summary();
}
