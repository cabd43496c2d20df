/* Which fds a new program's argv and environment name as passed on purpose:
 * the ones libnoleak must leave open across exec. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"

#define NOBODY ((pid_t)424242)

/* Listed, or within the run (LISTEN_FDS). */
static int has_fd(const struct nl_fdlist *l, int fd)
{
	for (int i = 0; i < l->n; i++) {
		if (l->fd[i] == fd)
			return 1;
	}
	return fd >= l->run_lo && fd < l->run_lo + l->run_n;
}

/* How many fds are named: the list and the run. */
static int named_count(const struct nl_fdlist *l)
{
	return l->n + l->run_n;
}

/* The fds named by argv alone (argv[0] is "prog"). */
static struct nl_fdlist from_args(char *const argv[], pid_t self, int *ret)
{
	struct nl_fdlist l;
	int r = nl_named_fds(argv, NULL, self, &l);
	if (ret != NULL)
		*ret = r;
	return l;
}

static struct nl_fdlist from_env(char *const envp[], pid_t self)
{
	struct nl_fdlist l;
	char *argv[] = { "prog", NULL };
	cr_assert_eq(nl_named_fds(argv, envp, self, &l), 0);
	return l;
}

static void assert_fds(const struct nl_fdlist *l, int n, const int *want)
{
	cr_assert_eq(named_count(l), n, "got %d fds, want %d", named_count(l), n);
	for (int i = 0; i < n; i++)
		cr_assert(has_fd(l, want[i]), "fd %d missing", want[i]);
	cr_assert_eq(l->overflow, 0);
}

#define ASSERT_FDS(l, ...)                                              \
	do {                                                            \
		const int want_[] = { __VA_ARGS__ };                    \
		assert_fds(&(l), (int)(sizeof want_ / sizeof want_[0]), \
			   want_);                                      \
	} while (0)
#define ASSERT_NONE(l) assert_fds(&(l), 0, NULL)

/* --- nl_fdlist_add --- */

Test(passfds, add_ignores_duplicates_and_std_fds)
{
	struct nl_fdlist l = { 0 };
	nl_fdlist_add(&l, 5);
	nl_fdlist_add(&l, 5);
	nl_fdlist_add(&l, 0);
	nl_fdlist_add(&l, 2);
	nl_fdlist_add(&l, -7);
	nl_fdlist_add(&l, 3);
	ASSERT_FDS(l, 5, 3);
}

Test(passfds, add_holds_any_number_of_fds)
{
	struct nl_fdlist l = { 0 };
	for (int fd = 3; fd < 3 + 5000; fd++)
		nl_fdlist_add(&l, fd);
	/* Out of order and repeated: still once each. */
	for (int fd = 4000; fd > 2; fd -= 7)
		nl_fdlist_add(&l, fd);
	nl_fdlist_add(&l, 20000);
	nl_fdlist_add(&l, 10);
	cr_assert_eq(l.n, 5001);
	cr_assert_eq(l.overflow, 0);
	cr_assert_eq(l.fd[4999], 3 + 4999);
	cr_assert_eq(l.fd[5000], 20000);
	nl_fdlist_release(&l);
	cr_assert_eq(l.n, 0);
	cr_assert_null(l.fd);
}

Test(passfds, null_argv_and_envp_name_nothing)
{
	struct nl_fdlist l;
	l.n = 17;
	l.overflow = 1;
	cr_assert_eq(nl_named_fds(NULL, NULL, getpid(), &l), 0);
	ASSERT_NONE(l);
}

/* --- options ending in fd / fds --- */

Test(passfds, option_value_as_next_argument)
{
	char *argv[] = { "dpkg", "--status-fd", "16", "--configure", NULL };
	struct nl_fdlist l = from_args(argv, NOBODY, NULL);
	ASSERT_FDS(l, 16);
}

Test(passfds, option_value_after_equals)
{
	char *a[] = { "dpkg", "--status-fd=16", NULL };
	struct nl_fdlist l = from_args(a, NOBODY, NULL);
	ASSERT_FDS(l, 16);
	char *b[] = { "gpg", "--batch", "--passphrase-fd=3", "-d", NULL };
	l = from_args(b, NOBODY, NULL);
	ASSERT_FDS(l, 3);
	char *c[] = { "prog", "--refd=3", NULL };
	l = from_args(c, NOBODY, NULL);
	ASSERT_FDS(l, 3);
}

Test(passfds, single_dash_option)
{
	char *argv[] = { "prog", "-fd", "4", NULL };
	struct nl_fdlist l = from_args(argv, NOBODY, NULL);
	ASSERT_FDS(l, 4);
}

