/* kinds.h - the one table of model kinds, and the parameters of every kind.
 *
 * A model kind is one row of RS_KINDS (kinds.c):
 *   name      the registry's and the file names' word ("product", "als", ...)
 *   title     what a person reads ("product SGNS", "EASE")
 *   label     the method's name in evaluations ("sgns in.out", "ease")
 *   params    its parameter group (names, ranges, defaults, JSON; below); kinds that
 *             differ only by their baskets share one group (product and category SGNS)
 *   baskets   the corpus it is fitted on: product baskets, or category baskets (each
 *             receipt mapped to its distinct categories, corpus.h)
 *   fit       the fit function (the algorithm's own file: sgns.c, als.c, ease.c)
 *   comp      the completion method it serves (RS_COMP_*, completion.h), and parts()
 *             which plugs a fitted model into a scorer (rs_completion_parts)
 *   synonyms  the evaluation label of its synonyms when its input vectors answer them
 *             (category purity / co-purchase in eval), else NULL
 *   flags     RS_KIND_MAY_REFUSE: a fit refused with
 *             RS_EUSAGE (too big, e.g. EASE over --ease-cap) skips the kind for that city
 *             instead of failing the run
 *   metrics   how it is scored and shown: the rank metrics of metrics.h, by key and
 *             display label (RS_RANK_METRICS)
 *   search    a small built-in grid train searches when given none for the kind
 * `train`, `eval`, the grid's parameter names, the completion choice and the metric
 * panel all walk this table; adding a kind is its algorithm's file plus one row.
 *
 * Parameters.  A group is a table of rs_param_def (name, integer or real, inclusive
 * range, offset into the group's own struct, e.g. rs_sgns_params) with a defaults
 * function.  rs_train_params holds one struct per group, in slots numbered by the order
 * in which the groups first appear in RS_KINDS; rs_params_get() gives a group's struct.
 * Parameter names are unique over all groups (a test checks it); they are the grid
 * file's keys and `train` flags.  A group's random seed (seed_offset) is not a grid key:
 * rs_params_set_seed() sets every group's seed at once (`train --seed`).
 */
#ifndef RS_KINDS_H
#define RS_KINDS_H

#include <stddef.h>
#include <stdint.h>

#include "corpus.h"
#include "error.h"
#include "sgns.h"

typedef struct rs_completion_parts rs_completion_parts; /* completion.h */

/* ---- parameters ---------------------------------------------------------------- */

typedef enum { RS_PARAM_INT = 0, RS_PARAM_REAL } rs_param_type;

typedef struct rs_param_def {
    const char *name;   /* grid key and `train --NAME` flag */
    rs_param_type type; /* RS_PARAM_INT: an int field; RS_PARAM_REAL: a double field */
    double lo, hi;      /* inclusive range */
    size_t offset;      /* of the field in the group's struct */
} rs_param_def;

typedef struct rs_param_group {
    const char *name;          /* "sgns", "als", "ease" */
    const rs_param_def *defs;  /* in the order of the params JSON */
    int n_defs;
    size_t size;               /* sizeof the group's struct (<= RS_PARAMS_SLOT_BYTES) */
    void (*defaults)(void *p);
    long seed_offset;          /* of a uint64_t seed field, -1 when the group has none */
} rs_param_group;

#define RS_PARAMS_SLOTS 8
#define RS_PARAMS_SLOT_BYTES 192

/* Every group's parameters (plain data: copy it by assignment). */
typedef struct rs_train_params {
    union {
        max_align_t align_;
        unsigned char bytes_[RS_PARAMS_SLOT_BYTES];
    } slot[RS_PARAMS_SLOTS];
} rs_train_params;

/* Every group at its defaults. */
void rs_train_params_defaults(rs_train_params *p);
/* The struct of group g inside p (rs_sgns_params * for the SGNS group, ...). */
void *rs_params_get(rs_train_params *p, const rs_param_group *g);
const void *rs_params_cget(const rs_train_params *p, const rs_param_group *g);

