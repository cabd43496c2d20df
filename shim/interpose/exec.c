/* Interposers of the exec family.
 *
 * Before the real exec: the sweep marks every fd the new program should not
 * get, and a spawned child whose parent regroups its children notes in the
 * new program's environment where it came from, which makes its move to a
 * process group of its own due (pgroup.h: the new program makes it before
 * its first child); any other exec passes on the marker this process
 * started with, which the shim took out of its environ.  If the exec fails
 * the program's fds are as they were (marked, never closed), except for
 * the close-on-exec flag of fds it did not mean to pass.
 *
 * An exec whose program will run secure (AT_SECURE: set-user-ID or
 * set-group-ID, core/pgroup.h nl_pgroup_secure_exec) gets no marker when
 * the shim came through LD_PRELOAD: ld.so ignores it there, and no shim in
 * the new program would take the marker out of its environment.  A PATH
 * walk (execvp, execvpe, execlp) with a marker to add decides that per
 * candidate, in a walk of its own (raw_execvpe, glibc's or musl's). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "init.h"
#include "log/event.h"
#include "core/pgroup.h"
#include "log/arena.h"
#include "base/real.h"
#include "core/sweep.h"
#include "common/scratch.h"
#include "common/sys.h"
#include "interpose/walk.h"
#include "log/json.h"

extern char **environ;
int execveat(int dirfd, const char *path, char *const argv[],
	     char *const envp[], int flags);

static size_t env_count(char *const envp[])
{
	size_t n = 0;
	while (envp && envp[n])
		n++;
	return n;
}

/* An exec's working memory, never on the stack (an environment may have
 * thousands of entries, a script any number of arguments; exec is
 * async-signal-safe and gets 1 KiB): a scratch block per thread and use,
 * reused by the thread's next exec.  A successful exec takes it away with
 * the address space, but for a vfork child's, which lives on in the
 * parent and is reused there (the rule of the fd table's stash,
 * core/fdtable.c).  `user` is the process preparing an exec in it: a
 * handler's exec that interrupts that one maps a block of its own
 * (`own`), given back if its exec fails; a vfork child whose exec
 * succeeded leaves its pid, which its parent takes for free. */
struct exec_scratch {
	void *block;
	size_t len;
	pid_t user;
};
#define EXEC_SCRATCH(name)                                                   \
	static __thread struct exec_scratch name                             \
		__attribute__((tls_model("initial-exec")))
EXEC_SCRATCH(env_scratch);       /* the environment with the marker */
EXEC_SCRATCH(walk_scratch);      /* a raw PATH walk's path */
#ifndef NL_LIBC_MUSL
EXEC_SCRATCH(script_scratch);    /* a raw script's /bin/sh argv (glibc) */
#endif

struct exec_room {
	void *room;     /* NULL: no memory */
	void *own;
	size_t own_len;
	struct exec_scratch *from;
};

static struct exec_room exec_room_take(struct exec_scratch *s, size_t need,
				       pid_t self)
{
	struct exec_room r = { NULL, NULL, 0, s };
	if (s->user == self) {
		if (nl_scratch_grow(&r.own, &r.own_len, need) == 0)
			r.room = r.own;
		return r;
	}
	s->user = self;
	if (nl_scratch_grow(&s->block, &s->len, need) == 0)
		r.room = s->block;
	else
		s->user = 0;
	return r;
}

/* After a failed exec; errno kept. */
static void exec_room_give_back(struct exec_room *r)
{
	if (r->own) {
		int e = errno;
		nl_scratch_free(&r->own, &r->own_len);
		errno = e;
	} else if (r->room) {
		r->from->user = 0;
	}
}

/* Room for an environment of n pointers with the group marker, then the
 * marker's text (no frame space for it).  NULL room: the marker is left
 * out. */
static struct exec_room env_room_take(size_t n, pid_t self)
{
	return exec_room_take(&env_scratch,
			      n * sizeof(char *) + NL_PGROUP_MARKER_MAX, self);
}

