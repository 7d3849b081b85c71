/* w2v_import.c - word2vec files as a published model (see w2v_import.h). */
#include "w2v_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedding.h"
#include "model.h"
#include "publish.h"

/* Looks every word up as an external id of kind; item[i] = index or -1.  *n_items is
 * the size of the kind's index space. */
static int map_words(rs_store *s, const char *kind, const rs_w2v *w, int32_t *item,
                     int32_t *n_items, int64_t *known, rs_error *e)
{
    sqlite3 *db = rs_store_db(s);
    const int product = strcmp(kind, RS_KIND_PRODUCT) == 0;
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    if (sqlite3_prepare_v2(db, product ? "SELECT coalesce(max(id), 0) FROM products"
                                       : "SELECT coalesce(max(id), 0) FROM categories",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = rs_store_sqlerr(s, e, "counting items");
        goto done;
    }
    int64_t max = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (max > INT32_MAX) {
        rc = rs_seterr(e, RS_EDATA, "too many items in the database");
        goto done;
    }
    *n_items = (int32_t)max;
    if (sqlite3_prepare_v2(db, product ? "SELECT id FROM products WHERE ext_id = ?1"
                                       : "SELECT id FROM categories WHERE ext_id = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = rs_store_sqlerr(s, e, "looking up ids");
        goto done;
    }
    *known = 0;
    for (int64_t i = 0; i < w->count; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, w->words[i], -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            item[i] = (int32_t)(sqlite3_column_int64(st, 0) - 1);
            (*known)++;
        } else if (step == SQLITE_DONE) {
            item[i] = -1;
        } else {
            rc = rs_store_sqlerr(s, e, "looking up ids");
            goto done;
        }
    }
done:
    sqlite3_finalize(st);
    return rc;
}

/* The row of wo (the output file) for each word of w: out_row[i], -1 for words of w
 * that are not known ids.  Every known word of w must be in wo. */
static int output_rows(rs_store *s, const rs_w2v_import_opts *o, const rs_w2v *w,
                       const rs_w2v *wo, const int32_t *item, int32_t n_items,
                       int32_t **out, rs_error *e)
{
    int32_t *out_row = malloc(((size_t)w->count + 1) * sizeof *out_row);
    int32_t *wo_item = malloc(((size_t)wo->count + 1) * sizeof *wo_item);
    int32_t *row_of_item = malloc(((size_t)n_items + 1) * sizeof *row_of_item);
    int64_t wo_known = 0;
    int32_t wo_n = 0;
    int rc = RS_OK;
    *out = NULL;
    if (!out_row || !wo_item || !row_of_item) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    if ((rc = map_words(s, o->kind, wo, wo_item, &wo_n, &wo_known, e)))
        goto done;
    for (int32_t i = 0; i < n_items; i++)
        row_of_item[i] = -1;
    for (int64_t i = 0; i < wo->count; i++)
        if (wo_item[i] >= 0 && wo_item[i] < n_items)
            row_of_item[wo_item[i]] = (int32_t)i;
    for (int64_t i = 0; i < w->count; i++) {
        out_row[i] = item[i] >= 0 ? row_of_item[item[i]] : -1;
        if (item[i] >= 0 && out_row[i] < 0) {
            rc = rs_seterr(e, RS_EDATA, "%s has no vector for \"%s\" (in %s): the files must "
                           "hold the same words", o->output, w->words[i], o->input);
            goto done;
        }
    }
    *out = out_row;
    out_row = NULL;
done:
    free(out_row);
    free(wo_item);
    free(row_of_item);
    return rc;
}

/* The embedding over the database's index space, rows in file order; ids[r] points
 * at the word of row r (owned by w). */
static int build(const rs_w2v *w, const rs_w2v *wo, const int32_t *item,
                 const int32_t *out_row, int32_t n_items, int64_t known, rs_embedding **out,
                 const char ***ids_out, rs_error *e)
{
    const char **ids = malloc(((size_t)known + 1) * sizeof *ids);
    rs_embedding *m = calloc(1, sizeof *m);
    int rc = RS_OK;
    *out = NULL;
    *ids_out = NULL;
    if (!ids || !m) {
        free(ids);
        free(m);
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    m->n_items = n_items;
    m->rows = (int32_t)known;
    m->dim = w->dim;
    m->row_item = malloc(((size_t)known + 1) * sizeof *m->row_item);
    m->item_row = malloc(((size_t)n_items + 1) * sizeof *m->item_row);
    if (!m->row_item || !m->item_row || (rc = rs_embedding_alloc(m, wo != NULL, e))) {
        rc = rc ? rc : rs_seterr(e, RS_EINTERNAL, "out of memory");
        rs_embedding_free(m);
        free(ids);
        return rc;
    }
    size_t dim = (size_t)w->dim;
    for (int32_t i = 0; i < n_items; i++)
        m->item_row[i] = -1;
    int32_t r = 0;
    for (int64_t i = 0; i < w->count; i++) {
        if (item[i] < 0)
            continue;
        m->row_item[r] = item[i];
        m->item_row[item[i]] = r;
        ids[r] = w->words[i];
        memcpy(m->in + (size_t)r * dim, w->vectors + (size_t)i * dim, dim * sizeof(float));
        if (wo)
            memcpy(m->out + (size_t)r * dim, wo->vectors + (size_t)out_row[i] * dim,
                   dim * sizeof(float));
        r++;
    }
    *out = m;
    *ids_out = ids;
    return RS_OK;
}

/* Both files read, and the output file checked against the input file. */
static int read_files(const rs_w2v_import_opts *o, rs_w2v **w, rs_w2v **wo, rs_error *e)
{
    int rc;
    *w = *wo = NULL;
    if ((rc = rs_w2v_read(o->input, o->format, w, e)) ||
        (o->output && (rc = rs_w2v_read(o->output, o->format, wo, e))))
        return rc;
    if (!*wo)
        return RS_OK;
    if ((*wo)->dim != (*w)->dim)
        return rs_seterr(e, RS_EDATA, "wrong dimension between files: %s has %d, %s has %d",
                         o->input, (*w)->dim, o->output, (*wo)->dim);
    if ((*wo)->count != (*w)->count)
        return rs_seterr(e, RS_EDATA, "%s has %lld vectors, %s has %lld: not the same words",
                         o->input, (long long)(*w)->count, o->output,
                         (long long)(*wo)->count);
    return RS_OK;
}

int rs_w2v_import(rs_store *s, const rs_w2v_import_opts *o, rs_w2v_import_result *r,
                  rs_error *e)
{
    rs_w2v *w = NULL, *wo = NULL;
    int32_t *item = NULL, *out_row = NULL, n_items = 0;
    rs_embedding *m = NULL;
    const char **ids = NULL;
    int64_t known = 0;
    int rc;
    memset(r, 0, sizeof *r);
    if (strcmp(o->kind, RS_KIND_PRODUCT) != 0 && strcmp(o->kind, RS_KIND_CATEGORY) != 0)
        return rs_seterr(e, RS_EUSAGE, "word2vec vectors import as a product or category "
                         "model, not %s", o->kind);
    if ((rc = read_files(o, &w, &wo, e)))
        goto done;
    if (!(item = malloc(((size_t)w->count + 1) * sizeof *item))) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    if ((rc = map_words(s, o->kind, w, item, &n_items, &known, e)))
        goto done;
    if (known == 0) {
        rc = rs_seterr(e, RS_EDATA,
                       "%s: none of its %lld words is a known %s id (first word \"%s\"); "
                       "were the vectors trained on this database's ids?",
                       o->input, (long long)w->count, o->kind, w->words[0]);
        goto done;
    }
    r->words = w->count;
    r->known = known;
    for (int64_t i = 0; i < w->count; i++)
        if (item[i] < 0) {
            snprintf(r->first_unknown, sizeof r->first_unknown, "%s", w->words[i]);
            break;
        }
    if ((wo && (rc = output_rows(s, o, w, wo, item, n_items, &out_row, e))) ||
        (rc = build(w, wo, item, out_row, n_items, known, &m, &ids, e)))
        goto done;

    char params[2048], fingerprint[1200];
    snprintf(params, sizeof params,
             "{\"imported\":true,\"format\":\"%s\",\"words\":%lld,\"unknown\":%lld,"
             "\"dim\":%d,\"has_output\":%s}",
             w->format == RS_W2V_TEXT ? "word2vec" : "word2vec-bin", (long long)w->count,
             (long long)(w->count - known), w->dim, wo ? "true" : "false");
    snprintf(fingerprint, sizeof fingerprint, "imported:%s", o->input);
    rs_publish pub = {.city_id = o->city_id, .kind = o->kind, .params_json = params,
                      .fingerprint = fingerprint, .activate = o->activate, .ext_ids = ids};
    if ((rc = rs_model_publish(s, m, &pub, &r->id, r->path, sizeof r->path, e)))
        goto done;
    r->dim = w->dim;
    r->has_output = wo != NULL;
    r->format = w->format;
done:
    rs_embedding_free(m);
    free(ids);
    free(item);
    free(out_row);
    rs_w2v_free(w);
    rs_w2v_free(wo);
    return rc;
}
