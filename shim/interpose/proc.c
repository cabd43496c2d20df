/* Interposers of process control: kill and killpg (escalation to a
 * regrouped child's tree), the wait family (orphans of a reaped child),
 * setsid (back to the original group when the shim made the caller a group
 * leader; a session of the program's own making regroups) and getpgrp (that group, as without the shim), and setpgid,
 * setpgrp and tcsetpgrp (a process that manages groups itself is left to
 * it).  The policy is in pgroup.c. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/errno.h"
#include "init.h"
#include "core/fdtable.h"
#include "core/pgroup.h"
#include "base/real.h"
#include "common/sys.h"

static int raw_kill(pid_t pid, int sig)
{
	return (int)syscall(SYS_kill, pid, sig);
}

NL_REAL_DECL(kill);
NL_EXPORT int kill(pid_t pid, int sig)
{
	nl_enter();
	__typeof__(&kill) real = NL_REAL(kill);
	return nl_pgroup_kill(pid, sig, real ? real : raw_kill);
}

/* killpg(pgrp, sig) is kill(-pgrp, sig), with glibc's check. */
NL_EXPORT int killpg(pid_t pgrp, int sig)
{
	nl_enter();
	if (pgrp < 0) {
		errno = EINVAL;
		return -1;
	}
	__typeof__(&kill) real = NL_REAL(kill);
	return nl_pgroup_kill(-pgrp, sig, real ? real : raw_kill);
}

/* --- the wait family --- */

/* The kernel writes the status where the program asked (a bad pointer is
 * its EFAULT, as without the shim, the child reaped all the same); the
 * shim reads it back only after a success. */
static pid_t after_wait(pid_t r, const int *status)
{
	if (r > 0 && nl_mode() != NL_MODE_OFF) {
		nl_pgroup_reaped(r, *status);   /* each leaves errno alone */
		nl_pgroup_tick();
	}
	return r;
}

NL_REAL_DECL(waitid);
static int real_waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	return NL_CALL_REAL(waitid, (idtype, id, info, options),
			    (SYS_waitid, idtype, id, info, options, NULL));
}

/* The caller's kind of wait, made for `pid`: wait4 (waitpid too), its
 * 64-bit time form, or waitid (P_PGID as asked, or one child: the one
 * peeked at).  Returns the child, 0 when none was ready, or -1. */
enum { WAIT_WAIT4, WAIT_WAIT4_TIME64, WAIT_ID };

NL_REAL_DECL(wait4);
#ifdef NL_TIME64_ALIASES
pid_t __wait4_time64(pid_t pid, int *status, int options, void *ru);
NL_REAL_DECL(__wait4_time64);
#endif

static pid_t one_wait(int kind, pid_t pid, int *status, int options, void *ru)
{
	switch (kind) {
	case WAIT_WAIT4:
		return NL_CALL_REAL(wait4, (pid, status, options, ru),
				    (SYS_wait4, pid, status, options, ru));
#ifdef NL_TIME64_ALIASES
	case WAIT_WAIT4_TIME64:
		return NL_REAL(__wait4_time64)(pid, status, options, ru);
#endif
	default: {
		/* ru is the siginfo here, status unused. */
		siginfo_t *info = ru;
		if (real_waitid(pid > 0 ? P_PID : P_PGID,
				pid > 0 ? (id_t)pid : pid < -1 ? (id_t)-pid : 0,
				info, options) < 0)
			return -1;
		return info->si_pid;
	}
	}
}

/* The options of a waitid() that looks for what a wait of that kind with
 * `options` would reap, without reaping it; 0 when the kernel is to judge
 * them itself (an option it may refuse). */
static int peek_options(int kind, int options)
{
	const int ids = __WNOTHREAD | __WCLONE | __WALL;
	if (kind == WAIT_ID) {
		if ((options & ~(WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT |
				 ids)) ||
		    !(options & (WEXITED | WSTOPPED | WCONTINUED)))
			return 0;
		return options | WNOWAIT;
	}
	if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | ids))
		return 0;
	return options | WEXITED | WNOWAIT;   /* WUNTRACED is WSTOPPED */
}

