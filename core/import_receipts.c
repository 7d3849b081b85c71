/* import_receipts.c - receipt files: the parallel pipeline (import_int.h).
 *
 * The file is cut into chunks at record boundaries (rs_csv_split), worker threads parse
 * and validate chunks into `rrow`s (resolving product ids against the frozen product
 * map when the layout has a catalogue), and the calling thread writes them to SQLite in
 * file order, assigning receipt ids.  The first error in file order wins, so messages
 * are deterministic whatever the thread count.  What a line means comes from the
 * preset's descriptor: its column aliases and its RS_PF_* flags (the parser never asks
 * which preset it is).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_int.h"
#include "timeutil.h"

#define CHUNK_BYTES ((size_t)4 << 20)
/* Quantities are finite numbers within +-IMP_QTY_MAX (their sums stay exact in a double). */
#define IMP_QTY_MAX 1e9

typedef struct sref {
    const char *p;
    uint32_t n;
} sref;

typedef struct rrow {
    sref rid, pext, pname, city, cust;
    int64_t line, ts;
    double qty, weight, price;
    int64_t prod; /* > 0 resolved; 0: the writer resolves (products created on sight) */
    uint64_t lh;  /* RS_PF_DEDUP_LINES: hash of the line's bytes */
    uint8_t has_ts, has_price;
} rrow;

typedef struct chunk {
    size_t start, end;
    int state; /* 0 waiting, 1 parsing, 2 done */
    rrow *rows;
    size_t nrows, cap;
    strpool ar;
    int64_t nlines;
    const char *stop;
    int err; /* RS_EDATA: eline/ecol/emsg; RS_EINTERNAL: emsg */
    int64_t eline, ecol;
    char emsg[600];
    int64_t rows_read, skipped_unknown, skipped_cancel, skipped_nonpos, skipped_events, name_fixes;
    int64_t orders_unmatched, skipped_nonproducts;
    char unknown_example[64];
} chunk;

typedef struct rjob {
    imp *im;
    rs_csv_file *f;
    const rs_import_preset *pre;
    unsigned flags; /* pre->flags */
    int skip_unknown; /* the option, or the preset's default */
    char delim;
    size_t nhdr;
    int col[RS_COL_ROLES];
    char base[24]; /* basket-lines: receipt id prefix (import_ledger.c) */
    chunk *ch;
    size_t nch, next, consumed, window;
    int abort;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} rjob;

/* ---- parsing (worker threads) ------------------------------------------------------ */

static int cfail(chunk *c, rs_csv_reader *r, const char *raw, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int cfail(chunk *c, rs_csv_reader *r, const char *raw, const char *fmt, ...)
{
    rs_csv_where(r, raw, &c->eline, &c->ecol);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->emsg, sizeof c->emsg, fmt, ap);
    va_end(ap);
    c->err = RS_EDATA;
    return -1;
}

/* Keeps a field's bytes alive past the next record (scratch fields are copied). */
static int keep(chunk *c, const rs_csv_reader *r, const char *p, size_t n, sref *out)
{
    if (r->scratch && p >= r->scratch && p < r->scratch + r->caps) {
        if (!(p = strpool_dup(&c->ar, p, n)))
            return -1;
    }
    out->p = p;
    out->n = (uint32_t)n;
    return 0;
}

static rrow *new_row(chunk *c)
{
    if (c->nrows == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        rrow *nr = realloc(c->rows, cap * sizeof *nr);
        if (!nr)
            return NULL;
        c->rows = nr;
        c->cap = cap;
    }
    rrow *x = &c->rows[c->nrows++];
    memset(x, 0, sizeof *x);
    x->qty = 1;
    x->weight = 1;
    return x;
}

static int chunk_oom(chunk *c)
{
    c->err = RS_EINTERNAL;
    snprintf(c->emsg, sizeof c->emsg, "out of memory");
    return -1;
}

static int w_id(chunk *c, rs_csv_reader *r, int col, const char *what, sref *out)
{
    const char *p = r->f[col].p;
    size_t n = r->f[col].n;
    imp_trim(&p, &n);
    if (n == 0)
        return cfail(c, r, r->f[col].raw, "empty %s", what);
    if (!rs_utf8_valid(p, n))
        return cfail(c, r, r->f[col].raw, "invalid UTF-8 in the %s", what);
    if (keep(c, r, p, n, out))
        return chunk_oom(c);
    return 0;
}

