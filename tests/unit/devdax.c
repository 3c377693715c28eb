/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The devdax backend on fake sysfs trees: a regular file named like the
 * device stands in for /dev/daxX.Y (udax__open_backend() skips the probe,
 * which wants a character device).  The known list translated from the
 * region's (one mapping, several, sectors across the device's edges), its
 * refresh, the CXL path with a fake tracefs, recovery writes that cannot
 * clear, and consumed poison in 2 MiB and 4 KiB mappings, delivered the way
 * Linux 6.1 delivers it (SIGBUS / BUS_MCEERR_AR, si_addr_lsb 21 with
 * si_addr rounded down, or 12): a SIGSEGV handler of this test's own turns
 * a load from a protected page into that signal, once (as MADV_HWPOISON
 * does: the page reads fine afterwards) or every time (as real media do).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backends/devdax.h"
#include "fake-cxl.h"
#include "fake-sysfs.h"
#include "harness.h"
#include "ndctl.h"
#include "private.h"

#define MIB (1024ULL * 1024)
#define REGION_DIR "/sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0012:00/ndbus0/region0"
#define ND_DAX_DIR REGION_DIR "/dax0.1"
#define DAX_DIR ND_DAX_DIR "/dax0.0"

static char *dir;
static char logbuf[8192];

