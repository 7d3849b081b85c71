/* cmd_eval_customers.c - `recoscope eval --customers`: the personal recommenders of
 * core/custeval.h on a time split, a table per city (or one JSON object), each result
 * recorded as evaluations (core/custeval_record.h) for the metric panel. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/browse.h"
#include "../core/custeval.h"
#include "../core/custeval_record.h"
#include "../core/customers.h"
#include "../core/sanitize.h"
#include "../core/timeutil.h"
#include "cli.h"
#include "opt.h"

static const char USAGE[] =
    "usage: recoscope eval --customers [--city C] [--holdout-days N | --holdout-orders K]\n"
    "                      [--k N] [--json]\n"
    "\n"
    "Scores the personal recommenders (popularity, buy-again, item-item, EASE and ALS on\n"
    "customer rows, SGNS history mean) on a time split: the last N days of the city held\n"
    "out (default 30 when the receipts carry times), or each customer's last K receipts\n"
    "(default 1 without times).  Every model is fitted on the training part; each\n"
    "customer with receipts on both sides gets a list from their training history, the\n"
    "targets being the products of their held-out receipts.  Per method: precision@5,\n"
    "precision@k, recall@k, MAP@k, NDCG@k, ROC AUC (targets against 100 sampled\n"
    "negatives), catalogue coverage@k, novelty@k, fit seconds; and the candidate recall\n"
    "of the union of the methods' top 50/100/200.  A table per city (every city with\n"
    "customers unless --city), stored as evaluations (the TUI's metric panel).\n"
    "\n"
    "  --city C            city name (default: every city with customers)\n"
    "  --holdout-days N    the last N days of the city held out\n"
    "  --holdout-orders K  each customer's last K receipts held out\n"
    "  --k N               list length (default 10)\n"
    "  --json              one JSON object on stdout instead of the tables\n";

enum { OPT_CUSTOMERS = 1, OPT_CITY, OPT_DAYS, OPT_ORDERS, OPT_K, OPT_JSON };

static const cli_opt OPTS[] = {
    {"customers", 0, CLI_FLAG, OPT_CUSTOMERS},
    {"city", 'c', CLI_ARG, OPT_CITY},
    {"holdout-days", 0, CLI_ARG, OPT_DAYS},
    {"holdout-orders", 0, CLI_ARG, OPT_ORDERS},
    {"k", 'k', CLI_ARG, OPT_K},
    {"json", 0, CLI_FLAG, OPT_JSON},
    {NULL, 0, 0, 0},
};

typedef struct ec_args {
    const char *city;
    int days, orders, k, json;
} ec_args;

/* One evaluated city. */
typedef struct ec_city {
    char name[256];
    char split[48];
    rs_custeval_opts o;
    rs_custeval_result r;
} ec_city;

static int parse(int argc, char **argv, ec_args *a)
{
    memset(a, 0, sizeof *a);
    a->k = 10;
    cli_parser p;
    cli_opt_init(&p, "eval", argc, argv, OPTS);
    int id;
    while ((id = cli_opt_next(&p)) > 0) {
        switch (id) {
        case OPT_CUSTOMERS: break;
        case OPT_CITY:
            if (cli_opt_nonempty(&p))
                return RS_EUSAGE;
            a->city = p.value;
            break;
        case OPT_DAYS:
            if (cli_opt_int32(&p, 1, 100000, &a->days))
                return RS_EUSAGE;
            break;
        case OPT_ORDERS:
            if (cli_opt_int32(&p, 1, 100000, &a->orders))
                return RS_EUSAGE;
            break;
        case OPT_K:
            if (cli_opt_int32(&p, 1, 1000, &a->k))
                return RS_EUSAGE;
            break;
        case OPT_JSON: a->json = 1; break;
        case CLI_HELP: fputs(USAGE, stdout); return -1;
        default: return cli_usage_error("eval", "unexpected argument '%s'", p.value);
        }
    }
    if (id < 0)
        return RS_EUSAGE;
    if (a->days && a->orders)
        return cli_usage_error("eval", "give --holdout-days or --holdout-orders, not both");
    return RS_OK;
}

/* The split of a city: as asked, else 30 days when its receipts carry times, else the
 * last receipt of each customer.  *n_customers receives the city's customers. */
