/* posix_spawn and posix_spawnp, carried out by the shim so that the exec
 * sweep is decided in the child.
 *
 * Like glibc 2.36 (sysdeps/unix/sysv/linux/spawni.c) the child is made with
 * clone(CLONE_VM | CLONE_VFORK) on a stack of its own, with every signal
 * blocked around the clone.  The child, in glibc's order: resets signal
 * dispositions (POSIX_SPAWN_SETSIGDEF, and every handler to SIG_DFL since it
 * shares the parent's memory), SETSCHEDPARAM / SETSCHEDULER, SETSID,
 * SETPGROUP (the group translated in the parent, in a copy of the
 * attributes, as the setpgid() interposer translates it), RESETIDS, then the caller's file actions (open, close, dup2 —
 * dup2(fd, fd) clears FD_CLOEXEC —, chdir, fchdir, closefrom, tcsetpgrp);
 * then the shim's part: when the spawner regroups, the group marker with
 * the child's own pid as its token (the new program owes the move to a
 * group of its own: core/pgroup.h), and the exec sweep, planned right
 * there from the fds the child really has; then the signal mask
 * (SETSIGMASK or the caller's) and the exec.  A
 * failing step or exec writes its errno into memory the parent reads once
 * the child has exec'd or exited, and posix_spawn returns it.
 * POSIX_SPAWN_USEVFORK is accepted and changes nothing, as in glibc.
 *
 * Nothing is done to the parent's fds: another thread's fcntl, open or
 * close can neither be undone by the spawn nor leak into its child, since
 * the child decides on its own copy of the fd table, and from the marks
 * as they were at the clone as well as the parent's record, which other
 * threads go on changing (core/fdtable.h, nl_fd_snapshot_take).
 *
 * glibc has two versions of each call on x86_64 and i386: GLIBC_2.15, and
 * GLIBC_2.2.5 (i386: GLIBC_2.2), which retries an exec that fails with
 * ENOEXEC (a script without #!) through /bin/sh.  Each gets its own
 * interposer, bound with .symver; where there is one version (aarch64,
 * musl) one plain interposer of each (common/target.h).  posix_spawnp
 * searches PATH as libc's own posix_spawnp does (the caller's PATH, else
 * libc's default; EACCES remembered; other errors than "not here" stop the
 * search: interpose/walk.h).
 *
 * Memory: the child's stack, the copy of the environment with the process
 * group marker (a new one for a regrouped child, which the child fills in,
 * else the one this process started with: core/pgroup.h), the kept-fd list
 * and the PATH buffer live
 * in one mapping made by the parent; once the child has exec'd or exited
 * it is kept for the process's next spawn (room_take below).
 * The child itself only calls raw system calls and the allocation-free
 * sweep (whose scratch memory it gives back before its exec).  glibc's
 * private layout of file actions is read in one place below; under a glibc
 * older than 2.35, whose layout differs, calls with file actions go to
 * glibc's own posix_spawn (fds keep their own flags, no sweep).
 *
 * musl: the same child, with musl's layouts read in the parent instead:
 * its file actions are a list (struct fdop, oldest last) that the parent
 * copies into the same array of actions, its attributes name the signal
 * sets __def and __mask, and it has no scheduling attributes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "init.h"
#include "base/real.h"
#include "common/scratch.h"
#include "common/sys.h"
#include "common/target.h"
#include "core/fdlist.h"
#include "core/fdtable.h"
#include "core/pgroup.h"
#include "core/socktimeout.h"
#include "core/sweep.h"
#include "interpose/spawn.h"
#include "interpose/walk.h"
#include "log/json.h"
#include "log/output.h"

extern char **environ;

/* --- glibc 2.36's private layout of file actions (posix/spawn_int.h) --- */

enum glibc_action_tag {
	GLIBC_DO_CLOSE, GLIBC_DO_DUP2, GLIBC_DO_OPEN, GLIBC_DO_CHDIR,
	GLIBC_DO_FCHDIR, GLIBC_DO_CLOSEFROM, GLIBC_DO_TCSETPGRP,
};

struct glibc_action {
	enum glibc_action_tag tag;
	union {
		struct { int fd; } close_action;
		struct { int fd; int newfd; } dup2_action;
		struct { int fd; char *path; int oflag; mode_t mode; } open_action;
		struct { char *path; } chdir_action;
		struct { int fd; } fchdir_action;
		struct { int from; } closefrom_action;
		struct { int fd; } setpgrp_action;
	} action;
};

#ifdef NL_LIBC_MUSL
/* --- musl 1.2's layouts (src/process/fdop.h, include/spawn.h) --- */

