/* Where the shim gives a daemon's children groups of their own, what the
 * program and its children can see stays as without it: one row per
 * program (build/fixtures/pg_diff), its output with the shim in enforce
 * and in audit equal to its output without. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "../../lib/run.h"
#include "../../lib/pgroup_procs.h"

#define TIMEOUT 60.0

static struct run_result r;

TestSuite(pgroup_diff, .fini = pg_cleanup, .timeout = 120);

static void same_as_without(const char *mode)
{
	char *argv[] = { (char *)top("build/fixtures/pg_diff"), (char *)mode, NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "%s without the shim: %s%s", mode, r.out, r.err);
	char plain[sizeof r.out];
	snprintf(plain, sizeof plain, "%s", r.out);
	static const char *const modes[] = { "NOLEAK_MODE=enforce", "NOLEAK_MODE=audit" };
	for (size_t i = 0; i < 2; i++) {
		char *env[] = { (char *)modes[i], NULL };
		cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
		cr_expect_eq(exit_code(&r), 0, "%s, %s: %s", mode, modes[i], r.err);
		cr_expect_str_eq(r.out, plain, "%s, %s", mode, modes[i]);
	}
}

/* The marker went into an environment the program emptied, or one
 * without LD_PRELOAD (a program that does not load the shim saw it). */
Test(pgroup_diff, a_child_s_environment_gets_no_marker_it_could_see)
{
	same_as_without("envmark");
}

/* A child that made itself a group leader got a new session where glibc
 * says EPERM (and errno EPERM with it). */
Test(pgroup_diff, setsid_after_the_child_s_own_setpgid_fails)
{
	same_as_without("setsid_own");
}

/* A child handed the terminal by its spawn's tcsetpgrp action was then
 * moved out of the foreground group. */
Test(pgroup_diff, a_spawn_that_hands_the_terminal_keeps_the_child_in_it)
{
	same_as_without("tcsetpgrp");
}

/* The marker took room an argv as large as the kernel takes needed:
 * E2BIG where glibc's exec runs. */
Test(pgroup_diff, the_marker_never_makes_an_exec_too_big)
{
	same_as_without("e2big");
}

/* A wait for the caller's own group did not see the children the shim
 * had moved: ECHILD, or a wait that never ended. */
Test(pgroup_diff, a_wait_for_the_own_group_reaps_the_moved_children)
{
	same_as_without("wait0");
}

/* A wait for the own group right after posix_spawn: the child the shim
 * had moved was not yet known by its marker (the kernel lets the
 * spawner go on before the exec's environment is in place): ECHILD. */
Test(pgroup_diff, a_wait_right_after_a_spawn_reaps_the_child)
{
	same_as_without("wait0_loop");
}

/* The same for a child that makes a child of its own at once: the wait
 * looked at the child while its exec had not yet put its environment in
 * place, did not take it for one that may move, and never ended once the
 * child had moved and exited. */
Test(pgroup_diff, a_wait_right_after_a_spawn_reaps_a_child_that_forks)
{
	same_as_without("wait0_loop_job");
}

/* A marked child that left its first fork() by a siglongjmp() from a
 * signal handler (a fork with a deadline) left the move to a group of its
 * own unfinished, and a second thread's fork waited for it forever. */
Test(pgroup_diff, a_move_left_by_a_longjmp_hangs_no_other_thread)
{
	same_as_without("jmpfork");
}

/* A wait for the own group with WNOHANG while the only child, one the
 * shim had moved, was still running: ECHILD where glibc answers 0 (a
 * polling reaper took it for "no children left"). */
Test(pgroup_diff, a_wnohang_wait_for_the_own_group_answers_0_while_a_moved_child_runs)
{
	same_as_without("wnohang");
}

/* A wait for another group (waitid(P_PGID, 1)) became a wait for any
 * child; a child that made itself a group leader after its exec was taken
 * for one the shim had moved, and reaped by waitpid(0). */
Test(pgroup_diff, a_wait_for_the_own_group_leaves_the_others)
{
	same_as_without("wait_others");
}

/* setsid() failed with EPERM in a child that had moved another process
 * (setpgid on it): any setpgid counted as the child's own move. */
Test(pgroup_diff, setsid_after_moving_another_process_works)
{
	same_as_without("setsid_other");
}

/* A child the shim had made a group leader was told so by getpgrp():
 * util-linux setsid(1) forked and exited 0, the command's status lost. */
