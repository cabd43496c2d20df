/* Naming the culprit of a blocked read: see culprit.h. */
#include "core/culprit.h"

#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/kcmp.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "log/arena.h"
#include "core/fdinfo.h"
#include "core/fdlist.h"
#include "log/jbuf.h"
#include "common/sys.h"
#include "log/json.h"
#include "log/output.h"

/* Buffers for paths read from /proc: arena memory, not the stack (the
 * blocked read may run on a small signal or thread stack). */
#define EXE_MAX 512
#define CMD_MAX 256

/* --- /proc helpers --- */

/* v >= 0 in decimal at buf (room for 11 bytes); returns the length. */
static size_t put_decimal(char *buf, int v)
{
	char rev[11];
	size_t n = 0, k = 0;
	do
		rev[k++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (k)
		buf[n++] = rev[--k];
	buf[n] = '\0';
	return n;
}

/* /proc/PID<tail>[FD]: a leaf, since it runs at the bottom of the scan. */
static size_t proc_path(char *buf, size_t cap, int pid, const char *tail,
			int fd)
{
	size_t n = 6;
	memcpy(buf, "/proc/", 6);
	if (pid > 0)
		n += put_decimal(buf + n, pid);
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
		n += put_decimal(buf + n, fd);
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

/* --- holders of a pipe, FIFO or socket --- */

/* Holders go into the list as they are found, with no list of their own:
 * a process's fds as its /proc/PID/fd is read, the processes in the order
 * /proc lists them.  The list gets the room its jbuf has (the rest of an
 * event line) less what is kept back for its end: what closes a holder,
 * `],"more_fds":N,"relation":"bare-fork child"}` (HOLDER_END), and what
 * closes the list, the unknown entries, {"more":N} and `]` (LIST_END).  A
 * list cut short so still ends well and says how much it left out: fds of
 * a listed holder in its more_fds, whole holders in {"more":N}. */
#define HOLDER_END 64
#define LIST_END 208

/* The scan's state and every buffer it reads /proc into, in one piece of
 * arena memory; the helpers below use them one after the other. */
struct holder_scan {
	pid_t self, self_parent;
	int pid;                 /* process being scanned */
	int at;                  /* whose /proc entry is read: pid, or one
				  * of its threads when its leader is gone */
	int no_fds;              /* /proc/PID/fd lists none */
	int listing;             /* 1: its entry is open; -1: left out */
	int n_fds, more_fds;     /* its fds on the object: listed, left out */
	size_t entry_at;         /* where its entry starts in out */
	int denied;              /* processes /proc refused (EACCES, EPERM) */
	int hidden;              /* /proc hides some (hidepid) */
	int failed;              /* processes /proc failed on otherwise */
	int found, more;         /* holders listed, and left out */
	struct nl_jbuf *out;
	const char *prefix;      /* how the link of an fd on it begins */
	struct stat object;      /* the pipe, FIFO or socket: st_dev, st_ino */
	char dir[48];            /* /proc/AT/fd, being listed */
	char task_dir[48];       /* /proc/PID/task */
	char path[64];           /* any other /proc path */
	/* "pid (comm) S ppid", "pos:..\nflags:..": what is wanted comes
	 * first (comm is at most 16 bytes). */
	char small[192];
	char link[16];           /* the start of a link: only its kind counts */
	struct stat st;
	char exe[EXE_MAX], self_exe[EXE_MAX];
	char cmd[CMD_MAX], self_cmd[CMD_MAX];
	struct nl_numdir procs, fd_dir;   /* /proc, and /proc/AT/fd */
	struct nl_numdir tasks;           /* /proc/PID/task */
};

static pid_t parent_of(struct holder_scan *h, int pid)
{
	proc_path(h->path, sizeof h->path, pid, "/stat", -1);
	if (read_small(h->path, h->small, sizeof h->small) <= 0)
		return -1;
	const char *p = strrchr(h->small, ')');
	if (!p || strlen(p) < 5)
		return -1;
	long v = 0;
	for (p += 4; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	return (pid_t)v;
}

/* Whether /proc is this process's own: its "self" names our pid.  A /proc
 * of another PID namespace (unshare -p without a /proc of its own) lists
 * other numbers, and names a process there pid 1 that is not our pid 1. */
__attribute__((noinline))   /* its digits off the scan's frame */
static int proc_is_ours(struct holder_scan *h)
{
	ssize_t n = nl_sys_readlink("/proc/self", h->small, sizeof h->small - 1);
	if (n <= 0)
		return 0;
	h->small[n] = '\0';
	put_decimal(h->path, h->self);
	return !strcmp(h->small, h->path);
}

/* Whether fd of the scanned process is open for writing, from fdinfo's
 * octal flags (a socket always is). */
static int open_for_writing(struct holder_scan *h, int fd)
{
	proc_path(h->path, sizeof h->path, h->at, "/fdinfo/", fd);
	if (read_small(h->path, h->small, sizeof h->small) <= 0)
		return 1;  /* cannot tell: report it */
	const char *f = strstr(h->small, "flags:");
	if (!f)
		return 1;
	unsigned long flags = 0;
	for (f += 6; *f == ' ' || *f == '\t'; f++)
		;
	for (; *f >= '0' && *f <= '7'; f++)
		flags = flags * 8 + (unsigned long)(*f - '0');
	return (flags & O_ACCMODE) != O_RDONLY;
}

/* Whether fdinfo of the scanned process's fd gives an inode number other
 * than the object's ("ino:", procfs's own, Linux 5.14 and later): then
 * the fd is on another file, and its file system need not be asked. */
static int other_inode(struct holder_scan *h, int fd)
{
	proc_path(h->path, sizeof h->path, h->at, "/fdinfo/", fd);
	if (read_small(h->path, h->small, sizeof h->small) <= 0)
		return 0;
	const char *f = strstr(h->small, "\nino:");
	if (!f)
		return 0;
	unsigned long long ino = 0;
	for (f += 5; *f == ' ' || *f == '\t'; f++)
		;
	for (; *f >= '0' && *f <= '9'; f++)
		ino = ino * 10 + (unsigned long long)(*f - '0');
	return ino != (unsigned long long)h->object.st_ino;
}

/* Whether fd of the scanned process is on the object: the same inode of
 * the same device, so a FIFO under any name (a hard link, a bind mount,
 * another mount namespace, a path of any length).  Only an fd whose link
 * is of the object's kind ("pipe:[", or a path for a FIFO) is looked at,
 * and a path only when fdinfo does not tell another inode: the file
 * system of a file that is not the FIFO (a hung network mount) is asked
 * nothing. */
static int on_object(struct holder_scan *h, int fd)
{
	size_t p = strlen(h->prefix);
	proc_path(h->path, sizeof h->path, h->at, "/fd/", fd);
	ssize_t n = nl_sys_readlink(h->path, h->link, sizeof h->link);
	if (n < (ssize_t)p || memcmp(h->link, h->prefix, p))
		return 0;
	if (h->prefix[0] == '/') {
		if (other_inode(h, fd))
			return 0;
		proc_path(h->path, sizeof h->path, h->at, "/fd/", fd);
	}
	return nl_sys_stat(h->path, &h->st) == 0 &&
	       h->st.st_dev == h->object.st_dev &&
	       h->st.st_ino == h->object.st_ino;
}

static const char *relation(struct holder_scan *h)
{
	if (h->pid == h->self)
		return "self";
	pid_t parent = parent_of(h, h->pid);
	if (parent == h->self)
		/* A fork child that never exec'd runs our executable with our
		 * argv, in the memory it copied; an exec of the same program
		 * has argv of its own. */
		return !strcmp(h->exe, h->self_exe) && !strcmp(h->cmd, h->self_cmd)
		       ? "bare-fork child" : "child";
	if (parent > 0 && parent_of(h, parent) == h->self)
		return "grandchild";
	if (h->pid == h->self_parent)
		return "parent";
	return "other";
}

static void cmdline_of(struct holder_scan *h, int pid, char *cmd)
{
	proc_path(h->path, sizeof h->path, pid, "/cmdline", -1);
	ssize_t n = read_small(h->path, cmd, CMD_MAX);
	for (ssize_t i = 0; i < n - 1; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
}

/* Keep up to n bytes of j's room back from what is written next; returns
 * how many were kept, to give back with j->cap += kept. */
static size_t hold_back(struct nl_jbuf *j, size_t n)
{
	size_t room = j->cap - j->len;
	if (n > room)
		n = room;
	j->cap -= n;
	return n;
}

static void take_back(struct nl_jbuf *j, size_t at)
{
	j->len = at;
	j->full = 0;
	j->b[at] = '\0';
}

/* Opens the scanned process's entry, up to its "fds":[; 1, or -1 when it
 * does not fit, nor then any holder after it (the list keeps /proc's
 * order). */
static int open_holder(struct holder_scan *h)
{
	struct nl_jbuf *j = h->out;
	if (h->more)
		return -1;
	/* Of the thread whose table is read: a leader that has exited has
	 * no memory, so no exe and no command line. */
	proc_path(h->path, sizeof h->path, h->at, "/exe", -1);
	ssize_t n = nl_sys_readlink(h->path, h->exe, sizeof h->exe - 1);
	h->exe[n > 0 ? n : 0] = '\0';
	cmdline_of(h, h->at, h->cmd);
	h->entry_at = j->len;
	size_t kept = hold_back(j, HOLDER_END);
	nl_jb_raw(j, h->found ? ",{" : "{");
	nl_jb_key(j, "pid", 1);
	nl_jb_int(j, h->pid);
	nl_jb_key(j, "exe", 0);
	nl_jb_str(j, n > 0 ? h->exe : n == -EACCES || n == -EPERM
				? "unknown (permission)" : "unknown");
	nl_jb_key(j, "cmdline", 0);
	nl_jb_str(j, h->cmd);
	nl_jb_key(j, "fds", 0);
	nl_jb_raw(j, "[");
	j->cap += kept;
	if (j->full) {
		take_back(j, h->entry_at);
		return -1;
	}
	return 1;
}

static void add_fd(struct holder_scan *h, int fd)
{
	struct nl_jbuf *j = h->out;
	if (!h->listing)
		h->listing = open_holder(h);
	if (h->listing < 0)
		return;
	size_t at = j->len, kept = hold_back(j, HOLDER_END);
	if (!h->more_fds) {
		if (h->n_fds)
			nl_jb_raw(j, ",");
		nl_jb_int(j, fd);
	}
	j->cap += kept;
	if (h->more_fds || j->full) {
		take_back(j, at);
		h->more_fds++;
	} else
		h->n_fds++;
}

static void close_holder(struct holder_scan *h)
{
	struct nl_jbuf *j = h->out;
	nl_jb_raw(j, "]");
	if (h->more_fds) {
		nl_jb_key(j, "more_fds", 0);
		nl_jb_int(j, h->more_fds);
	}
	nl_jb_key(j, "relation", 0);
	nl_jb_str(j, relation(h));
	nl_jb_raw(j, "}");
	h->found++;
}

/* kcmp(2) of two threads' fd tables: 0 the same, 1 a's sorts first, 2
 * b's; negative when the kernel cannot say (no kcmp, a thread gone). */
static long table_order(int a, int b)
{
	return nl_sys6(SYS_kcmp, a, b, KCMP_FILES, 0, 0, 0);
}

/* A process whose main thread has exited (pthread_exit() in main) lists
 * no fds in /proc/PID/fd, while its other threads keep the process, and
 * the table, alive: their tables are read through /proc/TID/fd.  Each
 * distinct table once (a thread may have one of its own, after
 * unshare(CLONE_FILES)), in kcmp's order: the thread whose table comes
 * first after the table of thread `last` (the process's pid: none yet),
 * or -1 when none is left.  So no list of them is kept.  Without kcmp,
 * the first thread's only, which is every thread's but an unsharer's.
 * Not inlined: its frame is not on the scan's deepest path. */
__attribute__((noinline))
static int next_table(struct holder_scan *h, int last)
{
	int next = -1;
	if (nl_numdir_open(&h->tasks, h->task_dir, 0) < 0)
		return -1;
	for (int tid; (tid = nl_numdir_next(&h->tasks)) >= 0;)
		if (tid != h->pid &&
		    (last == h->pid || table_order(last, tid) == 1) &&
		    (next < 0 || table_order(tid, next) == 1))
			next = tid;
	nl_numdir_close(&h->tasks);
	return next;
}

/* Every process's fds, in nested loops rather than callbacks: the scan
 * runs at the bottom of a blocked read, with one frame for all of it.
 * A process's fds are in its own table, or, when that lists none, in
 * its threads' (next_table).  Returns -1 when /proc cannot be listed. */
static int scan_processes(struct holder_scan *h)
{
	if (nl_numdir_open(&h->procs, "/proc", 0) < 0)
		return -1;
	while ((h->pid = nl_numdir_next(&h->procs)) >= 0) {
		h->listing = h->n_fds = h->more_fds = 0;
		for (h->at = h->pid; h->at > 0 && h->listing >= 0;
		     h->at = next_table(h, h->at)) {
			proc_path(h->dir, sizeof h->dir, h->at, "/fd", -1);
			int r = nl_numdir_open(&h->fd_dir, h->dir, 0);
			if (h->at != h->pid && r < 0)
				continue;
			if (r == -EACCES || r == -EPERM)
				h->denied++;
			else if (r < 0 && r != -ENOENT && r != -ESRCH)
				h->failed++;
			if (r < 0)
				break;   /* ENOENT, ESRCH: it exited since the listing */
			int fd = nl_numdir_next(&h->fd_dir);
			h->no_fds = fd < 0;
			for (; fd >= 0 && h->listing >= 0;
			     fd = nl_numdir_next(&h->fd_dir))
				if (on_object(h, fd) && open_for_writing(h, fd))
					add_fd(h, fd);
			nl_numdir_close(&h->fd_dir);
			if (h->at != h->pid)
				continue;
			if (!h->no_fds)
				break;   /* its own table is all */
			proc_path(h->task_dir, sizeof h->task_dir, h->pid,
				  "/task", -1);
		}
		if (h->listing > 0)
			close_holder(h);
		else if (h->listing < 0)
			h->more++;
	}
	nl_numdir_close(&h->procs);
	return 0;
}

/* Whether /proc hides processes from us (mounted with hidepid=invisible
 * or ptraceable): then those we may not look at are neither listed nor
 * refused, and cannot be counted.  Pid 1 is in every PID namespace, and
 * in our /proc (proc_is_ours) unless hidden; it is ours to see when we
 * are it. */
__attribute__((noinline))   /* off the scan's frame */
static int proc_hides(struct holder_scan *h)
{
	return h->self != 1 && nl_sys_stat("/proc/1", &h->st) == -ENOENT;
}

/* One {"relation":"unknown (...)"[,"processes":n]} entry of the list. */
static inline __attribute__((always_inline)) void
unknown_entry(struct holder_scan *h, const char *why, int n)
{
	struct nl_jbuf *j = h->out;
	nl_jb_raw(j, h->found++ ? ",{" : "{");
	nl_jb_key(j, "relation", 1);
	nl_jb_str(j, why);
	if (n > 0) {
		nl_jb_key(j, "processes", 0);
		nl_jb_int(j, n);
	}
	nl_jb_raw(j, "}");
}

/* [...] of the holders of what fd reads from: the pipe or FIFO's write
 * end, or (peer_ino not 0) the UNIX socket of that inode at the other end
 * of fd, a socket of the same file system. */
__attribute__((noinline))
static void holders(struct nl_jbuf *j, int fd, const char *kind,
		    unsigned long peer_ino)
{
	size_t mark = nl_arena_enter();
	struct holder_scan *h = nl_arena_get(sizeof *h);
	if (!h) {
		nl_arena_leave(mark);
		j->full = 1;
		return;
	}
	memset(h, 0, offsetof(struct holder_scan, dir));
	h->out = j;
	h->prefix = peer_ino ? "socket:[" : !strcmp(kind, "pipe") ? "pipe:[" : "/";
	h->self = nl_sys_getpid();
	h->self_parent = nl_sys_getppid();
	nl_jb_raw(j, "[");
	size_t kept = hold_back(j, LIST_END);
	/* /proc may be missing, covered by something else, or another PID
	 * namespace's: only the /proc whose "self" is this process is
	 * believed. */
	int ok = nl_sys_fstat(fd, &h->object) == 0;
	if (peer_ino)
		h->object.st_ino = peer_ino;
	if (!ok || !proc_is_ours(h))
		h->denied = -1;
	else {
		ssize_t n = nl_sys_readlink("/proc/self/exe", h->self_exe,
					    sizeof h->self_exe - 1);
		h->self_exe[n > 0 ? n : 0] = '\0';
		cmdline_of(h, h->self, h->self_cmd);
		if (scan_processes(h) < 0)
			h->denied = -1;
		else
			h->hidden = proc_hides(h);
	}
	j->cap += kept;
	if (h->denied)
		unknown_entry(h, h->denied < 0 ? "unknown (/proc unavailable)"
					       : "unknown (permission)", h->denied);
	if (h->hidden)
		unknown_entry(h, "unknown (hidden by hidepid)", 0);
	if (h->failed)
		unknown_entry(h, "unknown (error)", h->failed);
	if (h->more) {
		nl_jb_raw(j, h->found ? ",{" : "{");
		nl_jb_key(j, "more", 1);
		nl_jb_int(j, h->more);
		nl_jb_raw(j, "}");
	}
	nl_jb_raw(j, "]");
	nl_arena_leave(mark);
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

/* The inode of the socket at the other end of UNIX socket fd, from the
 * kernel's sock_diag interface (NETLINK_SOCK_DIAG, UDIAG_SHOW_PEER): 0
 * when it has none, -1 when the kernel cannot say (no netlink socket for
 * us, unix_diag missing, a socket of another network namespace).
 *
 * A connection the server has not accepted yet has a peer with no inode
 * (the socket accept() will return does not exist yet): its connection
 * waits in a listening socket's backlog, and whoever holds that listener
 * could accept it.  So, for a stream socket whose peer has no inode, the
 * listener: the kernel lists each listener's pending connections by the
 * inode of the connecting socket (UDIAG_SHOW_ICONS), in a dump of the
 * listening sockets.
 *
 * The netlink socket is one of the shim's own transient fds
 * (log/output.h): placed away from the numbers the program uses, and held
 * while it is written and read, so a number the program takes over
 * meanwhile is never written or read. */
/* A dump's messages come in parts of at most a page (NLMSG_GOODSIZE, 8
 * KiB at most) or the size of the last receive: one fits whole. */
#define DIAG_REPLY 8192
struct diag_bufs {
	struct stat st;
	struct sockaddr_nl kernel;
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req;
	/* The reply: a header, unix_diag_msg and its attributes (an error
	 * echoes the request), or a part of the listeners' dump. */
	union {
		struct nlmsghdr h;
		char b[DIAG_REPLY];
	} rep;
};

/* The attribute `type` of unix_diag message h, or NULL; *len its length. */
static const char *diag_attr(const struct nlmsghdr *h, unsigned type,
			     size_t *len)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	const char *a = (const char *)m + NLMSG_ALIGN(sizeof *m);
	size_t left = h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof *m));
	while (left >= sizeof(struct nlattr)) {
		const struct nlattr *at = (const struct nlattr *)a;
		if (at->nla_len < sizeof *at || at->nla_len > left)
			break;
		if ((at->nla_type & NLA_TYPE_MASK) == type) {
			*len = at->nla_len - NLA_HDRLEN;
			return a + NLA_HDRLEN;
		}
		size_t step = NLA_ALIGN(at->nla_len);
		if (step >= left)
			break;
		a += step;
		left -= step;
	}
	return NULL;
}

static int diag_msg_ok(const struct nlmsghdr *h, long n)
{
	return n >= (long)sizeof *h && NLMSG_OK(h, (size_t)n) &&
	       h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
	       h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct unix_diag_msg));
}

