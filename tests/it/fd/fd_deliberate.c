/* Fds a program means its child to have reach the child under enforce:
 * dup2 targets, fds cleared with F_SETFD 0 or FIONCLEX, locked fds,
 * keep_fds, fds named in the new argv or environment, everything for a
 * trampoline, whatever a wrapper inherited, and every fd of a shell.  Fds
 * merely left open do not. */
#include <criterion/criterion.h>

#include <limits.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0

static struct run_result r;
static int fd_made, fd_junk, fd_own, fd_raw;

static void init(void)
{
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	cr_assert_eq(access(top("build/fixtures/fdh_pass"), X_OK), 0,
		     "build/fixtures/fdh_pass missing");
	cr_assert_eq(access(top("build/fixtures/fdh_fds"), X_OK), 0,
		     "build/fixtures/fdh_fds missing");
}

TestSuite(fd_deliberate, .init = init);

static const char *checker(void) { return top("build/fixtures/fdh_fds"); }

/* fdh_pass HOW [VAR=VALUE...] -- PROGRAM ARGS..., under the shim with
 * extra policy `env` (may be NULL).  Arguments end with NULL. */
static void pass(char *const env[], const char *how, ...)
{
	char *argv[64];
	int n = 0;
	argv[n++] = (char *)top("build/fixtures/fdh_pass");
	argv[n++] = (char *)how;
	va_list ap;
	va_start(ap, how);
	for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *)) {
		cr_assert_lt(n, 62);
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, ""), 0);
	cr_assert(!r.timed_out);
	cr_assert_eq(exit_code(&r), 0, "fdh_pass %s: exit %d\n%s\n%s", how,
		     exit_code(&r), r.out, r.err);
	cr_assert_eq(sscanf(r.out, "fd=%d junk=%d own=%d raw=%d", &fd_made,
			    &fd_junk, &fd_own, &fd_raw), 4, "%s", r.out);
}

/* Whether the checker's "fds=" line lists fd. */
static int child_has(int fd)
{
	const char *p = strstr(r.out, "\nfds=");
	cr_assert_not_null(p, "no report from the new program:\n%s\n%s", r.out, r.err);
	return fd_list_has(p + 5, fd);
}

static void expect_passed(const char *what)
{
	cr_expect(child_has(fd_made), "%s: fd %d did not reach the child:\n%s",
		  what, fd_made, r.out);
	cr_expect(!child_has(fd_junk), "%s: junk fd %d leaked:\n%s", what,
		  fd_junk, r.out);
	cr_expect(!child_has(fd_own), "%s: close-on-exec fd %d leaked:\n%s",
		  what, fd_own, r.out);
}

static void expect_not_passed(const char *what)
{
	cr_expect(!child_has(fd_made), "%s: fd %d reached the child:\n%s", what,
		  fd_made, r.out);
	cr_expect(!child_has(fd_junk), "%s: junk fd %d leaked:\n%s", what,
		  fd_junk, r.out);
	cr_expect(!child_has(fd_raw), "%s: raw fd %d leaked:\n%s", what, fd_raw,
		  r.out);
}

/* --- how the fd was made --- */

Test(fd_deliberate, plain_pipe_is_not_passed)
{
	pass(NULL, "plain", "--", checker(), NULL);
	expect_not_passed("pipe2(p, 0)");
}

Test(fd_deliberate, dup2_target_is_passed)
{
	pass(NULL, "dup2", "--", checker(), NULL);
	expect_passed("dup2 onto 40");
}

Test(fd_deliberate, dup3_cloexec_target_is_not_passed)
{
	pass(NULL, "dup3cloexec", "--", checker(), NULL);
	expect_not_passed("dup3 O_CLOEXEC onto 40");
}

Test(fd_deliberate, cleared_with_setfd_is_passed)
{
	pass(NULL, "setfd0", "--", checker(), NULL);
	expect_passed("fcntl(F_SETFD, 0)");
}

Test(fd_deliberate, set_again_with_setfd_is_not_passed)
{
	pass(NULL, "setfd0then1", "--", checker(), NULL);
	expect_not_passed("F_SETFD 0 then FD_CLOEXEC");
}

/* Another thread's close_range(CLOSE_RANGE_UNSHARE) changed its own copy
 * of the table only: this thread's fd still crosses. */
Test(fd_deliberate, cleared_with_setfd_is_passed_after_an_unshared_close)
{
	pass(NULL, "unshared", "--", checker(), NULL);
	expect_passed("F_SETFD 0, another thread's unshared close_range");
	pass(NULL, "unsharedcloexec", "--", checker(), NULL);
	expect_passed("F_SETFD 0, another thread's unshared CLOSE_RANGE_CLOEXEC");
	pass(NULL, "unsharedclone", "--", checker(), NULL);
	expect_passed("F_SETFD 0, a clone() thread's unshared close_range");
}

