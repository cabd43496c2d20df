/* Interposers of the calls by which a program says what an fd is for:
 * dup2/dup3 onto a chosen number, clearing or setting FD_CLOEXEC, taking a
 * lock, closing.  They keep the fd table's marks true; the exec sweep reads
 * them to pass deliberate fds and drop the rest. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <linux/close_range.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <stdatomic.h>
#include <unistd.h>

#include "common/errno.h"
#include "init.h"
#include "interpose/newfd.h"
#include "core/socktimeout.h"
#include "base/real.h"
#include "log/output.h"
#include "common/sys.h"
#include "interpose/shell.h"

#ifdef NL_LIBC_MUSL
/* musl's *64 names are macros (see fdcreate.c). */
#undef fcntl64
#undef lockf64
#undef off64_t
int lockf64(int fd, int cmd, off_t len);
#define off64_t off_t
#endif
int fcntl64(int fd, int cmd, ...);
int __fcntl_time64(int fd, int cmd, ...);
int close_range(unsigned int lo, unsigned int hi, int flags);
void closefrom(int lo);
int login_tty(int fd);

/* fd 2 closed (1) or replaced (0), for log=stderr; not from a child
 * sharing our memory, whose fds are its own. */
static void stderr_changed(int closed)
{
	if (nl_in_foreign_child()) {
		nl_out_stderr_child(nl_sys_getpid(), closed);
		return;
	}
	if (closed)
		nl_out_stderr_closed();
	else
		nl_out_stderr_replaced();
}

/* dup2/dup3 without O_CLOEXEC onto a chosen number: how a program hands an
 * fd to a child.  POSIX semantics stay (the target is inheritable).  Such
 * a target is recorded deliberate before the real call (nl_fd_dup_before:
 * a fork another thread makes in between must not have the inheritable fd
 * without its mark), and put back as it was when the call fails; 0-2 and
 * a close-on-exec target after it. */
struct dup_to {
	int oldfd, newfd, cloexec;
	enum nl_call call;
	const void *site;
	int before;               /* recorded before the call */
	int gate;                 /* nl_out_fd_enter's, for the leave */
	struct nl_fd_saved saved;
};

static void before_dup_to(struct dup_to *d)
{
	d->before = 0;
	d->gate = 0;
	if (d->oldfd != d->newfd) {
		d->gate = nl_out_fd_enter((unsigned)d->newfd, (unsigned)d->newfd);
		nl_out_fd_yield((unsigned)d->newfd, (unsigned)d->newfd);
	}
	if (!d->cloexec && d->newfd > 2 && d->oldfd != d->newfd &&
	    nl_fd_policy_active())
		d->before = nl_fd_dup_before(d->oldfd, d->newfd, d->call,
					     d->site, &d->saved);
}

static int after_dup_to(int r, const struct dup_to *d)
{
	nl_out_fd_leave(d->gate);
	if (r >= 0 && d->newfd == 2)
		stderr_changed(0);
	if (r < 0 && d->before)
		nl_fd_dup_failed(d->newfd, &d->saved);
	if (r < 0 || d->oldfd == d->newfd || !nl_fd_policy_active())
		return r;
	nl_sock_duplicated(d->oldfd, d->newfd);
	nl_fd_stdio_filled(d->newfd);
	if (d->before)
		return r;
	nl_fd_created(d->newfd, d->call, d->site, 0);
	if (!d->cloexec && d->newfd > 2)
		nl_fd_mark(d->newfd, NL_FD_DELIBERATE);
	return r;
}

/* The shim's own output fds are not the program's (log/output.h,
 * nl_out_fd_owned): a call on one answers EBADF, as on a number not open,
 * and leaves it alone.  One load for a number below the outputs'. */
static int not_open(void)
{
	errno = EBADF;
	return -1;
}

NL_REAL_DECL(dup2);
NL_EXPORT int dup2(int oldfd, int newfd)
{
	nl_enter();
	if (nl_out_fd_owned(oldfd))
		return not_open();
	struct dup_to d = { oldfd, newfd, 0, NL_CALL_DUP2, NL_CALLER(), 0, 0, {0} };
	before_dup_to(&d);
	int r = NL_CALL_REAL(dup2, (oldfd, newfd), (SYS_dup3, oldfd, newfd, 0));
	return after_dup_to(r, &d);
}

