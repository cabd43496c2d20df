/* The blocking-read watchdog.
 *
 * read_warn=N: a read on a blocking pipe, FIFO, connected socket or
 * canonical-mode terminal that has not completed after N seconds logs a
 * read_blocked event naming the culprit (culprit.h), at that moment, then
 * keeps waiting; when it returns, read_unblocked gives the total wait.
 * read_timeout=N: a read on a pipe, FIFO or tty blocked for N seconds
 * returns -1 with EAGAIN (audit: only logged).
 *
 * Invariant: the program sees what the real call would give — result,
 * errno, bytes, timing.  A read whose data is ready costs one system call
 * on a pipe: it is first tried without blocking (preadv2 RWF_NOWAIT on
 * pipes, MSG_DONTWAIT on sockets, poll(0) on terminals); only when that
 * would block does the watchdog wait, in poll(), for the threshold, then
 * make the real call.  Reads whose end a poll() wait cannot reproduce go
 * straight to the real call, unwatched: MSG_WAITALL, SO_RCVLOWAT above 1,
 * terminals in non-canonical mode or read from a background group, other
 * character devices, files, and recv* on anything but a socket.  The fd
 * table's cached kind is confirmed before any wait: by fstat, or by the
 * try itself on a socket (only a socket takes recv).  A read of at most
 * one byte needs no SO_RCVLOWAT check.
 *
 * Terminals: job control and hang-ups end the wait as they end the
 * kernel's read.  A stop and continue restarts poll() unseen, where the
 * kernel begins the read again and, in a background group, stops it with
 * SIGTTIN; so a terminal is waited on in slices of 250 ms, and after each
 * the reader's group is asked whether it is still in the foreground (once
 * not, the real call): one wake, an ioctl and a getpgid per slice of a
 * waiting terminal read, the deadlines kept.  A group moved out of the
 * foreground without a stop gets the real call (SIGTTIN) too, where the
 * kernel's read waits on: nothing tells the two apart.  On POLLHUP the
 * real call answers (0 after vhangup(2) or a modem's hang-up), but for the
 * EIO of a pseudo-terminal whose master closed, which only the read in
 * progress gets.
 *
 * Signals behave as without the shim: poll() always fails with EINTR, so a
 * handler that had SA_RESTART begins the read again (tried again without
 * blocking, as the kernel's restart would see what the handler changed:
 * O_NONBLOCK, SO_RCVTIMEO, SO_RCVLOWAT, data), and one without it ends the
 * read with EINTR (signals.h tells which decides), also one that ran while
 * an event was logged.  A socket's own SO_RCVTIMEO bounds the wait (EAGAIN)
 * and any handler ends it, as the kernel does.  With read_warn and
 * read_timeout both 0 the interposers never come here, nor in a process
 * under a seccomp filter (core/sandbox.h): a probe could kill it. */
#ifndef NL_WATCHDOG_H
#define NL_WATCHDOG_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "base/state.h"
#include "core/fdtable.h"

/* Reads go straight to libc (but for sockets the shim timed): no read
 * watchdog and no stdin=detach.  Set once by init (nl_watch_configure);
 * 0 until then, so early reads take the careful path. */
extern int nl_reads_plain NL_HIDDEN;
/* Reads are watched: read_timeout under enforce, or read_warn or
 * read_timeout with a log to write to (both only log otherwise).  Set
 * once by init, with nl_reads_plain. */
extern int nl_reads_watched NL_HIDDEN;
void nl_watch_configure(const struct nl_policy *p) NL_HIDDEN;

/* Whether reads are watched at all: one load on the read fast path. */
static inline int nl_watching_reads(void)
{
	return __builtin_expect(nl_reads_watched, 0);
}

enum nl_read_call { NL_RD_READ, NL_RD_READV, NL_RD_RECV, NL_RD_RECVFROM,
		    NL_RD_RECVMSG };

/* One read as the program asked for it. */
struct nl_read_op {
	enum nl_read_call call;
	int fd;
	void *buf;
	size_t n;
	const struct iovec *iov;
	int iovcnt;
	int flags;
	struct sockaddr *addr;
	socklen_t *addrlen;
	struct msghdr *msg;
	int errno0;           /* errno when the interposer was called */
};