Test(fd_deliberate, cleared_with_fionclex_is_passed)
{
	pass(NULL, "fionclex", "--", checker(), NULL);
	expect_passed("ioctl(FIONCLEX)");
}

Test(fd_deliberate, locked_fds_are_passed)
{
	pass(NULL, "flock", "--", checker(), NULL);
	expect_passed("flock");
	pass(NULL, "lockf", "--", checker(), NULL);
	expect_passed("lockf");
	pass(NULL, "setlk", "--", checker(), NULL);
	expect_passed("fcntl F_SETLK");
}

Test(fd_deliberate, unlocked_fd_is_not_passed)
{
	pass(NULL, "unflock", "--", checker(), NULL);
	expect_not_passed("flock then LOCK_UN");
}

Test(fd_deliberate, keep_fds_are_passed)
{
	char *env[] = { "NOLEAK_KEEP_FDS=3-4", NULL };
	pass(env, "plain", "--", checker(), NULL);
	cr_assert_eq(fd_made, 4, "fixture layout changed: %s", r.out);
	cr_expect(child_has(3) && child_has(4), "keep_fds=3-4 not passed:\n%s", r.out);
	cr_expect(!child_has(fd_junk), "junk fd %d leaked:\n%s", fd_junk, r.out);
}

/* --- named in the new program's argv or environment --- */

Test(fd_deliberate, named_in_argv_is_passed)
{
	static const char *const forms[][2] = {
		{ "--status-fd", "@" }, { "--status-fd=@", NULL },
		{ "--passphrase-fd", "@" }, { "-fd", "@" }, { "--fds=@", NULL },
		{ "/dev/fd/@", NULL }, { "/proc/self/fd/@", NULL },
		{ "fd:@", NULL }, { "-passin", "fd:@" }, { "--input=/dev/fd/@", NULL },
	};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		pass(NULL, "plain", "--", checker(), forms[i][0], forms[i][1], NULL);
		char what[64];
		snprintf(what, sizeof what, "argv %s %s", forms[i][0],
			 forms[i][1] ? forms[i][1] : "");
		expect_passed(what);
	}
}

Test(fd_deliberate, named_in_environment_is_passed)
{
	static const char *const forms[] = {
		"STATUS_FD=@", "PASS_FDS=@", "INPUT=/dev/fd/@",
		"MAKEFLAGS= -j2 --jobserver-auth=@,@",
	};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		pass(NULL, "plain", forms[i], "--", checker(), NULL);
		expect_passed(forms[i]);
	}
}

Test(fd_deliberate, a_number_alone_is_not_a_name)
{
	pass(NULL, "plain", "COUNT=@", "--", checker(), "--count", "@", "@", NULL);
	expect_not_passed("--count N, COUNT=N, N");
}

/* --- trampolines --- */

Test(fd_deliberate, trampoline_list_passes_every_formerly_inheritable_fd)
{
	pass(NULL, "plain", "--", checker(), "1.8", "@:@:@", NULL);
	cr_expect(child_has(fd_made), "listed fd %d not passed:\n%s", fd_made, r.out);
	cr_expect(child_has(fd_junk), "inheritable fd %d not passed to a "
		  "trampoline:\n%s", fd_junk, r.out);
	cr_expect(!child_has(fd_own), "O_CLOEXEC fd %d passed:\n%s", fd_own, r.out);
}

/* An fd the shim never saw made (a raw system call) was inheritable all
 * along: a trampoline gets it as it would without the shim. */
Test(fd_deliberate, trampoline_gets_an_unseen_inheritable_fd)
{
	pass(NULL, "plain", "--", checker(), "1.8", "@:@:@", NULL);
	cr_expect(child_has(fd_raw), "raw inheritable fd %d not passed to a "
		  "trampoline:\n%s", fd_raw, r.out);
}

Test(fd_deliberate, jspawnhelper_gets_every_formerly_inheritable_fd)
{
	char helper[PATH_MAX], cmd[PATH_MAX * 3];
	snprintf(helper, sizeof helper, "%s/jspawnhelper", tmpdir());
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", checker(), helper);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	pass(NULL, "plain", "--", helper, "1.8", NULL);
	cr_expect(child_has(fd_made), "fd %d not passed to jspawnhelper:\n%s",
		  fd_made, r.out);
	cr_expect(child_has(fd_junk), "fd %d not passed to jspawnhelper:\n%s",
		  fd_junk, r.out);
	cr_expect(!child_has(fd_own), "O_CLOEXEC fd %d passed:\n%s", fd_own, r.out);
}

/* --- inherited fds, shells --- */

