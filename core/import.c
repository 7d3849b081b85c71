/* import.c - CSV -> SQLite importer (see import.h).
 *
 * Structure: one `imp` context per rs_import_run() holds the in-memory id maps
 * (external id -> row id) for categories, products, cities and receipts, and the
 * prepared statements.  Small files (catalogues) are read sequentially.  Receipt files
 * go through a pipeline: the file is cut into chunks at record boundaries
 * (rs_csv_split), worker threads parse and validate chunks into `rrow`s (resolving
 * product ids against the frozen product map), and the calling thread writes them to
 * SQLite in file order, assigning receipt ids.  The first error in file order wins, so
 * messages are deterministic whatever the thread count.
 */
#include "import.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "csv.h"
#include "hash.h"
#include "sha256.h"

const char *const rs_import_presets[] = {"instacart",    "completejourney", "online-retail",
                                         "basket-lines", "events",          NULL};

#define UNCAT_NAME "(uncategorised)"
#define CHUNK_BYTES ((size_t)4 << 20)

/* ---- small utilities -------------------------------------------------------------- */

typedef struct ablock {
    struct ablock *next;
    size_t used, cap;
    char data[];
} ablock;

typedef struct arena {
    ablock *head;
} arena;

static char *arena_alloc(arena *a, size_t n)
{
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > ((size_t)1 << 20) ? n : ((size_t)1 << 20);
        ablock *b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    char *p = a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

static char *arena_dup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static void arena_free(arena *a)
{
    for (ablock *b = a->head, *nx; b; b = nx) {
        nx = b->next;
        free(b);
    }
    a->head = NULL;
}

/* A string -> int64 hash map (open addressing, keys copied into an arena). */
typedef struct sment {
    const char *k;
    uint64_t h;
    int64_t v;
    uint32_t n;
} sment;

typedef struct strmap {
    sment *t;
    size_t cap, len;
    arena keys;
} strmap;

static uint64_t hstr(const char *s, size_t n) { return rs_fnv1a64(RS_FNV64_INIT, s, n); }

static sment *sm_find(const strmap *m, const char *s, size_t n, uint64_t h)
{
    if (!m->cap)
        return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        sment *x = &m->t[i];
        if (!x->k)
            return NULL;
        if (x->h == h && x->n == n && memcmp(x->k, s, n) == 0)
            return x;
    }
}

static int64_t *sm_get(const strmap *m, const char *s, size_t n)
{
    sment *x = sm_find(m, s, n, hstr(s, n));
    return x ? &x->v : NULL;
}

static int sm_grow(strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    sment *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        sment *x = &m->t[i];
        if (!x->k)
            continue;
        size_t j = x->h & (cap - 1);
        while (t[j].k)
            j = (j + 1) & (cap - 1);
        t[j] = *x;
    }
    free(m->t);
    m->t = t;
    m->cap = cap;
    return 0;
}

/* Inserts (s, v); the key must not be present.  *stored (if given) receives the map's
 * copy of the key, valid until sm_free. */
static int sm_put2(strmap *m, const char *s, size_t n, int64_t v, const char **stored)
{
    if ((m->len + 1) * 2 > m->cap && sm_grow(m))
        return -1;
    uint64_t h = hstr(s, n);
    char *k = arena_dup(&m->keys, s, n);
    if (!k)
        return -1;
    size_t j = h & (m->cap - 1);
    while (m->t[j].k)
        j = (j + 1) & (m->cap - 1);
    m->t[j] = (sment){k, h, v, (uint32_t)n};
    m->len++;
    if (stored)
        *stored = k;
    return 0;
}

static int sm_put(strmap *m, const char *s, size_t n, int64_t v) { return sm_put2(m, s, n, v, NULL); }

static void sm_free(strmap *m)
{
    free(m->t);
    arena_free(&m->keys);
    memset(m, 0, sizeof *m);
}

static void trim(const char **p, size_t *n)
{
    while (*n && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
}

/* A number: [-+]digits[.digits][e[-+]digits].  Returns 0 on success. */
static int parse_num(const char *s, size_t n, double *out)
{
    trim(&s, &n);
    if (n == 0 || n > 63)
        return -1;
    size_t i = 0;
    int neg = 0;
    if (s[i] == '-' || s[i] == '+')
        neg = s[i++] == '-';
    double v = 0;
    size_t digits = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        v = v * 10 + (s[i++] - '0');
        digits++;
    }
    if (i == n && digits) {
        *out = neg ? -v : v;
        return 0;
    }
    char buf[64];
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    if (end == buf || *end || errno == ERANGE || d - d != 0) /* NaN and infinities too */
        return -1;
    *out = d;
    return 0;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Reads up to max digits at *i; returns the value or -1 when there is no digit. */
static long digits(const char *s, size_t n, size_t *i, int max)
{
    long v = 0;
    int k = 0;
    while (*i < n && k < max && s[*i] >= '0' && s[*i] <= '9') {
        v = v * 10 + (s[(*i)++] - '0');
        k++;
    }
    return k ? v : -1;
}

int rs_parse_time(const char *s, size_t n, int64_t *ts)
{
    trim(&s, &n);
    if (n == 0)
        return -1;
    size_t i = 0;
    int allnum = 1;
    for (size_t k = (s[0] == '-'); k < n; k++)
        if (s[k] < '0' || s[k] > '9')
            allnum = 0;
    if (allnum && n < 20 && !(n == 1 && s[0] == '-')) {
        char buf[24];
        memcpy(buf, s, n);
        buf[n] = '\0';
        int64_t v = strtoll(buf, NULL, 10);
        if (v > 100000000000LL || v < -100000000000LL) /* milliseconds */
            v /= 1000;
        *ts = v;
        return 0;
    }
    long y, mo, d, hh = 0, mi = 0, ss = 0;
    long a = digits(s, n, &i, 4);
    if (a < 0 || i >= n)
        return -1;
    if (s[i] == '-' && i == 4) { /* ISO */
        y = a;
        i++;
        if ((mo = digits(s, n, &i, 2)) < 0 || i >= n || s[i++] != '-' ||
            (d = digits(s, n, &i, 2)) < 0)
            return -1;
    } else if (s[i] == '/') { /* M/D/YYYY */
        mo = a;
        i++;
        if ((d = digits(s, n, &i, 2)) < 0 || i >= n || s[i++] != '/' ||
            (y = digits(s, n, &i, 4)) < 0)
            return -1;
        if (y < 100)
            y += 2000;
    } else
        return -1;
    if (i < n && (s[i] == ' ' || s[i] == 'T')) {
        i++;
        while (i < n && s[i] == ' ')
            i++;
        if ((hh = digits(s, n, &i, 2)) < 0 || i >= n || s[i++] != ':' ||
            (mi = digits(s, n, &i, 2)) < 0)
            return -1;
        if (i < n && s[i] == ':') {
            i++;
            if ((ss = digits(s, n, &i, 2)) < 0)
                return -1;
            if (i < n && s[i] == '.') {
                i++;
                while (i < n && s[i] >= '0' && s[i] <= '9')
                    i++;
            }
        }
    }
    long off = 0;
    if (i < n && s[i] == 'Z')
        i++;
    else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i++] == '-' ? -1 : 1;
        long oh = digits(s, n, &i, 2), om = 0;
        if (oh < 0)
            return -1;
        if (i < n && s[i] == ':')
            i++;
        if (i < n && (om = digits(s, n, &i, 2)) < 0)
            return -1;
        off = sign * (oh * 3600 + om * 60);
    }
    if (i != n || mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 60)
        return -1;
    *ts = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + hh * 3600 + mi * 60 + ss - off;
    return 0;
}

/* Copies s into a, replacing invalid UTF-8 sequences with U+FFFD.  Returns NULL on OOM. */
static char *utf8_fix(arena *a, const char *s, size_t n, size_t *outn)
{
    char *o = arena_alloc(a, n * 3 + 1), *q = o;
    if (!o)
        return NULL;
    size_t i = 0;
    while (i < n) {
        size_t k = 1;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
            if (k == 0 || i + k > n || !rs_utf8_valid(s + i, k)) {
                memcpy(q, "\xEF\xBF\xBD", 3);
                q += 3;
                i++;
                continue;
            }
        }
        memcpy(q, s + i, k);
        q += k;
        i += k;
    }
    *q = '\0';
    *outn = (size_t)(q - o);
    return o;
}

/* ---- the import context --------------------------------------------------------- */

typedef struct evrow {
    int32_t visitor, prod;
    int64_t ts;
    double w;
} evrow;

typedef struct feedrec {
    int64_t id, city, ts;
    const char *ext, *cust;
    uint32_t extn, custn;
    int has_ts;
} feedrec;

typedef struct feeditem {
    int64_t rec, prod;
    double qty, w;
} feeditem;

struct imp;
typedef struct feedaux {
    struct imp *im;
    int kind; /* 0 items, 1 receipts */
} feedaux;

typedef struct imp {
    rs_store *s;
    sqlite3 *db;
    const rs_import_opts *o;
    rs_import_report *rep;
    strmap cats, prods, cities, visitors;
    /* receipts: a Bloom filter of the external ids of every receipt (in the database
     * or added), the receipts queued for the current flush, and a lookup by ext_id */
    uint64_t *recbloom;
    strmap pend;
    sqlite3_stmt *st_rec_find;
    int recs_loaded;
    int64_t next_cat, next_prod, next_city, next_rec;
    int64_t default_city, uncat;
    unsigned char *cat_has_parent; /* by category id */
    size_t cat_has_parent_n;
    sqlite3_stmt *st_cat, *st_cat_parent, *st_prod, *st_prod_upd, *st_rec, *st_item_max,
        *st_item_sum, *st_city, *st_ledger, *st_ledger_find, *st_ledger_size;
    int nthreads;
    /* events */
    char **ev_name;
    double *ev_w;
    int nev;
    evrow *ev;
    size_t nevrows, capev;
    arena ar; /* strings that live for the whole import */
    /* bulk inserts (see the feed virtual tables) */
    feedaux aux[2];
    int modules;
    feedrec *frec;
    size_t nfrec, capfrec;
    feeditem *fitem;
    size_t nfitem, capfitem;
    sqlite3_stmt *st_feed_rec, *st_feed_item;
} imp;

/* ---- bulk inserts through virtual tables ----------------------------------------
 * A per-row sqlite3_step() costs about as much as the row insert itself.  The writer
 * collects a chunk's new receipts and lines in arrays and inserts them with one
 * INSERT ... SELECT from an eponymous virtual table that reads those arrays. */

typedef struct feed_vtab {
    sqlite3_vtab base;
    feedaux *aux;
} feed_vtab;

typedef struct feed_cur {
    sqlite3_vtab_cursor base;
    size_t i;
} feed_cur;

static int feed_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                        sqlite3_vtab **out, char **err)
{
    (void)argc;
    (void)argv;
    (void)err;
    feedaux *a = aux;
    int rc = sqlite3_declare_vtab(db, a->kind == 0 ? "CREATE TABLE x(rec, prod, qty, w)"
                                                   : "CREATE TABLE x(id, ext, city, ts, cust)");
    if (rc != SQLITE_OK)
        return rc;
    feed_vtab *v = sqlite3_malloc(sizeof *v);
    if (!v)
        return SQLITE_NOMEM;
    memset(v, 0, sizeof *v);
    v->aux = a;
    *out = &v->base;
    return SQLITE_OK;
}

static int feed_disconnect(sqlite3_vtab *v)
{
    sqlite3_free(v);
    return SQLITE_OK;
}

static int feed_best_index(sqlite3_vtab *v, sqlite3_index_info *info)
{
    (void)v;
    info->estimatedCost = 1e6;
    info->estimatedRows = 1000000;
    return SQLITE_OK;
}

static int feed_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
    (void)v;
    feed_cur *c = sqlite3_malloc(sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    *out = &c->base;
    return SQLITE_OK;
}

static int feed_close(sqlite3_vtab_cursor *c)
{
    sqlite3_free(c);
    return SQLITE_OK;
}

static int feed_filter(sqlite3_vtab_cursor *c, int idx, const char *idxs, int argc,
                       sqlite3_value **argv)
{
    (void)idx;
    (void)idxs;
    (void)argc;
    (void)argv;
    ((feed_cur *)c)->i = 0;
    return SQLITE_OK;
}

static int feed_next(sqlite3_vtab_cursor *c)
{
    ((feed_cur *)c)->i++;
    return SQLITE_OK;
}

static int feed_eof(sqlite3_vtab_cursor *c)
{
    const feedaux *a = ((feed_vtab *)c->pVtab)->aux;
    return ((feed_cur *)c)->i >= (a->kind == 0 ? a->im->nfitem : a->im->nfrec);
}

