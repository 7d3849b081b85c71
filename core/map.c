/* map.c - the map of a city's model (see map.h). */
#include "map.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusters.h"

#define MAX_CLUSTERS 12 /* derived groups of a map: as many as the glyphs tell apart */

const char *rs_map_kind_name(rs_map_kind k)
{
    return k == RS_MAP_CATEGORIES ? "categories" : "products";
}

int rs_map_kind_parse(const char *s, rs_map_kind *out, rs_error *e)
{
    if (s && (strcmp(s, "product") == 0 || strcmp(s, "products") == 0)) {
        *out = RS_MAP_PRODUCTS;
        return RS_OK;
    }
    if (s && (strcmp(s, "category") == 0 || strcmp(s, "categories") == 0)) {
        *out = RS_MAP_CATEGORIES;
        return RS_OK;
    }
    return rs_seterr(e, RS_EUSAGE, "unknown map kind '%s' (product or category)", s ? s : "");
}

const char *rs_map_grouping_name(rs_map_grouping g)
{
    switch (g) {
    case RS_MAP_BY_DEPARTMENT: return "departments";
    case RS_MAP_BY_CATEGORY: return "categories";
    case RS_MAP_BY_CLUSTER: return "clusters (derived)";
    default: return "none";
    }
}

void rs_map_close(rs_map *m)
{
    if (!m)
        return;
    for (int i = 0; i < RS_PROJ_NMETHODS; i++) {
        free(m->xy[i]);
        rs_proj_free(m->raw[i]);
    }
    for (int g = 0; g < m->n_groups; g++)
        free(m->groups[g].name);
    free(m->groups);
    free(m->item);
    free(m->point_of);
    free(m->group);
    rs_embedding_free(m->emb);
    free(m);
}

/* The unit-square coordinates of a projection: its bounding box scaled by its longer
 * side, the shorter side centred. */
static float *unit_square(const rs_proj *p)
{
    float *xy = malloc(2 * (size_t)(p->rows > 0 ? p->rows : 1) * sizeof *xy);
    if (!xy)
        return NULL;
    float lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (int32_t i = 0; i < p->rows; i++)
        for (int c = 0; c < 2; c++) {
            float v = p->xy[2 * (size_t)i + c];
            if (v < lo[c])
                lo[c] = v;
            if (v > hi[c])
                hi[c] = v;
        }
    float span = hi[0] - lo[0] > hi[1] - lo[1] ? hi[0] - lo[0] : hi[1] - lo[1];
    for (int c = 0; c < 2; c++) {
        float off = span > 0 ? (span - (hi[c] - lo[c])) / 2 : 0.5f;
        for (int32_t i = 0; i < p->rows; i++) {
            float v = p->xy[2 * (size_t)i + c];
            xy[2 * (size_t)i + c] = span > 0 ? (v - lo[c] + off) / span : off;
        }
    }
    return xy;
}

/* parent[c] for every category index (-1: none), from the catalogue. */
static int read_parents(rs_store *s, int32_t nc, int32_t **out, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int32_t *parent = malloc(((size_t)nc + 1) * sizeof *parent);
    if (!parent)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    for (int32_t i = 0; i < nc; i++)
        parent[i] = -1;
    if (sqlite3_prepare_v2(rs_store_db(s), "SELECT id, parent_id FROM categories", -1, &st,
                           NULL) != SQLITE_OK) {
        free(parent);
        return rs_store_sqlerr(s, e, "categories");
    }
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), par = sqlite3_column_int64(st, 1);
        if (id >= 1 && id <= nc && par >= 1 && par <= nc && par != id)
            parent[id - 1] = (int32_t)(par - 1);
    }
    int rc = step == SQLITE_DONE ? RS_OK : rs_store_sqlerr(s, e, "categories");
    sqlite3_finalize(st);
    if (rc != RS_OK) {
        free(parent);
        return rc;
    }
    *out = parent;
    return RS_OK;
}

