/* view_map.c - the map view (M): the city's products (Tab: categories) where the
 * model put them, in two dimensions (core/map.h).
 *
 * Drawing: braille dots (2 x 4 per cell) under UTF-8, a density ramp " .:-=+*#" under
 * LC_ALL=C; each cell takes the colour of the group (department, category or
 * derived cluster) most of its points belong to.  `d` switches to one glyph per
 * cell, the glyph of that group (the default without colour, since dots alone cannot
 * tell groups apart).  On top: @ the current product, s its synonyms, c its
 * complements (the Categories pane's rows on a category map), the cursor in
 * reverse video with its name beside it.  The legend names each glyph; the twelve
 * largest groups get their own, the rest share "other".
 *
 * Keys: arrows / hjkl move the cursor to the nearest point in that direction (the
 * view follows it), + and - zoom around it, H J K L pan (the cursor snaps to the
 * point nearest the middle), g resets the view, Enter browses the point under the
 * cursor, Tab toggles products / categories, p PCA / layout, d dots / glyphs.
 *
 * The layout takes seconds on 100k products the first time: an interactive start
 * fits it on a background thread (the PCA is shown meanwhile, with the progress) and
 * caches it beside the model; the headless snapshot fits it at once.  Each kind keeps
 * its own map, rebuilt when the city or the model answering changes.
 */
#include <curses.h>

#include "app.h"
#include "../core/map.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NGLYPHS 12
#define MAX_ZOOM 256.0
#define LEGEND_W 28 /* the legend's column on wide screens */

static const wchar_t GLYPHS_UTF8[NGLYPHS + 1] = {
    L'●', L'■', L'▲', L'◆', L'▼', L'◀', L'▶', L'○', L'□', L'△', L'◇', L'▽', L'·'};
static const wchar_t GLYPHS_ASCII[NGLYPHS + 1] = {'o', '#', '^', 'x', 'v', '<', '>',
                                                  'O', '=', '+', '%', '&', '.'};
static const char DENSITY[] = " .:-=+*#";
static const tui_role GROUP_ROLES[6] = {TUI_ROLE_MAP1, TUI_ROLE_MAP2, TUI_ROLE_MAP3,
                                        TUI_ROLE_MAP4, TUI_ROLE_MAP5, TUI_ROLE_MAP6};

enum { JOB_IDLE, JOB_RUNNING, JOB_DONE };

/* The map of one kind, and the fit of its layout. */
typedef struct map_slot {
    rs_map *m;
    int ci;           /* the city it was made for */
    int64_t model_id; /* the model it shows */
    pthread_t th;
    int joinable;
    atomic_int state, progress, cancel;
    rs_proj *fit;
    int fit_rc;
    rs_error fit_e, cache_e;
} map_slot;

struct tui_map {
    map_slot slot[2]; /* RS_MAP_PRODUCTS, RS_MAP_CATEGORIES */
    rs_map_kind kind;
    int want_pca;     /* p: PCA even when the layout is known */
    int glyphs;       /* d: one group glyph per cell instead of dots */
    int glyphs_set;   /* d was pressed (else: glyphs without colour) */
    double cx, cy, zoom;
    int32_t cursor;   /* point under the cursor, -1 none */
    char err[700];    /* why there is no map */
    /* the plot of the last draw: cells, and the side of the unit square in cell
     * widths (a cell is 1 wide and 2 high) */
    int pw, ph;
    double side;
    int color;        /* the last draw had colour */
    int *cnt;         /* [pw * ph * (NGLYPHS + 1)] points per cell and group */
    unsigned char *dots;
    size_t cap;
};

/* ------------------------------------------------------------ the fit ---- */

static void *fit_main(void *arg)
{
    map_slot *s = arg;
    rs_layout_opts o;
    rs_layout_opts_defaults(&o);
    o.progress = &s->progress;
    o.cancel = &s->cancel;
    s->fit_rc = rs_map_fit_layout(s->m, &o, &s->fit, &s->cache_e, &s->fit_e);
    atomic_store(&s->state, JOB_DONE);
    return NULL;
}

/* Waits for a running fit (cancelled first when cancel) and takes its result. */
static void slot_collect(tui_app *a, map_slot *s, int cancel)
{
    if (!s->joinable)
        return;
    if (cancel)
        atomic_store(&s->cancel, 1);
    pthread_join(s->th, NULL);
    s->joinable = 0;
    atomic_store(&s->state, JOB_IDLE);
    if (cancel || s->fit_rc != RS_OK) {
        if (!cancel)
            tui_message(a, TUI_ROLE_ERROR, "map layout: %s", s->fit_e.msg);
        rs_proj_free(s->fit);
        s->fit = NULL;
        return;
    }
    rs_map_adopt_layout(s->m, s->fit);
    s->fit = NULL;
    if (s->cache_e.code != RS_OK)
        tui_message(a, TUI_ROLE_WARN, "%s", s->cache_e.msg);
    else
        tui_message(a, TUI_ROLE_STATUS, "map layout ready (cached beside the model)");
}

