/* Interposers of the calls that create fds: each asks whether new fds get
 * FD_CLOEXEC, passes the flag to the kernel atomically (no window in which
 * another thread's fork+exec could inherit the fd), and records the fd.
 *
 * The 64 and fortified variants are separate symbols that binaries import
 * directly (open64, __open_2, fopen64...), so each has its own interposer. */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "init.h"
#include "common/target.h"
#include "interpose/newfd.h"
#include "base/real.h"
#include "core/socktimeout.h"
#include "log/output.h"

/* Fortified and large-file variants glibc headers do not declare here. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
int open64(const char *path, int flags, ...);
int openat64(int dirfd, const char *path, int flags, ...);
int creat64(const char *path, mode_t mode);
FILE *fopen64(const char *path, const char *mode);
FILE *freopen64(const char *path, const char *mode, FILE *stream);
FILE *tmpfile64(void);
int mkostemp64(char *tmpl, int flags);
int mkostemps64(char *tmpl, int suffixlen, int flags);

#ifdef NL_LIBC_MUSL
/* musl's *64 names are macros for the plain calls; the shim still exports
 * the symbols (musl keeps them for older binaries), as twins of the plain
 * interposers. */
#undef open64
#undef openat64
#undef creat64
#undef fopen64
#undef freopen64
#undef tmpfile64
#undef mkstemp64
#undef mkostemp64
#undef mkstemps64
#undef mkostemps64
int open64(const char *path, int flags, ...);
int openat64(int dirfd, const char *path, int flags, ...);
int creat64(const char *path, mode_t mode);
FILE *fopen64(const char *path, const char *mode);
FILE *freopen64(const char *path, const char *mode, FILE *stream);
int mkstemp64(char *tmpl);
int mkostemp64(char *tmpl, int flags);
int mkstemps64(char *tmpl, int suffixlen);
int mkostemps64(char *tmpl, int suffixlen, int flags);
#endif

static int has_mode_arg(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* The kernel call, for a lookup that recursed (see real.h). */
static int raw_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

/* Every open-like call is openat(): glibc's open, open64 and openat64 are
 * that same system call, so all of them go to libc's openat; the *64 ones
 * with the large-file flag their own add on a 32-bit target
 * (NL_O_LARGEFILE64, common/target.h). */
NL_REAL_DECL(openat);
static int open_common(int dirfd, const char *path, int flags, mode_t mode,
		       enum nl_call call, const void *site)
{
	int added;
	int fl = nl_cloexec_flag(flags, O_CLOEXEC, &added);
	__typeof__(&openat) real = NL_REAL(openat);
	int fd = real ? real(dirfd, path, fl, mode)
		      : raw_openat(dirfd, path, fl, mode);
	return nl_new_fd(fd, call, site, added);
}

/* The optional mode argument, present only with O_CREAT or O_TMPFILE. */
#define MODE_ARG(flags)                                                      \
	({                                                                   \
		mode_t m_ = 0;                                               \
		if (has_mode_arg(flags)) {                                   \
			va_list ap_;                                         \
			va_start(ap_, flags);                                \
			m_ = va_arg(ap_, mode_t);                            \
			va_end(ap_);                                         \
		}                                                            \
		m_;                                                          \
	})

NL_EXPORT int open(const char *path, int flags, ...)
{
	nl_enter();
	return open_common(AT_FDCWD, path, flags, MODE_ARG(flags), NL_CALL_OPEN,
			   NL_CALLER());
}

NL_EXPORT int open64(const char *path, int flags, ...)
{
	nl_enter();
	return open_common(AT_FDCWD, path, flags | NL_O_LARGEFILE64,
			   MODE_ARG(flags), NL_CALL_OPEN,
			   NL_CALLER());
}

NL_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	nl_enter();
	return open_common(dirfd, path, flags, MODE_ARG(flags), NL_CALL_OPENAT,
			   NL_CALLER());
}

NL_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	nl_enter();
	return open_common(dirfd, path, flags | NL_O_LARGEFILE64,
			   MODE_ARG(flags), NL_CALL_OPENAT,
			   NL_CALLER());
}

/* The fortified variants exist to catch O_CREAT without a mode; such a
 * call goes to glibc's own variant, so the program aborts as it would
 * without the shim, with the same message. */
