/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Argument parsing for every command, in one place, so that all of a
 * command line is checked before any device is opened (as ndctl's
 * inject-error does) and so that one fuzz target covers it all.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udax/udax.h>

#include "cli.h"
#include "json.h"
#include "util.h"

enum { LONG_ONLY = 256 };

struct opt_def {
	struct option lo;
	int opt;		/* enum cli_opt, or -1 for verbose/help */
	const char *meta;	/* argument name in messages */
	const char *help;	/* one line for -h */
};

enum { HELP_LONG = LONG_ONLY + OPT_NR };

static const struct opt_def opt_defs[] = {
	{ { "json", no_argument, NULL, 'j' }, OPT_JSON, NULL, "print JSON (ndctl's keys and units)" },
	{ { "human", no_argument, NULL, 'u' }, OPT_HUMAN, NULL, "with --json: sizes and offsets for people" },
	{ { "import", required_argument, NULL, LONG_ONLY + OPT_IMPORT }, OPT_IMPORT, "FILE", "add FILE's bad blocks to the known list (sysfs text, ndctl or cxl JSON; - is stdin)" },
	{ { "size", required_argument, NULL, 's' }, OPT_SIZE, "SIZE", "device size (K/M/G/T binary suffixes, 0x hex)" },
	{ { "offset", required_argument, NULL, LONG_ONLY + OPT_OFFSET }, OPT_OFFSET, "OFFSET", "first byte" },
	{ { "length", required_argument, NULL, LONG_ONLY + OPT_LENGTH }, OPT_LENGTH, "LENGTH", "number of bytes" },
	{ { "latent", no_argument, NULL, LONG_ONLY + OPT_LATENT }, OPT_LATENT, NULL, "poison the media only, not the known list" },
	{ { "status", no_argument, NULL, 't' }, OPT_STATUS, NULL, "list the poison: known (the known list) and latent (media only)" },
	{ { "uninject", no_argument, NULL, 'd' }, OPT_UNINJECT, NULL, "heal the latent poison in the range (known poison stays: udax clear)" },
	{ { "mode", required_argument, NULL, 'm' }, OPT_MODE, "MODE", "failfast (default) or recovery" },
	{ { "output", required_argument, NULL, 'o' }, OPT_OUTPUT, "FILE", "write to FILE instead of stdout" },
	{ { "input", required_argument, NULL, 'i' }, OPT_INPUT, "FILE", "read from FILE instead of stdin" },
	{ { "reverse", no_argument, NULL, 'R' }, OPT_REVERSE, NULL, "run every pass backwards" },
	{ { "retries", required_argument, NULL, 'r' }, OPT_RETRIES, "N", "retry bad pages N times (ddrescue: --retry-passes)" },
	{ { "retry-passes", required_argument, NULL, 'r' }, OPT_RETRIES, "N", NULL },
	{ { "map-interval", required_argument, NULL, LONG_ONLY + OPT_MAP_INTERVAL }, OPT_MAP_INTERVAL, "SECONDS", "save the map this often (ddrescue: --mapfile-interval)" },
	{ { "mapfile-interval", required_argument, NULL, LONG_ONLY + OPT_MAP_INTERVAL }, OPT_MAP_INTERVAL, "SECONDS", NULL },
	{ { "cluster-size", required_argument, NULL, 'c' }, OPT_CLUSTER, "SECTORS", "512-byte sectors per read in the copying pass (a multiple of 8)" },
	{ { "input-position", required_argument, NULL, 'i' }, OPT_IPOS, "POS", "start of the rescue domain in DEV (ddrescue units)" },
	{ { "output-position", required_argument, NULL, 'o' }, OPT_OPOS, "POS", "where in OUT the domain's data goes (default: as in DEV)" },
	{ { "size", required_argument, NULL, 's' }, OPT_DOMAIN, "SIZE", "size of the rescue domain (ddrescue units: 10M = 10^7 bytes)" },
	{ { "no-scrape", no_argument, NULL, 'n' }, OPT_NO_SCRAPE, NULL, "skip the scraping pass" },
	{ { "no-trim", no_argument, NULL, 'N' }, OPT_NO_TRIM, NULL, "skip the trimming pass (scraping takes its blocks)" },
	{ { "idirect", no_argument, NULL, 'd' }, OPT_IDIRECT, NULL, "accepted for ddrescue: udax always reads DEV directly (DAX, or O_DIRECT for /dev/pmemN)" },
	{ { "quiet", no_argument, NULL, 'q' }, OPT_QUIET, NULL, "no progress and no summary (errors still)" },
	{ { "log-events", required_argument, NULL, LONG_ONLY + OPT_LOG_EVENTS }, OPT_LOG_EVENTS, "FILE", "log passes, errors and the end to FILE" },
	{ { "log-rates", required_argument, NULL, LONG_ONLY + OPT_LOG_RATES }, OPT_LOG_RATES, "FILE", "log rates and bad sizes to FILE every second" },
	{ { "progress", required_argument, NULL, LONG_ONLY + OPT_PROGRESS }, OPT_PROGRESS, "tty|json|none", "progress on stderr: a block (default on a terminal), JSON lines, or none" },
	{ { "force", no_argument, NULL, 'f' }, OPT_FORCE, NULL, "do it even so" },
	{ { "count", required_argument, NULL, 'n' }, OPT_COUNT, "N", "repeat the range N times" },
	{ { "max-rate", required_argument, NULL, LONG_ONLY + OPT_MAX_RATE }, OPT_MAX_RATE, "SIZE", "read at most SIZE bytes per second (ddrescue: --max-read-rate; ddrescue units)" },
	{ { "max-read-rate", required_argument, NULL, LONG_ONLY + OPT_MAX_RATE }, OPT_MAX_RATE, "SIZE", NULL },
	{ { "stride", required_argument, NULL, LONG_ONLY + OPT_STRIDE }, OPT_STRIDE, "SIZE", "distance between repeated ranges" },
	{ { "all", no_argument, NULL, LONG_ONLY + OPT_ALL }, OPT_ALL, NULL, "clear: zero every page of the range, not only the poisoned ones" },
	{ { "dry-run", no_argument, NULL, LONG_ONLY + OPT_DRY_RUN }, OPT_DRY_RUN, NULL, "clear: say what would be cleared, change nothing" },
	{ { "verbose", no_argument, NULL, 'v' }, -1, NULL, "say more on stderr (libudax's log too)" },
	{ { "help", no_argument, NULL, HELP_LONG }, -1, NULL, "show the manual page" },
	{ { NULL, no_argument, NULL, 'h' }, -1, NULL, "show this list of options" },
};
#define NR_DEFS (sizeof(opt_defs) / sizeof(opt_defs[0]))

