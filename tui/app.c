/* app.c - the TUI's state machine: cities, current product, history, basket, the
 * popularity mask, and what every command of the key table does; keys go to the open
 * view first (its tui_view ops), else to the commands of the main screen.
 *
 * Keys never draw: they change state and mark the recommendations dirty; draw.c
 * renders the state.  Recommendations are recomputed once per state change (never
 * per frame).  A key returns flags (quit, redraw, resize) to the loop that fed it.
 */
#include <curses.h>

#include "app.h"
#include "../core/atomicfile.h"
#include "../core/browse.h"

#include <cJSON.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ helpers ---- */

void tui_message(tui_app *a, tui_role role, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof a->msg, fmt, ap);
    va_end(ap);
    a->msg_role = role;
}

int tui_app_damaged(tui_app *a, rs_error *e)
{
    int bad = a->damaged || rs_store_damaged(a->s);
    for (int i = 0; !bad && i < a->n_cities; i++)
        bad = rs_store_damaged(a->cities[i].rec_store);
    if (!bad)
        return RS_OK;
    return rs_seterr(e, RS_EDATA, "%s: %s", rs_store_path(a->s), RS_STORE_DAMAGED);
}

/* Drops the city's recommender and the caches built from it (it reopens on demand). */
static void drop_recommender(tui_city *c)
{
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

static void free_city(tui_city *c)
{
    drop_recommender(c);
    free(c->name);
    c->name = NULL;
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
            a->rec_code = e.code;
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

/* The first screen's product when none is asked for (and no state is kept): one whose
 * panes show what the models learned, by the models' own evidence, rather than the
 * most popular product (a hub whose neighbours the mask hides).  Among the 200 most
 * popular products inside the popularity mask and below p99 (hubs excluded), the one
 * with the best product of
 *   - the mean cosine of its 3 best synonyms (same category, masked): substitutes, and
 *   - the weight of its strongest category: a complementary category stands out;
 * ties to the more popular.  The most popular product when nothing qualifies (no
 * models yet, or categories without 3 products). */
int32_t tui_start_product(tui_app *a, rs_recommender *r)
{
    int32_t best = tui_most_popular(r);
    int32_t np = rs_rec_n_products(r), *order = tui_search_order(rs_rec_popularity_counts(r), np);
    rs_rec_result *res = order ? rs_rec_result_new() : NULL;
    double best_score = 0;
    for (int32_t i = 0, tried = 0; res && i < np && tried < 200; i++) {
        int32_t p = order[i];
        rs_rec_product info;
        if (rs_rec_product_info(r, p, &info, NULL) != RS_OK || !info.in_product_model ||
            info.percentile < a->min_pct || info.percentile > a->max_pct ||
            info.percentile >= 99)
            continue;
        tried++;
        rs_rec_query q;
        rs_rec_query_defaults(&q);
        q.products = &p;
        q.n_products = 1;
        q.kinds = RS_REC_BIT(RS_REC_SYNONYMS) | RS_REC_BIT(RS_REC_CATEGORIES);
        q.k[RS_REC_SYNONYMS] = 3;
        q.k[RS_REC_CATEGORIES] = 1;
        q.min_pct = a->min_pct;
        q.max_pct = a->max_pct;
        q.flags = RS_REC_NO_COPURCHASE;
        rs_error e = {0};
        if (rs_recommend(r, &q, res, &e) != RS_OK)
            continue;
        const rs_rec_list *sy = &res->lists[RS_REC_SYNONYMS], *ca = &res->lists[RS_REC_CATEGORIES];
        if (sy->status != RS_OK || sy->n < 3 || ca->status != RS_OK || ca->n < 1)
            continue;
        double cos = (sy->rows[0].score + sy->rows[1].score + sy->rows[2].score) / 3;
        double score = cos * ca->rows[0].score;
        if (cos > 0 && score > best_score) {
            best_score = score;
            best = p;
        }
    }
    rs_rec_result_free(res);
    free(order);
    return best;
}

int32_t tui_most_popular(rs_recommender *r)
{
    int32_t n = rs_rec_n_products(r), best = n > 0 ? 0 : -1;
    const int64_t *pop = rs_rec_popularity_counts(r);
    for (int32_t p = 1; p < n; p++)
        if (pop[p] > pop[best])
            best = p;
    return best;
}

const rs_rec_list *tui_rows(tui_app *a, int pane)
{
    tui_compute(a);
    if (a->product < 0 || a->rec_err[0])
        return NULL;
    return &a->res->lists[pane];
}

const rs_browse_trust *tui_pane_trust(tui_app *a, int pane)
{
    const rs_rec_list *l = tui_rows(a, pane);
    if (!l || l->status != RS_OK || l->model_id <= 0)
        return NULL;
    if (a->trust_id[pane] != l->model_id) {
        rs_error e = {0};
        a->trust_id[pane] = l->model_id; /* a failure is not retried on every frame */
        if (rs_browse_model_trust(a->s, l->model_id, &a->trust[pane], &e) != RS_OK)
            a->trust_id[pane] = 0;
    }
    return a->trust_id[pane] > 0 ? &a->trust[pane] : NULL;
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
        rs_error e = {0};
        /* "category": the registry kind of the category model */
        if (rs_browse_model_items(a->s, c->id, "category", l->model_id, nc, &c->catm_in,
                                  &c->catm_rows, &e) != RS_OK) {
            c->catm_in = NULL;
            c->catm_rows = 0;
        }
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

/* How many of the rows the mask hid, per side: the query again without the mask (and
 * without co-purchase counts), its rows outside the mask.  Categories are not masked. */
static void count_masked(tui_app *a, rs_recommender *r, const rs_rec_query *q0)
{
    memset(a->masked_lo, 0, sizeof a->masked_lo);
    memset(a->masked_hi, 0, sizeof a->masked_hi);
    if (a->rec_err[0] || (!a->res_all && !(a->res_all = rs_rec_result_new())))
        return;
    rs_rec_query q = *q0;
    q.kinds = RS_REC_BIT(RS_REC_SYNONYMS) | RS_REC_BIT(RS_REC_COMPLEMENTS);
    q.flags |= RS_REC_NO_MASK | RS_REC_NO_COPURCHASE;
    rs_error e = {0};
    if (rs_recommend(r, &q, a->res_all, &e) != RS_OK)
        return;
    for (int p = 0; p < NPANES; p++) {
        const rs_rec_list *l = &a->res_all->lists[p];
        if (TUI_PANES[p].of_categories || l->status != RS_OK)
            continue;
        for (int i = 0; i < l->n; i++) {
            a->masked_lo[p] += l->rows[i].percentile < a->min_pct;
            a->masked_hi[p] += l->rows[i].percentile > a->max_pct;
        }
    }
}

void tui_query(const tui_app *a, rs_rec_query *q)
{
    rs_rec_query_defaults(q);
    if (a->n_basket > 0) {
        q->products = a->basket;
        q->n_products = a->n_basket;
    } else {
        q->products = &a->product;
        q->n_products = 1;
    }
    q->kinds = RS_REC_ALL_KINDS;
    q->k[RS_REC_SYNONYMS] = q->k[RS_REC_CATEGORIES] = q->k[RS_REC_COMPLEMENTS] = a->k_used;
    q->min_pct = a->min_pct;
    q->max_pct = a->max_pct;
    if (a->any_category)
        q->flags |= RS_REC_SYNONYMS_ANY_CATEGORY;
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
    /* a wide screen fills its panes: as many rows as they show, at least k */
    a->k_used = a->k > a->k_rows ? a->k : a->k_rows;
    tui_query(a, &q);
    rs_error e = {0};
    if (rs_recommend(r, &q, a->res, &e) != RS_OK)
        snprintf(a->rec_err, sizeof a->rec_err, "%.290s", e.msg);
    a->cat_eligible = a->rec_err[0] ? 0 : eligible_categories(a, r);
    count_masked(a, r, &q);
    for (int p = 0; p < NPANES; p++)
        tui_list_clamp(&a->panes[p], a->rec_err[0] ? 0 : a->res->lists[p].n);
}

/* --------------------------------------------------------- cities, state ---- */

static int load_cities(tui_app *a, rs_error *e)
{
    rs_browse_city *v = NULL;
    int n = 0, rc = rs_browse_cities(a->s, &v, &n, e);
    if (rc != RS_OK)
        return rc;
    a->cities = calloc((size_t)n + 1, sizeof *a->cities);
    if (!a->cities) {
        rs_browse_cities_free(v, n);
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    tui_city *all = &a->cities[n];
    for (int i = 0; i < n; i++) {
        a->cities[i].id = v[i].id;
        a->cities[i].name = v[i].name; /* taken over */
        a->cities[i].receipts = v[i].receipts;
        all->receipts += v[i].receipts;
        v[i].name = NULL;
    }
    rs_browse_cities_free(v, n);
    a->n_cities = n;
    all->id = 0;
    if (!(all->name = strdup("all cities")))
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    a->n_cities = n + 1;
    return RS_OK;
}

/* Which cities have their own active models (the rest fall back to all cities). */
void tui_load_model_owners(tui_app *a)
{
    int n = a->n_cities;
    int64_t *ids = calloc((size_t)n + 1, sizeof *ids);
    int *own = calloc(2 * (size_t)n + 1, sizeof *own);
    rs_error e = {0};
    for (int i = 0; ids && i < n; i++)
        ids[i] = a->cities[i].id;
    int ok = ids && own && rs_browse_model_owners(a->s, ids, n, own, own + n, &e) == RS_OK;
    for (int i = 0; i < n; i++) {
        a->cities[i].own_product = ok ? own[i] : 0;
        a->cities[i].own_category = ok ? own[n + i] : 0;
    }
    free(ids);
    free(own);
}

void tui_models_signature(tui_app *a, char *buf, size_t n)
{
    rs_error e = {0};
    if (rs_browse_models_signature(a->s, buf, n, &e) != RS_OK)
        buf[0] = 0;
}

void tui_app_poll(tui_app *a)
{
    char sig[128];
    tui_models_signature(a, sig, sizeof sig);
    if (sig[0] && strcmp(sig, a->models_sig) != 0)
        a->models_changed = 1;
}

void tui_state_path(const char *db_path, char *buf, size_t n)
{
    snprintf(buf, n, "%s-tui.json", db_path);
}

/* Reads {"city": name, "product": ext_id} from the state file; missing or broken
 * files are ignored (state is a convenience, never an error), and so is anything that
 * is not a regular file (a FIFO would block the start). */
static void read_state(const char *path, char *city, size_t cn, char *product, size_t pn)
{
    city[0] = product[0] = 0;
    int fd = path ? open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC) : -1;
    struct stat st;
    if (fd < 0)
        return;
    char buf[4096];
    ssize_t len = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, buf, sizeof buf - 1) : -1;
    close(fd);
    if (len <= 0)
        return;
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

int tui_app_save_state(tui_app *a, rs_error *e)
{
    if (!a->state_path || a->product < 0)
        return RS_OK;
    rs_recommender *r = a->cities[a->ci].rec;
    rs_rec_product info;
    if (!r || rs_rec_product_info(r, a->product, &info, NULL) != RS_OK)
        return RS_OK;
    cJSON *j = cJSON_CreateObject();
    char *text = NULL;
    if (j && cJSON_AddStringToObject(j, "city", a->cities[a->ci].id ? a->cities[a->ci].name
                                                                     : "all") &&
        cJSON_AddStringToObject(j, "product", info.ext_id))
        text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    /* beside the database, through the one writer of files we keep: a symbolic link or
     * a FIFO in its place is refused, never followed or replaced */
    rs_afile *f = NULL;
    int rc = rs_afile_open(a->state_path, &f, e);
    if (rc == RS_OK) {
        fputs(text, rs_afile_stream(f));
        rc = rs_afile_commit(f, e);
    }
    free(text);
    return rc;
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
    if (a->fast && (rc = tui_loader_init(a, e)) != RS_OK)
        goto fail;
    a->k = a->k_used = RS_REC_DEFAULT_K;
    a->min_pct = RS_REC_DEFAULT_MIN_PCT;
    a->max_pct = RS_REC_DEFAULT_MAX_PCT;
    a->product = -1;
    a->dirty = 1;
    for (int p = 0; p < NPANES; p++)
        a->trust_id[p] = -1;
    a->res = rs_rec_result_new();
    a->found = malloc(TUI_SEARCH_MAX * sizeof *a->found);
    if (!a->res || !a->found) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto fail;
    }
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd - 1) && strcmp(cwd, "/") != 0 &&
        asprintf(&a->cwd, "%s/", cwd) < 0)
        a->cwd = NULL;
    if (opt->state_path && !(a->state_path = strdup(opt->state_path))) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto fail;
    }
    if ((rc = load_cities(a, e)) != RS_OK)
        goto fail;
    tui_load_model_owners(a);
    tui_models_signature(a, a->models_sig, sizeof a->models_sig);

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
        rc = rs_seterr(e, a->rec_code ? a->rec_code : RS_EINTERNAL, "%s", a->msg);
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
        a->product = tui_start_product(a, r);
    }
    if ((rc = tui_app_damaged(a, e)) != RS_OK)
        goto fail;
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
    tui_loader_close(a);
    tui_map_free(a);
    tui_compare_free(a);
    tui_receipts_free(a);
    tui_customer_free(a);
    for (int i = 0; i < a->n_cities; i++)
        free_city(&a->cities[i]);
    free(a->cities);
    rs_rec_result_free(a->res);
    rs_rec_result_free(a->res_all);
    free(a->hist);
    free(a->basket);
    free(a->found);
    free(a->matches);
    tui_lines_clear(&a->text);
    free(a->text.v);
    tui_search_free(a->index);
    free(a->hist_bin_of);
    free(a->state_path);
    free(a->cwd);
    free(a);
}

