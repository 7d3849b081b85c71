/* test_personal_world.c - personal recommendations recover the customers planted in
 * the synthetic world (issue 14): their staples come back through buy-again, their
 * favourite categories through the collaborative methods, and every personal method
 * beats the city's popularity on the time split. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "custeval.h"
#include "ease.h"
#include "history.h"
#include "import.h"
#include "personal.h"
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

static int import_world(rs_store *s, const char *wdir)
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
    rs_error e = {0};
    int rc = rs_import_run(s, &o, &rep, &e);
    if (rc)
        fprintf(stderr, "import: %s\n", e.msg);
    rs_import_report_free(&rep);
    rs_import_opts_free(&o);
    return rc;
}

/* ext id -> product index (products.id - 1) through the corpus of the store */
static int32_t product_index(rs_store *s, const char *ext)
{
    sqlite3_stmt *st = NULL;
    int32_t idx = -1;
    if (sqlite3_prepare_v2(rs_store_db(s), "SELECT id FROM products WHERE ext_id = ?1", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, ext, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            idx = (int32_t)sqlite3_column_int64(st, 0) - 1;
    }
    sqlite3_finalize(st);
    return idx;
}

/* Staples: for customers with >= 6 receipts, buy-again's top 5 over their whole
 * history holds one of their staples. */
static void check_staples(rs_store *s, const cJSON *customers)
{
    rs_error e = {0};
    rs_corpus *c = NULL;
    rs_histories *h = NULL;
    rs_personal *p = NULL;
    float *sc = NULL;
    if (rs_corpus_load(s, 0, &c, &e) || rs_histories_load(s, c, &h, &e)) {
        CHECK(0);
        goto done;
    }
    rs_personal_parts parts;
    rs_personal_parts_defaults(&parts);
    parts.n_items = c->n_items;
    sc = malloc((size_t)c->n_items * sizeof *sc);
    if (!sc || rs_personal_new(&parts, &p, &e)) {
        CHECK(0);
        goto done;
    }
    int tested = 0, found = 0;
    const cJSON *cu;
    cJSON_ArrayForEach(cu, customers)
    {
        if (cJSON_GetObjectItem(cu, "receipts")->valuedouble < 6)
            continue;
        const char *id = cJSON_GetObjectItem(cu, "id")->valuestring;
        int32_t k = -1;
        for (int32_t i = 0; i < h->n_customers; i++)
            if (strcmp(h->ext_id[i], id) == 0)
                k = i;
        CHECK(k >= 0);
        if (k < 0)
            continue;
        int64_t n = h->off[k + 1] - h->off[k];
        int64_t now = c->ts[h->rec[h->off[k + 1] - 1]];
        rs_personal_set_history(p, c, h->rec + h->off[k], n, now);
        rs_personal_score(p, RS_PERS_BUYAGAIN, sc);
        int32_t top[5];
        for (int t = 0; t < 5; t++) {
            top[t] = -1;
            for (int32_t i = 0; i < c->n_items; i++) {
                int taken = 0;
                for (int u = 0; u < t; u++)
                    taken |= top[u] == i;
                if (!taken && sc[i] > -INFINITY && (top[t] < 0 || sc[i] > sc[top[t]]))
                    top[t] = i;
            }
        }
        int hit = 0;
        const cJSON *st;
        cJSON_ArrayForEach(st, cJSON_GetObjectItem(cu, "staples"))
        {
            int32_t x = product_index(s, cJSON_GetObjectItem(st, "product")->valuestring);
            for (int t = 0; t < 5; t++)
                hit |= x >= 0 && top[t] == x;
        }
        tested++;
        found += hit;
    }
    printf("staples: %d of %d customers with >= 6 receipts have one in buy-again's top 5\n",
           found, tested);
    CHECK(tested >= 50);
    CHECK(found >= tested * 9 / 10);
done:
    free(sc);
    rs_personal_free(p);
    rs_histories_free(h);
    rs_corpus_free(c);
}

/* Tastes: for customers with >= 6 receipts, the products EASE (fitted on customer
 * rows) offers that they never bought lie in their favourite categories far more
 * often than popularity's do. */
static void check_tastes(rs_store *s, const cJSON *customers)
{
    rs_error e = {0};
    rs_corpus *c = NULL, *cc = NULL;
    rs_histories *h = NULL;
    rs_embedding *B = NULL;
    rs_personal *p = NULL;
    float *sc = NULL, *pop = NULL;
    int64_t *cnt = NULL;
    if (rs_corpus_load(s, 0, &c, &e) || rs_histories_load(s, c, &h, &e) ||
        rs_histories_customer_corpus(h, NULL, &cc, &e) || rs_ease_fit(cc, 100.0, 0, &B, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        CHECK(0);
        goto done;
    }
    rs_personal_parts parts;
    rs_personal_parts_defaults(&parts);
    parts.n_items = c->n_items;
    parts.ease = B;
    sc = malloc((size_t)c->n_items * sizeof *sc);
    pop = malloc((size_t)c->n_items * sizeof *pop);
    cnt = calloc((size_t)c->n_items, sizeof *cnt);
    if (!sc || !pop || !cnt || rs_personal_new(&parts, &p, &e)) {
        CHECK(0);
        goto done;
    }
    rs_corpus_item_counts(c, cnt);
    for (int32_t i = 0; i < c->n_items; i++)
        pop[i] = (float)cnt[i];
    long in_ease = 0, in_pop = 0, shown = 0;
    const cJSON *cu;
    cJSON_ArrayForEach(cu, customers)
    {
        if (cJSON_GetObjectItem(cu, "receipts")->valuedouble < 6)
            continue;
        const char *id = cJSON_GetObjectItem(cu, "id")->valuestring;
        int32_t k = -1;
        for (int32_t i = 0; i < h->n_customers; i++)
            if (strcmp(h->ext_id[i], id) == 0)
                k = i;
        if (k < 0)
            continue;
        rs_personal_set_history(p, c, h->rec + h->off[k], h->off[k + 1] - h->off[k], 0);
        rs_personal_score(p, RS_PERS_EASE, sc);
        const int32_t *hist;
        int32_t nh = rs_personal_history(p, &hist, NULL, NULL);
        for (int which = 0; which < 2; which++) {
            const float *v = which ? pop : sc;
            int32_t top[10];
            int nt = 0;
            for (int t = 0; t < 10; t++) {
                int32_t best = -1;
                for (int32_t i = 0; i < c->n_items; i++) {
                    int skip = !(v[i] > -INFINITY);
                    for (int32_t u = 0; !skip && u < nh; u++)
                        skip = hist[u] == i;
                    for (int u = 0; !skip && u < nt; u++)
                        skip = top[u] == i;
                    if (!skip && (best < 0 || v[i] > v[best]))
                        best = i;
                }
                if (best >= 0)
                    top[nt++] = best;
            }
            for (int t = 0; t < nt; t++) {
                const char *cat = NULL;
                sqlite3_stmt *st = NULL;
                if (sqlite3_prepare_v2(rs_store_db(s),
                                       "SELECT c.name FROM products p JOIN categories c"
                                       " ON c.id = p.category_id WHERE p.id = ?1",
                                       -1, &st, NULL) == SQLITE_OK) {
                    sqlite3_bind_int64(st, 1, top[t] + 1);
                    if (sqlite3_step(st) == SQLITE_ROW)
                        cat = (const char *)sqlite3_column_text(st, 0);
                }
                int hit = 0;
                const cJSON *tc;
                cJSON_ArrayForEach(tc, cJSON_GetObjectItem(cu, "tastes"))
                    hit |= cat && strcmp(cat, tc->valuestring) == 0;
                sqlite3_finalize(st);
                if (which)
                    in_pop += hit;
                else
                    in_ease += hit;
                shown += which == 0;
            }
        }
    }
    printf("tastes: %ld of %ld EASE offers in the customer's favourite categories, "
           "popularity %ld\n", in_ease, shown, in_pop);
    CHECK(shown > 1000);
    CHECK(in_ease * 10 > in_pop * 14); /* measured 1.58x at this seed */
done:
    free(sc);
    free(pop);
    free(cnt);
    rs_personal_free(p);
    rs_embedding_free(B);
    rs_corpus_free(cc);
    rs_histories_free(h);
    rs_corpus_free(c);
}

int main(void)
{
    const char *dir = test_tmpdir();
    char wdir[600], db[600], tpath[700];
    snprintf(wdir, sizeof wdir, "%s/w", dir);
    snprintf(db, sizeof db, "%s/w.db", dir);
    snprintf(tpath, sizeof tpath, "%s/truth.json", wdir);
    rs_synth_params sp;
    rs_synth_defaults(&sp, 0);
    sp.seed = 3;
    sp.cities = 1;
    sp.departments = 6;
    sp.categories = 40;
    sp.products = 800;
    sp.receipts = 8000;
    rs_error e = {0};
    rs_store *s = NULL;
    char *tbuf = NULL;
    cJSON *truth = NULL;
    if (rs_synth_write(&sp, wdir, &e)) {
        fprintf(stderr, "synth: %s\n", e.msg);
        CHECK(0);
        goto done;
    }
    CHECK_EQ_INT(rs_store_open(db, RS_STORE_CREATE, &s, &e), RS_OK);
    if (!s || import_world(s, wdir)) {
        CHECK(0);
        goto done;
    }
    tbuf = slurp(tpath);
    truth = tbuf ? cJSON_Parse(tbuf) : NULL;
    const cJSON *customers = truth ? cJSON_GetObjectItem(truth, "customers") : NULL;
    CHECK(cJSON_IsArray(customers) && cJSON_GetArraySize(customers) > 100);
    if (!cJSON_IsArray(customers))
        goto done;
    check_staples(s, customers);
    check_tastes(s, customers);

    /* the time split: every personal method beats popularity on precision@10, and
     * buy-again by a wide margin (the planted repeat habits) */
    rs_custeval_opts o;
    rs_custeval_defaults(&o);
    o.holdout_days = 14;
    o.threads = 2;
    o.methods &= ~(1u << RS_PERS_RANKED); /* the ranked row: test_custrank */
    rs_custeval_result r;
    CHECK_EQ_INT(rs_custeval_run(s, 0, &o, &r, &e), RS_OK);
    double pop = -1, ba = -1;
    for (int i = 0; i < r.n_rows; i++) {
        printf("%-10s p@10 %.4f r@10 %.4f auc %.4f\n", rs_pers_method_name(r.rows[i].method),
               r.rows[i].precision_k, r.rows[i].recall_k, r.rows[i].auc);
        if (r.rows[i].method == RS_PERS_POPULARITY)
            pop = r.rows[i].precision_k;
        if (r.rows[i].method == RS_PERS_BUYAGAIN)
            ba = r.rows[i].precision_k;
    }
    double ease = -1;
    for (int i = 0; i < r.n_rows; i++)
        if (r.rows[i].method == RS_PERS_EASE)
            ease = r.rows[i].precision_k;
    CHECK(pop > 0 && ba > 1.4 * pop);
    CHECK(ease > 1.1 * pop);
    CHECK(r.cand_recall[2] > r.cand_recall[0]);
done:
    cJSON_Delete(truth);
    free(tbuf);
    rs_store_close(s);
    return test_summary();
}
