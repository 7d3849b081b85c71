/* cmd_eval.c - `recoscope eval`: the held-out figures of DESIGN §4.
 *
 * Never scores a model on receipts it was trained on: every model is refitted here on
 * the training part (FNV-1a-64 % 5 != 0, or everything before the last --holdout-days)
 * with the parameters of the city's active model of that kind (defaults when there is
 * none), and scored on the held-out part.  Rows go into the evaluations table.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/completion.h"
#include "../core/completion_choice.h"
#include "../core/corpus.h"
#include "../core/als.h"
#include "../core/ease.h"
#include "../core/eval.h"
#include "../core/grid.h"
#include "../core/knn.h"
#include "../core/model.h"
#include "../core/store.h"
#include "cli.h"

static const char USAGE[] =
    "usage: recoscope eval [--city C] [--json] [--k K] [--holdout-days N] [--ease-cap N]\n"
    "\n"
    "Scores basket completion on the held-out receipts (FNV-1a-64 of the receipt id\n"
    "% 5 == 0, or with --holdout-days the last N days): for each held-out receipt, each\n"
    "of its products known to the training part in turn is the target, the others the\n"
    "context.  Every method is fitted here on the training part only, with the\n"
    "parameters of the active model of its kind: popularity, item-item cosine, SGNS\n"
    "in.out (product model), ALS, EASE (at most --ease-cap items, default 20000) and the\n"
    "active completion choice of `train`.  Also: synonym category purity and\n"
    "co-purchase rate (product model, input cosine) and the category model on category\n"
    "baskets.  Results are printed and stored in the evaluations table.\n"
    "\n"
    "  --city C          city name (default: all cities)\n"
    "  --json            one JSON object on stdout instead of the table\n"
    "  --k K             list length (default 10)\n"
    "  --holdout-days N  time split instead of the hash split\n";

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}


/* params JSON of the active model of (city, kind), with fallback to all cities;
 * NULL (and RS_OK) when there is none. */
static int active_params(rs_store *s, int64_t city, const char *kind, char **out,
                         rs_error *e)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "SELECT params FROM models WHERE active AND kind = ?1 AND"
                           " split = 'all' AND city_id IN (?2, 0)"
                           " ORDER BY city_id = ?2 DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading active parameters");
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, city);
    int rc = RS_OK;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        *out = strdup((const char *)sqlite3_column_text(st, 0));
        if (!*out)
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    sqlite3_finalize(st);
    return rc;
}

typedef struct row {
    char method[96];
    char params[512];
    rs_rank_metrics m;
    double fit_s;
    int have;
} row;

