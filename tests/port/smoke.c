/* The portable smoke suite: one program, no Criterion, built for every
 * target (make TARGET=... port-check; tests/port/run.sh) and run twice —
 * under the shim in enforce mode, and without it — so that each case shows
 * the shim's difference and not the test's own assumptions.  i386 also
 * builds it with -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64, whose programs
 * call glibc's time64 names (__fcntl_time64, ...).
 *
 * The children are the host's /bin/sh, which checks its fds itself
 * (`: >&N` fails on a closed fd), so nothing foreign is exec'd and qemu-user
 * needs no binfmt registration.  LD_PRELOAD is dropped once the shim is
 * seen loaded: a foreign build must not be offered to the host's shell.
 *
 * NOLEAK_PORT_NO_CHILDREN=1: only the cases without a child or a thread
 * (under qemu-i386 7.2 the cross package's older ld.so hangs in the child
 * of a dynamically linked program's fork, and in pthread_create; run.sh
 * uses this only where libc6-i386 is missing, and says so).
 *
 * `port-smoke loaded`: prints "loaded PATH" (the shim's file) or "not
 * loaded", and exits 0 or 1 (tests/port/install.sh).
 *
 * `port-smoke exec-locks`: the record locks, with no child: the program
 * takes and drops locks on fds 3-9 and execs the shell that checks which
 * of them it got (a held lock crosses exec under the shim, as flock -c
 * hands on its locked fd); its exit status is the result.
 *
 * `port-smoke seccomp-read` (run.sh gives it NOLEAK_READ_WARN): installs a
 * filter that kills for anything but read, write, fstat and exit (with
 * syscall(SYS_seccomp), after prctl(PR_SET_NO_NEW_PRIVS)), then reads a
 * pipe that has data: the watchdog must make no call of its own.  Skipped
 * where the filter cannot be installed (qemu-user refuses PR_SET_SECCOMP).
 *
 * Output: "ok NAME", "skip NAME" or "FAIL NAME: why"; the exit status
 * counts failures. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __GLIBC__  /* musl: F_SETLK takes 64-bit offsets, no fcntl64 */
#define fcntl64 fcntl
#endif

extern char **environ;

static int shim;      /* the shim is loaded (enforce) */
static int no_children;
static int failures;

static void result(const char *name, int ok, const char *why)
{
	if (ok) {
		printf("ok %s\n", name);
	} else {
		printf("FAIL %s: %s\n", name, why);
		failures++;
	}
	fflush(stdout);
}

/* The path of the shim's mapping, into `path` (NULL: only whether). */
static int shim_mapped(char *path, size_t cap)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof line, f)) {
		char *p = strstr(line, "libnoleak");
		char *slash = p ? strchr(line, '/') : NULL;
		if (!p)
			continue;
		found = 1;
		if (path && slash)
			snprintf(path, cap, "%.*s", (int)strcspn(slash, "\n"), slash);
	}
	fclose(f);
	return found;
}

/* A shell line that exits 0 when fd `open_fd` (or -1) is open and fd
 * `closed_fd` (or -1) is not (dash: single-digit fds, `true` since a failed
 * redirection of the special built-in `:` would end the shell). */
static void check_line(char *buf, size_t n, int open_fd, int closed_fd)
{
	/* The numbers through variables: a redirection spelled out (`>&5`)
	 * in the new program's argv names the fd, which the shim then hands
	 * on (README, named fds). */
	char a[48] = "", b[48] = "";
	if (open_fd >= 0)
		snprintf(a, sizeof a, "o=%d; true >&$o && ", open_fd);
	if (closed_fd >= 0)
		snprintf(b, sizeof b, "c=%d; ! { true >&$c; } && ", closed_fd);
	snprintf(buf, n, "exec 2>/dev/null; %s%strue", a, b);
}

static int wait_status(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int sh_exit_forked(const char *line, int use_vfork)
{
	pid_t pid = use_vfork ? vfork() : fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", line, (char *)NULL);
		_exit(126);
	}
	return pid < 0 ? -1 : wait_status(pid);
}

