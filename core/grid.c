/* grid.c - training parameters and grid files (see grid.h). */
#include "grid.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct grid_key {
    const char *name;            /* the parameter (a name of its group's table) */
    const rs_param_group *group;
    int n;
    double *vals;
} grid_key;

#define MAX_KEYS 64

struct rs_grid {
    int n_keys;
    grid_key keys[MAX_KEYS];
    char *text;
};

static const char *def_name(const rs_param_group *g, const char *key)
{
    for (int k = 0; k < g->n_defs; k++)
        if (strcmp(g->defs[k].name, key) == 0)
            return g->defs[k].name;
    return "";
}

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
        const rs_param_group *grp = NULL;
        if (!rs_param_known(key, &grp)) {
            rc = rs_seterr(e, RS_EDATA, "%s: unknown key \"%s\" (known: %s)", source, key,
                           rs_param_names());
            goto done;
        }
        for (int k = 0; k < g->n_keys; k++)
            if (strcmp(g->keys[k].name, key) == 0) {
                rc = rs_seterr(e, RS_EDATA, "%s: key \"%s\" appears twice", source, key);
                goto done;
            }
        int n = cJSON_GetArraySize(it);
        if (!cJSON_IsArray(it) || n == 0) {
            rc = rs_seterr(e, RS_EDATA, "%s: key \"%s\": the value must be a non-empty list",
                           source, key);
            goto done;
        }
        if (g->n_keys >= MAX_KEYS) { /* unreachable: keys are distinct parameters */
            rc = rs_seterr(e, RS_EDATA, "%s: too many keys", source);
            goto done;
        }
        grid_key *gk = &g->keys[g->n_keys];
        gk->name = def_name(grp, key); /* the table's copy: it outlives the JSON tree */
        gk->group = grp;
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

int64_t rs_grid_count(const rs_grid *g, const rs_param_group *group)
{
    int64_t n = 1;
    if (!g)
        return 1;
    for (int k = 0; k < g->n_keys; k++)
        if (g->keys[k].group == group) {
            n *= g->keys[k].n;
            if (n > RS_GRID_MAX_COMBOS)
                return RS_GRID_MAX_COMBOS + 1; /* far beyond anything trainable */
        }
    return n;
}

int rs_grid_has_group(const rs_grid *g, const rs_param_group *group)
{
    for (int k = 0; g && k < g->n_keys; k++)
        if (g->keys[k].group == group)
            return 1;
    return 0;
}

int rs_grid_apply(const rs_grid *g, const rs_param_group *group, int64_t idx,
                  rs_train_params *p, rs_error *e)
{
    if (!g)
        return RS_OK;
    /* mixed radix over the group's keys, last key fastest */
    for (int k = g->n_keys - 1; k >= 0; k--) {
        const grid_key *gk = &g->keys[k];
        if (gk->group != group)
            continue;
        int i = (int)(idx % gk->n);
        idx /= gk->n;
        int rc = rs_param_set(p, gk->name, gk->vals[i], e);
        if (rc)
            return rc;
    }
    return RS_OK;
}
