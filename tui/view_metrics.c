/* view_metrics.c - the metric panel: the active models and the completion choice (with
 * why each was chosen), the latest held-out evaluations (marked stale when the model
 * they measured has been replaced since), and the leaderboards of the grid search per
 * kind, sorted by the metric that selected the active models.  Every number says on
 * which part of the data it was measured.  The rows come from core (browse.h); metric
 * names and labels from the kinds table (kinds.h: RS_RANK_METRICS).
 */
#include "app.h"
#include "../core/browse.h"
#include "../core/completion.h"
#include "../core/completion_choice.h"
#include "../core/custeval_record.h"
#include "../core/kinds.h"
#include "../core/sanitize.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The synonym figures of an evaluation (written by eval: "synonyms sgns in.in"). */
#define SYN_PURITY "category_purity@10"
#define SYN_COPURCHASE "copurchase_rate"
#define LEADERBOARD_ROWS 10 /* per kind */

/* A metric of a metrics object (train and eval write them flat), or NaN. */
static double metric(const cJSON *m, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

static void fmt4(double v, char *buf, size_t n)
{
    if (isfinite(v))
        snprintf(buf, n, "%.4f", v);
    else
        snprintf(buf, n, "-");
}

/* The label of a metric key ("NDCG@10" for "ndcg@10"; keys without a label as they
 * are: "mrr"). */
static const char *metric_label(const char *key)
{
    for (int i = 0; i < RS_N_RANK_METRICS; i++)
        if (strcmp(RS_RANK_METRICS[i].key, key) == 0)
            return RS_RANK_METRICS[i].label;
    return key;
}

/* The rank metrics in columns (kinds.h), then the training seconds when given. */
static void add_figures(tui_lines *l, const char *label, tui_role role, const cJSON *m,
                        const char *last)
{
    char v[RS_N_RANK_METRICS > 4 ? RS_N_RANK_METRICS : 4][32];
    for (int i = 0; i < 4; i++)
        fmt4(i < RS_N_RANK_METRICS ? metric(m, RS_RANK_METRICS[i].key) : NAN, v[i], 32);
    tui_lines_add(l, 2, role, "%s", label);
    tui_lines_span(l, 26, role, "%8s %8s %8s %8s %8s", v[0], v[1], v[2], v[3], last ? last : "");
}

static void add_figures_header(tui_lines *l, const char *title, const char *last)
{
    tui_lines_add(l, 0, TUI_ROLE_HEADER, "%s", title);
    tui_lines_add(l, 26, TUI_ROLE_DIM, "%8s %8s %8s %8s %8s",
                  RS_N_RANK_METRICS > 0 ? RS_RANK_METRICS[0].label : "",
                  RS_N_RANK_METRICS > 1 ? RS_RANK_METRICS[1].label : "",
                  RS_N_RANK_METRICS > 2 ? RS_RANK_METRICS[2].label : "",
                  RS_N_RANK_METRICS > 3 ? RS_RANK_METRICS[3].label : "", last);
}

/* "dim=64 epochs=20 ..." from a params object; a blend's weights in full ("blend sgns
 * 0.75 + ease 0.25"). */
static void params_summary(const cJSON *p, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = 0;
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(p, "method");
    const cJSON *weights = cJSON_GetObjectItemCaseSensitive(p, "weights");
    if (cJSON_IsString(method) && cJSON_IsObject(weights)) {
        int k = snprintf(buf, n, "%s", method->valuestring);
        used = k > 0 && (size_t)k < n ? (size_t)k : 0;
        if (strcmp(method->valuestring, "blend") != 0)
            return;
        const cJSON *w;
        int first = 1;
        cJSON_ArrayForEach(w, weights)
        {
            if (!cJSON_IsNumber(w) || !w->string || used + 2 >= n)
                continue;
            k = snprintf(buf + used, n - used, "%s%s %.2f", first ? " " : " + ", w->string,
                         w->valuedouble);
            if (k < 0 || (size_t)k >= n - used)
                break;
            used += (size_t)k;
            first = 0;
        }
        return;
    }
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

/* ------------------------------------------------------------------ runs ---- */

/* The metrics `train --select` chooses by, its default first. */
static const char *const SELECT_KEYS[] = {RS_SELECT_DEFAULT, "hr@10", "ndcg@10", "mrr",
                                          "precision@10", "recall@10"};
#define N_SELECT ((int)(sizeof SELECT_KEYS / sizeof SELECT_KEYS[0]))

typedef struct run_row {
    int64_t id, model_id;
    int selected;
    double m[8];   /* RS_RANK_METRICS values (NaN: absent) */
    double by[N_SELECT]; /* SELECT_KEYS values */
    double sel;    /* the selection metric */
    double seconds;
    char kind[24];
    char params[200];
} run_row;

typedef struct runs_t {
    run_row *v;
    int n;
    int64_t city;
    const char *select; /* the metric key that selected the active models */
} runs_t;

static int cmp_run(const void *x, const void *y)
{
    const run_row *p = x, *q = y;
    int c = strcmp(p->kind, q->kind);
    if (c)
        return c;
    int hp = isfinite(p->sel), hq = isfinite(q->sel);
    if (hp != hq)
        return hq - hp;
    if (hp && p->sel != q->sel)
        return p->sel < q->sel ? 1 : -1;
    return p->id < q->id ? -1 : p->id > q->id;
}

/* The metric that selected the runs marked selected: the first candidate (train's
 * default first) under which every selected run is the best of its kind; the default
 * when the runs do not tell. */
static const char *infer_select(const run_row *v, int n)
{
    for (int c = 0; c < N_SELECT; c++) {
        int ok = 1, any = 0;
        for (int i = 0; ok && i < n; i++) {
            if (!v[i].selected)
                continue;
            any = 1;
            if (!isfinite(v[i].by[c]))
                ok = 0;
            for (int j = 0; ok && j < n; j++)
                if (strcmp(v[j].kind, v[i].kind) == 0 && v[j].by[c] > v[i].by[c] + 1e-12)
                    ok = 0;
        }
        if (ok && any)
            return SELECT_KEYS[c];
    }
    return RS_SELECT_DEFAULT;
}

/* The city's runs (or all cities'), parsed; active ids mark the runs that made them. */
static int load_runs(tui_app *a, int64_t city, const int64_t *active, int n_active, runs_t *r,
                     rs_error *e)
{
    rs_browse_rows br = {0};
    memset(r, 0, sizeof *r);
    int rc = rs_browse_runs(a->s, city, &br, e);
    if (rc != RS_OK)
        return rc;
    r->city = br.city_id;
    r->v = calloc((size_t)(br.n > 0 ? br.n : 1), sizeof *r->v);
    if (!r->v) {
        rs_browse_rows_free(&br);
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    for (int i = 0; i < br.n; i++) {
        const rs_browse_row *b = &br.v[i];
        run_row *x = &r->v[r->n++];
        x->id = b->id;
        snprintf(x->kind, sizeof x->kind, "%s", b->kind ? b->kind : "?");
        cJSON *p = b->params ? cJSON_Parse(b->params) : NULL;
        cJSON *m = b->metrics ? cJSON_Parse(b->metrics) : NULL;
        params_summary(p, x->params, sizeof x->params);
        for (int j = 0; j < 8; j++)
            x->m[j] = j < RS_N_RANK_METRICS ? metric(m, RS_RANK_METRICS[j].key) : NAN;
        for (int j = 0; j < N_SELECT; j++)
            x->by[j] = metric(m, SELECT_KEYS[j]);
        cJSON_Delete(p);
        cJSON_Delete(m);
        x->seconds = b->seconds;
        x->selected = b->selected;
        x->model_id = b->model_id;
        for (int j = 0; j < n_active; j++)
            if (x->model_id && x->model_id == active[j])
                x->selected = 1;
    }
    rs_browse_rows_free(&br);
    r->select = infer_select(r->v, r->n);
    int si = 0;
    for (int i = 0; i < N_SELECT; i++)
        if (strcmp(SELECT_KEYS[i], r->select) == 0)
            si = i;
    for (int i = 0; i < r->n; i++)
        r->v[i].sel = r->v[i].by[si];
    return RS_OK;
}

/* Why the run behind a kind's active model (or the completion choice) was chosen:
 * "chosen by NDCG@10 (validation): best of 6 runs, 0.1690 (next 0.1650)". */
static void add_why(tui_lines *l, const runs_t *r, const char *kind, int64_t run_id)
{
    int n = 0, chosen = -1;
    double next = NAN;
    for (int i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].kind, kind) != 0)
            continue;
        n++;
        if ((run_id && r->v[i].id == run_id) || (!run_id && r->v[i].selected && chosen < 0))
            chosen = i;
    }
    if (chosen < 0) {
        tui_lines_add(l, 4, TUI_ROLE_DIM, "%s",
                      n ? "not chosen by the runs on record (trained with fixed parameters?)"
                        : "trained with fixed parameters: no runs to choose from");
        return;
    }
    int best = 1;
    for (int i = 0; i < r->n; i++) {
        if (i == chosen || strcmp(r->v[i].kind, kind) != 0 || !isfinite(r->v[i].sel))
            continue;
        if (r->v[i].sel > r->v[chosen].sel)
            best = 0;
        if (!isfinite(next) || r->v[i].sel > next)
            next = r->v[i].sel;
    }
    char v[32], nx[48] = "";
    fmt4(r->v[chosen].sel, v, sizeof v);
    if (isfinite(next))
        snprintf(nx, sizeof nx, " (next %.4f)", next);
    tui_lines_add(l, 4, best ? TUI_ROLE_DIM : TUI_ROLE_WARN,
                  "chosen by %s (validation): %s of %d run%s, %s%s", metric_label(r->select),
                  best ? "best" : "not the best", n, n == 1 ? "" : "s", v, nx);
}

