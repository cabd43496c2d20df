/* noleak enable, disable and status on a prepared tree (--root DIR).
 *
 * Each test builds a small root-owned tree under /tmp: DIR/etc, maybe an
 * existing DIR/etc/ld.so.preload, and points the subcommands at it.  The
 * entry they write names the path ld.so sees once DIR is the root (the
 * system library directory); the library itself lands below DIR.
 * Needs root: the subcommands refuse to run without it, and the checks
 * they make are about root ownership. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/files.h"
#include "../../lib/run.h"

#define TIMEOUT 20.0
#define NOBODY "65534"

static struct run_result r;

/* snprintf for paths that are known to fit. */
static void fmt(char *out, size_t cap, const char *f, ...)
	__attribute__((format(printf, 3, 4)));
static void fmt(char *out, size_t cap, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vsnprintf(out, cap, f, ap);
	va_end(ap);
}
static char root[256];
static char libdir[PATH_MAX];   /* the system library directory */

static const char *at(const char *rel)
{
	static char buf[8][PATH_MAX];
	static int next;
	char *out = buf[next++ % 8];
	fmt(out, PATH_MAX, "%s%s", root, rel);
	return out;
}

/* <libdir>/libnoleak.so: the entry, as ld.so sees it. */
static const char *entry(void)
{
	static char buf[PATH_MAX + 16];
	fmt(buf, sizeof buf, "%s/libnoleak.so", libdir);
	return buf;
}

static const char *installed(void) { return at(entry()); }

/* Where this process's libc.so.6 lives: what noleak installs into. */
static void find_libdir(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	cr_assert_not_null(f);
	libdir[0] = 0;
	while (!libdir[0] && fgets(line, sizeof line, f)) {
		char *path = strchr(line, '/');
		char *base = path ? strrchr(path, '/') : NULL;
		if (!base || strncmp(base, "/libc.so.", 9))
			continue;
		*base = 0;
		cr_assert_not_null(realpath(path, libdir));
	}
	fclose(f);
	cr_assert(libdir[0], "libc.so.6 not in /proc/self/maps");
}


static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: noleak enable/disable refuse to run without it");
	find_libdir();
	fmt(root, sizeof root, "%s", tmpdir());
	cr_assert_eq(chmod(root, 0755), 0);
	cr_assert_eq(mkdir(at("/etc"), 0755), 0);
}

static void teardown(void)
{
	if (!strncmp(root, "/tmp/noleak-test.", 17)) {
		char cmd[PATH_MAX];
		fmt(cmd, sizeof cmd, "rm -rf '%s'", root);
		run_sh(&r, cmd, NULL, 0, TIMEOUT);
	}
}

TestSuite(deploy_cli, .init = setup, .fini = teardown, .timeout = 60);

/* noleak SUBCOMMAND --root ROOT [more...], as root. */
static int noleak(const char *sub, const char *a1, const char *a2)
{
	char *argv[] = { (char *)top("build/noleak"), (char *)sub, "--root", root,
			 (char *)a1, (char *)a2, NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "noleak %s hung", sub);
	return exit_code(&r);
}

/* Every line the subcommands print is one message: "noleak: ...". */
static void expect_noleak_lines(const char *text)
{
	for (const char *l = text; *l;) {
		cr_expect(!strncmp(l, "noleak: ", 8), "not a noleak message: %.80s", l);
		const char *nl = strchr(l, '\n');
		if (!nl)
			break;
		l = nl + 1;
	}
}

static void enable_ok(void)
{
	cr_assert_eq(noleak("enable", NULL, NULL), 0, "enable: %s%s", r.out, r.err);
	expect_noleak_lines(r.out);
	expect_noleak_lines(r.err);
}

/* Root-owned, not writable by group or others, with this mode. */
static void expect_root_file(const char *path, mode_t mode)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "%s missing", path);
	cr_expect_eq(st.st_uid, 0u, "%s uid", path);
	cr_expect_eq(st.st_gid, 0u, "%s gid", path);
	cr_expect_eq(st.st_mode & 07777, mode, "%s mode %o", path, st.st_mode & 07777);
}