/* A letter means different options in different commands (-o: read's
 * --output, rescue's --output-position, as ddrescue's -o): look only at
 * the ones @cmd takes. */
static bool takes(const struct cli_cmd *cmd, const struct opt_def *d)
{
	return d->opt < 0 || (cmd->opts & OPTF(d->opt));
}

static const struct opt_def *def_of(const struct cli_cmd *cmd, int c)
{
	for (size_t i = 0; i < NR_DEFS; i++)
		if (opt_defs[i].lo.val == c && takes(cmd, &opt_defs[i]))
			return &opt_defs[i];
	return NULL;
}

static int bad_value(const char *name, const char *val, int err,
		     const char *what)
{
	char opt[64];

	snprintf(opt, sizeof(opt), "--%s", name);
	if (err == -ERANGE)
		return cli_usage_err(opt, "'%s' is too large", val);
	return cli_usage_err(opt, "invalid %s '%s'", what, val);
}

static int set_opt(struct cli_args *a, const struct opt_def *d, const char *val)
{
	const char *name = d->lo.name;
	char *end;
	int rc;

	if (a->seen & OPTF(d->opt)) {
		char opt[64];

		snprintf(opt, sizeof(opt), "--%s", name);
		return cli_usage_err(opt, "given twice");
	}
	a->seen |= OPTF(d->opt);
	switch (d->opt) {
	case OPT_JSON: a->json = true; return EXIT_OK;
	case OPT_NO_SCRAPE: a->no_scrape = true; return EXIT_OK;
	case OPT_NO_TRIM: a->no_trim = true; return EXIT_OK;
	case OPT_IDIRECT: return EXIT_OK;	/* what udax does anyway */
	case OPT_QUIET: a->quiet = true; return EXIT_OK;
	case OPT_LOG_EVENTS:
	case OPT_LOG_RATES:
		if (!*val)
			return bad_value(name, val, -EINVAL, "file name");
		*(d->opt == OPT_LOG_EVENTS ? &a->log_events : &a->log_rates) = val;
		return EXIT_OK;
	case OPT_PROGRESS:
		if (strcmp(val, "tty") && strcmp(val, "json") && strcmp(val, "none"))
			return cli_usage_err("--progress", "'%s' is not tty, json or none", val);
		a->progress = val;
		return EXIT_OK;
	case OPT_IPOS:
	case OPT_OPOS:
	case OPT_DOMAIN:
	case OPT_CLUSTER:
	case OPT_MAX_RATE: {
		uint64_t v;

		rc = parse_ddrescue_size(val, &v);
		if (rc)
			return bad_value(name, val, rc, d->opt == OPT_CLUSTER ? "count" : "size");
		if (d->opt == OPT_IPOS)
			a->ipos = v;
		else if (d->opt == OPT_OPOS)
			a->opos = v;
		else if (d->opt == OPT_DOMAIN)
			a->domain = v;
		else if (d->opt == OPT_CLUSTER)
			a->cluster = v;
		else
			a->max_rate = v;
		return EXIT_OK;
	}
	case OPT_LATENT: a->latent = true; return EXIT_OK;
	case OPT_STATUS: a->status = true; return EXIT_OK;
	case OPT_UNINJECT: a->uninject = true; return EXIT_OK;
	case OPT_REVERSE: a->reverse = true; return EXIT_OK;
	case OPT_FORCE: a->force = true; return EXIT_OK;
	case OPT_HUMAN: json_human = true; return EXIT_OK;
	case OPT_ALL: a->all = true; return EXIT_OK;
	case OPT_DRY_RUN: a->dry_run = true; return EXIT_OK;
	case OPT_OUTPUT:
	case OPT_INPUT:
	case OPT_IMPORT:
		if (!*val)
			return bad_value(name, val, -EINVAL, "file name");
		if (d->opt == OPT_OUTPUT)
			a->output = val;
		else if (d->opt == OPT_INPUT)
			a->input = val;
		else
			a->import = val;
		return EXIT_OK;
	case OPT_SIZE:
	case OPT_OFFSET:
	case OPT_LENGTH:
	case OPT_STRIDE: {
		uint64_t v;

		rc = parse_size(val, &v);
		if (rc)
			return bad_value(name, val, rc, "size");
		if (d->opt == OPT_SIZE)
			a->size = v;
		else if (d->opt == OPT_OFFSET)
			a->offset = v;
		else if (d->opt == OPT_LENGTH)
			a->length = v;
		else
			a->stride = v;
		return EXIT_OK;
	}
	case OPT_COUNT:
		rc = parse_uint(val, 1u << 30, &a->count);
		if (!rc && !a->count)
			rc = -EINVAL;
		if (rc)
			return bad_value(name, val, rc, "count");
		return EXIT_OK;
	case OPT_RETRIES:
		rc = parse_uint(val, 1000000, &a->retries);
		if (rc)
			return bad_value(name, val, rc, "count");
		return EXIT_OK;
	case OPT_MODE:
		if (!strcmp(val, "failfast"))
			a->mode = UDAX_OP_FAILFAST;
		else if (!strcmp(val, "recovery"))
			a->mode = UDAX_OP_RECOVERY;
		else
			return cli_usage_err("--mode", "'%s' is not failfast or recovery", val);
		return EXIT_OK;
	case OPT_MAP_INTERVAL:
		/* Plain decimal seconds: no signs, exponents, hex, inf or nan. */
		if (!*val || strspn(val, "0123456789.") != strlen(val))
			return bad_value(name, val, -EINVAL, "number of seconds");
		a->map_interval = strtod(val, &end);
		if (*end || !isfinite(a->map_interval) || a->map_interval > 86400)
			return bad_value(name, val, -EINVAL, "number of seconds");
		return EXIT_OK;
	}
	return cli_usage_err(NULL, "internal error: option %d", d->opt);
}

