/* Reads and writes on sockets whose timeout the shim set.
 *
 * The kernel does not restart a read or write on a socket that has a
 * timeout after a signal handler, even one installed with SA_RESTART: the
 * call fails with EINTR.  Without the shim the socket would have had no
 * timeout and the call would have been restarted, so for those sockets the
 * shim restarts it itself when the handler that interrupted it had
 * SA_RESTART (signals.h).  The restart is the kernel's: it sees what the
 * handler changed.  A timeout the program set during the call is the
 * kernel's from then on, whole (the call began under the shim's, or it
 * would not be here: the program's replaced it since); O_NONBLOCK makes
 * it the real call, EAGAIN at once.  A write is the real call again at
 * once, as the kernel's restart (it takes the room there is, and a later
 * signal without SA_RESTART ends it with what it wrote), while some of the
 * shim's timeout remains.  Otherwise the time that remains of the shim's
 * timeout is waited in poll(), so the total wait stays the timeout, and
 * the socket's options are never touched: nothing to put
 * back, nothing another thread, another process or a siglongjmp out of a
 * handler could see half done.  Once nothing remains, one try without
 * waiting comes before the timeout: a process stopped longer than the
 * timeout reads what came meanwhile.
 *
 * Invariant: a call that succeeds at once costs what it did, the clock
 * read and the signal mark; everything else is on the rare paths.
 *
 * Every other fd goes straight to libc: one bit tested in the socket table,
 * no system call.  Reads through stdio use libc's internal read, which no
 * preload sees: they get EINTR as the kernel gives it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "init.h"
#include "common/sys.h"
#include "common/target.h"
#include "base/real.h"
#include "core/sandbox.h"
#include "core/signals.h"
#include "core/socktimeout.h"
#include "core/stdin.h"
#include "core/watchdog.h"

/* The fortified variants that _FORTIFY_SOURCE builds call instead. */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *addr, socklen_t *addrlen);
#ifdef NL_LIBC_MUSL
#define chk_fail() __builtin_trap()  /* musl has no __chk_fail */
#else
void __chk_fail(void) __attribute__((noreturn));
#define chk_fail() __chk_fail()
#endif

/* A write, as the program asked for it: what a try without waiting
 * repeats. */
enum wr_call { WR_WRITE, WR_WRITEV, WR_SENDTO, WR_SENDMSG };
struct wr_op {
	enum wr_call call;
	const void *buf;
	size_t n;
	const struct iovec *iov;
	int iovcnt;
	int flags;
	const struct sockaddr *addr;
	socklen_t addrlen;
	const struct msghdr *msg;
};

/* One interposed call on a socket with the shim's timeout, across its
 * restarts. */
struct sock_call {
	int fd;
	enum nl_sock_dir dir;
	long long t0;              /* monotonic start, microseconds */
	struct nl_sig_mark mark;   /* signal record at the last attempt */
	unsigned secs;             /* the shim's timeout, once confirmed */
	int errno0;                /* errno before the call (a restart's) */
	unsigned char own;         /* the program's timeout replaced the
				    * shim's during the call: the kernel's
				    * rules from the restart on */
	union {
		const struct nl_read_op *rd;   /* the call: a read (dir) */
		const struct wr_op *wr;        /* or a write */
	};
};

/* The coarse clock: read on every call on a timed socket, and timeouts
 * are whole seconds, so its few milliseconds of resolution are plenty. */
static long long now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void call_begin(struct sock_call *c, int fd, enum nl_sock_dir dir)
{
	c->fd = fd;
	c->dir = dir;
	c->t0 = now_usec();
	c->mark = nl_signals_mark();
	c->errno0 = errno;
	c->secs = 0;
	c->own = 0;
	c->rd = NULL;
}

/* The call again, without waiting: what the blocking call would return
 * now, if anything is there (a count, or an error); else -1 with EAGAIN.
 * Not inlined, nor wait_ready(): their structs would stay on the frame
 * under which a timeout is logged. */
