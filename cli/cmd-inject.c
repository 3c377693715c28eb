/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udax inject DEV --offset O --length L [--latent] [--count N --stride S]
 *
 * Poison the media over the sectors covering the range; known poison
 * unless --latent.  --count N --stride S repeat the range N times, S bytes
 * apart (a pattern of scattered bad pages in one command).  All the ranges
 * go in as one transaction (udax_inject_ranges()): every one of them or
 * none, and one rewrite of the poison state however many there are.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udax/udax.h>

#include "cli.h"
#include "util.h"

static int inject_run(struct cli_args *a)
{
	const char *path = a->pos[0];
	uint64_t n = a->count ? a->count : 1;
	struct udax_range *r;
	struct udax_dev *dev;
	int rc, err;

	rc = cli_open(path, 0, &dev);
	if (rc)
		return rc;
	rc = cli_check_range(dev, path, a->offset, (n - 1) * a->stride + a->length);
	if (rc)
		goto out;
	r = malloc(n * sizeof(*r));
	if (!r) {
		cli_err(path, "out of memory for %llu ranges: nothing injected",
			(unsigned long long)n);
		rc = EXIT_FAIL;
		goto out;
	}
	for (uint64_t i = 0; i < n; i++)
		r[i] = (struct udax_range){ a->offset + i * a->stride, a->length };
	err = udax_inject_ranges(dev, r, n, a->latent ? UDAX_INJECT_LATENT : 0);
	free(r);
	if (err == -EOPNOTSUPP) {
		cli_err(path, "udax cannot poison the media of a %s device: use ndctl inject-error (root, a platform with error injection); for kernel-known poison only, write \"SECTOR COUNT\" to the disk's /sys/block/pmemN/badblocks",
			udax_backend(dev));
		rc = EXIT_FAIL;
	} else if (err) {
		/* Not cli_errno(): an -EIO here is the state file's. */
		cli_err(path, "%s: nothing injected", strerror(-err));
		rc = EXIT_FAIL;
	} else {
		printf("injected %llu range%s (%s poison)\n", (unsigned long long)n,
		       n > 1 ? "s" : "", a->latent ? "latent" : "known");
	}
out:
	udax_close(dev);
	return rc;
}

static const char *const dev_pos[] = { "DEV" };

const struct cli_cmd cmd_inject = {
	.name = "inject",
	.alias = "inject-error",
	.synopsis = "DEV --offset OFFSET --length LENGTH [--latent] [--count N --stride STRIDE]",
	.summary = "poison the media over the sectors covering a range",
	.opts = OPTF(OPT_OFFSET) | OPTF(OPT_LENGTH) | OPTF(OPT_LATENT) |
		OPTF(OPT_COUNT) | OPTF(OPT_STRIDE),
	.required = OPTF(OPT_OFFSET) | OPTF(OPT_LENGTH),
	.pos_names = dev_pos,
	.min_pos = 1,
	.max_pos = 1,
	.check = cli_check_pattern,
	.run = inject_run,
};
