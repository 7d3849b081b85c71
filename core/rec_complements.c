/* rec_complements.c - the complements kind (recommend.h: the original system's
 * method): category slots from the category weights (importance, Yeo-Johnson,
 * softmax, largest remainder), products inside each category by in.out with the
 * query, with co-purchase counts.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "powertf.h"
#include "rec_internal.h"

/* ---- the largest-remainder allocation (recommend.h) ---- */

typedef struct {
    double rem;
    double share;
    int i;
} slot_rem;

static int cmp_rem(const void *a, const void *b)
{
    const slot_rem *x = a, *y = b;
    if (x->rem != y->rem)
        return x->rem > y->rem ? -1 : 1;
    if (x->share != y->share)
        return x->share > y->share ? -1 : 1;
    return x->i - y->i;
}

void rs_rec_allocate(const double *shares, int n, int k, int *slots)
{
    if (n <= 0)
        return;
    double total = 0;
    for (int i = 0; i < n; i++)
        total += shares[i] > 0 && isfinite(shares[i]) ? shares[i] : 0.0;
    slot_rem *rem = malloc((size_t)n * sizeof *rem);
    int given = 0;
    for (int i = 0; i < n; i++) {
        double s = total > 0 ? (shares[i] > 0 && isfinite(shares[i]) ? shares[i] / total : 0.0)
                             : 1.0 / n;
        double q = s * k;
        slots[i] = (int)floor(q);
        given += slots[i];
        if (rem)
            rem[i] = (slot_rem){q - floor(q), s, i};
    }
    if (!rem) {
        /* out of memory: hand the rest out in index order (still a valid allocation) */
        for (int i = 0; given < k; i = (i + 1) % n, given++)
            slots[i]++;
        return;
    }
    qsort(rem, (size_t)n, sizeof *rem, cmp_rem);
    for (int j = 0; given < k; j = (j + 1) % n, given++)
        slots[rem[j].i]++;
    free(rem);
}

typedef struct {
    int32_t c;
    double share;
    int pos;
} cat_order;

static int cmp_cat_order(const void *a, const void *b)
{
    const cat_order *x = a, *y = b;
    if (x->share != y->share)
        return x->share > y->share ? -1 : 1;
    return (x->c > y->c) - (x->c < y->c);
}

/* Steps 1-5 of recommend.h: the C candidate categories in sc->cats, their weight,
 * importance, transformed importance and share in sc->cw (4 x C), their slots in
 * sc->slots, and the order to fill them in (share descending).  Returns C (0: no
 * candidate, the list's status set), or -1 when out of memory. */
static int allocate_categories(const rs_recommender *r, const rs_rec_query *q,
                               rs_rec_result *res, cat_order **order)
{
    rs_rec_scratch *sc = res->scratch;
    const rs_embedding *cm = r->cm.m;
    int C = q->complement_categories, k = q->k[RS_REC_COMPLEMENTS];
    /* 1. candidates: the 2C strongest associations (category weight), of which the C
     * with the highest importance (weight x the category's share in the city) */
    rs_topheap t;
    if (rec_topk_init(sc, &t, 2 * C) ||
        rec_grow(&sc->cats, &sc->cats_cap, (size_t)(2 * C), sizeof *sc->cats))
        return -1;
    for (int32_t row = 0; row < cm->rows; row++)
        if (sc->d[row] > 0)
            rs_topheap_push(&t, (float)sc->d[row], cm->row_item[row]);
    int n2 = t.n;
    memcpy(sc->cats, t.idx, (size_t)n2 * sizeof *sc->cats);
    rec_topk_init(sc, &t, C); /* cannot fail: the heap already holds 2C */
    for (int i = 0; i < n2; i++) {
        int32_t c = sc->cats[i];
        rs_topheap_push(&t, (float)(sc->d[cm->item_row[c]] * r->cshare[c]), c);
    }
    rs_topheap_sort(&t);
    C = t.n;
    if (C == 0) {
        rs_rec_list *l = &res->lists[RS_REC_COMPLEMENTS];
        l->status = RS_EUSAGE;
        snprintf(l->message, sizeof l->message, "no candidate category");
        return 0;
    }
    if (rec_grow(&sc->cats, &sc->cats_cap, (size_t)C, sizeof *sc->cats) ||
        rec_grow(&sc->cw, &sc->cw_cap, (size_t)C * 4, sizeof *sc->cw) ||
        rec_grow(&sc->slots, &sc->slots_cap, (size_t)C, sizeof *sc->slots) ||
        !(*order = malloc((size_t)C * sizeof **order)))
        return -1;
    memcpy(sc->cats, t.idx, (size_t)C * sizeof *sc->cats);
    double *w = sc->cw, *imp = sc->cw + C, *tr = sc->cw + 2 * C, *share = sc->cw + 3 * C;
    /* 2.-4. importance, Yeo-Johnson, softmax */
    for (int i = 0; i < C; i++) {
        int32_t c = sc->cats[i];
        w[i] = sc->d[cm->item_row[c]];
        imp[i] = w[i] * r->cshare[c];
    }
    rs_yeojohnson_fit_transform(imp, (size_t)C, tr);
    double mx = -INFINITY, z = 0;
    for (int i = 0; i < C; i++)
        mx = tr[i] > mx ? tr[i] : mx;
    for (int i = 0; i < C; i++)
        z += (share[i] = exp(tr[i] - mx));
    for (int i = 0; i < C; i++)
        share[i] /= z;
    /* 5. slots */
    rs_rec_allocate(share, C, k, sc->slots);
    for (int i = 0; i < C; i++)
        (*order)[i] = (cat_order){sc->cats[i], share[i], i};
    qsort(*order, (size_t)C, sizeof **order, cmp_cat_order);
    return C;
}

