/* Interposers of the poll family: poll, ppoll, select, pselect, epoll_wait
 * and epoll_pwait.  Event-loop programs, and CPython's communicate(), wait
 * here rather than in read().  With read_warn set and a log to write to, a
 * wait longer than read_warn is split: the real call runs for read_warn
 * first, and if nothing happened a wait_blocked event names every fd waited
 * on and who holds their other ends; then the call goes on for the rest,
 * and a wait_unblocked event says when it returned (a wait that logged
 * nothing makes no call more).
 * Only a wait on which every fd could be a hang is logged (pipes, FIFOs,
 * connected sockets: nl_watch_could_hang), never a server waiting for work.
 * A signal still ends the call with EINTR, as these calls always do, also
 * one whose handler ran between the two parts.  select's sets, which a
 * split wait saves before the kernel has read them, it reads through the
 * kernel (prog_copy): an address the kernel refuses sends the call to libc
 * unsplit, which fails with EFAULT at once, as without the shim.  (The
 * timeout libc itself reads first, and faults on, without the shim too.)
 * Time is 64-bit ns. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#include "init.h"
#include "common/sys.h"
#include "log/arena.h"
#include "log/event.h"
#include "base/real.h"
#include "core/sandbox.h"
#include "core/signals.h"
#include "core/watchdog.h"

/* The fds of a wait_blocked line: it gives the list at most 3000 bytes,
 * and no fd takes fewer than 16, so no more than these are ever shown;
 * every fd is counted. */
#define WAIT_FDS_LISTED 256
#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL

/* All time here is 64-bit nanoseconds, -1 for "no timeout": a program may
 * wait for months (a timeout past INT_MAX ms is legal in ppoll, select
 * and pselect), and no conversion may wrap. */

