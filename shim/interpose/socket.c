/* connect() and setsockopt(): where sockets become connected, and where the
 * program states its own timeouts and keepalive.  accept() and accept4()
 * live with the other fd-creating calls (interpose/fdcreate.c) and call
 * nl_sock_accepted() on the fd they return.  See socktimeout.h. */
#include <errno.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"
#include "base/real.h"
#include "common/target.h"
#include "core/socktimeout.h"

/* The timeout goes on after connect() returns: SO_SNDTIMEO set before
 * would also bound the connect itself.  A connect to AF_UNSPEC that
 * succeeded was a disconnect (the kernel has read the address). */
NL_REAL_DECL(connect);
NL_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	nl_enter();
	int r = NL_CALL_REAL(connect, (fd, addr, len),
			     (SYS_connect, fd, addr, len));
	if (r == 0 && addr && len >= sizeof addr->sa_family &&
	    addr->sa_family == AF_UNSPEC)
		nl_sock_disconnected(fd);
	else
		nl_sock_connected(fd, r, r == 0 ? 0 : errno);
	return r;
}

NL_REAL_DECL(setsockopt);
NL_EXPORT int setsockopt(int fd, int level, int name, const void *val,
			 socklen_t len)
{
	nl_enter();
	int r = NL_CALL_REAL(setsockopt, (fd, level, name, val, len),
			     (SYS_setsockopt, fd, level, name, val, len));
	if (r == 0)
		nl_sock_option_set(fd, level, name, val, len);
	return r;
}

#ifdef NL_TIME64_ALIASES
/* setsockopt of a program built with -D_TIME_BITS=64 (common/target.h):
 * its SO_RCVTIMEO is a 64-bit timeval, which glibc's alias converts. */
int __setsockopt64(int fd, int level, int name, const void *val, socklen_t len);
NL_REAL_DECL(__setsockopt64);
NL_EXPORT int __setsockopt64(int fd, int level, int name, const void *val,
			     socklen_t len)
{
	nl_enter();
	__typeof__(&__setsockopt64) real = NL_REAL(__setsockopt64);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	int r = real(fd, level, name, val, len);
	if (r == 0)
		nl_sock_option_set(fd, level, name, val, len);
	return r;
}
#endif
