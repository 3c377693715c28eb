/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json-c helpers (ndctl's util/json.c): build objects, print one document. */
#ifndef UDAX_CLI_JSON_H
#define UDAX_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct udax_range;

/*
 * Keys that ndctl uses mean what they mean in ndctl: "badblock_count" is
 * sectors, "badblocks" entries are {"offset", "length"} in sectors (as
 * `ndctl list --media-errors` prints them).  Values in bytes go under keys
 * that end in "_bytes".
 */

/* -u/--human: sizes as "64.00 MiB (67.11 MB)", offsets as hex strings. */
extern bool json_human;

/* [{"offset_bytes": B, "length_bytes": B}, ...] */
struct json_object *json_ranges(const struct udax_range *r, size_t n);
/* Add "<prefix>badblock_count" (sectors), "<prefix>badblock_ranges",
 * "<prefix>badblock_bytes" and "<prefix>badblocks" for byte ranges @r. */
void json_add_badblocks(struct json_object *obj, const char *prefix,
			const struct udax_range *r, size_t n);
/* A byte size (a string with -u) and an offset (hex with -u). */
void json_add_size(struct json_object *obj, const char *key, uint64_t v);
void json_add_hex(struct json_object *obj, const char *key, uint64_t v);
/* Add @key = @v to @obj; a NULL @v (out of memory) is skipped. */
void json_add(struct json_object *obj, const char *key, struct json_object *v);
void json_add_u64(struct json_object *obj, const char *key, uint64_t v);
void json_add_str(struct json_object *obj, const char *key, const char *s);
void json_add_bool(struct json_object *obj, const char *key, int v);
/* Print @obj as one pretty document on stdout and drop it: EXIT_OK or
 * EXIT_FAIL (out of memory). */
int json_print(struct json_object *obj);

#endif /* UDAX_CLI_JSON_H */