/* pipe() and fork/exec or vfork/exec: the program's own pipe is withheld
 * from the child under the shim; an fd made inheritable with F_SETFD 0
 * crosses. */
static void case_fork_exec(const char *name, int use_vfork)
{
	int p[2], q[2];
	char line[256];
	if (pipe(p) || pipe(q)) {
		result(name, 0, "pipe");
		return;
	}
	fcntl(q[1], F_SETFD, 0);
	check_line(line, sizeof line, q[1], shim ? p[1] : -1);
	int st = sh_exit_forked(line, use_vfork);
	result(name, st == 0, "child saw the wrong fds");
	close(p[0]); close(p[1]); close(q[0]); close(q[1]);
}

/* fcntl(F_DUPFD): close-on-exec under the shim (the time64 build calls
 * __fcntl_time64). */
static void case_dupfd(void)
{
	int p[2];
	if (pipe(p)) {
		result("fcntl_dupfd_cloexec", 0, "pipe");
		return;
	}
	int d = fcntl(p[1], F_DUPFD, 8);
	int fl = fcntl(d, F_GETFD);
	result("fcntl_dupfd_cloexec", d >= 8 && d <= 9 && (fl & FD_CLOEXEC) == (shim ? FD_CLOEXEC : 0),
	       "F_DUPFD's close-on-exec flag");
	if (no_children) {
		printf("skip fcntl_dupfd_withheld\n");
		close(d); close(p[0]); close(p[1]);
		return;
	}
	char line[256];
	check_line(line, sizeof line, -1, shim ? d : -1);
	result("fcntl_dupfd_withheld", sh_exit_forked(line, 0) == 0,
	       "the F_DUPFD copy reached the child");
	close(d); close(p[0]); close(p[1]);
}

/* posix_spawn with a pipe named as /dev/fd/N in argv: kept; another pipe:
 * withheld under the shim.  File actions (dup2 onto 5) in the libc's own
 * layout. */
static void case_spawn(void)
{
	int named[2], other[2], out[2];
	if (pipe(named) || pipe(other) || pipe(out)) {
		result("posix_spawn_named", 0, "pipe");
		return;
	}
	char path[32], line[256], inner[160];
	snprintf(path, sizeof path, "/dev/fd/%d", named[1]);
	check_line(inner, sizeof inner, 5, shim ? other[1] : -1);
	snprintf(line, sizeof line, "true >\"$1\" && echo x >&5 && %s", inner);
	char *argv[] = { "sh", "-c", line, "sh", path, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 5);
	pid_t pid;
	int r = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	char buf[8] = "";
	ssize_t n = r == 0 ? read(out[0], buf, sizeof buf - 1) : -1;
	int st = r == 0 ? wait_status(pid) : -1;
	result("posix_spawn_named", r == 0 && st == 0 && n == 2 && buf[0] == 'x',
	       "named fd, dup2 action or withheld fd wrong");
	char *argv2[] = { "sh", "-c", "exit 7", NULL };
	r = posix_spawnp(&pid, "sh", NULL, NULL, argv2, environ);
	result("posix_spawnp_path", r == 0 && wait_status(pid) == 7,
	       "posix_spawnp through PATH");
	close(named[0]); close(named[1]); close(other[0]); close(other[1]);
	close(out[0]);
	/* A file over 2 GiB opened by a file action: glibc's child adds
	 * O_LARGEFILE (EOVERFLOW on a 32-bit target without it). */
	char big[64];
	snprintf(big, sizeof big, "/tmp/noleak-port-big.%d", (int)getpid());
	int fd = open64(big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate64(fd, 3LL << 30) < 0) {
		result("posix_spawn_open_large", 0, "cannot make a 3 GiB file");
	} else {
		char *argv3[] = { "sh", "-c", "exit 0", NULL };
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 5, big, O_RDONLY, 0);
		r = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv3, environ);
		posix_spawn_file_actions_destroy(&fa);
		result("posix_spawn_open_large", r == 0 && wait_status(pid) == 0,
		       r ? strerror(r) : "status");
	}
	if (fd >= 0)
		close(fd);
	unlink(big);
}

