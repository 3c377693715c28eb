/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A scripted backend for tests: the device is a memfd, the "kernel's" known
 * list is a script, and media faults are real faults.  It stands where a
 * real device's backend would (fsdax, pmem, devdax): no poison ops, so
 * udax_inject() and friends give -EOPNOTSUPP; no ->memory_failure, so
 * consumed poison lives in the generic layer's dev->consumed.  Opened with
 * udax__open_backend(), never through the probe table.
 *
 *   test ── mock_fault() ──► page kinds ──► the mapping: PROT_NONE, or a
 *      │                                    page of an empty file (SIGBUS)
 *      └── mock_known_*() ─► script list + word (dev->known_src)
 *
 *   udax_read() ─► io.c guarded copy ─► real SIGSEGV / SIGBUS ─► ->fault
 *      (mapped)                       ─► mock_fault_op(): the page's kind
 *   udax_read() ─► ->read (no mapping) ─► stops at the page's kind
 *
 * Single-threaded scripting: the mock_*() calls below are not meant to race
 * with each other (udax calls may run on other threads).
 */
#ifndef UDAX_TEST_MOCK_H
#define UDAX_TEST_MOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "private.h"

/* What touching a page does. */
enum mock_kind {
	MOCK_OK = 0,
	MOCK_POISON,	/* PROT_NONE; ->fault says poison (0) */
	MOCK_ENXIO,	/* PROT_NONE; ->fault says -ENXIO (a truncated file) */
	MOCK_ENOSPC,	/* PROT_NONE; ->fault says -ENOSPC (a hole not filled) */
	MOCK_SIGBUS,	/* a page of an empty file: a real SIGBUS/BUS_ADRERR;
			 * ->fault says -ENXIO */
};

/* Required ops a broken mock leaves out (udax_open must refuse it). */
#define MOCK_DROP_DIRECT_ACCESS	(1u << 0)
#define MOCK_DROP_ZERO		(1u << 1)
#define MOCK_DROP_RECOVERY	(1u << 2)
#define MOCK_DROP_LOAD_KNOWN	(1u << 3)
#define MOCK_DROP_CLOSE		(1u << 4)
#define MOCK_DROP_NAME		(1u << 5)
#define MOCK_DROP_OPS		(1u << 6)	/* dev->ops left NULL */

struct mock_cfg {
	uint64_t pages;		/* 0: 16 */
	bool nomap;		/* no mapping: ->read/->write, direct_access
				 * gives NULL (/dev/pmemN) */
	bool no_fault_op;	/* ->fault NULL: the generic classification
				 * (only BUS_MCEERR_* is poison) */
	bool no_clear;		/* recovery_write over poison: -EOPNOTSUPP
				 * (a platform without a clear command) */
	bool sigbus_only;	/* every faulting kind is a page of an empty
				 * file (SIGBUS), and the mock does not ask
				 * for udax's SIGSEGV handler: a real
				 * device's situation */
	bool own_consumed;	/* ->memory_failure: consumed poison goes on
				 * the device's own list (as a kernel's MCE
				 * handler adds it to badblocks) */
	uint64_t pfn_base;	/* pfn of page 0 */
	unsigned int drop;	/* MOCK_DROP_* */
	int open_err;		/* ->open fails with this */
	int load_err;		/* ->load_known fails with this at open */
	bool squat_fd;		/* ->close leaves /dev/null at udax's fd
				 * number, as another thread's open() would */
};

struct mock;

/* Open a fresh mock device (zeros, no poison).  0 or -errno. */
int mock_open(const struct mock_cfg *cfg, unsigned int flags,
	      struct udax_dev **out);
struct mock *mock_of(struct udax_dev *dev);
extern const struct udax_backend mock_backend;

/* Media: pages [pg, pg + n) behave as @kind from now on. */
void mock_fault(struct mock *m, uint64_t pg, uint64_t n, enum mock_kind kind);
enum mock_kind mock_kind_of(struct mock *m, uint64_t pg);

/*
 * The device's own known list (sectors), as a kernel keeps it.  Each change
 * moves the word dev->known_src points at, so the next udax call reloads.
 */
void mock_known_add(struct mock *m, uint64_t s, uint64_t n);
void mock_known_set(struct mock *m, const struct udax_range *r, size_t n);
/* The script's list as sysfs text (into @buf of @size). */
void mock_known_text(struct mock *m, char *buf, size_t size);
/* Move the word without changing the list. */
void mock_known_bump(struct mock *m);
uint64_t mock_known_word(struct mock *m);

/* ->load_known: fail with @err (0: succeed) from now on. */
void mock_set_load_err(struct mock *m, int err);
/* ->load_known calls @fn once, after reading the script and before
 * publishing it (a loader that stalls there). */
void mock_set_load_hook(struct mock *m,
			void (*fn)(struct udax_dev *dev, void *arg), void *arg);

/* Bytes of the device whatever the page kinds (a test's own view). */
void mock_raw_read(struct mock *m, uint64_t off, void *buf, size_t len);
void mock_raw_write(struct mock *m, uint64_t off, const void *buf, size_t len);

/* Counters. */
struct mock_stats {
	unsigned int loads;		/* ->load_known calls */
	unsigned int recovery_writes;	/* ->recovery_write calls */
	unsigned int faults;		/* ->fault calls */
	unsigned int memory_failures;	/* ->memory_failure calls */
	unsigned int odd_faults;	/* ->fault on a page of kind MOCK_OK */
	int last_signo, last_code;	/* of the last ->fault */
};
void mock_stats(struct mock *m, struct mock_stats *st);

/* With cfg.squat_fd: the fd number ->close left /dev/null at, or -1. */
int mock_squatted_fd(void);

#endif /* UDAX_TEST_MOCK_H */
