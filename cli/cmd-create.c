/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* udax create IMG --size SIZE: a new emulated device (IMG + IMG.poison). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <udax/udax.h>

#include "cli.h"
#include "util.h"

static int create_check(struct cli_args *a)
{
	if (!a->size || a->size % UDAX_PAGE_SIZE)
		return cli_usage_err("--size", "must be a positive multiple of %d",
				     UDAX_PAGE_SIZE);
	return EXIT_OK;
}

static int create_run(struct cli_args *a)
{
	int rc = udax_create(a->pos[0], a->size);

	if (rc == -EEXIST)
		cli_err(a->pos[0], "already exists");
	else if (rc)
		return cli_errno(a->pos[0], rc);
	return rc ? EXIT_FAIL : EXIT_OK;
}

static const char *const create_pos[] = { "IMG" };

const struct cli_cmd cmd_create = {
	.name = "create",
	.synopsis = "IMG --size SIZE",
	.summary = "create an emulated device image (IMG and IMG.poison)",
	.opts = OPTF(OPT_SIZE),
	.required = OPTF(OPT_SIZE),
	.pos_names = create_pos,
	.min_pos = 1,
	.max_pos = 1,
	.check = create_check,
	.run = create_run,
};