/* A PATH entry longer than PATH_MAX, then one that does not exist, then
 * the directory of the program: glibc skips the long entry to its ':',
 * which then reads as an empty entry (the working directory, which holds
 * another copy of the program); musl skips the ':' as well and finds the
 * program in the last entry.  The shim's own walks (posix_spawnp's child,
 * an execvp that adds the group marker: the launcher's run) must do as the
 * target's libc does. */
static void case_path_long_entry(void)
{
	char top[64], here[80], there[80], prog[96], old_cwd[4096];
	snprintf(top, sizeof top, "/tmp/noleak-port-path.%d", (int)getpid());
	snprintf(here, sizeof here, "%s/here", top);
	snprintf(there, sizeof there, "%s/there", top);
	int made = mkdir(top, 0700) == 0 && mkdir(here, 0700) == 0 &&
		   mkdir(there, 0700) == 0;
	for (int i = 0; made && i < 2; i++) {
		snprintf(prog, sizeof prog, "%s/nlprog", i ? there : here);
		FILE *f = fopen(prog, "w");
		made = f && fprintf(f, "#!/bin/sh\nexit %d\n", i ? 4 : 3) > 0;
		made = f && fclose(f) == 0 && made && chmod(prog, 0700) == 0;
	}
	static char path[8192];
	size_t n = 0;
	path[n++] = '/';
	while (n < 4200)
		path[n++] = 'b';
	snprintf(path + n, sizeof path - n, ":/nonexistent:%s", there);
	const char *saved = getenv("PATH");
	static char saved_path[8192];
	snprintf(saved_path, sizeof saved_path, "%s", saved ? saved : "");
	if (!made || !getcwd(old_cwd, sizeof old_cwd) || chdir(here) < 0) {
		result("path_long_entry", 0, "cannot set up the directories");
		return;
	}
	setenv("PATH", path, 1);
#ifdef __GLIBC__
	int want = 3;
#else
	int want = 4;
#endif
	char *argv[] = { "nlprog", NULL };
	pid_t pid;
	int r = posix_spawnp(&pid, "nlprog", NULL, NULL, argv, environ);
	int st = r == 0 ? wait_status(pid) : -1;
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		execvp("nlprog", argv);
		_exit(126);
	}
	int st2 = child > 0 ? wait_status(child) : -1;
	setenv("PATH", saved_path, 1);
	if (chdir(old_cwd) < 0)
		r = -1;
	result("posix_spawnp_path_long_entry", r == 0 && st == want,
	       "ran the wrong program (or none)");
	result("execvp_path_long_entry", st2 == want,
	       "ran the wrong program (or none)");
	for (int i = 0; i < 2; i++) {
		snprintf(prog, sizeof prog, "%s/nlprog", i ? there : here);
		unlink(prog);
	}
	rmdir(here);
	rmdir(there);
	rmdir(top);
}

static void case_system_popen(void)
{
	int p[2];
	if (pipe(p)) {
		result("system", 0, "pipe");
		return;
	}
	char line[256];
	check_line(line, sizeof line, -1, shim ? p[1] : -1);
	int st = system(line);
	result("system", st == 0 && system("exit 3") == 3 << 8,
	       "system's status or the child's fds");
	FILE *f = popen("echo hello", "r");
	char buf[16] = "";
	int ok = f && fgets(buf, sizeof buf, f) && !strcmp(buf, "hello\n");
	result("popen", ok && pclose(f) == 0, "popen's output or status");
	close(p[0]); close(p[1]);
}

/* A connected TCP socket gets sock_timeout (NOLEAK_SOCK_TIMEOUT=1 from the
 * runner) and a read on it ends; without the shim no timeout is set. */
