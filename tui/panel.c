/* panel.c - the text overlays: help (generated from the key table), the metric panel
 * (registry, evaluations, grid-search runs) and the explanation of one row.
 *
 * Metric JSON comes from several writers (train, eval, grid search); a figure is
 * looked up by name in the object and, when absent there, in its nested objects
 * ("test" first, then "valid", then the rest), so the panel shows what exists and
 * says "-" for what does not, never an invented number.
 */
#include "app.h"
#include "../core/sanitize.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ help ---- */

void tui_build_help(tui_app *a)
{
    tui_lines *l = &a->text;
    tui_lines_clear(l);
    snprintf(l->title, sizeof l->title, "Help: keys of recoscope");
    size_t n;
    const tui_command *cmds = tui_commands(&n);
    for (int sec = 0; sec < TUI_NSECTIONS; sec++) {
        if (sec > 0)
            tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
        tui_lines_add(l, 0, TUI_ROLE_HEADER, "%s", tui_section_name(sec));
        for (size_t i = 0; i < n; i++) {
            if (cmds[i].section != sec)
                continue;
            tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", cmds[i].keys);
            tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", cmds[i].help);
        }
    }
    tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
    tui_lines_add(l, 0, TUI_ROLE_HEADER, "%s", "In the search box and the export prompt");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "text Bksp C-u");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "edit (C-u clears); search results follow every key");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "Up Down Enter Esc");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "choose a match, pick it, or cancel");

    /* what the columns mean (55 columns of text fit beside the names at 80x24) */
    const char *times = a->utf8 ? "\u00d7" : "x";
    tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
    tui_lines_add(l, 0, TUI_ROLE_HEADER, "%s", "Reading the panes");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "bars");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "compare the rows of one list; the number is the score");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "Synonyms");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "cosine; bars from 0 to the list's best");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "Categories");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "softmax weight %s N categories: 1%s = average", times,
                   times);
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "Complements");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "in.out score; bars span the list's lowest..highest");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "p42");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "popularity percentile in the city");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", a->utf8 ? "\u21b3 all cities" : "> all cities");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "the city has no model of its own: fallback");
    tui_lines_add(l, 2, TUI_ROLE_KEY, "%s", "e");
    tui_lines_span(l, 21, TUI_ROLE_NORMAL, "%s", "every number behind the highlighted row");
}

/* --------------------------------------------------------------- metrics ---- */

static const cJSON *find_number(const cJSON *o, const char *name, int depth)
{
    if (!cJSON_IsObject(o) || depth > 3)
        return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsNumber(v))
        return v;
    static const char *const PREFER[] = {"test", "valid", "metrics"};
    for (size_t i = 0; i < sizeof PREFER / sizeof PREFER[0]; i++) {
        const cJSON *sub = cJSON_GetObjectItemCaseSensitive(o, PREFER[i]);
        if ((v = find_number(sub, name, depth + 1)))
            return v;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, o)
    {
        if (cJSON_IsObject(it) && (v = find_number(it, name, depth + 1)))
            return v;
    }
    return NULL;
}

/* The first number whose key contains part (e.g. "purity"). */
static const cJSON *find_number_part(const cJSON *o, const char *part, int depth)
{
    if (!cJSON_IsObject(o) || depth > 3)
        return NULL;
    const cJSON *it, *v;
    cJSON_ArrayForEach(it, o)
    {
        if (cJSON_IsNumber(it) && it->string && strstr(it->string, part))
            return it;
    }
    cJSON_ArrayForEach(it, o)
    {
        if (cJSON_IsObject(it) && (v = find_number_part(it, part, depth + 1)))
            return v;
    }
    return NULL;
}

static void fmt_metric(const cJSON *o, const char *name, char *buf, size_t n)
{
    const cJSON *v = find_number(o, name, 0);
    if (v && isfinite(v->valuedouble))
        snprintf(buf, n, "%.4f", v->valuedouble);
    else
        snprintf(buf, n, "-");
}

static int get_metric(const cJSON *o, const char *name, double *out)
{
    const cJSON *v = find_number(o, name, 0);
    if (!v || !isfinite(v->valuedouble))
        return 0;
    *out = v->valuedouble;
    return 1;
}

