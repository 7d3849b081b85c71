/* cmd_demo.c - `recoscope demo`: the first thing a new user runs.
 *
 * Builds the default synthetic world next to the database (if absent), imports it
 * (the import ledger skips files already imported), trains the models (unless the
 * database already has active ones) and opens the TUI.  Each step goes through the
 * same code as its own subcommand, so the demo exercises exactly what users run.
 */
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/model.h"
#include "../core/store.h"
#include "cli.h"
#include "opt.h"

static const char USAGE[] =
    "usage: recoscope demo [--db PATH] [--seed N] [--no-tui]\n"
    "\n"
    "Builds the default synthetic retail world (5 cities, ~5,000 products, 100,000\n"
    "receipts) in <db dir>/demo-world/, imports it into the database, trains the\n"
    "product and category models and the baselines, and opens the TUI.  Steps already\n"
    "done (world written, files imported, models trained) are skipped, so a second\n"
    "`recoscope demo` opens the TUI at once.\n"
    "\n"
    "  --seed N    seed of the synthetic world (default 42)\n"
    "  --no-tui    stop after training (also the case when stdout is not a terminal)\n";

/* Runs one subcommand with a NULL-terminated argument list, resetting getopt. */
static int run(rs_cli *cli, rs_cmd_fn fn, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    fprintf(stderr, "demo: recoscope");
    for (int i = 0; i < argc; i++)
        fprintf(stderr, " %s", argv[i]);
    fprintf(stderr, "\n");
    optind = 0;
    int rc = fn(cli, argc, argv);
    optind = 0;
    return rc;
}

static int has_active_models(const char *db_path)
{
    rs_store *s = NULL;
    rs_error e = {0};
    if (rs_store_open(db_path, RS_STORE_READONLY, &s, &e) != RS_OK)
        return 0;
    rs_model_info info;
    int ok = rs_registry_active(s, 0, RS_KIND_PRODUCT, "all", &info, &e) == RS_OK &&
             rs_registry_active(s, 0, RS_KIND_CATEGORY, "all", &info, &e) == RS_OK;
    rs_store_close(s);
    return ok;
}

int cmd_demo(rs_cli *cli, int argc, char **argv)
{
    enum { OPT_SEED = 1, OPT_NO_TUI };
    static const cli_opt OPTS[] = {
        {"seed", 0, CLI_ARG, OPT_SEED},
        {"no-tui", 0, CLI_FLAG, OPT_NO_TUI},
        {NULL, 0, 0, 0},
    };
    const char *seed = "42";
    int no_tui = 0, id;
    cli_parser p;
    cli_opt_init(&p, "demo", argc, argv, OPTS);
    while ((id = cli_opt_next(&p)) > 0) {
        uint64_t v;
        switch (id) {
        case OPT_SEED:
            if (cli_opt_u64(&p, 0, UINT64_MAX, &v))
                return RS_EUSAGE;
            seed = p.value;
            break;
        case OPT_NO_TUI: no_tui = 1; break;
        case CLI_HELP: fputs(USAGE, stdout); return RS_OK;
        default: return cli_usage_error("demo", "unexpected argument '%s'", p.value);
        }
    }
    if (id < 0)
        return RS_EUSAGE;

    /* The world lives beside the database: <db dir>/demo-world. */
    char world[PATH_MAX], products[PATH_MAX + 32], categories[PATH_MAX + 32],
        receipts[PATH_MAX + 32];
    const char *slash = strrchr(cli->db_path, '/');
    int dirlen = slash ? (int)(slash - cli->db_path) : 1;
    if (dirlen > PATH_MAX - 64)
        return cli_usage_error("demo", "database path too long");
    snprintf(world, sizeof world, "%.*s/demo-world", dirlen, slash ? cli->db_path : ".");
    snprintf(products, sizeof products, "%s/products.csv", world);
    snprintf(categories, sizeof categories, "%s/categories.csv", world);
    snprintf(receipts, sizeof receipts, "%s/receipts.csv", world);

    int rc;
    struct stat st;
    if (stat(receipts, &st) != 0) {
        rc = run(cli, cmd_synth, (char *[]){"synth", "--out", world, "--seed", (char *)seed, NULL});
        if (rc)
            return rc;
    } else {
        fprintf(stderr, "demo: %s exists, using it\n", world);
    }
    rc = run(cli, cmd_import,
             (char *[]){"import", "--products", products, "--categories", categories, receipts,
                        NULL});
    if (rc)
        return rc;
    if (!has_active_models(cli->db_path)) {
        rc = run(cli, cmd_train, (char *[]){"train", NULL});
        if (rc)
            return rc;
    } else {
        fprintf(stderr, "demo: models already trained (run `recoscope train` to retrain)\n");
    }
    if (no_tui || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
        fprintf(stderr, "demo: done; open the interface with `recoscope%s%s tui`\n",
                getenv("RECOSCOPE_DB") ? "" : " --db ", getenv("RECOSCOPE_DB") ? "" : cli->db_path);
        return RS_OK;
    }
    return run(cli, cmd_tui, (char *[]){"tui", NULL});
}
