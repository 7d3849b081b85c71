/* synth_world.c - the synthetic world: categories, products, needs, the planted
 * substitutes, complements and city tastes (see synth.h for the model). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "synth_internal.h"
#include "timeutil.h"

/* ---------------------------------------------------------------------------------
 * The world.
 */

void sy_world_free(world_t *w)
{
    if (w->cat)
        for (int i = 0; i < w->ncat; i++)
            free(w->cat[i].name);
    if (w->prod)
        for (int i = 0; i < w->nprod; i++)
            free(w->prod[i].name);
    free(w->city);
    free(w->city_cum);
    free(w->dept);
    free(w->cat);
    free(w->cat_cum);
    free(w->prod);
    free(w->need);
    free(w->members);
    free(w->member_cum);
    free(w->pairs);
    free(w->taste);
    free(w->need_alias);
    free(w->pid);
    free(w->brand_factor);
    free(w->cust);
    free(w->cust0);
    sy_ns_free(&w->names);
    sy_assets_free(&w->as);
}


void *sy_xcalloc(size_t n, size_t size) { return calloc(n ? n : 1, size); }

/* Splits total into n parts, each at least min and at most cap[i] (cap NULL: no cap),
 * proportionally to weight, the remainder drawn by weight. */
static int split_counts(rng_t *r, int n, int64_t total, int min, const double *weight,
                        const int *cap, int *out)
{
    double wsum = 0;
    int64_t assigned = 0;
    for (int i = 0; i < n; i++) {
        out[i] = min;
        wsum += weight[i];
        assigned += min;
    }
    int64_t rest = total - assigned;
    for (int i = 0; i < n && rest > 0; i++) {
        int64_t add = (int64_t)floor((double)rest * weight[i] / wsum);
        if (cap && out[i] + add > cap[i])
            add = cap[i] - out[i];
        out[i] += (int)add;
        assigned += add;
    }
    while (assigned < total) {
        double room = 0;
        for (int i = 0; i < n; i++)
            if (!cap || out[i] < cap[i])
                room += weight[i];
        if (room <= 0)
            return -1;
        double u = rng_unif(r) * room;
        int pick = -1;
        for (int i = 0; i < n; i++) {
            if (cap && out[i] >= cap[i])
                continue;
            pick = i;
            if (u < weight[i])
                break;
            u -= weight[i];
        }
        out[pick]++;
        assigned++;
    }
    return 0;
}

/* Cities, departments and categories with their names, popularity and product counts. */
/* Cities: a shuffled choice from the list; receipt share ~ 1/sqrt(rank). */
static int pick_cities(world_t *w, rng_t *r, rs_error *e)
{
    assets_t *as = &w->as;
    int *perm = sy_xcalloc((size_t)as->cities.n, sizeof *perm);
    w->city = sy_xcalloc((size_t)w->ncity, sizeof *w->city);
    w->city_cum = sy_xcalloc((size_t)w->ncity, sizeof *w->city_cum);
    if (!perm || !w->city || !w->city_cum) {
        free(perm);
        return OOM();
    }
    for (int i = 0; i < as->cities.n; i++)
        perm[i] = i;
    shuffle_int(r, perm, as->cities.n);
    double acc = 0;
    for (int i = 0; i < w->ncity; i++) {
        w->city[i] = as->cities.v[perm[i]];
        acc += 1.0 / sqrt(i + 1.0);
        w->city_cum[i] = acc;
    }
    free(perm);
    return RS_OK;
}

