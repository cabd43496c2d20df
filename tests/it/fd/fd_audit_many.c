/* Audit at an exec of a process with 1,000 fds it would leak: the log
 * holds at most 100 lines a second (the rate limit), and every leak is
 * still accounted for, as a line or in the count of a "suppressed" line.
 *
 *  - A process that execs (in place, or a fork child) writes its count of
 *    dropped lines before the exec takes its memory away.  The count was
 *    lost before: 100 lines, and 901 fds nobody heard of.
 *  - The limit is checked before an fd is described, which costs system
 *    calls (its /proc link, fstat, the creating call's module): an fd
 *    whose line would be dropped anyway is not described.  Counted in
 *    readlinkat calls on /proc/self/fd/N: 1,001 before, one per line now.
 *  - The creating calls' module is looked up once for the walk, not once
 *    per line: /proc/self/maps was read 100 times, now once (the fds were
 *    all made by calls in one program).
 *
 * Rows: exec in place, fork + execve, posix_spawn (its child shares its
 * parent's memory, as a vfork child does), vfork + execve 20 times.
 *
 * A child that shares its parent's memory writes nothing of its parent's
 * before its exec: the counts are the parent's, which writes them itself
 * (under its own pid; a child writing them had the parent lose track of
 * its log fd, and with log = stderr wrote into the child's stderr).
 *
 * A program that retries a failing exec in a loop does not get a line
 * per attempt: what an exec would take away is written at most 100 times
 * a second, and repeats go on folding. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../lib/run.h"

#define TIMEOUT 60.0
#define N 1000
/* fd_leak lines and descriptions in one exec: 100 a second. */
#define MAX_DESCRIBED 300

TestSuite(fd_audit_many, .timeout = 120);

struct row {
	const char *how;
	int execs;
};

static const struct row rows[] = {
	{ "exec", 1 },
	{ "fork", 1 },
	{ "spawn", 1 },
	{ "vfork", 20 },
};

static char log_path[4096];
static struct run_result r;

static void run_audit(const char *how, int fds)
{
	char n[16], log_env[4200];
	snprintf(n, sizeof n, "%d", fds);
	snprintf(log_path, sizeof log_path, "%s/audit-%s-%d.log", tmpdir(),
		 how, fds);
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log_path);
	char *argv[] = { (char *)top("build/fixtures/fdh_many"), "none",
			 (char *)how, n, NULL };
	char *env[] = { "NOLEAK_MODE=audit", "NOLEAK_PGROUP=never", log_env,
			NULL };
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "%s hung", how);
	cr_assert_eq(exit_code(&r), 0, "%s: status %d\n%s%s", how, r.status,
		     r.out, r.err);
}

/* The sum of the "dropped" counts of the log's suppressed lines. */
static long dropped(const char *log)
{
	return sum_after(log, "\"dropped\":");
}

Test(fd_audit_many, every_leak_is_a_line_or_counted)
{
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		run_audit(rows[i].how, N);
		const char *log = slurp(log_path);
		long lines = count_lines_with(log, "\"event\":\"fd_leak\"");
		long gone = dropped(log);
		long want = (long)rows[i].execs * (N + 1);
		cr_expect_eq(lines + gone, want,
			     "%s: %ld fd_leak lines and %ld dropped, want %ld "
			     "in all", rows[i].how, lines, gone, want);
		cr_expect_leq(lines, (long)rows[i].execs * MAX_DESCRIBED,
			      "%s: %ld lines", rows[i].how, lines);
	}
}

Test(fd_audit_many, a_dropped_line_costs_no_description)
{
	char cmd[4096];
	snprintf(cmd, sizeof cmd,
		 "LD_PRELOAD=%s NOLEAK_MODE=audit NOLEAK_PGROUP=never "
		 "NOLEAK_LOG=%s/traced.log exec %s none fork %d",
		 shim_path(), tmpdir(), top("build/fixtures/fdh_many"), N);
	const char *trace = trace_calls("readlinkat,openat", cmd);
	int described = count_lines_with(trace, "\"/proc/self/fd/");
	int maps = count_lines_with(trace, "\"/proc/self/maps\"");
	cr_expect_leq(described, MAX_DESCRIBED,
		      "%d fds described for at most 100 lines a second",
		      described);
	cr_expect_geq(described, 100, "the lines within the limit: %d",
		      described);
	cr_expect_leq(maps, 2, "/proc/self/maps read %d times for the sites "
		      "of one program", maps);
}

