/* test_projection.c - PCA against an analytic reference, the layout's neighbourhoods on
 * planted clusters, determinism, cancel, and the cache file (stale, broken, FIFO). */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "projection.h"
#include "fixture_emb.h"
#include "testlib.h"

/* An embedding of rows x dim input vectors v (copied), row r = item r. */
/* Six unit vectors (+-R e1 twice, +-R e2 once) for a rotation R: covariance
 * R diag(2/3, 1/3, 0) R', so the axes are R e1 and R e2 and the shares 2/3 and 1/3. */
static void test_pca_reference(void)
{
    static const float R[3][3] = {{2.f / 3, -1.f / 3, 2.f / 3},
                                  {2.f / 3, 2.f / 3, -1.f / 3},
                                  {-1.f / 3, 2.f / 3, 2.f / 3}};
    static const float Z[6][3] = {{1, 0, 0}, {-1, 0, 0}, {1, 0, 0},
                                  {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}};
    float v[18];
    for (int i = 0; i < 6; i++)
        for (int a = 0; a < 3; a++) {
            double s = 0;
            for (int b = 0; b < 3; b++)
                s += R[a][b] * Z[i][b];
            v[i * 3 + a] = (float)s;
        }
    rs_embedding *m = fixture_emb(6, 3, v);
    rs_proj *p = NULL;
    float var[2] = {0, 0};
    rs_error e = {0};
    CHECK_EQ_INT(rs_proj_pca(m, &p, var, &e), RS_OK);
    CHECK_NEAR(var[0], 2.0 / 3, 1e-5);
    CHECK_NEAR(var[1], 1.0 / 3, 1e-5);
    /* the signs: the largest component of each axis positive (R e1 = (2,2,-1)/3 and
     * R e2 = (-1,2,2)/3 already are), so +R e1 -> (1, 0), +R e2 -> (0, 1) */
    static const float WANT[6][2] = {{1, 0}, {-1, 0}, {1, 0}, {-1, 0}, {0, 1}, {0, -1}};
    for (int i = 0; p && i < 6; i++) {
        CHECK_NEAR(p->xy[2 * i], WANT[i][0], 1e-5);
        CHECK_NEAR(p->xy[2 * i + 1], WANT[i][1], 1e-5);
    }
    rs_proj_free(p);
    /* too small a model is a usage error, with the sizes in the message */
    m->rows = 1;
    CHECK_EQ_INT(rs_proj_pca(m, &p, NULL, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "1 rows") != NULL);
    CHECK(p == NULL);
    m->rows = 6;
    rs_embedding_free(m);
}

#define NCL 20
#define PER 30
#define DIM 32

/* NCL planted clusters of PER noisy copies of a random direction in DIM dims. */
static rs_embedding *clusters(uint64_t seed)
{
    static float v[NCL * PER * DIM];
    float centre[NCL][DIM];
    uint64_t s = seed;
#define RND() ((s = s * 6364136223846793005ULL + 1442695040888963407ULL), \
               (double)(s >> 11) * 0x1.0p-53 * 2 - 1)
    for (int c = 0; c < NCL; c++)
        for (int j = 0; j < DIM; j++)
            centre[c][j] = (float)RND();
    for (int c = 0; c < NCL; c++)
        for (int i = 0; i < PER; i++)
            for (int j = 0; j < DIM; j++)
                v[(c * PER + i) * DIM + j] = centre[c][j] + (float)(0.45 * RND());
#undef RND
    return fixture_emb(NCL * PER, DIM, v);
}

/* Share of each point's 10 nearest points in the plane that are of its cluster. */
static double purity2d(const rs_proj *p)
{
    int n = p->rows, good = 0, total = 0;
    for (int i = 0; i < n; i++) {
        int best[10];
        float bd[10];
        int nb = 0;
        for (int j = 0; j < n; j++) {
            if (j == i)
                continue;
            float dx = p->xy[2 * i] - p->xy[2 * j], dy = p->xy[2 * i + 1] - p->xy[2 * j + 1];
            float d = dx * dx + dy * dy;
            int pos = nb < 10 ? nb++ : 10;
            if (pos == 10 && d >= bd[9])
                continue;
            if (pos == 10)
                pos = 9;
            while (pos > 0 && bd[pos - 1] > d) {
                bd[pos] = bd[pos - 1];
                best[pos] = best[pos - 1];
                pos--;
            }
            bd[pos] = d;
            best[pos] = j;
        }
        for (int k = 0; k < nb; k++, total++)
            good += best[k] / PER == i / PER;
    }
    return (double)good / total;
}

