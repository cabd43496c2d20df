/* What every fd-creating interposer does with the fd it got back. */
#ifndef NL_NEWFD_H
#define NL_NEWFD_H

#include "core/fdtable.h"
#include "base/state.h"
#include "common/sys.h"

/* Whether new fds get FD_CLOEXEC (enforce, and not a shell). */
static inline int nl_new_fds_cloexec(void)
{
	return nl_mode() == NL_MODE_ENFORCE && !nl_proc.transparent;
}

/* A creating call's flags with its close-on-exec flag `cloexec` (O_CLOEXEC,
 * SOCK_CLOEXEC, EFD_CLOEXEC, ...) added when new fds get it and the caller
 * did not ask for it; *added says whether the shim added it. */
static inline int nl_cloexec_flag(int flags, int cloexec, int *added)
{
	*added = nl_new_fds_cloexec() && !(flags & cloexec);
	return *added ? flags | cloexec : flags;
}

/* Record a new fd.  `added`: the shim added the close-on-exec flag the
 * caller did not ask for.  An fd that lands on 0, 1 or 2 is stdio being
 * refilled (tar closes 0 and dup()s its pipe there for gzip): it must stay
 * inheritable, so the shim's flag comes off again.  *ino: the fd's inode
 * when recording it read one (else 0), so that a caller that needs it
 * makes no second fstat(). */
static inline int nl_new_fd_ino(int fd, enum nl_call call, const void *site,
				int added, uint64_t *ino)
{
	*ino = 0;
	if (fd < 0 || !nl_fd_policy_active())
		return fd;
	if (added && fd <= 2) {
		nl_sys_fcntl(fd, F_SETFD, 0);
		added = 0;
	}
	*ino = nl_fd_created(fd, call, site, added);
	return fd;
}

static inline int nl_new_fd(int fd, enum nl_call call, const void *site,
			    int added)
{
	uint64_t ino;
	return nl_new_fd_ino(fd, call, site, added, &ino);
}

/* An fd libc made inside a call that takes no flags (openpty, forkpty's
 * master): FD_CLOEXEC right after, not atomically (an exec no preload sees
 * in that instant could get it), then recorded as any new fd. */
static inline void nl_new_fd_flagged_after(int fd, enum nl_call call,
					   const void *site)
{
	int added = 0;
	if (fd > 2 && nl_new_fds_cloexec())
		added = nl_sys_fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
	nl_new_fd(fd, call, site, added);
}

#define NL_CALLER() __builtin_return_address(0)

#endif
