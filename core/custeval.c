/* custeval.c - personal recommendations on a time split (see custeval.h). */
#include "custeval.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "als.h"
#include "corpus.h"
#include "custeval_int.h"
#include "custrank.h"
#include "ease.h"
#include "history.h"
#include "knn.h"
#include "sgns.h"
#include "topheap.h"

#define CAND_MAX 200
static const int CAND_N[RS_CUSTEVAL_NCAND] = {50, 100, 200};

void rs_custeval_defaults(rs_custeval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->k = 10;
    o->negatives = 100;
    o->seed = 1;
    o->threads = 2;
    o->methods = (1u << RS_PERS_N) - 1;
    o->ease_lambda = 100.0;
    o->als_factors = 64;
    o->als_lambda = 0.1;
    o->als_alpha = 10.0;
    o->als_iters = 15;
    o->ease_cap = 20000;
    o->rank_candidates = 100;
    o->rank_windows = 3;
}

void rs_custeval_list_metrics(const int32_t *list, int n_list, int k, const int32_t *targets,
                              int n_targets, double *precision, double *recall, double *ap,
                              double *ndcg)
{
    int hits = 0;
    double sum_prec = 0.0, dcg = 0.0, idcg = 0.0;
    for (int i = 0; i < n_list && i < k; i++) {
        int32_t x = list[i];
        int lo = 0, hi = n_targets - 1, rel = 0;
        while (lo <= hi) {
            int mid = (lo + hi) / 2;
            if (targets[mid] == x) {
                rel = 1;
                break;
            }
            if (targets[mid] < x)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
        if (rel) {
            hits++;
            sum_prec += (double)hits / (double)(i + 1);
            dcg += 1.0 / log2((double)i + 2.0);
        }
    }
    int ideal = n_targets < k ? n_targets : k;
    for (int i = 0; i < ideal; i++)
        idcg += 1.0 / log2((double)i + 2.0);
    *precision = (double)hits / (double)k;
    *recall = n_targets ? (double)hits / (double)n_targets : 0.0;
    *ap = ideal ? sum_prec / (double)ideal : 0.0;
    *ndcg = idcg > 0 ? dcg / idcg : 0.0;
}

/* splitmix64, seeded per customer, so the negatives do not depend on thread order. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* What the workers share (read-only) and what they fill (per customer slots). */
typedef struct job {
    const rs_custeval_opts *o;
    const rs_histories *h;
    const uint8_t *held;
    const rs_personal_parts *parts;
    const int64_t *pop;        /* training popularity */
    int64_t n_train;           /* training receipts */
    const int32_t *sold;       /* items sold in training, ascending */
    int32_t n_sold;
    const int32_t *evald;      /* the evaluated customers */
    int64_t n_eval;
    int64_t cutoff;
    rs_custrank *rank;         /* the second level (NULL: no ranked row) */
    const rs_custrank_city *rank_city;
    rs_custrank_city *city_owned;
    /* outputs: [n_eval][RS_PERS_N][6] (p5, pk, rk, apk, ndcg, auc, novelty), cand */
    double *per;
    double *cand;              /* [n_eval][NCAND] */
    uint8_t *covered;          /* [RS_PERS_N][n_items] set by workers (byte writes) */
    pthread_mutex_t lock;
    int64_t next;
    int rc;
    rs_error err;
} job;

#define PER_VALUES 7

typedef struct worker {
    job *j;
    rs_personal *p;
    rs_custrank_scorer *rs;
    float *scores;             /* [RS_PERS_N][n_items] */
    int32_t *targets, *cand;
    int64_t *hist; /* the customer's training rows */
    uint8_t *in_cand;
    int64_t slot;  /* the customer being scored */
    int32_t topi[CAND_MAX];
    float tops[CAND_MAX];
} worker;

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The targets of customer k: distinct products of the held-out rows, ascending. */
static int customer_targets(const job *j, int32_t k, int32_t *t)
{
    const rs_corpus *c = j->h->corpus;
    int n = 0;
    for (int64_t q = j->h->off[k]; q < j->h->off[k + 1]; q++) {
        int64_t r = j->h->rec[q];
        if (!j->held[r])
            continue;
        for (int64_t p = c->offsets[r]; p < c->offsets[r + 1]; p++)
            t[n++] = c->items[p];
    }
    qsort(t, (size_t)n, sizeof *t, cmp_i32);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || t[m - 1] != t[i])
            t[m++] = t[i];
    return m;
}

