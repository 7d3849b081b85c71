/* import_catalog.c - reading headers and rows, and the catalogue files: categories
 * (category -> department) and products (import_int.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_int.h"

/* ---- headers and rows ----------------------------------------------------------- */

int imp_read_header(const rs_csv_file *f, char delim, rs_csv_reader *r, rs_error *e)
{
    if (!delim)
        delim = rs_csv_detect_delim(f->data + f->body, f->size - f->body);
    rs_csv_reader_init(r, f->data, f->body, f->size, delim, 1);
    int rc = rs_csv_read(r);
    if (rc == RS_CSV_END)
        return rs_seterr(e, RS_EDATA, "%s:1:1: empty file (expected a header line)", f->path);
    if (rc == RS_CSV_NOMEM)
        return imp_oom(e);
    if (rc == RS_CSV_ERR)
        return rs_seterr(e, RS_EDATA, "%s:%lld:%lld: %s", f->path, (long long)r->err_line,
                         (long long)r->err_col, r->err_msg);
    return RS_OK;
}

int imp_find_col(const rs_csv_reader *h, const char *user, const char *const *aliases)
{
    if (user)
        return rs_csv_find(h->f, h->nf, user);
    for (; aliases && *aliases; aliases++) {
        int i = rs_csv_find(h->f, h->nf, *aliases);
        if (i >= 0)
            return i;
    }
    return -1;
}

int imp_missing_col(const rs_csv_file *f, const rs_csv_reader *h, const char *name, rs_error *e)
{
    char cols[400];
    size_t k = 0;
    cols[0] = '\0';
    for (size_t i = 0; i < h->nf && k + 4 < sizeof cols; i++) {
        int w = snprintf(cols + k, sizeof cols - k, "%s%.*s", i ? ", " : "",
                         (int)(h->f[i].n > 60 ? 60 : h->f[i].n), h->f[i].p);
        if (w < 0)
            break;
        k += (size_t)w;
    }
    return rs_seterr(e, RS_EDATA, "%s:1:1: missing required column '%s' (the header has: %s)",
                     f->path, name, cols);
}

int imp_rfail(const rs_csv_file *f, rs_csv_reader *r, const char *raw, rs_error *e,
              const char *fmt, ...)
{
    int64_t line, col;
    rs_csv_where(r, raw, &line, &col);
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rs_seterr(e, RS_EDATA, "%s:%lld:%lld: %s", f->path, (long long)line, (long long)col,
                     msg);
}

int imp_read_row(const rs_csv_file *f, rs_csv_reader *r, size_t nhdr, int *got, rs_error *e)
{
    int rc = rs_csv_read(r);
    *got = rc == RS_CSV_ROW;
    if (rc == RS_CSV_NOMEM)
        return imp_oom(e);
    if (rc == RS_CSV_ERR)
        return rs_seterr(e, RS_EDATA, "%s:%lld:%lld: %s", f->path, (long long)r->err_line,
                         (long long)r->err_col, r->err_msg);
    if (rc == RS_CSV_ROW && nhdr && r->nf != nhdr) {
        if (r->nf > nhdr)
            return imp_rfail(f, r, r->f[nhdr].raw, e,
                             "expected %zu fields (as in the header), found %zu", nhdr, r->nf);
        const char *endp = r->p;
        if (endp > r->rec_start && endp[-1] == '\n')
            endp--;
        if (endp > r->rec_start && endp[-1] == '\r')
            endp--;
        return imp_rfail(f, r, endp, e, "expected %zu fields (as in the header), found %zu", nhdr,
                         r->nf);
    }
    return RS_OK;
}

int imp_id_field(const rs_csv_file *f, rs_csv_reader *r, int col, const char *what,
                 const char **p, size_t *n, rs_error *e)
{
    *p = r->f[col].p;
    *n = r->f[col].n;
    imp_trim(p, n);
    if (*n == 0)
        return imp_rfail(f, r, r->f[col].raw, e, "empty %s", what);
    if (!rs_utf8_valid(*p, *n))
        return imp_rfail(f, r, r->f[col].raw, e, "invalid UTF-8 in the %s", what);
    return RS_OK;
}

int imp_text_field(imp *im, rs_csv_reader *r, int col, const char **p, size_t *n, rs_error *e)
{
    if (col < 0 || (size_t)col >= r->nf) {
        *p = "";
        *n = 0;
        return RS_OK;
    }
    *p = r->f[col].p;
    *n = r->f[col].n;
    imp_trim(p, n);
    if (!rs_utf8_valid(*p, *n)) {
        if (!(*p = imp_utf8_fix(&im->ar, *p, *n, n)))
            return imp_oom(e);
        im->rep->name_fixes++;
    }
    return RS_OK;
}

/* ---- categories.csv: category,department ------------------------------------------ */

