/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libudax internals.  Private: nothing here is installed or part of the ABI.
 * Internal externs are named udax__name.
 *
 *   udax_open() ── probe table (dev.c) ── emul.c │ (fsdax, pmem, devdax …)
 *        │                                  each: probe + struct udax_ops
 *        ▼
 *   struct udax_dev ── generic layer (dev.c, io.c): liveness, arguments,
 *        │             mode tags, the known list and its refresh, when a
 *        │             copy must stop, when poison may be cleared
 *        ├── bb        known bad sectors: what failfast refuses
 *        ├── media     emulated media poison (the emulated device only)
 *        └── io_base   where udax's own copies go (guarded, mcsafe.c)
 */
#ifndef UDAX_PRIVATE_H
#define UDAX_PRIVATE_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
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
#define udax__info(...) udax__log(UDAX_LOG_INFO, __VA_ARGS__)
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
/* Replace the whole table with @n ranges (sectors; any order, overlaps
 * merged). */
int udax__bb_assign(struct udax_bb *bb, const struct udax_range *r, size_t n);

/* First bad sector in [s, s + n), or UINT64_MAX.  Lock-free. */
uint64_t udax__bb_first_bad(const struct udax_bb *bb, uint64_t s, uint64_t n);
/* Number of ranges.  Lock-free. */
size_t udax__bb_count(const struct udax_bb *bb);
/* The word udax__bb_count() reads, for a hot path that tests a table for
 * emptiness inline: load it relaxed; valid for the table's life. */
const size_t *udax__bb_count_word(const struct udax_bb *bb);
/* Copy up to @max ranges (sectors) into @out; returns the total count.  A
 * consistent snapshot.  Lock-free. */
size_t udax__bb_snapshot(const struct udax_bb *bb, struct udax_range *out,
			 size_t max);
/* Sectors in [s, s + n) that are bad.  Lock-free. */
uint64_t udax__bb_count_in(const struct udax_bb *bb, uint64_t s, uint64_t n);

/* Sort @n ranges (any unit) and merge the overlapping or touching ones, in
 * place; returns the new count. */
size_t udax__ranges_merge(struct udax_range *r, size_t n);

/* Parse Linux sysfs badblocks text into ranges (sectors), sorted and merged
 * as a table would keep them.  All or nothing: -EINVAL on any malformed
 * line, -ERANGE for a range ending past @limit sectors.  On success *out is
 * malloc'd (NULL when *nr is 0). */
int udax__bb_parse(const char *text, size_t len, uint64_t limit,
		   struct udax_range **out, size_t *nr);
/* Write ranges (sectors) as sysfs text; snprintf semantics. */
size_t udax__bb_format(const struct udax_range *r, size_t n, char *buf,
		       size_t size);
/* The whole table as a malloc'd array of *n ranges (sectors), taken
 * consistently.  0 or -ENOMEM. */
int udax__bb_copy(const struct udax_bb *bb, struct udax_range **out,
		  size_t *n);

/* ---- fault-guarded copy (mcsafe.c) --------------------------------------
 * Copies that survive SIGBUS on either side (and SIGSEGV once
 * udax__mcsafe_init_segv() ran).  The handlers are installed once per
 * process and chained to the ones found there.
 */
struct udax_fault {
	const void *addr;	/* si_addr of the fault where the copy stopped */
	int signo;		/* SIGBUS or SIGSEGV; 0 when no fault */
	int code;		/* si_code */
	int lsb;		/* si_addr_lsb for BUS_MCEERR_*, else 0 */
	bool in_src;		/* the fault was in the source range */
};

/* Install the SIGBUS handler (idempotent, thread-safe).  0 or -errno. */
int udax__mcsafe_init(void);
struct sigaction;
/* Signal-safe: the SIGBUS disposition the program's own SIGBUS meets (the
 * one udax's handler chains to, when udax's is installed). */
void udax__mcsafe_sigbus_action(struct sigaction *eff);
/*
 * Also take SIGSEGV, handing every SIGSEGV outside a guarded copy to @hook
 * first (NULL: none); @hook returns true when it dealt with the signal.
 * The emulated device needs this (its poison is page protection); real
 * devices do not.  One hook per process.
 */
