/* noleak inspect: which system call a thread is blocked in, and on which
 * fds: what gdb's backtrace and strace -p would have said.
 *
 * /proc/P/task/T/syscall holds the call number and its six arguments.  For
 * read-like calls the first argument is the fd.  poll and select take
 * pointers, so their fds are read from the target's memory
 * (/proc/P/mem); that needs the same permission as ptrace, and without
 * it the fds are reported as unknown.  epoll's interest list is in the
 * epoll fd's fdinfo. */
#include "inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* How to find the fds a call waits on. */
enum fd_arg { NO_FD, FD_ARG0, FD_ARG01 };

struct sysent {
	long nr;
	const char *name;
	enum insp_call_class cls;
	enum fd_arg fds;
};

/* The numbers come from <sys/syscall.h>, so the table is right on every
 * architecture; calls an architecture lacks (poll, select) drop out. */
#define E(n, c, f) { SYS_##n, #n, c, f }
static const struct sysent sysents[] = {
	E(read, INSP_CALL_READ, FD_ARG0),
	E(write, INSP_CALL_WRITE, FD_ARG0),
	E(pread64, INSP_CALL_READ, FD_ARG0),
	E(pwrite64, INSP_CALL_WRITE, FD_ARG0),
	E(readv, INSP_CALL_READ, FD_ARG0),
	E(writev, INSP_CALL_WRITE, FD_ARG0),
	E(preadv, INSP_CALL_READ, FD_ARG0),
	E(pwritev, INSP_CALL_WRITE, FD_ARG0),
	E(preadv2, INSP_CALL_READ, FD_ARG0),
	E(pwritev2, INSP_CALL_WRITE, FD_ARG0),
	E(recvfrom, INSP_CALL_READ, FD_ARG0),
	E(recvmsg, INSP_CALL_READ, FD_ARG0),
	E(recvmmsg, INSP_CALL_READ, FD_ARG0),
	E(sendto, INSP_CALL_WRITE, FD_ARG0),
	E(sendmsg, INSP_CALL_WRITE, FD_ARG0),
	E(sendmmsg, INSP_CALL_WRITE, FD_ARG0),
	E(sendfile, INSP_CALL_WRITE, FD_ARG01),
	E(splice, INSP_CALL_OTHER, FD_ARG0),
#ifdef SYS_accept
	E(accept, INSP_CALL_ACCEPT, FD_ARG0),
#endif
	E(accept4, INSP_CALL_ACCEPT, FD_ARG0),
	E(connect, INSP_CALL_CONNECT, FD_ARG0),
	E(wait4, INSP_CALL_WAIT, NO_FD),
	E(waitid, INSP_CALL_WAIT, NO_FD),
#ifdef SYS_poll
	E(poll, INSP_CALL_POLL, NO_FD),
#endif
	E(ppoll, INSP_CALL_POLL, NO_FD),
#ifdef SYS_select
	E(select, INSP_CALL_SELECT, NO_FD),
#endif
#ifdef SYS__newselect
	E(_newselect, INSP_CALL_SELECT, NO_FD),
#endif
	E(pselect6, INSP_CALL_SELECT, NO_FD),
#ifdef SYS_epoll_wait
	E(epoll_wait, INSP_CALL_EPOLL, FD_ARG0),
#endif
	E(epoll_pwait, INSP_CALL_EPOLL, FD_ARG0),
#ifdef SYS_epoll_pwait2
	E(epoll_pwait2, INSP_CALL_EPOLL, FD_ARG0),
#endif
	E(futex, INSP_CALL_SLEEP, NO_FD),
	E(nanosleep, INSP_CALL_SLEEP, NO_FD),
	E(clock_nanosleep, INSP_CALL_SLEEP, NO_FD),
#ifdef SYS_pause
	E(pause, INSP_CALL_SLEEP, NO_FD),
#endif
	E(rt_sigsuspend, INSP_CALL_SLEEP, NO_FD),
	E(rt_sigtimedwait, INSP_CALL_SLEEP, NO_FD),
	E(flock, INSP_CALL_OTHER, FD_ARG0),
	E(fcntl, INSP_CALL_OTHER, FD_ARG0),
	E(ioctl, INSP_CALL_OTHER, FD_ARG0),
	E(fsync, INSP_CALL_OTHER, FD_ARG0),
	E(fdatasync, INSP_CALL_OTHER, FD_ARG0),
	E(close, INSP_CALL_OTHER, FD_ARG0),
	E(openat, INSP_CALL_OTHER, NO_FD),
#ifdef SYS_open
	E(open, INSP_CALL_OTHER, NO_FD),
#endif
	E(execve, INSP_CALL_OTHER, NO_FD),
#ifdef SYS_msgrcv
	E(msgrcv, INSP_CALL_OTHER, NO_FD),
#endif
#ifdef SYS_semop
	E(semop, INSP_CALL_OTHER, NO_FD),
#endif
#ifdef SYS_semtimedop
	E(semtimedop, INSP_CALL_OTHER, NO_FD),
#endif
	E(io_getevents, INSP_CALL_OTHER, NO_FD),
	E(io_uring_enter, INSP_CALL_OTHER, FD_ARG0),
	/* 32-bit targets: the calls with 64-bit times. */
#ifdef SYS_ppoll_time64
	E(ppoll_time64, INSP_CALL_POLL, NO_FD),
	E(pselect6_time64, INSP_CALL_SELECT, NO_FD),
	E(futex_time64, INSP_CALL_SLEEP, NO_FD),
	E(clock_nanosleep_time64, INSP_CALL_SLEEP, NO_FD),
	E(rt_sigtimedwait_time64, INSP_CALL_SLEEP, NO_FD),
	E(recvmmsg_time64, INSP_CALL_READ, FD_ARG0),
	E(semtimedop_time64, INSP_CALL_OTHER, NO_FD),
	E(io_pgetevents_time64, INSP_CALL_OTHER, NO_FD),
#endif
};
#undef E

