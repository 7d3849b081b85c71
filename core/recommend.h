/* recommend.h - the recommenders of DESIGN §3 for one city: synonyms, categories,
 * complements (and basket completion), with the numbers that explain every row.
 *
 * An rs_recommender is opened on a store and a city.  It loads, once:
 *   - the active product model ("product", split "all") of the city, else all cities;
 *   - the active category model ("category", split "all") of the city, else all cities;
 *   - the city's active basket-completion scorer (completion.h), one per worker;
 *   - the catalogue (ext ids, names, categories) and the popularity of products and
 *     categories in the city (product_popularity / category_popularity; computed from
 *     the receipts with the same definition when those tables hold nothing for the city);
 *   - an inverted index product -> receipts of the city, for co-purchase counts.
 * After rs_recommender_open() returns, the recommender is read-only: any number of
 * threads may call rs_recommend() at once, each with ITS OWN rs_rec_result (the result
 * carries the scratch space).  rs_recommender_reload() must not run concurrently with
 * queries.
 *
 * Kinds (for a query of products q1..qn, n = 1 for a single product):
 *   synonyms     cosine of input vectors: the query vector is the normalised mean of
 *                the members' normalised input vectors; query products excluded; the
 *                popularity mask applied.  score = cosine.  Candidates are the products
 *                of the query's categories (a substitute meets the same need; on the
 *                synthetic world this lifts precision@5 against the planted substitute
 *                groups from 0.71 to 0.92, because whole-receipt contexts also make
 *                complements close in input space); RS_REC_SYNONYMS_ANY_CATEGORY
 *                searches the whole catalogue (one sgemv).  With the co-purchase
 *                index, candidates bought with the query far above chance (lift >= 2
 *                and a count significantly above independence: Poisson upper tail
 *                < 0.01) are complements, not substitutes: they are demoted after
 *                every other candidate (row.demoted; each group by cosine), and every
 *                row carries its co-purchase count and lift.  RS_REC_KEEP_BELOW_CHANCE
 *                turns the demotion off.
 *   categories   the category model's softmax: the mean of the input vectors of the
 *                query's (distinct) categories dotted with the output vector of every
 *                category, softmax over the eligible categories (the query's own
 *                categories are excluded unless RS_REC_INCLUDE_OWN_CATEGORY), top-k.
 *                score = softmax weight (weights of ALL eligible categories sum to 1).
 *   complements  the original system's method:
 *                1. w_c = category weights (own category excluded by default); the
 *                   candidates are the 2C categories with the largest w_c, of which
 *                   the C = `complement_categories` with the largest importance;
 *                2. importance_c = w_c * share_c, share_c = receipts of the city holding
 *                   category c / receipts of the city (category_popularity.share);
 *                3. t_c = Yeo-Johnson(importance) with λ by maximum likelihood, then
 *                   standardised (powertf.h; equals scikit-learn's PowerTransformer);
 *                4. share of slots s_c = softmax(t)_c;
 *                5. k slots allocated by largest remainder (rs_rec_allocate());
 *                   slots a category cannot fill (too few eligible products) go to the
 *                   next categories in share order;
 *                6. inside a category, products ranked by the city's active
 *                   completion scorer for the query (EASE, a blend ...: the validated
 *                   one, the same scores as the completion kind), after the
 *                   popularity mask, query products excluded; by the product model's
 *                   sum over the query of in[q] . out[p] when the scorer is that
 *                   (sgns alone), is not loaded (rs_rec_options.no_completion) or
 *                   knows no product of the query (list.scorer says which);
 *                7. a candidate bought with the query less often than chance is not
 *                   a complement and is left out (list.n_below_chance counts them;
 *                   RS_REC_KEEP_BELOW_CHANCE keeps them): its co-purchase count is
 *                   significantly below independence (pop(p) pop(Q) / N, Poisson
 *                   lower tail < 0.05), or below it (or not counted) while its score
 *                   is below the score of the scorer's average item; its slot goes to
 *                   the category's next candidate, then to the next categories.
 *                Rows are ordered by category share (desc), then product score (desc).
 *                score = the product score of step 6.
 *   completion   the city's active completion scorer (completion.h: sgns / ease / als /
 *                blend ...), context excluded, popularity mask applied unless
 *                RS_REC_NO_MASK, no category allocation.  score = the scorer's score.
 *                When the scorer knows no product of the context (none is in its
 *                models, or the query is empty: allowed for completion alone), its
 *                scores say nothing: the most popular products of the city answer
 *                instead, score log(1 + receipts), and the list says so
 *                (popularity_fallback, model_path).
 *
 * Popularity mask: a product is kept iff min_pct <= percentile <= max_pct, with its
 * percentile in the city (products never sold in the city have popularity 0 and
 * percentile 0).  RS_REC_NO_MASK switches it off.
 * Ordering is deterministic: score descending, ties by product (category) index
 * ascending.
 * Co-purchase (complements, synonyms): copurchase = receipts of the city holding the
 * row's product and at least one query product; lift = copurchase * N /
 * (pop(p) * pop(Q)), N = receipts of the city, pop(Q) = receipts of the city holding
 * any query product (0 when a count is 0).  Counted over the posting lists built at
 * open, against a bitmap of the query's receipts.
 */
