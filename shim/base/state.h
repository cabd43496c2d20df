/* Per-process state of the shim: the policy in force and who we are.
 *
 * Filled once by init (shim/init.c), from the constructor or from the first
 * interposed call when that comes earlier (another library's constructor).
 * Everything below init only reads it: nl_policy() is the pass-through
 * policy (mode "off") until init has finished, so a call that arrives while
 * init runs — on this thread through recursion, or on another — passes
 * straight through, and nothing ever waits for initialisation.
 *
 * Layering: interposers → init → core → log, base.  Core and log never
 * start initialisation; they read nl_policy(). */
#ifndef NL_STATE_H
#define NL_STATE_H

#include <limits.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "policy/policy.h"

#define NL_HIDDEN __attribute__((visibility("hidden")))
#define NL_EXPORT __attribute__((visibility("default")))

enum nl_init_state { NL_INIT_NONE, NL_INIT_RUNNING, NL_INIT_DONE };

#define NL_EXE_SHORT 128

struct nl_proc {
	atomic_int init_state;     /* enum nl_init_state */
	/* getpid() at init or at the last fork seen; atomic: a fork child
	 * writes it while, as far as race checkers can tell, the parent's
	 * other threads still read it. */
	_Atomic pid_t pid;
	int secure;                /* AT_SECURE: environment ignored */
	int transparent;           /* program in fd_transparent: fds untouched */
	/* The executable's path, once something needed it (init.c: start-up,
	 * or the log's first line): here when it is short, as nearly every
	 * one is; in exe_long otherwise, on pages of its own. */
	char exe[NL_EXE_SHORT];
	struct nl_policy pol;
	char exe_long[PATH_MAX];
};

extern struct nl_proc nl_proc NL_HIDDEN;
extern const struct nl_policy nl_pass_through NL_HIDDEN;

/* The pid init or the last fork seen recorded (0: none yet).  Read through
 * here, so that every access is visibly atomic (see nl_proc.pid). */
static inline pid_t nl_proc_pid(void)
{
	return atomic_load_explicit(&nl_proc.pid, memory_order_relaxed);
}

/* The policy in force; the pass-through policy until init has finished. */
static inline const struct nl_policy *nl_policy(void)
{
	int s = atomic_load_explicit(&nl_proc.init_state, memory_order_acquire);
	return __builtin_expect(s == NL_INIT_DONE, 1) ? &nl_proc.pol
						       : &nl_pass_through;
}

static inline enum nl_mode nl_mode(void)
{
	return nl_policy()->mode;
}

/* Whether fds of this process are handled at all (mode on, not a shell). */
static inline int nl_fd_policy_active(void)
{
	return nl_mode() != NL_MODE_OFF && !nl_proc.transparent;
}

/* Whether the caller runs in a vfork child, or any child the shim did not see
 * forking: it shares (or may share) the parent's memory, so it must only
 * read the shim's tables.  Costs one getpid(); use on rare paths only. */
int nl_in_foreign_child(void) NL_HIDDEN;

#endif
