/* The exec sweep's plan (shim/core/sweep.c): which fds a new program keeps.
 * The plan is computed from the policy, the fd table and the new program's
 * argv and environment; these tests set each source up on fds they open
 * themselves and ask nl_plan_keeps() about every number involved. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/state.h"
#include "core/fdtable.h"
#include "core/sweep.h"

static void enforce(void)
{
	nl_policy_defaults(&nl_proc.pol);
	nl_proc.pol.mode = NL_MODE_ENFORCE;
	nl_proc.pid = getpid();
	atomic_store(&nl_proc.init_state, NL_INIT_DONE);
}

static void back_to_off(void)
{
	atomic_store(&nl_proc.init_state, NL_INIT_NONE);
}

TestSuite(sweep, .init = enforce, .fini = back_to_off);

static char *no_args[] = { "prog", NULL };

/* An fd the program made inheritable through an interposed call, as
 * enforce records it: created, then made close-on-exec by the shim. */
static int inheritable_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 3);
	nl_fd_created(fd, NL_CALL_OPEN, (void *)0x1, 1);
	return fd;
}

/* An fd the shim never saw created (a raw system call). */
static int unseen_fd(void)
{
	int fd = open("/dev/null", O_RDONLY);
	cr_assert_geq(fd, 3);
	nl_fd_closed(fd);  /* whatever an earlier test recorded there */
	return fd;
}

/* The high end of the keep range holding fd (-1: none).  The ranges are
 * sorted and disjoint, so this also checks how ranges were merged.  (The
 * test process has inherited fds of its own, which the plan keeps too.) */
static int range_of(const struct nl_plan *pl, int fd)
{
	for (int i = 0; i < pl->n; i++) {
		if (i > 0)
			cr_assert_gt(pl->keep[i].lo, pl->keep[i - 1].hi + 1,
				     "ranges %d and %d are not merged", i - 1, i);
		if (fd >= pl->keep[i].lo && fd <= pl->keep[i].hi)
			return pl->keep[i].hi;
	}
	return -1;
}

/* A number two above the highest fd open in this process (a test runner
 * may hand its workers fds of its own). */
