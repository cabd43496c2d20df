/* A watched read on its controlling terminal ends as it would without the
 * shim when job control or a hang-up reaches it during the wait: ^Z and bg
 * stop the job with SIGTTIN (the kernel begins the read again in the
 * background); ^Z and fg leave it waiting; vhangup(2) makes it return 0;
 * the master side closing makes it fail with EIO.  Each row runs
 * wd_tty_job without the shim, under audit (read_warn on by default) and
 * under enforce with read_warn=5, and compares what the reader and its
 * shell saw.  The terminal wait wakes every 250 ms to see whether its
 * group is still in the foreground; read_warn and read_timeout still
 * fall at their moments. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/watch_util.h"

struct row {
	const char *how;
	const char *want;   /* without the shim */
};

static const struct row rows[] = {
	{ "bg", "job: stopped by TTIN\ndone\n" },
	{ "fg", "job: waiting\ndone\n" },
	{ "vhangup", "read=0 errno=0\njob: exited\ndone\n" },
	{ "master", "read=-1 errno=EIO\njob: exited\ndone\n" },
};

static struct watch_run runs[3];
static struct watch_log logs[3];

static void check(const char *how)
{
	const struct row *row = NULL;
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
		if (!strcmp(rows[i].how, how))
			row = &rows[i];
	cr_assert(row, "no row %s", how);
	const char *argv[] = { top("build/fixtures/wd_tty_job"), how, NULL };
	cr_assert_eq(access(argv[0], X_OK), 0, "%s missing", argv[0]);
	const char *name[3] = { "without the shim", "audit", "enforce, read_warn=5" };
	for (int i = 1; i < 3; i++)
		watch_log_init(&logs[i]);
	/* audit: read_warn is on by default (30 s) */
	const char *audit[] = { "NOLEAK_MODE=audit", logs[1].env, NULL };
	const char *enforce[] = { "NOLEAK_MODE=enforce", "NOLEAK_READ_WARN=5",
				  logs[2].env, NULL };
	watch_start(&runs[0], argv, NULL, 0, 15.0);
	watch_start(&runs[1], argv, audit, 1, 15.0);
	watch_start(&runs[2], argv, enforce, 1, 15.0);
	for (int i = 0; i < 3; i++) {
		watch_join(&runs[i]);
		const struct run_result *r = &runs[i].r;
		cr_assert(!r->timed_out && exit_code(r) == 0, "%s: %s%s", name[i],
			  r->out, r->err);
	}
	const char *base = runs[0].r.out;
	if (strstr(base, "vhangup="))
		cr_skip_test("vhangup(2) needs CAP_SYS_TTY_CONFIG (run as root): %s",
			     base);
	cr_assert_str_eq(base, row->want, "%s without the shim", how);
	for (int i = 1; i < 3; i++)
		cr_expect_str_eq(runs[i].r.out, base,
				 "%s, %s: the shim changed what the job saw "
				 "(without the shim: %s)", how, name[i], base);
}

Test(watch_tty_job, bg_after_stop_is_stopped_by_sigttin) { check("bg"); }
Test(watch_tty_job, fg_after_stop_waits_on) { check("fg"); }
Test(watch_tty_job, vhangup_reads_end_of_file) { check("vhangup"); }
Test(watch_tty_job, master_closed_fails_with_eio) { check("master"); }

/* Waited in slices, the deadlines are kept: read_blocked at 1 s, EAGAIN at
 * 2 s (read_unblocked gives the wait to the millisecond). */
Test(watch_tty_job, deadlines_fall_at_their_moments)
{
	static char line[4096];
	watch_log_init(&logs[0]);
	const char *argv[] = { top("build/fixtures/wd_tty_job"), "wait", NULL };
	const char *env[] = { "NOLEAK_READ_WARN=1", "NOLEAK_READ_TIMEOUT=2",
			      logs[0].env, NULL };
	watch_start(&runs[0], argv, env, 1, 15.0);
	watch_join(&runs[0]);
	const struct run_result *r = &runs[0].r;
	cr_assert(!r->timed_out && exit_code(r) == 0, "%s%s", r->out, r->err);
	cr_expect_str_eq(r->out, "read=-1 errno=EAGAIN\njob: exited\ndone\n");
	const char *text = slurp(logs[0].path);
	cr_assert(event_line(text, "read_blocked", NULL, line, sizeof line), "%s", text);
	cr_expect(strstr(line, "\"waited\":1,") && strstr(line, "\"kind\":\"tty\""),
		  "%s", line);
	cr_assert(event_line(text, "read_unblocked", NULL, line, sizeof line), "%s", text);
	const char *w = strstr(line, "\"waited\":");
	cr_assert(w, "%s", line);
	double waited = strtod(w + 9, NULL);
	cr_expect(waited >= 2.0 && waited < 2.1, "waited %.3f s: %s", waited, line);
}