int udax__mcsafe_init_segv(bool (*hook)(int sig, void *si, void *uc));

/*
 * Copy @len bytes.  Returns @len, or on a fault a count c < @len such that
 * dst[0, c) is copied and the page holding the fault starts at src + c (a
 * source fault) or dst + c (a destination fault); *f describes the fault.
 * @persist: a persistent copy (pmem_copy.c's choice for the length: its
 * non-temporal or its cached family), written back and fenced on return.
 */
size_t udax__mc_copy(void *dst, const void *src, size_t len, bool persist,
		     struct udax_fault *f);
/* Guarded persistent memset of zero; same contract as udax__mc_copy(). */
size_t udax__mc_zero(void *dst, size_t len, struct udax_fault *f);

/*
 * udax__mc_copy(dst, src, len, false, f), inlined for the hot paths, except
 * that *f is written only on a fault.  On x86-64 it is one call of a
 * routine of mc_copy_x86_64.S whose faults the handler resumes through its
 * table (mcsafe.c): no jump buffer, no per-call state.
 */
#if defined(__x86_64__)
#define UDAX__HIDDEN __attribute__((visibility("hidden")))

/* A fault, as the handler leaves it for a routine's fixup. */
struct udax_mc_raw {
	uintptr_t addr;		/* si_addr */
	uint64_t info;		/* signo | lsb << 8 | code << 32 */
};

enum { UDAX_MC_SSE2 = 1, UDAX_MC_AVX2, UDAX_MC_AVX512,
       UDAX_MC_MOVDIR64B	/* persistent copies only */ };
/* The routine for this CPU; 0 until the SIGBUS handler is in place. */
extern int udax__mc_isa UDAX__HIDDEN;

/* As udax__mc_read(), each with its vectors. */
size_t udax__mc_copy_sse2(void *dst, const void *src, size_t len,
			  struct udax_fault *f) UDAX__HIDDEN;
size_t udax__mc_copy_avx2(void *dst, const void *src, size_t len,
			  struct udax_fault *f) UDAX__HIDDEN;
size_t udax__mc_copy_avx512(void *dst, const void *src, size_t len,
			    struct udax_fault *f) UDAX__HIDDEN;
/* rep movsb alone over [from, len), [0, from) being copied: 0, or r > 0
 * with dst[0, len - r) copied, the fault in *raw. */
size_t udax__mc_movsb_raw(void *dst, const void *src, size_t len,
			  struct udax_mc_raw *raw, size_t from) UDAX__HIDDEN;
/* A routine faulted with at most @rem of @len bytes not copied: the count
 * udax__mc_copy() returns, and *f. */
size_t udax__mc_settle(void *dst, const void *src, size_t len, size_t rem,
		       const struct udax_mc_raw *raw, struct udax_fault *f)
	UDAX__HIDDEN;
/* udax__mc_read() before the handler is in place. */
size_t udax__mc_copy_early(void *dst, const void *src, size_t len,
			   struct udax_fault *f);

/* The persistent copies (pmem_copy.c's non-temporal family), as
 * udax__mc_read() with each its vectors. */
size_t udax__mc_pcopy_sse2(void *dst, const void *src, size_t len,
			   struct udax_fault *f) UDAX__HIDDEN;
size_t udax__mc_pcopy_avx2(void *dst, const void *src, size_t len,
			   struct udax_fault *f) UDAX__HIDDEN;
size_t udax__mc_pcopy_avx512(void *dst, const void *src, size_t len,
			     struct udax_fault *f) UDAX__HIDDEN;
size_t udax__mc_pcopy_movdir64b(void *dst, const void *src, size_t len,
				struct udax_fault *f) UDAX__HIDDEN;
/* udax__mc_settle() for them: fences, and writes back what it copies. */
size_t udax__mc_psettle(void *dst, const void *src, size_t len, size_t rem,
			const struct udax_mc_raw *raw, struct udax_fault *f)
	UDAX__HIDDEN;
