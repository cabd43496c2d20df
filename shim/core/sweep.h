/* The exec sweep: before a new program starts, every fd > 2 that is not
 * stdio, kept by policy, deliberately passed or inherited at start-up gets
 * FD_CLOEXEC — marked, not closed, so a failed exec (execvp walking PATH)
 * leaves the program's fds intact.
 *
 * A plan is computed once per exec from the policy, the fd table and the new
 * program's argv and environment, then applied: in the exec'ing process for
 * the exec family (also in a vfork child: the plan lives on the stack and
 * only reads shared memory), or in the parent for posix_spawn.  Cost follows
 * the number of kept fds, never RLIMIT_NOFILE: the gaps between kept fds are
 * marked with close_range(CLOSE_RANGE_CLOEXEC). */
#ifndef NL_SWEEP_H
#define NL_SWEEP_H

#include "policy/policy.h"

#define NL_PLAN_RANGES 512
#define NL_PLAN_PASS 256

struct nl_plan {
	int active;                 /* the policy asks for a sweep or a log */
	int enforce;                /* change fds (else only log) */
	int trampoline;             /* target gets every fd it would have got */
	int n;                      /* keep ranges, sorted, disjoint */
	struct nl_fd_range keep[NL_PLAN_RANGES];
	int overflow;               /* too many ranges: keep everything above */
	int n_pass;                 /* kept fds whose CLOEXEC the shim added */
	int pass[NL_PLAN_PASS];
	const char *target;         /* path of the new program */
	const char *argv0;
	const char *via;            /* the interposed call: execve, posix_spawn */
};

/* Compute the plan for exec'ing `path` with argv and envp.  `extra_keep`
 * (may be NULL, count n_extra) are fds the exec needs itself (fexecve's). */
void nl_plan_exec(struct nl_plan *pl, const char *via, const char *path,
		  char *const argv[], char *const envp[],
		  const int *extra_keep, int n_extra);
int nl_plan_keeps(const struct nl_plan *pl, int fd);

/* Log one fd_leak event per fd that the sweep drops (or would drop). */
void nl_plan_log_leaks(const struct nl_plan *pl);
/* Enforce: mark every fd outside the keep ranges FD_CLOEXEC. */
void nl_plan_mark_cloexec(const struct nl_plan *pl);
/* Enforce: clear the shim's own FD_CLOEXEC on fds the program passes; the
 * plan keeps the list of those it changed, for undo. */
void nl_plan_pass_kept(struct nl_plan *pl);
/* After a failed exec: put back the FD_CLOEXEC that pass_kept cleared. */
void nl_plan_undo_pass(const struct nl_plan *pl);

/* The whole sequence for an exec in this process: log, pass, mark. */
void nl_sweep_before_exec(struct nl_plan *pl);

#endif
