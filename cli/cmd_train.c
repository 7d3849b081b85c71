/* cmd_train.c - `recoscope train`: parses the options, runs core/train.c and prints
 * what it reports. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/ease.h"
#include "../core/grid.h"
#include "../core/train.h"
#include "cli.h"
#include "opt.h"
#include "progress.h"

static void usage(FILE *f)
{
    fputs("usage: recoscope train [--city C] [--kind K|all] [--split all|train] [--grid FILE]\n"
          "                       [--select METRIC] [--min-receipts N] [--ease-cap N]\n"
          "                       [--max-valid N] [--max-runs N] [--yes] [--if-changed]\n"
          "                       [--budget SECONDS] [--no-search] [--force] [PARAMS]\n"
          "\n"
          "Fits models per city (every city with at least --min-receipts receipts, default\n"
          "1000, plus all cities) and makes the best of each kind active.  Each parameter\n"
          "combination is fitted on the grid-search part of the receipts (FNV-1a-64 % 5 in\n"
          "2..4) and scored (basket completion) on the validation part (% 5 == 1); every run\n"
          "goes into the runs table.  The best is refitted on --split (default all receipts)\n"
          "and registered.  Without --grid and PARAMS a built-in search runs (SGNS\n"
          "ns_exponent, subsampling, epochs; ALS alpha, lambda, factors; EASE lambda),\n"
          "within --budget seconds per city.  With --split all the best completion ranking (popularity,\n"
          "item-item, SGNS in.out, ALS, EASE or a blend) becomes the city's active one.\n"
          "A fit that diverges or gives non-finite values registers nothing: the previous\n"
          "model stays active.  When the city's active model of a kind has other\n"
          "parameters, they are fitted and scored on the same parts first; if they score\n"
          "better, the active model stays (both figures are printed) and the new one is\n"
          "registered inactive (`recoscope models` lists it), unless --force.\n"
          "\n",
          f);
    fprintf(f,
            "  --city C          one city (name; \"all\" = all cities)\n"
            "  --kind K          %s, or all (default)\n"
            "  --split S         all (default: models for browsing) or train (bucket != 0,\n"
            "                    for evaluation)\n"
            "  --grid FILE       JSON object of parameter lists (assets/grid.json)\n"
            "  --budget S        seconds the search of each city may take (default %.0f\n"
            "                    for the built-in search; 0 = every combination)\n"
            "  --no-search       the default parameters (or PARAMS) only\n"
            "  --select METRIC   hr@10, ndcg@10 (default), mrr, precision@10, recall@10\n"
            "  --min-receipts N  cities with fewer receipts are skipped (default 1000)\n"
            "  --ease-cap N      EASE on the N most frequent products (default %d)\n"
            "  --max-valid N     score candidates on at most N validation receipts, a fixed\n"
            "                    sample (default 2000; 0 = all of them)\n"
            "  --max-runs N      refuse a grid of more runs over all cities and kinds\n"
            "                    (default %d) unless --yes\n"
            "  --yes             run a grid of any size\n"
            "  --seed N          random seed of every kind (default 1)\n"
            "  --if-changed      only the cities with receipts newer than their active\n"
            "                    models of these kinds (for a schedule: docs/SERVE.md)\n"
            "  --force           the new model becomes active even when the active one\n"
            "                    scores better on the validation part\n"
            "PARAMS (single values; a grid overrides them):\n",
            rs_kind_names(), RS_TRAIN_DEFAULT_BUDGET, RS_EASE_DEFAULT_ITEMS, RS_TRAIN_MAX_RUNS);
    /* the parameter flags, from the kinds' tables */
    const char *names = rs_param_names();
    int col = 0;
    while (*names) {
        size_t n = strcspn(names, ",");
        if (col + (int)n + 3 > 86) {
            fputc('\n', f);
            col = 0;
        }
        col += fprintf(f, "%s--%.*s", col ? " " : "  ", (int)n, names);
        names += n;
        names += strspn(names, ", ");
    }
    fputs("\n  (dashes and underscores are interchangeable: --ns-exponent)\n", f);
}

enum { OPT_CITY = 1, OPT_KIND, OPT_SPLIT, OPT_GRID, OPT_SELECT, OPT_MIN_RECEIPTS,
       OPT_EASE_CAP, OPT_MAX_VALID, OPT_MAX_RUNS, OPT_YES, OPT_SEED, OPT_IF_CHANGED,
       OPT_BUDGET, OPT_NO_SEARCH, OPT_FORCE };

