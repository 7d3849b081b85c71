/* completion.c - the uniform basket-completion scorer (see completion.h). */
#include "completion.h"

#include <cblas.h>
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "als.h"
#include "completion_choice.h"
#include "completion_kernel.h"
#include "ease.h"
#include "glove.h"
#include "knn.h"
#include "model.h"
#include "topheap.h"


static const char *const METHOD_NAMES[RS_COMP_N] = {"popularity", "itemitem", "sgns", "als",
                                                    "ease", "glove"};

const char *rs_comp_method_name(rs_comp_method m)
{
    return ((int)m >= 0 && m < RS_COMP_N) ? METHOD_NAMES[m] : NULL;
}

int rs_comp_method_parse(const char *name, rs_comp_method *out, rs_error *e)
{
    for (int m = 0; m < RS_COMP_N; m++)
        if (strcmp(name, METHOD_NAMES[m]) == 0) {
            *out = (rs_comp_method)m;
            return RS_OK;
        }
    return rs_seterr(e, RS_EUSAGE,
                     "unknown completion method '%s' (popularity, itemitem, sgns, als, ease, "
                     "glove)",
                     name);
}

struct rs_completion {
    rs_completion_parts p;
    /* owned when opened from the store */
    rs_embedding *own_sgns, *own_als, *own_ease, *own_glove;
    rs_knn *own_knn;
    int64_t *own_pop;
    rs_als_scorer *als_sc;
    float *tmp;     /* [n_items] one method's scores */
    float *vec;     /* [max dim] summed context vector */
    float *rowbuf;  /* [RS_COMP_BLOCK * n_items] sgns scores of a block (blends only) */
    float *vblock;  /* [RS_COMP_BLOCK * sgns dim] summed context vectors of a block */
    int blk_known[RS_COMP_BLOCK]; /* known context items per context of the block */
    const float *sgns_rows; /* when set: the current context's sgns scores by row */
    int sgns_known;         /* and its known count */
    int generic;            /* kernel cap (rs_completion_use_kernel): 0 best, 1 avx2, 2 portable */
    int32_t *norow;         /* items without an sgns row (ascending) */
    float *packed;          /* the sgns output matrix in panels (see completion_kernel.h) */
    int32_t *pack_item;     /* item of each packed row: the items with a row, ascending */
    uint8_t *contig;        /* per panel: its 16 items are consecutive */
    int32_t n_norow;
    float *popscore; /* [n_items] log1p(count) or -INFINITY */
    int32_t *cand_idx; /* items any part can score, ascending */
    int32_t n_cand;
    uint8_t *cand;  /* [n_items] candidate in the blend */
    int single;     /* the method when exactly one weight is set, else -1 */
    char name[256];
};

void rs_completion_close(rs_completion *c)
{
    if (!c)
        return;
    rs_embedding_free(c->own_sgns);
    rs_embedding_free(c->own_als);
    rs_embedding_free(c->own_ease);
    rs_embedding_free(c->own_glove);
    rs_knn_free(c->own_knn);
    free(c->own_pop);
    rs_als_scorer_free(c->als_sc);
    free(c->tmp);
    free(c->vec);
    free(c->rowbuf);
    free(c->vblock);
    free(c->norow);
    free(c->packed);
    free(c->pack_item);
    free(c->contig);
    free(c->popscore);
    free(c->cand_idx);
    free(c->cand);
    free(c);
}

int32_t rs_completion_n_items(const rs_completion *c) { return c->p.n_items; }
const char *rs_completion_name(const rs_completion *c) { return c->name; }

/* The items without an sgns row, and (when sgns has a weight) the packed output
 * matrix of the kernels. */
