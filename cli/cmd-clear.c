/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udax clear DEV --offset O --length L [--count N --stride S] [--all]
 * [--dry-run]: recover the pages covering the ranges (udax_clear(): zero
 * them, clear all their poison), by default only those that hold poison,
 * as ndctl clear-errors rewrites only the bad blocks; --all zeroes every
 * page of the ranges.  One transaction for all the ranges.  The output
 * says how many pages were (--dry-run: would be) zeroed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udax/udax.h>

#include "cli.h"
#include "util.h"

static int clear_run(struct cli_args *a)
{
	const char *path = a->pos[0];
	uint64_t n = a->count ? a->count : 1, pages;
	unsigned int flags = (a->all ? UDAX_CLEAR_ALL : 0) |
			     (a->dry_run ? UDAX_CLEAR_DRY_RUN : 0);
	struct udax_range *r;
	struct udax_dev *dev;
	int64_t bytes;
	int rc;

	rc = cli_open(path, a->dry_run ? CLI_OPEN_READ : 0, &dev);
	if (rc)
		return rc;
	rc = cli_check_range(dev, path, a->offset, (n - 1) * a->stride + a->length);
	if (rc)
		goto out;
	r = malloc(n * sizeof(*r));
	if (!r) {
		cli_err(path, "out of memory for %llu ranges: nothing cleared",
			(unsigned long long)n);
		rc = EXIT_FAIL;
		goto out;
	}
	for (uint64_t i = 0; i < n; i++)
		r[i] = (struct udax_range){ a->offset + i * a->stride, a->length };
	bytes = udax_clear(dev, r, n, flags);
	free(r);
	if (bytes == -EOPNOTSUPP) {
		/* A real device: libudax's log line above says why (no
		 * clear-error command, not root, no libndctl, CXL...). */
		cli_err(path, "this %s device cannot clear poison here (see the line above): ndctl clear-errors needs the same support",
			udax_backend(dev));
		rc = EXIT_FAIL;
	} else if (bytes < 0) {
		/* Not cli_errno(): an -EIO here is the state file's.  Only
		 * the emulated device clears in one transaction. */
		cli_err(path, "cannot clear: %s: %s", strerror((int)-bytes),
			strcmp(udax_backend(dev), "emulated") ?
			"some pages may have been cleared (see udax badblocks)" :
			"nothing was cleared");
		rc = EXIT_FAIL;
	} else {
		pages = (uint64_t)bytes / UDAX_PAGE_SIZE;
		printf("%s %llu page%s in %llu range%s (%llu bytes %szeroed)\n",
		       a->dry_run ? "would clear" : "cleared",
		       (unsigned long long)pages, pages == 1 ? "" : "s",
		       (unsigned long long)n, n == 1 ? "" : "s",
		       (unsigned long long)bytes, a->dry_run ? "would be " : "");
	}
out:
	udax_close(dev);
	return rc;
}

static const char *const dev_pos[] = { "DEV" };

const struct cli_cmd cmd_clear = {
	.name = "clear",
	.alias = "clear-errors",
	.synopsis = "DEV --offset OFFSET --length LENGTH [--count N --stride STRIDE] [--all] [--dry-run]",
	.summary = "recover the poisoned pages covering a range: zero them and clear their poison",
	.opts = OPTF(OPT_OFFSET) | OPTF(OPT_LENGTH) | OPTF(OPT_COUNT) |
		OPTF(OPT_STRIDE) | OPTF(OPT_ALL) | OPTF(OPT_DRY_RUN),
	.required = OPTF(OPT_OFFSET) | OPTF(OPT_LENGTH),
	.pos_names = dev_pos,
	.min_pos = 1,
	.max_pos = 1,
	.check = cli_check_pattern,
	.run = clear_run,
};
