/* rec_synonyms.c - the synonyms kind (recommend.h): substitutes by the cosine of the
 * product model's input vectors, within the query's categories by default.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rec_internal.h"

/* The whole normalised matrix (built once, under the cache's mutex); NULL when out of
 * memory. */
static const float *norm_matrix(const rs_recommender *r)
{
    norm_cache *c = r->norm;
    const rs_embedding *m = r->pm.m;
    pthread_mutex_lock(&c->mu);
    if (!c->m && !c->failed) {
        size_t rows = (size_t)m->rows, dim = (size_t)m->dim;
        float *n = malloc(rows * dim * sizeof *n + 1);
        if (n) {
            for (size_t i = 0; i < rows; i++)
                rec_norm_row(m, c, (int32_t)i, n + i * dim);
            c->m = n;
        } else {
            c->failed = 1;
        }
    }
    const float *out = c->m;
    pthread_mutex_unlock(&c->mu);
    return out;
}

/* Products of the query's categories (substitutes share a need, so they live there):
 * a dot product each with the normalised rows. */
static void scan_categories(const rs_recommender *r, const rs_rec_query *q,
                            rs_rec_result *res, rs_topheap *t)
{
    rs_rec_scratch *sc = res->scratch;
    const rs_embedding *m = r->pm.m;
    int dim = m->dim;
    for (int ci = 0; ci < res->n_query_categories; ci++) {
        int32_t c = res->query_categories[ci];
        for (int64_t j = r->cat_off[c]; j < r->cat_off[c + 1]; j++) {
            int32_t p = r->cat_items[j];
            if (!sc->cn && j + REC_PREFETCH_AHEAD < r->cat_off[c + 1])
                rec_prefetch_row(m, m->in, r->cat_items[j + REC_PREFETCH_AHEAD]);
            if (sc->isq[p] || !rec_has_row(m, p) || rec_masked_out(r, q, p))
                continue;
            /* the same bits either way: rec_cat_rows() is made of rec_norm_row()s */
            const float *x = sc->nr;
            if (sc->cn)
                x = sc->cn + (size_t)j * (size_t)dim;
            else
                rec_norm_row(m, r->norm, m->item_row[p], sc->nr);
            rs_topheap_push(t, cblas_sdot(dim, sc->v, 1, x, 1), p);
        }
    }
}

/* Every product of the model: one sgemv over the whole normalised matrix.  0, or -1
 * when out of memory. */
static int scan_all(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res,
                    rs_topheap *t)
{
    rs_rec_scratch *sc = res->scratch;
    const rs_embedding *m = r->pm.m;
    if (m->rows <= 0)
        return 0;
    const float *pn = norm_matrix(r);
    if (!pn)
        return -1;
    cblas_sgemv(CblasRowMajor, CblasNoTrans, m->rows, m->dim, 1.0f, pn, m->dim, sc->v, 1,
                0.0f, sc->f, 1);
    for (int32_t row = 0; row < m->rows; row++) {
        int32_t p = m->row_item[row];
        if (p < 0 || p >= r->n_products || sc->isq[p] || rec_masked_out(r, q, p))
            continue;
        rs_topheap_push(t, sc->f[row], p);
    }
    return 0;
}

/* Candidates ranked beyond the k rows asked for. */
static int spare(int k)
{
    return 3 * k + 8;
}

/* A candidate bought with the query far above chance is a complement, not a substitute
 * (substitutes meet the same need: the same contexts, rarely the same receipt): lift
 * at least DEMOTE_LIFT and the count significantly above what independence predicts
 * (Poisson upper tail below DEMOTE_P). */
#define DEMOTE_LIFT 2.0
#define DEMOTE_P 0.01

static int is_complement(const rs_recommender *r, const rs_rec_row *row, int64_t qn)
{
    if (row->copurchase <= 0 || row->popularity <= 0 || qn <= 0 || row->lift < DEMOTE_LIFT)
        return 0;
    double expect = (double)row->popularity * (double)qn / (double)r->n_receipts;
    return rec_poisson_sf(row->copurchase, expect) < DEMOTE_P;
}

