/* grid.h - the grid-search file and its combinations.
 *
 * A grid file is a JSON object whose keys are parameter names and whose values are
 * non-empty lists of numbers, e.g. {"epochs": [50, 100], "ns_exponent": [-0.5, 0, 0.5]}.
 * Keys are the parameter names of the kinds' groups (kinds.h; the same names are
 * `train` flags, --dim 64 ...):
 *   product / category model (SGNS): dim, epochs, negative, ns_exponent, subsample, lr,
 *                                    min_count, window (0 = whole receipt), threads
 *   ALS:  als_factors, als_lambda, als_alpha, als_iters
 *   EASE: ease_lambda
 * Each kind's combinations are the cartesian product of its own group's keys only (the
 * product model does not multiply with ALS values).  Unknown keys, non-list values, non-numeric
 * or out-of-range values and invalid JSON are RS_EDATA errors naming the file, the key
 * (and for JSON syntax the line:column), reported before any training.
 */
#ifndef RS_GRID_H
#define RS_GRID_H

#include <stdint.h>

#include "error.h"
#include "kinds.h"

typedef struct rs_grid rs_grid;

/* Parses grid JSON text; source names it in errors. */
int rs_grid_parse(const char *text, const char *source, rs_grid **out, rs_error *e);
int rs_grid_load(const char *path, rs_grid **out, rs_error *e);
void rs_grid_free(rs_grid *g);
/* Number of combinations of the group's keys (1 when the grid has none of them, or g
 * is NULL); saturates at RS_GRID_MAX_COMBOS + 1. */
#define RS_GRID_MAX_COMBOS 1000000
int64_t rs_grid_count(const rs_grid *g, const rs_param_group *group);
/* Whether the grid has a key of the group. */
int rs_grid_has_group(const rs_grid *g, const rs_param_group *group);
/* Applies combination idx (0 .. count-1) of the group on top of p. */
int rs_grid_apply(const rs_grid *g, const rs_param_group *group, int64_t idx,
                  rs_train_params *p, rs_error *e);
/* The grid's JSON text as given (for the runs table). */
const char *rs_grid_text(const rs_grid *g);

#endif
