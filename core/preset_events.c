/* preset_events.c - event logs (timestamp,visitorid,event,itemid,...): a visitor's
 * events within --session-gap seconds of each other form one receipt
 * "<visitor>@<first timestamp>"; each event type has a weight (--event-weights), summed
 * per item of a session; unknown event types are skipped and counted.  The events are
 * kept in memory until every file is read (sessions may span files). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_int.h"

static const char *const E_RID[] = {"visitorid", "visitor_id", "session_id", NULL};
static const char *const E_PID[] = {"itemid", "item_id", "product_id", NULL};
static const char *const E_TS[] = {"timestamp", NULL};
static const char *const E_EVENT[] = {"event", "event_type", NULL};

double imp_event_weight(const imp *im, const char *p, size_t n, int *known)
{
    int i = rs_event_type(&im->ev_weights, p, n);
    *known = i >= 0;
    return i >= 0 ? im->ev_weights.weight[i] : 0;
}

int imp_push_event(imp *im, const char *visitor, size_t n, int64_t prod, int64_t ts, double w,
                   rs_error *e)
{
    int64_t *v = sm_get(&im->visitors, visitor, n);
    int64_t vid;
    if (v)
        vid = *v;
    else {
        vid = (int64_t)im->visitors.len;
        if (sm_put(&im->visitors, visitor, n, vid))
            return imp_oom(e);
    }
    if (im->nevrows == im->capev) {
        size_t cap = im->capev ? im->capev * 2 : 65536;
        evrow *ne = realloc(im->ev, cap * sizeof *ne);
        if (!ne)
            return imp_oom(e);
        im->ev = ne;
        im->capev = cap;
    }
    im->ev[im->nevrows++] = (evrow){(int32_t)vid, (int32_t)prod, ts, w};
    return RS_OK;
}

static int cmp_ev(const void *a, const void *b)
{
    const evrow *x = a, *y = b;
    if (x->visitor != y->visitor)
        return x->visitor < y->visitor ? -1 : 1;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->prod > y->prod) - (x->prod < y->prod);
}

/* --event-weights: the one parser of serve_events.c (serve weighs live events with
 * the same table and rules). */
static int parse_event_weights(imp *im, rs_error *e)
{
    int rc = rs_event_weights_parse(im->o->event_weights, &im->ev_weights, e);
    if (rc)
        rs_errctx(e, "--event-weights");
    return rc;
}

static int add_item(imp *im, int64_t rec, int64_t prod, double qty, double w, rs_error *e)
{
    sqlite3_stmt *st = im->st_item_sum;
    sqlite3_bind_int64(st, 1, rec);
    sqlite3_bind_int64(st, 2, prod);
    sqlite3_bind_double(st, 3, qty);
    sqlite3_bind_double(st, 4, w);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return imp_sqlfail(im, e, "adding a receipt line");
    return RS_OK;
}

/* Cuts each visitor's events (sorted by time) into sessions and writes them. */
static int write_sessions(imp *im, rs_error *e)
{
    if (!im->nevrows)
        return RS_OK;
    qsort(im->ev, im->nevrows, sizeof *im->ev, cmp_ev);
    /* visitor index -> external id */
    const char **vname = calloc(im->visitors.len ? im->visitors.len : 1, sizeof *vname);
    uint32_t *vlen = calloc(im->visitors.len ? im->visitors.len : 1, sizeof *vlen);
    int rc = RS_OK;
    if (!vname || !vlen) {
        rc = imp_oom(e);
        goto done;
    }
    for (size_t i = 0; i < im->visitors.cap; i++)
        if (im->visitors.t[i].k) {
            vname[im->visitors.t[i].v] = im->visitors.t[i].k;
            vlen[im->visitors.t[i].v] = im->visitors.t[i].n;
        }
    int64_t gap = im->o->session_gap > 0 ? im->o->session_gap : 1800;
    int64_t rec = 0;
    char ext[128];
    for (size_t i = 0; i < im->nevrows && rc == RS_OK; i++) {
        const evrow *x = &im->ev[i];
        if (i == 0 || x->visitor != im->ev[i - 1].visitor || x->ts - im->ev[i - 1].ts > gap) {
            uint32_t vn = vlen[x->visitor];
            int n = snprintf(ext, sizeof ext, "%.*s@%lld", (int)(vn > 80 ? 80 : vn),
                             vname[x->visitor], (long long)x->ts);
            if ((rc = imp_receipt_id(im, ext, (size_t)n, NULL, 0, 1, x->ts, vname[x->visitor],
                                     vn, &rec, e)))
                break;
        }
        rc = add_item(im, rec, x->prod, 1, x->w, e);
    }
    if (rc == RS_OK)
        rc = imp_flush_feed(im, e);
done:
    free(vname);
    free(vlen);
    return rc;
}

static int run_events(imp *im, const rs_import_preset *p, rs_error *e)
{
    int rc;
    if ((rc = parse_event_weights(im, e)) || (rc = imp_run_files(im, p, e)))
        return rc;
    return write_sessions(im, e);
}

const rs_import_preset rs_preset_events = {
    .name = "events",
    .inputs = "FILE ...",
    .help = "FILE(s) of event logs (timestamp,visitorid,event,itemid,\n"
            "...): a visitor's events within --session-gap form one\n"
            "receipt; event types carry --event-weights (numbers from\n"
            "0.001 to 1000); unknown event types are skipped.\n"
            "RetailRocket's timestamps are milliseconds: --time-unit ms.",
    .kind = "events",
    .aliases = {[RS_COL_RECEIPT] = E_RID, [RS_COL_PRODUCT] = E_PID, [RS_COL_CITY] = IMP_A_CITY,
                [RS_COL_QUANTITY] = IMP_A_QTY, [RS_COL_TIME] = E_TS,
                [RS_COL_CUSTOMER] = IMP_A_CUST, [RS_COL_EVENT] = E_EVENT},
    .required = IMP_ROLE(RS_COL_RECEIPT) | IMP_ROLE(RS_COL_PRODUCT) | IMP_ROLE(RS_COL_EVENT) |
                IMP_ROLE(RS_COL_TIME),
    .flags = RS_PF_EVENTS,
    .run = run_events,
};