Test(passfds, fds_option_takes_a_list)
{
	char *a[] = { "prog", "--fds", "3,4", NULL };
	struct nl_fdlist l = from_args(a, NOBODY, NULL);
	ASSERT_FDS(l, 3, 4);
	char *b[] = { "prog", "--fds=3:4", NULL };
	l = from_args(b, NOBODY, NULL);
	ASSERT_FDS(l, 3, 4);
	char *c[] = { "prog", "--fds=5;6;", NULL };
	l = from_args(c, NOBODY, NULL);
	ASSERT_FDS(l, 5, 6);
}

Test(passfds, option_without_value_names_nothing)
{
	char *a[] = { "prog", "--fd", NULL };
	struct nl_fdlist l = from_args(a, NOBODY, NULL);
	ASSERT_NONE(l);
	char *b[] = { "prog", "--fd=", NULL };
	l = from_args(b, NOBODY, NULL);
	ASSERT_NONE(l);
}

Test(passfds, options_not_ending_in_fd_name_nothing)
{
	char *a[] = { "prog", "--fdx", "3", NULL };
	struct nl_fdlist l = from_args(a, NOBODY, NULL);
	ASSERT_NONE(l);
	char *b[] = { "prog", "--STATUS-FD", "5", "---fd", "6", NULL };
	l = from_args(b, NOBODY, NULL);
	ASSERT_NONE(l);
	char *c[] = { "prog", "--jobs", "7", "status-fd", "8", NULL };
	l = from_args(c, NOBODY, NULL);
	ASSERT_NONE(l);
}

Test(passfds, option_value_must_be_numbers)
{
	char *a[] = { "prog", "--status-fd=16x", "--log-fd", "/tmp/x", NULL };
	struct nl_fdlist l = from_args(a, NOBODY, NULL);
	ASSERT_NONE(l);
	char *b[] = { "prog", "--status-fd", "-1", "--fds=3,a", NULL };
	l = from_args(b, NOBODY, NULL);
	ASSERT_NONE(l);
}

Test(passfds, program_name_is_not_an_option)
{
	/* A login shell's argv[0] starts with '-'; only a path in it counts. */
	char *a[] = { "-fd", "5", NULL };
	struct nl_fdlist l = from_args(a, NOBODY, NULL);
	ASSERT_NONE(l);
	char *b[] = { "/dev/fd/6", NULL };
	l = from_args(b, NOBODY, NULL);
	ASSERT_FDS(l, 6);
}

/* --- openssl fd:N --- */

Test(passfds, openssl_fd_source)
{
	char *a[] = { "openssl", "rsa", "-passin", "fd:3", NULL };
	struct nl_fdlist l = from_args(a, NOBODY, NULL);
	ASSERT_FDS(l, 3);
	char *b[] = { "openssl", "-passout=fd:9", NULL };
	l = from_args(b, NOBODY, NULL);
	ASSERT_FDS(l, 9);
}

Test(passfds, fd_colon_inside_other_text_is_not_an_fd)
{
	char *argv[] = { "openssl", "-passin", "pass:fd:3", "xfd:4",
			 "fd:5x", "fd:", "fd:6:7", NULL };
	struct nl_fdlist l = from_args(argv, NOBODY, NULL);
	ASSERT_NONE(l);
}

/* system("echo x >&4"): a shell redirection names the fd after '&'. */
Test(passfds, shell_redirections)
{
	char *a[] = { "sh", "-c", "echo x >&4; cat<&5|tr a b 2>&1 3<&6- 7>&8&&x",
		      NULL };
	struct nl_fdlist l = from_args(a, NOBODY, NULL);
	ASSERT_FDS(l, 4, 5, 6, 8);
	char *b[] = { "sh", "-c", "echo >&- <&x >&9x >&file a&4 >& 5", NULL };
	l = from_args(b, NOBODY, NULL);
	ASSERT_NONE(l);
}

/* --- /dev/fd/N and /proc/.../fd/N --- */

Test(passfds, dev_fd_paths_anywhere)
{
	char *a[] = { "prog", "--x=/dev/fd/63", NULL };
	struct nl_fdlist l = from_args(a, NOBODY, NULL);
	ASSERT_FDS(l, 63);
	char *b[] = { "diff", "/dev/fd/63", "/dev/fd/62", NULL };
	l = from_args(b, NOBODY, NULL);
	ASSERT_FDS(l, 63, 62);
}

Test(passfds, proc_self_fd_path)
{
	char *argv[] = { "cat", "/proc/self/fd/7", NULL };
	struct nl_fdlist l = from_args(argv, NOBODY, NULL);
	ASSERT_FDS(l, 7);
}

