/* preset_completejourney.c - Dunnhumby "The Complete Journey": the original layout
 * (product.csv + transaction_data.csv, upper-case headers, DAY/TRANS_TIME relative to
 * day 1 = 1970-01-01) or the R package's export (products.csv + transactions.csv with
 * transaction_timestamp).  Category = COMMODITY_DESC / product_category under
 * DEPARTMENT; name = brand, type and size; NA and "NO COMMODITY ..." mean none. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_int.h"

static const char *const CJ_DAY[] = {"DAY", NULL};
static const char *const CJ_TTIME[] = {"TRANS_TIME", NULL};

/* Classifies a Complete Journey file by its header: 1 = products, 0 = transactions. */
static int cj_kind(const char *path, int *is_products, rs_error *e)
{
    rs_csv_file *f = NULL;
    rs_csv_reader r;
    int rc = rs_csv_file_open(path, &f, e);
    if (rc)
        return rc;
    if ((rc = imp_read_header(f, 0, &r, e)) == RS_OK) {
        int basket = rs_csv_find(r.f, r.nf, "basket_id") >= 0;
        int dept = rs_csv_find(r.f, r.nf, "department") >= 0;
        if (!basket && !dept)
            rc = rs_seterr(e, RS_EUSAGE,
                           "%s: neither a Complete Journey transactions file (BASKET_ID) nor a "
                           "products file (DEPARTMENT)", path);
        *is_products = !basket;
    }
    rs_csv_reader_free(&r);
    rs_csv_file_close(f);
    return rc;
}

/* The input files, in argument order: products first, then transactions.  Paths joined
 * from directories are owned here; file arguments are borrowed. */
typedef struct cjfiles {
    const char **prods, **trans;
    char **owned;
    int np, nt;
    size_t nowned;
} cjfiles;

/* A directory must hold one products and one transactions file of either layout. */
static int cj_dir(cjfiles *cf, const char *in, rs_error *e)
{
    static const char *const PNAMES[] = {"product.csv", "products.csv", NULL};
    static const char *const TNAMES[] = {"transaction_data.csv", "transactions.csv",
                                         "transactions_sample.csv", NULL};
    int found = 0;
    for (int t = 0; t < 2; t++)
        for (const char *const *nm = t ? TNAMES : PNAMES; *nm; nm++) {
            size_t need = strlen(in) + strlen(*nm) + 2;
            char *path = malloc(need);
            if (!path)
                return imp_oom(e);
            snprintf(path, need, "%s/%s", in, *nm);
            if (!imp_is_file(path)) {
                free(path);
                continue;
            }
            cf->owned[cf->nowned++] = path;
            found |= 1 << t;
            if (t)
                cf->trans[cf->nt++] = path;
            else
                cf->prods[cf->np++] = path;
        }
    if (found != 3)
        return rs_seterr(e, RS_EUSAGE,
                         "%s: expected product.csv and transaction_data.csv (original "
                         "layout) or products.csv and transactions.csv (R export)", in);
    return RS_OK;
}

static int run_completejourney(imp *im, const rs_import_preset *p, rs_error *e)
{
    static const size_t PER = 5; /* names a directory may hold */
    int n = im->o->ninputs, rc = RS_OK;
    size_t cap = (size_t)(n > 0 ? n : 1) * PER;
    cjfiles cf = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(char *)),
                  calloc(cap, sizeof(char *)), 0, 0, 0};
    if (!cf.prods || !cf.trans || !cf.owned) {
        rc = imp_oom(e);
        goto done;
    }
    for (int i = 0; i < n && rc == RS_OK; i++) {
        const char *in = im->o->inputs[i];
        int isp;
        if (imp_is_dir(in))
            rc = cj_dir(&cf, in, e);
        else if ((rc = cj_kind(in, &isp, e)) == RS_OK) {
            if (isp)
                cf.prods[cf.np++] = in;
            else
                cf.trans[cf.nt++] = in;
        }
    }
    for (int i = 0; i < cf.np && rc == RS_OK; i++)
        rc = imp_products_file(im, cf.prods[i], p->flags, e);
    for (int i = 0; i < cf.nt && rc == RS_OK; i++)
        rc = imp_receipts_file(im, cf.trans[i], p, e);
done:
    for (size_t i = 0; cf.owned && i < cf.nowned; i++)
        free(cf.owned[i]);
    free(cf.owned);
    free(cf.prods);
    free(cf.trans);
    return rc;
}

const rs_import_preset rs_preset_completejourney = {
    .name = "completejourney",
    .inputs = "DIR|FILE ...",
    .help = "DIR (or files) of Dunnhumby \"The Complete Journey\":\n"
            "original layout (transaction_data.csv + product.csv) or its\n"
            "R-package export (transactions.csv + products.csv, float\n"
            "unix timestamps).  Category = COMMODITY_DESC /\n"
            "product_category under DEPARTMENT; name = brand, type and\n"
            "size; products without a category go to \"(uncategorised)\"\n"
            "of their department.  Lines whose product is missing from\n"
            "the catalogue (222 in the R data) are skipped and reported\n"
            "(--unknown-products error refuses them).  Original layout\n"
            "times: DAY/TRANS_TIME, day 1 = 1970-01-01.",
    .kind = "receipts",
    .aliases = {IMP_CANONICAL_ALIASES, [RS_COL_DAY] = CJ_DAY, [RS_COL_DAYTIME] = CJ_TTIME},
    .required = IMP_ROLE(RS_COL_RECEIPT) | IMP_ROLE(RS_COL_PRODUCT),
    .flags = RS_PF_CATALOGUE | RS_PF_PRODUCTS_NA | RS_PF_PRODUCTS_COMPOSE | RS_PF_UNKNOWN_SKIP,
    .run = run_completejourney,
};
