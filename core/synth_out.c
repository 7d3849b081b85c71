/* synth_out.c - writing the synthetic world: the CSV files and truth.json. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "synth_internal.h"
#include "timeutil.h"

/* ---------------------------------------------------------------------------------
 * Output.
 */
static void wb_flush(wbuf *b)
{
    if (b->len && !b->err && fwrite(b->buf, 1, b->len, b->f) != b->len)
        b->err = errno ? errno : EIO;
    b->len = 0;
}

static inline void wb_put(wbuf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        wb_flush(b);
        if (n > b->cap) {
            if (!b->err && fwrite(s, 1, n, b->f) != n)
                b->err = errno ? errno : EIO;
            return;
        }
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

static inline void wb_str(wbuf *b, const char *s) { wb_put(b, s, strlen(s)); }
static inline void wb_chr(wbuf *b, char c) { wb_put(b, &c, 1); }

/* A CSV field, quoted per RFC 4180 when it holds a comma, quote or line break. */
static void wb_csv(wbuf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        wb_str(b, s);
        return;
    }
    wb_chr(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            wb_chr(b, '"');
        wb_chr(b, *s);
    }
    wb_chr(b, '"');
}

static void wb_int(wbuf *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    wb_put(b, tmp, (size_t)n);
}

static int open_out(const char *dir, outfile *o, wbuf *b, rs_error *e)
{
    if ((size_t)snprintf(o->final, sizeof o->final, "%s/%s", dir, o->name) >= sizeof o->final ||
        (size_t)snprintf(o->tmp, sizeof o->tmp, "%s/.%s.tmp", dir, o->name) >= sizeof o->tmp)
        return rs_seterr(e, RS_EUSAGE, "output path too long: %s", dir);
    memset(b, 0, sizeof *b);
    b->cap = 1 << 20;
    b->buf = malloc(b->cap);
    if (!b->buf)
        return OOM();
    b->f = fopen(o->tmp, "wb");
    if (!b->f) {
        free(b->buf);
        b->buf = NULL;
        return rs_seterr(e, RS_EINTERNAL, "%s: %s", o->tmp, strerror(errno));
    }
    o->written = 1;
    return RS_OK;
}

static int close_out(outfile *o, wbuf *b, rs_error *e)
{
    if (!b->f)
        return RS_OK;
    errno = 0;
    wb_flush(b);
    int err = b->err;
    if (fflush(b->f) != 0 && !err)
        err = errno ? errno : EIO;
    if (fclose(b->f) != 0 && !err)
        err = errno ? errno : EIO;
    b->f = NULL;
    free(b->buf);
    b->buf = NULL;
    if (err)
        return rs_seterr(e, RS_EINTERNAL, "%s: write failed: %s", o->tmp, strerror(err));
    return RS_OK;
}

int sy_mkdir_p(const char *dir, rs_error *e)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s", dir) >= sizeof path)
        return rs_seterr(e, RS_EUSAGE, "output path too long: %s", dir);
    for (char *s = path + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return rs_seterr(e, RS_EINTERNAL, "cannot create %s: %s", path, strerror(errno));
        *s = '/';
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return rs_seterr(e, RS_EINTERNAL, "cannot create %s: %s", path, strerror(errno));
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return rs_seterr(e, RS_EUSAGE, "%s is not a directory", path);
    return RS_OK;
}

int sy_write_catalogue(world_t *w, outfile *po, outfile *co, rs_error *e, const char *dir)
{
    wbuf b;
    int rc = open_out(dir, po, &b, e);
    if (rc)
        return rc;
    wb_str(&b, "product_id,name,category,department,brand,price\n");
    for (int i = 0; i < w->nprod; i++) {
        const prod_t *pr = &w->prod[i];
        const cat_t *ct = &w->cat[pr->cat];
        char price[32];
        wb_str(&b, PID(w, i));
        wb_chr(&b, ',');
        wb_csv(&b, pr->name);
        wb_chr(&b, ',');
        wb_csv(&b, ct->name);
        wb_chr(&b, ',');
        wb_csv(&b, w->as.dept[w->dept[ct->dept]].name);
        wb_chr(&b, ',');
        wb_csv(&b, w->as.brands.v[pr->brand]);
        snprintf(price, sizeof price, ",%d.%02d\n", pr->price / 100, pr->price % 100);
        wb_str(&b, price);
    }
    if ((rc = close_out(po, &b, e)))
        return rc;
    if ((rc = open_out(dir, co, &b, e)))
        return rc;
    wb_str(&b, "category,department\n");
    for (int i = 0; i < w->ncat; i++) {
        wb_csv(&b, w->cat[i].name);
        wb_chr(&b, ',');
        wb_csv(&b, w->as.dept[w->dept[w->cat[i].dept]].name);
        wb_chr(&b, '\n');
    }
    return close_out(co, &b, e);
}


