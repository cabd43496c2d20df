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
 * parent's memory, as a vfork child does), vfork + execve 20 times. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void run_audit(const char *how)
{
	static struct run_result r;
	char n[16], log_env[4200];
	snprintf(n, sizeof n, "%d", N);
	snprintf(log_path, sizeof log_path, "%s/audit-%s.log", tmpdir(), how);
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
	long sum = 0;
	for (const char *p = log; (p = strstr(p, "\"dropped\":")); p++)
		sum += strtol(p + 10, NULL, 10);
	return sum;
}

Test(fd_audit_many, every_leak_is_a_line_or_counted)
{
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		run_audit(rows[i].how);
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

/* The fds are listed without /proc while the fd table has at most 64 Ki
 * slots: the fork child's list of what it would leak, and the start-up of
 * the new program, handed 1,101 fds (a table of 2,048 slots, past what
 * start-up's own probe covers).  Listing /proc/self/fd makes the kernel
 * build an entry per fd, and tear them all down when the process is
 * reaped.  The one listing left is the report's own (fdh_many). */
Test(fd_audit_many, fds_listed_without_proc)
{
	char cmd[4096];
	snprintf(cmd, sizeof cmd,
		 "LD_PRELOAD=%s NOLEAK_MODE=audit NOLEAK_PGROUP=never "
		 "NOLEAK_LOG=%s/listed.log exec %s none fork 1100",
		 shim_path(), tmpdir(), top("build/fixtures/fdh_many"));
	const char *trace = trace_calls("openat", cmd);
	cr_assert(strstr(trace, "listed.log"), "nothing traced:\n%s", trace);
	cr_expect_eq(count_lines_with(trace, "\"/proc/self/fd\""), 1,
		     "/proc/self/fd listed besides the report's own:\n%s",
		     trace);
}
