/* test_ease_paths.c - EASE through the direct n x n inverse and through the Woodbury
 * identity (receipt side, m x m) give the same B, checked against numpy (float64). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/corpus.h"
#include "../core/ease.h"
#include "testlib.h"

/* flat: item indices, -1 ends a receipt, -2 ends the list. */
static rs_corpus *make_corpus(int32_t n_items, const int32_t *flat, int n_receipts)
{
    rs_corpus *c = calloc(1, sizeof *c);
    int64_t total = 0;
    for (const int32_t *p = flat; *p != -2; p++)
        total += *p >= 0;
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
        c->weights[at] = 1.0f;
        c->items[at++] = *p;
    }
    return c;
}

static void check_b(const rs_embedding *m, const double *B, int n, double tol)
{
    for (int i = 0; i < n * n; i++)
        CHECK_NEAR(m->in[i], B[i], tol);
}

/* Fewer receipts (3 with items; one is empty) than items (5 bought, item 5 never):
 * rs_ease_fit picks the Woodbury path. */
static void test_wide(void)
{
    const int32_t flat[] = {0, 1, 2, -1, 1, 2, 3, -1, -1, 3, 4, -1, -2};
    rs_corpus *c = make_corpus(6, flat, 4);
    /* numpy float64: X = [[1,1,1,0,0],[0,1,1,1,0],[0,0,0,0,0],[0,0,0,1,1]];
     * P = inv(XᵀX + 2I); B = P / -diag(P); diag(B) = 0 */
    static const double B[25] = {
        0.0,          0.196428571,  0.196428571,  -0.125,      0.034482759,
        0.183333333,  0.0,          0.410714286,  0.1875,      -0.051724138,
        0.183333333,  0.410714286,  0.0,          0.1875,      -0.051724138,
        -0.1,         0.160714286,  0.160714286,  0.0,         0.275862069,
        0.033333333,  -0.053571429, -0.053571429, 0.333333333, 0.0,
    };
    rs_error e = {0};
    const rs_ease_path paths[3] = {RS_EASE_AUTO, RS_EASE_DIRECT, RS_EASE_WOODBURY};
    for (int k = 0; k < 3; k++) {
        rs_embedding *m = NULL;
        CHECK_EQ_INT(rs_ease_fit_path(c, 2.0, 1, 0, paths[k], &m, &e), RS_OK);
        if (!m)
            continue;
        CHECK_EQ_INT(m->rows, 5);
        CHECK_EQ_INT(m->item_row[5], -1);
        check_b(m, B, 5, 1e-5);
        rs_embedding_free(m);
    }
    rs_corpus_free(c);
}

/* min count 2 on the same corpus: items 0 and 4 (one receipt each) leave the
 * vocabulary; the fit is EASE over items 1..3 (X = [[1,1,0],[1,1,1],[0,0,0],[0,0,1]]),
 * and the receipt {3, 4} keeps only item 3. */
