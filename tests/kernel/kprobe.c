/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udax-kprobe: ask the kernel what the udax CLI cannot show, one question
 * per run, and print the answer as one short line that the kernel test
 * scenarios compare (tests/kernel/README.md).  Linked -static so that it
 * runs in the test guest's busybox initramfs.
 *
 * Answers: "ok N" / "short N" / an errno name for I/O; one character per
 * sector or page for scans ('+' read, 'x' EIO, '?' anything else);
 * "SIGBUS <si_code> lsb=<si_addr_lsb> at=<file offset of si_addr>" for
 * faults.  Exit 0 when the question could be asked, 2 for a usage error,
 * 1 when the file cannot even be opened or mapped.
 *
 * "hwpoison" and "upoison" make the kernel treat memory as broken
 * (MADV_HWPOISON): they refuse to run outside the test guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <udax/udax.h>

#define PAGE 4096u
#define SECTOR 512u

static sigjmp_buf fault_jmp;
static siginfo_t fault_info;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	fault_info = *si;
	siglongjmp(fault_jmp, 1);
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static const char *bus_code(int code)
{
	switch (code) {
	case BUS_ADRALN: return "BUS_ADRALN";
	case BUS_ADRERR: return "BUS_ADRERR";
	case BUS_OBJERR: return "BUS_OBJERR";
	case BUS_MCEERR_AR: return "BUS_MCEERR_AR";
	case BUS_MCEERR_AO: return "BUS_MCEERR_AO";
	}
	return "BUS_?";
}

static int usage(void)
{
	fputs("usage: udax-kprobe read|dread|write|dwrite FILE OFF LEN\n"
	      "       udax-kprobe sectors|pages|dpages FILE FIRST COUNT\n"
	      "       udax-kprobe fiemap FILE OFF\n"
	      "       udax-kprobe fill FILE OFF LEN BYTE\n"
	      "       udax-kprobe load|store|hwpoison FILE OFF\n"
	      "       udax-kprobe upoison DEV OFF [self]\n"
	      "       [UDAX_KPROBE_DISK=pmemN] udax-kprobe ustale DEV OFF LEN SECTOR\n"
	      "       udax-kprobe urace FILE OFF LEN POISON_OFF\n"
	      "       udax-kprobe uspin DEV TARGET OFF LEN [recover]\n", stderr);
	return 2;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

static int in_guest(void)
{
	const char *g = getenv("UDAX_GUEST");

	return g && !strcmp(g, "1");
}

static int open_file(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		printf("open: %s\n", errname(errno));
	return fd;
}

/* One pread/pwrite: "ok N", "short N" or the errno name. */
static int op_io(const char *op, const char *path, uint64_t off, uint64_t len)
{
	int direct = op[0] == 'd', rd = strstr(op, "read") != NULL;
	ssize_t n;
	void *buf;
	int fd;

	fd = open_file(path, (rd ? O_RDONLY : O_RDWR) | (direct ? O_DIRECT : 0));
	if (fd < 0)
		return 1;
	if (posix_memalign(&buf, PAGE, len ? len : 1))
		return 1;
	memset(buf, 0x5a, len);
	n = rd ? pread(fd, buf, len, (off_t)off) : pwrite(fd, buf, len, (off_t)off);
	if (n < 0)
		printf("%s\n", errname(errno));
	else
		printf("%s %zd\n", (uint64_t)n == len ? "ok" : "short", n);
	free(buf);
	close(fd);
	return 0;
}

/* Reads of @unit bytes each, one character per unit. */
static int op_scan(const char *op, const char *path, uint64_t first,
		   uint64_t count)
{
	int direct = strcmp(op, "pages") != 0;
	size_t unit = strcmp(op, "sectors") ? PAGE : SECTOR;
	void *buf;
	int fd;

	fd = open_file(path, O_RDONLY | (direct ? O_DIRECT : 0));
	if (fd < 0)
		return 1;
	if (posix_memalign(&buf, PAGE, unit))
		return 1;
	for (uint64_t i = first; i < first + count; i++) {
		ssize_t n = pread(fd, buf, unit, (off_t)(i * unit));

		putchar(n == (ssize_t)unit ? '+' : n < 0 && errno == EIO ? 'x' : '?');
	}
	putchar('\n');
	free(buf);
	close(fd);
	return 0;
}

/* The device byte that holds file byte @off, from FS_IOC_FIEMAP. */
static int op_fiemap(const char *path, uint64_t off)
{
	/* struct fiemap ends in its extents: room for one. */
	uint64_t q[(sizeof(struct fiemap) + sizeof(struct fiemap_extent)) /
		   sizeof(uint64_t) + 1];
	struct fiemap *fm = (struct fiemap *)q;
	struct fiemap_extent *e = &fm->fm_extents[0];
	int fd = open_file(path, O_RDONLY);

	if (fd < 0)
		return 1;
	memset(q, 0, sizeof(q));
	fm->fm_start = off;
	fm->fm_length = 1;
	fm->fm_flags = FIEMAP_FLAG_SYNC;
	fm->fm_extent_count = 1;
	if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0)
		printf("%s\n", errname(errno));
	else if (!fm->fm_mapped_extents || e->fe_logical > off)
		printf("hole\n");
	else
		printf("%" PRIu64 "\n",
		       (uint64_t)(e->fe_physical + (off - e->fe_logical)));
	close(fd);
	return 0;
}

