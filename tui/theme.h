/* theme.h - role -> attributes: a colour column and a monochrome column per role.
 *
 * Meaning never rests on colour alone: every role that carries meaning has a distinct
 * monochrome attribute (reverse, bold, underline, dim), and bars outside the
 * popularity mask also change glyph (canvas.h).  Colours use the terminal's default
 * background (-1), never a painted black.
 */
#ifndef RS_TUI_THEME_H
#define RS_TUI_THEME_H

#include "canvas.h"

enum { TUI_A_BOLD = 1, TUI_A_REVERSE = 2, TUI_A_UNDERLINE = 4, TUI_A_DIM = 8 };

/* curses colour numbers (COLOR_*), -1 = terminal default */
typedef struct tui_style {
    short fg, bg;
    unsigned color_attrs; /* TUI_A_* added in colour mode */
    unsigned mono_attrs;  /* TUI_A_* in monochrome mode */
} tui_style;

const tui_style *tui_theme(tui_role r);
/* "reverse+bold", "cyan on default, bold", ... for snapshot --attrs legends. */
void tui_style_describe(tui_role r, int color, char *buf, size_t n);

#endif