static int feed_column(sqlite3_vtab_cursor *c, sqlite3_context *ctx, int col)
{
    const feedaux *a = ((feed_vtab *)c->pVtab)->aux;
    size_t i = ((feed_cur *)c)->i;
    if (a->kind == 0) {
        const feeditem *x = &a->im->fitem[i];
        switch (col) {
        case 0: sqlite3_result_int64(ctx, x->rec); break;
        case 1: sqlite3_result_int64(ctx, x->prod); break;
        case 2: sqlite3_result_double(ctx, x->qty); break;
        default: sqlite3_result_double(ctx, x->w); break;
        }
        return SQLITE_OK;
    }
    const feedrec *x = &a->im->frec[i];
    switch (col) {
    case 0: sqlite3_result_int64(ctx, x->id); break;
    case 1: sqlite3_result_text(ctx, x->ext, (int)x->extn, SQLITE_STATIC); break;
    case 2: sqlite3_result_int64(ctx, x->city); break;
    case 3:
        if (x->has_ts)
            sqlite3_result_int64(ctx, x->ts);
        else
            sqlite3_result_null(ctx);
        break;
    default:
        if (x->custn)
            sqlite3_result_text(ctx, x->cust, (int)x->custn, SQLITE_STATIC);
        else
            sqlite3_result_null(ctx);
        break;
    }
    return SQLITE_OK;
}

static int feed_rowid(sqlite3_vtab_cursor *c, sqlite3_int64 *rowid)
{
    *rowid = (sqlite3_int64)((feed_cur *)c)->i;
    return SQLITE_OK;
}

static const sqlite3_module FEED_MODULE = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = feed_connect,
    .xBestIndex = feed_best_index,
    .xDisconnect = feed_disconnect,
    .xDestroy = feed_disconnect,
    .xOpen = feed_open,
    .xClose = feed_close,
    .xFilter = feed_filter,
    .xNext = feed_next,
    .xEof = feed_eof,
    .xColumn = feed_column,
    .xRowid = feed_rowid,
};

static int oom(rs_error *e) { return rs_seterr(e, RS_EINTERNAL, "out of memory"); }

static int sqlfail(imp *im, rs_error *e, const char *what) { return rs_store_sqlerr(im->s, e, what); }

