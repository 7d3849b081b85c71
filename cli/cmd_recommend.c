/* cmd_recommend.c - `recoscope recommend`: synonyms, categories and complements for a
 * product or a basket in a city (a table, or one JSON object), and the batch protocol
 * (one context a line in, one JSON line out, in order) used by scripts and by the
 * independent quality harness (shared/tools/basket_eval.py --batch).
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/jsonw.h"
#include "../core/rec_json.h"
#include "../core/recommend.h"
#include "../core/store.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: recoscope recommend (--product ID | --name TEXT | --basket ID,ID,...)\n"
            "                           [--city C] [--kind synonyms|categories|complements|all]\n"
            "                           [-k N] [--min-pct P] [--max-pct P] [--no-mask]\n"
            "                           [--own-category] [--categories N] [--json]\n"
            "       recoscope recommend --batch FILE|- [--city C] [-k N] [--min-pct P]\n"
            "                           [--max-pct P] [--no-mask] [--threads N]\n"
            "\n"
            "Recommendations for a product (or a basket) in a city, from the city's models,\n"
            "else the all-cities models (the output says which model answered):\n"
            "  synonyms     substitutes: cosine of the product model's input vectors\n"
            "  categories   the category model's softmax for the query's category(ies)\n"
            "  complements  products of those categories: Yeo-Johnson-balanced shares of the\n"
            "               k slots, products ranked by input.output with the query\n"
            "\n"
            "options:\n"
            "  --product ID    a product's external id\n"
            "  --name TEXT     a name search (best match; word prefixes, else substring)\n"
            "  --basket IDS    comma-separated external ids (a basket context)\n"
            "  --city C        city name (default: all cities)\n"
            "  --kind K        synonyms, categories, complements, completion or all (default all:\n"
            "                  the first three)\n"
            "  -k N            rows per kind, 1..%d (default %d)\n"
            "  --min-pct P     drop products below this popularity percentile in the city (%g)\n"
            "  --max-pct P     drop products above this popularity percentile (%g)\n"
            "  --no-mask       no popularity mask\n"
            "  --own-category  let categories/complements use the query's own category\n"
            "  --categories N  candidate categories for complements (default %d)\n"
            "  --json          one JSON object instead of the table\n"
            "  --batch FILE    one context a line (a JSON array of ids, or space-separated\n"
            "                  ids when the line does not start with '['); '-' = stdin.  One\n"
            "                  JSON line out per line, in order, with the arrays synonyms,\n"
            "                  categories, complements and completion (the city's active\n"
            "                  basket-completion model); unknown ids give an \"error\" field\n"
            "  --threads N     batch worker threads (default 2)\n"
            "\n"
            "Every row carries score, popularity (receipts of the city holding it) and its\n"
            "percentile; complement rows also the category weight, importance, transformed\n"
            "score, share and slots, and the co-purchase count and lift with the query.\n"
            "\n"
            "exit codes: 0 ok; 1 usage (bad option, unknown product or city, empty basket,\n"
            "k or percentiles out of range); 2 bad data (database or model file);\n"
            "3 internal error\n",
            RS_REC_K_MAX, RS_REC_DEFAULT_K, RS_REC_DEFAULT_MIN_PCT, RS_REC_DEFAULT_MAX_PCT,
            RS_REC_DEFAULT_COMPLEMENT_CATEGORIES);
}

/* ---------------------------------------------------------------- the table */

/* Writes s for the terminal: control characters (C0, DEL, C1) and invalid UTF-8 as '?',
 * cut to width code points (with '~'), padded to width when pad. */
static void put_clean(const char *s, int width, int pad)
{
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    int cols = 0;
    size_t len = 0;
    for (const unsigned char *t = u; *t; cols++) {
        int n = rs_utf8_valid_len(t);
        t += n ? n : 1;
    }
    int cut = cols > width;
    cols = 0;
    while (*u && cols < width - cut) {
        int n = rs_utf8_valid_len(u);
        if (n == 0 || *u < 0x20 || *u == 0x7f || (n == 2 && u[0] == 0xc2 && u[1] < 0xa0)) {
            putchar('?');
            u += n ? n : 1;
        } else {
            fwrite(u, 1, (size_t)n, stdout);
            u += n;
        }
        cols++;
        len++;
    }
    if (cut) {
        putchar('~');
        cols++;
    }
    while (pad && cols++ < width)
        putchar(' ');
}

