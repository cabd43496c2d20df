/* /proc not mounted (a chroot or a container without it): the shim finds
 * open fds and holders through /proc, so it must fall back, not fail.
 *
 * Each run happens in a private mount namespace (unshare -m, propagation
 * private, so the host's /proc is untouched) where /proc is either an empty
 * tmpfs or lazily unmounted:
 *
 *   - the exec sweep still marks every junk fd close-on-exec (close_range
 *     needs no /proc) and still passes the fds the program meant to pass;
 *   - an fd handed over at start-up, whatever its number, still passes
 *     through the program's exec (found by asking the kernel, not /proc);
 *   - audit names every fd an exec would leak (the fds are listed by
 *     asking the kernel; before, without /proc, none was named);
 *   - the read watchdog's holder lookup says it could not look
 *     ("unknown (/proc unavailable)") instead of naming nobody, and the
 *     read itself returns as it would without the shim. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/ns.h"
#include "../../lib/run.h"
#include "../../lib/sweep_util.h"

#define TIMEOUT 30.0

TestSuite(fault_no_proc, .timeout = 90);

static struct run_result r;

/* Run `env ... program args` in a private mount namespace without /proc;
 * `env_args` are VAR=VALUE words for env (with LD_PRELOAD when shim). */
static void run_without_proc(const char *hide, const char *env_args, int shim,
			     const char *program_and_args)
{
	char cmd[PATH_MAX * 4];
	snprintf(cmd, sizeof cmd, "exec env %s%s %s %s",
		 shim ? "LD_PRELOAD=" : "", shim ? shim_path() : "",
		 env_args, program_and_args);
	ns_run_without_proc(&r, hide, cmd, TIMEOUT);
	cr_assert(!r.timed_out, "hung: %s", cmd);
}



static void sweep_without_proc(const char *hide)
{
	static const char *const vias[] = { "fork", "vfork", "spawn" };
	char prog[PATH_MAX + 8], want[64], got[256];
	snprintf(prog, sizeof prog, "%s run", top("build/fixtures/flt_sweep"));

	/* Without the shim the junk does reach the children. */
	run_without_proc(hide, "", 0, prog);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	sweep_expected_fds(r.out, want, sizeof want);
	cr_assert(sweep_child_fds(r.out, "fork", got, sizeof got));
	cr_assert_str_neq(got, want, "the junk fds are not inheritable: %s", r.out);

	run_without_proc(hide, "NOLEAK_MODE=enforce", 1, prog);
	cr_assert_eq(exit_code(&r), 0, "status %d: %s%s", r.status, r.out, r.err);
	sweep_expected_fds(r.out, want, sizeof want);
	for (size_t i = 0; i < sizeof vias / sizeof *vias; i++) {
		cr_assert(sweep_child_fds(r.out, vias[i], got, sizeof got),
			  "no child line for %s: %s%s", vias[i], r.out, r.err);
		cr_expect_str_eq(got, want, "%s: the child got %s, not %s",
				 vias[i], got, want);
	}
	cr_expect_eq(r.err[0], 0, "stderr: %s", r.err);
}

Test(fault_no_proc, exec_sweep_works_with_proc_covered_by_tmpfs)
{
	sweep_without_proc(NS_PROC_TMPFS);
}

Test(fault_no_proc, exec_sweep_works_with_proc_unmounted)
{
	sweep_without_proc(NS_PROC_UMOUNT);
}

/* A fork child of a program with 5 fds it would leak, and one more
 * (fdh_many's junk, /dev/null), execs under audit: a line for each.  The
 * five are /dev/null, or O_PATH fds of "/", which poll() does not see. */
static void audit_leaks_without_proc(const char *hide)
{
	static const struct {
		const char *form, *kind;
	} rows[] = {
		{ "none", "chr" },
		{ "opath", "dir" },
	};
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		char log[PATH_MAX], env[PATH_MAX + 64], prog[PATH_MAX + 16];
		snprintf(log, sizeof log, "%s/leaks-%s.log", tmpdir(),
			 rows[i].form);
		snprintf(env, sizeof env, "NOLEAK_MODE=audit NOLEAK_LOG=%s", log);
		snprintf(prog, sizeof prog, "%s %s fork 5",
			 top("build/fixtures/fdh_many"), rows[i].form);
		run_without_proc(hide, env, 1, prog);
		cr_assert_eq(exit_code(&r), 0, "status %d: %s%s", r.status,
			     r.out, r.err);
		const char *text = slurp(log);
		cr_expect_eq(count_lines_with(text, "\"event\":\"fd_leak\""), 6,
			     "%s: %s", rows[i].form, text);
		for (int fd = 3; fd <= 8; fd++) {
			char want[64];
			snprintf(want, sizeof want, "\"fd\":%d,\"kind\":\"%s\"",
				 fd, fd == 8 ? "chr" : rows[i].kind);
			cr_expect_eq(count_lines_with(text, want), 1,
				     "%s: no line for fd %d:\n%s",
				     rows[i].form, fd, text);
		}
	}
}

Test(fault_no_proc, audit_names_leaks_with_proc_covered)
{
	audit_leaks_without_proc(NS_PROC_TMPFS);
}

