/* What a watched read costs, counted in system calls rather than timed (a
 * count does not flake on a loaded machine), under audit with read_warn:
 * dd bs=1 from /dev/zero (no terminal: the watchdog learns that once per
 * fd, one TCGETS, not at every read), and one-byte reads on a TCP socket
 * that mostly wait. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"

#define BYTES 500
#define RECVS 50

TestSuite(watch_cost, .timeout = 60);

Test(watch_cost, char_device_reads_ask_once)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd,
		 "LD_PRELOAD=%s NOLEAK_MODE=audit NOLEAK_READ_WARN=30 "
		 "NOLEAK_LOG=%s/log exec dd if=/dev/zero of=/dev/null bs=1 "
		 "count=%d status=none", shim_path(), tmpdir(), BYTES);
	const char *t = trace_calls("ioctl,read", cmd);
	cr_assert_geq(count_lines_with(t, "read(0, \"\\0\", 1)"), BYTES, "%s", t);
	cr_expect_leq(count_lines_with(t, "ioctl(0,"), 2,
		      "dd bs=1 asks its input's kind at every read");
}

/* One-byte recv() calls on a TCP socket, most of which wait: a read of one
 * byte needs no SO_RCVLOWAT (the kernel waits for at most that byte), and
 * the try that found the socket empty proved it a socket: the wait asks
 * no fstat. */
Test(watch_cost, socket_reads_ask_neither_lowat_nor_kind)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd,
		 "LD_PRELOAD=%s NOLEAK_MODE=audit NOLEAK_READ_WARN=30 "
		 "NOLEAK_LOG=%s/log exec %s %d", shim_path(), tmpdir(),
		 top("build/fixtures/wd_recv_loop"), RECVS);
	const char *t = trace_calls("getsockopt,fstat,recvfrom", cmd);
	cr_assert_geq(count_lines_with(t, "recvfrom(40,"), RECVS, "%s", t);
	cr_expect_eq(count_lines_with(t, "SO_RCVLOWAT"), 0,
		     "a one-byte read asks SO_RCVLOWAT");
	/* dup2() records the fd, the first read learns its kind: no more. */
	cr_expect_leq(count_lines_with(t, "fstat(40,"), 2,
		      "a waiting socket read asks fstat every time");
}
