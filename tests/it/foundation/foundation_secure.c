/* A set-user-ID program: the shim is loaded, obeys the config file,
 * ignores the caller's environment and scrubs it of every NOLEAK_* variable,
 * never quotes a rejected value into its log, and never logs into a file
 * someone else could have put in its way; nor does a set-group-ID one its
 * user runs, nor a root process that obeys NOLEAK_LOG (into a file that is
 * no log, or a kernel setting).
 *
 * The library is loaded the way a host loads it for every program,
 * set-user-ID ones included: through /etc/ld.so.preload (the loader ignores
 * LD_PRELOAD paths with a slash in secure mode).  To leave the machine's
 * /etc alone, the test prepares a copy of /etc with ld.so.preload and
 * noleak.conf and bind-mounts it over /etc in a private mount namespace.
 * The program runs as nobody; it is a copy of found_suid owned by root with
 * mode 4755.  Needs root (mount namespace, chown, setuid bit). */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../lib/ns.h"
#include "../../lib/files.h"
#include "../../lib/run.h"

#define TIMEOUT 20.0
#define NOBODY "65534"

static struct run_result r;
static char dir[256];  /* tmpdir() paths are short */

static const char *in_dir(const char *name)
{
	static char buf[8][PATH_MAX];
	static int next;
	char *out = buf[next++ % 8];
	snprintf(out, PATH_MAX, "%s/%s", dir, name);
	return out;
}

static void sh(const char *cmd)
{
	cr_assert_eq(run_sh(&r, cmd, NULL, 0, TIMEOUT), 0);
	cr_assert_eq(exit_code(&r), 0, "%s: %s", cmd, r.err);
}


/* The config file every process in the namespace reads. */
static void set_config(const char *text)
{
	write_file(in_dir("etc/noleak.conf"), text, 0644);
}

/* DIR (0755, root): suid (4755) and plain (0755) copies of found_suid,
 * static_env, libnoleak.so, and etc/, a copy of /etc whose ld.so.preload
 * names that library. */
static void prepare(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: a setuid-root program, a mount namespace");
	snprintf(dir, sizeof dir, "%s", tmpdir());
	cr_assert_eq(chmod(dir, 0755), 0, "nobody must reach the program");
	char cmd[PATH_MAX * 4];
	snprintf(cmd, sizeof cmd,
		 "cp '%s' '%s/suid' && cp '%s' '%s/plain' && cp '%s' '%s/' && "
		 "cp '%s' '%s/static_env' && chmod 4755 '%s/suid' && "
		 "chmod 0755 '%s/plain' '%s/libnoleak.so' '%s/static_env'",
		 top("build/fixtures/found_suid"), dir,
		 top("build/fixtures/found_suid"), dir, shim_path(), dir,
		 top("build/fixtures/static_env"), dir, dir, dir, dir, dir);
	sh(cmd);
	ns_copy_etc(in_dir("etc"));
	char preload[PATH_MAX];
	snprintf(preload, sizeof preload, "%s\n", in_dir("libnoleak.so"));
	write_file(in_dir("etc/ld.so.preload"), preload, 0644);
}

/* Run DIR/program with `args` (shell words, may be "") as nobody, with
 * `env_vars` ("K=V K=V", may be "") set just for it, in a namespace where
 * the copy of /etc is /etc, after the shell commands `setup` (may be ""). */
static void run_as_nobody_in(const char *setup, const char *program,
			     const char *args, const char *env_vars)
{
	char script[PATH_MAX * 8];
	snprintf(script, sizeof script,
		 "%s\nexec setpriv --reuid=" NOBODY " --regid=" NOBODY
		 " --clear-groups -- env %s '%s' %s",
		 setup, env_vars, in_dir(program), args);
	ns_run_with_etc(&r, in_dir("etc"), script, TIMEOUT);
	cr_assert(!r.timed_out);
	cr_assert_eq(exit_code(&r), 0, "status %d, stdout: %s, stderr: %s",
		     r.status, r.out, r.err);
}

static void run_as_nobody(const char *program, const char *env_vars)
{
	run_as_nobody_in("", program, "", env_vars);
}

