/* test_csv.c - the CSV reader (core/csv.c), chunk splitting, SHA-256, timestamps. */
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "import.h"
#include "sha256.h"
#include "testlib.h"
#include "timeutil.h"

/* Reads all records of text (delimiter d, 0 = detect) and returns the number read;
 * the fields of record `want` (0-based) are joined with '|' into out. */
static int read_all(const char *text, size_t n, char d, int want, char *out, size_t outn,
                    int *err, rs_csv_reader *keep)
{
    rs_csv_file *f = NULL;
    rs_error e = {0};
    if (rs_csv_file_wrap("t.csv", text, n, &f, &e))
        return -1;
    if (!d)
        d = rs_csv_detect_delim(f->data + f->body, f->size - f->body);
    rs_csv_reader r;
    rs_csv_reader_init(&r, f->data, f->body, f->size, d, 1);
    int rec = 0, rc;
    out[0] = '\0';
    *err = 0;
    while ((rc = rs_csv_read(&r)) == RS_CSV_ROW) {
        if (rec == want) {
            size_t k = 0;
            for (size_t i = 0; i < r.nf && k + r.f[i].n + 2 < outn; i++) {
                if (i)
                    out[k++] = '|';
                memcpy(out + k, r.f[i].p, r.f[i].n);
                k += r.f[i].n;
            }
            out[k] = '\0';
        }
        rec++;
    }
    if (rc != RS_CSV_END)
        *err = rc;
    if (keep) {
        keep->err_line = r.err_line;
        keep->err_col = r.err_col;
        memcpy(keep->err_msg, r.err_msg, sizeof r.err_msg);
    }
    rs_csv_reader_free(&r);
    rs_csv_file_close(f);
    return rec;
}

static void test_dialect(void)
{
    char out[4096];
    int err;
    const char *t1 = "a,b,c\n1,\"x, y\",3\n";
    CHECK_EQ_INT(read_all(t1, strlen(t1), 0, 1, out, sizeof out, &err, NULL), 2);
    CHECK_STR(out, "1|x, y|3");
    CHECK_EQ_INT(err, 0);

    const char *t2 = "a,b\r\n\"say \"\"hi\"\"\",2\r\n\"multi\nline\",\"\"\r\n";
    CHECK_EQ_INT(read_all(t2, strlen(t2), 0, 1, out, sizeof out, &err, NULL), 3);
    CHECK_STR(out, "say \"hi\"|2");
    read_all(t2, strlen(t2), 0, 2, out, sizeof out, &err, NULL);
    CHECK_STR(out, "multi\nline|");

    /* CRLF without quotes: no stray CR at the end of the last field */
    const char *t3 = "a,b\r\n1,2\r\n";
    read_all(t3, strlen(t3), 0, 1, out, sizeof out, &err, NULL);
    CHECK_STR(out, "1|2");

    /* BOM, semicolons, empty lines, no final newline */
    const char *t4 = "\xEF\xBB\xBFid;name\n\n1;\"a;b\"\n\n2;c";
    CHECK_EQ_INT(read_all(t4, strlen(t4), 0, 0, out, sizeof out, &err, NULL), 3);
    CHECK_STR(out, "id|name");
    read_all(t4, strlen(t4), 0, 1, out, sizeof out, &err, NULL);
    CHECK_STR(out, "1|a;b");
    read_all(t4, strlen(t4), 0, 2, out, sizeof out, &err, NULL);
    CHECK_STR(out, "2|c");

    /* delimiter detection */
    CHECK_EQ_INT(rs_csv_detect_delim("a,b,c\n", 6), ',');
    CHECK_EQ_INT(rs_csv_detect_delim("a;b;c\n", 6), ';');
    CHECK_EQ_INT(rs_csv_detect_delim("a\tb\tc,d\n", 8), '\t');
    CHECK_EQ_INT(rs_csv_detect_delim("\"a,b,c\";d;e\n", 12), ';'); /* quoted commas don't count */
    CHECK_EQ_INT(rs_csv_detect_delim("single\n", 7), ',');
    const char *t5 = "x\ty\n1\t\"2\t3\"\n";
    read_all(t5, strlen(t5), 0, 1, out, sizeof out, &err, NULL);
    CHECK_STR(out, "1|2\t3");
    /* forced delimiter: commas are data */
    const char *t6 = "a;b\n1,5;2\n";
    read_all(t6, strlen(t6), ';', 1, out, sizeof out, &err, NULL);
    CHECK_STR(out, "1,5|2");

    /* trailing delimiter = an empty last field */
    const char *t7 = "a,b,\n";
    CHECK_EQ_INT(read_all(t7, strlen(t7), ',', 0, out, sizeof out, &err, NULL), 1);
    CHECK_STR(out, "a|b|");

    /* header lookup: case-insensitive, blanks trimmed */
    rs_csv_field h[3] = {{"Receipt_ID", 10, NULL}, {" Product_Id ", 12, NULL}, {"x", 1, NULL}};
    CHECK_EQ_INT(rs_csv_find(h, 3, "receipt_id"), 0);
    CHECK_EQ_INT(rs_csv_find(h, 3, "product_id"), 1);
    CHECK_EQ_INT(rs_csv_find(h, 3, "city"), -1);
}

