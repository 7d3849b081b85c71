/* topheap.h - the bounded top-k heap shared by the recommenders and the completion
 * kernel: k (score, index) entries whose root is the worst kept one (lowest score,
 * then highest index), so ties always go to the lower index.  Header-only: the push
 * sits in hot loops.  idx and sc point at caller-owned arrays of k entries. */
#ifndef RS_TOPHEAP_H
#define RS_TOPHEAP_H

#include <stdint.h>

typedef struct rs_topheap {
    int32_t *idx;
    float *sc;
    int n, k;
} rs_topheap;

static inline int rs_topheap_worse(float sa, int32_t ia, float sb, int32_t ib)
{
    return sa < sb || (sa == sb && ia > ib);
}

static inline void rs_topheap_push(rs_topheap *t, float s, int32_t i)
{
    if (t->k <= 0)
        return;
    int pos;
    if (t->n < t->k) {
        pos = t->n++;
        while (pos > 0) {
            int par = (pos - 1) / 2;
            if (!rs_topheap_worse(s, i, t->sc[par], t->idx[par]))
                break;
            t->sc[pos] = t->sc[par];
            t->idx[pos] = t->idx[par];
            pos = par;
        }
    } else {
        if (!rs_topheap_worse(t->sc[0], t->idx[0], s, i))
            return;
        pos = 0;
        for (;;) {
            int c = 2 * pos + 1;
            if (c >= t->n)
                break;
            if (c + 1 < t->n &&
                rs_topheap_worse(t->sc[c + 1], t->idx[c + 1], t->sc[c], t->idx[c]))
                c++;
            if (!rs_topheap_worse(t->sc[c], t->idx[c], s, i))
                break;
            t->sc[pos] = t->sc[c];
            t->idx[pos] = t->idx[c];
            pos = c;
        }
    }
    t->sc[pos] = s;
    t->idx[pos] = i;
}

/* Sorts the kept entries best first, in place (insertion sort: k is small). */
static inline void rs_topheap_sort(rs_topheap *t)
{
    for (int a = 1; a < t->n; a++) {
        float s = t->sc[a];
        int32_t i = t->idx[a];
        int b = a - 1;
        while (b >= 0 && rs_topheap_worse(t->sc[b], t->idx[b], s, i)) {
            t->sc[b + 1] = t->sc[b];
            t->idx[b + 1] = t->idx[b];
            b--;
        }
        t->sc[b + 1] = s;
        t->idx[b + 1] = i;
    }
}

#endif
