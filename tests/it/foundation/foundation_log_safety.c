/* The shim's log never gets in the program's way.
 *
 * The log fd is the shim's own, opened lazily above the fds programs use and
 * never on 0-2; a program that closes every fd, starts with stdio closed or
 * dup2()s its own file over the log's number must never find shim output in
 * its files, and a log that cannot be written must change nothing for the
 * program.  Events come from found_log: a config error at start-up
 * (NOLEAK_KEEP_FDS=bogus) and fd_leak events at its execs (audit mode). */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0

static struct run_result r;
static char dir[256];  /* tmpdir() paths are short */

static void init(void)
{
	snprintf(dir, sizeof dir, "%s", tmpdir());
}

TestSuite(foundation_log_safety, .init = init, .timeout = 60);

static const char *path_in_dir(const char *name)
{
	static char buf[8][PATH_MAX];
	static int next;
	char *out = buf[next++ % 8];
	snprintf(out, PATH_MAX, "%s/%s", dir, name);
	return out;
}

static const char *found_log(void) { return top("build/fixtures/found_log"); }

static char log_env[PATH_MAX + 16];

/* The environment that makes found_log produce events into `log`. */
static char **event_env(const char *log)
{
	static char *env[] = { "NOLEAK_MODE=audit", "NOLEAK_KEEP_FDS=bogus",
			       log_env, NULL };
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log);
	return env;
}

static int file_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Lines of `text` that contain both needles. */
static int lines_with_both(const char *text, const char *a, const char *b)
{
	int n = 0;
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (memmem(line, len, a, strlen(a)) && memmem(line, len, b, strlen(b)))
			n++;
		line = nl ? nl + 1 : NULL;
	}
	return n;
}

/* "exe":".../found_log": the events found_log itself wrote (its exec'd
 * /bin/true logs as /usr/bin/true). */
static const char *by_found_log(void) { return "/found_log\",\"mode\""; }

Test(foundation_log_safety, program_that_closes_every_fd_keeps_its_files)
{
	char log[PATH_MAX];
	snprintf(log, sizeof log, "%s", path_in_dir("events.log"));
	char *argv[] = { (char *)found_log(), "closeall",
			 (char *)path_in_dir("f0"), (char *)path_in_dir("f1"),
			 (char *)path_in_dir("f2"), (char *)path_in_dir("f3"),
			 NULL };
	cr_assert_eq(run(&r, argv, event_env(log), 1, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out);
	cr_assert_eq(exit_code(&r), 7, "status %d, stderr: %s", r.status, r.err);
	for (int i = 0; i < 4; i++) {
		char name[8], want[16];
		snprintf(name, sizeof name, "f%d", i);
		snprintf(want, sizeof want, "F%d own\n", i);
		cr_expect_str_eq(slurp(path_in_dir(name)), want,
				 "the program's fd %d got shim output", i);
	}
	/* The events went to the log all the same: the one logged before the
	 * program closed the log's fd, and those after. */
	const char *text = slurp(log);
	cr_expect_geq(lines_with_both(text, "\"config_error\"", by_found_log()), 1,
		      "log: %s", text);
	cr_expect_geq(lines_with_both(text, "\"fd_leak\"", "/f3\""), 1,
		      "no fd_leak for fd 3; log: %s", text);
}

/* found_log stdio, started by sh with 0-2 closed (and a lower fd limit when
 * `limit` is set), reports what it found. */
static void run_with_stdio_closed(const char *limit, int *logfd)
{
	const char *log = path_in_dir("events.log");
	const char *report = path_in_dir("report");
	char cmd[PATH_MAX * 4];
	snprintf(cmd, sizeof cmd, "%s%s%sexec '%s' stdio '%s' '%s' <&- >&- 2>&-",
		 limit ? "ulimit -n " : "", limit ? limit : "", limit ? "; " : "",
		 found_log(), log, report);
	cr_assert_eq(run_sh(&r, cmd, event_env(log), 1, TIMEOUT), 0);
	cr_assert(!r.timed_out);
	cr_assert_eq(exit_code(&r), 0, "status %d", r.status);
	const char *text = slurp(report);
	cr_assert_eq(sscanf(text, "fd0=closed fd1=closed fd2=closed logfd=%d\n",
			    logfd), 1,
		     "fds 0-2 were not all closed at main(): %s", text);
	cr_expect_eq(count_lines_with(text, "="), 1,
		     "the report file (on fd 0) got shim output: %s", text);
	const char *events = slurp(log);
	cr_expect_geq(lines_with_both(events, "\"config_error\"", by_found_log()),
		      1, "log: %s", events);
	cr_expect_geq(lines_with_both(events, "\"fd_leak\"", by_found_log()), 1,
		      "log: %s", events);
}

/* log=stderr follows fd 2 while it is the program's stderr; once the
 * program closed it, the file that took the number is the program's own
 * (the fd_leak at its exec is dropped, not written into f2). */
Test(foundation_log_safety, log_to_stderr_stays_out_of_a_file_on_fd_2)
{
	char *argv[] = { (char *)found_log(), "closeall",
			 (char *)path_in_dir("s0"), (char *)path_in_dir("s1"),
			 (char *)path_in_dir("s2"), (char *)path_in_dir("s3"),
			 NULL };
	char *env[] = { "NOLEAK_MODE=audit", "NOLEAK_LOG=stderr", NULL };
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 7, "status %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(slurp(path_in_dir("s2")), "F2 own\n",
			 "the program's file on fd 2 got shim output");
	/* and while fd 2 was the program's stderr, the log was there */
	char *plain[] = { (char *)found_log(), "exec", NULL };
	cr_assert_eq(run(&r, plain, env, 1, TIMEOUT, NULL), 0);
	cr_expect(strstr(r.err, "\"fd_leak\""), "stderr: %s", r.err);
}

