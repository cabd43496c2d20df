/* The log file output: one write() per line to a file opened on first use.
 *
 * The fd is the shim's, kept out of the program's way (out_fd.c).  When the
 * destination cannot be written (a read-only or missing directory, a full
 * disk, the program's RLIMIT_FSIZE: no SIGXFSZ, see nl_out_write) the line
 * is dropped and the program runs on; a failed open is tried again at most
 * once a second, so a program that logs a lot does not pay for an open()
 * per event.  A line written in part leaves the next one a newline to
 * write first (`cut`, below).
 *
 * The path may come from whoever starts the program (NOLEAK_LOG), and a
 * set-user-ID program logs as root: the log must never become a way to
 * append to another file.  So the file is opened relative to its directory,
 * never through a symlink, and only where the trust rules of
 * policy/logfile.h allow it (the launcher checks --log against the same
 * code): a regular file, or none (then it is created 0600, O_EXCL), in a
 * directory of root's or the trusted user's that nobody else may write
 * in, or a sticky one when the file is the effective user's with no other
 * link; an existing file must be a log already (empty, or beginning as the
 * shim's lines begin) and on no kernel interface file system: open_in
 * looks at the opened file once (an fstatfs, a pread of its first bytes),
 * never per line.  Any other destination is refused for good: the log is
 * off for the process, and the caller reports it once (event.c, to
 * syslog).
 *
 * Rotation (logrotate's rename-and-create): at most once a second, on the
 * first event after the second is up, the path is looked up (one lstat) and
 * compared with the open file's identity; when it names another file that
 * one is opened, under the rules above, and dup3()ed over the log's fd
 * (out_fd.c, nl_out_fd_replace): a thread writing meanwhile writes to one
 * file or the other, never to a number the program may have reused.  A path found missing twice
 * in a row (the file renamed and nothing created: `nocreate`) is created
 * anew.  Events in between go to the renamed file.  Per event this costs a
 * vDSO clock read, no system call. */
#include <errno.h>
#include <sys/uio.h>
#include <time.h>

#include "common/sys.h"
#include "log/arena.h"
#include "log/output.h"
#include "policy/logfile.h"

#define NL_LOG_FILE_MODE 0600
#define NL_REOPEN_INTERVAL_NS 1000000000LL
#define NL_ROTATE_CHECK_NS 1000000000LL

static struct nl_out_fd *const log_fd = &nl_out_fds[NL_OUT_FILE];
/* Which destination log_fd was opened for (hash of the path), so a new
 * configuration opens the new file. */
static atomic_uint log_key;
/* The last failed open: when, and for which destination. */
static atomic_llong failed_at_ns;
static atomic_uint failed_key;
static atomic_int failed;
/* The destination refused for good (NL_REFUSED_BIT | its key, 0: none),
 * and why. */
#define NL_REFUSED_BIT (1ULL << 32)
static atomic_ullong refused;
static const char *_Atomic refusal = "";
/* The last look at the path for rotation, and whether it was missing. */
static atomic_llong rotate_checked_ns;
static atomic_int rotate_missing;

static unsigned destination_key(const char *path)
{
	unsigned h = 2166136261u;

	for (; *path; path++)
		h = (h ^ (unsigned char)*path) * 16777619u;
	return h;
}

static long long monotonic_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int is_refused(unsigned key)
{
	return atomic_load(&refused) == (NL_REFUSED_BIT | key);
}

static int open_allowed(unsigned key, long long now_ns)
{
	if (is_refused(key))
		return 0;
	return !atomic_load(&failed) || atomic_load(&failed_key) != key ||
	       now_ns - atomic_load(&failed_at_ns) >= NL_REOPEN_INTERVAL_NS;
}

static void note_failure(unsigned key, long long now_ns)
{
	atomic_store(&failed_at_ns, now_ns);
	atomic_store(&failed_key, key);
	atomic_store(&failed, 1);
}

/* Returns NL_OUT_REFUSED to the first caller that refuses `key`, -1 to any
 * other. */
static int refuse(unsigned key, const char *why)
{
	unsigned long long now = NL_REFUSED_BIT | key;

	atomic_store(&refusal, why);
	return atomic_exchange(&refused, now) != now ? NL_OUT_REFUSED : -1;
}

const char *nl_out_file_refusal(void)
{
	return atomic_load(&refusal);
}

/* O_NONBLOCK: a FIFO swapped in at the last moment must not hang open();
 * it changes nothing for a regular file.  Read and write where the file
 * allows it, for a look at its last byte (below); else write only. */
#define NL_LOG_OPEN_FLAGS                                                   \
	(O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW)

