/* noleak inspect: why is a running process hung, and who is to blame?
 *
 *   inspect.c  options, the two modes (one process, --all)
 *   proc.c     the host's process table, read from /proc
 *   sys.c      which system call a thread is in, and its fds
 *   fd.c       what an fd is: pipe ends, sockets, ttys
 *   net.c      sockets: /proc/net/tcp{,6}, unix ones by sock_diag
 *   text.c     the report for people
 *   json.c     the report as JSON
 *
 * Everything is read from /proc, so the target needs no preload and no
 * cooperation: it works on static binaries and on programs started long
 * before anyone thought of libnoleak.  What cannot be read is said, never
 * guessed. */
#ifndef NL_INSPECT_H
#define NL_INSPECT_H

#include <stddef.h>
#include <sys/types.h>

/* Exit statuses: 0 a report; 1 no such process, or /proc unreadable; a
 * usage error 2 (the status of every usage error of noleak); 3 the report
 * could not be written (a full disk, a closed pipe with SIGPIPE ignored):
 * a report cut short is never a success, nor "no such process". */
#define NL_INSPECT_EXIT_NOPROC 1
#define NL_INSPECT_EXIT_USAGE 2
#define NL_INSPECT_EXIT_WRITE 3

/* ---- proc.c: the process table ---- */

struct insp_fdlink {
	int fd;
	pid_t at;                /* whose /proc/AT/fd/N it is: the process,
				  * or a thread of it when its leader has
				  * exited */
	char *target;            /* readlink of /proc/AT/fd/N */
};

struct insp_proc {
	pid_t pid, ppid, pgid, sid;
	char state;              /* R, S, D, T, Z ... */
	int kthread;             /* a kernel thread: no system calls, no fds */
	char comm[32];
	char *exe;               /* NULL when unreadable (exe_err) */
	int exe_err;
	char *cmdline;           /* arguments joined by spaces; "[comm]" for
				  * kernel threads and zombies */
	int fds_loaded;
	int fds_err;             /* errno when /proc/P/fd could not be read */
	struct insp_fdlink *fds;
	size_t nfds;
};

/* Why some processes may hold an object unseen (bits). */
#define INSP_HIDDEN_HIDEPID 1    /* /proc hides processes from us (hidepid) */
#define INSP_HIDDEN_PIDNS 2      /* we are in a PID namespace other than the
				  * initial one: processes outside it are not
				  * in our /proc */

struct insp_host {
	struct insp_proc *procs;
	size_t n;
	int hidden;              /* INSP_HIDDEN_* */
};

/* Read every process of the host (stat, exe, cmdline; fds on demand). */
int insp_host_load(struct insp_host *h);
struct insp_proc *insp_host_find(struct insp_host *h, pid_t pid);
/* Whether we run in a PID namespace other than the initial one. */
int insp_pidns_nested(void);
/* Load p's fd table once; returns 0 or -errno (also kept in fds_err).
 * A process whose leader thread has exited has its fds in its other
 * threads' tables (each table's fds once). */
int insp_proc_fds(struct insp_proc *p);

/* How `pid` relates to `subject`: "self", "child", "grandchild",
 * "descendant" (deeper), "parent", "ancestor" or "other". */
const char *insp_relation(struct insp_host *h, pid_t subject, pid_t pid);

/* Small /proc readers.  Each returns the length read or -errno. */
ssize_t insp_read_file(const char *path, char *buf, size_t cap);
ssize_t insp_readlink(const char *path, char *buf, size_t cap);
/* "flags:" of /proc/PID/fdinfo/FD, or -errno. */
long insp_fd_flags(pid_t pid, int fd);
/* How an errno from /proc is said: "permission", "gone", ... */
const char *insp_errtext(int err);

/* ---- fd.c: describing an fd ---- */

struct insp_holder {
	pid_t pid;
	int fd;
	int acc;                 /* O_ACCMODE of its flags, -1 unknown */
};

struct insp_holders {
	struct insp_holder *v;
	size_t n;
	int unsearched;          /* processes whose fds could not be read */
	int hidden;              /* and some are not seen (INSP_HIDDEN_*) */
};

/* How far a unix socket's name from /proc/net/unix can be trusted (net.c,
 * unix_table; names from sock_diag are exact). */
enum insp_doubt {
	INSP_DOUBT_NONE,
	INSP_DOUBT_CUT,          /* the name goes on past a newline */
	INSP_DOUBT_TWICE,        /* two rows claim the inode: name, state unknown */
};

struct insp_sock {
	char proto[8];           /* tcp, tcp6, unix, "" when not found */
	char local[128];         /* unix: the name's bytes, escaped only when
				  * printed; "" unnamed */
	enum insp_doubt local_doubt;
	char remote[128];
	char state[16];          /* ESTABLISHED, LISTEN, ... */
	unsigned long peer_ino;  /* the other side's inode, 0 unknown */
	int backlog;             /* unix: a connection not accepted yet;
				  * peer_ino is the listener's */
	int peer_unknown;        /* unix, no peer_ino: INSP_PEER_* */
};

/* Why a unix socket's peer could not be looked up (a unix peer is always
 * on this host; sock_diag names it). */
enum {
	INSP_PEER_LOOKED_UP,
	INSP_PEER_OTHER_NETNS,   /* the socket is in another network namespace
				  * than inspect's, and sock_diag could not be
				  * asked in it (that takes CAP_SYS_ADMIN) */
	INSP_PEER_NO_DIAG,       /* no sock_diag (unix_diag) to ask */
};