int imp_categories_file(imp *im, const char *path, rs_error *e)
{
    rs_csv_file *f = NULL;
    rs_csv_reader r;
    char hex[65];
    int rf = -1;
    int skip, rc = imp_open_checked(im, path, "categories", &f, hex, &rf, &skip, e);
    if (rc || skip)
        return rc;
    static const char *const A_CAT[] = {"category", "category_id", "name", NULL};
    static const char *const A_DEPT[] = {"department", "parent", "department_name", NULL};
    const char *const *cc_user = im->o->ccol;
    if ((rc = imp_read_header(f, im->o->delimiter, &r, e)))
        goto done;
    int cc = imp_find_col(&r, cc_user[RS_CCOL_CATEGORY], A_CAT);
    int cd = imp_find_col(&r, cc_user[RS_CCOL_DEPARTMENT], A_DEPT);
    if (cc < 0) {
        rc = imp_missing_col(f, &r, cc_user[RS_CCOL_CATEGORY] ? cc_user[RS_CCOL_CATEGORY]
                                                              : "category", e);
        goto done;
    }
    size_t nh = r.nf;
    for (;;) {
        int got;
        if ((rc = imp_read_row(f, &r, nh, &got, e)) || !got)
            break;
        const char *c, *d = "";
        size_t cn, dn = 0;
        if ((rc = imp_id_field(f, &r, cc, "category", &c, &cn, e)))
            break;
        if (cd >= 0 && (rc = imp_text_field(im, &r, cd, &d, &dn, e)))
            break;
        int64_t id;
        int unc;
        if ((rc = imp_category_under(im, c, cn, d, dn, &id, &unc, e)))
            break;
        RF(rf)->rows++;
    }
    if (rc == RS_OK)
        rc = imp_ledger_add(im, f, hex, "categories", RF(rf)->rows, 0, e);
done:
    rs_csv_reader_free(&r);
    rs_csv_file_close(f);
    return rc;
}

/* ---- products: canonical (product_id,name,category[,department,brand,price]) and the
 * Complete Journey layouts (name built from brand, type and size) ---------------------- */

enum { PC_ID, PC_NAME, PC_CAT, PC_DEPT, PC_BRAND, PC_PRICE, PC_TYPE, PC_SIZE, PC_N };

typedef struct prodfile {
    imp *im;
    const rs_csv_file *f;
    rs_csv_reader r;
    int col[PC_N];
    unsigned flags;
    char *namebuf;
    size_t namecap;
} prodfile;

/* The name "brand type size" of a product without a name column (NA parts left out;
 * "product <id>" when nothing is left). */
static int compose_name(prodfile *pf, const char *id, size_t idn, const char *brand,
                        size_t brandn, const char **name, size_t *namen, rs_error *e)
{
    const char *parts[3];
    size_t lens[3];
    int rc;
    parts[0] = brand;
    lens[0] = brandn;
    if ((rc = imp_text_field(pf->im, &pf->r, pf->col[PC_TYPE], &parts[1], &lens[1], e)) ||
        (rc = imp_text_field(pf->im, &pf->r, pf->col[PC_SIZE], &parts[2], &lens[2], e)))
        return rc;
    size_t need = lens[0] + lens[1] + lens[2] + idn + 16;
    if (need > pf->namecap) {
        char *nb = realloc(pf->namebuf, need);
        if (!nb)
            return imp_oom(e);
        pf->namebuf = nb;
        pf->namecap = need;
    }
    size_t k = 0;
    for (int i = 0; i < 3; i++) {
        if (imp_is_na(parts[i], lens[i]))
            continue;
        if (k)
            pf->namebuf[k++] = ' ';
        memcpy(pf->namebuf + k, parts[i], lens[i]);
        k += lens[i];
    }
    if (k == 0)
        k = (size_t)snprintf(pf->namebuf, pf->namecap, "product %.*s", (int)idn, id);
    *name = pf->namebuf;
    *namen = k;
    return RS_OK;
}

/* An optional price field: *has = 0 when empty or NA. */
static int price_field(prodfile *pf, double *price, int *has, rs_error *e)
{
    *has = 0;
    *price = 0;
    int cp = pf->col[PC_PRICE];
    if (cp < 0)
        return RS_OK;
    const char *pp = pf->r.f[cp].p;
    size_t pn = pf->r.f[cp].n;
    imp_trim(&pp, &pn);
    if (!pn || imp_is_na(pp, pn))
        return RS_OK;
    if (imp_parse_num(pp, pn, price))
        return imp_rfail(pf->f, &pf->r, pf->r.f[cp].raw, e, "non-numeric price '%.*s'",
                         (int)(pn > 40 ? 40 : pn), pp);
    *has = 1;
    return RS_OK;
}

