/* The config file: sections, per-program matching, syntax errors, the trust
 * rule, and whole loads from real files through NOLEAK_CONFIG. */
#include <criterion/criterion.h>
#include <fcntl.h>
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

TestSuite(policy_config, .init = fresh);

static void apply(const char *text, const struct nl_identity *who)
{
	nl_policy_apply_config(&pol, text, strlen(text), "/etc/noleak.conf", who);
}

static const struct nl_identity plain = { "/usr/bin/plain", NULL, "plain", NULL };

/* --- global section and syntax --- */

Test(policy_config, global_lines_with_comments_and_blanks)
{
	apply("# a comment\n"
	      "; another comment\n"
	      "\n"
	      "   \t\n"
	      "mode = audit\n"
	      "  sock_timeout=120  \n"
	      "\tkeep_fds =3,5-7\t\n"
	      "stdin = detach\r\n"
	      "orphans = kill",        /* no final newline */
	      &plain);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_eq(pol.mode, NL_MODE_AUDIT);
	cr_assert_eq(pol.sock_timeout, 120);
	cr_assert(nl_policy_keeps_fd(&pol, 6));
	cr_assert_eq(pol.stdin_mode, NL_STDIN_DETACH);
	cr_assert_eq(pol.orphans, NL_ORPHANS_KILL);
}

Test(policy_config, every_key_from_a_file)
{
	apply("mode = off\n"
	      "log = /var/log/noleak.jsonl\n"
	      "keep_fds = 9\n"
	      "sock_timeout = 10\n"
	      "keepalive = off\n"
	      "read_warn = 11\n"
	      "read_timeout = 12\n"
	      "pgroup = never\n"
	      "orphans = keep\n"
	      "stdin = detach\n"
	      "fd_transparent = rc\n"
	      "fd_trampolines = tramp\n"
	      "sock_timeout_unix = 13\n"
	      "sock_timeout_dgram = 14\n"
	      "kill_escalate = always\n"
	      "kill_wrappers = wrap\n",
	      &plain);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_eq(pol.set, (1u << NL_KEY_COUNT) - 1, "every key marked set");
	cr_assert_eq(pol.kill_escalate, NL_ESCALATE_ALWAYS);
	cr_assert_str_eq(pol.kill_wrappers, "wrap");
	cr_assert_eq(pol.mode, NL_MODE_OFF);
	cr_assert_eq(pol.log_kind, NL_LOG_FILE);
	cr_assert_str_eq(pol.log_path, "/var/log/noleak.jsonl");
	cr_assert(nl_policy_keeps_fd(&pol, 9));
	cr_assert_eq(pol.sock_timeout, 10);
	cr_assert_eq(pol.keepalive.off, 1);
	cr_assert_eq(pol.read_warn, 11);
	cr_assert_eq(pol.read_timeout, 12);
	cr_assert_eq(pol.pgroup, NL_PGROUP_NEVER);
	cr_assert_eq(pol.orphans, NL_ORPHANS_KEEP);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_DETACH);
	cr_assert_str_eq(pol.fd_transparent, "rc");
	cr_assert_str_eq(pol.fd_trampolines, "tramp");
	cr_assert_eq(pol.sock_timeout_unix, 13);
	cr_assert_eq(pol.sock_timeout_dgram, 14);
}

Test(policy_config, unknown_key_names_the_line)
{
	apply("mode = audit\n"
	      "\n"
	      "foo = 1\n",
	      &plain);
	cr_assert_eq(pol.n_errors, 1);
	cr_assert_str_eq(pol.errors[0], "/etc/noleak.conf:3: unknown key \"foo\"");
	cr_assert_eq(pol.mode, NL_MODE_AUDIT, "the rest of the file applies");
}

Test(policy_config, bad_value_keeps_the_previous_value)
{
	apply("sock_timeout = 100\n"
	      "sock_timeout = -5\n"
	      "pgroup = always\n",
	      &plain);
	cr_assert_eq(pol.n_errors, 1);
	cr_assert_str_eq(pol.errors[0],
			 "/etc/noleak.conf:2: sock_timeout: bad value \"-5\" "
			 "(expected seconds, 0 = off, at most 315360000)");
	cr_assert_eq(pol.sock_timeout, 100);
	cr_assert_eq(pol.pgroup, NL_PGROUP_ALWAYS);
}

