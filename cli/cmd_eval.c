/* cmd_eval.c - `recoscope eval`: parses the options, runs core/evaluate.c and prints
 * its rows (a table, or one JSON object). */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/ease.h"
#include "../core/evaluate.h"
#include "../core/sanitize.h"
#include "cli.h"
#include "opt.h"

static const char USAGE[] =
    "usage: recoscope eval [--city C] [--json] [--k K] [--holdout-days N] [--ease-cap N]\n"
    "\n"
    "Scores basket completion on the held-out receipts (FNV-1a-64 of the receipt id\n"
    "% 5 == 0, or with --holdout-days the last N days): for each held-out receipt, each\n"
    "of its products known to the training part in turn is the target, the others the\n"
    "context.  Every method is fitted here on the training part only, with the\n"
    "parameters of the active model of its kind: popularity, item-item cosine, SGNS\n"
    "in.out (product model), ALS, EASE (on the --ease-cap most frequent products,\n"
    "default 4000) and the active completion choice of `train`.  Also: synonym category purity and\n"
    "co-purchase rate (product model, input cosine) and the category model on category\n"
    "baskets.  Results are printed and stored in the evaluations table.\n"
    "\n"
    "  --city C          city name (default: all cities)\n"
    "  --json            one JSON object on stdout instead of the table\n"
    "  --k K             list length (default 10)\n"
    "  --holdout-days N  time split instead of the hash split\n"
    "\n"
    "recoscope eval --customers ...: personal recommendations on a time split (see\n"
    "`recoscope eval --customers --help`)\n";

enum { OPT_CITY = 1, OPT_JSON, OPT_K, OPT_HOLDOUT, OPT_EASE_CAP };

static const cli_opt OPTS[] = {
    {"city", 'c', CLI_ARG, OPT_CITY},
    {"json", 0, CLI_FLAG, OPT_JSON},
    {"k", 'k', CLI_ARG, OPT_K},
    {"holdout-days", 0, CLI_ARG, OPT_HOLDOUT},
    {"ease-cap", 0, CLI_ARG, OPT_EASE_CAP},
    {NULL, 0, 0, 0},
};

static void note(void *ctx, rs_eval_note_type type, const char *text)
{
    int tty = *(const int *)ctx;
    if (type == RS_EVAL_WARN)
        cli_warn("recoscope eval: %s\n", text);
    else if (tty)
        cli_warn("eval: %s\n", text);
}

/* {"method": ..., "metrics": {...}} of every row of baskets b. */
static cJSON *json_rows(const rs_eval_report *r, rs_baskets b)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < r->n_rows; i++) {
        if (r->rows[i].baskets != b)
            continue;
        char *mj = rs_eval_row_json(&r->rows[i]);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "method", r->rows[i].method);
        cJSON_AddItemToObject(o, "metrics", mj ? cJSON_Parse(mj) : cJSON_CreateNull());
        cJSON_AddItemToArray(a, o);
        free(mj);
    }
    return a;
}

static int print_json(const rs_eval_report *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "city", r->city);
    cJSON_AddNumberToObject(o, "city_id", (double)r->city_id);
    cJSON_AddStringToObject(o, "split", r->split);
    cJSON_AddNumberToObject(o, "k", r->k);
    cJSON_AddNumberToObject(o, "train_receipts", (double)r->train_receipts);
    cJSON_AddNumberToObject(o, "test_receipts", (double)r->test_receipts);
    cJSON_AddNumberToObject(o, "queries", (double)r->queries[RS_BASKETS_PRODUCTS]);
    cJSON_AddItemToObject(o, "methods", json_rows(r, RS_BASKETS_PRODUCTS));
    if (r->n_synonyms > 0) {
        cJSON *sy = cJSON_AddObjectToObject(o, "synonyms");
        cJSON_AddStringToObject(sy, "method", r->synonyms[0].method);
        cJSON_AddNumberToObject(sy, "items", (double)r->synonyms[0].m.n_items);
        cJSON_AddNumberToObject(sy, "category_purity", r->synonyms[0].m.purity);
        cJSON_AddNumberToObject(sy, "copurchase_rate", r->synonyms[0].m.copurchase);
    } else {
        cJSON_AddNullToObject(o, "synonyms");
    }
    cJSON *cat = cJSON_AddObjectToObject(o, "category");
    cJSON_AddNumberToObject(cat, "queries", (double)r->queries[RS_BASKETS_CATEGORIES]);
    cJSON_AddItemToObject(cat, "methods", json_rows(r, RS_BASKETS_CATEGORIES));
    char *raw = cJSON_PrintUnformatted(o), *txt = raw ? rs_sanitize_json(raw) : NULL;
    cJSON_Delete(o);
    free(raw);
    if (!txt) {
        rs_error e;
        rs_seterr(&e, RS_EINTERNAL, "out of memory");
        return cli_fail(&e);
    }
    printf("%s\n", txt);
    free(txt);
    return RS_OK;
}