/* AUC of scores: targets against sampled negatives among the sold items. */
static double customer_auc(const job *j, const float *sc, const int32_t *t, int nt,
                           uint64_t seed)
{
    if (nt == 0 || j->n_sold <= nt)
        return 0.5;
    double wins = 0.0;
    int64_t pairs = 0;
    for (int s = 0; s < j->o->negatives; s++) {
        int32_t neg = -1;
        for (int tries = 0; tries < 64 && neg < 0; tries++) {
            int32_t x = j->sold[next_u64(&seed) % (uint64_t)j->n_sold];
            if (!bsearch(&x, t, (size_t)nt, sizeof *t, cmp_i32))
                neg = x;
        }
        if (neg < 0)
            continue;
        for (int i = 0; i < nt; i++) {
            float a = sc[t[i]], b = sc[neg];
            wins += a > b ? 1.0 : a == b ? 0.5 : 0.0;
            pairs++;
        }
    }
    return pairs ? wins / (double)pairs : 0.5;
}

int64_t rs_custeval_history(const rs_histories *h, const uint8_t *held, int32_t k,
                            int64_t cutoff, int64_t *rows, int64_t *now)
{
    int64_t a = h->off[k], b = h->off[k + 1], n = 0;
    int64_t first_held = INT64_MAX;
    for (int64_t q = a; q < b; q++)
        if (held[h->rec[q]] && h->corpus->ts[h->rec[q]] < first_held)
            first_held = h->corpus->ts[h->rec[q]];
    *now = cutoff;
    if (*now == 0)
        *now = first_held != INT64_MAX ? first_held : 0;
    for (int64_t q = a; q < b; q++)
        if (!held[h->rec[q]])
            rows[n++] = h->rec[q];
    return n;
}

static void fail(job *j, int rc, const rs_error *e)
{
    pthread_mutex_lock(&j->lock);
    if (j->rc == RS_OK) {
        j->rc = rc;
        j->err = *e;
    }
    pthread_mutex_unlock(&j->lock);
}

/* Scores of method m into sc: the first level through personal.h, ranked through the
 * second level over the first level's scores (all computed before it).  -1: none. */
static int method_scores(worker *w, int m, int64_t n_hist, int64_t now, float *sc)
{
    job *j = w->j;
    if (m != RS_PERS_RANKED)
        return rs_personal_score(w->p, m, sc);
    if (!w->rs)
        return -1;
    size_t n = (size_t)j->parts->n_items;
    const float *first[RS_CUSTRANK_LEVEL1];
    for (int q = 0; q < RS_CUSTRANK_LEVEL1; q++) {
        const double *v = j->per + ((size_t)w->slot * RS_PERS_N + (size_t)q) * PER_VALUES;
        first[q] = isnan(v[0]) ? NULL : w->scores + (size_t)q * n;
    }
    rs_error e = {0};
    int rc = rs_custrank_score(w->rs, w->p, first, j->h->corpus, w->hist, n_hist, now, sc, &e);
    if (rc) {
        fail(j, rc, &e);
        return -1;
    }
    return 0;
}

