/* Under a terminal, with pgroup=auto, nothing changes: a shell's command
 * stays in the terminal's foreground group, so it reads what is typed and
 * ^C interrupts it, and an interactive bash keeps its job control.
 * pgroup=always regroups even there. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"
#include "../../lib/pgroup_procs.h"

#define TIMEOUT 40.0

static struct run_result r;
static char preload[PATH_MAX + 16];

static void init(void)
{
	cr_assert_eq(access(top("build/fixtures/pg_pty"), X_OK), 0,
		     "build/fixtures/pg_pty missing");
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", shim_path());
}

TestSuite(pgroup_terminal, .init = init, .fini = pg_cleanup, .timeout = 60);

/* pg_pty with argv (from "-e" on): the shim only in the program on the
 * terminal, not in the terminal itself. */
static void on_terminal(char **args)
{
	char *argv[64] = { (char *)top("build/fixtures/pg_pty") };
	int n = 1;
	while (*args && n < 63)
		argv[n++] = *args++;
	argv[n] = NULL;
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "pg_pty timed out:\n%s", r.out);
}

static void expect_ok(void)
{
	cr_expect(strstr(r.out, "result=ok\n"), "%s", r.out);
}

Test(pgroup_terminal, a_command_reads_typed_input_and_ctrl_c_interrupts_it)
{
	char *args[] = { "-e", preload, "send:hello\\n", "expect:hello",
			 "expect:hello", "send:\\x03", "wait", "--", "bash", "-c",
			 "cat; echo done", NULL };
	on_terminal(args);
	expect_ok();
	/* bash and cat both got the SIGINT: bash ends by it, "done" never
	 * comes. */
	cr_expect_eq(pg_field(r.out, "status", "status"), 2, "%s", r.out);
	cr_expect_null(strstr(r.out, "done"), "%s", r.out);
}

Test(pgroup_terminal, interactive_bash_keeps_job_control)
{
	const char *mark = pg_mark("jobs");
	char *args[] = { "-e", preload, "-e", (char *)pg_mark_env(mark), "-e",
			 "PS1=PROMPT$ ", "expect:PROMPT$ ", "send:sleep 30\\n",
			 "fg:sleep", "send:\\x1a", "expect:Stopped", "expect:PROMPT$ ",
			 "send:jobs\\n", "expect:Stopped", "expect:sleep 30",
			 "send:bg\\n", "expect:sleep 30 &", "expect:PROMPT$ ",
			 "send:fg\\n", "expect:sleep 30", "fg:sleep", "send:\\x03",
			 "expect:PROMPT$ ", "send:echo rc=$?\\n", "expect:rc=130",
			 "send:exit\\n", "wait", "--", "bash", "--norc", "--noprofile",
			 "-i", NULL };
	on_terminal(args);
	expect_ok();
	cr_expect_eq(pg_field(r.out, "status", "status"), 0, "%s", r.out);
	cr_expect_eq(pg_count_marked(mark), 0, "^C missed the fg'ed sleep");
}

/* A command started in the background of an interactive shell (`cmd &`)
 * may be brought to the foreground at any time (`fg`): its children then
 * need ^C.  It was in no foreground group when it spawned them, and they
 * got groups of their own, out of the terminal's reach. */
Test(pgroup_terminal, a_background_job_brought_to_the_foreground_gets_ctrl_c)
{
	const char *mark = pg_mark("bgfg");
	char line[PATH_MAX + 64];
	snprintf(line, sizeof line,
		 "send:%s sh -c 'sleep 30; echo finished' &\\n",
		 top("build/noleak"));
	char *args[] = { "-e", (char *)pg_mark_env(mark), "-e", "PS1=PROMPT$ ",
			 "expect:PROMPT$ ", line, "expect:PROMPT$ ", "sleep:500",
			 "send:fg\\n", "fg:sleep", "send:\\x03", "expect:PROMPT$ ",
			 "send:exit\\n", "wait", "--", "bash", "--norc",
			 "--noprofile", "-i", NULL };
	on_terminal(args);
	expect_ok();
	cr_expect_eq(pg_count_marked(mark), 0, "^C missed the fg'ed job's sleep: %s",
		     pg_describe_marked(mark));
	cr_expect_null(strstr(r.out, "finished\r"), "%s", r.out);
}

/* The terminal's session leader, started by the noleak launcher (which
 * regroups but for the terminal), runs pg_whoami -f (not as its last
 * command, so bash forks for it; it makes a child, so it moves if it is
 * to); returns whether it ran in a group of its own. */
static int regrouped_on_terminal(const char *pgroup)
{
	char line[PATH_MAX + 16], env[64];
	snprintf(line, sizeof line, "%s -f; true", top("build/fixtures/pg_whoami"));
	snprintf(env, sizeof env, "NOLEAK_PGROUP=%s", pgroup);
	char *args[] = { "-e", preload, "-e", env, "wait", "--",
			 (char *)top("build/noleak"), "--", "bash", "-c", line,
			 NULL };
	on_terminal(args);
	expect_ok();
	long pid = pg_field(r.out, "child", "pid");
	long ppid = pg_field(r.out, "child", "ppid");
	long pgid = pg_field(r.out, "child", "pgid");
	cr_assert_gt(pid, 0, "%s", r.out);
	cr_assert(pgid == pid || pgid == ppid, "%s", r.out);
	return pgid == pid;
}

Test(pgroup_terminal, auto_leaves_the_foreground_group_alone)
{
	cr_expect_not(regrouped_on_terminal("auto"),
		      "auto moved a child out of the terminal's foreground group");
}

Test(pgroup_terminal, always_regroups_even_in_the_foreground)
{
	cr_expect(regrouped_on_terminal("always"), "always did not regroup");
}
