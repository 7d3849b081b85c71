/* synth.h - a reproducible synthetic retail world (DESIGN §6).
 *
 * rs_synth_write() builds a world from a seed and writes four files into a directory,
 * in the canonical layout the importer reads:
 *
 *   products.csv    product_id,name,category,department,brand,price
 *   categories.csv  category,department
 *   receipts.csv    receipt_id,product_id,city,quantity,timestamp,customer_id
 *                   (one line per item; receipt ids ascend with the timestamp)
 *   truth.json      the planted structure: substitute groups, complementary category
 *                   pairs, city tastes, local products, customers with at least three
 *                   receipts (tastes, brand, staples) (keys in a fixed order)
 *
 * The generative model, built so that a skip-gram model can recover it:
 *   - categories (under departments) have Zipf popularity; products inside a category
 *     are partitioned into "needs": substitute groups of 2..6 products (about half the
 *     products) and singletons; needs have Zipf popularity inside their category and
 *     the members of a group a milder Zipf share of their need;
 *   - a receipt holds at most one member of a group (a second member only with
 *     probability dup_prob when the need comes up again), and whichever member is
 *     picked the rest of the receipt comes from the same distribution, so members
 *     share contexts and rarely share receipts;
 *   - every category has 1..3 complementary categories (symmetric pairs); every need
 *     has 2..4 companion needs drawn mostly from those categories;
 *   - a receipt has 1 + Poisson(mean_receipt_size - 1) items (capped); it starts from
 *     a need drawn by the city's popularity, and each further item is, with
 *     probability companion_prob, a companion of an item already in the receipt, else
 *     a fresh need by popularity;
 *   - each city multiplies the popularity of a handful of categories and has a few
 *     products sold only there;
 *   - every receipt belongs to a customer of its city (a skewed draw: some come often),
 *     and customers have planted tastes (favourite categories), a favourite brand and
 *     staples they buy again at their own intervals (synth_customers.c).
 *
 * Everything comes from one xoshiro256** generator per purpose, seeded by splitmix64
 * from the seed: the same parameters give byte-identical files on every run.  The
 * catalogue does not depend on the number of receipts.
 *
 * Word lists come from the .txt files in assets/names (see its README.txt), found in
 * p->assets_dir, else $RECOSCOPE_ASSETS, else the compile-time RS_ASSETS_DIR.
 */
#ifndef RS_SYNTH_H
#define RS_SYNTH_H

#include <stdint.h>

#include "error.h"

typedef struct rs_synth_params {
    uint64_t seed;
    int cities;
    int departments;
    int categories;
    int64_t products;
    int64_t receipts;
    const char *assets_dir;     /* NULL: $RECOSCOPE_ASSETS, else RS_ASSETS_DIR */

    /* Shape of the model (defaults from rs_synth_defaults). */
    double mean_receipt_size;   /* 8: size = 1 + Poisson(mean - 1) */
    int max_receipt_size;       /* 40 */
    double companion_prob;      /* 0.6 */
    double grouped_share;       /* 0.5: share of products in substitute groups */
    double dup_prob;            /* 0.025: chance a repeated group need adds a 2nd member */
    double category_zipf;       /* 0.8 */
    double need_zipf;           /* 0.8 */
    double member_zipf;         /* 0.5 */
    int days;                   /* 90: period covered by the timestamps */
    /* Customers (synth_customers.c): the personal structure planted in the receipts. */
    double receipts_per_customer; /* 6: a city's customers = its receipts / this */
    double taste_prob;          /* 0.3: a fresh need comes from the customer's tastes */
    double loyalty;             /* 0.6: the favourite brand is picked when the need has it */
    double staple_prob;         /* 0.8: a due staple is bought */
} rs_synth_params;

/* What one run produced (optional output of rs_synth_run). */
typedef struct rs_synth_summary {
    int64_t products;
    int64_t receipts;
    int64_t receipt_lines;
    int64_t substitute_groups;
    int64_t grouped_products;
    int64_t complementary_pairs;
    int64_t local_products;
} rs_synth_summary;

/* Default world (large = 0): 5 cities, 20 departments, 200 categories, 5,000
 * products, 100,000 receipts.  large = 1: 20 cities, 24 departments, 1,300
 * categories, 100,000 products, 1,000,000 receipts.  Seed 1. */
void rs_synth_defaults(rs_synth_params *p, int large);

/* Builds the world of p and writes it into out_dir (created, with parents, when
 * missing).  Files are written under temporary names and renamed only when all four
 * are complete.  RS_EUSAGE for parameters the word lists or the model cannot satisfy,
 * RS_EDATA for a bad word list, RS_EINTERNAL for I/O or memory. */
int rs_synth_write(const rs_synth_params *p, const char *out_dir, rs_error *e);

/* The same, filling *sum (may be NULL) with counts of what was written. */
int rs_synth_run(const rs_synth_params *p, const char *out_dir, rs_synth_summary *sum,
                 rs_error *e);

#endif
