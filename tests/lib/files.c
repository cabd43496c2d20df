/* Small file helpers for integration tests. */
#include "files.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(path, mode), 0);
}

const char *copy_for_anyone(const char *path)
{
	static __thread char copy[PATH_MAX];
	const char *dir = tmpdir();
	const char *base = strrchr(path, '/');
	snprintf(copy, sizeof copy, "%s/%s", dir, base ? base + 1 : path);
	cr_assert_eq(chmod(dir, 0755), 0, "%s", dir);
	int in = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(in, 0, "%s", path);
	int out = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	cr_assert_geq(out, 0, "%s", copy);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		cr_assert_eq(write(out, buf, (size_t)n), n);
	cr_assert_eq(n, 0);
	close(in);
	cr_assert_eq(close(out), 0);
	cr_assert_eq(chmod(copy, 0755), 0);
	return copy;
}
