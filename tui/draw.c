/* draw.c - every screen of the TUI, drawn into the canvas.
 *
 * Layout (80x24 is the design size; more rows give a taller histogram; from 120
 * columns the lists fill their panes, from 160 the three panes stand side by side):
 *   row 0       title: city (and whether its models fall back to all cities), k, mask
 *   row 1       the current product: name, category, receipts, percentile
 *   (row 2)     the basket, when there is one
 *   panes       Synonyms / Categories / Complements
 *   histogram   popularity of the city's products on log bins, marks and cut-offs
 *   last row    messages, else the most useful keys
 * The open view (help, city picker, search, metrics, explain: tui_view ops) draws over
 * the panes; the export prompt takes the last row.
 */
#include "app.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sanitize.h"

/* The pane table: one pane per recommender kind, in rs_rec_kind order. */
const tui_pane TUI_PANES[NPANES] = {
    [PANE_SYN] = {"Synonyms", "substitutes: cosine", "product", "synonym", "synonyms",
                  TUI_SCALE_ZERO_POSITIVE, 0, 0},
    [PANE_CAT] = {"Categories", "softmax weight", "category", "category", "categories",
                  TUI_SCALE_ZERO, 1, 0},
    [PANE_COMP] = {"Complements", "in.out score, by category", "product", "complement",
                   "complements", TUI_SCALE_RANGE, 0, 1},
};

void tui_fmt_count(int64_t v, char *buf, size_t n)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%lld", (long long)(v < 0 ? -v : v));
    size_t len = strlen(tmp), j = 0;
    char out[48];
    if (v < 0)
        out[j++] = '-';
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[j++] = ',';
        out[j++] = tmp[i];
    }
    out[j] = 0;
    snprintf(buf, n, "%s", out);
}

/* The city answers with the all-cities models (which exist). */
static int city_falls_back(const tui_app *a, const tui_city *c)
{
    return c->id != 0 && !c->own_product && a->cities[a->n_cities - 1].own_product;
}

static int no_models_at_all(const tui_app *a)
{
    for (int i = 0; i < a->n_cities; i++)
        if (a->cities[i].own_product || a->cities[i].own_category)
            return 0;
    return 1;
}

static void draw_title(tui_app *a, tui_canvas *c)
{
    tui_city *city = &a->cities[a->ci];
    tui_fill(c, 0, 0, c->cols, L' ', TUI_ROLE_TITLE);
    int x = tui_text(c, 0, 1, c->cols - 2, "recoscope", TUI_ROLE_TITLE) + 2;
    tui_put(c, 0, x, c->g->vline, 1, TUI_ROLE_TITLE);
    x += 1;
    x += tui_printf(c, 0, x + 1, c->cols - x - 2, TUI_ROLE_TITLE, "city: %s", city->name) + 1;
    if (no_models_at_all(a)) {
        x += 2 + tui_text(c, 0, x + 1, c->cols - x - 2, "(no models yet)", TUI_ROLE_TITLE);
    } else if (city_falls_back(a, city)) {
        x += 1;
        tui_put(c, 0, x, c->g->fallback, 1, TUI_ROLE_TITLE);
        x += 2 + tui_text(c, 0, x + 2, c->cols - x - 3, "models of all cities", TUI_ROLE_TITLE);
    }
    char right[96];
    snprintf(right, sizeof right, "k=%d  mask p%g-p%g  ?:help ", a->k, a->min_pct, a->max_pct);
    int rw = (int)strlen(right);
    if (x + 2 + rw <= c->cols)
        tui_text(c, 0, c->cols - rw, rw, right, TUI_ROLE_TITLE);
}

static void draw_product_line(tui_app *a, tui_canvas *c, int y)
{
    rs_recommender *r = tui_rec(a);
    rs_rec_product info;
    if (!r || a->product < 0 || rs_rec_product_info(r, a->product, &info, NULL) != RS_OK) {
        if (a->cities[a->ci].loading)
            tui_printf(c, y, 1, c->cols - 2, TUI_ROLE_DIM, "loading %s...", a->cities[a->ci].name);
        else
            tui_text(c, y, 1, c->cols - 2,
                     r ? "the catalogue is empty: run `recoscope import` (or `recoscope demo`)"
                       : "cannot read the catalogue",
                     TUI_ROLE_WARN);
        return;
    }
    char cnt[32], tail[160];
    tui_fmt_count(info.popularity, cnt, sizeof cnt);
    snprintf(tail, sizeof tail, "  %s receipts  p%.0f", cnt, info.percentile);
    int tw = (int)strlen(tail);
    int x = 1;
    tui_put(c, y, x, c->g->active, 1, TUI_ROLE_HEADER);
    x += 2;
    int room = c->cols - x - tw - 1;
    int catw = room / 3 < 24 ? room / 3 : 24;
    x += tui_text(c, y, x, room - catw - 2, info.name, TUI_ROLE_HEADER) + 2;
    tui_text(c, y, x, c->cols - tw - 1 - x, info.category, TUI_ROLE_DIM);
    tui_text_right(c, y, c->cols - tw - 1, tw, tail, TUI_ROLE_DIM);
}