static int w_text(chunk *c, rs_csv_reader *r, int col, sref *out)
{
    out->p = "";
    out->n = 0;
    if (col < 0 || (size_t)col >= r->nf)
        return 0;
    const char *p = r->f[col].p;
    size_t n = r->f[col].n;
    imp_trim(&p, &n);
    if (!rs_utf8_valid(p, n)) {
        if (!(p = imp_utf8_fix(&c->ar, p, n, &n)))
            return chunk_oom(c);
        c->name_fixes++;
        out->p = p;
        out->n = (uint32_t)n;
        return 0;
    }
    if (keep(c, r, p, n, out))
        return chunk_oom(c);
    return 0;
}

/* The record has as many fields as the header. */
static int check_nf(const rjob *j, chunk *c, rs_csv_reader *r)
{
    if (!j->nhdr || r->nf == j->nhdr)
        return 0;
    if (r->nf > j->nhdr)
        return cfail(c, r, r->f[j->nhdr].raw, "expected %zu fields (as in the header), found %zu",
                     j->nhdr, r->nf);
    const char *endp = r->p;
    if (endp > r->rec_start && endp[-1] == '\n')
        endp--;
    if (endp > r->rec_start && endp[-1] == '\r')
        endp--;
    return cfail(c, r, endp, "expected %zu fields (as in the header), found %zu", j->nhdr, r->nf);
}

/* RS_PF_BASKET_LINES: the record is one receipt, each field an item.  Its id
 * "<base>:<line>" needs the line number in the file, which only the writer knows (a
 * chunk counts its lines from 1): rows keep the line, write_chunk makes the id. */
static int parse_basket(chunk *c, rs_csv_reader *r)
{
    size_t last = r->nf;
    while (last && r->f[last - 1].n == 0)
        last--;
    for (size_t i = 0; i < last; i++) {
        const char *p = r->f[i].p;
        size_t n = r->f[i].n;
        imp_trim(&p, &n);
        if (n == 0)
            continue;
        if (!rs_utf8_valid(p, n))
            return cfail(c, r, r->f[i].raw, "invalid UTF-8 in an item name");
        rrow *x = new_row(c);
        if (!x || keep(c, r, p, n, &x->pext))
            return chunk_oom(c);
        x->pname = x->pext;
        x->line = r->rec_line;
    }
    return 0;
}

/* The message for a timestamp that rs_parse_time refused: why, and when the number
 * is a valid time in the other unit, the option that reads it so. */
static int bad_time(const rjob *j, chunk *c, rs_csv_reader *r, const rs_csv_field *fl,
                    const char *p, size_t n, const char *why)
{
    int unit = j->im->o->time_unit == RS_TIME_MILLIS ? RS_TIME_MILLIS : RS_TIME_SECONDS;
    int other = unit == RS_TIME_MILLIS ? RS_TIME_SECONDS : RS_TIME_MILLIS;
    int64_t alt;
    char hint[160] = "", when[32];
    if (rs_time_number(p, n, other, &alt) == 0 && alt >= RS_TIME_MIN && alt < RS_TIME_END) {
        rs_time_format(alt, when, sizeof when);
        snprintf(hint, sizeof hint, "; read as %s it is %s UTC: use --time-unit %s",
                 other == RS_TIME_MILLIS ? "milliseconds" : "seconds", when,
                 other == RS_TIME_MILLIS ? "ms" : "s");
    }
    return cfail(c, r, fl->raw,
                 "invalid timestamp '%.*s': %s (expected unix %s, YYYY-MM-DD[ HH:MM[:SS]] "
                 "or M/D/YYYY H:MM)%s",
                 (int)(n > 40 ? 40 : n), p, why,
                 unit == RS_TIME_MILLIS ? "milliseconds" : "seconds", hint);
}

/* The line's time: the time column, or (Complete Journey) DAY (1-based, day 1 =
 * 1970-01-01) and TRANS_TIME (HHMM).  *has = 0 when the line has none. */
