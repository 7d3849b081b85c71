/* app.h - internals shared by the TUI's modules (app.c: state and keys, draw.c: the
 * screens, panel.c: metric/explain/help text, export.c).  Not a public header.
 */
#ifndef RS_TUI_APP_H
#define RS_TUI_APP_H

#include <stdint.h>

#include "canvas.h"
#include "keys.h"
#include "recommend.h"
#include "search.h"
#include "tui.h"

enum { PANE_SYN = 0, PANE_CAT = 1, PANE_COMP = 2, NPANES = 3 };
enum { OV_NONE, OV_HELP, OV_CITY, OV_SEARCH, OV_METRICS, OV_EXPLAIN, OV_EXPORT };

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

/* A line of a text overlay: up to four spans at fixed columns. */
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
    int k;
    int any_category; /* synonyms from every category */
    int cat_eligible; /* categories the current softmax ran over (0: unknown) */
    double min_pct, max_pct;
    rs_rec_result *res;
    int dirty;
    char rec_err[300];
    int pane;
    int sel[NPANES], top[NPANES];
    int page; /* rows visible in the active list at the last draw */
    int ov;
    int ov_sel, ov_top;
    char input[256];
    int32_t *found; /* live search results */
    int n_found;
    int32_t *matches; /* the last picked search */
    int n_matches, match_i;
    tui_lines text;   /* help / metrics / explain */
    char msg[512];
    tui_role msg_role;
    char models_sig[128];
    int models_changed;
    int redraw;
    int resize_req, resize_rows, resize_cols;
    char *state_path;
    int utf8; /* glyph table of the last draw (for text built by keys) */
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
};

/* app.c */
rs_recommender *tui_rec(tui_app *a);
void tui_compute(tui_app *a);
void tui_message(tui_app *a, tui_role role, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const rs_rec_list *tui_list(tui_app *a, int pane);
int32_t tui_category_top(tui_app *a, int32_t category);

/* lines */
void tui_lines_clear(tui_lines *l);
void tui_lines_add(tui_lines *l, int x, tui_role role, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Adds a span to the last line. */
void tui_lines_span(tui_lines *l, int x, tui_role role, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* panel.c */
void tui_build_help(tui_app *a);
void tui_build_metrics(tui_app *a, const rs_glyphs *g);
void tui_build_explain(tui_app *a);

/* draw.c */
void tui_draw(tui_app *a, tui_canvas *c);

/* export.c: writes the current view; returns 0 or -1 with a message in err. */
int tui_export(tui_app *a, const char *path, char *err, size_t n);

#endif
