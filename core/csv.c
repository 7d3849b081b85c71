/* csv.c - RFC 4180 reader (see csv.h for the dialect and the error positions). */
#include "csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- files ---------------------------------------------------------------------- */

static void set_body(rs_csv_file *f)
{
    f->body = (f->size >= 3 && memcmp(f->data, "\xEF\xBB\xBF", 3) == 0) ? 3 : 0;
}

int rs_csv_file_open(const char *path, rs_csv_file **out, rs_error *e)
{
    *out = NULL;
    int rc = RS_OK, fd = -1;
    char *buf = NULL;
    rs_csv_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto fail;
    }
    fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = rs_seterr(e, errno == ENOENT ? RS_EUSAGE : RS_EINTERNAL, "%s: cannot open: %s",
                       path, strerror(errno));
        goto fail;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: cannot stat: %s", path, strerror(errno));
        goto fail;
    }
    if (S_ISDIR(sb.st_mode)) {
        rc = rs_seterr(e, RS_EUSAGE, "%s: is a directory, expected a CSV file", path);
        goto fail;
    }
    if (S_ISREG(sb.st_mode) && sb.st_size > 0) {
        void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            /* one advice per call: the values are not flags */
            madvise(m, (size_t)sb.st_size, MADV_SEQUENTIAL);
            f->data = m;
            f->size = (size_t)sb.st_size;
            f->mapped = 1;
            set_body(f);
            goto ok;
        }
    }
    if (!S_ISREG(sb.st_mode)) { /* a pipe, a device, a socket: copied as it is read */
        rs_csv_file_close(f);
        f = NULL;
        rc = rs_csv_file_stream(fd, path, &f, e);
        if (fd != STDIN_FILENO)
            close(fd);
        *out = f;
        return rc;
    }
    /* An empty file, or mmap refused: read it whole (a regular file has an end). */
    size_t cap = 1 << 16, n = 0;
    if (!(buf = malloc(cap))) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto fail;
    }
    for (;;) {
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                rc = rs_seterr(e, RS_EINTERNAL, "%s: out of memory reading the file", path);
                goto fail;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = rs_seterr(e, RS_EINTERNAL, "%s: read error: %s", path, strerror(errno));
            goto fail;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    f->data = buf;
    f->size = n;
    buf = NULL;
    set_body(f);
ok:
    if (fd != STDIN_FILENO)
        close(fd);
    *out = f;
    return RS_OK;
fail:
    if (fd >= 0 && fd != STDIN_FILENO)
        close(fd);
    free(buf);
    rs_csv_file_close(f);
    return rc;
}

int rs_csv_file_wrap(const char *name, const char *data, size_t size, rs_csv_file **out,
                     rs_error *e)
{
    *out = NULL;
    rs_csv_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(name))) {
        free(f);
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    f->data = data;
    f->size = size;
    f->mapped = -1; /* borrowed */
    set_body(f);
    *out = f;
    return RS_OK;
}

void rs_csv_file_release(const rs_csv_file *f, size_t from, size_t to)
{
    if (!f || f->mapped != 1)
        return;
    if (to > f->size)
        to = f->size;
    long ps = sysconf(_SC_PAGESIZE);
    size_t page = ps > 0 ? (size_t)ps : 4096;
    /* the pages that hold [from, to): a page shared with a neighbouring range that is
     * still in use is harmless to drop (it is read again on the next access) */
    size_t a = from / page * page, b = (to + page - 1) / page * page;
    if (b > a)
        madvise((char *)f->data + a, b - a, MADV_DONTNEED);
}

void rs_csv_file_close(rs_csv_file *f)
{
    if (!f)
        return;
    if (f->mapped == 1)
        munmap((void *)f->data, f->size);
    else if (f->mapped == 0)
        free((void *)f->data);
    free(f->path);
    free(f);
}

/* ---- helpers -------------------------------------------------------------------- */

char rs_csv_detect_delim(const char *data, size_t n)
{
    /* candidates in the order that wins a tie */
    static const char CAND[4] = {',', ';', '\t', '|'};
    size_t count[4] = {0, 0, 0, 0};
    int inq = 0;
    for (size_t i = 0; i < n; i++) {
        char c = data[i];
        if (c == '"')
            inq = !inq;
        else if (inq)
            continue;
        else if (c == '\n')
            break;
        else
            for (int k = 0; k < 4; k++)
                count[k] += c == CAND[k];
    }
    int best = 0;
    for (int k = 1; k < 4; k++)
        if (count[k] > count[best])
            best = k;
    return CAND[best];
}

int rs_csv_find(const rs_csv_field *f, size_t nf, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < nf; i++) {
        const char *p = f[i].p;
        size_t n = f[i].n;
        while (n && (*p == ' ' || *p == '\t'))
            p++, n--;
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == len && strncasecmp(p, name, n) == 0)
            return (int)i;
    }
    return -1;
}

