/* A reader that waits in poll() (as CPython's communicate() does) rather
 * than in read(): past read_warn, a wait_blocked event lists every fd it
 * waits on, each with the processes holding its other end. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/watch_util.h"

static struct watch_run w;
static struct watch_log log_;

#define JOB "echo ok; sleep 4 >/dev/null 2>&1 & echo pid=$!"

Test(watch_poll, wait_blocked_names_the_job_while_poll_waits)
{
	watch_log_init(&log_);
	const char *argv[] = { top("build/fixtures/wd_pipe_eof"), "poll", JOB, NULL };
	const char *env[] = { "NOLEAK_MODE=audit", "NOLEAK_READ_WARN=1",
			      log_.env, NULL };
	cr_assert_eq(access(argv[0], X_OK), 0, "%s missing", argv[0]);
	watch_start(&w, argv, env, 1, 10.0);
	int live = watch_event_while_running(&w, log_.path, "wait_blocked", 2.0);
	watch_join(&w);
	struct run_result *r = &w.r;
	cr_assert(!r->timed_out && exit_code(r) == 0, "wd_pipe_eof: %s%s",
		  r->out, r->err);
	cr_expect(live, "no wait_blocked within 2 s while poll waited: %s",
		  slurp(log_.path));

	/* poll() itself is unchanged: it returns when the job exits. */
	cr_expect(strstr(r->out, "last=poll result=1 errno=0 "), "%s", r->out);
	cr_expect_geq(out_double(r->out, "after"), 3.5, "%s", r->out);

	long job = out_long(r->out, "pid"), wfd = out_long(r->out, "wfd");
	cr_assert(job > 0 && wfd > 2, "%s", r->out);
	char line[8192], who[1024];
	const char *text = slurp(log_.path);
	cr_assert(event_line(text, "wait_blocked", NULL, line, sizeof line), "%s", text);
	cr_expect(strstr(line, "\"call\":\"poll\""), "%s", line);
	cr_expect(strstr(line, "\"n_fds\":1,"), "%s", line);
	cr_expect(strstr(line, "\"fds\":[{\"fd\":3,\"kind\":\"pipe\""),
		  "the pipe waited on: %s", line);
	cr_assert(culprit_of(line, job, who, sizeof who),
		  "the job %ld is not named: %s", job, line);
	cr_expect(culprit_holds(who, (int)wfd), "not by fd %ld: %s", wfd, who);
	cr_expect(strstr(who, "\"cmdline\":\"sleep 4\""), "%s", who);
	double ts = event_ts(line), start = out_double(r->out, "start");
	cr_expect(ts - start > 0.9 && ts - start < 2.0,
		  "wait_blocked %.3f s after poll began", ts - start);
	/* A wait that is not a read: no read_blocked for it. */
	cr_expect(!event_line(text, "read_blocked", NULL, line, sizeof line), "%s", line);
}