static long diag_peer(const struct diag_bufs *b, long n)
{
	const struct nlmsghdr *h = &b->rep.h;
	if (!diag_msg_ok(h, n))
		return -1;   /* NLMSG_ERROR: ENOENT, EOPNOTSUPP, ... */
	if (((const struct unix_diag_msg *)NLMSG_DATA(h))->udiag_ino !=
	    b->req.r.udiag_ino)
		return -1;
	size_t len;
	const char *v = diag_attr(h, UNIX_DIAG_PEER, &len);
	uint32_t ino = 0;   /* no peer, or (0) one already closed */
	if (v && len >= sizeof ino)
		memcpy(&ino, v, sizeof ino);
	return ino;
}

static long diag_send(int nfd, struct diag_bufs *b, unsigned flags,
		      unsigned states, uint32_t ino, unsigned show)
{
	memset(&b->kernel, 0, sizeof b->kernel);
	b->kernel.nl_family = AF_NETLINK;
	memset(&b->req, 0, sizeof b->req);
	b->req.h.nlmsg_len = sizeof b->req;
	b->req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	b->req.h.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | flags);
	b->req.r.sdiag_family = AF_UNIX;
	b->req.r.udiag_states = states;
	b->req.r.udiag_ino = ino;
	b->req.r.udiag_show = show;
	/* No cookie: the socket is looked up by its inode alone. */
	b->req.r.udiag_cookie[0] = b->req.r.udiag_cookie[1] = ~0u;
	return nl_sys6(SYS_sendto, nfd, (long)&b->req, sizeof b->req, 0,
		       (long)&b->kernel, sizeof b->kernel);
}

