/* cmd_recommend.c - `recoscope recommend`: synonyms, categories and complements for a
 * product or a basket in a city (a table, or one JSON object), and the batch protocol
 * (recommend_batch.c).  This file parses the options, resolves the query and prints
 * the single answer through recommend_out.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/customers.h"
#include "../core/store.h"
#include "cli.h"
#include "opt.h"
#include "recommend.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: recoscope recommend (--product ID | --name TEXT | --basket ID,ID,...)\n"
            "                           [--city C] [--kind synonyms|categories|complements|all]\n"
            "                           [-k N] [--min-pct P] [--max-pct P] [--no-mask]\n"
            "                           [--own-category] [--categories N] [--json]\n"
            "       recoscope recommend --batch FILE|- [--city C] [-k N] [--min-pct P]\n"
            "                           [--max-pct P] [--no-mask] [--threads N]\n"
            "       recoscope recommend --customer ID [--city C] [-k N] [--json]\n"
            "\n"
            "Recommendations for a product (or a basket) in a city, from the city's models,\n"
            "else the all-cities models (the output says which model answered):\n"
            "  synonyms     substitutes: cosine of the product model's input vectors; the\n"
            "               candidates bought with the query far above chance (complements)\n"
            "               ranked after the others\n"
            "  categories   the category model's softmax for the query's category(ies)\n"
            "  complements  products of those categories: Yeo-Johnson-balanced shares of the\n"
            "               k slots, products ranked by the city's completion scorer (in.out\n"
            "               when that is sgns alone); those bought with the query less often\n"
            "               than chance left out\n"
            "\n"
            "options:\n"
            "  --product ID    a product's external id\n"
            "  --name TEXT     a name search (best match; word prefixes, else substring)\n"
            "  --basket IDS    comma-separated external ids (a basket context)\n"
            "  --customer ID   a customer's history and three lists: buy again (their own\n"
            "                  products by frequency and recency), new for you (products\n"
            "                  they never bought, by the product model's history mean, else\n"
            "                  popularity) and ranked (the method the latest `eval\n"
            "                  --customers` of the city validated best, among those served\n"
            "                  without a refit; the output says which); unknown: exit 1\n"
            "  --city C        city name (default: all cities)\n"
            "  --kind K        synonyms, categories, complements, completion or all (default all:\n"
            "                  the first three)\n"
            "  -k N            rows per kind, 1..%d (default %d)\n"
            "  --min-pct P     drop products below this popularity percentile in the city (%g)\n"
            "  --max-pct P     drop products above this popularity percentile (%g)\n"
            "  --no-mask       no popularity mask\n"
            "  --own-category  let categories/complements use the query's own category\n"
            "  --categories N  candidate categories for complements (default %d)\n"
            "  --json          one JSON object instead of the table\n"
            "  --batch FILE    one context a line (a JSON array of ids, or space-separated\n"
            "                  ids when the line does not start with '['); '-' = stdin.  One\n"
            "                  JSON line out per line, in order, with the arrays synonyms,\n"
            "                  categories, complements and completion (the city's active\n"
            "                  basket-completion model), and \"fallback\": which lists a\n"
            "                  fallback answered (the all-cities model, or popularity when\n"
            "                  the completion model knows no product of the context);\n"
            "                  unknown ids give an \"error\" field; a line {\"customer\":\"ID\"}\n"
            "                  gives that customer's lists as --customer --json does\n"
            "                  (without the history's receipts)\n"
            "  --threads N     batch worker threads (default 2)\n"
            "\n"
            "Every row carries score, popularity (receipts of the city holding it) and its\n"
            "percentile; complement rows also the category weight, importance, transformed\n"
            "score, share and slots, and the co-purchase count and lift with the query.\n"
            "\n"
            "exit codes: 0 ok; 1 usage (bad option, unknown product or city, empty basket,\n"
            "k or percentiles out of range); 2 bad data (database or model file);\n"
            "3 internal error\n",
            RS_REC_K_MAX, RS_REC_DEFAULT_K, RS_REC_DEFAULT_MIN_PCT, RS_REC_DEFAULT_MAX_PCT,
            RS_REC_DEFAULT_COMPLEMENT_CATEGORIES);
}

enum {
    OPT_PRODUCT = 1,
    OPT_NAME,
    OPT_BASKET,
    OPT_CITY,
    OPT_KIND,
    OPT_K,
    OPT_CATEGORIES,
    OPT_THREADS,
    OPT_MIN_PCT,
    OPT_MAX_PCT,
    OPT_BATCH,
    OPT_NO_MASK,
    OPT_OWN_CATEGORY,
    OPT_JSON,
    OPT_CUSTOMER,
};

static const cli_opt OPTS[] = {
    {"product", 0, CLI_ARG, OPT_PRODUCT},
    {"name", 0, CLI_ARG, OPT_NAME},
    {"basket", 0, CLI_ARG, OPT_BASKET},
    {"city", 0, CLI_ARG, OPT_CITY},
    {"kind", 0, CLI_ARG, OPT_KIND},
    {"k", 'k', CLI_ARG, OPT_K},
    {"categories", 0, CLI_ARG, OPT_CATEGORIES},
    {"threads", 0, CLI_ARG, OPT_THREADS},
    {"min-pct", 0, CLI_ARG, OPT_MIN_PCT},
    {"max-pct", 0, CLI_ARG, OPT_MAX_PCT},
    {"batch", 0, CLI_ARG, OPT_BATCH},
    {"no-mask", 0, CLI_FLAG, OPT_NO_MASK},
    {"own-category", 0, CLI_FLAG, OPT_OWN_CATEGORY},
    {"json", 0, CLI_FLAG, OPT_JSON},
    {"customer", 0, CLI_ARG, OPT_CUSTOMER},
    {NULL, 0, 0, 0},
};

/* What the command line asked for. */
typedef struct rec_args {
    const char *product, *name, *basket, *city, *batch, *customer;
    unsigned kinds;
    int json, k, threads, ncat;
    double min_pct, max_pct;
    unsigned flags;
} rec_args;