/*
 * The alignment a mapping of @fd needs: a device-dax's own (its sysfs
 * "align", reached through /sys/dev/char), a page for anything else.
 */
static uint64_t map_align(int fd)
{
	char path[64], text[32];
	struct stat st;
	uint64_t a = PAGE;
	FILE *f;

	if (fstat(fd, &st) || !S_ISCHR(st.st_mode))
		return PAGE;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/align",
		 major(st.st_rdev), minor(st.st_rdev));
	f = fopen(path, "re");
	if (f) {
		if (!fgets(text, sizeof(text), f))
			text[0] = 0;
		text[strcspn(text, "\n")] = 0;
		if (parse_u64(text, &a) || !a || (a & (a - 1)) || a % PAGE)
			a = PAGE;
		fclose(f);
	}
	return a;
}

/* Map the @align-aligned span around [off, off + len). */
static char *map_span(int fd, uint64_t off, uint64_t len, uint64_t *map_off,
		      size_t *map_len)
{
	uint64_t a = map_align(fd), end = (off + len + a - 1) & ~(a - 1);
	char *m;

	*map_off = off & ~(a - 1);
	*map_len = (size_t)(end - *map_off);
	m = mmap(NULL, *map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)*map_off);
	if (m == MAP_FAILED) {
		printf("mmap: %s\n", errname(errno));
		return NULL;
	}
	return m;
}

/* Write @byte over [off, off + len): pwrite, or a mapping for a character
 * device (device-dax has no write()). */
static int op_fill(const char *path, uint64_t off, uint64_t len, int byte)
{
	struct stat st;
	int fd, bad;
	void *buf;

	fd = open_file(path, O_RDWR);
	if (fd < 0 || fstat(fd, &st))
		return 1;
	if (S_ISCHR(st.st_mode)) {
		uint64_t mo;
		size_t ml;
		char *m = map_span(fd, off, len, &mo, &ml);

		if (!m)
			return 1;
		memset(m + (off - mo), byte, (size_t)len);
		bad = msync(m, ml, MS_SYNC);
		munmap(m, ml);
	} else {
		if (posix_memalign(&buf, PAGE, len ? len : 1))
			return 1;
		memset(buf, byte, (size_t)len);
		bad = pwrite(fd, buf, (size_t)len, (off_t)off) != (ssize_t)len ||
		      fsync(fd);
		free(buf);
	}
	if (bad)
		printf("%s\n", errname(errno));
	else
		printf("ok %" PRIu64 "\n", len);
	close(fd);
	return 0;
}

/* Where the SIGBUS came: " (in madvise)", " (at the load)" or "". */
static const char *volatile fault_when = "";

static void print_fault(const char *map, uint64_t map_off, const char *when)
{
	printf("SIGBUS %s lsb=%d at=0x%" PRIx64 "%s\n", bus_code(fault_info.si_code),
	       (int)fault_info.si_addr_lsb,
	       (uint64_t)((const char *)fault_info.si_addr - map) + map_off, when);
}

/*
 * Map the page at @off (device-dax: the aligned span around it), then load,
 * store, or poison it and load it again.
 */
