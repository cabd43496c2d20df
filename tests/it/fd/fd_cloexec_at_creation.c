/* Every fd a program creates is close-on-exec from the start in enforce
 * mode, atomically, whatever call made it; audit mode leaves the flag
 * alone.  Numbers the program chose (dup2/dup3 targets) and stdio refilled
 * by the lowest-free-fd rule stay inheritable. */
#include <criterion/criterion.h>

#include <linux/close_range.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0

static struct run_result r;

/* Criterion's own fds must not reach the programs under test. */
static void init(void)
{
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	cr_assert_eq(access(top("build/fixtures/fdh_create"), X_OK), 0,
		     "build/fixtures/fdh_create missing");
}

TestSuite(fd_cloexec_at_creation, .init = init);

static void create(char *const env[], int shim)
{
	char *argv[] = { (char *)top("build/fixtures/fdh_create"), NULL };
	cr_assert_eq(run(&r, argv, env, shim, TIMEOUT, ""), 0);
	cr_assert_eq(exit_code(&r), 0, "fdh_create failed: %s", r.err);
	cr_assert(strstr(r.err, "--- end ---"), "incomplete: %s", r.err);
	cr_assert_null(strstr(r.err, "error"), "a call failed: %s", r.err);
}

/* The value of "name=" in the fixture's report, or -1. */
static int flag(const char *name)
{
	char key[96];
	snprintf(key, sizeof key, "%s=", name);
	size_t klen = strlen(key);
	for (const char *line = r.err; line && *line;) {
		if (!strncmp(line, key, klen))
			return line[klen] - '0';
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return -1;
}

/* Every "name=V" line before the stdio section has value want; returns how
 * many there were. */
static int expect_all_created(int want, const char *what)
{
	int n = 0;
	const char *end = strstr(r.err, "--- stdio ---");
	cr_assert_not_null(end);
	for (const char *line = r.err; line < end;) {
		const char *nl = strchr(line, '\n');
		const char *eq = memchr(line, '=', (size_t)(nl - line));
		cr_assert_not_null(eq, "bad line in %s", r.err);
		cr_expect_eq(eq[1] - '0', want, "%s: %.*s", what, (int)(nl - line), line);
		n++;
		line = nl + 1;
	}
	return n;
}

static const char *const every_call[] = {
	"open", "open64", "openat", "openat64", "open_creat", "creat", "creat64",
	"__open_2", "__open64_2", "__openat_2", "__openat64_2",
	"mkstemp", "mkostemp", "mkstemps", "mkostemps", "mkstemp64",
	"fopen", "fopen64", "freopen", "pipe.0", "pipe.1", "pipe2.0", "pipe2.1",
	"socket", "socketpair.0", "socketpair.1", "accept", "accept4", "dup",
	"fcntl_dupfd", "fcntl64_dupfd", "recvmsg", "epoll_create",
	"epoll_create1", "eventfd", "timerfd_create", "signalfd",
	"inotify_init", "inotify_init1", "memfd_create", "getpt",
	"ioctl_tiocgptpeer", "openpty.0",
	"openpty.1", "forkpty", NULL,
};

/* Reported by the fixture when it runs as root (privileged calls). */
static const char *const root_call[] = {
	"fanotify_init", "open_by_handle_at", NULL,
};

/* The new mount API, reported by root when it may use it: skipped where
 * fsopen() gives EPERM (no CAP_SYS_ADMIN in a container). */
static const char *const mount_call[] = {
	"open_tree", "fsopen", "fsmount", "fspick", NULL,
};

static int mount_api_allowed(void)
{
	int fd = (int)syscall(SYS_fsopen, "tmpfs", 1 /* FSOPEN_CLOEXEC */);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* The calls the fixture reports here, NULL-terminated. */
static const char *const *calls(void)
{
	static const char *all[sizeof every_call / sizeof *every_call +
			       sizeof root_call / sizeof *root_call +
			       sizeof mount_call / sizeof *mount_call];
	int n = 0;
	for (int i = 0; every_call[i]; i++)
		all[n++] = every_call[i];
	for (int i = 0; geteuid() == 0 && root_call[i]; i++)
		all[n++] = root_call[i];
	int mount_api = geteuid() == 0 && mount_api_allowed();
	for (int i = 0; mount_api && mount_call[i]; i++)
		all[n++] = mount_call[i];
	all[n] = NULL;
	return all;
}

Test(fd_cloexec_at_creation, without_the_shim_no_call_sets_the_flag)
{
	create(NULL, 0);
	int n = expect_all_created(0, "no shim");
	int want = 0;
	while (calls()[want])
		want++;
	cr_assert_eq(n, want, "fixture reported %d calls: %s", n, r.err);
}

Test(fd_cloexec_at_creation, enforce_sets_the_flag_on_every_created_fd)
{
	char *env[] = { "NOLEAK_MODE=enforce", NULL };
	/* The same program without the shim gets inheritable fds. */
	const char *const *call = calls();
	create(env, 0);
	for (int i = 0; call[i]; i++)
		cr_assert_eq(flag(call[i]), 0, "%s: close-on-exec without the shim",
			     call[i]);
	create(env, 1);
	for (int i = 0; call[i]; i++)
		cr_expect_eq(flag(call[i]), 1, "%s: fd not close-on-exec",
			     call[i]);
	expect_all_created(1, "enforce");
}

Test(fd_cloexec_at_creation, enforce_is_the_default_mode)
{
	create(NULL, 1);
	expect_all_created(1, "default mode");
}

Test(fd_cloexec_at_creation, audit_leaves_every_flag_alone)
{
	char *env[] = { "NOLEAK_MODE=audit", NULL };
	const char *const *call = calls();
	create(env, 1);
	for (int i = 0; call[i]; i++)
		cr_expect_eq(flag(call[i]), 0, "%s: audit changed the flag",
			     call[i]);
}

/* open_tree, fsopen, fsmount and fspick without their CLOEXEC flags: the
 * fd is close-on-exec under enforce only, as any other creating call's. */
Test(fd_cloexec_at_creation, mount_api_fds_close_on_exec_under_enforce_only)
{
	if (geteuid() != 0 || !mount_api_allowed())
		cr_skip_test("the new mount API needs CAP_SYS_ADMIN (EPERM here)");
	static const struct { const char *mode; int shim, want; } rows[] = {
		{ "NOLEAK_MODE=enforce", 0, 0 }, { "NOLEAK_MODE=enforce", 1, 1 },
		{ "NOLEAK_MODE=audit", 1, 0 }, { "NOLEAK_MODE=off", 1, 0 },
	};
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		char *env[] = { (char *)rows[i].mode, NULL };
		create(env, rows[i].shim);
		for (int c = 0; mount_call[c]; c++)
			cr_expect_eq(flag(mount_call[c]), rows[i].want,
				     "%s%s: %s close-on-exec %d, want %d",
				     rows[i].mode, rows[i].shim ? "" : " (no shim)",
				     mount_call[c], flag(mount_call[c]),
				     rows[i].want);
	}
}

/* Without CAP_SYS_ADMIN, fsopen, fsmount and fspick fail with EPERM and
 * open_tree of a path (no OPEN_TREE_CLONE) works: the same results, errno
 * and flags without the shim, under audit and under enforce (which only
 * sets the flag of the fd open_tree made).  Through ctypes, so that the
 * calls reach the interposers by name. */
Test(fd_cloexec_at_creation, mount_api_unprivileged_as_without_the_shim)
{
	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK))
		cr_skip_test("needs root and setpriv to drop privileges");
	char *argv[] = { "/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
		"--clear-groups", "--inh-caps=-all", "/usr/bin/python3", "-c",
		"import ctypes, fcntl, os\n"
		"c = ctypes.CDLL(None, use_errno=True)\n"
		"def show(name, r):\n"
		"    e = ctypes.get_errno() if r < 0 else 0\n"
		"    fl = fcntl.fcntl(r, fcntl.F_GETFD) if r >= 0 else '-'\n"
		"    print(name, r, os.strerror(e) if e else '-', fl)\n"
		"show('open_tree', c.open_tree(-100, b'/tmp', 0))\n"
		"show('fsopen', c.fsopen(b'tmpfs', 0))\n"
		"show('fsmount', c.fsmount(-1, 0, 0))\n"
		"show('fspick', c.fspick(-100, b'/', 0))\n", NULL };
	static struct run_result without;
	char *none[] = { "NOLEAK_MODE=", NULL };
	cr_assert_eq(run(&without, argv, none, 0, TIMEOUT, ""), 0);
	cr_assert_eq(exit_code(&without), 0, "%s", without.err);
	cr_assert(strstr(without.out, "fsopen -1 Operation not permitted -\n"),
		  "fsopen did not fail with EPERM without privilege: %s",
		  without.out);
	char *audit[] = { "NOLEAK_MODE=audit", NULL };
	cr_assert_eq(run(&r, argv, audit, 1, TIMEOUT, ""), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect_str_eq(r.out, without.out, "audit");
	char *enforce[] = { "NOLEAK_MODE=enforce", NULL };
	cr_assert_eq(run(&r, argv, enforce, 1, TIMEOUT, ""), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	int fd;
	cr_assert_eq(sscanf(without.out, "open_tree %d - 0\n", &fd), 1, "%s",
		     without.out);
	char want[sizeof without.out];
	snprintf(want, sizeof want, "open_tree %d - 1\n%s", fd,
		 strchr(without.out, '\n') + 1);
	cr_expect_str_eq(r.out, want, "enforce");
}

Test(fd_cloexec_at_creation, chosen_numbers_keep_posix_semantics)
{
	create(NULL, 1);
	cr_expect_eq(flag("dup2_target"), 0, "dup2 target made close-on-exec");
	cr_expect_eq(flag("dup3_target"), 0, "dup3(..., 0) target made close-on-exec");
	cr_expect_eq(flag("dup3_cloexec_target"), 1, "dup3 O_CLOEXEC lost its flag");
}

Test(fd_cloexec_at_creation, stdio_refilled_stays_inheritable)
{
	create(NULL, 1);
	cr_expect_eq(flag("open_onto_0"), 0, "close(0); open() gave a close-on-exec 0");
	cr_expect_eq(flag("dup_onto_0"), 0, "close(0); dup() gave a close-on-exec 0");
	cr_expect_eq(flag("pipe_onto_0"), 0, "close(0); pipe() gave a close-on-exec 0");
	cr_expect_eq(flag("freopen_stdout"), 0, "freopen onto stdout made fd 1 close-on-exec");
}

/* tar's way of feeding gzip: close(0), dup() the pipe onto it, exec. */
Test(fd_cloexec_at_creation, refilled_stdin_reaches_the_child)
{
	char *argv[] = { "/usr/bin/python3", "-c",
		"import os\n"
		"os.close(0)\n"
		"r, w = os.pipe2(0)\n"
		"os.write(w, b'through-stdin\\n'); os.close(w)\n"
		"print('stdin_fd', r, flush=True)\n"
		"os.execv('/bin/cat', ['cat'])\n", NULL };
	cr_assert_eq(run(&r, argv, NULL, 1, TIMEOUT, ""), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect(strstr(r.out, "stdin_fd 0\n"), "pipe not on 0: %s", r.out);
	cr_expect(strstr(r.out, "through-stdin\n"), "cat did not read it: %s / %s",
		  r.out, r.err);
}
