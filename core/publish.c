/* publish.c - model file + sidecar + registry row, for every producer (see publish.h). */
#include "publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

/* The external id of every row of m from the catalogue table (products or
 * categories), as an array of rows strings in one allocation (*out, free() it). */
static int catalogue_ids(rs_store *s, const rs_embedding *m, const char *kind, char ***out,
                         rs_error *e)
{
    const int cat = strcmp(kind, RS_KIND_CATEGORY) == 0;
    sqlite3_stmt *st = NULL;
    char **by_item = calloc((size_t)m->n_items + 1, sizeof *by_item);
    char **ids = calloc((size_t)m->rows + 1, sizeof *ids);
    int rc = RS_OK;
    *out = NULL;
    if (!by_item || !ids) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    if (sqlite3_prepare_v2(rs_store_db(s),
                           cat ? "SELECT id, ext_id FROM categories"
                               : "SELECT id, ext_id FROM products",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = rs_store_sqlerr(s, e, "reading external ids");
        goto done;
    }
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *x = (const char *)sqlite3_column_text(st, 1);
        if (id >= 1 && id <= m->n_items && x && !by_item[id - 1] &&
            !(by_item[id - 1] = strdup(x))) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
    }
    if (step != SQLITE_DONE) {
        rc = rs_store_sqlerr(s, e, "reading external ids");
        goto done;
    }
    for (int32_t r = 0; r < m->rows; r++) {
        int32_t it = m->row_item[r];
        ids[r] = by_item[it];
        by_item[it] = NULL;
        if (!ids[r]) {
            rc = rs_seterr(e, RS_EDATA, "the catalogue has no %s with id %d (row %d of the "
                           "model)", cat ? "category" : "product", (int)it + 1, (int)r);
            goto done;
        }
    }
    *out = ids;
    ids = NULL;
done:
    sqlite3_finalize(st);
    for (int32_t i = 0; by_item && i < m->n_items; i++)
        free(by_item[i]);
    free(by_item);
    for (int32_t r = 0; ids && r < m->rows; r++)
        free(ids[r]);
    free(ids);
    return rc;
}

static void remove_files(const char *path)
{
    char j[1100];
    unlink(path);
    if (snprintf(j, sizeof j, "%s.json", path) < (int)sizeof j)
        unlink(j);
}

int rs_model_publish(rs_store *s, const rs_embedding *m, const rs_publish *p, int64_t *id,
                     char *path_out, size_t path_n, rs_error *e)
{
    const char *split = p->split && *p->split ? p->split : "all";
    char path[1024], **own_ids = NULL, *side = NULL;
    int rc, fresh = !p->path, saved = 0;
    if (!p->kind || !*p->kind || strlen(p->kind) >= 16)
        return rs_seterr(e, RS_EUSAGE, "model kind must be 1..15 characters");
    /* the second line of defence of every trainer: never a non-finite model, and the
     * previous active one stays */
    {
        char what[256];
        snprintf(what, sizeof what, "refusing to register the new %s model for city %lld "
                 "(the active one stays)", p->kind, (long long)p->city_id);
        if ((rc = rs_embedding_check_finite(m, what, e)))
            return rc;
    }
    if (fresh)
        rc = rs_model_new_path(s, p->city_id, p->kind, split, path, sizeof path, e);
    else if (snprintf(path, sizeof path, "%s", p->path) >= (int)sizeof path)
        rc = rs_seterr(e, RS_EUSAGE, "%s: model path too long", p->path);
    else
        rc = RS_OK;
    if (rc)
        return rc;
    const char *const *ids = p->ext_ids;
    if (!ids) {
        if ((rc = catalogue_ids(s, m, p->kind, &own_ids, e)))
            goto done;
        ids = (const char *const *)own_ids;
    }
    side = rs_model_sidecar(p->city_id, split, p->params_json, p->metrics_json,
                            p->fingerprint, p->seconds);
    if (!side) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    if ((rc = rs_model_save(path, m, p->kind, ids, side, e)))
        goto done;
    saved = 1;
    rc = rs_registry_add(s, p->city_id, p->kind, split, path, p->params_json, p->metrics_json,
                         p->fingerprint, p->seconds, p->activate, id, e);
    if (rc == RS_OK && path_out && path_n)
        snprintf(path_out, path_n, "%s", path);
done:
    if (rc && saved && fresh)
        remove_files(path);
    for (int32_t r = 0; own_ids && r < m->rows; r++)
        free(own_ids[r]);
    free(own_ids);
    free(side);
    return rc;
}
