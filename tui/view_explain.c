/* view_explain.c - the explain view: every number behind the highlighted row of the
 * active pane (the category step, the pair with the query, popularity, model files).
 * Up/Down move the pane's highlight and explain the next row; Enter follows it.
 */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Row of a product (or, for the categories list, a category) in a list; -1 when absent. */
static int list_find(const rs_rec_list *l, int32_t index)
{
    if (!l || l->status != RS_OK)
        return -1;
    for (int i = 0; i < l->n; i++)
        if (l->rows[i].index == index)
            return i;
    return -1;
}

/* The first complement row of a category; -1 when the category got no row. */
static int list_find_category(const rs_rec_list *l, int32_t category)
{
    if (!l || l->status != RS_OK)
        return -1;
    for (int i = 0; i < l->n; i++)
        if (l->rows[i].category_index == category)
            return i;
    return -1;
}

static int is_query_category(const tui_app *a, int32_t category)
{
    for (int i = 0; i < a->res->n_query_categories; i++)
        if (a->res->query_categories[i] == category)
            return 1;
    return 0;
}

/* A label in the first column, the figure at column 26. */
#define ROW(label, ...)                                                                    \
    do {                                                                                   \
        tui_lines_add(l, 0, TUI_ROLE_DIM, "%s", label);                                    \
        tui_lines_span(l, 26, TUI_ROLE_NORMAL, __VA_ARGS__);                               \
    } while (0)
#define SECTION(title) tui_lines_add(l, 0, TUI_ROLE_HEADER, "%s", title)

/* The category step: the row's category weight and what complements made of it. */
static void explain_category_step(tui_app *a, tui_lines *l, const rs_rec_row *r)
{
    const rs_rec_list *cats = tui_rows(a, PANE_CAT), *comps = tui_rows(a, PANE_COMP);
    const char *times = a->utf8 ? "\u00d7" : "x";
    int n_elig = a->cat_eligible;
    int32_t cat = a->pane == PANE_CAT ? r->index : r->category_index;
    int ci = a->pane == PANE_CAT ? a->panes[PANE_CAT].sel : list_find(cats, cat);
    int ki = a->pane == PANE_COMP ? a->panes[PANE_COMP].sel : list_find_category(comps, cat);
    SECTION("Category step");
    if (a->pane != PANE_CAT && is_query_category(a, cat)) {
        ROW("category weight", "%s", "none: the query's own category (not weighted)");
    } else if (ci >= 0 || (a->pane == PANE_COMP && r->cat_weight > 0)) {
        double w = ci >= 0 ? cats->rows[ci].score : r->cat_weight;
        if (n_elig > 0) {
            ROW("category weight", "%.6f  (softmax over %d categories)", w, n_elig);
            ROW("vs average category", "%.2f%s  (weight %s %d; 1 = average)", w * n_elig, times,
                times, n_elig);
        } else {
            ROW("category weight", "%.6f  (softmax over the categories)", w);
        }
        if (ci >= 0) {
            double sum = 0;
            for (int i = 0; i < cats->n; i++)
                sum += cats->rows[i].score;
            ROW("share of shown weight", "%.1f%%  (of the %d categories listed)",
                sum > 0 ? 100 * cats->rows[ci].score / sum : 0.0, cats->n);
        }
    } else {
        ROW("category weight", "below the %d categories listed", cats ? cats->n : 0);
    }
    if (ki >= 0) {
        const rs_rec_row *k = &comps->rows[ki];
        ROW("category importance", "%.6f  (weight x category share)", k->cat_importance);
        ROW("transformed score", "%.6f  (Yeo-Johnson, standardised)", k->cat_transformed);
        ROW("slot share", "%.6f  -> %d slot%s of %d", k->cat_share, k->cat_slots,
            k->cat_slots == 1 ? "" : "s", a->k_used);
    } else {
        ROW("complement slots", "%s", "none: not among the complement categories");
    }
}

/* Co-purchase count and lift of a row the recommender did not count (a synonym): from
 * the co-purchase index, as the complements count them.  A synonym bought with the
 * query far above chance (lift >> 1) reads as a complement, not a substitute. */