static void draw_basket_line(tui_app *a, tui_canvas *c, int y)
{
    rs_recommender *r = tui_rec(a);
    int x = 1;
    tui_put(c, y, x, c->g->basket, 1, TUI_ROLE_MARK);
    x += 2;
    x += tui_printf(c, y, x, c->cols - x - 1, TUI_ROLE_MARK, "basket (%d):", a->n_basket);
    for (int i = 0; i < a->n_basket && x < c->cols - 2; i++) {
        rs_rec_product info;
        if (!r || rs_rec_product_info(r, a->basket[i], &info, NULL) != RS_OK)
            continue;
        x += 1;
        int w = tui_text(c, y, x, c->cols - x - 1 < 24 ? c->cols - x - 1 : 24, info.name,
                         TUI_ROLE_NORMAL);
        x += w;
        if (i + 1 < a->n_basket && x < c->cols - 2)
            x += tui_text(c, y, x, 1, ",", TUI_ROLE_DIM);
    }
}

/* The pane's header: title, rows/k and what the score is; on the right the fallback
 * mark and the scroll position. */
/* The trust signal of a list in form 0 (longest) .. 3 (shortest): the scorer serving
 * it, its HR@10 beside popularity's and on which part of the data.  *worse is set when
 * the scorer does not beat popularity.  Returns 0, or -1 when there is no such form. */
static int trust_text(const rs_browse_trust *t, int form, char *buf, size_t n, int *worse)
{
    char hr[16], pop[16];
    const char *split = form == 0 ? t->split : strcmp(t->split, "held-out") == 0 ? "held-out"
                                                                                 : "valid.";
    *worse = isfinite(t->hr) && isfinite(t->pop_hr) && !(t->hr > t->pop_hr);
    /* 0.166, or .166 in the short forms */
    snprintf(hr, sizeof hr, "%.3f", t->hr);
    snprintf(pop, sizeof pop, "%.3f", t->pop_hr);
    const char *h = form > 0 && hr[0] == '0' ? hr + 1 : hr, *p = form > 0 && pop[0] == '0' ? pop + 1 : pop;
    const char *cmp = t->hr > t->pop_hr ? ">" : t->hr < t->pop_hr ? "<" : "=";
    if (!isfinite(t->hr)) {
        static const char *const F[] = {"%s: no HR@10 yet (`recoscope eval`)", "%s: no HR@10",
                                        "%s", NULL};
        return F[form] ? (snprintf(buf, n, F[form], t->scorer), 0) : -1;
    }
    if (!isfinite(t->pop_hr)) {
        switch (form) {
        case 0:
            snprintf(buf, n, "%s: HR@10 %s (%s%s), popularity not measured", t->scorer, h, split,
                     t->stale ? "; the evaluation is stale" : "");
            break;
        case 1: snprintf(buf, n, "%s HR@10 %s (%s), pop n/a", t->scorer, h, split); break;
        case 2: snprintf(buf, n, "HR@10 %s %s, pop n/a", h, split); break;
        default: return -1;
        }
        return 0;
    }
    switch (form) {
    case 0:
        snprintf(buf, n, "%s: HR@10 %s %s popularity %s (%s)%s", t->scorer, h, cmp, p, split,
                 *worse ? ": no better than popularity" : "");
        break;
    case 1: snprintf(buf, n, "%s HR@10 %s %s pop %s (%s)", t->scorer, h, cmp, p, split); break;
    case 2: snprintf(buf, n, "HR@10 %s %s pop %s %s", h, cmp, p, split); break;
    case 3: /* validation stays labelled */
        snprintf(buf, n, "%sHR@10 %s pop", strcmp(t->split, "held-out") == 0 ? "" : "valid. ", cmp);
        break;
    default: return -1;
    }
    return 0;
}

