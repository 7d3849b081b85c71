/* train.c - fit, validate and register models per city and kind (see train.h). */
#include "train.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "browse.h"
#include "completion.h"
#include "completion_choice.h"
#include "ease.h"
#include "eval.h"
#include "knn.h"
#include "model.h"
#include "publish.h"
#include "runs.h"
#include "serve_store.h"

#define MAX_KINDS 32

void rs_train_opts_defaults(rs_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->split = RS_SPLIT_ALL;
    o->select = RS_SELECT_DEFAULT;
    o->min_receipts = 1000;
    o->ease_cap = RS_EASE_DEFAULT_ITEMS;
    o->max_valid = 2000;
    o->max_runs = RS_TRAIN_MAX_RUNS;
    rs_train_params_defaults(&o->base);
}

const char *rs_train_default_search(void)
{
    return "{\"epochs\": [20, 50], \"subsample\": [1e-3, 1e-4],"
           " \"ns_exponent\": [0, 0.5, -0.5, 1],"
           " \"als_factors\": [64, 32], \"als_lambda\": [0.1, 10],"
           " \"als_alpha\": [10, 40, 2],"
           " \"ease_lambda\": [100, 300, 30, 1000]}";
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int kind_selected(const rs_train_opts *o, int k)
{
    return o->kinds == 0 || (o->kinds >> k & 1u);
}

/* The data of one city, split for the grid search; [b] = rs_baskets. */
typedef struct city_data {
    int64_t city;
    const char *name;
    rs_corpus *all;
    rs_corpus *final[2], *fit[2], *valid[2];
    rs_eval_queries *q[2];
    rs_knn *knn[2]; /* [b] on the fit part (the choices' item-item) */
} city_data;

static void city_data_free(city_data *d)
{
    rs_corpus_free(d->all);
    for (int b = 0; b < 2; b++) {
        rs_corpus_free(d->final[b]);
        rs_corpus_free(d->fit[b]);
        rs_corpus_free(d->valid[b]);
        rs_eval_queries_free(d->q[b]);
        rs_knn_free(d->knn[b]);
    }
}

/* The best run of one kind. */
typedef struct kind_best {
    int have;
    double score;
    rs_train_params params;
    rs_embedding *fit_model; /* fitted on the fit part (for the completion choice) */
    int64_t run_id;
    int64_t model_id;        /* registered final model */
    rs_rank_metrics metrics;
} kind_best;

typedef struct train_ctx {
    rs_store *s;
    const rs_train_opts *o;
    const char *select;
    city_data d;
    kind_best best[MAX_KINDS];
    int reported; /* the error train_city returns was sent as an event already */
    double deadline; /* the current kind's search stops before passing it (0: none) */
} train_ctx;

static void emit(const train_ctx *t, rs_train_event *ev)
{
    ev->city_id = t->d.city;
    ev->city = t->d.name;
    if (t->o->event)
        t->o->event(t->o->event_ctx, ev);
}

static void note(const train_ctx *t, rs_train_event_type type, const char *kind,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void note(const train_ctx *t, rs_train_event_type type, const char *kind,
                 const char *fmt, ...)
{
    char text[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    rs_train_event ev = {.type = type, .kind = kind, .text = text};
    emit(t, &ev);
}

typedef struct progress_ctx {
    const train_ctx *t;
    const char *kind;
    const char *label;
} progress_ctx;

static void progress_cb(void *ctx, double done)
{
    const progress_ctx *pc = ctx;
    rs_train_event ev = {.type = RS_TRAIN_PROGRESS, .kind = pc->kind, .label = pc->label,
                         .progress = done};
    emit(pc->t, &ev);
}

/* Grid search and the completion choice score every candidate on the validation
 * receipts; past a few thousand receipts the ranking of candidates no longer moves,
 * but the time grows linearly (160k queries for the demo world's all-cities model).
 * Keeps at most max receipts, a deterministic sample by the split hash (0 = all). */
static int cap_validation(rs_corpus **valid, int64_t max, rs_error *e)
{
    rs_corpus *v = *valid;
    if (max <= 0 || v->n_receipts <= max)
        return RS_OK;
    uint8_t *keep = malloc((size_t)v->n_receipts);
    if (!keep)
        return rs_seterr(e, RS_EINTERNAL, "out of memory sampling validation receipts");
    /* the hash's bits above the mod-5 bucket are independent of it */
    uint64_t thresh = (uint64_t)((double)UINT32_MAX * (double)max / (double)v->n_receipts);
    for (int64_t r = 0; r < v->n_receipts; r++)
        keep[r] = ((v->split_hash[r] >> 32) & 0xffffffffu) <= thresh;
    rs_corpus *sub = NULL;
    int rc = rs_corpus_filter(v, keep, &sub, e);
    free(keep);
    if (rc)
        return rc;
    rs_corpus_free(v);
    *valid = sub;
    return RS_OK;
}

/* Publishes and registers the final model of a kind (core/publish.h); returns the
 * model id. */
static int save_final(train_ctx *t, const rs_kind *kd, const rs_embedding *m,
                      const rs_corpus *data, const char *params_json, const char *metrics_json,
                      double secs, int activate, int64_t *model_id, rs_error *e)
{
    char fp[256];
    rs_corpus_fingerprint(data, fp, sizeof fp);
    rs_publish p = {.city_id = t->d.city, .kind = kd->name, .split = rs_split_name(t->o->split),
                    .params_json = params_json, .metrics_json = metrics_json,
                    .fingerprint = fp, .seconds = secs, .activate = activate};
    return rs_model_publish(t->s, m, &p, model_id, NULL, 0, e);
}

/* Fits parameters p of kind ki on the fit part and scores them on the validation part:
 * *m (the fit-part model), *met and the fit's *secs. */
static int fit_and_score(const train_ctx *t, int ki, const rs_train_params *p, const char *label,
                         rs_embedding **m, rs_rank_metrics *met, double *secs, rs_error *e)
{
    const rs_kind *kd = &RS_KINDS[ki];
    int b = kd->baskets;
    progress_ctx pc = {t, kd->name, label};
    rs_fit_opts fo = {t->o->ease_cap, t->o->progress ? progress_cb : NULL, &pc};
    double t0 = now_s();
    int rc = rs_kind_fit(kd, t->d.fit[b], p, &fo, m, e);
    *secs = now_s() - t0;
    if (!rc && (rc = rs_eval_kind(t->d.fit[b], t->d.q[b], kd, *m, p, 10, met, e))) {
        rs_embedding_free(*m);
        *m = NULL;
    }
    return rc;
}

/* Fits and scores combination i of n of kind ki; *m (the fit-part model) and *met on
 * success, one runs row.  A fit error is returned as it is. */
static int run_combination(train_ctx *t, const rs_grid *grid, int ki, int64_t i, int64_t n,
                           rs_train_params *p, rs_embedding **m, rs_rank_metrics *met,
                           int64_t *run_id, rs_error *e)
{
    const rs_kind *kd = &RS_KINDS[ki];
    const train_ctx *tc = t;
    int rc;
    char label[256], *pj = NULL, *mj = NULL;
    *m = NULL;
    if ((rc = rs_grid_apply(grid, kd->params, i, p, e)))
        return rc;
    if (!(pj = rs_params_json(p, kd->params)))
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    snprintf(label, sizeof label, "%s %" PRId64 "/%" PRId64, kd->name, i + 1, n);
    double secs = 0;
    if ((rc = fit_and_score(tc, ki, p, label, m, met, &secs, e)))
        goto done;
    if (!(mj = rs_rank_metrics_json(met))) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    if ((rc = rs_runs_insert(t->s, t->d.city, kd->name, grid ? rs_grid_text(grid) : NULL, pj,
                             mj, secs, run_id, e)))
        goto done;
    rs_train_event ev = {.type = RS_TRAIN_RUN, .kind = kd->name, .index = i + 1, .count = n,
                         .params = pj, .metrics = met, .seconds = secs};
    emit(t, &ev);
done:
    if (rc) {
        rs_embedding_free(*m);
        *m = NULL;
    }
    free(pj);
    free(mj);
    return rc;
}

/* The grid kind k is searched over: the given one, or the kind's built-in search when
 * that has no key of its group (*own then holds it, for the caller to free). */
static int kind_grid(const rs_train_opts *o, const rs_kind *kd, const rs_grid **grid,
                     rs_grid **own, rs_error *e)
{
    *grid = o->grid;
    *own = NULL;
    if (!kd->search || rs_grid_has_group(o->grid, kd->params))
        return RS_OK;
    int rc = rs_grid_parse(kd->search, kd->name, own, e);
    if (!rc)
        *grid = *own;
    return rc;
}

/* Grid search of one kind: the best combination in *best.  In a grid of several
 * combinations one that fails on its data (diverges, non-finite values) is skipped. */
static int search_kind(train_ctx *t, int ki, kind_best *best, rs_error *e)
{
    const rs_kind *kd = &RS_KINDS[ki];
    const rs_grid *grid = NULL;
    rs_grid *own = NULL;
    memset(best, 0, sizeof *best);
    int grc = kind_grid(t->o, kd, &grid, &own, e);
    if (grc)
        return grc;
    int64_t n = rs_grid_count(grid, kd->params);
    rs_error first = {0};
    if (t->d.q[kd->baskets]->n_queries == 0)
        note(t, RS_TRAIN_NOTE, kd->name, "no validation queries; the first combination is kept");
    double t0 = now_s();
    for (int64_t i = 0; i < n; i++) {
        double now = now_s();
        if (i > 0 && t->deadline > 0 && now + (now - t0) / (double)i > t->deadline) {
            note(t, RS_TRAIN_NOTE, kd->name,
                 "search budget: %" PRId64 " of %" PRId64 " combinations tried", i, n);
            break;
        }
        rs_train_params p = t->o->base;
        rs_embedding *m = NULL;
        rs_rank_metrics met;
        int64_t run_id = 0;
        rs_error ce = {0};
        int rc = run_combination(t, grid, ki, i, n, &p, &m, &met, &run_id, &ce);
        if (rc == RS_EDATA && n > 1) {
            char *pj = rs_params_json(&p, kd->params);
            note(t, RS_TRAIN_NOTE, kd->name, "%" PRId64 "/%" PRId64 " %s: %s; combination skipped",
                 i + 1, n, pj ? pj : "", ce.msg);
            free(pj);
            if (!first.code)
                first = ce;
            continue;
        }
        if (rc) {
            *e = ce;
            rs_grid_free(own);
            return rc;
        }
        double v = 0.0;
        rs_rank_metric_get(&met, t->select, &v);
        if (!best->have || v > best->score) {
            rs_embedding_free(best->fit_model);
            best->have = 1;
            best->score = v;
            best->params = p;
            best->fit_model = m;
            best->run_id = run_id;
            best->metrics = met;
        } else {
            rs_embedding_free(m);
        }
    }
    rs_grid_free(own);
    if (!best->have) {
        *e = first;
        rs_errctx(e, "every one of the %" PRId64 " combinations failed; the last", n);
        return first.code ? first.code : RS_EDATA;
    }
    return RS_OK;
}

/* The final fit of the best combination, saved, registered and selected. */
static int refit_kind(train_ctx *t, int ki, kind_best *best, int activate, rs_error *e)
{
    const rs_kind *kd = &RS_KINDS[ki];
    const train_ctx *tc = t;
    const rs_corpus *final = t->d.final[kd->baskets];
    rs_embedding *fm = NULL;
    char label[160], *pj = NULL, *mj = NULL;
    snprintf(label, sizeof label, "%s final (%s)", kd->name, rs_split_name(t->o->split));
    progress_ctx pc = {tc, kd->name, label};
    rs_fit_opts fo = {t->o->ease_cap, t->o->progress ? progress_cb : NULL, &pc};
    double t0 = now_s();
    int rc = rs_kind_fit(kd, final, &best->params, &fo, &fm, e);
    double secs = now_s() - t0;
    if (rc)
        return rc;
    pj = rs_params_json(&best->params, kd->params);
    mj = rs_rank_metrics_json(&best->metrics);
    if (!pj || !mj)
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
    if (!rc)
        rc = save_final(t, kd, fm, final, pj, mj, secs, activate, &best->model_id, e);
    if (!rc)
        rc = rs_runs_select(t->s, t->d.city, kd->name, best->run_id, best->model_id, e);
    if (!rc) {
        rs_train_event ev = {.type = RS_TRAIN_FINAL, .kind = kd->name, .params = pj,
                             .seconds = secs, .model_id = best->model_id,
                             .split = rs_split_name(t->o->split), .inactive = !activate};
        emit(t, &ev);
    }
    free(pj);
    free(mj);
    rs_embedding_free(fm);
    return rc;
}

/* The city's own active model of kind ki (same split), when its parameters differ from
 * best's, fitted again with them on the same fit part and scored on the same
 * validation part (its registered file was fitted on other receipts: only this compares
 * like with like).  *keep = 1 when it scores better (by select) and o->force is off:
 * act then holds it (its id, parameters, fit-part model, metrics) for the completion
 * choice, and the new model is registered inactive.  Both figures are reported. */
static int guard_active(train_ctx *t, int ki, const kind_best *best, kind_best *act, int *keep,
                        rs_error *e)
{
    const rs_kind *kd = &RS_KINDS[ki];
    const char *split = rs_split_name(t->o->split);
    rs_model_list l = {0};
    char *bj = NULL, *aj = NULL, label[160];
    *keep = 0;
    memset(act, 0, sizeof *act);
    if (t->d.q[kd->baskets]->n_queries == 0)
        return RS_OK; /* nothing to compare on */
    int rc = rs_registry_list(t->s, t->d.city, kd->name, &l, e);
    const rs_model_row *row = NULL;
    for (size_t i = 0; rc == RS_OK && !row && i < l.n; i++)
        if (l.rows[i].active && l.rows[i].info.city_id == t->d.city &&
            strcmp(l.rows[i].info.split, split) == 0)
            row = &l.rows[i];
    if (rc || !row)
        goto done;
    act->params = t->o->base;
    rs_params_apply_json(&act->params, row->params);
    bj = rs_params_json(&best->params, kd->params);
    aj = rs_params_json(&act->params, kd->params);
    if (!bj || !aj) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    if (strcmp(aj, bj) == 0)
        goto done; /* the same parameters: the refit on the current receipts replaces it */
    snprintf(label, sizeof label, "%s: the active model #%" PRId64, kd->name, row->info.id);
    double secs = 0;
    rs_error ae = {0};
    int arc = fit_and_score(t, ki, &act->params, label, &act->fit_model, &act->metrics, &secs,
                            &ae);
    if (arc == RS_EDATA) { /* its parameters no longer fit these receipts: replaced */
        note(t, RS_TRAIN_NOTE, kd->name, "the active model #%" PRId64 " %s cannot be compared "
             "(%s); replaced", row->info.id, aj, ae.msg);
        goto done;
    }
    if (arc) {
        *e = ae;
        rc = arc;
        goto done;
    }
    rs_rank_metric_get(&act->metrics, t->select, &act->score);
    act->have = 1;
    act->model_id = row->info.id;
    if (act->score > best->score && !t->o->force) {
        *keep = 1;
        note(t, RS_TRAIN_NOTE, kd->name,
             "kept the active model #%" PRId64 ": with its parameters %s it scores %s %.4f on "
             "the validation part, the new one %s %.4f; the new one is registered inactive "
             "(--force makes it active)",
             row->info.id, aj, t->select, act->score, bj, best->score);
    } else {
        note(t, RS_TRAIN_NOTE, kd->name,
             "%s the active model #%" PRId64 ": the new one scores %s %.4f on the validation "
             "part, the active one's parameters %s %.4f",
             act->score > best->score ? "--force: replaces" : "replaces", row->info.id,
             t->select, best->score, aj, act->score);
    }
done:
    if (!*keep) {
        rs_embedding_free(act->fit_model);
        memset(act, 0, sizeof *act);
    }
    free(bj);
    free(aj);
    rs_model_list_free(&l);
    return rc;
}

/* ---- the completion choice ---------------------------------------------------------- */

/* The candidate weight vectors over the methods in have[]: every single method; blends
 * of two or three of the mixable methods (all but popularity, and item-item unless
 * mix_itemitem) at ratios 1:3, 1:1, 3:1 (pairs) and 2:1:1 (triples), each with
 * popularity at 0, 0.1 or 0.25 of the total.  w has room for cap vectors; returns how
 * many were written.  Item-item mixes on category baskets only: over a few hundred
 * categories its table is small and it is a strong part; over products it is neither. */
static int blend_candidates(const int *have, int mix_itemitem, double (*w)[RS_COMP_N], int cap)
{
    int mm[RS_COMP_N], nm = 0, nw = 0;
    for (int m = 0; m < RS_COMP_N; m++)
        if (m != RS_COMP_POPULARITY && (mix_itemitem || m != RS_COMP_ITEMITEM))
            mm[nm++] = m;
#define ROOM() if (nw >= cap) return nw
    for (int m = 0; m < RS_COMP_N; m++)
        if (have[m]) {
            ROOM();
            w[nw++][m] = 1.0;
        }
    const double popw[3] = {0.0, 0.1, 0.25}, ratio[3] = {0.25, 0.5, 0.75};
    for (int pi = 0; pi < 3; pi++) {
        double rest = 1.0 - popw[pi];
        for (int a = 0; a < nm; a++) {
            if (!have[mm[a]])
                continue;
            if (pi > 0) {
                ROOM();
                w[nw][RS_COMP_POPULARITY] = popw[pi];
                w[nw++][mm[a]] = rest;
            }
            for (int b = a + 1; b < nm; b++) {
                if (!have[mm[b]])
                    continue;
                for (int r = 0; r < 3; r++) {
                    ROOM();
                    w[nw][RS_COMP_POPULARITY] = popw[pi];
                    w[nw][mm[a]] = rest * ratio[r];
                    w[nw++][mm[b]] = rest * (1.0 - ratio[r]);
                }
            }
        }
        for (int a = 0; a < nm; a++)
            for (int b = a + 1; b < nm; b++)
                for (int c = b + 1; c < nm; c++) {
                    if (!have[mm[a]] || !have[mm[b]] || !have[mm[c]])
                        continue;
                    const int tri[3] = {mm[a], mm[b], mm[c]};
                    for (int big = 0; big < 3; big++) {
                        ROOM();
                        w[nw][RS_COMP_POPULARITY] = popw[pi];
                        for (int j = 0; j < 3; j++)
                            w[nw][tri[j]] = rest * (j == big ? 0.5 : 0.25);
                        nw++;
                    }
                }
    }
#undef ROOM
    return nw;
}

/* Records every candidate's run; the best (by the selection metric, the first of
 * equals) in *best_i / *best_run. */
static int record_candidates(train_ctx *t, const char *run_kind, int nw,
                             const double (*w)[RS_COMP_N], const rs_rank_metrics *met,
                             double secs, int *best_i, int64_t *best_run, rs_error *e)
{
    double bv = 0.0;
    *best_i = -1;
    for (int i = 0; i < nw; i++) {
        double v = 0.0;
        rs_rank_metric_get(&met[i], t->select, &v);
        rs_completion_choice c;
        memset(&c, 0, sizeof c);
        memcpy(c.weights, w[i], sizeof c.weights);
        char pj[512];
        rs_choice_params_json(&c, pj, sizeof pj);
        char *mj = rs_rank_metrics_json(&met[i]);
        int64_t run_id = 0;
        if (!mj)
            return rs_seterr(e, RS_EINTERNAL, "out of memory");
        int rc = rs_runs_insert(t->s, t->d.city, run_kind, NULL, pj, mj, secs / nw, &run_id, e);
        free(mj);
        if (rc)
            return rc;
        if (*best_i < 0 || v > bv) {
            *best_i = i;
            bv = v;
            *best_run = run_id;
        }
    }
    return RS_OK;
}

/* The choice of a city's ranking over baskets b from the kinds of those baskets fitted
 * in this run: product completion (RS_CHOICE_COMPLETION, runs kind "completion") or the
 * category ranking of the Categories pane (RS_CHOICE_CATEGORIES, runs kind
 * "categories"), both by the same candidates and the same validation scoring. */
static int choose_ranking(train_ctx *t, rs_baskets b, rs_error *e)
{
    city_data *d = &t->d;
    const char *prefix = b == RS_BASKETS_PRODUCTS ? RS_CHOICE_COMPLETION : RS_CHOICE_CATEGORIES;
    const char *run_kind = b == RS_BASKETS_PRODUCTS ? RS_CHOICE_RUN_COMPLETION
                                                    : RS_CHOICE_RUN_CATEGORIES;
    int rc = RS_OK, nw = 0, bi = -1, have[RS_COMP_N] = {0};
    rs_completion *c = NULL;
    int64_t *cnt = NULL, best_run = 0;
    enum { CAP = 256 };
    double (*w)[RS_COMP_N] = calloc(CAP, sizeof *w);
    rs_rank_metrics *met = calloc(CAP, sizeof *met);
    rs_completion_parts parts;
    rs_completion_choice ch;
    memset(&parts, 0, sizeof parts);
    memset(&ch, 0, sizeof ch);
    cnt = calloc((size_t)d->fit[b]->n_items + 1, sizeof *cnt);
    if (!cnt || !w || !met) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    if (!d->knn[b] && (rc = rs_knn_build(d->fit[b], &d->knn[b], e)))
        goto done;
    rs_corpus_item_counts(d->fit[b], cnt);
    parts.n_items = d->fit[b]->n_items;
    parts.pop_counts = cnt;
    parts.knn = d->knn[b];
    have[RS_COMP_POPULARITY] = have[RS_COMP_ITEMITEM] = 1;
    for (int k = 0; k < RS_N_KINDS; k++) {
        const rs_kind *kd = &RS_KINDS[k];
        if (!t->best[k].have || kd->baskets != b || kd->comp < 0)
            continue;
        kd->parts(t->best[k].fit_model, rs_params_cget(&t->best[k].params, kd->params), &parts);
        have[kd->comp] = 1;
        ch.models[kd->comp] = t->best[k].model_id;
    }
    for (int m = 0; m < RS_COMP_N; m++)
        parts.weights[m] = have[m] ? 1.0 : 0.0;
    nw = blend_candidates(have, b == RS_BASKETS_CATEGORIES, w, CAP);
    if ((rc = rs_completion_from_parts(&parts, &c, e)))
        goto done;
    char label[96];
    snprintf(label, sizeof label, "%s: %d candidates", run_kind, nw);
    progress_ctx pc = {t, run_kind, label};
    double t0 = now_s();
    if ((rc = rs_eval_blends(c, d->q[b], d->fit[b], 10, nw, (const double(*)[RS_COMP_N])w,
                             t->o->progress ? progress_cb : NULL, &pc, met, e)))
        goto done;
    double secs = now_s() - t0;
    if ((rc = record_candidates(t, run_kind, nw, (const double(*)[RS_COMP_N])w, met, secs, &bi,
                                &best_run, e)) ||
        bi < 0)
        goto done;
    memcpy(ch.weights, w[bi], sizeof ch.weights);
    ch.run = best_run;
    ch.has_metrics = 1;
    ch.metrics = met[bi];
    if ((rc = rs_choice_save(t->s, prefix, b, d->city, &ch, e)) ||
        (rc = rs_runs_select(t->s, d->city, run_kind, best_run, 0, e)))
        goto done;
    char *json = rs_choice_json(&ch, b);
    rs_train_event ev = {.type = RS_TRAIN_CHOICE, .kind = run_kind, .text = json,
                         .metrics = &met[bi], .count = nw, .seconds = secs};
    emit(t, &ev);
    free(json);
done:
    rs_completion_close(c);
    free(cnt);
    free(w);
    free(met);
    return rc;
}

/* ---- cities ------------------------------------------------------------------------- */

static int need_categories(const rs_train_opts *o)
{
    for (int k = 0; k < RS_N_KINDS; k++)
        if (kind_selected(o, k) && RS_KINDS[k].baskets == RS_BASKETS_CATEGORIES)
            return 1;
    return 0;
}

/* Loads and splits the city's receipts; RS_OK with d->all->n_receipts == 0 when it has
 * none. */
static int prepare_city(train_ctx *t, rs_error *e)
{
    city_data *d = &t->d;
    const rs_train_opts *o = t->o;
    int rc;
    if ((rc = rs_corpus_load(t->s, d->city, &d->all, e)) || d->all->n_receipts == 0)
        return rc;
    if ((rc = rs_corpus_split(d->all, o->split, &d->final[0], e)) ||
        (rc = rs_corpus_split(d->all, RS_SPLIT_FIT, &d->fit[0], e)) ||
        (rc = rs_corpus_split(d->all, RS_SPLIT_VALID, &d->valid[0], e)) ||
        (rc = cap_validation(&d->valid[0], o->max_valid, e)) ||
        (rc = rs_eval_queries_build(d->fit[0], d->valid[0], &d->q[0], e)))
        return rc;
    if (d->fit[0]->n_receipts == 0 || d->final[0]->n_receipts == 0)
        return rs_seterr(e, RS_EDATA, "%s: too few receipts to train", d->name);
    if (need_categories(o)) {
        if ((rc = rs_corpus_categories(d->final[0], &d->final[1], e)) ||
            (rc = rs_corpus_categories(d->fit[0], &d->fit[1], e)) ||
            (rc = rs_corpus_categories(d->valid[0], &d->valid[1], e)) ||
            (rc = rs_eval_queries_build(d->fit[1], d->valid[1], &d->q[1], e)))
            return rc;
    }
    rs_train_event ev = {.type = RS_TRAIN_CITY, .receipts = d->all->n_receipts,
                         .fit = d->fit[0]->n_receipts, .valid = d->valid[0]->n_receipts,
                         .queries = d->q[0]->n_queries, .final = d->final[0]->n_receipts,
                         .split = rs_split_name(o->split)};
    emit(t, &ev);
    return RS_OK;
}

static int train_city(train_ctx *t, rs_error *e)
{
    const rs_train_opts *o = t->o;
    int rc = prepare_city(t, e), any_model[2] = {0, 0};
    if (rc || t->d.all->n_receipts == 0) {
        if (!rc)
            note(t, RS_TRAIN_NOTE, NULL, "no receipts; skipped");
        return rc;
    }
    int left = 0;
    for (int k = 0; k < RS_N_KINDS; k++)
        left += kind_selected(o, k) && rs_grid_count(o->grid, RS_KINDS[k].params) > 1;
    double city_end = o->budget > 0 ? now_s() + o->budget : 0;
    for (int k = 0; k < RS_N_KINDS; k++) {
        if (!kind_selected(o, k))
            continue;
        rs_error ke = {0};
        t->deadline = 0;
        if (city_end > 0 && rs_grid_count(o->grid, RS_KINDS[k].params) > 1) {
            double now = now_s();
            t->deadline = now + (city_end - now) / (double)left--;
        }
        kind_best act;
        int keep = 0;
        memset(&act, 0, sizeof act);
        int krc = search_kind(t, k, &t->best[k], &ke);
        if (!krc)
            krc = guard_active(t, k, &t->best[k], &act, &keep, &ke);
        if (!krc)
            krc = refit_kind(t, k, &t->best[k], !keep, &ke);
        if (keep) { /* the completion choice goes on with the model that stays active */
            if (!krc) {
                rs_embedding_free(t->best[k].fit_model);
                t->best[k] = act;
            } else {
                rs_embedding_free(act.fit_model);
            }
        }
        if (krc) {
            /* EASE over the cap is expected on large catalogues: note and go on */
            int skip = krc == RS_EUSAGE && (RS_KINDS[k].flags & RS_KIND_MAY_REFUSE);
            note(t, RS_TRAIN_FAILED, RS_KINDS[k].name, "%s%s", ke.msg,
                 skip ? " (skipped)" : "; previous model kept");
            rs_embedding_free(t->best[k].fit_model);
            memset(&t->best[k], 0, sizeof t->best[k]);
            if (!skip && !rc) {
                *e = ke;
                rc = krc;
                t->reported = 1;
            }
        }
        if (t->best[k].have && RS_KINDS[k].comp >= 0)
            any_model[RS_KINDS[k].baskets] = 1;
    }
    for (int b = 0; b < 2; b++) {
        if (o->split != RS_SPLIT_ALL || !any_model[b])
            continue;
        rs_error ce = {0};
        int crc = choose_ranking(t, (rs_baskets)b, &ce);
        if (crc) {
            note(t, RS_TRAIN_FAILED,
                 b == RS_BASKETS_PRODUCTS ? RS_CHOICE_RUN_COMPLETION : RS_CHOICE_RUN_CATEGORIES,
                 "%s", ce.msg);
            if (!rc) {
                *e = ce;
                rc = crc;
                t->reported = 1;
            }
        }
    }
    return rc;
}

/* The cities to train (ids and names; 0 = all cities, last). */
typedef struct city_list {
    int n;
    int64_t *id;
    char **name;
} city_list;

static void city_list_free(city_list *cl)
{
    for (int i = 0; i < cl->n; i++)
        free(cl->name[i]);
    free(cl->id);
    free(cl->name);
}

static int city_list_add(city_list *cl, int64_t id, const char *name, rs_error *e)
{
    if (!(cl->name[cl->n] = strdup(name)))
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    cl->id[cl->n++] = id;
    return RS_OK;
}

static int list_cities(rs_store *s, const rs_train_opts *o, city_list *cl, rs_error *e)
{
    rs_browse_city *v = NULL;
    int nv = 0, rc;
    memset(cl, 0, sizeof *cl);
    if ((rc = rs_browse_cities(s, &v, &nv, e)))
        return rc;
    cl->id = malloc(((size_t)nv + 2) * sizeof *cl->id);
    cl->name = calloc((size_t)nv + 2, sizeof *cl->name);
    if (!cl->id || !cl->name) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    if (o->city) {
        int64_t id = 0;
        if ((rc = rs_store_city_id(s, o->city, &id, e)))
            goto done;
        const char *name = "all cities";
        for (int i = 0; id && i < nv; i++)
            if (v[i].id == id)
                name = v[i].name;
        rc = city_list_add(cl, id, name, e);
        goto done;
    }
    for (int i = 0; i < nv && !rc; i++)
        if (v[i].receipts >= o->min_receipts)
            rc = city_list_add(cl, v[i].id, v[i].name, e);
    /* a single city's models would be exact twins of the all-cities ones (same
     * receipts): train city 0 only; lookups fall back to it */
    if (!rc && nv == 1 && cl->n == 1) {
        free(cl->name[0]);
        cl->n = 0;
    }
    if (!rc)
        rc = city_list_add(cl, 0, "all cities", e);
done:
    rs_browse_cities_free(v, nv);
    return rc;
}

/* if_changed: keeps the cities with receipts newer than their active models (the rule
 * of serve_store.h), with a note for each. */
static int keep_stale(rs_store *s, const rs_train_opts *o, city_list *cl, rs_error *e)
{
    const char *kinds[RS_N_KINDS + 1];
    int nk = 0, m = 0, rc;
    for (int k = 0; k < RS_N_KINDS; k++)
        if (kind_selected(o, k))
            kinds[nk++] = RS_KINDS[k].name;
    kinds[nk] = NULL;
    rs_serve_stale *v = calloc((size_t)cl->n + 1, sizeof *v);
    if (!v)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    rc = rs_serve_stale_cities(s, cl->id, cl->n, rs_split_name(o->split), kinds, v, e);
    for (int i = 0; rc == RS_OK && i < cl->n; i++) {
        char text[200];
        snprintf(text, sizeof text, "%s: %s", v[i].stale ? "retrain" : "skip", v[i].reason);
        rs_train_event ev = {.type = RS_TRAIN_NOTE, .city_id = cl->id[i], .city = cl->name[i],
                             .text = text};
        if (o->event)
            o->event(o->event_ctx, &ev);
        if (v[i].stale) {
            cl->id[m] = cl->id[i];
            cl->name[m++] = cl->name[i];
        } else {
            free(cl->name[i]);
        }
    }
    if (rc == RS_OK)
        cl->n = m;
    free(v);
    return rc;
}

/* Issue 11 item 14: the whole plan is sized before anything trains (the grid given;
 * a kind's small built-in search is not counted). */
static int check_plan(const rs_train_opts *o, int n_cities, rs_error *e)
{
    int64_t per_city = 0;
    for (int k = 0; k < RS_N_KINDS; k++) {
        if (!kind_selected(o, k))
            continue;
        int64_t n = rs_grid_count(o->grid, RS_KINDS[k].params);
        if (n > RS_GRID_MAX_COMBOS)
            return rs_seterr(e, RS_EUSAGE,
                             "grid: more than %d combinations for %s; nothing was trained",
                             RS_GRID_MAX_COMBOS, RS_KINDS[k].name);
        per_city += n;
    }
    int64_t total = per_city * n_cities, max = o->max_runs > 0 ? o->max_runs : RS_TRAIN_MAX_RUNS;
    if (total > max && !o->yes)
        return rs_seterr(e, RS_EUSAGE,
                         "the grid makes %" PRId64 " runs (%d cit%s x %" PRId64
                         " combinations), more than %" PRId64 "; nothing was trained: pass "
                         "--yes to run them all, or --max-runs N",
                         total, n_cities, n_cities == 1 ? "y" : "ies", per_city, max);
    return RS_OK;
}

int rs_train(rs_store *s, const rs_train_opts *o, rs_error *e)
{
    city_list cls, *cl = &cls;
    int rc = RS_OK;
    rs_rank_metrics probe = {.k = 10};
    double v;
    memset(cl, 0, sizeof *cl);
    const char *select = o->select ? o->select : RS_SELECT_DEFAULT;
    if (rs_rank_metric_get(&probe, select, &v) != 0) {
        rc = rs_seterr(e, RS_EUSAGE, "unknown selection metric '%s'", select);
        goto done;
    }
    if ((rc = list_cities(s, o, cl, e)) || (o->if_changed && (rc = keep_stale(s, o, cl, e))) ||
        (rc = check_plan(o, cl->n, e)))
        goto done;
    int failed = 0;
    for (int i = 0; i < cl->n; i++) {
        train_ctx *t = calloc(1, sizeof *t);
        if (!t) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            break;
        }
        t->s = s;
        t->o = o;
        t->select = select;
        t->d.city = cl->id[i];
        t->d.name = cl->name[i];
        rs_error ce = {0};
        int crc = train_city(t, &ce);
        if (crc) {
            if (!t->reported)
                note(t, RS_TRAIN_FAILED, NULL, "%s", ce.msg);
            if (!failed) {
                *e = ce;
                rc = crc;
                failed = 1;
            }
        }
        for (int k = 0; k < RS_N_KINDS; k++)
            rs_embedding_free(t->best[k].fit_model);
        city_data_free(&t->d);
        free(t);
    }
done:
    city_list_free(cl);
    return rc;
}
