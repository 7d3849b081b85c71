/* test_sgns.c - the SGNS trainer: determinism, vocabulary, learning a planted
 * structure, parameter checks, negative-sampling exponents, input.output scoring. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "rng.h"
#include "sgns.h"
#include "testlib.h"

/* A corpus of n_receipts receipts over n_items items: receipt r draws `len` distinct
 * items from group r % groups (items are split into `groups` equal blocks), so items
 * of one block co-occur and never with other blocks.  Item n_items - 1 is "rare":
 * it appears in exactly one receipt (for min_count). */
static rs_corpus *planted(int n_receipts, int n_items, int groups, int len, uint64_t seed)
{
    rs_corpus *c = calloc(1, sizeof *c);
    int64_t m = (int64_t)n_receipts * len + 1;
    c->n_items = n_items;
    c->n_receipts = n_receipts;
    c->offsets = calloc((size_t)n_receipts + 1, sizeof *c->offsets);
    c->items = calloc((size_t)m, sizeof *c->items);
    c->weights = calloc((size_t)m, sizeof *c->weights);
    c->split_hash = calloc((size_t)n_receipts, sizeof *c->split_hash);
    c->city = calloc((size_t)n_receipts, sizeof *c->city);
    c->ts = calloc((size_t)n_receipts, sizeof *c->ts);
    c->receipt_id = calloc((size_t)n_receipts, sizeof *c->receipt_id);
    int block = (n_items - 1) / groups;
    uint64_t x = seed;
    int64_t j = 0;
    for (int r = 0; r < n_receipts; r++) {
        c->offsets[r] = j;
        c->receipt_id[r] = r + 1;
        int g = r % groups;
        int chosen[64] = {0};
        int k = 0;
        while (k < len) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            int it = g * block + (int)((x >> 33) % (uint64_t)block);
            int dup = 0;
            for (int q = 0; q < k; q++)
                dup |= chosen[q] == it;
            if (!dup)
                chosen[k++] = it;
        }
        if (r == 0)
            chosen[len - 1] = n_items - 1; /* the rare item */
        /* ascending, as corpus.h promises */
        for (int a = 0; a < len; a++)
            for (int b = a + 1; b < len; b++)
                if (chosen[b] < chosen[a]) {
                    int t = chosen[a];
                    chosen[a] = chosen[b];
                    chosen[b] = t;
                }
        for (int q = 0; q < len; q++) {
            c->items[j] = chosen[q];
            c->weights[j++] = 1;
        }
    }
    c->offsets[n_receipts] = j;
    return c;
}

static rs_sgns_params small_params(void)
{
    rs_sgns_params p;
    rs_sgns_defaults(&p);
    p.dim = 16;
    p.epochs = 5;
    p.threads = 1;
    p.seed = 42;
    return p;
}

static void test_deterministic(void)
{
    rs_corpus *c = planted(400, 41, 4, 5, 7);
    rs_sgns_params p = small_params();
    rs_embedding *a = NULL, *b = NULL, *d = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_sgns_train(c, &p, NULL, NULL, &a, &e), RS_OK);
    CHECK_EQ_INT(rs_sgns_train(c, &p, NULL, NULL, &b, &e), RS_OK);
    p.seed = 43;
    CHECK_EQ_INT(rs_sgns_train(c, &p, NULL, NULL, &d, &e), RS_OK);
    if (a && b && d) {
        size_t n = (size_t)a->rows * (size_t)a->dim * sizeof(float);
        CHECK_EQ_INT(a->rows, 41);
        CHECK_EQ_INT(a->dim, 16);
        CHECK(memcmp(a->in, b->in, n) == 0);   /* bit-identical with one thread */
        CHECK(memcmp(a->out, b->out, n) == 0);
        CHECK(memcmp(a->in, d->in, n) != 0);   /* and the seed matters */
        CHECK(memcmp(a->out, d->out, n) != 0);
        /* the output matrix moved away from its zero start */
        double norm = 0;
        for (size_t i = 0; i < (size_t)a->rows * (size_t)a->dim; i++)
            norm += (double)a->out[i] * a->out[i];
        if (!(norm > 1e-3))
            test_fail_at(__FILE__, __LINE__, "output norm^2 %g", norm);
        else
            test_passed++;
    }
    /* shared negatives (one set per target and receipt) are deterministic too */
    p.seed = 42;
    p.shared_negatives = 1;
    rs_embedding *s1 = NULL, *s2 = NULL;
    CHECK_EQ_INT(rs_sgns_train(c, &p, NULL, NULL, &s1, &e), RS_OK);
    CHECK_EQ_INT(rs_sgns_train(c, &p, NULL, NULL, &s2, &e), RS_OK);
    if (s1 && s2 && a) {
        size_t n = (size_t)s1->rows * (size_t)s1->dim * sizeof(float);
        CHECK(memcmp(s1->out, s2->out, n) == 0);
        CHECK(memcmp(s1->out, a->out, n) != 0);
    }
    rs_embedding_free(a);
    rs_embedding_free(b);
    rs_embedding_free(d);
    rs_embedding_free(s1);
    rs_embedding_free(s2);
    rs_corpus_free(c);
}

