/* The environment: every NOLEAK_* variable, empty values, precedence over
 * the config file, and AT_SECURE ignoring it all. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy.h"

static struct nl_policy pol;

static void fresh(void)
{
	nl_policy_defaults(&pol);
}

TestSuite(policy_env, .init = fresh);

static void apply1(const char *entry)
{
	char *envp[] = { "HOME=/root", (char *)entry, NULL };
	nl_policy_apply_env(&pol, envp);
}

Test(policy_env, every_variable_sets_its_key)
{
	char *envp[] = {
		"NOLEAK_MODE=audit",
		"NOLEAK_LOG=stderr",
		"NOLEAK_KEEP_FDS=3,5-7",
		"NOLEAK_SOCK_TIMEOUT=30",
		"NOLEAK_KEEPALIVE=20,5,3,60",
		"NOLEAK_READ_WARN=15",
		"NOLEAK_READ_TIMEOUT=90",
		"NOLEAK_PGROUP=always",
		"NOLEAK_ORPHANS=kill",
		"NOLEAK_STDIN=detach",
		"NOLEAK_FD_TRANSPARENT=rc,es",
		"NOLEAK_FD_TRAMPOLINES=tramp",
		"NOLEAK_SOCK_TIMEOUT_UNIX=7",
		"NOLEAK_SOCK_TIMEOUT_DGRAM=8",
		"NOLEAK_KILL_ESCALATE=never",
		"NOLEAK_KILL_WRAPPERS=nohup",
		NULL,
	};
	nl_policy_apply_env(&pol, envp);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_eq(pol.set, (1u << NL_KEY_COUNT) - 1);
	cr_assert_eq(pol.kill_escalate, NL_ESCALATE_NEVER);
	cr_assert_str_eq(pol.kill_wrappers, "nohup");
	cr_assert_eq(pol.mode, NL_MODE_AUDIT);
	cr_assert_eq(pol.log_kind, NL_LOG_STDERR);
	cr_assert_eq(pol.n_keep_fds, 2);
	cr_assert(nl_policy_keeps_fd(&pol, 7));
	cr_assert_eq(pol.sock_timeout, 30);
	cr_assert_eq(pol.keepalive.idle, 20);
	cr_assert_eq(pol.keepalive.intvl, 5);
	cr_assert_eq(pol.keepalive.cnt, 3);
	cr_assert_eq(pol.keepalive.user_timeout, 60);
	cr_assert_eq(pol.read_warn, 15);
	cr_assert_eq(pol.read_timeout, 90);
	cr_assert_eq(pol.pgroup, NL_PGROUP_ALWAYS);
	cr_assert_eq(pol.orphans, NL_ORPHANS_KILL);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_DETACH);
	cr_assert_str_eq(pol.fd_transparent, "rc,es");
	cr_assert_str_eq(pol.fd_trampolines, "tramp");
	cr_assert_eq(pol.sock_timeout_unix, 7);
	cr_assert_eq(pol.sock_timeout_dgram, 8);
}

/* A bad value for each variable: refused with an error naming the
 * variable, and the key keeps its default. */
Test(policy_env, every_variable_refuses_bad_values)
{
	static const char *const bad[] = {
		"NOLEAK_MODE=bogus",
		"NOLEAK_LOG=relative.log",
		"NOLEAK_KEEP_FDS=5-3",
		"NOLEAK_SOCK_TIMEOUT=-1",
		"NOLEAK_KEEPALIVE=60,10",
		"NOLEAK_READ_WARN=1e3",
		"NOLEAK_READ_TIMEOUT=99999999999",
		"NOLEAK_PGROUP=yes",
		"NOLEAK_ORPHANS=reap",
		"NOLEAK_STDIN=null",
		NULL,
	};
	for (int i = 0; bad[i] != NULL; i++) {
		fresh();
		apply1(bad[i]);
		cr_assert_eq(pol.n_errors, 1, "%s accepted", bad[i]);
		size_t name_len = (size_t)(strchr(bad[i], '=') - bad[i]);
		cr_assert(strncmp(pol.errors[0], bad[i], name_len) == 0 &&
				  strncmp(pol.errors[0] + name_len, ": bad value \"",
					  13) == 0,
			  "error for %s: %s", bad[i], pol.errors[0]);
		cr_assert_eq(pol.set, 0);
		struct nl_policy def;
		nl_policy_defaults(&def);
		def.n_errors = pol.n_errors;
		memcpy(def.errors, pol.errors, sizeof(def.errors));
		cr_assert(memcmp(&def, &pol, sizeof(def)) == 0,
			  "%s changed the policy", bad[i]);
	}
}

