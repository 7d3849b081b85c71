/* view_metrics.c - the metric panel: the active models (the city's own, or the
 * fallback of all cities), the latest evaluations, the grid-search leaderboard and a
 * sparkline of its runs.  The rows come from core (browse.h).
 *
 * Metric JSON comes from several writers (train, eval, grid search); a figure is
 * looked up by name in the object and, when absent there, in its nested objects
 * ("test" first, then "valid", then the rest), so the panel shows what exists and
 * says "-" for what does not, never an invented number.
 */
#include "app.h"
#include "../core/browse.h"
#include "../core/sanitize.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* "synonyms: category purity .., co-purchase rate .." when the metrics hold them. */
static void add_synonym_figures(tui_lines *l, const cJSON *m, int alt_spelling)
{
    const cJSON *pu = find_number_part(m, "purity", 0);
    const cJSON *co = find_number_part(m, "copurchase", 0);
    if (!co && alt_spelling)
        co = find_number_part(m, "co_purchase", 0);
    if (!pu && !co)
        return;
    char a1[32] = "-", a2[32] = "-";
    if (pu)
        snprintf(a1, sizeof a1, "%.4f", pu->valuedouble);
    if (co)
        snprintf(a2, sizeof a2, "%.4f", co->valuedouble);
    tui_lines_add(l, 4, TUI_ROLE_NORMAL, "synonyms: category purity %s, co-purchase rate %s",
                  a1, a2);
}

static void section_models(tui_app *a, tui_lines *l, const rs_glyphs *g, int64_t city,
                           int64_t *active_ids, int *n_active)
{
    int shown = 0, fallback = 0;
    rs_browse_rows rows = {0};
    rs_error e = {0};
    *n_active = 0;
    tui_lines_add(l, 0, TUI_ROLE_HEADER, "%s", "Active models");
    tui_lines_span(l, 26, TUI_ROLE_HEADER, "%8s %8s %8s %8s %8s", "HR@10", "NDCG@10",
                   "cover@10", "novelty", "train s");
    if (rs_browse_active_models(a->s, city, &rows, &e) != RS_OK) {
        tui_lines_add(l, 2, TUI_ROLE_ERROR, "%s", e.msg);
        return;
    }
    const char *last_kind = "";
    int64_t last_city = -1;
    for (int i = 0; i < rows.n; i++) {
        const rs_browse_row *r = &rows.v[i];
        if (!r->kind || !r->split)
            continue;
        /* per kind, the city's own models hide the all-cities ones */
        if (strcmp(r->kind, last_kind) == 0 && r->city_id != last_city && last_city == city &&
            city != 0)
            continue;
        last_kind = r->kind;
        last_city = r->city_id;
        if (*n_active < 64)
            active_ids[(*n_active)++] = r->id;
        cJSON *m = r->metrics ? cJSON_Parse(r->metrics) : NULL;
        /* a model of all cities answering for this city: the fallback mark */
        char label[96], mark[8] = "";
        if (r->city_id == 0 && city != 0) {
            mark[rs_utf8_encode(mark, (unsigned)g->fallback)] = 0;
            fallback++;
        }
        snprintf(label, sizeof label, "%s%s%s #%lld %s", mark, mark[0] ? " " : "",
                 r->kind, (long long)r->id, r->split);
        add_figures(l, label, r->city_id == 0 && city != 0 ? TUI_ROLE_WARN : TUI_ROLE_NORMAL,
                    m, r->seconds, r->has_seconds);
        if (strcmp(r->kind, "product") == 0 && m)
            add_synonym_figures(l, m, 1);
        cJSON_Delete(m);
        shown++;
    }
    rs_browse_rows_free(&rows);
    if (!shown)
        tui_lines_add(l, 2, TUI_ROLE_WARN, "%s", "no model trained yet: run `recoscope train`");
    if (fallback)
        tui_lines_add(l, 2, TUI_ROLE_DIM, "(%s: the model of all cities answers for this city)",
                      g->utf8 ? "\u21b3" : ">");
}

/* A blank line and the header of a section whose rows come from a query: with the
 * query's error instead when it failed (returns 0 then). */
