/* clusters.c - spherical k-means, the silhouette, and cluster names (see clusters.h). */
#include "clusters.h"

#include <cblas.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "eval.h"
#include "rng.h"

#define BLOCK 1024 /* rows per sgemm block */

void rs_kmeans_opts_defaults(rs_kmeans_opts *o)
{
    o->max_iter = 50;
    o->seed = 1;
    o->sample = 2000;
}

void rs_clusters_free(rs_clusters *c)
{
    if (!c)
        return;
    if (c->name)
        for (int i = 0; i < c->k; i++)
            free(c->name[i]);
    free(c->name);
    free(c->assign);
    free(c->centroids);
    free(c->size);
    free(c);
}

static double dot(const float *a, const float *b, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++)
        s += (double)a[j] * b[j];
    return s;
}

static void normalise(float *v, int d)
{
    double ss = 0;
    for (int j = 0; j < d; j++)
        ss += (double)v[j] * v[j];
    float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    for (int j = 0; j < d; j++)
        v[j] *= inv;
}

/* k-means++ on cosine distance: the first centroid a random row, each next one a row
 * drawn with probability proportional to its squared distance to the nearest chosen. */
static int seed_centroids(const float *x, int32_t n, int d, int k, rs_rng *rng, float *c)
{
    double *near = malloc((size_t)n * sizeof *near);
    if (!near)
        return -1;
    int32_t first = (int32_t)rs_rng_starstar_below(rng, (uint64_t)n);
    memcpy(c, x + (size_t)first * d, (size_t)d * sizeof *c);
    for (int32_t i = 0; i < n; i++) {
        double dist = 1.0 - dot(x + (size_t)i * d, c, d);
        near[i] = dist > 0 ? dist * dist : 0;
    }
    for (int j = 1; j < k; j++) {
        double total = 0;
        for (int32_t i = 0; i < n; i++)
            total += near[i];
        int32_t pick = 0;
        if (total > 0) {
            double u = rs_rng_starstar_unif(rng) * total, acc = 0;
            for (pick = 0; pick < n - 1; pick++) {
                acc += near[pick];
                if (acc > u)
                    break;
            }
        } else {
            pick = (int32_t)rs_rng_starstar_below(rng, (uint64_t)n); /* all rows alike */
        }
        float *cj = c + (size_t)j * d;
        memcpy(cj, x + (size_t)pick * d, (size_t)d * sizeof *cj);
        for (int32_t i = 0; i < n; i++) {
            double dist = 1.0 - dot(x + (size_t)i * d, cj, d);
            dist = dist > 0 ? dist * dist : 0;
            if (dist < near[i])
                near[i] = dist;
        }
    }
    free(near);
    return 0;
}

/* Each row to its most similar centroid; returns how many rows moved, sim[i] gets
 * the similarity to the chosen one. */
static int64_t assign_rows(const float *x, int32_t n, int d, const float *c, int k, float *blk,
                           int32_t *assign, float *sim)
{
    int64_t moved = 0;
    for (int32_t b0 = 0; b0 < n; b0 += BLOCK) {
        int bn = n - b0 < BLOCK ? n - b0 : BLOCK;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, bn, k, d, 1.0f,
                    x + (size_t)b0 * d, d, c, d, 0.0f, blk, k);
        for (int i = 0; i < bn; i++) {
            const float *row = blk + (size_t)i * k, *xi = x + (size_t)(b0 + i) * d;
            int best = 0;
            for (int j = 1; j < k; j++)
                if (row[j] > row[best])
                    best = j;
            /* the near-best again, exactly: the choice must not depend on how BLAS
             * rounds (its thread count, the CPU's kernel) */
            float top = row[best];
            double bs = dot(xi, c + (size_t)best * d, d);
            for (int j = 0; j < k; j++) {
                if (j == best || row[j] < top - 1e-4f)
                    continue;
                double sj = dot(xi, c + (size_t)j * d, d);
                if (sj > bs || (sj == bs && j < best)) {
                    bs = sj;
                    best = j;
                }
            }
            if (assign[b0 + i] != best)
                moved++;
            assign[b0 + i] = best;
            sim[b0 + i] = (float)bs;
        }
    }
    return moved;
}

/* Centroids as the normalised sums of their rows; an empty cluster takes the row
 * least similar to its centroid (each such row used once). */
