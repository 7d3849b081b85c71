/* test_jsonw.c - the JSON writer of hot paths (core/jsonw.h): numbers are exactly
 * printf's "%.7g" (random doubles over the whole range, values near rounding ties,
 * integers, negative zero), non-finite numbers are null, integers are "%lld", and
 * strings parse back (cJSON) to the same text with quotes, backslashes and C0
 * controls escaped and invalid UTF-8 replaced. */
#include <cjson/cJSON.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "sanitize.h"
#include "testlib.h"

static uint64_t rng_state = 20240611;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* rs_jsonw_num(x) against snprintf("%.7g"); returns 1 when they differ. */
static int differs(double x)
{
    char want[64];
    snprintf(want, sizeof want, "%.7g", x);
    rs_jsonw w = {0};
    rs_jsonw_num(&w, x);
    int bad = w.oom || strcmp(w.p, want) != 0;
    if (bad)
        printf("  %.17g: jsonw '%s', printf '%s'\n", x, w.p ? w.p : "(null)", want);
    free(w.p);
    return bad;
}

static void test_numbers(void)
{
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        double x;
        uint64_t bits = rnd();
        switch (i % 4) {
        case 0: /* any finite double */
            memcpy(&x, &bits, sizeof x);
            if (!isfinite(x))
                continue;
            break;
        case 1: /* scores and shares: 1e-6 .. 1e6, both signs */
            x = ldexp((double)(bits >> 11) / 9007199254740992.0, (int)(bits % 40) - 20);
            x = (bits & 1) ? -x : x;
            break;
        case 2: /* decimal values with few digits (ties in the 8th digit) */
            x = (double)(int64_t)(bits % 2000000001 - 1000000000) / pow(10, (double)(bits % 12));
            break;
        default: /* exact halves at the 7th significant digit */
            x = ((double)(bits % 9000000) + 1000000.5) * pow(10, (double)(int)(bits % 9) - 6);
            break;
        }
        bad += differs(x);
    }
    const double special[] = {0.0, -0.0, 1.0, -1.0, 0.1, 1e-5, 9999999.5, 999999.95,
                              1e20, 1e-20, 123456789.0, DBL_MIN, DBL_MAX, 5e-324, 100.0,
                              0.30000000000000004, 2.5e-5, 1234567.5, 0.00012345675};
    for (size_t i = 0; i < sizeof special / sizeof *special; i++)
        bad += differs(special[i]);
    CHECK_EQ_INT(bad, 0);

    rs_jsonw w = {0};
    rs_jsonw_num(&w, NAN);
    rs_jsonw_put(&w, ",", 1);
    rs_jsonw_num(&w, INFINITY);
    rs_jsonw_put(&w, ",", 1);
    rs_jsonw_int(&w, LLONG_MIN);
    rs_jsonw_put(&w, ",", 1);
    rs_jsonw_int(&w, 0);
    rs_jsonw_put(&w, ",", 1);
    rs_jsonw_int(&w, 1234567890123LL);
    rs_jsonw_put(&w, ",", 1);
    rs_jsonw_puts(&w, "true");
    rs_jsonw_put(&w, ",", 1);
    rs_jsonw_puts(&w, "false");
    CHECK(!w.oom && strcmp(w.p, "null,null,-9223372036854775808,0,1234567890123,true,false") == 0);
    free(w.p);
}

/* s written as a JSON string must parse back to want. */
static void roundtrip(const char *s, const char *want)
{
    rs_jsonw w = {0};
    rs_jsonw_put(&w, "[", 1);
    rs_jsonw_str(&w, s);
    rs_jsonw_put(&w, "]", 1);
    cJSON *a = w.oom ? NULL : cJSON_Parse(w.p);
    const cJSON *v = cJSON_GetArrayItem(a, 0);
    CHECK(cJSON_IsString(v));
    if (cJSON_IsString(v) && strcmp(v->valuestring, want) != 0)
        test_fail_at(__FILE__, __LINE__, "'%s' came back as '%s' (written %s)", want,
                     v->valuestring, w.p);
    for (size_t i = 0; w.p && i < w.n; i++) {
        const unsigned char *q = (const unsigned char *)w.p + i;
        if (q[0] < 0x20 || q[0] == 0x7f)
            test_fail_at(__FILE__, __LINE__, "raw control byte 0x%02x in %s", q[0], w.p);
        if ((q[0] == 0xc2 && q[1] >= 0x80 && q[1] <= 0x9f) ||
            (q[0] == 0xe2 && q[1] == 0x80 && (q[2] == 0xa8 || q[2] == 0xa9 || q[2] == 0x8e ||
                                              q[2] == 0x8f || (q[2] >= 0xaa && q[2] <= 0xae))) ||
            (q[0] == 0xe2 && q[1] == 0x81 && q[2] >= 0xa6 && q[2] <= 0xa9))
            test_fail_at(__FILE__, __LINE__, "raw C1/bidi/separator at %zu in %s", i, w.p);
    }
    cJSON_Delete(a);
    free(w.p);
}

/* rs_jsonw_str and rs_sanitize_json(cJSON's text) write the same bytes for s. */
static void same_as_sanitize_json(const char *s)
{
    rs_jsonw w = {0};
    rs_jsonw_str(&w, s);
    cJSON *c = cJSON_CreateString(s);
    char *raw = c ? cJSON_PrintUnformatted(c) : NULL;
    char *clean = raw ? rs_sanitize_json(raw) : NULL;
    CHECK(!w.oom && clean);
    if (clean && w.p && strcmp(clean, w.p) != 0)
        test_fail_at(__FILE__, __LINE__, "jsonw wrote %s, rs_sanitize_json %s", w.p, clean);
    free(clean);
    free(raw);
    cJSON_Delete(c);
    free(w.p);
}

static void test_strings(void)
{
    roundtrip("plain", "plain");
    roundtrip("", "");
    roundtrip(NULL, "");
    roundtrip("say \"hi\" \\ bye", "say \"hi\" \\ bye");
    roundtrip("tab\tnl\nesc\x1b[31m", "tab\tnl\nesc\x1b[31m");
    roundtrip("Crème brûlée 東京 🍌", "Crème brûlée 東京 🍌");
    roundtrip("bad \xff byte", "bad \xef\xbf\xbd byte");
    roundtrip("cut \xe6\x9d", "cut \xef\xbf\xbd"); /* as rs_utf8_decode reads it */
    /* DEL, C1 (CSI U+009B), bidi override and isolates, line separator: escaped, and
     * parsed back as they were */
    roundtrip("del \x7f csi \xc2\x9b" "2J rlo \xe2\x80\xae" "x lri \xe2\x81\xa6" "y \xe2\x80\xa8",
              "del \x7f csi \xc2\x9b" "2J rlo \xe2\x80\xae" "x lri \xe2\x81\xa6" "y \xe2\x80\xa8");
    /* the same text as rs_sanitize_json makes of cJSON's */
    same_as_sanitize_json("a \x7f b \xc2\x9b c \xe2\x80\xae d \xff e \xe6\x9d f \xc3\xa9 \xef\xbf\xbd");
    /* a long string: the buffer grows */
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    roundtrip(big, big);
}

int main(void)
{
    test_numbers();
    test_strings();
    return test_summary();
}
