/* Helpers of the socket integration tests: programs that run in the
 * background while the test plays their peer. */
#ifndef NOLEAK_TEST_SOCK_UTIL_H
#define NOLEAK_TEST_SOCK_UTIL_H

#include <stddef.h>
#include <sys/types.h>

struct bg {
	pid_t pid;            /* leader of its own process group; 0 when none */
	int out;              /* its stdout and stderr */
	char text[16384];     /* everything read so far, NUL-terminated */
	size_t len;
};

/* Start argv in the background with extra "K=V" environment entries (as
 * run() in run.h: NOLEAK_* and LD_PRELOAD of the test's own environment are
 * dropped; `shim` preloads libnoleak.so).  Returns 0 or -1. */
int bg_start(struct bg *b, char *const argv[], char *const env[], int shim);
/* Wait up to timeout_s for a line starting with `prefix`; returns a copy of
 * it (static buffer) or NULL. */
const char *bg_line(struct bg *b, const char *prefix, double timeout_s);
/* Kill the process group and reap the leader. */
void bg_stop(struct bg *b);

double mono_now(void);
/* Connect a blocking TCP socket to 127.0.0.1:port; -1 on failure. */
int tcp_connect_local(int port);

#endif