static void slot_close(tui_app *a, map_slot *s)
{
    slot_collect(a, s, 1);
    rs_map_close(s->m);
    s->m = NULL;
}

/* Starts the layout's fit in the background (interactive) or fits it here. */
static void slot_fit(tui_app *a, map_slot *s)
{
    if (!s->m->emb || s->m->xy[RS_PROJ_LAYOUT])
        return;
    atomic_store(&s->cancel, 0);
    atomic_store(&s->progress, 0);
    atomic_store(&s->state, JOB_RUNNING);
    s->fit = NULL;
    if (a->fast && pthread_create(&s->th, NULL, fit_main, s) == 0) {
        s->joinable = 1;
        return;
    }
    fit_main(s);
    s->joinable = 0;
    atomic_store(&s->state, JOB_IDLE);
    if (s->fit_rc == RS_OK) {
        rs_map_adopt_layout(s->m, s->fit);
        if (s->cache_e.code != RS_OK)
            tui_message(a, TUI_ROLE_WARN, "%s", s->cache_e.msg);
    } else {
        tui_message(a, TUI_ROLE_ERROR, "map layout: %s", s->fit_e.msg);
    }
    s->fit = NULL;
}

int tui_map_poll(tui_app *a)
{
    struct tui_map *mp = a->map;
    int busy = 0;
    for (int k = 0; mp && k < 2; k++) {
        map_slot *s = &mp->slot[k];
        if (!s->joinable)
            continue;
        if (atomic_load(&s->state) == JOB_DONE) {
            slot_collect(a, s, 0);
        } else {
            busy = 1;
        }
    }
    return busy;
}

void tui_map_free(tui_app *a)
{
    struct tui_map *mp = a->map;
    if (!mp)
        return;
    for (int k = 0; k < 2; k++)
        slot_close(a, &mp->slot[k]);
    free(mp->cnt);
    free(mp->dots);
    free(mp);
    a->map = NULL;
}

/* -------------------------------------------------------------- state ---- */

/* The model that answers for the map's kind now (0: unknown). */
static int64_t answering_model(tui_app *a, rs_map_kind kind)
{
    const rs_rec_list *l = tui_rows(a, kind == RS_MAP_CATEGORIES ? PANE_CAT : PANE_SYN);
    return l && l->status == RS_OK ? l->model_id : 0;
}

static map_slot *cur_slot(struct tui_map *mp)
{
    return &mp->slot[mp->kind];
}

/* The item the cursor starts on: the current product, or its category. */
static int32_t start_point(tui_app *a, const rs_map *m)
{
    int32_t item = a->product;
    if (m->kind == RS_MAP_CATEGORIES && item >= 0) {
        rs_rec_product info;
        rs_recommender *r = tui_rec(a);
        item = r && rs_rec_product_info(r, item, &info, NULL) == RS_OK ? info.category_index : -1;
    }
    if (item >= 0 && item < m->n_items && m->point_of[item] >= 0)
        return m->point_of[item];
    return rs_map_nearest(m, RS_PROJ_PCA, 0.5f, 0.5f);
}

static void reset_view(struct tui_map *mp)
{
    mp->cx = mp->cy = 0.5;
    mp->zoom = 1;
}

/* The map of the current kind for the current city and model; NULL (with mp->err)
 * when there is none. */
static rs_map *ensure_map(tui_app *a)
{
    struct tui_map *mp = a->map;
    map_slot *s = cur_slot(mp);
    int64_t model = answering_model(a, mp->kind);
    if (s->m && s->ci == a->ci && (model == 0 || model == s->m->model.id))
        return s->m;
    slot_close(a, s);
    rs_recommender *r = tui_rec(a);
    if (!r) {
        snprintf(mp->err, sizeof mp->err, "%s", a->cities[a->ci].loading
                 ? "loading the city's models..." : "the city's models cannot be read");
        return NULL;
    }
    rs_error e = {0};
    if (rs_map_open(a->s, r, mp->kind, &s->m, &e) != RS_OK) {
        s->m = NULL;
        snprintf(mp->err, sizeof mp->err, "%.690s", e.msg);
        return NULL;
    }
    mp->err[0] = 0;
    s->ci = a->ci;
    s->model_id = s->m->model.id;
    if (s->m->note[0])
        tui_message(a, s->m->note_error ? TUI_ROLE_ERROR : TUI_ROLE_WARN, "%s", s->m->note);
    slot_fit(a, s);
    reset_view(mp);
    mp->cursor = start_point(a, s->m);
    return s->m;
}

