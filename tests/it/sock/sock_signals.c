/* Signal semantics stay as without the shim.  The kernel never restarts a
 * read on a socket that has a timeout after a signal handler, even one with
 * SA_RESTART; on sockets whose timeout the shim set, the shim restarts it
 * itself when the handler had SA_RESTART, within the time that remains. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/run.h"

static struct run_result r;

static void alarm_read(const char *mode, const char *timeout, int shim)
{
	int alarms = strcmp(mode, "stopcont") != 0;
	char *argv[] = { (char *)top("build/fixtures/sock_alarm"), (char *)mode,
			 NULL };
	char *env[] = { (char *)timeout, NULL };
	cr_assert_eq(run(&r, argv, env, shim, 10.0, NULL), 0);
	cr_assert(!r.timed_out, "sock_alarm %s timed out", mode);
	cr_assert(strstr(r.out, alarms ? "alarms=1\n" : "alarms=0\n"),
		  "alarms: %s%s", r.out, r.err);
}

#define HAS(text) cr_expect(strstr(r.out, text), "expected \"%s\" in: %s%s", \
			    text, r.out, r.err)

Test(sock_signals, sa_restart_read_restarts)
{
	alarm_read("restart", "NOLEAK_SOCK_TIMEOUT=5", 1);
	HAS("rcvtimeo=5\n");   /* the shim's timeout is on the socket */
	HAS("read=6 data=hello\n");
	alarm_read("restart", "NOLEAK_SOCK_TIMEOUT=5", 0);
	HAS("rcvtimeo=0\n");
	HAS("read=6 data=hello\n");
}

Test(sock_signals, signal_installs_a_restarting_handler)
{
	alarm_read("signal", "NOLEAK_SOCK_TIMEOUT=5", 1);
	HAS("rcvtimeo=5\n");
	HAS("query handler=mine restart=1 siginfo=0\n");
	HAS("read=6 data=hello\n");
}

Test(sock_signals, siginterrupt_makes_it_interrupting)
{
	alarm_read("siginterrupt", "NOLEAK_SOCK_TIMEOUT=5", 1);
	HAS("query handler=mine restart=0 siginfo=0\n");
	HAS("read=-1 errno=EINTR after=0.5\n");
	alarm_read("siginterrupt", "NOLEAK_SOCK_TIMEOUT=5", 0);
	HAS("read=-1 errno=EINTR after=0.5\n");
}

Test(sock_signals, handler_without_sa_restart_gets_eintr)
{
	alarm_read("norestart", "NOLEAK_SOCK_TIMEOUT=5", 1);
	HAS("rcvtimeo=5\n");
	HAS("read=-1 errno=EINTR after=0.5\n");
	alarm_read("norestart", "NOLEAK_SOCK_TIMEOUT=5", 0);
	HAS("read=-1 errno=EINTR after=0.5\n");
}

/* The restarted read waits only what remains: the total is the timeout. */
Test(sock_signals, restart_keeps_the_total_wait)
{
	alarm_read("nodata", "NOLEAK_SOCK_TIMEOUT=2", 1);
	const char *l = strstr(r.out, "read=-1 errno=EAGAIN after=");
	cr_assert_not_null(l, "%s", r.out);
	double after = atof(l + strlen("read=-1 errno=EAGAIN after="));
	cr_expect(after >= 1.9 && after < 2.4, "waited %.1f s", after);
}

/* A timeout the program set itself keeps the kernel's semantics. */
Test(sock_signals, program_timeout_not_restarted)
{
	alarm_read("own", "NOLEAK_SOCK_TIMEOUT=2", 1);
	HAS("rcvtimeo=5\n");
	HAS("read=-1 errno=EINTR after=0.5\n");
}

/* sigaction() reports the program's handler and flags, not the shim's. */
Test(sock_signals, sigaction_reports_the_programs_handler)
{
	alarm_read("restart", "NOLEAK_SOCK_TIMEOUT=5", 1);
	HAS("query handler=mine restart=1 siginfo=0\n");
	alarm_read("norestart", "NOLEAK_SOCK_TIMEOUT=5", 1);
	HAS("query handler=mine restart=0 siginfo=0\n");
}

/* A stop and SIGCONT interrupt a read on a socket with a timeout although
 * no handler runs: the read goes on as without the shim, whatever other
 * handlers without SA_RESTART the program has (CPython's SIGINT one). */
Test(sock_signals, stop_and_continue_restart_whatever_other_handlers)
{
	alarm_read("stopcont", "NOLEAK_SOCK_TIMEOUT=5", 1);
	HAS("rcvtimeo=5\n");
	HAS("read=6 data=hello\n");
	alarm_read("stopcont", "NOLEAK_SOCK_TIMEOUT=5", 0);
	HAS("read=6 data=hello\n");
}

/* signal(), sysv_signal(), bsd_signal(), sigset(), siginterrupt() and
 * sigaction() return and report what glibc's do: the same program prints
 * the same lines with the shim (enforce and audit) and without it. */
Test(sock_signals, signal_family_answers_as_glibc)
{
	char *argv[] = { (char *)top("build/fixtures/sig_glibc"), NULL };
	static struct run_result plain;
	cr_assert_eq(run(&plain, argv, NULL, 0, 10.0, NULL), 0);
	cr_assert_eq(exit_code(&plain), 0, "%s", plain.err);
	const char *modes[] = { "NOLEAK_MODE=enforce", "NOLEAK_MODE=audit" };
	for (int i = 0; i < 2; i++) {
		char *env[] = { (char *)modes[i], NULL };
		cr_assert_eq(run(&r, argv, env, 1, 10.0, NULL), 0);
		cr_expect_eq(exit_code(&r), 0, "%s", r.err);
		cr_expect_str_eq(r.out, plain.out, "%s:\n%s\nwithout the shim:\n%s",
				 modes[i], r.out, plain.out);
	}
}

/* A handler learnt past sigaction() (glibc's __sigaction, a raw
 * rt_sigaction, which answer with the shim's trampoline when they are not
 * interposed) and given back to sigaction(): the handler it was learnt
 * for runs, also after others were installed in between, and a handler
 * calling the one it learnt calls that one (the trampoline called itself
 * until the stack ran out: SIGSEGV, in audit too). */
Test(sock_signals, handler_given_back_runs_as_without_the_shim)
{
	const char *forms[] = { NULL, "raw" };
	for (int f = 0; f < 2; f++) {
		char *argv[] = { (char *)top("build/fixtures/sig_giveback"),
				 (char *)forms[f], NULL };
		static struct run_result plain;
		cr_assert_eq(run(&plain, argv, NULL, 0, 10.0, NULL), 0);
		cr_assert_eq(exit_code(&plain), 0, "%s", plain.err);
		cr_assert(strstr(plain.out, "done\n"), "%s", plain.out);
		const char *modes[] = { "NOLEAK_MODE=enforce",
					"NOLEAK_MODE=audit" };
		for (int i = 0; i < 2; i++) {
			char *env[] = { (char *)modes[i], NULL };
			cr_assert_eq(run(&r, argv, env, 1, 10.0, NULL), 0);
			cr_expect_eq(exit_code(&r), 0, "%s %s: %s", modes[i],
				     forms[f] ? forms[f] : "", r.err);
			cr_expect_str_eq(r.out, plain.out,
					 "%s %s:\n%s\nwithout the shim:\n%s",
					 modes[i], forms[f] ? forms[f] : "",
					 r.out, plain.out);
		}
	}
}