static int prepare_sgns(rs_completion *c, rs_error *e)
{
    const rs_completion_parts *p = &c->p;
    c->norow = malloc(((size_t)p->n_items + 1) * sizeof *c->norow);
    if (!c->norow)
        return rs_seterr(e, RS_EINTERNAL, "completion: out of memory");
    for (int32_t i = 0; i < p->n_items; i++)
        if (i >= p->sgns->n_items || p->sgns->item_row[i] < 0)
            c->norow[c->n_norow++] = i;
    if (p->weights[RS_COMP_SGNS] == 0.0)
        return RS_OK;
    size_t np = ((size_t)p->sgns->rows + COMP_PANEL - 1) / COMP_PANEL;
    c->packed = malloc((np * COMP_PANEL * (size_t)p->sgns->dim + 1) * sizeof *c->packed);
    c->pack_item = malloc(((size_t)p->sgns->rows + 1) * sizeof *c->pack_item);
    c->contig = malloc(np + 1);
    if (!c->packed || !c->pack_item || !c->contig)
        return rs_seterr(e, RS_EINTERNAL, "completion: out of memory");
    int32_t r = 0;
    for (int32_t i = 0; i < p->sgns->n_items && r < p->sgns->rows; i++)
        if (p->sgns->item_row[i] >= 0)
            c->pack_item[r++] = i;
    if (r != p->sgns->rows)
        return rs_seterr(e, RS_EDATA, "completion: the product model's row map is "
                                      "inconsistent (%d items with a row, %d rows)",
                         (int)r, (int)p->sgns->rows);
    comp_kernel_pack(p->sgns, c->pack_item, c->contig, c->packed);
    return RS_OK;
}

/* "sgns", or "blend(ease 0.70, sgns 0.20, popularity 0.10)". */
static void set_name(rs_completion *c)
{
    const rs_completion_parts *p = &c->p;
    if (c->single >= 0) {
        snprintf(c->name, sizeof c->name, "%s", METHOD_NAMES[c->single]);
        return;
    }
    size_t at = (size_t)snprintf(c->name, sizeof c->name, "blend(");
    int first = 1;
    for (int m = 0; m < RS_COMP_N && at < sizeof c->name; m++)
        if (p->weights[m] != 0.0) {
            at += (size_t)snprintf(c->name + at, sizeof c->name - at, "%s%s %.2f",
                                   first ? "" : ", ", METHOD_NAMES[m], p->weights[m]);
            first = 0;
        }
    if (at < sizeof c->name)
        snprintf(c->name + at, sizeof c->name - at, ")");
}

