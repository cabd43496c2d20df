/* noleak-report's command line: exit statuses, filters, --top, --json, and
 * logs that are damaged or hostile (truncated lines, invalid UTF-8, wrong
 * types, unknown kinds, NUL bytes, a 2 MiB line). */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/run.h"

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	cr_assert(f, "cannot write %s", path);
	cr_assert_eq(fwrite(data, 1, n, f), n);
	fclose(f);
}

static const char *log_path(const char *dir, const char *name)
{
	static __thread char buf[4][600];
	static __thread int next;
	char *p = buf[next++ % 4];
	snprintf(p, 600, "%s/%s", dir, name);
	return p;
}

/* noleak-report with up to 6 arguments (NULL-terminated). */
static int report(struct run_result *r, const char *stdin_text, ...)
{
	char *argv[12] = { (char *)top("build/noleak-report") };
	va_list ap;
	va_start(ap, stdin_text);
	int n = 1;
	for (const char *s; n < 11 && (s = va_arg(ap, const char *));)
		argv[n++] = (char *)s;
	va_end(ap);
	argv[n] = NULL;
	run(r, argv, NULL, 0, 30, stdin_text);
	cr_assert(!r->timed_out, "noleak-report hung");
	return exit_code(r);
}

static void assert_json_valid(const char *dir, const char *json)
{
	const char *path = log_path(dir, "out.json");
	char cmd[800];
	write_file(path, json, strlen(json));
	struct run_result v;
	snprintf(cmd, sizeof cmd, "python3 -m json.tool '%s' >/dev/null", path);
	run_sh(&v, cmd, NULL, 0, 30);
	cr_assert_eq(exit_code(&v), 0, "not valid JSON (%s):\n%s", v.err, json);
}

/* An event line at `ago` seconds before now. */
static void event_line(char *buf, size_t cap, long ago, const char *kind,
		       const char *exe, const char *extra)
{
	time_t t = time(NULL) - ago;
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(buf, cap,
		 "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.000001Z\",\"event\":\"%s\","
		 "\"pid\":100,\"ppid\":1,\"exe\":\"%s\",\"mode\":\"audit\",\"host\":\"h\"%s}\n",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, kind, exe, extra);
}

#define LEAK ",\"action\":\"would_close\",\"fd\":4,\"kind\":\"pipe\",\"created_by\":\"pipe\"," \
	     "\"module\":\"/usr/bin/agent\",\"offset\":\"0x11c4\",\"via\":\"execve\",\"target\":\"/bin/sh\""

/* Two programs: /usr/bin/agent leaked 3 hours ago, /opt/old/worker 1 hour
 * ago; plus a config error now. */
static const char *timed_log(const char *dir)
{
	char a[1024], b[1024], c[1024], all[4096];
	event_line(a, sizeof a, 3 * 3600, "fd_leak", "/usr/bin/agent", LEAK);
	event_line(b, sizeof b, 3600, "fd_leak", "/opt/old/worker", LEAK);
	event_line(c, sizeof c, 0, "config_error", "/usr/bin/agent",
		   ",\"error\":\"NOLEAK_MODE: bad value\"");
	snprintf(all, sizeof all, "%s%s%s", a, b, c);
	const char *p = log_path(dir, "timed.log");
	write_file(p, all, strlen(all));
	return p;
}

