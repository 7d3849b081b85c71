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
/* The stock codes that are not products (README of the data set): postage, carriage,
 * manual entries, discounts, samples, bank and Amazon fees, a charity commission, bad
 * debt adjustments, gift vouchers. */
static const char *const R_NON_PRODUCTS[] = {"POST", "DOT", "M", "C2", "D", "S", "B",
                                             "BANK CHARGES", "AMAZONFEE", "CRUK", "gift_*",
                                             NULL};

const rs_import_preset rs_preset_online_retail = {
    .name = "online-retail",
    .inputs = "FILE ...",
    .help = "FILE(s) of UCI Online Retail I or II: Country is the city;\n"
            "skipped and counted: cancelled invoices (C...), quantities\n"
            "<= 0, codes that are not products (POST DOT M C2 D S B\n"
            "BANK CHARGES AMAZONFEE CRUK gift_*), a line identical to an\n"
            "earlier one of its invoice.  A code's name is its first\n"
            "description; customer 17850.0 is 17850.  No categories:\n"
            "all products go into \"(uncategorised)\".",
    .kind = "online-retail",
    .aliases = {[RS_COL_RECEIPT] = R_RID, [RS_COL_PRODUCT] = R_PID, [RS_COL_CITY] = R_CITY,
                [RS_COL_QUANTITY] = IMP_A_QTY, [RS_COL_TIME] = R_TS, [RS_COL_CUSTOMER] = R_CUST,
                [RS_COL_NAME] = R_NAME, [RS_COL_PRICE] = R_PRICE},
    .required = IMP_ROLE(RS_COL_RECEIPT) | IMP_ROLE(RS_COL_PRODUCT),
    .flags = RS_PF_SKIP_CANCELLED | RS_PF_SKIP_NONPOSITIVE | RS_PF_DEDUP_LINES | RS_PF_CUSTOMER_INT,
    .non_products = R_NON_PRODUCTS,
    .run = imp_run_files,
};