NL_REAL_DECL(__open_2);
NL_EXPORT int __open_2(const char *path, int flags)
{
	nl_enter();
	__typeof__(&__open_2) real = NL_REAL(__open_2);
	if (has_mode_arg(flags) && real)
		return real(path, flags);
	return open_common(AT_FDCWD, path, flags, 0, NL_CALL_OPEN, NL_CALLER());
}

NL_REAL_DECL(__open64_2);
NL_EXPORT int __open64_2(const char *path, int flags)
{
	nl_enter();
	__typeof__(&__open64_2) real = NL_REAL(__open64_2);
	if (has_mode_arg(flags) && real)
		return real(path, flags);
	return open_common(AT_FDCWD, path, flags | NL_O_LARGEFILE64, 0,
			   NL_CALL_OPEN, NL_CALLER());
}

NL_REAL_DECL(__openat_2);
NL_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	nl_enter();
	__typeof__(&__openat_2) real = NL_REAL(__openat_2);
	if (has_mode_arg(flags) && real)
		return real(dirfd, path, flags);
	return open_common(dirfd, path, flags, 0, NL_CALL_OPENAT, NL_CALLER());
}

NL_REAL_DECL(__openat64_2);
NL_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	nl_enter();
	__typeof__(&__openat64_2) real = NL_REAL(__openat64_2);
	if (has_mode_arg(flags) && real)
		return real(dirfd, path, flags);
	return open_common(dirfd, path, flags | NL_O_LARGEFILE64, 0,
			   NL_CALL_OPENAT, NL_CALLER());
}

/* creat() is open(O_CREAT|O_WRONLY|O_TRUNC); creat64() adds large files.
 * Through libc's openat, a cancellation point as creat is. */
NL_EXPORT int creat(const char *path, mode_t mode)
{
	nl_enter();
	return open_common(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode,
			   NL_CALL_CREAT, NL_CALLER());
}

NL_EXPORT int creat64(const char *path, mode_t mode)
{
	nl_enter();
	return open_common(AT_FDCWD, path,
			   O_CREAT | O_WRONLY | O_TRUNC | NL_O_LARGEFILE64, mode,
			   NL_CALL_CREAT, NL_CALLER());
}

/* --- pipes and sockets --- */

NL_REAL_DECL(pipe2);

static int make_pipe(int fds[2], int flags, enum nl_call call, const void *site)
{
	int added;
	flags = nl_cloexec_flag(flags, O_CLOEXEC, &added);
	int r = NL_CALL_REAL(pipe2, (fds, flags), (SYS_pipe2, fds, flags));
	if (r == 0) {
		nl_new_fd(fds[0], call, site, added);
		nl_new_fd(fds[1], call, site, added);
	}
	return r;
}

NL_EXPORT int pipe(int fds[2])
{
	nl_enter();
	return make_pipe(fds, 0, NL_CALL_PIPE, NL_CALLER());
}

NL_EXPORT int pipe2(int fds[2], int flags)
{
	nl_enter();
	return make_pipe(fds, flags, NL_CALL_PIPE2, NL_CALLER());
}

NL_REAL_DECL(socket);
NL_EXPORT int socket(int domain, int type, int protocol)
{
	nl_enter();
	int added;
	int t = nl_cloexec_flag(type, SOCK_CLOEXEC, &added);
	uint32_t stamp = nl_sock_fresh_stamp(domain, type, protocol);
	int fd = NL_CALL_REAL(socket, (domain, t, protocol),
			      (SYS_socket, domain, t, protocol));
	uint64_t ino;
	nl_new_fd_ino(fd, NL_CALL_SOCKET, NL_CALLER(), added, &ino);
	if (fd >= 0)
		nl_sock_created(fd, stamp, ino);
	return fd;
}

NL_REAL_DECL(socketpair);
NL_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
	nl_enter();
	int added;
	int t = nl_cloexec_flag(type, SOCK_CLOEXEC, &added);
	int r = NL_CALL_REAL(socketpair, (domain, t, protocol, sv),
			     (SYS_socketpair, domain, t, protocol, sv));
	if (r == 0) {
		nl_new_fd(sv[0], NL_CALL_SOCKETPAIR, NL_CALLER(), added);
		nl_new_fd(sv[1], NL_CALL_SOCKETPAIR, NL_CALLER(), added);
	}
	return r;
}

