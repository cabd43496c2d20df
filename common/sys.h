/* Raw system calls for the shim's own use.
 *
 * Inside libnoleak a call to open(), close() or fcntl() would bind to the
 * shim's own interposer, so the shim's internal I/O goes straight to the
 * kernel through these.  Each returns what the kernel returned (-errno on
 * failure, never touching errno), is async-signal-safe and allocation-free.
 *
 * The system calls and kernel structures that differ per architecture live
 * here and nowhere else (common/target.h has the rest of the per-target
 * facts); code above this layer uses the wrappers and is portable:
 *   - i386: fcntl64 (lock commands with 64-bit offsets pass through),
 *     fstat64/fstatat64 converted to the caller's struct stat (glibc's is
 *     the 32-bit one), prlimit64 through a 64-bit struct and back to the
 *     32-bit struct rlimit, mmap2, _newselect;
 *   - aarch64 (and every newer architecture): no poll, select, epoll_wait
 *     or dup2: ppoll, pselect6, epoll_pwait and dup3 stand in;
 *   - everywhere: the kernel's sigaction with its 8-byte signal set
 *     (struct nl_ksigaction, NL_KSIGSET_BYTES), which is not libc's. */
#ifndef NL_SYS_H
#define NL_SYS_H

#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/target.h"

static inline long nl_sys6(long n, long a, long b, long c, long d, long e,
			   long f)
{
	/* The instruction itself on every target the shim builds for: the
	 * shim exports syscall() (interpose/sandbox.c), which comes here, so
	 * libc's syscall() is never a way in. */
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
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
#elif defined(__i386__)
	/* The sixth argument goes in ebp, which may be the frame pointer:
	 * pushed first (its operand read before esp moves), then loaded
	 * with ebp saved, as musl does. */
	long ret;
	__asm__ volatile("pushl %7\n\t"
			 "push %%ebp\n\t"
			 "mov 4(%%esp), %%ebp\n\t"
			 "int $0x80\n\t"
			 "pop %%ebp\n\t"
			 "add $4, %%esp"
			 : "=a"(ret)
			 : "a"(n), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e), "g"(f)
			 : "memory");
	return ret;
#else
#error "nl_sys6: no system call instruction for this architecture"
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
struct iovec;
static inline ssize_t nl_sys_writev(int fd, const struct iovec *iov, int n)
{ return NL_SYS(SYS_writev, fd, iov, n); }
/* pread64 with a 64-bit offset (i386: in two words, low first). */
static inline ssize_t nl_sys_pread(int fd, void *buf, size_t n, long long off)
{
#if defined(__i386__)
	return nl_sys6(SYS_pread64, fd, (long)buf, (long)n, (long)(off & 0xffffffff),
		       (long)(off >> 32), 0);
#else
	return nl_sys6(SYS_pread64, fd, (long)buf, (long)n, (long)off, 0, 0);
#endif
}
/* fcntl as the program's libc makes it (fcntl64 on 32-bit targets). */
#ifdef SYS_fcntl64
#define NL_NR_FCNTL SYS_fcntl64
#else
#define NL_NR_FCNTL SYS_fcntl
#endif
static inline int nl_sys_fcntl(int fd, int cmd, long arg)
{ return (int)NL_SYS(NL_NR_FCNTL, fd, cmd, arg); }

#if defined(__i386__) && !defined(NL_LIBC_MUSL)
/* The kernel's struct stat64 is glibc's struct stat64; the shim's callers
 * use glibc's 32-bit struct stat, so the fields are copied over (st_ino and
 * st_size keep their low bits: the shim compares and reads small files). */
static inline int nl_stat_from64(long r, const struct stat64 *k, struct stat *st)
{
	if (r < 0)
		return (int)r;
	*st = (struct stat){ 0 };
	st->st_dev = k->st_dev;
	st->st_ino = (ino_t)k->st_ino;
	st->st_mode = k->st_mode;
	st->st_nlink = k->st_nlink;
	st->st_uid = k->st_uid;
	st->st_gid = k->st_gid;
	st->st_rdev = k->st_rdev;
	st->st_size = (off_t)k->st_size;
	st->st_blksize = k->st_blksize;
	st->st_blocks = (blkcnt_t)k->st_blocks;
	st->st_atim = k->st_atim;
	st->st_mtim = k->st_mtim;
	st->st_ctim = k->st_ctim;
	return 0;
}
static inline int nl_sys_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	struct stat64 k;
	return nl_stat_from64(nl_sys6(SYS_fstatat64, dirfd, (long)path, (long)&k, flags, 0, 0), &k, st);
}
static inline int nl_sys_fstat(int fd, struct stat *st)
{
	struct stat64 k;
	return nl_stat_from64(NL_SYS(SYS_fstat64, fd, &k, 0), &k, st);
}
#else
static inline int nl_sys_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{ return (int)nl_sys6(SYS_newfstatat, dirfd, (long)path, (long)st, flags, 0, 0); }
static inline int nl_sys_fstat(int fd, struct stat *st)
{ return (int)NL_SYS(SYS_fstat, fd, st, 0); }
#endif
static inline int nl_sys_stat(const char *path, struct stat *st)
{ return nl_sys_fstatat(AT_FDCWD, path, st, 0); }
static inline int nl_sys_lstat(const char *path, struct stat *st)
{ return nl_sys_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW); }
/* fstatfs: the 64-bit struct where the target has two (i386: fstatfs64,
 * given its size); f_type, the file system's magic number, is the shim's
 * one use. */
