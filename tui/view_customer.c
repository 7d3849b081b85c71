/* view_customer.c - the customer view (u): pick a customer of the city (the list by
 * receipts; typing filters it by id, Enter picks, an exact id not in the list is
 * looked up), then their three lists (buy again, new for you, ranked: core/custrec.h)
 * and their history by date (receipts with their products), under a header with
 * their receipts and a category mix bar.  Tab switches the list; `e` explains the
 * highlighted row (the scorers whose top 50 hold it, its history weight and count);
 * Enter browses the highlighted product (Backspace on the main screen comes back
 * here); Backspace returns to the customer list; `b` seeds the basket with their last
 * receipt.  The list's keys are typed text while picking (ids hold letters), so the
 * view takes every key (text_input) and maps the commands itself once a customer is
 * shown.
 */
#include <curses.h>

#include "app.h"
#include "../core/custrec.h"
#include "../core/customers.h"
#include "../core/sanitize.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define LIST_MAX 20000 /* customers listed at most (most receipts first) */
#define MIX_N 5        /* categories named in the mix bar */
enum { TAB_HISTORY = RS_CUSTREC_NLISTS, NTABS };
enum { MODE_PICK = 0, MODE_SHOW };

typedef struct hist_line {
    int receipt;  /* index into the answer's receipts */
    int64_t item; /* into its items; -1: the receipt's own line */
} hist_line;

struct tui_customer {
    int64_t city_id;     /* of cr and the list */
    int have_city;
    rs_custrec *cr;
    rs_customer *list;   /* the city's customers by receipts */
    int n_list;
    int *match;          /* indices into list matching the typed id */
    int n_match;
    char input[128];
    int mode;
    rs_custrec_answer *ans;
    int tab;
    tui_list tabs[NTABS];
    hist_line *hl;
    int n_hl;
    int explain;
    int return_hist;     /* Backspace on the main screen at this history depth comes back */
    int picked;          /* SHOW was reached from the list (Backspace returns to it) */
    int mix_cat[MIX_N];  /* the mix bar: category index and share */
    double mix_share[MIX_N], mix_other;
    int n_mix;
    char err[400];
};

void tui_customer_free(tui_app *a)
{
    struct tui_customer *t = a->cust;
    if (!t)
        return;
    rs_custrec_close(t->cr);
    rs_custrec_answer_free(t->ans);
    free(t->list);
    free(t->match);
    free(t->hl);
    free(t);
    a->cust = NULL;
}

int tui_customer_back(tui_app *a)
{
    struct tui_customer *t = a->cust;
    if (!t || t->return_hist < 0 || a->n_hist != t->return_hist)
        return 0;
    t->return_hist = -1;
    return 1;
}

static void filter_ids(struct tui_customer *t)
{
    t->n_match = 0;
    for (int i = 0; i < t->n_list; i++)
        if (!t->input[0] || strcasestr(t->list[i].ext_id, t->input))
            t->match[t->n_match++] = i;
}

/* The city's customers and its customer server (again after a city switch). */
static int load_city(tui_app *a, struct tui_customer *t)
{
    int64_t city = a->cities[a->ci].id;
    if (t->have_city && t->city_id == city)
        return 0;
    rs_custrec_close(t->cr);
    rs_custrec_answer_free(t->ans);
    t->cr = NULL;
    t->ans = NULL;
    t->n_list = t->n_match = 0;
    t->mode = MODE_PICK;
    t->have_city = 1;
    t->city_id = city;
    rs_error e = {0};
    int64_t n = 0;
    if (!rs_customers_available(a->s)) {
        snprintf(t->err, sizeof t->err, "%s", "this database has no customers table: import "
                                              "receipts with customer ids");
        return -1;
    }
    if (rs_customers_count(a->s, city, &n, &e) != RS_OK)
        goto fail;
    if (n > LIST_MAX)
        n = LIST_MAX;
    free(t->list);
    free(t->match);
    t->list = malloc((size_t)(n > 0 ? n : 1) * sizeof *t->list);
    t->match = malloc((size_t)(n > 0 ? n : 1) * sizeof *t->match);
    if (!t->list || !t->match) {
        snprintf(t->err, sizeof t->err, "%s", "out of memory");
        return -1;
    }
    if (rs_customers_list(a->s, city, 0, (int)n, t->list, &t->n_list, &e) != RS_OK ||
        rs_custrec_open(a->s, city, &t->cr, &e) != RS_OK)
        goto fail;
    t->err[0] = 0;
    filter_ids(t);
    return 0;
fail:
    snprintf(t->err, sizeof t->err, "%.390s", e.msg);
    return -1;
}

