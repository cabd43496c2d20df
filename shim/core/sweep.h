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
 * kept fds are marked with close_range(CLOSE_RANGE_CLOEXEC).
 *
 * A PATH walk (CPython's vfork child, dash) calls execve once per directory
 * with the same argv and environment.  After one attempt marked every fd
 * outside the plan, a failed exec leaves them marked (its undo only adds
 * the flag back to the fds it passed), so the next attempt of the same
 * process with the same arguments needs neither the plan's fstat calls nor
 * the close_range — unless an interposed call created, marked or
 * re-flagged an fd since, which bumps the exec generation (fdtable.h).
 * The exec interposers remember the last plan they applied per thread,
 * tagged with the pid (a vfork child writes it in its parent's memory, as
 * the fd table's stash; forgotten before every fork, vfork and clone, so
 * that a later child with a reused pid never takes it), the generation
 * and the identity of the arguments
 * (the argv and envp arrays and every pointer in them).  An fd a raw
 * system call (no preload sees it) makes between two attempts is not
 * marked by the later one; every interposed creation is close-on-exec
 * already, or bumps the generation. */
#ifndef NL_SWEEP_H
#define NL_SWEEP_H

#include <stdint.h>
#include <sys/types.h>

#include "policy/policy.h"

/* Flags in bits: the exec interposers' frames are within 1 KiB. */
struct nl_plan {
	unsigned active : 1;        /* the policy asks for a sweep or a log */
	unsigned enforce : 1;       /* change fds (else only log) */
	unsigned keep_all : 1;      /* trampoline, no fd table or no memory:
				     * every fd kept, the shim's flags come off */
	unsigned nomem : 1;         /* scratch memory could not be had */
	unsigned swept : 1;         /* the fds outside the plan are marked */
	unsigned listeners : 1;     /* UWSGI_RELOADS: the caller's listening
				     * sockets are kept too */
	int n;                      /* keep ranges, sorted, disjoint */
	struct nl_fd_range *keep;   /* inline_keep, or scratch memory of
				     * `bytes` bytes once more are needed */
	size_t bytes;
	union {
		/* The first ranges (stdio and what adjoins it: most execs
		 * need no more) live here, sparing each exec a mapping and
		 * its page fault.  Two: the exec interposers' frames are
		 * within 1 KiB. */
		struct nl_fd_range inline_keep[2];
		/* Once the plan is released (nl_sweep_before_exec): the fds
		 * pass_kept cleared the shim's FD_CLOEXEC on lie within
		 * passed.lo..passed.hi (none: lo > hi), all that a failed
		 * exec's undo_pass looks at. */
		struct nl_fd_range passed;
	};
	const char *target;         /* path of the new program */
	const char *argv0;
	const char *via;            /* the interposed call: execve, posix_spawn */
	/* Attempts of an exec interposer (nl_plan_exec_attempt), else 0. */
	pid_t self;
	unsigned gen;               /* exec generation the plan was read at */
	uintptr_t args;             /* identity of argv, envp and extra fds */
};

/* Compute the plan for exec'ing `path` with argv and envp.  `extra_keep`
 * (may be NULL, count n_extra) are fds the exec needs itself (fexecve's).
 * Release it after. */
void nl_plan_exec(struct nl_plan *pl, const char *via, const char *path,
		  char *const argv[], char *const envp[],
		  const int *extra_keep, int n_extra);
/* The same for an exec attempt of process `self` (its pid) in an exec
 * interposer: an attempt that repeats the last one of this thread (same
 * process, generation and arguments) takes its plan without a system call
 * and marks nothing again. */
void nl_plan_exec_attempt(struct nl_plan *pl, pid_t self, const char *via,
			  const char *path, char *const argv[],
			  char *const envp[], const int *extra_keep,
			  int n_extra);
/* After the exec of an attempt failed: the text of its argv and envp,
 * which the next attempt must find the same to take this one's plan. */
void nl_plan_exec_failed(const struct nl_plan *pl, char *const argv[],
			 char *const envp[]);
/* Forget this thread's last attempt (before making a child). */
void nl_plan_forget_last(void);
int nl_plan_keeps(const struct nl_plan *pl, int fd);

/* Log one fd_leak event per fd that the sweep drops (or would drop). */
void nl_plan_log_leaks(const struct nl_plan *pl);
/* Enforce: mark every fd outside the keep ranges FD_CLOEXEC.  Returns 1
 * when close_range marked them all. */
int nl_plan_mark_cloexec(const struct nl_plan *pl);
/* The first open fd >= fd that the plan passes although the shim made it
 * close-on-exec (apt's `--status-fd 16` on a pipe made with pipe2(p, 0)),
 * or -1. */
int nl_plan_next_pass(const struct nl_plan *pl, int fd);
/* Enforce: clear the shim's own FD_CLOEXEC on those fds; returns the
 * range of the fds it cleared it on (lo > hi: none). */
struct nl_fd_range nl_plan_pass_kept(const struct nl_plan *pl);
/* Give the plan's memory back (before the exec). */
void nl_plan_release(struct nl_plan *pl);
/* After a failed exec: put back the FD_CLOEXEC that pass_kept cleared —
 * on every fd within the range it cleared flags in that the shim made
 * close-on-exec, that lacks the flag now and that the program did not
 * clear itself.  Needs no plan memory: nothing to do, and no system call,
 * when nothing was passed. */
void nl_plan_undo_pass(const struct nl_plan *pl);

/* The whole sequence for an exec in this process: log, pass, mark,
 * release. */
void nl_sweep_before_exec(struct nl_plan *pl);

#endif
