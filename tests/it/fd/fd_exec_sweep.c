/* The exec sweep on every path by which a program starts another: the new
 * program holds stdio, the fds kept by policy and the fds the program meant
 * to pass, and nothing else.  Without the shim the same program leaks. */
#include <criterion/criterion.h>

#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0
#define MAX_FD 1024

static struct run_result r;

static void init(void)
{
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	cr_assert_eq(access(top("build/fixtures/fdh_exec_paths"), X_OK), 0,
		     "build/fixtures/fdh_exec_paths missing");
	cr_assert_eq(access(top("build/fixtures/fdh_fds"), X_OK), 0,
		     "build/fixtures/fdh_fds missing");
}

TestSuite(fd_exec_sweep, .init = init);

/* The list after "key=" at the start of a line, as a set of fd numbers;
 * false when there is no such line. */
static int fd_set_of(const char *text, const char *key, char set[MAX_FD])
{
	memset(set, 0, MAX_FD);
	size_t klen = strlen(key);
	for (const char *line = text; line && *line;) {
		if (!strncmp(line, key, klen) && line[klen] == '=') {
			const char *p = line + klen + 1;
			while (*p >= '0' && *p <= '9') {
				long fd = strtol(p, (char **)&p, 10);
				if (fd >= 0 && fd < MAX_FD)
					set[fd] = 1;
				if (*p == ',')
					p++;
			}
			return 1;
		}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return 0;
}

static void run_via(const char *via, int shim)
{
	static char path[4096];
	snprintf(path, sizeof path, "PATH=%s:/usr/bin:/bin", top("build/fixtures"));
	char *env[] = { path, "NOLEAK_KEEP_FDS=30", NULL };
	char *argv[] = { (char *)top("build/fixtures/fdh_exec_paths"), (char *)via,
			 NULL };
	cr_assert_eq(run(&r, argv, env, shim, TIMEOUT, ""), 0);
	cr_assert(!r.timed_out, "%s timed out", via);
	cr_assert_eq(exit_code(&r), 0, "%s (shim=%d): exit %d\nout: %s\nerr: %s",
		     via, shim, exit_code(&r), r.out, r.err);
}

/* Under the shim the new program holds exactly the kept fds; without it,
 * it also holds every junk fd. */
static void check_path(const char *via)
{
	char keep[MAX_FD], junk[MAX_FD], got[MAX_FD];

	run_via(via, 0);
	cr_assert(fd_set_of(r.out, "keep", keep) && fd_set_of(r.out, "junk", junk) &&
		  fd_set_of(r.out, "fds", got), "%s: bad output: %s", via, r.out);
	for (int fd = 0; fd < MAX_FD; fd++)
		if (junk[fd])
			cr_assert(got[fd], "%s without the shim: junk fd %d did not "
				  "leak, so the test proves nothing:\n%s", via, fd, r.out);

	run_via(via, 1);
	cr_assert(fd_set_of(r.out, "keep", keep) && fd_set_of(r.out, "junk", junk) &&
		  fd_set_of(r.out, "fds", got), "%s: bad output: %s", via, r.out);
	for (int fd = 3; fd < MAX_FD; fd++) {
		if (keep[fd])
			cr_expect(got[fd], "%s: kept fd %d did not reach the new "
				  "program:\n%s", via, fd, r.out);
		else if (got[fd])
			cr_expect(0, "%s: fd %d leaked into the new program (%s):\n%s",
				  via, fd, junk[fd] ? "junk" : "unexpected", r.out);
	}
}

Test(fd_exec_sweep, execve) { check_path("execve"); }
Test(fd_exec_sweep, execv) { check_path("execv"); }
Test(fd_exec_sweep, execvp) { check_path("execvp"); }
Test(fd_exec_sweep, execvpe) { check_path("execvpe"); }
Test(fd_exec_sweep, execl) { check_path("execl"); }
Test(fd_exec_sweep, execlp) { check_path("execlp"); }
Test(fd_exec_sweep, execle) { check_path("execle"); }
Test(fd_exec_sweep, fexecve) { check_path("fexecve"); }
Test(fd_exec_sweep, execveat) { check_path("execveat"); }
Test(fd_exec_sweep, posix_spawn) { check_path("posix_spawn"); }
Test(fd_exec_sweep, posix_spawnp) { check_path("posix_spawnp"); }
Test(fd_exec_sweep, vfork_execve) { check_path("vfork"); }
Test(fd_exec_sweep, popen) { check_path("popen"); }
Test(fd_exec_sweep, _IO_popen) { check_path("_IO_popen"); }
Test(fd_exec_sweep, system) { check_path("system"); }