static const struct sysent *sysent(long nr)
{
	for (size_t i = 0; i < sizeof sysents / sizeof *sysents; i++)
		if (sysents[i].nr == nr)
			return &sysents[i];
	return NULL;
}

const char *insp_syscall_name(long nr)
{
	const struct sysent *e = sysent(nr);
	return e ? e->name : NULL;
}

enum insp_call_class insp_syscall_class(long nr)
{
	const struct sysent *e = sysent(nr);
	return e ? e->cls : INSP_CALL_OTHER;
}

void insp_read_call(pid_t pid, pid_t tid, struct insp_call *c)
{
	char path[64], buf[512];
	memset(c, 0, sizeof *c);
	snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", (int)pid,
		 (int)tid);
	ssize_t n = insp_read_file(path, buf, sizeof buf);
	if (n < 0) {
		c->err = (int)-n;
		return;
	}
	if (n == 0) {
		c->err = EIO;   /* a zombie thread has nothing to say */
		return;
	}
	if (!strncmp(buf, "running", 7)) {
		c->running = 1;
		return;
	}
	char *p = buf;
	c->nr = strtol(p, &p, 10);
	if (c->nr < 0)
		return;  /* "-1 sp pc": blocked, but not in a system call */
	c->in_syscall = 1;
	for (int i = 0; i < 6; i++)
		c->args[i] = strtoull(p, &p, 16);
}

int insp_same_call(const struct insp_call *a, const struct insp_call *b)
{
	return !a->err && !b->err && a->in_syscall && b->in_syscall &&
	       a->nr == b->nr && !memcmp(a->args, b->args, sizeof a->args);
}

/* The fd numbers are gathered in order of appearance and made unique
 * afterwards (dedup_fdnums): a poll set of a million fds must not cost a
 * scan of the list per fd.  A number that finds no memory is counted as
 * omitted, never dropped unsaid. */
