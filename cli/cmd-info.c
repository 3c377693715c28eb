/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* udax info DEV [--json]: backend, size, page size, known bad blocks, alive. */
#include <stdio.h>
#include <stdlib.h>

#include <udax/udax.h>

#include "cli.h"
#include "json.h"
#include "util.h"

static int info_run(struct cli_args *a)
{
	const char *path = a->pos[0];
	struct udax_range *bb = NULL;
	struct udax_dev *dev;
	uint64_t bad = 0, sectors = 0;
	char hs[32], hb[32];
	long n;
	int rc;

	rc = cli_open(path, CLI_OPEN_READ, &dev);
	if (rc)
		return rc;
	n = cli_badblocks(dev, &bb);
	if (n < 0) {
		udax_close(dev);
		return cli_errno(path, (int)n);
	}
	for (long i = 0; i < n; i++) {
		bad += bb[i].len;
		sectors += (bb[i].off + bb[i].len + UDAX_SECTOR_SIZE - 1) /
			   UDAX_SECTOR_SIZE - bb[i].off / UDAX_SECTOR_SIZE;
	}
	free(bb);

	if (a->json) {
		struct json_object *o = json_object_new_object();

		json_add_str(o, "dev", path);
		json_add_str(o, "backend", udax_backend(dev));
		json_add_size(o, "size", udax_size(dev));
		json_add_u64(o, "page_size", UDAX_PAGE_SIZE);
		json_add_u64(o, "sector_size", UDAX_SECTOR_SIZE);
		json_add_u64(o, "badblock_count", sectors);
		json_add_u64(o, "badblock_ranges", (uint64_t)n);
		json_add_size(o, "badblock_bytes", bad);
		json_add_bool(o, "alive", udax_alive(dev));
		rc = json_print(o);
	} else {
		printf("device:         %s\n"
		       "backend:        %s\n"
		       "size:           %llu (%s)\n"
		       "page size:      %d\n"
		       "badblocks:      %llu sectors in %ld range%s (%s)\n"
		       "alive:          %s\n",
		       path, udax_backend(dev),
		       (unsigned long long)udax_size(dev), fmt_size(udax_size(dev), hs),
		       UDAX_PAGE_SIZE, (unsigned long long)sectors, n, n == 1 ? "" : "s",
		       fmt_size(bad, hb),
		       udax_alive(dev) ? "yes" : "no");
	}
	udax_close(dev);
	return rc;
}

static const char *const info_pos[] = { "DEV" };

const struct cli_cmd cmd_info = {
	.name = "info",
	.synopsis = "DEV [--json [-u]]",
	.summary = "show a device's backend, size, page size, known bad-block count and state",
	.opts = OPTF(OPT_JSON) | OPTF(OPT_HUMAN),
	.pos_names = info_pos,
	.min_pos = 1,
	.max_pos = 1,
	.run = info_run,
};
