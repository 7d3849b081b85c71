/* app.c - the TUI's state machine: cities, current product, history, basket, the
 * popularity mask, overlays, and what every command of the key table does.
 *
 * Keys never draw: they change state and mark the recommendations dirty; draw.c
 * renders the state.  Recommendations are recomputed once per state change (never
 * per frame), and search runs on each typed character through the recommender's
 * FTS5 index.
 */
#include <curses.h>

#include "app.h"
#include "model.h"

#include <cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SEARCH_MAX 500

/* ---------------------------------------------------------------- lines ---- */

void tui_lines_clear(tui_lines *l)
{
    for (int i = 0; i < l->n; i++)
        for (int j = 0; j < l->v[i].n; j++)
            free(l->v[i].sp[j].s);
    l->n = 0;
    l->title[0] = 0;
}

static void lines_vspan(tui_lines *l, int newline, int x, tui_role role, const char *fmt,
                        va_list ap)
{
    if (newline || l->n == 0) {
        if (l->n == l->cap) {
            int cap = l->cap ? 2 * l->cap : 64;
            tui_line *v = realloc(l->v, (size_t)cap * sizeof *v);
            if (!v)
                return; /* out of memory: the line is dropped, the screen stays usable */
            l->v = v;
            l->cap = cap;
        }
        l->v[l->n++].n = 0;
    }
    tui_line *ln = &l->v[l->n - 1];
    if (ln->n == 4)
        return;
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        return;
    ln->sp[ln->n++] = (tui_span){.x = x, .role = role, .s = s};
}

void tui_lines_add(tui_lines *l, int x, tui_role role, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lines_vspan(l, 1, x, role, fmt, ap);
    va_end(ap);
}

void tui_lines_span(tui_lines *l, int x, tui_role role, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lines_vspan(l, 0, x, role, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ helpers ---- */

void tui_message(tui_app *a, tui_role role, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof a->msg, fmt, ap);
    va_end(ap);
    a->msg_role = role;
}

static void free_city(tui_city *c)
{
    rs_recommender_close(c->rec);
    rs_store_close(c->rec_store);
    free(c->cat_top);
    free(c->order);
    free(c->name);
    free(c->catm_in);
    c->catm_in = NULL;
    c->catm_id = 0;
    c->order = NULL;
    c->rec = NULL;
    c->rec_store = NULL;
    c->cat_top = NULL;
    c->name = NULL;
}

static int search_prepare(tui_app *a);

/* ------------------------------------------------------ background loader ---- */

/* The co-purchase index needs every receipt of the city (seconds on a large world),
 * so an interactive start opens the recommender without it and a thread opens the
 * complete one on its own read-only connection; the main loop swaps it in. */
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

static int32_t most_popular(rs_recommender *r);
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
                a->product = most_popular(c->rec);
        }
    } else {
        if (q->rc != RS_OK)
            tui_message(a, TUI_ROLE_ERROR, "%s", q->e.msg);
        loader_finish(q);
    }
    return 0;
}

/* After a city switch (interactive): the city's recommender opens in the background,
 * the screen says so meanwhile, and the key is answered at once. */
static void request_city(tui_app *a)
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

int tui_app_background(tui_app *a)
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
                if (a->ov == OV_EXPLAIN) {
                    int top = a->ov_top;
                    tui_build_explain(a); /* ... which an open explanation shows */
                    a->ov_top = top;
                }
            }
        } else {
            c->rec_full = 1; /* do not retry: keep the fast one */
            loader_finish(l);
        }
    }
    /* next job: the current city first */
    tui_city *c = &a->cities[a->ci];
    if (c->rec && (!a->index || !c->order))
        search_prepare(a); /* while the person reads the first frame */
    if (!c->rec || c->rec_full)
        return 0;
    if (loader_start(l, a->ci, c->id, 1) != 0) {
        c->rec_full = 1;
        return 0;
    }
    return 1;
}

/* The recommender of the current city, opened on first use.  NULL (with a message)
 * when it cannot be opened. */
rs_recommender *tui_rec(tui_app *a)
{
    tui_city *c = &a->cities[a->ci];
    if (!c->rec && c->loading)
        return NULL; /* opening in the background */
    if (!c->rec) {
        rs_rec_options o;
        rs_rec_options_defaults(&o);
        o.no_completion = 1;
        o.no_copurchase = a->fast;
        rs_error e = {0};
        if (rs_recommender_open(a->s, c->id, &o, &c->rec, &e) != RS_OK) {
            c->rec = NULL;
            tui_message(a, TUI_ROLE_ERROR, "%s", e.msg);
        }
        c->rec_full = !a->fast;
    }
    return c->rec;
}

