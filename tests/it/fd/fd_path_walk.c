/* A PATH walk (CPython's vfork child, dash: one execve per directory of
 * PATH, the same argv and environment each time) pays the exec preparation
 * once: a later attempt of the same process takes the last one's plan and
 * group decision, one getpid() instead of about six system calls (the
 * sweep's close_range and fstat of kept fds, getpgid, getsid).  Counted,
 * not timed.  And still exact: an fd made between two attempts is
 * withheld, a child that moved itself between two attempts is not
 * regrouped (fixture fdh_path_walk). */
#include <criterion/criterion.h>

#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../lib/run.h"

#define MISSING 6
/* getpid(): which process this attempt is; one more for slack. */
#define MAX_CALLS_PER_LATER_ATTEMPT 2

/* The fixtures must see only the fds they make. */
static void init(void)
{
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
}

TestSuite(fd_path_walk, .init = init, .timeout = 60);

/* The most system calls the walking process made between two consecutive
 * failed attempts in strace output t; -1 when there were not MISSING. */
static int most_calls_between_attempts(const char *t, char *worst,
				       size_t cap)
{
	char pid[32] = "";
	int attempts = 0, calls = 0, most = -1;
	const char *gap = NULL;
	for (const char *line = t; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		size_t plen = strspn(line, "0123456789");
		int failed = memmem(line, len, "execve(\"/nonexistent-noleak-",
				    28) != NULL;
		if (failed && !pid[0] && plen < sizeof pid)
			memcpy(pid, line, plen), pid[plen] = '\0';
		int mine = pid[0] && plen == strlen(pid) &&
			   !strncmp(line, pid, plen);
		if (failed && mine) {
			if (attempts++ && calls > most) {
				most = calls;
				snprintf(worst, cap, "%.*s",
					 (int)(line + len - gap), gap);
			}
			calls = 0;
			gap = end ? end + 1 : line + len;
		} else if (mine && attempts) {
			calls++;
		}
		line = end ? end + 1 : line + len;
	}
	return attempts == MISSING ? most : -1;
}

static void later_attempts_cheap(const char *kind, const char *fds)
{
	char cmd[8192];
	static char worst[65536];
	snprintf(cmd, sizeof cmd,
		 "%s LD_PRELOAD=%s NOLEAK_MODE=enforce "
		 "NOLEAK_CONFIG=/nonexistent/noleak.conf exec %s %s none %d "
		 "/bin/true", fds, shim_path(),
		 top("build/fixtures/fdh_path_walk"), kind, MISSING);
	const char *t = trace_calls("all", cmd);
	int most = most_calls_between_attempts(t, worst, sizeof worst);
	cr_assert_geq(most, 0, "%s: not %d failed attempts:\n%s", kind,
		      MISSING, t);
	cr_expect_leq(most, MAX_CALLS_PER_LATER_ATTEMPT,
		      "%s child: %d system calls before a later attempt:\n%s",
		      kind, most, worst);
}

Test(fd_path_walk, fork_child_later_attempts_cheap)
{
	later_attempts_cheap("fork", "");
}

Test(fd_path_walk, vfork_child_later_attempts_cheap)
{
	later_attempts_cheap("vfork", "");
}

/* fd 5, inherited and kept: the sweep marks around it (two close_range
 * calls) after an fstat that checks it is still the same file. */
Test(fd_path_walk, vfork_child_with_a_kept_fd_later_attempts_cheap)
{
	later_attempts_cheap("vfork", "exec 5</dev/null;");
}

/* 200 fds the shim made close-on-exec, none passed: after a failed
 * attempt no flag is put back, so none is asked for (an fcntl per fd
 * before, at every attempt). */
Test(fd_path_walk, many_fds_later_attempts_cheap)
{
	later_attempts_cheap("vfork", "FDH_OPEN_FDS=200");
	later_attempts_cheap("fork", "FDH_OPEN_FDS=200");
}

/* --- still exact: what the program finally started got --- */

static struct run_result r;

static const char *walk(int leader, const char *kind, const char *between,
			const char *prog, int shim)
{
	char *argv[8];
	int n = 0;
	argv[n++] = (char *)top("build/fixtures/fdh_path_walk");
	if (leader)
		argv[n++] = "leader";
	argv[n++] = (char *)kind;
	argv[n++] = (char *)between;
	argv[n++] = "4";
	argv[n++] = (char *)top(prog);
	argv[n] = NULL;
	char *env[] = { "NOLEAK_MODE=enforce", "NOLEAK_PGROUP=auto", NULL };
	cr_assert_eq(run(&r, argv, env, shim, 20.0, NULL), 0);
	cr_assert(!r.timed_out);
	cr_assert_eq(exit_code(&r), 0, "%s %s: status %d: %s", kind, between,
		     r.status, r.err);
	return r.out;
}

/* What found_fdlist, started by a walk whose child does `between` after
 * its first attempt, inherits without the shim and with it. */
static void inherits(const char *kind, const char *between,
		     const char *plain, const char *shim)
{
	cr_expect_str_eq(walk(0, kind, between, "build/fixtures/found_fdlist", 0),
			 plain, "%s %s without the shim", kind, between);
	cr_expect_str_eq(walk(0, kind, between, "build/fixtures/found_fdlist", 1),
			 shim, "%s %s with the shim", kind, between);
}

/* An fd opened between two attempts and made inheritable behind the
 * shim's back: without the shim the program gets it, with it not. */
static void fd_made_between_is_withheld(const char *kind)
{
	inherits(kind, "open", "inherited: 3\n", "inherited:\n");
}

Test(fd_path_walk, fork_child_fd_made_between_is_withheld)
{
	fd_made_between_is_withheld("fork");
}

Test(fd_path_walk, vfork_child_fd_made_between_is_withheld)
{
	fd_made_between_is_withheld("vfork");
}

/* The same argv pointers with other text: the program wrote the number
 * of another fd into the string naming one (--x-fd 3, then 4) between
 * two attempts.  The next attempt names 4, as the program it starts is
 * told; the last attempt's plan (3) was taken before. */
static void renamed_between_is_named(const char *kind)
{
	inherits(kind, "rename", "inherited: 3 4\n", "inherited: 4\n");
}

Test(fd_path_walk, fork_child_renamed_between_is_named)
{
	renamed_between_is_named("fork");
}

Test(fd_path_walk, vfork_child_renamed_between_is_named)
{
	renamed_between_is_named("vfork");
}

/* A session leader's child is regrouped at its exec (the marker names its
 * spawner), unless it moved itself between two attempts: then it keeps
 * its own group and gets no marker, as if it had moved before the first. */
static void moved_between_is_not_regrouped(const char *kind)
{
	const char *out = walk(1, kind, "none",
			       "build/fixtures/pg_whoami", 1);
	cr_expect(strstr(out, "marker=-") == NULL,
		  "%s: not regrouped without a move: %s", kind, out);
	out = walk(1, kind, "setpgid", "build/fixtures/pg_whoami", 1);
	cr_expect(strstr(out, "marker=-\n") != NULL,
		  "%s: regrouped after its own setpgid: %s", kind, out);
}

Test(fd_path_walk, fork_child_moved_between_is_not_regrouped)
{
	moved_between_is_not_regrouped("fork");
}

Test(fd_path_walk, vfork_child_moved_between_is_not_regrouped)
{
	moved_between_is_not_regrouped("vfork");
}
