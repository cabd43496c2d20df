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
#include <sys/stat.h>

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

/* Nor do the children such a child forks: the fork is the shim's, but
 * the parent could look nothing up before it, and the grandchild's loader
 * lock is the one the busy thread may have held at the raw clone (the
 * first grandchild to look one up hung before the fix). */
Test(foundation_raw_children, fork_in_a_raw_clone_child)
{
	rounds("grandchild", "200");
}

/* --- the raw calls such a child falls back on, as glibc's --- */

/* found_rawcalls makes one raw-clone child per case before anything was
 * looked up; the child makes the call through the shim's fallback (the
 * raw system call), which must answer as glibc: the same result, errno
 * and output, under enforce and audit. */
static const char *const raw_call_rows[] = {
	"setsid",                  /* the real symbol missing: ENOSYS before */
	"tcsetpgrp_enotty",        /* -1 and errno, not the kernel's -ENOTTY */
	"execvp_script",
	"execvp_script_many_args", /* over 62 arguments: ENOEXEC before */
	"execvp_slash_script_many_args",
	"execvp_long_path_entry",  /* an entry over 1,022 bytes: ENAMETOOLONG */
	"execvp_long_path_entry_last",
	"execvp_path_entry_over_path_max",
	"fexecve",
	"fexecve_negative_fd",     /* glibc's EINVAL checks: EBADF before */
	"fexecve_null_envp",       /* the program ran before */
	"fexecve_null_argv",
};

static void raw_call(const char *dir, const char *row, const char *mode,
		     char *out, size_t cap)
{
	static struct run_result rr;
	char side[700], cmd[2000], mode_env[32];
	snprintf(side, sizeof side, "%s/%s-%s", dir, row, mode ? mode : "plain");
	mkdir(side, 0700);
	snprintf(cmd, sizeof cmd, "cd '%s' && exec '%s' %s", side,
		 top("build/fixtures/found_rawcalls"), row);
	snprintf(mode_env, sizeof mode_env, "NOLEAK_MODE=%s", mode ? mode : "");
	char *env[] = { mode_env, NULL };
	cr_assert_eq(run_sh(&rr, cmd, env, mode != NULL, 20.0), 0);
	cr_assert(!rr.timed_out, "%s %s: hung", row, mode);
	cr_assert_eq(exit_code(&rr), 0, "%s %s: status %d: %s", row, mode,
		     rr.status, rr.err);
	snprintf(out, cap, "%s", rr.out);
}

static void raw_calls_as_glibc(const char *mode)
{
	static char plain[65536], shim[65536];
	const char *dir = tmpdir();
	for (size_t i = 0; i < sizeof raw_call_rows / sizeof *raw_call_rows; i++) {
		const char *row = raw_call_rows[i];
		raw_call(dir, row, NULL, plain, sizeof plain);
		raw_call(dir, row, mode, shim, sizeof shim);
		cr_expect_str_eq(shim, plain, "%s under %s:\n%s--- glibc:\n%s",
				 row, mode, shim, plain);
	}
}

Test(foundation_raw_children, raw_calls_enforce_as_glibc)
{
	raw_calls_as_glibc("enforce");
}

Test(foundation_raw_children, raw_calls_audit_as_glibc)
{
	raw_calls_as_glibc("audit");
}

/* A child that shares this process's memory, made behind the shim's back,
 * walks PATH in the shim's own execvp (no real one to call there), also
 * into a script run under /bin/sh: its working memory is the thread's
 * exec scratch, which its parent takes back.  A mapping per successful
 * exec stayed in the parent before (4 KiB each: 2000 KiB for 500). */
static void no_growth(const char *mode)
{
	char *argv[] = { (char *)top("build/fixtures/found_rawleak"), "500", NULL };
	char *env[] = { (char *)mode, NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, 60.0, NULL), 0);
	int n, failed;
	long grew;
	cr_assert_eq(sscanf(r.out, "spawns=%d failed=%d grew=%ld", &n, &failed,
			    &grew), 3, "without the shim: %s%s", r.out, r.err);
	cr_assert_eq(failed, 0, "without the shim: %s", r.out);
	cr_assert_eq(run(&r, argv, env, 1, 60.0, NULL), 0);
	cr_assert_eq(sscanf(r.out, "spawns=%d failed=%d grew=%ld", &n, &failed,
			    &grew), 3, "%s: %s%s", mode, r.out, r.err);
	cr_expect_eq(failed, 0, "%s: %s", mode, r.out);
	cr_expect_leq(grew, 64, "%s: the process grew by %ld kB", mode, grew);
}

Test(foundation_raw_children, raw_vm_children_leave_no_memory_behind)
{
	no_growth("NOLEAK_MODE=enforce");
	no_growth("NOLEAK_MODE=audit");
}
