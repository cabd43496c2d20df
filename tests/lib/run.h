/* Running real processes from integration tests. */
#ifndef NOLEAK_TEST_RUN_H
#define NOLEAK_TEST_RUN_H

#include <stddef.h>
#include <sys/types.h>

struct run_result {
	int status;          /* wait status; -1 when it could not run */
	int timed_out;       /* killed after the timeout */
	double seconds;      /* wall time */
	char out[65536];     /* stdout, NUL-terminated (truncated) */
	char err[65536];     /* stderr, NUL-terminated (truncated) */
};

/* Path below the source tree (NOLEAK_TOP, default "."): top("build/x"). */
const char *top(const char *rel);
/* build/libnoleak.so, absolute. */
const char *shim_path(void);
/* A fresh temporary directory for this test. */
const char *tmpdir(void);

/* Run argv with extra "K=V" environment entries (NULL-terminated list, may
 * be NULL) added to the current environment; a variable given as "K=" with
 * an empty value is removed.  stdin is /dev/null unless stdin_text != NULL.
 * The whole process group is killed after timeout_s.  With `shim` set,
 * LD_PRELOAD names libnoleak.so. */
int run(struct run_result *r, char *const argv[], char *const env[],
	int shim, double timeout_s, const char *stdin_text);
/* Same for `sh -c cmd`. */
int run_sh(struct run_result *r, const char *cmd, char *const env[], int shim,
	   double timeout_s);

/* The system calls `calls` (strace's -e trace= list) that `sh -c cmd`
 * and its children make, as strace writes them (static buffer, see
 * slurp()).  Skips the test when strace is not installed; fails it when
 * cmd does not exit 0.  For counting calls: a count does not flake on a
 * loaded machine as a time does. */
const char *trace_calls(const char *calls, const char *cmd);
/* trace_calls of fixture pg_spawn_loop under the shim (enforce, no config
 * file) spawning /bin/true `count` times by `method`; `calls` must include
 * execve.  Fails the test when the loop did not run. */
const char *trace_spawn_loop(const char *calls, const char *method,
			     int count);

/* Whole contents of a file (static buffer of 1 MiB; "" when unreadable). */
const char *slurp(const char *path);
/* Number of lines containing needle. */
int count_lines_with(const char *text, const char *needle);
/* The sum of the numbers that follow each `key` in text (a log's
 * "\"dropped\":" counts, say). */
long sum_after(const char *text, const char *key);

int exit_code(const struct run_result *r);  /* -1 unless exited normally */

/* Whether the list "3,7,20" at the start of s (what fdh_fds prints after
 * "fds=") holds fd. */
int fd_list_has(const char *s, int fd);

#endif
