/* test_clusters.c - spherical k-means recovers planted clusters, the silhouette picks
 * their number, names come from the distinctive words, degenerate inputs are safe. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusters.h"
#include "fixture_emb.h"
#include "testlib.h"

#define NCL 6
#define PER 40
#define DIM 16
#define N (NCL * PER)

static uint64_t lcg = 99;
static double rnd(void)
{
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg >> 11) * 0x1.0p-53 * 2 - 1;
}

/* planted: row r belongs to cluster r % NCL (interleaved, so the order says nothing) */
static rs_embedding *planted(void)
{
    static float v[N * DIM];
    float centre[NCL][DIM];
    for (int c = 0; c < NCL; c++)
        for (int j = 0; j < DIM; j++)
            centre[c][j] = (float)rnd();
    for (int r = 0; r < N; r++)
        for (int j = 0; j < DIM; j++)
            v[r * DIM + j] = centre[r % NCL][j] + (float)(0.3 * rnd());
    return fixture_emb(N, DIM, v);
}

/* Every planted cluster maps to one found cluster and back. */
static int recovered(const rs_clusters *c)
{
    int map[NCL];
    for (int p = 0; p < NCL; p++)
        map[p] = -1;
    for (int r = 0; r < N; r++) {
        int p = r % NCL;
        if (map[p] < 0)
            map[p] = c->assign[r];
        else if (map[p] != c->assign[r])
            return 0;
    }
    for (int p = 0; p < NCL; p++)
        for (int q = p + 1; q < NCL; q++)
            if (map[p] == map[q])
                return 0;
    return 1;
}

static void test_kmeans(void)
{
    rs_embedding *m = planted();
    rs_kmeans_opts o;
    rs_kmeans_opts_defaults(&o);
    rs_clusters *c = NULL, *c2 = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_kmeans(m, NCL, &o, &c, &e), RS_OK);
    CHECK(c && recovered(c));
    int sum = 0;
    for (int j = 0; c && j < c->k; j++)
        sum += c->size[j];
    CHECK_EQ_INT(sum, N);
    CHECK(c && c->cohesion > 0.8 && c->cohesion <= 1.0 + 1e-6);
    for (int j = 0; c && j < c->k; j++) { /* centroids are unit vectors */
        double ss = 0;
        for (int t = 0; t < DIM; t++)
            ss += (double)c->centroids[j * DIM + t] * c->centroids[j * DIM + t];
        CHECK_NEAR(ss, 1.0, 1e-5);
    }
    /* the same seed, the same clusters */
    CHECK_EQ_INT(rs_kmeans(m, NCL, &o, &c2, &e), RS_OK);
    CHECK(c && c2 && memcmp(c->assign, c2->assign, N * sizeof *c->assign) == 0);
    rs_clusters_free(c2);
    c2 = NULL;
    /* the silhouette prefers the planted number */
    static const int KS[] = {2, 3, 4, 6, 8, 12, 200};
    double sc[7];
    CHECK_EQ_INT(rs_kmeans_choose(m, KS, 7, &o, &c2, sc, &e), RS_OK);
    CHECK(c2 && c2->k == NCL);
    CHECK(isnan(sc[6])); /* 200 > rows / 2: skipped */
    for (int i = 0; i < 6; i++)
        printf("k=%d silhouette %.4f\n", KS[i], sc[i]);
    CHECK(sc[3] > sc[2] && sc[3] > sc[4]);
    rs_clusters_free(c2);
    /* out of range */
    CHECK_EQ_INT(rs_kmeans(m, 0, &o, &c2, &e), RS_EUSAGE);
    CHECK_EQ_INT(rs_kmeans(m, N + 1, &o, &c2, &e), RS_EUSAGE);
    static const int BIG[] = {500};
    CHECK_EQ_INT(rs_kmeans_choose(m, BIG, 1, &o, &c2, NULL, &e), RS_EUSAGE);

    /* names: each planted cluster has its own word; the common ones score low */
    static const char *const OWN[NCL] = {"apple", "bread", "cheese", "tea", "soap", "candle"};
    static const char *const COMMON[3] = {"white", "large", "vintage"};
    char buf[N][64];
    const char *names[N];
    for (int r = 0; r < N; r++) {
        snprintf(buf[r], sizeof buf[r], "%s %s %d00G Set", COMMON[(r / NCL) % 3],
                 r % 5 == 0 ? "" : OWN[r % NCL], r);
        names[r] = buf[r];
    }
    names[7] = NULL; /* an unnamed item is skipped */
    CHECK_EQ_INT(rs_clusters_name(c, m, names, &e), RS_OK);
    for (int p = 0; c && p < NCL; p++) {
        const char *nm = c->name[c->assign[p]];
        CHECK(nm && strncmp(nm, OWN[p], strlen(OWN[p])) == 0);
        CHECK(nm && !strstr(nm, "set") && !strstr(nm, "00g"));
        printf("cluster of %s: \"%s\"\n", OWN[p], nm ? nm : "(null)");
    }
    /* no usable word at all: "cluster N" */
    for (int r = 0; r < N; r++)
        names[r] = "12 x";
    CHECK_EQ_INT(rs_clusters_name(c, m, names, &e), RS_OK);
    CHECK(c && strncmp(c->name[0], "cluster ", 8) == 0);
    rs_clusters_free(c);
    rs_embedding_free(m);
}

/* identical rows (one point) and more clusters than distinct rows: no crash, sizes add up */
static void test_degenerate(void)
{
    float v[20 * 4];
    for (int i = 0; i < 20 * 4; i++)
        v[i] = (i % 4) == 0 ? 1.0f : 0.0f;
    rs_embedding *m = fixture_emb(20, 4, v);
    rs_clusters *c = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_kmeans(m, 3, NULL, &c, &e), RS_OK);
    int sum = 0;
    for (int j = 0; c && j < c->k; j++)
        sum += c->size[j];
    CHECK_EQ_INT(sum, 20);
    double s = c ? rs_clusters_silhouette(m, c, NULL) : NAN;
    CHECK(!isnan(s));
    rs_clusters_free(c);
    rs_embedding_free(m);
}

int main(void)
{
    test_kmeans();
    test_degenerate();
    return test_summary();
}
