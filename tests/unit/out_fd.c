/* The outputs' own fds (shim/log/out_fd.c): a number the program closes or
 * replaces stops being the log's before the real call, and only once no
 * write is still under way on it; the shim never closes a number the
 * program took over.  Here the program's calls are played by the hook the
 * interposers call (nl_out_fd_yield) followed by the real libc call. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/state.h"
#include "log/output.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/nl-outfd-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	/* This process counts; any other pid is taken for a vfork child. */
	nl_proc.pid = getpid();
	nl_out_fd_owner(&nl_proc.pid);
}

TestSuite(out_fd, .init = setup, .timeout = 20);

static int open_file(const char *name)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	return fd;
}

static struct nl_out_fd *const o = &nl_out_fds[NL_OUT_FILE];

/* o's fd, opened and adopted as out_file.c does. */
static int adopt_log(void)
{
	int fd = nl_out_fd_adopt(o, open_file("log"));
	cr_assert_geq(fd, 100);
	cr_assert_eq(nl_out_fd_get(o), fd);
	cr_assert_leq(atomic_load(&nl_out_fd_low), fd, "closers would not look");
	return fd;
}

static int same_file(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void pause_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	nanosleep(&ts, NULL);
}

/* --- a closer waits for the writers of other threads --- */

static int writer_fd, writer_held;
static atomic_int holding, released;

static void *hold_a_while(void *arg)
{
	(void)arg;
	int held = writer_held = nl_out_fd_hold(o, writer_fd);
	atomic_store(&holding, 1);
	pause_ms(300);
	atomic_store(&released, 1);
	nl_out_fd_release(o, held);
	return NULL;
}

Test(out_fd, a_close_waits_until_no_other_thread_writes_through_the_number)
{
	writer_fd = adopt_log();
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, hold_a_while, NULL), 0);
	while (!atomic_load(&holding))
		pause_ms(1);
	cr_assert_eq(writer_held, 1);
	nl_out_fd_yield((unsigned)writer_fd, (unsigned)writer_fd);
	cr_assert(atomic_load(&released),
		  "the close went on while a write was under way");
	cr_assert_eq(atomic_load(&o->fd), -1, "the number is still the log's");
	cr_assert_eq(nl_out_fd_hold(o, writer_fd), -1,
		     "a writer may still use a retired number");
	pthread_join(t, NULL);
}

Test(out_fd, a_range_retires_only_the_numbers_in_it)
{
	int fd = adopt_log();
	nl_out_fd_yield(0, (unsigned)fd - 1);
	nl_out_fd_yield((unsigned)fd + 1, ~0U);
	cr_assert_eq(atomic_load(&o->fd), fd);
	nl_out_fd_yield(3, ~0U);
	cr_assert_eq(atomic_load(&o->fd), -1);
}

/* --- a signal handler that closes the number while its own thread writes:
 * it must not wait for the write it interrupted (that would never end) --- */

static int handler_fd;
static atomic_int handler_done;

static void close_in_handler(int sig)
{
	(void)sig;
	nl_out_fd_yield((unsigned)handler_fd, (unsigned)handler_fd);
	atomic_store(&handler_done, 1);
}

/* A handler that closes the number, for a signal raised on a thread that
 * holds it: it runs once the hold is given back (no handler runs under a
 * hold), and does not wait for anything. */
Test(out_fd, a_handler_closing_the_number_runs_after_its_own_thread_s_hold)
{
	handler_fd = adopt_log();
	signal(SIGUSR1, close_in_handler);
	int held = nl_out_fd_hold(o, handler_fd);
	cr_assert_eq(held, 1);
	raise(SIGUSR1);
	cr_assert_not(atomic_load(&handler_done), "a handler ran under a hold");
	nl_out_fd_release(o, held);
	cr_assert(atomic_load(&handler_done));
	cr_assert_eq(atomic_load(&o->fd), -1);
	cr_assert_eq(atomic_load(&o->users), 0);
}

/* --- a vfork child's fds are its own: it changes nothing of ours --- */

