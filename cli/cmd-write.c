/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udax write DEV --offset O [--length L] [--mode failfast|recovery] [-i FILE]
 *
 * Default: as a DAX file system writes (udax_pwrite()): failfast, and on
 * poison the span again in recovery mode, so a write covering whole
 * poisoned pages clears them — the result of udax_write() in recovery
 * mode.  --mode failfast never clears poison: known poison anywhere in the
 * range refuses the whole write.  The data is synced at the end.
 *
 * Chunks end on page boundaries, so that a poisoned page is never split
 * between two calls (a split page could not be recovered).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <udax/udax.h>

#include "cli.h"
#include "util.h"

#define CHUNK (1u << 20)

static int write_check(struct cli_args *a)
{
	if ((a->seen & OPTF(OPT_LENGTH)) && !a->length)
		return cli_usage_err("--length", "must not be 0");
	if (a->offset + a->length < a->offset)
		return cli_usage_err("--length", "offset + length overflows");
	return EXIT_OK;
}

static int write_run(struct cli_args *a)
{
	const char *path = a->pos[0];
	const char *in = a->input && strcmp(a->input, "-") ? a->input : NULL;
	bool have_len = a->seen & OPTF(OPT_LENGTH);
	uint64_t len = a->length, done = 0, size;
	struct udax_dev *dev = NULL;
	char *buf = NULL;
	int rc, fd = 0;
	struct stat st;

	if (in) {
		fd = open(in, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return cli_errno(in, -errno);
	}
	rc = cli_open(path, 0, &dev);
	if (rc)
		goto out;
	size = udax_size(dev);
	/* A regular file's size is the length, when none was given. */
	if (!have_len && !fstat(fd, &st) && S_ISREG(st.st_mode)) {
		off_t cur = lseek(fd, 0, SEEK_CUR);

		if (cur >= 0 && st.st_size > cur) {
			len = (uint64_t)(st.st_size - cur);
			have_len = true;
		}
	}
	if (have_len)
		rc = cli_check_range(dev, path, a->offset, len);
	else if (a->offset >= size)
		rc = cli_usage_err(path, "offset %llu is past the end of the device (%llu bytes)",
				   (unsigned long long)a->offset, (unsigned long long)size);
	if (rc)
		goto out;
	if (!have_len)
		len = size - a->offset;
	if (a->mode == UDAX_OP_FAILFAST && have_len) {
		uint64_t at = cli_first_known_bad(dev, a->offset, len);

		if (at != UINT64_MAX) {
			cli_err(path, "known poison at offset %llu: refused (failfast never clears poison)",
				(unsigned long long)at);
			rc = EXIT_FAIL;
			goto out;
		}
	}
	buf = malloc(CHUNK);
	if (!buf) {
		cli_err(path, "out of memory");
		rc = EXIT_FAIL;
		goto out;
	}

	while (done < len) {
		uint64_t pos = a->offset + done;
		size_t want = CHUNK - (size_t)(pos % UDAX_PAGE_SIZE), c;
		ssize_t got, w;

		if (want > len - done)
			want = (size_t)(len - done);
		got = read_full(fd, buf, want);
		if (got < 0) {
			rc = cli_errno(in ? in : "stdin", (int)got);
			break;
		}
		if (!got)
			break;
		/*
		 * A short count is not the cause: ask again from where it
		 * stopped, and the next call says why (-EIO: poison there;
		 * anything else: a full file system, a truncated image...).
		 */
		c = 0;
		do {
			w = udax_write(dev, buf + c, (size_t)got - c, pos + c,
				       a->mode == UDAX_OP_FAILFAST ? UDAX_OP_FAILFAST
								   : UDAX_OP_RECOVERY);
			if (w > 0) {
				c += (size_t)w;
				done += (uint64_t)w;
			}
		} while (w > 0 && c < (size_t)got);
		if (c == (size_t)got) {
			/* fall through to the next chunk */
		} else if (w == -EIO || w == 0) {
			uint64_t at = pos + c;

			if (a->mode == UDAX_OP_FAILFAST)
				cli_err(path, "poison at offset %llu: refused (failfast never clears poison); %llu bytes written",
					(unsigned long long)at, (unsigned long long)done);
			else if (at % UDAX_PAGE_SIZE || (size_t)got - c < UDAX_PAGE_SIZE)
				cli_err(path, "poisoned page at offset %llu is only partly covered: it cannot be recovered (write whole pages); %llu bytes written",
					(unsigned long long)(at - at % UDAX_PAGE_SIZE),
					(unsigned long long)done);
			else	/* covered whole: recovering it failed */
				cli_err(path, "poisoned page at offset %llu could not be recovered: %s; %llu bytes written",
					(unsigned long long)at, strerror(EIO),
					(unsigned long long)done);
			rc = EXIT_FAIL;
			break;
		} else if (w == -EOPNOTSUPP) {
			cli_err(path, "poison at offset %llu: this device (%s) cannot clear it; %llu bytes written",
				(unsigned long long)(pos + c), udax_backend(dev),
				(unsigned long long)done);
			rc = EXIT_FAIL;
			break;
		} else {
			rc = cli_errno(path, (int)w);
			break;
		}
		if ((size_t)got < want)
			break;	/* end of input */
	}
	if (!rc && a->seen & OPTF(OPT_LENGTH) && done < len) {
		cli_err(in ? in : "stdin", "input ended after %llu of %llu bytes",
			(unsigned long long)done, (unsigned long long)len);
		rc = EXIT_FAIL;
	} else if (!rc && !(a->seen & OPTF(OPT_LENGTH)) && done == size - a->offset) {
		char c1;

		if (read_full(fd, &c1, 1) == 1) {
			cli_err(path, "input does not fit: %llu bytes written up to the end of the device",
				(unsigned long long)done);
			rc = EXIT_FAIL;
		}
	}
	if (dev && done) {
		int err = udax_sync(dev);

		if (err && !rc)
			rc = cli_errno(path, err);
	}
out:
	free(buf);
	udax_close(dev);
	if (in)
		close(fd);
	return rc;
}

static const char *const dev_pos[] = { "DEV" };

const struct cli_cmd cmd_write = {
	.name = "write",
	.synopsis = "DEV --offset OFFSET [--length LENGTH] [--mode failfast|recovery] [-i FILE]",
	.summary = "copy stdin or FILE into the device (default: failfast, then recovery on poison)",
	.opts = OPTF(OPT_OFFSET) | OPTF(OPT_LENGTH) | OPTF(OPT_MODE) | OPTF(OPT_INPUT),
	.required = OPTF(OPT_OFFSET),
	.pos_names = dev_pos,
	.min_pos = 1,
	.max_pos = 1,
	.check = write_check,
	.run = write_run,
};
