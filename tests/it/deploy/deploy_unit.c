/* noleak enable | disable | status --unit NAME.service against a unit file
 * in a temporary tree (--root DIR): the drop-in's path and contents, the
 * settings checked before anything is written, and the host's own
 * /etc/systemd never touched.  --now on the running system runs in a
 * private mount namespace over a copy of /etc, with a systemctl that only
 * records what it was asked. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/ns.h"
#include "../../lib/run.h"

TestSuite(deploy_unit, .timeout = 60);

static struct run_result r;
static char root[PATH_MAX], dropin[PATH_MAX + 64];

/* A tree with the unit agent.service and the libraries the tests name:
 * /l.so, /usr/lib/x86_64-linux-gnu/libnoleak.so, /opt/a%b/libnoleak.so. */
static void tree(void)
{
	char unit[PATH_MAX + 64], cmd[PATH_MAX * 4];
	snprintf(root, sizeof root, "%s", tmpdir());
	snprintf(cmd, sizeof cmd, "cd %s && mkdir -p lib/systemd/system "
		 "usr/lib/x86_64-linux-gnu opt/a%%b && touch l.so "
		 "usr/lib/x86_64-linux-gnu/libnoleak.so opt/a%%b/libnoleak.so", root);
	cr_assert_eq(system(cmd), 0);
	snprintf(unit, sizeof unit, "%s/lib/systemd/system/agent.service", root);
	FILE *f = fopen(unit, "w");
	cr_assert_not_null(f);
	fputs("[Service]\nExecStart=/usr/sbin/agent\n", f);
	fclose(f);
	snprintf(dropin, sizeof dropin,
		 "%s/etc/systemd/system/agent.service.d/noleak.conf", root);
}

/* noleak ACTION --unit UNIT --root ROOT and up to 4 more arguments. */
static int noleak(const char *action, const char *unit, const char *a,
		  const char *b, const char *c, const char *d)
{
	char *argv[] = { (char *)top("build/noleak"), (char *)action, "--unit",
			 (char *)unit, "--root", root, (char *)a, (char *)b,
			 (char *)c, (char *)d, NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, 20, NULL), 0);
	return exit_code(&r);
}

Test(deploy_unit, enable_status_disable)
{
	struct stat host_before, host_after;
	int had_host = stat("/etc/systemd/system", &host_before) == 0;
	tree();
	cr_assert_eq(noleak("enable", "agent.service", "--lib",
			    "/usr/lib/x86_64-linux-gnu/libnoleak.so", "--audit",
			    "--set=stdin=detach"), 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "systemctl daemon-reload"), "%s", r.out);
	cr_assert(strstr(r.out, "systemctl restart agent.service"), "%s", r.out);
	cr_assert_str_eq(slurp(dropin),
		"# Written by noleak enable --unit agent.service; removed by noleak disable --unit.\n"
		"[Service]\n"
		"Environment=\"LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libnoleak.so\"\n"
		"Environment=\"NOLEAK_MODE=audit\"\n"
		"Environment=\"NOLEAK_STDIN=detach\"\n");
	struct stat st;
	cr_assert_eq(stat(dropin, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644);

	cr_assert_eq(noleak("status", "agent.service", NULL, NULL, NULL, NULL), 0,
		     "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "NOLEAK_MODE=audit"), "%s", r.out);

	cr_assert_eq(noleak("disable", "agent.service", NULL, NULL, NULL, NULL), 0,
		     "%s%s", r.out, r.err);
	cr_assert_neq(access(dropin, F_OK), 0);
	char dir[PATH_MAX + 64];
	snprintf(dir, sizeof dir, "%s/etc/systemd/system/agent.service.d", root);
	cr_assert_neq(access(dir, F_OK), 0, "the empty drop-in directory stayed");
	cr_assert_eq(noleak("status", "agent.service", NULL, NULL, NULL, NULL), 1);
	cr_assert_eq(noleak("disable", "agent.service", NULL, NULL, NULL, NULL), 0);
	cr_assert(strstr(r.out, "already disabled"), "%s", r.out);

	int has_host = stat("/etc/systemd/system", &host_after) == 0;
	cr_assert_eq(had_host, has_host);
	if (has_host)
		cr_assert_eq(host_before.st_mtime, host_after.st_mtime);
}

Test(deploy_unit, refusals_write_nothing)
{
	tree();
	/* no such unit; a bad value; an unknown key; not a service name;
	 * --now under --root */
	cr_assert_eq(noleak("enable", "other.service", "--lib", "/l.so", NULL, NULL), 2);
	cr_assert(strstr(r.err, "no unit other.service"), "%s", r.err);
	cr_assert_eq(noleak("enable", "agent.service", "--lib", "/l.so",
			    "--set=mode=bogus", NULL), 2);
	cr_assert(strstr(r.err, "bogus"), "%s", r.err);
	cr_assert_eq(noleak("enable", "agent.service", "--lib", "/l.so",
			    "--set=nosuch=1", NULL), 2);
	cr_assert_eq(noleak("enable", "../agent.service", "--lib", "/l.so", NULL, NULL), 2);
	cr_assert_eq(noleak("enable", "agent.service", "--lib", "/l.so", "--now", NULL), 2);
	cr_assert(strstr(r.err, "--now"), "%s", r.err);
	cr_assert_neq(access(dropin, F_OK), 0);
	/* --set without --unit is a usage error */
	char *argv[] = { (char *)top("build/noleak"), "enable", "--root", root,
			 "--set=mode=audit", NULL };
	run(&r, argv, NULL, 0, 20, NULL);
	cr_assert_eq(exit_code(&r), 2);
}

/* Values are quoted for systemd: '%' doubled, '"' and '\' escaped. */
Test(deploy_unit, values_are_quoted_for_systemd)
{
	tree();
	char cmd[PATH_MAX * 3];
	snprintf(cmd, sizeof cmd, "cp %s/lib/systemd/system/agent.service "
		 "%s/lib/systemd/system/agent@.service", root, root);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(noleak("enable", "agent@.service", "--lib", "/opt/a%b/libnoleak.so",
			    NULL, NULL), 0, "%s%s", r.out, r.err);
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path,
		 "%s/etc/systemd/system/agent@.service.d/noleak.conf", root);
	cr_assert(strstr(slurp(path), "Environment=\"LD_PRELOAD=/opt/a%%b/libnoleak.so\"\n"),
		  "%s", slurp(path));
	/* an instance of the template is a unit too */
	cr_assert_eq(noleak("enable", "agent@x.service", "--lib", "/l.so", NULL, NULL), 0,
		     "%s%s", r.out, r.err);
}

