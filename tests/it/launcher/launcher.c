/* The noleak launcher: what it puts in the environment of the command, what
 * it refuses, and its exit statuses.  These check the environment the
 * command receives, not what the shim then does with it. */
#include <criterion/criterion.h>

#include <elf.h>

#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/files.h"
#include "../../lib/run.h"

#define TIMEOUT 20.0

static const char *const all_vars[] = {
	"NOLEAK_MODE", "NOLEAK_LOG", "NOLEAK_CONFIG", "NOLEAK_KEEP_FDS",
	"NOLEAK_SOCK_TIMEOUT", "NOLEAK_KEEPALIVE", "NOLEAK_READ_WARN",
	"NOLEAK_READ_TIMEOUT", "NOLEAK_PGROUP", "NOLEAK_ORPHANS",
	"NOLEAK_STDIN", "NOLEAK_FD_TRANSPARENT", "NOLEAK_FD_TRAMPOLINES",
	"NOLEAK_SOCK_TIMEOUT_UNIX", "NOLEAK_SOCK_TIMEOUT_DGRAM",
	"NOLEAK_LAUNCHED", NULL,
};

static struct run_result r;

/* noleak ARGS... with extra environment `env` (may be NULL). */
static void noleak(char *const env[], const char *first, ...)
{
	char *argv[64];
	int n = 0;
	argv[n++] = (char *)top("build/noleak");
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *)) {
		cr_assert_lt(n, 63);
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	cr_assert_eq(run(&r, argv, env, 0, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "noleak %s timed out", first);
}

static const char *print_env(void) { return top("build/fixtures/print_env"); }

/* The library where the launcher finds it: next to build/noleak, as the
 * kernel names it (no symlinks, no ".."). */
static const char *library(void)
{
	static char lib[PATH_MAX + 32];
	char dir[PATH_MAX];
	cr_assert_not_null(realpath(top("build"), dir));
	snprintf(lib, sizeof lib, "%s/libnoleak.so", dir);
	return lib;
}

/* The whole line "NAME=..." of print_env's output, or NULL. */
static const char *var_line(const char *out, const char *name)
{
	static char line[PATH_MAX * 2];
	size_t n = strlen(name);
	for (const char *p = out; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > n && !strncmp(p, name, n) && p[n] == '=') {
			snprintf(line, sizeof line, "%.*s", (int)len, p);
			return line;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static void expect_var(const char *name, const char *value)
{
	char want[PATH_MAX * 2];
	snprintf(want, sizeof want, "%s=%s", name, value);
	const char *got = var_line(r.out, name);
	cr_assert_not_null(got, "%s missing; stderr: %s", name, r.err);
	cr_assert_str_eq(got, want);
}

static void expect_refused(const char *what)
{
	cr_expect_eq(exit_code(&r), 2, "%s: exit %d, stderr: %s", what,
		     exit_code(&r), r.err);
	cr_expect_eq(count_lines_with(r.err, "noleak: "), 1,
		     "%s: want one message line, got: %s", what, r.err);
	cr_expect_str_eq(r.out, "", "%s: the command ran", what);
}


static void init(void)
{
	cr_assert_eq(access(top("build/noleak"), X_OK), 0, "build/noleak missing");
	cr_assert_eq(access(print_env(), X_OK), 0, "print_env missing");
}

TestSuite(launcher, .init = init);

Test(launcher, preloads_the_library_next_to_itself)
{
	noleak(NULL, print_env(), NULL);
	cr_assert_eq(exit_code(&r), 0, "stderr: %s", r.err);
	expect_var("LD_PRELOAD", library());
}

Test(launcher, each_option_sets_its_variable)
{
	noleak(NULL, "--audit", "--log", "stderr", "--keep-fds", "3,5-7",
	       "--sock-timeout", "10", "--read-warn", "5", "--pgroup", "always",
	       "--", print_env(), NULL);
	cr_assert_eq(exit_code(&r), 0, "stderr: %s", r.err);
	expect_var("NOLEAK_MODE", "audit");
	expect_var("NOLEAK_LOG", "stderr");
	expect_var("NOLEAK_KEEP_FDS", "3,5-7");
	expect_var("NOLEAK_SOCK_TIMEOUT", "10");
	expect_var("NOLEAK_READ_WARN", "5");
	expect_var("NOLEAK_PGROUP", "always");
}

/* Copies of build/noleak (and, when `with_library`, of the library) in the
 * layout of make install: DIR/bin/noleak, DIR/lib/libnoleak.so. */
static const char *install_copy(int with_library, char *lib, size_t cap)
{
	static char bin[PATH_MAX];
	const char *dir = tmpdir();
	char cmd[PATH_MAX * 4];
	int n = snprintf(cmd, sizeof cmd,
			 "mkdir -p '%s/bin' '%s/lib' && cp '%s' '%s/bin/noleak'",
			 dir, dir, top("build/noleak"), dir);
	if (with_library)
		snprintf(cmd + n, sizeof cmd - (size_t)n, " && cp '%s' '%s/lib/'",
			 library(), dir);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	snprintf(bin, sizeof bin, "%s/bin/noleak", dir);
	if (lib) {
		char real[PATH_MAX];
		cr_assert_not_null(realpath(dir, real));
		snprintf(lib, cap, "%s/lib/libnoleak.so", real);
	}
	return bin;
}

Test(launcher, finds_the_library_in_the_installed_layout)
{
	char lib[PATH_MAX + 32];
	char *argv[] = { (char *)install_copy(1, lib, sizeof lib),
			 (char *)print_env(), NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "stderr: %s", r.err);
	expect_var("LD_PRELOAD", lib);
}

Test(launcher, missing_library_is_refused)
{
	char *argv[] = { (char *)install_copy(0, NULL, 0), (char *)print_env(),
			 NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	expect_refused("no libnoleak.so");
	cr_expect(strstr(r.err, "libnoleak.so"), "%s", r.err);
}

Test(launcher, nothing_set_that_was_not_asked_for)
{
	noleak(NULL, print_env(), NULL);
	cr_assert_eq(exit_code(&r), 0);
	for (int i = 0; all_vars[i]; i++)
		if (strcmp(all_vars[i], "NOLEAK_LAUNCHED"))
			cr_expect_null(var_line(r.out, all_vars[i]), "%s set",
				       all_vars[i]);
}

Test(launcher, set_reaches_every_key)
{
	noleak(NULL, "--set", "mode=off", "--set", "log=syslog",
	       "--set", "keep_fds=4", "--set", "sock_timeout=7",
	       "--set", "keepalive=30,5,4", "--set", "read_warn=3",
	       "--set", "read_timeout=4", "--set", "pgroup=never",
	       "--set", "orphans=kill", "--set", "stdin=detach",
	       "--set", "fd_transparent=bash,sh",
	       "--set", "fd_trampolines=jspawnhelper",
	       "--set", "sock_timeout_unix=5", "--set", "sock_timeout_dgram=6",
	       print_env(), NULL);
	cr_assert_eq(exit_code(&r), 0, "stderr: %s", r.err);
	expect_var("NOLEAK_MODE", "off");
	expect_var("NOLEAK_LOG", "syslog");
	expect_var("NOLEAK_KEEP_FDS", "4");
	expect_var("NOLEAK_SOCK_TIMEOUT", "7");
	expect_var("NOLEAK_KEEPALIVE", "30,5,4");
	expect_var("NOLEAK_READ_WARN", "3");
	expect_var("NOLEAK_READ_TIMEOUT", "4");
	expect_var("NOLEAK_PGROUP", "never");
	expect_var("NOLEAK_ORPHANS", "kill");
	expect_var("NOLEAK_STDIN", "detach");
	expect_var("NOLEAK_FD_TRANSPARENT", "bash,sh");
	expect_var("NOLEAK_FD_TRAMPOLINES", "jspawnhelper");
	expect_var("NOLEAK_SOCK_TIMEOUT_UNIX", "5");
	expect_var("NOLEAK_SOCK_TIMEOUT_DGRAM", "6");
}

Test(launcher, later_option_wins)
{
	noleak(NULL, "--audit", "--set", "mode=off", print_env(), NULL);
	cr_assert_eq(exit_code(&r), 0);
	expect_var("NOLEAK_MODE", "off");
}

Test(launcher, relative_log_file_becomes_absolute)
{
	char cwd[PATH_MAX], want[PATH_MAX + 16];
	cr_assert_not_null(getcwd(cwd, sizeof cwd));
	snprintf(want, sizeof want, "%s/events.log", cwd);
	noleak(NULL, "--log", "events.log", print_env(), NULL);
	cr_assert_eq(exit_code(&r), 0, "stderr: %s", r.err);
	expect_var("NOLEAK_LOG", want);
}

Test(launcher, appends_to_an_existing_preload)
{
	char *env[] = { "LD_PRELOAD=/nonexistent/first.so", NULL };
	char want[PATH_MAX * 2];
	noleak(env, print_env(), NULL);
	cr_assert_eq(exit_code(&r), 0);
	snprintf(want, sizeof want, "/nonexistent/first.so:%s", library());
	expect_var("LD_PRELOAD", want);
}

Test(launcher, does_not_add_the_library_twice)
{
	char pre[PATH_MAX + 32];
	snprintf(pre, sizeof pre, "LD_PRELOAD=%s", library());
	char *env[] = { pre, NULL };
	noleak(env, print_env(), NULL);
	cr_assert_eq(exit_code(&r), 0);
	expect_var("LD_PRELOAD", library());
}

Test(launcher, command_keeps_the_launcher_pid)
{
	noleak(NULL, print_env(), "--pid", NULL);
	cr_assert_eq(exit_code(&r), 0);
	const char *pid = var_line(r.out, "pid");
	cr_assert_not_null(pid);
	expect_var("NOLEAK_LAUNCHED", pid + 4);
}

Test(launcher, options_after_the_command_belong_to_it)
{
	noleak(NULL, print_env(), "--audit", NULL);
	cr_assert_eq(exit_code(&r), 0);
	cr_assert_null(var_line(r.out, "NOLEAK_MODE"));
}

Test(launcher, exit_status_is_the_command_s)
{
	noleak(NULL, "/bin/sh", "-c", "exit 7", NULL);
	cr_assert_eq(exit_code(&r), 7);
}

Test(launcher, bad_key_is_refused)
{
	noleak(NULL, "--set", "no_such_key=1", print_env(), NULL);
	expect_refused("bad key");
	cr_expect(strstr(r.err, "no_such_key"), "%s", r.err);
}

Test(launcher, bad_values_are_refused)
{
	noleak(NULL, "--set", "mode=sometimes", print_env(), NULL);
	expect_refused("--set mode=sometimes");
	cr_expect(strstr(r.err, "sometimes"), "%s", r.err);
	noleak(NULL, "--sock-timeout", "soon", print_env(), NULL);
	expect_refused("--sock-timeout soon");
	noleak(NULL, "--pgroup", "maybe", print_env(), NULL);
	expect_refused("--pgroup maybe");
	noleak(NULL, "--keep-fds", "x", print_env(), NULL);
	expect_refused("--keep-fds x");
}

Test(launcher, static_binary_is_refused_and_not_run)
{
	noleak(NULL, top("build/fixtures/static_hello"), NULL);
	expect_refused("static binary");
	cr_expect(strstr(r.err, "static_hello"), "%s", r.err);
}

Test(launcher, script_with_a_static_interpreter_is_refused)
{
	char script[PATH_MAX], text[PATH_MAX + 32];
	snprintf(script, sizeof script, "%s/script", tmpdir());
	snprintf(text, sizeof text, "#!%s\necho ran\n",
		 top("build/fixtures/static_hello"));
	write_file(script, text, 0755);
	noleak(NULL, script, NULL);
	expect_refused("#! static interpreter");
	cr_expect(strstr(r.err, "static_hello"), "%s", r.err);
}

Test(launcher, env_shebang_is_resolved_on_path)
{
	char script[PATH_MAX], path[PATH_MAX * 2];
	snprintf(script, sizeof script, "%s/script", tmpdir());
	write_file(script, "#!/usr/bin/env static_hello\n", 0755);
	snprintf(path, sizeof path, "PATH=%s:/usr/bin:/bin",
		 top("build/fixtures"));
	char *env[] = { path, NULL };
	noleak(env, script, NULL);
	expect_refused("#!/usr/bin/env static_hello");
}

/* A 32-bit ELF program header table, written by hand: one PT_INTERP (a
 * program that needs a loader) or one PT_LOAD (a static one). */
static void write_elf32(const char *path, int with_interp)
{
	static const char interp[] = "/nonexistent/ld-linux.so.2";
	struct {
		Elf32_Ehdr eh;
		Elf32_Phdr ph;
		char interp[sizeof interp];
	} f;
	memset(&f, 0, sizeof f);
	memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
	f.eh.e_ident[EI_CLASS] = ELFCLASS32;
	f.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f.eh.e_ident[EI_VERSION] = EV_CURRENT;
	f.eh.e_type = ET_EXEC;
	f.eh.e_machine = EM_386;
	f.eh.e_version = EV_CURRENT;
	f.eh.e_phoff = offsetof(__typeof__(f), ph);
	f.eh.e_ehsize = sizeof f.eh;
	f.eh.e_phentsize = sizeof f.ph;
	f.eh.e_phnum = 1;
	f.ph.p_type = with_interp ? PT_INTERP : PT_LOAD;
	f.ph.p_offset = offsetof(__typeof__(f), interp);
	f.ph.p_filesz = sizeof interp;
	memcpy(f.interp, interp, sizeof interp);
	FILE *out = fopen(path, "w");
	cr_assert_not_null(out);
	cr_assert_eq(fwrite(&f, sizeof f, 1, out), 1u);
	cr_assert_eq(fclose(out), 0);
	cr_assert_eq(chmod(path, 0755), 0);
}

Test(launcher, elf32_without_a_loader_is_refused)
{
	char file[PATH_MAX];
	snprintf(file, sizeof file, "%s/static32", tmpdir());
	write_elf32(file, 0);
	noleak(NULL, file, NULL);
	expect_refused("32-bit static");
	cr_expect(strstr(r.err, "statically linked"), "%s", r.err);
}

Test(launcher, elf32_with_a_loader_is_not_called_static)
{
	char file[PATH_MAX];
	snprintf(file, sizeof file, "%s/dynamic32", tmpdir());
	write_elf32(file, 1);
	noleak(NULL, file, NULL);
	/* It cannot really run; what matters is what noleak said first. */
	cr_expect_null(strstr(r.err, "statically linked"), "%s", r.err);
	cr_expect(strstr(r.err, "32-bit"), "%s", r.err);
}

Test(launcher, shell_script_runs_under_the_shim)
{
	char script[PATH_MAX];
	snprintf(script, sizeof script, "%s/script", tmpdir());
	write_file(script, "#!/bin/sh\n"
		   "echo \"mode=$NOLEAK_MODE\"\n"
		   "echo \"LD_PRELOAD=$LD_PRELOAD\"\n", 0755);
	noleak(NULL, "--audit", script, NULL);
	cr_assert_eq(exit_code(&r), 0, "stderr: %s", r.err);
	expect_var("mode", "audit");
	expect_var("LD_PRELOAD", library());
}

Test(launcher, command_not_found)
{
	noleak(NULL, "noleak-no-such-command", NULL);
	cr_assert_eq(exit_code(&r), 127);
	cr_assert(strstr(r.err, "noleak: noleak-no-such-command: command not found"),
		  "%s", r.err);
}

Test(launcher, found_on_path)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof path, "PATH=/nonexistent:%s", top("build/fixtures"));
	char *env[] = { path, NULL };
	noleak(env, "print_env", NULL);
	cr_assert_eq(exit_code(&r), 0, "stderr: %s", r.err);
	expect_var("LD_PRELOAD", library());
}

Test(launcher, not_executable)
{
	char file[PATH_MAX];
	snprintf(file, sizeof file, "%s/plain", tmpdir());
	write_file(file, "#!/bin/sh\necho ran\n", 0644);
	noleak(NULL, file, NULL);
	cr_assert_eq(exit_code(&r), 126, "stderr: %s", r.err);
	cr_assert_str_eq(r.out, "");
}

Test(launcher, setuid_target_gets_a_warning_and_runs)
{
	char copy[PATH_MAX], cmd[PATH_MAX * 3];
	snprintf(copy, sizeof copy, "%s/suid", tmpdir());
	snprintf(cmd, sizeof cmd, "cp '%s' '%s' && chmod 4755 '%s'", print_env(),
		 copy, copy);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	noleak(NULL, copy, NULL);
	cr_assert_eq(exit_code(&r), 0, "stderr: %s", r.err);
	cr_expect_eq(count_lines_with(r.err, "noleak: warning: "), 1, "%s", r.err);
	cr_expect(strstr(r.err, "is set-user-ID"), "%s", r.err);
	cr_expect(var_line(r.out, "NOLEAK_LAUNCHED"), "it did not run");
}

Test(launcher, config_file_is_checked_and_passed_absolute)
{
	const char *dir = tmpdir();
	char good[PATH_MAX], bad[PATH_MAX], open_to_all[PATH_MAX];
	snprintf(good, sizeof good, "%s/good.conf", dir);
	snprintf(bad, sizeof bad, "%s/bad.conf", dir);
	snprintf(open_to_all, sizeof open_to_all, "%s/open.conf", dir);
	write_file(good, "mode = audit\n", 0644);
	write_file(bad, "mode = sometimes\n", 0644);
	write_file(open_to_all, "mode = audit\n", 0666);

	noleak(NULL, "--config", good, print_env(), NULL);
	cr_assert_eq(exit_code(&r), 0, "stderr: %s", r.err);
	char real[PATH_MAX];
	cr_assert_not_null(realpath(good, real));
	expect_var("NOLEAK_CONFIG", real);

	noleak(NULL, "--config", bad, print_env(), NULL);
	expect_refused("config with a bad value");
	noleak(NULL, "--config", open_to_all, print_env(), NULL);
	expect_refused("world-writable config");
	noleak(NULL, "--config", "/nonexistent/noleak.conf", print_env(), NULL);
	expect_refused("missing config");

	/* What the shim reads as the launcher does: past 64 KiB it reads
	 * nothing (the settings there were taken, then not applied), and it
	 * reads the drop-ins of FILE.d. */
	char big[PATH_MAX], dropins[PATH_MAX + 8], dropin[PATH_MAX + 16];
	snprintf(big, sizeof big, "%s/big.conf", dir);
	size_t n = 70 * 1024;
	char *text = malloc(n + 64);
	cr_assert_not_null(text);
	for (size_t i = 0; i < n; i += 64)
		snprintf(text + i, 65, "# %61s\n", "a comment line of 64 bytes");
	strcpy(text + n, "mode = audit\n");
	write_file(big, text, 0644);
	free(text);
	noleak(NULL, "--config", big, print_env(), NULL);
	expect_refused("config over 64 KiB");
	snprintf(dropins, sizeof dropins, "%s.d", good);
	cr_assert_eq(mkdir(dropins, 0755), 0);
	snprintf(dropin, sizeof dropin, "%s/x.conf", dropins);
	write_file(dropin, "mode = sometimes\n", 0644);
	noleak(NULL, "--config", good, print_env(), NULL);
	expect_refused("a drop-in with a bad value");
}

Test(launcher, help_reads_like_a_man_page)
{
	noleak(NULL, "--help", NULL);
	cr_assert_eq(exit_code(&r), 0);
	const char *sections[] = { "NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS",
				   "ENVIRONMENT", "EXIT STATUS", "EXAMPLES",
				   "SEE ALSO", NULL };
	for (int i = 0; sections[i]; i++) {
		char line[64];
		snprintf(line, sizeof line, "\n%s\n", sections[i]);
		cr_expect(strstr(r.out, line) || !strncmp(r.out, line + 1, strlen(line + 1)),
			  "no %s section", sections[i]);
	}
	for (int i = 0; all_vars[i]; i++)
		cr_expect(strstr(r.out, all_vars[i]), "--help omits %s", all_vars[i]);
	cr_expect_str_eq(r.err, "");
}

Test(launcher, version)
{
	noleak(NULL, "--version", NULL);
	cr_assert_eq(exit_code(&r), 0);
	cr_assert_eq(strncmp(r.out, "noleak ", 7), 0, "%s", r.out);
	cr_assert(r.out[7] >= '0' && r.out[7] <= '9', "%s", r.out);
}

Test(launcher, unknown_option_is_a_usage_error)
{
	noleak(NULL, "--no-such-option", print_env(), NULL);
	cr_assert_eq(exit_code(&r), 2);
	cr_assert(strstr(r.err, "usage: noleak"), "%s", r.err);
	cr_assert_str_eq(r.out, "");
}

Test(launcher, no_command_is_a_usage_error)
{
	noleak(NULL, "--audit", NULL);
	cr_assert_eq(exit_code(&r), 2);
	cr_assert(strstr(r.err, "usage: noleak"), "%s", r.err);
}
