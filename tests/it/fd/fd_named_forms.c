/* The forms real programs use to name an fd they pass, through the real
 * exec path: the named fd reaches the new program under enforce as it does
 * without the shim.  A number names an fd only the program made
 * inheritable: naming an fd the shim never saw created (a raw system call:
 * a leak) or one the program made close-on-exec keeps nothing.
 *
 * One row per convention; '@' stands for the fd's number (fdh_pass).  A
 * convention that names no number (uWSGI's reload keeps the listening
 * sockets) has its row make a listener instead of a pipe. */
#include <criterion/criterion.h>

#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0

static void init(void)
{
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	cr_assert_eq(access(top("build/fixtures/fdh_pass"), X_OK), 0,
		     "build/fixtures/fdh_pass missing");
	cr_assert_eq(access(top("build/fixtures/fdh_fds"), X_OK), 0,
		     "build/fixtures/fdh_fds missing");
}

TestSuite(fd_named_forms, .init = init);

struct form {
	const char *who;
	const char *env;        /* NAME=VALUE for the new program, or NULL */
	const char *args[3];    /* its arguments, NULL-terminated */
	int listener;           /* the fd is a listening socket: HOW"listen" */
};

static const struct form forms[] = {
	{ "haproxy master", "HAPROXY_PROCESSES=|type=w;fd=@;cfd=-1;pid=1;reloads=0", { NULL }, 0 },
	{ "php-fpm reload", "FPM_SOCKETS=127.0.0.1:9000=@", { NULL }, 0 },
	{ "dbus-launch", NULL, { "--print-address", "@", NULL }, 0 },
	{ "dbus-launch pid", NULL, { "--print-pid=@", NULL }, 0 },
	{ "libassuan", "_assuan_connection_fd=@", { NULL }, 0 },
	{ "socat", NULL, { "FD:@!!FD:@", "-", NULL }, 0 },
	{ "gunicorn bind", NULL, { "--bind", "fd://@", NULL }, 0 },
	{ "gunicorn re-exec", "GUNICORN_FD=@", { NULL }, 0 },
	{ "uwsgi reload", "UWSGI_RELOADS=1", { NULL }, 1 },
	{ "Xorg", NULL, { "-displayfd", "@", NULL }, 0 },
	{ "Xwayland -wm", NULL, { "-wm", "@", NULL }, 0 },
	{ "Xwayland -listen", NULL, { "-listen", "@", NULL }, 0 },
	{ "weston-launch", "WESTON_LAUNCHER_SOCK=@", { NULL }, 0 },
	{ "dpkg", NULL, { "--status-fd", "@", NULL }, 0 },
	{ "dpkg, read by strtol(..., 0)", NULL, { "--status-fd", "+@", NULL }, 0 },
	{ "env VAR=N prog", NULL, { "WAYLAND_SOCKET=@", "prog", NULL }, 0 },
	{ "sh -c 'VAR=N exec prog'", NULL, { "-c", "X_FD=@ exec prog", NULL }, 0 },
	{ "openssl", NULL, { "-passin", "fd:@", NULL }, 0 },
	{ "system() >&N", NULL, { "-c", "echo x >&@", NULL }, 0 },
	{ "system() <&N", NULL, { "-c", "cat<&@", NULL }, 0 },
	{ "sh N<&M-", NULL, { "-c", "exec 0<&@- cat", NULL }, 0 },
};

#define NFORMS (sizeof forms / sizeof forms[0])

static struct run_result r;

/* fdh_pass HOW with the form's naming, shim or not; returns whether the
 * new program got the fd. */
static int reaches_child(const struct form *f, const char *how, int shim)
{
	char *argv[12], kind[32];
	int n = 0;
	if (f->listener) {
		snprintf(kind, sizeof kind, "%slisten", how);
		how = kind;
	}
	argv[n++] = (char *)top("build/fixtures/fdh_pass");
	argv[n++] = (char *)how;
	if (f->env)
		argv[n++] = (char *)f->env;
	argv[n++] = "--";
	argv[n++] = (char *)top("build/fixtures/fdh_fds");
	for (int i = 0; f->args[i]; i++)
		argv[n++] = (char *)f->args[i];
	argv[n] = NULL;
	char *env[] = { "NOLEAK_MODE=", NULL };
	cr_assert_eq(run(&r, argv, env, shim, TIMEOUT, ""), 0);
	cr_assert_eq(exit_code(&r), 0, "%s %s: exit %d\n%s\n%s", f->who, how,
		     exit_code(&r), r.out, r.err);
	int fd;
	cr_assert_eq(sscanf(r.out, "fd=%d", &fd), 1, "%s", r.out);
	const char *p = strstr(r.out, "\nfds=");
	cr_assert_not_null(p, "no report from the new program:\n%s\n%s", r.out, r.err);
	return fd_list_has(p + 5, fd);
}

