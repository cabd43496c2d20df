/* The group marker is the shim's bookkeeping, never the program's: a
 * program the shim loads sees the environment it would see without the
 * shim (getenv, environ, main's envp), in audit, which changes nothing,
 * and in enforce alike.  A daemon starts pg_env through each way of
 * starting a program; pg_env starts pg_env again (a grandchild) with an
 * environment of its own making; each prints what it sees, which must be
 * what the same tree prints without the shim.  The marker still travels
 * where spawners look for it, /proc/PID/environ: the child's names the
 * daemon, and the grandchild carries the same token on, but never into a
 * cleared environment nor to a program started without the shim's
 * LD_PRELOAD (which would see it). */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"
#include "../../lib/pgroup_procs.h"

#define TIMEOUT 20.0

static struct run_result with, without;
static char log_path[PATH_MAX], log_env[PATH_MAX + 16];

static void init(void)
{
	cr_assert_eq(access(top("build/fixtures/pg_env"), X_OK), 0,
		     "build/fixtures/pg_env missing");
	snprintf(log_path, sizeof log_path, "%s/events.log", tmpdir());
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log_path);
}

TestSuite(pgroup_env, .init = init, .timeout = 60);

/* pg_spawn -d VIA pg_env child HOW pg_env grandchild */
static void run_tree(struct run_result *r, const char *mode, const char *via,
		     const char *how, int shim)
{
	char mode_env[32];
	snprintf(mode_env, sizeof mode_env, "NOLEAK_MODE=%s", mode);
	char *argv[] = { (char *)top("build/fixtures/pg_spawn"), "-d", (char *)via,
			 (char *)top("build/fixtures/pg_env"), "child", (char *)how,
			 (char *)top("build/fixtures/pg_env"), "grandchild", NULL };
	char *env[] = { mode_env, log_env, NULL };
	cr_assert_eq(run(r, argv, env, shim, TIMEOUT, NULL), 0);
	cr_assert(!r->timed_out);
	cr_assert_eq(exit_code(r), 0, "%s%s", r->out, r->err);
	cr_assert_eq(pg_field(r->out, "status", "status"), 0, "%s", r->out);
}

/* What the child and the grandchild say they see, but the LD_PRELOAD that
 * loads the shim and the marker of /proc/self/environ. */
static const char *seen(const char *out, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (const char *l = out; *l;) {
		const char *end = strchrnul(l, '\n');
		int len = (int)(end - l);
		if ((!strncmp(l, "child ", 6) || !strncmp(l, "grandchild ", 11)) &&
		    !memmem(l, (size_t)len, " env=LD_PRELOAD=", 16) &&
		    !memmem(l, (size_t)len, " marker=", 8) && n < cap)
			n += (size_t)snprintf(buf + n, cap - n, "%.*s\n", len, l);
		l = *end ? end + 1 : end;
	}
	return buf;
}

static char seen_with[65536], seen_without[65536];

/* HOW: how the child makes the grandchild's environment (pg_env);
 * passed: whether the grandchild carries the marker on. */
static void same_as_without_shim(const char *via, const char *how, int passed)
{
	const char *modes[] = { "audit", "enforce" };
	for (size_t i = 0; i < 2; i++) {
		unlink(log_path);
		run_tree(&without, modes[i], via, how, 0);
		run_tree(&with, modes[i], via, how, 1);
		cr_expect_str_eq(pg_word(with.out, "child", "from"), "-",
				 "%s %s child sees the marker:\n%s", modes[i], via,
				 with.out);
		cr_expect_str_eq(pg_word(with.out, "grandchild", "from"), "-",
				 "%s %s %s grandchild sees the marker:\n%s", modes[i],
				 via, how, with.out);
		cr_expect_str_eq(seen(with.out, seen_with, sizeof seen_with),
				 seen(without.out, seen_without, sizeof seen_without),
				 "%s %s %s: the environment differs from the one "
				 "without the shim", modes[i], via, how);
		/* Where the daemon looks: the child exec'd with its marker. */
		char want[64];
		snprintf(want, sizeof want, "%ld:%ld:",
			 pg_field(with.out, "parent", "pid"),
			 pg_field(with.out, "parent", "pgid"));
		char child_marker[128];
		snprintf(child_marker, sizeof child_marker, "%s",
			 pg_word(with.out, "child", "marker"));
		cr_expect(!strncmp(child_marker, want, strlen(want)),
			  "%s %s child exec'd with marker %s, want %s...:\n%s",
			  modes[i], via, child_marker, want, with.out);
		cr_expect_str_eq(pg_word(with.out, "grandchild", "marker"),
				 passed ? child_marker : "-",
				 "%s %s %s grandchild:\n%s", modes[i], via, how,
				 with.out);
		if (!strcmp(modes[i], "audit"))
			cr_expect(strstr(slurp(log_path), "\"action\":\"would_regroup\""),
				  "%s", slurp(log_path));
	}
}

Test(pgroup_env, fork_exec_child)
{
	same_as_without_shim("fork", "-c", 1);
}

Test(pgroup_env, vfork_exec_child)
{
	same_as_without_shim("vfork", "-c", 1);
}

Test(pgroup_env, posix_spawn_child)
{
	same_as_without_shim("spawn", "-c", 1);
}

Test(pgroup_env, system_child)
{
	same_as_without_shim("system", "-c", 1);
}

Test(pgroup_env, popen_child)
{
	same_as_without_shim("popen", "-c", 1);
}

/* env -i: a cleared environment stays empty. */
Test(pgroup_env, grandchild_with_an_empty_environment)
{
	same_as_without_shim("fork", "-e", 0);
}

/* The grandchild runs without the shim, which would not take the marker
 * out of its environment. */
Test(pgroup_env, grandchild_without_the_shim)
{
	same_as_without_shim("fork", "-n", 0);
}
