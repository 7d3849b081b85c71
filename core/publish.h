/* publish.h - the one way a model becomes a file and a registry row.
 *
 * Every producer (train, import-model, bench, the tests, the screen-test world) hands
 * its fitted rs_embedding here.  rs_model_publish():
 *   1. refuses a model with a NaN or infinite value (RS_EDATA naming the row and the
 *      value): nothing is written and the active model of (city, kind, split) stays;
 *   2. chooses the file: p->path, or a fresh name in the database's models directory
 *      "<dir>/<kind>-c<city>-<split>-<UTC yyyymmddThhmmss>-<nanoseconds>.rsm"
 *      (rs_model_new_path);
 *   3. takes the rows' external ids from p->ext_ids or, when NULL, from the catalogue
 *      (categories for the category kind, products for every other kind);
 *   4. writes "<file>.json" (the sidecar: rs_model_sidecar plus what the file knows)
 *      and the file through core/atomicfile.h, the sidecar first;
 *   5. registers the file (rs_registry_add), active or not.  When registering fails the
 *      fresh files are removed again.
 */
#ifndef RS_PUBLISH_H
#define RS_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "embedding.h"
#include "error.h"
#include "store.h"

typedef struct rs_publish {
    int64_t city_id;               /* 0 = all cities */
    const char *kind;              /* RS_KIND_* (model.h) */
    const char *split;             /* registry split; NULL = "all" */
    const char *params_json;       /* JSON object text; NULL = {} */
    const char *metrics_json;      /* JSON object text or NULL */
    const char *fingerprint;       /* corpus fingerprint or NULL */
    double seconds;                /* fitting time */
    int activate;                  /* make it the active model of (city, kind, split) */
    const char *const *ext_ids;    /* [rows] external id of each row; NULL = catalogue */
    const char *path;              /* the file to write; NULL = a fresh models-dir name */
} rs_publish;

/* Publishes m as described above.  *id (may be NULL) receives the registry id, path_out
 * (may be NULL) the file written.  Errors name the model file and what is wrong. */
int rs_model_publish(rs_store *s, const rs_embedding *m, const rs_publish *p, int64_t *id,
                     char *path_out, size_t path_n, rs_error *e);

#endif
