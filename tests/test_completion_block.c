/* test_completion_block.c - rs_completion_score_many() gives exactly the scores of
 * rs_completion_score() context by context (sgns alone, blends), and the in.out scores
 * match a double-precision reference. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "completion.h"
#include "sgns.h"
#include "testlib.h"

static uint64_t rng_state = 12345;
static double urand(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* An embedding over n items, every third item without a row (so the row -> item map
 * has holes, and some panels are not contiguous), rows in reverse item order. */
static rs_embedding *make_emb(int32_t n, int dim)
{
    rs_embedding *m = calloc(1, sizeof *m);
    m->n_items = n;
    m->dim = dim;
    m->item_row = malloc((size_t)n * sizeof *m->item_row);
    m->row_item = malloc((size_t)n * sizeof *m->row_item);
    m->counts = calloc((size_t)n, sizeof *m->counts);
    int32_t r = 0;
    for (int32_t i = 0; i < n; i++) {
        int has = (i % 3 != 1) || i < 40; /* first panels contiguous */
        m->item_row[i] = has ? r : -1;
        if (has)
            m->row_item[r++] = i;
    }
    m->rows = r;
    /* rows in reverse item order, as a frequency-sorted vocabulary is not item order */
    for (int32_t j = 0; j < r / 2; j++) {
        int32_t t = m->row_item[j];
        m->row_item[j] = m->row_item[r - 1 - j];
        m->row_item[r - 1 - j] = t;
    }
    for (int32_t j = 0; j < r; j++)
        m->item_row[m->row_item[j]] = j;
    m->in = malloc((size_t)r * (size_t)dim * sizeof *m->in);
    m->out = malloc((size_t)r * (size_t)dim * sizeof *m->out);
    for (size_t j = 0; j < (size_t)r * (size_t)dim; j++) {
        m->in[j] = (float)(urand() - 0.5);
        m->out[j] = (float)(urand() - 0.5);
    }
    for (int32_t j = 0; j < r; j++)
        m->counts[j] = 1 + (int64_t)(urand() * 100);
    return m;
}

/* Scores NC random contexts one by one and as one block (and as odd-sized blocks);
 * all must agree bit for bit. */
static void check_scorer(rs_completion *c, int32_t n, int NC, int check_ref,
                         const rs_embedding *m)
{
    int32_t *ctx = malloc((size_t)NC * 5 * sizeof *ctx);
    int32_t *off = malloc(((size_t)NC + 1) * sizeof *off);
    float *one = malloc((size_t)NC * (size_t)n * sizeof *one);
    float *blk = malloc((size_t)NC * (size_t)n * sizeof *blk);
    int *k1 = malloc((size_t)NC * sizeof *k1), *kb = malloc((size_t)NC * sizeof *kb);
    off[0] = 0;
    for (int b = 0; b < NC; b++) {
        int len = 1 + (int)(urand() * 5);
        for (int t = 0; t < len; t++)
            ctx[off[b] + t] = (int32_t)(urand() * n);
        off[b + 1] = off[b] + len;
    }
    for (int b = 0; b < NC; b++)
        k1[b] = rs_completion_score(c, ctx + off[b], off[b + 1] - off[b],
                                    one + (size_t)b * (size_t)n);
    rs_completion_score_many(c, ctx, off, NC, blk, kb);
    CHECK(memcmp(one, blk, (size_t)NC * (size_t)n * sizeof *one) == 0);
    for (int b = 0; b < NC; b++)
        CHECK_EQ_INT(k1[b], kb[b]);
    /* blocks of 7 (remainders of the 4-wide kernel, offsets into the arrays) */
    memset(blk, 0, (size_t)NC * (size_t)n * sizeof *blk);
    for (int b0 = 0; b0 < NC; b0 += 7) {
        int nb = NC - b0 < 7 ? NC - b0 : 7;
        int32_t o2[8];
        for (int b = 0; b <= nb; b++)
            o2[b] = off[b0 + b] - off[b0];
        rs_completion_score_many(c, ctx + off[b0], o2, nb, blk + (size_t)b0 * (size_t)n, NULL);
    }
    CHECK(memcmp(one, blk, (size_t)NC * (size_t)n * sizeof *one) == 0);
    if (check_ref) {
        /* in.out against a double reference; context items and row-less items -inf */
        double maxerr = 0.0;
        int bad_inf = 0;
        for (int b = 0; b < NC; b++) {
            for (int32_t i = 0; i < n; i++) {
                float s = one[(size_t)b * (size_t)n + (size_t)i];
                int inctx = 0;
                for (int32_t t = off[b]; t < off[b + 1]; t++)
                    inctx |= ctx[t] == i;
                if (inctx || m->item_row[i] < 0) {
                    bad_inf += s != -INFINITY;
                    continue;
                }
                double ref = 0.0;
                for (int32_t t = off[b]; t < off[b + 1]; t++) {
                    int32_t q = ctx[t];
                    if (m->item_row[q] < 0)
                        continue;
                    for (int k = 0; k < m->dim; k++)
                        ref += (double)m->in[(size_t)m->item_row[q] * m->dim + k] *
                               m->out[(size_t)m->item_row[i] * m->dim + k];
                }
                if (fabs(ref - s) > maxerr)
                    maxerr = fabs(ref - s);
            }
        }
        CHECK_EQ_INT(bad_inf, 0);
        CHECK(maxerr < 1e-4);
    }
    free(ctx);
    free(off);
    free(one);
    free(blk);
    free(k1);
    free(kb);
}

int main(void)
{
    const int32_t n = 1003;
    rs_embedding *sg = make_emb(n, 24);
    rs_embedding *ea = make_emb(n, 8); /* stands in for a second dense part */
    int64_t *pop = malloc((size_t)n * sizeof *pop);
    for (int32_t i = 0; i < n; i++)
        pop[i] = (int64_t)(urand() * 50);

    rs_completion_parts p;
    memset(&p, 0, sizeof p);
    p.n_items = n;
    p.pop_counts = pop;
    p.sgns = sg;
    p.weights[RS_COMP_SGNS] = 1.0;
    rs_completion *c = NULL;
    rs_error e = {0};
    CHECK(rs_completion_from_parts(&p, &c, &e) == RS_OK);
    if (c)
        check_scorer(c, n, 150, 1, sg);
    rs_completion_close(c);

    /* a blend: sgns + popularity */
    p.weights[RS_COMP_POPULARITY] = 0.3;
    c = NULL;
    CHECK(rs_completion_from_parts(&p, &c, &e) == RS_OK);
    if (c)
        check_scorer(c, n, 150, 0, sg);
    rs_completion_close(c);

    /* popularity alone (no sgns part in the block path) */
    p.weights[RS_COMP_SGNS] = 0.0;
    p.weights[RS_COMP_POPULARITY] = 1.0;
    c = NULL;
    CHECK(rs_completion_from_parts(&p, &c, &e) == RS_OK);
    if (c)
        check_scorer(c, n, 40, 0, sg);
    rs_completion_close(c);
    (void)ea;
    rs_embedding_free(sg);
    rs_embedding_free(ea);
    free(pop);
    return test_summary();
}
