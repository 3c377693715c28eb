/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* udax(1) helpers: exit codes, error messages, numbers, whole-buffer I/O. */
#ifndef UDAX_CLI_UTIL_H
#define UDAX_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct udax_dev;
struct udax_range;

/* Exit status, as udax(1) documents it. */
enum {
	EXIT_OK = 0,		/* success */
	EXIT_FAIL = 1,		/* runtime error: I/O, refused by failfast, device gone */
	EXIT_USAGE = 2,		/* usage error: nothing was touched */
	EXIT_PARTIAL = 3,	/* finished, but some data could not be read */
};

/* The running command's name, for "udax <cmd>: <what>: <reason>". */
extern const char *cli_cmd;
/* --verbose was given. */
extern bool cli_verbose;
/* Suppress error messages (the argument fuzzer). */
extern bool cli_quiet;

/* "udax <cmd>: <what>: <reason>" on stderr. */
void cli_err(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Same, with strerror(-@err) as the reason; returns EXIT_FAIL. */
int cli_errno(const char *what, int err);
/* A usage error; returns EXIT_USAGE. */
int cli_usage_err(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Detail on stderr only with --verbose. */
void cli_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A size or offset: decimal or 0x hex, optionally followed by a binary
 * multiplier K, M, G or T (either case, optionally "iB": 4K = 4KiB = 4096).
 * Return: 0, -EINVAL (not a number), -ERANGE (does not fit in 64 bits).
 */
int parse_size(const char *s, uint64_t *out);
/*
 * A number as GNU ddrescue reads one (the options that are ddrescue's):
 * decimal, 0x hex or 0 octal, then an optional multiplier — s (512-byte
 * sectors), k M G T P E (powers of 1000), Ki Mi Gi Ti Pi Ei (powers of
 * 1024) — and an optional B.  10M is 10,000,000; 10Mi is 10,485,760.
 * Return: 0, -EINVAL, -ERANGE.
 */
int parse_ddrescue_size(const char *s, uint64_t *out);
/* A non-negative decimal integer no larger than @max. */
int parse_uint(const char *s, uint64_t max, uint64_t *out);
/* "12.0 MiB" (or "512 B"); @buf holds at least 32 bytes. */
const char *fmt_size(uint64_t bytes, char *buf);

/* Seconds since an arbitrary start (CLOCK_MONOTONIC). */
double now_seconds(void);

/* Whole-buffer I/O that retries short counts and EINTR; -errno on error. */
int write_full(int fd, const void *buf, size_t len);
int pwrite_full(int fd, const void *buf, size_t len, off_t off);
/* Reads until @len bytes or end of file; returns the count or -errno. */
ssize_t read_full(int fd, void *buf, size_t len);
/* The whole of @fd to its end, malloc'd into *@out: 0 or -errno. */
int read_all(int fd, char **out, size_t *len);

/* cli_open() flags of a command that only reads: read-write where the
 * user may (poison the command finds is then recorded), else read-only. */
#define CLI_OPEN_READ (1u << 31)

/* udax_open() with an error message: EXIT_OK or EXIT_FAIL.  @flags:
 * UDAX_OPEN_*, or CLI_OPEN_READ. */
int cli_open(const char *path, unsigned int flags, struct udax_dev **dev);
/* Check [@off, @off + @len) lies in the device: EXIT_OK or EXIT_USAGE. */
int cli_check_range(struct udax_dev *dev, const char *path, uint64_t off,
		    uint64_t len);
/* The whole known list (malloc'd, in bytes): count, or -errno. */
long cli_badblocks(struct udax_dev *dev, struct udax_range **out);
/* The same for any list that @get fills as udax_badblocks() does
 * (udax_media_poison()). */
long cli_ranges(struct udax_dev *dev,
		long (*get)(struct udax_dev *, struct udax_range *, size_t),
		struct udax_range **out);
/* @a minus @b into @out, which holds @na + @nb ranges; both lists
 * ascending and disjoint, and so is the result.  Returns its count. */
size_t ranges_sub(const struct udax_range *a, size_t na,
		  const struct udax_range *b, size_t nb, struct udax_range *out);
/* @a and @b, the same way. */
size_t ranges_and(const struct udax_range *a, size_t na,
		  const struct udax_range *b, size_t nb, struct udax_range *out);
/* Sum of the lengths. */
uint64_t ranges_bytes(const struct udax_range *r, size_t n);

/* First known-bad byte in [off, off + len), or UINT64_MAX.  Known poison
 * makes whole pages unreadable: callers round to the page. */
uint64_t cli_first_known_bad(struct udax_dev *dev, uint64_t off, uint64_t len);
/* Send libudax's log to the error messages: its last error line is kept
 * for them, and with --verbose every line goes to stderr. */
void cli_log_init(void);

#endif /* UDAX_CLI_UTIL_H */