static int city_split(rs_store *s, int64_t city, const ec_args *a, rs_custeval_opts *o,
                      int64_t *n_customers, rs_error *e)
{
    rs_custeval_defaults(o);
    o->k = a->k;
    o->holdout_days = a->days;
    o->holdout_orders = a->orders;
    rs_customer top;
    int n = 0;
    int rc = rs_customers_count(s, city, n_customers, e);
    if (rc == RS_OK && *n_customers > 0)
        rc = rs_customers_list(s, city, 0, 1, &top, &n, e);
    if (rc == RS_OK && !a->days && !a->orders) {
        if (n == 1 && top.last_ts > 0)
            o->holdout_days = 30;
        else
            o->holdout_orders = 1;
    }
    return rc;
}

static void print_city(const ec_city *c)
{
    const rs_custeval_result *r = &c->r;
    int ascii = rs_locale_ascii();
    char cell[256], when[48] = "";
    if (r->cutoff > 0) {
        int y;
        unsigned m, d;
        rs_civil_from_days(r->cutoff / 86400, &y, &m, &d);
        snprintf(when, sizeof when, ", cutoff %04d-%02u-%02u", y, m, d);
    }
    cli_message(stdout,
                "%s, customers split %s%s: %" PRId64 " customers evaluated, %" PRId64
                " training receipts, %" PRId64 " held out (k = %d)\n\n",
                c->name, c->split, when, r->customers, r->train_receipts, r->test_receipts,
                r->k);
    char pk[16], rk[16], mk[16], nk[16];
    snprintf(pk, sizeof pk, "p@%d", r->k);
    snprintf(rk, sizeof rk, "R@%d", r->k);
    snprintf(mk, sizeof mk, "MAP@%d", r->k);
    snprintf(nk, sizeof nk, "NDCG@%d", r->k);
    rs_sanitize_cell("method", ascii, 11, cell, sizeof cell);
    printf("%s %9s %6s %6s %6s %6s %7s %6s %6s %7s %6s\n", cell, "customers", "p@5", pk, rk,
           mk, nk, "AUC", "cover", "novelty", "fit s");
    for (int i = 0; i < r->n_rows; i++) {
        const rs_custeval_row *w = &r->rows[i];
        char nb[32];
        rs_sanitize_cell(rs_custeval_method_name(w->method, nb, sizeof nb), ascii, 11, cell,
                         sizeof cell);
        printf("%s %9" PRId64 " %6.4f %6.4f %6.4f %6.4f %7.4f %6.4f %6.4f %7.2f %6.1f\n", cell,
               w->customers, w->precision5, w->precision_k, w->recall_k, w->map_k, w->ndcg_k,
               w->auc, w->coverage_k, w->novelty_k, w->fit_seconds);
    }
    printf("\ncandidate recall of the union of every method's top N:");
    for (int i = 0; i < RS_CUSTEVAL_NCAND; i++)
        printf("%s @%d %.4f", i ? "," : "", r->cand_n[i], r->cand_recall[i]);
    printf("\n");
    if (r->skipped[0])
        cli_message(stdout, "not fitted: %s\n", r->skipped);
}

static cJSON *city_json(const ec_city *c)
{
    const rs_custeval_result *r = &c->r;
    cJSON *o = cJSON_CreateObject(), *ms = NULL, *cand = NULL;
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "city", c->name);
    cJSON_AddNumberToObject(o, "city_id", (double)r->city_id);
    cJSON_AddStringToObject(o, "split", c->split);
    cJSON_AddNumberToObject(o, "cutoff", (double)r->cutoff);
    cJSON_AddNumberToObject(o, "k", r->k);
    cJSON_AddNumberToObject(o, "customers", (double)r->customers);
    cJSON_AddNumberToObject(o, "train_receipts", (double)r->train_receipts);
    cJSON_AddNumberToObject(o, "test_receipts", (double)r->test_receipts);
    ms = cJSON_AddArrayToObject(o, "methods");
    for (int i = 0; ms && i < r->n_rows; i++) {
        char nb[32], *mj = rs_custeval_row_json(r, &r->rows[i]);
        cJSON *m = mj ? cJSON_Parse(mj) : NULL;
        free(mj);
        if (!m)
            continue;
        cJSON_AddStringToObject(m, "method",
                                rs_custeval_method_name(r->rows[i].method, nb, sizeof nb));
        cJSON_AddItemToArray(ms, m);
    }
    cand = cJSON_AddObjectToObject(o, "candidate_recall");
    for (int i = 0; cand && i < RS_CUSTEVAL_NCAND; i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", r->cand_n[i]);
        cJSON_AddNumberToObject(cand, key, r->cand_recall[i]);
    }
    if (r->skipped[0])
        cJSON_AddStringToObject(o, "skipped", r->skipped);
    else
        cJSON_AddNullToObject(o, "skipped");
    return o;
}

