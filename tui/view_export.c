/* view_export.c - the export prompt on the bottom row: a file name (suggested from the
 * current product; a relative name goes beside the database), Enter writes the view
 * (export.c), Esc cancels.
 */
#include "app.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static void export_open(tui_app *a)
{
    rs_recommender *r = tui_rec(a);
    rs_rec_product info;
    if (r && a->product >= 0 && rs_rec_product_info(r, a->product, &info, NULL) == RS_OK) {
        /* a suggestion built from the ext id, kept to safe file-name characters */
        char name[80];
        size_t j = 0;
        for (const char *p = info.ext_id; *p && j < 40; p++)
            name[j++] = (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789-_", *p) ? *p : '_');
        name[j] = 0;
        snprintf(a->input, sizeof a->input, "recoscope-%s.json", name);
    } else {
        snprintf(a->input, sizeof a->input, "recoscope-view.json");
    }
}

static void export_run(tui_app *a)
{
    char err[600];
    if (!a->input[0]) {
        tui_message(a, TUI_ROLE_WARN, "export cancelled: no file name");
    } else if (tui_export(a, a->input, err, sizeof err) != 0) {
        tui_message(a, TUI_ROLE_ERROR, "%s", err);
    } else {
        size_t n = strlen(a->input);
        int csv = n >= 4 && strcasecmp(a->input + n - 4, ".csv") == 0;
        char path[4200];
        tui_export_path(a, a->input, path, sizeof path);
        tui_short_paths(a, path);
        tui_message(a, TUI_ROLE_STATUS, "exported the view to %s (%s)", path,
                    csv ? "CSV" : "JSON");
    }
}

static unsigned export_key(tui_app *a, int code, tui_cmd cmd)
{
    (void)cmd; /* text input: the code is what was typed */
    if (tui_key_is_enter(code)) {
        tui_view_close(a);
        export_run(a);
    } else if (code == TUI_KEY_ESC) {
        tui_view_close(a);
        tui_message(a, TUI_ROLE_STATUS, "export cancelled");
    } else {
        tui_input_edit(a->input, sizeof a->input, code);
    }
    return TUI_HANDLED;
}

static void export_status(tui_app *a, tui_canvas *c)
{
    int y = c->rows - 1;
    int x = tui_text(c, y, 0, c->cols, "export (beside the db, or a /path; .json/.csv): ",
                     TUI_ROLE_STATUS);
    tui_fill(c, y, x, c->cols - x, L' ', TUI_ROLE_INPUT);
    tui_text(c, y, x, c->cols - x - 1, a->input, TUI_ROLE_INPUT);
}

const tui_view tui_view_export = {
    .name = "export",
    .cmd = TUI_CMD_EXPORT,
    .text_input = 1,
    .open = export_open,
    .key = export_key,
    .status = export_status,
};
