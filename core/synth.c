/* synth.c - the synthetic retail world; see synth.h for the model.
 *
 * Layout of this file: random numbers, word lists (assets), the world (catalogue,
 * needs, planted structure), the output writers (CSV, truth.json), and
 * rs_synth_run() which ties them together.
 */
#include "synth.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "rng.h"
#include "timeutil.h"

#ifndef RS_ASSETS_DIR
#define RS_ASSETS_DIR "assets"
#endif

#define MAX_COMP_CATS 4   /* complementary categories of one category (1..3, 4 in repair) */
#define MAX_COMPANIONS 4  /* companion needs of one need (2..4) */
#define MAX_GROUP 6       /* members of a substitute group (2..6) */
#define ID_STRIDE 16      /* room for one product id ("P" + up to 14 digits + NUL) */

/* ---------------------------------------------------------------------------------
 * Random numbers: xoshiro256** (core/rng.h).  One generator per purpose (catalogue,
 * receipts, timestamps), so that e.g. the receipt count does not change the catalogue.
 */
typedef rs_rng rng_t;

enum { STREAM_WORLD = 1, STREAM_RECEIPTS = 2, STREAM_TIMES = 3 };

static void rng_init(rng_t *r, uint64_t seed, uint64_t stream) { rs_rng_seed(r, seed, stream, 0); }
static inline double rng_unif(rng_t *r) { return rs_rng_starstar_unif(r); }
static inline uint64_t rng_below(rng_t *r, uint64_t n) { return rs_rng_starstar_below(r, n); }

/* Poisson by multiplication of uniforms (Knuth); lambda is small here (<= 30). */
static int rng_poisson(rng_t *r, double lambda)
{
    double limit = exp(-lambda), p = 1.0;
    int k = 0;
    do {
        k++;
        p *= rng_unif(r);
    } while (p > limit);
    return k - 1;
}

static double rng_normal(rng_t *r)
{
    double u = rng_unif(r), v = rng_unif(r);
    return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

static void shuffle_int(rng_t *r, int *a, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(r, (uint64_t)i + 1);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* Index i with cum[i-1] <= u < cum[i] (cum ascending, u < cum[n-1]). */
static int cum_search(const double *cum, int n, double u)
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

/* ---------------------------------------------------------------------------------
 * Word lists.
 */
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

static int sl_push(strlist *l, const char *s, size_t len)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    char *c = strndup(s, len);
    if (!c)
        return -1;
    l->v[l->n++] = c;
    return 0;
}

static void sl_free(strlist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static const strlist *kl_find(const keyedlist *kl, const char *key)
{
    for (int i = 0; i < kl->n; i++)
        if (strcmp(kl->v[i].key, key) == 0)
            return &kl->v[i].items;
    return NULL;
}

static strlist *kl_get(keyedlist *kl, const char *key, size_t len)
{
    for (int i = 0; i < kl->n; i++)
        if (strlen(kl->v[i].key) == len && memcmp(kl->v[i].key, key, len) == 0)
            return &kl->v[i].items;
    if (kl->n == kl->cap) {
        int cap = kl->cap ? kl->cap * 2 : 16;
        keyed *v = realloc(kl->v, (size_t)cap * sizeof *v);
        if (!v)
            return NULL;
        kl->v = v;
        kl->cap = cap;
    }
    keyed *k = &kl->v[kl->n];
    memset(k, 0, sizeof *k);
    k->key = strndup(key, len);
    if (!k->key)
        return NULL;
    kl->n++;
    return &k->items;
}

static void kl_free(keyedlist *kl)
{
    for (int i = 0; i < kl->n; i++) {
        free(kl->v[i].key);
        sl_free(&kl->v[i].items);
    }
    free(kl->v);
    memset(kl, 0, sizeof *kl);
}

static void assets_free(assets_t *a)
{
    sl_free(&a->cities);
    sl_free(&a->brands);
    kl_free(&a->quals);
    kl_free(&a->descs);
    kl_free(&a->sizes);
    kl_free(&a->cats);
    for (int i = 0; i < a->ndept; i++) {
        free(a->dept[i].name);
        sl_free(&a->dept[i].bases);
        free(a->dept[i].base_sizes);
    }
    free(a->dept);
    memset(a, 0, sizeof *a);
}

static void trim(const char **s, const char **end)
{
    while (*s < *end && (**s == ' ' || **s == '\t' || **s == '\r'))
        (*s)++;
    while (*end > *s && ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r'))
        (*end)--;
}

static int read_whole(const char *path, char **out, rs_error *e)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return rs_seterr(e, RS_EDATA, "%s: cannot open word list: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    int rc = RS_OK;
    if (!buf) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    for (;;) {
        if (len + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                goto done;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        rc = rs_seterr(e, RS_EDATA, "%s: read error", path);
        goto done;
    }
    buf[len] = '\0';
    *out = buf;
    buf = NULL;
done:
    free(buf);
    fclose(f);
    return rc;
}

typedef enum { LIST_PLAIN, LIST_KEYED, LIST_DEPTS } list_kind;

/* Parses one word list file.  PLAIN: one item a line -> plain.  KEYED: "key: a, b"
 * -> keyed.  DEPTS: "Name | class | sizes" -> plain gets "Name", keyed gets
 * {Name: [class, sizes]}. */
static int load_list(const char *dir, const char *file, list_kind kind, strlist *plain,
                     keyedlist *kl, rs_error *e)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/names/%s", dir, file) >= sizeof path)
        return rs_seterr(e, RS_EUSAGE, "assets directory path too long: %s", dir);
    char *text = NULL;
    int rc = read_whole(path, &text, e);
    if (rc)
        return rc;
    int lineno = 0;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        const char *s = line, *end = nl ? nl : line + strlen(line);
        line = nl ? nl + 1 : (char *)end;
        lineno++;
        trim(&s, &end);
        if (s == end || *s == '#')
            continue;
        if (kind == LIST_PLAIN) {
            if (sl_push(plain, s, (size_t)(end - s))) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                goto done;
            }
            continue;
        }
        if (kind == LIST_DEPTS) {
            const char *p1 = memchr(s, '|', (size_t)(end - s));
            const char *p2 = p1 ? memchr(p1 + 1, '|', (size_t)(end - p1 - 1)) : NULL;
            if (!p2) {
                rc = rs_seterr(e, RS_EDATA, "%s:%d: expected 'Name | class | sizes'", path,
                               lineno);
                goto done;
            }
            const char *a = s, *ae = p1, *b = p1 + 1, *be = p2, *c = p2 + 1, *ce = end;
            trim(&a, &ae);
            trim(&b, &be);
            trim(&c, &ce);
            strlist *it = NULL;
            if (a == ae || b == be || c == ce) {
                rc = rs_seterr(e, RS_EDATA, "%s:%d: empty field", path, lineno);
                goto done;
            }
            if (sl_push(plain, a, (size_t)(ae - a)) || !(it = kl_get(kl, a, (size_t)(ae - a))) ||
                sl_push(it, b, (size_t)(be - b)) || sl_push(it, c, (size_t)(ce - c))) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                goto done;
            }
            continue;
        }
        const char *colon = memchr(s, ':', (size_t)(end - s));
        if (!colon) {
            rc = rs_seterr(e, RS_EDATA, "%s:%d: expected 'key: item, item, ...'", path, lineno);
            goto done;
        }
        const char *k = s, *ke = colon;
        trim(&k, &ke);
        strlist *items = kl_get(kl, k, (size_t)(ke - k));
        if (!items) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
        for (const char *p = colon + 1; p < end;) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *is = p, *ie = comma ? comma : end;
            p = comma ? comma + 1 : end;
            trim(&is, &ie);
            if (is == ie)
                continue;
            if (sl_push(items, is, (size_t)(ie - is))) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                goto done;
            }
        }
    }
    if ((kind == LIST_KEYED && kl->n == 0) || (kind != LIST_KEYED && plain->n == 0))
        rc = rs_seterr(e, RS_EDATA, "%s: empty word list", path);
