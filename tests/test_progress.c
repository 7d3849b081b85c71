/* test_progress.c - the CLI's progress bar: nothing on a pipe, nothing for a step's
 * first second, then a bar with its percentage, label and the time left, padded to
 * wipe a longer line; a hostile label leaves sanitized; clear wipes the line. */
#define _XOPEN_SOURCE 600
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli/progress.h"
#include "testlib.h"

/* What was written to fd (non-blocking), into buf. */
static size_t drain(int fd, char *buf, size_t n)
{
    size_t got = 0;
    ssize_t r;
    while (got + 1 < n && (r = read(fd, buf + got, n - 1 - got)) > 0)
        got += (size_t)r;
    buf[got] = '\0';
    return got;
}

static void test_eta(void)
{
    char b[32];
    cli_progress_eta(10.0, 0.01, b, sizeof b);
    CHECK_STR(b, ""); /* too early to tell */
    cli_progress_eta(10.0, 0.5, b, sizeof b);
    CHECK_STR(b, "10s left");
    cli_progress_eta(30.0, 0.25, b, sizeof b);
    CHECK_STR(b, "1:30 left");
    cli_progress_eta(3600.0, 0.5, b, sizeof b);
    CHECK_STR(b, "1:00:00 left");
    cli_progress_eta(5.0, 1.0, b, sizeof b);
    CHECK_STR(b, "");
}

static void test_pipe_is_quiet(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    int saved = dup(2);
    dup2(p[1], 2);
    cli_progress bar;
    cli_progress_init(&bar);
    CHECK(!bar.tty);
    bar.t0 -= 5; /* as if the step had run for five seconds */
    cli_progress_draw(&bar, "x", 0.5, NULL);
    cli_progress_clear(&bar);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(p[1]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    char buf[256];
    CHECK_EQ_INT((long long)drain(p[0], buf, sizeof buf), 0);
    close(p[0]);
}

static void test_terminal(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) || unlockpt(m)) {
        printf("no pseudo-terminal: terminal part skipped\n");
        return;
    }
    int sl = open(ptsname(m), O_RDWR | O_NOCTTY);
    CHECK(sl >= 0);
    int saved = dup(2);
    dup2(sl, 2);
    cli_progress bar;
    cli_progress_init(&bar);
    CHECK(bar.tty);
    cli_progress_draw(&bar, "city\x1b[2Jname", 0.3, "12 rows"); /* first second: quiet */
    fflush(stderr);
    char buf[4096];
    fcntl(m, F_SETFL, O_NONBLOCK);
    usleep(100000);
    CHECK_EQ_INT((long long)drain(m, buf, sizeof buf), 0);
    bar.t0 -= 10; /* the same step, ten seconds in */
    cli_progress_draw(&bar, "city\x1b[2Jname", 0.5, "12 rows");
    fflush(stderr);
    usleep(100000);
    drain(m, buf, sizeof buf);
    CHECK(strstr(buf, "[##########..........]  50% city") != NULL);
    CHECK(strstr(buf, "12 rows") != NULL);
    CHECK(strstr(buf, "10s left") != NULL);
    CHECK(strchr(buf, '\x1b') == NULL); /* the label's escape left sanitized */
    CHECK(bar.drawn);
    cli_progress_clear(&bar);
    fflush(stderr);
    usleep(100000);
    drain(m, buf, sizeof buf);
    CHECK(buf[0] == '\r' && strspn(buf + 1, " ") >= 79);
    dup2(saved, 2);
    close(saved);
    close(sl);
    close(m);
}

int main(void)
{
    test_eta();
    test_pipe_is_quiet();
    test_terminal();
    return test_summary();
}
