/* Seccomp filters: see sandbox.h. */
#include "core/sandbox.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "common/forkdata.h"
#include "common/sys.h"
#include "log/output.h"

atomic_int nl_sandbox NL_FORK_DATA;

int nl_sandbox_check(void)
{
	/* 0: no filter; 1 (strict mode) and 2 (filter mode): one; an error
	 * is a filter's answer (every kernel the shim runs on has seccomp). */
	long r = nl_sys6(SYS_prctl, PR_GET_SECCOMP, 0, 0, 0, 0, 0);
	if (r != 0)
		nl_out_stderr_filtered();
	atomic_fetch_or(&nl_sandbox, r == 0 ? NL_SB_NONE : NL_SB_FILTER);
	return atomic_load(&nl_sandbox) == NL_SB_NONE;
}

void nl_sandbox_installing(void)
{
	nl_out_stderr_filtered();
	atomic_fetch_add(&nl_sandbox, NL_SB_INSTALLING);
}

void nl_sandbox_installed(int ok)
{
	if (ok)
		atomic_fetch_or(&nl_sandbox, NL_SB_FILTER);
	atomic_fetch_sub(&nl_sandbox, NL_SB_INSTALLING);
}

int nl_sandbox_refused(long r)
{
	if (r != -ENOSYS && r != -EPERM)
		return 0;
	nl_out_stderr_filtered();
	if (!(atomic_load_explicit(&nl_sandbox, memory_order_relaxed) &
	      NL_SB_FILTER))
		atomic_fetch_or(&nl_sandbox, NL_SB_FILTER);
	return 1;
}

int nl_sandbox_installs(long nr, long a1)
{
	if (nr == SYS_prctl)
		return a1 == PR_SET_SECCOMP;
#ifdef SYS_seccomp
	/* SECCOMP_GET_ACTION_AVAIL and SECCOMP_GET_NOTIF_SIZES only ask. */
	if (nr == SYS_seccomp)
		return a1 == SECCOMP_SET_MODE_STRICT ||
		       a1 == SECCOMP_SET_MODE_FILTER;
#endif
	return 0;
}