/* Checks the parts and sets up scratch space, the ALS scorer and the name. */
static int finish(rs_completion *c, rs_error *e)
{
    const rs_completion_parts *p = &c->p;
    const void *part[RS_COMP_N] = {p->pop_counts, p->knn, p->sgns, p->als, p->ease,
                                   p->glove};
    int used = 0, last = -1;
    for (int m = 0; m < RS_COMP_N; m++) {
        if (p->weights[m] == 0.0)
            continue;
        if (!part[m])
            return rs_seterr(e, RS_EUSAGE, "completion: method %s has weight %g but no model",
                             METHOD_NAMES[m], p->weights[m]);
        if (!isfinite(p->weights[m]))
            return rs_seterr(e, RS_EUSAGE, "completion: weight of %s is not finite",
                             METHOD_NAMES[m]);
        used++;
        last = m;
    }
    if (used == 0)
        return rs_seterr(e, RS_EUSAGE, "completion: no method has a weight");
    if (p->sgns && p->weights[RS_COMP_SGNS] != 0.0 && !p->sgns->out)
        return rs_seterr(e, RS_EDATA, "completion: the product model has input vectors only "
                                      "(no output vectors, e.g. imported from word2vec): "
                                      "sgns scores in.out");
    const rs_embedding *embs[4] = {p->sgns, p->als, p->ease, p->glove};
    int maxdim = 1;
    for (int i = 0; i < 4; i++)
        if (embs[i]) {
            if (embs[i]->n_items > p->n_items)
                return rs_seterr(e, RS_EDATA,
                                 "completion: a model covers %d items, the catalogue %d",
                                 (int)embs[i]->n_items, (int)p->n_items);
            if (embs[i]->dim > maxdim)
                maxdim = embs[i]->dim;
        }
    if (p->knn && rs_knn_n_items(p->knn) > p->n_items)
        return rs_seterr(e, RS_EDATA, "completion: item-item covers more items than the catalogue");
    c->single = used == 1 ? last : -1;
    c->tmp = malloc(((size_t)p->n_items + 1) * sizeof *c->tmp);
    c->vec = malloc((size_t)maxdim * sizeof *c->vec);
    c->cand = malloc((size_t)p->n_items + 1);
    /* blends: the sgns scores of a block, item order (a single sgns scorer writes into
     * the caller's block instead) */
    int blend_sgns = p->sgns && p->weights[RS_COMP_SGNS] != 0.0 && used > 1;
    c->rowbuf = malloc(((size_t)(blend_sgns ? p->n_items : 0) * RS_COMP_BLOCK + 1) *
                       sizeof *c->rowbuf);
    c->vblock = malloc(((size_t)(p->sgns ? p->sgns->dim : 0) * RS_COMP_BLOCK + 1) *
                       sizeof *c->vblock);
    if (!c->tmp || !c->vec || !c->cand || !c->rowbuf || !c->vblock)
        return rs_seterr(e, RS_EINTERNAL, "completion: out of memory");
    c->cand_idx = malloc(((size_t)p->n_items + 1) * sizeof *c->cand_idx);
    if (!c->cand_idx)
        return rs_seterr(e, RS_EINTERNAL, "completion: out of memory");
    memset(c->cand, 0, (size_t)p->n_items);
    if (p->pop_counts)
        for (int32_t i = 0; i < p->n_items; i++)
            c->cand[i] |= p->pop_counts[i] > 0;
    if (p->knn)
        for (int32_t i = 0; i < rs_knn_n_items(p->knn); i++)
            c->cand[i] |= rs_knn_count(p->knn, i) > 0;
    for (int i = 0; i < 4; i++)
        if (embs[i])
            for (int32_t r = 0; r < embs[i]->rows; r++)
                if (embs[i]->row_item[r] >= 0 && embs[i]->row_item[r] < p->n_items)
                    c->cand[embs[i]->row_item[r]] = 1;
    c->n_cand = 0;
    for (int32_t i = 0; i < p->n_items; i++)
        if (c->cand[i])
            c->cand_idx[c->n_cand++] = i;
    if (p->sgns) {
        int rc = prepare_sgns(c, e);
        if (rc)
            return rc;
    }
    if (p->pop_counts) {
        c->popscore = malloc(((size_t)p->n_items + 1) * sizeof *c->popscore);
        if (!c->popscore)
            return rs_seterr(e, RS_EINTERNAL, "completion: out of memory");
        for (int32_t i = 0; i < p->n_items; i++)
            c->popscore[i] =
                p->pop_counts[i] > 0 ? (float)log1p((double)p->pop_counts[i]) : -INFINITY;
    }
    if (p->als && p->weights[RS_COMP_ALS] != 0.0) {
        int rc = rs_als_scorer_new(p->als, p->als_lambda, p->als_alpha, &c->als_sc, e);
        if (rc)
            return rc;
    }
    set_name(c);
    return RS_OK;
}

int rs_completion_from_parts(const rs_completion_parts *p, rs_completion **out, rs_error *e)
{
    *out = NULL;
    rs_completion *c = calloc(1, sizeof *c);
    if (!c)
        return rs_seterr(e, RS_EINTERNAL, "completion: out of memory");
    c->p = *p;
    int rc = finish(c, e);
    if (rc) {
        rs_completion_close(c);
        return rc;
    }
    *out = c;
    return RS_OK;
}

/* in.out of the product model for a block of contexts: the summed context input
 * vectors (one row each) against the packed output matrix, each panel read once per
 * block.  dst[b * n_items + item] receives the score of the item for context b (items
 * without a row: -INFINITY), blk_known[b] the known context count.  The single-context
 * path goes through here too (nb = 1). */
