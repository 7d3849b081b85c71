/* rec_internal.h - what the recommender's files share (private to core/recommend.c and
 * core/rec_*.c; the public API is recommend.h).
 *
 *   recommend.c        open / close / reload, model slots, the row caches, the result,
 *                      rs_recommend() (validates the query and runs each kind)
 *   rec_catalogue.c    catalogue, popularity and co-purchase index loading; lookups by
 *                      external id, name search; co-purchase counts of a query
 *   rec_synonyms.c     the synonyms kind
 *   rec_categories.c   the category softmax (categories kind, and complements' step 1)
 *   rec_complements.c  the complements kind and rs_rec_allocate()
 *   rec_completion.c   the completion kind, the scorer pool, rs_recommend_many()
 *
 * Every kind has the same shape: rec_run_<kind>(r, q, res) fills res->lists[kind]
 * (status and message when it cannot answer; never an error return) using the scratch
 * space of res.
 */
#ifndef RS_REC_INTERNAL_H
#define RS_REC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "recommend.h"
#include "sgns.h"
#include "topheap.h"

typedef struct rs_completion rs_completion;

/* The completion scorers (one per concurrent caller; each is not thread-safe). */
typedef struct comp_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rs_completion **scorers;
    int n;
    int *free_stack; /* indices of idle scorers */
    int n_free;
} comp_pool;

/* The city's validated category ranking (RS_CHOICE_CATEGORIES, rec_categories.c): one
 * scorer over the category index space behind a mutex (scoring a few hundred
 * categories takes microseconds). */
typedef struct cat_rank {
    pthread_mutex_t mu;
    rs_completion *scorer;
    float *scores;       /* [n_items] the scorer's output, under mu */
    int64_t city;        /* city whose choice answered */
    char name[256];      /* the scorer's name, e.g. "blend(itemitem 0.50, ease 0.50)" */
} cat_rank;

/* The normalised input matrix of the product model ([rows * dim]), needed only by
 * whole-catalogue synonyms: built on the first such query (open stays cheap; the
 * per-category path normalises the few rows it reads, with the same arithmetic). */
typedef struct norm_cache {
    pthread_mutex_t mu;
    float *m;            /* NULL until built */
    int failed;          /* out of memory building it */
    /* 1/|row| of each row as the bits of a double, 0 until first computed (any thread
     * may fill an entry: they all store the same bits; relaxed atomics make that
     * race-free and cost a plain load/store) */
    _Atomic uint64_t *inv;
    int32_t rows;
    /* batches (rec_cat_rows): the product model's normalised input rows and its output
     * rows copied in cat_items order, so a category's products are read sequentially
     * (zero rows for products without one); NULL until built */
    float *cat_norm, *cat_out;
    int cat_failed;
} norm_cache;

typedef struct model_slot {
    rs_embedding *m;
    int status;          /* RS_OK when loaded */
    char message[256];
    int64_t city;        /* city whose model answered */
    int64_t id;          /* models.id */
    char path[1024];
    int broken;          /* a model is registered active but its file did not load */
    rs_error err;        /* then: why (the file and what is wrong) */
    /* the model loaded but has no output vectors (imported from word2vec without them,
     * or its file says so): the kinds that need them say this, decided once at open */
    int no_output;
    char no_output_msg[256];
} model_slot;

struct rs_recommender {
    rs_store *store;
    int64_t city;
    char city_name[256];
    rs_rec_options opt;

    /* catalogue */
    int32_t n_products, n_categories;
    char **ext, **name;  /* [n_products], "" for holes */
    int32_t *prod_cat;   /* [n_products] category index, -1 none */
    char **cat_name;     /* [n_categories] */
    char **cat_ext;      /* [n_categories] */
    int32_t *cat_parent; /* [n_categories] parent category index, -1 none */
    int64_t *cat_off;    /* [n_categories + 1] products of each category (CSR) */
    int32_t *cat_items;
    int32_t *ext_table;  /* open addressing: product index + 1, 0 empty */
    size_t ext_cap;
    char *strings;       /* every catalogue string (ext, name, cat_name, cat_ext) */

    /* popularity in the city */
    int64_t n_receipts;
    int64_t *pop;        /* [n_products] */
    double *pct;
    int64_t *cpop;       /* [n_categories] */
    double *cshare, *cpct;

    /* co-purchase: receipts (0..n_receipts) of each product, ascending */
    int64_t *post_off;   /* [n_products + 1], NULL without the index */
    int32_t *post;
    int64_t *post_receipt; /* [n_post_receipts] receipts.id of each receipt (0..) of the
                              postings, for the receipts behind a count (rec_receipts.c) */
    int64_t n_post_receipts;