static int32_t root_of(const int32_t *parent, int32_t c)
{
    for (int i = 0; i < 32 && c >= 0 && parent[c] >= 0; i++)
        c = parent[c];
    return c;
}

/* The category (or, with roots, the department) of each point: key[i], -1 none. */
static void point_keys(const rs_map *m, const rs_recommender *r, const int32_t *parent,
                       int roots, int32_t *key)
{
    for (int32_t i = 0; i < m->n; i++) {
        int32_t c = -1;
        if (m->kind == RS_MAP_CATEGORIES) {
            c = m->item[i];
        } else {
            rs_rec_product info;
            if (rs_rec_product_info(r, m->item[i], &info, NULL) == RS_OK)
                c = info.category_index;
        }
        key[i] = roots && c >= 0 ? root_of(parent, c) : c;
    }
}

static int distinct(const int32_t *key, int32_t n, int32_t nc, uint8_t *seen)
{
    int d = 0;
    memset(seen, 0, (size_t)nc + 1);
    for (int32_t i = 0; i < n; i++)
        if (key[i] >= 0 && key[i] < nc && !seen[key[i]]) {
            seen[key[i]] = 1;
            d++;
        }
    return d;
}

typedef struct gsort {
    int32_t key, points;
    const char *name;
} gsort;

static int cmp_group(const void *x, const void *y)
{
    const gsort *a = x, *b = y;
    if (a->points != b->points)
        return a->points > b->points ? -1 : 1;
    int c = strcmp(a->name, b->name);
    return c ? c : (a->key > b->key) - (a->key < b->key);
}

