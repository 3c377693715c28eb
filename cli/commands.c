/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The command table (ndctl's ndctl.c), its lookup, help and version.
 * Every other command lives in cmd-<name>.c; args.c parses and checks all
 * arguments before a command runs; main.c runs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <udax/udax.h>

#include "cli.h"
#include "util.h"

#ifndef UDAX_CLI_VERSION
#define UDAX_CLI_VERSION "0.0.0"
#endif

const struct cli_cmd *const cli_commands[] = {
	&cmd_create, &cmd_info, &cmd_badblocks, &cmd_inject, &cmd_clear,
	&cmd_scrub, &cmd_read, &cmd_write, &cmd_rescue, &cmd_help,
	&cmd_version, NULL,
};

const struct cli_cmd *cli_find(const char *name)
{
	for (int i = 0; cli_commands[i]; i++) {
		const struct cli_cmd *c = cli_commands[i];

		if (!strcmp(c->name, name) || (c->alias && !strcmp(c->alias, name)))
			return c;
	}
	return NULL;
}

void cli_print_usage(const struct cli_cmd *cmd)
{
	if (cmd) {
		printf("usage: udax %s %s\n\n%s\n", cmd->name, cmd->synopsis,
		       cmd->summary);
		if (cmd->alias)
			printf("Alias: udax %s.\n", cmd->alias);
		cli_print_options(cmd);
		printf("\nSee udax-%s(1): udax %s --help.\n", cmd->name, cmd->name);
		return;
	}
	printf("usage: udax [--verbose] COMMAND [ARGS]\n\nCommands:\n");
	for (int i = 0; cli_commands[i]; i++)
		printf("  %-10s %s\n", cli_commands[i]->name,
		       cli_commands[i]->summary);
	printf("\nSizes and offsets take K/M/G/T (binary) suffixes and 0x hex.\n"
	       "Exit status: 0 success, 1 runtime error, 2 usage error (nothing\n"
	       "touched), 3 finished but some data could not be read.\n"
	       "See udax(1) and 'udax help COMMAND'.\n");
}

/* Run man with @args; quiet: no output at all (a probe).  Its exit status,
 * or -1 when man cannot run. */
static int run_man(const char *const args[], bool quiet)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (quiet) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
		}
		execvp("man", (char *const *)args);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 127)
		return -1;
	return WEXITSTATUS(st);
}

/*
 * The page that belongs to this udax: the build tree's when it runs from
 * the build tree, else the one installed beside it (bin/../share/man, as
 * CMake placed them), so that an installed udax shows its own pages
 * whatever MANPATH says.  False when there is none.
 */
static bool own_page(const char *page, char *path, size_t size)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat st;

	if (n <= 0)
		return false;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return false;
	*slash = 0;
#if defined(UDAX_CLI_BUILD_DIR) && defined(UDAX_MAN_BUILD_DIR)
	if (!strcmp(exe, UDAX_CLI_BUILD_DIR)) {
		snprintf(path, size, "%s/%s.1", UDAX_MAN_BUILD_DIR, page);
		return !stat(path, &st) && S_ISREG(st.st_mode);
	}
#endif
#ifdef UDAX_BIN_TO_MAN
	if ((size_t)snprintf(path, size, "%s/%s/man1/%s.1", exe, UDAX_BIN_TO_MAN,
			     page) < size)
		return !stat(path, &st) && S_ISREG(st.st_mode);
#endif
	return false;
}

int cli_show_help(const struct cli_cmd *cmd)
{
	char page[64], path[PATH_MAX];

	snprintf(page, sizeof(page), cmd ? "udax-%s" : "udax", cmd ? cmd->name : "");
	if (own_page(page, path, sizeof(path))) {
		const char *args[] = { "man", "-l", path, NULL };

		if (run_man(args, false) == 0)
			return EXIT_OK;
	} else {
		const char *probe[] = { "man", "-w", page, NULL };
		const char *args[] = { "man", page, NULL };

		if (run_man(probe, true) == 0 && run_man(args, false) == 0)
			return EXIT_OK;
	}
	cli_print_usage(cmd);
	return EXIT_OK;
}

static int help_check(struct cli_args *a)
{
	if (a->npos && !cli_find(a->pos[0]))
		return cli_usage_err(a->pos[0], "unknown command: try 'udax help'");
	return EXIT_OK;
}

static int help_run(struct cli_args *a)
{
	return cli_show_help(a->npos ? cli_find(a->pos[0]) : NULL);
}

static const char *const help_pos[] = { "COMMAND" };

const struct cli_cmd cmd_help = {
	.name = "help",
	.synopsis = "[COMMAND]",
	.summary = "show the manual page of udax or of a command",
	.pos_names = help_pos,
	.min_pos = 0,
	.max_pos = 1,
	.check = help_check,
	.run = help_run,
};

static int version_run(struct cli_args *a)
{
	(void)a;
	printf("udax %s (libudax %s)\n", UDAX_CLI_VERSION, udax_version());
	return EXIT_OK;
}

const struct cli_cmd cmd_version = {
	.name = "version",
	.synopsis = "",
	.summary = "print the versions of udax and libudax",
	.run = version_run,
};