static void sum_block(const rs_completion *c, const int32_t *ctx, const int32_t *off, int nb,
                      float *vblock, int *blk_known)
{
    const rs_embedding *m = c->p.sgns;
    int d = m->dim;
    memset(vblock, 0, (size_t)nb * (size_t)d * sizeof *vblock);
    for (int b = 0; b < nb; b++) {
        float *v = vblock + (size_t)b * (size_t)d;
        int known = 0;
        for (int32_t t = off[b]; t < off[b + 1]; t++) {
            int32_t q = ctx[t];
            if (q < 0 || q >= m->n_items || m->item_row[q] < 0)
                continue;
            const float *x = m->in + (size_t)m->item_row[q] * (size_t)d;
            for (int j = 0; j < d; j++)
                v[j] += x[j];
            known++;
        }
        blk_known[b] = known;
    }
}

static void sgns_block(rs_completion *c, const int32_t *ctx, const int32_t *off, int nb,
                       float *dst)
{
    const rs_embedding *m = c->p.sgns;
    sum_block(c, ctx, off, nb, c->vblock, c->blk_known);
    size_t N = (size_t)c->p.n_items;
    comp_kernel_dots(c->packed, m->rows, m->dim, c->vblock, nb, dst, N, c->pack_item,
                     c->contig, NULL, c->generic);
    for (int b = 0; b < nb; b++)
        for (int32_t j = 0; j < c->n_norow; j++)
            dst[(size_t)b * N + (size_t)c->norow[j]] = -INFINITY;
}

/* The current context's sgns scores (c->sgns_rows, item order) into scores. */
static int score_sgns(rs_completion *c, float *scores)
{
    if (scores != c->sgns_rows)
        memcpy(scores, c->sgns_rows, (size_t)c->p.n_items * sizeof *scores);
    return c->sgns_known;
}

static int score_method(rs_completion *c, int m, const int32_t *ctx, int n, float *scores)
{
    const rs_completion_parts *p = &c->p;
    int known = 0;
    switch (m) {
    case RS_COMP_POPULARITY:
        memcpy(scores, c->popscore, (size_t)p->n_items * sizeof *scores);
        for (int t = 0; t < n; t++)
            known += ctx[t] >= 0 && ctx[t] < p->n_items && p->pop_counts[ctx[t]] > 0;
        return known;
    case RS_COMP_ITEMITEM:
        known = rs_knn_score(p->knn, ctx, n, scores);
        for (int32_t i = rs_knn_n_items(p->knn); i < p->n_items; i++)
            scores[i] = -INFINITY;
        return known;
    case RS_COMP_SGNS:
        if (!c->sgns_rows) { /* zscores path: one context */
            int32_t off[2] = {0, n};
            sgns_block(c, ctx, off, 1, scores);
            c->sgns_rows = scores;
            c->sgns_known = c->blk_known[0];
            known = score_sgns(c, scores);
            c->sgns_rows = NULL;
            return known;
        }
        return score_sgns(c, scores);
    case RS_COMP_ALS:
        known = rs_als_score(c->als_sc, ctx, n, scores);
        for (int32_t i = p->als->n_items; i < p->n_items; i++)
            scores[i] = -INFINITY;
        return known;
    case RS_COMP_EASE:
        known = rs_ease_score(p->ease, ctx, n, scores);
        for (int32_t i = p->ease->n_items; i < p->n_items; i++)
            scores[i] = -INFINITY;
        return known;
    case RS_COMP_GLOVE:
        known = rs_embedding_score_inout(p->glove, ctx, n, scores);
        for (int32_t i = p->glove->n_items; i < p->n_items; i++)
            scores[i] = -INFINITY;
        return known < 0 ? 0 : known;
    default:
        return 0;
    }
}

/* z-scores of method m for the context into z (n_items); items the method cannot
 * score get NaN; *zlo receives the lowest z.  Returns the method's known count, or -1
 * when it scored nothing. */
