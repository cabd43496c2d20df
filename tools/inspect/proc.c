/* noleak inspect: the host's process table, read from /proc.
 *
 * One pass reads every process's stat, exe and command line; fd tables
 * are read only when a search needs them, since a host can hold hundreds
 * of thousands of fds. */
#include "inspect.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

ssize_t insp_read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	close(fd);
	return (ssize_t)n;
}

ssize_t insp_readlink(const char *path, char *buf, size_t cap)
{
	ssize_t n = readlink(path, buf, cap - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return n;
}

long insp_fd_flags(pid_t pid, int fd)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)pid, fd);
	ssize_t n = insp_read_file(path, buf, sizeof buf);
	if (n < 0)
		return n;
	const char *f = strstr(buf, "flags:");
	if (!f)
		return -ENODATA;
	return strtol(f + 6, NULL, 8);
}

const char *insp_errtext(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case EACCES:
	case EPERM:
		return "permission";
	case ENOENT:
	case ESRCH:
		return "gone or not provided by this kernel";
	default:
		return strerror(err);
	}
}

/* Fields after the command name, which may itself hold spaces and ')'. */
static int parse_stat(const char *buf, struct insp_proc *p)
{
	const char *open_ = strchr(buf, '(');
	const char *close_ = strrchr(buf, ')');
	if (!open_ || !close_ || close_ < open_)
		return -1;
	size_t len = (size_t)(close_ - open_ - 1);
	if (len >= sizeof p->comm)
		len = sizeof p->comm - 1;
	memcpy(p->comm, open_ + 1, len);
	p->comm[len] = 0;
	int ppid, pgid, sid;
	char state;
	unsigned long flags;
	if (sscanf(close_ + 1, " %c %d %d %d %*d %*d %lu", &state, &ppid, &pgid,
		   &sid, &flags) != 5)
		return -1;
	p->kthread = (flags & 0x00200000) != 0;  /* PF_KTHREAD */
	p->state = state;
	p->ppid = ppid;
	p->pgid = pgid;
	p->sid = sid;
	return 0;
}

/* The NUL-separated arguments, joined by spaces. */
static char *read_cmdline(pid_t pid, const char *comm)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	ssize_t n = insp_read_file(path, buf, sizeof buf);
	if (n <= 0) {
		char *s;
		return asprintf(&s, "[%s]", comm) < 0 ? NULL : s;
	}
	while (n > 0 && buf[n - 1] == 0)
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == 0)
			buf[i] = ' ';
	buf[n] = 0;
	return strdup(buf);
}

static int is_number(const char *s);

/* A thread of pid other than its leader, or pid when it has none. */
static pid_t other_thread(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	pid_t tid = pid;
	struct dirent *e;
	while (d && tid == pid && (e = readdir(d)))
		if (is_number(e->d_name))
			tid = atoi(e->d_name);
	if (d)
		closedir(d);
	return tid;
}

static int load_proc(pid_t pid, struct insp_proc *p)
{
	char path[64], buf[4096];
	memset(p, 0, sizeof *p);
	p->pid = pid;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (insp_read_file(path, buf, sizeof buf) < 0 || parse_stat(buf, p) < 0)
		return -1;
	/* A leader that has exited (pthread_exit() in main) while other
	 * threads run on has no memory: the process's exe and command line
	 * are read through one of them. */
	pid_t from = p->state == 'Z' ? other_thread(pid) : pid;
	char exe[PATH_MAX];
	snprintf(path, sizeof path, "/proc/%d/exe", (int)from);
	ssize_t n = insp_readlink(path, exe, sizeof exe);
	if (n < 0)
		p->exe_err = (int)-n;
	else
		p->exe = strdup(exe);
	p->cmdline = read_cmdline(from, p->comm);
	return 0;
}

static int is_number(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int by_pid(const void *a, const void *b)
{
	const struct insp_proc *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

int insp_host_load(struct insp_host *h)
{
	memset(h, 0, sizeof *h);
	DIR *d = opendir("/proc");
	if (!d)
		return -errno;
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!is_number(e->d_name))
			continue;
		if (h->n == cap) {
			cap = cap ? cap * 2 : 512;
			void *v = realloc(h->procs, cap * sizeof *h->procs);
			if (!v)
				break;
			h->procs = v;
		}
		if (load_proc(atoi(e->d_name), &h->procs[h->n]) == 0)
			h->n++;
	}
	closedir(d);
	qsort(h->procs, h->n, sizeof *h->procs, by_pid);
	/* /proc mounted with hidepid=invisible (or ptraceable) lists only
	 * the processes we may look at: the others are neither listed nor
	 * refused.  Pid 1 is in every PID namespace, so a /proc without it
	 * hides (unless we are it). */
	struct stat st;
	if (getpid() != 1 && stat("/proc/1", &st) < 0 && errno == ENOENT)
		h->hidden |= INSP_HIDDEN_HIDEPID;
	/* In a PID namespace other than the initial one (a container), the
	 * processes outside it are in no /proc of ours, and may hold the
	 * other end of a pipe or socket all the same. */
	if (insp_pidns_nested())
		h->hidden |= INSP_HIDDEN_PIDNS;
	return 0;
}

