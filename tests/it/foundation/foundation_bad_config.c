/* A bad setting never stops a program.
 *
 * The shim runs inside programs that know nothing of it: a typo in a
 * variable or a broken config file must leave the program's exit status,
 * stdout and stderr exactly as without the shim, and be reported as one
 * config_error event per problem in the log, nowhere else. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0

static struct run_result r, bare;
static char dir[256];  /* tmpdir() paths are short */
static char log_path[PATH_MAX], config_path[PATH_MAX];
static char log_env[PATH_MAX + 16], config_env[PATH_MAX + 16];

static void init(void)
{
	snprintf(dir, sizeof dir, "%s", tmpdir());
	snprintf(log_path, sizeof log_path, "%s/events.log", dir);
	snprintf(config_path, sizeof config_path, "%s/noleak.conf", dir);
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log_path);
	snprintf(config_env, sizeof config_env, "NOLEAK_CONFIG=%s", config_path);
}

TestSuite(foundation_bad_config, .init = init, .timeout = 60);

static void write_config(const char *text, size_t len, mode_t mode)
{
	FILE *f = fopen(config_path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(config_path, mode), 0);
}

/* found_log plain (prints "hello", exits 5) with the shim and `env`, then
 * the checks every case shares: the same exit status and stdout as without
 * the shim, an empty stderr, and `errors` config_error events. */
static void expect_program_unaffected(char *const env[], int errors)
{
	char *argv[] = { (char *)top("build/fixtures/found_log"), "plain", NULL };
	cr_assert_eq(run(&bare, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&bare), 5, "the fixture itself misbehaves");
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out);
	cr_expect_eq(exit_code(&r), exit_code(&bare), "status %d", r.status);
	cr_expect_str_eq(r.out, bare.out);
	cr_expect_str_eq(r.err, "", "the shim wrote on the program's stderr");
	const char *text = slurp(log_path);
	cr_expect_eq(count_lines_with(text, "\"event\":\"config_error\""), errors,
		     "want %d config_error events; log:\n%s", errors, text);
}

static int log_has(const char *needle)
{
	return strstr(slurp(log_path), needle) != NULL;
}

Test(foundation_bad_config, bad_mode_variable)
{
	char *env[] = { "NOLEAK_MODE=bogus", log_env, NULL };
	expect_program_unaffected(env, 1);
	cr_expect(log_has("NOLEAK_MODE"), "%s", slurp(log_path));
	/* The bad value is ignored: the default stays. */
	cr_expect(log_has("\"mode\":\"enforce\""), "%s", slurp(log_path));
}

Test(foundation_bad_config, bad_keep_fds_variable)
{
	char *env[] = { "NOLEAK_KEEP_FDS=x", log_env, NULL };
	expect_program_unaffected(env, 1);
	cr_expect(log_has("NOLEAK_KEEP_FDS"), "%s", slurp(log_path));
}

Test(foundation_bad_config, several_bad_variables)
{
	char *env[] = { "NOLEAK_MODE=bogus", "NOLEAK_KEEP_FDS=x",
			"NOLEAK_SOCK_TIMEOUT=-1", log_env, NULL };
	expect_program_unaffected(env, 3);
}

/* A line break or another control character inside a name list is a bad
 * value of that key, one config_error, like any other. */
Test(foundation_bad_config, control_character_in_a_name_list_variable)
{
	char *env[] = { "NOLEAK_KILL_WRAPPERS=timeout\nExecStartPre=/bin/true",
			"NOLEAK_FD_TRANSPARENT=bash,\x1bsh", log_env, NULL };
	expect_program_unaffected(env, 2);
	cr_expect(log_has("NOLEAK_KILL_WRAPPERS"), "%s", slurp(log_path));
	cr_expect(log_has("NOLEAK_FD_TRANSPARENT"), "%s", slurp(log_path));
}

/* With no log configured the errors go nowhere: certainly not to the
 * program's stderr. */
Test(foundation_bad_config, no_log_means_silence)
{
	write_config("garbage\n", 8, 0644);
	char *env[] = { "NOLEAK_MODE=bogus", "NOLEAK_KEEP_FDS=x", config_env,
			"NOLEAK_LOG=relative/events.log", NULL };
	expect_program_unaffected(env, 0);
}

Test(foundation_bad_config, garbage_and_an_over_long_line)
{
	char text[4096];
	int n = snprintf(text, sizeof text,
			 "this line is not a setting\nmode = audit\nlog = %s\n",
			 log_path);
	memset(text + n, 'x', 2000);
	text[n + 2000] = '\n';
	write_config(text, (size_t)n + 2001, 0644);
	char *env[] = { config_env, NULL };
	expect_program_unaffected(env, 2);
	cr_expect(log_has("expected key = value"), "%s", slurp(log_path));
	cr_expect(log_has("line longer than 1024 bytes"), "%s", slurp(log_path));
	/* The good lines of the same file still count. */
	cr_expect(log_has("\"mode\":\"audit\""), "%s", slurp(log_path));
}

