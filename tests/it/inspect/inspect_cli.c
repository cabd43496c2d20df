/* noleak inspect's command line: usage errors exit 2, a process that
 * does not exist exits 1 with a message that says so, a report that
 * cannot be written exits 3 with a message that says why. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/run.h"

#define TIMEOUT 20.0

static struct run_result r;

static void inspect(const char *first, ...)
{
	char *argv[16];
	int n = 0;
	argv[n++] = (char *)top("build/noleak");
	argv[n++] = "inspect";
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out);
}

static void expect_usage_error(const char *what)
{
	cr_assert_eq(exit_code(&r), 2, "%s: exit %d, stderr: %s", what,
		     exit_code(&r), r.err);
	cr_assert(strstr(r.err, "usage: noleak inspect"), "%s: %s", what, r.err);
	cr_assert_str_eq(r.out, "", "%s", what);
}

Test(inspect_cli, usage_errors_exit_2)
{
	inspect(NULL);
	expect_usage_error("no PID");
	inspect("abc", NULL);
	expect_usage_error("not a number");
	inspect("-5", NULL);
	expect_usage_error("negative");
	inspect("1", "2", NULL);
	expect_usage_error("two PIDs");
	inspect("--frobnicate", "1", NULL);
	expect_usage_error("unknown option");
	inspect("--all", NULL);
	expect_usage_error("--all without --blocked");
	inspect("--all", "--blocked", "0", NULL);
	expect_usage_error("--blocked 0");
	inspect("--all", "--blocked", "x", NULL);
	expect_usage_error("--blocked x");
	inspect("--all", "--blocked", NULL);
	expect_usage_error("--blocked without value");
	inspect("--all", "--blocked", "1", "1", NULL);
	expect_usage_error("--all with a PID");
	inspect("--blocked", "1", "1", NULL);
	expect_usage_error("--blocked without --all");
}

Test(inspect_cli, a_process_that_does_not_exist)
{
	/* A pid that just ended: pids are handed out upwards, so it is not
	 * reused this soon. */
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	char p[16], msg[64];
	snprintf(p, sizeof p, "%d", (int)pid);
	snprintf(msg, sizeof msg, "noleak inspect: no process %d", (int)pid);
	inspect(p, NULL);
	cr_assert_eq(exit_code(&r), 1, "exit %d: %s", exit_code(&r), r.err);
	cr_assert(strstr(r.err, msg), "%s", r.err);
	cr_assert_str_eq(r.out, "");
	inspect("--json", p, NULL);
	cr_assert_eq(exit_code(&r), 1);
	cr_assert(strstr(r.err, msg), "%s", r.err);
}

Test(inspect_cli, help_is_not_an_error)
{
	inspect("--help", NULL);
	cr_assert_eq(exit_code(&r), 0);
	cr_assert(strstr(r.out, "noleak inspect [--json] PID"), "%s", r.out);
}

Test(inspect_cli, the_launcher_help_documents_inspect)
{
	char *argv[] = { (char *)top("build/noleak"), "--help", NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0);
	cr_assert(strstr(r.out, "noleak inspect [--json] --all --blocked SECONDS"),
		  "%s", r.out);
}

/* Names a process chose (the path of a file it holds, its thread's name)
 * are printed whole, with control characters escaped: a newline in a file
 * name made a line of its own that read as the report's ("no orphans"),
 * and an escape sequence spoke to the terminal. */
