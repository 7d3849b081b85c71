/* import_int.h - the importer's insides, shared by core/import*.c and core/preset_*.c
 * (not a public header: the rest of the program includes import.h).
 *
 * One `imp` context per rs_import_run() holds the in-memory id maps (external id ->
 * row id) for categories, products, cities and event visitors, the prepared statements
 * and the report being filled.  The files:
 *
 *   import.c           the run: context, entities (cities, categories, products), ledger
 *   import_util.c      string pool, string map, number and text helpers
 *   import_catalog.c   header and row reading, the categories and products files
 *   import_receipts.c  receipt files: the parallel parse pipeline and the writer
 *   import_feed.c      bulk inserts through virtual tables, receipt id lookup
 *   import_mapping.c   the JSON mapping file (--mapping)
 *   import_newdb.c     what a failed first import leaves behind (nothing)
 *   import_presets.c   the preset table
 *   preset_*.c         one file per preset: its descriptor and run function
 */
#ifndef RS_IMPORT_INT_H
#define RS_IMPORT_INT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "csv.h"
#include "hash.h"
#include "import.h"
#include "serve_events.h"

#define UNCAT_NAME "(uncategorised)"

/* ---- string pool: append-only storage for strings that live as long as the pool --- */

typedef struct strpool_block {
    struct strpool_block *next;
    size_t used, cap;
    char data[];
} strpool_block;

typedef struct strpool {
    strpool_block *head;
} strpool;

char *strpool_alloc(strpool *a, size_t n);
char *strpool_dup(strpool *a, const char *s, size_t n); /* NUL-terminated copy */
void strpool_free(strpool *a);

/* ---- a string -> int64 hash map (open addressing, keys copied into a pool) -------- */

typedef struct sment {
    const char *k;
    uint64_t h;
    int64_t v;
    uint32_t n;
} sment;

typedef struct strmap {
    sment *t;
    size_t cap, len;
    strpool keys;
} strmap;

static inline uint64_t imp_hstr(const char *s, size_t n) { return rs_fnv1a64(RS_FNV64_INIT, s, n); }

static inline sment *sm_find(const strmap *m, const char *s, size_t n, uint64_t h)
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

static inline int64_t *sm_get(const strmap *m, const char *s, size_t n)
{
    sment *x = sm_find(m, s, n, imp_hstr(s, n));
    return x ? &x->v : NULL;
}

/* Inserts (s, v); the key must not be present.  *stored (if given) receives the map's
 * copy of the key, valid until sm_free.  0 or -1 (out of memory). */
int sm_put2(strmap *m, const char *s, size_t n, int64_t v, const char **stored);
int sm_put(strmap *m, const char *s, size_t n, int64_t v);
void sm_free(strmap *m);

/* ---- text helpers --------------------------------------------------------------- */

static inline void imp_trim(const char **p, size_t *n)
{
    while (*n && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
}

/* A number: [-+]digits[.digits][e[-+]digits], finite.  Returns 0 on success. */
int imp_parse_num(const char *s, size_t n, double *out);
/* Copies s into a, replacing invalid UTF-8 sequences with U+FFFD.  NULL on OOM. */
char *imp_utf8_fix(strpool *a, const char *s, size_t n, size_t *outn);
/* Empty, "NA" or "NULL" (any case): the missing values of R and SQL exports. */
int imp_is_na(const char *p, size_t n);

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
    uint64_t lh; /* RS_PF_DEDUP_LINES: the hash of the line's bytes (0: not compared) */
} feeditem;

typedef struct feedaux {
    struct rs_imp *im;
    int kind; /* 0 items, 1 receipts */
} feedaux;

typedef struct rs_imp {
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
    int64_t *cat_parent; /* by category id: its department's id, 0 = none */
    size_t cat_parent_n;
    sqlite3_stmt *st_cat, *st_cat_parent, *st_prod, *st_prod_upd, *st_item_sum, *st_city,
        *st_ledger, *st_ledger_find, *st_ledger_size;
    int nthreads;
    /* orders (instacart with orders.csv): order id -> index; its time and customer */
    strmap orders;
    /* products created on sight without a name (named by their id) in this import: the
     * first line that has a name names them (by product id) */
    unsigned char *unnamed;
    size_t unnamed_n;
    sqlite3_stmt *st_prod_name;
    int64_t *order_ts;
    const char **order_cust; /* strings in ar */
    uint32_t *order_custn;
    /* events */
    rs_event_weights ev_weights; /* --event-weights (serve_events.h: one parser) */
    evrow *ev;
    size_t nevrows, capev;
    strpool ar; /* strings that live for the whole import */
    /* bulk inserts (import_feed.c) */
    feedaux aux[2];
    int modules;
    feedrec *frec;
    size_t nfrec, capfrec;
    feeditem *fitem;
    size_t nfitem, capfitem;
    sqlite3_stmt *st_feed_rec, *st_feed_item;
} imp;