NL_REAL_DECL(dup3);
NL_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	nl_enter();
	/* dup3 answers EINVAL for bad flags and oldfd == newfd before it
	 * looks at oldfd: those go to the real call, which changes nothing
	 * (an output's fd on newfd stays the output's). */
	if ((flags & ~O_CLOEXEC) || oldfd == newfd)
		return NL_CALL_REAL(dup3, (oldfd, newfd, flags),
				    (SYS_dup3, oldfd, newfd, flags));
	if (nl_out_fd_owned(oldfd))
		return not_open();
	struct dup_to d = { oldfd, newfd, flags & O_CLOEXEC, NL_CALL_DUP3,
			    NL_CALLER(), 0, 0, {0} };
	before_dup_to(&d);
	int r = NL_CALL_REAL(dup3, (oldfd, newfd, flags),
			     (SYS_dup3, oldfd, newfd, flags));
	return after_dup_to(r, &d);
}

/* What a record lock request does to the fd's lock mark: 1 takes a lock, -1
 * drops the whole file's (which a lock of any range covered), 0 neither (a
 * partial unlock leaves the rest locked). */
static int lock_effect(short type, short whence, long long start, long long len)
{
	if (type != F_UNLCK)
		return 1;
	return whence == SEEK_SET && start == 0 && len == 0 ? -1 : 0;
}

/* A lock command's effect, its argument read in the layout the command
 * takes: on a 32-bit target (common/target.h) F_SETLK64 and F_SETLKW64 take
 * struct flock64, the OFD commands take it through the large-file entries
 * (`lfs`: fcntl64, __fcntl_time64) and struct flock through fcntl. */
static int lock_change(int cmd, const void *arg, int lfs)
{
	int wide;
	switch (cmd) {
	case F_SETLK: case F_SETLKW:
		wide = 0;
		break;
	case F_OFD_SETLK: case F_OFD_SETLKW:
		wide = lfs;
		break;
#ifdef NL_F_SETLK64
	case NL_F_SETLK64: case NL_F_SETLKW64:
		wide = 1;
		break;
#endif
	default:
		return 0;
	}
	if (!arg)
		return 0;
#ifdef NL_F_SETLK64
	if (wide) {
		const struct flock64 *fl = arg;
		return lock_effect(fl->l_type, fl->l_whence, fl->l_start, fl->l_len);
	}
#endif
	(void)wide;
	const struct flock *fl = arg;
	return lock_effect(fl->l_type, fl->l_whence, fl->l_start, fl->l_len);
}

/* F_SETFD 0 and FIONCLEX make fd inheritable: its mark goes on before
 * the real call (a fork another thread makes in between must not have
 * the inheritable fd unmarked) and off again when the call fails.
 * Returns whether fd is one to mark, *undo what the undo needs (0: not
 * marked yet). */
static int mark_before_inheritable(int fd, uint32_t *undo)
{
	*undo = 0;
	if (fd <= 2 || !nl_fd_policy_active())
		return 0;
	*undo = nl_fd_mark_before(fd, NL_FD_DELIBERATE);
	return 1;
}

/* `marked`: the fd is one to mark; without *undo the mark was not made
 * before (a vfork child marks its own view, after). */
static void after_inheritable(int r, int fd, int marked, uint32_t undo)
{
	if (!marked)
		return;
	if (r < 0)
		nl_fd_mark_undo(fd, NL_FD_DELIBERATE, undo);
	else if (!undo)
		nl_fd_mark(fd, NL_FD_DELIBERATE);
}

static void note_fcntl(int fd, int cmd, void *arg, int lfs)
{
	if (cmd == F_SETFD)
		return;   /* before and around the call (do_fcntl) */
	int lock = lock_change(cmd, arg, lfs);
	if (lock < 0)
		nl_fd_unmark(fd, NL_FD_LOCKED);
	else if (lock > 0 && fd > 2)
		nl_fd_mark(fd, NL_FD_LOCKED);
}

/* fcntl and fcntl64 (libpython imports the latter) share one body; `lfs`:
 * the large-file entry (fcntl64, __fcntl_time64).  Every argument reaches
 * the real call as it came (a pointer or an int, in one word). */
