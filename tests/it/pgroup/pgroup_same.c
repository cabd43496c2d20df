/* Where the shim gives a daemon's children groups of their own, the waits,
 * moves and kills of the program and its children do what they do without
 * it: one row per program (build/fixtures/pg_same), its output with the
 * shim in enforce and in audit equal to its output without; then what
 * differs by design (a failed setsid()) and what only the log shows. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "../../lib/run.h"
#include "../../lib/pgroup_procs.h"

#define TIMEOUT 60.0

static struct run_result r;

TestSuite(pgroup_same, .fini = pg_cleanup, .timeout = 240);

static const struct {
	const char *mode;
	const char *wrong;   /* what the shim did before */
} rows[] = {
	{ "wait_shown", "in a child the shim had moved, waitpid(-getpgrp()) "
	  "and waitid(P_PGID, getpgrp()) failed with ECHILD, and "
	  "setpgid(0, getpgrp()) moved it out of its kids' group" },
	{ "wait_left", "a blocking waitpid(0) became a wait for any child: "
	  "it reaped the child that had left the group meanwhile" },
	{ "wait_placed", "a worker the daemon had put in a group of its own, "
	  "once exited, was taken for one the shim had moved: waitpid(0) "
	  "reaped it" },
	{ "nomem", "without memory for the marker, the child moved all the "
	  "same, unmarked: waitpid(0) failed with ECHILD" },
	{ "placed_exec", "a child forked just before the daemon's "
	  "setpgid(child, getpgrp()) moved itself at its exec" },
	{ "system_cancel", "the cancelled system() killed the shell's whole "
	  "group, the subshell with it" },
	{ "double_fork", "the child of a double fork's middle process, gone "
	  "by its exec, was moved all the same: its setsid() failed with "
	  "EPERM" },
};

static void run_mode(const char *mode, const char *env0, char *out, size_t cap)
{
	char *argv[] = { (char *)top("build/fixtures/pg_same"), (char *)mode, NULL };
	char *env[] = { (char *)env0, NULL };
	cr_assert_eq(run(&r, argv, env0 ? env : NULL, env0 != NULL, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "%s, %s: %s%s", mode,
		     env0 ? env0 : "without the shim", r.out, r.err);
	snprintf(out, cap, "%s", r.out);
}

Test(pgroup_same, as_without_the_shim)
{
	static char plain[sizeof r.out], with[sizeof r.out];
	static const char *const modes[] = { "NOLEAK_MODE=enforce",
					     "NOLEAK_MODE=audit" };
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		run_mode(rows[i].mode, NULL, plain, sizeof plain);
		for (size_t m = 0; m < 2; m++) {
			run_mode(rows[i].mode, modes[m], with, sizeof with);
			cr_expect_str_eq(with, plain, "row %s, %s (%s)\n",
					 rows[i].mode, modes[m], rows[i].wrong);
		}
	}
}

/* The shim made the child a group leader and its helper keeps that group
 * alive: the kernel refuses setsid() even in the group it came from.  The
 * failed call leaves the child where it was, with its helper (it moved to
 * the spawner's group, apart from its helper). */
Test(pgroup_same, a_failed_setsid_leaves_the_group_as_it_was)
{
	char out[sizeof r.out];
	run_mode("setsid_helper", NULL, out, sizeof out);
	cr_expect_str_eq(out, "setsid ok\n");
	run_mode("setsid_helper", "NOLEAK_MODE=enforce", out, sizeof out);
	cr_expect_str_eq(out, "setsid failed (Operation not permitted), "
		"with its helper=1\n");
}

/* Without memory for the marker, the move is undone and said so. */
Test(pgroup_same, an_exec_without_room_for_the_marker_is_logged)
{
	char log[4096], env[4200];
	snprintf(log, sizeof log, "%s/log", tmpdir());
	snprintf(env, sizeof env, "NOLEAK_LOG=%s", log);
	char *argv[] = { (char *)top("build/fixtures/pg_same"), "nomem", NULL };
	char *envs[] = { "NOLEAK_MODE=enforce", env, NULL };
	cr_assert_eq(run(&r, argv, envs, 1, TIMEOUT, NULL), 0);
	const char *text = slurp(log);
	cr_expect_eq(count_lines_with(text, "\"action\":\"untracked\""), 1, "%s", text);
	cr_expect_eq(count_lines_with(text, "\"target\":\"/bin/sleep\""), 1, "%s", text);
}