Test(foundation_log_safety, log_never_lands_on_closed_stdio)
{
	int logfd;
	run_with_stdio_closed(NULL, &logfd);
	cr_expect_geq(logfd, 100, "the log fd is %d", logfd);
}

/* No number at 100 or above: the log keeps none (each line opens it,
 * writes and closes), and still gets its lines. */
Test(foundation_log_safety, log_stays_off_stdio_under_a_low_fd_limit)
{
	int logfd;
	run_with_stdio_closed("20", &logfd);
	cr_expect_eq(logfd, -1, "the log kept fd %d", logfd);
}

/* Under a low fd limit the program opens as many files as without the
 * shim: the log (a file, or syslog's socket, which without a listener
 * was kept all the same) held one of its numbers, and its second open()
 * failed with EMFILE.  Above 100 (rows 150), a syslog or journal socket
 * that reaches no listener is not kept either (the file is: one number
 * at 100 or above).  found_log fill counts, logs at an exec, counts
 * again. */
Test(foundation_log_safety, the_log_takes_no_fd_the_program_could_open)
{
	static const struct {
		const char *limit, *mode, *log;
	} rows[] = {
		{ "5", "audit", "file" },   { "5", "enforce", "file" },
		{ "5", "audit", "syslog" }, { "5", "enforce", "syslog" },
		{ "20", "audit", "file" },  { "20", "enforce", "syslog" },
		{ "150", "audit", "syslog" }, { "150", "enforce", "journal" },
	};
	const char *log = path_in_dir("events.log");
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		char *bare_out, cmd[PATH_MAX * 3];
		const char *dest = !strcmp(rows[i].log, "file") ? log : "syslog";
		unlink(log);
		snprintf(cmd, sizeof cmd, "ulimit -n %s; exec '%s' fill",
			 rows[i].limit, found_log());
		cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
		cr_assert_eq(exit_code(&r), 0, "status %d: %s", r.status, r.err);
		bare_out = strdup(r.out);
		/* No syslog or journal listener, on any host. */
		snprintf(cmd, sizeof cmd, "exec unshare -m --propagation private "
			 "sh -c 'for s in /dev/log /run/systemd/journal/socket; do "
			 "if [ -e $s ]; then mount --bind /dev/null $s || exit 98; fi; "
			 "done; ulimit -n %s; exec env LD_PRELOAD=\"%s\" NOLEAK_MODE=%s "
			 "NOLEAK_KEEP_FDS=bogus NOLEAK_LOG=\"%s\" \"%s\" fill'",
			 rows[i].limit, shim_path(), rows[i].mode, dest, found_log());
		cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
		cr_assert_neq(exit_code(&r), 98, "cannot hide the listeners: %s", r.err);
		cr_expect_eq(exit_code(&r), 0, "row %zu: status %d", i, r.status);
		cr_expect_str_eq(r.out, bare_out, "row %zu: limit %s, %s, log %s",
				 i, rows[i].limit, rows[i].mode, rows[i].log);
		free(bare_out);
		if (dest == log)
			cr_expect_geq(lines_with_both(slurp(log), "\"config_error\"",
						      by_found_log()), 1,
				      "row %zu: log: %s", i, slurp(log));
	}
}

