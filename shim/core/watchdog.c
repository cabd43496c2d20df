/* The blocking-read watchdog: see watchdog.h. */
#include "common/errno.h"
#include "core/watchdog.h"

#include <errno.h>
#include <limits.h>
#include <linux/major.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <termios.h>
#include <time.h>

#include "log/arena.h"
#include "core/culprit.h"
#include "log/event.h"
#include "core/fdtable.h"
#include "core/sandbox.h"
#include "log/jbuf.h"
#include "core/signals.h"
#include "common/sys.h"
#include "log/json.h"

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *nl_read_call_name(enum nl_read_call c)
{
	static const char *const names[] = { "read", "readv", "recv",
					     "recvfrom", "recvmsg" };
	return (unsigned)c < sizeof names / sizeof *names ? names[c] : "read";
}

/* --- trying without blocking --- */

static ssize_t raw_errno(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* The same read as op, on a socket, with MSG_DONTWAIT (not readv: see
 * try_kind). */
static long socket_try(const struct nl_read_op *op)
{
	int fl = op->flags | MSG_DONTWAIT;
	switch (op->call) {
	case NL_RD_RECVMSG:
		return NL_SYS(SYS_recvmsg, op->fd, op->msg, fl);
	case NL_RD_RECVFROM:
		return nl_sys6(SYS_recvfrom, op->fd, (long)op->buf, (long)op->n,
			       fl, (long)op->addr, (long)op->addrlen);
	default:
		return nl_sys6(SYS_recvfrom, op->fd, (long)op->buf, (long)op->n,
			       fl, 0, 0);
	}
}

long nl_read_nowait(const struct nl_read_op *op)
{
	if (op->call != NL_RD_READV)
		return socket_try(op);
	/* readv on a socket is recvmsg of the same vector. */
	struct msghdr m = { .msg_iov = (struct iovec *)op->iov,
			    .msg_iovlen = (size_t)op->iovcnt };
	return NL_SYS(SYS_recvmsg, op->fd, &m, MSG_DONTWAIT);
}

/* The same read on a pipe, with RWF_NOWAIT: a plain read's cost. */
static long pipe_try(const struct nl_read_op *op)
{
	struct iovec one = { op->buf, op->n };
	const struct iovec *iov = op->call == NL_RD_READV ? op->iov : &one;
	int cnt = op->call == NL_RD_READV ? op->iovcnt : 1;
	return nl_sys6(SYS_preadv2, op->fd, (long)iov, cnt, -1, -1, RWF_NOWAIT);
}

/* What poll() says of fd now: its revents, POLLERR when poll failed. */
static short poll_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long r = nl_sys_poll(&p, 1, 0);
	return r < 0 ? POLLERR : r == 0 ? 0 : p.revents;
}

static int ready_now(int fd)
{
	return poll_now(fd) != 0;  /* ready, or poll failed */
}

int nl_watch_readable_now(int fd)
{
	return (poll_now(fd) & POLLIN) != 0;
}

static int fd_nonblocking(int fd)
{
	int fl = nl_sys_fcntl(fd, F_GETFL, 0);
	return fl >= 0 && (fl & O_NONBLOCK);
}

/* A try's answer: done (*result holds the call's result), or go on. */
static int finish_try(long r, int fd, ssize_t *result)
{
	if (nl_sandbox_refused(r))
		return NL_TRY_REAL;   /* a filter's answer: core/sandbox.h */
	if ((r == -EAGAIN || r == -EWOULDBLOCK) && !fd_nonblocking(fd))
		return NL_TRY_WAIT;
	*result = raw_errno(r);
	return NL_TRY_DONE;
}

/* Whether the blocking call waits for more than a non-blocking try would
 * return: MSG_WAITALL, or a socket whose SO_RCVLOWAT is above 1.  Neither
 * a try nor poll() reproduces when such a read returns (TCP wakes a reader
 * only when the data not yet copied reaches SO_RCVLOWAT), so it is the real
 * call, unwatched.  A read of at most one byte needs no asking: the kernel
 * waits for min(SO_RCVLOWAT, length) bytes, and at least one (the lengths
 * of readv and recvmsg are in the program's memory, which the shim does
 * not read). */
