/* cmd_import.c - `recoscope import`: CSV files into the database (core/import.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../core/import.h"
#include "../core/store.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: recoscope import [options] [RECEIPTS.csv ...]\n"
"       recoscope import --preset NAME [options] DIR|FILE ...\n"
"\n"
"Imports a product catalogue and receipt lines into the database, in one transaction:\n"
"a bad line aborts the whole import with `file:line:column: what is wrong` (exit 2)\n"
"and leaves the database as it was.  Files already imported (same SHA-256, see the\n"
"import ledger) are skipped.  Afterwards popularity per city is recomputed.\n"
"\n"
"canonical layout (no preset): header names, case-insensitive; extra columns ignored\n"
"  products.csv    product_id,name,category[,department,brand,price]\n"
"  categories.csv  category,department            (optional: category -> department)\n"
"  receipts        receipt_id,product_id[,city,quantity,timestamp,customer_id]\n"
"  Lines of the same (receipt, product) are merged, quantities summed; a receipt id\n"
"  seen again (later file, later import) adds to the same receipt.  Timestamps: unix\n"
"  seconds, YYYY-MM-DD[ HH:MM[:SS]] (ISO 8601) or M/D/YYYY H:MM.\n"
"  CSV: RFC 4180 (quoted fields may hold delimiters, newlines and doubled quotes; a\n"
"  quote inside an unquoted field is an error), LF or CRLF, UTF-8 (a BOM is skipped).\n"
"\n"
"options:\n"
"  --products FILE        product catalogue (imported before the receipts)\n"
"  --categories FILE      category -> department table\n"
"  --preset NAME          a known public layout (below)\n"
"  --mapping FILE         JSON column mapping, e.g. {\"delimiter\": \";\",\n"
"                         \"receipts\": {\"receipt_id\": \"BonNr\", \"product_id\": \"Artikel\"},\n"
"                         \"products\": {\"product_id\": \"Artikel\", \"name\": \"Bezeichnung\",\n"
"                         \"category\": \"Warengruppe\"}, \"categories\": {...}}\n"
"  --receipt-col NAME     receipts: the receipt id column      (receipt_id)\n"
"  --product-col NAME     receipts and products: product id    (product_id)\n"
"  --city-col NAME        receipts: city                       (city)\n"
"  --quantity-col NAME    receipts: quantity                   (quantity)\n"
"  --time-col NAME        receipts: timestamp                  (timestamp)\n"
"  --customer-col NAME    receipts: customer                   (customer_id)\n"
"  --name-col NAME        products: name                       (name)\n"
"  --category-col NAME    products and categories: category    (category)\n"
"  --department-col NAME  products and categories: department  (department)\n"
"  --brand-col NAME       products: brand                      (brand)\n"
"  --price-col NAME       products: price                      (price)\n"
"  --delimiter C          ',' ';' 'tab' or '|' (default: detected from the first line)\n"
"  --default-city NAME    city of receipts without one (default \"default\")\n"
"  --unknown-products error|skip\n"
"                         a receipt line whose product is not in the catalogue: abort\n"
"                         (default) or skip and count it\n"
"  --threads N            parser threads (default: one per CPU, at most 8)\n"
"  --session-gap SECONDS  events: a gap longer than this starts a new receipt (1800)\n"
"  --event-weights SPEC   events: weights per event type\n"
"                         (default view=1,addtocart=5,transaction=3; summed per item)\n"
"  -q, --quiet            no summary\n"
"\n"
"presets:\n"
"  instacart        DIR with products.csv, aisles.csv (categories), departments.csv\n"
"                   (their parents) and order_products__*.csv (receipts)\n"
"  completejourney  DIR (or files) of Dunnhumby \"The Complete Journey\": original layout\n"
"                   (transaction_data.csv + product.csv) or its R-package export\n"
"                   (transactions.csv + products.csv).  Category = COMMODITY_DESC /\n"
"                   product_category under DEPARTMENT; name = brand, type and size;\n"
"                   products without a category go to \"(uncategorised)\".  Original\n"
"                   layout timestamps are DAY/TRANS_TIME relative to day 1 = 1970-01-01.\n"
"  online-retail    FILE(s) of UCI Online Retail I or II: Country is the city;\n"
"                   cancelled invoices (C...) and non-positive quantities are skipped\n"
"                   and counted.  The data has no categories: all products go into\n"
"                   \"(uncategorised)\" (until product clustering exists).\n"
"  basket-lines     FILE(s), one receipt per line, items separated by the delimiter,\n"
"                   no header (the Groceries layout); item name = product = category.\n"
"  events           FILE(s) of event logs (timestamp,visitorid,event,itemid,...):\n"
"                   a visitor's events within --session-gap form one receipt; event\n"
"                   types carry --event-weights; unknown event types are skipped.\n"
"\n"
"exit codes: 0 ok, 1 usage error, 2 bad input data (nothing imported), 3 internal error\n");
}

typedef struct progress_state {
    double t0;
    double last;
    int drawn;
} progress_state;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void draw_progress(void *ctx, const char *path, uint64_t done, uint64_t total, int64_t rows)
{
    progress_state *ps = ctx;
    double t = now();
    if (done < total && t - ps->last < 0.1)
        return;
    ps->last = t;
    double el = t - ps->t0 > 1e-6 ? t - ps->t0 : 1e-6;
    int width = 30, fill = total ? (int)((double)done / (double)total * width) : width;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    fprintf(stderr, "\r[%s] %3d%% %-24.24s %12lld rows %9.0f rows/s", bar,
            total ? (int)(100.0 * (double)done / (double)total) : 100, b, (long long)rows,
            (double)rows / el);
    fflush(stderr);
    ps->drawn = 1;
}

static int opt_value(int argc, char **argv, int *i, const char *name, const char **out)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *out = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        *out = NULL;
        return 1;
    }
    *out = argv[++*i];
    return 1;
}

/* ---- a failed first import leaves nothing behind ---------------------------------- */

