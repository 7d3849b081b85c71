/* test_category_rank.c - the validated category ranking of the Categories pane (issue 12
 * item 2) on a planted synthetic world (1 city, 40 categories, 500 products, 15,000
 * receipts; the synth module, fixed seeds, one thread):
 *   - `train` of the two category kinds (category SGNS, category EASE with its built-in
 *     λ search) stores a category choice (meta "categories:0") with its validation
 *     metrics and the run it selected;
 *   - the recommender reads it back: the categories list is ranked by that scorer
 *     (the list names it), its rows are categories not in the query, with their
 *     external ids;
 *   - held out (rs_evaluate, DESIGN §4 on category baskets), the ranking beats
 *     category popularity;
 *   - on the planted structure: for the planted complementary pairs (A, B), B is in the
 *     top 5 the pane serves for A's most popular product more often than in the top 5
 *     of category popularity;
 *   - `recommend --batch` (RS_BIN) carries the same categories with id = the
 *     category's external id.
 * Figures are printed. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "completion.h"
#include "completion_choice.h"
#include "corpus.h"
#include "evaluate.h"
#include "import.h"
#include "kinds.h"
#include "recommend.h"
#include "sgns.h"
#include "store.h"
#include "synth.h"
#include "testlib.h"
#include "train.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
        b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        b[n] = 0;
    fclose(f);
    return b;
}

static int build(const char *wdir, const char *db, rs_store **out, rs_error *e)
{
    rs_synth_params sp;
    rs_synth_defaults(&sp, 0);
    sp.seed = 1;
    sp.cities = 1;
    sp.departments = 8;
    sp.categories = 40;
    sp.products = 500;
    sp.receipts = 15000;
    sp.assets_dir = RS_SOURCE_ROOT "/assets";
    int rc = rs_synth_write(&sp, wdir, e);
    if (rc || (rc = rs_store_open(db, RS_STORE_CREATE, out, e)))
        return rc;
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
    rc = rs_import_run(*out, &o, &rep, e);
    rs_import_report_free(&rep);
    rs_import_opts_free(&o);
    if (rc)
        return rc;
    rs_train_opts to;
    rs_train_opts_defaults(&to);
    to.kinds = 1u << rs_kind_index("category") | 1u << rs_kind_index("category-ease");
    rs_sgns_params *sg = rs_params_get(&to.base, &RS_SGNS_PARAMS);
    sg->threads = 1;
    sg->epochs = 10;
    sg->dim = 32;
    rs_params_set_seed(&to.base, 7);
    return rs_train(*out, &to, e);
}

/* The planted pairs: for A's most popular product, is B in the served top 5, and in
 * category popularity's top 5 (A left out)?  Counts both. */
static void planted(const rs_recommender *r, const cJSON *truth, const rs_corpus *all,
                    int *n_pairs, int *served, int *pop)
{
    int32_t nc = rs_rec_n_categories(r);
    const int64_t *ppop = rs_rec_popularity_counts(r);
    rs_rec_result *res = rs_rec_result_new();
    const cJSON *pr;
    *n_pairs = *served = *pop = 0;
    cJSON_ArrayForEach(pr, cJSON_GetObjectItemCaseSensitive(truth, "complementary_categories"))
    {
        const cJSON *a = cJSON_GetArrayItem(pr, 0), *b = cJSON_GetArrayItem(pr, 1);
        int32_t ca = -1, cb = -1, best = -1;
        for (int32_t c = 0; c < nc && cJSON_IsString(a) && cJSON_IsString(b); c++) {
            if (!strcmp(rs_rec_category_name(r, c), a->valuestring))
                ca = c;
            if (!strcmp(rs_rec_category_name(r, c), b->valuestring))
                cb = c;
        }
        for (int32_t p = 0; ca >= 0 && p < all->n_items; p++)
            if (all->item_category[p] == ca && (best < 0 || ppop[p] > ppop[best]))
                best = p;
        if (cb < 0 || best < 0 || !res)
            continue;
        rs_rec_query q;
        rs_rec_query_defaults(&q);
        q.products = &best;
        q.n_products = 1;
        q.kinds = RS_REC_BIT(RS_REC_CATEGORIES);
        q.k[RS_REC_CATEGORIES] = 5;
        rs_error e = {0};
        if (rs_recommend(r, &q, res, &e) != RS_OK)
            continue;
        const rs_rec_list *l = &res->lists[RS_REC_CATEGORIES];
        (*n_pairs)++;
        for (int i = 0; i < l->n; i++)
            *served += l->rows[i].index == cb;
        /* popularity: cb's rank among the categories other than ca */
        int64_t pb = rs_rec_category_popularity(r, cb, NULL, NULL);
        int above = 0;
        for (int32_t c = 0; c < nc; c++)
            if (c != ca && c != cb && rs_rec_category_popularity(r, c, NULL, NULL) > pb)
                above++;
        *pop += above < 5;
    }
    rs_rec_result_free(res);
}

/* `recommend --batch`: one line with the product's external id; the categories' ids
 * are those of the API's list, in order. */
static void batch_ids(const char *bin, const char *db, const char *dir, const char *ext,
                      const rs_rec_list *l)
{
    char in[1100], cmd[4096];
    snprintf(in, sizeof in, "%s/ctx.txt", dir);
    FILE *f = fopen(in, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fprintf(f, "%s\n", ext);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' recommend --batch '%s' --k %d", bin, db, in, l->n);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!p)
        return;
    static char line[1 << 16];
    size_t n = fread(line, 1, sizeof line - 1, p);
    line[n] = 0;
    CHECK_EQ_INT(pclose(p), 0);
    cJSON *o = cJSON_Parse(line);
    const cJSON *cats = cJSON_GetObjectItemCaseSensitive(o, "categories");
    CHECK(cJSON_IsArray(cats));
    CHECK_EQ_INT(cJSON_GetArraySize(cats), l->n);
    for (int i = 0; i < l->n && i < cJSON_GetArraySize(cats); i++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cats, i), "id");
        CHECK(cJSON_IsString(id) && !strcmp(id->valuestring, l->rows[i].ext_id));
    }
    cJSON_Delete(o);
}

