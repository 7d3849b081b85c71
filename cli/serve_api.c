/* serve_api.c - the endpoints of `recoscope serve` (docs/SERVE.md):
 *
 *   GET  /v1/recommend?product=ID[&city=C][&kinds=K,K][&k=N][&session=S][&mix=X]...
 *   POST /v1/recommend  {"basket": [ID, ...] | "product": ID, "city", "kinds", "k",
 *                        "session", "mix", "min_pct", "max_pct", "no_mask",
 *                        "own_category", "categories"}
 *   GET  /v1/similar?product=ID[&city=C][&k=N]...          (synonyms)
 *   POST /v1/events     {"session": S, "events": [{"product": ID, "event": E}, ...]}
 *                       (or one event: {"session", "product", "event"})
 *   GET  /healthz, GET /metrics
 *
 * Answers are the `recommend --json` object (core/rec_json.h, the one writer of
 * results); with a session, the lists are the offline answer (the asked product or
 * basket) mixed with the online one (the session's products by event weight), and a
 * "session" object says which row came from which.  Errors are {"error", "status"}:
 * 400 bad input, 404 unknown product, city or endpoint, 500 internal.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/rec_json.h"
#include "serve.h"

#define ONLINE_MAX 8   /* session products in the online query */
#define ID_MAX 256     /* bytes of a product or session id */

void serve_error(serve_response *out, int status, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    out->status = status;
    out->body.n = 0;
    out->body.oom = 0;
    rs_jsonw_puts(&out->body, "{\"error\":");
    rs_jsonw_str(&out->body, msg);
    rs_jsonw_printf(&out->body, ",\"status\":%d}", status);
}

/* An rs_error from core as an HTTP error: usage -> 400 (404 for an unknown product or
 * city), anything else 500. */
static void core_error(serve_response *out, const rs_error *e)
{
    int status = 500;
    if (e->code == RS_EUSAGE)
        status = strncmp(e->msg, "unknown product", 15) == 0 || strncmp(e->msg, "unknown city", 12) == 0
                     ? 404
                     : 400;
    serve_error(out, status, "%s", e->msg[0] ? e->msg : "internal error");
}

/* ---------------------------------------------------------------- arguments */

typedef struct rec_args {
    const char *ids[256];  /* product ext ids (a basket) */
    int n_ids;
    int too_many;
    const char *city;
    const char *session;
    rs_rec_query q;        /* kinds, k, bounds, flags */
    double mix;
    int have_mix;
    char nums[256][24];    /* numeric ids of a JSON body, as text */
    int n_nums;
} rec_args;

enum { A_PRODUCT, A_BASKET, A_CITY, A_KINDS, A_K, A_MIN, A_MAX, A_NOMASK, A_OWN, A_NCAT,
       A_SESSION, A_MIX, A_ANYCAT, A_CUSTOMER };

static const struct {
    const char *name;
    int id;
    int similar; /* accepted by /v1/similar too */
} ARGS[] = {
    {"product", A_PRODUCT, 1},  {"basket", A_BASKET, 0},      {"city", A_CITY, 1},
    {"kinds", A_KINDS, 0},      {"k", A_K, 1},                {"min_pct", A_MIN, 1},
    {"max_pct", A_MAX, 1},      {"no_mask", A_NOMASK, 1},     {"own_category", A_OWN, 0},
    {"categories", A_NCAT, 0},  {"session", A_SESSION, 0},    {"mix", A_MIX, 0},
    {"any_category", A_ANYCAT, 1}, {"customer", A_CUSTOMER, 0},
};
#define N_ARGS ((int)(sizeof ARGS / sizeof ARGS[0]))