/* What existed before the command: the database file and its directory. */
typedef struct prior {
    int probed, db_existed, dir_existed;
    char *dir; /* the database's directory when the path has one */
} prior;

static void prior_probe(prior *p, const char *path)
{
    struct stat sb;
    memset(p, 0, sizeof *p);
    p->probed = 1;
    p->db_existed = lstat(path, &sb) == 0 || errno != ENOENT;
    const char *slash = strrchr(path, '/');
    if (slash && slash != path && (p->dir = strndup(path, (size_t)(slash - path))))
        p->dir_existed = stat(p->dir, &sb) == 0;
}

/* True when nobody has committed anything to the database at path: it cannot be opened
 * as SQLite, or it has no tables, or recoscope's tables are all empty.  Checked under the
 * write lock (BEGIN IMMEDIATE waits for a concurrent writer), so a concurrent first import
 * that committed keeps its database. */
static int nothing_committed(const char *path)
{
    sqlite3 *db = NULL;
    int empty = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        empty = 1; /* not a database at all: what this command left half-made */
        goto done;
    }
    sqlite3_busy_timeout(db, 10000);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto done;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM sqlite_master) = 0"
                               " OR ((SELECT count(*) FROM import_ledger) = 0"
                               " AND (SELECT count(*) FROM products) = 0"
                               " AND (SELECT count(*) FROM categories) = 0"
                               " AND (SELECT count(*) FROM receipts) = 0)",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        empty = sqlite3_column_int(st, 0);
    else if (st == NULL) {
        /* no recoscope tables: empty only when there are no tables at all */
        sqlite3_stmt *t = NULL;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &t, NULL) ==
                SQLITE_OK &&
            sqlite3_step(t) == SQLITE_ROW)
            empty = sqlite3_column_int(t, 0) == 0;
        sqlite3_finalize(t);
    }
    sqlite3_finalize(st);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
done:
    sqlite3_close_v2(db);
    return empty;
}

/* After a failed import into a path that did not exist before this command: removes
 * the database file, its -wal/-shm/-journal and the directory the store created (when
 * empty), unless someone committed data there meanwhile.  Never touches a database that
 * existed before. */
