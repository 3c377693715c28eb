/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libudax internals.  Private: nothing here is installed or part of the ABI.
 * Internal externs are named udax__name.
 */
#ifndef UDAX_PRIVATE_H
#define UDAX_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <udax/udax.h>

#define UDAX_SECTORS_PER_PAGE (UDAX_PAGE_SIZE / UDAX_SECTOR_SIZE)
#define UDAX_PAGE_SHIFT 12
#define UDAX_SECTOR_SHIFT 9

#define udax__likely(x)   __builtin_expect(!!(x), 1)
#define udax__unlikely(x) __builtin_expect(!!(x), 0)

/* ---- kaddr mode tags (dev.c) --------------------------------------------
 * The mode lives in an address bit that no user-space address uses and that
 * the CPU does not ignore, so that a tagged pointer faults when dereferenced
 * (x86-64: bit 62 makes it non-canonical; arm64: bit 55, below the top byte
 * that TBI ignores, and above any 52-bit user address).
 */
#if defined(__aarch64__)
#define UDAX__KADDR_TAG_SHIFT 55
#else
#define UDAX__KADDR_TAG_SHIFT 62
#endif
#define UDAX__KADDR_TAG_MASK (1ULL << UDAX__KADDR_TAG_SHIFT)

/* ---- logging (log.c) ---------------------------------------------------- */
void udax__log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define udax__err(...) udax__log(UDAX_LOG_ERR, __VA_ARGS__)
#define udax__dbg(...) udax__log(UDAX_LOG_DEBUG, __VA_ARGS__)

/* ---- bad-block table (badblocks.c) --------------------------------------
 * A sorted, disjoint, merged set of sector ranges with no size limit.
 * Writers (set, clear, assign) serialize on the table's own mutex; readers
 * never block and always see a consistent table (see badblocks.c).
 */
struct udax_bb;

int  udax__bb_new(struct udax_bb **out);
void udax__bb_free(struct udax_bb *bb);

/* Mark sectors [s, s + n) bad / good.  0 or -ENOMEM (table unchanged). */
int udax__bb_set(struct udax_bb *bb, uint64_t s, uint64_t n);
int udax__bb_clear(struct udax_bb *bb, uint64_t s, uint64_t n);
/* Replace the whole table with @n sorted, disjoint ranges (in sectors). */
int udax__bb_assign(struct udax_bb *bb, const struct udax_range *r, size_t n);

/* First bad sector in [s, s + n), or UINT64_MAX.  Lock-free. */
uint64_t udax__bb_first_bad(const struct udax_bb *bb, uint64_t s, uint64_t n);
/* Number of ranges.  Lock-free. */
size_t udax__bb_count(const struct udax_bb *bb);
/* Copy up to @max ranges (sectors) into @out; returns the total count.  A
 * consistent snapshot.  Lock-free. */
size_t udax__bb_snapshot(const struct udax_bb *bb, struct udax_range *out,
			 size_t max);
/* Sectors in [s, s + n) that are bad.  Lock-free. */
uint64_t udax__bb_count_in(const struct udax_bb *bb, uint64_t s, uint64_t n);

/* Parse Linux sysfs badblocks text into ranges (sectors), sorted and merged
 * as a table would keep them.  All or nothing: -EINVAL on any malformed
 * line, -ERANGE for a range ending past @limit sectors.  On success *out is
 * malloc'd (NULL when *nr is 0). */
int udax__bb_parse(const char *text, size_t len, uint64_t limit,
		   struct udax_range **out, size_t *nr);
/* Write ranges (sectors) as sysfs text; snprintf semantics. */
size_t udax__bb_format(const struct udax_range *r, size_t n, char *buf,
		       size_t size);

/* ---- fault-guarded copy (mcsafe.c) --------------------------------------
 * Copies that survive SIGBUS/SIGSEGV on either side.  The handlers are
 * installed once per process and chained to the ones found there.
 */
struct udax_fault {
	const void *addr;	/* si_addr of the fault where the copy stopped */
	int signo;		/* SIGBUS or SIGSEGV; 0 when no fault */
	int code;		/* si_code */
	bool in_src;		/* the fault was in the source range */
};

/* Install the handlers (idempotent, thread-safe).  0 or -errno. */
int udax__mcsafe_init(void);

/*
 * Copy @len bytes.  Returns @len, or on a fault a count c < @len such that
 * dst[0, c) is copied and the page holding the fault starts at src + c (a
 * source fault) or dst + c (a destination fault); *f describes the fault.
 * @persist: use the persistent (non-temporal) copy, with its fence.
 */
size_t udax__mc_copy(void *dst, const void *src, size_t len, bool persist,
		     struct udax_fault *f);
