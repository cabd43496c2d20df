/* Events: building a line, folding repeats, the rate limit, and handing the
 * line to the configured output.
 *
 * A host program can trigger an event on every call it makes (a leak per
 * fork in a loop), so the log must not become the program's bottleneck nor
 * fill a disk: identical events within a second are folded into one line
 * with a count, and past NL_EVENT_RATE_MAX lines per second the rest are only
 * counted.  The fold state is shared by all threads of a process and guarded
 * by a flag that is only ever try-acquired: a thread (or a signal handler)
 * that finds it taken writes its event unfolded rather than wait, so nothing
 * here can deadlock, even in a handler that interrupted an emit. */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "common/forkdata.h"
#include "log/event.h"
#include "log/arena.h"
#include "common/sys.h"
#include "log/json.h"
#include "log/output.h"

#define NL_EVENT_RATE_MAX 100
/* Kept free after the fields for what emit appends:
 * ,"count":<20 digits>,"truncated":true}\n */
#define NL_EVENT_TAIL 64
#define NL_FIELDS_MAX (NL_EVENT_MAX - NL_EVENT_TAIL)
/* {"ts":"2026-11-29T05:54:01.123456Z" -- fixed width, so everything after
 * it identifies the event for folding. */
#define NL_TS_FIELD_LEN 35

/* --- configuration --- */

/* Written at every start-up: in .data, on the page the loader has already
 * written (relocations), not on a page of its own in .bss that every
 * process would fault in. */
static struct {
	enum nl_log_kind kind;
	const char *path;           /* the caller's, for the process's life */
	const char *(*exe)(void);   /* the caller's (event.h) */
	char mode[32];
} cfg __attribute__((section(".data")));

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t i = 0;

	for (; src && src[i] && i + 1 < cap; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

void nl_event_configure(enum nl_log_kind kind, const char *path,
			const char *(*exe)(void), const char *mode_name)
{
	cfg.kind = kind;
	cfg.path = path ? path : "";
	cfg.exe = exe;
	copy_str(cfg.mode, sizeof cfg.mode, mode_name);
	if (kind == NL_LOG_STDERR)
		nl_out_stderr_at_start();
}

int nl_event_enabled(void)
{
	switch (cfg.kind) {
	case NL_LOG_FILE:
		return cfg.path[0] != '\0';
	case NL_LOG_STDERR:
	case NL_LOG_SYSLOG:
	case NL_LOG_JOURNAL:
		return 1;
	default:
		return 0;
	}
}

void nl_event_nomem_once(atomic_int *said, const char *feature,
			 const char *fallback)
{
	if (atomic_load(said) || atomic_exchange(said, 1) ||
	    !nl_event_enabled())
		return;
	struct nl_event ev;
	nl_event_begin(&ev, "nomem");
	nl_event_str(&ev, "feature", feature);
	nl_event_str(&ev, "fallback", fallback);
	nl_event_emit(&ev);
}

/* --- clock and host --- */

static atomic_llong test_sec = -1;
static atomic_long test_nsec;

void nl_event_test_clock(long long sec, long nsec)
{
	atomic_store(&test_nsec, nsec);
	atomic_store(&test_sec, sec);
}

/* Returned in registers, and not inlined: nothing of it stays on the
 * frame that builds the line. */
__attribute__((noinline))
static struct timespec now(void)
{
	struct timespec ts;
	long long fixed = atomic_load(&test_sec);

	if (fixed >= 0) {
		ts.tv_sec = fixed;
		ts.tv_nsec = atomic_load(&test_nsec);
		return ts;
	}
	/* clock_gettime is served by the vDSO: no lock, no allocation. */
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
		ts.tv_sec = 0;
		ts.tv_nsec = 0;
	}
	return ts;
}

static char host_name[sizeof ((struct utsname *)0)->nodename];
static atomic_int host_state NL_FORK_DATA;   /* 0 unknown, 1 being fetched, 2 cached */

