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
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/version.h"
#include "../../lib/files.h"
#include "../../lib/ns.h"
#include "../../lib/pgroup_procs.h"
#include "../../lib/run.h"

#define TIMEOUT 20.0

static const char *const all_vars[] = {
	"NOLEAK_MODE", "NOLEAK_LOG", "NOLEAK_CONFIG", "NOLEAK_KEEP_FDS",
	"NOLEAK_SOCK_TIMEOUT", "NOLEAK_KEEPALIVE", "NOLEAK_READ_WARN",
	"NOLEAK_READ_TIMEOUT", "NOLEAK_PGROUP", "NOLEAK_ORPHANS",
	"NOLEAK_STDIN", "NOLEAK_FD_TRANSPARENT", "NOLEAK_FD_TRAMPOLINES",
	"NOLEAK_SOCK_TIMEOUT_UNIX", "NOLEAK_SOCK_TIMEOUT_DGRAM",
	"NOLEAK_KILL_ESCALATE", "NOLEAK_KILL_WRAPPERS",
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
	       "--set", "kill_escalate=always", "--set", "kill_wrappers=timeout",
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
	expect_var("NOLEAK_KILL_ESCALATE", "always");
	expect_var("NOLEAK_KILL_WRAPPERS", "timeout");
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
	/* NOLEAK_LAUNCHED=PID:START:PIDNS */
	char want[64];
	const char *pid = var_line(r.out, "pid");
	cr_assert_not_null(pid);
	snprintf(want, sizeof want, "NOLEAK_LAUNCHED=%s:", pid + 4);
	const char *launched = var_line(r.out, "NOLEAK_LAUNCHED");
	cr_assert_not_null(launched);
	cr_assert(!strncmp(launched, want, strlen(want)), "%s, want %s...",
		  launched, want);
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

/* What cannot be written (stdout on a full device, a closed stdout) is an
 * error with a message: it was exit 0 without a word for the help, and 1
 * without one for the version.  A status not written is a problem (2). */
Test(launcher, output_that_cannot_be_written_is_an_error)
{
	static const struct {
		const char *args, *redirect, *what;
	} rows[] = {
		{ "--help", ">/dev/full", "the help: " },
		{ "--help", ">&-", "the help: " },
		{ "--version", ">/dev/full", "the version: " },
		{ "enable --help", ">/dev/full", "the help: " },
		{ "disable --help", ">/dev/full", "the help: " },
		{ "status --help", ">/dev/full", "the help: " },
		{ "status --root /", ">/dev/full", "the status: " },
	};
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		char cmd[PATH_MAX + 128];
		snprintf(cmd, sizeof cmd, "'%s' %s %s", top("build/noleak"),
			 rows[i].args, rows[i].redirect);
		cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
		cr_expect_eq(exit_code(&r), 2, "%s: exit %d, stderr: %s", cmd,
			     exit_code(&r), r.err);
		char want[64];
		snprintf(want, sizeof want, "noleak: cannot write %s", rows[i].what);
		cr_expect(strstr(r.err, want), "%s: no \"%s\" in: %s", cmd, want,
			  r.err);
	}
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

/* The man page names every variable --help names. */
Test(launcher, man_page_lists_every_variable)
{
	const char *man = slurp(top("man/noleak.1"));
	cr_assert_neq(man[0], 0, "man/noleak.1 missing");
	for (int i = 0; all_vars[i]; i++) {
		/* roff escapes nothing in these names but may split none */
		cr_expect(strstr(man, all_vars[i]), "noleak.1 omits %s", all_vars[i]);
	}
}

/* argv under exactly the environment `envp`, which run() cannot give (it
 * adds to the test's own and never repeats a name): stdout into r.out. */
static void run_exact(char *const argv[], char *const envp[])
{
	char out[PATH_MAX];
	snprintf(out, sizeof out, "%s/out", tmpdir());
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(99);
		execve(argv[0], argv, envp);
		_exit(98);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	r.status = st;
	snprintf(r.out, sizeof r.out, "%s", slurp(out));
}

/* LD_PRELOAD twice (some wrappers leave it so): ld.so obeys the last one,
 * so the command must get one LD_PRELOAD, with the library in it. */
Test(launcher, preload_given_twice_still_loads_the_library)
{
	char pre[PATH_MAX + 16];
	snprintf(pre, sizeof pre, "LD_PRELOAD=%s", top("build/empty.so"));
	char *envp[] = { pre, "PATH=/usr/bin:/bin", pre, NULL };
	char *maps[] = { (char *)top("build/noleak"), "/bin/grep", "-c",
			 "libnoleak", "/proc/self/maps", NULL };
	run_exact(maps, envp);
	cr_expect_gt(atoi(r.out), 0, "the command runs without the library "
		     "(exit %d, %s mappings)", exit_code(&r), r.out);
	char *env[] = { (char *)top("build/noleak"), (char *)print_env(), NULL };
	run_exact(env, envp);
	cr_assert_eq(exit_code(&r), 0);
	cr_expect_eq(count_lines_with(r.out, "LD_PRELOAD="), 1, "%s", r.out);
}

/* NOLEAK_LAUNCHED names one process: not another that has its number, in
 * a new pid namespace (the launched process runs `unshare -p`) or once it
 * is gone, and inherited the variable.  Each row's script ends by running
 * `pg_spawn fork pg_whoami -f` as a session leader its parent made
 * (setsid), which regroups its child (one that makes a child of its own)
 * only as the launched process. */
Test(launcher, launched_marker_names_one_process_only)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (pid namespace, ns_last_pid)");
	const char *dir = tmpdir();
	char probe[PATH_MAX], script[PATH_MAX], text[PATH_MAX * 3];
	snprintf(probe, sizeof probe, "%s/probe", dir);
	/* Take the launched process's number (inside its namespace), then
	 * become the spawner. */
	snprintf(text, sizeof text,
		 "#!/bin/sh\n"
		 "L=${NOLEAK_LAUNCHED%%%%:*}\n"
		 "while kill -0 \"$L\" 2>/dev/null; do sleep 0.02; done\n"
		 /* Its start time counts clock ticks (10 ms): the new
		  * process starts in a later one, as any does that gets
		  * the number by pid reuse. */
		 "sleep 0.03\n"
		 "echo $((L - 1)) > /proc/sys/kernel/ns_last_pid\n"
		 "setsid '%s' fork '%s' -f > '%s/out.tmp'\n"
		 "echo \"launched=$L\" >> '%s/out.tmp'\n"
		 "mv '%s/out.tmp' '%s/out'\n",
		 top("build/fixtures/pg_spawn"), top("build/fixtures/pg_whoami"),
		 dir, dir, dir, dir);
	write_file(probe, text, 0755);
	static const struct {
		const char *what;
		/* %1$s noleak, %2$s the probe, %3$s the directory,
		 * %4$s pg_spawn, %5$s pg_whoami.  setsid: a group made
		 * outside the namespace is not seen in it (its number
		 * reads 0), one made inside is.  pgroup = always: the
		 * launched process regroups in a session its parent made. */
		const char *script;
		int regroups;
	} rows[] = {
		{ "the launched process, in a pid namespace",
		  "unshare -pf --mount-proc sh -c 'setsid \"$0\" --pgroup always sh -c \"echo launched=\\$\\$; "
		  "exec \\\"\\$0\\\" fork \\\"\\$1\\\" -f\" \"$1\" \"$2\" > %3$s/out' "
		  "'%1$s' '%4$s' '%5$s'", 1 },
		{ "its number in a new pid namespace",
		  "'%1$s' --pgroup always unshare -pf --mount-proc '%2$s'", 0 },
		{ "its number once it is gone",
		  "unshare -pf --mount-proc sh -c '\"$0\" --pgroup always sh -c \"\\\"\\$0\\\" &\" \"$1\"; "
		  "while [ ! -e %3$s/out ]; do sleep 0.05; done' '%1$s' '%2$s'", 0 },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char out[PATH_MAX];
		snprintf(out, sizeof out, "%s/out", dir);
		unlink(out);
		snprintf(script, sizeof script, rows[i].script, top("build/noleak"),
			 probe, dir, top("build/fixtures/pg_spawn"),
			 top("build/fixtures/pg_whoami"));
		cr_assert_eq(run_sh(&r, script, NULL, 0, TIMEOUT), 0);
		const char *text_out = slurp(out);
		cr_assert_eq(exit_code(&r), 0, "%s: %s%s", rows[i].what, r.out, r.err);
		long launched = pg_field(text_out, "launched", "launched");
		long ppid = pg_field(text_out, "parent", "pid");
		if (ppid != launched)
			cr_skip_test("%s: the pid namespace would not hand out "
				     "the number:\n%s", rows[i].what, text_out);
		long ppg = pg_field(text_out, "parent", "pgid");
		long cpg = pg_field(text_out, "child", "pgid");
		cr_assert_gt(cpg, 0, "%s: %s%s", rows[i].what, text_out, r.err);
		cr_expect_eq(cpg != ppg, rows[i].regroups, "%s: %s:\n%s", rows[i].what,
			     rows[i].regroups ? "its child was not regrouped"
					      : "taken for the launched process",
			     text_out);
	}
}

