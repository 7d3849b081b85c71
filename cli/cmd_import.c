/* cmd_import.c - `recoscope import`: CSV files into the database (core/import.h).
 * Parsing the options and printing the summary; the presets, their help and the
 * cleanup after a failed first import come from core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/import.h"
#include "../core/sanitize.h"
#include "../core/store.h"
#include "../core/timeutil.h"
#include "cli.h"
#include "opt.h"
#include "progress.h"

static const char USAGE_HEAD[] =
"usage: recoscope import [options] [RECEIPTS.csv ...]\n"
"       recoscope import --preset NAME [options] DIR|FILE ...\n"
"\n"
"Imports a product catalogue and receipt lines into the database, in one transaction:\n"
"a bad line aborts the whole import with `file:line:column: what is wrong` (exit 2)\n"
"and leaves the database as it was.  Files already imported (same SHA-256, see the\n"
"import ledger) are skipped.  Afterwards popularity per city is recomputed.\n"
"\n"
"CSV: RFC 4180 (quoted fields may hold delimiters, newlines and doubled quotes; a\n"
"quote inside an unquoted field is an error), LF or CRLF, UTF-8 (a BOM is skipped).\n"
"\n"
"options:\n"
"  --products FILE        product catalogue (imported before the receipts)\n"
"  --categories FILE      category -> department table\n"
"  --preset NAME          the layout of the inputs (below; default canonical)\n"
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
"  --time-unit s|ms       numeric timestamps are unix seconds (default) or milliseconds;\n"
"                         never guessed from the number of digits\n"
"  --unknown-products error|skip\n"
"                         a receipt line whose product is not in the catalogue: abort\n"
"                         or skip it (counted, with a warning); the default is the\n"
"                         layout's (abort, completejourney: skip)\n"
"  --header, --no-header  basket-lines: line 1 is (not) a header (default: it is when\n"
"                         none of its 2 or more items occurs on another line)\n"
"  --threads N            parser threads (default: one per CPU, at most 8)\n"
"  --session-gap SECONDS  events: a gap longer than this starts a new receipt (1800)\n"
"  --event-weights SPEC   events: weights per event type\n"
"                         (default view=1,addtocart=5,transaction=3; summed per item)\n"
"  -q, --quiet            no summary\n"
"\n";

static void usage(FILE *f)
{
    fputs(USAGE_HEAD, f);
    fputs("layouts (--preset NAME):\n", f);
    for (const rs_import_preset *const *p = rs_import_presets; *p; p++) {
        const char *h = (*p)->help;
        fprintf(f, "  %-16s ", (*p)->name);
        for (;;) {
            const char *nl = strchr(h, '\n');
            int n = nl ? (int)(nl - h) : (int)strlen(h);
            fprintf(f, "%.*s\n", n, h);
            if (!nl)
                break;
            h = nl + 1;
            fprintf(f, "%19s", "");
        }
    }
    fputs("\nexit codes: 0 ok, 1 usage error, 2 bad input data (nothing imported), 3 internal "
          "error\n", f);
}

/* The import's progress: bytes of the current file, and the rows read so far. */
static void draw_progress(void *ctx, const char *path, uint64_t done, uint64_t total, int64_t rows)
{
    const char *b = strrchr(path, '/');
    char extra[48];
    snprintf(extra, sizeof extra, "%lld rows", (long long)rows);
    cli_progress_draw(ctx, b ? b + 1 : path, total ? (double)done / (double)total : 1.0, extra);
}

enum {
    O_PRODUCTS = 1, O_CATEGORIES, O_PRESET, O_MAPPING, O_RCOL, O_PCOL, O_CITYCOL, O_QTYCOL,
    O_TIMECOL, O_CUSTCOL, O_NAMECOL, O_CATCOL, O_DEPTCOL, O_BRANDCOL, O_PRICECOL, O_DELIM,
    O_CITY, O_UNKNOWN, O_THREADS, O_GAP, O_WEIGHTS, O_QUIET, O_TUNIT, O_HEADER, O_NOHEADER,
};

