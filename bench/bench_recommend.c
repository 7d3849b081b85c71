/* bench_recommend.c - latency and throughput of the recommenders, in process.
 *
 *   bench_recommend DB [--city C] [-n N] [--threads T] [-k K] [--contexts N]
 *                      [--train EPOCHS] [--open RUNS]
 *
 * 0. with --train: when the city (or all cities) has no active product / category
 *    model, fits one with the SGNS trainer (dim 64, EPOCHS epochs, 2 threads, no
 *    validation: only the shapes matter for timing) and registers it, so a fresh
 *    large world can be timed without `recoscope train`'s grid search;
 * 1. latency: N single-product queries (products with receipts in the city, picked
 *    with a fixed seed), all three kinds (synonyms, categories, complements with
 *    co-purchase counts), k = K; prints p50 / p90 / p99 / max in milliseconds;
 * 2. batch throughput: contexts of 1..5 products (fixed seed), three kinds, then all
 *    four kinds (with completion) one rs_recommend() per context, then all four kinds
 *    in runs of 64 contexts through rs_recommend_many() as `recommend --batch` does
 *    (the completion of a run scored as one block, with the fused top-k when the
 *    active completion is sgns alone), run by T threads each with its own results;
 *    prints contexts per second and CPU per context.
 * With --open RUNS: only times RUNS opens of the recommender with the TUI's options
 * (no completion scorer, no co-purchase index) and prints their median.
 * The numbers go to docs/BENCHMARKS.md ("Recommend latency").
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corpus.h"
#include "lapack.h"
#include "model.h"
#include "publish.h"
#include "recommend.h"
#include "sgns.h"
#include "store.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Fits and registers the kind's model for city when it has none of its own. */
static int train_missing(rs_store *s, int64_t city, const char *kind, int epochs, rs_error *e)
{
    rs_model_info info;
    rs_error ignore = {0};
    if (rs_registry_active(s, city, kind, "all", &info, &ignore) == RS_OK)
        return RS_OK;
    rs_corpus *c = NULL, *cc = NULL;
    rs_embedding *m = NULL;
    int rc = rs_corpus_load(s, city, &c, e);
    if (!rc && strcmp(kind, RS_KIND_CATEGORY) == 0)
        rc = rs_corpus_categories(c, &cc, e);
    rs_sgns_params p;
    rs_sgns_defaults(&p);
    p.epochs = epochs;
    p.threads = 2;
    double t0 = now();
    if (!rc)
        rc = rs_sgns_train(cc ? cc : c, &p, NULL, NULL, &m, e);
    if (rc)
        goto done;
    char path[4096];
    snprintf(path, sizeof path, "%s/bench-%s-c%lld.rsm", rs_store_models_dir(s), kind,
             (long long)city);
    rs_publish pub = {.city_id = city, .kind = kind, .params_json = "{\"bench\":true}",
                      .metrics_json = "{}", .fingerprint = "bench", .seconds = now() - t0,
                      .activate = 1, .path = path};
    if ((rc = rs_store_ensure_models_dir(s, e)) ||
        (rc = rs_model_publish(s, m, &pub, NULL, NULL, 0, e)))
        goto done;
    printf("trained a %s model for city %lld: %d rows, %d epoch(s), %.1f s\n", kind,
           (long long)city, (int)m->rows, epochs, now() - t0);
done:
    rs_embedding_free(m);
    rs_corpus_free(c);
    rs_corpus_free(cc);
    return rc;
}

typedef struct job {
    const rs_recommender *r;
    const int32_t *ctx;  /* contexts, 5 slots each */
    const int *len;
    int n, k;
    unsigned kinds;
    int many;            /* runs of MANY_RUN contexts through rs_recommend_many */
    int next;            /* guarded by mu */
    pthread_mutex_t mu;
    int errors;
} job;

enum { MANY_RUN = 64 }; /* = BATCH_RUN of cli/cmd_recommend.c */

