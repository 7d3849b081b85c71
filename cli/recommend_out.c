/* recommend_out.c - the table of `recoscope recommend` (the JSON object of an answer
 * is core's rs_rec_result_json, core/rec_json.h).
 */
#include <stdio.h>
#include <string.h>

#include "recommend.h"

/* ---------------------------------------------------------------- the table */

/* Writes s for the terminal: control characters (C0, DEL, C1) and invalid UTF-8 as '?',
 * cut to width code points (with '~'), padded to width when pad. */
static void put_clean(const char *s, int width, int pad)
{
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    int cols = 0;
    size_t len = 0;
    for (const unsigned char *t = u; *t; cols++) {
        int n = rs_utf8_valid_len(t);
        t += n ? n : 1;
    }
    int cut = cols > width;
    cols = 0;
    while (*u && cols < width - cut) {
        int n = rs_utf8_valid_len(u);
        if (n == 0 || *u < 0x20 || *u == 0x7f || (n == 2 && u[0] == 0xc2 && u[1] < 0xa0)) {
            putchar('?');
            u += n ? n : 1;
        } else {
            fwrite(u, 1, (size_t)n, stdout);
            u += n;
        }
        cols++;
        len++;
    }
    if (cut) {
        putchar('~');
        cols++;
    }
    while (pad && cols++ < width)
        putchar(' ');
}

static void print_model_line(const rs_recommender *r, const char *what, int64_t city,
                             const char *path)
{
    printf("  %s model: ", what);
    if (city == rs_rec_city(r) && city != 0) {
        printf("city '");
        put_clean(rs_rec_city_name(r), 40, 0);
        printf("'");
    } else if (city == rs_rec_city(r)) {
        printf("all cities");
    } else {
        printf("all cities (fallback: no model for '");
        put_clean(rs_rec_city_name(r), 40, 0);
        printf("')");
    }
    printf(", ");
    put_clean(path, 200, 0);
    printf("\n");
}

void rec_print_table(const rs_recommender *r, const rs_rec_result *res, unsigned kinds)
{
    printf("city: ");
    put_clean(rs_rec_city_name(r), 60, 0);
    printf("   receipts: %lld\nquery:\n", (long long)rs_rec_n_receipts(r));
    for (int i = 0; i < res->n_query; i++) {
        rs_rec_product p;
        if (rs_rec_product_info(r, res->query[i], &p, NULL))
            continue;
        printf("  ");
        put_clean(p.ext_id, 12, 1);
        printf(" ");
        put_clean(p.name, 40, 1);
        printf(" [");
        put_clean(p.category, 30, 0);
        printf("]  popularity %lld (p%.1f)%s\n", (long long)p.popularity, p.percentile,
               p.in_product_model || !(kinds & (RS_REC_BIT(RS_REC_SYNONYMS) |
                                                 RS_REC_BIT(RS_REC_COMPLEMENTS)))
                   ? ""
                   : "  (not in the product model)");
    }
    for (int k = 0; k < RS_REC_NKINDS; k++) {
        if (!(kinds & RS_REC_BIT(k)))
            continue;
        const rs_rec_list *l = &res->lists[k];
        printf("\n%s\n", k == RS_REC_SYNONYMS      ? "SYNONYMS (substitutes)"
                         : k == RS_REC_CATEGORIES  ? "CATEGORIES"
                         : k == RS_REC_COMPLEMENTS ? "COMPLEMENTS"
                                                   : "COMPLETION");
        if (l->status) {
            printf("  (none: ");
            put_clean(l->message, 200, 0);
            printf(")\n");
            continue;
        }
        if (k == RS_REC_COMPLETION) {
            printf("  completion model: ");
            put_clean(l->model_path, 120, 0);
            printf(" (%s)\n", l->model_city ? "city" : "all cities");
        } else {
            print_model_line(r, k == RS_REC_CATEGORIES ? "category" : "product", l->model_city,
                             l->model_path);
            if (k == RS_REC_COMPLEMENTS)
                print_model_line(r, "category", l->model2_city, l->model2_path);
        }
        if (l->n == 0) {
            printf("  (no rows: everything was masked or excluded)\n");
            continue;
        }
        if (k == RS_REC_CATEGORIES) {
            printf("  %3s %-40s %-24s %8s %9s %6s\n", "#", "category", "parent", "weight",
                   "receipts", "pct");
            for (int i = 0; i < l->n; i++) {
                const rs_rec_row *w = &l->rows[i];
                printf("  %3d ", i + 1);
                put_clean(w->name, 40, 1);
                printf(" ");
                put_clean(w->category, 24, 1);
                printf(" %8.4f %9lld %6.1f\n", w->score, (long long)w->popularity, w->percentile);
            }
        } else if (k == RS_REC_COMPLEMENTS) {
            printf("  %3s %-12s %-30s %-20s %7s %7s %6s %6s %7s %6s %6s %6s\n", "#", "id",
                   "name", "category", "cat.w", "transf", "share", "slots", "score",
                   "pop", "co", "lift");
            for (int i = 0; i < l->n; i++) {
                const rs_rec_row *w = &l->rows[i];
                printf("  %3d ", i + 1);
                put_clean(w->ext_id, 12, 1);
                printf(" ");
                put_clean(w->name, 30, 1);
                printf(" ");
                put_clean(w->category, 20, 1);
                printf(" %7.4f %7.3f %6.3f %6d %7.3f %6lld", w->cat_weight, w->cat_transformed,
                       w->cat_share, w->cat_slots, w->score, (long long)w->popularity);
                if (w->copurchase >= 0)
                    printf(" %6lld %6.2f\n", (long long)w->copurchase, w->lift);
                else
                    printf(" %6s %6s\n", "-", "-");
            }
        } else {
            printf("  %3s %-12s %-40s %-24s %8s %7s %6s\n", "#", "id", "name", "category",
                   k == RS_REC_SYNONYMS ? "cosine" : "score", "pop", "pct");
            for (int i = 0; i < l->n; i++) {
                const rs_rec_row *w = &l->rows[i];
                printf("  %3d ", i + 1);
                put_clean(w->ext_id, 12, 1);
                printf(" ");
                put_clean(w->name, 40, 1);
                printf(" ");
                put_clean(w->category, 24, 1);
                printf(" %8.4f %7lld %6.1f\n", w->score, (long long)w->popularity, w->percentile);
            }
        }
    }
}

