/* recommend_customer.c - `recoscope recommend --customer ID` and the batch lines
 * {"customer": "ID"}: one customer's history and lists (core/custrec.h) as a table or
 * JSON.  Product ids, names and categories come from the recommender's catalogue. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sanitize.h"
#include "../core/timeutil.h"
#include "cli.h"
#include "recommend.h"

static const char *const LIST_TITLES[RS_CUSTREC_NLISTS] = {"buy again", "new for you",
                                                           "ranked"};

/* "2011-12-09" of a receipt time, "#n" (its position) without one. */
static void day_of(int64_t ts, int pos, char *buf, size_t n)
{
    if (ts == INT64_MIN) {
        snprintf(buf, n, "#%d", pos + 1);
        return;
    }
    int y;
    unsigned m, d;
    int64_t days = ts >= 0 ? ts / 86400 : -((-ts + 86399) / 86400);
    rs_civil_from_days(days, &y, &m, &d);
    snprintf(buf, n, "%04d-%02u-%02u", y, m, d);
}

/* The servable scorers whose top RS_CUSTREC_PROPOSE_N hold the row. */
static void proposed_json(rs_jsonw *b, const rs_custrec_row *w)
{
    rs_jsonw_puts(b, "[");
    int first = 1;
    for (int m = 0; m < RS_PERS_N; m++)
        if (w->rank[m] >= 0) {
            rs_jsonw_puts(b, first ? "" : ",");
            rs_jsonw_str(b, rs_pers_method_name(m));
            first = 0;
        }
    rs_jsonw_puts(b, "]");
}

static void product_json(rs_jsonw *b, const rs_recommender *r, int32_t p)
{
    rs_rec_product info;
    if (rs_rec_product_info(r, p, &info, NULL) != RS_OK) {
        rs_jsonw_puts(b, "\"id\":null");
        return;
    }
    rs_jsonw_puts(b, "\"id\":");
    rs_jsonw_str(b, info.ext_id);
    rs_jsonw_puts(b, ",\"name\":");
    rs_jsonw_str(b, info.name);
    rs_jsonw_puts(b, ",\"category\":");
    rs_jsonw_str(b, info.category);
}

void rec_customer_json(rs_jsonw *b, const rs_recommender *r, const rs_custrec_answer *a,
                       int history)
{
    rs_jsonw_puts(b, "{\"customer\":");
    rs_jsonw_str(b, a->customer.ext_id);
    rs_jsonw_puts(b, ",\"city\":");
    rs_jsonw_str(b, rs_rec_city_name(r));
    rs_jsonw_printf(b, ",\"receipts\":%d,\"products\":%d", a->n_receipts, (int)a->n_hist);
    for (int l = 0; l < RS_CUSTREC_NLISTS; l++) {
        const rs_custrec_list *L = &a->lists[l];
        rs_jsonw_puts(b, ",\"");
        rs_jsonw_puts(b, rs_custrec_list_name(l));
        rs_jsonw_puts(b, "\":{\"method\":");
        rs_jsonw_str(b, rs_pers_method_name(L->method));
        rs_jsonw_puts(b, ",\"why\":");
        if (L->why[0])
            rs_jsonw_str(b, L->why);
        else
            rs_jsonw_puts(b, "null");
        rs_jsonw_puts(b, ",\"rows\":[");
        for (int i = 0; i < L->n; i++) {
            const rs_custrec_row *w = &L->rows[i];
            rs_jsonw_puts(b, i ? ",{" : "{");
            product_json(b, r, w->product);
            rs_jsonw_puts(b, ",\"score\":");
            rs_jsonw_num(b, w->score);
            rs_jsonw_puts(b, ",\"history_weight\":");
            rs_jsonw_num(b, w->weight);
            rs_jsonw_printf(b, ",\"history_count\":%d,\"proposed_by\":", (int)w->count);
            proposed_json(b, w);
            rs_jsonw_puts(b, "}");
        }
        rs_jsonw_puts(b, "]}");
    }
    if (history) {
        rs_jsonw_puts(b, ",\"history\":[");
        for (int i = 0; i < a->n_receipts; i++) {
            const rs_custrec_receipt *rc = &a->receipts[i];
            char day[32];
            day_of(rc->ts, i, day, sizeof day);
            rs_jsonw_puts(b, i ? ",{\"receipt\":" : "{\"receipt\":");
            rs_jsonw_str(b, rc->ext_id);
            rs_jsonw_puts(b, ",\"date\":");
            if (rc->ts == INT64_MIN)
                rs_jsonw_puts(b, "null");
            else
                rs_jsonw_str(b, day);
            rs_jsonw_puts(b, ",\"products\":[");
            for (int64_t j = 0; j < rc->n; j++) {
                rs_rec_product info;
                rs_jsonw_puts(b, j ? "," : "");
                if (rs_rec_product_info(r, a->items[rc->first + j], &info, NULL) == RS_OK)
                    rs_jsonw_str(b, info.ext_id);
                else
                    rs_jsonw_puts(b, "null");
            }
            rs_jsonw_puts(b, "]}");
        }
        rs_jsonw_puts(b, "]");
    }
    rs_jsonw_puts(b, "}");
}

