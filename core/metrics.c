/* metrics.c - ranking metrics (see metrics.h for the definitions). */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rs_rank_acc {
    int k;
    int32_t n_items;
    const uint8_t *in_catalogue;
    const int64_t *counts;
    int64_t n_receipts;
    int64_t n_queries;
    double hr, ndcg, mrr, precision, recall;
    uint8_t *seen;       /* [n_items] recommended at least once */
    double novelty_sum;
    int64_t novelty_n;
};

double rs_metric_dcg_gain(int rank) { return 1.0 / log2((double)rank + 2.0); }

int rs_rank_acc_new(int k, int32_t n_items, const uint8_t *in_catalogue,
                    const int64_t *counts, int64_t n_receipts, rs_rank_acc **out,
                    rs_error *e)
{
    *out = NULL;
    if (k <= 0 || n_items < 0)
        return rs_seterr(e, RS_EUSAGE, "metrics: k must be positive (got %d)", k);
    rs_rank_acc *a = calloc(1, sizeof *a);
    if (!a)
        return rs_seterr(e, RS_EINTERNAL, "metrics: out of memory");
    a->seen = calloc((size_t)n_items + 1, 1);
    if (!a->seen) {
        free(a);
        return rs_seterr(e, RS_EINTERNAL, "metrics: out of memory");
    }
    a->k = k;
    a->n_items = n_items;
    a->in_catalogue = in_catalogue;
    a->counts = counts;
    a->n_receipts = n_receipts;
    *out = a;
    return RS_OK;
}

void rs_rank_acc_free(rs_rank_acc *a)
{
    if (!a)
        return;
    free(a->seen);
    free(a);
}

void rs_rank_acc_add(rs_rank_acc *a, const int32_t *top, int n_top, const int32_t *targets,
                     int n_targets)
{
    if (n_top > a->k)
        n_top = a->k;
    int hits = 0, first = -1;
    double dcg = 0.0;
    for (int r = 0; r < n_top; r++) {
        int32_t it = top[r];
        for (int t = 0; t < n_targets; t++) {
            if (targets[t] == it) {
                hits++;
                dcg += rs_metric_dcg_gain(r);
                if (first < 0)
                    first = r;
                break;
            }
        }
        if (it >= 0 && it < a->n_items) {
            a->seen[it] = 1;
            if (a->counts && a->n_receipts > 0 && a->counts[it] > 0) {
                a->novelty_sum += -log2((double)a->counts[it] / (double)a->n_receipts);
                a->novelty_n++;
            }
        }
    }
    double idcg = 0.0;
    for (int r = 0; r < n_targets && r < a->k; r++)
        idcg += rs_metric_dcg_gain(r);
    a->n_queries++;
    if (hits > 0) {
        a->hr += 1.0;
        a->ndcg += dcg / idcg;
        a->mrr += 1.0 / (first + 1);
    }
    a->precision += (double)hits / a->k;
    if (n_targets > 0)
        a->recall += (double)hits / n_targets;
}

void rs_rank_acc_result(const rs_rank_acc *a, rs_rank_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->k = a->k;
    m->n_queries = a->n_queries;
    double n = a->n_queries > 0 ? (double)a->n_queries : 1.0;
    m->hr = a->hr / n;
    m->ndcg = a->ndcg / n;
    m->mrr = a->mrr / n;
    m->precision = a->precision / n;
    m->recall = a->recall / n;
    int64_t cat = 0, seen = 0;
    for (int32_t i = 0; i < a->n_items; i++) {
        if (a->in_catalogue && !a->in_catalogue[i])
            continue;
        cat++;
        seen += a->seen[i];
    }
    m->coverage = cat > 0 ? (double)seen / (double)cat : 0.0;
    m->novelty = a->novelty_n > 0 ? a->novelty_sum / (double)a->novelty_n : 0.0;
}

/* Is (sa, ia) ranked before (sb, ib)?  Higher score first, then lower index. */
static int better(float sa, int32_t ia, float sb, int32_t ib)
{
    return sa > sb || (sa == sb && ia < ib);
}

int rs_topk(const float *scores, int32_t n, int k, int32_t *top)
{
    /* A sorted insertion buffer: k is small (10..100) next to n. */
    if (k <= 0)
        return 0;
    int m = 0;
    int32_t i = 0;
    for (; i < n && m < k; i++) {
        float s = scores[i];
        if (isnan(s) || s == -INFINITY)
            continue;
        int j = m++;
        while (j > 0 && better(s, i, scores[top[j - 1]], top[j - 1])) {
            top[j] = top[j - 1];
            j--;
        }
        top[j] = i;
    }
    /* Full: every index held is below i, so a later score beats the k-th only when
     * strictly greater (ties go to the lower index); NaN never compares greater. */
    float thr = m == k ? scores[top[k - 1]] : 0.0f;
    for (; i < n; i++) {
        float s = scores[i];
        if (!(s > thr))
            continue;
        int j = k - 1;
        while (j > 0 && better(s, i, scores[top[j - 1]], top[j - 1])) {
            top[j] = top[j - 1];
            j--;
        }
        top[j] = i;
        thr = scores[top[k - 1]];
    }
    return m;
}

double rs_metric_category_purity(int32_t category_p, const int32_t *syn, int n,
                                 const int32_t *item_category)
{
    if (n <= 0)
        return 0.0;
    int same = 0;
    for (int j = 0; j < n; j++)
        same += category_p >= 0 && syn[j] >= 0 && item_category[syn[j]] == category_p;
    return (double)same / n;
}

double rs_metric_copurchase(const int64_t *co_receipts, int n, int64_t receipts_p)
{
    if (n <= 0 || receipts_p <= 0)
        return 0.0;
    double s = 0.0;
    for (int j = 0; j < n; j++)
        s += (double)co_receipts[j] / (double)receipts_p;
    return s / n;
}

int rs_rank_metric_get(const rs_rank_metrics *m, const char *name, double *value)
{
    char buf[32];
    struct { const char *base; double v; int with_k; } tab[] = {
        {"hr", m->hr, 1},          {"ndcg", m->ndcg, 1},     {"mrr", m->mrr, 0},
        {"precision", m->precision, 1}, {"recall", m->recall, 1},
        {"coverage", m->coverage, 1},   {"novelty", m->novelty, 0},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (strcmp(name, tab[i].base) == 0) {
            *value = tab[i].v;
            return 0;
        }
        if (tab[i].with_k) {
            snprintf(buf, sizeof buf, "%s@%d", tab[i].base, m->k);
            if (strcmp(name, buf) == 0) {
                *value = tab[i].v;
                return 0;
            }
        }
    }
    return -1;
}

char *rs_rank_metrics_json(const rs_rank_metrics *m)
{
    char *s = NULL;
    int k = m->k;
    if (asprintf(&s,
                 "{\"k\":%d,\"queries\":%lld,\"hr@%d\":%.6f,\"ndcg@%d\":%.6f,\"mrr\":%.6f,"
                 "\"precision@%d\":%.6f,\"recall@%d\":%.6f,\"coverage@%d\":%.6f,"
                 "\"novelty\":%.6f}",
                 k, (long long)m->n_queries, k, m->hr, k, m->ndcg, m->mrr, k, m->precision,
                 k, m->recall, k, m->coverage, m->novelty) < 0)
        return NULL;
    return s;
}
