/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The udax command table (ndctl's ndctl.c shape).  A command is a name, the
 * options it accepts, its positional arguments and a run function.  All
 * arguments are parsed and checked by cli_parse() (args.c) before run() is
 * called, so a usage error never touches a device.
 */
#ifndef UDAX_CLI_CLI_H
#define UDAX_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* Options; a command lists the ones it takes as a mask of these bits. */
enum cli_opt {
	OPT_JSON,
	OPT_SIZE,
	OPT_OFFSET,
	OPT_LENGTH,
	OPT_LATENT,
	OPT_MODE,
	OPT_OUTPUT,
	OPT_INPUT,
	OPT_REVERSE,
	OPT_RETRIES,
	OPT_MAP_INTERVAL,
	OPT_CLUSTER,
	OPT_FORCE,
	OPT_COUNT,
	OPT_MAX_RATE,
	OPT_STRIDE,
	OPT_HUMAN,
	OPT_IMPORT,
	OPT_IPOS,		/* rescue: ddrescue's -i, -o, -s, -n, -N, -q ... */
	OPT_OPOS,
	OPT_DOMAIN,
	OPT_NO_SCRAPE,
	OPT_NO_TRIM,
	OPT_QUIET,
	OPT_LOG_EVENTS,
	OPT_LOG_RATES,
	OPT_PROGRESS,
	OPT_IDIRECT,		/* rescue: ddrescue's -d, always so */
	OPT_ALL,
	OPT_DRY_RUN,
	OPT_STATUS,		/* inject: ndctl inject-error's -t, -d */
	OPT_UNINJECT,
	OPT_NR			/* --verbose and --help are always accepted */
};

#define OPTF(o) (1ULL << (o))

/* cli_args.help: -h prints the options, --help shows the manual page. */
enum { CLI_HELP_USAGE = 1, CLI_HELP_MAN = 2 };

/* Value of --mode when not given. */
#define CLI_MODE_DEFAULT (-1)

struct cli_args {
	const char *pos[3];		/* positional arguments */
	int npos;
	unsigned long long seen;	/* OPTF() of the options given */
	uint64_t size, offset, length, cluster, retries, count, stride, max_rate;
	uint64_t ipos, opos, domain;	/* rescue, in bytes */
	int mode;			/* UDAX_OP_*, or CLI_MODE_DEFAULT */
	const char *input, *output, *import;
	const char *log_events, *log_rates, *progress;
	double map_interval;		/* seconds */
	bool json, latent, reverse, force, all, dry_run, no_scrape, no_trim, quiet;
	bool status, uninject;
	int help;			/* CLI_HELP_* */
	int argc;			/* the whole command line, for maps */
	char **argv;
};

struct cli_cmd {
	const char *name;
	const char *alias;		/* or NULL */
	const char *synopsis;		/* "DEV [--json]" */
	const char *summary;		/* one line */
	unsigned long long opts;	/* OPTF() mask of accepted options */
	unsigned long long required;	/* OPTF() mask of required options */
	unsigned long long required_unless; /* none is required if one of these is given */
	const char *const *pos_names;	/* positional argument names */
	int min_pos, max_pos;
	/* Further checks after parsing; EXIT_OK or EXIT_USAGE (no I/O). */
	int (*check)(struct cli_args *a);
	int (*run)(struct cli_args *a);
};

extern const struct cli_cmd cmd_create, cmd_info, cmd_badblocks, cmd_inject,
	cmd_clear, cmd_scrub, cmd_read, cmd_write, cmd_rescue, cmd_help,
	cmd_version;

/* commands.c: the command table. */
extern const struct cli_cmd *const cli_commands[];
const struct cli_cmd *cli_find(const char *name);
/* The manual page of @cmd (of udax when NULL), or the usage if man cannot
 * show it.  Returns EXIT_OK. */
int cli_show_help(const struct cli_cmd *cmd);

/*
 * Parse a whole command line (argv[0] is "udax"): global options, the
 * command, its options.  Sets *@cmd and fills @a; does no I/O besides
 * error messages.
 * Return: EXIT_OK or EXIT_USAGE (a message was printed).
 */
int cli_parse(int argc, char **argv, const struct cli_cmd **cmd,
	      struct cli_args *a);

/* The check of inject and clear: a range repeated --count times. */
int cli_check_pattern(struct cli_args *a);
/* The long name of option @opt (enum cli_opt), without "--". */
const char *cli_opt_name(int opt);

/* The built-in usage of @cmd (or of udax when NULL) on stdout, with the
 * list of its options. */
void cli_print_usage(const struct cli_cmd *cmd);
/* The options @cmd accepts, one line each (args.c). */
void cli_print_options(const struct cli_cmd *cmd);

#endif /* UDAX_CLI_CLI_H */