/* The file may end in a cut line: a write that found the disk full or the
 * file at the program's size limit wrote part of its line, or the file was
 * found so when opened (another process's cut).  The next line then starts
 * with a newline, after a look at the last byte (a fork child and its
 * parent both inherit the flag; one of them has ended the line already),
 * so that the cut line stands alone and every other line is whole. */
static atomic_int cut;

/* The last byte of the file under fd, of `size` bytes: a newline for an
 * empty one, -1 when it cannot be read (an fd opened write only). */
static int last_byte(int fd, off_t size)
{
	unsigned char last = '\n';

	if (size > 0 && nl_sys_pread(fd, &last, 1, (long long)size - 1) != 1)
		return -1;
	return last;
}

/* Whether the file under fd ends in a cut line now, with the last look's
 * status in *st: a last byte other than a newline (or one that cannot be
 * read) that is no line in progress.  Another writer's line in progress
 * shows too: the kernel grows a file page by page within one O_APPEND
 * write, and a look between two pages finds the size part way through
 * the line (2 looks in 100 with two threads writing 171-byte lines).  A
 * write of no bytes waits for that write to end (it takes the inode's
 * lock, as every write does, and then does nothing: no byte, no time
 * stamp, no signal), so a size still the same after it was no write in
 * progress.  1 or 0. */
__attribute__((noinline))
static int ends_in_cut(int fd, struct stat *st)
{
	off_t size;
	int last;

	if (nl_sys_fstat(fd, st) < 0)
		return 1;
	last = last_byte(fd, size = st->st_size);
	if (last == '\n')
		return 0;
	if (last < 0)
		return 1;
	nl_sys_write(fd, "", 0);
	return nl_sys_fstat(fd, st) < 0 || st->st_size == size;
}

/* open_checked()'s buffers: arena memory, not the stack of whatever
 * emitted the event (log/arena.h). */
struct open_bufs {
	struct nl_logfile_walk walk;   /* the path's walk; its st is scratch */
	struct nl_logfile_look look;   /* the opened file's first bytes */
	int dfd, fd;
	int existing;                  /* open_in's OPENED_* */
};

/* What open_in opened: a file it created, or one that was there, read and
 * write or write only (it may not be read). */
enum { OPENED_NEW, OPENED_RDWR, OPENED_WRONLY };

/* The log file `base` in directory dfd, checked as above but for what it
 * holds (logfile_holds_log, its caller's), `trusted` the trusted user
 * (logfile.h).  Returns the fd, with *opened saying what it is and its
 * status in *stp, or -errno: with *why set when refused, else a failure
 * worth retrying. */
__attribute__((noinline))
static int open_in(int dfd, const char *base, const char **why,
		   struct stat *stp, int *opened, uid_t trusted)
{
#define st (*stp)
	uid_t euid = nl_sys_geteuid();
	int shared, fd, r;

	if ((*why = nl_logfile_name_distrust(base)) != NULL)
		return -EPERM;
	r = nl_sys_fstat(dfd, &st);
	if (r < 0)
		return r;
	if ((*why = nl_logfile_dir_distrust(&st, trusted, &shared)) != NULL)
		return -EPERM;
	/* Twice at most: the file may come or go between the look and the
	 * open; a third change is somebody playing games. */
	for (int tries = 0; tries < 2; tries++) {
		r = nl_sys_fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW);
		if (r == -ENOENT) {
			fd = nl_sys_openat(dfd, base, O_RDWR | NL_LOG_OPEN_FLAGS |
					   O_CREAT | O_EXCL, NL_LOG_FILE_MODE);
			*opened = OPENED_NEW;
			if (fd != -EEXIST)
				return fd;
			continue;
		}
		if (r < 0)
			return r;
		if ((*why = nl_logfile_distrust(&st, euid, shared)) != NULL)
			return -EPERM;
		dev_t dev = st.st_dev;
		ino_t ino = st.st_ino;
		fd = nl_sys_openat(dfd, base, O_RDWR | NL_LOG_OPEN_FLAGS, 0);
		*opened = OPENED_RDWR;
		if (fd == -EACCES) {
			fd = nl_sys_openat(dfd, base, O_WRONLY | NL_LOG_OPEN_FLAGS, 0);
			*opened = OPENED_WRONLY;
		}
		if (fd == -ENOENT)
			continue;
		if (fd == -ELOOP) {
			*why = NL_LOGFILE_WHY("it is a symbolic link");
			return -EPERM;
		}
		if (fd < 0)
			return fd;
		/* What was opened is what was checked, and still fine. */
		r = nl_sys_fstat(fd, &st);
		if (r == 0 && st.st_dev == dev && st.st_ino == ino &&
		    (*why = nl_logfile_distrust(&st, euid, shared)) == NULL)
			return fd;
		nl_sys_close(fd);
		if (r < 0) {
			*why = NULL;
			return r;
		}
		if (*why == NULL)
			*why = NL_LOGFILE_WHY("it was replaced while being opened");
		return -EPERM;
	}
	return -EAGAIN;
