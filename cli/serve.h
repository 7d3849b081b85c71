/* serve.h - the parts of `recoscope serve` (cli/cmd_serve.c, cli/serve_*.c).
 *
 *   cmd_serve.c      options, start, the main loop (reload polling, signals), stop
 *   serve_http.c     libmicrohttpd: requests, bodies and their limits, routing,
 *                    responses, the completion hook that feeds the metrics
 *   serve_api.c      the endpoints: /v1/recommend, /v1/similar, /v1/events, /healthz
 *   serve_models.c   generations of recommenders: one per reload, reference-counted,
 *                    swapped in whole while requests keep the one they started with
 *   serve_session.c  the sessions' recent events and the online query made from them
 *   serve_metrics.c  counters and histograms, the Prometheus text exposition
 */
#ifndef RS_CLI_SERVE_H
#define RS_CLI_SERVE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/jsonw.h"
#include "../core/recommend.h"
#include "../core/serve_events.h"
#include "../core/serve_store.h"

/* ---------------------------------------------------------------- configuration */

typedef struct serve_config {
    const char *db_path;
    char host[64];          /* numeric IPv4 or IPv6 address */
    int port;               /* 0 = any free port (printed at start) */
    int allow_remote;       /* a non-loopback address needs this */
    int threads;            /* request threads (libmicrohttpd's pool) */
    int max_connections;    /* more at once get 503 */
    int timeout;            /* seconds a connection may stay idle */
    size_t max_body;        /* bytes; more get 413 */
    int max_basket;         /* products in one query */
    double poll;            /* seconds between registry polls (0 = no hot reload) */
    int access_log;         /* one sanitized stderr line per request */
    int quiet;
    /* sessions */
    int max_sessions;
    int session_events;     /* recent events kept per session */
    int session_ttl;        /* seconds of inactivity before a session is forgotten */
    double mix;             /* share of online rows in a mixed list, 0..1 */
    rs_event_weights weights;
    int preload_all;        /* open every city's recommender at start (and on reload) */
    int no_completion;      /* do not open the completion scorers (kind "completion") */
} serve_config;

/* ---------------------------------------------------------------- models */

typedef struct serve_gen serve_gen;
typedef struct serve_models serve_models;

/* Opens the first generation (read-only store, the all-cities recommender warmed up,
 * every city's too with preload_all). */
int serve_models_open(const serve_config *cfg, serve_models **out, rs_error *e);
void serve_models_close(serve_models *m);

/* The current generation with a reference held; serve_release when the response is
 * written (the rows point into it). */
serve_gen *serve_acquire(serve_models *m);
void serve_release(serve_gen *g);

/* The recommender of a city of generation g (NULL or "" or "all" = all cities),
 * opened on first use.  RS_EUSAGE "unknown city", or the error of opening it. */
int serve_gen_recommender(serve_gen *g, const char *city, const rs_recommender **out,
                          rs_error *e);

/* Main thread: polls the registry signature and, when it changed (or force), builds
 * and warms a new generation and swaps it in.  *swapped = 1 when it did.  On error the
 * old generation stays.  Also frees retired generations nobody holds any more. */
int serve_models_poll(serve_models *m, int force, int *swapped, rs_error *e);

/* For /metrics and /healthz (g held by the caller). */
uint64_t serve_gen_number(const serve_gen *g);
int64_t serve_gen_loaded_at(const serve_gen *g);           /* unix seconds */
const rs_serve_model *serve_gen_models(const serve_gen *g, int *n);
const char *serve_gen_city_name(const serve_gen *g, int64_t city_id); /* NULL unknown */
int serve_gen_open_cities(const serve_gen *g);
uint64_t serve_models_reloads(const serve_models *m, uint64_t *failures);

/* ---------------------------------------------------------------- sessions */

typedef struct serve_event {
    int32_t product;  /* product index */
    int type;         /* index into the event weights */
    int64_t ts;       /* unix seconds */
} serve_event;

typedef struct serve_sessions serve_sessions;

