/* The outputs' own fds: placed where the program does not look, and dropped
 * (never closed) once the program takes the number over.
 *
 * Programs assume the fds they did not open are free: a daemon closes
 * 0..1023 at start, a shell dup2()s onto 3..9, a server expects its first
 * socket() to return 3.  So the log fd lives at 100 or above, and before each
 * use its identity is checked again: a number the program closed or replaced
 * belongs to the program. */
#include "log/arena.h"
#include "common/sys.h"
#include "log/output.h"

#define NL_OUT_FD_FLOOR 100
/* Slots tried below RLIMIT_NOFILE when 100 and above are not available. */
#define NL_OUT_FD_TOP_TRIES 16

/* fstat into arena memory (struct stat is 144 bytes, and this runs on
 * whatever stack emitted the event): 1 same file, 0 another, -1 unknown. */
static int same_identity(const struct nl_out_fd *o, int fd)
{
	size_t mark = nl_arena_enter();
	struct stat *st = nl_arena_get(sizeof *st);
	int r = -1;

	if (st && nl_sys_fstat(fd, st) == 0)
		r = (unsigned long long)st->st_dev == atomic_load(&o->dev) &&
		    (unsigned long long)st->st_ino == atomic_load(&o->ino);
	else if (st)
		r = 0;
	nl_arena_leave(mark);
	return r;
}

int nl_out_fd_get(struct nl_out_fd *o)
{
	int fd = atomic_load_explicit(&o->fd, memory_order_acquire);
	int same;

	if (fd < 0)
		return -1;
	same = same_identity(o, fd);
	if (same)
		return same > 0 ? fd : -1;   /* unknown: not used this time */
	/* Someone else's file now: forget it, unless another thread already
	 * replaced it with a fresh one, or is replacing the file under the
	 * number right now (nl_out_fd_replace, with the flag held). */
	if (atomic_flag_test_and_set(&o->busy))
		return -1;
	atomic_compare_exchange_strong(&o->fd, &fd, -1);
	atomic_flag_clear(&o->busy);
	return -1;
}

/* The highest free slot below the fd limit, for a process whose limit is
 * at or below 100.  F_DUPFD_CLOEXEC only searches upwards, so try a few
 * starting points going down. */
static int dup_near_limit(int fd)
{
	struct rlimit rl;
	long top;

	if (nl_sys_prlimit(RLIMIT_NOFILE, NULL, &rl) < 0)
		return -1;
	top = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576
		      ? 1048576 : (long)rl.rlim_cur;
	for (long slot = top - 1;
	     slot > 2 && slot >= top - NL_OUT_FD_TOP_TRIES; slot--) {
		int nfd = nl_sys_fcntl(fd, F_DUPFD_CLOEXEC, slot);
		if (nfd >= 0)
			return nfd;
	}
	return -1;
}

int nl_out_fd_place(int fd)
{
	int nfd;

	if (fd >= NL_OUT_FD_FLOOR)
		return fd;
	nfd = nl_sys_fcntl(fd, F_DUPFD_CLOEXEC, NL_OUT_FD_FLOOR);
	if (nfd < 0)
		nfd = dup_near_limit(fd);
	if (nfd < 0 && fd > 2)
		return fd;       /* no better place, but at least not stdio */
	if (nfd < 0)
		nfd = nl_sys_fcntl(fd, F_DUPFD_CLOEXEC, 3);
	nl_sys_close(fd);
	return nfd < 0 ? -1 : nfd;
}

int nl_out_fd_adopt(struct nl_out_fd *o, int fd)
{
	size_t mark = nl_arena_enter();
	struct stat *st = nl_arena_get(sizeof *st);

	fd = st ? nl_out_fd_place(fd) : (nl_sys_close(fd), -1);
	if (fd >= 0 && nl_sys_fstat(fd, st) < 0) {
		nl_sys_close(fd);
		fd = -1;
	}
	if (fd >= 0) {
		/* Identity first, number last: a reader that sees the number
		 * sees the identity that goes with it. */
		atomic_store(&o->dev, (unsigned long long)st->st_dev);
		atomic_store(&o->ino, (unsigned long long)st->st_ino);
		atomic_store_explicit(&o->fd, fd, memory_order_release);
	}
	nl_arena_leave(mark);
	return fd;
}

int nl_out_fd_replace(struct nl_out_fd *o, int nfd)
{
	int fd = atomic_load(&o->fd);
	size_t mark = nl_arena_enter();
	struct stat *st = nl_arena_get(sizeof *st);

	if (!st || nl_sys_fstat(nfd, st) < 0) {
		nl_sys_close(nfd);
		nl_arena_leave(mark);
		return -1;
	}
	/* Identity first: a reader between the two steps sees a mismatch,
	 * finds the flag held and skips one line. */
	atomic_store(&o->dev, (unsigned long long)st->st_dev);
	atomic_store(&o->ino, (unsigned long long)st->st_ino);
	nl_arena_leave(mark);
	if (nl_sys_dup3(nfd, fd, O_CLOEXEC) < 0) {
		atomic_store(&o->fd, -1);    /* neither file is known now */
		fd = -1;
	}
	nl_sys_close(nfd);
	return fd;
}

void nl_out_fd_close(struct nl_out_fd *o)
{
	int fd = nl_out_fd_get(o);

	if (fd < 0)
		return;
	atomic_store(&o->fd, -1);
	nl_sys_close(fd);
}

void nl_out_fd_after_fork(struct nl_out_fd *o)
{
	atomic_flag_clear(&o->busy);
}