/* Four columns of figures. */
static void add_figures(tui_lines *l, const char *label, tui_role role, const cJSON *m,
                        double seconds, int has_seconds)
{
    char hr[32], nd[32], cv[32], nv[32], sec[32];
    fmt_metric(m, "hr@10", hr, sizeof hr);
    fmt_metric(m, "ndcg@10", nd, sizeof nd);
    fmt_metric(m, "coverage@10", cv, sizeof cv);
    fmt_metric(m, "novelty", nv, sizeof nv);
    if (has_seconds)
        snprintf(sec, sizeof sec, "%.1f", seconds);
    else
        snprintf(sec, sizeof sec, "-");
    tui_lines_add(l, 2, role, "%s", label);
    tui_lines_span(l, 26, role, "%8s %8s %8s %8s %8s", hr, nd, cv, nv, sec);
}

static void add_sparkline(tui_lines *l, const rs_glyphs *g, const double *v, int n,
                          const char *what)
{
    if (n < 2)
        return;
    double lo = v[0], hi = v[0];
    for (int i = 1; i < n; i++) {
        if (v[i] < lo)
            lo = v[i];
        if (v[i] > hi)
            hi = v[i];
    }
    int show = n > 60 ? 60 : n; /* the latest runs */
    char buf[60 * 4 + 1];
    size_t used = 0;
    for (int i = n - show; i < n; i++) {
        int level = hi > lo ? (int)((v[i] - lo) / (hi - lo) * 7 + 0.5) : 3;
        wchar_t ch = g->spark[level < 0 ? 0 : level > 7 ? 7 : level];
        used += rs_utf8_encode(buf + used, (unsigned)ch);
    }
    buf[used] = 0;
    /* the figures on their own line: beside 60 runs they would not fit 80 columns */
    tui_lines_add(l, 2, TUI_ROLE_NORMAL, "%s across %d runs (oldest to newest%s):", what, n,
                  show < n ? ", the latest 60" : "");
    tui_lines_add(l, 4, TUI_ROLE_BAR, "%s", buf);
    tui_lines_add(l, 4, TUI_ROLE_DIM, "min %.4f  max %.4f  last %.4f", lo, hi, v[n - 1]);
}

/* "dim=64 epochs=20 ..." from a params object. */
static void params_summary(const cJSON *p, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, p)
    {
        if (used + 2 >= n || !it->string)
            break;
        int k;
        if (cJSON_IsNumber(it))
            k = snprintf(buf + used, n - used, "%s%s=%g", used ? " " : "", it->string,
                         it->valuedouble);
        else if (cJSON_IsString(it))
            k = snprintf(buf + used, n - used, "%s%s=%s", used ? " " : "", it->string,
                         it->valuestring);
        else
            continue;
        if (k < 0 || (size_t)k >= n - used)
            break;
        used += (size_t)k;
    }
}