/* A log write the kernel answers with a signal (SIGXFSZ: a file at the
 * program's RLIMIT_FSIZE; SIGPIPE: stderr a pipe without a reader) drops
 * the line and leaves the program alone: it was killed (status 153 or
 * 141), in audit mode too.  found_log exec logs a config error at
 * start-up and a leak at an exec, in its child. */
Test(foundation_log_safety, a_log_write_never_signals_the_program)
{
	static const struct {
		const char *name, *mode, *log, *setup, *redirect;
	} rows[] = {
		{ "file_at_size_limit", "audit", "FILE", "ulimit -f 1", "" },
		{ "file_at_size_limit_enforce", "enforce", "FILE", "ulimit -f 1", "" },
		{ "stderr_file_at_size_limit", "audit", "stderr", "ulimit -f 1",
		  "2>>'FILE'" },
		{ "stderr_pipe_without_reader", "audit", "stderr",
		  "mkfifo 'FIFO' && exec 3<>'FIFO' 4>'FIFO' 3<&-", "2>&4 4>&-" },
		{ "stderr_pipe_without_reader_enforce", "enforce", "stderr",
		  "mkfifo 'FIFO' && exec 3<>'FIFO' 4>'FIFO' 3<&-", "2>&4 4>&-" },
	};
	char big[4096];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\n';
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		char cmd[PATH_MAX * 6], *out[2], setup[PATH_MAX * 2],
			redirect[PATH_MAX * 2], logvar[PATH_MAX];
		int status[2];
		const char *file = path_in_dir("full.log"), *fifo = path_in_dir("fifo");
		/* FILE and FIFO in the row, replaced by the paths. */
		snprintf(setup, sizeof setup, "%s", rows[i].setup);
		snprintf(redirect, sizeof redirect, "%s", rows[i].redirect);
		snprintf(logvar, sizeof logvar, "%s",
			 strcmp(rows[i].log, "FILE") ? rows[i].log : file);
		for (char *p; (p = strstr(setup, "FIFO"));) {
			char rest[PATH_MAX];
			snprintf(rest, sizeof rest, "%s", p + 4);
			snprintf(p, sizeof setup - (size_t)(p - setup), "%s%s", fifo, rest);
		}
		for (char *p; (p = strstr(redirect, "FILE"));) {
			char rest[PATH_MAX];
			snprintf(rest, sizeof rest, "%s", p + 4);
			snprintf(p, sizeof redirect - (size_t)(p - redirect), "%s%s",
				 file, rest);
		}
		for (int shim = 0; shim < 2; shim++) {
			char env[PATH_MAX * 2] = "";
			unlink(fifo);
			FILE *f = fopen(file, "w");
			cr_assert_not_null(f);
			fwrite(big, 1, sizeof big, f);
			cr_assert_eq(fclose(f), 0);
			cr_assert_eq(chmod(file, 0600), 0);
			if (shim)
				snprintf(env, sizeof env, "env LD_PRELOAD='%s' "
					 "NOLEAK_MODE=%s NOLEAK_KEEP_FDS=bogus "
					 "NOLEAK_LOG='%s' ", shim_path(),
					 rows[i].mode, logvar);
			snprintf(cmd, sizeof cmd, "%s; exec %s'%s' exec %s",
				 setup, env, found_log(), redirect);
			cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
			cr_assert(!r.timed_out);
			status[shim] = r.status;
			out[shim] = strdup(r.out);
		}
		cr_expect_eq(status[1], status[0], "%s: status %d, without the "
			     "shim %d", rows[i].name, status[1], status[0]);
		cr_expect_str_eq(out[1], out[0], "%s", rows[i].name);
		free(out[0]);
		free(out[1]);
	}
}