/* What a program was handed at start-up it hands on: env, nice, nohup,
 * setsid and stdbuf exec the command in place.  (setsid forks first when
 * it leads its group; -w makes it wait, so the output is complete when the
 * shell exits.) */
Test(fd_deliberate, exec_in_place_wrappers_hand_on_inherited_fds)
{
	static const char *const wrappers[] = {
		"/usr/bin/env", "/usr/bin/nice", "/usr/bin/nohup",
		"/usr/bin/setsid -w", "/usr/bin/stdbuf -oL",
		"/usr/bin/env /usr/bin/nice /usr/bin/setsid -w",
	};
	for (size_t i = 0; i < sizeof wrappers / sizeof wrappers[0]; i++) {
		char cmd[PATH_MAX * 2];
		snprintf(cmd, sizeof cmd, "exec 7</dev/null; exec %s '%s'",
			 wrappers[i], checker());
		cr_assert_eq(run_sh(&r, cmd, NULL, 1, TIMEOUT), 0);
		cr_assert_eq(exit_code(&r), 0, "%s: %s", wrappers[i], r.err);
		cr_expect(strstr(r.out, "fd 7 /dev/null\n"),
			  "%s did not hand on fd 7:\n%s\n%s", wrappers[i], r.out, r.err);
	}
}

/* Inherited fds at either side of the 64 numbers start-up looks at
 * without /proc (fdtable.c: a small fd table), and with the table grown by
 * an fd since closed: each reaches env's command, with and without the
 * shim (bash: dash's redirections take one digit).  One row per case:
 * the shell's redirections, the fds to see. */
Test(fd_deliberate, inherited_fds_at_every_number_reach_the_child)
{
	static const struct {
		const char *redirect;
		int fds[3];
	} rows[] = {
		{ "exec 3</dev/null", { 3, -1 } },
		{ "exec 63</dev/null", { 63, -1 } },
		{ "exec 64</dev/null", { 64, -1 } },
		{ "exec 65</dev/null", { 65, -1 } },
		{ "exec 5</dev/null 128</dev/null", { 5, 128, -1 } },
		{ "exec 1500</dev/null", { 1500, -1 } },
		{ "exec 300</dev/null; exec 300<&-; exec 9</dev/null", { 9, -1 } },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		for (int shim = 0; shim < 2; shim++) {
			char cmd[PATH_MAX * 2];
			snprintf(cmd, sizeof cmd,
				 "ulimit -n 4096 || exit 97; %s; exec /usr/bin/env '%s'",
				 rows[i].redirect, checker());
			char *argv[] = { "/bin/bash", "-c", cmd, NULL };
			cr_assert_eq(run(&r, argv, NULL, shim, TIMEOUT, ""), 0);
			cr_assert_eq(exit_code(&r), 0, "%s: %s", cmd, r.err);
			for (int k = 0; rows[i].fds[k] >= 0; k++) {
				char want[64];
				snprintf(want, sizeof want, "fd %d /dev/null\n",
					 rows[i].fds[k]);
				cr_expect(strstr(r.out, want), "%s %s: fd %d did "
					  "not reach the child:\n%s\n%s",
					  shim ? "under the shim" : "without it",
					  rows[i].redirect, rows[i].fds[k],
					  r.out, r.err);
			}
		}
	}
}

/* An inherited fd the program closes is forgotten however it closed it:
 * the file it opens next onto that number is its own, a leak withheld
 * like any other (without the shim it reaches the child).  One row per
 * case: the fds handed over, how they are closed, from which number; the
 * fd 67 rows close fds beyond the first 64 inherited ones. */
Test(fd_deliberate, closed_inherited_fds_are_forgotten)
{
	static const struct {
		const char *redirect, *how;
		int lo;
	} rows[] = {
		{ "exec 3</dev/null", "close", 3 },
		{ "exec 3</dev/null", "closefrom", 3 },
		{ "exec 3</dev/null", "close_range", 3 },
		{ "exec 3</dev/null 4</dev/null", "close_range_one", 3 },
		{ "exec 3</dev/null 9</dev/null", "closefrom", 3 },
		{ "for i in $(seq 3 72); do eval \"exec $i</dev/null\"; done",
		  "closefrom", 3 },
		{ "for i in $(seq 3 72); do eval \"exec $i</dev/null\"; done",
		  "close_range", 67 },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		for (int shim = 0; shim < 2; shim++) {
			char cmd[PATH_MAX * 3];
			snprintf(cmd, sizeof cmd,
				 "ulimit -n 4096 || exit 97; %s; exec '%s' %s %d -- '%s'",
				 rows[i].redirect,
				 top("build/fixtures/fdh_close_inherited"),
				 rows[i].how, rows[i].lo, checker());
			char *argv[] = { "/bin/bash", "-c", cmd, NULL };
			char *env[] = { "NOLEAK_MODE=enforce", NULL };
			cr_assert_eq(run(&r, argv, env, shim, TIMEOUT, ""), 0);
			cr_assert_eq(exit_code(&r), 0, "%s: %s", cmd, r.err);
			int fd = -1;
			cr_assert_eq(sscanf(r.out, "reopened=%d", &fd), 1, "%s", r.out);
			cr_assert_eq(fd, rows[i].lo, "%s: %s", cmd, r.out);
			const char *fds = strstr(r.out, "\nfds=");
			cr_assert_not_null(fds, "%s: %s\n%s", cmd, r.out, r.err);
			if (!shim)
				cr_assert(fd_list_has(fds + 5, fd), "%s %s: the new fd "
					  "did not leak without the shim:\n%s",
					  rows[i].redirect, rows[i].how, r.out);
			else
				cr_expect(!fd_list_has(fds + 5, fd), "%s, %s(%d): the "
					  "program's own fd %d taken for the inherited "
					  "one:\n%s", rows[i].redirect, rows[i].how,
					  rows[i].lo, fd, r.out);
		}
	}
}

