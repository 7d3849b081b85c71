/* completion.h - one basket-completion scorer over every method (DESIGN §2, §4).
 *
 * Given a context (item indices of a basket), a scorer gives every item of the index
 * space a score; higher is better; items that cannot be scored and the context items
 * themselves get -INFINITY.  Methods:
 *   popularity  log(1 + receipts holding the item)
 *   itemitem    sum over the context of cosine co-occurrence (knn.h)
 *   sgns        sum over the context of in[ctx] . out[item] (the product model)
 *   als         implicit-ALS fold-in of the basket, then u . y[item] (als.h)
 *   ease        sum over the context of B[ctx][item] (ease.h)
 *   glove       sum over the context of in[ctx] . out[item] of the GloVe model (glove.h)
 *   blend       sum over methods of w_m * z_m(item), where z_m is method m's score
 *               standardised over the items it can score (mean 0, sd 1); items a
 *               method cannot score take that method's minimum z.  Only items the
 *               first non-popularity part (or popularity) can score are candidates.
 *
 * The ACTIVE completion model of a city is what `train` (grid search) selected.  It
 * is stored in meta under the key "completion:<city_id>" as JSON:
 *   {"method":"blend",                      -- or popularity|itemitem|sgns|als|ease
 *    "weights":{"ease":0.7,"sgns":0.2,"popularity":0.1},   -- only for blend
 *    "models":{"product":12,"ease":14,"als":13},            -- models.id used
 *    "run":57, "metrics":{"hr@10":...}}     -- the runs row; validation metrics
 * and the matching grid-search row in `runs` (kind "completion", params = method and
 * weights) has selected = 1.  `train` (split all) writes it after each run, choosing
 * among popularity, item-item and the SGNS/ALS/EASE models fitted in that run (single
 * methods and blends; see cli/cmd_train.c), by validation metrics.
 * rs_completion_open() reads the city's key, else "completion:0" (all cities); when
 * neither exists it falls back to the active product model's in.out (sgns) of the
 * city / all cities, and at last to popularity.  Model ids that are missing from the
 * registry make it fall back to the active model of that kind.
 */
#ifndef RS_COMPLETION_H
#define RS_COMPLETION_H

#include <stdint.h>

#include "corpus.h"
#include "error.h"
#include "embedding.h"
#include "kinds.h"
#include "store.h"

typedef enum {
    RS_COMP_POPULARITY = 0,
    RS_COMP_ITEMITEM,
    RS_COMP_SGNS,
    RS_COMP_ALS,
    RS_COMP_EASE,
    RS_COMP_GLOVE,
    RS_COMP_N, /* number of base methods; a blend mixes them */
} rs_comp_method;

/* "popularity", "itemitem", "sgns", "als", "ease", "glove" (NULL for out of range). */
const char *rs_comp_method_name(rs_comp_method m);
/* Parses one of the names above; RS_EUSAGE naming the word otherwise. */
int rs_comp_method_parse(const char *name, rs_comp_method *out, rs_error *e);

typedef struct rs_knn rs_knn;   /* knn.h */

/* The parts a scorer mixes; unused parts may be NULL.  Nothing here is owned by the
 * scorer built with rs_completion_from_parts() (the caller keeps them alive). */
typedef struct rs_completion_parts {
    int32_t n_items;
    const int64_t *pop_counts;   /* [n_items] training receipts holding each item */
    const rs_knn *knn;
    const rs_embedding *sgns;    /* product model, in.out */
    const rs_embedding *als;     /* item factors in `in` (see als.h) */
    const rs_embedding *ease;    /* B rows in `in` (dim = rows, see ease.h) */
    const rs_embedding *glove;   /* GloVe model, in.out (glove.h) */
    float als_lambda, als_alpha; /* fold-in parameters of the ALS model */
    double weights[RS_COMP_N];   /* blend weights; a single method = one weight 1 */
} rs_completion_parts;

typedef struct rs_completion rs_completion;

/* A scorer over in-memory parts (evaluation, grid search). */
int rs_completion_from_parts(const rs_completion_parts *p, rs_completion **out,
                             rs_error *e);

/* Loads the city's ACTIVE completion model (see the top of this file), with fallback
 * to all cities; *used_city (may be NULL) says which city's choice answered. */
int rs_completion_open(rs_store *s, int64_t city_id, rs_completion **out,
                       int64_t *used_city, rs_error *e);