static int64_t metrics_city(tui_app *a, const char *table, int64_t city)
{
    /* rows of the city itself, else of all cities */
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE city_id = ?1", table);
    sqlite3_stmt *st = NULL;
    int64_t n = 0;
    if (sqlite3_prepare_v2(rs_store_db(a->s), sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, city);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n > 0 ? city : 0;
}

static void section_models(tui_app *a, tui_lines *l, const rs_glyphs *g, int64_t city,
                           int64_t *active_ids, int *n_active)
{
    sqlite3_stmt *st = NULL;
    int shown = 0, fallback = 0;
    *n_active = 0;
    tui_lines_add(l, 0, TUI_ROLE_HEADER, "%s", "Active models");
    tui_lines_span(l, 26, TUI_ROLE_HEADER, "%8s %8s %8s %8s %8s", "HR@10", "NDCG@10",
                   "cover@10", "novelty", "train s");
    if (sqlite3_prepare_v2(rs_store_db(a->s),
                           "SELECT id, city_id, kind, split, metrics, seconds FROM models"
                           " WHERE active AND (city_id = ?1 OR city_id = 0)"
                           " ORDER BY kind, city_id = ?1 DESC, split",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, city);
    char last_kind[32] = "";
    int64_t last_city = -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), mc = sqlite3_column_int64(st, 1);
        const char *kind = (const char *)sqlite3_column_text(st, 2);
        const char *split = (const char *)sqlite3_column_text(st, 3);
        const char *mj = (const char *)sqlite3_column_text(st, 4);
        if (!kind || !split)
            continue;
        /* per kind, the city's own models hide the all-cities ones */
        if (strcmp(kind, last_kind) == 0 && mc != last_city && last_city == city && city != 0)
            continue;
        snprintf(last_kind, sizeof last_kind, "%s", kind);
        last_city = mc;
        if (*n_active < 64)
            active_ids[(*n_active)++] = id;
        cJSON *m = mj ? cJSON_Parse(mj) : NULL;
        /* a model of all cities answering for this city: the fallback mark */
        char label[96], mark[8] = "";
        if (mc == 0 && city != 0) {
            mark[rs_utf8_encode(mark, (unsigned)g->fallback)] = 0;
            fallback++;
        }
        snprintf(label, sizeof label, "%s%s%s #%lld %s", mark, mark[0] ? " " : "", kind,
                 (long long)id, split);
        add_figures(l, label, mc == 0 && city != 0 ? TUI_ROLE_WARN : TUI_ROLE_NORMAL, m,
                    sqlite3_column_double(st, 5), sqlite3_column_type(st, 5) != SQLITE_NULL);
        if (strcmp(kind, "product") == 0 && m) {
            const cJSON *pu = find_number_part(m, "purity", 0);
            const cJSON *co = find_number_part(m, "copurchase", 0);
            if (!co)
                co = find_number_part(m, "co_purchase", 0);
            if (pu || co) {
                char a1[32] = "-", a2[32] = "-";
                if (pu)
                    snprintf(a1, sizeof a1, "%.4f", pu->valuedouble);
                if (co)
                    snprintf(a2, sizeof a2, "%.4f", co->valuedouble);
                tui_lines_add(l, 4, TUI_ROLE_NORMAL, "synonyms: category purity %s, co-purchase rate %s", a1, a2);
            }
        }
        cJSON_Delete(m);
        shown++;
    }
    sqlite3_finalize(st);
    if (!shown)
        tui_lines_add(l, 2, TUI_ROLE_WARN, "%s", "no model trained yet: run `recoscope train`");
    if (fallback)
        tui_lines_add(l, 2, TUI_ROLE_DIM, "(%s: the model of all cities answers for this city)",
                      g->utf8 ? "\u21b3" : ">");
}

static void section_evaluations(tui_app *a, tui_lines *l, int64_t city)
{
    sqlite3_stmt *st = NULL;
    int64_t ec = metrics_city(a, "evaluations", city);
    tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
    tui_lines_add(l, 0, TUI_ROLE_HEADER, "Evaluations, latest per method%s",
                  ec != city ? " (all cities)" : "");
    if (sqlite3_prepare_v2(rs_store_db(a->s),
                           "SELECT method, split, metrics FROM evaluations e WHERE city_id = ?1"
                           " AND id = (SELECT max(id) FROM evaluations f WHERE f.city_id = ?1"
                           " AND f.method = e.method AND f.split = e.split)"
                           " ORDER BY method, split",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, ec);
    int shown = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *method = (const char *)sqlite3_column_text(st, 0);
        const char *split = (const char *)sqlite3_column_text(st, 1);
        const char *mj = (const char *)sqlite3_column_text(st, 2);
        cJSON *m = mj ? cJSON_Parse(mj) : NULL;
        char label[96];
        snprintf(label, sizeof label, "%s (%s)", method ? method : "?", split ? split : "?");
        add_figures(l, label, TUI_ROLE_NORMAL, m, 0, 0);
        const cJSON *pu = find_number_part(m, "purity", 0);
        const cJSON *co = find_number_part(m, "copurchase", 0);
        if (pu || co) {
            char a1[32] = "-", a2[32] = "-";
            if (pu)
                snprintf(a1, sizeof a1, "%.4f", pu->valuedouble);
            if (co)
                snprintf(a2, sizeof a2, "%.4f", co->valuedouble);
            tui_lines_add(l, 4, TUI_ROLE_NORMAL,
                          "synonyms: category purity %s, co-purchase rate %s", a1, a2);
        }
        cJSON_Delete(m);
        shown++;
    }
    sqlite3_finalize(st);
    if (!shown)
        tui_lines_add(l, 2, TUI_ROLE_DIM, "%s", "no evaluations yet: run `recoscope eval`");
}

typedef struct run_row {
    int64_t id, model_id;
    int selected;
    double score, ndcg, seconds;
    int has_score;
    char kind[24];
    char params[160];
} run_row;

