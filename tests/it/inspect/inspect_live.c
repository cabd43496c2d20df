/* noleak inspect on live, hung fixtures: it must name the process that
 * holds the other end of the blocked fd, the socket peer and its TCP
 * state, a terminal that is gone, and do so whether or not the fixture
 * runs under the shim (the tool reads /proc, the target needs nothing). */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/files.h"
#include "../../lib/run.h"

#define TIMEOUT 20.0
#define NOBODY 65534

struct fixture {
	pid_t pid;
	char line[512];
};

static struct run_result r;

/* Start build/fixtures/NAME [ARG [ARG2]] in a process group of its own,
 * with the shim or without, as root or as `uid`; returns once it printed
 * its line. */
static void start_args(struct fixture *f, const char *name, const char *arg,
		       const char *arg2, int shim, uid_t uid)
{
	int out[2];
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	char path[4096];
	snprintf(path, sizeof path, "%s", top("build/fixtures/"));
	strncat(path, name, sizeof path - strlen(path) - 1);
	/* Another user may not reach the source tree (/root, a 0700
	 * directory): that user runs a copy. */
	if (uid)
		snprintf(path, sizeof path, "%s", copy_for_anyone(path));
	char pre[4200];
	snprintf(pre, sizeof pre, "%s", shim_path());
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		setpgid(0, 0);
		dup2(out[1], 1);
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		if (shim)
			setenv("LD_PRELOAD", pre, 1);
		else
			unsetenv("LD_PRELOAD");
		if (uid && (setgid(uid) || setuid(uid)))
			_exit(126);
		execl(path, name, arg, arg2, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	f->pid = pid;
	size_t n = 0;
	struct pollfd p = { out[0], POLLIN, 0 };
	while (n < sizeof f->line - 1 && !strchr(f->line, '\n') &&
	       poll(&p, 1, 5000) > 0) {
		ssize_t k = read(out[0], f->line + n, sizeof f->line - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
		f->line[n] = 0;
	}
	close(out[0]);
	cr_assert(strchr(f->line, '\n'), "%s printed nothing: \"%s\"", name,
		  f->line);
}

static void start_as(struct fixture *f, const char *name, const char *arg,
		     int shim, uid_t uid)
{
	start_args(f, name, arg, NULL, shim, uid);
}

static void start(struct fixture *f, const char *name, const char *arg,
		  int shim)
{
	start_as(f, name, arg, shim, 0);
}

static void stop(struct fixture *f)
{
	kill(-f->pid, SIGKILL);
	waitpid(f->pid, NULL, 0);
}

/* Until thread `tid` of `pid` sleeps (it printed its line just before
 * blocking). */
static void wait_sleeping(pid_t pid, pid_t tid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	for (int i = 0; i < 200; i++) {
		snprintf(buf, sizeof buf, "%s", slurp(path));
		const char *p = strrchr(buf, ')');
		if (p && p[2] == 'S')
			return;
		usleep(10000);
	}
	cr_assert_fail("thread %d of %d never blocked", (int)tid, (int)pid);
}

/* Until `pid` is in the system call /proc/PID/syscall starts with `call`
 * ("0 0x3 ": read of fd 3), for up to 5 s. */
static void wait_in_syscall(pid_t pid, const char *call)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
	for (int i = 0; i < 500 && strncmp(slurp(path), call, strlen(call)); i++)
		usleep(10000);
}

/* noleak inspect ARGS..., as root or as `uid`. */
static void inspect_as(uid_t uid, const char *first, ...)
{
	char *argv[16];
	int n = 0;
	char u[32];
	if (uid) {
		snprintf(u, sizeof u, "--reuid=%d", (int)uid);
		argv[n++] = "setpriv";
		argv[n++] = u;
		argv[n++] = "--regid=65534";
		argv[n++] = "--clear-groups";
	}
	argv[n++] = (char *)(uid ? copy_for_anyone(top("build/noleak"))
				 : top("build/noleak"));
	argv[n++] = "inspect";
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "noleak inspect timed out");
}

#define inspect(...) inspect_as(0, __VA_ARGS__)