static void test_errors(void)
{
    char out[256];
    int err;
    rs_csv_reader r;
    /* unterminated quote: reported where it opened (line 3, column 5) */
    const char *t1 = "a,b\n1,2\nxyz,\"open\nmore\nstill\n";
    read_all(t1, strlen(t1), ',', 9, out, sizeof out, &err, &r);
    CHECK_EQ_INT(err, RS_CSV_ERR);
    CHECK_EQ_INT(r.err_line, 3);
    CHECK_EQ_INT(r.err_col, 5);
    CHECK(strstr(r.err_msg, "unterminated quote") != NULL);

    /* columns count characters, not bytes: "ä" is one column */
    const char *t2 = "a,b\n\xC3\xA4x,y\"z\n";
    read_all(t2, strlen(t2), ',', 9, out, sizeof out, &err, &r);
    CHECK_EQ_INT(err, RS_CSV_ERR);
    CHECK_EQ_INT(r.err_line, 2);
    CHECK_EQ_INT(r.err_col, 5);
    CHECK(strstr(r.err_msg, "quote inside an unquoted field") != NULL);

    /* a character after a closing quote, after a multi-line field */
    const char *t3 = "a,b\n\"x\ny\"z,1\n";
    read_all(t3, strlen(t3), ',', 9, out, sizeof out, &err, &r);
    CHECK_EQ_INT(err, RS_CSV_ERR);
    CHECK_EQ_INT(r.err_line, 3);
    CHECK_EQ_INT(r.err_col, 3);

    /* long fields: 2 MiB is fine; a record over the limit is a clean error */
    size_t big = (size_t)2 << 20;
    char *t4 = malloc(big + 64);
    CHECK(t4 != NULL);
    if (t4) {
        memcpy(t4, "id,text\n1,\"", 11);
        memset(t4 + 11, 'x', big);
        memcpy(t4 + 11 + big, "\"\n2,y\n", 6);
        char tail[64];
        CHECK_EQ_INT(read_all(t4, big + 17, ',', 2, tail, sizeof tail, &err, NULL), 3);
        CHECK_EQ_INT(err, 0);
        CHECK_STR(tail, "2|y");
        /* the same with a 1 MiB limit */
        rs_csv_reader rr;
        rs_csv_reader_init(&rr, t4, 0, big + 17, ',', 1);
        rr.max_record = (size_t)1 << 20;
        CHECK_EQ_INT(rs_csv_read(&rr), RS_CSV_ROW);
        CHECK_EQ_INT(rs_csv_read(&rr), RS_CSV_ERR);
        CHECK_EQ_INT(rr.err_line, 2);
        CHECK_EQ_INT(rr.err_col, 3);
        CHECK(strstr(rr.err_msg, "MiB") != NULL);
        rs_csv_reader_free(&rr);
        /* unquoted long line over the limit */
        memset(t4, 'y', big);
        memcpy(t4 + big, "\n", 1);
        rs_csv_reader_init(&rr, t4, 0, big + 1, ',', 1);
        rr.max_record = (size_t)1 << 20;
        CHECK_EQ_INT(rs_csv_read(&rr), RS_CSV_ERR);
        CHECK_EQ_INT(rr.err_line, 1);
        CHECK_EQ_INT(rr.err_col, 1);
        rs_csv_reader_free(&rr);
        free(t4);
    }
}