static int op_map(const char *op, const char *path, uint64_t off)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	volatile char *p;
	uint64_t mo;
	size_t ml;
	char *m;
	int fd;

	if (!strcmp(op, "hwpoison") && !in_guest()) {
		printf("refused: MADV_HWPOISON only in the test guest\n");
		return 2;
	}
	fd = open_file(path, O_RDWR);
	if (fd < 0)
		return 1;
	m = map_span(fd, off, 1, &mo, &ml);
	if (!m)
		return 1;
	p = m + (off - mo);
	sigaction(SIGBUS, &sa, NULL);
	if (sigsetjmp(fault_jmp, 1)) {
		print_fault(m, mo, fault_when);
		return 0;
	}
	if (!strcmp(op, "store"))
		*p = 0x5a;
	else
		(void)*p;
	if (!strcmp(op, "hwpoison")) {
		void *pg = (void *)((uintptr_t)p & ~(uintptr_t)(PAGE - 1));

		fault_when = " (in madvise)";
		if (madvise(pg, PAGE, MADV_HWPOISON)) {
			printf("madvise: %s\n", errname(errno));
			return 0;
		}
		fault_when = " (at the load)";
		(void)*p;
		printf("no SIGBUS\n");
		return 0;
	}
	printf("ok\n");
	return 0;
}

/*
 * Through libudax: poison the page at @off the way the device allows (an
 * emulated device: latent poison; a real one, in the guest: MADV_HWPOISON
 * by a child process through the mapping it inherited from udax_open(),
 * since Linux sends the SIGBUS to the madvise() caller during the call,
 * and kills it; with "self", by this process, which has a SIGBUS handler
 * of its own that udax chains to: udax's watch sees the signal first),
 * then udax_pread() it.  Answers "pread=<result> known=<the known list, in
 * bytes>".
 */
/* " known=<the known list, in bytes>" (at most 4 ranges), no newline. */
static void known_print(struct udax_dev *dev)
{
	struct udax_range r[4];
	long nr = udax_badblocks(dev, r, 4);

	if (nr < 0)
		printf(" known=%s", errname((int)-nr));
	else if (!nr)
		printf(" known=none");
	for (long i = 0; i < nr && i < 4; i++)
		printf("%s0x%" PRIx64 "+0x%" PRIx64, i ? "," : " known=",
		       r[i].off, r[i].len);
}

/* upoison self: the program's own SIGBUS handler, which udax chains to. */
static volatile sig_atomic_t own_code;

static void on_sigbus_own(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	own_code = si->si_code;
}

static int op_upoison(const char *path, uint64_t off, bool self)
{
	uint64_t pg = off / PAGE * PAGE;
	struct udax_dev *dev;
	char buf[PAGE];
	ssize_t n;
	pid_t pid;
	int rc, st;

	if (self) {
		struct sigaction sa = { .sa_sigaction = on_sigbus_own,
					.sa_flags = SA_SIGINFO };

		/* before udax_open(), so that udax's handler chains to it */
		sigaction(SIGBUS, &sa, NULL);
	}
	rc = udax_open(path, 0, &dev);
	if (rc) {
		printf("udax_open: %s\n", errname(-rc));
		return 0;
	}
	if (!strcmp(udax_backend(dev), "emulated")) {
		rc = udax_inject(dev, pg, PAGE, UDAX_INJECT_LATENT);
		if (rc) {
			printf("udax_inject: %s\n", errname(-rc));
			goto out;
		}
	} else {
		void *k = NULL;
		long got;

		if (!in_guest()) {
			printf("refused: MADV_HWPOISON only in the test guest\n");
			goto out;
		}
		got = udax_direct_access(dev, pg / PAGE, 1, &k, NULL);
		if (got < 1) {
			printf("udax_direct_access: %s\n", errname((int)-got));
			goto out;
		}
		fflush(stdout);
		if (self) {
			madvise(udax_kaddr_untag(k), PAGE, MADV_HWPOISON);
			printf("own handler: %s ", own_code ? bus_code(own_code) : "no SIGBUS");
			goto read;
		}
		pid = fork();
		if (!pid) {
			signal(SIGBUS, SIG_DFL);
			madvise(udax_kaddr_untag(k), PAGE, MADV_HWPOISON);
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid) {
			printf("fork: %s\n", errname(errno));
			goto out;
		}
		printf("child %s ", WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS
				   ? "killed by SIGBUS" : "lived");
	}
read:
	n = udax_pread(dev, buf, PAGE, pg);
	if (n < 0)
		printf("pread=%s", errname((int)-n));
	else
		printf("pread=%s %zd", n == PAGE ? "ok" : "short", n);
	known_print(dev);
	printf("\n");
out:
	udax_close(dev);
	return 0;
}