/* A handler that leaves with siglongjmp() (an alarm's timeout), for a
 * signal raised while a line is written: it runs only once the hold is
 * given back, so no hold is left behind for a closer on another thread to
 * wait for without end.  The program's mask is back after the hold. */
static sigjmp_buf left;
static volatile sig_atomic_t handler_ran_held;

static void leave_by_longjmp(int sig)
{
	(void)sig;
	handler_ran_held = atomic_load(&o->users) != 0;
	siglongjmp(left, 1);
}

Test(out_fd, a_handler_leaving_by_longjmp_leaves_no_hold_behind)
{
	int fd = adopt_log();
	struct sigaction sa = { .sa_handler = leave_by_longjmp };
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	if (!sigsetjmp(left, 1)) {
		int held = nl_out_fd_hold(o, fd);
		cr_assert_eq(held, 1);
		raise(SIGUSR1);
		nl_out_fd_release(o, held);
		cr_assert_fail("the handler did not run");
	}
	cr_expect_not(handler_ran_held, "the handler ran under the hold");
	cr_expect_eq(atomic_load(&o->users), 0, "a hold was left behind");
	sigset_t now;
	sigprocmask(SIG_SETMASK, NULL, &now);
	cr_expect_not(sigismember(&now, SIGUSR1) || sigismember(&now, SIGTERM),
		      "the program's mask is not back");
	nl_out_fd_close(o);
}

/* A signal another thread sends this one while it holds the log's fd is
 * pending (every signal is blocked under the hold), and stays the
 * program's: the one the write raises itself (SIGXFSZ, past the file size
 * limit) is taken back, not both. */
static volatile sig_atomic_t xfsz_seen;
static void count_xfsz(int sig)
{
	(void)sig;
	xfsz_seen++;
}

Test(out_fd, a_signal_sent_during_a_hold_is_not_taken_back)
{
	int fd = adopt_log();
	signal(SIGXFSZ, count_xfsz);
	struct rlimit rl = { 0, RLIM_INFINITY };
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	int held = nl_out_fd_hold(o, fd);
	cr_assert_eq(held, 1);
	raise(SIGXFSZ);            /* as another thread's pthread_kill */
	struct iovec iov = { "x\n", 2 };
	cr_expect_eq(nl_out_write(fd, &iov, 1), -EFBIG);
	nl_out_fd_release(o, held);
	cr_expect_eq(xfsz_seen, 1, "the program's SIGXFSZ was taken back");
	rl.rlim_cur = RLIM_INFINITY;
	setrlimit(RLIMIT_FSIZE, &rl);
	nl_out_fd_close(o);
}

