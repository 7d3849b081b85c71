/* recommend.c - the recommender of one city (recommend.h): open, close, reload, the
 * model slots and row caches, the result, and rs_recommend(), which validates a query
 * and runs each kind asked for (rec_synonyms.c, rec_categories.c, rec_complements.c,
 * rec_completion.c; the catalogue in rec_catalogue.c; what they share in
 * rec_internal.h).
 *
 * Everything a query needs is loaded at open (recommend.h says what), so a query only
 * does dense arithmetic: dot products with the normalised input rows of the query's
 * categories for synonyms (one sgemv over the whole normalised matrix for any-category
 * synonyms), one sgemv over the category model for categories, dot products over the
 * products of the chosen categories for complements, and the completion scorer's pass.
 * The recommender is read-only after open except for three internally synchronised
 * caches: the pool of completion scorers (not thread-safe each, behind a mutex), the
 * per-row 1/|row| of the product model (filled on first use, relaxed atomics) and the
 * whole normalised matrix (built on the first any-category query, behind a mutex) --
 * normalising 100k rows at open was most of the TUI's startup.  Per-call scratch
 * lives in the result.
 */
#include "recommend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "completion.h"
#include "model.h"
#include "rec_internal.h"

static const char *const KIND_NAMES[RS_REC_NKINDS] = {"synonyms", "categories", "complements",
                                                       "completion"};

const char *rs_rec_kind_name(rs_rec_kind k)
{
    return (unsigned)k < RS_REC_NKINDS ? KIND_NAMES[k] : NULL;
}

int rs_rec_kind_parse(const char *name, rs_rec_kind *out, rs_error *e)
{
    for (int k = 0; k < RS_REC_NKINDS; k++)
        if (name && strcmp(name, KIND_NAMES[k]) == 0) {
            *out = (rs_rec_kind)k;
            return RS_OK;
        }
    return rs_seterr(e, RS_EUSAGE,
                     "unknown kind '%s' (synonyms, categories, complements, completion)",
                     name ? name : "");
}

void rs_rec_query_defaults(rs_rec_query *q)
{
    memset(q, 0, sizeof *q);
    q->kinds = RS_REC_ALL_KINDS;
    for (int k = 0; k < RS_REC_NKINDS; k++)
        q->k[k] = RS_REC_DEFAULT_K;
    q->min_pct = RS_REC_DEFAULT_MIN_PCT;
    q->max_pct = RS_REC_DEFAULT_MAX_PCT;
    q->complement_categories = RS_REC_DEFAULT_COMPLEMENT_CATEGORIES;
}

void rs_rec_options_defaults(rs_rec_options *o)
{
    memset(o, 0, sizeof *o);
    o->workers = 1;
}

/* Grows *p to hold n elements of size sz (keeps contents).  0 on success. */
int rec_grow(void *pp, size_t *cap, size_t n, size_t sz)
{
    void **p = pp;
    if (n <= *cap && *p)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < n)
        c *= 2;
    void *q = realloc(*p, c * sz);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Grows a flag array keeping it all-zero beyond the old size (callers keep the used
 * part zero between calls). */
int rec_grow_zero(uint8_t **p, size_t *cap, size_t n)
{
    if (n <= *cap && *p)
        return 0;
    uint8_t *q = realloc(*p, n);
    if (!q)
        return -1;
    memset(q + *cap, 0, n - *cap);
    *p = q;
    *cap = n;
    return 0;
}

/* ---------------------------------------------------------------- loading */

/* The registered model id of kind (rs_rec_options.product_model), active or not. */
static int load_registered(rs_recommender *r, const char *kind, int64_t id, rs_embedding **m,
                           int64_t *city, rs_model_info *info, rs_error *e)
{
    rs_model_list l = {0};
    int rc = rs_registry_list(r->store, -1, kind, &l, e);
    for (size_t i = 0; rc == RS_OK && i < l.n; i++)
        if (l.rows[i].info.id == id) {
            *info = l.rows[i].info;
            *city = info->city_id;
            rs_model_list_free(&l);
            return rs_registry_load(r->store, info, m, e);
        }
    rs_model_list_free(&l);
    return rc != RS_OK ? rc : rs_seterr(e, RS_EUSAGE, "no %s model #%lld", kind, (long long)id);
}

