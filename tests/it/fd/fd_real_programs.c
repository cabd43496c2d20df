/* Real programs that pass fds on purpose keep working under enforce: bash
 * process substitution and redirections, recursive make's jobserver,
 * Python's subprocess, systemd-style socket activation. */
#include <criterion/criterion.h>

#include <limits.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../lib/run.h"

#define TIMEOUT 30.0

static struct run_result r;

static void init(void)
{
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	cr_assert_eq(access(top("build/fixtures/fdh_fds"), X_OK), 0,
		     "build/fixtures/fdh_fds missing");
}

TestSuite(fd_real_programs, .init = init);

static const char *checker(void) { return top("build/fixtures/fdh_fds"); }

static void run_argv(char *const argv[], char *const env[], int shim)
{
	cr_assert_eq(run(&r, argv, env, shim, TIMEOUT, ""), 0);
	cr_assert(!r.timed_out, "%s timed out", argv[0]);
}

/* Whether the "fds=" list that follows `after` in the output names fd. */
static int listed_after(const char *after, int fd)
{
	const char *p = strstr(r.out, after);
	cr_assert_not_null(p, "no \"%s\" in:\n%s\n%s", after, r.out, r.err);
	p = strstr(p, "fds=");
	cr_assert_not_null(p, "no fd list after \"%s\":\n%s", after, r.out);
	return fd_list_has(p + 4, fd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

Test(fd_real_programs, bash_process_substitution)
{
	char *argv[] = { "/bin/bash", "-c",
			 "diff <(echo a) <(echo a) && echo same", NULL };
	run_argv(argv, NULL, 1);
	cr_expect_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "same\n", "stderr: %s", r.err);
	cr_expect_str_eq(r.err, "");
}

Test(fd_real_programs, bash_redirection_reaches_a_nested_shell)
{
	char file[PATH_MAX], cmd[PATH_MAX * 2];
	snprintf(file, sizeof file, "%s/f", tmpdir());
	snprintf(cmd, sizeof cmd, "exec 3>'%s'; sh -c \"echo hi >&3\"", file);
	char *argv[] = { "/bin/bash", "-c", cmd, NULL };
	run_argv(argv, NULL, 1);
	cr_expect_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect_str_eq(slurp(file), "hi\n", "stderr: %s", r.err);
}

Test(fd_real_programs, recursive_make_keeps_its_jobserver)
{
	const char *dir = tmpdir();
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/Makefile", dir);
	write_file(path, "all:\n\t$(MAKE) -C sub\n");
	snprintf(path, sizeof path, "%s/sub", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/sub/Makefile", dir);
	write_file(path, "all: a b c d\n"
		   "a b c d:\n\t@sleep 0.05; echo built-$@\n");
	char *argv[] = { "/usr/bin/make", "-j2", "-C", (char *)dir, NULL };
	run_argv(argv, NULL, 1);
	cr_expect_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect_eq(count_lines_with(r.out, "built-"), 4, "%s", r.out);
	cr_expect_null(strstr(r.err, "jobserver unavailable"), "%s", r.err);
	cr_expect_null(strstr(r.err, "warning"), "%s", r.err);
}

Test(fd_real_programs, python_subprocess_pass_fds_and_close_fds_false)
{
	char script[PATH_MAX * 2];
	snprintf(script, sizeof script,
		 "import os, subprocess\n"
		 "checker = '%s'\n"
		 "r, w = os.pipe()\n"
		 "out = subprocess.run([checker], pass_fds=[w], stdout=subprocess.PIPE,"
		 " text=True).stdout\n"
		 "print('pass_fds', w, out.splitlines()[0], flush=True)\n"
		 "r2, w2 = os.pipe()\n"
		 "os.set_inheritable(w2, True)\n"
		 "out = subprocess.run([checker], close_fds=False, stdout=subprocess.PIPE,"
		 " text=True).stdout\n"
		 "print('close_fds_false', w2, r2, out.splitlines()[0], flush=True)\n",
		 checker());
	char *argv[] = { "/usr/bin/python3", "-c", script, NULL };
	run_argv(argv, NULL, 1);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	int w = -1, w2 = -1, r2 = -1;
	const char *p = strstr(r.out, "pass_fds ");
	cr_assert(p && sscanf(p, "pass_fds %d", &w) == 1, "%s", r.out);
	cr_expect(listed_after("pass_fds ", w), "pass_fds=[%d] not passed:\n%s", w, r.out);
	p = strstr(r.out, "close_fds_false ");
	cr_assert(p && sscanf(p, "close_fds_false %d %d", &w2, &r2) == 2, "%s", r.out);
	cr_expect(listed_after("close_fds_false ", w2),
		  "inheritable fd %d not passed with close_fds=False:\n%s", w2, r.out);
	cr_expect(!listed_after("close_fds_false ", r2),
		  "non-inheritable fd %d passed:\n%s", r2, r.out);
}

/* --- socket activation --- */

static void activate(const char *pid_mode, int shim)
{
	char *argv[] = { (char *)top("build/fixtures/fdh_listen"), "activate",
			 (char *)pid_mode, (char *)checker(), NULL };
	run_argv(argv, NULL, shim);
	cr_assert_eq(exit_code(&r), 0, "%s\n%s", r.out, r.err);
	cr_assert(strstr(r.out, "listener=3\n"), "%s", r.out);
}

Test(fd_real_programs, socket_activation_passes_listen_fds)
{
	activate("self", 1);
	cr_expect(listed_after("listener=3", 3),
		  "LISTEN_FDS=1 LISTEN_PID=<child>: fd 3 not passed:\n%s", r.out);
	activate("none", 1);
	cr_expect(listed_after("listener=3", 3),
		  "LISTEN_FDS=1 without LISTEN_PID: fd 3 not passed:\n%s", r.out);
	activate("other", 1);
	cr_expect(!listed_after("listener=3", 3),
		  "LISTEN_PID of another process: fd 3 passed:\n%s", r.out);
}

Test(fd_real_programs, activated_daemon_does_not_hand_its_listener_on)
{
	char *argv[] = { (char *)top("build/fixtures/fdh_listen"), "activate",
			 "self", (char *)top("build/fixtures/fdh_listen"), "daemon",
			 (char *)checker(), NULL };
	run_argv(argv, NULL, 0);
	cr_assert_eq(exit_code(&r), 0, "%s\n%s", r.out, r.err);
	cr_assert(listed_after("daemon_listener=1", 3),
		  "without the shim the daemon's child did not get fd 3: the test "
		  "proves nothing:\n%s", r.out);

	run_argv(argv, NULL, 1);
	cr_assert_eq(exit_code(&r), 0, "%s\n%s", r.out, r.err);
	cr_expect(strstr(r.out, "daemon_listener=1\n"),
		  "the daemon did not get its listener on fd 3:\n%s", r.out);
	cr_expect(!listed_after("daemon_listener=1", 3),
		  "the daemon's listener reached an unrelated child:\n%s", r.out);
}
