/* Mode off is pure pass-through: fds are created exactly as the program
 * asked (no FD_CLOEXEC added) and an exec passes every one of them, as
 * without the shim.  found_creat creates fds with thirteen calls, prints
 * their flags and execs found_fdlist, which lists what it inherited. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0
#define N_CREATED 13

static struct run_result r, bare;
static char *argv[3];

static void init(void)
{
	argv[0] = (char *)top("build/fixtures/found_creat");
	argv[1] = (char *)top("build/fixtures/found_fdlist");
	argv[2] = NULL;
	cr_assert_eq(run(&bare, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&bare), 0, "found_creat failed: %s", bare.err);
	cr_assert_eq(count_lines_with(bare.out, "cloexec=0"), N_CREATED,
		     "the reference run is not as expected:\n%s", bare.out);
}

TestSuite(foundation_mode_off, .init = init, .timeout = 60);

static void run_with(char *const env[])
{
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out);
	cr_assert_eq(exit_code(&r), 0, "status %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(r.err, "");
}

/* Every fd without FD_CLOEXEC, every fd inherited: the very output of the
 * run without the shim. */
static void expect_pass_through(void)
{
	cr_expect_eq(count_lines_with(r.out, "cloexec=0"), N_CREATED, "%s", r.out);
	cr_expect_str_eq(r.out, bare.out);
}

Test(foundation_mode_off, from_the_environment)
{
	char *env[] = { "NOLEAK_MODE=off", NULL };
	run_with(env);
	expect_pass_through();
}

Test(foundation_mode_off, logs_nothing)
{
	char log[PATH_MAX + 16];
	snprintf(log, sizeof log, "NOLEAK_LOG=%s/events.log", tmpdir());
	char *env[] = { "NOLEAK_MODE=off", log, NULL };
	run_with(env);
	expect_pass_through();
	/* Audit would report thirteen leaks here; off reports none. */
	cr_expect_eq(count_lines_with(slurp(log + strlen("NOLEAK_LOG=")),
				      "\"fd_leak\""), 0, "%s",
		     slurp(log + strlen("NOLEAK_LOG=")));
}

Test(foundation_mode_off, from_a_program_section_of_the_config_file)
{
	char conf[PATH_MAX], conf_env[PATH_MAX + 16];
	snprintf(conf, sizeof conf, "%s/noleak.conf", tmpdir());
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fputs("mode = enforce\n[program found_creat]\nmode = off\n", f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(conf, 0644), 0);
	snprintf(conf_env, sizeof conf_env, "NOLEAK_CONFIG=%s", conf);
	char *env[] = { conf_env, NULL };
	run_with(env);
	expect_pass_through();
}

/* The contrast that shows the fixture can tell: enforce changes both. */
Test(foundation_mode_off, enforce_differs)
{
	run_with(NULL);
	cr_expect_eq(count_lines_with(r.out, "cloexec=1"), N_CREATED, "%s", r.out);
	cr_expect(strstr(r.out, "inherited:\n"), "%s", r.out);
}