enum { MUSL_FDOP_CLOSE = 1, MUSL_FDOP_DUP2, MUSL_FDOP_OPEN, MUSL_FDOP_CHDIR,
       MUSL_FDOP_FCHDIR };

struct musl_fdop {
	struct musl_fdop *next, *prev;
	int cmd, fd, srcfd, oflag;
	mode_t mode;
	char path[];
};

#define ATTR_SIGDEF(a) (&(a)->__def)
#define ATTR_SIGMASK(a) (&(a)->__mask)

static int actions_count(const posix_spawn_file_actions_t *fa)
{
	int n = 0;
	for (const struct musl_fdop *op = fa->__actions; op; op = op->next)
		n++;
	return n;
}

/* musl's list, newest first, into `out` in the order of the calls. */
static void actions_copy(const posix_spawn_file_actions_t *fa,
			 struct glibc_action *out, int n)
{
	const struct musl_fdop *op = fa->__actions;
	for (int i = n - 1; op && i >= 0; op = op->next, i--) {
		struct glibc_action *a = &out[i];
		memset(a, 0, sizeof *a);
		switch (op->cmd) {
		case MUSL_FDOP_CLOSE:
			a->tag = GLIBC_DO_CLOSE;
			a->action.close_action.fd = op->fd;
			break;
		case MUSL_FDOP_DUP2:
			a->tag = GLIBC_DO_DUP2;
			a->action.dup2_action.fd = op->srcfd;
			a->action.dup2_action.newfd = op->fd;
			break;
		case MUSL_FDOP_OPEN:
			a->tag = GLIBC_DO_OPEN;
			a->action.open_action.fd = op->fd;
			a->action.open_action.path = (char *)op->path;
			a->action.open_action.oflag = op->oflag;
			a->action.open_action.mode = op->mode;
			break;
		case MUSL_FDOP_CHDIR:
			a->tag = GLIBC_DO_CHDIR;
			a->action.chdir_action.path = (char *)op->path;
			break;
		default:
			a->tag = GLIBC_DO_FCHDIR;
			a->action.fchdir_action.fd = op->fd;
			break;
		}
	}
}

static int layout_known(void)
{
	return 1;
}
#else
#include <gnu/libc-version.h>

#define ATTR_SIGDEF(a) (&(a)->__sd)
#define ATTR_SIGMASK(a) (&(a)->__ss)

static int actions_count(const posix_spawn_file_actions_t *fa)
{
	return fa->__used;
}

static const struct glibc_action *actions_of(const posix_spawn_file_actions_t *fa)
{
	return (const struct glibc_action *)(const void *)fa->__actions;
}

/* The layout above is glibc's from 2.35 (which added tcsetpgrp) on; the
 * version string is static, so asking costs no allocation. */
static int layout_known(void)
{
	const char *v = gnu_get_libc_version();
	int major = 0, minor = 0;
	for (; *v >= '0' && *v <= '9'; v++)
		major = major * 10 + (*v - '0');
	if (*v == '.')
		for (v++; *v >= '0' && *v <= '9'; v++)
			minor = minor * 10 + (*v - '0');
	return major == 2 && minor >= 35;
}
#endif

_Static_assert(sizeof(struct glibc_action) == (sizeof(void *) == 8 ? 32 : 20),
	       "glibc's __spawn_action");

/* --- what the parent hands the child --- */

/* glibc's internal signals (SIGCANCEL, SIGSETXID): ignored in the child. */
#define SIG_CANCEL 32
#define SIG_SETXID 33

struct spawn_args {
	const char *file;
	char *const *argv;
	char *const *envp;              /* with the group marker, if any */
	char *const *envp_plain;        /* the caller's */
	char **sh_argv;                 /* room for the ENOEXEC retry */
	const posix_spawn_file_actions_t *fa;
	const struct glibc_action *acts;  /* fa's actions, in glibc's layout */
	int n_acts;
	const posix_spawnattr_t *attr;
	nl_ksigset oldmask;
	int xflags;
	char regroup;                   /* NL_MOVE_* of the child's marker, 0
					 * for none */
	pid_t marker_spawner, marker_from;  /* ... this process, its group */
	char marker_origin;             /* ... NL_ORIGIN_* */
	char *marker;                   /* ... room for it, in envp */
	const char *via;
	const char *search_path;        /* PATH for posix_spawnp */
	char *path_buf;                 /* room for PATH element + file */
	size_t path_max;                /* glibc's bound on one element */
	int *keep;                      /* fds the caller's actions make */
	int *keep_flags;                /* ... and their FD_CLOEXEC then */
	volatile int err;               /* the child's errno, > 0 on failure */
};

/* --- the child --- */

