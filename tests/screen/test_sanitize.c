/* test_sanitize.c - the one gate for untrusted text: ESC sequences, C0/DEL/C1
 * controls, tabs, invalid UTF-8 (overlong, surrogates, truncated, stray bytes), CJK
 * widths and truncation by display columns; and the canvas's handling of wide
 * characters at edges and when half-overwritten. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "../testlib.h"
#include "canvas.h"
#include "../core/sanitize.h"

static const char *san(const char *s, int ascii, int maxw)
{
    static char buf[1024];
    rs_sanitize_str(s, ascii, maxw, buf, sizeof buf);
    return buf;
}

static int width(const char *s)
{
    rs_glyph g[256];
    int w = 0;
    rs_sanitize(s, 0, g, 256, &w);
    return w;
}

int main(void)
{
    if (!setlocale(LC_ALL, "C.UTF-8")) {
        fprintf(stderr, "no C.UTF-8 locale\n");
        return TEST_SKIP;
    }
    /* ESC sequences become inert text: the ESC byte is replaced */
    CHECK_STR(san("a\x1b[31mred\x1b[0m", 0, 80), "a\xc2\xb7[31mred\xc2\xb7[0m");
    CHECK_STR(san("a\x1b[31mred", 1, 80), "a?[31mred");
    CHECK_STR(san("\x1b]0;title\x07x", 0, 80), "\xc2\xb7]0;title\xc2\xb7x");
    /* C0, DEL, C1 (as UTF-8 code points U+0080..U+009F) */
    CHECK_STR(san("a\x01\x7f" "b", 0, 80), "a\xc2\xb7\xc2\xb7" "b");
    CHECK_STR(san("c\xc2\x9b" "d\xc2\x85", 0, 80), "c\xc2\xb7" "d\xc2\xb7");
    CHECK_STR(san("c\xc2\x9b" "d", 1, 80), "c?d");
    /* raw C1 bytes are not valid UTF-8: U+FFFD, never passed through */
    CHECK_STR(san("x\x9b" "y", 0, 80), "x\xef\xbf\xbdy");
    /* tabs and newlines */
    CHECK_STR(san("a\tb", 0, 80), "a b");
    CHECK_STR(san("a\nb\rc", 0, 80), "a\xc2\xb7" "b\xc2\xb7" "c");
    /* invalid UTF-8 */
    CHECK_STR(san("\xff", 0, 80), "\xef\xbf\xbd");
    CHECK_STR(san("\xff", 1, 80), "?");
    CHECK_STR(san("\xc0\xaf", 0, 80), "\xef\xbf\xbd\xef\xbf\xbd");       /* overlong */
    CHECK_STR(san("\xed\xa0\x80", 0, 80), "\xef\xbf\xbd");                /* surrogate */
    CHECK_STR(san("\xe6\x97", 0, 80), "\xef\xbf\xbd");                    /* truncated */
    CHECK_STR(san("\xf4\x90\x80\x80", 0, 80), "\xef\xbf\xbd");            /* > U+10FFFF */
    CHECK_STR(san("ok\xe6\x97x", 0, 80), "ok\xef\xbf\xbdx");
    /* CJK is two columns wide; truncation counts columns, not bytes */
    CHECK_EQ_INT(width("\xe6\x97\xa5\xe6\x9c\xac"), 4);
    CHECK_STR(san("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 0, 6), "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    CHECK_STR(san("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 0, 5), "\xe6\x97\xa5\xe6\x9c\xac\xe2\x80\xa6");
    CHECK_STR(san("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 0, 4), "\xe6\x97\xa5\xe2\x80\xa6");
    CHECK_STR(san("\xe6\x97\xa5\xe6\x9c\xac", 1, 80), "??");
    CHECK_STR(san("abcdefgh", 0, 5), "abcd\xe2\x80\xa6");
    CHECK_STR(san("abcdefgh", 1, 5), "abcd~");
    CHECK_STR(san("abcde", 0, 5), "abcde");
    /* combining marks are dropped (one character per cell), accents kept */
    CHECK_STR(san("e\xcc\x81" "t\xc3\xa9", 0, 80), "et\xc3\xa9");
    CHECK_STR(san("t\xc3\xa9", 1, 80), "t?");

    /* the canvas: drawing goes through the same gate */
    tui_canvas c;
    CHECK(tui_canvas_init(&c, 2, 6, 1, 1) == 0);
    char row[64];
    tui_text(&c, 0, 0, 6, "a\x1b[2Jb", TUI_ROLE_NORMAL);
    tui_canvas_row_text(&c, 0, row, sizeof row);
    CHECK_STR(row, "a\xc2\xb7[2Jb");
    tui_text(&c, 0, 0, 6, "a\x1b[2Jbc", TUI_ROLE_NORMAL);
    tui_canvas_row_text(&c, 0, row, sizeof row);
    CHECK_STR(row, "a\xc2\xb7[2J\xe2\x80\xa6");
    /* a wide character that does not fit the last column becomes the ellipsis */
    tui_text(&c, 1, 5, 2, "\xe6\x97\xa5", TUI_ROLE_NORMAL);
    tui_canvas_row_text(&c, 1, row, sizeof row);
    CHECK_STR(row, "     \xe2\x80\xa6");
    /* overwriting the right half of a wide character blanks its left half */
    tui_canvas_clear(&c);
    tui_text(&c, 0, 0, 6, "\xe6\x97\xa5\xe6\x9c\xac", TUI_ROLE_NORMAL);
    tui_put(&c, 0, 1, L'x', 1, TUI_ROLE_NORMAL);
    tui_canvas_row_text(&c, 0, row, sizeof row);
    CHECK_STR(row, " x\xe6\x9c\xac  ");
    tui_canvas_free(&c);

    /* ASCII canvas: no byte above 0x7F whatever is drawn */
    CHECK(tui_canvas_init(&c, 1, 40, 0, 0) == 0);
    tui_text(&c, 0, 0, 40, "\xe6\x97\xa5 caf\xc3\xa9 \xc2\x9b\x1b[1m \xff tab\there long", TUI_ROLE_NORMAL);
    tui_hbar(&c, 0, 30, 5, 0.55, TUI_ROLE_BAR);
    tui_canvas_row_text(&c, 0, row, sizeof row);
    int high = 0;
    for (const unsigned char *p = (const unsigned char *)row; *p; p++)
        high |= *p > 0x7F;
    CHECK(!high);
    CHECK_STR(row, "? caf? ??[1m ? tab here long  ##=       ");
    tui_canvas_free(&c);
    return test_summary();
}