static int zscore_method(rs_completion *c, int m, const int32_t *ctx, int n, float *z,
                         float *zlo)
{
    const int32_t *idx = c->cand_idx;
    int32_t nc = c->n_cand;
    int k = score_method(c, m, ctx, n, z);
    double sum = 0.0, sq = 0.0, lo = INFINITY;
    int64_t cnt = 0;
    for (int32_t j = 0; j < nc; j++) {
        float s = z[idx[j]];
        if (s == -INFINITY || isnan(s)) {
            z[idx[j]] = NAN;
            continue;
        }
        sum += s;
        sq += (double)s * s;
        if (s < lo)
            lo = s;
        cnt++;
    }
    if (cnt == 0) {
        *zlo = 0.0f;
        return -1;
    }
    double mean = sum / (double)cnt;
    double var = sq / (double)cnt - mean * mean;
    double sd = var > 1e-24 ? sqrt(var) : 1.0;
    for (int32_t j = 0; j < nc; j++) {
        float *v = &z[idx[j]];
        if (!isnan(*v))
            *v = (float)((*v - mean) / sd);
    }
    *zlo = (float)((lo - mean) / sd);
    return k;
}

/* One context, with the sgns part (if any) already in c->sgns_rows. */
static int score_one(rs_completion *c, const int32_t *ctx, int n, float *scores)
{
    const rs_completion_parts *p = &c->p;
    int32_t N = p->n_items;
    int known = 0;
    if (c->single >= 0) {
        known = score_method(c, c->single, ctx, n, scores);
        for (int t = 0; t < n; t++)
            if (ctx[t] >= 0 && ctx[t] < N)
                scores[ctx[t]] = -INFINITY;
        return known;
    }
    /* one method at a time into tmp, accumulated into scores (same arithmetic and
     * order as combine(): methods in order, NaN -> zlo) */
    const int32_t *idx = c->cand_idx;
    int32_t nc = c->n_cand;
    for (int32_t j = 0; j < nc; j++) {
        scores[idx[j]] = 0.0f;
        c->cand[idx[j]] = 0;
    }
    for (int m = 0; m < RS_COMP_N; m++) {
        double w = p->weights[m];
        if (w == 0.0)
            continue;
        float zlo;
        int k = zscore_method(c, m, ctx, n, c->tmp, &zlo);
        if (m != RS_COMP_POPULARITY && k > known)
            known = k;
        for (int32_t j = 0; j < nc; j++) {
            int32_t i = idx[j];
            float v = c->tmp[i];
            if (isnan(v)) {
                scores[i] += (float)w * zlo;
            } else {
                scores[i] += (float)w * v;
                c->cand[i] = 1;
            }
        }
    }
    for (int32_t i = 0; i < N; i++)
        if (!c->cand[i])
            scores[i] = -INFINITY;
    for (int t = 0; t < n; t++)
        if (ctx[t] >= 0 && ctx[t] < N)
            scores[ctx[t]] = -INFINITY;
    return known;
}

int rs_completion_score_many(rs_completion *c, const int32_t *ctx, const int32_t *off,
                             int n_contexts, float *scores, int *known)
{
    int32_t N = c->p.n_items;
    int use_sgns = c->p.sgns && c->p.weights[RS_COMP_SGNS] != 0.0;
    int total = 0;
    for (int b0 = 0; b0 < n_contexts; b0 += RS_COMP_BLOCK) {
        int nb = n_contexts - b0 < RS_COMP_BLOCK ? n_contexts - b0 : RS_COMP_BLOCK;
        /* a single sgns scorer writes straight into the caller's block */
        float *dst = c->single == RS_COMP_SGNS ? scores + (size_t)b0 * (size_t)N : c->rowbuf;
        if (use_sgns)
            sgns_block(c, ctx, off + b0, nb, dst);
        for (int b = 0; b < nb; b++) {
            const int32_t *cx = ctx + off[b0 + b];
            int n = off[b0 + b + 1] - off[b0 + b];
            if (use_sgns) {
                c->sgns_rows = dst + (size_t)b * (size_t)N;
                c->sgns_known = c->blk_known[b];
            }
            int k = score_one(c, cx, n, scores + (size_t)(b0 + b) * (size_t)N);
            c->sgns_rows = NULL;
            if (known)
                known[b0 + b] = k;
            total += k > 0;
        }
    }
    return total;
}

int rs_completion_topk_ok(const rs_completion *c)
{
    return c->single == RS_COMP_SGNS && c->packed != NULL;
}

void rs_completion_use_kernel(rs_completion *c, int kernel)
{
    c->generic = kernel < 0 ? 0 : kernel > 2 ? 2 : kernel;
}

