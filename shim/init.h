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

#include "base/state.h"

void nl_init(void) NL_HIDDEN;

static inline void nl_enter(void)
{
	if (__builtin_expect(atomic_load_explicit(&nl_proc.init_state,
						  memory_order_acquire) ==
				     NL_INIT_NONE, 0))
		nl_init();
}

/* In a fork child, from the fork interposer: tell every subsystem, in
 * init's order, that this is a new process.  Idempotent. */
void nl_after_fork_child(void) NL_HIDDEN;

#endif