/* The child shares the calling thread's TLS, so every failing system call
 * of the child leaves its errno in the caller's errno, as glibc's child
 * does: a close action on an fd that is not open leaves EBADF, SETSIGDEF
 * with SIGKILL EINVAL, a PATH walk that ends in a successful exec the last
 * failure's.  The shim's own calls (regrouping, the sweep) leave it alone. */
static long child_errno(long r)
{
	if (r < 0)
		errno = (int)-r;
	return r;
}

static int sig_member(const void *set, int sig)
{
	const unsigned char *b = set;
	return (b[(sig - 1) / 8] >> ((sig - 1) % 8)) & 1;
}

static long raw_sigaction(int sig, const struct nl_ksigaction *act,
			  struct nl_ksigaction *old)
{
	return child_errno(nl_sys_sigaction(sig, act, old));
}

/* No handler of the parent may run in the child, which shares its memory:
 * every handled signal goes to SIG_DFL (ignored ones stay ignored), the
 * SETSIGDEF set too, glibc's internal signals to SIG_IGN — as glibc does.
 * glibc also sets SIG_DFL again on a signal that has it already: one
 * system call per signal (about 60 per spawn) that changes nothing the
 * child could see — its signals stay blocked until just before the exec,
 * which clears every disposition's flags and mask — so the shim skips it. */
static void child_signals(const struct spawn_args *a)
{
	const posix_spawnattr_t *attr = a->attr;
	nl_ksigset blocked = 0;
	nl_sys_sigprocmask(SIG_BLOCK, NULL, &blocked);
	struct nl_ksigaction sa = { 0 };
	for (int sig = 1; sig <= 64; sig++) {
		if ((attr->__flags & POSIX_SPAWN_SETSIGDEF) &&
		    sig_member(ATTR_SIGDEF(attr), sig)) {
			sa.handler = (void *)SIG_DFL;
		} else if (sig_member(&blocked, sig)) {
			if (sig == SIG_CANCEL || sig == SIG_SETXID) {
				sa.handler = (void *)SIG_IGN;
			} else {
				struct nl_ksigaction cur;
				if (raw_sigaction(sig, NULL, &cur) == 0 &&
				    (cur.handler == (void *)SIG_IGN ||
				     cur.handler == (void *)SIG_DFL))
					continue;
				sa.handler = (void *)SIG_DFL;
			}
		} else {
			continue;
		}
		raw_sigaction(sig, &sa, NULL);
	}
}

/* The attributes before the file actions; 0 or -errno. */
static long child_attributes(const posix_spawnattr_t *attr)
{
	long r = 0;
	short f = attr->__flags;
#ifndef NL_LIBC_MUSL  /* musl has no scheduling attributes */
	if ((f & (POSIX_SPAWN_SETSCHEDPARAM | POSIX_SPAWN_SETSCHEDULER)) ==
	    POSIX_SPAWN_SETSCHEDPARAM)
		r = child_errno(NL_SYS(SYS_sched_setparam, 0, &attr->__sp, 0));
	else if (f & POSIX_SPAWN_SETSCHEDULER)
		r = child_errno(NL_SYS(SYS_sched_setscheduler, 0, attr->__policy, &attr->__sp));
	if (r < 0)
		return r;
#endif
	if ((f & POSIX_SPAWN_SETSID) && (r = child_errno(NL_SYS(SYS_setsid, 0, 0, 0))) < 0)
		return r;
	if ((f & POSIX_SPAWN_SETPGROUP) &&
	    (r = child_errno(NL_SYS(SYS_setpgid, 0, attr->__pgrp, 0))) < 0)
		return r;
	if (f & POSIX_SPAWN_RESETIDS) {
		if ((r = child_errno(NL_SYS(SYS_setresuid, -1, NL_SYS(SYS_getuid, 0, 0, 0), -1))) < 0 ||
		    (r = child_errno(NL_SYS(SYS_setresgid, -1, NL_SYS(SYS_getgid, 0, 0, 0), -1))) < 0)
			return r;
	}
	return 0;
}

static void close_one(int fd, void *ctx)
{
	if (fd >= *(const int *)ctx)
		child_errno(nl_sys_close(fd));
}

