/* progress.c - the CLI's progress bar (see progress.h). */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/sanitize.h"

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_init(cli_progress *p)
{
    memset(p, 0, sizeof *p);
    p->tty = isatty(STDERR_FILENO);
    p->t0 = mono();
}

void cli_progress_eta(double elapsed, double done, char *buf, int n)
{
    buf[0] = '\0';
    if (done < 0.05 || done >= 1.0 || elapsed <= 0)
        return;
    double left = elapsed * (1.0 - done) / done;
    long s = (long)(left + 0.5);
    if (s >= 3600)
        snprintf(buf, (size_t)n, "%ld:%02ld:%02ld left", s / 3600, s / 60 % 60, s % 60);
    else if (s >= 60)
        snprintf(buf, (size_t)n, "%ld:%02ld left", s / 60, s % 60);
    else
        snprintf(buf, (size_t)n, "%lds left", s);
}

void cli_progress_draw(cli_progress *p, const char *label, double done, const char *extra)
{
    if (!p->tty)
        return;
    double t = mono();
    if (strncmp(p->step, label, sizeof p->step - 1) != 0) {
        snprintf(p->step, sizeof p->step, "%s", label);
        p->t0 = t;
        p->last = 0;
    }
    if (t - p->t0 < 1.0 || (done < 1.0 && t - p->last < 0.1))
        return;
    p->last = t;
    done = done < 0 ? 0 : done > 1 ? 1 : done;
    int ascii = rs_locale_ascii();
    enum { WIDTH = 20 };
    char bar[WIDTH + 1], name[160], more[96], eta[32];
    int fill = (int)(done * WIDTH);
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    cli_progress_eta(t - p->t0, done, eta, sizeof eta);
    rs_sanitize_cell(extra ? extra : "", ascii, 24, more, sizeof more);
    rs_sanitize_str(label, ascii, extra ? 22 : 46, name, sizeof name);
    char line[512], cell[1024];
    snprintf(line, sizeof line, "[%s] %3d%% %s %s  %s", bar, (int)(done * 100.0), name,
             extra ? more : "", eta);
    rs_sanitize_cell(line, ascii, 79, cell, sizeof cell); /* padded: wipes a longer line */
    fprintf(stderr, "\r%s", cell);
    fflush(stderr);
    p->drawn = 1;
}

void cli_progress_clear(cli_progress *p)
{
    if (p->tty && p->drawn) {
        fprintf(stderr, "\r%79s\r", "");
        fflush(stderr);
    }
    p->drawn = 0;
}
