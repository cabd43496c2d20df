/* Interposers of process control: kill and killpg (escalation to a
 * regrouped child's tree), the wait family (orphans of a reaped child),
 * setsid (back to the original group when the shim made the caller a group
 * leader; a session of the program's own making regroups) and getpgrp (that group, as without the shim), and setpgid,
 * setpgrp and tcsetpgrp (a process that manages groups itself is left to
 * it).  The policy is in pgroup.c. */
#include <errno.h>
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

NL_REAL_DECL(waitpid);
NL_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
	nl_enter();
	int st = 0, *sp = status ? status : &st;
	pid = nl_pgroup_wait_target(pid);
	pid_t r = NL_CALL_REAL(waitpid, (pid, sp, options),
			       (SYS_wait4, pid, sp, options, NULL));
	return after_wait(r, sp);
}

NL_EXPORT pid_t wait(int *status)
{
	nl_enter();
	return waitpid(-1, status, 0);
}

NL_REAL_DECL(wait4);
NL_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	nl_enter();
	int st = 0, *sp = status ? status : &st;
	pid = nl_pgroup_wait_target(pid);
	pid_t r = NL_CALL_REAL(wait4, (pid, sp, options, ru),
			       (SYS_wait4, pid, sp, options, ru));
	return after_wait(r, sp);
}

NL_EXPORT pid_t wait3(int *status, int options, struct rusage *ru)
{
	nl_enter();
	return wait4(-1, status, options, ru);
}

#ifdef NL_TIME64_ALIASES
/* wait4 and wait3 of a program built with -D_TIME_BITS=64
 * (common/target.h): the rusage is glibc's 64-bit one, passed through. */
pid_t __wait4_time64(pid_t pid, int *status, int options, void *ru);
NL_REAL_DECL(__wait4_time64);
NL_EXPORT pid_t __wait4_time64(pid_t pid, int *status, int options, void *ru)
{
	nl_enter();
	__typeof__(&__wait4_time64) real = NL_REAL(__wait4_time64);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	int st = 0, *sp = status ? status : &st;
	pid_t r = real(nl_pgroup_wait_target(pid), sp, options, ru);
	return after_wait(r, sp);
}

pid_t __wait3_time64(int *status, int options, void *ru);
NL_EXPORT pid_t __wait3_time64(int *status, int options, void *ru)
{
	nl_enter();
	return __wait4_time64(-1, status, options, ru);
}
#endif

NL_REAL_DECL(waitid);
NL_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	nl_enter();
	/* P_PGID with 0 is the caller's group, as waitpid's 0. */
	if (idtype == P_PGID && id != 1 &&
	    nl_pgroup_wait_target(id == 0 ? 0 : -(pid_t)id) == -1) {
		idtype = P_ALL;
		id = 0;
	}
	int r = NL_CALL_REAL(waitid, (idtype, id, info, options),
			     (SYS_waitid, idtype, id, info, options, NULL));
	if (r == 0 && info && info->si_pid > 0 && !(options & WNOWAIT) &&
	    (info->si_code == CLD_EXITED || info->si_code == CLD_KILLED ||
	     info->si_code == CLD_DUMPED)) {
		int st = info->si_code == CLD_EXITED
				 ? (info->si_status & 0xff) << 8
				 : info->si_status & 0x7f;
		after_wait(info->si_pid, &st);
	}
	return r;
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
	int r = NL_CALL_REAL(setpgid, (pid, pgid), (SYS_setpgid, pid, pgid));
	int saved = errno;
	nl_pgroup_note_manages();
	if (r == 0 && (pid == 0 || pid == nl_sys_getpid()) &&
	    (pgid == 0 || pgid == nl_sys_getpid()))
		nl_pgroup_moved_self();
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