static void test_layout(void)
{
    rs_embedding *m = clusters(7);
    rs_layout_opts o;
    rs_layout_opts_defaults(&o);
    atomic_int prog = 0;
    o.progress = &prog;
    rs_proj *a = NULL, *b = NULL, *pca = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_proj_pca(m, &pca, NULL, &e), RS_OK);
    CHECK_EQ_INT(rs_proj_layout(m, &o, pca, &a, &e), RS_OK);
    CHECK_EQ_INT(atomic_load(&prog), 1000);
    double pa = a ? purity2d(a) : 0, pp = pca ? purity2d(pca) : 0;
    printf("10-NN purity in the plane: layout %.3f, PCA %.3f\n", pa, pp);
    CHECK(pa >= 0.95);
    CHECK(pa > pp); /* the layout keeps neighbourhoods that two axes cannot */
    /* seeded and single-threaded: the same coordinates again (without a given PCA) */
    CHECK_EQ_INT(rs_proj_layout(m, &o, NULL, &b, &e), RS_OK);
    CHECK(a && b && memcmp(a->xy, b->xy, 2 * (size_t)m->rows * sizeof(float)) == 0);
    rs_proj_free(b);
    b = NULL;
    /* fitted on a sample, the rest placed beside their nearest sample rows */
    o.sample = 200;
    CHECK_EQ_INT(rs_proj_layout(m, &o, pca, &b, &e), RS_OK);
    double ps = b ? purity2d(b) : 0;
    printf("10-NN purity, fitted on 200 of %d rows: %.3f\n", m->rows, ps);
    CHECK(ps >= 0.9);
    rs_proj_free(b);
    b = NULL;
    /* cancelled: a usage error, nothing returned */
    atomic_int stop = 1;
    o.cancel = &stop;
    CHECK_EQ_INT(rs_proj_layout(m, &o, pca, &b, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "cancelled") != NULL);
    CHECK(b == NULL);
    /* tiny models: 2 and 3 rows still lay out (k shrinks to what there is) */
    o.cancel = NULL;
    o.sample = 10000;
    int32_t rows = m->rows;
    m->rows = 3;
    CHECK_EQ_INT(rs_proj_layout(m, &o, NULL, &b, &e), RS_OK);
    rs_proj_free(b);
    b = NULL;
    m->rows = rows;
    rs_proj_free(a);
    rs_proj_free(pca);
    rs_embedding_free(m);
}

