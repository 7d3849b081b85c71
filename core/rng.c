/* rng.c - alias table construction (see rng.h). */
#include "rng.h"

#include <stdlib.h>

/* Vose's method: columns below 1 (small) take their remainder from a column above 1
 * (large), which keeps the top of the large stack until it falls below 1 itself. */
int rs_alias_build(rs_alias_entry *out, const double *w, uint32_t n, rs_alias_order order)
{
    double *scaled = malloc(((size_t)n + 1) * sizeof *scaled);
    int32_t *small = malloc(((size_t)n + 1) * sizeof *small);
    int32_t *large = malloc(((size_t)n + 1) * sizeof *large);
    int rc = -1;
    if (!scaled || !small || !large)
        goto done;
    double sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += w[i];
    uint32_t ns = 0, nl = 0;
    for (uint32_t i = 0; i < n; i++) {
        scaled[i] = w[i] * n / sum;
        out[i].alias = (int32_t)i;
        if (scaled[i] < 1.0)
            small[ns++] = (int32_t)i;
        else
            large[nl++] = (int32_t)i;
    }
    while (ns && nl) {
        int32_t s = small[--ns], l = large[nl - 1];
        out[s].prob = (float)scaled[s];
        out[s].alias = l;
        if (order == RS_ALIAS_SUB)
            scaled[l] -= 1.0 - scaled[s];
        else
            scaled[l] = (scaled[l] + scaled[s]) - 1.0;
        if (scaled[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    while (nl) /* they keep themselves */
        out[large[--nl]].prob = 1.0f;
    while (ns) /* only by rounding */
        out[small[--ns]].prob = 1.0f;
    rc = 0;
done:
    free(scaled);
    free(small);
    free(large);
    return rc;
}