/* Some line of `text` contains every one of the NULL-terminated needles. */
static int line_with(const char *text, ...)
{
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		int all = 1;
		va_list ap;
		va_start(ap, text);
		for (const char *n = va_arg(ap, const char *); n;
		     n = va_arg(ap, const char *))
			if (!memmem(line, len, n, strlen(n)))
				all = 0;
		va_end(ap);
		if (all)
			return 1;
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

struct pipe_line {
	int pid, tid, child, grandchild, fd;
};

static struct pipe_line parse_pipe(const struct fixture *f)
{
	struct pipe_line p;
	cr_assert_eq(sscanf(f->line, "pid=%d tid=%d child=%d grandchild=%d fd=%d",
			    &p.pid, &p.tid, &p.child, &p.grandchild, &p.fd), 5,
		     "bad fixture line: %s", f->line);
	return p;
}

static void grandchild_named(int shim)
{
	struct fixture f;
	start(&f, "insp_pipe_holder", "grandchild", shim);
	struct pipe_line p = parse_pipe(&f);
	wait_sleeping(p.pid, p.tid);
	char pid[16], holder[96];
	snprintf(pid, sizeof pid, "%d", p.pid);
	snprintf(holder, sizeof holder, "pid %d (grandchild) fd %d (write end)",
		 p.grandchild, p.fd);
	inspect(pid, NULL);
	stop(&f);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_assert(line_with(r.out, "blocked in read(", "on fd 3", NULL), "%s", r.out);
	cr_assert(line_with(r.out, "fd 3: pipe:[", "read end", NULL), "%s", r.out);
	cr_assert(line_with(r.out, holder, "insp_pipe_holder", NULL),
		  "no \"%s\" in:\n%s", holder, r.out);
	/* Only the grandchild keeps the pipe open: the child closed it.
	 * (The report's later sections may list other pipes.) */
	char child[64], blocked[sizeof r.out];
	snprintf(child, sizeof child, "pid %d (child) fd", p.child);
	snprintf(blocked, sizeof blocked, "%s", r.out);
	char *later = strstr(blocked, "\ninheritable fds above 2");
	cr_assert_not_null(later);
	*later = 0;
	cr_assert(!line_with(blocked, child, NULL), "%s", r.out);
}

Test(inspect_pipe, names_the_grandchild_holding_the_write_end)
{
	grandchild_named(0);
}

Test(inspect_pipe, names_the_grandchild_under_the_shim)
{
	grandchild_named(1);
}

Test(inspect_pipe, lists_the_reparented_grandchild_as_an_orphan)
{
	struct fixture f;
	start(&f, "insp_pipe_holder", "orphan", 0);
	struct pipe_line p = parse_pipe(&f);
	wait_sleeping(p.pid, p.tid);
	char pid[16], holder[96], member[64];
	snprintf(pid, sizeof pid, "%d", p.pid);
	snprintf(holder, sizeof holder, "pid %d (other) fd %d (write end)",
		 p.grandchild, p.fd);
	snprintf(member, sizeof member, "  %d (other), parent ", p.grandchild);
	inspect(pid, NULL);
	stop(&f);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_assert(line_with(r.out, holder, NULL), "no \"%s\" in:\n%s", holder, r.out);
	cr_assert(line_with(r.out, member, "ORPHAN", NULL), "%s", r.out);
	cr_assert(line_with(r.out, "1 orphan(s)", NULL), "%s", r.out);
}

Test(inspect_pipe, lists_inheritable_fds_and_the_descendants_holding_them)
{
	struct fixture f;
	start(&f, "insp_pipe_holder", "grandchild", 0);
	struct pipe_line p = parse_pipe(&f);
	wait_sleeping(p.pid, p.tid);
	char pid[16], copy[96];
	snprintf(pid, sizeof pid, "%d", p.pid);
	snprintf(copy, sizeof copy, "pid %d (grandchild) fd %d (write end)",
		 p.grandchild, p.fd);
	inspect(pid, NULL);
	stop(&f);
	const char *inherit = strstr(r.out, "inheritable fds above 2");
	cr_assert_not_null(inherit, "%s", r.out);
	/* Without the shim the pipe's read end is inheritable, and the
	 * grandchild holds a copy of the pipe. */
	cr_assert(line_with(inherit, "fd 3: pipe:[", "inheritable", NULL), "%s", r.out);
	cr_assert(line_with(inherit, copy, NULL), "%s", r.out);
}

Test(inspect_pipe, reads_the_fds_of_a_poll_from_memory)
{
	struct fixture f;
	start(&f, "insp_tty_gone", NULL, 0);
	int p, tty, rd, wr;
	cr_assert_eq(sscanf(f.line, "pid=%d tty=%d read=%d write=%d", &p, &tty,
			    &rd, &wr), 4, "%s", f.line);
	wait_sleeping(p, p);
	char pid[16], poll_on[32], self[64];
	snprintf(pid, sizeof pid, "%d", p);
	snprintf(poll_on, sizeof poll_on, "on fd %d", rd);
	snprintf(self, sizeof self, "pid %d (self) fd %d (write end)", p, wr);
	inspect(pid, NULL);
	stop(&f);
	cr_assert(line_with(r.out, "blocked in poll(", poll_on, NULL), "%s", r.out);
	cr_assert(line_with(r.out, self, NULL), "%s", r.out);
}

static void tty_gone(int shim)
{
	struct fixture f;
	start(&f, "insp_tty_gone", NULL, shim);
	int p, tty, rd, wr;
	cr_assert_eq(sscanf(f.line, "pid=%d tty=%d read=%d write=%d", &p, &tty,
			    &rd, &wr), 4, "%s", f.line);
	wait_sleeping(p, p);
	char pid[16];
	snprintf(pid, sizeof pid, "%d", p);
	inspect(pid, NULL);
	stop(&f);
	cr_assert(line_with(r.out, "fd 9: /dev/pts/", "(deleted), tty", NULL),
		  "%s", r.out);
	cr_assert(line_with(r.out, "the terminal is gone", NULL), "%s", r.out);
}

Test(inspect_tty, says_the_terminal_is_gone)
{
	tty_gone(0);
}

Test(inspect_tty, says_the_terminal_is_gone_under_the_shim)
{
	tty_gone(1);
}

struct tcp_line {
	int pid, fd, local, peer, peer_pid;
};

static struct tcp_line parse_tcp(const struct fixture *f)
{
	struct tcp_line t;
	cr_assert_eq(sscanf(f->line, "pid=%d fd=%d local=127.0.0.1:%d "
			    "peer=127.0.0.1:%d peer_pid=%d", &t.pid, &t.fd,
			    &t.local, &t.peer, &t.peer_pid), 5,
		     "bad fixture line: %s", f->line);
	return t;
}

static void silent_peer(int shim)
{
	struct fixture f;
	start(&f, "insp_tcp_silent", NULL, shim);
	struct tcp_line t = parse_tcp(&f);
	wait_sleeping(t.pid, t.pid);
	char pid[16], conn[96], on[32], peer[64];
	snprintf(pid, sizeof pid, "%d", t.pid);
	snprintf(conn, sizeof conn, "tcp 127.0.0.1:%d -> 127.0.0.1:%d, ESTABLISHED",
		 t.local, t.peer);
	snprintf(on, sizeof on, "on fd %d", t.fd);
	snprintf(peer, sizeof peer, "pid %d (child) fd", t.peer_pid);
	inspect(pid, NULL);
	stop(&f);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_assert(line_with(r.out, "blocked in read(", on, NULL), "%s", r.out);
	cr_assert(line_with(r.out, conn, NULL), "no \"%s\" in:\n%s", conn, r.out);
	cr_assert(line_with(r.out, peer, "insp_tcp_silent", NULL), "%s", r.out);
}

Test(inspect_tcp, names_the_silent_peer_and_established)
{
	silent_peer(0);
}

Test(inspect_tcp, names_the_silent_peer_under_the_shim)
{
	silent_peer(1);
}

/* A UNIX socket's name, state and peer come from the socket (sock_diag),
 * never from /proc/net/unix, where a name is printed byte for byte: a
 * socket named "...\n0: 00000002 00000000 00010000 0001 01 INODE
 * @SPOOFED", which any user may bind, reads as a row of its own for
 * another's inode (a forged name, a LISTEN flag that hid the peer's
 * holders), and a name was cut at its first blank.  The fixture
 * insp_unix_named reads from a server bound at a name of the row's, while
 * nobody binds sockets forging rows for both ends' inodes; inspect runs as
 * root, in the fixture's network namespace (sock_diag) or in one of its
 * own (/proc/PID/net/unix, read exactly). */
struct unix_name_row {
	const char *name;        /* the server's, in a directory of its own */
	uid_t uid;               /* who runs the fixture and binds it */
	int shim;
	int spoof;               /* nobody forges rows for both ends */
	int netns;               /* inspect in a network namespace of its own:
				  * 1 without CAP_SYS_ADMIN (it cannot ask
				  * sock_diag in the fixture's), 2 root */
	const char *lines[4];    /* $D the server's directory, $I the
				  * accepted end's inode, $H its holder */
	const char *never[3];
};

/* Forks a process of uid 65534 that binds 32 sockets in `dir` for each
 * inode, named to forge a row claiming it (in the kernel's format, with a
 * LISTEN flag); returns its pid once bound. */
static pid_t spoof_rows(const char *dir, unsigned long ino1, unsigned long ino2)
{
	int ready[2];
	cr_assert_eq(pipe(ready), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(ready[0]);
		if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
			_exit(126);
		for (int i = 0; i < 64; i++) {
			struct sockaddr_un a = { .sun_family = AF_UNIX };
			snprintf(a.sun_path, sizeof a.sun_path, "%s/f%d\n0: "
				 "00000002 00000000 00010000 0001 01 %5lu "
				 "@SPOOFED", dir, i, i % 2 ? ino1 : ino2);
			int s = socket(AF_UNIX, SOCK_STREAM, 0);
			if (s < 0 || bind(s, (void *)&a, sizeof a))
				_exit(1);
		}
		(void)!write(ready[1], "", 1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	char c;
	cr_assert_eq(read(ready[0], &c, 1), 1, "the spoofer could not bind");
	close(ready[0]);
	return pid;
}

/* A directory in `base` that uid 65534 may bind sockets in. */
static const char *nobody_dir(const char *base, const char *name)
{
	static char dir[2][256];
	static int n;
	char *d = dir[n++ % 2];
	snprintf(d, sizeof dir[0], "%s/%s", base, name);
	cr_assert_eq(mkdir(d, 0700), 0);
	cr_assert_eq(chown(d, NOBODY, NOBODY), 0);
	return d;
}

static void unix_named(const struct unix_name_row *row)
{
	if (geteuid() != 0 || access("/usr/bin/unshare", X_OK) ||
	    access("/usr/bin/setpriv", X_OK))
		cr_skip_test("needs root (uid 65534 binds sockets), unshare and "
			     "setpriv");
	const char *base = tmpdir();
	cr_assert_eq(chmod(base, 0755), 0);
	const char *sdir = nobody_dir(base, "s");
	char path[256];
	snprintf(path, sizeof path, "%s/%s", sdir, row->name);
	struct fixture f;
	start_as(&f, "insp_unix_named", path, row->shim, row->uid);
	int pid, fd, holder;
	unsigned long cino, sino;
	cr_assert_eq(sscanf(f.line, "pid=%d fd=%d holder=%d client=%lu "
			    "server=%lu", &pid, &fd, &holder, &cino, &sino), 5,
		     "bad fixture line: %s", f.line);
	pid_t spoofer = row->spoof ? spoof_rows(nobody_dir(base, "f"), cino,
						sino) : 0;
	wait_sleeping(pid, pid);
	char num[16];
	snprintf(num, sizeof num, "%d", pid);
	if (row->netns == 1) {
		char *argv[] = { "unshare", "-n", "setpriv",
				 "--bounding-set=-sys_admin",
				 (char *)top("build/noleak"), "inspect", num, NULL };
		cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	} else if (row->netns) {
		char *argv[] = { "unshare", "-n", (char *)top("build/noleak"),
				 "inspect", num, NULL };
		cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	} else {
		inspect(num, NULL);
	}
	if (spoofer) {
		kill(spoofer, SIGKILL);
		waitpid(spoofer, NULL, 0);
	}
	stop(&f);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	char want[512];
	snprintf(want, sizeof want, "fd %d: socket:[%lu], socket", fd, cino);
	cr_expect(line_with(r.out, want, NULL), "no \"%s\" in:\n%s", want, r.out);
	for (int i = 0; i < 4 && row->lines[i]; i++) {
		size_t o = 0;
		for (const char *t = row->lines[i]; *t && o < sizeof want - 64; t++)
			if (t[0] == '$' && t[1] == 'D')
				o += (size_t)snprintf(want + o, sizeof want - o,
						      "%s", sdir), t++;
			else if (t[0] == '$' && t[1] == 'I')
				o += (size_t)snprintf(want + o, sizeof want - o,
						      "%lu", sino), t++;
			else if (t[0] == '$' && t[1] == 'H')
				o += (size_t)snprintf(want + o, sizeof want - o,
						      "%d", holder), t++;
			else
				want[o++] = *t;
		want[o] = 0;
		cr_expect(line_with(r.out, want, NULL), "no \"%s\" in:\n%s",
			  want, r.out);
	}
	for (int i = 0; i < 3 && row->never[i]; i++)
		cr_expect_null(strstr(r.out, row->never[i]), "\"%s\" in:\n%s",
			       row->never[i], r.out);
}

#define UNIX_NAME_ROW(name, ...) \
	Test(inspect_unix, name) \
	{ unix_named(&(struct unix_name_row){ __VA_ARGS__ }); }

/* The name whole (it was cut at the blank), the forged rows unheeded. */
#define BLANK_LINES { "unix (unnamed) -> $D/rv a.sock, CONNECTED", \
		      "peer socket:[$I] held by:", "pid $H (child) fd " }
UNIX_NAME_ROW(a_blank_in_the_name_and_forged_rows, "rv a.sock", 0, 0, 1, 0,
	      BLANK_LINES, { "SPOOFED", "LISTEN" })
UNIX_NAME_ROW(a_blank_in_the_name_and_forged_rows_under_the_shim, "rv a.sock",
	      0, 1, 1, 0, BLANK_LINES, { "SPOOFED", "LISTEN" })
/* A server of nobody's whose own name holds a newline and a row: the name
 * is printed whole, the newline escaped, on the line of the socket. */
#define NEWLINE_LINES { "unix (unnamed) -> $D/s\\x0a0: 2 0 10000 1 1 1 " \
			"@FORGED-by-nobody, CONNECTED", \
			"peer socket:[$I] held by:", "pid $H (child) fd " }
UNIX_NAME_ROW(a_newline_in_the_name_of_nobodys_server,
	      "s\n0: 2 0 10000 1 1 1 @FORGED-by-nobody", NOBODY, 0, 1, 0,
	      NEWLINE_LINES, { "SPOOFED", "LISTEN", "\n0: 2 0" })
UNIX_NAME_ROW(a_newline_in_the_name_of_nobodys_server_under_the_shim,
	      "s\n0: 2 0 10000 1 1 1 @FORGED-by-nobody", NOBODY, 1, 1, 0,
	      NEWLINE_LINES, { "SPOOFED", "LISTEN", "\n0: 2 0" })
/* Without sock_diag for it (another network namespace, which inspect
 * may not enter without CAP_SYS_ADMIN), the table: its rows read exactly,
 * and a forged second row for the inode makes the name and state unknown,
 * said so, never the forged ones.  The peer is on this host, not looked
 * up (it said "peer not on this host"). */
UNIX_NAME_ROW(the_table_without_sock_diag, "rv a.sock", 0, 0, 0, 1,
	      { "unix (unnamed) -> -, CONNECTED",
		"peer in another network namespace than inspect's: could not "
		"be looked up" },
	      { "SPOOFED", "LISTEN", "not found" })
/* Root asks sock_diag in the fixture's network namespace: the peer and
 * its holders as in inspect's own (it said "peer not on this host"). */
UNIX_NAME_ROW(sock_diag_in_the_processs_network_namespace, "rv a.sock", 0, 0,
	      0, 2, BLANK_LINES, { "SPOOFED", "LISTEN", "not on this host" })
UNIX_NAME_ROW(the_table_without_sock_diag_with_forged_rows, "rv a.sock", 0, 0,
	      1, 1,
	      { "unix ? -> -, ?",
		"/proc/net/unix lists its inode twice" },
	      { "SPOOFED", "LISTEN" })

/* A Python expression on the JSON object `d` read from `file`, which must
 * be valid JSON for python3 -m json.tool; its printed value. */
static const char *json_query(const char *file, const char *query)
{
	char script[4200], cmd[8600];
	snprintf(script, sizeof script, "%s.py", file);
	FILE *o = fopen(script, "w");
	cr_assert_not_null(o);
	fprintf(o, "import json\nd = json.load(open('%s'))\nprint(%s)\n", file,
		query);
	fclose(o);
	struct run_result *v = malloc(sizeof *v);
	cr_assert_not_null(v);
	snprintf(cmd, sizeof cmd, "python3 -m json.tool %s >/dev/null", file);
	run_sh(v, cmd, NULL, 0, TIMEOUT);
	cr_assert_eq(exit_code(v), 0, "not valid JSON (%s):\n%s", v->err,
		     slurp(file));
	snprintf(cmd, sizeof cmd, "python3 %s", script);
	run_sh(v, cmd, NULL, 0, TIMEOUT);
	cr_assert_eq(exit_code(v), 0, "query %s failed: %s", query, v->err);
	static char out[4096];
	size_t n = strcspn(v->out, "\n");
	if (n >= sizeof out)
		n = sizeof out - 1;
	memcpy(out, v->out, n);
	out[n] = 0;
	free(v);
	return out;
}

/* The same on the output of the last inspect. */
static const char *json_fact(const char *query)
{
	char file[4200];
	snprintf(file, sizeof file, "%s/out.json", tmpdir());
	FILE *o = fopen(file, "w");
	cr_assert_not_null(o);
	fputs(r.out, o);
	fclose(o);
	cr_assert_lt(strlen(r.out), sizeof r.out - 1, "output truncated");
	return json_query(file, query);
}

/* noleak inspect ARGS > file, for reports that can be larger than what
 * run() keeps (a whole host's); returns the file's path. */
static const char *inspect_to_file(const char *args)
{
	static char file[4200];
	char cmd[8600];
	snprintf(file, sizeof file, "%s/report", tmpdir());
	snprintf(cmd, sizeof cmd, "%s inspect %s > %s", top("build/noleak"),
		 args, file);
	run_sh(&r, cmd, NULL, 0, TIMEOUT);
	cr_assert(!r.timed_out);
	return file;
}

Test(inspect_json, pipe_holder_as_json)
{
	struct fixture f;
	start(&f, "insp_pipe_holder", "grandchild", 0);
	struct pipe_line p = parse_pipe(&f);
	wait_sleeping(p.pid, p.tid);
	char pid[16], want[64];
	snprintf(pid, sizeof pid, "%d", p.pid);
	inspect("--json", pid, NULL);
	stop(&f);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_assert_str_eq(json_fact("d['threads'][0]['syscall']['name'], "
				   "d['threads'][0]['fd_numbers']"),
			 "read [3]");
	snprintf(want, sizeof want, "%d %d write grandchild", p.grandchild, p.fd);
	cr_assert_str_eq(json_fact("' '.join(str(h[k]) for h in "
				   "d['threads'][0]['fds'][0]['holders'] for k in "
				   "('pid', 'fd', 'end', 'relation'))"), want);
}

Test(inspect_json, silent_peer_as_json)
{
	struct fixture f;
	start(&f, "insp_tcp_silent", NULL, 1);
	struct tcp_line t = parse_tcp(&f);
	wait_sleeping(t.pid, t.pid);
	char pid[16], want[128];
	snprintf(pid, sizeof pid, "%d", t.pid);
	inspect("--json", pid, NULL);
	stop(&f);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	snprintf(want, sizeof want, "tcp 127.0.0.1:%d ESTABLISHED %d child",
		 t.peer, t.peer_pid);
	cr_assert_str_eq(json_fact("(lambda s: ' '.join(str(x) for x in "
				   "(s['proto'], s['remote'], s['state'], "
				   "s['peer_holders'][0]['pid'], "
				   "s['peer_holders'][0]['relation'])))"
				   "(d['threads'][0]['fds'][0]['socket'])"),
			 want);
}

static void blocked_thread_found(int shim)
{
	struct fixture f;
	start(&f, "insp_pipe_holder", "thread", shim);
	struct pipe_line p = parse_pipe(&f);
	cr_assert_neq(p.tid, p.pid);
	wait_sleeping(p.pid, p.tid);
	const char *out = slurp(inspect_to_file("--all --blocked 1"));
	stop(&f);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	char proc[64], thread[64], holder[96];
	snprintf(proc, sizeof proc, "process %d: ", p.pid);
	snprintf(thread, sizeof thread, "thread %d (", p.tid);
	snprintf(holder, sizeof holder, "pid %d (grandchild) fd %d (write end)",
		 p.grandchild, p.fd);
	const char *at = strstr(out, proc);
	cr_assert_not_null(at, "no \"%s\" in:\n%s", proc, out);
	cr_assert(line_with(at, thread, NULL), "%s", at);
	cr_assert(line_with(at, holder, NULL), "%s", at);
	/* The main thread only joins: futex is no read, write or wait. */
	char main_thread[64];
	snprintf(main_thread, sizeof main_thread, "thread %d (", p.pid);
	cr_assert(!line_with(at, main_thread, NULL), "%s", at);
}

Test(inspect_blocked, finds_the_blocked_thread_host_wide)
{
	blocked_thread_found(0);
}

Test(inspect_blocked, finds_the_blocked_thread_under_the_shim)
{
	blocked_thread_found(1);
}

Test(inspect_blocked, json_lists_the_blocked_thread)
{
	struct fixture f;
	start(&f, "insp_pipe_holder", "thread", 0);
	struct pipe_line p = parse_pipe(&f);
	wait_sleeping(p.pid, p.tid);
	const char *file = inspect_to_file("--json --all --blocked 1");
	stop(&f);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	char q[256], want[64];
	snprintf(q, sizeof q, "[(b['thread']['tid'], b['thread']['syscall']"
		 "['name']) for b in d['blocked'] if b['pid'] == %d]", p.pid);
	snprintf(want, sizeof want, "[(%d, 'read')]", p.tid);
	cr_assert_str_eq(json_query(file, q), want);
}

/* A user on their own process: everything but the kernel stack. */
Test(inspect_user, a_user_inspects_their_own_process)
{
	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK))
		cr_skip_test("needs root and setpriv to become another user");
	struct fixture f;
	start_as(&f, "insp_pipe_holder", "grandchild", 0, NOBODY);
	struct pipe_line p = parse_pipe(&f);
	wait_sleeping(p.pid, p.tid);
	char pid[16], holder[96];
	snprintf(pid, sizeof pid, "%d", p.pid);
	snprintf(holder, sizeof holder, "pid %d (grandchild) fd %d (write end)",
		 p.grandchild, p.fd);
	inspect_as(NOBODY, pid, NULL);
	stop(&f);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_assert(line_with(r.out, "blocked in read(", "on fd 3", NULL), "%s", r.out);
	cr_assert(line_with(r.out, holder, NULL), "%s", r.out);
	cr_assert(line_with(r.out, "stack: not readable (permission)", NULL),
		  "%s", r.out);
}

