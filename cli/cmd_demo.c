/* cmd_demo.c - `recoscope demo`: the first thing a new user runs.
 *
 * Builds the default synthetic world next to the database (if absent), imports it
 * (the import ledger skips files already imported), trains the models (unless the
 * database already has active ones) and opens the TUI.  Each step goes through the
 * same code as its own subcommand, so the demo exercises exactly what users run.
 *
 * With the TUI, the first screen should come quickly: the city the TUI opens on is
 * trained first with the default parameters (no search, a smaller validation sample),
 * the TUI opens on it, and `train --if-changed` (the built-in search) trains the other
 * cities in a child process meanwhile (niced; its output in <db>-demo-train.log); the
 * TUI's status line says "models changed: r reloads" as they land.  The child is
 * stopped when the TUI closes; a model half fitted is never registered (train's
 * contract), and the next `recoscope demo` goes on with the cities left.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/browse.h"
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
    "`recoscope demo` opens the TUI at once.  With the TUI, the first city is trained\n"
    "first (default parameters) and the interface opens on it while the other cities\n"
    "train in the background (log: <db>-demo-train.log; the status line says when new\n"
    "models can be loaded with r); quitting stops that training, the next demo goes on.\n"
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

/* What is trained: the first city (the TUI's first screen) and every city with
 * enough receipts to be trained (train's default --min-receipts) plus all cities. */
typedef struct demo_state {
    char first[256]; /* name of the first city ("" when none) */
    int first_ready; /* its product and category models are active */
    int all_ready;
} demo_state;

static int kind_ready(rs_store *s, int64_t city)
{
    rs_model_info info;
    rs_error e = {0};
    return rs_registry_active(s, city, RS_KIND_PRODUCT, "all", &info, &e) == RS_OK &&
           rs_registry_active(s, city, RS_KIND_CATEGORY, "all", &info, &e) == RS_OK;
}

static void read_state(const char *db_path, demo_state *d)
{
    memset(d, 0, sizeof *d);
    rs_store *s = NULL;
    rs_error e = {0};
    rs_browse_city *c = NULL;
    int n = 0;
    if (rs_store_open(db_path, RS_STORE_READONLY, &s, &e) != RS_OK)
        return;
    if (rs_browse_cities(s, &c, &n, &e) == RS_OK && n > 0) {
        snprintf(d->first, sizeof d->first, "%s", c[0].name);
        d->first_ready = kind_ready(s, c[0].id);
    }
    d->all_ready = kind_ready(s, 0);
    for (int i = 0; i < n && d->all_ready; i++)
        if (c[i].receipts >= 1000 && n > 1)
            d->all_ready = kind_ready(s, c[i].id);
    rs_browse_cities_free(c, n);
    rs_store_close(s);
}

/* The rest of the training in a child process: `train --if-changed`, niced, output
 * into log (created afresh, never through a symlink).  Returns the child's pid, or
 * -1 (and says why) when it could not start. */
static pid_t train_in_background(rs_cli *cli, const char *log, const char *first)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "demo: cannot start the background training: %s\n", strerror(errno));
        return -1;
    }
    if (pid > 0)
        return pid;
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || nul < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0 ||
        dup2(nul, STDIN_FILENO) < 0)
        _exit(RS_EINTERNAL);
    signal(SIGINT, SIG_IGN); /* the TUI's keys are not ours; the parent stops us */
    if (setpriority(PRIO_PROCESS, 0, 10) != 0) {
        /* not fatal: the TUI is light */
    }
    int rc = run(cli, cmd_train, (char *[]){"train", "--if-changed", NULL});
    if (rc == RS_OK && first && first[0]) /* the first city, with the search this time */
        rc = run(cli, cmd_train, (char *[]){"train", "--city", (char *)first, NULL});
    fflush(stdout);
    fflush(stderr);
    _exit(rc);
}

/* After the TUI: the background training, stopped if still running. */
static void end_background(pid_t pid, const char *log)
{
    int status = 0;
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == 0) {
        kill(pid, SIGTERM);
        waitpid(pid, &status, 0);
        fprintf(stderr, "demo: the background training was stopped; `recoscope demo` (or "
                        "`recoscope train --if-changed`) goes on with the cities left "
                        "(log: %s)\n", log);
    } else if (w == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        fprintf(stderr, "demo: the background training finished (log: %s)\n", log);
    } else if (w == pid) {
        fprintf(stderr, "demo: the background training failed (exit %d); see %s\n",
                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), log);
    }
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
    int tui = !no_tui && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO), quick_first = 0;
    demo_state d;
    read_state(cli->db_path, &d);
    if (d.all_ready) {
        fprintf(stderr, "demo: models already trained (run `recoscope train` to retrain)\n");
    } else if (!tui) {
        if ((rc = run(cli, cmd_train, (char *[]){"train", "--if-changed", NULL})))
            return rc;
    } else if (!d.first_ready && d.first[0]) {
        quick_first = 1;
        fprintf(stderr, "demo: training %s first, for the first screen; the other cities "
                        "train in the background while you browse\n", d.first);
        rc = run(cli, cmd_train, (char *[]){"train", "--city", d.first, "--no-search",
                                            "--max-valid", "500", NULL});
        if (rc)
            return rc;
    }
    if (!tui) {
        fprintf(stderr, "demo: done; open the interface with `recoscope%s%s tui`\n",
                getenv("RECOSCOPE_DB") ? "" : " --db ", getenv("RECOSCOPE_DB") ? "" : cli->db_path);
        return RS_OK;
    }
    pid_t bg = -1;
    char log[PATH_MAX + 32];
    snprintf(log, sizeof log, "%s-demo-train.log", cli->db_path);
    if (!d.all_ready) {
        bg = train_in_background(cli, log, quick_first ? d.first : NULL);
        if (bg > 0)
            fprintf(stderr, "demo: training the other cities in the background (log: %s)\n", log);
    }
    rc = run(cli, cmd_tui, (char *[]){"tui", NULL});
    if (bg > 0)
        end_background(bg, log);
    return rc;
}