struct nl_watch {
	long long t0;         /* monotonic start, microseconds */
	int warned;           /* read_blocked was logged */
	char warn_passed;     /* read_warn's moment has passed */
	char timeout_logged;  /* audit: would_time_out was logged */
};

/* Try op without blocking.  NL_TRY_DONE: it completed (data, EOF, or an
 * error other than would-block — also EAGAIN on a non-blocking fd) and
 * *result holds what the real call would have returned; NL_TRY_WAIT: it
 * would block, wait first; NL_TRY_REAL: make the real call now (data is
 * ready, or the fd is not one the watchdog watches).  With NL_TRY_WAIT,
 * *kind is what the try proved fd to be (a recv that did not fail with
 * ENOTSOCK, an fstat), else NL_KIND_UNKNOWN. */
enum { NL_TRY_DONE, NL_TRY_WAIT, NL_TRY_REAL };
/* Whether poll() says fd is readable now (POLLIN). */
int nl_watch_readable_now(int fd);
int nl_watch_try(const struct nl_read_op *op, ssize_t *result,
		 enum nl_fd_kind *kind);

/* The read's watch begins (its wait may be taken up again after a
 * restart: see nl_watch_wait). */
void nl_watch_begin(struct nl_watch *w);

/* Wait until fd is readable, logging read_blocked after read_warn, all
 * counted from nl_watch_begin().  `kind`: what fd is, as nl_watch_try
 * proved it (NL_KIND_UNKNOWN: ask fstat).  `limit_us` bounds the wait (a
 * socket's own shim timeout; 0 = none; read_timeout for pipes, FIFOs and
 * ttys is applied here).  Returns 0 to go on with the real call; 2 when fd
 * became readable (another reader may take the data first), 1 when a
 * handler with SA_RESTART ran (the kernel would have begun the read
 * again): the caller tries it again (nl_watch_try) and waits on; or -1 with
 * errno: EINTR for a handler without SA_RESTART, EIO for a
 * pseudo-terminal whose master closed, EAGAIN when a limit was reached
 * (`*timed_out` set then). */
int nl_watch_wait(struct nl_watch *w, const struct nl_read_op *op,
		  enum nl_fd_kind kind, long long limit_us, int *timed_out);

/* The real call returned r: log read_unblocked if the read was reported. */
void nl_watch_done(const struct nl_watch *w, const struct nl_read_op *op,
		   ssize_t r);

/* Whether a blocking read waits for more than what is there (MSG_WAITALL,
 * SO_RCVLOWAT above 1): then no try without waiting, nor poll(), says when
 * it returns. */
int nl_read_waits_for_more(const struct nl_read_op *op);
/* op on a socket, without waiting (MSG_DONTWAIT; readv as recvmsg):
 * what the blocking call would return now if something is there.
 * Returns the count or -errno. */
long nl_read_nowait(const struct nl_read_op *op);

/* The name of the call, for events. */
const char *nl_read_call_name(enum nl_read_call c);

/* Whether a wait on fd could be a hang rather than a server waiting for
 * work: fd is a pipe or FIFO, or a connected socket (not a listener, with
 * a peer) whose other side could answer.  Listeners, unconnected sockets,
 * eventfds, timerfds, signalfds, inotify, terminals and files: no.  The
 * poll family logs wait_blocked only when every fd waited on could hang. */
int nl_watch_could_hang(int fd);
/* The same for every fd an epoll instance watches (none: no). */
int nl_watch_epoll_could_hang(int epfd);

/* wait_blocked for the poll family: log that a wait on n_fds fds, the
 * first n_list of them in `fds`, has gone on for read_warn seconds.  As
 * many as fit are described in the line; those past that are counted in
 * a last entry {"more":N}. */
void nl_watch_log_wait(const char *call, const int *fds, int n_list,
		       int n_fds, long long waited_us);
/* The same for a wait on an epoll instance: every fd it watches (read
 * from /proc/self/fdinfo, however many).  1 when it logged. */
int nl_watch_log_epoll_wait(const char *call, int epfd, long long waited_us);
/* wait_unblocked: a wait that logged wait_blocked returned r (errno kept)
 * after waited_us in all.  Only then: a wait that logged nothing costs
 * nothing more. */
void nl_watch_wait_done(const char *call, long long waited_us, int r);

#endif