/* The history's lines (receipts newest first, each with its products) and the mix. */
static int layout(tui_app *a, struct tui_customer *t)
{
    const rs_custrec_answer *s = t->ans;
    rs_recommender *r = tui_rec(a);
    free(t->hl);
    t->n_hl = 0;
    t->hl = malloc(((size_t)s->n_receipts + (size_t)s->n_items + 1) * sizeof *t->hl);
    int32_t nc = r ? rs_rec_n_categories(r) : 0;
    double *mass = calloc((size_t)nc + 1, sizeof *mass);
    if (!t->hl || !mass) {
        free(mass);
        return -1;
    }
    for (int i = s->n_receipts - 1; i >= 0; i--) {
        t->hl[t->n_hl++] = (hist_line){i, -1};
        for (int64_t j = 0; j < s->receipts[i].n; j++)
            t->hl[t->n_hl++] = (hist_line){i, s->receipts[i].first + j};
    }
    /* the mix: each product line counts for its category */
    double total = 0;
    for (int64_t j = 0; j < s->n_items; j++) {
        rs_rec_product info;
        if (r && rs_rec_product_info(r, s->items[j], &info, NULL) == RS_OK &&
            info.category_index >= 0 && info.category_index < nc) {
            mass[info.category_index] += 1;
            total += 1;
        }
    }
    t->n_mix = 0;
    double named = 0;
    for (int k = 0; k < MIX_N && total > 0; k++) {
        int best = -1;
        for (int32_t c = 0; c < nc; c++)
            if (mass[c] > 0 && (best < 0 || mass[c] > mass[best]))
                best = c;
        if (best < 0)
            break;
        t->mix_cat[t->n_mix] = best;
        t->mix_share[t->n_mix++] = mass[best] / total;
        named += mass[best];
        mass[best] = -1;
    }
    t->mix_other = total > 0 ? (total - named) / total : 0;
    free(mass);
    return 0;
}

/* Shows customer ext_id: the query, the history's lines. */
static void show(tui_app *a, struct tui_customer *t, const char *ext_id)
{
    rs_error e = {0};
    rs_custrec_answer *ans = NULL;
    if (!t->cr) {
        tui_message(a, TUI_ROLE_ERROR, "%s", t->err[0] ? t->err : "no customer server");
        return;
    }
    if (rs_custrec_query(t->cr, ext_id, 20, &ans, &e) != RS_OK) {
        tui_message(a, TUI_ROLE_WARN, "%s", e.msg);
        return;
    }
    rs_custrec_answer_free(t->ans);
    t->ans = ans;
    if (layout(a, t) != 0) {
        tui_message(a, TUI_ROLE_ERROR, "out of memory");
        return;
    }
    for (int i = 0; i < NTABS; i++)
        tui_list_reset(&t->tabs[i]);
    t->tab = RS_CUSTREC_BUYAGAIN;
    t->mode = MODE_SHOW;
    t->explain = 0;
}

static void customer_open(tui_app *a)
{
    struct tui_customer *t = a->cust;
    if (!t) {
        if (!(t = a->cust = calloc(1, sizeof *t))) {
            tui_message(a, TUI_ROLE_ERROR, "out of memory");
            tui_view_close(a);
            return;
        }
        t->return_hist = -1;
    }
    if (load_city(a, t) != 0)
        t->mode = MODE_PICK;
    if (t->mode == MODE_PICK)
        tui_list_reset(&a->ov_list);
}

