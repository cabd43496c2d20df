/* Reads in a process under a seccomp filter return what they return
 * without the shim.  The read watchdog (audit's default, or read_warn in
 * enforce) probes around a read with calls of its own (getsockopt,
 * preadv2, recv MSG_DONTWAIT, fcntl, poll); a filter that allows the
 * program read() and little else killed the process for them (SIGSYS) or
 * made the read fail with the filter's errno.  Now a filter the program
 * installs (prctl, syscall(SYS_seccomp)) or inherits across exec sends
 * reads straight to the real call (core/sandbox.h).
 *
 * One row per way and action of tests/fixtures/reads/rd_seccomp.c, run
 * without the shim, in enforce with read_warn, and in audit: the output
 * (each read's result, errno and bytes; how the child ended) must match. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "../../lib/run.h"

TestSuite(rd_seccomp, .timeout = 60);

static const char *const modes[][2] = {
	{ "NOLEAK_MODE=enforce", "NOLEAK_READ_WARN=5" },
	{ "NOLEAK_MODE=audit", "NOLEAK_READ_WARN=" },
};

static void check(const char *how, const char *action)
{
	static struct run_result r;
	static char want[sizeof r.out], log[4096];
	char *argv[] = { (char *)top("build/fixtures/rd_seccomp"), (char *)how,
			 (char *)action, NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, 20.0, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "child exit 0\n") &&
		  strstr(r.out, "pipe 5 errno 0 'pipe!'\n"),
		  "without the shim: %s%s", r.out, r.err);
	snprintf(want, sizeof want, "%s", r.out);
	snprintf(log, sizeof log, "NOLEAK_LOG=%s/log", tmpdir());
	for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
		char *env[] = { (char *)modes[m][0], (char *)modes[m][1], log,
				"NOLEAK_CONFIG=/nonexistent/noleak.conf", NULL };
		cr_assert_eq(run(&r, argv, env, 1, 20.0, NULL), 0);
		cr_expect_eq(exit_code(&r), 0, "%s: %s%s", modes[m][0], r.out,
			     r.err);
		cr_expect_str_eq(r.out, want, "%s %s, %s %s: got\n%swant\n%s",
				 how, action, modes[m][0], modes[m][1], r.out,
				 want);
	}
}

#define ROW(name, how, action) \
	Test(rd_seccomp, name) { check(how, action); }

/* OpenSSH's preauth child: prctl, refused calls kill. */
ROW(prctl_killing_filter, "prctl", "kill")
/* libseccomp's and systemd's kind: refused calls fail with ENOSYS. */
ROW(prctl_errno_filter, "prctl", "errno")
/* The same in a process that made no child nor thread before. */
ROW(own_killing_filter, "self", "kill")
ROW(own_errno_filter, "self", "errno")
/* seccomp(2) through syscall(), as libseccomp installs a filter. */
ROW(seccomp_killing_filter, "seccomp", "kill")
ROW(seccomp_errno_filter, "seccomp", "errno")
/* A filter inherited across exec: the reader never installed it. */
ROW(inherited_killing_filter, "inherit", "kill")
ROW(inherited_errno_filter, "inherit", "errno")