Test(passfds, proc_pid_fd_path_only_for_self)
{
	char *argv[] = { "cat", "/proc/1234/fd/9", NULL };
	struct nl_fdlist l = from_args(argv, 1234, NULL);
	ASSERT_FDS(l, 9);
	l = from_args(argv, 1235, NULL);
	ASSERT_NONE(l);
	char *b[] = { "cat", "/proc/12340/fd/9", "/proc/123/fd/9", NULL };
	l = from_args(b, 1234, NULL);
	ASSERT_NONE(l);
}

Test(passfds, fd_paths_without_numbers_name_nothing)
{
	char *argv[] = { "prog", "/dev/fd/", "/dev/fdx/3", "/dev/fd/x3",
			 "/proc/self/fd", "/dev/fd/2", "/proc/self/fdinfo/5",
			 NULL };
	struct nl_fdlist l = from_args(argv, NOBODY, NULL);
	ASSERT_NONE(l);
}

Test(passfds, fd_paths_in_environment_values)
{
	char *envp[] = { "INPUT=/dev/fd/5", "OTHER=a:/proc/self/fd/6", NULL };
	struct nl_fdlist l = from_env(envp, NOBODY);
	ASSERT_FDS(l, 5, 6);
}

/* --- trampoline lists --- */

/* Make sure fds with exactly the given numbers are open, on one pipe.  An
 * fd that is already open (the test framework's own) is left alone. */
static void open_at(const int *fds, int n)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	/* Out of the way, so the pipe itself holds none of the numbers. */
	int src = fcntl(p[0], F_DUPFD, 900);
	cr_assert_geq(src, 900);
	close(p[0]);
	close(p[1]);
	for (int i = 0; i < n; i++) {
		if (fcntl(fds[i], F_GETFD) < 0)
			cr_assert_eq(dup2(src, fds[i]), fds[i]);
	}
}

Test(passfds, trampoline_list_of_open_fds)
{
	const int fds[] = { 811, 812, 814 };
	open_at(fds, 3);
	char *argv[] = { "jspawnhelper", "17", "811:812:814", NULL };
	int ret;
	struct nl_fdlist l = from_args(argv, NOBODY, &ret);
	cr_assert_eq(ret, 1);
	ASSERT_FDS(l, 811, 812, 814);
}

Test(passfds, trampoline_list_with_a_closed_fd)
{
	const int fds[] = { 811, 812 };
	open_at(fds, 2);
	close(814);
	char *argv[] = { "jspawnhelper", "17", "811:812:814", NULL };
	int ret;
	struct nl_fdlist l = from_args(argv, NOBODY, &ret);
	cr_assert_eq(ret, 0);
	ASSERT_NONE(l);
}

Test(passfds, trampoline_needs_three_well_formed_numbers)
{
	const int fds[] = { 811, 812, 814 };
	open_at(fds, 3);
	char *argv[] = { "prog", "811:812", "811:812:814:", ":811:812:814",
			 "811::812:814", "811:812:x814", NULL };
	int ret;
	struct nl_fdlist l = from_args(argv, NOBODY, &ret);
	cr_assert_eq(ret, 0);
	ASSERT_NONE(l);
}

Test(passfds, time_of_day_is_not_a_trampoline)
{
	/* Even with 10 and 30 open, 0 is not a passable fd. */
	const int fds[] = { 10, 30 };
	open_at(fds, 2);
	char *argv[] = { "at", "10:30:00", NULL };
	int ret;
	struct nl_fdlist l = from_args(argv, NOBODY, &ret);
	cr_assert_eq(ret, 0);
	ASSERT_NONE(l);
}

/* --- environment --- */

Test(passfds, env_fd_and_fds_variables)
{
	char *envp[] = { "STATUS_FD=9", "X_FDS=3,4", "Y_FDS=10 11;12:13",
			 NULL };
	struct nl_fdlist l = from_env(envp, NOBODY);
	ASSERT_FDS(l, 9, 3, 4, 10, 11, 12, 13);
}

Test(passfds, env_fd_variables_must_hold_numbers)
{
	char *envp[] = { "STATUS_FD=abc", "X_FDS=3,x", "status_fd=9",
			 "X_FDX=5", "MAX_FD=", "NOEQUALS_FD", NULL };
	struct nl_fdlist l = from_env(envp, NOBODY);
	ASSERT_NONE(l);
}

Test(passfds, wayland_socket)
{
	char *a[] = { "WAYLAND_SOCKET=5", NULL };
	struct nl_fdlist l = from_env(a, NOBODY);
	ASSERT_FDS(l, 5);
	char *b[] = { "WAYLAND_SOCKET=5,6", "WAYLAND_DISPLAY=7", NULL };
	l = from_env(b, NOBODY);
	ASSERT_NONE(l);
}