/* One product row. */
static int product_row(prodfile *pf, rs_error *e)
{
    imp *im = pf->im;
    rs_csv_reader *r = &pf->r;
    const int *col = pf->col;
    const char *id, *name, *cat, *dept, *brand;
    size_t idn, namen, catn, deptn, brandn;
    int rc;
    if ((rc = imp_id_field(pf->f, r, col[PC_ID], "product id", &id, &idn, e)) ||
        (rc = imp_text_field(im, r, col[PC_NAME], &name, &namen, e)) ||
        (rc = imp_text_field(im, r, col[PC_CAT], &cat, &catn, e)) ||
        (rc = imp_text_field(im, r, col[PC_DEPT], &dept, &deptn, e)) ||
        (rc = imp_text_field(im, r, col[PC_BRAND], &brand, &brandn, e)))
        return rc;
    if (pf->flags & RS_PF_PRODUCTS_NA) {
        if (imp_is_na(cat, catn) || (catn >= 14 && strncasecmp(cat, "NO COMMODITY", 12) == 0))
            catn = 0;
        if (imp_is_na(dept, deptn))
            deptn = 0;
        if (imp_is_na(brand, brandn))
            brandn = 0;
    }
    if ((pf->flags & RS_PF_PRODUCTS_COMPOSE) && col[PC_NAME] < 0 &&
        (rc = compose_name(pf, id, idn, brand, brandn, &name, &namen, e)))
        return rc;
    double price;
    int has_price;
    if ((rc = price_field(pf, &price, &has_price, e)))
        return rc;
    int64_t cat_id, pid;
    int unc;
    if ((rc = imp_category_under(im, cat, catn, dept, deptn, &cat_id, &unc, e)))
        return rc;
    im->rep->uncategorised += unc;
    return imp_put_product(im, id, idn, name, namen, cat_id, brand, brandn, has_price, price,
                           &pid, e);
}

/* The columns of a products file; RS_OK or a missing column. */
static int product_cols(prodfile *pf, rs_error *e)
{
    static const char *const A_ID[] = {"product_id", "id", NULL};
    static const char *const A_NAME[] = {"name", "product_name", NULL};
    static const char *const A_CAT[] = {"category", "product_category", "commodity_desc", NULL};
    static const char *const A_DEPT[] = {"department", NULL};
    static const char *const A_BRAND[] = {"brand", NULL};
    static const char *const A_PRICE[] = {"price", NULL};
    static const char *const A_TYPE[] = {"product_type", "sub_commodity_desc", NULL};
    static const char *const A_SIZE[] = {"package_size", "curr_size_of_product", NULL};
    const char *const *pc = pf->im->o->pcol;
    const rs_csv_reader *r = &pf->r;
    int compose = (pf->flags & RS_PF_PRODUCTS_COMPOSE) != 0;
    pf->col[PC_ID] = imp_find_col(r, pc[RS_PCOL_PRODUCT], A_ID);
    pf->col[PC_NAME] = imp_find_col(r, pc[RS_PCOL_NAME], A_NAME);
    pf->col[PC_CAT] = imp_find_col(r, pc[RS_PCOL_CATEGORY], A_CAT);
    pf->col[PC_DEPT] = imp_find_col(r, pc[RS_PCOL_DEPARTMENT], A_DEPT);
    pf->col[PC_BRAND] = imp_find_col(r, pc[RS_PCOL_BRAND], A_BRAND);
    pf->col[PC_PRICE] = imp_find_col(r, pc[RS_PCOL_PRICE], A_PRICE);
    pf->col[PC_TYPE] = compose ? imp_find_col(r, NULL, A_TYPE) : -1;
    pf->col[PC_SIZE] = compose ? imp_find_col(r, NULL, A_SIZE) : -1;
    if (pf->col[PC_ID] < 0)
        return imp_missing_col(pf->f, r, pc[RS_PCOL_PRODUCT] ? pc[RS_PCOL_PRODUCT] : "product_id",
                               e);
    if (pf->col[PC_NAME] < 0 && !compose)
        return imp_missing_col(pf->f, r, pc[RS_PCOL_NAME] ? pc[RS_PCOL_NAME] : "name", e);
    if (pf->col[PC_CAT] < 0 && !compose)
        return imp_missing_col(pf->f, r, pc[RS_PCOL_CATEGORY] ? pc[RS_PCOL_CATEGORY] : "category",
                               e);
    return RS_OK;
}

int imp_products_file(imp *im, const char *path, unsigned flags, rs_error *e)
{
    rs_csv_file *f = NULL;
    prodfile pf;
    memset(&pf, 0, sizeof pf);
    char hex[65];
    int rf = -1;
    int skip, rc = imp_open_checked(im, path, "products", &f, hex, &rf, &skip, e);
    if (rc || skip)
        return rc;
    pf.im = im;
    pf.f = f;
    pf.flags = flags;
    if ((rc = imp_read_header(f, im->o->delimiter, &pf.r, e)) || (rc = product_cols(&pf, e)))
        goto done;
    size_t nh = pf.r.nf;
    for (;;) {
        int got;
        if ((rc = imp_read_row(f, &pf.r, nh, &got, e)) || !got)
            break;
        if ((rc = product_row(&pf, e)))
            break;
        RF(rf)->rows++;
    }
    if (rc == RS_OK)
        rc = imp_ledger_add(im, f, hex, "products", RF(rf)->rows, 0, e);
done:
    free(pf.namebuf);
    rs_csv_reader_free(&pf.r);
    rs_csv_file_close(f);
    return rc;
}