/* ---------------------------------------------------------------- sections ---- */

/* The active models of the city (its own, else all cities'), with why each was chosen;
 * active[] receives their ids. */
static void section_models(tui_app *a, tui_lines *l, const rs_glyphs *g, int64_t city,
                           const runs_t *runs, int64_t *active, int *n_active,
                           rs_browse_rows *keep)
{
    int fallback = 0;
    rs_error e = {0};
    *n_active = 0;
    add_figures_header(l, "Active models (figures: the validation part of `train`)",
                       "train s");
    if (rs_browse_active_models(a->s, city, keep, &e) != RS_OK) {
        tui_lines_add(l, 2, TUI_ROLE_ERROR, "%s", e.msg);
        return;
    }
    const char *last_kind = "";
    int64_t last_city = -1;
    for (int i = 0; i < keep->n; i++) {
        rs_browse_row *r = &keep->v[i];
        if (!r->kind || !r->split)
            continue;
        /* per kind, the city's own models hide the all-cities ones */
        if (strcmp(r->kind, last_kind) == 0 && r->city_id != last_city && last_city == city &&
            city != 0) {
            r->kind[0] = 0; /* not active here: not for the stale check either */
            continue;
        }
        last_kind = r->kind;
        last_city = r->city_id;
        if (*n_active < 64)
            active[(*n_active)++] = r->id;
        cJSON *m = r->metrics ? cJSON_Parse(r->metrics) : NULL;
        char label[96], mark[8] = "", sec[32] = "-";
        if (r->city_id == 0 && city != 0) { /* all cities' model answering: the mark */
            mark[rs_utf8_encode(mark, (unsigned)g->fallback)] = 0;
            fallback++;
        }
        snprintf(label, sizeof label, "%s%s%s #%lld %s", mark, mark[0] ? " " : "", r->kind,
                 (long long)r->id, r->split);
        if (r->has_seconds)
            snprintf(sec, sizeof sec, "%.1f", r->seconds);
        add_figures(l, label, r->city_id == 0 && city != 0 ? TUI_ROLE_WARN : TUI_ROLE_NORMAL, m,
                    sec);
        cJSON_Delete(m);
        int64_t run = 0;
        for (int j = 0; j < runs->n; j++)
            if (runs->v[j].model_id == r->id)
                run = runs->v[j].id;
        add_why(l, runs, r->kind, run);
    }
    if (!*n_active)
        tui_lines_add(l, 2, TUI_ROLE_WARN, "%s", "no model trained yet: run `recoscope train`");
    if (fallback)
        tui_lines_add(l, 2, TUI_ROLE_DIM, "(%s: the model of all cities answers for this city)",
                      g->utf8 ? "\u21b3" : ">");
}

