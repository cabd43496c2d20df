/* What audit mode costs the processes of a fork-heavy shell loop, in page
 * faults rather than time (a count does not flake on a loaded machine; a
 * page fault costs 15-22 us on a virtual machine, a system call about 1).
 * The loop is the one `make bench` times against strace -f:
 *
 *   while ...; do /bin/true; cat /dev/null | cat; done
 *
 * Every process of it pays the shim's start-up; a cat also creates an fd or
 * reads a pipe, which in audit mode (read_warn 30 by default) goes through
 * the read watchdog.  The shim's state that these touch lives on pages the
 * loader has already written (common/forkdata.h): the log's owner pid, the
 * fd table's and the socket table's pointers were each a .bss page of
 * their own, faulted in by a read and then written; the fd table's first
 * page is mapped in writable with its mapping.
 *
 * Counted by the kernel's page-fault software event (perf_event_open,
 * inherited by the children): the exceptions themselves; getrusage() also
 * counts the pages madvise(MADV_POPULATE_READ) maps in with one call.  Each
 * count is the fewest of RUNS runs (address-space layout randomisation
 * moves a fault or two from run to run), under the shim in audit mode with
 * a log file, minus the same under the empty preload. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <linux/perf_event.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../fixtures/foundation/fault_counter.h"
#include "../../lib/run.h"

#define RUNS 40
/* One cat: the shim's start-up and its first fd or pipe read.  Were 5
 * (cat /dev/null) and 7 (reading a pipe) more than under the empty
 * preload; now 3 (the loader's work on a larger library, the first code
 * page, the clock's page for the watchdog). */
#define MAX_ADDED_CAT_FAULTS 4
/* The loop, per iteration (three processes, two forks, one vfork):
 * about 21 before, 11 to 15 now from run to run on a loaded machine (the
 * shell and its child race for copies of the pages they share). */
#define LOOP_ITERATIONS 30
#define MAX_ADDED_LOOP_FAULTS 16

TestSuite(foundation_audit_cost, .timeout = 180);

/* The fewest page faults of argv (and its children) over RUNS runs, with
 * `preload` in audit mode, its fds 0-2 only.  stdin: an empty pipe closed
 * at its other end (pipe_in), else /dev/null. */
static long fewest_faults(const char *preload, char *const argv[],
			  int pipe_in)
{
	char pre[4096], log[4096];
	snprintf(pre, sizeof pre, "LD_PRELOAD=%s", preload);
	snprintf(log, sizeof log, "NOLEAK_LOG=%s/audit.log", tmpdir());
	char *envp[] = { pre, "NOLEAK_MODE=audit", log,
			 "NOLEAK_CONFIG=/nonexistent/noleak.conf",
			 "PATH=/usr/bin:/bin", NULL };
	long fewest = -1;
	for (int i = 0; i < RUNS; i++) {
		int p[2];
		cr_assert_eq(pipe(p), 0);
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		if (pipe_in)
			posix_spawn_file_actions_adddup2(&fa, p[0], 0);
		else
			posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
							 O_RDONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null",
						 O_WRONLY, 0);
		/* every fd above 2: a runner's fd above 63 would give the
		 * program a large fd table (fdtable.c reads /proc then) */
		posix_spawn_file_actions_addclosefrom_np(&fa, 3);
		int counter = fault_counter();
		if (counter < 0)
			cr_skip_test("no perf page-fault event here");
		pid_t pid;
		int st;
		ioctl(counter, PERF_EVENT_IOC_ENABLE, 0);
		cr_assert_eq(posix_spawn(&pid, argv[0], &fa, NULL, argv, envp), 0);
		close(p[0]);
		close(p[1]);
		cr_assert_eq(waitpid(pid, &st, 0), pid);
		ioctl(counter, PERF_EVENT_IOC_DISABLE, 0);
		posix_spawn_file_actions_destroy(&fa);
		uint64_t n = 0;
		cr_assert_eq(read(counter, &n, sizeof n), (ssize_t)sizeof n);
		close(counter);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s failed",
			  argv[0]);
		if (fewest < 0 || (long)n < fewest)
			fewest = (long)n;
	}
	return fewest;
}

static long added_faults(char *const argv[], int pipe_in)
{
	long empty = fewest_faults(top("build/empty.so"), argv, pipe_in);
	long shim = fewest_faults(shim_path(), argv, pipe_in);
	cr_log_info("%s: %ld page faults under the shim, %ld under the empty "
		    "preload", argv[0], shim, empty);
	return shim - empty;
}

/* The reading end of a pipe: the watchdog's look at the fd and its wait. */
Test(foundation_audit_cost, cat_reading_a_pipe)
{
	char *argv[] = { "/bin/cat", NULL };
	long added = added_faults(argv, 1);
	cr_expect_leq(added, MAX_ADDED_CAT_FAULTS,
		      "cat reading a pipe under audit: %ld page faults more "
		      "than under the empty preload", added);
}

/* An fd created (the fd table) and read (its kind, once). */
Test(foundation_audit_cost, cat_opening_a_file)
{
	char *argv[] = { "/bin/cat", "/dev/null", NULL };
	long added = added_faults(argv, 0);
	cr_expect_leq(added, MAX_ADDED_CAT_FAULTS,
		      "cat /dev/null under audit: %ld page faults more than "
		      "under the empty preload", added);
}

Test(foundation_audit_cost, shell_loop_per_iteration)
{
	char n[16];
	snprintf(n, sizeof n, "%d", LOOP_ITERATIONS);
	char *argv[] = { "/bin/sh", "-c",
			 "i=0; while [ $i -lt $1 ]; do /bin/true; "
			 "cat /dev/null | cat; i=$((i+1)); done",
			 "sh", n, NULL };
	double added = (double)added_faults(argv, 0) / LOOP_ITERATIONS;
	cr_expect_leq(added, MAX_ADDED_LOOP_FAULTS,
		      "sh loop under audit: %.1f page faults per iteration "
		      "more than under the empty preload", added);
}
