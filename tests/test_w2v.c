/* test_w2v.c - word2vec text/binary: round trips, format detection, every error the
 * reader must name, and files written by gensim (when python3-gensim is installed). */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "testlib.h"
#include "w2v_format.h"

static const char *const WORDS[4] = {"24852", "13176", "p\303\251che", "x_1"};

static void fill(float *v, int n)
{
    for (int i = 0; i < n; i++)
        v[i] = (float)sin(i * 1.7 + 0.3) * (i % 3 ? 1e-3f : 17.0f) + (i == 5 ? 1e-38f : 0);
}

static void expect_error(const char *path, rs_w2v_format f, int code, const char *needle)
{
    rs_w2v *w = NULL;
    rs_error e = {0};
    int rc = rs_w2v_read(path, f, &w, &e);
    if (rc != code || w || !strstr(e.msg, needle) || !strstr(e.msg, path))
        test_fail_at(__FILE__, __LINE__, "%s: rc %d \"%s\", wanted %d \"%s\"", path, rc, e.msg,
                     code, needle);
    else
        test_passed++;
    rs_w2v_free(w);
}

static void test_round_trip(void)
{
    const char *dir = test_tmpdir();
    float v[4 * 7];
    fill(v, 28);
    const rs_w2v_format fmts[2] = {RS_W2V_TEXT, RS_W2V_BINARY};
    for (int k = 0; k < 2; k++) {
        char path[512];
        snprintf(path, sizeof path, "%s/rt%d.w2v", dir, k);
        rs_error e = {0};
        CHECK_EQ_INT(rs_w2v_write(path, fmts[k], 4, 7, WORDS, v, &e), RS_OK);
        for (int mode = 0; mode < 2; mode++) { /* explicit and auto-detected */
            rs_w2v *w = NULL;
            CHECK_EQ_INT(rs_w2v_read(path, mode ? RS_W2V_AUTO : fmts[k], &w, &e), RS_OK);
            if (!w)
                continue;
            CHECK_EQ_INT(w->count, 4);
            CHECK_EQ_INT(w->dim, 7);
            CHECK_EQ_INT(w->format, fmts[k]);
            for (int i = 0; i < 4; i++)
                CHECK_STR(w->words[i], WORDS[i]);
            CHECK(memcmp(w->vectors, v, sizeof v) == 0); /* bit-identical, text too */
            rs_w2v_free(w);
        }
    }
    /* the text header and first line, as other tools expect them */
    char path[512];
    snprintf(path, sizeof path, "%s/rt0.w2v", dir);
    FILE *f = fopen(path, "r");
    char line[512] = "";
    CHECK(f && fgets(line, sizeof line, f));
    CHECK_STR(line, "4 7\n");
    CHECK(f && fgets(line, sizeof line, f));
    CHECK(strncmp(line, "24852 0.", 8) == 0 || strncmp(line, "24852 5.", 8) == 0);
    if (f)
        fclose(f);
    /* words the format cannot hold */
    const char *const bad[1] = {"two words"};
    rs_error e = {0};
    CHECK_EQ_INT(rs_w2v_write(path, RS_W2V_TEXT, 1, 7, bad, v, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "whitespace") != NULL);
    rs_w2v_format fmt;
    CHECK_EQ_INT(rs_w2v_format_parse("word2vec-bin", &fmt), RS_OK);
    CHECK_EQ_INT(fmt, RS_W2V_BINARY);
    CHECK_EQ_INT(rs_w2v_format_parse("glove", &fmt), RS_EUSAGE);
}

static void test_locale_independent(void)
{
    /* a decimal-comma locale must not change what is written or read */
    if (!setlocale(LC_NUMERIC, "de_DE.UTF-8") && !setlocale(LC_NUMERIC, "fr_FR.UTF-8"))
        return;
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/loc.w2v", dir);
    float v[2] = {0.5f, -1.25f};
    const char *const w1[1] = {"a"};
    rs_error e = {0};
    CHECK_EQ_INT(rs_w2v_write(path, RS_W2V_TEXT, 1, 2, w1, v, &e), RS_OK);
    rs_w2v *w = NULL;
    CHECK_EQ_INT(rs_w2v_read(path, RS_W2V_AUTO, &w, &e), RS_OK);
    if (w)
        CHECK(w->vectors[0] == 0.5f && w->vectors[1] == -1.25f);
    rs_w2v_free(w);
    setlocale(LC_NUMERIC, "C");
}

