/* serve_http.c - `recoscope serve` on libmicrohttpd: the daemon, one request's state,
 * bodies and their limits, routing, responses and the hook that counts them.
 *
 * libmicrohttpd parses HTTP (request line, headers, chunked bodies, keep-alive) and
 * runs a pool of cfg.threads threads, each polling its share of the connections with
 * epoll and calling on_request() for the requests on them.  Limits:
 *   - connections: more than max_connections open at once get 503 (Retry-After: 1,
 *     Connection: close); libmicrohttpd itself refuses beyond max_connections + slack;
 *   - bodies: a Content-Length over max_body gets 413 before the body is read; a chunked
 *     body that grows past it is read to its end without being kept, then gets 413;
 *   - slow clients: a connection idle for `timeout` seconds is closed; a body still
 *     arriving `timeout` seconds after the request began is cut (libmicrohttpd cannot
 *     answer in the middle of a body);
 *   - headers and URL: libmicrohttpd's per-connection memory limit (431 / 414).
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cli.h"
#include "serve.h"

typedef struct req_state {
    int64_t start_ns;
    serve_request rq;
    char *body;
    size_t len, cap;
    int too_big;         /* the body outgrew max_body: the rest is read, not kept */
    int cut;             /* REJ_* when the connection was cut without an answer */
    int status;          /* the status queued; 0 = no response yet */
    int dup_param;
    char method[8];
    char url[160];       /* for the access log */
} req_state;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const struct {
    const char *path;
    int ep;
    int get, post;
} ROUTES[] = {
    {"/v1/recommend", EP_RECOMMEND, 1, 1}, {"/v1/similar", EP_SIMILAR, 1, 0},
    {"/v1/events", EP_EVENTS, 0, 1},       {"/healthz", EP_HEALTHZ, 1, 0},
    {"/metrics", EP_METRICS, 1, 0},
};
#define N_ROUTES (sizeof ROUTES / sizeof ROUTES[0])

/* Queues out as the response; takes the body. */
static enum MHD_Result respond(struct MHD_Connection *conn, req_state *st, serve_response *out,
                               int close)
{
    if (out->body.oom || !out->body.p) {
        free(out->body.p);
        memset(&out->body, 0, sizeof out->body);
        out->status = 500;
        rs_jsonw_puts(&out->body, "{\"error\":\"out of memory\",\"status\":500}");
        if (out->body.oom) {
            free(out->body.p);
            return MHD_NO;
        }
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(out->body.n, out->body.p, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(out->body.p);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            out->content_type ? out->content_type
                                              : "application/json; charset=utf-8");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (out->status == 405)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
                                st->rq.ep == EP_EVENTS      ? "POST"
                                : st->rq.ep == EP_RECOMMEND ? "GET, HEAD, POST"
                                                            : "GET, HEAD");
    if (out->status == 503)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (close)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    st->status = out->status;
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)out->status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result respond_error(struct MHD_Connection *conn, req_state *st, int status,
                                     int close, const char *msg)
{
    serve_response out = {0};
    serve_error(&out, status, "%s", msg);
    return respond(conn, st, &out, close);
}

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    req_state *st = cls;
    for (int i = 0; i < st->rq.n_params; i++)
        if (strcmp(st->rq.params[i].name, key) == 0)
            st->dup_param = 1;
    if (st->rq.n_params == SERVE_MAX_PARAMS) {
        st->rq.too_many_params = 1;
        return MHD_NO;
    }
    st->rq.params[st->rq.n_params++] = (serve_param){key, value ? value : ""};
    return MHD_YES;
}

static enum MHD_Result dispatch(serve_ctx *c, struct MHD_Connection *conn, req_state *st)
{
    if (st->rq.too_many_params)
        return respond_error(conn, st, 400, 0, "too many query parameters");
    if (st->dup_param)
        return respond_error(conn, st, 400, 0, "a query parameter is given twice");
    st->rq.body = st->body;
    st->rq.body_len = st->len;
    serve_response out = {0};
    serve_api(c, &st->rq, &out);
    return respond(conn, st, &out, 0);
}

