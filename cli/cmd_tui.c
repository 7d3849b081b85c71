/* cmd_tui.c - TEMPORARY scaffold, replaced by the real command. */
#include <stdio.h>
#include "cli.h"
int cmd_tui(rs_cli *cli, int argc, char **argv) { (void)cli; (void)argc; fprintf(stderr, "%s: not built yet\n", argv[0]); return 3; }
int cmd_snapshot(rs_cli *cli, int argc, char **argv) { (void)cli; (void)argc; fprintf(stderr, "%s: not built yet\n", argv[0]); return 3; }