static const cli_opt OPTS[] = {
    {"products", 0, CLI_ARG, O_PRODUCTS},
    {"categories", 0, CLI_ARG, O_CATEGORIES},
    {"preset", 0, CLI_ARG, O_PRESET},
    {"mapping", 0, CLI_ARG, O_MAPPING},
    {"receipt-col", 0, CLI_ARG, O_RCOL},
    {"product-col", 0, CLI_ARG, O_PCOL},
    {"city-col", 0, CLI_ARG, O_CITYCOL},
    {"quantity-col", 0, CLI_ARG, O_QTYCOL},
    {"time-col", 0, CLI_ARG, O_TIMECOL},
    {"customer-col", 0, CLI_ARG, O_CUSTCOL},
    {"name-col", 0, CLI_ARG, O_NAMECOL},
    {"category-col", 0, CLI_ARG, O_CATCOL},
    {"department-col", 0, CLI_ARG, O_DEPTCOL},
    {"brand-col", 0, CLI_ARG, O_BRANDCOL},
    {"price-col", 0, CLI_ARG, O_PRICECOL},
    {"delimiter", 0, CLI_ARG, O_DELIM},
    {"default-city", 0, CLI_ARG, O_CITY},
    {"unknown-products", 0, CLI_ARG, O_UNKNOWN},
    {"threads", 0, CLI_ARG, O_THREADS},
    {"session-gap", 0, CLI_ARG, O_GAP},
    {"event-weights", 0, CLI_ARG, O_WEIGHTS},
    {"time-unit", 0, CLI_ARG, O_TUNIT},
    {"header", 0, CLI_FLAG, O_HEADER},
    {"no-header", 0, CLI_FLAG, O_NOHEADER},
    {"quiet", 'q', CLI_FLAG, O_QUIET},
    {NULL, 0, 0, 0},
};

typedef struct import_args {
    rs_import_opts o;
    const char **inputs;
    int ninputs, quiet, help;
    const char *mapping;
} import_args;

/* The string option id's destination in o (NULL for the options read otherwise). */
static const char **string_dest(rs_import_opts *o, int id)
{
    switch (id) {
    case O_PRODUCTS: return &o->products;
    case O_CATEGORIES: return &o->categories;
    case O_PRESET: return &o->preset;
    case O_RCOL: return &o->rcol[RS_COL_RECEIPT];
    case O_PCOL: return &o->rcol[RS_COL_PRODUCT];
    case O_CITYCOL: return &o->rcol[RS_COL_CITY];
    case O_QTYCOL: return &o->rcol[RS_COL_QUANTITY];
    case O_TIMECOL: return &o->rcol[RS_COL_TIME];
    case O_CUSTCOL: return &o->rcol[RS_COL_CUSTOMER];
    case O_NAMECOL: return &o->pcol[RS_PCOL_NAME];
    case O_CATCOL: return &o->pcol[RS_PCOL_CATEGORY];
    case O_DEPTCOL: return &o->pcol[RS_PCOL_DEPARTMENT];
    case O_BRANDCOL: return &o->pcol[RS_PCOL_BRAND];
    case O_PRICECOL: return &o->pcol[RS_PCOL_PRICE];
    case O_CITY: return &o->default_city;
    case O_WEIGHTS: return &o->event_weights;
    default: return NULL;
    }
}

/* One option with a value that is not a plain string.  RS_OK or RS_EUSAGE (printed). */
static int typed_option(cli_parser *p, int id, import_args *a)
{
    static const char *const UNKNOWN[] = {"error", "skip", NULL};
    static const char *const UNITS[] = {"s", "ms", NULL};
    const char *v = p->value;
    int64_t n;
    int k;
    switch (id) {
    case O_DELIM:
        if (strcmp(v, "tab") == 0 || strcmp(v, "\\t") == 0 || strcmp(v, "\t") == 0)
            a->o.delimiter = '\t';
        else if (strlen(v) == 1 && strchr(",;|", v[0]))
            a->o.delimiter = v[0];
        else
            return cli_usage_error(p->cmd, "%s: '%s' is not one of ',' ';' 'tab' '|'", p->name,
                                   v);
        return RS_OK;
    case O_UNKNOWN:
        if (cli_opt_choice(p, UNKNOWN, &k))
            return RS_EUSAGE;
        a->o.skip_unknown = k == 1;
        return RS_OK;
    case O_TUNIT:
        if (cli_opt_choice(p, UNITS, &k))
            return RS_EUSAGE;
        a->o.time_unit = k ? RS_TIME_MILLIS : RS_TIME_SECONDS;
        return RS_OK;
    case O_THREADS:
        return cli_opt_int32(p, 1, 256, &a->o.threads) ? RS_EUSAGE : RS_OK;
    case O_GAP:
        if (cli_opt_int(p, 1, INT64_MAX / 4, &n))
            return RS_EUSAGE;
        a->o.session_gap = n;
        return RS_OK;
    case O_MAPPING:
        a->mapping = v;
        return RS_OK;
    case O_QUIET:
        a->quiet = 1;
        return RS_OK;
    case O_HEADER:
    case O_NOHEADER:
        a->o.header = id == O_HEADER;
        return RS_OK;
    default:
        return cli_usage_error(p->cmd, "internal: option %s has no reader", p->name);
    }
}