/* accept() is accept4() with no flags, so it can take SOCK_CLOEXEC. */
NL_REAL_DECL(accept4);
static int do_accept(int fd, struct sockaddr *addr, socklen_t *len, int flags,
		     enum nl_call call, const void *site)
{
	int added;
	int fl = nl_cloexec_flag(flags, SOCK_CLOEXEC, &added);
	int s = NL_CALL_REAL(accept4, (fd, addr, len, fl),
			     (SYS_accept4, fd, addr, len, fl));
	uint64_t ino;
	nl_new_fd_ino(s, call, site, added, &ino);
	nl_sock_accepted(fd, s, flags, ino);  /* timeout and keepalive */
	return s;
}

NL_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	nl_enter();
	return do_accept(fd, addr, len, 0, NL_CALL_ACCEPT, NL_CALLER());
}

NL_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	nl_enter();
	return do_accept(fd, addr, len, flags, NL_CALL_ACCEPT4, NL_CALLER());
}

/* The fds one received message carries (SCM_RIGHTS) are new fds too, and
 * a socket among them may carry timeouts the sender's shim set, which the
 * restart rule must follow (nl_sock_received).  The kernel echoes an
 * added MSG_CMSG_CLOEXEC in msg_flags: the program never set it. */
static void received_fds(struct msghdr *msg, int added, const void *site)
{
	if (added == NL_CLOEXEC_NOW)
		msg->msg_flags &= ~MSG_CMSG_CLOEXEC;
	if (!nl_fd_policy_active() || !msg->msg_controllen)
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		int *fds = (int *)CMSG_DATA(c);
		for (int i = 0; i < n; i++) {
			nl_new_fd(fds[i], NL_CALL_RECVMSG, site, added);
			nl_sock_received(fds[i]);
		}
	}
}

static ssize_t do_recvmsg(__typeof__(&recvmsg) real, int fd,
			  struct msghdr *msg, int flags, const void *site)
{
	int added;
	int fl = nl_cloexec_flag(flags, MSG_CMSG_CLOEXEC, &added);
	ssize_t r = real ? nl_sock_recvmsg(real, fd, msg, fl)
			 : syscall(SYS_recvmsg, fd, msg, fl);
	if (r >= 0 && msg)
		received_fds(msg, added, site);
	return r;
}

NL_REAL_DECL(recvmsg);
NL_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	nl_enter();
	return do_recvmsg(NL_REAL(recvmsg), fd, msg, flags, NL_CALLER());
}

/* recvmmsg: the fds of every message received.  (Its timeout and the
 * read watchdog are not applied to it.) */
#ifdef NL_LIBC_MUSL
typedef unsigned int nl_mmsg_flags;   /* musl's prototype */
#else
typedef int nl_mmsg_flags;
#endif
NL_REAL_DECL(recvmmsg);
NL_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen,
		       nl_mmsg_flags flags, struct timespec *timeout)
{
	nl_enter();
	int added;
	nl_mmsg_flags fl = (nl_mmsg_flags)nl_cloexec_flag((int)flags,
							  MSG_CMSG_CLOEXEC, &added);
	__typeof__(&recvmmsg) real = NL_REAL(recvmmsg);
	int r = real ? real(fd, vec, vlen, fl, timeout)
		     : (int)syscall(SYS_recvmmsg, fd, vec, vlen, fl, timeout);
	if (r <= 0 || !vec)
		return r;
	int saved = errno;
	for (int k = 0; k < r; k++)
		received_fds(&vec[k].msg_hdr, added, NL_CALLER());
	errno = saved;
	return r;
}

#ifdef NL_TIME64_ALIASES
/* recvmsg of a program built with -D_TIME_BITS=64 (common/target.h). */
ssize_t __recvmsg64(int fd, struct msghdr *msg, int flags);
NL_REAL_DECL(__recvmsg64);
NL_EXPORT ssize_t __recvmsg64(int fd, struct msghdr *msg, int flags)
{
	nl_enter();
	return do_recvmsg(NL_REAL(__recvmsg64), fd, msg, flags, NL_CALLER());
}
#endif

/* --- duplicates --- */