    /* models */
    model_slot pm, cm;   /* product, category */
    cat_rank *cr;        /* the category ranking; NULL: the category model's softmax */
    float *pm_out_mean;  /* [dim] the mean output row of the product model (NULL: none) */
    struct norm_cache *norm; /* the whole normalised input matrix, built on first use */

    /* completion */
    comp_pool *pool;
    int comp_status;
    char comp_message[256];
    char comp_name[256];
    int64_t comp_city;
    int comp_is_popularity;       /* the scorer is popularity alone */
    char comp_fallback_name[320]; /* model_path of a popularity fallback list */
};

typedef struct rs_rec_scratch {
    float *f;      size_t f_cap;   /* scores */
    float *v;      size_t v_cap;   /* a query vector */
    double *d;     size_t d_cap;   /* category logits / weights */
    int32_t *h;    size_t h_cap;   /* top-k heap (indices) */
    float *hs;     size_t hs_cap;  /* top-k heap (scores) */
    int32_t *u;    size_t u_cap;   /* union of the query's receipts */
    int32_t *cats; size_t cats_cap;
    double *cw;    size_t cw_cap;  /* category weight / importance / t / share (4 x C) */
    int *slots;    size_t slots_cap;
    int d_valid;                   /* d holds this call's category weights */
    uint8_t *isq;  size_t isq_cap; /* query product flags */
    uint8_t *isqc; size_t isqc_cap;/* query category flags */
    double *acc;   size_t acc_cap; /* a vector sum in double */
    float *nr;     size_t nr_cap;  /* one normalised product row */
    const float *cn, *co;          /* a batch's category-ordered rows (rec_cat_rows),
                                    * else NULL */
    /* the completion scorer's scores of this call's context (rec_completion_scores),
     * shared by complements and completion: csp points at cs (one query) or at the
     * query's row of a batch's block (in the first result's cs); NULL until scored */
    float *cs;     size_t cs_cap;
    const float *csp;
    int32_t cs_n;                  /* entries of csp (the scorer's items) */
    int cs_known;                  /* context products the scorer knew */
    int cs_failed;                 /* the scorer could not score (none, or no memory) */
    /* the query's receipts as a bitmap over the city's receipts (rec_query_receipts;
     * all zero between calls): u_valid when u[0..u_n) and qb hold this call's */
    uint64_t *qb;  size_t qb_cap;  /* (capacity in bytes) */
    int u_valid;
    int64_t u_n;
} rs_rec_scratch;

/* ---- small shared pieces (recommend.c) ---- */

/* Grows *p to hold n elements of size sz (keeps contents).  0 on success. */
int rec_grow(void *pp, size_t *cap, size_t n, size_t sz);
/* Grows a flag array keeping it all-zero beyond the old size (callers keep the used
 * part zero between calls). */
int rec_grow_zero(uint8_t **p, size_t *cap, size_t n);

static inline int rec_has_row(const rs_embedding *m, int32_t item)
{
    return m && item >= 0 && item < m->n_items && m->item_row[item] >= 0 &&
           m->item_row[item] < m->rows;
}

static inline int rec_masked_out(const rs_recommender *r, const rs_rec_query *q, int32_t p)
{
    if (q->flags & RS_REC_NO_MASK)
        return 0;
    double pc = r->pct[p];
    return pc < q->min_pct || pc > q->max_pct;
}

/* Prefetches the row of product p (if it has one) of a row-major matrix: the
 * per-category scans read rows scattered over a 25 MB matrix, and waiting for them
 * was most of their time. */
static inline void rec_prefetch_row(const rs_embedding *m, const float *base, int32_t p)
{
    if (p >= 0 && p < m->n_items && m->item_row[p] >= 0) {
        const char *x = (const char *)(base + (size_t)m->item_row[p] * (size_t)m->dim);
        size_t bytes = (size_t)m->dim * sizeof(float);
        for (size_t o = 0; o < bytes; o += 64)
            __builtin_prefetch(x + o);
    }
}

enum { REC_PREFETCH_AHEAD = 8 }; /* rows ahead of the one being scored */

/* Row `row` of the product model's input matrix scaled to unit length (a zero row
 * stays zero).  The one definition of a normalised row: the per-category synonyms and
 * the whole matrix give the same bits. */
void rec_norm_row(const rs_embedding *m, const norm_cache *c, int32_t row, float *out);

/* acc[0..dim) = the sum, in double, of the input rows of those items[0..n) that have
 * a row in m, each scaled to unit length first when norm_cache is given (tmp then
 * holds dim floats).  Returns how many items had a row.  The query vector of the
 * synonyms (normalised product rows) and of the categories (category rows). */
int rec_sum_rows(const rs_embedding *m, const norm_cache *norm_cache, const int32_t *items,
                 int n, double *acc, float *tmp);

