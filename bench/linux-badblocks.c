/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux-style 512-slot bad-block table (see linux-badblocks.h).  Kept in its
 * own translation unit so that lbb_check() is an out-of-line call, as
 * udax__bb_first_bad() is: the two lookups are timed on equal terms.
 */
#include <errno.h>
#include <stdlib.h>

#include "linux-badblocks.h"

#define BB_LEN_MASK	0x00000000000001FFULL
#define BB_OFFSET_MASK	0x7FFFFFFFFFFFFE00ULL
#define BB_ACK_MASK	0x8000000000000000ULL
#define BB_OFFSET(x)	(((x) & BB_OFFSET_MASK) >> 9)
#define BB_LEN(x)	((int)((x) & BB_LEN_MASK) + 1)
#define BB_ACK(x)	(!!((x) & BB_ACK_MASK))
#define BB_MAKE(a, l, ack) \
	(((uint64_t)(a) << 9) | ((uint64_t)(l) - 1) | ((uint64_t)!!(ack) << 63))

int lbb_load(struct lbb *bb, const struct udax_range *r, size_t n)
{
	size_t i;

	if (n > LBB_MAX)
		return -EINVAL;
	bb->page = aligned_alloc(4096, 4096);
	if (!bb->page)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!r[i].len || r[i].len > LBB_MAXLEN ||
		    r[i].off > (BB_OFFSET_MASK >> 9)) {
			free(bb->page);
			bb->page = NULL;
			return -EINVAL;
		}
		bb->page[i] = BB_MAKE(r[i].off, r[i].len, 1);
	}
	bb->count = (int)n;
	bb->seq = 0;
	return 0;
}

void lbb_free(struct lbb *bb)
{
	free(bb->page);
	bb->page = NULL;
}

static inline unsigned int read_seqbegin(const unsigned int *seq)
{
	unsigned int s;

	while ((s = __atomic_load_n(seq, __ATOMIC_ACQUIRE)) & 1)
		;
	return s;
}

static inline int read_seqretry(const unsigned int *seq, unsigned int s)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(seq, __ATOMIC_RELAXED) != s;
}

int lbb_check(const struct lbb *bb, uint64_t s, int sectors,
	      uint64_t *first_bad, int *bad_sectors)
{
	const uint64_t *p = bb->page;
	uint64_t target = s + (uint64_t)sectors;
	unsigned int seq;
	int lo, hi, rv;

retry:
	seq = read_seqbegin(&bb->seq);
	lo = 0;
	hi = bb->count;
	rv = 0;
	/* Find the last entry that starts before target. */
	while (hi - lo > 1) {
		int mid = (lo + hi) / 2;

		if (BB_OFFSET(p[mid]) < target)
			lo = mid;
		else
			hi = mid;
	}
	/* p[lo] may start before target; p[hi] does not.  Walk back over the
	 * entries that end after s: each of those that starts before target
	 * overlaps. */
	if (hi > lo) {
		while (lo >= 0 && BB_OFFSET(p[lo]) + (uint64_t)BB_LEN(p[lo]) > s) {
			if (BB_OFFSET(p[lo]) < target) {
				rv = (rv != -1 && BB_ACK(p[lo])) ? 1 : -1;
				*first_bad = BB_OFFSET(p[lo]);
				*bad_sectors = BB_LEN(p[lo]);
			}
			lo--;
		}
	}
	if (read_seqretry(&bb->seq, seq))
		goto retry;
	return rv;
}
