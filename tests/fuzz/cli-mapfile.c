/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the ddrescue map parser (cli/mapfile.c): whatever parses is a valid
 * map, and formatting it and parsing the text again gives the same map.
 * Then the input's bytes drive map_set() on a small map, checked against a
 * byte-per-unit model.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct map *a, const struct map *b)
{
	if (a->n != b->n || a->current_pos != b->current_pos ||
	    a->current_status != b->current_status || a->current_pass != b->current_pass)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->b[i].pos != b->b[i].pos || a->b[i].size != b->b[i].size ||
		    a->b[i].status != b->b[i].status)
			return false;
	return true;
}

#define UNITS 256

static void ops(const uint8_t *data, size_t size)
{
	static const char st[] = "?*/-+";
	char model[UNITS];
	struct map m;

	map_init(&m);
	if (map_reset(&m, UNITS))
		abort();
	memset(model, '?', sizeof(model));
	for (size_t i = 0; i + 3 <= size; i += 3) {
		uint64_t pos = data[i], len = data[i + 1] % 64 + 1;
		char s = st[data[i + 2] % 5];

		if (pos + len > UNITS) {
			if (map_set(&m, pos, len, s) != -EINVAL)
				abort();
			continue;
		}
		if (map_set(&m, pos, len, s))
			abort();
		memset(model + pos, s, len);
		if (!map_valid(&m) || map_extent(&m) != UNITS)
			abort();
		for (size_t k = 0; k < m.n; k++)
			for (uint64_t u = m.b[k].pos; u < m.b[k].pos + m.b[k].size; u++)
				if (model[u] != m.b[k].status)
					abort();
		for (uint64_t u = 0; u < UNITS; u++) {
			size_t k = map_find(&m, u);

			if (k >= m.n || m.b[k].pos > u || m.b[k].pos + m.b[k].size <= u)
				abort();
		}
	}
	map_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct map m, m2;
	const char *why;
	size_t line, len;
	char *text;

	map_init(&m);
	map_init(&m2);
	if (!map_parse(&m, (const char *)data, size, &line, &why)) {
		if (!map_valid(&m))
			abort();
		text = map_format(&m, "# fuzz\n", &len);
		if (!text)
			abort();
		if (map_parse(&m2, text, len, &line, &why) || !same(&m, &m2))
			abort();
		free(text);
	}
	map_free(&m);
	map_free(&m2);
	ops(data, size);
	return 0;
}
