/* Paths resolved inside a tree, as under chroot (see inroot.h). */
#include "inroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

const struct nl_root nl_root_host = { "/", -1 };

/* The kernel retries a resolution that a concurrent rename disturbed only
 * so often (EAGAIN); so do we, a few times. */
#define RESOLVE_TRIES 8

static int in_tree(const struct nl_root *r)
{
	return r->fd >= 0;
}

static int openat2_in(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.mode = flags & (O_CREAT | O_TMPFILE) ? mode : 0,
		/* Magic links (/proc/self/fd/N) lead anywhere: none in an
		 * image's paths. */
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	for (int i = 0;; i++) {
		long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
		if (fd >= 0 || errno != EAGAIN || i + 1 == RESOLVE_TRIES)
			return (int)fd;
	}
}

int inroot_init(struct nl_root *r, const char *dir)
{
	*r = nl_root_host;
	r->dir = dir;
	if (!strcmp(dir, "/"))
		return 0;
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int probe = openat2_in(fd, "/", O_PATH | O_DIRECTORY, 0);
	if (probe < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(probe);
	r->fd = fd;
	return 0;
}

void inroot_fini(struct nl_root *r)
{
	if (in_tree(r))
		close(r->fd);
	r->fd = -1;
}

int inroot_open(const struct nl_root *r, const char *path, int flags, mode_t mode)
{
	if (!in_tree(r))
		return open(path, flags | O_CLOEXEC, mode);
	return openat2_in(r->fd, path, flags, mode);
}

/* The host path of an open fd, through /proc. */
static int fd_path(int fd, char *out, size_t cap)
{
	char link[32];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, out, cap);
	if (n < 0)
		return -errno;
	if ((size_t)n >= cap)
		return -ENAMETOOLONG;
	out[n] = 0;
	return 0;
}

/* mkdir -p of the absolute `dir`, each step resolved inside the tree. */
static int make_dirs(const struct nl_root *r, const char *dir)
{
	char buf[PATH_MAX];
	if ((size_t)snprintf(buf, sizeof buf, "%s", dir) >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *end = buf + 1;; end++) {
		if (*end && *end != '/')
			continue;
		char c = *end;
		*end = 0;
		int fd = inroot_open(r, buf, O_PATH | O_DIRECTORY, 0);
		if (fd < 0 && errno == ENOENT) {
			/* Made in its parent, found just before: a link in
			 * the tree is never followed out by mkdir. */
			char *slash = strrchr(buf, '/');
			*slash = 0;
			int parent = inroot_open(r, slash == buf ? "/" : buf,
						 O_PATH | O_DIRECTORY, 0);
			*slash = '/';
			if (parent < 0)
				return -1;
			int made = mkdirat(parent, slash + 1, 0755);
			int e = errno;
			close(parent);
			if (made < 0 && e != EEXIST) {
				errno = e;
				return -1;
			}
			fd = inroot_open(r, buf, O_PATH | O_DIRECTORY, 0);
		}
		if (fd < 0)
			return -1;
		close(fd);
		*end = c;
		if (!c)
			return 0;
	}
}

int inroot_parent(const struct nl_root *r, const char *path, int make,
		  const char **name, char *host, size_t cap)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash || !slash[1] || (size_t)(slash - path) >= sizeof dir) {
		errno = EINVAL;
		return -1;
	}
	snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
	*name = slash + 1;
	if (make && make_dirs(r, dir) < 0)
		return -1;
	int fd = inroot_open(r, dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return -1;
	int err = 0;
	if (!in_tree(r)) {
		if ((size_t)snprintf(host, cap, "%s", path) >= cap)
			err = -ENAMETOOLONG;
	} else if (!(err = fd_path(fd, host, cap))) {
		size_t n = strlen(host);
		if ((size_t)snprintf(host + n, cap - n, "%s%s", n > 1 ? "/" : "",
				     *name) >= cap - n)
			err = -ENAMETOOLONG;
	}
	if (err) {
		close(fd);
		errno = -err;
		return -1;
	}
	return fd;
}

int inroot_path(const struct nl_root *r, const char *path, char *out, size_t cap)
{
	if (!in_tree(r))
		return (size_t)snprintf(out, cap, "%s", path) >= cap ? -ENAMETOOLONG : 0;
	int fd = inroot_open(r, path, O_PATH, 0);
	if (fd < 0)
		return -errno;
	int err = fd_path(fd, out, cap);
	close(fd);
	return err;
}