static void load_model(rs_recommender *r, const char *kind, model_slot *slot)
{
    rs_error e = {0};
    rs_model_info info;
    memset(&info, 0, sizeof info);
    memset(slot, 0, sizeof *slot);
    if (r->opt.product_model > 0 && strcmp(kind, RS_KIND_PRODUCT) == 0)
        slot->status = load_registered(r, kind, r->opt.product_model, &slot->m, &slot->city,
                                       &info, &e);
    else
        slot->status = rs_registry_load_active(r->store, r->city, kind, "all", &slot->m,
                                               &slot->city, &info, &e);
    if (slot->status) {
        slot->m = NULL;
        slot->err = e;
        /* registered but unloadable (truncated, deleted, corrupt) is not "no model" */
        rs_model_info reg;
        rs_error ignore = {0};
        slot->broken = rs_registry_active(r->store, r->city, kind, "all", &reg, &ignore) == RS_OK ||
                       (r->city != 0 &&
                        rs_registry_active(r->store, 0, kind, "all", &reg, &ignore) == RS_OK);
        if (slot->broken) {
            slot->err = e;
            if (slot->err.code == RS_EUSAGE) /* e.g. the file is gone: bad data, not usage */
                slot->err.code = RS_EDATA;
            slot->status = slot->err.code;
            snprintf(slot->message, sizeof slot->message, "%s model failed to load: %.200s",
                     kind, e.msg);
        } else {
            snprintf(slot->message, sizeof slot->message, "no %s model for city '%.60s': %.150s",
                     kind, r->city_name, e.msg);
        }
        return;
    }
    slot->id = info.id;
    snprintf(slot->path, sizeof slot->path, "%s", info.path);
    if (slot->m->dim <= 0 || slot->m->rows < 0) {
        snprintf(slot->message, sizeof slot->message, "%.200s: empty %s model", info.path, kind);
        slot->status = RS_EDATA;
        slot->broken = 1;
        rs_seterr(&slot->err, RS_EDATA, "%s: empty %s model", info.path, kind);
        rs_embedding_free(slot->m);
        slot->m = NULL;
        return;
    }
    if (!slot->m->out) {
        /* a word2vec import without output vectors: synonyms only */
        slot->no_output = 1;
        snprintf(slot->no_output_msg, sizeof slot->no_output_msg,
                 "the %s model %.150s has input vectors only (no output vectors, e.g. "
                 "imported from word2vec): this list needs them",
                 kind, info.path);
    }
}

/* Row `row` of the product model's input matrix scaled to unit length (a zero row
 * stays zero).  The one definition of a normalised row: the per-category synonyms and
 * the whole matrix give the same bits. */
void rec_norm_row(const rs_embedding *m, const norm_cache *c, int32_t row, float *out)
{
    size_t dim = (size_t)m->dim;
    const float *x = m->in + (size_t)row * dim;
    double inv;
    uint64_t bits = c && c->inv && row < c->rows
                        ? atomic_load_explicit(&c->inv[row], memory_order_relaxed)
                        : 0;
    if (bits) {
        memcpy(&inv, &bits, sizeof inv);
    } else {
        double s = 0;
        for (size_t j = 0; j < dim; j++)
            s += (double)x[j] * x[j];
        inv = s > 0 ? 1.0 / sqrt(s) : 0.0;
        memcpy(&bits, &inv, sizeof bits);
        if (c && c->inv && row < c->rows)
            atomic_store_explicit(&c->inv[row], bits, memory_order_relaxed);
    }
    for (size_t j = 0; j < dim; j++)
        out[j] = (float)(x[j] * inv);
}

