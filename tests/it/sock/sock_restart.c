/* The restart rule answers as the kernel does for a socket without a
 * timeout, in the harder cases: several handlers in one interruption, a
 * handler that changes the socket (its own timeout, O_NONBLOCK), a stop
 * longer than the timeout, a handler that leaves by siglongjmp.  Each row
 * runs the same fixture without the shim, under enforce (a 2 s timeout)
 * and under audit (the read watchdog), and compares the results, the
 * errno and the time each call took (within 0.2 s). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/run.h"

struct row {
	const char *name;
	const char *kind;      /* "tcp" or "pipe" */
};

/* "read=N errno=E" and the seconds after "after=", of the last line. */
static void parse(const char *out, char *call, size_t n, double *after)
{
	const char *l = out, *nl;
	while ((nl = strchr(l, '\n')) && nl[1])
		l = nl + 1;
	const char *a = strstr(l, " after=");
	cr_assert_not_null(a, "no result line in: %s", out);
	snprintf(call, n, "%.*s", (int)(a - l), l);
	*after = atof(a + 7);
}

static void differential(const struct row *w)
{
	static struct run_result plain, r;
	char *argv[] = { (char *)top("build/fixtures/sock_restart"),
			 (char *)w->name, (char *)w->kind, NULL };
	cr_assert_eq(run(&plain, argv, NULL, 0, 15.0, NULL), 0);
	char want[128], got[128];
	double want_t, got_t;
	parse(plain.out, want, sizeof want, &want_t);
	/* Audit's watchdog runs only with a log to write to. */
	static char log[700];
	snprintf(log, sizeof log, "NOLEAK_LOG=%s/audit.log", tmpdir());
	const char *modes[][3] = {
		{ "NOLEAK_MODE=enforce", "NOLEAK_SOCK_TIMEOUT=2", NULL },
		{ "NOLEAK_MODE=audit", log, NULL },
	};
	for (int m = 0; m < 2; m++) {
		cr_assert_eq(run(&r, argv, (char **)modes[m], 1, 15.0, NULL), 0);
		cr_expect(!r.timed_out, "%s %s %s: hung", w->name, w->kind,
			  modes[m][0]);
		if (!strstr(r.out, "after=")) {
			cr_expect_fail("%s %s %s: no result (%s%s); without the "
				       "shim: %s", w->name, w->kind, modes[m][0],
				       r.out, r.err, plain.out);
			continue;
		}
		parse(r.out, got, sizeof got, &got_t);
		cr_expect_str_eq(got, want, "%s %s %s: %s after %.2f s; without "
				 "the shim: %s after %.2f s", w->name, w->kind,
				 modes[m][0], got, got_t, want, want_t);
		cr_expect(got_t > want_t - 0.2 && got_t < want_t + 0.2,
			  "%s %s %s: %s after %.2f s; without the shim after "
			  "%.2f s", w->name, w->kind, modes[m][0], got, got_t,
			  want_t);
	}
}

