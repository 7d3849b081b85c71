/* fuzz_csv.c - the CSV reader on arbitrary bytes.
 *
 * Byte 0 picks the delimiter (detected, ',', ';', tab) and whether the first record is
 * taken as a header and looked up like the importer does (header mapping); the rest is
 * the file.  Also cuts the buffer with rs_csv_split and checks the chunk boundaries.
 * Invariants: every field lies inside the input or the reader's scratch buffer; errors
 * carry a positive line and column.  Bit 4 of byte 0 also reads the bytes as a stream
 * through a pipe (rs_csv_file_stream, issue 11 item 13): it must give back exactly the
 * bytes, or refuse them with RS_EDATA and a position exactly when they hold a NUL byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "fuzz_common.h"
#include "fuzz_stream.h"

static void check_fields(const rs_csv_reader *r, const char *buf, size_t size)
{
    for (size_t i = 0; i < r->nf; i++) {
        const rs_csv_field *f = &r->f[i];
        int in_buf = f->p >= buf && f->p + f->n <= buf + size;
        int in_scratch = r->scratch && f->p >= r->scratch && f->p + f->n <= r->scratch + r->ns;
        if (!in_buf && !in_scratch && f->n)
            abort();
        if (!(f->raw >= buf && f->raw <= buf + size))
            abort();
        volatile unsigned char sum = 0;
        for (size_t k = 0; k < f->n; k++)
            sum ^= (unsigned char)f->p[k];
        (void)sum;
        (void)rs_utf8_valid(f->p, f->n);
    }
}

static void check_stream(const char *buf, size_t n)
{
    fuzz_stream fs;
    fuzz_stream_begin(&fs, (const uint8_t *)buf, n);
    rs_csv_file *f = NULL;
    rs_error e;
    int rc = rs_csv_file_stream(fs.rfd, "stream", &f, &e);
    fuzz_stream_end(&fs);
    int has_nul = n && memchr(buf, 0, n) != NULL;
    if (rc == RS_OK) {
        if (has_nul || f->size != n || (n && memcmp(f->data, buf, n) != 0))
            abort();
        rs_csv_file_close(f);
    } else if (rc != RS_EDATA || !has_nul || strncmp(e.msg, "stream:", 7) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0];
    /* an exact-size heap copy, so ASan sees any read past the end */
    size_t n = size - 1;
    char *buf = malloc(n ? n : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, n);

    rs_error e;
    rs_csv_file *f = NULL;
    if (rs_csv_file_wrap("fuzz.csv", buf, n, &f, &e) != RS_OK) {
        free(buf);
        return 0;
    }
    static const char delims[4] = {0, ',', ';', '\t'};
    char delim = delims[mode & 3];
    if (!delim)
        delim = rs_csv_detect_delim(f->data + f->body, f->size - f->body);
    if (delim != ',' && delim != ';' && delim != '\t' && delim != '|')
        abort();

    rs_csv_reader r;
    rs_csv_reader_init(&r, f->data, f->body, f->size, delim, 1);
    if (mode & 4)
        r.max_record = 64; /* exercise the record-length limit */
    int header = (mode & 8) != 0;
    int64_t rows = 0;
    for (;;) {
        int rc = rs_csv_read(&r);
        if (rc == RS_CSV_END || rc == RS_CSV_NOMEM)
            break;
        if (rc == RS_CSV_ERR) {
            if (r.err_line < 1 || r.err_col < 1 || !memchr(r.err_msg, 0, sizeof r.err_msg))
                abort();
            break;
        }
        if (rc != RS_CSV_ROW)
            abort();
        check_fields(&r, buf, n);
        if (header && rows == 0) {
            static const char *const names[] = {"receipt_id", "product_id", "city", "quantity",
                                                "timestamp", "customer_id", "name", "category"};
            for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
                int c = rs_csv_find(r.f, r.nf, names[k]);
                if (c < -1 || c >= (int)r.nf)
                    abort();
            }
        } else if (r.nf) {
            int64_t line, col;
            rs_csv_where(&r, r.f[r.nf - 1].raw, &line, &col);
            if (line < 1 || col < 1)
                abort();
        }
        rows++;
    }
    rs_csv_reader_free(&r);

    /* chunking: boundaries are increasing and inside the body */
    size_t cut[9];
    size_t chunks = rs_csv_split(f->data, f->body, f->size, 1 + (mode >> 5), cut);
    if (chunks < 1 || chunks > 8)
        abort();
    if (cut[0] != f->body || cut[chunks] != f->size)
        abort();
    for (size_t i = 0; i < chunks; i++) {
        if (cut[i] > cut[i + 1])
            abort();
        rs_csv_reader_init(&r, f->data, cut[i], cut[i + 1], delim, 1);
        for (int k = 0; k < 100000; k++) {
            int rc = rs_csv_read(&r);
            if (rc != RS_CSV_ROW)
                break;
            check_fields(&r, buf, n);
        }
        rs_csv_reader_free(&r);
    }
    rs_csv_file_close(f);
    if (mode & 16)
        check_stream(buf, n);
    free(buf);
    return 0;
}
