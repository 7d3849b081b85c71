/* kinds.c - the table of model kinds and the parameter machinery (see kinds.h). */
#include "kinds.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "als.h"
#include "completion.h"
#include "ease.h"
#include "glove.h"

const rs_metric_def RS_RANK_METRICS[] = {
    {"hr@10", "HR@10"},
    {"ndcg@10", "NDCG@10"},
    {"coverage@10", "cover@10"},
    {"novelty", "novelty"},
};
const int RS_N_RANK_METRICS = (int)(sizeof RS_RANK_METRICS / sizeof RS_RANK_METRICS[0]);

#define METRICS RS_RANK_METRICS, (int)(sizeof RS_RANK_METRICS / sizeof RS_RANK_METRICS[0])

/* The category model's built-in search: the SGNS negative-sampling exponent matters
 * most over a few hundred categories (0.75, word2vec's, samples the popular ones as
 * negatives so often that in.out learns against popularity); each fit takes well under
 * a second. */
#define CATEGORY_SGNS_SEARCH "{\"ns_exponent\": [-0.5, 0, 0.5, 0.75, 1]}"

/* The kinds, in the order train fits them and eval shows them. */
const rs_kind RS_KINDS[] = {
    {"product", "product SGNS", "sgns in.out", &RS_SGNS_PARAMS, RS_BASKETS_PRODUCTS,
     rs_sgns_fit_kind, RS_COMP_SGNS, rs_sgns_parts, "synonyms sgns in.in", 0, METRICS, NULL},
    {"category", "category SGNS", "category sgns in.out", &RS_SGNS_PARAMS,
     RS_BASKETS_CATEGORIES, rs_sgns_fit_kind, RS_COMP_SGNS, rs_sgns_parts, NULL, 0, METRICS,
     CATEGORY_SGNS_SEARCH},
    {"als", "ALS", "als", &RS_ALS_PARAMS, RS_BASKETS_PRODUCTS, rs_als_fit_kind, RS_COMP_ALS,
     rs_als_parts, NULL, 0, METRICS, NULL},
    {"ease", "EASE", "ease", &RS_EASE_PARAMS, RS_BASKETS_PRODUCTS, rs_ease_fit_kind,
     RS_COMP_EASE, rs_ease_parts, NULL, RS_KIND_MAY_REFUSE, METRICS, NULL},
    {"glove", "product GloVe", "glove in.out", &RS_GLOVE_PARAMS, RS_BASKETS_PRODUCTS,
     rs_glove_fit_kind, RS_COMP_GLOVE, rs_glove_parts, NULL, 0, METRICS, NULL},
    {"category-ease", "category EASE", "category ease", &RS_CATEGORY_EASE_PARAMS,
     RS_BASKETS_CATEGORIES, rs_category_ease_fit_kind, RS_COMP_EASE, rs_ease_parts, NULL, 0,
     METRICS, RS_CATEGORY_EASE_SEARCH},
};
const int RS_N_KINDS = (int)(sizeof RS_KINDS / sizeof RS_KINDS[0]);

const rs_kind *rs_kind_find(const char *name)
{
    int i = rs_kind_index(name);
    return i < 0 ? NULL : &RS_KINDS[i];
}

int rs_kind_index(const char *name)
{
    for (int i = 0; name && i < RS_N_KINDS; i++)
        if (strcmp(RS_KINDS[i].name, name) == 0)
            return i;
    return -1;
}

const rs_kind *rs_kind_for_method(rs_baskets b, int comp)
{
    for (int i = 0; i < RS_N_KINDS; i++)
        if (RS_KINDS[i].baskets == b && RS_KINDS[i].comp == comp)
            return &RS_KINDS[i];
    return NULL;
}

const char *rs_kind_names(void)
{
    /* built from the table into a static buffer: the table is constant, so every
     * call writes the same bytes */
    static char buf[256];
    size_t at = 0;
    for (int i = 0; i < RS_N_KINDS && at < sizeof buf; i++)
        at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s", i ? ", " : "",
                               RS_KINDS[i].name);
    return buf;
}

/* ---- parameter groups and slots ------------------------------------------------- */

/* The slot of group g: its rank among the distinct groups of RS_KINDS. */
static int group_slot(const rs_param_group *g)
{
    int slot = 0;
    for (int i = 0; i < RS_N_KINDS; i++) {
        int first = 1;
        for (int j = 0; j < i; j++)
            if (RS_KINDS[j].params == RS_KINDS[i].params)
                first = 0;
        if (!first)
            continue;
        if (RS_KINDS[i].params == g)
            return slot;
        slot++;
    }
    return -1;
}

/* The statement after it runs once per distinct group g, in slot order. */
#define FOR_EACH_GROUP(g)                                                                \
    for (int gi_ = 0; gi_ < RS_N_KINDS; gi_++)                                           \
        for (const rs_param_group *g = RS_KINDS[gi_].params; g; g = NULL)                \
            if (slot_rank(gi_) >= 0)

/* The slot number kind i's group gets if it is the first of its group, else -1. */
static int slot_rank(int i)
{
    for (int j = 0; j < i; j++)
        if (RS_KINDS[j].params == RS_KINDS[i].params)
            return -1;
    return group_slot(RS_KINDS[i].params);
}

void *rs_params_get(rs_train_params *p, const rs_param_group *g)
{
    int s = group_slot(g);
    return s < 0 || s >= RS_PARAMS_SLOTS ? NULL : p->slot[s].bytes_;
}