static void remove_new_db(const prior *p, const char *path)
{
    if (p->db_existed || !nothing_committed(path))
        return;
    static const char *const SUFFIX[] = {"", "-wal", "-shm", "-journal"};
    size_t n = strlen(path) + 16;
    char *q = malloc(n);
    if (!q)
        return;
    for (size_t i = 0; i < sizeof SUFFIX / sizeof *SUFFIX; i++) {
        snprintf(q, n, "%s%s", path, SUFFIX[i]);
        if (unlink(q) != 0 && errno != ENOENT)
            fprintf(stderr, "recoscope import: cannot remove %s: %s\n", q, strerror(errno));
    }
    free(q);
    if (p->dir && !p->dir_existed)
        rmdir(p->dir); /* only when empty */
}

int cmd_import(rs_cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return RS_OK;
    }
    rs_import_opts o;
    rs_import_opts_init(&o);
    rs_import_report rep;
    memset(&rep, 0, sizeof rep);
    rs_error e = {0};
    rs_store *s = NULL;
    prior before = {0};
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    const char *mapping = NULL, *delim = NULL, *unknown = NULL, *threads = NULL, *gap = NULL;
    int quiet = 0, rc = RS_OK, ninputs = 0, dashdash = 0;
    if (!inputs)
        return cli_fail(&(rs_error){RS_EINTERNAL, "out of memory"});
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (dashdash || a[0] != '-' || a[1] == '\0') {
            inputs[ninputs++] = a;
            continue;
        }
#define OPT(name, dst)                                                                     \
    if (opt_value(argc, argv, &i, name, &v)) {                                             \
        if (!v) {                                                                          \
            rc = cli_usage_error("import", "%s needs a value", name);                     \
            goto done;                                                                     \
        }                                                                                  \
        dst = v;                                                                           \
        continue;                                                                          \
    }
        if (strcmp(a, "--") == 0) {
            dashdash = 1;
            continue;
        }
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = 1;
            continue;
        }
        OPT("--products", o.products)
        OPT("--categories", o.categories)
        OPT("--preset", o.preset)
        OPT("--mapping", mapping)
        OPT("--receipt-col", o.rcol[RS_COL_RECEIPT])
        OPT("--product-col", o.rcol[RS_COL_PRODUCT])
        OPT("--city-col", o.rcol[RS_COL_CITY])
        OPT("--quantity-col", o.rcol[RS_COL_QUANTITY])
        OPT("--time-col", o.rcol[RS_COL_TIME])
        OPT("--customer-col", o.rcol[RS_COL_CUSTOMER])
        OPT("--name-col", o.pcol[RS_PCOL_NAME])
        OPT("--category-col", o.pcol[RS_PCOL_CATEGORY])
        OPT("--department-col", o.pcol[RS_PCOL_DEPARTMENT])
        OPT("--brand-col", o.pcol[RS_PCOL_BRAND])
        OPT("--price-col", o.pcol[RS_PCOL_PRICE])
        OPT("--delimiter", delim)
        OPT("--default-city", o.default_city)
        OPT("--unknown-products", unknown)
        OPT("--threads", threads)
        OPT("--session-gap", gap)
        OPT("--event-weights", o.event_weights)