/* The pane's header: title, rows of k and its state, then the trust signal (the scorer
 * serving it, its HR@10 beside popularity's) in the longest form that fits, then what
 * the score is when there is room; on the right the fallback mark and the scroll
 * position. */
static void draw_pane_header(tui_app *a, tui_canvas *c, int pane, const rs_rec_list *l, int y,
                             int x, int w, int rows, tui_role hr)
{
    const tui_pane *pd = &TUI_PANES[pane];
    tui_fill(c, y, x, w, L' ', hr);
    /* right side first (fallback mark, scroll position), the title gets the rest */
    char right[96] = "";
    int fallback = 0, ok = l && l->status == RS_OK;
    if (ok) {
        fallback = a->cities[a->ci].id != 0 && l->model_city == 0;
        if (l->n > rows && rows > 0) {
            int t = a->panes[pane].top < 0 ? 0 : a->panes[pane].top;
            snprintf(right, sizeof right, "%d-%d/%d ", t + 1, t + rows < l->n ? t + rows : l->n,
                     l->n);
        }
    }
    int rw = (int)strlen(right) + (fallback ? 6 : 0);
    int end = x + w - rw - 1; /* the left part stops before this column */
    int lx = x + 1 + tui_text(c, y, x + 1, end - x - 1, pd->title, hr);
    if (ok) {
        /* rows the popularity mask hid, and the key that lets them in */
        char head[160], masked[64] = "";
        int mlo = a->masked_lo[pane], mhi = a->masked_hi[pane];
        if (mlo || mhi)
            snprintf(masked, sizeof masked, " +%d masked (%s)", mlo + mhi,
                     mlo && mhi ? "[ }" : mlo ? "[" : "}");
        snprintf(head, sizeof head, "  %d/%d%s%s", l->n, a->k_used,
                 pane == PANE_SYN && a->any_category ? " any category" : "", masked);
        lx += tui_text(c, y, lx, end - lx, head, hr);
        const rs_browse_trust *t = tui_pane_trust(a, pane);
        char tt[256];
        int worse = 0;
        for (int form = 0; t && form < 4; form++) {
            if (trust_text(t, form, tt, sizeof tt, &worse) != 0)
                break;
            if (lx + 2 + (int)strlen(tt) <= end) {
                lx += 2 + tui_text(c, y, lx + 2, end - lx - 2, tt, worse ? TUI_ROLE_WARN : hr);
                break;
            }
        }
        const char *what = pd->note;
        if (pane == PANE_CAT && a->cat_eligible > 0)
            what = c->g->utf8 ? "\u00d7 average weight" : "x average weight";
        if (lx + 4 + (int)strlen(what) <= end)
            tui_printf(c, y, lx + 2, end - lx - 2, hr, "(%s)", what);
    }
    int rx = x + w - rw;
    if (fallback) { /* the model of all cities answers (the title bar says so in full) */
        tui_put(c, y, rx, c->g->fallback, 1, hr);
        tui_text(c, y, rx + 2, 3, "all", hr);
        rx += 6;
    }
    tui_text(c, y, rx, (int)strlen(right), right, hr);
}

/* Why a list could not answer (status != RS_OK). */
enum { WHY_UNTRAINED, WHY_BROKEN, WHY_OUTSIDE };

static int list_why(const rs_rec_list *l)
{
    if (l->model_id > 0)
        return WHY_OUTSIDE; /* the model loaded: the query is outside it (unsold, ...) */
    return l->status == RS_EUSAGE ? WHY_UNTRAINED : WHY_BROKEN;
}

#define WHY_MAX_LINES 4 /* of a wrapped reason */

/* Rows (below the header) a pane wants for a list that could not answer. */
static int why_rows(const tui_app *a, const tui_canvas *c, const rs_rec_list *l, int w)
{
    if (list_why(l) == WHY_UNTRAINED)
        return 2;
    char msg[sizeof l->message];
    snprintf(msg, sizeof msg, "%s", l->message);
    tui_short_paths(a, msg);
    int n = tui_wrap_count(msg, w - 2, c->g->utf8);
    n = n < 1 ? 1 : n > WHY_MAX_LINES ? WHY_MAX_LINES : n;
    return list_why(l) == WHY_BROKEN ? n + 1 : n; /* + what to do */
}

/* A list that could not answer: a model never trained (and how to train one), a model
 * that is registered but cannot be used (the loader's reason in full, wrapped, and
 * what to do), or a model that does not hold the query (the reason alone). */