static void case_sock_timeout(void)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len)) {
		result("sock_timeout", 0, "listener");
		return;
	}
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&a, sizeof a)) {
		result("sock_timeout", 0, "connect");
		return;
	}
	struct timeval tv = { 0, 0 };
	len = sizeof tv;
	getsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, &len);
	result("sock_timeout_set", shim ? tv.tv_sec == 1 : tv.tv_sec == 0,
	       "SO_RCVTIMEO after connect");
	if (shim) {
		char b;
		ssize_t n = recv(c, &b, 1, 0);
		result("sock_timeout_read", n < 0 && (errno == EAGAIN || errno == ETIMEDOUT),
		       "the read did not time out");
	}
	close(c);
	close(l);
}

/* select, pselect and ppoll with a short timeout return 0 (the time64
 * build calls __select64, __pselect64, __ppoll64). */
static void case_waits(void)
{
	struct timeval tv = { 0, 20000 };
	int r1 = select(0, NULL, NULL, NULL, &tv);
	struct timespec ts = { 0, 20000000 };
	int r2 = pselect(0, NULL, NULL, NULL, &ts, NULL);
	int p[2];
	int r3 = -1;
	if (pipe(p) == 0) {
		struct pollfd pf = { p[0], POLLIN, 0 };
		r3 = ppoll(&pf, 1, &ts, NULL);
		close(p[0]);
		close(p[1]);
	}
	result("waits", r1 == 0 && r2 == 0 && r3 == 0, "select, pselect or ppoll");
}

/* A regular file of its own (a process's POSIX locks on one file are one
 * lock, whichever fd took them), unlinked. */
static int lock_file(void)
{
	char path[] = "/tmp/noleak-port-lock.XXXXXX";
	int t = mkstemp(path);
	if (t < 0)
		return -1;
	close(t);
	int fd = open(path, O_RDWR);  /* the program's own open, no O_CLOEXEC */
	unlink(path);
	return fd;
}

static int lk64(int fd, int cmd, short type, long long start, long long len)
{
	struct flock64 fl = { .l_type = type, .l_whence = SEEK_SET,
			      .l_start = start, .l_len = len };
	return fcntl(fd, cmd, &fl);
}

static int lk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
			    .l_start = start, .l_len = len };
	return fcntl(fd, cmd, &fl);
}

/* exec-locks: F_SETLK64/F_SETLKW64 (struct flock64 on a 32-bit target),
 * F_SETLK and the OFD commands in the program's struct flock; a partial
 * unlock keeps the fd locked, a whole-file unlock ends it.  Under the
 * shim the locked fds reach the shell, the unlocked ones and a plain fd do
 * not; without it every one does. */
static int exec_locks(void)
{
	struct { const char *name; int locked; } c[] = {
		{ "F_SETLK64" , 1 }, { "F_SETLKW64, part unlocked", 1 },
		{ "F_SETLK64, unlocked", 0 }, { "F_SETLK", 1 },
		{ "F_OFD_SETLK, part unlocked", 1 },
		{ "F_OFD_SETLKW, unlocked", 0 }, { "no lock", 0 },
	};
	char line[1024];
	size_t n = (size_t)snprintf(line, sizeof line, "exec 2>/dev/null; s=0; ");
	int failed = 0;
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		int fd = lock_file();
		int r = fd < 3 || fd > 9 ? -2 : 0;
		switch (r ? -1 : (int)i) {
		case 0: r = lk64(fd, F_SETLK64, F_WRLCK, 0, 0); break;
		case 1: r = lk64(fd, F_SETLKW64, F_WRLCK, 0, 0) ||
			    lk64(fd, F_SETLK64, F_UNLCK, 0, 5); break;
		case 2: r = lk64(fd, F_SETLK64, F_WRLCK, 0, 0) ||
			    lk64(fd, F_SETLK64, F_UNLCK, 0, 0); break;
		case 3: r = lk(fd, F_SETLK, F_WRLCK, 0, 0); break;
		case 4: r = lk(fd, F_OFD_SETLK, F_WRLCK, 0, 0) ||
			    lk(fd, F_OFD_SETLK, F_UNLCK, 0, 5); break;
		case 5: r = lk(fd, F_OFD_SETLKW, F_WRLCK, 0, 0) ||
			    lk(fd, F_OFD_SETLKW, F_UNLCK, 0, 0); break;
		}
		if (r) {
			printf("FAIL exec_locks: %s: %s\n", c[i].name,
			       r == -2 ? "no file on fds 3-9" : strerror(errno));
			failed = 1;
			continue;
		}
		int want = !shim || c[i].locked;
		/* The number through a variable: a redirection spelled out
		 * (`>&5`) in the new program's argv names the fd, which the
		 * shim then hands on (README, named fds). */
		n += (size_t)snprintf(line + n, sizeof line - n,
				      "n=%d; %strue >&$n || { echo 'FAIL exec_locks: fd %d (%s) %s'; s=1; }; ",
				      fd, want ? "" : "! ", fd, c[i].name,
				      want ? "closed in the child" : "reached the child");
	}
	if (failed || n >= sizeof line - 40)
		return 1;
	snprintf(line + n, sizeof line - n, "[ $s = 0 ] && echo ok exec_locks");
	fflush(stdout);
	execl("/bin/sh", "sh", "-c", line, (char *)NULL);
	printf("FAIL exec_locks: exec: %s\n", strerror(errno));
	return 1;
}

