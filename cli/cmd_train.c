/* cmd_train.c - `recoscope train`: fit, validate and register models (issue 3).
 *
 * Per city (every city with >= --min-receipts receipts, plus all cities = 0):
 *   1. for each kind and each grid combination: fit on the grid-search fit part
 *      (buckets 2..4), score on the validation part (bucket 1), one `runs` row each;
 *   2. the best combination (by --select) is refitted on --split (all receipts by
 *      default), saved, registered and made active; its run gets selected = 1;
 *   3. with --split all: the completion methods (popularity, item-item, the best
 *      SGNS / ALS / EASE of step 1, and blends of their standardised scores) are
 *      scored on the validation part; the best becomes the city's active completion
 *      model (meta "completion:<city>", see core/completion.h) and its run (kind
 *      "completion") is selected.
 * The held-out part (bucket 0) is never touched here: `recoscope eval` reports on it.
 * A failed fit leaves the previous active model active (nothing is registered).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/completion.h"
#include "../core/corpus.h"
#include "../core/ease.h"
#include "../core/eval.h"
#include "../core/grid.h"
#include "../core/knn.h"
#include "../core/model.h"
#include "../core/publish.h"
#include "../core/store.h"
#include "cli.h"

static const char USAGE[] =
    "usage: recoscope train [--city C] [--kind product|category|als|ease|all]\n"
    "                       [--split all|train] [--grid FILE] [--select METRIC]\n"
    "                       [--min-receipts N] [--ease-cap N] [PARAMS]\n"
    "\n"
    "Fits models per city (every city with at least --min-receipts receipts, default\n"
    "1000, plus all cities) and makes the best of each kind active.  Each parameter\n"
    "combination is fitted on the grid-search part of the receipts (FNV-1a-64 % 5 in\n"
    "2..4) and scored (basket completion) on the validation part (% 5 == 1); every run\n"
    "goes into the runs table.  The best is refitted on --split (default all receipts)\n"
    "and registered.  With --split all the best completion ranking (popularity,\n"
    "item-item, SGNS in.out, ALS, EASE or a blend) becomes the city's active one.\n"
    "\n"
    "  --city C          one city (name; \"all\" = all cities)\n"
    "  --kind K          product, category, als, ease or all (default)\n"
    "  --split S         all (default: models for browsing) or train (bucket != 0,\n"
    "                    for evaluation)\n"
    "  --grid FILE       JSON object of parameter lists (assets/grid.json)\n"
    "  --select METRIC   hr@10, ndcg@10 (default), mrr, precision@10, recall@10\n"
    "  --min-receipts N  cities with fewer receipts are skipped (default 1000)\n"
    "  --ease-cap N      EASE only with at most N items (default 20000)\n"
    "  --max-valid N     score candidates on at most N validation receipts, a fixed\n"
    "                    sample (default 2000; 0 = all of them)\n"
    "PARAMS (single values; a grid overrides them):\n"
    "  --dim --epochs --negative --ns_exponent --subsample --lr --min_count --window\n"
    "  --threads --seed --als_factors --als_lambda --als_alpha --als_iters --ease_lambda\n"
    "  (dashes and underscores are interchangeable: --ns-exponent)\n";

#define N_KINDS 4
#define KINDS(i) (RS_KINDS[i].name)

typedef struct train_opts {
    const char *city;
    int kinds[N_KINDS];
    rs_split split;
    const char *grid_path;
    rs_grid *grid;
    const char *select;
    int64_t min_receipts;
    int32_t ease_cap;
    int64_t max_valid;
    rs_train_params base;
    int tty;
} train_opts;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void progress_cb(void *ctx, double done)
{
    const char *label = ctx;
    fprintf(stderr, "\r%s %3.0f%%", label, done * 100.0);
    fflush(stderr);
}

/* ext ids of products or categories indexed by (id - 1); n entries. */
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

