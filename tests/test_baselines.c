/* test_baselines.c - item-item, EASE and ALS on tiny hand-made data with known answers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/als.h"
#include "../core/corpus.h"
#include "../core/ease.h"
#include "../core/knn.h"
#include "../core/kinds.h"
#include "testlib.h"

/* A corpus from receipts given as -1-terminated item lists. */
static rs_corpus *make_corpus(int32_t n_items, const int32_t *flat, int n_receipts)
{
    rs_corpus *c = calloc(1, sizeof *c);
    int64_t total = 0;
    for (const int32_t *p = flat; total < 100000; p++) {
        if (*p == -2)
            break;
        total += *p >= 0;
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
    }
    return c;
}

static void test_knn(void)
{
    /* {0,1} {0,1,2} {1,2} {3}: n = 2,3,2,1; co(0,1) = 2, co(0,2) = 1, co(1,2) = 2 */
    const int32_t flat[] = {0, 1, -1, 0, 1, 2, -1, 1, 2, -1, 3, -1, -2};
    rs_corpus *c = make_corpus(5, flat, 4);
    rs_knn *k = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_knn_build(c, &k, &e), RS_OK);
    CHECK_EQ_INT(rs_knn_count(k, 1), 3);
    CHECK_EQ_INT(rs_knn_cooc(k, 0, 1), 2);
    CHECK_EQ_INT(rs_knn_cooc(k, 2, 0), 1);
    CHECK_EQ_INT(rs_knn_cooc(k, 0, 3), 0);
    CHECK_EQ_INT(rs_knn_cooc(k, 0, 0), 0);
    CHECK_NEAR(rs_knn_sim(k, 0, 1), 2 / sqrt(6.0), 1e-6);
    CHECK_NEAR(rs_knn_sim(k, 0, 2), 0.5, 1e-6);
    CHECK_EQ_INT(rs_knn_nnz(k), 6);
    float s[5];
    int32_t ctx[] = {0, 2};
    CHECK_EQ_INT(rs_knn_score(k, ctx, 2, s), 2);
    CHECK_NEAR(s[1], 2 / sqrt(6.0) + 2 / sqrt(6.0), 1e-6);
    CHECK_NEAR(s[0], 0.5, 1e-6); /* from item 2 */
    CHECK_NEAR(s[2], 0.5, 1e-6); /* from item 0 */
    CHECK(s[3] == -INFINITY);    /* never bought with the context */
    CHECK(s[4] == -INFINITY);    /* never bought */
    int32_t unknown[] = {4, 7, -3};
    CHECK_EQ_INT(rs_knn_score(k, unknown, 3, s), 0);
    rs_knn_free(k);
    rs_corpus_free(c);
}