static rs_proj_method shown_method(const struct tui_map *mp, const rs_map *m)
{
    return !mp->want_pca && m->xy[RS_PROJ_LAYOUT] ? RS_PROJ_LAYOUT : RS_PROJ_PCA;
}

static void map_open(tui_app *a)
{
    if (!a->map && !(a->map = calloc(1, sizeof *a->map))) {
        tui_message(a, TUI_ROLE_ERROR, "out of memory");
        tui_view_close(a);
        return;
    }
    struct tui_map *mp = a->map;
    if (mp->zoom <= 0)
        reset_view(mp);
    rs_map *m = ensure_map(a);
    if (m) /* reopened: the cursor on the current product again */
        mp->cursor = start_point(a, m);
}

/* ----------------------------------------------------------- geometry ---- */

/* Where point i falls in the plot, in cell widths (a cell is 1 wide, 2 high): x in
 * [0, pw), y in [0, 2 ph) when visible. */
static void to_plot(const struct tui_map *mp, const float *xy, int32_t i, double *x, double *y)
{
    double s = mp->side * mp->zoom;
    *x = (xy[2 * (size_t)i] - mp->cx) * s + mp->pw / 2.0;
    *y = (mp->cy - xy[2 * (size_t)i + 1]) * s + mp->ph;
}

static int visible(const struct tui_map *mp, double x, double y)
{
    return x >= 0 && x < mp->pw && y >= 0 && y < 2.0 * mp->ph;
}

/* The cursor to the nearest point in direction (dx, dy) (screen axes, y down): the
 * smallest distance along it plus twice the distance across; the view follows. */
static void move_cursor(tui_app *a, struct tui_map *mp, const rs_map *m, int dx, int dy)
{
    const float *xy = m->xy[shown_method(mp, m)];
    if (mp->cursor < 0) {
        mp->cursor = rs_map_nearest(m, shown_method(mp, m), (float)mp->cx, (float)mp->cy);
        return;
    }
    double s = mp->side * mp->zoom, best_score = INFINITY;
    int32_t best = -1, c = mp->cursor;
    for (int32_t i = 0; i < m->n; i++) {
        if (i == c || m->item[i] < 0)
            continue;
        double ex = (xy[2 * (size_t)i] - xy[2 * (size_t)c]) * s;
        double ey = (xy[2 * (size_t)c + 1] - xy[2 * (size_t)i + 1]) * s;
        double along = ex * dx + ey * dy;
        if (along <= 0)
            continue;
        double score = along + 2 * fabs(ex * dy - ey * dx);
        if (score < best_score) {
            best_score = score;
            best = i;
        }
    }
    if (best < 0) {
        tui_message(a, TUI_ROLE_WARN, "no point further that way");
        return;
    }
    mp->cursor = best;
    double x, y;
    to_plot(mp, xy, best, &x, &y);
    if (!visible(mp, x, y)) { /* the view follows the cursor */
        mp->cx = xy[2 * (size_t)best];
        mp->cy = xy[2 * (size_t)best + 1];
    }
}

static void pan(struct tui_map *mp, const rs_map *m, int dx, int dy)
{
    double s = mp->side * mp->zoom;
    if (s <= 0)
        return;
    mp->cx += dx * (mp->pw / 4.0) / s;
    mp->cy -= dy * (mp->ph / 2.0) / s; /* a quarter of the plot's 2 ph units */
    mp->cursor = rs_map_nearest(m, shown_method(mp, m), (float)mp->cx, (float)mp->cy);
}

static void zoom(tui_app *a, struct tui_map *mp, const rs_map *m, int in)
{
    if (in && mp->zoom < MAX_ZOOM) {
        mp->zoom *= 2;
        if (mp->cursor >= 0) {
            const float *xy = m->xy[shown_method(mp, m)];
            mp->cx = xy[2 * (size_t)mp->cursor];
            mp->cy = xy[2 * (size_t)mp->cursor + 1];
        }
    } else if (!in && mp->zoom > 1) {
        mp->zoom /= 2;
        if (mp->zoom <= 1)
            reset_view(mp);
    }
    tui_message(a, TUI_ROLE_STATUS, "zoom %gx", mp->zoom);
}

/* -------------------------------------------------------------- keys ---- */

