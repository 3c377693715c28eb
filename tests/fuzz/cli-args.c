/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz udax(1)'s command line parsing (cli/args.c, the table in commands.c):
 * the input is split at NUL and newline bytes into arguments after "udax".
 * Parsing never does I/O; an accepted command line satisfies what the
 * commands rely on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <udax/udax.h>

#include "cli.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 24

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 2];
	const struct cli_cmd *cmd;
	struct cli_args a;
	int argc = 1, rc;
	size_t start = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "udax";
	for (size_t i = 0; i <= size && argc <= MAX_ARGS; i++) {
		if (i == size || buf[i] == '\0' || buf[i] == '\n') {
			buf[i] = '\0';
			if (i > start || i < size)
				argv[argc++] = buf + start;
			start = i + 1;
		}
	}
	argv[argc] = NULL;
	cli_quiet = true;
	cli_verbose = false;

	rc = cli_parse(argc, argv, &cmd, &a);
	if (rc != EXIT_OK && rc != EXIT_USAGE)
		abort();
	if (rc == EXIT_OK) {
		if (!cmd)
			abort();
		if (!a.help && (a.npos < cmd->min_pos || a.npos > cmd->max_pos))
			abort();
		if (!a.help && (cmd->required & ~a.seen) &&
		    !(a.seen & cmd->required_unless))
			abort();
		if (!a.help && (a.seen & ~cmd->opts))
			abort();
		if (cmd == &cmd_create && !a.help && (!a.size || a.size % UDAX_PAGE_SIZE))
			abort();
		if ((cmd == &cmd_inject || cmd == &cmd_clear) && !a.help &&
		    !a.status && (!a.length || a.offset + a.length < a.offset))
			abort();
		/* inject --status only lists; --json is only its output */
		if (cmd == &cmd_inject && !a.help && a.status &&
		    (a.seen & (OPTF(OPT_OFFSET) | OPTF(OPT_LENGTH) |
			       OPTF(OPT_LATENT) | OPTF(OPT_UNINJECT) |
			       OPTF(OPT_COUNT) | OPTF(OPT_STRIDE))))
			abort();
		if (cmd == &cmd_inject && !a.help && !a.status &&
		    ((a.seen & OPTF(OPT_JSON)) || (a.latent && a.uninject)))
			abort();
		if (a.mode != CLI_MODE_DEFAULT && a.mode != UDAX_OP_FAILFAST &&
		    a.mode != UDAX_OP_RECOVERY)
			abort();
		for (int i = 0; i < a.npos; i++)
			if (!a.pos[i] || !*a.pos[i])
				abort();
	}
	free(buf);
	return 0;
}