static void test_vocabulary(void)
{
    rs_corpus *c = planted(200, 21, 2, 4, 3);
    rs_sgns_params p = small_params();
    p.min_count = 2;
    rs_embedding *m = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_sgns_train(c, &p, NULL, NULL, &m, &e), RS_OK);
    if (m) {
        CHECK_EQ_INT(m->n_items, 21);
        CHECK_EQ_INT(m->rows, 20);       /* the rare item is out */
        CHECK_EQ_INT(m->item_row[20], -1);
        int64_t counts[21];
        rs_corpus_item_counts(c, counts);
        for (int32_t r = 0; r < m->rows; r++) {
            CHECK_EQ_INT(m->item_row[m->row_item[r]], r);
            CHECK_EQ_INT(m->counts[r], counts[m->row_item[r]]);
            if (r > 0)
                CHECK(m->counts[r] <= m->counts[r - 1]); /* rows by descending count */
        }
        /* scoring: the rare item and the context are never ranked */
        float scores[21];
        int32_t ctx[2] = {0, 20};
        CHECK_EQ_INT(rs_embedding_score_inout(m, ctx, 2, scores), 1);
        CHECK(isinf(scores[20]) && scores[20] < 0);
        CHECK(isfinite(scores[1]));
        /* the score is sum(in[ctx]) . out[item], checked by hand */
        int32_t r0 = m->item_row[0], r5 = m->item_row[5];
        double want = 0;
        for (int d = 0; d < m->dim; d++)
            want += (double)m->in[(size_t)r0 * m->dim + d] * m->out[(size_t)r5 * m->dim + d];
        CHECK_NEAR(scores[5], want, 1e-5);
        int32_t none[1] = {20};
        CHECK_EQ_INT(rs_embedding_score_inout(m, none, 1, scores), 0);
        CHECK(isinf(scores[3]));
    }
    rs_embedding_free(m);
    p.min_count = 1000;
    m = NULL;
    CHECK_EQ_INT(rs_sgns_train(c, &p, NULL, NULL, &m, &e), RS_EDATA);
    CHECK(strstr(e.msg, "at least 1000") != NULL);
    CHECK(m == NULL);
    rs_corpus_free(c);
}

/* Fraction of the top-(block-1) completion candidates of item i that are in its block. */
static double block_precision(const rs_embedding *m, int n_items, int block)
{
    float *scores = malloc((size_t)n_items * sizeof *scores);
    double hits = 0, total = 0;
    for (int i = 0; i < n_items - 1; i++) {
        int32_t ctx[1] = {i};
        rs_embedding_score_inout(m, ctx, 1, scores);
        scores[i] = -INFINITY;
        for (int k = 0; k < block - 1; k++) {
            int best = -1;
            for (int j = 0; j < n_items; j++)
                if (best < 0 || scores[j] > scores[best])
                    best = j;
            hits += best / block == i / block;
            total++;
            scores[best] = -INFINITY;
        }
    }
    free(scores);
    return hits / total;
}

static void test_learns_planted_blocks(void)
{
    /* 4 blocks of 10 items; completion by input.output must stay inside the block */
    rs_corpus *c = planted(2000, 41, 4, 5, 11);
    rs_sgns_params p = small_params();
    p.epochs = 10;
    p.subsample = 0; /* every item is "frequent" in so small a corpus */
    const double exps[] = {0.75, 0.0, -0.5};
    for (int k = 0; k < 3; k++) {
        p.ns_exponent = exps[k];
        rs_embedding *m = NULL;
        rs_error e = {0};
        CHECK_EQ_INT(rs_sgns_train(c, &p, NULL, NULL, &m, &e), RS_OK);
        if (!m)
            continue;
        double prec = block_precision(m, 41, 10);
        if (prec < 0.95)
            test_fail_at(__FILE__, __LINE__, "ns_exponent %g: block precision %.3f", exps[k],
                         prec);
        if (getenv("TEST_VERBOSE"))
            printf("ns_exponent %g: block precision %.3f\n", exps[k], prec);
        else
            test_passed++;
        rs_embedding_free(m);
    }
    /* two threads (Hogwild): not bit-identical, but as good */
    p.ns_exponent = 0;
    p.threads = 2;
    rs_embedding *m = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_sgns_train(c, &p, NULL, NULL, &m, &e), RS_OK);
    if (m)
        CHECK(block_precision(m, 41, 10) >= 0.95);
    rs_embedding_free(m);
    /* a window of 2 sampled contexts still learns the blocks */
    p.threads = 1;
    p.window = 2;
    m = NULL;
    CHECK_EQ_INT(rs_sgns_train(c, &p, NULL, NULL, &m, &e), RS_OK);
    if (m)
        CHECK(block_precision(m, 41, 10) >= 0.95);
    rs_embedding_free(m);
    rs_corpus_free(c);
}