static int print_json(const ec_city *v, int n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *a = o ? cJSON_AddArrayToObject(o, "cities") : NULL;
    for (int i = 0; a && i < n; i++) {
        cJSON *c = city_json(&v[i]);
        if (c)
            cJSON_AddItemToArray(a, c);
    }
    char *raw = o ? cJSON_PrintUnformatted(o) : NULL, *txt = raw ? rs_sanitize_json(raw) : NULL;
    cJSON_Delete(o);
    free(raw);
    if (!txt) {
        rs_error e;
        rs_seterr(&e, RS_EINTERNAL, "out of memory");
        return cli_fail(&e);
    }
    printf("%s\n", txt);
    free(txt);
    return RS_OK;
}

/* Evaluates and records one city into c; RS_EUSAGE when it has no customers on both
 * sides of the split (the message says why). */
static int eval_city(rs_store *s, int64_t id, const char *name, const ec_args *a, ec_city *c,
                     rs_error *e)
{
    int64_t n_cust = 0;
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    int rc = city_split(s, id, a, &c->o, &n_cust, e);
    if (rc)
        return rc;
    if (n_cust == 0)
        return rs_seterr(e, RS_EUSAGE, "city '%s' has no customers (receipts without a "
                                       "customer id)", name);
    rs_custeval_split_name(&c->o, c->split, sizeof c->split);
    if (isatty(2))
        cli_warn("eval: %s: %" PRId64 " customers, split %s\n", name, n_cust, c->split);
    if ((rc = rs_custeval_run(s, id, &c->o, &c->r, e)))
        return rc;
    return rs_custeval_record(s, &c->r, &c->o, e);
}

/* The cities to evaluate: --city, else every city. */
static int run_all(rs_store *s, const ec_args *a, ec_city **out, int *n_out, rs_error *e)
{
    rs_browse_city *cities = NULL;
    int nc = 0, rc;
    *out = NULL;
    *n_out = 0;
    if (a->city) {
        int64_t id = 0;
        if ((rc = rs_store_city_id(s, a->city, &id, e)))
            return rc;
        if (!(*out = calloc(1, sizeof **out)))
            return rs_seterr(e, RS_EINTERNAL, "out of memory");
        if ((rc = eval_city(s, id, id ? a->city : "all cities", a, *out, e)))
            return rc;
        *n_out = 1;
        return RS_OK;
    }
    if ((rc = rs_browse_cities(s, &cities, &nc, e)))
        return rc;
    if (!(*out = calloc((size_t)(nc > 0 ? nc : 1), sizeof **out))) {
        rs_browse_cities_free(cities, nc);
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    for (int i = 0; rc == RS_OK && i < nc; i++) {
        rs_error ce = {0};
        int crc = eval_city(s, cities[i].id, cities[i].name, a, &(*out)[*n_out], &ce);
        if (crc == RS_EUSAGE) /* a city without customers on both sides: said, skipped */
            cli_warn("recoscope eval: %s: skipped: %s\n", cities[i].name, ce.msg);
        else if (crc)
            rc = rs_seterr(e, crc, "%s: %s", cities[i].name, ce.msg);
        else
            (*n_out)++;
    }
    rs_browse_cities_free(cities, nc);
    if (rc == RS_OK && *n_out == 0)
        rc = rs_seterr(e, RS_EUSAGE, "no city has customers with receipts on both sides of "
                                     "the split");
    return rc;
}

int cmd_eval_customers(rs_cli *cli, int argc, char **argv)
{
    ec_args a;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? RS_OK : rc;
    rs_error e = {0};
    rs_store *s = NULL;
    ec_city *v = NULL;
    int n = 0;
    rc = rs_store_open(cli->db_path ? cli->db_path : rs_store_default_path(), 0, &s, &e);
    if (rc == RS_OK)
        rc = run_all(s, &a, &v, &n, &e);
    rs_store_close(s);
    if (rc) {
        free(v);
        return cli_fail(&e);
    }
    if (a.json) {
        rc = print_json(v, n);
    } else {
        for (int i = 0; i < n; i++) {
            if (i)
                printf("\n");
            print_city(&v[i]);
        }
    }
    free(v);
    return rc;
}
