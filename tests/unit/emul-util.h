/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the emulated device's reliability tests (emul-*.c): images on
 * /dev/shm (every poison change fsyncs), data patterns, the state file and
 * the image header read from outside the library, the process's mapping
 * count, plain loads that catch SIGBUS.
 *
 * They use only the API of libudax 0.1 plus the files' formats, so that a
 * test also builds against an older tree (to show that it fails there).
 */
#ifndef UDAX_TEST_EMUL_UTIL_H
#define UDAX_TEST_EMUL_UTIL_H

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <udax/udax.h>

#include "harness.h"

#define PG UDAX_PAGE_SIZE

/* A fresh directory on /dev/shm (else $TMPDIR or /tmp). */
static inline char *e_tmpdir(void)
{
	static char dir[256];
	const char *base = "/dev/shm";

	if (access(base, W_OK)) {
		base = getenv("TMPDIR");
		if (!base || !*base)
			base = "/tmp";
	}
	snprintf(dir, sizeof(dir), "%s/udax-rel-XXXXXX", base);
	if (!mkdtemp(dir))
		t_fail("mkdtemp %s: %s", dir, strerror(errno));
	return dir;
}

/* Word @w (8 bytes) of page @pg of the data pattern @seed. */
static inline uint64_t e_word(uint64_t seed, uint64_t pg, size_t w)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + pg * 0xbf58476d1ce4e5b9ULL +
		     w * 0x94d049bb133111ebULL;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 32;
	return x;
}

/* The byte at offset @i of page @pg of the pattern. */
static inline unsigned char e_byte(uint64_t seed, uint64_t pg, size_t i)
{
	return (unsigned char)(e_word(seed, pg, i / 8) >> (8 * (i % 8)));
}

static inline void e_fill(unsigned char *p, uint64_t seed, uint64_t pg)
{
	for (size_t w = 0; w < PG / 8; w++) {
		uint64_t x = e_word(seed, pg, w);

		memcpy(p + 8 * w, &x, 8);	/* little-endian, as e_byte() */
	}
}

static inline bool e_is_page(const unsigned char *p, uint64_t seed,
			     uint64_t pg)
{
	for (size_t w = 0; w < PG / 8; w++) {
		uint64_t x = e_word(seed, pg, w);

		if (memcmp(p + 8 * w, &x, 8))
			return false;
	}
	return true;
}

/*
 * A new image at @path of @pages pages whose page p holds the pattern
 * (@seed, p); @seed 0 leaves it zero (sparse).  Data goes in with plain
 * pwrite beside the library (the data starts after a header page).
 */
static inline void e_image(const char *path, uint64_t pages, uint64_t seed)
{
	char state[512];
	unsigned char *buf;
	int fd;

	snprintf(state, sizeof(state), "%s.poison", path);
	unlink(path);
	unlink(state);
	t_ok(udax_create(path, pages * PG));
	if (!seed)
		return;
	buf = malloc(PG);
	t_assert(buf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	t_assert(fd >= 0);
	for (uint64_t p = 0; p < pages; p++) {
		e_fill(buf, seed, p);
		t_eq(pwrite(fd, buf, PG, (off_t)((p + 1) * PG)), PG);
	}
	close(fd);
	free(buf);
}

/* The image header's generation word (struct emul_header.gen). */
static inline uint64_t e_hdr_gen(const char *path)
{
	uint64_t g = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	t_assert(fd >= 0);
	t_eq(pread(fd, &g, sizeof(g), 24), sizeof(g));
	close(fd);
	return g;
}

static inline void e_set_hdr_gen(const char *path, uint64_t g)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	t_assert(fd >= 0);
	t_eq(pwrite(fd, &g, sizeof(g), 24), sizeof(g));
	close(fd);
}

/* The state file's two lists, in sectors. */
struct e_state {
	bool ok;			/* it parsed */
	uint64_t gen;			/* 0 for version 1 */
	struct udax_range *k, *m;
	size_t nk, nm;
};

static inline void e_state_free(struct e_state *s)
{
	free(s->k);
	free(s->m);
	memset(s, 0, sizeof(*s));
}

static inline bool e_push(struct udax_range **r, size_t *n, uint64_t a,
			  uint64_t b)
{
	struct udax_range *g;

	if (!*n || (*n >= 16 && !(*n & (*n - 1)))) {
		g = realloc(*r, (*n ? 2 * *n : 16) * sizeof(*g));
		if (!g)
			return false;
		*r = g;
	}
	(*r)[(*n)++] = (struct udax_range){ a, b };
	return true;
}