Test(inspect_cli, names_with_control_characters_cannot_forge_lines)
{
	const char *dir = tmpdir();
	char name[512];
	snprintf(name, sizeof name, "%s/x\n  no orphans\033[31mRED", dir);
	int fd = open(name, O_WRONLY | O_CREAT, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (open(name, O_RDONLY) < 0 ||
		    prctl(PR_SET_NAME, "a\033[0m", 0, 0, 0))
			_exit(1);
		pause();
		_exit(0);
	}
	char num[16];
	snprintf(num, sizeof num, "%d", (int)pid);
	for (int i = 0; i < 100; i++) {   /* until the child holds the file */
		inspect(num, NULL);
		if (strstr(r.out, "no orphans\\x1b"))
			break;
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_expect_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect_null(strchr(r.out, '\033'), "a raw escape:\n%s", r.out);
	cr_expect(strstr(r.out, "/x\\x0a  no orphans\\x1b[31mRED"), "%s", r.out);
	cr_expect(strstr(r.out, "(a\\x1b[0m)"), "%s", r.out);
}

/* The controls of common/termtext.h beyond C0 are escaped as C0 ones
 * are: in a held file's name each byte as \xNN, in the command line as a
 * space.  C1 (U+0080 to U+009F; U+009B is CSI, as ESC [ is); the Unicode
 * bidirectional controls, which make a terminal show the rest of a line
 * reversed or moved (U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LEFT-TO-RIGHT
 * ISOLATE, U+061C ARABIC LETTER MARK, U+200F RIGHT-TO-LEFT MARK); and
 * U+2028 LINE SEPARATOR, which some terminals break the line at.  One row
 * each: the control's bytes and their escapes. */
static const struct {
	const char *bytes, *escaped, *json;
} control_cases[] = {
	{ "\xc2\x9b", "\\xc2\\x9b", "\\u00c2\\u009b" },
	{ "\xe2\x80\xae", "\\xe2\\x80\\xae", "\\u202e" },
	{ "\xe2\x81\xa6", "\\xe2\\x81\\xa6", "\\u2066" },
	{ "\xd8\x9c", "\\xd8\\x9c", "\\u061c" },
	{ "\xe2\x80\x8f", "\\xe2\\x80\\x8f", "\\u200f" },
	{ "\xe2\x80\xa8", "\\xe2\\x80\\xa8", "\\u2028" },
};

/* The same name in --json: never raw, escaped as noleak-report escapes
 * it (common/termtext.h, nl_text_json): a C1 control as its two bytes'
 * escapes, the others as their code points.  Inspect wrote them raw. */
static void control_in_json(const char *num, const char *bytes,
			    const char *json)
{
	char want[128];
	inspect("--json", num, NULL);
	cr_expect_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect_null(strstr(r.out, bytes), "a raw %s in the JSON:\n%s", json,
		       r.out);
	snprintf(want, sizeof want, "/c%s31mRED\"", json);
	cr_expect(strstr(r.out, want), "no \"%s\" in:\n%s", want, r.out);
	snprintf(want, sizeof want, "arg%s32mGREEN", json);
	cr_expect(strstr(r.out, want), "no \"%s\" in:\n%s", want, r.out);
}

static void control_escaped(const char *bytes, const char *escaped,
			    const char *json)
{
	const char *dir = tmpdir();
	char name[512], arg[64], want[128];
	snprintf(name, sizeof name, "%s/c%s31mRED", dir, bytes);
	snprintf(arg, sizeof arg, "arg%s32mGREEN", bytes);
	int fd = open(name, O_WRONLY | O_CREAT, 0600);   /* inherited by sh */
	cr_assert_geq(fd, 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "sleep 30; :", arg, (char *)NULL);
		_exit(127);
	}
	close(fd);
	char num[16];
	snprintf(num, sizeof num, "%d", (int)pid);
	for (int i = 0; i < 100; i++) {   /* until sh runs with the file */
		inspect(num, NULL);
		if (strstr(r.out, "32mGREEN") && strstr(r.out, "31mRED"))
			break;
		usleep(20000);
	}
	cr_expect_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect_null(strstr(r.out, bytes), "a raw %s:\n%s", escaped, r.out);
	snprintf(want, sizeof want, "/c%s31mRED", escaped);
	cr_expect(strstr(r.out, want), "no \"%s\" in:\n%s", want, r.out);
	cr_expect(strstr(r.out, "arg 32mGREEN"), "%s", r.out);
	control_in_json(num, bytes, json);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

Test(inspect_cli, c1_and_bidi_controls_are_escaped_too)
{
	for (size_t i = 0; i < sizeof control_cases / sizeof *control_cases; i++)
		control_escaped(control_cases[i].bytes, control_cases[i].escaped,
				control_cases[i].json);
}

/* A report that cannot be written is an error with a message and a status
 * of its own (3): stdout on a full device, or a pipe whose reader has gone
 * while SIGPIPE is ignored.  It was exit 1, without a word: "no such
 * process" to a script. */
static const struct {
	const char *what;
	const char *args;      /* after "noleak inspect"; %d: a live pid */
	int closed_pipe;       /* else /dev/full */
	const char *why;
} write_error_cases[] = {
	{ "text report, full device", "%d", 0, "No space left on device" },
	{ "JSON report, full device", "--json %d", 0, "No space left on device" },
	{ "usage, full device", "--help", 0, "No space left on device" },
	{ "--all --blocked, full device", "--all --blocked 0.1", 0,
	  "No space left on device" },
	{ "text report, closed pipe", "%d", 1, "Broken pipe" },
	{ "JSON report, closed pipe", "--json %d", 1, "Broken pipe" },
};

Test(inspect_cli, a_report_that_cannot_be_written_exits_3_and_says_why)
{
	const char *dir = tmpdir();
	for (size_t i = 0; i < sizeof write_error_cases / sizeof *write_error_cases;
	     i++) {
		const char *what = write_error_cases[i].what;
		char args[64], err[4200], cmd[8600];
		snprintf(args, sizeof args, write_error_cases[i].args, (int)getpid());
		snprintf(err, sizeof err, "%s/err%zu", dir, i);
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			/* An ignored SIGPIPE stays ignored across the execs. */
			int p[2];
			if (write_error_cases[i].closed_pipe) {
				if (pipe(p) || dup2(p[1], 1) < 0)
					_exit(125);
				close(p[0]);
				signal(SIGPIPE, SIG_IGN);
			} else if (dup2(open("/dev/full", O_WRONLY), 1) < 0) {
				_exit(125);
			}
			snprintf(cmd, sizeof cmd, "exec %s inspect %s 2>%s",
				 top("build/noleak"), args, err);
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
			_exit(127);
		}
		int st;
		cr_assert_eq(waitpid(pid, &st, 0), pid);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 3,
			  "%s: status 0x%x, stderr: %s", what, st, slurp(err));
		char want[128];
		snprintf(want, sizeof want, "noleak inspect: cannot write the %s: %s",
			 strstr(args, "--help") ? "usage" : "report",
			 write_error_cases[i].why);
		cr_expect(strstr(slurp(err), want), "%s: no \"%s\" in: %s", what,
			  want, slurp(err));
	}
}