/* The "pid" of each line with `kind`, as one string "P,P,...,". */
static void pids_of(const char *log, const char *kind, char *out, size_t cap)
{
	char key[64];
	snprintf(key, sizeof key, "\"event\":\"%s\",\"pid\":", kind);
	size_t n = 0;
	out[0] = '\0';
	for (const char *p = log; (p = strstr(p, key)); p++) {
		long pid = strtol(p + strlen(key), NULL, 10);
		n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%ld,", pid);
	}
}

Test(fd_audit_many, children_sharing_memory_leave_the_counts_to_the_parent)
{
	static const char *const hows[] = { "spawn", "vfork" };
	for (size_t i = 0; i < sizeof hows / sizeof *hows; i++) {
		run_audit(hows[i], N);
		const char *at = strstr(r.out, "pid=");
		cr_assert(at, "%s: no pid in: %s", hows[i], r.out);
		char want[32], got[512];
		snprintf(want, sizeof want, "%ld,", strtol(at + 4, NULL, 10));
		pids_of(slurp(log_path), "suppressed", got, sizeof got);
		cr_expect_str_eq(got, want, "%s: the suppressed lines are "
				 "written by %s, not by the parent alone",
				 hows[i], got);
	}
}

Test(fd_audit_many, a_failing_exec_retried_writes_no_line_per_attempt)
{
	static const struct {
		int fds;       /* besides the junk fd: 0, one leak a try */
		long lines;    /* at most, a second */
	} rows[] = {
		{ 0, 110 },    /* the same line each try: folded */
		{ 1, 220 },    /* two lines each try: the limit */
	};
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		run_audit("fail", rows[i].fds);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		/* the seconds the run may have touched */
		long secs = (long)(t1.tv_sec - t0.tv_sec) + 2;
		const char *log = slurp(log_path);
		long lines = count_lines_with(log, "\"event\":");
		/* a line with "count" stands for that many more */
		long leaks = count_lines_with(log, "\"event\":\"fd_leak\"") -
			     count_lines_with(log, "\"count\":");
		long folded = sum_after(log, "\"count\":");
		long want = 2000L * (rows[i].fds + 1);
		cr_expect_eq(leaks + folded + dropped(log), want,
			     "%d fds: %ld lines, %ld folded, %ld dropped, want "
			     "%ld in all", rows[i].fds, leaks, folded,
			     dropped(log), want);
		cr_expect_leq(lines, rows[i].lines * secs,
			      "%d fds: %ld lines in %ld s", rows[i].fds, lines,
			      secs);
	}
}

/* A fork child of a threaded program that holds 150 sockets and ends with
 * _exit(): 100 fork_inherit lines, and the other 50 were counted but never
 * written (the count waited for the destructor, which _exit() does not
 * run).  Every socket is a line or counted now. */
Test(fd_audit_many, a_fork_child_ending_with__exit_counts_every_socket)
{
	char log_env[4200];
	snprintf(log_path, sizeof log_path, "%s/audit-fork-held.log", tmpdir());
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log_path);
	char *argv[] = { (char *)top("build/fixtures/fdh_fork_held"), "150", NULL };
	char *env[] = { "NOLEAK_MODE=audit", log_env, NULL };
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	const char *log = slurp(log_path);
	long lines = count_lines_with(log, "\"event\":\"fork_inherit\"");
	long gone = dropped(log);
	cr_expect_eq(lines + gone, 150, "%ld fork_inherit lines and %ld dropped, "
		     "want 150 in all", lines, gone);
}
