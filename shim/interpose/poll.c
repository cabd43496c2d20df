/* Interposers of the poll family: poll, ppoll, select, pselect, epoll_wait
 * and epoll_pwait.  Event-loop programs, and CPython's communicate(), wait
 * here rather than in read().  With read_warn set and a log to write to, a
 * wait longer than read_warn is split: the real call runs for read_warn
 * first, and if nothing happened a wait_blocked event names every fd waited
 * on and who holds their other ends; then the call goes on for the rest.
 * A signal still ends the call with EINTR, as these calls always do. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>

#include "init.h"
#include "log/event.h"
#include "base/real.h"
#include "core/watchdog.h"

#define WAIT_FDS_MAX 32

/* read_warn in ms when waits are watched, else 0. */
static int warn_ms(void)
{
	const struct nl_policy *p = nl_policy();
	if (!p->read_warn || p->mode == NL_MODE_OFF || !nl_event_enabled())
		return 0;
	return p->read_warn > 2000000 ? 2000000000 : (int)p->read_warn * 1000;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What remains of `total` ms (-1: forever) after `spent`. */
static int remaining(int total, long long spent)
{
	if (total < 0)
		return -1;
	return spent >= total ? 0 : (int)(total - spent);
}

static struct timespec ms_to_ts(long long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	return ts;
}

static long long ts_to_ms(const struct timespec *ts)
{
	return ts ? (long long)ts->tv_sec * 1000 + ts->tv_nsec / 1000000 : -1;
}

static void log_pollfds(const char *call, const struct pollfd *fds, nfds_t n,
			long long waited_ms)
{
	int list[WAIT_FDS_MAX], k = 0;
	for (nfds_t i = 0; i < n && k < WAIT_FDS_MAX; i++)
		if (fds[i].fd >= 0)
			list[k++] = fds[i].fd;
	nl_watch_log_wait(call, list, k, -1, waited_ms * 1000);
}

NL_REAL_DECL(poll);
NL_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	nl_enter();
	__typeof__(&poll) real = NL_REAL(poll);
	if (!real)
		return (int)syscall(SYS_poll, fds, n, timeout);
	int warn = warn_ms();
	if (!warn || (timeout >= 0 && timeout <= warn))
		return real(fds, n, timeout);
	long long t0 = now_ms();
	int r = real(fds, n, warn);
	if (r != 0)
		return r;
	log_pollfds("poll", fds, n, now_ms() - t0);
	return real(fds, n, remaining(timeout, now_ms() - t0));
}

NL_REAL_DECL(ppoll);
NL_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
		    const sigset_t *mask)
{
	nl_enter();
	__typeof__(&ppoll) real = NL_REAL(ppoll);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	int warn = warn_ms();
	long long total = ts_to_ms(tmo);
	if (!warn || (total >= 0 && total <= warn))
		return real(fds, n, tmo, mask);
	long long t0 = now_ms();
	struct timespec first = ms_to_ts(warn);
	int r = real(fds, n, &first, mask);
	if (r != 0)
		return r;
	log_pollfds("ppoll", fds, n, now_ms() - t0);
	if (!tmo)
		return real(fds, n, NULL, mask);
	struct timespec rest = ms_to_ts(remaining((int)total, now_ms() - t0));
	return real(fds, n, &rest, mask);
}

/* --- select --- */

static void log_fdsets(const char *call, int nfds, const fd_set *r,
		       const fd_set *w, long long waited_ms)
{
	int list[WAIT_FDS_MAX], k = 0;
	for (int fd = 0; fd < nfds && fd < FD_SETSIZE && k < WAIT_FDS_MAX; fd++)
		if ((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)))
			list[k++] = fd;
	nl_watch_log_wait(call, list, k, -1, waited_ms * 1000);
}

struct saved_sets {
	fd_set r, w, e;
};

static void save_sets(struct saved_sets *s, fd_set *r, fd_set *w, fd_set *e)
{
	if (r) s->r = *r;
	if (w) s->w = *w;
	if (e) s->e = *e;
}