/* The completion choice of the city (what basket completion serves), and why. */
static void section_choice(tui_app *a, tui_lines *l, int64_t city, const runs_t *runs)
{
    rs_completion_choice ch;
    int found = 0;
    int64_t used = 0;
    rs_error e = {0};
    if (rs_choice_load(a->s, RS_CHOICE_COMPLETION, RS_BASKETS_PRODUCTS, city, &ch, &found,
                       &used, NULL, &e) != RS_OK) {
        tui_lines_add(l, 2, TUI_ROLE_ERROR, "completion choice: %s", e.msg);
        return;
    }
    if (!found)
        return;
    char what[200];
    size_t k = (size_t)snprintf(what, sizeof what, "%s", rs_choice_method(&ch));
    int first = 1;
    if (strcmp(rs_choice_method(&ch), "blend") == 0)
        for (int m = 0; m < RS_COMP_N && k < sizeof what; m++)
            if (ch.weights[m] > 0) {
                k += (size_t)snprintf(what + k, sizeof what - k, "%s%s %.2f", first ? " " : " + ",
                                      rs_comp_method_name((rs_comp_method)m), ch.weights[m]);
                first = 0;
            }
    tui_lines_add(l, 2, TUI_ROLE_NORMAL, "completion%s", used != city ? " (all cities)" : "");
    tui_lines_span(l, 26, TUI_ROLE_NORMAL, "%s%s", what,
                   ch.run ? "" : "  (no run on record)");
    if (ch.run)
        add_why(l, runs, "completion", ch.run);
    /* the baseline on the same validation part: popularity's candidate */
    for (int i = runs->n - 1; i >= 0; i--)
        if (strcmp(runs->v[i].kind, "completion") == 0 &&
            strcmp(runs->v[i].params, "popularity") == 0) {
            char v[32];
            fmt4(runs->v[i].sel, v, sizeof v);
            tui_lines_add(l, 4, TUI_ROLE_DIM, "popularity on the same part: %s %s", v,
                          metric_label(runs->select));
            break;
        }
}