int rs_completion_topk_many(const rs_completion *c, const int32_t *ctx, const int32_t *off,
                            int n_contexts, const uint8_t *allow, int k, int32_t *idx,
                            float *sc, int *cnt, int *known)
{
    if (!rs_completion_topk_ok(c) || k < 1)
        return -1;
    const rs_embedding *m = c->p.sgns;
    tk_heap h[RS_COMP_BLOCK];
    int bk[RS_COMP_BLOCK];
    /* its own scratch: concurrent calls may share the scorer */
    float *vb = malloc(((size_t)m->dim * RS_COMP_BLOCK + 1) * sizeof *vb);
    if (!vb)
        return -1;
    int total = 0;
    for (int b0 = 0; b0 < n_contexts; b0 += RS_COMP_BLOCK) {
        int nb = n_contexts - b0 < RS_COMP_BLOCK ? n_contexts - b0 : RS_COMP_BLOCK;
        sum_block(c, ctx, off + b0, nb, vb, bk);
        for (int b = 0; b < nb; b++) {
            tk_heap *t = &h[b];
            t->h.idx = idx + (size_t)(b0 + b) * (size_t)k;
            t->h.sc = sc + (size_t)(b0 + b) * (size_t)k;
            t->h.n = 0;
            t->h.k = k;
            t->thr = -INFINITY;
            t->ctx = ctx + off[b0 + b];
            t->nctx = off[b0 + b + 1] - off[b0 + b];
            t->allow = allow;
        }
        comp_kernel_dots(c->packed, m->rows, m->dim, vb, nb, NULL, 0, c->pack_item,
                         c->contig, h, c->generic);
        for (int b = 0; b < nb; b++) {
            rs_topheap_sort(&h[b].h);
            cnt[b0 + b] = h[b].h.n;
            if (known)
                known[b0 + b] = bk[b];
            total += bk[b] > 0;
        }
    }
    free(vb);
    return total;
}

int rs_completion_score(rs_completion *c, const int32_t *ctx, int n, float *scores)
{
    int32_t off[2] = {0, n};
    int known = 0;
    rs_completion_score_many(c, ctx, off, 1, scores, &known);
    return known;
}

int rs_completion_zscores(rs_completion *c, const int32_t *ctx, int n, float *const *z,
                          float *zlo)
{
    int known = 0;
    for (int m = 0; m < RS_COMP_N; m++) {
        zlo[m] = 0.0f;
        if (!z[m])
            continue;
        int k = zscore_method(c, m, ctx, n, z[m], &zlo[m]);
        if (m != RS_COMP_POPULARITY && k > known)
            known = k;
    }
    return known;
}

int32_t rs_completion_candidates(const rs_completion *c, const int32_t **idx)
{
    *idx = c->cand_idx;
    return c->n_cand;
}

/* ---- opening the active choice from the store ---- */

