/* Paths of a tree as its own programs will see them: the files of
 * noleak enable | disable | status --root DIR.
 *
 * DIR is often an image whose /etc, /usr or /lib is a symbolic link, and
 * an image's absolute link means a path of the image: booted, /etc ->
 * /etc-real is DIR/etc-real.  Read from the host, DIR + "/etc/..." follows
 * the same link out of DIR into the host's /etc, and a change meant for the
 * image lands in every program of the host.  So every path under DIR is
 * resolved by the kernel with DIR as the root (openat2 RESOLVE_IN_ROOT):
 * "..", absolute links and links to links stay inside DIR, as under
 * chroot(DIR).  Files are then read, created, renamed and removed through
 * a descriptor of their directory (openat, renameat, unlinkat): what was
 * resolved is what changes, whatever is swapped in meanwhile.
 *
 * A file that must be named to something else (the test load's LD_PRELOAD,
 * ownership checks, messages) is named by its host path as resolved
 * (inroot_path): inside DIR, no links left.
 *
 * With DIR "/" (the running host) every path is used as given, with the
 * plain calls, as it always was; openat2 is needed only under --root. */
#ifndef NL_TOOL_INROOT_H
#define NL_TOOL_INROOT_H

#include <stddef.h>
#include <sys/types.h>

struct nl_root {
	const char *dir;  /* "/" or the tree */
	int fd;           /* the tree (O_PATH), -1 for "/" */
};

/* The running host: "/" with plain paths. */
extern const struct nl_root nl_root_host;

/* Open the tree `dir` ("/" needs nothing).  0, or -1 with errno (ENOSYS:
 * the kernel has no openat2, Linux < 5.6). */
int inroot_init(struct nl_root *r, const char *dir);
void inroot_fini(struct nl_root *r);

/* open(path, flags | O_CLOEXEC, mode) with path resolved inside the tree;
 * O_NOFOLLOW and O_CREAT apply to the last component as in open(2).
 * -1 with errno. */
int inroot_open(const struct nl_root *r, const char *path, int flags, mode_t mode);

/* The directory that holds the absolute `path`'s last component, opened
 * O_RDONLY | O_DIRECTORY; with `make`, the directories missing on the way
 * are made first (mode 0755 under the caller's umask).  *name is the last
 * component (a pointer into path); `host` (cap bytes) gets the file's host
 * path for messages.  -1 with errno. */
int inroot_parent(const struct nl_root *r, const char *path, int make,
		  const char **name, char *host, size_t cap);

/* The host path of `path` inside the tree, every link followed (the last
 * one too).  Under "/" the path as given.  0, or -errno (-ENOENT: it does
 * not exist in the tree). */
int inroot_path(const struct nl_root *r, const char *path, char *out, size_t cap);

#endif
