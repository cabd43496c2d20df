/* Calls the shim changes to add close-on-exec must keep every other part of
 * their meaning: each case runs with and without the shim and the results
 * must agree, apart from the flag the shim adds.
 *
 * fopen: glibc reads mode flags from bytes 1 to 6 and the charset after
 * ",ccs=", so the added 'e' goes before the comma ("w,ccs=UTF-8" appended
 * with 'e' names the charset "UTF-8e": EINVAL).
 * execveat: a relative path is reached through dirfd, and the kernel runs
 * no script through a close-on-exec dirfd (ENOENT), so that dirfd crosses
 * the exec when it would have without the shim, and only that exec.
 * RLIMIT_NOFILE 0 (OpenSSH's privilege-separated child): every creating
 * call the shim turns into another (dup into fcntl(F_DUPFD_CLOEXEC, 0),
 * pipe into pipe2, accept into accept4) fails with the errno the program's
 * own call gets (dup: EMFILE, where F_DUPFD_CLOEXEC 0 meets EINVAL). */
#include <criterion/criterion.h>

#include <linux/close_range.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../lib/files.h"
#include "../../lib/run.h"

#define TIMEOUT 20.0

static void init(void)
{
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	cr_assert_eq(access(top("build/fixtures/fdh_quirks"), X_OK), 0,
		     "build/fixtures/fdh_quirks missing");
}

TestSuite(fd_call_quirks, .init = init);

/* The output with " cloexec=N" taken out of every line. */
static void without_flag(char *dst, size_t cap, const char *src)
{
	size_t n = 0;
	while (*src && n + 1 < cap) {
		if (!strncmp(src, " cloexec=", 9) && src[9]) {
			src += 10;
			continue;
		}
		dst[n++] = *src++;
	}
	dst[n] = '\0';
}

static void run_quirks(struct run_result *r, char *const argv[], int shim)
{
	cr_assert_eq(run(r, argv, NULL, shim, TIMEOUT, ""), 0);
	cr_assert_eq(exit_code(r), 0, "fdh_quirks (shim=%d): %s", shim, r->err);
}

/* One row per mode: what glibc makes of it must not change under the shim,
 * and the stream is close-on-exec under it (the program's own 'e' too). */
static const char *const fopen_modes[] = {
	"w", "w,ccs=UTF-8", "a,ccs=UTF-8", "w+,ccs=UTF-16LE", "wb,ccs=UTF-8",
	"we,ccs=UTF-8", "w,ccs=ISO-8859-1", "wx,ccs=UTF-8", "w,ccs=NO-SUCH-SET",
	"wbm", "w+b", NULL,
};

Test(fd_call_quirks, fopen_modes_mean_the_same)
{
	static struct run_result off, on;
	static char a[65536], b[65536];
	char file[600];
	snprintf(file, sizeof file, "%s/f", tmpdir());
	char *argv[32] = { (char *)top("build/fixtures/fdh_quirks"), "fopen", file };
	int n = 3;
	for (int i = 0; fopen_modes[i]; i++)
		argv[n++] = (char *)fopen_modes[i];
	argv[n] = NULL;
	run_quirks(&off, argv, 0);
	run_quirks(&on, argv, 1);
	cr_assert(strstr(off.out, "w,ccs=UTF-8: ok"), "glibc: %s", off.out);
	without_flag(a, sizeof a, off.out);
	without_flag(b, sizeof b, on.out);
	cr_expect_str_eq(b, a, "under the shim:\n%s\nwithout:\n%s", on.out, off.out);
	for (int i = 0; fopen_modes[i]; i++) {
		char opened[128], want[128];
		snprintf(opened, sizeof opened, "%s: ok", fopen_modes[i]);
		snprintf(want, sizeof want, "%s: ok cloexec=1", fopen_modes[i]);
		if (strstr(off.out, opened))
			cr_expect(strstr(on.out, want), "%s is not close-on-exec:\n%s",
				  fopen_modes[i], on.out);
	}
}

struct exec_case {
	const char *name;       /* what NAME is in the directory */
	const char *cloexec;    /* "cloexec": the program's own flag on dirfd */
	const char *want;       /* a line both runs print */
};

static const struct exec_case exec_cases[] = {
	{ "script", NULL, "script ran\n" },
	{ "script", "cloexec", "execveat: error=ENOENT\n" },
	{ "binary", NULL, "binary ran\n" },
	{ "binary", "cloexec", "binary ran\n" },
};

