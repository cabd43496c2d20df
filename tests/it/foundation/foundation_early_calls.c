/* Every interposed call, before libnoleak's constructor and after it, in
 * each mode, against the same calls without the shim.
 *
 * found_calls_main needs found_calls.so, whose constructor runs one snippet
 * per row of shim/base/calls.def before the constructors of LD_PRELOAD
 * libraries (foundation_early_ctor checks that order for this kind of
 * link); main() runs them again.  Each call prints one line (see the
 * fixture's header): result, errno and the fds it made or changed.
 *
 * Without the shim is the reference.  Mode off and audit must print the
 * same lines.  Enforce must print the same lines but for the close-on-exec
 * flag of the fds a call created ("new=FD:C"), which must be set, except on
 * 0, 1 and 2 (stdio being refilled stays inheritable).  The flags of fds the
 * program set itself ("fd=FD:C": dup2, dup3, F_SETFD, FIONCLEX) are as
 * without the shim in every mode.
 *
 * A row of calls.def without a snippet prints NOSNIPPET and fails here, and
 * so does a snippet that does not import the symbol itself. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"

#define TIMEOUT 90.0
#define MAX_LINES 1024
#define MAX_REPORTED 20

static const char *const table[] = {
#define NL_INTERPOSED(symbol, file) #symbol,
#include "base/calls.def"
	NULL
};

static int table_size(void)
{
	int n = 0;
	while (table[n])
		n++;
	return n;
}

struct output {
	char text[1 << 18];
	char *line[MAX_LINES];
	int n;
};

static struct run_result r;
static struct output without, with;

/* Run found_calls_main: mode NULL without the shim, else with NOLEAK_MODE
 * set to it; split what it printed into lines. */
static void run_calls(const char *mode, struct output *o)
{
	const char *dir = tmpdir();
	char dir_env[PATH_MAX + 32], out_env[PATH_MAX + 32], log_env[PATH_MAX + 32];
	char mode_env[64], out[PATH_MAX];
	snprintf(out, sizeof out, "%s/calls.out", dir);
	snprintf(dir_env, sizeof dir_env, "FOUND_CALLS_DIR=%s", dir);
	snprintf(out_env, sizeof out_env, "FOUND_CALLS_OUT=%s", out);
	/* Audit logs to syslog by default: a file keeps it to this test. */
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s/events.log", dir);
	snprintf(mode_env, sizeof mode_env, "NOLEAK_MODE=%s", mode ? mode : "");
	char *env[] = { dir_env, out_env, log_env, mode_env, NULL };
	char *argv[] = { (char *)top("build/fixtures/found_calls_main"), NULL };
	cr_assert_eq(access(argv[0], X_OK), 0, "%s missing (make it)", argv[0]);
	cr_assert_eq(run(&r, argv, env, mode != NULL, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "%s: the program hung", mode ? mode : "no shim");
	cr_assert_eq(exit_code(&r), 0, "%s: status %d, stderr: %s",
		     mode ? mode : "no shim", r.status, r.err);
	const char *text = slurp(out);
	cr_assert_lt(strlen(text), sizeof o->text - 1, "output too large");
	strcpy(o->text, text);
	o->n = 0;
	char *save;
	for (char *l = strtok_r(o->text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		cr_assert_lt(o->n, MAX_LINES, "too many lines");
		o->line[o->n++] = l;
	}
}

/* Whether a line of mode `mode` matches the reference line: every token
 * equal, but for the flag of "new=FD:C" under enforce. */
static int same_line(const char *mode, const char *ref, const char *got)
{
	char a[1024], b[1024];
	snprintf(a, sizeof a, "%s", ref);
	snprintf(b, sizeof b, "%s", got);
	char *sa, *sb;
	char *ta = strtok_r(a, " ", &sa), *tb = strtok_r(b, " ", &sb);
	for (; ta && tb; ta = strtok_r(NULL, " ", &sa), tb = strtok_r(NULL, " ", &sb)) {
		int fa, fb;
		char ca[16], cb[16];
		if (!strcmp(mode, "enforce") &&
		    sscanf(ta, "new=%d:%15s", &fa, ca) == 2 &&
		    sscanf(tb, "new=%d:%15s", &fb, cb) == 2) {
			const char *want = fa > 2 ? "1" : ca;
			if (fa != fb || strcmp(cb, want))
				return 0;
		} else if (strcmp(ta, tb)) {
			return 0;
		}
	}
	return !ta && !tb;
}

static void expect_same_as_without(const char *mode)
{
	run_calls(NULL, &without);
	run_calls(mode, &with);
	cr_assert_gt(without.n, 2 * table_size(), "too few lines:\n%s", without.text);
	static char report[1 << 16];
	size_t len = 0;
	int bad = 0;
	for (int i = 0; i < without.n && i < with.n; i++) {
		if (same_line(mode, without.line[i], with.line[i]))
			continue;
		if (bad++ < MAX_REPORTED && len < sizeof report)
			len += snprintf(report + len, sizeof report - len,
					"  without: %s\n  %-8s %s\n",
					without.line[i], mode, with.line[i]);
	}
	cr_expect_eq(with.n, without.n, "%s printed %d lines, without the shim %d",
		     mode, with.n, without.n);
	cr_expect_eq(bad, 0, "%s: %d lines differ from the run without the shim%s:\n%s",
		     mode, bad, !strcmp(mode, "enforce")
				 ? " (but for close-on-exec on new fds above 2)" : "",
		     report);
}

TestSuite(foundation_early_calls, .timeout = 240);

/* The matrix is whole: a snippet for every row, in both phases, and each
 * snippet library imports every symbol of the table by its own name. */
Test(foundation_early_calls, every_interposed_call_has_a_snippet)
{
	run_calls(NULL, &without);
	for (int i = 0; i < without.n; i++)
		cr_expect(!strstr(without.line[i], " NOSNIPPET ") &&
			  !strstr(without.line[i], " LEFTOPEN "),
			  "%s", without.line[i]);
	static const char *const phases[] = { "ctor", "main" };
	for (int p = 0; p < 2; p++) {
		char done[64];
		snprintf(done, sizeof done, "%s done %d", phases[p], table_size());
		int found = 0;
		for (int i = 0; i < without.n; i++)
			found |= !strcmp(without.line[i], done);
		cr_expect(found, "no \"%s\" line", done);
		for (int t = 0; table[t]; t++) {
			char head[128];
			int n = snprintf(head, sizeof head, "%s %s ", phases[p], table[t]);
			int lines = 0;
			for (int i = 0; i < without.n; i++)
				lines += !strncmp(without.line[i], head, (size_t)n);
			cr_expect_gt(lines, 0, "%s: no line for %s", phases[p], table[t]);
		}
	}

	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof cmd, "nm -D --undefined-only '%s'",
		 top("build/fixtures/found_calls.so"));
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "nm failed: %s", r.err);
	for (int t = 0; table[t]; t++) {
		char name[128];
		int n = snprintf(name, sizeof name, " %s", table[t]);
		int imported = 0;
		for (const char *p = strstr(r.out, name); p && !imported;
		     p = strstr(p + 1, name))
			imported = p[n] == '\n' || p[n] == '@' || p[n] == '\0';
		cr_expect(imported, "found_calls.so does not call %s itself",
			  table[t]);
	}
}

Test(foundation_early_calls, off_is_as_without_the_shim)
{
	expect_same_as_without("off");
}

Test(foundation_early_calls, audit_is_as_without_the_shim)
{
	expect_same_as_without("audit");
}

Test(foundation_early_calls, enforce_differs_only_in_close_on_exec)
{
	expect_same_as_without("enforce");
}
