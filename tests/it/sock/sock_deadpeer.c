/* A dead peer on an idle connection, through a pair of network namespaces
 * made by the test: a reader blocks on a connection whose peer's link then
 * goes down, so nothing (not even a RST) ever comes back.  With keepalive
 * the read fails with ETIMEDOUT after idle + intvl * cnt seconds; without
 * the shim it is still blocked.
 *
 * The blocking-flush server below is the same incident on the write side.
 *
 * Needs root (ip netns); CI runs as root, and there a failure to make the
 * namespaces fails the test. */
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/run.h"
#include "../../lib/sock_util.h"

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

/* Network namespaces need root.  CI runs as root: there the tests never
 * skip. */
static void need_root(void)
{
	if (geteuid() == 0)
		return;
	cr_assert_null(getenv("CI"), "CI must run the dead-peer tests as root");
	cr_skip_test("network namespaces need root");
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
	need_root();
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

/* The seed-002 incident, write side: a server flushing a large response
 * on a blocking socket retries forever on EAGAIN (GoAhead).  When the
 * client's link goes down mid-response, the shim's send timeout must end
 * the flush the way a dead connection ends, with ETIMEDOUT, so the server
 * serves its next client within 2 x sock_timeout, under the default
 * keepalive settings.  A client that is alive but stops reading (a zero
 * window) still gets EAGAIN. */
#define FLUSH_PORT "7071"
#define FLUSH_TIMEOUT 3

static struct bg server, client1, client2;

static void flush_cleanup(void)
{
	bg_stop(&client2);
	bg_stop(&client1);
	bg_stop(&server);
	cleanup();
}

Test(sock_deadpeer, blocking_flush_server_serves_the_next_client,
     .fini = flush_cleanup, .timeout = 60)
{
	need_root();
	make_namespaces();
	cr_assert(sh("ip -n %s link set lo up", ns_a));
	const char *flush = top("build/fixtures/sock_flush");
	char log[300];
	snprintf(log, sizeof log, "%s/events.log", tmpdir());
	start(&server, "exec ip netns exec %s env LD_PRELOAD=%s NOLEAK_LOG=%s "
	      "NOLEAK_SOCK_TIMEOUT=%d %s server " FLUSH_PORT " 16",
	      ns_a, shim_path(), log, FLUSH_TIMEOUT, flush);
	cr_assert_not_null(bg_line(&server, "listening", 3.0), "%s", server.text);

	/* An alive client that reads nothing for four timeouts (a zero
	 * window): the blocked send gets EAGAIN, as without the peer check. */
	start(&client1, "exec ip netns exec %s %s client " ADDR_A " " FLUSH_PORT
	      " 12", ns_b, flush);
	cr_assert_not_null(bg_line(&client1, "connected", 3.0), "%s", client1.text);
	cr_assert_not_null(bg_line(&client1, "resumed", 16.0), "%s", client1.text);
	cr_expect_not_null(bg_line(&server, "client 1 eagain", 0.5),
			   "a quiet but alive client: %s", server.text);
	cr_assert_null(bg_line(&server, "client 1 error", 0.1), "%s", server.text);

	/* Reading again, as fast as it can: data is in flight when its cable
	 * is pulled, and nothing comes back. */
	struct timespec second = { 1, 0 };
	nanosleep(&second, NULL);
	cr_assert(sh("ip -n %s link set %s down", ns_b, veth_b));
	double t0 = mono_now();
	start(&client2, "exec ip netns exec %s %s client 127.0.0.1 " FLUSH_PORT
	      " 0", ns_a, flush);

	const char *l = bg_line(&server, "client 2", 2 * FLUSH_TIMEOUT + 3.0);
	double served = mono_now() - t0;
	cr_assert_not_null(l, "no second client %.1f s after the first vanished:\n%s\n%s",
			   served, server.text, slurp(log));
	cr_expect_leq(served, 2 * FLUSH_TIMEOUT + 0.5,
		      "second client served %.1f s after the first vanished", served);
	cr_expect_not_null(bg_line(&server, "client 1 error=ETIMEDOUT", 0.1),
			   "%s", server.text);
	cr_expect_not_null(bg_line(&server, "client 2 done", 10.0), "%s", server.text);
	cr_expect_not_null(bg_line(&client2, "got 16777216", 5.0), "%s", client2.text);

	/* The evidence is logged. */
	const char *text = slurp(log);
	char want[64];
	snprintf(want, sizeof want, "\"errno\":%d,\"peer_silent\":true", ETIMEDOUT);
	cr_expect(strstr(text, want), "%s", text);
	snprintf(want, sizeof want, "\"errno\":%d,\"peer_silent\":false", EAGAIN);
	cr_expect(strstr(text, want), "%s", text);
}