int32_t tui_category_top(tui_app *a, int32_t category)
{
    tui_city *c = &a->cities[a->ci];
    rs_recommender *r = tui_rec(a);
    if (!r || category < 0 || category >= rs_rec_n_categories(r))
        return -1;
    if (!c->cat_top) {
        int32_t nc = rs_rec_n_categories(r), np = rs_rec_n_products(r);
        c->cat_top = malloc((size_t)(nc > 0 ? nc : 1) * sizeof *c->cat_top);
        if (!c->cat_top)
            return -1;
        for (int32_t i = 0; i < nc; i++)
            c->cat_top[i] = -1;
        const int64_t *pop = rs_rec_popularity_counts(r);
        for (int32_t p = 0; p < np; p++) {
            rs_rec_product info;
            if (rs_rec_product_info(r, p, &info, NULL) != RS_OK)
                continue;
            int32_t cat = info.category_index;
            if (cat < 0 || cat >= nc)
                continue;
            if (c->cat_top[cat] < 0 || pop[p] > pop[c->cat_top[cat]])
                c->cat_top[cat] = p;
        }
    }
    return c->cat_top[category];
}

static int32_t most_popular(rs_recommender *r)
{
    int32_t n = rs_rec_n_products(r), best = n > 0 ? 0 : -1;
    const int64_t *pop = rs_rec_popularity_counts(r);
    for (int32_t p = 1; p < n; p++)
        if (pop[p] > pop[best])
            best = p;
    return best;
}

const rs_rec_list *tui_list(tui_app *a, int pane)
{
    tui_compute(a);
    if (a->product < 0 || a->rec_err[0])
        return NULL;
    return &a->res->lists[pane];
}

/* How many categories the categories pane's softmax ran over: the category model's
 * rows minus the query's own categories (excluded by the recommender), so that a
 * weight w reads as w x N times the average.  0 when unknown (the pane then shows the
 * weight itself). */
static int eligible_categories(tui_app *a, rs_recommender *r)
{
    const rs_rec_list *l = &a->res->lists[RS_REC_CATEGORIES];
    tui_city *c = &a->cities[a->ci];
    if (l->status != RS_OK || l->model_id <= 0)
        return 0;
    int32_t nc = rs_rec_n_categories(r);
    if (c->catm_id != l->model_id) {
        free(c->catm_in);
        c->catm_in = NULL;
        c->catm_rows = 0;
        c->catm_id = l->model_id; /* a failure is not retried on every key */
        rs_embedding *m = NULL;
        rs_model_info info;
        int64_t used = 0;
        rs_error e = {0};
        if (rs_registry_load_active(a->s, c->id, RS_KIND_CATEGORY, "all", &m, &used, &info,
                                    &e) == RS_OK &&
            info.id == l->model_id && (c->catm_in = calloc((size_t)nc + 1, 1))) {
            for (int32_t row = 0; row < m->rows; row++) {
                int32_t it = m->row_item[row];
                if (it >= 0 && it < nc && !c->catm_in[it]) {
                    c->catm_in[it] = 1;
                    c->catm_rows++;
                }
            }
        }
        rs_embedding_free(m);
    }
    if (!c->catm_in)
        return 0;
    int n = c->catm_rows;
    for (int i = 0; i < a->res->n_query_categories; i++) {
        int32_t qc = a->res->query_categories[i];
        if (qc >= 0 && qc < nc && c->catm_in[qc])
            n--;
    }
    return n > 0 ? n : 0;
}

void tui_compute(tui_app *a)
{
    if (!a->dirty)
        return;
    tui_city *city = &a->cities[a->ci];
    if (!city->rec && city->loading) { /* stays dirty: computed once it is there */
        snprintf(a->rec_err, sizeof a->rec_err, "loading the models and catalogue of %.200s...",
                 city->name);
        return;
    }
    a->dirty = 0;
    a->rec_err[0] = 0;
    rs_recommender *r = tui_rec(a);
    if (!r) {
        snprintf(a->rec_err, sizeof a->rec_err, "%.290s", a->msg);
        return;
    }
    if (a->product < 0)
        return;
    rs_rec_query q;
    rs_rec_query_defaults(&q);
    if (a->n_basket > 0) {
        q.products = a->basket;
        q.n_products = a->n_basket;
    } else {
        q.products = &a->product;
        q.n_products = 1;
    }
    q.kinds = RS_REC_ALL_KINDS;
    q.k[RS_REC_SYNONYMS] = q.k[RS_REC_CATEGORIES] = q.k[RS_REC_COMPLEMENTS] = a->k;
    q.min_pct = a->min_pct;
    q.max_pct = a->max_pct;
    if (a->any_category)
        q.flags |= RS_REC_SYNONYMS_ANY_CATEGORY;
    rs_error e = {0};
    if (rs_recommend(r, &q, a->res, &e) != RS_OK)
        snprintf(a->rec_err, sizeof a->rec_err, "%.290s", e.msg);
    a->cat_eligible = a->rec_err[0] ? 0 : eligible_categories(a, r);
    for (int p = 0; p < NPANES; p++) {
        int n = a->rec_err[0] ? 0 : a->res->lists[p].n;
        if (a->sel[p] >= n)
            a->sel[p] = n > 0 ? n - 1 : 0;
        if (a->top[p] > a->sel[p])
            a->top[p] = a->sel[p];
    }
}

