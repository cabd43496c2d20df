/* Audit without a log has nowhere to write what it sees, so it changes
 * nothing at all, not even what only serves the log: the read watchdog
 * (its poll() in place of a read decided an interruption by a handler it
 * never saw with EINTR, where the kernel restarts the read), the signal
 * trampolines (a raw rt_sigaction saw the trampoline), the group marker in
 * a spawned child's environment (a static child saw it).  Each row runs
 * fixture found_audit_quiet without the shim and under audit with no log,
 * preloaded and through the launcher, and compares the output. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "../../lib/run.h"

struct row {
	const char *what;
	const char *mode;       /* the fixture's argument */
};

static const struct row rows[] = {
	{ "a read a raw SA_RESTART handler interrupted restarts", "rawrestart" },
	{ "a raw rt_sigaction sees the program's handler", "rawview" },
	{ "a spawned child's environment holds no group marker", "spawn" },
};

Test(foundation_audit_quiet, audit_without_a_log_changes_nothing,
     .timeout = 60)
{
	static struct run_result plain, r;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *w = &rows[i];
		char *argv[] = { (char *)top("build/fixtures/found_audit_quiet"),
				 (char *)w->mode, NULL };
		cr_assert_eq(run(&plain, argv, NULL, 0, 20.0, NULL), 0);
		cr_assert_eq(plain.status, 0, "%s: %s", w->what, plain.err);
		char *env[] = { "NOLEAK_MODE=audit", "NOLEAK_LOG=none", NULL };
		cr_assert_eq(run(&r, argv, env, 1, 20.0, NULL), 0);
		cr_expect_str_eq(r.out, plain.out, "%s, preloaded: %s without "
				 "the shim: %s", w->what, r.out, plain.out);
		char *launched[] = { (char *)top("build/noleak"), "--audit",
				     "--log", "none", "--", argv[0],
				     (char *)w->mode, NULL };
		cr_assert_eq(run(&r, launched, NULL, 0, 20.0, NULL), 0);
		cr_expect_str_eq(r.out, plain.out, "%s, noleak --audit --log "
				 "none: %s without the shim: %s", w->what, r.out,
				 plain.out);
	}
}