/* INSERT INTO runs ...; returns the row id in *id. */
static int insert_run(rs_store *s, int64_t city, const char *kind, const char *grid,
                      const char *params, const char *metrics, double secs, int64_t *id,
                      rs_error *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "INSERT INTO runs(city_id, kind, grid, params, metrics, seconds,"
                           " created_at, selected) VALUES (?,?,?,?,?,?,"
                           " strftime('%Y-%m-%dT%H:%M:%SZ','now'), 0)",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "recording a run");
    sqlite3_bind_int64(st, 1, city);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    if (grid)
        sqlite3_bind_text(st, 3, grid, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, params, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, metrics, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 6, secs);
    int rc = sqlite3_step(st) == SQLITE_DONE ? RS_OK : rs_store_sqlerr(s, e, "recording a run");
    sqlite3_finalize(st);
    if (!rc && id)
        *id = sqlite3_last_insert_rowid(rs_store_db(s));
    return rc;
}

/* Marks run_id selected (and the other runs of city/kind not), links model_id. */
static int select_run(rs_store *s, int64_t city, const char *kind, int64_t run_id,
                      int64_t model_id, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "UPDATE runs SET selected = (id = ?1),"
                           " model_id = CASE WHEN id = ?1 AND ?4 > 0 THEN ?4 ELSE model_id END"
                           " WHERE city_id = ?2 AND kind = ?3",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "selecting a run");
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, city);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, model_id);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "selecting a run");
    sqlite3_finalize(st);
    return rc;
}

/* The data of one city, split for the grid search. */
typedef struct city_data {
    int64_t city;
    rs_corpus *all, *final, *fit, *valid;     /* products */
    rs_corpus *cfinal, *cfit, *cvalid;        /* categories (when needed) */
    rs_eval_queries *q, *cq;
    rs_knn *knn;                              /* on fit */
} city_data;

static void city_data_free(city_data *d)
{
    rs_corpus_free(d->all);
    rs_corpus_free(d->final);
    rs_corpus_free(d->fit);
    rs_corpus_free(d->valid);
    rs_corpus_free(d->cfinal);
    rs_corpus_free(d->cfit);
    rs_corpus_free(d->cvalid);
    rs_eval_queries_free(d->q);
    rs_eval_queries_free(d->cq);
    rs_knn_free(d->knn);
}

/* Best run of one kind. */
typedef struct kind_best {
    int have;
    double score;
    rs_train_params params;
    rs_embedding *fit_model;  /* fitted on the fit part (for the completion choice) */
    int64_t run_id;
    int64_t model_id;         /* registered final model */
    rs_rank_metrics metrics;
} kind_best;

static int metric_value(const rs_rank_metrics *m, const char *name, double *v)
{
    return rs_rank_metric_get(m, name, v);
}

/* Saves and registers the final model of a kind; returns the model id. */
static int save_final(rs_store *s, const train_opts *o, int64_t city, const char *kind,
                      const rs_embedding *m, const rs_corpus *data, const char *params_json,
                      const char *metrics_json, double secs, int64_t *model_id, rs_error *e)
{
    char fp[256];
    rs_corpus_fingerprint(data, fp, sizeof fp);
    rs_publish p = {.city_id = city, .kind = kind, .split = rs_split_name(o->split),
                    .params_json = params_json, .metrics_json = metrics_json,
                    .fingerprint = fp, .seconds = secs, .activate = 1};
    return rs_model_publish(s, m, &p, model_id, NULL, 0, e);
}