static void print_table(const rs_eval_report *r)
{
    int ascii = rs_locale_ascii(), w = 44;
    char cell[512];
    /* the method column fits the longest name (a blend names its parts), up to 72 */
    for (int i = 0; i < r->n_rows; i++) {
        int cw = rs_sanitize_str(r->rows[i].method, ascii, 72, cell, sizeof cell);
        w = cw > w ? cw : w;
    }
    cli_message(stdout,
                "%s, split %s: %" PRId64 " training receipts, %" PRId64 " held out, %" PRId64
                " queries (k = %d)\n\n",
                r->city, r->split, r->train_receipts, r->test_receipts,
                r->queries[RS_BASKETS_PRODUCTS], r->k);
    rs_sanitize_cell("method", ascii, w, cell, sizeof cell);
    printf("%s %7s %7s %7s %7s %7s %7s %7s %7s\n", cell, "HR", "NDCG", "MRR", "P", "R",
           "cover", "novelty", "fit s");
    for (int b = 0; b < 2; b++) {
        if (b == RS_BASKETS_CATEGORIES)
            printf("\ncategory model on category baskets (%" PRId64 " queries):\n",
                   r->queries[RS_BASKETS_CATEGORIES]);
        for (int i = 0; i < r->n_rows; i++) {
            const rs_eval_row *row = &r->rows[i];
            if ((int)row->baskets != b)
                continue;
            rs_sanitize_cell(row->method, ascii, w, cell, sizeof cell);
            printf("%s %7.4f %7.4f %7.4f %7.4f %7.4f %7.4f %7.2f %7.1f\n", cell, row->m.hr,
                   row->m.ndcg, row->m.mrr, row->m.precision, row->m.recall, row->m.coverage,
                   row->m.novelty, row->fit_s);
        }
    }
    for (int i = 0; i < r->n_synonyms; i++)
        printf("\nsynonyms (product model, input cosine, %" PRId64 " items with >= %d training "
               "receipts): category purity@%d %.4f, co-purchase rate %.4f\n",
               r->synonyms[i].m.n_items, r->synonyms[i].min_count, r->k,
               r->synonyms[i].m.purity, r->synonyms[i].m.copurchase);
}

/* Whether argv asks for the customer evaluation (--customers before any "--"). */
static int wants_customers(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--customers") == 0)
            return 1;
    return 0;
}

int cmd_eval(rs_cli *cli, int argc, char **argv)
{
    if (wants_customers(argc, argv)) /* cmd_eval_customers.c */
        return cmd_eval_customers(cli, argc, argv);
    rs_eval_opts o;
    rs_eval_opts_defaults(&o);
    o.ease_cap = RS_EASE_DEFAULT_ITEMS;
    int json = 0, id, tty = isatty(2);
    int64_t v;
    cli_parser p;
    cli_opt_init(&p, "eval", argc, argv, OPTS);
    while ((id = cli_opt_next(&p)) > 0) {
        switch (id) {
        case OPT_CITY: o.city = p.value; break;
        case OPT_JSON: json = 1; break;
        case OPT_K:
            if (cli_opt_int(&p, 1, 1000, &v))
                return RS_EUSAGE;
            o.k = (int)v;
            break;
        case OPT_HOLDOUT:
            if (cli_opt_int(&p, 1, 100000, &v))
                return RS_EUSAGE;
            o.holdout_days = (int)v;
            break;
        case OPT_EASE_CAP:
            if (cli_opt_int(&p, 1, 200000, &v))
                return RS_EUSAGE;
            o.ease_cap = (int32_t)v;
            break;
        case CLI_HELP: fputs(USAGE, stdout); return RS_OK;
        default: return cli_usage_error("eval", "unexpected argument '%s'", p.value);
        }
    }
    if (id < 0)
        return RS_EUSAGE;
    o.note = note;
    o.note_ctx = &tty;
    rs_error e = {0};
    rs_store *s = NULL;
    rs_eval_report *r = NULL;
    int rc = rs_store_open(cli->db_path, 0, &s, &e);
    if (!rc)
        rc = rs_evaluate(s, &o, &r, &e);
    rs_store_close(s);
    if (rc)
        return cli_fail(&e);
    if (json)
        rc = print_json(r);
    else
        print_table(r);
    free(r);
    return rc;
}
