/* csv.h - an RFC 4180 CSV reader over a memory-mapped file (or any buffer).
 *
 * Records end at LF or CRLF; fields are separated by one delimiter byte (',', ';', tab
 * or '|', detected from the header line or forced).  A field that starts with '"' is
 * quoted: it may hold delimiters, newlines and doubled quotes ("" = one quote) and ends
 * at a single quote followed by a delimiter or the end of the record.  A quote inside
 * an unquoted field is an error (RFC 4180 §2.5): this strictness is what lets
 * rs_csv_split() cut a file into chunks for parallel parsing by quote parity alone.
 * Empty lines are skipped.  A UTF-8 byte order mark at the start of a file is ignored.
 *
 * Fields are not copied: a field points into the input, except a quoted field with
 * doubled quotes, which is unescaped into the reader's scratch buffer (valid until the
 * next rs_csv_read()).  Errors carry the line and column (1-based, columns counted in
 * UTF-8 characters) where the problem is; an unterminated quote is reported where the
 * quote opened.
 */
#ifndef RS_CSV_H
#define RS_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* No record may be longer than this (a clean error beyond; usually a runaway quote). */
#define RS_CSV_MAX_RECORD ((size_t)64 << 20)

typedef struct rs_csv_field {
    const char *p;   /* field bytes, not NUL-terminated */
    size_t n;
    const char *raw; /* where the field starts in the input (error positions) */
} rs_csv_field;

/* A whole input file, memory-mapped (or read into memory when it cannot be mapped). */
typedef struct rs_csv_file {
    char *path;
    const char *data; /* size bytes */
    size_t size;
    size_t body;      /* offset of the first byte after a UTF-8 BOM (0 or 3) */
    int mapped;
} rs_csv_file;

/* Opens path ("-" = standard input): a regular file is mapped; a pipe, a device or a
 * socket is read through rs_csv_file_stream. */
int rs_csv_file_open(const char *path, rs_csv_file **out, rs_error *e);
/* Reads the stream fd (not closed) to its end into an unlinked temporary file that is
 * then mapped (csv_stream.c): bounded memory, and a NUL byte or a record longer than
 * RS_CSV_MAX_RECORD stops the reading at once with RS_EDATA "name:line:col: ...". */
int rs_csv_file_stream(int fd, const char *name, rs_csv_file **out, rs_error *e);
/* Wraps a buffer (not copied, not freed) for tests and in-memory data. */
int rs_csv_file_wrap(const char *name, const char *data, size_t size, rs_csv_file **out,
                     rs_error *e);
void rs_csv_file_close(rs_csv_file *f);
/* Drops the mapped pages that hold bytes [from, to) of f from the process's memory
 * (madvise MADV_DONTNEED; a no-op for a file read into memory).  The data stays valid:
 * a later access reads the page again from the page cache.  The importer calls this
 * behind each pass over a big file, so that resident memory does not grow with the
 * file size (mapped file pages count in RSS). */
void rs_csv_file_release(const rs_csv_file *f, size_t from, size_t to);

/* Picks the delimiter among ',', ';', tab and '|': the one that occurs most often
 * outside quotes in the first record from data; a tie goes to the earlier in that order
 * (',' when none occurs). */
char rs_csv_detect_delim(const char *data, size_t n);

typedef struct rs_csv_reader {
    const char *base;  /* the start of the whole buffer (never read before it) */
    const char *p;     /* next byte to read */
    const char *end;   /* end of the range to read */
    char delim;
    size_t max_record;
    int64_t line;      /* line number of p (1-based, counting from the range start) */
    const char *line_start; /* start of the line holding p */
    /* the current record */
    int64_t rec_line;
    const char *rec_start;
    rs_csv_field *f;
    size_t nf, capf;
    char *scratch;
    size_t ns, caps;
    /* the last error */
    int64_t err_line, err_col;
    char err_msg[256];
    unsigned char special[256];
} rs_csv_reader;

/* Reads bytes [start, end) of buf; line numbers start at first_line. */
void rs_csv_reader_init(rs_csv_reader *r, const char *buf, size_t start, size_t end, char delim,
                        int64_t first_line);
void rs_csv_reader_free(rs_csv_reader *r);

enum { RS_CSV_END = 0, RS_CSV_ROW = 1, RS_CSV_ERR = -1, RS_CSV_NOMEM = -2 };
/* Reads the next record into r->f[0..r->nf).  Returns RS_CSV_ROW, RS_CSV_END, or an error
 * (RS_CSV_ERR: r->err_line, r->err_col, r->err_msg describe it). */
int rs_csv_read(rs_csv_reader *r);

/* Line and column of a position inside the current record (for error messages). */
void rs_csv_where(const rs_csv_reader *r, const char *raw, int64_t *line, int64_t *col);
/* Sets the reader's error fields at position raw of the current record and returns
 * RS_CSV_ERR. */
int rs_csv_fail(rs_csv_reader *r, const char *raw, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Cuts [start, size) of buf into at most n chunks that begin at record starts, assuming
 * well-formed quoting (quote parity); writes n+1 boundaries into cut and returns the
 * number of chunks.  A parser must verify that each chunk ends exactly at the next
 * boundary (it does when quoting is well-formed up to there). */
size_t rs_csv_split(const char *buf, size_t start, size_t size, size_t n, size_t *cut);
/* rs_csv_split over [start, f->size) of a file, releasing (rs_csv_file_release) the
 * pages behind the scan as it goes. */
size_t rs_csv_file_split(const rs_csv_file *f, size_t start, size_t n, size_t *cut);

/* Header lookup: index of the first field equal to name (case-insensitive, surrounding
 * blanks ignored), or -1. */
int rs_csv_find(const rs_csv_field *f, size_t nf, const char *name);

/* True when the n bytes are valid UTF-8 (no overlongs, no surrogates). */
int rs_utf8_valid(const char *s, size_t n);

#endif
