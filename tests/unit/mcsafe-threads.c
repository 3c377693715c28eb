/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guard state is per thread: threads fault on their own PROT_NONE pages
 * while the others' copies, faulting or not, carry on undisturbed.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>

#include "harness.h"
#include "private.h"

#define PG 4096UL
#define NTHREADS 2
#define ITERS 20000

static pthread_barrier_t start;

static void *worker(void *arg)
{
	size_t id = (size_t)arg, bad_page = 3 + id;	/* differs per thread */
	char *p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *buf = malloc(8 * PG);
	uint64_t s = id + 1;
	struct udax_fault f;

	t_assert(p != MAP_FAILED && buf);
	for (size_t i = 0; i < 8 * PG; i++)
		p[i] = (char)(i * 7 + id);
	t_ok(mprotect(p + bad_page * PG, PG, PROT_NONE));
	pthread_barrier_wait(&start);

	for (int i = 0; i < ITERS; i++) {
		size_t off = t_rand(&s) % (8 * PG);
		size_t len = 1 + t_rand(&s) % (8 * PG - off);
		size_t bs = bad_page * PG, want = len, got;

		if (off < bs + PG && off + len > bs)
			want = off >= bs ? 0 : bs - off;
		got = udax__mc_copy(buf, p + off, len, i & 1, &f);
		if (got != want)
			t_fail("thread %zu: off=%zu len=%zu got %zu want %zu",
			       id, off, len, got, want);
		t_assert(!memcmp(buf, p + off, got));
		if (want < len) {
			t_eq(f.signo, SIGSEGV);
			t_assert(f.in_src);
			t_ueq((uintptr_t)f.addr & ~(PG - 1),
			      (uintptr_t)(p + bs));
		} else {
			t_eq(f.signo, 0);
		}
	}
	munmap(p, 8 * PG);
	free(buf);
	return NULL;
}

int main(void)
{
	pthread_t t[NTHREADS];

	t_ok(udax__mcsafe_init_segv(NULL));
	pthread_barrier_init(&start, NULL, NTHREADS);
	for (size_t i = 0; i < NTHREADS; i++)
		t_ok(pthread_create(&t[i], NULL, worker, (void *)i));
	for (size_t i = 0; i < NTHREADS; i++)
		t_ok(pthread_join(t[i], NULL));
	return 0;
}
