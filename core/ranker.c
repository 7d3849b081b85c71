/* ranker.c - gradient-boosted second-level ranker over XGBoost's C API (see ranker.h). */
#include "ranker.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <xgboost/c_api.h>

#include "atomicfile.h"
#include "readfile.h"

struct rs_ranker {
    BoosterHandle b;
    pthread_mutex_t lock;   /* one caller at a time on the booster */
    int n_features;
    int threads;
    rs_ranker_info info;
};

static const char *const OBJ_NAME[] = {"auto", "rank:pairwise", "binary:logistic"};

const char *rs_ranker_objective_name(int objective)
{
    return objective >= 0 && objective <= RS_RANKER_LOGISTIC ? OBJ_NAME[objective] : NULL;
}

void rs_ranker_defaults(rs_ranker_params *p)
{
    memset(p, 0, sizeof *p);
    p->objective = RS_RANKER_AUTO;
    p->threads = 1;
    p->seed = 1;
    p->max_rounds = 300;
    p->early_stop = 20;
    p->eta = 0.1;
    p->max_depth = 6;
    p->min_child_weight = 1.0;
    p->lambda = 1.0;
    p->valid_every = 5;
    p->eval_k = 10;
}

/* The message of a failed XGBoost call: what we did, then XGBoost's own words. */
static int xgb_err(rs_error *e, const char *what)
{
    const char *m = XGBGetLastError();
    return rs_seterr(e, RS_EINTERNAL, "xgboost: %s: %s", what, m && *m ? m : "(no message)");
}

#define XGB(call, what)                                                                        \
    do {                                                                                       \
        if ((call) != 0) {                                                                     \
            rc = xgb_err(e, what);                                                             \
            goto done;                                                                         \
        }                                                                                      \
    } while (0)

static rs_ranker *ranker_wrap(BoosterHandle b, int n_features, int threads)
{
    rs_ranker *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r);
        return NULL;
    }
    r->b = b;
    r->n_features = n_features;
    r->threads = threads;
    r->info.valid_ndcg = NAN;
    r->info.valid_ndcg_other = NAN;
    return r;
}

void rs_ranker_free(rs_ranker *r)
{
    if (!r)
        return;
    if (r->b)
        XGBoosterFree(r->b); /* nothing to do about a failure here */
    pthread_mutex_destroy(&r->lock);
    free(r);
}

void rs_ranker_info_get(const rs_ranker *r, rs_ranker_info *out)
{
    *out = r->info;
}

int rs_ranker_n_features(const rs_ranker *r)
{
    return r->n_features;
}

/* The fixed and the chosen parameters of a booster. */
static int set_params(BoosterHandle b, const rs_ranker_params *p, int objective, rs_error *e)
{
    char v[8][48];
    snprintf(v[0], sizeof v[0], "%d", p->threads > 0 ? p->threads : 1);
    snprintf(v[1], sizeof v[1], "%llu", (unsigned long long)(p->seed & 0x7fffffffULL));
    snprintf(v[2], sizeof v[2], "%.17g", p->eta);
    snprintf(v[3], sizeof v[3], "%d", p->max_depth);
    snprintf(v[4], sizeof v[4], "%.17g", p->min_child_weight);
    snprintf(v[5], sizeof v[5], "%.17g", p->lambda);
    const char *kv[][2] = {
        {"objective", OBJ_NAME[objective]},
        {"nthread", v[0]},
        {"seed", v[1]},
        {"eta", v[2]},
        {"max_depth", v[3]},
        {"min_child_weight", v[4]},
        {"lambda", v[5]},
        {"tree_method", "hist"},
        {"max_bin", "256"},
        {"subsample", "1"},
        {"colsample_bytree", "1"},
        {"verbosity", "0"},
    };
    int rc = RS_OK;
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        char what[96];
        snprintf(what, sizeof what, "setting %s = %s", kv[i][0], kv[i][1]);
        XGB(XGBoosterSetParam(b, kv[i][0], kv[i][1]), what);
    }
done:
    return rc;
}

