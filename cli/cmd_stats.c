/* cmd_stats.c - `recoscope stats`: counts, cities, top lists, receipt sizes. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sanitize.h"
#include "../core/stats.h"
#include "../core/store.h"
#include "cli.h"
#include "opt.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: recoscope stats [--city NAME] [--json]\n"
               "\n"
               "Counts of products, categories, departments, cities (with their receipts),\n"
               "receipts and receipt lines; the top %d products and categories by the number of\n"
               "receipts holding them; the distribution of receipt sizes (distinct products).\n"
               "\n"
               "  --city NAME   receipts, lines, top lists and sizes of one city (default: all)\n"
               "  --json        one JSON object on stdout\n",
            RS_STATS_TOP);
}

/* Prints s as a cell of exactly width display columns (width <= 0: the whole string),
 * through the one sanitizer: names come from imported data. */
static void put_clean(const char *s, int width)
{
    char buf[1024];
    if (width > 0)
        rs_sanitize_cell(s, rs_locale_ascii(), width, buf, sizeof buf);
    else
        rs_sanitize_msg(s, rs_locale_ascii(), buf, sizeof buf);
    fputs(buf, stdout);
}

static void print_top(const char *title, const rs_stats_item *it, int n)
{
    printf("\ntop %s (by receipts)\n", title);
    for (int i = 0; i < n; i++) {
        printf("  %2d. ", i + 1);
        put_clean(it[i].name, 44);
        printf(" %10lld  %5.1f%%  [", (long long)it[i].receipts, 100.0 * it[i].share);
        put_clean(it[i].ext_id, 0);
        printf("]\n");
    }
    if (n == 0)
        printf("  (none)\n");
}

static cJSON *json_items(const rs_stats_item *it, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddStringToObject(o, "id", it[i].ext_id);
        cJSON_AddStringToObject(o, "name", it[i].name);
        cJSON_AddNumberToObject(o, "receipts", (double)it[i].receipts);
        cJSON_AddNumberToObject(o, "share", it[i].share);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static int print_json(const rs_stats *st, const char *city)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return RS_EINTERNAL;
    cJSON_AddStringToObject(o, "city", city ? city : "all");
    cJSON_AddNumberToObject(o, "products", (double)st->products);
    cJSON_AddNumberToObject(o, "categories", (double)st->categories);
    cJSON_AddNumberToObject(o, "derived_categories", (double)st->derived_categories);
    cJSON_AddNumberToObject(o, "departments", (double)st->departments);
    cJSON_AddNumberToObject(o, "receipts", (double)st->receipts);
    cJSON_AddNumberToObject(o, "lines", (double)st->lines);
    cJSON *cs = cJSON_AddArrayToObject(o, "cities");
    for (int64_t i = 0; cs && i < st->ncities; i++) {
        cJSON *c = cJSON_CreateObject();
        if (!c)
            break;
        cJSON_AddStringToObject(c, "name", st->cities[i].name);
        cJSON_AddNumberToObject(c, "receipts", (double)st->cities[i].receipts);
        cJSON_AddItemToArray(cs, c);
    }
    cJSON_AddItemToObject(o, "top_products", json_items(st->top_products, st->ntop_products));
    cJSON_AddItemToObject(o, "top_categories", json_items(st->top_categories, st->ntop_categories));
    cJSON *sz = cJSON_AddObjectToObject(o, "receipt_size");
    if (sz) {
        cJSON_AddNumberToObject(sz, "min", (double)st->size_min);
        cJSON_AddNumberToObject(sz, "median", st->size_median);
        cJSON_AddNumberToObject(sz, "mean", st->size_mean);
        cJSON_AddNumberToObject(sz, "max", (double)st->size_max);
        cJSON *h = cJSON_AddArrayToObject(sz, "histogram");
        for (int b = 0; h && b < RS_STATS_BINS; b++) {
            cJSON *bin = cJSON_CreateObject();
            if (!bin)
                break;
            cJSON_AddNumberToObject(bin, "from", rs_stats_bin_lo[b]);
            if (b + 1 < RS_STATS_BINS)
                cJSON_AddNumberToObject(bin, "to", rs_stats_bin_lo[b + 1] - 1);
            else
                cJSON_AddNullToObject(bin, "to");
            cJSON_AddNumberToObject(bin, "receipts", (double)st->hist[b]);
            cJSON_AddItemToArray(h, bin);
        }
    }
    char *raw = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *txt = raw ? rs_sanitize_json(raw) : NULL;
    free(raw);
    if (!txt)
        return RS_EINTERNAL;
    printf("%s\n", txt);
    free(txt);
    return RS_OK;
}

