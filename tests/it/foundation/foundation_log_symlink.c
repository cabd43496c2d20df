/* NOLEAK_LOG comes from the environment, which whoever starts a program
 * controls: a symlink there must not aim the shim's writes at another
 * file (the log is opened with O_NOFOLLOW). */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/run.h"

Test(foundation_log_symlink, log_path_that_is_a_symlink_is_not_followed)
{
	const char *dir = tmpdir();
	char target[PATH_MAX], link[PATH_MAX], env[PATH_MAX + 16];
	snprintf(target, sizeof target, "%s/victim", dir);
	snprintf(link, sizeof link, "%s/log", dir);
	FILE *f = fopen(target, "w");
	cr_assert_not_null(f);
	fputs("precious\n", f);
	fclose(f);
	cr_assert_eq(symlink(target, link), 0);
	snprintf(env, sizeof env, "NOLEAK_LOG=%s", link);
	/* A config error guarantees the shim has something to log. */
	char *vars[] = { env, "NOLEAK_MODE=bogus", NULL };
	struct run_result r;
	char *argv[] = { "/bin/true", NULL };
	cr_assert_eq(run(&r, argv, vars, 1, 10, NULL), 0);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	cr_expect_str_eq(slurp(target), "precious\n",
			 "the shim wrote through the symlink");

	/* The same path as a plain file does receive the event. */
	unlink(link);
	cr_assert_eq(run(&r, argv, vars, 1, 10, NULL), 0);
	cr_expect(strstr(slurp(link), "\"event\":\"config_error\""), "%s",
		  slurp(link));
}

/* A symlink on the way to the log's directory is followed only where no
 * one but root or the effective user could have put it.  A user who can
 * write in /tmp planted /tmp/spool -> /root/x, and a root process's log
 * went to a directory of his choice.  One row per place a link can be:
 * where it is, whose it is, where it points, and whether the log lands in
 * the target directory. */
#define NOBODY 65534
static const struct link_row {
	const char *link;    /* in the test's directory (root's, 0700) */
	uid_t owner;
	const char *to;      /* "@" stands for the test's directory */
	int followed;
} link_rows[] = {
	{ "mine", 0, "@/target", 1 },                /* root's, in root's dir */
	{ "rel", 0, "target", 1 },                   /* relative to its dir */
	{ "sticky/root", 0, "@/target", 1 },         /* its own, in a /tmp-like dir */
	{ "sticky/planted", NOBODY, "@/target", 0 }, /* another user's there */
	{ "open/root", 0, "@/target", 0 },           /* others can replace it */
	{ "chain", 0, "@/sticky/planted", 0 },       /* to a planted one */
	{ "loop", 0, "@/loop", 0 },
};

Test(foundation_log_symlink, a_symlink_on_the_way_only_where_no_one_else_can_put_it)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (links of another user)");
	const char *dir = tmpdir();
	char path[PATH_MAX], to[PATH_MAX], env[PATH_MAX + 16], log[PATH_MAX];
	static const struct { const char *name; mode_t mode; } dirs[] = {
		{ "sticky", 01777 }, { "open", 0777 }, { "target", 0700 },
	};
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, dirs[i].name);
		cr_assert_eq(mkdir(path, 0700), 0);
		cr_assert_eq(chmod(path, dirs[i].mode), 0);
	}
	for (size_t i = 0; i < sizeof link_rows / sizeof *link_rows; i++) {
		const struct link_row *row = &link_rows[i];
		snprintf(path, sizeof path, "%s/%s", dir, row->link);
		if (row->to[0] == '@')
			snprintf(to, sizeof to, "%s%s", dir, row->to + 1);
		else
			snprintf(to, sizeof to, "%s", row->to);
		cr_assert_eq(symlink(to, path), 0, "%s", path);
		cr_assert_eq(lchown(path, row->owner, row->owner), 0);
	}
	snprintf(log, sizeof log, "%s/target/events.log", dir);
	for (size_t i = 0; i < sizeof link_rows / sizeof *link_rows; i++) {
		const struct link_row *row = &link_rows[i];
		unlink(log);
		snprintf(env, sizeof env, "NOLEAK_LOG=%s/%s/events.log", dir,
			 row->link);
		char *vars[] = { env, "NOLEAK_MODE=bogus", NULL };
		char *argv[] = { "/bin/true", NULL };
		struct run_result r;
		cr_assert_eq(run(&r, argv, vars, 1, 10, NULL), 0);
		cr_assert_eq(exit_code(&r), 0, "%s: %s", row->link, r.err);
		int landed = access(log, F_OK) == 0;
		cr_expect_eq(landed, row->followed, "%s -> %s: the log %s",
			     row->link, row->to, landed ? "was written there"
							: "was refused");
	}
}
