/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Poison the program consumes with its own loads and stores is never
 * forgotten, however much of it there is between two udax calls: 500
 * latent pages hit by plain accesses (SIGBUS handler + siglongjmp) are
 * all known at the next call, and saved in the state file when the handle
 * is writable; a read-only handle knows them too.  (Before: a 64-entry
 * ring; past 64 pages, consumed poison was lost.)
 */
#include "emul-util.h"

#define PAGES 1024
#define N 500		/* latent pages: 1, 3, 5, .. 999 */

static char *dir;
static char img[300];

static void consume_all(struct udax_dev *dev)
{
	void *k = NULL;
	char *base;

	/* Latent poison is not seen by failfast: the whole span maps. */
	t_eq(udax_direct_access(dev, 0, PAGES, &k, NULL), PAGES);
	base = k;
	for (int i = 0; i < N; i++) {
		char *page = base + (size_t)(2 * i + 1) * PG;
		unsigned char v = 0x42;
		siginfo_t si;

		/* No udax call between the accesses. */
		if (!e_touch((unsigned char *)page + (size_t)(i * 8) % PG, i % 2, &v, &si))
			t_fail("page %d: a plain access to latent poison did not fault",
			       2 * i + 1);
		t_eq(si.si_code, BUS_MCEERR_AR);
		t_assert(si.si_addr == page);
	}
}

static void check_known(struct udax_dev *dev)
{
	struct udax_range *r = calloc(N + 1, sizeof(*r));

	t_assert(r);
	t_eq(udax_badblocks(dev, r, N + 1), N);
	for (int i = 0; i < N; i++) {
		t_ueq(r[i].off, (uint64_t)(2 * i + 1) * PG);
		t_ueq(r[i].len, PG);
	}
	free(r);
}

int main(void)
{
	struct udax_range *lat = calloc(N, sizeof(*lat));
	struct udax_dev *dev, *ro;
	struct e_state s;

	if (t_under_valgrind())
		t_skip("valgrind aborts on the SIGBUS emulated poison queues");
	t_assert(lat);
	dir = e_tmpdir();
	snprintf(img, sizeof(img), "%s/img", dir);
	e_image(img, PAGES, 0);
	t_ok(udax_open(img, 0, &dev));
	for (int i = 0; i < N; i++)
		lat[i] = (struct udax_range){ (uint64_t)(2 * i + 1) * PG, PG };
	t_ok(udax_inject_ranges(dev, lat, N, UDAX_INJECT_LATENT));
	t_eq(udax_badblocks(dev, NULL, 0), 0);

	/* A read-only handle: known to it, and only to it. */
	t_ok(udax_open(img, UDAX_OPEN_RDONLY, &ro));
	consume_all(ro);
	check_known(ro);
	s = e_state_read(img);
	t_assert(s.ok);
	t_eq(s.nk, 0);
	e_state_free(&s);
	udax_close(ro);
	printf("ok %d pages consumed by plain accesses: known to a read-only handle\n", N);

	/* A writable handle: known, and saved. */
	consume_all(dev);
	check_known(dev);
	s = e_state_read(img);
	t_assert(s.ok);
	t_eq(s.nk, N);
	e_state_free(&s);
	udax_close(dev);
	t_ok(udax_open(img, UDAX_OPEN_RDONLY, &ro));
	check_known(ro);
	udax_close(ro);
	printf("ok %d pages consumed by plain accesses: known and saved\n", N);
	free(lat);
	t_tmpdir_rm(dir);
	return 0;
}