static void explain_copurchase(tui_app *a, tui_lines *l, const rs_rec_row *r)
{
    rs_recommender *rec = tui_rec(a);
    int64_t *ids = NULL, n = 0;
    const int32_t *q = a->n_basket > 0 ? a->basket : &a->product;
    int nq = a->n_basket > 0 ? a->n_basket : 1;
    rs_error e = {0};
    if (!rec || !a->cities[a->ci].rec_full ||
        rs_rec_copurchase_receipts(rec, q, nq, r->index, &ids, &n, &e) != RS_OK) {
        ROW("co-purchases", "%s",
            rec && !a->cities[a->ci].rec_full ? "being counted in the background"
                                               : "not computed");
        return;
    }
    free(ids);
    ROW("co-purchases", "%lld receipts with the query (R lists them)", (long long)n);
    rs_rec_product qi;
    int64_t N = rs_rec_n_receipts(rec);
    if (nq == 1 && rs_rec_product_info(rec, a->product, &qi, NULL) == RS_OK &&
        qi.popularity > 0 && r->popularity > 0 && N > 0) {
        double lift = (double)n * (double)N / ((double)r->popularity * (double)qi.popularity);
        if (lift > 2)
            ROW("lift", "%.3f  (x chance: bought together, a complement)", lift);
        else
            ROW("lift", "%.3f  (co-purchases / expected if independent)", lift);
    } else {
        ROW("lift", "%s", nq > 1 ? "for a single product only" : "none: unsold");
    }
}

/* The pair (query, product): computed for complement rows. */
static void explain_pair(tui_app *a, tui_lines *l, const rs_rec_row *r)
{
    const rs_rec_list *comps = tui_rows(a, PANE_COMP);
    SECTION("With the query");
    int pi = a->pane == PANE_COMP ? a->panes[PANE_COMP].sel : list_find(comps, r->index);
    if (pi < 0) {
        ROW("product score", "%s", "not computed: not in the complements list");
        explain_copurchase(a, l, r);
        return;
    }
    const rs_rec_row *k = &comps->rows[pi];
    if (a->pane != PANE_COMP)
        ROW("product score", "%.6f  (sum of in[q].out[p]; complement rank %d)", k->score,
            pi + 1);
    if (k->copurchase >= 0) {
        ROW("co-purchases", "%lld receipts with the query (R lists them)", (long long)k->copurchase);
        ROW("lift", "%.3f  (co-purchases / expected if independent)", k->lift);
    } else {
        ROW("co-purchases", "%s",
            a->cities[a->ci].rec_full ? "not computed" : "being counted in the background");
    }
}

static void explain_popularity(tui_app *a, tui_lines *l, const rs_rec_row *r)
{
    SECTION("Popularity");
    ROW("popularity", "%lld receipts in %s", (long long)r->popularity, a->cities[a->ci].name);
    if (a->pane == PANE_CAT)
        ROW("percentile", "p%.1f  (among the city's categories)", r->percentile);
    else
        ROW("percentile", "p%.1f  (mask p%g-p%g)", r->percentile, a->min_pct, a->max_pct);
    if (a->pane == PANE_CAT) {
        int32_t top = tui_category_top(a, r->index);
        rs_rec_product info;
        rs_recommender *rec = tui_rec(a);
        if (top >= 0 && rec && rs_rec_product_info(rec, top, &info, NULL) == RS_OK)
            ROW("top product", "%s  (Enter follows it)", info.name);
    }
}

/* Model files: the name (the directory is the database's models directory); the label
 * holds the registry id and the fallback mark when all cities' answers. */
