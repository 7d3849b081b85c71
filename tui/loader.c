/* loader.c - the TUI's background work.
 *
 * The co-purchase index needs every receipt of the city (seconds on a large world),
 * so an interactive start opens the recommender without it and a thread opens the
 * complete one on its own read-only connection; the main loop swaps it in.  A second
 * job ("quick") opens a switched city's recommender, or the reloaded models, while
 * the screen keeps answering.
 */
#include "app.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LOADER_RUNNING, LOADER_DONE, LOADER_ABANDONED };

struct tui_loader {
    pthread_t thread;
    int running;
    atomic_int state; /* LOADER_RUNNING, _DONE, or _ABANDONED (the app quit first) */
    int city;        /* index into cities */
    char *db_path;
    int64_t city_id;
    rs_store *store; /* results, owned by the loader until adopted */
    rs_recommender *rec;
    int full;        /* with the co-purchase index */
    int reload;      /* a reload (replaces every city's recommender when collected) */
    char sig[128];   /* reload: the models signature it was started for */
    int rc;
    rs_error e;
};

/* Synonyms from every category (key a) score the whole catalogue against normalised
 * vectors, which the recommender builds on first use: ~120 ms on 100k products, more
 * than a frame.  The loader thread asks once so the key finds them ready. */
static void warm_up(rs_recommender *r)
{
    int32_t n = rs_rec_n_products(r), p = 0;
    rs_rec_product info;
    while (p < n && (rs_rec_product_info(r, p, &info, NULL) != RS_OK || !info.in_product_model))
        p++;
    rs_rec_result *res = p < n ? rs_rec_result_new() : NULL;
    if (!res)
        return;
    rs_rec_query q;
    rs_rec_query_defaults(&q);
    q.products = &p;
    q.n_products = 1;
    q.kinds = RS_REC_BIT(RS_REC_SYNONYMS);
    q.k[RS_REC_SYNONYMS] = 1;
    q.flags = RS_REC_SYNONYMS_ANY_CATEGORY | RS_REC_NO_MASK | RS_REC_NO_COPURCHASE;
    rs_error e = {0};
    (void)rs_recommend(r, &q, res, &e); /* a failure only means no head start */
    rs_rec_result_free(res);
}

static void *loader_main(void *arg)
{
    struct tui_loader *l = arg;
    l->rc = rs_store_open(l->db_path, RS_STORE_READONLY, &l->store, &l->e);
    if (l->rc == RS_OK) {
        rs_rec_options o;
        rs_rec_options_defaults(&o);
        o.no_completion = 1;
        o.no_copurchase = !l->full;
        l->rc = rs_recommender_open(l->store, l->city_id, &o, &l->rec, &l->e);
        if (l->rc == RS_OK && l->full)
            warm_up(l->rec);
    }
    int expect = LOADER_RUNNING;
    if (!atomic_compare_exchange_strong(&l->state, &expect, LOADER_DONE)) {
        /* the app quit while this ran (tui_app_close did not wait): the job is ours */
        rs_recommender_close(l->rec);
        rs_store_close(l->store);
        free(l->db_path);
        free(l);
    }
    return NULL;
}

/* Waits for the running job and frees what was not adopted. */
static void loader_finish(struct tui_loader *l)
{
    if (l->running) {
        pthread_join(l->thread, NULL);
        l->running = 0;
    }
    rs_recommender_close(l->rec);
    rs_store_close(l->store);
    l->rec = NULL;
    l->store = NULL;
}

/* Lets go of a loader without waiting: a job still running (a city's co-purchase
 * index takes seconds on a large world) is handed over to its thread, which frees it
 * when it ends (or the process exits first); a finished or idle one is freed here.
 * With renew, *lp becomes a fresh idle loader (when memory allows: else the old one is
 * waited for and kept).  Without renew, *lp is gone. */
