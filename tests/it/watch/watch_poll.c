/* A reader that waits in poll() (as CPython's communicate() does) rather
 * than in read(): past read_warn, a wait_blocked event lists every fd it
 * waits on, each with the processes holding its other end. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
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

/* A wait that logged wait_blocked logs wait_unblocked when it returns
 * (data came, or its own timeout), with its call and result; and the
 * report pairs the two: the row no longer waits ("+"), and a wait that
 * ended is no hang.  The same program without the shim returns the same. */
static void wait_end_case(const char *call, const char *timeout_ms,
			  const char *result)
{
	struct watch_log l;
	watch_log_init(&l);
	char *argv[] = { (char *)top("build/fixtures/wd_wait_end"), (char *)call,
			 (char *)timeout_ms, NULL };
	char *env[] = { "NOLEAK_MODE=audit", "NOLEAK_READ_WARN=1", l.env, NULL };
	struct run_result r, plain;
	run(&plain, argv, NULL, 0, 20, NULL);
	run(&r, argv, env, 1, 20, NULL);
	cr_assert(exit_code(&r) == 0 && exit_code(&plain) == 0, "%s: %s%s / %s%s",
		  call, r.out, r.err, plain.out, plain.err);
	cr_expect_str_eq(r.out, plain.out, "%s: not as without the shim", call);
	char want[64], line[8192];
	snprintf(want, sizeof want, "result=%s errno=0\n", result);
	cr_expect_str_eq(r.out, want, "%s", call);

	const char *text = slurp(l.path);
	char c[64];
	snprintf(c, sizeof c, "\"call\":\"%s\"", call);
	cr_assert(event_line(text, "wait_blocked", c, line, sizeof line),
		  "%s: no wait_blocked: %s", call, text);
	double blocked = event_ts(line);
	cr_assert(event_line(text, "wait_unblocked", c, line, sizeof line),
		  "%s: no wait_unblocked: %s", call, text);
	snprintf(want, sizeof want, "\"result\":%s}", result);
	cr_expect(strstr(line, want), "%s: %s", call, line);
	cr_expect(!strstr(line, "\"fd\":"), "%s: %s", call, line);
	double waited = atof(strstr(line, "\"waited\":") + 9);
	cr_expect(waited > 1.4 && waited < 5, "%s: waited %.3f s: %s", call, waited, line);
	cr_expect(event_ts(line) - blocked > 0.3, "%s: ended %.3f s after the block",
		  call, event_ts(line) - blocked);

	char *rep[] = { (char *)top("build/noleak-report"), l.path, NULL };
	run(&r, rep, NULL, 0, 30, NULL);
	cr_expect_eq(exit_code(&r), 0, "%s: report:\n%s", call, r.out);
	cr_expect(strstr(r.out, "result: no leaks or hangs found"), "%s: %s", call, r.out);
	cr_expect(strstr(r.out, "1 blocked, 1 unblocked events"), "%s: %s", call, r.out);
	cr_expect(!strstr(r.out, "s+ "), "%s: still blocked:\n%s", call, r.out);
}

Test(watch_poll, a_wait_that_ends_logs_wait_unblocked, .timeout = 120)
{
	static const char *const calls[] = { "poll", "ppoll", "select", "pselect",
					     "epoll_wait", "epoll_pwait" };
	for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
		wait_end_case(calls[i], NULL, "1");
		if (i % 2 == 0)   /* a timeout: one call of each kind */
			wait_end_case(calls[i], "2000", "0");
	}
}
