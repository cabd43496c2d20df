/* What a TCP connection costs under the shim, counted in system calls
 * rather than timed (a count does not flake on a loaded machine).  A socket
 * the program made with socket() has the kernel's default options but for
 * what it set through setsockopt(), which the shim records: connect() and
 * accept() then set the timeout and keepalive without asking the kernel
 * anything (no getsockopt, no fcntl; a listener's queue once), and a
 * listener that accepts again hands its keepalive on through the kernel.  The options themselves are
 * checked in sock_options. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"

#define CONNECTIONS 5

TestSuite(sock_cost, .timeout = 60);

static int count_calls(const char *mode_env, const char *call)
{
	char cmd[8192], needle[64];
	snprintf(cmd, sizeof cmd, "LD_PRELOAD=%s %s exec %s %d", shim_path(),
		 mode_env, top("build/fixtures/sock_connect_loop"), CONNECTIONS);
	snprintf(needle, sizeof needle, "%s(", call);
	return count_lines_with(trace_calls(call, cmd), needle);
}

/* One getsockopt per listener: when the listener gets the keepalive (at
 * its second accept), how many connections wait in its queue, made before
 * it and so without it (TCP_INFO). */
Test(sock_cost, fresh_sockets_need_no_getsockopt)
{
	cr_expect_eq(count_calls("NOLEAK_MODE=enforce", "getsockopt"), 1);
	cr_expect_eq(count_calls("NOLEAK_MODE=audit", "getsockopt"), 0);
}

/* Each end gets its two timeouts; the client its four keepalive options.
 * The first two accepted sockets get them too, the second also on its
 * listener, and every socket accepted after inherits them from it. */
Test(sock_cost, accepted_sockets_inherit_keepalive_from_listener)
{
	cr_expect_eq(count_calls("NOLEAK_MODE=enforce", "setsockopt"),
		     CONNECTIONS * (6 + 2) + 2 * 4 + 4);
}

/* A fresh socket's first connect() that returned 0 was blocking: no
 * F_GETFL asks. */
Test(sock_cost, blocking_connect_needs_no_fcntl)
{
	cr_expect_eq(count_calls("NOLEAK_MODE=enforce", "fcntl"), 0);
}

/* A read that succeeds on a socket the shim timed calls libc's function
 * from the interposer itself: one frame of the shim on the stack, the
 * restart rule's bookkeeping around it, its slow path only on failure.
 * Where each system call flushes the TLB, every further page of the
 * shim's a read returns through costs a page walk. */
Test(sock_cost, timed_read_calls_libc_from_the_interposer)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "LD_PRELOAD='%s %s' NOLEAK_MODE=enforce exec %s",
		 shim_path(), top("build/fixtures/sock_frames.so"),
		 top("build/fixtures/sock_frames"));
	struct run_result *r = malloc(sizeof *r);
	cr_assert_not_null(r);
	run_sh(r, cmd, NULL, 0, 30);
	cr_assert_eq(r->status, 0, "sock_frames: %s", r->err);
	cr_expect_str_eq(r->out, "read 1\nreadv 1\nrecv 1\nrecvfrom 1\n");
	free(r);
}
