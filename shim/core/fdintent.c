/* What the program meant for an fd: see fdintent.h. */
#include "core/fdintent.h"

#include <fcntl.h>
#include <stdatomic.h>

#include "core/fdtable.h"
#include "common/sys.h"

/* As this process sees them (a vfork child's own marks first). */
static uint32_t table_bits(int fd)
{
	return nl_fd_bits_here(fd);
}

/* An interposed call recorded creating this fd number. */
static int seen_created(int fd)
{
	const struct nl_fd_slot *s = nl_fd_slot(fd);
	return s && __atomic_load_n(&s->site, __ATOMIC_RELAXED) != 0;
}

int nl_fd_meant_inheritable(int fd)
{
	int flags = nl_sys_fcntl(fd, F_GETFD, 0);
	if (fd < 0 || flags < 0)
		return 0;
	if (table_bits(fd) & NL_FD_SHIM_CLOEXEC)
		return 1;
	if (nl_fd_keep_bits(fd) & (NL_FD_DELIBERATE | NL_FD_INHERITED))
		return 1;
	/* Audit mode (and enforce before the table knew better): created
	 * by an interposed call and still inheritable. */
	return !(flags & FD_CLOEXEC) && seen_created(fd);
}

int nl_fd_would_cross(int fd)
{
	int flags = nl_sys_fcntl(fd, F_GETFD, 0);
	if (fd < 0 || flags < 0)
		return 0;
	return !(flags & FD_CLOEXEC) || (table_bits(fd) & NL_FD_SHIM_CLOEXEC);
}