/* No temporary file may be left beside the files written in place. */
static void expect_no_leftovers(const char *dir)
{
	char cmd[PATH_MAX];
	fmt(cmd, sizeof cmd, "ls -A '%s' | grep '^\\.' || true", dir);
	run_sh(&r, cmd, NULL, 0, TIMEOUT);
	cr_expect_str_empty(r.out, "temporary files left in %s: %s", dir, r.out);
}

Test(deploy_cli, enable_installs_library_and_adds_entry)
{
	enable_ok();
	char want[PATH_MAX + 32];
	fmt(want, sizeof want, "%s\n", entry());
	cr_expect_str_eq(slurp(at("/etc/ld.so.preload")), want);
	expect_root_file(at("/etc/ld.so.preload"), 0644);
	expect_root_file(installed(), 0644);
	char lib[1 << 20];
	fmt(lib, sizeof lib, "%s", slurp(shim_path()));
	cr_expect(!strcmp(slurp(installed()), lib) && lib[0],
		  "the installed library is a copy of build/libnoleak.so");
	cr_expect(strstr(r.out, "enabled"), "%s", r.out);
	expect_no_leftovers(at("/etc"));
	expect_no_leftovers(at(libdir));
}

Test(deploy_cli, enable_twice_changes_nothing)
{
	enable_ok();
	struct stat f1, l1, f2, l2;
	cr_assert_eq(stat(at("/etc/ld.so.preload"), &f1), 0);
	cr_assert_eq(stat(installed(), &l1), 0);
	char before[4096];
	fmt(before, sizeof before, "%s", slurp(at("/etc/ld.so.preload")));
	enable_ok();
	cr_expect(strstr(r.out, "already enabled"), "%s", r.out);
	cr_expect_str_eq(slurp(at("/etc/ld.so.preload")), before);
	cr_assert_eq(stat(at("/etc/ld.so.preload"), &f2), 0);
	cr_assert_eq(stat(installed(), &l2), 0);
	cr_expect_eq(f1.st_ino, f2.st_ino, "ld.so.preload was rewritten");
	cr_expect_eq(l1.st_ino, l2.st_ino, "the library was reinstalled");
}

/* Other entries (on their own lines, colon- or blank-separated, with
 * trailing comments), comment lines and blank lines all survive enable,
 * and disable gives back the file byte for byte. */
Test(deploy_cli, other_entries_comments_and_blank_lines_are_kept)
{
	static const char original[] =
		"# site preloads: keep this comment\n"
		"\n"
		"/usr/lib/site/audit.so:/usr/lib/site/trace.so # two, colon-separated\n"
		"   \n"
		"/opt/vendor/lib/hook.so\n";
	write_file(at("/etc/ld.so.preload"), original, 0644);
	enable_ok();
	char want[4096];
	fmt(want, sizeof want, "%s%s\n", original, entry());
	cr_expect_str_eq(slurp(at("/etc/ld.so.preload")), want);
	cr_assert_eq(noleak("disable", NULL, NULL), 0, "%s%s", r.out, r.err);
	cr_expect_str_eq(slurp(at("/etc/ld.so.preload")), original);
}

/* An entry for an older copy shares a line with someone else's entry:
 * enable swaps ours and keeps theirs; disable then removes ours alone. */
Test(deploy_cli, old_entry_on_a_shared_line_is_replaced)
{
	write_file(at("/etc/ld.so.preload"),
		   "/usr/lib/site/a.so:/usr/local/lib/libnoleak.so /usr/lib/site/b.so # site\n",
		   0644);
	enable_ok();
	char want[4096];
	fmt(want, sizeof want,
		 "/usr/lib/site/a.so /usr/lib/site/b.so # site\n%s\n", entry());
	cr_expect_str_eq(slurp(at("/etc/ld.so.preload")), want);
	cr_assert_eq(noleak("disable", NULL, NULL), 0);
	cr_expect_str_eq(slurp(at("/etc/ld.so.preload")),
			 "/usr/lib/site/a.so /usr/lib/site/b.so # site\n");
}

/* The file is replaced, never rewritten in place: a reader that opened
 * it before (ld.so in a program starting at that moment) reads the old
 * contents whole. */
