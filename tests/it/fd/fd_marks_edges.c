/* The fd table follows what the program does to its fds exactly: each case
 * runs the same program with and without the shim (or two ways of doing
 * the same thing under it) and compares.
 *
 * closefrom(-1): glibc takes it as closefrom(0), so fd 2 goes, and the
 * log (log=stderr) must stop writing there: the file the program opens
 * next on fd 2 holds only the program's bytes.
 * close_range(): the closed numbers' records (creator, kind) go, as after
 * close(): an fd a raw system call makes on a number next is one the shim
 * never saw created, and a number naming it keeps nothing.
 * The log's own fd: a program that clears close-on-exec on every fd it
 * has (F_SETFD 0, FIONCLEX) hands its child what it would have without
 * the shim, and never the log, audit mode included.  Nor may the program
 * reach the log's fd in any other way: dup, dup2, dup3, F_DUPFD from it,
 * fcntl, ioctl, flock and lockf on it and close() answer EBADF as on a
 * number not open, and the log keeps its fd (a dup2 from it had given an
 * exec'd child an inheritable write handle on the log; a close had closed
 * the log). */
#include <criterion/criterion.h>

#include <linux/close_range.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0

static void init(void)
{
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	cr_assert_eq(access(top("build/fixtures/fdh_marks"), X_OK), 0,
		     "build/fixtures/fdh_marks missing");
}

TestSuite(fd_marks_edges, .init = init);

static const char *const modes[] = { "audit", "enforce" };

Test(fd_marks_edges, closefrom_negative_closes_stderr_as_glibc)
{
	static struct run_result r;
	char data[600], env_mode[32];
	snprintf(data, sizeof data, "%s/data", tmpdir());
	char *argv[] = { (char *)top("build/fixtures/fdh_marks"),
			 "closefrom-neg", data, NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, ""), 0);
	cr_assert_eq(exit_code(&r), 0, "without the shim: %s", r.err);
	cr_assert_str_eq(slurp(data), "program data\n");
	for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
		snprintf(env_mode, sizeof env_mode, "NOLEAK_MODE=%s", modes[i]);
		char *env[] = { env_mode, "NOLEAK_LOG=stderr",
				"NOLEAK_CONFIG=/nonexistent/noleak.conf", NULL };
		cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, ""), 0);
		cr_expect_eq(exit_code(&r), 0, "%s: %s", modes[i], r.err);
		cr_expect_str_eq(slurp(data), "program data\n",
				 "%s: the program's file on fd 2 holds:\n%s",
				 modes[i], slurp(data));
	}
}

/* One row per way of closing: under the shim both must do what close()
 * does (the raw fd, never seen created, is withheld in enforce). */
Test(fd_marks_edges, close_range_forgets_the_creator_as_close)
{
	static struct run_result r;
	const char *fx = top("build/fixtures/fdh_marks");
	int status[2];
	const char *how[] = { "close", "range" };
	char *env[] = { "NOLEAK_MODE=enforce",
			"NOLEAK_CONFIG=/nonexistent/noleak.conf", NULL };
	for (int i = 0; i < 2; i++) {
		char *argv[] = { (char *)fx, "range-stale", (char *)how[i], NULL };
		cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, ""), 0);
		cr_assert_eq(exit_code(&r), 0, "%s without the shim: %s", how[i],
			     r.err);
		cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, ""), 0);
		status[i] = exit_code(&r);
		cr_assert(status[i] == 0 || status[i] == 1, "%s: %d %s", how[i],
			  status[i], r.err);
	}
	cr_expect_eq(status[0], 1, "close(): the unseen fd 3 crossed");
	cr_expect_eq(status[1], status[0],
		     "close_range: readlink exited %d, after close() %d",
		     status[1], status[0]);
}