static void test_cache(const char *dir)
{
    rs_embedding *m = clusters(3);
    rs_proj *pca = NULL, *lay = NULL;
    float var[2];
    rs_error e = {0};
    rs_layout_opts o;
    rs_layout_opts_defaults(&o);
    o.epochs = 20;
    CHECK_EQ_INT(rs_proj_pca(m, &pca, var, &e), RS_OK);
    CHECK_EQ_INT(rs_proj_layout(m, &o, pca, &lay, &e), RS_OK);
    char path[4200];
    CHECK_EQ_INT(rs_proj_cache_path("/x/model.rsm", path, sizeof path), 0);
    CHECK_STR(path, "/x/model.rsm.map");
    CHECK_EQ_INT(rs_proj_cache_path("/x/model.rsm", path, 8), -1);
    snprintf(path, sizeof path, "%s/m.rsm.map", dir);
    uint64_t fp = rs_proj_fingerprint(m);
    rs_proj *got[RS_PROJ_NMETHODS];
    int stale = -1;
    /* absent: nothing, no error */
    CHECK_EQ_INT(rs_proj_cache_read(path, m->rows, m->dim, fp, got, NULL, &stale, &e), RS_OK);
    CHECK(!got[0] && !got[1] && stale == 0);
    rs_proj *both[RS_PROJ_NMETHODS] = {pca, lay};
    CHECK_EQ_INT(rs_proj_cache_write(path, m->rows, m->dim, fp, both, var, &e), RS_OK);
    float var2[2] = {0, 0};
    CHECK_EQ_INT(rs_proj_cache_read(path, m->rows, m->dim, fp, got, var2, &stale, &e), RS_OK);
    CHECK(got[0] && got[1] && stale == 0);
    CHECK(got[0] && memcmp(got[0]->xy, pca->xy, 2 * (size_t)m->rows * sizeof(float)) == 0);
    CHECK(got[1] && memcmp(got[1]->xy, lay->xy, 2 * (size_t)m->rows * sizeof(float)) == 0);
    CHECK(var2[0] == var[0] && var2[1] == var[1]);
    rs_proj_free(got[0]);
    rs_proj_free(got[1]);
    /* the model changes: another fingerprint, the cache is stale (ignored) */
    m->in[5] += 0.25f;
    uint64_t fp2 = rs_proj_fingerprint(m);
    CHECK(fp2 != fp);
    CHECK_EQ_INT(rs_proj_cache_read(path, m->rows, m->dim, fp2, got, NULL, &stale, &e), RS_OK);
    CHECK(!got[0] && !got[1] && stale == 1);
    /* a cache of another version (an older algorithm): stale, not trusted */
    CHECK_EQ_INT(rs_proj_cache_write(path, m->rows, m->dim, fp2, both, var, &e), RS_OK);
    FILE *vf = fopen(path, "r+b");
    CHECK(vf != NULL);
    if (vf) {
        unsigned char buf[1 << 16];
        size_t len = fread(buf, 1, sizeof buf, vf);
        buf[8] = 1; /* version 1 */
        uint64_t h = rs_fnv1a64(RS_FNV64_INIT, buf, len - 8);
        for (int i = 0; i < 8; i++)
            buf[len - 8 + i] = (unsigned char)(h >> (8 * i));
        fseek(vf, 0, SEEK_SET);
        CHECK(fwrite(buf, 1, len, vf) == len);
        fclose(vf);
    }
    CHECK_EQ_INT(rs_proj_cache_read(path, m->rows, m->dim, fp2, got, NULL, &stale, &e), RS_OK);
    CHECK(!got[0] && !got[1] && stale == 1);
    /* PCA alone */
    rs_proj *one[RS_PROJ_NMETHODS] = {pca, NULL};
    CHECK_EQ_INT(rs_proj_cache_write(path, m->rows, m->dim, fp, one, var, &e), RS_OK);
    CHECK_EQ_INT(rs_proj_cache_read(path, m->rows, m->dim, fp, got, NULL, &stale, &e), RS_OK);
    CHECK(got[0] && !got[1]);
    rs_proj_free(got[0]);
    /* broken files are errors naming the file, never a crash */
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, 100, SEEK_SET);
        fputc(0x55, f);
        fclose(f);
    }
    CHECK_EQ_INT(rs_proj_cache_read(path, m->rows, m->dim, fp, got, NULL, &stale, &e), RS_EDATA);
    CHECK(strstr(e.msg, path) && strstr(e.msg, "checksum"));
    CHECK(truncate(path, 20) == 0);
    CHECK_EQ_INT(rs_proj_cache_read(path, m->rows, m->dim, fp, got, NULL, &stale, &e), RS_EDATA);
    CHECK(strstr(e.msg, "not a map cache") != NULL);
    CHECK(!got[0] && !got[1]);
    char fifo[4200];
    snprintf(fifo, sizeof fifo, "%s/fifo.map", dir);
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK_EQ_INT(rs_proj_cache_read(fifo, m->rows, m->dim, fp, got, NULL, &stale, &e), RS_EDATA);
    CHECK(strstr(e.msg, "not a regular file") != NULL);
    /* the writer refuses a FIFO target (atomicfile) instead of replacing it */
    CHECK(rs_proj_cache_write(fifo, m->rows, m->dim, fp, both, var, &e) != RS_OK);
    /* a mismatch of sizes is refused before anything is written */
    CHECK_EQ_INT(rs_proj_cache_write(path, m->rows + 1, m->dim, fp, both, var, &e),
                 RS_EINTERNAL);
    rs_proj_free(pca);
    rs_proj_free(lay);
    rs_embedding_free(m);
}

int main(void)
{
    const char *dir = test_tmpdir();
    if (!dir)
        return 1;
    test_pca_reference();
    test_layout();
    test_cache(dir);
    return test_summary();
}