Test(report_cli, hostile_log_is_summarised_not_crashed)
{
	const char *dir = tmpdir();
	static const char good[] =
		"{\"ts\":\"2026-11-29T06:12:59.281268Z\",\"event\":\"fd_leak\",\"pid\":10,"
		"\"exe\":\"/usr/bin/agent\",\"mode\":\"audit\",\"host\":\"h\"" LEAK "}\n";
	size_t big = 2u << 20;
	char *buf = malloc(big + 8192);
	size_t n = 0;
#define ADD(s) (memcpy(buf + n, s, sizeof(s) - 1), n += sizeof(s) - 1)
	ADD(good);
	ADD("{\"ts\":\"2026-11-29T06:13:00Z\",\"event\":\"fd_leak\",\"pid\":1\n"); /* truncated */
	ADD("{\"ts\":\"2026-11-29T06:13:00Z\",\"event\":\"fd_leak\",\"exe\":\"/a\xff\xfe\"}\n");
	ADD("{\"ts\":\"2026-11-29T06:13:00Z\",\"event\":\"fd_leak\",\"pid\":\"x\",\"fd\":\"x\","
	    "\"exe\":7,\"kind\":[1],\"count\":\"lots\",\"action\":false}\n"); /* wrong types: kept */
	ADD("{\"ts\":\"2026-11-29T06:00:00Z\",\"event\":\"from_the_future\",\"pid\":3}\n");
	ADD("{\"ts\":\"2026-11-29T05:00:00Z\",\"event\":\"fd_\0leak\"}\n"); /* NUL byte */
	ADD("\0\0\0\n");
	ADD("{\"ts\":\"2019-01-01T00:00:00Z\",\"event\":\"orphans\",\"exe\":\"/b\",\"action\":"
	    "\"logged\",\"orphan_exe\":\"/usr/bin/sleep\",\"holds_fds\":\"4\"}\n"); /* old ts */
	ADD("{\"event\":42}\n");
	ADD("[\"not an object\"]\n");
	ADD("{\"ts\":\"2026-11-29T06:00:00Z\",\"event\":\"fd_leak\",\"exe\":\"");
	memset(buf + n, 'a', big);
	n += big;
	ADD("\"}\n");
	ADD("{\"ts\":\"2026-11-29T06:14:00Z\",\"event\":\"read_blocked\",\"exe\":\"/usr/bin/agent\","
	    "\"pid\":10,\"fd\":3,\"call\":\"read\",\"waited\":\"long\",\"culprits\":\"none\"}\n");
	ADD("{\"ts\":\"2026-11-29T06:15:00Z\",\"event\":\"fd_leak\""); /* no newline at end */
	const char *path = log_path(dir, "hostile.log");
	write_file(path, buf, n);
	free(buf);

	struct run_result r;
	cr_assert_eq(report(&r, NULL, path, NULL), 1, "stderr: %s", r.err);
	/* malformed: truncated, bad UTF-8, NUL x2, event 42, array, 2 MiB, last */
	cr_assert(strstr(r.out, "skipped 8 malformed lines, 1 unknown event (1 over 1 MiB)"),
		  "%s", r.out);
	cr_assert(strstr(r.out, "/usr/bin/agent"), "%s", r.out);
	cr_assert(strstr(r.out, "/usr/bin/sleep"), "the out-of-order orphan: %s", r.out);
	cr_assert(strstr(r.out, "(unknown program)"), "the wrongly typed exe: %s", r.out);

	cr_assert_eq(report(&r, NULL, "--json", path, NULL), 1);
	assert_json_valid(dir, r.out);
	cr_assert(strstr(r.out, "\"malformed\":8,\"overlong\":1,\"unknown\":1"), "%s", r.out);
	cr_assert(strstr(r.out, "\"read_blocked\":1"), "%s", r.out);
}

Test(report_cli, clean_log_exits_zero)
{
	const char *dir = tmpdir();
	char a[1024], b[1024], all[2100];
	event_line(a, sizeof a, 10, "config_error", "/usr/bin/agent",
		   ",\"error\":\"NOLEAK_KEEP_FDS: bad value \\\"x\\\"\"");
	event_line(b, sizeof b, 5, "sock_policy", "/usr/bin/agent", ",\"fd\":5");
	snprintf(all, sizeof all, "%s%s", a, b);
	const char *path = log_path(dir, "clean.log");
	write_file(path, all, strlen(all));
	struct run_result r;
	cr_assert_eq(report(&r, NULL, path, NULL), 0, "%s", r.out);
	cr_assert(strstr(r.out, "NOLEAK_KEEP_FDS: bad value \"x\""), "%s", r.out);
	cr_assert(strstr(r.out, "no leaks or hangs found"), "%s", r.out);
	/* an empty log is clean too */
	write_file(path, "", 0);
	cr_assert_eq(report(&r, NULL, path, NULL), 0, "%s", r.out);
}

Test(report_cli, each_problem_kind_sets_exit_one)
{
	static const char *const kinds[] = { "fd_leak", "fork_inherit", "read_blocked",
		"wait_blocked", "read_timeout", "sock_timeout", "orphans" };
	const char *dir = tmpdir();
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		char line[1024];
		event_line(line, sizeof line, 1, kinds[i], "/usr/bin/agent", ",\"fd\":3");
		const char *path = log_path(dir, "one.log");
		write_file(path, line, strlen(line));
		struct run_result r;
		cr_assert_eq(report(&r, NULL, path, NULL), 1, "%s: %s", kinds[i], r.out);
	}
}

