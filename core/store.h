/* store.h - the SQLite store: one database file per world.
 *
 * Schema (user_version RS_SCHEMA_VERSION, application_id RS_APPLICATION_ID), all ids
 * are INTEGER PRIMARY KEYs:
 *   meta(key, value)
 *   cities(id, name, receipts)                    -- id 0 is never used: 0 means "all cities"
 *   categories(id, ext_id, name, parent_id, level) -- level 0 = department, 1 = category
 *   products(id, ext_id, name, category_id, brand, price) + products_fts (FTS5 on name)
 *   receipts(id, ext_id, city_id, ts, customer)
 *   receipt_items(receipt_id, product_id, quantity, weight)   -- one row per distinct product
 *   import_ledger(id, path, size, content_hash, kind, rows, skipped, imported_at)
 *   product_popularity(city_id, product_id, receipts, share, percentile)  -- city 0 = all
 *   category_popularity(city_id, category_id, receipts, share, percentile)
 *   models(id, city_id, kind, path, split, params, metrics, fingerprint, seconds,
 *          created_at, active)                    -- the model registry
 *   runs(id, city_id, kind, grid, params, metrics, seconds, created_at, model_id, selected)
 *   evaluations(id, city_id, method, split, metrics, created_at[, models])  -- models: the
 *          registered models measured, {"kind":id} (added by the first writer, model.h)
 *   customers(id, city_id, ext_id, receipts, first_ts, last_ts)  -- derived, customers.h
 *   categories.derived, products.source_category_id, derivations(id, city_id, model_id,
 *          method, k, params, created_at, active)  -- derived categories, clusters_store.h
 * Version 2 added customers (and the index receipts(customer, city_id)), version 3 the
 * derived categories.  An older database is upgraded in place (one transaction) by the
 * first command that writes to it; readers read it as it is (rs_store_version says
 * which: no customers before 2, no derived categories before 3).
 *
 * Products are numbered 1..n in insertion order and never deleted, so `id - 1` is a
 * dense index usable by the numeric code (see corpus.h).
 * The database runs in WAL mode with a busy timeout, so readers (TUI, snapshot) work
 * while one writer imports or trains.
 */
#ifndef RS_STORE_H
#define RS_STORE_H

#include <sqlite3.h>
#include <stdint.h>

#include "error.h"

#define RS_SCHEMA_VERSION 3
/* PRAGMA application_id of our databases ("RSCO"): another program's SQLite file is
 * never taken for ours, whatever its user_version. */
#define RS_APPLICATION_ID 0x5253434F
/* The one wording of a damaged database (SQLITE_CORRUPT / SQLITE_NOTADB), everywhere. */
#define RS_STORE_DAMAGED                                                                  \
    "the database file is damaged (SQLite says it is malformed); restore it from a "      \
    "backup, or re-import into a new database"
#define RS_DEFAULT_DB "data/recoscope.db"

typedef struct rs_store rs_store;

enum {
    RS_STORE_READONLY = 1, /* open an existing database for reading only */
    RS_STORE_CREATE = 2,   /* create the file and schema when absent */
};

/* Opens (and with RS_STORE_CREATE creates) the database at path.  A database of another
 * schema version, or a file that is not a recoscope database, is an RS_EDATA error. */
int rs_store_open(const char *path, int flags, rs_store **out, rs_error *e);
void rs_store_close(rs_store *s);

sqlite3 *rs_store_db(rs_store *s);
const char *rs_store_path(const rs_store *s);
/* Directory for this database's model files: "<path without .db>-models".  Not created
 * here; writers create it with rs_store_ensure_models_dir(). */
const char *rs_store_models_dir(const rs_store *s);
int rs_store_ensure_models_dir(rs_store *s, rs_error *e);

/* Runs SQL that returns no rows; errors carry the SQLite message. */
int rs_store_exec(rs_store *s, const char *sql, rs_error *e);
int rs_store_begin(rs_store *s, rs_error *e);  /* BEGIN IMMEDIATE */
int rs_store_commit(rs_store *s, rs_error *e);
void rs_store_rollback(rs_store *s);

/* Maps a city name to its id.  "all" (or NULL/empty) gives 0.  Unknown: RS_EUSAGE. */
int rs_store_city_id(rs_store *s, const char *name, int64_t *id, rs_error *e);
/* Number of cities (rows in cities). */
/* The schema version of the open database (older ones are read as they are). */
int rs_store_version(const rs_store *s);
int rs_store_count(rs_store *s, const char *table, int64_t *n, rs_error *e);

/* Recomputes receipts per city, product_popularity and category_popularity (city 0 =
 * all cities).  share = receipts holding it / receipts of the city; percentile =
 * 100 * percent_rank among the products (categories) sold in that city. */
int rs_store_refresh_popularity(rs_store *s, rs_error *e);

/* A meta value (NULL-terminated copy into buf); RS_OK with buf[0]=0 when absent. */
int rs_store_meta_get(rs_store *s, const char *key, char *buf, size_t n, rs_error *e);
int rs_store_meta_set(rs_store *s, const char *key, const char *value, rs_error *e);

/* Formats the SQLite error of the connection into e with code RS_EINTERNAL (or
 * RS_EDATA for SQLITE_CORRUPT/NOTADB) and returns the code. */
int rs_store_sqlerr(rs_store *s, rs_error *e, const char *what);
/* Whether SQLite has said the file is malformed on this connection (an RS_EDATA error
 * with RS_STORE_DAMAGED was given).  Callers that carry on without a part that failed
 * to load (a model, the completion scorer, the runs) check it: a damaged database is
 * never taken for a missing part. */
int rs_store_damaged(rs_store *s);

/* The default database path: $RECOSCOPE_DB if set, else RS_DEFAULT_DB. */
const char *rs_store_default_path(void);

#endif