/*
 * The persistent copies' route, set with udax__mc_isa: the routine for the
 * non-temporal family from udax__mc_pnt_min bytes on (the cached family
 * below, through udax__mc_read()), or 0 for the sigsetjmp guard (no table:
 * valgrind, or before the handler is in place).
 */
extern int udax__mc_pisa UDAX__HIDDEN;
extern size_t udax__mc_pnt_min UDAX__HIDDEN;
/* pmem_copy.c's write-back for the routines' partial lines: 0 clwb,
 * 1 clflushopt, 2 clflush. */
extern unsigned char udax__mc_pflush UDAX__HIDDEN;
/* udax__mc_persist() off its fast path. */
size_t udax__mc_persist_other(void *dst, const void *src, size_t len,
			      struct udax_fault *f) UDAX__HIDDEN;

#if defined(__SANITIZE_ADDRESS__)
#define UDAX__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UDAX__ASAN 1
#endif
#endif
#ifdef UDAX__ASAN
#include <sanitizer/asan_interface.h>
/* ASan does not see into the assembly: check the ranges as its memcpy
 * would. */
static inline void udax__asan_range(const void *p, size_t n, int write)
{
	void *bad = __asan_region_is_poisoned((void *)p, n);

	if (bad)
		__asan_report_error(__builtin_return_address(0),
				    __builtin_frame_address(0),
				    __builtin_frame_address(0), bad, write, n);
}
#endif

static inline size_t udax__mc_read(void *dst, const void *src, size_t len,
				   struct udax_fault *f)
{
	int isa = __atomic_load_n(&udax__mc_isa, __ATOMIC_RELAXED);

#ifdef UDAX__ASAN
	udax__asan_range(src, len, 0);
	udax__asan_range(dst, len, 1);
#endif
	if (udax__likely(isa == UDAX_MC_AVX512))
		return udax__mc_copy_avx512(dst, src, len, f);
	if (isa == UDAX_MC_AVX2)
		return udax__mc_copy_avx2(dst, src, len, f);
	if (isa == UDAX_MC_SSE2)
		return udax__mc_copy_sse2(dst, src, len, f);
	return udax__mc_copy_early(dst, src, len, f);
}

/* udax__mc_copy(dst, src, len, true, f), except that *f is written only on
 * a fault: one call on this CPU's non-temporal route. */
static inline size_t udax__mc_persist(void *dst, const void *src, size_t len,
				      struct udax_fault *f)
{
	int isa = __atomic_load_n(&udax__mc_pisa, __ATOMIC_RELAXED);

#ifdef UDAX__ASAN
	udax__asan_range(src, len, 0);
	udax__asan_range(dst, len, 1);
#endif
	if (udax__likely(isa == UDAX_MC_AVX512 && len >= udax__mc_pnt_min))
		return udax__mc_pcopy_avx512(dst, src, len, f);
	return udax__mc_persist_other(dst, src, len, f);
}
#else
static inline size_t udax__mc_read(void *dst, const void *src, size_t len,
				   struct udax_fault *f)
{
	return udax__mc_copy(dst, src, len, false, f);
}

static inline size_t udax__mc_persist(void *dst, const void *src, size_t len,
				      struct udax_fault *f)
{
	return udax__mc_copy(dst, src, len, true, f);
}
#endif

/* ---- consumed poison outside copies (watch.c) ----------------------------
 * A real device's mapping, watched for SIGBUS / BUS_MCEERR_* that land in it
 * outside udax's copies (the program's own loads): the page is marked and
 * *wake set, so that the device's next ->load_known drains it.
 */
struct udax_watch;

int udax__watch_add(void *base, size_t len, int *wake,
		    struct udax_watch **out);
/* Stop watching; waits for handlers still reading it. */
void udax__watch_del(struct udax_watch *w);
/* What was marked since the last call, into @dev's known list (consumed). */
void udax__watch_record(struct udax_dev *dev, struct udax_watch *w);
/* mcsafe.c's handler, for every SIGBUS it sees: signal-safe.  True if the
 * report was about a watched mapping (and is marked). */
bool udax__watch_sigbus(const void *siginfo);