/* Splitting into chunks gives the same records as one sequential pass. */
static void test_split(void)
{
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    CHECK(buf != NULL);
    if (!buf)
        return;
    n += (size_t)snprintf(buf, cap, "id,text\n");
    for (int i = 0; i < 5000; i++)
        n += (size_t)snprintf(buf + n, cap - n,
                              i % 7 == 0 ? "%d,\"multi\nline \"\"%d\"\"\"\r\n" : "%d,plain %d\n", i,
                              i);
    rs_csv_reader r;
    rs_csv_reader_init(&r, buf, 0, n, ',', 1);
    int total = 0;
    while (rs_csv_read(&r) == RS_CSV_ROW)
        total++;
    int64_t lines = r.line;
    rs_csv_reader_free(&r);
    CHECK_EQ_INT(total, 5001);

    size_t cut[65];
    size_t k = rs_csv_split(buf, 8, n, 64, cut);
    CHECK(k > 30);
    CHECK_EQ_INT(cut[0], 8);
    CHECK_EQ_INT(cut[k], n);
    int sum = 0, ends_ok = 1;
    int64_t nl = 1;
    for (size_t i = 0; i < k; i++) {
        rs_csv_reader_init(&r, buf, cut[i], cut[i + 1], ',', 1);
        while (rs_csv_read(&r) == RS_CSV_ROW)
            sum++;
        if (r.p != buf + cut[i + 1])
            ends_ok = 0;
        nl += r.line - 1;
        rs_csv_reader_free(&r);
    }
    CHECK_EQ_INT(sum, 5000);
    CHECK(ends_ok);
    CHECK_EQ_INT(nl + 1, lines); /* the header line is not in the chunks */
    free(buf);
}

static void test_sha256(void)
{
    char hex[65];
    rs_sha256_hex("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    rs_sha256_hex("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    rs_sha256_hex(m, strlen(m), hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* CPU instructions and portable code agree on every length and split */
    static unsigned char buf[3000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    int same = 1;
    for (size_t n = 0; n < sizeof buf; n += 53) {
        rs_sha256 a, b;
        unsigned char da[32], db[32];
        rs_sha256_init(&a);
        rs_sha256_init_portable(&b);
        rs_sha256_update(&a, buf, n / 3);
        rs_sha256_update(&a, buf + n / 3, n - n / 3);
        rs_sha256_update(&b, buf, n);
        rs_sha256_final(&a, da);
        rs_sha256_final(&b, db);
        same &= memcmp(da, db, 32) == 0;
    }
    CHECK(same);
}

static void test_time(void)
{
    int64_t t = 0;
    CHECK_EQ_INT(rs_parse_time("1700000000", 10, &t), 0);
    CHECK_EQ_INT(t, 1700000000);
    CHECK_EQ_INT(rs_parse_time("1433221332117", 13, &t), 0); /* milliseconds */
    CHECK_EQ_INT(t, 1433221332);
    CHECK_EQ_INT(rs_parse_time("2024-01-02", 10, &t), 0);
    CHECK_EQ_INT(t, 1704153600);
    CHECK_EQ_INT(rs_parse_time("2024-01-02 10:00", 16, &t), 0);
    CHECK_EQ_INT(t, 1704189600);
    CHECK_EQ_INT(rs_parse_time("2024-01-02T10:00:30Z", 20, &t), 0);
    CHECK_EQ_INT(t, 1704189630);
    CHECK_EQ_INT(rs_parse_time("2024-01-02T12:00:30+02:00", 25, &t), 0);
    CHECK_EQ_INT(t, 1704189630);
    CHECK_EQ_INT(rs_parse_time("12/1/2010 8:26", 14, &t), 0); /* Online Retail */
    CHECK_EQ_INT(t, 1291191960);
    CHECK_EQ_INT(rs_parse_time("2009-12-01 07:45:00", 19, &t), 0);
    CHECK_EQ_INT(t, 1259653500);
    CHECK(rs_parse_time("yesterday", 9, &t) != 0);
    CHECK(rs_parse_time("2024-13-01", 10, &t) != 0);
    CHECK(rs_parse_time("2024-01-02 10", 13, &t) != 0);
    CHECK(rs_parse_time("", 0, &t) != 0);
    CHECK(rs_utf8_valid("caf\xC3\xA9", 5));
    CHECK(!rs_utf8_valid("caf\xE9", 4));
    CHECK(!rs_utf8_valid("\xC0\xAF", 2));      /* overlong */
    CHECK(!rs_utf8_valid("\xED\xA0\x80", 3));  /* surrogate */
}

int main(void)
{
    test_dialect();
    test_errors();
    test_split();
    test_sha256();
    test_time();
    return test_summary();
}
