/* Children the shim did not see forking never need the dynamic loader.
 *
 * A child made by _Fork(), clone() or syscall(SYS_clone) while another
 * thread held the loader lock would wait for it forever in dlsym.  In
 * found_rawfork a thread dlopens and dlsyms in a loop while the main thread
 * makes children that open, dup2, dup3, fcntl and close an fd and execve
 * /bin/true (or _exit when that fails); before the fix the first child
 * already hung. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>

#include "../../lib/run.h"

static struct run_result r;

static void rounds(const char *mode, const char *n)
{
	char *argv[] = { (char *)top("build/fixtures/found_rawfork"),
			 (char *)mode, (char *)n, NULL };
	cr_assert_eq(run(&r, argv, NULL, 1, 280.0, NULL), 0);
	cr_assert(!r.timed_out, "%s: timed out after %s", mode, r.out);
	cr_assert_eq(exit_code(&r), 0, "%s: status %d: %s", mode, r.status,
		     r.err);
	int made, hung, failed;
	cr_assert_eq(sscanf(r.out, "rounds=%d hung=%d failed=%d", &made, &hung,
			    &failed), 3, "%s", r.out);
	cr_expect_eq(hung, 0, "%s: child %d of %s hung", mode, made, n);
	cr_expect_eq(failed, 0, "%s: %d children failed", mode, failed);
	cr_expect_eq(made, atoi(n), "%s", r.out);
}

TestSuite(foundation_raw_children, .timeout = 300);

Test(foundation_raw_children, fork_without_atfork_handlers)
{
	rounds("_Fork", "1000");
}

Test(foundation_raw_children, clone_on_its_own_stack)
{
	rounds("clone", "200");
}

/* No interposed call says a thread or a child exists: the child falls back
 * to raw system calls rather than look anything up. */
Test(foundation_raw_children, raw_clone_with_threads_the_shim_never_saw)
{
	rounds("syscall", "200");
}
