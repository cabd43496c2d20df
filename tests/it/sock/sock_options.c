/* Which sockets get a timeout and keepalive, with which values, and what
 * the shim leaves alone: the program's own choices, non-blocking sockets,
 * listeners, UNIX and datagram sockets by default, everything in audit. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/run.h"

static struct run_result r;

/* Run sock_opts MODE under the shim (or not) with extra environment. */
static void opts(const char *mode, char *const env[], int shim)
{
	char *argv[] = { (char *)top("build/fixtures/sock_opts"), (char *)mode,
			 NULL };
	cr_assert_eq(run(&r, argv, env, shim, 10.0, NULL), 0);
	cr_assert(!r.timed_out, "sock_opts %s timed out", mode);
}

/* The output line of socket `name` ("client", "accepted", "listener"). */
static const char *line(const char *name)
{
	static char buf[8][256];
	static int next;
	char *out = buf[next++ % 8];
	size_t n = strlen(name);
	for (const char *p = r.out; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > n && !strncmp(p, name, n) && p[n] == ' ') {
			snprintf(out, 256, "%.*s", (int)len, p);
			return out;
		}
		p = nl ? nl + 1 : NULL;
	}
	cr_assert_fail("no \"%s\" line in: %s%s", name, r.out, r.err);
	return "";
}

#define EXPECT(name, text) cr_expect_str_eq(line(name), name " " text)

static const char *const defaults_tcp = "rcv=0.000 snd=0.000 ka=0";

Test(sock_options, blocking_connect_and_accept_get_timeout_and_keepalive)
{
	char *env[] = { "NOLEAK_SOCK_TIMEOUT=2", NULL };
	opts("connect", env, 1);
	EXPECT("client", "rcv=2.000 snd=2.000 ka=1 idle=60 intvl=10 cnt=6 ut=0");
	EXPECT("accepted", "rcv=2.000 snd=2.000 ka=1 idle=60 intvl=10 cnt=6 ut=0");
	/* SO_RCVTIMEO on a listener would make a blocking accept() fail. */
	cr_expect(!strncmp(line("listener"), "listener rcv=0.000 snd=0.000 ka=0 ", 34),
		  "%s", line("listener"));
}

Test(sock_options, ipv6_too)
{
	char *env[] = { "NOLEAK_SOCK_TIMEOUT=2", NULL };
	opts("connect6", env, 1);
	EXPECT("client", "rcv=2.000 snd=2.000 ka=1 idle=60 intvl=10 cnt=6 ut=0");
	EXPECT("accepted", "rcv=2.000 snd=2.000 ka=1 idle=60 intvl=10 cnt=6 ut=0");
}

Test(sock_options, defaults_are_300s_and_60_10_6)
{
	opts("connect", NULL, 1);
	EXPECT("client", "rcv=300.000 snd=300.000 ka=1 idle=60 intvl=10 cnt=6 ut=0");
}

Test(sock_options, keepalive_values_and_user_timeout_from_policy)
{
	char *env[] = { "NOLEAK_KEEPALIVE=30,5,3,20", NULL };
	opts("connect", env, 1);
	EXPECT("client", "rcv=300.000 snd=300.000 ka=1 idle=30 intvl=5 cnt=3 ut=20000");
}

Test(sock_options, timeout_off_keeps_keepalive)
{
	char *env[] = { "NOLEAK_SOCK_TIMEOUT=0", NULL };
	opts("connect", env, 1);
	EXPECT("client", "rcv=0.000 snd=0.000 ka=1 idle=60 intvl=10 cnt=6 ut=0");
}

Test(sock_options, keepalive_off)
{
	char *env[] = { "NOLEAK_KEEPALIVE=off", "NOLEAK_SOCK_TIMEOUT=2", NULL };
	opts("connect", env, 1);
	cr_expect(!strncmp(line("client"), "client rcv=2.000 snd=2.000 ka=0 ", 32),
		  "%s", line("client"));
}

