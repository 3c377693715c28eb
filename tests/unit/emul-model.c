/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulated device against a reference model, by random steps: inject
 * (known, latent, removed), import, scrub, clear (only poisoned pages,
 * --all, dry run), zero_page_range, reads and writes in both modes,
 * pread/pwrite, direct_access, plain loads that consume poison, reopen.
 * Two processes, parent and child, each with its own handle on the same
 * image, take the steps in turns decided by the seed, passing a token
 * through pipes; both keep the model (per sector: media bad, known bad; per
 * page: its bytes), the one whose turn it is also checks the device against
 * it: every return value, every byte read, and after every step the known
 * list and the media poison.
 *
 * The model is the spec (docs R2-R10) as the device implements it:
 *   - a read stops at the first page with known poison; the copy stops at
 *     the first page with media poison, which becomes known (its media
 *     sectors) -- consumed, and saved at once when nobody holds the lock,
 *     as nobody does here between turns;
 *   - a failfast write stops there too; a recovery write recovers each
 *     poisoned page it covers whole (zeros / data, poison gone) and stops
 *     at one it covers partly.
 *
 * Seed printed; UDAX_TEST_SEED=<seed> replays, UDAX_TEST_STEPS sets the
 * number of steps (default 100000; UDAX_TEST_STRESS=1: 1000000).  The
 * image lives on /dev/shm (every change fsyncs).
 */
#include <stdarg.h>
#include <time.h>

#include "emul-util.h"

#define P 48			/* pages */
#define S (P * 8)		/* sectors */

struct model {
	unsigned char media[S], known[S];
	unsigned char data[P * PG];
};

static char *dir;
static char img[300];
static struct model m;
static struct udax_dev *dev;
static int me;			/* 0 parent, 1 child */
static int turn_of_step;
static uint64_t seed, rng, step;
static const char *opname;
/* The last steps, printed on a failure. */
#define HIST 16
static char hist[HIST][160];

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	char *h = hist[step % HIST];
	va_list ap;
	int n = snprintf(h, sizeof(hist[0]), "%6llu %c %s ", (unsigned long long)step,
			 "PC"[turn_of_step], opname);

	va_start(ap, fmt);
	vsnprintf(h + n, sizeof(hist[0]) - (size_t)n, fmt, ap);
	va_end(ap);
}

static void print_hist(void)
{
	for (uint64_t i = step >= HIST - 1 ? step - (HIST - 1) : 0; i <= step; i++)
		fprintf(stderr, "  %s\n", hist[i % HIST]);
}
static unsigned char buf[8 * PG], in[8 * PG];

#define M_FAIL(...) do {						\
	print_hist();							\
	fprintf(stderr, "%s: step %llu (%s), seed %llu: ",		\
		me ? "child" : "parent", (unsigned long long)step,	\
		opname, (unsigned long long)seed);			\
	t_fail(__VA_ARGS__);						\
} while (0)

#define M_EQ(a, b) do {							\
	long long a_ = (long long)(a), b_ = (long long)(b);		\
	if (a_ != b_)							\
		M_FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_);	\
} while (0)

static uint64_t r(uint64_t n)
{
	return n ? t_rand(&rng) % n : 0;
}

/* ---- the model --------------------------------------------------------- */

static bool page_known(uint64_t p)
{
	for (int i = 0; i < 8; i++)
		if (m.known[p * 8 + i])
			return true;
	return false;
}

static bool page_media(uint64_t p)
{
	for (int i = 0; i < 8; i++)
		if (m.media[p * 8 + i])
			return true;
	return false;
}

static void consume(uint64_t p)
{
	for (int i = 0; i < 8; i++)
		m.known[p * 8 + i] |= m.media[p * 8 + i];
}

/* Write @src (zeros if NULL) over page @p, poison gone. */
static void recover(uint64_t p, const unsigned char *src)
{
	memset(m.media + p * 8, 0, 8);
	memset(m.known + p * 8, 0, 8);
	if (src)
		memcpy(m.data + p * PG, src, PG);
	else
		memset(m.data + p * PG, 0, PG);
}

static uint64_t pg(uint64_t off) { return off / PG; }

/* io.c's known_stop(): start of the first page of [off, off + len) with
 * known poison (at least off), or off + len. */
