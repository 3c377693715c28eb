/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udax badblocks DEV [--json [-u]]: the known bad-block list, as Linux's
 * /sys/block/pmemN/badblocks ("<first-sector> <count>" lines) or as JSON
 * shaped as `ndctl list --media-errors` prints it (sectors), with bytes
 * beside.
 */
#include <stdio.h>
#include <stdlib.h>

#include <udax/udax.h>

#include "cli.h"
#include "json.h"
#include "util.h"

static int print_sysfs(struct udax_dev *dev, const char *path)
{
	size_t size = 4096;
	char *buf = NULL;

	for (;;) {
		char *t = realloc(buf, size);
		long n;

		if (!t) {
			free(buf);
			cli_err(path, "out of memory");
			return EXIT_FAIL;
		}
		buf = t;
		n = udax_badblocks_export(dev, buf, size);
		if (n < 0) {
			free(buf);
			return cli_errno(path, (int)n);
		}
		if ((size_t)n < size) {
			fwrite(buf, 1, (size_t)n, stdout);
			free(buf);
			return EXIT_OK;
		}
		size = (size_t)n + 1;
	}
}

static int badblocks_run(struct cli_args *a)
{
	const char *path = a->pos[0];
	struct udax_dev *dev;
	int rc;

	rc = cli_open(path, CLI_OPEN_READ, &dev);
	if (rc)
		return rc;
	if (a->json) {
		struct udax_range *bb = NULL;
		long n = cli_badblocks(dev, &bb);

		if (n < 0) {
			rc = cli_errno(path, (int)n);
		} else {
			struct json_object *o = json_object_new_object();

			json_add_str(o, "dev", path);
			json_add_badblocks(o, "", bb, (size_t)n);
			rc = json_print(o);
		}
		free(bb);
	} else {
		rc = print_sysfs(dev, path);
	}
	udax_close(dev);
	return rc;
}

static const char *const badblocks_pos[] = { "DEV" };

const struct cli_cmd cmd_badblocks = {
	.name = "badblocks",
	.alias = "list",
	.synopsis = "DEV [--json [-u]]",
	.summary = "list the known bad blocks (Linux sysfs form, or JSON as ndctl list --media-errors)",
	.opts = OPTF(OPT_JSON) | OPTF(OPT_HUMAN),
	.pos_names = badblocks_pos,
	.min_pos = 1,
	.max_pos = 1,
	.run = badblocks_run,
};