#undef OPT
        rc = cli_usage_error("import", "unknown option '%s'", a);
        goto done;
    }
    /* --product-col names the product id in both files; category/department too */
    o.pcol[RS_PCOL_PRODUCT] = o.rcol[RS_COL_PRODUCT];
    o.ccol[RS_CCOL_CATEGORY] = o.pcol[RS_PCOL_CATEGORY];
    o.ccol[RS_CCOL_DEPARTMENT] = o.pcol[RS_PCOL_DEPARTMENT];
    if (delim) {
        if (strcmp(delim, "tab") == 0 || strcmp(delim, "\\t") == 0 || strcmp(delim, "\t") == 0)
            o.delimiter = '\t';
        else if (strlen(delim) == 1 && strchr(",;|", delim[0]))
            o.delimiter = delim[0];
        else {
            rc = cli_usage_error("import", "--delimiter must be ',' ';' 'tab' or '|'");
            goto done;
        }
    }
    if (unknown) {
        if (strcmp(unknown, "skip") == 0)
            o.skip_unknown = 1;
        else if (strcmp(unknown, "error") != 0) {
            rc = cli_usage_error("import", "--unknown-products must be 'error' or 'skip'");
            goto done;
        }
    }
    if (threads) {
        char *end;
        long n = strtol(threads, &end, 10);
        if (*end || n < 1 || n > 256) {
            rc = cli_usage_error("import", "--threads must be a number from 1 to 256");
            goto done;
        }
        o.threads = (int)n;
    }
    if (gap) {
        char *end;
        long long n = strtoll(gap, &end, 10);
        if (*end || n < 1) {
            rc = cli_usage_error("import", "--session-gap must be a positive number of seconds");
            goto done;
        }
        o.session_gap = n;
    }
    if (mapping && (rc = rs_import_mapping_load(&o, mapping, &e)) != RS_OK) {
        rc = cli_fail(&e);
        goto done;
    }
    if (o.preset) {
        int known = 0;
        for (const char *const *p = rs_import_presets; *p; p++)
            known |= strcmp(*p, o.preset) == 0;
        if (!known) {
            rc = cli_usage_error("import", "unknown preset '%s' (known: instacart, "
                                           "completejourney, online-retail, basket-lines, events)",
                                 o.preset);
            goto done;
        }
    }
    if (!o.products && !o.categories && ninputs == 0) {
        rc = cli_usage_error("import", "nothing to import (give --products and/or receipt files, "
                                       "or --preset NAME DIR)");
        goto done;
    }
    o.inputs = inputs;
    o.ninputs = ninputs;
    progress_state ps = {now(), 0, 0};
    if (isatty(STDERR_FILENO)) {
        o.progress = draw_progress;
        o.progress_ctx = &ps;
    }
    /* Memory statistics take a global mutex on every allocation; the import does not
     * use them (must be set before SQLite initialises, i.e. before the store opens). */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    prior_probe(&before, cli->db_path);
    if ((rc = rs_store_open(cli->db_path, RS_STORE_CREATE, &s, &e)) != RS_OK) {
        rc = cli_fail(&e);
        goto done;
    }
    rc = rs_import_run(s, &o, &rep, &e);
    if (ps.drawn)
        fprintf(stderr, "\r%*s\r", 100, "");
    for (int i = 0; i < rep.nfiles; i++)
        if (rep.files[i].already)
            fprintf(stderr, "recoscope import: %s: already imported (same content in the import "
                            "ledger), skipped\n", rep.files[i].path);
    if (rc != RS_OK) {
        rc = cli_fail(&e);
        goto done;
    }
    if (rep.name_fixes)
        fprintf(stderr, "recoscope import: warning: %lld name(s) had invalid UTF-8, replaced "
                        "with U+FFFD\n", (long long)rep.name_fixes);
    if (!quiet) {
        for (int i = 0; i < rep.nfiles; i++) {
            const rs_import_file *f = &rep.files[i];
            if (f->already)
                continue;
            printf("%-12s %s: %lld rows", f->kind, f->path, (long long)f->rows);
            if (f->skipped)
                printf(", %lld skipped", (long long)f->skipped);
            printf("\n");
        }
        printf("added: %lld products (%lld updated), %lld categories, %lld departments, "
               "%lld cities, %lld receipts, %lld receipt lines in %.2f s\n",
               (long long)rep.products_added, (long long)rep.products_updated,
               (long long)rep.categories_added, (long long)rep.departments_added,
               (long long)rep.cities_added, (long long)rep.receipts_added, (long long)rep.lines,
               rep.seconds);
        if (rep.skipped_unknown)
            printf("skipped: %lld lines with products not in the catalogue\n",
                   (long long)rep.skipped_unknown);
        if (rep.skipped_cancelled || rep.skipped_nonpositive)
            printf("skipped: %lld cancelled lines, %lld lines with quantity <= 0\n",
                   (long long)rep.skipped_cancelled, (long long)rep.skipped_nonpositive);
        if (rep.skipped_events)
            printf("skipped: %lld events of unknown types\n", (long long)rep.skipped_events);
        if (rep.uncategorised)
            printf("note: %lld products without a category are in \"(uncategorised)\"\n",
                   (long long)rep.uncategorised);
    }
done:
    rs_store_close(s);
    if (rc != RS_OK && before.probed)
        remove_new_db(&before, cli->db_path);
    free(before.dir);
    rs_import_report_free(&rep);
    rs_import_opts_free(&o);
    free(inputs);
    return rc;
}