/* ---- persistent copies (pmem_copy.c) ------------------------------------
 * Chosen once at run time from the CPU's features; see pmem_copy.c.
 */
void udax__memcpy_persist(void *dst, const void *src, size_t len);
void udax__memset_persist(void *dst, int c, size_t len);
const char *udax__persist_impl(void);
/* Write back every line of [p, p + len) and fence: what the cached family
 * does after its stores. */
void udax__persist_flush(const void *p, size_t len);
#if defined(__x86_64__)
/* For the table-guarded persistent copies (mcsafe.c): the threshold of the
 * non-temporal family, and the routine of mc_copy_x86_64.S with its
 * stores (UDAX_MC_*). */
void udax__persist_route(size_t *nt_min, int *mc_isa);
#endif

/* ---- devices (dev.c, io.c) ---------------------------------------------- */
struct udax_dev;

/*
 * The backend contract, as Linux's struct dax_operations: backends do
 * mechanism only, the generic layer (dev.c, io.c) owns all policy —
 * argument checks, liveness, mode tags, the known list, where a copy stops,
 * when poison may be cleared.  udax_open() refuses a table that lacks a
 * required op (Linux alloc_dax() does the same).  Offsets are bytes from
 * the start of the device and lie inside it; the generic layer checked.
 *
 * Data moves through dev->io_base with guarded copies when the backend has
 * a mapping, through ->read/->write when it has not.  A fault in a copy is
 * poison only when ->fault says so (R11).
 */
struct udax_ops {
	const char *name;

	/* required: address (NULL: the backend has no mapping to give) and
	 * frame number of page @pgoff. */
	void *(*direct_access)(struct udax_dev *dev, uint64_t pgoff,
			       uint64_t *pfn);
	/* required: write zeros over pages [pgoff, pgoff + n) and clear all
	 * poison in them.  udax__zero_pages() does it with ->recovery_write
	 * and plain persistent stores. */
	int (*zero_page_range)(struct udax_dev *dev, uint64_t pgoff,
			       uint64_t n);
	/* required: clear the poison in whole pages [off, off + len) (page
	 * aligned) and write @src over them: Linux 5.18's
	 * dax_operations.recovery_write.  Returns @len or -errno;
	 * -EOPNOTSUPP: this device cannot clear poison, nothing written. */
	ssize_t (*recovery_write)(struct udax_dev *dev, uint64_t off,
				  const void *src, size_t len);
	/* required: bring the known list up to date: call
	 * udax__known_publish() with the device's list when it changed.
	 * Runs at open and whenever *dev->known_src moved; must not block
	 * on a writer (readers call it). */
	int (*load_known)(struct udax_dev *dev);
	/* required */
	void (*close)(struct udax_dev *dev);

	/* optional: move bytes without a mapping (io_base == NULL).  Return
	 * the bytes moved before the first poisoned page (already recorded
	 * with udax__memory_failure()); *err = 0 for poison or completion,
	 * else -errno of the failure that stopped the copy at that count. */
	size_t (*read)(struct udax_dev *dev, uint64_t off, void *dst,
		       size_t len, int *err);
	size_t (*write)(struct udax_dev *dev, uint64_t off, const void *src,
			size_t len, int *err);
	/* optional: a copy through io_base faulted at device offset @off:
	 * 0 if that is poison, else the -errno to return (a hole the file
	 * system could not fill: -ENOSPC; a truncated file: -ENXIO).
	 * NULL: only BUS_MCEERR_* is poison, anything else -ENXIO. */
	int (*fault)(struct udax_dev *dev, uint64_t off,
		     const struct udax_fault *f, bool write);
	/* optional: poison was consumed in [off, off + len): record it.
	 * NULL: the generic layer keeps it for the life of the handle. */
	void (*memory_failure)(struct udax_dev *dev, uint64_t off,
			       uint64_t len);
	/* optional: the file holding the poison state (udax_state_path()) */
	const char *(*state_path)(const struct udax_dev *dev);
	/* optional persist hint: make writes to [off, off + len) durable
	 * (msync where stores alone are not).  NULL: stores are enough. */
	int (*persist)(struct udax_dev *dev, uint64_t off, uint64_t len);