static int do_fcntl(int (*real)(int, int, ...), int fd, int cmd, void *arg,
		    int lfs, const void *site)
{
	/* The log's fd: EBADF whatever the command (the kernel looks at the
	 * fd first), so the program never dups it, nor makes it inheritable
	 * (a trampoline clearing the flag on every fd it has would hand its
	 * children a write handle on the log, in audit mode too). */
	if (nl_out_fd_owned(fd))
		return not_open();
	int added = 0;
	if (cmd == F_DUPFD) {
		/* From above 2 the fd cannot refill stdio. */
		added = (long)arg > 2 ? nl_new_fds_cloexec_above_stdio()
				      : nl_new_fds_cloexec();
		if (added == NL_CLOEXEC_NOW)
			cmd = F_DUPFD_CLOEXEC;
	}
	int marked = 0, unmark = 0;
	uint32_t undo = 0;
	if (cmd == F_SETFD && ((long)arg & FD_CLOEXEC) && nl_fd_policy_active())
		unmark = nl_fd_cloexec_before(fd);
	if (cmd == F_SETFD && !((long)arg & FD_CLOEXEC))
		marked = mark_before_inheritable(fd, &undo);
	int r = real ? real(fd, cmd, arg) : (int)syscall(NL_NR_FCNTL, fd, cmd, arg);
	after_inheritable(r, fd, marked, undo);
	if (r >= 0 && unmark)
		nl_fd_cloexec_done(fd);
	if (r < 0 || !nl_fd_policy_active())
		return r;
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
		nl_sock_duplicated(fd, r);
		return nl_new_fd(r, NL_CALL_FCNTL_DUPFD, site, added);
	}
	note_fcntl(fd, cmd, arg, lfs);
	return r;
}

NL_REAL_DECL(fcntl);
NL_EXPORT int fcntl(int fd, int cmd, ...)
{
	nl_enter();
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(NL_REAL(fcntl), fd, cmd, arg, 0, NL_CALLER());
}

NL_REAL_DECL(fcntl64);
NL_EXPORT int fcntl64(int fd, int cmd, ...)
{
	nl_enter();
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(NL_REAL(fcntl64), fd, cmd, arg, 1, NL_CALLER());
}

#ifdef NL_TIME64_ALIASES
/* fcntl of a program built with -D_TIME_BITS=64 (common/target.h). */
NL_REAL_DECL(__fcntl_time64);
NL_EXPORT int __fcntl_time64(int fd, int cmd, ...)
{
	nl_enter();
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(NL_REAL(__fcntl_time64), fd, cmd, arg, 1, NL_CALLER());
}
#endif

/* ioctl(FIONCLEX) is how CPython marks pass_fds inheritable (in a vfork
 * child: the mark goes to that child's stash).  TIOCGPTPEER opens a
 * pseudo-terminal's other end with the open flags it is given: a creating
 * call like open().  On the log's fd: EBADF whatever the request, as
 * do_fcntl. */
typedef int (*ioctl_fn)(int, unsigned long, ...);
static int do_ioctl(ioctl_fn real, int fd, unsigned long request, void *arg,
		    const void *site)
{
	if (nl_out_fd_owned(fd))
		return not_open();
#ifdef TIOCGPTPEER
	if (request == TIOCGPTPEER) {
		int added;
		int fl = nl_cloexec_flag((int)(intptr_t)arg, O_CLOEXEC, &added);
		arg = (void *)(intptr_t)fl;
		int peer = real ? real(fd, request, arg)
				: (int)syscall(SYS_ioctl, fd, request, arg);
		return nl_new_fd(peer, NL_CALL_TIOCGPTPEER, site, added);
	}
#else
	(void)site;
#endif
	int marked = 0, unmark = 0;
	uint32_t undo = 0;
	if (request == FIOCLEX && nl_fd_policy_active())
		unmark = nl_fd_cloexec_before(fd);
	if (request == FIONCLEX)
		marked = mark_before_inheritable(fd, &undo);
	int r = real ? real(fd, request, arg)
		     : (int)syscall(SYS_ioctl, fd, request, arg);
	after_inheritable(r, fd, marked, undo);
	if (r == 0 && unmark)
		nl_fd_cloexec_done(fd);
	return r;
}

NL_REAL_DECL(ioctl);
#ifdef NL_LIBC_MUSL
NL_EXPORT int ioctl(int fd, int request, ...)  /* musl's: an int request */
#else
NL_EXPORT int ioctl(int fd, unsigned long request, ...)
#endif
{
	nl_enter();
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return do_ioctl(NL_REAL_AS(ioctl, ioctl_fn), fd, (unsigned long)request,
			arg, NL_CALLER());
}

