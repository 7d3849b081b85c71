/* custrank.c - the second level of personal recommendations (see custrank.h). */
#include "custrank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "custeval_int.h"
#include "topheap.h"

#define NM RS_CUSTRANK_LEVEL1
#define CAND_CAP 1000 /* rank_candidates at most this */

/* The feature table.  Order = column order of the matrix. */
enum {
    F_SCORE = 0,             /* NM: each method's score */
    F_RANK = F_SCORE + NM,   /* NM: each method's rank */
    F_LISTS = F_RANK + NM,
    F_HCOUNT,
    F_HWEIGHT,
    F_HSHARE,
    F_DAYS_SINCE,
    F_ORDERS_SINCE,
    F_INTERVAL,
    F_DUE,
    F_CRECEIPTS,
    F_CBASKET,
    F_CDAYS,
    F_CDISTINCT,
    F_POP,
    F_RECENT,
    F_TREND,
    F_CATSHARE,
    F_REPEAT,
    F_CREPEAT,
    F_SINCE_FIRST,
    F_N,
};

static const char *const FNAME[F_N] = {
    "score_popularity", "score_buyagain", "score_itemitem", "score_ease", "score_als",
    "score_sgns", "rank_popularity", "rank_buyagain", "rank_itemitem", "rank_ease",
    "rank_als", "rank_sgns", "lists", "hist_count", "hist_weight", "hist_share",
    "days_since_bought", "orders_since_bought", "interval_days", "due_ratio",
    "cust_receipts", "cust_basket", "cust_days_since", "cust_distinct", "pop_share",
    "recent_share", "trend", "category_share", "item_repeat", "cust_repeat",
    "rate_since_first",
};

static const char *const FHOW[F_N] = {
    "the popularity score (log(1 + receipts))", "buy-again's score (history weight)",
    "item-item's score", "EASE's score", "ALS's score", "SGNS's score",
    "rank in popularity's list (1 = first; missing outside its top N)",
    "rank in buy-again's list", "rank in item-item's list", "rank in EASE's list",
    "rank in ALS's list", "rank in SGNS's list",
    "how many methods' top N hold the candidate",
    "the customer's receipts holding it", "their recency weights summed (personal.h)",
    "hist_count / the customer's receipts",
    "days since the customer last bought it (missing: never, or no times)",
    "the customer's receipts since the last one holding it (0: the last receipt)",
    "mean days between the customer's purchases of it (missing: bought once)",
    "days_since_bought / interval_days (1: due now)", "the customer's receipts",
    "mean distinct products in the customer's receipts",
    "days since the customer's last receipt", "distinct products in the history",
    "share of the city's training receipts holding it",
    "share of the city's receipts of the last 28 days holding it",
    "recent_share / pop_share",
    "share of the customer's purchases in the candidate's category",
    "share of the city's customers who bought it that bought it in two receipts or more",
    "share of the customer's purchase lines that repeat an earlier product",
    "hist_count / the customer's receipts since the first one holding it",
};

int rs_custrank_n_features(void)
{
    return F_N;
}

const char *rs_custrank_feature_name(int f)
{
    return f >= 0 && f < F_N ? FNAME[f] : NULL;
}

const char *rs_custrank_feature_how(int f)
{
    return f >= 0 && f < F_N ? FHOW[f] : NULL;
}

/* ---- the city's figures ---------------------------------------------------------- */

struct rs_custrank_city {
    int32_t n_items;
    float *pop, *recent, *repeat; /* shares */
};

void rs_custrank_city_free(rs_custrank_city *c)
{
    if (!c)
        return;
    free(c->pop);
    free(c->recent);
    free(c->repeat);
    free(c);
}