/* --------------------------------------------------------- cities, state ---- */

static int load_cities(tui_app *a, rs_error *e)
{
    sqlite3 *db = rs_store_db(a->s);
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    int64_t n = 0;
    if ((rc = rs_store_count(a->s, "cities", &n, e)) != RS_OK)
        return rc;
    a->cities = calloc((size_t)n + 1, sizeof *a->cities);
    if (!a->cities)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    if (sqlite3_prepare_v2(db, "SELECT id, name, receipts FROM cities ORDER BY id", -1, &st,
                           NULL) != SQLITE_OK)
        return rs_store_sqlerr(a->s, e, "cities");
    int i = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && i < n) {
        tui_city *c = &a->cities[i];
        c->id = sqlite3_column_int64(st, 0);
        c->name = strdup((const char *)sqlite3_column_text(st, 1));
        c->receipts = sqlite3_column_int64(st, 2);
        if (!c->name) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
        i++;
    }
    if (step != SQLITE_DONE && step != SQLITE_ROW) {
        rc = rs_store_sqlerr(a->s, e, "cities");
        goto done;
    }
    tui_city *all = &a->cities[i];
    all->id = 0;
    all->name = strdup("all cities");
    if (!all->name) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    for (int j = 0; j < i; j++)
        all->receipts += a->cities[j].receipts;
    a->n_cities = i + 1;
done:
    sqlite3_finalize(st);
    return rc;
}

/* Which cities have their own active models (the rest fall back to all cities). */
static void load_model_owners(tui_app *a)
{
    sqlite3_stmt *st = NULL;
    for (int i = 0; i < a->n_cities; i++)
        a->cities[i].own_product = a->cities[i].own_category = 0;
    if (sqlite3_prepare_v2(rs_store_db(a->s),
                           "SELECT city_id, kind FROM models WHERE active AND split = 'all'",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t city = sqlite3_column_int64(st, 0);
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        for (int i = 0; i < a->n_cities; i++)
            if (a->cities[i].id == city && kind) {
                if (strcmp(kind, "product") == 0)
                    a->cities[i].own_product = 1;
                if (strcmp(kind, "category") == 0)
                    a->cities[i].own_category = 1;
            }
    }
    sqlite3_finalize(st);
}

/* A short signature of the model registry: changes when a model is added or
 * activated. */
static void models_signature(tui_app *a, char *buf, size_t n)
{
    sqlite3_stmt *st = NULL;
    buf[0] = 0;
    if (sqlite3_prepare_v2(rs_store_db(a->s),
                           "SELECT count(*), coalesce(max(id), 0), coalesce(sum(id * active), 0)"
                           " FROM models", -1, &st, NULL) != SQLITE_OK)
        return;
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(buf, n, "%lld/%lld/%lld", (long long)sqlite3_column_int64(st, 0),
                 (long long)sqlite3_column_int64(st, 1), (long long)sqlite3_column_int64(st, 2));
    sqlite3_finalize(st);
}

void tui_app_poll(tui_app *a)
{
    char sig[128];
    models_signature(a, sig, sizeof sig);
    if (sig[0] && strcmp(sig, a->models_sig) != 0)
        a->models_changed = 1;
}

void tui_state_path(const char *db_path, char *buf, size_t n)
{
    snprintf(buf, n, "%s-tui.json", db_path);
}

/* Reads {"city": name, "product": ext_id} from the state file; missing or broken
 * files are ignored (state is a convenience, never an error). */
static void read_state(const char *path, char *city, size_t cn, char *product, size_t pn)
{
    city[0] = product[0] = 0;
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f)
        return;
    char buf[4096];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    cJSON *j = cJSON_Parse(buf);
    if (!j)
        return;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "city");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "product");
    if (cJSON_IsString(c))
        snprintf(city, cn, "%s", c->valuestring);
    if (cJSON_IsString(p))
        snprintf(product, pn, "%s", p->valuestring);
    cJSON_Delete(j);
}