static int cmp_run(const void *x, const void *y)
{
    const run_row *p = x, *q = y;
    if (p->has_score != q->has_score)
        return q->has_score - p->has_score;
    if (p->score != q->score)
        return p->score < q->score ? 1 : -1;
    return p->id < q->id ? -1 : p->id > q->id;
}

static void section_runs(tui_app *a, tui_lines *l, const rs_glyphs *g, int64_t city,
                         const int64_t *active_ids, int n_active)
{
    int64_t rc = metrics_city(a, "runs", city);
    sqlite3_stmt *st = NULL;
    run_row *rows = NULL;
    double *series = NULL;
    int n = 0, cap = 0;
    tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
    tui_lines_add(l, 0, TUI_ROLE_HEADER, "Grid-search leaderboard by HR@10 (validation)%s",
                  rc != city ? ", all cities" : "");
    if (sqlite3_prepare_v2(rs_store_db(a->s),
                           "SELECT id, kind, params, metrics, seconds, selected,"
                           " coalesce(model_id, 0) FROM runs WHERE city_id = ?1 ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, rc);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            int nc = cap ? 2 * cap : 32;
            run_row *r = realloc(rows, (size_t)nc * sizeof *r);
            if (!r)
                break;
            rows = r;
            cap = nc;
        }
        run_row *r = &rows[n];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(st, 0);
        snprintf(r->kind, sizeof r->kind, "%s",
                 sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "?");
        const char *pj = (const char *)sqlite3_column_text(st, 2);
        const char *mj = (const char *)sqlite3_column_text(st, 3);
        cJSON *p = pj ? cJSON_Parse(pj) : NULL;
        cJSON *m = mj ? cJSON_Parse(mj) : NULL;
        params_summary(p, r->params, sizeof r->params);
        r->has_score = get_metric(m, "hr@10", &r->score);
        if (!get_metric(m, "ndcg@10", &r->ndcg))
            r->ndcg = NAN;
        cJSON_Delete(p);
        cJSON_Delete(m);
        r->seconds = sqlite3_column_double(st, 4);
        r->selected = sqlite3_column_int(st, 5);
        r->model_id = sqlite3_column_int64(st, 6);
        for (int i = 0; i < n_active; i++)
            if (r->model_id && r->model_id == active_ids[i])
                r->selected = 1;
        n++;
    }
    sqlite3_finalize(st);
    if (n == 0) {
        tui_lines_add(l, 2, TUI_ROLE_DIM, "%s",
                      "no grid search yet: run `recoscope train --grid FILE`");
        free(rows);
        return;
    }
    /* the sparkline follows time (run order), before sorting */
    series = malloc((size_t)n * sizeof *series);
    int ns = 0;
    if (series)
        for (int i = 0; i < n; i++)
            if (rows[i].has_score)
                series[ns++] = rows[i].score;
    qsort(rows, (size_t)n, sizeof *rows, cmp_run);
    tui_lines_add(l, 2, TUI_ROLE_DIM, " %3s %4s %-12s %8s %8s %8s  %s", "#", "run", "kind",
                  "HR@10", "NDCG@10", "train s", "params");
    for (int i = 0; i < n; i++) {
        run_row *r = &rows[i];
        char hr[16] = "-", nd[16] = "-";
        if (r->has_score)
            snprintf(hr, sizeof hr, "%.4f", r->score);
        if (isfinite(r->ndcg))
            snprintf(nd, sizeof nd, "%.4f", r->ndcg);
        tui_role role = r->selected ? TUI_ROLE_MARK : TUI_ROLE_NORMAL;
        char mark[8] = " ";
        if (r->selected)
            mark[rs_utf8_encode(mark, (unsigned)g->active)] = 0;
        tui_lines_add(l, 2, role, "%s%3d %4lld %-12s %8s %8s %8.1f  %s", mark, i + 1,
                      (long long)r->id, r->kind, hr, nd, r->seconds, r->params);
    }
    tui_lines_add(l, 2, TUI_ROLE_DIM, "%s", "(marked: the selected / active run)");
    tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
    add_sparkline(l, g, series, ns, "HR@10");
    free(series);
    free(rows);
}

