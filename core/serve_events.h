/* serve_events.h - the weights of shop events (view / addtocart / transaction ...).
 *
 * The `events` import preset turns a visitor's events into weighted receipt lines with
 * these weights (import.h: event_weights, default RS_EVENT_WEIGHTS_DEFAULT); `serve`
 * weighs a session's live events (POST /v1/events) with the same table, so an online
 * session and an imported one count alike.
 */
#ifndef RS_SERVE_EVENTS_H
#define RS_SERVE_EVENTS_H

#include <stddef.h>

#include "error.h"

#define RS_EVENT_WEIGHTS_DEFAULT "view=1,addtocart=5,transaction=3"
#define RS_EVENT_TYPES_MAX 16
/* Weights are finite numbers in this range (a weight of 0 would add lines that carry
 * nothing; leave a type out to skip its events).  The bound keeps the weights of a
 * session's item, summed, far from what float factors in ALS can hold. */
#define RS_EVENT_WEIGHT_MIN 0.001
#define RS_EVENT_WEIGHT_MAX 1000.0

typedef struct rs_event_weights {
    int n;
    char name[RS_EVENT_TYPES_MAX][32];
    double weight[RS_EVENT_TYPES_MAX];
} rs_event_weights;

/* Parses "NAME=WEIGHT,NAME=WEIGHT,..." (NULL or "" = the default): names of 1..31
 * bytes of [A-Za-z0-9_-], distinct (case-insensitively), weights from
 * RS_EVENT_WEIGHT_MIN to RS_EVENT_WEIGHT_MAX, at most RS_EVENT_TYPES_MAX entries.
 * RS_EUSAGE naming the bad entry otherwise.  The one parser of --event-weights: the
 * events import preset and serve both call it (the caller prefixes the option). */
int rs_event_weights_parse(const char *spec, rs_event_weights *out, rs_error *e);

/* The index of event name (n bytes, case-insensitive), or -1. */
int rs_event_type(const rs_event_weights *w, const char *name, size_t n);

#endif
