/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udax badblocks DEV [--json [-u]]: the known bad-block list, as Linux's
 * /sys/block/pmemN/badblocks ("<first-sector> <count>" lines) or as JSON
 * shaped as `ndctl list --media-errors` prints it (sectors), with bytes
 * beside.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <udax/udax.h>

#include "cli.h"
#include "import.h"
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

/* --import FILE: read it all, convert, add it all or nothing. */
static int import_run(struct cli_args *a)
{
	const char *path = a->pos[0], *src = a->import, *why;
	bool std = !strcmp(src, "-");
	char *buf = NULL, *text = NULL;
	struct udax_dev *dev = NULL;
	size_t n = 0, tl = 0;
	int fd, rc;
	long got;

	fd = std ? 0 : open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cli_errno(src, -errno);
	rc = read_all(fd, &buf, &n);
	if (!std)
		close(fd);
	if (rc)
		return cli_errno(std ? "stdin" : src, rc);
	rc = import_badblocks(buf, n, &text, &tl, &why);
	free(buf);
	if (rc == -EINVAL)
		return cli_usage_err(std ? "stdin" : src, "%s: nothing imported", why);
	if (rc)
		return cli_errno(src, rc);
	rc = cli_open(path, 0, &dev);
	if (rc)
		goto out;
	got = udax_badblocks_import(dev, text, tl);
	if (got == -EINVAL) {
		rc = cli_usage_err(std ? "stdin" : src,
				   "not a bad-block list (sysfs text, ndctl or cxl JSON): nothing imported");
	} else if (got == -ERANGE) {
		rc = cli_usage_err(std ? "stdin" : src,
				   "a range is past the end of %s: nothing imported", path);
	} else if (got == -EOPNOTSUPP) {
		cli_err(path, "its known list is the kernel's: udax does not edit it (ndctl inject-error adds to it)");
		rc = EXIT_FAIL;
	} else if (got < 0) {
		rc = cli_errno(path, (int)got);
	} else {
		printf("imported %ld range%s\n", got, got == 1 ? "" : "s");
	}
out:
	free(text);
	udax_close(dev);
	return rc;
}

static int badblocks_run(struct cli_args *a)
{
	const char *path = a->pos[0];
	struct udax_dev *dev;
	int rc;

	if (a->import)
		return import_run(a);
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
	.synopsis = "DEV [--json [-u]] | DEV --import FILE|-",
	.summary = "list the known bad blocks (Linux sysfs form, or JSON as ndctl list --media-errors), or add a list to them",
	.opts = OPTF(OPT_JSON) | OPTF(OPT_HUMAN) | OPTF(OPT_IMPORT),
	.pos_names = badblocks_pos,
	.min_pos = 1,
	.max_pos = 1,
	.run = badblocks_run,
};
