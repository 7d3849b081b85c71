/* completion_choice.c - the stored completion choice (see completion_choice.h). */
#include "completion_choice.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *rs_choice_method(const rs_completion_choice *c)
{
    int single = -1, n = 0;
    for (int m = 0; m < RS_COMP_N; m++)
        if (c->weights[m] != 0.0) {
            single = m;
            n++;
        }
    return n == 1 ? rs_comp_method_name((rs_comp_method)single) : "blend";
}

/* Appends text to buf (size n) at *at; keeps *at <= n - 1. */
static void put(char *buf, size_t n, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t n, size_t *at, const char *fmt, ...)
{
    va_list ap;
    if (*at >= n - 1)
        return;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *at, n - *at, fmt, ap);
    va_end(ap);
    *at = k < 0 ? *at : (*at + (size_t)k >= n ? n - 1 : *at + (size_t)k);
}

static void weights_json(const rs_completion_choice *c, char *buf, size_t n)
{
    size_t at = 0;
    int first = 1;
    put(buf, n, &at, "{");
    for (int m = 0; m < RS_COMP_N; m++)
        if (c->weights[m] != 0.0) {
            put(buf, n, &at, "%s\"%s\":%.4g", first ? "" : ",",
                rs_comp_method_name((rs_comp_method)m), c->weights[m]);
            first = 0;
        }
    put(buf, n, &at, "}");
}

void rs_choice_params_json(const rs_completion_choice *c, char *buf, size_t n)
{
    char weights[512];
    weights_json(c, weights, sizeof weights);
    snprintf(buf, n, "{\"method\":\"%s\",\"weights\":%s}", rs_choice_method(c), weights);
}

char *rs_choice_json(const rs_completion_choice *c, rs_baskets b)
{
    char weights[512], models[512], *mj = NULL, *out = NULL;
    size_t at = 0;
    int first = 1;
    weights_json(c, weights, sizeof weights);
    put(models, sizeof models, &at, "{");
    for (int m = 0; m < RS_COMP_N; m++) {
        const rs_kind *k = rs_kind_for_method(b, m);
        if (k && c->models[m] > 0) {
            put(models, sizeof models, &at, "%s\"%s\":%" PRId64, first ? "" : ",", k->name,
                c->models[m]);
            first = 0;
        }
    }
    put(models, sizeof models, &at, "}");
    if (c->has_metrics && !(mj = rs_rank_metrics_json(&c->metrics)))
        return NULL;
    if (asprintf(&out, "{\"method\":\"%s\",\"weights\":%s,\"models\":%s,\"run\":%" PRId64
                       ",\"metrics\":%s}",
                 rs_choice_method(c), weights, models, c->run, mj ? mj : "{}") < 0)
        out = NULL;
    free(mj);
    return out;
}