Test(passfds, nginx_inherited_sockets)
{
	char *a[] = { "NGINX=6;7;", NULL };
	struct nl_fdlist l = from_env(a, NOBODY);
	ASSERT_FDS(l, 6, 7);
	char *b[] = { "NGINX=8:9", NULL };
	l = from_env(b, NOBODY);
	ASSERT_FDS(l, 8, 9);
	char *c[] = { "NGINX=6,7", NULL };
	l = from_env(c, NOBODY);
	ASSERT_NONE(l);
}

Test(passfds, fpm_sockets)
{
	char *a[] = { "FPM_SOCKETS=127.0.0.1:9000=8,/run/php/a=b.sock=9,"
		      "[::1]:9001=10", "FPM_SOCKETS_1=/run/x.sock=11", NULL };
	struct nl_fdlist l = from_env(a, NOBODY);
	ASSERT_FDS(l, 8, 9, 10, 11);
	char *b[] = { "FPM_SOCKETS=127.0.0.1:9000", "FPM_SOCKETS_=5",
		      "FPM_SOCKETSX=6", "FPM_SOCKETS_1x=7", "FPM_SOCKETS=a=8x",
		      "XFPM_SOCKETS=a=9", NULL };
	l = from_env(b, NOBODY);
	ASSERT_NONE(l);
}

Test(passfds, listen_fds_without_listen_pid)
{
	char *envp[] = { "LISTEN_FDS=2", NULL };
	struct nl_fdlist l = from_env(envp, NOBODY);
	ASSERT_FDS(l, 3, 4);
}

Test(passfds, listen_fds_for_this_pid)
{
	char *envp[] = { "LISTEN_PID=4321", "LISTEN_FDS=2", NULL };
	struct nl_fdlist l = from_env(envp, 4321);
	ASSERT_FDS(l, 3, 4);
}

Test(passfds, listen_fds_for_another_pid)
{
	char *a[] = { "LISTEN_FDS=2", "LISTEN_PID=4321", NULL };
	struct nl_fdlist l = from_env(a, 4322);
	ASSERT_NONE(l);
	/* LISTEN_FDS is a count, not an fd: it must not count as a *_FDS
	 * variable naming fd 5. */
	char *b[] = { "LISTEN_FDS=5", "LISTEN_PID=4321", NULL };
	l = from_env(b, 4322);
	ASSERT_NONE(l);
	char *c[] = { "LISTEN_FDS=1", "LISTEN_PID=x", NULL };
	l = from_env(c, 4322);
	ASSERT_NONE(l);
}

/* `env LISTEN_FDS=2 prog` and a shell's `LISTEN_FDS=2 exec prog`: exec
 * keeps the pid, so a LISTEN_PID given as a number must be this one; one
 * the command line leaves to the shell (`$$`) does not count. */
Test(passfds, listen_fds_assigned_in_argv)
{
	char *a[] = { "env", "LISTEN_FDS=2", "prog", NULL };
	struct nl_fdlist l = from_args(a, NOBODY, NULL);
	ASSERT_FDS(l, 3, 4);
	char *b[] = { "env", "LISTEN_PID=4321", "LISTEN_FDS=2", "prog", NULL };
	l = from_args(b, 4321, NULL);
	ASSERT_FDS(l, 3, 4);
	l = from_args(b, 4322, NULL);
	ASSERT_NONE(l);
	char *c[] = { "sh", "-c", "LISTEN_FDS=3 LISTEN_PID=$$ exec prog", NULL };
	l = from_args(c, NOBODY, NULL);
	ASSERT_FDS(l, 3, 4, 5);
	/* Assigned twice in argv: the last, as env and a shell give it. */
	char *d[] = { "env", "LISTEN_FDS=1", "LISTEN_FDS=3", "prog", NULL };
	l = from_args(d, NOBODY, NULL);
	ASSERT_FDS(l, 3, 4, 5);
	char *e[] = { "sh", "-c", "LISTEN_FDS=2; export LISTEN_FDS; exec prog",
		      NULL };
	l = from_args(e, NOBODY, NULL);
	ASSERT_FDS(l, 3, 4);
	/* argv's and envp's: the longer run. */
	char *envp[] = { "LISTEN_FDS=1", NULL };
	nl_named_fds(a, envp, NOBODY, &l);
	ASSERT_FDS(l, 3, 4);
}

Test(passfds, listen_fds_out_of_range)
{
	char *a[] = { "LISTEN_FDS=0", NULL };
	struct nl_fdlist l = from_env(a, NOBODY);
	ASSERT_NONE(l);
	char *b[] = { "LISTEN_FDS=1048574", NULL };   /* last fd 1048576 */
	l = from_env(b, NOBODY);
	ASSERT_NONE(l);
	char *c[] = { "LISTEN_FDS=2x", NULL };
	l = from_env(c, NOBODY);
	ASSERT_NONE(l);
}