Test(policy_config, bad_value_keeps_the_default)
{
	apply("mode = bogus\n", &plain);
	cr_assert_eq(pol.n_errors, 1);
	cr_assert_eq(pol.mode, NL_MODE_ENFORCE);
	cr_assert_eq(pol.set, 0);
}

Test(policy_config, line_without_equals_is_an_error)
{
	apply("mode audit\n"
	      "= audit\n"
	      "stdin = detach\n",
	      &plain);
	cr_assert_eq(pol.n_errors, 2);
	cr_assert_str_eq(pol.errors[0], "/etc/noleak.conf:1: expected key = value");
	cr_assert_str_eq(pol.errors[1], "/etc/noleak.conf:2: expected key = value");
	cr_assert_eq(pol.mode, NL_MODE_ENFORCE);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_DETACH);
}

Test(policy_config, over_long_line_is_skipped_with_an_error)
{
	static char text[4096];
	char *t = text;
	t += sprintf(t, "read_timeout = 5\nlog = /");
	memset(t, 'a', 1100);
	t += 1100;
	t += sprintf(t, "\nsock_timeout = 7\n");
	apply(text, &plain);
	cr_assert_eq(pol.n_errors, 1);
	cr_assert_str_eq(pol.errors[0],
			 "/etc/noleak.conf:2: line longer than 1024 bytes");
	cr_assert_eq(pol.log_kind, NL_LOG_NONE);
	cr_assert_eq(pol.read_timeout, 5);
	cr_assert_eq(pol.sock_timeout, 7, "lines after it still apply");
}

Test(policy_config, line_of_exactly_1024_bytes_is_accepted)
{
	static char text[2048];
	char *t = text;
	t += sprintf(t, "log = /");
	memset(t, 'b', 1024 - 7);
	t += 1024 - 7;
	strcpy(t, "\n");
	apply(text, &plain);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_eq(pol.log_kind, NL_LOG_FILE);
	cr_assert_eq(strlen(pol.log_path), 1024 - 6);
}

Test(policy_config, nul_byte_makes_a_line_malformed)
{
	static const char text[] = "mode = au\0dit\nstdin = detach\n";
	nl_policy_apply_config(&pol, text, sizeof(text) - 1, "/c", &plain);
	cr_assert_eq(pol.n_errors, 1);
	cr_assert_str_eq(pol.errors[0], "/c:1: NUL byte in line");
	cr_assert_eq(pol.mode, NL_MODE_ENFORCE);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_DETACH);
}

/* A section header the walk cannot read (too long, a NUL byte) opens no
 * section: the keys under it apply to no program, not to the section
 * before it.  One row per way. */
Test(policy_config, unreadable_header_ends_the_section_before_it)
{
	static char long_header[2048];
	char *t = long_header;
	t += sprintf(t, "  [program /opt/");
	memset(t, 'a', 1100);
	t += 1100;
	strcpy(t, "]");
	static const char nul_header[] = "[program /opt/x\0y]";
	struct {
		const char *header;
		size_t len;
	} rows[] = {
		{ long_header, strlen(long_header) },
		{ nul_header, sizeof nul_header - 1 },
	};
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		static char text[4096];
		size_t n = 0;
		n += (size_t)sprintf(text, "sock_timeout = 7\n");
		memcpy(text + n, rows[i].header, rows[i].len);
		n += rows[i].len;
		n += (size_t)sprintf(text + n, "\nmode = off\nstdin = detach\n"
					       "[global]\nread_timeout = 5\n");
		nl_policy_defaults(&pol);
		nl_policy_apply_config(&pol, text, n, "/c", &plain);
		cr_assert_eq(pol.n_errors, 1, "row %zu", i);
		cr_expect_eq(pol.mode, NL_MODE_ENFORCE,
			     "row %zu: a key under the unreadable header applied", i);
		cr_expect_eq(pol.stdin_mode, NL_STDIN_KEEP, "row %zu", i);
		cr_expect_eq(pol.sock_timeout, 7, "row %zu", i);
		cr_expect_eq(pol.read_timeout, 5, "row %zu: [global] after it", i);
	}
}

Test(policy_config, only_len_bytes_are_read)
{
	const char *text = "mode = audit\nstdin = detach\n";
	nl_policy_apply_config(&pol, text, 13, "/c", &plain);
	cr_assert_eq(pol.mode, NL_MODE_AUDIT);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_KEEP);
}

