/* list.c - the scrollable list state (see list.h). */
#include "list.h"

void tui_list_reset(tui_list *l)
{
    l->sel = l->top = 0;
}

void tui_list_clamp(tui_list *l, int n)
{
    if (l->sel >= n)
        l->sel = n > 0 ? n - 1 : 0;
    if (l->top > l->sel)
        l->top = l->sel;
}

void tui_list_show(tui_list *l, int n, int rows)
{
    l->page = rows;
    if (rows <= 0)
        return;
    if (l->sel < l->top)
        l->top = l->sel;
    if (l->sel >= l->top + rows)
        l->top = l->sel - rows + 1;
    if (l->top > n - rows)
        l->top = n - rows > 0 ? n - rows : 0;
}

void tui_list_show_text(tui_list *l, int n, int rows)
{
    l->page = rows;
    int max = n - rows;
    if (max < 0)
        max = 0;
    if (l->top > max)
        l->top = max;
}

void tui_list_step(tui_list *l, int n, int delta)
{
    if (n <= 0)
        return;
    long v = (long)l->sel + delta;
    if (v < 0)
        v = 0;
    if (v >= n)
        v = n - 1;
    l->sel = (int)v;
}

/* The rows a movement command moves by; 0 when cmd is not one. */
static int movement_delta(const tui_list *l, tui_cmd cmd)
{
    int page = l->page > 1 ? l->page - 1 : 1;
    switch (cmd) {
    case TUI_CMD_UP: return -1;
    case TUI_CMD_DOWN: return 1;
    case TUI_CMD_PAGE_UP: return -page;
    case TUI_CMD_PAGE_DOWN: return page;
    case TUI_CMD_TOP: return -1000000000;
    case TUI_CMD_BOTTOM: return 1000000000;
    default: return 0;
    }
}

int tui_list_move(tui_list *l, int n, tui_cmd cmd)
{
    int delta = movement_delta(l, cmd);
    if (delta == 0)
        return 0;
    tui_list_step(l, n, delta);
    return 1;
}

int tui_list_scroll(tui_list *l, int n, tui_cmd cmd)
{
    int delta = movement_delta(l, cmd);
    if (delta == 0)
        return 0;
    int max = n - l->page;
    if (max < 0)
        max = 0;
    long v = (long)l->top + delta;
    l->top = (int)(v < 0 ? 0 : v > max ? max : v);
    return 1;
}
