/* What a TCP connection costs under the shim, counted in system calls
 * rather than timed (a count does not flake on a loaded machine).  A socket
 * the program made with socket() has the kernel's default options but for
 * what it set through setsockopt(), which the shim records: connect() and
 * accept() then set the timeout and keepalive without asking the kernel
 * anything (no getsockopt, no fcntl), and a listener that accepts again
 * hands its keepalive on through the kernel.  The options themselves are
 * checked in sock_options. */
#include <criterion/criterion.h>

#include <stdio.h>
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

Test(sock_cost, fresh_sockets_need_no_getsockopt)
{
	cr_expect_eq(count_calls("NOLEAK_MODE=enforce", "getsockopt"), 0);
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