/* A command path that fails: the exit status and the reason a shell gives
 * (bash: 127 for ENOENT, 126 for every other error).  The PATH walk is
 * execvp's, whose exit status env(1) gives: it passes over a directory
 * that is not one and stops at any error but ENOENT, ENOTDIR, ESTALE,
 * ENODEV, ETIMEDOUT and EACCES. */
Test(launcher, command_errors_as_a_shell_and_execvp_give_them)
{
	const char *dir = tmpdir();
	char cmd[PATH_MAX * 4];
	snprintf(cmd, sizeof cmd, "cd '%s' && ln -s loop2 loop1 && ln -s loop1 loop2 "
		 "&& mkdir sub bin && echo 'echo ran' > plain && ln -s ../loop1 bin/nlk-loop", dir);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	static const struct { const char *name, *reason; } rows[] = {
		{ "/etc/passwd/x", "Not a directory" },
		{ "%s/loop1", "Too many levels of symbolic links" },
		{ "%s/missing", "No such file or directory" },
		{ "%s/sub", NULL },
		{ "%s/plain", "Permission denied" },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char name[PATH_MAX];
		snprintf(name, sizeof name, rows[i].name, dir);
		char *bash[] = { "/bin/bash", "-c", name, NULL };
		cr_assert_eq(run(&r, bash, NULL, 0, TIMEOUT, NULL), 0);
		int want = exit_code(&r);
		noleak(NULL, name, NULL);
		cr_expect_eq(exit_code(&r), want, "%s: exit %d, bash %d: %s", name,
			     exit_code(&r), want, r.err);
		if (rows[i].reason)
			cr_expect(strstr(r.err, rows[i].reason), "%s: %s", name, r.err);
	}
	/* On PATH: a file where a directory should be is passed over, a
	 * symlink loop ends the search. */
	static const struct { const char *path, *name; } walks[] = {
		{ "PATH=/etc/passwd:/usr/bin:/bin", "true" },
		{ "PATH=%s/bin:/usr/bin:/bin", "nlk-loop" },
		{ "PATH=%s/bin:/usr/bin:/bin", "nlk-missing" },
	};
	for (size_t i = 0; i < sizeof walks / sizeof walks[0]; i++) {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof path, walks[i].path, dir);
		char *env[] = { path, NULL };
		char *envcmd[] = { "/usr/bin/env", (char *)walks[i].name, NULL };
		cr_assert_eq(run(&r, envcmd, env, 0, TIMEOUT, NULL), 0);
		int want = exit_code(&r);
		noleak(env, walks[i].name, NULL);
		cr_expect_eq(exit_code(&r), want, "%s %s: exit %d, execvp %d: %s",
			     path, walks[i].name, exit_code(&r), want, r.err);
	}
}

