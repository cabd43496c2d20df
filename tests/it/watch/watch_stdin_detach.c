/* stdin=detach: a program whose stdin is a terminal that is not its own
 * (no controlling terminal, or a background process group) gets /dev/null
 * at start-up and reads end of file at once, instead of blocking (or being
 * stopped by SIGTTIN); a read from a terminal that hangs up returns end of
 * file instead of failing with EIO.  Both are logged as stdin_detached.
 * /dev/null is opened for reading and writing, as a terminal is, and a read
 * that returns end of file leaves errno as it was.  An EIO that is not a
 * hang-up (a background group that ignores SIGTTIN, an orphaned group, the
 * master side of a pseudo-terminal) and a terminal that is the program's
 * own are left alone: exactly as without the shim.  Without stdin=detach,
 * or in audit mode, nothing changes. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/watch_util.h"

static struct watch_run runs[4];
static struct watch_log logs[4];
static char line[4096];

/* Start `wd_pty how [delay]` as run i, with the shim when env != NULL. */
static void start(int i, const char *how, const char *delay,
		  const char *const env[])
{
	const char *argv[] = { top("build/fixtures/wd_pty"), how, delay, NULL };
	cr_assert_eq(access(argv[0], X_OK), 0, "%s missing", argv[0]);
	watch_start(&runs[i], argv, env, env != NULL, 10.0);
}

static const struct run_result *finish(int i)
{
	watch_join(&runs[i]);
	const struct run_result *r = &runs[i].r;
	cr_assert(!r->timed_out && exit_code(r) == 0, "wd_pty: %s%s", r->out, r->err);
	cr_assert(strstr(r->out, "reading pid="), "the reader did not start: %s%s",
		  r->out, r->err);
	return r;
}

static void detached_at_start(const char *how, const char *reason)
{
	watch_log_init(&logs[0]);
	const char *env[] = { "NOLEAK_STDIN=detach", logs[0].env, NULL };
	start(0, how, NULL, env);
	const struct run_result *r = finish(0);
	cr_expect(strstr(r->out, "read=0 errno=0 stdin=/dev/null\n"
				 "write=1 errno=0\n"),
		  "the reader should read end of file from /dev/null, and "
		  "write to it: %s", r->out);
	cr_expect_lt(r->seconds, 1.0, "took %.1f s", r->seconds);
	const char *text = slurp(logs[0].path);
	cr_assert(event_line(text, "stdin_detached", NULL, line, sizeof line),
		  "%s", text);
	cr_expect(strstr(line, "\"action\":\"detached\""), "%s", line);
	char want[128];
	snprintf(want, sizeof want, "\"reason\":\"%s\"", reason);
	cr_expect(strstr(line, want), "expected %s: %s", want, line);
	cr_expect(strstr(line, "\"exe\":\"") && strstr(line, "wd_pty\""), "%s", line);
}

Test(watch_stdin_detach, no_controlling_terminal_reads_eof_at_once)
{
	detached_at_start("setsid", "no controlling terminal");
}

Test(watch_stdin_detach, background_group_reads_eof_at_once)
{
	detached_at_start("background", "background process group");
}

/* stdin=keep (the default), with the shim and without: it still blocks. */
Test(watch_stdin_detach, without_detach_the_read_blocks)
{
	const char *hows[2] = { "setsid", "background" };
	for (int i = 0; i < 4; i++) {
		watch_log_init(&logs[i]);
		const char *env[] = { logs[i].env, NULL };
		start(i, hows[i % 2], NULL, i < 2 ? env : NULL);
	}
	for (int i = 0; i < 4; i++) {
		const struct run_result *r = finish(i);
		cr_expect(strstr(r->out, "reader=blocked\n") && !strstr(r->out, "read="),
			  "%s, shim=%d: %s", hows[i % 2], i < 2, r->out);
		cr_expect(!strstr(slurp(logs[i].path), "stdin_detached"), "%s",
			  slurp(logs[i].path));
	}
}

