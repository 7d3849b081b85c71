/* view_compare.c - compare (C): the current product's three lists (synonyms,
 * categories, complements) side by side for this city and another one, each column
 * headed by the model that answered (its id, and whether it is the city's own or all
 * cities'), each row with its score; a row present on one side only is marked `+`.
 * `c` takes the next city for the right column, `p` this city's previous product
 * model instead (the newest registered one before the model answering: "two models of
 * one city"), Tab jumps to the next list, the movement keys scroll.  The right column runs the same query (basket or product, k,
 * mask, synonyms' category rule) on that city's recommender, opened on first use like
 * a switched city's.
 */
#include "app.h"
#include "../core/model.h"
#include "../core/sanitize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tui_compare {
    int other;          /* city index of the right column */
    int previous;       /* the right column is this city's previous product model (p) */
    int64_t prev_model; /* its id (0: none found) */
    rs_recommender *prev_rec; /* opened on that model */
    rs_rec_result *res; /* the right column's answer */
    char err[400];      /* why the right column has none */
    int built_w;        /* the box width the lines were built for (0: rebuild) */
    int section[NPANES]; /* first line of each list */
};

void tui_compare_free(tui_app *a)
{
    if (!a->cmp)
        return;
    rs_rec_result_free(a->cmp->res);
    rs_recommender_close(a->cmp->prev_rec);
    free(a->cmp);
    a->cmp = NULL;
}

/* City ci's recommender, opened here on first use (as a city switch would). */
static rs_recommender *city_rec(tui_app *a, int ci, char *err, size_t n)
{
    tui_city *c = &a->cities[ci];
    if (c->rec)
        return c->rec;
    if (c->loading) {
        snprintf(err, n, "loading the models of %s...", c->name);
        return NULL;
    }
    rs_rec_options o;
    rs_rec_options_defaults(&o);
    o.no_completion = 1;
    o.no_copurchase = a->fast; /* completed later if the city is switched to */
    rs_error e = {0};
    if (rs_recommender_open(a->s, c->id, &o, &c->rec, &e) != RS_OK) {
        c->rec = NULL;
        snprintf(err, n, "%.390s", e.msg);
        return NULL;
    }
    c->rec_full = !a->fast;
    return c->rec;
}

/* The current city's recommender answering with its previous product model: the
 * newest registered one of the answering model's city other than the answering one. */
static rs_recommender *previous_rec(tui_app *a, struct tui_compare *cm, char *err, size_t n)
{
    const rs_rec_list *l = tui_rows(a, PANE_SYN);
    if (!l || l->status != RS_OK) {
        snprintf(err, n, "%s", "no product model answers here");
        return NULL;
    }
    int64_t prev = 0;
    rs_model_list ml = {0};
    rs_error e = {0};
    if (rs_registry_list(a->s, l->model_city, RS_KIND_PRODUCT, &ml, &e) != RS_OK) {
        snprintf(err, n, "%.390s", e.msg);
        return NULL;
    }
    for (size_t i = 0; i < ml.n && !prev; i++)
        if (ml.rows[i].info.id != l->model_id && strcmp(ml.rows[i].info.split, "all") == 0)
            prev = ml.rows[i].info.id;
    rs_model_list_free(&ml);
    if (!prev) {
        snprintf(err, n, "no previous product model of %s in the registry",
                 l->model_city ? a->cities[a->ci].name : "all cities");
        return NULL;
    }
    if (cm->prev_rec && cm->prev_model == prev)
        return cm->prev_rec;
    rs_recommender_close(cm->prev_rec);
    cm->prev_rec = NULL;
    cm->prev_model = prev;
    rs_rec_options o;
    rs_rec_options_defaults(&o);
    o.no_completion = 1;
    o.no_copurchase = 1;
    o.product_model = prev;
    if (rs_recommender_open(a->s, a->cities[a->ci].id, &o, &cm->prev_rec, &e) != RS_OK) {
        cm->prev_rec = NULL;
        snprintf(err, n, "%.390s", e.msg);
    }
    return cm->prev_rec;
}

/* The right column's answer (0), or -1 with cmp->err. */
static int compute_other(tui_app *a, struct tui_compare *cm)
{
    cm->err[0] = 0;
    rs_recommender *r = cm->previous ? previous_rec(a, cm, cm->err, sizeof cm->err)
                                     : city_rec(a, cm->other, cm->err, sizeof cm->err);
    if (!r)
        return -1;
    if (!cm->res && !(cm->res = rs_rec_result_new())) {
        snprintf(cm->err, sizeof cm->err, "out of memory");
        return -1;
    }
    rs_rec_query q;
    tui_query(a, &q);
    rs_error e = {0};
    if (rs_recommend(r, &q, cm->res, &e) != RS_OK) {
        snprintf(cm->err, sizeof cm->err, "%.390s", e.msg);
        return -1;
    }
    return 0;
}