/* No count limit of its own: 1,000, 18,000 and a million (the last fd
 * 1048575, the kernel's default nr_open less one) are each kept whole, as
 * a run: no memory and no time per number. */
Test(passfds, listen_fds_any_count)
{
	static const int counts[] = { 1000, 18000, 1048573 };
	for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
		char var[32];
		snprintf(var, sizeof var, "LISTEN_FDS=%d", counts[i]);
		char *d[] = { var, NULL };
		struct nl_fdlist l = from_env(d, NOBODY);
		cr_assert_eq(l.n, 0);
		cr_assert_null(l.fd);
		cr_assert_eq(l.run_n, counts[i]);
		cr_assert_eq(l.overflow, 0);
		cr_assert(has_fd(&l, 3));
		cr_assert(has_fd(&l, counts[i] + 2));
		cr_assert_not(has_fd(&l, counts[i] + 3));
		nl_fdlist_release(&l);
	}
}

Test(passfds, make_jobserver_auth)
{
	char *a[] = { "MAKEFLAGS= -j2 --jobserver-auth=3,4", NULL };
	struct nl_fdlist l = from_env(a, NOBODY);
	ASSERT_FDS(l, 3, 4);
	char *b[] = { "MAKEFLAGS=j2 --jobserver-auth=5,6 -- VAR=x", NULL };
	l = from_env(b, NOBODY);
	ASSERT_FDS(l, 5, 6);
}

Test(passfds, make_jobserver_fds_in_mflags)
{
	char *envp[] = { "MFLAGS=-j --jobserver-fds=7,8", NULL };
	struct nl_fdlist l = from_env(envp, NOBODY);
	ASSERT_FDS(l, 7, 8);
}

Test(passfds, make_jobserver_forms_that_name_no_fd)
{
	char *envp[] = {
		"MAKEFLAGS=-j4 --jobserver-auth=fifo:/tmp/GMfifo1",
		"MFLAGS=-j --jobserver-auth=-2,-2 --jobserver-auth=3,x",
		NULL
	};
	struct nl_fdlist l = from_env(envp, NOBODY);
	ASSERT_NONE(l);
	/* After "--" come variable definitions, whose values are text. */
	char *b[] = { "MAKEFLAGS=j2 -- V=--jobserver-auth=5,6", NULL };
	l = from_env(b, NOBODY);
	ASSERT_NONE(l);
	char *c[] = { "MAKEFLAGS=-Ia\\ --jobserver-auth=5,6", NULL };
	l = from_env(c, NOBODY);
	ASSERT_NONE(l);
	char *e[] = { "MAKEFLAGS=j2 -- --jobserver-auth=5,6", NULL };
	l = from_env(e, NOBODY);
	ASSERT_NONE(l);
	char *d[] = { "OTHERFLAGS=--jobserver-auth=5,6", NULL };
	l = from_env(d, NOBODY);
	ASSERT_NONE(l);
}

/* --- everything together, and hostile input --- */

Test(passfds, duplicates_are_listed_once)
{
	char *argv[] = { "prog", "--status-fd=5", "/dev/fd/5", "fd:5", NULL };
	char *envp[] = { "A_FD=5", "NGINX=5;", NULL };
	struct nl_fdlist l;
	cr_assert_eq(nl_named_fds(argv, envp, NOBODY, &l), 0);
	ASSERT_FDS(l, 5);
}

Test(passfds, a_thousand_named_fds_are_all_listed)
{
	/* "3,4,...,1002": 1000 distinct fds. */
	static char list[8192];
	size_t at = 0;
	for (int fd = 3; fd < 1003; fd++)
		at += (size_t)snprintf(list + at, sizeof list - at, "%s%d",
				       fd == 3 ? "" : ",", fd);
	char *argv[] = { "prog", "--fds", list, NULL };
	struct nl_fdlist l = from_args(argv, NOBODY, NULL);
	cr_assert_eq(l.n, 1000);
	cr_assert_eq(l.overflow, 0);
	cr_assert(has_fd(&l, 3));
	cr_assert(has_fd(&l, 1002));
	nl_fdlist_release(&l);
}

Test(passfds, numbers_too_large_for_an_fd_are_ignored)
{
	/* 2^32 + 3 would wrap to 3 in an int. */
	char *argv[] = { "prog", "--status-fd=99999999999999999999",
			 "/dev/fd/4294967299", "fd:1048576",
			 "--fds=99999999999999999999,5", "/dev/fd/1048575",
			 NULL };
	struct nl_fdlist l = from_args(argv, NOBODY, NULL);
	ASSERT_FDS(l, 5, 1048575);
	char *envp[] = { "A_FD=4294967299", "LISTEN_FDS=4294967298",
			 "MAKEFLAGS=--jobserver-auth=4294967299,4", NULL };
	l = from_env(envp, NOBODY);
	ASSERT_FDS(l, 4);
}

