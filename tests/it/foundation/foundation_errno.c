/* Return values and errno are the program's: identical with and without
 * the shim, in every mode, for failures (missing file, EMFILE, bad domain,
 * bad fd, failed exec...) and for successes, which must leave errno alone.
 * found_errno prints one line per call; the outputs must match byte for
 * byte. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0

static struct run_result r, bare;
static char *argv[2];

static void init(void)
{
	argv[0] = (char *)top("build/fixtures/found_errno");
	argv[1] = NULL;
	cr_assert_eq(run(&bare, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&bare), 0, "found_errno failed: %s", bare.err);
	/* The reference must be worth comparing with. */
	cr_assert(strstr(bare.out, "open missing"), "%s", bare.out);
	cr_assert(strstr(bare.out, "errno=24"), "no EMFILE case ran: %s", bare.out);
}

TestSuite(foundation_errno, .init = init, .timeout = 60);

static void expect_same_as_without_shim(char *const env[])
{
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out);
	cr_expect_eq(exit_code(&r), exit_code(&bare), "status %d", r.status);
	cr_expect_str_eq(r.err, "");
	/* Line by line, for a readable failure. */
	const char *a = bare.out, *b = r.out;
	while (*a || *b) {
		size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
		cr_assert(la == lb && !memcmp(a, b, la),
			  "without shim: %.*s\nwith shim:    %.*s", (int)la, a,
			  (int)lb, b);
		a += la + (a[la] == '\n');
		b += lb + (b[lb] == '\n');
	}
}

Test(foundation_errno, enforce)
{
	expect_same_as_without_shim(NULL);
}

Test(foundation_errno, audit_with_a_log)
{
	char log[PATH_MAX + 16];
	snprintf(log, sizeof log, "NOLEAK_LOG=%s/events.log", tmpdir());
	char *env[] = { "NOLEAK_MODE=audit", log, NULL };
	expect_same_as_without_shim(env);
	/* The failed execs did log (fd 3 was open): the log writes themselves
	 * left errno alone. */
	cr_expect(strstr(slurp(log + strlen("NOLEAK_LOG=")), "\"fd_leak\""),
		  "no events were logged");
}

Test(foundation_errno, enforce_with_a_log_and_a_config_error)
{
	char log[PATH_MAX + 16];
	snprintf(log, sizeof log, "NOLEAK_LOG=%s/events.log", tmpdir());
	char *env[] = { "NOLEAK_KEEP_FDS=bogus", log, NULL };
	expect_same_as_without_shim(env);
}

Test(foundation_errno, off)
{
	char *env[] = { "NOLEAK_MODE=off", NULL };
	expect_same_as_without_shim(env);
}

/* The shim's tables could not be mapped (no address space left): the
 * calls succeed and errno is left alone, as without the shim. */
Test(foundation_errno, no_memory_for_the_tables)
{
	char *nomem[] = { argv[0], "nomem", NULL };
	struct run_result want;
	cr_assert_eq(run(&want, nomem, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&want), 0, "%s%s", want.out, want.err);
	cr_assert(strstr(want.out, "open, no memory"), "%s", want.out);
	char *env[] = { "NOLEAK_MODE=enforce", NULL };
	cr_assert_eq(run(&r, nomem, env, 1, TIMEOUT, NULL), 0);
	cr_expect_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	cr_expect_str_eq(r.out, want.out);
}