static void score_customer(worker *w, int64_t slot)
{
    job *j = w->j;
    const rs_custeval_opts *o = j->o;
    int32_t k = j->evald[slot];
    const rs_histories *h = j->h;
    int32_t n_items = j->parts->n_items;
    /* the training history: the customer's rows before the held-out ones */
    int64_t now = 0;
    int64_t n_hist = rs_custeval_history(h, j->held, k, j->cutoff, w->hist, &now);
    w->slot = slot;
    rs_personal_set_history(w->p, h->corpus, w->hist, n_hist, now);
    int nt = customer_targets(j, k, w->targets);
    double *out = j->per + (size_t)slot * RS_PERS_N * PER_VALUES;
    int n_cand = 0;
    for (int m = 0; m < RS_PERS_N; m++) {
        double *v = out + (size_t)m * PER_VALUES;
        float *sc = w->scores + (size_t)m * (size_t)n_items;
        if (!(o->methods & (1u << m)) || method_scores(w, m, n_hist, now, sc) < 0) {
            v[0] = NAN;
            continue;
        }
        rs_topheap t = {w->topi, w->tops, 0, CAND_MAX};
        for (int32_t i = 0; i < n_items; i++)
            if (sc[i] > -INFINITY)
                rs_topheap_push(&t, sc[i], i);
        rs_topheap_sort(&t);
        double p5, r5, ap5, nd5, pk, rk, apk, ndk, nov = 0.0;
        rs_custeval_list_metrics(t.idx, t.n, 5, w->targets, nt, &p5, &r5, &ap5, &nd5);
        rs_custeval_list_metrics(t.idx, t.n, o->k, w->targets, nt, &pk, &rk, &apk, &ndk);
        int shown = t.n < o->k ? t.n : o->k;
        for (int i = 0; i < shown; i++) {
            int32_t x = t.idx[i];
            j->covered[(size_t)m * (size_t)n_items + (size_t)x] = 1;
            double share = j->n_train ? (double)j->pop[x] / (double)j->n_train : 0.0;
            nov += share > 0 ? -log2(share) : 0.0;
        }
        v[0] = p5, v[1] = pk, v[2] = rk, v[3] = apk, v[4] = ndk;
        v[5] = customer_auc(j, sc, w->targets, nt,
                            o->seed ^ ((uint64_t)h->customer_id[k] * 0x2545f4914f6cdd1dULL));
        v[6] = shown ? nov / (double)shown : 0.0;
        /* the union of the first-level methods' top N, in rank order per method */
        for (int i = 0; m != RS_PERS_RANKED && i < t.n; i++) {
            int32_t x = t.idx[i];
            if (!w->in_cand[x]) {
                w->in_cand[x] = (uint8_t)(i + 1 <= 255 ? i + 1 : 255);
                w->cand[n_cand++] = x;
            } else if (i + 1 < w->in_cand[x]) {
                w->in_cand[x] = (uint8_t)(i + 1);
            }
        }
    }
    double *cr = j->cand + (size_t)slot * RS_CUSTEVAL_NCAND;
    for (int c = 0; c < RS_CUSTEVAL_NCAND; c++) {
        int hit = 0;
        for (int i = 0; i < nt; i++) {
            uint8_t r = w->in_cand[w->targets[i]];
            hit += r > 0 && r <= CAND_N[c];
        }
        cr[c] = nt ? (double)hit / (double)nt : 0.0;
    }
    for (int i = 0; i < n_cand; i++)
        w->in_cand[w->cand[i]] = 0;
}

static void *work(void *arg)
{
    worker *w = arg;
    job *j = w->j;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        int64_t slot = j->rc == RS_OK ? j->next++ : j->n_eval;
        pthread_mutex_unlock(&j->lock);
        if (slot >= j->n_eval)
            break;
        score_customer(w, slot);
    }
    return NULL;
}

static void worker_free(worker *w)
{
    rs_personal_free(w->p);
    rs_custrank_scorer_free(w->rs);
    free(w->scores);
    free(w->targets);
    free(w->hist);
    free(w->cand);
    free(w->in_cand);
}