/* --now: systemctl daemon-reload, then restart (enable) or restart
 * (disable) the service, in that order; nothing to do when there is no
 * drop-in. */
Test(deploy_unit, now_reloads_and_restarts)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: a mount namespace over /etc");
	char dir[256], etc[300], script[PATH_MAX * 8];
	snprintf(dir, sizeof dir, "%s", tmpdir());
	cr_assert_eq(chmod(dir, 0755), 0);
	snprintf(etc, sizeof etc, "%s/etc", dir);
	ns_copy_etc(etc);
	snprintf(script, sizeof script,
		 "set -e\n"
		 "mkdir -p /etc/systemd/system '%s/bin'\n"
		 "printf '[Service]\\nExecStart=/bin/true\\n' > /etc/systemd/system/agent.service\n"
		 "printf '#!/bin/sh\\necho \"$*\" >> %s/calls\\n' > '%s/bin/systemctl'\n"
		 "chmod +x '%s/bin/systemctl'\n"
		 "export PATH='%s/bin':$PATH\n"
		 "touch '%s/l.so'\n"
		 "'%s' enable --unit agent.service --lib '%s/l.so' --now\n"
		 "echo enabled >> '%s/calls'\n"
		 "grep -q LD_PRELOAD='%s/l.so' /etc/systemd/system/agent.service.d/noleak.conf\n"
		 "'%s' disable --unit agent.service --now\n"
		 "test ! -e /etc/systemd/system/agent.service.d/noleak.conf\n"
		 "echo disabled >> '%s/calls'\n"
		 "'%s' disable --unit agent.service --now\n",
		 dir, dir, dir, dir, dir, dir, top("build/noleak"), dir, dir, dir,
		 top("build/noleak"), dir, top("build/noleak"));
	ns_run_with_etc(&r, etc, script, 30);
	cr_assert_eq(exit_code(&r), 0, "%s%s", r.out, r.err);
	char calls[300];
	snprintf(calls, sizeof calls, "%s/calls", dir);
	cr_expect_str_eq(slurp(calls),
			 "daemon-reload\nrestart agent.service\nenabled\n"
			 "daemon-reload\nrestart agent.service\ndisabled\n");
	ns_remove_test_dir(dir);
}

/* The tree's links lead inside it: with DIR/etc -> OUT/etc (OUT a
 * directory outside DIR, as the host sees it), the drop-in is the image's,
 * DIR/OUT/etc/systemd/system/..., and OUT/etc stays empty through enable,
 * status and disable. */
