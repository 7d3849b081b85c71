/* stats.h - summary statistics of a database (recoscope stats). */
#ifndef RS_STATS_H
#define RS_STATS_H

#include <stdint.h>

#include "error.h"
#include "store.h"

#define RS_STATS_TOP 10
#define RS_STATS_BINS 12

typedef struct rs_stats_item {
    int64_t id;
    char *ext_id, *name;
    int64_t receipts;
    double share; /* receipts holding it / receipts of the city */
} rs_stats_item;

typedef struct rs_stats_city {
    int64_t id;
    char *name;
    int64_t receipts;
} rs_stats_city;

typedef struct rs_stats {
    int64_t city_id;  /* 0 = all cities */
    int64_t products, categories, departments, ncities, receipts, lines;
    int64_t derived_categories; /* of categories: derived (clusters_store.h) */
    rs_stats_city *cities; /* all cities, by id */
    rs_stats_item top_products[RS_STATS_TOP], top_categories[RS_STATS_TOP];
    int ntop_products, ntop_categories;
    /* receipt size = distinct products per receipt (receipts of the city) */
    int64_t size_min, size_max;
    double size_mean, size_median;
    int64_t hist[RS_STATS_BINS]; /* sizes in [rs_stats_bin_lo[i], rs_stats_bin_lo[i+1]) */
} rs_stats;

/* Lower bounds of the histogram bins; the last bin is open-ended. */
extern const int rs_stats_bin_lo[RS_STATS_BINS];

/* Fills st for city (0 = all cities).  Counts of products/categories/departments are
 * the catalogue's; receipts, lines, top lists and sizes are the city's. */
int rs_stats_compute(rs_store *s, int64_t city, rs_stats *st, rs_error *e);
void rs_stats_free(rs_stats *st);

#endif
