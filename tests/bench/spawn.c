/* Process-level timing for the benchmark: how long it takes to start a
 * program, by each of the ways a legacy program starts one.
 *
 *   spawn METHOD COUNT     runs /bin/true (or "true" through the shell)
 *                          COUNT times, in ten chunks, and prints the median
 *                          chunk's microseconds per spawn.
 *                          METHOD: forkexec, vfork, posix_spawn, system,
 *                          popen.
 *   spawn run CMD [ARG...] runs CMD once and prints "<elapsed µs> <max RSS
 *                          KiB>" of it and its waited-for descendants.
 *
 * Every BENCH_CHILD_<NAME>=<value> variable becomes <NAME>=<value> for the
 * children only: that is how the start-up figure preloads a library into
 * /bin/true without preloading it into this driver as well. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "median.h"

extern char **environ;

#define CHILD_PREFIX "BENCH_CHILD_"
#define WARMUP 20
#define CHUNKS 10      /* the figure is the median of the chunks' means */

static const char *const true_argv[] = { "/bin/true", NULL };

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Move BENCH_CHILD_X=v to X=v.  Done once, before any timing. */
static void export_child_vars(void)
{
	for (;;) {
		char *found = NULL;
		for (char **e = environ; *e; e++)
			if (strncmp(*e, CHILD_PREFIX, strlen(CHILD_PREFIX)) == 0) {
				found = *e;
				break;
			}
		if (!found)
			return;
		char *entry = strdup(found + strlen(CHILD_PREFIX));
		char *eq = entry ? strchr(entry, '=') : NULL;
		char *name = strndup(found, strcspn(found, "="));
		if (!eq || !name) {
			fprintf(stderr, "spawn: bad variable %s\n", found);
			exit(2);
		}
		*eq = '\0';
		setenv(entry, eq + 1, 1);
		unsetenv(name);
		free(entry);
		free(name);
	}
}

static int waited_ok(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int by_forkexec(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		execve(true_argv[0], (char **)true_argv, environ);
		_exit(127);
	}
	return pid > 0 && waited_ok(pid);
}

static int by_vfork(void)
{
	pid_t pid = vfork();
	if (pid == 0) {
		execve(true_argv[0], (char **)true_argv, environ);
		_exit(127);
	}
	return pid > 0 && waited_ok(pid);
}

static int by_posix_spawn(void)
{
	pid_t pid;
	if (posix_spawn(&pid, true_argv[0], NULL, NULL, (char **)true_argv,
			environ) != 0)
		return 0;
	return waited_ok(pid);
}

static int by_system(void)
{
	int st = system("true");
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int by_popen(void)
{
	FILE *f = popen("true", "r");
	if (!f)
		return 0;
	int st = pclose(f);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

struct method {
	const char *name;
	int (*spawn_one)(void);
};

static const struct method methods[] = {
	{ "forkexec", by_forkexec },
	{ "vfork", by_vfork },
	{ "posix_spawn", by_posix_spawn },
	{ "system", by_system },
	{ "popen", by_popen },
};

static int time_method(const struct method *m, long count)
{
	for (int i = 0; i < WARMUP; i++)
		if (!m->spawn_one()) {
			fprintf(stderr, "spawn: %s of /bin/true failed\n", m->name);
			return 1;
		}
	long per = count >= CHUNKS ? count / CHUNKS : 1;
	double us[CHUNKS];
	for (int c = 0; c < CHUNKS; c++) {
		double t0 = now_us();
		for (long i = 0; i < per; i++)
			if (!m->spawn_one()) {
				fprintf(stderr, "spawn: %s of /bin/true failed\n", m->name);
				return 1;
			}
		us[c] = (now_us() - t0) / per;
	}
	printf("%.2f\n", median(us, CHUNKS));
	return 0;
}

/* One run of a whole command: elapsed time and peak memory. */
static int time_command(char **argv)
{
	pid_t pid;
	double t0 = now_us();
	int err = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (err) {
		fprintf(stderr, "spawn: %s: %s\n", argv[0], strerror(err));
		return 1;
	}
	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR)
			return 1;
	double t1 = now_us();
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "spawn: %s failed (status %d)\n", argv[0], st);
		return 1;
	}
	printf("%.0f %ld\n", t1 - t0, ru.ru_maxrss);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: spawn METHOD COUNT | spawn run CMD [ARG...]\n");
		return 2;
	}
	export_child_vars();
	if (strcmp(argv[1], "run") == 0)
		return time_command(argv + 2);
	long count = strtol(argv[2], NULL, 10);
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (strcmp(argv[1], methods[i].name) == 0)
			return count > 0 ? time_method(&methods[i], count) : 2;
	fprintf(stderr, "spawn: unknown method %s\n", argv[1]);
	return 2;
}