static void print_model_line(const rs_recommender *r, const char *what, int64_t city,
                             const char *path)
{
    printf("  %s model: ", what);
    if (city == rs_rec_city(r) && city != 0) {
        printf("city '");
        put_clean(rs_rec_city_name(r), 40, 0);
        printf("'");
    } else if (city == rs_rec_city(r)) {
        printf("all cities");
    } else {
        printf("all cities (fallback: no model for '");
        put_clean(rs_rec_city_name(r), 40, 0);
        printf("')");
    }
    printf(", ");
    put_clean(path, 200, 0);
    printf("\n");
}

static void print_table(const rs_recommender *r, const rs_rec_result *res, unsigned kinds)
{
    printf("city: ");
    put_clean(rs_rec_city_name(r), 60, 0);
    printf("   receipts: %lld\nquery:\n", (long long)rs_rec_n_receipts(r));
    for (int i = 0; i < res->n_query; i++) {
        rs_rec_product p;
        if (rs_rec_product_info(r, res->query[i], &p, NULL))
            continue;
        printf("  ");
        put_clean(p.ext_id, 12, 1);
        printf(" ");
        put_clean(p.name, 40, 1);
        printf(" [");
        put_clean(p.category, 30, 0);
        printf("]  popularity %lld (p%.1f)%s\n", (long long)p.popularity, p.percentile,
               p.in_product_model || !(kinds & (RS_REC_BIT(RS_REC_SYNONYMS) |
                                                 RS_REC_BIT(RS_REC_COMPLEMENTS)))
                   ? ""
                   : "  (not in the product model)");
    }
    for (int k = 0; k < RS_REC_NKINDS; k++) {
        if (!(kinds & RS_REC_BIT(k)))
            continue;
        const rs_rec_list *l = &res->lists[k];
        printf("\n%s\n", k == RS_REC_SYNONYMS      ? "SYNONYMS (substitutes)"
                         : k == RS_REC_CATEGORIES  ? "CATEGORIES"
                         : k == RS_REC_COMPLEMENTS ? "COMPLEMENTS"
                                                   : "COMPLETION");
        if (l->status) {
            printf("  (none: ");
            put_clean(l->message, 200, 0);
            printf(")\n");
            continue;
        }
        if (k == RS_REC_COMPLETION) {
            printf("  completion model: ");
            put_clean(l->model_path, 120, 0);
            printf(" (%s)\n", l->model_city ? "city" : "all cities");
        } else {
            print_model_line(r, k == RS_REC_CATEGORIES ? "category" : "product", l->model_city,
                             l->model_path);
            if (k == RS_REC_COMPLEMENTS)
                print_model_line(r, "category", l->model2_city, l->model2_path);
        }
        if (l->n == 0) {
            printf("  (no rows: everything was masked or excluded)\n");
            continue;
        }
        if (k == RS_REC_CATEGORIES) {
            printf("  %3s %-40s %-24s %8s %9s %6s\n", "#", "category", "parent", "weight",
                   "receipts", "pct");
            for (int i = 0; i < l->n; i++) {
                const rs_rec_row *w = &l->rows[i];
                printf("  %3d ", i + 1);
                put_clean(w->name, 40, 1);
                printf(" ");
                put_clean(w->category, 24, 1);
                printf(" %8.4f %9lld %6.1f\n", w->score, (long long)w->popularity, w->percentile);
            }
        } else if (k == RS_REC_COMPLEMENTS) {
            printf("  %3s %-12s %-30s %-20s %7s %7s %6s %6s %7s %6s %6s %6s\n", "#", "id",
                   "name", "category", "cat.w", "transf", "share", "slots", "score",
                   "pop", "co", "lift");
            for (int i = 0; i < l->n; i++) {
                const rs_rec_row *w = &l->rows[i];
                printf("  %3d ", i + 1);
                put_clean(w->ext_id, 12, 1);
                printf(" ");
                put_clean(w->name, 30, 1);
                printf(" ");
                put_clean(w->category, 20, 1);
                printf(" %7.4f %7.3f %6.3f %6d %7.3f %6lld", w->cat_weight, w->cat_transformed,
                       w->cat_share, w->cat_slots, w->score, (long long)w->popularity);
                if (w->copurchase >= 0)
                    printf(" %6lld %6.2f\n", (long long)w->copurchase, w->lift);
                else
                    printf(" %6s %6s\n", "-", "-");
            }
        } else {
            printf("  %3s %-12s %-40s %-24s %8s %7s %6s\n", "#", "id", "name", "category",
                   k == RS_REC_SYNONYMS ? "cosine" : "score", "pop", "pct");
            for (int i = 0; i < l->n; i++) {
                const rs_rec_row *w = &l->rows[i];
                printf("  %3d ", i + 1);
                put_clean(w->ext_id, 12, 1);
                printf(" ");
                put_clean(w->name, 40, 1);
                printf(" ");
                put_clean(w->category, 24, 1);
                printf(" %8.4f %7lld %6.1f\n", w->score, (long long)w->popularity, w->percentile);
            }
        }
    }
}

