/* read_warn=0 turns the watchdog off: a long read or poll logs nothing,
 * in enforce mode and in audit (where read_warn is otherwise 30). */
#include <criterion/criterion.h>

#include <string.h>
#include <unistd.h>

#include "../../lib/watch_util.h"

static struct watch_run runs[3];
static struct watch_log logs[3];

Test(watch_read_off, no_read_blocked_with_read_warn_0)
{
	static const char *const way[3] = { "read", "read", "poll" };
	static const char *const mode[3] = { "NOLEAK_MODE=enforce",
					     "NOLEAK_MODE=audit",
					     "NOLEAK_MODE=audit" };
	for (int i = 0; i < 3; i++) {
		watch_log_init(&logs[i]);
		const char *argv[] = { top("build/fixtures/wd_pipe_eof"), way[i],
				       "echo ok; sleep 2 & echo pid=$!", NULL };
		const char *env[] = { mode[i], "NOLEAK_READ_WARN=0", logs[i].env,
				      NULL };
		cr_assert_eq(access(argv[0], X_OK), 0, "%s missing", argv[0]);
		watch_start(&runs[i], argv, env, 1, 10.0);
	}
	for (int i = 0; i < 3; i++)
		watch_join(&runs[i]);
	for (int i = 0; i < 3; i++) {
		struct run_result *r = &runs[i].r;
		cr_assert(!r->timed_out && exit_code(r) == 0, "%s%s", r->out, r->err);
		/* A long wait indeed: the job held the pipe for 2 s. */
		cr_expect_geq(out_double(r->out, "after"), 1.5, "%s: %s", way[i], r->out);
		const char *text = slurp(logs[i].path);
		cr_expect(!strstr(text, "\"event\":\"read_blocked\"") &&
			  !strstr(text, "\"event\":\"read_unblocked\"") &&
			  !strstr(text, "\"event\":\"wait_blocked\""),
			  "%s %s: %s", mode[i], way[i], text);
	}
	/* The log itself worked: audit logged the leaked pipe at the exec. */
	cr_expect(strstr(slurp(logs[1].path), "\"event\":\"fd_leak\""), "%s",
		  slurp(logs[1].path));
}