static int parse_when(const rjob *j, chunk *c, rs_csv_reader *r, int64_t *ts, int *has)
{
    const int *col = j->col;
    *ts = 0;
    *has = 0;
    if (col[RS_COL_TIME] >= 0) {
        const rs_csv_field *fl = &r->f[col[RS_COL_TIME]];
        const char *p = fl->p, *why = NULL;
        size_t n = fl->n;
        imp_trim(&p, &n);
        if (n) {
            if (rs_parse_time(p, n, j->im->o->time_unit, ts, &why))
                return bad_time(j, c, r, fl, p, n, why);
            *has = 1;
        } else if (j->flags & RS_PF_EVENTS)
            return cfail(c, r, fl->raw, "empty timestamp");
    } else if (col[RS_COL_DAY] >= 0) {
        double day, hm = 0;
        const rs_csv_field *fd = &r->f[col[RS_COL_DAY]];
        if (imp_parse_num(fd->p, fd->n, &day) || day < 0 || day > 83000 || day != (int64_t)day)
            return cfail(c, r, fd->raw, "DAY is not a day number (a whole number of days "
                                        "from 0 to 83000, day 1 = 1970-01-01)");
        if (col[RS_COL_DAYTIME] >= 0) {
            const rs_csv_field *ft = &r->f[col[RS_COL_DAYTIME]];
            if (imp_parse_num(ft->p, ft->n, &hm) || hm < 0 || hm > 2400 ||
                hm != (int64_t)hm || (int64_t)hm % 100 > 59)
                return cfail(c, r, ft->raw, "TRANS_TIME is not a time (HHMM, 0000 to 2400)");
        }
        int64_t h = (int64_t)hm;
        *ts = ((int64_t)day - 1) * 86400 + (h / 100) * 3600 + (h % 100) * 60;
        *has = 1;
    }
    return 0;
}

/* Whether the product id is one of the preset's non-product codes. */
static int non_product(const char *const *list, const char *p, size_t n)
{
    for (; *list; list++) {
        size_t k = strlen(*list);
        if ((*list)[k - 1] == '*' ? n >= k - 1 && strncasecmp(p, *list, k - 1) == 0
                                  : n == k && strncasecmp(p, *list, n) == 0)
            return 1;
    }
    return 0;
}

/* The record's bytes without its line end, hashed (never 0). */
static uint64_t line_hash(const rs_csv_reader *r)
{
    const char *a = r->rec_start, *b = r->p;
    while (b > a && (b[-1] == '\n' || b[-1] == '\r'))
        b--;
    uint64_t h = rs_fnv1a64(RS_FNV64_INIT, a, (size_t)(b - a));
    return h ? h : 1;
}