/* The node name, asked of the kernel once (into arena memory: struct
 * utsname is 390 bytes); a thread that finds another one fetching it uses
 * its own answer rather than wait. */
static const char *host(void)
{
	struct utsname *u;
	int expected = 0;

	if (atomic_load_explicit(&host_state, memory_order_acquire) == 2)
		return host_name;
	u = nl_arena_get(sizeof *u);
	if (!u)
		return "";
	if (nl_sys_uname(u) < 0)
		u->nodename[0] = '\0';
	if (atomic_compare_exchange_strong(&host_state, &expected, 1)) {
		copy_str(host_name, sizeof host_name, u->nodename);
		atomic_store_explicit(&host_state, 2, memory_order_release);
		return host_name;
	}
	return u->nodename;
}

/* --- building --- */

static unsigned fnv1a(unsigned h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}
#define FNV_BASIS 2166136261u

static int put(struct nl_event *ev, const char *s, size_t n)
{
	if (NL_FIELDS_MAX - ev->len < n)
		return -1;
	memcpy(ev->buf + ev->len, s, n);
	ev->len += n;
	return 0;
}

static int put_lit(struct nl_event *ev, const char *s)
{
	return put(ev, s, strlen(s));
}

/* A quoted JSON string, whole or not at all. */
static int put_string(struct nl_event *ev, const char *s, size_t n)
{
	int complete;

	if (put_lit(ev, "\"") < 0)
		return -1;
	ev->len += nl_json_escape(ev->buf + ev->len, NL_FIELDS_MAX - ev->len,
				  s, n, &complete);
	if (!complete)
		return -1;
	return put_lit(ev, "\"");
}

/* Opens a field: returns where it starts, or -1 once the line is full.
 * Keys are the shim's own literals, plain ASCII names; anything else in one
 * is written as \u00XX.  A leaf, with no call to the escaper: it sits at
 * the bottom of every path that logs. */
static long field_open(struct nl_event *ev, const char *key)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = ev->len;

	if (ev->full)
		return -1;
	/* Room is checked as len + need <= max: len never passes the max, and
	 * an unsigned max - len would wrap once it reached it. */
	if (ev->len + 2 > NL_FIELDS_MAX)
		goto full;
	ev->buf[ev->len++] = ',';
	ev->buf[ev->len++] = '"';
	for (const unsigned char *k = (const unsigned char *)key; *k; k++) {
		if (ev->len + 6 + 2 > NL_FIELDS_MAX)
			goto full;
		if (*k >= 0x20 && *k < 0x7f && *k != '"' && *k != '\\') {
			ev->buf[ev->len++] = (char)*k;
			continue;
		}
		memcpy(ev->buf + ev->len, "\\u00", 4);
		ev->buf[ev->len + 4] = hex[*k >> 4];
		ev->buf[ev->len + 5] = hex[*k & 15];
		ev->len += 6;
	}
	if (ev->len + 2 > NL_FIELDS_MAX)
		goto full;
	ev->buf[ev->len++] = '"';
	ev->buf[ev->len++] = ':';
	return (long)start;
full:
	ev->len = start;
	ev->full = 1;
	return -1;
}

/* Closes a field: on failure the whole field goes, and every later one. */
static void field_close(struct nl_event *ev, long start, int rc)
{
	if (rc < 0) {
		ev->len = (size_t)start;
		ev->full = 1;
		return;
	}
	ev->key_hash = fnv1a(ev->key_hash, ev->buf + start,
			     ev->len - (size_t)start);
}

void nl_event_strn(struct nl_event *ev, const char *key, const char *val,
		   size_t n)
{
	long start = field_open(ev, key);

	if (start < 0)
		return;
	field_close(ev, start, val ? put_string(ev, val, n)
				   : put_lit(ev, "null"));
}

void nl_event_str(struct nl_event *ev, const char *key, const char *val)
{
	nl_event_strn(ev, key, val, val ? strlen(val) : 0);
}