Test(report_cli, usage_and_unreadable_input_exit_two)
{
	const char *dir = tmpdir();
	const char *good = timed_log(dir);
	struct run_result r;
	cr_assert_eq(report(&r, NULL, log_path(dir, "missing.log"), NULL), 2);
	cr_assert(strstr(r.err, "missing.log"), "%s", r.err);
	cr_assert_eq(report(&r, NULL, good, log_path(dir, "missing.log"), NULL), 2);
	cr_assert_eq(r.out[0], '\0', "no report on a failed read: %s", r.out);
	cr_assert_eq(report(&r, NULL, "--bogus", good, NULL), 2);
	cr_assert_eq(report(&r, NULL, "--top", "0", good, NULL), 2);
	cr_assert_eq(report(&r, NULL, "--top", "ten", good, NULL), 2);
	/* 2^32 + 1 is not 1, nor is a number past LONG_MAX 10000 */
	cr_assert_eq(report(&r, NULL, "--top", "4294967297", good, NULL), 2);
	cr_assert_eq(report(&r, NULL, "--top", "99999999999999999999", good, NULL), 2);
	cr_assert_eq(report(&r, NULL, "--since", "yesterday", good, NULL), 2);
	cr_assert_eq(report(&r, NULL, "--until", "5x", good, NULL), 2);
	cr_assert_eq(report(&r, NULL, "--color=sometimes", good, NULL), 2);
	cr_assert_eq(report(&r, NULL, "--since", "1h", "--until", "2h", good, NULL), 2);
	cr_assert_eq(report(&r, NULL, "--help", NULL), 0);
	cr_assert(strstr(r.out, "--since"));
	cr_assert_eq(report(&r, NULL, "--version", NULL), 0);
	cr_assert(!strncmp(r.out, "noleak-report ", 14), "%s", r.out);
}

Test(report_cli, since_and_until_filter_by_time)
{
	const char *dir = tmpdir();
	const char *path = timed_log(dir);
	struct run_result r;
	cr_assert_eq(report(&r, NULL, "--since", "2h", path, NULL), 1);
	cr_assert(strstr(r.out, "/opt/old/worker"), "%s", r.out);
	cr_assert(!strstr(r.out, "/usr/bin/agent  "), "agent's leak is older: %s", r.out);
	cr_assert(strstr(r.out, "1 filtered out"), "%s", r.out);

	cr_assert_eq(report(&r, NULL, "--until", "2h", path, NULL), 1);
	cr_assert(strstr(r.out, "/usr/bin/agent"), "%s", r.out);
	cr_assert(!strstr(r.out, "/opt/old/worker"), "%s", r.out);

	/* only the config error is younger than 30 minutes: no leaks */
	cr_assert_eq(report(&r, NULL, "--since", "30m", path, NULL), 0, "%s", r.out);
	cr_assert_eq(report(&r, NULL, "--since", "7200s", "--until", "1800s", path, NULL), 1);
	cr_assert(strstr(r.out, "/opt/old/worker"), "%s", r.out);

	/* absolute RFC 3339 bounds */
	cr_assert_eq(report(&r, NULL, "--since", "2000-01-01T00:00:00Z", "--until",
			    "2000-01-02T00:00:00+02:00", path, NULL), 0);
	cr_assert(strstr(r.out, "3 filtered out"), "%s", r.out);
	cr_assert_eq(report(&r, NULL, "--since", "2000-01-01", path, NULL), 1);
}

Test(report_cli, program_filter_matches_path_or_basename)
{
	const char *dir = tmpdir();
	const char *path = timed_log(dir);
	struct run_result r;
	cr_assert_eq(report(&r, NULL, "--program", "work*", path, NULL), 1);
	cr_assert(strstr(r.out, "/opt/old/worker"), "%s", r.out);
	cr_assert(!strstr(r.out, "/usr/bin/agent"), "%s", r.out);
	cr_assert_eq(report(&r, NULL, "--program", "/usr/bin/*", path, NULL), 1);
	cr_assert(strstr(r.out, "/usr/bin/agent"), "%s", r.out);
	cr_assert(!strstr(r.out, "/opt/old/worker"), "%s", r.out);
	cr_assert_eq(report(&r, NULL, "--program", "nothing-like-it", path, NULL), 0);
}

