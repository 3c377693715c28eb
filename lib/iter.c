/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iovec iterator, as Linux's ITER_IOVEC. */
#include "private.h"

/* The function itself; udax.h inlines the usual call, one segment known
 * at compile time (the same result as the loops below). */
void (udax_iter_init)(struct udax_iter *it, const struct iovec *iov,
		      unsigned long nr_segs, size_t count)
{
	size_t total = 0;
	unsigned long i;

	if (!it)
		return;
	if (!iov)
		nr_segs = 0;	/* an empty iterator: the copies move nothing */
	for (i = 0; i < nr_segs && total < count; i++)
		total += iov[i].iov_len < count - total ? iov[i].iov_len
							: count - total;
	it->iov = iov;
	it->nr_segs = nr_segs;
	it->iov_offset = 0;
	it->count = total;
	/* Zero-length leading segments would make every copy loop skip them. */
	while (it->nr_segs && it->iov->iov_len == 0) {
		it->iov++;
		it->nr_segs--;
	}
}
