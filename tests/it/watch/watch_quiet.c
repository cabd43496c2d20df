/* Audit must not cry wolf: a server waiting for work is not a hang.  A
 * wait on listening sockets, eventfds or an unconnected datagram socket
 * logs nothing, however long; a wait on a pipe still logs wait_blocked. */
#include <criterion/criterion.h>

#include <string.h>

#include "../../lib/watch_util.h"

static struct run_result r;
static struct watch_log log_;

static void run_rows(char *rows[])
{
	char *argv[16] = { (char *)top("build/fixtures/rd_contract") };
	for (int i = 0; rows[i] && i < 14; i++)
		argv[i + 1] = rows[i];
	char *env[] = { "NOLEAK_MODE=audit", "NOLEAK_READ_WARN=1", log_.env, NULL };
	cr_assert_eq(run(&r, argv, env, 1, 30.0, NULL), 0);
	cr_assert(exit_code(&r) == 0 && !r.timed_out, "%s%s", r.out, r.err);
}

/* The real daemon's idle poll on its listener: 3 s with read_warn = 1. */
Test(watch_quiet, idle_servers_log_nothing, .timeout = 60)
{
	watch_log_init(&log_);
	char *rows[] = { "poll:listener:idle", "ppoll:listener:idle",
			 "select:listener:idle", "epoll_wait:listener:idle",
			 "poll:udp:idle", "pselect:eventfd:idle",
			 "epoll_pwait:udp:idle", "read:udp:none",
			 "recvfrom:udp:none", NULL };
	run_rows(rows);
	cr_expect(strstr(r.out, "poll:listener:idle: r=0 errno=0 got=0 class=mid"),
		  "%s", r.out);
	const char *text = slurp(log_.path);
	char line[8192];
	cr_expect(!event_line(text, "wait_blocked", NULL, line, sizeof line),
		  "a server waiting for work was logged: %s", line);
	cr_expect(!event_line(text, "read_blocked", "\"kind\":\"socket\"", line,
			      sizeof line),
		  "a datagram server was logged: %s", line);
}

Test(watch_quiet, a_pipe_wait_still_logs, .timeout = 60)
{
	watch_log_init(&log_);
	char *rows[] = { "poll:pipe:idle", NULL };
	run_rows(rows);
	char line[8192];
	cr_expect(event_line(slurp(log_.path), "wait_blocked", NULL, line,
			     sizeof line), "%s", slurp(log_.path));
}
