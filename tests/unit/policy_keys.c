/* Policy keys: defaults, every key's accepted and refused values, error
 * texts, mode-dependent defaults, and the questions interposers ask. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

#define BIT(k) (1u << (k))

static struct nl_policy pol;

static void fresh(void)
{
	nl_policy_defaults(&pol);
}

/* Set a key from a config line, expecting success. */
static void set_ok(const char *key, const char *value)
{
	int r = nl_policy_set(&pol, key, value, "test:1");
	cr_assert_eq(r, 0, "%s = %s refused: %s", key, value,
		     pol.n_errors ? pol.errors[pol.n_errors - 1] : "");
}

/* Set a key to a bad value: refused, one error, nothing marked as set. */
static void set_bad(const char *key, const char *value)
{
	int before = pol.n_errors + pol.errors_dropped;
	uint32_t set_before = pol.set;
	cr_assert_eq(nl_policy_set(&pol, key, value, "test:1"), -1,
		     "%s = \"%s\" accepted", key, value);
	cr_assert_eq(pol.n_errors + pol.errors_dropped, before + 1);
	cr_assert_eq(pol.set, set_before);
}

TestSuite(policy_keys, .init = fresh);

Test(policy_keys, defaults_match_the_documented_table)
{
	cr_assert_eq(pol.mode, NL_MODE_ENFORCE);
	cr_assert_eq(pol.log_kind, NL_LOG_NONE);
	cr_assert_eq(pol.n_keep_fds, 0);
	cr_assert_eq(pol.sock_timeout, 300);
	cr_assert_eq(pol.keepalive.off, 0);
	cr_assert_eq(pol.keepalive.idle, 60);
	cr_assert_eq(pol.keepalive.intvl, 10);
	cr_assert_eq(pol.keepalive.cnt, 6);
	cr_assert_eq(pol.keepalive.user_timeout, 0);
	cr_assert_eq(pol.read_warn, 0);
	cr_assert_eq(pol.read_timeout, 0);
	cr_assert_eq(pol.pgroup, NL_PGROUP_AUTO);
	cr_assert_eq(pol.orphans, NL_ORPHANS_LOG);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_KEEP);
	cr_assert_str_eq(pol.fd_transparent,
			 "bash,sh,dash,zsh,ksh,mksh,busybox,fish,tcsh,csh");
	cr_assert_str_eq(pol.fd_trampolines, "jspawnhelper");
	cr_assert_eq(pol.sock_timeout_unix, 0);
	cr_assert_eq(pol.sock_timeout_dgram, 0);
	cr_assert_eq(pol.set, 0);
	cr_assert_eq(pol.n_errors, 0);
	cr_assert_eq(pol.errors_dropped, 0);
	cr_assert_str_eq(pol.config_path, "");
}

Test(policy_keys, key_names_and_env_names)
{
	cr_assert_str_eq(nl_policy_key_name(NL_KEY_SOCK_TIMEOUT_UNIX),
			 "sock_timeout_unix");
	cr_assert_str_eq(nl_policy_key_env(NL_KEY_FD_TRAMPOLINES),
			 "NOLEAK_FD_TRAMPOLINES");
	cr_assert_str_eq(nl_policy_key_name(NL_KEY_COUNT), "");
	for (int k = 0; k < NL_KEY_COUNT; k++)
		cr_assert_neq(nl_policy_key_name((enum nl_key)k)[0], '\0');
}

Test(policy_keys, mode)
{
	set_ok("mode", "audit");
	cr_assert_eq(pol.mode, NL_MODE_AUDIT);
	cr_assert(pol.set & BIT(NL_KEY_MODE));
	set_ok("mode", "off");
	cr_assert_eq(pol.mode, NL_MODE_OFF);
	set_ok("mode", "  enforce\t");
	cr_assert_eq(pol.mode, NL_MODE_ENFORCE);
	set_ok("mode", "audit");
	set_bad("mode", "bogus");
	set_bad("mode", "");
	set_bad("mode", "Audit");
	set_bad("mode", "auditx");
	cr_assert_eq(pol.mode, NL_MODE_AUDIT, "a bad value keeps the previous one");
}

