/* map.h - the map of a city's model: what the TUI's map view and `recoscope map` draw.
 *
 * A map holds one point per row of the city's active product model (or category
 * model; the all-cities model when the city has none, as the recommender does), its
 * two projections (projection.h) scaled into the unit square with the aspect kept,
 * and a group per point that the drawings tell apart by glyph and colour:
 *   departments  the top-level category of each product's category (the catalogue's
 *                own tree), when the points span two departments or more;
 *   categories   the product's category, when there is one department but several
 *                categories (no more than half as many as points);
 *   clusters     otherwise - one category for all (Online Retail), or every product
 *                its own (one-basket-per-line files): spherical k-means of the vectors
 *                (clusters.h) into at most 12 clusters named by their words, marked
 *                as derived.
 * For a category map the points are categories and the groups their departments.
 *
 * Opening reads the model, its fingerprint and the cache beside it: the PCA is taken
 * from the cache or computed (milliseconds); the layout is taken from the cache, else
 * left to rs_map_fit_layout (seconds, meant for a background thread) and
 * rs_map_adopt_layout.  A broken cache is not an error of the map: its message is
 * kept in `note` (note_error set) and the projections are computed again.
 */
#ifndef RS_MAP_H
#define RS_MAP_H

#include <stdint.h>

#include "error.h"
#include "model.h"
#include "projection.h"
#include "recommend.h"
#include "store.h"

typedef enum { RS_MAP_PRODUCTS = 0, RS_MAP_CATEGORIES = 1 } rs_map_kind;

/* "products", "categories". */
const char *rs_map_kind_name(rs_map_kind k);
/* "product(s)" / "category" / "categories"; RS_EUSAGE otherwise. */
int rs_map_kind_parse(const char *s, rs_map_kind *out, rs_error *e);

typedef enum {
    RS_MAP_BY_NONE = 0,     /* one group of everything */
    RS_MAP_BY_DEPARTMENT,
    RS_MAP_BY_CATEGORY,
    RS_MAP_BY_CLUSTER,      /* derived: k-means of the vectors */
} rs_map_grouping;

/* "none", "departments", "categories", "clusters (derived)". */
const char *rs_map_grouping_name(rs_map_grouping g);

typedef struct rs_map_group {
    char *name;     /* the department's / category's name, or the cluster's words */
    int32_t points; /* points of the group */
} rs_map_group;

typedef struct rs_map {
    rs_map_kind kind;
    int64_t city_id;          /* the city asked for */
    rs_model_info model;      /* the model drawn (model.city_id 0: all cities') */
    char model_file[4096];    /* its file, resolved */
    char cache_file[4200];    /* "<model_file>.map" */
    int32_t n;                /* points: the model's rows */
    int32_t n_items;          /* the index space: products (or categories) */
    int32_t *item;            /* [n] product (category) index of each point */
    int32_t *point_of;        /* [n_items] point of each item, -1 when not in the model */
    int32_t *group;           /* [n] group of each point, -1 none */
    rs_map_group *groups;     /* [n_groups], most points first (ties by name) */
    int n_groups;
    rs_map_grouping grouping;
    float *xy[RS_PROJ_NMETHODS];  /* [2n] coordinates in [0, 1]^2 (y grows downwards
                                     in drawings: callers flip); NULL: not known yet */
    rs_proj *raw[RS_PROJ_NMETHODS]; /* as computed or cached */
    float pca_var[2];         /* shares of the variance of the PCA's axes */
    uint64_t fingerprint;
    int32_t dim;
    rs_embedding *emb;        /* the model, kept while the layout is still to fit */
    char note[600];           /* what happened to the cache ("" when nothing to say) */
    int note_error;           /* note reports a broken or unwritable cache */
} rs_map;

/* Opens the map of r's city (rs_rec_city) for kind: RS_EUSAGE when no model of that
 * kind is trained (for the city nor for all cities), the loader's error for a broken
 * model file. */
int rs_map_open(rs_store *s, const rs_recommender *r, rs_map_kind kind, rs_map **out,
                rs_error *e);
void rs_map_close(rs_map *m);

/* Fits the layout of m (which must still hold its model: m->emb) and writes the cache
 * with both projections.  Reads only m->emb and m->raw[RS_PROJ_PCA], so a background
 * thread may run it while the map is drawn.  A cache that cannot be written is not a
 * failure: *out is set and the message goes to cache_e (cache_e->code set). */
int rs_map_fit_layout(const rs_map *m, const rs_layout_opts *o, rs_proj **out,
                      rs_error *cache_e, rs_error *e);
/* Installs a fitted layout (taking it) and lets go of the model. */
void rs_map_adopt_layout(rs_map *m, rs_proj *layout);

/* The point nearest to (x, y) in method's coordinates (unit square), or -1. */
int32_t rs_map_nearest(const rs_map *m, rs_proj_method method, float x, float y);

#endif
