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

typedef struct rs_event_weights {
    int n;
    char name[RS_EVENT_TYPES_MAX][32];
    double weight[RS_EVENT_TYPES_MAX];
} rs_event_weights;

/* Parses "NAME=WEIGHT,NAME=WEIGHT,..." (NULL or "" = the default): names of 1..31
 * bytes of [A-Za-z0-9_-], distinct (case-insensitively), weights finite and >= 0, at
 * most RS_EVENT_TYPES_MAX entries.  RS_EUSAGE naming the bad entry otherwise. */
int rs_event_weights_parse(const char *spec, rs_event_weights *out, rs_error *e);

/* The index of event name (n bytes, case-insensitive), or -1. */
int rs_event_type(const rs_event_weights *w, const char *name, size_t n);

#endif