/* Departments: a random subset, in the order of the list. */
static int pick_departments(world_t *w, rng_t *r, rs_error *e)
{
    assets_t *as = &w->as;
    int *perm = sy_xcalloc((size_t)as->ndept, sizeof *perm);
    char *chosen = sy_xcalloc((size_t)as->ndept, 1);
    w->dept = sy_xcalloc((size_t)w->ndept, sizeof *w->dept);
    if (!perm || !chosen || !w->dept) {
        free(perm);
        free(chosen);
        return OOM();
    }
    for (int i = 0; i < as->ndept; i++)
        perm[i] = i;
    shuffle_int(r, perm, as->ndept);
    for (int i = 0; i < w->ndept; i++)
        chosen[perm[i]] = 1;
    for (int i = 0, k = 0; i < as->ndept; i++)
        if (chosen[i])
            w->dept[k++] = i;
    free(perm);
    free(chosen);
    return RS_OK;
}

/* The count[d] categories of department d, named from its word lists (base names
 * first, shuffled, then qualified names, shuffled), from w->cat[*k] on. */
static int name_department(world_t *w, rng_t *r, int d, int cap, int count, int *k,
                           rs_error *e)
{
    const asset_dept *ad = &w->as.dept[w->dept[d]];
    int nb = ad->bases.n, rc = RS_OK;
    int *combo = sy_xcalloc((size_t)cap, sizeof *combo);
    if (!combo)
        return OOM();
    for (int j = 0; j < cap; j++)
        combo[j] = j;
    shuffle_int(r, combo, nb);
    shuffle_int(r, combo + nb, cap - nb);
    int made = 0;
    for (int j = 0; j < cap && made < count; j++) {
        int c = combo[j], b = c < nb ? c : (c - nb) % nb;
        const char *q = c < nb ? NULL : ad->quals->v[(c - nb) / nb];
        char *name = NULL;
        if (asprintf(&name, "%s%s%s", q ? q : "", q ? " " : "", ad->bases.v[b]) < 0) {
            rc = OOM();
            break;
        }
        int added = sy_ns_add(&w->names, name);
        if (added <= 0) {
            free(name);
            if (added < 0) {
                rc = OOM();
                break;
            }
            continue;
        }
        cat_t *ct = &w->cat[(*k)++];
        ct->dept = d;
        ct->name = name;
        ct->qualifier = q;
        ct->descs = ad->descs;
        ct->sizes = ad->base_sizes[b];
        ct->price = exp(log(250.0) + 0.6 * rng_normal(r));
        made++;
    }
    free(combo);
    if (rc == RS_OK && made < count)
        rc = rs_seterr(e, RS_EUSAGE, "the word lists name too few distinct categories in '%s'",
                       ad->name);
    return rc;
}

/* Categories per department, within what the word lists can name; wt is scratch of
 * max(ndept, ncat) entries. */
static int name_categories(world_t *w, rng_t *r, double *wt, rs_error *e)
{
    assets_t *as = &w->as;
    int rc = RS_OK;
    int *count = sy_xcalloc((size_t)w->ndept, sizeof *count);
    int *cap = sy_xcalloc((size_t)w->ndept, sizeof *cap);
    if (!count || !cap) {
        rc = OOM();
        goto done;
    }
    int64_t capacity = 0;
    for (int d = 0; d < w->ndept; d++) {
        const asset_dept *ad = &as->dept[w->dept[d]];
        cap[d] = ad->bases.n * (1 + (ad->quals ? ad->quals->n : 0));
        capacity += cap[d];
        wt[d] = 0.5 + rng_unif(r);
    }
    if (capacity < w->ncat) {
        rc = rs_seterr(e, RS_EUSAGE,
                       "%d categories asked for, but the word lists of %d departments name at "
                       "most %lld",
                       w->ncat, w->ndept, (long long)capacity);
        goto done;
    }
    if (split_counts(r, w->ndept, w->ncat, 1, wt, cap, count)) {
        rc = rs_seterr(e, RS_EINTERNAL, "cannot split categories over departments");
        goto done;
    }
    w->cat = sy_xcalloc((size_t)w->ncat, sizeof *w->cat);
    if (!w->cat || sy_ns_init(&w->names, (size_t)w->ncat + (size_t)w->nprod)) {
        rc = OOM();
        goto done;
    }
    int k = 0;
    for (int d = 0; rc == RS_OK && d < w->ndept; d++)
        rc = name_department(w, r, d, cap[d], count[d], &k, e);
done:
    free(count);
    free(cap);
    return rc;
}

