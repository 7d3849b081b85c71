/* preset_canonical.c - the canonical layout: what `recoscope import` reads without
 * --preset (and with --preset canonical).  Columns are found by header name
 * (case-insensitive); flags and a JSON mapping rename them (import.h). */
#include "import_int.h"

const char *const IMP_A_RID[] = {"receipt_id", "order_id", "basket_id", NULL};
const char *const IMP_A_PID[] = {"product_id", NULL};
const char *const IMP_A_CITY[] = {"city", NULL};
const char *const IMP_A_QTY[] = {"quantity", NULL};
const char *const IMP_A_TS[] = {"timestamp", "transaction_timestamp", "time", NULL};
const char *const IMP_A_CUST[] = {"customer_id", "household_key", "household_id", "user_id",
                                  NULL};

const rs_import_preset rs_preset_canonical = {
    .name = "canonical",
    .inputs = "[RECEIPTS.csv ...]",
    .help = "[RECEIPTS.csv ...] with --products FILE and --categories\n"
            "FILE (the layout without --preset); header names,\n"
            "case-insensitive, extra columns ignored:\n"
            "  products    product_id,name,category[,department,\n"
            "              brand,price]\n"
            "  categories  category,department  (category -> department)\n"
            "  receipts    receipt_id,product_id[,city,quantity,\n"
            "              timestamp,customer_id]\n"
            "Lines of the same (receipt, product) are merged, quantities\n"
            "summed; a receipt id seen again (later file, later import)\n"
            "adds to the same receipt.  Timestamps: unix seconds (a\n"
            "fraction is dropped; --time-unit ms for milliseconds),\n"
            "YYYY-MM-DD[ HH:MM[:SS]][Z|+HH:MM] (ISO 8601) or\n"
            "M/D/YYYY H:MM, from 1900 to 2199, dates that exist.",
    .kind = "receipts",
    .aliases = {IMP_CANONICAL_ALIASES},
    .required = IMP_ROLE(RS_COL_RECEIPT) | IMP_ROLE(RS_COL_PRODUCT),
    .flags = RS_PF_CATALOGUE | RS_PF_INPUT_OPTIONAL,
    .run = imp_run_files,
};