/* The active model of an evaluation's method (by the kinds' labels), NULL when the
 * method measures no model (popularity, item-item) or its kind has none. */
static const rs_browse_row *method_model(const rs_browse_rows *active, const char *method)
{
    for (int i = 0; i < active->n; i++) {
        const char *label = active->v[i].kind ? rs_browse_kind_method(active->v[i].kind) : NULL;
        if (label && strcmp(label, method) == 0)
            return &active->v[i];
    }
    return NULL;
}

/* ------------------------------------------------------- customer evaluations ---- */

/* A row of `eval --customers` (custeval_record.h). */
static int is_customer_eval(const rs_browse_row *r)
{
    return r->kind && r->split &&
           strncmp(r->kind, RS_CUSTEVAL_METHOD_PREFIX, strlen(RS_CUSTEVAL_METHOD_PREFIX)) == 0 &&
           strncmp(r->split, RS_CUSTEVAL_SPLIT_PREFIX, strlen(RS_CUSTEVAL_SPLIT_PREFIX)) == 0;
}

/* One customer row: p@5 p@k R@k MAP@k NDCG@k AUC (or the candidate recall). */
static void add_customer_row(tui_lines *l, const rs_browse_row *r)
{
    cJSON *m = r->metrics ? cJSON_Parse(r->metrics) : NULL;
    const cJSON *kv = cJSON_GetObjectItemCaseSensitive(m, "k");
    int k = cJSON_IsNumber(kv) ? kv->valueint : 10;
    const char *name = r->kind + strlen(RS_CUSTEVAL_METHOD_PREFIX);
    char key[32], v[6][32];
    if (strcmp(r->kind, RS_CUSTEVAL_CANDIDATES) == 0) {
        static const int N[3] = {50, 100, 200};
        for (int i = 0; i < 3; i++) {
            snprintf(key, sizeof key, "candidate_recall@%d", N[i]);
            fmt4(metric(m, key), v[i], sizeof v[i]);
        }
        tui_lines_add(l, 4, TUI_ROLE_DIM, "candidate recall of the union @50 %s  @100 %s  @200 %s",
                      v[0], v[1], v[2]);
        cJSON_Delete(m);
        return;
    }
    static const char *const KEYS[6] = {"precision@5", "precision@%d", "recall@%d", "map@%d",
                                        "ndcg@%d", "auc"};
    for (int i = 0; i < 6; i++) {
        snprintf(key, sizeof key, KEYS[i], k);
        fmt4(metric(m, key), v[i], sizeof v[i]);
    }
    tui_lines_add(l, 4, TUI_ROLE_NORMAL, "%s", name);
    tui_lines_span(l, 18, TUI_ROLE_NORMAL, "%7s %7s %7s %7s %7s %7s", v[0], v[1], v[2], v[3],
                   v[4], v[5]);
    cJSON_Delete(m);
}

