/* Socket timeouts and dead-peer detection.
 *
 * Connected stream sockets of an unmodified program get SO_RCVTIMEO and
 * SO_SNDTIMEO (sock_timeout; UNIX and datagram sockets through their own
 * keys) and TCP keepalive, so that a read on a socket whose peer vanished
 * without a FIN ends instead of blocking forever.  What the program chose
 * itself always wins.
 *
 * One slot per fd number, in an array mmap'd on first use (MAP_NORESERVE:
 * only pages of fd numbers in use cost memory), updated with atomics and
 * never under a lock.  A slot carries the identity (socket inode) of the
 * socket it was written for, so a slot left behind by a closed fd whose
 * number now holds something else is recognised before any decision.  The
 * I/O interposers only test a bit (no system call) and verify the identity
 * on their rare paths (EINTR, a timeout).  Without the table (no memory)
 * enforce sets nothing on sockets: nothing could record what the program
 * chooses afterwards.
 *
 * A TCP socket this process made with socket() is fresh until it connects:
 * its options are the kernel's defaults but for what the program set
 * through the interposed setsockopt(), so its connect needs no getsockopt.
 * Only while no other process can have set an option on it: a fresh slot
 * carries the socket-sharing generation it was made in (in `secs`, unused
 * until a connect), which moves on around every child the shim sees made
 * (fork, vfork, _Fork, clone, posix_spawn); a socket sent with SCM_RIGHTS
 * through sendmsg() is fresh no more.  A socket reaching another process
 * any other way (sendmmsg(), io_uring, pidfd_getfd(), a raw system call)
 * is not seen.
 *
 * Whatever keepalive option the program sets on a socket that has the
 * shim's keepalive makes the rest the kernel's again (SO_KEEPALIVE off
 * unless the program turned it on, TCP_KEEP* the sysctls' values, no user
 * timeout), so that the program's choice gives what it gives without the
 * shim, set before the connect or after.  Whether the socket has it is
 * known when the shim set it here; otherwise (a socket from before a
 * child, a copy, one received or inherited across exec) the socket is
 * asked at that option: keepalive on with the policy's values.  The
 * program giving back the timeout the shim set (its value, as getsockopt
 * showed it) after one of its own of another value leaves the socket the
 * shim's (GAVE and OTHER bits).  A connect
 * to AF_UNSPEC (a disconnect) takes back the shim's timeouts and
 * keepalive.
 *
 * A dup (dup, dup2, dup3, F_DUPFD) copies the slot to the new number, and
 * a socket received with SCM_RIGHTS whose timeouts are the policy's is
 * taken for one the shim timed (in the sender): the restart rule follows
 * both.  A socket inherited across exec is not looked at (that would cost
 * every process's start a question per inherited fd): it keeps its
 * timeout, and a read on it gets EINTR as the kernel gives it.
 *
 * When the shim's own timeout ends a blocking call on a TCP socket whose
 * peer TCP_INFO shows silent (nl_sock_timed_out), the call fails with
 * ETIMEDOUT instead of EAGAIN: a program that retries on EAGAIN forever
 * (GoAhead's blocking flush) then lets a dead connection go. */
#ifndef NL_SOCKTIMEOUT_H
#define NL_SOCKTIMEOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

enum nl_sock_dir { NL_SOCK_READ = 0, NL_SOCK_WRITE = 1 };

