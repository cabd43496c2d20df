/* Threads creating, duplicating and closing fds while others start
 * programs every way the shim interposes.
 *
 *   stress SECONDS CHECKER [EARLY_MAIN]
 *
 * 16 churn threads create fds without O_CLOEXEC (pipe, socket, socketpair,
 * open, dup, fcntl F_DUPFD, eventfd, epoll_create1), keep a few and close
 * them at random.  At the same time, one thread each starts CHECKER by:
 *
 *   fork + execve, vfork + execve, posix_spawn, system(), popen();
 *   CPython's way: vfork, ioctl(FIONCLEX) on the fd to pass,
 *     close_range() around it, execve;
 *   Java's way: vfork, dup2 of a pipe onto stdout, close_range(3, ~0),
 *     execve;
 *   (with EARLY_MAIN) a program whose library constructor creates fds and
 *     runs CHECKER before libnoleak's own initialisation.
 *
 * CHECKER fails when it finds any fd it was not meant to get.  At the end
 * every thread is joined and the fds of this process must be the ones it
 * had at the start.  Prints one line per way ("fork: runs=N failures=0")
 * and "fds: baseline=B end=E", and exits 1 on any failure. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define CHURN_THREADS 16
#define CHURN_KEEP 6

static const char *checker, *early_main;
static atomic_int stop;
static char tmp_dir[256];

enum way { W_FORK, W_VFORK, W_SPAWN, W_SYSTEM, W_POPEN, W_CPYTHON, W_JAVA,
	   W_EARLY, W_COUNT };
static const char *const way_names[W_COUNT] = {
	"fork", "vfork", "posix_spawn", "system", "popen", "cpython_vfork",
	"java_vfork", "early_ctor",
};
static atomic_long runs[W_COUNT], failures[W_COUNT];

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
			n++;
	closedir(d);
	return n - 1;   /* not the listing's own */
}

/* --- churn --- */

static unsigned next_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

static int make_fd(unsigned r, int *extra)
{
	int p[2];
	*extra = -1;
	switch (r % 8) {
	case 0:
		if (pipe(p))
			return -1;
		*extra = p[1];
		return p[0];
	case 1:
		return socket(AF_UNIX, SOCK_STREAM, 0);
	case 2:
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, p))
			return -1;
		*extra = p[1];
		return p[0];
	case 3:
		return open("/dev/null", O_RDONLY);
	case 4: {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0)
			return -1;
		int d = dup(fd);
		close(fd);
		return d;
	}
	case 5: {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0)
			return -1;
		int d = fcntl(fd, F_DUPFD, 10);
		close(fd);
		return d;
	}
	case 6:
		return eventfd(0, 0);
	default:
		return epoll_create1(0);
	}
}

static void *churn(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u;
	int held[CHURN_KEEP * 2];
	for (int i = 0; i < CHURN_KEEP * 2; i++)
		held[i] = -1;
	while (!atomic_load(&stop)) {
		unsigned r = next_rand(&seed);
		int slot = (int)(r % CHURN_KEEP) * 2;
		if (held[slot] >= 0)
			close(held[slot]);
		if (held[slot + 1] >= 0)
			close(held[slot + 1]);
		held[slot] = make_fd(next_rand(&seed), &held[slot + 1]);
	}
	for (int i = 0; i < CHURN_KEEP * 2; i++)
		if (held[i] >= 0)
			close(held[i]);
	return NULL;
}

/* --- starting the checker --- */