static uint64_t known_stop(uint64_t off, uint64_t len)
{
	for (uint64_t p = pg(off); p <= pg(off + len - 1); p++)
		if (page_known(p))
			return p * PG > off ? p * PG : off;
	return off + len;
}

/* The first page of [off, off + len) with media poison, or P. */
static uint64_t media_page(uint64_t off, uint64_t len)
{
	for (uint64_t p = pg(off); p <= pg(off + len - 1); p++)
		if (page_media(p))
			return p;
	return P;
}

/* udax__io_read/write: bytes before the first page with media poison;
 * that page is consumed.  @src: write it; else read into @dst. */
static uint64_t io(uint64_t off, uint64_t len, const unsigned char *src,
		   unsigned char *dst)
{
	uint64_t mp = media_page(off, len), c = len;

	if (mp < P)
		c = mp * PG > off ? mp * PG - off : 0;
	if (src)
		memcpy(m.data + off, src, c);
	else if (dst)
		memcpy(dst, m.data + off, c);
	if (mp < P)
		consume(mp);
	return c;
}

/* do_read(): expected return; the bytes go to @dst. */
static long model_read(uint64_t off, uint64_t len, int mode, unsigned char *dst)
{
	uint64_t stop = known_stop(off, len), c = 0;

	if (mode == UDAX_OP_FAILFAST && stop != off + len)
		return -EIO;
	if (stop > off)
		c = io(off, stop - off, NULL, dst);
	if (mode == UDAX_OP_FAILFAST && c < len)
		return -EIO;
	return c ? (long)c : -EIO;
}

/* do_write() / span_write(). */
static long model_write(uint64_t off, uint64_t len, int mode,
			const unsigned char *src)
{
	uint64_t pos = off, end = off + len;

	if (mode == UDAX_OP_FAILFAST && known_stop(off, len) != end)
		return -EIO;
	while (pos < end) {
		uint64_t stop = known_stop(pos, end - pos);

		if (stop > pos) {
			uint64_t want = stop - pos;
			uint64_t c = io(pos, want, src + (pos - off), NULL);

			pos += c;
			if (c == want && pos == end)
				break;
		}
		if (mode == UDAX_OP_FAILFAST)
			break;
		if (pos % PG || end - pos < PG)
			break;
		recover(pg(pos), src + (pos - off));
		pos += PG;
	}
	return pos > off ? (long)(pos - off) : -EIO;
}

/* ---- checks ------------------------------------------------------------ */

/* A sector map as merged byte ranges. */
static size_t ranges_of(const unsigned char *map, struct udax_range *out)
{
	size_t n = 0;

	for (uint64_t s = 0; s < S; s++) {
		if (!map[s])
			continue;
		if (n && out[n - 1].off + out[n - 1].len == s * 512)
			out[n - 1].len += 512;
		else
			out[n++] = (struct udax_range){ s * 512, 512 };
	}
	return n;
}

static void check_lists(void)
{
	struct udax_range want[S], got[S];
	size_t nw;
	long ng;

	nw = ranges_of(m.known, want);
	ng = udax_badblocks(dev, got, S);
	M_EQ(ng, nw);
	for (size_t i = 0; i < nw; i++)
		if (got[i].off != want[i].off || got[i].len != want[i].len)
			M_FAIL("known range %zu: %llu+%llu, model %llu+%llu", i,
			       (unsigned long long)got[i].off, (unsigned long long)got[i].len,
			       (unsigned long long)want[i].off, (unsigned long long)want[i].len);
	nw = ranges_of(m.media, want);
	ng = udax_media_poison(dev, got, S);
	M_EQ(ng, nw);
	for (size_t i = 0; i < nw; i++)
		if (got[i].off != want[i].off || got[i].len != want[i].len)
			M_FAIL("media range %zu: %llu+%llu, model %llu+%llu", i,
			       (unsigned long long)got[i].off, (unsigned long long)got[i].len,
			       (unsigned long long)want[i].off, (unsigned long long)want[i].len);
}

static void check_bytes(const unsigned char *got, const unsigned char *want,
			uint64_t len, uint64_t off)
{
	for (uint64_t i = 0; i < len; i++)
		if (got[i] != want[i])
			M_FAIL("byte at %llu: %#x, model %#x",
			       (unsigned long long)(off + i), got[i], want[i]);
}

/* ---- steps --------------------------------------------------------------- */