/* A shell is told by its executable when the name it was run by says
 * nothing: a script run by its own path (#!/bin/bash), bash through a
 * symbolic link of another name, a script whose interpreter is such a
 * link.  Each leaves its {fd}< file to its command, as without the shim. */
Test(fd_deliberate, a_shell_under_another_name_is_left_alone)
{
	char script[PATH_MAX], link[PATH_MAX], linked[PATH_MAX];
	snprintf(link, sizeof link, "%s/mysh", tmpdir());
	snprintf(script, sizeof script, "%s/run-checker", tmpdir());
	snprintf(linked, sizeof linked, "%s/run-checker-linked", tmpdir());
	unlink(link);
	cr_assert_eq(symlink("/bin/bash", link), 0);
	const char *body = "exec {fd}</dev/null; echo \"named=$fd\"; exec \"$0.fds\"\n";
	char text[PATH_MAX * 2];
	FILE *f = fopen(script, "w");
	cr_assert(f);
	fprintf(f, "#!/bin/bash\n%s", body);
	fclose(f);
	f = fopen(linked, "w");
	cr_assert(f);
	fprintf(f, "#!%s\n%s", link, body);
	fclose(f);
	cr_assert_eq(chmod(script, 0755) | chmod(linked, 0755), 0);
	for (int i = 0; i < 2; i++) {
		snprintf(text, sizeof text, "%s.fds", i ? linked : script);
		unlink(text);
		cr_assert_eq(symlink(checker(), text), 0);
	}
	char c_line[64];
	snprintf(c_line, sizeof c_line, "exec {fd}</dev/null; echo \"named=$fd\"; "
		 "exec \"$0\"");
	char checker_copy[PATH_MAX];
	snprintf(checker_copy, sizeof checker_copy, "%s", checker());
	char *rows[][5] = {
		{ script, NULL },
		{ linked, NULL },
		{ link, "-c", c_line, checker_copy, NULL },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		for (int shim = 0; shim < 2; shim++) {
			cr_assert_eq(run(&r, rows[i], NULL, shim, TIMEOUT, ""), 0);
			cr_assert_eq(exit_code(&r), 0, "%s: %s", rows[i][0], r.err);
			int fd = -1;
			cr_assert_eq(sscanf(r.out, "named=%d", &fd), 1, "%s", r.out);
			char want[64];
			snprintf(want, sizeof want, "fd %d /dev/null\n", fd);
			cr_expect(strstr(r.out, want), "%s %s: the shell's fd %d "
				  "did not reach its command:\n%s", rows[i][0],
				  shim ? "under the shim" : "without it", fd, r.out);
		}
	}
}

/* bash's {var}< redirection puts the file on the first free fd >= 10 with
 * fcntl(F_DUPFD): inheritable, as the script means.  Shells are left
 * alone. */
Test(fd_deliberate, shell_fds_are_left_alone)
{
	char cmd[PATH_MAX * 2];
	snprintf(cmd, sizeof cmd, "exec {fd}</dev/null; echo \"named=$fd\"; exec '%s'",
		 checker());
	char *argv[] = { "/bin/bash", "-c", cmd, NULL };
	cr_assert_eq(run(&r, argv, NULL, 1, TIMEOUT, ""), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	int fd = -1;
	cr_assert_eq(sscanf(r.out, "named=%d", &fd), 1, "%s", r.out);
	char want[64];
	snprintf(want, sizeof want, "fd %d /dev/null\n", fd);
	cr_expect(strstr(r.out, want), "bash's fd %d did not reach its command:\n%s",
		  fd, r.out);
}