static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    double v = s && *s ? strtod(s, &end) : NAN;
    if (!end || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_flag(const char *s, int *out)
{
    if (!*s || !strcmp(s, "1") || !strcmp(s, "true"))
        *out = 1;
    else if (!strcmp(s, "0") || !strcmp(s, "false"))
        *out = 0;
    else
        return -1;
    return 0;
}

/* "synonyms,complements" or "all" (the first three kinds, as recommend --kind all). */
static int parse_kinds(const char *s, unsigned *out)
{
    unsigned k = 0;
    char name[32];
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n == 0 || n >= sizeof name)
            return -1;
        memcpy(name, s, n);
        name[n] = 0;
        rs_rec_kind kind;
        if (!strcmp(name, "all"))
            k |= RS_REC_ALL_KINDS;
        else if (rs_rec_kind_parse(name, &kind, NULL) == RS_OK)
            k |= RS_REC_BIT(kind);
        else
            return -1;
        s += n;
        if (*s == ',')
            s++;
    }
    if (!k)
        return -1;
    *out = k;
    return 0;
}

static int id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= ID_MAX)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* One argument by name with a text value; 0, or -1 with out filled (400). */
static int set_arg(rec_args *a, int similar, const char *name, const char *v,
                   serve_response *out)
{
    int i = 0;
    while (i < N_ARGS && strcmp(ARGS[i].name, name) != 0)
        i++;
    if (i == N_ARGS || (similar && !ARGS[i].similar)) {
        serve_error(out, 400, "unknown parameter '%.64s'", name);
        return -1;
    }
    double x;
    int f;
    switch (ARGS[i].id) {
    case A_PRODUCT:
    case A_BASKET:
        if (!id_ok(v))
            goto bad;
        if (a->n_ids == (int)(sizeof a->ids / sizeof a->ids[0])) {
            a->too_many = 1;
            return 0;
        }
        a->ids[a->n_ids++] = v;
        return 0;
    case A_CITY: a->city = v; return 0;
    case A_SESSION:
        if (!id_ok(v))
            goto bad;
        a->session = v;
        return 0;
    case A_KINDS:
        if (parse_kinds(v, &a->q.kinds))
            goto bad;
        return 0;
    case A_K:
    case A_NCAT:
        if (parse_num(v, 1, RS_REC_K_MAX, &x) || x != floor(x))
            goto bad;
        if (ARGS[i].id == A_NCAT)
            a->q.complement_categories = (int)x;
        else
            for (int k = 0; k < RS_REC_NKINDS; k++)
                a->q.k[k] = (int)x;
        return 0;
    case A_MIN:
    case A_MAX:
        if (parse_num(v, 0, 100, &x))
            goto bad;
        *(ARGS[i].id == A_MIN ? &a->q.min_pct : &a->q.max_pct) = x;
        return 0;
    case A_MIX:
        if (parse_num(v, 0, 1, &a->mix))
            goto bad;
        a->have_mix = 1;
        return 0;
    case A_NOMASK:
    case A_OWN:
    case A_ANYCAT: {
        unsigned bit = ARGS[i].id == A_NOMASK ? RS_REC_NO_MASK
                       : ARGS[i].id == A_OWN  ? RS_REC_INCLUDE_OWN_CATEGORY
                                              : RS_REC_SYNONYMS_ANY_CATEGORY;
        if (parse_flag(v, &f))
            goto bad;
        a->q.flags = f ? a->q.flags | bit : a->q.flags & ~bit;
        return 0;
    }
    case A_CUSTOMER:
        serve_error(out, 400, "customers are not supported yet (no customer models)");
        return -1;
    }
bad:
    serve_error(out, 400, "bad value for '%s': '%.64s'", name, v);
    return -1;
}

static void args_init(rec_args *a, const serve_config *cfg)
{
    memset(a, 0, sizeof *a);
    rs_rec_query_defaults(&a->q);
    a->mix = cfg->mix;
}

static int args_from_query(rec_args *a, const serve_request *rq, int similar,
                           serve_response *out)
{
    for (int i = 0; i < rq->n_params; i++) {
        const char *name = rq->params[i].name, *v = rq->params[i].value;
        if (!similar && !strcmp(name, "basket")) { /* GET: comma-separated */
            serve_error(out, 400, "a basket goes in a POST body: {\"basket\": [ids]}");
            return -1;
        }
        if (set_arg(a, similar, name, v, out))
            return -1;
    }
    return 0;
}