static double json_num(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

int rs_choice_parse(const char *text, rs_baskets b, const char *what, rs_completion_choice *c,
                    rs_error *e)
{
    int rc = RS_OK;
    memset(c, 0, sizeof *c);
    cJSON *root = cJSON_Parse(text);
    if (!cJSON_IsObject(root)) {
        rc = rs_seterr(e, RS_EDATA, "completion: %s is not a JSON object", what);
        goto done;
    }
    const cJSON *meth = cJSON_GetObjectItemCaseSensitive(root, "method");
    if (!cJSON_IsString(meth)) {
        rc = rs_seterr(e, RS_EDATA, "completion: %s has no \"method\"", what);
        goto done;
    }
    if (strcmp(meth->valuestring, "blend") == 0) {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "weights");
        const cJSON *it;
        cJSON_ArrayForEach(it, w)
        {
            rs_comp_method m = RS_COMP_POPULARITY;
            if ((rc = rs_comp_method_parse(it->string ? it->string : "", &m, e)))
                goto done;
            if (!cJSON_IsNumber(it)) {
                rc = rs_seterr(e, RS_EDATA, "completion: weight of %s is not a number",
                               it->string);
                goto done;
            }
            c->weights[m] = it->valuedouble;
        }
    } else {
        rs_comp_method m = RS_COMP_POPULARITY;
        if ((rc = rs_comp_method_parse(meth->valuestring, &m, e)))
            goto done;
        c->weights[m] = 1.0;
    }
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
    for (int m = 0; m < RS_COMP_N; m++) {
        const rs_kind *k = rs_kind_for_method(b, m);
        if (k)
            c->models[m] = (int64_t)json_num(models, k->name, 0);
    }
    c->run = (int64_t)json_num(root, "run", 0);
    const cJSON *mo = cJSON_GetObjectItemCaseSensitive(root, "metrics");
    if (cJSON_IsObject(mo)) {
        c->has_metrics = 1;
        c->metrics.k = (int)json_num(mo, "k", 10);
        c->metrics.n_queries = (int64_t)json_num(mo, "queries", 0);
        const struct { const char *base; double *v; int with_k; } f[] = {
            {"hr", &c->metrics.hr, 1},           {"ndcg", &c->metrics.ndcg, 1},
            {"mrr", &c->metrics.mrr, 0},         {"precision", &c->metrics.precision, 1},
            {"recall", &c->metrics.recall, 1},   {"coverage", &c->metrics.coverage, 1},
            {"novelty", &c->metrics.novelty, 0},
        };
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
            char key[32];
            if (f[i].with_k)
                snprintf(key, sizeof key, "%s@%d", f[i].base, c->metrics.k);
            else
                snprintf(key, sizeof key, "%s", f[i].base);
            *f[i].v = json_num(mo, key, 0.0);
        }
    }
done:
    cJSON_Delete(root);
    return rc;
}

/* The stored text under prefix + city ("" when absent; malloc-ed). */
static int read_text(rs_store *s, const char *prefix, int64_t city, char **out, rs_error *e)
{
    char key[96];
    const size_t n = 1 << 16;
    char *buf = malloc(n);
    *out = NULL;
    if (!buf)
        return rs_seterr(e, RS_EINTERNAL, "completion: out of memory");
    snprintf(key, sizeof key, "%s%" PRId64, prefix, city);
    int rc = rs_store_meta_get(s, key, buf, n, e);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    return RS_OK;
}

int rs_choice_load(rs_store *s, const char *prefix, rs_baskets b, int64_t city,
                   rs_completion_choice *c, int *found, int64_t *used_city, char **text,
                   rs_error *e)
{
    char *buf = NULL, what[128];
    int rc;
    memset(c, 0, sizeof *c);
    *found = 0;
    if (text)
        *text = NULL;
    if ((rc = read_text(s, prefix, city, &buf, e)))
        return rc;
    if (!buf[0] && city != 0) {
        free(buf);
        city = 0;
        if ((rc = read_text(s, prefix, city, &buf, e)))
            return rc;
    }
    if (buf[0]) {
        snprintf(what, sizeof what, "meta '%s%" PRId64 "'", prefix, city);
        if ((rc = rs_choice_parse(buf, b, what, c, e)))
            goto done;
        *found = 1;
        if (used_city)
            *used_city = city;
        if (text) {
            char *t = realloc(buf, strlen(buf) + 1); /* from the 64 KiB read buffer */
            *text = t ? t : buf;
            buf = NULL;
        }
    }
done:
    free(buf);
    return rc;
}

int rs_choice_save(rs_store *s, const char *prefix, rs_baskets b, int64_t city,
                   const rs_completion_choice *c, rs_error *e)
{
    char key[96];
    char *json = rs_choice_json(c, b);
    if (!json)
        return rs_seterr(e, RS_EINTERNAL, "completion: out of memory");
    snprintf(key, sizeof key, "%s%" PRId64, prefix, city);
    int rc = rs_store_meta_set(s, key, json, e);
    free(json);
    return rc;
}
