/* The poll family's split waits (read_warn) at the edges of their
 * arguments, against the same calls without the shim.  A select() set is
 * the kernel's to read only as far as nfds needs (whole longs): the shim
 * copied 128 bytes of each set in and out around the first part, which
 * faulted on a set sized for nfds before an inaccessible page, and put
 * back a neighbour word another thread had set meanwhile.  A signal mask
 * the kernel cannot read is EFAULT; the shim read it itself and faulted.
 * So is a set the kernel cannot read: the shim copied the sets before the
 * kernel had looked at them, and the program died of SIGSEGV.  A signal
 * pending at a ppoll, pselect or epoll_pwait whose mask lets it through
 * leaves the ready fd first and stays pending: the shim set the call's
 * mask itself before the first part, the handler ran and the call failed
 * with EINTR. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "../../lib/run.h"

static const char *const rows[] = {
	"setpage-select", "setpage-pselect", "neighbour",
	"badmask-ppoll", "badmask-pselect", "badmask-epoll",
	"pending-ppoll", "pending-pselect", "pending-epoll",
	"pendingempty-ppoll", "pendingempty-pselect", "pendingempty-epoll",
};

Test(watch_poll_edges, split_waits_as_glibc, .timeout = 120)
{
	static struct run_result plain, r;
	static char log[4096];
	snprintf(log, sizeof log, "NOLEAK_LOG=%s/log", tmpdir());
	char *env[] = { "NOLEAK_MODE=audit", "NOLEAK_READ_WARN=1", log, NULL };
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		char *argv[] = { (char *)top("build/fixtures/wd_poll_edges"),
				 (char *)rows[i], NULL };
		cr_assert_eq(run(&plain, argv, NULL, 0, 15.0, NULL), 0);
		cr_assert_eq(exit_code(&plain), 0, "%s without the shim: %s%s",
			     rows[i], plain.out, plain.err);
		cr_assert_eq(run(&r, argv, env, 1, 15.0, NULL), 0);
		cr_expect_eq(r.status, plain.status, "%s: status %d, without "
			     "the shim %d", rows[i], r.status, plain.status);
		cr_expect_str_eq(r.out, plain.out, "%s: got %swithout the shim %s",
				 rows[i], r.out, plain.out);
	}
}

/* Sets and pollfd arrays the kernel cannot read, in enforce (read_warn
 * set) and audit: EFAULT at once, as without the shim. */
static const char *const bad_rows[] = {
	"badset-select", "badset-pselect", "badfds-poll", "badfds-ppoll",
};

Test(watch_poll_edges, unreadable_sets_fail_with_efault, .timeout = 120)
{
	static struct run_result plain, r;
	static char log[4096];
	snprintf(log, sizeof log, "NOLEAK_LOG=%s/log", tmpdir());
	static const char *const modes[] = { "NOLEAK_MODE=enforce",
					     "NOLEAK_MODE=audit" };
	for (size_t i = 0; i < sizeof bad_rows / sizeof *bad_rows; i++) {
		char *argv[] = { (char *)top("build/fixtures/wd_poll_edges"),
				 (char *)bad_rows[i], NULL };
		cr_assert_eq(run(&plain, argv, NULL, 0, 15.0, NULL), 0);
		cr_assert_eq(exit_code(&plain), 0, "%s without the shim: %s%s",
			     bad_rows[i], plain.out, plain.err);
		for (size_t m = 0; m < 2; m++) {
			char *env[] = { (char *)modes[m], "NOLEAK_READ_WARN=1",
					log, NULL };
			cr_assert_eq(run(&r, argv, env, 1, 15.0, NULL), 0);
			cr_expect_eq(r.status, plain.status, "%s, %s: status "
				     "%d, without the shim %d", bad_rows[i],
				     modes[m], r.status, plain.status);
			cr_expect_str_eq(r.out, plain.out, "%s, %s: got %s"
					 "without the shim %s", bad_rows[i],
					 modes[m], r.out, plain.out);
		}
	}
}

/* A read the watchdog waits for, which poll() calls readable while a try
 * without blocking still finds it would wait: a UDP socket's queued ICMP
 * error (POLLERR), a peek past SO_PEEK_OFF (POLLIN).  The wait spun at
 * full CPU for as long as the data took to come.  The same results and
 * CPU class as without the shim, in enforce (read_warn) and audit (a
 * log).  One row per case. */
Test(watch_poll_edges, a_readable_poll_that_the_read_still_waits_on_does_not_spin,
     .timeout = 120)
{
	static const char *const cases[] = { "recverr", "peekoff", "peekoffd" };
	static struct run_result plain, r;
	static char log[4096];
	snprintf(log, sizeof log, "NOLEAK_LOG=%s/spin.log", tmpdir());
	static const char *const modes[] = { "NOLEAK_MODE=enforce", "NOLEAK_MODE=audit" };
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *argv[] = { (char *)top("build/fixtures/wd_spin"),
				 (char *)cases[i], NULL };
		cr_assert_eq(run(&plain, argv, NULL, 0, 15.0, NULL), 0);
		cr_assert_eq(exit_code(&plain), 0, "%s without the shim: %s%s",
			     cases[i], plain.out, plain.err);
		cr_assert(strstr(plain.out, "cpu=low"), "%s: %s", cases[i], plain.out);
		for (size_t m = 0; m < 2; m++) {
			char *env[] = { (char *)modes[m], "NOLEAK_READ_WARN=1", log, NULL };
			cr_assert_eq(run(&r, argv, env, 1, 15.0, NULL), 0);
			cr_expect_str_eq(r.out, plain.out, "%s, %s: got %swithout the "
					 "shim %s", cases[i], modes[m], r.out, plain.out);
		}
	}
}