/* One option into a; RS_OK, or RS_EUSAGE (printed). */
static int take_option(cli_parser *p, int id, rec_args *a)
{
    static const char *const KIND_CHOICES[] = {"synonyms", "categories", "complements",
                                               "completion", "all", NULL};
    int kind = 0, rc = RS_OK;
    switch (id) {
    case OPT_PRODUCT:
    case OPT_NAME:
    case OPT_BASKET:
    case OPT_CITY:
    case OPT_BATCH:
    case OPT_CUSTOMER:
        /* an empty value would name nothing (an empty name matched any product) */
        if ((rc = cli_opt_nonempty(p)))
            return rc;
        *(id == OPT_PRODUCT ? &a->product : id == OPT_NAME ? &a->name
          : id == OPT_BASKET ? &a->basket : id == OPT_CITY ? &a->city
          : id == OPT_CUSTOMER ? &a->customer : &a->batch) = p->value;
        break;
    case OPT_KIND:
        if ((rc = cli_opt_choice(p, KIND_CHOICES, &kind)))
            return rc;
        a->kinds = kind == RS_REC_NKINDS ? RS_REC_ALL_KINDS : RS_REC_BIT(kind);
        break;
    case OPT_K: return cli_opt_int32(p, 1, RS_REC_K_MAX, &a->k);
    case OPT_CATEGORIES: return cli_opt_int32(p, 1, RS_REC_K_MAX, &a->ncat);
    case OPT_THREADS: return cli_opt_int32(p, 1, 64, &a->threads);
    case OPT_MIN_PCT: return cli_opt_double(p, 0, 100, &a->min_pct);
    case OPT_MAX_PCT: return cli_opt_double(p, 0, 100, &a->max_pct);
    case OPT_NO_MASK: a->flags |= RS_REC_NO_MASK; break;
    case OPT_OWN_CATEGORY: a->flags |= RS_REC_INCLUDE_OWN_CATEGORY; break;
    case OPT_JSON: a->json = 1; break;
    default: return cli_usage_error(p->cmd, "unexpected argument '%s'", p->value);
    }
    return rc;
}