/* Enter: the point under the cursor becomes the current product. */
static void browse(tui_app *a, struct tui_map *mp, const rs_map *m)
{
    if (mp->cursor < 0 || m->item[mp->cursor] < 0)
        return;
    int32_t item = m->item[mp->cursor];
    int32_t p = m->kind == RS_MAP_CATEGORIES ? tui_category_top(a, item) : item;
    if (p < 0) {
        tui_message(a, TUI_ROLE_WARN, "no product of that category sold here");
        return;
    }
    tui_view_close(a);
    tui_set_product(a, p);
}

/* Keys without a command of their own: pan, PCA / layout, dots / glyphs. */
static unsigned map_local_key(tui_app *a, struct tui_map *mp, rs_map *m, int code)
{
    switch (code) {
    case 'H': pan(mp, m, -1, 0); return TUI_HANDLED;
    case 'L': pan(mp, m, 1, 0); return TUI_HANDLED;
    case 'K': pan(mp, m, 0, -1); return TUI_HANDLED;
    case 'J': pan(mp, m, 0, 1); return TUI_HANDLED;
    case 'd':
        mp->glyphs = mp->glyphs_set ? !mp->glyphs : mp->color; /* from the default */
        mp->glyphs_set = 1;
        tui_message(a, TUI_ROLE_STATUS, "map: %s", mp->glyphs ? "a glyph per group" : "dots");
        return TUI_HANDLED;
    case 'p':
        if (!m->xy[RS_PROJ_LAYOUT] && !mp->want_pca) {
            tui_message(a, TUI_ROLE_WARN, "the layout is being computed (%d%%): PCA meanwhile",
                        atomic_load(&cur_slot(mp)->progress) / 10);
            return TUI_HANDLED;
        }
        mp->want_pca = !mp->want_pca;
        reset_view(mp);
        tui_message(a, TUI_ROLE_STATUS, "map: %s", mp->want_pca ? "PCA" : "layout");
        return TUI_HANDLED;
    default: return TUI_IGNORED;
    }
}

static unsigned map_key(tui_app *a, int code, tui_cmd cmd)
{
    struct tui_map *mp = a->map;
    if (!mp)
        return TUI_IGNORED;
    if (cmd == TUI_CMD_PANE_NEXT || cmd == TUI_CMD_PANE_PREV) {
        mp->kind = mp->kind == RS_MAP_PRODUCTS ? RS_MAP_CATEGORIES : RS_MAP_PRODUCTS;
        rs_map *m = ensure_map(a);
        if (m)
            mp->cursor = start_point(a, m);
        return TUI_HANDLED;
    }
    rs_map *m = ensure_map(a);
    if (!m)
        return TUI_IGNORED;
    switch (cmd) {
    case TUI_CMD_UP: move_cursor(a, mp, m, 0, -1); return TUI_HANDLED;
    case TUI_CMD_DOWN: move_cursor(a, mp, m, 0, 1); return TUI_HANDLED;
    case TUI_CMD_BACK:
        if (code == 'h' || code == KEY_LEFT)
            move_cursor(a, mp, m, -1, 0);
        else
            tui_view_close(a); /* Backspace: back to the lists */
        return TUI_HANDLED;
    case TUI_CMD_FOLLOW:
        if (code == 'l' || code == KEY_RIGHT)
            move_cursor(a, mp, m, 1, 0);
        else
            browse(a, mp, m);
        return TUI_HANDLED;
    case TUI_CMD_MORE: zoom(a, mp, m, 1); return TUI_HANDLED;
    case TUI_CMD_FEWER: zoom(a, mp, m, 0); return TUI_HANDLED;
    case TUI_CMD_TOP:
        reset_view(mp);
        return TUI_HANDLED;
    case TUI_CMD_NONE: return map_local_key(a, mp, m, code);
    default: return TUI_IGNORED;
    }
}

/* ------------------------------------------------------------ drawing ---- */

static int style_of(const rs_map *m, int32_t i)
{
    int g = m->group[i];
    return g >= 0 && g < NGLYPHS ? g : NGLYPHS;
}

static tui_role group_role(int style, int color)
{
    return color && style < NGLYPHS ? GROUP_ROLES[style % 6] : TUI_ROLE_NORMAL;
}

static wchar_t group_glyph(int style, int utf8)
{
    return utf8 ? GLYPHS_UTF8[style] : GLYPHS_ASCII[style];
}

/* The scratch grids for a plot of pw x ph cells; -1 when out of memory. */
static int plot_scratch(struct tui_map *mp)
{
    size_t cells = (size_t)mp->pw * (size_t)mp->ph;
    if (cells > mp->cap) {
        int *cnt = realloc(mp->cnt, cells * (NGLYPHS + 1) * sizeof *cnt);
        if (!cnt)
            return -1;
        mp->cnt = cnt;
        unsigned char *dots = realloc(mp->dots, cells);
        if (!dots)
            return -1;
        mp->dots = dots;
        mp->cap = cells;
    }
    memset(mp->cnt, 0, cells * (NGLYPHS + 1) * sizeof *mp->cnt);
    memset(mp->dots, 0, cells);
    return 0;
}