/* read_warn in ns when waits are watched, else 0. */
/* A raw system call's result as libc returns it. */
static int raw_result(int r)
{
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

/* The program's memory as the kernel reads it: the program's pieces
 * `prog` copied into the shim's `own` (n of each, `total` bytes) with one
 * process_vm_readv() on the calling thread (its tid: the process's leader
 * may have exited), which the kernel always permits within a thread
 * group.  An address the kernel would refuse the call (EFAULT) fails the
 * copy instead of faulting the shim.  0, -EFAULT, or the copy's own
 * refusal: -ENOSYS (a kernel without cross-memory attach) or -EPERM (a
 * seccomp filter), which is noted as a filter (core/sandbox.h: no probe
 * follows).  Whatever fails, the caller makes the real call unsplit. */
static long prog_copy(const struct iovec *own, const struct iovec *prog,
		      int n, size_t total)
{
	if (!total)
		return 0;
	/* A filter another thread installed since this wait was judged
	 * (TSYNC puts it on every thread): no copy, the call goes unsplit. */
	if (nl_sandbox_known())
		return -EPERM;
	long r = nl_sys6(SYS_process_vm_readv, nl_sys_gettid(), (long)own, n,
			 (long)prog, n, 0);
	if (r < 0 && r != -EFAULT)
		nl_sandbox_refused(r);
	return r < 0 ? r : (size_t)r == total ? 0 : -EFAULT;
}

static long long warn_ns(void)
{
	const struct nl_policy *p = nl_policy();
	if (!p->read_warn || p->mode == NL_MODE_OFF || !nl_event_enabled())
		return 0;
	/* Under a seccomp filter the shim makes no call of its own. */
	if (!nl_probes_allowed())
		return 0;
	return (long long)p->read_warn * NS_PER_S;
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Whether a wait of `total` ns (-1: forever) is split at `warn`. */
static int split(long long warn, long long total)
{
	return warn && (total < 0 || total > warn);
}

/* What remains of `total` ns after `spent` (never negative). */
static long long remaining(long long total, long long spent)
{
	return spent >= total ? 0 : total - spent;
}

/* ns as a poll() timeout in ms, rounded up so the wait is never shorter;
 * a split wait's parts never exceed the program's own int timeout. */
static int ns_to_ms(long long ns)
{
	long long ms = (ns + NS_PER_MS - 1) / NS_PER_MS;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

static struct timespec ns_to_ts(long long ns)
{
	struct timespec ts = { (time_t)(ns / NS_PER_S), (long)(ns % NS_PER_S) };
	return ts;
}

/* Seconds past 292 years (a 32-bit time_t never is). */
static int sec_too_long(long long sec)
{
	return sec > (0x7fffffffffffffffLL - NS_PER_S) / NS_PER_S;
}

/* A timespec as ns; an out-of-range one (the kernel's EINVAL) or a total
 * past 292 years counts as "too long to split": -2. */
static long long ts_to_ns(const struct timespec *ts)
{
	if (!ts)
		return -1;
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= NS_PER_S ||
	    sec_too_long(ts->tv_sec))
		return -2;
	return (long long)ts->tv_sec * NS_PER_S + ts->tv_nsec;
}

static long long tv_to_ns(const struct timeval *tv)
{
	if (!tv)
		return -1;
	if (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000 ||
	    sec_too_long(tv->tv_sec))
		return -2;
	return (long long)tv->tv_sec * NS_PER_S + tv->tv_usec * 1000LL;
}

static long long ms_to_ns(int ms)
{
	return ms < 0 ? -1 : ms * NS_PER_MS;
}

/* A handler ran while the wait was logged, between the two parts of the
 * call: the program's call would have failed with EINTR. */
static int interrupted(struct nl_sig_mark m)
{
	if (nl_signals_mark().seq == m.seq)
		return 0;
	errno = EINTR;
	return 1;
}

/* The end of a wait that logged wait_blocked (`logged`): wait_unblocked,
 * with the call's result r and its errno.  Returns r.  A wait that logged
 * nothing makes no call here. */
static int wait_end(int logged, const char *call, long long t0, int r)
{
	if (logged)
		nl_watch_wait_done(call, (now_ns() - t0) / 1000, r);
	return r;
}

/* A split ppoll, pselect or epoll_pwait makes each of its two parts with
 * the call's own mask, which the kernel sets as for the one call, and
 * blocks every signal around and between them: a signal pending at the
 * call, or sent between the parts, is answered by the part that waits
 * next as the one call would have answered it (the ready fds first, else
 * the handler and EINTR), never by a handler run outside both.  Returns
 * whether the mask was changed (*old: the one to put back). */
static int mask_in(const sigset_t *mask, nl_ksigset *old)
{
	if (!mask)
		return 0;
	const nl_ksigset all = ~(nl_ksigset)0;
	return nl_sys_sigprocmask(SIG_BLOCK, &all, old) == 0;
}

static void mask_out(int masked, const nl_ksigset *old)
{
	if (masked)
		nl_sys_sigprocmask(SIG_SETMASK, old, NULL);   /* errno kept */
}

/* The fds an event names, in arena memory: the stack of these paths
 * carries the whole event under it.  1 when it logged. */
static int log_pollfds(const char *call, const struct pollfd *fds, nfds_t n,
			long long waited_ns)
{
	size_t mark = nl_arena_enter();
	int *list = nl_arena_get(WAIT_FDS_LISTED * sizeof *list), k = 0;
	for (nfds_t i = 0; list && i < n; i++) {
		if (fds[i].fd < 0)
			continue;
		if (!nl_watch_could_hang(fds[i].fd)) {
			k = 0;   /* a server waiting for work */
			break;
		}
		if (k < WAIT_FDS_LISTED)
			list[k] = fds[i].fd;
		k++;
	}
	if (k)
		nl_watch_log_wait(call, list, k < WAIT_FDS_LISTED ? k : WAIT_FDS_LISTED,
				  k, waited_ns / 1000);
	nl_arena_leave(mark);
	return k > 0;
}

NL_REAL_DECL(poll);
NL_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	nl_enter();
	__typeof__(&poll) real = NL_REAL(poll);
	if (!real)
		return raw_result(nl_sys_poll(fds, n, timeout));
	long long warn = warn_ns(), total = ms_to_ns(timeout);
	if (!split(warn, total))
		return real(fds, n, timeout);
	long long t0 = now_ns();
	struct nl_sig_mark mark = nl_signals_mark();
	int r = real(fds, n, ns_to_ms(warn));
	if (r != 0)
		return r;
	int logged = log_pollfds("poll", fds, n, now_ns() - t0);
	if (interrupted(mark))
		return wait_end(logged, "poll", t0, -1);
	if (total < 0)
		return wait_end(logged, "poll", t0, real(fds, n, -1));
	r = real(fds, n, ns_to_ms(remaining(total, now_ns() - t0)));
	return wait_end(logged, "poll", t0, r);
}

typedef int (*ppoll_fn)(struct pollfd *, nfds_t, const struct timespec *,
			const sigset_t *);
static inline int ppoll_run(ppoll_fn real, struct pollfd *fds, nfds_t n,
		       const struct timespec *tmo, const sigset_t *mask,
		       long long warn, long long total,
			 struct nl_sig_mark mark)
{
	long long t0 = now_ns();
	struct timespec first = ns_to_ts(warn);
	int r = real(fds, n, &first, mask);
	if (r != 0)
		return r;
	int logged = log_pollfds("ppoll", fds, n, now_ns() - t0);
	if (interrupted(mark))
		return wait_end(logged, "ppoll", t0, -1);
	if (!tmo)
		return wait_end(logged, "ppoll", t0, real(fds, n, NULL, mask));
	struct timespec rest = ns_to_ts(remaining(total, now_ns() - t0));
	return wait_end(logged, "ppoll", t0, real(fds, n, &rest, mask));
}

/* Its two parts, with every signal blocked around them (mask_in). */
__attribute__((noinline))
static int ppoll_parts(ppoll_fn real, struct pollfd *fds, nfds_t n,
		       const struct timespec *tmo, const sigset_t *mask,
		       long long warn, long long total)
{
	nl_ksigset old;
	int masked = mask_in(mask, &old);
	int r = ppoll_run(real, fds, n, tmo, mask, warn, total,
			  nl_signals_mark());
	mask_out(masked, &old);
	return r;
}

static int do_ppoll(ppoll_fn real, struct pollfd *fds, nfds_t n,
		    const struct timespec *tmo, const sigset_t *mask)
{
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	/* The fds the kernel reads itself, in the first part, and fails
	 * there as it would. */
	long long warn = warn_ns();
	if (!warn)
		return real(fds, n, tmo, mask);
	long long total = ts_to_ns(tmo);
	if (total == -2 || !split(warn, total))
		return real(fds, n, tmo, mask);
	return ppoll_parts(real, fds, n, tmo, mask, warn, total);
}

NL_REAL_DECL(ppoll);
NL_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
		    const sigset_t *mask)
{
	nl_enter();
	return do_ppoll(NL_REAL(ppoll), fds, n, tmo, mask);
}

