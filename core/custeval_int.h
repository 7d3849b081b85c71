/* custeval_int.h - what custeval.c shares with the second level (custrank.c): the
 * first-level models fitted on one side of a split, and a customer's history there.
 * Private to core. */
#ifndef RS_CUSTEVAL_INT_H
#define RS_CUSTEVAL_INT_H

#include <stdint.h>

#include "custeval.h"
#include "embedding.h"
#include "history.h"
#include "personal.h"

typedef struct rs_knn rs_knn;

/* The first-level models fitted on the rows r with held[r] == 0 (owned). */
typedef struct rs_custfit {
    rs_corpus *train, *cust;
    int64_t *pop;
    rs_knn *knn;
    rs_embedding *ease, *als, *sgns;
    double secs[RS_PERS_N];
} rs_custfit;

/* Fits every first-level method of o->methods; a method that cannot be fitted is
 * noted in res->skipped and left NULL. */
int rs_custfit_run(const rs_histories *h, const uint8_t *held, const rs_custeval_opts *o,
                   rs_custfit *f, rs_custeval_result *res, rs_error *e);
void rs_custfit_free(rs_custfit *f);
/* The personal parts over f (borrowed from f). */
void rs_custfit_parts(const rs_custfit *f, int32_t n_items, const rs_custeval_opts *o,
                      rs_personal_parts *parts);

/* Customer k's rows with held[r] == 0 into rows (time order), their count returned;
 * *now: cutoff when > 0, else the time of the customer's first held row (0 if none). */
int64_t rs_custeval_history(const rs_histories *h, const uint8_t *held, int32_t k,
                            int64_t cutoff, int64_t *rows, int64_t *now);

#endif
