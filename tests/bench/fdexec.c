/* exec with many open fds: what cleaning up before exec costs, and whether
 * that cost grows with RLIMIT_NOFILE.
 *
 *   fdexec MODE NOFILE COUNT
 *
 * Opens FDS inheritable fds (dups of /dev/null), sets the soft RLIMIT_NOFILE
 * to NOFILE (a number, or "max": the largest hard limit this process may
 * have), then fork+execve's /bin/true COUNT times, in ten chunks, and prints
 * "<median chunk's microseconds per exec> <soft limit set>".  MODE:
 *   plain  the child execs at once (under LD_PRELOAD, the shim's sweep runs)
 *   naive  the child first closes every fd from 3 to the limit, one close()
 *          each, the way legacy daemons do it
 * LD_PRELOAD is removed from the environment given to /bin/true, so the
 * figure is the parent's and the exec sweep's cost, not the start-up cost of
 * the preload in the new program (that is the start-up figure). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "median.h"

extern char **environ;

#define FDS 1000
#define WARMUP 10
#define CHUNKS 10      /* the figure is the median of the chunks' means */

static char *child_env[4096];

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void drop_preload_from_child_env(void)
{
	size_t n = 0;
	for (char **e = environ; *e && n + 1 < sizeof child_env / sizeof *child_env; e++)
		if (strncmp(*e, "LD_PRELOAD=", 11) != 0)
			child_env[n++] = *e;
	child_env[n] = NULL;
}

/* The machine's ceiling for a hard limit (fs.nr_open), or 0. */
static rlim_t nr_open(void)
{
	FILE *f = fopen("/proc/sys/fs/nr_open", "r");
	unsigned long v = 0;
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* Raise the hard limit as far as allowed (root may go to nr_open; others,
 * and sandboxes, keep what they have), then set the soft limit. */
static int set_nofile(const char *want, rlim_t *got)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (strcmp(want, "max") == 0) {
		rlim_t ceiling = nr_open();
		if (ceiling > rl.rlim_max) {
			struct rlimit up = { ceiling, ceiling };
			if (setrlimit(RLIMIT_NOFILE, &up) == 0)
				rl = up;
		}
		rl.rlim_cur = rl.rlim_max;
	} else {
		rl.rlim_cur = strtoul(want, NULL, 10);
		if (rl.rlim_cur > rl.rlim_max)
			rl.rlim_cur = rl.rlim_max;
	}
	*got = rl.rlim_cur;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

static int open_inheritable_fds(void)
{
	int null = open("/dev/null", O_RDONLY);
	if (null < 0)
		return -1;
	/* Plain dup(), as a legacy program writes it: inheritable as far as
	 * the program knows.  Under the shim they get FD_CLOEXEC at birth; an
	 * explicit F_SETFD 0 would instead tell the shim they are passed on
	 * purpose, which is not the leak this figure is about. */
	for (int i = 1; i < FDS; i++)
		if (dup(null) < 0)
			return -1;
	return 0;
}

static int exec_once(int naive, long limit)
{
	static const char *const argv[] = { "/bin/true", NULL };
	pid_t pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		if (naive)
			for (long fd = 3; fd < limit; fd++)
				close((int)fd);
		execve(argv[0], (char **)argv, child_env);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[1], "plain") && strcmp(argv[1], "naive"))) {
		fprintf(stderr, "usage: fdexec plain|naive NOFILE|max COUNT\n");
		return 2;
	}
	int naive = strcmp(argv[1], "naive") == 0;
	long count = strtol(argv[3], NULL, 10);
	rlim_t limit;
	if (count <= 0 || set_nofile(argv[2], &limit) < 0) {
		perror("fdexec: RLIMIT_NOFILE");
		return 2;
	}
	if (open_inheritable_fds() < 0) {
		perror("fdexec: opening fds");
		return 2;
	}
	drop_preload_from_child_env();
	for (int i = 0; i < WARMUP; i++)
		if (!exec_once(naive, (long)limit)) {
			fprintf(stderr, "fdexec: exec of /bin/true failed\n");
			return 1;
		}
	long per = count >= CHUNKS ? count / CHUNKS : 1;
	double us[CHUNKS];
	for (int c = 0; c < CHUNKS; c++) {
		double t0 = now_us();
		for (long i = 0; i < per; i++)
			if (!exec_once(naive, (long)limit)) {
				fprintf(stderr, "fdexec: exec of /bin/true failed\n");
				return 1;
			}
		us[c] = (now_us() - t0) / per;
	}
	/* The limit actually set follows the figure, so the table can name it. */
	printf("%.2f %lu\n", median(us, CHUNKS), (unsigned long)limit);
	return 0;
}