/* found_log_tty HOW (fd 2 where a write would stop or hold the program,
 * which itself writes nothing there) without the shim, then with it
 * logging to stderr in audit and in enforce: the program ends the same. */
static void stderr_unlike_the_program_s_own(const char *how)
{
	static const char *const modes[] = { "audit", "enforce" };
	char fixture[PATH_MAX];   /* top()'s buffer is shim_path()'s too */
	snprintf(fixture, sizeof fixture, "%s", top("build/fixtures/found_log_tty"));
	char *argv[] = { fixture, (char *)how, (char *)path_in_dir("fifo"),
			 NULL };
	char *plain_env[] = { "NOLEAK_LOG=", NULL };
	cr_assert_eq(run(&r, argv, plain_env, 0, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "%s: status %d, stderr: %s", how,
		     r.status, r.err);
	char *plain = strdup(r.out);
	cr_assert(strstr(plain, "leaker=exited 0\n"), "%s: without the "
		  "shim: %s", how, plain);
	for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
		char mode[32];
		snprintf(mode, sizeof mode, "NOLEAK_MODE=%s", modes[m]);
		char *env[] = { mode, "NOLEAK_LOG=stderr", NULL };
		cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
		cr_assert(!r.timed_out, "%s %s", how, modes[m]);
		cr_expect_eq(exit_code(&r), 0, "%s %s: status %d, stderr: %s",
			     how, modes[m], r.status, r.err);
		/* The leaker's end (the first line; what the terminal got
		 * differs: the log). */
		cr_expect_eq(strncmp(r.out, plain, strcspn(plain, "\n") + 1), 0,
			     "%s %s: %s, without the shim: %s", how, modes[m],
			     r.out, plain);
		char *seen = strstr(r.out, "terminal_events=");
		if (!strcmp(how, "tostop"))
			cr_expect(seen && atoi(seen + 16) >= 1, "%s %s: no "
				  "line on the terminal: %s", how, modes[m],
				  r.out);
	}
	free(plain);
}

/* A background job on its terminal with TOSTOP, which it never writes to:
 * the shim's line is written as the kernel lets it be with SIGTTOU
 * blocked, and nobody in the job is stopped. */
Test(foundation_log_safety, a_stderr_line_never_stops_a_background_job)
{
	stderr_unlike_the_program_s_own("tostop");
}

/* fd 2 a full pipe or FIFO whose reader does not read, a terminal
 * stopped by XOFF, or a TCP socket whose peer does not read (poll() says
 * it is writable with room for half what is queued, less than a long
 * line: the write waited for the peer for good): the line is dropped, the
 * program does not wait. */
Test(foundation_log_safety, a_stderr_line_never_waits_for_a_stuck_reader)
{
	stderr_unlike_the_program_s_own("pipe");
	stderr_unlike_the_program_s_own("fifo");
	stderr_unlike_the_program_s_own("xoff");
	stderr_unlike_the_program_s_own("tcp");
}