void tui_build_metrics(tui_app *a, const rs_glyphs *g)
{
    tui_lines *l = &a->text;
    tui_lines_clear(l);
    tui_city *city = &a->cities[a->ci];
    snprintf(l->title, sizeof l->title, "Metrics: %s", city->name);
    int64_t active[64];
    int n_active = 0;
    section_models(a, l, g, city->id, active, &n_active);
    section_evaluations(a, l, city->id);
    section_runs(a, l, g, city->id, active, n_active);
}

/* --------------------------------------------------------------- explain ---- */

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

void tui_build_explain(tui_app *a)
{
    tui_lines *l = &a->text;
    tui_lines_clear(l);
    static const char *const NAMES[NPANES] = {"synonym", "category", "complement"};
    const rs_rec_list *lst = tui_list(a, a->pane);
    snprintf(l->title, sizeof l->title, "Explain: %s", NAMES[a->pane]);
    if (!lst || lst->status != RS_OK || a->sel[a->pane] >= lst->n) {
        tui_lines_add(l, 0, TUI_ROLE_WARN, "%s", "no row to explain in this pane");
        if (lst && lst->message[0])
            tui_lines_add(l, 0, TUI_ROLE_DIM, "%s", lst->message);
        return;
    }
    const rs_rec_list *cats = tui_list(a, PANE_CAT), *comps = tui_list(a, PANE_COMP);
    const rs_rec_row *r = &lst->rows[a->sel[a->pane]];
    int rank = a->sel[a->pane] + 1, n_elig = a->cat_eligible;
    const char *times = a->utf8 ? "\u00d7" : "x";
    const char *city = a->cities[a->ci].name;
#define ROW(label, ...)                                                                    \
    do {                                                                                   \
        tui_lines_add(l, 0, TUI_ROLE_DIM, "%s", label);                                    \
        tui_lines_span(l, 26, TUI_ROLE_NORMAL, __VA_ARGS__);                               \
    } while (0)
#define SECTION(title) tui_lines_add(l, 0, TUI_ROLE_HEADER, "%s", title)
    ROW("rank", "%d of %d", rank, lst->n);
    const char *nm = r->name ? r->name : "", *id = r->ext_id ? r->ext_id : "";
    if (id[0] && strcmp(id, nm) != 0)
        ROW(a->pane == PANE_CAT ? "category" : "product", "%s  (%s)", nm, id);
    else
        ROW(a->pane == PANE_CAT ? "category" : "product", "%s", nm);
    ROW(a->pane == PANE_CAT ? "department" : "category", "%s", r->category ? r->category : "");

    /* the category step: the row's category weight and what complements made of it */
    int32_t cat = a->pane == PANE_CAT ? r->index : r->category_index;
    int ci = a->pane == PANE_CAT ? a->sel[PANE_CAT] : list_find(cats, cat);
    int ki = a->pane == PANE_COMP ? a->sel[PANE_COMP] : list_find_category(comps, cat);
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
            k->cat_slots == 1 ? "" : "s", a->k);
    } else {
        ROW("complement slots", "%s", "none: not among the complement categories");
    }

    /* the pair (query, product): computed for complement rows */
    if (a->pane != PANE_CAT) {
        SECTION("With the query");
        int pi = a->pane == PANE_COMP ? a->sel[PANE_COMP] : list_find(comps, r->index);
        if (pi >= 0) {
            const rs_rec_row *k = &comps->rows[pi];
            if (a->pane != PANE_COMP)
                ROW("product score", "%.6f  (sum of in[q].out[p]; complement rank %d)",
                    k->score, pi + 1);
            if (k->copurchase >= 0) {
                ROW("co-purchases", "%lld receipts with the query", (long long)k->copurchase);
                ROW("lift", "%.3f  (co-purchases / expected if independent)", k->lift);
            } else {
                ROW("co-purchases", "%s",
                    a->cities[a->ci].rec_full ? "not computed" : "being counted in the background");
            }
        } else {
            ROW("product score", "%s", "not computed: not in the complements list");
            ROW("co-purchases, lift", "%s", "counted for complement rows only");
        }
    }

    SECTION("Popularity");
    ROW("popularity", "%lld receipts in %s", (long long)r->popularity, city);
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

    /* model files: the name (the directory is the database's models directory); the
     * label holds the registry id and the fallback mark when all cities' answers */
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
#undef ROW
#undef SECTION
}