static void test_errors(void)
{
    const char *dir = test_tmpdir();
    expect_error(test_write_file(dir, "h1", "3\na 1 2\n"), RS_W2V_AUTO, RS_EDATA, "bad header");
    expect_error(test_write_file(dir, "h2", "x y\n"), RS_W2V_AUTO, RS_EDATA, "bad header");
    expect_error(test_write_file(dir, "h3", "2 0\n"), RS_W2V_AUTO, RS_EDATA, "dimension 0");
    expect_error(test_write_file(dir, "h4", ""), RS_W2V_AUTO, RS_EDATA, "empty file");
    /* wrong dimension on a line, with its line number */
    expect_error(test_write_file(dir, "d1", "2 3\na 1 2 3\nb 1 2\n"), RS_W2V_TEXT, RS_EDATA,
                 ":3: word \"b\" has 2 values, the header says dimension 3");
    expect_error(test_write_file(dir, "d2", "2 3\na 1 2 3\nb 1 2 3 4\n"), RS_W2V_TEXT,
                 RS_EDATA, "has 4 values");
    /* NaN / Inf / junk */
    expect_error(test_write_file(dir, "n1", "2 2\na 1 2\nb nan 2\n"), RS_W2V_TEXT, RS_EDATA,
                 ":3: word \"b\": value 1 is NaN");
    expect_error(test_write_file(dir, "n2", "1 2\na 1 -inf\n"), RS_W2V_TEXT, RS_EDATA,
                 "value 2 is infinite");
    expect_error(test_write_file(dir, "n3", "1 2\na 1 1e99\n"), RS_W2V_TEXT, RS_EDATA,
                 "infinite");
    expect_error(test_write_file(dir, "n4", "1 2\na 1 1.5x\n"), RS_W2V_TEXT, RS_EDATA,
                 "\"1.5x\" is not a number");
    /* duplicates, truncation, trailing data */
    expect_error(test_write_file(dir, "u1", "3 1\na 1\nb 2\na 3\n"), RS_W2V_TEXT, RS_EDATA,
                 "duplicate word \"a\" (vectors 1 and 3)");
    expect_error(test_write_file(dir, "t1", "3 2\na 1 2\nb 1 2\n"), RS_W2V_TEXT, RS_EDATA,
                 "the header says 3 vectors, the file ends after 2");
    expect_error(test_write_file(dir, "t2", "1000000 2\na 1 2\n"), RS_W2V_TEXT, RS_EDATA,
                 "cannot fit");
    expect_error(test_write_file(dir, "x1", "1 2\na 1 2\nb 3 4\n"), RS_W2V_TEXT, RS_EDATA,
                 "trailing data");
    /* a trailing space per line (word2vec.c writes one) and CRLF are fine */
    rs_w2v *w = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_w2v_read(test_write_file(dir, "ok", "2 2\r\na 1 2 \r\nb 3 4 \r\n"),
                             RS_W2V_AUTO, &w, &e), RS_OK);
    if (w)
        CHECK(w->format == RS_W2V_TEXT && w->vectors[3] == 4.0f);
    rs_w2v_free(w);
    expect_error("/nonexistent/v.txt", RS_W2V_AUTO, RS_EUSAGE, "cannot open");

    /* binary: a vector cut short, a NaN, a word without its space */
    char path[512];
    snprintf(path, sizeof path, "%s/b.bin", dir);
    float v[4] = {1, 2, 3, 4};
    const char *const w2[2] = {"a", "b"};
    CHECK_EQ_INT(rs_w2v_write(path, RS_W2V_BINARY, 2, 2, w2, v, &e), RS_OK);
    FILE *f = fopen(path, "rb");
    char buf[256];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    CHECK_EQ_INT(n, 4 + 2 * (2 + 8 + 1));
    char cut[512];
    snprintf(cut, sizeof cut, "%s/cut.bin", dir);
    f = fopen(cut, "wb");
    fwrite(buf, 1, n - 4, f);
    fclose(f);
    expect_error(cut, RS_W2V_BINARY, RS_EDATA, "vector 2 (word \"b\") needs 8 bytes, 5 left");
    f = fopen(cut, "wb");
    fwrite(buf, 1, 4 + 11, f); /* header + first vector only */
    fclose(f);
    expect_error(cut, RS_W2V_BINARY, RS_EDATA, "header says 2 vectors, the file ends after 1");
    float nan = NAN;
    memcpy(buf + 4 + 2, &nan, 4);
    f = fopen(cut, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    expect_error(cut, RS_W2V_BINARY, RS_EDATA, "vector 1 (word \"a\"): value 1 is NaN");
    expect_error(test_write_file(dir, "nb", "1 2\nabc"), RS_W2V_BINARY, RS_EDATA,
                 "not followed by a space");
}

