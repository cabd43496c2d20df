/* A regrouped child answers its parent exactly as before: waitpid()
 * statuses, system() and pclose() results are those of the same daemon
 * without the shim. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"
#include "../../lib/pgroup_procs.h"

#define TIMEOUT 15.0

static struct run_result r;

static void init(void)
{
	cr_assert_eq(access(top("build/fixtures/pg_spawn"), X_OK), 0,
		     "build/fixtures/pg_spawn missing");
}

TestSuite(pgroup_wait_status, .init = init, .timeout = 30);

/* Prefixed to each script: where the shell runs. */
#define WHERE "echo \"sh pid=$$ pgid=$(cut -d' ' -f5 /proc/$$/stat)\"; "

/* The status pg_spawn -d VIA printed for `sh -c script`. */
static long status_of(const char *via, const char *script, int shim)
{
	int shell_line = !strcmp(via, "system") || !strcmp(via, "popen");
	char *argv[] = { (char *)top("build/fixtures/pg_spawn"), "-d", (char *)via,
			 shell_line ? (char *)script : "/bin/sh", "-c",
			 (char *)script, NULL };
	if (shell_line)
		argv[4] = NULL;
	cr_assert_eq(run(&r, argv, NULL, shim, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "pg_spawn %s timed out", via);
	cr_assert_eq(exit_code(&r), 0, "pg_spawn %s (shim=%d) exit %d:\n%s%s", via,
		     shim, exit_code(&r), r.out, r.err);
	long pid = pg_field(r.out, "sh", "pid"), pgid = pg_field(r.out, "sh", "pgid");
	cr_assert_gt(pid, 0, "%s", r.out);
	/* Under the shim the status comes from a regrouped child. */
	cr_assert_eq(pgid == pid, shim, "sh pid %ld pgid %ld (shim=%d)", pid, pgid,
		     shim);
	return pg_field(r.out, "status", "status");
}

static void same_status(const char *via, const char *script, long expected)
{
	long plain = status_of(via, script, 0);
	cr_assert_eq(plain, expected, "without the shim, %s of '%s' gave %ld",
		     via, script, plain);
	long shimmed = status_of(via, script, 1);
	cr_expect_eq(shimmed, plain, "%s of '%s': %ld under the shim, %ld without",
		     via, script, shimmed, plain);
}

static void statuses(const char *via)
{
	same_status(via, WHERE "exit 3", 3 << 8);
	same_status(via, WHERE "kill -TERM $$", 15);
	same_status(via, WHERE "exit 0", 0);
}

Test(pgroup_wait_status, fork_and_exec)
{
	statuses("fork");
}

Test(pgroup_wait_status, vfork_and_exec)
{
	statuses("vfork");
}

Test(pgroup_wait_status, posix_spawn)
{
	statuses("spawn");
}

Test(pgroup_wait_status, system)
{
	statuses("system");
}

Test(pgroup_wait_status, popen_and_pclose)
{
	statuses("popen");
}

/* A daemon's child whose group is not the shim's doing, against the same
 * program without the shim: one spawned with POSIX_SPAWN_SETPGROUP (a wait
 * for the daemon's own group took it, and the wait for it by pid then
 * failed with ECHILD), and one the shim moved out of a group the daemon
 * has left since (its kill(0) reached it, and so did its wait for its own
 * group).  One row per case. */
Test(pgroup_wait_status, a_child_outside_the_shims_groups_is_not_the_callers)
{
	static const char *const rows[] = { "setpgroup", "moved" };
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		static struct run_result plain, shim;
		int launched = !strcmp(rows[i], "moved");
		char *argv[] = { (char *)top("build/fixtures/pg_left"),
				 (char *)rows[i], NULL };
		char *nested_plain[] = { (char *)top("build/fixtures/pg_nest"),
					 argv[0], argv[1], NULL };
		char *nested[] = { nested_plain[0], (char *)top("build/noleak"),
				   "--", argv[0], argv[1], NULL };
		char *env[] = { "NOLEAK_MODE=enforce", NULL };
		cr_assert_eq(run(&plain, launched ? nested_plain : argv, NULL, 0,
				 15.0, NULL), 0);
		cr_assert_eq(exit_code(&plain), 0, "%s: %s%s", rows[i], plain.out,
			     plain.err);
		cr_assert_eq(run(&shim, launched ? nested : argv, env, !launched,
				 15.0, NULL), 0);
		cr_expect_str_eq(shim.out, plain.out, "%s: %swithout the shim:\n%s",
				 rows[i], shim.out, plain.out);
	}
}