/* Popularity: Zipf over a random ranking; products per category (at least 2, so that
 * every category can hold a group). */
static int size_categories(world_t *w, rng_t *r, double *wt, rs_error *e)
{
    int *perm = sy_xcalloc((size_t)w->ncat, sizeof *perm);
    int *count = sy_xcalloc((size_t)w->ncat, sizeof *count);
    w->cat_cum = sy_xcalloc((size_t)w->ncat, sizeof *w->cat_cum);
    int rc = RS_OK;
    if (!perm || !count || !w->cat_cum) {
        rc = OOM();
        goto done;
    }
    for (int i = 0; i < w->ncat; i++)
        perm[i] = i;
    shuffle_int(r, perm, w->ncat);
    for (int i = 0; i < w->ncat; i++)
        w->cat[perm[i]].weight = pow(i + 1.0, -w->p->category_zipf);
    double acc = 0;
    for (int i = 0; i < w->ncat; i++) {
        acc += w->cat[i].weight;
        w->cat_cum[i] = acc;
    }
    for (int i = 0; i < w->ncat; i++)
        wt[i] = 0.5 + rng_unif(r);
    if (split_counts(r, w->ncat, w->nprod, 2, wt, NULL, count)) {
        rc = rs_seterr(e, RS_EINTERNAL, "cannot split products over categories");
        goto done;
    }
    int p0 = 0;
    for (int i = 0; i < w->ncat; i++) {
        w->cat[i].prod0 = p0;
        w->cat[i].nprod = count[i];
        p0 += count[i];
    }
done:
    free(perm);
    free(count);
    return rc;
}

int sy_build_categories(world_t *w, rng_t *r, rs_error *e)
{
    double *wt = sy_xcalloc((size_t)(w->ndept > w->ncat ? w->ndept : w->ncat), sizeof *wt);
    if (!wt)
        return OOM();
    int rc = pick_cities(w, r, e);
    if (rc == RS_OK)
        rc = pick_departments(w, r, e);
    if (rc == RS_OK)
        rc = name_categories(w, r, wt, e);
    if (rc == RS_OK)
        rc = size_categories(w, r, wt, e);
    free(wt);
    return rc;
}

/* prefix + v in at least width digits, zero padded; dst holds ID_STRIDE bytes. */
static void format_id(char *dst, char prefix, uint64_t v, int width)
{
    char digits[24];
    int n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    if (width > ID_STRIDE - 2)
        width = ID_STRIDE - 2;
    int k = 0;
    dst[k++] = prefix;
    for (int i = n; i < width; i++)
        dst[k++] = '0';
    while (n > 0)
        dst[k++] = digits[--n];
    dst[k] = '\0';
}

/* A unique product name "Brand Descriptor Category Size"; desc < 0 picks one. */
static int make_name(world_t *w, rng_t *r, int c, int prod, int desc, rs_error *e)
{
    cat_t *ct = &w->cat[c];
    prod_t *pr = &w->prod[prod];
    const strlist *brands = &w->as.brands;
    for (int attempt = 0; attempt < 400; attempt++) {
        int d = (desc >= 0 && attempt < 200) ? desc : (int)rng_below(r, (uint64_t)ct->descs->n);
        const char *ds = ct->descs->v[d];
        if (ct->qualifier && strcmp(ds, ct->qualifier) == 0)
            continue;
        int b = (int)rng_below(r, (uint64_t)brands->n);
        int s = (int)rng_below(r, (uint64_t)ct->sizes->n);
        char *name = NULL;
        if (asprintf(&name, "%s %s %s %s", brands->v[b], ds, ct->name, ct->sizes->v[s]) < 0)
            return OOM();
        int added = sy_ns_add(&w->names, name);
        if (added < 0) {
            free(name);
            return OOM();
        }
        if (added == 0) {
            free(name);
            continue;
        }
        pr->name = name;
        pr->brand = b;
        double v = ct->price * w->brand_factor[b] * (1.0 + 0.6 * s) * (0.9 + 0.2 * rng_unif(r));
        int cents = (int)lround(v / 10.0) * 10 - 1;
        pr->price = cents < 19 ? 19 : cents;
        return RS_OK;
    }
    return rs_seterr(e, RS_EUSAGE,
                     "the word lists cannot name %d distinct products in category '%s'",
                     ct->nprod, ct->name);
}

