/* What the shim signals on its own, exactly:
 *  - only a child whose group the shim made, and that has not moved since:
 *    a daemon's worker that calls setsid()/setpgid() itself (or, as
 *    supervisord's children do, setpgrp() before its exec) is killed alone,
 *    whatever kill_escalate says;
 *  - every child group it made, however many, and none of a child the
 *    kernel reaped behind its back (SIGCHLD = SIG_IGN) is left in the way;
 *  - never a stranger that got a number reused: orphans = kill's delayed
 *    SIGKILL in a private pid namespace. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"
#include "../../lib/pgroup_procs.h"

#define TIMEOUT 30.0

static struct run_result r;

TestSuite(pgroup_exact, .fini = pg_cleanup, .timeout = 60);

static void worker(const char *mode, int shim, const char *escalate)
{
	char esc[64];
	snprintf(esc, sizeof esc, "NOLEAK_KILL_ESCALATE=%s", escalate);
	char *argv[] = { (char *)top("build/fixtures/pg_worker"), (char *)mode, NULL };
	char *env[] = { esc, (char *)pg_mark_env(pg_mark(mode)), NULL };
	cr_assert_eq(run(&r, argv, env, shim, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "pg_worker %s: %s%s", mode, r.out, r.err);
	cr_expect_eq(pg_field(r.out, "status", "status"), 15, "%s", r.out);
	cr_expect(strstr(r.out, "helper=alive\n"),
		  "kill(worker) reached the helper the worker started (%s, shim=%d, "
		  "kill_escalate=%s):\n%s", mode, shim, escalate, r.out);
}

static void worker_everywhere(const char *mode)
{
	worker(mode, 0, "shell");
	worker(mode, 1, "shell");
	worker(mode, 1, "always");
}

Test(pgroup_exact, worker_that_calls_setsid_is_killed_alone)
{
	worker_everywhere("setsid");
}

Test(pgroup_exact, worker_that_calls_setpgid_is_killed_alone)
{
	worker_everywhere("setpgid");
}

Test(pgroup_exact, child_that_regroups_itself_before_exec_is_killed_alone)
{
	worker_everywhere("exec");
}

static long many(const char *mode, int n, int shim)
{
	char count[16];
	snprintf(count, sizeof count, "%d", n);
	char *argv[] = { (char *)top("build/fixtures/pg_many"), (char *)mode, count,
			 NULL };
	char *env[] = { (char *)pg_mark_env(pg_mark(mode)), NULL };
	cr_assert_eq(run(&r, argv, env, shim, 60.0, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "pg_many %s %d: %s%s", mode, n, r.out, r.err);
	return pg_field(r.out, "alive", "alive");
}

/* More children than any fixed table held. */
Test(pgroup_exact, kill_zero_reaches_300_child_groups, .timeout = 120)
{
	cr_expect_eq(many("kill0", 300, 0), 0, "%s", r.out);
	cr_expect_eq(many("kill0", 300, 1), 0,
		     "kill(0) missed children the shim regrouped:\n%s", r.out);
}

/* 300 children reaped by the kernel, then the incident: the shell's
 * sleeps must still go with it. */
Test(pgroup_exact, children_reaped_behind_the_shims_back_leave_nothing_stale,
     .timeout = 120)
{
	cr_expect_eq(many("stale", 300, 1), 0,
		     "killing the shell left its sleeps:\n%s", r.out);
}

Test(pgroup_exact, delayed_orphan_kill_spares_a_stranger_with_the_reused_number)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (pid namespace, ns_last_pid)");
	char *argv[] = { "unshare", "-p", "-f", "--mount-proc",
			 (char *)top("build/fixtures/pg_reuse"), NULL };
	char *env[] = { "NOLEAK_ORPHANS=kill", NULL };
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	if (strstr(r.out, "reused=no"))
		cr_skip_test("the pid namespace would not hand out the number");
	cr_expect(strstr(r.out, "stranger=alive\n"),
		  "the stranger that got the group's number was killed:\n%s", r.out);
}
