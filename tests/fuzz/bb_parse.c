/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target for udax__bb_parse(): whatever the input, the parser must
 * stay inside it, and what it accepts must be sorted and merged, format
 * back into text it accepts again unchanged, and load into a table that
 * gives the same ranges back.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c);	\
		abort();						\
	}								\
} while (0)

static void roundtrip(const struct udax_range *r, size_t n)
{
	struct udax_range *r2 = NULL, *snap;
	struct udax_bb *bb;
	size_t len, n2;
	char *buf;

	len = udax__bb_format(r, n, NULL, 0);
	buf = malloc(len + 1);
	check(buf);
	check(udax__bb_format(r, n, buf, len + 1) == len);
	check(buf[len] == '\0' && strlen(buf) == len);
	check(udax__bb_parse(buf, len, UINT64_MAX, &r2, &n2) == 0);
	check(n2 == n);
	check(!n || memcmp(r, r2, n * sizeof(*r)) == 0);
	free(r2);
	free(buf);

	check(udax__bb_new(&bb) == 0);
	check(udax__bb_assign(bb, r, n) == 0);
	check(udax__bb_count(bb) == n);
	snap = malloc((n + 1) * sizeof(*snap));
	check(snap);
	check(udax__bb_snapshot(bb, snap, n) == n);
	check(!n || memcmp(r, snap, n * sizeof(*r)) == 0);
	for (size_t i = 0; i < n; i++) {
		check(udax__bb_first_bad(bb, r[i].off, r[i].len) == r[i].off);
		check(udax__bb_count_in(bb, r[i].off, r[i].len) == r[i].len);
	}
	free(snap);
	udax__bb_free(bb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy so that any over-read is caught by ASan. */
	char *text = malloc(size ? size : 1);
	static const uint64_t limits[] = { UINT64_MAX, 1 << 20, 64 };
	struct udax_range *r;
	size_t n;

	if (!text)
		return 0;
	memcpy(text, data, size);
	for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
		int ret = udax__bb_parse(text, size, limits[l], &r, &n);

		check(ret == 0 || ret == -EINVAL || ret == -ERANGE ||
		      ret == -ENOMEM);
		if (ret)
			continue;
		check(n || r == NULL);
		for (size_t i = 0; i < n; i++) {
			check(r[i].len > 0);
			check(r[i].off + r[i].len <= limits[l]);
			check(r[i].off + r[i].len >= r[i].off);
			if (i)
				check(r[i - 1].off + r[i - 1].len < r[i].off);
		}
		roundtrip(r, n);
		free(r);
	}
	free(text);
	return 0;
}
