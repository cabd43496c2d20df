/* What the exec sweep costs, counted rather than timed (a count does not
 * flake on a loaded machine): an exec that keeps stdio and the fds next to
 * it plans in the caller's frame, with no scratch mapping (mmap, its page
 * fault, munmap) before every exec. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"

TestSuite(fd_exec_cost, .timeout = 60);

Test(fd_exec_cost, stdio_only_exec_maps_nothing)
{
	char cmd[8192];
	/* env execs /bin/true through the shim's execvp; fds 3 and 4 are
	 * open and inheritable, as a jobserver's would be. */
	snprintf(cmd, sizeof cmd,
		 "exec 3</dev/null 4</dev/null; LD_PRELOAD=%s "
		 "NOLEAK_MODE=enforce exec env /bin/true", shim_path());
	const char *t = trace_calls("mmap,execve", cmd);
	cr_assert(strstr(t, "execve(\"/bin/true\"") != NULL, "%s", t);
	cr_expect_eq(count_lines_with(t, "mmap(NULL, 4096, PROT_READ|PROT_WRITE, "
					 "MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)"), 0,
		     "a scratch page mapped for the exec sweep:\n%s", t);
}