/* A random byte range: page-aligned whole pages half of the time. */
static void rand_range(uint64_t *off, uint64_t *len, uint64_t maxpages)
{
	uint64_t p = r(P), n = 1 + r(maxpages);

	if (p + n > P)
		n = P - p;
	if (r(2)) {
		*off = p * PG;
		*len = n * PG;
	} else {
		*off = p * PG + r(PG);
		*len = 1 + r(n * PG);
		if (*off + *len > (uint64_t)P * PG)
			*len = (uint64_t)P * PG - *off;
	}
}

static void sectors_set(unsigned char *map, uint64_t off, uint64_t len, int v)
{
	for (uint64_t s = off / 512; s < (off + len + 511) / 512; s++)
		map[s] = (unsigned char)v;
}

static void step_inject(bool act)
{
	struct udax_range rr[3];
	int n = 1 + (int)r(3), kind = (int)r(3);
	unsigned int fl = kind == 0 ? 0 : kind == 1 ? UDAX_INJECT_LATENT : UDAX_INJECT_REMOVE;

	opname = kind == 0 ? "inject" : kind == 1 ? "inject latent" : "inject remove";
	for (int i = 0; i < n; i++) {
		rr[i].off = r((uint64_t)P * PG);
		rr[i].len = 1 + r(2 * PG);
		if (rr[i].off + rr[i].len > (uint64_t)P * PG)
			rr[i].len = (uint64_t)P * PG - rr[i].off;
	}
	note("%d: %llu+%llu %llu+%llu %llu+%llu", n,
	     (unsigned long long)rr[0].off, (unsigned long long)rr[0].len,
	     (unsigned long long)(n > 1 ? rr[1].off : 0), (unsigned long long)(n > 1 ? rr[1].len : 0),
	     (unsigned long long)(n > 2 ? rr[2].off : 0), (unsigned long long)(n > 2 ? rr[2].len : 0));
	if (act)
		M_EQ(udax_inject_ranges(dev, rr, (size_t)n, fl), 0);
	for (int i = 0; i < n; i++) {
		sectors_set(m.media, rr[i].off, rr[i].len, kind != 2);
		if (kind == 0)
			sectors_set(m.known, rr[i].off, rr[i].len, 1);
	}
}

static void step_import(bool act)
{
	uint64_t s = r(S), n = 1 + r(12);
	char text[64];
	int len;

	opname = "import";
	if (s + n > S)
		n = S - s;
	len = snprintf(text, sizeof(text), "%llu %llu\n", (unsigned long long)s,
		       (unsigned long long)n);
	note("%llu %llu", (unsigned long long)s, (unsigned long long)n);
	if (act)
		M_EQ(udax_badblocks_import(dev, text, (size_t)len), 1);
	for (uint64_t i = s; i < s + n; i++)
		m.known[i] = 1;
}

static void step_scrub(bool act)
{
	long found = 0;

	opname = "scrub";
	note("%s", "");
	for (int s = 0; s < S; s++)
		if (m.media[s] && !m.known[s]) {
			found += 512;
			m.known[s] = 1;
		}
	if (act)
		M_EQ(udax_scrub(dev), found);
}

static void step_clear(bool act)
{
	struct udax_range rr[3];
	bool hit[P] = { false };
	int n = 1 + (int)r(3), kind = (int)r(4);
	unsigned int fl = kind == 1 ? UDAX_CLEAR_ALL : kind == 2 ? UDAX_CLEAR_DRY_RUN :
			  kind == 3 ? UDAX_CLEAR_ALL | UDAX_CLEAR_DRY_RUN : 0;
	long pages = 0;

	opname = "clear";
	for (int i = 0; i < n; i++)
		rand_range(&rr[i].off, &rr[i].len, 3);
	for (int i = 0; i < n; i++)
		for (uint64_t p = pg(rr[i].off); p <= pg(rr[i].off + rr[i].len - 1); p++)
			if (fl & UDAX_CLEAR_ALL || page_known(p) || page_media(p))
				hit[p] = true;
	for (int p = 0; p < P; p++)
		if (hit[p]) {
			pages++;
			if (!(fl & UDAX_CLEAR_DRY_RUN))
				recover((uint64_t)p, NULL);
		}
	note("fl %u %d: %llu+%llu %llu+%llu %llu+%llu -> %ld pages", fl, n,
	     (unsigned long long)rr[0].off, (unsigned long long)rr[0].len,
	     (unsigned long long)(n > 1 ? rr[1].off : 0), (unsigned long long)(n > 1 ? rr[1].len : 0),
	     (unsigned long long)(n > 2 ? rr[2].off : 0), (unsigned long long)(n > 2 ? rr[2].len : 0),
	     pages);
	if (act)
		M_EQ(udax_clear(dev, rr, (size_t)n, fl), pages * PG);
}