int imp_oom(rs_error *e);
int imp_sqlfail(imp *im, rs_error *e, const char *what);
int imp_step_done(imp *im, sqlite3_stmt *st, rs_error *e, const char *what);

/* ---- entities (import.c) -------------------------------------------------------- */

int imp_city_id(imp *im, const char *name, size_t n, int64_t *out, rs_error *e);
/* A category row by ext id (created when absent).  level 0 = department. */
int imp_category_id(imp *im, const char *ext, size_t extn, const char *name, size_t namen,
                    int64_t parent, int level, int64_t *out, rs_error *e);
/* The department "dept:<name>" (a level-0 category). */
int imp_department_id(imp *im, const char *name, size_t n, int64_t *out, rs_error *e);
/* Category `cat` (empty: "(uncategorised)", *uncat = 1) under department `dept` (may be
 * empty). */
int imp_category_under(imp *im, const char *cat, size_t catn, const char *dept, size_t deptn,
                       int64_t *out, int *uncat, rs_error *e);
int imp_put_product(imp *im, const char *ext, size_t extn, const char *name, size_t namen,
                    int64_t cat, const char *brand, size_t brandn, int has_price, double price,
                    int64_t *out, rs_error *e);

/* ---- the ledger and the report (import.c) ---------------------------------------- */

/* Hashes the file in blocks, dropping each block's pages from memory behind it. */
void imp_file_hash(const rs_csv_file *f, char hex[65]);
/* *already = 1 when the hash is in the ledger. */
int imp_ledger_check(imp *im, const char *hex, int *already, rs_error *e);
/* *seen = 1 when a ledger row has this file size. */
int imp_ledger_size_seen(imp *im, size_t size, int *seen, rs_error *e);
int imp_ledger_add(imp *im, const rs_csv_file *f, const char *hex, const char *kind,
                   int64_t rows, int64_t skipped, rs_error *e);
/* Adds a report row; returns its index (rows move when the array grows), or -1. */
int imp_report_file(imp *im, const char *path, const char *kind, rs_error *e);
#define RF(i) (&im->rep->files[i])
/* Opens path, hashes it and checks the ledger.  *skip = 1 when already imported (the
 * file is closed then and a report row with already = 1 is added). */
int imp_open_checked(imp *im, const char *path, const char *kind, rs_csv_file **out,
                     char hex[65], int *rf, int *skip, rs_error *e);
void imp_progress(imp *im, const char *path, uint64_t done, uint64_t total);

/* What the ledger knows of a receipt file before it is parsed.  A file that is a ledger
 * file of the same kind with text appended (its first bytes hash to that file's hash)
 * "grows" it: only the lines after that file's end are imported, so re-importing an
 * export that was appended to adds only the new lines. */
typedef struct imp_prior {
    int hashed;          /* hex is the file's hash (else it is computed while parsing) */
    char hex[65];
    int already;         /* the same content is in the ledger */
    int grows;           /* an earlier version is in the ledger */
    size_t resume;       /* grows: the first byte not imported yet, at a line start */
    int64_t resume_line; /* grows: its line number */
    char origin[65];     /* grows: the hash of the first version imported */
    char grown[512];     /* grows: the path of the longest earlier version */
    char changed_at[32]; /* not grows: when a file of this path and kind with other content
                            was imported, or "" */
} imp_prior;

/* Checks the ledger for f (of the report kind `kind`).  The file is hashed up front when
 * need_hash is set or when the ledger holds a file of its size or earlier versions of
 * its kind; RS_EDATA when f continues the last line of an earlier version that did not
 * end with a newline (the receipt on that line would change). */
int imp_ledger_prior(imp *im, const rs_csv_file *f, const char *kind, int need_hash,
                     imp_prior *pr, rs_error *e);

/* ---- headers and rows (import_catalog.c) ----------------------------------------- */

