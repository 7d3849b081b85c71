/* cmd_synth.c - `recoscope synth`: write a reproducible synthetic retail world. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/synth.h"
#include "cli.h"
#include "opt.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: recoscope synth --out DIR [--seed N] [--size default|large]\n"
            "                       [--cities N] [--departments N] [--categories N]\n"
            "                       [--products N] [--receipts N]\n"
            "\n"
            "Writes a reproducible synthetic retail world into DIR (created if missing):\n"
            "  products.csv    product_id,name,category,department,brand,price\n"
            "  categories.csv  category,department\n"
            "  receipts.csv    receipt_id,product_id,city,quantity,timestamp,customer_id\n"
            "  truth.json      the planted structure: substitute groups, complementary\n"
            "                  category pairs, city tastes, local products\n"
            "The same seed and sizes give byte-identical files.  `recoscope import DIR/...`\n"
            "reads them as they are (the canonical layout).\n"
            "\n"
            "options:\n"
            "  --out DIR          output directory (required)\n"
            "  --seed N           random seed (default 1)\n"
            "  --size default     5 cities, 20 departments, 200 categories, 5000 products,\n"
            "                     100000 receipts (the demo world)\n"
            "  --size large       20 cities, 24 departments, 1300 categories, 100000\n"
            "                     products, 1000000 receipts (benchmarks)\n"
            "  --cities N, --departments N, --categories N, --products N, --receipts N\n"
            "                     override one size of the chosen world\n"
            "\n"
            "Word lists come from $RECOSCOPE_ASSETS/names (default %s/names).\n"
            "exit codes: 0 ok, 1 usage error, 2 bad word lists, 3 internal error\n",
            RS_ASSETS_DIR);
}

enum { OPT_OUT = 1, OPT_SIZE, OPT_CITIES, OPT_DEPARTMENTS, OPT_CATEGORIES, OPT_PRODUCTS,
       OPT_RECEIPTS, OPT_SEED };

static const cli_opt OPTS[] = {
    {"out", 0, CLI_ARG, OPT_OUT},
    {"size", 0, CLI_ARG, OPT_SIZE},
    {"cities", 0, CLI_ARG, OPT_CITIES},
    {"departments", 0, CLI_ARG, OPT_DEPARTMENTS},
    {"categories", 0, CLI_ARG, OPT_CATEGORIES},
    {"products", 0, CLI_ARG, OPT_PRODUCTS},
    {"receipts", 0, CLI_ARG, OPT_RECEIPTS},
    {"seed", 0, CLI_ARG, OPT_SEED},
    {NULL, 0, 0, 0},
};

/* The sizes given on the command line are applied over the chosen world, whatever the
 * order of --size and them. */
typedef struct synth_args {
    const char *out;
    int large;
    int64_t v[OPT_SEED + 1];
    int given[OPT_SEED + 1];
    uint64_t seed;
} synth_args;

static int parse_args(int argc, char **argv, synth_args *a)
{
    static const char *const SIZES[] = {"default", "large", NULL};
    static const int64_t lo[] = {[OPT_CITIES] = 1, [OPT_DEPARTMENTS] = 1, [OPT_CATEGORIES] = 1,
                                 [OPT_PRODUCTS] = 2, [OPT_RECEIPTS] = 0};
    static const int64_t hi[] = {[OPT_CITIES] = 1000, [OPT_DEPARTMENTS] = 1000,
                                 [OPT_CATEGORIES] = 1000000, [OPT_PRODUCTS] = 100000000,
                                 [OPT_RECEIPTS] = 500000000};
    cli_parser p;
    cli_opt_init(&p, "synth", argc, argv, OPTS);
    int id;
    while ((id = cli_opt_next(&p)) > 0) {
        switch (id) {
        case OPT_OUT:
            if (cli_opt_nonempty(&p))
                return RS_EUSAGE;
            a->out = p.value;
            break;
        case OPT_SIZE:
            if (cli_opt_choice(&p, SIZES, &a->large))
                return RS_EUSAGE;
            break;
        case OPT_SEED:
            if (cli_opt_u64(&p, 0, UINT64_MAX, &a->seed))
                return RS_EUSAGE;
            a->given[OPT_SEED] = 1;
            break;
        case OPT_CITIES:
        case OPT_DEPARTMENTS:
        case OPT_CATEGORIES:
        case OPT_PRODUCTS:
        case OPT_RECEIPTS:
            if (cli_opt_int(&p, lo[id], hi[id], &a->v[id]))
                return RS_EUSAGE;
            a->given[id] = 1;
            break;
        case CLI_HELP: usage(stdout); return -1;
        default: return cli_usage_error("synth", "unexpected argument '%s'", p.value);
        }
    }
    if (id < 0)
        return RS_EUSAGE;
    if (!a->out)
        return cli_usage_error("synth", "--out DIR is required");
    return RS_OK;
}

int cmd_synth(rs_cli *cli, int argc, char **argv)
{
    (void)cli;
    synth_args a;
    memset(&a, 0, sizeof a);
    int prc = parse_args(argc, argv, &a);
    if (prc)
        return prc < 0 ? RS_OK : prc;
    rs_synth_params p;
    rs_synth_defaults(&p, a.large);
    if (a.given[OPT_CITIES])
        p.cities = (int)a.v[OPT_CITIES];
    if (a.given[OPT_DEPARTMENTS])
        p.departments = (int)a.v[OPT_DEPARTMENTS];
    if (a.given[OPT_CATEGORIES])
        p.categories = (int)a.v[OPT_CATEGORIES];
    if (a.given[OPT_PRODUCTS])
        p.products = a.v[OPT_PRODUCTS];
    if (a.given[OPT_RECEIPTS])
        p.receipts = a.v[OPT_RECEIPTS];
    if (a.given[OPT_SEED])
        p.seed = a.seed;
    const char *out = a.out;

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rs_error e = {0};
    rs_synth_summary sum;
    int rc = rs_synth_run(&p, out, &sum, &e);
    if (rc != RS_OK) {
        if (rc == RS_EUSAGE)
            return cli_usage_error("synth", "%s", e.msg);
        return cli_fail(&e);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("wrote %s in %.2f s (seed %" PRIu64 ")\n"
           "  %d cities, %d departments, %d categories, %" PRId64 " products\n"
           "  %" PRId64 " receipts, %" PRId64 " receipt lines\n"
           "  %" PRId64 " substitute groups (%" PRId64 " products), %" PRId64
           " complementary category pairs, %" PRId64 " local products\n",
           out, secs, p.seed, p.cities, p.departments, p.categories, sum.products,
           sum.receipts, sum.receipt_lines, sum.substitute_groups, sum.grouped_products,
           sum.complementary_pairs, sum.local_products);
    return RS_OK;
}
