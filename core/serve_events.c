/* serve_events.c - the event weights table (serve_events.h). */
#include "serve_events.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int name_ok(const char *s, size_t n)
{
    if (n == 0 || n >= 32)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int rs_event_weights_parse(const char *spec, rs_event_weights *out, rs_error *e)
{
    memset(out, 0, sizeof *out);
    if (!spec || !*spec)
        spec = RS_EVENT_WEIGHTS_DEFAULT;
    const char *p = spec;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        char num[64];
        size_t nl = eq ? len - (size_t)(eq + 1 - p) : 0;
        char *stop = NULL;
        double w = -1;
        if (eq && nl > 0 && nl < sizeof num) {
            memcpy(num, eq + 1, nl);
            num[nl] = 0;
            w = strtod(num, &stop);
        }
        int show = (int)(len > 80 ? 80 : len);
        if (!eq || !name_ok(p, (size_t)(eq - p)) || !stop || *stop || stop == num)
            return rs_seterr(e, RS_EUSAGE, "bad weight '%.*s' (expected NAME=WEIGHT, e.g. %s)",
                             show, p, RS_EVENT_WEIGHTS_DEFAULT);
        if (!(w >= RS_EVENT_WEIGHT_MIN && w <= RS_EVENT_WEIGHT_MAX))
            return rs_seterr(e, RS_EUSAGE, "weight '%.*s' is not a number from %g to %g%s", show,
                             p, RS_EVENT_WEIGHT_MIN, RS_EVENT_WEIGHT_MAX,
                             w <= 0 ? " (leave a type out to skip its events)" : "");
        if (rs_event_type(out, p, (size_t)(eq - p)) >= 0)
            return rs_seterr(e, RS_EUSAGE, "'%.*s' is given twice", (int)(eq - p), p);
        if (out->n == RS_EVENT_TYPES_MAX)
            return rs_seterr(e, RS_EUSAGE, "more than %d event types", RS_EVENT_TYPES_MAX);
        memcpy(out->name[out->n], p, (size_t)(eq - p));
        out->name[out->n][eq - p] = 0;
        out->weight[out->n++] = w;
        if (!end)
            break;
        p = end + 1;
    }
    return RS_OK;
}

int rs_event_type(const rs_event_weights *w, const char *name, size_t n)
{
    for (int i = 0; i < w->n; i++)
        if (strlen(w->name[i]) == n && strncasecmp(w->name[i], name, n) == 0)
            return i;
    return -1;
}