/* The query vector of step 6: sum over the query of in[q] (float), in sc->v.
 * Returns how many query products had a row. */
static int query_in_sum(const rs_recommender *r, rs_rec_result *res)
{
    rs_rec_scratch *sc = res->scratch;
    const rs_embedding *pm = r->pm.m;
    int dim = pm->dim, used = 0;
    for (int j = 0; j < dim; j++)
        sc->v[j] = 0;
    for (int i = 0; i < res->n_query; i++) {
        int32_t p = res->query[i];
        if (!rec_has_row(pm, p))
            continue;
        const float *x = pm->in + (size_t)pm->item_row[p] * dim;
        for (int j = 0; j < dim; j++)
            sc->v[j] += x[j];
        used++;
    }
    return used;
}

/* Step 6 for category c: its `want` best products by in.out into pt (sorted). */
static void rank_category(const rs_recommender *r, const rs_rec_query *q,
                          rs_rec_scratch *sc, int32_t c, rs_topheap *pt)
{
    const rs_embedding *pm = r->pm.m;
    int dim = pm->dim;
    for (int64_t j = r->cat_off[c]; j < r->cat_off[c + 1]; j++) {
        int32_t p = r->cat_items[j];
        if (!sc->co && j + REC_PREFETCH_AHEAD < r->cat_off[c + 1])
            rec_prefetch_row(pm, pm->out, r->cat_items[j + REC_PREFETCH_AHEAD]);
        if (sc->isq[p] || !rec_has_row(pm, p) || rec_masked_out(r, q, p))
            continue;
        const float *o = sc->co ? sc->co + (size_t)j * (size_t)dim
                                : pm->out + (size_t)pm->item_row[p] * dim;
        float s = cblas_sdot(dim, sc->v, 1, o, 1);
        rs_topheap_push(pt, s, p);
    }
    rs_topheap_sort(pt);
}

void rec_run_complements(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res)
{
    rs_rec_list *l = &res->lists[RS_REC_COMPLEMENTS];
    rs_rec_scratch *sc = res->scratch;
    cat_order *order = NULL;
    rec_list_model(l, &r->pm);
    if (!r->pm.m || rec_need_output(l, &r->pm)) /* products by in[query] . out[p] */
        return;
    if (rec_category_weights(r, q, res, l)) {
        if (!r->cm.m)
            rec_list_model(l, &r->cm);
        return;
    }
    rec_list_model(l, &r->pm);
    l->model2_city = r->cm.city;
    l->model2_id = r->cm.id;
    l->model2_path = r->cm.path;
    int k = q->k[RS_REC_COMPLEMENTS];
    int C = allocate_categories(r, q, res, &order);
    if (C <= 0)
        goto done;
    const double *w = sc->cw, *imp = sc->cw + C, *tr = sc->cw + 2 * C, *share = sc->cw + 3 * C;
    /* 6. products of each category by sum_q in[q] . out[p] */
    if (rec_grow(&sc->v, &sc->v_cap, (size_t)r->pm.m->dim, sizeof *sc->v) ||
        rec_list_reserve(l, k)) {
        C = -1;
        goto done;
    }
    if (!query_in_sum(r, res)) {
        l->status = RS_EUSAGE;
        snprintf(l->message, sizeof l->message,
                 "no query product is in the product model (too few receipts)");
        goto done;
    }
    int64_t qn = 0;
    int copurchase = r->post_off && !(q->flags & RS_REC_NO_COPURCHASE);
    if (copurchase && rec_query_receipts(r, res, &qn)) {
        C = -1;
        goto done;
    }
    int carry = 0, n = 0;
    for (int oi = 0; oi < C && n < k; oi++) {
        int i = order[oi].pos;
        int want = sc->slots[i] + carry;
        if (want <= 0)
            continue;
        if (want > k - n)
            want = k - n;
        /* the heap scratch is free again: rank this category's products */
        rs_topheap pt;
        if (rec_topk_init(sc, &pt, want)) {
            C = -1;
            goto done;
        }
        rank_category(r, q, sc, sc->cats[i], &pt);
        carry = want - pt.n;
        for (int j = 0; j < pt.n; j++) {
            rs_rec_row *row = &l->rows[n++];
            int32_t p = pt.idx[j];
            rec_fill_product_row(r, row, p, pt.sc[j]);
            row->cat_weight = w[i];
            row->cat_importance = imp[i];
            row->cat_transformed = tr[i];
            row->cat_share = share[i];
            row->cat_slots = sc->slots[i];
            if (copurchase) {
                int64_t np = r->post_off[p + 1] - r->post_off[p];
                row->copurchase = rec_intersect_count(sc->u, qn, r->post + r->post_off[p], np);
                row->lift = np > 0 && qn > 0 ? (double)row->copurchase * (double)r->n_receipts /
                                                   ((double)np * (double)qn)
                                             : 0.0;
            } else {
                row->copurchase = -1;
            }
        }
    }
    l->n = n;
done:
    if (C < 0)
        rec_list_oom(l);
    free(order);
}
