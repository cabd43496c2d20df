/* Every log line names the executable, read at the process's first line
 * rather than at start-up (foundation_startup_cost/no_proc_at_start_up):
 * first lines made at once by many threads, by a vfork child before its
 * parent, and after the executable was removed (a package upgrade under a
 * daemon) all name the path the program was started from. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../lib/files.h"
#include "../../lib/run.h"

TestSuite(foundation_log_exe, .timeout = 60);

/* Runs `exe` with args under audit, logging to a file; returns the log and
 * checks that it has `lines` sock_policy lines, each naming `exe`: each
 * line arrives or, when it found no fd to go through in time (out_fd.c: a
 * heavily loaded machine), is counted in a "suppressed" line. */
static const char *run_logged3(const char *exe, const char *a1, const char *a2,
			       const char *a3, int lines)
{
	static struct run_result r;
	char log[4096], logenv[4200];
	snprintf(log, sizeof log, "%s/exe-%s.log", tmpdir(), a1);
	snprintf(logenv, sizeof logenv, "NOLEAK_LOG=%s", log);
	char *env[] = { "NOLEAK_MODE=audit", logenv,
			"NOLEAK_CONFIG=/nonexistent/noleak.conf", NULL };
	char *argv[] = { (char *)exe, (char *)a1, (char *)a2, (char *)a3, NULL };
	run(&r, argv, env, 1, 30, NULL);
	cr_assert_eq(exit_code(&r), 0, "%s %s: %s", exe, a1, r.err);
	const char *text = slurp(log);
	char want[4200];
	snprintf(want, sizeof want, "\"exe\":\"%s\",", exe);
	/* A long log is cut: a message of criterion's has a size limit. */
	int got = count_lines_with(text, "\"event\":\"sock_policy\"") +
		  count_lines_with(text, "\"event\":\"fd_leak\"");
	long dropped = sum_after(text, "\"dropped\":");
	cr_expect_eq(got + dropped, lines,
		     "%s %s: %d sock_policy and fd_leak lines and %ld reported dropped, of %d "
		     "(%zu bytes):\n%.6000s", exe, a1, got, dropped, lines,
		     strlen(text), text);
	cr_expect_eq(count_lines_with(text, want), count_lines_with(text, "{\"ts\":"),
		     "%s %s: a line without %s:\n%.6000s", exe, a1, want, text);
	return text;
}

static const char *run_logged(const char *exe, const char *a1, const char *a2,
			      int lines)
{
	return run_logged3(exe, a1, a2, NULL, lines);
}

Test(foundation_log_exe, first_lines_of_many_threads_at_once)
{
	for (int i = 0; i < 5; i++)
		run_logged(top("build/fixtures/found_exe"), "threads", "16", 16);
}

/* Many more threads than the log has transient fds for (out_fd.c: a line
 * written while another thread opens the log goes through an fd of its
 * own) make their first lines at once, in eight processes at a time so
 * that the writers of those lines get interrupted: each line arrives, none
 * is dropped for want of an fd.  Repeated: the lines must overlap. */
Test(foundation_log_exe, first_lines_of_more_threads_than_transient_fds)
{
	for (int i = 0; i < 20; i++)
		run_logged3(top("build/fixtures/found_exe"), "threads", "64",
			    "8", 8 * 64);
}

/* The vfork child reads the path for its own line without keeping it:
 * it shares its parent's memory, which it must not write, so the parent
 * reads it again for its first line. */
Test(foundation_log_exe, a_vfork_childs_first_line_and_its_parents)
{
	run_logged(top("build/fixtures/found_exe"), "vfork", NULL, 2);
	char cmd[8192];
	snprintf(cmd, sizeof cmd,
		 "LD_PRELOAD=%s NOLEAK_MODE=audit NOLEAK_LOG=%s/vfork.log "
		 "NOLEAK_CONFIG=/nonexistent/noleak.conf exec %s vfork",
		 shim_path(), tmpdir(), top("build/fixtures/found_exe"));
	const char *t = trace_calls("readlinkat", cmd);
	cr_expect_eq(count_lines_with(t, "\"/proc/self/exe\""), 2,
		     "the child's and the parent's first lines:\n%s", t);
}

/* /proc/self/exe reads "PATH (deleted)" once the file is gone. */
Test(foundation_log_exe, an_executable_removed_since_it_started)
{
	char copy[4096];
	snprintf(copy, sizeof copy, "%s", copy_for_anyone(top("build/fixtures/found_exe")));
	const char *text = run_logged(copy, "deleted", NULL, 1);
	cr_expect(strstr(text, "(deleted)") == NULL, "%s", text);
}