/* Files written by gensim itself: a small KeyedVectors with known values. */
static void test_gensim_files(void)
{
    if (access("/usr/bin/python3", X_OK) != 0 ||
        system("/usr/bin/python3 -c 'import gensim' >/dev/null 2>&1") != 0) {
        printf("gensim not available: gensim fixture skipped\n");
        return;
    }
    const char *dir = test_tmpdir();
    char script[2048], cmd[2300];
    snprintf(script, sizeof script,
             "import numpy as np\n"
             "from gensim.models import KeyedVectors\n"
             "kv = KeyedVectors(vector_size=5)\n"
             "vec = (np.arange(15, dtype=np.float32).reshape(3, 5) - 7) / np.float32(3)\n"
             "kv.add_vectors(['49302', '11109', 'caf\\u00e9'], vec)\n"
             "kv.save_word2vec_format('%s/g.txt', binary=False)\n"
             "kv.save_word2vec_format('%s/g.bin', binary=True)\n",
             dir, dir);
    const char *py = test_write_file(dir, "make.py", script);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s", py);
    CHECK_EQ_INT(system(cmd), 0);
    const char *names[2] = {"g.txt", "g.bin"};
    for (int k = 0; k < 2; k++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        rs_w2v *w = NULL;
        rs_error e = {0};
        CHECK_EQ_INT(rs_w2v_read(path, RS_W2V_AUTO, &w, &e), RS_OK);
        if (!w) {
            test_fail_at(__FILE__, __LINE__, "%s", e.msg);
            continue;
        }
        CHECK_EQ_INT(w->format, k ? RS_W2V_BINARY : RS_W2V_TEXT);
        CHECK_EQ_INT(w->count, 3);
        CHECK_EQ_INT(w->dim, 5);
        CHECK_STR(w->words[0], "49302");
        CHECK_STR(w->words[2], "caf\xc3\xa9");
        for (int i = 0; i < 15; i++)
            CHECK_NEAR(w->vectors[i], (i - 7) / 3.0, k ? 1e-7 : 1e-6);
        /* and ours written back reads the same */
        char back[700];
        snprintf(back, sizeof back, "%s.again", path);
        CHECK_EQ_INT(rs_w2v_write(back, w->format, w->count, w->dim,
                                  (const char *const *)w->words, w->vectors, &e), RS_OK);
        rs_w2v *w2 = NULL;
        CHECK_EQ_INT(rs_w2v_read(back, RS_W2V_AUTO, &w2, &e), RS_OK);
        if (w2)
            CHECK(memcmp(w2->vectors, w->vectors, 15 * sizeof(float)) == 0);
        rs_w2v_free(w2);
        rs_w2v_free(w);
    }
    /* gensim reads ours */
    snprintf(script, sizeof script,
             "from gensim.models import KeyedVectors\n"
             "kv = KeyedVectors.load_word2vec_format('%s/g.bin.again', binary=True)\n"
             "assert abs(kv['11109'][4] - (9 - 7) / 3) < 1e-6, kv['11109']\n"
             "kv = KeyedVectors.load_word2vec_format('%s/g.txt.again', binary=False)\n"
             "assert abs(kv['49302'][0] - (-7 / 3)) < 1e-6\n",
             dir, dir);
    py = test_write_file(dir, "check.py", script);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s", py);
    CHECK_EQ_INT(system(cmd), 0);
}

/* Issue 11 item 17: `--format auto` took a text file whose first vector line was
 * blank, had a value too many or a decimal comma for binary and reported binary
 * errors; a BOM before the header gave a garbled "bad header".  Such files are text,
 * their errors are text errors with the line, and a BOM is skipped. */
