/* What the process-group decision costs a spawn, counted rather than timed
 * (a count does not flake on a loaded machine): the calls that ask who a
 * process is (getpid, getpgid, getsid, kill) per spawn of /bin/true, parent
 * and child together, by an ordinary process (no session leader, not
 * launched).  One getsid() in the child decides that its spawner regroups
 * nothing, the groups are never read, and reaping the child asks whether
 * its group outlived it before who this process is.  What is left: the
 * child's pid once after a fork and once at its exec (a vfork child shares
 * its parent's memory, where only getpid() tells them apart), the vfork
 * parent's pid, the fork parent's pid (a child of _Fork() or clone() that
 * forks has not made the shim's state its own: the forking process is
 * asked), the getsid(), the getpid() of the shim's start-up in
 * /bin/true.  The reap asks whether the child's group outlived it
 * (kill(-pid, 0)) only when orphans are killed or there is a log to name
 * them in: here there is none (one call more per spawn before).  Before:
 * 8 to 9 for fork and vfork, 6 for posix_spawn. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"

#define COUNT 20

TestSuite(pgroup_cost, .timeout = 120);

static const struct {
	const char *method;
	double max;  /* calls per spawn */
} rows[] = {
	{ "forkexec", 5 },
	{ "vfork", 4 },
	{ "posix_spawn", 4 },
};

static int count_calls(const char *t)
{
	return count_lines_with(t, "getpid(") + count_lines_with(t, "getpgid(") +
	       count_lines_with(t, "getsid(") + count_lines_with(t, "kill(");
}

Test(pgroup_cost, identity_calls_per_spawn)
{
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		const char *t = trace_spawn_loop("getpid,getpgid,getsid,kill,execve",
						 rows[i].method, COUNT);
		/* The loop's own start-up and first spawn: half a call per
		 * spawn of room. */
		double per = (double)count_calls(t) / COUNT;
		cr_expect_leq(per, rows[i].max + 0.5,
			      "%s: %.2f identity calls per spawn (at most %.0f)",
			      rows[i].method, per, rows[i].max);
	}
}
