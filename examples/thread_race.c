/* Incident 3, the thread race.
 *
 * A legacy server is careful: every pipe it makes gets close-on-exec with
 * fcntl() right after pipe().  But one thread makes pipes while another
 * forks and execs helpers, and a fork that lands between the pipe() and the
 * fcntl() hands the pipe to the helper anyway, where it keeps a reader from
 * ever seeing end-of-file.
 *
 * Usage: thread_race [N]   run N helpers (default 300) while a second
 *                          thread makes pipes; each helper is this program
 *                          again, which counts the pipes it was handed */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int done;

/* The helper: how many pipes it holds besides stdin, stdout and stderr. */
static int count_pipes(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[64], target[64];
		int fd = atoi(e->d_name);
		if (fd <= 2 || fd == dirfd(d))
			continue;
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		ssize_t len = readlink(path, target, sizeof target - 1);
		if (len > 0 && !strncmp(target, "pipe:", 5))
			n++;
	}
	closedir(d);
	return n;
}

/* A worker that talks to itself through short-lived pipes. */
static void *pipe_maker(void *arg)
{
	(void)arg;
	while (!done) {
		int p[2];
		if (pipe(p) < 0)
			continue;
		/* the window: a fork in another thread right now copies
		 * both ends without close-on-exec */
		fcntl(p[0], F_SETFD, FD_CLOEXEC);
		fcntl(p[1], F_SETFD, FD_CLOEXEC);
		(void)!write(p[1], "x", 1);
		char c;
		(void)!read(p[0], &c, 1);
		close(p[0]);
		close(p[1]);
	}
	return NULL;
}

static int run_helper(const char *self)
{
	pid_t pid = fork();
	if (pid == 0) {
		execl(self, "thread_race", "--helper", (char *)NULL);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 0;
	return WEXITSTATUS(st);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--helper"))
		return count_pipes();

	int n = argc > 1 ? atoi(argv[1]) : 300;
	/* Pipes the server itself was handed by whoever started it reach
	 * every helper; only the ones on top of those count. */
	int inherited = run_helper("/proc/self/exe");
	pthread_t t;
	pthread_create(&t, NULL, pipe_maker, NULL);

	int leaky = 0, pipes = 0;
	for (int i = 0; i < n; i++) {
		int held = run_helper("/proc/self/exe") - inherited;
		leaky += held > 0;
		pipes += held > 0 ? held : 0;
	}
	done = 1;
	pthread_join(t, NULL);
	printf("server: %d of %d helpers were handed a pipe they should not "
	       "have (%d pipe fds in all)\n", leaky, n, pipes);
	return 0;
}
