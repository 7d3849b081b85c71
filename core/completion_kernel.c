/* completion_kernel.c - the in.out kernels of the completion scorer
 * (completion_kernel.h): the packing of the output matrix, the portable reference
 * kernel, then the AVX2 and AVX-512 kernels (the same fused multiply-add chains, the
 * same bits), and the dispatch between them.
 */
#include "completion_kernel.h"

#include <math.h>
#include <string.h>

#define PANEL COMP_PANEL

void comp_kernel_pack(const rs_embedding *m, const int32_t *pack_item, uint8_t *contig,
                      float *P)
{
    int d = m->dim;
    int32_t np = (m->rows + PANEL - 1) / PANEL;
    for (int32_t p = 0; p < np; p++) {
        int ok = (p + 1) * PANEL <= m->rows;
        for (int i = 0; i < PANEL && ok; i++)
            ok = pack_item[p * PANEL + i] == pack_item[p * PANEL] + i;
        contig[p] = (uint8_t)ok;
        for (int i = 0; i < PANEL; i++) {
            int32_t r = p * PANEL + i;
            const float *x =
                r < m->rows ? m->out + (size_t)m->item_row[pack_item[r]] * (size_t)d : NULL;
            for (int k = 0; k < d; k++)
                P[((size_t)p * (size_t)d + (size_t)k) * PANEL + (size_t)i] = x ? x[k] : 0.0f;
        }
    }
}

static void tk_push(tk_heap *t, float s, int32_t i)
{
    rs_topheap_push(&t->h, s, i);
    if (t->h.n == t->h.k)
        t->thr = t->h.sc[0];
}

/* Offers item (score s) to the heap: skipped at or below thr, when not allowed, and
 * when in the context. */
static inline void tk_offer(tk_heap *t, float s, int32_t item)
{
    if (!(s > t->thr) || (t->allow && !t->allow[item]))
        return;
    for (int j = 0; j < t->nctx; j++)
        if (t->ctx[j] == item)
            return;
    tk_push(t, s, item);
}

/* The portable reference: C[b * ldc + row_item[r]] = sum_k V[b * d + k] * out[r][k],
 * one fmaf chain per score over k = 0..d-1 (the chain the vector kernels below repeat
 * lane by lane).  With h (C unused) each context's scores are offered to its heap h[b]
 * instead. */
