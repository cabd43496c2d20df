/* timeout(1) started by the noleak launcher (which would regroup its
 * children) ends its command's whole tree with kill(0): the shim must leave
 * timeout's group alone (it calls setpgid itself) so that the sleep python
 * started dies with it.  A daemon whose setpgid(0, 0) fails with EPERM (a
 * session leader) still manages its groups. */
#include <criterion/criterion.h>

#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"
#include "../../lib/pgroup_procs.h"

#define PYTHON "/usr/bin/python3"

TestSuite(pgroup_timeout, .fini = pg_cleanup, .timeout = 30);

Test(pgroup_timeout, timeout_leaves_no_sleep_behind)
{
	if (access(PYTHON, X_OK))
		cr_skip_test(PYTHON " is not installed");
	static struct run_result r;
	const char *mark = pg_mark("timeout");
	char *argv[] = { (char *)top("build/noleak"), "--", "timeout", "1",
			 PYTHON, "-c",
			 "import subprocess; subprocess.run([\"sleep\", \"30\"])",
			 NULL };
	char *env[] = { (char *)pg_mark_env(mark), NULL };
	cr_assert_eq(run(&r, argv, env, 0, 15.0, NULL), 0);
	cr_assert(!r.timed_out, "%s", r.err);
	cr_expect_eq(exit_code(&r), 124, "timeout should report the timeout: %d %s",
		     r.status, r.err);
	cr_expect_eq(pg_wait_unmarked(mark, PG_DIES_WITHIN), 0,
		     "the sleep (or python) outlived timeout's kill(0):\n%s%s",
		     pg_describe_marked(mark), r.err);
}

/* A daemon (fork, setsid(): a session leader of its own making) whose
 * setpgid(0, 0) failed spawns a child: the child stays in its group, as
 * without the shim. */
static const char *child_group(int shim)
{
	static struct run_result r;
	char *argv[] = { PYTHON, "-c",
			 "import os, subprocess, sys\n"
			 "if os.fork():\n"
			 "    sys.exit(os.waitstatus_to_exitcode(os.wait()[1]))\n"
			 "os.setsid()\n"
			 "try: os.setpgid(0, 0)\n"
			 "except PermissionError: print('EPERM')\n"
			 "c = subprocess.Popen(['sleep', '5'])\n"
			 "print('same' if os.getpgid(c.pid) == os.getpgrp() "
			 "else 'other')\n"
			 "c.kill(); c.wait()\n",
			 NULL };
	cr_assert_eq(run(&r, argv, NULL, shim, 15.0, NULL), 0);
	cr_assert(!r.timed_out && exit_code(&r) == 0, "%s%s", r.out, r.err);
	return r.out;
}

Test(pgroup_timeout, a_failed_setpgid_still_means_the_program_manages_groups)
{
	if (access(PYTHON, X_OK))
		cr_skip_test(PYTHON " is not installed");
	cr_assert_str_eq(child_group(0), "EPERM\nsame\n");
	cr_expect_str_eq(child_group(1), "EPERM\nsame\n");
}

/* A parent that made the group of the process the launcher started stops
 * it by signalling that group: timeout(1) around the launcher (its
 * kill(0)), Python's start_new_session and process_group=0 with
 * os.killpg().  The launched process regrouped its children all the same:
 * the shell its python started moved at its first child, and the sleep
 * outlived the kill, holding the caller's pipes.  One row per parent. */
Test(pgroup_timeout, a_group_the_launcher_s_parent_made_keeps_the_tree)
{
	if (access(PYTHON, X_OK))
		cr_skip_test(PYTHON " is not installed");
	static const char driver[] =
		"import os, signal, subprocess, sys, time\n"
		"noleak, how = sys.argv[1], sys.argv[2]\n"
		"cmd = [noleak, '--', sys.executable, '-c',\n"
		"       'import subprocess; subprocess.run([\"sh\", \"-c\", '\n"
		"       '\"sleep 30 & wait\"])']\n"
		"if how == 'timeout':\n"
		"    sys.exit(subprocess.run(['timeout', '1'] + cmd).returncode)\n"
		"kw = {'start_new_session': True} if how == 'session' else "
		"{'process_group': 0}\n"
		"p = subprocess.Popen(cmd, **kw)\n"
		"time.sleep(1)\n"
		"os.killpg(p.pid, signal.SIGTERM)\n"
		"sys.exit(128 - p.wait())\n";
	static const char *const hows[] = { "timeout", "session", "group" };
	for (size_t i = 0; i < sizeof hows / sizeof *hows; i++) {
		static struct run_result r;
		const char *mark = pg_mark(hows[i]);
		char *argv[] = { PYTHON, "-c", (char *)driver,
				 (char *)top("build/noleak"), (char *)hows[i], NULL };
		char *env[] = { (char *)pg_mark_env(mark), NULL };
		cr_assert_eq(run(&r, argv, env, 0, 15.0, NULL), 0);
		cr_assert(!r.timed_out, "%s: %s", hows[i], r.err);
		cr_expect_eq(exit_code(&r), !strcmp(hows[i], "timeout") ? 124 : 143,
			     "%s: the launched command's end: %d %s", hows[i],
			     r.status, r.err);
		cr_expect_eq(pg_wait_unmarked(mark, PG_DIES_WITHIN), 0,
			     "%s: the sleep outlived the kill of the group:\n%s%s",
			     hows[i], pg_describe_marked(mark), r.err);
	}
}
