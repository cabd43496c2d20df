/* The process-group decisions (shim/core/pgroup.c) that need no children:
 * how a child was started (its marker's origin), the marker's text, which
 * spawners regroup, and what posix_spawn gets.  What happens to real
 * process trees is tested in tests/it/pgroup/. */
#include <criterion/criterion.h>

#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/state.h"
#include "core/pgroup.h"
#include "log/event.h"

static void with_policy(enum nl_mode mode, enum nl_pgroup pgroup)
{
	nl_policy_defaults(&nl_proc.pol);
	nl_proc.pol.mode = mode;
	nl_proc.pol.pgroup = pgroup;
	nl_proc.pid = getpid();
	atomic_store(&nl_proc.init_state, NL_INIT_DONE);
}

static void enforce(void)
{
	with_policy(NL_MODE_ENFORCE, NL_PGROUP_AUTO);
}

static void back_to_off(void)
{
	atomic_store(&nl_proc.init_state, NL_INIT_NONE);
}

TestSuite(pgroup, .init = enforce, .fini = back_to_off);

/* One row per way of starting a child. */
static const struct {
	const char *via, *path, *argv[5];
	char origin;
} origins[] = {
	{ "system", "/bin/sh", { "sh", "-c", "x" }, NL_ORIGIN_SYSTEM },
	{ "popen", "/bin/sh", { "sh", "-c", "x" }, NL_ORIGIN_SYSTEM },
	{ "execve", "/bin/sh", { "sh", "-c", "x" }, NL_ORIGIN_SHELL_C },
	{ "execve", "/bin/bash", { "bash", "-ec", "x" }, NL_ORIGIN_SHELL_C },
	{ "execve", "/bin/sh", { "sh", "-e", "-c", "x" }, NL_ORIGIN_SHELL_C },
	{ "posix_spawn", "/usr/bin/dash", { "dash", "-xc", "x" },
	  NL_ORIGIN_SHELL_C },
	{ "execve", "/bin/sh", { "sh", "script.sh" }, NL_ORIGIN_PROGRAM },
	{ "execve", "/bin/sh", { "sh", "script.sh", "-c" }, NL_ORIGIN_PROGRAM },
	{ "execve", "/bin/sh", { "sh", "--", "-c" }, NL_ORIGIN_PROGRAM },
	{ "execve", "/usr/bin/python3", { "python3", "-c", "x" },
	  NL_ORIGIN_PROGRAM },
	{ "execve", "/usr/bin/env", { "env", "sh", "-c", "x" },
	  NL_ORIGIN_PROGRAM },
	{ "execve", "/bin/sh", { NULL }, NL_ORIGIN_PROGRAM },
};

Test(pgroup, the_origin_of_each_way_of_starting_a_child)
{
	for (size_t i = 0; i < sizeof origins / sizeof *origins; i++) {
		char o = nl_pgroup_origin(origins[i].via, origins[i].path,
					  (char *const *)origins[i].argv);
		cr_expect_eq(o, origins[i].origin, "row %zu (%s %s): got %c", i,
			     origins[i].via, origins[i].argv[0] ?
			     origins[i].argv[0] : "(no argv)", o);
	}
}

Test(pgroup, the_marker_holds_the_largest_numbers)
{
	char buf[NL_PGROUP_MARKER_MAX];
	nl_pgroup_format_marker(buf, INT_MAX, INT_MAX, INT_MAX,
				NL_ORIGIN_SHELL_C, NL_MOVE_DUE);
	char want[NL_PGROUP_MARKER_MAX];
	snprintf(want, sizeof want, "%s=%d:%d:%d:c:m", NL_PGROUP_FROM_ENV,
		 INT_MAX, INT_MAX, INT_MAX);
	cr_expect_str_eq(buf, want);
	nl_pgroup_format_marker(buf, 12, 34, 56, NL_ORIGIN_PROGRAM,
				NL_MOVE_AUDIT);
	cr_expect_str_eq(buf, NL_PGROUP_FROM_ENV "=12:34:56:p:a");
}

/* This test process as a session leader without a terminal, of its own
 * making (what the setsid() interposer notes): the one kind of spawner,
 * with the launched process and a systemd service's, whose children can be
 * regrouped. */
static void lead_a_session(void)
{
	if (getsid(0) != getpid())
		cr_assert_neq(setsid(), -1, "setsid: %m");
	nl_pgroup_started_session();
}

