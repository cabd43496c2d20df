/* The PATH search of execvp, without the exec (see path.h). */
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 0, or the error execve() would give (-EISDIR for a directory, which
 * execve() reports as EACCES). */
static int check_candidate(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0)
		return -EACCES;
	return 0;
}

int noleak_find_command(const char *name, char *out, size_t cap)
{
	if (!*name)
		return -ENOENT;
	if (strchr(name, '/')) {
		if (strlen(name) >= cap)
			return -ENAMETOOLONG;
		strcpy(out, name);
		return check_candidate(out);
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";  /* execvp's default */
	int found = -ENOENT;
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		int dlen = (int)(end - p);
		/* an empty element means the current directory */
		int len = snprintf(out, cap, "%.*s/%s", dlen ? dlen : 1,
				   dlen ? p : ".", name);
		if (len > 0 && (size_t)len < cap) {
			int r = check_candidate(out);
			if (r == 0)
				return 0;
			/* As glibc's execvp: a directory that does not hold
			 * the name (or cannot be reached) is passed over; one
			 * it may not run is too, and reported only when
			 * nothing better turns up; any other error ends the
			 * search. */
			if (r == -EACCES || r == -EISDIR)
				found = -EACCES;
			else if (r != -ENOENT && r != -ENOTDIR && r != -ESTALE &&
				 r != -ENODEV && r != -ETIMEDOUT)
				return r;
		}
		if (!*end)
			break;
		p = end;
	}
	return found;
}