/*
 * Parse IMG.poison strictly, as the format says (version 1 or 2): header,
 * "known", ascending disjoint "<sector> <count>" lines, "media", more.
 */
static inline struct e_state e_state_read(const char *img)
{
	struct e_state s = { 0 };
	char path[512], line[128];
	int part = 0;		/* 1 known, 2 media */
	uint64_t last_end = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s.poison", img);
	f = fopen(path, "re");
	if (!f)
		return s;
	if (!fgets(line, sizeof(line), f))
		goto out;
	if (!strcmp(line, "udax-poison 2\n")) {
		if (!fgets(line, sizeof(line), f) ||
		    sscanf(line, "gen %" SCNu64, &s.gen) != 1)
			goto out;
	} else if (strcmp(line, "udax-poison 1\n")) {
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		uint64_t a, b;
		char nl;

		if (!strcmp(line, "known\n") && part == 0) {
			part = 1;
			continue;
		}
		if (!strcmp(line, "media\n") && part == 1) {
			part = 2;
			last_end = 0;
			continue;
		}
		if (!part || sscanf(line, "%" SCNu64 " %" SCNu64 "%c", &a, &b,
				    &nl) != 3 || nl != '\n' || !b ||
		    (a < last_end && (part == 1 ? s.nk : s.nm)))
			goto out;
		last_end = a + b;
		if (!e_push(part == 1 ? &s.k : &s.m, part == 1 ? &s.nk : &s.nm,
			    a, b))
			goto out;
	}
	s.ok = part == 2 && feof(f);
out:
	fclose(f);
	if (!s.ok) {
		e_state_free(&s);
		s.ok = false;
	}
	return s;
}

/*
 * Write IMG.poison from outside the library (before anyone opens it), in
 * the version 1 form every tree reads: @nk known and @nm media ranges,
 * sectors, ascending.  Large lists are the point: written directly, they
 * cost no transactions.
 */
static inline void e_state_write(const char *img, const struct udax_range *k,
				 size_t nk, const struct udax_range *m,
				 size_t nm)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s.poison", img);
	f = fopen(path, "we");
	t_assert(f);
	fputs("udax-poison 1\nknown\n", f);
	for (size_t i = 0; i < nk; i++)
		fprintf(f, "%" PRIu64 " %" PRIu64 "\n", k[i].off, k[i].len);
	fputs("media\n", f);
	for (size_t i = 0; i < nm; i++)
		fprintf(f, "%" PRIu64 " %" PRIu64 "\n", m[i].off, m[i].len);
	t_ok(fclose(f));
}

/* Sectors of [s, s + n) that @r covers. */
static inline uint64_t e_covered(const struct udax_range *r, size_t nr,
				 uint64_t s, uint64_t n)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < nr; i++) {
		uint64_t a = r[i].off > s ? r[i].off : s;
		uint64_t b = r[i].off + r[i].len < s + n ? r[i].off + r[i].len
							  : s + n;
		if (b > a)
			sum += b - a;
	}
	return sum;
}

/* Mappings of this process (lines of /proc/self/maps), all and inside
 * [lo, hi). */
static inline long e_maps(uintptr_t lo, uintptr_t hi, long *inside)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	long n = 0, in = 0;

	t_assert(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;

		n++;
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a < hi && b > lo)
			in++;
	}
	fclose(f);
	if (inside)
		*inside = in;
	return n;
}

/* A plain one-byte load (or store) at @p: 0 if it completed, else the
 * SIGBUS it raised, in *si. */
static sigjmp_buf e_env;
static siginfo_t e_si;

static inline void e_on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	e_si = *si;
	siglongjmp(e_env, 1);
}

static inline int e_touch(volatile unsigned char *p, bool store,
			  unsigned char *val, siginfo_t *si)
{
	struct sigaction sa = { .sa_sigaction = e_on_bus, .sa_flags = SA_SIGINFO };
	struct sigaction old;
	volatile int hit = 0;

	sigemptyset(&sa.sa_mask);
	t_ok(sigaction(SIGBUS, &sa, &old));
	if (!sigsetjmp(e_env, 1)) {
		if (store)
			*p = *val;
		else
			*val = *p;
	} else {
		hit = SIGBUS;
		if (si)
			*si = e_si;
	}
	t_ok(sigaction(SIGBUS, &old, NULL));
	return hit;
}

/* Wait for @pid; its exit status, or 128 + signal. */
static inline int e_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			t_fail("waitpid: %s", strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#endif /* UDAX_TEST_EMUL_UTIL_H */
