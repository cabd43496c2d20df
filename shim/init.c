/* Start-up: load the policy, learn who we are, snapshot inherited fds.
 *
 * Runs from the constructor, or earlier from the first interposed call (a
 * library constructor that runs before ours).  Initialisation never waits:
 * a call that arrives while it runs — on this thread through recursion, or
 * on another — sees the pass-through policy. */
#include "base/state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "common/version.h"
#include "log/event.h"
#include "core/fdtable.h"
#include "core/pgroup.h"
#include "core/stdin.h"
#include "common/sys.h"

struct nl_proc nl_proc;

/* What `noleak status` (and what(1)) reads to tell an installed copy's
 * version. */
__attribute__((used)) static const char version_tag[] =
	"@(#)libnoleak " NL_VERSION;

static const struct nl_policy pass_through = { .mode = NL_MODE_OFF };

extern char **environ;
extern char *program_invocation_name;

const struct nl_policy *nl_policy_now(void)
{
	int s = atomic_load_explicit(&nl_proc.init_state, memory_order_acquire);
	if (__builtin_expect(s == 2, 1))
		return &nl_proc.pol;
	if (s == 0)
		nl_init();
	if (atomic_load_explicit(&nl_proc.init_state, memory_order_acquire) == 2)
		return &nl_proc.pol;
	return &pass_through;
}

int nl_in_foreign_child(void)
{
	return nl_sys_getpid() != nl_proc.pid;
}

/* Idempotent: the fork interposer and the atfork handler both call it. */
void nl_after_fork_child(void)
{
	pid_t self = nl_sys_getpid();
	if (nl_proc.pid == self)
		return;
	nl_proc.spawner = nl_proc.pid;
	nl_proc.spawner_pgid = nl_sys_getpgid(0);
	nl_proc.spawner_manages = atomic_load(&nl_proc.manages_groups);
	atomic_store(&nl_proc.manages_groups, 0);
	nl_proc.pid = self;
	nl_fd_after_fork();
	nl_event_after_fork();
	nl_pgroup_after_fork();
}

static void read_exe(void)
{
	ssize_t n = nl_sys_readlink("/proc/self/exe", nl_proc.exe,
				    sizeof nl_proc.exe - 1);
	nl_proc.exe[n > 0 ? n : 0] = '\0';
	nl_proc.exe_base = nl_basename(nl_proc.exe);
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

static long env_number(const char *name)
{
	const char *v = getenv(name);
	long n = 0;
	if (!v || !*v)
		return -1;
	for (; *v >= '0' && *v <= '9' && n < (1L << 30); v++)
		n = n * 10 + (*v - '0');
	return *v ? -1 : n;
}

/* The launcher execs the command in place: the command has its pid. */
static void read_launcher_mark(void)
{
	long pid = nl_proc.secure ? -1 : env_number("NOLEAK_LAUNCHED");
	nl_proc.launched_pid = pid > 0 ? (pid_t)pid : 0;
}

static void read_socket_activation(void)
{
	long n = env_number("LISTEN_FDS"), pid = env_number("LISTEN_PID");
	if (n > 0 && n < 65536 && pid > 0) {
		nl_proc.listen_n = (int)n;
		nl_proc.listen_pid = (pid_t)pid;
	}
}

void nl_init(void)
{
	int expected = 0;
	if (!atomic_compare_exchange_strong(&nl_proc.init_state, &expected, 1))
		return;
	int saved = errno;
	nl_proc.pid = nl_sys_getpid();
	nl_proc.secure = getauxval(AT_SECURE) != 0;
	read_exe();
	read_socket_activation();
	read_launcher_mark();
	nl_pgroup_init();
	struct nl_identity who = {
		.exe = nl_proc.exe,
		.execfn = (const char *)getauxval(AT_EXECFN),
		.argv0 = program_invocation_name,
	};
	nl_policy_load(&nl_proc.pol, &who, environ, nl_proc.secure);
	nl_proc.transparent = program_is_transparent(&nl_proc.pol, &who);
	/* The log path came from the environment unless secure: refuse to
	 * follow a symlink there, a classic way to aim a write elsewhere. */
	nl_event_configure(nl_proc.pol.log_kind, nl_proc.pol.log_path,
			   !nl_proc.secure, nl_proc.exe,
			   nl_mode_name(nl_proc.pol.mode));
	if (nl_proc.pol.mode != NL_MODE_OFF)
		nl_fd_snapshot_inherited();
	const struct nl_policy *p = &nl_proc.pol;
	nl_proc.reads_plain = p->mode == NL_MODE_OFF ||
			      (!p->read_warn && !p->read_timeout &&
			       p->stdin_mode != NL_STDIN_DETACH);
	atomic_store_explicit(&nl_proc.init_state, 2, memory_order_release);
	log_config_errors(&nl_proc.pol);
	nl_stdin_check_at_start();
	errno = saved;
}

/* No pthread_atfork(): it would allocate in every process.  Fork
 * children learn who they are in the fork interposer; a child forked
 * behind the shim's back (raw clone, _Fork) is taken for a vfork child,
 * which only costs it the marks it makes before its exec. */
__attribute__((constructor)) static void nl_constructor(void)
{
	nl_init();
}

__attribute__((destructor)) static void nl_destructor(void)
{
	nl_event_flush();
}
