/* fuzz_model.c - the own model-file loader (rs_model_load) on arbitrary bytes.
 *
 * Byte 0 selects how the input becomes a file: raw, or spliced over the header of a
 * valid tiny model (so the fuzzer starts past the magic/version checks).  After a
 * successful load every section is read end to end (ASan catches a section that runs
 * past the mapping) and the index invariants are checked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path(0, "m.rsm");
    fuzz_write(path, data, size);
    rs_error e;
    rs_embedding *m = NULL;
    int rc = rs_model_load(path, &m, &e);
    if (rc == RS_OK) {
        if (!m || m->rows < 0 || m->dim <= 0 || m->n_items < 0)
            abort();
        volatile float acc = 0;
        size_t cells = (size_t)m->rows * (size_t)m->dim;
        for (size_t i = 0; i < cells; i++) {
            acc += m->in[i];
            if (m->out)
                acc += m->out[i];
        }
        for (int32_t r = 0; r < m->rows; r++) {
            int32_t it = m->row_item[r];
            if (it < 0 || it >= m->n_items)
                abort();
            if (m->item_row[it] != r)
                abort();
            if (m->counts)
                acc += (float)m->counts[r];
            if (m->ext_ids && m->ext_ids[r])
                acc += (float)strlen(m->ext_ids[r]);
        }
        for (int32_t i = 0; i < m->n_items; i++)
            if (m->item_row[i] < -1 || m->item_row[i] >= m->rows)
                abort();
        (void)acc;
        if (!memchr(m->kind, 0, sizeof m->kind))
            abort();
        rs_embedding_free(m);
    } else if (rc != RS_EDATA && rc != RS_EUSAGE) {
        abort();
    } else if (m) {
        abort();
    }
    unlink(path);
    return 0;
}
