/* preset_online_retail.c - UCI Online Retail I and II: Country is the city, cancelled
 * invoices (C...) and non-positive quantities are skipped and counted, products are
 * created on sight from StockCode and Description. */
#include "import_int.h"

static const char *const R_RID[] = {"InvoiceNo", "Invoice", NULL};
static const char *const R_PID[] = {"StockCode", NULL};
static const char *const R_CITY[] = {"Country", NULL};
static const char *const R_TS[] = {"InvoiceDate", NULL};
static const char *const R_CUST[] = {"CustomerID", "Customer ID", NULL};
static const char *const R_NAME[] = {"Description", NULL};
static const char *const R_PRICE[] = {"UnitPrice", "Price", NULL};

const rs_import_preset rs_preset_online_retail = {
    .name = "online-retail",
    .inputs = "FILE ...",
    .help = "FILE(s) of UCI Online Retail I or II: Country is the city;\n"
            "cancelled invoices (C...) and non-positive quantities are\n"
            "skipped and counted.  The data has no categories: all\n"
            "products go into \"(uncategorised)\".",
    .kind = "online-retail",
    .aliases = {[RS_COL_RECEIPT] = R_RID, [RS_COL_PRODUCT] = R_PID, [RS_COL_CITY] = R_CITY,
                [RS_COL_QUANTITY] = IMP_A_QTY, [RS_COL_TIME] = R_TS, [RS_COL_CUSTOMER] = R_CUST,
                [RS_COL_NAME] = R_NAME, [RS_COL_PRICE] = R_PRICE},
    .required = IMP_ROLE(RS_COL_RECEIPT) | IMP_ROLE(RS_COL_PRODUCT),
    .flags = RS_PF_SKIP_CANCELLED | RS_PF_SKIP_NONPOSITIVE,
    .run = imp_run_files,
};