static int parse_args(import_args *a, int argc, char **argv)
{
    cli_parser p;
    cli_opt_init(&p, "import", argc, argv, OPTS);
    int id;
    while ((id = cli_opt_next(&p)) > 0) {
        const char **dst;
        if (id == CLI_HELP) {
            a->help = 1;
            return RS_OK;
        }
        if (id == CLI_POSITIONAL)
            a->inputs[a->ninputs++] = p.value;
        else if ((dst = string_dest(&a->o, id)))
            *dst = p.value;
        else if (typed_option(&p, id, a))
            return RS_EUSAGE;
    }
    if (id < 0)
        return RS_EUSAGE;
    /* --product-col names the product id in both files; category/department too */
    a->o.pcol[RS_PCOL_PRODUCT] = a->o.rcol[RS_COL_PRODUCT];
    a->o.ccol[RS_CCOL_CATEGORY] = a->o.pcol[RS_PCOL_CATEGORY];
    a->o.ccol[RS_CCOL_DEPARTMENT] = a->o.pcol[RS_PCOL_DEPARTMENT];
    return RS_OK;
}

static void print_summary(const rs_import_report *rep)
{
    for (int i = 0; i < rep->nfiles; i++) {
        const rs_import_file *f = &rep->files[i];
        if (f->already)
            continue;
        cli_message(stdout, "%-12s %s: %lld rows", f->kind, f->path, (long long)f->rows);
        if (f->skipped)
            printf(", %lld skipped", (long long)f->skipped);
        if (f->from_line)
            cli_message(stdout, ", from line %lld (the lines before were imported from %s)",
                        (long long)f->from_line, f->grows);
        if (f->header_skipped)
            printf(", line 1 taken as a header (--no-header imports it)");
        printf("\n");
    }
    printf("added: %lld products (%lld updated), %lld categories, %lld departments, "
           "%lld cities, %lld receipts, %lld receipt lines",
           (long long)rep->products_added, (long long)rep->products_updated,
           (long long)rep->categories_added, (long long)rep->departments_added,
           (long long)rep->cities_added, (long long)rep->receipts_added, (long long)rep->lines);
    if (rep->lines_read != rep->lines)
        printf(" (from %lld lines read: lines of one receipt and product are one)",
               (long long)rep->lines_read);
    printf(" in %.2f s\n", rep->seconds);
    if (rep->skipped_cancelled || rep->skipped_nonpositive)
        printf("skipped: %lld cancelled lines, %lld lines with quantity <= 0\n",
               (long long)rep->skipped_cancelled, (long long)rep->skipped_nonpositive);
    if (rep->skipped_nonproducts)
        printf("skipped: %lld lines of codes that are not products (postage, fees, ...)\n",
               (long long)rep->skipped_nonproducts);
    if (rep->skipped_duplicates)
        printf("skipped: %lld lines identical to an earlier line of their receipt (counted "
               "once)\n", (long long)rep->skipped_duplicates);
    if (rep->skipped_events)
        printf("skipped: %lld events of unknown types\n", (long long)rep->skipped_events);
    if (rep->receipts_no_customer && rep->receipts_no_customer < rep->receipts_added)
        printf("note: %lld of the %lld receipts added have no customer id\n",
               (long long)rep->receipts_no_customer, (long long)rep->receipts_added);
    if (rep->uncategorised)
        printf("note: %lld products without a category are in \"(uncategorised)\" (of their "
               "department when they have one)\n", (long long)rep->uncategorised);
    if (rep->categories_split)
        cli_message(stdout, "note: %lld category names appear under more than one department: "
                            "kept apart as \"dept:<department>/<name>\" (first: %s)\n",
                    (long long)rep->categories_split, rep->split_example);
}

