/* The killed-shell incident: a daemon listening on a loopback port runs
 * `sh -c 'sleep 60 & sleep 60'` and kills the shell.  Without the shim the
 * sleeps live on and keep the port; under it, killing the shell kills its
 * whole tree, through every way of starting it (fork+exec, posix_spawn,
 * system, popen), and a fresh process can bind the port at once. */
#include <criterion/criterion.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"
#include "../../lib/pgroup_procs.h"

#define TIMEOUT 15.0

static struct run_result r;

static void init(void)
{
	cr_assert_eq(access(top("build/fixtures/pg_tree"), X_OK), 0,
		     "build/fixtures/pg_tree missing");
}

TestSuite(pgroup_killed_shell, .init = init, .fini = pg_cleanup, .timeout = 30);

/* pg_tree VIA child MARK 2 from a daemon; returns the port it listened on. */
static int kill_the_shell(const char *via, const char *mark, int shim,
			  const char *log)
{
	char log_env[PATH_MAX + 16];
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log ? log : "");
	char *argv[] = { (char *)top("build/fixtures/pg_tree"), (char *)via,
			 "child", (char *)mark, "2", NULL };
	char *env[] = { log_env, NULL };
	cr_assert_eq(run(&r, argv, env, shim, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "pg_tree %s timed out:\n%s%s", via, r.out, r.err);
	cr_assert_eq(exit_code(&r), 0, "pg_tree %s (shim=%d) exit %d:\n%s%s", via,
		     shim, exit_code(&r), r.out, r.err);
	cr_assert_eq(pg_field(r.out, "tree", "tree"), 2,
		     "the two sleeps never ran:\n%s", r.out);
	cr_assert_eq(pg_field(r.out, "tree", "preloaded"), shim ? 2 : 0, "%s", r.out);
	/* The shell itself died of the SIGTERM, with or without the shim. */
	cr_assert_eq(pg_field(r.out, "status", "status"), 15, "%s", r.out);
	int port = (int)pg_field(r.out, "port", "port");
	cr_assert_gt(port, 0, "%s", r.out);
	return port;
}

static void incident(const char *via)
{
	const char *plain = pg_mark(via);
	int port = kill_the_shell(via, plain, 0, NULL);
	usleep(1000 * 1000);
	cr_assert_eq(pg_count_marked(plain), 2,
		     "without the shim the backgrounded sleeps should survive the "
		     "shell (the incident)");
	cr_assert_eq(pg_bind_port(port), EADDRINUSE,
		     "without the shim the sleeps should hold port %d", port);
	pg_kill_marked(plain);

	const char *mark = pg_mark(via);
	port = kill_the_shell(via, mark, 1, NULL);
	cr_expect_eq(pg_wait_unmarked(mark, PG_DIES_WITHIN), 0,
		     "under the shim, part of the killed shell's tree (%s) is "
		     "still alive 1 s later", via);
	cr_expect_eq(pg_bind_port(port), 0, "port %d still held: %s", port,
		     strerror(pg_bind_port(port)));
}

Test(pgroup_killed_shell, started_with_fork_and_exec)
{
	incident("fork");
}

Test(pgroup_killed_shell, started_with_posix_spawn)
{
	incident("spawn");
}

/* system() gives no pid: the daemon kills the shell it finds in /proc. */
Test(pgroup_killed_shell, started_with_system)
{
	incident("system");
}

Test(pgroup_killed_shell, started_with_popen)
{
	incident("popen");
}

Test(pgroup_killed_shell, escalation_is_logged)
{
	char log[PATH_MAX];
	snprintf(log, sizeof log, "%s/events.log", tmpdir());
	kill_the_shell("fork", pg_mark("logged"), 1, log);
	char want[64];
	snprintf(want, sizeof want, "\"child\":%ld,\"signal\":15",
		 pg_field(r.out, "shell", "shell"));
	const char *text = slurp(log);
	cr_expect_eq(count_lines_with(text, "\"event\":\"kill_escalated\""), 1,
		     "%s", text);
	cr_expect(strstr(text, "\"action\":\"escalated\""), "%s", text);
	cr_expect(strstr(text, want), "want %s in:\n%s", want, text);
}