static void draw_why(const tui_app *a, tui_canvas *c, int pane, const rs_rec_list *l, int ry,
                     int x, int w, int rows)
{
    char msg[sizeof l->message];
    snprintf(msg, sizeof msg, "%s", l->message);
    tui_short_paths(a, msg);
    int n;
    switch (list_why(l)) {
    case WHY_UNTRAINED:
        tui_printf(c, ry, x + 1, w - 2, TUI_ROLE_WARN,
                   "no %s model trained yet: run `recoscope train`", TUI_PANES[pane].model);
        if (rows > 1 && l->message[0])
            tui_text(c, ry + 1, x + 1, w - 2, l->message, TUI_ROLE_DIM);
        break;
    case WHY_BROKEN:
        n = tui_text_wrap(c, ry, x + 1, w - 2, rows > 1 ? rows - 1 : 1,
                          msg[0] ? msg : "the model cannot be used",
                          TUI_ROLE_ERROR);
        if (n < rows)
            tui_text(c, ry + n, x + 1, w - 2,
                     "train again (`recoscope train`) or restore the file, then r reloads",
                     TUI_ROLE_DIM);
        break;
    default:
        tui_text_wrap(c, ry, x + 1, w - 2, rows, msg, TUI_ROLE_WARN);
        break;
    }
}

/* The first rows of a pane that has no rows to show: why.  Returns 1 when it drew. */
static int draw_pane_empty(tui_app *a, tui_canvas *c, int pane, const rs_rec_list *l, int ry,
                           int x, int w, int rows)
{
    if (a->product < 0) {
        tui_text(c, ry, x + 1, w - 2, "no product to show", TUI_ROLE_DIM);
        return 1;
    }
    if (a->rec_err[0]) {
        tui_text(c, ry, x + 1, w - 2, a->rec_err,
                 a->cities[a->ci].loading ? TUI_ROLE_DIM : TUI_ROLE_ERROR);
        return 1;
    }
    if (!l)
        return 1;
    if (l->status != RS_OK) {
        draw_why(a, c, pane, l, ry, x, w, rows);
        return 1;
    }
    if (l->n > 0)
        return 0;
    if (l->message[0])
        tui_text(c, ry, x + 1, w - 2, l->message, TUI_ROLE_DIM);
    else if (pane == PANE_SYN && !a->any_category)
        tui_printf(c, ry, x + 1, w - 2, TUI_ROLE_DIM,
                   "no other product of its category inside the mask p%g-p%g "
                   "(a: any category; [ ] { } move the mask)", a->min_pct, a->max_pct);
    else
        tui_printf(c, ry, x + 1, w - 2, TUI_ROLE_DIM,
                   "nothing inside the popularity mask p%g-p%g ([ ] { } move it)",
                   a->min_pct, a->max_pct);
    return 1;
}