void nl_event_int(struct nl_event *ev, const char *key, long long val)
{
	long start = field_open(ev, key);
	size_t room;

	if (start < 0)
		return;
	/* Straight into the line: 20 digits and a sign at most. */
	room = NL_FIELDS_MAX - ev->len;
	if (room >= 24)
		ev->len += nl_fmt_int(ev->buf + ev->len, room, val);
	field_close(ev, start, room >= 24 ? 0 : -1);
}

void nl_event_bool(struct nl_event *ev, const char *key, int val)
{
	long start = field_open(ev, key);

	if (start < 0)
		return;
	field_close(ev, start, put_lit(ev, val ? "true" : "false"));
}

void nl_event_raw(struct nl_event *ev, const char *key, const char *json)
{
	long start = field_open(ev, key);

	if (start < 0)
		return;
	field_close(ev, start, put_lit(ev, json ? json : "null"));
}

void nl_event_json_open(struct nl_event *ev, const char *key,
			struct nl_jbuf *j)
{
	long start = field_open(ev, key);

	ev->json_at = start;
	if (start < 0) {
		nl_jb_init(j, NULL, 0);
		return;
	}
	nl_jb_init(j, ev->buf + ev->len, NL_FIELDS_MAX - ev->len);
}

void nl_event_json_close(struct nl_event *ev, struct nl_jbuf *j, int keep)
{
	long start = ev->json_at;

	ev->json_at = -1;
	if (start < 0)
		return;
	if (!keep) {
		ev->len = (size_t)start;
		return;
	}
	if (!j->full)
		ev->len += j->len;
	field_close(ev, start, j->full ? -1 : 0);
}

static atomic_ulong dropped_total NL_FORK_DATA;

void nl_event_begin(struct nl_event *ev, const char *kind)
{
	struct timespec t;

	ev->buf = NULL;
	ev->len = 0;
	ev->full = 1;   /* until there is a line to write into */
	ev->held = 0;
	ev->json_at = -1;
	ev->key_hash = FNV_BASIS;
	if (!nl_event_enabled())
		return;     /* nothing will be written: skip the work */
	ev->mark = nl_arena_enter();
	ev->held = 1;
	ev->buf = nl_arena_get(NL_EVENT_MAX);
	if (!ev->buf) {
		atomic_fetch_add(&dropped_total, 1);
		return;
	}
	ev->full = 0;
	t = now();
	put_lit(ev, "{\"ts\":\"");
	ev->len += nl_rfc3339(ev->buf + ev->len, NL_FIELDS_MAX - ev->len,
			      t.tv_sec, t.tv_nsec);
	put_lit(ev, "\"");
	nl_event_str(ev, "event", kind);
	/* Asked of the kernel each time: a fork child must log its own. */
	nl_event_int(ev, "pid", nl_sys_getpid());
	nl_event_int(ev, "ppid", nl_sys_getppid());
	nl_event_str(ev, "exe", cfg.exe ? cfg.exe() : "");
	nl_event_str(ev, "mode", cfg.mode);
	nl_event_str(ev, "host", host());
	/* Folding compares what comes after the common fields, and the kind. */
	ev->key_hash = fnv1a(FNV_BASIS, kind, strlen(kind));
}

const char *nl_event_exe(struct nl_event *ev)
{
	(void)ev;   /* begun: its arena bracket holds what exe() returns */
	return cfg.exe ? cfg.exe() : "";
}

/* --- writing --- */

unsigned long nl_event_dropped(void)
{
	return atomic_load(&dropped_total);
}

/* Appends the tail (room for it is kept by NL_FIELDS_MAX): the fold count,
 * the truncation mark, the closing brace and the newline. */