static void update_centroids(const float *x, int32_t n, int d, int k, int32_t *assign,
                             float *sim, float *c, int32_t *size)
{
    memset(c, 0, (size_t)k * d * sizeof *c);
    memset(size, 0, (size_t)k * sizeof *size);
    for (int32_t i = 0; i < n; i++) {
        float *cj = c + (size_t)assign[i] * d;
        const float *xi = x + (size_t)i * d;
        for (int t = 0; t < d; t++)
            cj[t] += xi[t];
        size[assign[i]]++;
    }
    for (int j = 0; j < k; j++) {
        if (size[j] == 0) {
            int32_t worst = -1;
            for (int32_t i = 0; i < n; i++)
                if (size[assign[i]] > 1 && (worst < 0 || sim[i] < sim[worst]))
                    worst = i;
            if (worst >= 0) {
                float *co = c + (size_t)assign[worst] * d;
                const float *xw = x + (size_t)worst * d;
                for (int t = 0; t < d; t++)
                    co[t] -= xw[t];
                size[assign[worst]]--;
                assign[worst] = j;
                sim[worst] = 1.0f;
                size[j] = 1;
                memcpy(c + (size_t)j * d, xw, (size_t)d * sizeof *c);
            }
        }
    }
    for (int j = 0; j < k; j++)
        normalise(c + (size_t)j * d, d);
}

int rs_kmeans(const rs_embedding *m, int k, const rs_kmeans_opts *opts, rs_clusters **out,
              rs_error *e)
{
    rs_kmeans_opts o;
    if (opts)
        o = *opts;
    else
        rs_kmeans_opts_defaults(&o);
    *out = NULL;
    if (k < 1 || k > m->rows)
        return rs_seterr(e, RS_EUSAGE, "cannot make %d clusters of %d rows", k, m->rows);
    int32_t n = m->rows;
    int d = m->dim, rc = RS_OK;
    float *x = rs_eval_unit_rows(m);
    float *blk = malloc((size_t)BLOCK * k * sizeof *blk);
    float *sim = malloc((size_t)n * sizeof *sim);
    rs_clusters *c = calloc(1, sizeof *c);
    if (c) {
        c->assign = malloc((size_t)n * sizeof *c->assign);
        c->centroids = malloc((size_t)k * d * sizeof *c->centroids);
        c->size = calloc((size_t)k, sizeof *c->size);
        c->name = calloc((size_t)k, sizeof *c->name);
    }
    if (!x || !blk || !sim || !c || !c->assign || !c->centroids || !c->size || !c->name) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory (%d clusters of %d rows)", k, n);
        goto done;
    }
    c->k = k;
    c->rows = n;
    c->dim = d;
    c->silhouette = NAN;
    for (int32_t i = 0; i < n; i++)
        c->assign[i] = -1;
    rs_rng rng;
    rs_rng_seed(&rng, o.seed, 0x6b6d65616e73ULL /* "kmeans" */, (uint64_t)k);
    if (seed_centroids(x, n, d, k, &rng, c->centroids) != 0) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory (k-means seeding)");
        goto done;
    }
    for (int it = 0; it < (o.max_iter > 0 ? o.max_iter : 1); it++) {
        int64_t moved = assign_rows(x, n, d, c->centroids, k, blk, c->assign, sim);
        c->iterations = it + 1;
        update_centroids(x, n, d, k, c->assign, sim, c->centroids, c->size);
        if (moved == 0)
            break;
    }
    assign_rows(x, n, d, c->centroids, k, blk, c->assign, sim); /* final, with sims */
    memset(c->size, 0, (size_t)k * sizeof *c->size);
    double coh = 0;
    for (int32_t i = 0; i < n; i++) {
        c->size[c->assign[i]]++;
        coh += sim[i];
    }
    c->cohesion = coh / n;
    *out = c;
    c = NULL;
done:
    free(x);
    free(blk);
    free(sim);
    rs_clusters_free(c);
    return rc;
}