#undef st
}

/* Whether the file open_in found there is a log already (logfile.h: its
 * file system, its first bytes): NULL, or why not.  A look once per open,
 * in a frame of its own after open_in's, not under it.  A file that ends
 * in a cut line starts the next line on a line of its own (`cut`). */
__attribute__((noinline))
static const char *logfile_holds_log(struct open_bufs *b)
{
	const struct stat *st = &b->walk.st;
	const char *why = nl_logfile_content_distrust(
		b->fd, b->existing == OPENED_RDWR ? b->fd : -1, st,
		nl_sys_geteuid(), &b->look);

	if (why == NULL) {
		int last = last_byte(b->fd, st->st_size);
		if (last >= 0 && last != '\n' && !atomic_load(&cut))
			atomic_store(&cut, 1);
	}
	return why;
}

/* Open the log file at `path` for `key`: the fd, -1 (a failure, retried
 * later) or NL_OUT_REFUSED (refused for good). */
static int open_checked(const char *path, unsigned key)
{
	size_t mark = nl_arena_enter();
	struct open_bufs *b = nl_arena_get(sizeof *b);

	if (!b) {
		nl_arena_leave(mark);
		return -1;
	}
	b->dfd = nl_logfile_open_parent(path, &b->walk);
	b->fd = b->dfd < 0 ? -1 : open_in(b->dfd, b->walk.base, &b->walk.why,
					  &b->walk.st, &b->existing,
					  nl_logfile_trusted_uid());
	if (b->dfd >= 0)
		nl_sys_close(b->dfd);
	if (b->fd >= 0 && b->existing != OPENED_NEW &&
	    (b->walk.why = logfile_holds_log(b)) != NULL) {
		nl_sys_close(b->fd);
		b->fd = -1;
	}
	int fd = b->walk.why != NULL ? refuse(key, b->walk.why)
				     : b->fd < 0 ? -1 : b->fd;
	nl_arena_leave(mark);
	return fd;
}

/* Whether the path now names another file than the one open (logrotate
 * renamed it), looked at by one thread at most once a second.  A path
 * found missing counts the second time in a row (`nocreate`: nothing will
 * create it but us). */
__attribute__((noinline))
static int rotated(const char *path)
{
	long long now = monotonic_ns();
	long long last = atomic_load_explicit(&rotate_checked_ns,
					      memory_order_relaxed);

	if (now - last < NL_ROTATE_CHECK_NS)
		return 0;
	/* A child sharing our memory looks without a word to its parent's
	 * state: the look stays due for the parent. */
	int foreign = nl_out_fd_foreign();
	if (!foreign &&
	    !atomic_compare_exchange_strong(&rotate_checked_ns, &last, now))
		return 0;
	/* The struct stat in arena memory, off the caller's stack. */
	size_t mark = nl_arena_enter();
	struct stat *st = nl_arena_get(sizeof *st);
	int r = st ? nl_sys_lstat(path, st) : -ENOMEM, moved = 0;
	if (r == -ENOENT)
		moved = foreign ? atomic_load(&rotate_missing)
				: atomic_exchange(&rotate_missing, 1);
	else if (r == 0) {
		if (!foreign)
			atomic_store(&rotate_missing, 0);
		moved = (unsigned long long)st->st_dev != atomic_load(&log_fd->dev) ||
			(unsigned long long)st->st_ino != atomic_load(&log_fd->ino);
	}
	nl_arena_leave(mark);
	return moved;
}

/* Called with log_fd->busy held.  `rotate`: the path names another file
 * than the open one, which is then replaced under the same number (a
 * thread writing meanwhile writes to one file or the other, never to a
 * number that is not the shim's).  *once: the file opened when no number
 * at 100 or above is free (out_fd.c), for this line only, else -1. */