Test(deploy_cli, preload_file_is_replaced_atomically)
{
	static const char original[] = "/usr/lib/site/hook.so\n";
	write_file(at("/etc/ld.so.preload"), original, 0644);
	int fd = open(at("/etc/ld.so.preload"), O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	enable_ok();
	char buf[256] = "";
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	close(fd);
	cr_assert_geq(n, 0);
	buf[n] = 0;
	cr_expect_str_eq(buf, original, "the old file was changed in place");
	cr_expect(strstr(slurp(at("/etc/ld.so.preload")), entry()));
	expect_root_file(at("/etc/ld.so.preload"), 0644);
	expect_no_leftovers(at("/etc"));
}

Test(deploy_cli, disable_keeps_library_unless_purge)
{
	enable_ok();
	cr_assert_eq(noleak("disable", NULL, NULL), 0, "%s%s", r.out, r.err);
	expect_noleak_lines(r.out);
	cr_expect(!exists(at("/etc/ld.so.preload")),
		  "a file that held only our entry is removed");
	cr_expect(exists(installed()), "disable without --purge keeps the library");
	cr_assert_eq(noleak("disable", NULL, NULL), 0, "disable twice: %s", r.err);
	cr_expect(strstr(r.out, "already disabled"), "%s", r.out);
	cr_assert_eq(noleak("status", NULL, NULL), 1, "%s", r.out);
	cr_assert_eq(noleak("disable", "--purge", NULL), 0, "%s", r.err);
	cr_expect(!exists(installed()), "--purge removes the library");
}

Test(deploy_cli, status_reports_entry_and_library)
{
	cr_assert_eq(noleak("status", NULL, NULL), 1, "not enabled yet: %s", r.out);
	cr_expect(strstr(r.out, "not enabled"), "%s", r.out);
	enable_ok();
	char *ver[] = { (char *)top("build/noleak"), "--version", NULL };
	cr_assert_eq(run(&r, ver, NULL, 0, TIMEOUT, NULL), 0);
	char version[64];
	cr_assert_eq(sscanf(r.out, "noleak %63s", version), 1);
	cr_assert_eq(noleak("status", NULL, NULL), 0, "%s%s", r.out, r.err);
	expect_noleak_lines(r.out);
	char want[PATH_MAX + 64];
	fmt(want, sizeof want, "line 1: %s", entry());
	cr_expect(strstr(r.out, want), "entry: %s", r.out);
	fmt(want, sizeof want, "library: %s, version %s", entry(), version);
	cr_expect(strstr(r.out, want), "path and version: %s", r.out);
	cr_expect(strstr(r.out, "owner root:root"), "owner: %s", r.out);
	cr_expect(strstr(r.out, "mode 0644"), "mode: %s", r.out);
}

/* An entry whose file is gone makes every program on the host print an
 * error: status says so and exits 2. */
Test(deploy_cli, status_flags_missing_library)
{
	enable_ok();
	cr_assert_eq(unlink(installed()), 0);
	cr_assert_eq(noleak("status", NULL, NULL), 2, "%s", r.out);
	cr_expect(strstr(r.out, "problem") && strstr(r.out, "No such file"), "%s", r.out);
}

/* An entry ending in a carriage return (a file edited elsewhere): ld.so
 * takes the \r as part of the name, cannot load it and every program
 * prints an error.  status said healthy and enable "already enabled". */
Test(deploy_cli, entry_with_a_carriage_return_is_flagged_and_replaced)
{
	enable_ok();
	char crlf[PATH_MAX + 4];
	fmt(crlf, sizeof crlf, "%s\r\n", entry());
	write_file(at("/etc/ld.so.preload"), crlf, 0644);
	cr_expect_eq(noleak("status", NULL, NULL), 2, "%s", r.out);
	cr_expect(strstr(r.out, "problem"), "%s", r.out);
	enable_ok();
	char want[PATH_MAX + 4];
	fmt(want, sizeof want, "%s\n", entry());
	cr_expect_str_eq(slurp(at("/etc/ld.so.preload")), want);
	cr_expect_eq(noleak("status", NULL, NULL), 0, "%s", r.out);
	write_file(at("/etc/ld.so.preload"), crlf, 0644);
	cr_assert_eq(noleak("disable", NULL, NULL), 0, "%s%s", r.out, r.err);
	cr_expect(!exists(at("/etc/ld.so.preload")) ||
		  !*slurp(at("/etc/ld.so.preload")), "%s",
		  slurp(at("/etc/ld.so.preload")));
}

Test(deploy_cli, status_flags_library_writable_by_others)
{
	enable_ok();
	cr_assert_eq(chmod(installed(), 0666), 0);
	cr_assert_eq(noleak("status", NULL, NULL), 2, "%s", r.out);
	cr_expect(strstr(r.out, "writable by others"), "%s", r.out);
}

/* /usr/$LIB/libnoleak.so is what a host with 32-bit programs too uses:
 * status follows it to this architecture's copy, and enable sees the
 * entry as its own instead of adding a second one. */
Test(deploy_cli, lib_token_entry_is_understood)
{
	enable_ok();
	const char *lib = libdir + (strncmp(libdir, "/usr/", 5) ? 1 : 5);
	char text[PATH_MAX];
	fmt(text, sizeof text, "/usr/$LIB/libnoleak.so\n");
	write_file(at("/etc/ld.so.preload"), text, 0644);
	cr_assert_eq(noleak("status", NULL, NULL), 0, "%s", r.out);
	char want[PATH_MAX];
	fmt(want, sizeof want, "/usr/$LIB/libnoleak.so, for this architecture /usr/%s/libnoleak.so",
		 lib);
	cr_expect(strstr(r.out, want), "want \"%s\" in %s", want, r.out);
	enable_ok();
	cr_expect_str_eq(slurp(at("/etc/ld.so.preload")), text);
}

/* --- builds for other ABIs: /usr/$LIB/libnoleak.so --- */

/* The ELF header of a shared object (or, for a libc, what ld.so would
 * load) of `bits` and `machine`: all noleak reads of a foreign build. */
static void write_elf(const char *rel, int bits, int machine, mode_t mode)
{
	unsigned char h[64] = { 0x7f, 'E', 'L', 'F', bits == 64 ? 2 : 1, 1, 1 };
	h[16] = 3;   /* ET_DYN */
	h[18] = (unsigned char)machine;
	char dir[PATH_MAX], cmd[PATH_MAX + 32];
	fmt(dir, sizeof dir, "%s", at(rel));
	*strrchr(dir, '/') = 0;
	fmt(cmd, sizeof cmd, "mkdir -p '%s'", dir);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	FILE *f = fopen(at(rel), "w");
	cr_assert_not_null(f, "%s", at(rel));
	cr_assert_eq(fwrite(h, 1, sizeof h, f), sizeof h);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(at(rel), mode), 0);
}
#define I386 3
#define X86_64 62