/* Everything an exec interposer does before the real call.  Declares `pl`
 * and `env`, the environment to pass: envp itself, but with a new marker
 * when the child is to move to a group of its own, or with the marker this
 * process started with (pgroup.h); envp itself too when `secure` (asked
 * only then: three system calls) says the program will run secure where
 * no shim takes the marker out (pgroup.h, nl_pgroup_secure_exec).
 * Without memory for the copy, envp
 * without the marker (the child, unmarked, will not move: its group would
 * be nobody's, and its spawner's waits for its own group would not see
 * it).  One getpid() per attempt: the next attempt of a PATH walk takes
 * the plan and the group decision of this one (sweep.h, pgroup.h).  Last,
 * the log's pending counts are written: a successful exec takes them away
 * with the process's memory. */
#define PREPARE_EXEC(via, path, argv, envp, keep, n_keep, secure)            \
	struct nl_plan pl;                                                   \
	char *const *plan_argv_ = (argv), *const *plan_envp_ = (envp);       \
	pid_t self_ = nl_mode() == NL_MODE_OFF ? 0 : nl_sys_getpid();        \
	nl_plan_exec_attempt(&pl, self_, via, path, plan_argv_, plan_envp_,  \
			     keep, n_keep);                                  \
	nl_sweep_before_exec(&pl);                                           \
	pid_t from_ = self_ && nl_pgroup_env_takes_marker(envp)              \
		      ? nl_pgroup_before_exec(self_) : 0;                    \
	const char *kept_ = from_ ? NULL : nl_pgroup_marker_to_pass(envp);   \
	if ((from_ || kept_) && (secure)) {                                  \
		from_ = 0;                                                   \
		kept_ = NULL;                                                \
	}                                                                    \
	struct exec_room room_ = { NULL, NULL, 0, NULL };                    \
	char *const *env = (envp), *const *plain_ = env;                     \
	size_t envc_ = from_ || kept_ ? env_count(envp) + 2 : 0;             \
	if (envc_)                                                           \
		room_ = env_room_take(envc_, self_ ? self_ : nl_sys_getpid()); \
	if (from_ && !room_.room) {                                          \
		nl_pgroup_exec_unmarked(path, from_);                        \
		from_ = 0;                                                   \
	}                                                                    \
	if (room_.room) {                                                    \
		char *marker_ = (char *)((char **)room_.room + envc_);       \
		if (from_)                                                   \
			nl_pgroup_format_marker(marker_, nl_pgroup_spawner(), \
						from_, self_,                \
						nl_pgroup_origin(via, path, argv), \
						nl_pgroup_move_how());       \
		env = nl_pgroup_env_with_marker((char **)room_.room, envp,   \
						from_ ? marker_ : kept_);    \
	}                                                                    \
	nl_event_before_exec();

/* After a failed exec: undo the temporary changes (the fds passed: a PATH
 * walk's next exec starts from the same state), keep errno.  An exec the
 * marker made too big (E2BIG) is made again without it (so with no move
 * due), as glibc's would have run. */
#define FINISH_EXEC(call)                                                    \
	do {                                                                 \
		int r_ = (call);                                             \
		int e_ = errno;                                              \
		if (r_ < 0 && e_ == E2BIG && env != plain_) {               \
			env = plain_;                                        \
			r_ = (call);                                         \
			e_ = errno;                                          \
		}                                                            \
		nl_plan_undo_pass(&pl);                                      \
		nl_plan_exec_failed(&pl, plan_argv_, plan_envp_);            \
		exec_room_give_back(&room_);                                 \
		errno = e_;                                                  \
		return r_;                                                   \
	} while (0)

NL_REAL_DECL(execve);
static int real_execve(const char *path, char *const argv[], char *const envp[])
{
	return NL_CALL_REAL(execve, (path, argv, envp),
			    (SYS_execve, path, argv, envp));
}

/* The v forms' bodies, named by the call the program made (`via`: the
 * list forms come here too, and their events name them).  Not inlined: a
 * list form's frame holds its argv, and its path stays one frame deeper,
 * as through the exported v form. */
static __attribute__((noinline)) int
exec_ve(const char *via, const char *path, char *const argv[],
	char *const envp[])
{
	PREPARE_EXEC(via, path, argv, envp, NULL, 0,
		     nl_pgroup_secure_exec(AT_FDCWD, path, 0));
	FINISH_EXEC(real_execve(path, argv, env));
}

