/* canvas.h - the in-memory screen every view draws into.
 *
 * A canvas is a rows x cols grid of cells (one wide character + an attribute role).
 * Views never talk to curses: term.c copies the grid to the terminal, snapshot prints
 * it as text (and the roles as letters), so the headless screen tests see exactly what
 * a person sees.  The glyph table (UTF-8 or ASCII) and the colour decision are made
 * once, when the canvas is created.
 */
#ifndef RS_TUI_CANVAS_H
#define RS_TUI_CANVAS_H

#include <stdint.h>
#include <wchar.h>

/* Attribute roles.  Each has a colour pair and a monochrome attribute (term.c) and a
 * letter for `snapshot --attrs`.  Meaning never rests on colour alone: the
 * monochrome column keeps it with reverse/bold/underline and the glyph table. */
#define TUI_ROLES(X)                                                                   \
    X(NORMAL, '.', "normal")                                                           \
    X(TITLE, 'T', "title bar")                                                         \
    X(HEADER, 'H', "pane header")                                                      \
    X(HEADER_ACTIVE, 'A', "active pane header")                                        \
    X(SELECTED, 'S', "highlighted row")                                                \
    X(DIM, 'd', "secondary text")                                                      \
    X(BAR, 'b', "score bar")                                                           \
    X(BAR_OFF, 'o', "bar outside the popularity mask")                                 \
    X(CURRENT, 'c', "current product marker")                                          \
    X(REC, 'r', "recommendation marker")                                               \
    X(CUTOFF, 'x', "popularity cut-off")                                               \
    X(STATUS, 's', "status line")                                                      \
    X(KEY, 'k', "key name")                                                            \
    X(ERROR, 'E', "error message")                                                     \
    X(WARN, 'W', "warning / fallback")                                                 \
    X(BORDER, 'B', "border")                                                           \
    X(MARK, 'M', "marked row (active run, basket)")                                    \
    X(INPUT, 'I', "text input")                                                        \
    X(MAP1, '1', "map: groups 1 and 7")                                                \
    X(MAP2, '2', "map: groups 2 and 8")                                                \
    X(MAP3, '3', "map: groups 3 and 9")                                                \
    X(MAP4, '4', "map: groups 4 and 10")                                               \
    X(MAP5, '5', "map: groups 5 and 11")                                               \
    X(MAP6, '6', "map: groups 6 and 12")

typedef enum {
#define X(name, letter, desc) TUI_ROLE_##name,
    TUI_ROLES(X)
#undef X
        TUI_NROLES
} tui_role;

char tui_role_letter(tui_role r);
const char *tui_role_desc(tui_role r);

/* Glyphs chosen once: UTF-8 or the ASCII twin. */
typedef struct rs_glyphs {
    int utf8;
    wchar_t bar[9];   /* horizontal bar, 0..8 eighths of a cell */
    wchar_t bar_off;  /* full cell of a bar outside the mask (monochrome meaning) */
    wchar_t vbar[9];  /* vertical bar (histogram), 0..8 eighths */
    wchar_t spark[8]; /* sparkline levels */
    wchar_t hline, vline, tl, tr, bl, br, tee_down, tee_up;
    wchar_t ellipsis; /* truncation marker */
    wchar_t current;  /* histogram marker: the current product */
    wchar_t rec;      /* histogram marker: a recommendation */
    wchar_t cut_lo, cut_hi;
    wchar_t fallback; /* "falls back to all cities" marker */
    wchar_t active;   /* active run / selected marker */
    wchar_t basket;
} rs_glyphs;

const rs_glyphs *rs_glyphs_get(int utf8);

typedef struct tui_cell {
    wchar_t ch;     /* 0 = right half of a wide character */
    uint8_t role;
} tui_cell;

typedef struct tui_canvas {
    int rows, cols;
    tui_cell *cells;
    const rs_glyphs *g;
    int color; /* the terminal shows colour (else monochrome attributes) */
} tui_canvas;

/* Allocates rows x cols cells (both >= 1); 0 or -1 when out of memory. */
int tui_canvas_init(tui_canvas *c, int rows, int cols, int utf8, int color);
void tui_canvas_free(tui_canvas *c);
/* Changes the size (contents cleared). */
int tui_canvas_resize(tui_canvas *c, int rows, int cols);
void tui_canvas_clear(tui_canvas *c);

/* Puts one glyph of width w (1 or 2) at (y, x); clipped at the edges (a wide glyph
 * that does not fit becomes the ellipsis). */
void tui_put(tui_canvas *c, int y, int x, wchar_t ch, int w, tui_role role);
/* Fills columns [x, x+n) of row y with ch. */
void tui_fill(tui_canvas *c, int y, int x, int n, wchar_t ch, tui_role role);

/* Draws untrusted UTF-8 text through the sanitizer, truncated to maxw columns with the
 * ellipsis.  Returns the columns used. */
int tui_text(tui_canvas *c, int y, int x, int maxw, const char *s, tui_role role);
/* The same, right-aligned inside [x, x+maxw). */
int tui_text_right(tui_canvas *c, int y, int x, int maxw, const char *s, tui_role role);
/* printf into the canvas (the formatted text goes through the sanitizer too). */
int tui_printf(tui_canvas *c, int y, int x, int maxw, tui_role role, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Wrapped text: the bytes of s that fit in width columns as one line, broken after the
 * last space or '/' that fits (paths wrap at their slashes), else after as many
 * characters as fit (at least one).  *next receives the start of the next line
 * (spaces skipped); a line ends at a newline too. */
size_t tui_wrap_line(const char *s, int width, int utf8, const char **next);
/* How many lines s takes wrapped at width. */
int tui_wrap_count(const char *s, int width, int utf8);
/* Draws s wrapped at w columns on at most max_lines rows from (y, x); a text that does
 * not fit ends with the ellipsis.  Returns the rows used. */
int tui_text_wrap(tui_canvas *c, int y, int x, int w, int max_lines, const char *s,
                  tui_role role);

/* The bar length (0..1) of a score v on the scale [lo, hi] of its list: hi gets a full
 * bar; a scale from lo = 0 is proportional (v / hi); any other scale (a list's
 * min..max) is linear from TUI_BAR_FLOOR at lo (a short bar, never none) to 1 at hi.
 * A list whose scores are all equal gets full bars. */
#define TUI_BAR_FLOOR 0.1
double tui_bar_fraction(double v, double lo, double hi);
/* A horizontal bar of width w for value v in [0, 1] in eighths. */
void tui_hbar(tui_canvas *c, int y, int x, int w, double v, tui_role role);
/* A box border around (y, x, h, w) with an optional title. */
void tui_box(tui_canvas *c, int y, int x, int h, int w, const char *title, tui_role role);

/* Text form of row y into buf (UTF-8, trailing blanks kept); returns bytes. */
size_t tui_canvas_row_text(const tui_canvas *c, int y, char *buf, size_t n);

#endif