static int step_done(imp *im, sqlite3_stmt *st, rs_error *e, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return sqlfail(im, e, what);
    return RS_OK;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s, size_t n)
{
    if (s && n)
        sqlite3_bind_text(st, i, s, (int)n, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static int load_map(imp *im, const char *sql, strmap *m, int64_t *next, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK, step;
    if (sqlite3_prepare_v2(im->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sqlfail(im, e, "loading ids");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *k = (const char *)sqlite3_column_text(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if (!k)
            continue;
        if (sm_put(m, k, n, id)) {
            rc = oom(e);
            break;
        }
        if (id >= *next)
            *next = id + 1;
        if (m == &im->cats && sqlite3_column_type(st, 2) != SQLITE_NULL) {
            if ((size_t)id >= im->cat_has_parent_n) {
                size_t nn = (size_t)id * 2 + 64;
                unsigned char *p = realloc(im->cat_has_parent, nn);
                if (!p) {
                    rc = oom(e);
                    break;
                }
                memset(p + im->cat_has_parent_n, 0, nn - im->cat_has_parent_n);
                im->cat_has_parent = p;
                im->cat_has_parent_n = nn;
            }
            im->cat_has_parent[id] = 1;
        }
    }
    if (rc == RS_OK && step != SQLITE_DONE)
        rc = sqlfail(im, e, "loading ids");
    sqlite3_finalize(st);
    return rc;
}

static int imp_init(imp *im, rs_store *s, const rs_import_opts *o, rs_import_report *rep,
                    rs_error *e)
{
    memset(im, 0, sizeof *im);
    im->s = s;
    im->db = rs_store_db(s);
    im->o = o;
    im->rep = rep;
    im->next_cat = im->next_prod = im->next_city = im->next_rec = 1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    im->nthreads = o->threads > 0 ? o->threads : (int)(ncpu < 1 ? 1 : ncpu > 8 ? 8 : ncpu);
    static const struct {
        size_t off;
        const char *sql;
    } S[] = {
        {offsetof(imp, st_cat), "INSERT INTO categories(id, ext_id, name, parent_id, level)"
                                " VALUES (?1, ?2, ?3, ?4, ?5)"},
        {offsetof(imp, st_cat_parent),
         "UPDATE categories SET parent_id = ?2 WHERE id = ?1 AND parent_id IS NULL"},
        {offsetof(imp, st_prod), "INSERT INTO products(id, ext_id, name, category_id, brand, price)"
                                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
        {offsetof(imp, st_prod_upd), "UPDATE products SET name = ?2, category_id = ?3,"
                                     " brand = coalesce(?4, brand), price = coalesce(?5, price)"
                                     " WHERE id = ?1"},
        {offsetof(imp, st_rec), "INSERT INTO receipts(id, ext_id, city_id, ts, customer)"
                                " VALUES (?1, ?2, ?3, ?4, ?5)"},
        {offsetof(imp, st_item_max),
         "INSERT INTO receipt_items(receipt_id, product_id, quantity, weight)"
         " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(receipt_id, product_id) DO UPDATE SET"
         " quantity = quantity + excluded.quantity, weight = max(weight, excluded.weight)"},
        {offsetof(imp, st_item_sum),
         "INSERT INTO receipt_items(receipt_id, product_id, quantity, weight)"
         " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(receipt_id, product_id) DO UPDATE SET"
         " quantity = quantity + excluded.quantity, weight = weight + excluded.weight"},
        {offsetof(imp, st_city), "INSERT INTO cities(id, name) VALUES (?1, ?2)"},
        {offsetof(imp, st_ledger),
         /* OR IGNORE: two files of one command with the same content get one row */
         "INSERT OR IGNORE INTO import_ledger(path, size, content_hash, kind, rows, skipped,"
         " imported_at)"
         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))"},
        {offsetof(imp, st_ledger_find),
         "SELECT path, imported_at FROM import_ledger WHERE content_hash = ?1"},
        {offsetof(imp, st_ledger_size), "SELECT count(*) FROM import_ledger WHERE size = ?1"},
    };
    for (size_t i = 0; i < sizeof S / sizeof S[0]; i++) {
        sqlite3_stmt **st = (sqlite3_stmt **)((char *)im + S[i].off);
        if (sqlite3_prepare_v3(im->db, S[i].sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) !=
            SQLITE_OK)
            return sqlfail(im, e, "preparing the import");
    }
    im->aux[0] = (feedaux){im, 0};
    im->aux[1] = (feedaux){im, 1};
    if (sqlite3_create_module_v2(im->db, "rs_import_items", &FEED_MODULE, &im->aux[0], NULL) !=
            SQLITE_OK ||
        sqlite3_create_module_v2(im->db, "rs_import_receipts", &FEED_MODULE, &im->aux[1], NULL) !=
            SQLITE_OK)
        return sqlfail(im, e, "registering the import feed");
    im->modules = 1;
    if (sqlite3_prepare_v3(im->db,
                           "INSERT INTO receipt_items(receipt_id, product_id, quantity, weight)"
                           " SELECT rec, prod, qty, w FROM rs_import_items WHERE 1"
                           " ON CONFLICT(receipt_id, product_id) DO UPDATE SET"
                           " quantity = quantity + excluded.quantity,"
                           " weight = max(weight, excluded.weight)",
                           -1, SQLITE_PREPARE_PERSISTENT, &im->st_feed_item, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(im->db,
                           "INSERT INTO receipts(id, ext_id, city_id, ts, customer)"
                           " SELECT id, ext, city, ts, cust FROM rs_import_receipts",
                           -1, SQLITE_PREPARE_PERSISTENT, &im->st_feed_rec, NULL) != SQLITE_OK)
        return sqlfail(im, e, "preparing the import feed");
    int rc;
    if ((rc = load_map(im, "SELECT id, ext_id, parent_id FROM categories", &im->cats,
                       &im->next_cat, e)) ||
        (rc = load_map(im, "SELECT id, ext_id FROM products", &im->prods, &im->next_prod, e)) ||
        (rc = load_map(im, "SELECT id, name FROM cities", &im->cities, &im->next_city, e)))
        return rc;
    int64_t *u = sm_get(&im->cats, UNCAT_NAME, strlen(UNCAT_NAME));
    im->uncat = u ? *u : 0;
    return RS_OK;
}

static void imp_free(imp *im)
{
    sqlite3_stmt *all[] = {im->st_cat,      im->st_cat_parent, im->st_prod,  im->st_prod_upd,
                           im->st_rec,      im->st_item_max,   im->st_item_sum, im->st_city,
                           im->st_ledger,   im->st_ledger_find, im->st_ledger_size};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sqlite3_finalize(all[i]);
    sqlite3_finalize(im->st_feed_item);
    sqlite3_finalize(im->st_feed_rec);
    if (im->modules) {
        sqlite3_create_module_v2(im->db, "rs_import_items", NULL, NULL, NULL);
        sqlite3_create_module_v2(im->db, "rs_import_receipts", NULL, NULL, NULL);
    }
    free(im->frec);
    free(im->fitem);
    sm_free(&im->cats);
    sm_free(&im->prods);
    sm_free(&im->cities);
    sm_free(&im->pend);
    free(im->recbloom);
    sqlite3_finalize(im->st_rec_find);
    sm_free(&im->visitors);
    free(im->cat_has_parent);
    free(im->ev);
    free(im->ev_name);
    free(im->ev_w);
    arena_free(&im->ar);
}

/* ---- entities ------------------------------------------------------------------- */

static int city_id(imp *im, const char *name, size_t n, int64_t *out, rs_error *e)
{
    int is_default = n == 0;
    if (is_default) {
        if (im->default_city) {
            *out = im->default_city;
            return RS_OK;
        }
        name = im->o->default_city && *im->o->default_city ? im->o->default_city : "default";
        n = strlen(name);
    }
    int64_t *v = sm_get(&im->cities, name, n);
    if (!v) {
        int64_t id = im->next_city++;
        sqlite3_bind_int64(im->st_city, 1, id);
        sqlite3_bind_text(im->st_city, 2, name, (int)n, SQLITE_STATIC);
        int rc = step_done(im, im->st_city, e, "adding a city");
        if (rc)
            return rc;
        if (sm_put(&im->cities, name, n, id))
            return oom(e);
        im->rep->cities_added++;
        v = sm_get(&im->cities, name, n);
    }
    *out = *v;
    if (is_default)
        im->default_city = *v;
    return RS_OK;
}

static void mark_parent(imp *im, int64_t id)
{
    if ((size_t)id >= im->cat_has_parent_n) {
        size_t nn = (size_t)id * 2 + 64;
        unsigned char *p = realloc(im->cat_has_parent, nn);
        if (!p)
            return; /* only an optimisation: the UPDATE is idempotent */
        memset(p + im->cat_has_parent_n, 0, nn - im->cat_has_parent_n);
        im->cat_has_parent = p;
        im->cat_has_parent_n = nn;
    }
    im->cat_has_parent[id] = 1;
}

static int has_parent(const imp *im, int64_t id)
{
    return (size_t)id < im->cat_has_parent_n && im->cat_has_parent[id];
}

/* A category row by ext id (created when absent).  level 0 = department. */
static int category_id(imp *im, const char *ext, size_t extn, const char *name, size_t namen,
                       int64_t parent, int level, int64_t *out, rs_error *e)
{
    int64_t *v = sm_get(&im->cats, ext, extn);
    int rc;
    if (v) {
        *out = *v;
        if (parent && !has_parent(im, *v)) {
            sqlite3_bind_int64(im->st_cat_parent, 1, *v);
            sqlite3_bind_int64(im->st_cat_parent, 2, parent);
            if ((rc = step_done(im, im->st_cat_parent, e, "setting a category's department")))
                return rc;
            mark_parent(im, *v);
        }
        return RS_OK;
    }
    int64_t id = im->next_cat++;
    sqlite3_bind_int64(im->st_cat, 1, id);
    sqlite3_bind_text(im->st_cat, 2, ext, (int)extn, SQLITE_STATIC);
    sqlite3_bind_text(im->st_cat, 3, name, (int)namen, SQLITE_STATIC);
    if (parent)
        sqlite3_bind_int64(im->st_cat, 4, parent);
    else
        sqlite3_bind_null(im->st_cat, 4);
    sqlite3_bind_int(im->st_cat, 5, level);
    if ((rc = step_done(im, im->st_cat, e, "adding a category")))
        return rc;
    if (sm_put(&im->cats, ext, extn, id))
        return oom(e);
    if (parent)
        mark_parent(im, id);
    if (level == 0)
        im->rep->departments_added++;
    else
        im->rep->categories_added++;
    *out = id;
    return RS_OK;
}

static int department_id(imp *im, const char *name, size_t n, int64_t *out, rs_error *e)
{
    char *ext = arena_alloc(&im->ar, n + 6);
    if (!ext)
        return oom(e);
    memcpy(ext, "dept:", 5);
    memcpy(ext + 5, name, n);
    ext[n + 5] = '\0';
    return category_id(im, ext, n + 5, name, n, 0, 0, out, e);
}

/* Category `cat` (empty: "(uncategorised)") under department `dept` (may be empty). */
static int category_under(imp *im, const char *cat, size_t catn, const char *dept, size_t deptn,
                          int64_t *out, int *uncat, rs_error *e)
{
    int64_t parent = 0;
    int rc;
    *uncat = 0;
    if (catn == 0) {
        *uncat = 1;
        if (!im->uncat &&
            (rc = category_id(im, UNCAT_NAME, strlen(UNCAT_NAME), UNCAT_NAME, strlen(UNCAT_NAME),
                              0, 1, &im->uncat, e)))
            return rc;
        *out = im->uncat;
        return RS_OK;
    }
    if (deptn && (rc = department_id(im, dept, deptn, &parent, e)))
        return rc;
    return category_id(im, cat, catn, cat, catn, parent, 1, out, e);
}

static int put_product(imp *im, const char *ext, size_t extn, const char *name, size_t namen,
                       int64_t cat, const char *brand, size_t brandn, int has_price, double price,
                       int64_t *out, rs_error *e)
{
    int64_t *v = sm_get(&im->prods, ext, extn);
    sqlite3_stmt *st = v ? im->st_prod_upd : im->st_prod;
    int64_t id = v ? *v : im->next_prod;
    if (!namen) {
        name = ext;
        namen = extn;
    }
    int k = 1;
    sqlite3_bind_int64(st, k++, id);
    if (!v)
        sqlite3_bind_text(st, k++, ext, (int)extn, SQLITE_STATIC);
    sqlite3_bind_text(st, k++, name, (int)namen, SQLITE_STATIC);
    sqlite3_bind_int64(st, k++, cat);
    bind_text_or_null(st, k++, brand, brandn);
    if (has_price)
        sqlite3_bind_double(st, k++, price);
    else
        sqlite3_bind_null(st, k++);
    int rc = step_done(im, st, e, v ? "updating a product" : "adding a product");
    if (rc)
        return rc;
    if (!v) {
        im->next_prod++;
        if (sm_put(&im->prods, ext, extn, id))
            return oom(e);
        im->rep->products_added++;
    } else
        im->rep->products_updated++;
    *out = id;
    return RS_OK;
}

/* ---- the ledger ----------------------------------------------------------------- */

/* Hashes the file in blocks, dropping each block's pages from memory behind it (a big
 * file must not stay resident: see rs_csv_file_release). */
static int file_hash(const rs_csv_file *f, char hex[65])
{
    const size_t block = (size_t)8 << 20;
    rs_sha256 c;
    unsigned char d[32];
    rs_sha256_init(&c);
    for (size_t off = 0; off < f->size; off += block) {
        size_t n = f->size - off < block ? f->size - off : block;
        rs_sha256_update(&c, f->data + off, n);
        rs_csv_file_release(f, off, off + n);
    }
    rs_sha256_final(&c, d);
    rs_sha256_tohex(d, hex);
    return 0;
}

/* *already = 1 when the hash is in the ledger (and the report gets the row). */
static int ledger_check(imp *im, const char *hex, int *already, rs_error *e)
{
    sqlite3_stmt *st = im->st_ledger_find;
    sqlite3_bind_text(st, 1, hex, 64, SQLITE_STATIC);
    int step = sqlite3_step(st);
    *already = step == SQLITE_ROW;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return sqlfail(im, e, "reading the import ledger");
    return RS_OK;
}

static int ledger_size_seen(imp *im, size_t size, int *seen, rs_error *e)
{
    sqlite3_stmt *st = im->st_ledger_size;
    sqlite3_bind_int64(st, 1, (int64_t)size);
    int step = sqlite3_step(st);
    *seen = step == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
    sqlite3_reset(st);
    if (step != SQLITE_ROW)
        return sqlfail(im, e, "reading the import ledger");
    return RS_OK;
}

/* Adds a report row; returns its index (rows move when the array grows), or -1. */
static int report_file(imp *im, const char *path, const char *kind, rs_error *e)
{
    rs_import_report *r = im->rep;
    rs_import_file *nf = realloc(r->files, (size_t)(r->nfiles + 1) * sizeof *nf);
    if (!nf) {
        oom(e);
        return -1;
    }
    r->files = nf;
    rs_import_file *f = &nf[r->nfiles];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path))) {
        oom(e);
        return -1;
    }
    snprintf(f->kind, sizeof f->kind, "%s", kind);
    return r->nfiles++;
}
#define RF(i) (&im->rep->files[i])

static int ledger_add(imp *im, const rs_csv_file *f, const char *hex, const char *kind,
                      int64_t rows, int64_t skipped, rs_error *e)
{
    sqlite3_stmt *st = im->st_ledger;
    sqlite3_bind_text(st, 1, f->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)f->size);
    sqlite3_bind_text(st, 3, hex, 64, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, rows);
    sqlite3_bind_int64(st, 6, skipped);
    return step_done(im, st, e, "writing the import ledger");
}

/* Opens path, hashes it and checks the ledger.  *skip = 1 when already imported (the
 * file is closed then and a report row with already = 1 is added). */
static int open_checked(imp *im, const char *path, const char *kind, rs_csv_file **out,
                        char hex[65], int *rf, int *skip, rs_error *e)
{
    *out = NULL;
    *skip = 0;
    int rc = rs_csv_file_open(path, out, e);
    if (rc)
        return rc;
    file_hash(*out, hex);
    int already = 0;
    if ((rc = ledger_check(im, hex, &already, e)))
        goto fail;
    if ((*rf = report_file(im, path, kind, e)) < 0) {
        rc = RS_EINTERNAL;
        goto fail;
    }
    if (already) {
        RF(*rf)->already = 1;
        *skip = 1;
        rs_csv_file_close(*out);
        *out = NULL;
    }
    return RS_OK;
fail:
    rs_csv_file_close(*out);
    *out = NULL;
    return rc;
}

/* ---- headers and sequential files ----------------------------------------------- */

/* Reads the header record of f.  On success r is positioned on the first data record. */
static int read_header(const rs_csv_file *f, char delim, rs_csv_reader *r, rs_error *e)
{
    if (!delim)
        delim = rs_csv_detect_delim(f->data + f->body, f->size - f->body);
    rs_csv_reader_init(r, f->data, f->body, f->size, delim, 1);
    int rc = rs_csv_read(r);
    if (rc == RS_CSV_END)
        return rs_seterr(e, RS_EDATA, "%s:1:1: empty file (expected a header line)", f->path);
    if (rc == RS_CSV_NOMEM)
        return oom(e);
    if (rc == RS_CSV_ERR)
        return rs_seterr(e, RS_EDATA, "%s:%lld:%lld: %s", f->path, (long long)r->err_line,
                         (long long)r->err_col, r->err_msg);
    return RS_OK;
}

/* Finds a column: the user's name if given, else the first alias present.  Returns -1
 * when absent. */
static int find_col(const rs_csv_reader *h, const char *user, const char *const *aliases)
{
    if (user)
        return rs_csv_find(h->f, h->nf, user);
    for (; aliases && *aliases; aliases++) {
        int i = rs_csv_find(h->f, h->nf, *aliases);
        if (i >= 0)
            return i;
    }
    return -1;
}

static int missing_col(const rs_csv_file *f, const rs_csv_reader *h, const char *name,
                       rs_error *e)
{
    char cols[400];
    size_t k = 0;
    cols[0] = '\0';
    for (size_t i = 0; i < h->nf && k + 4 < sizeof cols; i++) {
        int w = snprintf(cols + k, sizeof cols - k, "%s%.*s", i ? ", " : "",
                         (int)(h->f[i].n > 60 ? 60 : h->f[i].n), h->f[i].p);
        if (w < 0)
            break;
        k += (size_t)w;
    }
    return rs_seterr(e, RS_EDATA, "%s:1:1: missing required column '%s' (the header has: %s)",
                     f->path, name, cols);
}

static int rfail(const rs_csv_file *f, rs_csv_reader *r, const char *raw, rs_error *e,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int rfail(const rs_csv_file *f, rs_csv_reader *r, const char *raw, rs_error *e,
                 const char *fmt, ...)
{
    int64_t line, col;
    rs_csv_where(r, raw, &line, &col);
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rs_seterr(e, RS_EDATA, "%s:%lld:%lld: %s", f->path, (long long)line, (long long)col,
                     msg);
}

static int read_row(const rs_csv_file *f, rs_csv_reader *r, size_t nhdr, int *got, rs_error *e)
{
    int rc = rs_csv_read(r);
    *got = rc == RS_CSV_ROW;
    if (rc == RS_CSV_NOMEM)
        return oom(e);
    if (rc == RS_CSV_ERR)
        return rs_seterr(e, RS_EDATA, "%s:%lld:%lld: %s", f->path, (long long)r->err_line,
                         (long long)r->err_col, r->err_msg);
    if (rc == RS_CSV_ROW && nhdr && r->nf != nhdr) {
        if (r->nf > nhdr)
            return rfail(f, r, r->f[nhdr].raw, e, "expected %zu fields (as in the header), found %zu",
                         nhdr, r->nf);
        const char *endp = r->p;
        if (endp > r->rec_start && endp[-1] == '\n')
            endp--;
        if (endp > r->rec_start && endp[-1] == '\r')
            endp--;
        return rfail(f, r, endp, e, "expected %zu fields (as in the header), found %zu", nhdr,
                     r->nf);
    }
    return RS_OK;
}

/* An id field: trimmed, non-empty, valid UTF-8. */
static int id_field(const rs_csv_file *f, rs_csv_reader *r, int col, const char *what,
                    const char **p, size_t *n, rs_error *e)
{
    *p = r->f[col].p;
    *n = r->f[col].n;
    trim(p, n);
    if (*n == 0)
        return rfail(f, r, r->f[col].raw, e, "empty %s", what);
    if (!rs_utf8_valid(*p, *n))
        return rfail(f, r, r->f[col].raw, e, "invalid UTF-8 in the %s", what);
    return RS_OK;
}

/* A text field (name, brand, ...): trimmed; invalid UTF-8 repaired (counted). */
static int text_field(imp *im, rs_csv_reader *r, int col, const char **p, size_t *n, rs_error *e)
{
    if (col < 0 || (size_t)col >= r->nf) {
        *p = "";
        *n = 0;
        return RS_OK;
    }
    *p = r->f[col].p;
    *n = r->f[col].n;
    trim(p, n);
    if (!rs_utf8_valid(*p, *n)) {
        if (!(*p = utf8_fix(&im->ar, *p, *n, n)))
            return oom(e);
        im->rep->name_fixes++;
    }
    return RS_OK;
}

static int is_na(const char *p, size_t n)
{
    return n == 0 || (n == 2 && strncasecmp(p, "NA", 2) == 0) ||
           (n == 4 && strncasecmp(p, "NULL", 4) == 0);
}

/* categories.csv: category,department */
static int import_categories(imp *im, const char *path, rs_error *e)
{
    rs_csv_file *f = NULL;
    rs_csv_reader r;
    char hex[65];
    int rf = -1;
    int skip, rc = open_checked(im, path, "categories", &f, hex, &rf, &skip, e);
    if (rc || skip)
        return rc;
    static const char *const A_CAT[] = {"category", "category_id", "name", NULL};
    static const char *const A_DEPT[] = {"department", "parent", "department_name", NULL};
    if ((rc = read_header(f, im->o->delimiter, &r, e)))
        goto done;
    int cc = find_col(&r, im->o->ccol[RS_CCOL_CATEGORY], A_CAT);
    int cd = find_col(&r, im->o->ccol[RS_CCOL_DEPARTMENT], A_DEPT);
    if (cc < 0) {
        rc = missing_col(f, &r, im->o->ccol[RS_CCOL_CATEGORY] ? im->o->ccol[RS_CCOL_CATEGORY] : "category", e);
        goto done;
    }
    size_t nh = r.nf;
    for (;;) {
        int got;
        if ((rc = read_row(f, &r, nh, &got, e)) || !got)
            break;
        const char *c, *d = "";
        size_t cn, dn = 0;
        if ((rc = id_field(f, &r, cc, "category", &c, &cn, e)))
            break;
        if (cd >= 0 && (rc = text_field(im, &r, cd, &d, &dn, e)))
            break;
        int64_t id;
        int unc;
        if ((rc = category_under(im, c, cn, d, dn, &id, &unc, e)))
            break;
        RF(rf)->rows++;
    }
    if (rc == RS_OK)
        rc = ledger_add(im, f, hex, "categories", RF(rf)->rows, 0, e);
done:
    rs_csv_reader_free(&r);
    rs_csv_file_close(f);
    return rc;
}

/* products: canonical (product_id,name,category[,department,brand,price]) and the
 * Complete Journey layouts (name built from brand, type and size). */
static int import_products(imp *im, const char *path, int cj, rs_error *e)
{
    rs_csv_file *f = NULL;
    rs_csv_reader r;
    memset(&r, 0, sizeof r);
    char hex[65];
    int rf = -1;
    int skip, rc = open_checked(im, path, "products", &f, hex, &rf, &skip, e);
    if (rc || skip)
        return rc;
    static const char *const A_ID[] = {"product_id", "id", NULL};
    static const char *const A_NAME[] = {"name", "product_name", NULL};
    static const char *const A_CAT[] = {"category", "product_category", "commodity_desc", NULL};
    static const char *const A_DEPT[] = {"department", NULL};
    static const char *const A_BRAND[] = {"brand", NULL};
    static const char *const A_PRICE[] = {"price", NULL};
    static const char *const A_TYPE[] = {"product_type", "sub_commodity_desc", NULL};
    static const char *const A_SIZE[] = {"package_size", "curr_size_of_product", NULL};
    const char *const *pc = im->o->pcol;
    if ((rc = read_header(f, im->o->delimiter, &r, e)))
        goto done;
    int ci = find_col(&r, pc[RS_PCOL_PRODUCT], A_ID);
    int cn = find_col(&r, pc[RS_PCOL_NAME], A_NAME);
    int cc = find_col(&r, pc[RS_PCOL_CATEGORY], A_CAT);
    int cd = find_col(&r, pc[RS_PCOL_DEPARTMENT], A_DEPT);
    int cb = find_col(&r, pc[RS_PCOL_BRAND], A_BRAND);
    int cp = find_col(&r, pc[RS_PCOL_PRICE], A_PRICE);
    int ct = cj ? find_col(&r, NULL, A_TYPE) : -1;
    int cs = cj ? find_col(&r, NULL, A_SIZE) : -1;
    if (ci < 0) {
        rc = missing_col(f, &r, pc[RS_PCOL_PRODUCT] ? pc[RS_PCOL_PRODUCT] : "product_id", e);
        goto done;
    }
    if (cn < 0 && !cj) {
        rc = missing_col(f, &r, pc[RS_PCOL_NAME] ? pc[RS_PCOL_NAME] : "name", e);
        goto done;
    }
    if (cc < 0 && !cj) {
        rc = missing_col(f, &r, pc[RS_PCOL_CATEGORY] ? pc[RS_PCOL_CATEGORY] : "category", e);
        goto done;
    }
    size_t nh = r.nf;
    char *namebuf = NULL;
    size_t namecap = 0;
    for (;;) {
        int got;
        if ((rc = read_row(f, &r, nh, &got, e)) || !got)
            break;
        const char *id, *name, *cat, *dept, *brand;
        size_t idn, namen, catn, deptn, brandn;
        if ((rc = id_field(f, &r, ci, "product id", &id, &idn, e)) ||
            (rc = text_field(im, &r, cn, &name, &namen, e)) ||
            (rc = text_field(im, &r, cc, &cat, &catn, e)) ||
            (rc = text_field(im, &r, cd, &dept, &deptn, e)) ||
            (rc = text_field(im, &r, cb, &brand, &brandn, e)))
            break;
        if (cj) {
            if (is_na(cat, catn) || (catn >= 14 && strncasecmp(cat, "NO COMMODITY", 12) == 0))
                catn = 0;
            if (is_na(dept, deptn))
                deptn = 0;
            if (is_na(brand, brandn))
                brandn = 0;
        }
        if (cj && cn < 0) { /* name = brand type size */
            const char *parts[3];
            size_t lens[3];
            parts[0] = brand;
            lens[0] = brandn;
            if ((rc = text_field(im, &r, ct, &parts[1], &lens[1], e)) ||
                (rc = text_field(im, &r, cs, &parts[2], &lens[2], e)))
                break;
            size_t need = lens[0] + lens[1] + lens[2] + idn + 16;
            if (need > namecap) {
                char *nb = realloc(namebuf, need);
                if (!nb) {
                    rc = oom(e);
                    break;
                }
                namebuf = nb;
                namecap = need;
            }
            size_t k = 0;
            for (int i = 0; i < 3; i++) {
                if (is_na(parts[i], lens[i]))
                    continue;
                if (k)
                    namebuf[k++] = ' ';
                memcpy(namebuf + k, parts[i], lens[i]);
                k += lens[i];
            }
            if (k == 0)
                k = (size_t)snprintf(namebuf, namecap, "product %.*s", (int)idn, id);
            name = namebuf;
            namen = k;
        }
        double price = 0;
        int has_price = 0;
        if (cp >= 0) {
            const char *pp = r.f[cp].p;
            size_t pn = r.f[cp].n;
            trim(&pp, &pn);
            if (pn && !is_na(pp, pn)) {
                if (parse_num(pp, pn, &price)) {
                    rc = rfail(f, &r, r.f[cp].raw, e, "non-numeric price '%.*s'",
                               (int)(pn > 40 ? 40 : pn), pp);
                    break;
                }
                has_price = 1;
            }
        }
        int64_t cat_id, pid;
        int unc;
        if ((rc = category_under(im, cat, catn, dept, deptn, &cat_id, &unc, e)))
            break;
        im->rep->uncategorised += unc;
        if ((rc = put_product(im, id, idn, name, namen, cat_id, brand, brandn, has_price, price,
                              &pid, e)))
            break;
        RF(rf)->rows++;
    }
    free(namebuf);
    if (rc == RS_OK)
        rc = ledger_add(im, f, hex, "products", RF(rf)->rows, 0, e);
done:
    rs_csv_reader_free(&r);
    rs_csv_file_close(f);
    return rc;
}

/* ---- receipts: the parallel pipeline ------------------------------------------------ */

enum { MODE_CANON, MODE_RETAIL, MODE_BASKET, MODE_EVENTS, MODE_CJ };

typedef struct sref {
    const char *p;
    uint32_t n;
} sref;

typedef struct rrow {
    sref rid, pext, pname, city, cust;
    int64_t line, ts;
    double qty, weight, price;
    int64_t prod; /* > 0 resolved; 0: the writer resolves (products created on sight) */
    uint8_t has_ts, has_price;
} rrow;

typedef struct chunk {
    size_t start, end;
    int state; /* 0 waiting, 1 parsing, 2 done */
    rrow *rows;
    size_t nrows, cap;
    arena ar;
    int64_t nlines;
    const char *stop;
    int err; /* RS_EDATA: eline/ecol/emsg; RS_EINTERNAL: emsg */
    int64_t eline, ecol;
    char emsg[600];
    int64_t rows_read, skipped_unknown, skipped_cancel, skipped_nonpos, skipped_events, name_fixes;
} chunk;

enum { C_RID, C_PID, C_CITY, C_QTY, C_TS, C_CUST, C_NAME, C_PRICE, C_DAY, C_TTIME, C_EVENT, C_NCOLS };

typedef struct rjob {
    imp *im;
    rs_csv_file *f;
    char delim;
    int mode;
    size_t nhdr;
    int col[C_NCOLS];
    char base[64]; /* basket-lines: receipt id prefix */
    chunk *ch;
    size_t nch, next, consumed, window;
    int abort;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} rjob;

static int cfail(chunk *c, rs_csv_reader *r, const char *raw, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int cfail(chunk *c, rs_csv_reader *r, const char *raw, const char *fmt, ...)
{
    rs_csv_where(r, raw, &c->eline, &c->ecol);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->emsg, sizeof c->emsg, fmt, ap);
    va_end(ap);
    c->err = RS_EDATA;
    return -1;
}

/* Keeps a field's bytes alive past the next record (scratch fields are copied). */
static int keep(chunk *c, const rs_csv_reader *r, const char *p, size_t n, sref *out)
{
    if (r->scratch && p >= r->scratch && p < r->scratch + r->caps) {
        if (!(p = arena_dup(&c->ar, p, n)))
            return -1;
    }
    out->p = p;
    out->n = (uint32_t)n;
    return 0;
}

static rrow *new_row(chunk *c)
{
    if (c->nrows == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        rrow *nr = realloc(c->rows, cap * sizeof *nr);
        if (!nr)
            return NULL;
        c->rows = nr;
        c->cap = cap;
    }
    rrow *x = &c->rows[c->nrows++];
    memset(x, 0, sizeof *x);
    x->qty = 1;
    x->weight = 1;
    return x;
}

static int chunk_oom(chunk *c)
{
    c->err = RS_EINTERNAL;
    snprintf(c->emsg, sizeof c->emsg, "out of memory");
    return -1;
}

static int w_id(chunk *c, rs_csv_reader *r, int col, const char *what, sref *out)
{
    const char *p = r->f[col].p;
    size_t n = r->f[col].n;
    trim(&p, &n);
    if (n == 0)
        return cfail(c, r, r->f[col].raw, "empty %s", what);
    if (!rs_utf8_valid(p, n))
        return cfail(c, r, r->f[col].raw, "invalid UTF-8 in the %s", what);
    if (keep(c, r, p, n, out))
        return chunk_oom(c);
    return 0;
}

static int w_text(chunk *c, rs_csv_reader *r, int col, sref *out)
{
    out->p = "";
    out->n = 0;
    if (col < 0 || (size_t)col >= r->nf)
        return 0;
    const char *p = r->f[col].p;
    size_t n = r->f[col].n;
    trim(&p, &n);
    if (!rs_utf8_valid(p, n)) {
        if (!(p = utf8_fix(&c->ar, p, n, &n)))
            return chunk_oom(c);
        c->name_fixes++;
        out->p = p;
        out->n = (uint32_t)n;
        return 0;
    }
    if (keep(c, r, p, n, out))
        return chunk_oom(c);
    return 0;
}

static double event_weight(const imp *im, const char *p, size_t n, int *known)
{
    for (int i = 0; i < im->nev; i++)
        if (strlen(im->ev_name[i]) == n && strncasecmp(im->ev_name[i], p, n) == 0) {
            *known = 1;
            return im->ev_w[i];
        }
    *known = 0;
    return 0;
}

/* Parses one record into rows.  Returns 0 (row(s) added or skipped) or -1 (c->err). */
static int parse_record(rjob *j, chunk *c, rs_csv_reader *r)
{
    const imp *im = j->im;
    const int *col = j->col;
    if (j->nhdr && r->nf != j->nhdr) {
        if (r->nf > j->nhdr)
            return cfail(c, r, r->f[j->nhdr].raw,
                         "expected %zu fields (as in the header), found %zu", j->nhdr, r->nf);
        const char *endp = r->p;
        if (endp > r->rec_start && endp[-1] == '\n')
            endp--;
        if (endp > r->rec_start && endp[-1] == '\r')
            endp--;
        return cfail(c, r, endp, "expected %zu fields (as in the header), found %zu", j->nhdr,
                     r->nf);
    }
    if (j->mode == MODE_BASKET) {
        size_t last = r->nf;
        while (last && r->f[last - 1].n == 0)
            last--;
        char idbuf[96];
        int idn = snprintf(idbuf, sizeof idbuf, "%s:%lld", j->base, (long long)r->rec_line);
        char *rid = arena_dup(&c->ar, idbuf, (size_t)idn);
        if (!rid)
            return chunk_oom(c);
        for (size_t i = 0; i < last; i++) {
            const char *p = r->f[i].p;
            size_t n = r->f[i].n;
            trim(&p, &n);
            if (n == 0)
                continue;
            if (!rs_utf8_valid(p, n))
                return cfail(c, r, r->f[i].raw, "invalid UTF-8 in an item name");
            rrow *x = new_row(c);
            if (!x || keep(c, r, p, n, &x->pext))
                return chunk_oom(c);
            x->rid = (sref){rid, (uint32_t)idn};
            x->pname = x->pext;
            x->line = r->rec_line;
        }
        return 0;
    }
    sref rid, pext;
    if (j->mode == MODE_RETAIL) {
        const char *p = r->f[col[C_RID]].p;
        size_t n = r->f[col[C_RID]].n;
        trim(&p, &n);
        if (n && (p[0] == 'C' || p[0] == 'c')) {
            c->skipped_cancel++;
            return 0;
        }
    }
    if (j->mode == MODE_EVENTS) {
        if (w_id(c, r, col[C_RID], "visitor id", &rid) || w_id(c, r, col[C_PID], "item id", &pext))
            return -1;
    } else if (w_id(c, r, col[C_RID], "receipt id", &rid) ||
               w_id(c, r, col[C_PID], "product id", &pext))
        return -1;
    double qty = 1, weight = 1;
    if (col[C_QTY] >= 0) {
        const char *p = r->f[col[C_QTY]].p;
        size_t n = r->f[col[C_QTY]].n;
        trim(&p, &n);
        if (n && parse_num(p, n, &qty))
            return cfail(c, r, r->f[col[C_QTY]].raw, "non-numeric quantity '%.*s'",
                         (int)(n > 40 ? 40 : n), p);
        if (j->mode == MODE_RETAIL && qty <= 0) {
            c->skipped_nonpos++;
            return 0;
        }
    }
    if (j->mode == MODE_EVENTS) {
        const char *p = r->f[col[C_EVENT]].p;
        size_t n = r->f[col[C_EVENT]].n;
        trim(&p, &n);
        int known;
        weight = event_weight(im, p, n, &known);
        if (!known) {
            c->skipped_events++;
            return 0;
        }
    }
    int64_t ts = 0;
    int has_ts = 0;
    if (col[C_TS] >= 0) {
        const char *p = r->f[col[C_TS]].p;
        size_t n = r->f[col[C_TS]].n;
        trim(&p, &n);
        if (n) {
            if (rs_parse_time(p, n, &ts))
                return cfail(c, r, r->f[col[C_TS]].raw,
                             "unreadable timestamp '%.*s' (expected unix seconds, "
                             "YYYY-MM-DD[ HH:MM[:SS]] or M/D/YYYY H:MM)",
                             (int)(n > 40 ? 40 : n), p);
            has_ts = 1;
        } else if (j->mode == MODE_EVENTS)
            return cfail(c, r, r->f[col[C_TS]].raw, "empty timestamp");
    } else if (col[C_DAY] >= 0) { /* Complete Journey: DAY (1-based) and TRANS_TIME (HHMM) */
        double day, hm = 0;
        const char *p = r->f[col[C_DAY]].p;
        size_t n = r->f[col[C_DAY]].n;
        if (parse_num(p, n, &day) || day < 0 || day > 1e8)
            return cfail(c, r, r->f[col[C_DAY]].raw, "DAY is not a day number");
        if (col[C_TTIME] >= 0 && (parse_num(r->f[col[C_TTIME]].p, r->f[col[C_TTIME]].n, &hm) ||
                                  hm < 0 || hm > 2400))
            return cfail(c, r, r->f[col[C_TTIME]].raw, "TRANS_TIME is not a time (HHMM)");
        int64_t h = (int64_t)hm;
        ts = ((int64_t)day - 1) * 86400 + (h / 100) * 3600 + (h % 100) * 60;
        has_ts = 1;
    }
    int64_t prod = 0;
    if (j->mode == MODE_CANON || j->mode == MODE_CJ) {
        int64_t *v = sm_get(&im->prods, pext.p, pext.n);
        if (!v) {
            if (im->o->skip_unknown) {
                c->skipped_unknown++;
                return 0;
            }
            return cfail(c, r, r->f[col[C_PID]].raw,
                         "unknown product '%.*s' (not in the catalogue: import its products "
                         "first, or use --unknown-products skip)",
                         (int)(pext.n > 60 ? 60 : pext.n), pext.p);
        }
        prod = *v;
    }
    rrow *x = new_row(c);
    if (!x)
        return chunk_oom(c);
    x->rid = rid;
    x->pext = pext;
    x->prod = prod;
    x->qty = qty;
    x->weight = weight;
    x->ts = ts;
    x->has_ts = (uint8_t)has_ts;
    x->line = r->rec_line;
    if (w_text(c, r, col[C_CITY], &x->city) || w_text(c, r, col[C_CUST], &x->cust) ||
        w_text(c, r, col[C_NAME], &x->pname))
        return -1;
    if (col[C_PRICE] >= 0) {
        const char *p = r->f[col[C_PRICE]].p;
        size_t n = r->f[col[C_PRICE]].n;
        trim(&p, &n);
        if (n && parse_num(p, n, &x->price) == 0)
            x->has_price = 1;
    }
    return 0;
}

static void parse_chunk(rjob *j, chunk *c)
{
    rs_csv_reader r;
    rs_csv_reader_init(&r, j->f->data, c->start, c->end, j->delim, 1);
    for (;;) {
        int rc = rs_csv_read(&r);
        if (rc == RS_CSV_END)
            break;
        if (rc == RS_CSV_NOMEM) {
            chunk_oom(c);
            break;
        }
        if (rc == RS_CSV_ERR) {
            c->err = RS_EDATA;
            c->eline = r.err_line;
            c->ecol = r.err_col;
            snprintf(c->emsg, sizeof c->emsg, "%s", r.err_msg);
            break;
        }
        c->rows_read++;
        if (parse_record(j, c, &r))
            break;
        if (__atomic_load_n(&j->abort, __ATOMIC_RELAXED))
            break;
    }
    c->nlines = r.line - 1;
    c->stop = r.p;
    rs_csv_reader_free(&r);
}

static void *worker(void *arg)
{
    rjob *j = arg;
    pthread_mutex_lock(&j->mu);
    for (;;) {
        while (!j->abort && j->next < j->nch && j->next >= j->consumed + j->window)
            pthread_cond_wait(&j->cv, &j->mu);
        if (j->abort || j->next >= j->nch)
            break;
        chunk *c = &j->ch[j->next++];
        c->state = 1;
        pthread_mutex_unlock(&j->mu);
        parse_chunk(j, c);
        pthread_mutex_lock(&j->mu);
        c->state = 2;
        pthread_cond_broadcast(&j->cv);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

typedef struct hashjob {
    const rs_csv_file *f;
    char hex[65];
} hashjob;

static void *hasher(void *arg)
{
    hashjob *h = arg;
    file_hash(h->f, h->hex);
    return NULL;
}

static int auto_product(imp *im, int mode, const rrow *x, int64_t *out, rs_error *e)
{
    int64_t *v = sm_get(&im->prods, x->pext.p, x->pext.n);
    if (v) {
        *out = *v;
        return RS_OK;
    }
    int64_t cat;
    int unc = 0, rc;
    if (mode == MODE_BASKET)
        rc = category_under(im, x->pname.p, x->pname.n, NULL, 0, &cat, &unc, e);
    else
        rc = category_under(im, NULL, 0, NULL, 0, &cat, &unc, e);
    if (rc)
        return rc;
    im->rep->uncategorised += unc;
    const char *name = x->pname.p;
    size_t namen = x->pname.n;
    char buf[96];
    if (mode == MODE_EVENTS && namen == 0) {
        namen = (size_t)snprintf(buf, sizeof buf, "item %.*s", (int)(x->pext.n > 60 ? 60 : x->pext.n),
                                 x->pext.p);
        name = buf;
    }
    return put_product(im, x->pext.p, x->pext.n, name, namen, cat, NULL, 0, x->has_price,
                       x->price, out, e);
}

/* The receipts' external ids are not kept in memory (a 2 GB file holds millions):
 * a fixed-size Bloom filter (32 MiB; 4 bits in one 64-bit word per key, so one cache
 * miss) answers "certainly new" for almost every new receipt; a "maybe" is resolved
 * among the receipts queued for the current flush (im->pend) and then through the
 * UNIQUE index on receipts.ext_id.  False "maybe"s (an SQLite lookup that finds
 * nothing): 1 in 110,000 new receipts with 1 million receipts, 1 in 7,000 with 4
 * million, 1 in 11 with 50 million. */
#define BLOOM_BITS ((size_t)1 << 28)

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t bloom_mask(uint64_t h2)
{
    return ((uint64_t)1 << (h2 & 63)) | ((uint64_t)1 << ((h2 >> 6) & 63)) |
           ((uint64_t)1 << ((h2 >> 12) & 63)) | ((uint64_t)1 << ((h2 >> 18) & 63));
}

static void bloom_add(uint64_t *b, uint64_t h)
{
    uint64_t h2 = mix64(h);
    b[(h2 >> 24) & (BLOOM_BITS / 64 - 1)] |= bloom_mask(h2);
}

static int bloom_has(const uint64_t *b, uint64_t h)
{
    uint64_t h2 = mix64(h), m = bloom_mask(h2);
    return (b[(h2 >> 24) & (BLOOM_BITS / 64 - 1)] & m) == m;
}

static int load_receipts(imp *im, rs_error *e)
{
    if (im->recs_loaded)
        return RS_OK;
    sqlite3_stmt *st = NULL;
    int rc = RS_OK, step;
    /* calloc: the pages stay untouched (not resident) until a bit is set in them */
    if (!im->recbloom && !(im->recbloom = calloc(BLOOM_BITS / 64, sizeof *im->recbloom)))
        return oom(e);
    if ((!im->st_rec_find &&
         sqlite3_prepare_v3(im->db, "SELECT id FROM receipts WHERE ext_id = ?1", -1,
                            SQLITE_PREPARE_PERSISTENT, &im->st_rec_find, NULL) != SQLITE_OK) ||
        sqlite3_prepare_v2(im->db, "SELECT id, ext_id FROM receipts", -1, &st, NULL) != SQLITE_OK)
        return sqlfail(im, e, "loading receipt ids");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *k = (const char *)sqlite3_column_text(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if (k)
            bloom_add(im->recbloom, hstr(k, n));
        if (id >= im->next_rec)
            im->next_rec = id + 1;
    }
    if (step != SQLITE_DONE)
        rc = sqlfail(im, e, "loading receipt ids");
    sqlite3_finalize(st);
    if (rc == RS_OK)
        im->recs_loaded = 1;
    return rc;
}

/* *out = the id of the receipt with external id ext, or 0 when there is none. */
static int find_receipt(imp *im, const char *ext, size_t n, uint64_t h, int64_t *out,
                        rs_error *e)
{
    *out = 0;
    if (!bloom_has(im->recbloom, h))
        return RS_OK;
    sment *x = sm_find(&im->pend, ext, n, h);
    if (x) {
        *out = x->v;
        return RS_OK;
    }
    sqlite3_stmt *st = im->st_rec_find;
    sqlite3_bind_text(st, 1, ext, (int)n, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return sqlfail(im, e, "looking up a receipt");
    return RS_OK;
}

/* Receipt id for an external id, created (with city, ts, customer) when new. */
static int receipt_id(imp *im, const char *ext, size_t n, const sref *city, int has_ts,
                      int64_t ts, const sref *cust, int64_t *out, rs_error *e)
{
    uint64_t h = hstr(ext, n);
    int64_t found;
    int rc = find_receipt(im, ext, n, h, &found, e);
    if (rc)
        return rc;
    if (found) {
        *out = found;
        return RS_OK;
    }
    int64_t cid = 0;
    if ((rc = city_id(im, city ? city->p : NULL, city ? city->n : 0, &cid, e)))
        return rc;
    int64_t id = im->next_rec++;
    const char *key;
    if (sm_put2(&im->pend, ext, n, id, &key))
        return oom(e);
    bloom_add(im->recbloom, h);
    /* queued for flush_feed(); the ext id is the map's copy, the customer must stay
     * valid until the flush */
    if (im->nfrec == im->capfrec) {
        size_t cap = im->capfrec ? im->capfrec * 2 : 4096;
        feedrec *nr = realloc(im->frec, cap * sizeof *nr);
        if (!nr)
            return oom(e);
        im->frec = nr;
        im->capfrec = cap;
    }
    im->frec[im->nfrec++] = (feedrec){id, cid, ts, key, cust ? cust->p : NULL, (uint32_t)n,
                                      cust ? cust->n : 0, has_ts};
    im->rep->receipts_added++;
    *out = id;
    return RS_OK;
}

/* Sorts each run of lines of one receipt by product and merges equal products, so
 * that receipt_items gets keys in increasing order (SQLite's b-tree then appends
 * instead of searching) and fewer conflicts. */
static void sort_items(imp *im)
{
    feeditem *v = im->fitem;
    size_t n = im->nfitem, out = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && v[j].rec == v[i].rec)
            j++;
        for (size_t a = i + 1; a < j; a++) { /* insertion sort: receipts are small */
            feeditem x = v[a];
            size_t b = a;
            while (b > i && v[b - 1].prod > x.prod) {
                v[b] = v[b - 1];
                b--;
            }
            v[b] = x;
        }
        for (size_t a = i; a < j; a++) {
            if (a > i && v[a].prod == v[out - 1].prod) {
                v[out - 1].qty += v[a].qty;
                if (v[a].w > v[out - 1].w)
                    v[out - 1].w = v[a].w;
            } else
                v[out++] = v[a];
        }
        i = j;
    }
    im->nfitem = out;
}

/* Inserts the queued receipts and lines. */
static int flush_feed(imp *im, rs_error *e)
{
    int rc = RS_OK;
    if (im->nfrec) {
        int step = sqlite3_step(im->st_feed_rec);
        sqlite3_reset(im->st_feed_rec);
        if (step != SQLITE_DONE)
            rc = sqlfail(im, e, "adding receipts");
        im->nfrec = 0;
        sm_free(&im->pend); /* they are in the database now */
    }
    if (rc == RS_OK && im->nfitem) {
        int step = sqlite3_step(im->st_feed_item);
        sqlite3_reset(im->st_feed_item);
        if (step != SQLITE_DONE)
            rc = sqlfail(im, e, "adding receipt lines");
        im->nfitem = 0;
    }
    return rc;
}

static int queue_item(imp *im, int64_t rec, int64_t prod, double qty, double w, rs_error *e)
{
    if (im->nfitem == im->capfitem) {
        size_t cap = im->capfitem ? im->capfitem * 2 : 65536;
        feeditem *ni = realloc(im->fitem, cap * sizeof *ni);
        if (!ni)
            return oom(e);
        im->fitem = ni;
        im->capfitem = cap;
    }
    im->fitem[im->nfitem++] = (feeditem){rec, prod, qty, w};
    return RS_OK;
}

static int add_item(imp *im, sqlite3_stmt *st, int64_t rec, int64_t prod, double qty, double w,
                    rs_error *e)
{
    sqlite3_bind_int64(st, 1, rec);
    sqlite3_bind_int64(st, 2, prod);
    sqlite3_bind_double(st, 3, qty);
    sqlite3_bind_double(st, 4, w);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return sqlfail(im, e, "adding a receipt line");
    return RS_OK;
}

static int push_event(imp *im, const rrow *x, int64_t prod, rs_error *e)
{
    int64_t *v = sm_get(&im->visitors, x->rid.p, x->rid.n);
    int64_t vid;
    if (v)
        vid = *v;
    else {
        vid = (int64_t)im->visitors.len;
        if (sm_put(&im->visitors, x->rid.p, x->rid.n, vid))
            return oom(e);
    }
    if (im->nevrows == im->capev) {
        size_t cap = im->capev ? im->capev * 2 : 65536;
        evrow *ne = realloc(im->ev, cap * sizeof *ne);
        if (!ne)
            return oom(e);
        im->ev = ne;
        im->capev = cap;
    }
    im->ev[im->nevrows++] = (evrow){(int32_t)vid, (int32_t)prod, x->ts, x->weight};
    return RS_OK;
}

/* Writes one parsed chunk (in file order). */
static int write_chunk(rjob *j, chunk *c, char **prev, size_t *prevcap, size_t *prevn,
                       int64_t *prevrec, rs_error *e)
{
    imp *im = j->im;
    int auto_prod = j->mode == MODE_RETAIL || j->mode == MODE_BASKET || j->mode == MODE_EVENTS;
    int rc = RS_OK;
    for (size_t i = 0; i < c->nrows; i++) {
        const rrow *x = &c->rows[i];
        int64_t prod = x->prod, rec;
        if (!prod && auto_prod && (rc = auto_product(im, j->mode, x, &prod, e)))
            return rc;
        if (j->mode == MODE_EVENTS) {
            if ((rc = push_event(im, x, prod, e)))
                return rc;
            im->rep->lines++;
            continue;
        }
        if (*prevrec && x->rid.n == *prevn && memcmp(x->rid.p, *prev, *prevn) == 0)
            rec = *prevrec;
        else {
            if ((rc = receipt_id(im, x->rid.p, x->rid.n, &x->city, x->has_ts, x->ts, &x->cust,
                                 &rec, e)))
                return rc;
            if (x->rid.n > *prevcap) {
                size_t cap = x->rid.n * 2 + 16;
                char *np = realloc(*prev, cap);
                if (!np)
                    return oom(e);
                *prev = np;
                *prevcap = cap;
            }
            memcpy(*prev, x->rid.p, x->rid.n);
            *prevn = x->rid.n;
            *prevrec = rec;
        }
        if ((rc = queue_item(im, rec, prod, x->qty, x->weight, e)))
            return rc;
        im->rep->lines++;
    }
    sort_items(im);
    /* the rows' strings live in the chunk: write before it is freed */
    rc = flush_feed(im, e);
    *prevrec = 0; /* prev points into the chunk's receipt: compare again next time */
    return rc;
}

static void basename_of(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, n, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = '\0';
}

static const char *const A_RID[] = {"receipt_id", "order_id", "basket_id", NULL};
static const char *const A_PID[] = {"product_id", NULL};
static const char *const A_CITY[] = {"city", NULL};
static const char *const A_QTY[] = {"quantity", NULL};
static const char *const A_TS[] = {"timestamp", "transaction_timestamp", "time", NULL};
static const char *const A_CUST[] = {"customer_id", "household_key", "household_id", "user_id",
                                     NULL};
static const char *const R_RID[] = {"InvoiceNo", "Invoice", NULL};
static const char *const R_PID[] = {"StockCode", NULL};
static const char *const R_CITY[] = {"Country", NULL};
static const char *const R_TS[] = {"InvoiceDate", NULL};
static const char *const R_CUST[] = {"CustomerID", "Customer ID", NULL};
static const char *const R_NAME[] = {"Description", NULL};
static const char *const R_PRICE[] = {"UnitPrice", "Price", NULL};
static const char *const E_RID[] = {"visitorid", "visitor_id", "session_id", NULL};
static const char *const E_PID[] = {"itemid", "item_id", "product_id", NULL};
static const char *const E_TS[] = {"timestamp", NULL};
static const char *const E_EVENT[] = {"event", "event_type", NULL};
static const char *const CJ_DAY[] = {"DAY", NULL};
static const char *const CJ_TTIME[] = {"TRANS_TIME", NULL};

/* Resolves the receipt file's columns for the mode.  Returns RS_OK or a missing column. */
static int resolve_cols(rjob *j, const rs_csv_reader *h, rs_error *e)
{
    const char *const *u = j->im->o->rcol;
    int *col = j->col;
    for (int i = 0; i < C_NCOLS; i++)
        col[i] = -1;
    const char *const *a_rid = A_RID, *const *a_pid = A_PID, *const *a_city = A_CITY,
                                *const *a_ts = A_TS, *const *a_cust = A_CUST;
    if (j->mode == MODE_RETAIL) {
        a_rid = R_RID;
        a_pid = R_PID;
        a_city = R_CITY;
        a_ts = R_TS;
        a_cust = R_CUST;
        col[C_NAME] = find_col(h, NULL, R_NAME);
        col[C_PRICE] = find_col(h, NULL, R_PRICE);
    } else if (j->mode == MODE_EVENTS) {
        a_rid = E_RID;
        a_pid = E_PID;
        a_ts = E_TS;
        col[C_EVENT] = find_col(h, NULL, E_EVENT);
    }
    col[C_RID] = find_col(h, u[RS_COL_RECEIPT], a_rid);
    col[C_PID] = find_col(h, u[RS_COL_PRODUCT], a_pid);
    col[C_CITY] = find_col(h, u[RS_COL_CITY], a_city);
    col[C_QTY] = find_col(h, u[RS_COL_QUANTITY], A_QTY);
    col[C_TS] = find_col(h, u[RS_COL_TIME], a_ts);
    col[C_CUST] = find_col(h, u[RS_COL_CUSTOMER], a_cust);
    if (j->mode == MODE_CJ && col[C_TS] < 0) {
        col[C_DAY] = find_col(h, NULL, CJ_DAY);
        col[C_TTIME] = find_col(h, NULL, CJ_TTIME);
    }
    /* a column the user named explicitly must exist */
    static const char *const rolename[RS_RCOLS] = {"receipt_id", "product_id", "city",
                                                   "quantity",   "timestamp",  "customer_id"};
    static const int rolecol[RS_RCOLS] = {C_RID, C_PID, C_CITY, C_QTY, C_TS, C_CUST};
    for (int i = 0; i < RS_RCOLS; i++)
        if (u[i] && col[rolecol[i]] < 0)
            return missing_col(j->f, h, u[i], e);
    if (col[C_RID] < 0)
        return missing_col(j->f, h, j->mode == MODE_RETAIL ? "InvoiceNo"
                                    : j->mode == MODE_EVENTS ? "visitorid" : rolename[0], e);
    if (col[C_PID] < 0)
        return missing_col(j->f, h, j->mode == MODE_RETAIL ? "StockCode"
                                    : j->mode == MODE_EVENTS ? "itemid" : rolename[1], e);
    if (j->mode == MODE_EVENTS && col[C_EVENT] < 0)
        return missing_col(j->f, h, "event", e);
    if (j->mode == MODE_EVENTS && col[C_TS] < 0)
        return missing_col(j->f, h, "timestamp", e);
    return RS_OK;
}

static void progress(imp *im, const char *path, uint64_t done, uint64_t total)
{
    if (im->o->progress)
        im->o->progress(im->o->progress_ctx, path, done, total, im->rep->lines);
}

static int import_receipts(imp *im, const char *path, int mode, const char *kind, rs_error *e)
{
    int rc = RS_OK;
    rs_csv_file *f = NULL;
    rs_csv_reader h;
    memset(&h, 0, sizeof h);
    rjob j;
    memset(&j, 0, sizeof j);
    pthread_t *th = NULL, hth;
    int nth = 0, hash_started = 0, mu_init = 0;
    hashjob hj;
    char *prev = NULL;
    size_t prevcap = 0, prevn = 0;
    int64_t prevrec = 0;
    size_t *cut = NULL;
    int rf = -1;

    if ((rc = rs_csv_file_open(path, &f, e)))
        return rc;
    if ((rc = load_receipts(im, e)))
        goto done;
    if ((rf = report_file(im, path, kind, e)) < 0) {
        rc = RS_EINTERNAL;
        goto done;
    }
    /* The hash is only needed up front when a ledger file has the same size; otherwise
     * it is computed on its own thread while the file is parsed. */
    int seen;
    if ((rc = ledger_size_seen(im, f->size, &seen, e)))
        goto done;
    hj.f = f;
    if (seen) {
        file_hash(f, hj.hex);
        int already;
        if ((rc = ledger_check(im, hj.hex, &already, e)))
            goto done;
        if (already) {
            RF(rf)->already = 1;
            goto done;
        }
    } else {
        if (pthread_create(&hth, NULL, hasher, &hj) != 0) {
            rc = rs_seterr(e, RS_EINTERNAL, "cannot start a thread");
            goto done;
        }
        hash_started = 1;
    }

    j.im = im;
    j.f = f;
    j.mode = mode;
    j.delim = im->o->delimiter ? im->o->delimiter : rs_csv_detect_delim(f->data + f->body, f->size - f->body);
    size_t start = f->body;
    int64_t first_line = 1;
    if (mode == MODE_BASKET) {
        basename_of(path, j.base, sizeof j.base);
        for (int i = 0; i < C_NCOLS; i++)
            j.col[i] = -1;
    } else {
        if ((rc = read_header(f, j.delim, &h, e)))
            goto done;
        if ((rc = resolve_cols(&j, &h, e)))
            goto done;
        j.nhdr = h.nf;
        start = (size_t)(h.p - f->data);
        first_line = h.line;
    }

    size_t body = f->size - start;
    size_t want = body / (im->o->chunk_bytes ? im->o->chunk_bytes : CHUNK_BYTES) + 1;
    if (want > 65536)
        want = 65536;
    if (!(cut = malloc((want + 1) * sizeof *cut))) {
        rc = oom(e);
        goto done;
    }
    j.nch = rs_csv_file_split(f, start, want, cut);
    if (!(j.ch = calloc(j.nch, sizeof *j.ch))) {
        rc = oom(e);
        goto done;
    }
    for (size_t i = 0; i < j.nch; i++) {
        j.ch[i].start = cut[i];
        j.ch[i].end = cut[i + 1];
    }
    nth = im->nthreads;
    if ((size_t)nth > j.nch)
        nth = (int)j.nch;
    j.window = (size_t)nth * 2 + 1;
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    mu_init = 1;
    if (!(th = calloc((size_t)nth, sizeof *th))) {
        rc = oom(e);
        goto done;
    }
    for (int i = 0; i < nth; i++)
        if (pthread_create(&th[i], NULL, worker, &j) != 0) {
            nth = i;
            rc = rs_seterr(e, RS_EINTERNAL, "cannot start a parser thread");
            goto done;
        }

    int64_t line_base = first_line; /* file line of the current chunk's first line */
    for (size_t k = 0; k < j.nch && rc == RS_OK; k++) {
        chunk *c = &j.ch[k];
        pthread_mutex_lock(&j.mu);
        while (c->state != 2)
            pthread_cond_wait(&j.cv, &j.mu);
        pthread_mutex_unlock(&j.mu);
        if (c->err == RS_EDATA)
            rc = rs_seterr(e, RS_EDATA, "%s:%lld:%lld: %s", path,
                           (long long)(line_base + c->eline - 1), (long long)c->ecol, c->emsg);
        else if (c->err)
            rc = rs_seterr(e, c->err, "%s: %s", path, c->emsg);
        else if (c->stop != f->data + c->end)
            rc = rs_seterr(e, RS_EINTERNAL,
                           "%s:%lld: cannot cut the file into chunks for parallel parsing "
                           "(rerun with --threads 1)",
                           path, (long long)(line_base + c->nlines));
        else
            rc = write_chunk(&j, c, &prev, &prevcap, &prevn, &prevrec, e);
        if (rc == RS_OK) {
            RF(rf)->rows += c->rows_read;
            RF(rf)->skipped += c->skipped_unknown + c->skipped_cancel + c->skipped_nonpos +
                           c->skipped_events;
            im->rep->skipped_unknown += c->skipped_unknown;
            im->rep->skipped_cancelled += c->skipped_cancel;
            im->rep->skipped_nonpositive += c->skipped_nonpos;
            im->rep->skipped_events += c->skipped_events;
            im->rep->name_fixes += c->name_fixes;
        }
        line_base += c->nlines;
        free(c->rows);
        c->rows = NULL;
        arena_free(&c->ar);
        /* written: its part of the file need not stay resident (bounded RSS) */
        rs_csv_file_release(f, c->start, c->end);
        pthread_mutex_lock(&j.mu);
        j.consumed = k + 1;
        if (rc)
            __atomic_store_n(&j.abort, 1, __ATOMIC_RELAXED);
        pthread_cond_broadcast(&j.cv);
        pthread_mutex_unlock(&j.mu);
        progress(im, path, c->end, f->size);
    }
    if (hash_started) {
        pthread_join(hth, NULL);
        hash_started = 0;
    }
    if (rc == RS_OK)
        rc = ledger_add(im, f, hj.hex, kind, RF(rf)->rows, RF(rf)->skipped, e);
done:
    if (mu_init) {
        pthread_mutex_lock(&j.mu);
        __atomic_store_n(&j.abort, 1, __ATOMIC_RELAXED);
        pthread_cond_broadcast(&j.cv);
        pthread_mutex_unlock(&j.mu);
    }
    for (int i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    if (hash_started)
        pthread_join(hth, NULL);
    if (mu_init) {
        pthread_mutex_destroy(&j.mu);
        pthread_cond_destroy(&j.cv);
    }
    for (size_t k = 0; j.ch && k < j.nch; k++) {
        free(j.ch[k].rows);
        arena_free(&j.ch[k].ar);
    }
    free(j.ch);
    free(th);
    free(cut);
    free(prev);
    rs_csv_reader_free(&h);
    rs_csv_file_close(f);
    return rc;
}

/* ---- events: sessions ----------------------------------------------------------- */

static int cmp_ev(const void *a, const void *b)
{
    const evrow *x = a, *y = b;
    if (x->visitor != y->visitor)
        return x->visitor < y->visitor ? -1 : 1;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->prod > y->prod) - (x->prod < y->prod);
}

static int parse_event_weights(imp *im, rs_error *e)
{
    const char *spec = im->o->event_weights ? im->o->event_weights : "view=1,addtocart=5,transaction=3";
    char *copy = arena_dup(&im->ar, spec, strlen(spec));
    if (!copy)
        return oom(e);
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        char *end = NULL;
        double w = eq ? strtod(eq + 1, &end) : 0;
        if (!eq || eq == tok || end == eq + 1 || *end)
            return rs_seterr(e, RS_EUSAGE, "bad event weight '%s' (expected NAME=WEIGHT, e.g. "
                                           "view=1,addtocart=5,transaction=3)", tok);
        *eq = '\0';
        char **nn = realloc(im->ev_name, (size_t)(im->nev + 1) * sizeof *nn);
        if (!nn)
            return oom(e);
        im->ev_name = nn;
        double *nw = realloc(im->ev_w, (size_t)(im->nev + 1) * sizeof *nw);
        if (!nw)
            return oom(e);
        im->ev_w = nw;
        im->ev_name[im->nev] = tok;
        im->ev_w[im->nev++] = w;
    }
    return RS_OK;
}

static int write_sessions(imp *im, rs_error *e)
{
    if (!im->nevrows)
        return RS_OK;
    qsort(im->ev, im->nevrows, sizeof *im->ev, cmp_ev);
    /* visitor index -> external id */
    const char **vname = calloc(im->visitors.len ? im->visitors.len : 1, sizeof *vname);
    uint32_t *vlen = calloc(im->visitors.len ? im->visitors.len : 1, sizeof *vlen);
    int rc = RS_OK;
    if (!vname || !vlen) {
        rc = oom(e);
        goto done;
    }
    for (size_t i = 0; i < im->visitors.cap; i++)
        if (im->visitors.t[i].k) {
            vname[im->visitors.t[i].v] = im->visitors.t[i].k;
            vlen[im->visitors.t[i].v] = im->visitors.t[i].n;
        }
    int64_t gap = im->o->session_gap > 0 ? im->o->session_gap : 1800;
    int64_t rec = 0;
    char ext[128];
    for (size_t i = 0; i < im->nevrows && rc == RS_OK; i++) {
        const evrow *x = &im->ev[i];
        if (i == 0 || x->visitor != im->ev[i - 1].visitor || x->ts - im->ev[i - 1].ts > gap) {
            int n = snprintf(ext, sizeof ext, "%.*s@%lld", (int)(vlen[x->visitor] > 80 ? 80 : vlen[x->visitor]),
                             vname[x->visitor], (long long)x->ts);
            sref cust = {vname[x->visitor], vlen[x->visitor]};
            if ((rc = receipt_id(im, ext, (size_t)n, NULL, 1, x->ts, &cust, &rec, e)))
                break;
        }
        rc = add_item(im, im->st_item_sum, rec, x->prod, 1, x->w, e);
    }
    if (rc == RS_OK)
        rc = flush_feed(im, e);
done:
    free(vname);
    free(vlen);
    return rc;
}

/* ---- presets: inputs ------------------------------------------------------------- */

static int is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int path_join(char *out, size_t n, const char *dir, const char *name, rs_error *e)
{
    if ((size_t)snprintf(out, n, "%s/%s", dir, name) >= n)
        return rs_seterr(e, RS_EUSAGE, "%s/%s: path too long", dir, name);
    return RS_OK;
}

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files in dir whose names start with prefix and end with ".csv", sorted. */
static int list_dir(const char *dir, const char *prefix, char ***out, int *n, rs_error *e)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return rs_seterr(e, RS_EUSAGE, "%s: cannot open directory: %s", dir, strerror(errno));
    int rc = RS_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 || l < 4 ||
            strcmp(de->d_name + l - 4, ".csv") != 0)
            continue;
        char **nv = realloc(*out, (size_t)(*n + 1) * sizeof *nv);
        if (!nv) {
            rc = oom(e);
            break;
        }
        *out = nv;
        size_t need = strlen(dir) + l + 2;
        if (!((*out)[*n] = malloc(need))) {
            rc = oom(e);
            break;
        }
        snprintf((*out)[*n], need, "%s/%s", dir, de->d_name);
        (*n)++;
    }
    closedir(d);
    if (*n > 1)
        qsort(*out, (size_t)*n, sizeof **out, cmp_str);
    return rc;
}