/* One file action; 0 or -errno. */
static long child_action(const struct glibc_action *act)
{
	long r;
	switch (act->tag) {
	case GLIBC_DO_CLOSE: {
		int fd = act->action.close_action.fd;
		if ((r = child_errno(nl_sys_close(fd))) == 0)
			return 0;
		/* Errors count only for fds out of range. */
		struct rlimit rl;
		if (nl_sys_prlimit(RLIMIT_NOFILE, NULL, &rl) == 0 && fd >= 0 &&
		    (rlim_t)fd < rl.rlim_cur)
			return 0;
		return r;
	}
	case GLIBC_DO_OPEN: {
		int fd = act->action.open_action.fd;
		child_errno(nl_sys_close(fd));
		/* O_LARGEFILE as glibc's child adds it (a file over 2 GiB
		 * opens on a 32-bit target too; 0 on a 64-bit one). */
		int got = (int)child_errno(nl_sys_openat(AT_FDCWD,
					act->action.open_action.path,
					act->action.open_action.oflag | O_LARGEFILE,
					act->action.open_action.mode));
		if (got < 0)
			return got;
		if (got != fd) {
			if ((r = child_errno(nl_sys_dup2(got, fd))) != fd)
				return r < 0 ? r : -EBADF;
			if ((r = child_errno(nl_sys_close(got))) != 0)
				return r;
		}
		return 0;
	}
	case GLIBC_DO_DUP2: {
		int fd = act->action.dup2_action.fd, newfd = act->action.dup2_action.newfd;
		if (fd == newfd) {
			int flags = (int)child_errno(nl_sys_fcntl(fd, F_GETFD, 0));
			if (flags < 0)
				return flags;
			r = child_errno(nl_sys_fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC));
			return r < 0 ? r : 0;
		}
		r = child_errno(nl_sys_dup2(fd, newfd));
		return r == newfd ? 0 : r < 0 ? r : -EBADF;
	}
	case GLIBC_DO_CHDIR:
		return child_errno(NL_SYS(SYS_chdir, act->action.chdir_action.path, 0, 0));
	case GLIBC_DO_FCHDIR:
		return child_errno(NL_SYS(SYS_fchdir, act->action.fchdir_action.fd, 0, 0));
	case GLIBC_DO_CLOSEFROM: {
		int from = act->action.closefrom_action.from;
		if (child_errno(nl_sys_close_range((unsigned)from, ~0U, 0)) == 0)
			return 0;
		return nl_for_each_open_fd(close_one, &from) == 0 ? 0 : -EMFILE;
	}
	case GLIBC_DO_TCSETPGRP: {
		pid_t pgrp = nl_sys_getpgid(0);
		r = child_errno(nl_sys_ioctl(act->action.setpgrp_action.fd, TIOCSPGRP,
					     &pgrp));
		return r < 0 ? r : 0;
	}
	}
	return 0;
}

static long raw_execve(const char *path, char *const argv[], char *const envp[])
{
	return child_errno(NL_SYS(SYS_execve, path, argv, envp));
}

/* One exec attempt of the child, with the marker unless its program will
 * run secure where no shim takes the marker out (core/pgroup.h,
 * nl_pgroup_secure_exec: three system calls, only with a marker): then
 * with the caller's environment, as is.  Each candidate of a PATH walk is
 * decided on its own, and so is the /bin/sh of the ENOEXEC retry. */
static long child_execve(const struct spawn_args *a, const char *path,
			 char *const argv[])
{
	char *const *envp = a->envp;
	if (envp != a->envp_plain && nl_pgroup_secure_exec(AT_FDCWD, path, 0))
		envp = a->envp_plain;
	return raw_execve(path, argv, envp);
}

/* libc's PATH search for posix_spawnp (glibc's __execvpex, musl's
 * __execvpe): execvpe without an ENOEXEC retry.  -errno. */
static long exec_searching(struct spawn_args *a, const char *file)
{
	if (file[0] == '\0')
		return -ENOENT;
	if (strchr(file, '/'))
		return child_execve(a, file, a->argv);
#ifdef NL_LIBC_MUSL
	if (!a->path_buf)   /* musl's check of the name (make_room) */
		return -ENAMETOOLONG;
#endif
	size_t file_len = strlen(file) + 1;
	int got_eacces = 0;
	long r = -ENOENT;
	/* libc's walk, step for step (walk.h). */
	for (const char *p = a->search_path, *end;; p = end) {
		end = strchrnul(p, ':');
		size_t n = (size_t)(end - p);
		if (n >= a->path_max) {
			if (!(end = nl_walk_past_long(end)))
				break;
			continue;
		}
		memcpy(a->path_buf, p, n);
		a->path_buf[n] = '/';
		memcpy(a->path_buf + n + (n > 0), file, file_len);
		r = child_execve(a, a->path_buf, a->argv);
		got_eacces |= r == -EACCES;
		if (!nl_walk_goes_on((int)-r))
			return r;
		if (*end++ == '\0')
			break;
	}
	return got_eacces ? -EACCES : r;
}

static long child_exec(struct spawn_args *a, const char *file,
		       char *const argv[])
{
	if (a->xflags & NL_SPAWN_USE_PATH) {
		char *const *saved = a->argv;
		a->argv = argv;
		long r = exec_searching(a, file);
		a->argv = saved;
		return r;
	}
	return child_execve(a, file, argv);
}

