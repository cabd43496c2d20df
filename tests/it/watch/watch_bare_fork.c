/* A worker forked (never exec'd) by another thread right after a pipe was
 * made holds the pipe's write end: read_blocked names it as a bare-fork
 * child, the one culprit no close-on-exec flag can stop. */
#include <criterion/criterion.h>

#include <string.h>
#include <unistd.h>

#include "../../lib/watch_util.h"

static struct watch_run w;
static struct watch_log log_;

static void names_the_worker(const char *way, const char *relation)
{
	watch_log_init(&log_);
	const char *argv[] = { top("build/fixtures/wd_bare_fork"), "2.5", way, NULL };
	const char *env[] = { "NOLEAK_READ_WARN=1", log_.env, NULL };
	cr_assert_eq(access(argv[0], X_OK), 0, "%s missing", argv[0]);
	watch_start(&w, argv, env, 1, 10.0);
	int live = watch_event_while_running(&w, log_.path, "read_blocked", 2.0);
	watch_join(&w);
	struct run_result *r = &w.r;
	cr_assert(!r->timed_out && exit_code(r) == 0, "wd_bare_fork: %s%s",
		  r->out, r->err);
	cr_expect(live, "no read_blocked while the read waited: %s",
		  slurp(log_.path));
	cr_expect(strstr(r->out, "read=0 after=2."), "%s", r->out);

	long child = out_long(r->out, "child"), wfd = out_long(r->out, "wfd");
	cr_assert(child > 0 && wfd > 2, "%s", r->out);
	char line[8192], who[1024];
	const char *text = slurp(log_.path);
	cr_assert(event_line(text, "read_blocked", NULL, line, sizeof line), "%s", text);
	cr_assert(culprit_of(line, child, who, sizeof who),
		  "the worker %ld is not named: %s", child, line);
	cr_expect(strstr(who, relation), "%s", who);
	cr_expect(culprit_holds(who, (int)wfd), "not by fd %ld: %s", wfd, who);
	cr_expect(strstr(who, "wd_bare_fork"), "exe: %s", who);
}

Test(watch_bare_fork, read_blocked_names_the_bare_fork_child)
{
	names_the_worker(NULL, "\"relation\":\"bare-fork child\"");
}

/* A worker that exec'd the same program again is a child like any other:
 * it was called a bare-fork child for its executable alone. */
Test(watch_bare_fork, a_worker_that_exec_d_the_same_program_is_a_child)
{
	names_the_worker("exec", "\"relation\":\"child\"");
}
