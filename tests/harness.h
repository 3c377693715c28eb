/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test helpers: asserts that print both operands and where, and the skip
 * convention (exit 77 with a reason) that ctest's SKIP_RETURN_CODE reads.
 */
#ifndef UDAX_TEST_HARNESS_H
#define UDAX_TEST_HARNESS_H

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T_SKIP 77

#define t_fail(...) do {						\
	fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);			\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
	exit(1);							\
} while (0)

#define t_skip(...) do {						\
	printf("SKIP: ");						\
	printf(__VA_ARGS__);						\
	putchar('\n');							\
	exit(T_SKIP);							\
} while (0)

#define t_assert(c) do {						\
	if (!(c))							\
		t_fail("assertion failed: %s", #c);			\
} while (0)

/* Signed comparison: prints both sides (errno values read as negatives). */
#define t_eq(a, b) do {							\
	long long a_ = (long long)(a), b_ = (long long)(b);		\
	if (a_ != b_)							\
		t_fail("%s == %s: %lld != %lld%s%s", #a, #b, a_, b_,	\
		       a_ < 0 && a_ > -4096 ? " " : "",			\
		       a_ < 0 && a_ > -4096 ? strerror((int)-a_) : "");	\
} while (0)

#define t_ueq(a, b) do {						\
	unsigned long long a_ = (unsigned long long)(a);		\
	unsigned long long b_ = (unsigned long long)(b);		\
	if (a_ != b_)							\
		t_fail("%s == %s: %llu != %llu (0x%llx != 0x%llx)",	\
		       #a, #b, a_, b_, a_, b_);				\
} while (0)

#define t_ok(x) t_eq((x), 0)

/*
 * Under valgrind (3.19), a SIGBUS that the process queues to itself with
 * rt_tgsigqueueinfo, as emulated poison does, aborts valgrind itself.
 * Tests of that path skip it there and say so.
 */
static inline int t_under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p && strstr(p, "vgpreload");
}

/* A fresh temporary directory for this test; removed by t_tmpdir_rm(). */
static inline char *t_tmpdir(void)
{
	static char dir[] = "/tmp/udax-test-XXXXXX";

	if (!mkdtemp(dir))
		t_fail("mkdtemp: %s", strerror(errno));
	return dir;
}

static inline void t_tmpdir_rm(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
}

/* splitmix64: a seeded generator for randomized tests (seed is printed). */
static inline uint64_t t_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif /* UDAX_TEST_HARNESS_H */
