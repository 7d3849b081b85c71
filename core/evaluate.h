/* evaluate.h - `recoscope eval` as a core function: the held-out figures of DESIGN §4
 * for one city, as rows.
 *
 * Never scores a model on receipts it was trained on: every kind of the table
 * (kinds.h) is refitted here on the training part (FNV-1a-64 % 5 != 0, or everything
 * before the last holdout_days) with the parameters of the city's active model of that
 * kind (all cities' when the city has none; defaults when neither), and scored on the
 * held-out part, beside the baselines (popularity, item-item) of its baskets.  Product
 * baskets also get the row of the active completion choice rebuilt from those copies,
 * and the synonym metrics of the kinds whose input vectors answer synonyms; category
 * baskets (each receipt's distinct categories) the category kinds.  Every row also goes
 * into the evaluations table.
 */
#ifndef RS_EVALUATE_H
#define RS_EVALUATE_H

#include <stdint.h>

#include "error.h"
#include "eval.h"
#include "kinds.h"
#include "store.h"

typedef struct rs_eval_row {
    char method[128];  /* "popularity", "sgns in.out", "completion blend(...)", ... */
    char params[512];  /* parameters' JSON ("{}" for baselines and the choice) */
    rs_baskets baskets;
    rs_rank_metrics m;
    double fit_s;      /* seconds to fit (the choice: the sum of its parts') */
    char models[192];  /* the registered models it measured, {"kind":id,...} (the
                          active model whose parameters were refitted; the choice's
                          parts); "" for baselines (model.h, rs_evaluation_stale) */
} rs_eval_row;

typedef struct rs_eval_syn_row {
    char method[64];   /* "synonyms sgns in.in" */
    int min_count;     /* items with at least this many training receipts */
    rs_synonym_metrics m;
    char models[64];   /* as rs_eval_row.models */
} rs_eval_syn_row;

typedef struct rs_eval_report {
    int64_t city_id;
    char city[256];    /* its name, "all cities" for 0 */
    char split[48];    /* "hash-test" or "last-N-days" */
    int k;
    int64_t train_receipts, test_receipts;
    int64_t queries[2]; /* [rs_baskets] */
    int n_rows;
    rs_eval_row rows[32];   /* product baskets first, then category baskets */
    int n_synonyms;
    rs_eval_syn_row synonyms[4];
} rs_eval_report;

/* Messages on the way: RS_EVAL_INFO is progress (worth showing on a terminal only),
 * RS_EVAL_WARN a method left out and why. */
typedef enum { RS_EVAL_INFO = 0, RS_EVAL_WARN } rs_eval_note_type;
typedef void (*rs_eval_note_fn)(void *ctx, rs_eval_note_type type, const char *text);

typedef struct rs_eval_opts {
    const char *city;       /* name; NULL or "all": all cities */
    int k;                  /* list length (10) */
    int holdout_days;       /* > 0: time split */
    int32_t ease_cap;       /* EASE: the most frequent items (0: RS_EASE_DEFAULT_ITEMS) */
    rs_eval_note_fn note;   /* may be NULL */
    void *note_ctx;
} rs_eval_opts;

void rs_eval_opts_defaults(rs_eval_opts *o);

/* A row's metrics as stored in the evaluations table: the rank metrics
 * (rs_rank_metrics_json) plus "fit_seconds" and "params" (malloc-ed; NULL on OOM). */
char *rs_eval_row_json(const rs_eval_row *row);

/* Evaluates and records; *out is malloc-ed (free()). */
int rs_evaluate(rs_store *s, const rs_eval_opts *o, rs_eval_report **out, rs_error *e);

#endif
