/* Who holds the other end of a blocked read's UNIX socket.  The socket's
 * peer credentials (SO_PEERCRED) name the process that made the pair or
 * connected, at that time: the reader itself for a socketpair it made, a
 * process gone for a connection passed on, the process that listened for
 * one not accepted yet.  The culprits are the processes holding the other
 * end now, as for a pipe, or, while the connection waits in a listener's
 * backlog (its other end has no socket yet), the listener's.  One row
 * each: the fixture (wd_unix_peer SHAPE) and what the event must say:
 *
 *   HOLDER  culprits lists the holder the fixture names (of the other end,
 *           or of the listener), with fd 40 and the row's relation, and no
 *           one else (not the reader, not the process that connected);
 *   CRED    no culprits; peer names the reader by its credentials, marked
 *           "credentials at connect". */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/watch_util.h"

TestSuite(watch_unix_peer, .timeout = 60);

enum expect { HOLDER, CRED };

struct row {
	const char *shape;
	const char *way;        /* NULL: read; "poll": wait_blocked */
	enum expect expect;
	const char *relation;
};

static struct watch_run w;
static struct watch_log log_;

static void check(const struct row *row)
{
	watch_log_init(&log_);
	const char *argv[] = { top("build/fixtures/wd_unix_peer"), row->shape,
			       "2.5", row->way, NULL };
	const char *env[] = { "NOLEAK_MODE=audit", "NOLEAK_READ_WARN=1",
			      log_.env, NULL };
	const char *kind = row->way ? "wait_blocked" : "read_blocked";
	cr_assert_eq(access(argv[0], X_OK), 0, "%s missing", argv[0]);
	watch_start(&w, argv, env, 1, 15.0);
	int live = watch_event_while_running(&w, log_.path, kind, 2.2);
	watch_join(&w);
	struct run_result *r = &w.r;
	cr_assert(!r->timed_out && exit_code(r) == 0, "wd_unix_peer %s: %d %s%s",
		  row->shape, exit_code(r), r->out, r->err);
	cr_expect(live, "no %s while the read waited: %s", kind, slurp(log_.path));
	cr_expect(strstr(r->out, "read=0 after=2."), "%s", r->out);

	const char *text = slurp(log_.path);
	static char line[8192];
	char who[2048], want[128];
	cr_assert(event_line(text, kind, NULL, line, sizeof line), "%s", text);
	long holder = out_long(r->out, "holders");
	cr_assert_gt(holder, 0, "%s", r->out);
	long reader = out_long(r->out, "reader");
	cr_assert_gt(reader, 0, "%s", r->out);
	if (row->expect == CRED) {
		cr_expect_null(strstr(line, "\"culprits\":"), "%s", line);
		snprintf(want, sizeof want, "\"peer\":{\"pid\":%ld,", reader);
		cr_expect(strstr(line, want), "expected %s in: %s", want, line);
		cr_expect(strstr(line, "\"relation\":\"credentials at connect\"}"),
			  "%s", line);
		return;
	}
	cr_expect_null(strstr(line, "\"peer\":{"), "%s", line);
	cr_assert(strstr(line, "\"culprits\":["), "no culprits: %s", line);
	cr_assert(culprit_of(line, holder, who, sizeof who),
		  "holder %ld not named: %s", holder, line);
	snprintf(want, sizeof want, "\"relation\":\"%s\"}", row->relation);
	cr_expect(strstr(who, want), "expected %s in: %s", want, who);
	cr_expect(culprit_holds(who, 40), "fd 40 missing: %s", who);
	cr_expect_null(culprit_of(line, reader, who, sizeof who),
		       "the reader named: %s", line);
	long connector = out_long(r->out, "connector");
	if (connector > 0)
		cr_expect_null(culprit_of(line, connector, who, sizeof who),
			       "the connector named: %s", line);
	cr_expect(!strstr(line, "unknown") && !strstr(line, "\"more\""),
		  "%s", line);
}

#define ROW(name, ...) \
	Test(watch_unix_peer, name) { check(&(struct row){ __VA_ARGS__ }); }

/* The pair's credentials are the reader's own. */
ROW(socketpair_end_in_a_fork_child, "pair", NULL, HOLDER, "bare-fork child")
ROW(socketpair_end_in_an_exec_child, "exec", NULL, HOLDER, "child")
ROW(socketpair_end_of_a_wait, "pair", "poll", HOLDER, "bare-fork child")
/* The credentials are of a process that has exited. */
ROW(connection_passed_on_by_an_exited_connector, "handoff", NULL, HOLDER,
    "bare-fork child")
/* The server never accepted: whoever holds the listener could. */
ROW(connection_not_accepted_names_the_listener, "backlog", NULL, HOLDER,
    "bare-fork child")
/* Without sock_diag, the credentials, said to be only that. */
ROW(no_sock_diag_names_the_credentials, "nodiag", NULL, CRED, NULL)
