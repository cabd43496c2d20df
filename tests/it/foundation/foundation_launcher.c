/* The launcher and the shim together, end to end: `noleak` starts a
 * program that leaks an fd into an exec, and the shim in that program does
 * what the launcher's options asked.  (tests/it/launcher.c checks the
 * environment the launcher sets; this checks what then happens.) */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0

static struct run_result r;
static char log_path[PATH_MAX];

static void init(void)
{
	snprintf(log_path, sizeof log_path, "%s/events.log", tmpdir());
}

TestSuite(foundation_launcher, .init = init, .timeout = 60);

/* noleak [--audit] --log LOG -- found_leak found_fdlist; returns the fd
 * found_leak leaked. */
static int launch(int audit)
{
	char *argv[] = { (char *)top("build/noleak"), "--log", log_path, "--",
			 (char *)top("build/fixtures/found_leak"),
			 (char *)top("build/fixtures/found_fdlist"), NULL, NULL };
	if (audit) {
		memmove(argv + 2, argv + 1, 5 * sizeof *argv);
		argv[1] = "--audit";
	}
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out);
	cr_assert_eq(exit_code(&r), 0, "status %d, stderr: %s", r.status, r.err);
	int fd = -1;
	const char *line = strstr(r.out, "found_leak: fd=");
	cr_assert_not_null(line, "%s", r.out);
	cr_assert_eq(sscanf(line, "found_leak: fd=%d", &fd), 1);
	return fd;
}

static int inherited(int fd)
{
	char want[32];
	const char *line = strstr(r.out, "inherited:");
	cr_assert_not_null(line, "the checker did not run: %s", r.out);
	snprintf(want, sizeof want, " %d", fd);
	for (const char *p = strstr(line, want); p; p = strstr(p + 1, want))
		if (p[strlen(want)] == ' ' || p[strlen(want)] == '\n')
			return 1;
	return 0;
}

Test(foundation_launcher, audit_logs_the_leak_and_changes_nothing)
{
	int fd = launch(1);
	const char *log = slurp(log_path);
	char fd_field[32];
	snprintf(fd_field, sizeof fd_field, "\"fd\":%d,", fd);
	cr_expect_eq(count_lines_with(log, "\"event\":\"fd_leak\""), 1, "%s", log);
	cr_expect(strstr(log, "\"mode\":\"audit\""), "%s", log);
	cr_expect(strstr(log, "\"action\":\"would_close\""), "%s", log);
	cr_expect(strstr(log, fd_field), "want %s in %s", fd_field, log);
	cr_expect(strstr(log, "\"object\":\"/dev/null\""), "%s", log);
	cr_expect(strstr(log, "/found_fdlist\""), "no target: %s", log);
	cr_expect(inherited(fd), "audit kept fd %d from the exec: %s", fd, r.out);
}

Test(foundation_launcher, enforce_keeps_the_fd_from_the_exec)
{
	int fd = launch(0);
	cr_expect(!inherited(fd), "fd %d leaked into the exec: %s", fd, r.out);
	/* Close-on-exec since its creation, by the shim's choice and not the
	 * program's: without the shim it would have crossed, so enforce says
	 * it kept it back, once. */
	const char *log = slurp(log_path);
	char fd_field[32];
	snprintf(fd_field, sizeof fd_field, "\"fd\":%d,", fd);
	cr_expect_eq(count_lines_with(log, "\"fd_leak\""), 1, "%s", log);
	cr_expect(strstr(log, "\"action\":\"closed\""), "%s", log);
	cr_expect(strstr(log, fd_field), "want %s in %s", fd_field, log);
}