Test(foundation_log_safety, dup2_over_the_log_fd_takes_the_number_over)
{
	const char *log = path_in_dir("events.log");
	const char *own = path_in_dir("own");
	char *argv[] = { (char *)found_log(), "dup2", (char *)log, (char *)own,
			 NULL };
	cr_assert_eq(run(&r, argv, event_env(log), 1, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out);
	cr_assert_eq(exit_code(&r), 0, "status %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(slurp(own), "own data\n",
			 "the program's file got shim output");
	/* After the dup2: one event in the fork child, one at the exec of
	 * the process itself; both in the log file. */
	const char *text = slurp(log);
	cr_expect_geq(lines_with_both(text, "\"fd_leak\"", by_found_log()), 2,
		      "log: %s", text);
}

/* A child sharing the program's memory (posix_spawn's, vfork's) whose
 * own fd under the log's number is another file writes its line through
 * an fd of its own: the output's fd stays the parent's.  When the child
 * made its fd the output's, the parent no longer knew its own, and opened
 * the log once more after each spawn. */
Test(foundation_log_safety, a_spawn_child_leaves_the_parent_s_log_fd)
{
	const char *log = path_in_dir("events.log");
	char *argv[] = { (char *)found_log(), "spawn", (char *)log, NULL };
	cr_assert_eq(run(&r, argv, event_env(log), 1, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out);
	cr_assert_eq(exit_code(&r), 0, "status %d, stderr: %s", r.status, r.err);
	cr_expect(strstr(r.out, "log_fds=1\n"), "%s", r.out);
	const char *text = slurp(log);
	cr_expect_eq(count_lines_with(text, "\"via\":\"posix_spawn\""), 3,
		     "the children's lines: %s", text);
}

/* log=stderr in a program started with fd 2 closed: the file it opens
 * next lands on 2, and is its own, not a standard error.  The lines of
 * its exec landed in that file. */
Test(foundation_log_safety, stderr_log_stays_off_a_file_opened_on_a_closed_fd_2)
{
	static const char *const modes[] = { "audit", "enforce" };
	const char *file = path_in_dir("data");
	for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
		char cmd[PATH_MAX * 3];
		snprintf(cmd, sizeof cmd, "exec env LD_PRELOAD='%s' NOLEAK_MODE=%s "
			 "NOLEAK_LOG=stderr '%s' on2 '%s' 2>&-", shim_path(),
			 modes[i], found_log(), file);
		cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
		cr_assert_eq(exit_code(&r), 0, "%s: status %d", modes[i], r.status);
		cr_expect_str_eq(slurp(file), "own data\n", "%s", modes[i]);
	}
}

/* The same in a child sharing the program's memory, whose fd 2 its spawn's
 * file actions (or the vfork child itself) closed and opened a file onto:
 * the child logged its exec's leak into that file. */
Test(foundation_log_safety, stderr_log_stays_off_a_child_s_file_on_fd_2)
{
	static const char *const modes[] = { "NOLEAK_MODE=audit", "NOLEAK_MODE=enforce" };
	const char *file = path_in_dir("data");
	for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
		unlink(file);
		char *argv[] = { (char *)found_log(), "child_on2", (char *)file, NULL };
		char *env[] = { (char *)modes[i], "NOLEAK_LOG=stderr", NULL };
		cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
		cr_assert_eq(exit_code(&r), 0, "%s: status %d", modes[i], r.status);
		cr_expect_str_eq(slurp(file), "", "%s", modes[i]);
	}
}

/* A fork child that got the pid of an earlier spawn child whose file
 * actions had changed fd 2 took that child's state for its own: its lines
 * went into the program's file on fd 2.  The pid is reused on purpose, in
 * a pid namespace of the test's own. */
Test(foundation_log_safety, stderr_log_stays_off_fd_2_in_a_child_with_a_reused_pid)
{
	const char *file = path_in_dir("data");
	char cmd[PATH_MAX * 3];
	snprintf(cmd, sizeof cmd, "exec unshare -pf --mount-proc env LD_PRELOAD='%s' "
		 "NOLEAK_MODE=enforce NOLEAK_LOG=stderr '%s' pidreuse '%s'",
		 shim_path(), found_log(), file);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	if (exit_code(&r) == 1 && strstr(r.err, "unshare"))
		cr_skip_test("no pid namespace here: %s", r.err);
	cr_assert_eq(exit_code(&r), 0, "status %d: %s", r.status, r.err);
	cr_expect_str_eq(slurp(file), "");
}

/* A vfork child writes its line through a slot its parent's thread lends
 * to one child at a time (that thread is stopped in vfork).  The first
 * child here dies in the middle of its line (SIGSYS: a seccomp filter of
 * its own kills it at its write): the slot was its to the end, and the
 * thread's later children lost every line. */
