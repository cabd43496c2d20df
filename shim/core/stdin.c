/* stdin=detach: see stdin.h. */
#include "core/stdin.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "log/event.h"
#include "base/state.h"
#include "common/sys.h"

/* A terminal answers TCGETS; once hung up it answers every ioctl with
 * EIO, which only a terminal does. */
static int is_terminal(int fd)
{
	struct termios t;
	int r = nl_sys_ioctl(fd, TCGETS, &t);
	return r == 0 || r == -EIO;
}

/* Why a terminal on fd 0 is not ours to read, or NULL when it is. */
static const char *terminal_not_ours(void)
{
	int tty = nl_sys_openat(AT_FDCWD, "/dev/tty",
				O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK, 0);
	if (tty < 0)
		return "no controlling terminal";
	nl_sys_close(tty);
	pid_t fg = -1;
	if (nl_sys_ioctl(0, TIOCGPGRP, &fg) == 0 && fg != nl_sys_getpgid(0))
		return "background process group";
	return NULL;
}

static void log_detach(const char *reason, int done)
{
	if (!nl_event_enabled())
		return;
	struct nl_event ev;
	nl_event_begin(&ev, "stdin_detached");
	nl_event_str(&ev, "action", done ? "detached" : "would_detach");
	nl_event_str(&ev, "reason", reason);
	nl_event_emit(&ev);
}

/* fd 0 becomes /dev/null; returns whether it did. */
static int detach(void)
{
	int null = nl_sys_openat(AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC, 0);
	if (null < 0)
		return 0;
	int r = null == 0 ? 0 : nl_sys_dup3(null, 0, 0);
	if (null != 0)
		nl_sys_close(null);
	else
		nl_sys_fcntl(0, F_SETFD, 0);
	return r == 0;
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
	int enforce = nl_mode() == NL_MODE_ENFORCE;
	log_detach(why, enforce && detach());
}

ssize_t nl_stdin_after_eio(void)
{
	if (!policy_detaches() || !is_terminal(0)) {
		errno = EIO;
		return -1;
	}
	if (nl_mode() != NL_MODE_ENFORCE || !detach()) {
		log_detach("terminal hung up", 0);
		errno = EIO;
		return -1;
	}
	log_detach("terminal hung up", 1);
	return 0;
}