Test(passfds, hundred_kilobyte_arguments)
{
	enum { BIG = 100 * 1024 };
	static char slashes[BIG + 16], option[BIG + 16], digits[BIG + 16],
		colons[BIG + 16];
	memset(slashes, '/', BIG);
	memcpy(slashes + BIG, "dev/fd/41", 10);
	/* A long option name still ends in "fd". */
	option[0] = '-';
	memset(option + 1, 'a', BIG);
	memcpy(option + 1 + BIG, "fd=42", 6);
	memset(digits, '9', BIG);
	for (size_t i = 0; i < BIG; i += 2)
		memcpy(colons + i, "1:", 2);
	colons[BIG - 1] = '\0';
	char *argv[] = { "prog", slashes, option, "--fd", digits, colons,
			 NULL };
	int ret;
	struct nl_fdlist l = from_args(argv, NOBODY, &ret);
	cr_assert_eq(ret, 0);
	ASSERT_FDS(l, 41, 42);
}

/* system() and popen() run `sh -c "prog --status-fd 8"`: the command
 * string's words count as options too. */
Test(passfds, option_inside_a_shell_command_string)
{
	char *argv[] = { "sh", "-c", "dpkg --status-fd 8 --configure -a", NULL };
	struct nl_fdlist l;
	nl_named_fds(argv, NULL, 1, &l);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(l.fd[0], 8);
	char *argv2[] = { "sh", "-c", "gpg --passphrase-fd=9 x; openssl -passin fd:7", NULL };
	nl_named_fds(argv2, NULL, 1, &l);
	cr_assert_eq(l.n, 2);
	char *argv3[] = { "sh", "-c", "echo status fd 8", NULL };
	nl_named_fds(argv3, NULL, 1, &l);
	cr_assert_eq(l.n, 0);
}

/* A word of a command string of any length: `--fds=3,4,...,1002` (a
 * thousand fds, over 4 KiB) and an option whose value is a long word. */
Test(passfds, long_words_inside_a_shell_command_string)
{
	static char cmd[16 * 1024];
	size_t n = (size_t)sprintf(cmd, "prog --fds=");
	for (int fd = 3; fd < 1003; fd++)
		n += (size_t)sprintf(cmd + n, "%s%d", fd > 3 ? "," : "", fd);
	sprintf(cmd + n, " --log-fd 1500");
	char *argv[] = { "sh", "-c", cmd, NULL };
	struct nl_fdlist l;
	nl_named_fds(argv, NULL, 1, &l);
	cr_assert_eq(l.n, 1001);
	cr_assert(has_fd(&l, 3));
	cr_assert(has_fd(&l, 1002));
	cr_assert(has_fd(&l, 1500));
	nl_fdlist_release(&l);
}

/* --- the forms real programs use, one row per convention --- */

#define MAX_WORDS 12

struct convention {
	const char *who;
	char *argv[MAX_WORDS];     /* argv[0] first; NULL-terminated */
	char *envp[MAX_WORDS];     /* NULL-terminated */
	int want[8];               /* the fds named, 0-terminated */
	int listeners;             /* the caller's listeners are to cross */
};

