/* Naming the culprit of a blocked read: see culprit.h. */
#include "core/culprit.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "core/fdinfo.h"
#include "core/fdlist.h"
#include "log/jbuf.h"
#include "common/sys.h"
#include "log/json.h"

#define CULPRITS_MAX 16

/* --- /proc helpers --- */

static size_t proc_path(char *buf, size_t cap, int pid, const char *tail,
			int fd)
{
	size_t n = 6;
	memcpy(buf, "/proc/", 6);
	if (pid > 0)
		n += nl_fmt_int(buf + n, cap - n, pid);
	else {
		memcpy(buf + n, "self", 4);
		n += 4;
	}
	size_t t = strlen(tail);
	if (n + t + 24 > cap)
		return 0;
	memcpy(buf + n, tail, t + 1);
	n += t;
	if (fd >= 0)
		n += nl_fmt_int(buf + n, cap - n, fd);
	return n;
}

static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = nl_sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	ssize_t n = nl_sys_read(fd, buf, cap - 1);
	nl_sys_close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

static pid_t parent_of(int pid)
{
	char path[64], buf[512];
	proc_path(path, sizeof path, pid, "/stat", -1);
	if (read_small(path, buf, sizeof buf) <= 0)
		return -1;
	const char *p = strrchr(buf, ')');
	if (!p || strlen(p) < 5)
		return -1;
	long v = 0;
	for (p += 4; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	return (pid_t)v;
}

/* Whether fd of pid is open for writing, from fdinfo's octal flags. */
static int open_for_writing(int pid, int fd)
{
	char path[64], buf[256];
	proc_path(path, sizeof path, pid, "/fdinfo/", fd);
	if (read_small(path, buf, sizeof buf) <= 0)
		return 1;  /* cannot tell: report it */
	const char *f = strstr(buf, "flags:");
	if (!f)
		return 1;
	unsigned long flags = 0;
	for (f += 6; *f == ' ' || *f == '\t'; f++)
		;
	for (; *f >= '0' && *f <= '7'; f++)
		flags = flags * 8 + (unsigned long)(*f - '0');
	return (flags & O_ACCMODE) != O_RDONLY;
}

/* --- pipe and FIFO holders --- */

struct holder_scan {
	const char *object;      /* readlink target of our fd */
	pid_t self, self_parent;
	int saw_self;            /* /proc listed this process: it is real */
	char self_exe[512];
	int pid;                 /* process being scanned */
	int fds[8], n_fds;
	int denied;              /* processes whose fds we may not read */
	int found;
	struct nl_jbuf *out;
};

static void match_fd(int fd, void *arg)
{
	struct holder_scan *h = arg;
	char path[64], link[256];
	proc_path(path, sizeof path, h->pid, "/fd/", fd);
	ssize_t n = nl_sys_readlink(path, link, sizeof link - 1);
	if (n <= 0)
		return;
	link[n] = '\0';
	if (strcmp(link, h->object) || !open_for_writing(h->pid, fd))
		return;
	if (h->n_fds < 8)
		h->fds[h->n_fds++] = fd;
}

static const char *relation(struct holder_scan *h, const char *exe)
{
	if (h->pid == h->self)
		return "self";
	pid_t parent = parent_of(h->pid);
	if (parent == h->self)
		return strcmp(exe, h->self_exe) == 0 ? "bare-fork child" : "child";
	if (parent > 0 && parent_of(parent) == h->self)
		return "grandchild";
	if (h->pid == h->self_parent)
		return "parent";
	return "other";
}

static void cmdline_of(int pid, char *buf, size_t cap)
{
	char path[64];
	proc_path(path, sizeof path, pid, "/cmdline", -1);
	ssize_t n = read_small(path, buf, cap);
	for (ssize_t i = 0; i < n - 1; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
}

static void add_holder(struct holder_scan *h)
{
	char path[64], exe[512], cmd[256];
	proc_path(path, sizeof path, h->pid, "/exe", -1);
	ssize_t n = nl_sys_readlink(path, exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	cmdline_of(h->pid, cmd, sizeof cmd);
	struct nl_jbuf *j = h->out;
	nl_jb_raw(j, h->found ? ",{" : "{");
	nl_jb_key(j, "pid", 1);
	nl_jb_int(j, h->pid);
	nl_jb_key(j, "exe", 0);
	nl_jb_str(j, n > 0 ? exe : "unknown (permission)");
	nl_jb_key(j, "cmdline", 0);
	nl_jb_str(j, cmd);
	nl_jb_key(j, "fds", 0);
	nl_jb_raw(j, "[");
	for (int i = 0; i < h->n_fds; i++) {
		if (i)
			nl_jb_raw(j, ",");
		nl_jb_int(j, h->fds[i]);
	}
	nl_jb_raw(j, "]");
	nl_jb_key(j, "relation", 0);
	nl_jb_str(j, relation(h, exe));
	nl_jb_raw(j, "}");
	h->found++;
}

static void scan_process(int pid, void *arg)
{
	struct holder_scan *h = arg;
	if (pid == h->self)
		h->saw_self = 1;
	if (h->found >= CULPRITS_MAX)
		return;
	char dir[48];
	proc_path(dir, sizeof dir, pid, "/fd", -1);
	h->pid = pid;
	h->n_fds = 0;
	if (nl_for_each_number(dir, match_fd, h) < 0) {
		h->denied++;
		return;
	}
	if (h->n_fds)
		add_holder(h);
}

/* [...] of the holders of a pipe or FIFO whose link target is `object`. */
static void pipe_holders(struct nl_jbuf *j, const char *object)
{
	struct holder_scan h = { .object = object, .out = j };
	h.self = nl_sys_getpid();
	h.self_parent = nl_sys_getppid();
	ssize_t n = nl_sys_readlink("/proc/self/exe", h.self_exe,
				    sizeof h.self_exe - 1);
	h.self_exe[n > 0 ? n : 0] = '\0';
	nl_jb_raw(j, "[");
	/* /proc may be missing, or covered by something else: only a /proc
	 * that lists this very process is believed. */
	if (!object[0] || nl_for_each_number("/proc", scan_process, &h) < 0 ||
	    !h.saw_self)
		h.denied = -1;
	if (h.denied) {
		nl_jb_raw(j, h.found ? ",{" : "{");
		nl_jb_key(j, "relation", 1);
		nl_jb_str(j, h.denied < 0 ? "unknown (/proc unavailable)"
					  : "unknown (permission)");
		if (h.denied > 0) {
			nl_jb_key(j, "processes", 0);
			nl_jb_int(j, h.denied);
		}
		nl_jb_raw(j, "}");
	}
	nl_jb_raw(j, "]");
}

/* --- sockets --- */

static const char *tcp_state_name(unsigned s)
{
	static const char *const names[] = {
#define NL_TCP_STATE(number, name) [number] = name,
#include "common/events.def"
	};
	return s < sizeof names / sizeof *names ? names[s] : "?";
}

/* {"pid":..,"exe":..} of a UNIX socket's peer; 0 when unknown. */
static int unix_peer(struct nl_jbuf *j, int fd)
{
	struct ucred cred;
	socklen_t cl = sizeof cred;
	if (nl_sys6(SYS_getsockopt, fd, SOL_SOCKET, SO_PEERCRED, (long)&cred,
		    (long)&cl, 0) < 0 || cred.pid <= 0)
		return 0;
	char path[64], exe[512];
	proc_path(path, sizeof path, cred.pid, "/exe", -1);
	ssize_t n = nl_sys_readlink(path, exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	nl_jb_raw(j, "{");
	nl_jb_key(j, "pid", 1);
	nl_jb_int(j, cred.pid);
	nl_jb_key(j, "exe", 0);
	nl_jb_str(j, n > 0 ? exe : "unknown (permission)");
	nl_jb_raw(j, "}");
	return 1;
}

/* {"local":..,"peer":..,"state":..,...} of a TCP socket. */
static void tcp_state(struct nl_jbuf *j, int fd)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof a;
	char s[200];
	int first = 1;
	nl_jb_raw(j, "{");
	if (NL_SYS(SYS_getsockname, fd, &a, &len) == 0) {
		nl_format_sockaddr(s, sizeof s, (struct sockaddr *)&a, len);
		nl_jb_key(j, "local", first);
		nl_jb_str(j, s);
		first = 0;
	}
	len = sizeof a;
	if (NL_SYS(SYS_getpeername, fd, &a, &len) == 0) {
		nl_format_sockaddr(s, sizeof s, (struct sockaddr *)&a, len);
		nl_jb_key(j, "peer", first);
		nl_jb_str(j, s);
		first = 0;
	}
	struct tcp_info ti;
	socklen_t tl = sizeof ti;
	if (nl_sys6(SYS_getsockopt, fd, IPPROTO_TCP, TCP_INFO, (long)&ti,
		    (long)&tl, 0) == 0) {
		nl_jb_key(j, "state", first);
		nl_jb_str(j, tcp_state_name(ti.tcpi_state));
		nl_jb_key(j, "unacked", 0);
		nl_jb_int(j, ti.tcpi_unacked);
		nl_jb_key(j, "retransmits", 0);
		nl_jb_int(j, ti.tcpi_total_retrans);
		nl_jb_key(j, "last_recv_ms", 0);
		nl_jb_int(j, ti.tcpi_last_data_recv);
	}
	nl_jb_raw(j, "}");
}

static int socket_domain(int fd)
{
	int domain = 0;
	socklen_t dl = sizeof domain;
	if (nl_sys6(SYS_getsockopt, fd, SOL_SOCKET, SO_DOMAIN, (long)&domain,
		    (long)&dl, 0) < 0)
		return -1;
	return domain;
}

/* --- terminals --- */

/* {"path":..,"deleted":..,"hung_up":..,"foreground":..} of a terminal. */
static void tty_state(struct nl_jbuf *j, int fd, const char *link)
{
	size_t n = strlen(link);
	static const char deleted[] = " (deleted)";
	int is_deleted = n > sizeof deleted - 1 &&
			 !strcmp(link + n - (sizeof deleted - 1), deleted);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int hung_up = NL_SYS(SYS_poll, &p, 1, 0) > 0 && (p.revents & POLLHUP);
	pid_t fg = -1;
	int fg_known = nl_sys_ioctl(fd, TIOCGPGRP, &fg) == 0;
	nl_jb_raw(j, "{");
	nl_jb_key(j, "path", 1);
	nl_jb_str(j, link);
	nl_jb_key(j, "deleted", 0);
	nl_jb_raw(j, is_deleted ? "true" : "false");
	nl_jb_key(j, "hung_up", 0);
	nl_jb_raw(j, hung_up ? "true" : "false");
	nl_jb_key(j, "foreground", 0);
	nl_jb_raw(j, !fg_known ? "null" : fg == nl_sys_getpgid(0) ? "true" : "false");
	nl_jb_raw(j, "}");
}

/* --- assembling --- */

/* The culprit of fd as one field: writes its JSON value into j and returns
 * its key, or NULL when the kind of fd has none. */
static const char *culprit_value(struct nl_jbuf *j, int fd,
				 const struct nl_fd_desc *d)
{
	if (!strcmp(d->kind, "pipe") || !strcmp(d->kind, "fifo")) {
		pipe_holders(j, d->object);
		return "culprits";
	}
	if (!strcmp(d->kind, "tty")) {
		tty_state(j, fd, d->object);
		return "tty";
	}
	if (strcmp(d->kind, "socket"))
		return NULL;
	int domain = socket_domain(fd);
	if (domain == AF_UNIX)
		return unix_peer(j, fd) ? "peer" : NULL;
	if (domain == AF_INET || domain == AF_INET6) {
		tcp_state(j, fd);
		return "tcp";
	}
	return NULL;
}

size_t nl_culprit_json(char *buf, size_t cap, int fd)
{
	struct nl_jbuf j;
	struct nl_fd_desc d;
	char value[2048];
	struct nl_jbuf v;
	nl_fd_describe(fd, &d);
	nl_jb_init(&v, value, sizeof value);
	const char *key = culprit_value(&v, fd, &d);
	nl_jb_init(&j, buf, cap);
	nl_jb_raw(&j, "{");
	nl_jb_key(&j, "fd", 1);
	nl_jb_int(&j, fd);
	nl_jb_key(&j, "kind", 0);
	nl_jb_str(&j, d.kind);
	nl_jb_key(&j, "object", 0);
	nl_jb_str(&j, d.object);
	if (key && !v.full) {
		nl_jb_key(&j, key, 0);
		nl_jb_raw(&j, value);
	}
	nl_jb_raw(&j, "}");
	if (j.full) {
		nl_jb_init(&j, buf, cap);
		nl_jb_raw(&j, "{\"truncated\":true}");
	}
	return j.len;
}

void nl_event_culprits(struct nl_event *ev, int fd)
{
	struct nl_fd_desc d;
	char value[3072];
	struct nl_jbuf v;
	nl_fd_describe(fd, &d);
	nl_event_str(ev, "kind", d.kind);
	nl_event_str(ev, "object", d.object);
	if (d.end)
		nl_event_str(ev, "end", d.end);
	nl_jb_init(&v, value, sizeof value);
	const char *key = culprit_value(&v, fd, &d);
	if (key && !v.full)
		nl_event_raw(ev, key, value);
}