static void step_zero(bool act)
{
	uint64_t p = r(P), n = 1 + r(3);

	opname = "zero_page_range";
	if (p + n > P)
		n = P - p;
	note("%llu %llu", (unsigned long long)p, (unsigned long long)n);
	if (act)
		M_EQ(udax_zero_page_range(dev, p, n), 0);
	for (uint64_t i = p; i < p + n; i++)
		recover(i, NULL);
}

static void step_read(bool act)
{
	unsigned char want[8 * PG];
	uint64_t off, len;
	int kind = (int)r(3);	/* 0 failfast, 1 recovery, 2 pread */
	long e;

	opname = kind == 0 ? "read failfast" : kind == 1 ? "read recovery" : "pread";
	rand_range(&off, &len, 6);
	e = model_read(off, len, kind == 0 ? UDAX_OP_FAILFAST : UDAX_OP_RECOVERY, want);
	note("%llu+%llu -> %ld", (unsigned long long)off, (unsigned long long)len, e);
	if (act) {
		ssize_t got = kind == 2 ? udax_pread(dev, buf, len, off)
					: udax_read(dev, buf, len, off,
						    kind == 0 ? UDAX_OP_FAILFAST : UDAX_OP_RECOVERY);

		M_EQ(got, e);
		if (got > 0)
			check_bytes(buf, want, (uint64_t)got, off);
	}
}

static void step_write(bool act)
{
	uint64_t off, len;
	int kind = (int)r(3);	/* 0 failfast, 1 recovery, 2 pwrite */
	long e;

	opname = kind == 0 ? "write failfast" : kind == 1 ? "write recovery" : "pwrite";
	rand_range(&off, &len, 6);
	for (uint64_t i = 0; i < len; i += 8) {
		uint64_t x = t_rand(&rng);

		memcpy(in + i, &x, len - i < 8 ? len - i : 8);
	}
	e = model_write(off, len, kind == 0 ? UDAX_OP_FAILFAST : UDAX_OP_RECOVERY, in);
	note("%llu+%llu -> %ld", (unsigned long long)off, (unsigned long long)len, e);
	if (act) {
		ssize_t got = kind == 2 ? udax_pwrite(dev, in, len, off)
					: udax_write(dev, in, len, off,
						     kind == 0 ? UDAX_OP_FAILFAST : UDAX_OP_RECOVERY);

		M_EQ(got, e);
	}
}

static void step_direct_access(bool act)
{
	uint64_t p = r(P), n = 1 + r(8), s0 = p * 8, k;
	bool rec = r(2);
	long e = (long)(p + n > P ? P - p : n);

	opname = rec ? "direct_access recovery" : "direct_access failfast";
	for (uint64_t s = s0; s < s0 + (uint64_t)e * 8; s++) {
		if (!m.known[s])
			continue;
		if (!rec) {
			e = -EIO;
		} else {
			k = (s - s0 + 7) / 8;
			e = k ? (long)k : 1;
		}
		break;
	}
	note("%llu %llu -> %ld", (unsigned long long)p, (unsigned long long)n, e);
	if (act) {
		void *a = rec ? (void *)UDAX_OP_RECOVERY : NULL;

		M_EQ(udax_direct_access(dev, p, (long)n, &a, NULL), e);
	}
}

/* A plain load by the program: poison raises SIGBUS and is consumed. */
static void step_load(bool act)
{
	uint64_t p = r(P), at = r(PG);
	bool bad = page_media(p);

	opname = "plain load";
	note("page %llu%s", (unsigned long long)p, bad ? " (poisoned)" : "");
	if (act && !t_under_valgrind()) {
		void *a = (void *)UDAX_OP_RECOVERY;
		unsigned char v = 0;
		siginfo_t si;
		int hit;

		M_EQ(udax_direct_access(dev, p, 1, &a, NULL) >= 1, 1);
		hit = e_touch((unsigned char *)udax_kaddr_untag(a) + at, false, &v, &si);
		M_EQ(hit, bad ? SIGBUS : 0);
		if (hit)
			M_EQ(si.si_code, BUS_MCEERR_AR);
		else
			M_EQ(v, m.data[p * PG + at]);
	}
	/* (Under valgrind no load is made: nothing consumed there.) */
	if (bad && !t_under_valgrind())
		consume(p);
}

