/* The pipe-EOF hang: a child leaves the write end of its output pipe open
 * under its original number and runs a shell that starts a daemon.  The
 * reader waits for end of file until the daemon exits, unless the exec
 * sweep closed that extra copy. */
#include <criterion/criterion.h>

#include <linux/close_range.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../lib/run.h"

static struct run_result r;

static void init(void)
{
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	cr_assert_eq(access(top("build/fixtures/fdh_pipe_eof"), X_OK), 0,
		     "build/fixtures/fdh_pipe_eof missing");
}

TestSuite(fd_pipe_eof, .init = init);

static void reader(int shim)
{
	char *argv[] = { (char *)top("build/fixtures/fdh_pipe_eof"), NULL };
	cr_assert_eq(run(&r, argv, NULL, shim, 10.0, ""), 0);
	cr_assert(!r.timed_out, "fdh_pipe_eof (shim=%d) timed out", shim);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
}

Test(fd_pipe_eof, reader_sees_eof_when_the_shell_exits)
{
	reader(0);
	cr_assert(strstr(r.out, "read=ok hang\n"),
		  "without the shim the reader did not hang: %s", r.out);

	reader(1);
	double took = 99;
	const char *eof = strstr(r.out, "eof=");
	cr_assert(strstr(r.out, "read=ok ") && eof && sscanf(eof, "eof=%lf", &took) == 1,
		  "under the shim: %s", r.out);
	cr_expect_lt(took, 1.0, "end of file after %.3f s", took);
}