/* One pane at (y, x) of size h x w. */
static void draw_pane(tui_app *a, tui_canvas *c, int pane, int y, int x, int h, int w)
{
    if (h < 1 || w < 10)
        return;
    const tui_pane *pd = &TUI_PANES[pane];
    int active = a->pane == pane && !a->ov;
    tui_role hr = active ? TUI_ROLE_HEADER_ACTIVE : TUI_ROLE_HEADER;
    const rs_rec_list *l = tui_rows(a, pane);
    tui_list *lst = &a->panes[pane];
    int rows = h - 1;
    if (l && l->status == RS_OK && rows > 0)
        tui_list_show(lst, l->n, rows); /* keep the highlighted row in view */
    draw_pane_header(a, c, pane, l, y, x, w, rows, hr);
    if (h < 2)
        return;
    int ry = y + 1;
    if (draw_pane_empty(a, c, pane, l, ry, x, w, rows))
        return;
    /* columns: rank name category bar score pct */
    int catw = w >= 110 ? 24 : (w >= 90 ? 18 : (w >= 70 ? 14 : 9));
    int barw = w >= 110 ? 16 : (w >= 70 ? 10 : 6);
    int scorew = 7, pctw = 5, rankw = 4;
    int namew = w - rankw - catw - barw - scorew - pctw - 4;
    if (namew < 8) {
        catw = 0;
        namew = w - rankw - barw - scorew - pctw - 3;
    }
    /* The bars compare the rows of this list: the scale spans the whole list (so
     * scrolling never rescales it), the strongest row gets a full bar and the bottom
     * of the scale a short one, never none; the number beside it stays the real score.
     *   complements: in.out scores have no natural zero and may be negative: the
     *                scale is the list's min..max;
     *   synonyms:    cosines: 0..max (bars proportional to the cosine), down to the
     *                list's min when a cosine is negative;
     *   categories:  softmax weights: 0..max, bars proportional to the weight. */
    double lo = 0, hi = 0;
    for (int i = 0; i < l->n; i++) {
        double s = l->rows[i].score;
        if (i == 0 || s < lo)
            lo = s;
        if (i == 0 || s > hi)
            hi = s;
    }
    if (pd->scale == TUI_SCALE_ZERO || (pd->scale == TUI_SCALE_ZERO_POSITIVE && lo > 0))
        lo = 0;
    /* Category weights are a softmax over every eligible category (~1/N each): shown
     * as a multiple of the average weight 1/N, which reads "3.4x as likely as an
     * average category"; explain (e) keeps the weight itself. */
    int n_elig = pane == PANE_CAT ? a->cat_eligible : 0;
    for (int i = 0; i < rows && lst->top + i < l->n; i++) {
        int idx = lst->top + i;
        const rs_rec_row *row = &l->rows[idx];
        int yy = ry + i;
        int selected = active && idx == lst->sel;
        tui_role base = selected ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL;
        if (selected)
            tui_fill(c, yy, x, w, L' ', TUI_ROLE_SELECTED);
        int cx = x;
        tui_printf(c, yy, cx, rankw - 1, selected ? base : TUI_ROLE_DIM, "%3d", idx + 1);
        cx += rankw;
        tui_text(c, yy, cx, namew, row->name, base);
        cx += namew + 1;
        if (catw > 0) {
            /* rows grouped by category: repeats are dimmed */
            int repeat = pd->grouped && idx > 0 &&
                         l->rows[idx - 1].category_index == row->category_index;
            tui_text(c, yy, cx, catw, row->category,
                     selected ? base : (repeat ? TUI_ROLE_DIM : TUI_ROLE_NORMAL));
            cx += catw + 1;
        }
        tui_hbar(c, yy, cx, barw, tui_bar_fraction(row->score, lo, hi),
                 selected ? base : TUI_ROLE_BAR);
        cx += barw;
        if (n_elig > 0) {
            double x = row->score * n_elig;
            tui_printf(c, yy, cx, scorew, base, x < 99.995 ? "%6.2f%s" : "%6.1f%s", x,
                       c->g->utf8 ? "\u00d7" : "x");
        } else {
            tui_printf(c, yy, cx, scorew, base, "%7.3f", row->score);
        }
        cx += scorew + 1;
        tui_printf(c, yy, cx, pctw, selected ? base : TUI_ROLE_DIM, "p%.0f", row->percentile);
    }
}

/* Log-scaled bin of a popularity count v >= 1 among nb bins up to max. */
static int hist_bin(int64_t v, int64_t max, int nb)
{
    if (v <= 1 || max <= 1)
        return 0;
    int b = (int)(log((double)v) / log((double)max) * (nb - 1) + 0.5);
    return b < 0 ? 0 : (b >= nb ? nb - 1 : b);
}

/* Each product's log bin for (recommender, bin count): cached, since 100k logs a frame
 * would eat a fifth of the frame budget.  0, or -1 when out of memory. */
static int hist_cache(tui_app *a, const rs_recommender *r, int nb)
{
    if (a->hist_rec == r && a->hist_nb == nb && a->hist_bin_of)
        return 0;
    const int64_t *pop = rs_rec_popularity_counts(r);
    int32_t np = rs_rec_n_products(r);
    free(a->hist_bin_of);
    a->hist_bin_of = malloc((size_t)(np > 0 ? np : 1) * sizeof *a->hist_bin_of);
    if (!a->hist_bin_of)
        return -1;
    a->hist_max = a->hist_sold = 0;
    for (int32_t p = 0; p < np; p++)
        if (pop[p] > 0) {
            a->hist_sold++;
            if (pop[p] > a->hist_max)
                a->hist_max = pop[p];
        }
    for (int32_t p = 0; p < np; p++)
        a->hist_bin_of[p] = pop[p] > 0 ? (int16_t)hist_bin(pop[p], a->hist_max, nb) : -1;
    a->hist_rec = r;
    a->hist_nb = nb;
    return 0;
}

/* The marker row (recommendations, cut-offs, the current product on top) and the axis
 * row (receipts at the ends and the middle, the legend). */
