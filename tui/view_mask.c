/* view_mask.c - the popularity mask typed as numbers (issue 17): `%` opens a prompt on
 * the bottom row holding the current bounds ("5-99"); Enter sets them ("20-80",
 * "20 80" or "20..80"; percentiles 0..100, the lower below the upper), Esc cancels.
 * `[ ] { }` still nudge them one step at a time.
 */
#include "app.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void mask_open(tui_app *a)
{
    snprintf(a->input, sizeof a->input, "%g-%g", a->min_pct, a->max_pct);
}

/* Parses "LO-HI" (also "LO HI", "LO..HI", "LO,HI"); 0, or -1 when it is not that. */
static int parse_mask(const char *s, double *lo, double *hi)
{
    char *end;
    while (*s == ' ')
        s++;
    *lo = strtod(s, &end);
    if (end == s)
        return -1;
    s = end;
    while (*s == ' ' || *s == '-' || *s == '.' || *s == ',')
        s++;
    *hi = strtod(s, &end);
    if (end == s)
        return -1;
    while (*end == ' ')
        end++;
    return *end || !isfinite(*lo) || !isfinite(*hi) ? -1 : 0;
}

static void mask_apply(tui_app *a)
{
    double lo, hi;
    if (parse_mask(a->input, &lo, &hi) != 0) {
        tui_message(a, TUI_ROLE_WARN, "the mask is two percentiles, e.g. 5-95, not \"%s\"",
                    a->input);
        return;
    }
    if (lo < 0 || hi > 100 || lo >= hi) {
        tui_message(a, TUI_ROLE_WARN,
                    "the mask needs 0 <= lower < upper <= 100 (got p%g-p%g); kept p%g-p%g", lo,
                    hi, a->min_pct, a->max_pct);
        return;
    }
    if (lo != a->min_pct || hi != a->max_pct) {
        a->min_pct = lo;
        a->max_pct = hi;
        a->dirty = 1;
    }
    tui_message(a, TUI_ROLE_STATUS, "popularity mask p%g-p%g", a->min_pct, a->max_pct);
}

static unsigned mask_key(tui_app *a, int code, tui_cmd cmd)
{
    (void)cmd; /* text input: the code is what was typed */
    if (tui_key_is_enter(code)) {
        tui_view_close(a);
        mask_apply(a);
    } else if (code == TUI_KEY_ESC) {
        tui_view_close(a);
        tui_message(a, TUI_ROLE_STATUS, "mask unchanged: p%g-p%g", a->min_pct, a->max_pct);
    } else {
        tui_input_edit(a->input, sizeof a->input, code);
    }
    return TUI_HANDLED;
}

static void mask_status(tui_app *a, tui_canvas *c)
{
    int y = c->rows - 1;
    int x = tui_text(c, y, 0, c->cols, "popularity mask, percentiles (e.g. 5-95; Esc cancels): ",
                     TUI_ROLE_STATUS);
    tui_fill(c, y, x, c->cols - x, L' ', TUI_ROLE_INPUT);
    tui_text(c, y, x, c->cols - x - 1, a->input, TUI_ROLE_INPUT);
}

const tui_view tui_view_mask = {
    .name = "mask",
    .cmd = TUI_CMD_MASK,
    .text_input = 1,
    .open = mask_open,
    .key = mask_key,
    .status = mask_status,
};