static void dots_generic(const float *P, int32_t rows, int d, const float *V, int nb,
                         float *C, size_t ldc, const int32_t *row_item, tk_heap *h)
{
    int32_t np = (rows + PANEL - 1) / PANEL;
    for (int32_t p = 0; p < np; p++)
        for (int b = 0; b < nb; b++) {
            float acc[PANEL] = {0};
            const float *v = V + (size_t)b * (size_t)d;
            for (int k = 0; k < d; k++) {
                const float *x = P + ((size_t)p * (size_t)d + (size_t)k) * PANEL;
                for (int i = 0; i < PANEL; i++)
                    acc[i] = fmaf(x[i], v[k], acc[i]);
            }
            if (h)
                for (int i = 0; i < PANEL && p * PANEL + i < rows; i++)
                    tk_offer(&h[b], acc[i], row_item[p * PANEL + i]);
            else
                for (int i = 0; i < PANEL && p * PANEL + i < rows; i++)
                    C[(size_t)b * ldc + (size_t)row_item[p * PANEL + i]] = acc[i];
        }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* Stores the scores of rows r0..r0+15 at their items (C is one context's scores). */
static inline void store_panel(float *C, int32_t rows, int32_t r0, const int32_t *row_item,
                               int contig, __m256 lo, __m256 hi, tk_heap *h)
    __attribute__((target("avx2,fma")));
static inline void store_panel(float *C, int32_t rows, int32_t r0, const int32_t *row_item,
                               int contig, __m256 lo, __m256 hi, tk_heap *h)
{
    if (h) {
        /* top-k: only the lanes above the context's threshold, in item order */
        __m256 t = _mm256_set1_ps(h->thr);
        unsigned m = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(lo, t, _CMP_GT_OQ)) |
                     (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(hi, t, _CMP_GT_OQ)) << 8;
        if (!m)
            return;
        float s[PANEL];
        _mm256_storeu_ps(s, lo);
        _mm256_storeu_ps(s + 8, hi);
        while (m) {
            int i = __builtin_ctz(m);
            m &= m - 1;
            if (r0 + i >= rows)
                break;
            tk_offer(h, s[i], row_item[r0 + i]);
        }
        return;
    }
    if (contig) {
        _mm256_storeu_ps(C + row_item[r0], lo);
        _mm256_storeu_ps(C + row_item[r0] + 8, hi);
    } else {
        float t[PANEL];
        _mm256_storeu_ps(t, lo);
        _mm256_storeu_ps(t + 8, hi);
        for (int i = 0; i < PANEL && r0 + i < rows; i++)
            C[row_item[r0 + i]] = t[i];
    }
}

__attribute__((target("avx2,fma"))) static void dots_avx2(const float *P, int32_t rows, int d,
                                                          const float *V, int nb, float *C,
                                                          size_t ldc, const int32_t *row_item,
                                                          const uint8_t *contig, tk_heap *h)
{
    int32_t np = (rows + PANEL - 1) / PANEL;
    for (int32_t p = 0; p < np; p++) {
        const float *pp = P + (size_t)p * (size_t)d * PANEL;
        int32_t r0 = p * PANEL;
        int b = 0;
        for (; b + 4 <= nb; b += 4) {
            const float *v0 = V + (size_t)b * (size_t)d, *v1 = v0 + d, *v2 = v1 + d,
                        *v3 = v2 + d;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0,
                   a6 = a0, a7 = a0;
            for (int k = 0; k < d; k++) {
                __m256 x0 = _mm256_loadu_ps(pp + (size_t)k * PANEL);
                __m256 x1 = _mm256_loadu_ps(pp + (size_t)k * PANEL + 8);
                __m256 w = _mm256_broadcast_ss(v0 + k);
                a0 = _mm256_fmadd_ps(x0, w, a0);
                a1 = _mm256_fmadd_ps(x1, w, a1);
                w = _mm256_broadcast_ss(v1 + k);
                a2 = _mm256_fmadd_ps(x0, w, a2);
                a3 = _mm256_fmadd_ps(x1, w, a3);
                w = _mm256_broadcast_ss(v2 + k);
                a4 = _mm256_fmadd_ps(x0, w, a4);
                a5 = _mm256_fmadd_ps(x1, w, a5);
                w = _mm256_broadcast_ss(v3 + k);
                a6 = _mm256_fmadd_ps(x0, w, a6);
                a7 = _mm256_fmadd_ps(x1, w, a7);
            }
            store_panel(C + (size_t)b * ldc, rows, r0, row_item, contig[p], a0, a1,
                        h ? h + b : NULL);
            store_panel(C + (size_t)(b + 1) * ldc, rows, r0, row_item, contig[p], a2, a3,
                        h ? h + b + 1 : NULL);
            store_panel(C + (size_t)(b + 2) * ldc, rows, r0, row_item, contig[p], a4, a5,
                        h ? h + b + 2 : NULL);
            store_panel(C + (size_t)(b + 3) * ldc, rows, r0, row_item, contig[p], a6, a7,
                        h ? h + b + 3 : NULL);
        }
        for (; b < nb; b++) {
            const float *v0 = V + (size_t)b * (size_t)d;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0;
            for (int k = 0; k < d; k++) {
                __m256 w = _mm256_broadcast_ss(v0 + k);
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(pp + (size_t)k * PANEL), w, a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(pp + (size_t)k * PANEL + 8), w, a1);
            }
            store_panel(C + (size_t)b * ldc, rows, r0, row_item, contig[p], a0, a1,
                        h ? h + b : NULL);
        }
    }
}

/* The same chains with 512-bit registers (a panel is one register): two panels times
 * eight contexts per pass.  Lane by lane the same fused multiply-adds in the same
 * order as the other kernels, so the same bits. */
static inline void put16(float *C, int32_t rows, int32_t r0, const int32_t *row_item,
                         int contig, __m512 a, tk_heap *h) __attribute__((target("avx512f")));
static inline void put16(float *C, int32_t rows, int32_t r0, const int32_t *row_item,
                         int contig, __m512 a, tk_heap *h)
{
    float t[PANEL];
    if (h) {
        unsigned m = (unsigned)_mm512_cmp_ps_mask(a, _mm512_set1_ps(h->thr), _CMP_GT_OQ);
        if (!m)
            return;
        _mm512_storeu_ps(t, a);
        while (m) {
            int i = __builtin_ctz(m);
            m &= m - 1;
            if (r0 + i >= rows)
                break;
            tk_offer(h, t[i], row_item[r0 + i]);
        }
    } else if (contig) {
        _mm512_storeu_ps(C + row_item[r0], a);
    } else {
        _mm512_storeu_ps(t, a);
        for (int i = 0; i < PANEL && r0 + i < rows; i++)
            C[row_item[r0 + i]] = t[i];
    }
}

