/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GNU ddrescue map files ("Mapfile structure" in info ddrescue):
 *
 *   # comments
 *   current_pos  current_status  current_pass      <- the status line
 *   pos  size  status                              <- contiguous blocks
 *
 * Block statuses: '?' non-tried, '*' failed non-trimmed, '/' failed
 * non-scraped, '-' bad sector(s), '+' finished.  Numbers are C integer
 * constants (decimal, 0x hex, 0 octal); '#' at the start of a line or after
 * whitespace starts a comment.  ddrescuelog(1) reads what map_format()
 * writes.
 */
#ifndef UDAX_CLI_MAPFILE_H
#define UDAX_CLI_MAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAP_NONTRIED  '?'
#define MAP_NONTRIMMED '*'
#define MAP_NONSCRAPED '/'
#define MAP_BAD       '-'
#define MAP_FINISHED  '+'

struct map_block {
	uint64_t pos, size;
	char status;
};

/* Blocks sorted, contiguous from 0, sizes > 0, neighbours differ. */
struct map {
	struct map_block *b;
	size_t n, cap;
	uint64_t current_pos;
	char current_status;		/* ? * / - F G + */
	unsigned int current_pass;
};

void map_init(struct map *m);
void map_free(struct map *m);
/* One non-tried block of @size bytes (none for 0). */
int map_reset(struct map *m, uint64_t size);
/* End of the last block. */
uint64_t map_extent(const struct map *m);
/* Grow to @size with a non-tried block at the end. */
int map_extend(struct map *m, uint64_t size);
/* Give [@pos, @pos + @len) @status, inside the extent; -EINVAL, -ENOMEM. */
int map_set(struct map *m, uint64_t pos, uint64_t len, char status);
/* Index of the block holding @pos, or m->n. */
size_t map_find(const struct map *m, uint64_t pos);
/* Bytes per status: totals['?'] etc. are at index map_status_index(). */
void map_totals(const struct map *m, uint64_t *nontried, uint64_t *nontrimmed,
		uint64_t *nonscraped, uint64_t *bad, uint64_t *finished);
/* The invariants above hold. */
bool map_valid(const struct map *m);

/*
 * Parse @len bytes of map text into @m (replacing it).  On error *@line is
 * the 1-based line at fault and *@why a static reason.
 * Return: 0, -EINVAL (malformed), -ERANGE (a number too large), -ENOMEM.
 */
int map_parse(struct map *m, const char *text, size_t len, size_t *line,
	      const char **why);
/* The map as text, after @comments (lines starting "# ", or NULL);
 * malloc'd, NUL-terminated, length in *@len.  NULL: out of memory. */
char *map_format(const struct map *m, const char *comments, size_t *len);

/* Read and parse @path: 0, -errno of the file, or map_parse()'s errors. */
int map_load(const char *path, struct map *m, size_t *line, const char **why);
/*
 * Replace @path with @text crash-safely: write "@path.tmp", fsync it,
 * rename it over @path, fsync the directory.  A crash leaves the old map
 * or the new one, never a mix.  Return: 0 or -errno.
 */
int map_save(const char *path, const char *text, size_t len);

#endif /* UDAX_CLI_MAPFILE_H */
