/* test_glove.c - GloVe over receipts (core/glove.h): the co-occurrence counts of a hand
 * corpus, bit-identical fits with one thread and a fixed seed, the loss going down,
 * the folded layout (in . out = the symmetric estimate of log X less the context's own
 * bias) and a planted partner found by in . out. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/completion.h"
#include "../core/glove.h"
#include "../core/kinds.h"
#include "testlib.h"

/* A corpus from receipts given as -1-terminated lists (ascending items). */
static rs_corpus *make_corpus(int n_items, const int *lists, int n_receipts)
{
    rs_corpus *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    int total = 0;
    for (int r = 0, at = 0; r < n_receipts; r++, at++)
        for (; lists[at] >= 0; at++)
            total++;
    c->n_items = n_items;
    c->n_receipts = n_receipts;
    c->offsets = calloc((size_t)n_receipts + 1, sizeof *c->offsets);
    c->items = calloc((size_t)total + 1, sizeof *c->items);
    c->weights = calloc((size_t)total + 1, sizeof *c->weights);
    c->split_hash = calloc((size_t)n_receipts + 1, sizeof *c->split_hash);
    c->city = calloc((size_t)n_receipts + 1, sizeof *c->city);
    c->ts = calloc((size_t)n_receipts + 1, sizeof *c->ts);
    c->receipt_id = calloc((size_t)n_receipts + 1, sizeof *c->receipt_id);
    int64_t p = 0;
    for (int r = 0, at = 0; r < n_receipts; r++, at++) {
        for (; lists[at] >= 0; at++) {
            c->items[p] = lists[at];
            c->weights[p++] = 1.0f;
        }
        c->offsets[r + 1] = p;
        c->receipt_id[r] = r + 1;
        c->split_hash[r] = (uint64_t)r;
        c->ts[r] = INT64_MIN;
    }
    return c;
}

/* Receipts of a planted world: 40 items, item 2k and 2k+1 are partners (bought
 * together), otherwise random pairs, from a fixed linear congruential stream. */
static rs_corpus *planted_corpus(int n_receipts)
{
    enum { N = 40 };
    int *lists = malloc((size_t)n_receipts * 8 * sizeof *lists);
    if (!lists)
        return NULL;
    uint32_t x = 12345;
#define NEXT() (x = x * 1664525u + 1013904223u, x >> 8)
    int at = 0;
    for (int r = 0; r < n_receipts; r++) {
        uint8_t have[N] = {0};
        int a = (int)(NEXT() % (N / 2)) * 2;
        have[a] = have[a + 1] = 1;
        have[NEXT() % N] = 1; /* one unrelated item */
        for (int i = 0; i < N; i++)
            if (have[i])
                lists[at++] = i;
        lists[at++] = -1;
    }
#undef NEXT
    rs_corpus *c = make_corpus(N, lists, n_receipts);
    free(lists);
    return c;
}

static void test_cooc(void)
{
    const int lists[] = {0, 1, 2, -1, 0, 1, -1, 2, 3, -1, 4, -1};
    rs_corpus *c = make_corpus(5, lists, 4);
    int32_t item_row[5] = {0, 1, 2, 3, 4};
    rs_glove_cooc *x = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_glove_cooc_build(c, item_row, 5, &x, &e), RS_OK);
    if (!x) {
        rs_corpus_free(c);
        return;
    }
    /* row 0: 1 (2 receipts), 2 (1); row 1: 0 (2), 2 (1); row 2: 0, 1, 3 (1 each);
     * row 3: 2 (1); row 4: nothing */
    const int64_t off[6] = {0, 2, 4, 7, 8, 8};
    const int32_t col[8] = {1, 2, 0, 2, 0, 1, 3, 2};
    const float val[8] = {2, 1, 2, 1, 1, 1, 1, 1};
    for (int a = 0; a <= 5; a++)
        CHECK_EQ_INT(x->off[a], off[a]);
    for (int q = 0; q < 8 && x->off[5] == 8; q++) {
        CHECK_EQ_INT(x->col[q], col[q]);
        CHECK_NEAR(x->x[q], val[q], 0);
    }
    rs_glove_cooc_free(x);
    rs_corpus_free(c);
}