/* rs_recommend_many over runs of MANY_RUN contexts. */
static void *worker_many(job *j)
{
    rs_rec_result *res[MANY_RUN] = {0};
    rs_rec_query qs[MANY_RUN];
    int codes[MANY_RUN];
    rs_error *errs = calloc(MANY_RUN, sizeof *errs);
    int ok = errs != NULL;
    for (int t = 0; t < MANY_RUN && ok; t++)
        ok = (res[t] = rs_rec_result_new()) != NULL;
    while (ok) {
        pthread_mutex_lock(&j->mu);
        int i = j->next;
        j->next += MANY_RUN;
        pthread_mutex_unlock(&j->mu);
        if (i >= j->n)
            break;
        int cnt = j->n - i < MANY_RUN ? j->n - i : MANY_RUN;
        for (int t = 0; t < cnt; t++) {
            rs_rec_query_defaults(&qs[t]);
            qs[t].products = j->ctx + 5 * (i + t);
            qs[t].n_products = j->len[i + t];
            qs[t].kinds = j->kinds;
            for (int u = 0; u < RS_REC_NKINDS; u++)
                qs[t].k[u] = j->k;
        }
        rs_recommend_many(j->r, qs, cnt, res, codes, errs);
        int bad = 0;
        for (int t = 0; t < cnt; t++)
            bad += codes[t] != RS_OK;
        if (bad) {
            pthread_mutex_lock(&j->mu);
            j->errors += bad;
            pthread_mutex_unlock(&j->mu);
        }
    }
    if (!ok) {
        pthread_mutex_lock(&j->mu);
        j->errors++;
        pthread_mutex_unlock(&j->mu);
    }
    for (int t = 0; t < MANY_RUN; t++)
        rs_rec_result_free(res[t]);
    free(errs);
    return NULL;
}

static void *worker(void *arg)
{
    job *j = arg;
    if (j->many)
        return worker_many(j);
    rs_rec_result *res = rs_rec_result_new();
    if (!res)
        return NULL;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        int i = j->next;
        j->next += 16;
        pthread_mutex_unlock(&j->mu);
        if (i >= j->n)
            break;
        int end = i + 16 < j->n ? i + 16 : j->n;
        for (; i < end; i++) {
            rs_rec_query q;
            rs_rec_query_defaults(&q);
            q.products = j->ctx + 5 * i;
            q.n_products = j->len[i];
            q.kinds = j->kinds;
            for (int t = 0; t < RS_REC_NKINDS; t++)
                q.k[t] = j->k;
            rs_error e = {0};
            if (rs_recommend(j->r, &q, res, &e)) {
                pthread_mutex_lock(&j->mu);
                j->errors++;
                pthread_mutex_unlock(&j->mu);
            }
        }
    }
    rs_rec_result_free(res);
    return NULL;
}