/*
 * Through libudax, with the known list read at open and never refreshed by
 * the tick (UDAX_REFRESH_MS = 100 s): sector @sector becomes poison behind
 * udax's back (a real /dev/pmemN, or the disk UDAX_KPROBE_DISK of a DAX
 * file: written to its sysfs badblocks, which the pmem driver then refuses
 * with EIO, the fs-dax fault path with SIGBUS BUS_ADRERR; emulated: latent
 * injection), then
 * udax_read() in recovery mode over [off, off + len).  Answers
 * "read=<result> known=<the known list, in bytes>".
 */
static int op_ustale(const char *path, uint64_t off, uint64_t len,
		     uint64_t sector)
{
	struct udax_dev *dev;
	const char *name;
	char *buf, sysfs[256], line[64];
	ssize_t n;
	int rc, fd;

	setenv("UDAX_REFRESH_MS", "100000", 1);
	rc = udax_open(path, 0, &dev);
	if (rc) {
		printf("udax_open: %s\n", errname(-rc));
		return 0;
	}
	if (!strcmp(udax_backend(dev), "emulated")) {
		rc = udax_inject(dev, sector * SECTOR, SECTOR, UDAX_INJECT_LATENT);
		if (rc) {
			printf("udax_inject: %s\n", errname(-rc));
			goto out;
		}
	} else {
		/* The disk: UDAX_KPROBE_DISK (a DAX file's: @sector is then
		 * the disk's), else the block device @path itself. */
		name = getenv("UDAX_KPROBE_DISK");
		if (!name) {
			name = strrchr(path, '/');
			name = name ? name + 1 : path;
		}
		snprintf(sysfs, sizeof(sysfs), "/sys/block/%s/badblocks", name);
		snprintf(line, sizeof(line), "%" PRIu64 " 1\n", sector);
		fd = open(sysfs, O_WRONLY);
		if (fd < 0 || write(fd, line, strlen(line)) < 0) {
			printf("%s: %s\n", sysfs, errname(errno));
			goto out;
		}
		close(fd);
	}
	buf = malloc(len ? len : 1);
	n = udax_read(dev, buf, len, off, UDAX_OP_RECOVERY);
	free(buf);
	if (n < 0)
		printf("read=%s", errname((int)-n));
	else
		printf("read=%zd", n);
	known_print(dev);
	printf("\n");
out:
	udax_close(dev);
	return 0;
}

/*
 * A machine check the kernel sends while udax copies: a child maps page
 * @poff of FILE and, once udax_read() in recovery mode over [off, off +
 * len) has begun in the parent, poisons it with MADV_HWPOISON.  Linux 6.1
 * sends SIGBUS to the child (AR, as madvise returns) and to every other
 * process that maps the page and asked for early kill (AO, whenever it next
 * runs in user space): the parent asks, and its copy is long, so the
 * signal comes in the middle of it.  Emulated: the page is
 * poisoned latently before the read.  Answers "read=<result> known=<the
 * known list>".
 */
/* Which path made the poison known, from libudax's debug log. */
static const char *race_via = "none";

static void race_log(void *arg, int level, const char *msg)
{
	(void)arg;
	(void)level;
	if (strstr(msg, "a copy met consumed poison"))
		race_via = "copy";
	else if (strstr(msg, "outside udax's copies") && strcmp(race_via, "copy"))
		race_via = "outside a copy";
}

