/* opt.h - the one option parser of every subcommand.
 *
 * A subcommand declares its options in a table and walks argv with cli_opt_next():
 *
 *     static const cli_opt OPTS[] = {
 *         {"city", 'c', CLI_ARG, OPT_CITY},
 *         {"json", 0, CLI_FLAG, OPT_JSON},
 *         {NULL, 0, 0, 0},
 *     };
 *     cli_parser p;
 *     cli_opt_init(&p, "recommend", argc, argv, OPTS);
 *     int id;
 *     while ((id = cli_opt_next(&p)) > 0) {
 *         switch (id) {
 *         case OPT_CITY: city = p.value; break;
 *         case CLI_POSITIONAL: ...p.value...; break;
 *         case CLI_HELP: fputs(USAGE, stdout); return RS_OK;
 *         }
 *     }
 *     if (id < 0) return RS_EUSAGE;          (the message is already printed)
 *
 * Accepted spellings, the same for every subcommand:
 *   --name value   --name=value   -k value   -k1   (-k=1 too)
 *   flags:  --name   -q   and bundled short flags  -qv
 *   dashes and underscores in long names are interchangeable (--ns-exponent);
 *   "--" ends the options, "-" alone is a positional argument (stdin / stdout);
 *   -h / --help anywhere before "--" gives CLI_HELP.
 * A value that starts with '-' is taken when the option needs one (--lr -1).
 *
 * Typed readers check the value of the option just returned and print the one
 * wording of errors: "recoscope CMD: --name: 'V' is not <what> (see ...)".
 */
#ifndef RS_CLI_OPT_H
#define RS_CLI_OPT_H

#include <stdint.h>

enum {
    CLI_FLAG = 0, /* no value */
    CLI_ARG = 1,  /* takes a value */
};

/* Ids returned by cli_opt_next() besides the table's own (which must be >= 1 and
 * below CLI_HELP). */
enum {
    CLI_END = 0,
    CLI_ERROR = -1,
    CLI_HELP = 10000,
    CLI_POSITIONAL = 10001,
    CLI_UNKNOWN = 10002, /* only with cli_opt_allow_unknown(): see there */
};

typedef struct cli_opt {
    const char *name; /* long name without dashes ("min-receipts"); NULL ends a table */
    int short_name;   /* 'k', or 0 */
    int has_arg;      /* CLI_FLAG or CLI_ARG */
    int id;           /* returned by cli_opt_next(), >= 1 */
} cli_opt;

typedef struct cli_parser {
    const char *cmd;     /* subcommand name, for messages */
    int argc;
    char **argv;         /* argv[0] is the subcommand's name */
    const cli_opt *opts;
    int allow_unknown;
    /* state */
    int i;               /* next argv index */
    const char *bundle;  /* rest of a bundle of short flags ("-qv") */
    int only_positional; /* after "--" */
    /* what the last call returned */
    const char *value;   /* the option's value, or the positional argument */
    char name[64];       /* the option as written, normalised: "--min-receipts", "-k" */
} cli_parser;

void cli_opt_init(cli_parser *p, const char *cmd, int argc, char **argv, const cli_opt *opts);

/* Makes an option missing from the table return CLI_UNKNOWN (with p->name set and no
 * value taken) instead of an error, for subcommands whose option names come from
 * another table (train's model parameters); the caller then calls cli_opt_value() or
 * cli_opt_unknown(). */
void cli_opt_allow_unknown(cli_parser *p);

/* The next option id, CLI_POSITIONAL, CLI_HELP, CLI_END (0) when argv is used up, or
 * CLI_ERROR (-1) after printing the message (unknown option, missing value, a value
 * given to a flag). */
int cli_opt_next(cli_parser *p);

/* For CLI_UNKNOWN: takes the option's value (the "=value" part or the next argument)
 * into p->value; CLI_ERROR (printed) when there is none. */
int cli_opt_value(cli_parser *p);
/* For CLI_UNKNOWN: prints "unknown option" and returns CLI_ERROR. */
int cli_opt_unknown(cli_parser *p);

/* Typed readers of p->value.  Each returns 0 on success; on error prints the message
 * naming the option and the accepted range, and returns RS_EUSAGE (1). */
int cli_opt_int(const cli_parser *p, int64_t lo, int64_t hi, int64_t *out);
int cli_opt_int32(const cli_parser *p, int32_t lo, int32_t hi, int *out);
int cli_opt_u64(const cli_parser *p, uint64_t lo, uint64_t hi, uint64_t *out);
int cli_opt_double(const cli_parser *p, double lo, double hi, double *out);
/* p->value must be one of the NULL-terminated names; *out receives its index. */
int cli_opt_choice(const cli_parser *p, const char *const *names, int *out);
/* p->value must be non-empty. */
int cli_opt_nonempty(const cli_parser *p);

/* Parses a whole number / a finite number from text, strictly (no trailing junk, no
 * overflow); 0 on success.  For values that are not options (batch lines, keys). */
int cli_parse_int(const char *s, int64_t *out);
int cli_parse_double(const char *s, double *out);
int cli_parse_u64(const char *s, uint64_t *out); /* digits only, no sign */

#endif