/* --offset, --length, and --count with --stride (inject, clear). */
int cli_check_pattern(struct cli_args *a)
{
	uint64_t n = a->count ? a->count : 1;

	if (!a->length)
		return cli_usage_err("--length", "must not be 0");
	if (a->offset + a->length < a->offset)
		return cli_usage_err("--length", "offset + length overflows");
	if ((a->seen & OPTF(OPT_COUNT)) != (a->seen & OPTF(OPT_STRIDE)) >> (OPT_STRIDE - OPT_COUNT))
		return cli_usage_err(a->seen & OPTF(OPT_COUNT) ? "--count" : "--stride",
				     "--count and --stride go together");
	if (n > 1 && a->stride < a->length)
		return cli_usage_err("--stride", "must be at least --length");
	if (n > 1 && (a->stride > (UINT64_MAX - a->offset - a->length) / (n - 1)))
		return cli_usage_err("--stride", "offset + stride * count overflows");
	return EXIT_OK;
}

const char *cli_opt_name(int opt)
{
	for (size_t i = 0; i < NR_DEFS; i++)
		if (opt_defs[i].opt == opt && opt_defs[i].help)
			return opt_defs[i].lo.name;
	return "?";
}

/* The command's options: getopt tables from opt_defs filtered by its mask. */
static void build_opts(const struct cli_cmd *cmd, char *shorts,
		       struct option *longs)
{
	size_t s = 0, l = 0;