/* Mean NDCG@k over the groups of pred (rows of a group consecutive). */
static double mean_ndcg(const float *pred, const float *label, const uint32_t *gs,
                        int64_t ng, int k, int32_t *order)
{
    double sum = 0.0;
    int64_t off = 0;
    for (int64_t g = 0; g < ng; g++) {
        int32_t n = (int32_t)gs[g];
        const float *p = pred + off, *l = label + off;
        int npos = 0;
        for (int32_t i = 0; i < n; i++)
            npos += l[i] > 0;
        /* top k by a partial selection (prediction, then row order) */
        int top = n < k ? n : k;
        for (int32_t i = 0; i < n; i++)
            order[i] = i;
        double dcg = 0.0, idcg = 0.0;
        for (int t = 0; t < top; t++) {
            int32_t best = t;
            for (int32_t i = t + 1; i < n; i++) {
                int32_t a = order[i], b = order[best];
                if (p[a] > p[b] || (p[a] == p[b] && a < b))
                    best = i;
            }
            int32_t tmp = order[t];
            order[t] = order[best];
            order[best] = tmp;
            if (l[order[t]] > 0)
                dcg += 1.0 / log2((double)t + 2.0);
        }
        for (int t = 0; t < npos && t < k; t++)
            idcg += 1.0 / log2((double)t + 2.0);
        sum += idcg > 0 ? dcg / idcg : 0.0;
        off += n;
    }
    return ng ? sum / (double)ng : 0.0;
}

/* The rows of data split by query: fit (copied into fx, fl, fg) and validation. */
typedef struct parts {
    float *fx, *fl, *vx, *vl;
    uint32_t *fg, *vg;
    int64_t fr, vr, fgn, vgn;
} parts;

static void parts_free(parts *s)
{
    free(s->fx);
    free(s->fl);
    free(s->vx);
    free(s->vl);
    free(s->fg);
    free(s->vg);
}

static int split_queries(const rs_ranker_data *d, int every, parts *s, rs_error *e)
{
    memset(s, 0, sizeof *s);
    size_t nf = (size_t)d->n_features;
    int64_t off = 0, vpos = 0;
    for (int64_t g = 0; g < d->n_groups; g++) {
        int valid = every > 1 && g % every == 0;
        int pos = 0;
        for (uint32_t i = 0; i < d->group_size[g]; i++)
            pos |= d->label[off + i] > 0;
        valid ? (s->vr += d->group_size[g], s->vgn++, vpos += pos)
              : (s->fr += d->group_size[g], s->fgn++);
        off += d->group_size[g];
    }
    if (off != d->n_rows)
        return rs_seterr(e, RS_EINTERNAL, "ranker: groups hold %lld rows, the matrix %lld",
                         (long long)off, (long long)d->n_rows);
    if (s->fgn == 0 || vpos == 0)
        return rs_seterr(e, RS_EUSAGE,
                         "ranker: %lld queries are too few to train on (%lld fit, %lld "
                         "validation with a positive)",
                         (long long)d->n_groups, (long long)s->fgn, (long long)vpos);
    s->fx = malloc(((size_t)s->fr * nf + 1) * sizeof *s->fx);
    s->fl = malloc(((size_t)s->fr + 1) * sizeof *s->fl);
    s->vx = malloc(((size_t)s->vr * nf + 1) * sizeof *s->vx);
    s->vl = malloc(((size_t)s->vr + 1) * sizeof *s->vl);
    s->fg = malloc(((size_t)s->fgn + 1) * sizeof *s->fg);
    s->vg = malloc(((size_t)s->vgn + 1) * sizeof *s->vg);
    if (!s->fx || !s->fl || !s->vx || !s->vl || !s->fg || !s->vg)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    int64_t fr = 0, vr = 0, fgn = 0, vgn = 0;
    off = 0;
    for (int64_t g = 0; g < d->n_groups; g++) {
        int valid = every > 1 && g % every == 0;
        size_t n = d->group_size[g];
        float *x = valid ? s->vx + (size_t)vr * nf : s->fx + (size_t)fr * nf;
        float *l = valid ? s->vl + vr : s->fl + fr;
        memcpy(x, d->x + (size_t)off * nf, n * nf * sizeof *x);
        memcpy(l, d->label + off, n * sizeof *l);
        if (valid)
            s->vg[vgn++] = (uint32_t)n, vr += (int64_t)n;
        else
            s->fg[fgn++] = (uint32_t)n, fr += (int64_t)n;
        off += (int64_t)n;
    }
    return RS_OK;
}

/* One objective: rounds on dfit, the validation slice scored after each; *out holds
 * the booster cut to its best rounds. */