Test(deploy_unit, links_in_the_tree_resolve_inside_it)
{
	char out[256], cmd[PATH_MAX * 4], inside[PATH_MAX * 2], outside[PATH_MAX];
	tree();
	snprintf(out, sizeof out, "%s", tmpdir());
	snprintf(cmd, sizeof cmd, "mkdir -p '%s/etc/systemd/system' '%s%s/etc' && "
		 "ln -s '%s/etc' '%s/etc'", out, root, out, out, root);
	cr_assert_eq(system(cmd), 0);
	snprintf(inside, sizeof inside,
		 "%s%s/etc/systemd/system/agent.service.d/noleak.conf", root, out);
	snprintf(outside, sizeof outside, "%s/etc/systemd/system/agent.service.d", out);
	snprintf(cmd, sizeof cmd, "%s/l.so", root);
	FILE *f = fopen(cmd, "w");
	cr_assert_not_null(f);
	fclose(f);

	cr_assert_eq(noleak("enable", "agent.service", "--lib", "/l.so", NULL, NULL), 0,
		     "%s%s", r.out, r.err);
	cr_expect(strstr(slurp(inside), "LD_PRELOAD=/l.so"), "no drop-in at %s", inside);
	cr_expect_neq(access(outside, F_OK), 0, "enable wrote %s, outside the tree", outside);
	cr_expect_eq(noleak("status", "agent.service", NULL, NULL, NULL, NULL), 0,
		     "%s%s", r.out, r.err);
	cr_assert_eq(noleak("disable", "agent.service", NULL, NULL, NULL, NULL), 0,
		     "%s%s", r.out, r.err);
	cr_expect_neq(access(inside, F_OK), 0, "disable left %s", inside);
	cr_expect_neq(access(outside, F_OK), 0);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", out, root);
	system(cmd);
}

/* What reaches the drop-in: a value with a line break or another control
 * character is refused (it would end the Environment= line and start a
 * directive of its own), and so is a --lib that is not one LD_PRELOAD
 * entry (a blank or ':' splits it, '#' cuts a preload list) or names no
 * file in the tree; nothing is written.  Accepted values are quoted as
 * systemd unquotes them: '"' and '\' escaped, '%' doubled, '$' as it is
 * (Environment= gives it no meaning; ld.so expands $LIB). */
static const struct unit_value_case {
	const char *name;
	const char *arg1, *arg2;   /* after --unit agent.service --root DIR */
	const char *line;          /* the drop-in line, or NULL: refused */
	const char *why;           /* refused: in the message */
} unit_value_cases[] = {
	{ "a line break in --set", "--lib=/l.so",
	  "--set=kill_wrappers=timeout\nExecStartPre=/bin/touch /tmp/x", NULL, "control" },
	{ "a carriage return in --set", "--lib=/l.so", "--set=fd_transparent=a\rb",
	  NULL, "control" },
	{ "an escape in --set", "--lib=/l.so", "--set=log=/var/log/\x1b[2Jx.log",
	  NULL, "control" },
	{ "a blank and a colon in --lib", "--lib=/opt/my lib:x/libnoleak.so", NULL,
	  NULL, "blanks" },
	{ "a line break in --lib", "--lib=/l.so\nExecStartPre=/bin/true", NULL,
	  NULL, "blanks" },
	{ "a missing --lib", "--lib=/opt/none/libnoleak.so", NULL, NULL,
	  "No such file" },
	{ "a directory as --lib", "--lib=/opt", NULL, NULL, "not a regular file" },
	{ "quotes, backslash, % and $ in --set", "--lib=/l.so",
	  "--set=kill_wrappers=a\"b\\c%d$e'f",
	  "Environment=\"NOLEAK_KILL_WRAPPERS=a\\\"b\\\\c%%d$e'f\"\n", NULL },
	{ "$LIB in --lib", "--lib=/usr/$LIB/libnoleak.so", NULL,
	  "Environment=\"LD_PRELOAD=/usr/$LIB/libnoleak.so\"\n", NULL },
};

Test(deploy_unit, values_reach_the_drop_in_as_one_line_each)
{
	tree();
	for (size_t i = 0; i < sizeof unit_value_cases / sizeof unit_value_cases[0]; i++) {
		const struct unit_value_case *t = &unit_value_cases[i];
		int st = noleak("enable", "agent.service", t->arg1, t->arg2, NULL, NULL);
		if (!t->line) {
			cr_expect_eq(st, 2, "%s: status %d: %s", t->name, st, slurp(dropin));
			cr_expect(strstr(r.err, t->why), "%s: %s", t->name, r.err);
			cr_expect_neq(access(dropin, F_OK), 0, "%s: a drop-in was written: %s",
				      t->name, slurp(dropin));
			continue;
		}
		cr_expect_eq(st, 0, "%s: %s%s", t->name, r.out, r.err);
		cr_expect(strstr(slurp(dropin), t->line), "%s: %s", t->name, slurp(dropin));
		cr_assert_eq(noleak("disable", "agent.service", NULL, NULL, NULL, NULL), 0);
	}
}