/* A JSON scalar as text for set_arg (ids may be numbers, flags booleans); numbers are
 * written into a->nums, which lives as long as the arguments.  NULL otherwise. */
static const char *scalar_text(rec_args *a, const cJSON *it)
{
    if (cJSON_IsString(it))
        return it->valuestring;
    if (cJSON_IsBool(it))
        return cJSON_IsTrue(it) ? "1" : "0";
    if (!cJSON_IsNumber(it) || a->n_nums == (int)(sizeof a->nums / sizeof a->nums[0]))
        return NULL;
    char *buf = a->nums[a->n_nums++];
    double v = it->valuedouble;
    if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, sizeof a->nums[0], "%.0f", v);
    else
        snprintf(buf, sizeof a->nums[0], "%.17g", v);
    return buf;
}

/* An array member: "basket" (ids) or "kinds" (names, joined for set_arg). */
static int array_arg(rec_args *a, const cJSON *arr, serve_response *out)
{
    int basket = !strcmp(arr->string, "basket");
    char kinds[160] = "";
    for (const cJSON *x = arr->child; x; x = x->next) {
        const char *v = cJSON_IsString(x) || (basket && cJSON_IsNumber(x)) ? scalar_text(a, x)
                                                                           : NULL;
        if (!v) {
            serve_error(out, 400, "'%s' must be an array of %s", arr->string,
                        basket ? "product ids" : "kind names");
            return -1;
        }
        if (basket) {
            if (set_arg(a, 0, "basket", v, out))
                return -1;
        } else {
            size_t l = strlen(kinds);
            snprintf(kinds + l, sizeof kinds - l, "%s%s", l ? "," : "", v);
        }
    }
    return basket ? 0 : set_arg(a, 0, "kinds", kinds, out);
}