void tui_app_save_state(tui_app *a)
{
    if (!a->state_path || a->product < 0)
        return;
    rs_recommender *r = a->cities[a->ci].rec;
    rs_rec_product info;
    if (!r || rs_rec_product_info(r, a->product, &info, NULL) != RS_OK)
        return;
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return;
    cJSON_AddStringToObject(j, "city", a->cities[a->ci].id ? a->cities[a->ci].name : "all");
    cJSON_AddStringToObject(j, "product", info.ext_id);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text)
        return;
    /* Written beside the database; a read-only directory just means no memory. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", a->state_path);
    FILE *f = fopen(tmp, "wb");
    if (f) {
        int ok = fputs(text, f) >= 0;
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp, a->state_path) != 0)
            remove(tmp);
    }
    free(text);
}

static int find_city(tui_app *a, int64_t id)
{
    for (int i = 0; i < a->n_cities; i++)
        if (a->cities[i].id == id)
            return i;
    return -1;
}

int tui_app_open(rs_store *s, const tui_options *opt, tui_app **out, rs_error *e)
{
    int rc = RS_OK;
    char st_city[256], st_product[512];
    tui_app *a = calloc(1, sizeof *a);
    if (!a)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    a->s = s;
    a->fast = opt->fast_start;
    if (a->fast) {
        a->loader = calloc(1, sizeof *a->loader);
        a->quick = calloc(1, sizeof *a->quick);
        if (!a->loader || !a->quick || !(a->loader->db_path = strdup(rs_store_path(s))) ||
            !(a->quick->db_path = strdup(rs_store_path(s)))) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto fail;
        }
    }
    a->k = RS_REC_DEFAULT_K;
    a->min_pct = RS_REC_DEFAULT_MIN_PCT;
    a->max_pct = RS_REC_DEFAULT_MAX_PCT;
    a->product = -1;
    a->dirty = 1;
    a->res = rs_rec_result_new();
    a->found = malloc(SEARCH_MAX * sizeof *a->found);
    if (!a->res || !a->found) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto fail;
    }
    if (opt->state_path && !(a->state_path = strdup(opt->state_path))) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto fail;
    }
    if ((rc = load_cities(a, e)) != RS_OK)
        goto fail;
    load_model_owners(a);
    models_signature(a, a->models_sig, sizeof a->models_sig);

    read_state(opt->state_path, st_city, sizeof st_city, st_product, sizeof st_product);
    const char *city = opt->city ? opt->city : (st_city[0] ? st_city : NULL);
    a->ci = a->n_cities > 1 ? 0 : a->n_cities - 1; /* first city, else "all" */
    if (city) {
        int64_t id = 0;
        rs_error ce = {0};
        if (rs_store_city_id(s, city, &id, &ce) != RS_OK) {
            if (opt->city) {
                rc = rs_seterr(e, ce.code, "%s", ce.msg);
                goto fail;
            }
        } else if (find_city(a, id) >= 0) {
            a->ci = find_city(a, id);
        }
    }
    rs_recommender *r = tui_rec(a);
    if (!r) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s", a->msg);
        goto fail;
    }
    if (opt->product) {
        rs_error pe = {0};
        if (rs_rec_resolve(r, opt->product, &a->product, &pe) != RS_OK) {
            rc = rs_seterr(e, pe.code ? pe.code : RS_EUSAGE, "%s", pe.msg);
            goto fail;
        }
    } else if (st_product[0] && !opt->city &&
               rs_rec_find_ext(r, st_product, &a->product, NULL) == RS_OK) {
        /* the last-used product */
    } else {
        a->product = most_popular(r);
    }
    *out = a;
    return RS_OK;
fail:
    tui_app_close(a);
    return rc;
}

void tui_app_close(tui_app *a)
{
    if (!a)
        return;
    /* q and SIGTERM exit at once, whatever the background is doing */
    loader_drop(&a->loader, 0);
    loader_drop(&a->quick, 0);
    for (int i = 0; i < a->n_cities; i++)
        free_city(&a->cities[i]);
    free(a->cities);
    rs_rec_result_free(a->res);
    free(a->hist);
    free(a->basket);
    free(a->found);
    free(a->matches);
    tui_lines_clear(&a->text);
    free(a->text.v);
    tui_search_free(a->index);
    free(a->hist_bin_of);
    free(a->state_path);
    free(a);
}

int tui_app_take_redraw(tui_app *a)
{
    int r = a->redraw;
    a->redraw = 0;
    return r;
}

int tui_app_take_resize(tui_app *a, int *rows, int *cols)
{
    if (!a->resize_req)
        return 0;
    a->resize_req = 0;
    *rows = a->resize_rows;
    *cols = a->resize_cols;
    return 1;
}

/* ------------------------------------------------------------ actions ---- */

static void push_history(tui_app *a)
{
    if (a->n_hist == a->cap_hist) {
        int cap = a->cap_hist ? 2 * a->cap_hist : 32;
        tui_hist_entry *h = realloc(a->hist, (size_t)cap * sizeof *h);
        if (!h) {
            tui_message(a, TUI_ROLE_ERROR, "out of memory: history not kept");
            return;
        }
        a->hist = h;
        a->cap_hist = cap;
    }
    a->hist[a->n_hist++] = (tui_hist_entry){a->ci, a->product};
}

static void reset_panes(tui_app *a)
{
    for (int p = 0; p < NPANES; p++)
        a->sel[p] = a->top[p] = 0;
    a->dirty = 1;
}

