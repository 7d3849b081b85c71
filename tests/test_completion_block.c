/* test_completion_block.c - rs_completion_score_many() gives exactly the scores of
 * rs_completion_score() context by context (sgns alone, blends), and the in.out scores
 * match a double-precision reference; every kernel (AVX-512, AVX2, portable) gives the
 * same bits; the fused top-k (rs_completion_topk_many) gives exactly the lists a scan
 * of the full scores gives, ties (many exact ones) by the smaller item. */
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

/* The reference selection from full scores: finite (> -inf, not NaN), allowed, best
 * first, ties by the smaller item; returns the count. */
static int ref_topk(const float *f, int32_t n, const uint8_t *allow, int k, int32_t *idx,
                    float *sc)
{
    int cnt = 0;
    for (int32_t i = 0; i < n; i++) {
        float s = f[i];
        if (!(s > -INFINITY) || (allow && !allow[i]))
            continue;
        /* insertion into the sorted list (strictly better goes first) */
        int pos = cnt;
        while (pos > 0 && sc[pos - 1] < s)
            pos--;
        if (pos >= k)
            continue;
        int last = cnt < k ? cnt : k - 1;
        for (int j = last; j > pos; j--) {
            idx[j] = idx[j - 1];
            sc[j] = sc[j - 1];
        }
        idx[pos] = i;
        sc[pos] = s;
        if (cnt < k)
            cnt++;
    }
    return cnt;
}

/* rs_completion_topk_many against ref_topk over the full scores, for several k, with
 * and without an allow mask, with each kernel; returns how many lists held a tie. */
static int check_topk(rs_completion *c, int32_t n, int NC)
{
    int32_t *ctx = malloc((size_t)NC * 6 * sizeof *ctx);
    int32_t *off = malloc(((size_t)NC + 1) * sizeof *off);
    float *full = malloc((size_t)NC * (size_t)n * sizeof *full);
    float *base = malloc((size_t)NC * (size_t)n * sizeof *base);
    uint8_t *allow = malloc((size_t)n);
    const int KMAX = 40;
    int32_t *idx = malloc((size_t)NC * KMAX * sizeof *idx), ridx[40];
    float *sc = malloc((size_t)NC * KMAX * sizeof *sc), rsc[40];
    int *cnt = malloc((size_t)NC * sizeof *cnt), *kn = malloc((size_t)NC * sizeof *kn);
    int *kf = malloc((size_t)NC * sizeof *kf);
    int ties = 0;
    off[0] = 0;
    for (int b = 0; b < NC; b++) {
        int len = b % 11 == 0 ? 6 : 1 + (int)(urand() * 4);
        for (int t = 0; t < len; t++)
            ctx[off[b] + t] = (int32_t)(urand() * n);
        off[b + 1] = off[b] + len;
    }
    for (int32_t i = 0; i < n; i++)
        allow[i] = urand() < 0.8;
    for (int kern = 0; kern <= 2; kern++) {
        rs_completion_use_kernel(c, kern);
        rs_completion_score_many(c, ctx, off, NC, full, kf);
        if (kern == 0)
            memcpy(base, full, (size_t)NC * (size_t)n * sizeof *full);
        else /* every kernel: the same bits */
            CHECK(memcmp(base, full, (size_t)NC * (size_t)n * sizeof *full) == 0);
        const int ks[] = {1, 3, 10, 40};
        for (int ki = 0; ki < 4; ki++)
            for (int am = 0; am < 2; am++) {
                int k = ks[ki];
                const uint8_t *al = am ? allow : NULL;
                int tot = rs_completion_topk_many(c, ctx, off, NC, al, k, idx, sc, cnt, kn);
                int bad = 0, want_tot = 0;
                for (int b = 0; b < NC; b++) {
                    want_tot += kf[b] > 0;
                    bad += kn[b] != kf[b];
                    int rc = ref_topk(full + (size_t)b * (size_t)n, n, al, k, ridx, rsc);
                    if (rc != cnt[b]) {
                        bad++;
                        continue;
                    }
                    for (int j = 0; j < rc; j++) {
                        bad += ridx[j] != idx[(size_t)b * k + j];
                        bad += memcmp(&rsc[j], &sc[(size_t)b * k + j], sizeof rsc[j]) != 0;
                        ties += j > 0 && rsc[j] == rsc[j - 1];
                    }
                }
                CHECK_EQ_INT(bad, 0);
                CHECK_EQ_INT(tot, want_tot);
            }
    }
    rs_completion_use_kernel(c, 0);
    free(ctx);
    free(off);
    free(full);
    free(base);
    free(allow);
    free(idx);
    free(sc);
    free(cnt);
    free(kn);
    free(kf);
    return ties;
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
    if (c) {
        check_scorer(c, n, 150, 1, sg);
        CHECK(rs_completion_topk_ok(c));
        check_topk(c, n, 150);
    }
    rs_completion_close(c);

    /* many exact ties: output rows from a few prototypes with small integer values
     * (every score is exact), contexts of odd sizes, a block that is not a multiple of
     * the kernels' context groups */
    {
        rs_embedding *tie = make_emb(n, 20);
        for (int32_t r = 0; r < tie->rows; r++)
            for (int k = 0; k < tie->dim; k++) {
                tie->out[(size_t)r * 20 + (size_t)k] = (float)((r % 7 + k) % 3) - 1.0f;
                tie->in[(size_t)r * 20 + (size_t)k] = (float)((r % 5 + 2 * k) % 4) - 1.5f;
            }
        rs_completion_parts pt = p;
        pt.sgns = tie;
        rs_completion *ct = NULL;
        CHECK(rs_completion_from_parts(&pt, &ct, &e) == RS_OK);
        if (ct) {
            CHECK(check_topk(ct, n, 70) > 100); /* the lists really hold ties */
            check_scorer(ct, n, 30, 1, tie);
        }
        rs_completion_close(ct);
        rs_embedding_free(tie);
    }

    /* a blend: sgns + popularity */
    p.weights[RS_COMP_POPULARITY] = 0.3;
    c = NULL;
    CHECK(rs_completion_from_parts(&p, &c, &e) == RS_OK);
    if (c) {
        check_scorer(c, n, 150, 0, sg);
        /* a blend: no fused top-k */
        CHECK(!rs_completion_topk_ok(c));
        int32_t o[2] = {0, 1}, q = 5, ti;
        float ts;
        int tc;
        CHECK_EQ_INT(rs_completion_topk_many(c, &q, o, 1, NULL, 1, &ti, &ts, &tc, NULL), -1);
    }
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
