/* The syslog output: datagrams to /dev/log, sent by the shim itself.
 *
 * syslog(3) takes a lock and may block on a full socket; neither is allowed
 * in a signal handler or a fork child.  So the shim keeps its own AF_UNIX
 * datagram socket, non-blocking: when nobody listens or the receiver is
 * behind, the line is dropped (and counted by the caller), never waited
 * for.  After a failure the socket is connected again on a later event,
 * which follows a syslog daemon that restarted; one that reaches no
 * listener is closed, not kept. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "log/event.h"
#include "log/arena.h"
#include "common/sys.h"
#include "log/json.h"
#include "log/output.h"

/* user.warning: leaks and hangs are worth a look, not an alarm. */
#define NL_SYSLOG_PRI "<12>"
#define NL_SYSLOG_TAG "noleak"

static struct nl_out_fd *const sock = &nl_out_fds[NL_OUT_SYSLOG];
static atomic_int connected;   /* sock's current fd is connected */
static char sock_path[sizeof ((struct sockaddr_un *)0)->sun_path] = "/dev/log";

void nl_out_syslog_test_path(const char *path)
{
	const char *p = path ? path : "/dev/log";
	size_t i = 0;

	if (atomic_exchange(&sock->busy, 1))
		return;
	for (; p[i] && i + 1 < sizeof sock_path; i++)
		sock_path[i] = p[i];
	sock_path[i] = '\0';
	nl_out_fd_close(sock);
	atomic_store(&connected, 0);
	atomic_store(&sock->busy, 0);
}

static int connect_to_log(int fd)
{
	size_t mark = nl_arena_enter();
	struct sockaddr_un *addr = nl_arena_get(sizeof *addr);
	size_t n = strlen(sock_path);
	int r = -ENOMEM;

	if (addr) {
		memset(addr, 0, sizeof *addr);
		addr->sun_family = AF_UNIX;
		memcpy(addr->sun_path, sock_path, n);
		r = nl_sys_connect(fd, addr,
				   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1));
	}
	nl_arena_leave(mark);
	return r;
}

/* Connect o's fd to the log, held like a send: a connect changes the
 * socket, which must still be ours. */
static int connect_held(struct nl_out_fd *o, int fd)
{
	int held = nl_out_fd_hold(o, fd);
	int r = held < 0 ? -1 : connect_to_log(fd);

	nl_out_fd_release(o, held);
	return r;
}

/* Called with sock->busy held.  *once: a socket for this message only,
 * when no number at 100 or above is free (out_fd.c), else -1. */
static int socket_locked(int *once)
{
	int fd = nl_out_fd_get(sock);

	if (fd < 0) {
		atomic_store(&connected, 0);
		fd = nl_sys_socket(AF_UNIX,
				   SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -1;
		int left = fd;
		fd = nl_out_fd_adopt(sock, fd);
		if (fd == NL_OUT_FD_LOW)
			*once = left;
		if (fd < 0)
			return -1;
	}
	if (atomic_load(&connected))
		return fd;
	/* ENOENT, ECONNREFUSED: nobody listens yet.  A socket that reaches
	 * no one is not kept: it would hold one of the fds the program may
	 * open under its limit, for nothing. */
	if (connect_held(sock, fd) < 0) {
		nl_out_fd_close(sock);
		return -1;
	}
	atomic_store(&connected, 1);
	return fd;
}

/* Another thread is connecting right now, or no number at 100 or above is
 * free (s: the socket made for it, else -1): rather than wait for it, send
 * this one message through a socket of our own (a transient slot, closed
 * right after). */
static struct nl_out_fd *transient_socket(int *fd, int s)
{
	struct nl_out_fd *t = NULL;

	*fd = s >= 0 ? s : nl_sys_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC |
					 SOCK_NONBLOCK, 0);
	if (*fd >= 0)
		t = nl_out_fd_transient(*fd, fd);
	if (t && connect_held(t, *fd) < 0) {
		nl_out_fd_transient_done(t);
		*fd = -1;
		return NULL;
	}
	return t;
}

/* The socket to send on, in *fd (-1: none): sock, or a transient slot to
 * give back after the send. */
static struct nl_out_fd *log_socket(int *fd)
{
	*fd = nl_out_fd_get(sock);
	if (*fd >= 0 && atomic_load(&connected))
		return sock;
	int once = -1;
	if (!nl_out_fd_foreign() && !atomic_exchange(&sock->busy, 1)) {
		*fd = socket_locked(&once);
		atomic_store(&sock->busy, 0);
		if (once < 0)
			return sock;
	}
	return transient_socket(fd, once);
}

/* "<PRI>noleak[pid]: " -- the RFC 3164 form syslog daemons and journald
 * accept from local senders (they add time and host themselves). */
static size_t header(char *dst, size_t cap)
{
	static const char head[] = NL_SYSLOG_PRI NL_SYSLOG_TAG "[";
	size_t len = sizeof head - 1;

	memcpy(dst, head, len);
	len += nl_fmt_int(dst + len, cap - len - 3, nl_sys_getpid());
	dst[len++] = ']';
	dst[len++] = ':';
	dst[len++] = ' ';
	return len;
}

/* What one message needs besides the line: arena memory, not the stack
 * of whatever call emitted the event. */
struct datagram {
	char head[48];
	struct iovec iov[2];
	struct msghdr msg;
};

int nl_out_syslog_write(const char *line, size_t len)
{
	ssize_t n = -1;
	int fd = -1, held;
	size_t mark = nl_arena_enter();
	struct datagram *d = nl_arena_get(sizeof *d);
	struct nl_out_fd *o = d ? log_socket(&fd) : NULL;

	if (fd < 0) {
		nl_arena_leave(mark);
		return fd == NL_OUT_BUSY ? fd : -1;
	}
	if (len && line[len - 1] == '\n')
		len--;    /* one datagram is one message: no newline */
	d->iov[0].iov_base = d->head;
	d->iov[0].iov_len = header(d->head, sizeof d->head);
	d->iov[1].iov_base = (void *)line;
	d->iov[1].iov_len = len;
	memset(&d->msg, 0, sizeof d->msg);
	d->msg.msg_iov = d->iov;
	d->msg.msg_iovlen = 2;
	/* Held from this last look at the number to the end of the send
	 * (output.h). */
	held = nl_out_fd_hold(o, fd);
	if (held >= 0) {
		do
			n = nl_sys_sendmsg(fd, &d->msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		while (n == -EINTR);
		nl_out_fd_release(o, held);
	}
	nl_arena_leave(mark);
	if (o != sock)
		nl_out_fd_transient_done(o);
	else if (n < 0 && n != -EAGAIN && held >= 0)
		atomic_store(&connected, 0);   /* the listener went away */
	return n < 0 ? -1 : (int)len;
}
