/* Incident 5, the dead terminal.
 *
 * A legacy server first reads console commands from stdin until
 * end-of-file (an operator pipes a command file into it), then serves.
 * Started in the background from a terminal session with `setsid server &`,
 * its stdin is a terminal that is no longer anyone's: nobody will type or
 * send end-of-file, so the server waits at its console forever and never
 * serves a single request.
 *
 * Usage: dead_stdin serve              listen on 127.0.0.1 (a port the
 *                                      kernel picks; prints it), read
 *                                      commands from stdin, then serve
 *        dead_stdin terminal CMD...    start CMD the way `setsid CMD &`
 *                                      from a terminal session does: stdin
 *                                      on a pseudo-terminal, no controlling
 *                                      terminal; then keep the terminal
 *                                      open, with nobody at it
 *        dead_stdin ask PORT [SECONDS] send a request, wait up to SECONDS
 *                                      (default 3) for the answer */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return a;
}

static void read_console(void)
{
	printf("server: reading console commands from stdin\n");
	fflush(stdout);
	char buf[256];
	for (;;) {
		ssize_t n = read(0, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		printf("server: console command: %.*s", (int)n, buf);
	}
	printf("server: console closed\n");
	fflush(stdout);
}

static int serve(void)
{
	struct sockaddr_in a = loopback(0);
	socklen_t len = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 ||
	    listen(l, 16) < 0 || getsockname(l, (struct sockaddr *)&a, &len) < 0) {
		perror("server: listen");
		return 2;
	}
	printf("server: listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
	read_console();
	printf("server: serving\n");
	fflush(stdout);
	for (;;) {
		int c = accept(l, NULL, NULL);
		if (c < 0)
			continue;
		(void)!write(c, "ok\n", 3);
		close(c);
		printf("server: answered a request\n");
		fflush(stdout);
	}
}

static int terminal(char **cmd)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
		perror("terminal: posix_openpt");
		return 2;
	}
	const char *slave = ptsname(master);
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		int fd = open(slave, O_RDWR | O_NOCTTY);
		if (fd < 0)
			_exit(126);
		dup2(fd, 0);
		close(fd);
		close(master);
		execvp(cmd[0], cmd);
		_exit(127);
	}
	printf("terminal: %s is the server's stdin; nobody is at it\n", slave);
	fflush(stdout);
	int st;
	waitpid(pid, &st, 0);
	return 0;
}

static int ask(int port, double wait_s)
{
	struct sockaddr_in a = loopback(port);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("client: connect");
		return 2;
	}
	double t0 = now();
	struct pollfd p = { s, POLLIN, 0 };
	char buf[16];
	if (poll(&p, 1, (int)(wait_s * 1000)) == 1 && read(s, buf, sizeof buf) > 0) {
		printf("client: answered after %.1f s\n", now() - t0);
		return 0;
	}
	printf("client: no answer after %.1f s\n", now() - t0);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "serve"))
		return serve();
	if (argc >= 3 && !strcmp(argv[1], "terminal"))
		return terminal(argv + 2);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "ask"))
		return ask(atoi(argv[2]), argc == 4 ? atof(argv[3]) : 3.0);
	fprintf(stderr, "usage: dead_stdin serve | terminal CMD... | "
			"ask PORT [SECONDS]\n");
	return 2;
}