static int open_norm_cache(rs_recommender *r, rs_error *e)
{
    if (!(r->norm = calloc(1, sizeof *r->norm)))
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    pthread_mutex_init(&r->norm->mu, NULL);
    if (r->pm.m && r->pm.m->rows > 0) {
        /* calloc: untouched zero pages until a row is first normalised */
        if (!(r->norm->inv = calloc((size_t)r->pm.m->rows, sizeof *r->norm->inv)))
            return rs_seterr(e, RS_EINTERNAL, "out of memory");
        r->norm->rows = r->pm.m->rows;
    }
    return RS_OK;
}

static void close_norm_cache(norm_cache *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c->m);
    free(c->cat_norm);
    free(c->cat_out);
    free((void *)c->inv);
    free(c);
}

/* (rec_internal.h) */
int rec_cat_rows(const rs_recommender *r, const float **cn, const float **co)
{
    norm_cache *c = r->norm;
    const rs_embedding *m = r->pm.m;
    pthread_mutex_lock(&c->mu);
    if (!c->cat_norm && !c->cat_failed) {
        size_t n = (size_t)r->cat_off[r->n_categories], dim = (size_t)m->dim;
        float *a = malloc(n * dim * sizeof *a + 1);
        float *b = m->out ? malloc(n * dim * sizeof *b + 1) : NULL; /* none: no copy */
        if (a && (b || !m->out)) {
            for (size_t j = 0; j < n; j++) {
                int32_t p = r->cat_items[j];
                if (rec_has_row(m, p))
                    rec_norm_row(m, c, m->item_row[p], a + j * dim);
                else
                    memset(a + j * dim, 0, dim * sizeof *a);
                if (b && rec_has_row(m, p))
                    memcpy(b + j * dim, m->out + (size_t)m->item_row[p] * dim,
                           dim * sizeof *b);
                else if (b)
                    memset(b + j * dim, 0, dim * sizeof *b);
            }
            c->cat_norm = a;
            c->cat_out = b;
        } else {
            free(a);
            free(b);
            c->cat_failed = 1;
        }
    }
    *cn = c->cat_norm;
    *co = c->cat_out;
    pthread_mutex_unlock(&c->mu);
    return *cn ? 0 : -1;
}

static void free_contents(rs_recommender *r)
{
    free(r->strings);
    free(r->cat_ext);
    free(r->ext);
    free(r->name);
    free(r->prod_cat);
    free(r->cat_name);
    free(r->cat_parent);
    free(r->cat_off);
    free(r->cat_items);
    free(r->ext_table);
    free(r->pop);
    free(r->pct);
    free(r->cpop);
    free(r->cshare);
    free(r->cpct);
    free(r->post_off);
    free(r->post);
    free(r->post_receipt);
    free(r->pm_out_mean);
    rs_embedding_free(r->pm.m);
    rs_embedding_free(r->cm.m);
    close_norm_cache(r->norm);
    rec_close_completion(r->pool);
    rec_close_category_rank(r->cr);
}