	/* optional: changing the poison itself (the emulated device; a real
	 * device where the kernel offers a way).  NULL: -EOPNOTSUPP. */
	const struct udax_poison_ops *poison;
};

struct udax_poison_ops {
	/* Poison the media over @n sector ranges (UDAX_INJECT_REMOVE: heal
	 * them), all or nothing. */
	int (*inject)(struct udax_dev *dev, const struct udax_range *r,
		      size_t n, unsigned int flags);
	/* Bytes newly known. */
	int64_t (*scrub)(struct udax_dev *dev);
	/* Add sector ranges to the known list (the media are unchanged). */
	int (*add_known)(struct udax_dev *dev, const struct udax_range *r,
			 size_t n);
	/* ->zero_page_range over @n page ranges at once.  NULL: one call of
	 * ->zero_page_range per range. */
	int (*clear)(struct udax_dev *dev, const struct udax_range *pages,
		     size_t n);
};

/*
 * A kind of device.  probe() looks at an open file and answers 1 (mine),
 * 0 (not mine: ask the next) or -errno (mine but unusable, e.g. -EUCLEAN
 * for a corrupt image).  open() fills ops, size, base, io_base, known_src
 * and priv, and takes @fd only on success.
 */
struct udax_backend {
	const char *name;
	int (*probe)(int fd, const struct stat *st, const char *path);
	int (*open)(struct udax_dev *dev, int fd, const char *path);
};

extern const struct udax_backend udax__emul_backend;
extern const struct udax_backend udax__fsdax_backend;	/* backends/fsdax.c */
extern const struct udax_backend udax__pmem_backend;	/* backends/pmem.c */
extern const struct udax_backend udax__devdax_backend;	/* backends/devdax.c */

/* udax_create(): a new emulated image (backends/emul.c). */
int udax__emul_create(const char *path, uint64_t size);

struct udax_dev {
	const struct udax_ops *ops;
	char *base;			/* page 0 as direct_access gives it,
					 * untagged; NULL: no mapping */
	char *io_base;			/* page 0 for udax's own copies;
					 * NULL: ->read/->write */
	uint64_t size;			/* bytes */
	uint64_t nr_pages;
	unsigned int flags;		/* UDAX_OPEN_* */
	int alive;			/* atomic; 0 after udax_kill() */

	struct udax_bb *bb;		/* known bad sectors */
	struct udax_bb *consumed;	/* poison found by copies that the
					 * backend does not keep itself */
	struct udax_bb *media;		/* the emulated media's poison; NULL
					 * on real devices */
	/* The counts of bb and media (a zero word without media), set at
	 * open: both zero, and a read has nothing to look up (io.c). */
	const size_t *bb_nr, *media_nr;
	/* The known list is current while *known_src == known_gen; when it
	 * moves, the next call runs ->load_known (one load per call).  At
	 * open the two differ, so the first ->load_known loads. */
	const uint64_t *known_src;
	uint64_t known_gen;		/* atomic */
	int wake;			/* atomic; set from signal context when
					 * there is news for ->load_known */
	pthread_mutex_t refresh_lock;	/* one loader at a time; try-locked */
	pthread_mutex_t publish_lock;	/* orders publications and changes
					 * to consumed (short, no I/O) */
	uint64_t published;		/* version last published */

	void *priv;			/* the backend's */
};

/*
 * Make @n ranges (sectors) of @version the known list, together with the
 * consumed poison.  Publications of an older version than the current one
 * are dropped, so a slow loader never undoes a newer list.  0 or -ENOMEM.
 */
int udax__known_publish(struct udax_dev *dev, const struct udax_range *r,
			size_t n, uint64_t version);
/* The same, for a caller that holds dev->publish_lock. */
int udax__known_publish_locked(struct udax_dev *dev,
			       const struct udax_range *r, size_t n,
			       uint64_t version);
/* Poison found at [off, off + len) (bytes): known from now on. */
void udax__memory_failure(struct udax_dev *dev, uint64_t off, uint64_t len);
/* Sectors [s, s + n) were found bad: into dev->consumed and dev->bb at
 * once, without waiting for anyone but a publication in flight. */