__attribute__((noinline))
static ssize_t try_nowait(const struct sock_call *c)
{
	long r;
	const struct wr_op *w = c->wr;
	if (c->dir == NL_SOCK_READ)
		r = nl_read_nowait(c->rd);
	else if (w->call == WR_WRITEV) {
		struct msghdr m = { .msg_iov = (struct iovec *)w->iov,
				    .msg_iovlen = (size_t)w->iovcnt };
		r = NL_SYS(SYS_sendmsg, c->fd, &m, MSG_DONTWAIT);
	} else if (w->call == WR_SENDMSG)
		r = NL_SYS(SYS_sendmsg, c->fd, w->msg, w->flags | MSG_DONTWAIT);
	else   /* write() on a socket is send() without flags */
		r = nl_sys6(SYS_sendto, c->fd, (long)w->buf, (long)w->n,
			    w->flags | MSG_DONTWAIT, (long)w->addr, w->addrlen);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

NL_REAL_DECL(poll);

/* Wait until the call could go on, at most `usec`: libc's poll(), a
 * cancellation point as the blocking call is.  1: ready (or poll cannot
 * say), 0: the time is up, -1: EINTR. */
__attribute__((noinline))
static int wait_ready(const struct sock_call *c, long long usec)
{
	struct pollfd p = { .fd = c->fd,
			    .events = c->dir == NL_SOCK_READ ? POLLIN : POLLOUT };
	/* poll() takes an int of ms (24.8 days); a longer sock_timeout
	 * waits in turns (rest_of_wait). */
	long long lms = (usec + 999) / 1000;
	int ms = lms > INT_MAX ? INT_MAX : (int)lms;
	__typeof__(&poll) real = NL_REAL(poll);
	int r;
	if (real)
		r = real(&p, 1, ms);
	else if ((r = nl_sys_poll(&p, 1, ms)) < 0) {   /* aarch64: ppoll */
		errno = -r;
		r = -1;
	}
	if (r < 0)
		return errno == EINTR ? -1 : 1;
	return r > 0;
}

/* After a call that waited `waited` in vain. Returns the errno the call
 * ends with (see nl_sock_timed_out). */
static int after_eagain(struct sock_call *c, long long waited)
{
	if (c->own)
		return EAGAIN;
	unsigned secs = nl_sock_recorded_timeout(c->fd, c->dir);
	/* A non-blocking EAGAIN is immediate; the kernel's timeout never
	 * fires early, only rounded to its tick. */
	if (!secs || waited < (long long)secs * 1000000 - 50000)
		return EAGAIN;
	/* Under a seccomp filter, the kernel's answer as it is: the looks
	 * below are calls of the shim's own (core/sandbox.h). */
	if (!nl_probes_allowed())
		return EAGAIN;
	if (nl_sock_shim_timeout(c->fd, c->dir) != secs)
		return EAGAIN;
	return nl_sock_timed_out(c->fd, c->dir, waited, secs);
}

/* The call ends with r (not EINTR): a partial write that took the whole
 * timeout marks a silent peer; the shim's timeout turns EAGAIN into what
 * nl_sock_timed_out says.  Inlined: the frames under which a timeout is
 * logged are few. */
static inline __attribute__((always_inline)) ssize_t call_end(struct sock_call *c, ssize_t r)
{
	long long waited = now_usec() - c->t0;
	if (r > 0 && c->dir == NL_SOCK_WRITE && !c->own) {
		unsigned secs = nl_sock_recorded_timeout(c->fd, c->dir);
		if (secs && waited >= (long long)secs * 1000000 - 50000 &&
		    nl_probes_allowed())
			nl_sock_after_partial(c->fd, c->dir, waited, secs);
	}
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		int e = after_eagain(c, waited);
		if (e != EAGAIN)
			errno = e;
	}
	return r;
}

enum { GO_END, GO_REAL, GO_WAIT, GO_TIMED_OUT };

/* EINTR: restart when the kernel would have without the shim's timeout.
 * GO_END: the call ends with EINTR; GO_REAL: the real call again, as the
 * kernel's restart (the program's own timeout now, or O_NONBLOCK);
 * GO_WAIT: the rest of the shim's timeout (rest_of_wait). */