static int insert_eval(rs_store *s, int64_t city, const char *method, const char *split,
                       const char *metrics, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rs_store_db(s),
                           "INSERT INTO evaluations(city_id, method, split, metrics, created_at)"
                           " VALUES (?,?,?,?, strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                           -1, &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "recording an evaluation");
    sqlite3_bind_int64(st, 1, city);
    sqlite3_bind_text(st, 2, method, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, split, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, metrics, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? RS_OK
                                             : rs_store_sqlerr(s, e, "recording an evaluation");
    sqlite3_finalize(st);
    return rc;
}

/* metrics JSON of a row plus fit seconds and params (malloc-ed). */
static char *row_json(const row *r)
{
    char *mj = rs_rank_metrics_json(&r->m), *out = NULL;
    if (!mj)
        return NULL;
    /* splice: {...metrics..., "fit_seconds":x, "params":{...}} */
    size_t n = strlen(mj);
    mj[n - 1] = 0;
    if (asprintf(&out, "%s,\"fit_seconds\":%.3f,\"params\":%s}", mj, r->fit_s,
                 r->params[0] ? r->params : "{}") < 0)
        out = NULL;
    free(mj);
    return out;
}

int cmd_eval(rs_cli *cli, int argc, char **argv)
{
    const char *city_name = NULL;
    int json = 0, k = 10, holdout_days = 0;
    int32_t ease_cap = RS_EASE_MAX_ITEMS;
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end;
        if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--city") && i + 1 < argc) {
            city_name = argv[++i];
        } else if (!strcmp(a, "--k") && i + 1 < argc) {
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 1000)
                return cli_usage_error("eval", "--k needs 1..1000 (got '%s')", argv[i]);
            k = (int)v;
        } else if (!strcmp(a, "--holdout-days") && i + 1 < argc) {
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 100000)
                return cli_usage_error("eval", "--holdout-days needs a positive number of "
                                               "days (got '%s')", argv[i]);
            holdout_days = (int)v;
        } else if (!strcmp(a, "--ease-cap") && i + 1 < argc) {
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 200000)
                return cli_usage_error("eval", "--ease-cap needs 1..200000 (got '%s')",
                                       argv[i]);
            ease_cap = (int32_t)v;
        } else {
            return cli_usage_error("eval", "unknown or incomplete option '%s'", a);
        }
    }

    rs_error e = {0};
    rs_store *s = NULL;
    rs_corpus *all = NULL, *train = NULL, *test = NULL, *ctrain = NULL, *ctest = NULL;
    rs_eval_queries *q = NULL, *cq = NULL;
    rs_knn *knn = NULL;
    rs_embedding *sgns = NULL, *als = NULL, *ease = NULL, *cat = NULL;
    rs_completion *comp = NULL;
    int64_t *pop = NULL;
    char *pj[4] = {0};
    row rows[8];
    row crow[2];
    rs_synonym_metrics syn = {0};
    int have_syn = 0;
    int64_t city = 0;
    char split[48];
    int rc = RS_OK;
    memset(rows, 0, sizeof rows);
    memset(crow, 0, sizeof crow);
    if (holdout_days > 0)
        snprintf(split, sizeof split, "last-%d-days", holdout_days);
    else
        snprintf(split, sizeof split, "hash-test");

    if ((rc = rs_store_open(cli->db_path, 0, &s, &e)))
        goto fail;
    if ((rc = rs_store_city_id(s, city_name, &city, &e)))
        goto fail;
    if ((rc = rs_corpus_load(s, city, &all, &e)) ||
        (rc = rs_eval_split(all, holdout_days, RS_SPLIT_TRAIN, &train, &e)) ||
        (rc = rs_eval_split(all, holdout_days, RS_SPLIT_TEST, &test, &e)) ||
        (rc = rs_eval_queries_build(train, test, &q, &e)) ||
        (rc = rs_knn_build(train, &knn, &e)))
        goto fail;
    if (q->n_queries == 0) {
        rc = rs_seterr(&e, RS_EDATA,
                       "city %" PRId64 ": no held-out receipt has two products known to the "
                       "training part (%" PRId64 " training, %" PRId64 " held out)",
                       city, train->n_receipts, test->n_receipts);
        goto fail;
    }
    const char *kinds[4] = {"product", "category", "als", "ease"};
    rs_train_params p[4];
    for (int i = 0; i < 4; i++) {
        rs_train_params_defaults(&p[i]);
        if ((rc = active_params(s, city, kinds[i], &pj[i], &e)))
            goto fail;
        rs_params_apply_json(&p[i], pj[i]);
    }
    int tty = isatty(2);
    if (tty)
        fprintf(stderr, "eval: %" PRId64 " training receipts, %" PRId64 " held out, %" PRId64
                        " queries\n", train->n_receipts, test->n_receipts, q->n_queries);
    /* baselines */
    int nr = 0;
    const char *base[2] = {"popularity", "itemitem"};
    for (int i = 0; i < 2; i++) {
        row *r = &rows[nr++];
        snprintf(r->method, sizeof r->method, "%s", base[i]);
        double t0 = now_s();
        rs_knn *kb = NULL;
        if (i == 1 && (rc = rs_knn_build(train, &kb, &e)))
            goto fail;
        r->fit_s = i == 1 ? now_s() - t0 : 0.0;
        rs_knn_free(kb);
        if ((rc = rs_eval_baseline(train, q, i ? RS_COMP_ITEMITEM : RS_COMP_POPULARITY, knn, k,
                                   &r->m, &e)))
            goto fail;
        r->have = 1;
    }
    /* models: product (sgns), als, ease */
    rs_embedding **dst[4] = {&sgns, NULL, &als, &ease};
    const char *label[4] = {"sgns in.out", NULL, "als", "ease"};
    for (int i = 0; i < 4; i++) {
        if (!dst[i])
            continue;
        row *r = &rows[nr++];
        const rs_kind *kd = rs_kind_find(kinds[i]);
        char *ps = rs_params_json(&p[i], kd->params);
        snprintf(r->method, sizeof r->method, "%s", label[i]);
        snprintf(r->params, sizeof r->params, "%s", ps ? ps : "{}");
        free(ps);
        if (tty)
            fprintf(stderr, "eval: fitting %s on the training part...\n", label[i]);
        double t0 = now_s();
        rs_error fe = {0};
        rs_fit_opts fo = {ease_cap, NULL, NULL};
        int frc = rs_kind_fit(kd, train, &p[i], &fo, dst[i], &fe);
        r->fit_s = now_s() - t0;
        if (frc) {
            fprintf(stderr, "recoscope eval: %s: %s (not evaluated)\n", label[i], fe.msg);
            if (frc != RS_EUSAGE) {
                rc = frc;
                e = fe;
                goto fail;
            }
            continue;
        }
        if ((rc = rs_eval_kind(train, q, kd, *dst[i], &p[i], k, &r->m, &e)))
            goto fail;
        r->have = 1;
    }
    /* the active completion choice, rebuilt from the copies above */
    {
        rs_completion_choice ch;
        int found = 0;
        rs_error le = {0};
        int lrc = rs_choice_load(s, RS_CHOICE_COMPLETION, RS_BASKETS_PRODUCTS, city, &ch,
                                 &found, NULL, NULL, &le);
        if (lrc == RS_EINTERNAL) {
            rc = lrc;
            e = le;
            goto fail;
        }
        if (lrc)
            fprintf(stderr, "recoscope eval: the active completion choice cannot be "
                            "rebuilt (%s)\n", le.msg);
        if (found) {
            rs_completion_parts parts;
            memset(&parts, 0, sizeof parts);
            pop = calloc((size_t)train->n_items + 1, sizeof *pop);
            if (!pop) {
                rc = rs_seterr(&e, RS_EINTERNAL, "out of memory");
                goto fail;
            }
            rs_corpus_item_counts(train, pop);
            parts.n_items = train->n_items;
            parts.pop_counts = pop;
            parts.knn = knn;
            parts.sgns = sgns;
            parts.als = als;
            parts.ease = ease;
            const rs_als_params *ap = rs_params_cget(&p[2], &RS_ALS_PARAMS);
            parts.als_lambda = (float)ap->lambda;
            parts.als_alpha = (float)ap->alpha;
            memcpy(parts.weights, ch.weights, sizeof parts.weights);
            rs_error ce = {0};
            if (rs_completion_from_parts(&parts, &comp, &ce)) {
                fprintf(stderr, "recoscope eval: the active completion choice cannot be "
                                "rebuilt (%s)\n", ce.msg);
            } else {
                row *r = &rows[nr++];
                snprintf(r->method, sizeof r->method, "completion %s", rs_completion_name(comp));
                snprintf(r->params, sizeof r->params, "%s", "{}");
                if ((rc = rs_eval_completion(comp, q, train, k, NULL, NULL, &r->m, &e)))
                    goto fail;
                r->have = 1;
                /* rows 0..4 are popularity, itemitem, sgns, als, ease */
                const int row_of[RS_COMP_N] = {0, 1, 2, 3, 4};
                double fs = 0.0;
                for (int m = 0; m < RS_COMP_N; m++)
                    if (parts.weights[m] != 0.0)
                        fs += rows[row_of[m]].fit_s;
                r->fit_s = fs;
            }
        }
    }
    /* synonyms of the product model */
    if (sgns) {
        if ((rc = rs_eval_synonyms(sgns, train, knn, k, 20, 2000, &syn, &e)))
            goto fail;
        have_syn = 1;
    }
    /* the category model on category baskets, beside category popularity */
    if ((rc = rs_corpus_categories(train, &ctrain, &e)) ||
        (rc = rs_corpus_categories(test, &ctest, &e)) ||
        (rc = rs_eval_queries_build(ctrain, ctest, &cq, &e)))
        goto fail;
    if (cq->n_queries > 0) {
        snprintf(crow[0].method, sizeof crow[0].method, "category popularity");
        if ((rc = rs_eval_baseline(ctrain, cq, RS_COMP_POPULARITY, NULL, k, &crow[0].m, &e)))
            goto fail;
        crow[0].have = 1;
        char *ps = rs_params_json(&p[1], &RS_SGNS_PARAMS);
        snprintf(crow[1].method, sizeof crow[1].method, "category sgns in.out");
        snprintf(crow[1].params, sizeof crow[1].params, "%s", ps ? ps : "{}");
        free(ps);
        double t0 = now_s();
        if ((rc = rs_kind_fit(rs_kind_find("category"), ctrain, &p[1], NULL, &cat, &e)))
            goto fail;
        crow[1].fit_s = now_s() - t0;
        if ((rc = rs_eval_kind(ctrain, cq, rs_kind_find("category"), cat, &p[1], k, &crow[1].m,
                               &e)))
            goto fail;
        crow[1].have = 1;
    }

    /* store */
    for (int i = 0; i < nr + 2; i++) {
        const row *r = i < nr ? &rows[i] : &crow[i - nr];
        if (!r->have)
            continue;
        char *mj = row_json(r);
        if (!mj) {
            rc = rs_seterr(&e, RS_EINTERNAL, "out of memory");
            goto fail;
        }
        rc = insert_eval(s, city, r->method, split, mj, &e);
        free(mj);
        if (rc)
            goto fail;
    }
    if (have_syn) {
        char mj[256];
        snprintf(mj, sizeof mj,
                 "{\"k\":%d,\"items\":%" PRId64 ",\"category_purity@%d\":%.6f,"
                 "\"copurchase_rate\":%.6f}",
                 k, syn.n_items, k, syn.purity, syn.copurchase);
        if ((rc = insert_eval(s, city, "synonyms sgns in.in", split, mj, &e)))
            goto fail;
    }

    /* print */
    if (json) {
        printf("{\"city\":%" PRId64 ",\"split\":\"%s\",\"k\":%d,\"train_receipts\":%" PRId64
               ",\"test_receipts\":%" PRId64 ",\"queries\":%" PRId64 ",\"methods\":[",
               city, split, k, train->n_receipts, test->n_receipts, q->n_queries);
        int first = 1;
        for (int i = 0; i < nr; i++) {
            if (!rows[i].have)
                continue;
            char *mj = row_json(&rows[i]);
            printf("%s{\"method\":\"%s\",\"metrics\":%s}", first ? "" : ",", rows[i].method,
                   mj ? mj : "null");
            free(mj);
            first = 0;
        }
        printf("],\"synonyms\":");
        if (have_syn)
            printf("{\"items\":%" PRId64 ",\"category_purity\":%.6f,\"copurchase_rate\":%.6f}",
                   syn.n_items, syn.purity, syn.copurchase);
        else
            printf("null");
        printf(",\"category\":{\"queries\":%" PRId64 ",\"methods\":[", cq->n_queries);
        first = 1;
        for (int i = 0; i < 2; i++) {
            if (!crow[i].have)
                continue;
            char *mj = row_json(&crow[i]);
            printf("%s{\"method\":\"%s\",\"metrics\":%s}", first ? "" : ",", crow[i].method,
                   mj ? mj : "null");
            free(mj);
            first = 0;
        }
        printf("]}}\n");
    } else {
        printf("city %" PRId64 ", split %s: %" PRId64 " training receipts, %" PRId64
               " held out, %" PRId64 " queries (k = %d)\n\n",
               city, split, train->n_receipts, test->n_receipts, q->n_queries, k);
        printf("%-44s %7s %7s %7s %7s %7s %7s %7s %7s\n", "method", "HR", "NDCG", "MRR", "P",
               "R", "cover", "novelty", "fit s");
        for (int i = 0; i < nr + 2; i++) {
            const row *r = i < nr ? &rows[i] : &crow[i - nr];
            if (i == nr)
                printf("\ncategory model on category baskets (%" PRId64 " queries):\n",
                       cq->n_queries);
            if (!r->have)
                continue;
            printf("%-44.44s %7.4f %7.4f %7.4f %7.4f %7.4f %7.4f %7.2f %7.1f\n", r->method,
                   r->m.hr, r->m.ndcg, r->m.mrr, r->m.precision, r->m.recall, r->m.coverage,
                   r->m.novelty, r->fit_s);
        }
        if (have_syn)
            printf("\nsynonyms (product model, input cosine, %" PRId64 " items with >= 20 "
                   "training receipts): category purity@%d %.4f, co-purchase rate %.4f\n",
                   syn.n_items, k, syn.purity, syn.copurchase);
    }
fail:
    rs_completion_close(comp);
    free(pop);
    for (int i = 0; i < 4; i++)
        free(pj[i]);
    rs_embedding_free(sgns);
    rs_embedding_free(als);
    rs_embedding_free(ease);
    rs_embedding_free(cat);
    rs_knn_free(knn);
    rs_eval_queries_free(q);
    rs_eval_queries_free(cq);
    rs_corpus_free(all);
    rs_corpus_free(train);
    rs_corpus_free(test);
    rs_corpus_free(ctrain);
    rs_corpus_free(ctest);
    rs_store_close(s);
    return rc ? cli_fail(&e) : 0;
}
