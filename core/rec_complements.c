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

/* How step 6 ranks the products inside a category. */
typedef struct ranker {
    const float *scores; /* the completion scorer's scores of the context, or NULL: in.out
                            with sc->v */
    int32_t n;           /* entries of scores */
    double chance;       /* the score of an average item (the mean over every item the
                            ranker scores): a product below it is, by score, less
                            likely than chance */
} ranker;

/* The mean of the finite entries of s[0..n). */
static double mean_finite(const float *s, int32_t n)
{
    double sum = 0;
    int64_t cnt = 0;
    for (int32_t i = 0; i < n; i++)
        if (isfinite(s[i])) {
            sum += s[i];
            cnt++;
        }
    return cnt ? sum / (double)cnt : 0.0;
}

/* Chooses the ranker: the city's completion scorer (EASE, a blend ...) when it is
 * loaded, is not in.out alone and knows a product of the context; else in.out of the
 * product model.  Sets l->scorer.  0, or -1 after setting l's status. */
static int choose_ranker(const rs_recommender *r, rs_rec_result *res, rs_rec_list *l,
                         ranker *rk)
{
    rs_rec_scratch *sc = res->scratch;
    memset(rk, 0, sizeof *rk);
    if (rec_scorer_usable(r) && !rec_scorer_is_inout(r) && rec_completion_scores(r, res) == 0 &&
        sc->cs_known > 0) {
        rk->scores = sc->csp;
        rk->n = sc->cs_n;
        rk->chance = mean_finite(sc->csp, sc->cs_n);
        l->scorer = rec_scorer_name(r);
        return 0;
    }
    l->scorer = rec_scorer_is_inout(r) ? rec_scorer_name(r) : "in.out";
    if (!r->pm.m || rec_need_output(l, &r->pm)) { /* products by in[query] . out[p] */
        if (!r->pm.m)
            rec_list_model(l, &r->pm);
        return -1;
    }
    if (rec_grow(&sc->v, &sc->v_cap, (size_t)r->pm.m->dim, sizeof *sc->v)) {
        rec_list_oom(l);
        return -1;
    }
    if (!query_in_sum(r, res)) {
        l->status = RS_EUSAGE;
        snprintf(l->message, sizeof l->message,
                 "no query product is in the product model (too few receipts)");
        return -1;
    }
    /* in.out is linear: the mean over every product is v . (the mean output row) */
    rk->chance = r->pm_out_mean ? cblas_sdot(r->pm.m->dim, sc->v, 1, r->pm_out_mean, 1) : 0.0;
    return 0;
}

/* Step 6 for category c: its best products (at most pt->k) by the ranker, into pt
 * (sorted). */
static void rank_category(const rs_recommender *r, const rs_rec_query *q,
                          rs_rec_scratch *sc, const ranker *rk, int32_t c, rs_topheap *pt)
{
    const rs_embedding *pm = r->pm.m;
    int dim = pm ? pm->dim : 0;
    for (int64_t j = r->cat_off[c]; j < r->cat_off[c + 1]; j++) {
        int32_t p = r->cat_items[j];
        if (sc->isq[p] || rec_masked_out(r, q, p))
            continue;
        if (rk->scores) {
            float s = p < rk->n ? rk->scores[p] : -INFINITY;
            if (s > -INFINITY) /* (NaN and what the scorer cannot score left out) */
                rs_topheap_push(pt, s, p);
            continue;
        }
        if (!sc->co && j + REC_PREFETCH_AHEAD < r->cat_off[c + 1])
            rec_prefetch_row(pm, pm->out, r->cat_items[j + REC_PREFETCH_AHEAD]);
        if (!rec_has_row(pm, p))
            continue;
        const float *o = sc->co ? sc->co + (size_t)j * (size_t)dim
                                : pm->out + (size_t)pm->item_row[p] * dim;
        rs_topheap_push(pt, cblas_sdot(dim, sc->v, 1, o, 1), p);
    }
    rs_topheap_sort(pt);
}

/* Whether candidate p (score s) is bought with the query less often than chance: its
 * co-purchase count is significantly below what independence predicts (Poisson lower
 * tail < 0.05), or below it (or unknown) while its score is below the ranker's
 * average item.  A count at or above the expectation keeps it whatever the score. */
static int below_chance(const rs_recommender *r, const ranker *rk, float s, const rs_rec_row *row,
                        int64_t qn)
{
    if (row->copurchase >= 0 && qn > 0 && row->popularity > 0) {
        double expect = (double)row->popularity * (double)qn / (double)r->n_receipts;
        if ((double)row->copurchase >= expect)
            return 0;
        if (rec_poisson_cdf(row->copurchase, expect) < 0.05)
            return 1;
    }
    return s < rk->chance;
}

/* Candidates ranked per category beyond its slots, so that rows left out as less
 * likely than chance can be replaced. */
static int spare(int want)
{
    return 3 * want + 8;
}

void rec_run_complements(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res)
{
    rs_rec_list *l = &res->lists[RS_REC_COMPLEMENTS];
    rs_rec_scratch *sc = res->scratch;
    cat_order *order = NULL;
    ranker rk;
    rec_list_model(l, &r->pm);
    /* without a completion scorer, in.out ranks: the product model comes first */
    if (!rec_scorer_usable(r) && (!r->pm.m || rec_need_output(l, &r->pm)))
        return;
    if (rec_category_weights(r, q, res, l)) {
        if (!r->cm.m)
            rec_list_model(l, &r->cm);
        return;
    }
    l->model2_city = r->cm.city;
    l->model2_id = r->cm.id;
    l->model2_path = r->cm.path;
    int k = q->k[RS_REC_COMPLEMENTS];
    int C = allocate_categories(r, q, res, &order);
    if (C <= 0 || choose_ranker(r, res, l, &rk))
        goto done;
    const double *w = sc->cw, *imp = sc->cw + C, *tr = sc->cw + 2 * C, *share = sc->cw + 3 * C;
    int64_t qn = 0;
    int copurchase = r->post_off && !(q->flags & RS_REC_NO_COPURCHASE);
    if (rec_list_reserve(l, k) || (copurchase && rec_query_receipts(r, res, &qn))) {
        C = -1;
        goto done;
    }
    /* 6. products of each category by the ranker, those less likely than chance left
     * out (their slots go to the next candidates, then to the next categories) */
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
        if (rec_topk_init(sc, &pt, spare(want))) {
            C = -1;
            goto done;
        }
        rank_category(r, q, sc, &rk, sc->cats[i], &pt);
        int got = 0;
        for (int j = 0; j < pt.n && got < want; j++) {
            rs_rec_row *row = &l->rows[n];
            int32_t p = pt.idx[j];
            rec_fill_product_row(r, row, p, pt.sc[j]);
            row->cat_weight = w[i];
            row->cat_importance = imp[i];
            row->cat_transformed = tr[i];
            row->cat_share = share[i];
            row->cat_slots = sc->slots[i];
            row->copurchase = -1;
            if (copurchase)
                rec_copurchase(r, res, p, row);
            if (!(q->flags & RS_REC_KEEP_BELOW_CHANCE) && below_chance(r, &rk, pt.sc[j], row, qn)) {
                l->n_below_chance++;
                continue;
            }
            n++;
            got++;
        }
        carry = want - got;
    }
    l->n = n;
done:
    if (C < 0)
        rec_list_oom(l);
    free(order);
}
