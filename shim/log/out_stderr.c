/* The stderr output (log=stderr): the line goes to fd 2 while fd 2 is the
 * program's standard error.
 *
 * Chosen by the user for interactive runs, so fd 2 is taken as it is found
 * at each event: if the program redirected its stderr (dup2 onto 2, or
 * inherited that way), the log follows.  A program that closed fd 2, or
 * was started with it closed, has none: whatever it opens next under that
 * number (a daemon's data file or socket) is its own, and lines are dropped
 * until it puts something onto 2 with dup2 or dup3 (the fd interposers say
 * when, nl_out_stderr_*). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "common/forkdata.h"
#include "common/sys.h"
#include "log/output.h"

/* With the after-fork data, and stored only when it changes: programs
 * close fd 2 on their way out (cat, coreutils' close_stdout), where a store
 * to a page not touched before would be one more page fault per process. */
static atomic_int given_up NL_FORK_DATA;

static void set_given_up(int v)
{
	if (atomic_load_explicit(&given_up, memory_order_relaxed) != v)
		atomic_store_explicit(&given_up, v, memory_order_relaxed);
}

/* A child sharing our memory (vfork, posix_spawn, clone) that closed fd 2
 * or put something onto it says so here, in its parent thread's TLS (that
 * thread is stopped while the child runs), tagged with the child's pid:
 * never in the parent's state.  Cleared before each such child starts. */
static __thread struct {
	pid_t pid;
	int given_up;
} shared_child __attribute__((tls_model("initial-exec")));

void nl_out_stderr_child(pid_t pid, int gave_up)
{
	if (shared_child.pid != pid || shared_child.given_up != gave_up) {
		shared_child.pid = pid;
		shared_child.given_up = gave_up;
	}
}

void nl_out_stderr_at_start(void)
{
	if (nl_sys_fcntl(2, F_GETFD, 0) < 0)
		set_given_up(1);
}

void nl_out_stderr_closed(void)
{
	set_given_up(1);
}

void nl_out_stderr_replaced(void)
{
	set_given_up(0);
}

/* A filter known: no fstat, no sendmsg (a killing filter that allows the
 * write may deny them).  Kept once set, as the filter is. */
static atomic_int filtered NL_FORK_DATA;

void nl_out_stderr_filtered(void)
{
	if (!atomic_load_explicit(&filtered, memory_order_relaxed))
		atomic_store(&filtered, 1);
}

/* Whether fd 2 takes a line now.  It is the program's, and may be a pipe
 * whose reader does not read (a stopped pager, a stopped job), a terminal
 * stopped by XOFF or one whose reader stopped: a write would wait as long
 * as they, in whatever the program was doing, a signal handler included.
 * Its flags are the program's too (O_NONBLOCK is the open file
 * description's, shared with every process that has it), so the shim
 * looks instead: not writable now, the line is dropped.  A pipe or FIFO
 * that has room takes a line (at most NL_EVENT_MAX = PIPE_BUF bytes) whole
 * without waiting; a terminal one that fits the room it has.  Files,
 * /dev/null and the like are always writable.  Another writer can still
 * fill the room between the look and the write (README: Known limits). */
static int ready(void)
{
	struct pollfd p = { .fd = 2, .events = POLLOUT };

	return nl_sys_poll(&p, 1, 0) == 1;
}

/* Not inlined: its struct stat stays off the writing frame. */
__attribute__((noinline))
static int is_socket(int fd)
{
	struct stat st;
	return nl_sys_fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

int nl_out_stderr_write(const char *line, size_t len)
{
	ssize_t n;

	int off = atomic_load_explicit(&given_up, memory_order_relaxed);
	if (shared_child.pid && shared_child.pid == nl_sys_getpid())
		off = shared_child.given_up;
	if (off || !ready())
		return -1;
	struct iovec v = { (void *)line, len };
	/* A stream socket is writable with room for half what it holds
	 * queued, not for the line: sent without waiting (MSG_DONTWAIT, the
	 * call's own flag) and without SIGPIPE.  Else a pipe whose reader has
	 * gone, or a file at the program's size limit: the line is lost, the
	 * program gets no signal; a terminal whose background group this is
	 * under TOSTOP takes it without stopping the group (output.h). */
	if (!atomic_load_explicit(&filtered, memory_order_relaxed) &&
	    is_socket(2)) {
		struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
		n = nl_sys_sendmsg(2, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
	} else {
		n = nl_out_write(2, &v, 1);
	}
	return n == (ssize_t)len ? (int)n : -1;
}
