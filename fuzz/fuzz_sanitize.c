/* fuzz_sanitize.c - the TUI text sanitizer.  Byte 0 gives the column budget (0..63)
 * and ASCII mode; the rest is the untrusted string (NUL-terminated copy).
 * Invariants of rs_sanitize_str's output: valid UTF-8 (pure ASCII in ASCII mode) with
 * no byte < 0x20, no 0x7f, no ESC, no C1 code point U+0080..U+009F; its display width
 * (wcswidth in a UTF-8 locale) equals the returned width and is <= the budget.
 * rs_sanitize's glyphs are printable, of width 1 or 2, and sum to *cols.
 */
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "fuzz_common.h"
#include "../core/sanitize.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!setlocale(LC_ALL, "C.UTF-8") && !setlocale(LC_ALL, "en_US.UTF-8"))
        abort();
    return 0;
}

static void check_out(const char *buf, int ascii, int maxw, int w)
{
    if (w < 0 || w > maxw)
        abort();
    size_t n = strlen(buf);
    int width = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)buf[i];
        if (c < 0x20 || c == 0x7f)
            abort();
        if (ascii && c > 0x7e)
            abort();
        unsigned cp;
        size_t k = rs_utf8_decode((const unsigned char *)buf + i, n - i, &cp);
        if (k < 1 || k > 4 || cp > 0x10ffffu)
            abort();
        /* the output must be valid UTF-8 (a U+FFFD the sanitizer wrote is 3 bytes) */
        if (cp == 0xFFFDu && !(k == 3 && memcmp(buf + i, "\xEF\xBF\xBD", 3) == 0))
            abort();
        if (cp >= 0x80 && cp <= 0x9f)
            abort();
        int cw = wcwidth((wchar_t)cp);
        if (cw < 1 || cw > 2)
            abort();
        width += cw;
        i += k;
    }
    if (width != w)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int maxw = data[0] & 63;
    int ascii = (data[0] & 64) != 0;
    char *s = fuzz_strdup(data + 1, size - 1);

    char buf[1024];
    int w = rs_sanitize_str(s, ascii, maxw, buf, sizeof buf);
    if (!memchr(buf, 0, sizeof buf))
        abort();
    check_out(buf, ascii, maxw, w);

    /* a small output buffer: still terminated, never over-written */
    char small[8];
    memset(small, 'x', sizeof small);
    w = rs_sanitize_str(s, ascii, maxw, small, 5);
    if (!memchr(small, 0, 5) || small[5] != 'x')
        abort();

    rs_glyph g[64];
    int cols = -1;
    size_t ng = rs_sanitize(s, ascii, g, sizeof g / sizeof *g, &cols);
    if (ng > 64)
        abort();
    int sum = 0;
    for (size_t i = 0; i < ng; i++) {
        unsigned cp = (unsigned)g[i].ch;
        if (g[i].width < 1 || g[i].width > 2)
            abort();
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp > 0x10ffff)
            abort();
        if (ascii && cp > 0x7e)
            abort();
        sum += g[i].width;
    }
    if (sum != cols)
        abort();
    free(s);
    return 0;
}