Test(policy_config, bad_section_header_skips_its_lines)
{
	apply("[prog plain]\n"
	      "mode = off\n"
	      "[program]\n"
	      "mode = off\n"
	      "[program plain\n"
	      "mode = off\n"
	      "[global]\n"
	      "stdin = detach\n",
	      &plain);
	cr_assert_eq(pol.n_errors, 3);
	cr_assert_str_eq(pol.errors[0],
			 "/etc/noleak.conf:1: bad section header "
			 "(expected [global] or [program NAME])");
	cr_assert(strncmp(pol.errors[1], "/etc/noleak.conf:3: ", 20) == 0);
	cr_assert(strncmp(pol.errors[2], "/etc/noleak.conf:5: ", 20) == 0);
	cr_assert_eq(pol.mode, NL_MODE_ENFORCE);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_DETACH);
}

Test(policy_config, errors_in_other_programs_sections_are_not_reported)
{
	apply("[program other]\n"
	      "no_such_key = 1\n"
	      "mode = bogus\n",
	      &plain);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
}

Test(policy_config, errors_in_own_section_are_reported_once)
{
	apply("[program plain]\n"
	      "no_such_key = 1\n",
	      &plain);
	cr_assert_eq(pol.n_errors, 1);
	cr_assert_str_eq(pol.errors[0],
			 "/etc/noleak.conf:2: unknown key \"no_such_key\"");
}

/* --- per-program sections --- */

static const char sections[] =
	"sock_timeout = 100\n"
	"[program /usr/sbin/legacy-agent]\n"
	"stdin = detach\n"
	"read_timeout = 600\n"
	"[program python*]\n"
	"sock_timeout = 0\n"
	"[program /opt/app/run.sh]\n"
	"orphans = kill\n"
	"[program deploy.sh]\n"
	"pgroup = always\n";

Test(policy_config, section_by_executable_path)
{
	struct nl_identity who = { "/usr/sbin/legacy-agent", "/usr/sbin/legacy-agent",
				   "legacy-agent", NULL };
	apply(sections, &who);
	cr_assert_eq(pol.n_errors, 0);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_DETACH);
	cr_assert_eq(pol.read_timeout, 600);
	cr_assert_eq(pol.sock_timeout, 100, "the global section still applies");
	cr_assert_eq(pol.orphans, NL_ORPHANS_LOG);
}

/* Start-up leaves the executable unread (exe NULL) until a section's
 * pattern matches neither AT_EXECFN nor argv[0]. */
static int exe_asked;
static const char *agent_exe(void)
{
	exe_asked++;
	return "/usr/sbin/legacy-agent";
}

Test(policy_config, the_executable_is_read_only_when_the_other_names_fail)
{
	struct nl_identity by_execfn = { NULL, "/usr/sbin/legacy-agent",
					 "legacy-agent", agent_exe };
	exe_asked = 0;
	apply("[program /usr/sbin/legacy-agent]\nread_timeout = 600\n",
	      &by_execfn);
	cr_assert_eq(pol.read_timeout, 600);
	cr_expect_eq(exe_asked, 0, "AT_EXECFN matched: no need to read it");

	fresh();
	struct nl_identity by_exe = { NULL, "/usr/local/bin/agent", "agent",
				      agent_exe };
	apply(sections, &by_exe);
	cr_assert_eq(pol.read_timeout, 600, "matched by the executable");
	cr_expect_geq(exe_asked, 1);

	fresh();
	struct nl_identity unknown = { NULL, "/usr/local/bin/agent", "agent",
				       NULL };
	apply(sections, &unknown);
	cr_assert_eq(pol.read_timeout, 0);
}

Test(policy_config, path_pattern_does_not_match_a_basename_alone)
{
	struct nl_identity who = { "/opt/other/legacy-agent", NULL,
				   "legacy-agent", NULL };
	apply(sections, &who);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_KEEP);
	cr_assert_eq(pol.read_timeout, 0);
}

Test(policy_config, section_by_basename_glob)
{
	struct nl_identity who = { "/usr/bin/python3.11", NULL, "python3", NULL };
	apply(sections, &who);
	cr_assert_eq(pol.sock_timeout, 0, "the program section wins");
	cr_assert_eq(pol.stdin_mode, NL_STDIN_KEEP);
}

Test(policy_config, basename_glob_matches_argv0_when_exe_differs)
{
	/* A symlinked or renamed interpreter: exe says one thing, argv[0]
	 * another. */
	struct nl_identity who = { "/usr/bin/cpython-bin", NULL,
				   "/usr/local/bin/python", NULL };
	apply(sections, &who);
	cr_assert_eq(pol.sock_timeout, 0);
}

