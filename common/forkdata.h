/* Where a fork child looks before its exec.
 *
 * After fork() the child shares every page with its parent.  A page of
 * the library's zero-initialised data (.bss) that the parent never touched
 * has no page-table entry to share, so even a read of it costs the child a
 * page fault, tens of microseconds on a virtual machine; a write to any
 * shared page costs a copy.  The small variables the after-fork code reads
 * (and, rarely, resets) live together in one section of the library's
 * initialised data instead, on pages the loader has already written: there
 * a child's read costs nothing, and a reset that is needed costs one copy
 * for all of them. */
#ifndef NL_FORKDATA_H
#define NL_FORKDATA_H

#define NL_FORK_DATA __attribute__((section(".data.nl_fork")))

#endif