static int op_urace(const char *path, uint64_t off, uint64_t len,
		    uint64_t poff)
{
	struct udax_dev *dev;
	int go[2], st;
	pid_t pid = -1;
	ssize_t n;
	char *buf;
	int rc;

	setenv("UDAX_REFRESH_MS", "100000", 1);
	udax_set_log(race_log, NULL, UDAX_LOG_DEBUG);
	rc = udax_open(path, 0, &dev);
	if (rc) {
		printf("udax_open: %s\n", errname(-rc));
		return 0;
	}
	buf = malloc(len ? len : 1);
	if (!buf) {
		printf("malloc: ENOMEM\n");
		goto out;
	}
	if (!strcmp(udax_backend(dev), "emulated")) {
		rc = udax_inject(dev, poff / PAGE * PAGE, PAGE, UDAX_INJECT_LATENT);
		if (rc) {
			printf("udax_inject: %s\n", errname(-rc));
			goto out;
		}
	} else {
		if (!in_guest()) {
			printf("refused: MADV_HWPOISON only in the test guest\n");
			goto out;
		}
		if (pipe(go)) {
			printf("pipe: %s\n", errname(errno));
			goto out;
		}
		pid = fork();
		if (pid < 0) {
			printf("fork: %s\n", errname(errno));
			goto out;
		}
		if (!pid) {
			int fd = open(path, O_RDWR);
			char *m = fd < 0 ? MAP_FAILED :
				  mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd,
				       (off_t)(poff / PAGE * PAGE));
			char c;

			if (m == MAP_FAILED)
				_exit(1);
			c = *(volatile char *)m;
			(void)c;
			if (read(go[0], &c, 1) != 1)
				_exit(1);
			/*
			 * Let the parent get into its copy first: the guest
			 * has one CPU, and woken by the pipe this child could
			 * run before the parent's read starts, when the
			 * report would meet no copy (its default action: one
			 * .ci/run saw "Bus error").  The copy of 128 MiB
			 * takes longer than this in the guest.
			 */
			usleep(10000);
			madvise(m, PAGE, MADV_HWPOISON);
			_exit(0);
		}
		/* Linux signals other processes that map the page only if
		 * they asked for early kill (or vm.memory_failure_early_kill
		 * says so): this one asks. */
		if (prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0))
			printf("prctl: %s\n", errname(errno));
		/* The page mapped in this process too. */
		{
			void *k = NULL;

			if (udax_direct_access(dev, poff / PAGE, 1, &k, NULL) == 1)
				(void)*(volatile char *)udax_kaddr_untag(k);
		}
		close(go[0]);
		if (write(go[1], "g", 1) != 1)
			printf("pipe write: %s\n", errname(errno));
	}
	n = udax_read(dev, buf, len, off, UDAX_OP_RECOVERY);
	if (pid > 0)
		waitpid(pid, &st, 0);
	if (n < 0)
		printf("read=%s", errname((int)-n));
	else
		printf("read=%zd", n);
	known_print(dev);
	printf(" via=%s\n", pid > 0 ? race_via : "emulated");
out:
	free(buf);
	udax_close(dev);
	return 0;
}

/* "@mce PHYS" on $RESULTS: boot.sh --mce injects there 2 s later. */
static void mce_ask(const char *phys)
{
	const char *results = getenv("RESULTS");
	int fd = results ? open(results, O_WRONLY | O_APPEND) : -1;

	if (fd < 0) {
		printf("no $RESULTS to ask for the machine check\n");
		return;
	}
	dprintf(fd, "@mce %s\n", phys);
	close(fd);
}

/* A SIGBUS that udax's copies did not take: say which, and stop. */
static void on_sigbus_outside(int sig, siginfo_t *si, void *uc)
{
	const char *m = si->si_code == BUS_MCEERR_AR ? "SIGBUS BUS_MCEERR_AR outside udax's copies\n"
		      : si->si_code == BUS_MCEERR_AO ? "SIGBUS BUS_MCEERR_AO outside udax's copies\n"
		      : si->si_code == SI_KERNEL ? "SIGBUS SI_KERNEL (the kernel's kill)\n"
		      : "SIGBUS, another code\n";

	(void)!write(1, m, strlen(m));
	_exit(3);
}

/*
 * Through libudax: read [@off, @off + @len) over and over (recovery mode)
 * for up to 30 seconds, until a read stops short or fails: the window in
 * which the host (boot.sh --mce) injects a machine check at the page of
 * device byte @target into the guest's CPU.  An emulated device gets
 * latent poison there instead, and one read.  Prints "spinning" when it
 * starts, then "read=<first short result> known=<list>", and with
 * "recover", "recover=<result>" of a recovery write of the page where it
 * stopped.
 *
 * UDAX_MCE=PHYS: ask the host for the machine check (a line "@mce PHYS" on
 * $RESULTS, as lib.sh's mce) only once the first read is done, so that
 * its injection, 2 s later, meets this loop.  Asked before the program
 * started, a slow start (TCG under load) let it land in the guest kernel,
 * which panicked, three boots in a row in one CI run.
 */