static void set_product(tui_app *a, int32_t p)
{
    if (p < 0 || p == a->product)
        return;
    push_history(a);
    a->product = p;
    reset_panes(a);
}

static void set_city(tui_app *a, int ci)
{
    if (ci == a->ci)
        return;
    push_history(a);
    a->ci = ci;
    reset_panes(a);
    if (a->quick) {
        request_city(a);
        if (a->cities[ci].loading)
            return;
    }
    rs_recommender *r = tui_rec(a);
    if (r && a->product >= rs_rec_n_products(r))
        a->product = most_popular(r);
}

/* The product of the highlighted row (a category row: its top product in the city). */
static int32_t highlighted_product(tui_app *a, int *is_category)
{
    const rs_rec_list *l = tui_list(a, a->pane);
    *is_category = a->pane == PANE_CAT;
    if (!l || a->sel[a->pane] >= l->n)
        return -1;
    const rs_rec_row *row = &l->rows[a->sel[a->pane]];
    return a->pane == PANE_CAT ? tui_category_top(a, row->index) : row->index;
}

/* Enter: the highlighted row becomes the current product. */
static void follow(tui_app *a)
{
    int is_cat = 0;
    int32_t p = highlighted_product(a, &is_cat);
    if (p < 0)
        tui_message(a, TUI_ROLE_WARN,
                    is_cat ? "no product of that category sold here" : "nothing highlighted");
    else
        set_product(a, p);
}

static void move_sel(int *sel, int n, int delta)
{
    if (n <= 0)
        return;
    long v = (long)*sel + delta;
    if (v < 0)
        v = 0;
    if (v >= n)
        v = n - 1;
    *sel = (int)v;
}

static int list_len(tui_app *a)
{
    switch (a->ov) {
    case OV_CITY:
        return a->n_cities;
    case OV_SEARCH:
        return a->n_found;
    case OV_HELP:
    case OV_METRICS:
    case OV_EXPLAIN:
        return a->text.n;
    default: {
        const rs_rec_list *l = tui_list(a, a->pane);
        return l ? l->n : 0;
    }
    }
}

/* Up/Down/PgUp/PgDn/g/G on whatever list has the focus.  Text overlays scroll. */
static int movement(tui_app *a, tui_cmd cmd)
{
    int page = a->page > 1 ? a->page - 1 : 1;
    int delta;
    switch (cmd) {
    case TUI_CMD_UP: delta = -1; break;
    case TUI_CMD_DOWN: delta = 1; break;
    case TUI_CMD_PAGE_UP: delta = -page; break;
    case TUI_CMD_PAGE_DOWN: delta = page; break;
    case TUI_CMD_TOP: delta = -1000000000; break;
    case TUI_CMD_BOTTOM: delta = 1000000000; break;
    default: return 0;
    }
    int n = list_len(a);
    if (a->ov == OV_EXPLAIN && (cmd == TUI_CMD_UP || cmd == TUI_CMD_DOWN)) {
        /* the detail view follows the highlight: the previous / next row */
        const rs_rec_list *l = tui_list(a, a->pane);
        move_sel(&a->sel[a->pane], l ? l->n : 0, delta);
        tui_build_explain(a);
        a->ov_top = 0;
        return 1;
    }
    if (a->ov == OV_HELP || a->ov == OV_METRICS || a->ov == OV_EXPLAIN) {
        /* scrolling text: ov_top is the first line shown */
        int max = n - a->page;
        if (max < 0)
            max = 0;
        long v = (long)a->ov_top + delta;
        a->ov_top = (int)(v < 0 ? 0 : v > max ? max : v);
    } else if (a->ov == OV_CITY || a->ov == OV_SEARCH) {
        move_sel(&a->ov_sel, n, delta);
    } else {
        move_sel(&a->sel[a->pane], n, delta);
    }
    return 1;
}

static double pct_step(double p, int up)
{
    double q = up ? p : p - 1e-9;
    return (q < 10 || q >= 90) ? 1 : 5;
}

static void move_cutoff(tui_app *a, tui_cmd cmd)
{
    double lo = a->min_pct, hi = a->max_pct;
    switch (cmd) {
    case TUI_CMD_LOW_DOWN: lo -= pct_step(lo, 0); break;
    case TUI_CMD_LOW_UP: lo += pct_step(lo, 1); break;
    case TUI_CMD_HIGH_DOWN: hi -= pct_step(hi, 0); break;
    case TUI_CMD_HIGH_UP: hi += pct_step(hi, 1); break;
    default: break;
    }
    if (lo < 0)
        lo = 0;
    if (hi > 100)
        hi = 100;
    if (lo >= hi) {
        tui_message(a, TUI_ROLE_WARN, "the lower cut-off must stay below the upper (p%g-p%g)",
                    a->min_pct, a->max_pct);
        return;
    }
    if (lo != a->min_pct || hi != a->max_pct) {
        a->min_pct = lo;
        a->max_pct = hi;
        a->dirty = 1;
    }
    tui_message(a, TUI_ROLE_STATUS, "popularity mask p%g-p%g", a->min_pct, a->max_pct);
}