struct insp_fd {
	int fd;
	char target[4096];       /* what /proc/P/fd/N points to */
	int target_err;
	const char *kind;        /* pipe, fifo, socket, tty, file, anon, ... */
	unsigned long ino;
	unsigned long long dev;  /* a FIFO's device (st_dev) */
	long flags;              /* fdinfo flags, -errno when unreadable */
	int deleted;             /* target ends in " (deleted)" */
	int tty_gone;            /* a terminal whose device no longer exists */
	struct insp_sock sock;
	/* Other holders of the same object (the other ends of a pipe come
	 * first); for a socket with a local peer, the peer's holders. */
	struct insp_holders holders;
	struct insp_holders peers;
	int peers_searched;
};

/* Describe fd `fd` of `pid`.  `search` says whose fds are searched for
 * other holders: 0 none, 1 the whole host, 2 only descendants of pid. */
enum { INSP_SEARCH_NONE, INSP_SEARCH_HOST, INSP_SEARCH_DESCENDANTS };
void insp_describe_fd(struct insp_host *h, pid_t pid, int fd, int search,
		      struct insp_fd *out);
void insp_fd_free(struct insp_fd *f);
/* "read", "write", "read-write" or "?" for an O_ACCMODE value. */
const char *insp_acc_name(int acc);

/* ---- net.c: sockets ---- */

/* Find socket inode `ino` in pid's network namespace: TCP (v4, v6) or
 * unix (sock_diag asked in pid's network namespace when it is not
 * inspect's and inspect may enter it).  Returns 0 when found. */
int insp_sock_lookup(pid_t pid, unsigned long ino, struct insp_sock *out);

/* ---- sys.c: what a thread is blocked in ---- */

enum insp_call_class {
	INSP_CALL_OTHER,
	INSP_CALL_READ,          /* first argument is the fd */
	INSP_CALL_WRITE,
	INSP_CALL_ACCEPT,
	INSP_CALL_CONNECT,
	INSP_CALL_WAIT,          /* wait4, waitid */
	INSP_CALL_POLL,          /* poll, ppoll: a pollfd array */
	INSP_CALL_SELECT,        /* select, pselect6: fd_set bitmaps */
	INSP_CALL_EPOLL,         /* epoll_wait family: the epoll fd */
	INSP_CALL_SLEEP,         /* futex, nanosleep, pause ... */
};

struct insp_call {
	int err;                 /* errno reading /proc/P/task/T/syscall */
	int running;             /* "running": not blocked */
	int in_syscall;          /* else: stopped outside a system call */
	long nr;
	unsigned long long args[6];
};

const char *insp_syscall_name(long nr);   /* NULL when not in the table */
enum insp_call_class insp_syscall_class(long nr);
/* Read /proc/PID/task/TID/syscall. */
void insp_read_call(pid_t pid, pid_t tid, struct insp_call *c);
/* Same system call with the same arguments. */
int insp_same_call(const struct insp_call *a, const struct insp_call *b);

struct insp_thread {
	pid_t tid;
	char comm[32];
	char state;
	struct insp_call call;
	char wchan[128];
	int wchan_err;
	char **stack;
	size_t nstack;
	int stack_err;
	/* The fds the call waits on: every number, each once; the first
	 * ones described in fds (nfdnums - nfds are not, and the report says
	 * so).  Numbers that could not be listed are counted, with why. */
	int fds_err;             /* why they are unknown (poll: memory) */
	int *fdnums;
	size_t nfdnums, capfdnums;
	unsigned long long fdnums_omitted;
	int fdnums_omitted_err;
	struct insp_fd *fds;
	size_t nfds;
	char note[256];          /* what the call waits for, when no fd */
};

/* Read everything about one thread, and describe the fds it waits on. */
void insp_thread_load(struct insp_host *h, pid_t pid, pid_t tid,
		      struct insp_thread *t);
void insp_thread_free(struct insp_thread *t);

/* ---- the report, and its two renderings ---- */

struct insp_member {
	pid_t pid;
	int orphan;              /* its parent is outside the group */
};

struct insp_report {
	struct insp_host *host;
	struct insp_proc *p;
	pid_t asked_tid;         /* a thread id given for PID: that thread of
				  * p, listed first; 0 when a pid was given */
	struct insp_thread *threads;
	size_t nthreads;
	int tasks_err;
	/* Inheritable fds above 2, each with holders among descendants. */
	struct insp_fd *inherit;
	size_t ninherit;
	int fds_err;
	/* Why there is no group to speak of (a kernel thread, process group
	 * 0), or NULL and the members. */
	const char *no_group;
	struct insp_member *group;
	size_t ngroup;
	int leader_alive;
};

/* --all --blocked N: threads that stayed in one call. */
struct insp_culprit {
	struct insp_proc *p;
	struct insp_thread t;
};

struct insp_blocked {
	struct insp_host *host;
	double interval;         /* seconds between the two samples */
	size_t nthreads_seen;
	size_t unreadable;       /* threads whose call could not be read */
	struct insp_culprit *v;
	size_t n;
};

void insp_print_text(const struct insp_report *r);
void insp_print_json(const struct insp_report *r);
void insp_print_blocked_text(const struct insp_blocked *b);
void insp_print_blocked_json(const struct insp_blocked *b);

/* inspect.c: the subcommand's entry point. */
int noleak_inspect_main(int argc, char **argv);

#endif
