/* rec_categories.c - the categories kind (recommend.h): the city's validated category
 * ranking (completion.h over category baskets, chosen by `train` on validation) when
 * one is stored, else the category model's softmax; and the softmax category weights
 * the complements kind starts from.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "completion.h"
#include "rec_internal.h"

/* (rec_internal.h) */
int rec_open_category_rank(rs_recommender *r, rs_error *e)
{
    rs_completion *c = NULL;
    rs_error ce = {0};
    int64_t used = 0;
    int rc = rs_completion_open_baskets(r->store, r->city, RS_BASKETS_CATEGORIES, &c, &used, &ce);
    if (rc == RS_EINTERNAL) {
        *e = ce;
        return rc;
    }
    if (rc)
        return RS_OK; /* none stored, or its models are gone: the softmax answers */
    cat_rank *cr = calloc(1, sizeof *cr);
    float *scores = cr ? calloc((size_t)rs_completion_n_items(c) + 1, sizeof *scores) : NULL;
    if (!scores) {
        free(cr);
        rs_completion_close(c);
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    pthread_mutex_init(&cr->mu, NULL);
    cr->scorer = c;
    cr->scores = scores;
    cr->city = used;
    snprintf(cr->name, sizeof cr->name, "%s", rs_completion_name(c));
    r->cr = cr;
    return RS_OK;
}

void rec_close_category_rank(cat_rank *cr)
{
    if (!cr)
        return;
    rs_completion_close(cr->scorer);
    free(cr->scores);
    pthread_mutex_destroy(&cr->mu);
    free(cr);
}

/* The categories kind by the category ranking: its top k of the categories not in the
 * query (the query's own categories are its context). */
static void run_ranked(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res)
{
    rs_rec_list *l = &res->lists[RS_REC_CATEGORIES];
    rs_rec_scratch *sc = res->scratch;
    cat_rank *cr = r->cr;
    int32_t n = rs_completion_n_items(cr->scorer);
    if (n > r->n_categories)
        n = r->n_categories;
    l->status = RS_OK;
    l->message[0] = 0;
    l->model_city = cr->city;
    l->model_id = 0;
    l->model_path = cr->name;
    l->scorer = cr->name;
    if (rec_grow(&sc->f, &sc->f_cap, (size_t)n + 1, sizeof *sc->f)) {
        rec_list_oom(l);
        return;
    }
    pthread_mutex_lock(&cr->mu);
    rs_completion_score(cr->scorer, res->query_categories, res->n_query_categories,
                        cr->scores);
    memcpy(sc->f, cr->scores, (size_t)n * sizeof *sc->f);
    pthread_mutex_unlock(&cr->mu);
    rs_topheap t;
    if (rec_topk_init(sc, &t, q->k[RS_REC_CATEGORIES])) {
        rec_list_oom(l);
        return;
    }
    for (int32_t c = 0; c < n; c++)
        if (isfinite(sc->f[c]) && !sc->isqc[c])
            rs_topheap_push(&t, sc->f[c], c);
    rs_topheap_sort(&t);
    if (rec_list_reserve(l, t.n)) {
        rec_list_oom(l);
        return;
    }
    for (int i = 0; i < t.n; i++) {
        int32_t c = t.idx[i];
        rs_rec_row *row = &l->rows[i];
        memset(row, 0, sizeof *row);
        row->index = c;
        row->ext_id = r->cat_ext[c];
        row->name = r->cat_name[c];
        row->category = rs_rec_category_name(r, r->cat_parent[c]);
        row->category_index = c;
        row->score = sc->f[c];
        row->popularity = r->cpop[c];
        row->percentile = r->cpct[c];
    }
    l->n = t.n;
}

/* (rec_internal.h) */
int rec_category_weights(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res,
                         rs_rec_list *l)
{
    rs_rec_scratch *sc = res->scratch;
    const rs_embedding *m = r->cm.m;
    if (!m) {
        rec_list_model(l, &r->cm);
        return -1;
    }
    if (rec_need_output(l, &r->cm))
        return -1; /* the softmax is in[query] . out[category] */
    if (sc->d_valid)
        return 0; /* the categories kind of this call computed them (same query) */
    int dim = m->dim;
    if (rec_grow(&sc->v, &sc->v_cap, (size_t)dim, sizeof *sc->v) ||
        rec_grow(&sc->f, &sc->f_cap, (size_t)m->rows + 1, sizeof *sc->f) ||
        rec_grow(&sc->d, &sc->d_cap, (size_t)m->rows + 1, sizeof *sc->d)) {
        rec_list_oom(l);
        return -1;
    }
    /* the query vector: the mean of the input rows of the query's categories */
    double *acc = sc->acc;
    int used = rec_sum_rows(m, NULL, res->query_categories, res->n_query_categories, acc,
                            NULL);
    if (!used) {
        l->status = RS_EUSAGE;
        snprintf(l->message, sizeof l->message,
                 "the query's categories are not in the category model");
        return -1;
    }
    for (int j = 0; j < dim; j++)
        sc->v[j] = (float)(acc[j] / used);
    if (m->rows > 0)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, m->rows, dim, 1.0f, m->out, dim, sc->v, 1, 0.0f,
                    sc->f, 1);
    double mx = -INFINITY;
    int include_own = (q->flags & RS_REC_INCLUDE_OWN_CATEGORY) != 0;
    for (int32_t row = 0; row < m->rows; row++) {
        int32_t c = m->row_item[row];
        int ok = c >= 0 && c < r->n_categories && (include_own || !sc->isqc[c]);
        sc->d[row] = ok ? sc->f[row] : -INFINITY;
        if (ok && sc->d[row] > mx)
            mx = sc->d[row];
    }
    if (mx == -INFINITY) {
        l->status = RS_EUSAGE;
        snprintf(l->message, sizeof l->message, "no other category in the category model");
        return -1;
    }
    double z = 0;
    for (int32_t row = 0; row < m->rows; row++) {
        sc->d[row] = sc->d[row] == -INFINITY ? 0.0 : exp(sc->d[row] - mx);
        z += sc->d[row];
    }
    for (int32_t row = 0; row < m->rows; row++)
        sc->d[row] /= z;
    sc->d_valid = 1;
    return 0;
}