/* What a user must see even with -q (stderr). */
static void warn_report(const rs_import_report *rep)
{
    for (int i = 0; i < rep->nfiles; i++)
        if (rep->files[i].changed_at[0])
            cli_warn("recoscope import: warning: %s was imported before (%s) with other "
                     "content, and is not that content with lines appended: all its lines "
                     "were read (a receipt id seen before gets these lines added)\n",
                     rep->files[i].path, rep->files[i].changed_at);
    if (rep->orders_unmatched)
        cli_warn("recoscope import: warning: %lld receipt line(s) belong to orders that are not "
                 "in orders.csv: imported without a customer and a time\n",
                 (long long)rep->orders_unmatched);
    if (rep->skipped_unknown)
        cli_warn("recoscope import: warning: %lld receipt line(s) name products that are not "
                 "in the catalogue (the first: '%s'): skipped\n",
                 (long long)rep->skipped_unknown, rep->unknown_example);
}

/* Opens (creating) the store, imports, reports.  Returns the exit code (printed). */
static int run_import(rs_cli *cli, import_args *a)
{
    rs_import_report rep;
    memset(&rep, 0, sizeof rep);
    rs_error e = {0};
    rs_store *s = NULL;
    rs_import_prior before;
    cli_progress ps;
    cli_progress_init(&ps);
    if (ps.tty) {
        a->o.progress = draw_progress;
        a->o.progress_ctx = &ps;
    }
    rs_import_tune_process();
    rs_import_prior_probe(&before, cli->db_path);
    int rc = rs_store_open(cli->db_path, RS_STORE_CREATE, &s, &e);
    if (rc == RS_OK)
        rc = rs_import_run(s, &a->o, &rep, &e);
    cli_progress_clear(&ps);
    for (int i = 0; i < rep.nfiles; i++)
        if (rep.files[i].already)
            cli_warn("recoscope import: %s: already imported (same content in the import "
                     "ledger), skipped\n", rep.files[i].path);
    if (rc != RS_OK)
        rc = cli_fail(&e);
    else {
        warn_report(&rep);
        if (rep.name_fixes)
            cli_warn("recoscope import: warning: %lld name(s) had invalid UTF-8, replaced "
                     "with U+FFFD\n", (long long)rep.name_fixes);
        if (!a->quiet)
            print_summary(&rep);
    }
    rs_store_close(s);
    rs_error ue = {0};
    if (rc != RS_OK && rs_import_undo_new_db(&before, cli->db_path, &ue) != RS_OK)
        cli_warn("recoscope import: %s\n", ue.msg);
    rs_import_prior_free(&before);
    rs_import_report_free(&rep);
    return rc;
}

int cmd_import(rs_cli *cli, int argc, char **argv)
{
    import_args a;
    memset(&a, 0, sizeof a);
    rs_import_opts_init(&a.o);
    rs_error e = {0};
    int rc = RS_OK;
    if (!(a.inputs = calloc((size_t)argc + 1, sizeof *a.inputs)))
        return cli_fail(&(rs_error){RS_EINTERNAL, "out of memory"});
    if ((rc = parse_args(&a, argc, argv)) != RS_OK)
        goto done;
    if (a.help) {
        usage(stdout);
        goto done;
    }
    if (a.mapping && (rc = rs_import_mapping_load(&a.o, a.mapping, &e)) != RS_OK) {
        rc = cli_fail(&e);
        goto done;
    }
    if (a.o.preset && rs_import_preset_check(a.o.preset, &e) != RS_OK) {
        rc = cli_usage_error("import", "%s", e.msg);
        goto done;
    }
    if (!a.o.products && !a.o.categories && a.ninputs == 0) {
        rc = cli_usage_error("import", "nothing to import (give --products and/or receipt files, "
                                       "or --preset NAME DIR)");
        goto done;
    }
    a.o.inputs = a.inputs;
    a.o.ninputs = a.ninputs;
    rc = run_import(cli, &a);
done:
    rs_import_opts_free(&a.o);
    free(a.inputs);
    return rc;
}