/* Another user's process: what cannot be read is said plainly. */
Test(inspect_user, says_what_it_could_not_read)
{
	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK))
		cr_skip_test("needs root and setpriv to become another user");
	struct fixture f;
	start(&f, "insp_pipe_holder", "grandchild", 0);
	struct pipe_line p = parse_pipe(&f);
	wait_sleeping(p.pid, p.tid);
	char pid[16];
	snprintf(pid, sizeof pid, "%d", p.pid);
	inspect_as(NOBODY, pid, NULL);
	stop(&f);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_assert(line_with(r.out, "syscall: not readable (permission)", NULL),
		  "%s", r.out);
	cr_assert(line_with(r.out, "stack: not readable (permission)", NULL),
		  "%s", r.out);
	cr_assert(line_with(r.out, "fds: not readable (permission)", NULL),
		  "%s", r.out);
}

/* Who holds the other end, in the shapes a look at /proc/PID/fd by link
 * text gets wrong; the fixtures of the read watchdog's culprit tests
 * (wd_holders, wd_unix_peer SHAPE), whose holder has the other end at fd
 * 40.  One row each: the lines the report must have, %d the holder's pid
 * (NULL ends them). */
struct holder_row {
	const char *fixture, *shape;
	int hidepid;             /* inspect as nobody, in the fixture's mount
				  * namespace (its /proc has hidepid=2) */
	const char *lines[3];
};