/* The kernel answers within the send, and makes each next part of a dump
 * within the receive of the one before: a receive never waits. */
static long diag_recv(int nfd, struct diag_bufs *b)
{
	return nl_sys6(SYS_recvfrom, nfd, (long)&b->rep, sizeof b->rep,
		       MSG_DONTWAIT, 0, 0);
}

/* The listener with ino among its pending connections: its inode, 0 when
 * none has it, -1 when the dump fails. */
static long diag_listener(int nfd, struct diag_bufs *b, uint32_t ino)
{
	if (diag_send(nfd, b, NLM_F_DUMP, 1u << TCP_LISTEN, 0,
		      UDIAG_SHOW_ICONS) != (long)sizeof b->req)
		return -1;
	for (;;) {
		long n = diag_recv(nfd, b);
		if (n <= 0)
			return -1;
		for (const struct nlmsghdr *h = &b->rep.h;
		     NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (!diag_msg_ok(h, (long)h->nlmsg_len))
				return -1;   /* NLMSG_ERROR */
			size_t len;
			const char *v = diag_attr(h, UNIX_DIAG_ICONS, &len);
			for (size_t i = 0; v && i + sizeof ino <= len;
			     i += sizeof ino) {
				uint32_t pending;
				memcpy(&pending, v + i, sizeof pending);
				if (pending == ino)
					return ((const struct unix_diag_msg *)
						NLMSG_DATA(h))->udiag_ino;
			}
		}
	}
}

