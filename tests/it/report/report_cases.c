/* noleak-report on small hand-written logs, one row per case: the log (or a
 * function writing it), the arguments, the exit status, what stdout must
 * and must not hold, and what stderr must hold.  A new case is one row.
 * Output asked for with --json must also parse as JSON. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/run.h"

/* An event line; `rest` starts with a comma. */
#define AT "\"ts\":\"2026-11-29T06:00:00.000001Z\",\"ppid\":1,\"mode\":\"audit\",\"host\":\"h\""
#define EV(kind, exe, rest) \
	"{\"event\":\"" kind "\",\"pid\":100,\"exe\":\"" exe "\"," AT rest "}\n"
#define CLOSED ",\"action\":\"closed\",\"fd\":4,\"kind\":\"pipe\",\"via\":\"execve\"," \
	       "\"target\":\"/bin/sh\",\"created_by\":\"pipe\""
#define LEAK ",\"action\":\"would_close\",\"fd\":4,\"kind\":\"pipe\",\"via\":\"execve\"," \
	     "\"target\":\"/bin/sh\",\"created_by\":\"pipe\""
#define READ ",\"fd\":3,\"call\":\"read\",\"waited\":12.5"
/* A terminal and a UNIX socket as the shim describes them (culprit.c). */
#define TTY "{\"path\":\"/dev/pts/3 (deleted)\",\"deleted\":true,\"hung_up\":true," \
	    "\"foreground\":false}"
#define PEER "{\"pid\":18505,\"exe\":\"/usr/bin/python3.11\"}"
#define NOMEM ",\"feature\":\"exec_sweep\",\"fallback\":\"kept_every_fd\"," \
	      "\"via\":\"execve\",\"target\":\"/bin/sh\""
/* An event at a time of its own (hh:mm:ss on 2026-11-29, or "" for a line
 * without one), opening with "ts" as the shim writes it. */
#define EVT(hms, kind, rest) \
	"{" hms "\"event\":\"" kind "\",\"pid\":100,\"exe\":\"/usr/bin/agent\"," \
	"\"ppid\":1,\"mode\":\"audit\",\"host\":\"h\"" rest "}\n"
#define TS(hms) "\"ts\":\"2026-11-29T" hms "Z\","
/* A worker's reads of requests on fd 3, a pipe its child holds open. */
#define PIPE3 ",\"fd\":3,\"call\":\"read\",\"kind\":\"pipe\",\"object\":\"pipe:[1]\"," \
	      "\"end\":\"read\",\"culprits\":[{\"pid\":4250,\"exe\":\"/usr/bin/sleep\"," \
	      "\"cmdline\":\"sleep 3600\",\"fds\":[4],\"relation\":\"child\"}]"
#define BLOCKED(hms) EVT(hms, "read_blocked", PIPE3 ",\"waited\":30")
#define UNBLOCKED(hms) EVT(hms, "read_unblocked", \
			   ",\"fd\":3,\"call\":\"read\",\"waited\":40.000,\"result\":5")
/* The same worker waiting in poll() on fd 3, and the wait's end. */
#define WAIT_BLOCKED(hms) EVT(hms, "wait_blocked", ",\"call\":\"poll\",\"waited\":30," \
			      "\"n_fds\":1,\"fds\":[{\"fd\":3,\"kind\":\"pipe\"," \
			      "\"object\":\"pipe:[1]\",\"culprits\":[]}]")
#define WAIT_UNBLOCKED(hms) EVT(hms, "wait_unblocked", \
				",\"call\":\"poll\",\"waited\":40.000,\"result\":1")
#define TIMEOUT(hms, action) EVT(hms, "read_timeout", PIPE3 ",\"waited\":5," \
				  "\"action\":\"" action "\"")

struct report_case {
	const char *name;
	const char *log;              /* the log's text, or */
	void (*gen)(FILE *f);         /* what writes it */
	const char *args[4];          /* before the log's path */
	int exit;
	const char *want[4];          /* in stdout */
	const char *never[4];         /* not in stdout */
	const char *err;              /* in stderr */
};

/* enforce closed fds 4, 6, ..., 300 of one program */
static void many_closed_fds(FILE *f)
{
	for (int fd = 4; fd <= 300; fd += 2)
		fprintf(f, EV("fd_leak", "/usr/bin/agent",
			      ",\"action\":\"closed\",\"fd\":%d,\"kind\":\"pipe\","
			      "\"via\":\"execve\",\"target\":\"/bin/sh\""), fd);
}

