/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udax read DEV [--offset O] [--length L] [--mode failfast|recovery] [-o FILE]
 *
 * Without a range, the whole device (as daxio reads it).
 *
 * The default mode is failfast, the library's and the kernel's default: a
 * plain read either gives all the bytes asked for or nothing, so a script
 * never mistakes a readable prefix for the data.  Recovery is asked for by
 * name, and then gives the prefix up to the first poisoned page, says on
 * stderr where the poison starts and exits 3.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <udax/udax.h>

#include "cli.h"
#include "util.h"

#define CHUNK (1u << 20)

static int rw_check(struct cli_args *a)
{
	if ((a->seen & OPTF(OPT_LENGTH)) && !a->length)
		return cli_usage_err("--length", "must not be 0");
	if (a->offset + a->length < a->offset)
		return cli_usage_err("--length", "offset + length overflows");
	return EXIT_OK;
}

static int read_run(struct cli_args *a)
{
	const char *path = a->pos[0];
	const char *out = a->output && strcmp(a->output, "-") ? a->output : NULL;
	int mode = a->mode == UDAX_OP_RECOVERY ? UDAX_OP_RECOVERY : UDAX_OP_FAILFAST;
	uint64_t done = 0, len = a->length, at;
	struct udax_dev *dev;
	char *buf = NULL;
	int rc, fd = 1;

	rc = cli_open(path, CLI_OPEN_READ, &dev);
	if (rc)
		return rc;
	/* No --length: to the end of the device (daxio's default). */
	if (!(a->seen & OPTF(OPT_LENGTH)))
		len = a->offset < udax_size(dev) ? udax_size(dev) - a->offset : 0;
	rc = cli_check_range(dev, path, a->offset, len ? len : 1);
	if (rc)
		goto out;
	/* Failfast refuses the whole range before a byte is written out. */
	at = mode == UDAX_OP_FAILFAST ? cli_first_known_bad(dev, a->offset, len)
				      : UINT64_MAX;
	if (at != UINT64_MAX) {
		cli_err(path, "known poison at offset %llu: refused (failfast; --mode recovery reads up to it)",
			(unsigned long long)at);
		rc = EXIT_FAIL;
		goto out;
	}
	buf = malloc(CHUNK);
	if (!buf) {
		cli_err(path, "out of memory");
		rc = EXIT_FAIL;
		goto out;
	}
	if (out) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			rc = cli_errno(out, -errno);
			goto out;
		}
	}

	while (done < len) {
		uint64_t pos = a->offset + done;
		size_t chunk = len - done < CHUNK ? (size_t)(len - done) : CHUNK;
		ssize_t c = udax_read(dev, buf, chunk, pos, mode);

		if (c > 0) {
			int err = write_full(fd, buf, (size_t)c);

			if (err) {
				rc = cli_errno(out ? out : "stdout", err);
				break;
			}
			done += (uint64_t)c;
			/* A short count is not the cause: the next call,
			 * from where it stopped, says why (-EIO: poison;
			 * else a failure that is not poison). */
			continue;
		}
		if (c < 0 && c != -EIO) {
			rc = cli_errno(path, (int)c);
			break;
		}
		/* Poison: in failfast found now (it was latent), in recovery
		 * where the readable prefix ends. */
		at = c < 0 ? pos : pos + (uint64_t)c;
		if (mode == UDAX_OP_RECOVERY) {
			cli_err(path, "poison at offset %llu: wrote the %llu readable bytes before it",
				(unsigned long long)at, (unsigned long long)done);
			rc = EXIT_PARTIAL;
		} else {
			at = cli_first_known_bad(dev, pos, chunk);
			cli_err(path, "poison found at offset %llu (it was latent; now known): refused (failfast); %llu bytes written before it",
				(unsigned long long)(at == UINT64_MAX ? pos : at),
				(unsigned long long)done);
			rc = EXIT_FAIL;
		}
		break;
	}
	if (out && close(fd) && !rc)
		rc = cli_errno(out, -errno);
out:
	free(buf);
	udax_close(dev);
	return rc;
}

static const char *const dev_pos[] = { "DEV" };

const struct cli_cmd cmd_read = {
	.name = "read",
	.synopsis = "DEV [--offset OFFSET] [--length LENGTH] [--mode failfast|recovery] [-o FILE]",
	.summary = "copy the device, or a range of it, to stdout or FILE (default mode: failfast)",
	.opts = OPTF(OPT_OFFSET) | OPTF(OPT_LENGTH) | OPTF(OPT_MODE) | OPTF(OPT_OUTPUT),
	.pos_names = dev_pos,
	.min_pos = 1,
	.max_pos = 1,
	.check = rw_check,
	.run = read_run,
};
