/* Helpers of the read watchdog's integration tests: a program run in the
 * background while the test watches its event log, and the few facts the
 * tests read out of events and fixture output. */
#ifndef NOLEAK_TEST_WATCH_UTIL_H
#define NOLEAK_TEST_WATCH_UTIL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "run.h"

/* run() (run.h) on a thread of its own. */
struct watch_run {
	struct run_result r;
	char *argv[8];
	char *env[8];
	int shim;
	double timeout_s;
	double t0;             /* monotonic, when it was started */
	atomic_int done;       /* run() returned */
	pthread_t thread;
};

double watch_now(void);
/* Start argv with the extra environment env (as run() does: NOLEAK_* and
 * LD_PRELOAD of the test's own environment are dropped; `shim` preloads
 * libnoleak.so), killed after timeout_s.  At most 7 entries in each. */
void watch_start(struct watch_run *w, const char *const argv[],
		 const char *const env[], int shim, double timeout_s);
void watch_join(struct watch_run *w);

/* Poll the file at `log` until a line holds the event `kind`, at most until
 * `until_s` seconds after w started.  Returns whether it did while w was
 * still running (the event came while the program still waited). */
int watch_event_while_running(struct watch_run *w, const char *log,
			      const char *kind, double until_s);

/* The first line of text that is an event of `kind` ("event":"kind") and
 * holds `also` (NULL: anything), copied into buf; NULL when none. */
const char *event_line(const char *text, const char *kind, const char *also,
		       char *buf, size_t cap);
/* The event's ts, as seconds since the epoch; -1 when absent. */
double event_ts(const char *line);
/* The culprit object {"pid":PID,...} in line, copied into buf; NULL when
 * none. */
const char *culprit_of(const char *line, long pid, char *buf, size_t cap);
/* Whether the object's "fds" list holds fd. */
int culprit_holds(const char *culprit, int fd);

/* The number after "key=" in a fixture's output; -1 when absent. */
long out_long(const char *text, const char *key);
double out_double(const char *text, const char *key);

/* The log file of a test: "<fresh tmpdir>/events.log", and the matching
 * "NOLEAK_LOG=..." entry for run()'s environment. */
struct watch_log {
	char path[256];
	char env[300];
};
void watch_log_init(struct watch_log *l);

#endif
