/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* udax(1): parse, then run one command (cli/commands.c has the table). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

int main(int argc, char **argv)
{
	const struct cli_cmd *cmd;
	struct cli_args a;
	int rc;

	rc = cli_parse(argc, argv, &cmd, &a);
	if (rc)
		return rc;
	cli_log_init();
	if (a.help == CLI_HELP_USAGE) {
		cli_print_usage(cmd == &cmd_help ? NULL : cmd);
		return EXIT_OK;
	}
	if (a.help)
		return cli_show_help(cmd);
	rc = cmd->run(&a);
	if (fflush(stdout) || ferror(stdout)) {
		cli_err("stdout", "%s", strerror(errno));
		return EXIT_FAIL;
	}
	return rc;
}
