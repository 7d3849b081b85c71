/* preset_instacart.c - the Instacart directory: departments.csv, aisles.csv,
 * products.csv, order_products__*.csv.  Departments become level-0 categories
 * "dept:<name>", aisles level-1 categories keyed by the aisle name, under the
 * department of their products; the order files are canonical receipt files
 * (order_id, product_id) against that catalogue. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_int.h"
#include "timeutil.h"

enum { IC_DEPTS, IC_AISLES, IC_PRODUCTS, IC_NFILES };

/* An id -> name table (departments.csv, aisles.csv). */
typedef struct ictable {
    strmap ids; /* id -> index into name/len */
    const char **name;
    size_t *len, n;
} ictable;

typedef struct icdata {
    imp *im;
    rs_csv_file *f[IC_NFILES];
    char hex[IC_NFILES][65];
    int already[IC_NFILES], rf[IC_NFILES];
    int64_t rows[IC_NFILES];
    ictable t[2];   /* departments, aisles */
    int64_t *adept; /* aisle -> department index (-1: no product names one) */
    int64_t *acat, *dcat; /* aisle, department -> category id */
    rs_csv_reader r;
} icdata;

static const char *const IC_KIND[IC_NFILES] = {"departments", "aisles", "products"};

static void ic_free(icdata *d)
{
    rs_csv_reader_free(&d->r);
    for (int i = 0; i < IC_NFILES; i++)
        rs_csv_file_close(d->f[i]);
    for (int t = 0; t < 2; t++) {
        sm_free(&d->t[t].ids);
        free(d->t[t].name);
        free(d->t[t].len);
    }
    free(d->adept);
    free(d->acat);
    free(d->dcat);
}

/* Opens the three catalogue files and checks the ledger for each. */
static int ic_open(icdata *d, char path[IC_NFILES][4096], rs_error *e)
{
    int rc;
    for (int i = 0; i < IC_NFILES; i++) {
        if ((rc = rs_csv_file_open(path[i], &d->f[i], e)))
            return rc;
        imp_file_hash(d->f[i], d->hex[i]);
        if ((rc = imp_ledger_check(d->im, d->hex[i], &d->already[i], e)))
            return rc;
        if ((d->rf[i] = imp_report_file(d->im, path[i], IC_KIND[i], e)) < 0)
            return RS_EINTERNAL;
        d->im->rep->files[d->rf[i]].already = d->already[i];
    }
    return RS_OK;
}

/* departments.csv or aisles.csv: id -> name (the first name of an id wins). */
static int ic_names(icdata *d, int t, rs_error *e)
{
    static const char *const ID[2][2] = {{"department_id", NULL}, {"aisle_id", NULL}};
    static const char *const NAME[2][2] = {{"department", NULL}, {"aisle", NULL}};
    const rs_csv_file *f = d->f[t];
    ictable *tb = &d->t[t];
    int rc;
    if ((rc = imp_read_header(f, 0, &d->r, e)))
        return rc;
    int ci = imp_find_col(&d->r, NULL, ID[t]), cn = imp_find_col(&d->r, NULL, NAME[t]);
    if (ci < 0 || cn < 0)
        return imp_missing_col(f, &d->r, ci < 0 ? ID[t][0] : NAME[t][0], e);
    size_t nh = d->r.nf;
    for (;;) {
        int got;
        if ((rc = imp_read_row(f, &d->r, nh, &got, e)) || !got)
            break;
        const char *id, *nm;
        size_t idn, nmn;
        if ((rc = imp_id_field(f, &d->r, ci, t ? "aisle id" : "department id", &id, &idn, e)) ||
            (rc = imp_text_field(d->im, &d->r, cn, &nm, &nmn, e)))
            break;
        if (sm_get(&tb->ids, id, idn))
            continue;
        const char **nv = realloc(tb->name, (tb->n + 1) * sizeof *nv);
        if (nv)
            tb->name = nv;
        size_t *lv = nv ? realloc(tb->len, (tb->n + 1) * sizeof *lv) : NULL;
        if (lv)
            tb->len = lv;
        char *copy = strpool_dup(&d->im->ar, nm, nmn);
        if (!nv || !lv || !copy || sm_put(&tb->ids, id, idn, (int64_t)tb->n)) {
            rc = imp_oom(e);
            break;
        }
        tb->name[tb->n] = copy;
        tb->len[tb->n] = nmn;
        tb->n++;
        d->rows[t]++;
    }
    rs_csv_reader_free(&d->r);
    return rc;
}

