/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The devdax backend's two ways to the known list, through the installed
 * libndctl/libdaxctl and through sysfs, on the same fake trees, must agree
 * (and say what the test expects).  libndctl has no sysfs root of its own
 * (it opens /sys/class/nd), so each case runs in a child process with a
 * mount namespace of its own, where the fake tree is mounted over /sys.
 * The tree is the sysfs of a real device-dax namespace on QEMU's NVDIMM
 * under Linux 6.1 (data/sysfs-nvdimm-devdax.txt), with the region's list,
 * the addresses and the mappings changed per case.
 *
 * Skipped, saying why, without libndctl.so.6 or a way to make a mount
 * namespace (root, or unprivileged user namespaces).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/devdax.h"
#include "fake-sysfs.h"
#include "harness.h"
#include "ndctl.h"
#include "private.h"

#define REGION "/sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0012:00/ndbus0/region0"
#define DAX REGION "/dax0.0/dax0.0"

static char *dir;

static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s != '\\' || !s[1]) {
			*o++ = *s;
			continue;
		}
		s++;
		*o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
	}
	*o = 0;
}

/* The captured tree, under fk_root. */
static void load_tree(void)
{
	char line[8192], path[PATH_MAX];
	FILE *f = fopen(UDAX_TEST_DATA "/sysfs-nvdimm-devdax.txt", "r");

	if (!f)
		t_fail("%s: %s", UDAX_TEST_DATA "/sysfs-nvdimm-devdax.txt",
		       strerror(errno));
	fk_rm("/sys");
	while (fgets(line, sizeof(line), f)) {
		char *a, *b;

		line[strcspn(line, "\n")] = 0;
		if (line[0] == '#' || !line[0])
			continue;
		a = strchr(line, '\t');
		if (!a)
			t_fail("bad line: %s", line);
		*a++ = 0;
		b = strchr(a, '\t');
		if (b)
			*b++ = 0;
		if (line[0] == 'd') {
			fk_dir("%s", a);
		} else if (line[0] == 'l' && b) {
			fk_link(b, "%s", a);
		} else if (line[0] == 'f') {
			char *text = b ? b : (char *)"";
			size_t n;

			unescape(text);
			n = strlen(text);
			/* sysfs ends what it shows with a newline */
			snprintf(path, sizeof(path), "%s%s", text, n ? "\n" : "");
			fk_file(path, "%s", a);
		}
	}
	fclose(f);
}

static void dbg_log(void *arg, int level, const char *msg)
{
	fprintf(stderr, "log: %s\n", msg);
}

static void proc_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		t_fail("%s: %s", path, strerror(errno));
	close(fd);
}

/*
 * libdaxctl wants the device's node to exist (it stats /dev/daxX.Y): a /dev
 * of our own, with a plain file of that name and the real null, zero and
 * urandom bound into it.
 */
static int fake_dev(void)
{
	static const char *const keep[] = { "null", "zero", "urandom" };
	char d[PATH_MAX], real[64];
	size_t i;

	fk_file("", "/dev/dax0.0");
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		fk_file("", "/dev/%s", keep[i]);
		snprintf(d, sizeof(d), "%s/dev/%s", dir, keep[i]);
		snprintf(real, sizeof(real), "/dev/%s", keep[i]);
		if (mount(real, d, "none", MS_BIND, NULL))
			return -1;
	}
	snprintf(d, sizeof(d), "%s/dev", dir);
	return mount(d, "/dev", "none", MS_BIND | MS_REC, NULL);
}

/* Both ways in a mount namespace of our own: 0 agree (and match @want),
 * 1 differ, 77 cannot be run here. */