Test(foundation_log_safety, a_child_dying_in_the_middle_of_a_line_leaves_the_slot)
{
	const char *log = path_in_dir("events.log");
	char *argv[] = { (char *)found_log(), "vforkdies", (char *)log, NULL };
	cr_assert_eq(run(&r, argv, event_env(log), 1, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out);
	cr_assert_eq(exit_code(&r), 0, "status %d, stderr: %s", r.status, r.err);
	cr_expect(strstr(r.out, "first=31\n"), "the first child's end: %s", r.out);
	cr_expect(strstr(r.out, "log_fds=1\n"), "%s", r.out);
	const char *text = slurp(log);
	cr_expect_eq(count_lines_with(text, "\"event\":\"fd_leak\""), 2,
		     "the later children's lines: %s", text);
}

/* Another thread takes the log's number over (dup2, dup3, close or
 * close_range or closefrom and F_DUPFD) again and again while events are
 * written: found_log_race stops at the first log line in its own file.
 * "rounds" takes the number found over and puts the log file back; "spin"
 * takes over each fresh fd at once, at the moment the shim has placed it
 * and not yet published it (before the placing gate, log/output.h, a
 * close or dup2 that looked at the slots then made its real call after the
 * shim's last look at the number: the line went into the program's file).
 * A few seconds each; `make stress` runs them longer. */
#define RACE_SECONDS "4"

Test(foundation_log_safety, a_thread_taking_the_log_number_over_never_gets_a_line)
{
	static const char *const modes[] = { "rounds", "spin" };
	const char *log = path_in_dir("events.log");
	const char *own = path_in_dir("own");
	char env_log[PATH_MAX + 16];
	snprintf(env_log, sizeof env_log, "NOLEAK_LOG=%s", log);
	char *env[] = { "NOLEAK_MODE=audit", env_log, NULL };
	for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
		unlink(log);
		unlink(own);
		char *argv[] = { (char *)top("build/fixtures/found_log_race"),
				 RACE_SECONDS, (char *)log, (char *)own,
				 i ? (char *)modes[i] : NULL, NULL };
		cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
		cr_assert(!r.timed_out, "%s: no end: a close waits for ever?",
			  modes[i]);
		cr_expect_eq(exit_code(&r), 0,
			     "%s: the program's file got log lines: %s%s\n%s",
			     modes[i], r.out, r.err, slurp(own));
		cr_expect_gt(count_lines_with(slurp(log), "\"sock_policy\""), 1,
			     "%s: the log stopped: %s", modes[i], r.out);
	}
}

/* Calls the placing gate counts that never finish, or that a handler on
 * their own thread interrupts to log (found_log_gate): the log goes on.
 * Before, a close() left by siglongjmp() kept its thread from ever
 * placing the log's fd (no line at all), and a handler's first line
 * inside a close of its own thread was refused as an open failure, which
 * kept every thread from opening the log for a second. */
Test(foundation_log_safety, calls_left_or_interrupted_leave_the_log_working)
{
	static const struct {
		const char *mode;
		int lines;          /* sock_policy lines at least */
	} rows[] = { { "longjmp", 10 }, { "handler", 22 } };
	const char *log = path_in_dir("events.log");
	char env_log[PATH_MAX + 16];
	snprintf(env_log, sizeof env_log, "NOLEAK_LOG=%s", log);
	char *env[] = { "NOLEAK_MODE=audit", env_log,
			"NOLEAK_CONFIG=/nonexistent/noleak.conf", NULL };
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		unlink(log);
		char *argv[] = { (char *)top("build/fixtures/found_log_gate"),
				 (char *)rows[i].mode, NULL };
		cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
		cr_assert(!r.timed_out, "%s", rows[i].mode);
		cr_expect_eq(exit_code(&r), 0, "%s: status %d %s", rows[i].mode,
			     r.status, r.err);
		cr_expect_geq(count_lines_with(slurp(log), "\"sock_policy\""),
			      rows[i].lines, "%s: %s\n%s", rows[i].mode, r.out,
			      slurp(log));
	}
}

/* found_log exec, with the shim logging to `log`: what a program must see
 * is what it sees without the shim. */
