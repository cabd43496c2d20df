/* What a TCP connection costs under the shim, counted in system calls
 * rather than timed (a count does not flake on a loaded machine).  A socket
 * the program made with socket() has the kernel's default options but for
 * what it set through setsockopt(), which the shim records: connect() and
 * accept() then set the timeout and keepalive without asking the kernel
 * anything (no getsockopt).  The options themselves are checked in
 * sock_options.  Traced with strace when it is installed. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"

#define CONNECTIONS 5

TestSuite(sock_cost, .timeout = 60);

static int count_calls(const char *mode_env, const char *call)
{
	static struct run_result r;
	char trace[4096], cmd[8192];
	snprintf(trace, sizeof trace, "%s/trace", tmpdir());
	snprintf(cmd, sizeof cmd,
		 "exec strace -qq -e trace=%s -o %s env LD_PRELOAD=%s %s %s %d",
		 call, trace, shim_path(), mode_env,
		 top("build/fixtures/sock_connect_loop"), CONNECTIONS);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, 30.0), 0);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "connections") != NULL, "%s", r.err);
	char needle[64];
	snprintf(needle, sizeof needle, "%s(", call);
	return count_lines_with(slurp(trace), needle);
}

Test(sock_cost, fresh_sockets_need_no_getsockopt)
{
	if (access("/usr/bin/strace", X_OK) != 0)
		cr_skip_test("strace is not installed");
	cr_expect_eq(count_calls("NOLEAK_MODE=enforce", "getsockopt"), 0);
	cr_expect_eq(count_calls("NOLEAK_MODE=audit", "getsockopt"), 0);
	/* Timeouts and keepalive on both ends, as before. */
	cr_expect_eq(count_calls("NOLEAK_MODE=enforce", "setsockopt"),
		     CONNECTIONS * 2 * 6);
}