static int progress_calls;
static double progress_last;
static void on_progress(void *ctx, double done)
{
    (void)ctx;
    progress_calls++;
    progress_last = done;
}

static void test_params_and_progress(void)
{
    rs_corpus *c = planted(100, 21, 2, 4, 5);
    rs_embedding *m = NULL;
    rs_error e = {0};
    rs_sgns_params p = small_params();
    p.dim = 0;
    CHECK_EQ_INT(rs_sgns_train(c, &p, NULL, NULL, &m, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "dim") != NULL);
    p = small_params();
    p.lr = -1;
    CHECK_EQ_INT(rs_sgns_train(c, &p, NULL, NULL, &m, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "lr") != NULL);
    p = small_params();
    p.ns_exponent = NAN;
    CHECK_EQ_INT(rs_sgns_train(c, &p, NULL, NULL, &m, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "ns_exponent") != NULL);
    p = small_params();
    p.threads = 0;
    CHECK_EQ_INT(rs_sgns_train(c, &p, NULL, NULL, &m, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "threads") != NULL);
    p = small_params();
    p.dim = 13; /* not a multiple of 8: padded internally */
    CHECK_EQ_INT(rs_sgns_train(c, &p, on_progress, NULL, &m, &e), RS_OK);
    CHECK(progress_calls >= 1);
    CHECK_NEAR(progress_last, 1.0, 1e-9);
    if (m) {
        CHECK_EQ_INT(m->dim, 13);
        for (size_t i = 0; i < (size_t)m->rows * 13; i++)
            if (!isfinite(m->in[i]) || !isfinite(m->out[i])) {
                CHECK(!"finite");
                break;
            }
    }
    rs_embedding_free(m);
    char buf[512];
    p = small_params();
    CHECK(rs_sgns_params_json(&p, buf, sizeof buf) > 0);
    CHECK(strstr(buf, "\"dim\":16") != NULL);
    CHECK(strstr(buf, "\"epochs\":5") != NULL);
    CHECK_EQ_INT(rs_sgns_params_json(&p, buf, 10), -1);
    rs_corpus_free(c);
}

/* core/rng.h keeps the two generators' bit streams (models and synthetic worlds made
 * before it are reproduced): the first words of fixed streams, and the alias tables. */
static void test_rng_streams(void)
{
    rs_rng r;
    rs_rng_seed(&r, 1, 2, 3);
    CHECK(rs_rng_plus(&r) == 0x8202bafbb5df6ba8ULL);
    CHECK(rs_rng_plus(&r) == 0xad51d7b2587ae62eULL);
    CHECK(rs_rng_plus(&r) == 0x489060bf93f1e45cULL);
    rs_rng_seed(&r, 42, 1, 0);
    CHECK(rs_rng_starstar(&r) == 0x0030425e2a3dc334ULL);
    CHECK(rs_rng_starstar(&r) == 0x057e19f0156c8a6bULL);
    CHECK(rs_rng_starstar(&r) == 0x8c5c18f37d24dfd8ULL);
    /* an alias table reproduces its weights (both draws, both orders) */
    const double w[5] = {1, 2, 3, 4, 0};
    for (int order = 0; order < 2; order++) {
        rs_alias_entry t[5];
        CHECK_EQ_INT(rs_alias_build(t, w, 5, (rs_alias_order)order), 0);
        int cnt[2][5] = {{0}};
        rs_rng_seed(&r, 9, 9, 9);
        for (int i = 0; i < 100000; i++) {
            cnt[0][rs_alias_draw_plus(t, 5, &r)]++;
            cnt[1][rs_alias_draw_starstar(t, 5, &r)]++;
        }
        for (int d = 0; d < 2; d++)
            for (int k = 0; k < 5; k++)
                CHECK_NEAR(cnt[d][k] / 100000.0, w[k] / 10.0, 0.01);
    }
}

int main(void)
{
    test_rng_streams();
    test_deterministic();
    test_vocabulary();
    test_learns_planted_blocks();
    test_params_and_progress();
    return test_summary();
}