/* The body of POST /v1/recommend; *root receives the tree (the values point into it). */
static int args_from_body(rec_args *a, const serve_request *rq, cJSON **root,
                          serve_response *out)
{
    if (!rq->body || rq->body_len == 0 || strlen(rq->body) != rq->body_len) {
        serve_error(out, 400, "%s", rq->body_len ? "the body holds a NUL byte"
                                                 : "empty body: send a JSON object");
        return -1;
    }
    const char *end = NULL;
    cJSON *j = *root = cJSON_ParseWithOpts(rq->body, &end, 1);
    if (!j) {
        serve_error(out, 400, "malformed JSON at byte %zu",
                    (size_t)(end && end >= rq->body ? end - rq->body : 0));
        return -1;
    }
    if (!cJSON_IsObject(j)) {
        serve_error(out, 400, "the body is not a JSON object");
        return -1;
    }
    for (const cJSON *it = j->child; it; it = it->next) {
        const char *name = it->string ? it->string : "";
        if (cJSON_IsArray(it) && (!strcmp(name, "basket") || !strcmp(name, "kinds"))) {
            if (array_arg(a, it, out))
                return -1;
            continue;
        }
        const char *v = scalar_text(a, it);
        if (!v) {
            serve_error(out, 400, "bad value for '%.64s'", name);
            return -1;
        }
        if (set_arg(a, 0, name, v, out))
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- per-thread results */

typedef struct thread_res {
    rs_rec_result *off, *on;
} thread_res;

static pthread_key_t res_key;
static pthread_once_t res_once = PTHREAD_ONCE_INIT;
static int res_key_ok;

static void thread_res_free(void *p)
{
    thread_res *t = p;
    rs_rec_result_free(t->off);
    rs_rec_result_free(t->on);
    free(t);
}

static void res_key_init(void) { res_key_ok = pthread_key_create(&res_key, thread_res_free) == 0; }

/* This request thread's two results (offline, online), reused from request to
 * request: their scratch space is sized once.  NULL when out of memory. */
static thread_res *thread_results(void)
{
    pthread_once(&res_once, res_key_init);
    if (!res_key_ok)
        return NULL;
    thread_res *t = pthread_getspecific(res_key);
    if (t)
        return t;
    if (!(t = calloc(1, sizeof *t)) || !(t->off = rs_rec_result_new()) ||
        !(t->on = rs_rec_result_new()) || pthread_setspecific(res_key, t) != 0) {
        if (t)
            thread_res_free(t);
        return NULL;
    }
    return t;
}

/* ---------------------------------------------------------------- mixing */

static int has_index(const rs_rec_row *rows, int n, int32_t index)
{
    for (int i = 0; i < n; i++)
        if (rows[i].index == index)
            return 1;
    return 0;
}

/* Up to k rows from the offline list lo and the online list ln: position n takes an
 * online row while fewer than floor((n + 1) * mix) have been taken (so mix 0.5
 * alternates offline, online, ...), each list in its own order, a row once; when one
 * list runs out the other fills.  src[i] says where row i came from (SRC_BOTH when
 * the other list has it too).  Returns the rows written. */
static int mix_lists(const rs_rec_list *lo, const rs_rec_list *ln, int k, double mix,
                     rs_rec_row *out, unsigned char *src)
{
    int io = 0, in = 0, n = 0, taken_on = 0;
    while (n < k) {
        while (io < lo->n && has_index(out, n, lo->rows[io].index))
            io++;
        while (in < ln->n && has_index(out, n, ln->rows[in].index))
            in++;
        int want_on = taken_on < (int)floor((n + 1) * mix + 1e-9);
        const rs_rec_row *row;
        int on;
        if (want_on && in < ln->n)
            row = &ln->rows[in++], on = 1;
        else if (io < lo->n)
            row = &lo->rows[io++], on = 0;
        else if (in < ln->n)
            row = &ln->rows[in++], on = 1;
        else
            break;
        const rs_rec_list *other = on ? lo : ln;
        out[n] = *row;
        src[n] = has_index(other->rows, other->n, row->index) ? SRC_BOTH
                 : on                                         ? SRC_ONLINE
                                                              : SRC_OFFLINE;
        taken_on += on;
        n++;
    }
    return n;
}

/* ---------------------------------------------------------------- /v1/recommend */

typedef struct answer {
    const rs_recommender *r;
    const rec_args *a;
    rs_rec_result *off, *on;       /* either may be NULL */
    const int32_t *online;         /* the online query */
    int n_online, n_events;
    int ep;
} answer;

static const char *const SRC_LABEL[SRC_N] = {"offline", "online", "both"};

static void session_json(rs_jsonw *b, const answer *x, int mode, unsigned char *const *src,
                         const int *nsrc)
{
    static const char *const MODE[MIX_N] = {"offline", "online", "mixed"};
    rs_jsonw_puts(b, ",\"session\":{\"id\":");
    rs_jsonw_str(b, x->a->session);
    rs_jsonw_printf(b, ",\"events\":%d,\"mode\":\"%s\",\"mix\":", x->n_events, MODE[mode]);
    rs_jsonw_num(b, x->a->mix);
    rs_jsonw_puts(b, ",\"online_query\":[");
    for (int i = 0; i < x->n_online; i++) {
        rs_rec_product p;
        if (rs_rec_product_info(x->r, x->online[i], &p, NULL))
            continue;
        if (i)
            rs_jsonw_put(b, ",", 1);
        rs_jsonw_str(b, p.ext_id);
    }
    rs_jsonw_puts(b, "],\"sources\":{");
    int first = 1;
    for (int k = 0; k < RS_REC_NKINDS; k++) {
        if (!(x->a->q.kinds & RS_REC_BIT(k)))
            continue;
        rs_jsonw_printf(b, "%s\"%s\":[", first ? "" : ",", rs_rec_kind_name((rs_rec_kind)k));
        first = 0;
        for (int i = 0; i < nsrc[k]; i++)
            rs_jsonw_printf(b, "%s\"%s\"", i ? "," : "", SRC_LABEL[src[k][i]]);
        rs_jsonw_put(b, "]", 1);
    }
    rs_jsonw_puts(b, "}}");
}

/* Writes the answer: the offline result, the online one, or both mixed, as the
 * recommend --json object (plus "session" when one was asked). */
static void write_answer(serve_ctx *c, const answer *x, serve_response *out)
{
    const unsigned kinds = x->a->q.kinds;
    rs_rec_result shown, *base = x->off ? x->off : x->on;
    rs_rec_row *rows[RS_REC_NKINDS] = {0};
    unsigned char *src[RS_REC_NKINDS] = {0};
    int nsrc[RS_REC_NKINDS] = {0};
    int mode = x->off && x->on ? MIX_MIXED : x->off ? MIX_OFFLINE : MIX_ONLINE;
    if (base) {
        shown = *base;
    } else { /* a session without events and no product: nothing to ask */
        memset(&shown, 0, sizeof shown);
        for (int k = 0; k < RS_REC_NKINDS; k++) {
            shown.lists[k].status = RS_EUSAGE;
            snprintf(shown.lists[k].message, sizeof shown.lists[k].message,
                     "no query: the session has no recent events and no product was given");
            shown.lists[k].model_path = shown.lists[k].model2_path = "";
        }
    }
    for (int k = 0; k < RS_REC_NKINDS; k++) {
        if (!(kinds & RS_REC_BIT(k)))
            continue;
        int kk = x->a->q.k[k];
        if (!(rows[k] = malloc((size_t)kk * sizeof *rows[k])) || !(src[k] = malloc((size_t)kk))) {
            serve_error(out, 500, "out of memory");
            goto done;
        }
        if (mode == MIX_MIXED && !x->off->lists[k].status) {
            nsrc[k] = mix_lists(&x->off->lists[k], &x->on->lists[k], kk, x->a->mix, rows[k],
                                src[k]);
            shown.lists[k].rows = rows[k];
            shown.lists[k].n = nsrc[k];
        } else {
            nsrc[k] = shown.lists[k].n;
            memset(src[k], mode == MIX_ONLINE ? SRC_ONLINE : SRC_OFFLINE, (size_t)nsrc[k]);
        }
        for (int i = 0; i < nsrc[k]; i++)
            atomic_fetch_add_explicit(&c->metrics.rows[src[k][i]], 1, memory_order_relaxed);
        if (nsrc[k] == 0)
            atomic_fetch_add_explicit(&c->metrics.empty[x->ep][k], 1, memory_order_relaxed);
    }
    if (x->ep == EP_RECOMMEND)
        atomic_fetch_add_explicit(&c->metrics.mix[mode], 1, memory_order_relaxed);
    out->status = 200;
    rs_rec_result_json(&out->body, x->r, &shown, kinds, 1, NULL);
    if (x->a->session && out->body.n && !out->body.oom) {
        out->body.n--; /* reopen the object for "session" */
        session_json(&out->body, x, mode, src, nsrc);
        rs_jsonw_put(&out->body, "}", 1);
    }
done:
    for (int k = 0; k < RS_REC_NKINDS; k++) {
        free(rows[k]);
        free(src[k]);
    }
}

/* Runs the offline query (the asked products) and the online one (the session's). */
static void recommend(serve_ctx *c, rec_args *a, int ep, serve_response *out)
{
    serve_gen *g = serve_acquire(c->models);
    const rs_recommender *r = NULL;
    rs_error e = {0};
    int32_t prods[256], online[ONLINE_MAX];
    answer x = {.a = a, .online = online, .ep = ep};
    thread_res *tr = thread_results();
    if (!tr) {
        serve_error(out, 500, "out of memory");
        goto done;
    }
    if (a->too_many || a->n_ids > c->cfg.max_basket) {
        serve_error(out, 400, "at most %d products in a query", c->cfg.max_basket);
        goto done;
    }
    if (a->n_ids == 0 && !a->session) {
        serve_error(out, 400, ep == EP_SIMILAR ? "give product=ID"
                                               : "give product=ID (or a basket), or session=S");
        goto done;
    }
    if (serve_gen_recommender(g, a->city, &r, &e)) {
        core_error(out, &e);
        goto done;
    }
    x.r = r;
    for (int i = 0; i < a->n_ids; i++)
        if (rs_rec_find_ext(r, a->ids[i], &prods[i], &e)) {
            core_error(out, &e);
            goto done;
        }
    if (a->session && serve_sessions_query(c->sessions, a->session, (int64_t)time(NULL), online,
                                           ONLINE_MAX, &x.n_online, &x.n_events)) {
        serve_error(out, 500, "out of memory");
        goto done;
    }
    rs_rec_query q = a->q;
    if (a->n_ids) {
        q.products = prods;
        q.n_products = a->n_ids;
        if (rs_recommend(r, &q, tr->off, &e)) {
            core_error(out, &e);
            goto done;
        }
        x.off = tr->off;
    }
    if (x.n_online) {
        q.products = online;
        q.n_products = x.n_online;
        if (rs_recommend(r, &q, tr->on, &e)) {
            core_error(out, &e);
            goto done;
        }
        x.on = tr->on;
    }
    write_answer(c, &x, out);
done:
    serve_release(g); /* after the JSON: the rows point into this generation */
}

static void api_recommend(serve_ctx *c, const serve_request *rq, int ep, serve_response *out)
{
    rec_args *a = malloc(sizeof *a);
    cJSON *root = NULL;
    if (!a) {
        serve_error(out, 500, "out of memory");
        return;
    }
    args_init(a, &c->cfg);
    int rc;
    if (rq->post && rq->n_params) {
        serve_error(out, 400, "POST /v1/recommend takes its arguments in the body, not the URL");
        rc = -1;
    } else if (rq->post) {
        rc = args_from_body(a, rq, &root, out);
    } else {
        rc = args_from_query(a, rq, ep == EP_SIMILAR, out);
    }
    if (rc == 0) {
        if (ep == EP_SIMILAR)
            a->q.kinds = RS_REC_BIT(RS_REC_SYNONYMS);
        recommend(c, a, ep, out);
    }
    cJSON_Delete(root);
    free(a);
}

/* ---------------------------------------------------------------- /v1/events */

#define EVENTS_MAX 1000 /* events in one request */

/* One event object {"product": ID, "event": E} (of the body or of its "events"). */
static int parse_event(serve_ctx *c, const rs_recommender *r, const cJSON *o, int top,
                       serve_event *ev, serve_response *out)
{
    const cJSON *p = NULL, *t = NULL;
    for (const cJSON *it = o->child; it; it = it->next) {
        const char *name = it->string ? it->string : "";
        if (!strcmp(name, "product"))
            p = it;
        else if (!strcmp(name, "event"))
            t = it;
        else if (!top || strcmp(name, "session") != 0) {
            serve_error(out, 400, "unknown field '%.64s' in an event", name);
            return -1;
        }
    }
    char num[32];
    const char *id = cJSON_IsString(p) ? p->valuestring : NULL;
    if (!id && cJSON_IsNumber(p)) {
        snprintf(num, sizeof num, "%.0f", p->valuedouble);
        id = num;
    }
    if (!id || !id_ok(id) || !cJSON_IsString(t)) {
        serve_error(out, 400, "an event needs \"product\" (an id) and \"event\" (a name)");
        return -1;
    }
    ev->type = rs_event_type(&c->cfg.weights, t->valuestring, strlen(t->valuestring));
    if (ev->type < 0) {
        char names[256] = "";
        for (int i = 0; i < c->cfg.weights.n; i++) {
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "", c->cfg.weights.name[i]);
        }
        serve_error(out, 400, "unknown event '%.64s' (known: %s)", t->valuestring, names);
        return -1;
    }
    rs_error e = {0};
    if (rs_rec_find_ext(r, id, &ev->product, &e)) {
        core_error(out, &e);
        return -1;
    }
    return 0;
}

static void api_events(serve_ctx *c, const serve_request *rq, serve_response *out)
{
    serve_event *ev = NULL;
    cJSON *j = NULL;
    serve_gen *g = serve_acquire(c->models);
    const rs_recommender *r;
    rs_error e = {0};
    if (rq->n_params) {
        serve_error(out, 400, "POST /v1/events takes no query parameters (the body has all)");
        goto done;
    }
    if (!rq->body || strlen(rq->body) != rq->body_len) {
        serve_error(out, 400, "%s", rq->body ? "the body holds a NUL byte" : "empty body");
        goto done;
    }
    const char *end = NULL;
    if (!(j = cJSON_ParseWithOpts(rq->body, &end, 1)) || !cJSON_IsObject(j)) {
        serve_error(out, 400, j ? "the body is not a JSON object" : "malformed JSON at byte %zu",
                    (size_t)(end && end >= rq->body ? end - rq->body : 0));
        goto done;
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "session");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "events");
    if (!cJSON_IsString(s) || !id_ok(s->valuestring)) {
        serve_error(out, 400, "\"session\" must be an id (1..%d bytes, no control characters)",
                    ID_MAX - 1);
        goto done;
    }
    int n = list ? cJSON_GetArraySize(list) : 1;
    if ((list && !cJSON_IsArray(list)) || n < 1 || n > EVENTS_MAX) {
        serve_error(out, 400, "\"events\" must be an array of 1..%d events", EVENTS_MAX);
        goto done;
    }
    if (serve_gen_recommender(g, NULL, &r, &e)) {
        core_error(out, &e);
        goto done;
    }
    if (!(ev = malloc((size_t)n * sizeof *ev))) {
        serve_error(out, 500, "out of memory");
        goto done;
    }
    int i = 0;
    if (list) {
        for (const cJSON *it = j->child; it; it = it->next)
            if (it != s && it != list) {
                serve_error(out, 400, "unknown field '%.64s'", it->string ? it->string : "");
                goto done;
            }
        for (const cJSON *it = list->child; it; it = it->next, i++)
            if (!cJSON_IsObject(it) || parse_event(c, r, it, 0, &ev[i], out)) {
                if (!cJSON_IsObject(it))
                    serve_error(out, 400, "event %d is not an object", i + 1);
                goto done;
            }
    } else if (parse_event(c, r, j, 1, &ev[i++], out)) {
        goto done;
    }
    int64_t now = (int64_t)time(NULL);
    for (int k = 0; k < n; k++)
        ev[k].ts = now;
    int total = 0;
    if (serve_sessions_add(c->sessions, s->valuestring, ev, n, now, &total)) {
        serve_error(out, 500, "out of memory");
        goto done;
    }
    for (int k = 0; k < n; k++)
        atomic_fetch_add_explicit(&c->metrics.events[ev[k].type], 1, memory_order_relaxed);
    out->status = 200;
    rs_jsonw_puts(&out->body, "{\"session\":");
    rs_jsonw_str(&out->body, s->valuestring);
    rs_jsonw_printf(&out->body, ",\"accepted\":%d,\"events\":%d}", n, total);
done:
    free(ev);
    cJSON_Delete(j);
    serve_release(g);
}