/* Parses argv into a.  RS_OK; RS_EUSAGE (printed); or -1 after printing the help. */
static int parse_args(int argc, char **argv, rec_args *a)
{
    memset(a, 0, sizeof *a);
    a->kinds = RS_REC_ALL_KINDS;
    a->k = RS_REC_DEFAULT_K;
    a->threads = 2;
    a->ncat = RS_REC_DEFAULT_COMPLEMENT_CATEGORIES;
    a->min_pct = RS_REC_DEFAULT_MIN_PCT;
    a->max_pct = RS_REC_DEFAULT_MAX_PCT;
    cli_parser p;
    cli_opt_init(&p, argv[0], argc, argv, OPTS);
    int id, rc;
    while ((id = cli_opt_next(&p)) > 0) {
        if (id == CLI_HELP) {
            usage(stdout);
            return -1;
        }
        if ((rc = take_option(&p, id, a)))
            return rc;
    }
    if (id < 0)
        return RS_EUSAGE;
    int inputs = (a->product != NULL) + (a->name != NULL) + (a->basket != NULL) +
                 (a->batch != NULL) + (a->customer != NULL);
    if (inputs != 1)
        return cli_usage_error(argv[0], "give exactly one of --product, --name, --basket, "
                                        "--batch, --customer");
    if (a->min_pct > a->max_pct)
        return cli_usage_error(argv[0], "--min-pct (%g) is above --max-pct (%g)", a->min_pct,
                               a->max_pct);
    return RS_OK;
}

/* --basket: comma-separated external ids (an id with a comma cannot be given here; use
 * --batch with a JSON array) into prods (room for one per comma + 1). */
static int basket_products(const rs_recommender *r, const char *basket, int32_t *prods,
                           int *nids, rs_error *e)
{
    *nids = 0;
    for (const char *t = basket;;) {
        const char *c = strchr(t, ',');
        const char *end = c ? c : t + strlen(t);
        const char *a = t;
        while (a < end && isspace((unsigned char)*a))
            a++;
        while (end > a && isspace((unsigned char)end[-1]))
            end--;
        if (end > a) {
            char *id = strndup(a, (size_t)(end - a));
            if (!id)
                return rs_seterr(e, RS_EINTERNAL, "out of memory");
            int rc = rs_rec_find_ext(r, id, &prods[*nids], e);
            free(id);
            if (rc)
                return rc;
            (*nids)++;
        }
        if (!c)
            break;
        t = c + 1;
    }
    if (*nids == 0)
        return rs_seterr(e, RS_EUSAGE, "empty basket: give at least one product id");
    return RS_OK;
}

/* The query products of --product, --name or --basket into *prods (malloc-ed). */
static int query_products(const rs_recommender *r, const rec_args *a, int32_t **prods,
                          int *nids, rs_error *e)
{
    size_t n = 1;
    for (const char *t = a->basket; t && *t; t++)
        n += *t == ',';
    if (!(*prods = malloc(n * sizeof **prods)))
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    *nids = 1;
    if (a->product)
        return rs_rec_find_ext(r, a->product, &(*prods)[0], e);
    if (a->name)
        return rs_rec_resolve(r, a->name, &(*prods)[0], e);
    return basket_products(r, a->basket, *prods, nids, e);
}

/* One query: the table, or one JSON object. */
static int answer_one(const rs_recommender *r, const rec_args *a, rs_rec_query *q, rs_error *e)
{
    int32_t *prods = NULL;
    rs_rec_result *res = NULL;
    rs_jsonw w = {0};
    int rc = query_products(r, a, &prods, &q->n_products, e);
    if (rc)
        goto done;
    q->products = prods;
    if (!(res = rs_rec_result_new())) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    if ((rc = rs_recommend(r, q, res, e)))
        goto done;
    if (a->json) {
        rs_rec_result_json(&w, r, res, a->kinds, 1, NULL);
        rs_jsonw_put(&w, "\n", 1);
        if (w.oom) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
        fwrite(w.p, 1, w.n, stdout);
    } else {
        rec_print_table(r, res, a->kinds);
    }
    if (fflush(stdout) != 0)
        rc = rs_seterr(e, RS_EINTERNAL, "writing output: %s", strerror(errno));
done:
    free(w.p);
    free(prods);
    rs_rec_result_free(res);
    return rc;
}