static const cli_opt OPTS[] = {
    {"city", 'c', CLI_ARG, OPT_CITY},
    {"kind", 0, CLI_ARG, OPT_KIND},
    {"split", 0, CLI_ARG, OPT_SPLIT},
    {"grid", 0, CLI_ARG, OPT_GRID},
    {"select", 0, CLI_ARG, OPT_SELECT},
    {"min-receipts", 0, CLI_ARG, OPT_MIN_RECEIPTS},
    {"ease-cap", 0, CLI_ARG, OPT_EASE_CAP},
    {"max-valid", 0, CLI_ARG, OPT_MAX_VALID},
    {"max-runs", 0, CLI_ARG, OPT_MAX_RUNS},
    {"yes", 'y', CLI_FLAG, OPT_YES},
    {"force", 0, CLI_FLAG, OPT_FORCE},
    {"seed", 0, CLI_ARG, OPT_SEED},
    {"if-changed", 0, CLI_FLAG, OPT_IF_CHANGED},
    {"budget", 0, CLI_ARG, OPT_BUDGET},
    {"no-search", 0, CLI_FLAG, OPT_NO_SEARCH},
    {NULL, 0, 0, 0},
};

typedef struct printer {
    cli_progress bar; /* bar.tty: stderr is a terminal */
    int failed;       /* a failure was printed */
} printer;

/* Starts a line of news: wipes a progress bar first. */
static void begin_line(printer *pr)
{
    cli_progress_clear(&pr->bar);
}

static void on_event(void *ctx, const rs_train_event *ev)
{
    printer *pr = ctx;
    const char *city = ev->city;
    switch (ev->type) {
    case RS_TRAIN_PROGRESS:
        if (pr->bar.tty) {
            char label[160];
            snprintf(label, sizeof label, "%s %s", city, ev->label);
            cli_progress_draw(&pr->bar, label, ev->progress, NULL);
        }
        return;
    case RS_TRAIN_CITY:
        begin_line(pr);
        cli_message(stderr,
                    "[%s] %" PRId64 " receipts: fit %" PRId64 ", validation %" PRId64
                    " (%" PRId64 " queries), final (%s) %" PRId64 "\n",
                    city, ev->receipts, ev->fit, ev->valid, ev->queries, ev->split, ev->final);
        return;
    case RS_TRAIN_RUN:
        begin_line(pr);
        cli_message(stderr,
                    "[%s] %s %" PRId64 "/%" PRId64 " %s hr@10=%.4f ndcg@10=%.4f fit %.1fs\n",
                    city, ev->kind, ev->index, ev->count, ev->params, ev->metrics->hr,
                    ev->metrics->ndcg, ev->seconds);
        return;
    case RS_TRAIN_FINAL:
        begin_line(pr);
        cli_message(stderr, "[%s] %s final (%s): %s, model %" PRId64 " %s (%.1fs)\n", city,
                    ev->kind, ev->split, ev->params, ev->model_id,
                    ev->inactive ? "registered inactive" : "active", ev->seconds);
        return;
    case RS_TRAIN_CHOICE:
        begin_line(pr);
        cli_message(stderr,
                    "[%s] %s: %s active (validation hr@10=%.4f ndcg@10=%.4f; %" PRId64
                    " candidates, %.1fs)\n",
                    city, ev->kind ? ev->kind : "completion", ev->text, ev->metrics->hr, ev->metrics->ndcg, ev->count,
                    ev->seconds);
        return;
    case RS_TRAIN_NOTE:
    case RS_TRAIN_FAILED:
        begin_line(pr);
        pr->failed |= ev->type == RS_TRAIN_FAILED;
        cli_message(stderr, "recoscope train: [%s]%s%s: %s\n", city, ev->kind ? " " : "",
                    ev->kind ? ev->kind : "", ev->text);
        return;
    }
}

/* --kind: a name of the table or "all" into a mask. */
static int parse_kind(const cli_parser *p, uint32_t *mask)
{
    if (!strcmp(p->value, "all")) {
        *mask = 0;
        return RS_OK;
    }
    int k = rs_kind_index(p->value);
    if (k < 0)
        return cli_usage_error("train", "unknown kind '%s' (%s, all)", p->value,
                               rs_kind_names());
    *mask = 1u << k;
    return RS_OK;
}

/* What the command line says of the search. */
typedef struct search_args {
    const char *grid_path;
    int params;    /* a model parameter was given */
    int no_search;
    int budget;    /* --budget was given (o->budget) */
} search_args;

