/* What programs rely on from exec paths besides the fds they pass: a failed
 * execvp leaves their fds alone, posix_spawn file actions still work on fds
 * the shim made close-on-exec, and system()/popen() answer exactly as
 * glibc's do. */
#include <criterion/criterion.h>

#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0

static struct run_result r;

static void init(void)
{
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	cr_assert_eq(access(top("build/fixtures/fdh_spawn"), X_OK), 0,
		     "build/fixtures/fdh_spawn missing");
}

TestSuite(fd_spawn_paths, .init = init);

static void spawn_fixture(const char *mode, char *const env[], int shim)
{
	char *argv[] = { (char *)top("build/fixtures/fdh_spawn"), (char *)mode, NULL };
	cr_assert_eq(run(&r, argv, env, shim, TIMEOUT, ""), 0);
	cr_assert(!r.timed_out, "fdh_spawn %s timed out", mode);
	cr_assert_eq(exit_code(&r), 0, "fdh_spawn %s (shim=%d): exit %d\n%s\n%s",
		     mode, shim, exit_code(&r), r.out, r.err);
}

static void expect_line(const char *line)
{
	char want[512];
	snprintf(want, sizeof want, "%s\n", line);
	cr_expect(strstr(r.out, want), "no line \"%s\" in:\n%s", line, r.out);
}

Test(fd_spawn_paths, failed_execvp_keeps_every_fd_open)
{
	spawn_fixture("enoent", NULL, 1);
	expect_line("execvp=-1 errno=ENOENT");
	expect_line("pipe=1");
	expect_line("raw_pipe=1");
	expect_line("file=1");
	/* What the program made inheritable on purpose stays so. */
	expect_line("deliberate=1 deliberate_cloexec=0");
}

Test(fd_spawn_paths, failed_execvp_in_audit_mode)
{
	char *env[] = { "NOLEAK_MODE=audit", NULL };
	spawn_fixture("enoent", env, 1);
	expect_line("execvp=-1 errno=ENOENT");
	expect_line("pipe=1");
	expect_line("raw_pipe=1");
	expect_line("file=1");
}

Test(fd_spawn_paths, file_action_dup2_of_a_high_fd_onto_stdout)
{
	spawn_fixture("dup2_200", NULL, 1);
	expect_line("high=200 got=hello");
	expect_line("status=0");
}

/* posix_spawn_file_actions_adddup2(fd, fd) is glibc's way of clearing the
 * close-on-exec flag of fd in the child only: the child gets fd. */
Test(fd_spawn_paths, file_action_dup2_onto_itself_passes_the_fd)
{
	spawn_fixture("dup2_self", NULL, 1);
	int fd = -1, other = -1;
	cr_assert_eq(sscanf(r.out, "fd=%d other=%d", &fd, &other), 2, "%s", r.out);
	const char *fds = strstr(r.out, "\nfds=");
	cr_assert_not_null(fds, "%s", r.out);
	char want[32];
	snprintf(want, sizeof want, "fds=%d\n", fd);
	cr_expect(!strncmp(fds + 1, want, strlen(want)),
		  "want only fd %d in the child (not the read end %d):\n%s", fd,
		  other, r.out);
}

/* Replace every "cloexec=0" by "cloexec=1" on the popen lines of text. */
static void popen_fds_cloexec(char *text)
{
	for (char *line = text; line && *line;) {
		char *end = strchr(line, '\n');
		char *flag = strstr(line, " cloexec=0");
		if (!strncmp(line, "popen_", 6) && flag && (!end || flag < end))
			flag[9] = '1';
		line = end ? end + 1 : NULL;
	}
}

/* The same program with and without the shim prints the same results;
 * audit mode matches glibc to the letter. */
Test(fd_spawn_paths, system_and_popen_answer_as_glibc)
{
	spawn_fixture("shell", NULL, 0);
	char plain[sizeof r.out];
	strcpy(plain, r.out);
	/* What glibc itself says, so the comparison below is about something. */
	expect_line("system_exit3=768");
	expect_line("system_term=15");
	expect_line("system_null=1");
	expect_line("popen_r=[hi] cloexec=0 pclose=1024");
	expect_line("popen_w=[] cloexec=0 pclose=1280");
	expect_line("popen_re=[cloexec] cloexec=1 pclose=0");
	expect_line("popen_bad_mode=NULL errno=EINVAL");

	char *audit[] = { "NOLEAK_MODE=audit", NULL };
	spawn_fixture("shell", audit, 1);
	cr_expect_str_eq(r.out, plain, "under audit:\n%s\nwithout:\n%s", r.out,
			 plain);

	/* Enforce gives the parent's end of every popen pipe close-on-exec,
	 * like every fd the program creates; everything else is glibc's. */
	spawn_fixture("shell", NULL, 1);
	popen_fds_cloexec(plain);
	cr_expect_str_eq(r.out, plain, "under enforce:\n%s\nexpected:\n%s",
			 r.out, plain);
}

