/* app.h - internals shared by the TUI's modules.  Not a public header.
 *
 *   app.c       the state (cities, current product, history, basket, mask) and what
 *               every command of the key table does; dispatch of keys to the open view
 *   loader.c    background work: the co-purchase index, a switched city's
 *               recommender, reloading the models
 *   draw.c      the main screen: title, product line, the pane table, histogram,
 *               status line; then the open view on top
 *   list.c      the one scrollable list (selection, top, page)
 *   lines.c     text built for the text views
 *   view_*.c    the views (overlays), one file each, as tui_view ops:
 *               help, metrics, explain, city, search, export, mask
 *   export.c    the export writer (JSON / CSV)
 */
#ifndef RS_TUI_APP_H
#define RS_TUI_APP_H

#include <stdint.h>

#include "../core/browse.h"
#include "canvas.h"
#include "keys.h"
#include "list.h"
#include "recommend.h"
#include "search.h"
#include "tui.h"

/* ---- the panes: one per recommender kind, in rs_rec_kind order ---- */

enum { PANE_SYN = RS_REC_SYNONYMS, PANE_CAT = RS_REC_CATEGORIES,
       PANE_COMP = RS_REC_COMPLEMENTS, NPANES = 3 };

/* How a pane's bars are scaled (see draw.c). */
enum {
    TUI_SCALE_RANGE,         /* the list's min..max (scores without a natural zero) */
    TUI_SCALE_ZERO,          /* 0..max, proportional */
    TUI_SCALE_ZERO_POSITIVE, /* 0..max while every score is positive, else min..max */
};

typedef struct tui_pane {
    const char *title;    /* header: "Synonyms" */
    const char *note;     /* what its score is */
    const char *model;    /* the model it needs: "product" or "category" */
    const char *row_name; /* one row, for the explain view: "synonym" */
    const char *list_name; /* the list in exports: "synonyms" */
    int scale;            /* TUI_SCALE_* */
    int of_categories;    /* rows are categories (Enter follows their top product) */
    int grouped;          /* rows come grouped by category (repeats are dimmed) */
} tui_pane;

extern const tui_pane TUI_PANES[NPANES];

/* ---- the views (overlays): tig's view_ops, htop's handler results ---- */

typedef struct tui_app tui_app;

typedef struct tui_view {
    const char *name;
    tui_cmd cmd;    /* the command that opens it, and closes it again (NONE: none) */
    int text_input; /* every key goes to key() as typed text (cmd is TUI_CMD_NONE) */
    /* Called when the view opens (its list was reset). */
    void (*open)(tui_app *a);
    /* A key while the view is open: TUI_* flags, or TUI_IGNORED to let the app do
     * the common part (q, Esc and the view's own command close it; the rest is
     * ignored). */
    unsigned (*key)(tui_app *a, int code, tui_cmd cmd);
    /* Draws the view over the main screen (rows 1..rows-2). */
    void (*draw)(tui_app *a, tui_canvas *c);
    /* Draws the bottom row instead of the messages and key hints; NULL: the default. */
    void (*status)(tui_app *a, tui_canvas *c);
    /* The data under the view changed (co-purchase counts arrived); NULL: nothing. */
    void (*refresh)(tui_app *a);
} tui_view;

extern const tui_view tui_view_help, tui_view_metrics, tui_view_explain, tui_view_city,
    tui_view_search, tui_view_export, tui_view_mask, tui_view_map, tui_view_compare,
    tui_view_receipts, tui_view_customer;

/* Opens v (closing the open view first); closes the open view. */
void tui_view_open(tui_app *a, const tui_view *v);
void tui_view_close(tui_app *a);

/* ---- state ---- */

#define TUI_SEARCH_MAX 500 /* search results kept */

typedef struct tui_city {
    int64_t id;          /* 0 = all cities */
    char *name;
    int64_t receipts;
    int own_product;     /* the city has its own active product model */
    int own_category;
    rs_recommender *rec; /* opened on first use */
    int rec_full;        /* rec has the co-purchase index (else: being built) */
    int loading;         /* rec is being opened in the background (city switch) */
    rs_store *rec_store; /* the connection of a recommender opened in the background */
    int32_t *cat_top;    /* [n_categories] most popular product per category, lazily */
    int32_t *order;      /* product indices, most popular first (search), lazily */
    /* the category model behind the categories pane (which categories it holds), to
     * count the categories its softmax runs over; loaded once per model id */
    int64_t catm_id;
    uint8_t *catm_in;    /* [n_categories] 1 = a row of the model */
    int32_t catm_rows;
} tui_city;