done:
    free(text);
    return rc;
}

static int assets_load(const char *dir, assets_t *a, rs_error *e)
{
    memset(a, 0, sizeof *a);
    strlist dept_names = {0};
    keyedlist dept_info = {0};
    int rc;
    if ((rc = load_list(dir, "cities.txt", LIST_PLAIN, &a->cities, NULL, e)) ||
        (rc = load_list(dir, "brands.txt", LIST_PLAIN, &a->brands, NULL, e)) ||
        (rc = load_list(dir, "qualifiers.txt", LIST_KEYED, NULL, &a->quals, e)) ||
        (rc = load_list(dir, "descriptors.txt", LIST_KEYED, NULL, &a->descs, e)) ||
        (rc = load_list(dir, "sizes.txt", LIST_KEYED, NULL, &a->sizes, e)) ||
        (rc = load_list(dir, "categories.txt", LIST_KEYED, NULL, &a->cats, e)) ||
        (rc = load_list(dir, "departments.txt", LIST_DEPTS, &dept_names, &dept_info, e)))
        goto done;
    a->dept = calloc((size_t)dept_names.n, sizeof *a->dept);
    if (!a->dept) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    for (int i = 0; i < dept_names.n; i++) {
        asset_dept *d = &a->dept[a->ndept];
        const char *name = dept_names.v[i];
        const strlist *info = kl_find(&dept_info, name);
        if (info->n != 2) {
            rc = rs_seterr(e, RS_EDATA, "%s/names/departments.txt: department '%s' listed twice",
                           dir, name);
            goto done;
        }
        d->name = strdup(name);
        if (!d->name) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
        a->ndept++;
        d->quals = kl_find(&a->quals, info->v[0]);
        d->descs = kl_find(&a->descs, info->v[0]);
        d->sizes = kl_find(&a->sizes, info->v[1]);
        const strlist *bases = kl_find(&a->cats, name);
        if (!d->quals || !d->descs || !d->sizes || !bases || !d->descs->n || !d->sizes->n ||
            !bases->n) {
            rc = rs_seterr(e, RS_EDATA,
                           "%s/names: department '%s' needs class '%s' in qualifiers.txt and "
                           "descriptors.txt, sizes '%s' in sizes.txt and a line in "
                           "categories.txt",
                           dir, name, info->v[0], info->v[1]);
            goto done;
        }
        d->base_sizes = calloc((size_t)bases->n, sizeof *d->base_sizes);
        if (!d->base_sizes) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
        for (int j = 0; j < bases->n; j++) {
            /* "Name [sizes]" overrides the department's size list */
            const char *s = bases->v[j], *end = s + strlen(s);
            const strlist *sz = d->sizes;
            const char *br = strchr(s, '[');
            if (br && end[-1] == ']') {
                char key[128];
                const char *k = br + 1, *ke = end - 1;
                trim(&k, &ke);
                if ((size_t)(ke - k) >= sizeof key || !(sz = kl_get(&a->sizes, k, (size_t)(ke - k))) ||
                    sz->n == 0) {
                    snprintf(key, sizeof key, "%.*s", (int)(ke - k), k);
                    rc = rs_seterr(e, RS_EDATA, "%s/names/categories.txt: unknown size list '%s'",
                                   dir, key);
                    goto done;
                }
                end = br;
            }
            trim(&s, &end);
            if (sl_push(&d->bases, s, (size_t)(end - s))) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                goto done;
            }
            d->base_sizes[j] = sz;
        }
    }
    if (a->brands.n < 2) {
        rc = rs_seterr(e, RS_EDATA, "%s/names/brands.txt: need at least 2 brands", dir);
        goto done;
    }
    rc = RS_OK;
done:
    sl_free(&dept_names);
    kl_free(&dept_info);
    if (rc)
        assets_free(a);
    return rc;
}

/* ---------------------------------------------------------------------------------
 * A set of strings (not owned), for unique category and product names.
 */
typedef struct {
    const char **slot;
    size_t mask, n;
} nameset;

static int ns_init(nameset *s, size_t expect)
{
    size_t cap = 64;
    while (cap < expect * 2 + 16)
        cap *= 2;
    s->slot = calloc(cap, sizeof *s->slot);
    s->mask = cap - 1;
    s->n = 0;
    return s->slot ? 0 : -1;
}

/* 1 when added, 0 when already present, -1 when out of memory. */
static int ns_add(nameset *s, const char *name)
{
    if ((s->n + 1) * 2 > s->mask + 1) {
        size_t cap = (s->mask + 1) * 2;
        const char **ns = calloc(cap, sizeof *ns);
        if (!ns)
            return -1;
        for (size_t i = 0; i <= s->mask; i++) {
            if (!s->slot[i])
                continue;
            size_t h = rs_fnv1a64(RS_FNV64_INIT, s->slot[i], strlen(s->slot[i])) & (cap - 1);
            while (ns[h])
                h = (h + 1) & (cap - 1);
            ns[h] = s->slot[i];
        }
        free(s->slot);
        s->slot = ns;
        s->mask = cap - 1;
    }
    size_t h = rs_fnv1a64(RS_FNV64_INIT, name, strlen(name)) & s->mask;
    while (s->slot[h]) {
        if (strcmp(s->slot[h], name) == 0)
            return 0;
        h = (h + 1) & s->mask;
    }
    s->slot[h] = name;
    s->n++;
    return 1;
}

static void ns_free(nameset *s)
{
    free(s->slot);
    s->slot = NULL;
}

/* ---------------------------------------------------------------------------------
 * The world.
 */
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
} world_t;

#define PID(w, i) ((w)->pid + (size_t)(i) * ID_STRIDE)

static void world_free(world_t *w)
{
    if (w->cat)
        for (int i = 0; i < w->ncat; i++)
            free(w->cat[i].name);
    if (w->prod)
        for (int i = 0; i < w->nprod; i++)
            free(w->prod[i].name);
    free(w->city);
    free(w->city_cum);
    free(w->dept);
    free(w->cat);
    free(w->cat_cum);
    free(w->prod);
    free(w->need);
    free(w->members);
    free(w->member_cum);
    free(w->pairs);
    free(w->taste);
    free(w->need_alias);
    free(w->pid);
    free(w->brand_factor);
    ns_free(&w->names);
    assets_free(&w->as);
}

#define OOM() rs_seterr(e, RS_EINTERNAL, "out of memory")

static void *xcalloc(size_t n, size_t size) { return calloc(n ? n : 1, size); }

/* Splits total into n parts, each at least min and at most cap[i] (cap NULL: no cap),
 * proportionally to weight, the remainder drawn by weight. */
