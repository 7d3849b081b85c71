/* import.h - the importer: CSV files -> the SQLite store, atomically and incrementally.
 *
 * One rs_import_run() is one transaction: every file is parsed and written, popularity
 * is recomputed (rs_store_refresh_popularity), and only then is it committed.  Any bad
 * line aborts with "file:line:column: what is wrong" (RS_EDATA) and rolls back, so the
 * database is exactly as before.  Each imported file gets an import_ledger row with its
 * SHA-256; a file whose hash is already in the ledger is skipped (and reported).
 *
 * Layouts (see recoscope import --help for the user-facing description):
 *   canonical  products: product_id,name,category[,department,brand,price]
 *              categories: category,department
 *              receipts: receipt_id,product_id[,city,quantity,timestamp,customer_id]
 *   presets    instacart, completejourney, online-retail, basket-lines, events
 * Columns are found by header name (case-insensitive); flags or a JSON mapping rename
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

/* Column roles of the three file kinds.  A NULL name means "the layout's default". */
enum {
    RS_COL_RECEIPT, RS_COL_PRODUCT, RS_COL_CITY, RS_COL_QUANTITY, RS_COL_TIME, RS_COL_CUSTOMER,
    RS_RCOLS
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
    int skip_unknown;         /* receipt lines with unknown products: 0 error, 1 skip */
    int threads;              /* parser threads; 0 = one per CPU (at most 8) */
    size_t chunk_bytes;       /* receipt files are parsed in chunks of this size (0: 4 MiB) */
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
/* Names of the presets, NULL-terminated. */
extern const char *const rs_import_presets[];

typedef struct rs_import_file {
    char *path;
    char kind[24];
    int64_t rows, skipped;
    int already; /* content hash already in the ledger: not imported again */
} rs_import_file;

typedef struct rs_import_report {
    rs_import_file *files;
    int nfiles;
    int64_t products_added, products_updated, categories_added, departments_added;
    int64_t cities_added, receipts_added, lines;
    int64_t skipped_unknown, skipped_cancelled, skipped_nonpositive, skipped_events;
    int64_t name_fixes;    /* names with invalid UTF-8 repaired with U+FFFD */
    int64_t uncategorised; /* products put into "(uncategorised)" */
    double seconds;
} rs_import_report;

void rs_import_report_free(rs_import_report *r);

/* Runs the import described by o into s (one transaction).  Returns RS_OK, RS_EUSAGE
 * (bad options, missing files), RS_EDATA (bad data: the message is file:line:col: ...)
 * or RS_EINTERNAL. */
int rs_import_run(rs_store *s, const rs_import_opts *o, rs_import_report *rep, rs_error *e);

/* Parses a timestamp: unix seconds (13+ digit values are taken as milliseconds),
 * ISO 8601 "YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|+HH:MM]", or "M/D/YYYY[ H:MM[:SS]]".
 * Returns 0 and sets *ts, or -1. */
int rs_parse_time(const char *s, size_t n, int64_t *ts);

#endif