/* The same over baskets b (kinds.h): RS_BASKETS_PRODUCTS is rs_completion_open;
 * RS_BASKETS_CATEGORIES opens the city's category ranking (completion_choice.h,
 * RS_CHOICE_CATEGORIES; all cities' when the city has none) over the category index
 * space (categories.id - 1), the ranking of the Categories pane.  RS_EUSAGE when no
 * category ranking is stored (the caller keeps its own fallback). */
int rs_completion_open_baskets(rs_store *s, int64_t city_id, rs_baskets b, rs_completion **out,
                               int64_t *used_city, rs_error *e);
void rs_completion_close(rs_completion *c);

/* Size of the index space (products.id - 1); scores has this many entries. */
int32_t rs_completion_n_items(const rs_completion *c);

/* Scores every item for the context (item indices, duplicates allowed, out-of-range
 * indices ignored).  Context items get -INFINITY.  Returns how many context items
 * the scorer knew (0 = only popularity could answer).  Not thread-safe per scorer
 * (it keeps scratch space); use one scorer per thread. */
int rs_completion_score(rs_completion *c, const int32_t *ctx, int n, float *scores);

/* Contexts scored together by rs_completion_score_many(): the SGNS part is one sgemm
 * per block of this many contexts. */
#define RS_COMP_BLOCK 64

/* Scores n_contexts contexts at once: context b is ctx[off[b] .. off[b+1]-1] (off has
 * n_contexts + 1 entries); its scores go to scores + b * n_items (the caller provides
 * n_contexts * n_items floats), known[b] (known may be NULL) receives what
 * rs_completion_score() would return.  The scores are exactly (bit for bit) those of
 * rs_completion_score() on each context; the in.out part reads the output matrix once
 * per RS_COMP_BLOCK contexts (one cblas_sgemm) instead of once per context.  Returns
 * how many contexts had a known item. */
int rs_completion_score_many(rs_completion *c, const int32_t *ctx, const int32_t *off,
                             int n_contexts, float *scores, int *known);

/* Whether rs_completion_topk_many() can answer: the scorer is sgns alone. */
int rs_completion_topk_ok(const rs_completion *c);
/* The top k of rs_completion_score_many() per context without the full scores: the
 * selection is fused into the in.out kernel (no n_contexts * n_items block is written
 * or read back).  Context b (ctx[off[b] .. off[b+1]-1]) gets, in idx/sc + b * k, its
 * cnt[b] <= k best items, best first: the items with a finite score (above -INFINITY,
 * not NaN), not in the context and with allow[item] != 0 (allow NULL: all allowed),
 * ordered by score (exactly those of rs_completion_score_many) descending, ties by
 * the smaller item.  known as for rs_completion_score_many.  Returns how many contexts
 * had a known item, or -1 when !rs_completion_topk_ok(c), k < 1 or out of memory.
 * Unlike the other scoring calls it only reads the scorer: concurrent calls (threads)
 * may share one scorer. */
int rs_completion_topk_many(const rs_completion *c, const int32_t *ctx, const int32_t *off,
                            int n_contexts, const uint8_t *allow, int k, int32_t *idx,
                            float *sc, int *cnt, int *known);
/* Tests: caps the in.out kernel of the scorer: 0 the best the machine has (AVX-512,
 * AVX2, portable), 1 at most AVX2, 2 the portable one.  All give the same bits (one
 * fused multiply-add chain per score); this lets a test check that. */
void rs_completion_use_kernel(rs_completion *c, int kernel);

/* Evaluating many blends at once (grid search, eval.c): the standardised scores of
 * every method whose part is present and whose weight in the scorer is non-zero, for
 * z[m] != NULL (n_items floats each; NaN where the method cannot score), zlo[m] the
 * lowest z.  sum_m w_m * (z[m] or zlo[m] where NaN) over the candidates gives what
 * rs_completion_score() gives for a scorer with weights w.  Returns the known context
 * count. */
int rs_completion_zscores(rs_completion *c, const int32_t *ctx, int n, float *const *z,
                          float *zlo);
/* The items any part can score (ascending); only they can be recommended. */
int32_t rs_completion_candidates(const rs_completion *c, const int32_t **idx);

/* A short name for display, e.g. "blend(ease 0.70, sgns 0.20, popularity 0.10)" or
 * "sgns" (valid while c lives). */
const char *rs_completion_name(const rs_completion *c);

#endif
