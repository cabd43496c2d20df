/* Which kills reach a regrouped child's tree.  kill(0, SIGTERM) and
 * killpg(own group) in a daemon (`trap 'kill 0' EXIT`) must still reach
 * children the shim moved to groups of their own, as they did without the
 * shim; a user signal sent to the child is the child's business only. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <unistd.h>

#include "../../lib/run.h"
#include "../../lib/pgroup_procs.h"

#define TIMEOUT 15.0

static struct run_result r;

static void init(void)
{
	cr_assert_eq(access(top("build/fixtures/pg_tree"), X_OK), 0,
		     "build/fixtures/pg_tree missing");
}

TestSuite(pgroup_kill_rules, .init = init, .fini = pg_cleanup, .timeout = 30);

static void tree(const char *via, const char *how, const char *mark, int shim)
{
	char *argv[] = { (char *)top("build/fixtures/pg_tree"), (char *)via,
			 (char *)how, (char *)mark, "2", NULL };
	cr_assert_eq(run(&r, argv, NULL, shim, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "pg_tree %s %s timed out:\n%s%s", via, how, r.out,
		  r.err);
	cr_assert_eq(exit_code(&r), 0, "pg_tree %s %s (shim=%d) exit %d:\n%s%s",
		     via, how, shim, exit_code(&r), r.out, r.err);
	cr_assert_eq(pg_field(r.out, "tree", "tree"), 2, "%s", r.out);
}

static void kill_zero_reaches_the_tree(const char *via, const char *how)
{
	/* What the program relies on: without the shim the tree shares the
	 * daemon's group, so kill(0) ends it. */
	const char *plain = pg_mark(via);
	tree(via, how, plain, 0);
	cr_assert_eq(pg_wait_unmarked(plain, PG_DIES_WITHIN), 0,
		     "without the shim %s should end the tree (%s)", how, via);

	const char *mark = pg_mark(via);
	tree(via, how, mark, 1);
	cr_expect_eq(pg_field(r.out, "kill0", "kill0"), 0, "%s", r.out);
	cr_expect_eq(pg_field(r.out, "status", "status"), 15, "%s", r.out);
	cr_expect_eq(pg_wait_unmarked(mark, PG_DIES_WITHIN), 0,
		     "under the shim %s missed the regrouped tree (%s)", how,
		     via);
}

Test(pgroup_kill_rules, kill_zero_reaches_a_forked_child_tree)
{
	kill_zero_reaches_the_tree("fork", "group0");
}

Test(pgroup_kill_rules, kill_zero_reaches_a_spawned_child_tree)
{
	kill_zero_reaches_the_tree("spawn", "group0");
}

Test(pgroup_kill_rules, kill_zero_reaches_a_system_child_tree)
{
	kill_zero_reaches_the_tree("system", "group0");
}

Test(pgroup_kill_rules, kill_zero_reaches_a_popen_child_tree)
{
	kill_zero_reaches_the_tree("popen", "group0");
}

Test(pgroup_kill_rules, killpg_of_its_own_group_reaches_a_child_tree)
{
	kill_zero_reaches_the_tree("fork", "killpg");
}

/* SIGUSR1 kills sh, but it is never escalated: the sleeps stay. */
Test(pgroup_kill_rules, user_signals_are_not_escalated)
{
	const char *mark = pg_mark("usr1");
	tree("fork", "usr1", mark, 1);
	cr_expect_eq(pg_field(r.out, "status", "status"), 10,
		     "sh should die of SIGUSR1:\n%s", r.out);
	usleep(300 * 1000);
	cr_expect_eq(pg_count_marked(mark), 2,
		     "SIGUSR1 to the child reached its whole group");
}
