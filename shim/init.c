/* Start-up: load the policy, learn who we are, snapshot inherited fds.
 *
 * Runs from the constructor, or earlier from the first interposed call (a
 * library constructor that runs before ours).  Initialisation never waits:
 * a call that arrives while it runs — on this thread through recursion, or
 * on another — sees the pass-through policy. */
#include "common/errno.h"
#include "init.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>

#include "base/real.h"
#include "log/arena.h"
#include "common/str.h"
#include "common/sys.h"
#include "common/target.h"
#include "common/version.h"
#include "core/fdtable.h"
#include "core/pgroup.h"
#include "core/socktimeout.h"
#include "core/stdin.h"
#include "core/sweep.h"
#include "core/watchdog.h"
#include "log/event.h"
#include "log/output.h"

/* What `noleak status` (and what(1)) reads to tell an installed copy's
 * version. */
__attribute__((used)) static const char version_tag[] =
	"@(#)libnoleak " NL_VERSION;

extern char **environ;
extern char *program_invocation_name;


/* The executable's path and how far reading it got (exe_once() below). */
enum { EXE_UNREAD, EXE_READING, EXE_READ };
static atomic_int exe_state __attribute__((section(".data")));
static const char *exe_path __attribute__((section(".data")));
/* AT_EXECFN, the path given to execve: the log's name for the executable
 * when /proc/self/exe cannot be read at its first line (a chroot without
 * /proc, a sandbox that forbids readlink).  NULL in a secure process,
 * whose invoker chose it. */
static const char *execfn_path __attribute__((section(".data")));

/* The one after-fork list, in init's order.  Idempotent: a child the shim
 * saw forking calls it once; a second call finds its own pid in place. */
void nl_after_fork_child(pid_t parent)
{
	pid_t self = nl_sys_getpid();
	if (atomic_load_explicit(&nl_proc.pid, memory_order_relaxed) == self)
		return;
	nl_real_after_fork_child();   /* before the pid makes it look up */
	atomic_store_explicit(&nl_proc.pid, self, memory_order_relaxed);
	nl_arena_after_fork();
	if (atomic_load(&exe_state) == EXE_READING)
		atomic_store(&exe_state, EXE_UNREAD);
	nl_fd_after_fork();
	nl_event_after_fork();
	nl_pgroup_after_fork(parent);
	nl_sock_sharing();
}

void nl_exec_attempts_forget(void)
{
	nl_plan_forget_last();
	nl_pgroup_forget_decision();
	nl_fd_snapshot_forget();
}

/* The constructor's argv: glibc passes argc, argv and envp to every
 * library's constructor; musl passes nothing.  NULL when init runs before
 * the constructor (another library's constructor made an interposed
 * call).  In .data, as exe_path: a page the loader has written, where
 * .bss would cost a page fault of its own. */
static char **ctor_argv __attribute__((section(".data")));

/* The executable (/proc/self/exe), read only when something needs it: a
 * [program] section, a name check that AT_EXECFN cannot settle, or the
 * log's first line (every line names it).  A process's first look into
 * /proc/self costs tens of microseconds, as much as the rest of its
 * start-up, and most processes never log.
 *
 * Read once, by whoever asks first: init (alone: the log is configured
 * after the steps that ask), or later any thread, signal handler, fork or
 * vfork child that logs.  EXE_READING marks a reader at work; a caller that
 * finds one (another thread, or a handler that interrupted the reader)
 * reads its own copy into the event's arena memory rather than wait, as
 * does a vfork child, which must not write its parent's state.  A fork
 * child of a process whose reader was at work starts over (after_fork). */