/* Guarded persistent memset of zero; same contract as udax__mc_copy(). */
size_t udax__mc_zero(void *dst, size_t len, struct udax_fault *f);

/*
 * Emulated poison (backend-emul.c) registers its mapping so that a plain
 * load or store by the program into a protected page reaches the program as
 * SIGBUS / BUS_MCEERR_AR, as consumed poison does on Linux.  Returns a
 * slot (>= 0) or -ENOSPC.
 */
int  udax__poison_map_register(void *base, size_t len);
void udax__poison_map_unregister(int slot);
/* Pages of slot that programs touched outside guarded copies since the last
 * call (page offsets into the mapping); returns the number written. */
size_t udax__poison_map_drain(int slot, uint64_t *pages, size_t max);

/* ---- persistent copies (pmem_copy.c) ------------------------------------
 * Chosen once at run time from the CPU's features; see pmem_copy.c.
 */
void udax__memcpy_persist(void *dst, const void *src, size_t len);
void udax__memset_persist(void *dst, int c, size_t len);
const char *udax__persist_impl(void);

/* ---- devices (dev.c) ---------------------------------------------------- */
struct udax_dev;

/*
 * One table per backend, as Linux's struct dax_operations.  Backends do
 * mechanism only; the wrappers in dev.c own all policy: argument checks,
 * liveness, mode tags, the known-list rules.
 */
struct udax_ops {
	const char *name;
	/* Address and frame number of @pgoff (< nr_pages).  No policy. */
	void *(*direct_access)(struct udax_dev *dev, uint64_t pgoff,
			       uint64_t *pfn);
	/* Machine-check safe read of [addr, addr + bytes) into @it; the range
	 * is inside the device.  Stops at the first poisoned page and reports
	 * consumed poison through memory_failure.  NULL: udax__copy_mc_to_iter. */
	size_t (*copy_to_iter)(struct udax_dev *dev, void *addr, size_t bytes,
			       struct udax_iter *it);
	/* Persistent write; stops at the first poisoned page.  NULL:
	 * udax__copy_mc_from_iter. */
	size_t (*copy_from_iter)(struct udax_dev *dev, void *addr, size_t bytes,
				 struct udax_iter *it);
	/* Clear all poison (media and known) in pages [pgoff, pgoff + n); the
	 * pages' contents are undefined until written. */
	int (*clear_poison)(struct udax_dev *dev, uint64_t pgoff, uint64_t n);
	/* First page in [pgoff, pgoff + n) whose media the backend knows to be
	 * poisoned beyond the known list, or pgoff + n.  NULL: cannot know. */
	uint64_t (*first_media_poison)(struct udax_dev *dev, uint64_t pgoff,
				       uint64_t n);
	/* Poison was consumed at @pgoff: make it known. */
	void (*memory_failure)(struct udax_dev *dev, uint64_t pgoff);
	/* Pull poison changes made by other processes.  Must be cheap when
	 * nothing changed: it runs at the start of every call.  NULL: none. */
	int (*refresh)(struct udax_dev *dev);
	int (*inject)(struct udax_dev *dev, uint64_t off, uint64_t len,
		      unsigned int flags);
	long (*scrub)(struct udax_dev *dev);
	/* A poison-state transaction: begin takes the state's locks (dev->lock
	 * included) and pulls other processes' changes; commit persists when
	 * @changed and releases.  Changes to dev->bb made outside the backend
	 * (import) go between the two. */
	int (*state_begin)(struct udax_dev *dev);
	int (*state_commit)(struct udax_dev *dev, bool changed);
	void (*close)(struct udax_dev *dev);
};

struct udax_dev {
	const struct udax_ops *ops;
	char *base;			/* page 0, untagged */
	uint64_t size;			/* bytes */
	uint64_t nr_pages;
	int alive;			/* atomic; 0 after udax_kill() */
	struct udax_bb *bb;		/* known bad sectors */
	pthread_mutex_t lock;		/* serializes poison-state writers */
	void *priv;			/* the backend's */
};

/* Generic mechanism backends use for their copy ops. */
size_t udax__copy_mc_to_iter(struct udax_dev *dev, void *addr, size_t bytes,
			     struct udax_iter *it);
size_t udax__copy_mc_from_iter(struct udax_dev *dev, void *addr, size_t bytes,
			       struct udax_iter *it);

/* Backend constructors: fill @dev (ops, base, size, bb, priv) or -errno. */
int udax__emul_open(struct udax_dev *dev, const char *path, int fd);
int udax__emul_create(const char *path, uint64_t size);

/* ---- iterator (iter.c) -------------------------------------------------- */
/* Advance @it by @n bytes (n <= it->count). */
void udax__iter_advance(struct udax_iter *it, size_t n);

#endif /* UDAX_PRIVATE_H */