/* Parses one record into rows.  Returns 0 (row(s) added or skipped) or -1 (c->err). */
static int parse_record(rjob *j, chunk *c, rs_csv_reader *r)
{
    const imp *im = j->im;
    const int *col = j->col;
    const unsigned fl = j->flags;
    if (check_nf(j, c, r))
        return -1;
    if (fl & RS_PF_BASKET_LINES)
        return parse_basket(c, r);
    sref rid, pext;
    if (fl & RS_PF_SKIP_CANCELLED) {
        const char *p = r->f[col[RS_COL_RECEIPT]].p;
        size_t n = r->f[col[RS_COL_RECEIPT]].n;
        imp_trim(&p, &n);
        if (n && (p[0] == 'C' || p[0] == 'c')) {
            c->skipped_cancel++;
            return 0;
        }
    }
    int ev = (fl & RS_PF_EVENTS) != 0;
    if (w_id(c, r, col[RS_COL_RECEIPT], ev ? "visitor id" : "receipt id", &rid) ||
        w_id(c, r, col[RS_COL_PRODUCT], ev ? "item id" : "product id", &pext))
        return -1;
    if (j->pre->non_products && non_product(j->pre->non_products, pext.p, pext.n)) {
        c->skipped_nonproducts++;
        return 0;
    }
    double qty = 1, weight = 1;
    if (col[RS_COL_QUANTITY] >= 0) {
        const char *p = r->f[col[RS_COL_QUANTITY]].p;
        size_t n = r->f[col[RS_COL_QUANTITY]].n;
        imp_trim(&p, &n);
        if (n && imp_parse_num(p, n, &qty))
            return cfail(c, r, r->f[col[RS_COL_QUANTITY]].raw, "non-numeric quantity '%.*s'",
                         (int)(n > 40 ? 40 : n), p);
        if (!(qty >= -IMP_QTY_MAX && qty <= IMP_QTY_MAX))
            return cfail(c, r, r->f[col[RS_COL_QUANTITY]].raw,
                         "quantity '%.*s' out of range (-%g to %g)", (int)(n > 40 ? 40 : n), p,
                         IMP_QTY_MAX, IMP_QTY_MAX);
        if ((fl & RS_PF_SKIP_NONPOSITIVE) && qty <= 0) {
            c->skipped_nonpos++;
            return 0;
        }
    }
    if (ev) {
        const char *p = r->f[col[RS_COL_EVENT]].p;
        size_t n = r->f[col[RS_COL_EVENT]].n;
        imp_trim(&p, &n);
        int known;
        weight = imp_event_weight(im, p, n, &known);
        if (!known) {
            c->skipped_events++;
            return 0;
        }
    }
    int64_t ts;
    int has_ts;
    if (parse_when(j, c, r, &ts, &has_ts))
        return -1;
    int64_t prod = 0;
    if (fl & RS_PF_CATALOGUE) {
        int64_t *v = sm_get(&im->prods, pext.p, pext.n);
        if (!v) {
            if (j->skip_unknown) {
                if (c->skipped_unknown++ == 0)
                    snprintf(c->unknown_example, sizeof c->unknown_example, "%.*s",
                             (int)(pext.n > 60 ? 60 : pext.n), pext.p);
                return 0;
            }
            return cfail(c, r, r->f[col[RS_COL_PRODUCT]].raw,
                         "unknown product '%.*s' (not in the catalogue: import its products "
                         "first, or use --unknown-products skip)",
                         (int)(pext.n > 60 ? 60 : pext.n), pext.p);
        }
        prod = *v;
    }
    rrow *x = new_row(c);
    if (!x)
        return chunk_oom(c);
    x->rid = rid;
    x->pext = pext;
    x->prod = prod;
    x->qty = qty;
    x->weight = weight;
    x->ts = ts;
    x->has_ts = (uint8_t)has_ts;
    x->line = r->rec_line;
    if (w_text(c, r, col[RS_COL_CITY], &x->city) || w_text(c, r, col[RS_COL_CUSTOMER], &x->cust) ||
        w_text(c, r, col[RS_COL_NAME], &x->pname))
        return -1;
    if ((fl & RS_PF_CUSTOMER_INT) && x->cust.n > 2 && x->cust.p[x->cust.n - 2] == '.' &&
        x->cust.p[x->cust.n - 1] == '0') {
        size_t k = 0;
        while (k < x->cust.n - 2 && x->cust.p[k] >= '0' && x->cust.p[k] <= '9')
            k++;
        if (k == x->cust.n - 2) /* "17850.0": a float export of the id 17850 */
            x->cust.n -= 2;
    }
    if (fl & RS_PF_DEDUP_LINES)
        x->lh = line_hash(r);
    if ((fl & RS_PF_ORDERS) && im->orders.len) { /* the order's customer and time */
        int64_t *oi = sm_get(&im->orders, rid.p, rid.n);
        if (oi) {
            x->cust = (sref){im->order_cust[*oi], im->order_custn[*oi]};
            x->ts = im->order_ts[*oi];
            x->has_ts = 1;
        } else
            c->orders_unmatched++;
    }
    if (col[RS_COL_PRICE] >= 0) {
        const char *p = r->f[col[RS_COL_PRICE]].p;
        size_t n = r->f[col[RS_COL_PRICE]].n;
        imp_trim(&p, &n);
        if (n && imp_parse_num(p, n, &x->price) == 0)
            x->has_price = 1;
    }
    return 0;
}

static void parse_chunk(rjob *j, chunk *c)
{
    rs_csv_reader r;
    rs_csv_reader_init(&r, j->f->data, c->start, c->end, j->delim, 1);
    for (;;) {
        int rc = rs_csv_read(&r);
        if (rc == RS_CSV_END)
            break;
        if (rc == RS_CSV_NOMEM) {
            chunk_oom(c);
            break;
        }
        if (rc == RS_CSV_ERR) {
            c->err = RS_EDATA;
            c->eline = r.err_line;
            c->ecol = r.err_col;
            snprintf(c->emsg, sizeof c->emsg, "%s", r.err_msg);
            break;
        }
        c->rows_read++;
        if (parse_record(j, c, &r))
            break;
        if (__atomic_load_n(&j->abort, __ATOMIC_RELAXED))
            break;
    }
    c->nlines = r.line - 1;
    c->stop = r.p;
    rs_csv_reader_free(&r);
}