/* Grid search + final fit of one kind for one city. */
static int train_kind(rs_store *s, const train_opts *o, city_data *d, int ki, kind_best *best,
                      rs_error *e)
{
    const rs_kind *kd = &RS_KINDS[ki];
    const char *kind = kd->name;
    const rs_param_group *group = kd->params;
    int is_cat = kd->baskets == RS_BASKETS_CATEGORIES;
    char label[160];
    rs_fit_opts fo = {o->ease_cap, o->tty ? progress_cb : NULL, label};
    int64_t n = rs_grid_count(o->grid, group);
    int rc = RS_OK;
    const rs_corpus *fit = is_cat ? d->cfit : d->fit;
    const rs_eval_queries *q = is_cat ? d->cq : d->q;
    memset(best, 0, sizeof *best);
    if (n >= 1000000)
        return rs_seterr(e, RS_EUSAGE, "grid: too many %s combinations", kind);
    if (q->n_queries == 0)
        fprintf(stderr, "recoscope train: city %" PRId64 " %s: no validation queries; "
                        "the first combination is kept\n", d->city, kind);
    for (int64_t i = 0; i < n; i++) {
        rs_train_params p = o->base;
        rs_embedding *m = NULL;
        rs_rank_metrics met;
        if ((rc = rs_grid_apply(o->grid, group, i, &p, e)))
            return rc;
        char *pj = rs_params_json(&p, group);
        if (!pj)
            return rs_seterr(e, RS_EINTERNAL, "out of memory");
        snprintf(label, sizeof label, "[city %" PRId64 "] %s %" PRId64 "/%" PRId64, d->city,
                 kind, i + 1, n);
        double t0 = now_s();
        rc = rs_kind_fit(kd, fit, &p, &fo, &m, e);
        double secs = now_s() - t0;
        if (rc) {
            free(pj);
            if (o->tty)
                fprintf(stderr, "\n");
            return rc;
        }
        rc = rs_eval_kind(fit, q, kd, m, &p, 10, &met, e);
        char *mj = rc ? NULL : rs_rank_metrics_json(&met);
        int64_t run_id = 0;
        if (!rc && !mj)
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        if (!rc)
            rc = insert_run(s, d->city, kind, o->grid ? rs_grid_text(o->grid) : NULL, pj, mj,
                            secs, &run_id, e);
        double v = 0.0;
        metric_value(&met, o->select, &v);
        if (!rc)
            fprintf(stderr, "%s%s %s hr@10=%.4f ndcg@10=%.4f fit %.1fs\n", o->tty ? "\r" : "",
                    label, pj, met.hr, met.ndcg, secs);
        free(pj);
        free(mj);
        if (rc) {
            rs_embedding_free(m);
            return rc;
        }
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
    /* final fit on the chosen split */
    const rs_corpus *final = is_cat ? d->cfinal : d->final;
    rs_embedding *fm = NULL;
    snprintf(label, sizeof label, "[city %" PRId64 "] %s final (%s)", d->city, kind,
             rs_split_name(o->split));
    double t0 = now_s();
    rc = rs_kind_fit(kd, final, &best->params, &fo, &fm, e);
    double secs = now_s() - t0;
    if (o->tty)
        fprintf(stderr, "\r");
    if (rc)
        return rc;
    char *pj = rs_params_json(&best->params, group);
    char *mj = rs_rank_metrics_json(&best->metrics);
    if (!pj || !mj)
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
    if (!rc)
        rc = save_final(s, o, d->city, kind, fm, final, pj, mj, secs, &best->model_id, e);
    if (!rc)
        rc = select_run(s, d->city, kind, best->run_id, best->model_id, e);
    if (!rc)
        fprintf(stderr, "%s final: %s, model %" PRId64 " active (%.1fs)\n", label, pj,
                best->model_id, secs);
    free(pj);
    free(mj);
    rs_embedding_free(fm);
    return rc;
}

/* The completion choice of a city from the kinds fitted in this run. */
static int choose_completion(rs_store *s, const train_opts *o, city_data *d,
                             kind_best *best, rs_error *e)
{
    int rc = RS_OK;
    rs_completion *c = NULL;
    int64_t *cnt = NULL;
    double (*w)[RS_COMP_N] = NULL;
    rs_rank_metrics *met = NULL;
    char *json = NULL;
    rs_completion_parts parts;
    memset(&parts, 0, sizeof parts);
    cnt = calloc((size_t)d->fit->n_items + 1, sizeof *cnt);
    if (!cnt)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    rs_corpus_item_counts(d->fit, cnt);
    parts.n_items = d->fit->n_items;
    parts.pop_counts = cnt;
    parts.knn = d->knn;
    for (int k = 0; k < RS_N_KINDS; k++)
        if (best[k].have && RS_KINDS[k].baskets == RS_BASKETS_PRODUCTS && RS_KINDS[k].parts)
            RS_KINDS[k].parts(best[k].fit_model,
                              rs_params_cget(&best[k].params, RS_KINDS[k].params), &parts);
    int have[RS_COMP_N] = {1, 1, parts.sgns != NULL, parts.als != NULL, parts.ease != NULL};
    for (int m = 0; m < RS_COMP_N; m++)
        parts.weights[m] = have[m] ? 1.0 : 0.0;
    /* Candidate weight vectors: every single method; blends of two or three of the
     * model methods (sgns, als, ease) at ratios 1:3, 1:1, 3:1 (pairs) and 2:1:1
     * (triples), each with popularity at 0, 0.1 or 0.25 of the total. */
    const int models[3] = {RS_COMP_SGNS, RS_COMP_ALS, RS_COMP_EASE};
    int cap = 5 + 3 * (3 * 3 + 3 * 1) + 8;
    w = calloc((size_t)cap * 3, sizeof *w);
    met = calloc((size_t)cap * 3, sizeof *met);
    if (!w || !met) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    int nw = 0;
    for (int m = 0; m < RS_COMP_N; m++)
        if (have[m])
            w[nw++][m] = 1.0;
    const double popw[3] = {0.0, 0.1, 0.25};
    for (int pi = 0; pi < 3; pi++) {
        double rest = 1.0 - popw[pi];
        for (int a = 0; a < 3; a++) {
            if (!have[models[a]])
                continue;
            if (pi > 0) {
                w[nw][RS_COMP_POPULARITY] = popw[pi];
                w[nw][models[a]] = rest;
                nw++;
            }
            for (int b = a + 1; b < 3; b++) {
                if (!have[models[b]])
                    continue;
                const double ratio[3] = {0.25, 0.5, 0.75};
                for (int r = 0; r < 3; r++) {
                    w[nw][RS_COMP_POPULARITY] = popw[pi];
                    w[nw][models[a]] = rest * ratio[r];
                    w[nw][models[b]] = rest * (1.0 - ratio[r]);
                    nw++;
                }
            }
        }
        if (have[models[0]] && have[models[1]] && have[models[2]])
            for (int big = 0; big < 3; big++) {
                w[nw][RS_COMP_POPULARITY] = popw[pi];
                for (int a = 0; a < 3; a++)
                    w[nw][models[a]] = rest * (a == big ? 0.5 : 0.25);
                nw++;
            }
    }
    if ((rc = rs_completion_from_parts(&parts, &c, e)))
        goto done;
    char label[96];
    snprintf(label, sizeof label, "[city %" PRId64 "] completion: %d candidates", d->city, nw);
    double t0 = now_s();
    if ((rc = rs_eval_blends(c, d->q, d->fit, 10, nw, (const double(*)[RS_COMP_N])w,
                             o->tty ? progress_cb : NULL, label, met, e)))
        goto done;
    double secs = now_s() - t0;
    if (o->tty)
        fprintf(stderr, "\r");
    int bi = -1;
    double bv = 0.0;
    int64_t best_run = 0;
    for (int i = 0; i < nw; i++) {
        double v = 0.0;
        metric_value(&met[i], o->select, &v);
        /* params: method + weights */
        char pj[512];
        size_t at = 0;
        int single = -1, cntw = 0;
        for (int m = 0; m < RS_COMP_N; m++)
            if (w[i][m] != 0.0) {
                single = m;
                cntw++;
            }
        at += (size_t)snprintf(pj + at, sizeof pj - at, "{\"method\":\"%s\",\"weights\":{",
                               cntw == 1 ? rs_comp_method_name((rs_comp_method)single)
                                         : "blend");
        int first = 1;
        for (int m = 0; m < RS_COMP_N && at < sizeof pj; m++)
            if (w[i][m] != 0.0) {
                at += (size_t)snprintf(pj + at, sizeof pj - at, "%s\"%s\":%.4g",
                                       first ? "" : ",", rs_comp_method_name((rs_comp_method)m),
                                       w[i][m]);
                first = 0;
            }
        if (at < sizeof pj)
            snprintf(pj + at, sizeof pj - at, "}}");
        char *mj = rs_rank_metrics_json(&met[i]);
        int64_t run_id = 0;
        if (!mj) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
        rc = insert_run(s, d->city, "completion", NULL, pj, mj, secs / nw, &run_id, e);
        free(mj);
        if (rc)
            goto done;
        if (bi < 0 || v > bv) {
            bi = i;
            bv = v;
            best_run = run_id;
        }
    }
    if (bi < 0)
        goto done;
    /* the choice: method + weights + the models registered above */
    {
        char models[256];
        size_t at = (size_t)snprintf(models, sizeof models, "{");
        int first = 1;
        const int kidx[3] = {0, 2, 3};
        const char *kname[3] = {RS_KIND_PRODUCT, RS_KIND_ALS, RS_KIND_EASE};
        for (int j = 0; j < 3 && at < sizeof models; j++)
            if (best[kidx[j]].have && best[kidx[j]].model_id > 0) {
                at += (size_t)snprintf(models + at, sizeof models - at, "%s\"%s\":%" PRId64,
                                       first ? "" : ",", kname[j], best[kidx[j]].model_id);
                first = 0;
            }
        if (at < sizeof models)
            snprintf(models + at, sizeof models - at, "}");
        int single = -1, cntw = 0;
        for (int m = 0; m < RS_COMP_N; m++)
            if (w[bi][m] != 0.0) {
                single = m;
                cntw++;
            }
        char weights[256];
        at = (size_t)snprintf(weights, sizeof weights, "{");
        first = 1;
        for (int m = 0; m < RS_COMP_N && at < sizeof weights; m++)
            if (w[bi][m] != 0.0) {
                at += (size_t)snprintf(weights + at, sizeof weights - at, "%s\"%s\":%.4g",
                                       first ? "" : ",",
                                       rs_comp_method_name((rs_comp_method)m), w[bi][m]);
                first = 0;
            }
        if (at < sizeof weights)
            snprintf(weights + at, sizeof weights - at, "}");
        char *mj = rs_rank_metrics_json(&met[bi]);
        if (!mj || asprintf(&json,
                            "{\"method\":\"%s\",\"weights\":%s,\"models\":%s,"
                            "\"run\":%" PRId64 ",\"metrics\":%s}",
                            cntw == 1 ? rs_comp_method_name((rs_comp_method)single) : "blend",
                            weights, models, best_run, mj) < 0) {
            free(mj);
            json = NULL;
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
        free(mj);
        char key[64];
        snprintf(key, sizeof key, "completion:%" PRId64, d->city);
        if ((rc = rs_store_meta_set(s, key, json, e)))
            goto done;
        if ((rc = select_run(s, d->city, "completion", best_run, 0, e)))
            goto done;
        fprintf(stderr,
                "[city %" PRId64 "] completion: %s active (validation hr@10=%.4f "
                "ndcg@10=%.4f; %d candidates, %.1fs)\n",
                d->city, json, met[bi].hr, met[bi].ndcg, nw, secs);
    }
done:
    rs_completion_close(c);
    free(cnt);
    free(w);
    free(met);
    free(json);
    return rc;
}

static int train_city(rs_store *s, const train_opts *o, int64_t city, rs_error *e)
{
    city_data d;
    kind_best best[N_KINDS];
    int rc;
    memset(&d, 0, sizeof d);
    memset(best, 0, sizeof best);
    d.city = city;
    if ((rc = rs_corpus_load(s, city, &d.all, e)))
        goto done;
    if (d.all->n_receipts == 0) {
        fprintf(stderr, "recoscope train: city %" PRId64 " has no receipts; skipped\n", city);
        goto done;
    }
    if ((rc = rs_corpus_split(d.all, o->split, &d.final, e)) ||
        (rc = rs_corpus_split(d.all, RS_SPLIT_FIT, &d.fit, e)) ||
        (rc = rs_corpus_split(d.all, RS_SPLIT_VALID, &d.valid, e)) ||
        (rc = cap_validation(&d.valid, o->max_valid, e)) ||
        (rc = rs_eval_queries_build(d.fit, d.valid, &d.q, e)) ||
        (rc = rs_knn_build(d.fit, &d.knn, e)))
        goto done;
    if (d.fit->n_receipts == 0 || d.final->n_receipts == 0) {
        rc = rs_seterr(e, RS_EDATA, "city %" PRId64 ": too few receipts to train", city);
        goto done;
    }
    if (o->kinds[1]) {
        if ((rc = rs_corpus_categories(d.final, &d.cfinal, e)) ||
            (rc = rs_corpus_categories(d.fit, &d.cfit, e)) ||
            (rc = rs_corpus_categories(d.valid, &d.cvalid, e)) ||
            (rc = rs_eval_queries_build(d.cfit, d.cvalid, &d.cq, e)))
            goto done;
    }
    fprintf(stderr,
            "[city %" PRId64 "] %" PRId64 " receipts: fit %" PRId64 ", validation %" PRId64
            " (%" PRId64 " queries), final (%s) %" PRId64 "\n",
            city, d.all->n_receipts, d.fit->n_receipts, d.valid->n_receipts, d.q->n_queries,
            rs_split_name(o->split), d.final->n_receipts);
    int failures = 0;
    for (int k = 0; k < N_KINDS; k++) {
        if (!o->kinds[k])
            continue;
        rs_error ke = {0};
        int krc = train_kind(s, o, &d, k, &best[k], &ke);
        if (krc) {
            /* EASE over the cap is expected on large catalogues: note and go on */
            fprintf(stderr, "recoscope train: city %" PRId64 " %s: %s%s\n", city, KINDS(k),
                    ke.msg, krc == RS_EUSAGE && k == 3 ? " (skipped)" : "; previous model kept");
            rs_embedding_free(best[k].fit_model);
            memset(&best[k], 0, sizeof best[k]);
            if (!(krc == RS_EUSAGE && k == 3) && !failures) {
                failures = 1;
                *e = ke;
                rc = krc;
            }
        }
    }
    if (o->split == RS_SPLIT_ALL && (best[0].have || best[2].have || best[3].have)) {
        rs_error ce = {0};
        int crc = choose_completion(s, o, &d, best, &ce);
        if (crc) {
            fprintf(stderr, "recoscope train: city %" PRId64 " completion: %s\n", city,
                    ce.msg);
            if (!rc) {
                *e = ce;
                rc = crc;
            }
        }
    }
done:
    for (int k = 0; k < N_KINDS; k++)
        rs_embedding_free(best[k].fit_model);
    city_data_free(&d);
    return rc;
}

static int parse_kind(const char *v, train_opts *o)
{
    memset(o->kinds, 0, sizeof o->kinds);
    if (!strcmp(v, "all")) {
        for (int k = 0; k < N_KINDS; k++)
            o->kinds[k] = 1;
        return 0;
    }
    for (int k = 0; k < N_KINDS; k++)
        if (!strcmp(v, KINDS(k))) {
            o->kinds[k] = 1;
            return 0;
        }
    return -1;
}

int cmd_train(rs_cli *cli, int argc, char **argv)
{
    train_opts o;
    rs_error e = {0};
    rs_store *s = NULL;
    int rc = RS_OK;
    int64_t *cities = NULL;
    int n_cities = 0;
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return 0;
    }
    memset(&o, 0, sizeof o);
    for (int k = 0; k < N_KINDS; k++)
        o.kinds[k] = 1;
    o.split = RS_SPLIT_ALL;
    o.select = "ndcg@10";
    o.min_receipts = 1000;
    o.ease_cap = RS_EASE_MAX_ITEMS;
    o.max_valid = 2000;
    rs_train_params_defaults(&o.base);
    /* The command line trains on every core by default; core's default stays 1 thread
     * (bit-identical results), and --threads 1 asks for that here too. */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    ((rs_sgns_params *)rs_params_get(&o.base, &RS_SGNS_PARAMS))->threads =
        ncpu > 1 ? (int)(ncpu < 16 ? ncpu : 16) : 1;
    o.tty = isatty(2);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0)
            return cli_usage_error("train", "unexpected argument '%s'", a);
        char name[64];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (len >= sizeof name)
            return cli_usage_error("train", "unknown option '%s'", a);
        memcpy(name, a + 2, len);
        name[len] = 0;
        if (eq) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc)
                return cli_usage_error("train", "option --%s needs a value", name);
            val = argv[++i];
        }
        if (!strcmp(name, "city")) {
            o.city = val;
        } else if (!strcmp(name, "kind")) {
            if (parse_kind(val, &o))
                return cli_usage_error("train", "unknown kind '%s' "
                                                "(product, category, als, ease, all)", val);
        } else if (!strcmp(name, "split")) {
            if (!strcmp(val, "all"))
                o.split = RS_SPLIT_ALL;
            else if (!strcmp(val, "train"))
                o.split = RS_SPLIT_TRAIN;
            else
                return cli_usage_error("train", "--split must be all or train (got '%s')", val);
        } else if (!strcmp(name, "grid")) {
            o.grid_path = val;
        } else if (!strcmp(name, "select")) {
            rs_rank_metrics probe = {.k = 10};
            double v;
            if (rs_rank_metric_get(&probe, val, &v) != 0)
                return cli_usage_error("train", "unknown --select metric '%s' (hr@10, ndcg@10,"
                                                " mrr, precision@10, recall@10)", val);
            o.select = val;
        } else if (!strcmp(name, "min-receipts") || !strcmp(name, "min_receipts")) {
            char *end;
            long long v = strtoll(val, &end, 10);
            if (!*val || *end || v < 0)
                return cli_usage_error("train", "--min-receipts needs a count (got '%s')", val);
            o.min_receipts = v;
        } else if (!strcmp(name, "max-valid") || !strcmp(name, "max_valid")) {
            char *end;
            long long v = strtoll(val, &end, 10);
            if (!*val || *end || v < 0)
                return cli_usage_error("train", "--max-valid needs a count (got '%s')", val);
            o.max_valid = v;
        } else if (!strcmp(name, "ease-cap") || !strcmp(name, "ease_cap")) {
            char *end;
            long v = strtol(val, &end, 10);
            if (!*val || *end || v <= 0 || v > 200000)
                return cli_usage_error("train", "--ease-cap needs 1..200000 (got '%s')", val);
            o.ease_cap = (int32_t)v;
        } else if (!strcmp(name, "seed")) {
            char *end;
            unsigned long long v = strtoull(val, &end, 10);
            if (!*val || *end)
                return cli_usage_error("train", "--seed needs an integer (got '%s')", val);
            rs_params_set_seed(&o.base, v);
        } else {
            for (char *p = name; *p; p++)
                if (*p == '-')
                    *p = '_';
            if (!rs_param_known(name, NULL))
                return cli_usage_error("train", "unknown option '--%s'", name);
            if (rs_param_set_text(&o.base, name, val, &e))
                return cli_usage_error("train", "%s", e.msg);
        }
    }
    if (o.grid_path && (rc = rs_grid_load(o.grid_path, &o.grid, &e)))
        return cli_fail(&e);
    if ((rc = rs_store_open(cli->db_path, 0, &s, &e)))
        goto fail;
    if (o.city) {
        int64_t id;
        if ((rc = rs_store_city_id(s, o.city, &id, &e)))
            goto fail;
        cities = malloc(sizeof *cities);
        if (!cities) {
            rc = rs_seterr(&e, RS_EINTERNAL, "out of memory");
            goto fail;
        }
        cities[n_cities++] = id;
    } else {
        int64_t nc = 0;
        if ((rc = rs_store_count(s, "cities", &nc, &e)))
            goto fail;
        cities = malloc(((size_t)nc + 2) * sizeof *cities);
        if (!cities) {
            rc = rs_seterr(&e, RS_EINTERNAL, "out of memory");
            goto fail;
        }
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(rs_store_db(s),
                               "SELECT id FROM cities WHERE receipts >= ? ORDER BY id", -1, &st,
                               NULL) != SQLITE_OK) {
            rc = rs_store_sqlerr(s, &e, "listing cities");
            goto fail;
        }
        sqlite3_bind_int64(st, 1, o.min_receipts);
        while (sqlite3_step(st) == SQLITE_ROW && n_cities < nc)
            cities[n_cities++] = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        /* a single city's models would be exact twins of the all-cities ones (same
         * receipts): train city 0 only; lookups fall back to it */
        if (nc == 1 && n_cities == 1)
            n_cities = 0;
        cities[n_cities++] = 0;
    }
    int any_fail = 0;
    for (int i = 0; i < n_cities; i++) {
        rs_error ce = {0};
        int crc = train_city(s, &o, cities[i], &ce);
        if (crc) {
            fprintf(stderr, "recoscope train: city %" PRId64 ": %s\n", cities[i], ce.msg);
            if (!any_fail) {
                e = ce;
                rc = crc;
                any_fail = 1;
            }
        }
    }
    free(cities);
    rs_grid_free(o.grid);
    rs_store_close(s);
    return rc;
fail:
    free(cities);
    rs_grid_free(o.grid);
    rs_store_close(s);
    return cli_fail(&e);
}