static int split_counts(rng_t *r, int n, int64_t total, int min, const double *weight,
                        const int *cap, int *out)
{
    double wsum = 0;
    int64_t assigned = 0;
    for (int i = 0; i < n; i++) {
        out[i] = min;
        wsum += weight[i];
        assigned += min;
    }
    int64_t rest = total - assigned;
    for (int i = 0; i < n && rest > 0; i++) {
        int64_t add = (int64_t)floor((double)rest * weight[i] / wsum);
        if (cap && out[i] + add > cap[i])
            add = cap[i] - out[i];
        out[i] += (int)add;
        assigned += add;
    }
    while (assigned < total) {
        double room = 0;
        for (int i = 0; i < n; i++)
            if (!cap || out[i] < cap[i])
                room += weight[i];
        if (room <= 0)
            return -1;
        double u = rng_unif(r) * room;
        int pick = -1;
        for (int i = 0; i < n; i++) {
            if (cap && out[i] >= cap[i])
                continue;
            pick = i;
            if (u < weight[i])
                break;
            u -= weight[i];
        }
        out[pick]++;
        assigned++;
    }
    return 0;
}

/* Cities, departments and categories with their names, popularity and product counts. */
static int build_categories(world_t *w, rng_t *r, rs_error *e)
{
    const rs_synth_params *p = w->p;
    assets_t *as = &w->as;
    int rc = RS_OK;
    int *perm = NULL, *count = NULL, *cap = NULL, *combo = NULL;
    double *wt = NULL;

    /* cities: a shuffled choice from the list; receipt share ~ 1/sqrt(rank) */
    perm = xcalloc((size_t)as->cities.n, sizeof *perm);
    w->city = xcalloc((size_t)w->ncity, sizeof *w->city);
    w->city_cum = xcalloc((size_t)w->ncity, sizeof *w->city_cum);
    if (!perm || !w->city || !w->city_cum) {
        rc = OOM();
        goto done;
    }
    for (int i = 0; i < as->cities.n; i++)
        perm[i] = i;
    shuffle_int(r, perm, as->cities.n);
    double acc = 0;
    for (int i = 0; i < w->ncity; i++) {
        w->city[i] = as->cities.v[perm[i]];
        acc += 1.0 / sqrt(i + 1.0);
        w->city_cum[i] = acc;
    }
    free(perm);
    perm = NULL;

    /* departments: a random subset, in the order of the list */
    perm = xcalloc((size_t)as->ndept, sizeof *perm);
    w->dept = xcalloc((size_t)w->ndept, sizeof *w->dept);
    if (!perm || !w->dept) {
        rc = OOM();
        goto done;
    }
    for (int i = 0; i < as->ndept; i++)
        perm[i] = i;
    shuffle_int(r, perm, as->ndept);
    char *chosen = xcalloc((size_t)as->ndept, 1);
    if (!chosen) {
        rc = OOM();
        goto done;
    }
    for (int i = 0; i < w->ndept; i++)
        chosen[perm[i]] = 1;
    for (int i = 0, k = 0; i < as->ndept; i++)
        if (chosen[i])
            w->dept[k++] = i;
    free(chosen);

    /* categories per department, within what the word lists can name */
    count = xcalloc((size_t)w->ndept, sizeof *count);
    cap = xcalloc((size_t)w->ndept, sizeof *cap);
    wt = xcalloc((size_t)(w->ndept > w->ncat ? w->ndept : w->ncat), sizeof *wt);
    if (!count || !cap || !wt) {
        rc = OOM();
        goto done;
    }
    int64_t capacity = 0;
    for (int d = 0; d < w->ndept; d++) {
        const asset_dept *ad = &as->dept[w->dept[d]];
        cap[d] = ad->bases.n * (1 + (ad->quals ? ad->quals->n : 0));
        capacity += cap[d];
        wt[d] = 0.5 + rng_unif(r);
    }
    if (capacity < w->ncat) {
        rc = rs_seterr(e, RS_EUSAGE,
                       "%d categories asked for, but the word lists of %d departments name at "
                       "most %lld",
                       w->ncat, w->ndept, (long long)capacity);
        goto done;
    }
    if (split_counts(r, w->ndept, w->ncat, 1, wt, cap, count)) {
        rc = rs_seterr(e, RS_EINTERNAL, "cannot split categories over departments");
        goto done;
    }

    w->cat = xcalloc((size_t)w->ncat, sizeof *w->cat);
    if (!w->cat || ns_init(&w->names, (size_t)w->ncat + (size_t)w->nprod)) {
        rc = OOM();
        goto done;
    }
    int k = 0;
    for (int d = 0; d < w->ndept; d++) {
        const asset_dept *ad = &as->dept[w->dept[d]];
        int nb = ad->bases.n;
        free(combo);
        combo = xcalloc((size_t)cap[d], sizeof *combo);
        if (!combo) {
            rc = OOM();
            goto done;
        }
        /* base names first (shuffled), then qualified names (shuffled) */
        for (int j = 0; j < cap[d]; j++)
            combo[j] = j;
        shuffle_int(r, combo, nb);
        shuffle_int(r, combo + nb, cap[d] - nb);
        int made = 0;
        for (int j = 0; j < cap[d] && made < count[d]; j++) {
            int c = combo[j], b = c < nb ? c : (c - nb) % nb;
            const char *q = c < nb ? NULL : ad->quals->v[(c - nb) / nb];
            char *name = NULL;
            if (asprintf(&name, "%s%s%s", q ? q : "", q ? " " : "", ad->bases.v[b]) < 0) {
                rc = OOM();
                goto done;
            }
            int added = ns_add(&w->names, name);
            if (added <= 0) {
                free(name);
                if (added < 0) {
                    rc = OOM();
                    goto done;
                }
                continue;
            }
            cat_t *ct = &w->cat[k++];
            ct->dept = d;
            ct->name = name;
            ct->qualifier = q;
            ct->descs = ad->descs;
            ct->sizes = ad->base_sizes[b];
            ct->price = exp(log(250.0) + 0.6 * rng_normal(r));
            made++;
        }
        if (made < count[d]) {
            rc = rs_seterr(e, RS_EUSAGE, "the word lists name too few distinct categories in '%s'",
                           ad->name);
            goto done;
        }
    }

    /* popularity: Zipf over a random ranking */
    free(perm);
    perm = xcalloc((size_t)w->ncat, sizeof *perm);
    w->cat_cum = xcalloc((size_t)w->ncat, sizeof *w->cat_cum);
    if (!perm || !w->cat_cum) {
        rc = OOM();
        goto done;
    }
    for (int i = 0; i < w->ncat; i++)
        perm[i] = i;
    shuffle_int(r, perm, w->ncat);
    acc = 0;
    for (int i = 0; i < w->ncat; i++) {
        w->cat[perm[i]].weight = pow(i + 1.0, -p->category_zipf);
    }
    for (int i = 0; i < w->ncat; i++) {
        acc += w->cat[i].weight;
        w->cat_cum[i] = acc;
    }

    /* products per category (at least 2, so that every category can hold a group) */
    free(count);
    count = xcalloc((size_t)w->ncat, sizeof *count);
    if (!count) {
        rc = OOM();
        goto done;
    }
    for (int i = 0; i < w->ncat; i++)
        wt[i] = 0.5 + rng_unif(r);
    if (split_counts(r, w->ncat, w->nprod, 2, wt, NULL, count)) {
        rc = rs_seterr(e, RS_EINTERNAL, "cannot split products over categories");
        goto done;
    }
    int p0 = 0;
    for (int i = 0; i < w->ncat; i++) {
        w->cat[i].prod0 = p0;
        w->cat[i].nprod = count[i];
        p0 += count[i];
    }
done:
    free(perm);
    free(count);
    free(cap);
    free(combo);
    free(wt);
    return rc;
}

