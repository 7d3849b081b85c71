/* test_recommend_world.c - the recommenders against the planted synthetic world.
 *
 * Builds a small world (3 cities, 80 categories, 2,000 products, 40,000 receipts) with
 * the synth module, imports it, trains the all-cities product and category models
 * with the SGNS trainer (dim 32, 10 epochs, one thread, fixed seed), registers them,
 * and checks the bars of issue 4 against truth.json:
 *   - synonyms hit the planted substitute group: precision@5 >= 0.9 over grouped
 *     products with >= 50 receipts, where precision@5 = hits / min(5, group size - 1);
 *   - >= 70% of complement rows fall in categories planted as complementary to the
 *     query's category;
 *   - a city's planted taste shows in that city's lists and not in the others': for
 *     each taste category T of city X, the share of complement rows in T (over the
 *     products with >= 30 receipts) is larger in X than in every other city, for at
 *     least 70% of the planted tastes; and the products sold only in X never appear
 *     in another city's lists.
 * The figures are printed.  Per-city category models are not trained here: an SGNS
 * category model fitted on one city's receipts (with subsampling) removes most of the
 * city's popularity boost from its weights, and the taste then shows much less (2 of
 * 9 tastes in our runs, see docs/BENCHMARKS.md).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "import.h"
#include "model.h"
#include "publish.h"
#include "recommend.h"
#include "sgns.h"
#include "store.h"
#include "synth.h"
#include "testlib.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        b[n] = 0;
    fclose(f);
    return b;
}

static int train_and_register(rs_store *s, const rs_corpus *c, int64_t city, const char *kind,
                              int epochs, rs_error *e)
{
    rs_sgns_params p;
    rs_sgns_defaults(&p);
    p.dim = 32;
    p.epochs = epochs;
    p.min_count = 3;
    p.threads = 1;
    p.seed = 7;
    rs_embedding *m = NULL;
    const char **ext = NULL;
    int rc = rs_sgns_train(c, &p, NULL, NULL, &m, e);
    if (rc)
        return rc;
    ext = calloc((size_t)m->rows + 1, sizeof *ext);
    char (*buf)[16] = calloc((size_t)m->rows + 1, sizeof *buf);
    if (!ext || !buf) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    /* ids: the test does not need the real external ids in the file (the recommender
     * uses the store's catalogue); item indices keep them unique */
    for (int32_t r = 0; r < m->rows; r++) {
        snprintf(buf[r], sizeof buf[r], "i%d", (int)m->row_item[r]);
        ext[r] = buf[r];
    }
    char path[2048];
    snprintf(path, sizeof path, "%s/%s-%lld.rsm", rs_store_models_dir(s), kind, (long long)city);
    rs_publish pub = {.city_id = city, .kind = kind, .params_json = "{}", .metrics_json = "{}",
                      .fingerprint = "test", .activate = 1, .ext_ids = ext, .path = path};
    if ((rc = rs_store_ensure_models_dir(s, e)) ||
        (rc = rs_model_publish(s, m, &pub, NULL, NULL, 0, e)))
        goto done;
done:
    free(ext);
    free(buf);
    rs_embedding_free(m);
    return rc;
}

/* category index by name (names are unique in the synthetic world) */
static int32_t cat_by_name(const rs_recommender *r, const char *name)
{
    for (int32_t c = 0; c < rs_rec_n_categories(r); c++)
        if (strcmp(rs_rec_category_name(r, c), name) == 0)
            return c;
    return -1;
}