/* The top-k heap over the scratch's heap arrays; 0, or -1 when out of memory. */
int rec_topk_init(rs_rec_scratch *sc, rs_topheap *t, int k);
/* Room for n rows in the list; 0, or -1 when out of memory. */
int rec_list_reserve(rs_rec_list *l, int n);
void rec_fill_product_row(const rs_recommender *r, rs_rec_row *row, int32_t p, double score);
/* The product rows of heap t, best first, as the list (sorts t). */
void rec_list_from_heap(const rs_recommender *r, rs_rec_list *l, rs_topheap *t);
/* The list's status, message and model from a model slot. */
void rec_list_model(rs_rec_list *l, const model_slot *m);
/* Marks the list as failed for lack of memory. */
void rec_list_oom(rs_rec_list *l);
/* Every kind that reads a model's output vectors (categories: the category model's;
 * complements: both models') asks this first: 0 when the slot's model has them, else
 * -1 after setting l's status (RS_EDATA) and message (the model and what it lacks). */
int rec_need_output(rs_rec_list *l, const model_slot *m);

/* The category-ordered rows of the batch (see norm_cache), built once under the
 * cache's mutex; 0 when they are there, -1 (nothing set) when out of memory. */
int rec_cat_rows(const rs_recommender *r, const float **cn, const float **co);

/* ---- catalogue (rec_catalogue.c) ---- */

int rec_load_catalogue(rs_recommender *r, rs_error *e);
/* Popularity of products and categories in the city, and the co-purchase index
 * (unless opt.no_copurchase). */
int rec_load_popularity(rs_recommender *r, rs_error *e);
/* Receipts of the city holding any query product of res (sorted union, in
 * res->scratch->u, and as a bitmap in res->scratch->qb); *n their number.  Computed
 * once per call (rec_end clears it).  0, or -1 when out of memory. */
int rec_query_receipts(const rs_recommender *r, rs_rec_result *res, int64_t *n);
void rec_query_receipts_clear(rs_rec_result *res);
/* row->copurchase and row->lift of product p with res's query, after
 * rec_query_receipts(); needs the co-purchase index. */
void rec_copurchase(const rs_recommender *r, const rs_rec_result *res, int32_t p,
                    rs_rec_row *row);
/* Poisson tails: P(X <= k) and P(X >= k) for X ~ Poisson(lambda) (the count of a pair
 * bought together if the two were bought independently: lambda = pop(p) pop(Q) / N). */
double rec_poisson_cdf(int64_t k, double lambda);
double rec_poisson_sf(int64_t k, double lambda);

/* ---- a query in three steps (rs_recommend = begin, run, end; a batch interleaves
 * them to score the completion of all its queries as one block) ---- */

/* Resets the lists (kinds not in q->kinds: "not asked"), checks the query, sets the
 * query arrays and flags.  RS_OK or the error of rs_recommend(). */
int rec_begin(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res, rs_error *e);
/* Runs the kinds of `kinds` (within q->kinds), in kind order. */
void rec_run(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res,
             unsigned kinds);
/* Clears the flags rec_begin set. */
void rec_end(const rs_recommender *r, rs_rec_result *res);

/* ---- the kinds ---- */

void rec_run_synonyms(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res);
void rec_run_categories(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res);
void rec_run_complements(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res);
void rec_run_completion(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res);

/* Category softmax over the eligible categories; res->scratch->d[row] = weight of the
 * category model's row (0 when not eligible), computed once per rs_recommend() call.
 * Returns 0, or -1 after setting l's status and message. */
int rec_category_weights(const rs_recommender *r, const rs_rec_query *q, rs_rec_result *res,
                         rs_rec_list *l);

/* ---- completion scorers (rec_completion.c) ---- */

/* The category ranking of the city (r->cr stays NULL when none is stored, or when
 * it cannot be opened: the categories kind then answers with the category model). */
int rec_open_category_rank(rs_recommender *r, rs_error *e);
void rec_close_category_rank(cat_rank *cr);

int rec_open_completion(rs_recommender *r, rs_error *e);
void rec_close_completion(comp_pool *p);
/* Whether a completion scorer is loaded; whether it is in.out of the product model
 * alone (then complements compute that ranking themselves); its name. */
int rec_scorer_usable(const rs_recommender *r);
int rec_scorer_is_inout(const rs_recommender *r);
const char *rec_scorer_name(const rs_recommender *r);
/* The scorer's scores of res's context in res->scratch->csp (computed once per call;
 * a batch sets them for the whole block first).  0, or -1 (no scorer, no memory). */
int rec_completion_scores(const rs_recommender *r, rs_rec_result *res);

#endif