Test(policy_keys, log)
{
	set_ok("log", "stderr");
	cr_assert_eq(pol.log_kind, NL_LOG_STDERR);
	set_ok("log", "syslog");
	cr_assert_eq(pol.log_kind, NL_LOG_SYSLOG);
	set_ok("log", "/var/log/noleak.jsonl");
	cr_assert_eq(pol.log_kind, NL_LOG_FILE);
	cr_assert_str_eq(pol.log_path, "/var/log/noleak.jsonl");
	set_bad("log", "relative/noleak.log");
	set_bad("log", "noleak.log");
	set_bad("log", "");
	char longpath[NL_LOG_PATH_MAX + 8];
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	set_bad("log", longpath);
	cr_assert_eq(pol.log_kind, NL_LOG_FILE);
	cr_assert_str_eq(pol.log_path, "/var/log/noleak.jsonl");
	set_ok("log", "none");
	cr_assert_eq(pol.log_kind, NL_LOG_NONE);
	cr_assert_str_eq(pol.log_path, "");
}

Test(policy_keys, keep_fds_lists_and_ranges)
{
	set_ok("keep_fds", "3,5-7");
	cr_assert_eq(pol.n_keep_fds, 2);
	cr_assert(pol.set & BIT(NL_KEY_KEEP_FDS));
	cr_assert_not(nl_policy_keeps_fd(&pol, 2));
	cr_assert(nl_policy_keeps_fd(&pol, 3));
	cr_assert_not(nl_policy_keeps_fd(&pol, 4));
	cr_assert(nl_policy_keeps_fd(&pol, 5));
	cr_assert(nl_policy_keeps_fd(&pol, 6));
	cr_assert(nl_policy_keeps_fd(&pol, 7));
	cr_assert_not(nl_policy_keeps_fd(&pol, 8));

	set_ok("keep_fds", " 10 , 20 - 21 ,0");
	cr_assert_eq(pol.n_keep_fds, 3);
	cr_assert(nl_policy_keeps_fd(&pol, 0));
	cr_assert(nl_policy_keeps_fd(&pol, 21));
	cr_assert_not(nl_policy_keeps_fd(&pol, 3), "a new list replaces the old");

	set_ok("keep_fds", "");
	cr_assert_eq(pol.n_keep_fds, 0);
}

Test(policy_keys, keep_fds_refused)
{
	set_ok("keep_fds", "4");
	set_bad("keep_fds", "-3");
	set_bad("keep_fds", "7-5");
	set_bad("keep_fds", "3,,4");
	set_bad("keep_fds", "3,");
	set_bad("keep_fds", "x");
	set_bad("keep_fds", "3-");
	set_bad("keep_fds", "1-2-3");
	set_bad("keep_fds", "99999999999");
	cr_assert_eq(pol.n_keep_fds, 1);
	cr_assert(nl_policy_keeps_fd(&pol, 4));
}

/* No limit on the list: 1,000 scattered fds (noleak-report's "restore
 * with" line for a program with many withheld fds) are all kept; a bad
 * item anywhere leaves the previous list whole. */
Test(policy_keys, keep_fds_without_a_range_limit)
{
	enum { N = 1000 };
	static char list[N * 6 + 8];
	size_t n = 0;

	for (int i = 0; i < N; i++)
		n += (size_t)sprintf(list + n, "%s%d", i ? "," : "", 10 + 2 * i);
	set_ok("keep_fds", list);
	cr_assert_eq(pol.n_keep_fds, N);
	for (int i = 0; i < N; i++) {
		cr_assert(nl_policy_keeps_fd(&pol, 10 + 2 * i), "%d", 10 + 2 * i);
		cr_assert_not(nl_policy_keeps_fd(&pol, 11 + 2 * i));
	}
	strcat(list, ",x");
	set_bad("keep_fds", list);
	cr_assert_eq(pol.n_keep_fds, N);
	cr_assert(nl_policy_keeps_fd(&pol, 10 + 2 * (N - 1)));

	set_ok("keep_fds", "5");   /* back to the inline list */
	cr_assert_eq(pol.n_keep_fds, 1);
	cr_assert_null(pol.keep_more);
	cr_assert(nl_policy_keeps_fd(&pol, 5));
	cr_assert_not(nl_policy_keeps_fd(&pol, 10));
	nl_policy_release(&pol);
}

