/* bench_pairs.c - cross-category pair completion (issue 12 item 3).
 *
 *   bench_pairs DB HELDOUT.csv [--city C] [-k K]
 *
 * DB holds only the training receipts; HELDOUT.csv (basket_id,product_id, external
 * product ids) the held-out ones (bench/complements_pairs splits them as
 * shared/tools/basket_eval.py does).  For each held-out basket, its distinct products
 * that the training part sold ("known"), and each ordered pair (p, t) of them whose
 * categories differ: is t in p's top K (10) of
 *   complements     our complements of p (`recommend --kind complements --no-mask`),
 *                   and the same with the rows below chance kept (RS_REC_KEEP_BELOW_CHANCE)
 *   EASE/other      single-product EASE completion from the active EASE model,
 *                   restricted to the categories other than p's
 *   item-item/other item-item cosine of the training receipts, restricted the same way
 *   popularity/other the most popular products of the other categories
 *   completion/other the city's active completion scorer, restricted the same way
 * No popularity mask anywhere.  Prints pairs, hits and the hit rate of each.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "completion.h"
#include "corpus.h"
#include "knn.h"
#include "model.h"
#include "recommend.h"
#include "sgns.h"
#include "store.h"
#include "topheap.h"

enum { M_COMPLEMENTS, M_COMPLEMENTS_ALL, M_EASE, M_ITEMITEM, M_POPULARITY, M_COMPLETION, M_N };
static const char *const NAMES[M_N] = {"complements (ours)",
                                       "complements, below-chance rows kept",
                                       "EASE, other categories",
                                       "item-item, other categories",
                                       "popularity, other categories",
                                       "completion scorer, other categories"};

typedef struct basket {
    int32_t *items;
    int n;
} basket;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Reads basket_id,product_id lines into baskets of known product indices (distinct,
 * sold in the training part).  Baskets are consecutive runs of one basket id. */
static basket *read_heldout(const char *path, const rs_recommender *r, int *nb)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return NULL;
    }
    const int64_t *pop = rs_rec_popularity_counts(r);
    basket *b = NULL;
    int cap = 0, n = 0;
    char line[4096], last[256] = "";
    if (!fgets(line, sizeof line, f)) { /* the header */
        fclose(f);
        return NULL;
    }
    while (fgets(line, sizeof line, f)) {
        char *c = strchr(line, ',');
        if (!c)
            continue;
        *c = 0;
        char *pid = c + 1;
        pid[strcspn(pid, ",\r\n")] = 0;
        if (n == 0 || strcmp(line, last) != 0) {
            if (n == cap) {
                cap = cap ? 2 * cap : 1024;
                b = realloc(b, (size_t)cap * sizeof *b);
            }
            b[n].items = NULL;
            b[n].n = 0;
            n++;
            snprintf(last, sizeof last, "%.255s", line);
        }
        int32_t idx;
        if (rs_rec_find_ext(r, pid, &idx, NULL) != RS_OK || pop[idx] <= 0)
            continue;
        basket *k = &b[n - 1];
        int dup = 0;
        for (int i = 0; i < k->n; i++)
            dup |= k->items[i] == idx;
        if (dup)
            continue;
        k->items = realloc(k->items, (size_t)(k->n + 1) * sizeof *k->items);
        k->items[k->n++] = idx;
    }
    fclose(f);
    *nb = n;
    return b;
}

/* Top k of scores (n_items) among the items of another category than cat, not p,
 * with a finite score; into out (sorted best first), returns the count. */
