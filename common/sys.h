/* Raw system calls for the shim's own use.
 *
 * Inside libnoleak a call to open(), close() or fcntl() would bind to the
 * shim's own interposer, so the shim's internal I/O goes straight to the
 * kernel through these.  Each returns what the kernel returned (-errno on
 * failure, never touching errno), is async-signal-safe and allocation-free. */
#ifndef NL_SYS_H
#define NL_SYS_H

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

static inline long nl_sys6(long n, long a, long b, long c, long d, long e,
			   long f)
{
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
#else
	/* Portable path: libc's syscall() sets errno; undo that. */
	extern int *__errno_location(void);
	int saved = *__errno_location();
	long ret = syscall(n, a, b, c, d, e, f);
	if (ret == -1) {
		ret = -*__errno_location();
	}
	*__errno_location() = saved;
	return ret;
#endif
}

#define NL_SYS(n, a, b, c) nl_sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)

static inline int nl_sys_openat(int dirfd, const char *path, int flags, mode_t mode)
{ return (int)nl_sys6(SYS_openat, dirfd, (long)path, flags, mode, 0, 0); }
static inline int nl_sys_close(int fd) { return (int)NL_SYS(SYS_close, fd, 0, 0); }
static inline ssize_t nl_sys_read(int fd, void *buf, size_t n)
{ return NL_SYS(SYS_read, fd, buf, n); }
static inline ssize_t nl_sys_write(int fd, const void *buf, size_t n)
{ return NL_SYS(SYS_write, fd, buf, n); }
static inline int nl_sys_fcntl(int fd, int cmd, long arg)
{ return (int)NL_SYS(SYS_fcntl, fd, cmd, arg); }
static inline int nl_sys_fstat(int fd, struct stat *st)
{ return (int)NL_SYS(SYS_fstat, fd, st, 0); }
static inline int nl_sys_stat(const char *path, struct stat *st)
{ return (int)nl_sys6(SYS_newfstatat, AT_FDCWD, (long)path, (long)st, 0, 0, 0); }
static inline int nl_sys_lstat(const char *path, struct stat *st)
{ return (int)nl_sys6(SYS_newfstatat, AT_FDCWD, (long)path, (long)st, AT_SYMLINK_NOFOLLOW, 0, 0); }
static inline int nl_sys_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{ return (int)nl_sys6(SYS_newfstatat, dirfd, (long)path, (long)st, flags, 0, 0); }
static inline ssize_t nl_sys_readlink(const char *path, char *buf, size_t n)
{ return nl_sys6(SYS_readlinkat, AT_FDCWD, (long)path, (long)buf, (long)n, 0, 0); }
static inline pid_t nl_sys_getpid(void) { return (pid_t)NL_SYS(SYS_getpid, 0, 0, 0); }
static inline pid_t nl_sys_getppid(void) { return (pid_t)NL_SYS(SYS_getppid, 0, 0, 0); }
static inline uid_t nl_sys_geteuid(void) { return (uid_t)NL_SYS(SYS_geteuid, 0, 0, 0); }
static inline long nl_sys_getdents64(int fd, void *buf, size_t n)
{ return NL_SYS(SYS_getdents64, fd, buf, n); }
static inline int nl_sys_close_range(unsigned lo, unsigned hi, unsigned flags)
{ return (int)NL_SYS(SYS_close_range, lo, hi, flags); }
static inline int nl_sys_dup3(int old, int new, int flags)
{ return (int)NL_SYS(SYS_dup3, old, new, flags); }
static inline int nl_sys_uname(struct utsname *u)
{ return (int)NL_SYS(SYS_uname, u, 0, 0); }
/* getrlimit/setrlimit of this process (pid 0); either pointer may be NULL. */
static inline int nl_sys_prlimit(int resource, const struct rlimit *new_lim,
				 struct rlimit *old_lim)
{ return (int)nl_sys6(SYS_prlimit64, 0, resource, (long)new_lim, (long)old_lim, 0, 0); }
static inline int nl_sys_socket(int domain, int type, int protocol)
{ return (int)NL_SYS(SYS_socket, domain, type, protocol); }
static inline int nl_sys_connect(int fd, const void *addr, socklen_t len)
{ return (int)NL_SYS(SYS_connect, fd, addr, len); }
static inline ssize_t nl_sys_sendmsg(int fd, const struct msghdr *msg, int flags)
{ return NL_SYS(SYS_sendmsg, fd, msg, flags); }

static inline pid_t nl_sys_getpgid(pid_t pid) { return (pid_t)NL_SYS(SYS_getpgid, pid, 0, 0); }
static inline pid_t nl_sys_getsid(pid_t pid) { return (pid_t)NL_SYS(SYS_getsid, pid, 0, 0); }
static inline int nl_sys_setpgid(pid_t pid, pid_t pgid) { return (int)NL_SYS(SYS_setpgid, pid, pgid, 0); }
static inline int nl_sys_kill(pid_t pid, int sig) { return (int)NL_SYS(SYS_kill, pid, sig, 0); }
static inline int nl_sys_ioctl(int fd, unsigned long req, void *arg)
{ return (int)NL_SYS(SYS_ioctl, fd, req, arg); }

#endif