/* Every key whose value is a number of seconds. */
static const struct {
	const char *key;
	size_t off;
	enum nl_key k;
} seconds_keys[] = {
	{ "sock_timeout", offsetof(struct nl_policy, sock_timeout),
	  NL_KEY_SOCK_TIMEOUT },
	{ "read_warn", offsetof(struct nl_policy, read_warn), NL_KEY_READ_WARN },
	{ "read_timeout", offsetof(struct nl_policy, read_timeout),
	  NL_KEY_READ_TIMEOUT },
	{ "sock_timeout_unix", offsetof(struct nl_policy, sock_timeout_unix),
	  NL_KEY_SOCK_TIMEOUT_UNIX },
	{ "sock_timeout_dgram", offsetof(struct nl_policy, sock_timeout_dgram),
	  NL_KEY_SOCK_TIMEOUT_DGRAM },
};

static unsigned field(size_t off)
{
	return *(unsigned *)(void *)((char *)&pol + off);
}

Test(policy_keys, seconds_values)
{
	char max[32], over[32];
	sprintf(max, "%u", NL_SECONDS_MAX);
	sprintf(over, "%u", NL_SECONDS_MAX + 1);
	for (size_t i = 0; i < sizeof(seconds_keys) / sizeof(seconds_keys[0]); i++) {
		const char *key = seconds_keys[i].key;
		size_t off = seconds_keys[i].off;
		fresh();
		set_ok(key, "45");
		cr_assert_eq(field(off), 45, "%s", key);
		cr_assert(pol.set & BIT(seconds_keys[i].k));
		set_ok(key, "0");
		cr_assert_eq(field(off), 0, "%s: 0 means off", key);
		set_ok(key, " 007 ");
		cr_assert_eq(field(off), 7);
		set_ok(key, max);
		cr_assert_eq(field(off), NL_SECONDS_MAX);
		set_ok(key, "12");
		set_bad(key, "-1");
		set_bad(key, "+5");
		set_bad(key, "5s");
		set_bad(key, "1.5");
		set_bad(key, "");
		set_bad(key, "ten");
		set_bad(key, over);
		set_bad(key, "99999999999999999999999999");
		cr_assert_eq(field(off), 12, "%s keeps its value", key);
	}
}

Test(policy_keys, ten_years_is_the_cap)
{
	cr_assert_eq(NL_SECONDS_MAX, 315360000u);
}

Test(policy_keys, keepalive)
{
	set_ok("keepalive", "30,5,3");
	cr_assert_eq(pol.keepalive.off, 0);
	cr_assert_eq(pol.keepalive.idle, 30);
	cr_assert_eq(pol.keepalive.intvl, 5);
	cr_assert_eq(pol.keepalive.cnt, 3);
	cr_assert_eq(pol.keepalive.user_timeout, 0);
	cr_assert(pol.set & BIT(NL_KEY_KEEPALIVE));

	set_ok("keepalive", "120, 15, 4, 90");
	cr_assert_eq(pol.keepalive.idle, 120);
	cr_assert_eq(pol.keepalive.intvl, 15);
	cr_assert_eq(pol.keepalive.cnt, 4);
	cr_assert_eq(pol.keepalive.user_timeout, 90);

	set_ok("keepalive", "off");
	cr_assert_eq(pol.keepalive.off, 1);
	set_ok("keepalive", "60,10,6");
	cr_assert_eq(pol.keepalive.off, 0, "numbers turn keepalive back on");
	cr_assert_eq(pol.keepalive.user_timeout, 0);
}

Test(policy_keys, keepalive_refused)
{
	set_ok("keepalive", "61,11,7,1");
	set_bad("keepalive", "60,10");
	set_bad("keepalive", "60");
	set_bad("keepalive", "60,10,6,0,1");
	set_bad("keepalive", "0,10,6");
	set_bad("keepalive", "60,0,6");
	set_bad("keepalive", "60,10,0");
	set_bad("keepalive", "60,10,128");
	set_bad("keepalive", "32768,10,6");
	set_bad("keepalive", "60,10,6,9999999");
	set_bad("keepalive", "60,10,-6");
	set_bad("keepalive", "60,,6");
	set_bad("keepalive", "on");
	set_bad("keepalive", "");
	cr_assert_eq(pol.keepalive.off, 0);
	cr_assert_eq(pol.keepalive.idle, 61);
	cr_assert_eq(pol.keepalive.intvl, 11);
	cr_assert_eq(pol.keepalive.cnt, 7);
	cr_assert_eq(pol.keepalive.user_timeout, 1);
}