	shorts[s++] = ':';	/* report a missing argument as ':' */
	shorts[s] = '\0';
	for (size_t i = 0; i < NR_DEFS; i++) {
		const struct opt_def *d = &opt_defs[i];

		if (!takes(cmd, d))
			continue;
		if (d->lo.name)
			longs[l++] = d->lo;
		/* an alias adds no letter twice */
		if (d->lo.val < LONG_ONLY && !strchr(shorts + 1, d->lo.val)) {
			shorts[s++] = (char)d->lo.val;
			if (d->lo.has_arg)
				shorts[s++] = ':';
			shorts[s] = '\0';
		}
	}
	shorts[s] = '\0';
	memset(&longs[l], 0, sizeof(longs[l]));
}

static int parse_cmd(const struct cli_cmd *cmd, int argc, char **argv,
		     struct cli_args *a)
{
	char shorts[2 * NR_DEFS + 2];
	struct option longs[NR_DEFS + 1];
	int c, rc;

	build_opts(cmd, shorts, longs);
	opterr = 0;
	optind = 0;	/* glibc: start over (the fuzzer parses many times) */
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		const struct opt_def *d;

		if (c == '?' || c == ':') {
			const char *arg = argv[optind - 1];
			char name[64];

			if (optopt && optopt < LONG_ONLY && (c == '?' ||
			    strncmp(arg, "--", 2))) {
				snprintf(name, sizeof(name), "-%c", optopt);
				arg = name;
			}
			if (c == ':')
				return cli_usage_err(arg, "missing argument");
			return cli_usage_err(arg, "unknown option");
		}
		if (c == 'v') {
			cli_verbose = true;
			continue;
		}
		if (c == 'h' || c == HELP_LONG) {
			a->help = c == 'h' ? CLI_HELP_USAGE : CLI_HELP_MAN;
			continue;
		}
		d = def_of(cmd, c);
		if (!d)
			return cli_usage_err(NULL, "internal error: option %d", c);
		rc = set_opt(a, d, optarg);
		if (rc)
			return rc;
	}
	if (a->help)
		return EXIT_OK;
	for (; optind < argc; optind++) {
		if (a->npos >= cmd->max_pos)
			return cli_usage_err(argv[optind], "unexpected argument");
		a->pos[a->npos++] = argv[optind];
	}
	if (a->npos < cmd->min_pos)
		return cli_usage_err(cmd->pos_names[a->npos], "missing argument");
	for (int i = 0; i < a->npos; i++)
		if (!*a->pos[i])
			return cli_usage_err(cmd->pos_names[i], "empty argument");
	for (size_t i = 0; i < NR_DEFS; i++) {
		const struct opt_def *d = &opt_defs[i];
		char name[64];

		if (d->opt < 0 || !(cmd->required & OPTF(d->opt)) ||
		    (a->seen & OPTF(d->opt)) || !d->help ||
		    (a->seen & cmd->required_unless))
			continue;
		snprintf(name, sizeof(name), "--%s", d->lo.name);
		return cli_usage_err(name, "required");
	}
	return cmd->check ? cmd->check(a) : EXIT_OK;
}

