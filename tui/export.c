/* export.c - writes the current view (city, product or basket, mask, the three lists
 * with their scores) as JSON, or as CSV when the file name ends in ".csv".
 * Names are written as they are in the data (JSON-escaped / CSV-quoted), not
 * sanitized: the file is data, not a terminal.  The file is written to "<path>.tmp"
 * and renamed, so a failed export never leaves half a file under the asked-for name.
 */
#include "app.h"

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
    fputs("list,rank,id,name,category,score,popularity,percentile,cat_weight,cat_share,"
          "copurchase,lift,vs_average\n", f);
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

static char *build_json(tui_app *a)
{
    rs_recommender *r = tui_rec(a);
    cJSON *root = cJSON_CreateObject();
    if (!root || !r)
        goto fail;
    tui_city *city = &a->cities[a->ci];
    cJSON_AddStringToObject(root, "city", city->id ? city->name : "all");
    cJSON_AddItemToObject(root, "product", product_json(r, a->product));
    cJSON *basket = cJSON_AddArrayToObject(root, "basket");
    for (int i = 0; basket && i < a->n_basket; i++)
        cJSON_AddItemToArray(basket, product_json(r, a->basket[i]));
    cJSON_AddNumberToObject(root, "k", a->k);
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
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
fail:
    cJSON_Delete(root);
    return NULL;
}

int tui_export(tui_app *a, const char *path, char *err, size_t n)
{
    size_t len = strlen(path);
    int csv = len >= 4 && strcasecmp(path + len - 4, ".csv") == 0;
    char *json = NULL;
    char tmp[4200];
    int rc = -1;
    tui_compute(a);
    if (a->product < 0) {
        snprintf(err, n, "nothing to export: no current product");
        return -1;
    }
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        snprintf(err, n, "file name too long");
        return -1;
    }
    if (!csv && !(json = build_json(a))) {
        snprintf(err, n, "export: out of memory");
        return -1;
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, n, "cannot write %s: %s", path, strerror(errno));
        goto done;
    }
    int bad = csv ? write_csv(a, f) != 0 : (fputs(json, f) < 0 || fputc('\n', f) == EOF);
    int saved = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    if (bad) {
        snprintf(err, n, "cannot write %s: %s", path, strerror(saved));
        remove(tmp);
        goto done;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, n, "cannot write %s: %s", path, strerror(errno));
        remove(tmp);
        goto done;
    }
    rc = 0;
done:
    free(json);
    return rc;
}