/* A 32-bit build beside this one: enable writes the one $LIB entry
 * (replacing the plain path written while this ABI's build was alone),
 * status checks each build, enable again changes nothing. */
Test(deploy_cli, enable_writes_lib_entry_when_another_abis_build_is_installed)
{
	enable_ok();
	char plain[PATH_MAX + 32];
	fmt(plain, sizeof plain, "%s\n", entry());
	cr_expect_str_eq(slurp(at("/etc/ld.so.preload")), plain,
			 "this ABI's build alone: the plain path");
	write_elf("/lib32/libc.so.6", 32, I386, 0755);
	write_elf("/usr/lib32/libnoleak.so", 32, I386, 0644);
	enable_ok();
	cr_expect(strstr(r.out, "another build: /usr/lib32/libnoleak.so (32-bit i386)"),
		  "%s", r.out);
	cr_expect_str_eq(slurp(at("/etc/ld.so.preload")), "/usr/$LIB/libnoleak.so\n");
	enable_ok();
	cr_expect(strstr(r.out, "already enabled"), "%s", r.out);
	cr_expect_str_eq(slurp(at("/etc/ld.so.preload")), "/usr/$LIB/libnoleak.so\n");
	cr_assert_eq(noleak("status", NULL, NULL), 0, "%s%s", r.out, r.err);
	expect_noleak_lines(r.out);
	cr_expect(strstr(r.out, "library: /usr/lib32/libnoleak.so, for 32-bit i386 programs (/lib32/libc.so.6), owner root:root"),
		  "%s", r.out);
	cr_assert_eq(noleak("disable", NULL, NULL), 0, "%s", r.err);
	cr_expect(!exists(at("/etc/ld.so.preload")));
}

/* The $LIB entry on a host with a 32-bit libc and no 32-bit build: every
 * 32-bit program prints a loader error, so status fails and names the
 * missing build (in the multiarch layout here: lib/i386-linux-gnu). */