static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* Sorted seconds since the start of the period: weekly and daily shopping rhythm. */
static uint32_t *make_times(world_t *w, int64_t n)
{
    static const double dow[7] = {0.9, 0.9, 1.0, 1.0, 1.2, 1.4, 0.7};
    static const double hour[24] = {0,   0,   0,   0,   0,   0,   0,   0.3, 0.6, 0.8, 0.9, 1.0,
                                    1.2, 1.1, 0.9, 0.9, 1.1, 1.4, 1.5, 1.2, 0.8, 0.4, 0,   0};
    int days = w->p->days;
    uint32_t *t = malloc((size_t)(n ? n : 1) * sizeof *t);
    double *dcum = malloc((size_t)days * sizeof *dcum);
    double hcum[24];
    if (!t || !dcum) {
        free(t);
        free(dcum);
        return NULL;
    }
    rng_t r;
    rng_init(&r, w->p->seed, STREAM_TIMES);
    double acc = 0;
    for (int d = 0; d < days; d++)
        dcum[d] = (acc += dow[d % 7]);
    acc = 0;
    for (int h = 0; h < 24; h++)
        hcum[h] = (acc += hour[h]);
    for (int64_t i = 0; i < n; i++) {
        int d = cum_search(dcum, days, rng_unif(&r) * dcum[days - 1]);
        int h = cum_search(hcum, 24, rng_unif(&r) * hcum[23]);
        t[i] = (uint32_t)d * 86400u + (uint32_t)h * 3600u + (uint32_t)rng_below(&r, 3600);
    }
    qsort(t, (size_t)n, sizeof *t, cmp_u32);
    free(dcum);
    return t;
}

static int pad_width(int64_t n, int min)
{
    int wdt = 1;
    for (int64_t v = n; v >= 10; v /= 10)
        wdt++;
    return wdt > min ? wdt : min;
}

/* Draws a member of need nd by the member shares. */
int sy_pick_member(const world_t *w, rng_t *r, const need_t *nd)
{
    if (nd->nm == 1)
        return w->members[nd->m0];
    double u = rng_unif(r);
    for (int m = 0; m < nd->nm; m++)
        if (w->member_cum[nd->m0 + m] > u)
            return w->members[nd->m0 + m];
    return w->members[nd->m0 + nd->nm - 1];
}