/* ---------------------------------------------------------------- batch */

typedef struct line_job {
    char *text;    /* the input line (owned) */
    char *out;     /* the JSON line (owned) */
    size_t out_len;
} line_job;

typedef struct batch_ctx {
    const rs_recommender *r;
    rs_rec_query q; /* products filled per line */
    line_job *jobs;
    size_t n_jobs;
    size_t next;    /* guarded by mu */
    pthread_mutex_t mu;
    int failed;     /* an internal error (out of memory) */
    rs_error err;
} batch_ctx;

/* Splits a context line into ids: a JSON array of strings (or numbers), or
 * whitespace-separated ids.  Returns 0, or -1 with a message in err. */
static int parse_context(const char *line, char ***ids, int *n, char *err, size_t errn)
{
    *ids = NULL;
    *n = 0;
    const char *s = line;
    while (*s == ' ' || *s == '\t')
        s++;
    char **v = NULL;
    int cnt = 0, cap = 0;
    if (*s == '[') {
        cJSON *a = cJSON_Parse(s);
        if (!a || !cJSON_IsArray(a)) {
            cJSON_Delete(a);
            snprintf(err, errn, "not a JSON array of product ids");
            return -1;
        }
        int m = cJSON_GetArraySize(a);
        v = calloc((size_t)m + 1, sizeof *v);
        if (!v) {
            cJSON_Delete(a);
            snprintf(err, errn, "out of memory");
            return -1;
        }
        cJSON *it;
        cJSON_ArrayForEach(it, a)
        {
            char buf[64];
            const char *id = NULL;
            if (cJSON_IsString(it))
                id = it->valuestring;
            else if (cJSON_IsNumber(it)) {
                if (it->valuedouble == floor(it->valuedouble) && fabs(it->valuedouble) < 1e15)
                    snprintf(buf, sizeof buf, "%.0f", it->valuedouble);
                else
                    snprintf(buf, sizeof buf, "%.17g", it->valuedouble);
                id = buf;
            }
            if (!id) {
                snprintf(err, errn, "element %d of the array is not an id", cnt + 1);
                goto fail_json;
            }
            if (!(v[cnt] = strdup(id))) {
                snprintf(err, errn, "out of memory");
                goto fail_json;
            }
            cnt++;
        }
        cJSON_Delete(a);
        *ids = v;
        *n = cnt;
        return 0;
    fail_json:
        cJSON_Delete(a);
        for (int i = 0; i < cnt; i++)
            free(v[i]);
        free(v);
        return -1;
    }
    while (*s) {
        while (*s && isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        const char *t = s;
        while (*t && !isspace((unsigned char)*t))
            t++;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 8;
            char **q = realloc(v, (size_t)cap * sizeof *q);
            if (!q)
                goto fail_plain;
            v = q;
        }
        if (!(v[cnt] = strndup(s, (size_t)(t - s))))
            goto fail_plain;
        cnt++;
        s = t;
    }
    *ids = v;
    *n = cnt;
    return 0;
fail_plain:
    for (int i = 0; i < cnt; i++)
        free(v[i]);
    free(v);
    snprintf(err, errn, "out of memory");
    return -1;
}