Test(pgroup, who_regroups)
{
	if (getsid(0) != getpid())
		cr_assert_neq(setsid(), -1, "setsid: %m");
	pid_t me = getpid();
	cr_expect_eq(nl_pgroup_regroups(me, 0), 0,
		     "a session leader whose setsid() the shim did not see");
	lead_a_session();
	cr_expect_eq(nl_pgroup_regroups(me, 0), 1,
		     "a session leader without a terminal");
	cr_expect_eq(nl_pgroup_regroups(me, 1), 0,
		     "a spawner that manages groups itself");
	cr_expect_eq(nl_pgroup_regroups(me + 1, 0), 0,
		     "a process that leads no session");
	with_policy(NL_MODE_ENFORCE, NL_PGROUP_NEVER);
	cr_expect_eq(nl_pgroup_regroups(me, 0), 0, "pgroup=never");
	with_policy(NL_MODE_OFF, NL_PGROUP_ALWAYS);
	cr_expect_eq(nl_pgroup_regroups(me, 0), 0, "mode=off");
	with_policy(NL_MODE_AUDIT, NL_PGROUP_ALWAYS);
	cr_expect_eq(nl_pgroup_regroups(me, 0), 1, "audit decides the same");
}

Test(pgroup, posix_spawn_gets_a_group_unless_the_caller_chose_one)
{
	lead_a_session();
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	cr_expect_eq(nl_pgroup_for_spawn(NULL), NL_MOVE_DUE);
	cr_expect_eq(nl_pgroup_for_spawn(&at), NL_MOVE_DUE);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	cr_expect_eq(nl_pgroup_for_spawn(&at), 0, "the caller chose a group");
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID);
	cr_expect_eq(nl_pgroup_for_spawn(&at), 0, "the caller chose a session");
	posix_spawnattr_setflags(&at, 0);
	with_policy(NL_MODE_AUDIT, NL_PGROUP_AUTO);
	cr_expect_eq(nl_pgroup_for_spawn(&at), 0,
		     "audit without a log: no marker (nothing to log)");
	nl_event_configure(NL_LOG_FILE, "/nonexistent/noleak-unit.log", NULL,
			   "audit");
	cr_expect_eq(nl_pgroup_for_spawn(&at), NL_MOVE_AUDIT,
		     "audit: a marker whose move is only logged");
	nl_event_configure(NL_LOG_NONE, NULL, NULL, "audit");
	posix_spawnattr_destroy(&at);
}

/* The move a marker makes due is made by the process whose pid is its
 * token, at its first child (nl_pgroup_before_child), once; not by a
 * descendant carrying it on, not when the spawner audited, not once the
 * program moved itself.  Each row starts from this test process's group
 * (a fork of it, which is its own group's member) with a marker naming
 * its parent as spawner. */
static const struct {
	int token_is_mine;
	char move;
	int moves_self_first;
	int moved;
} dues[] = {
	{ 1, NL_MOVE_DUE, 0, 1 },
	{ 0, NL_MOVE_DUE, 0, 0 },     /* a descendant's marker */
	{ 1, NL_MOVE_AUDIT, 0, 0 },   /* the spawner audits */
	{ 1, 0, 0, 0 },               /* a marker without a move */
	{ 1, NL_MOVE_DUE, 1, 0 },     /* its own setpgid(0, 0) cancels it */
};

Test(pgroup, the_due_move_is_made_by_the_marked_process_at_its_first_child)
{
	for (size_t i = 0; i < sizeof dues / sizeof *dues; i++) {
		fflush(NULL);
		pid_t c = fork();
		cr_assert_geq(c, 0);
		if (c == 0) {
			/* pgroup=always: whatever terminal the test runs on. */
			with_policy(NL_MODE_ENFORCE, NL_PGROUP_ALWAYS);
			char entry[NL_PGROUP_MARKER_MAX + 8];
			pid_t me = getpid(), from = getpgrp();
			int n = snprintf(entry, sizeof entry,
					 "NOLEAK_PGROUP_FROM=%d:%d:%d:p",
					 (int)getppid(), (int)from,
					 (int)(dues[i].token_is_mine ? me : me + 1));
			if (dues[i].move)
				snprintf(entry + n, sizeof entry - n, ":%c",
					 dues[i].move);
			char *envp[] = { entry, NULL };
			nl_pgroup_init(envp, 1);
			if (dues[i].moves_self_first) {
				setpgid(0, 0);
				nl_pgroup_moved_self();
				setpgid(0, from);
			}
			nl_pgroup_before_child();
			int first = getpgrp() == me;
			if (first)
				setpgid(0, from);   /* once: not again */
			nl_pgroup_before_child();
			_exit(first == dues[i].moved && getpgrp() == from ? 0 : 1);
		}
		int st;
		cr_assert_eq(waitpid(c, &st, 0), c);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "row %zu", i);
	}
}

