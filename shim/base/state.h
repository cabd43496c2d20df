/* Per-process state of the shim: the policy in force and who we are.
 *
 * Filled by the constructor, or by the first interposed call when that comes
 * earlier (another library's constructor).  While it is being filled, calls
 * from the same or other threads see mode "off" and pass straight through:
 * nothing ever waits for initialisation. */
#ifndef NL_STATE_H
#define NL_STATE_H

#include <limits.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "policy/policy.h"

#define NL_HIDDEN __attribute__((visibility("hidden")))
#define NL_EXPORT __attribute__((visibility("default")))

struct nl_proc {
	atomic_int init_state;     /* 0 not started, 1 running, 2 done */
	pid_t pid;                 /* getpid() at init or at the last fork seen */
	int secure;                /* AT_SECURE: environment ignored */
	int transparent;           /* program in fd_transparent: fds untouched */
	int reads_plain;           /* no read watchdog and no stdin=detach: reads
				    * go straight to libc (but for timed sockets) */
	struct nl_policy pol;
	/* Socket activation handed us fds 3..3+listen_n-1 for listen_pid only:
	 * children must not inherit them by the "inherited at start-up" rule. */
	int listen_n;
	pid_t listen_pid;
	/* Process groups (pgroup.c).  In a fork child, spawner is the parent's
	 * pid and the other spawner_* fields its state at the fork; 0 in a
	 * process that was not forked under the shim since it started. */
	pid_t launched_pid;        /* NOLEAK_LAUNCHED: the pid noleak started */
	atomic_int manages_groups; /* called setpgid/setpgrp/tcsetpgrp itself */
	pid_t spawner;
	pid_t spawner_pgid;
	int spawner_manages;
	char exe[PATH_MAX];
	const char *exe_base;
};

extern struct nl_proc nl_proc NL_HIDDEN;

void nl_init(void) NL_HIDDEN;

/* The policy in force; a pass-through policy until init has finished. */
const struct nl_policy *nl_policy_now(void) NL_HIDDEN;

static inline enum nl_mode nl_mode(void)
{
	return nl_policy_now()->mode;
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

/* Record that this process is a fork child (called by the fork interposer
 * and the atfork handler). */
void nl_after_fork_child(void) NL_HIDDEN;

#endif