Test(report_cli, event_filter_is_repeatable)
{
	const char *dir = tmpdir();
	const char *path = timed_log(dir);
	struct run_result r;
	cr_assert_eq(report(&r, NULL, "--event", "config_error", path, NULL), 0, "%s", r.out);
	cr_assert(!strstr(r.out, "Leaked fds"), "%s", r.out);
	cr_assert(strstr(r.out, "NOLEAK_MODE: bad value"), "%s", r.out);
	cr_assert_eq(report(&r, NULL, "--event", "config_error", "--event", "fd_leak",
			    path, NULL), 1);
	cr_assert(strstr(r.out, "Leaked fds"), "%s", r.out);
	cr_assert(strstr(r.out, "NOLEAK_MODE: bad value"), "%s", r.out);
}

Test(report_cli, top_limits_rows_and_ordering_is_stable)
{
	const char *dir = tmpdir();
	/* three targets leaked 3, 2 and 1 times, written in mixed order */
	static const char *const order[] = { "/bin/b", "/bin/a", "/bin/c", "/bin/a",
					     "/bin/b", "/bin/a" };
	char all[8192] = "", rev[8192] = "";
	for (int i = 0; i < 6; i++) {
		char extra[256], line[1024];
		snprintf(extra, sizeof extra, ",\"action\":\"would_close\",\"fd\":4,"
			 "\"kind\":\"pipe\",\"via\":\"execve\",\"target\":\"%s\"", order[i]);
		event_line(line, sizeof line, 100 - i, "fd_leak", "/usr/bin/agent", extra);
		strcat(all, line);
		memmove(rev + strlen(line), rev, strlen(rev) + 1);
		memcpy(rev, line, strlen(line));
	}
	const char *p1 = log_path(dir, "fwd.log"), *p2 = log_path(dir, "rev.log");
	write_file(p1, all, strlen(all));
	write_file(p2, rev, strlen(rev));
	struct run_result r;
	char first[65536];
	cr_assert_eq(report(&r, NULL, p1, NULL), 1);
	memcpy(first, r.out, sizeof first);
	const char *a = strstr(r.out, "/bin/a"), *b = strstr(r.out, "/bin/b"),
		   *c = strstr(r.out, "/bin/c");
	cr_assert(a && b && c && a < b && b < c, "by count: %s", r.out);
	cr_assert_eq(report(&r, NULL, p2, NULL), 1);
	cr_assert_str_eq(r.out, first, "order of lines changed the report");

	cr_assert_eq(report(&r, NULL, "--top", "1", p1, NULL), 1);
	cr_assert(strstr(r.out, "/bin/a"), "%s", r.out);
	cr_assert(!strstr(r.out, "/bin/b"), "%s", r.out);
	cr_assert(strstr(r.out, "2 more rows (3 fds)"), "%s", r.out);

	cr_assert_eq(report(&r, NULL, "--json", "--top", "2", p1, NULL), 1);
	assert_json_valid(dir, r.out);
	cr_assert(strstr(r.out, "\"omitted_rows\":1,\"omitted_count\":1"), "%s", r.out);
}

Test(report_cli, counts_folds_and_distinct_execs)
{
	const char *dir = tmpdir();
	char all[4096] = "";
	/* pid 100 execs /bin/sh once with 2 fds, and a folded line of 5 more */
	char l1[1024], l2[1024], l3[1024];
	event_line(l1, sizeof l1, 30, "fd_leak", "/usr/bin/agent", LEAK);
	event_line(l2, sizeof l2, 30, "fd_leak", "/usr/bin/agent",
		   LEAK ",\"fd\":5,\"count\":5");
	event_line(l3, sizeof l3, 20, "fd_leak", "/usr/bin/other",
		   ",\"action\":\"would_close\",\"via\":\"posix_spawn\",\"target\":\"/bin/ls\"");
	snprintf(all, sizeof all, "%s%s%s", l1, l2, l3);
	const char *path = log_path(dir, "fold.log");
	write_file(path, all, strlen(all));
	struct run_result r;
	cr_assert_eq(report(&r, NULL, path, NULL), 1);
	cr_assert(strstr(r.out, "enforce would have closed 7 fds in 2 execs of 2 programs"),
		  "%s", r.out);
}