static void test_ease(void)
{
    /* X rows: {0,1} {0,1,2} {1,2} {0,3} {1,3} {0,1,3}; item 4 never bought */
    const int32_t flat[] = {0, 1, -1, 0, 1, 2, -1, 1, 2, -1, 0, 3, -1, 1, 3, -1, 0, 1, 3, -1, -2};
    rs_corpus *c = make_corpus(5, flat, 6);
    rs_embedding *m = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_ease_fit(c, 0.5, 0, &m, &e), RS_OK);
    if (!m) {
        rs_corpus_free(c);
        return;
    }
    CHECK_EQ_INT(m->rows, 4);
    CHECK_EQ_INT(m->dim, 4);
    CHECK_EQ_INT(m->item_row[4], -1);
    /* numpy, float64: G = XᵀX + 0.5 I; P = inv(G); B = P / -diag(P); diag(B) = 0 */
    static const double B[16] = {
        0.000000000, 0.357487923, 0.057507987, 0.304932735,
        0.383419689, 0.000000000, 0.434504792, 0.340807175,
        0.093264249, 0.657004831, 0.000000000, -0.394618834,
        0.352331606, 0.367149758, -0.281150160, 0.000000000,
    };
    for (int i = 0; i < 16; i++)
        CHECK_NEAR(m->in[i], B[i], 1e-5);
    float s[5];
    int32_t ctx[] = {0, 2};
    CHECK_EQ_INT(rs_ease_score(m, ctx, 2, s), 2);
    CHECK_NEAR(s[1], B[1] + B[9], 1e-5);
    CHECK_NEAR(s[3], B[3] + B[11], 1e-5);
    CHECK(s[4] == -INFINITY);
    rs_embedding_free(m);
    m = NULL;
    /* the cap and lambda are checked */
    CHECK_EQ_INT(rs_ease_fit(c, 0.5, 3, &m, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "cap") != NULL);
    CHECK_EQ_INT(rs_ease_fit(c, 0.0, 0, &m, &e), RS_EUSAGE);
    CHECK(m == NULL);
    /* the kind keeps the most frequent items (counts 4 5 2 3 0): a cap of 3 leaves
     * item 2 out, of 2 items 2 and 3, of 4 or more nothing */
    int64_t mc = 0;
    CHECK_EQ_INT(rs_ease_auto_min_count(c, 3, &mc, &e), RS_OK);
    CHECK_EQ_INT(mc, 3);
    CHECK_EQ_INT(rs_ease_auto_min_count(c, 2, &mc, &e), RS_OK);
    CHECK_EQ_INT(mc, 4);
    CHECK_EQ_INT(rs_ease_auto_min_count(c, 4, &mc, &e), RS_OK);
    CHECK_EQ_INT(mc, 1);
    rs_ease_params ep = {0.5};
    rs_fit_opts fo = {3, NULL, NULL};
    rs_embedding *capped = NULL, *ref = NULL;
    CHECK_EQ_INT(rs_ease_fit_kind(c, &ep, &fo, &capped, &e), RS_OK);
    CHECK_EQ_INT(rs_ease_fit_path(c, 0.5, 3, 0, RS_EASE_AUTO, &ref, &e), RS_OK);
    if (capped && ref) {
        CHECK_EQ_INT(capped->rows, 3);
        CHECK_EQ_INT(capped->item_row[2], -1);
        CHECK_EQ_INT(ref->rows, 3);
        for (int i = 0; i < 9; i++)
            CHECK_NEAR(capped->in[i], ref->in[i], 1e-7);
    }
    rs_embedding_free(capped);
    rs_embedding_free(ref);
    rs_corpus_free(c);
}

/* Solves the fold-in system in double by Gaussian elimination (independent of LAPACK). */
static void foldin_ref(const rs_embedding *m, const int32_t *ctx, int n, double lambda,
                       double alpha, double *scores)
{
    int f = m->dim;
    double *A = calloc((size_t)f * f, sizeof *A), *b = calloc((size_t)f, sizeof *b);
    for (int r = 0; r < m->rows; r++)
        for (int i = 0; i < f; i++)
            for (int j = 0; j < f; j++)
                A[i * f + j] += (double)m->in[r * f + i] * m->in[r * f + j];
    for (int i = 0; i < f; i++)
        A[i * f + i] += lambda;
    for (int t = 0; t < n; t++) {
        const float *y = m->in + (size_t)m->item_row[ctx[t]] * f;
        for (int i = 0; i < f; i++) {
            b[i] += (1 + alpha) * y[i];
            for (int j = 0; j < f; j++)
                A[i * f + j] += alpha * y[i] * y[j];
        }
    }
    for (int col = 0; col < f; col++) {
        for (int row = col + 1; row < f; row++) {
            double q = A[row * f + col] / A[col * f + col];
            for (int j = col; j < f; j++)
                A[row * f + j] -= q * A[col * f + j];
            b[row] -= q * b[col];
        }
    }
    for (int i = f - 1; i >= 0; i--) {
        for (int j = i + 1; j < f; j++)
            b[i] -= A[i * f + j] * b[j];
        b[i] /= A[i * f + i];
    }
    for (int r = 0; r < m->rows; r++) {
        double s = 0;
        for (int i = 0; i < f; i++)
            s += b[i] * m->in[r * f + i];
        scores[m->row_item[r]] = s;
    }
    free(A);
    free(b);
}