Test(policy_keys, pgroup_orphans_stdin)
{
	set_ok("pgroup", "always");
	cr_assert_eq(pol.pgroup, NL_PGROUP_ALWAYS);
	set_ok("pgroup", "never");
	cr_assert_eq(pol.pgroup, NL_PGROUP_NEVER);
	set_ok("pgroup", "auto");
	cr_assert_eq(pol.pgroup, NL_PGROUP_AUTO);
	set_bad("pgroup", "sometimes");
	cr_assert_eq(pol.pgroup, NL_PGROUP_AUTO);

	set_ok("orphans", "keep");
	cr_assert_eq(pol.orphans, NL_ORPHANS_KEEP);
	set_ok("orphans", "kill");
	cr_assert_eq(pol.orphans, NL_ORPHANS_KILL);
	set_ok("orphans", "log");
	cr_assert_eq(pol.orphans, NL_ORPHANS_LOG);
	set_bad("orphans", "adopt");
	cr_assert_eq(pol.orphans, NL_ORPHANS_LOG);

	set_ok("stdin", "detach");
	cr_assert_eq(pol.stdin_mode, NL_STDIN_DETACH);
	set_bad("stdin", "close");
	cr_assert_eq(pol.stdin_mode, NL_STDIN_DETACH);
	set_ok("stdin", "keep");
	cr_assert_eq(pol.stdin_mode, NL_STDIN_KEEP);

	cr_assert_eq(pol.kill_escalate, NL_ESCALATE_SHELL);
	set_ok("kill_escalate", "never");
	cr_assert_eq(pol.kill_escalate, NL_ESCALATE_NEVER);
	set_bad("kill_escalate", "sometimes");
	cr_assert_eq(pol.kill_escalate, NL_ESCALATE_NEVER);
	set_ok("kill_escalate", "always");
	cr_assert_eq(pol.kill_escalate, NL_ESCALATE_ALWAYS);
	cr_assert(pol.set & BIT(NL_KEY_KILL_ESCALATE));
	cr_assert(pol.set & BIT(NL_KEY_PGROUP));
	cr_assert(pol.set & BIT(NL_KEY_ORPHANS));
	cr_assert(pol.set & BIT(NL_KEY_STDIN));
}

Test(policy_keys, name_lists)
{
	set_ok("fd_transparent", "bash, rc");
	cr_assert_str_eq(pol.fd_transparent, "bash, rc");
	cr_assert(nl_names_contain(pol.fd_transparent, "/usr/bin/rc"));
	cr_assert_not(nl_names_contain(pol.fd_transparent, "zsh"));
	set_ok("fd_trampolines", "jspawnhelper,helper2");
	cr_assert(nl_names_contain(pol.fd_trampolines, "helper2"));
	cr_assert(pol.set & BIT(NL_KEY_FD_TRANSPARENT));
	cr_assert(pol.set & BIT(NL_KEY_FD_TRAMPOLINES));
	cr_assert(nl_names_contain(pol.kill_wrappers, "timeout"));
	cr_assert(nl_names_contain(pol.kill_wrappers, "runuser"));
	set_ok("kill_wrappers", "nohup,chpst");
	cr_assert(nl_names_contain(pol.kill_wrappers, "/usr/bin/chpst"));
	cr_assert(pol.set & BIT(NL_KEY_KILL_WRAPPERS));

	char big[NL_NAMES_MAX + 10];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	set_bad("fd_transparent", big);
	cr_assert_str_eq(pol.fd_transparent, "bash, rc");

	set_ok("fd_trampolines", "");
	cr_assert_not(nl_names_contain(pol.fd_trampolines, "jspawnhelper"));
}

Test(policy_keys, unknown_key_error_text)
{
	cr_assert_eq(nl_policy_set(&pol, "foo", "1", "/etc/noleak.conf:12"), -1);
	cr_assert_eq(pol.n_errors, 1);
	cr_assert_str_eq(pol.errors[0], "/etc/noleak.conf:12: unknown key \"foo\"");
	cr_assert_eq(pol.set, 0);
}

Test(policy_keys, bad_value_error_text_from_env_and_file)
{
	nl_policy_set(&pol, "mode", "bogus", "NOLEAK_MODE");
	cr_assert_str_eq(pol.errors[0],
			 "NOLEAK_MODE: bad value \"bogus\" (expected enforce, audit, off)");
	nl_policy_set(&pol, "mode", "bogus", "/etc/noleak.conf:3");
	cr_assert_str_eq(pol.errors[1],
			 "/etc/noleak.conf:3: mode: bad value \"bogus\" "
			 "(expected enforce, audit, off)");
}