/* --- select --- */

static int log_fdsets(const char *call, int nfds, const fd_set *r,
		       const fd_set *w, long long waited_ns)
{
	size_t mark = nl_arena_enter();
	int *list = nl_arena_get(WAIT_FDS_LISTED * sizeof *list), k = 0;
	for (int fd = 0; list && fd < nfds && fd < FD_SETSIZE; fd++) {
		if (!(r && FD_ISSET(fd, r)) && !(w && FD_ISSET(fd, w)))
			continue;
		if (!nl_watch_could_hang(fd)) {
			k = 0;   /* a server waiting for work */
			break;
		}
		if (k < WAIT_FDS_LISTED)
			list[k] = fd;
		k++;
	}
	if (k)
		nl_watch_log_wait(call, list, k < WAIT_FDS_LISTED ? k : WAIT_FDS_LISTED,
				  k, waited_ns / 1000);
	nl_arena_leave(mark);
	return k > 0;
}

/* The sets' first `bytes` bytes: the part the kernel reads and writes
 * for nfds (whole longs), never more.  A program may size its sets for
 * nfds (calloc(howmany(nfds, NFDBITS), sizeof(fd_mask))), and what lies
 * past them is not the shim's to read or put back. */
struct saved_sets {
	fd_set r, w, e;
	size_t bytes;
};

static size_t set_bytes(int nfds)
{
	size_t word = 8 * sizeof(long);
	return nfds <= 0 ? 0 : ((size_t)nfds + word - 1) / word * sizeof(long);
}

/* 0, or nonzero when the kernel cannot read a set (or the copy is
 * refused): the caller then makes the call unsplit, and the kernel
 * answers EFAULT before it waits, as without the shim. */
static int save_sets(struct saved_sets *s, int nfds, fd_set *r, fd_set *w,
		     fd_set *e)
{
	s->bytes = set_bytes(nfds);
	fd_set *const theirs[3] = { r, w, e }, *const mine[3] = { &s->r, &s->w, &s->e };
	struct iovec own[3], prog[3];
	int n = 0;
	for (int i = 0; i < 3; i++)
		if (theirs[i]) {
			own[n] = (struct iovec){ mine[i], s->bytes };
			prog[n++] = (struct iovec){ theirs[i], s->bytes };
		}
	return prog_copy(own, prog, n, n * s->bytes) != 0;
}

