/* The shim at every level: the daemon, the shell it runs, and the shells
 * and sleeps below, all preloaded.  Only the daemon regroups; everything
 * below stays in the child's group, so killing the child still leaves
 * nothing. */
#include <criterion/criterion.h>

#include <unistd.h>

#include "../../lib/run.h"
#include "../../lib/pgroup_procs.h"

#define TREE "sh -c 'sleep 60 & sleep 60' & sleep 60"

TestSuite(pgroup_nested, .fini = pg_cleanup, .timeout = 30);

static struct run_result r;

static void kill_nested_tree(const char *mark, int shim)
{
	char *argv[] = { (char *)top("build/fixtures/pg_tree"), "fork", "child",
			 (char *)mark, "3", TREE, NULL };
	cr_assert_eq(run(&r, argv, NULL, shim, 15.0, NULL), 0);
	cr_assert(!r.timed_out, "%s%s", r.out, r.err);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	cr_assert_eq(pg_field(r.out, "tree", "tree"), 3, "%s", r.out);
	cr_assert_eq(pg_field(r.out, "tree", "preloaded"), shim ? 3 : 0, "%s", r.out);
	cr_assert_eq(pg_field(r.out, "status", "status"), 15, "%s", r.out);
}

Test(pgroup_nested, killing_the_child_leaves_nothing)
{
	const char *plain = pg_mark("nested");
	kill_nested_tree(plain, 0);
	usleep(500 * 1000);
	/* The three sleeps and the inner shell. */
	cr_assert_eq(pg_count_marked(plain), 4,
		     "without the shim the tree should outlive the shell");
	pg_kill_marked(plain);

	const char *mark = pg_mark("nested");
	kill_nested_tree(mark, 1);
	cr_expect_eq(pg_wait_unmarked(mark, PG_DIES_WITHIN), 0,
		     "part of the nested tree is alive 1 s after the kill");
}