/* The mean output row of the product model (complements' chance level of in.out). */
static int out_mean(rs_recommender *r, rs_error *e)
{
    const rs_embedding *m = r->pm.m;
    if (!m || !m->out || m->rows <= 0)
        return RS_OK;
    double *acc = calloc((size_t)m->dim, sizeof *acc);
    r->pm_out_mean = malloc((size_t)m->dim * sizeof *r->pm_out_mean);
    if (!acc || !r->pm_out_mean) {
        free(acc);
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    for (int32_t i = 0; i < m->rows; i++)
        for (int j = 0; j < m->dim; j++)
            acc[j] += m->out[(size_t)i * (size_t)m->dim + (size_t)j];
    for (int j = 0; j < m->dim; j++)
        r->pm_out_mean[j] = (float)(acc[j] / m->rows);
    free(acc);
    return RS_OK;
}

static int fill(rs_recommender *r, rs_error *e)
{
    int rc;
    if (r->city) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(rs_store_db(r->store), "SELECT name FROM cities WHERE id = ?1", -1,
                               &st, NULL) != SQLITE_OK)
            return rs_store_sqlerr(r->store, e, "reading cities");
        sqlite3_bind_int64(st, 1, r->city);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            snprintf(r->city_name, sizeof r->city_name, "%s",
                     (const char *)sqlite3_column_text(st, 0));
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            rc = rs_store_sqlerr(r->store, e, "reading cities");
        sqlite3_finalize(st);
        if (step == SQLITE_DONE)
            return rs_seterr(e, RS_EUSAGE, "unknown city id %lld", (long long)r->city);
        if (step != SQLITE_ROW)
            return rc;
    } else {
        snprintf(r->city_name, sizeof r->city_name, "all");
    }
    if ((rc = rec_load_catalogue(r, e)) || (rc = rec_load_popularity(r, e)))
        return rc;
    load_model(r, RS_KIND_PRODUCT, &r->pm);
    load_model(r, RS_KIND_CATEGORY, &r->cm);
    if (rs_store_damaged(r->store)) { /* not "no model": the registry could not be read */
        const char *why = r->pm.status ? r->pm.err.msg : r->cm.err.msg;
        return why[0] ? rs_seterr(e, RS_EDATA, "%s", why)
                      : rs_seterr(e, RS_EDATA, "%s: %s", rs_store_path(r->store),
                                  RS_STORE_DAMAGED);
    }
    if ((rc = out_mean(r, e)))
        return rc;
    if ((rc = open_norm_cache(r, e)) || (rc = rec_open_category_rank(r, e)))
        return rc;
    return rec_open_completion(r, e);
}

int rs_recommender_open(rs_store *s, int64_t city_id, const rs_rec_options *opt,
                        rs_recommender **out, rs_error *e)
{
    *out = NULL;
    rs_recommender *r = calloc(1, sizeof *r);
    if (!r)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    r->store = s;
    r->city = city_id;
    if (opt)
        r->opt = *opt;
    else
        rs_rec_options_defaults(&r->opt);
    int rc = fill(r, e);
    if (rc) {
        rs_recommender_close(r);
        return rc;
    }
    *out = r;
    return RS_OK;
}

void rs_recommender_close(rs_recommender *r)
{
    if (!r)
        return;
    free_contents(r);
    free(r);
}

int rs_recommender_reload(rs_recommender *r, int *changed, rs_error *e)
{
    rs_recommender *n = NULL;
    int rc = rs_recommender_open(r->store, r->city, &r->opt, &n, e);
    if (rc)
        return rc;
    if (changed)
        *changed = n->pm.id != r->pm.id || n->cm.id != r->cm.id ||
                   n->n_products != r->n_products || n->n_receipts != r->n_receipts ||
                   n->n_categories != r->n_categories || n->pm.status != r->pm.status ||
                   n->cm.status != r->cm.status || strcmp(n->comp_name, r->comp_name) != 0 ||
                   strcmp(n->cr ? n->cr->name : "", r->cr ? r->cr->name : "") != 0;
    rs_recommender tmp = *r;
    *r = *n;
    *n = tmp;
    rs_recommender_close(n);
    return RS_OK;
}

/* ---------------------------------------------------------------- lookups */

int rs_rec_check_models(const rs_recommender *r, unsigned kinds, rs_error *e)
{
    unsigned need_pm = RS_REC_BIT(RS_REC_SYNONYMS) | RS_REC_BIT(RS_REC_COMPLEMENTS);
    unsigned need_cm = RS_REC_BIT(RS_REC_CATEGORIES) | RS_REC_BIT(RS_REC_COMPLEMENTS);
    const model_slot *bad = (kinds & need_pm) && r->pm.broken   ? &r->pm
                            : (kinds & need_cm) && r->cm.broken ? &r->cm
                                                                : NULL;
    if (!bad)
        return RS_OK;
    return rs_seterr(e, bad->err.code ? bad->err.code : RS_EDATA, "%s", bad->err.msg);
}