static void add_fdnum(struct insp_thread *t, long fd)
{
	if (fd < 0 || fd > INT32_MAX)
		return;
	if (t->nfdnums == t->capfdnums) {
		size_t cap = t->capfdnums ? 2 * t->capfdnums : 16;
		void *v = realloc(t->fdnums, cap * sizeof *t->fdnums);
		if (!v) {
			t->fdnums_omitted++;
			t->fdnums_omitted_err = ENOMEM;
			return;
		}
		t->fdnums = v;
		t->capfdnums = cap;
	}
	t->fdnums[t->nfdnums++] = (int)fd;
}

struct fdpos {
	int fd;
	size_t pos;
};

static int fdpos_cmp(const void *a, const void *b)
{
	const struct fdpos *x = a, *y = b;
	if (x->fd != y->fd)
		return x->fd < y->fd ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Keep the first appearance of each fd, in order: sort (fd, position),
 * mark every later copy, compact.  Without memory for that the list keeps
 * its repeats, which say nothing false. */
static void dedup_fdnums(struct insp_thread *t)
{
	size_t n = t->nfdnums;
	if (n < 2)
		return;
	struct fdpos *v = malloc(n * sizeof *v);
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = (struct fdpos){ t->fdnums[i], i };
	qsort(v, n, sizeof *v, fdpos_cmp);
	for (size_t i = 1; i < n; i++)
		if (v[i].fd == v[i - 1].fd)
			t->fdnums[v[i].pos] = -1;
	free(v);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (t->fdnums[i] >= 0)
			t->fdnums[k++] = t->fdnums[i];
	t->nfdnums = k;
}

static int read_mem(pid_t pid, unsigned long long addr, void *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = pread(fd, buf, len, (off_t)addr);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	return n == (ssize_t)len ? 0 : -EIO;
}

/* The pollfd array is read this many entries at a time: its whole length
 * (nfds, up to the target's RLIMIT_NOFILE) is read, in bounded pieces. */
#define POLL_CHUNK 4096
/* Each description searches the host's fd tables, so a huge poll set is
 * listed by number whole but only its first fds are described; the
 * report says how many were not. */
#define MAX_DESCRIBED 64

static void poll_fds(pid_t pid, struct insp_thread *t)
{
	struct pfd {
		int fd;
		short events, revents;
	};
	unsigned long long n = t->call.args[1], addr = t->call.args[0];
	if (!n)
		return;
	struct pfd *v = malloc(POLL_CHUNK * sizeof *v);
	if (!v) {
		t->fds_err = ENOMEM;
		return;
	}
	for (unsigned long long done = 0; done < n;) {
		size_t k = n - done < POLL_CHUNK ? (size_t)(n - done) : POLL_CHUNK;
		int r = read_mem(pid, addr + done * sizeof *v, v, k * sizeof *v);
		if (r < 0) {
			/* Nothing read: the fds are unknown.  Part read: the
			 * rest is counted as left out. */
			if (!done) {
				t->fds_err = -r;
			} else {
				t->fdnums_omitted += n - done;
				t->fdnums_omitted_err = -r;
			}
			break;
		}
		for (size_t i = 0; i < k; i++)
			add_fdnum(t, v[i].fd);
		done += k;
	}
	free(v);
}

/* The kernel looks at no bit above the fd table's size (FDSize in
 * /proc/P/status), whatever nfds says: neither does this. */
static size_t fd_table_size(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if (insp_read_file(path, buf, sizeof buf) < 0)
		return 0;
	const char *f = strstr(buf, "\nFDSize:");
	return f ? strtoul(f + 8, NULL, 10) : 0;
}

static void select_fds(pid_t pid, struct insp_thread *t)
{
	size_t nfds = t->call.args[0], max = fd_table_size(pid);
	if (max && nfds > max)
		nfds = max;
	size_t bytes = (nfds + 63) / 64 * 8;
	if (!bytes)
		return;
	unsigned char *set = malloc(bytes);
	if (!set) {
		t->fds_err = ENOMEM;
		return;
	}
	for (int s = 1; s <= 3; s++) {
		if (!t->call.args[s])
			continue;
		int r = read_mem(pid, t->call.args[s], set, bytes);
		if (r < 0) {
			t->fds_err = -r;
			break;
		}
		for (size_t fd = 0; fd < nfds; fd++)
			if (set[fd / 8] & (1u << (fd % 8)))
				add_fdnum(t, (long)fd);
	}
	free(set);
}

/* A whole /proc file, however long, in a buffer of the heap (NUL at the
 * end); NULL with errno. */
static char *read_whole(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n + 1 == cap) {
			char *v = realloc(buf, cap * 2);
			if (!v) {
				free(buf);
				buf = NULL;
				errno = ENOMEM;
				break;
			}
			buf = v;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0) {
			int e = errno;
			free(buf);
			buf = NULL;
			errno = e;
			break;
		}
		if (r == 0) {
			buf[n] = 0;
			break;
		}
		n += (size_t)r;
	}
	int e = errno;
	close(fd);
	errno = e;
	return buf;
}