static void loader_drop(struct tui_loader **lp, int renew)
{
    struct tui_loader *l = *lp, *fresh = NULL;
    if (!l)
        return;
    if (renew && (!(fresh = calloc(1, sizeof *fresh)) || !(fresh->db_path = strdup(l->db_path)))) {
        free(fresh);
        loader_finish(l);
        return;
    }
    int expect = LOADER_RUNNING;
    if (l->running && atomic_compare_exchange_strong(&l->state, &expect, LOADER_ABANDONED)) {
        pthread_detach(l->thread);
    } else {
        loader_finish(l);
        free(l->db_path);
        free(l);
    }
    *lp = fresh;
}

static int loader_start(struct tui_loader *l, int city, int64_t city_id, int full)
{
    atomic_store(&l->state, LOADER_RUNNING);
    l->city = city;
    l->city_id = city_id;
    l->full = full;
    l->rc = RS_OK;
    if (pthread_create(&l->thread, NULL, loader_main, l) != 0)
        return -1;
    l->running = 1;
    return 0;
}

static void reload_collected(tui_app *a, struct tui_loader *q);

/* Adopts the quick job's recommender when it is done (or, with wait, waits for it).
 * Returns 1 while it is still running. */
static int quick_collect(tui_app *a, int wait)
{
    struct tui_loader *q = a->quick;
    if (!q || !q->running)
        return 0;
    if (!wait && atomic_load(&q->state) != LOADER_DONE)
        return 1;
    pthread_join(q->thread, NULL);
    q->running = 0;
    if (q->reload) {
        q->reload = 0;
        reload_collected(a, q);
        return 0;
    }
    tui_city *c = &a->cities[q->city];
    c->loading = 0;
    if (q->rc == RS_OK && !c->rec) {
        c->rec = q->rec;
        c->rec_store = q->store;
        c->rec_full = 0;
        q->rec = NULL;
        q->store = NULL;
        if (q->city == a->ci) {
            a->dirty = 1;
            if (a->product >= rs_rec_n_products(c->rec))
                a->product = tui_most_popular(c->rec);
        }
    } else {
        if (q->rc != RS_OK)
            tui_message(a, TUI_ROLE_ERROR, "%s", q->e.msg);
        if (q->rc != RS_OK && rs_store_damaged(q->store))
            a->damaged = 1;
        loader_finish(q);
    }
    return 0;
}

/* After a city switch (interactive): the city's recommender opens in the background,
 * the screen says so meanwhile, and the key is answered at once. */
void tui_request_city(tui_app *a)
{
    tui_city *c = &a->cities[a->ci];
    if (!a->quick || c->rec || c->loading)
        return;
    quick_collect(a, 1); /* one at a time: a previous switch lands first */
    if (c->rec)
        return;
    if (loader_start(a->quick, a->ci, c->id, 0) == 0)
        c->loading = 1;
}

static int loader_background(tui_app *a);

int tui_app_background(tui_app *a)
{
    int map = tui_map_poll(a); /* the map's layout, fitted in the background */
    return loader_background(a) | map;
}

static int loader_background(tui_app *a)
{
    struct tui_loader *l = a->loader;
    if (!l)
        return 0;
    if (quick_collect(a, 0))
        return 1;
    if (l->running) {
        if (atomic_load(&l->state) != LOADER_DONE)
            return 1;
        pthread_join(l->thread, NULL);
        l->running = 0;
        tui_city *c = &a->cities[l->city];
        if (l->rc == RS_OK && c->rec) {
            a->hist_rec = NULL; /* the cache is keyed by the recommender's address */
            rs_recommender_close(c->rec);
            rs_store_close(c->rec_store);
            c->rec = l->rec;
            c->rec_store = l->store;
            c->rec_full = 1;
            l->rec = NULL;
            l->store = NULL;
            if (l->city == a->ci) {
                a->dirty = 1; /* rows now carry co-purchase counts */
                if (a->ov && a->ov->refresh)
                    a->ov->refresh(a); /* ... which an open explanation shows */
            }
        } else {
            c->rec_full = 1; /* do not retry: keep the fast one */
            if (l->rc != RS_OK && rs_store_damaged(l->store))
                a->damaged = 1; /* ... unless the database is damaged */
            loader_finish(l);
        }
    }
    /* next job: the current city first */
    tui_city *c = &a->cities[a->ci];
    if (c->rec && (!a->index || !c->order))
        tui_search_prepare(a); /* while the person reads the first frame */
    if (!c->rec || c->rec_full)
        return 0;
    if (loader_start(l, a->ci, c->id, 1) != 0) {
        c->rec_full = 1;
        return 0;
    }
    return 1;
}

