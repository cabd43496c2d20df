/* A regrouped child exits and leaves members of its group behind.  When
 * its parent reaps it, orphans=log names each of them and the parent's
 * pipes they hold; orphans=kill ends them (SIGTERM, then SIGKILL 2 s
 * later); orphans=keep leaves them.  A grandchild that detached with
 * setsid() is never touched. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"
#include "../../lib/pgroup_procs.h"

#define TIMEOUT 20.0

static struct run_result r;
static char log_path[PATH_MAX], log_env[PATH_MAX + 16];

static void init(void)
{
	cr_assert_eq(access(top("build/fixtures/pg_orphans"), X_OK), 0,
		     "build/fixtures/pg_orphans missing");
	snprintf(log_path, sizeof log_path, "%s/events.log", tmpdir());
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log_path);
}

TestSuite(pgroup_orphans, .init = init, .fini = pg_cleanup, .timeout = 30);

static void orphans_reaped(const char *policy, const char *pipes,
			   const char *reap)
{
	char orphans_env[64];
	snprintf(orphans_env, sizeof orphans_env, "NOLEAK_ORPHANS=%s", policy);
	char *argv[] = { (char *)top("build/fixtures/pg_orphans"),
			 (char *)pg_mark(policy), (char *)pipes, NULL };
	char *env[] = { log_env, orphans_env, (char *)reap, NULL };
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "%s", r.out);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	cr_assert_eq(pg_field(r.out, "reaped", "status"), 0, "%s", r.out);
}

static void orphans_after(const char *policy, const char *pipes)
{
	orphans_reaped(policy, pipes, NULL);
}

static void orphans(const char *policy)
{
	orphans_after(policy, NULL);
}

/* Lines of text whose "holds_fds" list has fd. */
static int holding(const char *text, long fd)
{
	const char *key = "\"holds_fds\":\"";
	int n = 0;
	for (const char *p = strstr(text, key); p; p = strstr(p, key)) {
		p += strlen(key);
		while (*p >= '0' && *p <= '9') {
			char *end;
			if (strtol(p, &end, 10) == fd)
				n++;
			p = *end == ',' ? end + 1 : end;
		}
	}
	return n;
}

/* The orphans events of the log: the stubborn and the plain grandchild,
 * never the detached one. */
static void expect_orphan_events(const char *action)
{
	const char *log = slurp(log_path);
	char want[128];
	cr_expect_eq(count_lines_with(log, "\"event\":\"orphans\""), 2, "%s", log);
	snprintf(want, sizeof want, "\"action\":\"%s\"", action);
	cr_expect_eq(count_lines_with(log, want), 2, "want %s in:\n%s", want, log);
	const char *who[] = { "stubborn", "plain" };
	for (int i = 0; i < 2; i++) {
		snprintf(want, sizeof want, "\"orphan\":%ld,",
			 pg_field(r.out, "detached", who[i]));
		cr_expect_eq(count_lines_with(log, want), 1, "no %s orphan %s in:\n%s",
			     who[i], want, log);
	}
	snprintf(want, sizeof want, "\"orphan\":%ld,",
		 pg_field(r.out, "detached", "detached"));
	cr_expect_eq(count_lines_with(log, want), 0,
		     "the detached daemon was taken for an orphan:\n%s", log);
	cr_expect_eq(count_lines_with(log, "/sleep\",\"holds_fds\""), 2,
		     "%s", log);
	/* Their stdout is the pipe the parent reads the child from. */
	long fd = pg_field(r.out, "pipe_fd", "pipe_fd");
	cr_expect_eq(holding(log, fd), 2, "want fd %ld in holds_fds:\n%s", fd, log);
}

Test(pgroup_orphans, kill_spares_the_detached_daemon)
{
	orphans("kill");
	cr_expect(strstr(r.out, "early detached=alive stubborn=alive plain=dead\n"),
		  "SIGTERM at the reap should end the plain grandchild only:\n%s",
		  r.out);
	cr_expect(strstr(r.out, "late detached=alive stubborn=dead plain=dead\n"),
		  "SIGKILL 2 s later should end the stubborn one, and the detached "
		  "daemon should live:\n%s", r.out);
	expect_orphan_events("killed");
}

/* A child reaped by waitid() with a NULL siginfo (the kernel takes it):
 * its orphans were not looked for. */
Test(pgroup_orphans, a_reap_by_waitid_without_siginfo_is_seen)
{
	orphans_reaped("kill", NULL, "PG_REAP_BY_WAITID=1");
	cr_expect(strstr(r.out, "early detached=alive stubborn=alive plain=dead\n"),
		  "SIGTERM at the reap should end the plain grandchild only:\n%s",
		  r.out);
	expect_orphan_events("killed");
}

Test(pgroup_orphans, log_names_them_and_the_pipes_they_hold)
{
	orphans("log");
	cr_expect(strstr(r.out, "late detached=alive stubborn=alive plain=alive\n"),
		  "orphans=log killed something:\n%s", r.out);
	expect_orphan_events("logged");
}

/* No limit on our pipes and sockets looked at: the pipe the orphans hold
 * is named after 600 other pipe ends. */
Test(pgroup_orphans, the_held_pipe_is_named_among_many)
{
	orphans_after("log", "300");
	long fd = pg_field(r.out, "pipe_fd", "pipe_fd");
	cr_assert_gt(fd, 600, "%s", r.out);
	expect_orphan_events("logged");
}

Test(pgroup_orphans, keep_does_nothing)
{
	orphans("keep");
	cr_expect(strstr(r.out, "late detached=alive stubborn=alive plain=alive\n"),
		  "orphans=keep killed something:\n%s", r.out);
	const char *log = slurp(log_path);
	cr_expect_eq(count_lines_with(log, "\"event\":\"orphans\""), 0, "%s", log);
}