Test(report_cli, stdin_and_directories)
{
	const char *dir = tmpdir();
	const char *path = timed_log(dir);
	struct run_result r;
	cr_assert_eq(report(&r, slurp(path), "-", NULL), 1);
	cr_assert(strstr(r.out, "/opt/old/worker"), "%s", r.out);
	cr_assert(strstr(r.out, "1 log,"), "%s", r.out);

	/* a directory: plain files and gzip (logrotate's compress) read,
	 * other compressions passed over */
	char gz_line[1024], cmd[2048];
	event_line(gz_line, sizeof gz_line, 60, "fd_leak", "/usr/bin/rotated", LEAK);
	write_file(log_path(dir, "rotated.log"), gz_line, strlen(gz_line));
	snprintf(cmd, sizeof cmd, "mkdir %s/rot && cp %s %s/rot/events.log && "
		 "cp %s %s/rot/events.log.1 && gzip -c %s/rotated.log > %s/rot/events.log.2.gz && "
		 "printf 'BZh91AY' > %s/rot/events.log.3.bz2",
		 dir, path, dir, path, dir, dir, dir, dir);
	struct run_result s;
	run_sh(&s, cmd, NULL, 0, 10);
	cr_assert_eq(exit_code(&s), 0, "%s", s.err);
	snprintf(cmd, sizeof cmd, "%s/rot", dir);
	cr_assert_eq(report(&r, NULL, cmd, NULL), 1);
	cr_assert(strstr(r.out, "3 logs,"), "%s", r.out);
	cr_assert(strstr(r.out, "1 compressed log skipped"), "%s", r.out);
	cr_assert(strstr(r.err, "events.log.3.bz2: compressed, skipped"), "%s", r.err);
	cr_assert(strstr(r.out, "/usr/bin/rotated"), "the .gz was not read: %s", r.out);
	/* both plain copies hold the same exec: same host, pid, via and
	 * target (and so does the rotated one) */
	cr_assert(strstr(r.out, "would have closed 5 fds in 1 exec of 3 programs"),
		  "%s", r.out);

	/* a .gz named on the command line, and gzip data under another name */
	snprintf(cmd, sizeof cmd, "%s/rot/events.log.2.gz", dir);
	cr_assert_eq(report(&r, NULL, cmd, NULL), 1);
	cr_assert(strstr(r.out, "/usr/bin/rotated"), "%s", r.out);
	snprintf(cmd, sizeof cmd, "cp %s/rot/events.log.2.gz %s/rot2", dir, dir);
	run_sh(&s, cmd, NULL, 0, 10);
	snprintf(cmd, sizeof cmd, "%s/rot2", dir);
	cr_assert_eq(report(&r, NULL, cmd, NULL), 1);
	cr_assert(strstr(r.out, "/usr/bin/rotated"), "%s", r.out);
	/* a damaged .gz: an error, not a crash */
	snprintf(cmd, sizeof cmd, "head -c 30 %s/rot/events.log.2.gz > %s/bad.gz", dir, dir);
	run_sh(&s, cmd, NULL, 0, 10);
	snprintf(cmd, sizeof cmd, "%s/bad.gz", dir);
	cr_assert_eq(report(&r, NULL, cmd, NULL), 2, "%s%s", r.out, r.err);
}

Test(report_cli, color_only_when_asked_or_on_a_terminal)
{
	const char *dir = tmpdir();
	const char *path = timed_log(dir);
	struct run_result r;
	report(&r, NULL, path, NULL);   /* stdout is a pipe: auto means none */
	cr_assert(!strchr(r.out, '\033'), "%s", r.out);
	report(&r, NULL, "--color=always", path, NULL);
	cr_assert(strchr(r.out, '\033'), "%s", r.out);
	report(&r, NULL, "--color=never", path, NULL);
	cr_assert(!strchr(r.out, '\033'));
	report(&r, NULL, "--json", "--color=always", path, NULL);
	cr_assert(!strchr(r.out, '\033'), "JSON is never colored");
}

