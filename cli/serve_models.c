/* serve_models.c - generations of recommenders for `recoscope serve`.
 *
 * A generation is everything one state of the database gives: the cities, the active
 * models, and one recommender per city (opened on first use, or all at start with
 * --preload).  rs_recommender_reload must not run while queries do,
 * so a reload never touches a generation in use: the main thread builds a NEW one
 * (same cities opened, each warmed by one query so its lazy caches exist), checks its
 * model files, and swaps the pointer under a mutex.  Every request takes a reference
 * to the current generation (serve_acquire) and gives it back when its response is
 * written; the old generation goes on a retired list and is freed by the main thread
 * once nobody holds it.  No request waits for a reload, none is dropped, and each one
 * is answered by one consistent set of models.
 *
 * One read-only store connection serves every generation (a recommender reads the
 * store only while it opens; each statement sees the latest commit), used under one
 * mutex.  Opening a second connection to the database while one is open would close
 * a descriptor of the file in this process (the store's file checks), and POSIX drops
 * every lock the process holds on it: a writer closing then takes itself for the last
 * connection and deletes the WAL and its index under us.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/browse.h"
#include "../core/store.h"
#include "serve.h"

typedef struct city_slot {
    pthread_mutex_t mu;
    int64_t id;                      /* 0 = all cities */
    const char *name;                /* owned by the generation's city list ("all") */
    _Atomic(rs_recommender *) rec;   /* set once opened */
    int failed;                      /* opening failed: err says why */
    rs_error err;
} city_slot;

struct serve_gen {
    atomic_int refs;
    uint64_t number;
    int64_t loaded_at;
    serve_models *owner;             /* its store */
    rs_browse_city *cities;
    int n_cities;
    city_slot *slots;                /* [n_cities + 1]: 0 = all cities, i + 1 = cities[i] */
    rs_serve_model *models;
    int n_models;
    int workers;
    char sig[256];
    serve_gen *next_retired;
};

struct serve_models {
    const serve_config *cfg;
    pthread_mutex_t mu;              /* guards cur */
    serve_gen *cur;
    serve_gen *retired;              /* main thread only */
    rs_store *store;                 /* the one connection (see above) */
    pthread_mutex_t store_mu;        /* ... used by one thread at a time */
    char failed_sig[256];            /* a signature whose generation failed to build */
    uint64_t next_number;
    atomic_ullong reloads, failures;
};

static void gen_free(serve_gen *g)
{
    if (!g)
        return;
    if (g->slots) {
        for (int i = 0; i <= g->n_cities; i++) {
            rs_recommender_close(atomic_load(&g->slots[i].rec));
            pthread_mutex_destroy(&g->slots[i].mu);
        }
        free(g->slots);
    }
    rs_browse_cities_free(g->cities, g->n_cities);
    free(g->models);
    free(g);
}

/* The most popular product of the city (a query every model can answer). */
static int32_t popular_product(const rs_recommender *r)
{
    const int64_t *pop = rs_rec_popularity_counts(r);
    int32_t n = rs_rec_n_products(r), best = 0;
    for (int32_t i = 1; pop && i < n; i++)
        if (pop[i] > pop[best])
            best = i;
    return best;
}

/* One query of every kind: builds the recommender's lazy caches (normalised rows,
 * category-ordered rows) before a request needs them. */
static void warm_up(const rs_recommender *r)
{
    if (rs_rec_n_products(r) <= 0)
        return;
    rs_rec_result *res = rs_rec_result_new();
    if (!res)
        return;
    int32_t p = popular_product(r);
    rs_rec_query q;
    rs_rec_query_defaults(&q);
    q.products = &p;
    q.n_products = 1;
    q.kinds = RS_REC_ALL_KINDS | RS_REC_BIT(RS_REC_COMPLETION);
    rs_error e = {0};
    (void)rs_recommend(r, &q, res, &e); /* a kind without a model is fine here */
    rs_rec_result_free(res);
}