static void log_fn(void *arg, int level, const char *msg)
{
	size_t n = strlen(logbuf);

	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

static void fake_bus(void)
{
	fk_dir("/sys/bus/nd/devices");
	fk_dir("/sys/bus/dax/devices");
	fk_link("/sys/bus/nd", REGION_DIR "/subsystem");
	fk_link("/sys/bus/nd", ND_DAX_DIR "/subsystem");
	fk_link("/sys/bus/dax", DAX_DIR "/subsystem");
	fk_link(REGION_DIR, "/sys/bus/nd/devices/region0");
	fk_link(ND_DAX_DIR, "/sys/bus/nd/devices/dax0.1");
	fk_link(DAX_DIR, "/sys/bus/dax/devices/dax0.0");
}

/*
 * Layout A, as QEMU's NVDIMM gives it: a 256 MiB region at 4 GiB, the
 * device's data 2 MiB in (info block and struct pages before it), one
 * mapping.
 */
static void layout_a(const char *badblocks)
{
	fk_rm("/sys");
	fake_bus();
	fk_file("0x100000000\n", REGION_DIR "/resource");
	fk_file("268435456\n", REGION_DIR "/size");
	fk_file(badblocks, REGION_DIR "/badblocks");
	fk_file("0x100200000\n", ND_DAX_DIR "/resource");
	fk_file("266338304\n", ND_DAX_DIR "/size");
	fk_file("266338304\n", DAX_DIR "/size");
	fk_file("2097152\n", DAX_DIR "/align");
	fk_file("0x100200000\n", DAX_DIR "/resource");
	fk_file("0x100200000\n", DAX_DIR "/mapping0/start");
	fk_file("0x10fffffff\n", DAX_DIR "/mapping0/end");
	fk_file("0x0\n", DAX_DIR "/mapping0/page_offset");
}

/* Layout B: a 6 MiB device of two ranges, region 2 MiB..4 MiB at device
 * byte 0 and 8 MiB..12 MiB at device byte 2 MiB. */
static void layout_b(const char *badblocks)
{
	fk_rm("/sys");
	fake_bus();
	fk_file("0x100000000\n", REGION_DIR "/resource");
	fk_file("268435456\n", REGION_DIR "/size");
	fk_file(badblocks, REGION_DIR "/badblocks");
	fk_file("6291456\n", DAX_DIR "/size");
	fk_file("2097152\n", DAX_DIR "/align");
	fk_file("0x100200000\n", DAX_DIR "/resource");
	fk_file("0x100200000\n", DAX_DIR "/mapping0/start");
	fk_file("0x1003fffff\n", DAX_DIR "/mapping0/end");
	fk_file("0x0\n", DAX_DIR "/mapping0/page_offset");
	fk_file("0x100800000\n", DAX_DIR "/mapping1/start");
	fk_file("0x100bfffff\n", DAX_DIR "/mapping1/end");
	fk_file("0x200\n", DAX_DIR "/mapping1/page_offset");
}

/* The known list as sysfs text ("s n" lines), through @nd or sysfs. */
static char *known_text(struct udax_ndctl *nd)
{
	static char buf[4096];
	struct udax_range *r;
	size_t n;
	int rc;

	rc = udax__devdax_region_known(nd, "dax0.0", &r, &n);
	if (rc)
		t_fail("region_known: %s", strerror(-rc));
	udax__bb_format(r, n, buf, sizeof(buf));
	free(r);
	return buf;
}

static void test_translate(void)
{
	struct udax_phys_range map[2] = {
		{ 0x100200000ULL, 2 * MIB, 0 },
		{ 0x100800000ULL, 4 * MIB, 2 * MIB },
	};
	struct udax_range r[4];
	struct udax_bb *bb;

	t_ok(udax__bb_new(&bb));
	/* a byte inside: its sector */
	t_ok(udax__devdax_phys_bad(map, 2, 6 * MIB, 0x100200201ULL, 1, bb));
	/* 1 KiB straddling the end of range 0 and a hole: the inside part */
	t_ok(udax__devdax_phys_bad(map, 2, 6 * MIB, 0x1003ffe00ULL, 0x400, bb));
	/* in the hole, before the device, past it: nothing */
	t_ok(udax__devdax_phys_bad(map, 2, 6 * MIB, 0x100500000ULL, 0x1000, bb));
	t_ok(udax__devdax_phys_bad(map, 2, 6 * MIB, 0x100000000ULL, 0x1000, bb));
	t_ok(udax__devdax_phys_bad(map, 2, 6 * MIB, 0x100c00000ULL, 0x1000, bb));
	/* straddling the start of range 1: from its device byte 2 MiB */
	t_ok(udax__devdax_phys_bad(map, 2, 6 * MIB, 0x1007fff00ULL, 0x300, bb));
	/* the two pieces either side of device byte 2 MiB meet */
	t_eq(udax__bb_snapshot(bb, r, 4), 2);
	t_ueq(r[0].off, 1);
	t_ueq(r[0].len, 1);
	t_ueq(r[1].off, 4095);
	t_ueq(r[1].len, 2);
	udax__bb_free(bb);
}

static void test_region_known(void)
{
	/* "8 8" lies in the info block; "4090 16" straddles the device's
	 * first byte; "4104 8" is inside; the region's last sector is the
	 * device's last. */
	layout_a("8 8\n4090 16\n4104 8\n524287 1\n");
	t_assert(!strcmp(known_text(NULL), "0 16\n520191 1\n"));
	layout_a("");
	t_assert(!strcmp(known_text(NULL), ""));
	/* Nothing to translate: the resources are not needed (they are
	 * root's on a real system). */
	fk_rm(REGION_DIR "/resource");
	t_assert(!strcmp(known_text(NULL), ""));

	/* Two ranges: region 2 MiB + 2 KiB (device 2 KiB), 4 MiB (a hole),
	 * 8 MiB - 2 KiB over the start of range 1, 10 MiB (device 4 MiB). */
	layout_b("4100 4\n8192 8\n16380 8\n20480 8\n");
	t_assert(!strcmp(known_text(NULL), "4 4\n4096 4\n8192 8\n"));
	/* Before Linux 5.10: no mapping directories; resource and size. */
	fk_rm(DAX_DIR "/mapping0");
	fk_rm(DAX_DIR "/mapping1");
	t_assert(!strcmp(known_text(NULL), "4 4\n4096 8\n12284 4\n"));

	/* Not on an NVDIMM region. */
	fk_rm(REGION_DIR "/subsystem");
	{
		struct udax_range *r;
		size_t n;

		t_eq(udax__devdax_region_known(NULL, "dax0.0", &r, &n), -ENOENT);
	}
}

/* A sparse file of the device's size, named like it. */
static char *device_file(uint64_t size)
{
	static char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/dax0.0", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	t_assert(fd >= 0);
	t_ok(ftruncate(fd, (off_t)size));
	close(fd);
	return path;
}

static char *list_text(struct udax_dev *dev)
{
	static char buf[4096];

	t_assert(udax_badblocks_export(dev, buf, sizeof(buf)) >= 0);
	return buf;
}

static void test_backend(void)
{
	char buf[8192], *path;
	struct udax_dev *dev;
	uint64_t pfn;
	void *k = NULL;
	int i;

	layout_a("4104 8\n");
	path = device_file(266338304);
	t_ok(udax__open_backend(&udax__devdax_backend, path, 0, &dev));
	t_assert(!strcmp(udax_backend(dev), "devdax"));
	t_ueq(udax_size(dev), 266338304);
	t_assert(!strcmp(list_text(dev), "8 8\n"));
	/* the mapping is aligned to the device's 2 MiB */
	t_eq(udax_direct_access(dev, 0, 1, &k, &pfn), 1);
	t_ueq((uintptr_t)k % (2 * MIB), 0);
	t_ueq(pfn, 0x100200000ULL / 4096);
	k = NULL;
	t_eq(udax_direct_access(dev, 1, 4, &k, &pfn), -EIO);

	/* Data moves through the mapping. */
	memset(buf, 0x5a, sizeof(buf));
	t_eq(udax_write(dev, buf, 4096, 2 * MIB, UDAX_OP_FAILFAST), 4096);
	memset(buf, 0, sizeof(buf));
	t_eq(udax_read(dev, buf, 4096, 2 * MIB, UDAX_OP_FAILFAST), 4096);
	t_eq(buf[4095], 0x5a);
	/* Known poison: failfast refuses, a recovery read stops before it. */
	t_eq(udax_read(dev, buf, 8192, 0, UDAX_OP_FAILFAST), -EIO);
	t_eq(udax_read(dev, buf, 8192, 0, UDAX_OP_RECOVERY), 4096);

	/* The kernel's list changes: seen within a few refresh ticks. */
	fk_file("4104 8\n6144 1\n", REGION_DIR "/badblocks");
	for (i = 0; i < 5000 && strcmp(list_text(dev), "8 8\n2048 1\n"); i++)
		usleep(2000);
	t_assert(!strcmp(list_text(dev), "8 8\n2048 1\n"));

	/* No way to clear here: -EOPNOTSUPP, nothing written, and why. */
	logbuf[0] = 0;
	memset(buf, 0x77, sizeof(buf));
	t_eq(udax_write(dev, buf, 4096, 4096, UDAX_OP_RECOVERY), -EOPNOTSUPP);
	t_assert(strstr(logbuf, "libndctl is not installed"));
	t_eq(udax_read(dev, buf, 4096, 8192, UDAX_OP_FAILFAST), 4096);
	t_eq(udax_zero_page_range(dev, 1, 1), -EOPNOTSUPP);
	/* a write that starts on good pages stops at the poisoned one */
	t_eq(udax_pwrite(dev, buf, 3 * 4096, 1024 * 1024 - 4096), 4096);
	t_eq(udax_pwrite(dev, buf, 8192, 0), 4096);
	udax_close(dev);

	/* Read-only. */
	t_ok(udax__open_backend(&udax__devdax_backend, path, UDAX_OPEN_RDONLY, &dev));
	t_eq(udax_write(dev, buf, 4096, 0, UDAX_OP_FAILFAST), -EBADF);
	t_eq(udax_read(dev, buf, 4096, 2 * MIB, UDAX_OP_FAILFAST), 4096);
	udax_close(dev);

	/* Bad blocks, and no resources to translate them with (on a real
	 * system they are root's): open fails. */
	fk_rm(DAX_DIR "/mapping0");
	fk_rm(DAX_DIR "/resource");
	logbuf[0] = 0;
	t_eq(udax__open_backend(&udax__devdax_backend, path, 0, &dev), -ENOENT);
	fk_file("", REGION_DIR "/badblocks");
	t_ok(udax__open_backend(&udax__devdax_backend, path, 0, &dev));
	t_assert(!strcmp(list_text(dev), ""));
	udax_close(dev);
	unlink(path);
}

/* ---- consumed poison --------------------------------------------------------- */

static char *trap_page;		/* the "poisoned" page */
static char *trap_page2;	/* a second one (sticky), or NULL */
static char *trap_report;	/* instead of a SIGBUS there: a report of
				 * this page to the watch, as an imprecise
				 * machine check's reaches it */
static int trap_lsb;
static int trap_sticky;		/* fault every time (media) or once */
static int trap_hits;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr, unit = (uintptr_t)1 << trap_lsb;
	siginfo_t bus;

	if (trap_page2 && a - (uintptr_t)trap_page2 < 4096)
		goto report;
	if (!trap_page || a < (uintptr_t)trap_page ||
	    a >= (uintptr_t)trap_page + 4096) {
		signal(SIGSEGV, SIG_DFL);
		return;
	}
	trap_hits++;
	if (trap_report) {
		memset(&bus, 0, sizeof(bus));
		bus.si_signo = SIGBUS;
		bus.si_code = BUS_MCEERR_AR;
		bus.si_addr = trap_report;
		bus.si_addr_lsb = 12;
		udax__watch_sigbus(&bus);
		mprotect(trap_page, 4096, PROT_READ | PROT_WRITE);
		return;
	}
report:
	if (!trap_sticky)
		mprotect(trap_page, 4096, PROT_READ | PROT_WRITE);
	memset(&bus, 0, sizeof(bus));
	bus.si_signo = SIGBUS;
	bus.si_code = BUS_MCEERR_AR;
	bus.si_addr = (void *)(a & ~(unit - 1));
	bus.si_addr_lsb = (short)trap_lsb;
	syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid),
		SIGBUS, &bus);
}