/* dup() of the log's own fd answers EBADF, as of a number not open
 * (log/output.h, nl_out_fd_owned: one load for a number below the log's).
 * With close-on-exec added, dup is fcntl(F_DUPFD_CLOEXEC, 0), which the
 * kernel refuses with EINVAL when 0 is not below RLIMIT_NOFILE (OpenSSH's
 * privilege-separated child sets it to 0): it looks at the fd first (a bad
 * one is EBADF), so EINVAL there is the limit, and dup answers EMFILE. */
NL_REAL_DECL(dup);
NL_EXPORT int dup(int fd)
{
	nl_enter();
	if (nl_out_fd_owned(fd)) {
		errno = EBADF;
		return -1;
	}
	int added = nl_new_fds_cloexec();
	int r;
	if (added == NL_CLOEXEC_NOW) {
		r = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 0);
		if (r < 0 && errno == EINVAL)
			errno = EMFILE;
	} else {
		r = NL_CALL_REAL(dup, (fd), (SYS_dup, fd));
	}
	if (r >= 0 && nl_fd_policy_active())
		nl_sock_duplicated(fd, r);
	return nl_new_fd(r, NL_CALL_DUP, NL_CALLER(), added);
}

/* --- fds libc opens itself --- */

/* posix_openpt() opens /dev/ptmx with the flags it is given, O_CLOEXEC
 * among them. */
NL_REAL_DECL(posix_openpt);
NL_EXPORT int posix_openpt(int flags)
{
	nl_enter();
	int added;
	int fl = nl_cloexec_flag(flags, O_CLOEXEC, &added);
	__typeof__(&posix_openpt) real = NL_REAL(posix_openpt);
	int fd = real ? real(fl) : (int)syscall(SYS_openat, AT_FDCWD, "/dev/ptmx", fl, 0);
	return nl_new_fd(fd, NL_CALL_POSIX_OPENPT, NL_CALLER(), added);
}

#ifndef NL_LIBC_MUSL
/* getpt() is posix_openpt(O_RDWR) in glibc (since 2.34; musl has none):
 * the same, with the flag. */
NL_EXPORT int getpt(void)
{
	nl_enter();
	int added;
	int fl = nl_cloexec_flag(O_RDWR, O_CLOEXEC, &added);
	__typeof__(&posix_openpt) real = NL_REAL(posix_openpt);
	int fd = real ? real(fl) : (int)syscall(SYS_openat, AT_FDCWD, "/dev/ptmx", fl, 0);
	return nl_new_fd(fd, NL_CALL_GETPT, NL_CALLER(), added);
}
#endif

/* openpty() opens both ends inside libc (glibc's getpt and
 * ioctl(TIOCGPTPEER), musl's open), where no interposer sees them. */
NL_REAL_DECL(openpty);
NL_EXPORT int openpty(int *amaster, int *aslave, char *name,
		      const struct termios *termp, const struct winsize *winp)
{
	nl_enter();
	__typeof__(&openpty) real = NL_REAL(openpty);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	int r = real(amaster, aslave, name, termp, winp);
	if (r == 0) {
		nl_new_fd_flagged_after(*amaster, NL_CALL_OPENPTY, NL_CALLER());
		nl_new_fd_flagged_after(*aslave, NL_CALL_OPENPTY, NL_CALLER());
	}
	return r;
}


/* --- event and special fds --- */

NL_REAL_DECL(epoll_create1);
NL_EXPORT int epoll_create1(int flags)
{
	nl_enter();
	int added;
	int fl = nl_cloexec_flag(flags, EPOLL_CLOEXEC, &added);
	int fd = NL_CALL_REAL(epoll_create1, (fl), (SYS_epoll_create1, fl));
	return nl_new_fd(fd, NL_CALL_EPOLL_CREATE, NL_CALLER(), added);
}

/* epoll_create(size) only checks size > 0, then is epoll_create1(0). */
NL_EXPORT int epoll_create(int size)
{
	nl_enter();
	if (size <= 0) {
		errno = EINVAL;
		return -1;
	}
	int added = nl_new_fds_cloexec();
	int fd = (int)syscall(SYS_epoll_create1,
				 added == NL_CLOEXEC_NOW ? EPOLL_CLOEXEC : 0);
	return nl_new_fd(fd, NL_CALL_EPOLL_CREATE, NL_CALLER(), added);
}