NL_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	nl_enter();
	return exec_ve("execve", path, argv, envp);
}

NL_REAL_DECL(execv);
static __attribute__((noinline)) int
exec_v(const char *via, const char *path, char *const argv[])
{
	PREPARE_EXEC(via, path, argv, environ, NULL, 0,
		     nl_pgroup_secure_exec(AT_FDCWD, path, 0));
	__typeof__(&execv) real = NL_REAL(execv);
	if (room_.room || !real)
		FINISH_EXEC(real_execve(path, argv, env));
	FINISH_EXEC(real(path, argv));
}

NL_EXPORT int execv(const char *path, char *const argv[])
{
	nl_enter();
	return exec_v("execv", path, argv);
}

/* glibc's execvpe() on the raw system call, for a child that may not look
 * the real one up (base/real.h), and for a PATH walk that adds a marker
 * (below): a name without a slash is tried in each directory of PATH
 * (default /bin:/usr/bin, an empty entry is the working directory); a
 * file the kernel cannot run (ENOEXEC) runs under /bin/sh; EACCES
 * anywhere is reported if nothing ran.  musl's: default
 * /usr/local/bin:/bin:/usr/bin, a name longer than NAME_MAX fails with
 * ENAMETOOLONG, no /bin/sh, and only EACCES, ENOENT and ENOTDIR go on to
 * the next directory.  The room for a path and
 * for the shell's argv is the thread's exec scratch (above: a vfork
 * child's stays for its parent's next exec), sized from PATH, the name and
 * argc as glibc sizes its own (a PATH entry may be as long as PATH, a
 * script may have any number of arguments; this path has a stack bound).
 * Without memory the attempt fails with ENOMEM.
 *
 * envp is the environment to pass, plain the caller's: where envp adds a
 * marker, each attempt whose program will run secure passes plain
 * (core/pgroup.h, nl_pgroup_secure_exec: three system calls per
 * attempt). */

static char *const *attempt_env(const char *path, char *const envp[],
				char *const plain[])
{
	return envp != plain && nl_pgroup_secure_exec(AT_FDCWD, path, 0)
		       ? plain : envp;
}

#ifndef NL_LIBC_MUSL
static int raw_exec_script(const char *path, char *const argv[],
			   char *const envp[], char *const plain[])
{
	size_t n = 0;
	while (argv[n])
		n++;
	/* glibc's: the shell, the script, argv[1] on, NULL. */
	struct exec_room room = exec_room_take(&script_scratch,
					       (n + 3) * sizeof(char *),
					       nl_sys_getpid());
	if (!room.room) {
		errno = ENOMEM;
		return -1;
	}
	char **sh_argv = room.room;
	sh_argv[0] = (char *)"/bin/sh";
	sh_argv[1] = (char *)path;
	for (size_t i = 1; i <= n; i++)
		sh_argv[i + 1] = argv[i];
	if (n == 0)
		sh_argv[2] = NULL;
	int r = (int)syscall(SYS_execve, "/bin/sh", sh_argv,
			     attempt_env("/bin/sh", envp, plain));
	exec_room_give_back(&room);
	return r;
}
#endif

static int raw_exec_one(const char *path, char *const argv[],
			char *const envp[], char *const plain[])
{
	int r = (int)syscall(SYS_execve, path, argv,
			     attempt_env(path, envp, plain));
#ifndef NL_LIBC_MUSL
	if (errno == ENOEXEC)
		r = raw_exec_script(path, argv, envp, plain);
#endif
	return r;
}

/* raw_execvpe's answer when it had no room for the walk: no attempt made
 * (errno ENOMEM). */
#define NL_WALK_NO_ROOM (-2)