/* --config LINK: the shim reads LINK and LINK.d, so that is what goes on
 * (absolute, not resolved), and LINK.d's errors are the ones reported. */
Test(launcher, config_symlink_is_passed_as_given)
{
	const char *dir = tmpdir();
	char cmd[PATH_MAX * 4], link[PATH_MAX];
	snprintf(cmd, sizeof cmd, "cd '%s' && mkdir real conf conf/n.conf.d && "
		 "echo 'mode = audit' > real/n.conf && ln -s ../real/n.conf conf/n.conf && "
		 "echo 'keep_fds = 3' > conf/n.conf.d/keep.conf", dir);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	snprintf(link, sizeof link, "%s/conf/n.conf", dir);
	noleak(NULL, "--config", link, print_env(), NULL);
	cr_assert_eq(exit_code(&r), 0, "stderr: %s", r.err);
	expect_var("NOLEAK_CONFIG", link);
	/* The drop-in of the link, not of its target, is checked. */
	snprintf(cmd, sizeof cmd, "echo 'mode = sometimes' > '%s.d/bad.conf'", link);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	noleak(NULL, "--config", link, print_env(), NULL);
	expect_refused("a bad drop-in of a symlinked config");
}

/* --set KEY= for a list key: the empty list, over the config file's. */
Test(launcher, empty_list_on_the_command_line_empties_the_config_s)
{
	const char *dir = tmpdir();
	char conf[PATH_MAX];
	snprintf(conf, sizeof conf, "%s/keep.conf", dir);
	write_file(conf, "keep_fds = 3-1000\n", 0644);
	/* fdh_pass leaves its "junk" fd open across the exec of fdh_fds. */
	for (int empty = 0; empty < 2; empty++) {
		char *argv[] = { (char *)top("build/noleak"), "--config", conf,
				 "--set", empty ? "keep_fds=" : "mode=enforce",
				 (char *)top("build/fixtures/fdh_pass"), "plain", "--",
				 (char *)top("build/fixtures/fdh_fds"), NULL };
		cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
		cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
		long junk = pg_field(r.out, "fd=", "junk");
		const char *fds = strstr(r.out, "fds=");
		cr_assert(junk > 2 && fds, "%s", r.out);
		cr_expect_eq(fd_list_has(fds + 4, (int)junk), !empty,
			     "keep_fds%s: fd %ld %s:\n%s",
			     empty ? "= (empty)" : " of the config", junk,
			     empty ? "kept" : "closed", r.out);
	}
	/* Every list key: what goes into the environment is not empty. */
	static const char *const lists[][2] = {
		{ "keep_fds=", "NOLEAK_KEEP_FDS" },
		{ "fd_transparent=", "NOLEAK_FD_TRANSPARENT" },
		{ "fd_trampolines=", "NOLEAK_FD_TRAMPOLINES" },
		{ "kill_wrappers=", "NOLEAK_KILL_WRAPPERS" },
	};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		noleak(NULL, "--set", lists[i][0], print_env(), NULL);
		cr_assert_eq(exit_code(&r), 0, "stderr: %s", r.err);
		expect_var(lists[i][1], " ");
	}
}

