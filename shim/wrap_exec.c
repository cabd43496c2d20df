/* Interposers of the exec family.  Before the real exec, the sweep marks
 * every fd the new program should not get; if the exec fails the program's
 * fds are as they were (marked, never closed), except for the close-on-exec
 * flag of fds it did not mean to pass. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "real.h"
#include "state.h"
#include "sweep.h"
#include "sys.h"

extern char **environ;
int execveat(int dirfd, const char *path, char *const argv[],
	     char *const envp[], int flags);

/* Run the sweep, the exec, and the undo of the sweep's temporary changes
 * should the exec come back. */
#define EXEC_WITH_SWEEP(plan_args, call)                                     \
	do {                                                                 \
		struct nl_plan pl;                                           \
		nl_plan_exec plan_args;                                      \
		nl_sweep_before_exec(&pl);                                   \
		int r_ = (call);                                             \
		int e_ = errno;                                              \
		nl_plan_undo_pass(&pl);                                      \
		errno = e_;                                                  \
		return r_;                                                   \
	} while (0)

static int enosys(void)
{
	errno = ENOSYS;
	return -1;
}

NL_REAL_DECL(execve);
NL_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	__typeof__(&execve) real = NL_REAL(execve);
	EXEC_WITH_SWEEP((&pl, "execve", path, argv, envp, NULL, 0),
			real ? real(path, argv, envp)
			     : (int)syscall(SYS_execve, path, argv, envp));
}

NL_REAL_DECL(execv);
NL_EXPORT int execv(const char *path, char *const argv[])
{
	__typeof__(&execv) real = NL_REAL(execv);
	EXEC_WITH_SWEEP((&pl, "execv", path, argv, environ, NULL, 0),
			real ? real(path, argv) : enosys());
}

NL_REAL_DECL(execvp);
NL_EXPORT int execvp(const char *file, char *const argv[])
{
	__typeof__(&execvp) real = NL_REAL(execvp);
	EXEC_WITH_SWEEP((&pl, "execvp", file, argv, environ, NULL, 0),
			real ? real(file, argv) : enosys());
}

NL_REAL_DECL(execvpe);
NL_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	__typeof__(&execvpe) real = NL_REAL(execvpe);
	EXEC_WITH_SWEEP((&pl, "execvpe", file, argv, envp, NULL, 0),
			real ? real(file, argv, envp) : enosys());
}

/* fexecve() runs the file behind fd, which must therefore stay open. */
NL_REAL_DECL(fexecve);
NL_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	char proc[40] = "/proc/self/fd/", target[512];
	nl_fmt_int(proc + 14, sizeof proc - 14, fd);
	ssize_t len = fd >= 0 ? nl_sys_readlink(proc, target, sizeof target - 1) : -1;
	target[len > 0 ? len : 0] = '\0';
	__typeof__(&fexecve) real = NL_REAL(fexecve);
	EXEC_WITH_SWEEP((&pl, "fexecve", target, argv, envp, &fd, 1),
			real ? real(fd, argv, envp) : enosys());
}

NL_REAL_DECL(execveat);
NL_EXPORT int execveat(int dirfd, const char *path, char *const argv[],
		       char *const envp[], int flags)
{
	__typeof__(&execveat) real = NL_REAL(execveat);
	int keep = dirfd;
	EXEC_WITH_SWEEP((&pl, "execveat", path, argv, envp, &keep,
			 (flags & AT_EMPTY_PATH) && dirfd >= 0 ? 1 : 0),
			real ? real(dirfd, path, argv, envp, flags)
			     : (int)syscall(SYS_execveat, dirfd, path, argv, envp, flags));
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
	char **envp = NULL;
	COLLECT_ARGS(argv, arg, 0, envp);
	(void)envp;
	return execv(path, argv);
}

NL_EXPORT int execlp(const char *file, const char *arg, ...)
{
	char **envp = NULL;
	COLLECT_ARGS(argv, arg, 0, envp);
	(void)envp;
	return execvp(file, argv);
}

NL_EXPORT int execle(const char *path, const char *arg, ...)
{
	char **envp = NULL;
	COLLECT_ARGS(argv, arg, 1, envp);
	return execve(path, argv, envp);
}
