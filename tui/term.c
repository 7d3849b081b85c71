/* term.c - the curses backend: copies the canvas to the terminal, reads keys, and
 * restores the terminal on q, SIGTERM, SIGHUP and SIGINT (Ctrl-C).  A terminal that cannot
 * move the cursor (TERM=dumb) is refused before anything is drawn.
 *
 * Init follows the terminal habits of STYLE.md: cbreak, noecho, keypad, curs_set(0),
 * set_escdelay(25), use_default_colors (never a painted background).  Colour only when
 * has_colors() and NO_COLOR is unset or empty.  UTF-8 glyphs only when the locale's
 * codeset is UTF-8.  The loop wakes once a second to notice new models.
 */
#include <curses.h>
#include <term.h>

#include "app.h"
#include "theme.h"
#include "../core/sanitize.h"

#include <errno.h>
#include <langinfo.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static attr_t to_curses(unsigned a)
{
    attr_t r = A_NORMAL;
    if (a & TUI_A_BOLD)
        r |= A_BOLD;
    if (a & TUI_A_REVERSE)
        r |= A_REVERSE;
    if (a & TUI_A_UNDERLINE)
        r |= A_UNDERLINE;
    if (a & TUI_A_DIM)
        r |= A_DIM;
    return r;
}

static void blit(const tui_canvas *c)
{
    for (int y = 0; y < c->rows && y < LINES; y++) {
        for (int x = 0; x < c->cols && x < COLS; x++) {
            const tui_cell *cell = &c->cells[(size_t)y * (size_t)c->cols + (size_t)x];
            if (cell->ch == 0)
                continue; /* right half of a wide character: curses fills it */
            const tui_style *s = tui_theme((tui_role)cell->role);
            attr_t attr = to_curses(c->color ? s->color_attrs : s->mono_attrs);
            short pair = c->color ? (short)(cell->role + 1) : 0;
            wchar_t w[2] = {cell->ch, 0};
            cchar_t cc;
            if (setcchar(&cc, w, attr, pair, NULL) == OK)
                mvadd_wch(y, x, &cc); /* ERR at the bottom-right corner is harmless */
        }
    }
}

static int is_utf8_locale(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/* RS_OK when the terminal can show the TUI: TERM names a terminal that moves the
 * cursor (a "dumb" terminal, an Emacs shell buffer or a hardcopy one cannot, and
 * would get an unreadable stream of text). */
static int check_terminal(rs_error *e)
{
    const char *term = getenv("TERM");
    int err = 0;
    if (!term || !*term)
        return rs_seterr(e, RS_EUSAGE,
                         "TERM is not set: the TUI needs a full-screen terminal (e.g. "
                         "TERM=xterm-256color); `recoscope snapshot` prints the screen as text");
    if (setupterm(NULL, STDOUT_FILENO, &err) != OK)
        return rs_seterr(e, RS_EUSAGE,
                         "unknown terminal type TERM=%s: the TUI needs a full-screen terminal "
                         "(e.g. TERM=xterm-256color); `recoscope snapshot` prints the screen "
                         "as text", term);
    const char *cup = tigetstr("cup");
    int usable = cup && cup != (const char *)-1 && tigetflag("hc") <= 0;
    del_curterm(cur_term);
    if (!usable)
        return rs_seterr(e, RS_EUSAGE,
                         "TERM=%s cannot move the cursor: run the TUI in a full-screen terminal "
                         "(xterm, tmux, screen), or `recoscope snapshot` for the screen as text",
                         term);
    return RS_OK;
}

int tui_run(rs_store *s, const tui_options *opt, int *signo, rs_error *e)
{
    tui_app *a = NULL;
    SCREEN *scr = NULL;
    tui_canvas canvas = {0};
    *signo = 0;
    int rc = check_terminal(e);
    if (rc != RS_OK)
        return rc;
    if ((rc = tui_app_open(s, opt, &a, e)) != RS_OK)
        return rc;

    struct sigaction sa, old_term, old_hup, old_int;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: the key read returns so the loop can exit */
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    sigaction(SIGINT, &sa, &old_int);

    scr = newterm(NULL, stdout, stdin);
    if (!scr) {
        const char *term = getenv("TERM");
        rc = rs_seterr(e, RS_EUSAGE, "cannot open the terminal (TERM=%s)", term ? term : "unset");
        goto done;
    }
    set_term(scr);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    intrflush(stdscr, FALSE);
    set_escdelay(25);
    curs_set(0);
    const char *nc = getenv("NO_COLOR");
    int color = has_colors() && !(nc && *nc);
    if (color) {
        start_color();
        use_default_colors();
        for (int r = 0; r < TUI_NROLES; r++) {
            const tui_style *st = tui_theme((tui_role)r);
            short fg = st->fg, bg = st->bg;
            if (fg >= COLORS)
                fg = -1;
            if (bg >= COLORS)
                bg = -1;
            init_pair((short)(r + 1), fg, bg);
        }
    }
    if (tui_canvas_init(&canvas, LINES, COLS, is_utf8_locale(), color) != 0) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    time_t last_poll = time(NULL);
    for (;;) {
        if (got_signal)
            break;
        tui_app_draw(a, &canvas);
        if ((rc = tui_app_damaged(a, e)) != RS_OK)
            break; /* as every command: the message and exit 2, not empty panes */
        erase();
        blit(&canvas);
        refresh();
        /* after the frame is up: background work; short waits while it runs */
        timeout(tui_app_background(a) ? 100 : 1000);
        wint_t wch;
        int r = get_wch(&wch);
        if (got_signal)
            break;
        if (r == ERR) {
            time_t now = time(NULL);
            if (now - last_poll >= 2) { /* every ~2 s: did training register new models? */
                last_poll = now;
                tui_app_poll(a);
            }
            continue;
        }
        unsigned flags = 0;
        if (r == KEY_CODE_YES || wch < 0x80) {
            flags = tui_app_key(a, (int)wch);
        } else {
            /* typed text arrives as wide characters: feed its UTF-8 bytes */
            char mb[4];
            size_t k = rs_utf8_encode(mb, (unsigned)wch);
            for (size_t i = 0; i < k && !(flags & TUI_QUIT); i++)
                flags |= tui_app_key(a, (unsigned char)mb[i]);
        }
        if (flags & TUI_QUIT)
            break;
        if (flags & TUI_REDRAW)
            clearok(curscr, TRUE);
        if ((flags & TUI_RESIZE) && tui_canvas_resize(&canvas, LINES, COLS) != 0) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            break;
        }
    }
done:
    if (scr) {
        endwin();
        delscreen(scr);
    }
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    sigaction(SIGINT, &old_int, NULL);
    tui_canvas_free(&canvas);
    if (a) {
        rs_error se = {0};
        (void)tui_app_save_state(a, &se); /* a read-only directory just means no memory */
        tui_app_close(a);
    }
    /* a SIGTERM/SIGHUP/SIGINT ends the loop: the terminal is restored and the state
     * kept, and the caller exits as an interrupted program does (128 + the signal) */
    *signo = got_signal;
    got_signal = 0;
    return rc;
}
