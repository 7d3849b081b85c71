/* testlib.c - see testlib.h. */
#include "testlib.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int test_passed, test_failed;

void test_fail_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    test_failed++;
}

int test_summary(void)
{
    printf("%d passed, %d failed\n", test_passed, test_failed);
    return test_failed ? 1 : 0;
}

const char *test_tmpdir(void)
{
    static char buf[8][256];
    static int slot;
    char *b = buf[slot++ % 8];
    const char *t = getenv("TMPDIR");
    snprintf(b, 256, "%s/rstest-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(b)) {
        perror("mkdtemp");
        exit(2);
    }
    return b;
}

const char *test_write_file(const char *dir, const char *name, const char *text)
{
    static char buf[8][512];
    static int slot;
    char *p = buf[slot++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) {
        perror(p);
        exit(2);
    }
    fwrite(text, 1, strlen(text), f);
    fclose(f);
    return p;
}

const char *test_shared_dir(void)
{
    static char buf[1024];
    const char *env = getenv("RS_SHARED_DIR");
    if (env && *env)
        snprintf(buf, sizeof buf, "%s", env);
    else
        snprintf(buf, sizeof buf, "%s/../shared", RS_SOURCE_ROOT);
    struct stat st;
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/data/instacart/products.csv", buf);
    return stat(probe, &st) == 0 ? buf : NULL;
}
