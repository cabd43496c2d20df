/* posix_spawn done by the shim behaves as glibc's: every attribute and
 * file action, each failing one with the same errno, a failing exec with
 * its errno (and the GLIBC_2.2.5 versions' /bin/sh retry), the same child
 * state — and no flag of the parent's fds changes (tests/fixtures/
 * fdh_spawn_diff.c holds the cases, one a row). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../../lib/run.h"

#define TIMEOUT 60.0

TestSuite(fd_spawn_diff, .timeout = 180);

static char out_plain[65536];

/* The fixture's output, run in a directory of its own named `side` (the
 * paths it prints are relative to it). */
static void run_side(const char *side, const char *mode, char *out, size_t cap)
{
	static struct run_result r;
	char dir[600], cmd[2400], mode_env[32];
	snprintf(dir, sizeof dir, "%s/%s", tmpdir(), side);
	mkdir(dir, 0700);
	/* "launched-MODE": through the launcher, whose process marks the
	 * children it spawns for a group of their own (the marker goes into
	 * a copy of their environment). */
	int launched = strncmp(side, "launched", 8) == 0;
	if (launched)
		snprintf(cmd, sizeof cmd,
			 "cd '%s' && exec '%s' %s --log '%s/noleak.log' -- '%s'",
			 dir, top("build/noleak"),
			 strcmp(mode, "audit") == 0 ? "--audit" : "", dir,
			 top("build/fixtures/fdh_spawn_diff"));
	else
		snprintf(cmd, sizeof cmd, "cd '%s' && exec '%s'", dir,
			 top("build/fixtures/fdh_spawn_diff"));
	snprintf(mode_env, sizeof mode_env, "NOLEAK_MODE=%s", mode ? mode : "");
	char *env[] = { mode_env, NULL };
	cr_assert_eq(run_sh(&r, cmd, env, mode != NULL && !launched, TIMEOUT), 0);
	cr_assert(!r.timed_out, "%s: hung", side);
	cr_assert_eq(exit_code(&r), 0, "%s: status %d\n%s%s", side, r.status,
		     r.out, r.err);
	snprintf(out, cap, "%s", r.out);
}

/* The first line where a and b differ, for the message. */
static const char *first_difference(const char *a, const char *b)
{
	static char line[512];
	while (*a && *a == *b) {
		a++;
		b++;
	}
	while (a > line && a[-1] != '\n' && *a)
		a--;
	snprintf(line, sizeof line, "%.*s", (int)strcspn(a, "\n"), a);
	return line;
}

static void same_as_glibc_side(const char *side, const char *mode)
{
	static char out[65536];
	if (!out_plain[0])
		run_side("plain", NULL, out_plain, sizeof out_plain);
	cr_assert(strstr(out_plain, "== everything: "), "%s", out_plain);
	run_side(side, mode, out, sizeof out);
	cr_expect_str_eq(out, out_plain,
			 "%s differs from glibc at: %s\n--- glibc:\n%s\n--- %s:\n%s",
			 mode, first_difference(out_plain, out), out_plain,
			 mode, out);
}

static void same_as_glibc(const char *mode)
{
	same_as_glibc_side(mode, mode);
}

Test(fd_spawn_diff, enforce_spawns_as_glibc)
{
	same_as_glibc("enforce");
}

Test(fd_spawn_diff, audit_spawns_as_glibc)
{
	same_as_glibc("audit");
}

/* The same from the process the launcher started, whose spawns carry the
 * group marker in a copy of the environment. */
Test(fd_spawn_diff, launched_enforce_spawns_as_glibc)
{
	same_as_glibc_side("launched-enforce", "enforce");
}

Test(fd_spawn_diff, launched_audit_spawns_as_glibc)
{
	same_as_glibc_side("launched-audit", "audit");
}