static void holders_named(const struct holder_row *row)
{
	if (row->hidepid && (geteuid() != 0 || access("/usr/bin/nsenter", X_OK) ||
			     access("/usr/bin/setpriv", X_OK)))
		cr_skip_test("needs root, nsenter and setpriv");
	struct fixture f;
	start_args(&f, row->fixture, row->shape, "10", 0, 0);
	const char *h = strstr(f.line, "holders=");
	cr_assert_not_null(h, "%s", f.line);
	int holder = atoi(h + 8);
	wait_sleeping(f.pid, f.pid);
	char pid[16];
	snprintf(pid, sizeof pid, "%d", (int)f.pid);
	if (row->hidepid) {
		char *argv[] = { "nsenter", "-t", pid, "-m", "setpriv",
				 "--reuid=65534", "--regid=65534", "--clear-groups",
				 (char *)copy_for_anyone(top("build/noleak")),
				 "inspect", pid, NULL };
		cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	} else
		inspect(pid, NULL);
	stop(&f);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_assert(line_with(r.out, "blocked in read(", "on fd 3", NULL), "%s", r.out);
	for (int i = 0; i < 3 && row->lines[i]; i++) {
		char want[160];
		snprintf(want, sizeof want, row->lines[i], holder);
		cr_expect(line_with(r.out, want, NULL), "no \"%s\" in:\n%s",
			  want, r.out);
	}
}

