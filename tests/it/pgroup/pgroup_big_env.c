/* The exec that adds the group marker copies the environment off the
 * stack: 20,000 variables reach a regrouped child started by fork + execve
 * from a thread with a 64 KiB stack (the copy alone is 160 KB; on the
 * stack it overran the thread's and the child died of SIGSEGV), the same
 * as without the shim. */
#include <criterion/criterion.h>

#include <string.h>

#include "../../lib/run.h"

static struct run_result r;

Test(pgroup_big_env, twenty_thousand_variables_from_a_small_stack,
     .timeout = 60)
{
	char *argv[] = { (char *)top("build/fixtures/pg_bigenv"), "20000", NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, 30.0, NULL), 0);
	cr_assert_str_eq(r.out, "ok\nchild=exit:0\n", "without the shim: %s%s",
			 r.out, r.err);
	char *env[] = { "NOLEAK_MODE=enforce", NULL };
	cr_assert_eq(run(&r, argv, env, 1, 30.0, NULL), 0);
	cr_expect_str_eq(r.out, "ok\nchild=exit:0\n", "%s%s", r.out, r.err);
}
