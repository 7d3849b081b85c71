/* planted_check.c - checks trained models against a synthetic world's truth.json
 * (issue 3): synonyms recover the planted substitute groups (precision@5 over
 * products with >= 50 receipts, |top5 ∩ (group − {p})| / min(5, |group| − 1)), and the
 * category model ranks the planted complementary category in its top 5 (input·output,
 * the query category excluded).  Prints both figures; exit 0 when both are >= the
 * bar (0.8), 1 when not, 2 on bad input.
 * usage: planted_check DB TRUTH.json [BAR]
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/completion.h"
#include "../core/eval.h"
#include "../core/metrics.h"
#include "../core/model.h"
#include "../core/store.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        b[n] = 0;
    fclose(f);
    return b;
}

/* id - 1 of the row whose column col equals text, or -1. */
static int32_t lookup(rs_store *s, const char *sql, const char *text)
{
    sqlite3_stmt *st = NULL;
    int32_t r = -1;
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        r = (int32_t)sqlite3_column_int64(st, 0) - 1;
    sqlite3_finalize(st);
    return r;
}

static int64_t receipts_of(rs_store *s, int32_t item)
{
    sqlite3_stmt *st = NULL;
    int64_t n = 0;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT receipts FROM product_popularity WHERE city_id = 0 AND"
                           " product_id = ?", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int64(st, 1, item + 1);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: planted_check DB TRUTH.json [BAR]\n");
        return 2;
    }
    double bar = argc > 3 ? atof(argv[3]) : 0.8;
    rs_error e = {0};
    rs_store *s = NULL;
    rs_embedding *pm = NULL, *cm = NULL;
    rs_model_info info;
    int64_t used;
    int rc = 2;
    char *text = slurp(argv[2]);
    cJSON *truth = text ? cJSON_Parse(text) : NULL;
    float *unit = NULL, *scratch = NULL, *sc = NULL;
    if (!truth) {
        fprintf(stderr, "planted_check: cannot read %s\n", argv[2]);
        goto done;
    }
    if (rs_store_open(argv[1], RS_STORE_READONLY, &s, &e) ||
        rs_registry_load_active(s, 0, RS_KIND_PRODUCT, "all", &pm, &used, &info, &e) ||
        rs_registry_load_active(s, 0, RS_KIND_CATEGORY, "all", &cm, &used, &info, &e)) {
        fprintf(stderr, "planted_check: %s\n", e.msg);
        goto done;
    }
    /* synonyms */
    unit = rs_eval_unit_rows(pm);
    scratch = malloc(((size_t)pm->rows + 1) * sizeof *scratch);
    if (!unit || !scratch)
        goto done;
    double prec = 0.0;
    int n_prod = 0;
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(truth, "substitute_groups");
    const cJSON *g;
    cJSON_ArrayForEach(g, groups)
    {
        int gn = cJSON_GetArraySize(g);
        int32_t *members = calloc((size_t)gn + 1, sizeof *members);
        int j = 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, g) members[j++] =
            cJSON_IsString(x) ? lookup(s, "SELECT id FROM products WHERE ext_id = ?",
                                       x->valuestring)
                              : -1;
        for (int a = 0; a < gn; a++) {
            int32_t p = members[a];
            if (p < 0 || receipts_of(s, p) < 50 || gn < 2)
                continue;
            int32_t top[5];
            int nt = rs_eval_nearest(pm, unit, p, 5, scratch, top);
            int hit = 0;
            for (int t = 0; t < nt; t++)
                for (int b = 0; b < gn; b++)
                    hit += b != a && members[b] == top[t];
            int denom = gn - 1 < 5 ? gn - 1 : 5;
            prec += (double)hit / denom;
            n_prod++;
        }
        free(members);
    }
    prec = n_prod ? prec / n_prod : 0.0;
    /* complementary categories */
    sc = malloc(((size_t)cm->rows + 1) * sizeof *sc);
    if (!sc)
        goto done;
    int n_pairs = 0, found = 0, found_either = 0;
    const cJSON *pairs = cJSON_GetObjectItemCaseSensitive(truth, "complementary_categories");
    const cJSON *pr;
    cJSON_ArrayForEach(pr, pairs)
    {
        const cJSON *a = cJSON_GetArrayItem(pr, 0), *b = cJSON_GetArrayItem(pr, 1);
        if (!cJSON_IsString(a) || !cJSON_IsString(b))
            continue;
        int32_t ca = lookup(s, "SELECT id FROM categories WHERE name = ? AND level = 1",
                            a->valuestring);
        int32_t cb = lookup(s, "SELECT id FROM categories WHERE name = ? AND level = 1",
                            b->valuestring);
        int in_top[2] = {0, 0};
        for (int dir = 0; dir < 2; dir++) {
            int32_t q = dir ? cb : ca, want = dir ? ca : cb;
            if (q < 0 || q >= cm->n_items || cm->item_row[q] < 0)
                continue;
            const float *v = cm->in + (size_t)cm->item_row[q] * (size_t)cm->dim;
            for (int32_t r = 0; r < cm->rows; r++) {
                double d = 0.0;
                for (int k = 0; k < cm->dim; k++)
                    d += (double)v[k] * cm->out[(size_t)r * (size_t)cm->dim + (size_t)k];
                sc[r] = (float)d;
            }
            sc[cm->item_row[q]] = -INFINITY;
            int32_t top[5];
            int nt = rs_topk(sc, cm->rows, 5, top);
            for (int t = 0; t < nt; t++)
                in_top[dir] |= cm->row_item[top[t]] == want;
        }
        n_pairs++;
        found += in_top[0];
        found_either += in_top[0] || in_top[1];
    }
    double frac = n_pairs ? (double)found / n_pairs : 0.0;
    printf("synonyms: precision@5 %.4f over %d products with >= 50 receipts\n", prec, n_prod);
    printf("categories: %d of %d planted pairs (%.4f) have the partner in the first's top 5 "
           "(either direction: %.4f)\n",
           found, n_pairs, frac, n_pairs ? (double)found_either / n_pairs : 0.0);
    rc = (n_prod > 0 && n_pairs > 0 && prec >= bar && frac >= bar) ? 0 : 1;
    /* the active completion model (what `train` selected) opens and scores a basket */
    rs_completion *comp = NULL;
    if (rs_completion_open(s, 1, &comp, &used, &e)) {
        fprintf(stderr, "planted_check: completion: %s\n", e.msg);
        rc = 1;
    } else {
        int32_t n = rs_completion_n_items(comp);
        float *cs = malloc(((size_t)n + 1) * sizeof *cs);
        int32_t ctx[2] = {0, 1}, top[5];
        int known = cs ? rs_completion_score(comp, ctx, 2, cs) : -1;
        int nt = cs ? rs_topk(cs, n, 5, top) : 0;
        printf("completion: %s (city %lld answered), %d context items known, %d ranked\n",
               rs_completion_name(comp), (long long)used, known, nt);
        if (known < 1 || nt != 5 || cs[0] != -INFINITY || cs[1] != -INFINITY)
            rc = 1;
        free(cs);
        rs_completion_close(comp);
    }
done:
    free(unit);
    free(scratch);
    free(sc);
    rs_embedding_free(pm);
    rs_embedding_free(cm);
    rs_store_close(s);
    cJSON_Delete(truth);
    free(text);
    return rc;
}