Test(fd_named_forms, named_fd_reaches_the_new_program)
{
	for (size_t i = 0; i < NFORMS; i++) {
		cr_assert(reaches_child(&forms[i], "plain", 0),
			  "%s: not passed even without the shim:\n%s", forms[i].who, r.out);
		cr_expect(reaches_child(&forms[i], "plain", 1),
			  "%s: named fd withheld under enforce:\n%s", forms[i].who, r.out);
	}
}

/* A raw pipe2() no preload sees leaks without the shim; under it a number
 * naming it is a stray number, not a reason to keep it. */
Test(fd_named_forms, stray_number_keeps_no_leaked_fd)
{
	for (size_t i = 0; i < NFORMS; i++) {
		cr_assert(reaches_child(&forms[i], "raw", 0),
			  "%s: the raw fd did not leak without the shim:\n%s",
			  forms[i].who, r.out);
		cr_expect(!reaches_child(&forms[i], "raw", 1),
			  "%s: a stray number kept an fd the program never made "
			  "inheritable:\n%s", forms[i].who, r.out);
	}
}

Test(fd_named_forms, program_cloexec_fd_stays_closed)
{
	for (size_t i = 0; i < NFORMS; i++) {
		cr_assert(!reaches_child(&forms[i], "own", 0), "%s:\n%s",
			  forms[i].who, r.out);
		cr_expect(!reaches_child(&forms[i], "own", 1),
			  "%s: the program's own close-on-exec fd crossed:\n%s",
			  forms[i].who, r.out);
	}
}

/* An fd made `how` and named as dpkg's --status-fd reaches the new program
 * without the shim (or the case proves nothing) and under enforce. */
static void named_by_dpkg_reaches_the_new_program(const char *how)
{
	const struct form *dpkg = NULL;
	for (size_t i = 0; i < NFORMS; i++)
		if (!strcmp(forms[i].who, "dpkg"))
			dpkg = &forms[i];
	cr_assert_not_null(dpkg);
	cr_assert(reaches_child(dpkg, how, 0), "%s without the shim:\n%s", how,
		  r.out);
	cr_expect(reaches_child(dpkg, how, 1),
		  "%s: named fd withheld under enforce:\n%s", how, r.out);
}

/* fds libc opens itself (tmpfile(), posix_openpt(), getpt(), openpty(),
 * forkpty()) or other creating calls make (ioctl(TIOCGPTPEER),
 * fanotify_init(), open_by_handle_at(), as root), inheritable without the
 * shim: a program
 * that names one hands it on.  No interposer saw them made, so the shim
 * took them for leaks and withheld them. */
Test(fd_named_forms, fds_libc_opens_itself_reach_the_new_program)
{
	static const char *const hows[] = { "tmpfile", "openpt", "getpt",
					    "openpty", "ptyslave", "forkpty",
					    "ptpeer", "fanotify", "handle" };
	for (size_t i = 0; i < sizeof hows / sizeof *hows; i++)
		if (geteuid() == 0 || (strcmp(hows[i], "fanotify") &&
				       strcmp(hows[i], "handle")))
			named_by_dpkg_reaches_the_new_program(hows[i]);
}

/* The new mount API's fds (open_tree(), fsopen(), fsmount(), fspick()),
 * made without their CLOEXEC flags and named: they reach the new program
 * as without the shim.  No interposer saw them made, so the shim took them
 * for leaks and withheld them.  fsopen() and what follows it need
 * CAP_SYS_ADMIN: skipped on EPERM. */
Test(fd_named_forms, mount_api_fds_reach_the_new_program)
{
	int ctx = (int)syscall(SYS_fsopen, "tmpfs", 1 /* FSOPEN_CLOEXEC */);
	if (ctx < 0)
		cr_skip_test("the new mount API needs CAP_SYS_ADMIN (EPERM here)");
	close(ctx);
	static const char *const hows[] = { "open_tree", "fsopen", "fsmount",
					    "fspick" };
	for (size_t i = 0; i < sizeof hows / sizeof *hows; i++)
		named_by_dpkg_reaches_the_new_program(hows[i]);
}