static void draw_hist_marks(tui_app *a, tui_canvas *c, const rs_recommender *r, int my, int nb,
                            int64_t lo_count, int64_t hi_count)
{
    const int64_t *pop = rs_rec_popularity_counts(r);
    int32_t np = rs_rec_n_products(r);
    int64_t max = a->hist_max;
    tui_compute(a);
    if (a->product >= 0 && !a->rec_err[0]) {
        for (int k = 0; k < NPANES; k++) {
            if (TUI_PANES[k].of_categories)
                continue; /* its rows are categories, not products */
            const rs_rec_list *l = &a->res->lists[k];
            for (int i = 0; i < l->n; i++)
                if (l->rows[i].popularity > 0)
                    tui_put(c, my, 1 + hist_bin(l->rows[i].popularity, max, nb), c->g->rec, 1,
                            TUI_ROLE_REC);
        }
    }
    if (lo_count > 0)
        tui_put(c, my, 1 + hist_bin(lo_count, max, nb), c->g->cut_lo, 1, TUI_ROLE_CUTOFF);
    if (hi_count > 0)
        tui_put(c, my, 1 + hist_bin(hi_count, max, nb), c->g->cut_hi, 1, TUI_ROLE_CUTOFF);
    int cur_ok = 0;
    if (a->product >= 0 && a->product < np && pop[a->product] > 0) {
        tui_put(c, my, 1 + hist_bin(pop[a->product], max, nb), c->g->current, 1,
                TUI_ROLE_CURRENT);
        cur_ok = 1;
    }
    int ay = my + 1;
    char lab[32];
    tui_text(c, ay, 1, 8, "1", TUI_ROLE_DIM);
    tui_fmt_count(max, lab, sizeof lab);
    tui_text_right(c, ay, c->cols - 12, 11, lab, TUI_ROLE_DIM);
    tui_fmt_count((int64_t)(exp(log((double)max) / 2) + 0.5), lab, sizeof lab);
    tui_text(c, ay, 1 + nb / 2 - (int)strlen(lab) / 2, 10, lab, TUI_ROLE_DIM);
    int lx = 4;
    wchar_t legend[4] = {c->g->current, c->g->rec, c->g->cut_lo, c->g->cut_hi};
    tui_role lroles[4] = {TUI_ROLE_CURRENT, TUI_ROLE_REC, TUI_ROLE_CUTOFF, TUI_ROLE_CUTOFF};
    const char *ltext[4] = {cur_ok ? "current" : "current (unsold here)", "recs", "", "mask"};
    int limit = 1 + nb / 2 - 8;
    for (int i = 0; i < 4; i++) {
        int need = 2 + (int)strlen(ltext[i]);
        if (lx + need >= limit)
            break;
        tui_put(c, ay, lx, legend[i], 1, lroles[i]);
        lx += 1;
        if (ltext[i][0])
            lx += 1 + tui_text(c, ay, lx + 1, limit - lx - 1, ltext[i], TUI_ROLE_DIM) + 1;
    }
}

static void draw_histogram(tui_app *a, tui_canvas *c, int y, int h)
{
    rs_recommender *r = tui_rec(a);
    if (!r || h < 4)
        return;
    int nb = c->cols - 2;
    if (nb < 4)
        return;
    const int64_t *pop = rs_rec_popularity_counts(r);
    const double *pct = rs_rec_popularity_percentiles(r);
    int32_t np = rs_rec_n_products(r);
    if (nb > 32000)
        nb = 32000;
    if (hist_cache(a, r, nb) != 0)
        return;
    int64_t sold = a->hist_sold;
    int64_t lo_count = -1, hi_count = -1;
    char cnt[32], cnt2[32], head[256];
    tui_fmt_count(sold, cnt, sizeof cnt);
    tui_fmt_count(np - sold, cnt2, sizeof cnt2);
    tui_fill(c, y, 0, c->cols, L' ', TUI_ROLE_HEADER);
    snprintf(head, sizeof head, "Popularity in %s: %s products sold (%s not), receipts on log bins",
             a->cities[a->ci].name, cnt, cnt2);
    tui_text(c, y, 1, c->cols - 2, head, TUI_ROLE_HEADER);
    if (sold == 0) {
        tui_text(c, y + 1, 1, c->cols - 2, "no receipts in this city yet", TUI_ROLE_DIM);
        return;
    }
    int64_t *bins = calloc((size_t)nb, sizeof *bins);
    int64_t *kept = calloc((size_t)nb, sizeof *kept);
    if (!bins || !kept) {
        free(bins);
        free(kept);
        return;
    }
    for (int32_t p = 0; p < np; p++) {
        int b = a->hist_bin_of[p];
        if (b < 0)
            continue;
        bins[b]++;
        /* the mask in counts: the least popular product kept, the most popular kept */
        if (pct[p] >= a->min_pct && pct[p] <= a->max_pct) {
            kept[b]++;
            if (lo_count < 0 || pop[p] < lo_count)
                lo_count = pop[p];
            if (pop[p] > hi_count)
                hi_count = pop[p];
        }
    }
    int64_t top = 0;
    for (int b = 0; b < nb; b++)
        if (bins[b] > top)
            top = bins[b];
    int bh = h - 3;
    for (int b = 0; b < nb; b++) {
        int e8 = top > 0 ? (int)((double)bins[b] / (double)top * bh * 8 + 0.5) : 0;
        if (bins[b] > 0 && e8 == 0)
            e8 = 1;
        int off = bins[b] > 0 && kept[b] == 0;
        for (int i = 0; i < bh; i++) {
            int level = e8 - (bh - 1 - i) * 8; /* eighths in this cell */
            if (level <= 0)
                continue;
            wchar_t ch = off ? c->g->bar_off : c->g->vbar[level > 8 ? 8 : level];
            tui_put(c, y + 1 + i, 1 + b, ch, 1, off ? TUI_ROLE_BAR_OFF : TUI_ROLE_BAR);
        }
    }
    free(bins);
    free(kept);
    draw_hist_marks(a, c, r, y + 1 + bh, nb, lo_count, hi_count);
}

