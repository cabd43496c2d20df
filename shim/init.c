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

#include "log/arena.h"
#include "common/sys.h"
#include "common/version.h"
#include "core/fdtable.h"
#include "core/pgroup.h"
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


/* The one after-fork list, in init's order.  Idempotent: a child the shim
 * saw forking calls it once; a second call finds its own pid in place. */
void nl_after_fork_child(void)
{
	pid_t self = nl_sys_getpid();
	pid_t parent = atomic_load_explicit(&nl_proc.pid, memory_order_relaxed);
	if (parent == self)
		return;
	atomic_store_explicit(&nl_proc.pid, self, memory_order_relaxed);
	nl_arena_after_fork();
	nl_fd_after_fork();
	nl_event_after_fork();
	nl_pgroup_after_fork(parent);
}

void nl_exec_attempts_forget(void)
{
	nl_plan_forget_last();
	nl_pgroup_forget_decision();
}

static void read_exe(void)
{
	ssize_t n = nl_sys_readlink("/proc/self/exe", nl_proc.exe,
				    sizeof nl_proc.exe - 1);
	nl_proc.exe[n > 0 ? n : 0] = '\0';
}

/* Shells manage their fds deliberately (exec 3>file opens straight onto 3):
 * the shim leaves their fds alone.  Judged by the real executable and by the
 * name it was run as (busybox applets, sh -> dash). */
static int program_is_transparent(const struct nl_policy *p,
				  const struct nl_identity *who)
{
	return nl_names_contain(p->fd_transparent, who->exe) ||
	       (who->execfn && nl_names_contain(p->fd_transparent, who->execfn));
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
	nl_proc.pid = nl_sys_getpid();
	nl_proc.secure = getauxval(AT_SECURE) != 0;
	/* As ld.so does with LD_PRELOAD: gone before main(), and before the
	 * caller of an early interposed call (another library's constructor)
	 * can pass environ on. */
	if (nl_proc.secure)
		nl_policy_env_scrub(environ);
	read_exe();
	/* Whoever runs a set-user-ID program picks its argv[0] and, through a
	 * symlink, the name in AT_EXECFN: there only the executable may
	 * choose a [program] section or fd_transparent. */
	struct nl_identity who = {
		.exe = nl_proc.exe,
		.execfn = nl_proc.secure ? NULL
					 : (const char *)getauxval(AT_EXECFN),
		.argv0 = nl_proc.secure ? NULL : program_invocation_name,
	};
	/* 2. the policy: defaults < config file < environment (not secure) */
	const struct nl_policy *p = &nl_proc.pol;
	nl_policy_load(&nl_proc.pol, &who, environ, nl_proc.secure);
	nl_proc.transparent = program_is_transparent(p, &who);
	/* 3. the log (out_file.c decides where a log file may live) */
	nl_event_configure(p->log_kind, p->log_path, nl_proc.exe,
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
__attribute__((constructor)) static void nl_constructor(void)
{
#ifndef NL_LOAD_ONLY
	/* Before nl_init(), whose code lies on another page than this. */
	nl_map_code_in();
	nl_init();
#endif
}

__attribute__((destructor)) static void nl_destructor(void)
{
	nl_event_flush();
}