int nl_read_waits_for_more(const struct nl_read_op *op)
{
	if (op->call != NL_RD_READ && op->call != NL_RD_READV &&
	    (op->flags & MSG_WAITALL))
		return 1;
	if (op->call != NL_RD_READV && op->call != NL_RD_RECVMSG && op->n <= 1)
		return 0;
	int lowat = 1;
	socklen_t len = sizeof lowat;
	return nl_sys6(SYS_getsockopt, op->fd, SOL_SOCKET, SO_RCVLOWAT,
		       (long)&lowat, (long)&len, 0) == 0 && lowat > 1;
}

/* Whether the caller's process group may read the terminal fd now: it is
 * the foreground group, or the terminal is not the caller's controlling
 * terminal (TIOCGPGRP fails: no job control there). */
static int tty_foreground(int fd)
{
	pid_t fg;
	return nl_sys_ioctl(fd, TIOCGPGRP, &fg) != 0 || fg == nl_sys_getpgid(0);
}

/* Whether a read on the character device fd is one a poll(POLLIN) wait
 * reproduces: a terminal in canonical mode, read from its foreground
 * process group.  Non-canonical modes (VMIN, VTIME), a read from a
 * background group (SIGTTIN or EIO at once), a hung-up terminal and every
 * other device keep their own semantics: the real call, unwatched. */
static int tty_watchable(int fd)
{
	struct termios t;
	if (nl_sys_ioctl(fd, TCGETS, &t) < 0 || !(t.c_lflag & ICANON))
		return 0;
	return tty_foreground(fd);
}

/* A terminal reported POLLHUP (with `revents`): whether the read in
 * progress would have failed with EIO.  Only the master side of a
 * pseudo-terminal closing does that (the terminal side is marked "other
 * side closed"); any other hang-up (vhangup(2) by login or agetty, a
 * modem's carrier) ends it with 0, as a read begun now does.  A master
 * closes in order: the terminal side is marked (POLLHUP; a read begun now
 * fails with EIO), its /dev/pts node is removed (st_nlink 0), then the
 * terminal is hung up (its open files answer every ioctl with EIO and a
 * read with 0).  So a terminal that still answers TCGETS is in the first
 * step (a line typed before is read first all the same), and one hung up
 * whose /dev/pts node is gone was hung up by its master.  (A legacy BSD
 * pseudo-terminal, /dev/ttyXY, keeps its node: once its hang-up is done
 * the real read returns 0.)  Not inlined: its struct stat stays off the
 * waiting frame. */
__attribute__((noinline))
static int tty_master_closed(int fd, short revents)
{
	struct termios t;
	if (nl_sys_ioctl(fd, TCGETS, &t) == 0)
		return !(revents & POLLIN);   /* else a line is left to read */
	struct stat st;
	return nl_sys_fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	       major(st.st_rdev) >= UNIX98_PTY_SLAVE_MAJOR &&
	       major(st.st_rdev) < UNIX98_PTY_SLAVE_MAJOR + UNIX98_PTY_MAJOR_COUNT &&
	       st.st_nlink == 0;
}

/* The kind of fd now, from fstat: the fd table's cached kind can be stale
 * (the number closed and reused by a call no preload sees, such as libc's
 * own open in openpty()), so it is checked before any wait. */
/* Not inlined, nor nl_watch_could_hang(): their struct stat (144 bytes)
 * would stay on the waiting frame while an event is logged. */
__attribute__((noinline))
static enum nl_fd_kind kind_now(int fd)
{
	struct stat st;
	if (nl_sys_fstat(fd, &st) < 0)
		return NL_KIND_OTHER;
	switch (st.st_mode & S_IFMT) {
	case S_IFIFO: return NL_KIND_PIPE;
	case S_IFSOCK: return NL_KIND_SOCKET;
	case S_IFCHR: return NL_KIND_TTY;
	default: return NL_KIND_OTHER;
	}
}

/* `checked`: kind comes from kind_now(), not the fd table's cache.  With
 * NL_TRY_WAIT, *proved is what fd certainly is (see nl_watch_try). */
