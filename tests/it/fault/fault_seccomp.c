/* close_range denied (a seccomp sandbox that answers ENOSYS, as an old
 * kernel would): the exec sweep falls back to marking fds one by one, so
 * junk fds are still kept from the new program and the fds the program
 * passes still reach it, after fork, vfork and posix_spawn.  The fallback
 * lists fds through /proc, or without /proc probes the numbers below the
 * fd limit: both are covered.
 *
 * flt_sweep installs the filter itself (PR_SET_NO_NEW_PRIVS, then
 * PR_SET_SECCOMP) and checks that close_range really fails before going
 * on; the filter is inherited by the programs it starts, shim included. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../../lib/ns.h"
#include "../../lib/run.h"
#include "../../lib/sweep_util.h"

#define TIMEOUT 30.0

TestSuite(fault_seccomp, .timeout = 90);

static struct run_result r;



/* flt_sweep seccomp run; when `prelude` says how (NS_PROC_TMPFS), in a
 * namespace where /proc was hidden first ("" keeps it). */
static void run_sweep(const char *prelude, int shim)
{
	char cmd[PATH_MAX * 3];
	snprintf(cmd, sizeof cmd, "exec env %s%s %s seccomp run",
		 shim ? "LD_PRELOAD=" : "", shim ? shim_path() : "",
		 top("build/fixtures/flt_sweep"));
	if (prelude[0])
		ns_run_without_proc(&r, prelude, cmd, TIMEOUT);
	else
		cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert(!r.timed_out, "hung: %s", cmd);
	cr_assert_eq(exit_code(&r), 0, "status %d: %s%s", r.status, r.out, r.err);
	cr_assert(strstr(r.out, "close_range=ENOSYS\n"),
		  "the filter did not take: %s", r.out);
}

static void expect_swept(const char *prelude)
{
	static const char *const vias[] = { "fork", "vfork", "spawn" };
	char want[64], got[256];

	/* Without the shim the junk reaches the children. */
	run_sweep(prelude, 0);
	sweep_expected_fds(r.out, want, sizeof want);
	cr_assert(sweep_child_fds(r.out, "fork", got, sizeof got), "%s", r.out);
	cr_assert_str_neq(got, want, "the junk fds are not inheritable: %s", r.out);

	run_sweep(prelude, 1);
	sweep_expected_fds(r.out, want, sizeof want);
	for (size_t i = 0; i < sizeof vias / sizeof *vias; i++) {
		cr_assert(sweep_child_fds(r.out, vias[i], got, sizeof got),
			  "no child line for %s: %s%s", vias[i], r.out, r.err);
		cr_expect_str_eq(got, want, "%s: the child got %s, not %s",
				 vias[i], got, want);
	}
	cr_expect_eq(r.err[0], 0, "stderr: %s", r.err);
}

Test(fault_seccomp, junk_fds_swept_when_close_range_is_denied)
{
	expect_swept("");
}

Test(fault_seccomp, junk_fds_swept_without_close_range_nor_proc)
{
	expect_swept(NS_PROC_TMPFS);
}

/* log=stderr on a socket, in a program whose seccomp filter kills on
 * sendmsg(): the shim sent its line with sendmsg() (MSG_DONTWAIT), and the
 * program died of SIGSYS.  A filter known, the line is written as to any
 * fd.  As without the shim, in enforce and audit. */
Test(fault_seccomp, a_stderr_line_makes_no_call_a_known_filter_may_deny)
{
	static struct run_result plain, r;
	char *argv[] = { (char *)top("build/fixtures/flt_seccomp_stderr"), NULL };
	cr_assert_eq(run(&plain, argv, NULL, 0, 30.0, NULL), 0);
	cr_assert_str_eq(plain.out, "child: exit 0 own=yes\n", "%s", plain.err);
	static const char *const modes[] = { "NOLEAK_MODE=enforce", "NOLEAK_MODE=audit" };
	for (size_t m = 0; m < 2; m++) {
		char *env[] = { (char *)modes[m], "NOLEAK_LOG=stderr", NULL };
		cr_assert_eq(run(&r, argv, env, 1, 30.0, NULL), 0);
		cr_expect_str_eq(r.out, plain.out, "%s: %s", modes[m], r.err);
	}
}
