/* No memory for the shim's lazy tables: the fd table is a 32 MiB
 * MAP_NORESERVE mapping made on first use, which fails once RLIMIT_AS is
 * close to the program's size.  The program must work normally all the
 * same: its creating calls succeed, and its execs start, handing the new
 * program the fds it meant to pass (a dup2() target, an fd it cleared
 * FD_CLOEXEC on).  Without the table the shim cannot know which fds those
 * are, nor take its own flag off one named to an exec, so it adds none
 * and keeps every fd: what the program does is what it does without the
 * shim. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0

TestSuite(fault_nomem, .timeout = 60);

static struct run_result r;

static void run_nomem(const char *mode)
{
	char mode_env[64];
	snprintf(mode_env, sizeof mode_env, "NOLEAK_MODE=%s", mode ? mode : "");
	char *env[] = { mode_env, NULL };
	char *argv[] = { (char *)top("build/fixtures/flt_nomem"), "run", NULL };
	cr_assert_eq(run(&r, argv, env, mode != NULL, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "flt_nomem hung (mode %s)", mode);
	cr_assert_eq(exit_code(&r), 0, "flt_nomem (mode %s): status %d\n%s%s",
		     mode, r.status, r.out, r.err);
	/* The premise: the table could not have been mapped before main, and
	 * cannot be now. */
	cr_assert(strstr(r.out, "table_mapped_before=no probe=ENOMEM\n"),
		  "RLIMIT_AS did not take: %s", r.out);
}

/* "via=fork fds=..." of the output. */
static const char *child_fds(const char *via, char *buf, size_t cap)
{
	char key[32];
	snprintf(key, sizeof key, "via=%s fds=", via);
	const char *s = strstr(r.out, key);
	if (!s)
		return NULL;
	s += strlen(key);
	snprintf(buf, cap, "%.*s", (int)strcspn(s, "\n"), s);
	return buf;
}

/* "pass=K,20" -> "0,1,2,K,20": what the children must get. */
static void passed(char *buf, size_t cap)
{
	int keep = -1, dup2_target = -1;
	const char *p = strstr(r.out, " pass=");
	cr_assert(p && sscanf(p, " pass=%d,%d", &keep, &dup2_target) == 2,
		  "%s", r.out);
	cr_assert_lt(keep, dup2_target);
	snprintf(buf, cap, "0,1,2,%d,%d", keep, dup2_target);
}

/* Without the table the shim adds no close-on-exec flag: it could never
 * take it off again for an fd the program names to an exec (on the old
 * code the fds were close-on-exec with nobody to clear them, and no child
 * got them).  So the program and its children see what they see without
 * the shim, every fd of the program kept (fail open), and the log says
 * why, once. */
Test(fault_nomem, enforce_without_a_table_runs_the_program_as_without_the_shim)
{
	static char plain[sizeof r.out];
	char want[64], got[256];
	run_nomem(NULL);
	snprintf(plain, sizeof plain, "%s", r.out);
	run_nomem("enforce");
	cr_expect_str_eq(r.out, plain, "enforce without a table:\n%s\n"
			 "without the shim:\n%s", r.out, plain);
	cr_expect(strstr(r.out, " cloexec=0,0,0,0,0 "),
		  "new fds got close-on-exec: %s", r.out);
	passed(want, sizeof want);
	cr_assert(child_fds("fork", got, sizeof got), "%s%s", r.out, r.err);
	cr_expect(strstr(got, want + 6) != NULL,
		  "after fork the new program got %s, without %s", got, want);
	cr_expect_eq(r.err[0], 0, "stderr: %s", r.err);
}

Test(fault_nomem, enforce_without_a_table_says_so_once)
{
	char *env[] = { "NOLEAK_MODE=enforce", "NOLEAK_LOG=stderr",
			"NOLEAK_CONFIG=/nonexistent/noleak.conf", NULL };
	char *argv[] = { (char *)top("build/fixtures/flt_nomem"), "run", NULL };
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "status %d\n%s%s", r.status, r.out,
		     r.err);
	int n = 0;
	for (const char *p = r.err; (p = strstr(p, "\"feature\":\"fd_table\""));
	     p++)
		n++;
	cr_expect_eq(n, 1, "nomem events for the fd table: %d\n%s", n, r.err);
}

Test(fault_nomem, audit_without_a_table_changes_nothing)
{
	static char plain[sizeof r.out];
	run_nomem(NULL);
	snprintf(plain, sizeof plain, "%s", r.out);
	run_nomem("audit");
	cr_expect_str_eq(r.out, plain, "audit changed what the program saw:\n%s\n"
			 "without the shim:\n%s", r.out, plain);
}
