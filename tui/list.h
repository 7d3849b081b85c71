/* list.h - the one scrollable list of the TUI (htop's Panel, reduced to its state):
 * the highlighted row, the first row shown and the rows shown at the last draw.
 *
 * Every list keeps its own page: a pane, the city picker, the search results and the
 * text overlays each record how many rows they showed when they were drawn, and the
 * movement keys page by that.  Two ways to move:
 *   - a selection list (panes, city picker, search results) moves the highlight and
 *     scrolls to keep it in view when drawn (tui_list_show);
 *   - a text list (help, metrics, explain) has no highlight: the keys move the first
 *     line shown, kept inside [0, n - page].
 */
#ifndef RS_TUI_LIST_H
#define RS_TUI_LIST_H

#include "keys.h"

typedef struct tui_list {
    int sel;  /* highlighted row (selection lists) */
    int top;  /* first row shown */
    int page; /* rows shown at the last draw (0 before the first) */
} tui_list;

/* Back to the first row. */
void tui_list_reset(tui_list *l);
/* After the list changed to n rows: the highlight stays inside it and never below the
 * first row shown. */
void tui_list_clamp(tui_list *l, int n);
/* Called by the draw with the rows it has (rows >= 1) for a list of n rows: records the
 * page and scrolls so that the highlight is in view and no row is left empty below
 * the last one when the list could fill them. */
void tui_list_show(tui_list *l, int n, int rows);
/* The same for a text list of n lines: records the page and keeps the first line
 * shown inside [0, n - rows]. */
void tui_list_show_text(tui_list *l, int n, int rows);
/* Moves the highlight of a selection list of n rows by a movement command (Up, Down,
 * PgUp, PgDn, first, last); a page is one row less than the page shown.  Returns 1
 * when cmd is a movement command (whether or not it moved), else 0. */
int tui_list_move(tui_list *l, int n, tui_cmd cmd);
/* The same for a text list of n lines: moves the first line shown. */
int tui_list_scroll(tui_list *l, int n, tui_cmd cmd);
/* Moves the highlight by delta rows, kept inside [0, n). */
void tui_list_step(tui_list *l, int n, int delta);

#endif