/* A huge LISTEN_FDS (no LISTEN_PID: any process) names every fd from 3 on:
 * each the program made inheritable reaches the new program, as with
 * LISTEN_FDS=2; an inheritable fd no interposer saw made (a leak) and the
 * program's own close-on-exec one do not.  One row per count. */
Test(fd_named_forms, listen_fds_of_any_count_name_the_open_fds)
{
	static const char *const counts[] = { "LISTEN_FDS=8", "LISTEN_FDS=1000",
					      "LISTEN_FDS=1048573" };
	for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
		const struct form f = { "systemd", counts[i], { NULL }, 0 };
		for (int shim = 0; shim < 2; shim++) {
			cr_assert(reaches_child(&f, "plain", shim), "%s %s:\n%s",
				  counts[i], shim ? "shim" : "no shim", r.out);
			int junk, own, raw;
			cr_assert_eq(sscanf(r.out, "fd=%*d junk=%d own=%d raw=%d",
					    &junk, &own, &raw), 3, "%s", r.out);
			const char *fds = strstr(r.out, "\nfds=") + 5;
			cr_expect(fd_list_has(fds, junk), "%s: junk fd %d withheld:\n%s",
				  counts[i], junk, r.out);
			cr_expect(!fd_list_has(fds, own), "%s: close-on-exec fd %d "
				  "crossed:\n%s", counts[i], own, r.out);
			cr_expect(fd_list_has(fds, raw) == !shim, "%s %s: raw fd %d:\n%s",
				  counts[i], shim ? "shim" : "no shim", raw, r.out);
		}
	}
}

/* uWSGI's graceful reload: the master execs itself with UWSGI_RELOADS=N
 * and finds its listener again among its fds.  Without the shim the
 * listener crosses; under enforce it did not (the new master bound again
 * and every reload refused requests).  Now it crosses under every mode,
 * the pipe nobody asked for is withheld under enforce only, and audit
 * logs exactly what enforce does: the pipe, not the listener. */
Test(fd_named_forms, uwsgi_reload_keeps_the_listener)
{
	char log_path[512], log_env[560];
	static char logs[3][4096];
	const char *modes[] = { "", "enforce", "audit" };
	int listener = -1, junk = -1;
	for (int m = 0; m < 3; m++) {
		char mode_env[64];
		snprintf(mode_env, sizeof mode_env, "NOLEAK_MODE=%s", modes[m]);
		snprintf(log_path, sizeof log_path, "%s/reload-%d.log", tmpdir(), m);
		snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log_path);
		char *env[] = { mode_env, log_env, "UWSGI_RELOADS=", NULL };
		char *argv[] = { (char *)top("build/fixtures/fdh_reload"), NULL };
		cr_assert_eq(run(&r, argv, env, m != 0, TIMEOUT, ""), 0);
		cr_assert_eq(exit_code(&r), 0, "%s: exit %d\n%s\n%s", modes[m],
			     exit_code(&r), r.out, r.err);
		int port;
		cr_assert_eq(sscanf(r.out, "listener=%d port=%d junk=%d",
				    &listener, &port, &junk), 3, "%s", r.out);
		char want[64];
		snprintf(want, sizeof want, "\ninherited=%d port=%d\n", listener,
			 port);
		cr_expect_not_null(strstr(r.out, want),
				   "mode '%s': the listener did not cross the "
				   "reload:\n%s", modes[m], r.out);
		const char *open = strstr(r.out, "\nopen=");
		cr_assert_not_null(open, "%s", r.out);
		cr_expect_eq(fd_list_has(open + 6, junk), m != 1,
			     "mode '%s': the pipe %s:\n%s", modes[m],
			     m == 1 ? "crossed" : "was withheld", r.out);
		snprintf(logs[m], sizeof logs[m], "%s", slurp(log_path));
	}
	char fd_key[32];
	for (int m = 1; m < 3; m++) {
		snprintf(fd_key, sizeof fd_key, "\"fd\":%d,", listener);
		cr_expect_eq(count_lines_with(logs[m], fd_key), 0,
			     "mode %s logged the listener:\n%s", modes[m], logs[m]);
		snprintf(fd_key, sizeof fd_key, "\"fd\":%d,", junk);
		cr_expect_eq(count_lines_with(logs[m], fd_key), 1,
			     "mode %s did not log the pipe:\n%s", modes[m], logs[m]);
	}
	cr_expect_not_null(strstr(logs[1], "\"action\":\"closed\""), "%s", logs[1]);
}