/* The product of the highlighted row (-1: none, a receipt line). */
static int32_t highlighted(const struct tui_customer *t, const rs_custrec_row **row)
{
    *row = NULL;
    const tui_list *l = &t->tabs[t->tab];
    if (t->tab == TAB_HISTORY) {
        if (l->sel < 0 || l->sel >= t->n_hl || t->hl[l->sel].item < 0)
            return -1;
        return t->ans->items[t->hl[l->sel].item];
    }
    const rs_custrec_list *L = &t->ans->lists[t->tab];
    if (l->sel < 0 || l->sel >= L->n)
        return -1;
    *row = &L->rows[l->sel];
    return L->rows[l->sel].product;
}

static int tab_rows(const struct tui_customer *t, int tab)
{
    return tab == TAB_HISTORY ? t->n_hl : t->ans->lists[tab].n;
}

static void seed_basket(tui_app *a, struct tui_customer *t)
{
    const rs_custrec_answer *s = t->ans;
    if (s->n_receipts == 0)
        return;
    const rs_custrec_receipt *last = &s->receipts[s->n_receipts - 1];
    if (tui_basket_set(a, s->items + last->first, (int)last->n) != 0)
        return;
    tui_view_close(a);
    char id[64];
    rs_sanitize_str(last->ext_id, !a->utf8, 24, id, sizeof id);
    tui_message(a, TUI_ROLE_STATUS, "basket: the %d products of receipt %s (the last of %s)",
                (int)last->n, id, s->customer.ext_id);
}

static unsigned pick_key(tui_app *a, struct tui_customer *t, int code)
{
    if (tui_key_is_enter(code)) {
        if (t->n_match > 0 && a->ov_list.sel < t->n_match)
            show(a, t, t->list[t->match[a->ov_list.sel]].ext_id);
        else if (t->input[0])
            show(a, t, t->input); /* an id beyond the list, or unknown: says so */
        if (t->mode == MODE_SHOW)
            t->picked = 1;
    } else if (code == TUI_KEY_ESC) {
        tui_view_close(a);
    } else if (code == KEY_UP || code == KEY_DOWN || code == KEY_PPAGE || code == KEY_NPAGE ||
               code == KEY_HOME || code == KEY_END) {
        tui_list_move(&a->ov_list, t->n_match, tui_key_command(code));
    } else if (tui_input_edit(t->input, sizeof t->input, code)) {
        filter_ids(t);
        tui_list_reset(&a->ov_list);
    }
    return TUI_HANDLED;
}

static unsigned show_key(tui_app *a, struct tui_customer *t, int code)
{
    tui_cmd cmd = tui_key_command(code);
    const rs_custrec_row *row;
    if (tui_list_move(&t->tabs[t->tab], tab_rows(t, t->tab), cmd))
        return TUI_HANDLED;
    switch (cmd) {
    case TUI_CMD_PANE_NEXT: t->tab = (t->tab + 1) % NTABS; break;
    case TUI_CMD_PANE_PREV: t->tab = (t->tab + NTABS - 1) % NTABS; break;
    case TUI_CMD_EXPLAIN: t->explain = !t->explain; break;
    case TUI_CMD_BASKET_ADD: seed_basket(a, t); break;
    case TUI_CMD_FOLLOW: {
        int32_t p = highlighted(t, &row);
        if (p < 0)
            break;
        t->return_hist = p != a->product ? a->n_hist : -1;
        tui_set_product(a, p);
        tui_view_close(a);
        break;
    }
    case TUI_CMD_BACK:
    case TUI_CMD_SEARCH:
    case TUI_CMD_CUSTOMER:
        t->mode = MODE_PICK;
        break;
    case TUI_CMD_QUIT:
    case TUI_CMD_CANCEL: tui_view_close(a); break;
    default:
        if (code > 0x20 && code < 0x7F)
            tui_message(a, TUI_ROLE_WARN, "'%c' does nothing here: Esc closes", code);
        break;
    }
    return TUI_HANDLED;
}