Test(sock_options, refused_connect_still_fails)
{
	char *env[] = { "NOLEAK_SOCK_TIMEOUT=2", NULL };
	opts("refused", env, 1);
	cr_assert(strstr(r.out, "connect errno=ECONNREFUSED\n"), "%s", r.out);
	cr_expect(!strncmp(line("client"), "client rcv=0.000 snd=0.000 ka=0 ", 32),
		  "%s", line("client"));
}

Test(sock_options, program_timeout_set_before_connect_survives)
{
	char *env[] = { "NOLEAK_SOCK_TIMEOUT=2", NULL };
	opts("own_before", env, 1);
	EXPECT("client", "rcv=7.000 snd=2.000 ka=1 idle=60 intvl=10 cnt=6 ut=0");
}

Test(sock_options, program_timeout_set_after_connect_survives)
{
	char *env[] = { "NOLEAK_SOCK_TIMEOUT=2", NULL };
	opts("own_after", env, 1);
	EXPECT("client", "rcv=7.000 snd=2.000 ka=1 idle=60 intvl=10 cnt=6 ut=0");
}

/* Set through another fd of the socket (a dup): the connect took the
 * socket for fresh, and put the shim's timeout over the program's. */
Test(sock_options, program_timeout_set_through_a_dup_survives)
{
	char *env[] = { "NOLEAK_SOCK_TIMEOUT=2", NULL };
	opts("own_dup", env, 1);
	EXPECT("client", "rcv=7.000 snd=2.000 ka=1 idle=60 intvl=10 cnt=6 ut=0");
}

/* Accepted sockets inherit the listener's options: what the program set
 * there is its choice for them too. */
Test(sock_options, listener_options_inherited_by_accepted_survive)
{
	char *env[] = { "NOLEAK_SOCK_TIMEOUT=2", NULL };
	opts("own_listener", env, 1);
	const char *a = line("accepted");
	cr_expect(!strncmp(a, "accepted rcv=7.000 snd=2.000 ka=1 ", 34), "%s", a);
	cr_expect_null(strstr(a, "idle=60 "), "keepalive values overridden: %s", a);
}

/* From the second accept on, the keepalive options go on the listener
 * and the kernel copies them: every accepted socket has the same. */
Test(sock_options, every_accepted_socket_gets_keepalive)
{
	char *env[] = { "NOLEAK_KEEPALIVE=30,5,3,20", NULL };
	const char *want = "rcv=300.000 snd=300.000 ka=1 idle=30 intvl=5 cnt=3 ut=20000";
	opts("serve3", env, 1);
	for (int i = 1; i <= 3; i++) {
		char name[16];
		snprintf(name, sizeof name, "accepted%d", i);
		cr_expect_str_eq(strchr(line(name), ' ') + 1, want, "%s", name);
	}
}

/* Connections that waited in the queue when the listener got the
 * keepalive were made without it: the third and fourth had none. */
Test(sock_options, connections_queued_before_the_listener_s_keepalive_get_it)
{
	char *env[] = { "NOLEAK_KEEPALIVE=30,5,3,20", NULL };
	const char *want = "rcv=300.000 snd=300.000 ka=1 idle=30 intvl=5 cnt=3 ut=20000";
	opts("queued4", env, 1);
	for (int i = 1; i <= 4; i++) {
		char name[16];
		snprintf(name, sizeof name, "accepted%d", i);
		cr_expect_str_eq(strchr(line(name), ' ') + 1, want, "%s", name);
	}
}

/* A keepalive option the program sets on that listener afterwards is its
 * choice, as without the shim: keepalive stays off (TCP_KEEPIDLE alone
 * does not turn it on), the user timeout back to none. */
Test(sock_options, program_keepalive_on_listener_after_accepts_wins)
{
	char *env[] = { "NOLEAK_KEEPALIVE=30,5,3,20", NULL };
	opts("serve3_idle", env, 1);
	const char *l = line("accepted3");
	const char *want = "accepted3 rcv=300.000 snd=300.000 ka=0 idle=33 ";
	cr_expect(!strncmp(l, want, strlen(want)), "%s", l);
	cr_expect(strstr(l, " ut=0"), "%s", l);
	l = line("listener");
	want = "listener rcv=0.000 snd=0.000 ka=0 idle=33 ";
	cr_expect(!strncmp(l, want, strlen(want)), "%s", l);
}