/* fd 2 after action `act`: 1 given up (closed, or a file opened onto
 * it), 0 replaced (dup2 onto it), `was` if untouched. */
static int stderr_after(const struct glibc_action *act, int was)
{
	switch (act->tag) {
	case GLIBC_DO_CLOSE:
		return act->action.close_action.fd == 2 ? 1 : was;
	case GLIBC_DO_OPEN:
		return act->action.open_action.fd == 2 ? 1 : was;
	case GLIBC_DO_DUP2:
		return act->action.dup2_action.newfd == 2 ? 0 : was;
	case GLIBC_DO_CLOSEFROM:
		return act->action.closefrom_action.from <= 2 ? 1 : was;
	default:
		return was;
	}
}

static int spawn_child(void *arg)
{
	struct spawn_args *a = arg;
	const posix_spawnattr_t *attr = a->attr;
	nl_fd_snapshot_child();
	child_signals(a);
	long r = child_attributes(attr);
	int n_keep = 0;
	if (r == 0 && a->acts) {
		const struct glibc_action *act = a->acts;
		int fd2 = -1;   /* what the actions did to fd 2 */
		for (int i = 0; i < a->n_acts && r == 0; i++) {
			r = child_action(&act[i]);
			fd2 = stderr_after(&act[i], fd2);
			if (act[i].tag == GLIBC_DO_DUP2)
				a->keep[n_keep++] = act[i].action.dup2_action.newfd;
			else if (act[i].tag == GLIBC_DO_OPEN)
				a->keep[n_keep++] = act[i].action.open_action.fd;
		}
		/* log=stderr: a file opened onto 2 is the program's, not its
		 * standard error (out_stderr.c). */
		if (fd2 >= 0)
			nl_out_stderr_child(nl_sys_getpid(), fd2);
	}
	if (r == 0) {
		/* The token is the child's pid: the new program that has it
		 * owes the move (core/pgroup.h). */
		if (a->regroup)
			nl_pgroup_format_marker(a->marker, a->marker_spawner,
						a->marker_from, nl_sys_getpid(),
						a->marker_origin, a->regroup);
		/* What the caller's actions made is the caller's choice,
		 * close-on-exec or not: the sweep may take an fd an open
		 * action made with O_CLOEXEC for the parent's own on the
		 * same file (/dev/null), and pass it. */
		for (int i = 0; i < n_keep; i++)
			a->keep_flags[i] = nl_sys_fcntl(a->keep[i], F_GETFD, 0);
		struct nl_plan pl;
		nl_plan_exec(&pl, a->via, a->file, a->argv, a->envp, a->keep,
			     n_keep);
		nl_sweep_before_exec(&pl);
		for (int i = 0; i < n_keep; i++)
			if (a->keep_flags[i] >= 0 &&
			    nl_sys_fcntl(a->keep[i], F_GETFD, 0) != a->keep_flags[i])
				nl_sys_fcntl(a->keep[i], F_SETFD, a->keep_flags[i]);
		nl_ksigset mask = a->oldmask;
		if (attr->__flags & POSIX_SPAWN_SETSIGMASK) {
			memcpy(&mask, ATTR_SIGMASK(attr), sizeof mask);
			mask &= ~(((nl_ksigset)1 << (SIG_CANCEL - 1)) |
				  ((nl_ksigset)1 << (SIG_SETXID - 1)));
		}
		nl_sys_sigprocmask(SIG_SETMASK, &mask, NULL);
		r = child_exec(a, a->file, a->argv);
		if (r == -E2BIG && a->envp != a->envp_plain) {
			/* The marker made it too big: glibc's would have
			 * run, without it (so with no move due). */
			a->envp = a->envp_plain;
			r = child_exec(a, a->file, a->argv);
		}
		if ((a->xflags & NL_SPAWN_TRY_SHELL) && r == -ENOEXEC) {
			/* /bin/sh FILE ARGS...: argv[0] gives way to the shell. */
			size_t k = 0;
			a->sh_argv[k++] = "/bin/sh";
			a->sh_argv[k++] = (char *)a->file;
			for (size_t i = 1; a->argv[0] && a->argv[i]; i++)
				a->sh_argv[k++] = a->argv[i];
			a->sh_argv[k] = NULL;
			r = child_exec(a, "/bin/sh", a->sh_argv);
		}
	}
	/* __execvpex's own errno: ENOENT for "", EACCES after a refusal. */
	child_errno(r);
	a->err = r < 0 ? (int)-r : ECHILD;
	nl_sys6(SYS_exit_group, 127, 0, 0, 0, 0, 0);
	return 127;
}

/* --- the parent --- */

/* 64 KiB for the child's own frames (the sweep, its log events). */
#define CHILD_STACK (64 * 1024)

