/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mapfile.h"
#include "util.h"

/* Positions and sizes stay below 2^63, as ddrescue's (long long). */
#define MAP_MAX_POS ((uint64_t)INT64_MAX)
/* A map file larger than this is not one. */
#define MAP_MAX_FILE (256u << 20)

void map_init(struct map *m)
{
	memset(m, 0, sizeof(*m));
	m->current_status = MAP_NONTRIED;
	m->current_pass = 1;
}

void map_free(struct map *m)
{
	free(m->b);
	map_init(m);
}

static int map_reserve(struct map *m, size_t n)
{
	struct map_block *b;
	size_t cap;

	if (n <= m->cap)
		return 0;
	cap = m->cap ? m->cap : 16;
	while (cap < n)
		cap *= 2;
	b = realloc(m->b, cap * sizeof(*b));
	if (!b)
		return -ENOMEM;
	m->b = b;
	m->cap = cap;
	return 0;
}

int map_reset(struct map *m, uint64_t size)
{
	m->n = 0;
	m->current_pos = 0;
	m->current_status = MAP_NONTRIED;
	m->current_pass = 1;
	return map_extend(m, size);
}

uint64_t map_extent(const struct map *m)
{
	return m->n ? m->b[m->n - 1].pos + m->b[m->n - 1].size : 0;
}

int map_extend(struct map *m, uint64_t size)
{
	uint64_t end = map_extent(m);

	if (size <= end)
		return 0;
	if (size > MAP_MAX_POS)
		return -EINVAL;
	if (m->n && m->b[m->n - 1].status == MAP_NONTRIED) {
		m->b[m->n - 1].size += size - end;
		return 0;
	}
	if (map_reserve(m, m->n + 1))
		return -ENOMEM;
	m->b[m->n++] = (struct map_block){ end, size - end, MAP_NONTRIED };
	return 0;
}

size_t map_find(const struct map *m, uint64_t pos)
{
	size_t lo = 0, hi = m->n;

	/* Invariant: b[0..lo) end at or before @pos; b[hi..n) start after it. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->b[mid].pos + m->b[mid].size <= pos)
			lo = mid + 1;
		else if (m->b[mid].pos > pos)
			hi = mid;
		else
			return mid;
	}
	return m->n;
}

int map_set(struct map *m, uint64_t pos, uint64_t len, char status)
{
	struct map_block piece[3];
	size_t i, j, lo, hi, np = 0, k, newn;
	uint64_t end = pos + len, bend;

	if (!len)
		return 0;
	if (end < pos || end > map_extent(m))
		return -EINVAL;
	i = map_find(m, pos);
	j = map_find(m, end - 1);
	bend = m->b[j].pos + m->b[j].size;
	if (pos > m->b[i].pos)
		piece[np++] = (struct map_block){ m->b[i].pos, pos - m->b[i].pos, m->b[i].status };
	piece[np++] = (struct map_block){ pos, len, status };
	if (end < bend)
		piece[np++] = (struct map_block){ end, bend - end, m->b[j].status };
	/* Merge equal neighbours among the pieces, then with the blocks
	 * either side of the replaced run [lo, hi]. */
	for (k = 1; k < np;) {
		if (piece[k].status == piece[k - 1].status) {
			piece[k - 1].size += piece[k].size;
			memmove(&piece[k], &piece[k + 1], (np - k - 1) * sizeof(piece[0]));
			np--;
		} else {
			k++;
		}
	}
	lo = i;
	hi = j;
	if (lo > 0 && m->b[lo - 1].status == piece[0].status) {
		lo--;
		piece[0].pos = m->b[lo].pos;
		piece[0].size += m->b[lo].size;
	}
	if (hi + 1 < m->n && m->b[hi + 1].status == piece[np - 1].status) {
		hi++;
		piece[np - 1].size += m->b[hi].size;
	}
	newn = m->n - (hi - lo + 1) + np;
	if (map_reserve(m, newn))
		return -ENOMEM;
	memmove(&m->b[lo + np], &m->b[hi + 1], (m->n - hi - 1) * sizeof(m->b[0]));
	memcpy(&m->b[lo], piece, np * sizeof(piece[0]));
	m->n = newn;
	return 0;
}