Test(policy_env, long_name_lists_are_refused)
{
	static char entry[NL_NAMES_MAX + 64];
	int n = sprintf(entry, "NOLEAK_FD_TRANSPARENT=");
	memset(entry + n, 'n', NL_NAMES_MAX);
	entry[n + NL_NAMES_MAX] = '\0';
	apply1(entry);
	cr_assert_eq(pol.n_errors, 1);
	cr_assert(nl_names_contain(pol.fd_transparent, "bash"));
}

Test(policy_env, exact_error_text)
{
	apply1("NOLEAK_MODE=bogus");
	cr_assert_str_eq(pol.errors[0],
			 "NOLEAK_MODE: bad value \"bogus\" (expected enforce, audit, off)");
}

Test(policy_env, empty_value_means_unset)
{
	char *envp[] = { "NOLEAK_MODE=", "NOLEAK_SOCK_TIMEOUT=", "NOLEAK_LOG=",
			 NULL };
	nl_policy_apply_env(&pol, envp);
	cr_assert_eq(pol.n_errors, 0);
	cr_assert_eq(pol.set, 0);
	cr_assert_eq(pol.mode, NL_MODE_ENFORCE);
	cr_assert_eq(pol.sock_timeout, 300);
}

Test(policy_env, unknown_and_lookalike_variables_are_ignored)
{
	char *envp[] = { "NOLEAK_FOO=1", "NOLEAK_TOP=/src", "NOLEAK_MODEX=off",
			 "XNOLEAK_MODE=off", "NOLEAK_MODE", "noleak_mode=off",
			 NULL };
	nl_policy_apply_env(&pol, envp);
	cr_assert_eq(pol.n_errors, 0);
	cr_assert_eq(pol.mode, NL_MODE_ENFORCE);
	cr_assert_eq(pol.set, 0);
}

Test(policy_env, first_entry_wins_like_getenv)
{
	char *envp[] = { "NOLEAK_MODE=off", "NOLEAK_MODE=audit", NULL };
	nl_policy_apply_env(&pol, envp);
	cr_assert_eq(pol.mode, NL_MODE_OFF);
}

Test(policy_env, no_environment_at_all)
{
	nl_policy_apply_env(&pol, NULL);
	char *empty[] = { NULL };
	nl_policy_apply_env(&pol, empty);
	cr_assert_eq(pol.set, 0);
	cr_assert_eq(pol.n_errors, 0);
	cr_assert_null(nl_policy_env_value(NULL, "NOLEAK_MODE"));
}

Test(policy_env, env_value_lookup)
{
	char *envp[] = { "NOLEAK_MODEX=1", "NOLEAK_MODE=audit", NULL };
	cr_assert_str_eq(nl_policy_env_value(envp, "NOLEAK_MODE"), "audit");
	cr_assert_str_eq(nl_policy_env_value(envp, "NOLEAK_MODEX"), "1");
	cr_assert_null(nl_policy_env_value(envp, "NOLEAK_MOD"));
}

Test(policy_env, values_are_trimmed)
{
	apply1("NOLEAK_SOCK_TIMEOUT= 12 ");
	cr_assert_eq(pol.sock_timeout, 12);
}

/* --- precedence and AT_SECURE, through nl_policy_load --- */

static char cfg_path[64];
static char cfg_env[96];

static void write_config(const char *text)
{
	strcpy(cfg_path, "/tmp/noleak-env-XXXXXX");
	int fd = mkstemp(cfg_path);
	cr_assert_geq(fd, 0);
	size_t len = strlen(text);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, 0644), 0);
	close(fd);
	snprintf(cfg_env, sizeof(cfg_env), "NOLEAK_CONFIG=%s", cfg_path);
}

static void remove_config(void)
{
	if (cfg_path[0] != '\0')
		unlink(cfg_path);
	cfg_path[0] = '\0';
}

static const struct nl_identity who = { "/usr/bin/prog", NULL, "prog", NULL };

static const char layered[] =
	"sock_timeout = 100\n"
	"read_timeout = 200\n"
	"pgroup = never\n";