/* Groups from keys 0..nk-1 (names[key]), ordered by points; m->group[i] their rank. */
static int groups_from_keys(rs_map *m, const int32_t *key, int32_t nk,
                            const char *const *names, rs_error *e)
{
    gsort *g = calloc((size_t)nk + 1, sizeof *g);
    int32_t *rank = malloc(((size_t)nk + 1) * sizeof *rank);
    int rc = RS_OK;
    if (!g || !rank) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    for (int32_t k = 0; k < nk; k++)
        g[k] = (gsort){k, 0, names[k] ? names[k] : ""};
    for (int32_t i = 0; i < m->n; i++)
        if (key[i] >= 0 && key[i] < nk)
            g[key[i]].points++;
    qsort(g, (size_t)nk, sizeof *g, cmp_group);
    int used = 0;
    while (used < nk && g[used].points > 0)
        used++;
    if (!(m->groups = calloc((size_t)used + 1, sizeof *m->groups))) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    for (int32_t k = 0; k < nk; k++)
        rank[k] = -1;
    for (int j = 0; j < used; j++) {
        rank[g[j].key] = j;
        m->groups[j].points = g[j].points;
        if (!(m->groups[j].name = strdup(g[j].name))) {
            m->n_groups = j;
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
    }
    m->n_groups = used;
    for (int32_t i = 0; i < m->n; i++)
        m->group[i] = key[i] >= 0 && key[i] < nk ? rank[key[i]] : -1;
done:
    free(g);
    free(rank);
    return rc;
}

/* Derived groups: at most MAX_CLUSTERS clusters of the vectors, named by their words. */
static int cluster_groups(rs_map *m, const rs_recommender *r, int32_t *key, rs_error *e)
{
    int k = m->n / 2 < MAX_CLUSTERS ? m->n / 2 : MAX_CLUSTERS;
    if (k < 2 || !m->emb)
        return RS_OK; /* too few points to group */
    rs_clusters *c = NULL;
    const char **names = calloc((size_t)m->emb->n_items + 1, sizeof *names);
    if (!names)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    for (int32_t i = 0; i < m->n; i++) {
        rs_rec_product info;
        if (m->kind == RS_MAP_PRODUCTS &&
            rs_rec_product_info(r, m->item[i], &info, NULL) == RS_OK)
            names[m->item[i]] = info.name;
        else if (m->kind == RS_MAP_CATEGORIES)
            names[m->item[i]] = rs_rec_category_name(r, m->item[i]);
    }
    int rc = rs_kmeans(m->emb, k, NULL, &c, e);
    if (rc == RS_OK)
        rc = rs_clusters_name(c, m->emb, names, e);
    if (rc == RS_OK) {
        for (int32_t i = 0; i < m->n; i++)
            key[i] = c->assign[i];
        rc = groups_from_keys(m, key, k, (const char *const *)c->name, e);
        m->grouping = RS_MAP_BY_CLUSTER;
    }
    rs_clusters_free(c);
    free(names);
    return rc;
}

/* Chooses the grouping (see map.h) and fills the groups. */
static int make_groups(rs_map *m, rs_store *s, const rs_recommender *r, rs_error *e)
{
    int32_t nc = rs_rec_n_categories(r);
    int32_t *parent = NULL, *key = malloc(((size_t)m->n + 1) * sizeof *key);
    uint8_t *seen = malloc((size_t)nc + 1);
    const char **names = calloc((size_t)nc + 1, sizeof *names);
    int rc = RS_OK;
    if (!key || !seen || !names) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    for (int32_t i = 0; i < m->n; i++)
        m->group[i] = -1;
    if ((rc = read_parents(s, nc, &parent, e)) != RS_OK)
        goto done;
    for (int32_t c = 0; c < nc; c++)
        names[c] = rs_rec_category_name(r, c);
    point_keys(m, r, parent, 1, key);
    if (distinct(key, m->n, nc, seen) >= 2) {
        m->grouping = RS_MAP_BY_DEPARTMENT;
        rc = groups_from_keys(m, key, nc, names, e);
        goto done;
    }
    point_keys(m, r, parent, 0, key);
    int dc = distinct(key, m->n, nc, seen);
    if (m->kind == RS_MAP_PRODUCTS && dc >= 2 && dc <= m->n / 2) {
        m->grouping = RS_MAP_BY_CATEGORY;
        rc = groups_from_keys(m, key, nc, names, e);
        goto done;
    }
    rc = cluster_groups(m, r, key, e);
done:
    free(parent);
    free(key);
    free(seen);
    free(names);
    return rc;
}

/* The projections from the cache, else computed (the PCA) or left to fit (layout). */
static int load_projections(rs_map *m, rs_error *e)
{
    rs_error ce = {0};
    int stale = 0;
    if (rs_proj_cache_path(m->model_file, m->cache_file, sizeof m->cache_file) != 0)
        m->cache_file[0] = 0;
    else if (rs_proj_cache_read(m->cache_file, m->n, m->dim, m->fingerprint, m->raw,
                                m->pca_var, &stale, &ce) != RS_OK) {
        snprintf(m->note, sizeof m->note, "%.500s; computing the map again", ce.msg);
        m->note_error = 1;
    } else if (stale) {
        snprintf(m->note, sizeof m->note, "the map cached beside the model is of another "
                 "model or version: computing it again");
    }
    if (!m->raw[RS_PROJ_PCA]) {
        rs_proj_free(m->raw[RS_PROJ_LAYOUT]); /* a layout is only kept with its PCA */
        m->raw[RS_PROJ_LAYOUT] = NULL;
        int rc = rs_proj_pca(m->emb, &m->raw[RS_PROJ_PCA], m->pca_var, e);
        if (rc != RS_OK)
            return rc;
    }
    for (int i = 0; i < RS_PROJ_NMETHODS; i++)
        if (m->raw[i] && !(m->xy[i] = unit_square(m->raw[i])))
            return rs_seterr(e, RS_EINTERNAL, "out of memory");
    return RS_OK;
}

int rs_map_open(rs_store *s, const rs_recommender *r, rs_map_kind kind, rs_map **out,
                rs_error *e)
{
    *out = NULL;
    rs_map *m = calloc(1, sizeof *m);
    if (!m)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    m->kind = kind;
    m->city_id = rs_rec_city(r);
    const char *kname = kind == RS_MAP_CATEGORIES ? RS_KIND_CATEGORY : RS_KIND_PRODUCT;
    int64_t used = 0;
    int rc = rs_registry_load_active(s, m->city_id, kname, "all", &m->emb, &used, &m->model, e);
    if (rc != RS_OK)
        goto fail;
    if (rs_registry_resolve(s, m->model.path, m->model_file, sizeof m->model_file) != 0) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: model path too long", m->model.path);
        goto fail;
    }
    m->n = m->emb->rows;
    m->dim = m->emb->dim;
    m->n_items = m->emb->n_items;
    m->item = malloc(((size_t)m->n + 1) * sizeof *m->item);
    m->group = malloc(((size_t)m->n + 1) * sizeof *m->group);
    m->point_of = malloc(((size_t)m->n_items + 1) * sizeof *m->point_of);
    if (!m->item || !m->group || !m->point_of) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto fail;
    }
    int32_t limit = kind == RS_MAP_CATEGORIES ? rs_rec_n_categories(r) : rs_rec_n_products(r);
    for (int32_t i = 0; i < m->n_items; i++)
        m->point_of[i] = -1;
    for (int32_t i = 0; i < m->n; i++) {
        int32_t it = m->emb->row_item[i];
        m->item[i] = it >= 0 && it < limit ? it : -1;
        if (it >= 0 && it < m->n_items)
            m->point_of[it] = i;
    }
    m->fingerprint = rs_proj_fingerprint(m->emb);
    if ((rc = load_projections(m, e)) != RS_OK || (rc = make_groups(m, s, r, e)) != RS_OK)
        goto fail;
    if (m->raw[RS_PROJ_LAYOUT]) {
        rs_embedding_free(m->emb); /* nothing left to fit */
        m->emb = NULL;
    }
    *out = m;
    return RS_OK;