__attribute__((target("avx512f"))) static void dots_avx512(const float *P, int32_t rows, int d,
                                                           const float *V, int nb, float *C,
                                                           size_t ldc, const int32_t *row_item,
                                                           const uint8_t *contig, tk_heap *h)
{
    enum { NB = 8 };
    int32_t np = (rows + PANEL - 1) / PANEL;
    int32_t p = 0;
    for (; p + 2 <= np; p += 2) {
        const float *p0 = P + (size_t)p * (size_t)d * PANEL, *p1 = p0 + (size_t)d * PANEL;
        int32_t r0 = p * PANEL, r1 = r0 + PANEL;
        int b = 0;
        for (; b + NB <= nb; b += NB) {
            const float *v = V + (size_t)b * (size_t)d;
            __m512 a[NB], c[NB];
#pragma GCC unroll 8
            for (int j = 0; j < NB; j++)
                a[j] = c[j] = _mm512_setzero_ps();
            for (int k = 0; k < d; k++) {
                __m512 x0 = _mm512_loadu_ps(p0 + (size_t)k * PANEL);
                __m512 x1 = _mm512_loadu_ps(p1 + (size_t)k * PANEL);
#pragma GCC unroll 8
                for (int j = 0; j < NB; j++) {
                    __m512 w = _mm512_set1_ps(v[(size_t)j * (size_t)d + (size_t)k]);
                    a[j] = _mm512_fmadd_ps(x0, w, a[j]);
                    c[j] = _mm512_fmadd_ps(x1, w, c[j]);
                }
            }
#pragma GCC unroll 8
            for (int j = 0; j < NB; j++) {
                float *cb = C ? C + (size_t)(b + j) * ldc : NULL;
                tk_heap *hb = h ? h + b + j : NULL;
                put16(cb, rows, r0, row_item, contig[p], a[j], hb);
                put16(cb, rows, r1, row_item, contig[p + 1], c[j], hb);
            }
        }
        for (; b < nb; b++) {
            const float *v = V + (size_t)b * (size_t)d;
            __m512 a0 = _mm512_setzero_ps(), c0 = a0;
            for (int k = 0; k < d; k++) {
                __m512 w = _mm512_set1_ps(v[k]);
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(p0 + (size_t)k * PANEL), w, a0);
                c0 = _mm512_fmadd_ps(_mm512_loadu_ps(p1 + (size_t)k * PANEL), w, c0);
            }
            float *cb = C ? C + (size_t)b * ldc : NULL;
            tk_heap *hb = h ? h + b : NULL;
            put16(cb, rows, r0, row_item, contig[p], a0, hb);
            put16(cb, rows, r1, row_item, contig[p + 1], c0, hb);
        }
    }
    for (; p < np; p++) {
        const float *p0 = P + (size_t)p * (size_t)d * PANEL;
        for (int b = 0; b < nb; b++) {
            const float *v = V + (size_t)b * (size_t)d;
            __m512 a0 = _mm512_setzero_ps();
            for (int k = 0; k < d; k++)
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(p0 + (size_t)k * PANEL),
                                     _mm512_set1_ps(v[k]), a0);
            put16(C ? C + (size_t)b * ldc : NULL, rows, p * PANEL, row_item, contig[p], a0,
                  h ? h + b : NULL);
        }
    }
}
#endif

/* (completion_kernel.h) */
void comp_kernel_dots(const float *P, int32_t rows, int d, const float *V, int nb, float *C,
                      size_t ldc, const int32_t *row_item, const uint8_t *contig, tk_heap *h,
                      int generic)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (generic == 0 && __builtin_cpu_supports("avx512f")) {
        dots_avx512(P, rows, d, V, nb, C, ldc, row_item, contig, h);
        return;
    }
    if (generic <= 1 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        dots_avx2(P, rows, d, V, nb, C, ldc, row_item, contig, h);
        return;
    }
#endif
    (void)contig;
    (void)generic;
    dots_generic(P, rows, d, V, nb, C, ldc, row_item, h);
}
