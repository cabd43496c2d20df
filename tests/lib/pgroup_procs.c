/* Shared by the pgroup_* integration tests: see pgroup_procs.h. */
#include "pgroup_procs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MARKS_MAX 16
static char marks[MARKS_MAX][96];
static int n_marks;

const char *pg_mark(const char *what)
{
	if (n_marks == MARKS_MAX)
		abort();
	char *m = marks[n_marks++];
	snprintf(m, sizeof marks[0], "pg-%s-%ld-%d", what, (long)getpid(), n_marks);
	return m;
}

const char *pg_mark_env(const char *mark)
{
	static char env[MARKS_MAX][128];
	static int next;
	char *e = env[next++ % MARKS_MAX];
	snprintf(e, sizeof env[0], "NOLEAK_TEST_MARK=%s", mark);
	return e;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r;
	while (fd >= 0 && n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	if (fd >= 0)
		close(fd);
	buf[n] = 0;
	return n;
}

static int is_zombie(pid_t pid)
{
	char path[64], stat[512];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	read_file(path, stat, sizeof stat);
	const char *p = strrchr(stat, ')');
	return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

static int carries(pid_t pid, const char *entry)
{
	static char env[1 << 17];
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/environ", (long)pid);
	size_t n = read_file(path, env, sizeof env);
	for (size_t i = 0; i < n; i += strlen(env + i) + 1)
		if (!strcmp(env + i, entry))
			return 1;
	return 0;
}

/* Calls fn(pid) for each live process carrying the marker; the count. */
static int for_each_marked(const char *mark, void (*fn)(pid_t))
{
	char entry[128];
	snprintf(entry, sizeof entry, "NOLEAK_TEST_MARK=%s", mark);
	int n = 0;
	DIR *d = opendir("/proc");
	for (struct dirent *e; d && (e = readdir(d));) {
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid <= 0 || !carries(pid, entry) || is_zombie(pid))
			continue;
		n++;
		if (fn)
			fn(pid);
	}
	if (d)
		closedir(d);
	return n;
}

static char described[4096];

static void describe_one(pid_t pid)
{
	char path[64], stat[512];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	read_file(path, stat, sizeof stat);
	size_t n = strlen(described);
	snprintf(described + n, sizeof described - n, "  %.200s", stat);
}

const char *pg_describe_marked(const char *mark)
{
	described[0] = 0;
	for_each_marked(mark, describe_one);
	return described;
}

int pg_count_marked(const char *mark)
{
	return for_each_marked(mark, NULL);
}

int pg_wait_unmarked(const char *mark, double seconds)
{
	double end = now() + seconds;
	int n;
	while ((n = pg_count_marked(mark)) > 0 && now() < end)
		usleep(20000);
	return n;
}

static void kill_one(pid_t pid)
{
	kill(pid, SIGKILL);
}

void pg_kill_marked(const char *mark)
{
	for_each_marked(mark, kill_one);
	pg_wait_unmarked(mark, 2.0);
}

void pg_cleanup(void)
{
	for (int i = 0; i < n_marks; i++)
		pg_kill_marked(marks[i]);
}

int pg_bind_port(int port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((unsigned short)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (s < 0)
		return errno;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	int r = bind(s, (struct sockaddr *)&a, sizeof a) ? errno : 0;
	close(s);
	return r;
}

/* Start of the value of `key=` on the first line starting with `line`. */
static const char *find_value(const char *text, const char *line,
			      const char *key)
{
	size_t klen = strlen(key);
	for (const char *l = text; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		if (!strncmp(l, line, strlen(line)))
			for (const char *p = l; p < l + len; p++)
				if ((p == l || p[-1] == ' ') && !strncmp(p, key, klen) &&
				    p[klen] == '=')
					return p + klen + 1;
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}

long pg_field(const char *text, const char *line, const char *key)
{
	const char *v = find_value(text, line, key);
	char *end;
	long n = v ? strtol(v, &end, 10) : -1;
	return v && end != v ? n : -1;
}

const char *pg_word(const char *text, const char *line, const char *key)
{
	static __thread char word[256];
	const char *v = find_value(text, line, key);
	size_t n = v ? strcspn(v, " \n") : 0;
	if (n >= sizeof word)
		n = sizeof word - 1;
	memcpy(word, v ? v : "", n);
	word[n] = 0;
	return word;
}
