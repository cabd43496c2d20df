/* The log on a full filesystem: every event is dropped, and the program
 * runs exactly as it would without a log, its own files intact.
 *
 * The log lives on a 16 KiB tmpfs mounted in a private mount namespace
 * (unshare -m, propagation private: nothing leaks to the host) and filled
 * up before the program starts; flt_logloss then produces events in
 * itself (sock_policy, audit) and in its exec'd children (fd_leak). */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../../lib/run.h"

#define TIMEOUT 30.0

TestSuite(fault_log_full, .timeout = 60);

static struct run_result r;

static void run_on_full_fs(const char *mode)
{
	char dir[256], cmd[PATH_MAX * 4], own[PATH_MAX + 8];
	snprintf(dir, sizeof dir, "%s", tmpdir());
	snprintf(cmd, sizeof cmd,
		 "mkdir '%s/fs' && unshare -m --propagation private sh -c '"
		 "mount -t tmpfs -o size=16k none %s/fs || exit 98; "
		 ": > %s/fs/events.log; cat /dev/zero > %s/fs/fill 2>/dev/null; "
		 "test \"$(stat -f -c %%a %s/fs)\" = 0 || exit 99; "
		 "exec env LD_PRELOAD=%s NOLEAK_MODE=%s NOLEAK_LOG=%s/fs/events.log "
		 "%s full %s %s/fs/events.log'",
		 dir, dir, dir, dir, dir, shim_path(), mode, dir,
		 top("build/fixtures/flt_logloss"), dir, dir);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert(!r.timed_out, "hung with the log on a full filesystem");
	cr_assert_neq(exit_code(&r), 98, "cannot mount a tmpfs: %s", r.err);
	cr_assert_neq(exit_code(&r), 99, "the tmpfs is not full");
	cr_assert_eq(exit_code(&r), 0, "mode %s: status %d\n%s%s", mode,
		     r.status, r.out, r.err);
	cr_expect(!strncmp(r.out, "rounds=9\n", 9) &&
		  strstr(r.out, "\nlog_size=0\n"), "mode %s: %s", mode, r.out);
	cr_expect_eq(r.err[0], 0, "stderr: %s", r.err);
	snprintf(own, sizeof own, "%s/own", dir);
	cr_expect_str_eq(slurp(own), "round 1\nround 2\nround 3\nround 4\n"
			 "round 5\nround 6\nround 7\nround 8\nround 9\n",
			 "mode %s: the program's own file", mode);
}

Test(fault_log_full, audit_events_dropped_program_unaffected)
{
	run_on_full_fs("audit");
}

Test(fault_log_full, enforce_events_dropped_program_unaffected)
{
	run_on_full_fs("enforce");
}

/* The log on a nearly full filesystem: a line that only partly fits is
 * cut, and the next line written once there is room again starts on a
 * line of its own (it was glued onto the cut one: one line, two events,
 * no valid JSON).  Three programs log on the full filesystem (the first
 * cuts its line, the others find no room), two more once space is freed;
 * the log holds the 3,992 byte line it started with, the cut line, and
 * the two later lines whole. */
Test(fault_log_full, a_cut_line_stands_alone)
{
	char dir[256], cmd[PATH_MAX * 6], log[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", tmpdir());
	snprintf(log, sizeof log, "%s/fs/events.log", dir);
	snprintf(cmd, sizeof cmd,
		 "mkdir '%s/fs' && unshare -m --propagation private sh -c '"
		 "mount -t tmpfs -o size=64k,mode=700 none %s/fs || exit 98; "
		 "printf \"{\\\"ts\\\":\\\"%%03981d\\\"}\\n\" 0 > %s; "
		 "cat /dev/zero > %s/fs/fill 2>/dev/null; "
		 "test \"$(stat -f -c %%a %s/fs)\" = 0 || exit 99; "
		 "for i in 1 2 3; do env LD_PRELOAD=%s NOLEAK_MODE=audit "
		 "NOLEAK_LOG=%s NOLEAK_KEEP_FDS=bogus /bin/true || exit 97; done; "
		 "rm %s/fs/fill; "
		 "for i in 4 5; do env LD_PRELOAD=%s NOLEAK_MODE=audit "
		 "NOLEAK_LOG=%s NOLEAK_KEEP_FDS=bogus /bin/true || exit 97; done; "
		 "cat %s'",
		 dir, dir, log, dir, dir, shim_path(), log, dir, shim_path(), log,
		 log);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_neq(exit_code(&r), 98, "cannot mount a tmpfs: %s", r.err);
	cr_assert_neq(exit_code(&r), 99, "the tmpfs is not full");
	cr_assert_eq(exit_code(&r), 0, "status %d: %s", r.status, r.err);
	int lines = 0, whole = 0, cut = 0;
	for (char *line = r.out, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		cr_assert_not_null(nl, "the log does not end in a newline: %s", line);
		*nl = '\0';
		size_t len = strlen(line);
		lines++;
		int events = 0;
		for (const char *p = line; (p = strstr(p, "{\"")); p++)
			events++;
		cr_expect_leq(events, 1, "line %d holds %d events: %s", lines,
			      events, line);
		if (len && line[len - 1] == '}' && line[0] == '{')
			whole++;
		else
			cut++;
	}
	cr_expect(lines == 4 && whole == 3 && cut == 1,
		  "%d lines, %d whole, %d cut", lines, whole, cut);
}