/* One row per way of clearing the flag, each in both modes. */
Test(fd_marks_edges, log_fd_never_crosses_a_trampoline)
{
	static struct run_result off, on;
	const char *fx = top("build/fixtures/fdh_marks");
	const char *how[] = { "fcntl", "ioctl" };
	const char *dir = tmpdir();
	char log[600], env_log[700], env_mode[32];
	snprintf(log, sizeof log, "%s/log", dir);
	snprintf(env_log, sizeof env_log, "NOLEAK_LOG=%s", log);
	for (int i = 0; i < 2; i++) {
		char *argv[] = { (char *)fx, "pass-all", (char *)how[i],
				 (char *)top("build/fixtures/fdh_fds"), NULL };
		cr_assert_eq(run(&off, argv, NULL, 0, TIMEOUT, ""), 0);
		cr_assert_eq(exit_code(&off), 0, "%s without the shim: %s",
			     how[i], off.err);
		cr_assert(strstr(off.out, "fds=3,4\n"), "%s: %s", how[i], off.out);
		for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
			snprintf(env_mode, sizeof env_mode, "NOLEAK_MODE=%s",
				 modes[m]);
			char *env[] = { env_mode, env_log,
					"NOLEAK_CONFIG=/nonexistent/noleak.conf",
					NULL };
			cr_assert_eq(run(&on, argv, env, 1, TIMEOUT, ""), 0);
			cr_expect_eq(exit_code(&on), 0, "%s %s: %s", how[i],
				     modes[m], on.err);
			cr_expect(strstr(on.out, "fds=3,4\n") &&
					  !strstr(on.out, log),
				  "%s %s: the child has\n%s", how[i], modes[m],
				  on.out);
		}
	}
	cr_expect(count_lines_with(slurp(log), "\"event\"") > 0,
		  "nothing was logged: %s", slurp(log));
}

/* The lines of out up to "after=" (what the calls answered, and what the
 * exec'd child got: the rest), and the "after=" line into *after. */
static void split_after(const char *out, char *calls, size_t cap,
			char *after, size_t acap)
{
	const char *a = strstr(out, "\nafter=");
	cr_assert(a, "no after= line: %s", out);
	snprintf(calls, cap, "%.*s%s", (int)(a - out + 1), out,
		 strchr(a + 1, '\n') ? strchr(a + 1, '\n') + 1 : "");
	snprintf(after, acap, "%.*s", (int)strcspn(a + 1, "\n"), a + 1);
}

/* One row per way of reaching the log's number (100 and up), in both
 * modes: the program sees what it sees without the shim, and the log's
 * fd is still open afterwards.  raw_close: a file of the program's put
 * onto the log's number by a call the shim does not see is the
 * program's, and its close() closes it.  The *_bad* rows: a dup3 or
 * close_range onto the number that fails on its arguments, then close():
 * before, the failing call retired the log's fd without closing it, and
 * the close answered 0 where without the shim it is EBADF. */
static const struct {
	const char *way;
	int log_kept;
} log_fd_ways[] = {
	{ "dup", 1 }, { "dup2", 1 }, { "dup3", 1 }, { "dupfd", 1 },
	{ "dupfd_cloexec", 1 }, { "getfd", 1 }, { "setfd0", 1 },
	{ "getfl", 1 }, { "setfl", 1 }, { "fionclex", 1 }, { "fioclex", 1 },
	{ "flock", 1 }, { "flock_mand", 1 }, { "flock_bad", 1 }, { "lockf", 1 },
	{ "close", 1 }, { "raw_close", 0 },
	{ "dup3_badflags", 1 }, { "close_range_badflags", 1 },
};