static void expect_line(const char *line)
{
	cr_expect(count_lines_with(r.out, line) == 1, "want \"%s\" in:\n%s%s",
		  line, r.out, r.err);
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void cleanup(void)
{
	ns_remove_test_dir(dir);
}

TestSuite(foundation_secure, .init = prepare, .fini = cleanup, .timeout = 60);

Test(foundation_secure, config_file_applies_and_environment_does_not)
{
	char conf[PATH_MAX * 2], env[PATH_MAX * 4];
	snprintf(conf, sizeof conf, "mode = audit\nlog = %s\n",
		 in_dir("secure.log"));
	set_config(conf);
	write_file(in_dir("other.conf"), "mode = enforce\n", 0644);
	snprintf(env, sizeof env,
		 "NOLEAK_MODE=enforce NOLEAK_LOG='%s' NOLEAK_CONFIG='%s'",
		 in_dir("attacker.log"), in_dir("other.conf"));
	run_as_nobody("suid", env);
	expect_line("secure=1");
	expect_line("ruid=65534 euid=0");
	expect_line("shim_mapped=1");
	/* audit from /etc/noleak.conf, not enforce from NOLEAK_MODE or from
	 * the file NOLEAK_CONFIG names. */
	expect_line("pipe_cloexec=0");
	const char *log = slurp(in_dir("secure.log"));
	cr_expect_geq(count_lines_with(log, "\"event\":\"fd_leak\""), 1,
		      "no events in the configured log: %s", log);
	cr_expect_geq(count_lines_with(log, "\"mode\":\"audit\""), 1, "%s", log);
	cr_expect(strstr(log, "/suid\""), "events not from the program: %s", log);
	cr_expect(!exists(in_dir("attacker.log")),
		  "NOLEAK_LOG was obeyed in a setuid program");
}

Test(foundation_secure, mode_off_in_the_environment_is_ignored)
{
	char conf[PATH_MAX * 2], env[PATH_MAX * 2];
	snprintf(conf, sizeof conf, "log = %s\n", in_dir("secure.log"));
	set_config(conf);
	snprintf(env, sizeof env, "NOLEAK_MODE=off NOLEAK_LOG='%s'",
		 in_dir("attacker.log"));
	run_as_nobody("suid", env);
	expect_line("secure=1");
	expect_line("shim_mapped=1");
	/* enforce, the default, since the file sets no mode. */
	expect_line("pipe_cloexec=1");
	cr_expect(!exists(in_dir("attacker.log")),
		  "NOLEAK_LOG was obeyed in a setuid program");
}

/* In a setuid-root program only root's config counts: a file the invoking
 * user owns is not trusted, even at the trusted path. */
Test(foundation_secure, config_owned_by_the_caller_is_ignored)
{
	set_config("mode = off\n");
	cr_assert_eq(chown(in_dir("etc/noleak.conf"), 65534, 65534), 0);
	run_as_nobody("suid", "");
	expect_line("secure=1");
	expect_line("shim_mapped=1");
	expect_line("pipe_cloexec=1");
}

/* The same program without the setuid bit: not secure, so the environment
 * wins over the config file as usual. */
Test(foundation_secure, without_setuid_the_environment_is_honoured)
{
	set_config("mode = audit\n");
	run_as_nobody("plain", "NOLEAK_MODE=enforce");
	expect_line("secure=0");
	expect_line("ruid=65534 euid=65534");
	expect_line("shim_mapped=1");
	expect_line("pipe_cloexec=1");
}

/* --- the environment is scrubbed --- */

#define CALLER_VARS                                                           \
	"NOLEAK_MODE=enforce NOLEAK_KEEP_FDS='x /tmp/evil.so x' "             \
	"NOLEAK_CONFIG=/nonexistent NOLEAK_PGROUP_FROM=1:1 "                  \
	"NOLEAK_LAUNCHED=1 NOLEAK_TEST_OWN=1 KEEP_ME=1"

/* A set-user-ID wrapper that becomes root for good (setuid(0)) and execs a
 * program with its environment: the program is not secure, and would obey
 * every NOLEAK_* variable the caller left there.  Reproduced: NOLEAK_LOG
 * aimed a root process's config_error, quoting NOLEAK_KEEP_FDS, into
 * /etc/ld.so.preload. */
Test(foundation_secure, child_of_a_setuid_wrapper_gets_no_noleak_variable)
{
	char env[PATH_MAX * 2], args[PATH_MAX];
	set_config("mode = audit\n");
	write_file(in_dir("victim"), "precious\n", 0644);
	snprintf(env, sizeof env, "NOLEAK_LOG='%s' " CALLER_VARS,
		 in_dir("victim"));

	/* What the wrapper passes on, seen by a program no preload reaches. */
	snprintf(args, sizeof args, "--as-root '%s'", in_dir("static_env"));
	run_as_nobody_in("", "suid", args, env);
	cr_expect(strstr(r.out, "KEEP_ME=1\n"), "%s", r.out);
	cr_expect_null(strstr(r.out, "NOLEAK_"), "passed on:\n%s", r.out);

	/* A program under the shim, root and not secure. */
	snprintf(args, sizeof args, "--as-root '%s'", in_dir("plain"));
	run_as_nobody_in("", "suid", args, env);
	expect_line("secure=0");
	expect_line("ruid=0 euid=0");
	expect_line("shim_mapped=1");
	expect_line("pipe_cloexec=0");  /* audit, from the config file */
	cr_expect_str_eq(slurp(in_dir("victim")), "precious\n",
			 "the caller's NOLEAK_LOG was obeyed by root");
}

/* A library the program links runs its constructor before the shim's; the
 * shim starts on that constructor's first interposed call, and scrubs
 * there, before the constructor starts a program of its own. */
Test(foundation_secure, scrubbed_before_an_earlier_constructor_runs_a_program)
{
	char cmd[PATH_MAX * 6], env[PATH_MAX * 3];
	snprintf(cmd, sizeof cmd,
		 "cp '%s' '%s' && ${CC:-cc} -std=gnu11 -O2 -o '%s' '%s' "
		 "-Wl,--no-as-needed '%s' -Wl,-rpath,'%s' && chmod 4755 '%s'",
		 top("build/fixtures/found_early.so"), in_dir("found_early.so"),
		 in_dir("early_main"), top("tests/fixtures/foundation/found_early_main.c"),
		 in_dir("found_early.so"), dir, in_dir("early_main"));
	sh(cmd);
	set_config("mode = audit\n");
	snprintf(env, sizeof env,
		 "FOUND_EARLY_OUT='%s' FOUND_EARLY_CHECKER='%s' " CALLER_VARS,
		 in_dir("early.out"), in_dir("static_env"));
	run_as_nobody("early_main", env);
	cr_expect_str_eq(r.out, "main reached\n");
	const char *out = slurp(in_dir("early.out"));
	cr_expect(strstr(out, "\nKEEP_ME=1\n"), "the checker did not run: %s",
		  out);
	cr_expect(strstr(out, "early: child_status=0\n"), "%s", out);
	cr_expect_null(strstr(out, "NOLEAK_"), "passed on:\n%s", out);
}

/* --- what a privileged process writes to its log --- */

/* Lines of `text` that contain both needles. */
static int lines_with_both(const char *text, const char *a, const char *b)
{
	int n = 0;
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (memmem(line, len, a, strlen(a)) && memmem(line, len, b, strlen(b)))
			n++;
		line = nl ? nl + 1 : NULL;
	}
	return n;
}

