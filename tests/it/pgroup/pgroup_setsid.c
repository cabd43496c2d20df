/* A regrouped child leads its group once it has made a child, and setsid()
 * refuses group leaders (EPERM).  Programs that make themselves a session
 * leader, as daemons and script(1) do, must still get their session under
 * the shim, whether they made a child first (moved: the shim's setsid()
 * goes back and retries) or not (never moved). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"
#include "../../lib/pgroup_procs.h"

#define TIMEOUT 15.0

static struct run_result r;

static void init(void)
{
	cr_assert_eq(access(top("build/fixtures/pg_spawn"), X_OK), 0,
		     "build/fixtures/pg_spawn missing");
}

TestSuite(pgroup_setsid, .init = init, .timeout = 30);

/* A daemon runs pg_setsid_child through via: with fork_first, the child
 * makes a child before its setsid(). */
static void starts_setsid_child(const char *via, int shim, int fork_first)
{
	char *argv[] = { (char *)top("build/fixtures/pg_spawn"), "-d", (char *)via,
			 (char *)top("build/fixtures/pg_setsid_child"),
			 fork_first ? "-f" : NULL, NULL };
	cr_assert_eq(run(&r, argv, NULL, shim, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	long pid = pg_field(r.out, "before", "pid");
	cr_assert_gt(pid, 0, "%s", r.out);
	/* Under the shim a child that made a child was regrouped: setsid()
	 * alone would fail.  A leaf was not. */
	cr_assert_eq(pg_field(r.out, "before", "pgid") == pid, shim && fork_first,
		     "%s", r.out);
	cr_expect_eq(pg_field(r.out, "setsid", "setsid"), pid,
		     "setsid() did not return the new session (shim=%d):\n%s", shim,
		     r.out);
	cr_expect_eq(pg_field(r.out, "setsid", "errno"), 0, "%s", r.out);
	cr_expect_eq(pg_field(r.out, "setsid", "sid"), pid, "%s", r.out);
	cr_expect_eq(pg_field(r.out, "setsid", "pgid"), pid, "%s", r.out);
	cr_expect_eq(pg_field(r.out, "status", "status"), 0, "%s", r.out);
}

static void daemon_starts_setsid_child(const char *via, int shim)
{
	starts_setsid_child(via, shim, 1);
	starts_setsid_child(via, shim, 0);
}

Test(pgroup_setsid, forked_child_gets_its_session)
{
	daemon_starts_setsid_child("fork", 0);
	daemon_starts_setsid_child("fork", 1);
}

Test(pgroup_setsid, vforked_child_gets_its_session)
{
	daemon_starts_setsid_child("vfork", 1);
}

Test(pgroup_setsid, spawned_child_gets_its_session)
{
	daemon_starts_setsid_child("spawn", 0);
	daemon_starts_setsid_child("spawn", 1);
}

Test(pgroup_setsid, script_runs_its_command_on_a_new_terminal)
{
	if (access("/usr/bin/script", X_OK))
		cr_skip_test("script(1) is not installed");
	char *argv[] = { (char *)top("build/fixtures/pg_spawn"), "-d", "spawn",
			 "/usr/bin/script", "-qec", "echo ok", "/dev/null", NULL };
	cr_assert_eq(run(&r, argv, NULL, 1, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "%s", r.out);
	cr_expect(strstr(r.out, "\nok\r\n") || strstr(r.out, "\nok\n"), "%s%s",
		  r.out, r.err);
	cr_expect_eq(pg_field(r.out, "status", "status"), 0, "%s%s", r.out, r.err);
}

/* A PATH walk (CPython's subprocess, os.execvp): the first execve fails.
 * The failed one must leave the child where it was, so that the one that
 * succeeds moves it and passes the marker its setsid() needs. */
Test(pgroup_setsid, child_after_a_path_walk_gets_its_session)
{
	daemon_starts_setsid_child("pathwalk", 0);
	daemon_starts_setsid_child("pathwalk", 1);
}

Test(pgroup_setsid, vforked_child_after_a_path_walk_gets_its_session)
{
	daemon_starts_setsid_child("vpathwalk", 1);
}

/* The marker survives the walk, and the child runs in its own group once
 * it has made a child. */
Test(pgroup_setsid, path_walk_keeps_the_marker)
{
	char *argv[] = { (char *)top("build/fixtures/pg_spawn"), "-d", "pathwalk",
			 (char *)top("build/fixtures/pg_whoami"), "-f", NULL };
	cr_assert_eq(run(&r, argv, NULL, 1, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	char want[64];
	snprintf(want, sizeof want, "%ld:%ld:", pg_field(r.out, "parent", "pid"),
		 pg_field(r.out, "parent", "pgid"));
	cr_expect(!strncmp(pg_word(r.out, "child", "marker"), want, strlen(want)),
		  "want marker=%s... in:\n%s", want, r.out);
	cr_expect_eq(pg_field(r.out, "child", "pgid"), pg_field(r.out, "child", "pid"),
		     "%s", r.out);
}
