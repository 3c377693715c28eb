/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udax inject DEV --offset O --length L [--latent] [--count N --stride S]
 *
 * Poison the media over the sectors covering the range; known poison
 * unless --latent.  --count N --stride S repeat the range N times, S bytes
 * apart (a pattern of scattered bad pages in one command).
 */
#include <errno.h>

#include <udax/udax.h>

#include "cli.h"
#include "util.h"

static int inject_run(struct cli_args *a)
{
	const char *path = a->pos[0];
	uint64_t n = a->count ? a->count : 1;
	struct udax_dev *dev;
	int rc;

	rc = cli_open(path, 0, &dev);
	if (rc)
		return rc;
	rc = cli_check_range(dev, path, a->offset, (n - 1) * a->stride + a->length);
	for (uint64_t i = 0; !rc && i < n; i++) {
		int err = udax_inject(dev, a->offset + i * a->stride, a->length,
				      a->latent ? UDAX_INJECT_LATENT : 0);

		if (err == -EOPNOTSUPP) {
			cli_err(path, "udax cannot poison the media of a %s device: use ndctl inject-error (root, a platform with error injection); for kernel-known poison only, write \"SECTOR COUNT\" to the disk's /sys/block/pmemN/badblocks",
				udax_backend(dev));
			rc = EXIT_FAIL;
		} else if (err) {
			rc = cli_errno(path, err);
		}
	}
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
