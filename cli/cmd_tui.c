/* cmd_tui.c - `recoscope tui` (the terminal interface) and `recoscope snapshot` (the
 * same screen rendered headlessly as text).  Both open the database read-only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/store.h"
#include "../tui/tui.h"
#include "cli.h"
#include "opt.h"

static void tui_usage(FILE *f)
{
    fprintf(f,
            "usage: recoscope [--db PATH] tui [--city C] [--product ID|NAME]\n"
            "\n"
            "Opens the terminal interface: synonyms, categories and complements of a product\n"
            "in a city, the popularity histogram, metrics of the models.  Starts on the\n"
            "last-used city and product (kept in \"<db>-tui.json\"), else the most popular\n"
            "product of the first city.  Press ? inside for the keys.\n"
            "\n"
            "  --city C       city name (\"all\" for all cities)\n"
            "  --product P    product external id, or a name to search\n"
            "\n"
            "x exports the view (JSON, or CSV for a name ending in .csv) beside the\n"
            "database, unless the name is an absolute path.\n"
            "\n"
            "The database is opened read-only (an import or training may run meanwhile;\n"
            "press r when the TUI says models changed).  NO_COLOR turns colour off;\n"
            "a non-UTF-8 locale (LC_ALL=C) gives ASCII glyphs.  Needs at least 80x24 and\n"
            "a terminal that moves the cursor (not TERM=dumb).\n"
            "\n"
            "exit codes: 0 quit with q, 1 usage (or no usable terminal), 2 bad data,\n"
            "3 internal error; 128 + the signal when interrupted (Ctrl-C: 130,\n"
            "SIGHUP: 129, SIGTERM: 143), after the terminal was restored.\n");
}

static void snapshot_usage(FILE *f)
{
    fprintf(f,
            "usage: recoscope [--db PATH] snapshot [--rows R] [--cols C] [--city C]\n"
            "                 [--product P] [--keys KEYS] [--attrs]\n"
            "\n"
            "Prints the screen the TUI would draw, as plain text, for scripts, docs and tests.\n"
            "\n"
            "  --rows R, --cols C   screen size (default 24 x 80)\n"
            "  --city C, --product P  as for `recoscope tui` (no last-used state is read)\n"
            "  --keys KEYS          keys to replay first: characters, and <Enter> <Tab>\n"
            "                       <S-Tab> <BS> <Esc> <Up> <Down> <Left> <Right> <PgUp>\n"
            "                       <PgDn> <Home> <End> <F1> <Space> <C-x> <lt> <resize RxC>\n"
            "  --attrs              also print a grid of attribute letters and a legend\n"
            "  --timing             print to stderr the time to the first frame and each\n"
            "                       key's time (the key plus one redraw, after background\n"
            "                       work such as co-purchase counts has finished)\n"
            "\n"
            "Glyphs follow the locale (UTF-8 or ASCII); NO_COLOR gives the monochrome\n"
            "attributes in the legend.\n");
}

enum { OPT_CITY = 1, OPT_PRODUCT, OPT_KEYS, OPT_ROWS, OPT_COLS, OPT_ATTRS, OPT_TIMING };

static const cli_opt TUI_OPTS[] = {
    {"city", 0, CLI_ARG, OPT_CITY},
    {"product", 0, CLI_ARG, OPT_PRODUCT},
    {NULL, 0, 0, 0},
};

static const cli_opt SNAPSHOT_OPTS[] = {
    {"city", 0, CLI_ARG, OPT_CITY},
    {"product", 0, CLI_ARG, OPT_PRODUCT},
    {"keys", 0, CLI_ARG, OPT_KEYS},
    {"rows", 0, CLI_ARG, OPT_ROWS},
    {"cols", 0, CLI_ARG, OPT_COLS},
    {"attrs", 0, CLI_FLAG, OPT_ATTRS},
    {"timing", 0, CLI_FLAG, OPT_TIMING},
    {NULL, 0, 0, 0},
};

int cmd_tui(rs_cli *cli, int argc, char **argv)
{
    tui_options opt = {0};
    cli_parser p;
    cli_opt_init(&p, "tui", argc, argv, TUI_OPTS);
    int id;
    while ((id = cli_opt_next(&p)) > 0) {
        switch (id) {
        case OPT_CITY: opt.city = p.value; break;
        case OPT_PRODUCT: opt.product = p.value; break;
        case CLI_HELP: tui_usage(stdout); return RS_OK;
        default: return cli_usage_error("tui", "unexpected argument '%s'", p.value);
        }
    }
    if (id < 0)
        return RS_EUSAGE;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "recoscope tui: needs a terminal (use `recoscope snapshot` in scripts)\n");
        return RS_EUSAGE;
    }
    rs_error e = {0};
    rs_store *s = NULL;
    if (rs_store_open(cli->db_path, RS_STORE_READONLY, &s, &e) != RS_OK)
        return cli_fail(&e);
    char state[4096];
    tui_state_path(cli->db_path, state, sizeof state);
    opt.state_path = state;
    opt.fast_start = 1;
    int signo = 0;
    int rc = tui_run(s, &opt, &signo, &e);
    rs_store_close(s);
    if (rc != RS_OK)
        return cli_fail(&e);
    return signo ? 128 + signo : RS_OK; /* Ctrl-C: 130, as an interrupted program */
}

int cmd_snapshot(rs_cli *cli, int argc, char **argv)
{
    tui_options opt = {0};
    const char *keys = NULL;
    int rows = 24, cols = 80, attrs = 0;
    cli_parser p;
    cli_opt_init(&p, "snapshot", argc, argv, SNAPSHOT_OPTS);
    int id;
    while ((id = cli_opt_next(&p)) > 0) {
        switch (id) {
        case OPT_CITY: opt.city = p.value; break;
        case OPT_PRODUCT: opt.product = p.value; break;
        case OPT_KEYS: keys = p.value; break;
        case OPT_ROWS:
            if (cli_opt_int32(&p, 1, 999, &rows))
                return RS_EUSAGE;
            break;
        case OPT_COLS:
            if (cli_opt_int32(&p, 1, 999, &cols))
                return RS_EUSAGE;
            break;
        case OPT_ATTRS: attrs = 1; break;
        case OPT_TIMING:
            /* measures the interactive path: fast start, background completion */
            tui_snapshot_timing = stderr;
            opt.fast_start = 1;
            break;
        case CLI_HELP: snapshot_usage(stdout); return RS_OK;
        default: return cli_usage_error("snapshot", "unexpected argument '%s'", p.value);
        }
    }
    if (id < 0)
        return RS_EUSAGE;
    rs_error e = {0};
    rs_store *s = NULL;
    if (rs_store_open(cli->db_path, RS_STORE_READONLY, &s, &e) != RS_OK)
        return cli_fail(&e);
    int rc = tui_snapshot(s, &opt, rows, cols, keys, attrs, stdout, &e);
    rs_store_close(s);
    if (rc != RS_OK)
        return cli_fail(&e);
    return RS_OK;
}