/* The points into the cells: counts per group and, for braille, the dots. */
static void plot_points(struct tui_map *mp, const rs_map *m, const float *xy)
{
    static const unsigned char BIT[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};
    for (int32_t i = 0; i < m->n; i++) {
        if (m->item[i] < 0)
            continue;
        double x, y;
        to_plot(mp, xy, i, &x, &y);
        if (!visible(mp, x, y))
            continue;
        int dx = (int)(2 * x), dy = (int)(2 * y); /* braille dots: 2 across, 4 down */
        int col = dx / 2, row = dy / 4;
        size_t cell = (size_t)row * mp->pw + col;
        mp->cnt[cell * (NGLYPHS + 1) + style_of(m, i)]++;
        mp->dots[cell] |= BIT[dx & 1][dy & 3];
    }
}

/* Each cell: braille dots, the density ramp, or the glyph of its largest group. */
static void draw_cells(struct tui_map *mp, tui_canvas *c, int y0, int glyphs)
{
    for (int row = 0; row < mp->ph; row++)
        for (int col = 0; col < mp->pw; col++) {
            size_t cell = (size_t)row * mp->pw + col;
            const int *n = mp->cnt + cell * (NGLYPHS + 1);
            int total = 0, best = 0;
            for (int g = 0; g <= NGLYPHS; g++) {
                total += n[g];
                if (n[g] > n[best])
                    best = g;
            }
            if (total == 0)
                continue;
            tui_role role = group_role(best, c->color);
            wchar_t ch;
            if (glyphs) {
                ch = group_glyph(best, c->g->utf8);
            } else if (c->g->utf8) {
                ch = (wchar_t)(0x2800 + mp->dots[cell]);
            } else {
                int level = total <= 1 ? 1 : total <= 2 ? 2 : total <= 4 ? 3 : total <= 8 ? 4
                          : total <= 16 ? 5 : total <= 32 ? 6 : 7;
                ch = (wchar_t)DENSITY[level];
            }
            tui_put(c, y0 + row, col, ch, 1, role);
        }
}

/* A marker on the cell of item's point (when it is visible). */
static void mark_item(struct tui_map *mp, const rs_map *m, const float *xy, tui_canvas *c,
                      int y0, int32_t item, wchar_t ch, tui_role role)
{
    if (item < 0 || item >= m->n_items || m->point_of[item] < 0)
        return;
    double x, y;
    to_plot(mp, xy, m->point_of[item], &x, &y);
    if (visible(mp, x, y))
        tui_put(c, y0 + (int)(y / 2), (int)x, ch, 1, role);
}

static const char *item_name(tui_app *a, const rs_map *m, int32_t item, const char **cat)
{
    rs_recommender *r = tui_rec(a);
    *cat = "";
    if (!r || item < 0)
        return "";
    if (m->kind == RS_MAP_CATEGORIES)
        return rs_rec_category_name(r, item);
    rs_rec_product info;
    if (rs_rec_product_info(r, item, &info, NULL) != RS_OK)
        return "";
    *cat = info.category;
    return info.name;
}

/* @ the current product (its category), s / c the lists' rows, then the cursor. */
static void draw_marks(tui_app *a, struct tui_map *mp, const rs_map *m, const float *xy,
                       tui_canvas *c, int y0)
{
    int32_t cur = a->product;
    if (m->kind == RS_MAP_CATEGORIES) {
        const rs_rec_list *l = tui_rows(a, PANE_CAT);
        for (int i = 0; l && l->status == RS_OK && i < l->n; i++)
            mark_item(mp, m, xy, c, y0, l->rows[i].index, 'c', TUI_ROLE_REC);
        rs_rec_product info;
        rs_recommender *r = tui_rec(a);
        cur = r && cur >= 0 && rs_rec_product_info(r, cur, &info, NULL) == RS_OK
                  ? info.category_index : -1;
    } else {
        static const int PANES[2] = {PANE_COMP, PANE_SYN};
        static const char MARK[2] = {'c', 's'};
        for (int k = 0; k < 2; k++) {
            const rs_rec_list *l = tui_rows(a, PANES[k]);
            for (int i = 0; l && l->status == RS_OK && i < l->n; i++)
                mark_item(mp, m, xy, c, y0, l->rows[i].index, MARK[k], TUI_ROLE_REC);
        }
    }
    mark_item(mp, m, xy, c, y0, cur, '@', TUI_ROLE_CURRENT);
    if (mp->cursor < 0)
        return;
    double x, y;
    to_plot(mp, xy, mp->cursor, &x, &y);
    if (!visible(mp, x, y))
        return;
    int row = y0 + (int)(y / 2), col = (int)x;
    const tui_cell *under = &c->cells[(size_t)row * c->cols + col];
    tui_put(c, row, col, under->ch ? under->ch : L' ', 1, TUI_ROLE_SELECTED);
    const char *cat;
    const char *nm = item_name(a, m, m->item[mp->cursor], &cat);
    int w = mp->pw - col - 3 < 30 ? mp->pw - col - 3 : 30;
    if (w >= 8)
        tui_text(c, row, col + 2, w, nm, TUI_ROLE_SELECTED);
    else if (col >= 10)
        tui_text_right(c, row, col - 2 - (col - 2 < 30 ? col - 2 : 30),
                       col - 2 < 30 ? col - 2 : 30, nm, TUI_ROLE_SELECTED);
}

