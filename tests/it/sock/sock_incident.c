/* The vanished peer on loopback: a blocking server with no timeouts of its
 * own reads a request from a client that sent half of it and went silent
 * without closing.  Without the shim the server never serves anyone again;
 * with a socket timeout its read fails and it serves the next client. */
#include <criterion/criterion.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"
#include "../../lib/sock_util.h"

static struct bg server;

static void stop_server(void) { bg_stop(&server); }

static const char *fixture(void) { return top("build/fixtures/sock_server"); }

/* Start the server; returns its port. */
static int start_server(char *const env[], int shim)
{
	char *argv[] = { (char *)fixture(), "serve", NULL };
	cr_assert_eq(bg_start(&server, argv, env, shim), 0);
	const char *l = bg_line(&server, "port=", 5.0);
	cr_assert_not_null(l, "server did not start: %s", server.text);
	return atoi(l + 5);
}

/* Send a whole request line on a new connection and wait up to timeout_s
 * for the reply; returns the seconds it took, or -1 without a reply. */
static double request(int port, double timeout_s)
{
	int c = tcp_connect_local(port);
	cr_assert_geq(c, 0);
	double t0 = mono_now();
	cr_assert_eq(write(c, "GET /next\n", 10), 10);
	struct pollfd p = { c, POLLIN, 0 };
	char buf[16] = "";
	double took = -1;
	if (poll(&p, 1, (int)(timeout_s * 1000)) == 1 &&
	    read(c, buf, sizeof buf - 1) > 0 && !strncmp(buf, "ok", 2))
		took = mono_now() - t0;
	close(c);
	return took;
}

/* The client that vanished: half a request, then silence, never closing. */
static int half_request(int port)
{
	int c = tcp_connect_local(port);
	cr_assert_geq(c, 0);
	cr_assert_eq(write(c, "GET /ha", 7), 7);
	return c;
}

Test(sock_incident, server_recovers_from_silent_client, .fini = stop_server)
{
	char log[512];
	snprintf(log, sizeof log, "NOLEAK_LOG=%s/events.log", tmpdir());
	char *env[] = { "NOLEAK_SOCK_TIMEOUT=2", log, NULL };
	int port = start_server(env, 1);
	int silent = half_request(port);
	double took = request(port, 4.5);
	cr_assert(took >= 0, "the next client was never served: %s", server.text);
	cr_assert_lt(took, 3.0, "served only after %.1f s", took);
	const char *l = bg_line(&server, "read_failed", 1.0);
	cr_assert_not_null(l);
	cr_assert(strstr(l, "errno=EAGAIN"), "%s", l);
	cr_assert_not_null(bg_line(&server, "served", 1.0));

	/* The timeout is logged with where the socket leads and how long
	 * the read waited. */
	const char *events = slurp(log + strlen("NOLEAK_LOG="));
	cr_assert_eq(count_lines_with(events, "\"event\":\"sock_timeout\""), 1,
		     "%s", events);
	cr_assert(strstr(events, "\"direction\":\"read\""), "%s", events);
	cr_assert(strstr(events, "\"wait\":2."), "%s", events);
	cr_assert(strstr(events, "\"timeout\":2"), "%s", events);
	cr_assert(strstr(events, "\"local\":\"127.0.0.1:"), "%s", events);
	cr_assert(strstr(events, "\"peer\":\"127.0.0.1:"), "%s", events);
	close(silent);
}

Test(sock_incident, without_shim_server_hangs, .fini = stop_server)
{
	int port = start_server(NULL, 0);
	int silent = half_request(port);
	double took = request(port, 4.0);
	cr_assert(took < 0, "served without the shim after %.1f s", took);
	cr_assert_null(bg_line(&server, "read_failed", 0.1), "%s", server.text);
	close(silent);
}

/* A listener never gets the timeout: a blocking accept() idling longer
 * than it must not fail with EAGAIN. */
Test(sock_incident, idle_accept_does_not_time_out, .fini = stop_server)
{
	char *env[] = { "NOLEAK_SOCK_TIMEOUT=2", NULL };
	int port = start_server(env, 1);
	const char *l = bg_line(&server, "accept_failed", 5.0);
	cr_assert_null(l, "%s", l);
	double took = request(port, 2.0);
	cr_assert(took >= 0, "not served after idling: %s", server.text);
}