void map_totals(const struct map *m, uint64_t *nontried, uint64_t *nontrimmed,
		uint64_t *nonscraped, uint64_t *bad, uint64_t *finished)
{
	static const char order[] = "?*/-+";
	uint64_t t[5] = { 0 };

	for (size_t i = 0; i < m->n; i++) {
		const char *p = m->b[i].status ? strchr(order, m->b[i].status) : NULL;

		if (p)
			t[p - order] += m->b[i].size;
	}
	*nontried = t[0];
	*nontrimmed = t[1];
	*nonscraped = t[2];
	*bad = t[3];
	*finished = t[4];
}

static bool block_status_ok(char c)
{
	return c && strchr("?*/-+", c);
}

bool map_valid(const struct map *m)
{
	uint64_t pos = 0;

	if (!m->current_status || !strchr("?*/-FG+", m->current_status) ||
	    !m->current_pass)
		return false;
	for (size_t i = 0; i < m->n; i++) {
		const struct map_block *b = &m->b[i];

		if (b->pos != pos || !b->size || !block_status_ok(b->status) ||
		    b->size > MAP_MAX_POS - b->pos)
			return false;
		if (i && b->status == m->b[i - 1].status)
			return false;
		pos += b->size;
	}
	return true;
}

/* A C integer constant: 0x hex, 0 octal, decimal. */
static int parse_num(const char *s, uint64_t max, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return -EINVAL;
	} else if (s[0] == '0') {
		base = 8;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned int)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned int)(*s - 'A' + 10);
		else
			return -EINVAL;
		if (d >= base)
			return -EINVAL;
		if (v > (max - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Split @line (NUL-terminated, modified) into at most 4 tokens, without
 * the comment; returns the count (4 = too many). */
static int tokenize(char *line, char *tok[4])
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (is_space(*p))
			p++;
		if (!*p || *p == '#')
			return n;
		if (n == 4)
			return 4;
		tok[n++] = p;
		while (*p && !is_space(*p))
			p++;
		if (!*p)
			return n;
		*p++ = '\0';
	}
}

static bool one_char(const char *tok, const char *set)
{
	return tok[0] && !tok[1] && strchr(set, tok[0]);
}

int map_parse(struct map *m, const char *text, size_t len, size_t *linep,
	      const char **why)
{
	struct map nm;
	const char *p = text, *end = text + len;
	size_t line = 0;
	bool have_status = false;
	char *buf = NULL;
	size_t bufcap = 0;
	int rc = 0;

	map_init(&nm);
	*why = NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((nl ? nl : end) - p);
		char *tok[4];
		int nt;

		line++;
		if (ll + 1 > bufcap) {
			char *t = realloc(buf, ll + 1);

			if (!t) {
				rc = -ENOMEM;
				goto fail;
			}
			buf = t;
			bufcap = ll + 1;
		}
		memcpy(buf, p, ll);
		buf[ll] = '\0';
		p += ll + (nl ? 1 : 0);
		if (strlen(buf) != ll) {
			*why = "NUL byte";
			rc = -EINVAL;
			goto fail;
		}
		nt = tokenize(buf, tok);
		if (!nt)
			continue;
		if (!have_status) {
			uint64_t pass = 1;

			if (nt < 2 || nt > 3) {
				*why = "status line is not \"current_pos current_status [current_pass]\"";
				rc = -EINVAL;
				goto fail;
			}
			rc = parse_num(tok[0], MAP_MAX_POS, &nm.current_pos);
			if (!rc && !one_char(tok[1], "?*/-FG+")) {
				*why = "bad current_status";
				rc = -EINVAL;
			}
			/* current_pass is decimal (info ddrescue). */
			if (!rc && nt == 3)
				rc = parse_uint(tok[2], 1000000000, &pass);
			if (!rc && !pass)
				rc = -EINVAL;
			if (rc) {
				if (!*why)
					*why = "bad status line";
				goto fail;
			}
			nm.current_status = tok[1][0];
			nm.current_pass = (unsigned int)pass;
			have_status = true;
			continue;
		}
		{
			uint64_t pos, size;

			if (nt != 3) {
				*why = "block line is not \"pos size status\"";
				rc = -EINVAL;
				goto fail;
			}
			rc = parse_num(tok[0], MAP_MAX_POS, &pos);
			if (!rc)
				rc = parse_num(tok[1], MAP_MAX_POS, &size);
			if (rc) {
				*why = rc == -ERANGE ? "number too large" : "bad number";
				goto fail;
			}
			if (!one_char(tok[2], "?*/-+")) {
				*why = "bad block status";
				rc = -EINVAL;
				goto fail;
			}
			if (pos != map_extent(&nm)) {
				*why = "blocks are not contiguous from 0";
				rc = -EINVAL;
				goto fail;
			}
			if (!size || size > MAP_MAX_POS - pos) {
				*why = size ? "block ends past 2^63" : "empty block";
				rc = size ? -ERANGE : -EINVAL;
				goto fail;
			}
			if (nm.n && nm.b[nm.n - 1].status == tok[2][0]) {
				nm.b[nm.n - 1].size += size;	/* normalise */
				continue;
			}
			if (map_reserve(&nm, nm.n + 1)) {
				rc = -ENOMEM;
				goto fail;
			}
			nm.b[nm.n++] = (struct map_block){ pos, size, tok[2][0] };
		}
	}
	if (!have_status) {
		line++;
		*why = "no status line";
		rc = -EINVAL;
		goto fail;
	}
	free(buf);
	map_free(m);
	*m = nm;
	return 0;
