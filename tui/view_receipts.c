/* view_receipts.c - the receipts behind a number (R): on a product row of the
 * Synonyms or Complements pane (or in its explanation), the receipts of the city that
 * hold that product and the current one (any product of the basket): the co-purchase
 * count, receipt by receipt, latest first, with the date, the customer where the data
 * has one, and the other products of the receipt.  Scrolls like the other text views.
 * The receipts come from the recommender's co-purchase index (so they are exactly the
 * ones counted) and their contents from core/browse.h.
 */
#include "app.h"
#include "../core/browse.h"
#include "../core/sanitize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHOW_MAX 2000 /* receipts listed at most (the latest imported) */

struct tui_receipts {
    int32_t row_product;   /* the row's product */
    int32_t *query;        /* the query's products (copied) */
    int n_query;
    int64_t total;         /* receipts holding the pair */
    rs_browse_receipt *v;
    int n;
    char err[400];
    int built_w;
};

void tui_receipts_free(tui_app *a)
{
    struct tui_receipts *t = a->rcpt;
    if (!t)
        return;
    rs_browse_receipts_free(t->v, t->n);
    free(t->query);
    free(t);
    a->rcpt = NULL;
}

static const char *product_name(rs_recommender *r, int32_t p)
{
    rs_rec_product info;
    return r && rs_rec_product_info(r, p, &info, NULL) == RS_OK ? info.name : "?";
}

/* The receipts of the pair; 0, or -1 with t->err. */
static int load(tui_app *a, struct tui_receipts *t)
{
    rs_recommender *r = tui_rec(a);
    int64_t *ids = NULL, n = 0;
    rs_error e = {0};
    if (!r) {
        snprintf(t->err, sizeof t->err, "%s", "the city's recommender is not open");
        return -1;
    }
    if (rs_rec_copurchase_receipts(r, t->query, t->n_query, t->row_product, &ids, &n, &e) !=
        RS_OK) {
        snprintf(t->err, sizeof t->err, "%.340s%s", e.msg,
                 a->cities[a->ci].rec_full ? "" : ": co-purchases are being counted, try again");
        return -1;
    }
    t->total = n;
    int64_t first = n > SHOW_MAX ? n - SHOW_MAX : 0; /* ids ascend: the latest imported */
    int rc = rs_browse_receipts(a->s, ids + first, (int)(n - first), &t->v, &t->n, &e);
    free(ids);
    if (rc != RS_OK) {
        snprintf(t->err, sizeof t->err, "%.390s", e.msg);
        return -1;
    }
    return 0;
}

/* The other products of a receipt, wrapped into lines of at most w columns. */
static void add_products(tui_app *a, struct tui_receipts *t, tui_lines *l,
                         const rs_browse_receipt *rc, int w)
{
    rs_recommender *r = tui_rec(a);
    char line[2048];
    size_t used = 0;
    int cols = 0, any = 0;
    line[0] = 0;
    for (int i = 0; i < rc->n_products; i++) {
        int32_t p = rc->products[i];
        int in_pair = p == t->row_product;
        for (int q = 0; q < t->n_query && !in_pair; q++)
            in_pair = p == t->query[q];
        if (in_pair)
            continue;
        char name[256];
        int nw = rs_sanitize_str(product_name(r, p), !a->utf8, 56, name, sizeof name);
        if (any && cols + 2 + nw > w) {
            tui_lines_add(l, 4, TUI_ROLE_NORMAL, "%s,", line);
            used = 0;
            cols = 0;
            line[0] = 0;
        } else if (any) {
            used += (size_t)snprintf(line + used, sizeof line - used, ", ");
            cols += 2;
        }
        if (used + strlen(name) + 1 < sizeof line) {
            used += (size_t)snprintf(line + used, sizeof line - used, "%s", name);
            cols += nw;
        }
        any = 1;
    }
    tui_lines_add(l, 4, any ? TUI_ROLE_NORMAL : TUI_ROLE_DIM, "%s",
                  any ? line : "(nothing else)");
}