Test(deploy_cli, status_flags_missing_build_for_an_installed_libc)
{
	enable_ok();
	write_elf("/lib/i386-linux-gnu/libc.so.6", 32, I386, 0755);
	cr_assert_eq(noleak("status", NULL, NULL), 0, "plain path: %s", r.out);
	write_file(at("/etc/ld.so.preload"), "/usr/$LIB/libnoleak.so\n", 0644);
	cr_assert_eq(noleak("status", NULL, NULL), 2, "%s", r.out);
	cr_expect(strstr(r.out, "problem: the build for 32-bit i386 programs (/lib/i386-linux-gnu/libc.so.6)") &&
		  strstr(r.out, "/usr/lib/i386-linux-gnu/libnoleak.so: No such file"), "%s", r.out);
	write_elf("/usr/lib/i386-linux-gnu/libnoleak.so", 32, I386, 0644);
	cr_assert_eq(noleak("status", NULL, NULL), 0, "%s", r.out);
}

/* Each build is checked: writable by others, built for another ABI, not
 * readable by every user. */
Test(deploy_cli, status_checks_each_build)
{
	write_elf("/lib32/libc.so.6", 32, I386, 0755);
	write_elf("/usr/lib32/libnoleak.so", 32, I386, 0644);
	enable_ok();
	cr_assert_eq(noleak("status", NULL, NULL), 0, "%s", r.out);
	cr_assert_eq(chmod(at("/usr/lib32/libnoleak.so"), 0666), 0);
	cr_assert_eq(noleak("status", NULL, NULL), 2, "%s", r.out);
	cr_expect(strstr(r.out, "writable by others"), "%s", r.out);
	cr_assert_eq(chmod(at("/usr/lib32/libnoleak.so"), 0640), 0);
	cr_assert_eq(noleak("status", NULL, NULL), 2, "%s", r.out);
	cr_expect(strstr(r.out, "not readable by every user"), "%s", r.out);
	write_elf("/usr/lib32/libnoleak.so", 64, X86_64, 0644);
	cr_assert_eq(noleak("status", NULL, NULL), 2, "%s", r.out);
	cr_expect(strstr(r.out, "built for 64-bit x86-64, its programs are 32-bit i386"),
		  "%s", r.out);
}

/* A build for another ABI that others can replace is refused: the $LIB
 * entry would load it into that ABI's set-user-ID programs. */
Test(deploy_cli, enable_refuses_another_build_others_can_write)
{
	write_elf("/usr/lib32/libnoleak.so", 32, I386, 0666);
	cr_assert_eq(noleak("enable", NULL, NULL), 2, "%s", r.out);
	cr_expect(strstr(r.err, "refusing the entry /usr/$LIB/libnoleak.so") &&
		  strstr(r.err, "writable by others"), "%s", r.err);
	cr_expect(!exists(at("/etc/ld.so.preload")));
}

Test(deploy_cli, refuses_missing_library)
{
	cr_assert_eq(noleak("enable", "--lib", at("/nowhere/libnoleak.so")), 2);
	cr_expect(strstr(r.err, "noleak: refusing") && strstr(r.err, "No such file"),
		  "%s", r.err);
	cr_expect(!exists(at("/etc/ld.so.preload")));
	cr_expect(!exists(installed()));
}

/* ld.so only warns about a preload it cannot load; noleak loads it into
 * a test program first, and keeps the working setup when that fails. */
Test(deploy_cli, refuses_library_that_does_not_load)
{
	enable_ok();
	char before[PATH_MAX];
	fmt(before, sizeof before, "%s", slurp(at("/etc/ld.so.preload")));
	struct stat l1, l2;
	cr_assert_eq(stat(installed(), &l1), 0);
	write_file(at("/not-a-library.so"), "not an ELF file\n", 0644);
	cr_assert_eq(noleak("enable", "--lib", at("/not-a-library.so")), 2, "%s", r.out);
	cr_expect(strstr(r.err, "did not load"), "%s", r.err);
	cr_expect_eq(count_lines_with(r.err, "noleak: "), 1, "one line: %s", r.err);
	cr_assert_eq(noleak("enable", "--lib", "/bin/true"), 2, "an executable");
	cr_expect_str_eq(slurp(at("/etc/ld.so.preload")), before);
	cr_assert_eq(stat(installed(), &l2), 0);
	cr_expect_eq(l1.st_ino, l2.st_ino, "the working library was replaced");
	cr_expect_eq(l1.st_size, l2.st_size);
	expect_no_leftovers(at(libdir));
}