/* The personal recommenders of `eval --customers`, one block per split. */
static void section_customers(tui_lines *l, const rs_browse_rows *rows, int64_t city)
{
    for (int i = 0; i < rows->n; i++) {
        const rs_browse_row *r = &rows->v[i];
        if (!is_customer_eval(r))
            continue;
        int seen = 0; /* the block of this split is already drawn */
        for (int j = 0; j < i && !seen; j++)
            seen = is_customer_eval(&rows->v[j]) && strcmp(rows->v[j].split, r->split) == 0;
        if (seen)
            continue;
        tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
        cJSON *m = r->metrics ? cJSON_Parse(r->metrics) : NULL;
        const cJSON *kv = cJSON_GetObjectItemCaseSensitive(m, "k");
        int k = cJSON_IsNumber(kv) ? kv->valueint : 10;
        cJSON_Delete(m);
        tui_lines_add(l, 0, TUI_ROLE_HEADER,
                      "Customers (eval --customers), split %s%s, latest",
                      r->split + strlen(RS_CUSTEVAL_SPLIT_PREFIX),
                      rows->city_id != city ? ", all cities" : "");
        char h[5][16];
        snprintf(h[0], sizeof h[0], "p@%d", k);
        snprintf(h[1], sizeof h[1], "R@%d", k);
        snprintf(h[2], sizeof h[2], "MAP@%d", k);
        snprintf(h[3], sizeof h[3], "NDCG@%d", k);
        tui_lines_add(l, 18, TUI_ROLE_DIM, "%7s %7s %7s %7s %7s %7s", "p@5", h[0], h[1], h[2],
                      h[3], "AUC");
        for (int j = i; j < rows->n; j++) /* the methods, then the candidate row */
            if (is_customer_eval(&rows->v[j]) && strcmp(rows->v[j].split, r->split) == 0 &&
                strcmp(rows->v[j].kind, RS_CUSTEVAL_CANDIDATES) != 0)
                add_customer_row(l, &rows->v[j]);
        for (int j = i; j < rows->n; j++)
            if (is_customer_eval(&rows->v[j]) && strcmp(rows->v[j].split, r->split) == 0 &&
                strcmp(rows->v[j].kind, RS_CUSTEVAL_CANDIDATES) == 0)
                add_customer_row(l, &rows->v[j]);
    }
}