#ifndef RS_RECOMMEND_H
#define RS_RECOMMEND_H

#include <stdint.h>

#include "error.h"
#include "store.h"

typedef enum {
    RS_REC_SYNONYMS = 0,
    RS_REC_CATEGORIES,
    RS_REC_COMPLEMENTS,
    RS_REC_COMPLETION,
    RS_REC_NKINDS,
} rs_rec_kind;

/* "synonyms", "categories", "complements", "completion". */
const char *rs_rec_kind_name(rs_rec_kind k);
/* Parses a kind name; RS_EUSAGE otherwise. */
int rs_rec_kind_parse(const char *name, rs_rec_kind *out, rs_error *e);

#define RS_REC_BIT(kind) (1u << (kind))
#define RS_REC_ALL_KINDS                                                                  \
    (RS_REC_BIT(RS_REC_SYNONYMS) | RS_REC_BIT(RS_REC_CATEGORIES) |                      \
     RS_REC_BIT(RS_REC_COMPLEMENTS))

#define RS_REC_K_MAX 1000              /* largest k accepted per kind */
#define RS_REC_DEFAULT_K 10
#define RS_REC_DEFAULT_MIN_PCT 5.0
#define RS_REC_DEFAULT_MAX_PCT 99.0
#define RS_REC_DEFAULT_COMPLEMENT_CATEGORIES 5

enum {
    RS_REC_NO_MASK = 1,              /* no popularity mask (any kind) */
    RS_REC_INCLUDE_OWN_CATEGORY = 2, /* categories/complements may use the query's own */
    RS_REC_NO_COPURCHASE = 4,        /* skip co-purchase counts (faster batch) */
    RS_REC_SYNONYMS_ANY_CATEGORY = 8, /* synonyms from every category, not only the
                                         query's own */
    RS_REC_KEEP_BELOW_CHANCE = 16,    /* complements: keep the candidates bought with
                                         the query less often than chance; synonyms:
                                         do not demote complements */
};

typedef struct rs_rec_query {
    const int32_t *products; /* product indices (products.id - 1), duplicates ignored */
    int n_products;          /* >= 1 (0: completion alone, see rs_recommend) */
    unsigned kinds;          /* RS_REC_BIT(kind) mask; default RS_REC_ALL_KINDS */
    int k[RS_REC_NKINDS];    /* rows wanted per kind, 1..RS_REC_K_MAX (default 10) */
    double min_pct, max_pct; /* popularity mask bounds, 0..100 (defaults 5, 99) */
    unsigned flags;          /* RS_REC_NO_MASK | RS_REC_INCLUDE_OWN_CATEGORY | ... */
    int complement_categories; /* candidate categories for complements (default 5) */
} rs_rec_query;

/* Fills q with the defaults above (products NULL, n_products 0). */
void rs_rec_query_defaults(rs_rec_query *q);

/* One recommended product (or category, for the categories kind). */
typedef struct rs_rec_row {
    int32_t index;          /* product index, or category index for categories */
    const char *ext_id;     /* product (or category) external id; strings are owned by
                               the recommender (valid until reload/close) */
    const char *name;
    const char *category;   /* product's category name; for a category row: its parent's
                               name ("" when none) */
    int32_t category_index; /* product's category index; for a category row: itself */
    double score;           /* see the kinds above */
    int64_t popularity;     /* receipts of the city holding it */
    double percentile;      /* 0..100 in the city */
    /* complements only (0 elsewhere): the numbers of the category step ... */
    double cat_weight;      /* w_c (categories softmax weight) */
    double cat_importance;  /* w_c * share_c */
    double cat_transformed; /* Yeo-Johnson + standardised importance */
    double cat_share;       /* softmax share of the slots */
    int cat_slots;          /* slots the category received */
    /* ... and of the pair (query, product) in the city (complements and synonyms) */
    int64_t copurchase;     /* -1 when RS_REC_NO_COPURCHASE or without the index */
    double lift;
    int demoted;            /* synonyms: bought with the query far above chance (a
                               complement), so ranked after the substitutes */
} rs_rec_row;