int rec_is_customer_line(const char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    return *line == '{';
}

void rec_customer_line_json(const rs_custrec *cr, const char *cr_error,
                            const rs_recommender *r, const char *line, int k, rs_jsonw *b)
{
    cJSON *o = cJSON_Parse(line);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "customer");
    char id[256] = "";
    rs_error e = {0};
    rs_custrec_answer *a = NULL;
    int rc = RS_EUSAGE;
    if (!cJSON_IsObject(o))
        snprintf(e.msg, sizeof e.msg, "not a JSON object");
    else if (cJSON_IsString(c) && c->valuestring[0])
        snprintf(id, sizeof id, "%s", c->valuestring);
    else if (cJSON_IsNumber(c) && c->valuedouble == floor(c->valuedouble))
        snprintf(id, sizeof id, "%.0f", c->valuedouble);
    else
        snprintf(e.msg, sizeof e.msg, "the object has no \"customer\" id (a string)");
    cJSON_Delete(o);
    if (id[0] && !cr)
        snprintf(e.msg, sizeof e.msg, "customers cannot be served: %s", cr_error);
    else if (id[0])
        rc = rs_custrec_query(cr, id, k, &a, &e);
    if (rc == RS_OK) {
        rec_customer_json(b, r, a, 0);
    } else {
        rs_jsonw_puts(b, "{\"customer\":");
        if (id[0])
            rs_jsonw_str(b, id);
        else
            rs_jsonw_puts(b, "null");
        rs_jsonw_puts(b, ",\"error\":");
        rs_jsonw_str(b, e.msg);
        rs_jsonw_puts(b, "}");
    }
    rs_custrec_answer_free(a);
}

/* The receipts, newest first (at most max of them; the rest counted). */
static void print_history(const rs_recommender *r, const rs_custrec_answer *a, int max,
                          int ascii)
{
    char cell[512];
    for (int i = a->n_receipts - 1, shown = 0; i >= 0 && shown < max; i--, shown++) {
        const rs_custrec_receipt *rc = &a->receipts[i];
        char day[32];
        day_of(rc->ts, i, day, sizeof day);
        rs_sanitize_str(rc->ext_id, ascii, 16, cell, sizeof cell);
        printf("  %-10s %-16s %3" PRId64 " products:", day, cell, rc->n);
        int w = 36;
        for (int64_t j = 0; j < rc->n && w < 76; j++) {
            rs_rec_product info;
            if (rs_rec_product_info(r, a->items[rc->first + j], &info, NULL) != RS_OK)
                continue;
            int cw = rs_sanitize_str(info.name[0] ? info.name : info.ext_id, ascii, 24, cell,
                                     sizeof cell);
            printf("%s %s", j ? "," : "", cell);
            w += cw + 2;
        }
        printf("%s\n", w >= 76 ? ", ..." : "");
    }
    if (a->n_receipts > max)
        printf("  (%d older receipts)\n", a->n_receipts - max);
}

void rec_customer_table(const rs_recommender *r, const rs_custrec_answer *a)
{
    int ascii = rs_locale_ascii();
    char cell[512], cat[512];
    cli_message(stdout, "customer %s in %s: %d receipts, %d distinct products\n",
                a->customer.ext_id, rs_rec_city_name(r), a->n_receipts, (int)a->n_hist);
    printf("\nlatest receipts:\n");
    print_history(r, a, 5, ascii);
    for (int l = 0; l < RS_CUSTREC_NLISTS; l++) {
        const rs_custrec_list *L = &a->lists[l];
        printf("\n%s (%s)%s", LIST_TITLES[l], rs_pers_method_name(L->method),
               L->why[0] ? ": " : "\n");
        if (L->why[0])
            cli_message(stdout, "%s\n", L->why);
        rs_sanitize_cell("product", ascii, 32, cell, sizeof cell);
        rs_sanitize_cell("category", ascii, 18, cat, sizeof cat);
        printf("  %3s %s %s %9s %6s %5s  %s\n", "#", cell, cat, "score", "weight", "count",
               "proposed by");
        for (int i = 0; i < L->n; i++) {
            const rs_custrec_row *w = &L->rows[i];
            rs_rec_product info;
            if (rs_rec_product_info(r, w->product, &info, NULL) != RS_OK)
                continue;
            char label[600], by[128] = "";
            snprintf(label, sizeof label, "%s %s", info.ext_id, info.name);
            rs_sanitize_cell(label, ascii, 32, cell, sizeof cell);
            rs_sanitize_cell(info.category, ascii, 18, cat, sizeof cat);
            size_t used = 0;
            for (int m = 0; m < RS_PERS_N && used < sizeof by; m++)
                if (w->rank[m] >= 0)
                    used += (size_t)snprintf(by + used, sizeof by - used, "%s%s #%d",
                                             used ? ", " : "", rs_pers_method_name(m),
                                             w->rank[m] + 1);
            printf("  %3d %s %s %9.4f %6.3f %5d  %s\n", i + 1, cell, cat, w->score, w->weight,
                   (int)w->count, by);
        }
        if (L->n == 0)
            printf("  (nothing to offer)\n");
    }
}