#ifdef SYS_fstatfs64
typedef struct statfs64 nl_statfs_t;
static inline int nl_sys_fstatfs(int fd, nl_statfs_t *b)
{ return (int)NL_SYS(SYS_fstatfs64, fd, sizeof *b, b); }
#else
typedef struct statfs nl_statfs_t;
static inline int nl_sys_fstatfs(int fd, nl_statfs_t *b)
{ return (int)NL_SYS(SYS_fstatfs, fd, b, 0); }
#endif
static inline ssize_t nl_sys_readlink(const char *path, char *buf, size_t n)
{ return nl_sys6(SYS_readlinkat, AT_FDCWD, (long)path, (long)buf, (long)n, 0, 0); }
static inline pid_t nl_sys_getpid(void) { return (pid_t)NL_SYS(SYS_getpid, 0, 0, 0); }
static inline pid_t nl_sys_getppid(void) { return (pid_t)NL_SYS(SYS_getppid, 0, 0, 0); }
static inline pid_t nl_sys_gettid(void) { return (pid_t)NL_SYS(SYS_gettid, 0, 0, 0); }
static inline void nl_sys_sched_yield(void) { NL_SYS(SYS_sched_yield, 0, 0, 0); }
static inline uid_t nl_sys_geteuid(void) { return (uid_t)NL_SYS(SYS_geteuid, 0, 0, 0); }
static inline uid_t nl_sys_getuid(void) { return (uid_t)NL_SYS(SYS_getuid, 0, 0, 0); }
/* The real and effective user and group ids (the 32-bit ids where the
 * target also has 16-bit calls: i386).  0 or -errno. */
#ifdef SYS_getresuid32
#define NL_SYS_GETRESUID SYS_getresuid32
#define NL_SYS_GETRESGID SYS_getresgid32
#else
#define NL_SYS_GETRESUID SYS_getresuid
#define NL_SYS_GETRESGID SYS_getresgid
#endif
static inline int nl_sys_getresuid(uid_t *r, uid_t *e, uid_t *s)
{ return (int)NL_SYS(NL_SYS_GETRESUID, r, e, s); }
static inline int nl_sys_getresgid(gid_t *r, gid_t *e, gid_t *s)
{ return (int)NL_SYS(NL_SYS_GETRESGID, r, e, s); }
static inline long nl_sys_getdents64(int fd, void *buf, size_t n)
{ return NL_SYS(SYS_getdents64, fd, buf, n); }
static inline int nl_sys_close_range(unsigned lo, unsigned hi, unsigned flags)
{ return (int)NL_SYS(SYS_close_range, lo, hi, flags); }
static inline int nl_sys_dup3(int old, int new, int flags)
{ return (int)NL_SYS(SYS_dup3, old, new, flags); }
static inline int nl_sys_uname(struct utsname *u)
{ return (int)NL_SYS(SYS_uname, u, 0, 0); }
/* getrlimit/setrlimit of this process (pid 0); either pointer may be NULL.
 * prlimit64 takes 64-bit limits on every architecture: a struct rlimit of
 * 32-bit limits (i386) is converted, infinity to infinity. */
struct nl_rlimit64 { uint64_t cur, max; };
static inline rlim_t nl_rlim_from64(uint64_t v)
{ return v >= (uint64_t)RLIM_INFINITY ? RLIM_INFINITY : (rlim_t)v; }
static inline uint64_t nl_rlim_to64(rlim_t v)
{ return v == RLIM_INFINITY ? ~(uint64_t)0 : (uint64_t)v; }
static inline int nl_sys_prlimit(int resource, const struct rlimit *new_lim,
				 struct rlimit *old_lim)
{
	struct nl_rlimit64 in = { 0, 0 }, out = { 0, 0 };
	if (new_lim) {
		in.cur = nl_rlim_to64(new_lim->rlim_cur);
		in.max = nl_rlim_to64(new_lim->rlim_max);
	}
	int r = (int)nl_sys6(SYS_prlimit64, 0, resource, new_lim ? (long)&in : 0,
			     old_lim ? (long)&out : 0, 0, 0);
	if (r < 0)
		return r;
	if (old_lim) {
		old_lim->rlim_cur = nl_rlim_from64(out.cur);
		old_lim->rlim_max = nl_rlim_from64(out.max);
	}
	return 0;
}

/* An anonymous private read-write mapping of len bytes with `flags` added
 * (MAP_NORESERVE): its address, or -errno (test with r < 0 && r > -4096:
 * addresses may look negative).  errno is never touched. */