static int try_kind(const struct nl_read_op *op, enum nl_fd_kind kind,
		    int checked, ssize_t *result, enum nl_fd_kind *proved)
{
	int recv_call = op->call != NL_RD_READ && op->call != NL_RD_READV;
	long r;
	/* A read of 0 bytes (0 at once, on any kind of fd), a count readv
	 * refuses (EINVAL) or that asks for nothing. */
	if ((op->call == NL_RD_READ && op->n == 0) ||
	    (op->call == NL_RD_READV && (op->iovcnt <= 0 || op->iovcnt > IOV_MAX)))
		return NL_TRY_REAL;
	switch (kind) {
	case NL_KIND_SOCKET:
		/* Reads that never block: MSG_DONTWAIT, and the error queue
		 * (MSG_ERRQUEUE, EAGAIN at once when empty). */
		if (op->flags & (MSG_DONTWAIT | MSG_ERRQUEUE))
			return NL_TRY_REAL;
		if (nl_read_waits_for_more(op))
			return NL_TRY_REAL;
		if (op->call == NL_RD_READV) {
			/* readv's own semantics, which recvmsg lacks (0 at
			 * once for 0 bytes, EINVAL for a bad count): as a
			 * pipe's, with RWF_NOWAIT. */
			r = pipe_try(op);
			*proved = checked ? NL_KIND_SOCKET : NL_KIND_UNKNOWN;
			if (r == -EOPNOTSUPP)
				return NL_TRY_REAL;   /* an older kernel */
			return finish_try(r, op->fd, result);
		}
		r = socket_try(op);
		*proved = NL_KIND_SOCKET;  /* only sockets take recv */
		if (r != -ENOTSOCK)
			return finish_try(r, op->fd, result);
		break;  /* not a socket any more */
	case NL_KIND_PIPE:
		if (recv_call)
			return NL_TRY_REAL;  /* ENOTSOCK */
		r = pipe_try(op);
		/* Sockets and some files take RWF_NOWAIT too: only an fstat
		 * proves a pipe. */
		*proved = checked ? NL_KIND_PIPE : NL_KIND_UNKNOWN;
		if (r != -EOPNOTSUPP && r != -EINVAL && r != -ESPIPE)
			return finish_try(r, op->fd, result);
		break;  /* pipes take RWF_NOWAIT: not a pipe any more */
	case NL_KIND_TTY:
		if (recv_call || !tty_watchable(op->fd))
			return NL_TRY_REAL;
		/* ptys refuse RWF_NOWAIT: ask poll, then read for real. */
		if (ready_now(op->fd) || fd_nonblocking(op->fd))
			return NL_TRY_REAL;
		*proved = NL_KIND_TTY;
		return checked || kind_now(op->fd) == NL_KIND_TTY ? NL_TRY_WAIT
								  : NL_TRY_REAL;
	default:
		return NL_TRY_REAL;  /* files never block: not watched */
	}
	if (checked)
		return NL_TRY_REAL;
	enum nl_fd_kind now = kind_now(op->fd);
	if (now != kind)
		return try_kind(op, now, 1, result, proved);
	/* A pipe that refuses RWF_NOWAIT (an older kernel): ask poll. */
	if (kind != NL_KIND_PIPE || ready_now(op->fd) || fd_nonblocking(op->fd))
		return NL_TRY_REAL;
	*proved = NL_KIND_PIPE;
	return NL_TRY_WAIT;
}

int nl_watch_try(const struct nl_read_op *op, ssize_t *result,
		 enum nl_fd_kind *kind)
{
	*kind = NL_KIND_UNKNOWN;
	int way = try_kind(op, nl_fd_kind(op->fd), 0, result, kind);
	if (way != NL_TRY_WAIT)
		*kind = NL_KIND_UNKNOWN;
	return way;
}

/* --- waiting --- */

static void log_blocked(const struct nl_read_op *op, long long waited)
{
	struct nl_event ev;
	nl_event_begin(&ev, "read_blocked");
	nl_event_int(&ev, "fd", op->fd);
	nl_event_str(&ev, "call", nl_read_call_name(op->call));
	nl_event_int(&ev, "waited", waited / 1000000);
	nl_event_culprits(&ev, op->fd);
	nl_event_emit(&ev);
}

