/* clusters_store.c - derived categories in the store (see clusters_store.h). */
#include "clusters_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"

#define DERIVED_DEPT "(derived clusters)"

static int step_done(rs_store *s, sqlite3_stmt *st, const char *what, rs_error *e)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? RS_OK : rs_store_sqlerr(s, e, what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int prepare(rs_store *s, const char *sql, sqlite3_stmt **st, const char *what,
                   rs_error *e)
{
    return sqlite3_prepare_v2(rs_store_db(s), sql, -1, st, NULL) == SQLITE_OK
               ? RS_OK
               : rs_store_sqlerr(s, e, what);
}

/* Retires the active models fitted on category baskets; *n receives how many. */
static int retire_category_models(rs_store *s, int64_t *n, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, "UPDATE models SET active = 0 WHERE active AND kind = ?1", &st,
                     "retiring category models", e);
    *n = 0;
    for (int i = 0; rc == RS_OK && i < RS_N_KINDS; i++) {
        if (RS_KINDS[i].baskets != RS_BASKETS_CATEGORIES)
            continue;
        sqlite3_bind_text(st, 1, RS_KINDS[i].name, -1, SQLITE_STATIC);
        rc = step_done(s, st, "retiring category models", e);
        *n += sqlite3_changes(rs_store_db(s));
    }
    sqlite3_finalize(st);
    /* choices and caches made from the old categories (completion_choice.h keys) */
    if (rc == RS_OK)
        rc = rs_store_exec(s, "DELETE FROM meta WHERE key LIKE 'categories:%'", e);
    return rc;
}

static int read_derivation(rs_store *s, sqlite3_stmt *st, rs_derivation *d)
{
    memset(d, 0, sizeof *d);
    d->id = sqlite3_column_int64(st, 0);
    d->city_id = sqlite3_column_int64(st, 1);
    d->model_id = sqlite3_column_int64(st, 2);
    d->k = sqlite3_column_int(st, 3);
    const unsigned char *t = sqlite3_column_text(st, 4);
    snprintf(d->created_at, sizeof d->created_at, "%s", t ? (const char *)t : "");
    d->products = sqlite3_column_int64(st, 5);
    (void)s;
    return RS_OK;
}

