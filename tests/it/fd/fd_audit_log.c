/* The leak log: audit mode names every fd an exec would leak (number, kind,
 * the call that made it and where in the program that call is) and changes
 * nothing; enforce logs every fd it kept from crossing an exec that would
 * have crossed without the shim; a program whose exec leaks nothing is not
 * changed at all. */
#include <criterion/criterion.h>

#include <limits.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0
#define MAX_FD 1024

static struct run_result r;
static char log_path[PATH_MAX];
static char log_env[PATH_MAX + 16];

static void init(void)
{
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	cr_assert_eq(access(top("build/fixtures/fdh_exec_paths"), X_OK), 0,
		     "build/fixtures/fdh_exec_paths missing");
	snprintf(log_path, sizeof log_path, "%s/events.log", tmpdir());
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log_path);
}

TestSuite(fd_audit_log, .init = init);

/* Numbers after "key=" at the start of a line of the output. */
static int numbers(const char *key, int *out, int cap)
{
	size_t klen = strlen(key);
	for (const char *line = r.out; line && *line;) {
		if (!strncmp(line, key, klen) && line[klen] == '=') {
			int n = 0;
			const char *p = line + klen + 1;
			while (*p >= '0' && *p <= '9' && n < cap) {
				out[n++] = (int)strtol(p, (char **)&p, 10);
				if (*p == ',')
					p++;
			}
			return n;
		}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	cr_assert_fail("no %s= line in:\n%s", key, r.out);
	return 0;
}

static void exec_via(const char *via, const char *mode, const char *clean,
		     int shim)
{
	char mode_env[64], path[PATH_MAX + 32];
	snprintf(mode_env, sizeof mode_env, "NOLEAK_MODE=%s", mode);
	/* the p forms find fdh_fds on PATH */
	snprintf(path, sizeof path, "PATH=%s:/usr/bin:/bin", top("build/fixtures"));
	char *env[] = { mode_env, log_env, "NOLEAK_KEEP_FDS=30", path, NULL };
	char *argv[] = { (char *)top("build/fixtures/fdh_exec_paths"),
			 (char *)via, (char *)clean, NULL };
	cr_assert_eq(run(&r, argv, env, shim, TIMEOUT, ""), 0);
	cr_assert_eq(exit_code(&r), 0, "%s: %s\n%s", via, r.out, r.err);
}

static void exec_paths(const char *mode, const char *clean, int shim)
{
	exec_via("execve", mode, clean, shim);
}

/* The fd_leak event for fd in the log (a copy of its line), or NULL. */
static const char *leak_event(const char *log, int fd)
{
	static char line[4096];
	char key[32];
	snprintf(key, sizeof key, "\"fd\":%d,", fd);
	for (const char *p = log; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (memmem(p, len, "\"event\":\"fd_leak\"", 17) && memmem(p, len, key, strlen(key))) {
			snprintf(line, sizeof line, "%.*s", (int)len, p);
			return line;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* A string field of a JSON line ("" when absent). */
static const char *field(const char *line, const char *name)
{
	static char value[PATH_MAX];
	char key[64];
	snprintf(key, sizeof key, "\"%s\":\"", name);
	const char *p = line ? strstr(line, key) : NULL;
	value[0] = '\0';
	if (p) {
		p += strlen(key);
		const char *end = strchr(p, '"');
		snprintf(value, sizeof value, "%.*s", end ? (int)(end - p) : 0, p);
	}
	return value;
}

static void expect_event(const char *log, int fd, const char *action,
			 const char *kind, const char *created_by)
{
	const char *ev = leak_event(log, fd);
	cr_assert_not_null(ev, "no fd_leak event for fd %d in:\n%s", fd, log);
	cr_expect_str_eq(field(ev, "action"), action, "fd %d: %s", fd, ev);
	cr_expect_str_eq(field(ev, "kind"), kind, "fd %d: %s", fd, ev);
	cr_expect_str_eq(field(ev, "created_by"), created_by, "fd %d: %s", fd, ev);
	cr_expect_str_eq(field(ev, "via"), "execve", "fd %d: %s", fd, ev);
	cr_expect_str_eq(field(ev, "argv0"), "fdh_fds", "fd %d: %s", fd, ev);
}

/* The module and offset of the event resolve to a line of the fixture. */
static void expect_source_line(const char *log, int fd)
{
	const char *ev = leak_event(log, fd);
	cr_assert_not_null(ev);
	char module[PATH_MAX], offset[64];
	snprintf(module, sizeof module, "%s", field(ev, "module"));
	snprintf(offset, sizeof offset, "%s", field(ev, "offset"));
	size_t n = strlen(module);
	cr_assert(n > 15 && !strcmp(module + n - 15, "/fdh_exec_paths"),
		  "fd %d: module is not the program: %s", fd, ev);
	cr_assert(!strncmp(offset, "0x", 2), "fd %d: offset: %s", fd, ev);
	char *argv[] = { "/usr/bin/addr2line", "-e", module, offset, NULL };
	struct run_result *a = malloc(sizeof *a);
	cr_assert_eq(run(a, argv, NULL, 0, TIMEOUT, ""), 0);
	cr_expect(strstr(a->out, "fdh_exec_paths.c:"),
		  "fd %d: addr2line -e %s %s says %s", fd, module, offset, a->out);
	free(a);
}

Test(fd_audit_log, audit_logs_each_leak_and_changes_nothing)
{
	exec_paths("audit", NULL, 1);
	int junk[8], keep[8], got[64];
	cr_assert_eq(numbers("junk", junk, 8), 6);
	int nk = numbers("keep", keep, 8);
	int ng = numbers("fds", got, 64);
	const char *log = slurp(log_path);
	cr_expect_eq(count_lines_with(log, "\"event\":\"fd_leak\""), 6, "%s", log);

	/* junk: raw pipe (2 ends), open /dev/null, socket, pipe2 read end,
	 * open /dev/null */
	expect_event(log, junk[0], "would_close", "pipe", "unseen");
	expect_event(log, junk[1], "would_close", "pipe", "unseen");
	expect_event(log, junk[2], "would_close", "chr", "open");
	expect_event(log, junk[3], "would_close", "socket", "socket");
	expect_event(log, junk[4], "would_close", "pipe", "pipe2");
	expect_event(log, junk[5], "would_close", "chr", "open");
	cr_expect_str_eq(field(leak_event(log, junk[0]), "end"), "read");
	cr_expect_str_eq(field(leak_event(log, junk[1]), "end"), "write");
	cr_expect_str_eq(field(leak_event(log, junk[4]), "end"), "read");
	for (int i = 2; i < 6; i++)
		expect_source_line(log, junk[i]);
	for (int i = 0; i < nk; i++)
		cr_expect_null(leak_event(log, keep[i]), "kept fd %d logged:\n%s",
			       keep[i], log);

	/* Audit changes nothing: the new program got every fd. */
	for (int i = 0; i < 6; i++) {
		int found = 0;
		for (int j = 0; j < ng; j++)
			found |= got[j] == junk[i];
		cr_expect(found, "audit mode kept fd %d from the child:\n%s", junk[i], r.out);
	}
}

/* Every fd enforce kept from the new program that it would have got
 * without the shim is logged, once: the ones made close-on-exec at creation
 * (the shim's flag, not the program's) as much as the raw pipe the sweep
 * marks.  The same fds, kinds, creating calls and sites as audit names. */
Test(fd_audit_log, enforce_logs_every_fd_it_withheld)
{
	static const char *const kinds[6][2] = {
		{ "pipe", "unseen" }, { "pipe", "unseen" }, { "chr", "open" },
		{ "socket", "socket" }, { "pipe", "pipe2" }, { "chr", "open" },
	};
	exec_paths("enforce", NULL, 1);
	int junk[8], keep[8];
	cr_assert_eq(numbers("junk", junk, 8), 6);
	int nk = numbers("keep", keep, 8);
	const char *log = slurp(log_path);
	cr_expect_eq(count_lines_with(log, "\"action\":\"would_close\""), 0, "%s", log);
	cr_expect_eq(count_lines_with(log, "\"action\":\"closed\""), 6,
		     "one event per withheld fd:\n%s", log);
	for (int i = 0; i < 6; i++)
		expect_event(log, junk[i], "closed", kinds[i][0], kinds[i][1]);
	for (int i = 2; i < 6; i++)
		expect_source_line(log, junk[i]);
	cr_expect_str_eq(field(leak_event(log, junk[4]), "end"), "read");
	cr_expect(strstr(field(leak_event(log, junk[2]), "target"), "/fdh_fds"),
		  "%s", leak_event(log, junk[2]));
	for (int i = 0; i < nk; i++)
		cr_expect_null(leak_event(log, keep[i]), "kept fd %d logged:\n%s",
			       keep[i], log);
}

/* Each event names the call the program made, a list form (execl,
 * execlp, execle) as much as the v form it is made of. */
static void events_name_the_call(const char *mode)
{
	static const char *const calls[] = {
		"execve", "execv", "execvp", "execvpe", "execl", "execlp",
		"execle", "fexecve", "execveat",
	};
	for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
		unlink(log_path);
		exec_via(calls[i], mode, NULL, 1);
		const char *log = slurp(log_path);
		int events = count_lines_with(log, "\"event\":\"fd_leak\"");
		char via[64];
		snprintf(via, sizeof via, "\"via\":\"%s\"", calls[i]);
		cr_expect_gt(events, 0, "%s under %s: no event", calls[i], mode);
		cr_expect_eq(count_lines_with(log, via), events,
			     "%s under %s: not every event says %s:\n%s",
			     calls[i], mode, via, log);
	}
}

Test(fd_audit_log, audit_events_name_the_call)
{
	events_name_the_call("audit");
}

Test(fd_audit_log, enforce_events_name_the_call)
{
	events_name_the_call("enforce");
}

Test(fd_audit_log, enforce_changes_nothing_when_nothing_leaks)
{
	exec_paths("enforce", "clean", 0);
	char plain[sizeof r.out];
	strcpy(plain, r.out);
	cr_assert(strstr(plain, "\nfds=20\n"), "%s", plain);
	exec_paths("enforce", "clean", 1);
	cr_expect_str_eq(r.out, plain);
	const char *log = slurp(log_path);
	cr_expect_eq(count_lines_with(log, "\"event\":\"fd_leak\""), 0, "%s", log);
}

/* A bare fork child of a threaded program holds every pipe the other
 * threads had open: audit names each, from the child, whether the fork
 * was the program's own or daemon(3)'s inside glibc (where the shim only
 * sees the call, not the fork). */
static void threaded_child_names_its_pipes(const char *way)
{
	char *env[] = { "NOLEAK_MODE=audit", log_env, NULL };
	char *argv[] = { (char *)top("build/fixtures/rep_leak"), (char *)way, NULL };
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, ""), 0);
	cr_assert_eq(exit_code(&r), 0, "%s\n%s", r.out, r.err);
	/* A daemon outlives the program run() waited for. */
	const char *ev = "\"event\":\"fork_inherit\"";
	for (int i = 0; i < 100 && count_lines_with(slurp(log_path), ev) < 4; i++)
		usleep(50000);
	const char *log = slurp(log_path);
	/* two pipes: the one its other thread reads, and one more */
	cr_expect_eq(count_lines_with(log, ev), 4, "%s", log);
	cr_expect_eq(count_lines_with(log, "\"threads\":2"), 4, "%s", log);
}

Test(fd_audit_log, a_threaded_program_s_fork_child_names_the_pipes_it_holds)
{
	threaded_child_names_its_pipes("fork");
}

Test(fd_audit_log, a_threaded_program_s_daemon_names_the_pipes_it_holds)
{
	threaded_child_names_its_pipes("daemon");
}
