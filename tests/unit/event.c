/* Events: the lines users read and tools parse.  Every line must be one
 * valid JSON object with the common fields; repeats fold, floods are capped,
 * and the host program never notices (errno, fds 0-2, its own fds). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log/event.h"
#include "log/output.h"

int json_valid(const char *s, size_t n);   /* tests/unit/json.c */

#define EXE_PATH "/usr/bin/legacy-daemon"
static const char *exe_path(void) { return EXE_PATH; }
#define EXE exe_path
static const char *evil_exe(void) { return "/tmp/\xff\"evil\n\x01"; }
#define T0 1795931641LL   /* 2026-11-29T05:54:01Z */

static char dir[64];
static char log_path[128];

static void make_dir(void)
{
	strcpy(dir, "/tmp/nl-event-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(log_path, sizeof log_path, "%s/noleak.log", dir);
}

/* A send that waited for its receiver would wait for ever (the test's
 * timeout ends it); a bound this wide tells that apart from a slow,
 * loaded or sanitized run. */
#define NEVER_WAITS_S 4.0

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The log keeps the path it is given (the policy's, in the shim): a copy
 * that outlives the callers' buffers. */
static void log_to_file(const char *path)
{
	static char kept[1024];
	snprintf(kept, sizeof kept, "%s", path);
	nl_event_configure(NL_LOG_FILE, kept, EXE, "audit");
}

static void setup_file_log(void)
{
	make_dir();
	log_to_file(log_path);
}

/* Whole file contents (malloc'd, NUL-terminated; "" when missing). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n = 0;

	cr_assert_not_null(buf);
	if (f) {
		n = fread(buf, 1, (1 << 20) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static int count_lines(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static int count_with(const char *text, const char *needle)
{
	int n = 0;

	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (memmem(line, len, needle, strlen(needle)))
			n++;
		line += len + (end ? 1 : 0);
	}
	return n;
}

/* Every line parses as JSON and is at most NL_EVENT_MAX bytes. */
static void assert_all_lines_valid(const char *text)
{
	int k = 0;

	for (const char *line = text; *line; k++) {
		const char *end = strchr(line, '\n');
		cr_assert_not_null(end, "line %d has no newline", k);
		cr_assert_leq((size_t)(end - line) + 1, NL_EVENT_MAX);
		cr_assert(json_valid(line, (size_t)(end - line)),
			  "line %d is not JSON: %.*s", k, (int)(end - line), line);
		line = end + 1;
	}
}

static void emit_simple(const char *kind, long long n)
{
	struct nl_event ev;

	nl_event_begin(&ev, kind);
	nl_event_int(&ev, "n", n);
	nl_event_emit(&ev);
}

/* The fd number this process has open on `path`, or -1. */
static int fd_open_on(const char *path)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1;

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		char link[300], target[256];
		ssize_t n;
		snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
		n = readlink(link, target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, path) == 0 && atoi(e->d_name) != dirfd(d))
			found = atoi(e->d_name);
	}
	closedir(d);
	return found;
}

/* --- common fields --- */

Test(event_file, lines_carry_common_fields_in_order)
{
	struct utsname u;
	char want[512];

	setup_file_log();
	emit_simple("fd_leak", 1);
	emit_simple("fd_leak", 2);
	emit_simple("hang", 3);

	char *text = slurp(log_path);
	cr_assert_eq(count_lines(text), 3, "got: %s", text);
	assert_all_lines_valid(text);
	uname(&u);
	snprintf(want, sizeof want,
		 "\",\"event\":\"fd_leak\",\"pid\":%d,\"ppid\":%d,\"exe\":\"" EXE_PATH
		 "\",\"mode\":\"audit\",\"host\":\"%s\",\"n\":1}\n",
		 getpid(), getppid(), u.nodename);
	cr_assert(strstr(text, want), "want %s in %s", want, text);
	cr_assert_eq(count_with(text, "\"event\":\"hang\""), 1);
	cr_assert_eq(strncmp(text, "{\"ts\":\"", 7), 0);
	/* ts: 2026-11-29T05:54:01.123456Z shape, in UTC */
	const char *t = text + 7;
	for (int k = 0; k < 27; k++) {
		const char *shape = "dddd-dd-ddTdd:dd:dd.ddddddZ";
		if (shape[k] == 'd')
			cr_assert(t[k] >= '0' && t[k] <= '9', "ts %.27s", t);
		else
			cr_assert_eq(t[k], shape[k], "ts %.27s", t);
	}
	cr_assert_eq(t[27], '"');
	free(text);
}

Test(event_file, ts_follows_the_clock)
{
	setup_file_log();
	nl_event_test_clock(T0, 123000);
	emit_simple("x", 1);
	char *text = slurp(log_path);
	cr_assert_eq(strncmp(text, "{\"ts\":\"2026-11-29T05:54:01.000123Z\",", 36), 0,
		     "%s", text);
	free(text);
}

Test(event, all_field_kinds)
{
	struct nl_event ev;

	setup_file_log();
	nl_event_begin(&ev, "kinds");
	nl_event_str(&ev, "s", "a\"b");
	nl_event_strn(&ev, "sn", "x\0y", 3);
	nl_event_str(&ev, "nul", NULL);
	nl_event_int(&ev, "neg", -7);
	nl_event_bool(&ev, "yes", 1);
	nl_event_bool(&ev, "no", 0);
	nl_event_raw(&ev, "fds", "[3,4]");
	nl_event_emit(&ev);
	char *text = slurp(log_path);
	assert_all_lines_valid(text);
	cr_assert(strstr(text, ",\"s\":\"a\\\"b\",\"sn\":\"x\\u0000y\",\"nul\":null,"
			       "\"neg\":-7,\"yes\":true,\"no\":false,\"fds\":[3,4]}\n"),
		  "%s", text);
	free(text);
}