Test(report_cli, text_fits_in_100_columns)
{
	const char *dir = tmpdir();
	char all[16384] = "";
	char extra[2048], line[4096], longpath[600];
	memset(longpath, 'x', 300);
	memcpy(longpath, "/opt/", 5);
	longpath[300] = '\0';
	snprintf(extra, sizeof extra, ",\"action\":\"would_close\",\"kind\":\"pipe\","
		 "\"via\":\"execve\",\"target\":\"%s\",\"module\":\"%s\",\"offset\":\"0x1\","
		 "\"created_by\":\"pipe\"", longpath, longpath);
	event_line(line, sizeof line, 5, "fd_leak", longpath, extra);
	strcat(all, line);
	snprintf(extra, sizeof extra, ",\"fd\":3,\"call\":\"read\",\"waited\":12.5,"
		 "\"object\":\"%s\",\"culprits\":[{\"pid\":4,\"exe\":\"%s\",\"relation\":\"child\"}]",
		 longpath, longpath);
	event_line(line, sizeof line, 5, "read_blocked", longpath, extra);
	strcat(all, line);
	const char *path = log_path(dir, "wide.log");
	write_file(path, all, strlen(all));
	struct run_result r;
	cr_assert_eq(report(&r, NULL, path, NULL), 1);
	for (const char *l = r.out; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		cr_assert_leq(len, 100, "line too wide: %.*s", (int)len, l);
		l += len + (nl != NULL);
	}
	cr_assert(strstr(r.out, "12.5s+"), "%s", r.out);
}

/* `journalctl -o json` output: native entries (NOLEAK_JSON), the syslog
 * form (MESSAGE of SYSLOG_IDENTIFIER=noleak), other programs' entries
 * passed over; on stdin, and through --journal (a journalctl in PATH). */
Test(report_cli, journal_export_on_stdin_and_with_journal)
{
	const char *dir = tmpdir();
	char ev1[1024], ev2[1024], esc1[2048], esc2[2048], text[8192];
	event_line(ev1, sizeof ev1, 60, "fd_leak", "/usr/bin/agent", LEAK);
	event_line(ev2, sizeof ev2, 30, "fd_leak", "/usr/sbin/syslogged", LEAK);
	/* journalctl's JSON string of each line (quotes and backslashes
	 * escaped, the newline dropped) */
	const char *src[2] = { ev1, ev2 };
	char *dst[2] = { esc1, esc2 };
	for (int k = 0; k < 2; k++) {
		size_t n = 0;
		for (const char *p = src[k]; *p && *p != '\n'; p++) {
			if (*p == '"' || *p == '\\')
				dst[k][n++] = '\\';
			dst[k][n++] = *p;
		}
		dst[k][n] = '\0';
	}
	snprintf(text, sizeof text,
		 "{\"__CURSOR\":\"s=1\",\"PRIORITY\":\"4\",\"SYSLOG_IDENTIFIER\":\"noleak\","
		 "\"MESSAGE\":\"noleak: fd_leak in /usr/bin/agent[100]: action=would_close\","
		 "\"NOLEAK_EVENT\":\"fd_leak\",\"NOLEAK_FD\":\"4\",\"NOLEAK_JSON\":\"%s\"}\n"
		 "{\"__CURSOR\":\"s=2\",\"SYSLOG_IDENTIFIER\":\"sshd\",\"MESSAGE\":\"{\\\"event\\\":\\\"x\\\"}\"}\n"
		 "{\"__CURSOR\":\"s=3\",\"SYSLOG_IDENTIFIER\":\"noleak\",\"MESSAGE\":\"%s\"}\n",
		 esc1, esc2);
	struct run_result r;
	cr_assert_eq(report(&r, text, "-", NULL), 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "/usr/bin/agent"), "%s", r.out);
	cr_assert(strstr(r.out, "/usr/sbin/syslogged"), "%s", r.out);
	cr_assert(strstr(r.out, "skipped 0 malformed lines, 0 unknown events"), "%s", r.out);

	/* --journal runs journalctl -o json SYSLOG_IDENTIFIER=noleak */
	write_file(log_path(dir, "export.json"), text, strlen(text));
	char script[1024], path_env[1200];
	snprintf(script, sizeof script,
		 "#!/bin/sh\n"
		 "[ \"$*\" = '-o json --no-pager SYSLOG_IDENTIFIER=noleak' ] || exit 3\n"
		 "exec cat '%s/export.json'\n", dir);
	const char *jc = log_path(dir, "journalctl");
	write_file(jc, script, strlen(script));
	chmod(jc, 0755);
	snprintf(path_env, sizeof path_env, "PATH=%s:/usr/bin:/bin", dir);
	char *env[] = { path_env, NULL };
	char *argv[] = { (char *)top("build/noleak-report"), "--journal", NULL };
	run(&r, argv, env, 0, 30, NULL);
	cr_assert_eq(exit_code(&r), 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "/usr/sbin/syslogged"), "%s", r.out);
}

