/* Private mount namespaces for integration tests. */
#include "ns.h"

#include <criterion/criterion.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copying or deleting /etc takes a second or two even on a slow disk. */
#define FILE_WORK_TIMEOUT 60.0

/* In the copy only: seeing it at /etc proves the bind mount took. */
#define ETC_COPY_MARKER ".noleak-test-etc-copy"

/* Where tmpdir() makes its directories. */
#define TEST_DIR_PREFIX "/tmp/noleak-test."

/* For the commands run here, so that the caller's result is left alone. */
static struct run_result work;

void ns_copy_etc(const char *etc_copy)
{
	cr_assert_eq(mkdir(etc_copy, 0755), 0, "%s", etc_copy);
	char *argv[] = { "cp", "-a", "/etc/.", (char *)etc_copy, NULL };
	cr_assert_eq(run(&work, argv, NULL, 0, FILE_WORK_TIMEOUT, NULL), 0);
	cr_assert_eq(exit_code(&work), 0, "cannot copy /etc: %s", work.err);
	char marker[PATH_MAX];
	snprintf(marker, sizeof marker, "%s/" ETC_COPY_MARKER, etc_copy);
	int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0, "%s", marker);
	close(fd);
}

/* `script` under /bin/sh in a new mount namespace.  Propagation private:
 * nothing mounted inside reaches the host. */
static void run_in_private_namespace(struct run_result *r, const char *script,
				     double timeout_s)
{
	char *argv[] = { "unshare", "-m", "--propagation", "private",
			 "/bin/sh", "-c", (char *)script, NULL };
	cr_assert_eq(run(r, argv, NULL, 0, timeout_s, NULL), 0,
		     "cannot run unshare");
}

void ns_run_with_etc(struct run_result *r, const char *etc_copy,
		     const char *script, double timeout_s)
{
	char *cmd;
	cr_assert_geq(asprintf(&cmd,
			       "mount --bind '%s' /etc || exit 98\n"
			       "test -e /etc/" ETC_COPY_MARKER " || exit 97\n"
			       "%s",
			       etc_copy, script), 0);
	run_in_private_namespace(r, cmd, timeout_s);
	free(cmd);
	cr_assert_neq(exit_code(r), 98, "cannot mount the copy of /etc: %s", r->err);
	cr_assert_neq(exit_code(r), 97, "the copy of /etc is not in place: %s", r->err);
}

void ns_run_without_proc(struct run_result *r, const char *hide,
			 const char *script, double timeout_s)
{
	char *cmd;
	cr_assert_geq(asprintf(&cmd,
			       "%s || exit 98\n"
			       "test -e /proc/self && exit 99\n"
			       "%s",
			       hide, script), 0);
	run_in_private_namespace(r, cmd, timeout_s);
	free(cmd);
	cr_assert_neq(exit_code(r), 98, "cannot hide /proc: %s", r->err);
	cr_assert_neq(exit_code(r), 99, "/proc still there after `%s`", hide);
}

void ns_remove_test_dir(const char *dir)
{
	if (strncmp(dir, TEST_DIR_PREFIX, strlen(TEST_DIR_PREFIX)))
		return;
	char *argv[] = { "rm", "-rf", (char *)dir, NULL };
	run(&work, argv, NULL, 0, FILE_WORK_TIMEOUT, NULL);
}