static void restore_sets(const struct saved_sets *s, fd_set *r, fd_set *w,
			 fd_set *e)
{
	if (r) memcpy(r, &s->r, s->bytes);
	if (w) memcpy(w, &s->w, s->bytes);
	if (e) memcpy(e, &s->e, s->bytes);
}

/* Linux's select() reports the time not slept in *tv. */
static void set_tv(struct timeval *tv, long long ns)
{
	tv->tv_sec = (time_t)(ns / NS_PER_S);
	tv->tv_usec = (suseconds_t)(ns % NS_PER_S / 1000);
}

/* The first, watched part of a wait: the sets as they were given are put
 * back when it times out.  Not inlined: the three copies (384 bytes) must
 * not stay on the stack while the wait_blocked event is built. */
typedef int (*select_fn)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
typedef int (*pselect_fn)(int, fd_set *, fd_set *, fd_set *,
			  const struct timespec *, const sigset_t *);

/* UNREAD (no call made): the kernel cannot read the sets, or the copy
 * was refused; the caller then makes the call unsplit. */
#define UNREAD -2
__attribute__((noinline))
static int select_first(select_fn real, int nfds, fd_set *r, fd_set *w,
			fd_set *e, struct timeval *first)
{
	struct saved_sets saved;
	if (save_sets(&saved, nfds, r, w, e))
		return UNREAD;
	int res = real(nfds, r, w, e, first);
	if (res == 0)
		restore_sets(&saved, r, w, e);
	return res;
}

__attribute__((noinline))
static int pselect_first(pselect_fn real, int nfds, fd_set *r, fd_set *w,
			 fd_set *e, const struct timespec *first,
			 const sigset_t *mask)
{
	struct saved_sets saved;
	if (save_sets(&saved, nfds, r, w, e))
		return UNREAD;
	int res = real(nfds, r, w, e, first, mask);
	if (res == 0)
		restore_sets(&saved, r, w, e);
	return res;
}

static int do_select(select_fn real, int nfds, fd_set *r, fd_set *w,
		     fd_set *e, struct timeval *tv)
{
	if (!real)
		return raw_result(nl_sys_select(nfds, r, w, e, tv));
	long long warn = warn_ns();
	if (!warn || nfds > FD_SETSIZE)
		return real(nfds, r, w, e, tv);
	long long total = tv_to_ns(tv);
	if (total == -2 || !split(warn, total))
		return real(nfds, r, w, e, tv);
	long long t0 = now_ns();
	struct nl_sig_mark mark = nl_signals_mark();
	struct timeval first;
	set_tv(&first, warn);
	int res = select_first(real, nfds, r, w, e, &first);
	if (res == UNREAD)
		return real(nfds, r, w, e, tv);
	if (res != 0) {
		if (tv)
			set_tv(tv, remaining(total, now_ns() - t0));
		return res;
	}
	int logged = log_fdsets("select", nfds, r, w, now_ns() - t0);
	if (interrupted(mark)) {
		if (tv)
			set_tv(tv, remaining(total, now_ns() - t0));
		return wait_end(logged, "select", t0, -1);
	}
	if (!tv)
		return wait_end(logged, "select", t0, real(nfds, r, w, e, NULL));
	set_tv(tv, remaining(total, now_ns() - t0));
	return wait_end(logged, "select", t0, real(nfds, r, w, e, tv));
}

NL_REAL_DECL(select);
NL_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e,
		     struct timeval *tv)
{
	nl_enter();
	return do_select(NL_REAL(select), nfds, r, w, e, tv);
}

static inline int pselect_run(pselect_fn real, int nfds, fd_set *r, fd_set *w,
			 fd_set *e, const struct timespec *ts,
			 const sigset_t *mask, long long warn, long long total,
			 struct nl_sig_mark mark)
{
	long long t0 = now_ns();
	struct timespec first = ns_to_ts(warn);
	int res = pselect_first(real, nfds, r, w, e, &first, mask);
	if (res == UNREAD)
		return real(nfds, r, w, e, ts, mask);
	if (res != 0)
		return res;
	int logged = log_fdsets("pselect", nfds, r, w, now_ns() - t0);
	if (interrupted(mark))
		return wait_end(logged, "pselect", t0, -1);
	if (!ts)
		return wait_end(logged, "pselect", t0, real(nfds, r, w, e, NULL, mask));
	struct timespec rest = ns_to_ts(remaining(total, now_ns() - t0));
	return wait_end(logged, "pselect", t0, real(nfds, r, w, e, &rest, mask));
}

