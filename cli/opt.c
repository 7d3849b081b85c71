/* opt.c - the option parser of every subcommand (see opt.h). */
#include "opt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_opt_init(cli_parser *p, const char *cmd, int argc, char **argv, const cli_opt *opts)
{
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->argc = argc;
    p->argv = argv;
    p->opts = opts;
    p->i = 1;
}

void cli_opt_allow_unknown(cli_parser *p)
{
    p->allow_unknown = 1;
}

/* Long names compare with '-' and '_' as one character. */
static int same_name(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        char x = a[i] == '_' ? '-' : a[i], y = b[i] == '_' ? '-' : b[i];
        if (x != y)
            return 0;
    }
    return 1;
}

static void set_name(cli_parser *p, const char *dashes, const char *s, size_t len)
{
    if (len > sizeof p->name - 3)
        len = sizeof p->name - 3;
    size_t d = strlen(dashes);
    memcpy(p->name, dashes, d);
    for (size_t i = 0; i < len; i++)
        p->name[d + i] = s[i] == '_' ? '-' : s[i];
    p->name[d + len] = 0;
}

static const cli_opt *find_long(const cli_parser *p, const char *s, size_t len)
{
    for (const cli_opt *o = p->opts; o && o->name; o++)
        if (same_name(s, len, o->name))
            return o;
    return NULL;
}

static const cli_opt *find_short(const cli_parser *p, int c)
{
    for (const cli_opt *o = p->opts; o && o->name; o++)
        if (o->short_name && o->short_name == c)
            return o;
    return NULL;
}

/* Takes the next argument as the value of the option named in p->name. */
static int take_next(cli_parser *p)
{
    if (p->i >= p->argc) {
        cli_usage_error(p->cmd, "%s needs a value", p->name);
        return CLI_ERROR;
    }
    p->value = p->argv[p->i++];
    return 0;
}

static int next_short(cli_parser *p)
{
    int c = (unsigned char)*p->bundle++;
    char one[2] = {(char)c, 0};
    set_name(p, "-", one, 1);
    if (c == 'h') {
        p->bundle = NULL;
        return CLI_HELP;
    }
    const cli_opt *o = find_short(p, c);
    if (!o) {
        p->bundle = NULL;
        cli_usage_error(p->cmd, "unknown option '%s'", p->name);
        return CLI_ERROR;
    }
    if (o->has_arg == CLI_FLAG) {
        if (!*p->bundle)
            p->bundle = NULL;
        return o->id;
    }
    /* -k1, -k=1, or -k 1 */
    const char *rest = p->bundle;
    p->bundle = NULL;
    if (*rest) {
        p->value = rest + (*rest == '=');
        return o->id;
    }
    return take_next(p) ? CLI_ERROR : o->id;
}

int cli_opt_next(cli_parser *p)
{
    p->value = NULL;
    if (p->bundle && *p->bundle)
        return next_short(p);
    p->bundle = NULL;
    if (p->i >= p->argc)
        return CLI_END;
    const char *a = p->argv[p->i++];
    if (p->only_positional || a[0] != '-' || a[1] == 0) {
        p->value = a;
        p->name[0] = 0;
        return CLI_POSITIONAL;
    }
    if (a[1] == '-' && a[2] == 0) {
        p->only_positional = 1;
        return cli_opt_next(p);
    }
    if (a[1] != '-') {
        p->bundle = a + 1;
        return next_short(p);
    }
    const char *s = a + 2;
    const char *eq = strchr(s, '=');
    size_t len = eq ? (size_t)(eq - s) : strlen(s);
    set_name(p, "--", s, len);
    if (same_name(s, len, "help") && !find_long(p, s, len))
        return CLI_HELP;
    const cli_opt *o = find_long(p, s, len);
    if (!o) {
        if (p->allow_unknown) {
            p->value = eq ? eq + 1 : NULL; /* cli_opt_value() takes the next one */
            return CLI_UNKNOWN;
        }
        cli_usage_error(p->cmd, "unknown option '%s'", p->name);
        return CLI_ERROR;
    }
    if (o->has_arg == CLI_FLAG) {
        if (eq) {
            cli_usage_error(p->cmd, "%s takes no value", p->name);
            return CLI_ERROR;
        }
        return o->id;
    }
    if (eq) {
        p->value = eq + 1;
        return o->id;
    }
    return take_next(p) ? CLI_ERROR : o->id;
}

int cli_opt_value(cli_parser *p)
{
    if (p->value)
        return 0; /* --name=value */
    return take_next(p) ? CLI_ERROR : 0;
}

int cli_opt_unknown(cli_parser *p)
{
    cli_usage_error(p->cmd, "unknown option '%s'", p->name);
    return CLI_ERROR;
}

int cli_parse_int(const char *s, int64_t *out)
{
    if (!s || !*s)
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = (int64_t)v;
    return 0;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int cli_parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* The value as quoted in messages: cli_usage_error sanitizes the whole line. */
static const char *shown(const cli_parser *p)
{
    return p->value ? p->value : "";
}

int cli_opt_int(const cli_parser *p, int64_t lo, int64_t hi, int64_t *out)
{
    int64_t v = 0;
    if (cli_parse_int(p->value, &v) || v < lo || v > hi)
        return cli_usage_error(p->cmd, "%s: '%s' is not a whole number from %lld to %lld",
                               p->name, shown(p), (long long)lo, (long long)hi);
    *out = v;
    return 0;
}

int cli_opt_u64(const cli_parser *p, uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t v = 0;
    if (cli_parse_u64(p->value, &v) || v < lo || v > hi)
        return cli_usage_error(p->cmd, "%s: '%s' is not a whole number from %llu to %llu",
                               p->name, shown(p), (unsigned long long)lo, (unsigned long long)hi);
    *out = v;
    return 0;
}

int cli_opt_int32(const cli_parser *p, int32_t lo, int32_t hi, int *out)
{
    int64_t v = 0;
    int rc = cli_opt_int(p, lo, hi, &v);
    if (rc == 0)
        *out = (int)v;
    return rc;
}

int cli_opt_double(const cli_parser *p, double lo, double hi, double *out)
{
    double v = 0;
    if (cli_parse_double(p->value, &v) || v < lo || v > hi)
        return cli_usage_error(p->cmd, "%s: '%s' is not a number from %g to %g", p->name,
                               shown(p), lo, hi);
    *out = v;
    return 0;
}

int cli_opt_choice(const cli_parser *p, const char *const *names, int *out)
{
    for (int i = 0; names[i]; i++)
        if (p->value && strcmp(p->value, names[i]) == 0) {
            *out = i;
            return 0;
        }
    char list[512];
    size_t used = 0;
    list[0] = 0;
    for (int i = 0; names[i] && used + 4 < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
        if (w < 0 || (size_t)w >= sizeof list - used)
            break;
        used += (size_t)w;
    }
    return cli_usage_error(p->cmd, "%s: '%s' is not one of %s", p->name, shown(p), list);
}

int cli_opt_nonempty(const cli_parser *p)
{
    if (!p->value || !*p->value)
        return cli_usage_error(p->cmd, "%s needs a non-empty value", p->name);
    return 0;
}