Test(event, hostile_strings_stay_valid_json)
{
	struct nl_event ev;
	char bytes[256];

	for (int k = 0; k < 256; k++)
		bytes[k] = (char)k;
	make_dir();
	nl_event_configure(NL_LOG_FILE, log_path, evil_exe,
			   "enf\\orce");
	nl_event_begin(&ev, "k\"ind\x80");
	nl_event_strn(&ev, "all bytes", bytes, sizeof bytes);
	nl_event_str(&ev, "key\xc0\"", "\xed\xa0\x80\xf4\x90\x80\x80");
	nl_event_emit(&ev);
	char *text = slurp(log_path);
	cr_assert_eq(count_lines(text), 1);
	assert_all_lines_valid(text);
	cr_assert(strstr(text, "\"exe\":\"/tmp/\\u00ff\\\"evil\\n\\u0001\""), "%s", text);
	free(text);
}

/* --- truncation --- */

Test(event, long_field_is_dropped_cleanly)
{
	struct nl_event ev;
	char *big = malloc(10240);

	memset(big, 'A', 10239);
	big[10239] = '\0';
	setup_file_log();
	nl_event_begin(&ev, "big");
	nl_event_int(&ev, "before", 1);
	nl_event_str(&ev, "object", big);
	nl_event_int(&ev, "after", 2);
	nl_event_emit(&ev);

	char *text = slurp(log_path);
	size_t len = strlen(text);
	cr_assert_eq(count_lines(text), 1);
	cr_assert_leq(len, NL_EVENT_MAX);
	assert_all_lines_valid(text);
	cr_assert(strstr(text, "\"before\":1,\"truncated\":true}\n"), "%s", text);
	cr_assert_null(strstr(text, "\"after\""));
	cr_assert_null(strstr(text, "AAAA"));
	free(text);
	free(big);
}

Test(event, many_fields_fill_the_line_and_stay_valid)
{
	struct nl_event ev;

	setup_file_log();
	nl_event_begin(&ev, "wide");
	/* escapes of 6 bytes each: the cut must fall between fields */
	for (int k = 0; k < 400; k++)
		nl_event_str(&ev, "f", "\x01\x02\x03");
	nl_event_emit(&ev);
	char *text = slurp(log_path);
	size_t len = strlen(text);
	cr_assert_leq(len, NL_EVENT_MAX);
	cr_assert_gt(len, NL_EVENT_MAX - 200, "the line is used, not wasted");
	assert_all_lines_valid(text);
	cr_assert_eq(strcmp(text + len - 19, ",\"truncated\":true}\n"), 0, "%s",
		     text + len - 40);
	free(text);
}

/* --- where the log fd lives --- */

Test(event_file, log_fd_is_high_and_cloexec)
{
	setup_file_log();
	emit_simple("x", 1);
	int fd = fd_open_on(log_path);
	cr_assert_geq(fd, 100, "log fd %d", fd);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	cr_assert(fcntl(fd, F_GETFL) & O_APPEND);
}

Test(event_file, never_lands_on_stdio)
{
	setup_file_log();
	close(0);
	close(1);
	close(2);
	emit_simple("x", 1);
	emit_simple("y", 2);
	for (int fd = 0; fd <= 2; fd++)
		cr_assert_eq(fcntl(fd, F_GETFD), -1, "fd %d was taken", fd);
	char *text = slurp(log_path);
	cr_assert_eq(count_lines(text), 2);
	free(text);
}

/* No number at 100 or above: the line goes through an fd of its own,
 * closed after it; no number is kept and stdio stays free. */
Test(event_file, low_fd_limit_keeps_no_fd_and_stdio_free)
{
	struct rlimit rl = { 50, 50 };

	setup_file_log();
	close(0);
	close(1);
	close(2);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	emit_simple("x", 1);
	for (int fd = 0; fd <= 2; fd++)
		cr_assert_eq(fcntl(fd, F_GETFD), -1, "fd %d was taken", fd);
	int fd = fd_open_on(log_path);
	cr_assert_eq(fd, -1, "the log kept fd %d", fd);
	char *text = slurp(log_path);
	cr_assert_eq(count_lines(text), 1);
	free(text);
}

Test(event_file, fd_replaced_by_dup2_is_left_to_the_program)
{
	char other[160];

	setup_file_log();
	emit_simple("first", 1);
	int logfd = fd_open_on(log_path);
	cr_assert_geq(logfd, 100);

	snprintf(other, sizeof other, "%s/other", dir);
	int ofd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(ofd, 0);
	cr_assert_eq(dup2(ofd, logfd), logfd);
	close(ofd);

	emit_simple("second", 2);
	char *mine = slurp(other);
	cr_assert_str_eq(mine, "", "the program's file got: %s", mine);
	char *text = slurp(log_path);
	cr_assert_eq(count_lines(text), 2, "%s", text);
	cr_assert_eq(count_with(text, "\"event\":\"second\""), 1);
	/* the program's fd is still open: the shim did not close it */
	cr_assert_neq(fcntl(logfd, F_GETFD), -1);
	free(mine);
	free(text);
}

Test(event_file, fd_closed_by_program_is_reopened)
{
	setup_file_log();
	emit_simple("first", 1);
	int logfd = fd_open_on(log_path);
	/* a daemon's close-all loop */
	for (int fd = 3; fd < 1024; fd++)
		if (fd == logfd)
			close(fd);
	emit_simple("second", 2);
	char *text = slurp(log_path);
	cr_assert_eq(count_lines(text), 2);
	cr_assert_eq(count_with(text, "\"event\":\"second\""), 1);
	free(text);
}

Test(event_file, reconfigure_goes_to_the_new_file)
{
	char second[160];

	setup_file_log();
	emit_simple("a", 1);
	snprintf(second, sizeof second, "%s/second.log", dir);
	log_to_file(second);
	emit_simple("b", 2);
	char *one = slurp(log_path), *two = slurp(second);
	cr_assert_eq(count_lines(one), 1);
	cr_assert_eq(count_lines(two), 1);
	cr_assert_eq(count_with(two, "\"event\":\"b\""), 1);
	cr_assert_eq(fd_open_on(log_path), -1, "old log fd closed");
	free(one);
	free(two);
}

/* --- unwritable destinations --- */