static size_t finish_line(char *buf, size_t len, int full,
			  unsigned long count)
{
	static const char count_key[] = ",\"count\":";
	static const char truncated[] = ",\"truncated\":true";

	if (count) {
		memcpy(buf + len, count_key, sizeof count_key - 1);
		len += sizeof count_key - 1;
		len += nl_fmt_int(buf + len, 24, (long long)count);
	}
	if (full) {
		memcpy(buf + len, truncated, sizeof truncated - 1);
		len += sizeof truncated - 1;
	}
	buf[len++] = '}';
	buf[len++] = '\n';
	return len;
}

/* The log file was refused (out_file.c returns NL_OUT_REFUSED once per
 * destination): the log is off, and syslog hears why.  The one writer that
 * got NL_OUT_REFUSED sets the flag; the event that wrote reports it once
 * its own line is done (not from inside the write: the stack is small). */
/* Read at every exit: in .data, whose page the loader has written, not on a
 * .bss page of its own. */
static atomic_int refused_pending __attribute__((section(".data")));

static void release(struct nl_event *ev);

static void report_refused_log(void)
{
	/* Static: off the stack; only the one caller that took the flag
	 * uses it. */
	static struct nl_event note;

	if (!atomic_load(&refused_pending) ||
	    !atomic_exchange(&refused_pending, 0))
		return;
	nl_event_begin(&note, "config_error");
	nl_event_str(&note, "error", nl_out_file_refusal());
	nl_event_str(&note, "log", cfg.path);
	if (note.buf)
		nl_out_syslog_write(note.buf,
				    finish_line(note.buf, note.len, note.full, 0));
	release(&note);
}

static void count_unwritten(void);

static void write_line(const char *line, size_t len)
{
	int rc = -1;

	switch (cfg.kind) {
	case NL_LOG_FILE:
		rc = nl_out_file_write(cfg.path, line, len);
		if (rc == NL_OUT_REFUSED)
			atomic_store(&refused_pending, 1);
		break;
	case NL_LOG_STDERR:
		rc = nl_out_stderr_write(line, len);
		break;
	case NL_LOG_SYSLOG:
		rc = nl_out_syslog_write(line, len);
		break;
	case NL_LOG_JOURNAL:
		rc = nl_out_journal_write(line, len);
		if (rc == NL_OUT_NO_JOURNAL)
			rc = nl_out_syslog_write(line, len);
		break;
	default:
		break;
	}
	if (rc == NL_OUT_BUSY)
		count_unwritten();
	if (rc < 0)
		atomic_fetch_add(&dropped_total, 1);
}

/* buf has room for NL_EVENT_MAX bytes. */
static void write_event(char *buf, size_t len, int full, unsigned long count)
{
	write_line(buf, finish_line(buf, len, full, count));
}

/* Closes the event's arena bracket. */
static void release(struct nl_event *ev)
{
	if (ev->held)
		nl_arena_leave(ev->mark);
	ev->held = 0;
	ev->buf = NULL;
}

/* --- folding and the rate limit --- */

/* Guarded by fold_busy (try-acquire only; an int rather than an
 * atomic_flag, so that a fork child can look at it without writing it).
 * The flags a fork child resets are apart from the event buffer, with the
 * other after-fork data (common/forkdata.h). */
static atomic_int fold_busy NL_FORK_DATA;
static int fold_valid NL_FORK_DATA;             /* fold.last holds the last event written */
static unsigned long fold_repeats NL_FORK_DATA; /* identical ones since, not written */
static struct {
	long long sec;            /* the second of fold.last */
	struct {                  /* the last event written */
		size_t len;
		int full;
		unsigned key_hash;
		char buf[NL_EVENT_MAX];
	} last;
	struct nl_event notice;   /* the "suppressed" line's handle */
} fold;

/* The second the rate counters are for, and the counters.  Atomic because a
 * thread that could not take the fold flag still obeys the limit. */
static atomic_llong rate_sec NL_FORK_DATA = LLONG_MIN;
static atomic_uint rate_written NL_FORK_DATA;
static atomic_ulong rate_dropped NL_FORK_DATA;

