/* core/sandbox.c: when the shim may probe around a read.  One row per
 * sequence of what happens to the process, from an unchecked start: the
 * check (PR_GET_SECCOMP, really made: the unit tests run under no filter),
 * installs that take or fail, probes a filter refused. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "core/sandbox.h"

enum step { CHECK, BEGIN, TOOK, FAILED, REFUSED_ENOSYS, REFUSED_EPERM,
	    PROBE_EAGAIN, END };

static const struct row {
	const char *name;
	enum step steps[6];
	int allowed;     /* nl_probes_allowed() after the steps */
} rows[] = {
	{ "no filter", { CHECK, END }, 1 },
	{ "an install under way", { CHECK, BEGIN, END }, 0 },
	{ "an install that took", { CHECK, BEGIN, TOOK, END }, 0 },
	{ "an install that failed", { CHECK, BEGIN, FAILED, END }, 1 },
	{ "one failed, one under way", { CHECK, BEGIN, BEGIN, FAILED, END }, 0 },
	{ "installed before the check", { BEGIN, TOOK, CHECK, END }, 0 },
	{ "a probe refused with ENOSYS", { CHECK, REFUSED_ENOSYS, END }, 0 },
	{ "a probe refused with EPERM", { CHECK, REFUSED_EPERM, END }, 0 },
	{ "a probe that would block", { CHECK, PROBE_EAGAIN, END }, 1 },
};

Test(sandbox, probes_allowed, .timeout = 10)
{
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		atomic_store(&nl_sandbox, 0);
		for (const enum step *s = rows[i].steps; *s != END; s++) {
			switch (*s) {
			case CHECK: nl_probes_allowed(); break;
			case BEGIN: nl_sandbox_installing(); break;
			case TOOK: nl_sandbox_installed(1); break;
			case FAILED: nl_sandbox_installed(0); break;
			case REFUSED_ENOSYS:
				cr_expect(nl_sandbox_refused(-ENOSYS)); break;
			case REFUSED_EPERM:
				cr_expect(nl_sandbox_refused(-EPERM)); break;
			case PROBE_EAGAIN:
				cr_expect(!nl_sandbox_refused(-EAGAIN)); break;
			case END: break;
			}
		}
		cr_expect_eq(nl_probes_allowed(), rows[i].allowed, "%s",
			     rows[i].name);
		cr_expect_eq(nl_sandbox_known(), !rows[i].allowed, "%s",
			     rows[i].name);
	}
	atomic_store(&nl_sandbox, 0);
}

Test(sandbox, which_calls_install, .timeout = 10)
{
	cr_expect(nl_sandbox_installs(SYS_prctl, PR_SET_SECCOMP));
	cr_expect(!nl_sandbox_installs(SYS_prctl, PR_GET_SECCOMP));
	cr_expect(!nl_sandbox_installs(SYS_prctl, PR_SET_NO_NEW_PRIVS));
	cr_expect(nl_sandbox_installs(SYS_seccomp, SECCOMP_SET_MODE_FILTER));
	cr_expect(nl_sandbox_installs(SYS_seccomp, SECCOMP_SET_MODE_STRICT));
	cr_expect(!nl_sandbox_installs(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL));
	cr_expect(!nl_sandbox_installs(SYS_getpid, PR_SET_SECCOMP));
}