int64_t rs_rec_city(const rs_recommender *r) { return r->city; }
const char *rs_rec_city_name(const rs_recommender *r) { return r->city_name; }
int32_t rs_rec_n_products(const rs_recommender *r) { return r->n_products; }
int32_t rs_rec_n_categories(const rs_recommender *r) { return r->n_categories; }
int64_t rs_rec_n_receipts(const rs_recommender *r) { return r->n_receipts; }
const int64_t *rs_rec_popularity_counts(const rs_recommender *r) { return r->pop; }
const double *rs_rec_popularity_percentiles(const rs_recommender *r) { return r->pct; }

const char *rs_rec_category_name(const rs_recommender *r, int32_t c)
{
    return c >= 0 && c < r->n_categories ? r->cat_name[c] : "";
}

int64_t rs_rec_category_popularity(const rs_recommender *r, int32_t c, double *share,
                                   double *percentile)
{
    int ok = c >= 0 && c < r->n_categories;
    if (share)
        *share = ok ? r->cshare[c] : 0.0;
    if (percentile)
        *percentile = ok ? r->cpct[c] : 0.0;
    return ok ? r->cpop[c] : 0;
}

int rs_rec_product_info(const rs_recommender *r, int32_t index, rs_rec_product *info,
                        rs_error *e)
{
    if (index < 0 || index >= r->n_products)
        return rs_seterr(e, RS_EUSAGE, "product index %d out of range (0..%d)", (int)index,
                         (int)r->n_products - 1);
    info->index = index;
    info->ext_id = r->ext[index];
    info->name = r->name[index];
    info->category_index = r->prod_cat[index];
    info->category = rs_rec_category_name(r, r->prod_cat[index]);
    info->popularity = r->pop[index];
    info->percentile = r->pct[index];
    info->in_product_model = rec_has_row(r->pm.m, index);
    return RS_OK;
}

int rec_sum_rows(const rs_embedding *m, const norm_cache *norm_cache, const int32_t *items,
                 int n, double *acc, float *tmp)
{
    int dim = m->dim, used = 0;
    memset(acc, 0, (size_t)dim * sizeof *acc);
    for (int i = 0; i < n; i++) {
        int32_t p = items[i];
        if (!rec_has_row(m, p))
            continue;
        const float *x = m->in + (size_t)m->item_row[p] * (size_t)dim;
        if (norm_cache) {
            rec_norm_row(m, norm_cache, m->item_row[p], tmp);
            x = tmp;
        }
        for (int j = 0; j < dim; j++)
            acc[j] += x[j];
        used++;
    }
    return used;
}

int rec_topk_init(rs_rec_scratch *sc, rs_topheap *t, int k)
{
    if (rec_grow(&sc->h, &sc->h_cap, (size_t)k + 1, sizeof *sc->h) ||
        rec_grow(&sc->hs, &sc->hs_cap, (size_t)k + 1, sizeof *sc->hs))
        return -1;
    t->idx = sc->h;
    t->sc = sc->hs;
    t->n = 0;
    t->k = k;
    return 0;
}

/* ---------------------------------------------------------------- queries */

rs_rec_result *rs_rec_result_new(void)
{
    rs_rec_result *res = calloc(1, sizeof *res);
    if (!res)
        return NULL;
    if (!(res->scratch = calloc(1, sizeof *res->scratch))) {
        free(res);
        return NULL;
    }
    return res;
}

void rs_rec_result_free(rs_rec_result *res)
{
    if (!res)
        return;
    for (int k = 0; k < RS_REC_NKINDS; k++)
        free(res->lists[k].rows);
    free(res->query);
    free(res->query_categories);
    rs_rec_scratch *s = res->scratch;
    if (s) {
        free(s->f);
        free(s->v);
        free(s->d);
        free(s->h);
        free(s->hs);
        free(s->u);
        free(s->cats);
        free(s->cw);
        free(s->slots);
        free(s->isq);
        free(s->isqc);
        free(s->acc);
        free(s->nr);
        free(s->cs);
        free(s->qb);
        free(s);
    }
    free(res);
}