/* A line that found no fd to go through in time (output.h, NL_OUT_BUSY):
 * the log itself works, so the line is reported as the rate limit's are,
 * in the next "suppressed" event.  Only the counting process gets
 * NL_OUT_BUSY (a child sharing our memory writes through an fd of its own,
 * never waiting). */
static void count_unwritten(void)
{
	atomic_fetch_add(&rate_dropped, 1);
}

static int is_repeat(const struct nl_event *ev, long long sec)
{
	const __typeof__(fold.last) *l = &fold.last;

	return fold_valid && fold.sec == sec && l->key_hash == ev->key_hash &&
	       l->full == ev->full && l->len == ev->len &&
	       ev->len >= NL_TS_FIELD_LEN &&
	       memcmp(l->buf + NL_TS_FIELD_LEN, ev->buf + NL_TS_FIELD_LEN,
		      ev->len - NL_TS_FIELD_LEN) == 0;
}

static void remember(const struct nl_event *ev, long long sec)
{
	fold.last.len = ev->len;
	fold.last.full = ev->full;
	fold.last.key_hash = ev->key_hash;
	memcpy(fold.last.buf, ev->buf, ev->len);
	fold.sec = sec;
	fold_repeats = 0;
	fold_valid = 1;
}

/* The line for repeats folded so far: the event again, with "count". */
static void flush_repeats(void)
{
	if (fold_valid && fold_repeats)
		write_event(fold.last.buf, fold.last.len, fold.last.full,
			    fold_repeats);
	fold_valid = 0;
	fold_repeats = 0;
}

static void report_suppressed(void)
{
	struct nl_event *notice = &fold.notice;
	unsigned long n;

	/* A child sharing our memory (vfork) leaves the count to the parent:
	 * the line bears the writer's pid. */
	if (!atomic_load(&rate_dropped) || nl_out_fd_foreign())
		return;
	n = atomic_exchange(&rate_dropped, 0);
	if (!n)
		return;
	nl_event_begin(notice, "suppressed");
	nl_event_int(notice, "dropped", (long long)n);
	if (notice->buf)
		write_event(notice->buf, notice->len, notice->full, 0);
	release(notice);
}

/* On the first event of a new second: settle the old one. */
static void start_second(long long sec)
{
	if (atomic_load(&rate_sec) == sec)
		return;
	flush_repeats();
	report_suppressed();
	atomic_store(&rate_written, 0);
	atomic_store(&rate_sec, sec);
}

/* Counts the event against this second's budget; 0 when over it. */
static int within_rate(long long sec)
{
	if (atomic_load(&rate_sec) != sec)
		return 1;   /* a new second nobody has settled yet */
	if (atomic_fetch_add(&rate_written, 1) < NL_EVENT_RATE_MAX)
		return 1;
	atomic_fetch_add(&rate_dropped, 1);
	atomic_fetch_add(&dropped_total, 1);
	return 0;
}

static void emit_folded(struct nl_event *ev, long long sec)
{
	start_second(sec);
	if (is_repeat(ev, sec)) {
		fold_repeats++;
		return;
	}
	flush_repeats();
	if (!within_rate(sec))
		return;
	remember(ev, sec);
	write_event(ev->buf, ev->len, ev->full, 0);
}

/* Before an exec, what a successful one would take away: the count of
 * dropped lines (the fold's pending repeats are left to fold on: a program
 * retrying a failing exec would get a count line per attempt).  At most
 * NL_EXEC_FLUSH_MAX times a second, so that such a program over the rate
 * limit does not get a suppressed line per attempt either; a PATH walk by
 * the program, one exec per directory, stays well within it. */
#define NL_EXEC_FLUSH_MAX NL_EVENT_RATE_MAX
static long long exec_flush_sec NL_FORK_DATA = LLONG_MIN;
static int exec_flushes NL_FORK_DATA;

