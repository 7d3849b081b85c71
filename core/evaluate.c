/* evaluate.c - the held-out figures of one city (see evaluate.h). */
#include "evaluate.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "browse.h"
#include "completion.h"
#include "completion_choice.h"
#include "knn.h"
#include "model.h"
#include "runs.h"

#define MAX_KINDS 32

void rs_eval_opts_defaults(rs_eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->k = 10;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct ev_ctx {
    rs_store *s;
    const rs_eval_opts *o;
    rs_eval_report *r;
    rs_corpus *all, *train[2], *test[2];
    rs_eval_queries *q[2];
    rs_knn *knn[2];                  /* [b] item-item on the training part */
    rs_train_params p[MAX_KINDS];    /* the active parameters of each kind */
    rs_embedding *model[MAX_KINDS];  /* each kind refitted on the training part */
    int kind_row[MAX_KINDS];         /* its row, -1 none */
    int64_t model_id[MAX_KINDS];     /* the registered model whose parameters it used */
    int base_row[2][RS_COMP_N];      /* [b] rows of the baselines, -1 none */
} ev_ctx;

static void say(const ev_ctx *c, rs_eval_note_type type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(const ev_ctx *c, rs_eval_note_type type, const char *fmt, ...)
{
    char text[1536];
    va_list ap;
    if (!c->o->note)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    c->o->note(c->o->note_ctx, type, text);
}

static rs_eval_row *new_row(ev_ctx *c, rs_baskets b, const char *method, rs_error *e)
{
    rs_eval_report *r = c->r;
    if (r->n_rows >= (int)(sizeof r->rows / sizeof r->rows[0])) {
        rs_seterr(e, RS_EINTERNAL, "evaluation: too many methods");
        return NULL;
    }
    rs_eval_row *row = &r->rows[r->n_rows++];
    memset(row, 0, sizeof *row);
    int w = snprintf(row->method, sizeof row->method, "%s%s",
                     b == RS_BASKETS_CATEGORIES ? "category " : "", method);
    if (w < 0 || w >= (int)sizeof row->method) {
        r->n_rows--;
        rs_seterr(e, RS_EINTERNAL, "evaluation: method name too long: %s", method);
        return NULL;
    }
    snprintf(row->params, sizeof row->params, "{}");
    row->baskets = b;
    return row;
}

static int city_name(ev_ctx *c, rs_error *e)
{
    rs_browse_city *v = NULL;
    int nv = 0, rc = rs_browse_cities(c->s, &v, &nv, e);
    snprintf(c->r->city, sizeof c->r->city, "all cities");
    for (int i = 0; !rc && c->r->city_id && i < nv; i++)
        if (v[i].id == c->r->city_id)
            snprintf(c->r->city, sizeof c->r->city, "%s", v[i].name);
    rs_browse_cities_free(v, nv);
    return rc;
}

/* The city's receipts split, the queries of both baskets, item-item on products. */
static int load_data(ev_ctx *c, rs_error *e)
{
    rs_eval_report *r = c->r;
    int hd = c->o->holdout_days, rc;
    if ((rc = rs_store_city_id(c->s, c->o->city, &r->city_id, e)) || (rc = city_name(c, e)))
        return rc;
    if ((rc = rs_corpus_load(c->s, r->city_id, &c->all, e)) ||
        (rc = rs_eval_split(c->all, hd, RS_SPLIT_TRAIN, &c->train[0], e)) ||
        (rc = rs_eval_split(c->all, hd, RS_SPLIT_TEST, &c->test[0], e)) ||
        (rc = rs_eval_queries_build(c->train[0], c->test[0], &c->q[0], e)))
        return rc;
    r->train_receipts = c->train[0]->n_receipts;
    r->test_receipts = c->test[0]->n_receipts;
    r->queries[0] = c->q[0]->n_queries;
    if (c->q[0]->n_queries == 0)
        return rs_seterr(e, RS_EDATA,
                         "%s: no held-out receipt has two products known to the training part "
                         "(%" PRId64 " training, %" PRId64 " held out)",
                         r->city, r->train_receipts, r->test_receipts);
    if ((rc = rs_knn_build(c->train[0], &c->knn[0], e)) ||
        (rc = rs_corpus_categories(c->train[0], &c->train[1], e)) ||
        (rc = rs_corpus_categories(c->test[0], &c->test[1], e)) ||
        (rc = rs_eval_queries_build(c->train[1], c->test[1], &c->q[1], e)))
        return rc;
    r->queries[1] = c->q[1]->n_queries;
    say(c, RS_EVAL_INFO, "%" PRId64 " training receipts, %" PRId64 " held out, %" PRId64
                         " queries", r->train_receipts, r->test_receipts, r->queries[0]);
    return RS_OK;
}

/* Popularity and item-item of baskets b. */
static int eval_baselines(ev_ctx *c, rs_baskets b, rs_error *e)
{
    const rs_comp_method base[2] = {RS_COMP_POPULARITY, RS_COMP_ITEMITEM};
    for (int i = 0; i < 2; i++) {
        rs_eval_row *row = new_row(c, b, rs_comp_method_name(base[i]), e);
        if (!row)
            return RS_EINTERNAL;
        c->base_row[b][base[i]] = (int)(row - c->r->rows);
        const rs_knn *knn = NULL;
        if (base[i] == RS_COMP_ITEMITEM) {
            /* item-item's "fit": building the co-occurrence table (a copy, timed) */
            double t0 = now_s();
            rs_knn *kb = NULL;
            int rc = rs_knn_build(c->train[b], &kb, e);
            row->fit_s = now_s() - t0;
            if (rc)
                return rc;
            if (!c->knn[b])
                c->knn[b] = kb;
            else
                rs_knn_free(kb);
            knn = c->knn[b];
        }
        int rc = rs_eval_baseline(c->train[b], c->q[b], base[i], knn, c->o->k, &row->m, e);
        if (rc)
            return rc;
    }
    return RS_OK;
}

/* Every kind of baskets b, refitted with its active parameters.  A fit refused as too
 * big (RS_EUSAGE) leaves the kind out with a warning. */
static int eval_kinds(ev_ctx *c, rs_baskets b, rs_error *e)
{
    for (int k = 0; k < RS_N_KINDS; k++) {
        const rs_kind *kd = &RS_KINDS[k];
        if (kd->baskets != b || kd->comp < 0)
            continue;
        char *pj = NULL, *ps = NULL;
        int rc;
        rs_train_params_defaults(&c->p[k]);
        if ((rc = rs_runs_active_params(c->s, c->r->city_id, kd->name, 1, &pj, &c->model_id[k],
                                        NULL, e)))
            return rc;
        rs_params_apply_json(&c->p[k], pj);
        free(pj);
        say(c, RS_EVAL_INFO, "fitting %s on the training part...", kd->label);
        rs_fit_opts fo = {c->o->ease_cap, NULL, NULL};
        rs_error fe = {0};
        double t0 = now_s();
        int frc = rs_kind_fit(kd, c->train[b], &c->p[k], &fo, &c->model[k], &fe);
        double secs = now_s() - t0;
        if (frc) {
            say(c, RS_EVAL_WARN, "%s: %s (not evaluated)", kd->label, fe.msg);
            if (frc != RS_EUSAGE) {
                *e = fe;
                return frc;
            }
            continue;
        }
        rs_eval_row *row = new_row(c, RS_BASKETS_PRODUCTS, kd->label, e);
        if (!row)
            return RS_EINTERNAL;
        row->baskets = b;
        c->kind_row[k] = (int)(row - c->r->rows);
        row->fit_s = secs;
        if (c->model_id[k] > 0)
            snprintf(row->models, sizeof row->models, "{\"%s\":%" PRId64 "}", kd->name,
                     c->model_id[k]);
        if ((ps = rs_params_json(&c->p[k], kd->params)))
            snprintf(row->params, sizeof row->params, "%s", ps);
        free(ps);
        if ((rc = rs_eval_kind(c->train[b], c->q[b], kd, c->model[k], &c->p[k], c->o->k,
                               &row->m, e)))
            return rc;
    }
    return RS_OK;
}

/* The active choice over baskets b (the completion choice, or the category ranking of
 * the Categories pane), rebuilt from the copies fitted above. */
static int eval_choice(ev_ctx *c, rs_baskets b, rs_error *e)
{
    rs_completion_choice ch;
    rs_completion_parts parts;
    rs_completion *comp = NULL;
    int found = 0, rc = RS_OK;
    int64_t *pop = NULL;
    rs_error le = {0};
    const char *what = b == RS_BASKETS_PRODUCTS ? "completion choice" : "category ranking";
    int lrc = rs_choice_load(c->s, b == RS_BASKETS_PRODUCTS ? RS_CHOICE_COMPLETION
                                                            : RS_CHOICE_CATEGORIES,
                             b, c->r->city_id, &ch, &found, NULL, NULL, &le);
    if (lrc == RS_EINTERNAL) {
        *e = le;
        return lrc;
    }
    if (lrc)
        say(c, RS_EVAL_WARN, "the active %s cannot be rebuilt (%s)", what, le.msg);
    if (!found)
        return RS_OK;
    memset(&parts, 0, sizeof parts);
    if (!(pop = calloc((size_t)c->train[b]->n_items + 1, sizeof *pop)))
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    rs_corpus_item_counts(c->train[b], pop);
    parts.n_items = c->train[b]->n_items;
    parts.pop_counts = pop;
    if (!c->knn[b] && (rc = rs_knn_build(c->train[b], &c->knn[b], e)))
        goto done;
    parts.knn = c->knn[b];
    for (int k = 0; k < RS_N_KINDS; k++) {
        const rs_kind *kd = &RS_KINDS[k];
        if (kd->baskets == b && c->model[k] && kd->parts)
            kd->parts(c->model[k], rs_params_cget(&c->p[k], kd->params), &parts);
    }
    memcpy(parts.weights, ch.weights, sizeof parts.weights);
    rs_error ce = {0};
    if (rs_completion_from_parts(&parts, &comp, &ce)) {
        say(c, RS_EVAL_WARN, "the active %s cannot be rebuilt (%s)", what, ce.msg);
        goto done;
    }
    char name[128];
    snprintf(name, sizeof name, "%s %s", b == RS_BASKETS_PRODUCTS ? "completion" : "ranking",
             rs_completion_name(comp));
    rs_eval_row *row = new_row(c, b, name, e);
    if (!row) {
        rc = RS_EINTERNAL;
        goto done;
    }
    if ((rc = rs_eval_completion(comp, c->q[b], c->train[b], c->o->k, NULL, NULL, &row->m, e)))
        goto done;
    size_t at = 0;
    for (int m = 0; m < RS_COMP_N; m++) {
        if (parts.weights[m] == 0.0)
            continue;
        int ri = c->base_row[b][m];
        const rs_kind *kd = rs_kind_for_method(b, m);
        if (ri < 0 && kd)
            ri = c->kind_row[kd - RS_KINDS];
        if (ri >= 0)
            row->fit_s += c->r->rows[ri].fit_s;
        if (kd && c->model_id[kd - RS_KINDS] > 0 && at < sizeof row->models)
            at += (size_t)snprintf(row->models + at, sizeof row->models - at, "%s\"%s\":%" PRId64,
                                   at ? "," : "{", kd->name, c->model_id[kd - RS_KINDS]);
    }
    if (at && at + 1 < sizeof row->models)
        snprintf(row->models + at, sizeof row->models - at, "}");
    else
        row->models[0] = 0;
done:
    rs_completion_close(comp);
    free(pop);
    return rc;
}

static int eval_synonyms(ev_ctx *c, rs_error *e)
{
    rs_eval_report *r = c->r;
    for (int k = 0; k < RS_N_KINDS; k++) {
        const rs_kind *kd = &RS_KINDS[k];
        if (!kd->synonyms || !c->model[k] || kd->baskets != RS_BASKETS_PRODUCTS ||
            r->n_synonyms >= (int)(sizeof r->synonyms / sizeof r->synonyms[0]))
            continue;
        rs_eval_syn_row *sy = &r->synonyms[r->n_synonyms];
        snprintf(sy->method, sizeof sy->method, "%s", kd->synonyms);
        sy->min_count = 20;
        if (c->model_id[k] > 0)
            snprintf(sy->models, sizeof sy->models, "{\"%s\":%" PRId64 "}", kd->name,
                     c->model_id[k]);
        int rc = rs_eval_synonyms(c->model[k], c->train[0], c->knn[0], c->o->k, sy->min_count, 2000,
                                  &sy->m, e);
        if (rc)
            return rc;
        r->n_synonyms++;
    }
    return RS_OK;
}

char *rs_eval_row_json(const rs_eval_row *row)
{
    char *mj = rs_rank_metrics_json(&row->m), *out = NULL;
    if (!mj)
        return NULL;
    /* splice: {...metrics..., "fit_seconds":x, "params":{...}} */
    mj[strlen(mj) - 1] = 0;
    if (asprintf(&out, "%s,\"fit_seconds\":%.3f,\"params\":%s}", mj, row->fit_s,
                 row->params[0] ? row->params : "{}") < 0)
        out = NULL;
    free(mj);
    return out;
}

static int record(ev_ctx *c, rs_error *e)
{
    const rs_eval_report *r = c->r;
    int rc0 = rs_evaluations_models_column(c->s, e);
    if (rc0)
        return rc0;
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < r->n_rows; i++) {
            if ((int)r->rows[i].baskets != b)
                continue;
            char *mj = rs_eval_row_json(&r->rows[i]);
            if (!mj)
                return rs_seterr(e, RS_EINTERNAL, "out of memory");
            int rc = rs_evaluations_insert(c->s, r->city_id, r->rows[i].method, r->split, mj,
                                           r->rows[i].models, e);
            free(mj);
            if (rc)
                return rc;
        }
    for (int i = 0; i < r->n_synonyms; i++) {
        const rs_eval_syn_row *sy = &r->synonyms[i];
        char mj[256];
        snprintf(mj, sizeof mj,
                 "{\"k\":%d,\"items\":%" PRId64 ",\"category_purity@%d\":%.6f,"
                 "\"copurchase_rate\":%.6f}",
                 r->k, sy->m.n_items, r->k, sy->m.purity, sy->m.copurchase);
        int rc = rs_evaluations_insert(c->s, r->city_id, sy->method, r->split, mj, sy->models,
                                       e);
        if (rc)
            return rc;
    }
    return RS_OK;
}

int rs_evaluate(rs_store *s, const rs_eval_opts *o, rs_eval_report **out, rs_error *e)
{
    ev_ctx c;
    int rc;
    memset(&c, 0, sizeof c);
    *out = NULL;
    c.s = s;
    c.o = o;
    if (!(c.r = calloc(1, sizeof *c.r)))
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    for (int k = 0; k < MAX_KINDS; k++)
        c.kind_row[k] = -1;
    for (int m = 0; m < RS_COMP_N; m++)
        c.base_row[0][m] = c.base_row[1][m] = -1;
    c.r->k = o->k > 0 ? o->k : 10;
    if (o->holdout_days > 0)
        snprintf(c.r->split, sizeof c.r->split, "last-%d-days", o->holdout_days);
    else
        snprintf(c.r->split, sizeof c.r->split, "hash-test");
    rs_eval_opts oo = *o;
    oo.k = c.r->k;
    c.o = &oo;
    if ((rc = load_data(&c, e)) || (rc = eval_baselines(&c, RS_BASKETS_PRODUCTS, e)) ||
        (rc = eval_kinds(&c, RS_BASKETS_PRODUCTS, e)) ||
        (rc = eval_choice(&c, RS_BASKETS_PRODUCTS, e)) || (rc = eval_synonyms(&c, e)))
        goto done;
    if (c.q[1]->n_queries > 0 && ((rc = eval_baselines(&c, RS_BASKETS_CATEGORIES, e)) ||
                                  (rc = eval_kinds(&c, RS_BASKETS_CATEGORIES, e)) ||
                                  (rc = eval_choice(&c, RS_BASKETS_CATEGORIES, e))))
        goto done;
    if ((rc = record(&c, e)))
        goto done;
    *out = c.r;
    c.r = NULL;
done:
    free(c.r);
    for (int k = 0; k < MAX_KINDS; k++)
        rs_embedding_free(c.model[k]);
    rs_knn_free(c.knn[0]);
    rs_knn_free(c.knn[1]);
    rs_corpus_free(c.all);
    for (int b = 0; b < 2; b++) {
        rs_corpus_free(c.train[b]);
        rs_corpus_free(c.test[b]);
        rs_eval_queries_free(c.q[b]);
    }
    return rc;
}
