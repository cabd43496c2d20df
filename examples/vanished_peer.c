/* Incident 4, the vanished peer.
 *
 * A legacy server handles one client at a time: accept, read a request
 * line, reply, close.  It never set a timeout, so when a client sends half
 * a request and goes silent without closing (a pulled cable, a dead VM),
 * the server waits in read() forever and never serves anyone again.
 *
 * Usage: vanished_peer server        serve on 127.0.0.1 (a port the kernel
 *                                    picks; prints it), forever
 *        vanished_peer silent PORT   connect, send half a request, go silent
 *        vanished_peer client PORT [SECONDS]
 *                                    send a whole request; wait up to
 *                                    SECONDS (default 5) for the reply */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

/* Reads up to '\n': 1 with a line, 0 at end-of-file, -1 on an error. */
static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, 1);
		if (r <= 0)
			return (int)r;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = 0;
	return 1;
}

static int server(void)
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
	fflush(stdout);
	for (;;) {
		int c = accept(l, NULL, NULL);
		if (c < 0)
			continue;
		char req[256];
		double t0 = now();
		int r = read_line(c, req, sizeof req);
		if (r > 0) {
			(void)!write(c, "ok\n", 3);
			printf("server: served %s", req);
		} else if (r < 0) {
			printf("server: read failed after %.1f s (%s); dropping "
			       "that client\n", now() - t0, strerror(errno));
		}
		fflush(stdout);
		close(c);
	}
}

static int connect_to(int port)
{
	struct sockaddr_in a = loopback(port);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("connect");
		exit(2);
	}
	return s;
}

/* The client that vanished: it never finishes and never closes. */
static int silent(int port)
{
	int s = connect_to(port);
	(void)!write(s, "GET /ha", 7);
	printf("silent client: sent half a request, now silent\n");
	fflush(stdout);
	pause();  /* until killed */
	close(s);
	return 0;
}

static int client(int port, double wait_s)
{
	int s = connect_to(port);
	double t0 = now();
	(void)!write(s, "GET /next\n", 10);
	struct pollfd p = { s, POLLIN, 0 };
	char buf[16] = "";
	if (poll(&p, 1, (int)(wait_s * 1000)) == 1 &&
	    read(s, buf, sizeof buf - 1) > 0) {
		printf("next client: served after %.1f s\n", now() - t0);
		return 0;
	}
	printf("next client: no answer after %.1f s\n", now() - t0);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "server"))
		return server();
	if (argc == 3 && !strcmp(argv[1], "silent"))
		return silent(atoi(argv[2]));
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "client"))
		return client(atoi(argv[2]), argc == 4 ? atof(argv[3]) : 5.0);
	fprintf(stderr, "usage: vanished_peer server | silent PORT | "
			"client PORT [SECONDS]\n");
	return 2;
}
