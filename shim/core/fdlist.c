/* Listing /proc directories, and the open fds: cost follows the number of
 * entries or the fd table's size, never the RLIMIT_NOFILE limit (which may
 * be a million). */
#include "core/fdlist.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <sys/select.h>

#include "log/arena.h"
#include "common/sys.h"

static int parse_number(const char *name)
{
	int n = 0;
	if (*name < '0' || *name > '9')
		return -1;
	for (; *name >= '0' && *name <= '9'; name++)
		n = n * 10 + (*name - '0');
	return *name ? -1 : n;
}

int nl_numdir_open(struct nl_numdir *d, const char *path, int skip_own)
{
	d->fd = nl_sys_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
			      0);
	d->skip = skip_own ? d->fd : -1;
	d->n = d->off = 0;
	return d->fd < 0 ? d->fd : 0;
}

/* The next numbered entry of directory fd, read in batches into buf
 * (*n bytes of it filled, *off consumed), or -1 at the end.  Inlined: a
 * call would grow for_each's frame, which nested scans pay twice. */
static inline __attribute__((always_inline)) int
next_number(int fd, int skip, char *buf, size_t cap, long *n, long *off)
{
	for (;;) {
		if (*off >= *n) {
			*n = nl_sys_getdents64(fd, buf, cap);
			*off = 0;
			if (*n <= 0)
				return -1;
		}
		struct dirent64 *e = (struct dirent64 *)(buf + *off);
		*off += e->d_reclen;
		int num = parse_number(e->d_name);
		if (num >= 0 && num != skip)
			return num;
	}
}

int nl_numdir_next(struct nl_numdir *d)
{
	return next_number(d->fd, d->skip, d->buf, sizeof d->buf, &d->n,
			   &d->off);
}

void nl_numdir_close(struct nl_numdir *d)
{
	nl_sys_close(d->fd);
	d->fd = -1;
}

static int for_each_probed(void (*fn)(int fd, void *ctx), void *ctx);

/* own_fds: path is /proc/self/fd, skip the fd that lists it, and without
 * /proc ask the kernel instead (a tail call: the callbacks run above one
 * body's frame or the other's). */
__attribute__((noinline)) static int
for_each(const char *path, int own_fds, void (*fn)(int n, void *ctx),
	 void *ctx)
{
	/* The listing lives in arena memory: callbacks list /proc/PID/fd
	 * while /proc is being listed, on whatever stack the caller has. */
	size_t mark = nl_arena_enter();
	struct nl_numdir *d = nl_arena_get(sizeof *d);
	int r = d ? nl_numdir_open(d, path, own_fds) : -1;
	if (r == 0) {
		for (int num; (num = nl_numdir_next(d)) >= 0;)
			fn(num, ctx);
		nl_numdir_close(d);
	}
	nl_arena_leave(mark);
	if (r != 0 && own_fds)
		return for_each_probed(fn, ctx);
	return r ? -1 : 0;
}

int nl_for_each_number(const char *dir, void (*fn)(int n, void *ctx),
		       void *ctx)
{
	return for_each(dir, 0, fn, ctx);
}

/* --- open fds without /proc --- */

int nl_fd_table_past(int n, unsigned long *bits)
{
	const int per = 8 * sizeof(long);
	for (int w = 0; w <= n / per; w++)
		bits[w] = 0;
	bits[n / per] = 1UL << (n % per);
	struct timeval now = { 0, 0 };
	int r = nl_sys_select(n + 1, (fd_set *)bits, NULL, NULL, &now);
	return r == 0 ? 0 : r == -EBADF ? 1 : r > 0 ? 2 : -1;
}

/* Within the arena: 8 KiB of bits, tables of up to 64 Ki fds.  The walk's
 * state lives here too, so that the frame the callbacks run above is
 * small. */
#define PROBE_TABLE_MAX (64 * 1024)
#define PROBE_CHUNK 64
struct probe {
	struct pollfd p[PROBE_CHUNK];
	unsigned long bits[PROBE_TABLE_MAX / (8 * sizeof(long)) + 1];
	void (*fn)(int fd, void *ctx);
	void *ctx;
	int base, end;
};

/* A number no open fd reaches (the table's size, 64 at least), or -1.
 * Whether `end` itself is open is asked with fcntl(), which sees every
 * open fd; poll() calls an O_PATH fd closed. */
__attribute__((noinline)) static int table_end(struct probe *m)
{
	for (int end = 64; end <= PROBE_TABLE_MAX; end *= 2) {
		if (nl_sys_fcntl(end, F_GETFD, 0) >= 0)
			continue;   /* end is open: the table is larger */
		int past = nl_fd_table_past(end, m->bits);
		if (past == 0)
			return end;
		if (past < 0)
			return -1;
	}
	return -1;
}

/* Asks about the numbers of the next chunk with one poll() that waits for
 * nothing; returns how many.  POLLNVAL is a closed fd or an O_PATH one,
 * which poll() does not look at: those numbers are asked again with
 * fcntl(), and so are all of a chunk whose poll fails. */
__attribute__((noinline)) static int probe_chunk(struct probe *m)
{
	int n = m->end - m->base < PROBE_CHUNK ? m->end - m->base : PROBE_CHUNK;
	for (int i = 0; i < n; i++)
		m->p[i] = (struct pollfd){ .fd = m->base + i };
	int polled = nl_sys_poll(m->p, (nfds_t)n, 0) >= 0;
	for (int i = 0; i < n; i++)
		if (!polled || (m->p[i].revents & POLLNVAL))
			m->p[i].revents = nl_sys_fcntl(m->base + i, F_GETFD, 0) >= 0
						  ? 0 : POLLNVAL;
	return n;
}

/* Without /proc (a chroot, a sandbox): slower, as closed numbers below the
 * table's end cost a system call each, but as exact. */
__attribute__((noinline)) static int
for_each_probed(void (*fn)(int fd, void *ctx), void *ctx)
{
	size_t mark = nl_arena_enter();
	struct probe *m = nl_arena_get(sizeof *m);
	int r = m && (m->end = table_end(m)) >= 0 ? 0 : -1;
	if (r == 0) {
		m->fn = fn;
		m->ctx = ctx;
		for (m->base = 0; m->base < m->end; m->base += PROBE_CHUNK) {
			int n = probe_chunk(m);
			for (int i = 0; i < n; i++)
				if (!(m->p[i].revents & POLLNVAL))
					m->fn(m->base + i, m->ctx);
		}
	}
	nl_arena_leave(mark);
	return r;
}

int nl_for_each_open_fd(void (*fn)(int fd, void *ctx), void *ctx)
{
	return for_each("/proc/self/fd", 1, fn, ctx);
}
