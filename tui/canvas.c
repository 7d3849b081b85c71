/* canvas.c - the cell grid, glyph tables and the drawing primitives (see canvas.h). */
#include "canvas.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sanitize.h"

static const char ROLE_LETTERS[] = {
#define X(name, letter, desc) letter,
    TUI_ROLES(X)
#undef X
};
static const char *const ROLE_DESCS[] = {
#define X(name, letter, desc) desc,
    TUI_ROLES(X)
#undef X
};

char tui_role_letter(tui_role r)
{
    return (unsigned)r < TUI_NROLES ? ROLE_LETTERS[r] : '?';
}

const char *tui_role_desc(tui_role r)
{
    return (unsigned)r < TUI_NROLES ? ROLE_DESCS[r] : "?";
}

static const rs_glyphs GLYPHS_UTF8 = {
    .utf8 = 1,
    .bar = {L' ', L'▏', L'▎', L'▍', L'▌', L'▋', L'▊', L'▉', L'█'},
    .bar_off = L'░',
    .vbar = {L' ', L'▁', L'▂', L'▃', L'▄', L'▅', L'▆', L'▇', L'█'},
    .spark = {L'▁', L'▂', L'▃', L'▄', L'▅', L'▆', L'▇', L'█'},
    .hline = L'─', .vline = L'│', .tl = L'┌', .tr = L'┐', .bl = L'└', .br = L'┘',
    .tee_down = L'┬', .tee_up = L'┴',
    .ellipsis = L'…',
    .current = L'▲', .rec = L'•', .cut_lo = L'[', .cut_hi = L']',
    .fallback = L'↳', .active = L'▶', .basket = L'◆',
};

static const rs_glyphs GLYPHS_ASCII = {
    .utf8 = 0,
    .bar = {' ', ' ', ' ', '-', '-', '=', '=', '=', '#'},
    .bar_off = '%',
    .vbar = {' ', '.', '.', ':', '-', '=', '+', '*', '#'},
    .spark = {'_', '.', ':', '-', '=', '+', '*', '#'},
    .hline = '-', .vline = '|', .tl = '+', .tr = '+', .bl = '+', .br = '+',
    .tee_down = '+', .tee_up = '+',
    .ellipsis = '~',
    .current = '^', .rec = '*', .cut_lo = '[', .cut_hi = ']',
    .fallback = '>', .active = '>', .basket = '+',
};

const rs_glyphs *rs_glyphs_get(int utf8)
{
    return utf8 ? &GLYPHS_UTF8 : &GLYPHS_ASCII;
}

int tui_canvas_init(tui_canvas *c, int rows, int cols, int utf8, int color)
{
    memset(c, 0, sizeof *c);
    c->g = rs_glyphs_get(utf8);
    c->color = color;
    return tui_canvas_resize(c, rows, cols);
}

void tui_canvas_free(tui_canvas *c)
{
    free(c->cells);
    c->cells = NULL;
    c->rows = c->cols = 0;
}

int tui_canvas_resize(tui_canvas *c, int rows, int cols)
{
    if (rows < 1)
        rows = 1;
    if (cols < 1)
        cols = 1;
    tui_cell *cells = calloc((size_t)rows * (size_t)cols, sizeof *cells);
    if (!cells)
        return -1;
    free(c->cells);
    c->cells = cells;
    c->rows = rows;
    c->cols = cols;
    tui_canvas_clear(c);
    return 0;
}

void tui_canvas_clear(tui_canvas *c)
{
    size_t n = (size_t)c->rows * (size_t)c->cols;
    for (size_t i = 0; i < n; i++) {
        c->cells[i].ch = L' ';
        c->cells[i].role = TUI_ROLE_NORMAL;
    }
}

static tui_cell *cell(tui_canvas *c, int y, int x)
{
    return &c->cells[(size_t)y * (size_t)c->cols + (size_t)x];
}

/* Overwriting half of a wide character blanks its other half, so the grid never holds
 * an orphaned continuation cell. */