int sy_write_receipts(world_t *w, outfile *o, const char *dir, rs_synth_summary *sum,
                      rs_error *e)
{
    const rs_synth_params *p = w->p;
    int64_t R = p->receipts;
    int maxsize = p->max_receipt_size;
    int rc = RS_OK;
    wbuf b = {0};
    uint32_t *times = make_times(w, R);
    char(*dates)[32] = sy_xcalloc((size_t)p->days, sizeof *dates);
    char(*cityf)[256] = sy_xcalloc((size_t)w->ncity, sizeof *cityf);
    int *rneed = sy_xcalloc((size_t)maxsize, sizeof *rneed);
    int *rprod = sy_xcalloc((size_t)maxsize, sizeof *rprod);
    if (!times || !dates || !cityf || !rneed || !rprod) {
        rc = OOM();
        goto done;
    }
    int64_t start = rs_days_from_civil(START_Y, START_M, START_D);
    for (int d = 0; d < p->days; d++) {
        int y;
        unsigned m, dd;
        rs_civil_from_days(start + d, &y, &m, &dd);
        snprintf(dates[d], sizeof dates[d], "%04d-%02u-%02u", y, m, dd);
    }
    for (int c = 0; c < w->ncity; c++) {
        /* city names as CSV fields: quoting at most doubles the length plus two quotes */
        if (strlen(w->city[c]) * 2 + 3 > sizeof cityf[c]) {
            rc = rs_seterr(e, RS_EDATA, "city name too long: %s", w->city[c]);
            goto done;
        }
        wbuf t = {.buf = cityf[c], .cap = sizeof cityf[c]};
        wb_csv(&t, w->city[c]);
        cityf[c][t.len] = '\0';
    }
    if ((rc = open_out(dir, o, &b, e)))
        goto done;
    wb_str(&b, "receipt_id,product_id,city,quantity,timestamp,customer_id\n");
    rng_t r;
    rng_init(&r, p->seed, STREAM_RECEIPTS);
    int rw = pad_width(R, 7);
    double lambda = p->mean_receipt_size - 1.0;
    int64_t lines = 0;
    for (int64_t ri = 0; ri < R && !b.err; ri++) {
        int c = cum_search(w->city_cum, w->ncity, rng_unif(&r) * w->city_cum[w->ncity - 1]);
        int64_t k = sy_draw_customer(w, &r, c);
        int size = 1 + rng_poisson(&r, lambda);
        if (size > maxsize)
            size = maxsize;
        uint32_t t = times[ri];
        int cnt = sy_draw_basket(w, &r, c, &w->cust[k], t, size, rneed, rprod);
        w->cust[k].receipts++;
        /* lines */
        char head[64], tail[160], cid[48];
        int hl = snprintf(head, sizeof head, "R%0*lld,", rw, (long long)(ri + 1));
        uint32_t day = t / 86400u, sec = t % 86400u;
        sy_customer_id(w, k, cid, sizeof cid);
        int tl = snprintf(tail, sizeof tail, ",%s %02u:%02u:%02u,%s\n", dates[day],
                          sec / 3600u, sec / 60u % 60u, sec % 60u, cid);
        for (int i = 0; i < cnt; i++) {
            double u = rng_unif(&r);
            int qty = u < 0.80 ? 1 : u < 0.93 ? 2 : u < 0.97 ? 3 : 4 + (int)rng_below(&r, 3);
            wb_put(&b, head, (size_t)hl);
            wb_put(&b, PID(w, rprod[i]), (size_t)w->pidlen);
            wb_chr(&b, ',');
            wb_str(&b, cityf[c]);
            wb_chr(&b, ',');
            wb_int(&b, qty);
            wb_put(&b, tail, (size_t)tl);
        }
        lines += cnt;
    }
    if (sum)
        sum->receipt_lines = lines;
    rc = close_out(o, &b, e);
done:
    if (b.f)
        close_out(o, &b, NULL);
    free(times);
    free(dates);
    free(cityf);
    free(rneed);
    free(rprod);
    return rc;
}