const void *rs_params_cget(const rs_train_params *p, const rs_param_group *g)
{
    int s = group_slot(g);
    return s < 0 || s >= RS_PARAMS_SLOTS ? NULL : p->slot[s].bytes_;
}

void rs_train_params_defaults(rs_train_params *p)
{
    memset(p, 0, sizeof *p);
    FOR_EACH_GROUP(g) g->defaults(rs_params_get(p, g));
}

static const rs_param_def *find_def(const char *name, const rs_param_group **group)
{
    FOR_EACH_GROUP(g)
    {
        for (int k = 0; k < g->n_defs; k++)
            if (strcmp(g->defs[k].name, name) == 0) {
                if (group)
                    *group = g;
                return &g->defs[k];
            }
    }
    return NULL;
}

int rs_param_known(const char *name, const rs_param_group **group)
{
    return find_def(name, group) != NULL;
}

int rs_param_set(rs_train_params *p, const char *name, double v, rs_error *e)
{
    const rs_param_group *g = NULL;
    const rs_param_def *d = find_def(name, &g);
    if (!d)
        return rs_seterr(e, RS_EUSAGE, "unknown parameter '%s'", name);
    if (!isfinite(v) || v < d->lo || v > d->hi)
        return rs_seterr(e, RS_EUSAGE, "parameter '%s': %g is out of range [%g, %g]", name, v,
                         d->lo, d->hi);
    if (d->type == RS_PARAM_INT && v != floor(v))
        return rs_seterr(e, RS_EUSAGE, "parameter '%s': %g is not an integer", name, v);
    unsigned char *base = rs_params_get(p, g);
    /* Only integer parameters are converted: a real one (ease_lambda) may exceed INT_MAX,
     * and that conversion would be undefined behaviour. */
    if (d->type == RS_PARAM_INT) {
        int iv = (int)v;
        memcpy(base + d->offset, &iv, sizeof iv);
    } else {
        memcpy(base + d->offset, &v, sizeof v);
    }
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

void rs_params_set_seed(rs_train_params *p, uint64_t seed)
{
    FOR_EACH_GROUP(g)
    {
        if (g->seed_offset >= 0)
            memcpy((unsigned char *)rs_params_get(p, g) + g->seed_offset, &seed, sizeof seed);
    }
}

char *rs_params_json(const rs_train_params *p, const rs_param_group *g)
{
    const unsigned char *base = rs_params_cget(p, g);
    char buf[2048];
    size_t at = 0;
    if (!base)
        return NULL;
    buf[at++] = '{';
    for (int k = 0; k < g->n_defs && at < sizeof buf; k++) {
        const rs_param_def *d = &g->defs[k];
        const char *sep = k ? "," : "";
        if (d->type == RS_PARAM_INT) {
            int v;
            memcpy(&v, base + d->offset, sizeof v);
            at += (size_t)snprintf(buf + at, sizeof buf - at, "%s\"%s\":%d", sep, d->name, v);
        } else {
            double v;
            memcpy(&v, base + d->offset, sizeof v);
            at += (size_t)snprintf(buf + at, sizeof buf - at, "%s\"%s\":%.10g", sep, d->name,
                                   v);
        }
    }
    if (g->seed_offset >= 0 && at < sizeof buf) {
        uint64_t seed;
        memcpy(&seed, base + g->seed_offset, sizeof seed);
        at += (size_t)snprintf(buf + at, sizeof buf - at, "%s\"seed\":%llu",
                               g->n_defs ? "," : "", (unsigned long long)seed);
    }
    if (at + 2 > sizeof buf)
        return NULL;
    buf[at++] = '}';
    buf[at] = 0;
    return strdup(buf);
}

void rs_params_apply_json(rs_train_params *p, const char *json)
{
    cJSON *o = json ? cJSON_Parse(json) : NULL;
    const cJSON *it;
    rs_error e;
    cJSON_ArrayForEach(it, o)
    {
        if (!it->string || !cJSON_IsNumber(it))
            continue;
        if (!strcmp(it->string, "seed"))
            rs_params_set_seed(p, (uint64_t)it->valuedouble);
        else if (rs_param_known(it->string, NULL))
            rs_param_set(p, it->string, it->valuedouble, &e); /* bad values: defaults */
    }
    cJSON_Delete(o);
}

const char *rs_param_names(void)
{
    static char buf[1024]; /* constant table: every call writes the same bytes */
    size_t at = 0;
    FOR_EACH_GROUP(g)
    {
        for (int k = 0; k < g->n_defs && at < sizeof buf; k++)
            at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s", at ? ", " : "",
                                   g->defs[k].name);
    }
    return buf;
}

/* ---- fitting -------------------------------------------------------------------- */

int rs_kind_fit(const rs_kind *k, const rs_corpus *c, const rs_train_params *p,
                const rs_fit_opts *o, rs_embedding **out, rs_error *e)
{
    rs_fit_opts none = {0};
    rs_embedding *m = NULL;
    *out = NULL;
    int rc = k->fit(c, rs_params_cget(p, k->params), o ? o : &none, &m, e);
    if (rc)
        return rc;
    char what[64];
    snprintf(what, sizeof what, "%s: the fit gave a model that is not kept", k->name);
    if ((rc = rs_embedding_check_finite(m, what, e))) {
        rs_embedding_free(m);
        return rc;
    }
    *out = m;
    return RS_OK;
}