static unsigned customer_key(tui_app *a, int code, tui_cmd cmd)
{
    (void)cmd; /* text input: the code as typed */
    struct tui_customer *t = a->cust;
    if (!t) {
        tui_view_close(a);
        return TUI_HANDLED;
    }
    return t->mode == MODE_SHOW && t->ans ? show_key(a, t, code) : pick_key(a, t, code);
}

/* "2017-06-01", or "#n" without a time. */
static void day_of(int64_t ts, int pos, char *buf, size_t n)
{
    if (ts == INT64_MIN || ts == 0) {
        snprintf(buf, n, "#%d", pos + 1);
        return;
    }
    time_t tt = (time_t)ts;
    struct tm tm;
    if (gmtime_r(&tt, &tm))
        strftime(buf, n, "%Y-%m-%d", &tm);
    else
        snprintf(buf, n, "?");
}

static void draw_pick(tui_app *a, struct tui_customer *t, tui_canvas *c, int y, int x, int h,
                      int w)
{
    char title[200], cnt[32];
    snprintf(title, sizeof title, "Customers of %s (type an id, Enter picks, Esc closes)",
             a->cities[a->ci].name);
    tui_box(c, y, x, h, w, title, TUI_ROLE_BORDER);
    int ix = x + 2;
    ix += tui_text(c, y + 1, ix, 4, "id ", TUI_ROLE_KEY);
    tui_fill(c, y + 1, ix, x + w - 2 - ix, L' ', TUI_ROLE_INPUT);
    int used = tui_text(c, y + 1, ix, x + w - 3 - ix, t->input, TUI_ROLE_INPUT);
    tui_put(c, y + 1, ix + used, L'_', 1, TUI_ROLE_INPUT);
    if (t->err[0]) {
        tui_text_wrap(c, y + 3, x + 2, w - 4, h - 4, t->err, TUI_ROLE_ERROR);
        return;
    }
    if (t->n_list == 0) {
        tui_text_wrap(c, y + 3, x + 2, w - 4, h - 4,
                      "no customers in this city: their receipts carry no customer id "
                      "(import a customer column, see `recoscope import --help`)",
                      TUI_ROLE_WARN);
        return;
    }
    tui_fmt_count(t->n_match, cnt, sizeof cnt);
    tui_printf(c, y + 2, x + 2, w - 4, TUI_ROLE_DIM, "%s of %d customers, most receipts first",
               cnt, t->n_list);
    tui_printf(c, y + 3, x + 2, w - 4, TUI_ROLE_DIM, "%-24s %8s  %-10s  %-10s", "customer",
               "receipts", "first", "last");
    int rows = h - 5;
    tui_list *l = &a->ov_list;
    tui_list_show(l, t->n_match, rows);
    for (int i = 0; i < rows && l->top + i < t->n_match; i++) {
        const rs_customer *k = &t->list[t->match[l->top + i]];
        int yy = y + 4 + i, sel = l->top + i == l->sel;
        char first[16], last[16], id[64];
        day_of(k->first_ts, 0, first, sizeof first);
        day_of(k->last_ts, (int)k->receipts - 1, last, sizeof last);
        if (!k->first_ts)
            snprintf(first, sizeof first, "-"), snprintf(last, sizeof last, "-");
        rs_sanitize_cell(k->ext_id, !a->utf8, 24, id, sizeof id);
        if (sel)
            tui_fill(c, yy, x + 1, w - 2, L' ', TUI_ROLE_SELECTED);
        tui_printf(c, yy, x + 2, w - 4, sel ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL,
                   "%s %8lld  %-10s  %-10s", id, (long long)k->receipts, first, last);
    }
}