/* The one mapping the parent makes for a spawn, carved up. */
struct spawn_room {
	void *block;
	size_t bytes;
	char *stack_top;
	int kept;      /* the process's kept block, to give back */
};

/* The last spawn's mapping, kept for the next spawn of this process: the
 * pages of the child's stack are there already, so neither the clone
 * (which writes the child's first frame from the parent) nor the child
 * takes a page fault on them again — a fault costs as much as 15 to 20
 * system calls here.  One block per process, taken with an exchange (two
 * threads spawning at once: the second maps its own, and unmaps it after),
 * never waited for (a fork child of a process that was spawning in
 * another thread maps its own each time).  A vfork child that spawns
 * takes and gives back the same block in the memory it shares.  Kept only
 * up to KEEP_MAX: a spawn with a huge environment gives its mapping
 * back. */
#define KEEP_MAX (256 * 1024)
static atomic_int room_taken;
static void *kept_block;
static size_t kept_bytes;

/* Helgrind (make stress builds its library with NL_HELGRIND) sees neither
 * the exchange as the hand-over it is nor the child's exec as the end of
 * the child's use of the block: it is told both. */
#if defined(NL_HELGRIND) && __has_include(<valgrind/helgrind.h>)
#include <valgrind/helgrind.h>
#define ROOM_HANDED_OVER() ANNOTATE_HAPPENS_BEFORE(&room_taken)
#define ROOM_TAKEN() ANNOTATE_HAPPENS_AFTER(&room_taken)
#define ROOM_FRESH(block, bytes)                                       \
	do {                                                           \
		if (block)                                             \
			VALGRIND_HG_CLEAN_MEMORY((block), (bytes));    \
	} while (0)
#else
#define ROOM_HANDED_OVER() ((void)0)
#define ROOM_TAKEN() ((void)0)
#define ROOM_FRESH(block, bytes) ((void)0)
#endif

static void room_take(struct spawn_room *room)
{
	room->kept = !atomic_exchange_explicit(&room_taken, 1,
					       memory_order_acquire);
	room->block = NULL;
	room->bytes = 0;
	if (!room->kept)
		return;
	ROOM_TAKEN();
	room->block = kept_block;
	room->bytes = kept_bytes;
	ROOM_FRESH(room->block, room->bytes);
}