__attribute__((noinline))
static long unix_peer_inode(int fd, int stream)
{
	size_t mark = nl_arena_enter();
	struct diag_bufs *b = nl_arena_get(sizeof *b);
	struct nl_out_fd *t = NULL;
	long ino = -1;
	int nfd = -1;
	if (b && nl_sys_fstat(fd, &b->st) == 0)
		nfd = nl_sys_socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC |
				    SOCK_NONBLOCK, NETLINK_SOCK_DIAG);
	if (nfd >= 0)
		t = nl_out_fd_transient(nfd, &nfd);
	if (!t) {
		nl_arena_leave(mark);
		return -1;
	}
	int held = nl_out_fd_hold(t, nfd);
	if (held >= 0) {
		uint32_t self = (uint32_t)b->st.st_ino;
		if (diag_send(nfd, b, 0, ~0u, self, UDIAG_SHOW_PEER) ==
		    (long)sizeof b->req)
			ino = diag_peer(b, diag_recv(nfd, b));
		if (ino == 0 && stream)
			ino = diag_listener(nfd, b, self);
		nl_out_fd_release(t, held);
	}
	nl_out_fd_transient_done(t);
	nl_arena_leave(mark);
	return ino;
}

/* {"pid":..,"exe":..,"relation":"credentials at connect"} of a UNIX
 * socket's peer (SO_PEERCRED), when the holders of the other end cannot
 * be found: the process that made the pair, called connect() or listen(),
 * at that time.  It may have exited or passed the socket on since.  0
 * when unknown. */