int main(void)
{
    const char *dir = test_tmpdir();
    char wdir[1024], db[1024], tp[1100];
    snprintf(wdir, sizeof wdir, "%s/world", dir);
    snprintf(db, sizeof db, "%s/world.db", dir);
    snprintf(tp, sizeof tp, "%s/truth.json", wdir);
    rs_error e = {0};
    rs_store *s = NULL;
    rs_recommender *r = NULL;
    rs_completion *cr = NULL;
    rs_corpus *all = NULL;
    rs_eval_report *rep = NULL;
    rs_rec_result *res = rs_rec_result_new();
    char *text = NULL, *truth_text = NULL;
    cJSON *truth = NULL;
    int rc = build(wdir, db, &s, &e);
    if (rc)
        fprintf(stderr, "world: %s\n", e.msg);
    CHECK_EQ_INT(rc, RS_OK);
    if (rc || !res)
        goto done;

    /* 1. the choice is stored */
    rs_completion_choice ch;
    int found = 0;
    int64_t used = -1;
    CHECK_EQ_INT(rs_choice_load(s, RS_CHOICE_CATEGORIES, RS_BASKETS_CATEGORIES, 0, &ch, &found,
                                &used, &text, &e),
                 RS_OK);
    CHECK(found);
    CHECK_EQ_INT(used, 0);
    CHECK(ch.has_metrics && ch.metrics.hr > 0.0 && ch.run > 0);
    printf("choice: %s\n", text ? text : "");

    /* 2. the recommender reads it back */
    CHECK_EQ_INT(rs_completion_open_baskets(s, 0, RS_BASKETS_CATEGORIES, &cr, NULL, &e), RS_OK);
    rs_rec_options opt;
    rs_rec_options_defaults(&opt);
    opt.no_completion = 1;
    CHECK_EQ_INT(rs_recommender_open(s, 0, &opt, &r, &e), RS_OK);
    if (!cr || !r)
        goto done;
    if (rs_corpus_load(s, 0, &all, &e)) {
        CHECK(0);
        goto done;
    }
    int32_t p0 = 0;
    for (int32_t p = 0; p < all->n_items; p++)
        if (rs_rec_popularity_counts(r)[p] > rs_rec_popularity_counts(r)[p0])
            p0 = p;
    rs_rec_query q;
    rs_rec_query_defaults(&q);
    q.products = &p0;
    q.n_products = 1;
    q.kinds = RS_REC_BIT(RS_REC_CATEGORIES);
    CHECK_EQ_INT(rs_recommend(r, &q, res, &e), RS_OK);
    const rs_rec_list *l = &res->lists[RS_REC_CATEGORIES];
    CHECK_EQ_INT(l->status, RS_OK);
    CHECK(l->scorer && !strcmp(l->scorer, rs_completion_name(cr)));
    CHECK_EQ_INT(l->n, 10);
    for (int i = 0; i < l->n; i++) {
        CHECK(l->rows[i].index != all->item_category[p0]);
        CHECK(l->rows[i].ext_id && l->rows[i].ext_id[0]);
        CHECK(i == 0 || l->rows[i].score <= l->rows[i - 1].score);
    }
    printf("served by %s\n", l->scorer ? l->scorer : "?");
    rs_rec_product info;
    const char *bin = getenv("RS_BIN");
    if (bin && rs_rec_product_info(r, p0, &info, &e) == RS_OK)
        batch_ids(bin, db, dir, info.ext_id, l);
    else
        printf("RS_BIN unset: the batch check skipped\n");

    /* 3. held out: the ranking beats category popularity */
    rs_eval_opts eo;
    rs_eval_opts_defaults(&eo);
    CHECK_EQ_INT(rs_evaluate(s, &eo, &rep, &e), RS_OK);
    double hr_rank = -1, hr_pop = -1;
    for (int i = 0; rep && i < rep->n_rows; i++) {
        if (rep->rows[i].baskets != RS_BASKETS_CATEGORIES)
            continue;
        printf("held out: %-50s HR@10 %.4f\n", rep->rows[i].method, rep->rows[i].m.hr);
        if (!strncmp(rep->rows[i].method, "category ranking ", 17))
            hr_rank = rep->rows[i].m.hr;
        if (!strcmp(rep->rows[i].method, "category popularity"))
            hr_pop = rep->rows[i].m.hr;
    }
    CHECK(hr_pop > 0.0);
    CHECK(hr_rank > hr_pop);

    /* 4. the planted complementary categories */
    truth_text = slurp(tp);
    truth = truth_text ? cJSON_Parse(truth_text) : NULL;
    CHECK(truth != NULL);
    if (!truth)
        goto done;
    int n_pairs = 0, served = 0, pop = 0;
    planted(r, truth, all, &n_pairs, &served, &pop);
    printf("planted pairs: %d; partner in the served top 5: %d, in popularity's: %d\n", n_pairs,
           served, pop);
    CHECK(n_pairs >= 10);
    CHECK(served > pop);
done:
    cJSON_Delete(truth);
    free(truth_text);
    free(text);
    free(rep);
    rs_rec_result_free(res);
    rs_corpus_free(all);
    rs_completion_close(cr);
    rs_recommender_close(r);
    rs_store_close(s);
    return test_summary();
}
