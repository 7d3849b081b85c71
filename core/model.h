/* model.h - model files and the model registry.
 *
 * File format (little-endian, all sections page-aligned):
 *   header: magic "RSCOPEM1", version, endianness mark 0x01020304, kind, rows, dim,
 *           n_items, flags (has input / has output / has counts), section offsets,
 *           length of the external-id block, total file length (byte layout at the
 *           top of model_io.c)
 *   input matrix  rows x dim float32
 *   output matrix rows x dim float32 (when flagged)
 *   counts        rows int64
 *   id table      rows x int32 item index, then rows NUL-terminated external ids
 * Beside it, "<file>.json" (the sidecar): kind, city, split, params, metrics,
 * fingerprint, created_at, seconds.
 * Files are written through core/atomicfile.h (exclusive temporary file, regular
 * targets only, fsync, rename); the registry row is inserted only after the rename, so
 * a crash never leaves a half model registered.  Producers do not call these
 * directly: they publish (core/publish.h).
 */
#ifndef RS_MODEL_H
#define RS_MODEL_H

#include <stdint.h>

#include "embedding.h"
#include "store.h"

#define RS_MODEL_VERSION 1

/* kind names used in the registry and in file names */
#define RS_KIND_PRODUCT "product"
#define RS_KIND_CATEGORY "category"
#define RS_KIND_ALS "als"
#define RS_KIND_EASE "ease"

/* The largest index space (catalogue size) a model file may declare. */
#define RS_MODEL_MAX_ITEMS (1 << 26)

/* Writes m to path (+ path.json with sidecar_json, a JSON object text).  ext_ids[r]
 * is the external id of row r (product or category ext_id).  A model with a NaN or
 * infinite value is refused (RS_EDATA).  path and path.json must be absent or regular
 * files. */
int rs_model_save(const char *path, const rs_embedding *m, const char *kind,
                  const char *const *ext_ids, const char *sidecar_json, rs_error *e);
/* Reads the file into private memory and checks it: a regular file (a FIFO or device
 * is refused without blocking), magic, version, endianness, sizes, indices, and every
 * value finite.  A file rewritten while it is read is refused.  Errors name the file
 * and what is wrong with it. */
int rs_model_load(const char *path, rs_embedding **out, rs_error *e);
/* The sidecar object text for rs_model_save (malloc-ed, NULL when out of memory):
 * {"city", "split", "params", "metrics", "fingerprint", "seconds"}; params_json and
 * metrics_json are JSON object texts (NULL or invalid: {}).  rs_model_save adds kind,
 * rows, dim, has_output, format_version and created_at. */
char *rs_model_sidecar(int64_t city_id, const char *split, const char *params_json,
                       const char *metrics_json, const char *fingerprint, double seconds);
/* A fresh absolute file name in the database's models directory (created when
 * absent): "<dir>/<kind>-c<C>-<split>-<UTC yyyymmddThhmmss>-<nanoseconds>[-n].rsm". */
int rs_model_new_path(rs_store *s, int64_t city_id, const char *kind, const char *split,
                      char *buf, size_t n, rs_error *e);

typedef struct rs_model_info {
    int64_t id;
    int64_t city_id;
    char kind[16];
    char split[8];
    char path[1024];
    char created_at[32];
    double seconds;
} rs_model_info;

/* Registers a saved file; with activate, it becomes the active model of
 * (city, kind, split) in the same transaction (a savepoint when the caller already
 * holds one).  params_json NULL is stored as "{}".  Relative paths are stored as
 * given and resolved against the database's directory when loaded. */
int rs_registry_add(rs_store *s, int64_t city_id, const char *kind, const char *split,
                    const char *path, const char *params_json, const char *metrics_json,
                    const char *fingerprint, double seconds, int activate, int64_t *id,
                    rs_error *e);
/* The active model of (city, kind, split).  RS_EUSAGE when there is none. */
int rs_registry_active(rs_store *s, int64_t city_id, const char *kind, const char *split,
                       rs_model_info *info, rs_error *e);
/* Loads the active model for city, falling back to all cities (city 0) when the city
 * has none; *used_city says which answered. */