Test(pgroup_diff, a_moved_child_reports_the_group_it_came_from)
{
	same_as_without("getpgrp");
}

/* A wait whose status pointer the kernel cannot write crashed the program
 * (the shim wrote it) where glibc returns EFAULT. */
Test(pgroup_diff, a_wait_with_a_bad_status_pointer_fails_with_efault)
{
	same_as_without("waitfault");
}

/* ... and a wait for the own group whose siginfo the kernel cannot write,
 * with a child the shim had moved: the shim peeked into that siginfo,
 * failed EFAULT before anything was reaped, and left the child a zombie
 * the kernel would have reaped. */
Test(pgroup_diff, a_wait_for_the_own_group_with_a_bad_pointer_reaps_the_moved_child)
{
	same_as_without("waitfault_moved");
}

/* A fork in a child of _Fork() took the grandparent for its spawner: the
 * grandchild got a group of its own, out of reach of kill(0). */
Test(pgroup_diff, a_grandchild_through_fork_stays_in_the_group)
{
	same_as_without("xfork");
}

/* A grandchild made by _Fork() or a raw clone() in a child of _Fork() was
 * taken for the daemon's own child (the shim's state in both is the
 * daemon's): it got a group of its own, and a kill of the daemon's group
 * left it running. */
Test(pgroup_diff, a_grandchild_through_fork_or_clone_stays_in_the_group)
{
	same_as_without("xfork2");
}

/* After its spawner had exited, a child the shim had moved was told of
 * the group it came from, which it could no longer go back to: util-linux
 * setsid(1) then failed with EPERM. */
Test(pgroup_diff, setsid_1_after_the_spawner_exited_runs_the_command)
{
	same_as_without("setsid_late");
}

/* A daemon's SIGHUP, SIGUSR1 or SIGWINCH to its own group (Apache's
 * restart: killpg(getpgrp(), SIGHUP)) did not reach a child the
 * shim had put in a group of its own: only SIGTERM, SIGKILL, SIGINT and
 * SIGQUIT were sent on to those groups. */
Test(pgroup_diff, every_signal_to_the_own_group_reaches_the_moved_children)
{
	same_as_without("group_signals");
}

/* A signal to the group getpgrp() named reached the spawner's group but
 * not the child's own, where it and its descendants are. */
Test(pgroup_diff, a_signal_to_the_reported_group_reaches_the_child)
{
	same_as_without("killpg_own");
}

/* The middle of a double fork, still running at the daemon's exec (a busy
 * machine) and gone after: the daemon was moved at its exec, and once the
 * middle had exited it led a group whose origin was gone: getpgrp() said
 * so, and setsid() failed with EPERM. */
Test(pgroup_diff, a_daemon_whose_middle_exits_after_its_exec_gets_a_session)
{
	same_as_without("slow_middle");
}

/* ... and util-linux setsid(1) exec'd by that daemon forked (it led its
 * group), so the pid a pid file names had exited. */
Test(pgroup_diff, setsid_1_run_by_such_a_daemon_does_not_fork)
{
	same_as_without("slow_middle_setsid");
}

/* A child that made itself a group leader and exec'd in place was told of
 * the daemon's group by getpgrp(), and setsid() gave it a session where
 * glibc says EPERM: the new program took the move for one still due. */
Test(pgroup_diff, a_child_that_moved_itself_and_execs_keeps_its_group)
{
	same_as_without("moved_self_exec");
}

/* ... and a kill of the shell such a child exec'd reached the whole group
 * the program had made: the daemon took it for one the shim made. */
Test(pgroup_diff, a_kill_of_such_a_child_reaches_it_alone)
{
	same_as_without("moved_self_exec_kill");
}

/* kill(0) reaches the job of a shell that has exited, left unreaped: the
 * shim signals the group it made through the zombie leader's pidfd
 * (PIDFD_SIGNAL_PROCESS_GROUP).  A job is gone once it is a zombie: the
 * process that inherits it may reap it late. */
Test(pgroup_diff, kill0_reaches_the_job_of_an_unreaped_shell)
{
	same_as_without("kill0_zombie");
}

/* POSIX_SPAWN_SETPGROUP with the group getpgrp() reports, in a child the
 * shim had moved, put the new process in the daemon's group: a waitpid(0)
 * failed with ECHILD. */
Test(pgroup_diff, a_spawn_into_the_reported_group_joins_the_child_s_own)
{
	same_as_without("spawn_setpgroup_shown");
}