/* prefix + v in at least width digits, zero padded; dst holds ID_STRIDE bytes. */
static void format_id(char *dst, char prefix, uint64_t v, int width)
{
    char digits[24];
    int n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    if (width > ID_STRIDE - 2)
        width = ID_STRIDE - 2;
    int k = 0;
    dst[k++] = prefix;
    for (int i = n; i < width; i++)
        dst[k++] = '0';
    while (n > 0)
        dst[k++] = digits[--n];
    dst[k] = '\0';
}

/* A unique product name "Brand Descriptor Category Size"; desc < 0 picks one. */
static int make_name(world_t *w, rng_t *r, int c, int prod, int desc, rs_error *e)
{
    cat_t *ct = &w->cat[c];
    prod_t *pr = &w->prod[prod];
    const strlist *brands = &w->as.brands;
    for (int attempt = 0; attempt < 400; attempt++) {
        int d = (desc >= 0 && attempt < 200) ? desc : (int)rng_below(r, (uint64_t)ct->descs->n);
        const char *ds = ct->descs->v[d];
        if (ct->qualifier && strcmp(ds, ct->qualifier) == 0)
            continue;
        int b = (int)rng_below(r, (uint64_t)brands->n);
        int s = (int)rng_below(r, (uint64_t)ct->sizes->n);
        char *name = NULL;
        if (asprintf(&name, "%s %s %s %s", brands->v[b], ds, ct->name, ct->sizes->v[s]) < 0)
            return OOM();
        int added = ns_add(&w->names, name);
        if (added < 0) {
            free(name);
            return OOM();
        }
        if (added == 0) {
            free(name);
            continue;
        }
        pr->name = name;
        pr->brand = b;
        double v = ct->price * w->brand_factor[b] * (1.0 + 0.6 * s) * (0.9 + 0.2 * rng_unif(r));
        int cents = (int)lround(v / 10.0) * 10 - 1;
        pr->price = cents < 19 ? 19 : cents;
        return RS_OK;
    }
    return rs_seterr(e, RS_EUSAGE,
                     "the word lists cannot name %d distinct products in category '%s'",
                     ct->nprod, ct->name);
}

/* Needs (substitute groups and singletons) of every category, with names. */
static int build_needs(world_t *w, rng_t *r, rs_error *e)
{
    const rs_synth_params *p = w->p;
    int rc = RS_OK;
    int *perm = NULL, *gsize = NULL, *rank = NULL;
    w->prod = xcalloc((size_t)w->nprod, sizeof *w->prod);
    w->need = xcalloc((size_t)w->nprod, sizeof *w->need); /* at most one need per product */
    w->members = xcalloc((size_t)w->nprod, sizeof *w->members);
    w->member_cum = xcalloc((size_t)w->nprod, sizeof *w->member_cum);
    w->pid = xcalloc((size_t)w->nprod, ID_STRIDE);
    w->brand_factor = xcalloc((size_t)w->as.brands.n, sizeof *w->brand_factor);
    int maxn = 0;
    for (int c = 0; c < w->ncat; c++)
        if (w->cat[c].nprod > maxn)
            maxn = w->cat[c].nprod;
    perm = xcalloc((size_t)maxn, sizeof *perm);
    gsize = xcalloc((size_t)maxn, sizeof *gsize);
    rank = xcalloc((size_t)maxn, sizeof *rank);
    if (!w->prod || !w->need || !w->members || !w->member_cum || !w->pid || !w->brand_factor || !perm ||
        !gsize || !rank) {
        rc = OOM();
        goto done;
    }
    for (int b = 0; b < w->as.brands.n; b++)
        w->brand_factor[b] = 0.75 + 0.7 * rng_unif(r);
    int pw = 6;
    for (int64_t v = w->nprod; v >= 1000000; v /= 10)
        pw++;
    for (int i = 0; i < w->nprod; i++)
        format_id(w->pid + (size_t)i * ID_STRIDE, 'P', (uint64_t)i + 1, pw);
    w->pidlen = (int)strlen(w->pid);

    int nn = 0, slot = 0;
    for (int c = 0; c < w->ncat; c++) {
        cat_t *ct = &w->cat[c];
        int n = ct->nprod;
        /* group sizes until about grouped_share of the products are in groups */
        int target = (int)lround(n * p->grouped_share), grouped = 0, ng = 0;
        while (grouped < target && n - grouped >= 2) {
            int s = 2 + (int)rng_below(r, MAX_GROUP - 1);
            if (s > target - grouped)
                s = target - grouped;
            if (s < 2)
                s = 2;
            gsize[ng++] = s;
            grouped += s;
        }
        int nneed = ng + (n - grouped);
        for (int i = 0; i < n; i++)
            perm[i] = ct->prod0 + i;
        shuffle_int(r, perm, n);
        for (int i = 0; i < nneed; i++)
            rank[i] = i;
        shuffle_int(r, rank, nneed);
        ct->need0 = nn;
        ct->nneed = nneed;
        double total = 0, acc = 0;
        /* a group's need is as popular as its size times a singleton's of the same
         * rank, so that members get a singleton's share of receipts */
        for (int i = 0; i < nneed; i++)
            total += pow(rank[i] + 1.0, -p->need_zipf) * (i < ng ? gsize[i] : 1);
        int next = 0;
        for (int i = 0; i < nneed; i++) {
            need_t *nd = &w->need[nn + i];
            nd->cat = c;
            nd->local = -1;
            nd->m0 = slot;
            nd->nm = i < ng ? gsize[i] : 1;
            nd->share = pow(rank[i] + 1.0, -p->need_zipf) * nd->nm / total;
            acc += nd->share;
            nd->cum = acc;
            int desc = nd->nm > 1 ? (int)rng_below(r, (uint64_t)ct->descs->n) : -1;
            double mtotal = 0, macc = 0;
            for (int m = 0; m < nd->nm; m++)
                mtotal += pow(m + 1.0, -p->member_zipf);
            for (int m = 0; m < nd->nm; m++) {
                int pi = perm[next++];
                w->members[slot] = pi;
                macc += pow(m + 1.0, -p->member_zipf) / mtotal;
                w->member_cum[slot] = m == nd->nm - 1 ? 1.0 : macc;
                slot++;
                w->prod[pi].cat = c;
                w->prod[pi].need = nn + i;
                if ((rc = make_name(w, r, c, pi, desc, e)))
                    goto done;
            }
        }
        w->need[nn + nneed - 1].cum = 1.0;
        nn += nneed;
    }
    w->nneed = nn;
done:
    free(perm);
    free(gsize);
    free(rank);
    return rc;
}