static void section_evaluations(tui_app *a, tui_lines *l, int64_t city,
                                const rs_browse_rows *active)
{
    rs_browse_rows rows = {0};
    rs_error e = {0};
    tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
    if (rs_browse_evaluations(a->s, city, &rows, &e) != RS_OK) {
        tui_lines_add(l, 0, TUI_ROLE_HEADER, "%s", "Held-out evaluations");
        tui_lines_add(l, 2, TUI_ROLE_ERROR, "%s", e.msg);
        return;
    }
    char title[160];
    int first = -1, shown = 0;
    for (int i = 0; i < rows.n && first < 0; i++)
        if (!is_customer_eval(&rows.v[i]))
            first = i;
    if (first >= 0 && rows.v[first].split)
        snprintf(title, sizeof title, "Held-out evaluations (%s), latest per method%s",
                 rows.v[first].split, rows.city_id != city ? ", all cities" : "");
    else
        snprintf(title, sizeof title, "Held-out evaluations");
    add_figures_header(l, title, "");
    int stale = 0;
    for (int i = 0; i < rows.n; i++) {
        const rs_browse_row *r = &rows.v[i];
        if (is_customer_eval(r))
            continue; /* section_customers */
        shown++;
        cJSON *m = r->metrics ? cJSON_Parse(r->metrics) : NULL;
        const rs_browse_row *am = method_model(active, r->kind ? r->kind : "");
        /* measured with a model that is no longer in use: the row records its models;
         * rows from before it did: older than the active model of its kind */
        int old = r->models ? r->stale : am && strcmp(r->created_at, am->created_at) < 0;
        stale += old;
        if (isfinite(metric(m, SYN_PURITY)) || isfinite(metric(m, SYN_COPURCHASE))) {
            char a1[32], a2[32];
            fmt4(metric(m, SYN_PURITY), a1, sizeof a1);
            fmt4(metric(m, SYN_COPURCHASE), a2, sizeof a2);
            tui_lines_add(l, 2, TUI_ROLE_NORMAL, "%s", r->kind ? r->kind : "?");
            tui_lines_span(l, 26, TUI_ROLE_NORMAL, "category purity %s, co-purchase rate %s",
                           a1, a2);
        } else {
            add_figures(l, r->kind ? r->kind : "?", old ? TUI_ROLE_DIM : TUI_ROLE_NORMAL, m,
                        old ? "stale" : "");
        }
        cJSON_Delete(m);
    }
    if (!shown)
        tui_lines_add(l, 2, TUI_ROLE_DIM, "%s", "no evaluations yet: run `recoscope eval`");
    if (stale)
        tui_lines_add(l, 2, TUI_ROLE_DIM,
                      "(stale: measured before the active model was trained; eval again)");
    section_customers(l, &rows, city);
    rs_browse_rows_free(&rows);
}

/* A sparkline of values v[0..n) (run order), the latest 40. */
static void sparkline(const rs_glyphs *g, const double *v, int n, char *buf, size_t cap)
{
    double lo = INFINITY, hi = -INFINITY;
    int from = n > 40 ? n - 40 : 0;
    for (int i = from; i < n; i++)
        if (isfinite(v[i])) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
    size_t used = 0;
    for (int i = from; i < n && used + 5 < cap; i++) {
        int level = !isfinite(v[i]) ? 0 : hi > lo ? (int)((v[i] - lo) / (hi - lo) * 7 + 0.5) : 3;
        used += rs_utf8_encode(buf + used, (unsigned)g->spark[level < 0 ? 0 : level > 7 ? 7 : level]);
    }
    buf[used] = 0;
}