/* Opens slot's recommender (caller holds slot->mu). */
static int slot_open(serve_gen *g, city_slot *slot, rs_error *e)
{
    rs_rec_options o;
    rs_rec_options_defaults(&o);
    o.workers = g->workers;
    o.no_completion = g->owner->cfg->no_completion;
    rs_recommender *r = NULL;
    pthread_mutex_lock(&g->owner->store_mu);
    int rc = rs_recommender_open(g->owner->store, slot->id, &o, &r, e);
    pthread_mutex_unlock(&g->owner->store_mu);
    if (rc) {
        slot->failed = 1;
        slot->err = *e;
        return rc;
    }
    warm_up(r);
    atomic_store(&slot->rec, r);
    return RS_OK;
}

static int slot_get(serve_gen *g, city_slot *slot, const rs_recommender **out, rs_error *e)
{
    rs_recommender *r = atomic_load_explicit(&slot->rec, memory_order_acquire);
    if (r) {
        *out = r;
        return RS_OK;
    }
    int rc = RS_OK;
    pthread_mutex_lock(&slot->mu);
    if ((r = atomic_load(&slot->rec)))
        *out = r;
    else if (slot->failed) {
        if (e)
            *e = slot->err;
        rc = slot->err.code ? slot->err.code : RS_EINTERNAL;
    } else if ((rc = slot_open(g, slot, e)) == RS_OK)
        *out = atomic_load(&slot->rec);
    pthread_mutex_unlock(&slot->mu);
    return rc;
}

static city_slot *find_slot(serve_gen *g, const char *city)
{
    if (!city || !*city || strcmp(city, "all") == 0)
        return &g->slots[0];
    for (int i = 0; i < g->n_cities; i++)
        if (strcmp(g->cities[i].name, city) == 0)
            return &g->slots[i + 1];
    return NULL;
}

int serve_gen_recommender(serve_gen *g, const char *city, const rs_recommender **out,
                          rs_error *e)
{
    city_slot *slot = find_slot(g, city);
    if (!slot)
        return rs_seterr(e, RS_EUSAGE, "unknown city '%s'", city);
    return slot_get(g, slot, out, e);
}

/* Every opened recommender's model files load (a new generation must not swap a
 * working model for a broken file). */
static int gen_check(serve_gen *g, rs_error *e)
{
    for (int i = 0; i <= g->n_cities; i++) {
        rs_recommender *r = atomic_load(&g->slots[i].rec);
        int rc;
        unsigned kinds = RS_REC_ALL_KINDS |
                         (g->owner->cfg->no_completion ? 0 : RS_REC_BIT(RS_REC_COMPLETION));
        if (r && (rc = rs_rec_check_models(r, kinds, e)))
            return rc;
    }
    return RS_OK;
}

/* A new generation; the cities open in prev (and all of them with preload) opened. */
static int gen_build(serve_models *m, const serve_gen *prev, serve_gen **out, rs_error *e)
{
    serve_gen *g = calloc(1, sizeof *g);
    if (!g)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    atomic_init(&g->refs, 1); /* the models' own reference */
    g->owner = m;
    g->workers = m->cfg->threads;
    g->loaded_at = (int64_t)time(NULL);
    int rc;
    pthread_mutex_lock(&m->store_mu);
    if ((rc = rs_serve_signature(m->store, g->sig, sizeof g->sig, e)) == RS_OK &&
        (rc = rs_browse_cities(m->store, &g->cities, &g->n_cities, e)) == RS_OK)
        rc = rs_serve_active_models(m->store, &g->models, &g->n_models, e);
    pthread_mutex_unlock(&m->store_mu);
    if (rc)
        goto fail;
    if (!(g->slots = calloc((size_t)g->n_cities + 1, sizeof *g->slots))) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto fail;
    }
    for (int i = 0; i <= g->n_cities; i++) {
        pthread_mutex_init(&g->slots[i].mu, NULL);
        g->slots[i].id = i ? g->cities[i - 1].id : 0;
        g->slots[i].name = i ? g->cities[i - 1].name : "all";
        atomic_init(&g->slots[i].rec, NULL);
    }
    for (int i = 0; i <= g->n_cities; i++) {
        int want = i == 0 || m->cfg->preload_all;
        if (!want && prev) {
            const city_slot *old = find_slot((serve_gen *)prev, g->slots[i].name);
            want = old && atomic_load(&((city_slot *)old)->rec) != NULL;
        }
        const rs_recommender *r;
        if (want && (rc = slot_get(g, &g->slots[i], &r, e)))
            goto fail;
    }
    if ((rc = gen_check(g, e)))
        goto fail;
    g->number = ++m->next_number;
    *out = g;
    return RS_OK;