Test(policy_config, glob_does_not_match_other_programs)
{
	struct nl_identity who = { "/usr/bin/ipython", NULL, "ipython", NULL };
	apply(sections, &who);
	cr_assert_eq(pol.sock_timeout, 100);
}

Test(policy_config, script_by_execfn_path)
{
	/* The kernel runs a script's interpreter: exe is the interpreter,
	 * AT_EXECFN the script. */
	struct nl_identity who = { "/usr/bin/bash", "/opt/app/run.sh",
				   "/bin/bash", NULL };
	apply(sections, &who);
	cr_assert_eq(pol.orphans, NL_ORPHANS_KILL);
}

Test(policy_config, script_by_argv0_path)
{
	struct nl_identity who = { "/usr/bin/dash", NULL, "/opt/app/run.sh", NULL };
	apply(sections, &who);
	cr_assert_eq(pol.orphans, NL_ORPHANS_KILL);
}

Test(policy_config, script_by_basename_of_execfn_and_argv0)
{
	struct nl_identity by_execfn = { "/usr/bin/bash", "./deploy.sh", "bash", NULL };
	apply(sections, &by_execfn);
	cr_assert_eq(pol.pgroup, NL_PGROUP_ALWAYS);

	fresh();
	struct nl_identity by_argv0 = { "/usr/bin/bash", NULL,
					 "/srv/tools/deploy.sh", NULL };
	apply(sections, &by_argv0);
	cr_assert_eq(pol.pgroup, NL_PGROUP_ALWAYS);
}

Test(policy_config, no_identity_means_global_only)
{
	apply(sections, NULL);
	cr_assert_eq(pol.sock_timeout, 100);
	cr_assert_eq(pol.pgroup, NL_PGROUP_AUTO);

	fresh();
	struct nl_identity empty = { "", NULL, NULL, NULL };
	apply(sections, &empty);
	cr_assert_eq(pol.sock_timeout, 100);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_KEEP);
}

Test(policy_config, program_section_beats_a_later_global_section)
{
	struct nl_identity who = { "/usr/bin/python3", NULL, "python3", NULL };
	apply("[program python3]\n"
	      "mode = off\n"
	      "[global]\n"
	      "mode = audit\n"
	      "read_warn = 9\n",
	      &who);
	cr_assert_eq(pol.mode, NL_MODE_OFF);
	cr_assert_eq(pol.read_warn, 9);

	fresh();
	apply("[program python3]\n"
	      "mode = off\n"
	      "[global]\n"
	      "mode = audit\n",
	      &plain);
	cr_assert_eq(pol.mode, NL_MODE_AUDIT);
}

Test(policy_config, matching_sections_apply_in_file_order)
{
	struct nl_identity who = { "/usr/bin/python3", NULL, "python3", NULL };
	apply("[program python*]\n"
	      "sock_timeout = 1\n"
	      "read_timeout = 1\n"
	      "[program python3]\n"
	      "sock_timeout = 2\n",
	      &who);
	cr_assert_eq(pol.sock_timeout, 2);
	cr_assert_eq(pol.read_timeout, 1);
}

Test(policy_config, header_whitespace_and_bracket_globs)
{
	struct nl_identity who = { "/usr/bin/ruby3", NULL, "ruby3", NULL };
	apply("  [ program   ruby[0-9] ]  \n"
	      "stdin = detach\n",
	      &who);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_DETACH);
}

/* --- trust --- */

static struct stat good_stat(void)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0644;
	st.st_uid = 0;
	return st;
}

Test(policy_config, trusted_when_root_owned_regular_not_shared_writable)
{
	struct stat st = good_stat();
	cr_assert(nl_policy_config_trusted(&st, 1000));
	cr_assert(nl_policy_config_trusted(&st, 0));
	st.st_mode = S_IFREG | 0600;
	cr_assert(nl_policy_config_trusted(&st, 1000));
	st.st_mode = S_IFREG | 0444;
	cr_assert(nl_policy_config_trusted(&st, 1000));
}

Test(policy_config, trusted_when_owned_by_the_effective_user)
{
	struct stat st = good_stat();
	st.st_uid = 1000;
	cr_assert(nl_policy_config_trusted(&st, 1000));
}