/* Lines answered together: their completion is scored as one block
 * (rs_recommend_many, rs_completion_score_many). */
enum { BATCH_RUN = 64 }; /* = RS_COMP_BLOCK of core/completion.h */

/* The parsed context of one batch line. */
typedef struct line_state {
    char err[512];
    char **ids;
    int n;
    int have;        /* known products in prods */
    int32_t *prods;
    size_t pcap;
} line_state;

/* Parses a line into known product indices and an error text for unknown ids. */
static void parse_line(batch_ctx *bc, line_state *ls, const line_job *job)
{
    ls->err[0] = 0;
    ls->ids = NULL;
    ls->n = 0;
    ls->have = 0;
    if (parse_context(job->text, &ls->ids, &ls->n, ls->err, sizeof ls->err) != 0)
        return;
    if ((size_t)ls->n + 1 > ls->pcap) {
        int32_t *p = realloc(ls->prods, ((size_t)ls->n + 1) * sizeof *p);
        if (!p) {
            snprintf(ls->err, sizeof ls->err, "out of memory");
            return;
        }
        ls->prods = p;
        ls->pcap = (size_t)ls->n + 1;
    }
    size_t eo = 0;
    for (int i = 0; i < ls->n; i++) {
        int32_t idx;
        if (rs_rec_find_ext(bc->r, ls->ids[i], &idx, NULL) == RS_OK) {
            ls->prods[ls->have++] = idx;
        } else if (eo < sizeof ls->err - 64) {
            int w = snprintf(ls->err + eo, sizeof ls->err - eo, "%sunknown product '%.*s'",
                             eo ? "; " : "", 100, ls->ids[i]);
            eo += w > 0 ? (size_t)w : 0;
            if (eo >= sizeof ls->err)
                eo = sizeof ls->err - 1;
        }
    }
    if (ls->n == 0)
        snprintf(ls->err, sizeof ls->err, "empty context");
}

/* One batch line -> one JSON line (never fails short of out of memory). */
static int emit_line(batch_ctx *bc, rs_rec_result *res, line_state *ls, line_job *job,
                     rs_jsonw *b)
{
    unsigned kinds = RS_REC_ALL_KINDS | RS_REC_BIT(RS_REC_COMPLETION);
    b->n = 0;
    b->oom = 0;
    if (ls->have > 0) {
        rs_rec_result_json(b, bc->r, res, kinds, 0, ls->err[0] ? ls->err : NULL);
    } else {
        rs_jsonw_puts(b, "{\"synonyms\":[],\"categories\":[],\"complements\":[],\"completion\":[]");
        rs_jsonw_puts(b, ",\"error\":");
        rs_jsonw_str(b, ls->err[0] ? ls->err : "no known product in the context");
        rs_jsonw_puts(b, "}");
    }
    rs_jsonw_put(b, "\n", 1);
    for (int i = 0; i < ls->n; i++)
        free(ls->ids[i]);
    free(ls->ids);
    ls->ids = NULL;
    ls->n = 0;
    if (b->oom)
        return -1;
    job->out = malloc(b->n + 1);
    if (!job->out)
        return -1;
    memcpy(job->out, b->p, b->n + 1);
    job->out_len = b->n;
    return 0;
}

/* Answers lines [i, end) (at most BATCH_RUN): parse all, run the queries as one
 * block, emit in order. */
