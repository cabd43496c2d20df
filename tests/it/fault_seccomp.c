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

#include "../lib/ns.h"
#include "../lib/run.h"

#define TIMEOUT 30.0

TestSuite(fault_seccomp, .timeout = 90);

static struct run_result r;

/* "junk=3,4,7,8 pass=20 named=5" -> "0,1,2,5,20", what a child may get. */
static void expected_fds(const char *out, char *want, size_t cap)
{
	int pass = -1, named = -1;
	const char *p = strstr(out, " pass=");
	const char *n = strstr(out, " named=");
	cr_assert(p && n && sscanf(p, " pass=%d", &pass) == 1 &&
		  sscanf(n, " named=%d", &named) == 1, "%s", out);
	cr_assert(named < pass, "%s", out);
	snprintf(want, cap, "0,1,2,%d,%d", named, pass);
}

static const char *child_fds(const char *out, const char *via, char *buf,
			     size_t cap)
{
	char key[32];
	snprintf(key, sizeof key, "via=%s fds=", via);
	const char *s = strstr(out, key);
	if (!s)
		return NULL;
	s += strlen(key);
	snprintf(buf, cap, "%.*s", (int)strcspn(s, "\n"), s);
	return buf;
}

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
	expected_fds(r.out, want, sizeof want);
	cr_assert(child_fds(r.out, "fork", got, sizeof got), "%s", r.out);
	cr_assert_str_neq(got, want, "the junk fds are not inheritable: %s", r.out);

	run_sweep(prelude, 1);
	expected_fds(r.out, want, sizeof want);
	for (size_t i = 0; i < sizeof vias / sizeof *vias; i++) {
		cr_assert(child_fds(r.out, vias[i], got, sizeof got),
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