void nl_event_before_exec(void)
{
	long long sec;

	/* Nothing dropped since start-up or fork (one load: every exec
	 * passes here); or not the counting process (a vfork child: its
	 * parent keeps the count and writes it). */
	if (!atomic_load(&rate_dropped) || !nl_event_enabled() ||
	    nl_out_fd_foreign())
		return;
	sec = now().tv_sec;
	if (atomic_exchange_explicit(&fold_busy, 1, memory_order_acquire))
		return;
	if (exec_flush_sec != sec) {
		exec_flush_sec = sec;
		exec_flushes = 0;
	}
	if (exec_flushes < NL_EXEC_FLUSH_MAX) {
		exec_flushes++;
		report_suppressed();
	}
	atomic_store_explicit(&fold_busy, 0, memory_order_release);
}

/* Emit's verdict on an event not yet built, when it is sure: over this
 * second's budget, with nothing in the fold it could repeat (after one
 * drop in a second the fold holds nothing), the event would be dropped
 * whatever its fields.  Counted as emit counts it.  The rate counters only
 * grow outside the fold flag, so the check under it holds. */
int nl_event_dropped_early(void)
{
	int drop = 0;
	long long sec;

	if (atomic_load(&rate_written) < NL_EVENT_RATE_MAX ||
	    !nl_event_enabled())
		return 0;
	sec = now().tv_sec;
	if (!atomic_exchange_explicit(&fold_busy, 1, memory_order_acquire)) {
		drop = atomic_load(&rate_sec) == sec && !fold_valid &&
		       atomic_load(&rate_written) >= NL_EVENT_RATE_MAX &&
		       !within_rate(sec);
		atomic_store_explicit(&fold_busy, 0, memory_order_release);
	}
	return drop;
}

void nl_event_emit(struct nl_event *ev)
{
	long long sec;

	if (!nl_event_enabled() || !ev->buf || ev->len < NL_TS_FIELD_LEN)
		goto out;
	sec = now().tv_sec;
	if (atomic_exchange_explicit(&fold_busy, 1,
				     memory_order_acquire)) {
		/* Another thread, or the code this signal handler interrupted,
		 * is folding: write this one as it is. */
		if (within_rate(sec))
			write_event(ev->buf, ev->len, ev->full, 0);
		goto out;
	}
	emit_folded(ev, sec);
	atomic_store_explicit(&fold_busy, 0, memory_order_release);
out:
	release(ev);
	report_refused_log();
}

void nl_event_flush(void)
{
	/* No event has gone through the fold since start-up or fork: nothing
	 * repeated or dropped to report, and the fold's pages stay untouched
	 * (this runs at every exit). */
	if (atomic_load(&rate_sec) == LLONG_MIN)
		goto refused;
	if (atomic_exchange_explicit(&fold_busy, 1,
				     memory_order_acquire))
		return;
	if (nl_event_enabled()) {
		flush_repeats();
		report_suppressed();
	}
	atomic_store_explicit(&fold_busy, 0, memory_order_release);
refused:
	report_refused_log();
}

void nl_event_after_fork(void)
{
	/* The parent's pending repeats and counts are the parent's to report;
	 * a flag held by a thread that did not survive the fork is released.
	 * Each is written only when it must change: a fork child shares these
	 * pages with its parent until one of them writes, and most children
	 * exec before they log anything. */
	if (fold_valid)
		fold_valid = 0;
	if (fold_repeats)
		fold_repeats = 0;
	if (atomic_load(&rate_sec) != LLONG_MIN)
		atomic_store(&rate_sec, LLONG_MIN);
	if (atomic_load(&rate_written))
		atomic_store(&rate_written, 0);
	if (atomic_load(&rate_dropped))
		atomic_store(&rate_dropped, 0);
	if (atomic_load(&dropped_total))
		atomic_store(&dropped_total, 0);
	if (exec_flush_sec != LLONG_MIN)
		exec_flush_sec = LLONG_MIN;
	if (atomic_load(&host_state) == 1)
		atomic_store(&host_state, 0);
	if (atomic_load(&fold_busy))
		atomic_store(&fold_busy, 0);
	nl_out_after_fork();
}