int rs_custrank_city_new(const rs_corpus *c, const uint8_t *exclude, const rs_corpus *cust,
                         const int64_t *pop, int64_t pop_receipts, int64_t ref_time,
                         rs_custrank_city **out, rs_error *e)
{
    *out = NULL;
    size_t n = (size_t)c->n_items + 1;
    rs_custrank_city *y = calloc(1, sizeof *y);
    int64_t *cnt = calloc(n * 3, sizeof *cnt);
    if (y) {
        y->n_items = c->n_items;
        y->pop = malloc(n * sizeof *y->pop);
        y->recent = malloc(n * sizeof *y->recent);
        y->repeat = malloc(n * sizeof *y->repeat);
    }
    if (!y || !cnt || !y->pop || !y->recent || !y->repeat) {
        free(cnt);
        rs_custrank_city_free(y);
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    int64_t from = ref_time - (int64_t)RS_CUSTRANK_RECENT_DAYS * 86400, n_recent = 0;
    for (int64_t r = 0; r < c->n_receipts; r++) {
        if ((exclude && exclude[r]) || c->ts[r] == INT64_MIN || c->ts[r] <= from ||
            c->ts[r] > ref_time)
            continue;
        n_recent++;
        for (int64_t k = c->offsets[r]; k < c->offsets[r + 1]; k++)
            cnt[c->items[k]]++;
    }
    int64_t *buyers = cnt + n, *repeaters = cnt + 2 * n;
    for (int64_t r = 0; cust && r < cust->n_receipts; r++)
        for (int64_t k = cust->offsets[r]; k < cust->offsets[r + 1]; k++) {
            int32_t i = cust->items[k];
            if (i < 0 || i >= c->n_items)
                continue;
            buyers[i]++;
            repeaters[i] += cust->weights[k] >= 2.0f;
        }
    for (int32_t i = 0; i < c->n_items; i++) {
        y->pop[i] = pop_receipts ? (float)((double)pop[i] / (double)pop_receipts) : 0.0f;
        y->recent[i] = n_recent ? (float)((double)cnt[i] / (double)n_recent) : NAN;
        y->repeat[i] = buyers[i] ? (float)((double)repeaters[i] / (double)buyers[i]) : NAN;
    }
    free(cnt);
    *out = y;
    return RS_OK;
}

/* ---- candidates and features ----------------------------------------------------- */

struct rs_custrank_scorer {
    rs_ranker *rk;               /* own copy; NULL: features only */
    const rs_custrank_city *city;
    int32_t n_items, n_categories, n_cand_max, topn;
    const int32_t *item_category;
    int32_t *cand;               /* [n_cand_max] */
    float *x;                    /* [n_cand_max][F_N] */
    float *pred;                 /* [n_cand_max] */
    int16_t *rank;               /* [n_items][NM]: 0 = outside the top N */
    int32_t *slot;               /* [n_items]: -1 or the candidate's position */
    int64_t *first_ts, *last_ts; /* [n_items] per history item */
    int64_t *last_pos, *first_pos; /* [n_items] */
    float *cat;                  /* [n_categories] purchase lines per category */
    int32_t topi[CAND_CAP];
    float tops[CAND_CAP];
};

void rs_custrank_scorer_free(rs_custrank_scorer *s)
{
    if (!s)
        return;
    rs_ranker_free(s->rk);
    free(s->cand);
    free(s->x);
    free(s->pred);
    free(s->rank);
    free(s->slot);
    free(s->first_ts);
    free(s->last_ts);
    free(s->last_pos);
    free(s->first_pos);
    free(s->cat);
    free(s);
}

struct rs_custrank {
    rs_ranker *rk;
    int topn, windows;
    int64_t queries, rows;
};

static int scorer_new(rs_ranker *rk, int topn, const rs_custrank_city *city, int32_t n_items,
                      int32_t n_categories, const int32_t *item_category,
                      rs_custrank_scorer **out, rs_error *e)
{
    *out = NULL;
    rs_custrank_scorer *s = calloc(1, sizeof *s);
    if (!s)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    s->city = city;
    s->n_items = n_items;
    s->n_categories = n_categories;
    s->item_category = item_category;
    s->topn = topn < 1 ? 1 : topn > CAND_CAP ? CAND_CAP : topn;
    s->n_cand_max = s->topn * NM;
    size_t n = (size_t)n_items + 1, m = (size_t)s->n_cand_max + 1;
    s->cand = malloc(m * sizeof *s->cand);
    s->x = malloc(m * F_N * sizeof *s->x);
    s->pred = malloc(m * sizeof *s->pred);
    s->rank = calloc(n * NM, sizeof *s->rank);
    s->slot = malloc(n * sizeof *s->slot);
    s->first_ts = malloc(n * sizeof *s->first_ts);
    s->last_ts = malloc(n * sizeof *s->last_ts);
    s->last_pos = malloc(n * sizeof *s->last_pos);
    s->first_pos = malloc(n * sizeof *s->first_pos);
    s->cat = calloc((size_t)n_categories + 1, sizeof *s->cat);
    int rc = RS_OK;
    if (!s->cand || !s->x || !s->pred || !s->rank || !s->slot || !s->first_ts ||
        !s->last_ts || !s->last_pos || !s->first_pos || !s->cat)
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
    else if (rk)
        rc = rs_ranker_copy(rk, 1, &s->rk, e); /* predictions do not depend on nthread */
    if (rc) {
        rs_custrank_scorer_free(s);
        return rc;
    }
    for (int32_t i = 0; i < n_items; i++)
        s->slot[i] = -1, s->last_pos[i] = -1;
    *out = s;
    return RS_OK;
}

int rs_custrank_features_new(int topn, const rs_custrank_city *city, int32_t n_items,
                             int32_t n_categories, const int32_t *item_category,
                             rs_custrank_scorer **out, rs_error *e)
{
    return scorer_new(NULL, topn, city, n_items, n_categories, item_category, out, e);
}

int rs_custrank_scorer_new(rs_custrank *r, const rs_custrank_city *city, int32_t n_items,
                           int32_t n_categories, const int32_t *item_category,
                           rs_custrank_scorer **out, rs_error *e)
{
    return scorer_new(r->rk, r->topn, city, n_items, n_categories, item_category, out, e);
}

/* The union of every method's top N, in method order then rank order. */
static int32_t candidates(rs_custrank_scorer *s, const float *const sc[NM])
{
    int32_t n = 0;
    for (int m = 0; m < NM; m++) {
        if (!sc[m])
            continue;
        rs_topheap t = {s->topi, s->tops, 0, s->topn};
        for (int32_t i = 0; i < s->n_items; i++)
            if (sc[m][i] > -INFINITY)
                rs_topheap_push(&t, sc[m][i], i);
        rs_topheap_sort(&t);
        for (int r = 0; r < t.n; r++) {
            int32_t x = t.idx[r];
            s->rank[(size_t)x * NM + (size_t)m] = (int16_t)(r + 1);
            if (s->slot[x] < 0) {
                s->slot[x] = n;
                s->cand[n++] = x;
            }
        }
    }
    return n;
}

/* The customer's per-item times and positions, category lines; *basket the mean
 * receipt size, *timed whether every receipt has a time. */
static void history_pass(rs_custrank_scorer *s, const rs_corpus *c, const int64_t *rows,
                         int64_t n, double *basket, int *timed, double *lines)
{
    int64_t total = 0;
    *timed = n > 0;
    for (int64_t j = 0; j < n; j++) {
        int64_t r = rows[j], ts = c->ts[r];
        *timed = *timed && ts != INT64_MIN;
        for (int64_t k = c->offsets[r]; k < c->offsets[r + 1]; k++) {
            int32_t i = c->items[k];
            if (i < 0 || i >= s->n_items)
                continue;
            if (s->last_pos[i] < 0)
                s->first_ts[i] = ts, s->first_pos[i] = j;
            s->last_pos[i] = j;
            s->last_ts[i] = ts;
            int32_t g = s->item_category ? s->item_category[i] : -1;
            if (g >= 0 && g < s->n_categories)
                s->cat[g] += 1.0f;
            total++;
        }
    }
    *basket = n ? (double)total / (double)n : 0.0;
    *lines = (double)total;
}

int32_t rs_custrank_features(rs_custrank_scorer *s, const rs_personal *p,
                             const float *const sc[NM], const rs_corpus *c,
                             const int64_t *rows, int64_t n, int64_t now,
                             const int32_t **cand_out, const float **x_out)
{
    int32_t nc = candidates(s, sc);
    double basket, lines;
    int timed;
    history_pass(s, c, rows, n, &basket, &timed, &lines);
    const int32_t *hist;
    const float *hw, *hc;
    int32_t nh = rs_personal_history(p, &hist, &hw, &hc);
    int64_t last_ts = n ? c->ts[rows[n - 1]] : INT64_MIN;
    for (int32_t q = 0; q < nc; q++) {
        int32_t i = s->cand[q];
        float *x = s->x + (size_t)q * F_N;
        int lists = 0;
        for (int m = 0; m < NM; m++) {
            float v = sc[m] ? sc[m][i] : -INFINITY;
            x[F_SCORE + m] = v > -INFINITY ? v : NAN;
            int16_t r = s->rank[(size_t)i * NM + (size_t)m];
            x[F_RANK + m] = r ? (float)r : NAN;
            lists += r > 0;
            s->rank[(size_t)i * NM + (size_t)m] = 0;
        }
        x[F_LISTS] = (float)lists;
        /* the history's weight and count of the candidate (hist is ascending) */
        float cnt = 0.0f, w = 0.0f;
        int32_t lo = 0, hi = nh - 1;
        while (lo <= hi) {
            int32_t mid = (lo + hi) / 2;
            if (hist[mid] == i) {
                cnt = hc[mid], w = hw[mid];
                break;
            }
            hist[mid] < i ? (lo = mid + 1) : (hi = mid - 1);
        }
        x[F_HCOUNT] = cnt;
        x[F_HWEIGHT] = w;
        x[F_HSHARE] = n ? cnt / (float)n : 0.0f;
        int bought = s->last_pos[i] >= 0;
        double days = bought && timed ? (double)(now - s->last_ts[i]) / 86400.0 : NAN;
        double interval = bought && timed && cnt >= 2
                              ? (double)(s->last_ts[i] - s->first_ts[i]) / 86400.0 /
                                    (double)(cnt - 1)
                              : NAN;
        x[F_DAYS_SINCE] = (float)days;
        x[F_ORDERS_SINCE] = bought ? (float)(n - 1 - s->last_pos[i]) : NAN;
        x[F_INTERVAL] = (float)interval;
        x[F_DUE] = interval > 0 ? (float)(days / interval) : NAN;
        x[F_CRECEIPTS] = (float)n;
        x[F_CBASKET] = (float)basket;
        x[F_CDAYS] = timed ? (float)((double)(now - last_ts) / 86400.0) : NAN;
        x[F_CDISTINCT] = (float)nh;
        float pop = s->city->pop[i], rec = s->city->recent[i];
        x[F_POP] = pop;
        x[F_RECENT] = rec;
        x[F_TREND] = pop > 0 && !isnan(rec) ? rec / pop : NAN;
        int32_t g = s->item_category ? s->item_category[i] : -1;
        x[F_CATSHARE] =
            g >= 0 && g < s->n_categories && lines > 0 ? (float)(s->cat[g] / lines) : 0.0f;
        x[F_REPEAT] = s->city->repeat[i];
        x[F_CREPEAT] = lines > 0 ? (float)((lines - (double)nh) / lines) : NAN;
        x[F_SINCE_FIRST] = bought ? cnt / (float)(n - s->first_pos[i]) : NAN;
    }
    /* reset the per-item scratch */
    for (int32_t q = 0; q < nc; q++)
        s->slot[s->cand[q]] = -1;
    for (int64_t j = 0; j < n; j++)
        for (int64_t k = c->offsets[rows[j]]; k < c->offsets[rows[j] + 1]; k++) {
            int32_t i = c->items[k];
            if (i < 0 || i >= s->n_items)
                continue;
            s->last_pos[i] = -1;
            int32_t g = s->item_category ? s->item_category[i] : -1;
            if (g >= 0 && g < s->n_categories)
                s->cat[g] = 0.0f;
        }
    *cand_out = s->cand;
    *x_out = s->x;
    return nc;
}

int rs_custrank_score(rs_custrank_scorer *s, const rs_personal *p, const float *const sc[NM],
                      const rs_corpus *c, const int64_t *rows, int64_t n, int64_t now,
                      float *out, rs_error *e)
{
    const int32_t *cand;
    const float *x;
    int32_t nc = rs_custrank_features(s, p, sc, c, rows, n, now, &cand, &x);
    for (int32_t i = 0; i < s->n_items; i++)
        out[i] = -INFINITY;
    if (!s->rk)
        return rs_seterr(e, RS_EINTERNAL, "custrank: a scorer without a ranker");
    int rc = rs_ranker_predict(s->rk, x, nc, s->pred, e);
    if (rc)
        return rc;
    for (int32_t q = 0; q < nc; q++)
        out[cand[q]] = s->pred[q];
    return RS_OK;
}

/* ---- training on the validation window ------------------------------------------- */

void rs_custrank_free(rs_custrank *r)
{
    if (!r)
        return;
    rs_ranker_free(r->rk);
    free(r);
}

rs_ranker *rs_custrank_ranker(rs_custrank *r)
{
    return r->rk;
}

void rs_custrank_counts(const rs_custrank *r, int *windows, int64_t *queries, int64_t *rows)
{
    *windows = r->windows;
    *queries = r->queries;
    *rows = r->rows;
}

/* The training matrix, grown as queries come. */
typedef struct mat {
    float *x, *y;
    uint32_t *gs;
    int64_t n, cap, ng, gcap;
} mat;

static int mat_add(mat *m, const float *x, const float *y, int32_t nr)
{
    if (m->n + nr > m->cap) {
        int64_t cap = m->cap ? m->cap : 4096;
        while (cap < m->n + nr)
            cap *= 2;
        float *nx = realloc(m->x, (size_t)cap * F_N * sizeof *nx);
        if (!nx)
            return -1;
        m->x = nx;
        float *ny = realloc(m->y, (size_t)cap * sizeof *ny);
        if (!ny)
            return -1;
        m->y = ny;
        m->cap = cap;
    }
    if (m->ng == m->gcap) {
        int64_t cap = m->gcap ? m->gcap * 2 : 256;
        uint32_t *ng = realloc(m->gs, (size_t)cap * sizeof *ng);
        if (!ng)
            return -1;
        m->gs = ng;
        m->gcap = cap;
    }
    memcpy(m->x + (size_t)m->n * F_N, x, (size_t)nr * F_N * sizeof *x);
    memcpy(m->y + m->n, y, (size_t)nr * sizeof *y);
    m->gs[m->ng++] = (uint32_t)nr;
    m->n += nr;
    return 0;
}

/* What the passes over the customers of the validation windows need.  win[r]: 0 for
 * the rows the first level is fitted on, 1 for the held-out window, w + 1 for the
 * w-th validation window (1 = the latest). */
typedef struct vpass {
    const rs_histories *h;
    const rs_custeval_opts *o;
    uint8_t *win;
    uint8_t *before;              /* [n_receipts] not before the current window */
    int w;                        /* the current window's win value */
    int64_t vcut;                 /* its cutoff (days split) */
    rs_personal *p;
    rs_custrank_scorer *s;
    float *scores;                /* [NM][n_items] */
    int64_t *rows;
    uint8_t *target;              /* [n_items] */
    float *label;                 /* [n_cand_max] */
} vpass;

/* One customer's query of the current window appended to m (nothing when they have no
 * receipt in it, none before it, or no positive candidate). */
static int query(vpass *v, int32_t k, mat *m)
{
    const rs_histories *h = v->h;
    const rs_corpus *c = h->corpus;
    int32_t n_items = v->s->n_items;
    int nval = 0;
    for (int64_t q = h->off[k]; q < h->off[k + 1]; q++) {
        int64_t r = h->rec[q];
        if (v->win[r] != v->w)
            continue;
        nval++;
        for (int64_t t = c->offsets[r]; t < c->offsets[r + 1]; t++)
            v->target[c->items[t]] = 1;
    }
    int64_t now = 0;
    int64_t n = nval ? rs_custeval_history(h, v->before, k, v->vcut, v->rows, &now) : 0;
    int rc = 0;
    if (n > 0) {
        rs_personal_set_history(v->p, c, v->rows, n, now);
        const float *sc[NM];
        for (int mth = 0; mth < NM; mth++) {
            float *x = v->scores + (size_t)mth * (size_t)n_items;
            sc[mth] = (v->o->methods & (1u << mth)) && rs_personal_score(v->p, mth, x) >= 0
                          ? x
                          : NULL;
        }
        const int32_t *cand;
        const float *x;
        int32_t nc = rs_custrank_features(v->s, v->p, sc, c, v->rows, n, now, &cand, &x);
        int pos = 0;
        for (int32_t q = 0; q < nc; q++)
            pos += (v->label[q] = v->target[cand[q]] ? 1.0f : 0.0f) > 0;
        if (pos > 0)
            rc = mat_add(m, x, v->label, nc);
    }
    for (int64_t q = h->off[k]; q < h->off[k + 1]; q++) {
        int64_t r = h->rec[q];
        if (v->win[r] == v->w)
            for (int64_t t = c->offsets[r]; t < c->offsets[r + 1]; t++)
                v->target[c->items[t]] = 0;
    }
    return rc;
}

/* The validation windows, one after the other back in time, each the split of the rows
 * before the later ones; *nwin receives how many hold a receipt. */
static int carve_windows(const rs_histories *h, const uint8_t *held, const rs_custeval_opts *o,
                         uint8_t *win, int64_t *cuts, int *nwin, rs_error *e)
{
    const rs_corpus *c = h->corpus;
    uint8_t *use = malloc((size_t)c->n_receipts + 1);
    uint8_t *cut = malloc((size_t)c->n_receipts + 1);
    int rc = RS_OK;
    *nwin = 0;
    if (!use || !cut) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    for (int64_t r = 0; r < c->n_receipts; r++)
        win[r] = held[r] ? 1 : 0;
    for (int w = 0; w < o->rank_windows && w < RS_CUSTRANK_MAX_WINDOWS; w++) {
        for (int64_t r = 0; r < c->n_receipts; r++)
            use[r] = win[r] == 0;
        if ((rc = rs_histories_split(h, o->holdout_days, o->holdout_orders, use, cut, &cuts[w],
                                     e)))
            goto done;
        int64_t any = 0;
        for (int64_t r = 0; r < c->n_receipts; r++)
            if (cut[r] && use[r])
                win[r] = (uint8_t)(w + 2), any++;
        if (!any)
            break;
        (*nwin)++;
    }
done:
    free(use);
    free(cut);
    return rc;
}

/* The queries of every window into m, with the models fitted before the earliest. */
static int all_queries(vpass *v, const rs_custfit *f, int nwin, const int64_t *cuts, mat *m,
                       rs_error *e)
{
    const rs_corpus *c = v->h->corpus;
    rs_custrank_city *city = NULL;
    int rc = RS_OK;
    for (int w = 0; rc == RS_OK && w < nwin; w++) {
        v->w = w + 2;
        v->vcut = cuts[w];
        int64_t ref = cuts[w];
        for (int64_t r = 0; r < c->n_receipts; r++) {
            v->before[r] = !(v->win[r] == 0 || v->win[r] > v->w);
            if (cuts[w] == 0 && !v->before[r] && c->ts[r] != INT64_MIN && c->ts[r] > ref)
                ref = c->ts[r];
        }
        rs_custrank_city_free(city);
        city = NULL;
        if ((rc = rs_custrank_city_new(c, v->before, f->cust, f->pop, f->train->n_receipts, ref,
                                       &city, e)))
            break;
        v->s->city = city;
        for (int32_t k = 0; k < v->h->n_customers; k++)
            if (query(v, k, m) != 0) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                break;
            }
    }
    v->s->city = NULL;
    rs_custrank_city_free(city);
    return rc;
}

