/* Listing /proc directories: cost follows the number of entries, never the
 * RLIMIT_NOFILE limit (which may be a million). */
#include "core/fdlist.h"

#include <dirent.h>

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

static int for_each(const char *path, int skip_own,
		    void (*fn)(int n, void *ctx), void *ctx)
{
	int dir = nl_sys_openat(AT_FDCWD, path,
				O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dir < 0)
		return -1;
	char buf[4096] __attribute__((aligned(8)));
	long n;
	while ((n = nl_sys_getdents64(dir, buf, sizeof buf)) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			int num = parse_number(d->d_name);
			if (num >= 0 && !(skip_own && num == dir))
				fn(num, ctx);
		}
	}
	nl_sys_close(dir);
	return 0;
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