NL_REAL_DECL(eventfd);
NL_EXPORT int eventfd(unsigned int initval, int flags)
{
	nl_enter();
	int added;
	int fl = nl_cloexec_flag(flags, EFD_CLOEXEC, &added);
	int fd = NL_CALL_REAL(eventfd, (initval, fl),
			      (SYS_eventfd2, initval, fl));
	return nl_new_fd(fd, NL_CALL_EVENTFD, NL_CALLER(), added);
}

NL_REAL_DECL(timerfd_create);
NL_EXPORT int timerfd_create(int clockid, int flags)
{
	nl_enter();
	int added;
	int fl = nl_cloexec_flag(flags, TFD_CLOEXEC, &added);
	int fd = NL_CALL_REAL(timerfd_create, (clockid, fl),
			      (SYS_timerfd_create, clockid, fl));
	return nl_new_fd(fd, NL_CALL_TIMERFD, NL_CALLER(), added);
}

/* signalfd(-1, ...) makes a new fd; on an existing fd it only updates the
 * mask, and the flag is not the shim's to add. */
NL_REAL_DECL(signalfd);
NL_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
	nl_enter();
	/* A new signalfd; signalfd(fd, ...) on an existing one changes its
	 * mask only. */
	int added = 0;
	int fl = fd == -1 ? nl_cloexec_flag(flags, SFD_CLOEXEC, &added) : flags;
	int r = NL_CALL_REAL(signalfd, (fd, mask, fl),
			     (SYS_signalfd4, fd, mask, _NSIG / 8, fl));
	return fd == -1 ? nl_new_fd(r, NL_CALL_SIGNALFD, NL_CALLER(), added) : r;
}

NL_REAL_DECL(inotify_init1);
NL_EXPORT int inotify_init1(int flags)
{
	nl_enter();
	int added;
	int fl = nl_cloexec_flag(flags, IN_CLOEXEC, &added);
	int fd = NL_CALL_REAL(inotify_init1, (fl), (SYS_inotify_init1, fl));
	return nl_new_fd(fd, NL_CALL_INOTIFY, NL_CALLER(), added);
}

NL_EXPORT int inotify_init(void)
{
	nl_enter();
	int added = nl_new_fds_cloexec();
	int fd = (int)syscall(SYS_inotify_init1,
				 added == NL_CLOEXEC_NOW ? IN_CLOEXEC : 0);
	return nl_new_fd(fd, NL_CALL_INOTIFY, NL_CALLER(), added);
}

NL_REAL_DECL(fanotify_init);
NL_EXPORT int fanotify_init(unsigned int flags, unsigned int event_f_flags)
{
	nl_enter();
	int added;
	unsigned fl = (unsigned)nl_cloexec_flag((int)flags, FAN_CLOEXEC, &added);
	int fd = NL_CALL_REAL(fanotify_init, (fl, event_f_flags),
			      (SYS_fanotify_init, fl, event_f_flags));
	return nl_new_fd(fd, NL_CALL_FANOTIFY, NL_CALLER(), added);
}

NL_REAL_DECL(open_by_handle_at);
NL_EXPORT int open_by_handle_at(int mount_fd, struct file_handle *handle,
				int flags)
{
	nl_enter();
	int added;
	int fl = nl_cloexec_flag(flags, O_CLOEXEC, &added);
	int fd = NL_CALL_REAL(open_by_handle_at, (mount_fd, handle, fl),
			      (SYS_open_by_handle_at, mount_fd, handle, fl));
	return nl_new_fd(fd, NL_CALL_OPEN_BY_HANDLE, NL_CALLER(), added);
}

NL_REAL_DECL(memfd_create);
NL_EXPORT int memfd_create(const char *name, unsigned int flags)
{
	nl_enter();
	int added;
	unsigned fl = (unsigned)nl_cloexec_flag((int)flags, MFD_CLOEXEC, &added);
	int fd = NL_CALL_REAL(memfd_create, (name, fl),
			      (SYS_memfd_create, name, fl));
	return nl_new_fd(fd, NL_CALL_MEMFD, NL_CALLER(), added);
}

/* mkstemp() and friends open through libc's internal open, which no
 * preload sees: route them through mkostemp with O_CLOEXEC. */
NL_REAL_DECL(mkostemp);
NL_REAL_DECL(mkostemps);

