/* What every fd-creating interposer does with the fd it got back. */
#ifndef NL_NEWFD_H
#define NL_NEWFD_H

#include "core/fdtable.h"
#include "base/state.h"
#include "common/sys.h"

/* Whether new fds get FD_CLOEXEC (enforce, and not a shell): NL_CLOEXEC_NOW
 * in the creating call, NL_CLOEXEC_LATER right after it unless the fd lands
 * on 0-2 (one of them may be free: nl_fd_cloexec_at_creation), or 0 (not
 * at all; also when the fd table cannot be had).  The `added` of the
 * calls below takes these values. */
enum { NL_CLOEXEC_NOW = 1, NL_CLOEXEC_LATER = 2 };
static inline int nl_new_fds_cloexec(void)
{
	if (nl_mode() != NL_MODE_ENFORCE || nl_proc.transparent)
		return 0;
	return nl_fd_cloexec_at_creation();
}

/* The same for a call whose fd cannot land on 0-2 (F_DUPFD above 2). */
static inline int nl_new_fds_cloexec_above_stdio(void)
{
	return nl_new_fds_cloexec() ? NL_CLOEXEC_NOW : 0;
}

/* A creating call's flags with its close-on-exec flag `cloexec` (O_CLOEXEC,
 * SOCK_CLOEXEC, EFD_CLOEXEC, ...) added when new fds get it and the caller
 * did not ask for it; *added says whether the shim added it (NOW) or will
 * (LATER). */
static inline int nl_cloexec_flag(int flags, int cloexec, int *added)
{
	*added = flags & cloexec ? 0 : nl_new_fds_cloexec();
	return *added == NL_CLOEXEC_NOW ? flags | cloexec : flags;
}

/* Record a new fd.  `added`: the shim added the close-on-exec flag the
 * caller did not ask for (or adds it now: NL_CLOEXEC_LATER).  An fd that
 * lands on 0, 1 or 2 is stdio being refilled (tar closes 0 and dup()s its
 * pipe there for gzip): it must stay inheritable.  It was made without the
 * flag when the shim knew the number was free; when it did not (a close
 * no interposer saw), the flag comes off again.  *ino: the fd's inode
 * when recording it read one (else 0), so that a caller that needs it
 * makes no second fstat(). */
static inline int nl_new_fd_ino(int fd, enum nl_call call, const void *site,
				int added, uint64_t *ino)
{
	*ino = 0;
	if (fd < 0 || !nl_fd_policy_active())
		return fd;
	if (fd <= 2) {
		if (added == NL_CLOEXEC_NOW)
			nl_sys_fcntl(fd, F_SETFD, 0);
		added = 0;
		nl_fd_stdio_filled(fd);
	} else if (added == NL_CLOEXEC_LATER) {
		/* Not atomic: an exec no preload sees in this instant could
		 * get the fd (an interposed one withholds it, unmarked). */
		added = nl_sys_fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
		nl_fd_stdio_recheck();
	}
	*ino = nl_fd_created(fd, call, site, added != 0);
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