/* One option of the table, or a model parameter (CLI_UNKNOWN). */
static int parse_option(cli_parser *p, int id, rs_train_opts *o, search_args *sa)
{
    static const char *const SPLITS[] = {"all", "train", NULL};
    int64_t v;
    uint64_t u;
    int ix;
    rs_error e = {0};
    switch (id) {
    case OPT_CITY: o->city = p->value; return RS_OK;
    case OPT_KIND: return parse_kind(p, &o->kinds);
    case OPT_SPLIT:
        if (cli_opt_choice(p, SPLITS, &ix))
            return RS_EUSAGE;
        o->split = ix ? RS_SPLIT_TRAIN : RS_SPLIT_ALL;
        return RS_OK;
    case OPT_GRID: sa->grid_path = p->value; return cli_opt_nonempty(p);
    case OPT_NO_SEARCH: sa->no_search = 1; return RS_OK;
    case OPT_BUDGET:
        if (cli_opt_int(p, 0, 86400, &v))
            return RS_EUSAGE;
        o->budget = (double)v;
        sa->budget = 1;
        return RS_OK;
    case OPT_SELECT: {
        rs_rank_metrics probe = {.k = 10};
        double d;
        if (rs_rank_metric_get(&probe, p->value, &d) != 0)
            return cli_usage_error("train", "unknown --select metric '%s' (hr@10, ndcg@10, "
                                            "mrr, precision@10, recall@10)", p->value);
        o->select = p->value;
        return RS_OK;
    }
    case OPT_MIN_RECEIPTS:
        if (cli_opt_int(p, 0, INT64_MAX, &v))
            return RS_EUSAGE;
        o->min_receipts = v;
        return RS_OK;
    case OPT_MAX_VALID:
        if (cli_opt_int(p, 0, INT64_MAX, &v))
            return RS_EUSAGE;
        o->max_valid = v;
        return RS_OK;
    case OPT_MAX_RUNS:
        if (cli_opt_int(p, 1, INT64_MAX, &v))
            return RS_EUSAGE;
        o->max_runs = v;
        return RS_OK;
    case OPT_EASE_CAP:
        if (cli_opt_int(p, 1, 200000, &v))
            return RS_EUSAGE;
        o->ease_cap = (int32_t)v;
        return RS_OK;
    case OPT_YES: o->yes = 1; return RS_OK;
    case OPT_FORCE: o->force = 1; return RS_OK;
    case OPT_IF_CHANGED: o->if_changed = 1; return RS_OK;
    case OPT_SEED:
        if (cli_opt_u64(p, 0, UINT64_MAX, &u))
            return RS_EUSAGE;
        rs_params_set_seed(&o->base, u);
        return RS_OK;
    case CLI_UNKNOWN: {
        char name[64];
        snprintf(name, sizeof name, "%s", p->name + 2); /* "--ns-exponent" */
        for (char *c = name; *c; c++)
            if (*c == '-')
                *c = '_';
        if (strncmp(p->name, "--", 2) != 0 || !rs_param_known(name, NULL)) {
            cli_opt_unknown(p);
            return RS_EUSAGE;
        }
        if (cli_opt_value(p) < 0)
            return RS_EUSAGE;
        if (rs_param_set_text(&o->base, name, p->value, &e))
            return cli_usage_error("train", "%s", e.msg);
        sa->params |= strcmp(name, "threads") != 0;
        return RS_OK;
    }
    default: return cli_usage_error("train", "unexpected argument '%s'", p->value);
    }
}

int cmd_train(rs_cli *cli, int argc, char **argv)
{
    rs_train_opts o;
    rs_error e = {0};
    rs_store *s = NULL;
    rs_grid *grid = NULL;
    search_args sa = {0};
    printer pr = {.failed = 0};
    cli_progress_init(&pr.bar);
    int rc, id;
    rs_train_opts_defaults(&o);
    /* The command line trains on every core by default; core's default stays 1 thread
     * (bit-identical results), and --threads 1 asks for that here too. */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    rs_param_set(&o.base, "threads", ncpu > 1 ? (double)(ncpu < 16 ? ncpu : 16) : 1.0, &e);
    cli_parser p;
    cli_opt_init(&p, "train", argc, argv, OPTS);
    cli_opt_allow_unknown(&p);
    while ((id = cli_opt_next(&p)) > 0) {
        if (id == CLI_HELP) {
            usage(stdout);
            return RS_OK;
        }
        if ((rc = parse_option(&p, id, &o, &sa)))
            return rc;
    }
    if (id < 0)
        return RS_EUSAGE;
    if (sa.no_search && (sa.grid_path || sa.budget))
        return cli_usage_error("train", "--no-search excludes --grid and --budget");
    if (sa.grid_path && (rc = rs_grid_load(sa.grid_path, &grid, &e)))
        return cli_fail(&e);
    if (!sa.grid_path && !sa.params && !sa.no_search) { /* the built-in search */
        if ((rc = rs_grid_parse(rs_train_default_search(), "the built-in search", &grid, &e)))
            return cli_fail(&e);
        if (!sa.budget)
            o.budget = RS_TRAIN_DEFAULT_BUDGET;
        o.yes = 1; /* bounded by the budget, not by --max-runs */
    }
    o.grid = grid;
    o.event = on_event;
    o.event_ctx = &pr;
    o.progress = pr.bar.tty;
    if (!(rc = rs_store_open(cli->db_path, 0, &s, &e)))
        rc = rs_train(s, &o, &e);
    begin_line(&pr);
    rs_store_close(s);
    rs_grid_free(grid);
    /* a city's or kind's failure was printed as it happened; the plan's and the
     * store's are not */
    return rc && !pr.failed ? cli_fail(&e) : rc;
}