fail:
    rs_map_close(m);
    return rc;
}

int rs_map_fit_layout(const rs_map *m, const rs_layout_opts *o, rs_proj **out,
                      rs_error *cache_e, rs_error *e)
{
    *out = NULL;
    if (cache_e)
        cache_e->code = RS_OK;
    if (!m->emb)
        return rs_seterr(e, RS_EUSAGE, "the map's layout is already known");
    rs_proj *p = NULL;
    int rc = rs_proj_layout(m->emb, o, m->raw[RS_PROJ_PCA], &p, e);
    if (rc != RS_OK)
        return rc;
    if (m->cache_file[0]) {
        rs_proj *both[RS_PROJ_NMETHODS] = {m->raw[RS_PROJ_PCA], p};
        rs_error we = {0};
        if (rs_proj_cache_write(m->cache_file, m->n, m->dim, m->fingerprint, both, m->pca_var,
                                &we) != RS_OK && cache_e)
            rs_seterr(cache_e, we.code, "the map is not cached: %s", we.msg);
    }
    *out = p;
    return RS_OK;
}

void rs_map_adopt_layout(rs_map *m, rs_proj *layout)
{
    float *xy = layout ? unit_square(layout) : NULL;
    if (!xy) {
        rs_proj_free(layout);
        return;
    }
    rs_proj_free(m->raw[RS_PROJ_LAYOUT]);
    free(m->xy[RS_PROJ_LAYOUT]);
    m->raw[RS_PROJ_LAYOUT] = layout;
    m->xy[RS_PROJ_LAYOUT] = xy;
    rs_embedding_free(m->emb);
    m->emb = NULL;
}

int32_t rs_map_nearest(const rs_map *m, rs_proj_method method, float x, float y)
{
    const float *xy = m->xy[method];
    if (!xy)
        return -1;
    int32_t best = -1;
    float bd = INFINITY;
    for (int32_t i = 0; i < m->n; i++) {
        if (m->item[i] < 0)
            continue;
        float dx = xy[2 * (size_t)i] - x, dy = xy[2 * (size_t)i + 1] - y;
        float d = dx * dx + dy * dy;
        if (d < bd) {
            bd = d;
            best = i;
        }
    }
    return best;
}