Test(watch_stdin_detach, audit_only_logs_would_detach)
{
	watch_log_init(&logs[0]);
	const char *env[] = { "NOLEAK_MODE=audit", "NOLEAK_STDIN=detach",
			      logs[0].env, NULL };
	start(0, "setsid", NULL, env);
	const struct run_result *r = finish(0);
	cr_expect(strstr(r->out, "reader=blocked\n"), "%s", r->out);
	const char *text = slurp(logs[0].path);
	cr_assert(event_line(text, "stdin_detached", NULL, line, sizeof line),
		  "%s", text);
	cr_expect(strstr(line, "\"action\":\"would_detach\""), "%s", line);
	cr_expect(strstr(line, "\"reason\":\"no controlling terminal\""), "%s", line);
}

/* The terminal hangs up while the read waits: EIO without the shim (and
 * with stdin=keep), end of file and /dev/null with stdin=detach. */
Test(watch_stdin_detach, hung_up_terminal_reads_eof)
{
	watch_log_init(&logs[0]);
	watch_log_init(&logs[1]);
	const char *detach[] = { "NOLEAK_STDIN=detach", logs[0].env, NULL };
	const char *keep[] = { logs[1].env, NULL };
	start(0, "hangup", NULL, detach);
	start(1, "hangup", NULL, keep);
	start(2, "hangup", NULL, NULL);
	const struct run_result *r = finish(1);
	cr_expect(strstr(r->out, "read=-1 errno=EIO "), "stdin=keep: %s", r->out);
	r = finish(2);
	cr_expect(strstr(r->out, "read=-1 errno=EIO "), "without the shim: %s", r->out);

	r = finish(0);
	cr_expect(strstr(r->out, "read=0 errno=0 stdin=/dev/null\n"
				 "write=1 errno=0\n"),
		  "stdin=detach: end of file, errno kept, fd 0 on /dev/null "
		  "for reading and writing: %s", r->out);
	const char *text = slurp(logs[0].path);
	cr_assert(event_line(text, "stdin_detached", NULL, line, sizeof line),
		  "no stdin_detached: %s", text);
	cr_expect(strstr(line, "\"action\":\"detached\""), "%s", line);
	cr_expect(strstr(line, "\"reason\":\"terminal hung up\""), "%s", line);
}

Test(watch_stdin_detach, audit_hung_up_terminal_only_logged)
{
	watch_log_init(&logs[0]);
	/* read_warn off: this is about stdin, not the watchdog's wait. */
	const char *env[] = { "NOLEAK_MODE=audit", "NOLEAK_STDIN=detach",
			      "NOLEAK_READ_WARN=0", logs[0].env, NULL };
	start(0, "hangup", NULL, env);
	const struct run_result *r = finish(0);
	cr_expect(strstr(r->out, "read=-1 errno=EIO "), "%s", r->out);
	const char *text = slurp(logs[0].path);
	cr_assert(event_line(text, "stdin_detached", NULL, line, sizeof line),
		  "no stdin_detached: %s", text);
	cr_expect(strstr(line, "\"action\":\"would_detach\""), "%s", line);
	cr_expect(strstr(line, "\"reason\":\"terminal hung up\""), "%s", line);
}

/* The reader's results from "read=" on, digits dropped (pids, pts numbers
 * differ between runs). */
static void results(const char *out, char *dst, size_t cap)
{
	const char *p = strstr(out, "read=");
	size_t n = 0;
	for (; p && *p && n + 1 < cap; p++)
		if (*p < '0' || *p > '9')
			dst[n++] = *p;
	dst[n] = '\0';
}

/* Not a hang-up, or not a terminal that is not ours: stdin=detach leaves
 * fd 0 alone, and every read, write and errno is what it is without the
 * shim.  `want` is part of what the program sees without the shim. */