double rs_clusters_silhouette(const rs_embedding *m, const rs_clusters *c,
                              const rs_kmeans_opts *opts)
{
    rs_kmeans_opts o;
    if (opts)
        o = *opts;
    else
        rs_kmeans_opts_defaults(&o);
    int32_t n = m->rows, s = o.sample > 0 && o.sample < n ? o.sample : n;
    int d = m->dim, k = c->k;
    double result = NAN;
    float *x = rs_eval_unit_rows(m);
    int32_t *pick = malloc((size_t)n * sizeof *pick);
    float *xs = malloc((size_t)s * d * sizeof *xs + 1);
    float *sim = malloc((size_t)s * s * sizeof *sim + 1);
    double *sum = malloc((size_t)k * sizeof *sum);
    int32_t *cnt = malloc((size_t)k * sizeof *cnt);
    if (!x || !pick || !xs || !sim || !sum || !cnt)
        goto done;
    for (int32_t i = 0; i < n; i++)
        pick[i] = i;
    rs_rng rng;
    rs_rng_seed(&rng, o.seed, 0x73696c686f75ULL /* "silhou" */, (uint64_t)n);
    for (int32_t i = 0; i < s && s < n; i++) {
        int32_t j = i + (int32_t)rs_rng_starstar_below(&rng, (uint64_t)(n - i));
        int32_t t = pick[i];
        pick[i] = pick[j];
        pick[j] = t;
    }
    for (int32_t i = 0; i < s; i++)
        memcpy(xs + (size_t)i * d, x + (size_t)pick[i] * d, (size_t)d * sizeof *xs);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s, s, d, 1.0f, xs, d, xs, d, 0.0f, sim,
                s);
    double total = 0;
    for (int32_t i = 0; i < s; i++) {
        memset(sum, 0, (size_t)k * sizeof *sum);
        memset(cnt, 0, (size_t)k * sizeof *cnt);
        int own = c->assign[pick[i]];
        for (int32_t j = 0; j < s; j++) {
            if (j == i)
                continue;
            int cj = c->assign[pick[j]];
            sum[cj] += 1.0 - sim[(size_t)i * s + j];
            cnt[cj]++;
        }
        if (cnt[own] == 0)
            continue; /* alone in its cluster: 0 */
        double a = sum[own] / cnt[own], b = INFINITY;
        for (int j = 0; j < k; j++)
            if (j != own && cnt[j] > 0 && sum[j] / cnt[j] < b)
                b = sum[j] / cnt[j];
        if (isinf(b))
            continue;
        double mx = a > b ? a : b;
        total += mx > 0 ? (b - a) / mx : 0;
    }
    result = total / s;
done:
    free(x);
    free(pick);
    free(xs);
    free(sim);
    free(sum);
    free(cnt);
    return result;
}

int rs_kmeans_choose(const rs_embedding *m, const int *ks, int nk, const rs_kmeans_opts *o,
                     rs_clusters **out, double *scores, rs_error *e)
{
    rs_clusters *best = NULL;
    *out = NULL;
    for (int i = 0; i < nk; i++) {
        if (scores)
            scores[i] = NAN;
        if (ks[i] < 2 || ks[i] > m->rows / 2)
            continue;
        rs_clusters *c = NULL;
        int rc = rs_kmeans(m, ks[i], o, &c, e);
        if (rc != RS_OK) {
            rs_clusters_free(best);
            return rc;
        }
        c->silhouette = rs_clusters_silhouette(m, c, o);
        if (isnan(c->silhouette)) {
            rs_clusters_free(c);
            rs_clusters_free(best);
            return rs_seterr(e, RS_EINTERNAL, "out of memory (silhouette)");
        }
        if (scores)
            scores[i] = c->silhouette;
        if (!best || c->silhouette > best->silhouette ||
            (c->silhouette == best->silhouette && c->k < best->k)) {
            rs_clusters_free(best);
            best = c;
        } else {
            rs_clusters_free(c);
        }
    }
    if (!best)
        return rs_seterr(e, RS_EUSAGE, "no candidate number of clusters fits %d rows "
                         "(each needs 2 <= k <= rows / 2)", m->rows);
    *out = best;
    return RS_OK;
}

/* ---------------------------------------------------------------- names ---- */

typedef struct word {
    char *text;
    int32_t df;      /* named products holding it */
    int32_t last;    /* the last product counted (a word counts once per name) */
    int32_t *per;    /* [k] products of each cluster holding it */
} word;

typedef struct words {
    word *v;
    int32_t *slot; /* open addressing over v's indices, -1 free */
    size_t cap, n;
} words;

static int word_usable(const char *w, size_t len)
{
    static const char *const STOP[] = {"and", "the", "with", "for", "from", "pack", "set", "of"};
    if (len < 3)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (isdigit((unsigned char)w[i]))
            return 0;
    for (size_t i = 0; i < sizeof STOP / sizeof STOP[0]; i++)
        if (strlen(STOP[i]) == len && memcmp(STOP[i], w, len) == 0)
            return 0;
    return 1;
}

static int words_grow(words *t, int k)
{
    size_t cap = t->cap ? 2 * t->cap : 1024;
    int32_t *slot = malloc(cap * sizeof *slot);
    word *v = realloc(t->v, cap / 2 * sizeof *v);
    if (!slot || !v) {
        free(slot);
        if (v)
            t->v = v;
        return -1;
    }
    t->v = v;
    for (size_t i = 0; i < cap; i++)
        slot[i] = -1;
    for (size_t i = 0; i < t->n; i++) {
        size_t h = rs_fnv1a64(RS_FNV64_INIT, v[i].text, strlen(v[i].text)) & (cap - 1);
        while (slot[h] >= 0)
            h = (h + 1) & (cap - 1);
        slot[h] = (int32_t)i;
    }
    free(t->slot);
    t->slot = slot;
    t->cap = cap;
    (void)k;
    return 0;
}

