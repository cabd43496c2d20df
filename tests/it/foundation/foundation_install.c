/* make install: the library, the tools, the example config and the man
 * pages land under DESTDIR/PREFIX, the installed launcher finds the
 * installed library, and no config file is ever written, least of all over
 * an existing one (/etc/noleak.conf is the administrator's). */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/run.h"

#define TIMEOUT 50.0

static struct run_result r;
static char dest[256];  /* tmpdir() paths are short */

static const char *under(const char *rel)
{
	static char buf[8][PATH_MAX];
	static int next;
	char *out = buf[next++ % 8];
	snprintf(out, PATH_MAX, "%s/%s", dest, rel);
	return out;
}

static void init(void)
{
	snprintf(dest, sizeof dest, "%s", tmpdir());
}

/* Each run installs a copy of the library and the launcher: remove it. */
static void cleanup(void)
{
	if (!strncmp(dest, "/tmp/noleak-test.", 17)) {
		char cmd[PATH_MAX];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dest);
		run_sh(&r, cmd, NULL, 0, TIMEOUT);
	}
}

TestSuite(foundation_install, .init = init, .fini = cleanup, .timeout = 60);

static void make_install(void)
{
	char cmd[PATH_MAX * 2];
	snprintf(cmd, sizeof cmd,
		 "make -s -C '%s' install PREFIX=/usr/local DESTDIR='%s'",
		 top("."), dest);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert(!r.timed_out, "make install hung");
	cr_assert_eq(exit_code(&r), 0, "make install failed:\n%s%s", r.out, r.err);
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "%s is missing", path);
	cr_assert(S_ISREG(st.st_mode), "%s is not a regular file", path);
	return st.st_mode & 07777;
}

static void expect_same_file(const char *a, const char *b)
{
	char *argv[] = { "cmp", "-s", (char *)a, (char *)b, NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_expect_eq(exit_code(&r), 0, "%s differs from %s", a, b);
}

/* Every regular file under DESTDIR outside PREFIX (besides `except`). */
static const char *files_outside_prefix(const char *except)
{
	char cmd[PATH_MAX * 3];
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && find . -path ./usr/local -prune -o ! -type d "
		 "! -path './%s' -print",
		 dest, except ? except : "");
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	return r.out;
}

/* The library's multiarch directory (the Makefile's NL_MULTIARCH). */
#define INSTALLED_LIB "usr/local/lib/" NL_MULTIARCH "/libnoleak.so"

Test(foundation_install, installs_the_three_files)
{
	make_install();
	cr_expect_eq(mode_of(under(INSTALLED_LIB)), 0755);
	expect_same_file(under(INSTALLED_LIB), shim_path());
	cr_expect_eq(mode_of(under("usr/local/bin/noleak")), 0755);
	expect_same_file(under("usr/local/bin/noleak"), top("build/noleak"));
	cr_expect_eq(mode_of(under("usr/local/share/doc/noleak/noleak.conf.example")),
		     0644);
	expect_same_file(under("usr/local/share/doc/noleak/noleak.conf.example"),
			 top("policy/noleak.conf.example"));
	struct stat st;
	cr_expect_neq(lstat(under("etc"), &st), 0, "make install created etc/");
	cr_expect_str_eq(files_outside_prefix(NULL), "");
}

Test(foundation_install, never_touches_an_existing_config)
{
	struct stat before, after;
	int had_etc = stat("/etc/noleak.conf", &before) == 0;
	cr_assert_eq(mkdir(under("etc"), 0755), 0);
	FILE *f = fopen(under("etc/noleak.conf"), "w");
	cr_assert_not_null(f);
	fputs("mode = audit  # the administrator's\n", f);
	cr_assert_eq(fclose(f), 0);

	make_install();
	cr_expect_str_eq(slurp(under("etc/noleak.conf")),
			 "mode = audit  # the administrator's\n");
	cr_expect_str_eq(files_outside_prefix("etc/noleak.conf"), "");
	int has_etc = stat("/etc/noleak.conf", &after) == 0;
	cr_expect_eq(has_etc, had_etc, "make install with DESTDIR changed /etc");
	if (had_etc && has_etc) {
		cr_expect_eq(after.st_ino, before.st_ino);
		cr_expect_eq(after.st_mtime, before.st_mtime);
	}
}

/* The installed launcher runs a program under the installed library. */
Test(foundation_install, installed_launcher_uses_the_installed_library)
{
	make_install();
	char log[PATH_MAX];
	snprintf(log, sizeof log, "%s/events.log", dest);
	char *argv[] = { (char *)under("usr/local/bin/noleak"), "--audit", "--log",
			 log, "--", (char *)top("build/fixtures/found_leak"),
			 (char *)top("build/fixtures/found_fdlist"), NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "status %d, stderr: %s", r.status, r.err);
	const char *text = slurp(log);
	cr_expect_eq(count_lines_with(text, "\"event\":\"fd_leak\""), 1, "%s", text);
	cr_expect(strstr(text, "\"mode\":\"audit\""), "%s", text);
	/* Which library: the installed one is mapped into the command. */
	char *print[] = { (char *)under("usr/local/bin/noleak"), "sh", "-c",
			  "cat /proc/$$/maps", NULL };
	cr_assert_eq(run(&r, print, NULL, 0, TIMEOUT, NULL), 0);
	cr_expect(strstr(r.out, under(INSTALLED_LIB)),
		  "the installed library is not loaded:\n%s", r.out);
}

/* `man noleak` works after make install: every page lands in its section
 * under PREFIX/share/man, and man finds it there. */
Test(foundation_install, man_finds_the_installed_pages)
{
	static const char *const pages[][2] = {
		{ "1", "noleak" }, { "1", "noleak-report" },
		{ "5", "noleak.conf" }, { "7", "libnoleak" },
	};
	make_install();
	for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
		char want[64], cmd[PATH_MAX * 2];
		snprintf(want, sizeof want, "usr/local/share/man/man%s/%s.%s",
			 pages[i][0], pages[i][1], pages[i][0]);
		cr_expect_eq(mode_of(under(want)), 0644);
		snprintf(cmd, sizeof cmd, "man -M '%s' -w %s %s",
			 under("usr/local/share/man"), pages[i][0], pages[i][1]);
		cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
		cr_expect_eq(exit_code(&r), 0, "man cannot find %s(%s): %s",
			     pages[i][1], pages[i][0], r.err);
		cr_expect(strstr(r.out, under(want)), "%s", r.out);
	}
}