/* "exe":"DIR/suid": lines the set-user-ID program wrote (setpriv and env,
 * which start it, read the same config). */
static const char *by_suid(void)
{
	static char exe[PATH_MAX + 16];
	snprintf(exe, sizeof exe, "\"exe\":\"%s\"", in_dir("suid"));
	return exe;
}

Test(foundation_secure, config_error_names_the_key_not_the_value)
{
	char conf[PATH_MAX * 2];
	snprintf(conf, sizeof conf, "log = %s\nkeep_fds = x /tmp/evil.so x\n",
		 in_dir("secure.log"));
	set_config(conf);
	run_as_nobody("suid", "");
	const char *log = slurp(in_dir("secure.log"));
	cr_expect_eq(lines_with_both(log, "\"config_error\"", by_suid()), 1,
		     "%s", log);
	cr_expect_eq(lines_with_both(log, "keep_fds", by_suid()), 1, "%s", log);
	cr_expect_eq(lines_with_both(log, "evil", by_suid()), 0,
		     "the rejected value is in a root log: %s", log);
}

/* --- where a privileged process logs ---
 *
 * /etc/noleak.conf names a log in a directory its group may write: a
 * member of that group (nobody's group here) plants a symlink or a hard
 * link there to a file only root may write.  The set-user-ID program must
 * not write through either, and says why on syslog: /dev/log is, in the
 * namespace, a socket the test reads. */

static int syslog_sock = -1;

/* Shell commands that make /dev, in the namespace, hold null and log (the
 * socket DIR/log.sock). */
