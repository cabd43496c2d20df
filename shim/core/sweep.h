/* The exec sweep: before a new program starts, every fd > 2 that is not
 * stdio, kept by policy, deliberately passed or inherited at start-up gets
 * FD_CLOEXEC — marked, not closed, so a failed exec (execvp walking PATH)
 * leaves the program's fds intact.
 *
 * A plan is computed once per exec from the policy, the fd table and the new
 * program's argv and environment, then applied in the process that execs:
 * the exec family's caller, a vfork child, or the child posix_spawn makes.
 *
 * Any number of fds can be kept: the keep ranges live in scratch memory
 * (common/scratch.h), never on the stack, and the fds to pass are found by
 * walking the fd table, never listed.  The plan's memory is given back
 * before the exec (nl_plan_release), so a vfork child leaves no mapping in
 * its parent; undoing a failed exec needs no plan.  When the memory cannot
 * be had the plan keeps every fd, as a trampoline's does, and says so in
 * the log ("nomem" event): a leak, never a broken program.
 *
 * Cost follows the number of kept fds, never RLIMIT_NOFILE: the gaps between
 * kept fds are marked with close_range(CLOSE_RANGE_CLOEXEC). */
#ifndef NL_SWEEP_H
#define NL_SWEEP_H

#include "policy/policy.h"

struct nl_plan {
	int active;                 /* the policy asks for a sweep or a log */
	int enforce;                /* change fds (else only log) */
	int keep_all;               /* trampoline, no fd table or no memory:
				     * every fd kept, the shim's flags come off */
	int n;                      /* keep ranges, sorted, disjoint */
	struct nl_fd_range *keep;   /* inline_keep, or scratch memory of
				     * `bytes` bytes once more are needed */
	size_t bytes;
	/* The first ranges (stdio and what adjoins it: most execs need no
	 * more) live here, sparing each exec a mapping and its page fault.
	 * Two: the exec interposers' frames are within 1 KiB. */
	struct nl_fd_range inline_keep[2];
	int nomem;                  /* scratch memory could not be had */
	const char *target;         /* path of the new program */
	const char *argv0;
	const char *via;            /* the interposed call: execve, posix_spawn */
};

/* Compute the plan for exec'ing `path` with argv and envp.  `extra_keep`
 * (may be NULL, count n_extra) are fds the exec needs itself (fexecve's).
 * Release it after. */
void nl_plan_exec(struct nl_plan *pl, const char *via, const char *path,
		  char *const argv[], char *const envp[],
		  const int *extra_keep, int n_extra);
int nl_plan_keeps(const struct nl_plan *pl, int fd);

/* Log one fd_leak event per fd that the sweep drops (or would drop). */
void nl_plan_log_leaks(const struct nl_plan *pl);
/* Enforce: mark every fd outside the keep ranges FD_CLOEXEC. */
void nl_plan_mark_cloexec(const struct nl_plan *pl);
/* The first open fd >= fd that the plan passes although the shim made it
 * close-on-exec (apt's `--status-fd 16` on a pipe made with pipe2(p, 0)),
 * or -1. */
int nl_plan_next_pass(const struct nl_plan *pl, int fd);
/* Enforce: clear the shim's own FD_CLOEXEC on those fds. */
void nl_plan_pass_kept(const struct nl_plan *pl);
/* Give the plan's memory back (before the exec). */
void nl_plan_release(struct nl_plan *pl);
/* After a failed exec: put back the FD_CLOEXEC that pass_kept cleared —
 * on every fd the shim made close-on-exec that lacks the flag now and that
 * the program did not clear itself.  Needs no plan memory. */
void nl_plan_undo_pass(const struct nl_plan *pl);

/* The whole sequence for an exec in this process: log, pass, mark,
 * release. */
void nl_sweep_before_exec(struct nl_plan *pl);

#endif
