/* cmd_serve.c - `recoscope serve`: the recommendations as a local HTTP service
 * (docs/SERVE.md).  Options, start, the main loop and stop; the parts are listed in
 * serve.h.
 *
 * The main thread only waits for signals and polls the registry: every --poll seconds
 * (and on SIGHUP) it compares the signature of the models, catalogue and imports with
 * the one the answering generation was built from, and builds and swaps in a new one
 * when it changed.  SIGINT / SIGTERM stop the daemon (requests in flight finish).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/store.h"
#include "cli.h"
#include "opt.h"
#include "serve.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: recoscope serve [--listen ADDR:PORT] [--threads N] [--allow-remote]\n"
            "                       [--max-connections N] [--timeout S] [--max-body BYTES]\n"
            "                       [--max-basket N] [--poll S] [--preload] [--no-completion]\n"
            "                       [--mix X]\n"
            "                       [--event-weights SPEC] [--session-ttl S]\n"
            "                       [--session-events N] [--max-sessions N] [--access-log] [-q]\n"
            "\n"
            "The recommendations of the database as a local HTTP service (JSON in and out,\n"
            "the fields of `recommend --json`).  Reads the database only; when `train` or\n"
            "`import` change it, switches to the new models without dropping a request.\n"
            "\n"
            "  GET  /v1/recommend?product=ID[&city=C][&kinds=K,...][&k=N][&session=S]\n"
            "  POST /v1/recommend  {\"basket\": [ID, ...], \"city\": C, \"kinds\": [K], \"k\": N,\n"
            "                       \"session\": S, ...}\n"
            "  GET  /v1/similar?product=ID[&city=C][&k=N]         synonyms\n"
            "  POST /v1/events     {\"session\": S, \"events\": [{\"product\": ID, \"event\": E}]}\n"
            "  GET  /healthz       GET /metrics (Prometheus text format)\n"
            "With session=S the offline recommendations are mixed with those of the\n"
            "session's recent events; the answer's \"session\" says which row came from which.\n"
            "\n"
            "options:\n"
            "  --listen A:P         address and port (default 127.0.0.1:8377; [::1]:P for\n"
            "                       IPv6; port 0 = any free port, printed at start)\n"
            "  --allow-remote       allow an address that is not loopback\n"
            "  --threads N          request threads, 1..256 (default 2)\n"
            "  --max-connections N  more open at once get 503 (default 256)\n"
            "  --timeout S          seconds a connection may stay idle, and a body may take\n"
            "                       (default 10)\n"
            "  --max-body BYTES     larger request bodies get 413 (default 65536)\n"
            "  --max-basket N       products in one query (default 100)\n"
            "  --poll S             seconds between checks for new models, 0 = never (2);\n"
            "                       SIGHUP checks at once\n"
            "  --preload            open every city's recommender at start (default: the\n"
            "                       all-cities one; the others on their first request)\n"
            "  --no-completion      do not load the basket-completion models (kind\n"
            "                       completion; each request thread gets its own, and an\n"
            "                       item-item one on a large world takes minutes to build)\n"
            "  --mix X              share of the session's rows in a mixed list, 0..1 (0.5)\n"
            "  --event-weights SPEC NAME=WEIGHT,... (default %s, as import)\n"
            "  --session-ttl S      a session without events for S seconds is forgotten (1800)\n"
            "  --session-events N   recent events kept per session (default 50)\n"
            "  --max-sessions N     sessions kept; the least recently used goes (100000)\n"
            "  --access-log         one line per request on stderr\n"
            "  -q, --quiet          no reload messages\n"
            "\n"
            "exit codes: 0 stopped by SIGINT/SIGTERM; 1 usage; 2 bad data (database, a\n"
            "model file); 3 internal error (cannot listen)\n",
            RS_EVENT_WEIGHTS_DEFAULT);
}

enum { OPT_LISTEN = 1, OPT_THREADS, OPT_REMOTE, OPT_MAXCONN, OPT_TIMEOUT, OPT_MAXBODY,
       OPT_MAXBASKET, OPT_POLL, OPT_PRELOAD, OPT_MIX, OPT_WEIGHTS, OPT_TTL, OPT_SEVENTS,
       OPT_MAXSESS, OPT_ACCESS, OPT_QUIET, OPT_NOCOMP };

static const cli_opt OPTS[] = {
    {"listen", 0, CLI_ARG, OPT_LISTEN},
    {"threads", 0, CLI_ARG, OPT_THREADS},
    {"allow-remote", 0, CLI_FLAG, OPT_REMOTE},
    {"max-connections", 0, CLI_ARG, OPT_MAXCONN},
    {"timeout", 0, CLI_ARG, OPT_TIMEOUT},
    {"max-body", 0, CLI_ARG, OPT_MAXBODY},
    {"max-basket", 0, CLI_ARG, OPT_MAXBASKET},
    {"poll", 0, CLI_ARG, OPT_POLL},
    {"preload", 0, CLI_FLAG, OPT_PRELOAD},
    {"no-completion", 0, CLI_FLAG, OPT_NOCOMP},
    {"mix", 0, CLI_ARG, OPT_MIX},
    {"event-weights", 0, CLI_ARG, OPT_WEIGHTS},
    {"session-ttl", 0, CLI_ARG, OPT_TTL},
    {"session-events", 0, CLI_ARG, OPT_SEVENTS},
    {"max-sessions", 0, CLI_ARG, OPT_MAXSESS},
    {"access-log", 0, CLI_FLAG, OPT_ACCESS},
    {"quiet", 'q', CLI_FLAG, OPT_QUIET},
    {NULL, 0, 0, 0},
};

/* "HOST:PORT", "[V6]:PORT", "HOST" or a bare IPv6 address (default port). */
static int parse_listen(const char *s, serve_config *cfg)
{
    const char *host = s, *port = NULL;
    size_t hl;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close || (close[1] && close[1] != ':'))
            return -1;
        host = s + 1;
        hl = (size_t)(close - host);
        port = close[1] ? close + 2 : NULL;
    } else {
        const char *colon = strrchr(s, ':');
        if (colon && strchr(s, ':') == colon) {
            hl = (size_t)(colon - s);
            port = colon + 1;
        } else {
            hl = strlen(s);
        }
    }
    if (hl == 0 || hl >= sizeof cfg->host)
        return -1;
    memcpy(cfg->host, host, hl);
    cfg->host[hl] = 0;
    if (port) {
        int64_t v;
        if (cli_parse_int(port, &v) || v < 0 || v > 65535)
            return -1;
        cfg->port = (int)v;
    }
    return 0;
}

