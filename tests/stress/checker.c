/* What every program the stress run starts does first: check that it got
 * no fd but stdio and those it was meant to get.
 *
 *   checker [--pass N]... [--say] [--write N]
 *
 * Lists /proc/self/fd.  Any fd other than 0-2, the listing's own and the
 * --pass ones is a leak: it is named on stderr and the exit status is 1.
 * Otherwise: with --say, "ok" goes to stdout; with --write N, "ok" goes to
 * fd N; the exit status is 0. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PASS_MAX 16

int main(int argc, char **argv)
{
	int pass[PASS_MAX], n_pass = 0, say = 0, write_fd = -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pass") && i + 1 < argc && n_pass < PASS_MAX)
			pass[n_pass++] = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--write") && i + 1 < argc &&
			 n_pass < PASS_MAX)
			write_fd = pass[n_pass++] = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--say"))
			say = 1;
		else
			return 2;
	}
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return 2;
	int leaks = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		int fd = atoi(e->d_name), ok = fd <= 2 || fd == dirfd(d);
		for (int i = 0; i < n_pass && !ok; i++)
			ok = pass[i] == fd;
		if (ok)
			continue;
		char link[64], target[PATH_MAX];
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof target - 1);
		target[n > 0 ? n : 0] = 0;
		fprintf(stderr, "checker: leaked fd %d -> %s\n", fd, target);
		leaks++;
	}
	closedir(d);
	if (leaks)
		return 1;
	if (say)
		printf("ok\n");
	if (write_fd >= 0 && write(write_fd, "ok\n", 3) != 3)
		return 3;
	return fflush(stdout) ? 3 : 0;
}
