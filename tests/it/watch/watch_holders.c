/* Who holds the write end of a blocked read's pipe or FIFO, in the shapes
 * a name or a fixed-size list gets wrong: a FIFO opened under another name
 * or a long path, processes that exit during the scan, a PID namespace
 * that sees the host's /proc, a /proc that hides processes, a holder
 * whose main thread has exited, holders with many fds, many holders, and
 * holders too long for the line.  One row each: the fixture
 * (wd_holders SHAPE) and what the culprits list must say:
 *
 *   NAMED        every holder, with every fd it has on it, each once, and
 *                the relation the row gives; nothing unknown, nothing
 *                left out;
 *   ONLY         exactly the list the row gives (in `relation`);
 *   COUNTED      some holders listed, and {"more":N} counting the rest:
 *                every holder accounted for. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/watch_util.h"

TestSuite(watch_holders, .timeout = 60);

enum expect { NAMED, ONLY, COUNTED };

struct row {
	const char *shape;
	const char *way;        /* NULL: read; "poll": wait_blocked */
	int n_fds;              /* fds each holder has on it */
	enum expect expect;
	const char *relation;   /* NAMED: every holder's; ONLY: the list */
	int needs_root;         /* others' processes deny a look otherwise */
};

static struct watch_run w;
static struct watch_log log_;

/* The culprits array of line, brackets matched, into buf. */
static const char *culprits_of(const char *line, char *buf, size_t cap)
{
	const char *s = strstr(line, "\"culprits\":[");
	if (!s)
		return NULL;
	s += strlen("\"culprits\":");
	int depth = 0;
	const char *e = s;
	for (; *e; e++) {
		if (*e == '[')
			depth++;
		else if (*e == ']' && --depth == 0)
			break;
	}
	snprintf(buf, cap, "%.*s", (int)(e - s + 1), s);
	return buf;
}

static int count_of(const char *text, const char *needle)
{
	int n = 0;
	for (const char *s = text; (s = strstr(s, needle)); s += strlen(needle))
		n++;
	return n;
}

/* Whether a culprit's "fds":[...] names some fd twice. */
static int fd_twice(const char *culprit)
{
	const char *l = strstr(culprit, "\"fds\":[");
	char seen[1024] = { 0 };
	for (l = l ? l + 7 : ""; *l >= '0' && *l <= '9';) {
		char *end;
		long fd = strtol(l, &end, 10);
		if (fd < (long)sizeof seen && seen[fd]++)
			return 1;
		l = *end == ',' ? end + 1 : end;
	}
	return 0;
}

static void check(const struct row *row)
{
	if (row->needs_root && geteuid() != 0)
		cr_skip_test("needs root: other users' processes deny a look");
	watch_log_init(&log_);
	const char *argv[] = { top("build/fixtures/wd_holders"), row->shape,
			       "2.5", row->way, NULL };
	const char *env[] = { "NOLEAK_MODE=audit", "NOLEAK_READ_WARN=1",
			      log_.env, NULL };
	const char *kind = row->way ? "wait_blocked" : "read_blocked";
	cr_assert_eq(access(argv[0], X_OK), 0, "%s missing", argv[0]);
	watch_start(&w, argv, env, 1, 15.0);
	int live = watch_event_while_running(&w, log_.path, kind, 2.2);
	watch_join(&w);
	struct run_result *r = &w.r;
	cr_assert(!r->timed_out && exit_code(r) == 0, "wd_holders %s: %d %s%s",
		  row->shape, exit_code(r), r->out, r->err);
	cr_expect(live, "no %s while the read waited: %s", kind, slurp(log_.path));
	cr_expect(strstr(r->out, "read=0 after=2."), "%s", r->out);

	const char *text = slurp(log_.path);
	static char line[8192], list[8192];
	char who[2048];
	cr_assert(event_line(text, kind, NULL, line, sizeof line), "%s", text);
	cr_assert(culprits_of(line, list, sizeof list),
		  "no culprits field: %s", line);
	const char *h = strstr(r->out, "holders=");
	cr_assert(h, "%s", r->out);
	int holders = 0, listed = 0;
	for (h += 8; *h >= '0' && *h <= '9';) {
		char *end;
		long pid = strtol(h, &end, 10);
		holders++;
		if (culprit_of(list, pid, who, sizeof who)) {
			listed++;
			if (row->expect == NAMED)
				cr_expect(strstr(who, row->relation), "%s: %s",
					  row->relation, who);
			for (int i = 0; row->expect == NAMED && i < row->n_fds; i++)
				cr_expect(culprit_holds(who, 40 + i),
					  "fd %d missing: %s", 40 + i, who);
			cr_expect(!fd_twice(who), "an fd twice: %s", who);
		} else
			cr_expect(row->expect != NAMED,
				  "holder %ld not named: %s", pid, list);
		h = *end == ',' ? end + 1 : end;
	}
	cr_assert_gt(holders, 0, "%s", r->out);
	switch (row->expect) {
	case NAMED:
		cr_expect(!strstr(list, "unknown") && !strstr(list, "more"),
			  "%s", list);
		cr_expect_eq(count_of(list, "{\"pid\":"), holders, "%s", list);
		break;
	case ONLY:
		cr_expect_str_eq(list, row->relation);
		break;
	case COUNTED: {
		const char *m = strstr(list, "{\"more\":");
		int more = m ? atoi(m + 8) : 0;
		cr_expect(listed > 0 && more > 0, "listed %d, more %d: %s",
			  listed, more, list);
		cr_expect_eq(listed + more, holders, "listed %d + more %d: %s",
			     listed, more, list);
		cr_expect_eq(count_of(list, "{\"pid\":"), listed, "%s", list);
		break;
	}
	}
}