/* One legend entry: glyph (in its colour) and text; returns the columns used. */
static int legend_item(tui_canvas *c, int y, int x, int maxw, wchar_t ch, tui_role role,
                       const char *text)
{
    if (maxw < 4)
        return 0;
    tui_put(c, y, x, ch, 1, role);
    return 2 + tui_text(c, y, x + 2, maxw - 2, text, TUI_ROLE_NORMAL);
}

typedef struct legend_entry {
    wchar_t ch;
    tui_role role;
    char text[96];
} legend_entry;

/* The legend's entries: the groups (12 at most, then "other"), the markers, and the
 * density ramp when it is drawn.  Returns how many. */
static int legend_entries(const struct tui_map *mp, const rs_map *m, const tui_canvas *c,
                          int glyphs, legend_entry *v, int namew)
{
    int n = 0, shown = m->n_groups < NGLYPHS ? m->n_groups : NGLYPHS;
    if (m->grouping == RS_MAP_BY_CLUSTER && namew < LEGEND_W) /* below the plot: say so */
        v[n++] = (legend_entry){L' ', TUI_ROLE_DIM, "clusters (derived):"};
    for (int g = 0; g < shown; g++) {
        v[n].ch = group_glyph(g, c->g->utf8);
        v[n].role = group_role(g, c->color);
        snprintf(v[n].text, sizeof v[n].text, "%.*s %d", namew, m->groups[g].name,
                 m->groups[g].points);
        /* names are cut by bytes here only to bound the buffer; tui_text cuts by columns */
        n++;
    }
    if (m->n_groups > NGLYPHS) {
        int32_t rest = 0;
        for (int g = NGLYPHS; g < m->n_groups; g++)
            rest += m->groups[g].points;
        v[n].ch = group_glyph(NGLYPHS, c->g->utf8);
        v[n].role = TUI_ROLE_NORMAL;
        snprintf(v[n].text, sizeof v[n].text, "%d others %d", m->n_groups - NGLYPHS, rest);
        n++;
    }
    int cat = m->kind == RS_MAP_CATEGORIES;
    v[n++] = (legend_entry){'@', TUI_ROLE_CURRENT, ""};
    snprintf(v[n - 1].text, sizeof v[n - 1].text, "%s", cat ? "its category" : "current");
    if (!cat) {
        v[n++] = (legend_entry){'s', TUI_ROLE_REC, "synonym"};
    }
    v[n++] = (legend_entry){'c', TUI_ROLE_REC, ""};
    snprintf(v[n - 1].text, sizeof v[n - 1].text, "%s", cat ? "also bought from" : "complement");
    if (!glyphs && !c->g->utf8)
        v[n++] = (legend_entry){DENSITY[7], TUI_ROLE_NORMAL, "1-32+ per cell: .:-=+*#"};
    (void)mp;
    return n;
}

/* Rows the legend needs below the plot at this width (narrow screens). */
static int legend_rows(const legend_entry *v, int n, int width)
{
    int rows = n > 0 ? 1 : 0, x = 1;
    for (int i = 0; i < n; i++) {
        int w = 3 + (int)strlen(v[i].text) + 2;
        if (w > 24)
            w = 24;
        if (x + w > width && x > 1) {
            rows++;
            x = 1;
        }
        x += w;
    }
    return rows;
}

static void draw_legend_below(tui_canvas *c, const legend_entry *v, int n, int y, int rows)
{
    int x = 1, row = 0;
    for (int i = 0; i < n; i++) {
        int w = 3 + (int)strlen(v[i].text) + 2;
        if (w > 24)
            w = 24;
        if (x + w > c->cols && x > 1) {
            if (++row >= rows)
                return;
            x = 1;
        }
        legend_item(c, y + row, x, w - 2, v[i].ch, v[i].role, v[i].text);
        x += w;
    }
}

