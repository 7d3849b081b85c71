/* serve_metrics.c - the counters of `recoscope serve` and GET /metrics in the
 * Prometheus text exposition format (version 0.0.4): one HELP and TYPE line per
 * family, label values escaped (\\, \", \n) after the one sanitizer, histograms with
 * cumulative buckets ending in le="+Inf" equal to _count.  Counters are atomics: the
 * request threads add, the exposition reads. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../core/sanitize.h"
#include "serve.h"

static const char *const EP_NAMES[EP_N] = {"recommend", "similar", "events",
                                           "healthz",   "metrics", "other"};
static const char *const MIX_NAMES[MIX_N] = {"offline", "online", "mixed"};
static const char *const SRC_NAMES[SRC_N] = {"offline", "online", "both"};
static const char *const REJ_NAMES[REJ_N] = {"connections", "body_too_large", "timeout",
                                             "aborted"};
/* the status codes counted by name; any other goes to the last slot */
static const int STATUS[] = {200, 400, 404, 405, 408, 413, 414, 415, 431, 500, 503};
#define N_STATUS ((int)(sizeof STATUS / sizeof STATUS[0]))
#define STATUS_OTHER 15
/* upper bounds of the latency buckets, seconds */
static const double LAT_LE[SERVE_LAT_BUCKETS] = {0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                 0.01,    0.025,  0.05,  0.1,    0.25,
                                                 0.5,     1,      2.5,   10};

const char *serve_endpoint_name(int ep) { return ep >= 0 && ep < EP_N ? EP_NAMES[ep] : "other"; }

void serve_metrics_init(serve_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->started = (int64_t)time(NULL);
}

void serve_metrics_request(serve_metrics *m, int ep, int status, double seconds)
{
    if (ep < 0 || ep >= EP_N)
        ep = EP_OTHER;
    int slot = STATUS_OTHER;
    for (int i = 0; i < N_STATUS; i++)
        if (STATUS[i] == status)
            slot = i;
    atomic_fetch_add_explicit(&m->requests[ep][slot], 1, memory_order_relaxed);
    int b = 0;
    while (b < SERVE_LAT_BUCKETS && seconds > LAT_LE[b])
        b++;
    atomic_fetch_add_explicit(&m->lat_bucket[ep][b], 1, memory_order_relaxed);
    double ns = seconds > 0 ? seconds * 1e9 : 0;
    atomic_fetch_add_explicit(&m->lat_sum_ns[ep], (unsigned long long)ns, memory_order_relaxed);
}

/* A label value: the sanitized text with \, " and newlines escaped. */
static void label(rs_jsonw *b, const char *s)
{
    char clean[512];
    rs_sanitize_msg(s ? s : "", 0, clean, sizeof clean);
    rs_jsonw_put(b, "\"", 1);
    for (const char *p = clean; *p; p++) {
        if (*p == '\\' || *p == '"')
            rs_jsonw_put(b, "\\", 1);
        if (*p == '\n')
            rs_jsonw_puts(b, "\\n");
        else
            rs_jsonw_put(b, p, 1);
    }
    rs_jsonw_put(b, "\"", 1);
}

