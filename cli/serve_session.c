/* serve_session.c - the sessions of `recoscope serve`: each session's recent events
 * (POST /v1/events) in memory, and the online query made from them.
 *
 * A session is forgotten after session_ttl seconds without events (default 1800: the
 * gap at which the `events` import preset cuts a visitor's events into sessions), and
 * keeps its session_events most recent events.  At max_sessions, the least recently
 * used session makes room.  A product's online weight is the sum of its events'
 * weights (the import sums them per session the same way).  One mutex: every
 * operation is a hash lookup and a few dozen events.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../core/hash.h"
#include "serve.h"

typedef struct session {
    char *id;
    struct session *hnext;          /* hash chain */
    struct session *prev, *next;    /* LRU list: head = most recent */
    int64_t last;                   /* time of the last event */
    int head, n;                    /* ring of events: oldest at head */
    serve_event ev[];
} session;

struct serve_sessions {
    pthread_mutex_t mu;
    session **buckets;
    size_t mask;
    size_t count;
    session *lru_head, *lru_tail;
    int max_sessions, cap_events, ttl;
    const rs_event_weights *weights;
};

static uint64_t id_hash(const char *s)
{
    return rs_fnv1a64(RS_FNV64_INIT, s, strlen(s));
}

int serve_sessions_new(const serve_config *cfg, serve_sessions **out)
{
    serve_sessions *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    size_t nb = 16;
    while (nb < (size_t)cfg->max_sessions * 2)
        nb *= 2;
    if (!(s->buckets = calloc(nb, sizeof *s->buckets))) {
        free(s);
        return -1;
    }
    pthread_mutex_init(&s->mu, NULL);
    s->mask = nb - 1;
    s->max_sessions = cfg->max_sessions;
    s->cap_events = cfg->session_events;
    s->ttl = cfg->session_ttl;
    s->weights = &cfg->weights;
    *out = s;
    return 0;
}

void serve_sessions_free(serve_sessions *s)
{
    if (!s)
        return;
    for (session *x = s->lru_head, *nx; x; x = nx) {
        nx = x->next;
        free(x->id);
        free(x);
    }
    free(s->buckets);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void lru_unlink(serve_sessions *s, session *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        s->lru_head = x->next;
    if (x->next)
        x->next->prev = x->prev;
    else
        s->lru_tail = x->prev;
    x->prev = x->next = NULL;
}

static void lru_push(serve_sessions *s, session *x)
{
    x->prev = NULL;
    x->next = s->lru_head;
    if (s->lru_head)
        s->lru_head->prev = x;
    s->lru_head = x;
    if (!s->lru_tail)
        s->lru_tail = x;
}

static void drop(serve_sessions *s, session *x)
{
    session **pp = &s->buckets[id_hash(x->id) & s->mask];
    while (*pp != x)
        pp = &(*pp)->hnext;
    *pp = x->hnext;
    lru_unlink(s, x);
    s->count--;
    free(x->id);
    free(x);
}

/* Forgets the sessions idle for longer than the ttl (they sit at the LRU tail). */
static void expire(serve_sessions *s, int64_t now)
{
    while (s->lru_tail && now - s->lru_tail->last > s->ttl)
        drop(s, s->lru_tail);
}

static session *find(serve_sessions *s, const char *id)
{
    for (session *x = s->buckets[id_hash(id) & s->mask]; x; x = x->hnext)
        if (strcmp(x->id, id) == 0)
            return x;
    return NULL;
}

int serve_sessions_add(serve_sessions *s, const char *id, const serve_event *ev, int n,
                       int64_t now, int *total)
{
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    expire(s, now);
    session *x = find(s, id);
    if (!x) {
        if (s->count >= (size_t)s->max_sessions && s->lru_tail)
            drop(s, s->lru_tail);
        x = calloc(1, sizeof *x + (size_t)s->cap_events * sizeof x->ev[0]);
        if (!x || !(x->id = strdup(id))) {
            free(x);
            rc = -1;
            goto done;
        }
        size_t b = id_hash(id) & s->mask;
        x->hnext = s->buckets[b];
        s->buckets[b] = x;
        s->count++;
    } else {
        lru_unlink(s, x);
    }
    lru_push(s, x);
    x->last = now;
    for (int i = 0; i < n; i++) {
        if (x->n < s->cap_events) {
            x->ev[(x->head + x->n++) % s->cap_events] = ev[i];
        } else {
            x->ev[x->head] = ev[i];
            x->head = (x->head + 1) % s->cap_events;
        }
    }
    *total = x->n;
done:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

typedef struct agg {
    int32_t product;
    double weight;
    int last;      /* position of its latest event (larger = more recent) */
} agg;

static int cmp_agg(const void *a, const void *b)
{
    const agg *x = a, *y = b;
    if (x->weight != y->weight)
        return x->weight > y->weight ? -1 : 1;
    if (x->last != y->last)
        return x->last > y->last ? -1 : 1;
    return (x->product > y->product) - (x->product < y->product);
}

int serve_sessions_query(serve_sessions *s, const char *id, int64_t now, int32_t *out,
                         int max, int *n, int *n_events)
{
    *n = 0;
    *n_events = 0;
    agg *a = malloc(((size_t)s->cap_events + 1) * sizeof *a);
    if (!a)
        return -1;
    int na = 0;
    pthread_mutex_lock(&s->mu);
    expire(s, now);
    session *x = find(s, id);
    if (x) {
        *n_events = x->n;
        for (int i = 0; i < x->n; i++) {
            const serve_event *ev = &x->ev[(x->head + i) % s->cap_events];
            double w = ev->type >= 0 && ev->type < s->weights->n ? s->weights->weight[ev->type] : 0;
            int j = 0;
            while (j < na && a[j].product != ev->product)
                j++;
            if (j == na)
                a[na++] = (agg){ev->product, 0, 0};
            a[j].weight += w;
            a[j].last = i;
        }
    }
    pthread_mutex_unlock(&s->mu);
    qsort(a, (size_t)na, sizeof *a, cmp_agg);
    for (int i = 0; i < na && *n < max; i++)
        if (a[i].weight > 0)
            out[(*n)++] = a[i].product;
    free(a);
    return 0;
}

size_t serve_sessions_count(serve_sessions *s, int64_t now)
{
    pthread_mutex_lock(&s->mu);
    expire(s, now);
    size_t n = s->count;
    pthread_mutex_unlock(&s->mu);
    return n;
}