/* A line of a text view: up to four spans at fixed columns. */
typedef struct tui_span {
    int x;
    tui_role role;
    char *s;
} tui_span;
typedef struct tui_line {
    tui_span sp[4];
    int n;
} tui_line;
typedef struct tui_lines {
    tui_line *v;
    int n, cap;
    char title[160];
} tui_lines;

typedef struct tui_hist_entry {
    int city;
    int32_t product;
} tui_hist_entry;

struct tui_app {
    rs_store *s;
    tui_city *cities; /* the cities, then "all cities" last */
    int n_cities;
    int ci;           /* current city */
    int32_t product;  /* current product index, -1 when the catalogue is empty */
    tui_hist_entry *hist;
    int n_hist, cap_hist;
    int32_t *basket;
    int n_basket, cap_basket;
    int k;            /* rows asked per list (+ -) */
    int k_rows;       /* rows a pane shows on a wide screen (0 below 120 columns) */
    int k_used;       /* rows asked in the last query: max(k, k_rows) */
    int any_category; /* synonyms from every category */
    int cat_eligible; /* categories the current softmax ran over (0: unknown) */
    double min_pct, max_pct;
    rs_rec_result *res;
    rs_rec_result *res_all; /* the same query without the popularity mask */
    int masked_lo[NPANES], masked_hi[NPANES]; /* rows of res_all under / over the mask */
    int dirty;
    char rec_err[300];
    int pane;                 /* the active pane */
    tui_list panes[NPANES];   /* each pane's list */
    int64_t trust_id[NPANES]; /* the model whose trust[] is cached (-1: none) */
    rs_browse_trust trust[NPANES];
    const tui_view *ov;       /* the open view, NULL: none */
    tui_list ov_list;         /* the open view's list */
    char input[256];          /* the search box / export prompt */
    int32_t *found; /* live search results (TUI_SEARCH_MAX) */
    int n_found;
    int32_t *matches; /* the last picked search */
    int n_matches, match_i;
    tui_lines text;   /* help / metrics / explain */
    char msg[512];
    tui_role msg_role;
    int damaged;  /* a background connection said the database file is damaged */
    int rec_code; /* the error code of the last recommender that failed to open */
    char models_sig[128];
    int models_changed;
    char *state_path;
    int utf8; /* glyph table of the last draw (for text built by keys) */
    int cols; /* width of the last draw (text views wrap to it) */
    char *cwd; /* the working directory + "/", for tui_short_paths (NULL: unknown) */
    int fast; /* open recommenders without co-purchases first, complete them in the
                 background (interactive); else everything at once (snapshot) */
    struct tui_loader *loader; /* completes recommenders (co-purchase index) */
    struct tui_loader *quick;  /* opens a city's recommender after a switch */
    tui_search *index; /* name index, built on the first search */
    /* histogram cache: each product's log bin for (recommender, bin count) */
    const rs_recommender *hist_rec;
    int hist_nb;
    int64_t hist_max, hist_sold;
    int16_t *hist_bin_of; /* [n products], -1 unsold */
    struct tui_map *map;  /* the map view's state (view_map.c), NULL before it opens */
    struct tui_compare *cmp; /* the compare view's (view_compare.c) */
    struct tui_receipts *rcpt; /* the receipts view's (view_receipts.c) */
    struct tui_customer *cust; /* the customer view's (view_customer.c) */
};