Test(policy_config, distrusted_when_owned_by_another_user)
{
	struct stat st = good_stat();
	st.st_uid = 1001;
	cr_assert_not(nl_policy_config_trusted(&st, 1000));
	cr_assert_not(nl_policy_config_trusted(&st, 0),
		      "root does not trust a user's file");
	cr_assert_str_eq(nl_policy_config_distrust(&st, 1000),
			 "not owned by root or the effective user");
}

Test(policy_config, distrusted_when_group_writable)
{
	struct stat st = good_stat();
	st.st_mode = S_IFREG | 0664;
	cr_assert_not(nl_policy_config_trusted(&st, 0));
	cr_assert_str_eq(nl_policy_config_distrust(&st, 0),
			 "writable by group or others");
}

Test(policy_config, distrusted_when_other_writable)
{
	struct stat st = good_stat();
	st.st_mode = S_IFREG | 0646;
	cr_assert_not(nl_policy_config_trusted(&st, 0));
	st.st_uid = 1000;
	cr_assert_not(nl_policy_config_trusted(&st, 1000));
}

Test(policy_config, distrusted_when_not_a_regular_file)
{
	static const mode_t types[] = { S_IFDIR, S_IFIFO, S_IFCHR, S_IFBLK,
					S_IFSOCK, S_IFLNK };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct stat st = good_stat();
		st.st_mode = types[i] | 0644;
		cr_assert_not(nl_policy_config_trusted(&st, 0), "type %o",
			      (unsigned)types[i]);
		cr_assert_str_eq(nl_policy_config_distrust(&st, 0),
				 "not a regular file");
	}
}

/* --- whole loads from real files --- */

static char cfg_path[64];
static char cfg_env[96];

/* Write a config file with the given mode; its owner is whoever runs the
 * tests, which is the effective uid and so trusted. */
static void write_config(const char *text, mode_t mode)
{
	strcpy(cfg_path, "/tmp/noleak-policy-XXXXXX");
	int fd = mkstemp(cfg_path);
	cr_assert_geq(fd, 0);
	size_t len = strlen(text);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
	snprintf(cfg_env, sizeof(cfg_env), "NOLEAK_CONFIG=%s", cfg_path);
}

static void remove_config(void)
{
	if (cfg_path[0] != '\0')
		unlink(cfg_path);
	cfg_path[0] = '\0';
}

Test(policy_config, load_reads_the_file_named_by_noleak_config,
     .fini = remove_config)
{
	write_config("mode = audit\n"
		     "sock_timeout = 42\n"
		     "[program legacy-agent]\n"
		     "stdin = detach\n",
		     0644);
	char *envp[] = { "PATH=/usr/bin", cfg_env, NULL };
	struct nl_identity who = { "/usr/sbin/legacy-agent", NULL,
				   "legacy-agent", NULL };
	nl_policy_load(&pol, &who, envp, 0);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_str_eq(pol.config_path, cfg_path);
	cr_assert_eq(pol.mode, NL_MODE_AUDIT);
	cr_assert_eq(pol.sock_timeout, 42);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_DETACH);
	/* finish ran: audit's defaults for keys the file did not set. */
	cr_assert_eq(pol.log_kind, NL_LOG_SYSLOG);
	cr_assert_eq(pol.read_warn, 30);
}

Test(policy_config, load_records_errors_with_the_file_path,
     .fini = remove_config)
{
	write_config("mode = enforce\nfoo = bar\n", 0600);
	char *envp[] = { cfg_env, NULL };
	nl_policy_load(&pol, &plain, envp, 0);
	cr_assert_eq(pol.n_errors, 1);
	char want[160];
	snprintf(want, sizeof(want), "%s:2: unknown key \"foo\"", cfg_path);
	cr_assert_str_eq(pol.errors[0], want);
}

Test(policy_config, load_without_a_file_is_not_an_error)
{
	char *envp[] = { "NOLEAK_CONFIG=/nonexistent/noleak.conf", NULL };
	nl_policy_load(&pol, &plain, envp, 0);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_str_eq(pol.config_path, "");
	cr_assert_eq(pol.mode, NL_MODE_ENFORCE);
	cr_assert_eq(pol.sock_timeout, 300);
}