/* Its two parts, with every signal blocked around them (mask_in). */
__attribute__((noinline))
static int pselect_parts(pselect_fn real, int nfds, fd_set *r, fd_set *w,
			 fd_set *e, const struct timespec *ts,
			 const sigset_t *mask, long long warn, long long total)
{
	nl_ksigset old;
	int masked = mask_in(mask, &old);
	int res = pselect_run(real, nfds, r, w, e, ts, mask, warn, total,
			      nl_signals_mark());
	mask_out(masked, &old);
	return res;
}

static int do_pselect(pselect_fn real, int nfds, fd_set *r, fd_set *w,
		      fd_set *e, const struct timespec *ts, const sigset_t *mask)
{
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	long long warn = warn_ns();
	if (!warn || nfds > FD_SETSIZE)
		return real(nfds, r, w, e, ts, mask);
	long long total = ts_to_ns(ts);
	if (total == -2 || !split(warn, total))
		return real(nfds, r, w, e, ts, mask);
	return pselect_parts(real, nfds, r, w, e, ts, mask, warn, total);
}

NL_REAL_DECL(pselect);
NL_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e,
		      const struct timespec *ts, const sigset_t *mask)
{
	nl_enter();
	return do_pselect(NL_REAL(pselect), nfds, r, w, e, ts, mask);
}

#ifdef NL_TIME64_ALIASES
/* ppoll, select and pselect of a program built with -D_TIME_BITS=64
 * (common/target.h) take 64-bit times.  A time that fits the 32-bit
 * structs goes through the same watched wait, with glibc's 64-bit call
 * underneath (the adapters below convert there and back); a longer one
 * goes straight to glibc. */
struct ts64 { long long sec; long nsec; long pad; };
struct tv64 { long long sec; long long usec; };

static int fits32(long long sec)
{
	return sec == (long long)(time_t)sec;
}

int __ppoll64(struct pollfd *, nfds_t, const struct ts64 *, const sigset_t *);
int __select64(int, fd_set *, fd_set *, fd_set *, struct tv64 *);
int __pselect64(int, fd_set *, fd_set *, fd_set *, const struct ts64 *,
		const sigset_t *);
NL_REAL_DECL(__ppoll64);
NL_REAL_DECL(__select64);
NL_REAL_DECL(__pselect64);

static struct ts64 *ts_to64(const struct timespec *ts, struct ts64 *out)
{
	if (!ts)
		return NULL;
	*out = (struct ts64){ ts->tv_sec, ts->tv_nsec, 0 };
	return out;
}

static int ppoll_via64(struct pollfd *fds, nfds_t n,
		       const struct timespec *ts, const sigset_t *mask)
{
	struct ts64 t;
	return NL_REAL(__ppoll64)(fds, n, ts_to64(ts, &t), mask);
}

static int pselect_via64(int nfds, fd_set *r, fd_set *w, fd_set *e,
			 const struct timespec *ts, const sigset_t *mask)
{
	struct ts64 t;
	return NL_REAL(__pselect64)(nfds, r, w, e, ts_to64(ts, &t), mask);
}

static int select_via64(int nfds, fd_set *r, fd_set *w, fd_set *e,
			struct timeval *tv)
{
	struct tv64 t, *p = NULL;
	if (tv) {
		t = (struct tv64){ tv->tv_sec, tv->tv_usec };
		p = &t;
	}
	int res = NL_REAL(__select64)(nfds, r, w, e, p);
	if (tv) {
		tv->tv_sec = (time_t)t.sec;
		tv->tv_usec = (suseconds_t)t.usec;
	}
	return res;
}

NL_EXPORT int __ppoll64(struct pollfd *fds, nfds_t n, const struct ts64 *tmo,
			const sigset_t *mask)
{
	nl_enter();
	if (!NL_REAL(__ppoll64)) {
		errno = ENOSYS;
		return -1;
	}
	if (tmo && !fits32(tmo->sec))
		return NL_REAL(__ppoll64)(fds, n, tmo, mask);
	struct timespec t, *p = NULL;
	if (tmo) {
		t = (struct timespec){ (time_t)tmo->sec, tmo->nsec };
		p = &t;
	}
	return do_ppoll(ppoll_via64, fds, n, p, mask);
}

