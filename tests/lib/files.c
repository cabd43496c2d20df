/* Small file helpers for integration tests. */
#include "files.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <sys/stat.h>

void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(path, mode), 0);
}