static const struct convention conventions[] = {
	{ "haproxy master re-exec (HAPROXY_PROCESSES)",
	  { "haproxy", "-Ws", "-f", "/etc/haproxy/haproxy.cfg", "-p",
	    "/run/haproxy.pid", "-S", "/run/haproxy-master.sock", "-sf", "1234" },
	  { "HAPROXY_MWORKER_REEXEC=1",
	    "HAPROXY_PROCESSES=|type=m;fd=-1;cfd=-1;pid=100;reloads=0;timestamp=0;"
	    "id=;version=2.6.12|type=w;fd=3;cfd=-1;pid=101;reloads=0;"
	    "timestamp=1700000000;id=;version=2.6.12" },
	  { 3 }, 0 },
	{ "haproxy worker list with two workers",
	  { "haproxy" },
	  { "HAPROXY_PROCESSES=|type=w;fd=5;pid=7|type=w;fd=6;pid=8" },
	  { 5, 6 }, 0 },
	{ "php-fpm master re-exec on reload (FPM_SOCKETS)",
	  { "/usr/sbin/php-fpm8.2", "--nodaemonize", "--fpm-config",
	    "/etc/php/8.2/fpm/php-fpm.conf" },
	  { "FPM_SOCKETS=127.0.0.1:9000=8,/run/php/php8.2-fpm.sock=9" },
	  { 8, 9 }, 0 },
	{ "dbus-launch starting dbus-daemon",
	  { "dbus-daemon", "--fork", "--print-pid", "5", "--print-address", "7",
	    "--session" }, { NULL }, { 5, 7 }, 0 },
	{ "dbus-run-session starting dbus-daemon",
	  { "dbus-daemon", "--nofork", "--print-address=4", "--session" },
	  { NULL }, { 4 }, 0 },
	{ "dbus-daemon printing to stdout",
	  { "dbus-daemon", "--print-address", "--print-pid", "--session" },
	  { "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus" }, { 0 }, 0 },
	{ "systemd socket activation with names",
	  { "daemon" }, { "LISTEN_FDS=2", "LISTEN_FDNAMES=http:https" }, { 3, 4 }, 0 },
	{ "systemd names without a count",
	  { "daemon" }, { "LISTEN_FDNAMES=3:4", "NOTIFY_SOCKET=/run/systemd/notify" },
	  { 0 }, 0 },
	{ "ssh-agent names a socket path and a pid",
	  { "ssh", "host" },
	  { "SSH_AUTH_SOCK=/tmp/ssh-XXXXabc/agent.5", "SSH_AGENT_PID=6" }, { 0 }, 0 },
	{ "gpg status, passphrase and command fds",
	  { "gpg", "--batch", "--status-fd", "5", "--passphrase-fd=6",
	    "--command-fd", "7", "--logger-fd", "8", "-d" }, { NULL },
	  { 5, 6, 7, 8 }, 0 },
	{ "gpg-agent: GPG_AGENT_INFO is a path and a pid",
	  { "gpg" }, { "GPG_AGENT_INFO=/run/user/1000/gnupg/S.gpg-agent:8:1" },
	  { 0 }, 0 },
	{ "libassuan socketpair connection (gpg-agent helpers)",
	  { "scdaemon", "--server" },
	  { "_assuan_connection_fd=9", "_assuan_pipe_connect_pid=10" }, { 9 }, 0 },
	{ "socat fd addresses",
	  { "socat", "FD:3", "fd:4" }, { NULL }, { 3, 4 }, 0 },
	{ "socat dual address",
	  { "socat", "FD:5!!FD:6", "-" }, { NULL }, { 5, 6 }, 0 },
	{ "socat: a path or an option holding fd: is not an fd",
	  { "socat", "OPEN:/tmp/fd:8", "EXEC:cat,fdin=7" }, { NULL }, { 0 }, 0 },
	{ "s6/runit: the notification fd is a dup2 target, named nowhere",
	  { "s6-supervise", "/run/service/x" }, { NULL }, { 0 }, 0 },
	{ "gunicorn re-exec and fd binding",
	  { "gunicorn", "--bind", "fd://5", "app:app" }, { "GUNICORN_FD=3,4" },
	  { 3, 4, 5 }, 0 },
	{ "uwsgi emperor fd",
	  { "uwsgi", "--ini", "x.ini" }, { "UWSGI_EMPEROR_FD=6" }, { 6 }, 0 },
	{ "uwsgi master re-exec on reload (UWSGI_RELOADS): listeners, no number",
	  { "uwsgi", "--http-socket", "127.0.0.1:8000", "--master" },
	  { "UWSGI_RELOADS=1" }, { 0 }, 1 },
	{ "uwsgi: only UWSGI_RELOADS itself asks for the listeners",
	  { "uwsgi" }, { "UWSGI_RELOADSX=1", "XUWSGI_RELOADS=1", "UWSGI_RELOADS" },
	  { 0 }, 0 },
	{ "Xorg display and listen fds",
	  { "Xorg", ":1", "-displayfd", "3", "-listenfd", "4" }, { NULL },
	  { 3, 4 }, 0 },
	{ "Xwayland started by weston or mutter",
	  { "Xwayland", ":0", "-rootless", "-wm", "5", "-listenfd", "6",
	    "-displayfd", "7" }, { "WAYLAND_SOCKET=8" }, { 5, 6, 7, 8 }, 0 },
	{ "Xwayland's older -listen N",
	  { "Xwayland", ":0", "-listen", "9", "-listen", "tcp" }, { NULL }, { 9 }, 0 },
	{ "weston-launch starting weston",
	  { "weston" }, { "WESTON_LAUNCHER_SOCK=3", "WESTON_TTY_FD=4" }, { 3, 4 }, 0 },
	{ "dpkg reads its fds with strtol(..., 0): hex, a sign, blanks",
	  { "dpkg", "--status-fd", "0x9", "--log-fd=+5", "--command-fd", " 6" },
	  { NULL }, { 9, 5, 6 }, 0 },
	{ "a leading zero names the octal and the decimal reading",
	  { "dpkg", "--status-fd", "010", "--x-fd", "07", "--y-fd=09" }, { NULL },
	  { 8, 10, 7, 9 }, 0 },
	{ "an fd option's value that is no number names nothing",
	  { "prog", "--a-fd", "0x", "--b-fd=3x", "--c-fd=-4", "--d-fd=+",
	    "--print-pid", "0xg" }, { NULL }, { 0 }, 0 },
	{ "env VAR=N prog: a variable assigned in argv",
	  { "env", "WAYLAND_SOCKET=3", "X_FD=4", "MAKEFLAGS=-j2 --jobserver-auth=5,6",
	    "prog" }, { NULL }, { 3, 4, 5, 6 }, 0 },
	{ "a variable assigned in a shell command",
	  { "sh", "-c", "WAYLAND_SOCKET=7 X_FDS=8,9 exec prog" }, { NULL },
	  { 7, 8, 9 }, 0 },
	{ "a shell command's operators end its words",
	  { "sh", "-c", "X_FD=5; export X_FD; WAYLAND_SOCKET=6&&exec prog|(Y_FD=7)" },
	  { NULL }, { 5, 6, 7 }, 0 },
	{ "no assignment: an option, a name not a variable's",
	  { "prog", "--opt_FD=3x", "1X_FD=4", "a-b_FD=5", "-X_FD=6" }, { NULL },
	  { 0 }, 0 },
	{ "fd= in any value, as a token only",
	  { "prog", "cfd=3", "xfd=4", "fd=5x", "fd=6", "a=fd=7" },
	  { "V=version=2.6;fd=abc", "W=fd:8:9" }, { 6, 7 }, 0 },
};

