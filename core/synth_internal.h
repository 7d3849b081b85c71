/* synth_internal.h - the pieces of the synthetic world shared by synth*.c (see synth.h
 * for the model): word lists, the world's types, the random-number helpers. */
#ifndef RS_SYNTH_INTERNAL_H
#define RS_SYNTH_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "rng.h"
#include "synth.h"

#ifndef RS_ASSETS_DIR
#define RS_ASSETS_DIR "assets"
#endif
#define MAX_COMP_CATS 4   /* complementary categories of one category (1..3, 4 in repair) */
#define MAX_COMPANIONS 4  /* companion needs of one need (2..4) */
#define MAX_GROUP 6       /* members of a substitute group (2..6) */
#define ID_STRIDE 16      /* room for one product id ("P" + up to 14 digits + NUL) */

/* ---------------------------------------------------------------------------------
 * Random numbers: xoshiro256** (core/rng.h).  One generator per purpose (catalogue,
 * receipts, timestamps, customers), so that e.g. the receipt count does not change the catalogue.
 */
typedef rs_rng rng_t;

enum { STREAM_WORLD = 1, STREAM_RECEIPTS = 2, STREAM_TIMES = 3, STREAM_CUSTOMERS = 4 };

static inline void rng_init(rng_t *r, uint64_t seed, uint64_t stream) { rs_rng_seed(r, seed, stream, 0); }
static inline double rng_unif(rng_t *r) { return rs_rng_starstar_unif(r); }
static inline uint64_t rng_below(rng_t *r, uint64_t n) { return rs_rng_starstar_below(r, n); }

/* Poisson by multiplication of uniforms (Knuth); lambda is small here (<= 30). */
static inline int rng_poisson(rng_t *r, double lambda)
{
    double limit = exp(-lambda), p = 1.0;
    int k = 0;
    do {
        k++;
        p *= rng_unif(r);
    } while (p > limit);
    return k - 1;
}

