/* w2v_format.c - reading and writing the word2vec text and binary formats.
 *
 * The reader maps the file and parses it in place, so every error can say exactly
 * where it is (line for text, vector number and byte offset for binary).  Numbers are
 * parsed and printed in the C locale whatever LC_NUMERIC the program runs with.
 */
#include "w2v_format.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "hash.h"
#include "readfile.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define RS_HOST_BIG_ENDIAN 1
#else
#define RS_HOST_BIG_ENDIAN 0
#endif

int rs_w2v_format_parse(const char *name, rs_w2v_format *out)
{
    if (strcmp(name, "auto") == 0)
        *out = RS_W2V_AUTO;
    else if (strcmp(name, "word2vec") == 0 || strcmp(name, "text") == 0)
        *out = RS_W2V_TEXT;
    else if (strcmp(name, "word2vec-bin") == 0 || strcmp(name, "bin") == 0)
        *out = RS_W2V_BINARY;
    else
        return RS_EUSAGE;
    return RS_OK;
}

void rs_w2v_free(rs_w2v *w)
{
    if (!w)
        return;
    if (w->words)
        for (int64_t i = 0; i < w->count; i++)
            free(w->words[i]);
    free(w->words);
    free(w->vectors);
    free(w);
}

static locale_t c_locale(void)
{
    /* created once per call site use; cheap enough for whole-file operations */
    return newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* A set of words for the duplicate check: open addressing over word indices. */
typedef struct word_set {
    int64_t *slot; /* -1 = empty */
    uint64_t mask;
} word_set;

static int word_set_init(word_set *s, int64_t n)
{
    uint64_t cap = 16;
    while (cap < (uint64_t)n * 2)
        cap <<= 1;
    s->mask = cap - 1;
    s->slot = malloc(cap * sizeof *s->slot);
    if (!s->slot)
        return -1;
    memset(s->slot, 0xff, cap * sizeof *s->slot);
    return 0;
}

/* Inserts words[i]; returns the index of an equal earlier word, or -1. */
static int64_t word_set_add(word_set *s, char **words, int64_t i)
{
    uint64_t h = rs_fnv1a64(RS_FNV64_INIT, words[i], strlen(words[i]));
    for (uint64_t k = h & s->mask;; k = (k + 1) & s->mask) {
        if (s->slot[k] < 0) {
            s->slot[k] = i;
            return -1;
        }
        if (strcmp(words[s->slot[k]], words[i]) == 0)
            return s->slot[k];
    }
}

typedef struct parser {
    const char *path;
    const char *p, *end;
    int64_t line;
    locale_t loc;
} parser;

/* The first non-blank line after the header: a word and dim numbers? */
static int looks_like_text(const char *p, const char *end, int dim, locale_t loc)
{
    while (p < end && (*p == '\n' || is_space(*p)))
        p++;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        nl = end;
    size_t len = (size_t)(nl - p);
    if (memchr(p, 0, len))
        return 0;
    char *copy = malloc(len + 1);
    if (!copy)
        return 0;
    memcpy(copy, p, len);
    copy[len] = 0;
    int tokens = 0, ok = 1;
    char *save = NULL;
    for (char *t = strtok_r(copy, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
        if (tokens > 0) {
            char *q;
            errno = 0;
            strtof_l(t, &q, loc);
            if (*q)
                ok = 0;
        }
        tokens++;
    }
    free(copy);
    return ok && tokens == dim + 1;
}

/* Whether [p, end) is valid UTF-8; a sequence cut by end counts as valid. */
static int valid_utf8(const unsigned char *p, const unsigned char *end)
{
    while (p < end) {
        unsigned c = *p;
        int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
                : (c & 0xf8) == 0xf0 ? 3 : -1;
        if (n < 0 || (n == 1 && c < 0xc2))
            return 0;
        p++;
        for (int k = 0; k < n && p < end; k++, p++)
            if ((*p & 0xc0) != 0x80)
                return 0;
    }
    return 1;
}

/* --format auto.  A first vector line that reads as text (a word and dim numbers) is
 * text.  Otherwise binary vectors are raw float32 bytes: a NUL, or bytes that do not
 * form UTF-8, within the first 4 KiB after the header.  Anything else is text whatever
 * is wrong with its first vector (a blank line, a value too many, a decimal comma), so
 * its errors are text errors with a line number; words may hold control characters
 * (they are data, sanitized when printed). */
static rs_w2v_format detect_format(const char *p, const char *end, int dim, locale_t loc)
{
    if (looks_like_text(p, end, dim, loc))
        return RS_W2V_TEXT;
    const unsigned char *u = (const unsigned char *)p;
    size_t n = (size_t)(end - p) < 4096 ? (size_t)(end - p) : 4096;
    if (memchr(u, 0, n) || !valid_utf8(u, u + n))
        return RS_W2V_BINARY;
    return RS_W2V_TEXT;
}

static int parse_header(parser *ps, int64_t *count, int *dim, rs_error *e)
{
    const char *nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
    if (!nl)
        return rs_seterr(e, RS_EDATA, "%s:1: bad header: expected \"count dim\" and a newline",
                         ps->path);
    char buf[128];
    size_t len = (size_t)(nl - ps->p);
    if (len >= sizeof buf)
        return rs_seterr(e, RS_EDATA, "%s:1: bad header: expected \"count dim\"", ps->path);
    memcpy(buf, ps->p, len);
    buf[len] = 0;
    long long c = -1, d = -1;
    int consumed = 0;
    if (sscanf(buf, " %lld %lld %n", &c, &d, &consumed) != 2 || buf[consumed] != 0)
        return rs_seterr(e, RS_EDATA, "%s:1: bad header \"%s\": expected \"count dim\"",
                         ps->path, buf);
    if (c < 1 || d < 1 || d > 65536)
        return rs_seterr(e, RS_EDATA, "%s:1: bad header: %lld vectors of dimension %lld "
                         "(need >= 1 vectors, dimension 1..65536)", ps->path, c, d);
    *count = c;
    *dim = (int)d;
    ps->p = nl + 1;
    ps->line = 2;
    return RS_OK;
}

static int read_text(parser *ps, rs_w2v *w, rs_error *e)
{
    char *tok = NULL;
    size_t tokcap = 0;
    int rc = RS_OK;
    for (int64_t i = 0; i < w->count; i++) {
        /* skip blank lines */
        while (ps->p < ps->end && (*ps->p == '\n' || is_space(*ps->p))) {
            if (*ps->p == '\n')
                ps->line++;
            ps->p++;
        }
        if (ps->p >= ps->end) {
            rc = rs_seterr(e, RS_EDATA, "%s:%lld: truncated file: the header says %lld vectors, "
                           "the file ends after %lld", ps->path, (long long)ps->line,
                           (long long)w->count, (long long)i);
            goto done;
        }
        const char *nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
        const char *eol = nl ? nl : ps->end;
        size_t len = (size_t)(eol - ps->p);
        if (memchr(ps->p, 0, len)) {
            rc = rs_seterr(e, RS_EDATA, "%s:%lld: a NUL byte in a text vector (a binary file? "
                           "try --format word2vec-bin)", ps->path, (long long)ps->line);
            goto done;
        }
        if (len + 1 > tokcap) {
            free(tok);
            tokcap = len + 1;
            tok = malloc(tokcap);
            if (!tok) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory reading %s", ps->path);
                goto done;
            }
        }
        memcpy(tok, ps->p, len);
        tok[len] = 0;
        char *save = NULL;
        char *word = strtok_r(tok, " \t\r", &save);
        w->words[i] = strdup(word ? word : "");
        if (!w->words[i]) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory reading %s", ps->path);
            goto done;
        }
        int k = 0;
        for (char *t = strtok_r(NULL, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
            if (k >= w->dim) {
                k++;
                continue;
            }
            char *q;
            float v = strtof_l(t, &q, ps->loc);
            if (*q) {
                rc = rs_seterr(e, RS_EDATA, "%s:%lld: word \"%s\": value %d \"%s\" is not a "
                               "number%s", ps->path, (long long)ps->line, w->words[i], k + 1, t,
                               *q == ',' ? " (a decimal comma? word2vec files use '.')" : "");
                goto done;
            }
            if (!isfinite(v)) {
                rc = rs_seterr(e, RS_EDATA, "%s:%lld: word \"%s\": value %d is %s", ps->path,
                               (long long)ps->line, w->words[i], k + 1,
                               isnan(v) ? "NaN" : "infinite (or out of float range)");
                goto done;
            }
            w->vectors[(size_t)i * (size_t)w->dim + (size_t)k++] = v;
        }
        if (k != w->dim) {
            rc = rs_seterr(e, RS_EDATA, "%s:%lld: word \"%s\" has %d values, the header says "
                           "dimension %d", ps->path, (long long)ps->line, w->words[i], k, w->dim);
            goto done;
        }
        ps->p = nl ? nl + 1 : ps->end;
        ps->line++;
    }
done:
    free(tok);
    return rc;
}

static int read_binary(parser *ps, rs_w2v *w, const char *base, rs_error *e)
{
    size_t vbytes = (size_t)w->dim * 4;
    for (int64_t i = 0; i < w->count; i++) {
        while (ps->p < ps->end && (*ps->p == '\n' || is_space(*ps->p)))
            ps->p++;
        if (ps->p >= ps->end)
            return rs_seterr(e, RS_EDATA, "%s: truncated file: the header says %lld vectors, "
                             "the file ends after %lld", ps->path, (long long)w->count,
                             (long long)i);
        const char *start = ps->p;
        while (ps->p < ps->end && *ps->p != ' ' && *ps->p != '\n' && *ps->p != 0)
            ps->p++;
        if (ps->p >= ps->end || *ps->p != ' ')
            return rs_seterr(e, RS_EDATA, "%s: vector %lld at byte %lld: the word is not "
                             "followed by a space (%s)", ps->path, (long long)i + 1,
                             (long long)(start - base),
                             ps->p >= ps->end ? "truncated file" : "corrupt or not binary");
        size_t wl = (size_t)(ps->p - start);
        w->words[i] = strndup(start, wl);
        if (!w->words[i])
            return rs_seterr(e, RS_EINTERNAL, "out of memory reading %s", ps->path);
        ps->p++;
        if ((size_t)(ps->end - ps->p) < vbytes)
            return rs_seterr(e, RS_EDATA, "%s: truncated file: vector %lld (word \"%s\") needs "
                             "%zu bytes, %zu left", ps->path, (long long)i + 1, w->words[i],
                             vbytes, (size_t)(ps->end - ps->p));
        float *dst = w->vectors + (size_t)i * (size_t)w->dim;
        memcpy(dst, ps->p, vbytes);
        for (int k = 0; k < w->dim; k++) {
#if RS_HOST_BIG_ENDIAN
            uint32_t u;
            memcpy(&u, &dst[k], 4);
            u = __builtin_bswap32(u);
            memcpy(&dst[k], &u, 4);
#endif
            if (!isfinite(dst[k]))
                return rs_seterr(e, RS_EDATA, "%s: vector %lld (word \"%s\"): value %d is %s",
                                 ps->path, (long long)i + 1, w->words[i], k + 1,
                                 isnan(dst[k]) ? "NaN" : "infinite");
        }
        ps->p += vbytes;
    }
    return RS_OK;
}

int rs_w2v_read(const char *path, rs_w2v_format format, rs_w2v **out, rs_error *e)
{
    int rc = RS_OK;
    int fd = -1;
    void *map = NULL;
    size_t size = 0, map_cap = 0;
    rs_w2v *w = NULL;
    word_set set = {0};
    parser ps = {.path = path, .loc = (locale_t)0};
    *out = NULL;

    struct stat st;
    if ((rc = rs_open_regular(path, "word2vec file", &fd, &st, e)))
        return rc;
    size = (size_t)st.st_size;
    if (size == 0) {
        rc = rs_seterr(e, RS_EDATA, "%s: empty file", path);
        goto done;
    }
    if ((rc = rs_read_private(fd, path, &st, &map, &map_cap, e)))
        goto done;
    ps.loc = c_locale();
    if (ps.loc == (locale_t)0) {
        rc = rs_seterr(e, RS_EINTERNAL, "cannot create the C locale");
        goto done;
    }
    ps.p = map;
    ps.end = ps.p + size;
    /* a UTF-8 byte-order mark (text editors on Windows) before the header */
    if (size >= 3 && memcmp(ps.p, "\xef\xbb\xbf", 3) == 0)
        ps.p += 3;
    int64_t count = 0;
    int dim = 0;
    if ((rc = parse_header(&ps, &count, &dim, e)))
        goto done;
    /* every vector takes at least a 1-byte word, a separator and one byte per value
     * (text) or four (binary): a header promising more cannot be right */
    size_t left = (size_t)(ps.end - ps.p);
    if (format == RS_W2V_AUTO)
        format = detect_format(ps.p, ps.end, dim, ps.loc);
    uint64_t min_each = format == RS_W2V_TEXT ? 2u * (uint64_t)dim + 1 : 4u * (uint64_t)dim + 2;
    if ((uint64_t)count > left / min_each + 1) {
        rc = rs_seterr(e, RS_EDATA, "%s: truncated file or wrong header: %lld vectors of "
                       "dimension %d cannot fit in %zu bytes", path, (long long)count, dim, left);
        goto done;
    }
    w = calloc(1, sizeof *w);
    if (!w) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory reading %s", path);
        goto done;
    }
    w->count = count;
    w->dim = dim;
    w->format = format;
    w->words = calloc((size_t)count, sizeof *w->words);
    w->vectors = malloc((size_t)count * (size_t)dim * sizeof *w->vectors);
    if (!w->words || !w->vectors || word_set_init(&set, count)) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory reading %s (%lld x %d)", path,
                       (long long)count, dim);
        goto done;
    }
    rc = format == RS_W2V_TEXT ? read_text(&ps, w, e) : read_binary(&ps, w, map, e);
    if (rc)
        goto done;
    while (ps.p < ps.end && (*ps.p == '\n' || is_space(*ps.p)))
        ps.p++;
    if (ps.p < ps.end) {
        rc = rs_seterr(e, RS_EDATA, "%s: trailing data after the %lld vectors the header "
                       "announces (at byte %zu of %zu): header count wrong?", path,
                       (long long)count, (size_t)(ps.p - (const char *)map), size);
        goto done;
    }
    for (int64_t i = 0; i < count; i++) {
        if (!w->words[i][0]) {
            rc = rs_seterr(e, RS_EDATA, "%s: vector %lld has an empty word", path,
                           (long long)i + 1);
            goto done;
        }
        int64_t first = word_set_add(&set, w->words, i);
        if (first >= 0) {
            rc = rs_seterr(e, RS_EDATA, "%s: duplicate word \"%s\" (vectors %lld and %lld)",
                           path, w->words[i], (long long)first + 1, (long long)i + 1);
            goto done;
        }
    }
