/* Helpers of the read watchdog's integration tests: see watch_util.h. */
#include "watch_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double watch_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *run_thread(void *arg)
{
	struct watch_run *w = arg;
	run(&w->r, w->argv, w->env, w->shim, w->timeout_s, NULL);
	atomic_store(&w->done, 1);
	return NULL;
}

static void copy_list(char **dst, const char *const src[], size_t max)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < max; i++)
		dst[i] = (char *)src[i];
	dst[i] = NULL;
}

static void prepare(struct watch_run *w, const char *const argv[],
		    const char *const env[], int shim, double timeout_s)
{
	copy_list(w->argv, argv, 8);
	copy_list(w->env, env, 8);
	w->shim = shim;
	w->timeout_s = timeout_s;
	atomic_store(&w->done, 0);
}

void watch_start(struct watch_run *w, const char *const argv[],
		 const char *const env[], int shim, double timeout_s)
{
	prepare(w, argv, env, shim, timeout_s);
	w->t0 = watch_now();
	if (pthread_create(&w->thread, NULL, run_thread, w))
		abort();
}

void watch_join(struct watch_run *w)
{
	pthread_join(w->thread, NULL);
}

int watch_event_while_running(struct watch_run *w, const char *log,
			      const char *kind, double until_s)
{
	char line[8192];
	for (;;) {
		/* `done` first: an event seen after it may have come late. */
		int finished = atomic_load(&w->done);
		if (event_line(slurp(log), kind, NULL, line, sizeof line))
			return !finished;
		if (finished || watch_now() - w->t0 > until_s)
			return 0;
		usleep(20000);
	}
}

const char *event_line(const char *text, const char *kind, const char *also,
		       char *buf, size_t cap)
{
	char needle[96];
	snprintf(needle, sizeof needle, "\"event\":\"%s\"", kind);
	for (const char *s = text; s && *s;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		if (memmem(s, len, needle, strlen(needle)) &&
		    (!also || memmem(s, len, also, strlen(also)))) {
			snprintf(buf, cap, "%.*s", (int)len, s);
			return buf;
		}
		s = nl ? nl + 1 : NULL;
	}
	return NULL;
}

double event_ts(const char *line)
{
	const char *t = line ? strstr(line, "\"ts\":\"") : NULL;
	struct tm tm;
	double sec;
	memset(&tm, 0, sizeof tm);
	if (!t || sscanf(t + 6, "%d-%d-%dT%d:%d:%lfZ", &tm.tm_year, &tm.tm_mon,
			 &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) + sec;
}

const char *culprit_of(const char *line, long pid, char *buf, size_t cap)
{
	char needle[48];
	snprintf(needle, sizeof needle, "{\"pid\":%ld,", pid);
	const char *s = line ? strstr(line, needle) : NULL;
	if (!s)
		return NULL;
	const char *e = strchr(s, '}');   /* culprit objects are flat */
	size_t len = e ? (size_t)(e - s + 1) : strlen(s);
	snprintf(buf, cap, "%.*s", (int)len, s);
	return buf;
}

int culprit_holds(const char *culprit, int fd)
{
	const char *l = culprit ? strstr(culprit, "\"fds\":[") : NULL;
	if (!l)
		return 0;
	for (l += 7; *l && *l != ']';) {
		char *end;
		long v = strtol(l, &end, 10);
		if (end == l)
			return 0;
		if (v == fd)
			return 1;
		l = *end == ',' ? end + 1 : end;
	}
	return 0;
}

static const char *after_key(const char *text, const char *key)
{
	char needle[64];
	snprintf(needle, sizeof needle, "%s=", key);
	for (const char *s = text; (s = strstr(s, needle)); s++)
		if (s == text || s[-1] == ' ' || s[-1] == '\n')
			return s + strlen(needle);
	return NULL;
}

long out_long(const char *text, const char *key)
{
	const char *v = after_key(text, key);
	return v ? strtol(v, NULL, 10) : -1;
}

double out_double(const char *text, const char *key)
{
	const char *v = after_key(text, key);
	return v ? strtod(v, NULL) : -1;
}

void watch_log_init(struct watch_log *l)
{
	snprintf(l->path, sizeof l->path, "%s/events.log", tmpdir());
	snprintf(l->env, sizeof l->env, "NOLEAK_LOG=%s", l->path);
}
