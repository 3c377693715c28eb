/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The backend matrix: a test case is written once against a small adapter
 * and runs on every backend that can run here.
 *
 *   case (V14, ...) ──► t_bad()/t_latent()/t_raw_*()/t_list() ──► adapter
 *                                                                  │
 *         emulated ── udax_inject, the image file                  │
 *         mock     ── tests/mock: scripted list, PROT_NONE faults ◄┘
 *         mock-nomap  the same without a mapping (->read/->write)
 *
 * Adding a backend (fsdax, pmem, devdax): write a struct t_backend in
 * matrix.c (open a 16-page device, put known and latent poison on it, read
 * the bytes under poison if it can), add it to t_backends[].  A callback
 * that returns -EOPNOTSUPP skips the case on that backend with a reason;
 * ->unavailable() skips the whole backend (no hardware, no root).
 *
 * Running one: `test-vectors V14` (every backend), `test-vectors V14 mock`
 * (mock and mock-nomap: a name matches itself and "name-*"),
 * `test-vectors all mock-nomap`.
 */
#ifndef UDAX_TEST_MATRIX_H
#define UDAX_TEST_MATRIX_H

#include <stdbool.h>
#include <stdint.h>

#include "harness.h"
#include "private.h"

#define T_MAP		(1u << 0)	/* direct_access gives addresses */
#define T_POISON_OPS	(1u << 1)	/* udax_inject/scrub/import work */
#define T_EMULATED	(1u << 2)	/* the emulated device itself */
#define T_RAW		(1u << 3)	/* raw_read/raw_write: bytes under poison */
#define T_OWN_LIST	(1u << 4)	/* own_list: the device's own list */
#define T_MEDIA_SECTORS	(1u << 5)	/* consumed poison is known by its bad
					 * sectors, not by the page that faulted */

struct t_backend {
	const char *name;
	unsigned int caps;
	/* NULL when it can run here, else why not. */
	const char *(*unavailable)(void);
	/* A fresh device of @pages pages: zeros, no poison. */
	int (*open)(uint64_t pages, unsigned int flags, struct udax_dev **out);
	void (*close)(struct udax_dev *dev);
	/* Known-bad sectors [s, s + n): media poison, on the known list. */
	int (*bad)(struct udax_dev *dev, uint64_t s, uint64_t n);
	/* Latent media poison over sectors [s, s + n): not on the list. */
	int (*latent)(struct udax_dev *dev, uint64_t s, uint64_t n);
	/* The device's bytes, poisoned or not (T_RAW). */
	void (*raw_read)(struct udax_dev *dev, uint64_t off, void *buf,
			 size_t len);
	void (*raw_write)(struct udax_dev *dev, uint64_t off, const void *buf,
			  size_t len);
	/* The device's own list as sysfs text (T_OWN_LIST): what the kernel
	 * (the image's state file, the mock's script) says. */
	void (*own_list)(struct udax_dev *dev, char *buf, size_t size);
	/* The pfn direct_access should give for @pgoff; NULL: unchecked. */
	uint64_t (*pfn)(struct udax_dev *dev, uint64_t pgoff);
};

extern const struct t_backend *const t_backends[];
extern const size_t t_nbackends;

/* The backend and the 16-page device of the running case. */
extern const struct t_backend *t_b;
extern struct udax_dev *t_dev;

struct t_case {
	const char *name;
	void (*run)(void);
	unsigned int need;	/* T_* the case needs ... */
	const char *why;	/* ... and why, printed when skipped */
};

/* Run @cases selected by argv on the backends selected by argv. */
int t_matrix_main(int argc, char **argv, const struct t_case *cases,
		  size_t n);

/* Skip the running case on this backend (unwinds to the runner). */
void t_skip_case(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						       noreturn));

/* Adapter calls on any device of the running backend; -EOPNOTSUPP from
 * the adapter skips the case. */
struct udax_dev *t_open(uint64_t pages, unsigned int flags);
void t_close(struct udax_dev *dev);
/* t_dev closed and opened again with @pages pages. */
void t_fresh(uint64_t pages);
void t_bad(struct udax_dev *dev, uint64_t s, uint64_t n);
void t_latent(struct udax_dev *dev, uint64_t s, uint64_t n);
void t_raw_read(struct udax_dev *dev, uint64_t off, void *buf, size_t len);
void t_raw_write(struct udax_dev *dev, uint64_t off, const void *buf,
		 size_t len);
bool t_has(unsigned int caps);

/* udax's known list as sysfs text (a static buffer). */
const char *t_list(struct udax_dev *dev);
#define t_list_is(d, want) do {						\
	const char *got_ = t_list(d);					\
	if (strcmp(got_, (want)))					\
		t_fail("list: got \"%s\", want \"%s\"", got_, (want));	\
} while (0)
/* The device's own list, when the backend shows it (else no check). */
#define t_own_list_is(d, want) do {					\
	if (t_has(T_OWN_LIST)) {					\
		static char own_[65536];				\
		t_b->own_list((d), own_, sizeof(own_));			\
		if (strcmp(own_, (want)))				\
			t_fail("own list: got \"%s\", want \"%s\"",	\
			       own_, (want));				\
	}								\
} while (0)

/* A buffer whose pages [0, n) are as asked: 'r' readable and writable,
 * '-' PROT_NONE (SIGSEGV), 'b' a page of an empty file (SIGBUS). */
char *t_buf_map(const char *pages);
void t_buf_unmap(char *buf, const char *pages);

/* Fill @buf with a pattern that differs per @seed. */
void t_fill(void *buf, size_t n, int seed);

/* Run @fn in a child; its exit status (128 + signal when killed). */
int t_in_child(void (*fn)(void *), void *arg);

#endif /* UDAX_TEST_MATRIX_H */