static int has(const int *v, int n, int x)
{
    for (int i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

/* Complementary category pairs: 1..3 per category, symmetric. */
static int build_complements(world_t *w, rng_t *r, rs_error *e)
{
    int K = w->ncat, rc = RS_OK;
    int *order = xcalloc((size_t)K, sizeof *order), *target = xcalloc((size_t)K, sizeof *target);
    w->pairs = xcalloc((size_t)K * MAX_COMP_CATS, sizeof *w->pairs);
    if (!order || !target || !w->pairs) {
        rc = OOM();
        goto done;
    }
    if (K < 2)
        goto done;
    for (int i = 0; i < K; i++) {
        order[i] = i;
        target[i] = 1 + (int)rng_below(r, 3);
    }
    shuffle_int(r, order, K);
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0 keeps every category at <= 3; pass 1 gives a partner to any left alone */
        int maxdeg = pass == 0 ? 3 : MAX_COMP_CATS;
        for (int oi = 0; oi < K; oi++) {
            int a = order[oi];
            cat_t *ca = &w->cat[a];
            int want = pass == 0 ? target[a] : 1;
            for (int tries = 0; ca->ncomp < want && tries < 200; tries++) {
                int b = (int)rng_below(r, (uint64_t)K);
                cat_t *cb = &w->cat[b];
                if (b == a || cb->ncomp >= maxdeg || has(ca->comp, ca->ncomp, b))
                    continue;
                ca->comp[ca->ncomp++] = b;
                cb->comp[cb->ncomp++] = a;
                w->pairs[2 * w->npairs] = a < b ? a : b;
                w->pairs[2 * w->npairs + 1] = a < b ? b : a;
                w->npairs++;
            }
        }
    }
done:
    free(order);
    free(target);
    return rc;
}

static int cmp_pair(const void *x, const void *y)
{
    const int *a = x, *b = y;
    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1];
}

/* City tastes (category multipliers) and local products (singleton needs). */
static int build_cities(world_t *w, rng_t *r, rs_error *e)
{
    int K = w->ncat, C = w->ncity, rc = RS_OK;
    int *perm = xcalloc((size_t)K, sizeof *perm);
    w->taste = xcalloc((size_t)C * (size_t)K, sizeof *w->taste);
    if (!perm || !w->taste) {
        rc = OOM();
        goto done;
    }
    for (size_t i = 0; i < (size_t)C * (size_t)K; i++)
        w->taste[i] = 1.0;
    int ntaste = K / 40 > 3 ? K / 40 : 3;
    if (ntaste > K)
        ntaste = K;
    int nsingle = 0;
    for (int i = 0; i < w->nneed; i++)
        nsingle += w->need[i].nm == 1;
    int nlocal = (int)(w->nprod / ((int64_t)C * 100));
    if (nlocal < 3)
        nlocal = 3;
    if ((int64_t)nlocal * C > nsingle / 4)
        nlocal = nsingle / 4 / C;
    for (int c = 0; c < C; c++) {
        for (int i = 0; i < K; i++)
            perm[i] = i;
        shuffle_int(r, perm, K);
        static const double mult[] = {2.0, 3.0, 3.0, 4.0};
        for (int t = 0; t < ntaste; t++)
            w->taste[(size_t)c * K + perm[t]] = mult[rng_below(r, 4)];
        /* local products: singletons of at least average popularity in their category,
         * preferably in one of the city's favourite categories */
        int made = 0;
        for (int tries = 0; made < nlocal && tries < nlocal * 400; tries++) {
            int k = tries < nlocal * 200 ? perm[rng_below(r, (uint64_t)ntaste)]
                                         : (int)rng_below(r, (uint64_t)K);
            cat_t *ct = &w->cat[k];
            need_t *nd = &w->need[ct->need0 + (int)rng_below(r, (uint64_t)ct->nneed)];
            if (nd->nm != 1 || nd->local >= 0 || (tries < nlocal * 300 && nd->share * ct->nneed < 1.0))
                continue;
            nd->local = c;
            made++;
        }
    }
done:
    free(perm);
    return rc;
}

/* 2..4 companion needs per need, mostly from the complementary categories. */
static void build_companions(world_t *w, rng_t *r)
{
    for (int i = 0; i < w->nneed; i++) {
        need_t *nd = &w->need[i];
        const cat_t *ct = &w->cat[nd->cat];
        int want = 2 + (int)rng_below(r, 3);
        for (int tries = 0; nd->ncomp < want && tries < 40; tries++) {
            int k;
            if (ct->ncomp > 0 && rng_unif(r) < 0.85)
                k = ct->comp[rng_below(r, (uint64_t)ct->ncomp)];
            else
                k = cum_search(w->cat_cum, w->ncat, rng_unif(r) * w->cat_cum[w->ncat - 1]);
            if (k == nd->cat)
                continue;
            const cat_t *ck = &w->cat[k];
            double u = rng_unif(r);
            int j = ck->need0 + ck->nneed - 1;
            for (int t = ck->need0; t < ck->need0 + ck->nneed; t++)
                if (w->need[t].cum > u) {
                    j = t;
                    break;
                }
            if (w->need[j].local >= 0 || has(nd->comp, nd->ncomp, j))
                continue;
            nd->comp[nd->ncomp++] = j;
        }
    }
}

static inline int alias_draw(const alias_t *t, int n, rng_t *r)
{
    return rs_alias_draw_starstar(t, (uint32_t)n, r);
}

/* Popularity of the needs in each city (other cities' local products 0). */
static int build_city_tables(world_t *w, rs_error *e)
{
    int rc = RS_OK, n = w->nneed;
    double *wt = xcalloc((size_t)n, sizeof *wt);
    w->need_alias = xcalloc((size_t)w->ncity * (size_t)n, sizeof *w->need_alias);
    if (!wt || !w->need_alias) {
        rc = OOM();
        goto done;
    }
    for (int c = 0; c < w->ncity; c++) {
        for (int i = 0; i < n; i++) {
            const need_t *nd = &w->need[i];
            wt[i] = (nd->local < 0 || nd->local == c)
                        ? w->cat[nd->cat].weight * w->taste[(size_t)c * w->ncat + nd->cat] *
                              nd->share
                        : 0.0;
        }
        if (rs_alias_build(w->need_alias + (size_t)c * n, wt, (uint32_t)n, RS_ALIAS_ADD)) {
            rc = OOM();
            goto done;
        }
    }
done:
    free(wt);
    return rc;
}

/* ---------------------------------------------------------------------------------
 * Output.
 */
typedef struct {
    FILE *f;
    char *buf;
    size_t len, cap;
    int err;
} wbuf;

static void wb_flush(wbuf *b)
{
    if (b->len && !b->err && fwrite(b->buf, 1, b->len, b->f) != b->len)
        b->err = errno ? errno : EIO;
    b->len = 0;
}

static inline void wb_put(wbuf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        wb_flush(b);
        if (n > b->cap) {
            if (!b->err && fwrite(s, 1, n, b->f) != n)
                b->err = errno ? errno : EIO;
            return;
        }
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

static inline void wb_str(wbuf *b, const char *s) { wb_put(b, s, strlen(s)); }
static inline void wb_chr(wbuf *b, char c) { wb_put(b, &c, 1); }

/* A CSV field, quoted per RFC 4180 when it holds a comma, quote or line break. */
static void wb_csv(wbuf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        wb_str(b, s);
        return;
    }
    wb_chr(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            wb_chr(b, '"');
        wb_chr(b, *s);
    }
    wb_chr(b, '"');
}

static void wb_int(wbuf *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    wb_put(b, tmp, (size_t)n);
}

typedef struct {
    const char *name;
    char tmp[4200], final[4200];
    int written;
} outfile;

