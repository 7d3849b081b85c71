/* tui.h - the terminal interface: one application state, drawn into a canvas,
 * driven by key codes.  term.c runs it on a terminal (curses); snapshot runs it
 * headlessly and prints the canvas.
 */
#ifndef RS_TUI_TUI_H
#define RS_TUI_TUI_H

#include <stdio.h>

#include "canvas.h"
#include "../core/error.h"

typedef struct rs_store rs_store;

#define TUI_MIN_ROWS 24
#define TUI_MIN_COLS 80

typedef struct tui_app tui_app;

typedef struct tui_options {
    const char *city;    /* city name, or NULL: state file / first city */
    const char *product; /* ext id or name, or NULL: state file / most popular */
    const char *state_path; /* last-used state file to read and write, or NULL */
    int fast_start; /* first frame without the co-purchase index, which is then built
                       by a background thread (its own read-only connection) */
} tui_options;

/* Opens the app on an open (read-only) store.  The store outlives the app. */
int tui_app_open(rs_store *s, const tui_options *opt, tui_app **out, rs_error *e);
void tui_app_close(tui_app *a);
/* RS_EDATA (with the one damaged-database message in e) once any connection of the app
 * said the database file is damaged, else RS_OK: a damaged database ends the TUI and the
 * snapshot with exit 2, as every other command, instead of showing empty panes. */
int tui_app_damaged(tui_app *a, rs_error *e);

/* What a key did (htop's HandlerResult): flags, so the loop that feeds keys never
 * reads side fields of the app. */
enum {
    TUI_HANDLED = 1, /* the key meant something here */
    TUI_IGNORED = 2, /* it did not (a view's key handler lets the app decide) */
    TUI_QUIT = 4,    /* leave the program */
    TUI_REDRAW = 8,  /* repaint the whole terminal (Ctrl-L) */
    TUI_RESIZE = 16, /* the screen size changed: re-read it (a scripted <resize RxC>
                        carries it in the key code: tui_key_resize_size) */
};

/* Feeds one key code (curses code, or a byte of typed text).  Returns TUI_* flags. */
unsigned tui_app_key(tui_app *a, int code);
/* Draws the whole screen into c (any size; too small shows a notice). */
void tui_app_draw(tui_app *a, tui_canvas *c);
/* Checks whether the models registry changed (cheap query); sets the status notice. */
void tui_app_poll(tui_app *a);
/* Background work (fast_start): adopts a finished recommender and starts the next.
 * Returns 1 while work is pending (poll again soon). */
int tui_app_background(tui_app *a);
/* Writes the last-used city and product to the state file (if any), through
 * core/atomicfile.h: a target that is not a regular file (a symbolic link, a FIFO) is
 * refused.  RS_OK, or the error (the caller may ignore it: the state is a
 * convenience). */
int tui_app_save_state(tui_app *a, rs_error *e);

/* Runs the interactive loop on the terminal.  Returns RS_OK or an error (a terminal
 * that cannot show the TUI, TERM=dumb, is RS_EUSAGE); *signo receives the signal
 * (SIGINT, SIGTERM, SIGHUP) that ended the loop, 0 when q did.  The terminal is
 * restored and the state file written either way. */
int tui_run(rs_store *s, const tui_options *opt, int *signo, rs_error *e);

/* Renders headlessly: rows x cols, after replaying the key script, to f; with attrs, a
 * parallel grid of role letters and a legend follow.  UTF-8 glyphs when the locale is
 * UTF-8; colour unless NO_COLOR is set. */
int tui_snapshot(rs_store *s, const tui_options *opt, int rows, int cols, const char *keys,
                 int attrs, FILE *f, rs_error *e);
/* With timing, tui_snapshot also writes to timing: milliseconds from open to the first
 * frame, and the slowest key (key + redraw).  Set before calling; NULL: none. */
extern FILE *tui_snapshot_timing;

/* Default state file for a database: "<db>-tui.json". */
void tui_state_path(const char *db_path, char *buf, size_t n);

#endif
