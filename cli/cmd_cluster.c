/* cmd_cluster.c - `recoscope cluster`: derived categories for a catalogue that has
 * none, as clusters of the product model's vectors (core/clusters.h). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clusters.h"
#include "../core/clusters_store.h"
#include "../core/model.h"
#include "../core/recommend.h"
#include "../core/sanitize.h"
#include "../core/store.h"
#include "cli.h"
#include "opt.h"

static void usage(FILE *f)
{
    fputs("usage: recoscope cluster [--city C] [--k N|auto] [--top N] [--json] [--apply]\n"
          "       recoscope cluster --undo\n"
          "\n"
          "Derived categories where the catalogue has none (one \"(uncategorised)\" category,\n"
          "or every product its own): spherical k-means of the active product model's\n"
          "vectors (the city's, else all cities'), each cluster named by the most\n"
          "distinctive words of its products' names.  With --k auto (default) the number\n"
          "of clusters is validated: each of 8, 12, 16, 24, 32, 48, 64, 96 (at most half\n"
          "the products) is fitted and scored by its mean silhouette on a fixed sample,\n"
          "and the best is kept.  Prints every cluster with its size and most popular\n"
          "products.  Reads only, unless --apply.\n"
          "\n"
          "  --city C   the city whose model is clustered (default: all cities)\n"
          "  --k N      N clusters (2..1000), or auto\n"
          "  --top N    products listed per cluster (default 3, 0..50)\n"
          "  --json     one JSON object on stdout\n"
          "  --apply    store the clusters as the catalogue's categories (marked derived):\n"
          "             the model's products move into them, each keeps its catalogue\n"
          "             category to go back to; models of category baskets are retired\n"
          "             (run `recoscope train` again)\n"
          "  --undo     every product back in its catalogue category\n",
          f);
}

enum { OPT_CITY = 1, OPT_K, OPT_TOP, OPT_JSON, OPT_APPLY, OPT_UNDO };

static const cli_opt OPTS[] = {
    {"city", 'c', CLI_ARG, OPT_CITY}, {"k", 'k', CLI_ARG, OPT_K},
    {"top", 0, CLI_ARG, OPT_TOP},     {"json", 0, CLI_FLAG, OPT_JSON},
    {"apply", 0, CLI_FLAG, OPT_APPLY}, {"undo", 0, CLI_FLAG, OPT_UNDO},
    {NULL, 0, 0, 0},
};

static const int CANDIDATES[] = {8, 12, 16, 24, 32, 48, 64, 96};
#define NCAND ((int)(sizeof CANDIDATES / sizeof CANDIDATES[0]))

typedef struct cluster_args {
    const char *city;
    int k; /* 0: auto */
    int top, json, apply, undo;
} cluster_args;

static int parse_args(int argc, char **argv, cluster_args *a)
{
    cli_parser p;
    cli_opt_init(&p, "cluster", argc, argv, OPTS);
    int id;
    while ((id = cli_opt_next(&p)) > 0) {
        int bad = 0;
        switch (id) {
        case OPT_CITY: bad = cli_opt_nonempty(&p); a->city = p.value; break;
        case OPT_K:
            if (strcmp(p.value, "auto") == 0)
                a->k = 0;
            else
                bad = cli_opt_int32(&p, 2, 1000, &a->k);
            break;
        case OPT_TOP: bad = cli_opt_int32(&p, 0, 50, &a->top); break;
        case OPT_JSON: a->json = 1; break;
        case OPT_APPLY: a->apply = 1; break;
        case OPT_UNDO: a->undo = 1; break;
        case CLI_HELP: usage(stdout); return -1;
        default: return cli_usage_error("cluster", "unexpected argument '%s'", p.value);
        }
        if (bad)
            return RS_EUSAGE;
    }
    if (id == 0 && a->undo && a->apply)
        return cli_usage_error("cluster", "--apply and --undo exclude each other");
    return id < 0 ? RS_EUSAGE : RS_OK;
}

/* The top products of cluster c (by popularity in the city), into top[0..n). */
static int top_of(const rs_clusters *c, const rs_embedding *m, const int64_t *pop, int cl,
                  int want, int32_t *top)
{
    int n = 0;
    for (int32_t r = 0; r < c->rows; r++) {
        if (c->assign[r] != cl)
            continue;
        int32_t it = m->row_item[r];
        int pos = n < want ? n++ : want;
        if (pos == want && (want == 0 || pop[it] <= pop[top[want - 1]]))
            continue;
        if (pos == want)
            pos = want - 1;
        while (pos > 0 && pop[top[pos - 1]] < pop[it]) {
            top[pos] = top[pos - 1];
            pos--;
        }
        top[pos] = it;
    }
    return n;
}