int rs_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t k;
        unsigned min;
        if (c >= 0xC2 && c <= 0xDF)
            k = 1, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF)
            k = 2, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4)
            k = 3, min = 0x10000;
        else
            return 0;
        if ((size_t)(end - p) <= k)
            return 0;
        unsigned cp = c & (0x3F >> k);
        for (size_t i = 1; i <= k; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        p += k + 1;
    }
    return 1;
}

/* Drops the pages behind the scan every RELEASE_STEP bytes (rs_csv_file_split). */
#define RELEASE_STEP ((size_t)8 << 20)

static size_t split_impl(const char *buf, size_t start, size_t size, size_t n, size_t *cut,
                         const rs_csv_file *f)
{
    size_t released = start;
    size_t k = 0, pos = start;
    int parity = 0;
    cut[k++] = start;
    for (size_t i = 1; i < n && pos < size; i++) {
        size_t target = start + (size - start) / n * i;
        if (target <= pos)
            continue;
        const char *q;
        while ((q = memchr(buf + pos, '"', target - pos)) != NULL) {
            parity ^= 1;
            pos = (size_t)(q - buf) + 1;
        }
        pos = target;
        /* the first newline at even quote parity is a record end */
        int found = 0;
        while (pos < size) {
            char c = buf[pos++];
            if (c == '"')
                parity ^= 1;
            else if (c == '\n' && !parity) {
                found = 1;
                break;
            }
        }
        if (!found || pos >= size)
            break;
        cut[k++] = pos;
        if (f && pos - released >= RELEASE_STEP) {
            rs_csv_file_release(f, released, pos);
            released = pos;
        }
    }
    cut[k] = size;
    if (f)
        rs_csv_file_release(f, released, size);
    return k;
}

size_t rs_csv_split(const char *buf, size_t start, size_t size, size_t n, size_t *cut)
{
    return split_impl(buf, start, size, n, cut, NULL);
}

size_t rs_csv_file_split(const rs_csv_file *f, size_t start, size_t n, size_t *cut)
{
    return split_impl(f->data, start, f->size, n, cut, f);
}

/* ---- the reader ------------------------------------------------------------------ */

void rs_csv_reader_init(rs_csv_reader *r, const char *buf, size_t start, size_t end, char delim,
                        int64_t first_line)
{
    memset(r, 0, sizeof *r);
    r->base = buf;
    r->p = buf + start;
    r->end = buf + end;
    r->delim = delim;
    r->max_record = RS_CSV_MAX_RECORD;
    r->line = first_line;
    r->line_start = r->p;
    r->special[(unsigned char)delim] = 1;
    r->special['\n'] = 1;
    r->special['"'] = 1;
    r->special[0] = 1; /* NUL: refused (csv_stream.c refuses it in streams too) */
}

void rs_csv_reader_free(rs_csv_reader *r)
{
    free(r->f);
    free(r->scratch);
    r->f = NULL;
    r->scratch = NULL;
    r->nf = r->capf = r->ns = r->caps = 0;
}

void rs_csv_where(const rs_csv_reader *r, const char *raw, int64_t *line, int64_t *col)
{
    const char *ls = r->rec_start ? r->rec_start : r->line_start;
    int64_t l = r->rec_start ? r->rec_line : r->line;
    if (raw < ls) /* not inside the record: count from the reader's line */
        ls = raw;
    for (const char *q = ls; q < raw; q++)
        if (*q == '\n') {
            l++;
            ls = q + 1;
        }
    int64_t c = 1;
    for (const char *q = ls; q < raw; q++)
        c += ((unsigned char)*q & 0xC0) != 0x80;
    *line = l;
    *col = c;
}

int rs_csv_fail(rs_csv_reader *r, const char *raw, const char *fmt, ...)
{
    rs_csv_where(r, raw, &r->err_line, &r->err_col);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err_msg, sizeof r->err_msg, fmt, ap);
    va_end(ap);
    return RS_CSV_ERR;
}

static int scratch_add(rs_csv_reader *r, const char *s, size_t n)
{
    if (r->ns + n > r->caps) {
        size_t cap = r->caps ? r->caps : 4096;
        while (cap < r->ns + n)
            cap *= 2;
        char *ns = realloc(r->scratch, cap);
        if (!ns)
            return -1;
        r->scratch = ns;
        r->caps = cap;
    }
    memcpy(r->scratch + r->ns, s, n);
    r->ns += n;
    return 0;
}

/* The quoted field at *pp (on its opening quote) into fl; *pp ends after the closing
 * quote.  A field with doubled quotes is unescaped into the scratch buffer (its offset
 * is kept, flagged in n's top bit, until the record is complete: scratch may move).
 * Returns RS_CSV_ROW, or an error as rs_csv_read. */