int rs_registry_load_active(rs_store *s, int64_t city_id, const char *kind, const char *split,
                            rs_embedding **out, int64_t *used_city, rs_model_info *info,
                            rs_error *e);

/* Loads the file of a registry row (its path resolved as below); a file holding
 * another kind than the row says is RS_EDATA. */
int rs_registry_load(rs_store *s, const rs_model_info *info, rs_embedding **out, rs_error *e);
/* A registered path: absolute as it is; relative against the database's directory
 * (as given only when nothing is there); -1 when buf is too small. */
int rs_registry_resolve(rs_store *s, const char *path, char *buf, size_t n);

/* ---- model history (`recoscope models`) ------------------------------------------ */

/* One registered model with what is known of its quality. */
typedef struct rs_model_row {
    rs_model_info info;
    char city_name[128];   /* "all cities" for city 0 (raw data: sanitize to print) */
    int active;
    char *params;          /* JSON object text */
    char *metrics;         /* validation metrics JSON (train's selection part), or NULL */
    /* the latest held-out evaluation of this model (`recoscope eval`: an evaluations row
     * of the kind's method recorded with this model, see rs_evaluations_models_column) */
    int64_t eval_id;       /* 0: none */
    char *eval_metrics;    /* its metrics JSON, or NULL */
    char eval_created_at[32];
    int eval_stale;        /* the model is no longer the one in use for its city */
} rs_model_row;

typedef struct rs_model_list {
    rs_model_row *rows;    /* newest first */
    size_t n;
} rs_model_list;

/* The registered models, newest first; city_id < 0 = every city, kind NULL = every
 * kind. */
int rs_registry_list(rs_store *s, int64_t city_id, const char *kind, rs_model_list *out,
                     rs_error *e);
void rs_model_list_free(rs_model_list *l);

/* Makes model id the active one of its (city, kind, split), after loading its file in
 * full (a missing, broken or non-finite file is refused and nothing changes).  *info
 * (may be NULL) receives the model, *previous (may be NULL) the id that was active (0
 * when none). */
int rs_registry_activate(rs_store *s, int64_t id, rs_model_info *info, int64_t *previous,
                         rs_error *e);

typedef struct rs_prune_result {
    int64_t rows;          /* registry rows removed */
    int64_t files;         /* model files removed (with their sidecars) */
    int64_t kept_outside;  /* rows removed whose file is outside the models directory (the
                              file is left alone) */
    int64_t bytes;         /* bytes of the files removed */
} rs_prune_result;

/* For every (city, kind, split) (filtered as rs_registry_list), removes all but the
 * `keep` newest models, never the active one: registry rows first (one transaction;
 * runs rows pointing at them are unlinked), then their files and sidecars when they
 * live in the models directory and no remaining row uses them.  dry_run counts only. */
int rs_registry_prune(rs_store *s, int64_t city_id, const char *kind, int keep, int dry_run,
                      rs_prune_result *r, rs_error *e);

/* The model of kind serving city: its active one, else the all-cities one; *model_id 0
 * when there is none. */
int rs_registry_in_use(rs_store *s, int64_t city_id, const char *kind, int64_t *model_id,
                       rs_error *e);

/* Evaluations and the models they measured.  evaluations.models (JSON object text,
 * kind -> model id, e.g. {"product":9,"ease":12}) records which registered models an
 * evaluation row was computed with; rows of older files have none.  Writers of
 * evaluation rows call rs_evaluations_models_column() once (it adds the column to an
 * older database) and fill it with rs_registry_models_json(). */
int rs_evaluations_models_column(rs_store *s, rs_error *e);
/* {"kind":id,...} of the models in use for city, for the NULL-terminated kinds (kinds
 * with none are left out); malloc-ed text in *out. */
int rs_registry_models_json(rs_store *s, int64_t city_id, const char *const *kinds,
                            char **out, rs_error *e);
/* Whether an evaluation of city computed with models_json is stale: one of its models
 * is no longer the one in use for the city.  NULL or {} (baselines, older rows): never
 * stale. */
int rs_evaluation_stale(rs_store *s, int64_t city_id, const char *models_json, int *stale,
                        rs_error *e);

#endif