/* F_GETLK64 (F_GETLK of a -D_FILE_OFFSET_BITS=64 program) passes its
 * struct flock64 through whole: an OFD lock beyond 4 GiB, seen from
 * another open file description of the file. */
static void case_getlk64(void)
{
	char path[] = "/tmp/noleak-port-lock.XXXXXX";
	int a = mkstemp(path);
	int b = a < 0 ? -1 : open(path, O_RDWR);
	if (a >= 0)
		unlink(path);
	struct flock64 fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			      .l_start = 1LL << 33, .l_len = 10 };
	int r = b < 0 ? -1 : fcntl64(a, F_OFD_SETLK, &fl);
	struct flock64 q = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	if (r == 0)
		r = fcntl(b, F_GETLK64, &q);
	result("fcntl_getlk64", r == 0 && q.l_type == F_WRLCK &&
	       q.l_start == 1LL << 33 && q.l_len == 10 && q.l_pid == -1,
	       "F_GETLK64 did not report the OFD lock beyond 4 GiB");
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
}

static void *thread_main(void *arg)
{
	return arg;
}

/* pthread_create: the shim looks up every real symbol first (a walk over
 * its table of slots, whose spacing differs per target). */
static void case_thread(void)
{
	pthread_t t;
	void *ret = NULL;
	int r = pthread_create(&t, NULL, thread_main, &failures);
	result("pthread_create", r == 0 && pthread_join(t, &ret) == 0 &&
	       ret == &failures, "a thread");
}

/* syscall() (interposed: the shim forwards it itself): a result, an
 * errno, and a call of six arguments (sendto: the address length is the
 * sixth). */
static void case_syscall(void)
{
	int ok = syscall(SYS_getpid) == getpid();
	errno = 0;
	ok = ok && syscall(SYS_dup, -1) == -1 && errno == EBADF;
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	char c = 0;
	ok = ok && u >= 0 && bind(u, (struct sockaddr *)&a, sizeof a) == 0 &&
	     getsockname(u, (struct sockaddr *)&a, &len) == 0 &&
	     syscall(SYS_sendto, u, "x", 1, 0, &a, sizeof a) == 1 &&
	     recv(u, &c, 1, 0) == 1 && c == 'x';
	if (u >= 0)
		close(u);
	result("syscall", ok, "getpid, dup(-1) or sendto through syscall()");
}

/* A handler learnt with a raw rt_sigaction (under the shim: its
 * trampoline) and given back to sigaction(): the handler runs once, and
 * sigaction() (and glibc's __sigaction) name it. */
static volatile sig_atomic_t given_back_hits;
static void on_given_back(int s) { (void)s; given_back_hits++; }

#ifdef __GLIBC__
int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);
#endif

