/* Log rotation: a long-running program follows logrotate's rename-and-create
 * (and nocreate) within about a second, and looks the path up at most once a
 * second, never per event.  Fixture: found_log_rotate. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"

TestSuite(log_rotate, .timeout = 60);

static struct run_result r;

static void run_rotate(const char *mode, char log[PATH_MAX], char old[PATH_MAX])
{
	char env_log[PATH_MAX + 16];
	snprintf(log, PATH_MAX, "%s/events.jsonl", tmpdir());
	snprintf(old, PATH_MAX, "%s.1", log);
	snprintf(env_log, sizeof env_log, "NOLEAK_LOG=%s", log);
	char *env[] = { "NOLEAK_MODE=audit", env_log, NULL };
	char *argv[] = { (char *)top("build/fixtures/found_log_rotate"), (char *)mode,
			 log, NULL };
	cr_assert_eq(run(&r, argv, env, 1, 30, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "status %d\n%s%s", r.status, r.out, r.err);
}

Test(log_rotate, rename_and_create_is_followed)
{
	char log[PATH_MAX], old[PATH_MAX];
	run_rotate("create", log, old);
	const char *ev = "\"event\":\"sock_policy\"";
	/* Two events a round: the connect and the accept. */
	cr_expect_eq(count_lines_with(slurp(old), ev), 6, "%s", slurp(old));
	cr_expect_eq(count_lines_with(slurp(log), ev), 6,
		     "events after the rotation did not reach the new file: %s",
		     slurp(log));
}

Test(log_rotate, rename_without_create_makes_a_new_file)
{
	char log[PATH_MAX], old[PATH_MAX];
	run_rotate("nocreate", log, old);
	const char *ev = "\"event\":\"sock_policy\"";
	int in_old = count_lines_with(slurp(old), ev);
	int in_new = count_lines_with(slurp(log), ev);
	cr_expect_eq(in_old + in_new, 14, "old %d new %d", in_old, in_new);
	cr_expect_geq(in_new, 6, "the last events stayed in the renamed file");
	cr_expect_eq(access(log, F_OK), 0);
}

/* strace counts the lookups of the log path: about one a second however
 * many events there are. */
Test(log_rotate, the_path_is_looked_up_at_most_once_a_second)
{
	if (access("/usr/bin/strace", X_OK) != 0)
		cr_skip_test("strace is not installed");
	char log[PATH_MAX], trace[PATH_MAX + 8], env_log[PATH_MAX + 16];
	snprintf(log, sizeof log, "%s/events.jsonl", tmpdir());
	snprintf(trace, sizeof trace, "%s.trace", log);
	snprintf(env_log, sizeof env_log, "NOLEAK_LOG=%s", log);
	char *env[] = { "NOLEAK_MODE=audit", env_log, NULL };
	char *argv[] = { "/usr/bin/strace", "-f", "-qq", "-o", trace,
			 "-e", "trace=stat,lstat,newfstatat,statx",
			 "-E", "NOLEAK_MODE=audit", "-E", env_log,
			 "-E", (char *)"LD_PRELOAD=", (char *)top("build/fixtures/found_log_rotate"),
			 "burst", log, NULL };
	char preload[PATH_MAX + 16];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", shim_path());
	argv[12] = preload;
	cr_assert_eq(run(&r, argv, env, 0, 40, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "status %d\n%s%s", r.status, r.out, r.err);
	long n = 0;
	cr_assert_eq(sscanf(r.out, "events=%ld", &n), 1, "%s", r.out);
	int logged = count_lines_with(slurp(log), "\"event\":\"sock_policy\"");
	cr_assert_geq(logged, 20, "too few events to tell: %d", logged);
	/* Lookups by path (the open's own fstatat of the base name in its
	 * directory is not one: it names the file relative to a dirfd). */
	char quoted[PATH_MAX + 4];
	snprintf(quoted, sizeof quoted, "\"%s\"", log);
	int lookups = count_lines_with(slurp(trace), quoted);
	cr_expect_leq(lookups, 5, "%d lookups of the log path for %d events",
		      lookups, logged);
}

/* The children of a program that spawns, which share its memory, leave
 * the once-a-second look at the path to it: when they took that look (and
 * kept writing to the old file), the program never followed the rotation. */
Test(log_rotate, children_sharing_memory_leave_the_rotation_to_the_program)
{
	char log[PATH_MAX], old[PATH_MAX];
	run_rotate("spawns", log, old);
	const char *ev = "\"event\":\"sock_policy\"";
	cr_expect_eq(count_lines_with(slurp(old), ev), 6, "%s", slurp(old));
	cr_expect_eq(count_lines_with(slurp(log), ev), 6,
		     "the program's events after the rotation: %s", slurp(log));
}

/* daemon(3) forks inside glibc, where no interposer sees it: the daemon
 * has memory of its own, and its log is its own to count and rotate.  Its
 * dropped lines were lost when it was taken for a child sharing its
 * parent's memory; and its posix_spawn, with no real symbol looked up
 * before the fork, failed (ENOSYS) where glibc's succeeds.  The parent
 * _exit()s inside daemon(): what it dropped before is written first. */
Test(log_rotate, a_daemon_counts_its_own_lines_and_spawns)
{
	char log[PATH_MAX], old[PATH_MAX], spawned[PATH_MAX + 8];
	run_rotate("daemon", log, old);
	snprintf(spawned, sizeof spawned, "%s.spawn", log);
	/* The daemon outlives the program run() waited for. */
	/* the parent's suppressed line, then the daemon's at its exit */
	for (int i = 0; i < 100 && (!*slurp(spawned) ||
				   count_lines_with(slurp(log),
						    "\"suppressed\"") < 2); i++)
		usleep(50000);
	cr_expect_str_eq(slurp(spawned), "spawn=ok\n");
	const char *text = slurp(log);
	long lines = count_lines_with(text, "\"event\":\"sock_policy\"");
	long gone = sum_after(text, "\"dropped\":");
	cr_expect_eq(lines + gone, 600, "%ld lines and %ld dropped, want 600 "
		     "(a connect and an accept each):\n%s", lines, gone, text);
}