Test(fault_no_proc, audit_names_leaks_with_proc_unmounted)
{
	audit_leaks_without_proc(NS_PROC_UMOUNT);
}

/* The holder lookup of a read blocked on a pipe a child holds. */
static void watchdog_without_proc(const char *hide)
{
	char log[PATH_MAX], env[PATH_MAX + 64], prog[PATH_MAX + 8];
	snprintf(log, sizeof log, "%s/events.log", tmpdir());
	snprintf(env, sizeof env, "NOLEAK_READ_WARN=1 NOLEAK_LOG=%s", log);
	snprintf(prog, sizeof prog, "%s 2", top("build/fixtures/flt_holder"));
	run_without_proc(hide, env, 1, prog);
	cr_assert_eq(exit_code(&r), 0, "status %d: %s%s", r.status, r.out, r.err);
	/* The read ends as without the shim: end of file when the child
	 * exits. */
	double waited = 0;
	const char *w = strstr(r.out, "waited=");
	cr_assert(strstr(r.out, "read=0 errno=0 ") && w &&
		  sscanf(w, "waited=%lf", &waited) == 1, "%s", r.out);
	cr_expect(waited > 1.5 && waited < 5, "the read waited %.3f s", waited);

	const char *text = slurp(log);
	const char *ev = strstr(text, "\"event\":\"read_blocked\"");
	cr_assert(ev, "no read_blocked event: %s", text);
	size_t len = strcspn(ev, "\n");
	char line[4096];
	snprintf(line, sizeof line, "%.*s", (int)len, ev);
	cr_expect(strstr(line, "\"kind\":\"pipe\"") ||
		  strstr(line, "\"kind\":\"fifo\""), "%s", line);
	cr_expect(strstr(line, "\"culprits\":[{\"relation\":\"unknown (/proc "
			       "unavailable)\"}]"),
		  "the holder lookup does not say /proc is unavailable: %s",
		  line);
}

/* The log names the executable at its first line: without /proc, by the
 * path given to execve. */
static void log_names_exe_without_proc(const char *hide)
{
	char log[PATH_MAX], env[PATH_MAX + 64], prog[PATH_MAX + 8], want[PATH_MAX + 16];
	snprintf(log, sizeof log, "%s/exe.log", tmpdir());
	snprintf(env, sizeof env, "NOLEAK_MODE=audit NOLEAK_LOG=%s", log);
	snprintf(prog, sizeof prog, "%s vfork", top("build/fixtures/found_exe"));
	run_without_proc(hide, env, 1, prog);
	cr_assert_eq(exit_code(&r), 0, "status %d: %s%s", r.status, r.out, r.err);
	const char *text = slurp(log);
	snprintf(want, sizeof want, "\"exe\":\"%s\",", top("build/fixtures/found_exe"));
	cr_expect_eq(count_lines_with(text, "\"event\":\"sock_policy\"") +
		     count_lines_with(text, "\"event\":\"fd_leak\""), 2,
		     "%s", text);
	cr_expect_eq(count_lines_with(text, want), 2, "no line names %s:\n%s",
		     want, text);
}

Test(fault_no_proc, log_names_the_executable_with_proc_covered)
{
	log_names_exe_without_proc(NS_PROC_TMPFS);
}

Test(fault_no_proc, log_names_the_executable_with_proc_unmounted)
{
	log_names_exe_without_proc(NS_PROC_UMOUNT);
}

Test(fault_no_proc, read_watchdog_says_holders_unknown_with_proc_covered)
{
	watchdog_without_proc(NS_PROC_TMPFS);
}

Test(fault_no_proc, read_watchdog_says_holders_unknown_with_proc_unmounted)
{
	watchdog_without_proc(NS_PROC_UMOUNT);
}

/* An inheritable fd above 1,023 handed to a preloaded program (env) that
 * execs another: it crosses, as without the shim. */
static void inherited_high_fd_without_proc(const char *hide)
{
	char script[PATH_MAX * 3];
	const char *seen[2];
	for (int shim = 0; shim < 2; shim++) {
		snprintf(script, sizeof script,
			 "ulimit -n 4096 || exit 97\n"
			 "exec bash -c 'exec 1500</dev/null && exec env %s%s "
			 "NOLEAK_MODE=enforce env %s list'",
			 shim ? "LD_PRELOAD=" : "", shim ? shim_path() : "",
			 top("build/fixtures/flt_sweep"));
		ns_run_without_proc(&r, hide, script, TIMEOUT);
		cr_assert(!r.timed_out);
		cr_assert_eq(exit_code(&r), 0, "status %d: %s%s", r.status,
			     r.out, r.err);
		seen[shim] = strstr(r.out, ",1500\n") ? "open" : "closed";
	}
	cr_assert_str_eq(seen[0], "open", "without the shim: %s", r.out);
	cr_expect_str_eq(seen[1], "open", "the shim swept the inherited fd 1500: %s",
			 r.out);
}

Test(fault_no_proc, inherited_fd_above_1023_crosses_exec_with_proc_covered)
{
	inherited_high_fd_without_proc(NS_PROC_TMPFS);
}

Test(fault_no_proc, inherited_fd_above_1023_crosses_exec_with_proc_unmounted)
{
	inherited_high_fd_without_proc(NS_PROC_UMOUNT);
}
