/* read_timeout: a read on a pipe blocked that long fails with EAGAIN and
 * logs read_timeout naming who holds the pipe; audit only logs it and the
 * read goes on.  The job holds the pipe through its stdout on purpose:
 * in enforce mode the shim already keeps the other copy from leaking.
 * Times are compared as classes, with room for a loaded machine: the job
 * outlives the 1 s timeout by several seconds. */
#include <criterion/criterion.h>

#include <string.h>
#include <unistd.h>

#include "../../lib/watch_util.h"

static struct watch_run w;
static struct watch_log log_;
static char line[8192], who[1024];

static void pipe_eof(const char *mode, const char *job)
{
	watch_log_init(&log_);
	const char *argv[] = { top("build/fixtures/wd_pipe_eof"), "read", job, NULL };
	const char *env[] = { mode, "NOLEAK_READ_TIMEOUT=1", log_.env, NULL };
	cr_assert_eq(access(argv[0], X_OK), 0, "%s missing", argv[0]);
	watch_start(&w, argv, env, 1, 20.0);
	watch_join(&w);
	cr_assert(!w.r.timed_out && exit_code(&w.r) == 0, "wd_pipe_eof: %s%s",
		  w.r.out, w.r.err);
}

Test(watch_read_timeout, enforce_returns_eagain_after_the_timeout)
{
	pipe_eof("NOLEAK_MODE=enforce", "echo ok; sleep 8 & echo pid=$!");
	cr_expect(strstr(w.r.out, "ok\n"), "the data before the hang: %s", w.r.out);
	cr_expect(strstr(w.r.out, "last=read result=-1 errno=EAGAIN "), "%s", w.r.out);
	double after = out_double(w.r.out, "after");
	cr_expect(after >= 0.9 && after < 5.0, "EAGAIN after %.1f s", after);
	cr_expect_lt(w.r.seconds, 7.0, "the run took %.1f s", w.r.seconds);

	const char *text = slurp(log_.path);
	cr_assert(event_line(text, "read_timeout", NULL, line, sizeof line), "%s", text);
	cr_expect(strstr(line, "\"action\":\"timed_out\""), "%s", line);
	cr_expect(strstr(line, "\"call\":\"read\""), "%s", line);
	cr_expect(strstr(line, "\"waited\":1,"), "%s", line);
	long job = out_long(w.r.out, "pid");
	cr_assert_gt(job, 0, "%s", w.r.out);
	cr_expect(culprit_of(line, job, who, sizeof who) && culprit_holds(who, 1),
		  "the job %ld by its stdout: %s", job, line);
}

Test(watch_read_timeout, audit_only_logs_would_time_out)
{
	pipe_eof("NOLEAK_MODE=audit", "echo ok; sleep 5 & echo pid=$!");
	/* The read waited for the job, as without the shim. */
	cr_expect(strstr(w.r.out, "last=read result=0 errno=0 "), "%s", w.r.out);
	cr_expect_geq(out_double(w.r.out, "after"), 4.5, "%s", w.r.out);

	const char *text = slurp(log_.path);
	cr_assert(event_line(text, "read_timeout", NULL, line, sizeof line), "%s", text);
	cr_expect(strstr(line, "\"action\":\"would_time_out\""), "%s", line);
	cr_expect_eq(count_lines_with(text, "\"event\":\"read_timeout\""), 1, "%s", text);
	/* And its end, or the log (and noleak-report) shows a read that
	 * never ended. */
	cr_expect_eq(count_lines_with(text, "\"event\":\"read_unblocked\""), 1,
		     "%s", text);
	double ts = event_ts(line), start = out_double(w.r.out, "start");
	cr_expect(ts - start > 0.9 && ts - start < 4.0,
		  "read_timeout %.3f s after the read began", ts - start);
	long job = out_long(w.r.out, "pid");
	cr_expect(culprit_of(line, job, who, sizeof who), "the job %ld: %s", job, line);
}

/* Several readers of one pipe, woken by one byte: poll() wakes them all,
 * the kernel's read gives the byte to one.  The others went on to the
 * real read, unwatched: blocked past read_timeout, without end (6 of 10
 * runs of 16 readers).  Now each is tried again without blocking and
 * waits on, watched: every one of them gets EAGAIN at the timeout.
 * Without the shim they wait on (no timeout there). */
Test(watch_read_timeout, readers_that_lose_the_byte_still_time_out)
{
	struct run_result r;
	char *argv[] = { (char *)top("build/fixtures/wd_readers"), "8", "16",
			 "3", NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, 20.0, NULL), 0);
	cr_assert_str_eq(r.out, "got=8 eagain=0 other=0 blocked=120\n",
			 "without the shim: %s", r.out);
	char *env[] = { "NOLEAK_MODE=enforce", "NOLEAK_READ_TIMEOUT=1", NULL };
	cr_assert_eq(run(&r, argv, env, 1, 20.0, NULL), 0);
	cr_expect_str_eq(r.out, "got=8 eagain=120 other=0 blocked=0\n",
			 "enforce, read_timeout 1: %s%s", r.out, r.err);
}
