/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Symlinks planted where a writer puts its temporary state file (the old
 * fixed IMG.poison.tmp, and IMG.poison.tmp.<pid>.<n> for our pid and the
 * first 200 n) are never followed: the file they point to is never
 * written, IMG.poison never becomes a link, and the writes still succeed.
 * (Before: IMG.poison.tmp was opened with O_TRUNC and no O_NOFOLLOW; a
 * symlink there made root overwrite any file, then the link itself was
 * renamed over the state.)  A symlink at IMG.poison itself is refused.
 */
#include "emul-util.h"

static char *dir;
static char img[300], victim[300];

static const char precious[] = "precious: must never be written\n";

static void plant(const char *name)
{
	if (symlink(victim, name) && errno != EEXIST)
		t_fail("symlink %s: %s", name, strerror(errno));
}

static void check_victim(void)
{
	char buf[128] = { 0 };
	int fd = open(victim, O_RDONLY);
	struct stat st;
	char state[320];

	t_assert(fd >= 0);
	t_eq(read(fd, buf, sizeof(buf)), (long)strlen(precious));
	close(fd);
	t_assert(!strcmp(buf, precious));
	snprintf(state, sizeof(state), "%s.poison", img);
	t_ok(lstat(state, &st));
	t_assert(S_ISREG(st.st_mode));
}

int main(void)
{
	struct udax_dev *dev;
	char name[400];
	int fd;

	dir = e_tmpdir();
	snprintf(img, sizeof(img), "%s/img", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	t_assert(fd >= 0);
	t_eq(write(fd, precious, strlen(precious)), (long)strlen(precious));
	close(fd);

	e_image(img, 64, 0);
	snprintf(name, sizeof(name), "%s.poison.tmp", img);
	plant(name);
	for (int n = 0; n < 200; n++) {
		snprintf(name, sizeof(name), "%s.poison.tmp.%ld.%d", img,
			 (long)getpid(), n);
		plant(name);
	}
	t_ok(udax_open(img, 0, &dev));
	for (int i = 0; i < 20; i++) {
		t_ok(udax_inject(dev, (uint64_t)(2 * i) * PG, 512,
				 i % 2 ? UDAX_INJECT_LATENT : 0));
		check_victim();
	}
	t_eq(udax_scrub(dev), 10 * 512);
	t_ok(udax_zero_page_range(dev, 0, 4));
	check_victim();
	udax_close(dev);

	t_ok(udax_open(img, 0, &dev));
	t_eq(udax_badblocks(dev, NULL, 0), 18);
	udax_close(dev);
	check_victim();
	printf("ok symlinks at the temporary names: never followed, writes succeed\n");

	/* A symlink at the state itself: refused, never followed or
	 * replaced by a write. */
	snprintf(name, sizeof(name), "%s.poison", img);
	t_ok(rename(name, victim));
	plant(name);
	t_eq(udax_open(img, 0, &dev), -EUCLEAN);
	{
		struct stat st;

		t_ok(lstat(name, &st));
		t_assert(S_ISLNK(st.st_mode));
	}
	printf("ok a symlink at IMG.poison is refused\n");
	t_tmpdir_rm(dir);
	return 0;
}
