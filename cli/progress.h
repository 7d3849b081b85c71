/* progress.h - the one progress bar of the CLI: "[#####.....]  42% label  0:12 left".
 *
 * Drawn on standard error when it is a terminal, never otherwise; a step shows its bar
 * only once it has run for a second (short steps stay quiet), redrawn at most ten
 * times a second; the estimate of the time left appears once a twentieth of the step
 * is done.  cli_progress_clear() wipes the line before other output.  Labels are data
 * (file names, city names): they leave through the sanitizer, cut to fit 80 columns.
 */
#ifndef RS_CLI_PROGRESS_H
#define RS_CLI_PROGRESS_H

typedef struct cli_progress {
    int tty;         /* stderr is a terminal */
    int drawn;       /* a bar is on the line */
    double t0;       /* start of the current step (monotonic seconds) */
    double last;     /* last draw */
    char step[128];  /* label of the current step (a new label starts a new step) */
} cli_progress;

void cli_progress_init(cli_progress *p);
/* done in [0, 1] of the step named label; extra (may be NULL) follows the label. */
void cli_progress_draw(cli_progress *p, const char *label, double done, const char *extra);
/* Wipes the bar (if drawn) so the next line starts clean. */
void cli_progress_clear(cli_progress *p);
/* "1:05" / "12s" into buf: the estimated time left, or "" when not yet known. */
void cli_progress_eta(double elapsed, double done, char *buf, int n);

#endif