#ifdef NL_TIME64_ALIASES
int __ioctl_time64(int fd, unsigned long request, ...);
NL_REAL_DECL(__ioctl_time64);
NL_EXPORT int __ioctl_time64(int fd, unsigned long request, ...)
{
	nl_enter();
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return do_ioctl(NL_REAL_AS(__ioctl_time64, ioctl_fn), fd, request, arg,
			NL_CALLER());
}
#endif

/* An fd holding a lock is passed on purpose: flock(1) -c hands the locked
 * fd to its command, so a daemon the command leaves behind keeps the lock. */
NL_REAL_DECL(flock);
NL_EXPORT int flock(int fd, int op)
{
	nl_enter();
	/* The kernel answers LOCK_MAND (0, a no-op) and an unknown
	 * operation (EINVAL) before it looks at fd. */
	int cmd = op & ~LOCK_NB;
	if ((cmd == LOCK_SH || cmd == LOCK_EX || cmd == LOCK_UN) &&
	    nl_out_fd_owned(fd))
		return not_open();
	int r = NL_CALL_REAL(flock, (fd, op), (SYS_flock, fd, op));
	if (r == 0 && nl_fd_policy_active()) {
		if (op & LOCK_UN)
			nl_fd_unmark(fd, NL_FD_LOCKED);
		else if (fd > 2)
			nl_fd_mark(fd, NL_FD_LOCKED);
	}
	return r;
}

/* lockf on the log's fd: EBADF for the commands glibc hands to fcntl;
 * another is EINVAL before any look at the fd. */
static int lockf_on_log(int fd, int cmd)
{
	return (cmd == F_ULOCK || cmd == F_LOCK || cmd == F_TLOCK ||
		cmd == F_TEST) && nl_out_fd_owned(fd);
}

static int after_lockf(int r, int fd, int cmd)
{
	if (r == 0 && nl_fd_policy_active() && fd > 2) {
		if (cmd == F_LOCK || cmd == F_TLOCK)
			nl_fd_mark(fd, NL_FD_LOCKED);
	}
	return r;
}

NL_REAL_DECL(lockf);
NL_EXPORT int lockf(int fd, int cmd, off_t len)
{
	nl_enter();
	if (lockf_on_log(fd, cmd))
		return not_open();
	__typeof__(&lockf) real = NL_REAL(lockf);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return after_lockf(real(fd, cmd, len), fd, cmd);
}

NL_REAL_DECL(lockf64);
NL_EXPORT int lockf64(int fd, int cmd, off64_t len)
{
	nl_enter();
	if (lockf_on_log(fd, cmd))
		return not_open();
	__typeof__(&lockf64) real = NL_REAL(lockf64);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return after_lockf(real(fd, cmd, len), fd, cmd);
}

/* --- closing --- */

/* The marks go after the fd does, unless a fork is under way, and only
 * those of the fd closed (core/fdtable.h, nl_fd_closing): taken off
 * before, a fork another thread made in between gave a child with the fd
 * open and unmarked.  The log's fds go before: a number about to be
 * closed or replaced (here and in dup2, dup3) stops being the log's, and
 * no log write is still under way on it, before the real call
 * (log/output.h, nl_out_fd_yield: one load unless the number is at or
 * above the lowest the log ever used).  A number that still holds the
 * log's own file is not the program's to close: EBADF, as without the
 * shim, and the log keeps it (nl_out_fd_program_close).  A number of 0-2
 * may be free from before the call on (nl_fd_stdio_freed). */
NL_REAL_DECL(close);
NL_EXPORT int close(int fd)
{
	nl_enter();
	int gate = nl_out_fd_enter((unsigned)fd, (unsigned)fd);
	if (nl_out_fd_program_close(fd)) {
		nl_out_fd_leave(gate);
		return not_open();
	}
	if (fd <= 2 && fd >= 0) {
		if (fd == 2)
			stderr_changed(1);
		nl_fd_stdio_freed((unsigned)fd, (unsigned)fd);
	}
	struct nl_fd_close c = { 0, 0 };
	if (nl_fd_policy_active())
		c = nl_fd_closing(fd);
	int r = NL_CALL_REAL(close, (fd), (SYS_close, fd));
	nl_out_fd_leave(gate);
	if (__builtin_expect(c.pending, 0))
		nl_fd_close_done(fd, c);
	return r;
}

