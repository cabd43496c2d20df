/* Interposers of the calls that install seccomp filters: prctl
 * (PR_SET_SECCOMP) and syscall (SYS_seccomp, SYS_prctl; libc has no
 * seccomp() of its own, and libseccomp makes the system call through
 * syscall()).  The filter is noted before the real call and kept only if
 * it took (core/sandbox.h): from then on the shim makes no system call of
 * its own around the program's reads and waits. */
#include <errno.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"
#include "base/real.h"
#include "common/sys.h"
#include "core/sandbox.h"

/* Before a filter takes: every real symbol looked up now (the first call
 * of an interposer would otherwise ask the loader, whose calls the filter
 * may refuse), and the filter noted. */
static void before_install(void)
{
	nl_real_resolve_all();
	nl_sandbox_installing();
}

/* prctl is variadic: every option takes at most four more arguments, read
 * as unsigned long, as glibc and musl read them. */
NL_REAL_DECL(prctl);
NL_EXPORT int prctl(int option, ...)
{
	nl_enter();
	va_list ap;
	va_start(ap, option);
	unsigned long a2 = va_arg(ap, unsigned long);
	unsigned long a3 = va_arg(ap, unsigned long);
	unsigned long a4 = va_arg(ap, unsigned long);
	unsigned long a5 = va_arg(ap, unsigned long);
	va_end(ap);
	int installs = nl_sandbox_installs(SYS_prctl, option);
	if (installs)
		before_install();
	int r = NL_CALL_REAL(prctl, (option, a2, a3, a4, a5),
			     (SYS_prctl, option, a2, a3, a4, a5));
	if (installs)
		nl_sandbox_installed(r == 0);
	return r;
}

/* syscall(): the system call itself, as libc's does it (the result, or -1
 * with errno), rather than through libc's: the shim's own calls of
 * syscall() bind to this export too, also where libc's may not be looked
 * up (a child the shim did not see forking, a signal handler), and
 * nl_sys6 never calls back here (common/sys.h).  Six arguments are read,
 * as libc reads them, whatever the call takes. */
NL_EXPORT long syscall(long nr, ...)
{
	nl_enter();
	va_list ap;
	va_start(ap, nr);
	long a1 = va_arg(ap, long), a2 = va_arg(ap, long);
	long a3 = va_arg(ap, long), a4 = va_arg(ap, long);
	long a5 = va_arg(ap, long), a6 = va_arg(ap, long);
	va_end(ap);
	int installs = nl_sandbox_installs(nr, a1);
	if (installs)
		before_install();
	long r = nl_sys6(nr, a1, a2, a3, a4, a5, a6);
	/* seccomp(): 0, or a listener's fd (SECCOMP_FILTER_FLAG_NEW_LISTENER);
	 * a thread id when TSYNC failed, which installed nothing (noted all
	 * the same: a wider net). */
	if (installs)
		nl_sandbox_installed(r >= 0);
	if ((unsigned long)r > -4096UL) {
		errno = (int)-r;
		return -1;
	}
	return r;
}
