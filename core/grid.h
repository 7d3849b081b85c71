/* grid.h - training parameters, the grid-search file and its combinations.
 *
 * A grid file is a JSON object whose keys are parameter names and whose values are
 * non-empty lists of numbers, e.g. {"epochs": [50, 100], "ns_exponent": [-0.5, 0, 0.5]}.
 * Keys (the same names are `train` flags, --dim 64 ...):
 *   product / category model (SGNS): dim, epochs, negative, ns_exponent, subsample, lr,
 *                                    min_count, window (0 = whole receipt), threads
 *   ALS:  als_factors, als_lambda, als_alpha, als_iters
 *   EASE: ease_lambda
 * Each kind's combinations are the cartesian product of its own keys only (the product
 * model does not multiply with ALS values).  Unknown keys, non-list values, non-numeric
 * or out-of-range values and invalid JSON are RS_EDATA errors naming the file, the key
 * (and for JSON syntax the line:column), reported before any training.
 */
#ifndef RS_GRID_H
#define RS_GRID_H

#include <stdint.h>

#include "als.h"
#include "error.h"
#include "sgns.h"

typedef struct rs_train_params {
    rs_sgns_params sgns;
    rs_als_params als;
    double ease_lambda;
} rs_train_params;

void rs_train_params_defaults(rs_train_params *p);

/* Parameter groups (which kind a key belongs to). */
typedef enum { RS_GROUP_SGNS = 0, RS_GROUP_ALS, RS_GROUP_EASE, RS_GROUP_N } rs_param_group;

/* Is name a known key?  Sets *group. */
int rs_param_known(const char *name, rs_param_group *group);
/* Sets one parameter from a number; RS_EUSAGE naming the key when the value is out of
 * range or not an integer where one is needed. */
int rs_param_set(rs_train_params *p, const char *name, double value, rs_error *e);
/* The same from text (a flag value); RS_EUSAGE naming the key on a bad number. */
int rs_param_set_text(rs_train_params *p, const char *name, const char *text, rs_error *e);
/* JSON object text of a group's parameters (malloc-ed, NULL on OOM). */
char *rs_params_json(const rs_train_params *p, rs_param_group g);

typedef struct rs_grid rs_grid;

/* Parses grid JSON text; source names it in errors. */
int rs_grid_parse(const char *text, const char *source, rs_grid **out, rs_error *e);
int rs_grid_load(const char *path, rs_grid **out, rs_error *e);
void rs_grid_free(rs_grid *g);
/* Number of combinations of the group's keys (1 when the grid has none of them). */
int64_t rs_grid_count(const rs_grid *g, rs_param_group group);
/* Applies combination idx (0 .. count-1) of the group on top of base. */
int rs_grid_apply(const rs_grid *g, rs_param_group group, int64_t idx, rs_train_params *p,
                  rs_error *e);
/* The grid's JSON text as given (for the runs table). */
const char *rs_grid_text(const rs_grid *g);

/* The group of a model kind ("product"/"category" -> SGNS, "als", "ease"); -1 unknown. */
int rs_kind_group(const char *kind);

/* Fits a model of kind on c (a category corpus for "category") with p; EASE refuses
 * more than ease_cap items (0 = RS_EASE_MAX_ITEMS). */
int rs_fit_kind(const rs_corpus *c, const char *kind, const rs_train_params *p,
                int32_t ease_cap, rs_progress_fn progress, void *progress_ctx,
                rs_embedding **out, rs_error *e);

#endif
