/* fuzz_w2v.c - the word2vec loaders on arbitrary bytes.  Built with -DFUZZ_W2V_FORMAT=
 * RS_W2V_TEXT (fuzz_w2v_text) or RS_W2V_BINARY (fuzz_w2v_bin); byte 0 bit 0 switches to
 * RS_W2V_AUTO so the format detection is fuzzed too.  A successful read must hold count
 * distinct non-empty words without separators and finite values.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "w2v_format.h"

#ifndef FUZZ_W2V_FORMAT
#define FUZZ_W2V_FORMAT RS_W2V_TEXT
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    rs_w2v_format fmt = (data[0] & 1) ? RS_W2V_AUTO : FUZZ_W2V_FORMAT;
    const char *path = fuzz_path(0, "v.w2v");
    fuzz_write(path, data + 1, size - 1);
    rs_error e;
    rs_w2v *w = NULL;
    int rc = rs_w2v_read(path, fmt, &w, &e);
    if (rc == RS_OK) {
        if (!w || w->count < 0 || w->dim <= 0)
            abort();
        if (w->format != RS_W2V_TEXT && w->format != RS_W2V_BINARY)
            abort();
        for (int64_t i = 0; i < w->count; i++) {
            const char *s = w->words[i];
            /* text: words end at any blank; binary (as word2vec.c): at ' ' or '\n' */
            if (!s || !*s || strpbrk(s, w->format == RS_W2V_TEXT ? " \t\r\n" : " \n"))
                abort();
            for (int d = 0; d < w->dim; d++)
                if (!isfinite(w->vectors[i * w->dim + d]))
                    abort();
        }
        rs_w2v_free(w);
    } else if (rc != RS_EDATA && rc != RS_EUSAGE) {
        abort();
    }
    unlink(path);
    return 0;
}