static inline long nl_sys_mmap_anon_flags(size_t len, int flags)
{
#ifdef SYS_mmap2
	return nl_sys6(SYS_mmap2, 0, (long)len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
#else
	return nl_sys6(SYS_mmap, 0, (long)len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
#endif
}

static inline long nl_sys_mmap_anon(size_t len)
{
	return nl_sys_mmap_anon_flags(len, 0);
}

/* Whether a value returned by the two above is an error. */
static inline int nl_sys_mmap_failed(long r)
{
	return r < 0 && r > -4096;
}

static inline int nl_sys_munmap(void *addr, size_t len)
{
	return (int)NL_SYS(SYS_munmap, addr, len, 0);
}

/* MADV_POPULATE_READ (Linux 5.14): map the pages of [addr, addr+len) that
 * are in memory now, in one call instead of a page fault each.  Older
 * kernels answer -EINVAL, which costs nothing. */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
/* MADV_POPULATE_WRITE (Linux 5.14): the same for writing, one system call
 * for what a read and then a write of a fresh page cost in page faults. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
static inline int nl_sys_madvise(void *addr, size_t len, int advice)
{
	return (int)NL_SYS(SYS_madvise, addr, len, advice);
}

/* dup2: dup3 where there is no dup2 (dup2(fd, fd) checks fd). */
static inline int nl_sys_dup2(int old, int new)
{
#ifdef SYS_dup2
	return (int)NL_SYS(SYS_dup2, old, new, 0);
#else
	if (old == new) {
		int r = nl_sys_fcntl(old, F_GETFD, 0);
		return r < 0 ? r : new;
	}
	return (int)NL_SYS(SYS_dup3, old, new, 0);
#endif
}

/* poll, select and epoll_wait; ppoll, pselect6 and epoll_pwait where the
 * architecture has only those. */
static inline int nl_sys_poll(struct pollfd *fds, nfds_t n, int ms)
{
#ifdef SYS_poll
	return (int)NL_SYS(SYS_poll, fds, n, ms);
#else
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	return (int)nl_sys6(SYS_ppoll, (long)fds, (long)n, ms < 0 ? 0 : (long)&ts,
			    0, 8, 0);
#endif
}
static inline int nl_sys_select(int n, fd_set *r, fd_set *w, fd_set *e,
				struct timeval *tv)
{
#if defined(SYS__newselect)
	return (int)nl_sys6(SYS__newselect, n, (long)r, (long)w, (long)e, (long)tv, 0);
#elif defined(SYS_select)
	return (int)nl_sys6(SYS_select, n, (long)r, (long)w, (long)e, (long)tv, 0);
#else
	struct timespec ts;
	if (tv) {
		ts.tv_sec = tv->tv_sec;
		ts.tv_nsec = tv->tv_usec * 1000;
	}
	int res = (int)nl_sys6(SYS_pselect6, n, (long)r, (long)w, (long)e,
			       tv ? (long)&ts : 0, 0);
	if (tv) {
		tv->tv_sec = ts.tv_sec;
		tv->tv_usec = ts.tv_nsec / 1000;
	}
	return res;
#endif
}
struct epoll_event;
static inline int nl_sys_epoll_wait(int epfd, struct epoll_event *ev, int max, int ms)
{
#ifdef SYS_epoll_wait
	return (int)nl_sys6(SYS_epoll_wait, epfd, (long)ev, max, ms, 0, 0);
#else
	return (int)nl_sys6(SYS_epoll_pwait, epfd, (long)ev, max, ms, 0, 8);
#endif
}

/* The kernel's struct sigaction for rt_sigaction (not libc's: its signal
 * set is 8 bytes, 64 signals, on every architecture here). */
#define NL_KSIGSET_BYTES 8
typedef uint64_t nl_ksigset;
struct nl_ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	nl_ksigset mask;
};
static inline int nl_sys_sigaction(int sig, const struct nl_ksigaction *act,
				   struct nl_ksigaction *old)
{ return (int)nl_sys6(SYS_rt_sigaction, sig, (long)act, (long)old, NL_KSIGSET_BYTES, 0, 0); }
static inline int nl_sys_sigprocmask(int how, const nl_ksigset *set, nl_ksigset *old)
{ return (int)nl_sys6(SYS_rt_sigprocmask, how, (long)set, (long)old, NL_KSIGSET_BYTES, 0, 0); }
static inline int nl_sys_sigpending(nl_ksigset *set)
{ return (int)NL_SYS(SYS_rt_sigpending, set, NL_KSIGSET_BYTES, 0); }
/* rt_sigtimedwait without the siginfo: the signal taken, or -errno
 * (-EAGAIN: none of `set` pending within the timeout). */
static inline int nl_sys_sigtimedwait(const nl_ksigset *set,
				      const struct timespec *timeout)
{ return (int)nl_sys6(SYS_rt_sigtimedwait, (long)set, 0, (long)timeout, NL_KSIGSET_BYTES, 0, 0); }
#define NL_KSIGBIT(sig) ((nl_ksigset)1 << ((sig) - 1))
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
