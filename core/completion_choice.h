/* completion_choice.h - the stored choice of a city's completion ranking: its format,
 * written by `train`, read by the scorer (completion.c) and by `eval`.
 *
 * The choice of city C lives in meta under "<prefix><C>" (RS_CHOICE_COMPLETION =
 * "completion:" for product basket completion, RS_CHOICE_CATEGORIES = "categories:" for
 * the category ranking over category baskets) as one JSON object:
 *   {"method":"blend",                      -- or one method: popularity|itemitem|sgns|...
 *    "weights":{"sgns":0.75,"ease":0.25},   -- non-zero weights, method order, %.4g
 *    "models":{"product":12,"als":13,"ease":14},  -- models.id of each kind fitted in
 *                                              that run (by kind name, table order)
 *    "run":57,                              -- the selected runs row (kind "completion")
 *    "metrics":{"k":10,"hr@10":...}}        -- its validation metrics
 * A single method is written with its name and weight 1; a reader takes "weights" only
 * for "blend".  A city without a choice of its own falls back to all cities (city 0).
 */
#ifndef RS_COMPLETION_CHOICE_H
#define RS_COMPLETION_CHOICE_H

#include <stdint.h>

#include "completion.h"
#include "error.h"
#include "kinds.h"
#include "metrics.h"
#include "store.h"

#define RS_CHOICE_COMPLETION "completion:"
/* The ranking of the Categories pane: the same record over category baskets (methods
 * over the category index space; "models" keyed by the category kinds, e.g.
 * {"category":2,"category-ease":6}), chosen by `train` like the completion choice. */
#define RS_CHOICE_CATEGORIES "categories:"
/* The runs rows (kind column) of each choice's candidates. */
#define RS_CHOICE_RUN_COMPLETION "completion"
#define RS_CHOICE_RUN_CATEGORIES "categories"

typedef struct rs_completion_choice {
    double weights[RS_COMP_N];  /* a single method: one weight 1 */
    int64_t models[RS_COMP_N];  /* models.id serving method m, 0 = none (the active one) */
    int64_t run;                /* runs.id, 0 unknown */
    int has_metrics;
    rs_rank_metrics metrics;    /* validation metrics when has_metrics */
} rs_completion_choice;

/* The method word of a choice: the one method with a non-zero weight, else "blend". */
const char *rs_choice_method(const rs_completion_choice *c);

/* The JSON text of c (malloc-ed; NULL on OOM).  Model ids are keyed by the name of the
 * kind of baskets b serving each method (kinds.h). */
char *rs_choice_json(const rs_completion_choice *c, rs_baskets b);

/* {"method":...,"weights":{...}}: the first two fields of rs_choice_json (the params
 * of a completion run in the runs table), truncated to n - 1 bytes. */
void rs_choice_params_json(const rs_completion_choice *c, char *buf, size_t n);

/* Parses a choice text; what names it in errors ("meta 'completion:3'"). RS_EDATA for
 * a text that is not such an object, RS_EUSAGE for an unknown method. */
int rs_choice_parse(const char *text, rs_baskets b, const char *what, rs_completion_choice *c,
                    rs_error *e);

/* Loads the choice of city (falling back to city 0): *found = 0 (and RS_OK) when
 * neither has one; *used_city (may be NULL) says which answered; *text (may be NULL)
 * receives the stored text (malloc-ed) when found. */
int rs_choice_load(rs_store *s, const char *prefix, rs_baskets b, int64_t city,
                   rs_completion_choice *c, int *found, int64_t *used_city, char **text,
                   rs_error *e);

/* Stores c as the choice of city. */
int rs_choice_save(rs_store *s, const char *prefix, rs_baskets b, int64_t city,
                   const rs_completion_choice *c, rs_error *e);

#endif
