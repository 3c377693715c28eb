/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json-c helpers (ndctl's util/json.c): build objects, print one document. */
#ifndef UDAX_CLI_JSON_H
#define UDAX_CLI_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct udax_range;

/* [{"offset": BYTES, "length": BYTES}, ...] */
struct json_object *json_ranges(const struct udax_range *r, size_t n);
/* {"badblock_count": N, "badblocks": [...]} */
struct json_object *json_badblocks(const struct udax_range *r, size_t n);
/* Add @key = @v to @obj; a NULL @v (out of memory) is skipped. */
void json_add(struct json_object *obj, const char *key, struct json_object *v);
void json_add_u64(struct json_object *obj, const char *key, uint64_t v);
void json_add_str(struct json_object *obj, const char *key, const char *s);
void json_add_bool(struct json_object *obj, const char *key, int v);
/* Print @obj as one pretty document on stdout and drop it: EXIT_OK or
 * EXIT_FAIL (out of memory). */
int json_print(struct json_object *obj);

#endif /* UDAX_CLI_JSON_H */
