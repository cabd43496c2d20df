/* A wait on an epoll instance with many targets: the wait_blocked event
 * counts every fd the instance watches, and lists them while the line has
 * room, then counts the rest in a last entry {"more":N} (the list was cut
 * at 32 fds, and the count with it). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/watch_util.h"

#define PIPES 64

static struct run_result r;
static struct watch_log log_;

/* The end of the JSON value starting at s ('{' or '['), strings skipped. */
static const char *value_end(const char *s)
{
	int depth = 0;
	for (; *s; s++) {
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++)
				if (*s == '\\' && s[1])
					s++;
			continue;
		}
		if (*s == '{' || *s == '[')
			depth++;
		else if ((*s == '}' || *s == ']') && --depth == 0)
			return s + 1;
	}
	return NULL;
}

static void check_call(const char *call)
{
	watch_log_init(&log_);
	char n[16];
	snprintf(n, sizeof n, "%d", PIPES);
	char *argv[] = { (char *)top("build/fixtures/wd_epoll_many"), n,
			 (char *)call, "2500", NULL };
	char *env[] = { "NOLEAK_MODE=audit", "NOLEAK_READ_WARN=1", log_.env,
			NULL };
	cr_assert_eq(access(argv[0], X_OK), 0, "%s missing", argv[0]);
	cr_assert_eq(run(&r, argv, env, 1, 30.0, NULL), 0);
	cr_assert(exit_code(&r) == 0 && !r.timed_out, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "result=0 errno=0"), "%s: %s", call, r.out);

	/* the read ends the instance watches */
	char watched[1024] = { 0 };
	const char *p = strstr(r.out, "rfds=");
	cr_assert(p, "%s", r.out);
	p += 5;
	for (int k = 0; k < PIPES; k++) {
		char *end;
		long fd = strtol(p, &end, 10);
		cr_assert(end != p && fd > 2 && fd < 1024, "%s", r.out);
		watched[fd] = 1;
		p = *end == ',' ? end + 1 : end;
	}

	static char line[8192];
	const char *text = slurp(log_.path);
	cr_assert(event_line(text, "wait_blocked", NULL, line, sizeof line),
		  "%s: no wait_blocked: %s", call, text);
	char want[64];
	snprintf(want, sizeof want, "\"call\":\"%s\"", call);
	cr_expect(strstr(line, want), "%s", line);
	snprintf(want, sizeof want, "\"n_fds\":%d,", PIPES);
	cr_expect(strstr(line, want), "%s: every target counted: %s", call, line);

	/* each entry of "fds": a watched pipe, listed once, or the count of
	 * those left out, last */
	const char *list = strstr(line, "\"fds\":[{");
	cr_assert(list, "%s", line);
	const char *e = list + 7, *list_end = value_end(list + 6);
	cr_assert(list_end, "%s", line);
	char seen[1024] = { 0 };
	int listed = 0;
	long more = 0;
	while (e < list_end - 1) {
		cr_assert_eq(*e, '{', "%s: at %.40s in %s", call, e, line);
		const char *next = value_end(e);
		cr_assert(next, "%s", line);
		cr_assert_eq(more, 0, "%s: an entry after {\"more\"}: %s", call, line);
		if (!strncmp(e, "{\"more\":", 8)) {
			more = strtol(e + 8, NULL, 10);
			cr_expect(more > 0, "%s", line);
		} else {
			cr_assert(!strncmp(e, "{\"fd\":", 6), "%.60s", e);
			long fd = strtol(e + 6, NULL, 10);
			cr_assert(fd > 2 && fd < 1024 && watched[fd] && !seen[fd],
				  "%s: fd %ld is not a watched pipe, or listed twice: %s",
				  call, fd, line);
			seen[fd] = 1;
			cr_expect(!strncmp(strchr(e, ','), ",\"kind\":\"pipe\"", 14),
				  "%.80s", e);
			listed++;
		}
		e = *next == ',' ? next + 1 : next;
	}
	cr_expect(listed > 0, "%s", line);
	cr_expect_eq(listed + more, PIPES,
		     "%s: %d fds listed, %ld counted in more, of %d: %s", call,
		     listed, more, PIPES, line);
}

Test(watch_epoll_many, every_target_counted_and_listed_or_in_more,
     .timeout = 60)
{
	check_call("epoll_wait");
	check_call("epoll_pwait");
}

/* The same pipes waited on by poll() and select(): the line counted 32
 * and listed no more. */
Test(watch_epoll_many, every_fd_of_poll_and_select_counted, .timeout = 60)
{
	check_call("poll");
	check_call("select");
}