static int topk_other(const float *scores, int32_t n_items, const int32_t *pcat, int32_t p,
                      int k, int32_t *out)
{
    int32_t idx[64];
    float sc[64];
    rs_topheap t = {idx, sc, 0, k};
    for (int32_t i = 0; i < n_items; i++) {
        float s = scores[i];
        if (i == p || !(s > -INFINITY) || pcat[i] < 0 || pcat[i] == pcat[p])
            continue;
        rs_topheap_push(&t, s, i);
    }
    rs_topheap_sort(&t);
    memcpy(out, idx, (size_t)t.n * sizeof *out);
    return t.n;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_pairs DB HELDOUT.csv [--city C] [-k K]\n");
        return 1;
    }
    const char *city = NULL;
    int K = 10;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--city") == 0)
            city = argv[i + 1];
        else if (strcmp(argv[i], "-k") == 0)
            K = atoi(argv[i + 1]);
    }
    if (K < 1 || K > 64)
        K = 10;
    rs_error e = {0};
    rs_store *s = NULL;
    int64_t cid = 0;
    rs_recommender *r = NULL;
    rs_rec_options o;
    rs_rec_options_defaults(&o);
    if (rs_store_open(argv[1], RS_STORE_READONLY, &s, &e) || rs_store_city_id(s, city, &cid, &e) ||
        rs_recommender_open(s, cid, &o, &r, &e)) {
        fprintf(stderr, "bench_pairs: %s\n", e.msg);
        return 2;
    }
    int nb = 0;
    basket *b = read_heldout(argv[2], r, &nb);
    if (!b)
        return 2;
    int32_t n = rs_rec_n_products(r);
    const int64_t *pop = rs_rec_popularity_counts(r);
    /* the scorers restricted to other categories: EASE alone, item-item, the active one */
    rs_embedding *ease = NULL;
    rs_model_info info;
    int64_t used = 0;
    rs_completion *ce = NULL, *cc = NULL;
    rs_completion_parts pe;
    memset(&pe, 0, sizeof pe);
    pe.n_items = n;
    if (rs_registry_load_active(s, cid, RS_KIND_EASE, "all", &ease, &used, &info, &e) == RS_OK) {
        pe.ease = ease;
        pe.weights[RS_COMP_EASE] = 1.0;
        if (rs_completion_from_parts(&pe, &ce, &e))
            fprintf(stderr, "EASE scorer: %s\n", e.msg);
    } else {
        fprintf(stderr, "no EASE model: %s\n", e.msg);
    }
    rs_corpus *corpus = NULL;
    rs_knn *knn = NULL;
    if (rs_corpus_load(s, cid, &corpus, &e) || rs_knn_build(corpus, &knn, &e))
        fprintf(stderr, "item-item: %s\n", e.msg);
    if (rs_completion_open(s, cid, &cc, NULL, &e))
        fprintf(stderr, "completion scorer: %s\n", e.msg);
    float *scores = malloc((size_t)n * sizeof *scores);
    float *popf = malloc((size_t)n * sizeof *popf);
    int32_t (*lists)[M_N][64] = calloc((size_t)n, sizeof *lists);
    int8_t *done = calloc((size_t)n, 1);
    int32_t *len = calloc((size_t)n * M_N, sizeof *len);
    rs_rec_result *res = rs_rec_result_new();
    int32_t *pcat = malloc((size_t)n * sizeof *pcat);
    for (int32_t i = 0; i < n; i++) {
        rs_rec_product pi;
        popf[i] = pop[i] > 0 ? (float)pop[i] : -INFINITY;
        pcat[i] = rs_rec_product_info(r, i, &pi, NULL) == RS_OK ? pi.category_index : -1;
    }
    int64_t pairs = 0, hits[M_N] = {0};
    double t0 = now();
    for (int bi = 0; bi < nb; bi++) {
        for (int x = 0; x < b[bi].n; x++) {
            int32_t p = b[bi].items[x];
            if (pcat[p] < 0)
                continue;
            if (!done[p]) {
                done[p] = 1;
                rs_rec_query q;
                rs_rec_query_defaults(&q);
                q.products = &p;
                q.n_products = 1;
                q.kinds = RS_REC_BIT(RS_REC_COMPLEMENTS);
                q.k[RS_REC_COMPLEMENTS] = K;
                for (int m = M_COMPLEMENTS; m <= M_COMPLEMENTS_ALL; m++) {
                    q.flags = RS_REC_NO_MASK | (m == M_COMPLEMENTS_ALL ? RS_REC_KEEP_BELOW_CHANCE : 0);
                    if (rs_recommend(r, &q, res, &e) != RS_OK)
                        continue;
                    const rs_rec_list *l = &res->lists[RS_REC_COMPLEMENTS];
                    for (int j = 0; j < l->n; j++)
                        lists[p][m][j] = l->rows[j].index;
                    len[(size_t)p * M_N + m] = l->n;
                }
                if (ce) {
                    rs_completion_score(ce, &p, 1, scores);
                    len[(size_t)p * M_N + M_EASE] =
                        topk_other(scores, n, pcat, p, K, lists[p][M_EASE]);
                }
                if (knn) {
                    for (int32_t i = 0; i < n; i++)
                        scores[i] = -INFINITY;
                    rs_knn_score(knn, &p, 1, scores);
                    len[(size_t)p * M_N + M_ITEMITEM] =
                        topk_other(scores, n, pcat, p, K, lists[p][M_ITEMITEM]);
                }
                len[(size_t)p * M_N + M_POPULARITY] =
                    topk_other(popf, n, pcat, p, K, lists[p][M_POPULARITY]);
                if (cc) {
                    rs_completion_score(cc, &p, 1, scores);
                    len[(size_t)p * M_N + M_COMPLETION] =
                        topk_other(scores, n, pcat, p, K, lists[p][M_COMPLETION]);
                }
            }
            for (int y = 0; y < b[bi].n; y++) {
                int32_t t = b[bi].items[y];
                if (t == p || pcat[t] < 0 || pcat[t] == pcat[p])
                    continue;
                pairs++;
                for (int m = 0; m < M_N; m++)
                    for (int j = 0; j < len[(size_t)p * M_N + m]; j++)
                        if (lists[p][m][j] == t) {
                            hits[m]++;
                            break;
                        }
            }
        }
    }
    printf("held-out baskets %d, ordered cross-category pairs %lld, top %d, no mask (%.1f s)\n",
           nb, (long long)pairs, K, now() - t0);
    for (int m = 0; m < M_N; m++)
        printf("  %-38s %8lld  %.4f\n", NAMES[m], (long long)hits[m],
               pairs ? (double)hits[m] / (double)pairs : 0.0);
    if (cc)
        printf("  (completion scorer: %s)\n", rs_completion_name(cc));
    for (int bi = 0; bi < nb; bi++)
        free(b[bi].items);
    free(b);
    free(scores);
    free(popf);
    free(pcat);
    free(lists);
    free(done);
    free(len);
    rs_rec_result_free(res);
    rs_completion_close(ce);
    rs_completion_close(cc);
    rs_embedding_free(ease);
    rs_knn_free(knn);
    rs_corpus_free(corpus);
    rs_recommender_close(r);
    rs_store_close(s);
    return 0;
}
