/* testlib.h - a minimal test harness for the unit tests.
 *
 * CHECK(cond) records a failure and goes on; CHECK_EQ_INT / CHECK_NEAR print both
 * values.  Each test binary ends with `return test_summary();`, which prints the
 * plain closing line "N passed, N failed" and returns 0 only when nothing failed.
 * Exit code 77 (TEST_SKIP) tells meson the test was skipped.
 */
#ifndef RS_TESTLIB_H
#define RS_TESTLIB_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#define TEST_SKIP 77

extern int test_passed, test_failed;

void test_fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int test_summary(void);
/* A fresh empty directory under $TMPDIR (removed by the OS or the CI sandbox). */
const char *test_tmpdir(void);
/* Writes text to dir/name and returns the full path (static buffer per call slot). */
const char *test_write_file(const char *dir, const char *name, const char *text);
/* The shared/ folder beside the checkout, or NULL when absent. */
const char *test_shared_dir(void);

#define CHECK(c)                                                                       \
    do {                                                                               \
        if (c)                                                                         \
            test_passed++;                                                             \
        else                                                                           \
            test_fail_at(__FILE__, __LINE__, "CHECK(%s)", #c);                         \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                             \
    do {                                                                               \
        long long _a = (long long)(a), _b = (long long)(b);                            \
        if (_a == _b)                                                                  \
            test_passed++;                                                             \
        else                                                                           \
            test_fail_at(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, _a, \
                         #b, _b);                                                      \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                          \
    do {                                                                               \
        double _a = (double)(a), _b = (double)(b);                                     \
        if (fabs(_a - _b) <= (tol))                                                    \
            test_passed++;                                                             \
        else                                                                           \
            test_fail_at(__FILE__, __LINE__, "%s == %.9g, expected %.9g (tol %g)", #a,  \
                         _a, _b, (double)(tol));                                       \
    } while (0)

#define CHECK_STR(a, b)                                                                \
    do {                                                                               \
        const char *_a = (a), *_b = (b);                                               \
        if (_a && _b && strcmp(_a, _b) == 0)                                           \
            test_passed++;                                                             \
        else                                                                           \
            test_fail_at(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a,        \
                         _a ? _a : "(null)", _b ? _b : "(null)");                      \
    } while (0)

#endif
