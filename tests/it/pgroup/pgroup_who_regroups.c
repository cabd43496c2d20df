/* Who regroups its children (pgroup=auto): a session leader (a daemon) or
 * the process the noleak launcher started, through every way of starting
 * a program; not an ordinary process, not one that manages groups itself,
 * not with pgroup=never.  A regrouped program exec'd with NOLEAK_PGROUP_FROM=
 * <spawner pid>:<old pgid>:<token>:... in its environment
 * (/proc/self/environ), which the shim takes out of environ: getenv() does
 * not find it.  It leads a group of its own once it has made a child
 * (pg_whoami -f); one that never does stays in its spawner's group, as
 * without the shim.  A fork child that never execs stays in its parent's
 * group. */
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

TestSuite(pgroup_who_regroups, .init = init, .timeout = 30);

/* [pg_nest noleak --] pg_spawn [opt] VIA pg_whoami [-f], under the shim:
 * with forks, pg_whoami makes a child first.  Started by the launcher as
 * a script would start it: in a group neither it nor its parent leads
 * (pg_nest); launcher 2: in a group of its own, which the test harness
 * made. */
static int forks = 1;

static void start_whoami(int launcher, const char *opt, const char *via,
			 char *const env[])
{
	char *argv[10];
	int n = 0;
	if (launcher == 1)
		argv[n++] = (char *)top("build/fixtures/pg_nest");
	if (launcher) {
		argv[n++] = (char *)top("build/noleak");
		argv[n++] = "--";
	}
	argv[n++] = (char *)top("build/fixtures/pg_spawn");
	if (opt)
		argv[n++] = (char *)opt;
	argv[n++] = (char *)via;
	argv[n++] = (char *)top("build/fixtures/pg_whoami");
	if (forks)
		argv[n++] = "-f";
	argv[n] = NULL;
	cr_assert_eq(run(&r, argv, env, !launcher, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	cr_assert_eq(pg_field(r.out, "status", "status"), 0, "%s", r.out);
	cr_assert_gt(pg_field(r.out, "child", "pid"), 0, "%s", r.out);
}

static long parent(const char *key) { return pg_field(r.out, "parent", key); }
static long child(const char *key) { return pg_field(r.out, "child", key); }

/* SPAWNER:PGID:TOKEN, the token being the spawner's name for the child. */
static void expect_marker(void)
{
	char want[64];
	snprintf(want, sizeof want, "%ld:%ld:", parent("pid"), parent("pgid"));
	const char *marker = pg_word(r.out, "child", "marker");
	cr_expect(!strncmp(marker, want, strlen(want)) && marker[strlen(want)],
		  "marker %s, want %s<token>:\n%s", marker, want, r.out);
	cr_expect_str_eq(pg_word(r.out, "child", "from"), "-",
			 "the program sees the marker:\n%s", r.out);
}

/* fork, vfork and posix_spawn: the program itself leads a new group once
 * it has made a child; until then (a leaf) it is in the daemon's group,
 * marked all the same. */
static void regrouped_directly(const char *via)
{
	start_whoami(0, "-d", via, NULL);
	cr_expect_eq(child("pgid"), child("pid"), "%s child not regrouped:\n%s",
		     via, r.out);
	cr_expect_eq(child("sid"), parent("sid"), "%s", r.out);
	expect_marker();
	forks = 0;
	start_whoami(0, "-d", via, NULL);
	cr_expect_eq(child("pgid"), parent("pgid"),
		     "%s leaf moved to a group of its own:\n%s", via, r.out);
	expect_marker();
	forks = 1;
}

Test(pgroup_who_regroups, daemon_fork_exec_child)
{
	regrouped_directly("fork");
}

Test(pgroup_who_regroups, daemon_vfork_exec_child)
{
	regrouped_directly("vfork");
}

Test(pgroup_who_regroups, daemon_posix_spawn_child)
{
	regrouped_directly("spawn");
}

/* system and popen: the shell leads the new group, its command in it. */
static void regrouped_shell(const char *via)
{
	start_whoami(0, "-d", via, NULL);
	cr_expect_eq(child("pgid"), child("ppid"), "%s shell not regrouped:\n%s",
		     via, r.out);
	cr_expect_neq(child("pgid"), parent("pgid"), "%s", r.out);
	expect_marker();
}

Test(pgroup_who_regroups, daemon_system_child)
{
	regrouped_shell("system");
}

Test(pgroup_who_regroups, daemon_popen_child)
{
	regrouped_shell("popen");
}

static void stays_in_parent_group(void)
{
	cr_expect_eq(child("pgid"), parent("pgid"),
		     "child moved to a group of its own:\n%s", r.out);
	cr_expect_str_eq(pg_word(r.out, "child", "marker"), "-", "%s", r.out);
}

Test(pgroup_who_regroups, daemon_fork_child_that_never_execs_stays)
{
	start_whoami(0, "-d", "bare", NULL);
	cr_expect_eq(child("pgid"), parent("pgid"), "%s", r.out);
}

Test(pgroup_who_regroups, pgroup_never_leaves_children_alone)
{
	char *env[] = { "NOLEAK_PGROUP=never", NULL };
	start_whoami(0, "-d", "fork", env);
	stays_in_parent_group();
}

Test(pgroup_who_regroups, ordinary_process_leaves_children_alone)
{
	start_whoami(0, NULL, "fork", NULL);
	stays_in_parent_group();
	start_whoami(0, NULL, "spawn", NULL);
	stays_in_parent_group();
}

Test(pgroup_who_regroups, same_process_started_by_noleak_regroups)
{
	cr_assert_eq(access(top("build/noleak"), X_OK), 0, "build/noleak missing");
	start_whoami(1, NULL, "fork", NULL);
	cr_expect_neq(parent("sid"), parent("pid"), "not meant as a daemon here");
	cr_expect_eq(child("pgid"), child("pid"), "not regrouped:\n%s", r.out);
	expect_marker();
	start_whoami(1, NULL, "spawn", NULL);
	cr_expect_eq(child("pgid"), child("pid"), "not regrouped:\n%s", r.out);
}

/* The launched process in a group its parent made (the test harness's
 * setpgid(), as timeout(1), Python's process_group or start_new_session
 * make one): the parent stops it by signalling that group, which keeps
 * its children.  pgroup = always regroups them all the same. */
Test(pgroup_who_regroups, started_by_noleak_in_a_group_its_parent_made_stays)
{
	start_whoami(2, NULL, "fork", NULL);
	cr_expect_eq(parent("pgid"), parent("pid"), "the harness made its group");
	stays_in_parent_group();
	char *always[] = { "NOLEAK_PGROUP=always", NULL };
	start_whoami(2, NULL, "fork", always);
	cr_expect_eq(child("pgid"), child("pid"), "always: not regrouped:\n%s", r.out);
}

/* A program that called setpgid() manages its children's groups itself
 * (timeout, supervisors): left alone even when noleak started it. */
Test(pgroup_who_regroups, process_that_called_setpgid_is_left_alone)
{
	start_whoami(1, "-p", "fork", NULL);
	stays_in_parent_group();
	start_whoami(1, "-p", "spawn", NULL);
	stays_in_parent_group();
}
