/* sanitize.h - the one gate every untrusted string (product, category, city and file
 * names, values quoted in messages) passes before it reaches a terminal: the TUI
 * draws through it, and every CLI printer (tables, messages) prints through it.
 *
 * Input is UTF-8 by contract (the store holds UTF-8 whatever the terminal's locale),
 * so it is decoded strictly here rather than with the locale's mbrtowc: invalid bytes,
 * overlong forms, surrogates and code points above U+10FFFF become U+FFFD.  Then:
 *   - tab                        -> one space
 *   - C0, DEL, C1 (0x80..0x9F)   -> '·'  (so an ESC sequence shows as "·[31m", inert)
 *   - anything !iswprint or of width < 0 in the current locale -> '·'
 *   - zero-width characters (combining marks, ZWJ, ...) are dropped: a cell holds one
 *     character
 * In ASCII mode (the terminal is not UTF-8) every character above 0x7E becomes '?'.
 * Widths come from wcwidth, so CJK takes two columns.
 */
#ifndef RS_SANITIZE_H
#define RS_SANITIZE_H

#include <stddef.h>
#include <wchar.h>

/* One drawable character and its width in columns (1 or 2). */
typedef struct rs_glyph {
    wchar_t ch;
    unsigned char width;
} rs_glyph;

/* Decodes one UTF-8 sequence at s (n bytes available).  Returns the bytes consumed
 * (>= 1) and the code point in *cp, or U+FFFD for an invalid sequence (consuming the
 * longest invalid prefix, at least one byte). */
size_t rs_utf8_decode(const unsigned char *s, size_t n, unsigned *cp);

/* Writes the UTF-8 form of the code point ch to buf and returns its length (1..4; the
 * caller leaves room for 4 bytes). */
size_t rs_utf8_encode(char *buf, unsigned ch);

/* Maps one decoded code point to what is drawn: *out (width 1 or 2), or width 0 when
 * the character is dropped. */
rs_glyph rs_sanitize_char(unsigned cp, int ascii);

/* Sanitizes the whole string into out (at most cap glyphs; the rest is cut) and
 * returns how many glyphs were written.  *cols receives the total width. */
size_t rs_sanitize(const char *s, int ascii, rs_glyph *out, size_t cap, int *cols);

/* Sanitized and truncated to at most maxw columns (with '…' or '~' when cut), as a
 * UTF-8 (or ASCII) string in buf.  Returns the width used.  For tests and export of
 * labels. */
int rs_sanitize_str(const char *s, int ascii, int maxw, char *buf, size_t n);

/* Sanitized, cut to at most width columns (with '…' or '~') and padded with spaces to
 * exactly width columns: a table cell for the CLI.  Returns the bytes written to buf
 * (NUL-terminated; a buf too small for the cell is cut short, still valid UTF-8). */
size_t rs_sanitize_cell(const char *s, int ascii, int width, char *buf, size_t n);

/* A whole message (an error or a warning quoting data, a value printed by the CLI)
 * through the same gate, uncut: newlines are kept, every other character passes
 * rs_sanitize_char.  buf receives at most n - 1 bytes and a NUL; returns the bytes
 * written. */
size_t rs_sanitize_msg(const char *s, int ascii, char *buf, size_t n);

/* JSON text (as cJSON prints it) made safe for a terminal: inside strings, DEL, C1 controls
 * (U+0080..U+009F), U+2028/U+2029 and the bidirectional formatting characters
 * (U+200E/F, U+202A..U+202E, U+2066..U+2069) become \uXXXX escapes and invalid UTF-8
 * becomes \ufffd; C0 controls are already escaped by every JSON writer.  Outside
 * strings JSON is ASCII, so the text is scanned as a whole.  Returns a malloc-ed copy
 * (NULL when out of memory). */
char *rs_sanitize_json(const char *json);

/* Whether a code point is one rs_sanitize_json escapes (DEL, C1, line/paragraph
 * separator, bidirectional formatting). */
int rs_sanitize_json_escapes(unsigned cp);
/* The one rule of both JSON writers (rs_sanitize_json for cJSON's text, rs_jsonw_str):
 * the character at p (left bytes, *p >= 0x7F) as JSON text for out (at most 6 bytes,
 * *outn of them): the character itself, or \uXXXX when rs_sanitize_json_escapes says
 * so, or \ufffd for invalid UTF-8 (rs_utf8_decode's reading of it).  Returns the bytes
 * of p consumed (at least 1). */
size_t rs_sanitize_json_char(const unsigned char *p, size_t left, char out[8], size_t *outn);

/* Whether text for the terminal must be ASCII: the locale's codeset is not UTF-8.
 * Decided from nl_langinfo(CODESET), so call it after setlocale(). */
int rs_locale_ascii(void);

#endif