static int load_model_by_id(rs_store *s, int64_t id, const char *kind, rs_embedding **out,
                            char **params, rs_error *e)
{
    sqlite3 *db = rs_store_db(s);
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    *out = NULL;
    if (sqlite3_prepare_v2(db, "SELECT path, params FROM models WHERE id = ? AND kind = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "completion: model lookup");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(st, 0);
        const char *pj = (const char *)sqlite3_column_text(st, 1);
        if (params && pj) {
            *params = strdup(pj);
            if (!*params)
                rc = rs_seterr(e, RS_EINTERNAL, "completion: out of memory");
        }
        if (!rc)
            rc = rs_model_load(path ? path : "", out, e);
    } else if (step == SQLITE_DONE) {
        rc = RS_EUSAGE; /* not found: caller falls back to the active one */
        rs_seterr(e, RS_EUSAGE, "completion: no %s model with id %" PRId64, kind, id);
    } else {
        rc = rs_store_sqlerr(s, e, "completion: model lookup");
    }
    sqlite3_finalize(st);
    return rc;
}

static int load_active_params(rs_store *s, int64_t model_id, char **params, rs_error *e)
{
    sqlite3 *db = rs_store_db(s);
    sqlite3_stmt *st = NULL;
    *params = NULL;
    if (sqlite3_prepare_v2(db, "SELECT params FROM models WHERE id = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return rs_store_sqlerr(s, e, "completion: model params");
    sqlite3_bind_int64(st, 1, model_id);
    int rc = RS_OK;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        *params = strdup((const char *)sqlite3_column_text(st, 0));
        if (!*params)
            rc = rs_seterr(e, RS_EINTERNAL, "completion: out of memory");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Loads the model of kind: the given id when > 0 and present, else the active one of
 * the city (with the registry's fallback to all cities). */
static int load_part(rs_store *s, int64_t city, const char *kind, int64_t id,
                     rs_embedding **out, char **params, rs_error *e)
{
    if (id > 0) {
        int rc = load_model_by_id(s, id, kind, out, params, e);
        if (rc != RS_EUSAGE)
            return rc;
    }
    rs_model_info info;
    int64_t used = 0;
    int rc = rs_registry_load_active(s, city, kind, "all", out, &used, &info, e);
    if (rc)
        return rc;
    if (params)
        rc = load_active_params(s, info.id, params, e);
    return rc;
}

static int load_popularity(rs_store *s, int64_t city, rs_baskets b, int32_t n_items,
                           int64_t **out, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int64_t *pop = calloc((size_t)n_items + 1, sizeof *pop);
    *out = NULL;
    if (!pop)
        return rs_seterr(e, RS_EINTERNAL, "completion: out of memory");
    if (sqlite3_prepare_v2(rs_store_db(s),
                           b == RS_BASKETS_CATEGORIES
                               ? "SELECT category_id, receipts FROM category_popularity "
                                 "WHERE city_id = ?"
                               : "SELECT product_id, receipts FROM product_popularity "
                                 "WHERE city_id = ?",
                           -1, &st, NULL) != SQLITE_OK) {
        free(pop);
        return rs_store_sqlerr(s, e, "completion: popularity");
    }
    sqlite3_bind_int64(st, 1, city);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t pid = sqlite3_column_int64(st, 0);
        if (pid >= 1 && pid <= n_items)
            pop[pid - 1] = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        free(pop);
        return rs_store_sqlerr(s, e, "completion: popularity");
    }
    *out = pop;
    return RS_OK;
}

static double json_num(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* Loads the model parts of the weighted methods of c (kinds of baskets b; ids from the
 * choice, 0 = the active one). */
static int load_parts(rs_store *s, int64_t city_id, int64_t city, rs_baskets b,
                      const int64_t *ids, rs_completion *c, rs_error *e)
{
    rs_embedding **own[RS_COMP_N] = {NULL, NULL, &c->own_sgns, &c->own_als, &c->own_ease,
                                     &c->own_glove};
    const rs_embedding **part[RS_COMP_N] = {NULL, NULL, &c->p.sgns, &c->p.als, &c->p.ease,
                                            &c->p.glove};
    char *als_params = NULL;
    cJSON *ap = NULL;
    rs_corpus *corpus = NULL, *cats = NULL;
    int rc = RS_OK;
    for (int m = RS_COMP_SGNS; m < RS_COMP_N && !rc; m++) {
        if (c->p.weights[m] == 0.0)
            continue;
        const rs_kind *kd = rs_kind_for_method(b, m);
        if (!kd) {
            rc = rs_seterr(e, RS_EDATA, "completion: no %s kind over these baskets",
                           rs_comp_method_name((rs_comp_method)m));
            break;
        }
        rc = load_part(s, city_id, kd->name, ids[m], own[m],
                       m == RS_COMP_ALS ? &als_params : NULL, e);
        if (!rc)
            *part[m] = *own[m];
    }
    if (!rc && c->p.weights[RS_COMP_ALS] != 0.0) {
        ap = als_params ? cJSON_Parse(als_params) : NULL;
        c->p.als_lambda = (float)json_num(ap, "als_lambda", 0.1);
        c->p.als_alpha = (float)json_num(ap, "als_alpha", 10.0);
    }
    if (!rc && c->p.weights[RS_COMP_ITEMITEM] != 0.0) {
        if (!(rc = rs_corpus_load(s, city, &corpus, e)) &&
            (b != RS_BASKETS_CATEGORIES || !(rc = rs_corpus_categories(corpus, &cats, e))) &&
            !(rc = rs_knn_build(cats ? cats : corpus, &c->own_knn, e)))
            c->p.knn = c->own_knn;
    }
    rs_corpus_free(corpus);
    rs_corpus_free(cats);
    cJSON_Delete(ap);
    free(als_params);
    return rc;
}

/* The size of the category index space (categories.id - 1): the largest id, read from
 * the table itself (a count(*) reads the smallest index, and a damaged one would
 * silently shrink the space). */
static int max_category_id(rs_store *s, int64_t *n, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    *n = 0;
    if (sqlite3_prepare_v2(rs_store_db(s), "SELECT max(id) FROM categories", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        rc = rs_store_sqlerr(s, e, "completion: categories");
    else
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int rs_completion_open(rs_store *s, int64_t city_id, rs_completion **out,
                       int64_t *used_city, rs_error *e)
{
    return rs_completion_open_baskets(s, city_id, RS_BASKETS_PRODUCTS, out, used_city, e);
}

int rs_completion_open_baskets(rs_store *s, int64_t city_id, rs_baskets b, rs_completion **out,
                               int64_t *used_city, rs_error *e)
{
    int rc = RS_OK;
    rs_completion *c = NULL;
    int64_t city = city_id;
    rs_completion_choice choice;
    int found = 0, cats = b == RS_BASKETS_CATEGORIES;
    *out = NULL;
    c = calloc(1, sizeof *c);
    if (!c) {
        rc = rs_seterr(e, RS_EINTERNAL, "completion: out of memory");
        goto done;
    }
    if ((rc = rs_choice_load(s, cats ? RS_CHOICE_CATEGORIES : RS_CHOICE_COMPLETION, b, city_id,
                             &choice, &found, &city, NULL, e)))
        goto done;
    if (cats && !found) {
        rc = rs_seterr(e, RS_EUSAGE, "completion: no category ranking stored (train it)");
        goto done;
    }
    int64_t n_items = 0;
    if ((rc = cats ? max_category_id(s, &n_items, e) : rs_store_count(s, "products", &n_items, e)))
        goto done;
    if (n_items <= 0) {
        rc = rs_seterr(e, RS_EUSAGE, "completion: the database holds no %s",
                       cats ? "categories" : "products");
        goto done;
    }
    c->p.n_items = (int32_t)n_items;
    int64_t ids[RS_COMP_N] = {0};
    if (found) {
        memcpy(c->p.weights, choice.weights, sizeof c->p.weights);
        memcpy(ids, choice.models, sizeof ids);
    } else {
        /* no choice stored: the product model's in.out, when it has output vectors (not
         * a word2vec import without them), else popularity */
        rs_error le = {0};
        if (load_part(s, city_id, RS_KIND_PRODUCT, 0, &c->own_sgns, NULL, &le) == RS_OK &&
            c->own_sgns->out) {
            c->p.weights[RS_COMP_SGNS] = 1.0;
            c->p.sgns = c->own_sgns;
        } else {
            rs_embedding_free(c->own_sgns);
            c->own_sgns = NULL;
            c->p.weights[RS_COMP_POPULARITY] = 1.0;
        }
    }
    if (found && (rc = load_parts(s, city_id, city, b, ids, c, e)))
        goto done;
    /* popularity: always loaded (cheap), used when weighted */
    if ((rc = load_popularity(s, city, b, c->p.n_items, &c->own_pop, e)))
        goto done;
    c->p.pop_counts = c->own_pop;
    if ((rc = finish(c, e)))
        goto done;
    if (used_city)
        *used_city = city;
    *out = c;
    c = NULL;
done:
    if (rc)
        rs_errctx(e, "%s model of city %" PRId64, cats ? "category ranking" : "completion",
                  city_id);
    rs_completion_close(c);
    return rc;
}
