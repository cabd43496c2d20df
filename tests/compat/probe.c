/* probe PROOF_FILE: record which processes of the chain that runs it carry
 * libnoleak.so.
 *
 * A check proves that the program it tests really ran under the shim by
 * having that program (or a descendant of it) run this probe: the probe
 * walks from itself up through its parents and appends one line
 * "EXE_BASENAME 1" or "EXE_BASENAME 0" per process to PROOF_FILE, 1 meaning
 * that libnoleak.so is mapped into that process right now.  Parents are
 * alive while the probe runs, so the line for "make" says that this make
 * process had the shim loaded.  Nothing is printed on stdout, so the
 * output a check compares is the same with and without the probe. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int maps_have_shim(pid_t pid)
{
	char path[64], line[4096];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	int found = 0;
	while (!found && fgets(line, sizeof line, f))
		found = strstr(line, "/libnoleak.so") != NULL;
	fclose(f);
	return found;
}

static void exe_name(pid_t pid, char *out, size_t size)
{
	char path[64], target[4096];
	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(path, target, sizeof target - 1);
	if (n <= 0) {
		snprintf(out, size, "?");
		return;
	}
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	snprintf(out, size, "%.*s", (int)size - 1, base ? base + 1 : target);
}

/* The parent of pid, from /proc/PID/stat ("pid (comm) state ppid ..."). */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	int ppid = 0;
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return 0;
	return ppid;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: probe PROOF_FILE\n");
		return 2;
	}
	FILE *out = fopen(argv[1], "ae");
	if (!out) {
		perror(argv[1]);
		return 2;
	}
	for (pid_t pid = getpid(); pid > 1; pid = parent_of(pid)) {
		char name[256];
		exe_name(pid, name, sizeof name);
		fprintf(out, "%s %d\n", name, maps_have_shim(pid));
	}
	return fclose(out) == 0 ? 0 : 2;
}