Test(fd_call_quirks, execveat_relative_path_as_without_the_shim)
{
	const char *dir = tmpdir();
	char path[600];
	snprintf(path, sizeof path, "%s/script", dir);
	write_file(path, "#!/bin/sh\necho script ran\n", 0755);
	snprintf(path, sizeof path, "%s/binary", dir);
	char cmd[1400];
	snprintf(cmd, sizeof cmd, "printf '#include <stdio.h>\\nint main(void){puts(\"binary ran\");return 0;}\\n' "
		 "| cc -x c -o '%s' -", path);
	struct run_result cc;
	run_sh(&cc, cmd, NULL, 0, 60);
	cr_assert_eq(exit_code(&cc), 0, "cc: %s", cc.err);
	for (size_t i = 0; i < sizeof exec_cases / sizeof exec_cases[0]; i++) {
		const struct exec_case *c = &exec_cases[i];
		static struct run_result off, on;
		char *argv[] = { (char *)top("build/fixtures/fdh_quirks"), "execveat",
				 (char *)dir, (char *)c->name, (char *)c->cloexec, NULL };
		run_quirks(&off, argv, 0);
		run_quirks(&on, argv, 1);
		cr_assert(strstr(off.out, c->want), "%s %s without the shim: %s",
			  c->name, c->cloexec ? c->cloexec : "", off.out);
		cr_expect(strstr(on.out, c->want), "%s %s under the shim:\n%s\nwithout:\n%s",
			  c->name, c->cloexec ? c->cloexec : "", on.out, off.out);
		/* Only for that exec: after a failed one dirfd is as before,
		 * close-on-exec (the shim's flag) under the shim. */
		cr_expect(strstr(on.out, "dirfd cloexec=1\n"), "%s: %s", c->name, on.out);
	}
}

/* creat() a cancellation point (it went to the raw system call); a
 * stream fopen put on fd 0 reopened by freopen(NULL) stays inheritable
 * (glibc remembered the 'e' the shim added); a stream on a dup2 target
 * reopened so stays inheritable and reaches a child; __open_2's abort
 * says "open", not "openat".  The same lines with and without the shim. */
Test(fd_call_quirks, creat_freopen_and_open_2_as_without_the_shim)
{
	static struct run_result off, on;
	char *argv[] = { (char *)top("build/fixtures/fdh_quirks"), "misc",
			 (char *)tmpdir(), NULL };
	run_quirks(&off, argv, 0);
	cr_assert_eq(count_lines_with(off.out, ": "), 5, "glibc: %s", off.out);
	argv[2] = (char *)tmpdir();
	run_quirks(&on, argv, 1);
	cr_expect_str_eq(on.out, off.out);
}

/* One row per call, each under enforce and audit. */
static const char *const rlimit0_calls[] = {
	"dup", "dup_bad", "dupfd", "dupfd_cloexec", "dupfd_bad", "dup2", "pipe",
	"pipe2", "socket", "socketpair", "accept", "accept4", "open", "eventfd",
};

Test(fd_call_quirks, creating_calls_under_rlimit_0_as_without_the_shim)
{
	static struct run_result off, on;
	enum { N = sizeof rlimit0_calls / sizeof *rlimit0_calls };
	char *argv[N + 3] = { (char *)top("build/fixtures/fdh_quirks"),
			      "rlimit0" };
	for (int i = 0; i < N; i++)
		argv[i + 2] = (char *)rlimit0_calls[i];
	argv[N + 2] = NULL;
	run_quirks(&off, argv, 0);
	for (int i = 0; i < N; i++) {
		char want[64];
		snprintf(want, sizeof want, "%s r=-1 errno=", rlimit0_calls[i]);
		cr_assert(strstr(off.out, want), "glibc: %s", off.out);
	}
	cr_assert(!strncmp(off.out, "dup r=-1 errno=24\n", 18), "glibc: %s",
		  off.out);
	static const char *const modes[] = { "NOLEAK_MODE=enforce",
					     "NOLEAK_MODE=audit" };
	for (int m = 0; m < 2; m++) {
		char *env[] = { (char *)modes[m],
				"NOLEAK_CONFIG=/nonexistent/noleak.conf", NULL };
		cr_assert_eq(run(&on, argv, env, 1, TIMEOUT, ""), 0);
		cr_expect_eq(exit_code(&on), 0, "%s: %s", modes[m], on.err);
		cr_expect_str_eq(on.out, off.out, "%s: under the shim:\n%s\n"
				 "without:\n%s", modes[m], on.out, off.out);
	}
}
