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

/* rs_parse_time with the default unit (seconds). */
static int pt(const char *s, int64_t *t) { return rs_parse_time(s, strlen(s), RS_TIME_SECONDS, t, NULL); }

static void test_time(void)
{
    int64_t t = 0;
    CHECK_EQ_INT(pt("1700000000", &t), 0);
    CHECK_EQ_INT(t, 1700000000);
    CHECK_EQ_INT(rs_parse_time("1433221332117", 13, RS_TIME_MILLIS, &t, NULL), 0);
    CHECK_EQ_INT(t, 1433221332);
    CHECK_EQ_INT(pt("2024-01-02", &t), 0);
    CHECK_EQ_INT(t, 1704153600);
    CHECK_EQ_INT(pt("2024-01-02 10:00", &t), 0);
    CHECK_EQ_INT(t, 1704189600);
    CHECK_EQ_INT(pt("2024-01-02T10:00:30Z", &t), 0);
    CHECK_EQ_INT(t, 1704189630);
    CHECK_EQ_INT(pt("2024-01-02T12:00:30+02:00", &t), 0);
    CHECK_EQ_INT(t, 1704189630);
    CHECK_EQ_INT(pt("12/1/2010 8:26", &t), 0); /* Online Retail */
    CHECK_EQ_INT(t, 1291191960);
    CHECK_EQ_INT(pt("2009-12-01 07:45:00", &t), 0);
    CHECK_EQ_INT(t, 1259653500);
    CHECK(pt("yesterday", &t) != 0);
    CHECK(pt("2024-13-01", &t) != 0);
    CHECK(pt("2024-01-02 10", &t) != 0);
    CHECK(pt("", &t) != 0);
}

/* Issue 11 item 8: no unit guessing, invalid dates and overflow refused with a reason,
 * the accepted range and forms exactly as documented in timeutil.h. */
static void i11_08_timestamps(void)
{
    int64_t t = 42;
    const char *why = NULL;
    /* 12 and 13 digits are not taken as milliseconds: out of range as seconds */
    CHECK(rs_parse_time("200000000000", 12, RS_TIME_SECONDS, &t, &why) != 0);
    CHECK(why && strstr(why, "out of range"));
    CHECK(pt("1433221332117", &t) != 0);
    CHECK_EQ_INT(rs_parse_time("200000000000", 12, RS_TIME_MILLIS, &t, NULL), 0);
    CHECK_EQ_INT(t, 200000000); /* 1976-05-03, only when asked for */
    /* overflow: no saturation */
    CHECK(pt("99999999999999999999999", &t) != 0);
    CHECK(pt("-9223372036854775809", &t) != 0);
    CHECK(pt("7258118400", &t) != 0);  /* 2200-01-01: the end, exclusive */
    CHECK_EQ_INT(pt("7258118399", &t), 0);
    CHECK_EQ_INT(pt("-2208988800", &t), 0); /* 1900-01-01 */
    CHECK(pt("-2208988801", &t) != 0);
    /* dates that do not exist */
    why = NULL;
    CHECK(rs_parse_time("2025-02-30", 10, RS_TIME_SECONDS, &t, &why) != 0);
    CHECK(why && strstr(why, "no such day"));
    CHECK(pt("2025-02-29", &t) != 0);
    CHECK_EQ_INT(pt("2024-02-29", &t), 0);
    CHECK(pt("1900-02-29", &t) != 0);
    CHECK_EQ_INT(pt("2000-02-29", &t), 0);
    CHECK(pt("2025-04-31", &t) != 0);
    CHECK(pt("2/30/2025 10:00", &t) != 0);
    CHECK(pt("2025-01-00", &t) != 0);
    CHECK(pt("2025-01-02 24:00", &t) != 0);
    CHECK(pt("2025-01-02 10:60", &t) != 0);
    CHECK(pt("2025-01-02 10:00:61", &t) != 0);
    CHECK(pt("2025-01-02T10:00+15:00", &t) != 0);
    CHECK(pt("2025-01-02 10:00 junk", &t) != 0);
    CHECK(pt("2250-01-01", &t) != 0);
    CHECK(pt("1899-12-31", &t) != 0);
    /* R's float seconds (item 18): the fraction is dropped, rounding down */
    CHECK_EQ_INT(pt("1485630413.0", &t), 0);
    CHECK_EQ_INT(t, 1485630413);
    CHECK_EQ_INT(pt("1485630413.75", &t), 0);
    CHECK_EQ_INT(t, 1485630413);
    CHECK_EQ_INT(pt("-1.5", &t), 0);
    CHECK_EQ_INT(t, -2);
    CHECK(pt("1.", &t) != 0);
    CHECK(pt("1e9", &t) != 0);
    CHECK_EQ_INT(rs_parse_time("1433221332117.0", 15, RS_TIME_MILLIS, &t, NULL), 0);
    CHECK_EQ_INT(t, 1433221332);
    CHECK_EQ_INT(rs_parse_time("-1", 2, RS_TIME_MILLIS, &t, NULL), 0);
    CHECK_EQ_INT(t, -1);
    char buf[32];
    rs_time_format(1704189630, buf, sizeof buf);
    CHECK_STR(buf, "2024-01-02 10:00:30");
    rs_time_format(-1, buf, sizeof buf);
    CHECK_STR(buf, "1969-12-31 23:59:59");
    /* days: both directions agree over the whole range */
    int ok = 1;
    for (int64_t z = RS_TIME_MIN / 86400; z < RS_TIME_END / 86400; z += 37) {
        int y;
        unsigned m, d;
        rs_civil_from_days(z, &y, &m, &d);
        ok &= rs_days_from_civil(y, m, d) == z;
    }
    CHECK(ok);
}

/* Issue 11 item 17: '|' is detected like ',', ';' and tab (documented in --help). */
static void i11_17_pipe_delimiter(void)
{
    const char *a = "receipt_id|product_id|city\nr1|p1|Berlin\n";
    CHECK_EQ_INT(rs_csv_detect_delim(a, strlen(a)), '|');
    const char *b = "a,b|c\n";      /* a tie goes to ',' */
    CHECK_EQ_INT(rs_csv_detect_delim(b, strlen(b)), ',');
    const char *c = "\"a|b|c\",d,e\n"; /* inside quotes it does not count */
    CHECK_EQ_INT(rs_csv_detect_delim(c, strlen(c)), ',');
    const char *d = "a;b|c|d\n";
    CHECK_EQ_INT(rs_csv_detect_delim(d, strlen(d)), '|');
    const char *t = "a\tb\tc|d\n";
    CHECK_EQ_INT(rs_csv_detect_delim(t, strlen(t)), '\t');
    rs_csv_reader r;
    rs_csv_reader_init(&r, a, 0, strlen(a), '|', 1);
    CHECK_EQ_INT(rs_csv_read(&r), RS_CSV_ROW);
    CHECK_EQ_INT(r.nf, 3);
    CHECK_EQ_INT(rs_csv_read(&r), RS_CSV_ROW);
    CHECK(r.nf == 3 && r.f[2].n == 6 && memcmp(r.f[2].p, "Berlin", 6) == 0);
    rs_csv_reader_free(&r);
}

static void test_utf8(void)
{
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
    i11_08_timestamps();
    i11_17_pipe_delimiter();
    test_utf8();
    return test_summary();
}
