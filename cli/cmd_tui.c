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
            "The database is opened read-only (an import or training may run meanwhile;\n"
            "press r when the TUI says models changed).  NO_COLOR turns colour off;\n"
            "a non-UTF-8 locale (LC_ALL=C) gives ASCII glyphs.  Needs at least 80x24.\n");
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

/* Fetches the value of an option "--name V" or "--name=V"; returns 1 when argv[*i]
 * is that option (advancing *i), -1 when its value is missing, 0 otherwise. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **out)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *out = a + n + 1;
        return 1;
    }
    if (a[n] != 0)
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *out = argv[++*i];
    return 1;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

int cmd_tui(rs_cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        tui_usage(stdout);
        return RS_OK;
    }
    tui_options opt = {0};
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = opt_value(argc, argv, &i, "--city", &opt.city)) ||
            (r = opt_value(argc, argv, &i, "--product", &opt.product))) {
            if (r < 0)
                return cli_usage_error(argv[0], "%s needs a value", argv[i]);
            continue;
        }
        return cli_usage_error(argv[0], "unknown argument '%s'", argv[i]);
    }
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
    int rc = tui_run(s, &opt, &e);
    rs_store_close(s);
    if (rc != RS_OK)
        return cli_fail(&e);
    return RS_OK;
}

int cmd_snapshot(rs_cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        snapshot_usage(stdout);
        return RS_OK;
    }
    tui_options opt = {0};
    const char *keys = NULL, *rows_s = NULL, *cols_s = NULL;
    int rows = 24, cols = 80, attrs = 0;
    for (int i = 1; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "--attrs") == 0) {
            attrs = 1;
            continue;
        }
        if (strcmp(argv[i], "--timing") == 0) {
            /* measures the interactive path: fast start, background completion */
            tui_snapshot_timing = stderr;
            opt.fast_start = 1;
            continue;
        }
        if ((r = opt_value(argc, argv, &i, "--city", &opt.city)) ||
            (r = opt_value(argc, argv, &i, "--product", &opt.product)) ||
            (r = opt_value(argc, argv, &i, "--keys", &keys)) ||
            (r = opt_value(argc, argv, &i, "--rows", &rows_s)) ||
            (r = opt_value(argc, argv, &i, "--cols", &cols_s))) {
            if (r < 0)
                return cli_usage_error(argv[0], "%s needs a value", argv[i]);
            continue;
        }
        return cli_usage_error(argv[0], "unknown argument '%s'", argv[i]);
    }
    if (rows_s && parse_int(rows_s, 1, 999, &rows) != 0)
        return cli_usage_error(argv[0], "--rows must be 1..999, not '%s'", rows_s);
    if (cols_s && parse_int(cols_s, 1, 999, &cols) != 0)
        return cli_usage_error(argv[0], "--cols must be 1..999, not '%s'", cols_s);
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