/* Drops every city's recommender and the caches built from them (they reopen on
 * demand). */
void tui_drop_recommenders(tui_app *a)
{
    a->hist_rec = NULL;
    for (int p = 0; p < NPANES; p++)
        a->trust_id[p] = -1; /* evaluations may have come with the models */
    for (int i = 0; i < a->n_cities; i++)
        drop_recommender(&a->cities[i]);
}

void tui_short_paths(const tui_app *a, char *msg)
{
    if (!a->cwd)
        return;
    size_t k = strlen(a->cwd);
    char *p;
    while ((p = strstr(msg, a->cwd)) != NULL)
        memmove(p, p + k, strlen(p + k) + 1);
}

/* The name index and the city's popularity order (built once, ~50 ms on 100k). */
int tui_search_prepare(tui_app *a)
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
        tui_list_reset(&a->panes[p]);
    a->dirty = 1;
}

void tui_set_product(tui_app *a, int32_t p)
{
    if (p < 0 || p == a->product)
        return;
    push_history(a);
    a->product = p;
    reset_panes(a);
}

void tui_set_city(tui_app *a, int ci)
{
    if (ci == a->ci)
        return;
    push_history(a);
    a->ci = ci;
    reset_panes(a);
    if (a->quick) {
        tui_request_city(a);
        if (a->cities[ci].loading)
            return;
    }
    rs_recommender *r = tui_rec(a);
    if (r && a->product >= rs_rec_n_products(r))
        a->product = tui_most_popular(r);
}

