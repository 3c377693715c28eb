/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udax clear DEV --offset O --length L [--count N --stride S]: recover the
 * pages covering the range (udax_zero_page_range(): zero them, clear all
 * their poison).  Whole pages are zeroed, also the bytes of them outside
 * the range: the output says how much.
 */
#include <errno.h>
#include <stdio.h>

#include <udax/udax.h>

#include "cli.h"
#include "util.h"

static int clear_run(struct cli_args *a)
{
	const char *path = a->pos[0];
	uint64_t n = a->count ? a->count : 1, pages = 0;
	struct udax_dev *dev;
	int rc;

	rc = cli_open(path, 0, &dev);
	if (rc)
		return rc;
	rc = cli_check_range(dev, path, a->offset, (n - 1) * a->stride + a->length);
	for (uint64_t i = 0; !rc && i < n; i++) {
		uint64_t off = a->offset + i * a->stride;
		uint64_t first = off / UDAX_PAGE_SIZE;
		uint64_t last = (off + a->length - 1) / UDAX_PAGE_SIZE;
		int err = udax_zero_page_range(dev, first, (size_t)(last - first + 1));

		if (err == -EOPNOTSUPP) {
			/* A real device: the kernel's clear failed. */
			cli_err(path, "the kernel could not clear this poison: the platform has no clear-error command (ndctl clear-errors needs the same)");
			rc = EXIT_FAIL;
		} else if (err) {
			rc = cli_errno(path, err);
		}
		else
			pages += last - first + 1;
	}
	if (!rc && n == 1)
		printf("cleared %llu page%s at offset %llu (%llu bytes zeroed)\n",
		       (unsigned long long)pages, pages > 1 ? "s" : "",
		       (unsigned long long)(a->offset - a->offset % UDAX_PAGE_SIZE),
		       (unsigned long long)(pages * UDAX_PAGE_SIZE));
	else if (!rc)
		printf("cleared %llu ranges: %llu pages (%llu bytes zeroed)\n",
		       (unsigned long long)n, (unsigned long long)pages,
		       (unsigned long long)(pages * UDAX_PAGE_SIZE));
	udax_close(dev);
	return rc;
}

static const char *const dev_pos[] = { "DEV" };

const struct cli_cmd cmd_clear = {
	.name = "clear",
	.alias = "clear-errors",
	.synopsis = "DEV --offset OFFSET --length LENGTH [--count N --stride STRIDE]",
	.summary = "recover the pages covering a range: zero them and clear their poison",
	.opts = OPTF(OPT_OFFSET) | OPTF(OPT_LENGTH) | OPTF(OPT_COUNT) | OPTF(OPT_STRIDE),
	.required = OPTF(OPT_OFFSET) | OPTF(OPT_LENGTH),
	.pos_names = dev_pos,
	.min_pos = 1,
	.max_pos = 1,
	.check = cli_check_pattern,
	.run = clear_run,
};
