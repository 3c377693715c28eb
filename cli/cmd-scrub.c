/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udax scrub DEV [--json]: make all media poison known (address range
 * scrub) and report what became known: the known list after the scrub
 * minus the list before it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <udax/udax.h>

#include "cli.h"
#include "json.h"
#include "util.h"

/* @after minus @before, both sorted and disjoint, into @out (room for
 * n_after + n_before ranges). */
static size_t ranges_minus(const struct udax_range *after, size_t na,
			   const struct udax_range *before, size_t nb,
			   struct udax_range *out)
{
	size_t n = 0, j = 0;

	for (size_t i = 0; i < na; i++) {
		uint64_t pos = after[i].off, end = after[i].off + after[i].len;

		while (j < nb && before[j].off + before[j].len <= pos)
			j++;
		for (size_t k = j; pos < end && k < nb && before[k].off < end; k++) {
			if (before[k].off > pos)
				out[n++] = (struct udax_range){ pos, before[k].off - pos };
			if (before[k].off + before[k].len > pos)
				pos = before[k].off + before[k].len;
		}
		if (pos < end)
			out[n++] = (struct udax_range){ pos, end - pos };
	}
	return n;
}

static int scrub_run(struct cli_args *a)
{
	const char *path = a->pos[0];
	struct udax_range *before = NULL, *after = NULL, *found = NULL;
	struct udax_dev *dev;
	long nb, na;
	int64_t bytes, sectors;
	size_t nf = 0;
	int rc;

	rc = cli_open(path, 0, &dev);
	if (rc)
		return rc;
	nb = cli_badblocks(dev, &before);
	if (nb < 0) {
		rc = cli_errno(path, (int)nb);
		goto out;
	}
	bytes = udax_scrub(dev);
	if (bytes < 0) {
		if (bytes == -EOPNOTSUPP)
			cli_err(path, "udax cannot scrub a %s device: use ndctl start-scrub and ndctl wait-scrub (root); udax reads the kernel's list at its next call",
				udax_backend(dev));
		rc = bytes == -EOPNOTSUPP ? EXIT_FAIL : cli_errno(path, (int)bytes);
		goto out;
	}
	sectors = bytes / UDAX_SECTOR_SIZE;
	na = cli_badblocks(dev, &after);
	if (na < 0) {
		rc = cli_errno(path, (int)na);
		goto out;
	}
	found = calloc((size_t)(na + nb) + 1, sizeof(*found));
	if (!found) {
		cli_err(path, "out of memory");
		rc = EXIT_FAIL;
		goto out;
	}
	nf = ranges_minus(after, (size_t)na, before, (size_t)nb, found);

	if (a->json) {
		struct json_object *o = json_object_new_object();

		json_add_str(o, "dev", path);
		json_add_badblocks(o, "new_", found, nf);
		json_add_badblocks(o, "", after, (size_t)na);
		rc = json_print(o);
	} else {
		printf("%lld new bad sector%s in %zu range%s\n", (long long)sectors,
		       sectors == 1 ? "" : "s", nf, nf == 1 ? "" : "s");
		for (size_t i = 0; i < nf; i++)
			printf("  offset %llu length %llu (sector %llu count %llu)\n",
			       (unsigned long long)found[i].off,
			       (unsigned long long)found[i].len,
			       (unsigned long long)(found[i].off / UDAX_SECTOR_SIZE),
			       (unsigned long long)(found[i].len / UDAX_SECTOR_SIZE));
	}
out:
	free(before);
	free(after);
	free(found);
	udax_close(dev);
	return rc;
}

static const char *const scrub_pos[] = { "DEV" };

const struct cli_cmd cmd_scrub = {
	.name = "scrub",
	.alias = "ars",
	.synopsis = "DEV [--json [-u]]",
	.summary = "make latent poison known (address range scrub) and report what was found",
	.opts = OPTF(OPT_JSON) | OPTF(OPT_HUMAN),
	.pos_names = scrub_pos,
	.min_pos = 1,
	.max_pos = 1,
	.run = scrub_run,
};