static void log_timeout(const struct nl_read_op *op, long long waited,
			const char *action)
{
	struct nl_event ev;
	nl_event_begin(&ev, "read_timeout");
	nl_event_str(&ev, "action", action);
	nl_event_int(&ev, "fd", op->fd);
	nl_event_str(&ev, "call", nl_read_call_name(op->call));
	nl_event_int(&ev, "waited", waited / 1000000);
	nl_event_culprits(&ev, op->fd);
	nl_event_emit(&ev);
}

/* A wait on a terminal wakes this often to see whether its process group
 * is still in the foreground (see nl_watch_wait): a stop and continue
 * leaves no other trace. */
#define TTY_SLICE_MS 250

/* The next moment the wait must wake up at, or -1 for none. */
static long long next_deadline(long long warn_at, long long limit_at)
{
	if (warn_at < 0)
		return limit_at;
	if (limit_at < 0)
		return warn_at;
	return warn_at < limit_at ? warn_at : limit_at;
}

void nl_watch_begin(struct nl_watch *w)
{
	w->t0 = now_us();
	w->warned = w->warn_passed = w->timeout_logged = 0;
}

int nl_watch_wait(struct nl_watch *w, const struct nl_read_op *op,
		  enum nl_fd_kind kind, long long limit_us, int *timed_out)
{
	const struct nl_policy *p = nl_policy();
	if (kind == NL_KIND_UNKNOWN)
		kind = kind_now(op->fd);
	*timed_out = 0;
	int logging = nl_event_enabled();
	long long warn_at = p->read_warn && logging && !w->warn_passed
				    ? w->t0 + (long long)p->read_warn * 1000000 : -1;
	/* A socket with the program's own receive timeout: the real call,
	 * unwatched.  The kernel ends such a read with EINTR on any signal,
	 * also a stop and continue that runs no handler, which poll()
	 * restarts unseen. */
	if (kind == NL_KIND_SOCKET && limit_us <= 0) {
		struct timeval tv = { 0, 0 };
		socklen_t len = sizeof tv;
		if (nl_sys6(SYS_getsockopt, op->fd, SOL_SOCKET, SO_RCVTIMEO,
			    (long)&tv, (long)&len, 0) == 0 &&
		    (tv.tv_sec || tv.tv_usec))
			return 0;
	}
	long long limit_at = limit_us > 0 ? w->t0 + limit_us : -1;
	long long timeout_at = -1;  /* read_timeout on pipes, FIFOs, ttys */
	if (p->read_timeout && kind != NL_KIND_SOCKET && !w->timeout_logged)
		timeout_at = w->t0 + (long long)p->read_timeout * 1000000;
	long long hard_at = limit_at < 0 ? timeout_at
			    : timeout_at < 0 || limit_at < timeout_at ? limit_at : timeout_at;
	struct nl_sig_mark mark = nl_signals_mark();