/* The marker is the shim's, not the program's: taken out of the start-up
 * environment in place (every entry), the first one kept for the execs,
 * as ld.so does with LD_PRELOAD in a secure process. */
Test(pgroup, the_marker_is_taken_out_of_the_environment)
{
	char *envp[] = { "HOME=/h", "NOLEAK_PGROUP_FROM=12:34:56:p",
			 "LD_PRELOAD=/lib/libnoleak.so", "NOLEAK_PGROUP_FROM=7:7:7:s",
			 "NOLEAK_PGROUP_FROMAGE=1", NULL };
	nl_pgroup_init(envp, 1);
	cr_assert_str_eq(envp[0], "HOME=/h");
	cr_assert_str_eq(envp[1], "LD_PRELOAD=/lib/libnoleak.so");
	cr_assert_str_eq(envp[2], "NOLEAK_PGROUP_FROMAGE=1");
	cr_assert_null(envp[3]);
	char *a[] = { "A=1", "LD_PRELOAD=/lib/libnoleak.so", NULL };
	cr_expect_str_eq(nl_pgroup_marker_to_pass(a),
			 "NOLEAK_PGROUP_FROM=12:34:56:p");
	/* Mode off leaves the environment as it came. */
	char *off[] = { "NOLEAK_PGROUP_FROM=1:2:3:p", NULL };
	nl_pgroup_init(off, 0);
	cr_expect_str_eq(off[0], "NOLEAK_PGROUP_FROM=1:2:3:p");
}

/* Which environment of an exec gets the marker the process started with:
 * one row per kind of environment. */
static char *with_preload[] = { "A=1", "LD_PRELOAD=/lib/libnoleak.so", NULL };
static char *without_preload[] = { "A=1", NULL };
static char *empty_preload[] = { "A=1", "LD_PRELOAD=", NULL };
static char *other_preload[] = { "A=1", "LD_PRELOAD=/lib/libother.so", NULL };
static char *among_preloads[] = { "LD_PRELOAD=/a.so:$LIB/libnoleak.so b.so",
				  NULL };
static char *empty_env[] = { NULL };
static char *own_marker[] = { "LD_PRELOAD=/x.so", "NOLEAK_PGROUP_FROM=1:1:1:p",
			      NULL };
static const struct {
	int started_preloaded;
	char **envp;
	int passed;
} passes[] = {
	{ 1, with_preload, 1 },
	{ 1, without_preload, 0 },   /* the program would not load the shim */
	{ 1, empty_preload, 0 },     /* nor with LD_PRELOAD= */
	{ 1, other_preload, 0 },     /* nor with another library's */
	{ 1, among_preloads, 1 },    /* one entry of several, through $LIB */
	{ 0, without_preload, 1 },   /* /etc/ld.so.preload loads it anyway */
	{ 0, empty_preload, 1 },
	{ 2, without_preload, 1 },   /* started with another library's only:
					the shim came by /etc/ld.so.preload */
	{ 1, empty_env, 0 },         /* env -i: stays empty */
	{ 0, empty_env, 0 },
	{ 1, NULL, 0 },
	{ 1, own_marker, 0 },        /* has one: left as it is */
};

Test(pgroup, which_environments_carry_the_marker_on)
{
	for (size_t i = 0; i < sizeof passes / sizeof *passes; i++) {
		char *start[] = { "NOLEAK_PGROUP_FROM=12:34:56:c",
				  passes[i].started_preloaded == 1
					  ? "LD_PRELOAD=/usr/lib/libnoleak.so"
				  : passes[i].started_preloaded == 2
					  ? "LD_PRELOAD=/usr/lib/libother.so"
					  : "B=2",
				  NULL };
		nl_pgroup_init(start, 1);
		const char *m = nl_pgroup_marker_to_pass(passes[i].envp);
		if (passes[i].passed)
			cr_expect_str_eq(m ? m : "(none)",
					 "NOLEAK_PGROUP_FROM=12:34:56:c", "row %zu", i);
		else
			cr_expect_null(m, "row %zu: %s", i, m);
	}
}

Test(pgroup, an_environment_with_the_marker_in_place_of_any_other)
{
	char *out[4];
	char *const *env = nl_pgroup_env_with_marker(out, own_marker,
						     "NOLEAK_PGROUP_FROM=2:2:2:p");
	cr_expect_str_eq(env[0], "LD_PRELOAD=/x.so");
	cr_expect_str_eq(env[1], "NOLEAK_PGROUP_FROM=2:2:2:p");
	cr_expect_null(env[2]);
}