/* The city of the right column. */
static int right_city(const tui_app *a, const struct tui_compare *cm)
{
    return cm->previous ? a->ci : cm->other;
}

/* Rank of index in a list, -1 when absent. */
static int rank_in(const rs_rec_list *l, int32_t index)
{
    for (int i = 0; l && l->status == RS_OK && i < l->n; i++)
        if (l->rows[i].index == index)
            return i;
    return -1;
}

/* "Springfield: product #3", "↳ Ogdenville: product #1" (the all cities' model
 * answers: the main screen's fallback mark), "Springfield: models #3 + #4". */
static void scorer(const tui_app *a, int ci, int pane, const rs_rec_list *l, int previous,
                   char *buf, size_t n)
{
    const tui_city *c = &a->cities[ci];
    if (previous && pane != PANE_CAT) {
        snprintf(buf, n, "%s: previous %s #%lld", c->name,
                 pane == PANE_COMP ? "models" : "product", (long long)l->model_id);
        if (pane == PANE_COMP && l->model2_id > 0)
            snprintf(buf, n, "%s: previous #%lld + #%lld", c->name, (long long)l->model_id,
                     (long long)l->model2_id);
        return;
    }
    char fb[8] = "";
    if (l->model_city == 0 && c->id != 0) {
        size_t k = rs_utf8_encode(fb, (unsigned)rs_glyphs_get(a->utf8)->fallback);
        fb[k] = ' ';
        fb[k + 1] = 0;
    }
    if (pane == PANE_COMP && l->model2_id > 0)
        snprintf(buf, n, "%s%s: models #%lld + #%lld", fb, c->name, (long long)l->model_id,
                 (long long)l->model2_id);
    else
        snprintf(buf, n, "%s%s: %s #%lld", fb, c->name, TUI_PANES[pane].model,
                 (long long)l->model_id);
}

/* One cell: rank, name (cut and padded by display columns), score, and with room the
 * row's rank on the other side. */
static void cell(const tui_app *a, int pane, const rs_rec_row *row, int i, int other_rank,
                 int cw, char *buf, size_t n)
{
    int show_other = cw >= 44;
    int namew = cw - 4 - 9 - (show_other ? 5 : 0);
    char name[512], other[16] = "";
    rs_sanitize_cell(row->name, !a->utf8, namew < 4 ? 4 : namew, name, sizeof name);
    if (show_other)
        snprintf(other, sizeof other, other_rank >= 0 ? " =%-3d" : "     ", other_rank + 1);
    snprintf(buf, n, pane == PANE_CAT ? "%2d %s %8.4f%s" : "%2d %s %8.3f%s", i + 1, name,
             row->score, other);
}

/* One list in two columns, and how many rows both sides have. */
static void add_list(tui_app *a, struct tui_compare *cm, tui_lines *l, int pane, int cw)
{
    const rs_rec_list *L = tui_rows(a, pane);
    const rs_rec_list *R = cm->err[0] ? NULL : &cm->res->lists[pane];
    int rx = cw + 1;
    char lbuf[600], rbuf[600];
    cm->section[pane] = l->n;
    tui_lines_add(l, 0, TUI_ROLE_HEADER, "%s", TUI_PANES[pane].title);
    lbuf[0] = rbuf[0] = 0;
    if (L && L->status == RS_OK)
        scorer(a, a->ci, pane, L, 0, lbuf, sizeof lbuf);
    if (R && R->status == RS_OK)
        scorer(a, right_city(a, cm), pane, R, cm->previous, rbuf, sizeof rbuf);
    tui_lines_add(l, 2, TUI_ROLE_DIM, "%s", lbuf[0] ? lbuf : a->cities[a->ci].name);
    tui_lines_span(l, rx + 2, TUI_ROLE_DIM, "%s",
                   rbuf[0] ? rbuf : a->cities[right_city(a, cm)].name);
    int nl = L && L->status == RS_OK ? L->n : 0, nr = R && R->status == RS_OK ? R->n : 0;
    if (!L || L->status != RS_OK || !R || R->status != RS_OK) {
        tui_lines_add(l, 2, TUI_ROLE_WARN, "%s",
                      !L ? (a->rec_err[0] ? a->rec_err : "no product")
                         : L->status != RS_OK ? L->message : "");
        if (!R || R->status != RS_OK)
            tui_lines_span(l, rx + 2, TUI_ROLE_WARN, "%s", cm->err[0] ? cm->err : R->message);
    }
    int both = 0;
    for (int i = 0; i < (nl > nr ? nl : nr); i++) {
        int lo = i < nl ? rank_in(R, L->rows[i].index) : -2;
        int ro = i < nr ? rank_in(L, R->rows[i].index) : -2;
        both += lo >= 0;
        if (i < nl) {
            cell(a, pane, &L->rows[i], i, lo, cw - 2, lbuf, sizeof lbuf);
            tui_lines_add(l, 0, TUI_ROLE_MARK, "%s", lo < 0 ? "+" : "");
            tui_lines_span(l, 2, TUI_ROLE_NORMAL, "%s", lbuf);
        } else {
            tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
        }
        if (i < nr) {
            cell(a, pane, &R->rows[i], i, ro, cw - 2, rbuf, sizeof rbuf);
            tui_lines_span(l, rx, TUI_ROLE_MARK, "%s", ro < 0 ? "+" : "");
            tui_lines_span(l, rx + 2, TUI_ROLE_NORMAL, "%s", rbuf);
        }
    }
    if (nl > 0 || nr > 0)
        tui_lines_add(l, 2, TUI_ROLE_DIM, "in both: %d (left %d, right %d)", both, nl, nr);
    else if (L && L->status == RS_OK && R && R->status == RS_OK)
        tui_lines_add(l, 2, TUI_ROLE_DIM, "no rows on either side (the popularity mask may "
                      "hide them: [ ] { } or %% move it)");
    tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
}

