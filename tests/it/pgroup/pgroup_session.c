/* Which session leaders regroup: one row per way a process comes to lead
 * a session, each run without the shim, in enforce and in audit, with the
 * sleeps its tree started left to count once the row has stopped it.
 *
 *  - A session leader its parent made (setsid(1) run by a live parent,
 *    `setsid -f`, Python's start_new_session, dumb-init) is stopped by a
 *    signal to its group: nothing may be left, as without the shim.
 *  - A daemon that made itself a session leader (its own setsid() or
 *    daemon()) regroups its children: its kill of a shell child ends the
 *    shell's children too (the feature; without the shim they live on).
 *    Its fork child leads no session and regroups nothing.
 *  - A systemd service's main process (INVOCATION_ID, parent PID 1, in a
 *    PID namespace of the test's own) regroups; a process of a service
 *    that its parent made a session leader does not.
 *
 * Each tree is two sleeps under a shell, which a row waits to see running
 * (exec'd, so moved if they were to be) before it signals. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/run.h"
#include "../../lib/pgroup_procs.h"

#define TIMEOUT 30.0

TestSuite(pgroup_session, .fini = pg_cleanup, .timeout = 120);

/* ready PID: until two children of PID run sleep (shell); the same in
 * Python (ready(pid)). */
#define SH_READY                                                              \
	"ready() { i=0; until [ \"$(pgrep -c -x sleep -P \"$1\")\" = 2 ]; do " \
	"i=$((i + 1)); [ $i -lt 400 ] || exit 9; sleep 0.05; done; }\n"
#define PY_READY                                                              \
	"import ctypes, os, signal, subprocess, sys, time\n"                  \
	"def ready(pid):\n"                                                   \
	"    for _ in range(400):\n"                                          \
	"        n = subprocess.run(['pgrep', '-c', '-x', 'sleep', '-P', "     \
	"str(pid)], capture_output=True, text=True).stdout.strip()\n"         \
	"        if n == '2': return\n"                                       \
	"        time.sleep(0.05)\n"                                          \
	"    sys.exit(9)\n"
#define TREE "sleep 30 & sleep 31 & wait"
/* A daemon: the first process waits until the daemon's end (EOF on a
 * pipe only the daemon holds; Python's pipes are close-on-exec). */
#define PY_DAEMON(become)                                                     \
	PY_READY                                                              \
	"r, w = os.pipe()\n"                                                  \
	"if os.fork():\n"                                                     \
	"    os.close(w)\n"                                                   \
	"    while os.read(r, 1): pass\n"                                     \
	"    os._exit(0)\n"                                                   \
	"os.close(r)\n" become "\n"                                           \
	"print('leader', os.getsid(0) == os.getpid(), flush=True)\n"
/* The daemon (or its fork child) starts a shell with two sleeps, says
 * whether the shell got a group of its own, and kills the shell. */
#define PY_KILL_SHELL                                                         \
	"p = subprocess.Popen(['sh', '-c', '" TREE "'])\n"                    \
	"ready(p.pid)\n"                                                      \
	"print('regrouped', os.getpgid(p.pid) == p.pid, flush=True)\n"        \
	"p.terminate(); p.wait()\n"

struct row {
	const char *name;
	const char *needs;        /* a program the row runs, or NULL */
	const char *sh;           /* the row, a `sh -c` command line */
	int left[3];              /* sleeps left: off, enforce, audit */
	const char *out[3];       /* its output: off, enforce, audit */
};

static const struct row rows[] = {
	/* Parent-made session leaders, stopped through their group. */
	{ "setsid_1", "/usr/bin/setsid",
	  SH_READY "setsid sh -c '" TREE "' & p=$!\n"
	  "ready $p; kill -TERM -$p; wait $p; echo status $?\n",
	  { 0, 0, 0 }, { "status 143\n", "status 143\n", "status 143\n" } },
	{ "setsid_f", "/usr/bin/setsid",
	  SH_READY "d=$(mktemp -d)\n"
	  "setsid -f sh -c 'echo $$ >'\"$d/pid; " TREE "\"\n"
	  "until [ -s \"$d/pid\" ]; do sleep 0.05; done; p=$(cat \"$d/pid\")\n"
	  "ready $p; kill -TERM -$p; rm -r \"$d\"; echo signalled\n",
	  { 0, 0, 0 }, { "signalled\n", "signalled\n", "signalled\n" } },
	{ "python_start_new_session", "/usr/bin/python3",
	  "exec python3 -c \"$0\"",
	  { 0, 0, 0 }, { "exit -15\n", "exit -15\n", "exit -15\n" } },
	{ "python_start_new_session_in_a_service", "/usr/bin/python3",
	  "INVOCATION_ID=0123 exec python3 -c \"$0\"",
	  { 0, 0, 0 }, { "exit -15\n", "exit -15\n", "exit -15\n" } },
	{ "dumb_init", "/usr/bin/dumb-init",
	  SH_READY "dumb-init sh -c '" TREE "' & p=$!\n"
	  "until c=$(pgrep -P $p); do sleep 0.05; done\n"
	  "ready $c; kill -TERM $p; wait $p; echo status $?\n",
	  { 0, 0, 0 }, { "status 143\n", "status 143\n", "status 143\n" } },

	/* Session leaders of their own making: the feature. */
	{ "daemon_setsid", "/usr/bin/python3",
	  "exec python3 -c \"$0\"",
	  { 2, 0, 2 },
	  { "leader True\nregrouped False\n", "leader True\nregrouped True\n",
	    "leader True\nregrouped False\n" } },
	{ "daemon_3", "/usr/bin/python3",
	  "exec python3 -c \"$0\"",
	  { 2, 0, 2 },
	  { "leader True\nregrouped False\n", "leader True\nregrouped True\n",
	    "leader True\nregrouped False\n" } },
	{ "fork_child_of_a_daemon", "/usr/bin/python3",
	  "exec python3 -c \"$0\"",
	  { 2, 2, 2 },
	  { "leader True\nregrouped False\n", "leader True\nregrouped False\n",
	    "leader True\nregrouped False\n" } },

	/* systemd services, in a PID namespace whose PID 1 (a shell) stands
	 * for systemd.  Its end kills what is left in it: the row counts the
	 * sleeps left itself. */
	{ "service_main", "/usr/bin/unshare",
	  "exec unshare -pf --mount-proc sh -c "
	  "'INVOCATION_ID=0123 setsid -w python3 -c \"$0\"; exit $?' \"$0\"",
	  { 0, 0, 0 },
	  { "leader True\nregrouped False\nleft 2\n",
	    "leader True\nregrouped True\nleft 0\n",
	    "leader True\nregrouped False\nleft 2\n" } },
	{ "service_descendant", "/usr/bin/unshare",
	  "exec unshare -pf --mount-proc sh -c "
	  "'INVOCATION_ID=0123 SYSTEMD_EXEC_PID=1 setsid -w python3 -c "
	  "\"$0\"; exit $?' \"$0\"",
	  { 0, 0, 0 },
	  { "leader True\nregrouped False\nleft 2\n",
	    "leader True\nregrouped False\nleft 2\n",
	    "leader True\nregrouped False\nleft 2\n" } },
};