void rec_run_categories(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res)
{
    rs_rec_list *l = &res->lists[RS_REC_CATEGORIES];
    if (r->cr && res->n_query_categories > 0 && !(q->flags & RS_REC_INCLUDE_OWN_CATEGORY)) {
        run_ranked(r, q, res);
        return;
    }
    rec_list_model(l, &r->cm);
    if (rec_category_weights(r, q, res, l))
        return;
    rs_rec_scratch *sc = res->scratch;
    const rs_embedding *m = r->cm.m;
    rs_topheap t;
    if (rec_topk_init(sc, &t, q->k[RS_REC_CATEGORIES])) {
        rec_list_oom(l);
        return;
    }
    for (int32_t row = 0; row < m->rows; row++)
        if (sc->d[row] > 0)
            rs_topheap_push(&t, (float)sc->d[row], m->row_item[row]);
    rs_topheap_sort(&t);
    if (rec_list_reserve(l, t.n)) {
        rec_list_oom(l);
        return;
    }
    for (int i = 0; i < t.n; i++) {
        int32_t c = t.idx[i];
        rs_rec_row *row = &l->rows[i];
        memset(row, 0, sizeof *row);
        row->index = c;
        row->ext_id = r->cat_ext[c];
        row->name = r->cat_name[c];
        row->category = rs_rec_category_name(r, r->cat_parent[c]);
        row->category_index = c;
        row->score = sc->d[m->item_row[c]]; /* the double weight, not the float copy */
        row->popularity = r->cpop[c];
        row->percentile = r->cpct[c];
    }
    l->n = t.n;
}