int rec_list_reserve(rs_rec_list *l, int n)
{
    /* rows are allocated exactly for the k asked (k <= RS_REC_K_MAX), reusing memory */
    rs_rec_row *p = realloc(l->rows, ((size_t)n + 1) * sizeof *p);
    if (!p)
        return -1;
    l->rows = p;
    return 0;
}

static int max_dim(const rs_recommender *r)
{
    int a = r->pm.m ? r->pm.m->dim : 0, b = r->cm.m ? r->cm.m->dim : 0;
    return a > b ? a : b;
}

void rec_fill_product_row(const rs_recommender *r, rs_rec_row *row, int32_t p, double score)
{
    memset(row, 0, sizeof *row);
    row->index = p;
    row->ext_id = r->ext[p];
    row->name = r->name[p];
    row->category_index = r->prod_cat[p];
    row->category = rs_rec_category_name(r, r->prod_cat[p]);
    row->score = score;
    row->popularity = r->pop[p];
    row->percentile = r->pct[p];
    row->copurchase = -1; /* unknown until a kind counts it */
}

void rec_list_from_heap(const rs_recommender *r, rs_rec_list *l, rs_topheap *t)
{
    rs_topheap_sort(t);
    if (rec_list_reserve(l, t->n)) {
        rec_list_oom(l);
        return;
    }
    for (int i = 0; i < t->n; i++)
        rec_fill_product_row(r, &l->rows[i], t->idx[i], t->sc[i]);
    l->n = t->n;
}

void rec_list_model(rs_rec_list *l, const model_slot *m)
{
    l->status = m->status;
    snprintf(l->message, sizeof l->message, "%s", m->message);
    l->model_city = m->city;
    l->model_id = m->id;
    l->model_path = m->path;
}

int rec_need_output(rs_rec_list *l, const model_slot *m)
{
    if (!m->no_output)
        return 0;
    l->status = RS_EDATA;
    snprintf(l->message, sizeof l->message, "%s", m->no_output_msg);
    return -1;
}

void rec_list_oom(rs_rec_list *l)
{
    snprintf(l->message, sizeof l->message, "out of memory");
    l->status = RS_EINTERNAL;
}

/* RS_OK, or RS_EUSAGE naming what is wrong with the query. */
static int check_query(const rs_recommender *r, const rs_rec_query *q, rs_error *e)
{
    /* an empty context is a question for completion alone (what sells: popularity) */
    int completion_only = (q->kinds & ~RS_REC_BIT(RS_REC_COMPLETION)) == 0;
    if (q->n_products < 0 || (q->n_products > 0 && !q->products) ||
        (q->n_products == 0 && !completion_only))
        return rs_seterr(e, RS_EUSAGE, "empty query: give at least one product");
    for (int k = 0; k < RS_REC_NKINDS; k++)
        if ((q->kinds & RS_REC_BIT(k)) && (q->k[k] < 1 || q->k[k] > RS_REC_K_MAX))
            return rs_seterr(e, RS_EUSAGE, "k for %s must be 1..%d (got %d)", KIND_NAMES[k],
                             RS_REC_K_MAX, q->k[k]);
    if (!(q->min_pct >= 0 && q->max_pct <= 100 && q->min_pct <= q->max_pct))
        return rs_seterr(e, RS_EUSAGE,
                         "percentile bounds must satisfy 0 <= min <= max <= 100 (got %g, %g)",
                         q->min_pct, q->max_pct);
    if ((q->kinds & RS_REC_BIT(RS_REC_COMPLEMENTS)) &&
        (q->complement_categories < 1 || q->complement_categories > RS_REC_K_MAX))
        return rs_seterr(e, RS_EUSAGE, "complement categories must be 1..%d (got %d)",
                         RS_REC_K_MAX, q->complement_categories);
    for (int i = 0; i < q->n_products; i++)
        if (q->products[i] < 0 || q->products[i] >= r->n_products)
            return rs_seterr(e, RS_EUSAGE, "product index %d out of range (0..%d)",
                             (int)q->products[i], (int)r->n_products - 1);
    return RS_OK;
}