static int after_eintr(struct sock_call *c)
{
	if (c->own || !nl_signals_would_restart(c->mark))
		return GO_END;
	c->mark = nl_signals_mark();
	/* Under a seccomp filter the shim makes no call of its own (here:
	 * getsockopt, fcntl, poll; core/sandbox.h): the real call again, as
	 * the kernel's restart, under whatever timeout the socket has (the
	 * shim's whole one again, or the program's). */
	if (!nl_probes_allowed())
		return GO_REAL;
	unsigned secs = nl_sock_shim_timeout(c->fd, c->dir);
	if (!secs) {
		/* The program set its own timeout during the call (the shim's
		 * was in force when it began, or it would not be here): the
		 * kernel would have restarted it under the program's, whole. */
		if (!nl_sock_program_timeout_since(c->fd, c->dir))
			return GO_END;   /* another socket under the number */
		c->own = 1;
		return GO_REAL;
	}
	c->secs = secs;
	int fl = nl_sys_fcntl(c->fd, F_GETFL, 0);
	if (fl >= 0 && (fl & O_NONBLOCK))
		return GO_REAL;
	/* A write is the real call again at once, as the kernel's restart:
	 * it takes the room there is now and waits for the rest, and a later
	 * signal without SA_RESTART ends it with the count written.  poll()
	 * would wait for a third of the buffer, which may never come.  Its
	 * timeout is the shim's whole one again, so only while some of the
	 * first remains: the call waits at most twice the timeout. */
	if (c->dir == NL_SOCK_WRITE &&
	    now_usec() - c->t0 < (long long)secs * 1000000)
		return GO_REAL;
	return GO_WAIT;
}

/* The rest of a call whose shim timeout (c->secs) began at c->t0, without
 * touching the socket's options: wait in poll() for the time that
 * remains, then try without waiting; once nothing remains, try once more
 * before reporting the timeout, so that data that arrived while the
 * process was stopped or in a handler is read.  Reads that wait for more
 * than what is there make the real call once poll() says they can go on
 * (the kernel alone knows when they end; its timeout on the socket is the
 * shim's whole one); writes come here only once nothing remains (see
 * after_eintr).  Returns GO_END with the call's
 * result in *r, GO_REAL, GO_TIMED_OUT (the caller asks nl_sock_timed_out,
 * from a shallower frame), or -1 for EINTR in poll(). */