enum {
	NL_SOCK_SHIM_RCV  = 1u << 0,  /* the shim set SO_RCVTIMEO */
	NL_SOCK_SHIM_SND  = 1u << 1,  /* the shim set SO_SNDTIMEO */
	NL_SOCK_OWN_RCV   = 1u << 2,  /* the program set SO_RCVTIMEO */
	NL_SOCK_OWN_SND   = 1u << 3,  /* the program set SO_SNDTIMEO */
	NL_SOCK_OWN_ALIVE = 1u << 4,  /* the program set SO_KEEPALIVE, TCP_KEEP*
				       * or TCP_USER_TIMEOUT */
	NL_SOCK_SILENT    = 1u << 5,  /* a write that took the whole timeout
				       * found the peer silent: the next call
				       * looks before it waits */
	NL_SOCK_FRESH     = 1u << 6,  /* a TCP socket this process made with
				       * socket(), not yet connected: its
				       * options are the kernel's defaults but
				       * for the OWN bits, so nothing needs
				       * asking (nor does a socket accepted
				       * from it, which inherits them).  Holds
				       * only while `secs` is the current
				       * sharing generation (bits_for()) */
	NL_SOCK_ACCEPTED  = 1u << 7,  /* a fresh listener from which a socket
				       * got the shim's keepalive */
	NL_SOCK_LISTEN_ALIVE = 1u << 8, /* the shim set keepalive on this
				       * fresh listener (at its second accept
				       * that needed it): the sockets accepted
				       * from it inherit it from the kernel */
	NL_SOCK_DEFER     = 1u << 9,  /* the program set TCP_FASTOPEN_CONNECT:
				       * connect() may return 0 on a
				       * non-blocking socket */
	NL_SOCK_LISTEN_QUEUED = 1u << 10, /* connections waited in this
				       * listener's queue when it got the
				       * keepalive (made before: without it):
				       * accepted ones are asked, until one
				       * has it */
	NL_SOCK_SHIM_ALIVE = 1u << 11, /* the shim's keepalive is on this
				       * connected socket (set by the shim or
				       * inherited from its listener): a
				       * keepalive option the program sets
				       * takes back the rest */
	NL_SOCK_LISTEN_TAKEN = 1u << 12, /* the program took the shim's
				       * keepalive back on this listener while
				       * connections waited in its queue (made
				       * before: with the shim's): accepted
				       * ones are asked, until one has it not */
	NL_SOCK_ASK       = 1u << 13, /* another fd (a dup) or process (a
				       * copy sent) may have changed the
				       * keepalive SHIM_ALIVE / LISTEN_ALIVE
				       * say is the shim's: the socket is asked
				       * before it is taken back */
	NL_SOCK_GAVE_RCV  = 1u << 14, /* the shim set SO_RCVTIMEO here, to
				       * `secs` (or a received socket has the
				       * policy's): the program may have set
				       * its own since, and the shim's value
				       * set after that gives SHIM_RCV back */
	NL_SOCK_GAVE_SND  = 1u << 15, /* the same for SO_SNDTIMEO */
	NL_SOCK_OTHER_RCV = 1u << 16, /* with GAVE_RCV: the program's own
				       * SO_RCVTIMEO is not the shim's value
				       * (a probe's): the shim's set next is
				       * given back */
	NL_SOCK_OTHER_SND = 1u << 17, /* the same for SO_SNDTIMEO */
};
#define NL_SOCK_OWN_BITS (NL_SOCK_OWN_RCV | NL_SOCK_OWN_SND | NL_SOCK_OWN_ALIVE)

#define NL_SOCK_TABLE_SIZE (1 << 20)   /* the kernel's default nr_open */

struct nl_sock_slot {
	_Atomic uint32_t bits;
	_Atomic uint32_t secs;         /* the timeout the shim set, seconds */
	_Atomic uint64_t ino;          /* socket inode the slot was written for */
};

extern struct nl_sock_slot *_Atomic nl_sock_table
	__attribute__((visibility("hidden")));

static inline uint32_t nl_sock_shim_bit(enum nl_sock_dir dir)
{
	return dir == NL_SOCK_READ ? NL_SOCK_SHIM_RCV : NL_SOCK_SHIM_SND;
}

/* Whether fd may be a socket whose timeout in that direction the shim set:
 * the I/O interposers' only question on their fast path.  One memory load,
 * no system call.  A yes can be stale (the fd was closed and its number
 * reused): confirm with nl_sock_shim_timeout() before acting on it. */
static inline int nl_sock_timed(int fd, enum nl_sock_dir dir)
{
	struct nl_sock_slot *t =
		atomic_load_explicit(&nl_sock_table, memory_order_relaxed);
	if (__builtin_expect(t == NULL, 1) ||
	    (unsigned)fd >= NL_SOCK_TABLE_SIZE)
		return 0;
	return (atomic_load_explicit(&t[fd].bits, memory_order_relaxed) &
		nl_sock_shim_bit(dir)) != 0;
}

/* The seconds of the shim's timeout recorded for fd (no system call, may be
 * stale; 0 when none). */
unsigned nl_sock_recorded_timeout(int fd, enum nl_sock_dir dir);

/* --- hooks of the interposers (socktimeout.c) --- */

/* Before socket(domain, type, protocol): the sharing generation a fresh
 * TCP socket is stamped with, taken before the socket exists (a child made
 * meanwhile then finds it stale), or 0 when the socket will not be fresh.
 * No system call. */
uint32_t nl_sock_fresh_stamp(int domain, int type, int protocol);
/* socket() returned fd, whose inode recording it read is `ino` (0: not
 * read); `stamp` is nl_sock_fresh_stamp()'s.  A TCP socket is remembered
 * as fresh.  Keeps errno. */
void nl_sock_created(int fd, uint32_t stamp, uint64_t ino);
/* A child that may share this process's sockets is about to be made, or
 * was: no socket made so far is fresh any more.  Called in the parent
 * before and (where the call returns there) after, and in a fork child by
 * the after-fork list, for a socket another thread stamped while the
 * parent forked.  Writes only when a socket was stamped since the last
 * time, so a child never does unless then.  No system call, no lock. */
void nl_sock_sharing(void);
/* sendmsg() sent msg: the sockets it carries (SCM_RIGHTS) are another
 * process's too, fresh no more.  Call only when the send succeeded (the
 * kernel has read msg). */
