/* view_city.c - the city picker: every city with its receipts and whose models answer
 * for it (its own, all cities' as a fallback, none yet); Enter switches.
 */
#include "app.h"

#include <stdio.h>

static void city_open(tui_app *a)
{
    a->ov_list.sel = a->ci;
}

static unsigned city_key(tui_app *a, int code, tui_cmd cmd)
{
    (void)code;
    if (tui_list_move(&a->ov_list, a->n_cities, cmd))
        return TUI_HANDLED;
    if (cmd != TUI_CMD_FOLLOW)
        return TUI_IGNORED;
    int pick = a->ov_list.sel;
    tui_view_close(a);
    tui_set_city(a, pick);
    tui_city *c = &a->cities[a->ci];
    int fallback = c->id && !c->own_product;
    tui_message(a, fallback ? TUI_ROLE_WARN : TUI_ROLE_STATUS, "city: %s%s", c->name,
                fallback ? " (no models of its own: all cities' models)" : "");
    return TUI_HANDLED;
}

/* The models column of one city. */
static void draw_models_cell(tui_app *a, tui_canvas *c, const tui_city *city, int yy, int mx,
                             int w, int selected)
{
    tui_role base = selected ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL;
    if (city->id == 0)
        tui_text(c, yy, mx, w - 49, city->own_product ? "own" : "none yet",
                 selected ? base : (city->own_product ? TUI_ROLE_NORMAL : TUI_ROLE_WARN));
    else if (city->own_product)
        tui_text(c, yy, mx, w - 49, "own", base);
    else if (!a->cities[a->n_cities - 1].own_product)
        tui_text(c, yy, mx, w - 49, "none yet", selected ? base : TUI_ROLE_WARN);
    else {
        tui_put(c, yy, mx, c->g->fallback, 1, selected ? base : TUI_ROLE_WARN);
        tui_text(c, yy, mx + 2, w - 51, "all cities", selected ? base : TUI_ROLE_WARN);
    }
}

static void city_draw(tui_app *a, tui_canvas *c)
{
    int oy, ox, oh, ow;
    tui_view_area(c, &oy, &ox, &oh, &ow);
    int h = a->n_cities + 4 < oh ? a->n_cities + 4 : oh;
    int y = oy + 1, x = (c->cols - 64) / 2, w = 64;
    tui_box(c, y, x, h, w, "Cities (Enter picks, q closes)", TUI_ROLE_BORDER);
    int rows = h - 3;
    tui_printf(c, y + 1, x + 2, w - 4, TUI_ROLE_HEADER, "%-30s %12s  %s", "city", "receipts",
               "models");
    tui_list *l = &a->ov_list;
    tui_list_show(l, a->n_cities, rows);
    for (int i = 0; i < rows && l->top + i < a->n_cities; i++) {
        int idx = l->top + i;
        tui_city *city = &a->cities[idx];
        int yy = y + 2 + i;
        int selected = idx == l->sel;
        tui_role base = selected ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL;
        if (selected)
            tui_fill(c, yy, x + 1, w - 2, L' ', TUI_ROLE_SELECTED);
        if (idx == a->ci)
            tui_put(c, yy, x + 1, c->g->active, 1, selected ? base : TUI_ROLE_MARK);
        tui_text(c, yy, x + 2, 30, city->name, base);
        char cnt[32];
        tui_fmt_count(city->receipts, cnt, sizeof cnt);
        tui_text_right(c, yy, x + 33, 12, cnt, base);
        draw_models_cell(a, c, city, yy, x + 47, w, selected);
    }
}

const tui_view tui_view_city = {
    .name = "city",
    .cmd = TUI_CMD_CITY,
    .open = city_open,
    .key = city_key,
    .draw = city_draw,
};
