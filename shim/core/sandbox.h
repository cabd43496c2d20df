/* Seccomp filters: whether the shim may make system calls of its own.
 *
 * The read watchdog and the wait logging of the poll family make system
 * calls the program never makes (probes: fstat, fcntl, poll, ioctl,
 * getsockopt, preadv2 RWF_NOWAIT, recv MSG_DONTWAIT, /proc for culprits).
 * A process under a seccomp filter may be allowed read() and little else:
 * a killing filter (OpenSSH's preauth child) makes a probe fatal (SIGSYS),
 * an errno filter (libseccomp's, systemd's) makes it fail.  So once a
 * filter is known, or may be in force, reads and waits go straight to the
 * real call: no watchdog, no probe.
 *
 * How a filter becomes known:
 *   - installed by the program through an interposed call (prctl
 *     PR_SET_SECCOMP, syscall(SYS_seccomp) as libseccomp makes it): noted
 *     BEFORE the real call, because with SECCOMP_FILTER_FLAG_TSYNC it
 *     applies to every thread the moment the kernel takes it; an install
 *     in progress counts as a filter, and one that failed is forgotten.  The
 *     interposer looks up every real symbol first (base/real.h): a first
 *     call of an interposer after the install would ask the loader, whose
 *     calls the filter may refuse.  A
 *     filter a thread installs for itself alone ends the probes of the
 *     whole process: the threads and fork children that thread makes later
 *     inherit it, and following each of them is not worth a per-thread
 *     state on the read path.  A vfork child's install is noted in the
 *     memory it shares with its parent, so the parent goes unwatched too:
 *     a wider net, never a narrower one;
 *   - inherited across exec (a container's, a service manager's, a
 *     sandboxing parent's): prctl(PR_GET_SECCOMP) says 2, once, at the
 *     process's first watched read or split wait.  Not at start-up: every
 *     process would pay it, and most never watch a read.  That call is
 *     subject to the filter too: an errno answer counts as a filter; a
 *     killing filter that denies prctl but allows everything the shim's
 *     start-up and the program do up to that read kills the process there
 *     (README: Known limits);
 *   - a probe answered with ENOSYS or EPERM (a filter the shim could not
 *     see, installed with a raw system call after the check): the probe is
 *     dropped for the real call, and no probe follows.
 *
 * State: one word, on a page the loader has written (NL_FORK_DATA): a
 * fork child inherits what its parent knew, as it inherits the filter;
 * a new program starts unknown.  Lock-free; safe in a vfork child, after
 * fork in a threaded process and in a signal handler. */
#ifndef NL_SANDBOX_H
#define NL_SANDBOX_H

#include <stdatomic.h>

#include "base/state.h"

enum {
	NL_SB_NONE = 1,       /* checked: no filter (unless another bit) */
	NL_SB_FILTER = 2,     /* a filter is, or may be, in force */
	NL_SB_INSTALLING = 4, /* added per install in progress */
};
/* 0 until checked or noted. */
extern atomic_int nl_sandbox NL_HIDDEN;

/* Check once (PR_GET_SECCOMP); returns nl_probes_allowed(). */
int nl_sandbox_check(void) NL_HIDDEN;

/* Whether the shim may probe: no filter known or suspected.  One load on
 * every watched read; the check the first time. */
static inline int nl_probes_allowed(void)
{
	int s = atomic_load_explicit(&nl_sandbox, memory_order_acquire);
	if (__builtin_expect(s == NL_SB_NONE, 1))
		return 1;
	return s == 0 ? nl_sandbox_check() : 0;
}

/* Whether a filter is known or suspected, without checking: for a wait
 * already under way, during which another thread may have installed one. */
static inline int nl_sandbox_known(void)
{
	return (atomic_load_explicit(&nl_sandbox, memory_order_acquire) &
		~NL_SB_NONE) != 0;
}

/* Around a call that installs a filter: before it, and after it with
 * whether it succeeded.  Neither touches errno. */
void nl_sandbox_installing(void) NL_HIDDEN;
void nl_sandbox_installed(int ok) NL_HIDDEN;

/* Whether the raw result r of a probe is a filter's refusal (-ENOSYS or
 * -EPERM, the usual answers of errno filters; a refused call consumed
 * nothing): noted, and the caller makes the real call instead, which gives
 * the program the true answer either way. */
int nl_sandbox_refused(long r) NL_HIDDEN;

/* Whether syscall(nr, a1, ...) or prctl(a1, ...) (nr: SYS_prctl) installs
 * a filter. */
int nl_sandbox_installs(long nr, long a1) NL_HIDDEN;

#endif
