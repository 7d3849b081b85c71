/* test_ranker.c - the XGBoost ranker (core/ranker.h): repeats bit for bit with a fixed
 * seed and thread count, learns a planted interaction that no single feature carries,
 * explains each prediction by contributions that sum to its margin, and survives a
 * save / load / copy unchanged. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ranker.h"
#include "testlib.h"

#define NF 5
#define GROUP 40

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unif(uint64_t *s)
{
    return (double)(rng(s) >> 11) / 9007199254740992.0;
}

/* groups x GROUP rows: f0 a signal, f1 a switch that flips f0's sign (the interaction),
 * f2 noise, f3 missing in every third row, f4 an integer count.  Relevant when
 * (f1 > 0.5 ? f0 : 1 - f0) + noise is in the top of its group. */
typedef struct data {
    int64_t n, groups;
    float *x, *y;
    uint32_t *gs;
} data;

static void make(data *d, int64_t groups, uint64_t seed)
{
    d->groups = groups;
    d->n = groups * GROUP;
    d->x = malloc((size_t)d->n * NF * sizeof *d->x);
    d->y = calloc((size_t)d->n, sizeof *d->y);
    d->gs = malloc((size_t)groups * sizeof *d->gs);
    for (int64_t g = 0; g < groups; g++) {
        d->gs[g] = GROUP;
        for (int i = 0; i < GROUP; i++) {
            float *x = d->x + (size_t)(g * GROUP + i) * NF;
            x[0] = (float)unif(&seed);
            x[1] = (float)unif(&seed);
            x[2] = (float)unif(&seed);
            x[3] = i % 3 == 0 ? NAN : (float)unif(&seed);
            x[4] = (float)(rng(&seed) % 7);
            double v = (x[1] > 0.5f ? x[0] : 1.0f - x[0]) + 0.15 * unif(&seed);
            d->y[g * GROUP + i] = v > 0.85 ? 1.0f : 0.0f;
        }
    }
}

static void unmake(data *d)
{
    free(d->x);
    free(d->y);
    free(d->gs);
}

/* mean precision@5 of a score per row over the groups of d */
static double p_at_5(const data *d, const float *score)
{
    double sum = 0.0;
    for (int64_t g = 0; g < d->groups; g++) {
        const float *s = score + g * GROUP;
        const float *y = d->y + g * GROUP;
        int used[GROUP] = {0}, hits = 0;
        for (int t = 0; t < 5; t++) {
            int best = -1;
            for (int i = 0; i < GROUP; i++)
                if (!used[i] && (best < 0 || s[i] > s[best]))
                    best = i;
            used[best] = 1;
            hits += y[best] > 0;
        }
        sum += hits / 5.0;
    }
    return sum / (double)d->groups;
}

static rs_ranker *train(const data *d, int objective, int threads)
{
    rs_ranker_params p;
    rs_ranker_defaults(&p);
    p.objective = objective;
    p.threads = threads;
    p.max_rounds = 80;
    p.early_stop = 10;
    rs_ranker_data rd = {d->n, NF, d->x, d->y, d->groups, d->gs};
    rs_ranker *r = NULL;
    rs_error e = {0};
    int rc = rs_ranker_train(&rd, &p, &r, &e);
    if (rc)
        fprintf(stderr, "train: %s\n", e.msg);
    CHECK_EQ_INT(rc, RS_OK);
    return r;
}

static float *predict(rs_ranker *r, const data *d)
{
    float *out = malloc((size_t)d->n * sizeof *out);
    rs_error e = {0};
    int rc = rs_ranker_predict(r, d->x, d->n, out, &e);
    if (rc)
        fprintf(stderr, "predict: %s\n", e.msg);
    CHECK_EQ_INT(rc, RS_OK);
    return out;
}

/* twice with the same seed and threads: the same trees, the same predictions */
static void test_repeat(const data *tr, const data *te, int objective, int threads)
{
    rs_ranker *a = train(tr, objective, threads), *b = train(tr, objective, threads);
    if (!a || !b)
        goto done;
    float *pa = predict(a, te), *pb = predict(b, te);
    CHECK(memcmp(pa, pb, (size_t)te->n * sizeof *pa) == 0);
    rs_ranker_info ia, ib;
    rs_ranker_info_get(a, &ia);
    rs_ranker_info_get(b, &ib);
    CHECK_EQ_INT(ia.rounds, ib.rounds);
    CHECK_EQ_INT(ia.objective, ib.objective);
    printf("%s threads %d: objective %s, %d rounds, valid ndcg %.4f (other %.4f)\n",
           rs_ranker_objective_name(objective), threads, rs_ranker_objective_name(ia.objective),
           ia.rounds, ia.valid_ndcg, ia.valid_ndcg_other);
    if (objective != RS_RANKER_AUTO)
        CHECK_EQ_INT(ia.objective, objective);
    else
        CHECK(ia.valid_ndcg >= ia.valid_ndcg_other);
    /* the interaction learned: far above the best single feature */
    float *f0 = malloc((size_t)te->n * sizeof *f0);
    for (int64_t i = 0; i < te->n; i++)
        f0[i] = te->x[i * NF];
    double pr = p_at_5(te, pa), p0 = p_at_5(te, f0);
    printf("  test p@5 %.4f, f0 alone %.4f\n", pr, p0);
    CHECK(pr > 0.6);
    CHECK(pr > p0 + 0.2);
    free(f0);
    free(pa);
    free(pb);
done:
    rs_ranker_free(a);
    rs_ranker_free(b);
}

