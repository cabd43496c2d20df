/* The watchdog waits in its own poll() before the real read; signals must
 * behave exactly as without it.  A read interrupted by a handler installed
 * with SA_RESTART goes on (before the read_warn threshold and after it),
 * one without SA_RESTART returns EINTR, and poll() returns EINTR either
 * way.  Each case runs the same fixture with the shim (read_warn=1) and
 * without it, side by side, and compares. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/watch_util.h"

static struct watch_run with, without;
static struct watch_log log_;
static char line[8192];

/* The result line without its timing: "read=-1 errno=EINTR signals=1". */
static void result_of(const char *out, char *buf, size_t cap)
{
	const char *a = strstr(out, " after=");
	snprintf(buf, cap, "%.*s", a ? (int)(a - out) : (int)strcspn(out, "\n"), out);
}

/* Run `wd_signal call flags times` both ways; check both give `expect`
 * (the result without its timing) after `after` seconds. */
static void both_ways(const char *call, const char *flags, const char *times,
		      const char *expect, double after)
{
	watch_log_init(&log_);
	const char *argv[] = { top("build/fixtures/wd_signal"), call, flags, times,
			       NULL };
	const char *env[] = { "NOLEAK_READ_WARN=1", log_.env, NULL };
	cr_assert_eq(access(argv[0], X_OK), 0, "%s missing", argv[0]);
	watch_start(&with, argv, env, 1, 10.0);
	watch_start(&without, argv, NULL, 0, 10.0);
	watch_join(&with);
	watch_join(&without);
	char a[256], b[256];
	struct run_result *rw = &with.r, *rn = &without.r;
	cr_assert(!rw->timed_out && exit_code(rw) == 0, "%s%s", rw->out, rw->err);
	cr_assert(!rn->timed_out && exit_code(rn) == 0, "%s%s", rn->out, rn->err);
	result_of(rw->out, a, sizeof a);
	result_of(rn->out, b, sizeof b);
	cr_expect_str_eq(b, expect, "without the shim: %s", rn->out);
	cr_expect_str_eq(a, b, "with the shim: %s, without: %s", rw->out, rn->out);
	double ta = out_double(rw->out, "after"), tb = out_double(rn->out, "after");
	cr_expect(ta > after - 0.25 && ta < after + 0.25 &&
		  tb > after - 0.25 && tb < after + 0.25,
		  "after %.1f s with the shim, %.1f s without (expected %.1f)",
		  ta, tb, after);
}

static const char *log_text(void) { return slurp(log_.path); }

Test(watch_signals, sa_restart_before_and_after_threshold_keeps_reading)
{
	both_ways("read", "restart", "0.5,1.5", "read=6 data=hello signals=2", 2.5);
	/* The watchdog was on through both signals: one read, warned once. */
	cr_expect_eq(count_lines_with(log_text(), "\"event\":\"read_blocked\""), 1,
		     "%s", log_text());
	cr_assert(event_line(log_text(), "read_unblocked", NULL, line, sizeof line),
		  "%s", log_text());
	cr_expect(strstr(line, "\"waited\":2.") && strstr(line, "\"result\":6"),
		  "%s", line);
}

Test(watch_signals, no_sa_restart_before_threshold_eintr)
{
	both_ways("read", "norestart", "0.5", "read=-1 errno=EINTR signals=1", 0.5);
	cr_expect(!strstr(log_text(), "\"event\":\"read_blocked\""), "%s", log_text());
}

Test(watch_signals, no_sa_restart_after_threshold_eintr)
{
	both_ways("read", "norestart", "1.5", "read=-1 errno=EINTR signals=1", 1.5);
	cr_expect(event_line(log_text(), "read_blocked", NULL, line, sizeof line),
		  "the read was not watched: %s", log_text());
	cr_assert(event_line(log_text(), "read_unblocked", NULL, line, sizeof line),
		  "%s", log_text());
	cr_expect(strstr(line, "\"result\":-1,\"errno\":4"), "EINTR: %s", line);
}

Test(watch_signals, poll_eintr_before_threshold)
{
	both_ways("poll", "restart", "0.5", "poll=-1 errno=EINTR signals=1", 0.5);
	cr_expect(!strstr(log_text(), "\"event\":\"wait_blocked\""), "%s", log_text());
}

Test(watch_signals, poll_eintr_after_threshold)
{
	both_ways("poll", "restart", "1.5", "poll=-1 errno=EINTR signals=1", 1.5);
	cr_expect(event_line(log_text(), "wait_blocked", NULL, line, sizeof line),
		  "the poll was not watched: %s", log_text());
}