Test(out_fd, a_vfork_child_closing_the_number_leaves_the_parent_s_log)
{
	int fd = adopt_log();
	pid_t pid = vfork();
	if (pid == 0) {
		nl_out_fd_yield((unsigned)fd, (unsigned)fd);
		int held = nl_out_fd_hold(o, fd);   /* not counted */
		nl_out_fd_release(o, held);
		_exit(held == 0 ? 0 : 1);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(atomic_load(&o->fd), fd, "the child retired the parent's log");
	cr_assert_eq(atomic_load(&o->users), 0, "the child left a count behind");
}

/* --- a number the program took over is never closed by the shim --- */

/* A fresh fd is written through right after it is published, with no
 * nl_out_fd_get() in between: a program that put its own file onto the
 * placed number before it was published (no closer saw it then) must not
 * get the line.  The hold itself is the last look at the file. */
Test(out_fd, a_file_put_under_a_fresh_number_is_never_held)
{
	int fd = nl_out_fd_adopt(o, open_file("log")), mine = open_file("program");
	cr_assert_geq(fd, 100);
	cr_assert_eq(dup2(mine, fd), fd);   /* unseen: before publication */
	cr_expect_eq(nl_out_fd_hold(o, fd), -1,
		     "a write would land in the program's file");

	int t_fd;
	struct nl_out_fd *t = nl_out_fd_transient(open_file("log"), &t_fd);
	cr_assert_not_null(t);
	cr_assert_eq(dup2(mine, t_fd), t_fd);
	cr_expect_eq(nl_out_fd_hold(t, t_fd), -1,
		     "a transient write would land in the program's file");
	nl_out_fd_yield((unsigned)t_fd, (unsigned)t_fd);
	nl_out_fd_transient_done(t);
}

Test(out_fd, the_shim_never_closes_a_number_the_program_took)
{
	int fd = adopt_log(), mine = open_file("program");
	nl_out_fd_yield((unsigned)fd, (unsigned)fd);
	cr_assert_eq(dup2(mine, fd), fd);
	nl_out_fd_close(o);
	cr_assert(same_file(fd, mine), "the shim closed the program's fd");
}

Test(out_fd, a_transient_fd_the_program_took_is_never_closed)
{
	int mine = open_file("program"), fd;
	struct nl_out_fd *t = nl_out_fd_transient(open_file("log"), &fd);
	cr_assert_not_null(t);
	cr_assert_eq(atomic_load(&t->fd), fd);
	cr_assert_geq(fd, 100);
	cr_assert_leq(atomic_load(&nl_out_fd_low), fd);
	nl_out_fd_yield((unsigned)fd, (unsigned)fd);
	cr_assert_eq(nl_out_fd_hold(t, fd), -1);
	cr_assert_eq(dup2(mine, fd), fd);
	nl_out_fd_transient_done(t);
	cr_assert(same_file(fd, mine), "the shim closed the program's fd");
}

Test(out_fd, a_transient_fd_is_closed_after_its_line)
{
	int fd;
	struct nl_out_fd *t = nl_out_fd_transient(open_file("log"), &fd);
	cr_assert_not_null(t);
	int held = nl_out_fd_hold(t, fd);
	cr_assert_eq(held, 1);
	cr_assert_eq(write(fd, "x\n", 2), 2);
	nl_out_fd_release(t, held);
	nl_out_fd_transient_done(t);
	cr_assert_eq(fcntl(fd, F_GETFD), -1, "the transient fd stayed open");
	cr_assert_eq(atomic_load(&t->fd), -1);
}

/* --- more lines at once than transient slots --- */

#define SLOTS (NL_OUT_SLOTS - NL_OUT_TRANSIENT)

/* Every transient slot taken, as by SLOTS threads writing their lines. */
static void take_every_slot(struct nl_out_fd *t[SLOTS])
{
	for (int i = 0; i < SLOTS; i++) {
		int fd;
		t[i] = nl_out_fd_transient(open_file("log"), &fd);
		cr_assert_not_null(t[i], "slot %d", i);
	}
}

struct late_line {
	int fd, placed;
	struct nl_out_fd *t;
};

static void *late_transient(void *arg)
{
	struct late_line *l = arg;
	l->t = nl_out_fd_transient(l->fd, &l->placed);
	return NULL;
}

/* A line that finds every slot taken waits for one to come free rather
 * than be dropped: the first lines of a program whose threads all log at
 * once while one of them opens the log. */
Test(out_fd, a_line_waits_for_a_transient_slot)
{
	struct nl_out_fd *t[SLOTS];
	struct late_line l = { .fd = open_file("log"), .placed = -1 };
	pthread_t th;

	take_every_slot(t);
	cr_assert_eq(pthread_create(&th, NULL, late_transient, &l), 0);
	pause_ms(20);
	nl_out_fd_transient_done(t[0]);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_expect_not_null(l.t, "the line was dropped (%d)", l.placed);
	if (l.t) {
		cr_expect_geq(l.placed, 100);
		cr_expect_eq(atomic_load(&l.t->fd), l.placed);
		nl_out_fd_transient_done(l.t);
	}
	for (int i = 1; i < SLOTS; i++)
		nl_out_fd_transient_done(t[i]);
}

/* None comes free: after a bounded wait the line is given up, its fd
 * closed, and the caller told why (NL_OUT_BUSY: event.c reports it). */
Test(out_fd, a_line_gives_up_a_slot_that_never_comes_free)
{
	struct nl_out_fd *t[SLOTS];
	int fd = open_file("log"), placed = 0;
	struct timespec a, b;

	take_every_slot(t);
	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_expect_null(nl_out_fd_transient(fd, &placed));
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_expect_eq(placed, NL_OUT_BUSY);
	cr_expect_eq(fcntl(fd, F_GETFD), -1, "the fd was left open");
	cr_expect_lt((double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9,
		     5.0, "the wait is bounded");
	for (int i = 0; i < SLOTS; i++)
		nl_out_fd_transient_done(t[i]);
}

/* Rotation puts the new file under the log's number; when the program took
 * the number meanwhile, the new file gets a number of its own instead. */
Test(out_fd, rotation_onto_a_number_the_program_took_leaves_it_alone)
{
	int fd = adopt_log(), mine = open_file("program");
	nl_out_fd_yield((unsigned)fd, (unsigned)fd);
	cr_assert_eq(dup2(mine, fd), fd);
	int nfd = open_file("log.new");
	cr_assert_eq(nl_out_fd_replace(o, nfd), NL_OUT_FD_TAKEN);
	cr_assert(same_file(fd, mine), "rotation replaced the program's fd");
	cr_assert_neq(fcntl(nfd, F_GETFD), -1, "the new file was closed");
}

Test(out_fd, rotation_keeps_the_number)
{
	int fd = adopt_log();
	int nfd = nl_out_fd_replace(o, open_file("log.new"));
	cr_assert_eq(nfd, fd);
	cr_assert_eq(nl_out_fd_get(o), fd);
	cr_assert_eq(atomic_load(&o->users), 0);
}

/* A walk over the process's fds (a threaded fork's inherited pipes and
 * sockets) leaves the shim's own out: the number while it holds the
 * shim's file, not once the program took it. */
Test(out_fd, the_shim_knows_its_own_fds)
{
	int fd = adopt_log(), mine = open_file("program");
	cr_expect(nl_out_fd_is_ours(fd));
	cr_expect_not(nl_out_fd_is_ours(mine));
	cr_expect_not(nl_out_fd_is_ours(2));
	nl_out_fd_yield((unsigned)fd, (unsigned)fd);
	cr_assert_eq(dup2(mine, fd), fd);
	cr_expect_not(nl_out_fd_is_ours(fd), "the program's file now");
}

/* --- a line in progress is no cut line --- */

/* Other processes' lines, written as the kernel writes them: one O_APPEND
 * write each, often across a page boundary (the file grows page by page,
 * and a look between two pages finds the size part way through it). */
static atomic_int others_stop;

static void *others_write(void *arg)
{
	static char line[1001];
	int fd = *(int *)arg;

	memset(line, 'x', sizeof line - 2);
	memcpy(line, "{\"ts\":\"", 7);
	line[sizeof line - 2] = '}';
	line[sizeof line - 1] = '\n';
	while (!atomic_load(&others_stop))
		if (write(fd, line, sizeof line) != (ssize_t)sizeof line)
			break;
	return NULL;
}

/* Each line of ours is written after a fresh open (the log switches
 * between two files), which looks at the last byte for a cut line: one
 * seen part way through another writer's line made the next line start
 * with a newline, an empty line in the log. */
Test(out_fd, a_line_in_progress_is_no_cut_line)
{
	char a[128], b[128];
	pthread_t t[2];
	static const char ours[] = "{\"ts\":\"ours\"}\n";

	snprintf(a, sizeof a, "%s/a.log", dir);
	snprintf(b, sizeof b, "%s/b.log", dir);
	int fd = open(a, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	for (int k = 0; k < 2; k++)
		pthread_create(&t[k], NULL, others_write, &fd);
	for (int k = 0; k < 1000; k++) {
		cr_assert_eq(nl_out_file_write(a, ours, sizeof ours - 1),
			     (int)sizeof ours - 1);
		nl_out_file_write(b, ours, sizeof ours - 1);
	}
	atomic_store(&others_stop, 1);
	for (int k = 0; k < 2; k++)
		pthread_join(t[k], NULL);
	close(fd);

	FILE *f = fopen(a, "r");
	char *line = NULL;
	size_t cap = 0;
	int lines = 0, empty = 0, mine = 0;
	while (getline(&line, &cap, f) > 0) {
		lines++;
		empty += line[0] == '\n';
		mine += strcmp(line, ours) == 0;
	}
	free(line);
	fclose(f);
	unlink(a);
	unlink(b);
	cr_assert_eq(mine, 1000);
	cr_assert_eq(empty, 0, "%d empty lines in %d", empty, lines);
}

/* --- the placing gate (output.h): a fresh fd is written through only
 * once the program's calls under way on other threads when it was
 * published are over --- */

static atomic_int entered, left_gate;

/* The program's call under way: entered before the placement, and over
 * only once the number is published (what a call that looked at the
 * slots before the publication and makes its real call after does). */
static void *call_under_way(void *arg)
{
	(void)arg;
	int gate = nl_out_fd_enter(150, 150);
	atomic_store(&entered, gate);
	while (atomic_load(&o->fd) < 0)
		;
	atomic_store(&left_gate, 1);
	nl_out_fd_leave(gate);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(out_fd, a_placement_waits_for_a_call_under_way)
{
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, call_under_way, NULL), 0);
	while (!atomic_load(&entered))
		pause_ms(1);
	unsigned waited = atomic_load(&nl_out_gate_waited);
	unsigned bounded = atomic_load(&nl_out_gate_bounded);
	int fd = nl_out_fd_adopt(o, open_file("log"));
	int left = atomic_load(&left_gate);
	cr_expect_geq(fd, 100);
	/* Counted rather than timed: on a loaded machine the other thread
	 * may not run within the bound, and the placement then goes ahead
	 * (by design); it must have seen the call and waited either way. */
	cr_expect_eq(atomic_load(&nl_out_gate_waited) - waited, 1,
		     "the placement did not see the call under way");
	cr_expect(left || atomic_load(&nl_out_gate_bounded) - bounded == 1,
		  "the fd was handed out while the program's call was under way");
	pthread_join(t, NULL);
	nl_out_fd_close(o);
}

Test(out_fd, calls_below_the_floor_pass_the_gate_unseen)
{
	if (atomic_load(&nl_out_fd_low) >= NL_OUT_FD_FLOOR)
		cr_expect_eq(nl_out_fd_enter(3, 99), 0);
	cr_expect_eq(nl_out_fd_enter(0, NL_OUT_FD_FLOOR), 1);
	nl_out_fd_leave(1);
}

/* A log line from a handler that interrupted a call of its own thread:
 * the placement is made, without waiting for the call it interrupted
 * (which cannot go on before the handler returns). */
Test(out_fd, a_placement_inside_a_call_of_its_own_thread_is_made)
{
	int gate = nl_out_fd_enter(150, 150);
	int fd = nl_out_fd_adopt(o, open_file("log"));
	cr_expect_geq(fd, 100);
	cr_expect_eq(nl_out_fd_get(o), fd);
	nl_out_fd_leave(gate);
	nl_out_fd_close(o);
}

/* A call that never left (a handler left it with siglongjmp(), a vfork
 * child was killed inside it): placements still go ahead, after a short
 * wait. */
static void *call_left_behind(void *arg)
{
	if (arg)
		nl_out_fd_leave(1);
	else
		nl_out_fd_enter(150, 150);
	return NULL;
}

Test(out_fd, a_count_left_behind_only_delays_placements)
{
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, call_left_behind, NULL), 0);
	pthread_join(t, NULL);
	for (int i = 0; i < 3; i++) {
		double t0 = now_s();
		unsigned bounded = atomic_load(&nl_out_gate_bounded);
		int fd = nl_out_fd_adopt(o, open_file("log"));
		cr_expect_geq(fd, 100);
		cr_expect_eq(atomic_load(&nl_out_gate_bounded) - bounded, 1);
		cr_expect_lt(now_s() - t0, 1.0, "placement %d waited", i);
		nl_out_fd_close(o);
	}
	/* The count put back. */
	cr_assert_eq(pthread_create(&t, NULL, call_left_behind, (void *)1), 0);
	pthread_join(t, NULL);
}
