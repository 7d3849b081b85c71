/* train.h - `recoscope train` as a core function: fit, validate and register the
 * models of every kind (kinds.h) per city, and choose each city's completion ranking.
 *
 * Per city (every city with >= min_receipts receipts, plus all cities = 0; a database
 * of one city trains city 0 only, whose models would be the city's exact twins):
 *   1. for each kind and each parameter combination (the grid's, or the base
 *      parameters): fit on the grid-search fit part (buckets 2..4), score basket
 *      completion on the validation part (bucket 1, at most max_valid receipts, a fixed
 *      sample), one `runs` row each;
 *   2. the best combination (by `select`) is refitted on `split` (all receipts by
 *      default), saved, registered and made active; its run gets selected = 1.  When
 *      the city already has an active model of the kind with other parameters, those
 *      are fitted on the same fit part and scored on the same validation part first;
 *      if they score better the active model stays (unless `force`), the new one is
 *      registered inactive, a NOTE gives both figures, and the completion choice uses
 *      the model that stays;
 *   3. with split all: the completion methods (popularity, item-item, the best fit-part
 *      model of every product kind and blends of their standardised scores) are scored
 *      on the validation part; the best becomes the city's completion choice
 *      (completion_choice.h) and its run (kind "completion") is selected.
 * The held-out part (bucket 0) is never touched here (`eval` reports on it).  A fit
 * that fails, diverges or yields non-finite values registers nothing: the previous
 * active model stays.  Inside a grid a combination that diverges is reported and
 * skipped; the kind fails only when every combination does.
 *
 * The whole plan is checked before anything trains: every grid key is known (the grid
 * parser), no kind has more than RS_GRID_MAX_COMBOS combinations, and the runs of all
 * cities and kinds together are at most max_runs unless `yes` (RS_EUSAGE otherwise,
 * with the count).
 *
 * Core never prints: what happens is reported through the callback, one event per
 * line of news (rs_train_event), with the city's name.
 */
#ifndef RS_TRAIN_H
#define RS_TRAIN_H

#include <stdint.h>

#include "corpus.h"
#include "error.h"
#include "grid.h"
#include "kinds.h"
#include "metrics.h"
#include "store.h"

#define RS_TRAIN_MAX_RUNS 100 /* default max_runs: runs of a plan without --yes */

typedef enum {
    RS_TRAIN_CITY,     /* a city starts: receipts, fit/validation/final sizes, queries */
    RS_TRAIN_PROGRESS, /* progress of the current step (label, progress 0..1) */
    RS_TRAIN_RUN,      /* one combination scored: kind, index/count, params, metrics */
    RS_TRAIN_FINAL,    /* the best refitted and active: kind, params, model_id */
    RS_TRAIN_CHOICE,   /* the completion choice: text (its JSON), metrics, count */
    RS_TRAIN_NOTE,     /* something worth saying: text (a kind skipped, ...) */
    RS_TRAIN_FAILED,   /* a kind (or the choice) failed: kind, text; previous kept */
} rs_train_event_type;

typedef struct rs_train_event {
    rs_train_event_type type;
    int64_t city_id;
    const char *city;      /* its name; "all cities" for 0 */
    const char *kind;      /* kind name, "completion", or NULL */
    const char *label;     /* PROGRESS: what is running */
    double progress;       /* PROGRESS: 0..1 */
    int64_t index, count;  /* RUN: combination index (1-based) of count; CHOICE: count */
    const char *params;    /* RUN, FINAL: the parameters' JSON */
    const rs_rank_metrics *metrics; /* RUN, CHOICE: validation metrics */
    double seconds;        /* RUN: fit, FINAL: refit, CHOICE: scoring */
    int64_t model_id;      /* FINAL */
    const char *text;      /* NOTE, FAILED: the message; CHOICE: the choice's JSON */
    int64_t receipts, fit, valid, queries, final; /* CITY: receipts of each part */
    const char *split;     /* CITY, FINAL: the final split's name */
    int inactive;          /* FINAL: registered inactive (the active model scored better) */
} rs_train_event;

typedef void (*rs_train_event_fn)(void *ctx, const rs_train_event *ev);

typedef struct rs_train_opts {
    const char *city;        /* a city's name ("all" = all cities); NULL: every city */
    uint32_t kinds;          /* bit i = RS_KINDS[i]; 0 = every kind */
    rs_split split;          /* RS_SPLIT_ALL (models for browsing) or RS_SPLIT_TRAIN */
    const rs_grid *grid;     /* NULL: the base parameters only */
    const char *select;      /* metric name (rs_rank_metric_get); NULL: RS_SELECT_DEFAULT */
    int64_t min_receipts;    /* cities with fewer are skipped */
    int32_t ease_cap;        /* EASE: at most this many items, the most frequent (0: default) */
    int64_t max_valid;       /* validation receipts scored (0 = all) */
    int64_t max_runs;        /* 0: RS_TRAIN_MAX_RUNS */
    int yes;                 /* run a plan over max_runs */
    int if_changed;          /* only the cities whose active models of these kinds are
                                older than their receipts (serve_store.h); a NOTE
                                event says why each city is trained or skipped */
    rs_train_params base;    /* parameters the grid varies */
    rs_train_event_fn event; /* may be NULL */
    void *event_ctx;
    int progress;            /* send RS_TRAIN_PROGRESS events */
    double budget;           /* > 0: seconds the grid search of each city may take: each
                                kind gets the budget left over the kinds left, and stops
                                before a combination that would not end in its share
                                (its first combination always runs; a NOTE says how
                                many ran).  0: the whole grid */
    int force;               /* the new model becomes active even when the active one
                                scores better on the validation part */
} rs_train_opts;

/* The default search of `recoscope train` (a grid, rs_grid_parse): per kind a few
 * values of the parameters that matter most on real baskets, ordered so the most
 * promising combinations come first (the last key varies fastest) - SGNS
 * ns_exponent 0 / 0.5 / -0.5 / 1 (uniform negatives first: on grocery baskets the
 * word2vec 0.75 halves HR@10), subsampling and epochs; ALS alpha, lambda, factors (64, 32: never more factors than a small catalogue has products);
 * EASE lambda.  Meant with a budget (RS_TRAIN_DEFAULT_BUDGET). */
const char *rs_train_default_search(void);
#define RS_TRAIN_DEFAULT_BUDGET 60.0

/* Defaults: every kind, split all, no grid, ndcg@10, min_receipts 1000, ease_cap
 * RS_EASE_DEFAULT_ITEMS, max_valid 2000, default parameters (1 thread). */
void rs_train_opts_defaults(rs_train_opts *o);

/* Trains as described above.  Returns the first failure's code (a failed kind does not
 * stop the other kinds and cities; each failure is also an RS_TRAIN_FAILED event). */
int rs_train(rs_store *s, const rs_train_opts *o, rs_error *e);

#endif
