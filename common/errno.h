/* errno put back as the program left it.
 *
 * Written only when it changed: errno lives in the thread's TLS block, and
 * a store there right after fork() costs the parent (or the child) a copy of
 * that page, a page fault of tens of microseconds on a virtual machine, to
 * write back the value it already holds.  Async-signal-safe. */
#ifndef NL_ERRNO_H
#define NL_ERRNO_H

#include <errno.h>

static inline void nl_errno_restore(int saved)
{
	if (errno != saved)
		errno = saved;
}

#endif
