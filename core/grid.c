/* grid.c - training parameters and grid files (see grid.h). */
#include "grid.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ease.h"
#include "model.h"

typedef struct param_def {
    const char *name;
    rs_param_group group;
    int integer;
    double lo, hi; /* inclusive */
} param_def;

static const param_def PARAMS[] = {
    {"dim", RS_GROUP_SGNS, 1, 1, 4096},
    {"epochs", RS_GROUP_SGNS, 1, 1, 100000},
    {"negative", RS_GROUP_SGNS, 1, 0, 1000},
    {"ns_exponent", RS_GROUP_SGNS, 0, -10, 10},
    {"subsample", RS_GROUP_SGNS, 0, 0, 1},
    {"lr", RS_GROUP_SGNS, 0, 1e-9, 10},
    {"min_count", RS_GROUP_SGNS, 1, 1, 1e9},
    {"window", RS_GROUP_SGNS, 1, 0, 1e6},
    {"threads", RS_GROUP_SGNS, 1, 1, 1024},
    {"als_factors", RS_GROUP_ALS, 1, 1, 4096},
    {"als_lambda", RS_GROUP_ALS, 0, 1e-12, 1e12},
    {"als_alpha", RS_GROUP_ALS, 0, 0, 1e9},
    {"als_iters", RS_GROUP_ALS, 1, 1, 10000},
    {"ease_lambda", RS_GROUP_EASE, 0, 1e-12, 1e12},
};
#define N_PARAMS (sizeof PARAMS / sizeof PARAMS[0])

static const param_def *find_param(const char *name)
{
    for (size_t i = 0; i < N_PARAMS; i++)
        if (strcmp(PARAMS[i].name, name) == 0)
            return &PARAMS[i];
    return NULL;
}

void rs_train_params_defaults(rs_train_params *p)
{
    memset(p, 0, sizeof *p);
    rs_sgns_defaults(&p->sgns);
    rs_als_defaults(&p->als);
    p->ease_lambda = RS_EASE_DEFAULT_LAMBDA;
}

int rs_param_known(const char *name, rs_param_group *group)
{
    const param_def *d = find_param(name);
    if (d && group)
        *group = d->group;
    return d != NULL;
}

int rs_param_set(rs_train_params *p, const char *name, double v, rs_error *e)
{
    const param_def *d = find_param(name);
    if (!d)
        return rs_seterr(e, RS_EUSAGE, "unknown parameter '%s'", name);
    if (!isfinite(v) || v < d->lo || v > d->hi)
        return rs_seterr(e, RS_EUSAGE, "parameter '%s': %g is out of range [%g, %g]", name, v,
                         d->lo, d->hi);
    if (d->integer && v != floor(v))
        return rs_seterr(e, RS_EUSAGE, "parameter '%s': %g is not an integer", name, v);
    /* Only integer parameters are converted: a real one (ease_lambda) may exceed INT_MAX,
     * and that conversion would be undefined behaviour. */
    int iv = d->integer ? (int)v : 0;
    if (!strcmp(name, "dim")) p->sgns.dim = iv;
    else if (!strcmp(name, "epochs")) p->sgns.epochs = iv;
    else if (!strcmp(name, "negative")) p->sgns.negative = iv;
    else if (!strcmp(name, "ns_exponent")) p->sgns.ns_exponent = v;
    else if (!strcmp(name, "subsample")) p->sgns.subsample = v;
    else if (!strcmp(name, "lr")) p->sgns.lr = v;
    else if (!strcmp(name, "min_count")) p->sgns.min_count = iv;
    else if (!strcmp(name, "window")) p->sgns.window = iv;
    else if (!strcmp(name, "threads")) p->sgns.threads = iv;
    else if (!strcmp(name, "als_factors")) p->als.factors = iv;
    else if (!strcmp(name, "als_lambda")) p->als.lambda = v;
    else if (!strcmp(name, "als_alpha")) p->als.alpha = v;
    else if (!strcmp(name, "als_iters")) p->als.iters = iv;
    else if (!strcmp(name, "ease_lambda")) p->ease_lambda = v;
    return RS_OK;
}