int cli_parse(int argc, char **argv, const struct cli_cmd **cmdp,
	      struct cli_args *a)
{
	const struct cli_cmd *cmd = NULL;
	int help = 0;
	bool version = false;
	int i;

	memset(a, 0, sizeof(*a));
	a->mode = CLI_MODE_DEFAULT;
	a->map_interval = -1;
	a->argc = argc;
	a->argv = argv;
	cli_cmd = NULL;
	*cmdp = NULL;

	/* Global options: udax [--verbose] [--help] [--version] CMD ... */
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "-v") || !strcmp(o, "--verbose"))
			cli_verbose = true;
		else if (!strcmp(o, "-h"))
			help = CLI_HELP_USAGE;
		else if (!strcmp(o, "--help"))
			help = CLI_HELP_MAN;
		else if (!strcmp(o, "-V") || !strcmp(o, "--version"))
			version = true;
		else if (!strcmp(o, "--")) {
			i++;
			break;
		} else
			return cli_usage_err(o, "unknown option");
	}
	if (i >= argc) {
		if (version)
			cmd = &cmd_version;
		else if (help)
			cmd = &cmd_help;
		else
			return cli_usage_err(NULL, "missing command: try 'udax help'");
		a->help = help == CLI_HELP_USAGE ? CLI_HELP_USAGE : 0;
		cli_cmd = cmd->name;
		*cmdp = cmd;
		return EXIT_OK;
	}
	cmd = cli_find(argv[i]);
	if (!cmd)
		return cli_usage_err(argv[i], "unknown command: try 'udax help'");
	cli_cmd = cmd->name;
	if (help == CLI_HELP_MAN) {
		/* "udax --help CMD" is "udax help CMD". */
		a->pos[0] = cmd->name;
		a->npos = 1;
		*cmdp = &cmd_help;
		return EXIT_OK;
	}
	if (help == CLI_HELP_USAGE) {
		a->help = CLI_HELP_USAGE;
		*cmdp = cmd;
		return EXIT_OK;
	}
	*cmdp = cmd;
	return parse_cmd(cmd, argc - i, argv + i, a);
}

void cli_print_options(const struct cli_cmd *cmd)
{
	printf("\nOptions:\n");
	for (size_t i = 0; i < NR_DEFS; i++) {
		const struct opt_def *d = &opt_defs[i];
		char name[64];
		int n = 0;

		if (!takes(cmd, d) || !d->help)
			continue;
		if (!d->lo.name) {
			n = snprintf(name, sizeof(name), "-h");
		} else {
			if (d->lo.val < LONG_ONLY)
				n = snprintf(name, sizeof(name), "-%c, ", d->lo.val);
			n += snprintf(name + n, sizeof(name) - (size_t)n, "--%s%s%s",
				      d->lo.name, d->meta ? " " : "", d->meta ? d->meta : "");
		}
		printf("  %-28s %s", name, d->help);
		if (d->opt >= 0 && (cmd->required & OPTF(d->opt))) {
			int u = 0;

			/* one option waives them in practice: name it */
			while (u < OPT_NR && !(cmd->required_unless & OPTF(u)))
				u++;
			if (u < OPT_NR)
				printf(" (required, but not with --%s)", cli_opt_name(u));
			else
				printf(" (required)");
		}
		printf("\n");
	}
}