#define HOLDER_ROW(name, ...) \
	Test(inspect_holders, name) \
	{ holders_named(&(struct holder_row){ __VA_ARGS__ }); }

/* A FIFO is one file under every name. */
HOLDER_ROW(fifo_writer_under_another_name, "wd_holders", "hardlink", 0,
	   { "pid %d (child) fd 40 (write end)" })
/* /proc/PID/fd lists nothing once the main thread has exited: the fds
 * are in the other threads' tables, one a thread's own. */
HOLDER_ROW(holder_whose_main_thread_exited, "wd_holders", "leader", 0,
	   { "pid %d (child) fd 40 (write end): /",
	     "pid %d (child) fd 41 (write end): /" })
/* A connection in a listener's backlog has no peer socket yet. */
HOLDER_ROW(connection_not_accepted, "wd_unix_peer", "backlog", 0,
	   { "not accepted yet: the connection waits in the backlog of "
	     "listening socket:[", "pid %d (child) fd 40: /" })
/* hidepid=2: processes nobody may not look at are not listed at all. */
HOLDER_ROW(holders_hidden_by_hidepid, "wd_holders", "hidepid", 1,
	   { "no other process found holding it",
	     "(/proc hides the processes this user may not look at (hidepid)" })

/* A poll() of 5000 fds: every fd number is listed (the list was cut at
 * 4096), and the fds not described (the first 64 are) are counted, in the
 * text and in the JSON; nothing is left out unsaid. */
