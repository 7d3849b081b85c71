/* theme.c - the role table (see theme.h). */
#include "theme.h"

#include <stdio.h>
#include <string.h>

/* COLOR_* values of curses, repeated here so the table does not need curses.h:
 * black 0, red 1, green 2, yellow 3, blue 4, magenta 5, cyan 6, white 7. */
static const tui_style STYLES[TUI_NROLES] = {
    [TUI_ROLE_NORMAL] = {-1, -1, 0, 0},
    [TUI_ROLE_TITLE] = {0, 6, TUI_A_BOLD, TUI_A_REVERSE | TUI_A_BOLD},
    [TUI_ROLE_HEADER] = {6, -1, TUI_A_BOLD, TUI_A_BOLD},
    [TUI_ROLE_HEADER_ACTIVE] = {0, 3, TUI_A_BOLD, TUI_A_REVERSE | TUI_A_BOLD},
    [TUI_ROLE_SELECTED] = {0, 6, 0, TUI_A_REVERSE},
    [TUI_ROLE_DIM] = {-1, -1, TUI_A_DIM, TUI_A_DIM},
    [TUI_ROLE_BAR] = {2, -1, 0, 0},
    [TUI_ROLE_BAR_OFF] = {-1, -1, TUI_A_DIM, TUI_A_DIM},
    [TUI_ROLE_CURRENT] = {3, -1, TUI_A_BOLD, TUI_A_BOLD | TUI_A_REVERSE},
    [TUI_ROLE_REC] = {5, -1, TUI_A_BOLD, TUI_A_BOLD},
    [TUI_ROLE_CUTOFF] = {1, -1, TUI_A_BOLD, TUI_A_UNDERLINE | TUI_A_BOLD},
    [TUI_ROLE_STATUS] = {-1, -1, 0, 0},
    [TUI_ROLE_KEY] = {6, -1, TUI_A_BOLD, TUI_A_BOLD},
    [TUI_ROLE_ERROR] = {7, 1, TUI_A_BOLD, TUI_A_REVERSE | TUI_A_BOLD},
    [TUI_ROLE_WARN] = {3, -1, TUI_A_BOLD, TUI_A_UNDERLINE},
    [TUI_ROLE_BORDER] = {4, -1, 0, 0},
    [TUI_ROLE_MARK] = {2, -1, TUI_A_BOLD, TUI_A_BOLD | TUI_A_UNDERLINE},
    [TUI_ROLE_INPUT] = {-1, -1, TUI_A_UNDERLINE, TUI_A_UNDERLINE},
    /* the map's groups: colour only, their glyphs carry the meaning (view_map.c) */
    [TUI_ROLE_MAP1] = {1, -1, 0, 0},
    [TUI_ROLE_MAP2] = {2, -1, 0, 0},
    [TUI_ROLE_MAP3] = {3, -1, 0, 0},
    [TUI_ROLE_MAP4] = {4, -1, 0, 0},
    [TUI_ROLE_MAP5] = {5, -1, 0, 0},
    [TUI_ROLE_MAP6] = {6, -1, 0, 0},
};

const tui_style *tui_theme(tui_role r)
{
    return &STYLES[(unsigned)r < TUI_NROLES ? r : TUI_ROLE_NORMAL];
}

static const char *color_name(short c)
{
    static const char *const names[] = {"black", "red", "green", "yellow",
                                        "blue", "magenta", "cyan", "white"};
    return c >= 0 && c < 8 ? names[c] : "default";
}

void tui_style_describe(tui_role r, int color, char *buf, size_t n)
{
    const tui_style *s = tui_theme(r);
    unsigned a = color ? s->color_attrs : s->mono_attrs;
    size_t used = 0;
    buf[0] = 0;
    if (color && (s->fg >= 0 || s->bg >= 0))
        used += (size_t)snprintf(buf, n, "%s on %s", color_name(s->fg), color_name(s->bg));
    static const struct { unsigned bit; const char *name; } A[] = {
        {TUI_A_REVERSE, "reverse"}, {TUI_A_BOLD, "bold"},
        {TUI_A_UNDERLINE, "underline"}, {TUI_A_DIM, "dim"}};
    for (size_t i = 0; i < sizeof A / sizeof A[0] && used < n; i++)
        if (a & A[i].bit)
            used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? "+" : "", A[i].name);
    if (!buf[0])
        snprintf(buf, n, "plain");
}