static int temp_file(char *tmpl, int suffixlen, int flags, const void *site)
{
	int added;
	int fl = nl_cloexec_flag(flags, O_CLOEXEC, &added);
	__typeof__(&mkostemps) real = NL_REAL(mkostemps);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return nl_new_fd(real(tmpl, suffixlen, fl), NL_CALL_OPEN, site, added);
}

NL_EXPORT int mkstemp(char *tmpl) { nl_enter(); return temp_file(tmpl, 0, 0, NL_CALLER()); }
NL_EXPORT int mkstemp64(char *tmpl) { nl_enter(); return temp_file(tmpl, 0, NL_O_LARGEFILE64, NL_CALLER()); }
NL_EXPORT int mkostemp(char *tmpl, int flags) { nl_enter(); return temp_file(tmpl, 0, flags, NL_CALLER()); }
NL_EXPORT int mkostemp64(char *tmpl, int flags) { nl_enter(); return temp_file(tmpl, 0, flags | NL_O_LARGEFILE64, NL_CALLER()); }
NL_EXPORT int mkstemps(char *tmpl, int sl) { nl_enter(); return temp_file(tmpl, sl, 0, NL_CALLER()); }
NL_EXPORT int mkstemps64(char *tmpl, int sl) { nl_enter(); return temp_file(tmpl, sl, NL_O_LARGEFILE64, NL_CALLER()); }
NL_EXPORT int mkostemps(char *tmpl, int sl, int flags) { nl_enter(); return temp_file(tmpl, sl, flags, NL_CALLER()); }
NL_EXPORT int mkostemps64(char *tmpl, int sl, int flags) { nl_enter(); return temp_file(tmpl, sl, flags | NL_O_LARGEFILE64, NL_CALLER()); }

/* --- stdio streams --- */

/* glibc reads a mode's flags from bytes 1 to 6 only, whatever they are
 * (the ',' of ",ccs=CHARSET" included): an 'e' there means O_CLOEXEC, an
 * 'x' O_EXCL, and so on.  The charset is the rest after ",ccs=". */
#define MODE_FLAG_BYTES 7

/* The mode with glibc's 'e' (O_CLOEXEC) added before any ',' so that a
 * charset stays as it was: "w,ccs=UTF-8" becomes "we,ccs=UTF-8".  Returns
 * mode itself when its flags already hold 'e', or when the 'e' would land
 * where glibc does not read it or push a flag out of those bytes (nothing
 * is added then, and the fd is not recorded as made close-on-exec).
 * While one of fds 0-2 may be free the mode stays, and *added says the
 * flag comes after the call (NL_CLOEXEC_LATER, newfd.h). */
static const char *mode_with_e(const char *mode, char *buf, size_t cap,
			       int *added)
{
	*added = 0;
	int want = mode && mode[0] != '\0' ? nl_new_fds_cloexec() : 0;
	if (want != NL_CLOEXEC_NOW) {
		*added = want && !memchr(mode + 1, 'e',
					 strnlen(mode, MODE_FLAG_BYTES) - 1)
				 ? want
				 : 0;
		return mode;
	}
	size_t n = strnlen(mode, MODE_FLAG_BYTES);
	if (memchr(mode + 1, 'e', n - 1))
		return mode;
	const char *comma = strchr(mode, ',');
	size_t at = comma ? (size_t)(comma - mode) : strlen(mode);
	if (at >= MODE_FLAG_BYTES)
		return mode;
	if (n == MODE_FLAG_BYTES && strchr("+xbmc", mode[MODE_FLAG_BYTES - 1]))
		return mode;
	size_t len = strlen(mode);
	if (len + 2 > cap)
		return mode;
	memcpy(buf, mode, at);
	buf[at] = 'e';
	memcpy(buf + at + 1, mode + at, len - at + 1);
	*added = 1;
	return buf;
}

/* glibc's stream flag for an 'e' in the mode (libio/libioP.h): its
 * freopen(NULL, ...) reopens the fd with O_CLOEXEC while it is set. */
#define NL_IO_FLAGS2_CLOEXEC 64