/* Another copy of the library already preloaded (another install's, under
 * any name, or the one /etc/ld.so.preload names): the command gets that
 * copy alone, not two that would each write every event; a copy of
 * another version is named in a warning. */
Test(launcher, another_copy_of_the_library_is_not_added)
{
	const char *dir = tmpdir();
	char cmd[PATH_MAX * 4];
	/* The same length as the real version: the tag is patched in place. */
	char other_version[sizeof NL_VERSION];
	memset(other_version, '9', sizeof other_version - 1);
	other_version[sizeof other_version - 1] = 0;
	snprintf(cmd, sizeof cmd, "cd '%s' && mkdir a && cp '%s' a/libnoleak.so && "
		 "cp '%s' renamed.so && sed 's/@(#)libnoleak %s/@(#)libnoleak %s/' "
		 "'%s' > older.so", dir, library(), library(), NL_VERSION,
		 other_version, library());
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	static const struct { const char *file; int warns; } rows[] = {
		{ "a/libnoleak.so", 0 }, { "renamed.so", 0 }, { "older.so", 1 },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char copy[PATH_MAX], pre[PATH_MAX + 16];
		snprintf(copy, sizeof copy, "%s/%s", dir, rows[i].file);
		snprintf(pre, sizeof pre, "LD_PRELOAD=%s", copy);
		char *env[] = { pre, NULL };
		noleak(env, "/bin/cat", "/proc/self/maps", NULL);
		cr_assert_eq(exit_code(&r), 0, "%s: %s", copy, r.err);
		cr_expect_gt(count_lines_with(r.out, copy), 0, "%s not loaded", copy);
		cr_expect_eq(count_lines_with(r.out, library()), 0,
			     "%s: a second copy was loaded", copy);
		cr_expect_eq(count_lines_with(r.err, "noleak: warning: "), rows[i].warns,
			     "%s: %s", copy, r.err);
		noleak(env, print_env(), NULL);
		expect_var("LD_PRELOAD", copy);
	}
	if (geteuid() != 0)
		cr_skip_test("needs root: a mount namespace over /etc");
	char etc[PATH_MAX], script[PATH_MAX * 4];
	snprintf(etc, sizeof etc, "%s/etc", dir);
	cr_assert_eq(chmod(dir, 0755), 0);
	ns_copy_etc(etc);
	snprintf(script, sizeof script,
		 "echo '%s/a/libnoleak.so' > /etc/ld.so.preload && "
		 "'%s' /bin/grep -c '%s' /proc/self/maps", dir, top("build/noleak"),
		 library());
	ns_run_with_etc(&r, etc, script, TIMEOUT);
	cr_expect_eq(atoi(r.out), 0, "with /etc/ld.so.preload naming another "
		     "copy: a second copy was loaded (%s%s)", r.out, r.err);
	ns_remove_test_dir(dir);
}

