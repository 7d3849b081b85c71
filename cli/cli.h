/* cli.h - the recoscope command line: one file per subcommand (cli/cmd_*.c). */
#ifndef RS_CLI_H
#define RS_CLI_H

#include <stdarg.h>
#include <stdio.h>

#include "../core/error.h"

typedef struct rs_cli {
    const char *prog;    /* argv[0] */
    const char *db_path; /* --db, else $RECOSCOPE_DB, else data/recoscope.db */
} rs_cli;

/* Every subcommand: argv[0] is the subcommand's name; returns the exit code
 * (0 ok, 1 usage, 2 bad input data, 3 internal error). */
typedef int (*rs_cmd_fn)(rs_cli *cli, int argc, char **argv);

int cmd_demo(rs_cli *cli, int argc, char **argv);
int cmd_synth(rs_cli *cli, int argc, char **argv);
int cmd_import(rs_cli *cli, int argc, char **argv);
int cmd_stats(rs_cli *cli, int argc, char **argv);
int cmd_train(rs_cli *cli, int argc, char **argv);
int cmd_eval(rs_cli *cli, int argc, char **argv);
int cmd_eval_customers(rs_cli *cli, int argc, char **argv); /* eval --customers */
int cmd_recommend(rs_cli *cli, int argc, char **argv);
int cmd_export(rs_cli *cli, int argc, char **argv);
int cmd_import_model(rs_cli *cli, int argc, char **argv);
int cmd_models(rs_cli *cli, int argc, char **argv);
int cmd_tui(rs_cli *cli, int argc, char **argv);
int cmd_snapshot(rs_cli *cli, int argc, char **argv);
int cmd_serve(rs_cli *cli, int argc, char **argv);
int cmd_map(rs_cli *cli, int argc, char **argv);
int cmd_cluster(rs_cli *cli, int argc, char **argv);

/* Messages and data text printed by the CLI go through the one sanitizer
 * (core/sanitize.h): control characters from data never reach the terminal.
 * cli_message formats into f; cli_warn into stderr (newlines are kept). */
void cli_vmessage(FILE *f, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void cli_message(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "recoscope: <message>" to stderr (sanitized) and returns e->code. */
int cli_fail(const rs_error *e);
/* Prints "recoscope <cmd>: <message>\n<usage hint>" and returns RS_EUSAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when argv holds -h or --help (before any "--"). */
int cli_wants_help(int argc, char **argv);

#endif