static int status_of(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int via_fork(void)
{
	char *argv[] = { (char *)checker, NULL };
	pid_t pid = fork();
	if (pid == 0) {
		execve(checker, argv, environ);
		_exit(127);
	}
	return pid < 0 ? -1 : status_of(pid);
}

static int via_vfork(void)
{
	char *argv[] = { (char *)checker, NULL };
	pid_t pid = vfork();
	if (pid == 0) {
		execve(checker, argv, environ);
		_exit(127);
	}
	return pid < 0 ? -1 : status_of(pid);
}

static int via_spawn(void)
{
	char *argv[] = { (char *)checker, NULL };
	pid_t pid;
	if (posix_spawn(&pid, checker, NULL, NULL, argv, environ))
		return -1;
	return status_of(pid);
}

static int via_system(void)
{
	int st = system(checker);
	return st < 0 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static int read_ok(int fd)
{
	char buf[16];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return 0;
		n += (size_t)r;
	}
	buf[n] = 0;
	return !strcmp(buf, "ok\n");
}

static int via_popen(void)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s --say", checker);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	char line[64] = "";
	if (!fgets(line, sizeof line, f))
		line[0] = 0;
	int st = pclose(f);
	if (strcmp(line, "ok\n"))
		return 1;
	return st < 0 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

/* CPython's _posixsubprocess: the fd to keep is made inheritable in the
 * vfork child with ioctl(FIONCLEX), everything else above 2 is closed with
 * close_range around it. */
static int via_cpython(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return -1;
	char fd_arg[16];
	snprintf(fd_arg, sizeof fd_arg, "%d", p[1]);
	char *argv[] = { (char *)checker, "--write", fd_arg, NULL };
	pid_t pid = vfork();
	if (pid == 0) {
		if (ioctl(p[1], FIONCLEX, 0))
			_exit(126);
		if (p[1] > 3)
			syscall(SYS_close_range, 3, p[1] - 1, 0);
		syscall(SYS_close_range, p[1] + 1, ~0U, 0);
		execve(checker, argv, environ);
		_exit(127);
	}
	close(p[1]);
	int ok = pid > 0 && read_ok(p[0]);
	close(p[0]);
	int st = pid < 0 ? -1 : status_of(pid);
	return st ? st : ok ? 0 : 1;
}

/* Java's childproc.c: the pipe goes onto stdout in the vfork child, every
 * other fd above 2 is closed, then exec. */
static int via_java(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return -1;
	char *argv[] = { (char *)checker, "--say", NULL };
	pid_t pid = vfork();
	if (pid == 0) {
		if (dup2(p[1], 1) != 1)
			_exit(126);
		syscall(SYS_close_range, 3, ~0U, 0);
		execve(checker, argv, environ);
		_exit(127);
	}
	close(p[1]);
	int ok = pid > 0 && read_ok(p[0]);
	close(p[0]);
	int st = pid < 0 ? -1 : status_of(pid);
	return st ? st : ok ? 0 : 1;
}

/* found_early.so's constructor creates fds and runs the checker before
 * libnoleak has initialised; its report must show the checker passed and
 * the early fds close-on-exec. */
static int via_early(long n)
{
	char out[512], out_env[600], checker_env[600];
	snprintf(out, sizeof out, "%s/early.%ld", tmp_dir, n);
	snprintf(out_env, sizeof out_env, "FOUND_EARLY_OUT=%s", out);
	snprintf(checker_env, sizeof checker_env, "FOUND_EARLY_CHECKER=%s", checker);
	int k = 0;
	while (environ[k])
		k++;
	char **env = calloc((size_t)k + 3, sizeof *env);
	if (!env)
		return -1;
	memcpy(env, environ, (size_t)k * sizeof *env);
	env[k] = out_env;
	env[k + 1] = checker_env;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	char *argv[] = { (char *)early_main, NULL };
	pid_t pid;
	int r = posix_spawn(&pid, early_main, &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	if (r)
		return -1;
	int st = status_of(pid);
	char text[4096] = "";
	int fd = open(out, O_RDONLY);
	if (fd >= 0) {
		ssize_t len = read(fd, text, sizeof text - 1);
		text[len > 0 ? len : 0] = 0;
		close(fd);
	}
	unlink(out);
	if (st || !strstr(text, "early: child_status=0"))
		return st ? st : 1;
	/* "early: cloexec 4=1 5=1 6=1 7=1": every early fd got the flag. */
	char *c = strstr(text, "early: cloexec ");
	if (!c)
		return 1;
	c[strcspn(c, "\n")] = 0;
	return strstr(c, "=0") ? 1 : 0;
}

static void *starter(void *arg)
{
	enum way w = (enum way)(uintptr_t)arg;
	while (!atomic_load(&stop)) {
		long n = atomic_fetch_add(&runs[w], 1);
		int st;
		switch (w) {
		case W_FORK: st = via_fork(); break;
		case W_VFORK: st = via_vfork(); break;
		case W_SPAWN: st = via_spawn(); break;
		case W_SYSTEM: st = via_system(); break;
		case W_POPEN: st = via_popen(); break;
		case W_CPYTHON: st = via_cpython(); break;
		case W_JAVA: st = via_java(); break;
		default: st = via_early(n); break;
		}
		if (st) {
			if (atomic_fetch_add(&failures[w], 1) < 3)
				fprintf(stderr, "stress: %s run %ld: status %d\n",
					way_names[w], n, st);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4)
		return 2;
	int seconds = atoi(argv[1]);
	checker = argv[2];
	early_main = argc == 4 ? argv[3] : NULL;
	snprintf(tmp_dir, sizeof tmp_dir, "/tmp/noleak-stress.XXXXXX");
	if (!mkdtemp(tmp_dir))
		return 2;
	signal(SIGPIPE, SIG_IGN);

	int baseline = count_fds();
	pthread_t th[CHURN_THREADS + W_COUNT];
	int n = 0;
	for (int i = 0; i < CHURN_THREADS; i++)
		if (!pthread_create(&th[n], NULL, churn, (void *)(uintptr_t)(i + 1)))
			n++;
	for (int w = 0; w < W_COUNT; w++) {
		if (w == W_EARLY && !early_main)
			continue;
		if (!pthread_create(&th[n], NULL, starter, (void *)(uintptr_t)w))
			n++;
	}
	struct timespec ts = { seconds, 0 };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	atomic_store(&stop, 1);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	int end = count_fds();
	rmdir(tmp_dir);

	long total_fail = 0;
	for (int w = 0; w < W_COUNT; w++) {
		if (w == W_EARLY && !early_main)
			continue;
		printf("%s: runs=%ld failures=%ld\n", way_names[w],
		       atomic_load(&runs[w]), atomic_load(&failures[w]));
		total_fail += atomic_load(&failures[w]);
		if (atomic_load(&runs[w]) == 0)
			total_fail++;
	}
	printf("fds: baseline=%d end=%d\n", baseline, end);
	if (end != baseline)
		total_fail++;
	return total_fail ? 1 : 0;
}
