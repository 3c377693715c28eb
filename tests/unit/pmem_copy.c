/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Persistent copies against memcpy/memset: every dst/src alignment 0..63 for
 * lengths 0..300, then large sizes; bytes around the target must not change.
 * The implementation is chosen once per process, so each one runs in its own
 * forked child with UDAX_PERSIST set before the first call.
 */
#include <sys/wait.h>

#include "harness.h"
#include "private.h"

#define PAD 128
#define SMALL 300

static uint64_t seed = 0x5eed;

static void fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)t_rand(&seed);
}

static void check_copy(unsigned char *dbuf, unsigned char *ref,
		       const unsigned char *sbuf, size_t da, size_t sa,
		       size_t len, size_t total)
{
	memcpy(ref, dbuf, total);
	memcpy(ref + PAD + da, sbuf + sa, len);
	udax__memcpy_persist(dbuf + PAD + da, sbuf + sa, len);
	if (memcmp(dbuf, ref, total)) {
		size_t i = 0;

		while (dbuf[i] == ref[i])
			i++;
		t_fail("%s: copy da=%zu sa=%zu len=%zu: byte %zd differs",
		       udax__persist_impl(), da, sa, len, (ssize_t)i - PAD - (ssize_t)da);
	}
}

static void check_set(unsigned char *dbuf, unsigned char *ref, size_t da,
		      int c, size_t len, size_t total)
{
	memcpy(ref, dbuf, total);
	memset(ref + PAD + da, c, len);
	udax__memset_persist(dbuf + PAD + da, c, len);
	if (memcmp(dbuf, ref, total))
		t_fail("%s: set da=%zu c=%#x len=%zu", udax__persist_impl(),
		       da, c, len);
}

static int run_checks(const char *want)
{
	static const size_t big[] = { 4096, 4097, 65536 + 13, 1 << 20,
				      (2 << 20) + 4095, 8 << 20 };
	size_t total = (8 << 20) + 2 * PAD + 64;
	unsigned char *sbuf = malloc(total), *dbuf = malloc(total);
	unsigned char *ref = malloc(total);
	const char *impl = udax__persist_impl();

	t_assert(sbuf && dbuf && ref);
	if (want && strncmp(impl, want, strlen(want))) {
		printf("SKIP %s: this CPU runs %s instead\n", want, impl);
		return T_SKIP;
	}
	printf("impl %s\n", impl);
	fill(sbuf, total);
	fill(dbuf, total);

	for (size_t da = 0; da < 64; da++)
		for (size_t sa = 0; sa < 64; sa++)
			for (size_t len = 0; len <= SMALL; len++)
				check_copy(dbuf, ref, sbuf, da, sa, len,
					   2 * PAD + SMALL + 64);
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		for (size_t da = 0; da < 64; da += 7)
			check_copy(dbuf, ref, sbuf, da, (da * 5) % 64, big[i],
				   total);

	for (size_t da = 0; da < 64; da++)
		for (size_t len = 0; len <= SMALL; len++)
			check_set(dbuf, ref, da, (int)(da * 37 + len), len,
				  2 * PAD + SMALL + 64);
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		check_set(dbuf, ref, i * 9, 0, big[i], total);
	/* memset takes an int and uses its low byte */
	check_set(dbuf, ref, 3, 0x1ff, 200, 2 * PAD + SMALL + 64);

	free(sbuf);
	free(dbuf);
	free(ref);
	return 0;
}

/* Run the checks in a child with @env set; returns its exit status. */
static int run_child(const char *persist, const char *nt_min)
{
	int st;
	pid_t pid = fork();

	t_assert(pid >= 0);
	if (!pid) {
		if (persist)
			setenv("UDAX_PERSIST", persist, 1);
		if (nt_min)
			setenv("UDAX_NT_MIN", nt_min, 1);
		int rc = run_checks(persist && strcmp(persist, "nt") ?
				    persist : NULL);

		fflush(stdout);
		_exit(rc);
	}
	t_eq(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		t_fail("UDAX_PERSIST=%s: killed by signal %d",
		       persist ? persist : "(unset)", WTERMSIG(st));
	return WEXITSTATUS(st);
}

int main(void)
{
	static const char *const impls[] = {
		"nt-sse2", "nt-avx2", "nt-avx512",
		"cached-clwb", "cached-clflushopt", "cached-clflush",
	};
	int ran = 0;

	/* Nothing here calls the persist functions before the children. */
	t_eq(run_child(NULL, NULL), 0);
	t_eq(run_child("nt", NULL), 0);
	t_eq(run_child(NULL, "129"), 0);	/* short ones take the cached path */
	for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++) {
		int rc = run_child(impls[i], NULL);

		if (rc == 0)
			ran++;
		else if (rc != T_SKIP)
			t_fail("%s failed: %d", impls[i], rc);
	}
	t_assert(ran > 0);
#if defined(__x86_64__)
	/* "cached" is always available, whatever it flushes with */
	t_eq(run_child("cached", NULL), 0);
#endif
	return 0;
}