/* The entry of word w (len bytes), added when new; NULL when out of memory. */
static word *words_get(words *t, const char *w, size_t len, int k)
{
    if ((t->n + 1) * 2 > t->cap && words_grow(t, k) != 0)
        return NULL;
    size_t h = rs_fnv1a64(RS_FNV64_INIT, w, len) & (t->cap - 1);
    while (t->slot[h] >= 0) {
        word *x = &t->v[t->slot[h]];
        if (strlen(x->text) == len && memcmp(x->text, w, len) == 0)
            return x;
        h = (h + 1) & (t->cap - 1);
    }
    word *x = &t->v[t->n];
    x->text = strndup(w, len);
    x->per = calloc((size_t)k, sizeof *x->per);
    if (!x->text || !x->per) {
        free(x->text);
        free(x->per);
        return NULL;
    }
    x->df = 0;
    x->last = -1;
    t->slot[h] = (int32_t)t->n++;
    return x;
}

static void words_free(words *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].text);
        free(t->v[i].per);
    }
    free(t->v);
    free(t->slot);
}

/* Counts the usable words of one name (row r, cluster c). */
static int count_name(words *t, const char *name, int32_t r, int c, int k)
{
    char buf[256];
    size_t len = 0;
    for (const char *p = name;; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch && (isalnum(ch) || ch >= 0x80)) {
            if (len < sizeof buf)
                buf[len++] = (char)(ch < 0x80 ? tolower(ch) : ch);
            continue;
        }
        if (len > 0 && len < sizeof buf && word_usable(buf, len)) {
            word *w = words_get(t, buf, len, k);
            if (!w)
                return -1;
            if (w->last != r) {
                w->last = r;
                w->df++;
                w->per[c]++;
            }
        }
        len = 0;
        if (!ch)
            break;
    }
    return 0;
}

/* The name of cluster c: its best words, one more while the name is taken. */
static char *name_of(const words *t, int c, int32_t named, char *const *taken, int n_taken)
{
    enum { MAXW = 6 };
    int32_t top[MAXW];
    double topsc[MAXW];
    int nt = 0;
    for (size_t i = 0; i < t->n; i++) {
        const word *w = &t->v[i];
        if (w->per[c] == 0)
            continue;
        double sc = w->per[c] * log((double)(named + 1) / (w->df + 1));
        int pos = nt < MAXW ? nt++ : MAXW;
        if (pos == MAXW) {
            if (sc < topsc[MAXW - 1] ||
                (sc == topsc[MAXW - 1] && strcmp(w->text, t->v[top[MAXW - 1]].text) > 0))
                continue;
            pos = MAXW - 1;
        }
        while (pos > 0 && (topsc[pos - 1] < sc ||
                           (topsc[pos - 1] == sc && strcmp(t->v[top[pos - 1]].text, w->text) > 0))) {
            topsc[pos] = topsc[pos - 1];
            top[pos] = top[pos - 1];
            pos--;
        }
        topsc[pos] = sc;
        top[pos] = (int32_t)i;
    }
    char buf[200];
    for (int words = 3; words <= (nt > 3 ? nt : 3); words++) {
        size_t used = 0;
        buf[0] = 0;
        for (int i = 0; i < words && i < nt; i++) {
            int k = snprintf(buf + used, sizeof buf - used, "%s%s", i ? " " : "",
                             t->v[top[i]].text);
            if (k < 0 || (size_t)k >= sizeof buf - used)
                break;
            used += (size_t)k;
        }
        if (!buf[0])
            break;
        int dup = 0;
        for (int j = 0; j < n_taken; j++)
            dup |= taken[j] && strcmp(taken[j], buf) == 0;
        if (!dup || words >= nt)
            return strdup(buf);
    }
    snprintf(buf, sizeof buf, "cluster %d", c + 1);
    return strdup(buf);
}

int rs_clusters_name(rs_clusters *c, const rs_embedding *m, const char *const *item_name,
                     rs_error *e)
{
    words t = {0};
    int rc = RS_OK;
    int32_t named = 0;
    for (int32_t r = 0; r < c->rows && r < m->rows; r++) {
        int32_t item = m->row_item[r];
        const char *nm = item >= 0 && item < m->n_items ? item_name[item] : NULL;
        if (!nm)
            continue;
        named++;
        if (count_name(&t, nm, r, c->assign[r], c->k) != 0) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory (cluster names)");
            goto done;
        }
    }
    for (int j = 0; j < c->k; j++) {
        free(c->name[j]);
        c->name[j] = NULL;
    }
    for (int j = 0; j < c->k; j++)
        if (!(c->name[j] = name_of(&t, j, named, c->name, j))) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory (cluster names)");
            goto done;
        }
done:
    words_free(&t);
    return rc;
}