static int count_want(const int *want)
{
	int n = 0;
	while (n < 8 && want[n])
		n++;
	return n;
}

Test(passfds, fd_passing_conventions)
{
	for (size_t i = 0; i < sizeof conventions / sizeof conventions[0]; i++) {
		const struct convention *c = &conventions[i];
		struct nl_fdlist l;
		nl_named_fds((char *const *)c->argv, (char *const *)c->envp, NOBODY, &l);
		int n = count_want(c->want);
		cr_expect_eq(named_count(&l), n, "%s: %d fds named, want %d", c->who,
			     named_count(&l), n);
		for (int k = 0; k < n; k++)
			cr_expect(has_fd(&l, c->want[k]), "%s: fd %d missing", c->who,
				  c->want[k]);
		cr_expect_eq(l.listeners, c->listeners, "%s: listeners %d, want %d",
			     c->who, l.listeners, c->listeners);
	}
}

/* Many fds in descending order (each a new lowest, so no shortcut applies)
 * and then all of them again: a repeat is found without a look through the
 * list.  250 000 descending fds plus their repeats took about a minute
 * with a search per fd; linear, well under a second. */
Test(passfds, many_descending_fds_in_linear_time, .timeout = 10)
{
	struct nl_fdlist l = { 0 };
	const int count = 250000;
	for (int round = 0; round < 2; round++)
		for (int fd = 3 + count - 1; fd >= 3; fd--)
			nl_fdlist_add(&l, fd);
	cr_assert_eq(l.n, count);
	cr_assert_eq(l.overflow, 0);
	cr_assert_eq(l.fd[0], 3 + count - 1);
	cr_assert_eq(l.fd[count - 1], 3);
	nl_fdlist_release(&l);
	cr_assert_null(l.fd);
}

/* The reported shape: twelve *_FDS variables naming distinct fds in
 * descending order, through nl_named_fds(). */
Test(passfds, env_lists_of_many_fds_in_linear_time, .timeout = 10)
{
	enum { VARS = 12, PER = 20000 };
	static char *envp[VARS + 1];
	int fd = 3 + VARS * PER - 1;
	for (int v = 0; v < VARS; v++) {
		size_t cap = 32 + (size_t)PER * 8, len;
		char *e = malloc(cap);
		cr_assert_not_null(e);
		len = (size_t)snprintf(e, cap, "V%d_FDS=", v);
		for (int i = 0; i < PER; i++, fd--)
			len += (size_t)snprintf(e + len, cap - len, i ? ",%d" : "%d", fd);
		envp[v] = e;
	}
	struct nl_fdlist l = from_env(envp, NOBODY);
	cr_assert_eq(l.n, VARS * PER);
	cr_assert_eq(l.overflow, 0);
	cr_assert(has_fd(&l, 3) && has_fd(&l, 3 + VARS * PER - 1));
	nl_fdlist_release(&l);
	for (int v = 0; v < VARS; v++)
		free(envp[v]);
}