static int answer_run(batch_ctx *bc, rs_rec_result **res, line_state *ls, size_t i,
                      size_t end, rs_jsonw *b)
{
    rs_rec_query qs[BATCH_RUN];
    rs_rec_result *rv[BATCH_RUN];
    int codes[BATCH_RUN], line_of[BATCH_RUN];
    rs_error *errs = malloc(BATCH_RUN * sizeof *errs);
    if (!errs)
        return -1;
    int nq = 0;
    for (size_t j = i; j < end; j++) {
        line_state *l = &ls[j - i];
        parse_line(bc, l, &bc->jobs[j]);
        if (l->have > 0) {
            qs[nq] = bc->q;
            qs[nq].products = l->prods;
            qs[nq].n_products = l->have;
            rv[nq] = res[j - i];
            line_of[nq] = (int)(j - i);
            nq++;
        }
    }
    if (nq > 0)
        rs_recommend_many(bc->r, qs, nq, rv, codes, errs);
    for (int t = 0; t < nq; t++)
        if (codes[t] != RS_OK) {
            line_state *l = &ls[line_of[t]];
            snprintf(l->err, sizeof l->err, "%.400s", errs[t].msg);
            l->have = 0;
        }
    free(errs);
    int rc = 0;
    for (size_t j = i; j < end; j++)
        if (emit_line(bc, res[j - i], &ls[j - i], &bc->jobs[j], b))
            rc = -1;
    return rc;
}

/* One worker's state, kept across the chunks of the input (the result scratch holds
 * the completion scores of a whole block: allocating and faulting it in again for
 * every chunk cost more than the queries of a small chunk). */
typedef struct batch_worker_state {
    batch_ctx *bc;
    rs_rec_result *res[BATCH_RUN];
    line_state ls[BATCH_RUN];
    rs_jsonw b;
} batch_worker_state;

static int worker_state_init(batch_worker_state *w, batch_ctx *bc)
{
    memset(w, 0, sizeof *w);
    w->bc = bc;
    for (int t = 0; t < BATCH_RUN; t++)
        if (!(w->res[t] = rs_rec_result_new()))
            return -1;
    return 0;
}

static void worker_state_free(batch_worker_state *w)
{
    free(w->b.p);
    for (int t = 0; t < BATCH_RUN; t++) {
        free(w->ls[t].prods);
        rs_rec_result_free(w->res[t]);
    }
    memset(w, 0, sizeof *w);
}

static void *batch_worker(void *arg)
{
    batch_worker_state *w = arg;
    batch_ctx *bc = w->bc;
    for (;;) {
        pthread_mutex_lock(&bc->mu);
        size_t i = bc->next;
        /* hand out lines in runs of BATCH_RUN: one completion block each */
        bc->next = i + BATCH_RUN < bc->n_jobs ? i + BATCH_RUN : bc->n_jobs;
        size_t end = bc->next;
        int stop = bc->failed;
        pthread_mutex_unlock(&bc->mu);
        if (i >= end || stop)
            break;
        if (answer_run(bc, w->res, w->ls, i, end, &w->b)) {
            pthread_mutex_lock(&bc->mu);
            bc->failed = 1;
            pthread_mutex_unlock(&bc->mu);
            break;
        }
    }
    return NULL;
}

/* OpenBLAS's own thread pool: when present (weak, so another BLAS links too). */
extern void openblas_set_num_threads(int n) __attribute__((weak));