NL_REAL_DECL(fclose);
NL_EXPORT int fclose(FILE *f)
{
	nl_enter();
	__typeof__(&fclose) real = NL_REAL(fclose);
	if (!real) {
		errno = ENOSYS;
		return EOF;
	}
	/* fileno() sets EBADF for a stream without an fd (fmemopen,
	 * fopencookie), where glibc's fclose() leaves errno alone. */
	int fd = -1;
	if (f) {
		int saved = errno;
		fd = fileno(f);
		nl_errno_restore(saved);
	}
	/* The placing gate (log/output.h) only for the look: the number is
	 * the stream's own until the real call, and that call may wait for
	 * a child (a popen stream). */
	if (fd >= 0) {
		int gate = nl_out_fd_enter((unsigned)fd, (unsigned)fd);
		nl_out_fd_yield((unsigned)fd, (unsigned)fd);
		nl_out_fd_leave(gate);
	}
	if (fd == 2)
		stderr_changed(1);
	if (fd >= 0 && fd <= 2)
		nl_fd_stdio_freed((unsigned)fd, (unsigned)fd);
	struct nl_fd_close c = { 0, 0 };
	if (fd >= 0 && nl_fd_policy_active())
		c = nl_fd_closing(fd);
	int handled;
	int r = nl_proc_stream_close(f, real, &handled);
	if (!handled)
		r = real(f);
	if (c.pending)
		nl_fd_close_done(fd, c);
	return r;
}

NL_REAL_DECL(close_range);
NL_EXPORT int close_range(unsigned int lo, unsigned int hi, int flags)
{
	nl_enter();
	int gate = 0;
	/* Bad flags and lo > hi: EINVAL before anything is closed (an
	 * output's fd among the numbers stays the output's). */
	if ((flags & ~(CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE)) || lo > hi)
		return NL_CALL_REAL(close_range, (lo, hi, flags),
				    (SYS_close_range, lo, hi, flags));
	if (!(flags & CLOSE_RANGE_CLOEXEC)) {
		gate = nl_out_fd_enter(lo, hi);
		nl_out_fd_yield(lo, hi);
		if (lo <= hi)
			nl_fd_stdio_freed(lo, hi);
	}
	int r = NL_CALL_REAL(close_range, (lo, hi, flags),
			     (SYS_close_range, lo, hi, flags));
	nl_out_fd_leave(gate);
	if (r == 0 && lo <= 2 && hi >= 2 && !(flags & CLOSE_RANGE_CLOEXEC))
		stderr_changed(1);
	/* CLOSE_RANGE_UNSHARE where another thread may share the table:
	 * this thread got a table of its own and the call changed only that
	 * one; the shim's describes the one the others still share (a mark
	 * left for a number this thread reuses is checked by identity). */
	int unshared = (flags & CLOSE_RANGE_UNSHARE) && nl_fd_threaded();
	if (r == 0 && !unshared && nl_fd_policy_active())
		nl_fd_range_changed(lo, hi, flags & CLOSE_RANGE_CLOEXEC);
	return r;
}

/* glibc takes a negative lo as 0 (every fd goes, 0-2 too): so does the
 * shim, its bookkeeping and its raw fallback. */
NL_REAL_DECL(closefrom);
NL_EXPORT void closefrom(int lo)
{
	nl_enter();
	unsigned from = lo < 0 ? 0 : (unsigned)lo;
	int gate = nl_out_fd_enter(from, ~0U);
	nl_out_fd_yield(from, ~0U);
	nl_fd_stdio_freed(from, ~0U);
	if (from <= 2)
		stderr_changed(1);
	if (nl_fd_policy_active())
		nl_fd_range_changed(from, ~0U, 0);
	__typeof__(&closefrom) real = NL_REAL(closefrom);
	if (real)
		real(lo);
	else
		syscall(SYS_close_range, from, ~0U, 0);
	nl_out_fd_leave(gate);
}

/* login_tty() makes fd the controlling terminal and stdio, then closes it:
 * inside libc the table never heard of that close, nor the process group
 * of setsid() (pgroup.c).  So it is libc's own steps (glibc's: setsid,
 * whatever it answers; TIOCSCTTY; dup2 onto 0-2 while EBUSY; close above
 * 2; musl's are the same) through the interposers, with the same result
 * and errno. */
NL_EXPORT int login_tty(int fd)
{
	nl_enter();
	setsid();
	if (ioctl(fd, TIOCSCTTY, (char *)NULL) == -1)
		return -1;
	for (int to = 0; to <= 2; to++)
		while (dup2(fd, to) == -1 && errno == EBUSY)
			;
	if (fd > 2)
		close(fd);
	return 0;
}