Test(foundation_bad_config, unknown_key_bad_value_bad_header_nul_byte)
{
	char text[4096];
	int n = snprintf(text, sizeof text,
			 "log = %s\ncolour = blue\nsock_timeout = forever\n"
			 "[program\nkeep_fds = 3\n", log_path);
	memcpy(text + n, "mode = a\0udit\n", 14);
	write_config(text, (size_t)n + 14, 0644);
	char *env[] = { config_env, NULL };
	expect_program_unaffected(env, 4);
}

Test(foundation_bad_config, config_larger_than_the_limit)
{
	size_t len = 70000;
	char *text = malloc(len);
	cr_assert_not_null(text);
	memset(text, '#', len);
	for (size_t i = 99; i < len; i += 100)
		text[i] = '\n';
	write_config(text, len, 0644);
	free(text);
	char *env[] = { config_env, log_env, NULL };
	expect_program_unaffected(env, 1);
	cr_expect(log_has("larger than"), "%s", slurp(log_path));
}

Test(foundation_bad_config, group_writable_config_is_ignored)
{
	write_config("mode = audit\n", 13, 0664);
	char *env[] = { config_env, log_env, NULL };
	expect_program_unaffected(env, 1);
	cr_expect(log_has("writable by group or others"), "%s", slurp(log_path));
	cr_expect(log_has("\"mode\":\"enforce\""), "the untrusted file was applied: %s",
		  slurp(log_path));
}

Test(foundation_bad_config, config_of_another_user_is_ignored)
{
	if (geteuid() != 0)
		cr_skip_test("giving a file to another user needs root");
	write_config("mode = audit\n", 13, 0644);
	cr_assert_eq(chown(config_path, 65534, 65534), 0);
	char *env[] = { config_env, log_env, NULL };
	expect_program_unaffected(env, 1);
	cr_expect(log_has("not owned by root or the effective user"), "%s",
		  slurp(log_path));
	cr_expect(log_has("\"mode\":\"enforce\""), "the untrusted file was applied: %s",
		  slurp(log_path));
}

Test(foundation_bad_config, config_that_is_a_directory)
{
	char env_dir[PATH_MAX + 16];
	snprintf(env_dir, sizeof env_dir, "NOLEAK_CONFIG=%s", dir);
	char *env[] = { env_dir, log_env, NULL };
	expect_program_unaffected(env, 1);
}

/* Whether `pid` is in open() or openat() now (/proc/PID/syscall). */
static int in_open(pid_t pid)
{
	char path[64], buf[64] = "";
	snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int got = fgets(buf, sizeof buf, f) != NULL;
	fclose(f);
	long nr = got ? strtol(buf, NULL, 10) : -1;
#ifdef SYS_open
	if (nr == SYS_open)
		return 1;
#endif
	return nr == SYS_openat;
}

/* Opening a FIFO for reading waits for a writer: the program must not.
 * Nor may the shim open it at all, as it did with O_NONBLOCK before its
 * look: a writer waiting in open() for a reader would go on, as a device's
 * driver would run its open (a watchdog started).  Without the shim
 * nothing opens the FIFO; with it, nothing either. */
Test(foundation_bad_config, config_that_is_a_fifo)
{
	cr_assert_eq(mkfifo(config_path, 0644), 0);
	pid_t writer = fork();
	cr_assert_geq(writer, 0);
	if (writer == 0)
		_exit(open(config_path, O_WRONLY) >= 0 ? 0 : 1);
	for (int i = 0; i < 500 && !in_open(writer); i++)
		usleep(10000);
	cr_assert(in_open(writer), "the writer is not waiting in open()");
	char *env[] = { config_env, log_env, NULL };
	expect_program_unaffected(env, 1);
	cr_expect_lt(r.seconds, 5.0, "the program waited for the FIFO");
	int status;
	cr_expect_eq(waitpid(writer, &status, WNOHANG), 0,
		     "the shim opened the FIFO: its writer went on");
	kill(writer, SIGKILL);
	waitpid(writer, &status, 0);
}

/* A missing config file is the normal case, not an error. */
Test(foundation_bad_config, missing_config_is_not_an_error)
{
	char *env[] = { config_env, log_env, "NOLEAK_MODE=audit", NULL };
	expect_program_unaffected(env, 0);
}
