/* clusters.h - derived categories: spherical k-means on a product model's input
 * vectors, each cluster named by the words of its products' names.
 *
 * Where the catalogue has no categories to speak of (the complete Online Retail file:
 * 3,941 products in one "(uncategorised)" category; a one-basket-per-line file: every
 * product its own category), the clusters of the product model stand in for them.
 *
 *   k-means   on the unit-normalised input vectors (cosine, the synonyms' geometry):
 *             k-means++ seeding (seeded), then Lloyd steps - similarities to the
 *             centroids by BLAS sgemm, each row to its most similar centroid (ties:
 *             the lower cluster), centroids = normalised sums - until no row moves
 *             or max_iter.  An emptied cluster is re-seeded with the row least
 *             similar to its own centroid.
 *   choosing  k among candidates by the mean silhouette (cosine distance) on a fixed
 *             sample of at most 2,000 rows: the k whose clusters are both tight and
 *             apart; ties go to the smaller k.
 *   naming    each cluster by its three most distinctive name words: words of
 *             three or more letters without digits, lowercased, a few stop words
 *             left out; a word scores (products of the cluster whose name holds it)
 *             x log((N + 1) / (products holding it + 1)) over the N named products;
 *             ties by the word.  A name already taken gets the next word.
 */
#ifndef RS_CLUSTERS_H
#define RS_CLUSTERS_H

#include <stdint.h>

#include "embedding.h"
#include "error.h"

typedef struct rs_clusters {
    int k;
    int32_t rows;       /* rows clustered: the model's rows, in its order */
    int32_t dim;
    int32_t *assign;    /* [rows] cluster of each row */
    float *centroids;   /* [k * dim] unit vectors */
    int32_t *size;      /* [k] rows per cluster */
    double cohesion;    /* mean cosine of a row to its centroid */
    double silhouette;  /* mean silhouette on the sample (NAN: not computed) */
    int iterations;     /* Lloyd steps run */
    char **name;        /* [k] names (rs_clusters_name), NULL entries before */
} rs_clusters;

typedef struct rs_kmeans_opts {
    int max_iter;  /* Lloyd steps at most (50) */
    uint64_t seed; /* (1) */
    int sample;    /* rows of the silhouette sample (2000) */
} rs_kmeans_opts;

void rs_kmeans_opts_defaults(rs_kmeans_opts *o);

/* k clusters of the model's rows (1 <= k <= rows; RS_EUSAGE otherwise). */
int rs_kmeans(const rs_embedding *m, int k, const rs_kmeans_opts *o, rs_clusters **out,
              rs_error *e);

/* The mean silhouette of c on a seeded sample of o->sample rows (cosine distance; a
 * row alone in its cluster within the sample scores 0).  NAN when out of memory. */
double rs_clusters_silhouette(const rs_embedding *m, const rs_clusters *c,
                              const rs_kmeans_opts *o);

/* Clusters for each candidate k (those with 2 <= k <= rows / 2), scored by their
 * silhouette (scores[i] receives candidate i's, NAN when skipped; may be NULL); the
 * best is returned.  RS_EUSAGE when no candidate fits the model. */
int rs_kmeans_choose(const rs_embedding *m, const int *ks, int nk, const rs_kmeans_opts *o,
                     rs_clusters **out, double *scores, rs_error *e);

/* Names the clusters (see the top): item_name[item] is the name of each item of the
 * model's index space (NULL: unnamed).  A cluster without a usable word is named
 * "cluster N" (N from 1). */
int rs_clusters_name(rs_clusters *c, const rs_embedding *m, const char *const *item_name,
                     rs_error *e);

void rs_clusters_free(rs_clusters *c);

#endif