/* contributions: one per feature plus the bias, summing to the margin */
static void test_contribs(rs_ranker *r, const data *te)
{
    int64_t n = 50;
    float *pred = malloc((size_t)n * sizeof *pred);
    float *c = malloc((size_t)n * (NF + 1) * sizeof *c);
    rs_error e = {0};
    CHECK_EQ_INT(rs_ranker_predict(r, te->x, n, pred, &e), RS_OK);
    CHECK_EQ_INT(rs_ranker_contribs(r, te->x, n, c, &e), RS_OK);
    rs_ranker_info in;
    rs_ranker_info_get(r, &in);
    double f0_share = 0.0, f2_share = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (int f = 0; f <= NF; f++)
            sum += c[i * (NF + 1) + f];
        double want = in.objective == RS_RANKER_LOGISTIC ? 1.0 / (1.0 + exp(-sum)) : sum;
        CHECK_NEAR(pred[i], want, 1e-4);
        f0_share += fabs(c[i * (NF + 1) + 0]);
        f2_share += fabs(c[i * (NF + 1) + 2]);
    }
    /* the signal explains more than the noise */
    CHECK(f0_share > 3.0 * f2_share);
    free(pred);
    free(c);
}

static void test_files(rs_ranker *r, const data *te)
{
    const char *dir = test_tmpdir();
    char path[600], bad[600];
    snprintf(path, sizeof path, "%s/ranker.json", dir);
    rs_error e = {0};
    CHECK_EQ_INT(rs_ranker_save(r, path, &e), RS_OK);
    rs_ranker *l = NULL, *c = NULL;
    CHECK_EQ_INT(rs_ranker_load(path, NF, 1, &l, &e), RS_OK);
    CHECK_EQ_INT(rs_ranker_copy(r, 2, &c, &e), RS_OK);
    if (!l || !c)
        goto done;
    float *p0 = predict(r, te), *p1 = predict(l, te), *p2 = predict(c, te);
    CHECK(memcmp(p0, p1, (size_t)te->n * sizeof *p0) == 0);
    CHECK(memcmp(p0, p2, (size_t)te->n * sizeof *p0) == 0);
    /* a second prediction on the same rows: the same values, no stale cache */
    float *p3 = predict(l, te);
    CHECK(memcmp(p1, p3, (size_t)te->n * sizeof *p1) == 0);
    rs_ranker_info a, b;
    rs_ranker_info_get(r, &a);
    rs_ranker_info_get(l, &b);
    CHECK_EQ_INT(a.rounds, b.rounds);
    CHECK_EQ_INT(a.objective, b.objective);
    free(p0);
    free(p1);
    free(p2);
    free(p3);
    /* refusals name the file */
    rs_ranker *x = NULL;
    CHECK_EQ_INT(rs_ranker_load(path, NF + 1, 1, &x, &e), RS_EDATA);
    CHECK(strstr(e.msg, path) != NULL && strstr(e.msg, "features") != NULL);
    snprintf(bad, sizeof bad, "%s", test_write_file(dir, "bad.json", "{\"not\": \"a model\"}"));
    CHECK_EQ_INT(rs_ranker_load(bad, NF, 1, &x, &e), RS_EDATA);
    CHECK(strstr(e.msg, bad) != NULL);
    snprintf(bad, sizeof bad, "%s/absent.json", dir);
    CHECK(rs_ranker_load(bad, NF, 1, &x, &e) != RS_OK);
    CHECK(strstr(e.msg, bad) != NULL);
    CHECK(x == NULL);
done:
    rs_ranker_free(l);
    rs_ranker_free(c);
}

static void test_too_few(void)
{
    data d;
    make(&d, 3, 9);
    for (int64_t i = 0; i < d.n; i++)
        d.y[i] = 0.0f; /* no positives anywhere */
    rs_ranker_params p;
    rs_ranker_defaults(&p);
    rs_ranker_data rd = {d.n, NF, d.x, d.y, d.groups, d.gs};
    rs_ranker *r = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_ranker_train(&rd, &p, &r, &e), RS_EUSAGE);
    CHECK(r == NULL);
    unmake(&d);
}

int main(void)
{
    data tr, te;
    make(&tr, 300, 1);
    make(&te, 200, 2);
    test_repeat(&tr, &te, RS_RANKER_PAIRWISE, 1);
    test_repeat(&tr, &te, RS_RANKER_PAIRWISE, 2);
    test_repeat(&tr, &te, RS_RANKER_LOGISTIC, 1);
    test_repeat(&tr, &te, RS_RANKER_AUTO, 1);
    rs_ranker *r = train(&tr, RS_RANKER_AUTO, 1);
    if (r) {
        test_contribs(r, &te);
        test_files(r, &te);
    }
    rs_ranker_free(r);
    test_too_few();
    unmake(&tr);
    unmake(&te);
    return test_summary();
}