/* Not inlined, here and below: a frame only on the path that needs it. */
__attribute__((noinline))
static int unix_peer_cred(struct nl_jbuf *j, int fd)
{
	struct ucred cred;
	socklen_t cl = sizeof cred;
	if (nl_sys6(SYS_getsockopt, fd, SOL_SOCKET, SO_PEERCRED, (long)&cred,
		    (long)&cl, 0) < 0 || cred.pid <= 0)
		return 0;
	size_t mark = nl_arena_enter();
	char *exe = nl_arena_get(EXE_MAX + 64);
	ssize_t n = -1;
	int ours = 0;
	if (exe) {
		/* The pid is of our PID namespace; the /proc it is looked up
		 * in must be too. */
		char *path = exe + EXE_MAX;
		n = nl_sys_readlink("/proc/self", exe, EXE_MAX - 1);
		exe[n > 0 ? n : 0] = '\0';
		put_decimal(path, nl_sys_getpid());
		ours = n > 0 && !strcmp(exe, path);
		proc_path(path, 64, cred.pid, "/exe", -1);
		n = ours ? nl_sys_readlink(path, exe, EXE_MAX - 1) : -1;
	}
	nl_jb_raw(j, "{");
	nl_jb_key(j, "pid", 1);
	nl_jb_int(j, cred.pid);
	nl_jb_key(j, "exe", 0);
	if (n > 0)
		exe[n] = '\0';
	nl_jb_str(j, n > 0 ? exe : !ours ? "unknown (/proc unavailable)"
			 : n == -ENOENT ? "unknown (exited)" : "unknown (permission)");
	nl_jb_key(j, "relation", 0);
	nl_jb_str(j, "credentials at connect");
	nl_jb_raw(j, "}");
	nl_arena_leave(mark);
	return 1;
}