Test(policy_config, load_ignores_a_group_writable_file, .fini = remove_config)
{
	write_config("mode = off\n", 0664);
	char *envp[] = { cfg_env, NULL };
	nl_policy_load(&pol, &plain, envp, 0);
	cr_assert_eq(pol.mode, NL_MODE_ENFORCE);
	cr_assert_eq(pol.n_errors, 1);
	char want[160];
	snprintf(want, sizeof(want), "%s: ignored: writable by group or others",
		 cfg_path);
	cr_assert_str_eq(pol.errors[0], want);
	cr_assert_str_eq(pol.config_path, "");
}

Test(policy_config, load_ignores_an_other_writable_file, .fini = remove_config)
{
	write_config("mode = off\n", 0602);
	char *envp[] = { cfg_env, NULL };
	nl_policy_load(&pol, &plain, envp, 0);
	cr_assert_eq(pol.mode, NL_MODE_ENFORCE);
	cr_assert_eq(pol.n_errors, 1);
}

Test(policy_config, load_ignores_a_directory)
{
	char *envp[] = { "NOLEAK_CONFIG=/tmp", NULL };
	nl_policy_load(&pol, &plain, envp, 0);
	cr_assert_eq(pol.n_errors, 1);
	cr_assert_str_eq(pol.errors[0], "/tmp: ignored: not a regular file");
}

Test(policy_config, load_does_not_hang_on_a_fifo, .timeout = 5)
{
	char path[] = "/tmp/noleak-fifo-XXXXXX";
	cr_assert_not_null(mkdtemp(path));
	char fifo[64], env[96];
	snprintf(fifo, sizeof(fifo), "%s/conf", path);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	snprintf(env, sizeof(env), "NOLEAK_CONFIG=%s", fifo);
	char *envp[] = { env, NULL };
	nl_policy_load(&pol, &plain, envp, 0);
	unlink(fifo);
	rmdir(path);
	cr_assert_eq(pol.n_errors, 1);
	cr_assert(strstr(pol.errors[0], "not a regular file"));
}

Test(policy_config, load_applies_complete_lines_of_an_over_large_file,
     .fini = remove_config)
{
	/* 64 KiB of comments with a key on each side of the limit; the line
	 * that straddles the limit is cut, so it must not apply either. */
	static char text[70 * 1024];
	size_t n = (size_t)sprintf(text, "mode = audit\n");
	while (n < 65536 - 40)
		n += (size_t)sprintf(text + n, "# padding padding padding\n");
	while (n < 65536 - 20)
		text[n++] = '#';
	n += (size_t)sprintf(text + n, "\nsock_timeout = 3000000\n");
	n += (size_t)sprintf(text + n, "stdin = detach\n");
	cr_assert_gt(n, 65536);
	write_config(text, 0644);
	char *envp[] = { cfg_env, NULL };
	nl_policy_load(&pol, &plain, envp, 0);
	cr_assert_eq(pol.mode, NL_MODE_AUDIT);
	cr_assert_eq(pol.sock_timeout, 300, "the cut line is not applied");
	cr_assert_eq(pol.stdin_mode, NL_STDIN_KEEP);
	cr_assert_eq(pol.n_errors, 1);
	cr_assert(strstr(pol.errors[0], "larger than 65536 bytes"), "%s",
		  pol.errors[0]);
	cr_assert_str_eq(pol.config_path, cfg_path);
}

Test(policy_config, load_accepts_a_file_of_exactly_64_kib, .fini = remove_config)
{
	static char text[65536 + 1];
	size_t n = (size_t)sprintf(text, "mode = audit\n");
	while (n < 65536 - 60)
		n += (size_t)sprintf(text + n, "# padding padding padding\n");
	n += (size_t)sprintf(text + n, "stdin = detach");
	while (n < 65535)
		text[n++] = ' ';
	text[n++] = '\n';
	cr_assert_eq(n, 65536);
	text[n] = '\0';
	write_config(text, 0644);
	char *envp[] = { cfg_env, NULL };
	nl_policy_load(&pol, &plain, envp, 0);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_DETACH);
}

Test(policy_config, load_refuses_an_over_long_config_path)
{
	char env[400] = "NOLEAK_CONFIG=/";
	memset(env + 15, 'p', 300);
	env[315] = '\0';
	char *envp[] = { env, NULL };
	nl_policy_load(&pol, &plain, envp, 0);
	cr_assert_eq(pol.n_errors, 1);
	cr_assert_str_eq(pol.errors[0],
			 "NOLEAK_CONFIG: path longer than 255 bytes");
	cr_assert_str_eq(pol.config_path, "");
}

