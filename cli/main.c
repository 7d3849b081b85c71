/* main.c - entry point: global options, then one subcommand from the table. */
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/lapack.h"
#include "../core/store.h"
#include "cli.h"

static const struct {
    const char *name;
    rs_cmd_fn run;
    const char *summary;
} COMMANDS[] = {
    {"demo", cmd_demo, "build the synthetic world, import, train, open the TUI"},
    {"synth", cmd_synth, "write a reproducible synthetic retail world (CSV + truth.json)"},
    {"import", cmd_import, "import receipts and a product catalogue into the database"},
    {"stats", cmd_stats, "counts, cities, top products and categories"},
    {"train", cmd_train, "train product/category models and baselines (or a grid search)"},
    {"eval", cmd_eval, "evaluate models and baselines on held-out receipts"},
    {"recommend", cmd_recommend, "synonyms, categories, complements for a product or basket"},
    {"export", cmd_export, "export a model in word2vec text or binary format"},
    {"import-model", cmd_import_model, "import a word2vec text or binary model"},
    {"models", cmd_models, "model history: list with scores, activate an older one, prune"},
    {"tui", cmd_tui, "open the terminal interface"},
    {"snapshot", cmd_snapshot, "print the screen the TUI would draw, as text"},
    {"serve", cmd_serve, "recommendations as a local HTTP service (JSON, metrics, reload)"},
    {"map", cmd_map, "the map of a city's model as an SVG picture"},
    {"cluster", cmd_cluster, "derived categories: clusters of the product model, named"},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *f)
{
    fprintf(f,
            "usage: recoscope [--db PATH] <command> [options]\n"
            "       recoscope            (on a terminal: opens the TUI on the database)\n"
            "\n"
            "Learns product and category embeddings from receipts (per city) and browses\n"
            "substitute, category and complementary recommendations.\n"
            "\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-13s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(f, "\n"
               "global options (before or after the command):\n"
               "  --db PATH     the database (default $RECOSCOPE_DB, else %s)\n"
               "  -h, --help    this text; `recoscope <command> --help` for a command\n"
               "  --version     print the version\n"
               "\nexit codes: 0 ok, 1 usage error, 2 bad input data, 3 internal error\n",
            RS_DEFAULT_DB);
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    /* recoscope parallelises its own loops (trainer, batch, evaluation); OpenBLAS's
     * worker threads spin between calls and take those cores, so BLAS runs on one
     * thread unless the user says otherwise (the EASE fit asks for more itself). */
    if (!getenv("OPENBLAS_NUM_THREADS"))
        openblas_set_num_threads(1);
    rs_cli cli = {.prog = argv[0], .db_path = NULL};

    /* Pull --db out of argv wherever it stands (before "--"), so every subcommand
     * accepts it before or after its name. */
    int n = 0;
    int passthrough = 0;
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        if (i > 0 && !passthrough) {
            if (strcmp(a, "--") == 0)
                passthrough = 1;
            else if (strcmp(a, "--db") == 0) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "recoscope: --db needs a path\n");
                    return RS_EUSAGE;
                }
                cli.db_path = argv[++i];
                continue;
            } else if (strncmp(a, "--db=", 5) == 0) {
                cli.db_path = a + 5;
                continue;
            }
        }
        argv[n++] = a;
    }
    argc = n;
    argv[argc] = NULL;
    if (!cli.db_path)
        cli.db_path = rs_store_default_path();
    if (!*cli.db_path) {
        fprintf(stderr, "recoscope: --db needs a path\n");
        return RS_EUSAGE;
    }

    if (argc < 2) {
        if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
            return cmd_tui(&cli, 1, (char *[]){"tui", NULL});
        usage(stderr);
        return RS_EUSAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return RS_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("recoscope %s\n", RS_VERSION);
        return RS_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(name, COMMANDS[i].name) == 0)
            return COMMANDS[i].run(&cli, argc - 1, argv + 1);
    fprintf(stderr, "recoscope: unknown command '%s'\n\n", name);
    usage(stderr);
    return RS_EUSAGE;
}