/* The categories: departments, then aisles, in file order (aisles under the department
 * of their products when known). */
static int ic_categories(icdata *d, int with_parents, rs_error *e)
{
    int rc = RS_OK;
    const ictable *dt = &d->t[0], *at = &d->t[1];
    for (size_t i = 0; i < dt->n && rc == RS_OK; i++)
        rc = imp_department_id(d->im, dt->name[i], dt->len[i], &d->dcat[i], e);
    for (size_t a = 0; a < at->n && rc == RS_OK; a++) {
        int64_t parent = with_parents && d->adept[a] >= 0 ? d->dcat[d->adept[a]] : 0;
        rc = imp_category_id(d->im, at->name[a], at->len[a], at->name[a], at->len[a], parent, 1,
                             &d->acat[a], e);
    }
    return rc;
}

/* One pass over products.csv: pass 0 learns each aisle's department, pass 1 writes the
 * products. */
static int ic_products_pass(icdata *d, int pass, rs_error *e)
{
    static const char *const P_ID[] = {"product_id", NULL}, *const P_NAME[] = {"product_name", NULL},
                             *const P_AISLE[] = {"aisle_id", NULL},
                             *const P_DEPT[] = {"department_id", NULL};
    static const char *const *const P_COLS[4] = {P_ID, P_NAME, P_AISLE, P_DEPT};
    const rs_csv_file *f = d->f[IC_PRODUCTS];
    rs_csv_reader *r = &d->r;
    int cols[4], rc;
    if ((rc = imp_read_header(f, 0, r, e)))
        return rc;
    for (int i = 0; i < 4; i++)
        if ((cols[i] = imp_find_col(r, NULL, P_COLS[i])) < 0)
            return imp_missing_col(f, r, P_COLS[i][0], e);
    if (pass == 1 && (rc = ic_categories(d, 1, e)))
        return rc;
    size_t nh = r->nf;
    for (;;) {
        int got;
        if ((rc = imp_read_row(f, r, nh, &got, e)) || !got)
            break;
        const char *pid, *aid, *did, *name;
        size_t pidn, aidn, didn, namen;
        if ((rc = imp_id_field(f, r, cols[0], "product id", &pid, &pidn, e)) ||
            (rc = imp_id_field(f, r, cols[2], "aisle id", &aid, &aidn, e)) ||
            (rc = imp_id_field(f, r, cols[3], "department id", &did, &didn, e)))
            break;
        int64_t *ai = sm_get(&d->t[1].ids, aid, aidn), *di = sm_get(&d->t[0].ids, did, didn);
        if (!ai || !di) {
            rc = imp_rfail(f, r, r->f[ai ? cols[3] : cols[2]].raw, e, "unknown %s '%.*s'",
                           ai ? "department" : "aisle", (int)(ai ? didn : aidn), ai ? did : aid);
            break;
        }
        if (pass == 0) {
            if (d->adept[*ai] < 0)
                d->adept[*ai] = *di;
            continue;
        }
        int64_t id;
        if ((rc = imp_text_field(d->im, r, cols[1], &name, &namen, e)) ||
            (rc = imp_put_product(d->im, pid, pidn, name, namen, d->acat[*ai], NULL, 0, 0, 0, &id,
                                  e)))
            break;
        d->rows[IC_PRODUCTS]++;
    }
    rs_csv_reader_free(r);
    return rc;
}

/* ---- orders.csv (the Kaggle layout): customers and a time for each order ---------- */

/* Each user's last order is put on this day (Instacart published the data in 2017). */
#define IC_LAST_ORDER_Y 2017
#define IC_LAST_ORDER_M 6
#define IC_LAST_ORDER_D 1

typedef struct icorder {
    int64_t order;   /* index in im->orders */
    int64_t user;    /* index of the user's name */
    int64_t number;  /* order_number */
    int64_t days;    /* days_since_prior_order (0 for the first) */
    int64_t hour;    /* order_hour_of_day */
} icorder;

