/* system(), popen() and pclose(), rebuilt on the interposed posix_spawn.
 *
 * glibc runs them through an internal posix_spawn that no preload sees, so
 * their children would skip the exec sweep.  These follow glibc 2.36's
 * semantics: system() ignores SIGINT and SIGQUIT (counted across threads)
 * and blocks SIGCHLD while it waits, resets them in the child, returns the
 * wait status (127 << 8 when the shell cannot run), and system(NULL) says
 * whether /bin/sh works; popen() takes modes r, w and e, closes earlier
 * popen streams in the new child, and pclose() waits for the right pid
 * (not a cancellation point).  A thread cancelled in system() kills and
 * reaps the child and gives SIGINT and SIGQUIT back, as glibc does. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/forkdata.h"
#include "common/sys.h"
#include "common/target.h"
#include "init.h"
#include "core/fdtable.h"
#include "core/pgroup.h"
#include "interpose/newfd.h"
#include "base/real.h"
#include "interpose/shell.h"
#include "interpose/spawn.h"

extern char **environ;

/* Whether the shim handles these calls (else glibc's own run). */
static int shim_runs_shells(void)
{
	return nl_fd_policy_active();
}

/* --- system --- */

/* The two locks of this file, each with a count of the threads holding or
 * waiting for it, so that a fork child can tell with one load (no look
 * inside the mutex, no store) whether a thread that is not in the child
 * may have left it held. */
struct lock {
	pthread_mutex_t m;
	atomic_int users;
};
#define LOCK_INIT { PTHREAD_MUTEX_INITIALIZER, 0 }

static void take(struct lock *l)
{
	atomic_fetch_add(&l->users, 1);
	pthread_mutex_lock(&l->m);
}

static void give_back(struct lock *l)
{
	pthread_mutex_unlock(&l->m);
	atomic_fetch_sub(&l->users, 1);
}

static struct lock sigs_lock NL_FORK_DATA = LOCK_INIT;
static int sigs_users;
static struct sigaction saved_int, saved_quit;

static void ignore_interrupts(void)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	sigemptyset(&ign.sa_mask);
	take(&sigs_lock);
	if (sigs_users++ == 0) {
		sigaction(SIGINT, &ign, &saved_int);
		sigaction(SIGQUIT, &ign, &saved_quit);
	}
	give_back(&sigs_lock);
}

static void restore_interrupts(void)
{
	take(&sigs_lock);
	if (--sigs_users == 0) {
		sigaction(SIGINT, &saved_int, NULL);
		sigaction(SIGQUIT, &saved_quit, NULL);
	}
	give_back(&sigs_lock);
}

/* Wait for pid through the waitpid interposer (which notes the reaped
 * child), with cancellation off: glibc's pclose() and system()'s cancel
 * handler wait without a cancellation point. */
static pid_t wait_nocancel(pid_t pid, int *status)
{
	int state;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	pid_t w;
	while ((w = waitpid(pid, status, 0)) < 0 && errno == EINTR)
		;
	int e = errno;
	pthread_setcancelstate(state, NULL);
	errno = e;
	return w;
}

/* A thread cancelled while system() waits: glibc's cancel handler kills
 * the child (the shell alone, with the plain system call: not a kill the
 * program made, so never escalated to the shell's group), reaps it and
 * drops the thread's hold on SIGINT and SIGQUIT (the signal mask stays:
 * the thread is on its way out). */
static void system_cancelled(void *arg)
{
	pid_t pid = *(pid_t *)arg;
	nl_sys_kill(pid, SIGKILL);
	wait_nocancel(pid, NULL);
	restore_interrupts();
}

/* system()'s wait, its cancellation point, with glibc's cancel handler
 * (a frame of its own: the handler's buffer is not on the spawn's path). */
static __attribute__((noinline)) int wait_shell(pid_t pid)
{
	int status;
	pid_t w;
	pthread_cleanup_push(system_cancelled, &pid);
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	pthread_cleanup_pop(0);
	return w == pid ? status : -1;
}

static int run_shell(const char *line)
{
	ignore_interrupts();
	sigset_t chld, omask;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &omask);

	sigset_t reset;
	sigemptyset(&reset);
	if (saved_int.sa_handler != SIG_IGN)
		sigaddset(&reset, SIGINT);
	if (saved_quit.sa_handler != SIG_IGN)
		sigaddset(&reset, SIGQUIT);
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &omask);
	posix_spawnattr_setsigdefault(&attr, &reset);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	pid_t pid;
	char *argv[] = { "sh", "-c", (char *)line, NULL };
	int ret = nl_spawn(nl_spawn_real_current(), 0, "system", &pid, "/bin/sh",
			   NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);

	int status;
	if (ret == 0) {
		status = wait_shell(pid);
	} else {
		/* POSIX: as if the shell had terminated with _exit(127). */
		status = 127 << 8;
	}
	int e = errno;
	restore_interrupts();
	sigprocmask(SIG_SETMASK, &omask, NULL);
	errno = ret != 0 ? ret : e;
	return status;
}

