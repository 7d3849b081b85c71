/* import.h - the importer: CSV files -> the SQLite store, atomically and incrementally.
 *
 * One rs_import_run() is one transaction: every file is parsed and written, popularity
 * is recomputed (rs_store_refresh_popularity), and only then is it committed.  Any bad
 * line aborts with "file:line:column: what is wrong" (RS_EDATA) and rolls back, so the
 * database is exactly as before.  Each imported file gets an import_ledger row with its
 * SHA-256; a file whose hash is already in the ledger is skipped (and reported).
 *
 * Layouts are presets (below; one file each, core/preset_*.c; the canonical layout
 * is the default).  Columns are found by header name (case-insensitive); flags or a JSON mapping rename
 * them.  Receipt files are parsed in chunks on worker threads while the calling thread
 * writes SQLite; lines of one (receipt, product) are merged, quantities summed.
 * Memory does not grow with the receipt files' size (docs/BENCHMARKS.md, "Import
 * memory"): the file's pages are dropped behind each pass, receipt ids are remembered
 * in a fixed-size Bloom filter (SQLite resolves the "maybe seen" ones), SQLite's cache
 * is 64 MiB.  Only the events preset keeps every event in memory (to cut sessions).
 */
#ifndef RS_IMPORT_H
#define RS_IMPORT_H

#include <stdint.h>

#include "error.h"
#include "store.h"

/* Column roles of the three file kinds.  A NULL name means "the layout's default".
 * Receipt files: the first RS_RCOLS roles can be renamed by flags or a mapping; the
 * others are read by some presets only (RS_COL_ROLES in all). */
enum {
    RS_COL_RECEIPT, RS_COL_PRODUCT, RS_COL_CITY, RS_COL_QUANTITY, RS_COL_TIME, RS_COL_CUSTOMER,
    RS_RCOLS,
    RS_COL_NAME = RS_RCOLS, /* a product name on the receipt line (online retail) */
    RS_COL_PRICE,           /* a unit price on the receipt line */
    RS_COL_DAY,             /* a day number (Complete Journey DAY), when there is no time */
    RS_COL_DAYTIME,         /* HHMM within that day (TRANS_TIME) */
    RS_COL_EVENT,           /* an event type (events) */
    RS_COL_ROLES
};
enum {
    RS_PCOL_PRODUCT, RS_PCOL_NAME, RS_PCOL_CATEGORY, RS_PCOL_DEPARTMENT, RS_PCOL_BRAND,
    RS_PCOL_PRICE, RS_PCOLS
};
enum { RS_CCOL_CATEGORY, RS_CCOL_DEPARTMENT, RS_CCOLS };

typedef struct rs_import_opts {
    const char *preset;       /* NULL (canonical) or a preset name */
    const char *products;     /* --products FILE */
    const char *categories;   /* --categories FILE */
    const char *const *inputs; /* positional: receipt files, or the preset's dir/files */
    int ninputs;
    char delimiter;           /* 0 = detect from each file's first line */
    const char *rcol[RS_RCOLS];
    const char *pcol[RS_PCOLS];
    const char *ccol[RS_CCOLS];
    const char *default_city; /* city for data without a city column ("default") */
    int skip_unknown;         /* receipt lines with unknown products: 0 error, 1 skip,
                                 -1 (rs_import_opts_init) the preset's default */
    int header;               /* basket-lines: line 1 is a header: 1 yes, 0 no, -1 (init)
                                 when none of its 2+ items occurs on another line */
    int threads;              /* parser threads; 0 = one per CPU (at most 8) */
    size_t chunk_bytes;       /* receipt files are parsed in chunks of this size (0: 4 MiB) */
    int time_unit;            /* numeric timestamps: RS_TIME_SECONDS (0 = this) or
                                 RS_TIME_MILLIS (timeutil.h); never guessed */
    int64_t session_gap;      /* events: seconds between sessions (default 1800) */
    const char *event_weights; /* events: "view=1,addtocart=5,transaction=3" */
    /* progress (called on the calling thread; NULL = none) */
    void (*progress)(void *ctx, const char *path, uint64_t done, uint64_t total, int64_t rows);
    void *progress_ctx;
    void *mapping;            /* owned cJSON of --mapping (strings above may point into it) */
} rs_import_opts;

void rs_import_opts_init(rs_import_opts *o);
void rs_import_opts_free(rs_import_opts *o);
/* Loads a JSON mapping file into o: {"delimiter": ";", "preset": "...",
 * "default_city": "...", "receipts": {"receipt_id": "BonNr", ...},
 * "products": {...}, "categories": {...}}.  Unknown keys are an error naming them.
 * Values already set in o (by flags) win over the file. */
int rs_import_mapping_load(rs_import_opts *o, const char *path, rs_error *e);
/* ---- presets ------------------------------------------------------------------------
 * A preset is a descriptor: how its inputs are found (run), what the receipt files'
 * columns are called (aliases per role, the first alias names the column in "missing
 * column" messages), which roles must be present, and flags that tell the receipt
 * parser what to do with a line.  The parser's hot loop tests flags, never a preset's
 * name.  The table (core/import_presets.c) drives --preset, the CLI help and the
 * "unknown preset" message; one file per preset (core/preset_*.c). */
