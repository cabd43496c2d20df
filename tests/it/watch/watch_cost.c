/* What a watched read costs, counted in system calls rather than timed (a
 * count does not flake on a loaded machine): dd bs=1 from /dev/zero under
 * audit with read_warn.  /dev/zero is no terminal: the watchdog learns that
 * once per fd (one TCGETS), not at every read.  Traced with strace when it
 * is installed. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"

#define BYTES 500

TestSuite(watch_cost, .timeout = 60);

Test(watch_cost, char_device_reads_ask_once)
{
	if (access("/usr/bin/strace", X_OK) != 0)
		cr_skip_test("strace is not installed");
	static struct run_result r;
	char trace[4096], cmd[8192];
	snprintf(trace, sizeof trace, "%s/trace", tmpdir());
	snprintf(cmd, sizeof cmd,
		 "exec strace -qq -e trace=ioctl,read -o %s env LD_PRELOAD=%s "
		 "NOLEAK_MODE=audit NOLEAK_READ_WARN=30 NOLEAK_LOG=%s/log "
		 "dd if=/dev/zero of=/dev/null bs=1 count=%d status=none",
		 trace, shim_path(), tmpdir(), BYTES);
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, 30.0), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	const char *t = slurp(trace);
	cr_assert_geq(count_lines_with(t, "read(0, \"\\0\", 1)"), BYTES, "%s", t);
	cr_expect_leq(count_lines_with(t, "ioctl(0,"), 2,
		      "dd bs=1 asks its input's kind at every read");
}