/* The header: who, how much, when; the category mix bar and its legend. */
static void draw_header(tui_app *a, struct tui_customer *t, tui_canvas *c, int y, int x, int w)
{
    const rs_custrec_answer *s = t->ans;
    rs_recommender *r = tui_rec(a);
    char first[16] = "", last[16] = "";
    if (s->n_receipts) {
        day_of(s->receipts[0].ts, 0, first, sizeof first);
        day_of(s->receipts[s->n_receipts - 1].ts, s->n_receipts - 1, last, sizeof last);
    }
    tui_printf(c, y, x, w, TUI_ROLE_NORMAL, "%d receipts, %d products, %s .. %s", s->n_receipts,
               (int)s->n_hist, first, last);
    static const wchar_t UGLYPH[MIX_N + 1] = {L'\u2588', L'\u2593', L'\u2592', L'\u2591',
                                              L'\u259a', L'\u00b7'};
    static const wchar_t AGLYPH[MIX_N + 1] = {L'#', L'=', L'+', L'-', L':', L'.'};
    static const tui_role ROLE[MIX_N + 1] = {TUI_ROLE_MAP1, TUI_ROLE_MAP2, TUI_ROLE_MAP3,
                                             TUI_ROLE_MAP4, TUI_ROLE_MAP5, TUI_ROLE_DIM};
    const wchar_t *g = a->utf8 ? UGLYPH : AGLYPH;
    int bw = w >= 70 ? 20 : 12, bx = x + 4, done = 0;
    tui_text(c, y + 1, x, 4, "mix", TUI_ROLE_DIM);
    for (int k = 0; k <= t->n_mix; k++) {
        double sh = k < t->n_mix ? t->mix_share[k] : t->mix_other;
        int cells = k < t->n_mix ? (int)(sh * bw + 0.5) : bw - done;
        if (done + cells > bw)
            cells = bw - done;
        tui_fill(c, y + 1, bx + done, cells, g[k], ROLE[k]);
        done += cells;
    }
    int lx = bx + bw + 1;
    for (int k = 0; k < t->n_mix && lx < x + w - 6; k++) {
        const char *name = r ? rs_rec_category_name(r, t->mix_cat[k]) : "?";
        char lab[96];
        snprintf(lab, sizeof lab, "%s %.0f%%", name, 100 * t->mix_share[k]);
        tui_put(c, y + 1, lx, g[k], 1, ROLE[k]);
        int room = x + w - lx - 2;
        int cw = tui_text(c, y + 1, lx + 2, room < 20 ? room : 20, lab, TUI_ROLE_NORMAL);
        lx += cw + 3;
    }
}

static void draw_tabs(struct tui_customer *t, tui_canvas *c, int y, int x, int w)
{
    static const char *const NAMES[NTABS] = {"buy again", "new for you", "ranked", "history"};
    int cx = x;
    for (int i = 0; i < NTABS && cx < x + w; i++) {
        char lab[64];
        snprintf(lab, sizeof lab, " %s ", NAMES[i]);
        cx += tui_text(c, y, cx, x + w - cx, lab,
                       i == t->tab ? TUI_ROLE_HEADER_ACTIVE : TUI_ROLE_HEADER) + 1;
    }
}