static int run_batch(const rs_recommender *r, const rs_rec_query *q0, const char *path,
                     int threads)
{
    /* The batch runs its own worker threads; OpenBLAS threads inside each small BLAS
     * call only spin (sched_yield) beside them: on the large world they doubled the
     * CPU time per context (1.43 against 0.70 ms). */
    if (openblas_set_num_threads)
        openblas_set_num_threads(1);
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "recoscope recommend: %s: %s\n", path, strerror(errno));
        return RS_EUSAGE;
    }
    enum { CHUNK = 4096 };
    batch_ctx bc;
    memset(&bc, 0, sizeof bc);
    bc.r = r;
    bc.q = *q0;
    bc.q.kinds = RS_REC_ALL_KINDS | RS_REC_BIT(RS_REC_COMPLETION);
    pthread_mutex_init(&bc.mu, NULL);
    bc.jobs = calloc(CHUNK, sizeof *bc.jobs);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    batch_worker_state *ws = calloc((size_t)threads, sizeof *ws);
    char *line = NULL;
    size_t lcap = 0;
    int rc = RS_OK, eof = 0;
    if (!bc.jobs || !tids || !ws) {
        rc = RS_EINTERNAL;
        fprintf(stderr, "recoscope recommend: out of memory\n");
        goto done;
    }
    for (int t = 0; t < threads; t++)
        if (worker_state_init(&ws[t], &bc)) {
            rc = RS_EINTERNAL;
            fprintf(stderr, "recoscope recommend: out of memory\n");
            goto done;
        }
    while (!eof && rc == RS_OK) {
        bc.n_jobs = 0;
        bc.next = 0;
        while (bc.n_jobs < CHUNK) {
            ssize_t got = getline(&line, &lcap, f);
            if (got < 0) {
                eof = 1;
                break;
            }
            while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
                line[--got] = 0;
            if (!(bc.jobs[bc.n_jobs].text = strdup(line))) {
                rc = RS_EINTERNAL;
                break;
            }
            bc.n_jobs++;
        }
        if (ferror(f)) {
            fprintf(stderr, "recoscope recommend: reading %s: %s\n", path, strerror(errno));
            rc = RS_EDATA;
        }
        if (rc == RS_OK && bc.n_jobs > 0) {
            int started = 0;
            int nt = threads;
            if ((size_t)nt > (bc.n_jobs + BATCH_RUN - 1) / BATCH_RUN)
                nt = (int)((bc.n_jobs + BATCH_RUN - 1) / BATCH_RUN);
            for (int t = 1; t < nt; t++)
                if (pthread_create(&tids[t], NULL, batch_worker, &ws[t]) == 0)
                    started = t;
                else
                    break;
            batch_worker(&ws[0]); /* the main thread works too */
            for (int t = 1; t <= started; t++)
                pthread_join(tids[t], NULL);
            if (bc.failed) {
                fprintf(stderr, "recoscope recommend: out of memory in batch mode\n");
                rc = RS_EINTERNAL;
            }
            for (size_t i = 0; i < bc.n_jobs && rc == RS_OK; i++)
                if (fwrite(bc.jobs[i].out, 1, bc.jobs[i].out_len, stdout) != bc.jobs[i].out_len) {
                    fprintf(stderr, "recoscope recommend: writing output: %s\n", strerror(errno));
                    rc = RS_EINTERNAL;
                }
        }
        for (size_t i = 0; i < bc.n_jobs; i++) {
            free(bc.jobs[i].text);
            free(bc.jobs[i].out);
            bc.jobs[i].text = bc.jobs[i].out = NULL;
        }
    }
    if (rc == RS_OK && fflush(stdout) != 0) {
        fprintf(stderr, "recoscope recommend: writing output: %s\n", strerror(errno));
        rc = RS_EINTERNAL;
    }
done:
    for (int t = 0; ws && t < threads; t++)
        worker_state_free(&ws[t]);
    free(ws);
    free(line);
    free(bc.jobs);
    free(tids);
    pthread_mutex_destroy(&bc.mu);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* ---------------------------------------------------------------- main */

static int parse_num(const char *cmd, const char *opt, const char *v, double lo, double hi,
                     double *out)
{
    char *end;
    errno = 0;
    double x = v ? strtod(v, &end) : 0;
    if (!v || end == v || *end || errno || !(x >= lo && x <= hi))
        return cli_usage_error(cmd, "%s needs a number in %g..%g (got '%s')", opt, lo, hi,
                               v ? v : "");
    *out = x;
    return RS_OK;
}

int cmd_recommend(rs_cli *cli, int argc, char **argv)
{
    const char *cmd = argv[0];
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    const char *product = NULL, *name = NULL, *basket = NULL, *city = NULL, *kind = "all",
               *batch = NULL;
    int json = 0, k = RS_REC_DEFAULT_K, threads = 2, ncat = RS_REC_DEFAULT_COMPLEMENT_CATEGORIES;
    double min_pct = RS_REC_DEFAULT_MIN_PCT, max_pct = RS_REC_DEFAULT_MAX_PCT, x = 0;
    unsigned flags = 0;
    int rc;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i], *val = NULL;
        char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        char opt[64];
        if (eq && (size_t)(eq - a) < sizeof opt) {
            memcpy(opt, a, (size_t)(eq - a));
            opt[eq - a] = 0;
            val = eq + 1;
            a = opt;
        }