static void free_list(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Instacart: departments.csv, aisles.csv, products.csv, order_products__*.csv.
 * Departments become level-0 categories "dept:<name>", aisles level-1 categories keyed
 * by the aisle name, under the department of their products. */
static int import_instacart(imp *im, const char *dir, rs_error *e)
{
    char pd[4096], pa[4096], pp[4096];
    int rc;
    if ((rc = path_join(pd, sizeof pd, dir, "departments.csv", e)) ||
        (rc = path_join(pa, sizeof pa, dir, "aisles.csv", e)) ||
        (rc = path_join(pp, sizeof pp, dir, "products.csv", e)))
        return rc;
    const char *need[3] = {pd, pa, pp};
    for (int i = 0; i < 3; i++)
        if (!exists(need[i]))
            return rs_seterr(e, RS_EUSAGE, "%s: missing (the instacart preset needs "
                                           "departments.csv, aisles.csv, products.csv and "
                                           "order_products__*.csv in the directory)", need[i]);
    rs_csv_file *f[3] = {NULL, NULL, NULL};
    rs_csv_reader r;
    memset(&r, 0, sizeof r);
    strmap dname = {0}, aname = {0}; /* id -> index into names */
    const char **dn = NULL, **an = NULL;
    size_t *dnl = NULL, *anl = NULL;
    int64_t *adept = NULL, *acat = NULL, *dcat = NULL;
    size_t nd = 0, na = 0;
    char hex[3][65];
    int already[3] = {0, 0, 0};
    int rf[3] = {-1, -1, -1};
    static const char *kinds[3] = {"departments", "aisles", "products"};
    int64_t rows[3] = {0, 0, 0};

    for (int i = 0; i < 3; i++) {
        if ((rc = rs_csv_file_open(need[i], &f[i], e)))
            goto done;
        file_hash(f[i], hex[i]);
        if ((rc = ledger_check(im, hex[i], &already[i], e)))
            goto done;
        if ((rf[i] = report_file(im, need[i], kinds[i], e)) < 0) {
            rc = RS_EINTERNAL;
            goto done;
        }
        RF(rf[i])->already = already[i];
    }
    /* departments.csv and aisles.csv: id -> name */
    for (int t = 0; t < 2; t++) {
        static const char *const ID[2][2] = {{"department_id", NULL}, {"aisle_id", NULL}};
        static const char *const NAME[2][2] = {{"department", NULL}, {"aisle", NULL}};
        strmap *m = t == 0 ? &dname : &aname;
        const char ***names = t == 0 ? &dn : &an;
        size_t **lens = t == 0 ? &dnl : &anl;
        size_t *cnt = t == 0 ? &nd : &na;
        if ((rc = read_header(f[t], 0, &r, e)))
            goto done;
        int ci = find_col(&r, NULL, ID[t]), cn = find_col(&r, NULL, NAME[t]);
        if (ci < 0 || cn < 0) {
            rc = missing_col(f[t], &r, ci < 0 ? ID[t][0] : NAME[t][0], e);
            goto done;
        }
        size_t nh = r.nf;
        for (;;) {
            int got;
            if ((rc = read_row(f[t], &r, nh, &got, e)) || !got)
                break;
            const char *id, *nm;
            size_t idn, nmn;
            if ((rc = id_field(f[t], &r, ci, t ? "aisle id" : "department id", &id, &idn, e)) ||
                (rc = text_field(im, &r, cn, &nm, &nmn, e)))
                break;
            if (sm_get(m, id, idn))
                continue;
            const char **nv = realloc(*names, (*cnt + 1) * sizeof *nv);
            size_t *lv = nv ? realloc(*lens, (*cnt + 1) * sizeof *lv) : NULL;
            if (nv)
                *names = nv;
            if (lv)
                *lens = lv;
            char *copy = arena_dup(&im->ar, nm, nmn);
            if (!nv || !lv || !copy || sm_put(m, id, idn, (int64_t)*cnt)) {
                rc = oom(e);
                break;
            }
            (*names)[*cnt] = copy;
            (*lens)[*cnt] = nmn;
            (*cnt)++;
            rows[t]++;
        }
        rs_csv_reader_free(&r);
        if (rc)
            goto done;
    }
    adept = malloc((na + 1) * sizeof *adept);
    acat = calloc(na + 1, sizeof *acat);
    dcat = calloc(nd + 1, sizeof *dcat);
    if (!adept || !acat || !dcat) {
        rc = oom(e);
        goto done;
    }
    for (size_t i = 0; i < na; i++)
        adept[i] = -1;
    /* pass 1 over products: the department of each aisle */
    static const char *const P_ID[] = {"product_id", NULL}, *const P_NAME[] = {"product_name", NULL},
                             *const P_AISLE[] = {"aisle_id", NULL},
                             *const P_DEPT[] = {"department_id", NULL};
    int cols[4];
    size_t nh = 0;
    for (int pass = 0; pass < 2 && !already[2]; pass++) {
        if ((rc = read_header(f[2], 0, &r, e)))
            goto done;
        cols[0] = find_col(&r, NULL, P_ID);
        cols[1] = find_col(&r, NULL, P_NAME);
        cols[2] = find_col(&r, NULL, P_AISLE);
        cols[3] = find_col(&r, NULL, P_DEPT);
        static const char *cname[4] = {"product_id", "product_name", "aisle_id", "department_id"};
        for (int i = 0; i < 4; i++)
            if (cols[i] < 0) {
                rc = missing_col(f[2], &r, cname[i], e);
                goto done;
            }
        nh = r.nf;
        if (pass == 1) { /* categories: departments, then aisles, in file order */
            for (size_t d = 0; d < nd && rc == RS_OK; d++)
                rc = department_id(im, dn[d], dnl[d], &dcat[d], e);
            for (size_t a = 0; a < na && rc == RS_OK; a++)
                rc = category_id(im, an[a], anl[a], an[a], anl[a],
                                 adept[a] >= 0 ? dcat[adept[a]] : 0, 1, &acat[a], e);
            if (rc)
                goto done;
        }
        for (;;) {
            int got;
            if ((rc = read_row(f[2], &r, nh, &got, e)) || !got)
                break;
            const char *pid, *aid, *did, *name;
            size_t pidn, aidn, didn, namen;
            if ((rc = id_field(f[2], &r, cols[0], "product id", &pid, &pidn, e)) ||
                (rc = id_field(f[2], &r, cols[2], "aisle id", &aid, &aidn, e)) ||
                (rc = id_field(f[2], &r, cols[3], "department id", &did, &didn, e)))
                break;
            int64_t *ai = sm_get(&aname, aid, aidn), *di = sm_get(&dname, did, didn);
            if (!ai || !di) {
                rc = rfail(f[2], &r, r.f[ai ? cols[3] : cols[2]].raw, e, "unknown %s '%.*s'",
                           ai ? "department" : "aisle", (int)(ai ? didn : aidn), ai ? did : aid);
                break;
            }
            if (pass == 0) {
                if (adept[*ai] < 0)
                    adept[*ai] = *di;
                continue;
            }
            if ((rc = text_field(im, &r, cols[1], &name, &namen, e)))
                break;
            int64_t id;
            if ((rc = put_product(im, pid, pidn, name, namen, acat[*ai], NULL, 0, 0, 0, &id, e)))
                break;
            rows[2]++;
        }
        rs_csv_reader_free(&r);
        if (rc)
            goto done;
    }
    if (already[2]) { /* catalogue present: make sure the categories exist anyway */
        for (size_t d = 0; d < nd && rc == RS_OK; d++)
            rc = department_id(im, dn[d], dnl[d], &dcat[d], e);
        for (size_t a = 0; a < na && rc == RS_OK; a++)
            rc = category_id(im, an[a], anl[a], an[a], anl[a], 0, 1, &acat[a], e);
    }
    for (int i = 0; i < 3 && rc == RS_OK; i++) {
        if (already[i])
            continue;
        RF(rf[i])->rows = rows[i];
        rc = ledger_add(im, f[i], hex[i], kinds[i], rows[i], 0, e);
    }
    if (rc)
        goto done;
    char **files = NULL;
    int nfiles = 0;
    if ((rc = list_dir(dir, "order_products__", &files, &nfiles, e)) == RS_OK) {
        if (nfiles == 0)
            rc = rs_seterr(e, RS_EUSAGE, "%s: no order_products__*.csv files", dir);
        for (int i = 0; i < nfiles && rc == RS_OK; i++)
            rc = import_receipts(im, files[i], MODE_CANON, "receipts", e);
    }
    free_list(files, nfiles);
done:
    rs_csv_reader_free(&r);
    for (int i = 0; i < 3; i++)
        rs_csv_file_close(f[i]);
    sm_free(&dname);
    sm_free(&aname);
    free(dn);
    free(an);
    free(dnl);
    free(anl);
    free(adept);
    free(acat);
    free(dcat);
    return rc;
}

/* Classifies a Complete Journey file by its header: 1 = products, 0 = transactions. */
static int cj_kind(const char *path, int *is_products, rs_error *e)
{
    rs_csv_file *f = NULL;
    rs_csv_reader r;
    int rc = rs_csv_file_open(path, &f, e);
    if (rc)
        return rc;
    if ((rc = read_header(f, 0, &r, e)) == RS_OK) {
        int basket = rs_csv_find(r.f, r.nf, "basket_id") >= 0;
        int dept = rs_csv_find(r.f, r.nf, "department") >= 0;
        if (!basket && !dept)
            rc = rs_seterr(e, RS_EUSAGE,
                           "%s: neither a Complete Journey transactions file (BASKET_ID) nor a "
                           "products file (DEPARTMENT)", path);
        *is_products = !basket;
    }
    rs_csv_reader_free(&r);
    rs_csv_file_close(f);
    return rc;
}

static int import_completejourney(imp *im, rs_error *e)
{
    static const char *const PNAMES[] = {"product.csv", "products.csv", NULL};
    static const char *const TNAMES[] = {"transaction_data.csv", "transactions.csv",
                                         "transactions_sample.csv", NULL};
    /* the files found, in argument order: paths owned here (joined from directories) or
     * borrowed (file arguments); products first, then transactions */
    int n = im->o->ninputs, np = 0, nt = 0, rc = RS_OK;
    size_t per = sizeof PNAMES / sizeof *PNAMES + sizeof TNAMES / sizeof *TNAMES;
    size_t cap = (size_t)(n > 0 ? n : 1) * per;
    const char **prods = calloc(cap, sizeof *prods), **trans = calloc(cap, sizeof *trans);
    char **owned = calloc(cap, sizeof *owned);
    size_t nowned = 0;
    if (!prods || !trans || !owned) {
        rc = oom(e);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const char *in = im->o->inputs[i];
        if (is_dir(in)) {
            int found = 0;
            for (int t = 0; t < 2; t++)
                for (const char *const *nm = t ? TNAMES : PNAMES; *nm; nm++) {
                    size_t need = strlen(in) + strlen(*nm) + 2;
                    char *path = malloc(need);
                    if (!path) {
                        rc = oom(e);
                        goto done;
                    }
                    snprintf(path, need, "%s/%s", in, *nm);
                    if (!exists(path)) {
                        free(path);
                        continue;
                    }
                    owned[nowned++] = path;
                    found |= 1 << t;
                    if (t)
                        trans[nt++] = path;
                    else
                        prods[np++] = path;
                }
            if (found != 3) {
                rc = rs_seterr(e, RS_EUSAGE,
                               "%s: expected product.csv and transaction_data.csv (original "
                               "layout) or products.csv and transactions.csv (R export)", in);
                goto done;
            }
        } else {
            int isp;
            if ((rc = cj_kind(in, &isp, e)))
                goto done;
            if (isp)
                prods[np++] = in;
            else
                trans[nt++] = in;
        }
    }
    for (int i = 0; i < np && rc == RS_OK; i++)
        rc = import_products(im, prods[i], 1, e);
    for (int i = 0; i < nt && rc == RS_OK; i++)
        rc = import_receipts(im, trans[i], MODE_CJ, "receipts", e);
done:
    for (size_t i = 0; owned && i < nowned; i++)
        free(owned[i]);
    free(owned);
    free(prods);
    free(trans);
    return rc;
}

/* ---- the run ------------------------------------------------------------------------ */

void rs_import_opts_init(rs_import_opts *o)
{
    memset(o, 0, sizeof *o);
    o->session_gap = 1800;
}

void rs_import_opts_free(rs_import_opts *o)
{
    if (o->mapping)
        cJSON_Delete(o->mapping);
    o->mapping = NULL;
}

void rs_import_report_free(rs_import_report *r)
{
    for (int i = 0; i < r->nfiles; i++)
        free(r->files[i].path);
    free(r->files);
    memset(r, 0, sizeof *r);
}

static int import_all(imp *im, rs_error *e)
{
    const rs_import_opts *o = im->o;
    int rc = RS_OK;
    if (o->categories && (rc = import_categories(im, o->categories, e)))
        return rc;
    if (o->products && (rc = import_products(im, o->products, 0, e)))
        return rc;
    const char *p = o->preset;
    if (!p) {
        for (int i = 0; i < o->ninputs && rc == RS_OK; i++)
            rc = import_receipts(im, o->inputs[i], MODE_CANON, "receipts", e);
        return rc;
    }
    if (o->ninputs == 0)
        return rs_seterr(e, RS_EUSAGE, "the %s preset needs its %s as argument", p,
                         strcmp(p, "instacart") == 0 || strcmp(p, "completejourney") == 0
                             ? "directory" : "file(s)");
    if (strcmp(p, "instacart") == 0) {
        for (int i = 0; i < o->ninputs && rc == RS_OK; i++) {
            if (!is_dir(o->inputs[i]))
                return rs_seterr(e, RS_EUSAGE, "%s: the instacart preset expects a directory",
                                 o->inputs[i]);
            rc = import_instacart(im, o->inputs[i], e);
        }
        return rc;
    }
    if (strcmp(p, "completejourney") == 0)
        return import_completejourney(im, e);
    int mode = strcmp(p, "online-retail") == 0  ? MODE_RETAIL
               : strcmp(p, "basket-lines") == 0 ? MODE_BASKET
               : strcmp(p, "events") == 0       ? MODE_EVENTS
                                                : -1;
    if (mode < 0)
        return rs_seterr(e, RS_EUSAGE, "unknown preset '%s' (known: instacart, completejourney, "
                                       "online-retail, basket-lines, events)", p);
    if (mode == MODE_EVENTS && (rc = parse_event_weights(im, e)))
        return rc;
    for (int i = 0; i < o->ninputs && rc == RS_OK; i++)
        rc = import_receipts(im, o->inputs[i], mode, p, e);
    if (rc == RS_OK && mode == MODE_EVENTS)
        rc = write_sessions(im, e);
    return rc;
}

int rs_import_run(rs_store *s, const rs_import_opts *o, rs_import_report *rep, rs_error *e)
{
    memset(rep, 0, sizeof *rep);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    imp im;
    int rc;
    /* 64 MiB of page cache: the transaction's pages beyond it spill into the WAL before
     * the commit.  Measured on the 484 MB synthetic CSV: no slower than 256 MiB, and
     * 150 MB less resident memory (docs/BENCHMARKS.md, "Import memory"). */
    if ((rc = rs_store_exec(s, "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY", e)))
        return rc;
    if ((rc = rs_store_begin(s, e)))
        return rc;
    if ((rc = imp_init(&im, s, o, rep, e)) == RS_OK && (rc = import_all(&im, e)) == RS_OK &&
        (rc = rs_store_refresh_popularity(s, e)) == RS_OK)
        rc = rs_store_commit(s, e);
    imp_free(&im);
    if (rc)
        rs_store_rollback(s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rep->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return rc;
}

/* ---- the JSON mapping file ---------------------------------------------------------- */

static int map_section(rs_import_opts *o, const cJSON *sec, const char *secname,
                       const char *const *keys, const char **dst, int nkeys, const char *path,
                       rs_error *e)
{
    if (!cJSON_IsObject(sec))
        return rs_seterr(e, RS_EDATA, "%s: \"%s\" must be an object of column names", path,
                         secname);
    (void)o;
    for (const cJSON *it = sec->child; it; it = it->next) {
        int k;
        for (k = 0; k < nkeys; k++)
            if (strcmp(it->string, keys[k]) == 0)
                break;
        if (k == nkeys)
            return rs_seterr(e, RS_EDATA, "%s: unknown key \"%s.%s\"", path, secname, it->string);
        if (!cJSON_IsString(it) || !*it->valuestring)
            return rs_seterr(e, RS_EDATA, "%s: \"%s.%s\" must be a column name (a string)", path,
                             secname, it->string);
        if (!dst[k])
            dst[k] = it->valuestring;
    }
    return RS_OK;
}

int rs_import_mapping_load(rs_import_opts *o, const char *path, rs_error *e)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return rs_seterr(e, RS_EUSAGE, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = RS_OK;
    for (;;) {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) {
                rc = oom(e);
                goto done;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: read error", path);
        goto done;
    }
    buf[n] = '\0';
    cJSON *root = cJSON_Parse(buf);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        int line = 1, col = 1;
        for (const char *q = buf; at && q < at && *q; q++) {
            if (*q == '\n') {
                line++;
                col = 1;
            } else
                col++;
        }
        rc = rs_seterr(e, RS_EDATA, "%s:%d:%d: invalid JSON", path, line, col);
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        rc = rs_seterr(e, RS_EDATA, "%s: the mapping must be a JSON object", path);
        goto done;
    }
    if (o->mapping)
        cJSON_Delete(o->mapping);
    o->mapping = root;
    static const char *const RK[RS_RCOLS] = {"receipt_id", "product_id", "city",
                                             "quantity",   "timestamp",  "customer_id"};
    static const char *const PK[RS_PCOLS] = {"product_id", "name", "category",
                                             "department", "brand", "price"};
    static const char *const CK[RS_CCOLS] = {"category", "department"};
    for (const cJSON *it = root->child; it && rc == RS_OK; it = it->next) {
        const char *k = it->string;
        if (strcmp(k, "receipts") == 0)
            rc = map_section(o, it, k, RK, o->rcol, RS_RCOLS, path, e);
        else if (strcmp(k, "products") == 0)
            rc = map_section(o, it, k, PK, o->pcol, RS_PCOLS, path, e);
        else if (strcmp(k, "categories") == 0)
            rc = map_section(o, it, k, CK, o->ccol, RS_CCOLS, path, e);
        else if (strcmp(k, "delimiter") == 0) {
            const char *d = cJSON_IsString(it) ? it->valuestring : NULL;
            char c = !d ? 0 : strcmp(d, "\\t") == 0 || strcmp(d, "tab") == 0 ? '\t'
                        : strlen(d) == 1 && strchr(",;\t|", d[0]) ? d[0] : 0;
            if (!c)
                rc = rs_seterr(e, RS_EDATA, "%s: \"delimiter\" must be one of \",\" \";\" "
                                            "\"\\t\" \"|\"", path);
            else if (!o->delimiter)
                o->delimiter = c;
        } else if (strcmp(k, "preset") == 0) {
            if (!cJSON_IsString(it))
                rc = rs_seterr(e, RS_EDATA, "%s: \"preset\" must be a string", path);
            else if (!o->preset)
                o->preset = it->valuestring;
        } else if (strcmp(k, "default_city") == 0) {
            if (!cJSON_IsString(it) || !*it->valuestring)
                rc = rs_seterr(e, RS_EDATA, "%s: \"default_city\" must be a string", path);
            else if (!o->default_city)
                o->default_city = it->valuestring;
        } else if (strcmp(k, "unknown_products") == 0) {
            if (!cJSON_IsString(it) || (strcmp(it->valuestring, "skip") != 0 &&
                                        strcmp(it->valuestring, "error") != 0))
                rc = rs_seterr(e, RS_EDATA, "%s: \"unknown_products\" must be \"error\" or "
                                            "\"skip\"", path);
            else if (strcmp(it->valuestring, "skip") == 0)
                o->skip_unknown = 1;
        } else
            rc = rs_seterr(e, RS_EDATA, "%s: unknown key \"%s\" (known: delimiter, preset, "
                                        "default_city, unknown_products, receipts, products, "
                                        "categories)", path, k);
    }
done:
    fclose(fp);
    free(buf);
    return rc;
}
