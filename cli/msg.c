/* msg.c - how the CLI prints messages: through the one sanitizer (core/sanitize.h). */
#include <stdarg.h>
#include <stdio.h>

#include "../core/sanitize.h"
#include "cli.h"

/* Every message of ours that may quote data (a product id, a header, a path) leaves
 * through here: formatted, then passed through the one sanitizer (core/sanitize.h),
 * so no control character from data reaches the terminal. */
void cli_vmessage(FILE *f, const char *fmt, va_list ap)
{
    char raw[4096], clean[8192];
    vsnprintf(raw, sizeof raw, fmt, ap);
    rs_sanitize_msg(raw, rs_locale_ascii(), clean, sizeof clean);
    fputs(clean, f);
}

void cli_message(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vmessage(f, fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vmessage(stderr, fmt, ap);
    va_end(ap);
}

int cli_fail(const rs_error *e)
{
    cli_message(stderr, "recoscope: %s\n", e->msg[0] ? e->msg : "unknown error");
    return e->code ? e->code : RS_EINTERNAL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char what[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    cli_message(stderr, "recoscope %s: %s\n(see `recoscope %s --help`)\n", cmd, what, cmd);
    return RS_EUSAGE;
}

