/* recommend_batch.c - `recoscope recommend --batch`: one context a line in (a JSON
 * array of ids, or space-separated ids), one JSON line out per line, in order.  Lines
 * are read in chunks, answered by worker threads in runs of 64 (one completion block
 * each, rs_recommend_many) and written in input order.  The protocol of scripts and
 * of the independent quality harness (shared/tools/basket_eval.py --batch).  A line
 * that is a JSON object, {"customer": "ID"}, asks for one customer's lists instead
 * (recommend_customer.c; answered one at a time, they read the store).
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

#include "cli.h"
#include "recommend.h"

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
    /* customer lines: the server opened on the first one, under cmu */
    rs_store *s;
    pthread_mutex_t cmu;
    rs_custrec *cr;
    int cr_tried;
    char cr_error[256];
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
    int answered;    /* its query ran (a parsed context, even of unknown ids alone) */
    int customer;    /* a customer line (customer_line) */
} line_state;

/* Parses a line into known product indices and an error text for unknown ids. */
static void parse_line(batch_ctx *bc, line_state *ls, const line_job *job)
{
    ls->err[0] = 0;
    ls->ids = NULL;
    ls->n = 0;
    ls->have = 0;
    ls->answered = 0;
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
    if (ls->answered) {
        rs_rec_result_json(b, bc->r, res, kinds, 0, ls->err[0] ? ls->err : NULL);
    } else {
        rs_jsonw_puts(b, "{\"synonyms\":[],\"categories\":[],\"complements\":[],\"completion\":[]"
                         ",\"fallback\":{\"synonyms\":false,\"categories\":false,"
                         "\"complements\":false,\"completion\":false}");
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

/* A customer line -> one JSON line. */
static int customer_line(batch_ctx *bc, line_job *job, rs_jsonw *b)
{
    b->n = 0;
    b->oom = 0;
    pthread_mutex_lock(&bc->cmu);
    if (!bc->cr_tried) {
        rs_error e = {0};
        bc->cr_tried = 1;
        if (rs_custrec_open(bc->s, rs_rec_city(bc->r), &bc->cr, &e) != RS_OK)
            snprintf(bc->cr_error, sizeof bc->cr_error, "%.200s", e.msg);
    }
    rec_customer_line_json(bc->cr, bc->cr_error, bc->r, job->text, bc->q.k[0], b);
    pthread_mutex_unlock(&bc->cmu);
    rs_jsonw_put(b, "\n", 1);
    if (b->oom || !(job->out = malloc(b->n + 1)))
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
        if ((l->customer = rec_is_customer_line(bc->jobs[j].text)))
            continue;
        parse_line(bc, l, &bc->jobs[j]);
        if (l->n > 0) {
            /* ids of which none is known: completion alone (the popularity fallback) */
            qs[nq] = bc->q;
            if (l->have == 0)
                qs[nq].kinds = RS_REC_BIT(RS_REC_COMPLETION);
            qs[nq].products = l->prods;
            qs[nq].n_products = l->have;
            l->answered = 1;
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
            l->answered = 0;
        }
    free(errs);
    int rc = 0;
    for (size_t j = i; j < end; j++)
        if (ls[j - i].customer ? customer_line(bc, &bc->jobs[j], b)
                               : emit_line(bc, res[j - i], &ls[j - i], &bc->jobs[j], b))
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

enum { CHUNK = 4096 }; /* lines read, answered and written at a time */

/* Reads up to CHUNK lines into bc->jobs (newline and CR stripped).  *eof is set at
 * the end of the input.  Returns the exit code (messages printed). */
static int read_chunk(batch_ctx *bc, FILE *f, const char *path, char **line, size_t *lcap,
                      int *eof)
{
    bc->n_jobs = 0;
    bc->next = 0;
    while (bc->n_jobs < CHUNK) {
        ssize_t got = getline(line, lcap, f);
        if (got < 0) {
            *eof = 1;
            break;
        }
        while (got > 0 && ((*line)[got - 1] == '\n' || (*line)[got - 1] == '\r'))
            (*line)[--got] = 0;
        if (!(bc->jobs[bc->n_jobs].text = strdup(*line))) {
            cli_warn("recoscope recommend: out of memory\n");
            return RS_EINTERNAL;
        }
        bc->n_jobs++;
    }
    if (ferror(f)) {
        cli_warn("recoscope recommend: reading %s: %s\n", path, strerror(errno));
        return RS_EDATA;
    }
    return RS_OK;
}

/* Answers the chunk on the worker threads (the calling thread works too) and writes
 * the lines in order.  Returns the exit code (messages printed). */
static int answer_chunk(batch_ctx *bc, batch_worker_state *ws, pthread_t *tids, int threads)
{
    int started = 0, nt = threads, rc = RS_OK;
    if ((size_t)nt > (bc->n_jobs + BATCH_RUN - 1) / BATCH_RUN)
        nt = (int)((bc->n_jobs + BATCH_RUN - 1) / BATCH_RUN);
    for (int t = 1; t < nt; t++)
        if (pthread_create(&tids[t], NULL, batch_worker, &ws[t]) == 0)
            started = t;
        else
            break;
    batch_worker(&ws[0]);
    for (int t = 1; t <= started; t++)
        pthread_join(tids[t], NULL);
    if (bc->failed) {
        cli_warn("recoscope recommend: out of memory in batch mode\n");
        return RS_EINTERNAL;
    }
    for (size_t i = 0; i < bc->n_jobs && rc == RS_OK; i++)
        if (fwrite(bc->jobs[i].out, 1, bc->jobs[i].out_len, stdout) != bc->jobs[i].out_len) {
            cli_warn("recoscope recommend: writing output: %s\n", strerror(errno));
            rc = RS_EINTERNAL;
        }
    return rc;
}

int rec_run_batch(rs_store *s, const rs_recommender *r, const rs_rec_query *q0,
                  const char *path, int threads)
{
    /* The batch runs its own worker threads; OpenBLAS threads inside each small BLAS
     * call only spin (sched_yield) beside them: on the large world they doubled the
     * CPU time per context (1.43 against 0.70 ms). */
    if (openblas_set_num_threads)
        openblas_set_num_threads(1);
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        cli_warn("recoscope recommend: %s: %s\n", path, strerror(errno));
        return RS_EUSAGE;
    }
    batch_ctx bc;
    memset(&bc, 0, sizeof bc);
    bc.r = r;
    bc.s = s;
    bc.q = *q0;
    bc.q.kinds = RS_REC_ALL_KINDS | RS_REC_BIT(RS_REC_COMPLETION);
    pthread_mutex_init(&bc.mu, NULL);
    pthread_mutex_init(&bc.cmu, NULL);
    bc.jobs = calloc(CHUNK, sizeof *bc.jobs);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    batch_worker_state *ws = calloc((size_t)threads, sizeof *ws);
    char *line = NULL;
    size_t lcap = 0;
    int rc = RS_OK, eof = 0;
    if (!bc.jobs || !tids || !ws)
        rc = RS_EINTERNAL;
    for (int t = 0; t < threads && rc == RS_OK; t++)
        if (worker_state_init(&ws[t], &bc))
            rc = RS_EINTERNAL;
    if (rc)
        cli_warn("recoscope recommend: out of memory\n");
    while (!eof && rc == RS_OK) {
        rc = read_chunk(&bc, f, path, &line, &lcap, &eof);
        if (rc == RS_OK && bc.n_jobs > 0)
            rc = answer_chunk(&bc, ws, tids, threads);
        for (size_t i = 0; i < bc.n_jobs; i++) {
            free(bc.jobs[i].text);
            free(bc.jobs[i].out);
            bc.jobs[i].text = bc.jobs[i].out = NULL;
        }
    }
    if (rc == RS_OK && fflush(stdout) != 0) {
        cli_warn("recoscope recommend: writing output: %s\n", strerror(errno));
        rc = RS_EINTERNAL;
    }
    for (int t = 0; ws && t < threads; t++)
        worker_state_free(&ws[t]);
    free(ws);
    free(line);
    free(bc.jobs);
    free(tids);
    pthread_mutex_destroy(&bc.mu);
    pthread_mutex_destroy(&bc.cmu);
    rs_custrec_close(bc.cr);
    if (f != stdin)
        fclose(f);
    return rc;
}