static int child(const char *want)
{
	struct udax_ndctl *nd;
	struct udax_range *r[2];
	size_t n[2];
	char sys[PATH_MAX], text[2][4096];
	int i, rc;

	if (unshare(CLONE_NEWNS)) {
		uid_t uid = getuid();
		gid_t gid = getgid();
		char map[64];

		if (unshare(CLONE_NEWUSER | CLONE_NEWNS)) {
			printf("SKIP: no mount namespace: %s\n", strerror(errno));
			return T_SKIP;
		}
		proc_write("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		proc_write("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		proc_write("/proc/self/gid_map", map);
	}
	snprintf(sys, sizeof(sys), "%s/sys", dir);
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) ||
	    mount(sys, "/sys", "none", MS_BIND | MS_REC, NULL) || fake_dev()) {
		printf("SKIP: cannot mount the tree over /sys: %s\n", strerror(errno));
		return T_SKIP;
	}
	unsetenv("UDAX_SYSFS_ROOT");
	if (getenv("T_DEBUG"))
		udax_set_log(dbg_log, NULL, UDAX_LOG_DEBUG);
	rc = udax__ndctl_new(&nd);
	if (rc) {
		printf("SKIP: libndctl/libdaxctl cannot be loaded (%s)\n", strerror(-rc));
		return T_SKIP;
	}
	/* "nobody": the resources are root's (mode 0400, as sysfs has them) */
	if (!strcmp(want, "EACCES") && (setgid(65534) || setuid(65534)))
		t_fail("setuid: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		rc = udax__devdax_region_known(i ? NULL : nd, "dax0.0", &r[i], &n[i]);
		if (rc == -EACCES && !strcmp(want, "EACCES")) {
			snprintf(text[i], sizeof(text[i]), "EACCES");
			continue;
		}
		if (rc)
			t_fail("%s: %s", i ? "sysfs" : "libndctl", strerror(-rc));
		udax__bb_format(r[i], n[i], text[i], sizeof(text[i]));
		free(r[i]);
	}
	udax__ndctl_free(nd);
	if (strcmp(text[0], text[1]) || strcmp(text[0], want)) {
		fprintf(stderr, "libndctl [%s] sysfs [%s] want [%s]\n", text[0],
			text[1], want);
		return 1;
	}
	return 0;
}

/* 0 when they agree, 77 when this machine cannot tell. */
static int agree(const char *want)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	t_assert(pid >= 0);
	if (!pid)
		_exit(child(want));
	t_eq(waitpid(pid, &st, 0), pid);
	t_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void check(const char *what, const char *want)
{
	int rc = agree(want);

	if (rc == T_SKIP) {
		t_tmpdir_rm(dir);
		exit(T_SKIP);
	}
	if (rc) {
		if (getenv("T_DEBUG"))
			fprintf(stderr, "tree kept in %s\n", dir);
		t_fail("%s: libndctl and sysfs do not agree", what);
	}
	printf("%s: agree on [%s]\n", what, want);
}

int main(void)
{
	dir = t_tmpdir();
	fk_root = dir;

	/* As captured: no poison. */
	load_tree();
	check("as captured", "");

	/* The device's data start 2 MiB (sector 4096) into the 64 MiB
	 * region: the info block is not the device's, a range across the
	 * start is cut, the region's last sector is the device's last. */
	fk_file("8 8\n4090 16\n4104 8\n131071 1\n", REGION "/badblocks");
	check("one range", "0 16\n126975 1\n");

	/* The whole namespace 4 GiB higher. */
	fk_file("0x200000000\n", REGION "/resource");
	fk_file("0x200200000\n", REGION "/dax0.0/resource");
	fk_file("0x200200000\n", DAX "/resource");
	fk_file("0x200200000\n", DAX "/mapping0/start");
	fk_file("0x203ffffff\n", DAX "/mapping0/end");
	check("moved", "0 16\n126975 1\n");

	/* Two ranges (as a dynamic device-dax instance has them): region
	 * 2..4 MiB at device byte 0, 8..12 MiB at device byte 2 MiB. */
	fk_file("0x2003fffff\n", DAX "/mapping0/end");
	fk_file("0x200800000\n", DAX "/mapping1/start");
	fk_file("0x200bfffff\n", DAX "/mapping1/end");
	fk_file("0x200\n", DAX "/mapping1/page_offset");
	fk_file("6291456\n", DAX "/size");
	fk_file("4100 4\n8192 8\n16380 8\n20480 8\n", REGION "/badblocks");
	check("two ranges", "4 4\n4096 4\n8192 8\n");

	/* Not root: with bad blocks to translate, both refuse; without,
	 * both answer (the list needs no resource). */
	if (!geteuid()) {
		static const char *const root_only[] = {
			REGION "/resource", REGION "/dax0.0/resource",
			DAX "/resource", DAX "/mapping0/start", DAX "/mapping0/end",
			DAX "/mapping0/page_offset", DAX "/mapping1/start",
			DAX "/mapping1/end", DAX "/mapping1/page_offset",
		};
		char p[PATH_MAX];
		size_t i;

		for (i = 0; i < sizeof(root_only) / sizeof(root_only[0]); i++) {
			snprintf(p, sizeof(p), "%s%s", dir, root_only[i]);
			t_ok(chmod(p, 0400));
		}
		snprintf(p, sizeof(p), "%s", dir);
		t_ok(chmod(p, 0755));
		check("not root, bad blocks", "EACCES");
		fk_file("", REGION "/badblocks");
		snprintf(p, sizeof(p), "%s%s", dir, REGION "/badblocks");
		t_ok(chmod(p, 0444));
		check("not root, no bad blocks", "");
	}

	t_tmpdir_rm(dir);
	return 0;
}