static int rest_of_wait(struct sock_call *c, ssize_t *r)
{
	for (;;) {
		long long left = (long long)c->secs * 1000000 -
				 (now_usec() - c->t0);
		if (left > 0) {
			int ready = wait_ready(c, left);
			if (ready < 0)
				return -1;
			if (!ready && left / 1000 > INT_MAX)
				continue;   /* one turn of a longer wait */
			if (ready) {
				if (c->dir == NL_SOCK_WRITE ||
				    nl_read_waits_for_more(c->rd))
					return GO_REAL;
				*r = try_nowait(c);
				if (*r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
					return GO_END;
				continue;   /* another reader took it */
			}
		}
		*r = try_nowait(c);
		if (*r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return GO_TIMED_OUT;
		return GO_END;
	}
}

/* An attempt (the real call) returned *r: whether to make the real call
 * again (1), or the call ends with *r (0). */
static int call_again(struct sock_call *c, ssize_t *r)
{
	for (;;) {
		if (*r >= 0 || errno != EINTR) {
			call_end(c, *r);
			return 0;
		}
		/* Restarted, the call leaves errno as the kernel's restart
		 * does: as the handler left it, not EINTR. */
		int e = nl_signals_errno_since(c->mark, c->errno0);
		int go = after_eintr(c);
		if (go == GO_END)
			return 0;
		errno = c->errno0 = e;
		if (go != GO_WAIT)
			return 1;
		go = rest_of_wait(c, r);
		if (go == GO_TIMED_OUT)
			errno = nl_sock_timed_out(c->fd, c->dir,
						  now_usec() - c->t0, c->secs);
		if (go >= 0) {
			if (*r > 0 && go == GO_END)
				call_end(c, *r);   /* a partial write */
			return go == GO_REAL;
		}
		*r = -1;   /* EINTR in the wait: the same question */
	}
}

/* The read watchdog waited since t0, and the read can go on: the rest of
 * the shim's timeout bounds it.  Returns 1 for the real call, 0 when the
 * call ended with *r, 2 when it failed with EINTR (*r = -1: call_again()
 * decides).  Not inlined: its frame is not under the real call's. */
__attribute__((noinline))
static int continue_from(struct sock_call *c, long long t0, ssize_t *r)
{
	c->t0 = t0;
	c->secs = nl_sock_shim_timeout(c->fd, c->dir);
	if (!c->secs || nl_read_waits_for_more(c->rd))
		return 1;
	int go = rest_of_wait(c, r);
	if (go == GO_TIMED_OUT)
		errno = nl_sock_timed_out(c->fd, c->dir, now_usec() - t0,
					  c->secs);
	if (go >= 0)
		return go == GO_REAL;
	*r = -1;
	return 2;
}

/* A write on a socket with the shim's timeout: `call` the real one, `...`
 * its struct wr_op. */
#define TIMED_CALL(fd, dir, call, ...)                                       \
	do {                                                                 \
		struct sock_call c_;                                         \
		struct wr_op w_ = { __VA_ARGS__ };                           \
		ssize_t r_;                                                  \
		if (nl_sock_suspect(fd)) {                                   \
			int e_ = nl_sock_still_silent((fd), (dir));          \
			if (e_) {                                            \
				errno = e_;                                  \
				return -1;                                   \
			}                                                    \
		}                                                            \
		call_begin(&c_, (fd), (dir));                                \
		c_.wr = &w_;                                                 \
		do                                                           \
			r_ = (call);                                         \
		while (call_again(&c_, &r_));                                \
		return r_;                                                   \
	} while (0)

/* --- reads --- */

/* The real function for op. */
NL_REAL_DECL(read);
NL_REAL_DECL(readv);
NL_REAL_DECL(recv);
NL_REAL_DECL(recvfrom);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);

static ssize_t real_op(const struct nl_read_op *op)
{
	switch (op->call) {
	case NL_RD_READV: {
		return NL_CALL_REAL(readv, (op->fd, op->iov, op->iovcnt),
				    (SYS_readv, op->fd, op->iov, op->iovcnt));
	}
	case NL_RD_RECV: {
		return NL_CALL_REAL(recv, (op->fd, op->buf, op->n, op->flags),
				    (SYS_recvfrom, op->fd, op->buf, op->n, op->flags, NULL, NULL));
	}
	case NL_RD_RECVFROM: {
		return NL_CALL_REAL(recvfrom, (op->fd, op->buf, op->n, op->flags, op->addr, op->addrlen),
				    (SYS_recvfrom, op->fd, op->buf, op->n, op->flags, op->addr, op->addrlen));
	}
	case NL_RD_RECVMSG:
		return real_recvmsg ? real_recvmsg(op->fd, op->msg, op->flags)
				    : syscall(SYS_recvmsg, op->fd, op->msg, op->flags);
	default: {
		return NL_CALL_REAL(read, (op->fd, op->buf, op->n),
				    (SYS_read, op->fd, op->buf, op->n));
	}
	}
}

/* Whether a call on fd goes through the restart rule: a socket the shim
 * gave a timeout, and a call that may block. */
static inline int timed(int fd, enum nl_sock_dir dir, int flags)
{
	return __builtin_expect(nl_sock_timed(fd, dir), 0) &&
	       !(flags & MSG_DONTWAIT);
}

/* The real call under the restart rule; `t0` (0: now) is when the read
 * began, if the watchdog already waited. */
static ssize_t timed_op(const struct nl_read_op *op, long long t0)
{
	struct sock_call c;
	ssize_t r;
	call_begin(&c, op->fd, NL_SOCK_READ);
	c.rd = op;
	c.errno0 = op->errno0;
	int go = t0 ? continue_from(&c, t0, &r) : 1;
	if (go == 0 || (go == 2 && !call_again(&c, &r)))
		return r;
	do
		r = real_op(op);
	while (call_again(&c, &r));
	return r;
}

/* EIO from a terminal on fd 0 that hung up: stdin=detach turns it into
 * end-of-file, with errno as the program left it. */
static inline ssize_t after_read(const struct nl_read_op *op, ssize_t r)
{
	if (__builtin_expect(r < 0, 0) && op->fd == 0 && errno == EIO)
		return nl_stdin_after_eio(op->errno0);
	return r;
}

/* A timed read begun at t0 with signal mark m whose first attempt
 * returned r < 0: the restart rule's slow path. */
static ssize_t timed_rest(const struct nl_read_op *op, long long t0,
			  struct nl_sig_mark m, ssize_t r)
{
	struct sock_call c = { .fd = op->fd, .dir = NL_SOCK_READ, .t0 = t0,
			       .mark = m, .errno0 = op->errno0, .rd = op };
	while (call_again(&c, &r))
		r = real_op(op);
	return after_read(op, r);
}

/* The watchdog's way: try without blocking, wait logging, then the real
 * call; a socket's shim timeout still bounds the whole wait.  After a
 * handler with SA_RESTART the read begins again, as the kernel's restart
 * does: tried again, seeing what the handler changed. */
static ssize_t watched_op(const struct nl_read_op *op)
{
	ssize_t r;
	enum nl_fd_kind kind;
	int way = nl_watch_try(op, &r, &kind);
	if (way == NL_TRY_DONE)
		return after_read(op, r);
	int sock = timed(op->fd, NL_SOCK_READ, op->flags);
	if (way == NL_TRY_REAL)
		return after_read(op, sock ? timed_op(op, 0) : real_op(op));
	struct nl_watch w;
	nl_watch_begin(&w);
	for (;;) {
		unsigned secs = sock ? nl_sock_shim_timeout(op->fd, NL_SOCK_READ)
				     : 0;
		int timed_out;
		int go = nl_watch_wait(&w, op, kind, (long long)secs * 1000000,
				       &timed_out);
		if (go < 0) {
			int e = errno;
			if (timed_out && secs)
				e = nl_sock_timed_out(op->fd, NL_SOCK_READ,
						      (long long)secs * 1000000,
						      secs);
			errno = e;   /* what read_unblocked logs, and the
				      * program gets */
			r = -1;
			break;
		}
		if (go >= 1)
			way = nl_watch_try(op, &r, &kind);
		/* Readable by poll(), and the try would still wait: another
		 * reader took the data (not readable now: wait on, watched),
		 * or the read waits for what poll() does not see (a peek past
		 * SO_PEEK_OFF: readable still): the real call, or this would
		 * spin. */
		if (go == 2 && way == NL_TRY_WAIT && nl_watch_readable_now(op->fd))
			way = NL_TRY_REAL;
		sock = timed(op->fd, NL_SOCK_READ, op->flags);
		if (go == 0 || way == NL_TRY_REAL) {
			r = sock ? timed_op(op, w.t0) : real_op(op);
			break;
		}
		if (way == NL_TRY_DONE)
			break;
	}
	/* What the program gets is logged: stdin=detach may have turned an
	 * EIO into end of file. */
	r = after_read(op, r);
	nl_watch_done(&w, op, r);
	return r;
}

/* Every read interposer: straight to libc unless the fd is a socket the
 * shim timed or the watchdog is on. */
static inline ssize_t read_op(const struct nl_read_op *op)
{
	if (nl_watching_reads() && nl_probes_allowed())  /* core/sandbox.h */
		return watched_op(op);
	if (timed(op->fd, NL_SOCK_READ, op->flags))
		return after_read(op, timed_op(op, 0));
	return after_read(op, real_op(op));
}

/* Every read interposer: while reads are plain (no watchdog, no
 * stdin=detach), libc's function `call` straight away for an fd the shim
 * did not time (two loads), and for a socket it timed the restart rule
 * around one call of it made from the interposer itself; the slow ways in
 * functions of their own (READ_SLOW): the restart rule's when that call
 * fails, read_op() for the rest (the watchdog, MSG_DONTWAIT, libc's
 * function not resolved yet), reached by a tail call, so that the
 * interposer's frame is off the stack of their deep paths.  Where each
 * system call flushes the TLB (page-table isolation without PCID, as on
 * the bench machine), every page of the shim's a read returns through
 * costs a page walk after it: a successful timed read returns from libc
 * through this one frame (about 50 ns less per 1-byte recv there than
 * through read_op, timed_op, real_op and call_again).  `args` are the
 * interposer's parameters, in parentheses. */
#define READ_CALL(name, fd, flags, call, args)                               \
	do {                                                                 \
		if (__builtin_expect(real != NULL, 1) &&                     \
		    __builtin_expect(nl_reads_plain, 1)) {                   \
			if (!nl_sock_timed((fd), NL_SOCK_READ))              \
				return call;                                 \
			if (!((flags) & MSG_DONTWAIT)) {                     \
				long long t0_ = now_usec();                  \
				struct nl_sig_mark m_ = nl_signals_mark();   \
				int e0_ = errno;                             \
				ssize_t r_ = call;                           \
				if (__builtin_expect(r_ >= 0, 1))            \
					return r_;                           \
				return name##_failed(NL_ARGS args, t0_, m_,  \
						     e0_, r_);               \
			}                                                    \
		}                                                            \
		return name##_slow(NL_ARGS args);                            \
	} while (0)
