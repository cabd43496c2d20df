/* The log file output: one write() per line to a file opened on first use.
 *
 * The fd is the shim's, kept out of the program's way (out_fd.c).  When the
 * destination cannot be written (a directory, a read-only or missing
 * directory, a full disk) the line is dropped and the program runs on; a
 * failed open is tried again at most once a second, so a program that logs
 * a lot does not pay for an open() per event. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/sys.h"
#include "log/output.h"

#define NL_LOG_FILE_MODE 0644
#define NL_REOPEN_INTERVAL_NS 1000000000LL

static struct nl_out_fd log_fd = NL_OUT_FD_INIT;
/* Which destination log_fd was opened for (hash of path and nofollow), so
 * a new configuration opens the new file. */
static atomic_uint log_key;
/* The last failed open: when, and for which destination. */
static atomic_llong failed_at_ns;
static atomic_uint failed_key;
static atomic_int failed;

static unsigned destination_key(const char *path, int nofollow)
{
	unsigned h = 2166136261u;

	for (; *path; path++)
		h = (h ^ (unsigned char)*path) * 16777619u;
	return (h ^ (nofollow ? 1u : 0u)) * 16777619u;
}

static long long monotonic_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int open_allowed(unsigned key, long long now_ns)
{
	return !atomic_load(&failed) || atomic_load(&failed_key) != key ||
	       now_ns - atomic_load(&failed_at_ns) >= NL_REOPEN_INTERVAL_NS;
}

static void note_failure(unsigned key, long long now_ns)
{
	atomic_store(&failed_at_ns, now_ns);
	atomic_store(&failed_key, key);
	atomic_store(&failed, 1);
}

static int open_flags(int nofollow)
{
	/* O_NONBLOCK: a FIFO with no reader must not hang the program; it
	 * changes nothing for a regular file. */
	return O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY |
	       O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0);
}

/* Called with log_fd.busy held. */
static int open_locked(const char *path, int nofollow, unsigned key)
{
	long long now_ns;
	int fd = nl_out_fd_get(&log_fd);

	if (fd >= 0 && atomic_load(&log_key) == key)
		return fd;                  /* another thread just opened it */
	if (fd >= 0)
		nl_out_fd_close(&log_fd);   /* configured for another file */
	now_ns = monotonic_ns();
	if (!open_allowed(key, now_ns))
		return -1;
	fd = nl_sys_openat(AT_FDCWD, path, open_flags(nofollow),
			   NL_LOG_FILE_MODE);
	/* The key goes first: whoever sees the new fd sees its key. */
	atomic_store(&log_key, key);
	if (fd >= 0)
		fd = nl_out_fd_adopt(&log_fd, fd);
	if (fd < 0)
		note_failure(key, now_ns);
	else
		atomic_store(&failed, 0);
	return fd;
}

/* Another thread is opening the log right now: rather than wait for it,
 * write this one line through an fd of our own, closed right after. */
static int open_transient(const char *path, int nofollow, unsigned key)
{
	int fd;

	if (!open_allowed(key, monotonic_ns()))
		return -1;
	fd = nl_sys_openat(AT_FDCWD, path, open_flags(nofollow),
			   NL_LOG_FILE_MODE);
	return fd < 0 ? -1 : nl_out_fd_place(fd);
}

/* The fd to write to; *transient says it must be closed after the write. */
static int log_fd_for(const char *path, int nofollow, int *transient)
{
	unsigned key = destination_key(path, nofollow);
	int fd = nl_out_fd_get(&log_fd);

	*transient = 0;
	if (fd >= 0 && atomic_load(&log_key) == key)
		return fd;
	if (atomic_flag_test_and_set(&log_fd.busy)) {
		*transient = 1;
		return open_transient(path, nofollow, key);
	}
	fd = open_locked(path, nofollow, key);
	atomic_flag_clear(&log_fd.busy);
	return fd;
}

int nl_out_file_write(const char *path, int nofollow, const char *line,
		      size_t len)
{
	ssize_t n;
	int fd, transient;

	if (!path || !path[0])
		return -1;
	fd = log_fd_for(path, nofollow, &transient);
	if (fd < 0)
		return -1;
	do
		n = nl_sys_write(fd, line, len);
	while (n == -EINTR);
	if (transient)
		nl_sys_close(fd);
	return n == (ssize_t)len ? (int)n : -1;
}

void nl_out_after_fork(void)
{
	nl_out_fd_after_fork(&log_fd);
	nl_out_syslog_after_fork();
}
