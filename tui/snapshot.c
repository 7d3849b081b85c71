/* snapshot.c - the headless twin of the TUI: the same app, keys and drawing, with the
 * canvas printed as text (and, with attrs, the roles as letters plus a legend).
 * Trailing blanks are cut from every printed row so dumps diff cleanly.
 */
#include <curses.h>

#include "app.h"
#include "theme.h"

#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_KEYS 4096

FILE *tui_snapshot_timing;

/* CPU time of the calling thread: timings that do not depend on the machine's load
 * (the thread clock, not getrusage, whose tick-based figures are too coarse for keys) */
static double cpu_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0)
        return 0;
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Runs the background work (co-purchase index, a switched city's recommender, the
 * search index) to its end, as the terminal loop does while nobody types. */
static void drain_background(tui_app *a)
{
    while (tui_app_background(a)) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
}

/* A key code as the --keys script spells it ("j", "<Tab>", "<code 123>"). */
static void script_key_name(int code, char *buf, size_t n)
{
    static const struct {
        int code;
        const char *name;
    } NAMES[] = {
        {'\n', "<Enter>"}, {'\t', "<Tab>"},    {KEY_BTAB, "<S-Tab>"}, {KEY_BACKSPACE, "<BS>"},
        {27, "<Esc>"},     {KEY_UP, "<Up>"},    {KEY_DOWN, "<Down>"},  {KEY_LEFT, "<Left>"},
        {KEY_RIGHT, "<Right>"}, {KEY_PPAGE, "<PgUp>"}, {KEY_NPAGE, "<PgDn>"},
        {KEY_HOME, "<Home>"}, {KEY_END, "<End>"}, {KEY_F(1), "<F1>"}, {' ', "<Space>"},
    };
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
        if (NAMES[i].code == code) {
            snprintf(buf, n, "%s", NAMES[i].name);
            return;
        }
    if (code >= TUI_KEY_RESIZE_BASE)
        snprintf(buf, n, "<resize %dx%d>", (code - TUI_KEY_RESIZE_BASE) / 1000,
                 (code - TUI_KEY_RESIZE_BASE) % 1000);
    else if (code > 0 && code < 0x20)
        snprintf(buf, n, "<C-%c>", code + 'a' - 1);
    else if (code > 0x20 && code < 0x7F)
        snprintf(buf, n, "%c", code);
    else
        snprintf(buf, n, "<code %d>", code);
}

static void print_rows(const tui_canvas *c, FILE *f)
{
    size_t cap = (size_t)c->cols * 4 + 8;
    char *buf = malloc(cap);
    if (!buf)
        return;
    for (int y = 0; y < c->rows; y++) {
        size_t n = tui_canvas_row_text(c, y, buf, cap);
        while (n > 0 && buf[n - 1] == ' ')
            n--;
        buf[n] = 0;
        fprintf(f, "%s\n", buf);
    }
    free(buf);
}

static void print_attrs(const tui_canvas *c, FILE *f)
{
    int used[TUI_NROLES] = {0};
    char *row = malloc((size_t)c->cols + 1);
    if (!row)
        return;
    fprintf(f, "--- attributes (%s) ---\n", c->color ? "colour" : "monochrome");
    for (int y = 0; y < c->rows; y++) {
        int n = 0;
        for (int x = 0; x < c->cols; x++) {
            const tui_cell *cell = &c->cells[(size_t)y * (size_t)c->cols + (size_t)x];
            used[cell->role] = 1;
            row[n++] = tui_role_letter((tui_role)cell->role);
        }
        while (n > 0 && row[n - 1] == '.')
            n--;
        row[n] = 0;
        fprintf(f, "%s\n", row);
    }
    for (int r = 0; r < TUI_NROLES; r++) {
        if (!used[r])
            continue;
        char d[96];
        tui_style_describe((tui_role)r, c->color, d, sizeof d);
        fprintf(f, "%c %-32s %s\n", tui_role_letter((tui_role)r), tui_role_desc((tui_role)r), d);
    }
    free(row);
}

