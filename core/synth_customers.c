/* synth_customers.c - the customers of the synthetic world and how they fill a basket.
 *
 * Each city has about one customer per `receipts_per_customer` receipts; a receipt's
 * customer is drawn with a skew (u * u of the city's pool), so a few customers come
 * often and many rarely.  Each customer has, planted (and written to truth.json):
 *   - tastes: 2..4 favourite categories (drawn by category popularity); a fresh need of
 *     their receipt comes from them with probability taste_prob;
 *   - a favourite brand (the brand of a product of their first taste): when a need has
 *     a member of that brand, it is picked with probability loyalty;
 *   - staples: 2..5 products of their tastes, each with its own repurchase interval
 *     (7..28 days): a receipt made on or after a staple's due time holds it with
 *     probability staple_prob, and the next due time is one interval (±25%) later.
 * Customers come from their own generator (STREAM_CUSTOMERS), so the catalogue never
 * depends on them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth_internal.h"

#define OOM() rs_seterr(e, RS_EINTERNAL, "out of memory")

static int cust_has_taste(const cust_t *k, int cat)
{
    for (int i = 0; i < k->ntaste; i++)
        if (k->taste[i] == cat)
            return 1;
    return 0;
}

/* A need of category c by its popularity inside the category. */
static int need_in_category(const world_t *w, rng_t *r, int c)
{
    const cat_t *ct = &w->cat[c];
    double u = rng_unif(r);
    for (int j = 0; j < ct->nneed; j++)
        if (w->need[ct->need0 + j].cum > u)
            return ct->need0 + j;
    return ct->need0 + ct->nneed - 1;
}

/* The member of need nd a customer picks: their brand with probability loyalty. */
static int pick_for(const world_t *w, rng_t *r, const need_t *nd, const cust_t *k)
{
    if (k && nd->nm > 1 && rng_unif(r) < w->p->loyalty)
        for (int m = 0; m < nd->nm; m++)
            if (w->prod[w->members[nd->m0 + m]].brand == k->brand)
                return w->members[nd->m0 + m];
    return sy_pick_member(w, r, nd);
}

static void make_customer(world_t *w, rng_t *r, int city, cust_t *k)
{
    memset(k, 0, sizeof *k);
    k->city = city;
    int want = 2 + (int)rng_below(r, MAX_TASTES - 1);
    for (int tries = 0; k->ntaste < want && tries < 64; tries++) {
        int c = cum_search(w->cat_cum, w->ncat, rng_unif(r) * w->cat_cum[w->ncat - 1]);
        if (!cust_has_taste(k, c))
            k->taste[k->ntaste++] = c;
    }
    const cat_t *first = &w->cat[k->taste[0]];
    k->brand = w->prod[first->prod0 + (int)rng_below(r, (uint64_t)first->nprod)].brand;
    int staples = 2 + (int)rng_below(r, MAX_STAPLES - 1);
    for (int tries = 0; k->nstaple < staples && tries < 64; tries++) {
        int nd = need_in_category(w, r, k->taste[rng_below(r, (uint64_t)k->ntaste)]);
        if (w->need[nd].local >= 0 && w->need[nd].local != city)
            continue;
        int dup = 0; /* one staple per need: substitutes rarely share a receipt */
        for (int i = 0; i < k->nstaple; i++)
            dup |= w->prod[k->staple[i]].need == nd;
        if (dup)
            continue;
        int pr = pick_for(w, r, &w->need[nd], k);
        int iv = 7 + (int)rng_below(r, 22);
        k->staple[k->nstaple] = pr;
        k->interval[k->nstaple] = iv;
        k->due[k->nstaple] = (uint32_t)rng_below(r, (uint64_t)iv * 86400u);
        k->nstaple++;
    }
}

int sy_build_customers(world_t *w, rs_error *e)
{
    const rs_synth_params *p = w->p;
    w->cust0 = sy_xcalloc((size_t)w->ncity + 1, sizeof *w->cust0);
    if (!w->cust0)
        return OOM();
    double per = p->receipts_per_customer > 0 ? p->receipts_per_customer : 6.0;
    for (int c = 0; c < w->ncity; c++) {
        double share = (w->city_cum[c] - (c ? w->city_cum[c - 1] : 0)) / w->city_cum[w->ncity - 1];
        int64_t pool = (int64_t)(share * (double)p->receipts / per);
        if (pool < 20)
            pool = 20;
        w->cust0[c + 1] = w->cust0[c] + pool;
    }
    int64_t n = w->cust0[w->ncity];
    w->cust = sy_xcalloc((size_t)n, sizeof *w->cust);
    if (!w->cust)
        return OOM();
    rng_t r;
    rng_init(&r, p->seed, STREAM_CUSTOMERS);
    int64_t widest = 0;
    for (int c = 0; c < w->ncity; c++) {
        for (int64_t k = w->cust0[c]; k < w->cust0[c + 1]; k++)
            make_customer(w, &r, c, &w->cust[k]);
        if (w->cust0[c + 1] - w->cust0[c] > widest)
            widest = w->cust0[c + 1] - w->cust0[c];
    }
    w->cust_cw = 2;
    for (int64_t v = w->ncity; v >= 100; v /= 10)
        w->cust_cw++;
    w->cust_w = 6;
    for (int64_t v = widest; v >= 1000000; v /= 10)
        w->cust_w++;
    return RS_OK;
}