static void *worker(void *arg)
{
    rjob *j = arg;
    pthread_mutex_lock(&j->mu);
    for (;;) {
        while (!j->abort && j->next < j->nch && j->next >= j->consumed + j->window)
            pthread_cond_wait(&j->cv, &j->mu);
        if (j->abort || j->next >= j->nch)
            break;
        chunk *c = &j->ch[j->next++];
        c->state = 1;
        pthread_mutex_unlock(&j->mu);
        parse_chunk(j, c);
        pthread_mutex_lock(&j->mu);
        c->state = 2;
        pthread_cond_broadcast(&j->cv);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

/* ---- writing (the calling thread) ------------------------------------------------- */

/* Names a product created on sight without a name, from a later line that has one. */
static int name_later(imp *im, int64_t id, const sref *name, rs_error *e)
{
    im->unnamed[id] = 0;
    if (!im->st_prod_name &&
        sqlite3_prepare_v3(im->db, "UPDATE products SET name = ?2 WHERE id = ?1", -1,
                           SQLITE_PREPARE_PERSISTENT, &im->st_prod_name, NULL) != SQLITE_OK)
        return imp_sqlfail(im, e, "naming a product");
    sqlite3_bind_int64(im->st_prod_name, 1, id);
    sqlite3_bind_text(im->st_prod_name, 2, name->p, (int)name->n, SQLITE_STATIC);
    return imp_step_done(im, im->st_prod_name, e, "naming a product");
}

/* Remembers that product id was created without a name (out of memory: it keeps it). */
static void mark_unnamed(imp *im, int64_t id)
{
    if ((size_t)id >= im->unnamed_n) {
        size_t nn = (size_t)id * 2 + 1024;
        unsigned char *p = realloc(im->unnamed, nn);
        if (!p)
            return;
        memset(p + im->unnamed_n, 0, nn - im->unnamed_n);
        im->unnamed = p;
        im->unnamed_n = nn;
    }
    im->unnamed[id] = 1;
}

static int auto_product(imp *im, unsigned flags, const rrow *x, int64_t *out, rs_error *e)
{
    int64_t *v = sm_get(&im->prods, x->pext.p, x->pext.n);
    if (v) {
        *out = *v;
        if (x->pname.n && (size_t)*v < im->unnamed_n && im->unnamed[*v])
            return name_later(im, *v, &x->pname, e);
        return RS_OK;
    }
    int64_t cat;
    int unc = 0, rc;
    if (flags & RS_PF_ITEM_CATEGORY)
        rc = imp_category_under(im, x->pname.p, x->pname.n, NULL, 0, &cat, &unc, e);
    else
        rc = imp_category_under(im, NULL, 0, NULL, 0, &cat, &unc, e);
    if (rc)
        return rc;
    im->rep->uncategorised += unc;
    const char *name = x->pname.p;
    size_t namen = x->pname.n;
    char buf[96];
    if ((flags & RS_PF_EVENTS) && namen == 0) {
        namen = (size_t)snprintf(buf, sizeof buf, "item %.*s", (int)(x->pext.n > 60 ? 60 : x->pext.n),
                                 x->pext.p);
        name = buf;
    }
    int rc2 = imp_put_product(im, x->pext.p, x->pext.n, name, namen, cat, NULL, 0, x->has_price,
                              x->price, out, e);
    if (rc2 == RS_OK && namen == 0)
        mark_unnamed(im, *out);
    return rc2;
}

/* The previous line's receipt, so that a run of lines of one receipt is looked up once. */
typedef struct prevrec {
    char *p;
    size_t cap, n;
    int64_t rec;
} prevrec;

/* Writes one parsed chunk (in file order); line_base is the file line of its first. */
static int write_chunk(rjob *j, chunk *c, int64_t line_base, prevrec *pr, rs_error *e)
{
    imp *im = j->im;
    const unsigned fl = j->flags;
    int rc = RS_OK;
    char idbuf[64];
    for (size_t i = 0; i < c->nrows; i++) {
        rrow *x = &c->rows[i];
        int64_t prod = x->prod, rec;
        if (fl & RS_PF_BASKET_LINES) { /* the receipt id of the line, once per line */
            if (i == 0 || x->line != c->rows[i - 1].line)
                x->rid.n = (uint32_t)snprintf(idbuf, sizeof idbuf, "%s:%lld", j->base,
                                              (long long)(line_base + x->line - 1));
            else
                x->rid.n = c->rows[i - 1].rid.n;
            x->rid.p = idbuf;
        }
        if (!prod && !(fl & RS_PF_CATALOGUE) && (rc = auto_product(im, fl, x, &prod, e)))
            return rc;
        if (fl & RS_PF_EVENTS) {
            if ((rc = imp_push_event(im, x->rid.p, x->rid.n, prod, x->ts, x->weight, e)))
                return rc;
            im->rep->lines_read++;
            continue;
        }
        if (pr->rec && x->rid.n == pr->n && memcmp(x->rid.p, pr->p, pr->n) == 0)
            rec = pr->rec;
        else {
            if ((rc = imp_receipt_id(im, x->rid.p, x->rid.n, x->city.p, x->city.n, x->has_ts,
                                     x->ts, x->cust.p, x->cust.n, &rec, e)))
                return rc;
            if (x->rid.n > pr->cap) {
                size_t cap = x->rid.n * 2 + 16;
                char *np = realloc(pr->p, cap);
                if (!np)
                    return imp_oom(e);
                pr->p = np;
                pr->cap = cap;
            }
            memcpy(pr->p, x->rid.p, x->rid.n);
            pr->n = x->rid.n;
            pr->rec = rec;
        }
        if ((rc = imp_queue_item(im, rec, prod, x->qty, x->weight, x->lh, e)))
            return rc;
        im->rep->lines_read++;
    }
    imp_sort_items(im);
    /* the rows' strings live in the chunk: write before it is freed */
    rc = imp_flush_feed(im, e);
    pr->rec = 0; /* the customer pointers of queued receipts pointed into the chunk */
    return rc;
}

/* ---- one file ----------------------------------------------------------------------- */

typedef struct hashjob {
    const rs_csv_file *f;
    char hex[65];
} hashjob;

static void *hasher(void *arg)
{
    hashjob *h = arg;
    imp_file_hash(h->f, h->hex);
    return NULL;
}

/* Resolves the receipt file's columns from the preset's aliases and the user's names.
 * Returns RS_OK or a missing column. */
static int resolve_cols(rjob *j, const rs_csv_reader *h, rs_error *e)
{
    const char *const *u = j->im->o->rcol;
    const rs_import_preset *p = j->pre;
    int *col = j->col;
    for (int i = 0; i < RS_COL_ROLES; i++)
        col[i] = imp_find_col(h, i < RS_RCOLS ? u[i] : NULL, p->aliases[i]);
    if (col[RS_COL_TIME] >= 0) /* a day number only stands in for a missing time */
        col[RS_COL_DAY] = col[RS_COL_DAYTIME] = -1;
    /* a column the user named explicitly must exist */
    for (int i = 0; i < RS_RCOLS; i++)
        if (u[i] && col[i] < 0)
            return imp_missing_col(j->f, h, u[i], e);
    int any = 0;
    for (int i = 0; i < RS_COL_ROLES; i++)
        any |= col[i] >= 0;
    for (int i = 0; i < RS_COL_ROLES; i++)
        if ((p->required & (1u << i)) && col[i] < 0) {
            int rc = imp_missing_col(j->f, h, p->aliases[i] ? p->aliases[i][0] : "?", e);
            size_t len = e ? strlen(e->msg) : 0;
            if (e && !any) /* no column name known at all: maybe not this layout */
                snprintf(e->msg + len, sizeof e->msg - len,
                         "; if each line is one basket of items, use --preset basket-lines; "
                         "else name the columns with --receipt-col and --product-col (or "
                         "--mapping)");
            return rc;
        }
    return RS_OK;
}

/* The state of one receipt file's import (its resources are freed by rfile_close). */
typedef struct rfile {
    rjob j;
    pthread_t *th, hth;
    int nth, hash_started, mu_init, rf;
    hashjob hj;
    size_t *cut, start;
    int64_t first_line;
    rs_csv_reader h;
    imp_prior prior;
} rfile;

/* Opens the file and checks the ledger (imp_ledger_prior); *skip = 1 when it is already
 * imported.  Unless the ledger needed it, the hash is computed on its own thread while
 * the file is parsed. */
static int rfile_open(rfile *x, imp *im, const char *path, const rs_import_preset *p, int *skip,
                      rs_error *e)
{
    int rc;
    *skip = 0;
    x->rf = -1;
    x->j.im = im;
    x->j.pre = p;
    x->j.flags = p->flags;
    x->j.skip_unknown = im->o->skip_unknown >= 0 ? im->o->skip_unknown > 0
                                                 : (p->flags & RS_PF_UNKNOWN_SKIP) != 0;
    if ((rc = rs_csv_file_open(path, &x->j.f, e)) || (rc = imp_load_receipts(im, e)))
        return rc;
    if ((x->rf = imp_report_file(im, path, p->kind, e)) < 0)
        return RS_EINTERNAL;
    int ids_from_hash = (p->flags & RS_PF_BASKET_LINES) != 0;
    if ((rc = imp_ledger_prior(im, x->j.f, p->kind, ids_from_hash, &x->prior, e)))
        return rc;
    x->hj.f = x->j.f;
    if (x->prior.already) {
        RF(x->rf)->already = 1;
        *skip = 1;
        return RS_OK;
    }
    if (x->prior.grows) {
        RF(x->rf)->from_line = x->prior.resume_line;
        if (!(RF(x->rf)->grows = strdup(x->prior.grown)))
            return imp_oom(e);
    }
    snprintf(RF(x->rf)->changed_at, sizeof RF(x->rf)->changed_at, "%s", x->prior.changed_at);
    if (ids_from_hash) /* basket-lines ids: <16 hex digits of the first version>:<line> */
        snprintf(x->j.base, sizeof x->j.base, "%.16s",
                 x->prior.grows ? x->prior.origin : x->prior.hex);
    if (x->prior.hashed) {
        memcpy(x->hj.hex, x->prior.hex, sizeof x->hj.hex);
        return RS_OK;
    }
    if (pthread_create(&x->hth, NULL, hasher, &x->hj) != 0)
        return rs_seterr(e, RS_EINTERNAL, "cannot start a thread");
    x->hash_started = 1;
    return RS_OK;
}

/* The delimiter, the header and the columns; x->start = the first data byte. */
static int rfile_layout(rfile *x, rs_error *e)
{
    rjob *j = &x->j;
    const rs_csv_file *f = j->f;
    int rc;
    j->delim = j->im->o->delimiter ? j->im->o->delimiter
                                   : rs_csv_detect_delim(f->data + f->body, f->size - f->body);
    x->start = f->body;
    x->first_line = 1;
    if (j->flags & RS_PF_NO_HEADER) {
        for (int i = 0; i < RS_COL_ROLES; i++)
            j->col[i] = -1;
        if ((j->flags & RS_PF_BASKET_LINES) && !x->prior.grows &&
            (rc = imp_basket_header(j->im, f, j->delim, &x->start, &x->first_line,
                                    &j->im->rep->files[x->rf].header_skipped)))
            return rc;
    } else {
        if ((rc = imp_read_header(f, j->delim, &x->h, e)) || (rc = resolve_cols(j, &x->h, e)))
            return rc;
        j->nhdr = x->h.nf;
        x->start = (size_t)(x->h.p - f->data);
        x->first_line = x->h.line;
    }
    if (x->prior.grows && x->prior.resume > x->start) { /* only the lines appended */
        x->start = x->prior.resume;
        x->first_line = x->prior.resume_line;
    }
    return RS_OK;
}

/* Cuts the body into chunks and starts the parser threads. */
static int rfile_start(rfile *x, rs_error *e)
{
    rjob *j = &x->j;
    imp *im = j->im;
    size_t body = j->f->size - x->start;
    size_t want = body / (im->o->chunk_bytes ? im->o->chunk_bytes : CHUNK_BYTES) + 1;
    if (want > 65536)
        want = 65536;
    if (!(x->cut = malloc((want + 1) * sizeof *x->cut)))
        return imp_oom(e);
    j->nch = rs_csv_file_split(j->f, x->start, want, x->cut);
    if (!(j->ch = calloc(j->nch, sizeof *j->ch)))
        return imp_oom(e);
    for (size_t i = 0; i < j->nch; i++) {
        j->ch[i].start = x->cut[i];
        j->ch[i].end = x->cut[i + 1];
    }
    int nth = im->nthreads;
    if ((size_t)nth > j->nch)
        nth = (int)j->nch;
    j->window = (size_t)nth * 2 + 1;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    x->mu_init = 1;
    if (!(x->th = calloc((size_t)nth, sizeof *x->th)))
        return imp_oom(e);
    for (int i = 0; i < nth; i++) {
        if (pthread_create(&x->th[i], NULL, worker, j) != 0)
            return rs_seterr(e, RS_EINTERNAL, "cannot start a parser thread");
        x->nth = i + 1;
    }
    return RS_OK;
}

/* Adds a written chunk's counts to the file's and the run's report. */
static void count_chunk(imp *im, rs_import_file *rf, const chunk *c)
{
    rf->rows += c->rows_read;
    rf->skipped += c->skipped_unknown + c->skipped_cancel + c->skipped_nonpos + c->skipped_events +
                   c->skipped_nonproducts;
    im->rep->skipped_nonproducts += c->skipped_nonproducts;
    if (c->skipped_unknown && !im->rep->unknown_example[0])
        memcpy(im->rep->unknown_example, c->unknown_example, sizeof c->unknown_example);
    im->rep->skipped_unknown += c->skipped_unknown;
    im->rep->skipped_cancelled += c->skipped_cancel;
    im->rep->skipped_nonpositive += c->skipped_nonpos;
    im->rep->skipped_events += c->skipped_events;
    im->rep->name_fixes += c->name_fixes;
    im->rep->orders_unmatched += c->orders_unmatched;
}

/* Waits for each chunk in file order and writes it. */
static int rfile_write(rfile *x, const char *path, rs_error *e)
{
    rjob *j = &x->j;
    imp *im = j->im;
    const rs_csv_file *f = j->f;
    prevrec pr = {NULL, 0, 0, 0};
    int rc = RS_OK;
    int64_t line_base = x->first_line; /* file line of the current chunk's first line */
    for (size_t k = 0; k < j->nch && rc == RS_OK; k++) {
        chunk *c = &j->ch[k];
        pthread_mutex_lock(&j->mu);
        while (c->state != 2)
            pthread_cond_wait(&j->cv, &j->mu);
        pthread_mutex_unlock(&j->mu);
        if (c->err == RS_EDATA)
            rc = rs_seterr(e, RS_EDATA, "%s:%lld:%lld: %s", path,
                           (long long)(line_base + c->eline - 1), (long long)c->ecol, c->emsg);
        else if (c->err)
            rc = rs_seterr(e, c->err, "%s: %s", path, c->emsg);
        else if (c->stop != f->data + c->end)
            rc = rs_seterr(e, RS_EINTERNAL,
                           "%s:%lld: cannot cut the file into chunks for parallel parsing "
                           "(rerun with --threads 1)",
                           path, (long long)(line_base + c->nlines));
        else
            rc = write_chunk(j, c, line_base, &pr, e);
        if (rc == RS_OK)
            count_chunk(im, RF(x->rf), c);
        line_base += c->nlines;
        free(c->rows);
        c->rows = NULL;
        strpool_free(&c->ar);
        /* written: its part of the file need not stay resident (bounded RSS) */
        rs_csv_file_release(f, c->start, c->end);
        pthread_mutex_lock(&j->mu);
        j->consumed = k + 1;
        if (rc)
            __atomic_store_n(&j->abort, 1, __ATOMIC_RELAXED);
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
        imp_progress(im, path, c->end, f->size);
    }
    free(pr.p);
    return rc;
}

static void rfile_close(rfile *x)
{
    rjob *j = &x->j;
    if (x->mu_init) {
        pthread_mutex_lock(&j->mu);
        __atomic_store_n(&j->abort, 1, __ATOMIC_RELAXED);
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
    }
    for (int i = 0; i < x->nth; i++)
        pthread_join(x->th[i], NULL);
    if (x->hash_started)
        pthread_join(x->hth, NULL);
    if (x->mu_init) {
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cv);
    }
    for (size_t k = 0; j->ch && k < j->nch; k++) {
        free(j->ch[k].rows);
        strpool_free(&j->ch[k].ar);
    }
    free(j->ch);
    free(x->th);
    free(x->cut);
    rs_csv_reader_free(&x->h);
    rs_csv_file_close(j->f);
}

int imp_receipts_file(imp *im, const char *path, const rs_import_preset *p, rs_error *e)
{
    rfile x;
    memset(&x, 0, sizeof x);
    int skip = 0;
    int rc = rfile_open(&x, im, path, p, &skip, e);
    if (rc == RS_OK && !skip && (rc = rfile_layout(&x, e)) == RS_OK &&
        (rc = rfile_start(&x, e)) == RS_OK)
        rc = rfile_write(&x, path, e);
    if (rc == RS_OK && !skip) {
        if (x.hash_started) {
            pthread_join(x.hth, NULL);
            x.hash_started = 0;
        }
        rc = imp_ledger_add(im, x.j.f, x.hj.hex, p->kind, RF(x.rf)->rows, RF(x.rf)->skipped, e);
    }
    rfile_close(&x);
    return rc;
}
