/* A set-user-ID program: the shim is loaded, obeys the config file, and
 * ignores the caller's environment.
 *
 * The library is loaded the way a host loads it for every program,
 * set-user-ID ones included: through /etc/ld.so.preload (the loader ignores
 * LD_PRELOAD paths with a slash in secure mode).  To leave the machine's
 * /etc alone, the test prepares a copy of /etc with ld.so.preload and
 * noleak.conf and bind-mounts it over /etc in a private mount namespace.
 * The program runs as nobody; it is a copy of found_suid owned by root with
 * mode 4755.  Needs root (mount namespace, chown, setuid bit). */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/ns.h"
#include "../lib/files.h"
#include "../lib/run.h"

#define TIMEOUT 20.0
#define NOBODY "65534"

static struct run_result r;
static char dir[256];  /* tmpdir() paths are short */

static const char *in_dir(const char *name)
{
	static char buf[8][PATH_MAX];
	static int next;
	char *out = buf[next++ % 8];
	snprintf(out, PATH_MAX, "%s/%s", dir, name);
	return out;
}

static void sh(const char *cmd)
{
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "%s: %s", cmd, r.err);
}


/* The config file every process in the namespace reads. */
static void set_config(const char *text)
{
	write_file(in_dir("etc/noleak.conf"), text, 0644);
}

/* DIR (0755, root): suid (4755) and plain (0755) copies of found_suid,
 * libnoleak.so, and etc/, a copy of /etc whose ld.so.preload names that
 * library. */
static void prepare(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: a setuid-root program, a mount namespace");
	snprintf(dir, sizeof dir, "%s", tmpdir());
	cr_assert_eq(chmod(dir, 0755), 0, "nobody must reach the program");
	char cmd[PATH_MAX * 4];
	snprintf(cmd, sizeof cmd,
		 "cp '%s' '%s/suid' && cp '%s' '%s/plain' && cp '%s' '%s/' && "
		 "chmod 4755 '%s/suid' && chmod 0755 '%s/plain' '%s/libnoleak.so'",
		 top("build/fixtures/found_suid"), dir,
		 top("build/fixtures/found_suid"), dir, shim_path(), dir, dir, dir,
		 dir);
	sh(cmd);
	ns_copy_etc(in_dir("etc"));
	char preload[PATH_MAX];
	snprintf(preload, sizeof preload, "%s\n", in_dir("libnoleak.so"));
	write_file(in_dir("etc/ld.so.preload"), preload, 0644);
}

/* Run DIR/program as nobody, with `env_vars` ("K=V K=V", may be "") set
 * just for it, in a namespace where the copy of /etc is /etc. */
static void run_as_nobody(const char *program, const char *env_vars)
{
	char script[PATH_MAX * 4];
	snprintf(script, sizeof script,
		 "exec setpriv --reuid=" NOBODY " --regid=" NOBODY " --clear-groups "
		 "-- env %s '%s'",
		 env_vars, in_dir(program));
	ns_run_with_etc(&r, in_dir("etc"), script, TIMEOUT);
	cr_assert(!r.timed_out);
	cr_assert_eq(exit_code(&r), 0, "status %d, stdout: %s, stderr: %s",
		     r.status, r.out, r.err);
}

static void expect_line(const char *line)
{
	cr_expect(count_lines_with(r.out, line) == 1, "want \"%s\" in:\n%s%s",
		  line, r.out, r.err);
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void cleanup(void)
{
	ns_remove_test_dir(dir);
}

TestSuite(foundation_secure, .init = prepare, .fini = cleanup, .timeout = 60);

Test(foundation_secure, config_file_applies_and_environment_does_not)
{
	char conf[PATH_MAX * 2], env[PATH_MAX * 4];
	snprintf(conf, sizeof conf, "mode = audit\nlog = %s\n",
		 in_dir("secure.log"));
	set_config(conf);
	write_file(in_dir("other.conf"), "mode = enforce\n", 0644);
	snprintf(env, sizeof env,
		 "NOLEAK_MODE=enforce NOLEAK_LOG='%s' NOLEAK_CONFIG='%s'",
		 in_dir("attacker.log"), in_dir("other.conf"));
	run_as_nobody("suid", env);
	expect_line("secure=1");
	expect_line("ruid=65534 euid=0");
	expect_line("shim_mapped=1");
	/* audit from /etc/noleak.conf, not enforce from NOLEAK_MODE or from
	 * the file NOLEAK_CONFIG names. */
	expect_line("pipe_cloexec=0");
	const char *log = slurp(in_dir("secure.log"));
	cr_expect_geq(count_lines_with(log, "\"event\":\"fd_leak\""), 1,
		      "no events in the configured log: %s", log);
	cr_expect_geq(count_lines_with(log, "\"mode\":\"audit\""), 1, "%s", log);
	cr_expect(strstr(log, "/suid\""), "events not from the program: %s", log);
	cr_expect(!exists(in_dir("attacker.log")),
		  "NOLEAK_LOG was obeyed in a setuid program");
}

Test(foundation_secure, mode_off_in_the_environment_is_ignored)
{
	char conf[PATH_MAX * 2], env[PATH_MAX * 2];
	snprintf(conf, sizeof conf, "log = %s\n", in_dir("secure.log"));
	set_config(conf);
	snprintf(env, sizeof env, "NOLEAK_MODE=off NOLEAK_LOG='%s'",
		 in_dir("attacker.log"));
	run_as_nobody("suid", env);
	expect_line("secure=1");
	expect_line("shim_mapped=1");
	/* enforce, the default, since the file sets no mode. */
	expect_line("pipe_cloexec=1");
	cr_expect(!exists(in_dir("attacker.log")),
		  "NOLEAK_LOG was obeyed in a setuid program");
}

/* In a setuid-root program only root's config counts: a file the invoking
 * user owns is not trusted, even at the trusted path. */
Test(foundation_secure, config_owned_by_the_caller_is_ignored)
{
	set_config("mode = off\n");
	cr_assert_eq(chown(in_dir("etc/noleak.conf"), 65534, 65534), 0);
	run_as_nobody("suid", "");
	expect_line("secure=1");
	expect_line("shim_mapped=1");
	expect_line("pipe_cloexec=1");
}

/* The same program without the setuid bit: not secure, so the environment
 * wins over the config file as usual. */
Test(foundation_secure, without_setuid_the_environment_is_honoured)
{
	set_config("mode = audit\n");
	run_as_nobody("plain", "NOLEAK_MODE=enforce");
	expect_line("secure=0");
	expect_line("ruid=65534 euid=65534");
	expect_line("shim_mapped=1");
	expect_line("pipe_cloexec=1");
}
