/* fuzz_mapping.c - the import mapping JSON loader (rs_import_mapping_load).  Half of the
 * inputs are loaded over options already set by "flags" (flags must win).  A loaded
 * mapping's column names must be non-empty strings and the delimiter one of , ; tab |.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *path = fuzz_path(0, "map.json");
    fuzz_write(path, data + 1, size - 1);
    rs_import_opts o;
    rs_import_opts_init(&o);
    int flags = data[0] & 1;
    if (flags) {
        o.rcol[RS_COL_RECEIPT] = "flag_receipt";
        o.delimiter = ';';
        o.preset = "basket-lines";
    }
    rs_error e;
    int rc = rs_import_mapping_load(&o, path, &e);
    if (rc == RS_OK) {
        if (flags && (strcmp(o.rcol[RS_COL_RECEIPT], "flag_receipt") != 0 || o.delimiter != ';' ||
                      strcmp(o.preset, "basket-lines") != 0))
            abort();
        if (o.delimiter && !strchr(",;\t|", o.delimiter))
            abort();
        for (int i = 0; i < RS_RCOLS; i++)
            if (o.rcol[i] && !*o.rcol[i])
                abort();
        for (int i = 0; i < RS_PCOLS; i++)
            if (o.pcol[i] && !*o.pcol[i])
                abort();
        for (int i = 0; i < RS_CCOLS; i++)
            if (o.ccol[i] && !*o.ccol[i])
                abort();
    } else if (rc != RS_EDATA && rc != RS_EUSAGE) {
        abort();
    }
    rs_import_opts_free(&o);
    unlink(path);
    return 0;
}
