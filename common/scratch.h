/* Scratch memory for lists with no fixed bound (fds named by a new program,
 * the exec sweep's keep ranges), where malloc is not allowed: in a vfork
 * child, in a signal handler, after fork() in a threaded process.
 *
 * Anonymous private mappings made with raw mmap/mremap/munmap system calls:
 * no lock, no errno, no libc state.  A vfork child shares its parent's
 * address space, so whoever takes scratch memory must give it back before
 * the exec (a mapping left behind would stay in the parent forever) and
 * must never hand it to the parent.  (Exceptions, bounded: the fd
 * table's per-thread stash of a vfork child's marks and its per-thread
 * snapshot of keep bits for a child sharing the memory keep one block each
 * per thread for reuse, see core/fdtable.c; posix_spawn keeps one block per
 * process, see interpose/spawn.c; an exec keeps one block per thread
 * and use, see interpose/exec.c.)
 *
 * A failed call leaves the old block as it was: the caller then fails open
 * (keeps fds) and says so in the log. */
#ifndef NL_SCRATCH_H
#define NL_SCRATCH_H

#include <stddef.h>
#include <sys/mman.h>

#include "common/sys.h"

#define NL_SCRATCH_PAGE 4096UL

/* Make *block (of *len bytes, both 0 for none yet) hold at least `need`
 * bytes, doubling so that growing one entry at a time costs amortised
 * O(1).  Returns 0, or -1 with *block and *len unchanged. */
static inline int nl_scratch_grow(void **block, size_t *len, size_t need)
{
	if (need <= *len)
		return 0;
	size_t want = *len ? *len : NL_SCRATCH_PAGE;
	while (want < need) {
		if (want > ((size_t)-1) / 4)
			return -1;
		want *= 2;
	}
	long r;
	if (*block)
		r = nl_sys6(SYS_mremap, (long)*block, (long)*len, (long)want,
			    MREMAP_MAYMOVE, 0, 0);
	else
		r = nl_sys_mmap_anon(want);
	if (r < 0 && r > -4096)
		return -1;
	*block = (void *)r;
	*len = want;
	return 0;
}

/* Give the block back; *block and *len become 0. */
static inline void nl_scratch_free(void **block, size_t *len)
{
	if (*block)
		nl_sys6(SYS_munmap, (long)*block, (long)*len, 0, 0, 0, 0);
	*block = NULL;
	*len = 0;
}

#endif