static void print_text(const rs_clusters *c, const rs_embedding *m, const rs_recommender *r,
                       const rs_model_info *info, const double *scores, int automatic,
                       int want)
{
    int ascii = rs_locale_ascii();
    char cell[512];
    printf("product model #%lld (%s), %d products in the model\n", (long long)info->id,
           info->city_id ? rs_rec_city_name(r) : "all cities", m->rows);
    if (automatic) {
        printf("mean silhouette by number of clusters (the best is kept):\n");
        for (int i = 0; i < NCAND; i++)
            if (!isnan(scores[i]))
                printf("  k=%-3d %.4f%s\n", CANDIDATES[i], scores[i],
                       CANDIDATES[i] == c->k ? "  <-" : "");
    }
    printf("%d clusters, cohesion %.3f (mean cosine to the centroid)", c->k, c->cohesion);
    if (!isnan(c->silhouette))
        printf(", silhouette %.4f", c->silhouette);
    printf("\n\n   #  products  %-32s top products\n", "name (derived)");
    int32_t *top = malloc(((size_t)want + 1) * sizeof *top);
    const int64_t *pop = rs_rec_popularity_counts(r);
    for (int cl = 0; cl < c->k; cl++) {
        rs_sanitize_cell(c->name[cl], ascii, 32, cell, sizeof cell);
        printf("%4d  %8d  %s ", cl + 1, c->size[cl], cell);
        int n = top ? top_of(c, m, pop, cl, want, top) : 0;
        for (int i = 0; i < n; i++) {
            rs_rec_product pi;
            if (rs_rec_product_info(r, top[i], &pi, NULL) != RS_OK)
                continue;
            rs_sanitize_str(pi.name, ascii, 40, cell, sizeof cell);
            printf("%s%s", i ? "; " : "", cell);
        }
        printf("\n");
    }
    free(top);
}

static int print_json(const rs_clusters *c, const rs_embedding *m, const rs_recommender *r,
                      const rs_model_info *info, const double *scores, int automatic,
                      int want)
{
    cJSON *o = cJSON_CreateObject();
    int32_t *top = malloc(((size_t)want + 1) * sizeof *top);
    if (!o || !top) {
        cJSON_Delete(o);
        free(top);
        return RS_EINTERNAL;
    }
    cJSON_AddNumberToObject(o, "model", (double)info->id);
    cJSON_AddStringToObject(o, "model_city", info->city_id ? rs_rec_city_name(r) : "all");
    cJSON_AddNumberToObject(o, "k", c->k);
    cJSON_AddNumberToObject(o, "cohesion", c->cohesion);
    if (!isnan(c->silhouette))
        cJSON_AddNumberToObject(o, "silhouette", c->silhouette);
    cJSON *cand = automatic ? cJSON_AddArrayToObject(o, "candidates") : NULL;
    for (int i = 0; cand && i < NCAND; i++) {
        if (isnan(scores[i]))
            continue;
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "k", CANDIDATES[i]);
        cJSON_AddNumberToObject(x, "silhouette", scores[i]);
        cJSON_AddItemToArray(cand, x);
    }
    cJSON *cl = cJSON_AddArrayToObject(o, "clusters");
    const int64_t *pop = rs_rec_popularity_counts(r);
    for (int k = 0; cl && k < c->k; k++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "cluster", k + 1);
        cJSON_AddStringToObject(x, "name", c->name[k]);
        cJSON_AddBoolToObject(x, "derived", 1);
        cJSON_AddNumberToObject(x, "products", c->size[k]);
        cJSON *tp = cJSON_AddArrayToObject(x, "top");
        int n = top_of(c, m, pop, k, want, top);
        for (int i = 0; tp && i < n; i++) {
            rs_rec_product pi;
            if (rs_rec_product_info(r, top[i], &pi, NULL) == RS_OK)
                cJSON_AddItemToArray(tp, cJSON_CreateString(pi.ext_id));
        }
        cJSON_AddItemToArray(cl, x);
    }
    free(top);
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

/* The clusters of the model (k given, or chosen among the candidates) and their names. */
static int make_clusters(const rs_embedding *m, const rs_recommender *r, int k,
                         rs_clusters **out, double *scores, rs_error *e)
{
    rs_kmeans_opts ko;
    rs_kmeans_opts_defaults(&ko);
    int rc = k > 0 ? rs_kmeans(m, k, &ko, out, e)
                   : rs_kmeans_choose(m, CANDIDATES, NCAND, &ko, out, scores, e);
    if (rc != RS_OK)
        return rc;
    if (k > 0)
        (*out)->silhouette = rs_clusters_silhouette(m, *out, &ko);
    const char **names = calloc((size_t)m->n_items + 1, sizeof *names);
    if (!names)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    for (int32_t i = 0; i < m->n_items && i < rs_rec_n_products(r); i++) {
        rs_rec_product pi;
        if (rs_rec_product_info(r, i, &pi, NULL) == RS_OK)
            names[i] = pi.name;
    }
    rc = rs_clusters_name(*out, m, names, e);
    free(names);
    return rc;
}