/* noleak-report with stdout on `out` (SIGPIPE ignored, as a caller may
 * leave it); its exit status, stderr in err. */
static int report_to(int out, char *err, size_t cap, char *const argv[])
{
	int e[2];
	cr_assert_eq(pipe(e), 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		dup2(out, 1);
		dup2(e[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(e[1]);
	size_t n = 0;
	ssize_t k;
	while (n + 1 < cap && (k = read(e[0], err + n, cap - 1 - n)) > 0)
		n += (size_t)k;
	err[n] = '\0';
	close(e[0]);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A report that could not be written is said on stderr and exits 3: not
 * 2 (usage, unreadable logs) and not a verdict on the logs. */
Test(report_cli, unwritable_output_exits_three_with_a_message)
{
	static const struct {
		const char *name, *arg, *why;
	} rows[] = {
		{ "/dev/full", NULL, "No space left on device" },
		{ "/dev/full", "--json", "No space left on device" },
		{ "/dev/full", "--help", "No space left on device" },
		{ "closed pipe", NULL, "Broken pipe" },
		{ "closed pipe", "--json", "Broken pipe" },
	};
	const char *dir = tmpdir();
	const char *log = timed_log(dir);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int out, p[2] = { -1, -1 };
		if (!strcmp(rows[i].name, "/dev/full")) {
			out = open("/dev/full", O_WRONLY);
		} else {
			cr_assert_eq(pipe(p), 0);
			close(p[0]);
			out = p[1];
		}
		cr_assert(out >= 0);
		char *argv[4] = { (char *)top("build/noleak-report") }, err[4096];
		int n = 1;
		if (rows[i].arg)
			argv[n++] = (char *)rows[i].arg;
		argv[n++] = (char *)log;
		argv[n] = NULL;
		int rc = report_to(out, err, sizeof err, argv);
		close(out);
		cr_expect_eq(rc, 3, "%s %s: exit %d, stderr: %s", rows[i].name,
			     rows[i].arg ? rows[i].arg : "", rc, err);
		cr_expect(strstr(err, "noleak-report: cannot write the report: ") &&
			  strstr(err, rows[i].why), "%s %s: stderr: %s", rows[i].name,
			  rows[i].arg ? rows[i].arg : "", err);
	}
}

/* Lines of about 1 MiB that open `key` 32 times, nested, and never close:
 * with "ts" every opening is a glued event to try. */
static void write_nested(const char *path, const char *key, size_t mib)
{
	size_t len = (1u << 20) - 64, k = 0;
	char *line = malloc(len + 2), open[16];
	int on = snprintf(open, sizeof open, "{\"%s\":", key);
	for (int i = 0; i < 32; i++, k += (size_t)on)
		memcpy(line + k, open, (size_t)on);
	memcpy(line + k, "{\"a\":1", 6);
	for (k += 6; k + 6 < len; k += 6)
		memcpy(line + k, ",\"a\":1", 6);
	line[k++] = '\n';
	FILE *f = fopen(path, "wb");
	cr_assert(f, "cannot write %s", path);
	for (size_t i = 0; i < mib; i++)
		cr_assert_eq(fwrite(line, 1, k, f), k);
	fclose(f);
	free(line);
}

/* CPU seconds of one noleak-report run on path (the least of two). */
static double report_cpu(const char *path)
{
	double best = -1;
	for (int i = 0; i < 2; i++) {
		struct rusage a, b;
		struct run_result r;
		getrusage(RUSAGE_CHILDREN, &a);
		cr_assert_eq(report(&r, NULL, path, NULL), 0, "%s", r.err);
		getrusage(RUSAGE_CHILDREN, &b);
		double s = (double)(b.ru_utime.tv_sec - a.ru_utime.tv_sec) +
			   (double)(b.ru_utime.tv_usec - a.ru_utime.tv_usec) / 1e6 +
			   (double)(b.ru_stime.tv_sec - a.ru_stime.tv_sec) +
			   (double)(b.ru_stime.tv_usec - a.ru_stime.tv_usec) / 1e6;
		if (best < 0 || s < best)
			best = s;
	}
	return best;
}

/* Looking for an event glued to a cut line costs a few passes over the
 * line, whatever its {"ts" openings: against the same bytes with none, in
 * the same run (a ratio, not a time). */
Test(report_cli, glued_event_search_is_linear, .timeout = 120)
{
	const char *dir = tmpdir();
	const char *glued = log_path(dir, "glued.log"), *plain = log_path(dir, "plain.log");
	write_nested(glued, "ts", 24);
	write_nested(plain, "tx", 24);
	double g = report_cpu(glued), p = report_cpu(plain);
	cr_expect(g <= 4 * p + 0.05, "%.3f s CPU with nested {\"ts\" openings, "
		  "%.3f s without: over 4 times", g, p);
}

/* `make fuzz` starts each target from its seeds: the report parser's are
 * in tests/fuzz/corpus/report/, where the rule did not look (it named
 * corpus/report_parser/, and `cp ... || true` hid the miss), so it fuzzed
 * from nothing.  `make fuzz-seeds` copies them, into a build directory of
 * the test's own. */
Test(report_cli, fuzz_targets_start_from_their_seeds)
{
	const char *dir = tmpdir();
	char cmd[2400];
	snprintf(cmd, sizeof cmd, "make -s -C '%s' B='%s' fuzz-seeds", top("."), dir);
	struct run_result *r = malloc(sizeof *r);
	cr_assert_not_null(r);
	run_sh(r, cmd, NULL, 0, 60);
	cr_expect_eq(exit_code(r), 0, "%s", r->err);
	static const struct { const char *target, *seed; } seeds[] = {
		{ "policy", "seed1" },
		{ "json", "seed1" },
		{ "passfds", "seed1" },
		{ "report_parser", "read_blocked.json" },
	};
	for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
		char path[1200];
		snprintf(path, sizeof path, "%s/fuzz/corpus-%s/%s", dir,
			 seeds[i].target, seeds[i].seed);
		cr_expect_eq(access(path, R_OK), 0, "%s: no seed %s", seeds[i].target,
			     path);
	}
	free(r);
}

/* A day its month does not have is no date: --since 2026-02-31 was taken
 * for March 3rd.  As an option it is a usage error; in a log it is a bad
 * ts like any other (counted in no_time, no first or last seen). */
Test(report_cli, impossible_dates_are_refused)
{
	const char *dir = tmpdir();
	const char *good = timed_log(dir);
	struct run_result r;
	static const char *const bad[] = { "2026-02-31", "2026-02-29", "2100-02-29",
					   "2026-04-31", "2026-06-31T00:00:00Z",
					   "2026-11-31T12:00:00+01:00" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		cr_expect_eq(report(&r, NULL, "--since", bad[i], good, NULL), 2,
			     "--since %s: %s", bad[i], r.out);
		cr_expect(strstr(r.err, bad[i]), "--since %s: %s", bad[i], r.err);
		cr_expect_eq(report(&r, NULL, "--until", bad[i], good, NULL), 2,
			     "--until %s: %s", bad[i], r.out);
	}
	static const char *const fine[] = { "2024-02-29", "2000-02-29",
					    "2026-01-31", "2026-12-31T23:59:60Z" };
	for (size_t i = 0; i < sizeof fine / sizeof *fine; i++)
		cr_expect_neq(report(&r, NULL, "--since", fine[i], good, NULL), 2,
			      "--since %s: %s", fine[i], r.err);

	const char *ev = "\",\"event\":\"config_error\",\"pid\":1,\"ppid\":0,"
			 "\"exe\":\"/x\",\"mode\":\"audit\",\"host\":\"h\"}\n";
	char log[512];
	snprintf(log, sizeof log, "{\"ts\":\"2026-02-31T00:00:00Z%s", ev);
	cr_assert_eq(report(&r, log, "--json", "-", NULL), 0, "%s", r.err);
	cr_expect(strstr(r.out, "\"no_time\":1,"), "%s", r.out);
	cr_expect(strstr(r.out, "\"first_seen\":null,\"last_seen\":null"), "%s", r.out);
	char want[sizeof r.out];
	snprintf(log, sizeof log, "{\"ts\":\"2026-0x-31T00:00:00Z%s", ev);
	snprintf(want, sizeof want, "%s", r.out);
	cr_assert_eq(report(&r, log, "--json", "-", NULL), 0, "%s", r.err);
	cr_expect_str_eq(r.out, want, "not as another bad ts");
}
