/* test_opt.c - the one option parser (cli/opt.h): every spelling, typed readers,
 * errors, and the message sanitizer the CLI prints through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli/cli.h"
#include "../cli/opt.h"
#include "../core/sanitize.h"
#include "testlib.h"

enum { O_K = 1, O_CITY, O_JSON, O_QUIET, O_VERBOSE, O_MIN };

static const cli_opt OPTS[] = {
    {"k", 'k', CLI_ARG, O_K},
    {"city", 'c', CLI_ARG, O_CITY},
    {"json", 0, CLI_FLAG, O_JSON},
    {"quiet", 'q', CLI_FLAG, O_QUIET},
    {"verbose", 'v', CLI_FLAG, O_VERBOSE},
    {"min-receipts", 0, CLI_ARG, O_MIN},
    {NULL, 0, 0, 0},
};

/* Runs the parser over a NULL-terminated list; records "id=value;" per call. */
static int run(char **argv, char *trace, size_t n)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    cli_parser p;
    cli_opt_init(&p, "test", argc, argv, OPTS);
    trace[0] = 0;
    int id;
    while ((id = cli_opt_next(&p)) > 0) {
        size_t used = strlen(trace);
        snprintf(trace + used, n - used, "%d=%s;", id, p.value ? p.value : "");
    }
    return id;
}

static void check_value_forms(void)
{
    char t[256];
    const char *want = "1=5;";
    CHECK_EQ_INT(run((char *[]){"x", "--k", "5", NULL}, t, sizeof t), 0);
    CHECK(strcmp(t, want) == 0);
    CHECK_EQ_INT(run((char *[]){"x", "--k=5", NULL}, t, sizeof t), 0);
    CHECK(strcmp(t, want) == 0);
    CHECK_EQ_INT(run((char *[]){"x", "-k5", NULL}, t, sizeof t), 0);
    CHECK(strcmp(t, want) == 0);
    CHECK_EQ_INT(run((char *[]){"x", "-k", "5", NULL}, t, sizeof t), 0);
    CHECK(strcmp(t, want) == 0);
    CHECK_EQ_INT(run((char *[]){"x", "-k=5", NULL}, t, sizeof t), 0);
    CHECK(strcmp(t, want) == 0);
    /* underscores and dashes are one */
    CHECK_EQ_INT(run((char *[]){"x", "--min_receipts", "3", NULL}, t, sizeof t), 0);
    CHECK(strcmp(t, "6=3;") == 0);
    /* a value starting with '-' is taken when one is needed */
    CHECK_EQ_INT(run((char *[]){"x", "--city", "-1", NULL}, t, sizeof t), 0);
    CHECK(strcmp(t, "2=-1;") == 0);
}

static void check_flags_and_positionals(void)
{
    char t[256];
    CHECK_EQ_INT(run((char *[]){"x", "-qv", "a", "--json", "-", "--", "--k", NULL}, t, sizeof t), 0);
    CHECK(strcmp(t, "4=;5=;10001=a;3=;10001=-;10001=--k;") == 0);
    CHECK_EQ_INT(run((char *[]){"x", "-qk7", NULL}, t, sizeof t), 0);
    CHECK(strcmp(t, "4=;1=7;") == 0);
    CHECK_EQ_INT(run((char *[]){"x", "a", "--help", NULL}, t, sizeof t), 0);
    CHECK(strstr(t, "10000=") != NULL);
    CHECK_EQ_INT(run((char *[]){"x", "-h", NULL}, t, sizeof t), 0);
    CHECK(strcmp(t, "10000=;") == 0);
}

static void check_errors(void)
{
    char t[256];
    CHECK_EQ_INT(run((char *[]){"x", "--nope", NULL}, t, sizeof t), CLI_ERROR);
    CHECK_EQ_INT(run((char *[]){"x", "-z", NULL}, t, sizeof t), CLI_ERROR);
    CHECK_EQ_INT(run((char *[]){"x", "--k", NULL}, t, sizeof t), CLI_ERROR);
    CHECK_EQ_INT(run((char *[]){"x", "--json=1", NULL}, t, sizeof t), CLI_ERROR);
}