/* --- the shipped example --- */

/* policy/noleak.conf.example with every "#key = value" and "#[program ...]"
 * line uncommented: it must parse cleanly and its global section must
 * restate every default. */
Test(policy_config, example_file_shows_every_default)
{
	const char *topdir = getenv("NOLEAK_TOP");
	char path[512];
	snprintf(path, sizeof(path), "%s/policy/noleak.conf.example",
		 topdir ? topdir : ".");
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "cannot open %s (run from the source tree)", path);
	static char text[65536];
	size_t n = 0;
	char line[1100];
	while (fgets(line, sizeof(line), f)) {
		const char *s = line;
		if (s[0] == '#' && s[1] != ' ' && s[1] != '#' && s[1] != '\n')
			s++;
		size_t len = strlen(s);
		cr_assert_lt(n + len, sizeof(text));
		memcpy(text + n, s, len);
		n += len;
	}
	fclose(f);

	struct nl_policy def;
	nl_policy_defaults(&def);
	nl_policy_apply_config(&pol, text, n, path, &plain);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_eq(pol.set, (1u << NL_KEY_COUNT) - 1, "every key shown");
	pol.set = 0;
	/* The lists given are text of the policy's own, the defaults text
	 * of the library's: compared as text, then left out. */
	cr_assert_str_eq(pol.fd_transparent, def.fd_transparent);
	cr_assert_str_eq(pol.fd_trampolines, def.fd_trampolines);
	cr_assert_str_eq(pol.kill_wrappers, def.kill_wrappers);
	pol.fd_transparent = def.fd_transparent;
	pol.fd_trampolines = def.fd_trampolines;
	pol.kill_wrappers = def.kill_wrappers;
	memset(pol.names, 0, sizeof pol.names);
	cr_assert(memcmp(&pol, &def, sizeof(def)) == 0,
		  "a global value differs from the default");

	/* Its sections are well-formed and reach the programs they name. */
	struct nl_identity agent = { "/usr/sbin/legacy-agent", NULL,
				     "legacy-agent", NULL };
	fresh();
	nl_policy_apply_config(&pol, text, n, path, &agent);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_DETACH);
	cr_assert_eq(pol.read_timeout, 600);
	cr_assert_eq(pol.sock_timeout, 300);
}

/* --- drop-ins: CONFIG.d, files named *.conf --- */

static char dd_top[64], dd_conf[96], dd_dir[100], dd_env[128];

static void dd_file(const char *name, const char *text, mode_t mode)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", name[0] == '/' ? "" : dd_dir,
		 name[0] == '/' ? name + 1 : name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(chmod(path, mode), 0);
}

/* TOP/noleak.conf and TOP/noleak.conf.d/, NOLEAK_CONFIG naming the file. */
static void dd_setup(const char *main_text)
{
	strcpy(dd_top, "/tmp/noleak-dropin-XXXXXX");
	cr_assert_not_null(mkdtemp(dd_top));
	snprintf(dd_conf, sizeof(dd_conf), "%s/noleak.conf", dd_top);
	snprintf(dd_dir, sizeof(dd_dir), "%s.d", dd_conf);
	snprintf(dd_env, sizeof(dd_env), "NOLEAK_CONFIG=%s", dd_conf);
	cr_assert_eq(mkdir(dd_dir, 0755), 0);
	if (main_text != NULL) {
		FILE *f = fopen(dd_conf, "w");
		cr_assert_not_null(f);
		fputs(main_text, f);
		fclose(f);
		chmod(dd_conf, 0644);
	}
}

static void dd_teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dd_top);
	cr_assert_eq(system(cmd), 0);
}

static void dd_load(const struct nl_identity *who)
{
	char *envp[] = { dd_env, NULL };
	nl_policy_load(&pol, who, envp, 0);
}

static const struct nl_identity agent = { "/usr/sbin/agent", NULL, "agent", NULL };

Test(policy_config, dropins_apply_in_lexical_order_after_the_main_file,
     .fini = dd_teardown)
{
	dd_setup("sock_timeout = 10\nread_timeout = 5\n");
	/* Created out of order: the order is the names', not the
	 * directory's. */
	dd_file("20-b.conf", "sock_timeout = 30\n", 0644);
	dd_file("10-a.conf", "sock_timeout = 20\nread_warn = 7\n", 0644);
	dd_file("30-c.conf", "read_warn = 8\n", 0644);
	dd_load(&plain);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_eq(pol.sock_timeout, 30);
	cr_assert_eq(pol.read_warn, 8);
	cr_assert_eq(pol.read_timeout, 5);
	cr_assert_str_eq(pol.config_path, dd_conf);
}

