/* csv_stream.c - pipes, devices and sockets as CSV files (csv.h).
 *
 * The importer cuts a file into chunks for its parser threads and drops the pages behind
 * it, which needs the whole file addressable: a stream is therefore copied, as it is
 * read, into an unlinked temporary file (in $TMPDIR, else /tmp) that is then mapped like
 * a regular file.  Resident memory stays bounded (one 1 MiB buffer; the copy lives in the
 * page cache, and its pages are dropped behind the parse like a regular file's).  While
 * copying, what the reader would refuse is refused at once instead of after reading the
 * rest of an endless stream: a NUL byte (`import /dev/zero` stops at 1:1) and a record
 * longer than RS_CSV_MAX_RECORD (a 1 GB line stops after 64 MiB), each with its
 * line:column.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"

#define BLOCK ((size_t)1 << 20)

/* An unlinked temporary file for the copy; -1 with errno on failure. */
static int temp_file(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
#endif
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/recoscope-stream-XXXXXX", dir) >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int t = mkostemp(path, O_CLOEXEC);
    if (t >= 0)
        unlink(path);
    return t;
}

/* Where the stream is: the line and column (in UTF-8 characters) of the next byte, the
 * quote parity, where the current record began. */
typedef struct scan {
    uint64_t pos, rec_start;
    int64_t line, col, rec_line, rec_col;
    int inq;
} scan;

/* Scans one block.  Returns 0, or -1 with *what and the position of the problem in
 * *line, *col. */
static int scan_block(scan *s, const unsigned char *b, size_t n, const char **what,
                      int64_t *line, int64_t *col)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = b[i];
        if (c == 0) {
            *what = "NUL byte (a binary file, not CSV text?)";
            *line = s->line;
            *col = s->col;
            return -1;
        }
        if (s->pos + i - s->rec_start > RS_CSV_MAX_RECORD) {
            *what = "record longer than 64 MiB (unterminated quote?); reading stopped";
            *line = s->rec_line;
            *col = s->rec_col;
            return -1;
        }
        if (c == '"')
            s->inq = !s->inq;
        if (c == '\n') {
            s->line++;
            s->col = 1;
            if (!s->inq) {
                s->rec_start = s->pos + i + 1;
                s->rec_line = s->line;
                s->rec_col = 1;
            }
        } else if ((c & 0xC0) != 0x80)
            s->col++;
    }
    s->pos += n;
    return 0;
}

/* Writes all of b to fd. */
static int write_all(int fd, const char *b, size_t n)
{
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Copies fd into the temporary file t, checking as it goes; *size = the bytes copied. */
static int copy_checked(int fd, int t, const char *name, char *buf, size_t *size, rs_error *e)
{
    scan s = {0, 0, 1, 1, 1, 1, 0};
    for (;;) {
        ssize_t got = read(fd, buf, BLOCK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return rs_seterr(e, RS_EINTERNAL, "%s: read error: %s", name, strerror(errno));
        if (got == 0)
            break;
        const char *what;
        int64_t line, col;
        if (scan_block(&s, (const unsigned char *)buf, (size_t)got, &what, &line, &col))
            return rs_seterr(e, RS_EDATA, "%s:%lld:%lld: %s", name, (long long)line,
                             (long long)col, what);
        if (write_all(t, buf, (size_t)got))
            return rs_seterr(e, RS_EINTERNAL, "%s: cannot copy the stream to a temporary "
                                              "file: %s", name, strerror(errno));
    }
    *size = (size_t)s.pos;
    return RS_OK;
}

int rs_csv_file_stream(int fd, const char *name, rs_csv_file **out, rs_error *e)
{
    *out = NULL;
    int rc = RS_OK, t = -1;
    char *buf = NULL;
    size_t size = 0;
    rs_csv_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(name)) || !(buf = malloc(BLOCK))) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    if ((t = temp_file()) < 0) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: cannot create a temporary file for the stream: %s",
                       name, strerror(errno));
        goto done;
    }
    if ((rc = copy_checked(fd, t, name, buf, &size, e)))
        goto done;
    if (size == 0) { /* an empty stream: an empty buffer */
        f->data = buf;
        buf = NULL;
        f->mapped = 0;
        goto done;
    }
    void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, t, 0);
    if (m == MAP_FAILED) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: cannot map the copy of the stream: %s", name,
                       strerror(errno));
        goto done;
    }
    madvise(m, size, MADV_SEQUENTIAL);
    f->data = m;
    f->size = size;
    f->mapped = 1;
done:
    if (t >= 0)
        close(t); /* the mapping keeps the unlinked copy until it is unmapped */
    free(buf);
    if (rc) {
        rs_csv_file_close(f);
        return rc;
    }
    f->body = (f->size >= 3 && memcmp(f->data, "\xEF\xBB\xBF", 3) == 0) ? 3 : 0;
    *out = f;
    return RS_OK;
}
