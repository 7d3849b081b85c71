/* fixture_emb.h - an embedding of given input vectors, for the unit tests of the
 * numerics that take one (projection, clusters).  Header-only. */
#ifndef RS_TEST_FIXTURE_EMB_H
#define RS_TEST_FIXTURE_EMB_H

#include <stdlib.h>
#include <string.h>

#include "embedding.h"

/* rows x dim input vectors v (copied), row r = item r, no output vectors. */
static inline rs_embedding *fixture_emb(int32_t rows, int32_t dim, const float *v)
{
    rs_embedding *m = calloc(1, sizeof *m);
    m->n_items = rows;
    m->rows = rows;
    m->dim = dim;
    m->row_item = malloc((size_t)rows * sizeof *m->row_item);
    m->item_row = malloc((size_t)rows * sizeof *m->item_row);
    m->in = malloc((size_t)rows * dim * sizeof *m->in);
    for (int32_t r = 0; r < rows; r++)
        m->row_item[r] = m->item_row[r] = r;
    memcpy(m->in, v, (size_t)rows * dim * sizeof *m->in);
    return m;
}

#endif