Test(fd_spawn_paths, earlier_popen_stream_not_in_a_later_popen_child)
{
	spawn_fixture("shell", NULL, 1);
	int first = -1;
	const char *p = strstr(r.out, "first_fd=");
	cr_assert(p && sscanf(p, "first_fd=%d", &first) == 1, "%s", r.out);
	const char *seen = strstr(r.out, "second_sees:fds=");
	cr_assert_not_null(seen, "%s", r.out);
	seen += strlen("second_sees:fds=");
	for (const char *q = seen; *q && *q != '\n';) {
		int fd = (int)strtol(q, (char **)&q, 10);
		cr_expect_neq(fd, first, "later popen child holds the earlier "
			      "stream's fd %d:\n%s", first, r.out);
		if (*q == ',')
			q++;
		else
			break;
	}
	cr_expect(strstr(r.out, "second_pclose=0\n"), "%s", r.out);
	cr_expect(strstr(r.out, "first_pclose=0\n"), "%s", r.out);
}

/* The corners of system(), popen() and pclose(): one row a case of
 * `fdh_spawn case NAME`, with glibc's line, which audit and enforce print
 * too. */
static const struct {
	const char *name;
	const char *glibc;
} shell_cases[] = {
	/* pclose's wait is no cancellation point: the thread ends cancelled
	 * after it, with the status and no zombie. */
	{ "pclose_cancelled", "cancelled=1 joined=1s result=1024 children=none "
			      "int=on_int quit=on_quit" },
	/* A thread cancelled in system(): the child is killed and reaped, and
	 * SIGINT and SIGQUIT are the program's again. */
	{ "system_cancelled", "cancelled=1 joined=short result=-2 children=none "
			      "int=on_int quit=on_quit" },
	/* The fd closed under the stream: the close fails, nothing waits. */
	{ "pclose_fd_closed", "close=-1 errno=EBADF later_wait=child status=1280" },
	{ "fclose_fd_closed", "close=-1 errno=EBADF later_wait=child status=1280" },
	/* fds 0-2 closed, a limit of 3: the child's end moves to 2. */
	{ "popen_r_fds_closed", "popen=stream pclose=768" },
	{ "popen_w_fds_closed", "popen=stream pclose=768" },
	/* ... and with a limit of 2 it cannot move: glibc's ENOMEM. */
	{ "popen_no_fd_to_move_to", "popen=NULL errno=ENOMEM" },
	/* glibc's other names: _IO_popen is popen; _IO_proc_close closes the
	 * fd and waits, and leaves the stream to an fclose that closes
	 * nothing. */
	{ "io_popen", "read=[hi] pclose=1024" },
	{ "popen_twice", "pclose=0 read=[hi] pclose=0" },
	{ "io_proc_close_fclose", "proc_close=1536 errno=0 close=-1 errno=0 "
				  "children=none" },
	{ "io_proc_close_pclose", "proc_close=1536 errno=0 close=-1 errno=0 "
				  "children=none" },
};

static void shell_case(const char *name, char *const env[], int shim)
{
	char *argv[] = { (char *)top("build/fixtures/fdh_spawn"), "case",
			 (char *)name, NULL };
	cr_assert_eq(run(&r, argv, env, shim, TIMEOUT, ""), 0);
	cr_assert(!r.timed_out, "fdh_spawn case %s timed out", name);
	cr_assert_eq(exit_code(&r), 0, "fdh_spawn case %s (shim=%d): exit %d\n%s\n%s",
		     name, shim, exit_code(&r), r.out, r.err);
}

Test(fd_spawn_paths, shell_corners_answer_as_glibc, .timeout = 120)
{
	char *audit[] = { "NOLEAK_MODE=audit", NULL };
	for (size_t i = 0; i < sizeof shell_cases / sizeof shell_cases[0]; i++) {
		const char *name = shell_cases[i].name;
		char want[512];
		snprintf(want, sizeof want, "%s: %s\n", name, shell_cases[i].glibc);
		shell_case(name, NULL, 0);
		cr_expect_str_eq(r.out, want, "%s without the shim: %s", name, r.out);
		shell_case(name, audit, 1);
		cr_expect_str_eq(r.out, want, "%s under audit: %s", name, r.out);
		shell_case(name, NULL, 1);
		cr_expect_str_eq(r.out, want, "%s under enforce: %s", name, r.out);
	}
}

/* A popen's pipe that takes the numbers of an earlier popen's, closed:
 * enforce logged its ends as fds it withheld from the child, under the
 * earlier pipe's creator (both ends are close-on-exec, as in glibc). */
Test(fd_spawn_paths, a_second_popen_logs_no_leak)
{
	char log[1024], logenv[1100];
	snprintf(log, sizeof log, "%s/popen.log", tmpdir());
	snprintf(logenv, sizeof logenv, "NOLEAK_LOG=%s", log);
	char *env[] = { "NOLEAK_MODE=enforce", logenv, NULL };
	shell_case("popen_twice", env, 1);
	const char *text = slurp(log);
	cr_expect_eq(count_lines_with(text, "\"event\":\"fd_leak\""), 0, "%s", text);
}