static void consume(const char *path, int lsb, int sticky, uint64_t from,
		    const char *want, ssize_t want_read)
{
	static char buf[4 * 1024 * 1024];
	struct udax_dev *dev;
	void *k = NULL;

	t_ok(udax__open_backend(&udax__devdax_backend, path, 0, &dev));
	t_eq(udax_direct_access(dev, 0, 1, &k, NULL), 1);
	/* 2 MiB + 8 KiB: the third page of the second 2 MiB unit */
	trap_page = (char *)udax_kaddr_untag(k) + 2 * MIB + 8192;
	trap_lsb = lsb;
	trap_sticky = sticky;
	trap_hits = 0;
	t_ok(mprotect(trap_page, 4096, PROT_NONE));
	t_eq(udax_read(dev, buf, 2 * MIB, from, UDAX_OP_RECOVERY), want_read);
	t_assert(trap_hits >= 1);
	if (strcmp(list_text(dev), want))
		t_fail("lsb %d %s: known list [%s], want [%s]", lsb,
		       sticky ? "sticky" : "once", list_text(dev), want);
	mprotect(trap_page, 4096, PROT_READ | PROT_WRITE);
	trap_page = NULL;
	/* Kept for the handle's life, though the kernel's list is empty. */
	t_eq(udax_read(dev, buf, 4096, 2 * MIB + 8192, UDAX_OP_FAILFAST), -EIO);
	udax_close(dev);
	t_ok(udax__open_backend(&udax__devdax_backend, path, 0, &dev));
	t_assert(!strcmp(list_text(dev), ""));
	udax_close(dev);
}

