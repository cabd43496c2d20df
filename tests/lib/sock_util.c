/* Helpers of the socket integration tests: see sock_util.h. */
#include "sock_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

extern char **environ;

double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int env_drop(const char *e)
{
	return (!strncmp(e, "NOLEAK_", 7) && strncmp(e, "NOLEAK_TOP=", 11)) ||
	       !strncmp(e, "LD_PRELOAD=", 11);
}

int bg_start(struct bg *b, char *const argv[], char *const env[], int shim)
{
	static char pre[4200];
	char *envp[512];
	int n = 0;
	memset(b, 0, sizeof *b);
	b->out = -1;
	for (char **e = environ; *e && n < 400; e++)
		if (!env_drop(*e))
			envp[n++] = *e;
	for (int i = 0; env && env[i] && n < 500; i++)
		envp[n++] = env[i];
	if (shim) {
		snprintf(pre, sizeof pre, "LD_PRELOAD=%s", shim_path());
		envp[n++] = pre;
	}
	envp[n] = NULL;
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setpgid(0, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	setpgid(pid, pid);
	close(p[1]);
	b->pid = pid;
	b->out = p[0];
	return 0;
}

static const char *find_line(struct bg *b, const char *prefix)
{
	static char line[1024];
	size_t pl = strlen(prefix);
	for (const char *s = b->text; *s;) {
		const char *nl = strchr(s, '\n');
		if (!nl)
			break;  /* only whole lines */
		size_t len = (size_t)(nl - s);
		if (len >= pl && !strncmp(s, prefix, pl)) {
			snprintf(line, sizeof line, "%.*s", (int)len, s);
			return line;
		}
		s = nl + 1;
	}
	return NULL;
}

const char *bg_line(struct bg *b, const char *prefix, double timeout_s)
{
	double end = mono_now() + timeout_s;
	for (;;) {
		const char *l = find_line(b, prefix);
		if (l)
			return l;
		double left = end - mono_now();
		if (left <= 0 || b->out < 0)
			return NULL;
		struct pollfd p = { b->out, POLLIN, 0 };
		if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		ssize_t r = read(b->out, b->text + b->len,
				 sizeof b->text - 1 - b->len);
		if (r <= 0) {
			close(b->out);
			b->out = -1;
			continue;
		}
		b->len += (size_t)r;
		b->text[b->len] = 0;
	}
}

void bg_stop(struct bg *b)
{
	if (b->pid > 0) {
		kill(-b->pid, SIGKILL);
		kill(b->pid, SIGKILL);
		waitpid(b->pid, NULL, 0);
		b->pid = 0;
	}
	if (b->out >= 0)
		close(b->out);
	b->out = -1;
}

int tcp_connect_local(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a)) {
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}