static int open_out(const char *dir, outfile *o, wbuf *b, rs_error *e)
{
    if ((size_t)snprintf(o->final, sizeof o->final, "%s/%s", dir, o->name) >= sizeof o->final ||
        (size_t)snprintf(o->tmp, sizeof o->tmp, "%s/.%s.tmp", dir, o->name) >= sizeof o->tmp)
        return rs_seterr(e, RS_EUSAGE, "output path too long: %s", dir);
    memset(b, 0, sizeof *b);
    b->cap = 1 << 20;
    b->buf = malloc(b->cap);
    if (!b->buf)
        return OOM();
    b->f = fopen(o->tmp, "wb");
    if (!b->f) {
        free(b->buf);
        b->buf = NULL;
        return rs_seterr(e, RS_EINTERNAL, "%s: %s", o->tmp, strerror(errno));
    }
    o->written = 1;
    return RS_OK;
}

static int close_out(outfile *o, wbuf *b, rs_error *e)
{
    if (!b->f)
        return RS_OK;
    errno = 0;
    wb_flush(b);
    int err = b->err;
    if (fflush(b->f) != 0 && !err)
        err = errno ? errno : EIO;
    if (fclose(b->f) != 0 && !err)
        err = errno ? errno : EIO;
    b->f = NULL;
    free(b->buf);
    b->buf = NULL;
    if (err)
        return rs_seterr(e, RS_EINTERNAL, "%s: write failed: %s", o->tmp, strerror(err));
    return RS_OK;
}

static int mkdir_p(const char *dir, rs_error *e)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s", dir) >= sizeof path)
        return rs_seterr(e, RS_EUSAGE, "output path too long: %s", dir);
    for (char *s = path + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return rs_seterr(e, RS_EINTERNAL, "cannot create %s: %s", path, strerror(errno));
        *s = '/';
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return rs_seterr(e, RS_EINTERNAL, "cannot create %s: %s", path, strerror(errno));
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return rs_seterr(e, RS_EUSAGE, "%s is not a directory", path);
    return RS_OK;
}

static int write_catalogue(world_t *w, outfile *po, outfile *co, rs_error *e, const char *dir)
{
    wbuf b;
    int rc = open_out(dir, po, &b, e);
    if (rc)
        return rc;
    wb_str(&b, "product_id,name,category,department,brand,price\n");
    for (int i = 0; i < w->nprod; i++) {
        const prod_t *pr = &w->prod[i];
        const cat_t *ct = &w->cat[pr->cat];
        char price[32];
        wb_str(&b, PID(w, i));
        wb_chr(&b, ',');
        wb_csv(&b, pr->name);
        wb_chr(&b, ',');
        wb_csv(&b, ct->name);
        wb_chr(&b, ',');
        wb_csv(&b, w->as.dept[w->dept[ct->dept]].name);
        wb_chr(&b, ',');
        wb_csv(&b, w->as.brands.v[pr->brand]);
        snprintf(price, sizeof price, ",%d.%02d\n", pr->price / 100, pr->price % 100);
        wb_str(&b, price);
    }
    if ((rc = close_out(po, &b, e)))
        return rc;
    if ((rc = open_out(dir, co, &b, e)))
        return rc;
    wb_str(&b, "category,department\n");
    for (int i = 0; i < w->ncat; i++) {
        wb_csv(&b, w->cat[i].name);
        wb_chr(&b, ',');
        wb_csv(&b, w->as.dept[w->dept[w->cat[i].dept]].name);
        wb_chr(&b, '\n');
    }
    return close_out(co, &b, e);
}

#define START_Y 2025
#define START_M 3
#define START_D 3 /* a Monday */

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* Sorted seconds since the start of the period: weekly and daily shopping rhythm. */
static uint32_t *make_times(world_t *w, int64_t n)
{
    static const double dow[7] = {0.9, 0.9, 1.0, 1.0, 1.2, 1.4, 0.7};
    static const double hour[24] = {0,   0,   0,   0,   0,   0,   0,   0.3, 0.6, 0.8, 0.9, 1.0,
                                    1.2, 1.1, 0.9, 0.9, 1.1, 1.4, 1.5, 1.2, 0.8, 0.4, 0,   0};
    int days = w->p->days;
    uint32_t *t = malloc((size_t)(n ? n : 1) * sizeof *t);
    double *dcum = malloc((size_t)days * sizeof *dcum);
    double hcum[24];
    if (!t || !dcum) {
        free(t);
        free(dcum);
        return NULL;
    }
    rng_t r;
    rng_init(&r, w->p->seed, STREAM_TIMES);
    double acc = 0;
    for (int d = 0; d < days; d++)
        dcum[d] = (acc += dow[d % 7]);
    acc = 0;
    for (int h = 0; h < 24; h++)
        hcum[h] = (acc += hour[h]);
    for (int64_t i = 0; i < n; i++) {
        int d = cum_search(dcum, days, rng_unif(&r) * dcum[days - 1]);
        int h = cum_search(hcum, 24, rng_unif(&r) * hcum[23]);
        t[i] = (uint32_t)d * 86400u + (uint32_t)h * 3600u + (uint32_t)rng_below(&r, 3600);
    }
    qsort(t, (size_t)n, sizeof *t, cmp_u32);
    free(dcum);
    return t;
}

static int pad_width(int64_t n, int min)
{
    int wdt = 1;
    for (int64_t v = n; v >= 10; v /= 10)
        wdt++;
    return wdt > min ? wdt : min;
}

/* Draws a member of need nd by the member shares. */
static int pick_member(const world_t *w, rng_t *r, const need_t *nd)
{
    if (nd->nm == 1)
        return w->members[nd->m0];
    double u = rng_unif(r);
    for (int m = 0; m < nd->nm; m++)
        if (w->member_cum[nd->m0 + m] > u)
            return w->members[nd->m0 + m];
    return w->members[nd->m0 + nd->nm - 1];
}