int main(int argc, char **argv)
{
    /* as the recoscope binary does (cli/main.c): OpenBLAS on one thread, so its idle
     * workers do not spin on the cores the batch threads use */
    if (!getenv("OPENBLAS_NUM_THREADS"))
        openblas_set_num_threads(1);
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: bench_recommend DB [--city C] [-n N] [--threads T] [-k K] "
                        "[--contexts N] [--train EPOCHS] [--open RUNS]\n");
        return argc < 2 ? 1 : 0;
    }
    const char *db = argv[1], *city = NULL;
    int n = 2000, threads = 2, k = 10, ncontexts = 20000, train_epochs = 0, open_runs = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--city") == 0)
            city = argv[i + 1];
        else if (strcmp(argv[i], "-n") == 0)
            n = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "-k") == 0)
            k = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--contexts") == 0)
            ncontexts = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--train") == 0)
            train_epochs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--open") == 0)
            open_runs = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 1;
        }
    }
    if (n < 1 || threads < 1 || threads > 64 || k < 1 || ncontexts < 1) {
        fprintf(stderr, "bad numbers\n");
        return 1;
    }
    rs_error e = {0};
    rs_store *s = NULL;
    rs_recommender *r = NULL;
    rs_rec_result *res = NULL;
    int32_t *cand = NULL, *ctx = NULL;
    int *len = NULL;
    double *lat = NULL;
    int rc = 1;
    int64_t city_id = 0;
    double t0 = now();
    if (rs_store_open(db, train_epochs > 0 ? 0 : RS_STORE_READONLY, &s, &e) ||
        rs_store_city_id(s, city, &city_id, &e))
        goto fail;
    if (train_epochs > 0 && (train_missing(s, city_id, RS_KIND_PRODUCT, train_epochs, &e) ||
                             train_missing(s, city_id, RS_KIND_CATEGORY, train_epochs, &e)))
        goto fail;
    if (open_runs > 0) {
        /* the TUI's open: no completion scorer, no co-purchase index */
        double *ms = malloc((size_t)open_runs * 2 * sizeof *ms);
        if (!ms)
            goto fail;
        for (int i = 0; i < open_runs; i++) {
            rs_rec_options o;
            rs_rec_options_defaults(&o);
            o.no_completion = 1;
            o.no_copurchase = 1;
            double a = now(), ca = cpu_now();
            if (rs_recommender_open(s, city_id, &o, &r, &e)) {
                free(ms);
                goto fail;
            }
            ms[i] = 1000 * (now() - a);
            ms[open_runs + i] = 1000 * (cpu_now() - ca);
            rs_recommender_close(r);
            r = NULL;
        }
        qsort(ms, (size_t)open_runs, sizeof *ms, cmp_double);
        qsort(ms + open_runs, (size_t)open_runs, sizeof *ms, cmp_double);
        printf("open (TUI options), %d runs: wall median %.1f ms, CPU median %.1f ms, "
               "CPU min %.1f ms\n",
               open_runs, ms[open_runs / 2], ms[open_runs + open_runs / 2], ms[open_runs]);
        free(ms);
        rc = 0;
        goto done;
    }
    t0 = now();
    rs_rec_options opt;
    rs_rec_options_defaults(&opt);
    opt.workers = threads;
    if (rs_recommender_open(s, city_id, &opt, &r, &e))
        goto fail;
    double t_open = now() - t0;
    int32_t np = rs_rec_n_products(r);
    const int64_t *pop = rs_rec_popularity_counts(r);
    int ncand = 0;
    cand = malloc(((size_t)np + 1) * sizeof *cand);
    lat = malloc((size_t)n * 2 * sizeof *lat);
    ctx = malloc((size_t)ncontexts * 5 * sizeof *ctx);
    len = malloc((size_t)ncontexts * sizeof *len);
    res = rs_rec_result_new();
    if (!cand || !lat || !ctx || !len || !res) {
        fprintf(stderr, "out of memory\n");
        goto done;
    }
    for (int32_t p = 0; p < np; p++) {
        rs_rec_product info;
        if (pop[p] > 0 && rs_rec_product_info(r, p, &info, NULL) == RS_OK && info.in_product_model)
            cand[ncand++] = p;
    }
    if (ncand == 0) {
        fprintf(stderr, "no product with receipts in the product model\n");
        goto done;
    }
    printf("database %s, city %s: %d products (%d with receipts and a vector), %d categories, "
           "%lld receipts; open %.2f s\n",
           db, rs_rec_city_name(r), (int)np, ncand, (int)rs_rec_n_categories(r),
           (long long)rs_rec_n_receipts(r), t_open);

    /* 1. latency of single queries, all three kinds */
    int64_t rows = 0;
    for (int i = 0; i < n; i++) {
        int32_t p = cand[rng() % (uint64_t)ncand];
        rs_rec_query q;
        rs_rec_query_defaults(&q);
        q.products = &p;
        q.n_products = 1;
        for (int t = 0; t < RS_REC_NKINDS; t++)
            q.k[t] = k;
        double a = now(), ca = cpu_now();
        if (rs_recommend(r, &q, res, &e))
            goto fail;
        lat[i] = 1000.0 * (now() - a);
        lat[n + i] = 1000.0 * (cpu_now() - ca);
        for (int t = 0; t < RS_REC_NKINDS; t++)
            rows += res->lists[t].n;
    }
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    qsort(lat + n, (size_t)n, sizeof *lat, cmp_double);
    printf("single product, synonyms+categories+complements, k=%d, %d queries: "
           "wall p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms (%.1f rows/query)\n",
           k, n, lat[n / 2], lat[(int)(0.9 * n)], lat[(int)(0.99 * n)], lat[n - 1],
           (double)rows / n);
    printf("  thread CPU time: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms\n",
           lat[n + n / 2], lat[n + (int)(0.9 * n)], lat[n + (int)(0.99 * n)], lat[2 * n - 1]);

    /* 2. batch throughput, all four kinds, threads */
    for (int i = 0; i < ncontexts; i++) {
        len[i] = 1 + (int)(rng() % 5);
        for (int j = 0; j < len[i]; j++)
            ctx[5 * i + j] = cand[rng() % (uint64_t)ncand];
    }
    /* per-kind CPU cost, one thread, rs_recommend per context */
    {
        static const char *const names[] = {"synonyms", "categories", "complements"};
        int nb = ncontexts < 2000 ? ncontexts : 2000;
        for (int kind = 0; kind < 3; kind++) {
            double ca = cpu_now();
            for (int i = 0; i < nb; i++) {
                rs_rec_query q;
                rs_rec_query_defaults(&q);
                q.products = ctx + 5 * i;
                q.n_products = len[i];
                q.kinds = RS_REC_BIT(kind);
                for (int t = 0; t < RS_REC_NKINDS; t++)
                    q.k[t] = k;
                if (rs_recommend(r, &q, res, &e))
                    goto fail;
            }
            printf("  %s alone: %.3f ms CPU/context (%d contexts, 1 thread)\n", names[kind],
                   1000 * (cpu_now() - ca) / nb, nb);
        }
    }
    int errors = 0;
    for (int pass = 0; pass < 3; pass++) {
        job jb = {.r = r, .ctx = ctx, .len = len, .n = ncontexts, .k = k, .many = pass == 2};
        jb.kinds = RS_REC_ALL_KINDS | (pass ? RS_REC_BIT(RS_REC_COMPLETION) : 0);
        pthread_mutex_init(&jb.mu, NULL);
        pthread_t tid[64];
        int started = 0;
        struct timespec c0, c1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        double a = now();
        for (int t = 1; t < threads; t++)
            if (pthread_create(&tid[t], NULL, worker, &jb) == 0)
                started = t;
        worker(&jb);
        for (int t = 1; t <= started; t++)
            pthread_join(tid[t], NULL);
        double dt = now() - a;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        double cpu = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
        pthread_mutex_destroy(&jb.mu);
        printf("batch: %d contexts of 1..5 products, %s, k=%d, %d threads: %.2f s wall, "
               "%.0f contexts/s; %.2f CPU-s = %.3f ms CPU/context (%.0f contexts/s on %d idle "
               "cores)%s\n",
               ncontexts,
               pass == 2   ? "4 kinds, rs_recommend_many (as recommend --batch)"
               : pass == 1 ? "4 kinds (with completion)"
                           : "3 kinds (no completion)",
               k,
               threads, dt, ncontexts / dt, cpu, 1000 * cpu / ncontexts,
               threads * ncontexts / cpu, threads, jb.errors ? " (errors!)" : "");
        errors += jb.errors;
    }
    rc = errors ? 3 : 0;
    goto done;
fail:
    fprintf(stderr, "bench_recommend: %s\n", e.msg);
    rc = e.code ? e.code : 3;
done:
    free(cand);
    free(lat);
    free(ctx);
    free(len);
    rs_rec_result_free(res);
    rs_recommender_close(r);
    rs_store_close(s);
    return rc;
}
