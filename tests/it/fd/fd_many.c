/* No fixed limit on the fds a new program is handed: a trampoline with
 * 1,000 fds in its "a:b:c" list, 1,000 fds named by an option,
 * LISTEN_FDS=1000, 1,000 fds made inheritable with FIONCLEX (in the
 * vfork child, as CPython's pass_fds) and 1,000 fds each an item of
 * NOLEAK_KEEP_FDS each reach the new program whole, by execve, posix_spawn
 * and vfork + execve; a vfork child's plan leaves no mapping behind in its
 * parent. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/run.h"

#define TIMEOUT 60.0
#define N 1000

TestSuite(fd_many, .timeout = 120);

static struct run_result r;

struct row {
	const char *form;
	int junk_too;          /* a trampoline also gets the unnamed fd */
};

static const struct row rows[] = {
	{ "trampoline", 1 },
	{ "option", 0 },
	{ "listen", 0 },
	{ "fionclex", 0 },
	{ "keep", 0 },
};

static const char *const hows[] = { "exec", "spawn", "vfork" };

static void run_many(const char *form, const char *how, const char *mode)
{
	char n[16], mode_env[32];
	snprintf(n, sizeof n, "%d", N);
	snprintf(mode_env, sizeof mode_env, "NOLEAK_MODE=%s", mode);
	char *argv[] = { (char *)top("build/fixtures/fdh_many"), (char *)form,
			 (char *)how, n, NULL };
	/* "NOLEAK_KEEP_FDS=3,4,...,N+2": one item per fd, no ranges */
	static char keep[32 + N * 8];
	size_t k = (size_t)sprintf(keep, "NOLEAK_KEEP_FDS=");
	for (int i = 0; i < N; i++)
		k += (size_t)sprintf(keep + k, "%s%d", i ? "," : "", 3 + i);
	char *env[] = { mode_env, strcmp(form, "keep") == 0 ? keep : NULL, NULL };
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
	cr_assert(!r.timed_out, "%s %s hung", form, how);
	cr_assert_eq(exit_code(&r), 0, "%s %s: status %d\n%s%s", form, how,
		     r.status, r.out, r.err);
}

Test(fd_many, a_thousand_fds_reach_the_new_program)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		for (size_t h = 0; h < sizeof hows / sizeof hows[0]; h++) {
			run_many(rows[i].form, hows[h], "enforce");
			char want[96];
			snprintf(want, sizeof want, "count=%d first=3 last=%d\n",
				 N + rows[i].junk_too, N + 2 + rows[i].junk_too);
			cr_expect(strstr(r.out, want), "%s by %s: want %s got\n%s%s",
				  rows[i].form, hows[h], want, r.out, r.err);
		}
	}
}

Test(fd_many, vfork_children_leave_no_mapping_behind)
{
	run_many("trampoline", "vfork", "enforce");
	int before = -1, after = -2;
	const char *p = strstr(r.out, "maps_before=");
	cr_assert(p && sscanf(p, "maps_before=%d maps_after=%d", &before,
			      &after) == 2, "%s", r.out);
	cr_expect_eq(before, after, "mappings before %d, after 19 vfork+exec %d",
		     before, after);
}

/* No memory for the plan (RLIMIT_AS at the program's size): every fd is
 * kept — the unnamed one too — and the log says why. */
Test(fd_many, no_memory_keeps_every_fd_and_says_so)
{
	char n[16], log[512], log_env[600];
	snprintf(n, sizeof n, "%d", N);
	snprintf(log, sizeof log, "%s/noleak.log", tmpdir());
	snprintf(log_env, sizeof log_env, "NOLEAK_LOG=%s", log);
	char *argv[] = { (char *)top("build/fixtures/fdh_many"), "option",
			 "nomem", n, NULL };
	char *env[] = { "NOLEAK_MODE=enforce", log_env, NULL };
	cr_assert_eq(run(&r, argv, env, 1, TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "status %d\n%s%s", r.status, r.out, r.err);
	char want[96];
	snprintf(want, sizeof want, "count=%d first=3 last=%d\n", N + 1, N + 3);
	cr_expect(strstr(r.out, want), "want %s got\n%s%s", want, r.out, r.err);
	const char *text = slurp(log);
	cr_expect(strstr(text, "\"event\":\"nomem\"") &&
		  strstr(text, "\"fallback\":\"kept_every_fd\""),
		  "no nomem event in the log:\n%s", text);
}
