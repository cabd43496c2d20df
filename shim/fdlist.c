/* Listing open fds: cost follows the number of open fds, never the
 * RLIMIT_NOFILE limit (which may be a million). */
#include "fdlist.h"

#include <dirent.h>

#include "sys.h"

static int parse_fd(const char *name)
{
	int fd = 0;
	if (*name < '0' || *name > '9')
		return -1;
	for (; *name >= '0' && *name <= '9'; name++)
		fd = fd * 10 + (*name - '0');
	return *name ? -1 : fd;
}

int nl_for_each_open_fd(void (*fn)(int fd, void *ctx), void *ctx)
{
	int dir = nl_sys_openat(AT_FDCWD, "/proc/self/fd",
				O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dir < 0)
		return -1;
	char buf[4096] __attribute__((aligned(8)));
	long n;
	while ((n = nl_sys_getdents64(dir, buf, sizeof buf)) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			int fd = parse_fd(d->d_name);
			if (fd >= 0 && fd != dir)
				fn(fd, ctx);
		}
	}
	nl_sys_close(dir);
	return 0;
}
