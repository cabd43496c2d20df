/* The PATH search of execvp, without the exec (see path.h). */
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int check_candidate(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return errno == EACCES ? -EACCES : -ENOENT;
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
			/* execvp goes on past one it may not run, and reports
			 * that only when nothing better turns up */
			if (r != -ENOENT)
				found = r == -EISDIR ? -EACCES : r;
		}
		if (!*end)
			break;
		p = end;
	}
	return found;
}
