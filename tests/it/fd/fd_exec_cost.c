/* What the exec sweep costs, counted rather than timed (a count does not
 * flake on a loaded machine): an exec that keeps stdio and the fds next to
 * it plans in the caller's frame, with no scratch mapping (mmap, its page
 * fault, munmap) before every exec. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"

TestSuite(fd_exec_cost, .timeout = 60);

Test(fd_exec_cost, stdio_only_exec_maps_nothing)
{
	char cmd[8192];
	/* env execs /bin/true through the shim's execvp; fds 3 and 4 are
	 * open and inheritable, as a jobserver's would be. */
	snprintf(cmd, sizeof cmd,
		 "exec 3</dev/null 4</dev/null; LD_PRELOAD=%s "
		 "NOLEAK_MODE=enforce exec env /bin/true", shim_path());
	const char *t = trace_calls("mmap,execve", cmd);
	cr_assert(strstr(t, "execve(\"/bin/true\"") != NULL, "%s", t);
	cr_expect_eq(count_lines_with(t, "mmap(NULL, 4096, PROT_READ|PROT_WRITE, "
					 "MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)"), 0,
		     "a scratch page mapped for the exec sweep:\n%s", t);
}

/* LISTEN_FDS=N without LISTEN_PID names fds 3 .. 3+N-1 for any process,
 * and N may be a million: the sweep looks at the open fds among them, so
 * the system calls an exec makes do not grow with N (one fcntl per
 * number cost a second per exec).  env sets the variable and execs true
 * through the shim's execvp. */
static int fcntls_with_listen_fds(long count)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd,
		 "exec 3</dev/null; LD_PRELOAD=%s NOLEAK_MODE=enforce "
		 "exec env LISTEN_FDS=%ld /bin/true", shim_path(), count);
	const char *t = trace_calls("fcntl,execve", cmd);
	int n = count_lines_with(t, "fcntl(");
	cr_assert(strstr(t, "execve(\"/bin/true\"") != NULL,
		  "LISTEN_FDS=%ld: true did not run (%d fcntl calls)", count, n);
	return n;
}

Test(fd_exec_cost, listen_fds_cost_follows_the_open_fds)
{
	int few = fcntls_with_listen_fds(100);
	int many = fcntls_with_listen_fds(10000);
	cr_expect_leq(many, few, "LISTEN_FDS=10000: %d fcntl calls, "
		      "LISTEN_FDS=100: %d", many, few);
	cr_expect_lt(many, 50, "LISTEN_FDS=10000: %d fcntl calls", many);
}

/* A posix_spawn or vfork child looks at each fd it may keep once: 7 fds
 * handed over at start-up (3 to 9: sh), each listed by the start-up list
 * and again by the snapshot of keep bits the child plans from, cost 4
 * fstat calls per fd and spawn where 1 does.  Counted over the whole run:
 * the spawner's start-up and each /bin/true's (the 7 fds cross, and it
 * loads the shim too) look at each fd once as well. */
#define LOADER_FSTATS 2

static int fstats_per_spawn(const char *method)
{
	char cmd[8192];
	int n = 0;
	for (int fd = 3; fd < 10; fd++)
		n += snprintf(cmd + n, sizeof cmd - n, "exec %d</dev/null; ", fd);
	snprintf(cmd + n, sizeof cmd - n,
		 "LD_PRELOAD=%s NOLEAK_MODE=enforce "
		 "NOLEAK_CONFIG=/nonexistent/noleak.conf exec %s %s 10",
		 shim_path(), top("build/fixtures/pg_spawn_loop"), method);
	const char *t = trace_calls("fstat,newfstatat,execve", cmd);
	cr_assert(count_lines_with(t, "execve(\"/bin/true\"") >= 10,
		  "%s: the loop did not run", method);
	return (count_lines_with(t, "fstat(") - 7) / 10;
}

Test(fd_exec_cost, a_spawn_child_looks_at_each_kept_fd_once)
{
	static const char *const methods[] = { "posix_spawn", "vfork" };
	for (int i = 0; i < 2; i++) {
		int n = fstats_per_spawn(methods[i]);
		/* 7 in the child, 7 in /bin/true, the loader's. */
		cr_expect_leq(n, 14 + LOADER_FSTATS, "%s: %d fstat calls per "
			      "spawn with 7 inherited fds", methods[i], n);
	}
}