static void vpass_free(vpass *v)
{
    free(v->win);
    free(v->before);
    free(v->scores);
    free(v->rows);
    free(v->target);
    free(v->label);
    rs_personal_free(v->p);
    rs_custrank_scorer_free(v->s);
}

int rs_custrank_train(const rs_histories *h, const uint8_t *held, const rs_custeval_opts *o,
                      rs_custrank **out, rs_custeval_result *res, rs_error *e)
{
    *out = NULL;
    const rs_corpus *c = h->corpus;
    rs_custfit f;
    memset(&f, 0, sizeof f);
    mat m;
    memset(&m, 0, sizeof m);
    vpass v;
    memset(&v, 0, sizeof v);
    v.h = h, v.o = o;
    int64_t cuts[RS_CUSTRANK_MAX_WINDOWS] = {0};
    int nwin = 0, rc = RS_OK;
    size_t nr = (size_t)c->n_receipts + 1, ni = (size_t)c->n_items + 1;
    v.win = malloc(nr);
    v.before = malloc(nr);
    v.scores = malloc((size_t)NM * ni * sizeof *v.scores);
    v.rows = malloc(nr * sizeof *v.rows);
    v.target = calloc(ni, 1);
    if (!v.win || !v.before || !v.scores || !v.rows || !v.target) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    if ((rc = carve_windows(h, held, o, v.win, cuts, &nwin, e)))
        goto done;
    for (size_t r = 0; r + 1 < nr; r++)
        v.before[r] = v.win[r] != 0; /* the first level: the rows before every window */
    if ((rc = rs_custfit_run(h, v.before, o, &f, res, e)))
        goto done;
    rs_personal_parts parts;
    rs_custfit_parts(&f, c->n_items, o, &parts);
    if ((rc = scorer_new(NULL, o->rank_candidates, NULL, c->n_items, c->n_categories,
                         c->item_category, &v.s, e)) ||
        (rc = rs_personal_new(&parts, &v.p, e)))
        goto done;
    v.label = malloc(((size_t)v.s->n_cand_max + 1) * sizeof *v.label);
    if (!v.label) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    if ((rc = all_queries(&v, &f, nwin, cuts, &m, e)))
        goto done;
    rs_ranker_params rp;
    rs_ranker_defaults(&rp);
    rp.threads = RS_CUSTRANK_THREADS;
    rp.seed = o->seed;
    rs_ranker_data d = {m.n, F_N, m.x, m.y, m.ng, m.gs};
    rs_custrank *r = calloc(1, sizeof *r);
    if (!r) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    if ((rc = rs_ranker_train(&d, &rp, &r->rk, e))) {
        rs_errctx(e, "ranker on %d validation windows (%lld queries with a positive)", nwin,
                  (long long)m.ng);
        free(r);
        goto done;
    }
    r->topn = v.s->topn;
    r->queries = m.ng;
    r->rows = m.n;
    r->windows = nwin;
    *out = r;
done:
    free(m.x);
    free(m.y);
    free(m.gs);
    vpass_free(&v);
    rs_custfit_free(&f);
    return rc;
}