static int op_uspin(const char *path, uint64_t target, uint64_t off,
		    uint64_t len, bool recover)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus_outside,
				.sa_flags = SA_SIGINFO };
	const char *mce_at = getenv("UDAX_MCE");
	struct udax_dev *dev;
	time_t end;
	char *buf;
	ssize_t n = 0;
	int rc;

	sigaction(SIGBUS, &sa, NULL);
	rc = udax_open(path, 0, &dev);
	if (rc) {
		printf("udax_open: %s\n", errname(-rc));
		return 0;
	}
	buf = malloc(len ? len : 1);
	if (!buf)
		return 1;
	if (!strcmp(udax_backend(dev), "emulated")) {
		rc = udax_inject(dev, target / PAGE * PAGE, PAGE, UDAX_INJECT_LATENT);
		if (rc)
			printf("udax_inject: %s\n", errname(-rc));
		end = 0;
	} else if (!in_guest()) {
		printf("refused: only in the test guest\n");
		goto out;
	} else {
		printf("spinning\n");
		end = time(NULL) + 30;
	}
	do {
		n = udax_read(dev, buf, len, off, UDAX_OP_RECOVERY);
		if (end && mce_at) {
			mce_ask(mce_at);
			mce_at = NULL;
		}
	} while (n == (ssize_t)len && time(NULL) < end);
	if (n < 0)
		printf("read=%s", errname((int)-n));
	else
		printf("read=%s %zd", n == (ssize_t)len ? "ok" : "short", n);
	known_print(dev);
	printf("\n");
	if (recover && n >= 0 && n < (ssize_t)len) {
		/* and recover the page where the read stopped */
		uint64_t pg = (off + (uint64_t)n) / PAGE * PAGE;
		ssize_t w;

		memset(buf, 0, PAGE);
		w = udax_write(dev, buf, PAGE, pg, UDAX_OP_RECOVERY);
		printf("recover=%s\n", w == PAGE ? "ok" : w < 0 ? errname((int)-w) : "short");
	}
out:
	free(buf);
	udax_close(dev);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t a = 0, b = 0, c = 0;
	const char *op, *path;

	if (argc < 4)
		return usage();
	op = argv[1];
	path = argv[2];
	/* the one word among the numbers: "upoison DEV OFF self" */
	if (parse_u64(argv[3], &a) ||
	    (argc > 4 && strcmp(argv[4], "self") && parse_u64(argv[4], &b)) ||
	    (argc > 5 && parse_u64(argv[5], &c)))
		return usage();
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (argc == 5 && (!strcmp(op, "read") || !strcmp(op, "dread") ||
			  !strcmp(op, "write") || !strcmp(op, "dwrite")))
		return op_io(op, path, a, b);
	if (argc == 5 && (!strcmp(op, "sectors") || !strcmp(op, "pages") ||
			  !strcmp(op, "dpages")))
		return op_scan(op, path, a, b);
	if (argc == 4 && !strcmp(op, "fiemap"))
		return op_fiemap(path, a);
	if (argc == 6 && !strcmp(op, "fill") && c < 256)
		return op_fill(path, a, b, (int)c);
	if (argc == 4 && (!strcmp(op, "load") || !strcmp(op, "store") ||
			  !strcmp(op, "hwpoison")))
		return op_map(op, path, a);
	if ((argc == 4 || (argc == 5 && !strcmp(argv[4], "self"))) &&
	    !strcmp(op, "upoison"))
		return op_upoison(path, a, argc == 5);
	if (argc == 6 && !strcmp(op, "ustale"))
		return op_ustale(path, a, b, c);
	if (argc == 6 && !strcmp(op, "urace"))
		return op_urace(path, a, b, c);
	if ((argc == 6 || (argc == 7 && !strcmp(argv[6], "recover"))) &&
	    !strcmp(op, "uspin"))
		return op_uspin(path, a, b, c, argc == 7);
	return usage();
}
