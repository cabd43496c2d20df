/* The pipe-EOF hang under read_warn: while the reader still waits, the log
 * already says which process holds the write end of its pipe, under which
 * fd number.  The read itself is left alone: it returns end of file when
 * the job exits, as without the shim. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/watch_util.h"

static struct watch_run w;
static struct watch_log log_;

#define JOB "echo ok; sleep 4 >/dev/null 2>&1 & echo pid=$!"

Test(watch_pipe_eof, read_blocked_names_the_job_while_the_read_waits)
{
	watch_log_init(&log_);
	const char *argv[] = { top("build/fixtures/wd_pipe_eof"), "read", JOB, NULL };
	const char *env[] = { "NOLEAK_MODE=audit", "NOLEAK_READ_WARN=1",
			      log_.env, NULL };
	cr_assert_eq(access(argv[0], X_OK), 0, "%s missing", argv[0]);
	watch_start(&w, argv, env, 1, 10.0);
	int live = watch_event_while_running(&w, log_.path, "read_blocked", 2.0);
	watch_join(&w);
	struct run_result *r = &w.r;
	cr_assert(!r->timed_out && exit_code(r) == 0, "wd_pipe_eof: %s%s",
		  r->out, r->err);
	cr_expect(live, "no read_blocked within 2 s while the read waited: %s",
		  slurp(log_.path));

	/* The hang is the program's own: end of file after the job. */
	cr_expect(strstr(r->out, "last=read result=0 errno=0 "), "%s", r->out);
	cr_expect_geq(out_double(r->out, "after"), 3.5, "%s", r->out);

	long job = out_long(r->out, "pid"), wfd = out_long(r->out, "wfd");
	cr_assert(job > 0 && wfd > 2, "%s", r->out);
	char line[8192], unb[8192], who[1024];
	const char *text = slurp(log_.path);
	cr_assert(event_line(text, "read_blocked", "\"call\":\"read\"", line,
			     sizeof line), "%s", text);
	cr_expect(strstr(line, "\"kind\":\"pipe\""), "%s", line);
	cr_expect(strstr(line, "\"waited\":1,"), "%s", line);
	cr_assert(culprit_of(line, job, who, sizeof who),
		  "the job %ld is not named: %s", job, line);
	cr_expect(culprit_holds(who, (int)wfd), "not by fd %ld: %s", wfd, who);
	cr_expect(strstr(who, "\"exe\":\"/") && strstr(who, "sleep"),
		  "exe or cmdline: %s", who);
	cr_expect(strstr(who, "\"cmdline\":\"sleep 4\""), "%s", who);

	/* Written about 1 s into the read, well before it returned. */
	double start = out_double(r->out, "start"), end = out_double(r->out, "end");
	double ts = event_ts(line);
	cr_expect(ts - start > 0.9 && ts - start < 2.0,
		  "read_blocked %.3f s after the read began", ts - start);
	cr_assert(event_line(text, "read_unblocked", NULL, unb, sizeof unb), "%s", text);
	cr_expect_lt(ts, event_ts(unb) - 2.0, "%s\n%s", line, unb);
	cr_expect(event_ts(unb) > end - 0.5 && event_ts(unb) < end + 0.5,
		  "read_unblocked at %.3f, the read ended at %.3f", event_ts(unb), end);
	cr_expect(strstr(unb, "\"result\":0"), "%s", unb);
	double waited = -1;
	const char *wt = strstr(unb, "\"waited\":");
	cr_assert(wt && sscanf(wt, "\"waited\":%lf", &waited) == 1, "%s", unb);
	cr_expect(waited > 3.5 && waited < 5.0, "read_unblocked waited %.3f", waited);
}