static void expect_unaffected(const char *log)
{
	char *argv[] = { (char *)found_log(), "exec", NULL };
	struct run_result *bare = malloc(sizeof *bare);
	cr_assert_eq(run(bare, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(bare), 5);
	cr_assert_eq(run(&r, argv, event_env(log), 1, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out);
	cr_expect_eq(exit_code(&r), 5, "status %d", r.status);
	cr_expect_str_eq(r.out, bare->out);
	cr_expect_str_eq(r.err, "");
	free(bare);
}

Test(foundation_log_safety, log_path_that_is_a_directory)
{
	const char *sub = path_in_dir("logdir");
	cr_assert_eq(mkdir(sub, 0755), 0);
	expect_unaffected(sub);
	struct stat st;
	cr_assert_eq(stat(sub, &st), 0);
	cr_expect(S_ISDIR(st.st_mode), "the log directory was replaced");
}

Test(foundation_log_safety, log_path_in_a_missing_directory)
{
	const char *log = path_in_dir("missing/dir/events.log");
	expect_unaffected(log);
	cr_expect(!file_exists(path_in_dir("missing")));
}

/* A FIFO nobody reads: opening it to write would wait, writing would
 * block. */
Test(foundation_log_safety, log_path_that_is_a_fifo_without_reader)
{
	const char *fifo = path_in_dir("fifo");
	cr_assert_eq(mkfifo(fifo, 0644), 0);
	expect_unaffected(fifo);
	cr_expect_lt(r.seconds, 5.0, "the program waited for the FIFO");
}

Test(foundation_log_safety, log_path_in_proc)
{
	expect_unaffected("/proc/version");
}

/* The log fd is close-on-exec: a program's children never get it.  The
 * config error that opens the log at start-up is in a section for
 * found_leak only, so that the child, found_fdlist, has no log fd of its
 * own to list. */
Test(foundation_log_safety, log_fd_never_reaches_a_child)
{
	const char *log = path_in_dir("events.log");
	const char *conf = path_in_dir("noleak.conf");
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fputs("[program found_leak]\nkeep_fds = bogus\n", f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(conf, 0644), 0);
	char conf_env[PATH_MAX + 16];
	snprintf(conf_env, sizeof conf_env, "NOLEAK_CONFIG=%s", conf);
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log);
	char *env[] = { "NOLEAK_MODE=audit", conf_env, log_env, NULL };
	char *argv[] = { (char *)top("build/fixtures/found_leak"),
			 (char *)top("build/fixtures/found_fdlist"), NULL };
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "status %d, stderr: %s", r.status, r.err);
	/* Opened at start-up for the config error, in use at the exec. */
	const char *text = slurp(log);
	cr_assert_eq(count_lines_with(text, "\"config_error\""), 1, "%s", text);
	cr_assert_eq(count_lines_with(text, "\"fd_leak\""), 1, "%s", text);
	const char *line = strstr(r.out, "inherited:");
	cr_assert_not_null(line, "%s", r.out);
	for (const char *p = line + strlen("inherited:"); *p && *p != '\n';) {
		char *next;
		long fd = strtol(p, &next, 10);
		if (next == p)
			break;
		cr_expect_lt(fd, 100, "fd %ld reached the child: %s", fd, r.out);
		p = next;
	}
}

Test(foundation_log_safety, log_path_on_a_read_only_mount)
{
	if (geteuid() != 0)
		cr_skip_test("mounting a read-only directory needs root");
	const char *ro = path_in_dir("ro");
	const char *log = path_in_dir("ro/events.log");
	cr_assert_eq(mkdir(ro, 0777), 0);
	struct run_result *bare = malloc(sizeof *bare);
	char *argv[] = { (char *)found_log(), "exec", NULL };
	cr_assert_eq(run(bare, argv, NULL, 0, TIMEOUT, NULL), 0);
	/* The shim only for the program, once the mount is read-only; the
	 * probe proves it is (root writes anywhere else). */
	char cmd[PATH_MAX * 6];
	snprintf(cmd, sizeof cmd,
		 "mount --bind '%s' '%s' && mount -o remount,bind,ro '%s' || exit 98; "
		 "touch '%s/probe' 2>/dev/null && exit 99; "
		 "exec env LD_PRELOAD='%s' NOLEAK_MODE=audit NOLEAK_KEEP_FDS=bogus "
		 "NOLEAK_LOG='%s' '%s' exec",
		 ro, ro, ro, ro, shim_path(), log, found_log());
	char *unshare[] = { "unshare", "-m", "sh", "-c", cmd, NULL };
	cr_assert_eq(run(&r, unshare, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert_neq(exit_code(&r), 98, "cannot mount: %s", r.err);
	cr_assert_neq(exit_code(&r), 99, "the mount is not read-only");
	cr_expect_eq(exit_code(&r), 5, "status %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(r.out, bare->out);
	cr_expect_str_eq(r.err, "");
	cr_expect(!file_exists(log));
	free(bare);
}
