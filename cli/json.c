/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>
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

/*
 * -u/--human, as ndctl's: sizes as "1.00 MiB (1.05 MB)"-style strings,
 * offsets as hex strings; raw integers otherwise.
 */
bool json_human;

static struct json_object *json_size(uint64_t v)
{
	char buf[64];

	if (!json_human || v < 5000 * 1024)
		return json_u64(v);
	/* centi-units, rounded half up; IEC then JEDEC, as ndctl shows them */
	if (v < (2ULL << 30))
		snprintf(buf, sizeof(buf), "%llu.%02llu MiB (%llu.%02llu MB)",
			 (unsigned long long)((v * 200 / (1 << 20) + 1) / 2 / 100),
			 (unsigned long long)((v * 200 / (1 << 20) + 1) / 2 % 100),
			 (unsigned long long)((v / 5000 + 1) / 2 / 100),
			 (unsigned long long)((v / 5000 + 1) / 2 % 100));
	else
		snprintf(buf, sizeof(buf), "%llu.%02llu GiB (%llu.%02llu GB)",
			 (unsigned long long)((v / (1 << 20) * 200 / 1024 + 1) / 2 / 100),
			 (unsigned long long)((v / (1 << 20) * 200 / 1024 + 1) / 2 % 100),
			 (unsigned long long)((v / 5000000 + 1) / 2 / 100),
			 (unsigned long long)((v / 5000000 + 1) / 2 % 100));
	return json_object_new_string(buf);
}

static struct json_object *json_hex(uint64_t v)
{
	char buf[32];

	if (!json_human)
		return json_u64(v);
	snprintf(buf, sizeof(buf), "%#llx", (unsigned long long)v);
	return json_object_new_string(buf);
}

void json_add_size(struct json_object *obj, const char *key, uint64_t v)
{
	json_add(obj, key, json_size(v));
}

void json_add_hex(struct json_object *obj, const char *key, uint64_t v)
{
	json_add(obj, key, json_hex(v));
}

struct json_object *json_ranges(const struct udax_range *r, size_t n)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; arr && i < n; i++) {
		struct json_object *o = json_object_new_object();

		if (!o)
			break;
		json_add_hex(o, "offset_bytes", r[i].off);
		json_add_size(o, "length_bytes", r[i].len);
		json_object_array_add(arr, o);
	}
	return arr;
}

void json_add_badblocks(struct json_object *obj, const char *prefix,
			const struct udax_range *r, size_t n)
{
	struct json_object *arr = json_object_new_array();
	uint64_t sectors = 0, bytes = 0;
	char key[64];

	for (size_t i = 0; arr && i < n; i++) {
		struct json_object *o = json_object_new_object();
		uint64_t s = r[i].off / UDAX_SECTOR_SIZE;
		uint64_t c = (r[i].off + r[i].len + UDAX_SECTOR_SIZE - 1) /
			     UDAX_SECTOR_SIZE - s;

		if (!o)
			break;
		json_add_hex(o, "offset", s);
		json_add_u64(o, "length", c);
		json_add_hex(o, "offset_bytes", r[i].off);
		json_add_size(o, "length_bytes", r[i].len);
		json_object_array_add(arr, o);
		sectors += c;
		bytes += r[i].len;
	}
	snprintf(key, sizeof(key), "%sbadblock_count", prefix);
	json_add_u64(obj, key, sectors);
	snprintf(key, sizeof(key), "%sbadblock_ranges", prefix);
	json_add_u64(obj, key, n);
	snprintf(key, sizeof(key), "%sbadblock_bytes", prefix);
	json_add_size(obj, key, bytes);
	snprintf(key, sizeof(key), "%sbadblocks", prefix);
	json_add(obj, key, arr);
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