int rs_clusters_current(rs_store *s, rs_derivation *out, int *found, rs_error *e)
{
    *found = 0;
    memset(out, 0, sizeof *out);
    if (rs_store_version(s) < 3)
        return RS_OK;
    sqlite3_stmt *st = NULL;
    int rc = prepare(s,
                     "SELECT id, city_id, model_id, k, created_at,"
                     " (SELECT count(*) FROM products WHERE source_category_id IS NOT NULL)"
                     " FROM derivations WHERE active ORDER BY id DESC LIMIT 1",
                     &st, "reading derivations", e);
    if (rc != RS_OK)
        return rc;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        read_derivation(s, st, out);
        *found = 1;
    } else if (r != SQLITE_DONE) {
        rc = rs_store_sqlerr(s, e, "reading derivations");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Restores the catalogue categories and deletes the derived ones (inside a
 * transaction). */
static int undo_locked(rs_store *s, rs_error *e)
{
    return rs_store_exec(s,
                         "UPDATE products SET category_id = source_category_id,"
                         " source_category_id = NULL WHERE source_category_id IS NOT NULL;"
                         "DELETE FROM category_popularity WHERE category_id IN"
                         " (SELECT id FROM categories WHERE derived);"
                         "DELETE FROM categories WHERE derived AND parent_id IS NOT NULL;"
                         "DELETE FROM categories WHERE derived;"
                         "UPDATE derivations SET active = 0 WHERE active;",
                         e);
}

static int insert_category(rs_store *s, sqlite3_stmt *st, const char *ext, const char *name,
                           int64_t parent, int level, int64_t *id, rs_error *e)
{
    sqlite3_bind_text(st, 1, ext, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
    if (parent)
        sqlite3_bind_int64(st, 3, parent);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int(st, 4, level);
    int rc = step_done(s, st, "adding a derived category", e);
    *id = sqlite3_last_insert_rowid(rs_store_db(s));
    return rc;
}

/* The derivations row, the department and the k categories; cat[k] their ids. */
static int insert_categories(rs_store *s, int64_t city_id, int64_t model_id,
                             const rs_clusters *c, const char *params, int64_t *did,
                             int64_t *cat, rs_error *e)
{
    sqlite3_stmt *d = NULL, *ins = NULL;
    int rc = prepare(s,
                     "INSERT INTO derivations(city_id, model_id, method, k, params, created_at)"
                     " VALUES (?1, ?2, 'spherical k-means', ?3, ?4,"
                     " strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                     &d, "recording the derivation", e);
    if (rc == RS_OK)
        rc = prepare(s,
                     "INSERT INTO categories(ext_id, name, parent_id, level, derived)"
                     " VALUES (?1, ?2, ?3, ?4, 1)",
                     &ins, "adding a derived category", e);
    if (rc == RS_OK) {
        sqlite3_bind_int64(d, 1, city_id);
        sqlite3_bind_int64(d, 2, model_id);
        sqlite3_bind_int(d, 3, c->k);
        sqlite3_bind_text(d, 4, params ? params : "{}", -1, SQLITE_TRANSIENT);
        rc = step_done(s, d, "recording the derivation", e);
        *did = sqlite3_last_insert_rowid(rs_store_db(s));
    }
    char ext[64], name[32];
    int64_t dept = 0;
    snprintf(ext, sizeof ext, "derived:%lld", (long long)*did);
    if (rc == RS_OK)
        rc = insert_category(s, ins, ext, DERIVED_DEPT, 0, 0, &dept, e);
    for (int k = 0; rc == RS_OK && k < c->k; k++) {
        snprintf(ext, sizeof ext, "derived:%lld:%d", (long long)*did, k + 1);
        snprintf(name, sizeof name, "cluster %d", k + 1);
        const char *nm = c->name && c->name[k] && c->name[k][0] ? c->name[k] : name;
        rc = insert_category(s, ins, ext, nm, dept, 1, &cat[k], e);
    }
    sqlite3_finalize(d);
    sqlite3_finalize(ins);
    return rc;
}

/* Moves every product of the model into its cluster's category; *moved counts them. */
static int move_products(rs_store *s, const rs_embedding *m, const rs_clusters *c,
                         const int64_t *cat, int64_t *moved, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s,
                     "UPDATE products SET source_category_id = category_id, category_id = ?2"
                     " WHERE id = ?1 AND source_category_id IS NULL",
                     &st, "moving products into derived categories", e);
    *moved = 0;
    for (int32_t r = 0; rc == RS_OK && r < c->rows && r < m->rows; r++) {
        int k = c->assign[r];
        if (k < 0 || k >= c->k)
            continue;
        sqlite3_bind_int64(st, 1, (int64_t)m->row_item[r] + 1);
        sqlite3_bind_int64(st, 2, cat[k]);
        rc = step_done(s, st, "moving products into derived categories", e);
        *moved += sqlite3_changes(rs_store_db(s));
    }
    sqlite3_finalize(st);
    return rc;
}

int rs_clusters_apply(rs_store *s, int64_t city_id, int64_t model_id, const rs_embedding *m,
                      const rs_clusters *c, const char *params, rs_derivation *out,
                      rs_error *e)
{
    if (rs_store_version(s) < 3)
        return rs_seterr(e, RS_EUSAGE, "%s: derived categories need schema version 3 "
                                       "(open the database for writing to upgrade it)",
                         rs_store_path(s));
    if (c->k < 1 || c->rows != m->rows)
        return rs_seterr(e, RS_EINTERNAL, "clusters of another model (%d rows, model %d)",
                         c->rows, m->rows);
    int64_t *cat = calloc((size_t)c->k, sizeof *cat);
    if (!cat)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    int64_t did = 0, moved = 0, retired = 0;
    int rc = rs_store_begin(s, e);
    if (rc == RS_OK && (rc = undo_locked(s, e)) == RS_OK &&
        (rc = insert_categories(s, city_id, model_id, c, params, &did, cat, e)) == RS_OK &&
        (rc = move_products(s, m, c, cat, &moved, e)) == RS_OK &&
        (rc = retire_category_models(s, &retired, e)) == RS_OK &&
        (rc = rs_store_refresh_popularity(s, e)) == RS_OK)
        rc = rs_store_commit(s, e);
    if (rc != RS_OK) {
        rs_store_rollback(s);
        rs_errctx(e, "%s: applying derived categories (nothing was changed)",
                  rs_store_path(s));
    } else if (out) {
        int found = 0;
        rc = rs_clusters_current(s, out, &found, e);
        out->retired = retired;
    }
    free(cat);
    return rc;
}

int rs_clusters_undo(rs_store *s, rs_derivation *out, rs_error *e)
{
    rs_derivation d;
    int found = 0, rc = rs_store_begin(s, e);
    int64_t retired = 0;
    if (rc != RS_OK)
        return rc;
    if ((rc = rs_clusters_current(s, &d, &found, e)) == RS_OK && !found)
        rc = rs_seterr(e, RS_EUSAGE, "%s: no derived categories to undo", rs_store_path(s));
    if (rc == RS_OK && (rc = undo_locked(s, e)) == RS_OK &&
        (rc = retire_category_models(s, &retired, e)) == RS_OK &&
        (rc = rs_store_refresh_popularity(s, e)) == RS_OK)
        rc = rs_store_commit(s, e);
    if (rc != RS_OK) {
        rs_store_rollback(s);
        if (rc != RS_EUSAGE)
            rs_errctx(e, "%s: undoing derived categories (nothing was changed)",
                      rs_store_path(s));
        return rc;
    }
    d.retired = retired;
    if (out)
        *out = d;
    return RS_OK;
}