/* One customer's planted structure: id, city, receipts, tastes, brand, staples. */
static cJSON *truth_customer(const world_t *w, int64_t k)
{
    const cust_t *ck = &w->cust[k];
    char id[48];
    sy_customer_id(w, k, id, sizeof id);
    cJSON *o = cJSON_CreateObject(), *t = NULL, *st = NULL;
    int ok = o && cJSON_AddStringToObject(o, "id", id) &&
             cJSON_AddStringToObject(o, "city", w->city[ck->city]) &&
             cJSON_AddNumberToObject(o, "receipts", (double)ck->receipts) &&
             (t = cJSON_AddArrayToObject(o, "tastes")) &&
             cJSON_AddStringToObject(o, "brand", w->as.brands.v[ck->brand]) &&
             (st = cJSON_AddArrayToObject(o, "staples"));
    for (int i = 0; ok && i < ck->ntaste; i++)
        ok = cJSON_AddItemToArray(t, cJSON_CreateString(w->cat[ck->taste[i]].name));
    for (int i = 0; ok && i < ck->nstaple; i++) {
        cJSON *s = cJSON_CreateObject();
        ok = s && cJSON_AddItemToArray(st, s) &&
             cJSON_AddStringToObject(s, "product", PID(w, ck->staple[i])) &&
             cJSON_AddNumberToObject(s, "every_days", ck->interval[i]);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* truth.json: cJSON keeps insertion order, so the key order is fixed. */
int sy_write_truth(world_t *w, outfile *o, const char *dir, int64_t lines, rs_error *e)
{
    const rs_synth_params *p = w->p;
    int ok = 1, rc = RS_OK;
    char *text = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *x, *y;
    if (!root)
        return OOM();
    const char *nokey = NULL;
    if (p->seed < (1ULL << 53)) {
        ADD(root, "seed", cJSON_CreateNumber((double)p->seed));
    } else {
        char s[32];
        snprintf(s, sizeof s, "%llu", (unsigned long long)p->seed);
        ADD(root, "seed", cJSON_CreateString(s));
    }
    ADD(root, "sizes", x = cJSON_CreateObject());
    if (ok) {
        ADD(x, "cities", cJSON_CreateNumber(w->ncity));
        ADD(x, "departments", cJSON_CreateNumber(w->ndept));
        ADD(x, "categories", cJSON_CreateNumber(w->ncat));
        ADD(x, "products", cJSON_CreateNumber(w->nprod));
        ADD(x, "receipts", cJSON_CreateNumber((double)p->receipts));
        ADD(x, "receipt_lines", cJSON_CreateNumber((double)lines));
    }
    ADD(root, "cities", x = cJSON_CreateArray());
    for (int c = 0; ok && c < w->ncity; c++)
        ADD(x, nokey, cJSON_CreateString(w->city[c]));
    ADD(root, "departments", x = cJSON_CreateArray());
    for (int d = 0; ok && d < w->ndept; d++)
        ADD(x, nokey, cJSON_CreateString(w->as.dept[w->dept[d]].name));
    ADD(root, "substitute_groups", x = cJSON_CreateArray());
    for (int i = 0; ok && i < w->nneed; i++) {
        const need_t *nd = &w->need[i];
        if (nd->nm < 2)
            continue;
        int ids[MAX_GROUP];
        for (int m = 0; m < nd->nm; m++)
            ids[m] = w->members[nd->m0 + m];
        for (int a = 1; a < nd->nm; a++) /* members in id order */
            for (int bb = a; bb > 0 && ids[bb - 1] > ids[bb]; bb--) {
                int t = ids[bb];
                ids[bb] = ids[bb - 1];
                ids[bb - 1] = t;
            }
        ADD(x, nokey, y = cJSON_CreateArray());
        for (int m = 0; ok && m < nd->nm; m++)
            ADD(y, nokey, cJSON_CreateString(PID(w, ids[m])));
    }
    qsort(w->pairs, (size_t)w->npairs, 2 * sizeof *w->pairs, sy_cmp_pair);
    ADD(root, "complementary_categories", x = cJSON_CreateArray());
    for (int i = 0; ok && i < w->npairs; i++) {
        ADD(x, nokey, y = cJSON_CreateArray());
        if (ok) {
            ADD(y, nokey, cJSON_CreateString(w->cat[w->pairs[2 * i]].name));
            ADD(y, nokey, cJSON_CreateString(w->cat[w->pairs[2 * i + 1]].name));
        }
    }
    ADD(root, "city_tastes", x = cJSON_CreateObject());
    for (int c = 0; ok && c < w->ncity; c++) {
        ADD(x, w->city[c], y = cJSON_CreateObject());
        for (int k = 0; ok && k < w->ncat; k++)
            if (w->taste[(size_t)c * w->ncat + k] != 1.0)
                ADD(y, w->cat[k].name, cJSON_CreateNumber(w->taste[(size_t)c * w->ncat + k]));
    }
    ADD(root, "local_products", x = cJSON_CreateObject());
    for (int c = 0; ok && c < w->ncity; c++) {
        ADD(x, w->city[c], y = cJSON_CreateArray());
        for (int i = 0; ok && i < w->nprod; i++)
            if (w->need[w->prod[i].need].local == c)
                ADD(y, nokey, cJSON_CreateString(PID(w, i)));
    }
    ADD(root, "customers", x = cJSON_CreateArray());
    for (int64_t k = 0; ok && k < w->cust0[w->ncity]; k++)
        if (w->cust[k].receipts >= 3)
            ADD(x, nokey, truth_customer(w, k));
    ADD(root, "period", x = cJSON_CreateObject());
    if (ok) {
        int y0;
        unsigned m0, d0;
        char s[32];
        int64_t start = rs_days_from_civil(START_Y, START_M, START_D);
        rs_civil_from_days(start, &y0, &m0, &d0);
        snprintf(s, sizeof s, "%04d-%02u-%02u", y0, m0, d0);
        ADD(x, "start", cJSON_CreateString(s));
        ADD(x, "days", cJSON_CreateNumber(p->days));
    }
#undef ADD
    if (!ok || !(text = cJSON_Print(root))) {
        rc = OOM();
        goto done;
    }
    wbuf b;
    if ((rc = open_out(dir, o, &b, e)))
        goto done;
    wb_str(&b, text);
    wb_chr(&b, '\n');
    rc = close_out(o, &b, e);
done:
    free(text);
    cJSON_Delete(root);
    return rc;
}