NL_REAL_DECL(system);
NL_EXPORT int system(const char *line)
{
	nl_enter();
	if (!shim_runs_shells()) {
		nl_pgroup_before_child();   /* glibc's makes the child */
		__typeof__(&system) real = NL_REAL(system);
		return real ? real(line) : -1;
	}
	if (!line)
		return run_shell("exit 0") == 0;
	return run_shell(line);
}

/* --- popen and pclose --- */

struct proc_stream {
	FILE *fp;
	pid_t pid;
	struct proc_stream *next;
};

static struct lock chain_lock NL_FORK_DATA = LOCK_INIT;
static struct proc_stream *_Atomic chain;

static int parse_mode(const char *mode, int *reading, int *cloexec)
{
	int r = 0, w = 0;
	*cloexec = 0;
	for (; mode && *mode; mode++) {
		switch (*mode) {
		case 'r': r = 1; break;
		case 'w': w = 1; break;
		case 'e': *cloexec = 1; break;
		default: return -1;
		}
	}
	if (!(r ^ w))
		return -1;
	*reading = r;
	return 0;
}

/* Spawn `sh -c command` with the child's end on its stdin or stdout and
 * every earlier popen stream closed in it.  Called with chain_lock held. */
static int spawn_piped(const char *command, int child_end, int child_std,
		       pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	int r = posix_spawn_file_actions_adddup2(&fa, child_end, child_std);
	for (struct proc_stream *p = chain; r == 0 && p; p = p->next) {
		int fd = fileno(p->fp);
		if (fd != child_std)
			r = posix_spawn_file_actions_addclose(&fa, fd);
	}
	char *argv[] = { "sh", "-c", (char *)command, NULL };
	if (r == 0)
		r = nl_spawn(nl_spawn_real_current(), 0, "popen", pid, "/bin/sh",
			     &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return r;
}

/* An fd of the pipe made here: what the shim recorded of an fd that held
 * the number before (a closed popen's) is not this one's. */
static void pipe_fd_made(int fd, const void *site)
{
	if (nl_fd_policy_active())
		nl_fd_created(fd, NL_CALL_PIPE2, site, 0);
}

static FILE *open_proc(const char *command, int reading, int cloexec,
		       const void *site)
{
	int fds[2];
	if (syscall(SYS_pipe2, fds, O_CLOEXEC) < 0)
		return NULL;
	pipe_fd_made(fds[0], site);
	pipe_fd_made(fds[1], site);
	int parent_end = fds[reading ? 0 : 1], child_end = fds[reading ? 1 : 0];
	int child_std = reading ? 1 : 0;
	/* The child's end must not already be its stdio number, or dup2 would
	 * leave it close-on-exec. */
	if (child_end == child_std) {
		/* From 0 as glibc: with fds 0-2 closed the pipe is 0 and 1, and
		 * 2 may be the last number the limit allows. */
		int moved = (int)syscall(SYS_fcntl, child_end, F_DUPFD_CLOEXEC, 0);
		syscall(SYS_close, child_end);
		if (moved < 0) {
			syscall(SYS_close, parent_end);
			errno = ENOMEM;  /* glibc's spawn_failure */
			return NULL;
		}
		child_end = moved;
		pipe_fd_made(moved, site);
	}
	struct proc_stream *ps = malloc(sizeof *ps);
	pid_t pid;
	take(&chain_lock);
	int r = ps ? spawn_piped(command, child_end, child_std, &pid) : ENOMEM;
	syscall(SYS_close, child_end);
	/* glibc leaves the parent's end inheritable without 'e'; enforce mode
	 * keeps the flag, as for every fd the program creates. */
	int keep_flag = cloexec || nl_new_fds_cloexec();
	FILE *fp = NULL;
	if (r == 0) {
		if (!keep_flag)
			syscall(SYS_fcntl, parent_end, F_SETFD, 0);
		fp = fdopen(parent_end, reading ? "r" : "w");
	}
	if (fp) {
		ps->fp = fp;
		ps->pid = pid;
		ps->next = chain;
		chain = ps;
		nl_new_fd(parent_end, NL_CALL_PIPE2, site,
			  keep_flag && !cloexec ? NL_CLOEXEC_NOW : 0);
	}
	give_back(&chain_lock);
	if (!fp) {
		syscall(SYS_close, parent_end);
		free(ps);
		if (r == 0) {
			/* fdopen failed after the spawn: reap the child. */
			wait_nocancel(pid, NULL);
		}
		errno = ENOMEM;
	}
	return fp;
}

/* popen(), or _IO_popen(): glibc's real function of that name when the
 * shim does not run shells. */
static FILE *shim_popen(const char *command, const char *mode,
			FILE *(*real)(const char *, const char *),
			const void *site)
{
	if (!shim_runs_shells()) {
		nl_pgroup_before_child();   /* glibc's makes the child */
		return real ? real(command, mode) : NULL;
	}
	int reading, cloexec;
	if (parse_mode(mode, &reading, &cloexec) < 0) {
		errno = EINVAL;
		return NULL;
	}
	return open_proc(command, reading, cloexec, site);
}

NL_REAL_DECL(popen);
NL_EXPORT FILE *popen(const char *command, const char *mode)
{
	nl_enter();
	return shim_popen(command, mode, NL_REAL(popen),
			  __builtin_return_address(0));
}

#ifndef NL_LIBC_MUSL
/* glibc's other name of popen (the same function), which a program can
 * bind to instead. */
FILE *_IO_popen(const char *command, const char *mode);
NL_REAL_DECL(_IO_popen);
NL_EXPORT FILE *_IO_popen(const char *command, const char *mode)
{
	nl_enter();
	return shim_popen(command, mode, NL_REAL(_IO_popen),
			  __builtin_return_address(0));
}
#endif

/* A lock a thread that is not in the child may have left held, made free
 * again; one that nobody held or waited for at the fork is not touched, so
 * the page stays shared with the parent and no libc page is called in. */
static void make_free(struct lock *l)
{
	if (atomic_load(&l->users) != 0) {
		pthread_mutex_init(&l->m, NULL);
		atomic_store(&l->users, 0);
	}
}

/* In a fork child: another thread of the parent may have held either lock
 * at the fork, and will never release it here. */
void nl_shell_after_fork(void)
{
	make_free(&sigs_lock);
	make_free(&chain_lock);
}

/* Unlink fp from the chain; its pid, or -1 when it is not a stream of ours. */
static pid_t take_stream(FILE *fp)
{
	if (!atomic_load_explicit(&chain, memory_order_relaxed))
		return -1;
	pid_t pid = -1;
	take(&chain_lock);
	for (struct proc_stream **pp = (struct proc_stream **)&chain; *pp;
	     pp = &(*pp)->next) {
		if ((*pp)->fp == fp) {
			struct proc_stream *dead = *pp;
			pid = dead->pid;
			*pp = dead->next;
			free(dead);
			break;
		}
	}
	give_back(&chain_lock);
	return pid;
}

int nl_proc_stream_close(FILE *fp, int (*real_fclose)(FILE *), int *handled)
{
	pid_t pid = take_stream(fp);
	*handled = pid > 0;
	if (!*handled)
		return 0;
	/* glibc's close of a popen stream waits only when the close of its
	 * fd succeeded: one closed underneath the stream leaves the child to
	 * a later wait, and the result is the failed close's -1 (EBADF). */
	int fd = fileno(fp);
	int fd_open = fd >= 0 && syscall(SYS_fcntl, fd, F_GETFD) >= 0;
	struct nl_fd_close c = { 0, 0 };
	if (fd_open && nl_fd_policy_active())
		c = nl_fd_closing(fd);   /* pclose: no interposer saw it */
	int closed = real_fclose(fp);
	if (c.pending)
		nl_fd_close_done(fd, c);
	if (!fd_open)
		return closed;
	int status;
	if (wait_nocancel(pid, &status) < 0)
		return -1;
	return status != 0 ? status : closed;
}

NL_REAL_DECL(pclose);
NL_REAL_DECL(fclose);
NL_EXPORT int pclose(FILE *fp)
{
	nl_enter();
	int handled;
	__typeof__(&fclose) real_fclose = NL_REAL(fclose);
	if (real_fclose) {
		int r = nl_proc_stream_close(fp, real_fclose, &handled);
		if (handled)
			return r;
	}
	/* A stream glibc's own popen made (mode off at the time). */
	__typeof__(&pclose) real = NL_REAL(pclose);
	return real ? real(fp) : -1;
}

#ifndef NL_LIBC_MUSL
/* glibc's close of a popen stream, which pclose() and fclose() reach
 * through the stream and a program can call itself: the fd closed (no
 * flush) and the child waited for, without a cancellation point.  The
 * stream stays to be freed by fclose(), which then closes nothing and
 * returns -1, as glibc's finds it no longer in its list. */
int _IO_proc_close(FILE *fp);
NL_REAL_DECL(_IO_proc_close);
NL_EXPORT int _IO_proc_close(FILE *fp)
{
	nl_enter();
	pid_t pid = take_stream(fp);
	if (pid <= 0) {
		__typeof__(&_IO_proc_close) real = NL_REAL(_IO_proc_close);
		return real ? real(fp) : -1;
	}
	int fd = fp->_fileno;
	fp->_fileno = -1;
	int state;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	int closed = close(fd);  /* the interposer: the fd table hears of it */
	pthread_setcancelstate(state, NULL);
	int status;
	if (closed < 0 || wait_nocancel(pid, &status) < 0)
		return -1;
	return status;
}
#endif