void udax__consumed_add(struct udax_dev *dev, uint64_t s, uint64_t n);
/* Bytes [off, off + len) were written by a recovery write or a zeroing
 * that cleared their poison: what udax found there is gone. */
void udax__poison_cleared(struct udax_dev *dev, uint64_t off, uint64_t len);
/* First page in [pgoff, pgoff + n) holding a known-bad sector, or
 * UINT64_MAX.  Lock-free. */
uint64_t udax__first_bad_page(const struct udax_dev *dev, uint64_t pgoff,
			      uint64_t n);
/* ->zero_page_range from ->recovery_write and persistent stores. */
int udax__zero_pages(struct udax_dev *dev, uint64_t pgoff, uint64_t n);

/* The known list moved: reload it, unless another thread is at it (the
 * caller goes on with the list as it is). */
void udax__known_refresh(struct udax_dev *dev);

/*
 * Start of every call: -EINVAL (NULL), -ENXIO (dead), else 0, with a
 * reload of the known list first when it moved.  Inline: four loads and
 * no call when nothing changed.
 */
static inline int udax__dev_enter(struct udax_dev *dev)
{
	if (udax__unlikely(!dev))
		return -EINVAL;
	if (udax__unlikely(!__atomic_load_n(&dev->alive, __ATOMIC_ACQUIRE)))
		return -ENXIO;
	if (udax__unlikely(__atomic_load_n(dev->known_src, __ATOMIC_ACQUIRE) !=
			   __atomic_load_n(&dev->known_gen, __ATOMIC_RELAXED) ||
			   __atomic_load_n(&dev->wake, __ATOMIC_RELAXED)))
		udax__known_refresh(dev);
	return 0;
}

/* io.c: bytes through io_base or ->read/->write, stopping at poison. */
size_t udax__io_read(struct udax_dev *dev, uint64_t off, void *dst,
		     size_t len, int *err);
size_t udax__io_write(struct udax_dev *dev, uint64_t off, const void *src,
		      size_t len, int *err);

/* Open @path with a given backend, skipping the probe table (tests). */
int udax__open_backend(const struct udax_backend *b, const char *path,
		       unsigned int flags, struct udax_dev **out);

/* A word that never changes: known_src of a device whose list changes
 * only through udax itself. */
extern const uint64_t udax__never;

/* ---- sysfs (sysfs.c) ----------------------------------------------------
 * Every path is formatted printf-style and read under udax__sysfs_root()
 * (UDAX_SYSFS_ROOT, for fake trees in tests; "" otherwise).  -errno.
 */
const char *udax__sysfs_root(void);
/* The first line, trailing newline and blanks removed, NUL-terminated. */
int udax__sysfs_read(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A number, decimal or 0x hex. */
int udax__sysfs_read_u64(uint64_t *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The whole file, malloc'd and NUL-terminated. */
int udax__sysfs_read_alloc(char **text, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int udax__sysfs_write(const char *text, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The path with symlinks resolved, as seen under the root. */
int udax__sysfs_realpath(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The disk (its name under /sys/block) holding block device @maj:@min, and
 * where the device starts on it: a partition's first sector, else 0. */
int udax__sysfs_blkdev(unsigned int maj, unsigned int min, char *disk,
		       size_t size, uint64_t *start);
/* A counter moved every UDAX_REFRESH_MS (default 100) ms by a background
 * thread: known_src of a backend whose list lives in sysfs. */
const uint64_t *udax__sysfs_tick(void);

/* ---- iterator (iter.c) -------------------------------------------------- */
/* Advance @it by @n bytes (n <= it->count).  Inline: the copies' hot path. */
static inline void udax__iter_advance(struct udax_iter *it, size_t n)
{
	it->count -= n;
	n += it->iov_offset;
	while (it->nr_segs && n >= it->iov->iov_len) {
		n -= it->iov->iov_len;
		it->iov++;
		it->nr_segs--;
	}
	it->iov_offset = it->nr_segs ? n : 0;
}

#endif /* UDAX_PRIVATE_H */
