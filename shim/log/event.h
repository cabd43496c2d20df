/* Events: one JSON object per line, built in arena memory (log/arena.h:
 * never on the caller's stack, which may be a small signal stack) and
 * written with a single write() by the configured output.  No stdio, no
 * malloc, no locks: usable after fork() in a multithreaded process, in a
 * vfork child and in a signal handler.  errno is never touched: the log
 * makes raw system calls only (common/sys.h), whose failures its outputs
 * get as return values.
 *
 *   struct nl_event ev;
 *   nl_event_begin(&ev, "fd_leak");
 *   nl_event_int(&ev, "fd", 5);
 *   nl_event_str(&ev, "object", "pipe:[1234]");
 *   nl_event_emit(&ev);
 *
 * Every nl_event_begin() is followed by nl_event_emit(), which gives the
 * line's memory back.  When no arena memory is left the event is dropped
 * (and counted).  Lines are at most NL_EVENT_MAX bytes; a field that does
 * not fit is dropped along with every later one and the line ends with
 * "truncated":true. */
#ifndef NL_EVENT_H
#define NL_EVENT_H

#include <stdatomic.h>
#include <stddef.h>

#define NL_EVENT_MAX 4096

/* Small: it lives on the stack of whatever logs. */
struct nl_event {
	char *buf;                /* NL_EVENT_MAX bytes of arena memory, or NULL */
	unsigned len;
	unsigned mark;            /* where the arena bracket started */
	int json_at;              /* where an open JSON field starts, or -1 */
	unsigned key_hash;        /* over kind and fields, for folding repeats */
	unsigned char full;       /* a field did not fit */
	unsigned char held;       /* an arena bracket is open (until emit) */
};

#include "log/jbuf.h"
#include "policy/policy.h"

/* Where events go and what every line carries.  Called once the policy is
 * known (init), again after a policy change in tests.  `path` (the
 * policy's) must stay as it is for the life of the process: it is kept,
 * not copied.
 * `exe` (may be NULL) gives the executable's path for a line: called by
 * nl_event_begin() with the event's arena memory held, from any context
 * the shim logs in (a signal handler, a vfork child); what it returns must
 * stay valid until the event is emitted (init's reads the path at the
 * first line, not at start-up).
 *
 * A log file the output refuses (out_file.c: a symlink, not a regular
 * file, a directory others may write) turns the log off for the process,
 * and one config_error saying why goes to syslog. */
void nl_event_configure(enum nl_log_kind kind, const char *path,
			const char *(*exe)(void), const char *mode_name);

/* Start an event: writes ts, event, pid, ppid, exe, mode, host. */
void nl_event_begin(struct nl_event *ev, const char *kind);
/* The executable the started event's line names ("" when unknown), valid
 * until the event is emitted. */
const char *nl_event_exe(struct nl_event *ev);
void nl_event_str(struct nl_event *ev, const char *key, const char *val);
void nl_event_strn(struct nl_event *ev, const char *key, const char *val,
		   size_t n);
void nl_event_int(struct nl_event *ev, const char *key, long long val);
void nl_event_bool(struct nl_event *ev, const char *key, int val);
/* A value that is already JSON (an array or object built by the caller). */
void nl_event_raw(struct nl_event *ev, const char *key, const char *json);
/* A JSON value written by the caller straight into the line through j, with
 * no buffer of its own:
 *   struct nl_jbuf j;
 *   nl_event_json_open(&ev, "fds", &j);   j is full when the line is
 *   nl_jb_raw(&j, "[");  ...
 *   nl_event_json_close(&ev, &j, 1);
 * A value that did not fit (j.full) goes like any field that does not fit;
 * keep = 0 takes the field back as if never opened.  No other field may be
 * added while one is open. */
void nl_event_json_open(struct nl_event *ev, const char *key,
			struct nl_jbuf *j);
void nl_event_json_close(struct nl_event *ev, struct nl_jbuf *j, int keep);
/* Fold, rate-limit and write.  Never fails visibly; never changes errno. */
void nl_event_emit(struct nl_event *ev);
/* 1 when the next event is sure to be dropped by the rate limit, counted
 * as dropped: for callers whose fields cost system calls to gather. */
int nl_event_dropped_early(void);

/* Whether any output is configured (log != none). */
int nl_event_enabled(void);
/* A nomem event, the first time only: `feature` got no memory and fell
 * back to `fallback`.  `said` is the caller's once-per-process flag (its
 * fork children inherit it, as they inherit what failed). */
void nl_event_nomem_once(atomic_int *said, const char *feature,
			 const char *fallback);
/* Called in a fork child: reset per-process counters. */
void nl_event_after_fork(void);
/* Write folded repeats and the count of dropped lines still pending (at
 * exit). */
void nl_event_flush(void);
/* The count of dropped lines before an exec takes the process's memory
 * away, at most 100 times a second; not in a process other than the one
 * that counts (a vfork child: its parent keeps the count). */
void nl_event_before_exec(void);
/* Counters, for tests and the destructor. */
unsigned long nl_event_dropped(void);

/* --- hooks for the unit tests --- */

/* Use a fixed clock for ts, folding and the rate limit (sec < 0: the real
 * clock again). */
void nl_event_test_clock(long long sec, long nsec);

#endif