#define NL_ARGS(...) __VA_ARGS__

/* The slow ways of the read interposer `name` (see READ_CALL): `params`
 * its parameter list in parentheses, `...` its struct nl_read_op. */
#define READ_SLOW(name, params, ...)                                         \
	__attribute__((noinline)) static ssize_t name##_slow params          \
	{                                                                    \
		struct nl_read_op op = { __VA_ARGS__, .errno0 = errno };     \
		return read_op(&op);                                         \
	}                                                                    \
	__attribute__((noinline)) static ssize_t name##_failed(              \
		NL_ARGS params, long long t0, struct nl_sig_mark m, int e0,  \
		ssize_t r)                                                   \
	{                                                                    \
		struct nl_read_op op = { __VA_ARGS__, .errno0 = e0 };        \
		return timed_rest(&op, t0, m, r);                            \
	}

READ_SLOW(read, (int fd, void *buf, size_t n),
	  .call = NL_RD_READ, .fd = fd, .buf = buf, .n = n)

NL_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	nl_enter();
	__typeof__(&read) real = NL_REAL(read);
	READ_CALL(read, fd, 0, real(fd, buf, n), (fd, buf, n));
}

NL_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	nl_enter();
	if (n > buflen)
		chk_fail();
	return read(fd, buf, n);
}

