/* A child sharing its parent's memory (posix_spawn's, vfork's) plans its
 * exec from the shim's record, which the parent's other threads go on
 * changing.  A deliberate fd another thread closes, or closes and reuses,
 * after the child was made must still reach the child, which holds its own
 * copy; an fd the child holds close-on-exec must not, whatever the thread
 * puts on its number meanwhile: the same fds with the shim as without
 * (tests/fixtures/fd/fdh_plan_race.c holds the child in place while the
 * thread moves). */
#include <criterion/criterion.h>

#include <linux/close_range.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../lib/run.h"

static void init(void)
{
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
}

TestSuite(fd_plan_race, .init = init, .timeout = 120);

/* The checker's line, run in a directory of its own. */
static void child_fds(const char *how, const char *what, const char *mode,
		      char *out, size_t cap)
{
	static struct run_result r;
	char dir[600], cmd[1600], mode_env[32];
	snprintf(dir, sizeof dir, "%s/%s_%s_%s", tmpdir(), how, what,
		 mode ? mode : "plain");
	mkdir(dir, 0700);
	snprintf(cmd, sizeof cmd, "cd '%s' && exec '%s' %s %s '%s'", dir,
		 top("build/fixtures/fdh_plan_race"), how, what,
		 top("build/fixtures/found_fdlist"));
	snprintf(mode_env, sizeof mode_env, "NOLEAK_MODE=%s", mode ? mode : "");
	char *env[] = { mode_env, NULL };
	cr_assert_eq(run_sh(&r, cmd, env, mode != NULL, 30.0), 0);
	cr_assert(!r.timed_out, "%s %s (%s): hung", how, what, mode);
	cr_assert_eq(exit_code(&r), 0, "%s %s (%s): status %d\n%s", how, what,
		     mode, r.status, r.err);
	size_t n = strlen(r.out) < cap ? strlen(r.out) : cap - 1;
	memcpy(out, r.out, n);
	out[n] = 0;
}

/* Without the shim the child has fd 5 (and the spawn's FIFOs). */
static const struct {
	const char *how, *what, *plain;
} rows[] = {
	{ "spawn", "close", "inherited: 5 20 21\n" },
	{ "spawn", "reuse", "inherited: 5 20 21\n" },
	{ "vfork", "close", "inherited: 5\n" },
	{ "vfork", "reuse", "inherited: 5\n" },
	/* fd 5 an eventfd made with EFD_CLOEXEC, named --status-fd 5; the
	 * thread puts on 5 an eventfd made without close-on-exec (the
	 * child's copy was taken for it, one inode, and passed), or dup2s
	 * one there. */
	{ "spawn", "efd_plain", "inherited: 20 21\n" },
	{ "spawn", "efd_dup2", "inherited: 20 21\n" },
	{ "vfork", "efd_plain", "inherited:\n" },
	{ "vfork", "efd_dup2", "inherited:\n" },
};

Test(fd_plan_race, a_deliberate_fd_closed_meanwhile_still_crosses)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char plain[512], out[512];
		child_fds(rows[i].how, rows[i].what, NULL, plain, sizeof plain);
		cr_assert_str_eq(plain, rows[i].plain, "%s %s: the fixture",
				 rows[i].how, rows[i].what);
		for (int m = 0; m < 2; m++) {
			const char *mode = m ? "audit" : "enforce";
			child_fds(rows[i].how, rows[i].what, mode, out,
				  sizeof out);
			cr_expect_str_eq(out, plain, "%s %s, %s: %s; without the "
					 "shim: %s", rows[i].how, rows[i].what,
					 mode, out, plain);
		}
	}
}