done:
    free(set.slot);
    if (ps.loc != (locale_t)0)
        freelocale(ps.loc);
    rs_read_private_free(map, map_cap);
    if (fd >= 0)
        close(fd);
    if (rc)
        rs_w2v_free(w);
    else
        *out = w;
    return rc;
}

/* Words must be non-empty without whitespace. */
static int check_words(const char *name, int64_t count, int dim, const char *const *words,
                       rs_error *e)
{
    if (count < 1 || dim < 1)
        return rs_seterr(e, RS_EUSAGE, "%s: nothing to write (%lld vectors, dim %d)", name,
                         (long long)count, dim);
    for (int64_t i = 0; i < count; i++) {
        const char *wd = words[i];
        if (!wd || !*wd)
            return rs_seterr(e, RS_EUSAGE, "%s: vector %lld has no word", name,
                             (long long)i + 1);
        for (const char *q = wd; *q; q++)
            if (isspace((unsigned char)*q))
                return rs_seterr(e, RS_EUSAGE, "%s: word \"%s\" contains whitespace, which "
                                 "the word2vec formats cannot hold", name, wd);
    }
    return RS_OK;
}

/* The vectors to f; nonzero on a write error (errno set). */
static int write_vectors(FILE *f, rs_w2v_format format, int64_t count, int dim,
                         const char *const *words, const float *vectors)
{
    int bad = fprintf(f, "%lld %d\n", (long long)count, dim) < 0;
    for (int64_t i = 0; i < count && !bad; i++) {
        const float *v = vectors + (size_t)i * (size_t)dim;
        bad |= fputs(words[i], f) < 0;
        if (format == RS_W2V_TEXT) {
            for (int k = 0; k < dim && !bad; k++)
                bad |= fprintf(f, " %.9g", (double)v[k]) < 0;
        } else {
            bad |= fputc(' ', f) == EOF;
#if RS_HOST_BIG_ENDIAN
            for (int k = 0; k < dim && !bad; k++) {
                uint32_t u;
                memcpy(&u, &v[k], 4);
                u = __builtin_bswap32(u);
                bad |= fwrite(&u, 4, 1, f) != 1;
            }
#else
            bad |= fwrite(v, sizeof *v, (size_t)dim, f) != (size_t)dim;
#endif
        }
        bad |= fputc('\n', f) == EOF;
    }
    return bad;
}