static int cmp_order(const void *a, const void *b)
{
    const icorder *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    return (x->number > y->number) - (x->number < y->number);
}

/* A whole number from lo to hi in field col (empty allowed when *empty is given). */
static int ic_int(const rs_csv_file *f, rs_csv_reader *r, int col, const char *what, int64_t lo,
                  int64_t hi, int64_t *out, int *empty, rs_error *e)
{
    const char *p = r->f[col].p;
    size_t n = r->f[col].n;
    double v;
    imp_trim(&p, &n);
    if (empty)
        *empty = n == 0;
    if (n == 0 && empty)
        return RS_OK;
    if (imp_parse_num(p, n, &v) || v != (double)(int64_t)v || v < (double)lo || v > (double)hi)
        return imp_rfail(f, r, r->f[col].raw, e, "%s '%.*s' is not a whole number from %lld to %lld",
                         what, (int)(n > 40 ? 40 : n), p, (long long)lo, (long long)hi);
    *out = (int64_t)v;
    return RS_OK;
}

/* Reads the orders into v (*n of them) and im->orders; users named in users. */
static int ic_read_orders(imp *im, const rs_csv_file *f, icorder **v, size_t *n, strmap *users,
                          rs_error *e)
{
    static const char *const COLS[5][2] = {{"order_id", NULL}, {"user_id", NULL},
                                           {"order_number", NULL}, {"days_since_prior_order", NULL},
                                           {"order_hour_of_day", NULL}};
    rs_csv_reader r;
    int col[5], rc;
    size_t cap = 0;
    if ((rc = imp_read_header(f, 0, &r, e)))
        goto done;
    for (int i = 0; i < 5; i++)
        if ((col[i] = imp_find_col(&r, NULL, COLS[i])) < 0) {
            rc = imp_missing_col(f, &r, COLS[i][0], e);
            goto done;
        }
    for (size_t nh = r.nf;;) {
        int got, empty;
        if ((rc = imp_read_row(f, &r, nh, &got, e)) || !got)
            break;
        const char *oid, *uid;
        size_t oidn, uidn;
        icorder o;
        if ((rc = imp_id_field(f, &r, col[0], "order id", &oid, &oidn, e)) ||
            (rc = imp_id_field(f, &r, col[1], "user id", &uid, &uidn, e)) ||
            (rc = ic_int(f, &r, col[2], "order_number", 1, 1000000, &o.number, NULL, e)) ||
            (rc = ic_int(f, &r, col[3], "days_since_prior_order", 0, 3650, &o.days, &empty, e)) ||
            (rc = ic_int(f, &r, col[4], "order_hour_of_day", 0, 23, &o.hour, NULL, e)))
            break;
        if (empty)
            o.days = 0;
        if (sm_get(&im->orders, oid, oidn)) {
            rc = imp_rfail(f, &r, r.f[col[0]].raw, e, "order '%.*s' is listed twice",
                           (int)(oidn > 40 ? 40 : oidn), oid);
            break;
        }
        int64_t *u = sm_get(users, uid, uidn);
        o.user = u ? *u : (int64_t)users->len;
        o.order = (int64_t)im->orders.len;
        if ((!u && sm_put(users, uid, uidn, o.user)) || sm_put(&im->orders, oid, oidn, o.order)) {
            rc = imp_oom(e);
            break;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 4096;
            icorder *nv = realloc(*v, cap * sizeof *nv);
            if (!nv) {
                rc = imp_oom(e);
                break;
            }
            *v = nv;
        }
        (*v)[(*n)++] = o;
    }
done:
    rs_csv_reader_free(&r);
    return rc;
}

/* The orders' times: a user's orders in order_number order, days_since_prior_order
 * apart, the last one on IC_LAST_ORDER, each at its order_hour_of_day (UTC). */
