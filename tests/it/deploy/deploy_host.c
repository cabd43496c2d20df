/* noleak enable, status and disable on the real paths of a host:
 * /etc/ld.so.preload and the system library directory.
 *
 * They run in a private mount namespace where /etc is a bind-mounted copy
 * of /etc and the system library directory is an overlay whose writes go
 * to a temporary directory, so the machine's own files never change.  A
 * marker in the copy of /etc, and the overlay's upper directory, prove
 * that the commands wrote where the test meant them to.  Needs root;
 * a namespace that cannot be made is a failure, not a skip. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/ns.h"
#include "../../lib/run.h"

#define TIMEOUT 30.0

static struct run_result r;
static char dir[256];
static char libdir[PATH_MAX];
static char etc_copy[PATH_MAX];  /* DIR/etc */

static void fmt(char *out, size_t cap, const char *f, ...)
	__attribute__((format(printf, 3, 4)));
static void fmt(char *out, size_t cap, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vsnprintf(out, cap, f, ap);
	va_end(ap);
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Where this process's libc.so.6 lives: what noleak installs into. */
static void find_libdir(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	cr_assert_not_null(f);
	while (!libdir[0] && fgets(line, sizeof line, f)) {
		char *path = strchr(line, '/');
		char *base = path ? strrchr(path, '/') : NULL;
		if (base && !strncmp(base, "/libc.so.", 9)) {
			*base = 0;
			cr_assert_not_null(realpath(path, libdir));
		}
	}
	fclose(f);
	cr_assert(libdir[0], "libc.so.6 not in /proc/self/maps");
}

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: a mount namespace, writes under /etc");
	find_libdir();
	fmt(dir, sizeof dir, "%s", tmpdir());
	cr_assert_eq(chmod(dir, 0755), 0);
	fmt(etc_copy, sizeof etc_copy, "%s/etc", dir);
	ns_copy_etc(etc_copy);
	char cmd[PATH_MAX * 2];
	fmt(cmd, sizeof cmd,
	    "set -e; cd '%s'; mkdir upper work; rm -f etc/ld.so.preload", dir);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
}

static void teardown(void)
{
	ns_remove_test_dir(dir);
}

TestSuite(deploy_host, .init = setup, .fini = teardown, .timeout = 60);

/* `script` in the namespace, once /etc and the library directory are the
 * copies; nothing runs when either mount fails.  NOLEAK is the launcher,
 * LIB the library it installs. */
static void in_namespace(const char *script)
{
	char cmd[PATH_MAX * 4 + 4096];
	fmt(cmd, sizeof cmd,
	    "mount -t overlay overlay -o 'lowerdir=%s,upperdir=%s/upper,workdir=%s/work' '%s' || exit 96\n"
	    "NOLEAK='%s'; LIB='%s/libnoleak.so'\n"
	    "%s",
	    libdir, dir, dir, libdir, top("build/noleak"), libdir, script);
	ns_run_with_etc(&r, etc_copy, cmd, TIMEOUT);
	cr_assert(!r.timed_out, "hung: %s%s", r.out, r.err);
	cr_assert_neq(exit_code(&r), 96, "cannot mount an overlay on %s: %s", libdir, r.err);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
}

/* Is the library in a program's map?  The program is grep itself, and
 * nothing but /etc/ld.so.preload can have put it there. */
static const char mapped_check[] =
	"if grep -q \" $LIB\\$\" /proc/self/maps; then echo mapped=yes; else echo mapped=no; fi\n";