/* The Python program a row runs as "$0", "" for none. */
static const char *python_of(const char *name)
{
	if (!strcmp(name, "python_start_new_session") ||
	    !strcmp(name, "python_start_new_session_in_a_service"))
		return PY_READY
			"p = subprocess.Popen('sleep 30 | sleep 31', shell=True, "
			"start_new_session=True)\n"
			"ready(p.pid)\n"
			"os.killpg(os.getpgid(p.pid), signal.SIGTERM)\n"
			"p.wait()\n"
			"print('exit', p.returncode)\n";
	if (!strcmp(name, "daemon_setsid"))
		return PY_DAEMON("os.setsid()") PY_KILL_SHELL;
	if (!strcmp(name, "daemon_3"))
		return PY_DAEMON("ctypes.CDLL(None).daemon(1, 1)") PY_KILL_SHELL;
	if (!strcmp(name, "fork_child_of_a_daemon"))
		return PY_DAEMON("os.setsid()")
			"if os.fork(): os.wait(); os._exit(0)\n" PY_KILL_SHELL;
	if (!strcmp(name, "service_main") || !strcmp(name, "service_descendant"))
		return PY_READY
			"print('leader', os.getsid(0) == os.getpid(), flush=True)\n"
			PY_KILL_SHELL
			"for _ in range(100):\n"
			"    n = subprocess.run(['pgrep', '-c', '-x', 'sleep'], "
			"capture_output=True, text=True).stdout.strip()\n"
			"    if n == '0': break\n"
			"    time.sleep(0.05)\n"
			"print('left', n)\n";
	return "";
}

/* The marked processes left, once they are down to `want` (or 10 s). */
static int left_after(const char *mark, int want)
{
	struct timespec t = { 0, 20 * 1000 * 1000 };
	int n = pg_count_marked(mark);
	for (int i = 0; n > want && i < 500; i++) {
		nanosleep(&t, NULL);
		n = pg_count_marked(mark);
	}
	return n;
}

static void run_row(const struct row *w)
{
	static const char *const sides[] = { "off", "enforce", "audit" };
	static struct run_result r;
	if (w->needs && access(w->needs, X_OK)) {
		/* tests/deps.sh installs it: missing, the row proves nothing
		 * (a warning would pass it and fail the run unexplained). */
		cr_assert_fail("%s: %s is not installed (tests/deps.sh)",
			       w->name, w->needs);
	}
	const char *mark = pg_mark(w->name);
	for (int s = 0; s < 3; s++) {
		char mode[32];
		snprintf(mode, sizeof mode, "NOLEAK_MODE=%s", sides[s]);
		char *env[] = { (char *)pg_mark_env(mark), mode, NULL };
		char *argv[] = { "sh", "-c", (char *)w->sh,
				 (char *)python_of(w->name), NULL };
		cr_assert_eq(run(&r, argv, env, s > 0, TIMEOUT, NULL), 0);
		cr_expect(!r.timed_out && exit_code(&r) == 0,
			  "%s, %s: status %d\n%s%s", w->name, sides[s], r.status,
			  r.out, r.err);
		cr_expect_str_eq(r.out, w->out[s], "%s, %s:\n%s", w->name,
				 sides[s], r.err);
		int left = left_after(mark, w->left[s]);
		cr_expect_eq(left, w->left[s], "%s, %s: %d sleeps left, want %d\n%s",
			     w->name, sides[s], left, w->left[s],
			     pg_describe_marked(mark));
		pg_kill_marked(mark);
	}
}

static const struct row *row(const char *name)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		if (!strcmp(rows[i].name, name))
			return &rows[i];
	cr_assert_fail("no row %s", name);
	return NULL;
}

#define ROW(name) \
	Test(pgroup_session, name) { run_row(row(#name)); }

ROW(setsid_1)
ROW(setsid_f)
ROW(python_start_new_session)
ROW(python_start_new_session_in_a_service)
ROW(dumb_init)
ROW(daemon_setsid)
ROW(daemon_3)
ROW(fork_child_of_a_daemon)
ROW(service_main)
ROW(service_descendant)