static int ic_order_times(imp *im, icorder *v, size_t n, const strmap *users, rs_error *e)
{
    size_t no = im->orders.len;
    im->order_ts = calloc(no ? no : 1, sizeof *im->order_ts);
    im->order_cust = calloc(no ? no : 1, sizeof *im->order_cust);
    im->order_custn = calloc(no ? no : 1, sizeof *im->order_custn);
    const char **uname = calloc(users->len ? users->len : 1, sizeof *uname);
    uint32_t *ulen = calloc(users->len ? users->len : 1, sizeof *ulen);
    int rc = RS_OK;
    if (!im->order_ts || !im->order_cust || !im->order_custn || !uname || !ulen) {
        rc = imp_oom(e);
        goto done;
    }
    for (size_t i = 0; i < users->cap; i++)
        if (users->t[i].k) {
            char *copy = strpool_dup(&im->ar, users->t[i].k, users->t[i].n);
            if (!copy) {
                rc = imp_oom(e);
                goto done;
            }
            uname[users->t[i].v] = copy;
            ulen[users->t[i].v] = users->t[i].n;
        }
    qsort(v, n, sizeof *v, cmp_order);
    int64_t last = rs_days_from_civil(IC_LAST_ORDER_Y, IC_LAST_ORDER_M, IC_LAST_ORDER_D);
    for (size_t a = 0, b; a < n; a = b) {
        int64_t total = 0; /* days from the user's first order to its last */
        for (b = a; b < n && v[b].user == v[a].user; b++)
            total += b > a ? v[b].days : 0;
        for (size_t i = a, day = 0; i < b; i++) {
            day += i > a ? (size_t)v[i].days : 0;
            im->order_ts[v[i].order] = (last - total + (int64_t)day) * 86400 + v[i].hour * 3600;
            im->order_cust[v[i].order] = uname[v[i].user];
            im->order_custn[v[i].order] = ulen[v[i].user];
        }
    }
done:
    free(uname);
    free(ulen);
    return rc;
}

/* orders.csv when the directory has one (else nothing): the ledger row, the orders. */
static int ic_orders(imp *im, const char *dir, rs_error *e)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/orders.csv", dir) >= sizeof path ||
        !imp_is_file(path) || im->orders.len)
        return RS_OK;
    rs_csv_file *f = NULL;
    icorder *v = NULL;
    size_t n = 0;
    strmap users = {0};
    char hex[65];
    int already = 0, rf;
    int rc = rs_csv_file_open(path, &f, e);
    if (rc)
        return rc;
    imp_file_hash(f, hex);
    if ((rc = imp_ledger_check(im, hex, &already, e)))
        goto done;
    if ((rf = imp_report_file(im, path, "orders", e)) < 0) {
        rc = RS_EINTERNAL;
        goto done;
    }
    im->rep->files[rf].already = already; /* read anyway: the receipts need it */
    if ((rc = ic_read_orders(im, f, &v, &n, &users, e)) ||
        (rc = ic_order_times(im, v, n, &users, e)))
        goto done;
    im->rep->files[rf].rows = (int64_t)n;
    if (!already)
        rc = imp_ledger_add(im, f, hex, "orders", (int64_t)n, 0, e);
done:
    free(v);
    sm_free(&users);
    rs_csv_file_close(f);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files in dir whose names start with prefix and end with ".csv", sorted. */
static int list_dir(const char *dir, const char *prefix, char ***out, int *n, rs_error *e)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return rs_seterr(e, RS_EUSAGE, "%s: cannot open directory: %s", dir, strerror(errno));
    int rc = RS_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 || l < 4 ||
            strcmp(de->d_name + l - 4, ".csv") != 0)
            continue;
        char **nv = realloc(*out, (size_t)(*n + 1) * sizeof *nv);
        if (!nv) {
            rc = imp_oom(e);
            break;
        }
        *out = nv;
        size_t need = strlen(dir) + l + 2;
        if (!((*out)[*n] = malloc(need))) {
            rc = imp_oom(e);
            break;
        }
        snprintf((*out)[*n], need, "%s/%s", dir, de->d_name);
        (*n)++;
    }
    closedir(d);
    if (*n > 1)
        qsort(*out, (size_t)*n, sizeof **out, cmp_str);
    return rc;
}