/* The answer of one kind. */
typedef struct rs_rec_list {
    rs_rec_row *rows;
    int n;
    int status;             /* RS_OK, or the error code when this kind could not answer
                               (e.g. no model of that kind at all, or the kind was not
                               asked for: RS_EUSAGE "not asked"); rows empty then */
    char message[256];      /* why it could not answer, or a note ("" normally) */
    int64_t model_city;     /* city whose model answered: the query city, or 0 (fallback) */
    int64_t model_id;       /* models.id (0 for the completion scorer) */
    const char *model_path; /* model file, or the completion scorer's name */
    /* complements also use the category model: which one answered ("" elsewhere) */
    int64_t model2_city;
    int64_t model2_id;
    const char *model2_path;
    /* completion: 1 when the scorer knew no product of the context (not in its models,
     * or the query is empty) and popularity answered instead (model_path says so) */
    int popularity_fallback;
    /* complements: what ranked the products inside each category (the completion
     * scorer's name, e.g. "blend(sgns 0.75, ease 0.25)", or "in.out" of the product
     * model when no scorer is loaded or it knows no product of the context); "" else */
    const char *scorer;
    /* complements: candidates left out because their score and co-purchase evidence
     * say they are bought with the query less often than chance (see above) */
    int n_below_chance;
} rs_rec_list;

typedef struct rs_rec_result {
    rs_rec_list lists[RS_REC_NKINDS];
    int32_t *query;         /* the distinct query products, in input order */
    int n_query;
    int32_t *query_categories; /* their distinct categories */
    int n_query_categories;
    struct rs_rec_scratch *scratch; /* private */
} rs_rec_result;

typedef struct rs_recommender rs_recommender;

typedef struct rs_rec_options {
    int workers;          /* completion scorers to open, one per concurrent caller (1) */
    int no_completion;    /* do not open a completion scorer (0) */
    int no_copurchase;    /* do not build the co-purchase index (0) */
    int shared_sgns;      /* batches: when the active completion is sgns alone, open ONE
                           * scorer whatever workers says; rs_recommend_many's completion
                           * (fused top-k) shares it between threads, other completion
                           * calls take turns on it (0) */
    int64_t product_model; /* a registered product model (models.id) answering instead
                            * of the active one, e.g. a previous model to compare with
                            * (0: the active one) */
} rs_rec_options;

void rs_rec_options_defaults(rs_rec_options *o);

/* Opens the recommender for city_id (0 = all cities).  A missing product or category
 * model is NOT an error: the kinds that need it report status/message in their list.
 * Unknown city: RS_EUSAGE.  The store must stay open while the recommender lives; the
 * recommender only reads it. */
int rs_recommender_open(rs_store *s, int64_t city_id, const rs_rec_options *opt,
                        rs_recommender **out, rs_error *e);
void rs_recommender_close(rs_recommender *r);

/* RS_OK unless a model that `kinds` (RS_REC_BIT mask) needs is registered active but
 * its file failed to load (truncated, deleted, corrupt): then that error (RS_EDATA, or
 * RS_EINTERNAL), whose message names the model file and what is wrong.  A kind whose
 * model was simply never trained is not an error here (its list reports it).  The
 * TUI keeps working with the other kinds; the CLI treats a broken model as an error. */
int rs_rec_check_models(const rs_recommender *r, unsigned kinds, rs_error *e);

/* Reloads models, catalogue and popularity (after `train` or `import` ran).  On error
 * the recommender keeps its previous state.  *changed (may be NULL) is set to 1 when
 * anything new was loaded.  Not concurrent with queries; results computed before hold
 * pointers to the old strings: recompute them. */
int rs_recommender_reload(rs_recommender *r, int *changed, rs_error *e);