READ_SLOW(readv, (int fd, const struct iovec *iov, int cnt),
	  .call = NL_RD_READV, .fd = fd, .iov = iov, .iovcnt = cnt)

NL_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	nl_enter();
	__typeof__(&readv) real = NL_REAL(readv);
	READ_CALL(readv, fd, 0, real(fd, iov, cnt), (fd, iov, cnt));
}

READ_SLOW(recvfrom, (int fd, void *buf, size_t n, int flags,
		     struct sockaddr *addr, socklen_t *addrlen),
	  .call = NL_RD_RECVFROM, .fd = fd, .buf = buf, .n = n,
	  .flags = flags, .addr = addr, .addrlen = addrlen)

NL_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
			   struct sockaddr *addr, socklen_t *addrlen)
{
	nl_enter();
	__typeof__(&recvfrom) real = NL_REAL(recvfrom);
	READ_CALL(recvfrom, fd, flags, real(fd, buf, n, flags, addr, addrlen),
		  (fd, buf, n, flags, addr, addrlen));
}

NL_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen,
				 int flags, struct sockaddr *addr,
				 socklen_t *addrlen)
{
	nl_enter();
	if (n > buflen)
		chk_fail();
	return recvfrom(fd, buf, n, flags, addr, addrlen);
}

READ_SLOW(recv, (int fd, void *buf, size_t n, int flags),
	  .call = NL_RD_RECV, .fd = fd, .buf = buf, .n = n, .flags = flags)

NL_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	nl_enter();
	__typeof__(&recv) real = NL_REAL(recv);
	READ_CALL(recv, fd, flags, real(fd, buf, n, flags), (fd, buf, n, flags));
}

NL_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen,
			     int flags)
{
	nl_enter();
	if (n > buflen)
		chk_fail();
	return recv(fd, buf, n, flags);
}

