/* Per-call costs for the benchmark, in nanoseconds per operation.
 *
 *   micro [MS [FIGURE...]]
 *
 * Runs each figure (all of them when none is named) for about MS
 * milliseconds of timed work (default 100) and prints "<figure> <ns/op>",
 * one line each: the median over the figure's batches of calls.  The same binary is run with and without LD_PRELOAD; only
 * the calls under test are inside the timed span: refilling a pipe or a
 * socket happens between two clock readings, so a read figure is the read
 * alone.  Sockets are local only (a socketpair, and TCP on 127.0.0.1).
 *
 * MICRO_POLICY_CALLS=1 (run without the shim): the creating figures make,
 * by hand, the system calls the shim's policy adds to them under enforce
 * (close-on-exec asked for at creation, one fstat per fd made, and for a
 * TCP connection the identity checks, both ends' timeouts and the
 * connecting end's keepalive), the TCP pair read from is given the
 * options the shim gives a connection (the kernel's cost of reading from a
 * socket with a timeout), and the 1-byte pipe read is made the way the
 * read watchdog makes it.  That run is the floor of the policy itself:
 * the shim cannot cost less than the calls its policy needs.  The list
 * mirrors the shim's, which tests/it counts call by call. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "median.h"

#define SMALL_BATCH 16384          /* 1-byte reads per refill */
#define BIG_READ (64 * 1024)
#define PIPE_WANT (1024 * 1024)    /* room for 16 big reads per refill */
#define CREATE_BATCH 1000
#define MAX_BATCHES 100000

static char buf[PIPE_WANT];
static int rd = -1, wr = -1;       /* the pair under test, per figure */
static int pipe_room;              /* bytes the pipe holds */
static int by_hand;                /* MICRO_POLICY_CALLS: the policy's calls */

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* --- the policy's own calls, made by hand (MICRO_POLICY_CALLS) --- */

static int cloexec_flag(void)
{
	return by_hand ? O_CLOEXEC : 0;
}

/* The identity behind the close-on-exec flag the policy adds: the fstat
 * system call itself, as the shim makes it (glibc's fstat is newfstatat). */
static void hand_identity(int fd)
{
	struct stat st;
	if (by_hand && syscall(SYS_fstat, fd, &st) < 0)
		die("micro: fstat");
}

static void hand_setsockopt(int fd, int level, int name, int v)
{
	if (setsockopt(fd, level, name, &v, sizeof v) < 0)
		die("micro: setsockopt");
}

/* Both ends of a connection: the read and write timeouts (300 s). */
static void hand_timeouts(int fd)
{
	struct timeval tv = { 300, 0 };
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
		die("micro: setsockopt timeouts");
}

/* Connected: the socket is still the one made, then the policy. */
static void hand_connected(int fd)
{
	if (!by_hand)
		return;
	hand_identity(fd);
	hand_timeouts(fd);
	hand_setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	hand_setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, 60);
	hand_setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, 10);
	hand_setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, 6);
}

/* Accepted: its identity, the listener still the one whose keepalive it
 * inherits, the timeouts. */
static void hand_accepted(int fd, int from)
{
	if (!by_hand)
		return;
	hand_identity(fd);
	hand_identity(from);
	hand_timeouts(fd);
}

static void write_all(int fd, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w <= 0)
			die("micro: refill");
		n -= (size_t)w;
	}
}

/* Wait until `n` bytes are readable on rd: TCP may still be moving them. */
static void wait_readable(size_t n)
{
	for (;;) {
		int avail = 0;
		if (ioctl(rd, FIONREAD, &avail) < 0)
			die("micro: FIONREAD");
		if ((size_t)avail >= n)
			return;
		struct pollfd p = { .fd = rd, .events = POLLIN };
		poll(&p, 1, 10);
	}
}

static void close_pair(void)
{
	if (rd >= 0)
		close(rd);
	if (wr >= 0 && wr != rd)
		close(wr);
	rd = wr = -1;
}

/* --- set-ups --- */

