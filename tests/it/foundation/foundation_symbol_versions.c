/* glibc has two versions of posix_spawn with different behaviour: the
 * GLIBC_2.2.5 one runs a script without #! through /bin/sh, the GLIBC_2.15
 * one fails with ENOEXEC.  Each is interposed separately, so a binary keeps
 * the behaviour it was linked against. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../../lib/run.h"

static char script[4096];

static void init(void)
{
	snprintf(script, sizeof script, "%s/no-shebang", tmpdir());
	FILE *f = fopen(script, "w");
	cr_assert_not_null(f);
	fputs("echo script ran\n", f);
	fclose(f);
	chmod(script, 0755);
}

TestSuite(foundation_symbol_versions, .init = init);

static void spawn_with(const char *fixture, int shim, char *out, size_t cap)
{
	struct run_result r;
	char *argv[] = { (char *)top(fixture), script, NULL };
	cr_assert_eq(run(&r, argv, NULL, shim, 10, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "%s: %s%s", fixture, r.out, r.err);
	cr_assert_lt(strlen(r.out), cap, "%s", r.out);
	memcpy(out, r.out, strlen(r.out) + 1);
}

Test(foundation_symbol_versions, old_version_retries_through_the_shell)
{
	char plain[512], shimmed[512];
	spawn_with("build/fixtures/found_spawn_v2_2_5", 0, plain, sizeof plain);
	spawn_with("build/fixtures/found_spawn_v2_2_5", 1, shimmed, sizeof shimmed);
	cr_assert(strstr(plain, "script ran\nspawn=ok status=0"), "%s", plain);
	cr_expect_str_eq(shimmed, plain);
}

Test(foundation_symbol_versions, current_version_fails_with_enoexec)
{
	char plain[512], shimmed[512];
	spawn_with("build/fixtures/found_spawn_v2_15", 0, plain, sizeof plain);
	spawn_with("build/fixtures/found_spawn_v2_15", 1, shimmed, sizeof shimmed);
	cr_assert(strstr(plain, "spawn=Exec format error"), "%s", plain);
	cr_expect_str_eq(shimmed, plain);
}
