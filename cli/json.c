/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include <udax/udax.h>

#include "json.h"
#include "util.h"

/* JSON numbers above 2^63 do not occur: sizes are device bytes. */
static struct json_object *json_u64(uint64_t v)
{
	return json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

void json_add(struct json_object *obj, const char *key, struct json_object *v)
{
	if (obj && v)
		json_object_object_add(obj, key, v);
}

void json_add_u64(struct json_object *obj, const char *key, uint64_t v)
{
	json_add(obj, key, json_u64(v));
}

void json_add_str(struct json_object *obj, const char *key, const char *s)
{
	json_add(obj, key, json_object_new_string(s));
}

void json_add_bool(struct json_object *obj, const char *key, int v)
{
	json_add(obj, key, json_object_new_boolean(v));
}

struct json_object *json_ranges(const struct udax_range *r, size_t n)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; arr && i < n; i++) {
		struct json_object *o = json_object_new_object();

		if (!o)
			break;
		json_add_u64(o, "offset", r[i].off);
		json_add_u64(o, "length", r[i].len);
		json_object_array_add(arr, o);
	}
	return arr;
}

struct json_object *json_badblocks(const struct udax_range *r, size_t n)
{
	struct json_object *obj = json_object_new_object();

	json_add_u64(obj, "badblock_count", n);
	json_add(obj, "badblocks", json_ranges(r, n));
	return obj;
}

int json_print(struct json_object *obj)
{
	const char *s;

	if (!obj) {
		cli_err("json", "out of memory");
		return EXIT_FAIL;
	}
	s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s)
		printf("%s\n", s);
	json_object_put(obj);
	if (!s) {
		cli_err("json", "out of memory");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