/* One kind's leaderboard: rows [from, to) of the sorted runs. */
static void add_board(tui_lines *l, const rs_glyphs *g, const run_row *v, int from, int to,
                      const double *order_vals, int n_order)
{
    char spark[40 * 4 + 1];
    sparkline(g, order_vals, n_order, spark, sizeof spark);
    tui_lines_add(l, 2, TUI_ROLE_HEADER, "%s: %d run%s", v[from].kind, to - from,
                  to - from == 1 ? "" : "s");
    if (n_order >= 2) {
        tui_lines_span(l, 26, TUI_ROLE_BAR, "%s", spark);
        tui_lines_span(l, 26 + (n_order > 40 ? 40 : n_order) + 1, TUI_ROLE_DIM, "%s",
                       "(run order)");
    }
    for (int i = from; i < to && i < from + LEADERBOARD_ROWS; i++) {
        const run_row *r = &v[i];
        char s1[16], s2[16], mark[8] = " ";
        fmt4(r->sel, s1, sizeof s1);
        fmt4(r->m[0], s2, sizeof s2);
        if (r->selected)
            mark[rs_utf8_encode(mark, (unsigned)g->active)] = 0;
        tui_lines_add(l, 2, r->selected ? TUI_ROLE_MARK : TUI_ROLE_NORMAL,
                      "%s%3d %4lld %8s %8s %7.1f  %s", mark, i - from + 1, (long long)r->id, s1,
                      s2, r->seconds, r->params);
    }
    if (to - from > LEADERBOARD_ROWS)
        tui_lines_add(l, 6, TUI_ROLE_DIM, "(%d more)", to - from - LEADERBOARD_ROWS);
}

static void section_runs(tui_lines *l, const rs_glyphs *g, int64_t city, runs_t *r)
{
    tui_lines_add(l, 0, TUI_ROLE_NORMAL, "%s", "");
    tui_lines_add(l, 0, TUI_ROLE_HEADER,
                  "Leaderboards (validation) by %s, which chose the active models%s",
                  metric_label(r->select), r->city != city ? ", all cities" : "");
    if (r->n == 0) {
        tui_lines_add(l, 2, TUI_ROLE_DIM, "%s", "no runs yet: `recoscope train` records them");
        return;
    }
    /* the sparklines follow time (run order), before sorting */
    double *order = malloc((size_t)r->n * sizeof *order);
    if (!order) {
        tui_lines_add(l, 2, TUI_ROLE_ERROR, "%s", "out of memory");
        return;
    }
    qsort(r->v, (size_t)r->n, sizeof *r->v, cmp_run);
    tui_lines_add(l, 2, TUI_ROLE_DIM, " %3s %4s %8s %8s %7s  %s", "#", "run",
                  metric_label(r->select), RS_RANK_METRICS[0].label, "train s", "params");
    for (int from = 0, to; from < r->n; from = to) {
        for (to = from; to < r->n && strcmp(r->v[to].kind, r->v[from].kind) == 0; to++)
            ;
        /* run order of this kind: by id */
        int n = 0;
        for (int64_t last = -1;; n++) {
            int pick = -1;
            for (int i = from; i < to; i++)
                if (r->v[i].id > last && (pick < 0 || r->v[i].id < r->v[pick].id))
                    pick = i;
            if (pick < 0)
                break;
            order[n] = r->v[pick].sel;
            last = r->v[pick].id;
        }
        add_board(l, g, r->v, from, to, order, n);
    }
    tui_lines_add(l, 2, TUI_ROLE_DIM, "%s", "(marked: the run behind the active model)");
    free(order);
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
    runs_t runs;
    rs_browse_rows models = {0};
    rs_error e = {0};
    if (load_runs(a, city->id, NULL, 0, &runs, &e) != RS_OK) {
        tui_lines_add(l, 0, TUI_ROLE_ERROR, "%s", e.msg);
        return;
    }
    section_models(a, l, g, city->id, &runs, active, &n_active, &models);
    section_choice(a, l, city->id, &runs);
    section_evaluations(a, l, city->id, &models);
    for (int i = 0; i < runs.n; i++) /* the runs behind the active models */
        for (int j = 0; j < n_active; j++)
            if (runs.v[i].model_id && runs.v[i].model_id == active[j])
                runs.v[i].selected = 1;
    section_runs(l, g, city->id, &runs);
    rs_browse_rows_free(&models);
    free(runs.v);
}

const tui_view tui_view_metrics = {
    .name = "metrics",
    .cmd = TUI_CMD_METRICS,
    .open = metrics_open,
    .key = tui_text_view_key,
    .draw = tui_text_view_draw,
};
