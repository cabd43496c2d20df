/* Interposed calls on small stacks: every async-signal-safe call the shim
 * interposes, run from a signal handler on an alternate stack of
 * sysconf(_SC_MINSIGSTKSZ) + 4 KiB with a guard page below it, and spawn,
 * read, poll and friends in a thread with a 16 KiB stack, each with a log
 * on (audit with a log file, enforce with a log file) and without the shim.
 *
 * Differential: the fixture (stk_small) fills the stack with a pattern and
 * prints how much of it the call used; the shim may add at most 1 KiB to
 * an async-signal-safe call (4 KiB to any other), libc's own part being
 * the same in both runs.  Overflowing dies on the guard page.
 *
 * The calls are the fixture's table (stk_small list); a new call is one
 * row there.  EVENTS below names the event a row must log, to show that
 * the long paths were taken.  Every call shim/base/calls.def flags
 * async-signal-safe (NL_INTERPOSED_AS) has a handler row of its own name,
 * which is the first call of its kind in the process: the fixture looks
 * nothing up first, so a call whose real symbol the handler's sigaction()
 * did not have looked up would take the loader's dlsym (about 1 KiB more)
 * on the handler's stack.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../../lib/run.h"

#define AS_BUDGET 1024
#define ANY_BUDGET 4096
#define TIMEOUT 30.0

TestSuite(stack_small, .timeout = 600);

/* Rows whose audit run must log this event (the deep paths). */
static const struct {
	const char *call, *event;
} EVENTS[] = {
	{ "execve", "fd_leak" },       { "fexecve", "fd_leak" },
	{ "fork", "fork_inherit" },    { "posix_spawn", "fd_leak" },
	{ "read", "read_blocked" },    { "read_tcp", "read_blocked" },
	{ "recv", "read_blocked" },    { "recvmsg", "read_blocked" },
	{ "__read_chk", "read_blocked" }, { "__recv_chk", "read_blocked" },
	{ "poll", "wait_blocked" },    { "poll_tcp", "wait_blocked" },
	{ "select", "wait_blocked" },  { "pselect", "wait_blocked" },
	{ "ppoll", "wait_blocked" },   { "connect", "sock_policy" },
};

/* Not async-signal-safe: held to ANY_BUDGET. */
static int any_path(const char *call)
{
	return !strcmp(call, "posix_spawn");
}

static const char *expected_event(const char *call)
{
	for (size_t i = 0; i < sizeof EVENTS / sizeof *EVENTS; i++)
		if (!strcmp(EVENTS[i].call, call))
			return EVENTS[i].event;
	return NULL;
}

/* The most any "used N" line of the output says. */
static long most_used(const char *out)
{
	long most = -1;
	for (const char *p = out; (p = strstr(p, "used ")); p += 5)
		if (atol(p + 5) > most)
			most = atol(p + 5);
	return most;
}

static struct run_result r;

enum how { PLAIN, AUDIT, ENFORCE };
static const char *const how_name[] = { "without the shim", "audit", "enforce" };

/* Runs the call; returns the stack it used (-1: none printed, as after a
 * successful exec; -2: it crashed or failed, which is reported). */
static long run_call(const char *where, const char *call, enum how how,
		     const char *log)
{
	char *argv[] = { (char *)top("build/fixtures/stk_small"), (char *)where,
			 (char *)call, NULL };
	char log_env[512], budget_env[64];
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log);
	snprintf(budget_env, sizeof budget_env, "STK_BUDGET=%d", 4096);
	/* LD_BIND_NOW: the fixture's own first calls would run the lazy
	 * resolver (kilobytes of saved registers) in both runs alike. */
	char *env[] = { how == ENFORCE ? "NOLEAK_MODE=enforce" : "NOLEAK_MODE=audit",
			log_env, "NOLEAK_READ_WARN=1", budget_env,
			"LD_BIND_NOW=1", NULL };
	cr_assert_eq(run(&r, argv, env, how != PLAIN, TIMEOUT, NULL), 0);
	cr_expect(!r.timed_out, "%s %s (%s) hung", where, call, how_name[how]);
	if (r.timed_out)
		return -2;
	cr_expect(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		  "%s %s (%s): %s %d; stderr: %s", where, call, how_name[how],
		  WIFSIGNALED(r.status) ? "killed by signal" : "exit status",
		  WIFSIGNALED(r.status) ? WTERMSIG(r.status) : WEXITSTATUS(r.status),
		  r.err);
	if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
		return -2;
	return most_used(r.out);
}

static int log_has(const char *log, const char *event)
{
	char want[64], text[65536] = "";
	FILE *f = fopen(log, "r");
	if (f) {
		size_t n = fread(text, 1, sizeof text - 1, f);
		text[n] = '\0';
		fclose(f);
	}
	snprintf(want, sizeof want, "\"event\":\"%s\"", event);
	return strstr(text, want) != NULL;
}

static void check_all(const char *where)
{
	char *argv[] = { (char *)top("build/fixtures/stk_small"), "list", NULL };
	static char list[8192];
	int n = 0;
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	size_t len = strnlen(r.out, sizeof list - 1);
	memcpy(list, r.out, len);
	list[len] = '\0';
	for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
		char call[64];
		if (!strstr(line, where) || sscanf(line, "%63s", call) != 1)
			continue;
		long plain = run_call(where, call, PLAIN, "");
		for (enum how how = AUDIT; how <= ENFORCE; how++) {
			char log[512];
			snprintf(log, sizeof log, "%s/%s-%s-%d.log", tmpdir(), where,
				 call, how);
			long used = run_call(where, call, how, log);
			if (used == -2 || plain == -2)
				continue;
			long budget = (any_path(call) ? ANY_BUDGET : AS_BUDGET);
			cr_expect(used - plain <= budget,
				  "%s %s (%s): the shim took %ld bytes of stack "
				  "(%ld with it, %ld without), more than %ld",
				  where, call, how_name[how], used - plain, used,
				  plain, budget);
			const char *event = expected_event(call);
			if (how == AUDIT && event)
				cr_expect(log_has(log, event), "%s %s: no %s event in %s",
					  where, call, event, log);
		}
		n++;
	}
	cr_assert_gt(n, 0, "stk_small listed no call for %s", where);
}

Test(stack_small, async_signal_safe_calls_in_a_handler_on_a_minimal_alt_stack)
{
	check_all("handler");
}

Test(stack_small, spawn_read_poll_in_a_thread_with_a_16k_stack)
{
	check_all("thread");
}

/* The calls the one table flags async-signal-safe (on 32-bit glibc
 * targets it flags the time64 names too, which the fixture does not call:
 * the integration tests run on x86_64). */
static const char *const as_safe[] = {
#define NL_INTERPOSED_AS(symbol, file) #symbol,
#include "base/calls.def"
};

Test(stack_small, every_async_signal_safe_call_has_a_handler_row)
{
	char *argv[] = { (char *)top("build/fixtures/stk_small"), "list", NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, TIMEOUT, NULL), 0);
	for (size_t i = 0; i < sizeof as_safe / sizeof *as_safe; i++) {
		char want[80];
		snprintf(want, sizeof want, "\n%s handler", as_safe[i]);
		/* The list's first line has no newline before it. */
		size_t n = strlen(want + 1);
		cr_expect(strstr(r.out, want) || !strncmp(r.out, want + 1, n),
			  "%s is async-signal-safe (calls.def) but stk_small has "
			  "no handler row for it", as_safe[i]);
	}
}
