/* preset_basket_lines.c - one receipt per line, items separated by the delimiter, no
 * header (the Groceries layout); item name = product = category. */
#include "import_int.h"

const rs_import_preset rs_preset_basket_lines = {
    .name = "basket-lines",
    .inputs = "FILE ...",
    .help = "FILE(s), one receipt per line, items separated by the\n"
            "delimiter, no header (the Groceries layout); item name =\n"
            "product = category.",
    .kind = "basket-lines",
    .flags = RS_PF_NO_HEADER | RS_PF_BASKET_LINES | RS_PF_ITEM_CATEGORY,
    .run = imp_run_files,
};