/* --customer: the history and the three lists (recommend_customer.c). */
static int answer_customer(rs_store *s, const rs_recommender *r, const rec_args *a,
                           rs_error *e)
{
    rs_custrec *cr = NULL;
    rs_custrec_answer *ans = NULL;
    rs_jsonw w = {0};
    int rc = rs_custrec_open(s, rs_rec_city(r), &cr, e);
    if (rc == RS_OK && (rc = rs_custrec_query(cr, a->customer, a->k, &ans, e)) == RS_EUSAGE &&
        strncmp(e->msg, "unknown customer", 16) == 0)
        rs_seterr(e, RS_EUSAGE, "unknown customer '%.200s' in %s", a->customer,
                  rs_rec_city(r) ? rs_rec_city_name(r) : "any city");
    if (rc == RS_OK && a->json) {
        rec_customer_json(&w, r, ans, 1);
        rs_jsonw_put(&w, "\n", 1);
        if (w.oom)
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        else
            fwrite(w.p, 1, w.n, stdout);
    } else if (rc == RS_OK) {
        rec_customer_table(r, ans);
    }
    if (rc == RS_OK && fflush(stdout) != 0)
        rc = rs_seterr(e, RS_EINTERNAL, "writing output: %s", strerror(errno));
    free(w.p);
    rs_custrec_answer_free(ans);
    rs_custrec_close(cr);
    return rc;
}

int cmd_recommend(rs_cli *cli, int argc, char **argv)
{
    rec_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? RS_OK : rc;
    rs_error e = {0};
    rs_store *s = NULL;
    rs_recommender *r = NULL;
    int64_t city_id = 0;
    const char *db = cli->db_path ? cli->db_path : rs_store_default_path();
    if ((rc = rs_store_open(db, RS_STORE_READONLY, &s, &e)) ||
        (rc = rs_store_city_id(s, a.city, &city_id, &e)))
        goto done;
    rs_customer cust;
    if (a.customer && city_id == 0) { /* served in the customer's own city */
        if ((rc = rs_customers_find(s, 0, a.customer, &cust, &e)) == RS_OK)
            city_id = cust.city_id;
        else if (rc == RS_EUSAGE)
            rs_seterr(&e, RS_EUSAGE, "unknown customer '%.200s' in any city", a.customer);
        if (rc)
            goto done;
    }
    rs_rec_options opt;
    rs_rec_options_defaults(&opt);
    opt.workers = a.batch ? a.threads : 1;
    opt.shared_sgns = a.batch != NULL;
    /* complements rank the products of a category by the completion scorer */
    opt.no_completion = a.customer || (!a.batch && !(a.kinds & (RS_REC_BIT(RS_REC_COMPLETION) |
                                                 RS_REC_BIT(RS_REC_COMPLEMENTS))));
    /* co-purchase counts: complements show them, synonyms demote complements by them */
    opt.no_copurchase = a.customer || (!a.batch && !(a.kinds & (RS_REC_BIT(RS_REC_COMPLEMENTS) |
                                                 RS_REC_BIT(RS_REC_SYNONYMS))));
    if ((rc = rs_recommender_open(s, city_id, &opt, &r, &e)))
        goto done;
    /* a registered model whose file does not load is an error here (exit 2), not an
     * empty list: the batch needs every kind, a single query the kinds it asked for */
    if (a.customer) {
        rc = answer_customer(s, r, &a, &e);
        goto done;
    }
    if ((rc = rs_rec_check_models(r, a.batch ? RS_REC_ALL_KINDS : a.kinds, &e)))
        goto done;
    rs_rec_query q;
    rs_rec_query_defaults(&q);
    for (int i = 0; i < RS_REC_NKINDS; i++)
        q.k[i] = a.k;
    q.min_pct = a.min_pct;
    q.max_pct = a.max_pct;
    q.flags = a.flags;
    q.kinds = a.kinds;
    q.complement_categories = a.ncat;
    if (a.batch) {
        rc = rec_run_batch(s, r, &q, a.batch, a.threads);
        rs_recommender_close(r);
        rs_store_close(s);
        return rc; /* its messages are printed */
    }
    rc = answer_one(r, &a, &q, &e);
done:
    if (rc)
        cli_fail(&e);
    rs_recommender_close(r);
    rs_store_close(s);
    return rc;
}
