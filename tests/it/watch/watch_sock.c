/* A read on a socket whose peer stays silent: read_blocked describes the
 * connection (TCP: both addresses, state and counters) or, for a UNIX
 * socket, the processes holding the other end. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/watch_util.h"

static struct watch_run w;
static struct watch_log log_;
static char line[8192];

static void silent_peer(const char *kind)
{
	watch_log_init(&log_);
	const char *argv[] = { top("build/fixtures/wd_sock"), kind, "2.5", NULL };
	const char *env[] = { "NOLEAK_READ_WARN=1", log_.env, NULL };
	cr_assert_eq(access(argv[0], X_OK), 0, "%s missing", argv[0]);
	watch_start(&w, argv, env, 1, 10.0);
	int live = watch_event_while_running(&w, log_.path, "read_blocked", 2.0);
	watch_join(&w);
	cr_assert(!w.r.timed_out && exit_code(&w.r) == 0, "wd_sock %s: %s%s",
		  kind, w.r.out, w.r.err);
	cr_expect(live, "no read_blocked while the read waited: %s",
		  slurp(log_.path));
	/* The read still ends when the peer closes (UDP: sends), as
	 * without the shim. */
	cr_expect(strstr(w.r.out, strcmp(kind, "udp") ? "read=0 after=2."
						      : "read=1 after=2."),
		  "%s", w.r.out);
	const char *text = slurp(log_.path);
	cr_assert(event_line(text, "read_blocked", NULL, line, sizeof line), "%s", text);
	cr_expect(strstr(line, "\"kind\":\"socket\""), "%s", line);
}

Test(watch_sock, tcp_peer_address_and_state)
{
	silent_peer("tcp");
	char want[200];
	const char *local = strstr(w.r.out, "local="), *peer = strstr(w.r.out, "peer=");
	cr_assert(local && peer, "%s", w.r.out);
	snprintf(want, sizeof want, "\"tcp\":{\"local\":\"%.*s\",\"peer\":\"%.*s\",",
		 (int)strcspn(local + 6, " \n"), local + 6,
		 (int)strcspn(peer + 5, " \n"), peer + 5);
	cr_expect(strstr(line, want), "expected %s in: %s", want, line);
	cr_expect(strstr(line, "\"state\":\"ESTABLISHED\""), "%s", line);
	cr_expect(strstr(line, "\"unacked\":0,"), "%s", line);
	cr_expect(strstr(line, "\"retransmits\":"), "%s", line);
	const char *lr = strstr(line, "\"last_recv_ms\":");
	long ms = -1;
	cr_assert(lr && sscanf(lr, "\"last_recv_ms\":%ld", &ms) == 1, "%s", line);
	cr_expect(ms >= 900, "the peer was silent for 1 s, last_recv_ms=%ld", ms);
}

Test(watch_sock, unix_peer_process)
{
	silent_peer("unix");
	long server = out_long(w.r.out, "server");
	cr_assert_gt(server, 0, "%s", w.r.out);
	char want[128];
	snprintf(want, sizeof want, "\"culprits\":[{\"pid\":%ld,\"exe\":\"", server);
	cr_expect(strstr(line, want), "expected %s in: %s", want, line);
	cr_expect(strstr(line, "\"relation\":\"bare-fork child\"}]"), "%s", line);
}

/* A connected UDP socket has no connection to describe: it was given a
 * "tcp" field of a TCP connection's state. */
Test(watch_sock, udp_has_no_tcp_state)
{
	silent_peer("udp");
	cr_expect_null(strstr(line, "\"tcp\":"), "%s", line);
}