static const char *dev_with_log(void)
{
	static char setup[PATH_MAX * 8];
	snprintf(setup, sizeof setup,
		 "D='%s'; mkdir -p \"$D/dev\" && touch \"$D/dev/null\" \"$D/dev/log\" && "
		 "mount --bind /dev/null \"$D/dev/null\" && "
		 "mount --bind \"$D/log.sock\" \"$D/dev/log\" && "
		 "mount --rbind \"$D/dev\" /dev || exit 96",
		 dir);
	return setup;
}

static void listen_syslog(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", in_dir("log.sock"));
	unlink(a.sun_path);
	syslog_sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(syslog_sock, 0);
	cr_assert_eq(bind(syslog_sock, (struct sockaddr *)&a, sizeof a), 0,
		     "%s", a.sun_path);
	cr_assert_eq(chmod(a.sun_path, 0666), 0);
}

/* The config_error datagrams received about the log `log`: from the
 * program whose "exe" field is `exe` at least one, each saying `why`;
 * never two from one process. */
static void expect_log_refusals_on_syslog(const char *why, const char *log,
					  const char *exe)
{
	char msg[8192];
	int pids[64], n_pids = 0, from_suid = 0;
	ssize_t n;
	while ((n = recv(syslog_sock, msg, sizeof msg - 1, MSG_DONTWAIT)) > 0) {
		msg[n] = '\0';
		if (!strstr(msg, "\"event\":\"config_error\""))
			continue;
		cr_expect(strstr(msg, why), "want \"%s\" in %s", why, msg);
		cr_expect(strstr(msg, log), "%s", msg);
		from_suid += strstr(msg, exe) != NULL;
		const char *p = strstr(msg, "\"pid\":");
		cr_assert_not_null(p, "%s", msg);
		int pid = atoi(p + 6);
		for (int i = 0; i < n_pids; i++)
			cr_expect_neq(pids[i], pid, "pid %d refused twice", pid);
		if (n_pids < 64)
			pids[n_pids++] = pid;
	}
	cr_expect_geq(from_suid, 1, "no config_error from the program on syslog");
	close(syslog_sock);
}

/* The same from the set-user-ID program about DIR/shared/noleak.log. */
static void expect_refusals_on_syslog(const char *why)
{
	expect_log_refusals_on_syslog(why, in_dir("shared/noleak.log"),
				      by_suid());
}

/* DIR/shared, root:nobody 0775, named by the config as the log's
 * directory; DIR/victim, root's. */
static void prepare_shared_log(void)
{
	char conf[PATH_MAX * 2];
	cr_assert_eq(mkdir(in_dir("shared"), 0775), 0);
	cr_assert_eq(chown(in_dir("shared"), 0, 65534), 0);
	cr_assert_eq(chmod(in_dir("shared"), 0775), 0);
	write_file(in_dir("victim"), "precious\n", 0644);
	snprintf(conf, sizeof conf, "mode = audit\nlog = %s\n",
		 in_dir("shared/noleak.log"));
	set_config(conf);
	listen_syslog();
}

static void run_suid_with_syslog(void)
{
	run_as_nobody_in(dev_with_log(), "suid", "", "");
	cr_assert_neq(exit_code(&r), 96, "cannot make /dev/log: %s", r.err);
	expect_line("secure=1");
	expect_line("pipe_cloexec=0");
}

Test(foundation_secure, symlink_planted_as_the_log_is_not_followed)
{
	prepare_shared_log();
	cr_assert_eq(symlink(in_dir("victim"), in_dir("shared/noleak.log")), 0);
	run_suid_with_syslog();
	cr_expect_str_eq(slurp(in_dir("victim")), "precious\n",
			 "root logged through the symlink");
	expect_refusals_on_syslog("writable by group or others");
}

Test(foundation_secure, hard_link_planted_as_the_log_is_not_written)
{
	prepare_shared_log();
	cr_assert_eq(link(in_dir("victim"), in_dir("shared/noleak.log")), 0);
	run_suid_with_syslog();
	cr_expect_str_eq(slurp(in_dir("victim")), "precious\n",
			 "root logged into the hard link");
	expect_refusals_on_syslog("writable by group or others");
}

/* A set-group-ID program its user runs has his uid and a group he has
 * not: the log's directory and the symlinks on the way count only when
 * root's.  Here /etc/noleak.conf names a log under DIR/sticky (root,
 * 1777, like /tmp), where nobody planted app -> DIR/gdir, a directory of
 * root's holding an empty file of group 4242's (the program's group): the
 * link is refused, and the file is not written.  The program's own file
 * in the sticky directory still takes its log, run after run. */