static void assert_dropped_quietly(const char *path)
{
	log_to_file(path);
	unsigned long before = nl_event_dropped();
	errno = 4242;
	emit_simple("x", 1);
	cr_assert_eq(errno, 4242, "errno changed to %d", errno);
	emit_simple("y", 2);
	cr_assert_eq(nl_event_dropped() - before, 2);
}

Test(event_file, directory_as_path)
{
	make_dir();
	assert_dropped_quietly(dir);
}

Test(event_file, missing_directory)
{
	char path[160];

	make_dir();
	snprintf(path, sizeof path, "%s/nope/noleak.log", dir);
	assert_dropped_quietly(path);
}

Test(event_file, read_only_directory)
{
	char path[160];

	make_dir();
	if (geteuid() == 0) {
		/* root ignores mode bits; procfs refuses new files to anyone */
		snprintf(path, sizeof path, "/proc/self/noleak.log");
	} else {
		cr_assert_eq(chmod(dir, 0500), 0);
		snprintf(path, sizeof path, "%s/noleak.log", dir);
	}
	assert_dropped_quietly(path);
}

/* "Within the second" is decided by the real monotonic clock, so the
 * first two events must come less than a second apart: on a loaded
 * machine (sanitizers, CI) a try where they did not is made again. */
Test(event_file, failed_open_retried_once_a_second, .timeout = 30)
{
	char sub[160], path[192];
	unsigned long before;
	double t;
	int tries = 0;

	make_dir();
	do {
		cr_assert_lt(++tries, 6, "never two events within 0.5 s");
		/* a new path each try: the failure state is per destination */
		snprintf(sub, sizeof sub, "%s/later%d", dir, tries);
		snprintf(path, sizeof path, "%s/noleak.log", sub);
		log_to_file(path);
		before = nl_event_dropped();
		t = now_s();
		emit_simple("a", 1);
		cr_assert_eq(nl_event_dropped() - before, 1);
		cr_assert_eq(mkdir(sub, 0700), 0);
		emit_simple("b", 2);
	} while (now_s() - t >= 0.5);
	cr_assert_eq(nl_event_dropped() - before, 2,
		     "no new open within the second");
	usleep(1100 * 1000);
	emit_simple("c", 3);
	char *text = slurp(path);
	cr_assert_eq(count_lines(text), 1, "%s", text);
	cr_assert_eq(count_with(text, "\"event\":\"c\""), 1);
	free(text);
}

Test(event, errno_is_preserved_when_written)
{
	struct nl_event ev;

	setup_file_log();
	errno = 777;
	nl_event_begin(&ev, "x");
	nl_event_emit(&ev);
	nl_event_flush();
	cr_assert_eq(errno, 777);
}

Test(event, log_none_writes_nothing)
{
	nl_event_configure(NL_LOG_NONE, NULL, EXE, "enforce");
	cr_assert_not(nl_event_enabled());
	emit_simple("x", 1);
	cr_assert_eq(nl_event_dropped(), 0);
	log_to_file("");
	cr_assert_not(nl_event_enabled(), "file without a path");
	setup_file_log();
	cr_assert(nl_event_enabled());
}

/* --- folding and the rate limit --- */

Test(event_fold, identical_events_fold_into_a_count)
{
	setup_file_log();
	nl_event_test_clock(T0, 0);
	for (int k = 0; k < 50; k++)
		emit_simple("fd_leak", 7);
	nl_event_flush();
	char *text = slurp(log_path);
	cr_assert_eq(count_lines(text), 2, "%s", text);
	assert_all_lines_valid(text);
	cr_assert_eq(count_with(text, "\"n\":7}"), 1);
	cr_assert_eq(count_with(text, "\"n\":7,\"count\":49}"), 1);
	cr_assert_eq(nl_event_dropped(), 0);
	free(text);
}

Test(event_fold, different_event_ends_the_fold)
{
	setup_file_log();
	nl_event_test_clock(T0, 0);
	emit_simple("a", 1);
	emit_simple("a", 1);
	emit_simple("a", 1);
	emit_simple("a", 2);     /* same kind, other field: not a repeat */
	char *text = slurp(log_path);
	cr_assert_eq(count_lines(text), 3, "%s", text);
	/* the count line comes before the different event */
	const char *count = strstr(text, "\"count\":2}");
	const char *other = strstr(text, "\"n\":2}");
	cr_assert(count && other && count < other, "%s", text);
	free(text);
}

Test(event_fold, new_second_ends_the_fold)
{
	setup_file_log();
	nl_event_test_clock(T0, 0);
	emit_simple("a", 1);
	emit_simple("a", 1);
	nl_event_test_clock(T0 + 1, 0);
	emit_simple("a", 1);
	char *text = slurp(log_path);
	cr_assert_eq(count_lines(text), 3, "%s", text);
	cr_assert_eq(count_with(text, "\"count\":1}"), 1);
	free(text);
}

Test(event_fold, flood_is_capped_then_reported)
{
	setup_file_log();
	nl_event_test_clock(T0, 0);
	for (int k = 0; k < 300; k++)
		emit_simple("distinct", k);
	char *text = slurp(log_path);
	cr_assert_leq(count_lines(text), 101);
	cr_assert_geq(count_lines(text), 100);
	cr_assert_eq(count_with(text, "suppressed"), 0);
	free(text);
	cr_assert_eq(nl_event_dropped(), 200);

	nl_event_test_clock(T0 + 1, 0);
	emit_simple("later", 1);
	text = slurp(log_path);
	assert_all_lines_valid(text);
	cr_assert_eq(count_with(text, "\"event\":\"suppressed\""), 1);
	cr_assert_eq(count_with(text, "\"dropped\":200}"), 1, "%s",
		     strstr(text, "suppressed"));
	const char *sup = strstr(text, "suppressed"), *later = strstr(text, "later");
	cr_assert(sup && later && sup < later, "suppressed comes first");
	free(text);
}

Test(event_fold, flush_reports_pending_suppressed)
{
	setup_file_log();
	nl_event_test_clock(T0, 0);
	for (int k = 0; k < 120; k++)
		emit_simple("distinct", k);
	nl_event_flush();
	char *text = slurp(log_path);
	cr_assert_eq(count_with(text, "\"dropped\":20}"), 1);
	free(text);
}