fail:
    gen_free(g);
    return rc;
}

int serve_models_open(const serve_config *cfg, serve_models **out, rs_error *e)
{
    serve_models *m = calloc(1, sizeof *m);
    if (!m)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    m->cfg = cfg;
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->store_mu, NULL);
    int rc;
    if ((rc = rs_store_open(cfg->db_path, RS_STORE_READONLY, &m->store, e)) ||
        (rc = gen_build(m, NULL, &m->cur, e))) {
        serve_models_close(m);
        return rc;
    }
    *out = m;
    return RS_OK;
}

/* Frees the retired generations nobody holds. */
static void collect(serve_models *m)
{
    serve_gen **pp = &m->retired;
    while (*pp) {
        serve_gen *g = *pp;
        if (atomic_load_explicit(&g->refs, memory_order_acquire) == 0) {
            *pp = g->next_retired;
            gen_free(g);
        } else {
            pp = &g->next_retired;
        }
    }
}

void serve_models_close(serve_models *m)
{
    if (!m)
        return;
    if (m->cur) {
        m->cur->next_retired = m->retired;
        m->retired = m->cur;
        serve_release(m->cur);
        m->cur = NULL;
    }
    collect(m); /* the daemon is stopped: nobody holds a generation any more */
    rs_store_close(m->store);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->store_mu);
    free(m);
}

serve_gen *serve_acquire(serve_models *m)
{
    pthread_mutex_lock(&m->mu);
    serve_gen *g = m->cur;
    atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&m->mu);
    return g;
}

void serve_release(serve_gen *g)
{
    if (g)
        atomic_fetch_sub_explicit(&g->refs, 1, memory_order_release);
}

int serve_models_poll(serve_models *m, int force, int *swapped, rs_error *e)
{
    *swapped = 0;
    collect(m);
    char sig[256];
    pthread_mutex_lock(&m->store_mu);
    int rc = rs_serve_signature(m->store, sig, sizeof sig, e);
    pthread_mutex_unlock(&m->store_mu);
    if (rc)
        return rc;
    serve_gen *cur = m->cur; /* only this thread swaps it */
    if (!force && (strcmp(sig, cur->sig) == 0 || strcmp(sig, m->failed_sig) == 0))
        return RS_OK;
    serve_gen *g = NULL;
    if ((rc = gen_build(m, cur, &g, e))) {
        snprintf(m->failed_sig, sizeof m->failed_sig, "%s", sig);
        atomic_fetch_add(&m->failures, 1);
        return rc;
    }
    m->failed_sig[0] = 0;
    pthread_mutex_lock(&m->mu);
    m->cur = g;
    pthread_mutex_unlock(&m->mu);
    cur->next_retired = m->retired;
    m->retired = cur;
    serve_release(cur);
    atomic_fetch_add(&m->reloads, 1);
    *swapped = 1;
    collect(m);
    return RS_OK;
}

uint64_t serve_gen_number(const serve_gen *g) { return g->number; }
int64_t serve_gen_loaded_at(const serve_gen *g) { return g->loaded_at; }

const rs_serve_model *serve_gen_models(const serve_gen *g, int *n)
{
    *n = g->n_models;
    return g->models;
}

const char *serve_gen_city_name(const serve_gen *g, int64_t city_id)
{
    if (city_id == 0)
        return "all";
    for (int i = 0; i < g->n_cities; i++)
        if (g->cities[i].id == city_id)
            return g->cities[i].name;
    return NULL;
}

int serve_gen_open_cities(const serve_gen *g)
{
    int n = 0;
    for (int i = 0; i <= g->n_cities; i++)
        n += atomic_load(&g->slots[i].rec) != NULL;
    return n;
}

uint64_t serve_models_reloads(const serve_models *m, uint64_t *failures)
{
    if (failures)
        *failures = atomic_load(&((serve_models *)m)->failures);
    return atomic_load(&((serve_models *)m)->reloads);
}