/* An option that takes no value, given one: named as such. */
Test(launcher, option_given_a_value_it_does_not_take)
{
	static const char *const opts[] = { "--audit=1", "--version=2", "--help=x" };
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		noleak(NULL, opts[i], print_env(), NULL);
		cr_expect_eq(exit_code(&r), 2, "%s", opts[i]);
		char want[64];
		snprintf(want, sizeof want, "noleak: option takes no value: %s\n", opts[i]);
		cr_expect(strstr(r.err, want), "%s: %s", opts[i], r.err);
		cr_expect_str_eq(r.out, "");
	}
}

/* --log FILE where the shim would not write it: refused before the command
 * starts, exactly where the shim itself (run without the launcher) writes
 * no log.  A bad keep_fds in the environment makes the shim log one
 * config_error at start-up. */
Test(launcher, log_file_the_shim_would_refuse_is_a_bad_value)
{
	const char *dir = tmpdir();
	char cmd[PATH_MAX * 8];
	cr_assert_eq(chmod(dir, 0755), 0);
	snprintf(cmd, sizeof cmd, "cd '%s' && mkdir -m 755 own && mkdir -m 777 open && "
		 "mkdir -m 1777 sticky && mkdir -m 755 other && chown nobody other && "
		 "touch own/target && ln -s target own/link && "
		 "mkdir -m 777 open/sub && chmod 755 open/sub && ln -s own open/via && "
		 "mkdir own/dir && echo precious > own/notes && touch own/empty", dir);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	static const struct { const char *file; int refused; } rows[] = {
		{ "own/x.log", 0 },
		{ "sticky/x.log", 0 },
		{ "missing/x.log", 0 },   /* the shim tries again later */
		{ "open/x.log", 1 },
		{ "other/x.log", 1 },
		{ "own/link", 1 },
		{ "own/dir", 1 },
		{ "open/via/y.log", 1 },  /* a symlink in a directory all may write in */
		{ "own/notes", 1 },       /* not empty, and no log */
		{ "own/empty", 0 },       /* empty: a log after copytruncate */
		{ "/proc/self/comm", 1 }, /* a kernel interface */
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char file[PATH_MAX], log[PATH_MAX + 16];
		if (rows[i].file[0] == '/')
			snprintf(file, sizeof file, "%s", rows[i].file);
		else
			snprintf(file, sizeof file, "%s/%s", dir, rows[i].file);
		if (geteuid() != 0 && !strcmp(rows[i].file, "other/x.log"))
			continue;
		/* The shim alone. */
		snprintf(log, sizeof log, "NOLEAK_LOG=%s", file);
		char *env[] = { log, "NOLEAK_KEEP_FDS=x", NULL };
		char *t[] = { "/bin/true", NULL };
		struct stat st;
		off_t before = stat(file, &st) == 0 ? st.st_size : 0;
		cr_assert_eq(run(&r, t, env, 1, TIMEOUT, NULL), 0);
		int written = stat(file, &st) == 0 && S_ISREG(st.st_mode) &&
			      st.st_size > before;
		if (strcmp(rows[i].file, "missing/x.log"))
			cr_expect_eq(written, !rows[i].refused, "%s: the shim %s",
				     file, written ? "wrote the log" : "wrote no log");
		if (written && before == 0)
			unlink(file);
		/* The launcher. */
		noleak(NULL, "--log", file, print_env(), NULL);
		if (rows[i].refused) {
			expect_refused(file);
			cr_expect(strstr(r.err, "refused"), "%s: %s", file, r.err);
		} else {
			cr_expect_eq(exit_code(&r), 0, "%s: %s", file, r.err);
		}
	}
}

/* enable --unit --set KEY= writes the empty list as the launcher exports
 * it: a blank, not an empty variable the shim would take for unset. */
Test(launcher, unit_dropin_carries_an_empty_list)
{
	const char *root = tmpdir();
	char cmd[PATH_MAX * 2], dropin[PATH_MAX];
	snprintf(cmd, sizeof cmd, "cd '%s' && mkdir -p lib/systemd/system && "
		 "printf '[Service]\\nExecStart=/bin/true\\n' > lib/systemd/system/agent.service "
		 "&& touch l.so", root);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	noleak(NULL, "enable", "--unit", "agent.service", "--root", root, "--lib",
	       "/l.so", "--set", "keep_fds=", NULL);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	snprintf(dropin, sizeof dropin,
		 "%s/etc/systemd/system/agent.service.d/noleak.conf", root);
	cr_expect(strstr(slurp(dropin), "\nEnvironment=\"NOLEAK_KEEP_FDS= \"\n"),
		  "%s", slurp(dropin));
}