/* The product of the highlighted row (a category row: its top product in the city). */
static int32_t highlighted_product(tui_app *a, int *is_category)
{
    const rs_rec_list *l = tui_rows(a, a->pane);
    int sel = a->panes[a->pane].sel;
    *is_category = TUI_PANES[a->pane].of_categories;
    if (!l || sel >= l->n)
        return -1;
    const rs_rec_row *row = &l->rows[sel];
    return *is_category ? tui_category_top(a, row->index) : row->index;
}

void tui_follow(tui_app *a)
{
    int is_cat = 0;
    int32_t p = highlighted_product(a, &is_cat);
    if (p < 0)
        tui_message(a, TUI_ROLE_WARN,
                    is_cat ? "no product of that category sold here" : "nothing highlighted");
    else
        tui_set_product(a, p);
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
    int32_t p = TUI_PANES[a->pane].of_categories ? a->product : highlighted_product(a, &is_cat);
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

static void search_step(tui_app *a, int dir)
{
    if (a->n_matches == 0) {
        tui_message(a, TUI_ROLE_WARN, "no search yet: press / to search");
        return;
    }
    a->match_i = (a->match_i + dir + a->n_matches) % a->n_matches;
    tui_set_product(a, a->matches[a->match_i]);
    tui_message(a, TUI_ROLE_STATUS, "match %d of %d", a->match_i + 1, a->n_matches);
}

/* -------------------------------------------------------------- views ---- */

/* The views a command of the main screen opens. */
static const tui_view *const VIEWS[] = {
    &tui_view_help, &tui_view_metrics, &tui_view_explain,
    &tui_view_city, &tui_view_search,  &tui_view_export, &tui_view_mask, &tui_view_map,
    &tui_view_compare, &tui_view_receipts, &tui_view_customer,
};

static const tui_view *view_of(tui_cmd cmd)
{
    for (size_t i = 0; i < sizeof VIEWS / sizeof VIEWS[0]; i++)
        if (VIEWS[i]->cmd == cmd)
            return VIEWS[i];
    return NULL;
}

void tui_view_open(tui_app *a, const tui_view *v)
{
    a->ov = v;
    tui_list_reset(&a->ov_list);
    v->open(a);
}

void tui_view_close(tui_app *a)
{
    a->ov = NULL;
}

/* A command while a view is open: the view's own keys, then the common ones (q, Esc
 * and the command that opened it close it); the rest is ignored. */
static unsigned view_key(tui_app *a, int code, tui_cmd cmd)
{
    unsigned r = a->ov->key(a, code, cmd);
    if (!(r & TUI_IGNORED))
        return r;
    if (cmd == TUI_CMD_QUIT || cmd == TUI_CMD_CANCEL || cmd == a->ov->cmd)
        tui_view_close(a);
    return TUI_HANDLED;
}

/* ------------------------------------------------------------- commands ---- */

static void toggle_any_category(tui_app *a)
{
    a->any_category = !a->any_category;
    tui_list_reset(&a->panes[PANE_SYN]);
    a->dirty = 1;
    tui_message(a, TUI_ROLE_STATUS, "synonyms: %s",
                a->any_category ? "from every category" : "from its own category");
}

static void go_back(tui_app *a)
{
    if (a->n_hist == 0) {
        tui_message(a, TUI_ROLE_WARN, "at the start of the history");
        return;
    }
    tui_hist_entry h = a->hist[--a->n_hist];
    a->ci = h.city;
    a->product = h.product;
    reset_panes(a);
    tui_request_city(a);
    if (tui_customer_back(a)) /* the product was browsed from the customer view */
        tui_view_open(a, &tui_view_customer);
}

int tui_basket_set(tui_app *a, const int32_t *products, int n)
{
    if (n < 1)
        return -1;
    int32_t *b = n > a->cap_basket ? realloc(a->basket, (size_t)n * sizeof *b) : a->basket;
    if (!b) {
        tui_message(a, TUI_ROLE_ERROR, "out of memory");
        return -1;
    }
    if (n > a->cap_basket) {
        a->basket = b;
        a->cap_basket = n;
    }
    memcpy(a->basket, products, (size_t)n * sizeof *products);
    a->n_basket = n;
    reset_panes(a);
    return 0;
}

/* A command of the main screen (no view open). */
static unsigned command(tui_app *a, tui_cmd cmd)
{
    const rs_rec_list *l = tui_rows(a, a->pane);
    if (tui_list_move(&a->panes[a->pane], l ? l->n : 0, cmd))
        return TUI_HANDLED;
    switch (cmd) {
    case TUI_CMD_QUIT:
        return TUI_QUIT;
    case TUI_CMD_CANCEL:
        break;
    case TUI_CMD_PANE_NEXT:
        a->pane = (a->pane + 1) % NPANES;
        break;
    case TUI_CMD_PANE_PREV:
        a->pane = (a->pane + NPANES - 1) % NPANES;
        break;
    case TUI_CMD_FOLLOW:
        tui_follow(a);
        break;
    case TUI_CMD_BACK:
        go_back(a);
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
        toggle_any_category(a);
        break;
    case TUI_CMD_BASKET_CLEAR:
        if (a->n_basket) {
            a->n_basket = 0;
            reset_panes(a);
        }
        tui_message(a, TUI_ROLE_STATUS, "basket cleared");
        break;
    case TUI_CMD_SEARCH_NEXT:
    case TUI_CMD_SEARCH_PREV:
        search_step(a, cmd == TUI_CMD_SEARCH_NEXT ? 1 : -1);
        break;
    case TUI_CMD_RELOAD:
        tui_reload(a);
        break;
    default: {
        const tui_view *v = view_of(cmd);
        if (v)
            tui_view_open(a, v);
        break;
    }
    }
    return TUI_HANDLED;
}

unsigned tui_app_key(tui_app *a, int code)
{
    int rows, cols;
    if (tui_key_resize_size(code, &rows, &cols) || code == KEY_RESIZE)
        return TUI_HANDLED | TUI_RESIZE;
    a->msg[0] = 0;
    if (a->ov && a->ov->text_input)
        return a->ov->key(a, code, TUI_CMD_NONE);
    tui_cmd cmd = tui_key_command(code);
    if (cmd == TUI_CMD_REDRAW)
        return TUI_HANDLED | TUI_REDRAW;
    if (cmd == TUI_CMD_NONE && a->ov) { /* a key of the view's own (the map's pan keys) */
        unsigned r = a->ov->key(a, code, TUI_CMD_NONE);
        if (!(r & TUI_IGNORED))
            return r;
    }
    if (cmd == TUI_CMD_NONE) {
        if (code > 0x20 && code < 0x7F)
            tui_message(a, TUI_ROLE_WARN, "'%c' does nothing here: ? shows the keys", code);
        return TUI_IGNORED;
    }
    return a->ov ? view_key(a, code, cmd) : command(a, cmd);
}