static int open_locked(const char *path, unsigned key, int rotate, int *once)
{
	long long now_ns;
	int fd = nl_out_fd_get(log_fd), nfd;

	if (fd >= 0 && atomic_load(&log_key) == key && !rotate)
		return fd;                  /* another thread just opened it */
	if (fd >= 0 && !rotate) {
		nl_out_fd_close(log_fd);   /* configured for another file */
		fd = -1;
	}
	now_ns = monotonic_ns();
	if (!open_allowed(key, now_ns))
		return fd >= 0 && rotate ? fd : -1;
	nfd = open_checked(path, key);
	if (nfd == NL_OUT_REFUSED) {
		nl_out_fd_close(log_fd);
		return nfd;
	}
	/* The key goes first: whoever sees the new fd sees its key. */
	atomic_store(&log_key, key);
	if (nfd >= 0) {
		int r = fd >= 0 ? nl_out_fd_replace(log_fd, nfd) : NL_OUT_FD_TAKEN;
		int left = nfd;
		nfd = r == NL_OUT_FD_TAKEN ? nl_out_fd_adopt(log_fd, nfd) : r;
		if (nfd == NL_OUT_FD_LOW) {
			*once = left;
			atomic_store(&failed, 0);
			return -1;
		}
	}
	if (nfd < 0)
		note_failure(key, now_ns);
	else
		atomic_store(&failed, 0);
	return nfd >= 0 ? nfd : fd;
}

/* Another thread is opening the log right now: rather than wait for it,
 * write this one line through an fd of our own (a transient slot, closed
 * right after; when every slot is taken, a bounded wait for one, then
 * NL_OUT_BUSY). */
static struct nl_out_fd *open_transient(const char *path, unsigned key,
					int *fd)
{
	*fd = -1;
	if (!open_allowed(key, monotonic_ns()))
		return NULL;
	*fd = open_checked(path, key);
	return *fd < 0 ? NULL : nl_out_fd_transient(*fd, fd);
}

/* The output to write to and its fd in *fd (-1: none, NL_OUT_REFUSED or
 * NL_OUT_BUSY):
 * log_fd, or a transient slot to give back after the write. */
static struct nl_out_fd *log_fd_for(const char *path, int *fd)
{
	unsigned key = destination_key(path);
	int rotate = 0, foreign;

	*fd = nl_out_fd_get(log_fd);
	if (*fd >= 0 && atomic_load(&log_key) == key && !(rotate = rotated(path)))
		return log_fd;
	/* A child sharing our memory never changes the output's fd. */
	if ((foreign = nl_out_fd_foreign()) ||
	    atomic_exchange(&log_fd->busy, 1)) {
		if (foreign || !rotate)
			return open_transient(path, key, fd);
		/* The file in hand is still ours: look again next time. */
		atomic_store(&rotate_checked_ns, 0);
		return log_fd;
	}
	int once = -1;
	*fd = open_locked(path, key, rotate, &once);
	atomic_store(&log_fd->busy, 0);
	return once >= 0 ? nl_out_fd_transient(once, fd) : log_fd;
}

/* One line, after a newline when the file ends in a cut line: the line's
 * bytes written (a short count when cut), or -errno. */
__attribute__((noinline))
static ssize_t write_line(int fd, const char *line, size_t len)
{
	struct iovec iov[2] = { { (void *)"\n", 1 }, { (void *)line, len } };
	int start = 1;
	ssize_t n;

	if (atomic_load(&cut) && atomic_exchange(&cut, 0)) {
		size_t mark = nl_arena_enter();
		struct stat *st = nl_arena_get(sizeof *st);
		if (!st || ends_in_cut(fd, st))
			start = 0;
		nl_arena_leave(mark);
	}
	n = nl_out_write(fd, iov + start, 2 - start);
	/* Part of it written, or the newline owed still: owed next time. */
	if (n != (ssize_t)(len + 1 - (size_t)start) && (n > 0 || !start))
		atomic_store(&cut, 1);
	return n > 0 && !start ? n - 1 : n;
}

int nl_out_file_write(const char *path, const char *line, size_t len)
{
	ssize_t n = -1;
	int fd, held;
	struct nl_out_fd *o;

	if (!path || !path[0])
		return -1;
	o = log_fd_for(path, &fd);
	if (fd < 0)
		return fd == NL_OUT_REFUSED || fd == NL_OUT_BUSY ? fd : -1;
	/* Held from this last look at the number to the end of the write
	 * (output.h). */
	held = nl_out_fd_hold(o, fd);
	if (held >= 0) {
		n = write_line(fd, line, len);
		nl_out_fd_release(o, held);
	}
	if (o != log_fd)
		nl_out_fd_transient_done(o);
	return n == (ssize_t)len ? (int)n : -1;
}

void nl_out_after_fork(void)
{
	nl_out_fd_after_fork();
	nl_out_stderr_child(0, 0);   /* a fork child is no shared child */
}