/* Bottom row: the message, else the key hints (keys in KEY role). */
static void draw_status(tui_app *a, tui_canvas *c)
{
    int y = c->rows - 1;
    tui_fill(c, y, 0, c->cols, L' ', TUI_ROLE_STATUS);
    if (a->ov && a->ov->status) {
        a->ov->status(a, c);
        return;
    }
    int x = 1;
    if (a->models_changed) {
        x += tui_text(c, y, x, c->cols - 2, "models changed: r reloads ", TUI_ROLE_WARN) + 1;
    }
    if (a->msg[0]) {
        /* a message longer than the row takes the row above too (over the histogram's
         * axis) rather than lose its end: the reason is usually there */
        int w = c->cols - x - 1;
        if (tui_wrap_count(a->msg, w, c->g->utf8) > 1 && c->rows > 2) {
            tui_fill(c, y - 1, 0, c->cols, L' ', TUI_ROLE_STATUS);
            tui_text_wrap(c, y - 1, x, w, 2, a->msg, a->msg_role);
        } else {
            tui_text(c, y, x, w, a->msg, a->msg_role);
        }
        return;
    }
    static const char *const HINTS[][2] = {
        {"?", "help"},  {"q", "quit"},  {"/", "search"},  {"c", "city"},    {"Tab", "pane"},
        {"Enter", "follow"}, {"Bksp", "back"}, {"b", "basket"}, {"m", "metrics"},
        {"e", "explain"}, {"x", "export"}};
    for (size_t i = 0; i < sizeof HINTS / sizeof HINTS[0]; i++) {
        int need = (int)(strlen(HINTS[i][0]) + strlen(HINTS[i][1])) + 2;
        if (x + need > c->cols)
            break;
        x += tui_text(c, y, x, c->cols - x, HINTS[i][0], TUI_ROLE_KEY);
        x += tui_text(c, y, x, 1, ":", TUI_ROLE_STATUS);
        x += tui_text(c, y, x, c->cols - x, HINTS[i][1], TUI_ROLE_STATUS) + 1;
    }
}

/* --------------------------------------------------------------- views ---- */

void tui_view_area(const tui_canvas *c, int *y, int *x, int *h, int *w)
{
    *y = 1;
    *h = c->rows - 2;
    *w = c->cols - 2 > 110 ? 110 : c->cols - 2;
    *x = (c->cols - *w) / 2;
}

void tui_view_clear(tui_canvas *c)
{
    for (int yy = 1; yy < c->rows - 1; yy++)
        tui_fill(c, yy, 0, c->cols, L' ', TUI_ROLE_NORMAL);
}

