/* stdin=detach: see stdin.h. */
#include "core/stdin.h"

#include <errno.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include "log/event.h"
#include "base/state.h"
#include "common/errno.h"
#include "common/sys.h"

/* The major number of BSD pseudo-terminal masters (/dev/ptyXY). */
#define BSD_PTY_MASTER_MAJOR 2

#define HUNG_UP "terminal hung up"

/* A terminal answers TCGETS; once hung up it answers every ioctl with
 * EIO, which only a terminal does.  The master side of a pseudo-terminal
 * answers TCGETS too, but it is never anyone's controlling terminal, and
 * EIO there only says that the other side closed: it is not a terminal
 * for stdin=detach.  Only a Unix 98 master (/dev/ptmx) answers TIOCGPTN;
 * a BSD master has a major number of its own. */
static int is_terminal(int fd)
{
	struct termios t;
	int r = nl_sys_ioctl(fd, TCGETS, &t);
	if (r != 0 && r != -EIO)
		return 0;
	unsigned n;
	if (nl_sys_ioctl(fd, TIOCGPTN, &n) == 0)
		return 0;
	struct stat st;
	if (nl_sys_fstat(fd, &st) == 0 && major(st.st_rdev) == BSD_PTY_MASTER_MAJOR)
		return 0;
	return 1;
}

/* Why the terminal on fd 0 is not ours to read, or NULL when it is.
 * TIOCGSID answers only on the caller's controlling terminal (ENOTTY on
 * any other) and EIO once it hung up: fd 0 itself is asked, so nothing
 * depends on /dev/tty being there or openable.  Any other answer leaves
 * stdin alone. */
static const char *terminal_not_ours(void)
{
	pid_t sid = -1;
	int r = nl_sys_ioctl(0, TIOCGSID, &sid);
	if (r == -ENOTTY)
		return "no controlling terminal";
	if (r == -EIO)
		return HUNG_UP;
	if (r != 0)
		return NULL;
	pid_t fg = -1;
	if (nl_sys_ioctl(0, TIOCGPGRP, &fg) == 0 && fg != nl_sys_getpgid(0))
		return "background process group";
	return NULL;
}

/* Whether the terminal on fd 0 hung up (or, for a pseudo-terminal, its
 * master closed): poll then reports POLLHUP, which it never does for a
 * terminal that is merely not ours to read.  A read fails with EIO in a
 * background process group too (SIGTTIN ignored or blocked, or an
 * orphaned group), and there the terminal is still there. */
static int hung_up(void)
{
	struct pollfd p = { .fd = 0, .events = 0, .revents = 0 };
	return nl_sys_poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

/* `r`: what detach() returned (0: done; -errno: it failed), or
 * NL_STDIN_AUDIT when the mode only logs. */
#define NL_STDIN_AUDIT 1
static void log_detach(const char *reason, int r)
{
	if (!nl_event_enabled())
		return;
	struct nl_event ev;
	nl_event_begin(&ev, "stdin_detached");
	nl_event_str(&ev, "action", r == 0 ? "detached"
				    : r == NL_STDIN_AUDIT ? "would_detach"
				    : "detach_failed");
	nl_event_str(&ev, "reason", reason);
	if (r < 0)
		nl_event_int(&ev, "errno", -r);
	nl_event_emit(&ev);
}

/* fd 0 becomes /dev/null, open for reading and writing as a terminal is
 * (some programs write a prompt to fd 0): 0, or -errno when it could
 * not (no /dev/null: fd 0 stays as it is). */
static int detach(void)
{
	int null = nl_sys_openat(AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC, 0);
	if (null < 0)
		return null;
	int r = null == 0 ? 0 : nl_sys_dup3(null, 0, 0);
	if (null != 0)
		nl_sys_close(null);
	else
		nl_sys_fcntl(0, F_SETFD, 0);
	return r < 0 ? r : 0;
}

static int policy_detaches(void)
{
	const struct nl_policy *p = nl_policy();
	return p->mode != NL_MODE_OFF && p->stdin_mode == NL_STDIN_DETACH;
}

void nl_stdin_check_at_start(void)
{
	if (!policy_detaches() || !is_terminal(0))
		return;
	const char *why = terminal_not_ours();
	if (!why)
		return;
	log_detach(why, nl_mode() == NL_MODE_ENFORCE ? detach() : NL_STDIN_AUDIT);
}

ssize_t nl_stdin_after_eio(int errno_before)
{
	if (!policy_detaches() || !is_terminal(0) || !hung_up()) {
		errno = EIO;
		return -1;
	}
	int r = nl_mode() == NL_MODE_ENFORCE ? detach() : NL_STDIN_AUDIT;
	log_detach(HUNG_UP, r);
	if (r != 0) {
		errno = EIO;
		return -1;
	}
	nl_errno_restore(errno_before);
	return 0;
}