/* The fds an epoll instance watches: its fdinfo has a "tfd:" line each,
 * read whole (a few dozen bytes per watched fd). */
static void epoll_fds(pid_t pid, struct insp_thread *t)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fdinfo/%llu", (int)pid,
		 t->call.args[0]);
	char *buf = read_whole(path);
	if (!buf) {
		t->fds_err = errno;
		return;
	}
	for (char *p = buf; (p = strstr(p, "tfd:")); p += 4)
		add_fdnum(t, strtol(p + 4, NULL, 10));
	free(buf);
}

static void wait_note(struct insp_host *h, pid_t pid, struct insp_thread *t)
{
	/* pid_t and idtype_t arguments are ints: -1 arrives as 0xffffffff. */
	long long a0 = (int)t->call.args[0];
	long long a1 = (int)t->call.args[1];
	char who[96];
	if (t->call.nr == SYS_wait4) {
		if (a0 == -1)
			snprintf(who, sizeof who, "any child");
		else if (a0 > 0)
			snprintf(who, sizeof who, "child %lld", a0);
		else if (a0 == 0)
			snprintf(who, sizeof who, "any child in its group");
		else
			snprintf(who, sizeof who, "any child in group %lld", -a0);
	} else {
		/* waitid(idtype, id, ...): P_ALL 0, P_PID 1, P_PGID 2, P_PIDFD 3 */
		const char *kind[] = { "any child", "child", "any child in group",
				       "the child of pidfd" };
		if (a0 == 0)
			snprintf(who, sizeof who, "any child");
		else
			snprintf(who, sizeof who, "%s %lld",
				 a0 >= 0 && a0 < 4 ? kind[a0] : "?", a1);
	}
	/* The note is one line of fixed size: children that do not fit are
	 * counted, and the count ends it. */
	const size_t room = sizeof t->note - sizeof " ... and 4294967295 more";
	size_t len = (size_t)snprintf(t->note, sizeof t->note,
				      "waits for %s; children:", who);
	size_t any = 0, more = 0;
	for (size_t i = 0; i < h->n; i++) {
		struct insp_proc *c = &h->procs[i];
		if (c->ppid != pid)
			continue;
		any++;
		char one[64];
		size_t k = (size_t)snprintf(one, sizeof one, " %d (%s, %c)",
					    (int)c->pid, c->comm, c->state);
		if (more || len + k > room) {
			more++;
			continue;
		}
		memcpy(t->note + len, one, k + 1);
		len += k;
	}
	if (more)
		snprintf(t->note + len, sizeof t->note - len, " ... and %zu more",
			 more);
	else if (!any)
		snprintf(t->note + len, sizeof t->note - len, " none");
}

static void call_fds(struct insp_host *h, pid_t pid, struct insp_thread *t)
{
	const struct sysent *e = sysent(t->call.nr);
	if (!e)
		return;
	if (e->fds != NO_FD)
		add_fdnum(t, (long)t->call.args[0]);
	if (e->fds == FD_ARG01)
		add_fdnum(t, (long)t->call.args[1]);
	switch (e->cls) {
	case INSP_CALL_POLL:
		poll_fds(pid, t);
		break;
	case INSP_CALL_SELECT:
		select_fds(pid, t);
		break;
	case INSP_CALL_EPOLL:
		epoll_fds(pid, t);
		break;
	case INSP_CALL_WAIT:
		wait_note(h, pid, t);
		break;
	case INSP_CALL_SLEEP:
		if (t->call.nr == SYS_futex)
			snprintf(t->note, sizeof t->note,
				 "waits on a futex: a lock, a condition "
				 "variable or a thread join");
		break;
	default:
		break;
	}
}