/* The initial PID namespace's inode (PROC_PID_INIT_INO): its
 * /proc/self/ns/pid has it on every kernel since namespaces have inodes. */
#define PID_INIT_INO 0xEFFFFFFCu

/* Whether the /proc read here is of a PID namespace other than the
 * initial one: that of its process 1, when it may be looked at; else a
 * /proc whose numbers are not inspect's is an outer namespace's (a nested
 * namespace that kept the host's /proc), taken for the host's; else
 * inspect's own namespace. */
int insp_pidns_nested(void)
{
	struct stat st;
	if (stat("/proc/1/ns/pid", &st) == 0)
		return st.st_ino != PID_INIT_INO;
	char self[24];
	ssize_t n = readlink("/proc/self", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		if (atol(self) != (long)getpid())
			return 0;
	}
	return stat("/proc/self/ns/pid", &st) == 0 && st.st_ino != PID_INIT_INO;
}

/* Sorted by pid: relations walk parent chains, host-wide, many times. */
struct insp_proc *insp_host_find(struct insp_host *h, pid_t pid)
{
	struct insp_proc key = { .pid = pid };
	return bsearch(&key, h->procs, h->n, sizeof *h->procs, by_pid);
}

static int by_fd(const void *a, const void *b)
{
	const struct insp_fdlink *x = a, *y = b;
	if (x->fd != y->fd)
		return (x->fd > y->fd) - (x->fd < y->fd);
	return strcmp(x->target, y->target);   /* copies side by side */
}

/* Appends the fds of /proc/AT/fd to p's; -errno when it cannot be read. */
static int read_fd_table(struct insp_proc *p, pid_t at, size_t *cap)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)at);
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!is_number(e->d_name))
			continue;
		char link[PATH_MAX + 64], target[PATH_MAX];
		snprintf(link, sizeof link, "%s/%s", path, e->d_name);
		if (insp_readlink(link, target, sizeof target) < 0)
			continue;  /* closed meanwhile */
		if (p->nfds == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			void *v = realloc(p->fds, *cap * sizeof *p->fds);
			if (!v)
				break;
			p->fds = v;
		}
		char *t = strdup(target);
		if (!t)
			break;
		p->fds[p->nfds++] = (struct insp_fdlink){ atoi(e->d_name), at, t };
	}
	closedir(d);
	return 0;
}

/* A process whose main thread has exited (pthread_exit() in main) lists
 * no fds in /proc/PID/fd, while its other threads keep it alive: their
 * tables, through /proc/TID/fd.  Threads share one table but for one that
 * made its own (unshare(CLONE_FILES)): an fd that two tables give the
 * same target is the same fd, listed once (fds_dedup). */
static void read_thread_tables(struct insp_proc *p, size_t *cap)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)p->pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)))
		if (is_number(e->d_name) && atoi(e->d_name) != p->pid)
			read_fd_table(p, atoi(e->d_name), cap);
	closedir(d);
}

static void fds_dedup(struct insp_proc *p)
{
	size_t k = 0;
	for (size_t i = 0; i < p->nfds; i++) {
		if (k && p->fds[k - 1].fd == p->fds[i].fd &&
		    !strcmp(p->fds[k - 1].target, p->fds[i].target)) {
			free(p->fds[i].target);
			continue;
		}
		p->fds[k++] = p->fds[i];
	}
	p->nfds = k;
}

int insp_proc_fds(struct insp_proc *p)
{
	if (p->fds_loaded)
		return -p->fds_err;
	p->fds_loaded = 1;
	size_t cap = 0;
	int r = read_fd_table(p, p->pid, &cap);
	if (r < 0) {
		p->fds_err = -r;
		return r;
	}
	if (!p->nfds)
		read_thread_tables(p, &cap);
	/* A zombie or a kernel thread has no fds: p->fds is NULL then, and
	 * qsort() takes no NULL, not even for 0 elements. */
	if (p->nfds) {
		qsort(p->fds, p->nfds, sizeof *p->fds, by_fd);
		fds_dedup(p);
	}
	return 0;
}

/* Parent chain from pid upwards; the number of steps to reach `to`, or
 * 0 when it is not an ancestor.  Bounded: pid reuse can make a loop. */
static int steps_up(struct insp_host *h, pid_t pid, pid_t to)
{
	struct insp_proc *p = insp_host_find(h, pid);
	for (int depth = 1; p && depth < 64; depth++) {
		if (p->ppid == to)
			return depth;
		if (p->ppid <= 1)
			return 0;
		p = insp_host_find(h, p->ppid);
	}
	return 0;
}

const char *insp_relation(struct insp_host *h, pid_t subject, pid_t pid)
{
	if (pid == subject)
		return "self";
	switch (steps_up(h, pid, subject)) {
	case 0:
		break;
	case 1:
		return "child";
	case 2:
		return "grandchild";
	default:
		return "descendant";
	}
	switch (steps_up(h, subject, pid)) {
	case 0:
		return "other";
	case 1:
		return "parent";
	default:
		return "ancestor";
	}
}
