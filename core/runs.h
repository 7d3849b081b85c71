/* runs.h - what training and evaluation write beside the models: the grid-search runs
 * (table runs) and the held-out evaluations (table evaluations), schema in store.h; and
 * the parameters of the active models that evaluation refits with. */
#ifndef RS_RUNS_H
#define RS_RUNS_H

#include <stdint.h>

#include "error.h"
#include "store.h"

/* One runs row (selected = 0); grid may be NULL.  *id receives its id (may be NULL). */
int rs_runs_insert(rs_store *s, int64_t city, const char *kind, const char *grid,
                   const char *params, const char *metrics, double seconds, int64_t *id,
                   rs_error *e);
/* Marks run_id selected and the other runs of (city, kind) not; links model_id when
 * it is > 0. */
int rs_runs_select(rs_store *s, int64_t city, const char *kind, int64_t run_id,
                   int64_t model_id, rs_error *e);
/* One evaluations row; models ({"kind":id,...} of the registered models it measured,
 * NULL or "" for none) needs the column (rs_evaluations_models_column, model.h). */
int rs_evaluations_insert(rs_store *s, int64_t city, const char *method, const char *split,
                          const char *metrics, const char *models, rs_error *e);
/* The params JSON of the active model of (city, kind, split "all"), with fallback
 * falling back to all cities; *out NULL (and RS_OK) when there is none, else malloc-ed.  *model_id (may be
 * NULL) receives its id (0 when none), *metrics (may be NULL) its metrics JSON. */
int rs_runs_active_params(rs_store *s, int64_t city, const char *kind, int fallback,
                          char **out, int64_t *model_id, char **metrics, rs_error *e);

#endif