static void check_typed(void)
{
    cli_parser p;
    char *argv[] = {"x", "--k=12", "--k=1e3", "--k=12x", "--k=", "--k=0.5", "--k=inf", NULL};
    cli_opt_init(&p, "test", 7, argv, OPTS);
    int64_t v = 0;
    double d = 0;
    CHECK_EQ_INT(cli_opt_next(&p), O_K);
    CHECK_EQ_INT(cli_opt_int(&p, 1, 100, &v), 0);
    CHECK_EQ_INT(v, 12);
    CHECK_EQ_INT(cli_opt_int(&p, 1, 10, &v), 1); /* out of range */
    CHECK_EQ_INT(cli_opt_next(&p), O_K);
    CHECK_EQ_INT(cli_opt_int(&p, 1, 10000, &v), 1); /* not whole */
    CHECK_EQ_INT(cli_opt_double(&p, 0, 1e4, &d), 0);
    CHECK_NEAR(d, 1000.0, 1e-9);
    CHECK_EQ_INT(cli_opt_next(&p), O_K);
    CHECK_EQ_INT(cli_opt_int(&p, 0, 100, &v), 1);
    CHECK_EQ_INT(cli_opt_double(&p, 0, 100, &d), 1);
    CHECK_EQ_INT(cli_opt_next(&p), O_K);
    CHECK_EQ_INT(cli_opt_nonempty(&p), 1);
    CHECK_EQ_INT(cli_opt_next(&p), O_K);
    CHECK_EQ_INT(cli_opt_double(&p, 0, 1, &d), 0);
    CHECK_EQ_INT(cli_opt_next(&p), O_K);
    CHECK_EQ_INT(cli_opt_double(&p, -1e300, 1e300, &d), 1); /* not finite */
    const char *names[] = {"all", "train", NULL};
    int idx = -1;
    p.value = "train";
    CHECK_EQ_INT(cli_opt_choice(&p, names, &idx), 0);
    CHECK_EQ_INT(idx, 1);
    p.value = "test";
    CHECK_EQ_INT(cli_opt_choice(&p, names, &idx), 1);
}

static void check_unknown_passthrough(void)
{
    cli_parser p;
    char *argv[] = {"x", "--ns_exponent", "0.5", "--dim=8", "--bogus", NULL};
    cli_opt_init(&p, "test", 5, argv, OPTS);
    cli_opt_allow_unknown(&p);
    CHECK_EQ_INT(cli_opt_next(&p), CLI_UNKNOWN);
    CHECK(strcmp(p.name, "--ns-exponent") == 0);
    CHECK_EQ_INT(cli_opt_value(&p), 0);
    CHECK(strcmp(p.value, "0.5") == 0);
    CHECK_EQ_INT(cli_opt_next(&p), CLI_UNKNOWN);
    CHECK(strcmp(p.name, "--dim") == 0);
    CHECK_EQ_INT(cli_opt_value(&p), 0);
    CHECK(strcmp(p.value, "8") == 0);
    CHECK_EQ_INT(cli_opt_next(&p), CLI_UNKNOWN);
    CHECK_EQ_INT(cli_opt_value(&p), CLI_ERROR); /* no value left */
}

/* Messages quoting data pass the sanitizer: no C0/C1 control byte survives. */
static void check_messages_clean(void)
{
    char buf[256];
    rs_sanitize_msg("bad \x1b]0;owned\x07 id \xc2\x9b" "2J end\nnext\x7f", 0, buf, sizeof buf);
    for (const unsigned char *q = (const unsigned char *)buf; *q; q++) {
        CHECK(*q >= 0x20 || *q == '\n');
        CHECK(*q != 0x7f);
        if (*q == 0xc2)
            CHECK(q[1] != 0x9b);
    }
    CHECK(strstr(buf, "end\nnext") != NULL);
    rs_sanitize_msg("\xe2\x80\xae" "abc", 1, buf, sizeof buf); /* U+202E, ASCII mode */
    CHECK(strcmp(buf, "?abc") == 0);
    rs_sanitize_cell("ab\x1b" "c", 1, 6, buf, sizeof buf);
    CHECK(strcmp(buf, "ab?c  ") == 0);
    rs_sanitize_cell("abcdefgh", 1, 4, buf, sizeof buf);
    CHECK(strcmp(buf, "abc~") == 0);
}

/* JSON text: C1, bidi overrides and invalid UTF-8 escaped; the rest untouched. */
static void check_json_clean(void)
{
    char *j = rs_sanitize_json("{\"n\":\"a\xc2\x9b" "b \xe2\x80\xae" "c \xff d \xc3\xa9 \xef\xbf\xbd \x7f\"}");
    CHECK(j != NULL);
    if (j) {
        CHECK(strcmp(j, "{\"n\":\"a\\u009bb \\u202ec \\ufffd d \xc3\xa9 \xef\xbf\xbd \\u007f\"}") == 0);
        free(j);
    }
}

int main(void)
{
    /* the parser's error messages go to stderr; keep the test log readable */
    check_value_forms();
    check_flags_and_positionals();
    check_errors();
    check_typed();
    check_unknown_passthrough();
    check_messages_clean();
    check_json_clean();
    return test_summary();
}