static void explain_models(tui_app *a, tui_lines *l, const rs_rec_list *lst)
{
    SECTION("Model files");
    const char *fb = a->utf8 ? " \u21b3 all cities" : " > all cities";
    char label[64];
    const char *mp = lst->model_path ? lst->model_path : "-";
    const char *slash = strrchr(mp, '/');
    snprintf(label, sizeof label, "%s #%lld%s",
             a->pane == PANE_CAT ? "category" : "product", (long long)lst->model_id,
             lst->model_city == 0 && a->cities[a->ci].id != 0 ? fb : "");
    ROW(label, "%s", slash ? slash + 1 : mp);
    if (a->pane == PANE_COMP && lst->model2_path && lst->model2_path[0]) {
        const char *m2 = strrchr(lst->model2_path, '/');
        snprintf(label, sizeof label, "category #%lld%s", (long long)lst->model2_id,
                 lst->model2_city == 0 && a->cities[a->ci].id != 0 ? fb : "");
        ROW(label, "%s", m2 ? m2 + 1 : lst->model2_path);
    }
    if (a->n_basket > 0)
        ROW("query", "the basket (%d products)", a->n_basket);
}

static void explain_build(tui_app *a)
{
    tui_lines *l = &a->text;
    tui_lines_clear(l);
    const rs_rec_list *lst = tui_rows(a, a->pane);
    int sel = a->panes[a->pane].sel;
    snprintf(l->title, sizeof l->title, "Explain: %s", TUI_PANES[a->pane].row_name);
    if (!lst || lst->status != RS_OK || sel >= lst->n) {
        tui_lines_add(l, 0, TUI_ROLE_WARN, "%s", "no row to explain in this pane");
        if (lst && lst->message[0])
        {
            char msg[sizeof lst->message]; /* the reason in full */
            snprintf(msg, sizeof msg, "%s", lst->message);
            tui_short_paths(a, msg);
            tui_lines_wrap(a, l, 0, TUI_ROLE_DIM, msg);
        }
        return;
    }
    const rs_rec_row *r = &lst->rows[sel];
    ROW("rank", "%d of %d", sel + 1, lst->n);
    const char *nm = r->name ? r->name : "", *id = r->ext_id ? r->ext_id : "";
    if (id[0] && strcmp(id, nm) != 0)
        ROW(a->pane == PANE_CAT ? "category" : "product", "%s  (%s)", nm, id);
    else
        ROW(a->pane == PANE_CAT ? "category" : "product", "%s", nm);
    ROW(a->pane == PANE_CAT ? "department" : "category", "%s", r->category ? r->category : "");
    switch (a->pane) {
    case PANE_SYN:
        ROW("score", "%.6f  (cosine of input vectors)", r->score);
        break;
    case PANE_CAT:
        break; /* the score is the category weight, below */
    default:
        ROW("product score", "%.6f  (sum of in[q].out[p])", r->score);
        break;
    }
    explain_category_step(a, l, r);
    if (a->pane != PANE_CAT)
        explain_pair(a, l, r);
    explain_popularity(a, l, r);
    explain_models(a, l, lst);
}

#undef ROW
#undef SECTION

static void explain_open(tui_app *a)
{
    explain_build(a);
}

static unsigned explain_key(tui_app *a, int code, tui_cmd cmd)
{
    if (cmd == TUI_CMD_UP || cmd == TUI_CMD_DOWN) {
        /* the detail view follows the highlight: the previous / next row */
        const rs_rec_list *l = tui_rows(a, a->pane);
        tui_list_step(&a->panes[a->pane], l ? l->n : 0, cmd == TUI_CMD_UP ? -1 : 1);
        explain_build(a);
        a->ov_list.top = 0;
        return TUI_HANDLED;
    }
    if (cmd == TUI_CMD_FOLLOW) {
        tui_view_close(a);
        tui_follow(a);
        return TUI_HANDLED;
    }
    if (cmd == TUI_CMD_RECEIPTS) { /* the receipts behind its co-purchase count */
        tui_view_open(a, &tui_view_receipts);
        return TUI_HANDLED;
    }
    return tui_text_view_key(a, code, cmd);
}

/* Co-purchase counts arrived: the same row again, at the same scroll position. */
static void explain_refresh(tui_app *a)
{
    int top = a->ov_list.top;
    explain_build(a);
    a->ov_list.top = top;
}

const tui_view tui_view_explain = {
    .name = "explain",
    .cmd = TUI_CMD_EXPLAIN,
    .open = explain_open,
    .key = explain_key,
    .draw = tui_text_view_draw,
    .refresh = explain_refresh,
};