/* Needs (substitute groups and singletons) of every category, with names. */
int sy_build_needs(world_t *w, rng_t *r, rs_error *e)
{
    const rs_synth_params *p = w->p;
    int rc = RS_OK;
    int *perm = NULL, *gsize = NULL, *rank = NULL;
    w->prod = sy_xcalloc((size_t)w->nprod, sizeof *w->prod);
    w->need = sy_xcalloc((size_t)w->nprod, sizeof *w->need); /* at most one need per product */
    w->members = sy_xcalloc((size_t)w->nprod, sizeof *w->members);
    w->member_cum = sy_xcalloc((size_t)w->nprod, sizeof *w->member_cum);
    w->pid = sy_xcalloc((size_t)w->nprod, ID_STRIDE);
    w->brand_factor = sy_xcalloc((size_t)w->as.brands.n, sizeof *w->brand_factor);
    int maxn = 0;
    for (int c = 0; c < w->ncat; c++)
        if (w->cat[c].nprod > maxn)
            maxn = w->cat[c].nprod;
    perm = sy_xcalloc((size_t)maxn, sizeof *perm);
    gsize = sy_xcalloc((size_t)maxn, sizeof *gsize);
    rank = sy_xcalloc((size_t)maxn, sizeof *rank);
    if (!w->prod || !w->need || !w->members || !w->member_cum || !w->pid || !w->brand_factor || !perm ||
        !gsize || !rank) {
        rc = OOM();
        goto done;
    }
    for (int b = 0; b < w->as.brands.n; b++)
        w->brand_factor[b] = 0.75 + 0.7 * rng_unif(r);
    int pw = 6;
    for (int64_t v = w->nprod; v >= 1000000; v /= 10)
        pw++;
    for (int i = 0; i < w->nprod; i++)
        format_id(w->pid + (size_t)i * ID_STRIDE, 'P', (uint64_t)i + 1, pw);
    w->pidlen = (int)strlen(w->pid);

    int nn = 0, slot = 0;
    for (int c = 0; c < w->ncat; c++) {
        cat_t *ct = &w->cat[c];
        int n = ct->nprod;
        /* group sizes until about grouped_share of the products are in groups */
        int target = (int)lround(n * p->grouped_share), grouped = 0, ng = 0;
        while (grouped < target && n - grouped >= 2) {
            int s = 2 + (int)rng_below(r, MAX_GROUP - 1);
            if (s > target - grouped)
                s = target - grouped;
            if (s < 2)
                s = 2;
            gsize[ng++] = s;
            grouped += s;
        }
        int nneed = ng + (n - grouped);
        for (int i = 0; i < n; i++)
            perm[i] = ct->prod0 + i;
        shuffle_int(r, perm, n);
        for (int i = 0; i < nneed; i++)
            rank[i] = i;
        shuffle_int(r, rank, nneed);
        ct->need0 = nn;
        ct->nneed = nneed;
        double total = 0, acc = 0;
        /* a group's need is as popular as its size times a singleton's of the same
         * rank, so that members get a singleton's share of receipts */
        for (int i = 0; i < nneed; i++)
            total += pow(rank[i] + 1.0, -p->need_zipf) * (i < ng ? gsize[i] : 1);
        int next = 0;
        for (int i = 0; i < nneed; i++) {
            need_t *nd = &w->need[nn + i];
            nd->cat = c;
            nd->local = -1;
            nd->m0 = slot;
            nd->nm = i < ng ? gsize[i] : 1;
            nd->share = pow(rank[i] + 1.0, -p->need_zipf) * nd->nm / total;
            acc += nd->share;
            nd->cum = acc;
            int desc = nd->nm > 1 ? (int)rng_below(r, (uint64_t)ct->descs->n) : -1;
            double mtotal = 0, macc = 0;
            for (int m = 0; m < nd->nm; m++)
                mtotal += pow(m + 1.0, -p->member_zipf);
            for (int m = 0; m < nd->nm; m++) {
                int pi = perm[next++];
                w->members[slot] = pi;
                macc += pow(m + 1.0, -p->member_zipf) / mtotal;
                w->member_cum[slot] = m == nd->nm - 1 ? 1.0 : macc;
                slot++;
                w->prod[pi].cat = c;
                w->prod[pi].need = nn + i;
                if ((rc = make_name(w, r, c, pi, desc, e)))
                    goto done;
            }
        }
        w->need[nn + nneed - 1].cum = 1.0;
        nn += nneed;
    }
    w->nneed = nn;
done:
    free(perm);
    free(gsize);
    free(rank);
    return rc;
}