Test(foundation_secure, setgid_run_by_its_user_follows_no_link_he_planted)
{
	char conf[PATH_MAX * 2], cmd[PATH_MAX * 4], exe[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd,
		 "cp '%s' '%s' && chown 0:4242 '%s' && chmod 2755 '%s'",
		 top("build/fixtures/found_suid"), in_dir("sgid"), in_dir("sgid"),
		 in_dir("sgid"));
	sh(cmd);
	snprintf(exe, sizeof exe, "\"exe\":\"%s\"", in_dir("sgid"));
	cr_assert_eq(mkdir(in_dir("sticky"), 0755), 0);
	cr_assert_eq(chmod(in_dir("sticky"), 01777), 0);
	cr_assert_eq(mkdir(in_dir("gdir"), 0755), 0);
	write_file(in_dir("gdir/noleak.log"), "", 0660);
	cr_assert_eq(chown(in_dir("gdir/noleak.log"), 0, 4242), 0);
	cr_assert_eq(symlink(in_dir("gdir"), in_dir("sticky/app")), 0);
	cr_assert_eq(lchown(in_dir("sticky/app"), 65534, 65534), 0);
	snprintf(conf, sizeof conf, "mode = audit\nlog = %s\n",
		 in_dir("sticky/app/noleak.log"));
	set_config(conf);
	listen_syslog();
	run_as_nobody_in(dev_with_log(), "sgid", "", "");
	cr_assert_neq(exit_code(&r), 96, "cannot make /dev/log: %s", r.err);
	expect_line("secure=1");
	expect_line("ruid=65534 euid=65534");
	expect_line("pipe_cloexec=0");
	cr_expect_str_eq(slurp(in_dir("gdir/noleak.log")), "",
			 "the set-group-ID program logged through its user's link");
	expect_log_refusals_on_syslog("a symbolic link on its path",
				      in_dir("sticky/app/noleak.log"), exe);

	snprintf(conf, sizeof conf, "mode = audit\nlog = %s\n",
		 in_dir("sticky/own.log"));
	set_config(conf);
	for (int run = 0; run < 2; run++) {
		run_as_nobody("sgid", "");
		expect_line("pipe_cloexec=0");
	}
	const char *log = slurp(in_dir("sticky/own.log"));
	cr_expect_geq(lines_with_both(log, "\"fd_leak\"", exe), 2,
		      "both runs log into the program's own file: %s", log);
}

/* --- a root process whose environment someone else chose ---
 *
 * Not set-user-ID, so it obeys NOLEAK_LOG (by design), and the log's
 * directory is root's: the file itself must be a log already.  Appended
 * to, /etc/ld.so.preload would load a library named in an event into
 * every set-user-ID program (ld.so splits it on blanks and ':'). */

/* DIR/plain as root, in audit with NOLEAK_LOG=`log`, with /dev/log the
 * test's socket; `wrap` (may be "") runs it: "unshare -u" for a UTS
 * namespace of its own.  Prints "before=" and "after=" lines with `probe`
 * (a file to cat, may be NULL) around the run. */
static void run_root_with_log(const char *log, const char *wrap,
			      const char *probe)
{
	char script[PATH_MAX * 16], run[PATH_MAX * 4];
	set_config("");
	listen_syslog();
	snprintf(run, sizeof run,
		 "%s%s%s env NOLEAK_MODE=audit NOLEAK_LOG=\"%s\" \"%s\"%s%s%s",
		 probe ? "echo \"before=$(cat " : "", probe ? probe : "",
		 probe ? ")\"; " : "", log, in_dir("plain"),
		 probe ? "; echo \"after=$(cat " : "", probe ? probe : "",
		 probe ? ")\"" : "");
	if (wrap[0])
		snprintf(script, sizeof script, "%s\n%s sh -c '%s'",
			 dev_with_log(), wrap, run);
	else
		snprintf(script, sizeof script, "%s\n%s", dev_with_log(), run);
	ns_run_with_etc(&r, in_dir("etc"), script, TIMEOUT);
	cr_assert(!r.timed_out);
	cr_assert_neq(exit_code(&r), 96, "cannot make /dev/log: %s", r.err);
	cr_assert_eq(exit_code(&r), 0, "status %d, stdout: %s, stderr: %s",
		     r.status, r.out, r.err);
	expect_line("secure=0");
	expect_line("ruid=0 euid=0");
	expect_line("pipe_cloexec=0");
}

