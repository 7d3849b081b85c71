/* view_help.c - the help view: generated from the key table (keys.h), so it never
 * drifts from what the keys do, then what the columns of the panes mean.
 */
#include "app.h"

#include <stdio.h>

static void help_open(tui_app *a)
{
    tui_lines *l = &a->text;
    tui_lines_clear(l);
    snprintf(l->title, sizeof l->title, "Help: keys of recoscope");
    size_t n;
    const tui_command *cmds = tui_commands(&n);
    for (int sec = 0; sec < TUI_NSECTIONS; sec++) {
        if (sec > 0)
            tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
        tui_lines_add(l, 0, TUI_ROLE_HEADER, "%s", tui_section_name(sec));
        for (size_t i = 0; i < n; i++) {
            if (cmds[i].section != sec)
                continue;
            tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", cmds[i].keys);
            tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", cmds[i].help);
        }
    }
    tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
    tui_lines_add(l, 0, TUI_ROLE_HEADER, "%s", "In the search box and the prompts (export, mask)");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "text Bksp C-u");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "edit (C-u clears); search results follow every key");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "Up Down Enter Esc");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "choose a match, pick it, or cancel");

    tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
    tui_lines_add(l, 0, TUI_ROLE_HEADER, "%s", "In the map (M)");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "arrows hjkl");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "cursor to the nearest point that way");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "Enter");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "browse the point under the cursor");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "+ - g  HJKL");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "zoom in, out, the whole map; pan");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "Tab p d");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "products/categories, PCA/layout, dots/glyphs");

    /* what the columns mean (55 columns of text fit beside the names at 80x24) */
    const char *times = a->utf8 ? "\u00d7" : "x";
    tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
    tui_lines_add(l, 0, TUI_ROLE_HEADER, "%s", "Reading the panes");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "pane header");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "the scorer, its HR@10 beside popularity's,");
    tui_lines_add(l, 21, TUI_ROLE_NORMAL, "%s", "held-out or (valid.) validation; < pop: no better");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "+3 masked ([)");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "rows the popularity mask hid; the key lets them in");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "bars");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "compare the rows of one list; the number is the score");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "Synonyms");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "cosine; bars from 0 to the list's best");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "Categories");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "softmax weight %s N categories: 1%s = average", times,
                   times);
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "Complements");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "in.out score; bars span the list's lowest..highest");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "p42");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "popularity percentile in the city");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", a->utf8 ? "\u21b3 all cities" : "> all cities");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "the city has no model of its own: fallback");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "e");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "every number behind the highlighted row");
}

const tui_view tui_view_help = {
    .name = "help",
    .cmd = TUI_CMD_HELP,
    .open = help_open,
    .key = tui_text_view_key,
    .draw = tui_text_view_draw,
};
