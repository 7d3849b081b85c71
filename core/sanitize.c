/* sanitize.c - strict UTF-8 decoding and the character gate for terminal output (see
 * sanitize.h). */
#include "sanitize.h"

#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#define REPLACEMENT 0xFFFDu
#define MIDDLE_DOT 0x00B7u

size_t rs_utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    unsigned min, v;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, min = 0x80, v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, min = 0x800, v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, min = 0x10000, v = c & 0x07;
    } else {
        *cp = REPLACEMENT; /* stray continuation byte, C0/C1 lead, or F5..FF */
        return 1;
    }
    size_t i = 1;
    for (; i < len; i++) {
        if (i >= n || (s[i] & 0xC0) != 0x80) {
            *cp = REPLACEMENT; /* truncated: consume the valid prefix only */
            return i;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = REPLACEMENT;
        return len;
    }
    *cp = v;
    return len;
}

rs_glyph rs_sanitize_char(unsigned cp, int ascii)
{
    rs_glyph g = {.ch = L' ', .width = 1};
    if (cp == '\t')
        return g;
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
        g.ch = ascii ? L'?' : (wchar_t)MIDDLE_DOT;
        return g;
    }
    if (cp < 0x7F) {
        g.ch = (wchar_t)cp;
        return g;
    }
    if (ascii) {
        g.ch = L'?';
        return g;
    }
    if (cp == REPLACEMENT) {
        g.ch = (wchar_t)REPLACEMENT;
        return g;
    }
    int w = wcwidth((wchar_t)cp);
    if (w == 0 && iswprint((wint_t)cp)) {
        g.width = 0; /* combining mark or zero-width: dropped */
        return g;
    }
    if (w < 0 || w > 2 || !iswprint((wint_t)cp)) {
        g.ch = (wchar_t)MIDDLE_DOT;
        return g;
    }
    g.ch = (wchar_t)cp;
    g.width = (unsigned char)w;
    return g;
}

size_t rs_sanitize(const char *s, int ascii, rs_glyph *out, size_t cap, int *cols)
{
    size_t n = 0;
    int w = 0;
    if (s) {
        const unsigned char *p = (const unsigned char *)s;
        size_t left = strlen(s);
        while (left > 0 && n < cap) {
            unsigned cp;
            size_t k = rs_utf8_decode(p, left, &cp);
            p += k;
            left -= k;
            rs_glyph g = rs_sanitize_char(cp, ascii);
            if (g.width == 0)
                continue;
            out[n++] = g;
            w += g.width;
        }
    }
    if (cols)
        *cols = w;
    return n;
}

size_t rs_utf8_encode(char *buf, unsigned ch)
{
    if (ch < 0x80) {
        buf[0] = (char)ch;
        return 1;
    }
    if (ch < 0x800) {
        buf[0] = (char)(0xC0 | (ch >> 6));
        buf[1] = (char)(0x80 | (ch & 0x3F));
        return 2;
    }
    if (ch < 0x10000) {
        buf[0] = (char)(0xE0 | (ch >> 12));
        buf[1] = (char)(0x80 | ((ch >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (ch & 0x3F));
        return 3;
    }
    buf[0] = (char)(0xF0 | (ch >> 18));
    buf[1] = (char)(0x80 | ((ch >> 12) & 0x3F));
    buf[2] = (char)(0x80 | ((ch >> 6) & 0x3F));
    buf[3] = (char)(0x80 | (ch & 0x3F));
    return 4;
}

int rs_sanitize_str(const char *s, int ascii, int maxw, char *buf, size_t n)
{
    if (n == 0)
        return 0;
    buf[0] = 0;
    if (!s || maxw <= 0)
        return 0;
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s);
    /* total width first, to know whether the ellipsis is needed */
    int total = 0;
    for (const unsigned char *q = p; left > 0;) {
        unsigned cp;
        size_t k = rs_utf8_decode(q, left, &cp);
        q += k;
        left -= k;
        total += rs_sanitize_char(cp, ascii).width;
    }
    left = strlen(s);
    int limit = total > maxw ? maxw - 1 : maxw;
    int w = 0;
    size_t used = 0;
    while (left > 0) {
        unsigned cp;
        size_t k = rs_utf8_decode(p, left, &cp);
        p += k;
        left -= k;
        rs_glyph g = rs_sanitize_char(cp, ascii);
        if (g.width == 0)
            continue;
        if (w + g.width > limit || used + 5 > n)
            break;
        used += rs_utf8_encode(buf + used, (unsigned)g.ch);
        w += g.width;
    }
    if (total > maxw && used + 5 <= n) {
        used += rs_utf8_encode(buf + used, ascii ? '~' : 0x2026u);
        w += 1;
    }
    buf[used] = 0;
    return w;
}

size_t rs_sanitize_cell(const char *s, int ascii, int width, char *buf, size_t n)
{
    if (n == 0)
        return 0;
    int w = rs_sanitize_str(s ? s : "", ascii, width, buf, n);
    size_t used = strlen(buf);
    while (w < width && used + 1 < n) {
        buf[used++] = ' ';
        w++;
    }
    buf[used] = 0;
    return used;
}

size_t rs_sanitize_msg(const char *s, int ascii, char *buf, size_t n)
{
    if (n == 0)
        return 0;
    size_t used = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t left = strlen((const char *)p);
    while (left > 0) {
        unsigned cp;
        size_t k = rs_utf8_decode(p, left, &cp);
        p += k;
        left -= k;
        char enc[4];
        size_t len;
        if (cp == '\n') {
            enc[0] = '\n';
            len = 1;
        } else {
            rs_glyph g = rs_sanitize_char(cp, ascii);
            if (g.width == 0)
                continue;
            len = rs_utf8_encode(enc, (unsigned)g.ch);
        }
        if (used + len >= n)
            break;
        memcpy(buf + used, enc, len);
        used += len;
    }
    buf[used] = 0;
    return used;
}

int rs_locale_ascii(void)
{
    const char *cs = nl_langinfo(CODESET);
    return !(cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0));
}

int rs_sanitize_json_escapes(unsigned cp)
{
    return (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0x200E ||
           cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

size_t rs_sanitize_json_char(const unsigned char *p, size_t left, char out[8], size_t *outn)
{
    unsigned cp;
    size_t k = rs_utf8_decode(p, left, &cp);
    int invalid = cp == REPLACEMENT && !(k == 3 && p[0] == 0xEF && p[1] == 0xBF && p[2] == 0xBD);
    if (invalid || rs_sanitize_json_escapes(cp)) {
        *outn = (size_t)snprintf(out, 8, "\\u%04x", invalid ? REPLACEMENT : cp);
    } else {
        memcpy(out, p, k);
        *outn = k;
    }
    return k;
}

char *rs_sanitize_json(const char *json)
{
    size_t n = strlen(json);
    /* worst case: every byte an invalid one, 6 bytes of escape each */
    char *out = malloc(n * 6 + 1);
    if (!out)
        return NULL;
    size_t used = 0;
    const unsigned char *p = (const unsigned char *)json;
    size_t left = n;
    while (left > 0) {
        if (*p < 0x7F) {
            out[used++] = (char)*p++;
            left--;
            continue;
        }
        char esc[8];
        size_t w, k = rs_sanitize_json_char(p, left, esc, &w);
        memcpy(out + used, esc, w);
        used += w;
        p += k;
        left -= k;
    }
    out[used] = 0;
    return out;
}