/* app.c */
rs_recommender *tui_rec(tui_app *a);
/* The query of the panes: the basket (else the current product), k, mask, flags. */
void tui_query(const tui_app *a, rs_rec_query *q);
void tui_compute(tui_app *a);
void tui_message(tui_app *a, tui_role role, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The answer shown in a pane (NULL while there is none: no product, an error). */
const rs_rec_list *tui_rows(tui_app *a, int pane);
int32_t tui_category_top(tui_app *a, int32_t category);
/* The trust signal of a pane's list (cached per model), NULL when no model answered. */
const rs_browse_trust *tui_pane_trust(tui_app *a, int pane);
int32_t tui_most_popular(rs_recommender *r);
/* The product the TUI opens on when none is asked for (see app.c). */
int32_t tui_start_product(tui_app *a, rs_recommender *r);
void tui_set_product(tui_app *a, int32_t p);
void tui_set_city(tui_app *a, int ci);
/* Enter: the highlighted row of the active pane becomes the current product. */
void tui_follow(tui_app *a);
/* Which cities own models (after a reload). */
void tui_load_model_owners(tui_app *a);
/* The registry's signature ("" when it cannot be read). */
void tui_models_signature(tui_app *a, char *buf, size_t n);
/* Rewrites the names of files under the working directory in msg as relative to it
 * (what a person who started the TUI there recognises; shorter at 80 columns). */
void tui_short_paths(const tui_app *a, char *msg);
/* The name index and the city's popularity order; 0, or -1 when out of memory. */
int tui_search_prepare(tui_app *a);
/* Drops every city's recommender and the caches built from them. */
void tui_drop_recommenders(tui_app *a);

/* loader.c */
int tui_loader_init(tui_app *a, rs_error *e);
void tui_loader_close(tui_app *a);
/* After a city switch (interactive): opens the city's recommender in the background. */
void tui_request_city(tui_app *a);
/* Reload after `train` or `import` (key r). */
void tui_reload(tui_app *a);

/* view_map.c: collects a layout fitted in the background (1 while one runs); frees
 * the map view's state (waiting for a fit after cancelling it). */
int tui_map_poll(tui_app *a);
void tui_map_free(tui_app *a);
/* view_compare.c, view_receipts.c: free those views' state. */
void tui_compare_free(tui_app *a);
void tui_receipts_free(tui_app *a);
/* view_customer.c: frees its state; whether Backspace on the main screen, now at
 * history depth a->n_hist, returns to the customer view (Enter there browsed from it). */
void tui_customer_free(tui_app *a);
int tui_customer_back(tui_app *a);
/* app.c: the basket becomes products[0..n) (n >= 1); 0, or -1 (a message said why). */
int tui_basket_set(tui_app *a, const int32_t *products, int n);

/* lines.c */
void tui_lines_clear(tui_lines *l);
void tui_lines_add(tui_lines *l, int x, tui_role role, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Adds a span to the last line. */
void tui_lines_span(tui_lines *l, int x, tui_role role, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Adds text as lines wrapped to the width of the text views at the last draw. */
void tui_lines_wrap(tui_app *a, tui_lines *l, int x, tui_role role, const char *text);
/* The text views' common parts: a clean page, the box, the lines from the list's top
 * and the position in the bottom border; q, Esc, the movement keys. */
void tui_text_view_draw(tui_app *a, tui_canvas *c);
unsigned tui_text_view_key(tui_app *a, int code, tui_cmd cmd);
/* A text view whose lines depend on the box's width (columns, wrapping): build(a, w)
 * runs again when the width differs from *built_w (0: always), the scroll position
 * kept; then tui_text_view_draw. */
void tui_text_view_draw_width(tui_app *a, tui_canvas *c, int *built_w,
                              void (*build)(tui_app *a, int w));

/* The line editor of the search box and the export prompt: Bksp removes a UTF-8
 * character, C-u clears, a typed byte is appended (ignored when s is full).  Returns 1
 * when code was one of those, else 0. */
int tui_input_edit(char *s, size_t cap, int code);
int tui_key_is_enter(int code);

/* draw.c */
void tui_draw(tui_app *a, tui_canvas *c);
/* "12,345" */
void tui_fmt_count(int64_t v, char *buf, size_t n);
/* The box the views draw in: rows 1..rows-2, at most 110 columns, centred. */
void tui_view_area(const tui_canvas *c, int *y, int *x, int *h, int *w);
/* Blanks the rows of the view area (a clean page behind a view). */
void tui_view_clear(tui_canvas *c);

/* export.c: writes the current view to name (relative: beside the database); returns 0
 * or -1 with a message in err. */
int tui_export(tui_app *a, const char *name, char *err, size_t n);
/* Where an export of name goes: beside the database unless name is absolute. */
void tui_export_path(const tui_app *a, const char *name, char *buf, size_t n);

#endif