static void step_reopen(bool act)
{
	opname = "reopen";
	note("%s", "");
	if (act) {
		udax_close(dev);
		M_EQ(udax_open(img, 0, &dev), 0);
	}
}

static void one_step(bool act)
{
	uint64_t x = r(100);

	if (x < 10)
		step_inject(act);
	else if (x < 12)
		step_import(act);
	else if (x < 15)
		step_scrub(act);
	else if (x < 21)
		step_clear(act);
	else if (x < 24)
		step_zero(act);
	else if (x < 50)
		step_read(act);
	else if (x < 78)
		step_write(act);
	else if (x < 90)
		step_direct_access(act);
	else if (x < 99)
		step_load(act);
	else
		step_reopen(act);
	if (act)
		check_lists();
}

/* Whose turn step @i is: its own stream, so that the one who acts last
 * knows whether to pass the token before the next step is drawn. */
static int turn(uint64_t i)
{
	uint64_t x = seed ^ (i * 0x9e3779b97f4a7c15ULL);

	return (int)(t_rand(&x) >> 7) % 3 == 0;	/* the child: a third */
}

static void run(int rd, int wr, uint64_t steps)
{
	char c;

	for (step = 0; step < steps; step++) {
		int t = turn(step);

		if (t == me && step && turn(step - 1) != me) {
			if (read(rd, &c, 1) != 1)
				t_fail("%s: the other process failed (seed %llu)",
				       me ? "child" : "parent", (unsigned long long)seed);
		}
		turn_of_step = t;
		one_step(t == me);
		if (t == me && step + 1 < steps && turn(step + 1) != me)
			t_assert(write(wr, "t", 1) == 1);
	}
}

int main(void)
{
	const char *s = getenv("UDAX_TEST_SEED"), *n = getenv("UDAX_TEST_STEPS");
	const char *stress = getenv("UDAX_TEST_STRESS");
	uint64_t steps = stress && *stress && strcmp(stress, "0") ? 1000000 : 100000;
	int to_child[2], to_parent[2];
	struct timespec t0, t1;
	pid_t pid;

	seed = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
	if (n && *n)
		steps = strtoull(n, NULL, 0);
	printf("seed %llu, %llu steps\n", (unsigned long long)seed,
	       (unsigned long long)steps);
	fflush(stdout);
	/* Half of the seeds coalesce the protected runs hard. */
	if (seed & 2)
		t_ok(setenv("UDAX_EMUL_MAX_RUNS", "3", 1));
	dir = e_tmpdir();
	snprintf(img, sizeof(img), "%s/img", dir);
	e_image(img, P, seed | 1);
	for (uint64_t p = 0; p < P; p++)
		e_fill(m.data + p * PG, seed | 1, p);
	rng = seed;
	t_ok(pipe(to_child));
	t_ok(pipe(to_parent));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	t_assert(pid >= 0);
	if (pid == 0) {
		me = 1;
		close(to_child[1]);
		close(to_parent[0]);
		t_ok(udax_open(img, 0, &dev));
		run(to_child[0], to_parent[1], steps);
		udax_close(dev);
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	t_ok(udax_open(img, 0, &dev));
	run(to_parent[0], to_child[1], steps);
	close(to_child[1]);
	t_eq(e_wait(pid), 0);
	step = steps;
	opname = "end";
	check_lists();
	/* Every page's bytes, where they can be read. */
	for (uint64_t p = 0; p < P; p++) {
		unsigned char want[PG];
		long e = model_read(p * PG, PG, UDAX_OP_RECOVERY, want);

		M_EQ(udax_pread(dev, buf, PG, p * PG), e);
		if (e > 0)
			check_bytes(buf, want, PG, p * PG);
	}
	udax_close(dev);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("ok %llu steps in %.1f s (seed %llu)\n", (unsigned long long)steps,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       (unsigned long long)seed);
	t_tmpdir_rm(dir);
	return 0;
}