enum {
    RS_PF_CATALOGUE = 1u << 0,      /* products must be in the catalogue (else unknown) */
    RS_PF_NO_HEADER = 1u << 1,      /* receipt files have no header line */
    RS_PF_BASKET_LINES = 1u << 2,   /* a line is one receipt, every field an item */
    RS_PF_ITEM_CATEGORY = 1u << 3,  /* products created on sight: category = item name */
    RS_PF_SKIP_CANCELLED = 1u << 4, /* receipt ids starting with C are cancellations */
    RS_PF_SKIP_NONPOSITIVE = 1u << 5, /* lines with quantity <= 0 are skipped */
    RS_PF_EVENTS = 1u << 6,         /* lines are events: receipt = visitor, cut in sessions */
    RS_PF_INPUT_OPTIONAL = 1u << 7, /* the preset runs without positional inputs */
    RS_PF_PRODUCTS_NA = 1u << 8,    /* products file: NA / NO COMMODITY mean "none" */
    RS_PF_PRODUCTS_COMPOSE = 1u << 9, /* products file: no name column, name = brand type size */
    RS_PF_DEDUP_LINES = 1u << 12,   /* a line identical to an earlier line of its receipt
                                       (same product) is a duplicate: counted once */
    RS_PF_CUSTOMER_INT = 1u << 13,  /* customer ids "17850.0" (a float export) are "17850" */
    RS_PF_ORDERS = 1u << 11,        /* receipt ids are orders of the orders table loaded by
                                       the preset (customer and time come from there) */
    RS_PF_UNKNOWN_SKIP = 1u << 10,  /* unknown products are skipped (and reported) unless
                                       --unknown-products error */
};

struct rs_imp; /* the context of one import run (core/import_int.h) */

typedef struct rs_import_preset {
    const char *name;   /* --preset NAME */
    const char *inputs; /* the positional arguments, for the help: "DIR", "FILE ..." */
    const char *help;   /* the --help paragraph: lines of at most 61 columns (printed after 19) */
    const char *kind;   /* the report's and the ledger's name of its receipt files */
    const char *const *aliases[RS_COL_ROLES]; /* header names per role; NULL: not read */
    unsigned required;  /* (1u << role) for each role that must be present */
    unsigned flags;     /* RS_PF_* */
    const char *const *non_products; /* product ids that are not products (postage, fees):
                                        their lines are skipped and counted; "x*" is a
                                        prefix; case-insensitive; NULL: none */
    int (*run)(struct rs_imp *im, const struct rs_import_preset *p, rs_error *e);
} rs_import_preset;

/* The presets, in the order of the help, NULL-terminated; the first is the canonical
 * layout (the one used without --preset). */
extern const rs_import_preset *const rs_import_presets[];
/* The preset called name, or NULL. */
const rs_import_preset *rs_import_preset_find(const char *name);
/* RS_OK when name is a preset, else RS_EUSAGE with "unknown preset 'X' (known: ...)". */
int rs_import_preset_check(const char *name, rs_error *e);

typedef struct rs_import_file {
    char *path;
    char kind[24];
    int64_t rows, skipped;
    int already; /* content hash already in the ledger: not imported again */
    int64_t from_line; /* > 0: the file grows `grows` (a ledger file with lines appended):
                          only its lines from this one on were read */
    char *grows;
    int header_skipped; /* basket-lines: line 1 was taken as a header */
    char changed_at[32]; /* the same path was imported then with other content (not a
                            prefix of this one): every line was read again */
} rs_import_file;

typedef struct rs_import_report {
    rs_import_file *files;
    int nfiles;
    int64_t products_added, products_updated, categories_added, departments_added;
    int64_t cities_added, receipts_added;
    int64_t lines; /* receipt lines stored (rows added to receipt_items: lines of one
                      receipt and product, or of one session and item, are one) */
    int64_t skipped_unknown, skipped_cancelled, skipped_nonpositive, skipped_events;
    int64_t skipped_nonproducts, skipped_duplicates;
    char unknown_example[64]; /* the first unknown product id skipped */
    int64_t orders_unmatched; /* instacart with orders.csv: receipt lines whose order is
                                 not in orders.csv (no customer, no time) */
    int64_t receipts_no_customer; /* receipts added without a customer id */
    int64_t name_fixes;    /* names with invalid UTF-8 repaired with U+FFFD */
    int64_t uncategorised; /* products put into "(uncategorised)" (their department's
                              own, "dept:<department>/(uncategorised)", when they have one) */
    int64_t categories_split; /* category names seen under a second department: kept
                                 apart as "dept:<department>/<name>" */
    char split_example[160];  /* the first of those, "'name' under 'department'" */
    int64_t lines_read;       /* input lines that became receipt lines (before merging) */
    double seconds;
} rs_import_report;

void rs_import_report_free(rs_import_report *r);

/* Runs the import described by o into s (one transaction).  Returns RS_OK, RS_EUSAGE
 * (bad options, missing files), RS_EDATA (bad data: the message is file:line:col: ...)
 * or RS_EINTERNAL. */
int rs_import_run(rs_store *s, const rs_import_opts *o, rs_import_report *rep, rs_error *e);

/* ---- a failed first import leaves nothing behind ------------------------------------
 * The CLI probes the database path before it opens the store; after a failed import,
 * rs_import_undo_new_db() removes the database file, its -wal/-shm/-journal and the
 * directory the store created (when empty), when the path did not exist before and
 * nobody committed anything there meanwhile.  A database that existed is never touched. */
typedef struct rs_import_prior {
    int probed, db_existed, dir_existed;
    char *dir; /* the database's directory when the path has one */
} rs_import_prior;

void rs_import_prior_probe(rs_import_prior *p, const char *db_path);
/* RS_OK, or RS_EINTERNAL naming the first file that could not be removed (the others
 * are still tried). */
int rs_import_undo_new_db(const rs_import_prior *p, const char *db_path, rs_error *e);
void rs_import_prior_free(rs_import_prior *p);

/* Process-wide SQLite settings for a bulk import (memory statistics off: they take a
 * global mutex on every allocation).  Call before any store is opened. */
void rs_import_tune_process(void);

#endif