Test(policy_env, defaults_then_file_then_environment, .fini = remove_config)
{
	write_config(layered);
	char *envp[] = { cfg_env, "NOLEAK_READ_TIMEOUT=5", NULL };
	nl_policy_load(&pol, &who, envp, 0);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_eq(pol.orphans, NL_ORPHANS_LOG, "default, set by nobody");
	cr_assert_eq(pol.sock_timeout, 100, "file over default");
	cr_assert_eq(pol.pgroup, NL_PGROUP_NEVER, "file over default");
	cr_assert_eq(pol.read_timeout, 5, "environment over file");
}

Test(policy_env, bad_env_value_falls_back_to_the_file, .fini = remove_config)
{
	write_config(layered);
	char *envp[] = { cfg_env, "NOLEAK_SOCK_TIMEOUT=soon", NULL };
	nl_policy_load(&pol, &who, envp, 0);
	cr_assert_eq(pol.sock_timeout, 100);
	cr_assert_eq(pol.n_errors, 1);
	cr_assert(strncmp(pol.errors[0], "NOLEAK_SOCK_TIMEOUT: bad value", 30) == 0);
}

/* What `noleak --set keep_fds=` exports: an empty variable is "not set",
 * a blank one is the empty list, over the file's. */
Test(policy_env, a_blank_list_empties_the_file_s, .fini = remove_config)
{
	write_config("keep_fds = 3\nfd_transparent = sh\nfd_trampolines = x\n"
		     "kill_wrappers = env\n");
	char *unset[] = { cfg_env, "NOLEAK_KEEP_FDS=", "NOLEAK_FD_TRANSPARENT=",
			  "NOLEAK_FD_TRAMPOLINES=", "NOLEAK_KILL_WRAPPERS=", NULL };
	nl_policy_load(&pol, &who, unset, 0);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_eq(pol.n_keep_fds, 1);
	cr_assert_str_eq(pol.fd_transparent, "sh");
	cr_assert_str_eq(pol.kill_wrappers, "env");
	char *blank[] = { cfg_env, "NOLEAK_KEEP_FDS= ", "NOLEAK_FD_TRANSPARENT= ",
			  "NOLEAK_FD_TRAMPOLINES= ", "NOLEAK_KILL_WRAPPERS= ", NULL };
	nl_policy_load(&pol, &who, blank, 0);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_eq(pol.n_keep_fds, 0);
	cr_assert_str_eq(pol.fd_transparent, "");
	cr_assert_str_eq(pol.fd_trampolines, "");
	cr_assert_str_eq(pol.kill_wrappers, "");
}

Test(policy_env, env_overrides_a_program_section, .fini = remove_config)
{
	write_config("[program prog]\nstdin = detach\n");
	char *envp[] = { cfg_env, "NOLEAK_STDIN=keep", NULL };
	nl_policy_load(&pol, &who, envp, 0);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_KEEP);
}

Test(policy_env, env_mode_audit_brings_audit_defaults)
{
	char *envp[] = { "NOLEAK_CONFIG=/nonexistent", "NOLEAK_MODE=audit", NULL };
	nl_policy_load(&pol, &who, envp, 0);
	cr_assert_eq(pol.mode, NL_MODE_AUDIT);
	cr_assert_eq(pol.log_kind, NL_LOG_SYSLOG);
	cr_assert_eq(pol.read_warn, 30);
}

Test(policy_env, env_log_overrides_audit_default)
{
	char *envp[] = { "NOLEAK_CONFIG=/nonexistent", "NOLEAK_MODE=audit",
			 "NOLEAK_LOG=/tmp/x.jsonl", "NOLEAK_READ_WARN=0", NULL };
	nl_policy_load(&pol, &who, envp, 0);
	cr_assert_eq(pol.log_kind, NL_LOG_FILE);
	cr_assert_str_eq(pol.log_path, "/tmp/x.jsonl");
	cr_assert_eq(pol.read_warn, 0);
}

Test(policy_env, secure_ignores_the_environment_and_noleak_config,
     .fini = remove_config)
{
	write_config("mode = off\nsock_timeout = 1\n");
	char *envp[] = { cfg_env, "NOLEAK_MODE=audit", "NOLEAK_STDIN=detach",
			 "NOLEAK_LOG=/tmp/evil", NULL };
	nl_policy_load(&pol, &who, envp, 1);
	/* Whatever /etc/noleak.conf says, the file named by the caller was
	 * not read and no variable was applied. */
	cr_assert_str_neq(pol.config_path, cfg_path);
	cr_assert_neq(pol.log_kind, NL_LOG_FILE);
	for (int i = 0; i < pol.n_errors; i++)
		cr_assert_null(strstr(pol.errors[i], "NOLEAK_"), "%s",
			       pol.errors[i]);
	struct stat st;
	if (stat("/etc/noleak.conf", &st) != 0) {
		cr_assert_eq(pol.mode, NL_MODE_ENFORCE);
		cr_assert_eq(pol.stdin_mode, NL_STDIN_KEEP);
		cr_assert_eq(pol.sock_timeout, 300);
		cr_assert_eq(pol.set, 0);
		cr_assert_str_eq(pol.config_path, "");
	}
}