static FILE *new_stream(FILE *f, enum nl_call call, const void *site, int added)
{
	if (!f)
		return f;
	int fd = fileno(f);
	nl_new_fd(fd, call, site, added);
#ifdef __GLIBC__
	/* The stream must not remember the 'e' the shim put in the mode: on
	 * 0-2 the fd stays inheritable (nl_new_fd), and a later freopen onto
	 * a number the program made inheritable must not dup3 it with
	 * O_CLOEXEC.  A freopen the shim gives an 'e' sets it again. */
	if (added == NL_CLOEXEC_NOW)
		f->_flags2 &= ~NL_IO_FLAGS2_CLOEXEC;
#endif
	return f;
}

#define FOPEN_LIKE(name)                                                     \
	NL_REAL_DECL(name);                                                  \
	NL_EXPORT FILE *name(const char *path, const char *mode)             \
	{                                                                    \
		nl_enter();                                                  \
		char buf[64];                                                \
		int added;                                                   \
		const char *m = mode_with_e(mode, buf, sizeof buf, &added);  \
		__typeof__(&name) real = NL_REAL(name);                      \
		if (!real) {                                                 \
			errno = ENOSYS;                                      \
			return NULL;                                         \
		}                                                            \
		return new_stream(real(path, m), NL_CALL_FOPEN, NL_CALLER(), added); \
	}

FOPEN_LIKE(fopen)
FOPEN_LIKE(fopen64)

/* tmpfile() takes no flags: its fd gets FD_CLOEXEC right after (not
 * atomically: an exec no preload sees in that instant could get it). */
#define TMPFILE_LIKE(name)                                                   \
	NL_REAL_DECL(name);                                                  \
	NL_EXPORT FILE *name(void)                                           \
	{                                                                    \
		nl_enter();                                                  \
		__typeof__(&name) real = NL_REAL(name);                      \
		if (!real) {                                                 \
			errno = ENOSYS;                                      \
			return NULL;                                         \
		}                                                            \
		FILE *f = real();                                            \
		int fd = f ? fileno(f) : -1, added = 0;                      \
		if (fd > 2 && nl_new_fds_cloexec()) {                        \
			int saved = errno;                                   \
			added = nl_sys_fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;  \
			errno = saved;                                       \
		}                                                            \
		return new_stream(f, NL_CALL_TMPFILE, NL_CALLER(), added);   \
	}

TMPFILE_LIKE(tmpfile)
TMPFILE_LIKE(tmpfile64)

/* freopen() onto stdin/stdout/stderr keeps the stream's fd number (glibc
 * dup3()s the new file onto it): that fd must stay inheritable.  A number
 * that was the log's is the log's no more (log/output.h). */
#define FREOPEN_LIKE(name)                                                   \
	NL_REAL_DECL(name);                                                  \
	NL_EXPORT FILE *name(const char *path, const char *mode, FILE *stream) \
	{                                                                    \
		nl_enter();                                                  \
		char buf[64];                                                \
		int added = 0;                                               \
		const char *m = mode;                                        \
		int old = stream ? fileno(stream) : -1;                      \
		int gate_ = 0;                                               \
		if (old >= 0) {                                              \
			gate_ = nl_out_fd_enter((unsigned)old, (unsigned)old); \
			nl_out_fd_yield((unsigned)old, (unsigned)old);       \
		}                                                            \
		/* A number the program made inheritable on purpose (a    \
		 * dup2 target, F_SETFD 0) stays so, as on 0-2. */         \
		uint32_t deliberate = old > 2 ? nl_fd_keep_bits(old) &       \
						NL_FD_DELIBERATE : 0;        \
		if ((old > 2 || old < 0) && !deliberate)                     \
			m = mode_with_e(mode, buf, sizeof buf, &added);      \
		__typeof__(&name) real = NL_REAL(name);                      \
		if (!real) {                                                 \
			nl_out_fd_leave(gate_);                              \
			errno = ENOSYS;                                      \
			return NULL;                                         \
		}                                                            \
		FILE *r_ = real(path, m, stream);                            \
		nl_out_fd_leave(gate_);                                      \
		FILE *f_ = new_stream(r_, NL_CALL_FREOPEN, NL_CALLER(), added); \
		if (f_ && deliberate && fileno(f_) == old)                   \
			nl_fd_mark(old, NL_FD_DELIBERATE);                   \
		return f_;                                                   \
	}

FREOPEN_LIKE(freopen)
FREOPEN_LIKE(freopen64)