/*
 * Reports that reach the watch (watch.c) outside udax's copies, as a
 * program's own load or an imprecise machine check does: handed to it as
 * mcsafe.c's handler would, then a call.  A 2 MiB report whose si_addr is
 * the page, not the unit's start, names the unit it lies in; a 1 GiB one
 * looks through its whole unit (cut to the device); a page already known
 * in the unit is not taken for the new report's.
 */
/* A fresh handle on @path; returns where the device is mapped. */
static char *open_mapped(const char *path, struct udax_dev **dev)
{
	void *k = NULL;

	t_ok(udax__open_backend(&udax__devdax_backend, path, 0, dev));
	t_eq(udax_direct_access(*dev, 0, 1, &k, NULL), 1);
	return udax_kaddr_untag(k);
}

static void watch_report(char *base, uint64_t off, int lsb)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGBUS;
	si.si_code = BUS_MCEERR_AR;
	si.si_addr = base + off;
	si.si_addr_lsb = (short)lsb;
	t_assert(udax__watch_sigbus(&si));
}

static void test_watch(const char *path)
{
	static char buf[16384];
	struct udax_dev *dev;
	char *base;

	/* 2 MiB, si_addr not rounded, nothing faults: the unit it is in */
	base = open_mapped(path, &dev);
	watch_report(base, 2 * MIB + 8192 + 100, 21);
	t_assert(!strcmp(list_text(dev), "4096 4096\n"));
	udax_close(dev);

	/* 1 GiB (the whole device here): the page that faults, 100 MiB in */
	base = open_mapped(path, &dev);
	trap_page = base + 100 * MIB + 8192;
	trap_lsb = 12;
	trap_sticky = 1;
	t_ok(mprotect(trap_page, 4096, PROT_NONE));
	watch_report(base, 0, 30);
	if (strcmp(list_text(dev), "204816 8\n"))
		t_fail("1 GiB report: known [%s], want [204816 8]", list_text(dev));
	mprotect(trap_page, 4096, PROT_READ | PROT_WRITE);
	trap_page = NULL;
	udax_close(dev);

	/* A known page that faults too, before the new one in the unit */
	base = open_mapped(path, &dev);
	trap_page = base + 2 * MIB + 4096;
	trap_page2 = base + 2 * MIB + 12288;
	trap_lsb = 12;
	trap_sticky = 1;
	t_ok(mprotect(trap_page, 4096, PROT_NONE));
	/* a read makes the first known */
	t_eq(udax_read(dev, buf, 8192, 2 * MIB, UDAX_OP_RECOVERY), 4096);
	t_assert(!strcmp(list_text(dev), "4104 8\n"));
	t_ok(mprotect(trap_page2, 4096, PROT_NONE));
	watch_report(base, 2 * MIB, 21);
	if (strcmp(list_text(dev), "4104 8\n4120 8\n"))
		t_fail("known page in the unit: known [%s], want [4104 8, 4120 8]",
		       list_text(dev));
	mprotect(trap_page, 4096, PROT_READ | PROT_WRITE);
	mprotect(trap_page2, 4096, PROT_READ | PROT_WRITE);
	trap_page = trap_page2 = NULL;
	udax_close(dev);

	/* Reported during a read, behind the copy, which completes: the
	 * read is cut at the page, no byte of it returned as good. */
	base = open_mapped(path, &dev);
	trap_page = base + 2 * MIB + 12288;
	trap_report = base + 2 * MIB + 4096;
	trap_sticky = 0;
	trap_hits = 0;
	t_ok(mprotect(trap_page, 4096, PROT_NONE));
	t_eq(udax_read(dev, buf, 16384, 2 * MIB, UDAX_OP_RECOVERY), 4096);
	t_eq(trap_hits, 1);
	t_assert(!strcmp(list_text(dev), "4104 8\n"));
	trap_page = trap_report = NULL;
	udax_close(dev);
}