	for (;;) {
		/* A handler that ran outside poll() (while an event was
		 * logged) interrupted the read all the same. */
		if (nl_signals_mark().seq != mark.seq) {
			if (!nl_signals_would_restart(mark)) {
				errno = EINTR;
				return -1;
			}
			return 1;
		}
		long long wake = next_deadline(warn_at, hard_at), now = now_us();
		/* poll() takes an int of ms (24.8 days): a later deadline is
		 * waited for in turns of this loop. */
		long long left = wake < 0 ? -1 : wake <= now ? 0 : (wake - now + 999) / 1000;
		int ms = left > INT_MAX ? INT_MAX : (int)left;
		if (kind == NL_KIND_TTY && (ms < 0 || ms > TTY_SLICE_MS))
			ms = TTY_SLICE_MS;
		struct pollfd pfd = { .fd = op->fd, .events = POLLIN };
		long r = nl_sys_poll(&pfd, 1, ms);
		now = now_us();
		if (nl_sandbox_known())
			return 0;   /* a filter came meanwhile: core/sandbox.h */
		/* A terminal that hung up while waited on: the kernel's answer,
		 * but for the EIO of a closed master, which a read begun now
		 * no longer gives once the hang-up is done. */
		if (r > 0 && kind == NL_KIND_TTY && (pfd.revents & POLLHUP) &&
		    tty_master_closed(op->fd, pfd.revents)) {
			errno = EIO;
			return -1;
		}
		/* Out of the foreground: the job was stopped and continued
		 * in the background (^Z, bg), which restarts poll() unseen,
		 * where the kernel begins the read again and stops it with
		 * SIGTTIN (or fails it with EIO).  The real call does.  (A
		 * group that lost the foreground without a stop: the
		 * kernel's read would wait on, as it checks job control only
		 * as it begins; the real call is made within a slice, where
		 * the first line typed made it before.) */
		if (r == 0 && kind == NL_KIND_TTY && !tty_foreground(op->fd))
			return 0;
		/* Readable: tried again without blocking, since another
		 * reader of the fd may take what woke this one (poll wakes
		 * every reader where the kernel's read gives the data to
		 * one); the loser waits on, watched.  An error or a hang-up
		 * alone (a UDP socket's queued ICMP error, which a try does
		 * not take): the real call. */
		if (r > 0 && (pfd.revents & POLLIN))
			return 2;
		if (r > 0 || (r < 0 && r != -EINTR))
			return 0;  /* or poll cannot say: the real call */
		if (r == -EINTR) {
			if (!nl_signals_would_restart(mark)) {
				errno = EINTR;
				return -1;
			}
			/* The kernel's restart begins the read again: the
			 * caller tries it again, with what the handler may
			 * have changed (O_NONBLOCK, SO_RCVTIMEO, SO_RCVLOWAT,
			 * the data). */
			return 1;
		}
		if (warn_at >= 0 && now >= warn_at) {
			/* An unconnected socket (a datagram server) waits for
			 * work, not for a peer that went silent. */
			if (kind != NL_KIND_SOCKET || nl_watch_could_hang(op->fd)) {
				log_blocked(op, now - w->t0);
				w->warned = 1;
			}
			warn_at = -1;
			w->warn_passed = 1;
		}
		if (hard_at >= 0 && now >= hard_at) {
			if (hard_at == timeout_at && nl_mode() == NL_MODE_AUDIT) {
				/* Reported: its end is logged too
				 * (nl_watch_done), or the log shows a read
				 * that never ended. */
				if (logging) {
					log_timeout(op, now - w->t0, "would_time_out");
					w->warned = 1;
				}
				timeout_at = -1;
				w->timeout_logged = 1;
				hard_at = limit_at;
				continue;
			}
			if (hard_at == timeout_at && logging)
				log_timeout(op, now - w->t0, "timed_out");
			*timed_out = 1;
			errno = EAGAIN;
			return -1;
		}
	}
}

/* read_unblocked or wait_unblocked: the read (fd >= 0) or wait that
 * logged its block returned r after waited_us, with errno `err`. */
static void log_unblocked(const char *kind, int fd, const char *call,
			  long long waited_us, long r, int err)
{
	struct nl_event ev;
	nl_event_begin(&ev, kind);
	if (fd >= 0)
		nl_event_int(&ev, "fd", fd);
	nl_event_str(&ev, "call", call);
	char secs[32];
	size_t n = nl_fmt_int(secs, sizeof secs, waited_us / 1000000);
	secs[n++] = '.';
	long long ms = (waited_us / 1000) % 1000;
	secs[n++] = (char)('0' + ms / 100);
	secs[n++] = (char)('0' + ms / 10 % 10);
	secs[n++] = (char)('0' + ms % 10);
	secs[n] = '\0';
	nl_event_raw(&ev, "waited", secs);
	nl_event_int(&ev, "result", r);
	if (r < 0)
		nl_event_int(&ev, "errno", err);
	nl_event_emit(&ev);
}

void nl_watch_done(const struct nl_watch *w, const struct nl_read_op *op,
		   ssize_t r)
{
	if (!w->warned)
		return;
	int saved = errno;
	log_unblocked("read_unblocked", op->fd, nl_read_call_name(op->call),
		      now_us() - w->t0, r, saved);
	nl_errno_restore(saved);
}

void nl_watch_wait_done(const char *call, long long waited_us, int r)
{
	int saved = errno;
	log_unblocked("wait_unblocked", -1, call, waited_us, r, saved);
	nl_errno_restore(saved);
}

/* --- the poll family --- */

/* --- whether a wait could be a hang --- */

