/* lines.c - the text of the text views (help, metrics, explain): lines of spans at
 * fixed columns, drawn in a box and scrolled as a text list; and the line editor of
 * the search box and the export prompt.
 */
#include <curses.h>

#include "app.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tui_lines_clear(tui_lines *l)
{
    for (int i = 0; i < l->n; i++)
        for (int j = 0; j < l->v[i].n; j++)
            free(l->v[i].sp[j].s);
    l->n = 0;
    l->title[0] = 0;
}

static void lines_vspan(tui_lines *l, int newline, int x, tui_role role, const char *fmt,
                        va_list ap)
{
    if (newline || l->n == 0) {
        if (l->n == l->cap) {
            int cap = l->cap ? 2 * l->cap : 64;
            tui_line *v = realloc(l->v, (size_t)cap * sizeof *v);
            if (!v)
                return; /* out of memory: the line is dropped, the screen stays usable */
            l->v = v;
            l->cap = cap;
        }
        l->v[l->n++].n = 0;
    }
    tui_line *ln = &l->v[l->n - 1];
    if (ln->n == 4)
        return;
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        return;
    ln->sp[ln->n++] = (tui_span){.x = x, .role = role, .s = s};
}

void tui_lines_add(tui_lines *l, int x, tui_role role, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lines_vspan(l, 1, x, role, fmt, ap);
    va_end(ap);
}

void tui_lines_span(tui_lines *l, int x, tui_role role, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lines_vspan(l, 0, x, role, fmt, ap);
    va_end(ap);
}

void tui_lines_wrap(tui_app *a, tui_lines *l, int x, tui_role role, const char *text)
{
    /* the box of tui_view_area at the last draw, less its borders and margins */
    int w = (a->cols - 2 > 110 ? 110 : a->cols - 2) - 4 - x;
    if (w < 20)
        w = 20;
    while (*text == ' ')
        text++;
    while (*text) {
        const char *next;
        size_t len = tui_wrap_line(text, w, a->utf8, &next);
        tui_lines_add(l, x, role, "%.*s", (int)len, text);
        for (text = next; *text == ' ';)
            text++;
    }
}

void tui_text_view_draw(tui_app *a, tui_canvas *c)
{
    int y, x, h, w;
    tui_view_area(c, &y, &x, &h, &w);
    tui_view_clear(c);
    tui_box(c, y, x, h, w, a->text.title, TUI_ROLE_BORDER);
    int rows = h - 2;
    tui_list *l = &a->ov_list;
    tui_list_show_text(l, a->text.n, rows);
    for (int i = 0; i < rows && l->top + i < a->text.n; i++) {
        const tui_line *ln = &a->text.v[l->top + i];
        for (int j = 0; j < ln->n; j++) {
            int sx = x + 2 + ln->sp[j].x;
            int limit = x + w - 2 - sx;
            /* a span stops where the next one starts */
            if (j + 1 < ln->n && x + 2 + ln->sp[j + 1].x - 1 - sx < limit)
                limit = x + 2 + ln->sp[j + 1].x - 1 - sx;
            tui_text(c, y + 1 + i, sx, limit, ln->sp[j].s, ln->sp[j].role);
        }
    }
    char foot[64];
    if (a->text.n > rows)
        snprintf(foot, sizeof foot, " %d-%d of %d  j/k PgUp/PgDn  q:close ", l->top + 1,
                 l->top + rows, a->text.n);
    else
        snprintf(foot, sizeof foot, " q:close ");
    int fw = (int)strlen(foot);
    if (fw < w - 4)
        tui_text(c, y + h - 1, x + w - fw - 2, fw, foot, TUI_ROLE_BORDER);
}

void tui_text_view_draw_width(tui_app *a, tui_canvas *c, int *built_w,
                              void (*build)(tui_app *a, int w))
{
    int y, x, h, w;
    tui_view_area(c, &y, &x, &h, &w);
    a->utf8 = c->g->utf8;
    if (*built_w != w) {
        int top = a->ov_list.top;
        build(a, w);
        *built_w = w;
        a->ov_list.top = top;
    }
    tui_text_view_draw(a, c);
}

unsigned tui_text_view_key(tui_app *a, int code, tui_cmd cmd)
{
    (void)code;
    return tui_list_scroll(&a->ov_list, a->text.n, cmd) ? TUI_HANDLED : TUI_IGNORED;
}

/* ------------------------------------------------------------ line editor ---- */

int tui_key_is_enter(int code)
{
    return code == '\n' || code == '\r' || code == KEY_ENTER;
}

int tui_input_edit(char *s, size_t cap, int code)
{
    size_t n = strlen(s);
    if (code == KEY_BACKSPACE || code == 127 || code == 8) {
        /* removes the last UTF-8 character */
        while (n > 0 && (s[n - 1] & 0xC0) == 0x80)
            n--;
        if (n > 0)
            n--;
        s[n] = 0;
        return 1;
    }
    if (code == TUI_KEY_CTRL('u')) {
        s[0] = 0;
        return 1;
    }
    if (code < 0x20 || code > 0xFF || code == 0x7F)
        return 0;
    if (n + 1 >= cap)
        return 1; /* full: typed characters are ignored */
    s[n] = (char)code;
    s[n + 1] = 0;
    return 1;
}