NL_EXPORT int __pselect64(int nfds, fd_set *r, fd_set *w, fd_set *e,
			  const struct ts64 *tmo, const sigset_t *mask)
{
	nl_enter();
	if (!NL_REAL(__pselect64)) {
		errno = ENOSYS;
		return -1;
	}
	if (tmo && !fits32(tmo->sec))
		return NL_REAL(__pselect64)(nfds, r, w, e, tmo, mask);
	struct timespec t, *p = NULL;
	if (tmo) {
		t = (struct timespec){ (time_t)tmo->sec, tmo->nsec };
		p = &t;
	}
	return do_pselect(pselect_via64, nfds, r, w, e, p, mask);
}

NL_EXPORT int __select64(int nfds, fd_set *r, fd_set *w, fd_set *e,
			 struct tv64 *tv)
{
	nl_enter();
	if (!NL_REAL(__select64)) {
		errno = ENOSYS;
		return -1;
	}
	if (tv && (!fits32(tv->sec) || tv->usec != (long)tv->usec))
		return NL_REAL(__select64)(nfds, r, w, e, tv);
	struct timeval t, *p = NULL;
	if (tv) {
		t = (struct timeval){ (time_t)tv->sec, (suseconds_t)tv->usec };
		p = &t;
	}
	int res = do_select(select_via64, nfds, r, w, e, p);
	if (tv) {
		tv->sec = t.tv_sec;
		tv->usec = t.tv_usec;
	}
	return res;
}
#endif

/* --- epoll --- */

static int log_epoll(const char *call, int epfd, long long waited_ns)
{
	return nl_watch_epoll_could_hang(epfd) &&
	       nl_watch_log_epoll_wait(call, epfd, waited_ns / 1000);
}

NL_REAL_DECL(epoll_wait);
NL_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	nl_enter();
	__typeof__(&epoll_wait) real = NL_REAL(epoll_wait);
	if (!real)
		return raw_result(nl_sys_epoll_wait(epfd, ev, max, timeout));
	long long warn = warn_ns(), total = ms_to_ns(timeout);
	if (!split(warn, total))
		return real(epfd, ev, max, timeout);
	long long t0 = now_ns();
	struct nl_sig_mark mark = nl_signals_mark();
	int r = real(epfd, ev, max, ns_to_ms(warn));
	if (r != 0)
		return r;
	int logged = log_epoll("epoll_wait", epfd, now_ns() - t0);
	if (interrupted(mark))
		return wait_end(logged, "epoll_wait", t0, -1);
	if (total < 0)
		return wait_end(logged, "epoll_wait", t0, real(epfd, ev, max, -1));
	r = real(epfd, ev, max, ns_to_ms(remaining(total, now_ns() - t0)));
	return wait_end(logged, "epoll_wait", t0, r);
}

static inline int epoll_pwait_run(__typeof__(&epoll_pwait) real, int epfd,
			     struct epoll_event *ev, int max, const sigset_t *mask,
			     long long warn, long long total,
			 struct nl_sig_mark mark)
{
	long long t0 = now_ns();
	int r = real(epfd, ev, max, ns_to_ms(warn), mask);
	if (r != 0)
		return r;
	int logged = log_epoll("epoll_pwait", epfd, now_ns() - t0);
	if (interrupted(mark))
		return wait_end(logged, "epoll_pwait", t0, -1);
	if (total < 0)
		return wait_end(logged, "epoll_pwait", t0, real(epfd, ev, max, -1, mask));
	r = real(epfd, ev, max, ns_to_ms(remaining(total, now_ns() - t0)), mask);
	return wait_end(logged, "epoll_pwait", t0, r);
}

/* Its two parts, with every signal blocked around them (mask_in). */
__attribute__((noinline))
static int epoll_pwait_parts(__typeof__(&epoll_pwait) real, int epfd,
			     struct epoll_event *ev, int max, const sigset_t *mask,
			     long long warn, long long total)
{
	nl_ksigset old;
	int masked = mask_in(mask, &old);
	int r = epoll_pwait_run(real, epfd, ev, max, mask, warn, total,
				nl_signals_mark());
	mask_out(masked, &old);
	return r;
}

NL_REAL_DECL(epoll_pwait);
NL_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max,
			  int timeout, const sigset_t *mask)
{
	nl_enter();
	__typeof__(&epoll_pwait) real = NL_REAL(epoll_pwait);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	long long warn = warn_ns(), total = ms_to_ns(timeout);
	if (!split(warn, total))
		return real(epfd, ev, max, timeout, mask);
	return epoll_pwait_parts(real, epfd, ev, max, mask, warn, total);
}
