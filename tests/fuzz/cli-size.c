/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz udax(1)'s size parser (cli/util.c parse_size, parse_uint) against a
 * simple model: digits in base 10 or 16, one binary suffix, no overflow.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The model: a wide accumulator that saturates instead of wrapping. */
static int model(const char *s, uint64_t *out)
{
	unsigned __int128 v = 0;
	unsigned int base = 10, shift = 0;
	bool over = false;
	const char *p = s;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		return -EINVAL;
	const char *digits_start = p;
	for (;; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		v = v * base + (unsigned)d;
		if (v > UINT64_MAX)
			over = true, v = (unsigned __int128)UINT64_MAX + 1;
	}
	if (p == digits_start)
		return -EINVAL;
	switch (*p) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	}
	if (shift) {
		p++;
		if (!strncmp(p, "iB", 2))
			p += 2;
	}
	if (*p)
		return -EINVAL;
	if (over || (v << shift) > UINT64_MAX)
		return -ERANGE;
	*out = (uint64_t)(v << shift);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	uint64_t a = 0, b = 0;
	int ra, rb;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	ra = parse_size(s, &a);
	rb = model(s, &b);
	if (ra != rb || (!ra && a != b))
		abort();
	/* parse_uint: decimal only, bounded */
	ra = parse_uint(s, 1000000, &a);
	if (!ra && (a > 1000000 || strspn(s, "0123456789") != strlen(s)))
		abort();
	free(s);
	return 0;
}