#define VALUE()                                                                          \
    do {                                                                                 \
        if (!val) {                                                                      \
            if (i + 1 >= argc)                                                           \
                return cli_usage_error(cmd, "%s needs a value", a);                      \
            val = argv[++i];                                                             \
        }                                                                                \
    } while (0)
        if (strcmp(a, "--product") == 0) {
            VALUE();
            product = val;
        } else if (strcmp(a, "--name") == 0) {
            VALUE();
            name = val;
        } else if (strcmp(a, "--basket") == 0) {
            VALUE();
            basket = val;
        } else if (strcmp(a, "--city") == 0) {
            VALUE();
            city = val;
        } else if (strcmp(a, "--kind") == 0) {
            VALUE();
            kind = val;
        } else if (strcmp(a, "-k") == 0 || strcmp(a, "--k") == 0) {
            VALUE();
            if ((rc = parse_num(cmd, "-k", val, 1, RS_REC_K_MAX, &x)) || x != floor(x))
                return rc ? rc : cli_usage_error(cmd, "-k needs a whole number");
            k = (int)x;
        } else if (strcmp(a, "--categories") == 0) {
            VALUE();
            if ((rc = parse_num(cmd, a, val, 1, RS_REC_K_MAX, &x)) || x != floor(x))
                return rc ? rc : cli_usage_error(cmd, "--categories needs a whole number");
            ncat = (int)x;
        } else if (strcmp(a, "--threads") == 0) {
            VALUE();
            if ((rc = parse_num(cmd, a, val, 1, 64, &x)) || x != floor(x))
                return rc ? rc : cli_usage_error(cmd, "--threads needs a whole number");
            threads = (int)x;
        } else if (strcmp(a, "--min-pct") == 0) {
            VALUE();
            if ((rc = parse_num(cmd, a, val, 0, 100, &min_pct)))
                return rc;
        } else if (strcmp(a, "--max-pct") == 0) {
            VALUE();
            if ((rc = parse_num(cmd, a, val, 0, 100, &max_pct)))
                return rc;
        } else if (strcmp(a, "--batch") == 0) {
            VALUE();
            batch = val;
        } else if (strcmp(a, "--no-mask") == 0 && !val) {
            flags |= RS_REC_NO_MASK;
        } else if (strcmp(a, "--own-category") == 0 && !val) {
            flags |= RS_REC_INCLUDE_OWN_CATEGORY;
        } else if (strcmp(a, "--json") == 0 && !val) {
            json = 1;
        } else {
            return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        }