#define ROW(name, ...) \
	Test(watch_holders, name) { check(&(struct row){ __VA_ARGS__ }); }
#define BARE "\"relation\":\"bare-fork child\""
#define CHILD "\"relation\":\"child\""

/* A FIFO is one object under every name. */
ROW(hardlink_fifo_writer, "hardlink", NULL, 1, NAMED, BARE, 0)
ROW(long_fifo_path_writer, "longpath", NULL, 1, NAMED, BARE, 0)
/* A process gone between the listing of /proc and the look at its fds
 * denied nothing. */
ROW(exiting_processes_are_not_denied, "churn", NULL, 1, NAMED, BARE, 1)
/* The host's /proc seen from a PID namespace lists other pids. */
ROW(pid_namespace_with_the_host_proc, "pidns", NULL, 1, ONLY,
    "[{\"relation\":\"unknown (/proc unavailable)\"}]", 0)
/* A /proc mounted with hidepid=invisible neither lists nor refuses the
 * processes the reader may not look at: they are said to be hidden. */
ROW(holder_hidden_by_hidepid, "hidepid", NULL, 1, ONLY,
    "[{\"relation\":\"unknown (hidden by hidepid)\"}]", 1)
/* A holder whose main thread has exited has its fds in its other
 * threads' tables (/proc/PID/fd lists none): each table once, a thread's
 * own (unshare(CLONE_FILES)) too. */
ROW(holder_whose_main_thread_exited, "leader", NULL, 2, NAMED, BARE, 0)
/* No fixed-size list: every fd, every holder, and a count of those the
 * line has no room for. */
ROW(holder_with_12_fds, "fds:12", NULL, 12, NAMED, BARE, 0)
ROW(twenty_holders, "holders:20", NULL, 1, NAMED, CHILD, 0)
ROW(holders_with_long_cmdlines, "longcmd:20", NULL, 1, COUNTED, NULL, 0)
ROW(twenty_holders_of_a_wait, "holders:20", "poll", 1, COUNTED, NULL, 0)

/* A FIFO's holders are found by inode, and only a file fdinfo gives the
 * FIFO's inode number is stat'ed: the file system of any other file open
 * on the host (a hung network mount) is asked nothing.  Counted: the stat
 * calls on /proc/PID/fd/N links, at most the reader's and the writer's
 * (before: one per file of every process). */
Test(watch_holders, only_the_fifo_is_stat_ed)
{
	char cmd[8192], log[1024];
	snprintf(log, sizeof log, "%s/stat.log", tmpdir());
	snprintf(cmd, sizeof cmd,
		 "NOLEAK_MODE=audit NOLEAK_READ_WARN=1 NOLEAK_LOG=%s "
		 "LD_PRELOAD=%s %s hardlink 2.5",
		 log, top("build/libnoleak.so"), top("build/fixtures/wd_holders"));
	const char *t = trace_calls("stat,newfstatat,statx", cmd);
	int on_fds = 0;
	for (const char *s = t; (s = strstr(s, "\"/proc/")); s++) {
		const char *q = s + 7;
		while (*q >= '0' && *q <= '9')
			q++;
		on_fds += !strncmp(q, "/fd/", 4);
	}
	const char *l = slurp(log);
	cr_expect(strstr(l, "\"culprits\":[{"), "no holder named: %s", l);
	cr_expect_leq(on_fds, 4, "%d stat calls on fd links:\n%s", on_fds, t);
}