/* A connected socket: not a listener, and it has a peer. */
static int socket_has_peer(int fd)
{
	int on = 0;
	socklen_t len = sizeof on;
	if (nl_sys6(SYS_getsockopt, fd, SOL_SOCKET, SO_ACCEPTCONN, (long)&on,
		    (long)&len, 0) == 0 && on)
		return 0;
	struct sockaddr_storage a;
	socklen_t alen = sizeof a;
	return NL_SYS(SYS_getpeername, fd, &a, &alen) == 0;
}

__attribute__((noinline))
int nl_watch_could_hang(int fd)
{
	struct stat st;
	if (nl_sys_fstat(fd, &st) < 0)
		return 0;
	if (S_ISFIFO(st.st_mode))
		return 1;
	return S_ISSOCK(st.st_mode) && socket_has_peer(fd);
}

/* The fds an epoll instance watches, one after another, from the "tfd:"
 * lines of /proc/self/fdinfo/EPFD.  The file is read in chunks into arena
 * memory (the caller's bracket), so any number of targets is seen: no list
 * is kept. */
#define TFD_CHUNK 2048
struct tfd_iter {
	char *buf;
	size_t len, at;   /* bytes in buf, and the start of the next line */
	int fd, eof;
};

__attribute__((noinline))
static int tfd_open(struct tfd_iter *it, int epfd)
{
	char path[40] = "/proc/self/fdinfo/";
	it->len = it->at = 0;
	it->eof = 0;
	it->fd = -1;
	it->buf = nl_arena_get(TFD_CHUNK);
	if (!it->buf)
		return -1;
	nl_fmt_int(path + 18, sizeof path - 18, epfd);
	it->fd = nl_sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	return it->fd < 0 ? -1 : 0;
}

static void tfd_close(struct tfd_iter *it)
{
	if (it->fd >= 0)
		nl_sys_close(it->fd);
	it->fd = -1;
}

/* The next target fd, or -1 after the last. */
__attribute__((noinline))
static int tfd_next(struct tfd_iter *it)
{
	if (it->fd < 0)
		return -1;
	for (;;) {
		char *s = it->buf + it->at, *end = it->buf + it->len, *e = s;
		while (e < end && *e != '\n')
			e++;
		if (e == end && !(it->eof && s < end)) {
			if (it->eof)
				return -1;
			/* Keep the start of a line, read on after it (a line
			 * longer than the buffer, which the kernel never
			 * writes, is dropped). */
			size_t keep = it->len - it->at;
			if (keep == TFD_CHUNK)
				keep = 0;
			for (size_t i = 0; i < keep; i++)
				it->buf[i] = s[i];
			it->len = keep;
			it->at = 0;
			ssize_t n;
			do
				n = nl_sys_read(it->fd, it->buf + keep,
						TFD_CHUNK - keep);
			while (n == -EINTR);
			if (n > 0)
				it->len += (size_t)n;
			else
				it->eof = 1;
			continue;
		}
		it->at = (size_t)(e - it->buf) + (e < end);
		if (e - s < 5 || s[0] != 't' || s[1] != 'f' || s[2] != 'd' ||
		    s[3] != ':')
			continue;
		const char *p = s + 4;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p == e || *p < '0' || *p > '9')
			continue;
		int v = 0;
		for (; p < e && *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (*p - '0');
		return v;
	}
}

int nl_watch_epoll_could_hang(int epfd)
{
	size_t mark = nl_arena_enter();
	struct tfd_iter it;
	int n = 0, fd;
	if (tfd_open(&it, epfd) == 0)
		while ((fd = tfd_next(&it)) >= 0) {
			if (!nl_watch_could_hang(fd)) {
				n = 0;
				break;
			}
			n++;
		}
	tfd_close(&it);
	nl_arena_leave(mark);
	return n > 0;
}

/* The number of fds the epoll instance watches; `it` is left at the first
 * of them.  Out of the logging frame: the poll paths' stack is tight. */
__attribute__((noinline))
static int epoll_count(struct tfd_iter *it, int epfd)
{
	int n = 0;
	if (tfd_open(it, epfd) == 0)
		while (tfd_next(it) >= 0)
			n++;
	tfd_close(it);
	if (tfd_open(it, epfd) < 0)
		tfd_close(it);
	return n;
}

/* The last entry of a list cut short: {"more":N}.  A frame of its own,
 * after the culprit scans rather than under them. */