#undef VALUE
    }
    int inputs = (product != NULL) + (name != NULL) + (basket != NULL) + (batch != NULL);
    if (inputs != 1)
        return cli_usage_error(cmd, "give exactly one of --product, --name, --basket, --batch");
    if (min_pct > max_pct)
        return cli_usage_error(cmd, "--min-pct (%g) is above --max-pct (%g)", min_pct, max_pct);
    unsigned kinds;
    if (strcmp(kind, "all") == 0) {
        kinds = RS_REC_ALL_KINDS;
    } else {
        rs_rec_kind kk;
        rs_error ke = {0};
        if (rs_rec_kind_parse(kind, &kk, &ke))
            return cli_usage_error(cmd, "%s", ke.msg);
        kinds = RS_REC_BIT(kk);
    }

    rs_error e = {0};
    rs_store *s = NULL;
    rs_recommender *r = NULL;
    rs_rec_result *res = NULL;
    int32_t *prods = NULL;
    int nids = 0;
    rs_jsonw b = {0};
    int64_t city_id = 0;
    const char *db = cli->db_path ? cli->db_path : rs_store_default_path();
    if ((rc = rs_store_open(db, RS_STORE_READONLY, &s, &e)))
        goto fail;
    if ((rc = rs_store_city_id(s, city, &city_id, &e)))
        goto fail;
    rs_rec_options opt;
    rs_rec_options_defaults(&opt);
    opt.workers = batch ? threads : 1;
    opt.shared_sgns = batch != NULL;
    opt.no_completion = !batch && !(kinds & RS_REC_BIT(RS_REC_COMPLETION));
    opt.no_copurchase = !batch && !(kinds & RS_REC_BIT(RS_REC_COMPLEMENTS));
    if ((rc = rs_recommender_open(s, city_id, &opt, &r, &e)))
        goto fail;
    /* a registered model whose file does not load is an error here (exit 2), not an
     * empty list: the batch needs every kind, a single query the kinds it asked for */
    if ((rc = rs_rec_check_models(r, batch ? RS_REC_ALL_KINDS : kinds, &e)))
        goto fail;
    rs_rec_query q;
    rs_rec_query_defaults(&q);
    for (int i = 0; i < RS_REC_NKINDS; i++)
        q.k[i] = k;
    q.min_pct = min_pct;
    q.max_pct = max_pct;
    q.flags = flags;
    q.kinds = kinds;
    q.complement_categories = ncat;
    if (batch) {
        rc = run_batch(r, &q, batch, threads);
        goto done;
    }

    /* the query products */
    if (product || name) {
        if (!(prods = malloc(sizeof *prods))) {
            rc = rs_seterr(&e, RS_EINTERNAL, "out of memory");
            goto fail;
        }
        if (product)
            rc = rs_rec_find_ext(r, product, &prods[0], &e);
        else
            rc = rs_rec_resolve(r, name, &prods[0], &e);
        if (rc)
            goto fail;
        nids = 1;
    } else {
        /* --basket: comma-separated ids (an id with a comma cannot be given here; use
         * --batch with a JSON array) */
        size_t n = 1;
        for (const char *t = basket; *t; t++)
            n += *t == ',';
        if (!(prods = malloc(n * sizeof *prods))) {
            rc = rs_seterr(&e, RS_EINTERNAL, "out of memory");
            goto fail;
        }
        for (const char *t = basket;;) {
            const char *c = strchr(t, ',');
            const char *end = c ? c : t + strlen(t);
            const char *a = t;
            while (a < end && isspace((unsigned char)*a))
                a++;
            while (end > a && isspace((unsigned char)end[-1]))
                end--;
            if (end > a) {
                char *id = strndup(a, (size_t)(end - a));
                if (!id) {
                    rc = rs_seterr(&e, RS_EINTERNAL, "out of memory");
                    goto fail;
                }
                rc = rs_rec_find_ext(r, id, &prods[nids], &e);
                free(id);
                if (rc)
                    goto fail;
                nids++;
            }
            if (!c)
                break;
            t = c + 1;
        }
        if (nids == 0) {
            rc = rs_seterr(&e, RS_EUSAGE, "empty basket: give at least one product id");
            goto fail;
        }
    }
    q.products = prods;
    q.n_products = nids;
    if (!(res = rs_rec_result_new())) {
        rc = rs_seterr(&e, RS_EINTERNAL, "out of memory");
        goto fail;
    }
    if ((rc = rs_recommend(r, &q, res, &e)))
        goto fail;
    if (json) {
        rs_rec_result_json(&b, r, res, kinds, 1, NULL);
        rs_jsonw_put(&b, "\n", 1);
        if (b.oom) {
            rc = rs_seterr(&e, RS_EINTERNAL, "out of memory");
            goto fail;
        }
        fwrite(b.p, 1, b.n, stdout);
    } else {
        print_table(r, res, kinds);
    }
    if (fflush(stdout) != 0) {
        rc = rs_seterr(&e, RS_EINTERNAL, "writing output: %s", strerror(errno));
        goto fail;
    }
    rc = RS_OK;
    goto done;
fail:
    cli_fail(&e);
done:
    free(b.p);
    free(prods);
    rs_rec_result_free(res);
    rs_recommender_close(r);
    rs_store_close(s);
    return rc;
}
