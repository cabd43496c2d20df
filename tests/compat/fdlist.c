/* fdlist [LABEL]: print "LABEL fds=0,1,2,..." — the fds this process was
 * given, read from /proc/self/fd (without the directory's own fd).
 *
 * fdlist --only LIST [LABEL]: the same, and exit 1 unless the fds are
 * exactly LIST (a comma-separated list, as printed). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void list_fds(char *out, size_t size)
{
	DIR *d = opendir("/proc/self/fd");
	size_t used = 0;
	out[0] = '\0';
	if (!d)
		return;
	int self = dirfd(d);
	int fds[4096], n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 4096) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		if (fd != self)
			fds[n++] = fd;
	}
	closedir(d);
	/* readdir order is the kernel's; sort for a stable output. */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int t = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	for (int i = 0; i < n && used + 16 < size; i++)
		used += snprintf(out + used, size - used, "%s%d", i ? "," : "", fds[i]);
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	if (argc > 2 && strcmp(argv[1], "--only") == 0) {
		only = argv[2];
		argv += 2;
		argc -= 2;
	}
	char fds[16384];
	list_fds(fds, sizeof fds);
	printf("%s%sfds=%s\n", argc > 1 ? argv[1] : "", argc > 1 ? " " : "", fds);
	if (only && strcmp(only, fds) != 0) {
		fprintf(stderr, "fdlist: fds %s, expected %s\n", fds, only);
		return 1;
	}
	return 0;
}