static void setup_pipe(void)
{
	int p[2];
	if (pipe(p) < 0)
		die("micro: pipe");
	rd = p[0];
	wr = p[1];
	int room = fcntl(wr, F_SETPIPE_SZ, PIPE_WANT);
	pipe_room = room > 0 ? room : fcntl(wr, F_GETPIPE_SZ);
	if (pipe_room <= 0)
		pipe_room = BIG_READ;
}

static void setup_socketpair(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		die("micro: socketpair");
	rd = sv[0];
	wr = sv[1];
}

static void setup_tcp(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof a;
	int lst = socket(AF_INET, SOCK_STREAM, 0);
	if (lst < 0 || bind(lst, (struct sockaddr *)&a, sizeof a) < 0 ||
	    listen(lst, 1) < 0 || getsockname(lst, (struct sockaddr *)&a, &len) < 0)
		die("micro: listen on 127.0.0.1");
	wr = socket(AF_INET, SOCK_STREAM, 0);
	if (wr < 0 || connect(wr, (struct sockaddr *)&a, sizeof a) < 0)
		die("micro: connect to 127.0.0.1");
	hand_connected(wr);
	rd = accept(lst, NULL, NULL);
	if (rd < 0)
		die("micro: accept");
	hand_accepted(rd, lst);
	/* The first socket accepted from a fresh listener gets the keepalive
	 * itself (the listener only at its second accept). */
	if (by_hand) {
		hand_setsockopt(rd, SOL_SOCKET, SO_KEEPALIVE, 1);
		hand_setsockopt(rd, IPPROTO_TCP, TCP_KEEPIDLE, 60);
		hand_setsockopt(rd, IPPROTO_TCP, TCP_KEEPINTVL, 10);
		hand_setsockopt(rd, IPPROTO_TCP, TCP_KEEPCNT, 6);
	}
	close(lst);
	int one = 1;
	setsockopt(wr, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* --- timed batches: each returns the operations done, adds their time --- */

/* A pipe read as the read watchdog makes it (audit with read_warn): a
 * try that cannot block, preadv2(RWF_NOWAIT), which finds the byte. */
static ssize_t read_1(void)
{
	if (!by_hand)
		return read(rd, buf, 1);
	struct iovec v = { buf, 1 };
	return preadv2(rd, &v, 1, -1, RWF_NOWAIT);
}

static long batch_read_small(double *ns)
{
	write_all(wr, SMALL_BATCH);
	wait_readable(SMALL_BATCH);
	double t0 = now_ns();
	for (int i = 0; i < SMALL_BATCH; i++)
		if (read_1() != 1)
			die("micro: read");
	*ns += now_ns() - t0;
	return SMALL_BATCH;
}

static long batch_recv_small(double *ns)
{
	write_all(wr, SMALL_BATCH);
	wait_readable(SMALL_BATCH);
	double t0 = now_ns();
	for (int i = 0; i < SMALL_BATCH; i++)
		if (recv(rd, buf, 1, 0) != 1)
			die("micro: recv");
	*ns += now_ns() - t0;
	return SMALL_BATCH;
}

static long batch_read_big(double *ns)
{
	int reads = pipe_room / BIG_READ;
	if (reads < 1)
		reads = 1;
	write_all(wr, (size_t)reads * BIG_READ);
	double t0 = now_ns();
	for (int i = 0; i < reads; i++)
		if (read(rd, buf, BIG_READ) != BIG_READ)
			die("micro: read 64 KiB");
	*ns += now_ns() - t0;
	return reads;
}

static long batch_open_close(double *ns)
{
	double t0 = now_ns();
	for (int i = 0; i < CREATE_BATCH; i++) {
		int fd = open("/dev/null", O_RDONLY | cloexec_flag());
		if (fd < 0)
			die("micro: open");
		hand_identity(fd);
		close(fd);
	}
	*ns += now_ns() - t0;
	return CREATE_BATCH;
}

static long batch_pipe_close(double *ns)
{
	double t0 = now_ns();
	for (int i = 0; i < CREATE_BATCH; i++) {
		int p[2];
		if (pipe2(p, cloexec_flag()) < 0)
			die("micro: pipe");
		hand_identity(p[0]);
		hand_identity(p[1]);
		close(p[0]);
		close(p[1]);
	}
	*ns += now_ns() - t0;
	return CREATE_BATCH;
}

static long socket_close(double *ns, int domain)
{
	double t0 = now_ns();
	for (int i = 0; i < CREATE_BATCH; i++) {
		int fd = socket(domain, SOCK_STREAM | cloexec_flag(), 0);
		if (fd < 0)
			die("micro: socket");
		hand_identity(fd);
		close(fd);
	}
	*ns += now_ns() - t0;
	return CREATE_BATCH;
}

/* A short-lived TCP connection on 127.0.0.1: socket, connect, accept and
 * both closes, the set-up every accepted and connected socket pays. */
#define CONNECT_BATCH 200
static int listener = -1;
static struct sockaddr_in listen_addr;

static void setup_listener(void)
{
	socklen_t len = sizeof listen_addr;
	listen_addr.sin_family = AF_INET;
	listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0 ||
	    bind(listener, (struct sockaddr *)&listen_addr, sizeof listen_addr) < 0 ||
	    listen(listener, CONNECT_BATCH) < 0 ||
	    getsockname(listener, (struct sockaddr *)&listen_addr, &len) < 0)
		die("micro: listen on 127.0.0.1");
}

static long batch_tcp_connect_accept(double *ns)
{
	double t0 = now_ns();
	for (int i = 0; i < CONNECT_BATCH; i++) {
		int c = socket(AF_INET, SOCK_STREAM | cloexec_flag(), 0);
		if (c < 0)
			die("micro: socket");
		hand_identity(c);
		if (connect(c, (struct sockaddr *)&listen_addr,
			    sizeof listen_addr) < 0)
			die("micro: connect to 127.0.0.1");
		hand_connected(c);
		int a = accept4(listener, NULL, NULL, cloexec_flag());
		if (a < 0)
			die("micro: accept");
		hand_accepted(a, listener);
		close(a);
		close(c);
	}
	*ns += now_ns() - t0;
	return CONNECT_BATCH;
}

static long batch_socket_tcp_close(double *ns) { return socket_close(ns, AF_INET); }
static long batch_socket_unix_close(double *ns) { return socket_close(ns, AF_UNIX); }

/* One row per figure: the name run.sh knows it by, its set-up, its batch. */
struct figure {
	const char *name;
	void (*setup)(void);
	long (*batch)(double *ns);
};

static const struct figure figures[] = {
	{ "read_1", setup_pipe, batch_read_small },
	{ "read_64k", setup_pipe, batch_read_big },
	{ "recv_unix", setup_socketpair, batch_recv_small },
	{ "recv_tcp", setup_tcp, batch_recv_small },
	{ "open_close", NULL, batch_open_close },
	{ "pipe_close", NULL, batch_pipe_close },
	{ "socket_tcp_close", NULL, batch_socket_tcp_close },
	{ "socket_unix_close", NULL, batch_socket_unix_close },
	{ "tcp_connect_accept", setup_listener, batch_tcp_connect_accept },
};

static double per_batch[MAX_BATCHES];

static void run_figure(const struct figure *f, double ms)
{
	if (f->setup)
		f->setup();
	double warm = 0, ns = 0;
	int n = 0;
	while (warm < ms * 1e5)  /* a tenth of the time, untimed */
		f->batch(&warm);
	while (ns < ms * 1e6 && n < MAX_BATCHES) {
		double before = ns;
		long ops = f->batch(&ns);
		per_batch[n++] = (ns - before) / ops;
	}
	close_pair();
	printf("%s %.2f\n", f->name, median(per_batch, n));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	double ms = argc > 1 ? atof(argv[1]) : 100;
	const char *hand = getenv("MICRO_POLICY_CALLS");
	by_hand = hand && *hand && strcmp(hand, "0") != 0;
	if (ms <= 0)
		ms = 100;
	size_t n = sizeof figures / sizeof figures[0];
	for (size_t i = 0; i < n; i++) {
		int wanted = argc <= 2;
		for (int a = 2; a < argc; a++)
			wanted |= strcmp(argv[a], figures[i].name) == 0;
		if (wanted)
			run_figure(&figures[i], ms);
	}
	return 0;
}
