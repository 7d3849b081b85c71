/* recommend_out.c - the table of `recoscope recommend` (the JSON object of an answer
 * is core's rs_rec_result_json, core/rec_json.h).
 */
#include <stdio.h>
#include <string.h>

#include "../core/sanitize.h"
#include "cli.h"
#include "recommend.h"

/* ---------------------------------------------------------------- the table */

/* Every text from data goes through the one sanitizer (core/sanitize.h): cells cut and
 * padded by display columns (CJK and emoji take two), control and bidirectional
 * formatting characters never reach the terminal, and non-ASCII becomes '?' when the
 * terminal is not UTF-8.  Messages go through cli_message (cli/msg.c). */
typedef struct table {
    int ascii; /* rs_locale_ascii() */
} table;

/* s as a cell of exactly width columns (cut with '…' or '~'), then sep. */
static void cell(const table *t, const char *s, int width, const char *sep)
{
    char buf[512];
    rs_sanitize_cell(s ? s : "", t->ascii, width, buf, sizeof buf);
    fputs(buf, stdout);
    fputs(sep, stdout);
}

/* s cut to at most maxw columns, not padded. */
static void text(const table *t, const char *s, int maxw)
{
    char buf[1024];
    rs_sanitize_str(s ? s : "", t->ascii, maxw, buf, sizeof buf);
    fputs(buf, stdout);
}

static void print_model_line(const table *t, const rs_recommender *r, const char *what,
                             int64_t city, const char *path)
{
    printf("  %s model: ", what);
    if (city == rs_rec_city(r) && city != 0) {
        printf("city '");
        text(t, rs_rec_city_name(r), 40);
        printf("'");
    } else if (city == rs_rec_city(r)) {
        printf("all cities");
    } else {
        printf("all cities (fallback: no model for '");
        text(t, rs_rec_city_name(r), 40);
        printf("')");
    }
    printf(", ");
    text(t, path, 200);
    printf("\n");
}

static void print_query(const table *t, const rs_recommender *r, const rs_rec_result *res,
                        unsigned kinds)
{
    printf("city: ");
    text(t, rs_rec_city_name(r), 60);
    printf("   receipts: %lld\nquery:\n", (long long)rs_rec_n_receipts(r));
    unsigned need_pm = RS_REC_BIT(RS_REC_SYNONYMS) | RS_REC_BIT(RS_REC_COMPLEMENTS);
    for (int i = 0; i < res->n_query; i++) {
        rs_rec_product p;
        if (rs_rec_product_info(r, res->query[i], &p, NULL))
            continue;
        printf("  ");
        cell(t, p.ext_id, 12, " ");
        cell(t, p.name, 40, " [");
        text(t, p.category, 30);
        printf("]  popularity %lld (p%.1f)%s\n", (long long)p.popularity, p.percentile,
               p.in_product_model || !(kinds & need_pm) ? "" : "  (not in the product model)");
    }
}

static void print_categories(const table *t, const rs_rec_list *l)
{
    printf("  %3s %-40s %-24s %8s %9s %6s\n", "#", "category", "parent", "weight", "receipts",
           "pct");
    for (int i = 0; i < l->n; i++) {
        const rs_rec_row *w = &l->rows[i];
        printf("  %3d ", i + 1);
        cell(t, w->name, 40, " ");
        cell(t, w->category, 24, "");
        printf(" %8.4f %9lld %6.1f\n", w->score, (long long)w->popularity, w->percentile);
    }
}

static void print_complements(const table *t, const rs_rec_list *l)
{
    printf("  %3s %-12s %-30s %-20s %7s %7s %6s %6s %7s %6s %6s %6s\n", "#", "id", "name",
           "category", "cat.w", "transf", "share", "slots", "score", "pop", "co", "lift");
    for (int i = 0; i < l->n; i++) {
        const rs_rec_row *w = &l->rows[i];
        printf("  %3d ", i + 1);
        cell(t, w->ext_id, 12, " ");
        cell(t, w->name, 30, " ");
        cell(t, w->category, 20, "");
        printf(" %7.4f %7.3f %6.3f %6d %7.3f %6lld", w->cat_weight, w->cat_transformed,
               w->cat_share, w->cat_slots, w->score, (long long)w->popularity);
        if (w->copurchase >= 0)
            printf(" %6lld %6.2f\n", (long long)w->copurchase, w->lift);
        else
            printf(" %6s %6s\n", "-", "-");
    }
}

/* Synonyms and completion: products with a score; synonyms also their co-purchase
 * count and lift with the query, and "complement" on the rows demoted for being
 * bought with it far above chance. */
static void print_products(const table *t, const rs_rec_list *l, int synonyms)
{
    printf("  %3s %-12s %-40s %-24s %8s %7s %6s%s\n", "#", "id", "name", "category",
           synonyms ? "cosine" : "score", "pop", "pct", synonyms ? "     co   lift" : "");
    for (int i = 0; i < l->n; i++) {
        const rs_rec_row *w = &l->rows[i];
        printf("  %3d ", i + 1);
        cell(t, w->ext_id, 12, " ");
        cell(t, w->name, 40, " ");
        cell(t, w->category, 24, "");
        printf(" %8.4f %7lld %6.1f", w->score, (long long)w->popularity, w->percentile);
        if (synonyms && w->copurchase >= 0)
            printf(" %6lld %6.2f%s", (long long)w->copurchase, w->lift,
                   w->demoted ? "  complement" : "");
        else if (synonyms)
            printf(" %6s %6s", "-", "-");
        printf("\n");
    }
}

static const char *const TITLES[RS_REC_NKINDS] = {"SYNONYMS (substitutes)", "CATEGORIES",
                                                  "COMPLEMENTS", "COMPLETION"};

void rec_print_table(const rs_recommender *r, const rs_rec_result *res, unsigned kinds)
{
    table t = {rs_locale_ascii()};
    print_query(&t, r, res, kinds);
    for (int k = 0; k < RS_REC_NKINDS; k++) {
        if (!(kinds & RS_REC_BIT(k)))
            continue;
        const rs_rec_list *l = &res->lists[k];
        printf("\n%s\n", TITLES[k]);
        if (l->status) {
            fflush(stdout);
            cli_message(stdout, "  (none: %s)\n", l->message);
            continue;
        }
        if (k == RS_REC_COMPLETION) {
            printf("  completion model: ");
            text(&t, l->model_path, 120);
            printf(" (%s)\n", l->model_city ? "city" : "all cities");
        } else {
            print_model_line(&t, r, k == RS_REC_CATEGORIES ? "category" : "product",
                             l->model_city, l->model_path);
            if (k == RS_REC_COMPLEMENTS) {
                print_model_line(&t, r, "category", l->model2_city, l->model2_path);
                printf("  products ranked by: ");
                text(&t, l->scorer, 120);
                if (l->n_below_chance)
                    printf("; %d candidate%s bought with it less often than chance left out",
                           l->n_below_chance, l->n_below_chance == 1 ? "" : "s");
                printf("\n");
            }
        }
        if (l->n == 0)
            printf("  (no rows: everything was masked or excluded)\n");
        else if (k == RS_REC_CATEGORIES)
            print_categories(&t, l);
        else if (k == RS_REC_COMPLEMENTS)
            print_complements(&t, l);
        else
            print_products(&t, l, k == RS_REC_SYNONYMS);
    }
}