static int same_string(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* readlink of /proc/self/exe into to[cap]; the length, or 0.  A binary
 * replaced since it started (a package upgrade under a daemon) reads as
 * "PATH (deleted)": the name it was started under is PATH.  Without
 * /proc (see execfn_path) the path given to execve. */
static size_t read_exe(char *to, size_t cap)
{
	static const char deleted[] = " (deleted)";
	const size_t dl = sizeof deleted - 1;
	ssize_t got = nl_sys_readlink("/proc/self/exe", to, cap - 1);
	size_t n = got > 0 ? (size_t)got : 0;
	if (!n && execfn_path) {
		n = nl_strlen(execfn_path);
		n = n < cap - 1 ? n : cap - 1;
		nl_copy(to, execfn_path, n);
	}
	to[n] = '\0';
	if (n > dl && same_string(to + n - dl, deleted))
		to[n -= dl] = '\0';
	return n;
}

/* The path, read by whoever wins EXE_UNREAD -> EXE_READING; NULL for the
 * others. */
static const char *exe_once(void)
{
	int expected = EXE_UNREAD;
	if (atomic_load_explicit(&exe_state, memory_order_acquire) == EXE_READ)
		return exe_path;
	if (!atomic_compare_exchange_strong(&exe_state, &expected,
					    EXE_READING))
		return NULL;
	const char *path = nl_proc.exe;
	if (read_exe(nl_proc.exe, sizeof nl_proc.exe) ==
	    sizeof nl_proc.exe - 1) {   /* perhaps cut short */
		read_exe(nl_proc.exe_long, sizeof nl_proc.exe_long);
		path = nl_proc.exe_long;
	}
	exe_path = path;
	atomic_store_explicit(&exe_state, EXE_READ, memory_order_release);
	return path;
}

/* Init's: the only reader while it runs. */
static const char *exe(void)
{
	const char *path = exe_once();
	return path ? path : "";
}

/* The log's, called while an event holds arena memory. */
static const char *log_exe(void)
{
	if (atomic_load_explicit(&exe_state, memory_order_acquire) == EXE_READ)
		return exe_path;
	const char *path = nl_in_foreign_child() ? NULL : exe_once();
	if (path)
		return path;
	char *own = nl_arena_get(PATH_MAX);
	if (!own)
		return "";
	read_exe(own, PATH_MAX);
	return own;
}

/* Whether the executable's name is the last part of AT_EXECFN, the path
 * given to execve, so that the names can be checked without reading
 * /proc/self/exe.  It is unless that part is a symbolic link (sh ->
 * dash), the path is relative (a constructor may have changed directory
 * since) or names an fd (fexecve: /dev/fd/N), or an interpreter runs in
 * place of the file: a script's (#!) or binfmt_misc's, which the kernel
 * hands the path as an argument after its own name and one optional
 * argument, once per level of up to 5 nested interpreters. */
#define INTERPRETER_ARGS 11
static int execfn_names_exe(const char *execfn)
{
	char **argv = ctor_argv;
	if (execfn == NULL || execfn[0] != '/' || argv == NULL ||
	    argv[0] == NULL)
		return 0;
	for (int i = 1; i < INTERPRETER_ARGS && argv[i] != NULL; i++)
		if (same_string(argv[i], execfn))
			return 0;
	struct stat st;
	return nl_sys_lstat(execfn, &st) == 0 && S_ISREG(st.st_mode);
}

/* Shells manage their fds deliberately (exec 3>file opens straight onto 3):
 * the shim leaves their fds alone.  Judged by the real executable and by the
 * name it was run as (busybox applets, sh -> dash). */
static int program_is_transparent(const struct nl_policy *p,
				  const struct nl_identity *who)
{
	if (who->execfn && nl_names_contain(p->fd_transparent, who->execfn))
		return 1;
	return !execfn_names_exe(who->execfn) &&
	       nl_names_contain(p->fd_transparent, exe());
}

static void log_config_errors(const struct nl_policy *p)
{
	for (int i = 0; i < p->n_errors; i++) {
		struct nl_event ev;
		nl_event_begin(&ev, "config_error");
		nl_event_str(&ev, "error", p->errors[i]);
		if (p->config_path[0])
			nl_event_str(&ev, "config", p->config_path);
		nl_event_emit(&ev);
	}
	if (p->errors_dropped) {
		struct nl_event ev;
		nl_event_begin(&ev, "config_error");
		nl_event_int(&ev, "more_errors", p->errors_dropped);
		nl_event_emit(&ev);
	}
}

/* Start-up, in order; each step only reads what the steps before it set. */
void nl_init(void)
{
#ifdef NL_LOAD_ONLY
	return;   /* never in force: every call under the pass-through policy */
#endif
	int expected = NL_INIT_NONE;
	if (!atomic_compare_exchange_strong(&nl_proc.init_state, &expected,
					    NL_INIT_RUNNING))
		return;
	int saved = errno;
	/* 1. who we are */
	atomic_store_explicit(&nl_proc.pid, nl_sys_getpid(), memory_order_relaxed);
	nl_proc.secure = getauxval(AT_SECURE) != 0;
	/* As ld.so does with LD_PRELOAD: gone before main(), and before the
	 * caller of an early interposed call (another library's constructor)
	 * can pass environ on. */
	if (nl_proc.secure) {
		nl_policy_env_scrub(environ);
		/* and the group marker in its other spelling */
		nl_policy_env_remove(environ, NL_PGROUP_GONE_ENV "=");
	}
	/* Whoever runs a set-user-ID program picks its argv[0] and, through a
	 * symlink, the name in AT_EXECFN: there only the executable may
	 * choose a [program] section or fd_transparent. */
	struct nl_identity who = {
		.exe = NULL,
		.execfn = nl_proc.secure ? NULL
					 : (const char *)getauxval(AT_EXECFN),
		.argv0 = nl_proc.secure ? NULL : program_invocation_name,
		.exe_lazy = exe,
	};
	execfn_path = who.execfn;
	/* 2. the policy: defaults < config file < environment (not secure) */
	const struct nl_policy *p = &nl_proc.pol;
	nl_policy_load_zeroed(&nl_proc.pol, &who, environ, nl_proc.secure);
	nl_proc.transparent = p->mode != NL_MODE_OFF &&
			      program_is_transparent(p, &who);
	/* 3. the log (out_file.c decides where a log file may live).  A
	 * secure process reads the executable now: it may give up /proc
	 * later, and its AT_EXECFN is its invoker's choice. */
	if (nl_proc.secure && p->log_kind != NL_LOG_NONE)
		exe();
	nl_event_configure(p->log_kind, p->log_path, log_exe,
			   nl_mode_name(p->mode));
	nl_out_fd_owner(&nl_proc.pid);
	/* 4. the subsystems that read the start-up environment and fds */
	if (p->mode != NL_MODE_OFF)
		nl_fd_init(nl_proc.secure ? NULL : environ);
	/* takes the group marker out of environ, before main() */
	nl_pgroup_init(nl_proc.secure ? NULL : environ, p->mode != NL_MODE_OFF);
	nl_watch_configure(p);
	/* 5. in force from here on */
	atomic_store_explicit(&nl_proc.init_state, NL_INIT_DONE,
			      memory_order_release);
	log_config_errors(p);
	nl_stdin_check_at_start();
	nl_errno_restore(saved);
}

/* No pthread_atfork(): it would allocate in every process.  Fork
 * children learn who they are in the fork interposer; a child forked
 * behind the shim's back (raw clone, _Fork) is taken for a vfork child,
 * which only costs it the marks it makes before its exec. */
/* NL_LOAD_ONLY builds build/libnoleak-load.so for `make bench` alone: its
 * constructor does nothing and it never initialises, so that every
 * interposed call passes straight through (the pass-through policy,
 * base/state.h): a process pays for loading the library and for entering
 * its interposers, the floor of the start-up, spawn and workload figures. */
#ifdef NL_LIBC_MUSL
__attribute__((constructor)) static void nl_constructor(void)
{
	char **argv = NULL;
#else
__attribute__((constructor)) static void nl_constructor(int argc, char **argv)
{
	(void)argc;
#endif
#ifndef NL_LOAD_ONLY
	/* Before nl_init(), whose code lies on another page than this. */
	nl_map_code_in();
	ctor_argv = argv;
	nl_init();
#else
	(void)argv;
#endif
}

__attribute__((destructor)) static void nl_destructor(void)
{
	nl_event_flush();
}