int rs_param_set_text(rs_train_params *p, const char *name, const char *text, rs_error *e)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (!text[0] || !end || *end || errno)
        return rs_seterr(e, RS_EUSAGE, "parameter '%s': '%s' is not a number", name, text);
    return rs_param_set(p, name, v, e);
}

char *rs_params_json(const rs_train_params *p, rs_param_group g)
{
    char *s = NULL;
    int n = -1;
    switch (g) {
    case RS_GROUP_SGNS:
        n = asprintf(&s,
                     "{\"dim\":%d,\"epochs\":%d,\"negative\":%d,\"ns_exponent\":%.10g,"
                     "\"subsample\":%.10g,\"lr\":%.10g,\"min_count\":%d,\"window\":%d,"
                     "\"threads\":%d,\"seed\":%llu}",
                     p->sgns.dim, p->sgns.epochs, p->sgns.negative, p->sgns.ns_exponent,
                     p->sgns.subsample, p->sgns.lr, p->sgns.min_count, p->sgns.window,
                     p->sgns.threads, (unsigned long long)p->sgns.seed);
        break;
    case RS_GROUP_ALS:
        n = asprintf(&s,
                     "{\"als_factors\":%d,\"als_lambda\":%.10g,\"als_alpha\":%.10g,"
                     "\"als_iters\":%d,\"seed\":%llu}",
                     p->als.factors, p->als.lambda, p->als.alpha, p->als.iters,
                     (unsigned long long)p->als.seed);
        break;
    case RS_GROUP_EASE:
        n = asprintf(&s, "{\"ease_lambda\":%.10g}", p->ease_lambda);
        break;
    default:
        break;
    }
    return n < 0 ? NULL : s;
}

typedef struct grid_key {
    const param_def *def;
    int n;
    double *vals;
} grid_key;

struct rs_grid {
    int n_keys;
    grid_key keys[N_PARAMS];
    char *text;
};

void rs_grid_free(rs_grid *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_keys; i++)
        free(g->keys[i].vals);
    free(g->text);
    free(g);
}

const char *rs_grid_text(const rs_grid *g) { return g->text; }

