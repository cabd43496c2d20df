/* Events: one JSON object per line, built on the stack and written with a
 * single write() by the configured output.  No stdio, no malloc, no locks:
 * usable after fork() in a multithreaded process, in a vfork child and in a
 * signal handler.
 *
 *   struct nl_event ev;
 *   nl_event_begin(&ev, "fd_leak");
 *   nl_event_int(&ev, "fd", 5);
 *   nl_event_str(&ev, "object", "pipe:[1234]");
 *   nl_event_emit(&ev);
 *
 * Lines are at most NL_EVENT_MAX bytes; a field that does not fit is dropped
 * along with every later one and the line ends with "truncated":true. */
#ifndef NL_EVENT_H
#define NL_EVENT_H

#include <stdatomic.h>
#include <stddef.h>

#define NL_EVENT_MAX 4096

struct nl_event {
	size_t len;
	int full;                 /* a field did not fit */
	unsigned key_hash;        /* over kind and fields, for folding repeats */
	char buf[NL_EVENT_MAX];
};

#include "../policy/policy.h"

/* Where events go and what every line carries.  Called once the policy is
 * known (init), again after a policy change in tests.  `path` is copied.
 * `nofollow`: open the log file with O_NOFOLLOW (the path came from a
 * source an attacker may influence). */
void nl_event_configure(enum nl_log_kind kind, const char *path,
			int nofollow, const char *exe, const char *mode_name);

/* Start an event: writes ts, event, pid, ppid, exe, mode, host. */
void nl_event_begin(struct nl_event *ev, const char *kind);
void nl_event_str(struct nl_event *ev, const char *key, const char *val);
void nl_event_strn(struct nl_event *ev, const char *key, const char *val,
		   size_t n);
void nl_event_int(struct nl_event *ev, const char *key, long long val);
void nl_event_bool(struct nl_event *ev, const char *key, int val);
/* A value that is already JSON (an array or object built by the caller). */
void nl_event_raw(struct nl_event *ev, const char *key, const char *json);
/* Fold, rate-limit and write.  Never fails visibly; never changes errno. */
void nl_event_emit(struct nl_event *ev);

/* Whether any output is configured (log != none). */
int nl_event_enabled(void);
/* Called in a fork child: reset per-process counters. */
void nl_event_after_fork(void);
/* Emit folded repeats still pending (at exit). */
void nl_event_flush(void);
/* Counters, for tests and the destructor. */
unsigned long nl_event_dropped(void);

/* --- JSON helpers (json.c), pure --- */

/* Append `src[0..n)` to dst as a JSON string body (no quotes), escaping
 * quotes, backslashes, control characters and every byte that is not part of
 * valid UTF-8 (as \u00XX).  Writes at most `cap` bytes, never splits an
 * escape; returns the bytes written, and sets *complete to whether all of src
 * fit. */
size_t nl_json_escape(char *dst, size_t cap, const char *src, size_t n,
		      int *complete);
/* Format a CLOCK_REALTIME time as RFC 3339 UTC with microseconds:
 * 2026-11-29T05:54:01.123456Z (27 bytes + NUL).  Returns length. */
size_t nl_rfc3339(char *dst, size_t cap, long long sec, long nsec);
/* Decimal formatting without stdio; returns length. */
size_t nl_fmt_int(char *dst, size_t cap, long long v);
size_t nl_fmt_hex(char *dst, size_t cap, unsigned long long v);

/* --- outputs (out_*.c): each writes one whole line with one write() --- */

/* Open lazily; return the bytes written or -1.  Never block, never write to
 * a file that is not the log's own. */
int nl_out_file_write(const char *path, int nofollow, const char *line,
		      size_t len);
int nl_out_stderr_write(const char *line, size_t len);
int nl_out_syslog_write(const char *line, size_t len);
/* Reset after fork (the syslog socket and file fd are shared and fine; only
 * per-process state resets: flags a vanished thread may have held). */
void nl_out_after_fork(void);

/* --- the outputs' own fds (out_fd.c) ---
 *
 * An fd the shim opened for itself, kept at 100 or above (never 0-2) with
 * FD_CLOEXEC, and remembered with its identity (dev, inode) so that once the
 * program closes that number or dup2()s something over it, the shim stops
 * using it (and never closes it: it is the program's now). */
struct nl_out_fd {
	atomic_int fd;                /* -1: none */
	_Atomic unsigned long long dev, ino;
	atomic_flag busy;             /* held while (re)opening; try-acquire only */
};
#define NL_OUT_FD_INIT { -1, 0, 0, ATOMIC_FLAG_INIT }

/* The fd when it is still the one we opened, else -1 (and it is forgotten). */
int nl_out_fd_get(struct nl_out_fd *o);
/* Move a freshly opened fd to 100 or above (or else the highest free slot
 * below the fd limit; never 0-2), closing the original.  Returns the new
 * number, or -1 (the fd closed) when it cannot be placed above 2. */
int nl_out_fd_place(int fd);
/* Place a freshly opened fd with nl_out_fd_place() and make it o's fd,
 * identity recorded.  Returns the new number or -1.  Caller holds o->busy. */
int nl_out_fd_adopt(struct nl_out_fd *o, int fd);
/* Close the fd if it is still ours, and forget it.  Caller holds o->busy. */
void nl_out_fd_close(struct nl_out_fd *o);
/* In a fork child: a busy flag held by a thread that did not survive the
 * fork would stay held forever. */
void nl_out_fd_after_fork(struct nl_out_fd *o);
void nl_out_syslog_after_fork(void);

/* --- hooks for the unit tests --- */

/* Use a fixed clock for ts, folding and the rate limit (sec < 0: the real
 * clock again). */
void nl_event_test_clock(long long sec, long nsec);
/* Send syslog datagrams to this socket path instead of /dev/log (NULL:
 * /dev/log again). */
void nl_out_syslog_test_path(const char *path);

#endif