__attribute__((noinline))
static void json_more(struct nl_jbuf *j, int shown, int more)
{
	if (more <= 0)
		return;
	nl_jb_raw(j, shown ? ",{" : "{");
	nl_jb_key(j, "more", 1);
	nl_jb_int(j, more);
	nl_jb_raw(j, "}");
}

/* The event of a wait on the list `fds`, or (epoll_fd >= 0) on the targets
 * of the epoll instance epoll_fd, read as they are listed (counted first: the
 * count comes before the list).  Inlined twice, so that the frame of a
 * list's event, under poll() and pselect() in a signal handler, carries
 * nothing of epoll's. */
static inline __attribute__((always_inline))
void log_wait(const char *call, const int *fds, int n_list, int n_fds,
	      int epoll_fd, long long waited_us)
{
	int saved = errno;
	struct nl_event ev;
	nl_event_begin(&ev, "wait_blocked");
	size_t mark = nl_arena_enter();
	struct tfd_iter *it = NULL;
	if (epoll_fd >= 0) {
		it = nl_arena_get(sizeof *it);
		n_fds = it ? epoll_count(it, epoll_fd) : 0;
	}
	nl_event_str(&ev, "call", call);
	nl_event_int(&ev, "waited", waited_us / 1000000);
	nl_event_int(&ev, "n_fds", n_fds);
	/* The list is written straight into the line, at most 3000 bytes of
	 * it, one fd (at most 1500 bytes) after another while they fit; the
	 * fds past that are counted in a last entry {"more":N}. */
	struct nl_jbuf j;
	nl_event_json_open(&ev, "fds", &j);
	if (j.cap > 3000)
		j.cap = 3000;
	nl_jb_raw(&j, "[");
	/* The fds that do not fit are counted (an fd added to or removed
	 * from an epoll instance between the count and the list is not made
	 * up for). */
	int shown = 0, i = 0, fd;
	while ((fd = epoll_fd >= 0 ? (it ? tfd_next(it) : -1)
				   : i < n_list ? fds[i++] : -1) >= 0) {
		size_t at = j.len + (shown ? 1 : 0);
		if (j.full || at + 32 >= j.cap) {
			json_more(&j, shown, n_fds - shown);
			break;
		}
		size_t room = j.cap - at - 32;
		int whole = room >= 1500;   /* else a long one cannot fit */
		size_t len = nl_culprit_json(j.b + at, whole ? 1500 : room, fd);
		if (!len || (!whole && !strncmp(j.b + at, "{\"truncated\"", 12))) {
			j.b[j.len] = '\0';
			json_more(&j, shown, n_fds - shown);
			break;
		}
		if (shown++)
			j.b[j.len] = ',';
		j.len = at + len;
	}
	if (it)
		tfd_close(it);
	nl_jb_raw(&j, "]");
	nl_event_json_close(&ev, &j, 1);
	nl_arena_leave(mark);
	nl_event_emit(&ev);
	nl_errno_restore(saved);
}

void nl_watch_log_wait(const char *call, const int *fds, int n_list,
		       int n_fds, long long waited_us)
{
	log_wait(call, fds, n_list, n_fds, -1, waited_us);
}

int nl_watch_log_epoll_wait(const char *call, int epfd, long long waited_us)
{
	if (epfd < 0)
		return 0;
	log_wait(call, NULL, 0, 0, epfd, waited_us);
	return 1;
}

/* Written at start-up: in .data, on a page the loader has already written,
 * rather than a .bss page of its own. */
int nl_reads_plain __attribute__((section(".data")));
int nl_reads_watched __attribute__((section(".data")));

void nl_watch_configure(const struct nl_policy *p)
{
	/* read_warn only logs, and so does read_timeout under audit:
	 * without a log the watchdog (its poll() in place of the read, the
	 * signal trampolines it needs) would change reads for nothing. */
	int logging = nl_event_enabled();
	nl_reads_watched = p->mode != NL_MODE_OFF &&
			   ((p->read_timeout && p->mode == NL_MODE_ENFORCE) ||
			    ((p->read_warn || p->read_timeout) && logging));
	nl_reads_plain = p->mode == NL_MODE_OFF ||
			 (!nl_reads_watched && p->stdin_mode != NL_STDIN_DETACH);
}