/* A wait for `pid`.  One for the caller's own group, for which the shim
 * may have moved children to groups of their own (core/pgroup.h,
 * nl_pgroup_wait_plan): the kernel waits for any child without reaping
 * it, and the one it names is reaped by its pid only if the group the
 * caller asked for would have held it, so that a child that left the
 * group during the wait is never taken.  The wait blocks in the kernel as
 * the caller's would (a cancellation point; EINTR, or restarted under
 * SA_RESTART).  Not inlined: its frame is not on the reaping's path. */
static __attribute__((noinline)) pid_t
wait_for(int kind, pid_t pid, int *status, int options, void *ru)
{
	int saved = errno;
	for (;;) {
		int peek = nl_pgroup_wait_plan(&pid) == NL_WAIT_PEEK
				   ? peek_options(kind, options) : 0;
		if (!peek)
			return one_wait(kind, pid, status, options, ru);
		siginfo_t si;
		si.si_pid = 0;
		/* A waitid() peeks into the caller's siginfo, so that the
		 * kernel writes it as it would (zeros when nothing is ready),
		 * and fails as it would on one it cannot write. */
		siginfo_t *peeked = kind == WAIT_ID ? (siginfo_t *)ru : &si;
		int bad_info = 0;
		if (real_waitid(P_ALL, 0, peeked, peek) < 0) {
			if (peeked == &si || errno != EFAULT)
				return -1;
			/* A siginfo the kernel cannot write: it still waits
			 * and reaps as asked, then answers EFAULT (whatever
			 * the wait found, ECHILD and EINTR too).  Peek into
			 * the shim's own, and make the program's wait for
			 * what it names, for real. */
			bad_info = 1;
			peeked = &si;
			if (real_waitid(P_ALL, 0, &si, peek) < 0) {
				errno = EFAULT;
				return -1;
			}
		}
		if (peeked != &si)
			si.si_pid = peeked->si_pid;
		/* WNOHANG and nothing yet: every child is one the group would
		 * hold, and at least one is still running, so the answer is
		 * 0, never the ECHILD the kernel gives for a group the shim
		 * emptied (EFAULT when it cannot write the zeros). */
		if (si.si_pid == 0) {
			if (bad_info) {
				errno = EFAULT;
				return -1;
			}
			nl_errno_restore(saved);
			return 0;
		}
		/* A child that left the group: the kernel answers for the
		 * group (and writes what it writes then). */
		if (!nl_pgroup_wait_takes(si.si_pid))
			return one_wait(kind, pid, status, options, ru);
		pid_t r = one_wait(kind, si.si_pid, status, options | WNOHANG, ru);
		/* Another thread took the event first: look again. */
		if (r < 0 ? errno != ECHILD : r > 0) {
			if (r > 0)
				nl_errno_restore(saved);
			return r;
		}
	}
}

NL_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
	nl_enter();
	int st = 0, *sp = status ? status : &st;
	return after_wait(wait_for(WAIT_WAIT4, pid, sp, options, NULL), sp);
}

NL_EXPORT pid_t wait(int *status)
{
	nl_enter();
	return waitpid(-1, status, 0);
}

NL_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	nl_enter();
	int st = 0, *sp = status ? status : &st;
	return after_wait(wait_for(WAIT_WAIT4, pid, sp, options, ru), sp);
}

NL_EXPORT pid_t wait3(int *status, int options, struct rusage *ru)
{
	nl_enter();
	return wait4(-1, status, options, ru);
}

#ifdef NL_TIME64_ALIASES
/* wait4 and wait3 of a program built with -D_TIME_BITS=64
 * (common/target.h): the rusage is glibc's 64-bit one, passed through. */
NL_EXPORT pid_t __wait4_time64(pid_t pid, int *status, int options, void *ru)
{
	nl_enter();
	if (!NL_REAL(__wait4_time64)) {
		errno = ENOSYS;
		return -1;
	}
	int st = 0, *sp = status ? status : &st;
	return after_wait(wait_for(WAIT_WAIT4_TIME64, pid, sp, options, ru), sp);
}

pid_t __wait3_time64(int *status, int options, void *ru);
NL_EXPORT pid_t __wait3_time64(int *status, int options, void *ru)
{
	nl_enter();
	return __wait4_time64(-1, status, options, ru);
}
#endif

/* The kernel takes a NULL info (glibc passes it on); the shim still needs
 * to know which child was reaped, so it passes one of its own. */