static void free_list(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The catalogue of one directory: departments, aisles, products. */
static int ic_catalogue(icdata *d, char path[IC_NFILES][4096], rs_error *e)
{
    int rc;
    if ((rc = ic_open(d, path, e)) || (rc = ic_names(d, IC_DEPTS, e)) ||
        (rc = ic_names(d, IC_AISLES, e)))
        return rc;
    size_t na = d->t[1].n, nd = d->t[0].n;
    d->adept = malloc((na + 1) * sizeof *d->adept);
    d->acat = calloc(na + 1, sizeof *d->acat);
    d->dcat = calloc(nd + 1, sizeof *d->dcat);
    if (!d->adept || !d->acat || !d->dcat)
        return imp_oom(e);
    for (size_t i = 0; i < na; i++)
        d->adept[i] = -1;
    if (d->already[IC_PRODUCTS]) /* catalogue present: make sure the categories exist anyway */
        rc = ic_categories(d, 0, e);
    else if ((rc = ic_products_pass(d, 0, e)) == RS_OK)
        rc = ic_products_pass(d, 1, e);
    for (int i = 0; i < IC_NFILES && rc == RS_OK; i++) {
        if (d->already[i])
            continue;
        d->im->rep->files[d->rf[i]].rows = d->rows[i];
        rc = imp_ledger_add(d->im, d->f[i], d->hex[i], IC_KIND[i], d->rows[i], 0, e);
    }
    return rc;
}

static int import_dir(imp *im, const rs_import_preset *p, const char *dir, rs_error *e)
{
    static const char *const NAMES[IC_NFILES] = {"departments.csv", "aisles.csv", "products.csv"};
    char path[IC_NFILES][4096];
    for (int i = 0; i < IC_NFILES; i++) {
        if ((size_t)snprintf(path[i], sizeof path[i], "%s/%s", dir, NAMES[i]) >= sizeof path[i])
            return rs_seterr(e, RS_EUSAGE, "%s/%s: path too long", dir, NAMES[i]);
    }
    for (int i = 0; i < IC_NFILES; i++)
        if (!imp_is_file(path[i]))
            return rs_seterr(e, RS_EUSAGE, "%s: missing (the instacart preset needs "
                                           "departments.csv, aisles.csv, products.csv and "
                                           "order_products__*.csv in the directory)", path[i]);
    icdata d;
    memset(&d, 0, sizeof d);
    d.im = im;
    int rc = ic_catalogue(&d, path, e);
    ic_free(&d);
    if (rc || (rc = ic_orders(im, dir, e)))
        return rc;
    char **files = NULL;
    int nfiles = 0;
    if ((rc = list_dir(dir, "order_products__", &files, &nfiles, e)) == RS_OK) {
        if (nfiles == 0)
            rc = rs_seterr(e, RS_EUSAGE, "%s: no order_products__*.csv files", dir);
        for (int i = 0; i < nfiles && rc == RS_OK; i++)
            rc = imp_receipts_file(im, files[i], p, e);
    }
    free_list(files, nfiles);
    return rc;
}

static int run_instacart(imp *im, const rs_import_preset *p, rs_error *e)
{
    int rc = RS_OK;
    for (int i = 0; i < im->o->ninputs && rc == RS_OK; i++) {
        if (!imp_is_dir(im->o->inputs[i]))
            return rs_seterr(e, RS_EUSAGE, "%s: the instacart preset expects a directory",
                             im->o->inputs[i]);
        rc = import_dir(im, p, im->o->inputs[i], e);
    }
    return rc;
}

const rs_import_preset rs_preset_instacart = {
    .name = "instacart",
    .inputs = "DIR",
    .help = "DIR with products.csv, aisles.csv (categories),\n"
            "departments.csv (their parents) and order_products__*.csv\n"
            "(receipts).  With orders.csv (Kaggle's layout) the customer\n"
            "is user_id and each order gets a time: a user's orders\n"
            "days_since_prior_order apart (30 means 30 or more), the\n"
            "last on 2017-06-01, at order_hour_of_day UTC (order_dow is\n"
            "not used; only the gaps within a user are real).",
    .kind = "receipts",
    .aliases = {IMP_CANONICAL_ALIASES},
    .required = IMP_ROLE(RS_COL_RECEIPT) | IMP_ROLE(RS_COL_PRODUCT),
    .flags = RS_PF_CATALOGUE | RS_PF_ORDERS,
    .run = run_instacart,
};