/* Whoever can write a directory above the library can swap it, and ld.so
 * loads the entry into set-user-ID programs: refused. */
Test(deploy_cli, refuses_directories_others_can_write)
{
	char dir[PATH_MAX];
	fmt(dir, sizeof dir, "mkdir -p '%s'", at(libdir));
	run_sh(&r, dir, NULL, 0, TIMEOUT);
	cr_assert_eq(chmod(at("/usr"), 0775), 0);
	cr_assert_eq(noleak("enable", NULL, NULL), 2);
	cr_expect(strstr(r.err, "writable by its group"), "%s", r.err);
	cr_assert_eq(chmod(at("/usr"), 0755), 0);
	cr_assert_eq(chown(at("/usr"), 65534, 65534), 0);
	cr_assert_eq(noleak("enable", NULL, NULL), 2);
	cr_expect(strstr(r.err, "owned by uid 65534"), "%s", r.err);
	cr_expect(!exists(at("/etc/ld.so.preload")));
	cr_expect(!exists(installed()));
}

/* Run a copy of noleak as nobody: the source tree may sit below a
 * directory nobody cannot enter. */
static void noleak_as_nobody(const char *sub)
{
	char cmd[PATH_MAX * 2];
	fmt(cmd, sizeof cmd, "cp '%s' '%s' && chmod 0755 '%s'", top("build/noleak"),
	    at("/noleak"), at("/noleak"));
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	char *argv[] = { "setpriv", "--reuid=" NOBODY, "--regid=" NOBODY,
			 "--clear-groups", "--", (char *)at("/noleak"), (char *)sub,
			 "--root", root, NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out);
}

Test(deploy_cli, refuses_to_run_without_root)
{
	static const char *const subs[] = { "enable", "disable" };
	for (size_t i = 0; i < 2; i++) {
		noleak_as_nobody(subs[i]);
		cr_expect_eq(exit_code(&r), 2, "%s as nobody: %s", subs[i], r.err);
		cr_expect(strstr(r.err, "noleak: ") == r.err &&
			  strstr(r.err, "must run as root"), "%s", r.err);
		cr_expect_eq(count_lines_with(r.err, ""), 1, "one line: %s", r.err);
	}
	cr_expect(!exists(at("/etc/ld.so.preload")));
	/* status is for everyone */
	noleak_as_nobody("status");
	cr_expect_eq(exit_code(&r), 1, "status as nobody: %s%s", r.out, r.err);
	cr_expect(strstr(r.out, "not enabled"), "%s", r.out);
}

/* Whoever can write /etc/ld.so.preload chooses what set-user-ID programs
 * load: status flags a writable file, and enable makes it root's again. */
Test(deploy_cli, writable_preload_file_is_flagged_and_fixed)
{
	enable_ok();
	cr_assert_eq(chmod(at("/etc/ld.so.preload"), 0666), 0);
	cr_assert_eq(noleak("status", NULL, NULL), 2, "%s", r.out);
	cr_expect(strstr(r.out, "problem: file /etc/ld.so.preload is writable by others"),
		  "%s", r.out);
	enable_ok();
	expect_root_file(at("/etc/ld.so.preload"), 0644);
	cr_assert_eq(noleak("status", NULL, NULL), 0, "%s", r.out);
}

Test(deploy_cli, usage_errors_are_one_line)
{
	cr_assert_eq(noleak("enable", "--no-such-option", NULL), 2);
	cr_expect_eq(count_lines_with(r.err, ""), 1, "%s", r.err);
	cr_expect(strstr(r.err, "noleak: enable: unknown option: --no-such-option") == r.err,
		  "%s", r.err);
	cr_assert_eq(noleak("disable", "--lib", "/x.so"), 2);
	cr_expect(strstr(r.err, "noleak: disable: ") == r.err, "%s", r.err);
	cr_expect(!exists(at("/etc/ld.so.preload")));
}

/* An image's links mean paths of the image: DIR/etc -> /X is DIR/X once
 * DIR is the root, never the host's /X.  Each row links DIR/etc or DIR/usr
 * somewhere; enable, status and disable --purge must read and change only
 * the image's files where the link leads inside DIR, and the host's
 * directory of the same name (OUT below, with a sentinel where the library
 * would go) must stay as it was.  "%s" is OUT. */