/* Runs the query.  res must come from rs_rec_result_new() and is overwritten.
 * Errors: RS_EUSAGE for an empty query (unless q->kinds is the completion kind alone:
 * then popularity answers), an out-of-range product index, k or bounds out of range.
 * A kind without a model is not an error (see rs_rec_list.status); nor is a model
 * without the output vectors a kind needs (categories, complements: the list says
 * so). */
int rs_recommend(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res,
                 rs_error *e);

/* Runs n queries (a batch): like n calls of rs_recommend() into res[0..n-1] (distinct
 * results), except that the completion kind of all of them is scored as one block by
 * the completion scorer (rs_completion_score_many: the same scores, the model read once
 * per block).  codes[i] / errs[i] receive what rs_recommend() would return for query
 * i (RS_OK, or its error).  The scores of the whole block are kept in the scratch of
 * the first query's result (n * products floats).  Returns RS_OK. */
int rs_recommend_many(const rs_recommender *r, const rs_rec_query *qs, int n,
                      rs_rec_result *const *res, int *codes, rs_error *errs);

rs_rec_result *rs_rec_result_new(void);
void rs_rec_result_free(rs_rec_result *res);

/* ---- catalogue and lookups (for the TUI and the CLI) ---- */

int64_t rs_rec_city(const rs_recommender *r);
const char *rs_rec_city_name(const rs_recommender *r); /* "all" for city 0 */
int32_t rs_rec_n_products(const rs_recommender *r);
int32_t rs_rec_n_categories(const rs_recommender *r);
int64_t rs_rec_n_receipts(const rs_recommender *r);     /* receipts of the city */

typedef struct rs_rec_product {
    int32_t index;
    const char *ext_id;     /* owned by the recommender */
    const char *name;
    int32_t category_index; /* -1 when none */
    const char *category;   /* "" when none */
    int64_t popularity;     /* receipts of the city holding it */
    double percentile;
    int in_product_model;   /* has a row in the product model that answers */
} rs_rec_product;

/* Product by index; RS_EUSAGE when out of range. */
int rs_rec_product_info(const rs_recommender *r, int32_t index, rs_rec_product *info,
                        rs_error *e);
/* Category name / popularity by category index (name "" when out of range). */
const char *rs_rec_category_name(const rs_recommender *r, int32_t category_index);
int64_t rs_rec_category_popularity(const rs_recommender *r, int32_t category_index,
                                   double *share, double *percentile);
/* Popularity arrays of the city, n_products entries each (for histograms). */
const int64_t *rs_rec_popularity_counts(const rs_recommender *r);
const double *rs_rec_popularity_percentiles(const rs_recommender *r);

/* External id -> product index; RS_EUSAGE "unknown product 'X'" when absent. */
int rs_rec_find_ext(const rs_recommender *r, const char *ext_id, int32_t *index,
                    rs_error *e);
/* Name search: FTS5 prefix query over the words of text (every word must match a
 * word prefix), best matches first (bm25, then popularity in the city); when FTS finds
 * nothing, a case-insensitive substring match (LIKE) on names, most popular first.
 * Writes up to max indices to out and their number to *n (0 is not an error; an empty
 * or all-space text matches nothing). */
int rs_rec_search(const rs_recommender *r, const char *text, int32_t *out, int max, int *n,
                  rs_error *e);
/* Resolves a user's product argument: an exact ext id, else the best name match.
 * RS_EUSAGE when nothing matches, and for an empty or all-space text (which would
 * match every name). */
int rs_rec_resolve(const rs_recommender *r, const char *text, int32_t *index, rs_error *e);

/* The receipts behind a co-purchase count: the receipts.id of the city's receipts
 * holding product p and at least one of the nq query products other than p (the
 * receipts rs_rec_row.copurchase counts), ascending; *ids is malloc-ed.  RS_EUSAGE
 * when the recommender has no co-purchase index (opened with no_copurchase) or for
 * an index out of range. */
int rs_rec_copurchase_receipts(const rs_recommender *r, const int32_t *query, int nq,
                               int32_t p, int64_t **ids, int64_t *n, rs_error *e);

/* ---- pieces exposed for tests and explanations ---- */

/* Largest-remainder allocation of k slots by shares (any non-negative numbers,
 * normalised here): slots[i] = floor(k * s_i) plus one for the k - sum largest
 * fractional remainders (ties: larger share, then smaller i).  All shares 0: equal. */
void rs_rec_allocate(const double *shares, int n, int k, int *slots);

#endif
