/* view_search.c - the search box: results follow every typed character (search.h's
 * in-memory index, most popular first); Up/Down choose, Enter picks (n/N then step
 * through the matches), Esc cancels.
 */
#include <curses.h>

#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void search_open(tui_app *a)
{
    a->input[0] = 0;
    a->n_found = 0;
}

static void search_update(tui_app *a)
{
    a->n_found = 0;
    tui_list_reset(&a->ov_list);
    rs_recommender *r = tui_rec(a);
    if (!r || !a->input[0])
        return;
    if (tui_search_prepare(a) != 0) {
        tui_message(a, TUI_ROLE_ERROR, "search: out of memory");
        return;
    }
    a->n_found = tui_search_run(a->index, a->input, a->cities[a->ci].order, a->found,
                                TUI_SEARCH_MAX);
}

static void search_pick(tui_app *a)
{
    int sel = a->ov_list.sel;
    if (sel >= a->n_found)
        return;
    int32_t *m = malloc((size_t)(a->n_found > 0 ? a->n_found : 1) * sizeof *m);
    if (!m) {
        tui_message(a, TUI_ROLE_ERROR, "out of memory");
        return;
    }
    memcpy(m, a->found, (size_t)a->n_found * sizeof *m);
    free(a->matches);
    a->matches = m;
    a->n_matches = a->n_found;
    a->match_i = sel;
    tui_set_product(a, a->found[sel]);
    tui_view_close(a);
    tui_message(a, TUI_ROLE_STATUS, "match %d of %d for \"%s\" (n/N: next/previous)",
                a->match_i + 1, a->n_matches, a->input);
}

static unsigned search_key(tui_app *a, int code, tui_cmd cmd)
{
    (void)cmd; /* text input: the code is what was typed */
    if (tui_key_is_enter(code)) {
        search_pick(a);
    } else if (code == TUI_KEY_ESC) {
        tui_view_close(a);
    } else if (code == KEY_UP || code == KEY_DOWN || code == KEY_PPAGE || code == KEY_NPAGE ||
               code == KEY_HOME || code == KEY_END) {
        tui_list_move(&a->ov_list, a->n_found, tui_key_command(code));
    } else if (tui_input_edit(a->input, sizeof a->input, code)) {
        search_update(a);
    }
    return TUI_HANDLED;
}

static void search_draw(tui_app *a, tui_canvas *c)
{
    int y, x, h, w;
    tui_view_area(c, &y, &x, &h, &w);
    tui_view_clear(c);
    tui_box(c, y, x, h, w, "Search products (Enter picks, Esc cancels)", TUI_ROLE_BORDER);
    int ix = x + 2;
    ix += tui_text(c, y + 1, ix, 2, "/ ", TUI_ROLE_KEY);
    tui_fill(c, y + 1, ix, x + w - 2 - ix, L' ', TUI_ROLE_INPUT);
    int used = tui_text(c, y + 1, ix, x + w - 3 - ix, a->input, TUI_ROLE_INPUT);
    tui_put(c, y + 1, ix + used, L'_', 1, TUI_ROLE_INPUT);
    int rows = h - 4;
    tui_list *l = &a->ov_list;
    l->page = rows;
    rs_recommender *r = tui_rec(a);
    if (!a->input[0]) {
        tui_text(c, y + 3, x + 2, w - 4,
                 "type a name: words match word prefixes, else any part of the name",
                 TUI_ROLE_DIM);
        return;
    }
    if (a->n_found == 0) {
        tui_printf(c, y + 3, x + 2, w - 4, TUI_ROLE_WARN, "no product matches \"%s\"", a->input);
        return;
    }
    tui_printf(c, y + 2, x + 2, w - 4, TUI_ROLE_DIM, "%d match%s%s", a->n_found,
               a->n_found == 1 ? "" : "es", a->n_found >= TUI_SEARCH_MAX ? " (first 500)" : "");
    tui_list_show(l, a->n_found, rows);
    int inner = w - 4;
    int popw = 16, catw = inner >= 90 ? 24 : 18;
    int namew = inner - popw - catw - 2;
    for (int i = 0; i < rows && l->top + i < a->n_found; i++) {
        int idx = l->top + i;
        rs_rec_product info;
        if (!r || rs_rec_product_info(r, a->found[idx], &info, NULL) != RS_OK)
            continue;
        int yy = y + 3 + i;
        int selected = idx == l->sel;
        tui_role base = selected ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL;
        if (selected)
            tui_fill(c, yy, x + 1, w - 2, L' ', TUI_ROLE_SELECTED);
        tui_text(c, yy, x + 2, namew, info.name, base);
        tui_text(c, yy, x + 3 + namew, catw, info.category, selected ? base : TUI_ROLE_DIM);
        char cnt[32], pop[48];
        tui_fmt_count(info.popularity, cnt, sizeof cnt);
        snprintf(pop, sizeof pop, "%s p%.0f", cnt, info.percentile);
        tui_text_right(c, yy, x + 4 + namew + catw, popw - 1, pop, base);
    }
}

const tui_view tui_view_search = {
    .name = "search",
    .cmd = TUI_CMD_SEARCH,
    .text_input = 1,
    .open = search_open,
    .key = search_key,
    .draw = search_draw,
};
