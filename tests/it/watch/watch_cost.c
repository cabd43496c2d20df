/* What a watched read costs, counted in system calls rather than timed (a
 * count does not flake on a loaded machine): dd bs=1 from /dev/zero under
 * audit with read_warn.  /dev/zero is no terminal: the watchdog learns that
 * once per fd (one TCGETS), not at every read. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"

#define BYTES 500

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