void sy_customer_id(const world_t *w, int64_t k, char *buf, size_t n)
{
    const cust_t *ck = &w->cust[k];
    snprintf(buf, n, "C%0*d-%0*lld", w->cust_cw, ck->city + 1, w->cust_w,
             (long long)(k - w->cust0[ck->city] + 1));
}

int64_t sy_draw_customer(const world_t *w, rng_t *r, int city)
{
    int64_t pool = w->cust0[city + 1] - w->cust0[city];
    int64_t k = (int64_t)((double)pool * rng_unif(r) * rng_unif(r));
    if (k >= pool)
        k = pool - 1;
    return w->cust0[city] + k;
}

/* A fresh need: from the city's popularity, or (taste_prob) from the customer's tastes
 * by rejection, which keeps the city's popularity order inside the tastes. */
static int fresh_need(const world_t *w, rng_t *r, const alias_t *ntab, const cust_t *k)
{
    int nd = sy_alias_draw(ntab, w->nneed, r);
    if (k && rng_unif(r) < w->p->taste_prob)
        for (int tries = 0; tries < 24 && !cust_has_taste(k, w->need[nd].cat); tries++)
            nd = sy_alias_draw(ntab, w->nneed, r);
    return nd;
}

/* The staples due at time t, added first (each with probability staple_prob). */
static int add_staples(world_t *w, rng_t *r, cust_t *k, uint32_t t, int size, int *rneed,
                       int *rprod)
{
    int cnt = 0;
    for (int s = 0; s < k->nstaple && cnt < size; s++) {
        if (k->due[s] > t)
            continue;
        if (rng_unif(r) < w->p->staple_prob && !sy_has(rprod, cnt, k->staple[s])) {
            rneed[cnt] = w->prod[k->staple[s]].need;
            rprod[cnt++] = k->staple[s];
            double next = (double)k->interval[s] * 86400.0 * (0.75 + 0.5 * rng_unif(r));
            k->due[s] = t + (uint32_t)next;
        } else {
            k->due[s] = t + 2u * 86400u; /* skipped this time: due again soon */
        }
    }
    return cnt;
}

int sy_draw_basket(world_t *w, rng_t *r, int city, cust_t *k, uint32_t t, int size, int *rneed,
                   int *rprod)
{
    const rs_synth_params *p = w->p;
    const alias_t *ntab = w->need_alias + (size_t)city * w->nneed;
    int cnt = k ? add_staples(w, r, k, t, size, rneed, rprod) : 0;
    if (cnt == 0) {
        int seed_need = fresh_need(w, r, ntab, k);
        rneed[cnt] = seed_need;
        rprod[cnt++] = pick_for(w, r, &w->need[seed_need], k);
    }
    for (int attempt = 0; cnt < size && attempt < 4 * size + 10; attempt++) {
        int nd;
        if (rng_unif(r) < p->companion_prob) {
            const need_t *src = &w->need[rneed[rng_below(r, (uint64_t)cnt)]];
            if (src->ncomp == 0)
                continue;
            nd = src->comp[rng_below(r, (uint64_t)src->ncomp)];
            if (w->need[nd].local >= 0 && w->need[nd].local != city)
                continue;
        } else {
            nd = fresh_need(w, r, ntab, k);
        }
        const need_t *need = &w->need[nd];
        if (sy_has(rneed, cnt, nd)) {
            /* the need is already met: rarely a second member of its group */
            if (need->nm > 1 && rng_unif(r) < p->dup_prob) {
                int pr = sy_pick_member(w, r, need);
                if (!sy_has(rprod, cnt, pr)) {
                    rneed[cnt] = nd;
                    rprod[cnt++] = pr;
                }
            }
            continue;
        }
        rneed[cnt] = nd;
        rprod[cnt++] = pick_for(w, r, need, k);
    }
    return cnt;
}