static void test_consumed(void)
{
	struct sigaction sa;
	char *path;

	if (t_under_valgrind()) {
		printf("consumed poison: skipped under valgrind (self-queued SIGBUS)\n");
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	/* The SIGBUS it queues arrives once it has returned, at the load. */
	sigaddset(&sa.sa_mask, SIGBUS);
	t_ok(sigaction(SIGSEGV, &sa, NULL));
	layout_a("");
	path = device_file(266338304);
	/* Reads from 2 MiB + 4 KiB (inside the unit, after its start) and
	 * from 2 MiB - 8 KiB (before it).  Real media: the page faults
	 * again, and only it is known. */
	consume(path, 21, 1, 2 * MIB + 4096, "4112 8\n", 4096);
	consume(path, 21, 1, 2 * MIB - 8192, "4112 8\n", 16384);
	/* A simulated error: nothing faults again, the whole unit is known
	 * and the copy stops where it did, at the unit's start or, inside
	 * it, at the read's start. */
	consume(path, 21, 0, 2 * MIB + 4096, "4096 4096\n", -EIO);
	consume(path, 21, 0, 2 * MIB - 8192, "4096 4096\n", 8192);
	/* A 4 KiB device: the page. */
	fk_file("4096\n", DAX_DIR "/align");
	consume(path, 12, 0, 2 * MIB - 8192, "4112 8\n", 16384);
	fk_file("2097152\n", DAX_DIR "/align");
	test_watch(path);
	signal(SIGSEGV, SIG_DFL);
	unlink(path);
}

/* ---- CXL ------------------------------------------------------------------- */

static const char cxl_trace[] =
	"  sh-1 [000] ..... 1.0: cxl_poison: memdev=mem1 host=x serial=1 trace_type=List region=region0 region_uuid=u hpa=0x4000000300 dpa=0x1000100 dpa_length=0x40 source=Injected flags= overflow_time=0\n"
	"  sh-1 [000] ..... 1.0: cxl_poison: memdev=mem0 host=x serial=0 trace_type=List region= region_uuid=u hpa=0xffffffffffffffff dpa=0x900000 dpa_length=0x200 source=Internal flags= overflow_time=0\n"
	"  sh-1 [000] ..... 1.0: cxl_poison: memdev=mem0 host=x serial=0 trace_type=List region=region0 region_uuid=u hpa=0x4002000000 dpa=0x1000000 dpa_length=0x400 source=Injected flags= overflow_time=0\n"
	"  sh-1 [000] ..... 1.0: cxl_poison: memdev=mem1 host=x serial=1 trace_type=Inject region=region0 region_uuid=u hpa=0x4000000500 dpa=0x1000200 dpa_length=0x40 source=Injected flags= overflow_time=0\n"
	"  sh-1 [000] ..... 1.0: cxl_poison: memdev=mem1 host=x serial=1 trace_type=List region=region0 region_uuid=u hpa=0x4000008000 dpa=0x1002000 dpa_length=0x40 source=Injected flags= overflow_time=0\n";

/*
 * A device-dax instance of 48 MiB on the 2-way CXL region of cxl.c's test
 * (Linux 6.3+: dax_region under the CXL region): region bytes 0..16 MiB at
 * device byte 0, 32..64 MiB at device byte 16 MiB.
 */
static void layout_cxl(void)
{
	const char *d = "/sys/devices/platform/ACPI0017:00/root0/decoder0.0/region0/dax_region0/dax0.0";
	char path[512];

	fk_rm("/sys");
	cxl_fake_region();
	fk_link(d, "/sys/bus/dax/devices/dax0.0");
	fk_link("/sys/bus/dax", "%s/subsystem", d);
	fk_file("50331648\n", "%s/size", d);
	fk_file("2097152\n", "%s/align", d);
	fk_file("0x4000000000\n", "%s/resource", d);
	fk_file("0x4000000000\n", "%s/mapping0/start", d);
	fk_file("0x4000ffffff\n", "%s/mapping0/end", d);
	fk_file("0x0\n", "%s/mapping0/page_offset", d);
	fk_file("0x4002000000\n", "%s/mapping1/start", d);
	fk_file("0x4003ffffff\n", "%s/mapping1/end", d);
	fk_file("0x1000\n", "%s/mapping1/page_offset", d);
	snprintf(path, sizeof(path), "/sys/kernel/tracing/instances/udax-%ld",
		 (long)getpid());
	fk_file("0\n", "%s/events/cxl/cxl_poison/enable", path);
	fk_file(cxl_trace, "%s/trace", path);
}

static void test_cxl(void)
{
	struct udax_dev *dev;
	char buf[4096], *path;

	layout_cxl();
	path = device_file(48 * MIB);
	logbuf[0] = 0;
	t_ok(udax__open_backend(&udax__devdax_backend, path, 0, &dev));
	/*
	 * mem1 0x1000100: position 1, chunk 1 -> HPA chunk 3 = 0x300 ->
	 *   sector 1.  mem0 0x900000: HPA 18 MiB, between the ranges.
	 *   mem0 0x1000000 + 1 KiB: chunks 0x10000..3 -> HPA 32 MiB + 0,
	 *   0x200, 0x400, 0x600 -> device 16 MiB + those -> sectors
	 *   0x8000..0x8003.  The Inject record is not the list.  mem1
	 *   0x1002000: chunk 0x20 -> HPA chunk 0x41 = 0x4100 (sector 32),
	 *   where the kernel said 0x8000 (sector 64): both.
	 */
	t_assert(!strcmp(list_text(dev), "1 1\n32 1\n64 1\n32768 4\n"));
	t_assert(strstr(logbuf, "both are kept"));
	memset(buf, 0, sizeof(buf));
	logbuf[0] = 0;
	t_eq(udax_write(dev, buf, 4096, 0, UDAX_OP_RECOVERY), -EOPNOTSUPP);
	t_assert(strstr(logbuf, "a CXL device"));
	udax_close(dev);

	/* Linux 6.1: no poison list; the device opens, saying so. */
	fk_rm("/sys/kernel/tracing");
	logbuf[0] = 0;
	t_ok(udax__open_backend(&udax__devdax_backend, path, 0, &dev));
	t_assert(!strcmp(list_text(dev), ""));
	t_assert(strstr(logbuf, "poison list cannot be read"));
	udax_close(dev);
	unlink(path);
}

int main(void)
{
	dir = t_tmpdir();
	fk_root = dir;
	setenv("UDAX_SYSFS_ROOT", dir, 1);
	setenv("UDAX_REFRESH_MS", "1", 1);
	setenv("UDAX_NDCTL", "0", 1);
	udax_set_log(log_fn, NULL, UDAX_LOG_DEBUG);
	test_translate();
	test_region_known();
	test_backend();
	test_consumed();
	test_cxl();
	t_tmpdir_rm(dir);
	return 0;
}