static void draw_too_small(tui_canvas *c)
{
    const char *l1 = "terminal too small";
    char l2[64];
    snprintf(l2, sizeof l2, "%dx%d, needs %dx%d", c->cols, c->rows, TUI_MIN_COLS, TUI_MIN_ROWS);
    int y = c->rows / 2 - 1;
    if (y < 0)
        y = 0;
    int x1 = (c->cols - (int)strlen(l1)) / 2, x2 = (c->cols - (int)strlen(l2)) / 2;
    tui_text(c, y, x1 < 0 ? 0 : x1, c->cols, l1, TUI_ROLE_WARN);
    tui_text(c, y + 1, x2 < 0 ? 0 : x2, c->cols, l2, TUI_ROLE_NORMAL);
    if (c->rows > 3)
        tui_text(c, y + 2, (c->cols - 7) / 2 < 0 ? 0 : (c->cols - 7) / 2, c->cols, "q quits",
                 TUI_ROLE_DIM);
}

/* Wide screens (issue 17): from TUI_WIDE_COLS columns the lists ask for as many rows
 * as their panes show (at least k); from TUI_SIDE_COLS the panes stand side by side,
 * each the full height.  Below, the 80x24 layout with k rows.  The row counts follow
 * the layout of tui_draw (title, product line, basket line, histogram, status). */
#define TUI_WIDE_COLS 120
#define TUI_SIDE_COLS 160

static int hist_height(const tui_canvas *c)
{
    return c->rows >= 40 ? 9 : (c->rows >= 30 ? 7 : 5);
}

static int wide_rows(const tui_app *a, const tui_canvas *c)
{
    if (c->cols < TUI_WIDE_COLS)
        return 0;
    int area = c->rows - 1 - hist_height(c) - (a->n_basket > 0 ? 3 : 2);
    int rows = c->cols >= TUI_SIDE_COLS ? area - 1 : area / 3 - 1;
    return rows > 0 ? rows : 0;
}

void tui_draw(tui_app *a, tui_canvas *c)
{
    tui_canvas_clear(c);
    a->utf8 = c->g->utf8;
    a->cols = c->cols;
    if (c->rows < TUI_MIN_ROWS || c->cols < TUI_MIN_COLS) {
        draw_too_small(c);
        return;
    }
    int kr = wide_rows(a, c);
    if (kr != a->k_rows) { /* the screen changed: the lists fill what it shows */
        a->k_rows = kr;
        a->dirty = 1;
    }
    tui_compute(a);
    draw_title(a, c);
    draw_product_line(a, c, 1);
    int top = 2;
    if (a->n_basket > 0)
        draw_basket_line(a, c, top++);
    int hist_h = hist_height(c);
    int hist_y = c->rows - 1 - hist_h;
    int area = hist_y - top;
    if (c->cols >= TUI_SIDE_COLS) {
        int w = (c->cols - 2) / 3;
        for (int p = 0; p < NPANES; p++) {
            int px = p * (w + 1);
            int pw = p == NPANES - 1 ? c->cols - px : w;
            draw_pane(a, c, p, top, px, area, pw);
            if (p < NPANES - 1)
                for (int yy = top; yy < top + area; yy++)
                    tui_put(c, yy, px + w, c->g->vline, 1, TUI_ROLE_BORDER);
        }
    } else {
        /* a third each; rows a short list does not need go to the others */
        int h[NPANES], need[NPANES], pool = 0;
        for (int p = 0; p < NPANES; p++) {
            const rs_rec_list *l = tui_rows(a, p);
            need[p] = 1 + (!l ? 2 : l->status != RS_OK ? why_rows(a, c, l, c->cols)
                                   : l->n > 0 ? l->n : 2);
            h[p] = p == NPANES - 1 ? area - 2 * (area / 3) : area / 3;
            if (need[p] < h[p]) {
                pool += h[p] - need[p];
                h[p] = need[p];
            }
        }
        static const int GIVE[NPANES] = {PANE_COMP, PANE_SYN, PANE_CAT};
        for (int i = 0; i < NPANES && pool > 0; i++) {
            int p = GIVE[i], more = need[p] - h[p];
            if (more > pool)
                more = pool;
            if (more > 0) {
                h[p] += more;
                pool -= more;
            }
        }
        h[PANE_COMP] += pool;
        draw_pane(a, c, PANE_SYN, top, 0, h[0], c->cols);
        draw_pane(a, c, PANE_CAT, top + h[0], 0, h[1], c->cols);
        draw_pane(a, c, PANE_COMP, top + h[0] + h[1], 0, h[2], c->cols);
    }
    draw_histogram(a, c, hist_y, hist_h);

    if (a->ov && a->ov->draw)
        a->ov->draw(a, c);
    draw_status(a, c);
}

void tui_app_draw(tui_app *a, tui_canvas *c)
{
    tui_draw(a, c);
}