static void draw_list(tui_app *a, struct tui_customer *t, tui_canvas *c, int y, int x, int w,
                      int rows)
{
    rs_recommender *r = tui_rec(a);
    const rs_custrec_list *L = &t->ans->lists[t->tab];
    tui_list *l = &t->tabs[t->tab];
    char note[400];
    if (L->why[0]) /* it names the method */
        snprintf(note, sizeof note, "%s", L->why);
    else
        snprintf(note, sizeof note, "by %s", rs_pers_method_name(L->method));
    tui_text(c, y, x, w, note, L->why[0] && t->tab == RS_CUSTREC_NEW ? TUI_ROLE_WARN
                                                                      : TUI_ROLE_DIM);
    rows--;
    tui_list_show(l, L->n, rows);
    int catw = w >= 70 ? 18 : 12, namew = w - catw - 20;
    for (int i = 0; i < rows && l->top + i < L->n; i++) {
        const rs_custrec_row *row = &L->rows[l->top + i];
        rs_rec_product info;
        if (!r || rs_rec_product_info(r, row->product, &info, NULL) != RS_OK)
            continue;
        int yy = y + 1 + i, sel = l->top + i == l->sel;
        tui_role base = sel ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL;
        if (sel)
            tui_fill(c, yy, x - 1, w + 2, L' ', TUI_ROLE_SELECTED);
        tui_printf(c, yy, x, 4, base, "%3d", l->top + i + 1);
        tui_text(c, yy, x + 4, namew, info.name, base);
        tui_text(c, yy, x + 5 + namew, catw, info.category, sel ? base : TUI_ROLE_DIM);
        char num[48];
        if (row->count > 0)
            snprintf(num, sizeof num, "%4dx %8.3f", (int)row->count, row->score);
        else
            snprintf(num, sizeof num, "%5s %8.3f", "new", row->score);
        tui_text_right(c, yy, x + 6 + namew + catw, w - 6 - namew - catw, num, base);
    }
    if (L->n == 0)
        tui_text(c, y + 1, x, w, "(nothing to offer)", TUI_ROLE_DIM);
}

static void draw_history(tui_app *a, struct tui_customer *t, tui_canvas *c, int y, int x, int w,
                         int rows)
{
    rs_recommender *r = tui_rec(a);
    tui_list *l = &t->tabs[TAB_HISTORY];
    tui_list_show(l, t->n_hl, rows);
    for (int i = 0; i < rows && l->top + i < t->n_hl; i++) {
        const hist_line *h = &t->hl[l->top + i];
        const rs_custrec_receipt *rc = &t->ans->receipts[h->receipt];
        int yy = y + i, sel = l->top + i == l->sel;
        if (sel)
            tui_fill(c, yy, x - 1, w + 2, L' ', TUI_ROLE_SELECTED);
        if (h->item < 0) {
            char day[16], id[64];
            day_of(rc->ts, h->receipt, day, sizeof day);
            rs_sanitize_str(rc->ext_id, !a->utf8, 24, id, sizeof id);
            tui_printf(c, yy, x, w, sel ? TUI_ROLE_SELECTED : TUI_ROLE_HEADER,
                       "%s  receipt %s, %lld product%s", day, id, (long long)rc->n,
                       rc->n == 1 ? "" : "s");
            continue;
        }
        rs_rec_product info;
        if (!r || rs_rec_product_info(r, t->ans->items[h->item], &info, NULL) != RS_OK)
            continue;
        int catw = w >= 70 ? 18 : 12;
        tui_text(c, yy, x + 4, w - catw - 6, info.name, sel ? TUI_ROLE_SELECTED : TUI_ROLE_NORMAL);
        tui_text(c, yy, x + w - catw, catw, info.category,
                 sel ? TUI_ROLE_SELECTED : TUI_ROLE_DIM);
    }
}