Test(inspect_poll, a_poll_of_5000_fds_lists_all_and_counts_the_undescribed)
{
	struct fixture f;
	start(&f, "insp_poll_many", "5000", 0);
	int p, n, first, last;
	if (sscanf(f.line, "pid=%d n=%d first=%d last=%d", &p, &n, &first,
		   &last) != 4) {
		stop(&f);
		cr_skip_test("the fixture could not open its fds: %s", f.line);
	}
	wait_sleeping(p, p);
	char args[64];
	snprintf(args, sizeof args, "%d", p);
	const char *out = slurp(inspect_to_file(args));
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	const char *call = strstr(out, "blocked in poll(");
	cr_assert_not_null(call, "%s", out);
	size_t len = strcspn(call, "\n"), listed = 1;
	const char *on = strstr(call, ") on fd ");
	cr_assert(on && on < call + len, "%.200s", call);
	for (const char *c = on; c < call + len; c++)
		listed += *c == ',';
	char tail[32];
	snprintf(tail, sizeof tail, ", %d\n", last);
	cr_expect_eq(listed, 5000, "%zu fd numbers listed", listed);
	cr_expect(!strncmp(call + len + 1 - strlen(tail), tail, strlen(tail)),
		  "the list does not end with fd %d", last);
	cr_expect(line_with(out, "... and 4936 more fds, not described "
			    "(only the first 64 are)", NULL), "%s", out);

	snprintf(args, sizeof args, "--json %d", p);
	const char *file = inspect_to_file(args);
	stop(&f);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect_str_eq(json_query(file, "(lambda t: (len(t['fd_numbers']), "
				    "t['fd_numbers_omitted'], len(t['fds']), "
				    "t['fds_omitted']))(d['threads'][0])"),
			 "(5000, 0, 64, 4936)");
}

/* The first process of the host in /proc/PID/stat terms: a kernel thread
 * (PF_KTHREAD) or not, in process group `pgid`; 0 when there is none
 * visible (another pid namespace). */
static pid_t find_proc(int kthread, int pgid)
{
	for (int pid = 1; pid < 4096; pid++) {
		char path[64], buf[1024];
		snprintf(path, sizeof path, "/proc/%d/stat", pid);
		snprintf(buf, sizeof buf, "%s", slurp(path));
		const char *p = strrchr(buf, ')');
		int g;
		unsigned long flags;
		if (!p || sscanf(p + 1, " %*c %*d %d %*d %*d %*d %lu", &g,
				 &flags) != 2)
			continue;
		if (!!(flags & 0x00200000) == kthread && g == pgid)
			return pid;
	}
	return 0;
}

/* Process group 0 is where the kernel starts its own processes: no
 * process leads it and nothing was put in it, so a report on a kernel
 * thread, or on a process the kernel started that never made a group of
 * its own (init, often), analyses no group.  It said "process group 0 (its
 * leader is gone)" and called kthreadd and init orphans. */
Test(inspect_group, group_0_and_kernel_threads_are_not_analysed)
{
	static const struct {
		const char *what;
		int kthread;
		const char *why;
	} rows[] = {
		{ "a kernel thread", 1, "a kernel thread, in no process group" },
		{ "a process in group 0", 0, "group 0, where the kernel starts "
					     "its own processes" },
	};
	int tried = 0;
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		pid_t pid = find_proc(rows[i].kthread, 0);
		if (!pid)
			continue;
		tried++;
		char num[16];
		snprintf(num, sizeof num, "%d", (int)pid);
		const char *out = slurp(inspect_to_file(num));
		cr_expect_eq(exit_code(&r), 0, "%s: %s", rows[i].what, r.err);
		cr_expect(!strstr(out, "ORPHAN") && !strstr(out, "leader is gone"),
			  "%s (pid %d):\n%s", rows[i].what, (int)pid, out);
		cr_expect(line_with(out, "process group: none to analyse (",
				    rows[i].why, NULL),
			  "%s (pid %d):\n%s", rows[i].what, (int)pid, out);
		char args[32];
		snprintf(args, sizeof args, "--json %d", (int)pid);
		const char *file = inspect_to_file(args);
		cr_expect_eq(exit_code(&r), 0, "%s: %s", rows[i].what, r.err);
		cr_expect_str_eq(json_query(file, "d['process_group'] is None and "
					    "bool(d['process_group_none'])"),
				 "True", "%s", rows[i].what);
	}
	if (!tried)
		cr_skip_test("no kernel thread or process of group 0 in sight");
}

/* A thread id names its process: the report is the process's, says which
 * thread was asked for and lists it first.  It said "no process TID" and
 * exited 1, though /proc/TID exists. */