/* 200,000 reads that ended, each of a process of its own, and no block
 * in the log (theirs were in logs not read) */
static void ends_only(FILE *f)
{
	for (int i = 1; i <= 200000; i++)
		fprintf(f, "{\"event\":\"read_unblocked\",\"pid\":%d,\"exe\":\"/x\","
			   "\"host\":\"h\",\"fd\":3,\"call\":\"read\","
			   "\"waited\":1.000,\"result\":1}\n", i);
}

/* the same, then a read of another process that blocked and ended */
static void ends_then_a_pair(FILE *f)
{
	ends_only(f);
	fputs(BLOCKED(TS("10:00:00")) UNBLOCKED(TS("10:00:40")), f);
}

static const struct report_case cases[] = {
	/* names are printed for a terminal: no escape sequence or line of
	 * their own, C0 or C1, in any part of the report */
	{ .name = "restore_line_escapes_the_program",
	  .log = EV("fd_leak", "/opt/x\\u001b[2J\\nresult: no leaks or hangs found\\n", CLOSED),
	  .exit = 1,
	  .want = { "restore with: [program /opt/x?\\[2J?result: no leaks",
		    "result: leaks or hangs found" },
	  .never = { "\033", "\nresult: no leaks" } },
	{ .name = "c1_controls_are_escaped",
	  .log = EV("fd_leak", "/opt/y\\u009b31mZ", CLOSED)
		 EV("fd_leak", "/opt/y\\u009b31mZ", LEAK)
		 EV("read_blocked", "/opt/y\\u009b32mZ", READ ",\"culprits\":"
		    "[{\"pid\":4,\"exe\":\"/bin/\\u0085w\",\"relation\":\"child\"}]"),
	  .exit = 1,
	  .want = { "[program /opt/y?31mZ]", "/bin/?w (pid 4", "y?32mZ" },
	  .never = { "\xc2\x9b", "\xc2\x85" } },
	{ .name = "c1_controls_are_escaped_in_json",
	  .log = EV("fd_leak", "/opt/y\\u009b31mZ", LEAK),
	  .args = { "--json" }, .exit = 1,
	  .want = { "/opt/y\\u009b31mZ" }, .never = { "\xc2\x9b" } },
	/* the Unicode bidirectional controls (U+061C, U+200E, U+200F,
	 * U+202A-U+202E, U+2066-U+2069) reorder a line on a terminal, and
	 * U+2028, U+2029 break it: escaped as the controls they are, escaped
	 * in the log or written raw */
	{ .name = "bidi_controls_are_escaped",
	  .log = EV("fd_leak", "/opt/r\\u202eZ", CLOSED)
		 EV("fd_leak", "/opt/i\\u2066Z", LEAK)
		 EV("read_blocked", "/opt/m\\u061cZ", READ ",\"culprits\":"
		    "[{\"pid\":4,\"exe\":\"/bin/\\u200fw\",\"relation\":\"child\"}]"),
	  .exit = 1,
	  .want = { "[program /opt/r???Z]", "/opt/i?Z", "/opt/m?Z",
		    "/bin/?w (pid 4" },
	  .never = { "\xe2\x80\xae", "\xe2\x81\xa6", "\xd8\x9c", "\xe2\x80\x8f" } },
	{ .name = "raw_bidi_controls_and_line_separators_are_escaped",
	  .log = EV("fd_leak", "/opt/e\xe2\x80\xaaZ", CLOSED)
		 EV("fd_leak", "/opt/p\xe2\x81\xa9Z", LEAK)
		 EV("read_blocked", "/opt/l\xe2\x80\xa8Z", READ ",\"culprits\":"
		    "[{\"pid\":4,\"exe\":\"/bin/\xe2\x80\xa9w\",\"relation\":\"child\"}]"),
	  .exit = 1,
	  .want = { "[program /opt/e???Z]", "/opt/p?Z", "/opt/l?Z",
		    "/bin/?w (pid 4" },
	  .never = { "\xe2\x80\xaa", "\xe2\x81\xa9", "\xe2\x80\xa8", "\xe2\x80\xa9" } },
	{ .name = "bidi_controls_are_escaped_in_json",
	  .log = EV("fd_leak", "/opt/r\\u202eZ", LEAK)
		 EV("fd_leak", "/opt/m\xd8\x9cZ", LEAK),
	  .args = { "--json" }, .exit = 1,
	  .want = { "/opt/r\\u202eZ", "/opt/m\\u061cZ" },
	  .never = { "\xe2\x80\xae", "\xd8\x9c" } },
	/* \u0080 to \u00ff in a log are bytes that were not UTF-8 (the shim
	 * writes UTF-8 as it is): the report names the program by those
	 * bytes, never by the characters U+0080 to U+00FF */
	{ .name = "escaped_bytes_stay_bytes",
	  .log = EV("fd_leak", "/opt/caf\\u00e9", CLOSED),
	  .exit = 1, .want = { "restore with: [program /opt/caf?] keep_fds = 4" },
	  .never = { "caf\xc3\xa9" } },
	{ .name = "escaped_bytes_stay_bytes_in_json",
	  .log = EV("fd_leak", "/opt/caf\\u00e9", CLOSED)
		 EV("fd_leak", "/opt/y\xc2\x9bz", CLOSED),
	  .args = { "--json" }, .exit = 1,
	  .want = { "\"program\":\"/opt/caf\\u00e9\"",
		    "\"section\":\"[program /opt/caf\\u00e9]\"",
		    "\"program\":\"/opt/y\\u00c2\\u009bz\"" },
	  .never = { "caf\xc3\xa9", "\xc2\x9b" } },
	/* sums of huge "count"s stop at the largest number, never wrap */
	{ .name = "huge_counts_saturate",
	  .log = EV("fd_leak", "/usr/bin/agent", LEAK ",\"count\":9223372036854775000")
		 EV("fd_leak", "/usr/bin/agent", LEAK ",\"count\":9223372036854775000")
		 EV("fd_leak", "/usr/bin/agent", LEAK ",\"count\":1616"),
	  .exit = 1,
	  .want = { "18446744073709551615", "result: leaks or hangs found" },
	  .never = { "no leaks or hangs found" } },
	{ .name = "huge_counts_saturate_in_json",
	  .log = EV("fd_leak", "/usr/bin/agent", LEAK ",\"count\":9223372036854775000")
		 EV("fd_leak", "/usr/bin/agent", LEAK ",\"count\":9223372036854775000")
		 EV("fd_leak", "/usr/bin/agent", LEAK ",\"count\":1616"),
	  .args = { "--json" }, .exit = 1,
	  .want = { "\"fd_leak\":18446744073709551615", "\"problems\":true" } },
	/* an unblock whose block is not in the logs read makes no row */
	{ .name = "lone_unblock_makes_no_row",
	  .log = EV("read_unblocked", "/usr/bin/agent", READ ",\"result\":0"),
	  .exit = 0, .want = { "no leaks or hangs found" },
	  .never = { "pid 0", "held by", "(none logged)" } },
	{ .name = "lone_unblock_makes_no_row_in_json",
	  .log = EV("read_unblocked", "/usr/bin/agent", READ ",\"result\":0"),
	  .args = { "--json" }, .exit = 0,
	  .want = { "\"rows\":[]}" }, .never = { "\"host\":\"\"", "1970-" } },
	{ .name = "unblock_of_a_filtered_block_makes_no_row",
	  .log = EV("read_blocked", "/usr/bin/agent", READ ",\"culprits\":[]")
		 EV("read_unblocked", "/usr/bin/agent", READ ",\"result\":0"),
	  .args = { "--event", "read_unblocked" }, .exit = 0,
	  .want = { "no leaks or hangs found" }, .never = { "held by" } },
	/* one row covers every read of a pid's fd: it still waits when its
	 * last block came after its last end, by time, or, for lines
	 * without one, when it has more blocks than ends */
	{ .name = "a_read_blocked_again_after_an_unblock_still_waits",
	  .log = BLOCKED(TS("10:00:00")) UNBLOCKED(TS("10:00:40")) BLOCKED(TS("11:00:00")),
	  .exit = 1, .want = { "40.0s+", "held by: sleep 3600 (pid 4250" } },
	{ .name = "a_read_blocked_again_after_an_unblock_still_waits_in_json",
	  .log = BLOCKED(TS("10:00:00")) UNBLOCKED(TS("10:00:40")) BLOCKED(TS("11:00:00")),
	  .args = { "--json" }, .exit = 1,
	  .want = { "\"unblocked\":false", "\"count\":2" },
	  .never = { "\"unblocked\":true" } },
	/* ... and a read that ended was slow, not stuck: no hang */
	{ .name = "an_unblock_after_the_last_block_ends_it",
	  .log = BLOCKED(TS("10:00:00")) UNBLOCKED(TS("10:00:40")) BLOCKED(TS("11:00:00"))
		 UNBLOCKED(TS("11:00:40")),
	  .exit = 0, .want = { "40.0s  ", "result: no leaks or hangs found" },
	  .never = { "40.0s+" } },
	/* an end of another fd's read ends nothing */
	{ .name = "an_unblock_of_another_read_ends_nothing",
	  .log = BLOCKED(TS("10:00:00")) EVT(TS("10:00:40"), "read_unblocked",
		 ",\"fd\":4,\"call\":\"read\",\"waited\":40.000,\"result\":5"),
	  .exit = 1, .want = { "30.0s+", "result: leaks or hangs found" } },
	/* a wait of the poll family ends with wait_unblocked, which names
	 * no fds: paired by process and call */
	{ .name = "a_wait_that_ended_is_no_hang",
	  .log = WAIT_BLOCKED(TS("10:00:00")) WAIT_UNBLOCKED(TS("10:00:40")),
	  .exit = 0, .want = { "40.0s  ", "fd 3 pipe", "1 blocked, 1 unblocked events",
			       "result: no leaks or hangs found" },
	  .never = { "40.0s+" } },
	{ .name = "a_wait_blocked_again_still_waits",
	  .log = WAIT_BLOCKED(TS("10:00:00")) WAIT_UNBLOCKED(TS("10:00:40"))
		 WAIT_BLOCKED(TS("11:00:00")),
	  .args = { "--json" }, .exit = 1, .want = { "\"unblocked\":false" } },
	{ .name = "a_wait_end_ends_no_read",
	  .log = BLOCKED(TS("10:00:00")) WAIT_UNBLOCKED(TS("10:00:40")),
	  .exit = 1, .want = { "30.0s+", "result: leaks or hangs found" } },
	/* rotated logs are read newest file first: time decides, not order */
	{ .name = "the_latest_time_decides_whatever_the_order",
	  .log = BLOCKED(TS("11:00:00")) BLOCKED(TS("10:00:00")) UNBLOCKED(TS("10:00:40")),
	  .args = { "--json" }, .exit = 1, .want = { "\"unblocked\":false" } },
	/* the current file is read before the rotated one that holds the
	 * block: the end read first still ends it */
	{ .name = "an_end_read_before_its_block_ends_it",
	  .log = UNBLOCKED(TS("10:00:40")) BLOCKED(TS("10:00:00")),
	  .args = { "--json" }, .exit = 0, .want = { "\"unblocked\":true" } },
	{ .name = "an_end_read_before_an_earlier_block_of_two",
	  .log = BLOCKED(TS("11:00:00")) UNBLOCKED(TS("10:00:40")) BLOCKED(TS("10:00:00")),
	  .args = { "--json" }, .exit = 1, .want = { "\"unblocked\":false" } },
	{ .name = "an_end_read_first_ends_the_text_row",
	  .log = UNBLOCKED(TS("10:00:40")) BLOCKED(TS("10:00:00")),
	  .exit = 0, .want = { "30.0s  ", "result: no leaks or hangs found" },
	  .never = { "30.0s+" } },
	/* ends kept for blocks read later took the room of the blocks'
	 * states: past it every read was taken for one still waiting */
	{ .name = "ends_alone_are_no_hang", .gen = ends_only, .exit = 0,
	  .want = { "result: no leaks or hangs found" } },
	{ .name = "ends_alone_leave_the_blocks_their_room", .gen = ends_then_a_pair,
	  .exit = 0, .want = { "40.0s  ", "result: no leaks or hangs found" } },
	{ .name = "without_times_more_blocks_than_ends_still_wait",
	  .log = BLOCKED("") UNBLOCKED("") BLOCKED(""),
	  .args = { "--json" }, .exit = 1, .want = { "\"unblocked\":false" } },
	{ .name = "without_times_as_many_ends_as_blocks_ended",
	  .log = BLOCKED("") UNBLOCKED("") BLOCKED("") UNBLOCKED(""),
	  .args = { "--json" }, .exit = 0, .want = { "\"unblocked\":true" } },
	/* a read the shim timed out (or in audit would have) is a hang:
	 * shown with its culprits, and the run does not pass */
	{ .name = "a_timed_out_read_is_a_hang",
	  .log = TIMEOUT(TS("10:00:05"), "timed_out"),
	  .exit = 1,
	  .want = { "read_timeout: timed out 1 read; held by: sleep 3600 (pid 4250",
		    "1 read_timeout events", "    5.0s  ", "result: leaks or hangs found" },
	  .never = { "no leaks or hangs found", "other events", "5.0s+" } },
	{ .name = "a_timed_out_read_is_a_hang_in_json",
	  .log = TIMEOUT(TS("10:00:05"), "timed_out"),
	  .args = { "--json" }, .exit = 1,
	  .want = { "\"read_timeout_events\":1", "\"unblocked\":true,\"timed_out\":1,"
		    "\"would_time_out\":0,\"culprits\":\"sleep 3600 (pid 4250",
		    "\"problems\":true" } },
	{ .name = "a_read_audit_would_time_out_still_waits",
	  .log = TIMEOUT(TS("10:00:05"), "would_time_out"),
	  .exit = 1,
	  .want = { "5.0s+", "read_timeout (audit): would have timed out 1 read; held by: sleep",
		    "result: leaks or hangs found" } },
	/* read_warn on: blocked, then timed out (and the read returned) */
	{ .name = "a_warned_read_that_timed_out_ended",
	  .log = BLOCKED(TS("10:00:01")) TIMEOUT(TS("10:00:05"), "timed_out")
		 UNBLOCKED(TS("10:00:05")),
	  .exit = 1, .want = { "40.0s  ", "timed out 1 read" }, .never = { "40.0s+" } },
	{ .name = "a_warned_read_that_timed_out_ended_without_times",
	  .log = BLOCKED("") TIMEOUT("", "timed_out") UNBLOCKED(""),
	  .exit = 1, .want = { "40.0s  ", "timed out 1 read" }, .never = { "40.0s+" } },
	{ .name = "a_read_timeout_is_kept_by_the_event_filter",
	  .log = TIMEOUT(TS("10:00:05"), "timed_out") EV("fd_leak", "/usr/bin/agent", LEAK),
	  .args = { "--event", "read_timeout" }, .exit = 1,
	  .want = { "timed out 1 read" }, .never = { "Leaked fds" } },
	/* a "count" up to the largest integer is that count */
	{ .name = "a_count_just_below_the_largest_integer_counts",
	  .log = EV("fd_leak", "/usr/bin/agent", LEAK ",\"count\":9223372036854775806"),
	  .args = { "--json" }, .exit = 1,
	  .want = { "\"fd_leak\":9223372036854775806" } },
	{ .name = "a_count_of_the_largest_integer_counts",
	  .log = EV("fd_leak", "/usr/bin/agent", LEAK ",\"count\":9223372036854775807"),
	  .args = { "--json" }, .exit = 1,
	  .want = { "\"fd_leak\":9223372036854775807" } },
	/* a date given to --until is the whole of that day */
	{ .name = "since_and_until_the_same_date_keep_that_day",
	  .log = EVT(TS("00:00:00"), "fd_leak", LEAK) EVT(TS("23:59:59.999999"), "fd_leak", LEAK)
		 EVT("\"ts\":\"2026-11-30T00:00:00Z\",", "fd_leak", LEAK)
		 EVT("\"ts\":\"2026-11-28T23:59:59.999999Z\",", "fd_leak", LEAK),
	  .args = { "--since", "2026-11-29", "--until", "2026-11-29" }, .exit = 1,
	  .want = { "2 events kept", "2 filtered out",
		    "time range: 2026-11-29 00:00:00Z to 2026-11-29 23:59:59Z" } },
	/* a line cut short with the next event glued to it: the cut part
	 * is malformed, the event after it is kept */
	{ .name = "an_event_glued_to_a_cut_line_is_kept",
	  .log = "{\"ts\":\"2026-11-29T06:00:00Z\",\"event\":\"fd_le"
		 EVT(TS("06:00:01"), "fd_leak", LEAK),
	  .exit = 1,
	  .want = { "1 line, 1 event kept", "skipped 1 malformed line",
		    "/usr/bin/agent", "result: leaks or hangs found" } },
	{ .name = "an_event_glued_to_two_cut_lines_is_kept",
	  .log = "{\"ts\":\"2026-11-29T06:00:00Z\",\"a\":{\"ts\":1,\"b\":[{\"ts\":\"x"
		 "{\"ts\":\"2026-11-29T06:00:00Z\",\"event\":\"nomem"
		 EVT(TS("06:00:01"), "fd_leak", LEAK),
	  .args = { "--json" }, .exit = 1,
	  .want = { "\"lines\":1,\"events\":1,\"malformed\":1", "\"fd_leak\":1,",
		    "\"nomem\":0" } },
	{ .name = "a_cut_line_glued_to_a_cut_line_is_one_malformed_line",
	  .log = "{\"ts\":\"2026-11-29T06:00:00Z\",\"event\":\"fd_le"
		 "{\"ts\":\"2026-11-29T06:00:01Z\",\"event\":\"fd_leak\",\"pid\":1\n",
	  .exit = 0, .want = { "1 line, 0 events kept", "skipped 1 malformed line" } },
	/* the culprits of blocked reads: every shape the shim writes */
	{ .name = "unix_peer_holds_the_other_end",
	  .log = EV("read_blocked", "/usr/bin/agent", READ ",\"kind\":\"socket\","
		    "\"object\":\"socket:[7]\",\"peer\":" PEER),
	  .exit = 1,
	  .want = { "held by: /usr/bin/python3.11 (pid 18505, unix peer)" },
	  .never = { "(none logged)" } },
	{ .name = "holders_the_shim_could_not_see_are_counted",
	  .log = EV("read_blocked", "/usr/bin/agent", READ ",\"kind\":\"pipe\","
		    "\"object\":\"pipe:[9]\",\"culprits\":[{\"pid\":7,"
		    "\"exe\":\"/bin/sleep\",\"relation\":\"child\"},"
		    "{\"relation\":\"unknown (permission)\",\"processes\":3}]"),
	  .exit = 1,
	  .want = { "unknown (permission): 3 processes" },
	  .never = { "pid -1", "? (" } },
	{ .name = "terminal_state_is_shown",
	  .log = EV("read_blocked", "/usr/bin/agent", READ ",\"kind\":\"tty\","
		    "\"object\":\"/dev/pts/3 (deleted)\",\"tty\":" TTY),
	  .exit = 1,
	  .want = { "held by: terminal /dev/pts/3 (deleted), hung up, background" },
	  .never = { "(none logged)" } },
	{ .name = "wait_fds_show_peer_terminal_and_tcp",
	  .log = EV("wait_blocked", "/usr/bin/agent",
		    ",\"call\":\"poll\",\"waited\":30,\"n_fds\":3,\"fds\":["
		    "{\"fd\":5,\"kind\":\"socket\",\"object\":\"socket:[7]\",\"peer\":" PEER "},"
		    "{\"fd\":0,\"kind\":\"tty\",\"object\":\"/dev/pts/3\",\"tty\":"
		    "{\"path\":\"/dev/pts/3\",\"deleted\":false,\"hung_up\":false,"
		    "\"foreground\":true}},"
		    "{\"fd\":6,\"kind\":\"socket\",\"object\":\"socket:[8]\",\"tcp\":"
		    "{\"state\":\"ESTABLISHED\",\"peer\":\"10.0.0.1:80\",\"unacked\":2}}]"),
	  .args = { "--json" }, .exit = 1,
	  .want = { "/usr/bin/python3.11 (pid 18505, unix peer); terminal /dev/pts/3, "
		    "foreground; tcp ESTABLISHED peer 10.0.0.1:80 unacked 2" } },
	/* an epoll wait's fds the line had no room for: a count, no fd */
	{ .name = "wait_fds_left_out_are_counted",
	  .log = EV("wait_blocked", "/usr/bin/agent",
		    ",\"call\":\"epoll_wait\",\"waited\":30,\"n_fds\":41,\"fds\":["
		    "{\"fd\":5,\"kind\":\"pipe\",\"object\":\"pipe:[7]\"},"
		    "{\"more\":40}]"),
	  .args = { "--json" }, .exit = 1,
	  .want = { "fd 5 pipe, 40 more fds" },
	  .never = { "fd -1" } },
	/* the line that restores what enforce closed names every fd */
	{ .name = "restore_lists_every_fd", .gen = many_closed_fds, .exit = 1,
	  .want = { "keep_fds = 4,6,8,", ",150,152,154,156,", ",296,298,300\n" } },
	{ .name = "restore_lists_every_fd_in_json", .gen = many_closed_fds,
	  .args = { "--json" }, .exit = 1,
	  .want = { "\"keep_fds\":\"4,6,8,", ",150,152,154,156,", ",296,298,300\"" } },
	/* a misspelt kind would filter everything out and pass a CI gate */
	{ .name = "unknown_event_kind_is_a_usage_error",
	  .log = EV("fd_leak", "/usr/bin/agent", LEAK),
	  .args = { "--event", "fd_leaks" }, .exit = 2,
	  .err = "--event: unknown event kind 'fd_leaks'" },
	/* a line's fields are cleared before the next is read, also after a
	 * line that was valid only up to its middle */
	{ .name = "no_field_outlives_its_line",
	  .log = "{\"event\":\"fd_leak\",\"exe\":\"/stale/exe\",\"target\":\"/stale/t\",\n"
		 "{\"event\":\"fd_leak\",\"action\":\"would_close\",\"fd\":4}\n",
	  .exit = 1, .want = { "skipped 1 malformed line", "(unknown program)" },
	  .never = { "/stale" } },
	/* the exec sweep that kept every fd checked nothing: said, and not
	 * "no leaks" */
	{ .name = "nomem_is_shown_and_not_clean",
	  .log = EV("nomem", "/usr/bin/agent", NOMEM), .exit = 1,
	  .want = { "(nomem)", "exec_sweep", "kept_every_fd",
		    "result: fds may have leaked unseen" },
	  .never = { "no leaks or hangs found" } },
	{ .name = "nomem_in_json",
	  .log = EV("nomem", "/usr/bin/agent", NOMEM),
	  .args = { "--json" }, .exit = 1,
	  .want = { "\"nomem\":{\"rows\":[{\"program\":\"/usr/bin/agent\","
		    "\"feature\":\"exec_sweep\"", "\"problems\":true" } },
};