/* The explanation of the highlighted row (3 lines). */
static void draw_explain(tui_app *a, struct tui_customer *t, tui_canvas *c, int y, int x, int w)
{
    const rs_custrec_row *row;
    int32_t p = highlighted(t, &row);
    rs_recommender *r = tui_rec(a);
    rs_rec_product info;
    tui_fill(c, y, x, w, a->utf8 ? L'\u2500' : L'-', TUI_ROLE_BORDER);
    if (p < 0 || !r || rs_rec_product_info(r, p, &info, NULL) != RS_OK) {
        tui_text(c, y + 1, x, w, "(a receipt: move to one of its products)", TUI_ROLE_DIM);
        return;
    }
    float weight = 0, count = 0;
    for (int32_t j = 0; j < t->ans->n_hist; j++) /* rows of the history tab carry none */
        if (t->ans->hist[j] == p)
            weight = t->ans->hist_weight[j], count = t->ans->hist_count[j];
    char by[200] = "";
    size_t used = 0;
    for (int m = 0; row && m < RS_PERS_N && used < sizeof by; m++)
        if (row->rank[m] >= 0)
            used += (size_t)snprintf(by + used, sizeof by - used, "%s%s #%d", used ? ", " : "",
                                     rs_pers_method_name(m), row->rank[m] + 1);
    if (row)
        tui_printf(c, y + 1, x, w, TUI_ROLE_NORMAL, "proposed by: %s",
                   by[0] ? by : "no servable scorer's top 50");
    else
        tui_printf(c, y + 1, x, w, TUI_ROLE_NORMAL, "%s", "a product of their history");
    if (count > 0)
        tui_printf(c, y + 2, x, w, TUI_ROLE_NORMAL,
                   "bought in %d of their %d receipts, recency-weighted %.3f",
                   (int)count, t->ans->n_receipts, weight);
    else
        tui_printf(c, y + 2, x, w, TUI_ROLE_NORMAL, "never bought by them; %lld receipts of "
                   "the city hold it (p%.0f)", (long long)info.popularity, info.percentile);
}

static void customer_draw(tui_app *a, tui_canvas *c)
{
    struct tui_customer *t = a->cust;
    int y, x, h, w;
    tui_view_area(c, &y, &x, &h, &w);
    tui_view_clear(c);
    if (!t)
        return;
    if (t->mode == MODE_PICK || !t->ans) {
        draw_pick(a, t, c, y, x, h, w);
        return;
    }
    char title[200], id[64];
    rs_sanitize_str(t->ans->customer.ext_id, !a->utf8, 40, id, sizeof id);
    snprintf(title, sizeof title, "Customer %s (%s)", id, a->cities[a->ci].name);
    tui_box(c, y, x, h, w, title, TUI_ROLE_BORDER);
    int ix = x + 2, iw = w - 4;
    draw_header(a, t, c, y + 1, ix, iw);
    draw_tabs(t, c, y + 3, ix, iw);
    int ex = t->explain ? 3 : 0;
    int rows = h - 6 - ex;
    if (t->tab == TAB_HISTORY)
        draw_history(a, t, c, y + 4, ix, iw, rows + 1);
    else
        draw_list(a, t, c, y + 4, ix, iw, rows + 1);
    if (ex)
        draw_explain(a, t, c, y + h - 1 - ex, ix, iw);
}

static void customer_status(tui_app *a, tui_canvas *c)
{
    int y = c->rows - 1;
    if (a->msg[0]) {
        tui_text(c, y, 1, c->cols - 2, a->msg, a->msg_role);
        return;
    }
    static const char *const PICK[][2] = {{"type", "filter ids"}, {"Enter", "show"},
                                          {"Esc", "close"}};
    static const char *const SHOW[][2] = {{"Tab", "list"}, {"Enter", "browse"},
                                          {"e", "explain"}, {"b", "basket"},
                                          {"Bksp", "customers"}, {"q", "close"}};
    int show = a->cust && a->cust->mode == MODE_SHOW && a->cust->ans;
    const char *const(*hints)[2] = show ? SHOW : PICK;
    int n = show ? 6 : 3, x = 1;
    for (int i = 0; i < n; i++) {
        int need = (int)(strlen(hints[i][0]) + strlen(hints[i][1])) + 3;
        if (x + need > c->cols - 1)
            break;
        x += tui_text(c, y, x, c->cols - x, hints[i][0], TUI_ROLE_KEY) + 1;
        x += tui_text(c, y, x, c->cols - x, hints[i][1], TUI_ROLE_STATUS) + 2;
    }
}

const tui_view tui_view_customer = {
    .name = "customer",
    .cmd = TUI_CMD_CUSTOMER,
    .text_input = 1,
    .open = customer_open,
    .key = customer_key,
    .draw = customer_draw,
    .status = customer_status,
};