static int write_receipts(world_t *w, outfile *o, const char *dir, rs_synth_summary *sum,
                          rs_error *e)
{
    const rs_synth_params *p = w->p;
    int64_t R = p->receipts;
    int maxsize = p->max_receipt_size;
    int rc = RS_OK;
    wbuf b = {0};
    uint32_t *times = make_times(w, R);
    char(*dates)[32] = xcalloc((size_t)p->days, sizeof *dates);
    char(*cityf)[256] = xcalloc((size_t)w->ncity, sizeof *cityf);
    int *rneed = xcalloc((size_t)maxsize, sizeof *rneed);
    int *rprod = xcalloc((size_t)maxsize, sizeof *rprod);
    int64_t *pool = xcalloc((size_t)w->ncity, sizeof *pool);
    if (!times || !dates || !cityf || !rneed || !rprod || !pool) {
        rc = OOM();
        goto done;
    }
    int64_t start = rs_days_from_civil(START_Y, START_M, START_D);
    for (int d = 0; d < p->days; d++) {
        int y;
        unsigned m, dd;
        rs_civil_from_days(start + d, &y, &m, &dd);
        snprintf(dates[d], sizeof dates[d], "%04d-%02u-%02u", y, m, dd);
    }
    /* city names as CSV fields, customers: about 6 receipts per customer */
    int cw = pad_width(w->ncity, 2), custw = 6;
    for (int c = 0; c < w->ncity; c++) {
        /* quoting at most doubles the length plus two quotes */
        if (strlen(w->city[c]) * 2 + 3 > sizeof cityf[c]) {
            rc = rs_seterr(e, RS_EDATA, "city name too long: %s", w->city[c]);
            goto done;
        }
        wbuf t = {.buf = cityf[c], .cap = sizeof cityf[c]};
        wb_csv(&t, w->city[c]);
        cityf[c][t.len] = '\0';
        double share = (w->city_cum[c] - (c ? w->city_cum[c - 1] : 0)) / w->city_cum[w->ncity - 1];
        pool[c] = (int64_t)(share * (double)R / 6.0);
        if (pool[c] < 20)
            pool[c] = 20;
        int pwid = pad_width(pool[c], 6);
        if (pwid > custw)
            custw = pwid;
    }
    if ((rc = open_out(dir, o, &b, e)))
        goto done;
    wb_str(&b, "receipt_id,product_id,city,quantity,timestamp,customer_id\n");
    rng_t r;
    rng_init(&r, p->seed, STREAM_RECEIPTS);
    int rw = pad_width(R, 7);
    double lambda = p->mean_receipt_size - 1.0;
    int64_t lines = 0;
    for (int64_t ri = 0; ri < R && !b.err; ri++) {
        int c = cum_search(w->city_cum, w->ncity, rng_unif(&r) * w->city_cum[w->ncity - 1]);
        const alias_t *ntab = w->need_alias + (size_t)c * w->nneed;
        int size = 1 + rng_poisson(&r, lambda);
        if (size > maxsize)
            size = maxsize;
        int cnt = 0;
        int seed_need = alias_draw(ntab, w->nneed, &r);
        rneed[cnt] = seed_need;
        rprod[cnt++] = pick_member(w, &r, &w->need[seed_need]);
        for (int attempt = 0; cnt < size && attempt < 4 * size + 10; attempt++) {
            int nd;
            if (rng_unif(&r) < p->companion_prob) {
                const need_t *src = &w->need[rneed[rng_below(&r, (uint64_t)cnt)]];
                if (src->ncomp == 0)
                    continue;
                nd = src->comp[rng_below(&r, (uint64_t)src->ncomp)];
                if (w->need[nd].local >= 0 && w->need[nd].local != c)
                    continue;
            } else {
                nd = alias_draw(ntab, w->nneed, &r);
            }
            const need_t *need = &w->need[nd];
            if (has(rneed, cnt, nd)) {
                /* the need is already met: rarely a second member of its group */
                if (need->nm > 1 && rng_unif(&r) < p->dup_prob) {
                    int pr = pick_member(w, &r, need);
                    if (!has(rprod, cnt, pr)) {
                        rneed[cnt] = nd;
                        rprod[cnt++] = pr;
                    }
                }
                continue;
            }
            rneed[cnt] = nd;
            rprod[cnt++] = pick_member(w, &r, need);
        }
        /* lines */
        char head[64], tail[128];
        int hl = snprintf(head, sizeof head, "R%0*lld,", rw, (long long)(ri + 1));
        uint32_t t = times[ri];
        uint32_t day = t / 86400u, sec = t % 86400u;
        int64_t cust = (int64_t)((double)pool[c] * rng_unif(&r) * rng_unif(&r));
        int tl = snprintf(tail, sizeof tail, ",%s %02u:%02u:%02u,C%0*d-%0*lld\n", dates[day],
                          sec / 3600u, sec / 60u % 60u, sec % 60u, cw, c + 1, custw,
                          (long long)cust + 1);
        for (int i = 0; i < cnt; i++) {
            double u = rng_unif(&r);
            int qty = u < 0.80 ? 1 : u < 0.93 ? 2 : u < 0.97 ? 3 : 4 + (int)rng_below(&r, 3);
            wb_put(&b, head, (size_t)hl);
            wb_put(&b, PID(w, rprod[i]), (size_t)w->pidlen);
            wb_chr(&b, ',');
            wb_str(&b, cityf[c]);
            wb_chr(&b, ',');
            wb_int(&b, qty);
            wb_put(&b, tail, (size_t)tl);
        }
        lines += cnt;
    }
    if (sum)
        sum->receipt_lines = lines;
    rc = close_out(o, &b, e);
done:
    if (b.f)
        close_out(o, &b, NULL);
    free(times);
    free(dates);
    free(cityf);
    free(rneed);
    free(rprod);
    free(pool);
    return rc;
}

/* truth.json: cJSON keeps insertion order, so the key order is fixed. */
static int write_truth(world_t *w, outfile *o, const char *dir, int64_t lines, rs_error *e)
{
    const rs_synth_params *p = w->p;
    int ok = 1, rc = RS_OK;
    char *text = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *x, *y;
#define ADD(parent, key, item)                                                                 \
    do {                                                                                       \
        cJSON *_it = (item);                                                                   \
        if (!_it || !(key ? cJSON_AddItemToObject(parent, key, _it)                             \
                          : cJSON_AddItemToArray(parent, _it))) {                              \
            cJSON_Delete(_it);                                                                 \
            ok = 0;                                                                            \
        }                                                                                      \
    } while (0)
    if (!root)
        return OOM();
    const char *nokey = NULL;
    if (p->seed < (1ULL << 53)) {
        ADD(root, "seed", cJSON_CreateNumber((double)p->seed));
    } else {
        char s[32];
        snprintf(s, sizeof s, "%llu", (unsigned long long)p->seed);
        ADD(root, "seed", cJSON_CreateString(s));
    }
    ADD(root, "sizes", x = cJSON_CreateObject());
    if (ok) {
        ADD(x, "cities", cJSON_CreateNumber(w->ncity));
        ADD(x, "departments", cJSON_CreateNumber(w->ndept));
        ADD(x, "categories", cJSON_CreateNumber(w->ncat));
        ADD(x, "products", cJSON_CreateNumber(w->nprod));
        ADD(x, "receipts", cJSON_CreateNumber((double)p->receipts));
        ADD(x, "receipt_lines", cJSON_CreateNumber((double)lines));
    }
    ADD(root, "cities", x = cJSON_CreateArray());
    for (int c = 0; ok && c < w->ncity; c++)
        ADD(x, nokey, cJSON_CreateString(w->city[c]));
    ADD(root, "departments", x = cJSON_CreateArray());
    for (int d = 0; ok && d < w->ndept; d++)
        ADD(x, nokey, cJSON_CreateString(w->as.dept[w->dept[d]].name));
    ADD(root, "substitute_groups", x = cJSON_CreateArray());
    for (int i = 0; ok && i < w->nneed; i++) {
        const need_t *nd = &w->need[i];
        if (nd->nm < 2)
            continue;
        int ids[MAX_GROUP];
        for (int m = 0; m < nd->nm; m++)
            ids[m] = w->members[nd->m0 + m];
        for (int a = 1; a < nd->nm; a++) /* members in id order */
            for (int bb = a; bb > 0 && ids[bb - 1] > ids[bb]; bb--) {
                int t = ids[bb];
                ids[bb] = ids[bb - 1];
                ids[bb - 1] = t;
            }
        ADD(x, nokey, y = cJSON_CreateArray());
        for (int m = 0; ok && m < nd->nm; m++)
            ADD(y, nokey, cJSON_CreateString(PID(w, ids[m])));
    }
    qsort(w->pairs, (size_t)w->npairs, 2 * sizeof *w->pairs, cmp_pair);
    ADD(root, "complementary_categories", x = cJSON_CreateArray());
    for (int i = 0; ok && i < w->npairs; i++) {
        ADD(x, nokey, y = cJSON_CreateArray());
        if (ok) {
            ADD(y, nokey, cJSON_CreateString(w->cat[w->pairs[2 * i]].name));
            ADD(y, nokey, cJSON_CreateString(w->cat[w->pairs[2 * i + 1]].name));
        }
    }
    ADD(root, "city_tastes", x = cJSON_CreateObject());
    for (int c = 0; ok && c < w->ncity; c++) {
        ADD(x, w->city[c], y = cJSON_CreateObject());
        for (int k = 0; ok && k < w->ncat; k++)
            if (w->taste[(size_t)c * w->ncat + k] != 1.0)
                ADD(y, w->cat[k].name, cJSON_CreateNumber(w->taste[(size_t)c * w->ncat + k]));
    }
    ADD(root, "local_products", x = cJSON_CreateObject());
    for (int c = 0; ok && c < w->ncity; c++) {
        ADD(x, w->city[c], y = cJSON_CreateArray());
        for (int i = 0; ok && i < w->nprod; i++)
            if (w->need[w->prod[i].need].local == c)
                ADD(y, nokey, cJSON_CreateString(PID(w, i)));
    }
    ADD(root, "period", x = cJSON_CreateObject());
    if (ok) {
        int y0;
        unsigned m0, d0;
        char s[32];
        int64_t start = rs_days_from_civil(START_Y, START_M, START_D);
        rs_civil_from_days(start, &y0, &m0, &d0);
        snprintf(s, sizeof s, "%04d-%02u-%02u", y0, m0, d0);
        ADD(x, "start", cJSON_CreateString(s));
        ADD(x, "days", cJSON_CreateNumber(p->days));
    }
#undef ADD
    if (!ok || !(text = cJSON_Print(root))) {
        rc = OOM();
        goto done;
    }
    wbuf b;
    if ((rc = open_out(dir, o, &b, e)))
        goto done;
    wb_str(&b, text);
    wb_chr(&b, '\n');
    rc = close_out(o, &b, e);
done:
    free(text);
    cJSON_Delete(root);
    return rc;
}