static int above_open_fds(void)
{
	int high = 2;
	DIR *d = opendir("/proc/self/fd");
	cr_assert_not_null(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		if (e->d_name[0] != '.' && atoi(e->d_name) > high)
			high = atoi(e->d_name);
	closedir(d);
	return high + 2;
}

static void plan(struct nl_plan *pl, char *const argv[], char *const envp[],
		 const int *extra, int n_extra)
{
	nl_plan_exec(pl, "execve", "/bin/prog", argv, envp, extra, n_extra);
	cr_assert(pl->active);
	cr_assert(!pl->keep_all);
}

Test(sweep, stdio_is_kept_and_an_unmarked_fd_is_not)
{
	int fd = inheritable_fd();
	struct nl_plan pl;
	plan(&pl, no_args, NULL, NULL, 0);
	for (int i = 0; i <= 2; i++)
		cr_expect(nl_plan_keeps(&pl, i), "fd %d", i);
	cr_expect(!nl_plan_keeps(&pl, fd));
	cr_expect_eq(range_of(&pl, 0), 2, "stdio is one range");
	nl_plan_release(&pl);
	close(fd);
}

Test(sweep, keep_fds_ranges_are_kept_sorted_and_merged)
{
	struct nl_policy *p = &nl_proc.pol;
	/* Out of order, overlapping (10-20, 15-30), adjacent (31-31, 3-4 to
	 * stdio) and disjoint (100-100). */
	struct nl_fd_range r[] = { { 100, 100 }, { 15, 30 }, { 10, 20 },
				   { 31, 31 }, { 3, 4 } };
	for (size_t i = 0; i < sizeof r / sizeof *r; i++)
		p->keep_inline[p->n_keep_fds++] = r[i];
	struct nl_plan pl;
	plan(&pl, no_args, NULL, NULL, 0);
	cr_expect_eq(range_of(&pl, 0), 4);
	cr_expect_eq(range_of(&pl, 10), 31);
	cr_expect_eq(range_of(&pl, 100), 100);
	int kept[] = { 0, 4, 10, 20, 21, 30, 31, 100 };
	int swept[] = { 5, 9, 32, 99, 101 };
	for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
		cr_expect(nl_plan_keeps(&pl, kept[i]), "fd %d", kept[i]);
	for (size_t i = 0; i < sizeof swept / sizeof *swept; i++)
		cr_expect(!nl_plan_keeps(&pl, swept[i]), "fd %d", swept[i]);
	nl_plan_release(&pl);
}

Test(sweep, any_number_of_scattered_fds_is_kept)
{
	/* 5,000 scattered numbers, given in reverse: no fixed limit, and the
	 * gaps between them stay swept.  They start above every fd this
	 * process holds, so none of its inherited fds joins two of them. */
	enum { N = 5000 };
	int base = above_open_fds();
	int *extra = malloc(N * sizeof *extra);
	cr_assert_not_null(extra);
	for (int i = 0; i < N; i++)
		extra[i] = base + 3 * (N - 1 - i);
	struct nl_plan pl;
	plan(&pl, no_args, NULL, extra, N);
	cr_expect_geq(pl.n, N + 1, "got %d ranges", pl.n);
	range_of(&pl, 0);
	for (int i = 0; i < N; i++) {
		int fd = base + 3 * i;
		if (!nl_plan_keeps(&pl, fd) ||
		    (nl_plan_keeps(&pl, fd + 1) && !nl_fd_keep_bits(fd + 1))) {
			cr_expect_fail("fd %d kept %d, fd %d kept %d", fd,
				       nl_plan_keeps(&pl, fd), fd + 1,
				       nl_plan_keeps(&pl, fd + 1));
			break;
		}
	}
	nl_plan_release(&pl);
	cr_expect_null(pl.keep, "the plan's memory is given back");
	free(extra);
}

Test(sweep, a_deliberate_mark_keeps_its_fd_while_it_holds_the_same_file)
{
	int fd = inheritable_fd();
	nl_fd_mark(fd, NL_FD_DELIBERATE);
	struct nl_plan pl;
	plan(&pl, no_args, NULL, NULL, 0);
	cr_expect(nl_plan_keeps(&pl, fd));
	nl_plan_release(&pl);

	/* The number now names another file: the mark no longer counts. */
	int other = open("/dev/zero", O_RDONLY);
	cr_assert_geq(other, 0);
	cr_assert_eq(dup2(other, fd), fd);
	close(other);
	plan(&pl, no_args, NULL, NULL, 0);
	cr_expect(!nl_plan_keeps(&pl, fd));
	nl_plan_release(&pl);
	close(fd);
}

Test(sweep, a_named_fd_is_kept_only_when_the_program_made_it_inheritable)
{
	int made = inheritable_fd(), raw = unseen_fd();
	char a1[32], a2[32];
	snprintf(a1, sizeof a1, "--fd=%d", made);
	snprintf(a2, sizeof a2, "--fd=%d", raw);
	char *argv[] = { "prog", a1, a2, NULL };
	struct nl_plan pl;
	plan(&pl, argv, NULL, NULL, 0);
	cr_expect(nl_plan_keeps(&pl, made), "a named fd the program made");
	cr_expect(!nl_plan_keeps(&pl, raw),
		  "a stray number must not keep a leaked fd");
	/* The shim's flag comes off the one it passes. */
	cr_expect_eq(nl_plan_next_pass(&pl, 3), made);
	nl_plan_release(&pl);
	close(made);
	close(raw);
}

Test(sweep, a_named_fd_in_an_environment_value_is_kept)
{
	int fd = inheritable_fd();
	char env0[64];
	snprintf(env0, sizeof env0, "HAPROXY_PROCESSES=|type=w;fd=%d;pid=1", fd);
	char *envp[] = { env0, NULL };
	struct nl_plan pl;
	plan(&pl, no_args, envp, NULL, 0);
	cr_expect(nl_plan_keeps(&pl, fd));
	nl_plan_release(&pl);
	close(fd);
}

Test(sweep, a_trampoline_keeps_every_fd)
{
	nl_proc.pol.fd_trampolines = "prog";
	int fd = inheritable_fd();
	struct nl_plan pl;
	nl_plan_exec(&pl, "execve", "/bin/prog", no_args, NULL, NULL, 0);
	cr_expect(pl.keep_all);
	cr_expect(nl_plan_keeps(&pl, fd));
	nl_plan_release(&pl);
	close(fd);
}

Test(sweep, audit_without_a_log_plans_nothing)
{
	nl_proc.pol.mode = NL_MODE_AUDIT;
	struct nl_plan pl;
	nl_plan_exec(&pl, "execve", "/bin/prog", no_args, NULL, NULL, 0);
	cr_expect(!pl.active);
	cr_expect(!pl.enforce);
}
