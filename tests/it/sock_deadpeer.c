/* A dead peer on an idle connection, through a pair of network namespaces
 * made by the test: a reader blocks on a connection whose peer's link then
 * goes down, so nothing (not even a RST) ever comes back.  With keepalive
 * the read fails with ETIMEDOUT after idle + intvl * cnt seconds; without
 * the shim it is still blocked.
 *
 * Needs root (ip netns); CI runs as root, and there a failure to make the
 * namespaces fails the test. */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/run.h"
#include "sock_util.h"

#define ADDR_A "10.77.0.1"
#define ADDR_B "10.77.0.2"
#define PORT "7070"

static char ns_a[32], ns_b[32], veth_a[16], veth_b[16];
static struct bg holder, shimmed, plain;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	struct run_result *r = malloc(sizeof *r);
	int ok = run_sh(r, cmd, NULL, 0, 10.0) == 0 && exit_code(r) == 0;
	if (!ok)
		cr_log_error("%s: %s", cmd, r->err);
	free(r);
	return ok;
}

static void cleanup(void)
{
	bg_stop(&shimmed);
	bg_stop(&plain);
	bg_stop(&holder);
	/* Deleting a namespace destroys the veth end inside it, and with it
	 * its peer. */
	sh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null; true",
	   ns_a, ns_b);
}

static void make_namespaces(void)
{
	int pid = (int)getpid();
	snprintf(ns_a, sizeof ns_a, "noleak-a-%d", pid);
	snprintf(ns_b, sizeof ns_b, "noleak-b-%d", pid);
	snprintf(veth_a, sizeof veth_a, "nlva%d", pid % 10000000);
	snprintf(veth_b, sizeof veth_b, "nlvb%d", pid % 10000000);
	cleanup();
	cr_assert(sh("ip netns add %s && ip netns add %s", ns_a, ns_b),
		  "cannot make network namespaces");
	cr_assert(sh("ip link add %s netns %s type veth peer name %s netns %s",
		     veth_a, ns_a, veth_b, ns_b), "cannot make a veth pair");
	cr_assert(sh("ip -n %s addr add " ADDR_A "/24 dev %s && "
		     "ip -n %s addr add " ADDR_B "/24 dev %s && "
		     "ip -n %s link set %s up && ip -n %s link set %s up",
		     ns_a, veth_a, ns_b, veth_b, ns_a, veth_a, ns_b, veth_b),
		  "cannot configure the veth pair");
}

/* Start `cmd` (a shell command line, exec'd) in the background. */
static void start(struct bg *b, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	cr_assert_eq(bg_start(b, argv, NULL, 0), 0);
}

Test(sock_deadpeer, keepalive_ends_read_on_dead_idle_connection,
     .fini = cleanup, .timeout = 30)
{
	if (geteuid() != 0)
		cr_skip_test("network namespaces need root");
	make_namespaces();
	const char *reader = top("build/fixtures/sock_reader");
	start(&holder, "exec ip netns exec %s %s hold " ADDR_A " " PORT, ns_a,
	      top("build/fixtures/sock_server"));
	cr_assert_not_null(bg_line(&holder, "listening", 3.0), "%s", holder.text);

	start(&shimmed, "exec ip netns exec %s env LD_PRELOAD=%s "
	      "NOLEAK_KEEPALIVE=2,1,2 NOLEAK_SOCK_TIMEOUT=0 %s " ADDR_A " " PORT,
	      ns_b, shim_path(), reader);
	start(&plain, "exec ip netns exec %s %s " ADDR_A " " PORT, ns_b, reader);
	cr_assert_not_null(bg_line(&shimmed, "connected", 3.0), "%s", shimmed.text);
	cr_assert_not_null(bg_line(&plain, "connected", 3.0), "%s", plain.text);

	/* The peer vanishes: its link goes down, nothing answers any more. */
	cr_assert(sh("ip -n %s link set %s down", ns_a, veth_a));
	double t0 = mono_now();

	/* idle 2 s, then 2 probes 1 s apart: about 4 s after connecting. */
	const char *l = bg_line(&shimmed, "read=", 8.0);
	cr_assert_not_null(l, "the read under the shim still blocks after %.1f s",
			   mono_now() - t0);
	cr_expect(!strncmp(l, "read=-1 errno=ETIMEDOUT", 23), "%s", l);
	cr_expect_lt(mono_now() - t0, 5.5);

	/* Without the shim the same read is still blocked. */
	l = bg_line(&plain, "read=", 0.5);
	cr_expect_null(l, "without the shim: %s", l);
	cr_expect_eq(kill(plain.pid, 0), 0, "the plain reader is gone");
}