static int read_quoted(rs_csv_reader *r, rs_csv_field *fl, const char **pp, size_t *nscr)
{
    const char *p = *pp, *end = r->end;
    const char delim = r->delim;
    const char *open = p;
    const char *seg = ++p;
    int scr = 0;
    size_t off = r->ns;
    for (;;) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q || (size_t)(q - r->rec_start) > r->max_record) {
            r->p = end;
            if (!q)
                return rs_csv_fail(r, open, "unterminated quote (the quoted field "
                                            "opened here never closes)");
            return rs_csv_fail(r, open, "quoted field opened here runs over %zu MiB "
                                        "(unterminated quote?)",
                               r->max_record >> 20);
        }
        for (const char *nl = p; (nl = memchr(nl, '\n', (size_t)(q - nl))) != NULL;) {
            r->line++;
            r->line_start = ++nl;
        }
        const char *nul = memchr(p, '\0', (size_t)(q - p));
        if (nul) {
            r->p = end;
            return rs_csv_fail(r, nul, "NUL byte (a binary file, not CSV text?)");
        }
        if (q + 1 < end && q[1] == '"') {
            if (scratch_add(r, seg, (size_t)(q + 1 - seg)))
                return RS_CSV_NOMEM;
            scr = 1;
            p = q + 2;
            seg = p;
            continue;
        }
        if (scr) {
            if (scratch_add(r, seg, (size_t)(q - seg)))
                return RS_CSV_NOMEM;
            fl->n = r->ns - off;
            (*nscr)++;
        } else {
            fl->p = seg;
            fl->n = (size_t)(q - seg);
        }
        p = q + 1;
        break;
    }
    if (scr) {
        fl->p = (const char *)(uintptr_t)off;
        fl->n |= (size_t)1 << (sizeof(size_t) * 8 - 1);
    }
    if (p < end && *p != delim && *p != '\n' && !(*p == '\r' && (p + 1 == end || p[1] == '\n'))) {
        r->p = end;
        return rs_csv_fail(r, p, "unexpected character after a closing quote (a quote "
                                 "inside a quoted field must be doubled)");
    }
    *pp = p;
    return RS_CSV_ROW;
}

int rs_csv_read(rs_csv_reader *r)
{
    const char *p = r->p, *end = r->end;
    const char delim = r->delim;
    /* skip empty lines */
    while (p < end) {
        if (*p == '\n')
            p++;
        else if (*p == '\r' && (p + 1 == end || p[1] == '\n'))
            p += (p + 1 == end) ? 1 : 2;
        else
            break;
        r->line++;
        r->line_start = p;
    }
    if (p >= end) {
        r->p = p;
        r->rec_start = NULL;
        return RS_CSV_END;
    }
    r->rec_start = p;
    r->rec_line = r->line;
    r->nf = 0;
    r->ns = 0;
    size_t nscr = 0;
    for (;;) {
        if (r->nf == r->capf) {
            size_t cap = r->capf ? r->capf * 2 : 32;
            rs_csv_field *nf = realloc(r->f, cap * sizeof *nf);
            if (!nf)
                return RS_CSV_NOMEM;
            r->f = nf;
            r->capf = cap;
        }
        rs_csv_field *fl = &r->f[r->nf];
        fl->raw = p;
        if (p < end && *p == '"') {
            int rc = read_quoted(r, fl, &p, &nscr);
            if (rc != RS_CSV_ROW)
                return rc;
        } else {
            const char *s = p;
            const unsigned char *sp = r->special;
            while (p < end && !sp[(unsigned char)*p])
                p++;
            if (p < end && *p == '"') {
                r->p = end;
                return rs_csv_fail(r, p, "quote inside an unquoted field (quote the whole "
                                         "field and double the quote)");
            }
            if (p < end && *p == '\0') {
                r->p = end;
                return rs_csv_fail(r, p, "NUL byte (a binary file, not CSV text?)");
            }
            size_t n = (size_t)(p - s);
            if (n && (p == end || *p == '\n') && s[n - 1] == '\r')
                n--;
            fl->p = s;
            fl->n = n;
        }
        r->nf++;
        if (p < end && *p == delim) {
            p++;
            continue;
        }
        if (p < end && *p == '\r')
            p++;
        if (p < end && *p == '\n') {
            p++;
            r->line++;
            r->line_start = p;
        }
        break;
    }
    r->p = p;
    if ((size_t)(p - r->rec_start) > r->max_record)
        return rs_csv_fail(r, r->rec_start, "record longer than %zu MiB", r->max_record >> 20);
    if (nscr) {
        const size_t flag = (size_t)1 << (sizeof(size_t) * 8 - 1);
        for (size_t i = 0; i < r->nf; i++)
            if (r->f[i].n & flag) {
                r->f[i].n &= ~flag;
                r->f[i].p = r->scratch + (uintptr_t)r->f[i].p;
            }
    }
    return RS_CSV_ROW;
}