static void draw_legend_right(tui_canvas *c, const rs_map *m, const legend_entry *v, int n,
                              int y, int h)
{
    int x = c->cols - LEGEND_W + 1;
    for (int yy = y; yy < y + h; yy++)
        tui_put(c, yy, x - 1, c->g->vline, 1, TUI_ROLE_BORDER);
    const char *title = m->grouping == RS_MAP_BY_DEPARTMENT ? "Departments"
                      : m->grouping == RS_MAP_BY_CATEGORY  ? "Categories"
                      : m->grouping == RS_MAP_BY_CLUSTER   ? "Clusters (derived)"
                                                           : "Points";
    tui_text(c, y, x + 1, LEGEND_W - 3, title, TUI_ROLE_HEADER);
    for (int i = 0; i < n && 1 + i < h; i++)
        legend_item(c, y + 1 + i, x + 1, LEGEND_W - 3, v[i].ch, v[i].role, v[i].text);
}

static void draw_header(tui_app *a, struct tui_map *mp, const rs_map *m, tui_canvas *c)
{
    tui_fill(c, 1, 0, c->cols, L' ', TUI_ROLE_HEADER_ACTIVE);
    const map_slot *s = cur_slot(mp);
    rs_proj_method me = shown_method(mp, m);
    char head[400], right[96] = "";
    snprintf(head, sizeof head, "Map: %s of %s, %s%s model #%lld, %d points, %s",
             rs_map_kind_name(m->kind), a->cities[a->ci].name,
             m->model.city_id == 0 && m->city_id != 0 ? "all cities' " : "",
             m->kind == RS_MAP_CATEGORIES ? "category" : "product", (long long)m->model.id,
             m->n, me == RS_PROJ_LAYOUT ? "layout" : "PCA");
    if (s->joinable)
        snprintf(right, sizeof right, "layout %d%% ", atomic_load(&s->progress) / 10);
    else if (mp->zoom > 1)
        snprintf(right, sizeof right, "zoom %gx ", mp->zoom);
    int rw = (int)strlen(right);
    tui_text(c, 1, 1, c->cols - rw - 3, head, TUI_ROLE_HEADER_ACTIVE);
    tui_text(c, 1, c->cols - rw, rw, right, TUI_ROLE_HEADER_ACTIVE);
}

/* The bottom line of the view: the point under the cursor. */
static void draw_info(tui_app *a, struct tui_map *mp, const rs_map *m, tui_canvas *c, int y)
{
    if (mp->cursor < 0 || m->item[mp->cursor] < 0) {
        tui_text(c, y, 1, c->cols - 2, "no point under the cursor", TUI_ROLE_DIM);
        return;
    }
    int32_t item = m->item[mp->cursor];
    const char *cat;
    const char *nm = item_name(a, m, item, &cat);
    rs_recommender *r = tui_rec(a);
    int64_t pop = 0;
    double pct = 0;
    if (r && m->kind == RS_MAP_CATEGORIES)
        pop = rs_rec_category_popularity(r, item, NULL, &pct);
    else if (r) {
        pop = rs_rec_popularity_counts(r)[item];
        pct = rs_rec_popularity_percentiles(r)[item];
    }
    char cnt[32], tail[128];
    tui_fmt_count(pop, cnt, sizeof cnt);
    int g = m->group[mp->cursor];
    snprintf(tail, sizeof tail, "  %s receipts  p%.0f", cnt, pct);
    int tw = (int)strlen(tail);
    int x = 1;
    tui_put(c, y, x, c->g->active, 1, TUI_ROLE_HEADER);
    x += 2;
    int room = c->cols - x - tw - 1;
    x += tui_text(c, y, x, room * 2 / 3, nm, TUI_ROLE_HEADER) + 2;
    const char *where = m->kind == RS_MAP_CATEGORIES ? "" : cat;
    if (g >= 0 && m->grouping != RS_MAP_BY_CATEGORY && m->kind == RS_MAP_PRODUCTS) {
        char both[300];
        snprintf(both, sizeof both, "%s / %s", m->groups[g].name, cat);
        tui_text(c, y, x, c->cols - tw - 1 - x, both, TUI_ROLE_DIM);
    } else if (g >= 0 && m->kind == RS_MAP_CATEGORIES) {
        tui_text(c, y, x, c->cols - tw - 1 - x, m->groups[g].name, TUI_ROLE_DIM);
    } else {
        tui_text(c, y, x, c->cols - tw - 1 - x, where, TUI_ROLE_DIM);
    }
    tui_text_right(c, y, c->cols - tw - 1, tw, tail, TUI_ROLE_DIM);
}