Test(deploy_host, enable_reaches_every_new_program_and_disable_undoes_it)
{
	int had_real = exists("/etc/ld.so.preload");
	char real_lib[PATH_MAX + 16];
	fmt(real_lib, sizeof real_lib, "%s/libnoleak.so", libdir);
	int had_real_lib = exists(real_lib);

	char script[4096];
	fmt(script, sizeof script,
	    "%s"
	    "\"$NOLEAK\" enable; echo enable=$?\n"
	    "%s"
	    "\"$NOLEAK\" status; echo status=$?\n"
	    "echo owner=$(stat -c %%u:%%g:%%a /etc/ld.so.preload $LIB)\n"
	    "\"$NOLEAK\" disable; echo disable=$?\n"
	    "%s"
	    "\"$NOLEAK\" status; echo status=$?\n",
	    mapped_check, mapped_check, mapped_check);
	in_namespace(script);
	const char *o = r.out;
	const char *enabled = strstr(o, "enable=");
	const char *disabled = strstr(o, "disable=");
	cr_assert(enabled && disabled, "%s%s", o, r.err);
	cr_expect(strstr(o, "mapped=no\n") && strstr(o, "mapped=no\n") < enabled,
		  "mapped before enable: %s", o);
	cr_expect(strstr(o, "enable=0\nmapped=yes\n"), "enable: %s%s", o, r.err);
	cr_expect(strstr(o, "healthy"), "status: %s", o);
	cr_expect(strstr(o, "status=0\n"), "status while enabled: %s", o);
	cr_expect(strstr(o, "owner=0:0:644 0:0:644\n"), "ownership: %s", o);
	cr_expect(strstr(o, "disable=0\nmapped=no\n"), "disable: %s%s", o, r.err);
	cr_expect(strstr(disabled, "status=1\n"), "status once disabled: %s", o);

	/* It all went to the copies. */
	char upper[PATH_MAX];
	fmt(upper, sizeof upper, "%s/upper/libnoleak.so", dir);
	cr_expect(exists(upper), "the library was not installed in the overlay");
	cr_expect_eq(exists("/etc/ld.so.preload"), had_real,
		     "the machine's /etc/ld.so.preload changed");
	cr_expect_eq(exists(real_lib), had_real_lib,
		     "the machine's library directory changed");
}

/* ld.so expands $LIB in ld.so.preload entries: /usr/$LIB/libnoleak.so is
 * this architecture's copy for 64-bit programs (and lib32's, or
 * i386-linux-gnu's, for 32-bit ones, where a 32-bit build sits beside).
 * The entry written by hand works, and noleak sees it as its own.  On a
 * host with a 32-bit libc (libc6-i386, libc6:i386) and no 32-bit build,
 * every 32-bit program would print a loader error: status says so. */
Test(deploy_host, lib_token_entry_loads_this_architectures_copy)
{
	if (strncmp(libdir, "/usr/", 5))
		cr_skip_test("the library directory %s is not under /usr", libdir);
	char script[4096];
	fmt(script, sizeof script,
	    "\"$NOLEAK\" enable > /dev/null || exit 1\n"
	    "echo '/usr/$LIB/libnoleak.so' > /etc/ld.so.preload\n"
	    "%s"
	    "\"$NOLEAK\" status; echo status=$?\n"
	    "\"$NOLEAK\" enable; echo enable=$?\n"
	    "cat /etc/ld.so.preload\n",
	    mapped_check);
	in_namespace(script);
	int libc32 = exists("/lib32/libc.so.6") || exists("/usr/lib32/libc.so.6") ||
		     exists("/lib/i386-linux-gnu/libc.so.6") ||
		     exists("/usr/lib/i386-linux-gnu/libc.so.6");
	int lib32 = exists("/usr/lib32/libnoleak.so") ||
		    exists("/usr/lib/i386-linux-gnu/libnoleak.so");
	cr_expect(strstr(r.out, "mapped=yes\n"), "%s%s", r.out, r.err);
	if (libc32 && !lib32)
		cr_expect(strstr(r.out, "status=2\n") &&
			  strstr(r.out, "problem: the build for 32-bit i386 programs"),
			  "a 32-bit libc without a 32-bit build: %s", r.out);
	else
		cr_expect(strstr(r.out, "status=0\n"), "%s", r.out);
	cr_expect(strstr(r.out, "already enabled"), "%s", r.out);
	cr_expect(strstr(r.out, "enable=0\n/usr/$LIB/libnoleak.so\n"), "%s", r.out);
}