/* A wait's note names the children, in one line of fixed size: those that
 * do not fit are counted (the note stopped short without a word), and
 * their names are escaped like every name a process chose. */
Test(inspect_cli, a_wait_names_its_children_or_counts_the_rest)
{
	enum { KIDS = 40 };
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		setpgid(0, 0);
		for (int i = 0; i < KIDS; i++) {
			pid_t k = fork();
			if (k == 0) {
				prctl(PR_SET_NAME, i ? "kid" : "k\n  FORGED",
				      0, 0, 0);
				pause();
				_exit(0);
			}
		}
		wait(NULL);
		_exit(0);
	}
	char num[16];
	snprintf(num, sizeof num, "%d", (int)pid);
	/* Until every child is there (the report reads the process table
	 * before the call) and it waits. */
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	const char *note = NULL;
	for (int i = 0; i < 200 && !note; i++) {
		int kids = 0;
		for (const char *c = slurp(path); *c; c++)
			kids += *c == ' ';
		if (kids == KIDS) {
			inspect(num, NULL);
			note = strstr(r.out, "waits for any child; children:");
		}
		if (!note)
			usleep(20000);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert_not_null(note, "%s", r.out);
	size_t len = strcspn(note, "\n");
	int listed = 0, more = 0;
	for (const char *c = note; c < note + len; c++)
		listed += *c == '(';
	const char *m = memmem(note, len, " ... and ", 9);
	cr_expect(m && sscanf(m, " ... and %d more", &more) == 1,
		  "no count of the rest: %.*s", (int)len, note);
	cr_expect_eq(listed + more, KIDS, "%d listed, %d more: %.*s", listed,
		     more, (int)len, note);
	cr_expect_null(strstr(r.out, "\n  FORGED"), "%s", r.out);
}