int rec_begin(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res, rs_error *e)
{
    if (!q || !res || !res->scratch)
        return rs_seterr(e, RS_EINTERNAL, "rs_recommend: no query or result");
    for (int k = 0; k < RS_REC_NKINDS; k++) {
        rs_rec_list *l = &res->lists[k];
        l->n = 0;
        /* a kind not asked for did not answer, and says so */
        l->status = (q->kinds & RS_REC_BIT(k)) ? RS_OK : RS_EUSAGE;
        snprintf(l->message, sizeof l->message, "%s", l->status ? "not asked" : "");
        l->model_city = 0;
        l->model_id = 0;
        l->model_path = "";
        l->model2_city = 0;
        l->model2_id = 0;
        l->model2_path = "";
        l->scorer = "";
        l->popularity_fallback = 0;
        l->n_below_chance = 0;
    }
    res->n_query = res->n_query_categories = 0;
    rs_rec_scratch *sc = res->scratch;
    sc->d_valid = 0;
    sc->csp = NULL;
    sc->cs_known = 0;
    sc->cs_failed = 0;
    rec_query_receipts_clear(res);
    int rc = check_query(r, q, e);
    if (rc)
        return rc;
    /* query arrays: sized exactly each call (small) */
    int32_t *qp = realloc(res->query, ((size_t)q->n_products + 1) * sizeof *qp);
    if (!qp)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    res->query = qp;
    int32_t *qc = realloc(res->query_categories, ((size_t)q->n_products + 1) * sizeof *qc);
    if (!qc)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    res->query_categories = qc;
    if (rec_grow_zero(&sc->isq, &sc->isq_cap, (size_t)r->n_products + 1) ||
        rec_grow_zero(&sc->isqc, &sc->isqc_cap, (size_t)r->n_categories + 1) ||
        rec_grow(&sc->acc, &sc->acc_cap, (size_t)max_dim(r) + 1, sizeof *sc->acc))
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    for (int i = 0; i < q->n_products; i++) {
        int32_t p = q->products[i];
        if (sc->isq[p])
            continue;
        sc->isq[p] = 1;
        res->query[res->n_query++] = p;
        int32_t c = r->prod_cat[p];
        if (c >= 0 && !sc->isqc[c]) {
            sc->isqc[c] = 1;
            res->query_categories[res->n_query_categories++] = c;
        }
    }
    return RS_OK;
}

void rec_run(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res,
             unsigned kinds)
{
    kinds &= q->kinds;
    if (kinds & RS_REC_BIT(RS_REC_SYNONYMS))
        rec_run_synonyms(r, q, res);
    if (kinds & RS_REC_BIT(RS_REC_CATEGORIES))
        rec_run_categories(r, q, res);
    if (kinds & RS_REC_BIT(RS_REC_COMPLEMENTS))
        rec_run_complements(r, q, res);
    if (kinds & RS_REC_BIT(RS_REC_COMPLETION))
        rec_run_completion(r, q, res);
}

void rec_end(const rs_recommender *r, rs_rec_result *res)
{
    rs_rec_scratch *sc = res->scratch;
    (void)r;
    if (!sc || !sc->isq)
        return;
    /* clear the flags for the next call (O(query), not O(catalogue)) */
    for (int i = 0; i < res->n_query; i++)
        sc->isq[res->query[i]] = 0;
    for (int i = 0; i < res->n_query_categories; i++)
        sc->isqc[res->query_categories[i]] = 0;
    sc->csp = NULL;
    rec_query_receipts_clear(res);
}

int rs_recommend(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res,
                 rs_error *e)
{
    int rc = rec_begin(r, q, res, e);
    if (rc)
        return rc;
    rec_run(r, q, res, q->kinds);
    rec_end(r, res);
    return RS_OK;
}