/* 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
static int is_loopback(const char *host)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, host, a) != 1)
        return 0;
    static const unsigned char one[16] = {[15] = 1};
    static const unsigned char v4[12] = {[10] = 0xff, [11] = 0xff};
    return memcmp(a, one, 16) == 0 || (memcmp(a, v4, 12) == 0 && a[12] == 127);
}

static void config_defaults(serve_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 8377;
    cfg->threads = 2;
    cfg->max_connections = 256;
    cfg->timeout = 10;
    cfg->max_body = 65536;
    cfg->max_basket = 100;
    cfg->poll = 2;
    cfg->max_sessions = 100000;
    cfg->session_events = 50;
    cfg->session_ttl = 1800;
    cfg->mix = 0.5;
}

static int parse_args(int argc, char **argv, serve_config *cfg)
{
    const char *weights = NULL;
    cli_parser p;
    cli_opt_init(&p, "serve", argc, argv, OPTS);
    int id, v;
    int64_t big;
    while ((id = cli_opt_next(&p)) > 0) {
        switch (id) {
        case OPT_LISTEN:
            if (parse_listen(p.value, cfg))
                return cli_usage_error("serve", "--listen: '%s' is not ADDR:PORT", p.value);
            break;
        case OPT_THREADS: if (cli_opt_int32(&p, 1, 256, &cfg->threads)) return RS_EUSAGE; break;
        case OPT_REMOTE: cfg->allow_remote = 1; break;
        case OPT_MAXCONN:
            if (cli_opt_int32(&p, 1, 100000, &cfg->max_connections))
                return RS_EUSAGE;
            break;
        case OPT_TIMEOUT: if (cli_opt_int32(&p, 1, 3600, &cfg->timeout)) return RS_EUSAGE; break;
        case OPT_MAXBODY:
            if (cli_opt_int(&p, 256, 64 << 20, &big))
                return RS_EUSAGE;
            cfg->max_body = (size_t)big;
            break;
        case OPT_MAXBASKET:
            if (cli_opt_int32(&p, 1, 256, &cfg->max_basket))
                return RS_EUSAGE;
            break;
        case OPT_POLL: if (cli_opt_double(&p, 0, 86400, &cfg->poll)) return RS_EUSAGE; break;
        case OPT_PRELOAD: cfg->preload_all = 1; break;
        case OPT_NOCOMP: cfg->no_completion = 1; break;
        case OPT_MIX: if (cli_opt_double(&p, 0, 1, &cfg->mix)) return RS_EUSAGE; break;
        case OPT_WEIGHTS: weights = p.value; break;
        case OPT_TTL: if (cli_opt_int32(&p, 1, 86400 * 30, &cfg->session_ttl)) return RS_EUSAGE; break;
        case OPT_SEVENTS:
            if (cli_opt_int32(&p, 1, 10000, &cfg->session_events))
                return RS_EUSAGE;
            break;
        case OPT_MAXSESS:
            if (cli_opt_int32(&p, 1, 10000000, &v))
                return RS_EUSAGE;
            cfg->max_sessions = v;
            break;
        case OPT_ACCESS: cfg->access_log = 1; break;
        case OPT_QUIET: cfg->quiet = 1; break;
        case CLI_HELP: usage(stdout); return -1;
        default: return cli_usage_error("serve", "unexpected argument '%s'", p.value);
        }
    }
    if (id < 0)
        return RS_EUSAGE;
    rs_error e = {0};
    if (rs_event_weights_parse(weights, &cfg->weights, &e))
        return cli_usage_error("serve", "--event-weights: %s", e.msg);
    if (!is_loopback(cfg->host) && !cfg->allow_remote)
        return cli_usage_error("serve",
                               "--listen %s is not a loopback address: the service has no "
                               "authentication; add --allow-remote to serve other machines",
                               cfg->host);
    return RS_OK;
}

/* Signals reach the main loop through a pipe: a handler (process-wide, so whichever
 * thread the kernel picks, OpenBLAS's own included, runs it) writes the signal's
 * number.  The one piece of global state here; set up once by cmd_serve. */
