/* Incident 1, the pipe-EOF hang.
 *
 * A legacy agent runs a command and collects its output until end-of-file.
 * The command starts a background job.  The agent's pipe was created
 * without close-on-exec and the child never closed its copy of the write
 * end before exec'ing the shell, so the background job inherits it: the
 * agent's read() sees EOF only when the job exits, long after the command
 * finished.
 *
 * Usage: pipe_eof_hang [command]   (default: a job that lives 3 seconds) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1]
				   : "echo 'command: done'; sleep 3 >/dev/null 2>&1 &";
	int p[2];
	if (pipe(p) < 0)
		return 1;
	double start = now();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);  /* the original p[1] is never closed */
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char buf[512];
	ssize_t n;
	while ((n = read(p[0], buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	waitpid(pid, NULL, 0);
	printf("agent: output complete after %.1f s\n", now() - start);
	return 0;
}
