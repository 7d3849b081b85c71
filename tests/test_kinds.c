/* test_kinds.c - every row of the kinds table (core/kinds.h) trains on a tiny corpus at
 * its defaults, is scored on held-out baskets, and its parameters parse: set by name,
 * range-checked, written to JSON and read back, accepted as grid keys.  A new kind is
 * covered by adding its row; nothing here names a kind. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/completion.h"
#include "../core/eval.h"
#include "../core/grid.h"
#include "../core/kinds.h"
#include "testlib.h"

/* 24 products in 4 categories; receipts draw 2..5 products, mostly from one category
 * and its partner, with a fixed linear congruential stream. */
static rs_corpus *tiny_corpus(int n_receipts, uint32_t seed)
{
    enum { N_ITEMS = 24, N_CATS = 4 };
    rs_corpus *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->n_items = N_ITEMS;
    c->n_categories = N_CATS;
    c->n_receipts = n_receipts;
    c->offsets = calloc((size_t)n_receipts + 1, sizeof *c->offsets);
    c->items = calloc((size_t)n_receipts * 6, sizeof *c->items);
    c->weights = calloc((size_t)n_receipts * 6, sizeof *c->weights);
    c->split_hash = calloc((size_t)n_receipts + 1, sizeof *c->split_hash);
    c->city = calloc((size_t)n_receipts + 1, sizeof *c->city);
    c->ts = calloc((size_t)n_receipts + 1, sizeof *c->ts);
    c->receipt_id = calloc((size_t)n_receipts + 1, sizeof *c->receipt_id);
    c->item_category = calloc(N_ITEMS, sizeof *c->item_category);
    for (int i = 0; i < N_ITEMS; i++)
        c->item_category[i] = i / (N_ITEMS / N_CATS);
    uint32_t x = seed;
#define NEXT() (x = x * 1664525u + 1013904223u, x >> 8)
    int64_t at = 0;
    for (int r = 0; r < n_receipts; r++) {
        int cat = (int)(NEXT() % N_CATS), n = 2 + (int)(NEXT() % 4);
        uint8_t have[N_ITEMS] = {0};
        for (int k = 0; k < n; k++) {
            int cc = NEXT() % 4 == 0 ? (cat + 1) % N_CATS : cat;
            have[cc * (N_ITEMS / N_CATS) + (int)(NEXT() % (N_ITEMS / N_CATS))] = 1;
        }
        for (int i = 0; i < N_ITEMS; i++)
            if (have[i]) {
                c->items[at] = i;
                c->weights[at++] = 1.0f;
            }
        c->offsets[r + 1] = at;
        c->receipt_id[r] = r + 1;
        c->split_hash[r] = (uint64_t)r;
        c->ts[r] = INT64_MIN;
    }
#undef NEXT
    return c;
}

static void test_table(void)
{
    CHECK(RS_N_KINDS >= 1);
    for (int i = 0; i < RS_N_KINDS; i++) {
        const rs_kind *k = &RS_KINDS[i];
        CHECK(k->name && k->name[0] && strlen(k->name) < 16); /* the registry's limit */
        CHECK(k->title && k->title[0] && k->label && k->label[0]);
        CHECK(k->params && k->fit);
        CHECK(rs_kind_find(k->name) == k);
        CHECK_EQ_INT(rs_kind_index(k->name), i);
        CHECK(strstr(rs_kind_names(), k->name) != NULL);
        CHECK(k->params->size <= RS_PARAMS_SLOT_BYTES);
        CHECK(k->n_metrics >= 1);
        rs_rank_metrics probe = {.k = 10};
        for (int m = 0; m < k->n_metrics; m++) {
            double v;
            CHECK(rs_rank_metric_get(&probe, k->metrics[m].key, &v) == 0);
            CHECK(k->metrics[m].label && k->metrics[m].label[0]);
        }
        for (int j = 0; j < i; j++)
            CHECK(strcmp(RS_KINDS[j].name, k->name) != 0);
        if (k->comp >= 0) {
            CHECK(k->comp < RS_COMP_N && k->parts != NULL);
            CHECK(rs_kind_for_method(k->baskets, k->comp) != NULL);
        }
    }
    CHECK(rs_kind_find("no such kind") == NULL);
    rs_rank_metrics probe = {.k = 10};
    double v;
    CHECK(rs_rank_metric_get(&probe, RS_SELECT_DEFAULT, &v) == 0);
}

/* Every parameter of every group: unique name, settable at both ends of its range,
 * refused beyond them, a grid key; the group's JSON parses and reads back the same. */
