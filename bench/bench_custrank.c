/* bench_custrank.c - personal recommendations of one city on a time split, every
 * first-level method and the ranked second level (core/custeval.h, core/custrank.h).
 *
 *   bench_custrank DB [--city NAME] (--days N | --orders K) [--threads T]
 *                     [--candidates N] [--windows W] [--seed S]
 *
 * Prints one row per method: customers, precision@5, precision@10, recall@10, MAP@10,
 * NDCG@10, AUC, fit seconds; then the candidate recall of the first level's union and
 * the methods that could not be fitted.  The figures go to docs/BENCHMARKS.md
 * ("Personal recommendations: the ranked second level").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "custeval.h"
#include "personal.h"
#include "store.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_custrank DB [--city NAME] (--days N | --orders K) "
                        "[--threads T] [--candidates N] [--windows W] [--seed S]\n");
        return 1;
    }
    const char *city = NULL;
    rs_custeval_opts o;
    rs_custeval_defaults(&o);
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--city") == 0)
            city = v;
        else if (strcmp(k, "--days") == 0)
            o.holdout_days = atoi(v);
        else if (strcmp(k, "--orders") == 0)
            o.holdout_orders = atoi(v);
        else if (strcmp(k, "--threads") == 0)
            o.threads = atoi(v);
        else if (strcmp(k, "--candidates") == 0)
            o.rank_candidates = atoi(v);
        else if (strcmp(k, "--windows") == 0)
            o.rank_windows = atoi(v);
        else if (strcmp(k, "--seed") == 0)
            o.seed = strtoull(v, NULL, 10);
        else {
            fprintf(stderr, "bench_custrank: unknown option %s\n", k);
            return 1;
        }
    }
    if ((o.holdout_days > 0) == (o.holdout_orders > 0)) {
        fprintf(stderr, "bench_custrank: one of --days and --orders\n");
        return 1;
    }
    rs_store *s = NULL;
    rs_error e = {0};
    int64_t city_id = 0;
    rs_custeval_result r;
    int rc = rs_store_open(argv[1], RS_STORE_READONLY, &s, &e);
    if (rc == RS_OK)
        rc = rs_store_city_id(s, city, &city_id, &e);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (rc == RS_OK)
        rc = rs_custeval_run(s, city_id, &o, &r, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc) {
        fprintf(stderr, "bench_custrank: %s\n", e.msg);
        rs_store_close(s);
        return rc;
    }
    printf("city %s, %s %d, %lld customers, %lld training / %lld held-out receipts, "
           "%.1f s\n",
           city ? city : "all", o.holdout_days ? "last days" : "last orders",
           o.holdout_days ? o.holdout_days : o.holdout_orders, (long long)r.customers,
           (long long)r.train_receipts, (long long)r.test_receipts,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
    printf("| method | customers | p@5 | p@%d | recall@%d | MAP@%d | NDCG@%d | AUC | fit s |\n",
           r.k, r.k, r.k, r.k);
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < r.n_rows; i++) {
        const rs_custeval_row *x = &r.rows[i];
        printf("| %s | %lld | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.1f |\n",
               rs_pers_method_name(x->method), (long long)x->customers, x->precision5,
               x->precision_k, x->recall_k, x->map_k, x->ndcg_k, x->auc, x->fit_seconds);
    }
    printf("candidate recall:");
    for (int c = 0; c < RS_CUSTEVAL_NCAND; c++)
        printf(" @%d %.4f", r.cand_n[c], r.cand_recall[c]);
    printf("\n");
    if (r.ranker[0])
        printf("ranker: %s\n", r.ranker);
    if (r.skipped[0])
        printf("skipped: %s\n", r.skipped);
    rs_store_close(s);
    return 0;
}