int serve_sessions_new(const serve_config *cfg, serve_sessions **out);
void serve_sessions_free(serve_sessions *s);
/* Appends events to session id (created when new; the oldest events and, when there
 * are max_sessions, the least recently used session make room).  *total receives the
 * session's events after it.  -1 when out of memory. */
int serve_sessions_add(serve_sessions *s, const char *id, const serve_event *ev, int n,
                       int64_t now, int *total);
/* The online query of session id: its products by summed event weight (ties: the most
 * recent first), at most max, into out; *n_events the session's live events (0 for an
 * unknown or expired session). */
int serve_sessions_query(serve_sessions *s, const char *id, int64_t now, int32_t *out,
                         int max, int *n, int *n_events);
size_t serve_sessions_count(serve_sessions *s, int64_t now);

/* ---------------------------------------------------------------- metrics */

enum {
    EP_RECOMMEND = 0,
    EP_SIMILAR,
    EP_EVENTS,
    EP_HEALTHZ,
    EP_METRICS,
    EP_OTHER,
    EP_N,
};
enum { MIX_OFFLINE = 0, MIX_ONLINE, MIX_MIXED, MIX_N };         /* how a list was made */
enum { SRC_OFFLINE = 0, SRC_ONLINE, SRC_BOTH, SRC_N };          /* where a row came from */
enum { REJ_CONNECTIONS = 0, REJ_BODY, REJ_TIMEOUT, REJ_ABORTED, REJ_N };

#define SERVE_LAT_BUCKETS 14

typedef struct serve_metrics {
    atomic_ullong requests[EP_N][16]; /* by status slot (serve_status_slot) */
    atomic_ullong lat_bucket[EP_N][SERVE_LAT_BUCKETS + 1]; /* cumulative at exposition */
    atomic_ullong lat_sum_ns[EP_N];
    atomic_ullong mix[MIX_N];
    atomic_ullong rows[SRC_N];
    atomic_ullong empty[EP_N][RS_REC_NKINDS];
    atomic_ullong events[RS_EVENT_TYPES_MAX];
    atomic_ullong rejected[REJ_N];
    atomic_int connections;
    int64_t started;  /* unix seconds */
} serve_metrics;

void serve_metrics_init(serve_metrics *m);
/* One finished request: endpoint, HTTP status, seconds from its first byte to the last
 * byte of the response. */
void serve_metrics_request(serve_metrics *m, int ep, int status, double seconds);
/* The Prometheus text exposition (version 0.0.4) into b. */
void serve_metrics_text(const serve_metrics *m, const serve_config *cfg, serve_models *models,
                        serve_sessions *sessions, rs_jsonw *b);
const char *serve_endpoint_name(int ep);

/* ---------------------------------------------------------------- requests */

typedef struct serve_param {
    const char *name, *value; /* owned by libmicrohttpd for the request's lifetime */
} serve_param;

#define SERVE_MAX_PARAMS 16

typedef struct serve_request {
    int ep;
    int post;                  /* a POST (else GET or HEAD) */
    serve_param params[SERVE_MAX_PARAMS];
    int n_params;
    int too_many_params;
    const char *body;          /* POST body (NUL-terminated), or NULL */
    size_t body_len;
} serve_request;

typedef struct serve_ctx {
    serve_config cfg;
    serve_models *models;
    serve_sessions *sessions;
    serve_metrics metrics;
    struct MHD_Daemon *daemon;
} serve_ctx;

/* An answer: status and a JSON (or text) body in out. */
typedef struct serve_response {
    int status;
    rs_jsonw body;
    const char *content_type;  /* NULL = application/json */
} serve_response;

/* Runs an endpoint (serve_api.c). */
void serve_api(serve_ctx *c, const serve_request *rq, serve_response *out);
/* A JSON error body {"error": msg, "status": status}. */
void serve_error(serve_response *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* serve_http.c: starts libmicrohttpd on cfg's address; the bound port in *port. */
int serve_http_start(serve_ctx *c, int *port, rs_error *e);
void serve_http_stop(serve_ctx *c);

#endif