void nl_sock_fds_sent(const struct msghdr *msg);
static inline void nl_sock_sent(const struct msghdr *msg)
{
	if (__builtin_expect(msg->msg_controllen != 0, 0) &&
	    atomic_load_explicit(&nl_sock_table, memory_order_relaxed))
		nl_sock_fds_sent(msg);
}
/* accept/accept4 returned `fd` from `listener`; `flags` are the caller's
 * accept4 flags (SOCK_NONBLOCK: no timeout); `ino`: fd's inode if known,
 * else 0.  The listener never gets a timeout; a fresh listener whose second
 * accepted socket needs the shim's keepalive gets the keepalive options
 * too, which the kernel copies to every socket accepted after (no
 * setsockopt per accept).  Keeps errno. */
void nl_sock_accepted(int listener, int fd, int flags, uint64_t ino);
/* connect(fd) returned `result` with errno `err`: a blocking connect that
 * succeeded gets the timeout; any connected or connecting TCP socket gets
 * keepalive.  A fresh socket's first connect that returned 0 was blocking
 * (a non-blocking TCP connect returns EINPROGRESS, unless
 * TCP_FASTOPEN_CONNECT defers it): no fcntl asks.  Keeps errno. */
void nl_sock_connected(int fd, int result, int err);
/* connect(fd, AF_UNSPEC) returned 0: the socket is disconnected (UDP, or a
 * TCP socket back to closed).  The shim's timeouts go back to 0 and its
 * keepalive is taken back, as the program never chose them.  Keeps
 * errno. */
void nl_sock_disconnected(int fd);
/* oldfd was duplicated to newfd (dup, dup2, dup3, F_DUPFD): newfd gets
 * oldfd's slot (the restart rule's bits).  An option set through one lands
 * in its slot only, so the socket is fresh no more, and its keepalive is
 * asked before it is taken back.  No system call. */
void nl_sock_duplicated(int oldfd, int newfd);
/* fd came with SCM_RIGHTS (recvmsg): a socket whose timeouts are the
 * policy's is taken for one the shim timed in the process that sent it,
 * so the restart rule follows it (enforce; two getsockopt per fd, one for
 * an fd that is no socket).  Keeps errno. */
void nl_sock_received(int fd);
/* The program set an option itself (setsockopt succeeded, with val and
 * len as it passed them): the shim must never override it, and stops
 * treating a timeout as its own, unless the program gives the shim's value
 * back after one of its own of another value.  No system call of its own
 * for that (a seccomp filter may kill it): the value is read from val. */
void nl_sock_option_set(int fd, int level, int name, const void *val,
			socklen_t len);

/* --- the rare paths of the I/O interposers --- */

/* The seconds of the shim's timeout on fd in that direction, confirmed
 * against the kernel (the same socket, the value still the shim's), or 0.
 * Costs two system calls. */
unsigned nl_sock_shim_timeout(int fd, enum nl_sock_dir dir);
/* Whether the program set its own timeout on fd in that direction (through
 * setsockopt) since the shim's: asked after a call that began with the
 * shim's.  Costs an fstat. */
int nl_sock_program_timeout_since(int fd, enum nl_sock_dir dir);
/* Set the kernel's SO_RCVTIMEO/SO_SNDTIMEO of fd to `usec` microseconds
 * (> 0).  Returns 0 or -errno. */
int nl_sock_set_wait(int fd, enum nl_sock_dir dir, long long usec);
/* A blocking call on fd waited `usec`, the whole of the shim's timeout of
 * `secs`, in vain.  Returns the errno the call fails with: ETIMEDOUT when
 * TCP_INFO shows the peer silent — unacknowledged data or unanswered
 * probes, and no ACK from the peer during the whole wait — as a connection
 * the kernel gave up on fails; EAGAIN, the kernel's own, for a peer that is
 * quiet but alive (and for every non-TCP socket).  Logs sock_timeout with
 * the evidence.  Keeps errno. */
int nl_sock_timed_out(int fd, enum nl_sock_dir dir, long long usec,
		      unsigned secs);

/* Whether a call on fd must first ask nl_sock_still_silent() (one load). */
static inline int nl_sock_suspect(int fd)
{
	struct nl_sock_slot *t =
		atomic_load_explicit(&nl_sock_table, memory_order_relaxed);
	return t && (unsigned)fd < NL_SOCK_TABLE_SIZE &&
	       (atomic_load_explicit(&t[fd].bits, memory_order_relaxed) &
		NL_SOCK_SILENT);
}
/* A write on fd returned a partial count after waiting `usec`, the whole
 * timeout: a write that queued some bytes, then found no room.  When the
 * peer was silent during it, the socket becomes suspect. */
void nl_sock_after_partial(int fd, enum nl_sock_dir dir, long long usec,
			   unsigned secs);
/* A call begins on a suspect socket: ETIMEDOUT (logged) when the peer has
 * still acknowledged nothing for a whole timeout, so that a chain of
 * partial writes ends as one timed-out call would; else 0, and the socket
 * is no longer suspect.  Keeps errno. */
int nl_sock_still_silent(int fd, enum nl_sock_dir dir);

/* recvmsg through the EINTR-restart rule (interpose/read.c); `real` is libc's. */
ssize_t nl_sock_recvmsg(ssize_t (*real)(int, struct msghdr *, int), int fd,
			struct msghdr *msg, int flags);

#endif
