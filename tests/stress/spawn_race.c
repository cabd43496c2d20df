/* The two posix_spawn races of a parent-side sweep, for `make stress`.
 *
 *   spawn_race setfd ROUNDS     a thread makes a pipe with O_CLOEXEC, clears
 *                               the flag of its write end with F_SETFD 0 and
 *                               spawns a child that must hold that end,
 *                               while two other threads keep spawning;
 *   spawn_race cloexec ROUNDS   a thread keeps reopening fd N, alternately
 *                               a file opened without O_CLOEXEC and another
 *                               opened with it, while another spawns
 *                               children named `--status-fd N`: none may
 *                               ever hold the O_CLOEXEC file (four such
 *                               pairs of threads, each on its own N).
 *
 * Prints "MODE: rounds=R failures=F" and exits 1 on any failure.  Without
 * the shim both count 0 failures; a sweep decided in the parent fails now
 * and then (it re-marks the cleared pipe end close-on-exec behind the
 * thread's back, or passes fd N by a number chosen before the other
 * thread reopened it). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char self[PATH_MAX], plain_file[PATH_MAX], cloexec_file[PATH_MAX];
static atomic_int stop;
static atomic_long failures;

static int child(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	int fd = atoi(argv[3]);
	if (strcmp(argv[2], "must") == 0)
		return fcntl(fd, F_GETFD) >= 0 ? 0 : 1;
	/* deny N: fd N must not be the O_CLOEXEC file. */
	char link[64], target[PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof target - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	return strcmp(target, cloexec_file) == 0 ? 1 : 0;
}

static int spawn_wait(char *const argv[])
{
	pid_t pid;
	int r = posix_spawn(&pid, self, NULL, NULL, argv, environ);
	if (r != 0)
		return -1;
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Spawns /bin/true until told to stop: each spawn is a sweep. */
static void *spawner(void *arg)
{
	(void)arg;
	char *argv[] = { "true", NULL };
	while (!atomic_load(&stop)) {
		pid_t pid;
		if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) == 0)
			waitpid(pid, NULL, 0);
	}
	return NULL;
}

static void race_setfd(long rounds)
{
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, spawner, NULL);
	for (long i = 0; i < rounds; i++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			continue;
		fcntl(p[1], F_SETFD, 0);
		char num[16];
		snprintf(num, sizeof num, "%d", p[1]);
		char *argv[] = { "spawn_race", "child", "must", num, NULL };
		if (spawn_wait(argv) != 0)
			atomic_fetch_add(&failures, 1);
		close(p[0]);
		close(p[1]);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
}

/* Pairs of a reopening thread and a spawning thread, each on an fd number
 * of its own. */
#define PAIRS 4

struct pair {
	int fd;
	int plain_src, cloexec_src;
	long rounds;
};

/* Reopens p->fd: a copy made without close-on-exec (enforce adds it, so it
 * is the shim's to take off for a named fd), then one made with it. */
static void *reopener(void *arg)
{
	struct pair *p = arg;
	while (!atomic_load(&stop)) {
		int fd = fcntl(p->plain_src, F_DUPFD, p->fd);
		if (fd >= 0 && fd != p->fd)
			close(fd);
		close(p->fd);
		fd = fcntl(p->cloexec_src, F_DUPFD_CLOEXEC, p->fd);
		if (fd >= 0 && fd != p->fd)
			close(fd);
		close(p->fd);
	}
	return NULL;
}

static void *named_spawner(void *arg)
{
	struct pair *p = arg;
	char num[16];
	snprintf(num, sizeof num, "%d", p->fd);
	char *argv[] = { "spawn_race", "child", "deny", num, "--status-fd", num, NULL };
	for (long i = 0; i < p->rounds; i++)
		if (spawn_wait(argv) != 0)
			atomic_fetch_add(&failures, 1);
	return NULL;
}

static void race_cloexec(long rounds)
{
	/* Many close-on-exec fds: a sweep that logs walks them all between
	 * its plan and the child, which widens the window of the race. */
	for (int i = 0; i < 2000; i++)
		if (open("/dev/null", O_RDONLY | O_CLOEXEC) < 0)
			break;
	struct pair pairs[PAIRS];
	pthread_t re[PAIRS], sp[PAIRS];
	for (int i = 0; i < PAIRS; i++) {
		pairs[i].fd = 3000 + 10 * i;
		pairs[i].plain_src = open(plain_file, O_RDONLY | O_CLOEXEC);
		pairs[i].cloexec_src = open(cloexec_file, O_RDONLY | O_CLOEXEC);
		pairs[i].rounds = (rounds + PAIRS - 1) / PAIRS;
		pthread_create(&re[i], NULL, reopener, &pairs[i]);
		pthread_create(&sp[i], NULL, named_spawner, &pairs[i]);
	}
	for (int i = 0; i < PAIRS; i++)
		pthread_join(sp[i], NULL);
	atomic_store(&stop, 1);
	for (int i = 0; i < PAIRS; i++)
		pthread_join(re[i], NULL);
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(plain_file, sizeof plain_file, "%s/spawn_race-plain", tmp);
	snprintf(cloexec_file, sizeof cloexec_file, "%s/spawn_race-cloexec", tmp);
	if (argc >= 2 && strcmp(argv[1], "child") == 0)
		return child(argc, argv);
	if (argc != 3 || !realpath("/proc/self/exe", self)) {
		fprintf(stderr, "usage: spawn_race setfd|cloexec ROUNDS\n");
		return 2;
	}
	for (int i = 0; i < 2; i++) {
		FILE *f = fopen(i ? cloexec_file : plain_file, "we");
		if (!f)
			return 2;
		fclose(f);
	}
	long rounds = atol(argv[2]);
	if (strcmp(argv[1], "setfd") == 0)
		race_setfd(rounds);
	else if (strcmp(argv[1], "cloexec") == 0)
		race_cloexec(rounds);
	else
		return 2;
	long f = atomic_load(&failures);
	printf("%s: rounds=%ld failures=%ld\n", argv[1], rounds, f);
	return f ? 1 : 0;
}