/* Text cut into lines of at most w columns at spaces (at most max lines); returns the
 * lines drawn. */
static int draw_wrapped(tui_canvas *c, int y, int x, int w, int max, const char *s,
                        tui_role role)
{
    int n = 0;
    char line[512];
    while (*s && n < max) {
        size_t len = strlen(s), cut = len;
        if ((int)len > w) { /* bytes approximate columns here: messages are ASCII */
            cut = (size_t)w;
            while (cut > 0 && s[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = (size_t)w;
        }
        if (n == max - 1)
            cut = len; /* the last line takes the rest (cut with the ellipsis) */
        snprintf(line, sizeof line, "%.*s", (int)(cut < sizeof line ? cut : sizeof line - 1), s);
        tui_text(c, y + n, x, w, line, role);
        n++;
        s += cut;
        while (*s == ' ')
            s++;
    }
    return n;
}

static void map_draw(tui_app *a, tui_canvas *c)
{
    struct tui_map *mp = a->map;
    tui_view_clear(c);
    if (!mp)
        return;
    mp->color = c->color;
    rs_map *m = ensure_map(a);
    if (!m) {
        tui_fill(c, 1, 0, c->cols, L' ', TUI_ROLE_HEADER_ACTIVE);
        tui_printf(c, 1, 1, c->cols - 2, TUI_ROLE_HEADER_ACTIVE, "Map: %s of %s",
                   rs_map_kind_name(mp->kind), a->cities[a->ci].name);
        int y = 3 + draw_wrapped(c, 3, 2, c->cols - 4, 4, mp->err, TUI_ROLE_WARN);
        tui_text(c, y, 2, c->cols - 4, "(Tab: the other kind; q closes)", TUI_ROLE_DIM);
        return;
    }
    int glyphs = mp->glyphs_set ? mp->glyphs : !c->color;
    int wide = c->cols >= 110;
    legend_entry v[NGLYPHS + 8];
    int nv = legend_entries(mp, m, c, glyphs, v, wide ? LEGEND_W : 16);
    int info_y = c->rows - 2, top = 2;
    int lrows = wide ? 0 : legend_rows(v, nv, c->cols);
    int max_lrows = c->rows >= 40 ? 4 : 2;
    if (lrows > max_lrows)
        lrows = max_lrows;
    mp->pw = wide ? c->cols - LEGEND_W : c->cols;
    mp->ph = info_y - top - lrows;
    draw_header(a, mp, m, c);
    if (mp->ph < 3 || mp->pw < 10 || plot_scratch(mp) != 0) {
        tui_text(c, 3, 2, c->cols - 4, "no room for the map", TUI_ROLE_WARN);
        return;
    }
    /* the unit square spans the plot's shorter side (in cell widths), with a margin */
    mp->side = 0.96 * (mp->pw < 2 * mp->ph ? mp->pw : 2 * mp->ph) - 1;
    const float *xy = m->xy[shown_method(mp, m)];
    plot_points(mp, m, xy);
    draw_cells(mp, c, top, glyphs);
    draw_marks(a, mp, m, xy, c, top);
    if (wide)
        draw_legend_right(c, m, v, nv, top, mp->ph);
    else
        draw_legend_below(c, v, nv, top + mp->ph, lrows);
    draw_info(a, mp, m, c, info_y);
}

static void map_status(tui_app *a, tui_canvas *c)
{
    int y = c->rows - 1;
    if (a->msg[0]) {
        tui_text(c, y, 1, c->cols - 2, a->msg, a->msg_role);
        return;
    }
    static const char *const HINTS[][2] = {
        {"arrows", "move"}, {"+ -", "zoom"}, {"HJKL", "pan"}, {"Enter", "browse"},
        {"Tab", "products/categories"}, {"p", "PCA/layout"}, {"d", "dots/glyphs"},
        {"q", "close"}};
    int x = 1;
    for (size_t i = 0; i < sizeof HINTS / sizeof HINTS[0]; i++) {
        int need = (int)(strlen(HINTS[i][0]) + strlen(HINTS[i][1])) + 3;
        if (x + need > c->cols - 1)
            break;
        x += tui_text(c, y, x, c->cols - x, HINTS[i][0], TUI_ROLE_KEY) + 1;
        x += tui_text(c, y, x, c->cols - x, HINTS[i][1], TUI_ROLE_STATUS) + 2;
    }
}

const tui_view tui_view_map = {
    .name = "map",
    .cmd = TUI_CMD_MAP,
    .open = map_open,
    .key = map_key,
    .draw = map_draw,
    .status = map_status,
};
