/* The log file removed while the program runs: the events after that are
 * dropped or go to a new file, the program is unaffected, and once it
 * takes the number the log was open on for a file of its own, the shim
 * never writes there.
 *
 * flt_logloss removed: three rounds of events (sock_policy in the program,
 * fd_leak in its exec'd children, audit), unlink of the log, three rounds,
 * dup2 of its own file onto the log's fd number, three rounds. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../../lib/run.h"

#define TIMEOUT 30.0

TestSuite(fault_log_removed, .timeout = 60);

static struct run_result r;

/* Every line of text is an event (a JSON object with "event"). */
static int only_events(const char *text)
{
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len < 2 || line[0] != '{' || line[len - 1] != '}' ||
		    !memmem(line, len, "\"event\":", 8))
			return 0;
		line = nl ? nl + 1 : NULL;
	}
	return 1;
}

Test(fault_log_removed, events_after_unlink_never_reach_the_program_files)
{
	char dir[256], log[PATH_MAX], own[PATH_MAX], log_env[PATH_MAX + 16];
	snprintf(dir, sizeof dir, "%s", tmpdir());
	snprintf(log, sizeof log, "%s/events.log", dir);
	snprintf(own, sizeof own, "%s/own", dir);
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log);
	char *env[] = { "NOLEAK_MODE=audit", log_env, NULL };
	char *argv[] = { (char *)top("build/fixtures/flt_logloss"), "removed",
			 dir, log, NULL };
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "hung after the log was removed");
	cr_assert_eq(exit_code(&r), 0, "status %d\n%s%s", r.status, r.out, r.err);
	cr_expect_eq(r.err[0], 0, "stderr: %s", r.err);

	int logfd = -1, rounds = 0;
	long long size = -2;
	cr_assert_eq(sscanf(r.out, "rounds=%d\nlogfd=%d\nlog_size=%lld", &rounds,
			    &logfd, &size), 3, "%s", r.out);
	cr_expect_eq(rounds, 9);
	cr_assert_gt(logfd, 2, "the log was not open during the first rounds, "
		     "or on stdio: %s", r.out);

	char want[512];
	snprintf(want, sizeof want, "round 1\nround 2\nround 3\nround 4\nround 5\n"
		 "round 6\nthrough %d\nround 7\nround 8\nround 9\n", logfd);
	cr_expect_str_eq(slurp(own), want, "the program's own file got shim "
			 "output, or lost its own");
	/* Whatever a new log holds is events, and only the last rounds'. */
	const char *text = slurp(log);
	cr_expect(only_events(text), "the new log holds something else: %s", text);
	cr_expect(size < 0 || count_lines_with(text, "\"event\":\"sock_policy\"") <= 6,
		  "events from before the takeover went to the new file: %s", text);
}
