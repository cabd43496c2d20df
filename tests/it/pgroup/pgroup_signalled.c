/* kill(0, SIGTERM) from a session leader reaches each child group the
 * shim made as a whole.  When the leaders are reaped, their members are
 * still dying: the shim looks again for a moment before it calls them
 * orphans, for every group it signalled, not only the last few; a moment
 * of time (50 ms from the signal and 25 ms from the reap), not of /proc
 * scans, which take longer on a host with more processes.  Members that the signal killed but that
 * have not run since (a busy machine) are dying too, however long they
 * wait for a CPU. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "../../lib/run.h"
#include "../../lib/pgroup_procs.h"

TestSuite(pgroup_signalled, .fini = pg_cleanup, .timeout = 60);

static void signal_groups_with(const char *fixture, const char *n,
			       const char *leader_ms, const char *member_ms)
{
	static struct run_result r;
	char log_path[PATH_MAX], log_env[PATH_MAX + 16], ready[PATH_MAX];
	snprintf(log_path, sizeof log_path, "%s/events-%s.log", tmpdir(), n);
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log_path);
	snprintf(ready, sizeof ready, "%s/ready-%s", tmpdir(), n);
	int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	char *argv[] = { (char *)top(fixture),
			 (char *)pg_mark("signalled"), (char *)n, ready,
			 (char *)leader_ms, (char *)member_ms, NULL };
	char *env[] = { log_env, "NOLEAK_MODE=enforce", NULL };
	cr_assert_eq(run(&r, argv, env, 1, 40.0, NULL), 0);
	cr_assert(!r.timed_out, "%s%s", r.out, r.err);
	if (exit_code(&r) == 77)
		cr_skip_test("needs 2 CPUs and real-time priority");
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	cr_assert_eq(pg_field(r.out, "reaped", "reaped"), atol(n), "%s", r.out);
	const char *log = slurp(log_path);
	cr_expect_geq(count_lines_with(log, "\"action\":\"signal_group\""), atol(n),
		      "kill(0) did not reach every group:\n%s", log);
	cr_expect_eq(count_lines_with(log, "\"event\":\"orphans\""), 0,
		     "dying members of signalled groups taken for orphans:\n%s", log);
}

static void signal_groups(const char *n)
{
	signal_groups_with("build/fixtures/pg_signalled", n, NULL, NULL);
}

Test(pgroup_signalled, a_few_groups) { signal_groups("4"); }
Test(pgroup_signalled, more_groups_than_any_fixed_list) { signal_groups("24"); }
Test(pgroup_signalled, members_killed_that_have_not_run_yet)
{
	signal_groups_with("build/fixtures/pg_signalled", "3", "starved", NULL);
}

/* A service that shuts down gracefully: its leader handles SIGTERM and
 * exits 100 ms later, past the moment after the signal, and its member
 * 10 ms after that.  The moment also lasts past the reap. */
Test(pgroup_signalled, members_of_a_leader_that_took_its_time)
{
	signal_groups_with("build/fixtures/pg_signalled", "4", "100", "110");
}