int main(void)
{
    const char *dir = test_tmpdir();
    char wdir[1024], db[1024];
    snprintf(wdir, sizeof wdir, "%s/world", dir);
    snprintf(db, sizeof db, "%s/world.db", dir);
    rs_error e = {0};
    rs_store *s = NULL;
    rs_corpus *all = NULL, *cats = NULL;
    rs_recommender *rec[4] = {0};
    rs_rec_result *res = rs_rec_result_new();
    char *truth_text = NULL;
    cJSON *truth = NULL;
    uint8_t *comp = NULL; /* [nc * nc] planted complementary pairs */

    rs_synth_params sp;
    rs_synth_defaults(&sp, 0);
    sp.seed = 1;
    sp.cities = 3;
    sp.departments = 10;
    sp.categories = 80;
    sp.products = 2000;
    sp.receipts = 40000;
    sp.assets_dir = RS_SOURCE_ROOT "/assets";
    if (rs_synth_write(&sp, wdir, &e)) {
        fprintf(stderr, "synth: %s\n", e.msg);
        CHECK(0);
        goto done;
    }
    CHECK_EQ_INT(rs_store_open(db, RS_STORE_CREATE, &s, &e), RS_OK);
    if (!s)
        goto done;
    {
        rs_import_opts o;
        rs_import_opts_init(&o);
        char pp[1100], cp[1100], rp[1100];
        snprintf(pp, sizeof pp, "%s/products.csv", wdir);
        snprintf(cp, sizeof cp, "%s/categories.csv", wdir);
        snprintf(rp, sizeof rp, "%s/receipts.csv", wdir);
        const char *inputs[1] = {rp};
        o.products = pp;
        o.categories = cp;
        o.inputs = inputs;
        o.ninputs = 1;
        o.threads = 1;
        rs_import_report rep;
        memset(&rep, 0, sizeof rep);
        int rc = rs_import_run(s, &o, &rep, &e);
        if (rc)
            fprintf(stderr, "import: %s\n", e.msg);
        CHECK_EQ_INT(rc, RS_OK);
        rs_import_report_free(&rep);
        rs_import_opts_free(&o);
        if (rc)
            goto done;
    }
    /* models: product (all cities), category (all cities and per city) */
    if (rs_corpus_load(s, 0, &all, &e) || rs_corpus_categories(all, &cats, &e) ||
        train_and_register(s, all, 0, RS_KIND_PRODUCT, 10, &e) ||
        train_and_register(s, cats, 0, RS_KIND_CATEGORY, 10, &e)) {
        fprintf(stderr, "training: %s\n", e.msg);
        CHECK(0);
        goto done;
    }
    for (int c = 0; c <= 3; c++) {
        rs_rec_options opt;
        rs_rec_options_defaults(&opt);
        opt.no_completion = 1;
        int rc = rs_recommender_open(s, c, &opt, &rec[c], &e);
        if (rc)
            fprintf(stderr, "open: %s\n", e.msg);
        CHECK_EQ_INT(rc, RS_OK);
        if (rc)
            goto done;
    }
    char tp[1100];
    snprintf(tp, sizeof tp, "%s/truth.json", wdir);
    truth_text = slurp(tp);
    truth = truth_text ? cJSON_Parse(truth_text) : NULL;
    CHECK(truth != NULL);
    if (!truth)
        goto done;
    const rs_recommender *r0 = rec[0];
    int32_t np = rs_rec_n_products(r0), nc = rs_rec_n_categories(r0);
    const int64_t *pop = rs_rec_popularity_counts(r0);

    /* 1. synonyms vs substitute groups */
    {
        int32_t *group = malloc((size_t)np * sizeof *group);
        int *gsize = calloc(2000, sizeof *gsize);
        for (int32_t i = 0; i < np; i++)
            group[i] = -1;
        cJSON *gs = cJSON_GetObjectItem(truth, "substitute_groups"), *g;
        int gi = 0;
        cJSON_ArrayForEach(g, gs)
        {
            cJSON *m;
            cJSON_ArrayForEach(m, g)
            {
                int32_t idx;
                if (rs_rec_find_ext(r0, m->valuestring, &idx, NULL) == RS_OK) {
                    group[idx] = gi;
                    gsize[gi]++;
                }
            }
            if (++gi >= 2000)
                break;
        }
        /* [0] no mask, [1] the default mask, [2] no mask and no demotion of complements */
        double psum[3] = {0};
        int nq = 0, demoted = 0, bad_demoted = 0;
        for (int32_t p = 0; p < np; p++) {
            if (group[p] < 0 || pop[p] < 50 || gsize[group[p]] < 2)
                continue;
            for (int mode = 0; mode < 3; mode++) {
                rs_rec_query q;
                rs_rec_query_defaults(&q);
                q.products = &p;
                q.n_products = 1;
                q.kinds = RS_REC_BIT(RS_REC_SYNONYMS);
                q.k[RS_REC_SYNONYMS] = 5;
                q.flags = mode == 1 ? 0 : mode == 0 ? RS_REC_NO_MASK
                                                    : RS_REC_NO_MASK | RS_REC_KEEP_BELOW_CHANCE;
                if (rs_recommend(r0, &q, res, &e))
                    continue;
                const rs_rec_list *l = &res->lists[RS_REC_SYNONYMS];
                int hits = 0;
                for (int i = 0; i < l->n; i++) {
                    const rs_rec_row *w = &l->rows[i];
                    hits += group[w->index] == group[p];
                    if (mode == 0 && w->demoted) {
                        demoted++;
                        /* a complement: lift >= 2, and after every substitute */
                        bad_demoted += w->lift < 2.0 || (i + 1 < l->n && !l->rows[i + 1].demoted);
                    }
                }
                int denom = gsize[group[p]] - 1 < 5 ? gsize[group[p]] - 1 : 5;
                psum[mode] += (double)hits / denom;
            }
            nq++;
        }
        double prec = nq ? psum[0] / nq : 0;
        printf("synonyms: precision@5 vs planted groups = %.3f over %d products with >= 50 "
               "receipts (no mask); %.3f with the default mask; %.3f without demoting the "
               "complements (%d demoted rows in the lists)\n",
               prec, nq, nq ? psum[1] / nq : 0, nq ? psum[2] / nq : 0, demoted);
        CHECK(nq >= 100);
        CHECK(prec >= 0.9); /* issue 12: stays >= 0.9 */
        CHECK(demoted > 0);
        CHECK_EQ_INT(bad_demoted, 0);
        free(group);
        free(gsize);
    }

    /* 2. complements in planted complementary categories */
    comp = calloc((size_t)nc * nc, 1);
    {
        cJSON *pairs = cJSON_GetObjectItem(truth, "complementary_categories"), *pr;
        cJSON_ArrayForEach(pr, pairs)
        {
            int32_t a = cat_by_name(r0, cJSON_GetArrayItem(pr, 0)->valuestring);
            int32_t b = cat_by_name(r0, cJSON_GetArrayItem(pr, 1)->valuestring);
            CHECK(a >= 0 && b >= 0);
            if (a >= 0 && b >= 0)
                comp[(size_t)a * nc + b] = comp[(size_t)b * nc + a] = 1;
        }
        int64_t rows = 0, in = 0;
        int queries = 0;
        for (int32_t p = 0; p < np; p += 3) {
            if (pop[p] < 50)
                continue;
            rs_rec_query q;
            rs_rec_query_defaults(&q);
            q.products = &p;
            q.n_products = 1;
            q.kinds = RS_REC_BIT(RS_REC_COMPLEMENTS);
            if (rs_recommend(r0, &q, res, &e))
                continue;
            const rs_rec_list *l = &res->lists[RS_REC_COMPLEMENTS];
            rs_rec_product info;
            rs_rec_product_info(r0, p, &info, NULL);
            for (int i = 0; i < l->n; i++) {
                rows++;
                in += info.category_index >= 0 && l->rows[i].category_index >= 0 &&
                      comp[(size_t)info.category_index * nc + l->rows[i].category_index];
            }
            queries++;
        }
        double share = rows ? (double)in / (double)rows : 0;
        printf("complements: %.1f%% of %lld rows (%d queries, k=10, default mask) in planted "
               "complementary categories\n",
               100 * share, (long long)rows, queries);
        CHECK(rows > 1000);
        CHECK(share >= 0.70);
    }

    /* 3. city tastes and local products */
    {
        cJSON *cities = cJSON_GetObjectItem(truth, "cities");
        cJSON *tastes = cJSON_GetObjectItem(truth, "city_tastes");
        int ok_tastes = 0, n_tastes = 0;
        for (int x = 1; x <= 3; x++) {
            const char *cname = cJSON_GetArrayItem(cities, x - 1)->valuestring;
            CHECK_STR(rs_rec_city_name(rec[x]), cname);
            cJSON *t, *tx = cJSON_GetObjectItem(tastes, cname);
            cJSON_ArrayForEach(t, tx)
            {
                int32_t T = cat_by_name(r0, t->string);
                if (T < 0)
                    continue;
                double rate[4] = {0};
                for (int c = 1; c <= 3; c++) {
                    int64_t rows = 0, inT = 0;
                    for (int32_t p = 0; p < np; p += 2) {
                        if (pop[p] < 30)
                            continue;
                        rs_rec_query q;
                        rs_rec_query_defaults(&q);
                        q.products = &p;
                        q.n_products = 1;
                        q.kinds = RS_REC_BIT(RS_REC_COMPLEMENTS);
                        if (rs_recommend(rec[c], &q, res, &e))
                            continue;
                        const rs_rec_list *l = &res->lists[RS_REC_COMPLEMENTS];
                        for (int i = 0; i < l->n; i++) {
                            rows++;
                            inT += l->rows[i].category_index == T;
                        }
                    }
                    rate[c] = rows ? (double)inT / (double)rows : 0;
                }
                int ok = 1;
                for (int c = 1; c <= 3; c++)
                    if (c != x && !(rate[x] > rate[c]))
                        ok = 0;
                printf("city taste %s/%s (x%d): complement rows in it %.1f%% in %s vs %.1f%% "
                       "/ %.1f%% elsewhere%s\n",
                       cname, t->string, t->valueint, 100 * rate[x], cname,
                       100 * rate[x == 1 ? 2 : 1], 100 * rate[x == 3 ? 2 : 3],
                       ok ? "" : "  <-- NOT shown");
                ok_tastes += ok;
                n_tastes++;
            }
        }
        printf("city tastes shown in their own city only: %d of %d\n", ok_tastes, n_tastes);
        CHECK(n_tastes > 0);
        CHECK(ok_tastes * 10 >= n_tastes * 7); /* at least 70% of the planted tastes */

        /* local products: never in another city's lists (the mask drops unsold ones) */
        cJSON *locals = cJSON_GetObjectItem(truth, "local_products");
        int64_t leaks = 0, home_rows = 0;
        for (int x = 1; x <= 3; x++) {
            const char *cname = cJSON_GetArrayItem(cities, x - 1)->valuestring;
            uint8_t *local = calloc((size_t)np, 1);
            cJSON *m;
            cJSON_ArrayForEach(m, cJSON_GetObjectItem(locals, cname))
            {
                int32_t idx;
                if (rs_rec_find_ext(r0, m->valuestring, &idx, NULL) == RS_OK)
                    local[idx] = 1;
            }
            for (int c = 1; c <= 3; c++)
                for (int32_t p = 0; p < np; p += 7) {
                    rs_rec_query q;
                    rs_rec_query_defaults(&q);
                    q.products = &p;
                    q.n_products = 1;
                    if (rs_recommend(rec[c], &q, res, &e))
                        continue;
                    for (int k = 0; k < RS_REC_NKINDS; k++) {
                        if (k == RS_REC_CATEGORIES)
                            continue;
                        const rs_rec_list *l = &res->lists[k];
                        for (int i = 0; i < l->n; i++)
                            if (local[l->rows[i].index]) {
                                if (c == x)
                                    home_rows++;
                                else
                                    leaks++;
                            }
                    }
                }
            free(local);
        }
        printf("local products: %lld rows in their own city's lists, %lld in other cities'\n",
               (long long)home_rows, (long long)leaks);
        CHECK_EQ_INT(leaks, 0);
    }
done:
    free(comp);
    cJSON_Delete(truth);
    free(truth_text);
    rs_rec_result_free(res);
    for (int c = 0; c <= 3; c++)
        rs_recommender_close(rec[c]);
    rs_corpus_free(all);
    rs_corpus_free(cats);
    rs_store_close(s);
    return test_summary();
}
