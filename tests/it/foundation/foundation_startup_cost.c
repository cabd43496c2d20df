/* What start-up costs every process, in counts rather than time (a count
 * does not flake on a loaded machine): the page faults of /bin/true under
 * the shim beside the empty preload, and the memory start-up maps.
 *
 * Page faults: the fewest of 20 runs of each (address-space layout
 * randomisation moves a fault or two from run to run).  The shim's own
 * start-up touches its state on pages the loader has already written; what
 * is left is its code and read-only data being mapped in, and the page of
 * the policy.  The bound leaves room for one or two more, not for state
 * spread over pages of its own again. */
#include <criterion/criterion.h>

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/run.h"

#define RUNS 20
#define MAX_ADDED_FAULTS 7

TestSuite(foundation_startup_cost, .timeout = 120);

/* The fewest minor faults of /bin/true with `preload` over RUNS runs, its
 * fds 0-2 only. */
static long fewest_faults(const char *preload)
{
	char pre[4096];
	snprintf(pre, sizeof pre, "LD_PRELOAD=%s", preload);
	char *envp[] = { pre, "NOLEAK_CONFIG=/nonexistent/noleak.conf", NULL };
	char *argv[] = { "/bin/true", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	for (int fd = 3; fd < 64; fd++)
		posix_spawn_file_actions_addclose(&fa, fd);
	long fewest = -1;
	for (int i = 0; i < RUNS; i++) {
		pid_t pid;
		int st;
		struct rusage ru;
		cr_assert_eq(posix_spawn(&pid, "/bin/true", &fa, NULL, argv, envp), 0);
		cr_assert_eq(wait4(pid, &st, 0, &ru), pid);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		if (fewest < 0 || ru.ru_minflt < fewest)
			fewest = ru.ru_minflt;
	}
	posix_spawn_file_actions_destroy(&fa);
	return fewest;
}

Test(foundation_startup_cost, page_faults_near_the_empty_preload)
{
	long empty = fewest_faults(top("build/empty.so"));
	long shim = fewest_faults(shim_path());
	cr_expect_leq(shim - empty, MAX_ADDED_FAULTS,
		      "start-up of /bin/true: %ld page faults under the shim, "
		      "%ld under the empty preload", shim, empty);
}

/* Without a config file, start-up maps no buffer to read one into: the
 * only mmap calls of /bin/true are the loader's and libc's. */
Test(foundation_startup_cost, no_config_no_mapping)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd,
		 "LD_PRELOAD=%s NOLEAK_CONFIG=%s/none.conf exec /bin/true",
		 shim_path(), tmpdir());
	const char *t = trace_calls("mmap", cmd);
	cr_assert(strstr(t, "mmap") != NULL, "nothing traced");
	cr_expect_eq(count_lines_with(t, "65536"), 0,
		     "a 64 KiB mapping at start-up without a config file:\n%s", t);
}