/* line:column of the byte at pos in text (1-based). */
static void line_col(const char *text, const char *pos, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *c = text; c < pos && *c; c++) {
        if (*c == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int rs_grid_parse(const char *text, const char *source, rs_grid **out, rs_error *e)
{
    int rc = RS_EDATA;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    rs_grid *g = NULL;
    rs_train_params probe;
    *out = NULL;
    if (!root) {
        int line, col;
        const char *at = cJSON_GetErrorPtr();
        line_col(text, at ? at : text, &line, &col);
        rc = rs_seterr(e, RS_EDATA, "%s:%d:%d: invalid JSON", source, line, col);
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        rc = rs_seterr(e, RS_EDATA, "%s: a grid must be a JSON object of parameter lists",
                       source);
        goto done;
    }
    g = calloc(1, sizeof *g);
    if (!g || !(g->text = strdup(text))) {
        rc = rs_seterr(e, RS_EINTERNAL, "grid: out of memory");
        goto done;
    }
    rs_train_params_defaults(&probe);
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        const char *key = it->string ? it->string : "";
        const param_def *d = find_param(key);
        if (!d) {
            rc = rs_seterr(e, RS_EDATA,
                           "%s: unknown key \"%s\" (known: dim, epochs, negative, "
                           "ns_exponent, subsample, lr, min_count, window, threads, "
                           "als_factors, als_lambda, als_alpha, als_iters, ease_lambda)",
                           source, key);
            goto done;
        }
        for (int k = 0; k < g->n_keys; k++)
            if (g->keys[k].def == d) {
                rc = rs_seterr(e, RS_EDATA, "%s: key \"%s\" appears twice", source, key);
                goto done;
            }
        int n = cJSON_GetArraySize(it);
        if (!cJSON_IsArray(it) || n == 0) {
            rc = rs_seterr(e, RS_EDATA, "%s: key \"%s\": the value must be a non-empty list",
                           source, key);
            goto done;
        }
        grid_key *gk = &g->keys[g->n_keys];
        gk->def = d;
        gk->vals = malloc((size_t)n * sizeof *gk->vals);
        if (!gk->vals) {
            rc = rs_seterr(e, RS_EINTERNAL, "grid: out of memory");
            goto done;
        }
        g->n_keys++;
        const cJSON *v;
        int i = 0;
        cJSON_ArrayForEach(v, it)
        {
            if (!cJSON_IsNumber(v)) {
                rc = rs_seterr(e, RS_EDATA, "%s: key \"%s\": element %d is not a number",
                               source, key, i + 1);
                goto done;
            }
            if ((rc = rs_param_set(&probe, key, v->valuedouble, e))) {
                rs_errctx(e, "%s", source);
                rc = RS_EDATA;
                e->code = RS_EDATA;
                goto done;
            }
            gk->vals[i++] = v->valuedouble;
        }
        gk->n = n;
    }
    *out = g;
    g = NULL;
    rc = RS_OK;
done:
    cJSON_Delete(root);
    rs_grid_free(g);
    return rc;
}

int rs_grid_load(const char *path, rs_grid **out, rs_error *e)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return rs_seterr(e, RS_EUSAGE, "%s: cannot open grid file: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = RS_OK;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = rs_seterr(e, RS_EINTERNAL, "grid: out of memory");
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: read error", path);
        goto done;
    }
    buf[len] = 0;
    if (strlen(buf) != len) {
        rc = rs_seterr(e, RS_EDATA, "%s: NUL byte in grid file", path);
        goto done;
    }
    rc = rs_grid_parse(buf, path, out, e);
done:
    free(buf);
    fclose(f);
    return rc;
}

int64_t rs_grid_count(const rs_grid *g, rs_param_group group)
{
    int64_t n = 1;
    if (!g)
        return 1;
    for (int k = 0; k < g->n_keys; k++)
        if (g->keys[k].def->group == group) {
            n *= g->keys[k].n;
            if (n > 1000000)
                return 1000000; /* far beyond anything trainable; callers refuse */
        }
    return n;
}

int rs_grid_apply(const rs_grid *g, rs_param_group group, int64_t idx, rs_train_params *p,
                  rs_error *e)
{
    if (!g)
        return RS_OK;
    /* mixed radix over the group's keys, last key fastest */
    for (int k = g->n_keys - 1; k >= 0; k--) {
        const grid_key *gk = &g->keys[k];
        if (gk->def->group != group)
            continue;
        int i = (int)(idx % gk->n);
        idx /= gk->n;
        int rc = rs_param_set(p, gk->def->name, gk->vals[i], e);
        if (rc)
            return rc;
    }
    return RS_OK;
}

int rs_kind_group(const char *kind)
{
    if (!strcmp(kind, RS_KIND_PRODUCT) || !strcmp(kind, RS_KIND_CATEGORY))
        return RS_GROUP_SGNS;
    if (!strcmp(kind, RS_KIND_ALS))
        return RS_GROUP_ALS;
    if (!strcmp(kind, RS_KIND_EASE))
        return RS_GROUP_EASE;
    return -1;
}

int rs_fit_kind(const rs_corpus *c, const char *kind, const rs_train_params *p,
                int32_t ease_cap, rs_progress_fn progress, void *progress_ctx,
                rs_embedding **out, rs_error *e)
{
    switch (rs_kind_group(kind)) {
    case RS_GROUP_SGNS:
        return rs_sgns_train(c, &p->sgns, progress, progress_ctx, out, e);
    case RS_GROUP_ALS:
        return rs_als_fit(c, &p->als, out, e);
    case RS_GROUP_EASE:
        return rs_ease_fit(c, p->ease_lambda, ease_cap, out, e);
    default:
        return rs_seterr(e, RS_EUSAGE, "unknown model kind '%s'", kind);
    }
}