static void family(rs_jsonw *b, const char *name, const char *type, const char *help)
{
    rs_jsonw_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static unsigned long long ld(const atomic_ullong *a)
{
    return atomic_load_explicit((atomic_ullong *)a, memory_order_relaxed);
}

static void http_families(const serve_metrics *m, rs_jsonw *b)
{
    family(b, "recoscope_http_requests_total", "counter",
           "Requests answered, by endpoint and HTTP status code.");
    for (int ep = 0; ep < EP_N; ep++)
        for (int s = 0; s < 16; s++) {
            unsigned long long v = ld(&m->requests[ep][s]);
            if (!v && !(s == 0 && ep < EP_OTHER))
                continue;
            rs_jsonw_printf(b, "recoscope_http_requests_total{endpoint=\"%s\",code=\"", EP_NAMES[ep]);
            if (s < N_STATUS)
                rs_jsonw_printf(b, "%d", STATUS[s]);
            else
                rs_jsonw_puts(b, "other");
            rs_jsonw_printf(b, "\"} %llu\n", v);
        }
    family(b, "recoscope_http_request_duration_seconds", "histogram",
           "Time from a request's first byte to its response's last byte.");
    for (int ep = 0; ep < EP_N; ep++) {
        unsigned long long cum = 0;
        for (int i = 0; i <= SERVE_LAT_BUCKETS; i++) {
            cum += ld(&m->lat_bucket[ep][i]);
            rs_jsonw_printf(b, "recoscope_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"",
                            EP_NAMES[ep]);
            if (i < SERVE_LAT_BUCKETS)
                rs_jsonw_printf(b, "%g", LAT_LE[i]);
            else
                rs_jsonw_puts(b, "+Inf");
            rs_jsonw_printf(b, "\"} %llu\n", cum);
        }
        rs_jsonw_printf(b, "recoscope_http_request_duration_seconds_sum{endpoint=\"%s\"} %.9g\n",
                        EP_NAMES[ep], (double)ld(&m->lat_sum_ns[ep]) / 1e9);
        rs_jsonw_printf(b, "recoscope_http_request_duration_seconds_count{endpoint=\"%s\"} %llu\n",
                        EP_NAMES[ep], cum);
    }
    family(b, "recoscope_http_rejected_total", "counter",
           "Connections refused or cut: over the connection limit (503), body too large "
           "(413), idle past the timeout, aborted by the client.");
    for (int r = 0; r < REJ_N; r++)
        rs_jsonw_printf(b, "recoscope_http_rejected_total{reason=\"%s\"} %llu\n", REJ_NAMES[r],
                        ld(&m->rejected[r]));
    family(b, "recoscope_http_connections", "gauge", "Open client connections.");
    rs_jsonw_printf(b, "recoscope_http_connections %d\n",
                    atomic_load((atomic_int *)&m->connections));
}

static void rec_families(const serve_metrics *m, const serve_config *cfg, rs_jsonw *b)
{
    family(b, "recoscope_recommend_mix_total", "counter",
           "Recommendation lists by how they were made: offline models only (no session "
           "events), online only (the session's events, no product asked), or both mixed.");
    for (int i = 0; i < MIX_N; i++)
        rs_jsonw_printf(b, "recoscope_recommend_mix_total{mode=\"%s\"} %llu\n", MIX_NAMES[i],
                        ld(&m->mix[i]));
    family(b, "recoscope_recommend_rows_total", "counter",
           "Rows returned by /v1/recommend, by where they came from.");
    for (int i = 0; i < SRC_N; i++)
        rs_jsonw_printf(b, "recoscope_recommend_rows_total{source=\"%s\"} %llu\n", SRC_NAMES[i],
                        ld(&m->rows[i]));
    family(b, "recoscope_empty_results_total", "counter",
           "Lists asked for that came back without a row, by endpoint and kind.");
    for (int ep = 0; ep < EP_N; ep++)
        for (int k = 0; k < RS_REC_NKINDS; k++) {
            unsigned long long v = ld(&m->empty[ep][k]);
            if (!v && ep != EP_RECOMMEND && !(ep == EP_SIMILAR && k == RS_REC_SYNONYMS))
                continue;
            rs_jsonw_printf(b, "recoscope_empty_results_total{endpoint=\"%s\",kind=\"%s\"} %llu\n",
                            EP_NAMES[ep], rs_rec_kind_name((rs_rec_kind)k), v);
        }
    family(b, "recoscope_events_total", "counter", "Session events accepted, by event type.");
    for (int i = 0; i < cfg->weights.n; i++) {
        rs_jsonw_puts(b, "recoscope_events_total{event=");
        label(b, cfg->weights.name[i]);
        rs_jsonw_printf(b, "} %llu\n", ld(&m->events[i]));
    }
}

static void model_families(serve_models *models, rs_jsonw *b)
{
    serve_gen *g = serve_acquire(models);
    int64_t now = (int64_t)time(NULL);
    int n;
    const rs_serve_model *v = serve_gen_models(g, &n);
    family(b, "recoscope_model_age_seconds", "gauge",
           "Seconds since each active model was registered, labelled with its id.");
    for (int i = 0; i < n; i++) {
        const char *city = serve_gen_city_name(g, v[i].city_id);
        char idbuf[32];
        snprintf(idbuf, sizeof idbuf, "%" PRId64, v[i].city_id);
        rs_jsonw_puts(b, "recoscope_model_age_seconds{city=");
        label(b, city ? city : idbuf);
        rs_jsonw_puts(b, ",kind=");
        label(b, v[i].kind);
        rs_jsonw_puts(b, ",split=");
        label(b, v[i].split);
        rs_jsonw_printf(b, ",model_id=\"%" PRId64 "\"} %" PRId64 "\n", v[i].id,
                        now - v[i].created > 0 ? now - v[i].created : 0);
    }
    family(b, "recoscope_models_generation", "gauge",
           "The generation of models answering (1 at start, one more per hot reload).");
    rs_jsonw_printf(b, "recoscope_models_generation %llu\n",
                    (unsigned long long)serve_gen_number(g));
    family(b, "recoscope_models_loaded_timestamp_seconds", "gauge",
           "When the answering generation was loaded (unix time).");
    rs_jsonw_printf(b, "recoscope_models_loaded_timestamp_seconds %" PRId64 "\n",
                    serve_gen_loaded_at(g));
    family(b, "recoscope_models_open_cities", "gauge",
           "Cities (all cities included) whose recommender is open in this generation.");
    rs_jsonw_printf(b, "recoscope_models_open_cities %d\n", serve_gen_open_cities(g));
    serve_release(g);
    uint64_t failed = 0, ok = serve_models_reloads(models, &failed);
    family(b, "recoscope_model_reloads_total", "counter",
           "Hot reloads after the registry changed, by result (a failed one keeps the old "
           "models).");
    rs_jsonw_printf(b, "recoscope_model_reloads_total{result=\"ok\"} %llu\n",
                    (unsigned long long)ok);
    rs_jsonw_printf(b, "recoscope_model_reloads_total{result=\"failed\"} %llu\n",
                    (unsigned long long)failed);
}

void serve_metrics_text(const serve_metrics *m, const serve_config *cfg, serve_models *models,
                        serve_sessions *sessions, rs_jsonw *b)
{
    int64_t now = (int64_t)time(NULL);
    http_families(m, b);
    rec_families(m, cfg, b);
    family(b, "recoscope_sessions", "gauge", "Sessions with events in the last session TTL.");
    rs_jsonw_printf(b, "recoscope_sessions %zu\n", serve_sessions_count(sessions, now));
    model_families(models, b);
    family(b, "recoscope_start_time_seconds", "gauge", "When the service started (unix time).");
    rs_jsonw_printf(b, "recoscope_start_time_seconds %" PRId64 "\n", m->started);
}