static int grow(const rs_ranker_params *p, int objective, DMatrixHandle dfit,
                DMatrixHandle dvalid, const parts *s, BoosterHandle *out, int *rounds,
                double *best, rs_error *e)
{
    BoosterHandle b = NULL;
    int32_t *order = NULL;
    int rc = RS_OK, best_round = -1;
    *out = NULL;
    *best = -1.0;
    uint32_t gmax = 1;
    for (int64_t g = 0; g < s->vgn; g++)
        gmax = s->vg[g] > gmax ? s->vg[g] : gmax;
    order = malloc((size_t)gmax * sizeof *order);
    if (!order)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    XGB(XGBoosterCreate(&dfit, 1, &b), "creating a booster");
    if ((rc = set_params(b, p, objective, e)))
        goto done;
    const char *cfg = "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
                      "\"iteration_end\": 0, \"strict_shape\": false}";
    for (int it = 0; it < p->max_rounds; it++) {
        XGB(XGBoosterUpdateOneIter(b, it, dfit), "a boosting round");
        bst_ulong const *shape = NULL;
        bst_ulong dim = 0;
        float const *pred = NULL;
        XGB(XGBoosterPredictFromDMatrix(b, dvalid, cfg, &shape, &dim, &pred),
            "predicting the validation slice");
        if (dim < 1 || shape[0] != (bst_ulong)s->vr) {
            rc = rs_seterr(e, RS_EINTERNAL, "xgboost: %llu predictions for %lld rows",
                           (unsigned long long)(dim ? shape[0] : 0), (long long)s->vr);
            goto done;
        }
        double v = mean_ndcg(pred, s->vl, s->vg, s->vgn, p->eval_k, order);
        if (v > *best) {
            *best = v;
            best_round = it;
        } else if (it - best_round >= p->early_stop) {
            break;
        }
    }
    XGB(XGBoosterSlice(b, 0, best_round + 1, 1, out), "keeping the best rounds");
    *rounds = best_round + 1;
done:
    if (b && XGBoosterFree(b) != 0 && rc == RS_OK)
        rc = xgb_err(e, "freeing a booster");
    if (rc && *out) {
        XGBoosterFree(*out);
        *out = NULL;
    }
    free(order);
    return rc;
}

static int make_dmatrix(const float *x, int64_t n, int nf, const float *label,
                        const uint32_t *groups, int64_t ng, DMatrixHandle *out, rs_error *e)
{
    int rc = RS_OK;
    *out = NULL;
    XGB(XGDMatrixCreateFromMat(x, (bst_ulong)n, (bst_ulong)nf, NAN, out),
        "building a feature matrix");
    if (label)
        XGB(XGDMatrixSetFloatInfo(*out, "label", label, (bst_ulong)n), "setting labels");
    if (groups)
        XGB(XGDMatrixSetUIntInfo(*out, "group", groups, (bst_ulong)ng), "setting groups");
done:
    if (rc && *out) {
        XGDMatrixFree(*out);
        *out = NULL;
    }
    return rc;
}

int rs_ranker_train(const rs_ranker_data *d, const rs_ranker_params *p, rs_ranker **out,
                    rs_error *e)
{
    *out = NULL;
    parts s;
    DMatrixHandle dfit = NULL, dvalid = NULL;
    BoosterHandle kept[2] = {NULL, NULL};
    int rounds[2] = {0, 0};
    double best[2] = {NAN, NAN};
    int rc = split_queries(d, p->valid_every, &s, e);
    if (rc == RS_OK)
        rc = make_dmatrix(s.fx, s.fr, d->n_features, s.fl, s.fg, s.fgn, &dfit, e);
    if (rc == RS_OK)
        rc = make_dmatrix(s.vx, s.vr, d->n_features, s.vl, s.vg, s.vgn, &dvalid, e);
    static const int OBJ[2] = {RS_RANKER_PAIRWISE, RS_RANKER_LOGISTIC};
    for (int i = 0; rc == RS_OK && i < 2; i++)
        if (p->objective == RS_RANKER_AUTO || p->objective == OBJ[i])
            rc = grow(p, OBJ[i], dfit, dvalid, &s, &kept[i], &rounds[i], &best[i], e);
    if (rc)
        goto done;
    /* the better on validation; ties (and a lone objective) keep the first tried */
    int w = !kept[0] || (kept[1] && best[1] > best[0]) ? 1 : 0;
    rs_ranker *r = ranker_wrap(kept[w], d->n_features, p->threads);
    if (!r) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    kept[w] = NULL;
    r->info.objective = OBJ[w];
    r->info.rounds = rounds[w];
    r->info.valid_ndcg = best[w];
    r->info.valid_ndcg_other = best[1 - w];
    r->info.rounds_other = rounds[1 - w];
    r->info.fit_rows = s.fr, r->info.valid_rows = s.vr;
    r->info.fit_groups = s.fgn, r->info.valid_groups = s.vgn;
    *out = r;
done:
    for (int i = 0; i < 2; i++)
        if (kept[i])
            XGBoosterFree(kept[i]);
    if (dfit)
        XGDMatrixFree(dfit);
    if (dvalid)
        XGDMatrixFree(dvalid);
    parts_free(&s);
    return rc;
}