static int raw_execvpe(const char *file, char *const argv[], char *const envp[],
		       char *const plain[])
{
	if (!file || !*file) {
		errno = ENOENT;
		return -1;
	}
	if (strchr(file, '/'))
		return raw_exec_one(file, argv, envp, plain);
	const char *dirs = getenv("PATH");
	if (!dirs)
		dirs = NL_WALK_DEFAULT_PATH;
	/* glibc's bound on an entry: PATH's length, at most PATH_MAX - 1. */
	size_t flen = strlen(file), dmax = strnlen(dirs, PATH_MAX - 1) + 1;
#ifdef NL_LIBC_MUSL
	if (flen > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
#endif
	struct exec_room room = exec_room_take(&walk_scratch, dmax + flen + 2,
					       nl_sys_getpid());
	if (!room.room) {
		errno = ENOMEM;
		return NL_WALK_NO_ROOM;
	}
	char *path = room.room;
	int eacces = 0;
	/* libc's walk, step for step (walk.h). */
	for (const char *d = dirs, *end;; d = end) {
		end = strchrnul(d, ':');
		size_t dlen = (size_t)(end - d);
		if (dlen >= dmax) {
			if (!(end = nl_walk_past_long(end)))
				break;
			continue;
		}
		memcpy(path, d, dlen);
		path[dlen] = '/';
		memcpy(path + dlen + (dlen ? 1 : 0), file, flen + 1);
		raw_exec_one(path, argv, envp, plain);
		int err = errno;
		eacces |= err == EACCES;
		if (!nl_walk_goes_on(err)) {
			eacces = 0;   /* this error stands */
			break;
		}
		if (!*end++)
			break;
	}
	exec_room_give_back(&room);
	if (eacces)
		errno = EACCES;
	return -1;
}

NL_REAL_DECL(execvpe);
static int real_execvpe(const char *file, char *const argv[], char *const envp[])
{
	__typeof__(&execvpe) real = NL_REAL(execvpe);
	if (real)
		return real(file, argv, envp);
	int r = raw_execvpe(file, argv, envp, envp);
	return r == NL_WALK_NO_ROOM ? -1 : r;
}

/* execvpe with envp, which may add a marker to plain: a name without a
 * slash, when a candidate on PATH may run secure, is walked by the shim
 * (raw_execvpe), which decides per candidate; anything else by libc.  A
 * name with a slash was decided before (PREPARE_EXEC, searched_secure). */
static int execvpe_marked(const char *file, char *const argv[],
			  char *const envp[], char *const plain[])
{
	if (envp != plain && file && *file && !strchr(file, '/') &&
	    nl_pgroup_secure_matters()) {
		int r = raw_execvpe(file, argv, envp, plain);
		if (r != NL_WALK_NO_ROOM)
			return r;
		/* No room for the walk (libc's takes the stack): libc's walk,
		 * with the marker for every candidate, as before this rule. */
	}
	return real_execvpe(file, argv, envp);
}

/* For PREPARE_EXEC of a PATH walk: a name with a slash is the one file. */
static int searched_secure(const char *file)
{
	return file && strchr(file, '/') &&
	       nl_pgroup_secure_exec(AT_FDCWD, file, 0);
}

NL_REAL_DECL(execvp);
static __attribute__((noinline)) int
exec_vp(const char *via, const char *file, char *const argv[])
{
	PREPARE_EXEC(via, file, argv, environ, NULL, 0, searched_secure(file));
	__typeof__(&execvp) real = NL_REAL(execvp);
	if (room_.room || !real)
		FINISH_EXEC(execvpe_marked(file, argv, env, plain_));
	FINISH_EXEC(real(file, argv));
}

NL_EXPORT int execvp(const char *file, char *const argv[])
{
	nl_enter();
	return exec_vp("execvp", file, argv);
}

NL_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	nl_enter();
	PREPARE_EXEC("execvpe", file, argv, envp, NULL, 0, searched_secure(file));
	FINISH_EXEC(execvpe_marked(file, argv, env, plain_));
}

/* fexecve() runs the file behind fd, which must therefore stay open. */
NL_REAL_DECL(fexecve);
NL_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	nl_enter();
#ifndef NL_LIBC_MUSL
	/* glibc's checks, before anything: the fallback below makes none,
	 * and the environment passed on is never NULL.  (unistd.h declares
	 * argv non-null; the asm keeps the compiler from dropping the test,
	 * as glibc's own build keeps it.) */
	char *const *av = argv;
	__asm__("" : "+r"(av));
	if (fd < 0 || !av || !envp) {
		errno = EINVAL;
		return -1;
	}