/* recvmsg() is interposed with the fd-creating calls (fds received with
 * SCM_RIGHTS); it comes here for the restart rule and the watchdog. */
ssize_t nl_sock_recvmsg(ssize_t (*real)(int, struct msghdr *, int), int fd,
			struct msghdr *msg, int flags)
{
	real_recvmsg = real;
	struct nl_read_op op = { .call = NL_RD_RECVMSG, .fd = fd, .msg = msg,
				 .flags = flags, .errno0 = errno };
	return read_op(&op);
}

/* --- writes --- */

NL_REAL_DECL(write);
NL_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	nl_enter();
	__typeof__(&write) real = NL_REAL(write);
	if (!real)
		return syscall(SYS_write, fd, buf, n);
	if (!timed(fd, NL_SOCK_WRITE, 0))
		return real(fd, buf, n);
	TIMED_CALL(fd, NL_SOCK_WRITE, real(fd, buf, n), .call = WR_WRITE,
		   .buf = buf, .n = n);
}

NL_REAL_DECL(writev);
NL_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	nl_enter();
	__typeof__(&writev) real = NL_REAL(writev);
	if (!real)
		return syscall(SYS_writev, fd, iov, cnt);
	if (!timed(fd, NL_SOCK_WRITE, 0))
		return real(fd, iov, cnt);
	TIMED_CALL(fd, NL_SOCK_WRITE, real(fd, iov, cnt), .call = WR_WRITEV,
		   .iov = iov, .iovcnt = cnt);
}

NL_REAL_DECL(sendto);
NL_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			 const struct sockaddr *addr, socklen_t addrlen)
{
	nl_enter();
	__typeof__(&sendto) real = NL_REAL(sendto);
	if (!real)
		return syscall(SYS_sendto, fd, buf, n, flags, addr, addrlen);
	if (!timed(fd, NL_SOCK_WRITE, flags))
		return real(fd, buf, n, flags, addr, addrlen);
	TIMED_CALL(fd, NL_SOCK_WRITE, real(fd, buf, n, flags, addr, addrlen),
		   .call = WR_SENDTO, .buf = buf, .n = n, .flags = flags,
		   .addr = addr, .addrlen = addrlen);
}

NL_REAL_DECL(send);
NL_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	nl_enter();
	__typeof__(&send) real = NL_REAL(send);
	if (!real)
		return syscall(SYS_sendto, fd, buf, n, flags, NULL, 0);
	if (!timed(fd, NL_SOCK_WRITE, flags))
		return real(fd, buf, n, flags);
	TIMED_CALL(fd, NL_SOCK_WRITE, real(fd, buf, n, flags), .call = WR_SENDTO,
		   .buf = buf, .n = n, .flags = flags);
}

static ssize_t do_sendmsg(__typeof__(&sendmsg) real, int fd,
			  const struct msghdr *msg, int flags)
{
	if (!real)
		return syscall(SYS_sendmsg, fd, msg, flags);
	if (!timed(fd, NL_SOCK_WRITE, flags))
		return real(fd, msg, flags);
	TIMED_CALL(fd, NL_SOCK_WRITE, real(fd, msg, flags), .call = WR_SENDMSG,
		   .msg = msg, .flags = flags);
}

NL_REAL_DECL(sendmsg);
NL_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	nl_enter();
	ssize_t r = do_sendmsg(NL_REAL(sendmsg), fd, msg, flags);
	if (r >= 0)
		nl_sock_sent(msg);   /* SCM_RIGHTS: fresh sockets no more */
	return r;
}

#ifdef NL_TIME64_ALIASES
/* sendmsg of a program built with -D_TIME_BITS=64 (common/target.h). */
ssize_t __sendmsg64(int fd, const struct msghdr *msg, int flags);
NL_REAL_DECL(__sendmsg64);
NL_EXPORT ssize_t __sendmsg64(int fd, const struct msghdr *msg, int flags)
{
	nl_enter();
	ssize_t r = do_sendmsg(NL_REAL(__sendmsg64), fd, msg, flags);
	if (r >= 0)
		nl_sock_sent(msg);
	return r;
}
#endif
