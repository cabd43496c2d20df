/* NOLEAK_LOG comes from the environment, which whoever starts a program
 * controls: a symlink there must not aim the shim's writes at another
 * file (the log is opened with O_NOFOLLOW). */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/run.h"

Test(foundation_log_symlink, log_path_that_is_a_symlink_is_not_followed)
{
	const char *dir = tmpdir();
	char target[PATH_MAX], link[PATH_MAX], env[PATH_MAX + 16];
	snprintf(target, sizeof target, "%s/victim", dir);
	snprintf(link, sizeof link, "%s/log", dir);
	FILE *f = fopen(target, "w");
	cr_assert_not_null(f);
	fputs("precious\n", f);
	fclose(f);
	cr_assert_eq(symlink(target, link), 0);
	snprintf(env, sizeof env, "NOLEAK_LOG=%s", link);
	/* A config error guarantees the shim has something to log. */
	char *vars[] = { env, "NOLEAK_MODE=bogus", NULL };
	struct run_result r;
	char *argv[] = { "/bin/true", NULL };
	cr_assert_eq(run(&r, argv, vars, 1, 10, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect_str_eq(slurp(target), "precious\n",
			 "the shim wrote through the symlink");

	/* The same path as a plain file does receive the event. */
	unlink(link);
	cr_assert_eq(run(&r, argv, vars, 1, 10, NULL), 0);
	cr_expect(strstr(slurp(link), "\"event\":\"config_error\""), "%s",
		  slurp(link));
}