int sy_has(const int *v, int n, int x)
{
    for (int i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

/* Complementary category pairs: 1..3 per category, symmetric. */
int sy_build_complements(world_t *w, rng_t *r, rs_error *e)
{
    int K = w->ncat, rc = RS_OK;
    int *order = sy_xcalloc((size_t)K, sizeof *order), *target = sy_xcalloc((size_t)K, sizeof *target);
    w->pairs = sy_xcalloc((size_t)K * MAX_COMP_CATS, sizeof *w->pairs);
    if (!order || !target || !w->pairs) {
        rc = OOM();
        goto done;
    }
    if (K < 2)
        goto done;
    for (int i = 0; i < K; i++) {
        order[i] = i;
        target[i] = 1 + (int)rng_below(r, 3);
    }
    shuffle_int(r, order, K);
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0 keeps every category at <= 3; pass 1 gives a partner to any left alone */
        int maxdeg = pass == 0 ? 3 : MAX_COMP_CATS;
        for (int oi = 0; oi < K; oi++) {
            int a = order[oi];
            cat_t *ca = &w->cat[a];
            int want = pass == 0 ? target[a] : 1;
            for (int tries = 0; ca->ncomp < want && tries < 200; tries++) {
                int b = (int)rng_below(r, (uint64_t)K);
                cat_t *cb = &w->cat[b];
                if (b == a || cb->ncomp >= maxdeg || sy_has(ca->comp, ca->ncomp, b))
                    continue;
                ca->comp[ca->ncomp++] = b;
                cb->comp[cb->ncomp++] = a;
                w->pairs[2 * w->npairs] = a < b ? a : b;
                w->pairs[2 * w->npairs + 1] = a < b ? b : a;
                w->npairs++;
            }
        }
    }
done:
    free(order);
    free(target);
    return rc;
}

int sy_cmp_pair(const void *x, const void *y)
{
    const int *a = x, *b = y;
    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1];
}