/* Puts a reloaded recommender (for city ci) in place: every city's old one goes (the
 * others reopen on demand), with the caches built from them. */
static void install_reloaded(tui_app *a, int ci, rs_recommender *fresh, rs_store *store,
                             const char *sig)
{
    int changed = strcmp(sig, a->models_sig) != 0;
    tui_drop_recommenders(a);
    tui_city *cur = &a->cities[ci];
    cur->rec = fresh;
    cur->rec_store = store;
    cur->rec_full = !a->fast;
    if (ci == a->ci && a->product >= rs_rec_n_products(fresh))
        a->product = tui_most_popular(fresh);
    tui_load_model_owners(a);
    snprintf(a->models_sig, sizeof a->models_sig, "%s", sig);
    a->models_changed = 0;
    tui_search_free(a->index); /* the catalogue may have grown */
    a->index = NULL;
    a->dirty = 1;
    tui_message(a, TUI_ROLE_STATUS,
                changed ? "reloaded: new models in use" : "reloaded: nothing changed");
}

/* The quick job of a reload finished: install its recommender, or keep the old. */
static void reload_collected(tui_app *a, struct tui_loader *q)
{
    if (q->rc != RS_OK) {
        tui_message(a, TUI_ROLE_ERROR, "reload failed (keeping the old models): %s", q->e.msg);
        if (rs_store_damaged(q->store))
            a->damaged = 1;
        loader_finish(q);
        return;
    }
    install_reloaded(a, q->city, q->rec, q->store, q->sig);
    q->rec = NULL;
    q->store = NULL;
}

/* Reload after `train` or `import`: the current city's recommender is reopened, the
 * other cities' are dropped and reopen on demand.  Interactive (fast), the new one
 * opens in the background while the old one keeps answering (opening takes ~100 ms
 * on a large world: more than a frame); the background loader then completes it.  On
 * error the old one stays. */
void tui_reload(tui_app *a)
{
    /* running jobs load the old models: let go of them without waiting */
    if (a->loader && a->loader->running)
        loader_drop(&a->loader, 1);
    if (a->quick && a->quick->running)
        loader_drop(&a->quick, 1);
    for (int i = 0; i < a->n_cities; i++)
        a->cities[i].loading = 0;
    char sig[128];
    tui_models_signature(a, sig, sizeof sig);
    tui_city *cur = &a->cities[a->ci];
    if (a->quick && cur->rec) {
        snprintf(a->quick->sig, sizeof a->quick->sig, "%s", sig);
        a->quick->reload = 1;
        if (loader_start(a->quick, a->ci, cur->id, 0) == 0) {
            tui_message(a, TUI_ROLE_STATUS, "reloading the models...");
            return;
        }
        a->quick->reload = 0; /* no thread: reload here */
    }
    rs_recommender *fresh = NULL;
    rs_rec_options o;
    rs_rec_options_defaults(&o);
    o.no_completion = 1;
    o.no_copurchase = a->fast;
    rs_error e = {0};
    if (rs_recommender_open(a->s, cur->id, &o, &fresh, &e) != RS_OK) {
        tui_message(a, TUI_ROLE_ERROR, "reload failed (keeping the old models): %s", e.msg);
        return;
    }
    install_reloaded(a, a->ci, fresh, NULL, sig);
}


int tui_loader_init(tui_app *a, rs_error *e)
{
    a->loader = calloc(1, sizeof *a->loader);
    a->quick = calloc(1, sizeof *a->quick);
    if (!a->loader || !a->quick || !(a->loader->db_path = strdup(rs_store_path(a->s))) ||
        !(a->quick->db_path = strdup(rs_store_path(a->s))))
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    return RS_OK;
}

void tui_loader_close(tui_app *a)
{
    /* q and SIGTERM exit at once, whatever the background is doing */
    loader_drop(&a->loader, 0);
    loader_drop(&a->quick, 0);
}
