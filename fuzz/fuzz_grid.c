/* fuzz_grid.c - the grid JSON parser (rs_grid_parse) on arbitrary text.  A parsed grid
 * must have at least one combination per group, and applying every combination (up to
 * a bound) onto the defaults must succeed: the parser validated the values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "grid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strdup(data, size);
    rs_error e;
    rs_grid *g = NULL;
    int rc = rs_grid_parse(text, "fuzz.json", &g, &e);
    if (rc == RS_OK) {
        if (!g || !rs_grid_text(g))
            abort();
        for (int ki = 0; ki < RS_N_KINDS; ki++) {
            const rs_param_group *grp = RS_KINDS[ki].params;
            int64_t n = rs_grid_count(g, grp);
            if (n < 1)
                abort();
            int64_t lim = n < 64 ? n : 64;
            for (int64_t i = 0; i < lim; i++) {
                rs_train_params p;
                rs_train_params_defaults(&p);
                /* the last combinations too: index arithmetic at the top end */
                int64_t idx = i < 32 ? i : n - 1 - (i - 32);
                if (rs_grid_apply(g, grp, idx, &p, &e) != RS_OK)
                    abort();
                char *js = rs_params_json(&p, grp);
                free(js);
            }
        }
        rs_grid_free(g);
    } else if (rc != RS_EDATA && rc != RS_EUSAGE) {
        abort();
    }
    free(text);
    return 0;
}