static void print_text(const rs_stats *st, const char *city)
{
    char derived[48] = "";
    if (st->derived_categories)
        snprintf(derived, sizeof derived, " (%lld derived)", (long long)st->derived_categories);
    printf("database: %lld products, %lld categories%s, %lld departments, %lld cities\n",
           (long long)st->products, (long long)st->categories, derived,
           (long long)st->departments, (long long)st->ncities);
    cli_message(stdout, "%s: %lld receipts, %lld receipt lines\n", city ? city : "all cities",
           (long long)st->receipts, (long long)st->lines);
    printf("\ncities\n");
    for (int64_t i = 0; i < st->ncities; i++) {
        printf("  ");
        put_clean(st->cities[i].name, 30);
        printf(" %10lld receipts\n", (long long)st->cities[i].receipts);
    }
    print_top("products", st->top_products, st->ntop_products);
    print_top("categories", st->top_categories, st->ntop_categories);
    printf("\nreceipt size (distinct products): min %lld, median %.1f, mean %.2f, max %lld\n",
           (long long)st->size_min, st->size_median, st->size_mean, (long long)st->size_max);
    int64_t hmax = 1;
    for (int b = 0; b < RS_STATS_BINS; b++)
        if (st->hist[b] > hmax)
            hmax = st->hist[b];
    for (int b = 0; b < RS_STATS_BINS; b++) {
        char label[24];
        int lo = rs_stats_bin_lo[b];
        if (b + 1 == RS_STATS_BINS)
            snprintf(label, sizeof label, "%d+", lo);
        else if (rs_stats_bin_lo[b + 1] - 1 == lo)
            snprintf(label, sizeof label, "%d", lo);
        else
            snprintf(label, sizeof label, "%d-%d", lo, rs_stats_bin_lo[b + 1] - 1);
        int w = (int)(40.0 * (double)st->hist[b] / (double)hmax + 0.5);
        printf("  %6s %10lld ", label, (long long)st->hist[b]);
        for (int i = 0; i < w; i++)
            putchar('#');
        putchar('\n');
    }
}

enum { OPT_CITY = 1, OPT_JSON };

static const cli_opt OPTS[] = {
    {"city", 0, CLI_ARG, OPT_CITY},
    {"json", 0, CLI_FLAG, OPT_JSON},
    {NULL, 0, 0, 0},
};

int cmd_stats(rs_cli *cli, int argc, char **argv)
{
    const char *city = NULL;
    int json = 0, id;
    cli_parser p;
    cli_opt_init(&p, "stats", argc, argv, OPTS);
    while ((id = cli_opt_next(&p)) > 0) {
        switch (id) {
        case OPT_CITY:
            if (cli_opt_nonempty(&p))
                return RS_EUSAGE;
            city = p.value;
            break;
        case OPT_JSON: json = 1; break;
        case CLI_HELP: usage(stdout); return RS_OK;
        default: return cli_usage_error("stats", "unexpected argument '%s'", p.value);
        }
    }
    if (id < 0)
        return RS_EUSAGE;
    rs_error e = {0};
    rs_store *s = NULL;
    rs_stats st;
    memset(&st, 0, sizeof st);
    int64_t cid = 0;
    int rc = rs_store_open(cli->db_path, RS_STORE_READONLY, &s, &e);
    if (rc == RS_OK)
        rc = rs_store_city_id(s, city, &cid, &e);
    if (rc == RS_OK)
        rc = rs_stats_compute(s, cid, &st, &e);
    if (rc == RS_OK) {
        const char *label = cid ? city : NULL;
        if (json)
            rc = print_json(&st, label);
        else
            print_text(&st, label);
        if (rc)
            rs_seterr(&e, rc, "out of memory");
    }
    rs_stats_free(&st);
    rs_store_close(s);
    return rc ? cli_fail(&e) : RS_OK;
}