/* A line that found no fd to go through (another thread opening the log,
 * every transient slot taken for longer than the wait) is counted as the
 * rate limit's drops are, and reported in the next second. */
Test(event_fold, a_line_without_an_fd_is_reported, .timeout = 30)
{
	struct nl_out_fd *t[NL_OUT_SLOTS - NL_OUT_TRANSIENT];
	char other[160];

	setup_file_log();
	snprintf(other, sizeof other, "%s/other", dir);
	for (int i = 0; i < NL_OUT_SLOTS - NL_OUT_TRANSIENT; i++) {
		int fd = open(other, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		cr_assert_geq(fd, 0);
		t[i] = nl_out_fd_transient(fd, &fd);
		cr_assert_not_null(t[i]);
	}
	atomic_store(&nl_out_fds[NL_OUT_FILE].busy, 1);   /* being opened */
	nl_event_test_clock(T0, 0);
	emit_simple("lost", 1);
	cr_assert_eq(nl_event_dropped(), 1);
	atomic_store(&nl_out_fds[NL_OUT_FILE].busy, 0);
	for (int i = 0; i < NL_OUT_SLOTS - NL_OUT_TRANSIENT; i++)
		nl_out_fd_transient_done(t[i]);

	nl_event_test_clock(T0 + 1, 0);
	emit_simple("later", 1);
	char *text = slurp(log_path);
	assert_all_lines_valid(text);
	cr_assert_eq(count_with(text, "\"event\":\"lost\""), 0, "%s", text);
	cr_assert_eq(count_with(text, "\"dropped\":1}"), 1, "%s", text);
	free(text);
}

/* An event sure to be dropped is told before it is built, and counted as
 * emit would have counted it; an event that could still fold into the
 * last line, or that falls in a new second, is not. */
Test(event_fold, dropped_early_only_when_sure)
{
	setup_file_log();
	nl_event_test_clock(T0, 0);
	for (int k = 0; k < 100; k++) {
		cr_assert_not(nl_event_dropped_early(), "within the limit");
		emit_simple("distinct", k);
	}
	cr_assert_eq(nl_event_dropped(), 0);
	/* The budget is spent, but the next event may repeat the last line
	 * and fold into its count. */
	cr_assert_not(nl_event_dropped_early());
	emit_simple("distinct", 99);
	cr_assert_not(nl_event_dropped_early());
	emit_simple("distinct", 100);   /* dropped; the fold ends */
	cr_assert_eq(nl_event_dropped(), 1);
	cr_assert(nl_event_dropped_early());
	cr_assert(nl_event_dropped_early());
	cr_assert_eq(nl_event_dropped(), 3, "counted as dropped");
	nl_event_test_clock(T0 + 1, 0);
	cr_assert_not(nl_event_dropped_early(), "a new second");
	emit_simple("later", 1);
	char *text = slurp(log_path);
	cr_assert_eq(count_with(text, "\"count\":1}"), 1, "%s", text);
	cr_assert_eq(count_with(text, "\"dropped\":3}"), 1, "%s", text);
	free(text);
}

static pid_t fork_and_emit(const char *kind)
{
	pid_t pid = fork();

	if (pid == 0) {
		nl_event_after_fork();
		if (nl_event_dropped() != 0)
			_exit(2);
		nl_event_flush();
		emit_simple(kind, 1);
		nl_event_flush();
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return pid;
}

Test(event_fold, fork_child_has_its_own_budget_and_pid)
{
	setup_file_log();
	nl_event_test_clock(T0, 0);
	for (int k = 0; k < 150; k++)
		emit_simple("distinct", k);
	cr_assert_eq(nl_event_dropped(), 50);
	pid_t pid = fork_and_emit("child");
	char *text = slurp(log_path);
	char want[128];
	snprintf(want, sizeof want, "\"event\":\"child\",\"pid\":%d,\"ppid\":%d,",
		 pid, getpid());
	cr_assert_eq(count_with(text, want), 1, "child line missing");
	cr_assert_eq(count_with(text, "suppressed"), 0,
		     "the parent's drops are not the child's to report");
	free(text);
}

Test(event_fold, fork_child_does_not_report_parents_repeats)
{
	setup_file_log();
	nl_event_test_clock(T0, 0);
	for (int k = 0; k < 3; k++)
		emit_simple("same", 1);
	fork_and_emit("same");
	nl_event_flush();
	char *text = slurp(log_path);
	cr_assert_eq(count_lines(text), 3, "%s", text);
	cr_assert_eq(count_with(text, "\"count\""), 1, "%s", text);
	cr_assert_eq(count_with(text, "\"count\":2}"), 1, "%s", text);
	free(text);
}

/* --- concurrency and signals --- */

static void *emit_from_thread(void *arg)
{
	long id = (long)arg;

	for (int k = 0; k < 20; k++) {
		struct nl_event ev;
		nl_event_begin(&ev, "thread");
		nl_event_int(&ev, "id", id);
		nl_event_int(&ev, "k", k);
		nl_event_str(&ev, "pad", "........................................");
		nl_event_emit(&ev);
	}
	return NULL;
}

Test(event_fold, threads_write_whole_lines)
{
	pthread_t t[4];

	setup_file_log();
	nl_event_test_clock(T0, 0);
	for (long k = 0; k < 4; k++)
		pthread_create(&t[k], NULL, emit_from_thread, (void *)k);
	for (int k = 0; k < 4; k++)
		pthread_join(t[k], NULL);
	char *text = slurp(log_path);
	cr_assert_eq(count_lines(text), 80);
	assert_all_lines_valid(text);
	free(text);
}

static volatile sig_atomic_t handler_runs;

static void emit_from_handler(int sig)
{
	(void)sig;
	handler_runs++;
	emit_simple("from_handler", 1);
}

Test(event_fold, signal_handler_never_deadlocks, .timeout = 20)
{
	struct sigaction sa = { .sa_handler = emit_from_handler };
	struct itimerval it = { { 0, 200 }, { 0, 200 } };

	setup_file_log();
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	for (int k = 0; k < 4000; k++) {
		nl_event_test_clock(T0 + k / 50, 0);
		emit_simple("from_main", k % 3);
	}
	memset(&it, 0, sizeof it);
	setitimer(ITIMER_REAL, &it, NULL);
	nl_event_flush();
	char *text = slurp(log_path);
	assert_all_lines_valid(text);
	cr_assert_gt(handler_runs, 0);
	cr_assert_gt(count_with(text, "from_main"), 0);
	free(text);
}

/* --- stderr --- */

Test(event_stderr, lines_go_to_fd_2)
{
	char path[160];

	make_dir();
	snprintf(path, sizeof path, "%s/stderr", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_eq(dup2(fd, 2), 2);
	close(fd);
	nl_event_configure(NL_LOG_STDERR, NULL, EXE, "enforce");
	emit_simple("to_stderr", 1);
	char *text = slurp(path);
	cr_assert_eq(count_lines(text), 1);
	cr_assert_eq(count_with(text, "\"event\":\"to_stderr\""), 1);
	assert_all_lines_valid(text);
	free(text);
}

/* --- syslog --- */

static int bind_dgram(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);

	cr_assert_geq(s, 0);
	strcpy(a.sun_path, path);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	return s;
}

static int high_socket_fd(void)
{
	for (int fd = 100; fd < 1024; fd++) {
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
			return fd;
	}
	return -1;
}

Test(event_syslog, datagram_has_pri_tag_and_json, .timeout = 10)
{
	char path[160], msg[8192], head[64];

	make_dir();
	snprintf(path, sizeof path, "%s/log.sock", dir);
	int s = bind_dgram(path);
	nl_out_syslog_test_path(path);
	nl_event_configure(NL_LOG_SYSLOG, NULL, EXE, "audit");
	emit_simple("to_syslog", 5);

	struct timeval tv = { 5, 0 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	ssize_t n = recv(s, msg, sizeof msg - 1, 0);
	cr_assert_gt(n, 0);
	msg[n] = '\0';
	int hl = snprintf(head, sizeof head, "noleak[%d]: {", getpid());
	cr_assert_eq(msg[0], '<');
	char *end;
	long pri = strtol(msg + 1, &end, 10);
	cr_assert_eq(*end, '>', "%s", msg);
	cr_assert(pri == 12 || pri == 14 || pri == 28 || pri == 30, "pri %ld", pri);
	cr_assert_eq(strncmp(end + 1, head, (size_t)hl), 0, "%s", msg);
	char *json = end + 1 + hl - 1;
	cr_assert(json_valid(json, strlen(json)), "%s", json);
	cr_assert(strstr(json, "\"event\":\"to_syslog\""));
	cr_assert_neq(msg[n - 1], '\n');

	int fd = high_socket_fd();
	cr_assert_geq(fd, 100);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	cr_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(s);
}


Test(event_syslog, nobody_listening_drops_fast, .timeout = 10)
{
	char path[160];

	make_dir();
	snprintf(path, sizeof path, "%s/absent.sock", dir);
	nl_out_syslog_test_path(path);
	nl_event_configure(NL_LOG_SYSLOG, NULL, EXE, "audit");
	nl_event_test_clock(T0, 0);
	double t = now_s();
	errno = 99;
	for (int k = 0; k < 50; k++)
		emit_simple("lost", k);
	cr_assert_eq(errno, 99);
	cr_assert_lt(now_s() - t, NEVER_WAITS_S);
	cr_assert_eq(nl_event_dropped(), 50);
}

Test(event_syslog, full_receiver_drops_and_listener_is_found_later,
     .timeout = 10)
{
	char path[160], msg[8192];

	make_dir();
	snprintf(path, sizeof path, "%s/log.sock", dir);
	int s = bind_dgram(path);
	nl_out_syslog_test_path(path);
	nl_event_configure(NL_LOG_SYSLOG, NULL, EXE, "audit");
	nl_event_test_clock(T0, 0);
	double t = now_s();
	/* nobody reads: the queue fills (net.unix.max_dgram_qlen) */
	for (int k = 0; k < 100; k++)
		emit_simple("flood", k);
	cr_assert_lt(now_s() - t, NEVER_WAITS_S, "never waits for the receiver");
	cr_assert_gt(nl_event_dropped(), 0);

	/* the daemon restarts: a new socket at the same path */
	close(s);
	unlink(path);
	nl_event_test_clock(T0 + 1, 0);
	emit_simple("gone", 1);
	s = bind_dgram(path);
	emit_simple("back", 1);
	struct timeval tv = { 5, 0 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	int seen = 0;
	for (int k = 0; k < 3; k++) {
		ssize_t n = recv(s, msg, sizeof msg - 1, MSG_DONTWAIT);
		if (n <= 0)
			break;
		msg[n] = '\0';
		seen += strstr(msg, "\"event\":\"back\"") != NULL;
	}
	cr_assert_eq(seen, 1);
	close(s);
}

/* --- log files that are refused ---
 *
 * A log path may come from whoever starts a program, and a set-user-ID
 * program logs as root: the file is used only when it is a regular file
 * (not through a symlink) in a directory nobody else can swap it in, or a
 * sticky one where it is ours.  Anything else turns the log off, with one
 * config_error to syslog. */

static char victim[192];

/* dir/victim, "precious\n": what an attacker would aim the log at. */
static void make_victim(void)
{
	snprintf(victim, sizeof victim, "%s/victim", dir);
	int fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "precious\n", 9), 9);
	close(fd);
}

/* A subdirectory of dir with this owner and mode. */
static const char *make_sub(const char *name, uid_t uid, mode_t mode)
{
	static char sub[160];
	snprintf(sub, sizeof sub, "%s/%s", dir, name);
	cr_assert_eq(mkdir(sub, 0700), 0);
	cr_assert_eq(chown(sub, uid, uid), 0);
	cr_assert_eq(chmod(sub, mode), 0);
	return sub;
}

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to give files to another user");
}

/* Every event to `path` is dropped, and syslog hears one config_error
 * naming the path and containing `why`. */
static void assert_refused(const char *path, const char *why)
{
	char sock[160], msg[8192];
	snprintf(sock, sizeof sock, "%s/log.sock", dir);
	int s = bind_dgram(sock);
	nl_out_syslog_test_path(sock);
	log_to_file(path);
	unsigned long before = nl_event_dropped();
	errno = 4242;
	emit_simple("x", 1);
	cr_assert_eq(errno, 4242, "errno changed to %d", errno);
	emit_simple("y", 2);
	emit_simple("z", 3);
	cr_assert_eq(nl_event_dropped() - before, 3);
	ssize_t n = recv(s, msg, sizeof msg - 1, MSG_DONTWAIT);
	cr_assert_gt(n, 0, "no config_error on syslog");
	msg[n] = '\0';
	char *json = strchr(msg, '{');
	cr_assert_not_null(json, "%s", msg);
	cr_assert(json_valid(json, strlen(json)), "%s", json);
	cr_assert(strstr(json, "\"event\":\"config_error\""), "%s", json);
	cr_assert(strstr(json, why), "want \"%s\" in %s", why, json);
	cr_assert(strstr(json, path), "%s", json);
	cr_assert_lt(recv(s, msg, sizeof msg - 1, MSG_DONTWAIT), 0,
		     "more than one config_error: %s", msg);
	close(s);
	nl_out_syslog_test_path(NULL);
}

static void assert_victim_untouched(void)
{
	char *text = slurp(victim);
	cr_assert_str_eq(text, "precious\n", "the log was written into it");
	free(text);
}

Test(event_refused, symlink_to_another_file)
{
	char link_path[192];

	make_dir();
	make_victim();
	snprintf(link_path, sizeof link_path, "%s/noleak.log", dir);
	cr_assert_eq(symlink(victim, link_path), 0);
	assert_refused(link_path, "symbolic link");
	assert_victim_untouched();
}

Test(event_refused, symlink_to_nowhere_creates_nothing)
{
	char link_path[192], target[192];
	struct stat st;

	make_dir();
	snprintf(target, sizeof target, "%s/created", dir);
	snprintf(link_path, sizeof link_path, "%s/noleak.log", dir);
	cr_assert_eq(symlink(target, link_path), 0);
	assert_refused(link_path, "symbolic link");
	cr_assert_neq(lstat(target, &st), 0, "the log followed the link");
}

/* What a user in the directory's group plants: a hard link to a file the
 * process may write. */
Test(event_refused, hard_link_in_a_group_writable_directory)
{
	char path[192];

	make_dir();
	make_victim();
	const char *sub = make_sub("shared", 0, 0775);
	snprintf(path, sizeof path, "%s/noleak.log", sub);
	cr_assert_eq(link(victim, path), 0);
	assert_refused(path, "writable by group or others");
	assert_victim_untouched();
}

/* Even with no file there yet: whoever may write the directory may put
 * one there between the look and the open. */
Test(event_refused, absent_file_in_a_world_writable_directory)
{
	char path[192];
	struct stat st;

	make_dir();
	const char *sub = make_sub("open", 0, 0777);
	snprintf(path, sizeof path, "%s/noleak.log", sub);
	assert_refused(path, "writable by group or others");
	cr_assert_neq(lstat(path, &st), 0);
}

Test(event_refused, directory_of_another_user)
{
	char path[192];

	need_root();
	make_dir();
	const char *sub = make_sub("theirs", 65534, 0755);
	snprintf(path, sizeof path, "%s/noleak.log", sub);
	assert_refused(path, "not owned by root or the effective user");
}

Test(event_refused, fifo)
{
	char path[192];

	make_dir();
	snprintf(path, sizeof path, "%s/noleak.log", dir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	assert_refused(path, "not a regular file");
}

Test(event_refused, directory)
{
	make_dir();
	assert_refused(dir, "not a regular file");
}

Test(event_refused, device)
{
	make_dir();
	assert_refused("/dev/null", "not a regular file");
}

/* /tmp: sticky, so only the file's owner can rename or remove it. */
Test(event_refused, someone_elses_file_in_a_sticky_directory)
{
	char path[192];

	need_root();
	make_dir();
	const char *sub = make_sub("tmp", 0, 01777);
	snprintf(path, sizeof path, "%s/noleak.log", sub);
	int fd = open(path, O_WRONLY | O_CREAT, 0666);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(chown(path, 65534, 65534), 0);
	assert_refused(path, "not the effective user's");
}

Test(event_refused, hard_link_in_a_sticky_directory)
{
	char path[192];

	make_dir();
	make_victim();
	const char *sub = make_sub("tmp", 0, 01777);
	snprintf(path, sizeof path, "%s/noleak.log", sub);
	cr_assert_eq(link(victim, path), 0);
	assert_refused(path, "other hard links");
	assert_victim_untouched();
}

/* A file that is no log: not empty, and not beginning as every line of
 * the shim's does ({"ts":").  /etc/ld.so.preload, /etc/shadow. */
Test(event_refused, file_that_is_no_log)
{
	make_dir();
	make_victim();
	assert_refused(victim, "not a noleak log");
	assert_victim_untouched();
}

/* A kernel interface's regular file of size 0: its file system says what
 * it is.  /proc/self/comm, the test's own name, where the write would do
 * no harm. */
Test(event_refused, file_on_proc)
{
	char before[64], after[64];
	int fd = open("/proc/self/comm", O_RDONLY);
	cr_assert_geq(fd, 0);
	ssize_t n = read(fd, before, sizeof before - 1);
	close(fd);
	cr_assert_gt(n, 0);
	before[n] = '\0';
	make_dir();
	assert_refused("/proc/self/comm", "kernel interface file system");
	fd = open("/proc/self/comm", O_RDONLY);
	n = read(fd, after, sizeof after - 1);
	close(fd);
	after[n > 0 ? n : 0] = '\0';
	cr_assert_str_eq(after, before);
}

/* The log for another destination is not refused with the first one. */
Test(event_refused, only_that_destination)
{
	char link_path[192];

	make_dir();
	make_victim();
	snprintf(link_path, sizeof link_path, "%s/link.log", dir);
	cr_assert_eq(symlink(victim, link_path), 0);
	assert_refused(link_path, "symbolic link");
	log_to_file(log_path);
	emit_simple("fine", 1);
	char *text = slurp(log_path);
	cr_assert_eq(count_with(text, "\"event\":\"fine\""), 1, "%s", text);
	free(text);
}

/* --- log files that are used --- */

Test(event_file, new_file_is_created_0600)
{
	struct stat st;

	setup_file_log();
	umask(0);
	emit_simple("a", 1);
	cr_assert_eq(stat(log_path, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
}

/* An existing log in a safe directory keeps its mode and is appended to,
 * whoever owns it and however many names it has. */
Test(event_file, existing_file_in_a_safe_directory_is_appended_to)
{
	static const char old[] = "{\"ts\":\"old\"}\n";
	char other[192];
	struct stat st;

	make_dir();
	int fd = open(log_path, O_WRONLY | O_CREAT, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, old, sizeof old - 1), (ssize_t)sizeof old - 1);
	close(fd);
	snprintf(other, sizeof other, "%s/second-name", dir);
	cr_assert_eq(link(log_path, other), 0);
	log_to_file(log_path);
	emit_simple("a", 1);
	char *text = slurp(log_path);
	cr_assert_eq(strncmp(text, old, sizeof old - 1), 0, "%s", text);
	cr_assert_eq(count_with(text, "\"event\":\"a\""), 1, "%s", text);
	free(text);
	cr_assert_eq(stat(log_path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644);
}

/* What a log may begin with besides a whole line: a line cut short (the
 * disk filled up at its first bytes), a newline before a line (a cut
 * line's, when logrotate's copytruncate emptied the file in between), or
 * nothing at all (copytruncate). */
Test(event_file, existing_log_that_begins_cut_or_empty_is_appended_to)
{
	static const char *const starts[] = {
		"{\"t", "\n{\"ts\":\"x\"}\n", "", "{\"ts\":\"",
	};

	make_dir();
	for (size_t i = 0; i < sizeof starts / sizeof *starts; i++) {
		char path[192];
		snprintf(path, sizeof path, "%s/log%zu", dir, i);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		cr_assert_geq(fd, 0);
		size_t len = strlen(starts[i]);
		cr_assert_eq(write(fd, starts[i], len), (ssize_t)len);
		close(fd);
		log_to_file(path);
		emit_simple("a", (int)i + 1);   /* no repeat: none folded */
		char *text = slurp(path);
		cr_assert_eq(strncmp(text, starts[i], len), 0, "%s", text);
		cr_assert_eq(count_with(text, "\"event\":\"a\""), 1,
			     "start %zu: %s", i, text);
		free(text);
	}
}

Test(event_file, own_file_in_a_sticky_directory)
{
	char path[192];

	make_dir();
	const char *sub = make_sub("tmp", 0, 01777);
	snprintf(path, sizeof path, "%s/noleak.log", sub);
	log_to_file(path);
	emit_simple("created", 1);
	emit_simple("appended", 2);
	char *text = slurp(path);
	cr_assert_eq(count_lines(text), 2, "%s", text);
	free(text);
}

/* A symlink above the file is the path's business, not an attack on the
 * file: /var/run -> /run. */
Test(event_file, symlinked_directory_above_the_file)
{
	char real_dir[160], link_dir[160], path[192], real_path[192];

	make_dir();
	snprintf(real_dir, sizeof real_dir, "%s/real", dir);
	snprintf(link_dir, sizeof link_dir, "%s/link", dir);
	cr_assert_eq(mkdir(real_dir, 0755), 0);
	cr_assert_eq(symlink("real", link_dir), 0);
	snprintf(path, sizeof path, "%s/noleak.log", link_dir);
	snprintf(real_path, sizeof real_path, "%s/noleak.log", real_dir);
	log_to_file(path);
	emit_simple("through", 1);
	char *text = slurp(real_path);
	cr_assert_eq(count_with(text, "\"event\":\"through\""), 1, "%s", text);
	free(text);
}

/* --- journal --- */

/* The value of field `name` in a native journal datagram (either form),
 * copied to out; -1 when absent. */
static long journal_field(const char *msg, size_t n, const char *name,
			  char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (size_t pos = 0; pos < n;) {
		const char *f = msg + pos;
		const char *eol = memchr(f, '\n', n - pos);
		const char *eq = memchr(f, '=', n - pos);
		if (!eol)
			return -1;
		if (eq && eq < eol) {        /* NAME=value\n */
			size_t vn = (size_t)(eol - eq - 1);
			if ((size_t)(eq - f) == nl && !memcmp(f, name, nl)) {
				cr_assert_lt(vn, cap);
				memcpy(out, eq + 1, vn);
				out[vn] = '\0';
				return (long)vn;
			}
			pos = (size_t)(eol - msg) + 1;
			continue;
		}
		/* NAME\n<le64 length><value>\n */
		unsigned long long vn = 0;
		for (int i = 7; i >= 0; i--)
			vn = vn << 8 | (unsigned char)eol[1 + i];
		const char *v = eol + 9;
		cr_assert_eq(v[vn], '\n', "binary field not closed");
		if ((size_t)(eol - f) == nl && !memcmp(f, name, nl)) {
			cr_assert_lt(vn, cap);
			memcpy(out, v, vn);
			out[vn] = '\0';
			return (long)vn;
		}
		pos = (size_t)(v + vn + 1 - msg);
	}
	return -1;
}

static ssize_t recv_within(int s, char *buf, size_t cap, int seconds)
{
	struct timeval tv = { seconds, 0 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return recv(s, buf, cap, 0);
}

Test(event_journal, native_entry_with_message_priority_and_fields,
     .timeout = 10)
{
	char path[160], msg[16384], v[8192];

	make_dir();
	snprintf(path, sizeof path, "%s/journal.sock", dir);
	int s = bind_dgram(path);
	nl_out_journal_test_path(path);
	nl_event_configure(NL_LOG_JOURNAL, NULL, EXE, "enforce");
	struct nl_event ev;
	nl_event_begin(&ev, "fd_leak");
	nl_event_str(&ev, "action", "closed");
	nl_event_int(&ev, "fd", 4);
	nl_event_str(&ev, "object", "a \"quoted\"\nname\\");
	nl_event_bool(&ev, "kept", 0);
	nl_event_raw(&ev, "culprits", "[{\"pid\":7}]");
	nl_event_emit(&ev);

	ssize_t n = recv_within(s, msg, sizeof msg, 5);
	cr_assert_gt(n, 0);
	cr_assert_gt(journal_field(msg, (size_t)n, "MESSAGE", v, sizeof v), 0);
	char want[256];
	snprintf(want, sizeof want, "noleak: fd_leak in %s[%d]: action=closed fd=4 kept=false",
		 EXE_PATH, getpid());
	cr_assert_str_eq(v, want);
	journal_field(msg, (size_t)n, "PRIORITY", v, sizeof v);
	cr_assert_str_eq(v, "4");
	journal_field(msg, (size_t)n, "SYSLOG_IDENTIFIER", v, sizeof v);
	cr_assert_str_eq(v, "noleak");
	journal_field(msg, (size_t)n, "NOLEAK_EVENT", v, sizeof v);
	cr_assert_str_eq(v, "fd_leak");
	journal_field(msg, (size_t)n, "NOLEAK_FD", v, sizeof v);
	cr_assert_str_eq(v, "4");
	journal_field(msg, (size_t)n, "NOLEAK_EXE", v, sizeof v);
	cr_assert_str_eq(v, EXE_PATH);
	journal_field(msg, (size_t)n, "NOLEAK_OBJECT", v, sizeof v);
	cr_assert_str_eq(v, "a \"quoted\"\nname\\");
	journal_field(msg, (size_t)n, "NOLEAK_KEPT", v, sizeof v);
	cr_assert_str_eq(v, "false");
	journal_field(msg, (size_t)n, "NOLEAK_CULPRITS", v, sizeof v);
	cr_assert_str_eq(v, "[{\"pid\":7}]");
	cr_assert_gt(journal_field(msg, (size_t)n, "NOLEAK_JSON", v, sizeof v), 0);
	cr_assert(json_valid(v, strlen(v)), "%s", v);
	cr_assert(strstr(v, "\"event\":\"fd_leak\""), "%s", v);
	cr_assert_eq(nl_event_dropped(), 0);

	/* audit-only descriptions are informational */
	nl_event_begin(&ev, "sock_policy");
	nl_event_int(&ev, "fd", 5);
	nl_event_emit(&ev);
	n = recv_within(s, msg, sizeof msg, 5);
	cr_assert_gt(n, 0);
	journal_field(msg, (size_t)n, "PRIORITY", v, sizeof v);
	cr_assert_str_eq(v, "6");

	int fd = high_socket_fd();
	cr_assert_geq(fd, 100);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	cr_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(s);
	nl_out_journal_test_path(NULL);
}

/* A line near the 4 KiB limit still makes a whole entry (its room is
 * taken from the arena by the line's size), and a short one a short one. */
Test(event_journal, a_full_line_makes_a_whole_entry, .timeout = 10)
{
	char path[160], msg[16384], v[8192], big[3601];

	make_dir();
	snprintf(path, sizeof path, "%s/journal.sock", dir);
	int s = bind_dgram(path);
	nl_out_journal_test_path(path);
	nl_event_configure(NL_LOG_JOURNAL, NULL, EXE, "enforce");
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	struct nl_event ev;
	nl_event_begin(&ev, "fd_leak");
	nl_event_str(&ev, "object", big);
	nl_event_int(&ev, "fd", 9);
	nl_event_emit(&ev);
	ssize_t n = recv_within(s, msg, sizeof msg, 5);
	cr_assert_gt(n, 0);
	cr_assert_eq(journal_field(msg, (size_t)n, "NOLEAK_OBJECT", v, sizeof v),
		     (long)strlen(big));
	journal_field(msg, (size_t)n, "NOLEAK_FD", v, sizeof v);
	cr_assert_str_eq(v, "9");
	cr_assert_gt(journal_field(msg, (size_t)n, "NOLEAK_JSON", v, sizeof v),
		     3600);
	cr_assert_eq(nl_event_dropped(), 0);
	close(s);
	nl_out_journal_test_path(NULL);
}

Test(event_journal, without_a_journal_socket_syslog_gets_the_line,
     .timeout = 10)
{
	char jpath[160], spath[160], msg[8192];

	make_dir();
	snprintf(jpath, sizeof jpath, "%s/no-journal.sock", dir);
	snprintf(spath, sizeof spath, "%s/log.sock", dir);
	int s = bind_dgram(spath);
	nl_out_journal_test_path(jpath);
	nl_out_syslog_test_path(spath);
	nl_event_configure(NL_LOG_JOURNAL, NULL, EXE, "audit");
	emit_simple("to_syslog", 5);
	ssize_t n = recv_within(s, msg, sizeof msg - 1, 5);
	cr_assert_gt(n, 0);
	msg[n] = '\0';
	cr_assert(strstr(msg, "noleak["), "%s", msg);
	cr_assert(strstr(msg, "\"event\":\"to_syslog\""), "%s", msg);
	close(s);
	nl_out_journal_test_path(NULL);
	nl_out_syslog_test_path(NULL);
}

Test(event_journal, full_journal_drops_and_never_waits, .timeout = 10)
{
	char path[160];

	make_dir();
	snprintf(path, sizeof path, "%s/journal.sock", dir);
	int s = bind_dgram(path);
	nl_out_journal_test_path(path);
	nl_event_configure(NL_LOG_JOURNAL, NULL, EXE, "audit");
	double t = now_s();
	for (int k = 0; k < 100; k++) {
		nl_event_test_clock(T0 + k, 0);   /* no folding or rate cap */
		emit_simple("flood", k);
	}
	cr_assert_lt(now_s() - t, NEVER_WAITS_S, "never waits for the journal");
	cr_assert_gt(nl_event_dropped(), 0);
	close(s);
	nl_out_journal_test_path(NULL);
}
