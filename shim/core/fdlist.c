/* Listing /proc directories: cost follows the number of entries, never the
 * RLIMIT_NOFILE limit (which may be a million). */
#include "core/fdlist.h"

#include <dirent.h>

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
	return d->fd < 0 ? -1 : 0;
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

static int for_each(const char *path, int skip_own,
		    void (*fn)(int n, void *ctx), void *ctx)
{
	/* The listing lives in arena memory: callbacks list /proc/PID/fd
	 * while /proc is being listed, on whatever stack the caller has. */
	size_t mark = nl_arena_enter();
	struct nl_numdir *d = nl_arena_get(sizeof *d);
	int r = d ? nl_numdir_open(d, path, skip_own) : -1;
	if (r == 0) {
		for (int num; (num = nl_numdir_next(d)) >= 0;)
			fn(num, ctx);
		nl_numdir_close(d);
	}
	nl_arena_leave(mark);
	return r;
}

int nl_for_each_number(const char *dir, void (*fn)(int n, void *ctx),
		       void *ctx)
{
	return for_each(dir, 0, fn, ctx);
}

int nl_for_each_open_fd(void (*fn)(int fd, void *ctx), void *ctx)
{
	return for_each("/proc/self/fd", 1, fn, ctx);
}

int nl_for_each_open_fd_light(void (*fn)(int fd, void *ctx), void *ctx)
{
	char buf[512] __attribute__((aligned(8)));
	long n = 0, off = 0;
	int fd = nl_sys_openat(AT_FDCWD, "/proc/self/fd",
			       O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int num;
	while ((num = next_number(fd, fd, buf, sizeof buf, &n, &off)) >= 0)
		fn(num, ctx);
	nl_sys_close(fd);
	return 0;
}