Test(policy_keys, long_bad_value_is_cut_in_the_error)
{
	char v[500];
	memset(v, 'z', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	nl_policy_set(&pol, "pgroup", v, "NOLEAK_PGROUP");
	cr_assert_eq(pol.n_errors, 1);
	cr_assert_lt(strlen(pol.errors[0]), NL_CONFIG_ERROR_LEN);
	cr_assert(strstr(pol.errors[0], "...\" (expected auto, always, never)"),
		  "got %s", pol.errors[0]);
}

Test(policy_keys, errors_beyond_the_limit_are_counted)
{
	for (int i = 0; i < NL_CONFIG_ERRORS_MAX + 3; i++)
		nl_policy_set(&pol, "nope", "1", "x");
	cr_assert_eq(pol.n_errors, NL_CONFIG_ERRORS_MAX);
	cr_assert_eq(pol.errors_dropped, 3);
	for (int i = 0; i < NL_CONFIG_ERRORS_MAX; i++)
		cr_assert_str_eq(pol.errors[i], "x: unknown key \"nope\"");
}

Test(policy_keys, error_pieces_are_cut_to_the_buffer)
{
	char big[400];
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	nl_policy_error(&pol, "a", big, "b", NULL);
	cr_assert_eq(strlen(pol.errors[0]), NL_CONFIG_ERROR_LEN - 1);
	cr_assert_eq(pol.errors[0][0], 'a');
}

Test(policy_keys, finish_enforce_defaults)
{
	nl_policy_finish(&pol);
	cr_assert_eq(pol.log_kind, NL_LOG_NONE);
	cr_assert_eq(pol.read_warn, 0);
}

Test(policy_keys, finish_audit_logs_to_syslog_and_warns_on_reads)
{
	set_ok("mode", "audit");
	nl_policy_finish(&pol);
	cr_assert_eq(pol.log_kind, NL_LOG_SYSLOG);
	cr_assert_eq(pol.read_warn, 30);
}

Test(policy_keys, finish_audit_keeps_what_was_set)
{
	set_ok("mode", "audit");
	set_ok("log", "none");
	set_ok("read_warn", "0");
	nl_policy_finish(&pol);
	cr_assert_eq(pol.log_kind, NL_LOG_NONE);
	cr_assert_eq(pol.read_warn, 0);

	fresh();
	set_ok("mode", "audit");
	set_ok("log", "/tmp/a.log");
	set_ok("read_warn", "5");
	nl_policy_finish(&pol);
	cr_assert_eq(pol.log_kind, NL_LOG_FILE);
	cr_assert_str_eq(pol.log_path, "/tmp/a.log");
	cr_assert_eq(pol.read_warn, 5);
}

Test(policy_keys, finish_refused_values_do_not_count_as_set)
{
	set_ok("mode", "audit");
	set_bad("log", "relative.log");
	set_bad("read_warn", "-1");
	nl_policy_finish(&pol);
	cr_assert_eq(pol.log_kind, NL_LOG_SYSLOG);
	cr_assert_eq(pol.read_warn, 30);
}

Test(policy_keys, names_contain)
{
	const char *list = "bash,sh, dash ,\tzsh";
	cr_assert(nl_names_contain(list, "bash"));
	cr_assert(nl_names_contain(list, "/bin/sh"));
	cr_assert(nl_names_contain(list, "dash"));
	cr_assert(nl_names_contain(list, "/usr/bin/zsh"));
	cr_assert_not(nl_names_contain(list, "bas"), "no prefix match");
	cr_assert_not(nl_names_contain(list, "bashx"));
	cr_assert_not(nl_names_contain(list, "ksh"));
	cr_assert_not(nl_names_contain(list, ""));
	cr_assert_not(nl_names_contain(list, "/bin/"));
	cr_assert_not(nl_names_contain("", "bash"));
	cr_assert_not(nl_names_contain("a,,b", ""));
	cr_assert_not(nl_names_contain(NULL, "bash"));
	cr_assert_not(nl_names_contain(list, NULL));
}

Test(policy_keys, basename_and_mode_name)
{
	cr_assert_str_eq(nl_basename("/usr/bin/python3"), "python3");
	cr_assert_str_eq(nl_basename("python3"), "python3");
	cr_assert_str_eq(nl_basename("/usr/bin/"), "");
	cr_assert_str_eq(nl_basename("./run.sh"), "run.sh");
	cr_assert_str_eq(nl_mode_name(NL_MODE_ENFORCE), "enforce");
	cr_assert_str_eq(nl_mode_name(NL_MODE_AUDIT), "audit");
	cr_assert_str_eq(nl_mode_name(NL_MODE_OFF), "off");
}

Test(policy_keys, glob_literals_star_and_question)
{
	cr_assert(nl_glob_match("python3", "python3"));
	cr_assert_not(nl_glob_match("python3", "python"));
	cr_assert_not(nl_glob_match("python", "python3"));
	cr_assert(nl_glob_match("python*", "python"));
	cr_assert(nl_glob_match("python*", "python3.11"));
	cr_assert_not(nl_glob_match("python*", "ipython"));
	cr_assert(nl_glob_match("*", ""));
	cr_assert(nl_glob_match("*agent", "legacy-agent"));
	cr_assert(nl_glob_match("*-*-*", "a-b-c"));
	cr_assert_not(nl_glob_match("*-*-*", "a-b"));
	cr_assert(nl_glob_match("a*b*c", "aXbYbZc"));
	cr_assert_not(nl_glob_match("a*b*c", "aXbYbZ"));
	cr_assert(nl_glob_match("java?", "java8"));
	cr_assert_not(nl_glob_match("java?", "java"));
	cr_assert_not(nl_glob_match("java?", "java11"));
	cr_assert(nl_glob_match("/opt/app/*", "/opt/app/bin/run"));
	cr_assert_not(nl_glob_match("", "x"));
	cr_assert(nl_glob_match("", ""));
}

Test(policy_keys, glob_brackets)
{
	cr_assert(nl_glob_match("python[23]", "python3"));
	cr_assert_not(nl_glob_match("python[23]", "python4"));
	cr_assert(nl_glob_match("ruby[0-9]*", "ruby3.2"));
	cr_assert_not(nl_glob_match("ruby[0-9]*", "rubyx"));
	cr_assert(nl_glob_match("x[!a-c]", "xd"));
	cr_assert_not(nl_glob_match("x[!a-c]", "xb"));
	cr_assert(nl_glob_match("x[^a]", "xb"));
	cr_assert(nl_glob_match("[]]", "]"));
	cr_assert(nl_glob_match("[a-]", "-"));
	cr_assert(nl_glob_match("x[", "x["), "an unclosed bracket is literal");
	cr_assert(nl_glob_match("\\*", "*"));
	cr_assert_not(nl_glob_match("\\*", "a"));
	cr_assert(nl_glob_match("*[.]sh", "run.sh"));
	cr_assert_not(nl_glob_match("*[.]sh", "runsh"));
}

/* A control character inside a name list or a log path is a bad value:
 * the key keeps what it had, and the error shows it as '?', on one line.
 * Tabs between names are blanks, trimmed like spaces. */
Test(policy_keys, control_characters_in_values_are_refused)
{
	static const struct { const char *key, *value; } bad[] = {
		{ "kill_wrappers", "timeout\nExecStartPre=/bin/touch /tmp/x" },
		{ "kill_wrappers", "timeout\rnice" },
		{ "fd_transparent", "bash,\x1b[2Jsh" },
		{ "fd_trampolines", "jspawnhelper\x7f" },
		{ "log", "/var/log/noleak\n.log" },
		{ "log", "/var/log/noleak\t.log" },
		{ "log", "/var/log/\x01noleak.log" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		nl_policy_defaults(&pol);
		set_bad(bad[i].key, bad[i].value);
		cr_expect_str_eq(pol.kill_wrappers, "timeout,nohup,env,nice,setsid,"
				 "stdbuf,xargs,sudo,su,runuser,script", "row %zu", i);
		cr_expect_eq(pol.log_kind, NL_LOG_NONE, "row %zu", i);
		cr_expect(!strpbrk(pol.errors[0], "\n\r\x1b\x7f\x01\t"),
			  "row %zu: %s", i, pol.errors[0]);
	}
	nl_policy_defaults(&pol);
	set_ok("kill_wrappers", "timeout,\tnice");
	cr_assert_str_eq(pol.kill_wrappers, "timeout,\tnice");
	cr_assert(nl_names_contain(pol.kill_wrappers, "nice"));
}