Test(policy_env, same_load_without_secure_obeys_both, .fini = remove_config)
{
	write_config("mode = off\nsock_timeout = 1\n");
	char *envp[] = { cfg_env, "NOLEAK_STDIN=detach", NULL };
	nl_policy_load(&pol, &who, envp, 0);
	cr_assert_eq(pol.mode, NL_MODE_OFF);
	cr_assert_eq(pol.sock_timeout, 1);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_DETACH);
}

Test(policy_env, load_starts_from_defaults)
{
	memset(&pol, 0x5a, sizeof(pol));
	char *envp[] = { "NOLEAK_CONFIG=/nonexistent", NULL };
	nl_policy_load(&pol, &who, envp, 0);
	cr_assert_eq(pol.n_errors, 0);
	cr_assert_eq(pol.errors_dropped, 0);
	cr_assert_eq(pol.set, 0);
	cr_assert_eq(pol.sock_timeout, 300);
	cr_assert_str_eq(pol.fd_trampolines, "jspawnhelper");
}

/* A secure process removes its caller's NOLEAK_* variables from environ:
 * a child it starts after setuid(0) is no longer secure and would obey
 * them. */
Test(policy_env, scrub_removes_every_noleak_variable_in_place)
{
	char *envp[] = { "NOLEAK_MODE=off", "HOME=/root", "NOLEAK_LOG=/x",
			 "NOLEAK_PGROUP_FROM=1:2", "NOLEAK=not ours",
			 "PATH=/bin", "NOLEAK_LAUNCHED=7", "NOLEAK_=", NULL,
			 "AFTER=end" };
	char **before = envp;
	cr_assert_eq(nl_policy_env_scrub(envp), 5);
	cr_assert_eq(before, envp);
	cr_assert_str_eq(envp[0], "HOME=/root");
	cr_assert_str_eq(envp[1], "NOLEAK=not ours");
	cr_assert_str_eq(envp[2], "PATH=/bin");
	cr_assert_null(envp[3]);
	cr_assert_eq(nl_policy_env_scrub(envp), 0);
	cr_assert_str_eq(envp[2], "PATH=/bin");
	cr_assert_eq(nl_policy_env_scrub(NULL), 0);
	char *empty[] = { NULL };
	cr_assert_eq(nl_policy_env_scrub(empty), 0);
	char *only[] = { "NOLEAK_MODE=off", NULL };
	cr_assert_eq(nl_policy_env_scrub(only), 1);
	cr_assert_null(only[0]);
}

/* A privileged log gets the key of a bad setting, never its text. */
Test(policy_env, secure_errors_name_the_key_not_the_value)
{
	pol.hide_values = 1;
	cr_assert_eq(nl_policy_set(&pol, "keep_fds", "x /tmp/evil.so x",
				   "/etc/noleak.conf:3"), -1);
	cr_assert_eq(pol.n_errors, 1);
	cr_assert(strstr(pol.errors[0], "keep_fds"), "%s", pol.errors[0]);
	cr_assert(strstr(pol.errors[0], "/etc/noleak.conf:3"), "%s",
		  pol.errors[0]);
	cr_assert_null(strstr(pol.errors[0], "evil"), "%s", pol.errors[0]);
	pol.hide_values = 0;
	nl_policy_set(&pol, "keep_fds", "x /tmp/evil.so x", "/etc/noleak.conf:3");
	cr_assert(strstr(pol.errors[1], "/tmp/evil.so"), "%s", pol.errors[1]);
}

Test(policy_env, secure_load_hides_values)
{
	char *envp[] = { NULL };
	nl_policy_load(&pol, &who, envp, 1);
	cr_assert_eq(pol.hide_values, 1);
	nl_policy_load(&pol, &who, envp, 0);
	cr_assert_eq(pol.hide_values, 0);
}