static void change_k(tui_app *a, int more)
{
    static const int STEPS[] = {1, 3, 5, 10, 15, 20, 30, 50, 100};
    int n = (int)(sizeof STEPS / sizeof STEPS[0]), i = 0;
    while (i < n - 1 && STEPS[i] < a->k)
        i++;
    int k = a->k;
    if (more)
        k = STEPS[i] > a->k ? STEPS[i] : (i + 1 < n ? STEPS[i + 1] : STEPS[i]);
    else
        k = i > 0 ? STEPS[i - 1] : STEPS[0];
    if (k != a->k) {
        a->k = k;
        a->dirty = 1;
    }
    tui_message(a, TUI_ROLE_STATUS, "k = %d row%s per list", a->k, a->k == 1 ? "" : "s");
}

static void basket_add(tui_app *a)
{
    int is_cat = 0;
    int32_t p = a->pane == PANE_CAT ? a->product : highlighted_product(a, &is_cat);
    if (p < 0)
        p = a->product;
    if (p < 0)
        return;
    for (int i = 0; i < a->n_basket; i++)
        if (a->basket[i] == p) {
            tui_message(a, TUI_ROLE_WARN, "already in the basket");
            return;
        }
    if (a->n_basket == a->cap_basket) {
        int cap = a->cap_basket ? 2 * a->cap_basket : 8;
        int32_t *b = realloc(a->basket, (size_t)cap * sizeof *b);
        if (!b) {
            tui_message(a, TUI_ROLE_ERROR, "out of memory");
            return;
        }
        a->basket = b;
        a->cap_basket = cap;
    }
    if (a->n_basket == 0 && p != a->product)
        a->basket[a->n_basket++] = a->product; /* the basket starts from the current one */
    a->basket[a->n_basket++] = p;
    reset_panes(a);
    tui_message(a, TUI_ROLE_STATUS, "basket: %d products (B clears)", a->n_basket);
}

/* The name index and the city's popularity order (built once, ~50 ms on 100k). */
static int search_prepare(tui_app *a)
{
    rs_recommender *r = tui_rec(a);
    tui_city *c = &a->cities[a->ci];
    if (!r)
        return -1;
    if (!a->index && !(a->index = tui_search_new(r)))
        return -1;
    if (!c->order &&
        !(c->order = tui_search_order(rs_rec_popularity_counts(r), rs_rec_n_products(r))))
        return -1;
    return 0;
}

static void search_update(tui_app *a)
{
    a->n_found = 0;
    a->ov_sel = a->ov_top = 0;
    rs_recommender *r = tui_rec(a);
    if (!r || !a->input[0])
        return;
    if (search_prepare(a) != 0) {
        tui_message(a, TUI_ROLE_ERROR, "search: out of memory");
        return;
    }
    a->n_found = tui_search_run(a->index, a->input, a->cities[a->ci].order, a->found,
                                SEARCH_MAX);
}

static void search_pick(tui_app *a)
{
    if (a->ov_sel >= a->n_found)
        return;
    int32_t *m = malloc((size_t)(a->n_found > 0 ? a->n_found : 1) * sizeof *m);
    if (!m) {
        tui_message(a, TUI_ROLE_ERROR, "out of memory");
        return;
    }
    memcpy(m, a->found, (size_t)a->n_found * sizeof *m);
    free(a->matches);
    a->matches = m;
    a->n_matches = a->n_found;
    a->match_i = a->ov_sel;
    set_product(a, a->found[a->ov_sel]);
    a->ov = OV_NONE;
    tui_message(a, TUI_ROLE_STATUS, "match %d of %d for \"%s\" (n/N: next/previous)",
                a->match_i + 1, a->n_matches, a->input);
}

static void search_step(tui_app *a, int dir)
{
    if (a->n_matches == 0) {
        tui_message(a, TUI_ROLE_WARN, "no search yet: press / to search");
        return;
    }
    a->match_i = (a->match_i + dir + a->n_matches) % a->n_matches;
    set_product(a, a->matches[a->match_i]);
    tui_message(a, TUI_ROLE_STATUS, "match %d of %d", a->match_i + 1, a->n_matches);
}

/* Puts a reloaded recommender (for city ci) in place: every city's old one goes (the
 * others reopen on demand), with the caches built from them. */