static const struct link_case {
	const char *name;
	const char *link;     /* "/etc" or "/usr", below DIR */
	const char *target;   /* what it points to */
	const char *etc;      /* then the image's /etc is DIR + this */
	const char *usr;      /* and its /usr */
} link_cases[] = {
	{ "etc to an absolute path", "/etc", "%s/etc", "%s/etc", "/usr" },
	{ "etc past the root with ..", "/etc", "../../../../../../../..%s/etc",
	  "%s/etc", "/usr" },
	{ "etc to /etc-real", "/etc", "/etc-real", "/etc-real", "/usr" },
	{ "usr to an absolute path", "/usr", "%s/usr", "/etc", "%s/usr" },
	{ "usr to a link to a link", "/usr", "/u", "/etc", "/usr-real" },
};

Test(deploy_cli, links_in_the_tree_resolve_inside_it)
{
	char out[256];
	fmt(out, sizeof out, "%s", tmpdir());
	cr_assert_eq(chmod(out, 0755), 0);
	for (size_t i = 0; i < sizeof link_cases / sizeof link_cases[0]; i++) {
		const struct link_case *t = &link_cases[i];
		char cmd[PATH_MAX * 4], target[PATH_MAX], etc[PATH_MAX], usr[PATH_MAX];
		char sentinel[PATH_MAX * 2], file[PATH_MAX * 2], lib[PATH_MAX * 3];
		fmt(target, sizeof target, t->target, out);
		fmt(etc, sizeof etc, t->etc, out);
		fmt(usr, sizeof usr, t->usr, out);
		/* A fresh image with the directories of every row but the
		 * link; OUT's etc and library directory exist on the host. */
		fmt(cmd, sizeof cmd,
		    "cd '%s' && rm -rf ./* '%s'/* && mkdir -p etc usr '.%s/etc' '.%s/usr' "
		    "etc-real usr-real '%s/etc' '%s/usr%s' && ln -s /usr-real u && "
		    "rmdir '.%s'",
		    root, out, out, out, out, out, libdir + 4, t->link);
		cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
		cr_assert_eq(exit_code(&r), 0, "%s: %s", t->name, r.err);
		cr_assert_eq(symlink(target, at(t->link)), 0, "%s", t->name);
		fmt(sentinel, sizeof sentinel, "%s/usr%s/libnoleak.so", out, libdir + 4);
		write_file(sentinel, "not a library\n", 0644);
		fmt(file, sizeof file, "%s/ld.so.preload", at(etc));
		fmt(lib, sizeof lib, "%s%s/libnoleak.so", at(usr), libdir + 4);

		if (noleak("enable", NULL, NULL) != 0) {
			cr_expect_fail("%s: enable: %s%s", t->name, r.out, r.err);
			continue;
		}
		char want[PATH_MAX + 32], host_file[PATH_MAX];
		fmt(want, sizeof want, "%s\n", entry());
		cr_expect_str_eq(slurp(file), want, "%s: %s", t->name, file);
		cr_expect(exists(lib), "%s: no library in the image at %s", t->name, lib);
		fmt(host_file, sizeof host_file, "%s/etc/ld.so.preload", out);
		cr_expect(!exists(host_file), "%s: enable wrote %s, outside the tree",
			  t->name, host_file);
		cr_expect_str_eq(slurp(sentinel), "not a library\n",
				 "%s: enable replaced %s, outside the tree", t->name, sentinel);

		cr_expect_eq(noleak("status", NULL, NULL), 0, "%s: status: %s%s",
			     t->name, r.out, r.err);
		cr_assert_eq(noleak("disable", "--purge", NULL), 0, "%s: disable: %s%s",
			     t->name, r.out, r.err);
		cr_expect(!exists(file), "%s: disable left %s", t->name, file);
		cr_expect(!exists(lib), "%s: --purge left %s", t->name, lib);
		cr_expect_str_eq(slurp(sentinel), "not a library\n",
				 "%s: --purge removed %s, outside the tree", t->name, sentinel);
	}
	char cmd[PATH_MAX];
	fmt(cmd, sizeof cmd, "rm -rf '%s'", out);
	run_sh(&r, cmd, NULL, 0, TIMEOUT);
}