static void test_deterministic(void)
{
    rs_corpus *c = planted_corpus(600);
    rs_glove_params p;
    rs_glove_defaults(&p);
    p.dim = 8;
    p.epochs = 5;
    p.seed = 7;
    rs_embedding *a = NULL, *b = NULL, *d = NULL;
    rs_error e = {0};
    double la = 0, lb = 0;
    CHECK_EQ_INT(rs_glove_fit(c, &p, NULL, NULL, &a, &la, &e), RS_OK);
    CHECK_EQ_INT(rs_glove_fit(c, &p, NULL, NULL, &b, &lb, &e), RS_OK);
    p.seed = 8;
    CHECK_EQ_INT(rs_glove_fit(c, &p, NULL, NULL, &d, NULL, &e), RS_OK);
    if (a && b && d) {
        size_t n = (size_t)a->rows * (size_t)a->dim * sizeof(float);
        CHECK_EQ_INT(a->dim, 2 * 8 + 1);
        CHECK(memcmp(a->in, b->in, n) == 0);
        CHECK(memcmp(a->out, b->out, n) == 0);
        CHECK(la == lb);
        CHECK(memcmp(a->in, d->in, n) != 0); /* another seed, another model */
        /* the folded layout: in ends in 1; out is half of the other vectors */
        for (int32_t r = 0; r < a->rows; r++) {
            const float *in = a->in + (size_t)r * (size_t)a->dim;
            const float *out = a->out + (size_t)r * (size_t)a->dim;
            CHECK(in[16] == 1.0f);
            CHECK(out[0] == 0.5f * in[8] && out[8] == 0.5f * in[0]);
        }
    }
    rs_embedding_free(a);
    rs_embedding_free(b);
    rs_embedding_free(d);
    rs_corpus_free(c);
}

static void test_loss_and_partners(void)
{
    rs_corpus *c = planted_corpus(2000);
    rs_glove_params p;
    rs_glove_defaults(&p);
    p.dim = 16;
    p.epochs = 1;
    rs_embedding *m1 = NULL, *m = NULL;
    rs_error e = {0};
    double l1 = 0, l30 = 0;
    CHECK_EQ_INT(rs_glove_fit(c, &p, NULL, NULL, &m1, &l1, &e), RS_OK);
    p.epochs = 30;
    CHECK_EQ_INT(rs_glove_fit(c, &p, NULL, NULL, &m, &l30, &e), RS_OK);
    CHECK(l30 < 0.5 * l1);
    /* in . out of item a ranks its partner first for (nearly) every item */
    int found = 0;
    float sc[40];
    for (int32_t a = 0; m && a < 40; a++) {
        CHECK(rs_embedding_score_inout(m, &a, 1, sc) == 1);
        int32_t best = -1;
        for (int32_t j = 0; j < 40; j++)
            if (j != a && (best < 0 || sc[j] > sc[best]))
                best = j;
        found += best == (a ^ 1);
    }
    CHECK(found >= 38);
    /* the completion method glove scores like in . out */
    rs_completion_parts parts;
    memset(&parts, 0, sizeof parts);
    parts.n_items = 40;
    parts.glove = m;
    parts.weights[RS_COMP_GLOVE] = 1.0;
    rs_completion *comp = NULL;
    if (m && rs_completion_from_parts(&parts, &comp, &e) == RS_OK) {
        float s2[40];
        int32_t ctx[2] = {4, 9};
        float s1[40];
        rs_embedding_score_inout(m, ctx, 2, s1);
        CHECK_EQ_INT(rs_completion_score(comp, ctx, 2, s2), 2);
        CHECK(isinf(s2[4]) && isinf(s2[9]));
        CHECK(s2[5] == s1[5] && s2[20] == s1[20]);
        CHECK_STR(rs_completion_name(comp), "glove");
    } else {
        CHECK(0);
    }
    rs_completion_close(comp);
    rs_embedding_free(m1);
    rs_embedding_free(m);
    rs_corpus_free(c);
}

static void test_kind_row(void)
{
    const rs_kind *k = rs_kind_find("glove");
    CHECK(k != NULL);
    if (!k)
        return;
    CHECK(k->params == &RS_GLOVE_PARAMS && k->comp == RS_COMP_GLOVE);
    rs_train_params tp;
    rs_error e = {0};
    rs_train_params_defaults(&tp);
    CHECK_EQ_INT(rs_param_set(&tp, "glove_xmax", 50, &e), RS_OK);
    CHECK_EQ_INT(rs_param_set(&tp, "glove_dim", 0, &e), RS_EUSAGE);
    const rs_glove_params *gp = rs_params_cget(&tp, &RS_GLOVE_PARAMS);
    CHECK(gp->x_max == 50 && gp->dim == 32 && gp->epochs == 25);
}

int main(void)
{
    test_cooc();
    test_deterministic();
    test_loss_and_partners();
    test_kind_row();
    return test_summary();
}