Test(inspect_thread, a_thread_id_reports_its_process_with_that_thread_first)
{
	struct fixture f;
	start(&f, "insp_pipe_holder", "thread", 0);
	struct pipe_line p = parse_pipe(&f);
	cr_assert_neq(p.tid, p.pid);
	wait_sleeping(p.pid, p.tid);
	char tid[16], head[64], asked[96], first[64];
	snprintf(tid, sizeof tid, "%d", p.tid);
	snprintf(head, sizeof head, "process %d: ", p.pid);
	snprintf(asked, sizeof asked, "  %d is one of its threads, not a "
		 "process: listed first", p.tid);
	snprintf(first, sizeof first, "\nthread %d (", p.tid);
	inspect(tid, NULL);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect(!strncmp(r.out, head, strlen(head)), "%s", r.out);
	cr_expect(line_with(r.out, asked, NULL), "%s", r.out);
	const char *t = strstr(r.out, "\nthread ");
	cr_assert_not_null(t, "%s", r.out);
	cr_expect(!strncmp(t, first, strlen(first)), "%s", r.out);
	cr_expect(line_with(t, "blocked in read(", "on fd 3", NULL), "%s", r.out);
	inspect("--json", tid, NULL);
	stop(&f);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	char want[64];
	snprintf(want, sizeof want, "%d %d %d", p.pid, p.tid, p.tid);
	cr_expect_str_eq(json_fact("'%d %d %d' % (d['pid'], d['thread_asked'], "
				   "d['threads'][0]['tid'])"), want);
}

/* A zombie has no fds: insp_proc_fds sorted its NULL table, qsort(NULL,
 * 0, ...), undefined behaviour that a build with UBSan
 * (-fno-sanitize-recover, as `make check-asan` builds) stops on.  The
 * launcher is built so from the sources here and inspects a reader whose
 * holder search reads every process's fds, a zombie of ours among them. */