static void unhook(tui_canvas *c, int y, int x)
{
    tui_cell *p = cell(c, y, x);
    if (p->ch == 0 && x > 0)
        cell(c, y, x - 1)->ch = L' ';
    if (x + 1 < c->cols && cell(c, y, x + 1)->ch == 0 && p->ch != 0)
        cell(c, y, x + 1)->ch = L' ';
}

void tui_put(tui_canvas *c, int y, int x, wchar_t ch, int w, tui_role role)
{
    if (y < 0 || y >= c->rows || x < 0 || x >= c->cols)
        return;
    if (w == 2 && x + 1 >= c->cols) {
        ch = c->g->ellipsis;
        w = 1;
    }
    unhook(c, y, x);
    tui_cell *p = cell(c, y, x);
    p->ch = ch;
    p->role = (uint8_t)role;
    if (w == 2) {
        unhook(c, y, x + 1);
        tui_cell *q = cell(c, y, x + 1);
        q->ch = 0;
        q->role = (uint8_t)role;
    }
}

void tui_fill(tui_canvas *c, int y, int x, int n, wchar_t ch, tui_role role)
{
    for (int i = 0; i < n; i++)
        tui_put(c, y, x + i, ch, 1, role);
}

/* Glyphs of s, sanitized; a small stack buffer covers names, long text is cut at the
 * width that can be drawn anyway. */
int tui_text(tui_canvas *c, int y, int x, int maxw, const char *s, tui_role role)
{
    if (maxw <= 0 || !s)
        return 0;
    rs_glyph buf[512];
    int total = 0;
    size_t n = rs_sanitize(s, !c->g->utf8, buf, sizeof buf / sizeof buf[0], &total);
    if (n == sizeof buf / sizeof buf[0] && total <= maxw)
        total = maxw + 1; /* cut by the buffer: mark it */
    int limit = total > maxw ? maxw - 1 : maxw;
    int w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w + buf[i].width > limit)
            break;
        tui_put(c, y, x + w, buf[i].ch, buf[i].width, role);
        w += buf[i].width;
    }
    if (total > maxw) {
        tui_put(c, y, x + w, c->g->ellipsis, 1, role);
        w++;
    }
    return w;
}

int tui_text_right(tui_canvas *c, int y, int x, int maxw, const char *s, tui_role role)
{
    if (maxw <= 0 || !s)
        return 0;
    rs_glyph buf[512];
    int total = 0;
    rs_sanitize(s, !c->g->utf8, buf, sizeof buf / sizeof buf[0], &total);
    if (total >= maxw)
        return tui_text(c, y, x, maxw, s, role);
    return tui_text(c, y, x + maxw - total, total, s, role);
}

int tui_printf(tui_canvas *c, int y, int x, int maxw, tui_role role, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return tui_text(c, y, x, maxw, buf, role);
}

size_t tui_wrap_line(const char *s, int width, int utf8, const char **next)
{
    const unsigned char *p = (const unsigned char *)s, *brk = NULL, *brk_next = NULL;
    size_t n = strlen(s);
    int cols = 0;
    while (*p && *p != '\n') {
        unsigned cp;
        size_t len = rs_utf8_decode(p, n - (size_t)(p - (const unsigned char *)s), &cp);
        int w = rs_sanitize_char(cp, !utf8).width;
        if (cols + w > width && p > (const unsigned char *)s) {
            if (brk) {
                *next = (const char *)brk_next;
                return (size_t)(brk - (const unsigned char *)s);
            }
            break;
        }
        cols += w;
        if (*p == ' ') {
            brk = p;
            brk_next = p + 1;
        } else if (*p == '/') {
            brk = brk_next = p + 1;
        }
        p += len;
    }
    size_t used = (size_t)(p - (const unsigned char *)s);
    if (*p == '\n')
        p++;
    *next = (const char *)p;
    return used;
}

/* Skips the spaces a wrapped line starts with. */
static const char *skip_spaces(const char *s)
{
    while (*s == ' ')
        s++;
    return s;
}

int tui_wrap_count(const char *s, int width, int utf8)
{
    int n = 0;
    if (!s || width < 1)
        return 0;
    for (s = skip_spaces(s); *s; n++) {
        const char *next;
        tui_wrap_line(s, width, utf8, &next);
        s = skip_spaces(next);
    }
    return n;
}