static void read_stack(pid_t pid, pid_t tid, struct insp_thread *t)
{
	char path[64], buf[16384];
	snprintf(path, sizeof path, "/proc/%d/task/%d/stack", (int)pid, (int)tid);
	ssize_t n = insp_read_file(path, buf, sizeof buf);
	if (n < 0) {
		t->stack_err = (int)-n;
		return;
	}
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *sym = strstr(line, "] ");
		sym = sym ? sym + 2 : line;
		void *v = realloc(t->stack, (t->nstack + 1) * sizeof *t->stack);
		if (!v)
			break;
		t->stack = v;
		t->stack[t->nstack++] = strdup(sym);
	}
}

static void read_task_line(pid_t pid, pid_t tid, struct insp_thread *t)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	if (insp_read_file(path, t->comm, sizeof t->comm) > 0)
		t->comm[strcspn(t->comm, "\n")] = 0;
	snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	const char *close_;
	if (insp_read_file(path, buf, sizeof buf) > 0 &&
	    (close_ = strrchr(buf, ')')))
		t->state = close_[2];
	snprintf(path, sizeof path, "/proc/%d/task/%d/wchan", (int)pid, (int)tid);
	ssize_t n = insp_read_file(path, t->wchan, sizeof t->wchan);
	if (n < 0)
		t->wchan_err = (int)-n;
	else if (!strcmp(t->wchan, "0"))
		t->wchan[0] = 0;  /* running, or not sleeping in the kernel */
}

void insp_thread_load(struct insp_host *h, pid_t pid, pid_t tid,
		      struct insp_thread *t)
{
	memset(t, 0, sizeof *t);
	t->tid = tid;
	t->state = '?';
	read_task_line(pid, tid, t);
	insp_read_call(pid, tid, &t->call);
	/* Without ptrace access the kernel shows wchan as "0" rather than
	 * refusing: do not present that as "not waiting". */
	if (!t->wchan_err && !t->wchan[0] &&
	    (t->call.err == EACCES || t->call.err == EPERM))
		t->wchan_err = t->call.err;
	read_stack(pid, tid, t);
	if (t->state == 'T' || t->state == 't')
		snprintf(t->note, sizeof t->note,
			 "stopped by a signal or a debugger (a background "
			 "process reading its terminal gets SIGTTIN)");
	struct insp_proc *p = insp_host_find(h, pid);
	if (p && p->kthread) {
		/* Its "syscall" line reads 0 with zero arguments: no read. */
		t->call.in_syscall = 0;
		snprintf(t->note, sizeof t->note, "a kernel thread: it makes no "
			 "system calls and holds no fds");
	}
	if (t->call.in_syscall)
		call_fds(h, pid, t);
	dedup_fdnums(t);
	if (!t->nfdnums)
		return;
	/* The first MAX_DESCRIBED are described; the report counts the rest
	 * (nfdnums - nfds), as it does when there is no memory for any. */
	size_t n = t->nfdnums < MAX_DESCRIBED ? t->nfdnums : MAX_DESCRIBED;
	t->fds = calloc(n, sizeof *t->fds);
	if (!t->fds)
		return;
	for (size_t i = 0; i < n; i++)
		insp_describe_fd(h, pid, t->fdnums[i], INSP_SEARCH_HOST,
				 &t->fds[i]);
	t->nfds = n;
}

void insp_thread_free(struct insp_thread *t)
{
	for (size_t i = 0; i < t->nstack; i++)
		free(t->stack[i]);
	for (size_t i = 0; i < t->nfds; i++)
		insp_fd_free(&t->fds[i]);
	free(t->stack);
	free(t->fds);
	free(t->fdnums);
}