Test(inspect_ubsan, a_process_without_fds_is_no_undefined_behaviour,
     .timeout = 180)
{
	const char *dir = tmpdir();
	char bin[600], cmd[4096];
	snprintf(bin, sizeof bin, "%s/noleak-ubsan", dir);
	snprintf(cmd, sizeof cmd, "cd '%s' && cc -std=gnu11 -D_GNU_SOURCE -O1 "
		 "-fsanitize=undefined -fno-sanitize-recover=undefined "
		 "-iquote . -iquote shim -o '%s' tools/noleak/*.c "
		 "tools/inspect/*.c policy/*.c", top("."), bin);
	struct run_result *cc = malloc(sizeof *cc);
	cr_assert_not_null(cc);
	run_sh(cc, cmd, NULL, 0, 170);
	if (exit_code(cc) != 0 && strstr(cc->err, "libubsan"))
		cr_skip_test("no UBSan runtime: %s", cc->err);
	cr_assert_eq(exit_code(cc), 0, "cc: %s", cc->err);
	free(cc);
	pid_t zombie = fork();
	cr_assert_geq(zombie, 0);
	if (zombie == 0)
		_exit(0);
	struct fixture f;
	start(&f, "insp_pipe_holder", "grandchild", 0);
	struct pipe_line p = parse_pipe(&f);
	wait_sleeping(p.pid, p.tid);
	char pid[16];
	snprintf(pid, sizeof pid, "%d", p.pid);
	char *argv[] = { bin, "inspect", pid, NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	stop(&f);
	waitpid(zombie, NULL, 0);
	cr_expect_null(strstr(r.err, "runtime error"), "%s", r.err);
	cr_expect_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect(line_with(r.out, "blocked in read(", "on fd 3", NULL), "%s",
		  r.out);
}

/* The children of `pid` (its main thread's), the first; 0 when none yet. */
static pid_t first_child(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	return (pid_t)atoi(slurp(path));
}

/* Inspect in a PID namespace of its own (a container's view): a reader,
 * pid 1 there, blocks on a pipe whose only writer is this test, outside
 * the namespace.  The reader's /proc cannot show the writer, so the
 * search is incomplete, said as for hidepid (holders_hidden); it said "no
 * other process holds it".  And its process group, led from outside, is
 * not "group 0, where the kernel starts its own processes". */
Test(inspect_pidns, a_writer_outside_the_pid_namespace_is_not_ruled_out)
{
	if (geteuid() != 0 || access("/usr/bin/unshare", X_OK) ||
	    access("/usr/bin/nsenter", X_OK))
		cr_skip_test("needs root, unshare and nsenter");
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t u = fork();
	cr_assert_geq(u, 0);
	if (u == 0) {
		setpgid(0, 0);
		dup2(p[0], 3);
		close_range(4, ~0u, 0);   /* the pipe's ends, the runner's fds */
		execlp("unshare", "unshare", "-pf", "--mount-proc", "python3", "-c",
		       "import os; os.read(3, 1)", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	pid_t reader = 0;
	for (int i = 0; i < 300 && !reader; i++) {
		reader = first_child(u);
		if (!reader) {
			if (waitpid(u, NULL, WNOHANG) == u) {
				close(p[1]);
				cr_skip_test("unshare -pf --mount-proc is not permitted here");
			}
			usleep(10000);
		}
	}
	cr_assert_neq(reader, 0, "unshare started nothing");
	/* until python reads fd 3 */
	wait_in_syscall(reader, "0 0x3 ");
	char num[16];
	snprintf(num, sizeof num, "%d", (int)reader);
	char *argv[] = { "nsenter", "-t", num, "-p", "-m",
			 (char *)top("build/noleak"), "inspect", "1", NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	static struct run_result text;
	text = r;
	char *jargv[] = { "nsenter", "-t", num, "-p", "-m",
			  (char *)top("build/noleak"), "inspect", "--json", "1",
			  NULL };
	cr_assert_eq(run(&r, jargv, NULL, 0, TIMEOUT, NULL), 0);
	kill(-u, SIGKILL);
	kill(reader, SIGKILL);
	waitpid(u, NULL, 0);
	close(p[1]);
	cr_assert_eq(exit_code(&text), 0, "%s", text.err);
	cr_assert(line_with(text.out, "blocked in read(0x3", NULL), "%s", text.out);
	cr_expect(line_with(text.out, "fd 3: pipe:[", "read end", NULL), "%s",
		  text.out);
	cr_expect(line_with(text.out, "no other process found holding it", NULL),
		  "%s", text.out);
	cr_expect(!line_with(text.out, "no other process holds it", NULL), "%s",
		  text.out);
	cr_expect(line_with(text.out, "some processes could not be seen", NULL),
		  "%s", text.out);
	cr_expect(line_with(text.out, "process group: none to analyse (its "
			    "group's leader is outside this PID namespace", NULL),
		  "%s", text.out);
	cr_expect(!strstr(text.out, "where the kernel starts"), "%s", text.out);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect_str_eq(json_fact("(lambda f: (f['holders'], f['holders_hidden']))"
				   "(d['threads'][0]['fds'][0])"), "([], True)");
}

/* A UNIX socket made in inspect's network namespace and held by a process
 * that moved to a namespace of its own (a socketpair's end handed to it,
 * as systemd hands sockets to a PrivateNetwork= service): the socket is of
 * the namespace it was made in, and inspect finds its peer there.  It asked
 * the holder's namespace only, which does not know the socket. */
Test(inspect_unix, a_socket_of_inspect_s_namespace_held_in_another)
{
	if (geteuid() != 0 || access("/usr/bin/unshare", X_OK))
		cr_skip_test("needs root and unshare");
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t reader = fork();
	cr_assert_geq(reader, 0);
	if (reader == 0) {
		dup2(sv[0], 3);
		close_range(4, ~0u, 0);
		execlp("unshare", "unshare", "-n", "python3", "-c",
		       "import socket; socket.socket(fileno=3).recv(1)",
		       (char *)NULL);
		_exit(127);
	}
	close(sv[0]);
	wait_in_syscall(reader, "45 0x3 ");
	char num[16];
	snprintf(num, sizeof num, "%d", (int)reader);
	char *argv[] = { (char *)top("build/noleak"), "inspect", num, NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	close(sv[1]);
	waitpid(reader, NULL, 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect(line_with(r.out, "peer socket:[", "held by:", NULL), "%s", r.out);
	cr_expect(line_with(r.out, "(parent) fd", NULL), "%s", r.out);
}

/* inspect in a nested PID namespace that kept the host's /proc (unshare
 * -pf without --mount-proc) sees every process: the search for a pipe's
 * holders is complete, as from the host.  It judged its own namespace and
 * called the search incomplete. */
Test(inspect_pidns, a_nested_namespace_with_the_host_s_proc_sees_everyone)
{
	if (geteuid() != 0 || access("/usr/bin/unshare", X_OK))
		cr_skip_test("needs root and unshare");
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t reader = fork();
	cr_assert_geq(reader, 0);
	if (reader == 0) {
		char c;
		close(p[1]);
		_exit(read(p[0], &c, 1) < 0);
	}
	close(p[0]);
	wait_in_syscall(reader, "0 ");
	char num[16];
	snprintf(num, sizeof num, "%d", (int)reader);
	char *argv[] = { "unshare", "-pf", (char *)top("build/noleak"),
			 "inspect", num, NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	close(p[1]);
	waitpid(reader, NULL, 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect(line_with(r.out, "(parent) fd", NULL), "%s", r.out);
	cr_expect(!line_with(r.out, "some processes could not be seen", NULL),
		  "%s", r.out);
}

/* A live terminal of another mount namespace: a reader blocked on a pty
 * of a devpts instance of its own (as in a container), numbered so that
 * no /dev/pts/N of inspect's exists.  The terminal is the reader's, seen
 * through /proc/PID/root; inspect looked the path up in its own namespace
 * and called the live terminal gone. */
Test(inspect_tty, a_terminal_of_another_mount_namespace_is_not_gone)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (a mount namespace, devpts)");
	int out[2];
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		setpgid(0, 0);
		close(out[0]);
		if (unshare(CLONE_NEWNS) ||
		    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("devpts", "/dev/pts", "devpts", 0,
			  "newinstance,ptmxmode=0666")) {
			dprintf(out[1], "skip: %s\n", strerror(errno));
			_exit(0);
		}
		/* masters until one's number is no terminal of the parent's */
		int m = -1, n = -1;
		char there[128], name[64];
		for (int i = 0; i < 64; i++) {
			m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY);
			if (m < 0 || unlockpt(m) || ioctl(m, TIOCGPTN, &n))
				break;
			snprintf(there, sizeof there, "/proc/%d/root/dev/pts/%d",
				 (int)parent, n);
			if (access(there, F_OK))
				break;
			n = -1;
		}
		snprintf(name, sizeof name, "/dev/pts/%d", n);
		int s = n < 0 ? -1 : open(name, O_RDWR | O_NOCTTY);
		if (s < 0) {
			dprintf(out[1], "skip: no pty of a number free outside\n");
			_exit(0);
		}
		dprintf(out[1], "pid=%d fd=%d tty=%s\n", (int)getpid(), s, name);
		char c;
		(void)!read(s, &c, 1);
		_exit(0);
	}
	close(out[1]);
	char line[256] = "";
	FILE *o = fdopen(out[0], "r");
	cr_assert_not_null(o);
	if (!fgets(line, sizeof line, o))
		line[0] = 0;
	fclose(o);
	if (!strncmp(line, "skip: ", 6)) {
		waitpid(pid, NULL, 0);
		cr_skip_test("%s", line);
	}
	int p, fd;
	char tty[64];
	cr_assert_eq(sscanf(line, "pid=%d fd=%d tty=%63s", &p, &fd, tty), 3,
		     "%s", line);
	wait_sleeping(p, p);
	char num[16], want[128];
	snprintf(num, sizeof num, "%d", p);
	inspect(num, NULL);
	static struct run_result text;
	text = r;
	inspect("--json", num, NULL);
	kill(-pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert_eq(exit_code(&text), 0, "%s", text.err);
	snprintf(want, sizeof want, "fd %d: %s, tty", fd, tty);
	cr_expect(line_with(text.out, want, NULL), "no \"%s\" in:\n%s", want,
		  text.out);
	cr_expect(!line_with(text.out, "the terminal is gone", NULL), "%s",
		  text.out);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect_str_eq(json_fact("[f['tty_gone'] for f in d['threads'][0]['fds']]"),
			 "[False]");
}