static int check_params(const rs_synth_params *p, const assets_t *as, rs_error *e)
{
    if (p->cities < 1 || p->cities > as->cities.n)
        return rs_seterr(e, RS_EUSAGE, "--cities must be 1..%d (the names in cities.txt)",
                         as->cities.n);
    if (p->departments < 1 || p->departments > as->ndept)
        return rs_seterr(e, RS_EUSAGE,
                         "--departments must be 1..%d (the names in departments.txt)", as->ndept);
    if (p->categories < p->departments || p->categories > 1000000)
        return rs_seterr(e, RS_EUSAGE, "--categories must be %d..1000000 (at least one per "
                         "department)", p->departments);
    if (p->products < 2 * (int64_t)p->categories || p->products > 100000000)
        return rs_seterr(e, RS_EUSAGE,
                         "--products must be %lld..100000000 (at least two per category)",
                         2 * (long long)p->categories);
    if (p->receipts < 0 || p->receipts > 500000000)
        return rs_seterr(e, RS_EUSAGE, "--receipts must be 0..500000000");
    if (!(p->mean_receipt_size >= 1.0 && p->mean_receipt_size <= 30.0) ||
        p->max_receipt_size < 1 || p->max_receipt_size > 10000)
        return rs_seterr(e, RS_EUSAGE, "receipt size: mean must be 1..30, maximum 1..10000");
    if (!(p->companion_prob >= 0 && p->companion_prob <= 1) ||
        !(p->grouped_share >= 0 && p->grouped_share <= 1) ||
        !(p->dup_prob >= 0 && p->dup_prob <= 1))
        return rs_seterr(e, RS_EUSAGE, "probabilities must lie in [0, 1]");
    if (!(p->category_zipf >= 0 && p->category_zipf <= 5) ||
        !(p->need_zipf >= 0 && p->need_zipf <= 5) ||
        !(p->member_zipf >= 0 && p->member_zipf <= 5))
        return rs_seterr(e, RS_EUSAGE, "Zipf exponents must lie in [0, 5]");
    if (p->days < 1 || p->days > 3650)
        return rs_seterr(e, RS_EUSAGE, "days must be 1..3650");
    return RS_OK;
}

void rs_synth_defaults(rs_synth_params *p, int large)
{
    memset(p, 0, sizeof *p);
    p->seed = 1;
    p->cities = large ? 20 : 5;
    p->departments = large ? 24 : 20;
    p->categories = large ? 1300 : 200;
    p->products = large ? 100000 : 5000;
    p->receipts = large ? 1000000 : 100000;
    p->assets_dir = NULL;
    p->mean_receipt_size = 8.0;
    p->max_receipt_size = 40;
    p->companion_prob = 0.6;
    p->grouped_share = 0.5;
    p->dup_prob = 0.025;
    p->category_zipf = 0.8;
    p->need_zipf = 0.8;
    p->member_zipf = 0.5;
    p->days = 90;
}

int rs_synth_run(const rs_synth_params *p, const char *out_dir, rs_synth_summary *sum,
                 rs_error *e)
{
    world_t w = {0};
    outfile files[4] = {{.name = "products.csv"},
                        {.name = "categories.csv"},
                        {.name = "receipts.csv"},
                        {.name = "truth.json"}};
    rs_synth_summary s = {0};
    int rc;
    const char *adir = p->assets_dir;
    if (!adir || !*adir)
        adir = getenv("RECOSCOPE_ASSETS");
    if (!adir || !*adir)
        adir = RS_ASSETS_DIR;
    if (!out_dir || !*out_dir)
        return rs_seterr(e, RS_EUSAGE, "no output directory");
    w.p = p;
    if ((rc = assets_load(adir, &w.as, e)) || (rc = check_params(p, &w.as, e)))
        goto done;
    w.ncity = p->cities;
    w.ndept = p->departments;
    w.ncat = p->categories;
    w.nprod = (int)p->products;

    rng_t r;
    rng_init(&r, p->seed, STREAM_WORLD);
    if ((rc = build_categories(&w, &r, e)) || (rc = build_needs(&w, &r, e)) ||
        (rc = build_complements(&w, &r, e)) || (rc = build_cities(&w, &r, e)))
        goto done;
    build_companions(&w, &r);
    if ((rc = build_city_tables(&w, e)))
        goto done;

    if ((rc = mkdir_p(out_dir, e)) ||
        (rc = write_catalogue(&w, &files[0], &files[1], e, out_dir)) ||
        (rc = write_receipts(&w, &files[2], out_dir, &s, e)) ||
        (rc = write_truth(&w, &files[3], out_dir, s.receipt_lines, e)))
        goto done;
    /* receipts.csv last: its presence means a complete world (cmd_demo relies on it) */
    static const int rename_order[4] = {0, 1, 3, 2};
    for (int k = 0; k < 4; k++) {
        int i = rename_order[k];
        if (rename(files[i].tmp, files[i].final) != 0) {
            rc = rs_seterr(e, RS_EINTERNAL, "cannot rename %s to %s: %s", files[i].tmp,
                           files[i].final, strerror(errno));
            goto done;
        }
        files[i].written = 0;
    }
    s.products = w.nprod;
    s.receipts = p->receipts;
    s.complementary_pairs = w.npairs;
    for (int i = 0; i < w.nneed; i++) {
        if (w.need[i].nm > 1) {
            s.substitute_groups++;
            s.grouped_products += w.need[i].nm;
        }
        s.local_products += w.need[i].local >= 0;
    }
    if (sum)
        *sum = s;
done:
    for (int i = 0; i < 4; i++)
        if (files[i].written)
            unlink(files[i].tmp);
    world_free(&w);
    return rc;
}

int rs_synth_write(const rs_synth_params *p, const char *out_dir, rs_error *e)
{
    return rs_synth_run(p, out_dir, NULL, e);
}