/* The list from the sorted candidates of t (best cosine first): with their co-purchase
 * counts, the complements among them demoted after every substitute (each group in
 * cosine order), the first k kept.  0, or -1 when out of memory. */
static int demote_complements(const rs_recommender *r, const rs_rec_query *q,
                              rs_rec_result *res, rs_rec_list *l, const rs_topheap *t)
{
    int k = q->k[RS_REC_SYNONYMS];
    int64_t qn = 0;
    if (rec_query_receipts(r, res, &qn) || rec_list_reserve(l, t->n))
        return -1;
    int n = 0, nd = 0;
    /* substitutes fill the list from the front, complements are kept from the back
     * (in reverse) and moved after them */
    for (int i = 0; i < t->n; i++) {
        rs_rec_row row;
        rec_fill_product_row(r, &row, t->idx[i], t->sc[i]);
        rec_copurchase(r, res, t->idx[i], &row);
        row.demoted = !(q->flags & RS_REC_KEEP_BELOW_CHANCE) && is_complement(r, &row, qn);
        if (row.demoted)
            l->rows[t->n - 1 - nd++] = row;
        else
            l->rows[n++] = row;
    }
    for (int i = 0; i < nd / 2; i++) { /* the complements back in cosine order */
        rs_rec_row x = l->rows[n + i];
        l->rows[n + i] = l->rows[t->n - 1 - i];
        l->rows[t->n - 1 - i] = x;
    }
    l->n = n + nd < k ? n + nd : k;
    return 0;
}

void rec_run_synonyms(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res)
{
    rs_rec_list *l = &res->lists[RS_REC_SYNONYMS];
    rs_rec_scratch *sc = res->scratch;
    rec_list_model(l, &r->pm);
    if (!r->pm.m)
        return;
    const rs_embedding *m = r->pm.m;
    int dim = m->dim;
    if (rec_grow(&sc->v, &sc->v_cap, (size_t)dim, sizeof *sc->v) ||
        rec_grow(&sc->nr, &sc->nr_cap, (size_t)dim, sizeof *sc->nr) ||
        rec_grow(&sc->f, &sc->f_cap, (size_t)m->rows + 1, sizeof *sc->f)) {
        rec_list_oom(l);
        return;
    }
    /* the query vector: normalised mean of the members' normalised vectors */
    double *acc = sc->acc;
    if (!rec_sum_rows(m, r->norm, res->query, res->n_query, acc, sc->nr)) {
        l->status = RS_EUSAGE;
        snprintf(l->message, sizeof l->message,
                 "no query product is in the product model (too few receipts)");
        return;
    }
    double norm = 0;
    for (int j = 0; j < dim; j++)
        norm += acc[j] * acc[j];
    norm = norm > 0 ? 1.0 / sqrt(norm) : 0.0;
    for (int j = 0; j < dim; j++)
        sc->v[j] = (float)(acc[j] * norm);
    int k = q->k[RS_REC_SYNONYMS];
    int copurchase = r->post_off && !(q->flags & RS_REC_NO_COPURCHASE);
    rs_topheap t;
    /* with co-purchase counts: more candidates than rows, so that the complements
     * among them can be demoted below the substitutes */
    if (rec_topk_init(sc, &t, copurchase ? spare(k) : k)) {
        rec_list_oom(l);
        return;
    }
    if (!(q->flags & RS_REC_SYNONYMS_ANY_CATEGORY) && res->n_query_categories > 0)
        scan_categories(r, q, res, &t);
    else if (scan_all(r, q, res, &t)) {
        rec_list_oom(l);
        return;
    }
    if (!copurchase) {
        rec_list_from_heap(r, l, &t);
        return;
    }
    rs_topheap_sort(&t);
    if (demote_complements(r, q, res, l, &t))
        rec_list_oom(l);
}