/* --undo: every product back in its catalogue category. */
static int undo(rs_cli *cli)
{
    rs_store *s = NULL;
    rs_error e = {0};
    rs_derivation d;
    int rc = rs_store_open(cli->db_path, 0, &s, &e);
    if (rc == RS_OK)
        rc = rs_clusters_undo(s, &d, &e);
    rs_store_close(s);
    if (rc == RS_EUSAGE)
        return cli_usage_error("cluster", "%s", e.msg);
    if (rc != RS_OK)
        return cli_fail(&e);
    printf("undone: derivation #%lld (%d clusters of model #%lld); %lld products are back "
           "in their catalogue categories\n",
           (long long)d.id, d.k, (long long)d.model_id, (long long)d.products);
    if (d.retired)
        printf("%lld models of category baskets retired: run `recoscope train` to fit them "
               "on the catalogue's categories\n", (long long)d.retired);
    return RS_OK;
}

/* --apply: the clusters stored as categories; the summary on stdout (stderr with --json). */
static int apply(rs_store *s, const rs_model_info *info, const rs_embedding *m,
                 const rs_clusters *c, int json, rs_error *e)
{
    char params[96];
    snprintf(params, sizeof params, "{\"k\":%d,\"silhouette\":%.6f}", c->k,
             isnan(c->silhouette) ? 0.0 : c->silhouette);
    rs_derivation d;
    int rc = rs_clusters_apply(s, info->city_id, info->id, m, c, params, &d, e);
    if (rc != RS_OK)
        return rc;
    FILE *f = json ? stderr : stdout;
    fprintf(f, "applied: derivation #%lld, %lld products in %d derived categories\n",
            (long long)d.id, (long long)d.products, d.k);
    fprintf(f, "%lld models of category baskets retired; run `recoscope train` to fit the "
               "category model on the derived categories (`recoscope cluster --undo` goes "
               "back)\n",
            (long long)d.retired);
    return RS_OK;
}

int cmd_cluster(rs_cli *cli, int argc, char **argv)
{
    cluster_args a = {.top = 3};
    int prc = parse_args(argc, argv, &a);
    if (prc)
        return prc < 0 ? RS_OK : prc;
    if (a.undo)
        return undo(cli);
    rs_store *s = NULL;
    rs_recommender *r = NULL;
    rs_embedding *m = NULL;
    rs_clusters *c = NULL;
    rs_model_info info;
    rs_error e = {0};
    int64_t city = 0, used = 0;
    double scores[NCAND];
    int rc = rs_store_open(cli->db_path, a.apply ? 0 : RS_STORE_READONLY, &s, &e);
    if (rc == RS_OK)
        rc = rs_store_city_id(s, a.city, &city, &e);
    if (rc == RS_OK) {
        rs_rec_options o;
        rs_rec_options_defaults(&o);
        o.no_completion = 1;
        o.no_copurchase = 1;
        rc = rs_recommender_open(s, city, &o, &r, &e);
    }
    if (rc == RS_OK)
        rc = rs_registry_load_active(s, city, RS_KIND_PRODUCT, "all", &m, &used, &info, &e);
    if (rc == RS_OK && a.k > m->rows / 2)
        rc = rs_seterr(&e, RS_EUSAGE, "--k %d: the model has %d products (at most %d clusters)",
                       a.k, m->rows, m->rows / 2);
    if (rc == RS_OK)
        rc = make_clusters(m, r, a.k, &c, scores, &e);
    if (rc == RS_OK) {
        if (a.json)
            rc = print_json(c, m, r, &info, scores, a.k == 0, a.top);
        else
            print_text(c, m, r, &info, scores, a.k == 0, a.top);
        if (rc != RS_OK)
            rs_seterr(&e, rc, "out of memory");
    }
    if (rc == RS_OK && a.apply) {
        fflush(stdout);
        rc = apply(s, &info, m, c, a.json, &e);
    }
    rs_clusters_free(c);
    rs_embedding_free(m);
    rs_recommender_close(r);
    rs_store_close(s);
    if (rc == RS_EUSAGE)
        return cli_usage_error("cluster", "%s", e.msg);
    return rc == RS_OK ? RS_OK : cli_fail(&e);
}