static void build(tui_app *a, int box_w)
{
    struct tui_receipts *t = a->rcpt;
    tui_lines *l = &a->text;
    rs_recommender *r = tui_rec(a);
    tui_lines_clear(l);
    char pn[100], qn[100];
    rs_sanitize_str(product_name(r, t->row_product), !a->utf8, 34, pn, sizeof pn);
    rs_sanitize_str(t->n_query > 1 ? "the basket" : product_name(r, t->query[0]), !a->utf8, 34,
                    qn, sizeof qn);
    snprintf(l->title, sizeof l->title, "Receipts with %.60s and %.60s", qn, pn);
    if (t->err[0]) {
        tui_lines_add(l, 0, TUI_ROLE_WARN, "%s", t->err);
        return;
    }
    char cnt[32], shown[32];
    tui_fmt_count(t->total, cnt, sizeof cnt);
    tui_fmt_count(t->n, shown, sizeof shown);
    tui_lines_add(l, 0, TUI_ROLE_HEADER, "%s receipt%s of %s hold both (the co-purchase count)%s",
                  cnt, t->total == 1 ? "" : "s", a->cities[a->ci].name,
                  t->total > t->n ? "" : ", latest first");
    if (t->total > t->n)
        tui_lines_add(l, 0, TUI_ROLE_DIM, "the %s imported last, latest first", shown);
    for (int i = 0; i < t->n; i++) {
        const rs_browse_receipt *rc = &t->v[i];
        char when[32] = "(no date)";
        if (rc->has_ts) {
            time_t ts = (time_t)rc->ts;
            struct tm tm;
            if (gmtime_r(&ts, &tm))
                strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        }
        tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
        tui_lines_add(l, 0, TUI_ROLE_KEY, "%s", when);
        tui_lines_span(l, 18, TUI_ROLE_NORMAL, "receipt %s", rc->ext_id);
        if (rc->customer)
            tui_lines_span(l, 44, TUI_ROLE_DIM, "customer %s", rc->customer);
        add_products(a, t, l, rc, box_w - 10);
    }
}

static void receipts_open(tui_app *a)
{
    int is_cat = TUI_PANES[a->pane].of_categories;
    const rs_rec_list *rows = tui_rows(a, a->pane);
    int sel = a->panes[a->pane].sel;
    if (is_cat || !rows || sel >= rows->n) {
        tui_message(a, TUI_ROLE_WARN, "%s", is_cat ? "receipts are of products: pick a row of "
                    "Synonyms or Complements (Tab)" : "no row highlighted");
        tui_view_close(a);
        return;
    }
    tui_receipts_free(a);
    struct tui_receipts *t = calloc(1, sizeof *t);
    int nq = a->n_basket > 0 ? a->n_basket : 1;
    if (!t || !(t->query = malloc((size_t)nq * sizeof *t->query))) {
        free(t);
        tui_message(a, TUI_ROLE_ERROR, "out of memory");
        tui_view_close(a);
        return;
    }
    a->rcpt = t;
    t->row_product = rows->rows[sel].index;
    t->n_query = nq;
    memcpy(t->query, a->n_basket > 0 ? a->basket : &a->product, (size_t)nq * sizeof *t->query);
    load(a, t);
}

static void receipts_draw(tui_app *a, tui_canvas *c)
{
    if (a->rcpt)
        tui_text_view_draw_width(a, c, &a->rcpt->built_w, build);
}

/* The co-purchase index arrived (interactive start): try again. */
static void receipts_refresh(tui_app *a)
{
    struct tui_receipts *t = a->rcpt;
    if (!t || !t->err[0])
        return;
    t->err[0] = 0;
    load(a, t);
    t->built_w = 0;
}

const tui_view tui_view_receipts = {
    .name = "receipts",
    .cmd = TUI_CMD_RECEIPTS,
    .open = receipts_open,
    .key = tui_text_view_key,
    .draw = receipts_draw,
    .refresh = receipts_refresh,
};