int tui_text_wrap(tui_canvas *c, int y, int x, int w, int max_lines, const char *s,
                  tui_role role)
{
    int n = 0;
    if (!s || w < 1)
        return 0;
    char line[1024];
    for (s = skip_spaces(s); *s && n < max_lines; n++) {
        const char *next;
        size_t len = tui_wrap_line(s, w, c->g->utf8, &next);
        next = skip_spaces(next);
        if (n == max_lines - 1 && *next) {
            tui_text(c, y + n, x, w, s, role); /* the rest, cut with the ellipsis */
            return n + 1;
        }
        if (len >= sizeof line)
            len = sizeof line - 1;
        memcpy(line, s, len);
        line[len] = 0;
        tui_text(c, y + n, x, w, line, role);
        s = next;
    }
    return n;
}

double tui_bar_fraction(double v, double lo, double hi)
{
    if (!(v == v))
        return 0; /* NaN: no bar */
    if (!(hi > lo))
        return 1;
    double f = (v - lo) / (hi - lo);
    f = f < 0 ? 0 : (f > 1 ? 1 : f);
    /* a scale from zero stays proportional (tui_hbar shows any v > 0) */
    return lo == 0 ? f : TUI_BAR_FLOOR + (1 - TUI_BAR_FLOOR) * f;
}

void tui_hbar(tui_canvas *c, int y, int x, int w, double v, tui_role role)
{
    if (w <= 0)
        return;
    if (!(v > 0))
        v = 0;
    if (v > 1)
        v = 1;
    int eighths = (int)(v * w * 8 + 0.5);
    if (v > 0 && eighths == 0)
        eighths = 1; /* a non-zero value never looks like zero */
    int full = eighths / 8, part = eighths % 8;
    for (int i = 0; i < w; i++) {
        if (i < full)
            tui_put(c, y, x + i, c->g->bar[8], 1, role);
        else if (i == full && part > 0) {
            wchar_t ch = c->g->bar[part];
            /* ASCII has no glyph for tiny parts: show at least a '-' */
            tui_put(c, y, x + i, ch == L' ' ? c->g->bar[3] : ch, 1, role);
        } else
            tui_put(c, y, x + i, L' ', 1, TUI_ROLE_NORMAL);
    }
}

void tui_box(tui_canvas *c, int y, int x, int h, int w, const char *title, tui_role role)
{
    if (h < 2 || w < 2)
        return;
    const rs_glyphs *g = c->g;
    tui_put(c, y, x, g->tl, 1, role);
    tui_fill(c, y, x + 1, w - 2, g->hline, role);
    tui_put(c, y, x + w - 1, g->tr, 1, role);
    for (int i = 1; i < h - 1; i++) {
        tui_put(c, y + i, x, g->vline, 1, role);
        tui_fill(c, y + i, x + 1, w - 2, L' ', TUI_ROLE_NORMAL);
        tui_put(c, y + i, x + w - 1, g->vline, 1, role);
    }
    tui_put(c, y + h - 1, x, g->bl, 1, role);
    tui_fill(c, y + h - 1, x + 1, w - 2, g->hline, role);
    tui_put(c, y + h - 1, x + w - 1, g->br, 1, role);
    if (title && *title && w > 6) {
        tui_put(c, y, x + 1, L' ', 1, role);
        int n = tui_text(c, y, x + 2, w - 5, title, TUI_ROLE_HEADER_ACTIVE);
        tui_put(c, y, x + 2 + n, L' ', 1, role);
    }
}

size_t tui_canvas_row_text(const tui_canvas *c, int y, char *buf, size_t n)
{
    size_t used = 0;
    if (n == 0)
        return 0;
    for (int x = 0; x < c->cols && y >= 0 && y < c->rows; x++) {
        wchar_t ch = c->cells[(size_t)y * (size_t)c->cols + (size_t)x].ch;
        if (ch == 0)
            continue; /* right half of a wide character */
        if (used + 5 > n)
            break;
        used += rs_utf8_encode(buf + used, (unsigned)ch);
    }
    buf[used] = 0;
    return used;
}
