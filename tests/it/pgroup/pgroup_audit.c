/* Audit mode changes no group: the daemon's children stay in its group,
 * and the log says what enforce would have done.  Orphans are logged. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"
#include "../../lib/pgroup_procs.h"

#define TIMEOUT 20.0

static struct run_result r;
static char log_path[PATH_MAX], log_env[PATH_MAX + 16];

static void init(void)
{
	snprintf(log_path, sizeof log_path, "%s/events.log", tmpdir());
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log_path);
}

TestSuite(pgroup_audit, .init = init, .fini = pg_cleanup, .timeout = 30);

/* The child makes a child (pg_whoami -f), where enforce would move it:
 * it logs would_regroup then, naming itself. */
static void daemon_runs_whoami(const char *via)
{
	char *argv[] = { (char *)top("build/fixtures/pg_spawn"), "-d", (char *)via,
			 (char *)top("build/fixtures/pg_whoami"), "-f", NULL };
	char *env[] = { "NOLEAK_MODE=audit", log_env, NULL };
	unlink(log_path);
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	long parent = pg_field(r.out, "parent", "pgid");
	cr_assert_gt(parent, 0, "%s", r.out);
	cr_expect_eq(pg_field(r.out, "child", "pgid"), parent,
		     "audit moved the %s child to another group:\n%s", via, r.out);
	/* The marker still goes with the child, in the environment it exec'd
	 * with: it is how its spawner finds the descendants it leaves behind.
	 * The program does not see it (pgroup_env.c). */
	char want[32];
	snprintf(want, sizeof want, "%ld:%ld:", pg_field(r.out, "parent", "pid"),
		 parent);
	cr_expect(!strncmp(pg_word(r.out, "child", "marker"), want, strlen(want)),
		  "%s", r.out);
	cr_expect_str_eq(pg_word(r.out, "child", "from"), "-", "%s", r.out);
	const char *log = slurp(log_path);
	cr_expect_eq(count_lines_with(log, "\"action\":\"would_regroup\""), 1,
		     "%s", log);
	cr_expect(strstr(log, "\"event\":\"pgroup\""), "%s", log);
	cr_expect(strstr(log, "\"target\":\"/") && strstr(log, "/pg_whoami\""),
		  "no target in:\n%s", log);
	char child_is[32];
	snprintf(child_is, sizeof child_is, "\"child\":%ld,",
		 pg_field(r.out, "child", "pid"));
	cr_expect(strstr(log, child_is), "want %s in:\n%s", child_is, log);
	/* A leaf, which enforce would not move either, logs nothing. */
	argv[4] = NULL;
	unlink(log_path);
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	log = slurp(log_path);
	cr_expect_eq(count_lines_with(log ? log : "", "\"action\":\"would_regroup\""),
		     0, "%s", log ? log : "");
}

Test(pgroup_audit, fork_child_stays_and_would_regroup_is_logged)
{
	daemon_runs_whoami("fork");
}

Test(pgroup_audit, spawned_child_stays_and_would_regroup_is_logged)
{
	daemon_runs_whoami("spawn");
}

/* pg_orphans: the child leaves a stubborn and a plain sleep in what
 * enforce would have made its group (and a detached one). */
Test(pgroup_audit, orphans_are_logged_and_left_alone)
{
	char *argv[] = { (char *)top("build/fixtures/pg_orphans"),
			 (char *)pg_mark("audit"), NULL };
	char *env[] = { "NOLEAK_MODE=audit", log_env, NULL };
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "late detached=alive stubborn=alive plain=alive\n"),
		  "audit killed something:\n%s", r.out);
	const char *log = slurp(log_path);
	cr_expect_eq(count_lines_with(log, "\"event\":\"orphans\""), 2,
		     "want the stubborn and the plain sleep logged as orphans:\n%s",
		     log);
	char want[64];
	snprintf(want, sizeof want, "\"orphan\":%ld,",
		 pg_field(r.out, "detached", "plain"));
	cr_expect_eq(count_lines_with(log, want), 1, "want %s in:\n%s", want, log);
	/* Each names the reaped child (it named the spawner's group). */
	snprintf(want, sizeof want, "\"child\":%ld,\"orphan\":",
		 pg_field(r.out, "child", "pid"));
	cr_expect_eq(count_lines_with(log, want), 2, "want %s in:\n%s", want, log);
}
