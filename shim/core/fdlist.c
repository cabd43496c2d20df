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

int nl_numdir_next(struct nl_numdir *d)
{
	for (;;) {
		if (d->off >= d->n) {
			d->n = nl_sys_getdents64(d->fd, d->buf, sizeof d->buf);
			d->off = 0;
			if (d->n <= 0)
				return -1;
		}
		struct dirent64 *e = (struct dirent64 *)(d->buf + d->off);
		d->off += e->d_reclen;
		int num = parse_number(e->d_name);
		if (num >= 0 && num != d->skip)
			return num;
	}
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
