/* projection.h - a model's input vectors seen in two dimensions, and the cache file
 * that keeps them beside the model.
 *
 * Two projections of the rows of an rs_embedding (products or categories), both on
 * the unit-normalised input vectors (the cosine geometry the synonyms use):
 *   PCA      the two leading principal axes (the covariance summed in double, its
 *            eigenvectors by LAPACK dsyev); tens of milliseconds on 100k rows.  Axis
 *            signs are fixed (the largest component of each axis positive), so a model
 *            gives one picture.
 *   layout   a neighbourhood-preserving layout in the manner of UMAP (McInnes, Healy
 *            & Melville 2018): the k nearest neighbours by cosine, fuzzy memberships
 *            exp(-(d - rho_i) / sigma_i) with sigma_i calibrated so each point's sum
 *            is log2(k), symmetrised (a + b - ab); then stochastic gradient descent
 *            on the cross-entropy with a = 1.577, b = 0.895 (min_dist 0.1), five
 *            negative samples per edge, a learning rate falling linearly to zero,
 *            started from the PCA.  On more than `sample` rows the layout is fitted
 *            on a fixed random sample, every other row is placed at the
 *            similarity-weighted mean of its 5 nearest sample rows (its anchors), then
 *            the neighbour graph of every row is built from candidates that share an
 *            anchor (exact similarities, the best k kept) and 100 more epochs run over
 *            all rows, so that a row finds its own neighbours instead of sitting on its
 *            anchors' (on the large synthetic world's 86k products this keeps 4.5% of
 *            each product's 10 nearest neighbours in the plane, the PCA 0.5%).  About
 *            12 s of CPU on 86k rows of 64 dimensions: the TUI runs it in the
 *            background.  Single-threaded, seeded, and independent of BLAS's rounding
 *            (similarities that decide are recomputed exactly): the same model
 *            gives the same coordinates.
 *
 * The cache ("<model file>.map", written through core/atomicfile.h) holds both
 * projections with a fingerprint of the vectors they were computed from; a cache
 * whose fingerprint differs from the model's (the model changed) is stale and
 * ignored, a cache that cannot be read (truncated, wrong magic, values out of range)
 * is an RS_EDATA error naming the file.
 *
 * Cache layout (little-endian):
 *   "RSCOPEP1"  magic
 *   u32 version (2: raised with any change of the file or of an algorithm; a cache of
 *       another version is stale), u32 rows, u32 dim, u32 methods (bit 0 PCA, bit 1
 *       layout)
 *   u64 fingerprint (rs_proj_fingerprint of the model)
 *   f32 pca_var[2] (share of the variance of each PCA axis)
 *   for each method present, in bit order: rows x (f32 x, f32 y)
 *   u64 FNV-1a 64 of every byte before it
 */
#ifndef RS_PROJECTION_H
#define RS_PROJECTION_H

#include <stdatomic.h>
#include <stdint.h>

#include "embedding.h"
#include "error.h"

typedef enum { RS_PROJ_PCA = 0, RS_PROJ_LAYOUT = 1, RS_PROJ_NMETHODS } rs_proj_method;

/* "pca", "layout". */
const char *rs_proj_method_name(rs_proj_method m);

/* Coordinates of every row of a model: xy[2 r], xy[2 r + 1] for row r (the model's
 * row order, so row_item of the model says which item a point is). */
typedef struct rs_proj {
    int32_t rows;
    float *xy;
} rs_proj;

/* A projection of rows points, all at (0, 0); NULL when out of memory. */
rs_proj *rs_proj_new(int32_t rows);
void rs_proj_free(rs_proj *p);

/* The PCA of the model's normalised input vectors.  var (may be NULL) receives the
 * share of the variance along each of the two axes.  A model with fewer than 2 rows
 * or dim < 2 is an RS_EUSAGE error. */
int rs_proj_pca(const rs_embedding *m, rs_proj **out, float var[2], rs_error *e);

typedef struct rs_layout_opts {
    int neighbours;    /* k of the neighbour graph (15) */
    int sample;        /* rows fitted directly; the rest are placed, then refined (5000) */
    int epochs;        /* 0: 500 for up to 2000 fitted rows, else 200 */
    uint64_t seed;     /* (1) */
    atomic_int *progress; /* NULL, or receives 0..1000 as the fit goes */
    atomic_int *cancel;   /* NULL, or the fit stops with RS_EUSAGE "cancelled" when set */
} rs_layout_opts;

void rs_layout_opts_defaults(rs_layout_opts *o);

/* The neighbourhood-preserving layout (see the top of this file).  init, when not
 * NULL, is the model's PCA (it is computed here otherwise). */
int rs_proj_layout(const rs_embedding *m, const rs_layout_opts *o, const rs_proj *init,
                   rs_proj **out, rs_error *e);

/* A fingerprint of what the projections depend on: rows, dim, row items and input
 * vectors (a 64-bit hash over their words). */
uint64_t rs_proj_fingerprint(const rs_embedding *m);

/* "<model_path>.map"; -1 when it does not fit in n bytes. */
int rs_proj_cache_path(const char *model_path, char *buf, size_t n);

/* Reads the cache at path for a model of `rows` rows and `dim` dims with this
 * fingerprint.  The projections found go to out[RS_PROJ_PCA] / out[RS_PROJ_LAYOUT]
 * (NULL when absent), var to the PCA's variance shares.  A missing file, or one made
 * for another model or by another version (stale), is RS_OK with nothing found and
 * *stale set (may be NULL) for the latter; a broken file is RS_EDATA naming it and
 * what is wrong. */
int rs_proj_cache_read(const char *path, int32_t rows, int32_t dim, uint64_t fingerprint,
                       rs_proj *out[RS_PROJ_NMETHODS], float var[2], int *stale, rs_error *e);

/* Writes the cache (atomically): the projections of proj[] that are not NULL, each of
 * `rows` points. */
int rs_proj_cache_write(const char *path, int32_t rows, int32_t dim, uint64_t fingerprint,
                        rs_proj *const proj[RS_PROJ_NMETHODS], const float var[2],
                        rs_error *e);

#endif
