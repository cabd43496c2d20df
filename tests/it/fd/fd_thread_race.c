/* The fork+exec race of multithreaded programs: a pipe another thread has
 * open at the moment of a fork reaches the exec'd child unless it was
 * close-on-exec from birth.  Under the shim no child of 2,000 ever holds
 * one; without it, one does.  The time bounds are for a loaded machine:
 * 2,000 exec'd children take seconds when idle, minutes under a parallel
 * build. */
#include <criterion/criterion.h>

#include <linux/close_range.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../lib/run.h"

static struct run_result r;

static void init(void)
{
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	cr_assert_eq(access(top("build/fixtures/fdh_race"), X_OK), 0,
		     "build/fixtures/fdh_race missing");
}

TestSuite(fd_thread_race, .init = init);

static void race(int shim, const char *n, const char *until, int *children,
		 int *leaked, int *failed)
{
	char *argv[] = { (char *)top("build/fixtures/fdh_race"), (char *)n,
			 (char *)until, NULL };
	cr_assert_eq(run(&r, argv, NULL, shim, 240.0, ""), 0);
	cr_assert(!r.timed_out, "fdh_race (shim=%d) timed out", shim);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_assert_eq(sscanf(r.out, "children=%d leaked=%d failed=%d", children,
			    leaked, failed), 3, "%s", r.out);
}

Test(fd_thread_race, no_child_inherits_another_thread_s_pipe, .timeout = 500)
{
	int children, leaked, failed;

	/* First show the race is real on this machine. */
	race(0, "2000", "until-leak", &children, &leaked, &failed);
	cr_assert_gt(leaked, 0, "without the shim no child of %d caught a pipe: "
		     "the test proves nothing", children);

	race(1, "2000", NULL, &children, &leaked, &failed);
	cr_expect_eq(children, 2000);
	cr_expect_eq(failed, 0, "%d children failed", failed);
	cr_expect_eq(leaked, 0, "%d of %d children held a pipe", leaked, children);
}
