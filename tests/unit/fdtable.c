/* The fd table (shim/core/fdtable.c): what the shim remembers of each fd
 * number, and when a remembered keep bit stops counting.  The table is pure
 * bookkeeping over real fds (identity by fstat), so it is tested here, on
 * fds the test opens itself. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/state.h"
#include "core/fdtable.h"

static void as_this_process(void)
{
	/* Marks go to the table only in the process the shim knows as its
	 * own; any other pid is taken for a vfork child. */
	nl_proc.pid = getpid();
}

TestSuite(fdtable, .init = as_this_process);

static int open_null(void)
{
	int fd = open("/dev/null", O_RDONLY);
	cr_assert_geq(fd, 3);
	return fd;
}

Test(fdtable, a_created_fd_carries_the_shim_s_flag_and_its_call)
{
	int fd = open_null();
	nl_fd_created(fd, NL_CALL_OPEN, (void *)0x1234, 1);
	const struct nl_fd_slot *s = nl_fd_slot(fd);
	cr_assert_not_null(s);
	cr_expect_eq(s->bits & NL_FD_FLAGS, NL_FD_SHIM_CLOEXEC);
	cr_expect_eq(s->call, NL_CALL_OPEN);
	cr_expect_eq(s->site, 0x1234);
	cr_expect_str_eq(nl_call_name(s->call), "open");
	cr_expect_gt(nl_fd_high_water(), fd);
	cr_expect_eq(nl_fd_keep_bits(fd), 0);
}

Test(fdtable, a_mark_keeps_the_fd_while_it_holds_the_same_file)
{
	int fd = open_null();
	nl_fd_created(fd, NL_CALL_OPEN, NULL, 1);
	nl_fd_mark(fd, NL_FD_DELIBERATE);
	cr_expect_eq(nl_fd_keep_bits(fd), NL_FD_DELIBERATE);
	nl_fd_mark(fd, NL_FD_LOCKED);
	cr_expect_eq(nl_fd_keep_bits(fd), NL_FD_DELIBERATE | NL_FD_LOCKED);
	nl_fd_unmark(fd, NL_FD_LOCKED);
	cr_expect_eq(nl_fd_keep_bits(fd), NL_FD_DELIBERATE);
}

Test(fdtable, a_mark_is_stale_once_the_number_holds_another_file)
{
	int fd = open_null();
	nl_fd_mark(fd, NL_FD_DELIBERATE);
	/* Closed and reused behind the shim's back (a libc-internal close):
	 * the number now holds a pipe. */
	int p[2];
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(dup2(p[0], fd), fd);
	cr_expect_eq(nl_fd_keep_bits(fd), 0,
		     "a keep bit set for /dev/null kept a pipe");
}

Test(fdtable, a_new_fd_forgets_what_the_number_held)
{
	int fd = open_null();
	nl_fd_mark(fd, NL_FD_DELIBERATE);
	nl_fd_created(fd, NL_CALL_PIPE, NULL, 1);
	cr_expect_eq(nl_fd_keep_bits(fd), 0);
	cr_expect_eq(nl_fd_slot(fd)->call, NL_CALL_PIPE);
}

Test(fdtable, close_forgets_the_fd)
{
	int fd = open_null();
	nl_fd_created(fd, NL_CALL_OPEN, NULL, 1);
	nl_fd_mark(fd, NL_FD_DELIBERATE);
	nl_fd_closed(fd);
	cr_expect_eq(nl_fd_slot(fd)->bits & NL_FD_FLAGS, 0);
	cr_expect_eq(nl_fd_keep_bits(fd), 0);
}

Test(fdtable, a_range_closed_or_made_cloexec_drops_its_marks)
{
	int a = open_null(), b = open_null(), c = open_null();
	nl_fd_mark(a, NL_FD_DELIBERATE);
	nl_fd_mark(b, NL_FD_DELIBERATE);
	nl_fd_mark(c, NL_FD_DELIBERATE);
	int lo = a < b ? a : b, hi = a < b ? b : a;
	if (c > lo && c < hi)
		return;  /* numbers not in the expected order: nothing to show */
	nl_fd_range_changed((unsigned)lo, (unsigned)hi, 1);
	cr_expect_eq(nl_fd_keep_bits(a), 0);
	cr_expect_eq(nl_fd_keep_bits(b), 0);
	cr_expect_eq(nl_fd_keep_bits(c), NL_FD_DELIBERATE,
		     "an fd outside the range lost its mark");
}

Test(fdtable, marks_of_another_process_stay_out_of_the_table)
{
	int fd = open_null();
	pid_t child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		/* Seen from here, nl_proc.pid is the parent's: this is how a
		 * vfork child looks to the shim.  Its mark counts for itself. */
		nl_fd_mark(fd, NL_FD_DELIBERATE);
		_exit(nl_fd_keep_bits(fd) == NL_FD_DELIBERATE &&
		      nl_fd_slot(fd) == NULL ? 0 : 1);
	}
	int st;
	cr_assert_eq(waitpid(child, &st, 0), child);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "the child's mark did not stay in its stash");
	cr_expect_eq(nl_fd_keep_bits(fd), 0);
}