Test(policy_config, dropin_program_section_without_a_main_file,
     .fini = dd_teardown)
{
	dd_setup(NULL);
	dd_file("agent.conf", "[program agent]\nstdin = detach\n", 0644);
	dd_load(&agent);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_DETACH);
	dd_load(&plain);
	cr_assert_eq(pol.stdin_mode, NL_STDIN_KEEP);
}

/* Global sections of every file first, then program sections: a later
 * drop-in's global line does not undo the main file's program section. */
Test(policy_config, dropin_globals_never_override_program_sections,
     .fini = dd_teardown)
{
	dd_setup("[program agent]\nsock_timeout = 99\n");
	dd_file("50-site.conf", "sock_timeout = 40\n", 0644);
	dd_load(&agent);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_eq(pol.sock_timeout, 99);
	dd_load(&plain);
	cr_assert_eq(pol.sock_timeout, 40);
}

Test(policy_config, dropins_only_named_conf_and_not_hidden,
     .fini = dd_teardown)
{
	dd_setup("");
	dd_file("a.conf.dpkg-old", "mode = off\n", 0644);
	dd_file(".hidden.conf", "mode = off\n", 0644);
	dd_file("b.conf~", "mode = off\n", 0644);
	dd_file("README", "mode = off\n", 0644);
	dd_load(&plain);
	cr_assert_eq(pol.n_errors, 0, "%s", pol.errors[0]);
	cr_assert_eq(pol.mode, NL_MODE_ENFORCE);
}

Test(policy_config, dropin_under_the_trust_rule_each_on_its_own,
     .fini = dd_teardown)
{
	dd_setup("");
	dd_file("10-bad.conf", "mode = off\n", 0666);
	dd_file("20-good.conf", "sock_timeout = 12\n", 0644);
	dd_load(&plain);
	cr_assert_eq(pol.mode, NL_MODE_ENFORCE);
	cr_assert_eq(pol.sock_timeout, 12);
	cr_assert_eq(pol.n_errors, 1);
	char want[200];
	snprintf(want, sizeof(want),
		 "%s/10-bad.conf: ignored: writable by group or others", dd_dir);
	cr_assert_str_eq(pol.errors[0], want);
}

Test(policy_config, dropin_directory_others_may_write_is_ignored,
     .fini = dd_teardown)
{
	dd_setup("");
	dd_file("10-a.conf", "mode = off\n", 0644);
	cr_assert_eq(chmod(dd_dir, 0777), 0);
	dd_load(&plain);
	cr_assert_eq(pol.mode, NL_MODE_ENFORCE);
	cr_assert_eq(pol.n_errors, 1);
	char want[200];
	snprintf(want, sizeof(want), "%s: ignored: writable by group or others",
		 dd_dir);
	cr_assert_str_eq(pol.errors[0], want);
}

/* Errors in a file read twice (global pass, program pass) are reported
 * once, and errors carry the drop-in's path and line. */
Test(policy_config, dropin_errors_name_the_file_and_come_once,
     .fini = dd_teardown)
{
	dd_setup("bad line\n");
	dd_file("a.conf", "\n[program agent]\nfoo = 1\nnot a pair\n", 0644);
	dd_load(&agent);
	cr_assert_eq(pol.n_errors, 3);
	char want[200];
	snprintf(want, sizeof(want), "%s:1: expected key = value", dd_conf);
	cr_assert_str_eq(pol.errors[0], want);
	snprintf(want, sizeof(want), "%s/a.conf:4: expected key = value", dd_dir);
	cr_assert_str_eq(pol.errors[1], want);
	snprintf(want, sizeof(want), "%s/a.conf:3: unknown key \"foo\"", dd_dir);
	cr_assert_str_eq(pol.errors[2], want);
}

/* A secure process run by its own effective user (set-group-ID, file
 * capabilities) trusts root alone; any other, its effective user too. */
Test(policy_config, trusted_uid_is_root_alone_when_secure_and_run_as_itself)
{
	cr_assert_eq(nl_policy_trusted_uid(0), geteuid());
	cr_assert_eq(nl_policy_trusted_uid(1),
		     geteuid() == getuid() ? 0 : geteuid());
}