static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (write(sig_pipe[1], &b, 1) < 0) {
        /* the pipe is full: a signal is pending already */
    }
    errno = saved;
}

static int install_signals(void)
{
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
        sigaction(SIGHUP, &sa, NULL))
        return -1;
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-response is EPIPE, not a signal */
    return 0;
}

/* The next signal, or 0 after wait seconds. */
static int wait_signal(double wait)
{
    struct pollfd pf = {.fd = sig_pipe[0], .events = POLLIN};
    int ms = wait > 86400 ? 86400000 : (int)(wait * 1000);
    if (poll(&pf, 1, ms) <= 0)
        return 0;
    unsigned char b = 0;
    return read(sig_pipe[0], &b, 1) == 1 ? b : 0;
}

/* Waits for signals and polls for new models until SIGINT / SIGTERM. */
static void main_loop(serve_ctx *c)
{
    for (;;) {
        int sig = wait_signal(c->cfg.poll > 0 ? c->cfg.poll : 3600);
        if (sig == SIGINT || sig == SIGTERM)
            return;
        int force = sig == SIGHUP;
        if (!force && c->cfg.poll <= 0)
            continue;
        int swapped = 0;
        rs_error e = {0};
        if (serve_models_poll(c->models, force, &swapped, &e)) {
            if (!c->cfg.quiet)
                cli_message(stderr, "recoscope serve: reload failed (keeping the current "
                                    "models): %s\n", e.msg);
        } else if (swapped && !c->cfg.quiet) {
            serve_gen *g = serve_acquire(c->models);
            int n;
            (void)serve_gen_models(g, &n);
            cli_message(stderr, "recoscope serve: new models in use (generation %llu, %d active "
                                "models)\n", (unsigned long long)serve_gen_number(g), n);
            serve_release(g);
        }
    }
}

int cmd_serve(rs_cli *cli, int argc, char **argv)
{
    serve_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        rs_error e = {RS_EINTERNAL, "out of memory"};
        return cli_fail(&e);
    }
    config_defaults(&c->cfg);
    c->cfg.db_path = cli->db_path ? cli->db_path : rs_store_default_path();
    int rc = parse_args(argc, argv, &c->cfg);
    if (rc) {
        free(c);
        return rc < 0 ? RS_OK : rc;
    }
    serve_metrics_init(&c->metrics);
    rs_error e = {0};
    int port = 0;
    if (install_signals()) {
        rc = rs_seterr(&e, RS_EINTERNAL, "cannot set up the signal handlers: %s",
                       strerror(errno));
        goto fail;
    }
    if ((rc = serve_models_open(&c->cfg, &c->models, &e)))
        goto fail;
    if (serve_sessions_new(&c->cfg, &c->sessions)) {
        rc = rs_seterr(&e, RS_EINTERNAL, "out of memory");
        goto fail;
    }
    if ((rc = serve_http_start(c, &port, &e)))
        goto fail;
    int is6 = strchr(c->cfg.host, ':') != NULL;
    cli_message(stdout, "recoscope serve: listening on http://%s%s%s:%d/ (%d threads, %s)\n",
                is6 ? "[" : "", c->cfg.host, is6 ? "]" : "", port, c->cfg.threads,
                c->cfg.db_path);
    fflush(stdout);
    main_loop(c);
    if (!c->cfg.quiet)
        cli_message(stderr, "recoscope serve: stopping\n");
    rc = RS_OK;
    goto done;
fail:
    cli_fail(&e);
done:
    serve_http_stop(c);
    serve_sessions_free(c->sessions);
    serve_models_close(c->models);
    free(c);
    for (int i = 0; i < 2; i++)
        if (sig_pipe[i] >= 0)
            close(sig_pipe[i]);
    sig_pipe[0] = sig_pipe[1] = -1;
    return rc;
}
