/* stress FDLIST [PROBE PROOF]: 8 threads, each creating 5,000 fds the legacy way (no
 * close-on-exec) and spawning 500 children, all at the same time.
 *
 * Every child is FDLIST --only 0,1,2: it exits 1 when it was handed any fd
 * besides stdin, stdout and stderr.  Children are started by fork+execv,
 * vfork+execv and posix_spawn in turn, while the other threads keep pipes,
 * sockets and files open for a moment at any time.  At the end the process
 * checks that it holds exactly the fds it started with.
 *
 * Prints "spawned=N exec_failed=N leaky_children=N crashed_children=N
 * parent_fds=same|changed"; exits 0 only when every child ran.  With PROBE
 * PROOF it finally runs PROBE PROOF, which records whether this process
 * carries the shim (see probe.c). */
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

#define THREADS 8
#define FDS_PER_THREAD 5000
#define SPAWNS_PER_THREAD 500

extern char **environ;

static const char *fdlist;
static int spawned, exec_failed, leaky, crashed;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

/* Opens one or two fds without close-on-exec, by one of several calls, and
 * returns how many it stored in fds[]. */
static int create_fds(int i, int fds[2])
{
	switch (i % 5) {
	case 0:
		return pipe(fds) == 0 ? 2 : 0;
	case 1:
		return socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0 ? 2 : 0;
	case 2:
		fds[0] = open("/dev/null", O_RDONLY);
		return fds[0] >= 0;
	case 3:
		fds[0] = socket(AF_INET, SOCK_DGRAM, 0);
		return fds[0] >= 0;
	default:
		fds[0] = eventfd(0, 0);
		return fds[0] >= 0;
	}
}

static pid_t spawn_child(int i)
{
	char *argv[] = { (char *)fdlist, "--only", "0,1,2", "child", NULL };
	pid_t pid = -1;
	switch (i % 3) {
	case 0:
		pid = fork();
		if (pid == 0) {
			execv(fdlist, argv);
			_exit(127);
		}
		return pid;
	case 1:
		pid = vfork();
		if (pid == 0) {
			execv(fdlist, argv);
			_exit(127);
		}
		return pid;
	default:
		if (posix_spawn(&pid, fdlist, NULL, NULL, argv, environ) != 0)
			return -1;
		return pid;
	}
}

static void count_child(pid_t pid)
{
	int status;
	pthread_mutex_lock(&count_lock);
	spawned++;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		exec_failed++;
	else if (WIFSIGNALED(status))
		crashed++;
	else if (WEXITSTATUS(status) == 127)
		exec_failed++;
	else if (WEXITSTATUS(status) != 0)
		leaky++;
	pthread_mutex_unlock(&count_lock);
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	for (int i = 0; i < FDS_PER_THREAD; i++) {
		int fds[2];
		int n = create_fds(i + id, fds);
		/* Hold the fds across a spawn every tenth round: the race the
		 * shim must win is another thread exec'ing while they exist. */
		if (i % (FDS_PER_THREAD / SPAWNS_PER_THREAD) == 0)
			count_child(spawn_child(i / 10 + id));
		for (int k = 0; k < n; k++)
			close(fds[k]);
	}
	return NULL;
}

static int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: stress FDLIST [PROBE PROOF]\n");
		return 2;
	}
	fdlist = argv[1];
	int before = count_open_fds();
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i) != 0) {
			perror("pthread_create");
			return 2;
		}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	int after = count_open_fds();
	if (argc == 4) {
		char *probe[] = { argv[2], argv[3], NULL };
		pid_t pid;
		if (posix_spawn(&pid, argv[2], NULL, NULL, probe, environ) == 0)
			waitpid(pid, NULL, 0);
	}
	printf("spawned=%d exec_failed=%d leaky_children=%d crashed_children=%d parent_fds=%s\n",
	       spawned, exec_failed, leaky, crashed, before == after ? "same" : "changed");
	return spawned == THREADS * SPAWNS_PER_THREAD && exec_failed == 0 && crashed == 0 ? 0 : 1;
}
