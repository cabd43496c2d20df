/* make demo, the main job: examples/demo.sh runs the five bundled incidents
 * without the shim, under audit and under enforce.  Its narrative must show
 * each incident happening without the shim and fixed under enforce, the
 * whole run must take less than two minutes, and nothing it started may be
 * left running. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"

#define DEMO_TIMEOUT 120.0

static struct run_result r;

static void init(void)
{
	static const char *need[] = {
		"examples/demo.sh", "build/noleak", "build/libnoleak.so",
		"build/examples/pipe_eof_hang", "build/examples/killed_shell",
		"build/examples/thread_race", "build/examples/vanished_peer",
		"build/examples/dead_stdin",
	};
	for (size_t i = 0; i < sizeof need / sizeof *need; i++)
		cr_assert_eq(access(top(need[i]), X_OK), 0, "%s missing", need[i]);
}

TestSuite(demo, .init = init, .timeout = DEMO_TIMEOUT + 30);

/* The summary line of incident n ("  n. NAME  without the shim: ..."). */
static const char *summary_line(int n)
{
	static char line[256];
	const char *s = strstr(r.out, "=== Summary ===");
	char head[8];
	snprintf(head, sizeof head, "\n  %d. ", n);
	const char *at = s ? strstr(s, head) : NULL;
	if (!at)
		return "";
	at++;
	size_t len = strcspn(at, "\n");
	if (len >= sizeof line)
		len = sizeof line - 1;
	memcpy(line, at, len);
	line[len] = 0;
	return line;
}

/* Live processes that carry the demo's marker in their environment. */
/* This run's tag: another demo may be running beside this one. */
static char mark[64];

static int demo_processes_left(void)
{
	DIR *d = opendir("/proc");
	int left = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[300];
		static char env[1 << 16];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/environ", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, env, sizeof env - 1);
		close(fd);
		size_t m = strlen(mark);
		for (ssize_t i = 0; i + (ssize_t)m <= n; i++)
			if (!memcmp(env + i, mark, m) && env[i + m] == '\0') {
				left++;
				break;
			}
	}
	if (d)
		closedir(d);
	return left;
}

Test(demo, shows_each_incident_and_its_fix)
{
	char *argv[] = { (char *)top("examples/demo.sh"), NULL };
	/* DEMO_RUN_ID names this run's tag (DEMO_TAG=noleak-demo-ID). */
	char id[32];
	snprintf(id, sizeof id, "DEMO_RUN_ID=test-%d", (int)getpid());
	snprintf(mark, sizeof mark, "DEMO_TAG=noleak-demo-test-%d", (int)getpid());
	char *env[] = { id, NULL };
	cr_assert_eq(run(&r, argv, env, 0, DEMO_TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "make demo took more than %.0f s:\n%s%s",
		  DEMO_TIMEOUT, r.out, r.err);

	/* The messages name what is wrong; the narrative is shown once. */
	int ok = 1;
	for (int n = 1; n <= 5; n++) {
		const char *l = summary_line(n);
		if (!strstr(l, "without the shim: fails")) {
			cr_log_error("incident %d did not fail without the shim: "
				     "'%s'", n, l);
			ok = 0;
		}
		if (!strstr(l, "under enforce: fixed")) {
			cr_log_error("incident %d was not fixed under enforce: "
				     "'%s'", n, l);
			ok = 0;
		}
	}

	/* The narrative shows what happened, in the programs' own words. */
	static const char *said[] = {
		"| agent: output complete after 3.",     /* 1: the hang */
		"| agent: output complete after 0.",     /* 1: fixed */
		"| new agent: cannot bind 127.0.0.1:",   /* 2: port held */
		"again\n",                               /* 2: port free */
		"| server: 0 of 300 helpers",            /* 3: no pipe leaked */
		"| next client: no answer after 4.0 s",  /* 4: never served */
		"| server: read failed after 2.",        /* 4: the timeout */
		"| next client: served after",           /* 4: served */
		"| client: no answer after 2.0 s",       /* 5: console hang */
		"| server: console closed",              /* 5: EOF on stdin */
		"| client: answered after",              /* 5: served */
	};
	for (size_t i = 0; i < sizeof said / sizeof *said; i++)
		if (!strstr(r.out, said[i])) {
			cr_log_error("'%s' missing from the narrative", said[i]);
			ok = 0;
		}
	cr_expect(ok, "the narrative:\n%s%s", r.out, r.err);
	cr_expect_eq(exit_code(&r), 0, "demo.sh exit %d", exit_code(&r));

	/* Every process the demo started is gone, stray sleeps included. */
	int left = demo_processes_left();
	for (int i = 0; i < 20 && left; i++) {
		usleep(50 * 1000);
		left = demo_processes_left();
	}
	cr_expect_eq(left, 0, "%d demo processes left running", left);
}