static void i11_17_auto_format_text_errors(void)
{
    const char *dir = test_tmpdir();
    rs_w2v *w = NULL;
    rs_error e = {0};
    /* a blank line after the header: text, and fine */
    CHECK_EQ_INT(rs_w2v_read(test_write_file(dir, "blank", "2 2\n\na 1 2\nb 3 4\n"),
                             RS_W2V_AUTO, &w, &e), RS_OK);
    if (w)
        CHECK(w->format == RS_W2V_TEXT && w->vectors[3] == 4.0f);
    rs_w2v_free(w);
    w = NULL;
    /* a value too many, a decimal comma: text errors naming the line */
    expect_error(test_write_file(dir, "extra", "2 3\np1 1 2 3 4\np2 1 2 3\n"), RS_W2V_AUTO,
                 RS_EDATA, ":2: word \"p1\" has 4 values, the header says dimension 3");
    expect_error(test_write_file(dir, "comma", "2 2\np1 0,5 1,25\np2 1 2\n"), RS_W2V_AUTO,
                 RS_EDATA, ":2: word \"p1\": value 1 \"0,5\" is not a number (a decimal "
                           "comma? word2vec files use '.')");
    expect_error(test_write_file(dir, "extra2", "1 2\n\n\np1 1 2 3\n"), RS_W2V_AUTO, RS_EDATA,
                 ":4: word \"p1\" has 3 values");
    /* a UTF-8 BOM before the header is skipped */
    CHECK_EQ_INT(rs_w2v_read(test_write_file(dir, "bom", "\xef\xbb\xbf" "2 2\na 1 2\nb 3 4\n"),
                             RS_W2V_AUTO, &w, &e), RS_OK);
    if (w)
        CHECK(w->count == 2 && strcmp(w->words[0], "a") == 0 && w->vectors[0] == 1.0f);
    rs_w2v_free(w);
    w = NULL;
    /* binary files are still found binary, also with a short, printable first word */
    char path[512];
    snprintf(path, sizeof path, "%s/b.bin", dir);
    float v[6] = {0.5f, -1.0f, 2.0f, 3.0f, -4.0f, 1e-3f};
    const char *const w2[2] = {"a", "b"};
    CHECK_EQ_INT(rs_w2v_write(path, RS_W2V_BINARY, 2, 3, w2, v, &e), RS_OK);
    CHECK_EQ_INT(rs_w2v_read(path, RS_W2V_AUTO, &w, &e), RS_OK);
    if (w)
        CHECK(w->format == RS_W2V_BINARY && memcmp(w->vectors, v, sizeof v) == 0);
    rs_w2v_free(w);
}

/* Issue 11 item 4: the writer renamed "P.tmp" over P: a FIFO or a device became a
 * regular file, and a planted P.tmp symlink was followed.  Exports now go through
 * core/atomicfile.h. */
static void i11_04_w2v_write_atomic(void)
{
    const char *dir = test_tmpdir();
    char fifo[512], out[512], tmp[600], victim[512];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    snprintf(out, sizeof out, "%s/out.txt", dir);
    snprintf(tmp, sizeof tmp, "%s/out.txt.tmp", dir);
    snprintf(victim, sizeof victim, "%s/victim", dir);
    float v[2] = {1, 2};
    const char *const w1[1] = {"a"};
    rs_error e = {0};
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK_EQ_INT(rs_w2v_write(fifo, RS_W2V_TEXT, 1, 2, w1, v, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "is a FIFO, not a regular file") != NULL);
    struct stat st;
    CHECK(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    /* a device: a private node with /dev/null's numbers (root only; never aim a test at
     * a shared device: the bug replaced /dev/null itself) */
    char dev[512];
    snprintf(dev, sizeof dev, "%s/null", dir);
    if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) == 0) {
        CHECK_EQ_INT(rs_w2v_write(dev, RS_W2V_TEXT, 1, 2, w1, v, &e), RS_EUSAGE);
        CHECK(strstr(e.msg, "is a device") != NULL);
        CHECK(lstat(dev, &st) == 0 && S_ISCHR(st.st_mode));
    }
    /* a planted temp-file symlink is not followed */
    test_write_file(dir, "victim", "keep me\n");
    CHECK(symlink(victim, tmp) == 0);
    CHECK_EQ_INT(rs_w2v_write(out, RS_W2V_TEXT, 1, 2, w1, v, &e), RS_OK);
    FILE *f = fopen(victim, "r");
    char buf[64] = "";
    if (f) {
        CHECK(fgets(buf, sizeof buf, f) != NULL);
        fclose(f);
    }
    CHECK_STR(buf, "keep me\n");
    CHECK(lstat(out, &st) == 0 && S_ISREG(st.st_mode));
    /* a symlink as the target is refused, its target untouched */
    char link[512];
    snprintf(link, sizeof link, "%s/link.txt", dir);
    CHECK(symlink(victim, link) == 0);
    CHECK_EQ_INT(rs_w2v_write(link, RS_W2V_TEXT, 1, 2, w1, v, &e), RS_EUSAGE);
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    /* a FIFO as input is refused at once, not opened for a blocking read */
    expect_error(fifo, RS_W2V_AUTO, RS_EDATA, "not a regular file (a FIFO)");
}

int main(void)
{
    test_round_trip();
    test_locale_independent();
    test_errors();
    test_gensim_files();
    i11_17_auto_format_text_errors();
    i11_04_w2v_write_atomic();
    return test_summary();
}
