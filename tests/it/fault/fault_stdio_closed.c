/* A program started with fds 0, 1 and 2 closed: the shim's log (opened at
 * start-up for a config_error, then used for fd_leak events at exec) never
 * takes 0-2, and the program's own creating calls get 0, 1 and 2 as they
 * would without the shim, without close-on-exec; the program's files hold
 * only what it wrote. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0

TestSuite(fault_stdio_closed, .timeout = 60);

static struct run_result r;
static char dir[256];
static char report[4096];

/* flt_stdio with 0-2 closed; `mode` NULL: without the shim.  NOLEAK_KEEP_FDS
 * is bogus on purpose: the config_error event comes at start-up, while
 * 0-2 are still closed. */
static void run_closed(const char *mode, const char *log)
{
	char cmd[PATH_MAX * 4];
	snprintf(dir, sizeof dir, "%s", tmpdir());
	if (mode)
		snprintf(cmd, sizeof cmd,
			 "exec env LD_PRELOAD='%s' NOLEAK_MODE=%s NOLEAK_LOG='%s' "
			 "NOLEAK_KEEP_FDS=bogus '%s' '%s' '%s' <&- >&- 2>&-",
			 shim_path(), mode, log, top("build/fixtures/flt_stdio"),
			 dir, log);
	else
		snprintf(cmd, sizeof cmd, "exec '%s' '%s' '%s' <&- >&- 2>&-",
			 top("build/fixtures/flt_stdio"), dir, log);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert(!r.timed_out);
	cr_assert_eq(exit_code(&r), 0, "flt_stdio (mode %s): status %d",
		     mode ? mode : "none", r.status);
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/report", dir);
	snprintf(report, sizeof report, "%s", slurp(path));
}

static const char *file_in_dir(const char *name)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return slurp(path);
}

static void expect_stdio_behaviour(const char *mode)
{
	char log[PATH_MAX];
	snprintf(log, sizeof log, "%s/events.log", tmpdir());
	run_closed(mode, log);
	static const char usual[] =
		"open=0 pipe=1,2 socket=1 dup=2 cloexec=0,0,0 exec=0\n";
	cr_expect(!strncmp(report, usual, strlen(usual)),
		  "%s: the program's calls did not get 0-2 as usual: %s", mode,
		  report);
	int logfd = -1;
	const char *l = strstr(report, "logfd=");
	cr_assert(l && sscanf(l, "logfd=%d", &logfd) == 1,
		  "%s: the log was never opened: %s", mode, report);
	cr_expect_gt(logfd, 2, "%s: the log landed on fd %d", mode, logfd);
	cr_expect_str_eq(file_in_dir("own"), "own 0\nown 2\n",
			 "%s: the program's file (fds 0 and 2) got shim output",
			 mode);
	cr_expect_str_eq(file_in_dir("leak"), "leak own\n", "%s", mode);
	const char *text = slurp(log);
	cr_expect_geq(count_lines_with(text, "\"event\":\"config_error\""), 1,
		      "%s: log: %s", mode, text);
	cr_expect_geq(count_lines_with(text, "\"event\":\"fd_leak\""), 1,
		      "%s: no fd_leak for the leak file: %s", mode, text);
}

Test(fault_stdio_closed, without_the_shim_calls_get_0_to_2)
{
	run_closed(NULL, "/nonexistent/log");
	cr_assert_str_eq(report, "open=0 pipe=1,2 socket=1 dup=2 cloexec=0,0,0 "
			 "exec=0\nlogfd=none\n");
}

Test(fault_stdio_closed, enforce_log_stays_off_stdio)
{
	expect_stdio_behaviour("enforce");
}

Test(fault_stdio_closed, audit_log_stays_off_stdio)
{
	expect_stdio_behaviour("audit");
}