static void install_reloaded(tui_app *a, int ci, rs_recommender *fresh, rs_store *store,
                             const char *sig)
{
    int changed = strcmp(sig, a->models_sig) != 0;
    a->hist_rec = NULL;
    for (int i = 0; i < a->n_cities; i++) {
        tui_city *c = &a->cities[i];
        rs_recommender_close(c->rec);
        rs_store_close(c->rec_store);
        free(c->cat_top);
        free(c->order);
        free(c->catm_in);
        c->catm_in = NULL;
        c->catm_id = 0;
        c->rec = NULL;
        c->rec_store = NULL;
        c->cat_top = NULL;
        c->order = NULL;
        c->rec_full = 0;
    }
    tui_city *cur = &a->cities[ci];
    cur->rec = fresh;
    cur->rec_store = store;
    cur->rec_full = !a->fast;
    if (ci == a->ci && a->product >= rs_rec_n_products(fresh))
        a->product = most_popular(fresh);
    load_model_owners(a);
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
static void reload(tui_app *a)
{
    /* running jobs load the old models: let go of them without waiting */
    if (a->loader && a->loader->running)
        loader_drop(&a->loader, 1);
    if (a->quick && a->quick->running)
        loader_drop(&a->quick, 1);
    for (int i = 0; i < a->n_cities; i++)
        a->cities[i].loading = 0;
    char sig[128];
    models_signature(a, sig, sizeof sig);
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

/* Removes the last UTF-8 character of s. */
static void input_backspace(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] & 0xC0) == 0x80)
        n--;
    if (n > 0)
        n--;
    s[n] = 0;
}

static int input_char(char *s, size_t cap, int code)
{
    if (code < 0x20 || code > 0xFF || code == 0x7F)
        return 0;
    size_t n = strlen(s);
    if (n + 1 >= cap)
        return 1; /* full: typed characters are ignored */
    s[n] = (char)code;
    s[n + 1] = 0;
    return 1;
}

static int is_backspace(int code)
{
    return code == KEY_BACKSPACE || code == 127 || code == 8;
}

static int is_enter(int code)
{
    return code == '\n' || code == '\r' || code == KEY_ENTER;
}

static int key_text_input(tui_app *a, int code)
{
    if (a->ov == OV_SEARCH) {
        if (is_enter(code)) {
            search_pick(a);
        } else if (code == TUI_KEY_ESC) {
            a->ov = OV_NONE;
        } else if (is_backspace(code)) {
            input_backspace(a->input);
            search_update(a);
        } else if (code == TUI_KEY_CTRL('u')) {
            a->input[0] = 0;
            search_update(a);
        } else if (code == KEY_UP || code == KEY_DOWN || code == KEY_PPAGE ||
                   code == KEY_NPAGE || code == KEY_HOME || code == KEY_END) {
            movement(a, tui_key_command(code));
        } else if (input_char(a->input, sizeof a->input, code)) {
            search_update(a);
        }
        return 0;
    }
    /* export prompt */
    if (is_enter(code)) {
        char err[600];
        a->ov = OV_NONE;
        if (!a->input[0])
            tui_message(a, TUI_ROLE_WARN, "export cancelled: no file name");
        else if (tui_export(a, a->input, err, sizeof err) != 0)
            tui_message(a, TUI_ROLE_ERROR, "%s", err);
        else {
            size_t n = strlen(a->input);
            int csv = n >= 4 && strcasecmp(a->input + n - 4, ".csv") == 0;
            tui_message(a, TUI_ROLE_STATUS, "exported the view to %s (%s)", a->input,
                        csv ? "CSV" : "JSON");
        }
    } else if (code == TUI_KEY_ESC) {
        a->ov = OV_NONE;
        tui_message(a, TUI_ROLE_STATUS, "export cancelled");
    } else if (is_backspace(code)) {
        input_backspace(a->input);
    } else if (code == TUI_KEY_CTRL('u')) {
        a->input[0] = 0;
    } else {
        input_char(a->input, sizeof a->input, code);
    }
    return 0;
}