static void room_give_back(struct spawn_room *room)
{
	if (!room->kept || room->bytes > KEEP_MAX)
		nl_scratch_free(&room->block, &room->bytes);
	if (!room->kept)
		return;
	kept_block = room->block;
	kept_bytes = room->bytes;
	ROOM_HANDED_OVER();
	atomic_store_explicit(&room_taken, 0, memory_order_release);
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Lay out the mapping: stack, then the ENOEXEC argv, the environment copy
 * with the marker (room for a new one, which the child writes, for a
 * regrouped child, else `kept`, if any), the kept-fd list and the PATH
 * buffer.  Returns 0, or an errno. */
static int make_room(struct spawn_room *room, struct spawn_args *a,
		     size_t argc, const char *kept)
{
	int fresh = a->regroup != 0, marker = fresh || kept;
	size_t n_env = 0;
	while (a->envp && a->envp[n_env])
		n_env++;
	size_t n_keep = (size_t)a->n_acts;
	size_t path_bytes = 0;
	if (a->xflags & NL_SPAWN_USE_PATH) {
		/* glibc's bound on an entry: PATH's length, at most PATH_MAX
		 * - 1.  Its check of the name never fires (it measures at most
		 * NAME_MAX bytes), so a longer name is tried in each entry and
		 * the walk ends as the kernel answers (ENOENT, ENAMETOOLONG);
		 * musl fails it with ENAMETOOLONG before the walk. */
		size_t file_len = strlen(a->file) + 1;
		a->path_max = strnlen(a->search_path, PATH_MAX - 1) + 1;
#ifdef NL_LIBC_MUSL
		if (file_len - 1 <= NAME_MAX)
#endif
			path_bytes = a->path_max + file_len + 1;
	}
	size_t sh_at = CHILD_STACK;
	/* The retry's argv: "/bin/sh", the file, argv[1..], NULL; with argv
	 * empty, one entry more than argv itself. */
	size_t env_at = sh_at + align8(((argc ? argc : 1) + 2) * sizeof(char *));
	size_t marker_at = env_at + (marker ? align8((n_env + 2) * sizeof(char *)) : 0);
	size_t keep_at = marker_at + (fresh ? NL_PGROUP_MARKER_MAX : 0);
	size_t path_at = keep_at + align8(2 * n_keep * sizeof(int));
#ifdef NL_LIBC_MUSL
	/* musl: room for its file actions in glibc's layout. */
	size_t acts_at = path_at + align8(path_bytes);
	size_t total = acts_at + n_keep * sizeof(struct glibc_action);
#else
	size_t total = path_at + path_bytes;
#endif
	if (nl_scratch_grow(&room->block, &room->bytes, total) < 0)
		return ENOMEM;
	char *base = room->block;
	room->stack_top = base + CHILD_STACK;
	a->sh_argv = (char **)(void *)(base + sh_at);
	a->keep = (int *)(void *)(base + keep_at);
	a->keep_flags = a->keep + n_keep;
	a->path_buf = path_bytes ? base + path_at : NULL;
#ifdef NL_LIBC_MUSL
	if (a->n_acts) {
		struct glibc_action *acts = (void *)(base + acts_at);
		actions_copy(a->fa, acts, a->n_acts);
		a->acts = acts;
	}
#endif
	if (fresh) {
		a->marker = base + marker_at;
		a->marker[0] = '\0';   /* the child writes it */
		a->marker_spawner = nl_sys_getpid();
		a->marker_from = nl_sys_getpgid(0);
		a->marker_origin = nl_pgroup_origin(a->via, a->file, a->argv);
	}
	if (marker)
		a->envp = nl_pgroup_env_with_marker((char **)(void *)(base + env_at),
						    a->envp,
						    fresh ? base + marker_at : kept);
	return 0;
}

NL_REAL_DECL(clone);

static int actions_set_terminal(const struct spawn_args *a)
{
#ifndef NL_LIBC_MUSL
	for (int i = 0; a->acts && i < a->n_acts; i++)
		if (a->acts[i].tag == GLIBC_DO_TCSETPGRP)
			return 1;
#else
	(void)a;
#endif
	return 0;
}

static int spawn_in_child(const char *via, int xflags, pid_t *pid,
			  const char *file, const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *attr, char *const argv[],
			  char *const envp[])
{
	__typeof__(&clone) real_clone = NL_REAL(clone);
	if (!real_clone)
		return ENOSYS;
	size_t argc = 0;
	while (argv[argc] != NULL)
		if (++argc >= INT_MAX - 1)
			return E2BIG;

	static const posix_spawnattr_t no_attr;
	struct spawn_args a = {
		.file = file, .argv = argv, .envp = envp, .envp_plain = envp,
		.fa = fa,
		.attr = attr ? attr : &no_attr, .xflags = xflags, .via = via,
	};
#ifndef NL_LIBC_MUSL
	if (fa) {
		a.n_acts = actions_count(fa);
		a.acts = actions_of(fa);
	}
#else
	a.n_acts = fa ? actions_count(fa) : 0;
#endif
	if (xflags & NL_SPAWN_USE_PATH) {
		const char *p = nl_policy_env_value(environ, "PATH");
		a.search_path = p ? p : NL_WALK_DEFAULT_PATH;
	}
	nl_pgroup_tick();
	/* Not when the caller's actions hand the child the terminal
	 * (tcsetpgrp: the foreground is its group), nor when its exec
	 * could carry no marker. */
	a.regroup = !actions_set_terminal(&a) && nl_pgroup_env_takes_marker(envp)
		    ? nl_pgroup_for_spawn(attr) : 0;
	const char *kept = a.regroup ? NULL : nl_pgroup_marker_to_pass(envp);
	struct spawn_room room;
	room_take(&room);
	int ec = make_room(&room, &a, argc, kept);
	if (ec) {
		room_give_back(&room);
		return ec;
	}

	nl_out_stderr_child(0, 0);
	int cancel;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	nl_ksigset all = ~(nl_ksigset)0;
	nl_sys_sigprocmask(SIG_BLOCK, &all, &a.oldmask);
	a.err = 0;
	/* Closes by other threads keep the marks until the child has its
	 * copy of the fds (fdtable.h, nl_fd_fork_begin). */
	int counted = nl_fd_fork_begin();
	nl_fd_snapshot_take(0);
	pid_t child = real_clone(spawn_child, room.stack_top,
				 CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	if (counted)
		nl_fd_fork_end();
	nl_fd_snapshot_forget();
	if (child > 0) {
		ec = a.err;
		/* The child failed before its exec: reap it, as glibc does. */
		if (ec > 0)
			while (nl_sys6(SYS_wait4, child, 0, 0, 0, 0, 0) == -EINTR)
				;
	} else {
		ec = errno;
	}
	room_give_back(&room);
	nl_out_stderr_child(0, 0);   /* the child's, gone with it */
	if (ec == 0 && pid)
		*pid = child;
	nl_sys_sigprocmask(SIG_SETMASK, &a.oldmask, NULL);
	pthread_setcancelstate(cancel, NULL);
	return ec;
}

int nl_spawn(nl_spawn_fn real, int xflags, const char *via, pid_t *pid,
	     const char *path, const posix_spawn_file_actions_t *fa,
	     const posix_spawnattr_t *attr, char *const argv[],
	     char *const envp[])
{
	nl_pgroup_before_child();
	/* POSIX_SPAWN_SETPGROUP names a group as the setpgid() interposer
	 * takes it: the group getpgrp() reports in a process the shim moved
	 * is its own (core/pgroup.h, nl_pgroup_shown_to_real).  Translated
	 * in a copy of the attributes, never in the caller's. */
	posix_spawnattr_t own;
	short flags = 0;
	pid_t pgrp = 0;
	int setpgroup = attr && posix_spawnattr_getflags(attr, &flags) == 0 &&
			(flags & POSIX_SPAWN_SETPGROUP);
	if (setpgroup && posix_spawnattr_getpgroup(attr, &pgrp) == 0 &&
	    nl_pgroup_shown_to_real(pgrp) != pgrp) {
		own = *attr;
		posix_spawnattr_setpgroup(&own, nl_pgroup_shown_to_real(pgrp));
		attr = &own;
	}
	/* And it places the child as setpgid(child, ...) does: the program
	 * manages its children's groups, and that child's group is never
	 * one the shim made (a wait for the caller's group leaves it). */
	if (setpgroup)
		nl_pgroup_note_manages();
	if (nl_mode() == NL_MODE_OFF ||
	    (fa && actions_count(fa) > 0 && !layout_known()))
		return real ? real(pid, path, fa, attr, argv, envp) : ENOSYS;
	/* The child's program may set options on a socket it inherits. */
	pid_t child = 0;
	int r = spawn_in_child(via, xflags, pid ? pid : &child, path, fa, attr,
			       argv, envp);
	if (r == 0 && setpgroup)
		nl_pgroup_placed(pid ? *pid : child);
	nl_sock_sharing();
	return r;
}

/* The versions per target: common/target.h. */
#ifdef NL_VER_SPAWN_NEW
#define VER_NEW NL_STR(NL_VER_SPAWN_NEW)
#define VER_OLD NL_STR(NL_VER_SPAWN_OLD)
#else
#define VER_NEW ""
#endif
NL_REAL_DECL_AS(spawn_new, "posix_spawn", VER_NEW);
NL_REAL_DECL_AS(spawnp_new, "posix_spawnp", VER_NEW);

nl_spawn_fn nl_spawn_real_current(void)
{
	return NL_REAL_AS(spawn_new, nl_spawn_fn);
}

#define SPAWN_INTERPOSER(fn, slot, xflags, via)                              \
	NL_EXPORT int fn(pid_t *pid, const char *path,                       \
			 const posix_spawn_file_actions_t *fa,               \
			 const posix_spawnattr_t *attr, char *const argv[],  \
			 char *const envp[])                                 \
	{                                                                    \
		nl_enter();                                                  \
		return nl_spawn(NL_REAL_AS(slot, nl_spawn_fn), xflags, via,  \
				pid, path, fa, attr, argv, envp);            \
	}

#ifdef NL_VER_SPAWN_NEW
NL_REAL_DECL_AS(spawn_old, "posix_spawn", VER_OLD);
NL_REAL_DECL_AS(spawnp_old, "posix_spawnp", VER_OLD);

SPAWN_INTERPOSER(nl_vsym_posix_spawn, spawn_new, 0, "posix_spawn")
SPAWN_INTERPOSER(nl_vsym_posix_spawn_old, spawn_old, NL_SPAWN_TRY_SHELL,
		 "posix_spawn")
SPAWN_INTERPOSER(nl_vsym_posix_spawnp, spawnp_new, NL_SPAWN_USE_PATH,
		 "posix_spawnp")
SPAWN_INTERPOSER(nl_vsym_posix_spawnp_old, spawnp_old,
		 NL_SPAWN_USE_PATH | NL_SPAWN_TRY_SHELL, "posix_spawnp")

__asm__(".symver nl_vsym_posix_spawn, posix_spawn@@" VER_NEW);
__asm__(".symver nl_vsym_posix_spawn_old, posix_spawn@" VER_OLD);
__asm__(".symver nl_vsym_posix_spawnp, posix_spawnp@@" VER_NEW);
__asm__(".symver nl_vsym_posix_spawnp_old, posix_spawnp@" VER_OLD);
#else
/* One version (aarch64: GLIBC_2.17, musl: none): plain exports. */
SPAWN_INTERPOSER(posix_spawn, spawn_new, 0, "posix_spawn")
SPAWN_INTERPOSER(posix_spawnp, spawnp_new, NL_SPAWN_USE_PATH, "posix_spawnp")
#endif