/* type 0: predictions (n x 1), type 2: contributions (n x (nf + 1)). */
static int predict(rs_ranker *r, const float *x, int64_t n, int type, float *out, rs_error *e)
{
    if (n == 0)
        return RS_OK;
    DMatrixHandle d = NULL;
    int rc = RS_OK;
    size_t width = type == 2 ? (size_t)r->n_features + 1 : 1;
    pthread_mutex_lock(&r->lock);
    /* a new DMatrix each call: never a cached prediction of an earlier one */
    XGB(XGDMatrixCreateFromMat(x, (bst_ulong)n, (bst_ulong)r->n_features, NAN, &d),
        "building a feature matrix");
    char cfg[160];
    snprintf(cfg, sizeof cfg,
             "{\"type\": %d, \"training\": false, \"iteration_begin\": 0, "
             "\"iteration_end\": 0, \"strict_shape\": false}",
             type);
    bst_ulong const *shape = NULL;
    bst_ulong dim = 0;
    float const *res = NULL;
    XGB(XGBoosterPredictFromDMatrix(r->b, d, cfg, &shape, &dim, &res),
        type == 2 ? "feature contributions" : "predicting");
    bst_ulong total = 1;
    for (bst_ulong i = 0; i < dim; i++)
        total *= shape[i];
    if (dim < 1 || shape[0] != (bst_ulong)n || total != (bst_ulong)n * width) {
        rc = rs_seterr(e, RS_EINTERNAL, "xgboost: %llu values for %lld rows x %zu",
                       (unsigned long long)total, (long long)n, width);
        goto done;
    }
    memcpy(out, res, (size_t)n * width * sizeof *out);
done:
    if (d && XGDMatrixFree(d) != 0 && rc == RS_OK)
        rc = xgb_err(e, "freeing a feature matrix");
    pthread_mutex_unlock(&r->lock);
    return rc;
}

int rs_ranker_predict(rs_ranker *r, const float *x, int64_t n_rows, float *out, rs_error *e)
{
    return predict(r, x, n_rows, 0, out, e);
}

int rs_ranker_contribs(rs_ranker *r, const float *x, int64_t n_rows, float *out, rs_error *e)
{
    return predict(r, x, n_rows, 2, out, e);
}

/* A booster from a model in memory, with its thread count; checks the feature count. */
static int booster_from(const void *buf, size_t len, int n_features, int threads,
                        const char *where, BoosterHandle *out, rs_error *e)
{
    BoosterHandle b = NULL;
    int rc = RS_OK;
    *out = NULL;
    XGB(XGBoosterCreate(NULL, 0, &b), "creating a booster");
    if (XGBoosterLoadModelFromBuffer(b, buf, (bst_ulong)len) != 0) {
        const char *m = XGBGetLastError();
        rc = rs_seterr(e, RS_EDATA, "%s: not an XGBoost model: %s", where, m ? m : "");
        goto done;
    }
    char th[16];
    snprintf(th, sizeof th, "%d", threads > 0 ? threads : 1);
    XGB(XGBoosterSetParam(b, "nthread", th), "setting nthread");
    XGB(XGBoosterSetParam(b, "verbosity", "0"), "setting verbosity");
    bst_ulong nf = 0;
    XGB(XGBoosterGetNumFeature(b, &nf), "reading the feature count");
    if (nf != (bst_ulong)n_features) {
        rc = rs_seterr(e, RS_EDATA, "%s: the model has %llu features, %d expected", where,
                       (unsigned long long)nf, n_features);
        goto done;
    }
    *out = b;
    b = NULL;
done:
    if (b)
        XGBoosterFree(b);
    return rc;
}