fail:
	*linep = line;
	free(buf);
	map_free(&nm);
	return rc;
}

char *map_format(const struct map *m, const char *comments, size_t *lenp)
{
	size_t cl = comments ? strlen(comments) : 0;
	size_t cap = cl + 256 + m->n * 40, len = 0;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	memcpy(s, comments ? comments : "", cl);
	len = cl;
	len += (size_t)snprintf(s + len, cap - len,
		"# current_pos  current_status  current_pass\n"
		"0x%08" PRIX64 "     %c               %u\n"
		"#      pos        size  status\n",
		m->current_pos, m->current_status, m->current_pass);
	for (size_t i = 0; i < m->n; i++)
		len += (size_t)snprintf(s + len, cap - len, "0x%08" PRIX64 "  0x%08" PRIX64 "  %c\n",
					m->b[i].pos, m->b[i].size, m->b[i].status);
	*lenp = len;
	return s;
}

int map_load(const char *path, struct map *m, size_t *line, const char **why)
{
	struct stat st;
	char *text;
	ssize_t got;
	int fd, rc;

	*line = 0;
	*why = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAP_MAX_FILE) {
		close(fd);
		*why = S_ISREG(st.st_mode) ? "too large for a map file" : "not a regular file";
		return -EINVAL;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	got = read_full(fd, text, (size_t)st.st_size);
	close(fd);
	if (got < 0) {
		free(text);
		return (int)got;
	}
	rc = map_parse(m, text, (size_t)got, line, why);
	free(text);
	return rc;
}

int map_save(const char *path, const char *text, size_t len)
{
	static unsigned int seq;
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 48), *dir;
	int fd, rc = 0;

	if (!tmp)
		return -ENOMEM;
	/*
	 * A fresh file beside the map, never an existing one: O_EXCL |
	 * O_NOFOLLOW, so a symlink someone planted at the name is not
	 * followed (a fixed "MAP.tmp" opened with O_TRUNC was: root
	 * overwrote whatever it pointed to).  A taken name is skipped; the
	 * sequence starts at a random number, so names cannot be guessed.
	 */
	if (!seq && getrandom(&seq, sizeof(seq), GRND_NONBLOCK) != (ssize_t)sizeof(seq))
		seq = (unsigned int)getpid() * 2654435761u ^ (unsigned int)time(NULL);
	for (int tries = 0;; tries++) {
		snprintf(tmp, pl + 48, "%s.tmp.%ld.%u", path, (long)getpid(), seq++);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST || tries == 100)
			break;
	}
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = write_full(fd, text, len);
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		unlink(tmp);
		goto out;
	}
	/* The rename is durable once the directory is. */
	memcpy(tmp, path, pl + 1);
	dir = dirname(tmp);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) && errno != EINVAL)
			rc = -errno;
		close(fd);
	}
out:
	free(tmp);
	return rc;
}