static void restore_sets(const struct saved_sets *s, fd_set *r, fd_set *w,
			 fd_set *e)
{
	if (r) *r = s->r;
	if (w) *w = s->w;
	if (e) *e = s->e;
}

NL_REAL_DECL(select);
NL_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e,
		     struct timeval *tv)
{
	nl_enter();
	__typeof__(&select) real = NL_REAL(select);
	if (!real)
		return (int)syscall(SYS_select, nfds, r, w, e, tv);
	int warn = warn_ms();
	long long total = tv ? (long long)tv->tv_sec * 1000 + tv->tv_usec / 1000 : -1;
	if (!warn || (total >= 0 && total <= warn) || nfds > FD_SETSIZE)
		return real(nfds, r, w, e, tv);
	struct saved_sets saved;
	save_sets(&saved, r, w, e);
	long long t0 = now_ms();
	struct timeval first = { warn / 1000, (warn % 1000) * 1000 };
	int res = real(nfds, r, w, e, &first);
	if (res != 0) {
		if (tv) {  /* Linux reports the time not slept */
			long long left = remaining((int)total, now_ms() - t0);
			tv->tv_sec = left / 1000;
			tv->tv_usec = (left % 1000) * 1000;
		}
		return res;
	}
	restore_sets(&saved, r, w, e);
	log_fdsets("select", nfds, r, w, now_ms() - t0);
	if (!tv)
		return real(nfds, r, w, e, NULL);
	long long left = remaining((int)total, now_ms() - t0);
	tv->tv_sec = left / 1000;
	tv->tv_usec = (left % 1000) * 1000;
	return real(nfds, r, w, e, tv);
}

NL_REAL_DECL(pselect);
NL_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e,
		      const struct timespec *ts, const sigset_t *mask)
{
	nl_enter();
	__typeof__(&pselect) real = NL_REAL(pselect);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	int warn = warn_ms();
	long long total = ts_to_ms(ts);
	if (!warn || (total >= 0 && total <= warn) || nfds > FD_SETSIZE)
		return real(nfds, r, w, e, ts, mask);
	struct saved_sets saved;
	save_sets(&saved, r, w, e);
	long long t0 = now_ms();
	struct timespec first = ms_to_ts(warn);
	int res = real(nfds, r, w, e, &first, mask);
	if (res != 0)
		return res;
	restore_sets(&saved, r, w, e);
	log_fdsets("pselect", nfds, r, w, now_ms() - t0);
	if (!ts)
		return real(nfds, r, w, e, NULL, mask);
	struct timespec rest = ms_to_ts(remaining((int)total, now_ms() - t0));
	return real(nfds, r, w, e, &rest, mask);
}

/* --- epoll --- */

NL_REAL_DECL(epoll_wait);
NL_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	nl_enter();
	__typeof__(&epoll_wait) real = NL_REAL(epoll_wait);
	if (!real)
		return (int)syscall(SYS_epoll_wait, epfd, ev, max, timeout);
	int warn = warn_ms();
	if (!warn || (timeout >= 0 && timeout <= warn))
		return real(epfd, ev, max, timeout);
	long long t0 = now_ms();
	int r = real(epfd, ev, max, warn);
	if (r != 0)
		return r;
	nl_watch_log_wait("epoll_wait", NULL, 0, epfd, (now_ms() - t0) * 1000);
	return real(epfd, ev, max, remaining(timeout, now_ms() - t0));
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
	int warn = warn_ms();
	if (!warn || (timeout >= 0 && timeout <= warn))
		return real(epfd, ev, max, timeout, mask);
	long long t0 = now_ms();
	int r = real(epfd, ev, max, warn, mask);
	if (r != 0)
		return r;
	nl_watch_log_wait("epoll_pwait", NULL, 0, epfd, (now_ms() - t0) * 1000);
	return real(epfd, ev, max, remaining(timeout, now_ms() - t0), mask);
}
