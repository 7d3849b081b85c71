/* personal.h - first-level personal recommenders: every product scored for one
 * customer from their history (issue 14).
 *
 * A history is a list of receipts (corpus rows, oldest first) and "now", the time the
 * recommendation is made for.  Each receipt weighs by its recency:
 *   w_r = 0.5 ^ ((now - ts_r) / half_life)            when times are known,
 *   w_r = 0.5 ^ ((newest position - position_r) / half_life_orders)   otherwise;
 * a product's history weight is the sum of w_r over the receipts holding it, and its
 * count the number of those receipts.  Methods:
 *   popularity  log(1 + training receipts holding the item): the city's baseline
 *   buyagain    the customer's own products by history weight (frequency × recency,
 *               the "own purchases" recommender); products never bought: -INFINITY
 *   itemitem    sum of weight × cosine co-occurrence (knn.h, fitted on customer rows)
 *   ease        sum of weight × B rows (ease.h, fitted on customer rows)
 *   als         fold-in of the history with confidence 1 + alpha × count (als.h, fitted
 *               on customer rows: the user factors of the history)
 *   sgns        (sum of weight × input vector) · output vector (the product model)
 * Unlike basket completion, the history's products are NOT excluded: buying again is
 * the commonest purchase.  Higher is better; -INFINITY where a method cannot score.
 * Ties are broken by the caller (rank order: score, then smaller item).
 */
#ifndef RS_PERSONAL_H
#define RS_PERSONAL_H

#include <stdint.h>

#include "corpus.h"
#include "embedding.h"
#include "error.h"

typedef enum {
    RS_PERS_POPULARITY = 0,
    RS_PERS_BUYAGAIN,
    RS_PERS_ITEMITEM,
    RS_PERS_EASE,
    RS_PERS_ALS,
    RS_PERS_SGNS,
    RS_PERS_RANKED, /* the second level over the others (custrank.h); not scored here */
    RS_PERS_N,
} rs_pers_method;

/* "popularity", "buyagain", "itemitem", "ease", "als", "sgns", "ranked". */
const char *rs_pers_method_name(int m);
int rs_pers_method_parse(const char *name, int *out, rs_error *e);

typedef struct rs_knn rs_knn;

/* The fitted parts (any may be NULL: that method cannot score).  Borrowed. */
typedef struct rs_personal_parts {
    int32_t n_items;
    const int64_t *pop_counts;   /* [n_items] training receipts holding each item */
    const rs_knn *knn;
    const rs_embedding *ease;
    const rs_embedding *als;
    double als_lambda, als_alpha;
    const rs_embedding *sgns;
    double half_life_days;       /* default 30 */
    double half_life_orders;     /* default 4 */
} rs_personal_parts;

void rs_personal_parts_defaults(rs_personal_parts *p);

/* Scratch for one thread. */
typedef struct rs_personal rs_personal;
int rs_personal_new(const rs_personal_parts *p, rs_personal **out, rs_error *e);
void rs_personal_free(rs_personal *p);

/* Sets the history the next scores are for: rows[0..n) of corpus c, oldest first, and
 * now (unix seconds; ignored when the receipts carry no time).  Returns the number of
 * distinct products in it. */
int rs_personal_set_history(rs_personal *p, const rs_corpus *c, const int64_t *rows,
                            int64_t n, int64_t now);
/* The history's distinct products (ascending), their weights and counts. */
int32_t rs_personal_history(const rs_personal *p, const int32_t **items, const float **weight,
                            const float **count);
/* scores[n_items] for method m; returns how many history products the method knew
 * (popularity: the history size), or -1 when the method has no part (and for
 * RS_PERS_RANKED, which custrank.h scores). */
int rs_personal_score(rs_personal *p, int m, float *scores);

#endif
