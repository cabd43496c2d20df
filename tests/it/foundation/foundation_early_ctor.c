/* A library constructor that runs before libnoleak's own.
 *
 * A program's ordinary dependencies are initialised before the libraries of
 * LD_PRELOAD, so real programs create fds, fork and exec before the shim's
 * constructor has run.  The shim must already apply its policy then (the
 * first interposed call loads it) and nothing may crash.
 *
 * found_early.so does the work in its constructor; the test links it into
 * found_early_main as a DT_NEEDED dependency, in a temporary directory. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0

static struct run_result r;
static char program[PATH_MAX];
static char out_file[PATH_MAX];

/* gcc found_early_main.c + found_early.so -> DIR/early_main. */
static void build_program(void)
{
	const char *dir = tmpdir();
	char lib[PATH_MAX], libdir[PATH_MAX], cmd[PATH_MAX * 6];
	cr_assert_not_null(realpath(top("build/fixtures/found_early.so"), lib),
			   "build/fixtures/found_early.so missing");
	cr_assert_not_null(realpath(top("build/fixtures"), libdir));
	snprintf(program, sizeof program, "%s/early_main", dir);
	snprintf(out_file, sizeof out_file, "%s/early.out", dir);
	/* --no-as-needed: the program uses nothing from the library, and the
	 * dependency is the point. */
	snprintf(cmd, sizeof cmd,
		 "${CC:-cc} -std=gnu11 -D_GNU_SOURCE -O2 -o '%s' '%s' "
		 "-Wl,--no-as-needed '%s' -Wl,-rpath,'%s'",
		 program, top("tests/fixtures/foundation/found_early_main.c"), lib, libdir);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "cannot build the program: %s", r.err);
}

/* Run the program with the shim in `mode` (NULL: without the shim). */
static void run_program(const char *mode, int debug)
{
	char out_env[PATH_MAX + 32], checker_env[PATH_MAX + 32], mode_env[64];
	snprintf(out_env, sizeof out_env, "FOUND_EARLY_OUT=%s", out_file);
	snprintf(checker_env, sizeof checker_env, "FOUND_EARLY_CHECKER=%s",
		 top("build/fixtures/found_fdlist"));
	snprintf(mode_env, sizeof mode_env, "NOLEAK_MODE=%s", mode ? mode : "");
	char *env[] = { out_env, checker_env, mode_env,
			debug ? "LD_DEBUG=files" : "LD_DEBUG=", NULL };
	char *argv[] = { program, NULL };
	unlink(out_file);
	cr_assert_eq(run(&r, argv, env, mode != NULL, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "the program hung");
	cr_assert_eq(exit_code(&r), 0, "status %d, stderr: %s", r.status, r.err);
	cr_assert_str_eq(r.out, "main reached\n");
}

/* The "early: ..." report of the constructor, and the checker's line. */
static const char *report(void) { return slurp(out_file); }

/* From the constructor's "early: pipe=A,B open=C socket=D" line. */
static void created_fds(int fd[4])
{
	const char *line = strstr(report(), "early: pipe=");
	cr_assert_not_null(line, "no report from the constructor: %s", report());
	cr_assert_eq(sscanf(line, "early: pipe=%d,%d open=%d socket=%d", &fd[0],
			    &fd[1], &fd[2], &fd[3]), 4, "%s", report());
	for (int i = 0; i < 4; i++)
		cr_assert_gt(fd[i], 2, "a call failed: %s", report());
}

static void expect_cloexec_line(int want)
{
	int fd[4];
	char line[256];
	created_fds(fd);
	snprintf(line, sizeof line, "early: cloexec %d=%d %d=%d %d=%d %d=%d\n",
		 fd[0], want, fd[1], want, fd[2], want, fd[3], want);
	cr_expect(strstr(report(), line), "want \"%s\" in:\n%s", line, report());
}

/* Whether the checker's "inherited: ..." line lists fd.  (The test runner
 * may hand the program fds of its own: only the created ones count.) */
static int inherited(int fd)
{
	const char *line = strstr(report(), "inherited:");
	cr_assert_not_null(line, "the checker did not run: %s", report());
	const char *end = strchr(line, '\n');
	cr_assert_not_null(end);
	for (const char *p = line + strlen("inherited:"); p < end;) {
		char *next;
		long n = strtol(p, &next, 10);
		if (next == p)
			break;
		if (n == fd)
			return 1;
		p = next;
	}
	return 0;
}

static void expect_inherited(int want)
{
	int fd[4];
	created_fds(fd);
	cr_expect(strstr(report(), "early: child_status=0\n"),
		  "the checker failed: %s", report());
	for (int i = 0; i < 4; i++)
		cr_expect_eq(inherited(fd[i]), want, "fd %d %s inherited:\n%s",
			     fd[i], want ? "not" : "", report());
}

TestSuite(foundation_early_ctor, .init = build_program, .timeout = 60);

/* The position of "PID: calling init: ...NAME" among the LD_DEBUG lines of
 * process `pid`, or -1. */
static int init_position(const char *err, long pid, const char *name)
{
	int pos = 0;
	for (const char *line = err; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char *end;
		long who = strtol(line, &end, 10);
		if (who == pid && end < line + len && *end == ':') {
			if (memmem(line, len, "calling init: ", 14) &&
			    memmem(line, len, name, strlen(name)))
				return pos;
			pos++;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -1;
}

/* The premise of the other tests: in this very set-up the dependency's
 * constructor runs first, in the process that loads both.  (The checker it
 * forks logs its own LD_DEBUG lines under another pid.) */
Test(foundation_early_ctor, dependency_constructor_runs_before_the_shims)
{
	run_program("enforce", 1);
	const char *mine = strstr(r.err, "/found_early.so");
	cr_assert_not_null(mine, "no LD_DEBUG output: %s", r.err);
	const char *line = mine;
	while (line > r.err && line[-1] != '\n')
		line--;
	long pid = strtol(line, NULL, 10);
	cr_assert_gt(pid, 0, "%s", r.err);
	int early = init_position(r.err, pid, "/found_early.so");
	int shim = init_position(r.err, pid, "/libnoleak.so");
	cr_assert_geq(early, 0, "found_early.so never initialised: %s", r.err);
	cr_assert_geq(shim, 0, "libnoleak.so never initialised: %s", r.err);
	cr_assert_lt(early, shim, "libnoleak's constructor ran first: %s", r.err);
}

Test(foundation_early_ctor, enforce_applies_before_the_constructor)
{
	run_program("enforce", 0);
	cr_expect(strstr(report(), "early: errno after the first call=4242\n"),
		  "initialising on the first call changed errno: %s", report());
	expect_cloexec_line(1);
	/* The checker, exec'd from the constructor, got none of them. */
	expect_inherited(0);
}

Test(foundation_early_ctor, audit_changes_nothing_before_the_constructor)
{
	run_program("audit", 0);
	expect_cloexec_line(0);
	expect_inherited(1);
}

/* The reference: what the program does with no shim at all, which audit
 * above must match. */
Test(foundation_early_ctor, without_the_shim_fds_are_inherited)
{
	run_program(NULL, 0);
	expect_cloexec_line(0);
	expect_inherited(1);
}