static int section_head(tui_lines *l, int rc, const rs_error *e, const char *title,
                        const char *suffix)
{
    tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
    tui_lines_add(l, 0, TUI_ROLE_HEADER, "%s%s", title, rc == RS_OK ? suffix : "");
    if (rc != RS_OK)
        tui_lines_add(l, 2, TUI_ROLE_ERROR, "%s", e->msg);
    return rc == RS_OK;
}

static void section_evaluations(tui_app *a, tui_lines *l, int64_t city)
{
    rs_browse_rows rows = {0};
    rs_error e = {0};
    int rc = rs_browse_evaluations(a->s, city, &rows, &e);
    if (!section_head(l, rc, &e, "Evaluations, latest per method",
                      rows.city_id != city ? " (all cities)" : ""))
        return;
    for (int i = 0; i < rows.n; i++) {
        const rs_browse_row *r = &rows.v[i];
        cJSON *m = r->metrics ? cJSON_Parse(r->metrics) : NULL;
        char label[96];
        snprintf(label, sizeof label, "%s (%s)", r->kind ? r->kind : "?",
                 r->split ? r->split : "?");
        add_figures(l, label, TUI_ROLE_NORMAL, m, 0, 0);
        add_synonym_figures(l, m, 0);
        cJSON_Delete(m);
    }
    if (!rows.n)
        tui_lines_add(l, 2, TUI_ROLE_DIM, "%s", "no evaluations yet: run `recoscope eval`");
    rs_browse_rows_free(&rows);
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

/* The browse rows as run rows (parsed figures, marked when active). */
static run_row *parse_runs(const rs_browse_rows *br, const int64_t *active_ids, int n_active)
{
    run_row *rows = calloc((size_t)(br->n > 0 ? br->n : 1), sizeof *rows);
    if (!rows)
        return NULL;
    for (int i = 0; i < br->n; i++) {
        const rs_browse_row *b = &br->v[i];
        run_row *r = &rows[i];
        r->id = b->id;
        snprintf(r->kind, sizeof r->kind, "%s", b->kind ? b->kind : "?");
        cJSON *p = b->params ? cJSON_Parse(b->params) : NULL;
        cJSON *m = b->metrics ? cJSON_Parse(b->metrics) : NULL;
        params_summary(p, r->params, sizeof r->params);
        r->has_score = get_metric(m, "hr@10", &r->score);
        if (!get_metric(m, "ndcg@10", &r->ndcg))
            r->ndcg = NAN;
        cJSON_Delete(p);
        cJSON_Delete(m);
        r->seconds = b->seconds;
        r->selected = b->selected;
        r->model_id = b->model_id;
        for (int j = 0; j < n_active; j++)
            if (r->model_id && r->model_id == active_ids[j])
                r->selected = 1;
    }
    return rows;
}

static void section_runs(tui_app *a, tui_lines *l, const rs_glyphs *g, int64_t city,
                         const int64_t *active_ids, int n_active)
{
    rs_browse_rows br = {0};
    rs_error e = {0};
    int rc = rs_browse_runs(a->s, city, &br, &e);
    if (!section_head(l, rc, &e, "Grid-search leaderboard by HR@10 (validation)",
                      br.city_id != city ? ", all cities" : ""))
        return;
    int n = br.n;
    run_row *rows = n > 0 ? parse_runs(&br, active_ids, n_active) : NULL;
    rs_browse_rows_free(&br);
    if (n == 0 || !rows) {
        tui_lines_add(l, 2, TUI_ROLE_DIM, "%s",
                      n == 0 ? "no grid search yet: run `recoscope train --grid FILE`"
                             : "out of memory");
        free(rows);
        return;
    }
    /* the sparkline follows time (run order), before sorting */
    double *series = malloc((size_t)n * sizeof *series);
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

static void metrics_open(tui_app *a)
{
    const rs_glyphs *g = rs_glyphs_get(a->utf8);
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

const tui_view tui_view_metrics = {
    .name = "metrics",
    .cmd = TUI_CMD_METRICS,
    .open = metrics_open,
    .key = tui_text_view_key,
    .draw = tui_text_view_draw,
};
