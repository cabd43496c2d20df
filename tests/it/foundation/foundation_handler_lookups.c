/* A signal handler's calls never look a symbol up (dlsym takes the
 * loader's lock, and a handler may have interrupted the loader; its
 * frames, some 1 KiB, would take a handler on a MINSIGSTKSZ stack past the
 * shim's budget): the sigaction interposer looks every real symbol up
 * before it installs the first handler.  found_handler's SIGCHLD handler
 * makes one async-signal-safe interposed call (the fixture's table, a row
 * per call; a process per row, so that the call is the first of its kind)
 * in a process that started its child with posix_spawn (no fork, so
 * nothing else had looked them up); LD_DEBUG=symbols shows every lookup,
 * in a file the fixture writes its markers into. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/run.h"

static struct run_result r;

/* Runs found_handler CALL under LD_DEBUG=symbols; expects no lookup
 * between its markers. */
static void check_call(const char *call)
{
	char ld_out[512], ld_env[600];
	snprintf(ld_out, sizeof ld_out, "%s/ld-%s", tmpdir(), call);
	snprintf(ld_env, sizeof ld_env, "LD_DEBUG_OUTPUT=%s", ld_out);
	char *argv[] = { (char *)top("build/fixtures/found_handler"),
			 (char *)call, NULL };
	/* Bound at start: the program's own calls are no lookups then. */
	char *env[] = { "LD_DEBUG=symbols", ld_env, "LD_BIND_NOW=1", NULL };
	cr_assert_eq(run(&r, argv, env, 1, 30.0, NULL), 0);
	cr_expect_eq(exit_code(&r), 0, "%s: status %d\n%s", call, r.status,
		     r.err);
	const char *pid = strstr(r.out, "reaped=1 pid=");
	cr_expect(pid, "%s: %s", call, r.out);
	if (!pid)
		return;
	char path[600];
	snprintf(path, sizeof path, "%s.%d", ld_out, atoi(pid + 13));
	const char *text = slurp(path);
	const char *in = strstr(text, "<handler>\n");
	cr_expect(in, "%s: the handler never ran:\n%.2000s", call, text);
	int called = 0;
	for (; in; in = strstr(in + 1, "<handler>\n")) {
		const char *out = strstr(in, "</handler>\n");
		cr_expect(out, "%s: an unfinished handler:\n%.4000s", call, in);
		if (!out)
			return;
		const char *c = strstr(in, "<call ");
		called |= c && c < out;
		const char *sym = strstr(in, "symbol=");
		cr_expect(!sym || sym > out, "%s: a lookup inside the handler: %.*s",
			  call, sym ? (int)strcspn(sym, "\n") : 0, sym ? sym : "");
	}
	cr_expect(called, "%s: the handler never made the call", call);
}

Test(foundation_handler_lookups, no_lookup_inside_a_handler, .timeout = 300)
{
	char *argv[] = { (char *)top("build/fixtures/found_handler"), "list",
			 NULL };
	static char list[sizeof r.out];
	cr_assert_eq(run(&r, argv, NULL, 0, 10.0, NULL), 0);
	memcpy(list, r.out, sizeof list);
	int n = 0;
	for (char *call = strtok(list, "\n"); call; call = strtok(NULL, "\n"), n++)
		check_call(call);
	cr_expect_gt(n, 50, "found_handler lists %d calls", n);
}

/* The calls the one table flags async-signal-safe (on 32-bit glibc
 * targets it flags the time64 names too, which the fixture does not call:
 * the integration tests run on x86_64). */
static const char *const as_safe[] = {
#define NL_INTERPOSED_AS(symbol, file) #symbol,
#include "base/calls.def"
};

Test(foundation_handler_lookups, every_async_signal_safe_call_has_a_row,
     .timeout = 30)
{
	char *argv[] = { (char *)top("build/fixtures/found_handler"), "list",
			 NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, 10.0, NULL), 0);
	for (size_t i = 0; i < sizeof as_safe / sizeof *as_safe; i++) {
		char want[80];
		snprintf(want, sizeof want, "\n%s\n", as_safe[i]);
		size_t n = strlen(want + 1);
		cr_expect(strstr(r.out, want) || !strncmp(r.out, want + 1, n),
			  "%s is async-signal-safe (calls.def) but found_handler "
			  "does not call it", as_safe[i]);
	}
}