/* Reads the header record of f.  On success r is positioned on the first data record. */
int imp_read_header(const rs_csv_file *f, char delim, rs_csv_reader *r, rs_error *e);
/* The user's column name if given, else the first alias present; -1 when absent. */
int imp_find_col(const rs_csv_reader *h, const char *user, const char *const *aliases);
int imp_missing_col(const rs_csv_file *f, const rs_csv_reader *h, const char *name, rs_error *e);
/* RS_EDATA "file:line:col: <fmt>" at position raw of the current record. */
int imp_rfail(const rs_csv_file *f, rs_csv_reader *r, const char *raw, rs_error *e,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The next record (*got = 0 at the end), checked to have nhdr fields (0: any). */
int imp_read_row(const rs_csv_file *f, rs_csv_reader *r, size_t nhdr, int *got, rs_error *e);
/* An id field: trimmed, non-empty, valid UTF-8. */
int imp_id_field(const rs_csv_file *f, rs_csv_reader *r, int col, const char *what,
                 const char **p, size_t *n, rs_error *e);
/* A text field (name, brand, ...): trimmed; invalid UTF-8 repaired (counted). */
int imp_text_field(imp *im, rs_csv_reader *r, int col, const char **p, size_t *n, rs_error *e);

int imp_categories_file(imp *im, const char *path, rs_error *e);
/* A products file; flags: RS_PF_PRODUCTS_NA, RS_PF_PRODUCTS_COMPOSE (import.h). */
int imp_products_file(imp *im, const char *path, unsigned flags, rs_error *e);

/* ---- receipt files (import_receipts.c, import_feed.c) ----------------------------- */

/* One receipt file in the layout of preset p (its aliases, required roles and flags). */
int imp_receipts_file(imp *im, const char *path, const rs_import_preset *p, rs_error *e);

int imp_feed_init(imp *im, rs_error *e);
void imp_feed_free(imp *im);
/* Loads the Bloom filter of the receipts already in the database (once). */
int imp_load_receipts(imp *im, rs_error *e);
/* Receipt id for an external id, created (with city, ts, customer) when new. */
int imp_receipt_id(imp *im, const char *ext, size_t n, const char *city, size_t cityn,
                   int has_ts, int64_t ts, const char *cust, size_t custn, int64_t *out,
                   rs_error *e);
int imp_queue_item(imp *im, int64_t rec, int64_t prod, double qty, double w, uint64_t lh,
                   rs_error *e);
/* Sorts each receipt's queued lines by product and merges equal products. */
void imp_sort_items(imp *im);
/* Inserts the queued receipts and lines. */
int imp_flush_feed(imp *im, rs_error *e);

/* ---- events (preset_events.c) ---------------------------------------------------- */

/* The weight of an event type; *known = 0 when the type has none. */
double imp_event_weight(const imp *im, const char *p, size_t n, int *known);
/* Queues an event of visitor (the external id) on product prod. */
int imp_push_event(imp *im, const char *visitor, size_t n, int64_t prod, int64_t ts, double w,
                   rs_error *e);

/* ---- presets (import_presets.c, preset_*.c) -------------------------------------- */

/* basket-lines: when line 1 of f is a header (--header, or the rule of
 * preset_basket_lines.c unless --no-header), *start and *line move past it and
 * *skipped = 1. */
int imp_basket_header(const imp *im, const rs_csv_file *f, char delim, size_t *start,
                      int64_t *line, int *skipped);

/* The descriptors, one per preset_*.c file. */
extern const rs_import_preset rs_preset_canonical, rs_preset_instacart,
    rs_preset_completejourney, rs_preset_online_retail, rs_preset_basket_lines,
    rs_preset_events;
/* The canonical receipt columns' aliases (presets that read canonical files reuse them). */
extern const char *const IMP_A_RID[], *const IMP_A_PID[], *const IMP_A_CITY[],
    *const IMP_A_QTY[], *const IMP_A_TS[], *const IMP_A_CUST[];
#define IMP_ROLE(r) (1u << (r))
/* The canonical aliases as designated initializers of rs_import_preset.aliases. */
#define IMP_CANONICAL_ALIASES                                                              \
    [RS_COL_RECEIPT] = IMP_A_RID, [RS_COL_PRODUCT] = IMP_A_PID, [RS_COL_CITY] = IMP_A_CITY,    \
    [RS_COL_QUANTITY] = IMP_A_QTY, [RS_COL_TIME] = IMP_A_TS, [RS_COL_CUSTOMER] = IMP_A_CUST

/* A run function for presets whose inputs are receipt files: each in p's layout. */
int imp_run_files(imp *im, const rs_import_preset *p, rs_error *e);
int imp_is_dir(const char *p);
int imp_is_file(const char *p);

#endif