static int worker_init(worker *w, job *j, rs_error *e)
{
    memset(w, 0, sizeof *w);
    w->j = j;
    size_t n = (size_t)j->parts->n_items + 1;
    w->scores = malloc(n * RS_PERS_N * sizeof *w->scores);
    w->targets = malloc(n * sizeof *w->targets);
    w->hist = malloc(((size_t)j->h->corpus->n_receipts + 1) * sizeof *w->hist);
    w->cand = malloc((size_t)(CAND_MAX * RS_PERS_N + 1) * sizeof *w->cand);
    w->in_cand = calloc(n, 1);
    if (!w->scores || !w->targets || !w->hist || !w->cand || !w->in_cand) {
        worker_free(w);
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    if (j->rank) {
        const rs_corpus *c = j->h->corpus;
        int rc = rs_custrank_scorer_new(j->rank, j->rank_city, c->n_items, c->n_categories,
                                        c->item_category, &w->rs, e);
        if (rc) {
            worker_free(w);
            return rc;
        }
    }
    return rs_personal_new(j->parts, &w->p, e);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The fitted models of the training part (custeval_int.h). */
typedef rs_custfit fitted;

void rs_custfit_free(fitted *f)
{
    rs_corpus_free(f->train);
    rs_corpus_free(f->cust);
    free(f->pop);
    rs_knn_free(f->knn);
    rs_embedding_free(f->ease);
    rs_embedding_free(f->als);
    rs_embedding_free(f->sgns);
}

static void note_skip(rs_custeval_result *r, const char *method, const rs_error *e)
{
    size_t used = strlen(r->skipped);
    snprintf(r->skipped + used, sizeof r->skipped - used, "%s%s: %s", used ? "; " : "", method,
             e->msg);
}

int rs_custfit_run(const rs_histories *h, const uint8_t *held, const rs_custeval_opts *o,
                   fitted *f, rs_custeval_result *res, rs_error *e)
{
    const rs_corpus *c = h->corpus;
    uint8_t *keep = malloc((size_t)c->n_receipts + 1);
    if (!keep)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    for (int64_t r = 0; r < c->n_receipts; r++)
        keep[r] = !held[r];
    int rc = rs_corpus_filter(c, keep, &f->train, e);
    if (rc == RS_OK)
        rc = rs_histories_customer_corpus(h, keep, &f->cust, e);
    free(keep);
    if (rc)
        return rc;
    f->pop = calloc((size_t)c->n_items + 1, sizeof *f->pop);
    if (!f->pop)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    rs_corpus_item_counts(f->train, f->pop);
    rs_error me = {0};
    double t0 = now_s();
    if ((o->methods & (1u << RS_PERS_ITEMITEM)) && rs_knn_build(f->cust, &f->knn, &me))
        note_skip(res, "itemitem", &me);
    f->secs[RS_PERS_ITEMITEM] = now_s() - t0;
    t0 = now_s();
    if ((o->methods & (1u << RS_PERS_EASE)) &&
        rs_ease_fit(f->cust, o->ease_lambda, o->ease_cap, &f->ease, &me))
        note_skip(res, "ease", &me);
    f->secs[RS_PERS_EASE] = now_s() - t0;
    t0 = now_s();
    rs_als_params ap;
    rs_als_defaults(&ap);
    ap.factors = o->als_factors, ap.lambda = o->als_lambda, ap.alpha = o->als_alpha;
    ap.iters = o->als_iters, ap.seed = o->seed;
    if ((o->methods & (1u << RS_PERS_ALS)) && rs_als_fit(f->cust, &ap, &f->als, &me))
        note_skip(res, "als", &me);
    f->secs[RS_PERS_ALS] = now_s() - t0;
    t0 = now_s();
    rs_sgns_params sp;
    rs_sgns_defaults(&sp);
    sp.seed = o->seed;
    sp.threads = 1; /* one thread: the fit, and so every figure, repeats bit for bit */
    if ((o->methods & (1u << RS_PERS_SGNS)) &&
        rs_sgns_train(f->train, &sp, NULL, NULL, &f->sgns, &me))
        note_skip(res, "sgns", &me);
    f->secs[RS_PERS_SGNS] = now_s() - t0;
    return RS_OK;
}

void rs_custfit_parts(const fitted *f, int32_t n_items, const rs_custeval_opts *o,
                      rs_personal_parts *parts)
{
    rs_personal_parts_defaults(parts);
    parts->n_items = n_items;
    parts->pop_counts = f->pop;
    parts->knn = f->knn;
    parts->ease = f->ease;
    parts->als = f->als;
    parts->als_lambda = o->als_lambda;
    parts->als_alpha = o->als_alpha;
    parts->sgns = f->sgns;
}

/* Averages the per-customer values into the result rows. */
static void summarise(const job *j, const rs_custeval_opts *o, const fitted *f,
                      rs_custeval_result *res)
{
    int32_t n_items = j->parts->n_items;
    res->n_rows = 0;
    for (int m = 0; m < RS_PERS_N; m++) {
        double sum[PER_VALUES] = {0};
        int64_t cnt = 0;
        for (int64_t s = 0; s < j->n_eval; s++) {
            const double *v = j->per + ((size_t)s * RS_PERS_N + (size_t)m) * PER_VALUES;
            if (isnan(v[0]))
                continue;
            for (int x = 0; x < PER_VALUES; x++)
                sum[x] += v[x];
            cnt++;
        }
        if (cnt == 0)
            continue;
        rs_custeval_row *r = &res->rows[res->n_rows++];
        memset(r, 0, sizeof *r);
        r->method = m;
        r->customers = cnt;
        r->precision5 = sum[0] / (double)cnt;
        r->precision_k = sum[1] / (double)cnt;
        r->recall_k = sum[2] / (double)cnt;
        r->map_k = sum[3] / (double)cnt;
        r->ndcg_k = sum[4] / (double)cnt;
        r->auc = sum[5] / (double)cnt;
        r->novelty_k = sum[6] / (double)cnt;
        int64_t cov = 0;
        for (int32_t i = 0; i < n_items; i++)
            cov += j->covered[(size_t)m * (size_t)n_items + (size_t)i];
        r->coverage_k = j->n_sold ? (double)cov / (double)j->n_sold : 0.0;
        r->fit_seconds = f->secs[m];
    }
    for (int c = 0; c < RS_CUSTEVAL_NCAND; c++) {
        double sum = 0.0;
        for (int64_t s = 0; s < j->n_eval; s++)
            sum += j->cand[(size_t)s * RS_CUSTEVAL_NCAND + (size_t)c];
        res->cand_recall[c] = j->n_eval ? sum / (double)j->n_eval : 0.0;
        res->cand_n[c] = CAND_N[c];
    }
    res->k = o->k;
}

/* Runs the workers over the evaluated customers. */
static int run_workers(job *j, int threads, rs_error *e)
{
    if (threads < 1)
        threads = 1;
    if (threads > 16)
        threads = 16;
    worker w[16];
    pthread_t tid[16];
    int made = 0, started = 0, rc = RS_OK;
    for (; made < threads; made++)
        if ((rc = worker_init(&w[made], j, e)) != RS_OK)
            break;
    for (int t = 0; rc == RS_OK && t < made; t++) {
        if (pthread_create(&tid[t], NULL, work, &w[t]) != 0) {
            rc = rs_seterr(e, RS_EINTERNAL, "cannot start a worker thread");
            break;
        }
        started++;
    }
    if (rc != RS_OK) {
        pthread_mutex_lock(&j->lock);
        j->rc = rc;
        pthread_mutex_unlock(&j->lock);
    }
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    for (int t = 0; t < made; t++)
        worker_free(&w[t]);
    return rc;
}

/* The second level: trained on the validation window, its city figures from the
 * training part; a failure is a note in res->skipped, not an error of the run. */
static void rank_side(const rs_histories *h, const uint8_t *held, const rs_custeval_opts *o,
                      fitted *f, job *j, rs_custeval_result *res)
{
    double t0 = now_s();
    rs_error me = {0};
    int64_t ref = res->cutoff;
    const rs_corpus *c = h->corpus;
    if (res->cutoff == 0) /* orders split: the latest training time */
        for (int64_t r = 0; r < c->n_receipts; r++)
            if (!held[r] && c->ts[r] != INT64_MIN && c->ts[r] > ref)
                ref = c->ts[r];
    if (rs_custrank_train(h, held, o, &j->rank, res, &me) ||
        rs_custrank_city_new(c, held, f->cust, f->pop, f->train->n_receipts, ref,
                             &j->city_owned, &me)) {
        note_skip(res, "ranked", &me);
        rs_custrank_free(j->rank);
        j->rank = NULL;
    } else {
        rs_ranker_info in;
        rs_ranker_info_get(rs_custrank_ranker(j->rank), &in);
        int nw;
        int64_t nq, nr;
        rs_custrank_counts(j->rank, &nw, &nq, &nr);
        snprintf(res->ranker, sizeof res->ranker,
                 "%s, %d trees, validation NDCG@10 %.4f (other objective %.4f); %d windows, "
                 "%lld queries, %lld rows",
                 rs_ranker_objective_name(in.objective), in.rounds, in.valid_ndcg,
                 in.valid_ndcg_other, nw, (long long)nq, (long long)nr);
    }
    j->rank_city = j->city_owned;
    f->secs[RS_PERS_RANKED] = now_s() - t0;
}

int rs_custeval_run(rs_store *s, int64_t city_id, const rs_custeval_opts *o,
                    rs_custeval_result *res, rs_error *e)
{
    memset(res, 0, sizeof *res);
    res->city_id = city_id;
    rs_corpus *c = NULL;
    rs_histories *h = NULL;
    uint8_t *held = NULL;
    int32_t *sold = NULL, *evald = NULL;
    fitted f;
    memset(&f, 0, sizeof f);
    job j;
    memset(&j, 0, sizeof j);
    int rc = rs_corpus_load(s, city_id, &c, e);
    if (rc == RS_OK)
        rc = rs_histories_load(s, c, &h, e);
    if (rc)
        goto done;
    held = malloc((size_t)c->n_receipts + 1);
    evald = malloc(((size_t)h->n_customers + 1) * sizeof *evald);
    sold = malloc(((size_t)c->n_items + 1) * sizeof *sold);
    if (!held || !evald || !sold) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    if ((rc = rs_histories_split(h, o->holdout_days, o->holdout_orders, NULL, held,
                                 &res->cutoff, e)))
        goto done;
    int64_t n_eval = 0;
    for (int32_t k = 0; k < h->n_customers; k++) {
        int tr = 0, te = 0;
        for (int64_t q = h->off[k]; q < h->off[k + 1]; q++)
            held[h->rec[q]] ? te++ : tr++;
        if (tr && te)
            evald[n_eval++] = k;
    }
    for (int64_t r = 0; r < c->n_receipts; r++)
        held[r] ? res->test_receipts++ : res->train_receipts++;
    res->customers = n_eval;
    if (n_eval == 0) {
        rc = rs_seterr(e, RS_EUSAGE,
                       "no customer has receipts on both sides of the split (%d customers, "
                       "%lld receipts, %lld held out)",
                       h->n_customers, (long long)c->n_receipts, (long long)res->test_receipts);
        goto done;
    }
    if ((rc = rs_custfit_run(h, held, o, &f, res, e)))
        goto done;
    if (o->methods & (1u << RS_PERS_RANKED))
        rank_side(h, held, o, &f, &j, res);
    int32_t n_sold = 0;
    for (int32_t i = 0; i < c->n_items; i++)
        if (f.pop[i] > 0)
            sold[n_sold++] = i;
    rs_personal_parts parts;
    rs_custfit_parts(&f, c->n_items, o, &parts);
    j.o = o, j.h = h, j.held = held, j.parts = &parts, j.pop = f.pop;
    j.n_train = f.train->n_receipts, j.sold = sold, j.n_sold = n_sold;
    j.evald = evald, j.n_eval = n_eval, j.cutoff = res->cutoff;
    j.per = malloc((size_t)n_eval * RS_PERS_N * PER_VALUES * sizeof *j.per);
    j.cand = calloc((size_t)n_eval * RS_CUSTEVAL_NCAND, sizeof *j.cand);
    j.covered = calloc((size_t)RS_PERS_N * (size_t)c->n_items + 1, 1);
    if (!j.per || !j.cand || !j.covered) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    pthread_mutex_init(&j.lock, NULL);
    rc = run_workers(&j, o->threads, e);
    if (rc == RS_OK && j.rc != RS_OK)
        rc = rs_seterr(e, j.rc, "%s", j.err.msg);
    pthread_mutex_destroy(&j.lock);
    if (rc == RS_OK)
        summarise(&j, o, &f, res);
done:
    free(j.per);
    free(j.cand);
    free(j.covered);
    rs_custfit_free(&f);
    rs_custrank_free(j.rank);
    rs_custrank_city_free(j.city_owned);
    free(held);
    free(evald);
    free(sold);
    rs_histories_free(h);
    rs_corpus_free(c);
    return rc;
}
