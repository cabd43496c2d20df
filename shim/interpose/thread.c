/* The other ways to a second thread or a child: pthread_create(), _Fork()
 * and clone().  Each looks up every real symbol first (once per process),
 * so that no thread can hold the loader lock while a child that must not
 * call dlsym is made (base/real.h).
 *
 * Nothing else changes: a child of _Fork() or clone() is still one the shim
 * did not see forking, treated like a vfork child; one that shares this
 * memory (CLONE_VM) never writes the parent's fd table.  As before every
 * child, the move to a group of its own this program owes is made first
 * (core/pgroup.h), and no socket is fresh any more (core/socktimeout.h). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <unistd.h>

#include "init.h"
#include "log/output.h"
#include "base/real.h"
#include "core/fdtable.h"
#include "core/pgroup.h"
#include "core/socktimeout.h"

NL_REAL_DECL(pthread_create);
NL_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			     void *(*start)(void *), void *arg)
{
	nl_enter();
	nl_real_resolve_all();
	nl_fd_threads_started();   /* forks count from now on (fdtable.h) */
	__typeof__(&pthread_create) real = NL_REAL(pthread_create);
	return real ? real(thread, attr, start, arg) : ENOSYS;
}

NL_REAL_DECL(_Fork);
NL_EXPORT pid_t _Fork(void)
{
	nl_enter();
	nl_pgroup_before_child();
	nl_real_resolve_all();
	__typeof__(&_Fork) real = NL_REAL(_Fork);
	nl_exec_attempts_forget();
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	nl_sock_sharing();
	pid_t pid = real();
	if (pid > 0)
		nl_sock_sharing();
	return pid;
}

/* clone(fn, stack, flags, arg, [parent_tid, tls, child_tid]): the last
 * three are read by glibc only when flags ask for them, so passing them on
 * always is harmless.  The child runs fn and exits: it never returns
 * through this function. */
NL_REAL_DECL(clone);
NL_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	pid_t *ptid = va_arg(ap, pid_t *);
	void *tls = va_arg(ap, void *);
	pid_t *ctid = va_arg(ap, pid_t *);
	va_end(ap);
	nl_enter();
	if (!(flags & CLONE_THREAD))
		nl_pgroup_before_child();   /* a process, not a thread */
	nl_real_resolve_all();
	nl_exec_attempts_forget();
	if ((flags & (CLONE_VM | CLONE_FILES)) == (CLONE_VM | CLONE_FILES))
		nl_fd_threads_started();   /* shares memory and fds: a thread */
	if (flags & CLONE_VM) {
		nl_fd_before_shared_child((flags & CLONE_VFORK) != 0);
		nl_out_stderr_child(0, 0);
	}
	__typeof__(&clone) real = NL_REAL(clone);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	nl_sock_sharing();
	int r = real(fn, stack, flags, arg, ptid, tls, ctid);
	if (r > 0)
		nl_sock_sharing();
	return r;
}