int rs_ranker_copy(rs_ranker *r, int threads, rs_ranker **out, rs_error *e)
{
    *out = NULL;
    bst_ulong len = 0;
    const char *buf = NULL;
    BoosterHandle b = NULL;
    int rc = RS_OK;
    pthread_mutex_lock(&r->lock);
    XGB(XGBoosterSaveModelToBuffer(r->b, "{\"format\": \"ubj\"}", &len, &buf),
        "copying a booster");
    rc = booster_from(buf, (size_t)len, r->n_features, threads, "ranker copy", &b, e);
done:
    pthread_mutex_unlock(&r->lock);
    if (rc)
        return rc;
    *out = ranker_wrap(b, r->n_features, threads);
    if (!*out) {
        XGBoosterFree(b);
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    (*out)->info = r->info;
    return RS_OK;
}

int rs_ranker_save(rs_ranker *r, const char *path, rs_error *e)
{
    bst_ulong len = 0;
    const char *buf = NULL;
    rs_afile *f = NULL;
    int rc = RS_OK;
    pthread_mutex_lock(&r->lock);
    if (XGBoosterSaveModelToBuffer(r->b, "{\"format\": \"json\"}", &len, &buf) != 0) {
        rc = xgb_err(e, "saving a booster");
        rs_errctx(e, "%s", path);
        goto done;
    }
    if ((rc = rs_afile_open(path, &f, e)))
        goto done;
    if (fwrite(buf, 1, (size_t)len, rs_afile_stream(f)) != (size_t)len) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: cannot write the ranker model", path);
        rs_afile_abort(f);
        goto done;
    }
    rc = rs_afile_commit(f, e);
done:
    pthread_mutex_unlock(&r->lock);
    return rc;
}

/* The objective of a loaded booster, from its JSON configuration. */
static int loaded_objective(BoosterHandle b, const char *path, int *out, rs_error *e)
{
    bst_ulong len = 0;
    const char *cfg = NULL;
    if (XGBoosterSaveJsonConfig(b, &len, &cfg) != 0) {
        xgb_err(e, "reading a loaded model's configuration");
        rs_errctx(e, "%s", path);
        return RS_EINTERNAL;
    }
    cJSON *j = cJSON_ParseWithLength(cfg, (size_t)len);
    const cJSON *name = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "learner"), "objective"), "name");
    int rc = RS_OK;
    *out = -1;
    for (int o = RS_RANKER_PAIRWISE; o <= RS_RANKER_LOGISTIC; o++)
        if (cJSON_IsString(name) && strcmp(name->valuestring, OBJ_NAME[o]) == 0)
            *out = o;
    if (*out < 0)
        rc = rs_seterr(e, RS_EDATA, "%s: the ranker's objective is %s, not %s or %s", path,
                       cJSON_IsString(name) ? name->valuestring : "missing", OBJ_NAME[1],
                       OBJ_NAME[2]);
    cJSON_Delete(j);
    return rc;
}

int rs_ranker_load(const char *path, int n_features, int threads, rs_ranker **out,
                   rs_error *e)
{
    *out = NULL;
    int fd = -1;
    struct stat st;
    void *buf = NULL;
    size_t cap = 0;
    BoosterHandle b = NULL;
    int rc = rs_open_regular(path, "ranker model file", &fd, &st, e);
    if (rc == RS_OK)
        rc = rs_read_private(fd, path, &st, &buf, &cap, e);
    if (fd >= 0)
        close(fd);
    if (rc == RS_OK)
        rc = booster_from(buf, (size_t)st.st_size, n_features, threads, path, &b, e);
    rs_read_private_free(buf, cap);
    if (rc)
        return rc;
    rs_ranker *r = ranker_wrap(b, n_features, threads);
    if (!r) {
        XGBoosterFree(b);
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    int rounds = 0;
    if (XGBoosterBoostedRounds(b, &rounds) != 0) {
        rs_ranker_free(r);
        return xgb_err(e, "counting the rounds of a loaded model");
    }
    r->info.rounds = rounds;
    if ((rc = loaded_objective(b, path, &r->info.objective, e))) {
        rs_ranker_free(r);
        return rc;
    }
    *out = r;
    return RS_OK;
}