static void case_handler_given_back(void)
{
	struct sigaction a, q;
	memset(&a, 0, sizeof a);
	sigemptyset(&a.sa_mask);
	a.sa_handler = on_given_back;
	int ok = sigaction(SIGUSR2, &a, NULL) == 0;
	/* The kernel's struct sigaction: the handler and the flags first. */
	unsigned long k[16];
	memset(k, 0, sizeof k);
	ok = ok && syscall(SYS_rt_sigaction, SIGUSR2, NULL, k, 8) == 0;
	memset(&a, 0, sizeof a);
	sigemptyset(&a.sa_mask);
	a.sa_handler = (void (*)(int))k[0];
	a.sa_flags = (int)(k[1] & ~0x04000000ul);  /* not SA_RESTORER */
	ok = ok && sigaction(SIGUSR2, &a, NULL) == 0;
	raise(SIGUSR2);
	memset(&q, 0, sizeof q);
	ok = ok && sigaction(SIGUSR2, NULL, &q) == 0 &&
	     q.sa_handler == on_given_back && given_back_hits == 1;
#ifdef __GLIBC__
	memset(&q, 0, sizeof q);
	ok = ok && __sigaction(SIGUSR2, NULL, &q) == 0 &&
	     q.sa_handler == on_given_back;
#endif
	signal(SIGUSR2, SIG_DFL);
	result("handler_given_back", ok, "the handler given back, or its name");
}

#ifndef SYS_fstat
#define SYS_fstat SYS_fstat64
#endif
#ifndef SYS_newfstatat
#define SYS_newfstatat SYS_fstatat64
#endif
#define ALLOW(nr)                                                            \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),                     \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static int seccomp_read(void)
{
	int p[2];
	if (pipe(p) || write(p[1], "pipe!", 5) != 5)
		return 2;
	fflush(stdout);
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		ALLOW(SYS_read), ALLOW(SYS_write), ALLOW(SYS_fstat),
		ALLOW(SYS_newfstatat), ALLOW(SYS_exit), ALLOW(SYS_exit_group),
		ALLOW(SYS_rt_sigreturn),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = { sizeof f / sizeof *f, f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
		printf("skip seccomp_read (no filter: errno %d)\n", errno);
		return 0;
	}
	char b[8];
	ssize_t n = read(p[0], b, sizeof b);
	const char *say = n == 5 ? "ok seccomp_read\n"
				 : "FAIL seccomp_read: the read failed\n";
	if (write(1, say, strlen(say)) < 0)
		_exit(3);
	_exit(n == 5 ? 0 : 1);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "loaded")) {
		char path[512] = "";
		int yes = shim_mapped(path, sizeof path);
		printf(yes ? "loaded %s\n" : "not loaded\n", path);
		return !yes;
	}
	shim = shim_mapped(NULL, 0);
	unsetenv("LD_PRELOAD");
	if (argc > 1 && !strcmp(argv[1], "exec-locks"))
		return exec_locks();
	if (argc > 1 && !strcmp(argv[1], "seccomp-read"))
		return seccomp_read();
	printf("# %s the shim, time_t of %d bits\n", shim ? "with" : "without",
	       (int)(8 * sizeof(time_t)));
	signal(SIGPIPE, SIG_IGN);
	const char *nc = getenv("NOLEAK_PORT_NO_CHILDREN");
	no_children = nc && *nc == '1';
	if (no_children) {
		printf("skip pipe_fork_exec vfork_exec posix_spawn_named "
		       "posix_spawnp_path posix_spawn_open_large "
		       "posix_spawnp_path_long_entry execvp_path_long_entry "
		       "system popen pthread_create (no children)\n");
	} else {
		case_thread();
		case_fork_exec("pipe_fork_exec", 0);
		case_fork_exec("vfork_exec", 1);
		case_spawn();
		case_path_long_entry();
		case_system_popen();
	}
	case_dupfd();
	case_getlk64();
	case_sock_timeout();
	case_waits();
	case_syscall();
	case_handler_given_back();
	return failures ? 1 : 0;
}