/* ---------------------------------------------------------------- the rest */

static void api_healthz(serve_ctx *c, serve_response *out)
{
    serve_gen *g = serve_acquire(c->models);
    int n;
    (void)serve_gen_models(g, &n);
    int64_t now = (int64_t)time(NULL);
    out->status = 200;
    rs_jsonw_printf(&out->body,
                    "{\"status\":\"ok\",\"generation\":%llu,\"active_models\":%d,"
                    "\"open_cities\":%d,\"sessions\":%zu,\"uptime_seconds\":%lld}",
                    (unsigned long long)serve_gen_number(g), n, serve_gen_open_cities(g),
                    serve_sessions_count(c->sessions, now),
                    (long long)(now - c->metrics.started));
    serve_release(g);
}

void serve_api(serve_ctx *c, const serve_request *rq, serve_response *out)
{
    switch (rq->ep) {
    case EP_RECOMMEND:
    case EP_SIMILAR:
        api_recommend(c, rq, rq->ep, out);
        break;
    case EP_EVENTS:
        api_events(c, rq, out);
        break;
    case EP_HEALTHZ:
        api_healthz(c, out);
        break;
    case EP_METRICS:
        out->status = 200;
        out->content_type = "text/plain; version=0.0.4; charset=utf-8";
        serve_metrics_text(&c->metrics, &c->cfg, c->models, c->sessions, &out->body);
        break;
    default:
        serve_error(out, 404, "no such endpoint");
    }
}