/* City tastes (category multipliers) and local products (singleton needs). */
int sy_build_cities(world_t *w, rng_t *r, rs_error *e)
{
    int K = w->ncat, C = w->ncity, rc = RS_OK;
    int *perm = sy_xcalloc((size_t)K, sizeof *perm);
    w->taste = sy_xcalloc((size_t)C * (size_t)K, sizeof *w->taste);
    if (!perm || !w->taste) {
        rc = OOM();
        goto done;
    }
    for (size_t i = 0; i < (size_t)C * (size_t)K; i++)
        w->taste[i] = 1.0;
    int ntaste = K / 40 > 3 ? K / 40 : 3;
    if (ntaste > K)
        ntaste = K;
    int nsingle = 0;
    for (int i = 0; i < w->nneed; i++)
        nsingle += w->need[i].nm == 1;
    int nlocal = (int)(w->nprod / ((int64_t)C * 100));
    if (nlocal < 3)
        nlocal = 3;
    if ((int64_t)nlocal * C > nsingle / 4)
        nlocal = nsingle / 4 / C;
    for (int c = 0; c < C; c++) {
        for (int i = 0; i < K; i++)
            perm[i] = i;
        shuffle_int(r, perm, K);
        static const double mult[] = {2.0, 3.0, 3.0, 4.0};
        for (int t = 0; t < ntaste; t++)
            w->taste[(size_t)c * K + perm[t]] = mult[rng_below(r, 4)];
        /* local products: singletons of at least average popularity in their category,
         * preferably in one of the city's favourite categories */
        int made = 0;
        for (int tries = 0; made < nlocal && tries < nlocal * 400; tries++) {
            int k = tries < nlocal * 200 ? perm[rng_below(r, (uint64_t)ntaste)]
                                         : (int)rng_below(r, (uint64_t)K);
            cat_t *ct = &w->cat[k];
            need_t *nd = &w->need[ct->need0 + (int)rng_below(r, (uint64_t)ct->nneed)];
            if (nd->nm != 1 || nd->local >= 0 || (tries < nlocal * 300 && nd->share * ct->nneed < 1.0))
                continue;
            nd->local = c;
            made++;
        }
    }
done:
    free(perm);
    return rc;
}

/* 2..4 companion needs per need, mostly from the complementary categories. */
void sy_build_companions(world_t *w, rng_t *r)
{
    for (int i = 0; i < w->nneed; i++) {
        need_t *nd = &w->need[i];
        const cat_t *ct = &w->cat[nd->cat];
        int want = 2 + (int)rng_below(r, 3);
        for (int tries = 0; nd->ncomp < want && tries < 40; tries++) {
            int k;
            if (ct->ncomp > 0 && rng_unif(r) < 0.85)
                k = ct->comp[rng_below(r, (uint64_t)ct->ncomp)];
            else
                k = cum_search(w->cat_cum, w->ncat, rng_unif(r) * w->cat_cum[w->ncat - 1]);
            if (k == nd->cat)
                continue;
            const cat_t *ck = &w->cat[k];
            double u = rng_unif(r);
            int j = ck->need0 + ck->nneed - 1;
            for (int t = ck->need0; t < ck->need0 + ck->nneed; t++)
                if (w->need[t].cum > u) {
                    j = t;
                    break;
                }
            if (w->need[j].local >= 0 || sy_has(nd->comp, nd->ncomp, j))
                continue;
            nd->comp[nd->ncomp++] = j;
        }
    }
}

int sy_alias_draw(const alias_t *t, int n, rng_t *r)
{
    return rs_alias_draw_starstar(t, (uint32_t)n, r);
}

/* Popularity of the needs in each city (other cities' local products 0). */
int sy_build_city_tables(world_t *w, rs_error *e)
{
    int rc = RS_OK, n = w->nneed;
    double *wt = sy_xcalloc((size_t)n, sizeof *wt);
    w->need_alias = sy_xcalloc((size_t)w->ncity * (size_t)n, sizeof *w->need_alias);
    if (!wt || !w->need_alias) {
        rc = OOM();
        goto done;
    }
    for (int c = 0; c < w->ncity; c++) {
        for (int i = 0; i < n; i++) {
            const need_t *nd = &w->need[i];
            wt[i] = (nd->local < 0 || nd->local == c)
                        ? w->cat[nd->cat].weight * w->taste[(size_t)c * w->ncat + nd->cat] *
                              nd->share
                        : 0.0;
        }
        if (rs_alias_build(w->need_alias + (size_t)c * n, wt, (uint32_t)n, RS_ALIAS_ADD)) {
            rc = OOM();
            goto done;
        }
    }
done:
    free(wt);
    return rc;
}