#endif
	/* The target's path serves the plan only: arena memory, given back
	 * before the exec (a vfork child leaves the arena as it found it). */
	enum { TARGET_MAX = 512 };
	char proc[40] = "/proc/self/fd/";
	size_t mark = nl_arena_enter();
	char *target = nl_arena_get(TARGET_MAX);
	nl_fmt_int(proc + 14, sizeof proc - 14, fd);
	ssize_t len = fd >= 0 && target
			      ? nl_sys_readlink(proc, target, TARGET_MAX - 1) : -1;
	if (len > 0)
		target[len] = '\0';
	PREPARE_EXEC("fexecve", len > 0 ? target : "", argv, envp, &fd, 1,
		     nl_pgroup_secure_exec(fd, "", AT_EMPTY_PATH));
	nl_arena_leave(mark);
	__typeof__(&fexecve) real = NL_REAL(fexecve);
	FINISH_EXEC(real ? real(fd, argv, env)
			 : (int)syscall(SYS_execveat, fd, "", argv, env,
					AT_EMPTY_PATH));
}

/* execveat() reaches the file through dirfd for an empty path
 * (AT_EMPTY_PATH) or a relative one, and the kernel refuses a script
 * reached through a close-on-exec dirfd (ENOENT: the interpreter could not
 * open /dev/fd/N).  So that dirfd crosses this exec when it would have
 * without the shim; an absolute path ignores dirfd. */
static int execveat_needs_dirfd(int dirfd, const char *path, int flags)
{
	if (dirfd < 0)
		return 0;
	if (flags & AT_EMPTY_PATH)
		return 1;
	return path != NULL && path[0] != '/';
}

NL_REAL_DECL(execveat);
NL_EXPORT int execveat(int dirfd, const char *path, char *const argv[],
		       char *const envp[], int flags)
{
	nl_enter();
	int keep = dirfd;
	int n_keep = execveat_needs_dirfd(dirfd, path, flags);
	PREPARE_EXEC("execveat", path, argv, envp, &keep, n_keep,
		     nl_pgroup_secure_exec(dirfd, path, flags));
	FINISH_EXEC(NL_CALL_REAL(execveat, (dirfd, path, argv, env, flags),
				 (SYS_execveat, dirfd, path, argv, env, flags)));
}

/* --- the list forms: collect the arguments, then as their v forms --- */

static size_t count_args(const char *first, va_list ap)
{
	size_t n = 1;
	if (!first)
		return 0;
	while (va_arg(ap, const char *))
		n++;
	return n;
}

#define COLLECT_ARGS(argv, arg0, with_envp, envp)                            \
	va_list ap;                                                          \
	va_start(ap, arg0);                                                  \
	size_t n_ = count_args(arg0, ap);                                    \
	va_end(ap);                                                          \
	char *argv[n_ + 1];                                                  \
	va_start(ap, arg0);                                                  \
	argv[0] = (char *)arg0;                                              \
	for (size_t i_ = 1; i_ <= n_; i_++)                                  \
		argv[i_] = i_ < n_ ? va_arg(ap, char *) : NULL;             \
	if (n_ == 0)                                                         \
		argv[0] = NULL;                                              \
	else                                                                 \
		(void)va_arg(ap, char *);                                    \
	if (with_envp)                                                       \
		envp = va_arg(ap, char **);                                  \
	va_end(ap)

NL_EXPORT int execl(const char *path, const char *arg, ...)
{
	nl_enter();
	char **envp = NULL;
	COLLECT_ARGS(argv, arg, 0, envp);
	(void)envp;
	return exec_v("execl", path, argv);
}

NL_EXPORT int execlp(const char *file, const char *arg, ...)
{
	nl_enter();
	char **envp = NULL;
	COLLECT_ARGS(argv, arg, 0, envp);
	(void)envp;
	return exec_vp("execlp", file, argv);
}

NL_EXPORT int execle(const char *path, const char *arg, ...)
{
	nl_enter();
	char **envp = NULL;
	COLLECT_ARGS(argv, arg, 1, envp);
	return exec_ve("execle", path, argv, envp);
}