Test(sock_options, nonblocking_connect_gets_keepalive_only)
{
	char *env[] = { "NOLEAK_SOCK_TIMEOUT=2", NULL };
	opts("nonblock", env, 1);
	EXPECT("client", "rcv=0.000 snd=0.000 ka=1 idle=60 intvl=10 cnt=6 ut=0");
}

Test(sock_options, nonblocking_accept_gets_keepalive_only)
{
	char *env[] = { "NOLEAK_SOCK_TIMEOUT=2", NULL };
	opts("accept_nonblock", env, 1);
	EXPECT("accepted", "rcv=0.000 snd=0.000 ka=1 idle=60 intvl=10 cnt=6 ut=0");
}

Test(sock_options, unix_and_udp_untouched_by_default)
{
	char *env[] = { "NOLEAK_SOCK_TIMEOUT=2", NULL };
	opts("unix", env, 1);
	EXPECT("client", "rcv=0.000 snd=0.000 ka=0");
	EXPECT("accepted", "rcv=0.000 snd=0.000 ka=0");
	opts("udp", env, 1);
	EXPECT("client", "rcv=0.000 snd=0.000 ka=0");
}

Test(sock_options, unix_and_udp_keys)
{
	char *env[] = { "NOLEAK_SOCK_TIMEOUT_UNIX=4", "NOLEAK_SOCK_TIMEOUT_DGRAM=3",
			NULL };
	opts("unix", env, 1);
	EXPECT("client", "rcv=4.000 snd=4.000 ka=0");
	EXPECT("accepted", "rcv=4.000 snd=4.000 ka=0");
	EXPECT("listener", "rcv=0.000 snd=0.000 ka=0");
	opts("udp", env, 1);
	EXPECT("client", "rcv=3.000 snd=3.000 ka=0");
}

/* Audit changes no option: the sockets look exactly as without the shim,
 * and one sock_policy event per connected socket says what enforce would
 * set. */
Test(sock_options, audit_logs_policy_and_changes_nothing)
{
	opts("connect", NULL, 0);
	char client[256], accepted[256];
	snprintf(client, sizeof client, "%s", line("client"));
	snprintf(accepted, sizeof accepted, "%s", line("accepted"));
	cr_assert(!strncmp(client, "client rcv=0.000 snd=0.000 ka=0", 31));

	char log[512];
	snprintf(log, sizeof log, "NOLEAK_LOG=%s/events.log", tmpdir());
	char *env[] = { "NOLEAK_MODE=audit", "NOLEAK_SOCK_TIMEOUT=2", log, NULL };
	opts("connect", env, 1);
	cr_expect_str_eq(line("client"), client);
	cr_expect_str_eq(line("accepted"), accepted);
	cr_expect(strstr(line("listener"), defaults_tcp));

	const char *events = slurp(log + strlen("NOLEAK_LOG="));
	cr_assert_eq(count_lines_with(events, "\"event\":\"sock_policy\""), 2,
		     "%s", events);
	cr_expect_eq(count_lines_with(events, "\"via\":\"connect\""), 1, "%s", events);
	cr_expect_eq(count_lines_with(events, "\"via\":\"accept\""), 1, "%s", events);
	cr_expect_eq(count_lines_with(events,
		"\"rcvtimeo\":2,\"sndtimeo\":2,\"keepalive\":true,"
		"\"keepidle\":60,\"keepintvl\":10,\"keepcnt\":6,\"user_timeout\":0"),
		2, "%s", events);
	cr_expect_eq(count_lines_with(events, "\"peer\":\"127.0.0.1:"), 2, "%s", events);
}

Test(sock_options, mode_off_changes_nothing)
{
	char *env[] = { "NOLEAK_MODE=off", "NOLEAK_SOCK_TIMEOUT=2", NULL };
	opts("connect", env, 1);
	cr_expect(!strncmp(line("client"), "client rcv=0.000 snd=0.000 ka=0 ", 32),
		  "%s", line("client"));
}
