/* The new mount API's calls that create fds: open_tree, fsopen, fsmount,
 * fspick.  Like the other creating calls (interpose/fdcreate.c), each adds
 * its own close-on-exec flag when new fds get it, so that the kernel sets
 * it atomically, and records the fd it got.  The flag is one each call
 * always accepts, so adding it changes no result and no errno: an
 * unprivileged caller gets EPERM, bad flags EINVAL, as without the shim.
 *
 * glibc's functions are each the bare system call (no libc state, no
 * cancellation point), so the interposers make the system call themselves
 * (the shim's syscall(): errno as glibc's) and look no real symbol up: no
 * dlsym in any child, and no slot in the section of real symbols, whose
 * growth moves the .bss behind it (nl_proc) and with it the policy's
 * start-up writes onto another page: one page fault more per process.
 *
 * Only where libc exports them (NL_MOUNT_API, common/target.h: glibc 2.36
 * on; musl has none).  move_mount and mount_setattr make no fd. */
#include "common/target.h"

#ifdef NL_MOUNT_API
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"
#include "interpose/newfd.h"

/* open_tree: an O_PATH-like fd of a path, or with OPEN_TREE_CLONE of a
 * detached copy of its mount tree. */
NL_EXPORT int open_tree(int dirfd, const char *path, unsigned int flags)
{
	nl_enter();
	int added;
	unsigned fl = (unsigned)nl_cloexec_flag((int)flags, OPEN_TREE_CLOEXEC,
						&added);
	int fd = (int)syscall(SYS_open_tree, dirfd, path, fl);
	return nl_new_fd(fd, NL_CALL_OPEN_TREE, NL_CALLER(), added);
}

/* fsopen: a filesystem context, to be configured with fsconfig(). */
NL_EXPORT int fsopen(const char *fsname, unsigned int flags)
{
	nl_enter();
	int added;
	unsigned fl = (unsigned)nl_cloexec_flag((int)flags, FSOPEN_CLOEXEC,
						&added);
	int fd = (int)syscall(SYS_fsopen, fsname, fl);
	return nl_new_fd(fd, NL_CALL_FSOPEN, NL_CALLER(), added);
}

/* fsmount: a detached mount of a created context; attr_flags (MOUNT_ATTR_*)
 * are the mount's, not the fd's. */
NL_EXPORT int fsmount(int fsfd, unsigned int flags, unsigned int attr_flags)
{
	nl_enter();
	int added;
	unsigned fl = (unsigned)nl_cloexec_flag((int)flags, FSMOUNT_CLOEXEC,
						&added);
	int fd = (int)syscall(SYS_fsmount, fsfd, fl, attr_flags);
	return nl_new_fd(fd, NL_CALL_FSMOUNT, NL_CALLER(), added);
}

/* fspick: a context of the filesystem of an existing mount's root, to
 * reconfigure it. */
NL_EXPORT int fspick(int dirfd, const char *path, unsigned int flags)
{
	nl_enter();
	int added;
	unsigned fl = (unsigned)nl_cloexec_flag((int)flags, FSPICK_CLOEXEC,
						&added);
	int fd = (int)syscall(SYS_fspick, dirfd, path, fl);
	return nl_new_fd(fd, NL_CALL_FSPICK, NL_CALLER(), added);
}
#endif
