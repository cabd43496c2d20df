/* A program that runs secure (AT_SECURE: set-user-ID or set-group-ID)
 * loads no shim that came through LD_PRELOAD (ld.so ignores a path there),
 * so nothing would take a group marker out of its environment: it must
 * get none, and see the environment it would see without the shim, in
 * enforce and in audit (which changes nothing) alike.  The process the
 * noleak launcher started regroups its children; it runs a set-group-ID
 * copy of pg_secure (group nogroup, mode 2755) by each way of starting a
 * program, also one found on PATH, and through a child that carries the
 * marker on; that copy says what it sees (secure, a marker in environ,
 * the number of entries), which must be what it says without the shim.
 * A plain copy, run the same ways, still gets the marker where spawners
 * look for it (/proc/PID/environ) and sees the same environment. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/run.h"

#define TIMEOUT 30.0

static struct run_result r;
static char dir[PATH_MAX], sgid[PATH_MAX + 32], plain[PATH_MAX + 32];
static char path_env[8192], log_path[PATH_MAX + 16];

static void copy_file(const char *from, const char *to, mode_t mode)
{
	static char buf[1 << 16];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0700);
	cr_assert(in >= 0 && out >= 0, "copy %s to %s: %s", from, to, strerror(errno));
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		cr_assert_eq(write(out, buf, (size_t)n), n);
	cr_assert_eq(n, 0);
	close(in);
	close(out);
	cr_assert_eq(chmod(to, mode), 0, "chmod %s: %s", to, strerror(errno));
}

static void init(void)
{
	const char *fixture = top("build/fixtures/pg_secure");
	cr_assert_eq(access(fixture, X_OK), 0, "build/fixtures/pg_secure missing");
	struct group *g = getgrnam("nogroup");
	gid_t other = g ? g->gr_gid : 65534;
	if (getegid() == other || getgid() == other)
		cr_skip_test("the test's own group is nogroup");
	snprintf(dir, sizeof dir, "%s", tmpdir());
	cr_assert_eq(chmod(dir, 0755), 0);
	snprintf(sgid, sizeof sgid, "%s/pg_secure_sgid", dir);
	snprintf(plain, sizeof plain, "%s/pg_secure_plain", dir);
	copy_file(fixture, sgid, 0755);
	copy_file(fixture, plain, 0755);
	/* chown drops the set-id bits: the mode after it. */
	cr_assert_eq(chown(sgid, (uid_t)-1, other), 0, "chgrp nogroup: %s",
		     strerror(errno));
	cr_assert_eq(chmod(sgid, 02755), 0);
	const char *path = getenv("PATH");
	snprintf(path_env, sizeof path_env, "PATH=/nonexistent-pg-secure:%s:%s",
		 dir, path ? path : "/usr/bin:/bin");
	snprintf(log_path, sizeof log_path, "%s/events.log", dir);
}

TestSuite(pgroup_secure, .init = init, .timeout = 180);

/* Arguments of pg_secure; "SGID", "PLAIN" and "SELF" stand for the
 * set-group-ID copy, the plain copy and the fixture itself. */
struct row {
	const char *name;
	const char *args[8];
};

static char line_without[256];

/* The "show" line of pg_secure ARGS: without the shim (launcher NULL),
 * or under the launcher with its options. */