static void test_als(void)
{
    /* two disjoint groups bought together: {0,1,2} and {3,4,5}, 20 receipts each, in
     * pairs and triples; item 6 never bought */
    int32_t flat[200];
    int at = 0, nr = 0;
    for (int r = 0; r < 40; r++) {
        int base = (r % 2) ? 3 : 0;
        int skip = (r / 2) % 4; /* 0..2: drop that member; 3: full triple */
        for (int j = 0; j < 3; j++)
            if (j != skip)
                flat[at++] = base + j;
        flat[at++] = -1;
        nr++;
    }
    flat[at] = -2;
    rs_corpus *c = make_corpus(7, flat, nr);
    rs_als_params p;
    rs_als_defaults(&p);
    p.factors = 2; /* two blocks: two factors (numpy gives 1 and 2 ~0.72, 3..5 ~0) */
    p.iters = 10;
    p.lambda = 1.0;
    p.alpha = 5;
    rs_embedding *m = NULL, *m2 = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_als_fit(c, &p, &m, &e), RS_OK);
    CHECK_EQ_INT(rs_als_fit(c, &p, &m2, &e), RS_OK);
    if (!m || !m2)
        goto done;
    CHECK_EQ_INT(m->rows, 6);
    CHECK_EQ_INT(m->item_row[6], -1);
    /* deterministic for a seed */
    CHECK(memcmp(m->in, m2->in, (size_t)m->rows * m->dim * sizeof(float)) == 0);
    rs_als_scorer *sc = NULL;
    CHECK_EQ_INT(rs_als_scorer_new(m, p.lambda, p.alpha, &sc, &e), RS_OK);
    float s[7];
    double ref[7];
    int32_t ctx[] = {0};
    CHECK_EQ_INT(rs_als_score(sc, ctx, 1, s), 1);
    /* the known answer: 1 and 2 go with 0, the other group does not */
    for (int other = 3; other < 6; other++) {
        CHECK(s[1] > s[other] + 0.3);
        CHECK(s[2] > s[other] + 0.3);
    }
    CHECK(s[6] == -INFINITY);
    /* fold-in equals an independent double-precision solve */
    foldin_ref(m, ctx, 1, p.lambda, p.alpha, ref);
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(s[i], ref[i], 1e-3 * (1 + fabs(ref[i])));
    int32_t ctx2[] = {4, 5};
    rs_als_score(sc, ctx2, 2, s);
    foldin_ref(m, ctx2, 2, p.lambda, p.alpha, ref);
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(s[i], ref[i], 1e-3 * (1 + fabs(ref[i])));
    CHECK(s[3] > s[0] && s[3] > s[1] && s[3] > s[2]);
    rs_als_scorer_free(sc);
    p.factors = 0;
    rs_embedding *bad = NULL;
    CHECK_EQ_INT(rs_als_fit(c, &p, &bad, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "als_factors") != NULL);
done:
    rs_embedding_free(m);
    rs_embedding_free(m2);
    rs_corpus_free(c);
}

/* Issue 11 item 6: event weights far beyond counts (1e38 overflows the confidence;
 * 1e10..1e30 made the float32 solves fail with "info 3", 1e38 an all-NaN model that
 * was registered).  Every kind's fit either gives finite factors or refuses with a
 * message that says why; none returns a non-finite model. */
static void i11_06_huge_event_weights(void)
{
    int32_t flat[400];
    int at = 0, nr = 0;
    for (int r = 0; r < 60; r++) {
        for (int j = 0; j < 3; j++)
            flat[at++] = (r + j) % 7;
        flat[at++] = -1;
        nr++;
    }
    flat[at] = -2;
    const double huge[] = {1e38, 3e37, 1e30, 1e20, 1e10};
    for (size_t h = 0; h < sizeof huge / sizeof huge[0]; h++) {
        rs_corpus *c = make_corpus(7, flat, nr);
        for (int64_t q = 0; q < c->offsets[c->n_receipts]; q++)
            c->weights[q] = q % 5 == 0 ? (float)huge[h] : 1.0f;
        for (int k = 0; k < RS_N_KINDS; k++) {
            rs_train_params p;
            rs_train_params_defaults(&p);
            rs_embedding *m = NULL;
            rs_error e = {0};
            int rc = rs_kind_fit(&RS_KINDS[k], c, &p, NULL, &m, &e);
            if (rc == RS_OK) {
                CHECK(m != NULL);
                if (m)
                    CHECK_EQ_INT(rs_embedding_check_finite(m, "t", &e), RS_OK);
            } else {
                CHECK(m == NULL);
                CHECK(rc == RS_EDATA);
                if (strcmp(RS_KINDS[k].name, "als") == 0 &&
                    !(strstr(e.msg, "weight") && strstr(e.msg, "ALS")))
                    test_fail_at(__FILE__, __LINE__, "weight %g: unclear ALS message: %s",
                                 huge[h], e.msg);
            }
            rs_embedding_free(m);
        }
        rs_corpus_free(c);
    }
}

int main(void)
{
    i11_06_huge_event_weights();
    test_knn();
    test_ease();
    test_als();
    return test_summary();
}