static void compare_build(tui_app *a, int box_w)
{
    struct tui_compare *cm = a->cmp;
    tui_lines *l = &a->text;
    tui_lines_clear(l);
    rs_recommender *r = tui_rec(a);
    rs_rec_product info;
    const char *what = r && a->product >= 0 &&
                               rs_rec_product_info(r, a->product, &info, NULL) == RS_OK
                           ? info.name : "?";
    char name[100];
    rs_sanitize_str(what, !a->utf8, 40, name, sizeof name);
    if (a->n_basket > 0)
        snprintf(name, sizeof name, "the basket (%d products)", a->n_basket);
    if (cm->previous)
        snprintf(l->title, sizeof l->title, "Compare: %.50s, %.40s: the model vs the previous",
                 name, a->cities[a->ci].name);
    else
        snprintf(l->title, sizeof l->title, "Compare: %.50s, %.40s vs %.40s", name,
                 a->cities[a->ci].name, a->cities[cm->other].name);
    compute_other(a, cm);
    int cw = (box_w - 4 - 1) / 2;
    for (int p = 0; p < NPANES; p++)
        add_list(a, cm, l, p, cw);
    tui_lines_add(l, 0, TUI_ROLE_MARK, "%s", "+");
    tui_lines_span(l, 2, TUI_ROLE_DIM, "%s",
                   cw >= 46 ? "only on this side; =n its rank on the other; c: another city; "
                              "p: the previous model; Tab: next list"
                            : "only here; c: another city; p: previous model; Tab: next");
}

static int next_city(const tui_app *a, int from)
{
    int n = a->n_cities, j = from;
    for (int k = 0; k < n; k++) {
        j = (j + 1) % n;
        if (j != a->ci)
            return j;
    }
    return from;
}

static void compare_open(tui_app *a)
{
    if (!a->cmp && !(a->cmp = calloc(1, sizeof *a->cmp))) {
        tui_message(a, TUI_ROLE_ERROR, "out of memory");
        tui_view_close(a);
        return;
    }
    if (a->n_cities < 2) {
        tui_message(a, TUI_ROLE_WARN, "only one city: nothing to compare with");
        tui_view_close(a);
        return;
    }
    if (a->cmp->other == a->ci || a->cmp->other >= a->n_cities)
        a->cmp->other = next_city(a, a->ci);
    a->cmp->built_w = 0;
}

static unsigned compare_key(tui_app *a, int code, tui_cmd cmd)
{
    struct tui_compare *cm = a->cmp;
    if (!cm)
        return TUI_IGNORED;
    if (cmd == TUI_CMD_NONE && code == 'p') { /* the previous model, or back */
        cm->previous = !cm->previous;
        cm->built_w = 0;
        a->ov_list.top = 0;
        return TUI_HANDLED;
    }
    if (cmd == TUI_CMD_CITY) {
        cm->previous = 0;
        cm->other = next_city(a, cm->other);
        cm->built_w = 0;
        a->ov_list.top = 0;
        return TUI_HANDLED;
    }
    if (cmd == TUI_CMD_PANE_NEXT || cmd == TUI_CMD_PANE_PREV) {
        int cur = 0; /* the list the first line shown belongs to */
        for (int p = 0; p < NPANES; p++)
            if (a->ov_list.top >= cm->section[p])
                cur = p;
        int to = (cur + (cmd == TUI_CMD_PANE_NEXT ? 1 : NPANES - 1)) % NPANES;
        a->ov_list.top = cm->section[to];
        return TUI_HANDLED;
    }
    return tui_text_view_key(a, code, cmd);
}

static void compare_draw(tui_app *a, tui_canvas *c)
{
    if (a->cmp)
        tui_text_view_draw_width(a, c, &a->cmp->built_w, compare_build);
}

const tui_view tui_view_compare = {
    .name = "compare",
    .cmd = TUI_CMD_COMPARE,
    .open = compare_open,
    .key = compare_key,
    .draw = compare_draw,
};
