/* sgns.h - skip-gram with negative sampling over receipts (the product and category
 * models of DESIGN §2).
 *
 * A receipt is a sentence without order: for every item, the other items of the
 * receipt are its contexts (all of them with window = 0, else `window` sampled
 * without replacement).  Negatives come from the unigram distribution raised to
 * ns_exponent (0 = uniform over the vocabulary, negative values favour rare items);
 * frequent items are subsampled word2vec-style with threshold `subsample`; the
 * learning rate decays linearly from lr to lr * 1e-4 over all epochs; receipts are
 * shuffled every epoch.  Threads update the shared matrices without locks (Hogwild, as
 * the original word2vec); with threads = 1 and a fixed seed the result is
 * bit-identical from run to run.
 */
#ifndef RS_SGNS_H
#define RS_SGNS_H

#include <stddef.h>
#include <stdint.h>

#include "corpus.h"
#include "embedding.h"
#include "error.h"

typedef struct rs_sgns_params {
    int dim;            /* vector size (64) */
    int epochs;         /* passes over the receipts (20) */
    int negative;       /* negatives per positive pair (5) */
    double ns_exponent; /* unigram exponent for negative sampling (0.75) */
    double subsample;   /* subsampling threshold t, 0 = off (1e-3) */
    double lr;          /* starting learning rate (0.025) */
    int min_count;      /* items in fewer receipts are left out of the vocabulary (1) */
    int window;         /* contexts per item: 0 = the whole receipt (0) */
    int threads;        /* worker threads (1) */
    uint64_t seed;      /* random seed (1) */
    int shared_negatives; /* 1: one negative set per target and receipt, reused for all
                             its contexts (faster, lower quality); 0: per pair, as
                             word2vec (0) */
} rs_sgns_params;

void rs_sgns_defaults(rs_sgns_params *p);
/* RS_EUSAGE naming the parameter when a value is out of range. */
int rs_sgns_params_check(const rs_sgns_params *p, rs_error *e);
/* The parameters as a JSON object (for the registry and the sidecar); returns the
 * length, or -1 when buf is too small (512 bytes always suffice). */
int rs_sgns_params_json(const rs_sgns_params *p, char *buf, size_t n);

/* Trains on every receipt of c.  Progress (0..1) is reported through the optional
 * callback from the first thread, at most ~10 times a second. */
typedef void (*rs_progress_fn)(void *ctx, double done);
int rs_sgns_train(const rs_corpus *c, const rs_sgns_params *p, rs_progress_fn progress,
                  void *progress_ctx, rs_embedding **out, rs_error *e);

/* The kinds "product" and "category" (kinds.h): the parameter group (dim, epochs,
 * negative, ns_exponent, subsample, lr, min_count, window, threads; seed), the fit and
 * the completion part (in.out). */
typedef struct rs_param_group rs_param_group;
typedef struct rs_fit_opts rs_fit_opts;
typedef struct rs_completion_parts rs_completion_parts;
extern const rs_param_group RS_SGNS_PARAMS;
int rs_sgns_fit_kind(const rs_corpus *c, const void *params, const rs_fit_opts *o,
                     rs_embedding **out, rs_error *e);
void rs_sgns_parts(const rs_embedding *m, const void *params, rs_completion_parts *parts);

#endif