static const char *by_plain(void)
{
	static char exe[PATH_MAX + 16];
	snprintf(exe, sizeof exe, "\"exe\":\"%s\"", in_dir("plain"));
	return exe;
}

/* DIR/rootonly (root, 0755) holding `name` (0644) with `content`: its
 * path. */
static const char *root_file(const char *name, const char *content)
{
	char rel[64];
	if (!exists(in_dir("rootonly")))
		cr_assert_eq(mkdir(in_dir("rootonly"), 0755), 0);
	snprintf(rel, sizeof rel, "rootonly/%s", name);
	write_file(in_dir(rel), content, 0644);
	return in_dir(rel);
}

Test(foundation_secure, root_file_that_is_no_log_is_not_written)
{
	const char *victim = root_file("ld.so.preload", "precious\n");
	run_root_with_log(victim, "", NULL);
	cr_expect_str_eq(slurp(victim), "precious\n",
			 "root appended its events to a file that is no log");
	expect_log_refusals_on_syslog("not a noleak log", victim, by_plain());
}

/* What rotation leaves (copytruncate: an empty file) and a log already
 * written are appended to, as before. */
Test(foundation_secure, root_file_that_is_empty_or_a_log_is_appended_to)
{
	static const char old_line[] =
		"{\"ts\":\"2026-01-01T00:00:00.000000Z\",\"event\":\"fd_leak\"}\n";
	char old_log[PATH_MAX], empty[PATH_MAX];
	snprintf(old_log, sizeof old_log, "%s", root_file("old.log", old_line));
	snprintf(empty, sizeof empty, "%s", root_file("empty.log", ""));

	run_root_with_log(old_log, "", NULL);
	const char *text = slurp(old_log);
	cr_expect(!strncmp(text, old_line, sizeof old_line - 1), "%s", text);
	cr_expect_geq(lines_with_both(text, "\"fd_leak\"", by_plain()), 1,
		      "the log already written was not appended to: %s", text);
	close(syslog_sock);

	run_root_with_log(empty, "", NULL);
	text = slurp(empty);
	cr_expect_geq(lines_with_both(text, "\"fd_leak\"", by_plain()), 1,
		      "the empty file was not appended to: %s", text);
	close(syslog_sock);
}

/* /proc/sys files are regular files of size 0: the kernel's settings,
 * refused by their file system.  domainname, in a UTS namespace of the
 * run's own, shows a write. */
Test(foundation_secure, root_log_on_proc_sys_is_refused)
{
	const char *knob = "/proc/sys/kernel/domainname";
	run_root_with_log(knob, "unshare -u", knob);
	const char *before = strstr(r.out, "before="), *after = strstr(r.out, "after=");
	cr_assert(before && after, "%s", r.out);
	size_t len = strcspn(before + 7, "\n");
	cr_expect(strlen(after + 6) >= len && !strncmp(before + 7, after + 6, len) &&
		  after[6 + len] == '\n', "the setting changed: %s", r.out);
	expect_log_refusals_on_syslog("kernel interface file system", knob,
				      by_plain());
}

/* --- which sections a privileged process obeys --- */

/* Whoever runs a set-user-ID program picks its argv[0] and, through a
 * symlink of any name, its AT_EXECFN: neither may choose a [program]
 * section for it (here one that would turn enforce into audit). */
Test(foundation_secure, caller_chosen_names_pick_no_section)
{
	set_config("[program fake-name]\nmode = audit\n");
	cr_assert_eq(symlink(in_dir("suid"), in_dir("fake-name")), 0);
	run_as_nobody("fake-name", "");
	expect_line("secure=1");
	expect_line("pipe_cloexec=1");

	char script[PATH_MAX * 2];
	snprintf(script, sizeof script,
		 "exec setpriv --reuid=" NOBODY " --regid=" NOBODY " --clear-groups "
		 "-- bash -c 'exec -a fake-name \"$0\"' '%s'",
		 in_dir("suid"));
	ns_run_with_etc(&r, in_dir("etc"), script, TIMEOUT);
	cr_assert_eq(exit_code(&r), 0, "%s", r.err);
	expect_line("secure=1");
	expect_line("pipe_cloexec=1");

	/* Not secure: the same names do pick the section. */
	cr_assert_eq(symlink(in_dir("plain"), in_dir("fake-plain")), 0);
	set_config("[program fake-plain]\nmode = audit\n");
	run_as_nobody("fake-plain", "");
	expect_line("secure=0");
	expect_line("pipe_cloexec=0");
}
