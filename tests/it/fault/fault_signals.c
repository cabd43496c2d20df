/* Signals arriving in every interposed call: a program hammered by a 1 ms
 * SIGALRM timer, whose handler itself calls interposed functions, sees the
 * same results and the same EINTR behaviour with the shim as without it,
 * with an SA_RESTART handler and without one, and never crashes or hangs.
 *
 * flt_signals prints, per call, the outcomes it saw.  How often a blocked
 * call was interrupted depends on timing, so runs are compared by the
 * errors each call gave (EINTR or others), not by counts. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "../../lib/run.h"

#define SECONDS "1"
#define TIMEOUT 30.0

/* Calls that block for a few milliseconds and that the kernel restarts
 * after an SA_RESTART handler. */
static const char *const restartable[] = {
	"read_wait_pipe", "read_wait_sock", "accept_wait", "waitpid",
};
/* Calls that never block: they succeed, whatever the signals. */
static const char *const immediate[] = {
	"open", "pipe", "socket", "socketpair", "dup", "dup2", "fcntl_dupfd",
	"read_ready", "write", "posix_spawn", "system", "popen",
};
#define N_OF(a) (sizeof a / sizeof *a)

TestSuite(fault_signals, .timeout = 120);

static struct run_result r;

/* The fixture's output: its lines, kept per run. */
struct outcome {
	char text[8192];
};

static void run_fixture(struct outcome *o, const char *how, int shim,
			const char *read_warn)
{
	char *argv[] = { (char *)top("build/fixtures/flt_signals"),
			 (char *)how, SECONDS, NULL };
	char warn_env[64];
	snprintf(warn_env, sizeof warn_env, "NOLEAK_READ_WARN=%s",
		 read_warn ? read_warn : "");
	char *env[] = { warn_env, NULL };
	cr_assert_eq(run(&r, argv, env, shim, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "flt_signals %s hung (shim=%d)", how, shim);
	cr_assert_eq(exit_code(&r), 0, "flt_signals %s (shim=%d): status %d, "
		     "stderr: %s", how, shim, r.status, r.err);
	size_t n = strnlen(r.out, sizeof o->text - 1);
	memcpy(o->text, r.out, n);
	o->text[n] = 0;
}

/* The outcomes of `call` (the words after "call:"), or NULL. */
static const char *outcomes_of(const struct outcome *o, const char *call,
			       char *buf, size_t cap)
{
	char key[64];
	snprintf(key, sizeof key, "%s:", call);
	for (const char *line = o->text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len > strlen(key) && !strncmp(line, key, strlen(key))) {
			snprintf(buf, cap, "%.*s ", (int)(len - strlen(key)),
				 line + strlen(key));
			return buf;
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* The errors among a call's outcomes: every word but "ok" and "timeout". */
static const char *errors_of(const struct outcome *o, const char *call,
			     char *buf, size_t cap)
{
	char all[256];
	if (!outcomes_of(o, call, all, sizeof all))
		return NULL;
	buf[0] = 0;
	size_t len = 0;
	for (char *w = strtok(all, " "); w; w = strtok(NULL, " "))
		if (strcmp(w, "ok") && strcmp(w, "timeout"))
			len += (size_t)snprintf(buf + len, cap - len, "%s ", w);
	return buf;
}

static int has_word(const char *words, const char *w)
{
	char pad[64];
	snprintf(pad, sizeof pad, "%s ", w);
	return strstr(words, pad) != NULL;
}

static void expect_same_errors(const struct outcome *plain,
			       const struct outcome *shim, const char *what)
{
	static const char *const every[] = {
		"open", "pipe", "socket", "socketpair", "dup", "dup2",
		"fcntl_dupfd", "read_ready", "write", "read_wait_pipe",
		"read_wait_sock", "accept_wait", "poll_wait", "waitpid",
		"posix_spawn", "system", "popen",
	};
	for (size_t i = 0; i < N_OF(every); i++) {
		char a[256], b[256];
		cr_assert(errors_of(plain, every[i], a, sizeof a),
			  "no line for %s without the shim: %s", every[i],
			  plain->text);
		cr_assert(errors_of(shim, every[i], b, sizeof b),
			  "no line for %s %s: %s", every[i], what, shim->text);
		cr_expect_str_eq(b, a, "%s %s gave errors \"%s\", without the "
				 "shim \"%s\"", every[i], what, b, a);
	}
	cr_expect(strstr(shim->text, "handler: ok\n"),
		  "the handler's interposed calls failed %s: %s", what,
		  shim->text);
}

/* What the run shows whatever the shim: the fixture is sound. */
static void expect_baseline(const struct outcome *o, int restart)
{
	char e[256];
	for (size_t i = 0; i < N_OF(immediate); i++) {
		cr_assert(errors_of(o, immediate[i], e, sizeof e));
		cr_expect_str_eq(e, "", "%s failed: %s", immediate[i], o->text);
	}
	for (size_t i = 0; i < N_OF(restartable); i++) {
		cr_assert(errors_of(o, restartable[i], e, sizeof e));
		if (restart)
			cr_expect_str_eq(e, "", "%s not restarted: %s",
					 restartable[i], o->text);
		else
			cr_expect(has_word(e, "EINTR"), "%s never interrupted: %s",
				  restartable[i], o->text);
	}
	/* poll never restarts. */
	cr_assert(errors_of(o, "poll_wait", e, sizeof e));
	cr_expect(has_word(e, "EINTR"), "poll never interrupted: %s", o->text);
	cr_expect(strstr(o->text, "handler: ok\n"), "%s", o->text);
}

static void compare(const char *how)
{
	static struct outcome plain, shim, watched;
	int restart = !strcmp(how, "restart");
	run_fixture(&plain, how, 0, NULL);
	expect_baseline(&plain, restart);
	run_fixture(&shim, how, 1, NULL);
	expect_same_errors(&plain, &shim, "under the shim");
	expect_baseline(&shim, restart);
	/* Reads go through the watchdog's wait when read_warn is set. */
	run_fixture(&watched, how, 1, "1");
	expect_same_errors(&plain, &watched, "under read_warn");
}

Test(fault_signals, sa_restart_handler_restarts_as_without_the_shim)
{
	compare("restart");
}

Test(fault_signals, handler_without_sa_restart_gets_eintr_as_without_the_shim)
{
	compare("norestart");
}