static void check_case(const struct report_case *c, const char *dir)
{
	char path[600], cmd[800];
	snprintf(path, sizeof path, "%s/%s.log", dir, c->name);
	FILE *f = fopen(path, "w");
	cr_assert(f, "%s: cannot write %s", c->name, path);
	if (c->gen)
		c->gen(f);
	else
		fputs(c->log, f);
	fclose(f);

	char *argv[8] = { (char *)top("build/noleak-report") };
	int n = 1, json = 0;
	for (int i = 0; i < 4 && c->args[i]; i++) {
		argv[n++] = (char *)c->args[i];
		json |= !strcmp(c->args[i], "--json");
	}
	argv[n++] = path;
	argv[n] = NULL;
	struct run_result r;
	run(&r, argv, NULL, 0, 30, NULL);
	cr_assert(!r.timed_out, "%s: noleak-report hung", c->name);
	cr_expect_eq(exit_code(&r), c->exit, "%s: exit %d, not %d\n%s%s", c->name,
		     exit_code(&r), c->exit, r.out, r.err);
	for (int i = 0; i < 4 && c->want[i]; i++)
		cr_expect(strstr(r.out, c->want[i]), "%s: no \"%s\" in:\n%s", c->name,
			  c->want[i], r.out);
	for (int i = 0; i < 4 && c->never[i]; i++)
		cr_expect(!strstr(r.out, c->never[i]), "%s: \"%s\" in:\n%s", c->name,
			  c->never[i], r.out);
	if (c->err)
		cr_expect(strstr(r.err, c->err), "%s: no \"%s\" in stderr:\n%s",
			  c->name, c->err, r.err);
	if (json && c->exit != 2) {
		snprintf(path, sizeof path, "%s/%s.json", dir, c->name);
		f = fopen(path, "w");
		cr_assert(f);
		fputs(r.out, f);
		fclose(f);
		struct run_result v;
		snprintf(cmd, sizeof cmd, "python3 -m json.tool '%s' >/dev/null", path);
		run_sh(&v, cmd, NULL, 0, 30);
		cr_expect_eq(exit_code(&v), 0, "%s: not valid JSON (%s):\n%s", c->name,
			     v.err, r.out);
	}
}

Test(report_cases, each_case)
{
	const char *dir = tmpdir();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_case(&cases[i], dir);
}
