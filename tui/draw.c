/* draw.c - every screen of the TUI, drawn into the canvas.
 *
 * Layout (80x24 is the design size; more rows give longer lists and a taller
 * histogram, 150+ columns put the three panes side by side):
 *   row 0       title: city (and whether its models fall back to all cities), k, mask
 *   row 1       the current product: name, category, receipts, percentile
 *   (row 2)     the basket, when there is one
 *   panes       Synonyms / Categories / Complements
 *   histogram   popularity of the city's products on log bins, marks and cut-offs
 *   last row    messages, else the most useful keys
 * Overlays (help, city picker, search, metrics, explain) draw in a box over the panes.
 */
#include "app.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sanitize.h"

static const char *const PANE_TITLES[NPANES] = {"Synonyms", "Categories", "Complements"};
static const char *const PANE_NOTES[NPANES] = {
    "substitutes, cosine", "also bought from, softmax weight",
    "bought with it, in.out score by category"};

/* "12,345" */
static void fmt_count(int64_t v, char *buf, size_t n)
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
    fmt_count(info.popularity, cnt, sizeof cnt);
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

/* One pane at (y, x) of size h x w. */
static void draw_pane(tui_app *a, tui_canvas *c, int pane, int y, int x, int h, int w)
{
    if (h < 1 || w < 10)
        return;
    int active = a->pane == pane && a->ov == OV_NONE;
    tui_role hr = active ? TUI_ROLE_HEADER_ACTIVE : TUI_ROLE_HEADER;
    tui_fill(c, y, x, w, L' ', hr);
    const rs_rec_list *l = tui_list(a, pane);
    int rows = h - 1;
    /* right side first (fallback mark, scroll position), the title gets the rest */
    char right[96] = "";
    int fallback = 0;
    if (l && l->status == RS_OK && rows > 0) {
        /* keep the highlighted row in view */
        int *sel = &a->sel[pane], *top = &a->top[pane];
        if (*sel < *top)
            *top = *sel;
        if (*sel >= *top + rows)
            *top = *sel - rows + 1;
        if (*top > l->n - rows)
            *top = l->n - rows > 0 ? l->n - rows : 0;
    }
    if (l && l->status == RS_OK) {
        fallback = a->cities[a->ci].id != 0 && l->model_city == 0;
        if (l->n > rows && rows > 0) {
            int t = a->top[pane] < 0 ? 0 : a->top[pane];
            snprintf(right, sizeof right, "%d-%d/%d ", t + 1, t + rows < l->n ? t + rows : l->n,
                     l->n);
        }
    }
    int rw = (int)strlen(right) + (fallback ? 13 : 0);
    int lx = x + 1 + tui_text(c, y, x + 1, w - 2 - rw, PANE_TITLES[pane], hr);
    if (l && l->status == RS_OK) {
        char note[200];
        const char *what = PANE_NOTES[pane];
        if (pane == PANE_CAT && a->cat_eligible > 0)
            what = c->g->utf8 ? "also bought from, \u00d7 average weight"
                              : "also bought from, x average weight";
        snprintf(note, sizeof note, "  %d/%d  %s%s", l->n, a->k, what,
                 pane != PANE_SYN ? "" : a->any_category ? ", any category" : ", same category");
        tui_text(c, y, lx, x + w - rw - 2 - lx, note, hr);
    }
    int rx = x + w - rw;
    if (fallback) {
        tui_put(c, y, rx, c->g->fallback, 1, hr);
        tui_text(c, y, rx + 2, 10, "all cities", hr);
        rx += 13;
    }
    tui_text(c, y, rx, (int)strlen(right), right, hr);
    if (h < 2)
        return;
    int ry = y + 1;
    if (a->product < 0) {
        tui_text(c, ry, x + 1, w - 2, "no product to show", TUI_ROLE_DIM);
        return;
    }
    if (a->rec_err[0]) {
        tui_text(c, ry, x + 1, w - 2, a->rec_err,
                 a->cities[a->ci].loading ? TUI_ROLE_DIM : TUI_ROLE_ERROR);
        return;
    }
    if (!l)
        return;
    if (l->status != RS_OK) {
        static const char *const what[NPANES] = {"product", "category", "product"};
        tui_printf(c, ry, x + 1, w - 2, TUI_ROLE_WARN,
                   "no %s model trained yet: run `recoscope train`", what[pane]);
        if (rows > 1 && l->message[0])
            tui_text(c, ry + 1, x + 1, w - 2, l->message, TUI_ROLE_DIM);
        return;
    }
    if (l->n == 0) {
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
        return;
    }
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
    if (pane == PANE_CAT || (pane == PANE_SYN && lo > 0))
        lo = 0;
    /* Category weights are a softmax over every eligible category (~1/N each): shown
     * as a multiple of the average weight 1/N, which reads "3.4x as likely as an
     * average category"; explain (e) keeps the weight itself. */
    int n_elig = pane == PANE_CAT ? a->cat_eligible : 0;
    if (active)
        a->page = rows;
    int *sel = &a->sel[pane], *top = &a->top[pane];
    for (int i = 0; i < rows && *top + i < l->n; i++) {
        int idx = *top + i;
        const rs_rec_row *row = &l->rows[idx];
        int yy = ry + i;
        int selected = active && idx == *sel;
        tui_role base = selected ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL;
        if (selected)
            tui_fill(c, yy, x, w, L' ', TUI_ROLE_SELECTED);
        int cx = x;
        tui_printf(c, yy, cx, rankw - 1, selected ? base : TUI_ROLE_DIM, "%3d", idx + 1);
        cx += rankw;
        tui_text(c, yy, cx, namew, row->name, base);
        cx += namew + 1;
        if (catw > 0) {
            /* complements are grouped by category: repeats are dimmed */
            int repeat = pane == PANE_COMP && idx > 0 &&
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
    /* bins depend on the recommender and the width only: cached (100k logs a frame
     * would eat a fifth of the frame budget) */
    if (a->hist_rec != r || a->hist_nb != nb || !a->hist_bin_of) {
        free(a->hist_bin_of);
        a->hist_bin_of = malloc((size_t)(np > 0 ? np : 1) * sizeof *a->hist_bin_of);
        if (!a->hist_bin_of)
            return;
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
    }
    int64_t max = a->hist_max, sold = a->hist_sold;
    int64_t lo_count = -1, hi_count = -1;
    char cnt[32], cnt2[32], head[256];
    fmt_count(sold, cnt, sizeof cnt);
    fmt_count(np - sold, cnt2, sizeof cnt2);
    tui_fill(c, y, 0, c->cols, L' ', TUI_ROLE_HEADER);
    snprintf(head, sizeof head, "Popularity in %s: %s products sold (%s not), receipts on log bins",
             a->cities[a->ci].name, cnt, cnt2);
    int hx = 1 + tui_text(c, y, 1, c->cols - 2, head, TUI_ROLE_HEADER);
    if (sold == 0) {
        tui_text(c, y + 1, 1, c->cols - 2, "no receipts in this city yet", TUI_ROLE_DIM);
        return;
    }
    (void)hx;
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
    /* marker row: recommendations, cut-offs, then the current product on top */
    int my = y + 1 + bh;
    tui_compute(a);
    if (a->product >= 0 && !a->rec_err[0]) {
        for (int k = 0; k < NPANES; k++) {
            if (k == PANE_CAT)
                continue;
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
    /* axis row: receipts at the ends and the middle, then the legend */
    int ay = my + 1;
    char lab[32];
    tui_text(c, ay, 1, 8, "1", TUI_ROLE_DIM);
    fmt_count(max, lab, sizeof lab);
    tui_text_right(c, ay, c->cols - 12, 11, lab, TUI_ROLE_DIM);
    fmt_count((int64_t)(exp(log((double)max) / 2) + 0.5), lab, sizeof lab);
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
    free(bins);
    free(kept);
}

/* Bottom row: the message, else the key hints (keys in KEY role). */
static void draw_status(tui_app *a, tui_canvas *c)
{
    int y = c->rows - 1;
    tui_fill(c, y, 0, c->cols, L' ', TUI_ROLE_STATUS);
    if (a->ov == OV_EXPORT) {
        int x = tui_text(c, y, 0, c->cols, "export to (.json or .csv; Esc cancels): ",
                         TUI_ROLE_STATUS);
        tui_fill(c, y, x, c->cols - x, L' ', TUI_ROLE_INPUT);
        tui_text(c, y, x, c->cols - x - 1, a->input, TUI_ROLE_INPUT);
        return;
    }
    int x = 1;
    if (a->models_changed) {
        x += tui_text(c, y, x, c->cols - 2, "models changed: r reloads ", TUI_ROLE_WARN) + 1;
    }
    if (a->msg[0]) {
        tui_text(c, y, x, c->cols - x - 1, a->msg, a->msg_role);
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

/* ------------------------------------------------------------ overlays ---- */

static void draw_text_overlay(tui_app *a, tui_canvas *c, int y, int x, int h, int w)
{
    tui_box(c, y, x, h, w, a->text.title, TUI_ROLE_BORDER);
    int rows = h - 2;
    a->page = rows;
    int max = a->text.n - rows;
    if (max < 0)
        max = 0;
    if (a->ov_top > max)
        a->ov_top = max;
    for (int i = 0; i < rows && a->ov_top + i < a->text.n; i++) {
        const tui_line *ln = &a->text.v[a->ov_top + i];
        for (int j = 0; j < ln->n; j++) {
            int sx = x + 2 + ln->sp[j].x;
            int limit = x + w - 2 - sx;
            /* a span stops where the next one starts */
            if (j + 1 < ln->n && x + 2 + ln->sp[j + 1].x - 1 - sx < limit)
                limit = x + 2 + ln->sp[j + 1].x - 1 - sx;
            tui_text(c, y + 1 + i, sx, limit, ln->sp[j].s, ln->sp[j].role);
        }
    }
    char foot[64];
    if (a->text.n > rows)
        snprintf(foot, sizeof foot, " %d-%d of %d  j/k PgUp/PgDn  q:close ", a->ov_top + 1,
                 a->ov_top + rows, a->text.n);
    else
        snprintf(foot, sizeof foot, " q:close ");
    int fw = (int)strlen(foot);
    if (fw < w - 4)
        tui_text(c, y + h - 1, x + w - fw - 2, fw, foot, TUI_ROLE_BORDER);
}

static void draw_city_overlay(tui_app *a, tui_canvas *c, int y, int x, int h, int w)
{
    tui_box(c, y, x, h, w, "Cities (Enter picks, q closes)", TUI_ROLE_BORDER);
    int rows = h - 3;
    tui_printf(c, y + 1, x + 2, w - 4, TUI_ROLE_HEADER, "%-30s %12s  %s", "city", "receipts",
               "models");
    a->page = rows;
    if (a->ov_sel < a->ov_top)
        a->ov_top = a->ov_sel;
    if (a->ov_sel >= a->ov_top + rows)
        a->ov_top = a->ov_sel - rows + 1;
    for (int i = 0; i < rows && a->ov_top + i < a->n_cities; i++) {
        int idx = a->ov_top + i;
        tui_city *city = &a->cities[idx];
        int yy = y + 2 + i;
        int selected = idx == a->ov_sel;
        tui_role base = selected ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL;
        if (selected)
            tui_fill(c, yy, x + 1, w - 2, L' ', TUI_ROLE_SELECTED);
        if (idx == a->ci)
            tui_put(c, yy, x + 1, c->g->active, 1, selected ? base : TUI_ROLE_MARK);
        tui_text(c, yy, x + 2, 30, city->name, base);
        char cnt[32];
        fmt_count(city->receipts, cnt, sizeof cnt);
        tui_text_right(c, yy, x + 33, 12, cnt, base);
        int mx = x + 47;
        if (city->id == 0)
            tui_text(c, yy, mx, w - 49, city->own_product ? "own" : "none yet",
                     selected ? base : (city->own_product ? TUI_ROLE_NORMAL : TUI_ROLE_WARN));
        else if (city->own_product)
            tui_text(c, yy, mx, w - 49, "own", base);
        else if (!a->cities[a->n_cities - 1].own_product)
            tui_text(c, yy, mx, w - 49, "none yet", selected ? base : TUI_ROLE_WARN);
        else {
            tui_put(c, yy, mx, c->g->fallback, 1, selected ? base : TUI_ROLE_WARN);
            tui_text(c, yy, mx + 2, w - 51, "all cities", selected ? base : TUI_ROLE_WARN);
        }
    }
}

static void draw_search_overlay(tui_app *a, tui_canvas *c, int y, int x, int h, int w)
{
    tui_box(c, y, x, h, w, "Search products (Enter picks, Esc cancels)", TUI_ROLE_BORDER);
    int ix = x + 2;
    ix += tui_text(c, y + 1, ix, 2, "/ ", TUI_ROLE_KEY);
    tui_fill(c, y + 1, ix, x + w - 2 - ix, L' ', TUI_ROLE_INPUT);
    int used = tui_text(c, y + 1, ix, x + w - 3 - ix, a->input, TUI_ROLE_INPUT);
    tui_put(c, y + 1, ix + used, L'_', 1, TUI_ROLE_INPUT);
    int rows = h - 4;
    a->page = rows;
    rs_recommender *r = tui_rec(a);
    if (!a->input[0]) {
        tui_text(c, y + 3, x + 2, w - 4,
                 "type a name: words match word prefixes, else any part of the name",
                 TUI_ROLE_DIM);
        return;
    }
    if (a->n_found == 0) {
        tui_printf(c, y + 3, x + 2, w - 4, TUI_ROLE_WARN, "no product matches \"%s\"", a->input);
        return;
    }
    tui_printf(c, y + 2, x + 2, w - 4, TUI_ROLE_DIM, "%d match%s%s", a->n_found,
               a->n_found == 1 ? "" : "es", a->n_found >= 500 ? " (first 500)" : "");
    if (a->ov_sel < a->ov_top)
        a->ov_top = a->ov_sel;
    if (a->ov_sel >= a->ov_top + rows)
        a->ov_top = a->ov_sel - rows + 1;
    int inner = w - 4;
    int popw = 16, catw = inner >= 90 ? 24 : 18;
    int namew = inner - popw - catw - 2;
    for (int i = 0; i < rows && a->ov_top + i < a->n_found; i++) {
        int idx = a->ov_top + i;
        rs_rec_product info;
        if (!r || rs_rec_product_info(r, a->found[idx], &info, NULL) != RS_OK)
            continue;
        int yy = y + 3 + i;
        int selected = idx == a->ov_sel;
        tui_role base = selected ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL;
        if (selected)
            tui_fill(c, yy, x + 1, w - 2, L' ', TUI_ROLE_SELECTED);
        tui_text(c, yy, x + 2, namew, info.name, base);
        tui_text(c, yy, x + 3 + namew, catw, info.category, selected ? base : TUI_ROLE_DIM);
        char cnt[32], pop[48];
        fmt_count(info.popularity, cnt, sizeof cnt);
        snprintf(pop, sizeof pop, "%s p%.0f", cnt, info.percentile);
        tui_text_right(c, yy, x + 4 + namew + catw, popw - 1, pop, base);
    }
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

void tui_draw(tui_app *a, tui_canvas *c)
{
    tui_canvas_clear(c);
    a->utf8 = c->g->utf8;
    if (c->rows < TUI_MIN_ROWS || c->cols < TUI_MIN_COLS) {
        draw_too_small(c);
        return;
    }
    tui_compute(a);
    draw_title(a, c);
    draw_product_line(a, c, 1);
    int top = 2;
    if (a->n_basket > 0)
        draw_basket_line(a, c, top++);
    int hist_h = c->rows >= 40 ? 9 : (c->rows >= 30 ? 7 : 5);
    int hist_y = c->rows - 1 - hist_h;
    int area = hist_y - top;
    if (c->cols >= 150) {
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
            const rs_rec_list *l = tui_list(a, p);
            need[p] = 1 + (l && l->status == RS_OK && l->n > 0 ? l->n : 2);
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

    int oy = 1, oh = c->rows - 2;
    int ow = c->cols - 2 > 110 ? 110 : c->cols - 2;
    int ox = (c->cols - ow) / 2;
    switch (a->ov) {
    case OV_HELP:
    case OV_METRICS:
    case OV_EXPLAIN:
        for (int yy = oy; yy < oy + oh; yy++) /* a clean page behind the text */
            tui_fill(c, yy, 0, c->cols, L' ', TUI_ROLE_NORMAL);
        draw_text_overlay(a, c, oy, ox, oh, ow);
        break;
    case OV_CITY: {
        int h = a->n_cities + 4 < oh ? a->n_cities + 4 : oh;
        draw_city_overlay(a, c, oy + 1, (c->cols - 64) / 2, h, 64);
        break;
    }
    case OV_SEARCH:
        for (int yy = oy; yy < oy + oh; yy++)
            tui_fill(c, yy, 0, c->cols, L' ', TUI_ROLE_NORMAL);
        draw_search_overlay(a, c, oy, ox, oh, ow);
        break;
    default:
        break;
    }
    draw_status(a, c);
}

void tui_app_draw(tui_app *a, tui_canvas *c)
{
    tui_draw(a, c);
}
