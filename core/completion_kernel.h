/* completion_kernel.h - the in.out kernels of the completion scorer (private to
 * core/completion.c and core/completion_kernel.c).
 *
 * The output matrix of the product model is packed into panels of COMP_PANEL rows,
 * k-major (P[(p*d + k)*16 + i] = out[16p + i][k], zero past the last row), so a panel
 * is read once for a whole block of contexts.  Every score is ONE fused multiply-add
 * chain over k = 0..d-1 starting from 0, whatever the block size, the context's place
 * in it and the kernel (portable reference, AVX2, AVX-512): the single-context and
 * the block paths, and every kernel, give bit-identical scores (an OpenBLAS sgemm
 * does not: its results change with the number of columns and of threads).
 */
#ifndef RS_COMPLETION_KERNEL_H
#define RS_COMPLETION_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "sgns.h"
#include "topheap.h"

#define COMP_PANEL 16 /* rows of a packed panel of the sgns output matrix */

/* Packs m->out (rows in pack_item order: the items with a row, ascending) into P
 * (ceil(rows / 16) * 16 * dim floats); contig[p] = 1 when panel p's 16 items are
 * consecutive (its scores can be stored with one vector store). */
void comp_kernel_pack(const rs_embedding *m, const int32_t *pack_item, uint8_t *contig,
                      float *P);

/* Top-k fused into the kernel (rs_completion_topk_many): one heap per context whose
 * root is the worst kept entry (lower score, then higher item); thr is -INFINITY until
 * the heap is full, then the root's score.  Rows are offered in ascending item order,
 * so an item scoring exactly thr ranks after every kept one and cannot enter: the one
 * comparison `s > thr` (false for NaN and -INFINITY) lets through exactly the items a
 * scan of the full scores would push. */
typedef struct tk_heap {
    rs_topheap h;         /* the kept entries */
    float thr;
    const int32_t *ctx;   /* the context: never offered */
    int nctx;
    const uint8_t *allow; /* NULL or [n_items]: 0 = never offered */
} tk_heap;

/* The in.out scores of nb contexts (V: their summed input vectors, nb x d) against
 * the packed matrix P of `rows` rows: C[b * ldc + row_item[r]] = score of row r for
 * context b; or, with h (C unused), each context's scores offered to its heap h[b].
 * kernel caps the instruction set: 0 the best the machine has, 1 at most AVX2, 2 the
 * portable reference. */
void comp_kernel_dots(const float *P, int32_t rows, int d, const float *V, int nb, float *C,
                      size_t ldc, const int32_t *row_item, const uint8_t *contig, tk_heap *h,
                      int kernel);

#endif