static const char *show_line(const struct row *row, const char *const *launcher)
{
	char *argv[24];
	size_t k = 0;
	for (; launcher && launcher[k]; k++)
		argv[k] = (char *)launcher[k];
	argv[k++] = (char *)top("build/fixtures/pg_secure");
	for (size_t i = 0; row->args[i]; i++) {
		const char *a = row->args[i];
		argv[k++] = (char *)(!strcmp(a, "SGID") ? sgid
				     : !strcmp(a, "PLAIN") ? plain
				     : !strcmp(a, "SELF") ? top("build/fixtures/pg_secure")
				     : a);
	}
	argv[k] = NULL;
	char *env[] = { path_env, NULL };
	cr_assert_eq(run(&r, argv, env, 0, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "%s: timed out", row->name);
	cr_assert_eq(exit_code(&r), 0, "%s: %s%s", row->name, r.out, r.err);
	const char *l = strstr(r.out, "show ");
	cr_assert_not_null(l, "%s: %s%s", row->name, r.out, r.err);
	static char line[256];
	snprintf(line, sizeof line, "%.*s", (int)strcspn(l, "\n"), l);
	return line;
}

static int field(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	return p ? atoi(p + strlen(key)) : -1;
}

/* secure: the row runs the set-group-ID copy. */
static void same_as_without(const struct row *row, int secure)
{
	snprintf(line_without, sizeof line_without, "%s", show_line(row, NULL));
	cr_assert_eq(field(line_without, "secure="), secure,
		     "%s without the shim: %s (is %s on a nosuid mount?)", row->name,
		     line_without, dir);
	cr_assert_eq(field(line_without, "exec_marker="), 0, "%s", line_without);
	const char *const enforce[] = { top("build/noleak"), "--pgroup", "always",
					"--log", log_path, "--", NULL };
	const char *const audit[] = { top("build/noleak"), "--audit", "--pgroup",
				      "always", "--log", log_path, "--", NULL };
	const char *const *launchers[] = { enforce, audit };
	for (size_t i = 0; i < 2; i++) {
		const char *mode = i ? "audit" : "enforce";
		const char *line = show_line(row, launchers[i]);
		if (secure) {
			/* Nothing of the marker, anywhere. */
			cr_expect_str_eq(line, line_without, "%s, %s: %s, without "
					 "the shim: %s", row->name, mode, line,
					 line_without);
		} else {
			/* The marker reached the child, which does not see it. */
			cr_expect_eq(field(line, "exec_marker="), 1,
				     "%s, %s: no marker: %s", row->name, mode, line);
			cr_expect_eq(field(line, "marker="), 0, "%s, %s: %s",
				     row->name, mode, line);
			cr_expect_eq(field(line, "nenv="), field(line_without, "nenv="),
				     "%s, %s: %s, without the shim: %s", row->name,
				     mode, line, line_without);
		}
	}
}

static const struct row secure_rows[] = {
	{ "posix_spawn", { "spawn", "SGID", "show" } },
	{ "posix_spawnp", { "spawnp", "pg_secure_sgid", "show" } },
	{ "execve", { "execve", "SGID", "show" } },
	{ "execvp", { "execvp", "pg_secure_sgid", "show" } },
	{ "fexecve", { "fexecve", "SGID", "show" } },
	/* A child that carries the marker on runs it. */
	{ "spawn_then_execvp", { "spawn", "SELF", "execvp", "pg_secure_sgid", "show" } },
	{ "execve_then_spawnp", { "execve", "SELF", "spawnp", "pg_secure_sgid", "show" } },
};

static const struct row plain_rows[] = {
	{ "posix_spawn", { "spawn", "PLAIN", "show" } },
	{ "posix_spawnp", { "spawnp", "pg_secure_plain", "show" } },
	{ "execve", { "execve", "PLAIN", "show" } },
	{ "execvp", { "execvp", "pg_secure_plain", "show" } },
	{ "fexecve", { "fexecve", "PLAIN", "show" } },
	{ "spawn_then_execvp", { "spawn", "SELF", "execvp", "pg_secure_plain", "show" } },
};

/* Without this change: NOLEAK_PGROUP_FROM=...:p:m (audit: :p:a) in the
 * set-group-ID program's environ, one entry more. */
Test(pgroup_secure, a_secure_program_gets_no_marker)
{
	for (size_t i = 0; i < sizeof secure_rows / sizeof *secure_rows; i++)
		same_as_without(&secure_rows[i], 1);
}

Test(pgroup_secure, a_plain_program_still_gets_the_marker)
{
	for (size_t i = 0; i < sizeof plain_rows / sizeof *plain_rows; i++)
		same_as_without(&plain_rows[i], 0);
}

/* A PATH walk with no page of address space to spare (RLIMIT_AS): libc's
 * walk takes the stack and runs the program; the shim's own walk (the one
 * that decides per candidate) had to map its room after the environment
 * copy with the marker, and failed with ENOMEM.  Now it leaves the walk to
 * libc then.  The program is a static one (ldconfig), which loads in the
 * address space left; its directory comes after one that does not exist. */
Test(pgroup_secure, a_walk_without_memory_runs_the_program)
{
	char *argv[16];
	char tight_path[64] = "PATH=/nonexistent-pg-secure:/usr/sbin:/sbin";
	char *env[] = { tight_path, NULL };
	const char *fixture = top("build/fixtures/pg_secure");
	const char *const launched[][8] = {
		{ NULL },
		{ top("build/noleak"), "--pgroup", "always", "--log", log_path, "--", NULL },
		{ top("build/noleak"), "--audit", "--pgroup", "always", "--log", log_path,
		  "--", NULL },
	};
	static char out_without[65536 + 1];
	for (size_t i = 0; i < 3; i++) {
		size_t k = 0;
		for (; launched[i][k]; k++)
			argv[k] = (char *)launched[i][k];
		argv[k++] = (char *)fixture;
		argv[k++] = "execvp_tight";
		argv[k++] = "ldconfig";
		argv[k++] = "--version";
		argv[k] = NULL;
		cr_assert_eq(run(&r, argv, env, 0, TIMEOUT, NULL), 0);
		cr_assert(!r.timed_out);
		if (i == 0) {
			cr_assert_eq(exit_code(&r), 0, "without the shim: %s%s",
				     r.out, r.err);
			cr_assert(strstr(r.out, "ldconfig"), "%s", r.out);
			snprintf(out_without, sizeof out_without, "%s", r.out);
			continue;
		}
		cr_expect_eq(exit_code(&r), 0, "%s: status %d: %s%s",
			     i == 1 ? "enforce" : "audit", r.status, r.out, r.err);
		cr_expect_str_eq(r.out, out_without, "%s",
				 i == 1 ? "enforce" : "audit");
	}
}
