/* Initialisation: the one layer every interposer enters through.
 *
 * Every interposer calls nl_enter() first.  The first call in the process
 * (normally the constructor, or an interposed call made by a library
 * constructor that runs before ours) loads the policy and starts the
 * subsystems in order (init.c); later calls cost one load.  A call that
 * finds initialisation already running (recursion, another thread) goes on
 * under the pass-through policy: nothing waits.
 *
 * Only interposers and the constructor include this header: core, log and
 * base never start initialisation. */
#ifndef NL_INIT_H
#define NL_INIT_H

#include <stdint.h>

#include "base/state.h"
#include "common/sys.h"

void nl_init(void) NL_HIDDEN;

static inline void nl_enter(void)
{
	if (__builtin_expect(atomic_load_explicit(&nl_proc.init_state,
						  memory_order_acquire) ==
				     NL_INIT_NONE, 0))
		nl_init();
}

/* The first function of the library's code (crti.o's _init) and the end
 * of its code, which the linker's own script marks (__etext, after .text
 * and .fini: shim/layout.ld moves _fini in among the functions every
 * process runs).  The read-only data follows, up to the unwind tables'
 * index the linker makes (--eh-frame-hdr: LIB_LDFLAGS in the Makefile). */
extern void _init(void) NL_HIDDEN;
extern const char __etext[] NL_HIDDEN;
extern const char __GNU_EH_FRAME_HDR[] NL_HIDDEN;

/* Map in the library's code and read-only data with one madvise() rather
 * than a page fault per 64 KiB the first time each part is used: at start-up, and in a
 * fork child (first thing: the kernel leaves a child's page tables empty
 * for file mappings).  A page fault costs tens of microseconds on a virtual
 * machine; a process start under the shim took several, a fork+exec
 * several more.  The bounds come from symbols, not from the ELF header:
 * reading that would be one more fault.  Inline, so that the fork
 * interposer's own page is the only one it needs.  Before Linux 5.14
 * (no MADV_POPULATE_READ) the call fails and pages fault in as before. */
static inline void nl_map_code_in(void)
{
	uintptr_t lo = (uintptr_t)&_init & ~(uintptr_t)4095;
	uintptr_t hi = (uintptr_t)__etext;
	uintptr_t data_end = (uintptr_t)__GNU_EH_FRAME_HDR;
	if (data_end > hi && data_end - hi < ((uintptr_t)1 << 20))
		hi = data_end;
	if (lo < hi)
		nl_sys_madvise((void *)lo, hi - lo, MADV_POPULATE_READ);
}

/* Before making a child (fork, vfork, _Fork, clone): the child starts with
 * no last exec attempt to repeat (core/sweep.h, core/pgroup.h), even with
 * the pid an earlier child of this thread had.  Writes only what is set. */
void nl_exec_attempts_forget(void) NL_HIDDEN;

/* In a fork child, from the fork interposer: tell every subsystem, in
 * init's order, that this is a new process, forked by `parent` (its pid,
 * read before the fork: a child of _Fork() or clone() that forks has not
 * made the shim's state its own).  Idempotent. */
void nl_after_fork_child(pid_t parent) NL_HIDDEN;

#endif