int tui_app_key(tui_app *a, int code)
{
    if (code >= TUI_KEY_RESIZE_BASE) {
        int v = code - TUI_KEY_RESIZE_BASE;
        a->resize_req = 1;
        a->resize_rows = v / 1000;
        a->resize_cols = v % 1000;
        return 0;
    }
    if (code == KEY_RESIZE)
        return 0;
    if (a->ov == OV_SEARCH || a->ov == OV_EXPORT) {
        a->msg[0] = 0;
        return key_text_input(a, code);
    }
    tui_cmd cmd = tui_key_command(code);
    a->msg[0] = 0;
    if (cmd == TUI_CMD_REDRAW) {
        a->redraw = 1;
        return 0;
    }
    if (cmd == TUI_CMD_NONE) {
        if (code > 0x20 && code < 0x7F)
            tui_message(a, TUI_ROLE_WARN, "'%c' does nothing here: ? shows the keys", code);
        return 0;
    }
    if (movement(a, cmd))
        return 0;

    if (a->ov != OV_NONE) {
        /* overlays: q/Esc close, Enter picks in the city list; the rest is ignored */
        if (cmd == TUI_CMD_QUIT || cmd == TUI_CMD_CANCEL ||
            (cmd == TUI_CMD_HELP && a->ov == OV_HELP) ||
            (cmd == TUI_CMD_METRICS && a->ov == OV_METRICS) ||
            (cmd == TUI_CMD_EXPLAIN && a->ov == OV_EXPLAIN) ||
            (cmd == TUI_CMD_CITY && a->ov == OV_CITY)) {
            a->ov = OV_NONE;
        } else if (a->ov == OV_EXPLAIN && cmd == TUI_CMD_FOLLOW) {
            a->ov = OV_NONE;
            follow(a);
        } else if (a->ov == OV_CITY && cmd == TUI_CMD_FOLLOW) {
            a->ov = OV_NONE;
            set_city(a, a->ov_sel);
            tui_city *c = &a->cities[a->ci];
            tui_message(a, c->id && !c->own_product ? TUI_ROLE_WARN : TUI_ROLE_STATUS,
                        "city: %s%s", c->name,
                        c->id && !c->own_product ? " (no models of its own: all cities' models)"
                                                 : "");
        }
        return 0;
    }

    switch (cmd) {
    case TUI_CMD_QUIT:
        return 1;
    case TUI_CMD_CANCEL:
        break;
    case TUI_CMD_PANE_NEXT:
        a->pane = (a->pane + 1) % NPANES;
        break;
    case TUI_CMD_PANE_PREV:
        a->pane = (a->pane + NPANES - 1) % NPANES;
        break;
    case TUI_CMD_FOLLOW:
        follow(a);
        break;
    case TUI_CMD_BACK:
        if (a->n_hist == 0) {
            tui_message(a, TUI_ROLE_WARN, "at the start of the history");
        } else {
            tui_hist_entry h = a->hist[--a->n_hist];
            a->ci = h.city;
            a->product = h.product;
            reset_panes(a);
            request_city(a);
        }
        break;
    case TUI_CMD_MORE:
    case TUI_CMD_FEWER:
        change_k(a, cmd == TUI_CMD_MORE);
        break;
    case TUI_CMD_LOW_DOWN:
    case TUI_CMD_LOW_UP:
    case TUI_CMD_HIGH_DOWN:
    case TUI_CMD_HIGH_UP:
        move_cutoff(a, cmd);
        break;
    case TUI_CMD_BASKET_ADD:
        basket_add(a);
        break;
    case TUI_CMD_ANY_CATEGORY:
        a->any_category = !a->any_category;
        a->sel[PANE_SYN] = a->top[PANE_SYN] = 0;
        a->dirty = 1;
        tui_message(a, TUI_ROLE_STATUS, "synonyms: %s",
                    a->any_category ? "from every category" : "from its own category");
        break;
    case TUI_CMD_BASKET_CLEAR:
        if (a->n_basket) {
            a->n_basket = 0;
            reset_panes(a);
        }
        tui_message(a, TUI_ROLE_STATUS, "basket cleared");
        break;
    case TUI_CMD_SEARCH:
        a->ov = OV_SEARCH;
        a->input[0] = 0;
        a->n_found = 0;
        a->ov_sel = a->ov_top = 0;
        break;
    case TUI_CMD_SEARCH_NEXT:
    case TUI_CMD_SEARCH_PREV:
        search_step(a, cmd == TUI_CMD_SEARCH_NEXT ? 1 : -1);
        break;
    case TUI_CMD_CITY:
        a->ov = OV_CITY;
        a->ov_sel = a->ci;
        a->ov_top = 0;
        break;
    case TUI_CMD_METRICS:
        tui_build_metrics(a, rs_glyphs_get(a->utf8));
        a->ov = OV_METRICS;
        a->ov_top = 0;
        break;
    case TUI_CMD_EXPLAIN:
        tui_build_explain(a);
        a->ov = OV_EXPLAIN;
        a->ov_top = 0;
        break;
    case TUI_CMD_HELP:
        tui_build_help(a);
        a->ov = OV_HELP;
        a->ov_top = 0;
        break;
    case TUI_CMD_EXPORT: {
        a->ov = OV_EXPORT;
        rs_recommender *r = tui_rec(a);
        rs_rec_product info;
        if (r && a->product >= 0 && rs_rec_product_info(r, a->product, &info, NULL) == RS_OK) {
            /* a suggestion built from the ext id, kept to safe file-name characters */
            char name[80];
            size_t j = 0;
            for (const char *p = info.ext_id; *p && j < 40; p++)
                name[j++] = (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789-_", *p) ? *p : '_');
            name[j] = 0;
            snprintf(a->input, sizeof a->input, "recoscope-%s.json", name);
        } else {
            snprintf(a->input, sizeof a->input, "recoscope-view.json");
        }
        break;
    }
    case TUI_CMD_RELOAD:
        reload(a);
        break;
    default:
        break;
    }
    return 0;
}