static void test_min_count(void)
{
    const int32_t flat[] = {0, 1, 2, -1, 1, 2, 3, -1, -1, 3, 4, -1, -2};
    rs_corpus *c = make_corpus(6, flat, 4);
    static const double B[9] = {
        0.0,         0.466666667, 0.166666667,
        0.466666667, 0.0,         0.166666667,
        0.133333333, 0.133333333, 0.0,
    };
    rs_error e = {0};
    const rs_ease_path paths[3] = {RS_EASE_AUTO, RS_EASE_DIRECT, RS_EASE_WOODBURY};
    for (int k = 0; k < 3; k++) {
        rs_embedding *m = NULL;
        CHECK_EQ_INT(rs_ease_fit_path(c, 2.0, 2, 0, paths[k], &m, &e), RS_OK);
        if (!m)
            continue;
        CHECK_EQ_INT(m->rows, 3);
        CHECK_EQ_INT(m->item_row[0], -1);
        CHECK_EQ_INT(m->item_row[4], -1);
        CHECK_EQ_INT(m->row_item[0], 1);
        check_b(m, B, 3, 1e-5);
        /* a context of items outside the vocabulary scores nothing but 0 */
        float s[6];
        int32_t ctx[] = {0, 1};
        CHECK_EQ_INT(rs_ease_score(m, ctx, 2, s), 1);
        CHECK_NEAR(s[2], B[1], 1e-5);
        CHECK_NEAR(s[3], B[2], 1e-5);
        CHECK(s[0] == -INFINITY && s[4] == -INFINITY && s[5] == -INFINITY);
        /* nothing known: popularity order, 0.001 * log(1 + count) (counts 2, 2, 2) */
        int32_t rare[] = {0, 4};
        CHECK_EQ_INT(rs_ease_score(m, rare, 2, s), 0);
        CHECK_NEAR(s[1], 1e-3 * log(3.0), 1e-7);
        CHECK_NEAR(s[3], 1e-3 * log(3.0), 1e-7);
        CHECK(s[0] == -INFINITY);
        rs_embedding_free(m);
    }
    rs_embedding *m = NULL;
    CHECK_EQ_INT(rs_ease_fit_path(c, 2.0, 3, 0, RS_EASE_AUTO, &m, &e), RS_EDATA);
    CHECK(m == NULL);
    CHECK_EQ_INT(rs_ease_fit_path(c, 2.0, 0, 0, RS_EASE_AUTO, &m, &e), RS_EUSAGE);
    rs_corpus_free(c);
}

/* More receipts than items (test_baselines' corpus): the forced Woodbury path gives
 * the direct path's B. */
static void test_tall(void)
{
    const int32_t flat[] = {0, 1, -1, 0, 1, 2, -1, 1, 2, -1, 0, 3, -1, 1, 3, -1, 0, 1, 3, -1, -2};
    rs_corpus *c = make_corpus(5, flat, 6);
    static const double B[16] = {
        0.000000000, 0.357487923, 0.057507987, 0.304932735,
        0.383419689, 0.000000000, 0.434504792, 0.340807175,
        0.093264249, 0.657004831, 0.000000000, -0.394618834,
        0.352331606, 0.367149758, -0.281150160, 0.000000000,
    };
    rs_error e = {0};
    rs_embedding *m = NULL;
    CHECK_EQ_INT(rs_ease_fit_path(c, 0.5, 1, 0, RS_EASE_WOODBURY, &m, &e), RS_OK);
    if (m)
        check_b(m, B, 4, 1e-4);
    rs_embedding_free(m);
    rs_corpus_free(c);
}

/* A wider random corpus: both paths agree element by element. */
static void test_random(void)
{
    enum { N = 60, R = 25 };
    int32_t flat[R * 9 + 1];
    int at = 0;
    uint32_t x = 12345;
    for (int r = 0; r < R; r++) {
        int used[N] = {0};
        int len = 2 + r % 7;
        for (int k = 0; k < len; k++) {
            x = x * 1664525u + 1013904223u;
            int it = (int)((x >> 8) % N);
            if (!used[it]) {
                used[it] = 1;
                flat[at++] = it;
            }
        }
        flat[at++] = -1;
    }
    flat[at] = -2;
    rs_corpus *c = make_corpus(N, flat, R);
    rs_error e = {0};
    rs_embedding *a = NULL, *b = NULL;
    CHECK_EQ_INT(rs_ease_fit_path(c, 3.0, 1, 0, RS_EASE_DIRECT, &a, &e), RS_OK);
    CHECK_EQ_INT(rs_ease_fit_path(c, 3.0, 1, 0, RS_EASE_WOODBURY, &b, &e), RS_OK);
    if (a && b) {
        CHECK_EQ_INT(a->rows, b->rows);
        double worst = 0.0;
        for (int64_t i = 0; i < (int64_t)a->rows * a->rows; i++)
            worst = fmax(worst, fabs((double)a->in[i] - (double)b->in[i]));
        CHECK(worst < 1e-4);
    }
    rs_embedding_free(a);
    rs_embedding_free(b);
    rs_corpus_free(c);
}

int main(void)
{
    test_wide();
    test_min_count();
    test_tall();
    test_random();
    return test_summary();
}