#define ROW(id, kind)                                                        \
	Test(sock_restart, id##_##kind, .timeout = 60)                      \
	{                                                                    \
		const struct row w = { #id, #kind };                         \
		differential(&w);                                            \
	}

/* A handler without SA_RESTART that runs inside an SA_RESTART one. */
ROW(nested, tcp)
ROW(nested, pipe)
/* Two signals delivered together: the one delivered first runs last. */
ROW(pair, tcp)
ROW(pair, pipe)
/* The program's timeout, set by another thread during a restarted read,
 * stays (no hang at the next read). */
ROW(clobber, tcp)
/* The handler gives the socket the program's own timeout. */
ROW(htimeo, tcp)
/* The timeout saved (the shim's, as getsockopt shows it), a shorter one
 * for a probe, the saved one given back: the socket is the shim's again. */
ROW(restore, tcp)
/* The same under a filter that kills getsockopt, installed after the
 * save: the shim looks at the value the program passes, and asks the
 * socket nothing. */
ROW(frestore, tcp)
/* The shim's value (2 s) set by the program, twice: its own timeout,
 * EINTR as the kernel gives it. */
ROW(twice, tcp)
/* The handler makes the fd non-blocking. */
ROW(hnonblock, tcp)
ROW(hnonblock, pipe)
/* Stopped longer than the timeout: what is there is read or written. */
ROW(stopdata, tcp)
ROW(stopwrite, tcp)
/* errno after a call the kernel restarted: as the handler left it (or
 * set it), or as it was before the call (a stop and SIGCONT), not EINTR. */
ROW(errno, tcp)
ROW(herrno, tcp)
ROW(stoperrno, tcp)
ROW(stopwerrno, tcp)
/* A handler that siglongjmps out of a restarted read. */
ROW(longjmp, tcp)
/* Under a seccomp filter that refuses what the restart rule could call
 * besides the read (killing, or with ENOSYS): the read restarts. */
ROW(fkill, tcp)
ROW(ferrno, tcp)
/* A write waiting for room, restarted after an SA_RESTART handler, then
 * interrupted by a handler without: the room there was at the restart is
 * written, and the call returns that count (not EINTR). */
ROW(wseq, write)
ROW(wseq, send)
ROW(wseq, sendmsg)

/* The socket read through another fd or process than the one the shim
 * timed it in: a dup, dup2, F_DUPFD; a helper it was sent to with
 * SCM_RIGHTS.  And one whose number a vfork child reused for a socket of
 * its own. */
ROW(dup, tcp)
ROW(dup2, tcp)
ROW(dupfd, tcp)
ROW(scm, tcp)
ROW(scmrestore, tcp)
ROW(vfork, tcp)

/* The shim's timeout (1 s) fires under a seccomp filter that kills for
 * getsockopt and fcntl: the read ends with the kernel's EAGAIN, and the
 * shim looks at nothing (it asked the socket's timeout with getsockopt,
 * which killed the process).  Without the shim, the signal at 1.5 s ends
 * the read with EINTR. */
Test(sock_restart, timeout_under_a_filter, .timeout = 60)
{
	static struct run_result r;
	char *argv[] = { (char *)top("build/fixtures/sock_restart"),
			 "ftimeout", "tcp", NULL };
	char *env[] = { "NOLEAK_MODE=enforce", "NOLEAK_SOCK_TIMEOUT=1", NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, 15.0, NULL), 0);
	cr_assert(strstr(r.out, "read=-1 errno=EINTR after=1.5"),
		  "without the shim: %s%s", r.out, r.err);
	cr_assert_eq(run(&r, argv, env, 1, 15.0, NULL), 0);
	cr_expect(strstr(r.out, "read=-1 errno=EAGAIN after=1.0") ||
		  strstr(r.out, "read=-1 errno=EAGAIN after=1.1"),
		  "status %d: %s%s", r.status, r.out, r.err);
}

/* sock_timeout may be 10 years; poll() takes an int of milliseconds (24.8
 * days).  The rest of the wait after an SA_RESTART handler is asked of
 * libc's poll() for at most INT_MAX ms at a time (sock_poll_spy.so, after
 * the shim, prints what it is asked and ends the process), never a
 * wrapped count (about 1827387000 ms, 21 days, for 10 years less 0.25 s). */
Test(sock_restart, a_wait_longer_than_poll_takes, .timeout = 60)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd,
		 "LD_PRELOAD='%s %s' NOLEAK_MODE=enforce "
		 "NOLEAK_SOCK_TIMEOUT=315360000 exec %s dup tcp",
		 shim_path(), top("build/fixtures/sock_poll_spy.so"),
		 top("build/fixtures/sock_restart"));
	static struct run_result r;
	run_sh(&r, cmd, NULL, 0, 30);
	cr_assert_eq(r.status, 0, "sock_restart: %s%s", r.out, r.err);
	cr_expect_str_eq(r.out, "poll ms=2147483647\n", "%s", r.err);
}

/* A handler that leaves connect() with siglongjmp() while the shim sets
 * the socket's options (an alarm as a connect timeout): the options it
 * set are recorded first, so the restart rule still holds on that socket
 * (fixture sock_connect_longjmp: an SA_RESTART handler interrupting a
 * recv() on such sockets got EINTR on about half of them). */
Test(sock_restart, a_connect_left_by_longjmp_keeps_the_restart_rule,
     .timeout = 120)
{
	static struct run_result r;
	char *argv[] = { (char *)top("build/fixtures/sock_connect_longjmp"),
			 "20", NULL };
	char *env[] = { "NOLEAK_MODE=enforce", "NOLEAK_LOG=none",
			"NOLEAK_SOCK_TIMEOUT=300", NULL };
	cr_assert_eq(run(&r, argv, env, 1, 100.0, NULL), 0);
	cr_assert(!r.timed_out, "hung: %s", r.out);
	int jumped = -1, tested = -1, eintr = -1;
	cr_assert_eq(sscanf(r.out, "connected_after_jump=%d tested=%d eintr=%d",
			    &jumped, &tested, &eintr), 3, "%s%s", r.out, r.err);
	cr_expect_gt(tested, 0, "no socket left connected with the shim's "
		     "timeout to test: %s", r.out);
	cr_expect_eq(eintr, 0, "EINTR where the kernel restarts: %s", r.out);
}
