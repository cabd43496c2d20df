/* Incident 2, the killed shell that leaves its grandchild behind.
 *
 * A legacy agent listens on a port and runs jobs through the shell.  When a
 * job takes too long it kills the shell it spawned, but the shell's
 * backgrounded grandchild lives on, and since the listening socket was made
 * without close-on-exec it still holds the agent's port: the agent cannot be
 * restarted until someone finds and kills a stray `sleep`.
 *
 * Usage: killed_shell          listen on 127.0.0.1 (a port the kernel
 *                              picks), become a daemon, run the job, kill it
 *        killed_shell rebind PORT
 *                              try to bind 127.0.0.1:PORT again, as a
 *                              restarted agent would */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define JOB "sleep 30 & sleep 30"

static int bind_loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM, 0);  /* no SOCK_CLOEXEC */
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
		int e = errno;
		if (s >= 0)
			close(s);
		errno = e;
		return -1;
	}
	return s;
}

static int port_of(int s)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	if (getsockname(s, (struct sockaddr *)&a, &len) < 0)
		return -1;
	return ntohs(a.sin_port);
}

/* What a restarted agent does first. */
static int rebind(int port)
{
	int s = bind_loopback(port);
	if (s < 0) {
		printf("new agent: cannot bind 127.0.0.1:%d: %s\n", port,
		       strerror(errno));
		return 1;
	}
	printf("new agent: bound 127.0.0.1:%d again\n", port);
	close(s);
	return 0;
}

static int agent(void)
{
	int s = bind_loopback(0);
	if (s < 0 || listen(s, 16) < 0) {
		perror("agent: listen");
		return 2;
	}
	printf("agent: listening on 127.0.0.1:%d\n", port_of(s));
	fflush(stdout);

	if (setsid() < 0)  /* detach from the terminal, like a daemon */
		perror("agent: setsid");

	pid_t shell = fork();
	if (shell == 0) {
		execl("/bin/sh", "sh", "-c", JOB, (char *)NULL);
		_exit(127);
	}
	printf("agent: started shell %d: sh -c '%s'\n", (int)shell, JOB);
	fflush(stdout);
	usleep(300 * 1000);  /* the job "takes too long" */

	kill(shell, SIGTERM);
	int st;
	waitpid(shell, &st, 0);
	if (WIFSIGNALED(st))
		printf("agent: killed shell %d (signal %d); exiting\n",
		       (int)shell, WTERMSIG(st));
	else
		printf("agent: shell %d ended with status %d; exiting\n",
		       (int)shell, WEXITSTATUS(st));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "rebind"))
		return rebind(atoi(argv[2]));
	if (argc != 1) {
		fprintf(stderr, "usage: killed_shell [rebind PORT]\n");
		return 2;
	}
	return agent();
}
