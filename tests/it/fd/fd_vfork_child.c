/* A vfork child shares its parent's memory, and with it the shim's fd
 * table: what the child creates, closes or marks before its exec must not
 * change what the parent passes to its next child.  The parent makes fd 5
 * inheritable with F_SETFD 0 (as make does with its jobserver); a vfork
 * child works on fd 5 and execs; the parent's next child must still get
 * fd 5, as it does without the shim.  One row per thing the child does. */
#include <criterion/criterion.h>

#include <linux/close_range.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../lib/run.h"

static struct run_result r;

static void next_child_gets_fd_5(const char *mode, int shim)
{
	char *argv[] = { (char *)top("build/fixtures/found_vfork_mark"),
			 (char *)mode,
			 (char *)top("build/fixtures/found_fdlist"), NULL };
	char *env[] = { "NOLEAK_MODE=enforce", NULL };
	cr_assert_eq(run(&r, argv, env, shim, 20.0, NULL), 0);
	cr_assert(!r.timed_out);
	cr_assert_eq(exit_code(&r), 0, "%s: status %d: %s", mode, r.status,
		     r.err);
	cr_expect_str_eq(r.out, "inherited: 5\n", "%s (shim=%d)", mode, shim);
}

static void both(const char *mode)
{
	next_child_gets_fd_5(mode, 0);
	next_child_gets_fd_5(mode, 1);
}

/* The fixtures must see only the fds they make. */
static void init(void)
{
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
}

TestSuite(fd_vfork_child, .init = init, .timeout = 60);

Test(fd_vfork_child, dup2_over_the_fd) { both("dup2"); }
Test(fd_vfork_child, dup3_over_the_fd) { both("dup3"); }
Test(fd_vfork_child, close_the_fd) { both("close"); }
Test(fd_vfork_child, reopen_on_the_fd) { both("reopen"); }
Test(fd_vfork_child, mark_the_fd_cloexec) { both("cloexec"); }

/* The child's own view: a pipe end the shim made close-on-exec, which the
 * vfork child marks close-on-exec itself and then names in its exec's
 * argv.  Its mark lived only in its stash, which the sweep did not read:
 * the fd crossed as one the program had meant to hand on. */
static void named_fd_crosses(const char *mode, int crosses)
{
	for (int shim = 0; shim <= 1; shim++) {
		char *argv[] = { (char *)top("build/fixtures/found_vfork_mark"),
				 (char *)mode,
				 (char *)top("build/fixtures/found_fdlist"), NULL };
		char *env[] = { "NOLEAK_MODE=enforce", NULL };
		cr_assert_eq(run(&r, argv, env, shim, 20.0, NULL), 0);
		cr_assert_eq(exit_code(&r), 0, "%s: %s", mode, r.err);
		int named = -1;
		cr_assert_eq(sscanf(r.out, "named=%d", &named), 1, "%s", r.out);
		const char *list = strstr(r.out, "inherited:");
		cr_assert_not_null(list, "%s", r.out);
		char num[16];
		snprintf(num, sizeof num, " %d", named);
		const char *end = strchr(list, '\n');
		int found = 0;
		for (const char *p = strstr(list, num); p && (!end || p < end);
		     p = strstr(p + 1, num))
			found |= p[strlen(num)] == ' ' || p[strlen(num)] == '\n' ||
				 p[strlen(num)] == '\0';
		cr_expect_eq(found, crosses, "%s (shim=%d): fd %d %s: %s", mode, shim,
			     named, found ? "crossed" : "withheld", r.out);
	}
}

Test(fd_vfork_child, own_cloexec_on_a_named_fd_holds) { named_fd_crosses("own_setfd", 0); }
Test(fd_vfork_child, own_close_range_cloexec_holds) { named_fd_crosses("own_range", 0); }

/* A mark the child takes off (an unlock) is not a close-on-exec of its
 * own: the named fd the program created inheritable still crosses.  The
 * child's own view had lost the parent's marks for that fd. */
Test(fd_vfork_child, an_unlock_keeps_a_named_fd_crossing) { named_fd_crosses("unlock", 1); }

/* What the child makes is its own: a new fd the program made without
 * close-on-exec crosses when named, one it made with close-on-exec does
 * not, whatever the parent's record says of the number ("over": the
 * parent's fd there, made close-on-exec by the shim, which the child
 * closes first; "fresh": a number the parent no longer uses).  The child's
 * new fd was recorded only as dropping the parent's keep bits: named, it
 * went by the parent's slot (withheld, or crossed close-on-exec as the
 * parent's /dev/null had been made). */
static const struct {
	const char *mode;
	int crosses;
} made_rows[] = {
	{ "made:pipe:fresh", 1 },
	{ "made:pipe:over", 1 },
	{ "made:pipe2_cloexec:over", 0 },
	{ "made:open:fresh", 1 },
	{ "made:open_cloexec:over", 0 },
	{ "made:dup:fresh", 1 },
	{ "made:dup:over", 1 },
	{ "made:dupfd:over", 1 },
	{ "made:dupfd_cloexec:over", 0 },
	{ "made:socket:fresh", 1 },
	{ "made:socket:over", 1 },
	{ "made:socket_cloexec:over", 0 },
};

Test(fd_vfork_child, a_named_fd_the_child_made_is_its_own)
{
	for (size_t i = 0; i < sizeof made_rows / sizeof *made_rows; i++)
		named_fd_crosses(made_rows[i].mode, made_rows[i].crosses);
}