NL_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	nl_enter();
	siginfo_t own;
	own.si_pid = 0;
	siginfo_t *ip = info ? info : &own;
	/* P_PGID: 0 is the caller's group, as waitpid's 0; group 1 cannot
	 * be said as a pid (-1 is any child) and is never the caller's. */
	if (idtype != P_PGID || id == 1 || id > (id_t)INT_MAX) {
		if (real_waitid(idtype, id, ip, options) < 0)
			return -1;
	} else if (wait_for(WAIT_ID, id == 0 ? 0 : -(pid_t)id, NULL, options,
			    ip) < 0) {
		return -1;
	}
	if (ip->si_pid > 0 && !(options & WNOWAIT) &&
	    (ip->si_code == CLD_EXITED || ip->si_code == CLD_KILLED ||
	     ip->si_code == CLD_DUMPED)) {
		int st = ip->si_code == CLD_EXITED
				 ? (ip->si_status & 0xff) << 8
				 : ip->si_status & 0x7f;
		after_wait(ip->si_pid, &st);
	}
	return 0;
}

/* --- groups and sessions --- */

/* A program that calls setpgid manages groups, whether or not the call
 * worked: timeout(1) started as a session leader calls setpgid(0, 0), which
 * the kernel refuses a session leader, and still counts on its kill(0)
 * reaching its command's whole tree. */
NL_REAL_DECL(setpgid);
NL_EXPORT int setpgid(pid_t pid, pid_t pgid)
{
	nl_enter();
	/* Before the call: a child it names, forked a moment ago, may be at
	 * its exec already, and must not move itself then. */
	nl_pgroup_note_manages();
	pid_t to = nl_pgroup_shown_to_real(pgid);
	int r = NL_CALL_REAL(setpgid, (pid, to), (SYS_setpgid, pid, to));
	int saved = errno;
	pid_t self = nl_sys_getpid();
	if (r == 0 && (pid == 0 || pid == self) && (pgid == 0 || pgid == self))
		nl_pgroup_moved_self();
	else if (r == 0 && pid != 0 && pid != self)
		nl_pgroup_placed(pid);
	nl_errno_restore(saved);
	return r;
}

NL_EXPORT int setpgrp(void)
{
	nl_enter();
	return setpgid(0, 0);
}

/* getpgrp() and getpgid() are plain system calls: no real symbol is
 * needed, nor any errno care (getpgid(0) cannot fail). */
NL_EXPORT pid_t getpgrp(void)
{
	nl_enter();
	return nl_pgroup_shown(0, nl_sys_getpgid(0));
}

NL_EXPORT pid_t __bsd_getpgrp(pid_t pid)
{
	nl_enter();
	return getpgid(pid);
}

NL_EXPORT pid_t getpgid(pid_t pid)
{
	nl_enter();
	pid_t r = (pid_t)syscall(SYS_getpgid, pid);
	return r > 0 ? nl_pgroup_shown(pid, r) : r;
}

NL_EXPORT pid_t __getpgid(pid_t pid)
{
	nl_enter();
	return getpgid(pid);
}

NL_REAL_DECL(tcsetpgrp);
NL_EXPORT int tcsetpgrp(int fd, pid_t pgrp)
{
	nl_enter();
	/* glibc's is this ioctl: -1 and errno on failure. */
	int r = NL_CALL_REAL(tcsetpgrp, (fd, pgrp),
			     (SYS_ioctl, fd, TIOCSPGRP, &pgrp));
	if (r == 0)
		nl_pgroup_note_manages();
	return r;
}

/* glibc's setsid is the plain system call, made here in a child that may
 * not look the real one up (base/real.h). */
static pid_t raw_setsid(void)
{
	return (pid_t)syscall(SYS_setsid);
}

NL_REAL_DECL(setsid);
NL_EXPORT pid_t setsid(void)
{
	nl_enter();
	__typeof__(&setsid) real = NL_REAL(setsid);
	if (!real)
		real = raw_setsid;
	int saved = errno;
	pid_t r = real();
	if (r < 0 && errno == EPERM && nl_mode() == NL_MODE_ENFORCE) {
		r = nl_pgroup_retry_setsid(real);
		if (r >= 0)
			errno = saved;   /* as after a setsid() that worked */
	}
	if (r >= 0)
		nl_pgroup_started_session();
	nl_exec_generation_bump();  /* a new session: the next exec decides afresh */
	return r;
}