int tui_snapshot(rs_store *s, const tui_options *opt, int rows, int cols, const char *keys,
                 int attrs, FILE *f, rs_error *e)
{
    tui_app *a = NULL;
    tui_canvas c = {0};
    int *codes = NULL;
    int n = 0, rc;
    if (keys) {
        char err[512];
        codes = malloc(MAX_KEYS * sizeof *codes);
        if (!codes)
            return rs_seterr(e, RS_EINTERNAL, "out of memory");
        n = tui_keys_parse(keys, codes, MAX_KEYS, err, sizeof err);
        if (n < 0) {
            free(codes);
            return rs_seterr(e, RS_EUSAGE, "--keys: %s", err);
        }
    }
    const char *cs = nl_langinfo(CODESET);
    int utf8 = cs && strcmp(cs, "UTF-8") == 0;
    const char *nc = getenv("NO_COLOR");
    int color = !(nc && *nc);
    double t0 = now_ms(), c0 = cpu_ms(), slowest = 0, slowest_cpu = 0;
    if ((rc = tui_app_open(s, opt, &a, e)) != RS_OK)
        goto done;
    if (tui_canvas_init(&c, rows, cols, utf8, color) != 0) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    tui_app_draw(a, &c);
    double first = now_ms() - t0, first_cpu = cpu_ms() - c0;
    if (tui_snapshot_timing)
        fprintf(tui_snapshot_timing, "first frame %.1f ms (cpu %.1f ms)\n", first, first_cpu);
    unsigned flags = 0;
    for (int i = 0; i < n && !(flags & TUI_QUIT); i++) {
        if (tui_snapshot_timing)
            drain_background(a); /* what a terminal does between keys (not timed) */
        /* every key goes through a draw first, as on a terminal: list pages and
         * scroll positions depend on what was on screen */
        if (i > 0 || tui_snapshot_timing)
            tui_app_draw(a, &c);
        double k0 = now_ms(), kc0 = cpu_ms();
        flags = tui_app_key(a, codes[i]);
        tui_app_draw(a, &c);
        if ((rc = tui_app_damaged(a, e)) != RS_OK)
            goto done;
        double dt = now_ms() - k0, dc = cpu_ms() - kc0;
        if (dt > slowest)
            slowest = dt;
        if (dc > slowest_cpu)
            slowest_cpu = dc;
        if (tui_snapshot_timing) {
            char name[32];
            script_key_name(codes[i], name, sizeof name);
            fprintf(tui_snapshot_timing, "key %d %-8s %6.2f ms (cpu %6.2f ms)%s\n", i + 1, name,
                    dt, dc, dc > 16 ? "  over one frame" : "");
        }
        int r2, c2;
        if ((flags & TUI_RESIZE) && tui_key_resize_size(codes[i], &r2, &c2) &&
            tui_canvas_resize(&c, r2, c2) != 0) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
    }
    if (tui_snapshot_timing)
        fprintf(tui_snapshot_timing,
                "first frame %.1f ms (cpu %.1f ms), %d keys, slowest key %.1f ms (cpu %.1f ms)\n",
                first, first_cpu, n, slowest, slowest_cpu);
    /* an interactive start completes its recommenders in the background: wait */
    drain_background(a);
    tui_app_draw(a, &c);
    if ((rc = tui_app_damaged(a, e)) != RS_OK)
        goto done;
    print_rows(&c, f);
    if (flags & TUI_QUIT)
        fprintf(f, "[quit]\n");
    if (attrs)
        print_attrs(&c, f);
    if (fflush(f) != 0 || ferror(f))
        rc = rs_seterr(e, RS_EINTERNAL, "cannot write the snapshot");
done:
    tui_canvas_free(&c);
    tui_app_close(a);
    free(codes);
    return rc;
}
