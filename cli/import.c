/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bad-block lists from the tools of the field, for `udax badblocks
 * --import`: the format is told by the first character that is not white
 * space.
 *
 *   '[' or '{'  JSON.  ndctl list --media-errors: an object with
 *               "badblocks": [{"offset", "length"}] in 512-byte sectors
 *               (numbers, or "0x..." strings with -u); ndctl leaves the
 *               array out when there are none.  cxl list --media-errors: an
 *               object with "media_errors": [{"offset", "length"}] in
 *               bytes.  Exactly one listed device: a listing of several
 *               (a region and its namespaces, say) is refused, as is a
 *               memdev's list, whose offsets are device physical
 *               addresses that only the region's interleave can place.
 *   otherwise   Linux sysfs badblocks text, "<sector> <count>" lines.
 *
 * The result is sysfs text for udax_badblocks_import(), which applies it
 * all or nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <udax/udax.h>

#include "import.h"

/* A JSON number, or a string holding a decimal or 0x hex number. */
static int json_u64_of(struct json_object *v, uint64_t *out)
{
	const char *s;
	char *end;

	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);

		if (i < 0)
			return -EINVAL;
		*out = (uint64_t)i;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	s = json_object_get_string(v);
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

struct found {
	struct json_object *list;	/* the array */
	unsigned int unit;		/* bytes per unit of its entries */
	int n;				/* lists found */
	bool memdev;			/* a cxl memdev's list (DPA) */
};

/* Every object that lists bad blocks, anywhere in the document. */
static void walk(struct json_object *o, struct found *f)
{
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			walk(json_object_array_get_idx(o, i), f);
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, key, val) {
		if (!strcmp(key, "badblocks") || !strcmp(key, "media_errors")) {
			f->n++;
			f->list = val;
			f->unit = key[0] == 'b' ? UDAX_SECTOR_SIZE : 1;
			f->memdev = key[0] == 'm' &&
				    json_object_object_get_ex(o, "memdev", NULL);
		} else {
			walk(val, f);
		}
	}
}

/* Append "<sector> <count>\n" for @len bytes at @off (whole sectors). */
static int add_line(char **text, size_t *len, size_t *cap, uint64_t off,
		    uint64_t n)
{
	uint64_t s = off / UDAX_SECTOR_SIZE;
	uint64_t c = (off + n + UDAX_SECTOR_SIZE - 1) / UDAX_SECTOR_SIZE - s;

	if (*cap - *len < 48) {
		char *t = realloc(*text, *cap = *cap * 2 + 64);

		if (!t)
			return -ENOMEM;
		*text = t;
	}
	*len += (size_t)snprintf(*text + *len, *cap - *len, "%" PRIu64 " %" PRIu64 "\n",
				 s, c);
	return 0;
}

static int from_json(const char *buf, size_t n, char **text, size_t *len,
		     const char **why)
{
	struct json_tokener *tok = json_tokener_new();
	struct found f = { 0 };
	struct json_object *doc;
	size_t cap = 0, i;
	int rc = 0;

	if (!tok)
		return -ENOMEM;
	doc = json_tokener_parse_ex(tok, buf, (int)n);
	if (!doc || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != n) {
		/* trailing white space is fine; anything else is not */
		size_t at = doc ? json_tokener_get_parse_end(tok) : n;

		while (doc && at < n && strchr(" \t\r\n", buf[at]))
			at++;
		if (!doc || at < n) {
			*why = "not valid JSON";
			rc = -EINVAL;
			goto out;
		}
	}
	walk(doc, &f);
	*text = NULL;
	*len = 0;
	if (f.n > 1) {
		*why = "lists more than one device: list one (ndctl list -n NAMESPACE, cxl list -r REGION)";
		rc = -EINVAL;
		goto out;
	}
	if (f.memdev) {
		*why = "a memdev's media errors are device physical addresses: import the region's (cxl list -r REGION --media-errors)";
		rc = -EINVAL;
		goto out;
	}
	if (f.n && !json_object_is_type(f.list, json_type_array)) {
		*why = "its bad-block list is not an array";
		rc = -EINVAL;
		goto out;
	}
	for (i = 0; f.n && i < json_object_array_length(f.list); i++) {
		struct json_object *e = json_object_array_get_idx(f.list, i), *jo, *jl;
		uint64_t off, l;

		if (!json_object_is_type(e, json_type_object) ||
		    !json_object_object_get_ex(e, "offset", &jo) ||
		    !json_object_object_get_ex(e, "length", &jl) ||
		    json_u64_of(jo, &off) || json_u64_of(jl, &l) || !l ||
		    off > UINT64_MAX / f.unit || l > UINT64_MAX / f.unit ||
		    off * f.unit > UINT64_MAX - l * f.unit) {
			*why = "an entry is not {\"offset\", \"length\"} with numbers";
			rc = -EINVAL;
			goto out;
		}
		rc = add_line(text, len, &cap, off * f.unit, l * f.unit);
		if (rc)
			goto out;
	}
out:
	if (rc) {
		free(*text);
		*text = NULL;
	}
	json_object_put(doc);
	json_tokener_free(tok);
	return rc;
}

int import_badblocks(const char *buf, size_t n, char **text, size_t *len,
		     const char **why)
{
	size_t i = 0;

	*why = NULL;
	while (i < n && strchr(" \t\r\n", buf[i]) && buf[i])
		i++;
	if (i < n && (buf[i] == '[' || buf[i] == '{'))
		return from_json(buf, n, text, len, why);
	/* sysfs text: udax_badblocks_import() checks it */
	*text = malloc(n + 1);
	if (!*text)
		return -ENOMEM;
	memcpy(*text, buf, n);
	(*text)[n] = 0;
	*len = n;
	return 0;
}