/* The first call of a request: route it, apply the connection and size limits. */
static enum MHD_Result first_call(serve_ctx *c, struct MHD_Connection *conn, req_state *st,
                                  const char *url, const char *method)
{
    snprintf(st->method, sizeof st->method, "%s", method);
    snprintf(st->url, sizeof st->url, "%s", url);
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    st->rq.post = strcmp(method, "POST") == 0;
    st->rq.ep = EP_OTHER;
    size_t i = 0;
    while (i < N_ROUTES && strcmp(url, ROUTES[i].path) != 0)
        i++;
    if (i < N_ROUTES)
        st->rq.ep = ROUTES[i].ep;
    if (atomic_load(&c->metrics.connections) > c->cfg.max_connections) {
        atomic_fetch_add(&c->metrics.rejected[REJ_CONNECTIONS], 1);
        char msg[96];
        snprintf(msg, sizeof msg, "too many connections (at most %d)", c->cfg.max_connections);
        return respond_error(conn, st, 503, 1, msg);
    }
    if (i == N_ROUTES)
        return respond_error(conn, st, 404,
                             0, "no such endpoint (see GET /v1/recommend, /v1/similar, "
                                "POST /v1/events, /healthz, /metrics)");
    if (!((get && ROUTES[i].get) || (st->rq.post && ROUTES[i].post)))
        return respond_error(conn, st, 405, 0, "method not allowed on this endpoint");
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_param, st);
    if (!st->rq.post)
        return dispatch(c, conn, st);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end = NULL;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end != cl && n > c->cfg.max_body) {
            atomic_fetch_add(&c->metrics.rejected[REJ_BODY], 1);
            return respond_error(conn, st, 413, 1, "request body too large");
        }
    }
    return MHD_YES; /* the body follows */
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    serve_ctx *c = cls;
    req_state *st = *con_cls;
    if (!st) {
        if (!(st = calloc(1, sizeof *st)))
            return MHD_NO;
        st->start_ns = now_ns();
        *con_cls = st;
        return first_call(c, conn, st, url, method);
    }
    if (st->status) { /* answered early (413): the rest of the body is not kept */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        /* libmicrohttpd answers only before the body or after all of it: a body still
         * arriving after the timeout is cut (no answer); one that grew too large is
         * read to its end, unkept, and then gets 413 */
        if (now_ns() - st->start_ns > (int64_t)c->cfg.timeout * 1000000000) {
            st->cut = REJ_TIMEOUT;
            return MHD_NO;
        }
        if (st->too_big || st->len + n > c->cfg.max_body) {
            st->too_big = 1;
            return MHD_YES;
        }
        if (st->len + n + 1 > st->cap) {
            size_t cap = st->cap ? st->cap : 1024;
            while (cap < st->len + n + 1)
                cap *= 2;
            char *p = realloc(st->body, cap);
            if (!p) {
                st->cut = REJ_ABORTED;
                return MHD_NO;
            }
            st->body = p;
            st->cap = cap;
        }
        memcpy(st->body + st->len, upload_data, n);
        st->len += n;
        st->body[st->len] = 0;
        return MHD_YES;
    }
    if (st->too_big) {
        atomic_fetch_add(&c->metrics.rejected[REJ_BODY], 1);
        return respond_error(conn, st, 413, 1, "request body too large");
    }
    return dispatch(c, conn, st);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    serve_ctx *c = cls;
    req_state *st = *con_cls;
    if (!st)
        return;
    double secs = (double)(now_ns() - st->start_ns) / 1e9;
    if (st->status)
        serve_metrics_request(&c->metrics, st->rq.ep, st->status, secs);
    else if (st->cut)
        atomic_fetch_add(&c->metrics.rejected[st->cut], 1);
    else if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
        atomic_fetch_add(&c->metrics.rejected[REJ_TIMEOUT], 1);
    else
        atomic_fetch_add(&c->metrics.rejected[REJ_ABORTED], 1);
    if (c->cfg.access_log)
        cli_message(stderr, "recoscope serve: %s %s %d %.3f ms%s\n", st->method, st->url,
                    st->status, secs * 1e3,
                    st->status ? "" : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED
                                          ? " (timed out)"
                                          : " (aborted)");
    free(st->body);
    free(st);
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)conn;
    (void)socket_context;
    serve_ctx *c = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&c->metrics.connections, 1);
    else
        atomic_fetch_sub(&c->metrics.connections, 1);
}

/* libmicrohttpd's own messages, through the sanitizer. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
    serve_ctx *c = cls;
    if (c->cfg.quiet)
        return;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = 0;
    cli_message(stderr, "recoscope serve: libmicrohttpd: %s\n", msg);
}

int serve_http_start(serve_ctx *c, int *port, rs_error *e)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
#ifdef __linux__
    flags |= MHD_USE_EPOLL;
#endif
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, c->cfg.host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)c->cfg.port);
    } else if (inet_pton(AF_INET6, c->cfg.host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)c->cfg.port);
        flags |= MHD_USE_IPv6;
    } else {
        return rs_seterr(e, RS_EUSAGE, "--listen: '%s' is not a numeric IPv4 or IPv6 address",
                         c->cfg.host);
    }
    unsigned limit = (unsigned)c->cfg.max_connections + (unsigned)c->cfg.max_connections / 4 + 16;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_log, c}, /* first, to catch every message */
        {MHD_OPTION_SOCK_ADDR, 0, &ss},
        {MHD_OPTION_CONNECTION_LIMIT, limit, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)c->cfg.timeout, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, c},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, c},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 512, NULL},
        {c->cfg.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
         (intptr_t)c->cfg.threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    c->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, c, MHD_OPTION_ARRAY, opts,
                                 MHD_OPTION_END);
    if (!c->daemon)
        return rs_seterr(e, RS_EINTERNAL,
                         "cannot listen on %s port %d (in use, or not an address of this "
                         "machine?)", c->cfg.host, c->cfg.port);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(c->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? (int)info->port : c->cfg.port;
    return RS_OK;
}

void serve_http_stop(serve_ctx *c)
{
    if (c->daemon)
        MHD_stop_daemon(c->daemon);
    c->daemon = NULL;
}
