/* Listing numbered entries of /proc directories (fds, tasks, pids), and
 * the open fds, without allocating. */
#ifndef NL_FDLIST_H
#define NL_FDLIST_H

/* Call fn(n, ctx) for every entry of `dir` whose name is a number, read
 * with raw getdents64.  Returns 0, or -1 when dir cannot be read. */
int nl_for_each_number(const char *dir, void (*fn)(int n, void *ctx),
		       void *ctx);

/* The same for /proc/self/fd: every open fd (not the one used to list).
 * Without /proc, every number below the fd table's size (found with
 * nl_fd_table_past() by doubling from 64, up to 64 Ki) is asked about:
 * with poll(), and a number it calls closed with fcntl() (poll() does not
 * look at O_PATH fds).  fn may be called for a number that is closed by
 * then: it asks the fd itself.  Returns 0, or -1 when the fds could not be
 * listed. */
int nl_for_each_open_fd(void (*fn)(int fd, void *ctx), void *ctx);

/* Whether the fd table reaches past n: select() looks only at the numbers
 * within the table, and fails with EBADF for a closed one there; the
 * kernel sizes a table to a power of two, 64 at least.  1 when it does (n
 * is closed), 0 when it does not (no fd above n is open), 2 when n is open
 * (an O_PATH fd, which poll() calls closed; kernels before 5.17 answer 0
 * for it), -1 when the call fails otherwise (a seccomp filter, an emulated
 * kernel).  bits: room for n + 1 bits. */
int nl_fd_table_past(int n, unsigned long *bits);

/* The same as an iteration, for scans that nest (culprit.c): no frame per
 * level.  The caller gives the memory (arena memory: it is big). */
struct nl_numdir {
	int fd, skip;
	long n, off;
	char buf[4096] __attribute__((aligned(8)));
};
/* 0, or -errno when the directory cannot be opened (ENOENT: the process
 * is gone; EACCES: it is not ours to look at). */
int nl_numdir_open(struct nl_numdir *d, const char *path, int skip_own);
/* The next numbered entry, or -1 at the end. */
int nl_numdir_next(struct nl_numdir *d);
void nl_numdir_close(struct nl_numdir *d);

#endif
