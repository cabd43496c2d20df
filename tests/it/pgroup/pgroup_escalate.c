/* kill_escalate, as a table: the key × how the child was started × how
 * the daemon kills.  A daemon (pg_tree, a session leader) starts a child
 * whose tree holds two sleeps, and kills; 500 ms later it counts the
 * sleeps left.  One row per case; a new case is one more row.
 *
 *   kill     kill(child, SIGTERM): the tree goes with the child only where
 *            a shell or a wrapper stands in between (shell), or always;
 *   group0   kill(0, SIGTERM) and
 *   killpg   killpg(own group, SIGTERM): every group the shim split off
 *            goes, as the daemon's own group would have without the shim;
 *            never turns that off too.
 *
 * The events say which rule matched ("reason"). */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"
#include "../../lib/pgroup_procs.h"

#define TIMEOUT 20.0

static struct run_result r;

static void init(void)
{
	cr_assert_eq(access(top("build/fixtures/pg_tree"), X_OK), 0,
		     "build/fixtures/pg_tree missing");
}

TestSuite(pgroup_escalate, .init = init, .fini = pg_cleanup, .timeout = 120);

/* How pg_tree starts the child. */
static const char *const kinds[] = { "fork", "wrapper", "direct", "system",
				     "popen" };
#define NKINDS 5

struct row {
	const char *key;      /* kill_escalate; NULL: without the shim */
	const char *how;      /* pg_tree KILL */
	int alive[NKINDS];    /* sleeps left, per kind */
	const char *reason[NKINDS];  /* in the log; NULL: no such event */
};

static const struct row rows[] = {
	/* Without the shim: what each kill reaches by itself. */
	{ NULL, "child", { 2, 2, 2, 2, 2 }, { 0 } },
	{ NULL, "group0", { 0, 0, 0, 0, 0 }, { 0 } },
	{ NULL, "killpg", { 0, 0, 0, 0, 0 }, { 0 } },
	{ "never", "child", { 2, 2, 2, 2, 2 }, { 0 } },
	{ "never", "group0", { 2, 2, 2, 2, 2 }, { 0 } },
	{ "never", "killpg", { 2, 2, 2, 2, 2 }, { 0 } },
	{ "shell", "child", { 0, 0, 2, 0, 0 },
	  { "shell", "wrapper", NULL, "system", "system" } },
	{ "shell", "group0", { 0, 0, 0, 0, 0 },
	  { "shell", "wrapper", "group", "system", "system" } },
	{ "shell", "killpg", { 0, 0, 0, 0, 0 },
	  { "shell", "wrapper", "group", "system", "system" } },
	{ "always", "child", { 0, 0, 0, 0, 0 },
	  { "always", "always", "always", "always", "always" } },
	{ "always", "group0", { 0, 0, 0, 0, 0 },
	  { "always", "always", "always", "always", "always" } },
	{ "always", "killpg", { 0, 0, 0, 0, 0 },
	  { "always", "always", "always", "always", "always" } },
};

static void run_row(const struct row *w)
{
	char log[PATH_MAX], log_env[PATH_MAX + 16], key_env[64];
	for (int k = 0; k < NKINDS; k++) {
		const char *mark = pg_mark(kinds[k]);
		snprintf(log, sizeof log, "%s/%s-%s.log", tmpdir(), w->how, kinds[k]);
		snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log);
		snprintf(key_env, sizeof key_env, "NOLEAK_KILL_ESCALATE=%s",
			 w->key ? w->key : "");
		char *argv[] = { (char *)top("build/fixtures/pg_tree"),
				 (char *)kinds[k], (char *)w->how, (char *)mark, "2",
				 NULL };
		char *env[] = { log_env, key_env, "PG_TREE_COUNT=1", NULL };
		cr_assert_eq(run(&r, argv, env, w->key != NULL, TIMEOUT, NULL), 0);
		cr_assert(!r.timed_out, "%s %s timed out:\n%s%s", kinds[k], w->how,
			  r.out, r.err);
		cr_assert_eq(exit_code(&r), 0, "%s %s: %s%s", kinds[k], w->how,
			     r.out, r.err);
		cr_assert_eq(pg_field(r.out, "tree", "tree"), 2, "%s", r.out);
		cr_expect_eq(pg_field(r.out, "alive", "alive"), w->alive[k],
			     "kill_escalate=%s, %s child, %s: want %d sleeps left:\n%s",
			     w->key ? w->key : "(no shim)", kinds[k], w->how,
			     w->alive[k], r.out);
		const char *text = w->key ? slurp(log) : "";
		char want[64];
		snprintf(want, sizeof want, "\"reason\":\"%s\"",
			 w->reason[k] ? w->reason[k] : "");
		if (w->reason[k])
			cr_expect(strstr(text, want), "kill_escalate=%s, %s child, "
				  "%s: want %s in:\n%s", w->key, kinds[k], w->how,
				  want, text);
		else
			cr_expect_eq(count_lines_with(text, "\"kill_escalated\""), 0,
				     "kill_escalate=%s, %s child, %s: no escalation "
				     "wanted:\n%s", w->key, kinds[k], w->how, text);
		pg_kill_marked(mark);
	}
}

#define ROW(name, i)                                                         \
	Test(pgroup_escalate, name) { run_row(&rows[i]); }

ROW(without_the_shim_kill, 0)
ROW(without_the_shim_kill0, 1)
ROW(without_the_shim_killpg, 2)
ROW(never_kill, 3)
ROW(never_kill0, 4)
ROW(never_killpg, 5)
ROW(shell_kill, 6)
ROW(shell_kill0, 7)
ROW(shell_killpg, 8)
ROW(always_kill, 9)
ROW(always_kill0, 10)
ROW(always_killpg, 11)