/* Is name a parameter of some group?  Sets *group (may be NULL). */
int rs_param_known(const char *name, const rs_param_group **group);
/* Sets one parameter from a number; RS_EUSAGE naming the key when the value is out of
 * range or not an integer where one is needed. */
int rs_param_set(rs_train_params *p, const char *name, double value, rs_error *e);
/* The same from text (a flag value); RS_EUSAGE naming the key on a bad number. */
int rs_param_set_text(rs_train_params *p, const char *name, const char *text, rs_error *e);
/* Sets the seed of every group that has one. */
void rs_params_set_seed(rs_train_params *p, uint64_t seed);
/* JSON object text of group g's parameters, in the order of its table, then "seed"
 * (malloc-ed, NULL on OOM): integers as %d, reals as %.10g. */
char *rs_params_json(const rs_train_params *p, const rs_param_group *g);
/* Applies the numeric keys of a params JSON text (as written by rs_params_json) onto
 * p: known parameters in range, and "seed" onto every group; the rest is ignored. */
void rs_params_apply_json(rs_train_params *p, const char *json);
/* "name, name, ..." of every parameter, in table order (for messages). */
const char *rs_param_names(void);

/* ---- kinds --------------------------------------------------------------------- */

typedef enum { RS_BASKETS_PRODUCTS = 0, RS_BASKETS_CATEGORIES } rs_baskets;

/* What a fit gets besides the corpus and its parameters. */
typedef struct rs_fit_opts {
    int32_t max_items;     /* kinds with a size cap (EASE): the most frequent items; 0 = default */
    rs_progress_fn progress; /* optional, 0..1 */
    void *progress_ctx;
} rs_fit_opts;

typedef int (*rs_fit_fn)(const rs_corpus *c, const void *params, const rs_fit_opts *o,
                         rs_embedding **out, rs_error *e);
/* Puts model m (fitted with params) into the parts of a completion scorer. */
typedef void (*rs_parts_fn)(const rs_embedding *m, const void *params,
                            rs_completion_parts *parts);

enum {
    RS_KIND_MAY_REFUSE = 1, /* RS_EUSAGE from fit = too big: skip, do not fail */
};

/* A rank metric as stored (key of rs_rank_metrics_json at k = 10) and as shown. */
typedef struct rs_metric_def {
    const char *key;   /* "hr@10" */
    const char *label; /* "HR@10" */
} rs_metric_def;

/* hr@10, ndcg@10, coverage@10, novelty: the figures of every metric panel. */
extern const rs_metric_def RS_RANK_METRICS[];
extern const int RS_N_RANK_METRICS;
/* The default selection metric of train (and the grid search). */
#define RS_SELECT_DEFAULT "ndcg@10"

typedef struct rs_kind {
    const char *name;
    const char *title;
    const char *label;
    const rs_param_group *params;
    rs_baskets baskets;
    rs_fit_fn fit;
    int comp;              /* rs_comp_method it serves, -1 none */
    rs_parts_fn parts;
    const char *synonyms;  /* evaluation label of its input-cosine synonyms, or NULL */
    int flags;
    const rs_metric_def *metrics;
    int n_metrics;
    /* a built-in grid (grid.h text) `train` searches on validation when its grid has
     * no key of this kind's group; NULL: the base parameters only */
    const char *search;
} rs_kind;

extern const rs_kind RS_KINDS[];
extern const int RS_N_KINDS;

/* The row named name, or NULL. */
const rs_kind *rs_kind_find(const char *name);
/* Its index in RS_KINDS, or -1. */
int rs_kind_index(const char *name);
/* The kind of baskets b serving completion method comp, or NULL. */
const rs_kind *rs_kind_for_method(rs_baskets b, int comp);
/* "product, category, als, ease" (for messages and help). */
const char *rs_kind_names(void);

/* Fits kind k on c (a category corpus for category baskets) with the parameters of its
 * group in p.  The result is checked: a model with a NaN or infinite value is refused
 * (RS_EDATA naming the kind), whatever the trainer did. */
int rs_kind_fit(const rs_kind *k, const rs_corpus *c, const rs_train_params *p,
                const rs_fit_opts *o, rs_embedding **out, rs_error *e);

#endif