Test(fd_marks_edges, the_log_fd_is_not_the_program_s)
{
	static struct run_result off, on;
	static char want[65536], got[65536];
	char after[4096], log[600], env_log[700], env_mode[32];
	char fx[600], fds[600];   /* top() and shim_path() share a buffer */
	snprintf(fx, sizeof fx, "%s", top("build/fixtures/fdh_marks"));
	snprintf(fds, sizeof fds, "%s", top("build/fixtures/fdh_fds"));
	snprintf(log, sizeof log, "%s/log", tmpdir());
	snprintf(env_log, sizeof env_log, "NOLEAK_LOG=%s", log);
	for (size_t i = 0; i < sizeof log_fd_ways / sizeof *log_fd_ways; i++) {
		const char *way = log_fd_ways[i].way;
		char *argv[] = { fx, "log-fd", (char *)way, fds, NULL };
		cr_assert_eq(run(&off, argv, NULL, 0, TIMEOUT, ""), 0);
		cr_assert_eq(exit_code(&off), 0, "%s without the shim: %s", way,
			     off.err);
		split_after(off.out, want, sizeof want, after, sizeof after);
		cr_assert_str_eq(after, "after=", "%s: %s", way, off.out);
		for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
			snprintf(env_mode, sizeof env_mode, "NOLEAK_MODE=%s",
				 modes[m]);
			char *env[] = { env_mode, env_log,
					"NOLEAK_CONFIG=/nonexistent/noleak.conf",
					NULL };
			cr_assert_eq(run(&on, argv, env, 1, TIMEOUT, ""), 0);
			cr_assert_eq(exit_code(&on), 0, "%s %s: status %d %s%s",
				     way, modes[m], on.status, on.out, on.err);
			split_after(on.out, got, sizeof got, after, sizeof after);
			cr_expect_str_eq(got, want, "%s %s: with the shim:\n%s"
					 "\nwithout:\n%s", way, modes[m], got,
					 want);
			if (log_fd_ways[i].log_kept)
				cr_expect(strstr(after, log), "%s %s: the log's "
					  "fd is gone: %s", way, modes[m],
					  after);
			else
				cr_expect_str_eq(after, "after=", "%s %s", way,
						 modes[m]);
		}
	}
	cr_expect(count_lines_with(slurp(log), "\"event\"") > 0,
		  "nothing was logged: %s", slurp(log));
}

/* A fork by one thread while another changes fd 10 (or refills fd 0):
 * each child that holds fd 10 inheritable when it is made must hand it to
 * its exec, and none may find fd 0 close-on-exec, as without the shim.
 * Before, the marks went on after F_SETFD 0, FIONCLEX and dup2 and came
 * off before close(), and a new fd on 0-2 was made close-on-exec and
 * cleared after: on the old code about 8 in 10 children that held fd 10
 * through a close lost it, and 4 in 10 started without stdin.  Bounded:
 * a second and a half per way, at most 3,000 children. */
static void fork_marks(const char *how)
{
	static struct run_result r;
	char *argv[] = { (char *)top("build/fixtures/fdh_fork_marks"),
			 (char *)how, "1.5", NULL };
	char *env[] = { "NOLEAK_MODE=enforce",
			"NOLEAK_CONFIG=/nonexistent/noleak.conf", NULL };
	int forks, held, lost, extra;
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, ""), 0);
	cr_assert_eq(exit_code(&r), 0, "%s without the shim: %s", how, r.err);
	cr_assert_eq(sscanf(r.out, "forks=%d inheritable=%d lost=%d extra=%d",
			    &forks, &held, &lost, &extra), 4, "%s", r.out);
	cr_assert(held > 0 && lost == 0 && extra == 0,
		  "%s without the shim: %s", how, r.out);
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, ""), 0);
	cr_assert_eq(exit_code(&r), 0, "%s: %s", how, r.err);
	cr_assert_eq(sscanf(r.out, "forks=%d inheritable=%d lost=%d extra=%d",
			    &forks, &held, &lost, &extra), 4, "%s", r.out);
	cr_expect(held > 0, "%s: no child held the fd: %s", how, r.out);
	cr_expect_eq(lost, 0, "%s: %d of %d children that held the fd lost it "
		     "(%s)", how, lost, held, r.out);
	cr_expect_eq(extra, 0, "%s: %s", how, r.out);
}

Test(fd_marks_edges, fork_during_f_setfd_0_keeps_the_fd) { fork_marks("setfd"); }
Test(fd_marks_edges, fork_during_fionclex_keeps_the_fd) { fork_marks("fionclex"); }
Test(fd_marks_edges, fork_during_dup2_keeps_the_fd) { fork_marks("dup2"); }
Test(fd_marks_edges, fork_during_close_keeps_the_fd) { fork_marks("close"); }
Test(fd_marks_edges, fork_during_a_new_stdin_keeps_it_inheritable) { fork_marks("stdin"); }