static const struct {
	const char *how;
	const char *want;
} alone[] = {
	/* EIO in a background group that ignores SIGTTIN; in the
	 * foreground again, the line typed earlier is read. */
	{ "bgio", "read=-1 errno=EIO stdin=/dev/pts/" },
	/* EIO in an orphaned background group. */
	{ "orphan", "read=-1 errno=EIO stdin=/dev/pts/" },
	/* EIO from a pseudo-terminal master whose other side closed. */
	{ "master", "read=-1 errno=EIO stdin=/dev/ptmx\n" },
	/* The foreground of its own terminal, with no /dev/tty to open. */
	{ "nodev", "read=6 errno=0 stdin=/dev/pts/" },
};

Test(watch_stdin_detach, no_hang_up_and_own_terminal_left_alone)
{
	static char with[4096], without[4096];
	for (size_t i = 0; i < sizeof alone / sizeof alone[0]; i++) {
		watch_log_init(&logs[0]);
		const char *env[] = { "NOLEAK_STDIN=detach", logs[0].env, NULL };
		start(0, alone[i].how, NULL, env);
		start(1, alone[i].how, NULL, NULL);
		results(finish(0)->out, with, sizeof with);
		const struct run_result *r = finish(1);
		cr_assert(strstr(r->out, alone[i].want), "%s without the shim: %s",
			  alone[i].how, r->out);
		if (!strcmp(alone[i].how, "bgio") || !strcmp(alone[i].how, "orphan"))
			cr_assert(strstr(r->out, "tcsetpgrp=0 read2=6 errno=0\n"),
				  "%s without the shim: %s", alone[i].how, r->out);
		results(r->out, without, sizeof without);
		cr_expect_str_eq(with, without, "%s: with stdin=detach\n%s\nwithout "
				 "the shim\n%s", alone[i].how, with, without);
		const char *text = slurp(logs[0].path);
		cr_expect(!strstr(text, "stdin_detached"), "%s: %s", alone[i].how,
			  text);
	}
}

/* No /dev/null to detach to (a mount namespace whose /dev is empty): fd 0
 * stays, the read blocks as without the shim, and the event says the
 * detach failed, and why (it said "would_detach", audit's word). */
Test(watch_stdin_detach, a_failed_detach_says_so)
{
	watch_log_init(&logs[0]);
	const char *env[] = { "NOLEAK_STDIN=detach", logs[0].env, NULL };
	start(0, "nonull", NULL, env);
	start(1, "nonull", NULL, NULL);
	const struct run_result *r = finish(1);
	cr_assert(strstr(r->out, "reader=blocked\n"), "without the shim: %s",
		  r->out);
	r = finish(0);
	cr_expect(strstr(r->out, "reader=blocked\n"), "%s", r->out);
	const char *text = slurp(logs[0].path);
	cr_assert(event_line(text, "stdin_detached", NULL, line, sizeof line),
		  "%s", text);
	cr_expect(strstr(line, "\"action\":\"detach_failed\"") &&
		  strstr(line, "\"errno\":2"), "%s", line);
	cr_expect(strstr(line, "\"reason\":\"no controlling terminal\""),
		  "%s", line);
}

/* A watched read (read_warn 1 s) on a terminal that hangs up 1.5 s in:
 * stdin=detach gives the program end of file, and read_unblocked says so
 * (it logged the EIO the program never saw). */
Test(watch_stdin_detach, read_unblocked_logs_what_the_program_got)
{
	watch_log_init(&logs[0]);
	const char *env[] = { "NOLEAK_STDIN=detach", "NOLEAK_READ_WARN=1",
			      logs[0].env, NULL };
	start(0, "hangup", "1.5", env);
	const struct run_result *r = finish(0);
	cr_expect(strstr(r->out, "read=0 errno=0 stdin=/dev/null\n"), "%s",
		  r->out);
	const char *text = slurp(logs[0].path);
	cr_assert(event_line(text, "read_unblocked", NULL, line, sizeof line),
		  "no read_unblocked: %s", text);
	cr_expect(strstr(line, "\"result\":0") && !strstr(line, "\"errno\""),
		  "%s", line);
}
