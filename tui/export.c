/* export.c - writes the current view (city, product or basket, mask, the three lists
 * with their scores, and the models that answered them: registry ids and files) as
 * JSON, or as CSV when the file name ends in ".csv".
 *
 * Where: a relative name is written beside the database (the directory of --db), an
 * absolute one where it says; never into whatever directory the TUI was started from.
 * Names are written as they are in the data (JSON-escaped / CSV-quoted), not
 * sanitized: the file is data, not a terminal.  The file goes through core/atomicfile.h
 * (an exclusive temporary file in the target's directory, renamed when complete; a
 * target that is not a regular file, such as a FIFO, a device or a symbolic link, is
 * refused), so a failed export never leaves half a file under the asked-for name.
 */
#include "app.h"
#include "../core/atomicfile.h"
#include "../core/sanitize.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void csv_field(FILE *f, const char *s)
{
    if (!s)
        s = "";
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int write_csv(tui_app *a, FILE *f)
{
    /* vs_average: a category's weight x the categories its softmax ran over, the
     * number the categories pane shows (empty elsewhere or when unknown) */
    /* city, model_id, model_file: the city of the view and the model that answered the
     * list (complements: the product model, then the category model behind it) */
    fputs("list,rank,id,name,category,score,popularity,percentile,cat_weight,cat_share,"
          "copurchase,lift,vs_average,city,model_id,model_file,category_model_id,"
          "category_model_file\n", f);
    tui_city *city = &a->cities[a->ci];
    for (int p = 0; p < NPANES; p++) {
        const rs_rec_list *l = tui_rows(a, p);
        for (int i = 0; l && i < l->n; i++) {
            const rs_rec_row *r = &l->rows[i];
            fprintf(f, "%s,%d,", TUI_PANES[p].list_name, i + 1);
            csv_field(f, r->ext_id);
            fputc(',', f);
            csv_field(f, r->name);
            fputc(',', f);
            csv_field(f, r->category);
            fprintf(f, ",%.9g,%lld,%.4f,%.9g,%.9g,%lld,%.6g,", r->score,
                    (long long)r->popularity, r->percentile, r->cat_weight, r->cat_share,
                    (long long)r->copurchase, r->lift);
            if (p == PANE_CAT && a->cat_eligible > 0)
                fprintf(f, "%.6g", r->score * a->cat_eligible);
            fputc(',', f);
            csv_field(f, city->id ? city->name : "all");
            fprintf(f, ",%lld,", (long long)l->model_id);
            csv_field(f, l->model_path);
            if (l->model2_id > 0) {
                fprintf(f, ",%lld,", (long long)l->model2_id);
                csv_field(f, l->model2_path);
            } else {
                fputs(",,", f);
            }
            fputc('\n', f);
        }
    }
    return ferror(f) ? -1 : 0;
}

static cJSON *product_json(rs_recommender *r, int32_t p)
{
    rs_rec_product info;
    cJSON *o = cJSON_CreateObject();
    if (!o || rs_rec_product_info(r, p, &info, NULL) != RS_OK)
        return o;
    cJSON_AddStringToObject(o, "id", info.ext_id);
    cJSON_AddStringToObject(o, "name", info.name);
    cJSON_AddStringToObject(o, "category", info.category);
    cJSON_AddNumberToObject(o, "popularity", (double)info.popularity);
    cJSON_AddNumberToObject(o, "percentile", info.percentile);
    return o;
}

/* The model that answered a list: registry id, file, and whose it is (the city's own,
 * or all cities' as a fallback). */
static void model_json(cJSON *o, const char *prefix, int64_t id, const char *path,
                       int64_t city_id, const tui_app *a)
{
    char key[48];
    snprintf(key, sizeof key, "%smodel_id", prefix);
    cJSON_AddNumberToObject(o, key, (double)id);
    snprintf(key, sizeof key, "%smodel_file", prefix);
    cJSON_AddStringToObject(o, key, path ? path : "");
    const char *owner = "all";
    for (int i = 0; city_id != 0 && i < a->n_cities; i++)
        if (a->cities[i].id == city_id)
            owner = a->cities[i].name;
    snprintf(key, sizeof key, "%smodel_city", prefix);
    cJSON_AddStringToObject(o, key, owner);
}

/* "models": {"synonyms": {...}, "categories": {...}, "complements": {...}}. */
static int models_json(cJSON *root, tui_app *a)
{
    cJSON *models = cJSON_AddObjectToObject(root, "models");
    if (!models)
        return -1;
    for (int p = 0; p < NPANES; p++) {
        const rs_rec_list *l = tui_rows(a, p);
        cJSON *o = cJSON_AddObjectToObject(models, TUI_PANES[p].list_name);
        if (!o)
            return -1;
        if (!l || l->model_id <= 0)
            continue; /* no model answered (see "<list>_error") */
        model_json(o, "", l->model_id, l->model_path, l->model_city, a);
        if (l->model2_id > 0)
            model_json(o, "category_", l->model2_id, l->model2_path, l->model2_city, a);
    }
    return 0;
}

static char *build_json(tui_app *a)
{
    rs_recommender *r = tui_rec(a);
    cJSON *root = cJSON_CreateObject();
    if (!root || !r)
        goto fail;
    tui_city *city = &a->cities[a->ci];
    cJSON_AddStringToObject(root, "city", city->id ? city->name : "all");
    cJSON_AddNumberToObject(root, "city_id", (double)city->id);
    cJSON_AddStringToObject(root, "database", rs_store_path(a->s));
    if (models_json(root, a) != 0)
        goto fail;
    cJSON_AddItemToObject(root, "product", product_json(r, a->product));
    cJSON *basket = cJSON_AddArrayToObject(root, "basket");
    for (int i = 0; basket && i < a->n_basket; i++)
        cJSON_AddItemToArray(basket, product_json(r, a->basket[i]));
    cJSON_AddNumberToObject(root, "k", a->k_used);
    cJSON_AddNumberToObject(root, "min_pct", a->min_pct);
    cJSON_AddNumberToObject(root, "max_pct", a->max_pct);
    if (a->cat_eligible > 0) /* the categories' softmax ran over this many */
        cJSON_AddNumberToObject(root, "categories_eligible", a->cat_eligible);
    for (int p = 0; p < NPANES; p++) {
        cJSON *arr = cJSON_AddArrayToObject(root, TUI_PANES[p].list_name);
        const rs_rec_list *l = tui_rows(a, p);
        if (!arr)
            goto fail;
        if (l && l->status != RS_OK) {
            char key[48];
            snprintf(key, sizeof key, "%s_error", TUI_PANES[p].list_name);
            cJSON_AddStringToObject(root, key, l->message[0] ? l->message : "no model");
        }
        for (int i = 0; l && i < l->n; i++) {
            const rs_rec_row *row = &l->rows[i];
            cJSON *o = cJSON_CreateObject();
            if (!o)
                goto fail;
            cJSON_AddItemToArray(arr, o);
            cJSON_AddNumberToObject(o, "rank", i + 1);
            cJSON_AddStringToObject(o, "id", row->ext_id ? row->ext_id : "");
            cJSON_AddStringToObject(o, "name", row->name ? row->name : "");
            cJSON_AddStringToObject(o, "category", row->category ? row->category : "");
            cJSON_AddNumberToObject(o, "score", row->score);
            cJSON_AddNumberToObject(o, "popularity", (double)row->popularity);
            cJSON_AddNumberToObject(o, "percentile", row->percentile);
            if (p == PANE_CAT && a->cat_eligible > 0)
                cJSON_AddNumberToObject(o, "vs_average", row->score * a->cat_eligible);
            if (p == PANE_COMP) {
                cJSON_AddNumberToObject(o, "cat_weight", row->cat_weight);
                cJSON_AddNumberToObject(o, "cat_transformed", row->cat_transformed);
                cJSON_AddNumberToObject(o, "cat_share", row->cat_share);
                cJSON_AddNumberToObject(o, "copurchase", (double)row->copurchase);
                cJSON_AddNumberToObject(o, "lift", row->lift);
            }
        }
    }
    char *raw = cJSON_Print(root);
    cJSON_Delete(root);
    /* names from data: DEL, C1, bidi, invalid UTF-8 escaped (the one JSON rule) */
    char *text = raw ? rs_sanitize_json(raw) : NULL;
    free(raw);
    return text;
fail:
    cJSON_Delete(root);
    return NULL;
}

void tui_export_path(const tui_app *a, const char *name, char *buf, size_t n)
{
    const char *db = rs_store_path(a->s);
    const char *slash = strrchr(db, '/');
    if (name[0] == '/' || !slash)
        snprintf(buf, n, "%s", name); /* absolute, or the database is in "." */
    else
        snprintf(buf, n, "%.*s/%s", (int)(slash - db), db, name);
}

int tui_export(tui_app *a, const char *name, char *err, size_t n)
{
    size_t len = strlen(name);
    int csv = len >= 4 && strcasecmp(name + len - 4, ".csv") == 0;
    char *json = NULL, path[4200];
    rs_afile *af = NULL;
    rs_error e = {0};
    tui_compute(a);
    if (a->product < 0) {
        snprintf(err, n, "nothing to export: no current product");
        return -1;
    }
    if (strcmp(name, "-") == 0) {
        snprintf(err, n, "the TUI cannot export to standard output: give a file name");
        return -1;
    }
    tui_export_path(a, name, path, sizeof path);
    if (strlen(path) >= sizeof path - 1) {
        snprintf(err, n, "file name too long");
        return -1;
    }
    if (!csv && !(json = build_json(a))) {
        snprintf(err, n, "export: out of memory");
        return -1;
    }
    if (rs_afile_open(path, &af, &e) != RS_OK) {
        snprintf(err, n, "%s", e.msg); /* it names the file and what is wrong */
        tui_short_paths(a, err);
        free(json);
        return -1;
    }
    FILE *f = rs_afile_stream(af);
    if (csv)
        write_csv(a, f);
    else if (fputs(json, f) >= 0)
        fputc('\n', f);
    free(json);
    if (rs_afile_commit(af, &e) != RS_OK) { /* a write error fails the commit */
        snprintf(err, n, "%s", e.msg);
        tui_short_paths(a, err);
        return -1;
    }
    return 0;
}