static inline double rng_normal(rng_t *r)
{
    double u = rng_unif(r), v = rng_unif(r);
    return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

static inline void shuffle_int(rng_t *r, int *a, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(r, (uint64_t)i + 1);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* Index i with cum[i-1] <= u < cum[i] (cum ascending, u < cum[n-1]). */
static inline int cum_search(const double *cum, int n, double u)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (cum[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}


typedef struct {
    char **v;
    int n, cap;
} strlist;

typedef struct {
    char *key;
    strlist items;
} keyed;

typedef struct {
    keyed *v;
    int n, cap;
} keyedlist;

typedef struct {
    char *name;
    const strlist *quals, *descs, *sizes;
    strlist bases;              /* base category names */
    const strlist **base_sizes; /* [bases.n] size list of each base */
} asset_dept;

typedef struct {
    strlist cities, brands;
    keyedlist quals, descs, sizes, cats;
    asset_dept *dept;
    int ndept;
} assets_t;

typedef enum { LIST_PLAIN, LIST_KEYED, LIST_DEPTS } list_kind;
typedef struct {
    const char **slot;
    size_t mask, n;
} nameset;

typedef struct {
    int dept;
    char *name;                 /* owned */
    const char *qualifier;      /* NULL for a base category */
    const strlist *descs, *sizes;
    double weight;              /* Zipf popularity */
    int prod0, nprod;           /* products prod0 .. prod0+nprod-1 */
    int need0, nneed;           /* needs need0 .. need0+nneed-1 */
    int comp[MAX_COMP_CATS];    /* complementary categories */
    int ncomp;
    double price;               /* base price in cents */
} cat_t;

typedef struct {
    int cat;
    int m0, nm;                 /* members: w->members[m0 .. m0+nm) */
    int comp[MAX_COMPANIONS];   /* companion needs */
    int ncomp;
    int local;                  /* city of a local product, -1 for none */
    double share;               /* popularity share inside the category */
    double cum;                 /* cumulative share inside the category */
} need_t;

typedef struct {
    char *name;                 /* owned */
    int cat, need, brand;
    int price;                  /* cents */
} prod_t;

typedef rs_alias_entry alias_t; /* core/rng.h */

#define MAX_TASTES 4  /* favourite categories of a customer (2..4) */
#define MAX_STAPLES 5 /* products a customer buys again and again (2..5) */

/* A customer of one city (synth_customers.c): the planted personal structure. */
typedef struct {
    int city;
    int ntaste, taste[MAX_TASTES]; /* favourite categories */
    int brand;                     /* favourite brand (index into as.brands) */
    int nstaple, staple[MAX_STAPLES];
    int interval[MAX_STAPLES];     /* days between purchases of each staple */
    uint32_t due[MAX_STAPLES];     /* when each staple is next bought (seconds) */
    int64_t receipts;              /* receipts written for the customer */
} cust_t;

typedef struct {
    const rs_synth_params *p;
    assets_t as;
    int ncity, ndept, ncat, nprod, nneed;
    const char **city;          /* names (in as.cities) */
    double *city_cum;           /* [ncity] cumulative receipt share */
    int *dept;                  /* [ndept] index into as.dept */
    cat_t *cat;
    double *cat_cum;            /* [ncat] cumulative popularity */
    prod_t *prod;
    need_t *need;
    int *members;               /* [nprod] product of each member slot */
    double *member_cum;         /* [nprod] cumulative share inside the need */
    int *pairs;                 /* complementary pairs, 2 per pair */
    int npairs;
    double *taste;              /* [ncity * ncat] popularity multiplier */
    alias_t *need_alias;        /* [ncity * nneed] city popularity of the needs */
    char *pid;                  /* [nprod * ID_STRIDE] product ids, all pidlen long */
    int pidlen;
    double *brand_factor;       /* [brands] price factor */
    nameset names;
    cust_t *cust;               /* customers, city by city */
    int64_t *cust0;             /* [ncity + 1] first customer of each city */
    int cust_cw, cust_w;        /* widths of the two numbers of a customer id */
} world_t;

#define PID(w, i) ((w)->pid + (size_t)(i) * ID_STRIDE)
#define OOM() rs_seterr(e, RS_EINTERNAL, "out of memory")
typedef struct {
    FILE *f;
    char *buf;
    size_t len, cap;
    int err;
} wbuf;

typedef struct {
    const char *name;
    char tmp[4200], final[4200];
    int written;
} outfile;

#define START_Y 2025
#define START_M 3
#define START_D 3 /* a Monday */
#define ADD(parent, key, item)                                                                 \
    do {                                                                                       \
        cJSON *_it = (item);                                                                   \
        if (!_it || !(key ? cJSON_AddItemToObject(parent, key, _it)                             \
                          : cJSON_AddItemToArray(parent, _it))) {                              \
            cJSON_Delete(_it);                                                                 \
            ok = 0;                                                                            \
        }                                                                                      \
    } while (0)

int sy_alias_draw(const alias_t *t, int n, rng_t *r);
int sy_assets_load(const char *dir, assets_t *a, rs_error *e);
int sy_build_categories(world_t *w, rng_t *r, rs_error *e);
int sy_build_cities(world_t *w, rng_t *r, rs_error *e);
int sy_build_city_tables(world_t *w, rs_error *e);
int sy_build_complements(world_t *w, rng_t *r, rs_error *e);
int sy_build_needs(world_t *w, rng_t *r, rs_error *e);
int sy_cmp_pair(const void *x, const void *y);
int sy_has(const int *v, int n, int x);
int sy_mkdir_p(const char *dir, rs_error *e);
int sy_ns_add(nameset *s, const char *name);
int sy_ns_init(nameset *s, size_t expect);
int sy_write_catalogue(world_t *w, outfile *po, outfile *co, rs_error *e, const char *dir);
int sy_write_receipts(world_t *w, outfile *o, const char *dir, rs_synth_summary *sum,
                      rs_error *e);
int sy_write_truth(world_t *w, outfile *o, const char *dir, int64_t lines, rs_error *e);
void *sy_xcalloc(size_t n, size_t size);
int sy_build_customers(world_t *w, rs_error *e);
void sy_customer_id(const world_t *w, int64_t k, char *buf, size_t n);
int64_t sy_draw_customer(const world_t *w, rng_t *r, int city);
int sy_draw_basket(world_t *w, rng_t *r, int city, cust_t *k, uint32_t t, int size, int *rneed,
                   int *rprod);
int sy_pick_member(const world_t *w, rng_t *r, const need_t *nd);
void sy_assets_free(assets_t *a);
void sy_build_companions(world_t *w, rng_t *r);
void sy_ns_free(nameset *s);
void sy_world_free(world_t *w);

#endif