/* {"local":..,"peer":..,"state":..,...} of a TCP socket. */
__attribute__((noinline))
static void tcp_state(struct nl_jbuf *j, int fd)
{
	struct tcp_bufs {
		struct sockaddr_storage a;
		struct tcp_info ti;
		char s[200];
	} *t;
	size_t mark = nl_arena_enter();
	socklen_t len = sizeof t->a;
	int first = 1;
	t = nl_arena_get(sizeof *t);
	if (!t) {
		nl_arena_leave(mark);
		j->full = 1;
		return;
	}
	nl_jb_raw(j, "{");
	if (NL_SYS(SYS_getsockname, fd, &t->a, &len) == 0) {
		nl_format_sockaddr(t->s, sizeof t->s, (struct sockaddr *)&t->a, len);
		nl_jb_key(j, "local", first);
		nl_jb_str(j, t->s);
		first = 0;
	}
	len = sizeof t->a;
	if (NL_SYS(SYS_getpeername, fd, &t->a, &len) == 0) {
		nl_format_sockaddr(t->s, sizeof t->s, (struct sockaddr *)&t->a, len);
		nl_jb_key(j, "peer", first);
		nl_jb_str(j, t->s);
		first = 0;
	}
	socklen_t tl = sizeof t->ti;
	if (nl_sys6(SYS_getsockopt, fd, IPPROTO_TCP, TCP_INFO, (long)&t->ti,
		    (long)&tl, 0) == 0) {
		nl_jb_key(j, "state", first);
		nl_jb_str(j, tcp_state_name(t->ti.tcpi_state));
		nl_jb_key(j, "unacked", 0);
		nl_jb_int(j, t->ti.tcpi_unacked);
		nl_jb_key(j, "retransmits", 0);
		nl_jb_int(j, t->ti.tcpi_total_retrans);
		nl_jb_key(j, "last_recv_ms", 0);
		nl_jb_int(j, t->ti.tcpi_last_data_recv);
	}
	nl_jb_raw(j, "}");
	nl_arena_leave(mark);
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

static int socket_type(int fd)
{
	int type = 0;
	socklen_t tl = sizeof type;
	return nl_sys6(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, (long)&type,
		       (long)&tl, 0) == 0 ? type : -1;
}

/* --- terminals --- */

/* {"path":..,"deleted":..,"hung_up":..,"foreground":..} of a terminal. */
__attribute__((noinline))
static void tty_state(struct nl_jbuf *j, int fd, const char *link)
{
	size_t n = strlen(link);
	static const char deleted[] = " (deleted)";
	int is_deleted = n > sizeof deleted - 1 &&
			 !strcmp(link + n - (sizeof deleted - 1), deleted);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int hung_up = nl_sys_poll(&p, 1, 0) > 0 && (p.revents & POLLHUP);
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

/* What culprit_key() found out about a socket, for culprit_value(). */
struct sock_peer {
	int domain;
	long peer_ino;   /* UNIX: the other end's inode, 0 none, -1 unknown */
};

/* The key of fd's culprit field, or NULL when its kind has none. */
static const char *culprit_key(int fd, const struct nl_fd_desc *d,
			       struct sock_peer *sp)
{
	if (!strcmp(d->kind, "pipe") || !strcmp(d->kind, "fifo"))
		return "culprits";
	if (!strcmp(d->kind, "tty"))
		return "tty";
	if (strcmp(d->kind, "socket"))
		return NULL;
	sp->domain = socket_domain(fd);
	if (sp->domain == AF_UNIX) {
		/* The holders of the other end, as for a pipe; the peer's
		 * credentials only when the kernel does not say which socket
		 * that is. */
		int type = socket_type(fd);
		sp->peer_ino = unix_peer_inode(fd, type == SOCK_STREAM ||
						   type == SOCK_SEQPACKET);
		return sp->peer_ino > 0 ? "culprits" : sp->peer_ino < 0
			? "peer" : NULL;
	}
	if ((sp->domain == AF_INET || sp->domain == AF_INET6) &&
	    socket_type(fd) == SOCK_STREAM)
		return "tcp";
	return NULL;   /* UDP and the rest: no connection to describe */
}

/* Writes the value of fd's culprit field (its key from culprit_key) into j;
 * 0 when there is none after all (a UNIX socket without a peer). */
static int culprit_value(struct nl_jbuf *j, int fd,
			 const struct nl_fd_desc *d, const struct sock_peer *sp)
{
	if (!strcmp(d->kind, "pipe") || !strcmp(d->kind, "fifo"))
		holders(j, fd, d->kind, 0);
	else if (!strcmp(d->kind, "tty"))
		tty_state(j, fd, d->object);
	else if (sp->domain == AF_UNIX && sp->peer_ino > 0)
		holders(j, fd, d->kind, (unsigned long)sp->peer_ino);
	else if (sp->domain == AF_UNIX)
		return unix_peer_cred(j, fd);
	else
		tcp_state(j, fd);
	return 1;
}

/* What describing an fd takes, in arena memory (these run at the bottom
 * of a blocked read, or of a poll that may be in a signal handler). */
struct culprit_bufs {
	struct nl_fd_desc d;
	struct nl_jbuf j, v;
	struct sock_peer sp;
};

size_t nl_culprit_json(char *buf, size_t cap, int fd)
{
	size_t mark = nl_arena_enter(), len;
	struct culprit_bufs *w = nl_arena_get(sizeof *w);
	if (!w) {
		nl_arena_leave(mark);
		return 0;
	}
	struct nl_jbuf *j = &w->j;
	w->sp.domain = -1;
	w->sp.peer_ino = -1;
	nl_fd_describe(fd, &w->d);
	const char *key = culprit_key(fd, &w->d, &w->sp);
	nl_jb_init(j, buf, cap);
	nl_jb_raw(j, "{");
	nl_jb_key(j, "fd", 1);
	nl_jb_int(j, fd);
	nl_jb_key(j, "kind", 0);
	nl_jb_str(j, w->d.kind);
	nl_jb_key(j, "object", 0);
	nl_jb_str(j, w->d.object);
	if (key && !j->full) {
		/* Written in place, in the room left but for the closing "}"
		 * (a holder list cuts itself to fit, and says how many it
		 * left out).  A value that does not fit makes the object
		 * {"truncated":true}; a socket without a peer has none. */
		size_t before = j->len;
		nl_jb_key(j, key, 0);
		size_t room = j->full ? 0 : j->cap - j->len;
		nl_jb_init(&w->v, j->b + j->len, room > 2 ? room - 2 : 0);
		if (!culprit_value(&w->v, fd, &w->d, &w->sp)) {
			j->len = before;
			j->b[j->len] = '\0';
		} else if (w->v.full)
			j->full = 1;
		else
			j->len += w->v.len;
	}
	nl_jb_raw(j, "}");
	if (j->full) {
		nl_jb_init(j, buf, cap);
		nl_jb_raw(j, "{\"truncated\":true}");
	}
	len = j->len;
	nl_arena_leave(mark);
	return len;
}

void nl_event_culprits(struct nl_event *ev, int fd)
{
	size_t mark = nl_arena_enter();
	struct culprit_bufs *w = nl_arena_get(sizeof *w);
	if (!w) {
		nl_arena_leave(mark);
		return;
	}
	w->sp.domain = -1;
	w->sp.peer_ino = -1;
	nl_fd_describe(fd, &w->d);
	nl_event_str(ev, "kind", w->d.kind);
	nl_event_str(ev, "object", w->d.object);
	if (w->d.end)
		nl_event_str(ev, "end", w->d.end);
	const char *key = culprit_key(fd, &w->d, &w->sp);
	if (key) {
		nl_event_json_open(ev, key, &w->v);
		int some = culprit_value(&w->v, fd, &w->d, &w->sp);
		/* A value too long for the rest of the line goes like any
		 * field that does not fit: the line says "truncated". */
		nl_event_json_close(ev, &w->v, some);
	}
	nl_arena_leave(mark);
}
