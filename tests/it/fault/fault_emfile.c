/* The fd table full (EMFILE): every interposed creating call fails as it
 * would without the shim, with the same errno, and the shim takes no fd of
 * the program's, also while a log is configured (opening the log needs an
 * fd: the event is dropped instead).
 *
 * flt_emfile lowers RLIMIT_NOFILE, fills the table and tries each call,
 * printing result, errno and the count of open fds; then, still full, a
 * TCP connect (an event under audit with a log), fork+exec, posix_spawn
 * and system.  The runs with and without the shim must print the same. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../../lib/run.h"

#define TIMEOUT 30.0
#define LIMIT "32"

TestSuite(fault_emfile, .timeout = 90);

static struct run_result r;

/* The fixture's report without the line of local ports (they differ from
 * run to run). */
static void report_of(const char *out, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = 0;
	for (const char *line = out; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
		if (strncmp(line, "full_port=", 10) && len + n < cap) {
			memcpy(buf + len, line, n);
			len += n;
			buf[len] = 0;
		}
		line = nl ? nl + 1 : NULL;
	}
}

static void run_full(const char *mode, const char *log, int shim,
		     char *report, size_t cap)
{
	char mode_env[64], log_env[PATH_MAX + 16];
	snprintf(mode_env, sizeof mode_env, "NOLEAK_MODE=%s", mode ? mode : "");
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log ? log : "");
	char *env[] = { mode_env, log_env, NULL };
	char dir[256];
	snprintf(dir, sizeof dir, "%s", tmpdir());
	char *argv[] = { (char *)top("build/fixtures/flt_emfile"), LIMIT, dir,
			 NULL };
	cr_assert_eq(run(&r, argv, env, shim, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "flt_emfile hung (mode %s)", mode);
	cr_assert_eq(exit_code(&r), 0, "flt_emfile (mode %s, shim %d): status "
		     "%d\n%s%s", mode, shim, r.status, r.out, r.err);
	report_of(r.out, report, cap);
}

static char plain[16384];

/* The run without the shim, and what it shows: every call met EMFILE. */
static void run_plain(void)
{
	static const char *const calls[] = {
		"open", "open_cloexec", "openat", "creat", "pipe", "pipe2",
		"socket", "socket_unix", "socketpair", "dup", "fcntl_dupfd",
		"fcntl_dupfd_cloexec", "accept", "accept4", "epoll_create",
		"epoll_create1", "eventfd", "memfd_create", "open_tree",
		"inotify_init",
		"inotify_init1", "timerfd_create", "signalfd", "mkstemp",
		"mkostemp", "fopen", "popen", "opendir",
	};
	run_full(NULL, NULL, 0, plain, sizeof plain);
	for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
		char want[64];
		snprintf(want, sizeof want, "\n%s r=-1 errno=EMFILE open=" LIMIT "\n",
			 calls[i]);
		cr_assert(strstr(plain, want), "without the shim, %s did not "
			  "meet a full table: %s", calls[i], plain);
	}
	cr_assert(strstr(plain, "\nconnect r=0 "), "%s", plain);
}

static void expect_same(const char *mode, const char *log)
{
	static char shim[16384];
	run_full(mode, log, 1, shim, sizeof shim);
	cr_expect_str_eq(shim, plain, "mode %s, log %s: the shim changed what "
			 "the program saw.\nwith the shim:\n%s\nwithout:\n%s",
			 mode, log ? log : "none", shim, plain);
	cr_expect_eq(r.err[0], 0, "stderr: %s", r.err);
}

Test(fault_emfile, creating_calls_fail_as_without_the_shim)
{
	run_plain();
	expect_same("enforce", NULL);
	expect_same("audit", NULL);
}

Test(fault_emfile, event_while_full_is_dropped_without_taking_an_fd)
{
	run_plain();
	char log[PATH_MAX];
	snprintf(log, sizeof log, "%s/events.log", tmpdir());
	expect_same("audit", log);

	/* The connect while full was not logged (no fd to open the log
	 * with); the one after a few fds were freed was. */
	int full = -1, after = -1;
	const char *p = strstr(r.out, "full_port=");
	cr_assert(p && sscanf(p, "full_port=%d after_port=%d", &full, &after) == 2,
		  "%s", r.out);
	char full_addr[64], after_addr[64];
	snprintf(full_addr, sizeof full_addr, "\"local\":\"127.0.0.1:%d\"", full);
	snprintf(after_addr, sizeof after_addr, "\"local\":\"127.0.0.1:%d\"", after);
	const char *text = slurp(log);
	cr_expect_eq(count_lines_with(text, full_addr), 0,
		     "an event was written while the table was full: %s", text);
	cr_expect_eq(count_lines_with(text, after_addr), 1,
		     "logging did not resume once fds were free: %s", text);

	/* The same with enforce, whose exec events cannot be written
	 * either. */
	snprintf(log, sizeof log, "%s/events.log", tmpdir());
	expect_same("enforce", log);
}