int rs_w2v_write_stream(FILE *f, const char *name, rs_w2v_format format, int64_t count,
                        int dim, const char *const *words, const float *vectors, rs_error *e)
{
    if (format != RS_W2V_TEXT && format != RS_W2V_BINARY)
        return rs_seterr(e, RS_EUSAGE, "%s: choose word2vec or word2vec-bin", name);
    int rc = check_words(name, count, dim, words, e);
    if (rc)
        return rc;
    locale_t loc = c_locale();
    if (loc == (locale_t)0)
        return rs_seterr(e, RS_EINTERNAL, "cannot create the C locale");
    locale_t old = uselocale(loc);
    int bad = write_vectors(f, format, count, dim, words, vectors);
    int err = errno;
    uselocale(old);
    freelocale(loc);
    if (!bad && fflush(f) != 0) {
        bad = 1;
        err = errno;
    }
    if (bad)
        return rs_seterr(e, RS_EINTERNAL, "%s: write failed: %s", name, strerror(err));
    return RS_OK;
}

int rs_w2v_write(const char *path, rs_w2v_format format, int64_t count, int dim,
                 const char *const *words, const float *vectors, rs_error *e)
{
    int rc;
    if (format != RS_W2V_TEXT && format != RS_W2V_BINARY)
        return rs_seterr(e, RS_EUSAGE, "%s: choose word2vec or word2vec-bin", path);
    if ((rc = check_words(path, count, dim, words, e)))
        return rc;
    rs_afile *f = NULL;
    if ((rc = rs_afile_open(path, &f, e)))
        return rc;
    if ((rc = rs_w2v_write_stream(rs_afile_stream(f), path, format, count, dim, words,
                                  vectors, e))) {
        rs_afile_abort(f);
        return rc;
    }
    return rs_afile_commit(f, e);
}