static void test_params(void)
{
    rs_train_params p, q;
    rs_error e = {0};
    for (int i = 0; i < RS_N_KINDS; i++) {
        const rs_param_group *g = RS_KINDS[i].params;
        for (int d = 0; d < g->n_defs; d++) {
            const rs_param_def *def = &g->defs[d];
            const rs_param_group *found = NULL;
            CHECK(rs_param_known(def->name, &found) && found == g);
            CHECK(strcmp(def->name, "seed") != 0);
            for (int j = 0; j < RS_N_KINDS; j++) /* unique over other groups */
                if (RS_KINDS[j].params != g)
                    for (int o = 0; o < RS_KINDS[j].params->n_defs; o++)
                        CHECK(strcmp(RS_KINDS[j].params->defs[o].name, def->name) != 0);
            rs_train_params_defaults(&p);
            CHECK_EQ_INT(rs_param_set(&p, def->name, def->lo, &e), RS_OK);
            CHECK_EQ_INT(rs_param_set(&p, def->name, def->hi, &e), RS_OK);
            double beyond = def->hi + (def->hi > 0 ? def->hi : 1.0);
            CHECK_EQ_INT(rs_param_set(&p, def->name, beyond, &e), RS_EUSAGE);
            CHECK(strstr(e.msg, def->name) != NULL);
            CHECK_EQ_INT(rs_param_set(&p, def->name, NAN, &e), RS_EUSAGE);
            char text[128];
            snprintf(text, sizeof text, "{\"%s\": [%.17g]}", def->name, def->lo);
            rs_grid *grid = NULL;
            CHECK_EQ_INT(rs_grid_parse(text, "t.json", &grid, &e), RS_OK);
            CHECK_EQ_INT(rs_grid_count(grid, g), 1);
            CHECK(rs_grid_has_group(grid, g));
            rs_grid_free(grid);
        }
        /* JSON round trip at non-default values: every parameter at its low end */
        rs_train_params_defaults(&p);
        for (int d = 0; d < g->n_defs; d++)
            rs_param_set(&p, g->defs[d].name, g->defs[d].lo, &e);
        rs_params_set_seed(&p, 12345);
        char *js = rs_params_json(&p, g);
        CHECK(js != NULL);
        cJSON *o = js ? cJSON_Parse(js) : NULL;
        CHECK(cJSON_IsObject(o));
        CHECK_EQ_INT(cJSON_GetArraySize(o), g->n_defs + (g->seed_offset >= 0));
        cJSON_Delete(o);
        rs_train_params_defaults(&q);
        rs_params_apply_json(&q, js);
        char *js2 = rs_params_json(&q, g);
        CHECK_STR(js2, js);
        free(js);
        free(js2);
    }
}

static void test_fit_and_score(void)
{
    rs_corpus *all = tiny_corpus(400, 7), *train = NULL, *test = NULL;
    rs_corpus *ctrain = NULL, *ctest = NULL;
    rs_eval_queries *q = NULL, *cq = NULL;
    rs_error e = {0};
    CHECK(all != NULL);
    if (!all)
        return;
    uint8_t keep[400];
    for (int r = 0; r < 400; r++)
        keep[r] = r % 5 != 0;
    CHECK_EQ_INT(rs_corpus_filter(all, keep, &train, &e), RS_OK);
    for (int r = 0; r < 400; r++)
        keep[r] = r % 5 == 0;
    CHECK_EQ_INT(rs_corpus_filter(all, keep, &test, &e), RS_OK);
    CHECK_EQ_INT(rs_corpus_categories(train, &ctrain, &e), RS_OK);
    CHECK_EQ_INT(rs_corpus_categories(test, &ctest, &e), RS_OK);
    CHECK_EQ_INT(rs_eval_queries_build(train, test, &q, &e), RS_OK);
    CHECK_EQ_INT(rs_eval_queries_build(ctrain, ctest, &cq, &e), RS_OK);
    for (int i = 0; q && cq && i < RS_N_KINDS; i++) {
        const rs_kind *k = &RS_KINDS[i];
        int cat = k->baskets == RS_BASKETS_CATEGORIES;
        const rs_corpus *tr = cat ? ctrain : train;
        rs_train_params p;
        rs_train_params_defaults(&p);
        rs_embedding *m = NULL;
        int rc = rs_kind_fit(k, tr, &p, NULL, &m, &e);
        if (rc)
            test_fail_at(__FILE__, __LINE__, "%s: fit failed: %s", k->name, e.msg);
        else
            test_passed++;
        if (!m)
            continue;
        CHECK(m->rows > 0 && m->rows <= tr->n_items && m->dim > 0);
        CHECK_EQ_INT(m->n_items, tr->n_items);
        CHECK_EQ_INT(rs_embedding_check_finite(m, k->name, &e), RS_OK);
        if (k->comp >= 0) {
            rs_rank_metrics met;
            CHECK_EQ_INT(rs_eval_kind(tr, cat ? cq : q, k, m, &p, 10, &met, &e), RS_OK);
            CHECK(met.n_queries > 0);
            CHECK(met.hr > 0.0 && met.hr <= 1.0);
            CHECK(met.ndcg > 0.0 && met.ndcg <= met.hr);
        }
        rs_embedding_free(m);
    }
    rs_eval_queries_free(q);
    rs_eval_queries_free(cq);
    rs_corpus_free(all);
    rs_corpus_free(train);
    rs_corpus_free(test);
    rs_corpus_free(ctrain);
    rs_corpus_free(ctest);
}

/* rs_kind_fit refuses a model with non-finite values whatever the trainer did. */
static int fit_nan(const rs_corpus *c, const void *params, const rs_fit_opts *o,
                   rs_embedding **out, rs_error *e)
{
    int rc = RS_KINDS[0].fit(c, params, o, out, e);
    if (!rc && *out)
        (*out)->in[0] = NAN;
    return rc;
}

static void test_nonfinite_refused(void)
{
    rs_corpus *c = tiny_corpus(100, 3);
    rs_kind k = RS_KINDS[0];
    k.fit = fit_nan;
    rs_train_params p;
    rs_train_params_defaults(&p);
    rs_embedding *m = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_kind_fit(&k, c, &p, NULL, &m, &e), RS_EDATA);
    CHECK(m == NULL);
    CHECK(strstr(e.msg, "non-finite") != NULL);
    rs_corpus_free(c);
}

int main(void)
{
    test_table();
    test_params();
    test_fit_and_score();
    test_nonfinite_refused();
    return test_summary();
}
