/* Process trees: see pgroup.h. */
#include "core/pgroup.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>

#include "log/event.h"
#include "core/fdlist.h"
#include "log/arena.h"
#include "base/state.h"
#include "common/sys.h"
#include "log/json.h"

#define REGROUPED_MAX 256
static _Atomic pid_t regrouped[REGROUPED_MAX];
/* The token in each child's NOLEAK_PGROUP_FROM marker: its pid for a
 * fork/vfork child, a number above any pid for a posix_spawn child. */
static pid_t regrouped_token[REGROUPED_MAX];
static atomic_int next_token;
/* The last groups this process signalled as a whole. */
#define SIGNALLED_MAX 8
static _Atomic pid_t signalled[SIGNALLED_MAX];
static atomic_uint signalled_next;

/* orphans=kill: groups that got SIGTERM and get SIGKILL at the deadline. */
#define PENDING_MAX 16
static _Atomic pid_t pending_pgid[PENDING_MAX];
static long long pending_deadline[PENDING_MAX];
static atomic_int pending_count;

/* From NOLEAK_PGROUP_FROM: "spawner:pgid" when the shim moved us. */
static pid_t came_from_spawner, came_from_pgid;

/* NOLEAK_LAUNCHED: the pid the noleak launcher started (it execs the
 * command in place, so the command has that pid). */
static pid_t launched_pid;
/* This process called setpgid/setpgrp/tcsetpgrp itself. */
static atomic_int manages_groups;
/* In a fork child: the parent's pid, its group and manages_groups at the
 * fork; 0 in a process not forked under the shim since it started. */
static pid_t spawner, spawner_pgid;
static int spawner_manages;

/* --- who regroups --- */

static int in_terminal_foreground(void)
{
	int tty = nl_sys_openat(AT_FDCWD, "/dev/tty",
				O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK, 0);
	if (tty < 0)
		return 0;  /* no controlling terminal */
	pid_t fg = -1;
	int r = nl_sys_ioctl(tty, TIOCGPGRP, &fg);
	nl_sys_close(tty);
	return r == 0 && fg == nl_sys_getpgid(0);
}

int nl_pgroup_regroups(pid_t spawner, int spawner_manages)
{
	const struct nl_policy *p = nl_policy();
	if (p->mode == NL_MODE_OFF || p->pgroup == NL_PGROUP_NEVER ||
	    spawner_manages)
		return 0;
	int leader = nl_sys_getsid(0) == spawner ||
		     (launched_pid && launched_pid == spawner);
	if (!leader)
		return 0;
	return p->pgroup == NL_PGROUP_ALWAYS || !in_terminal_foreground();
}

static void log_pgroup(const char *action, const char *target, pid_t child,
		       pid_t from)
{
	if (!nl_event_enabled())
		return;
	struct nl_event ev;
	nl_event_begin(&ev, "pgroup");
	nl_event_str(&ev, "action", action);
	if (child > 0)
		nl_event_int(&ev, "child", child);
	nl_event_int(&ev, "from_pgid", from);
	nl_event_str(&ev, "target", target ? target : "");
	nl_event_emit(&ev);
}

pid_t nl_pgroup_before_exec(const char *path)
{
	pid_t self = nl_sys_getpid();
	pid_t from, from_pgid;
	int manages;
	if (self != nl_proc.pid) {  /* vfork child: nl_proc is the parent's */
		from = nl_proc.pid;
		from_pgid = nl_sys_getpgid(from);
		manages = atomic_load(&manages_groups);
	} else if (spawner) {
		from = spawner;
		from_pgid = spawner_pgid;
		manages = spawner_manages;
	} else {
		return 0;  /* exec in place: not a spawned child */
	}
	pid_t mine = nl_sys_getpgid(0);
	/* Already moved (its own setpgid or setsid, or an earlier exec). */
	if (mine != from_pgid || mine == self)
		return 0;
	if (!nl_pgroup_regroups(from, manages))
		return 0;
	/* Audit moves nothing, but the marker still goes with the child so
	 * that its left-behind descendants can be found when it is reaped. */
	if (nl_mode() == NL_MODE_AUDIT)
		log_pgroup("would_regroup", path, self, mine);
	else if (nl_sys_setpgid(0, 0) < 0)
		return 0;
	if (self != nl_proc.pid)
		nl_pgroup_remember(self, self);  /* the parent's table: shared memory */
	return mine;
}

int nl_pgroup_for_spawn(const posix_spawnattr_t *attr, const char *path)
{
	short flags = 0;
	if (attr && posix_spawnattr_getflags(attr, &flags) == 0 &&
	    (flags & (POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSID)))
		return 0;
	if (!nl_pgroup_regroups(nl_sys_getpid(), atomic_load(&manages_groups)))
		return 0;
	if (nl_mode() == NL_MODE_AUDIT) {
		log_pgroup("would_regroup", path, 0, nl_sys_getpgid(0));
		return 2;
	}
	return 1;
}

pid_t nl_pgroup_new_token(void)
{
	return (1 << 23) + (atomic_fetch_add(&next_token, 1) & 0x3fffff);
}

/* --- the children this process regrouped --- */

void nl_pgroup_remember(pid_t child, pid_t token)
{
	for (int i = 0; i < REGROUPED_MAX; i++) {
		pid_t empty = 0;
		if (atomic_load_explicit(&regrouped[i], memory_order_relaxed) == child) {
			regrouped_token[i] = token;
			return;
		}
		if (atomic_compare_exchange_strong(&regrouped[i], &empty, child)) {
			regrouped_token[i] = token;
			return;
		}
	}
}

static pid_t token_of(pid_t child)
{
	for (int i = 0; i < REGROUPED_MAX; i++)
		if (atomic_load_explicit(&regrouped[i], memory_order_relaxed) == child)
			return regrouped_token[i] ? regrouped_token[i] : child;
	return 0;
}

int nl_pgroup_is_regrouped(pid_t child)
{
	if (child <= 0)
		return 0;
	for (int i = 0; i < REGROUPED_MAX; i++)
		if (atomic_load_explicit(&regrouped[i], memory_order_relaxed) == child)
			return 1;
	return 0;
}

static void forget(pid_t child)
{
	for (int i = 0; i < REGROUPED_MAX; i++) {
		pid_t expected = child;
		if (atomic_compare_exchange_strong(&regrouped[i], &expected, 0))
			return;
	}
}

/* --- /proc --- */

/* Fields of /proc/PID/stat after the command name: state ppid pgrp. */
static int parse_stat(char *buf, ssize_t len, char *state, pid_t *ppid,
		      pid_t *pgrp)
{
	buf[len] = '\0';
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -1;
	*state = p[2];
	p += 4;  /* ") S " */
	long v[2] = { 0, 0 };
	for (int f = 0; f < 2; f++) {
		while (*p == ' ')
			p++;
		for (; *p >= '0' && *p <= '9'; p++)
			v[f] = v[f] * 10 + (*p - '0');
	}
	*ppid = (pid_t)v[0];
	*pgrp = (pid_t)v[1];
	return 0;
}

/* Reads them. */
static int read_stat_state(pid_t pid, char *state, pid_t *ppid, pid_t *pgrp)
{
	char path[40] = "/proc/";
	size_t n = strlen(path);
	n += nl_fmt_int(path + n, sizeof path - n, pid);
	memcpy(path + n, "/stat", 6);
	/* The name is at most 16 bytes: pgrp is well inside the first 192.
	 * Scratch memory: this runs for every process, inside waitpid(). */
	enum { STAT_MAX = 192 };
	size_t mark = nl_arena_enter();
	char *buf = nl_arena_get(STAT_MAX);
	int fd = buf ? nl_sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0) : -1;
	ssize_t len = fd < 0 ? -1 : nl_sys_read(fd, buf, STAT_MAX - 1);
	if (fd >= 0)
		nl_sys_close(fd);
	int r = len > 0 ? parse_stat(buf, len, state, ppid, pgrp) : -1;
	nl_arena_leave(mark);
	return r;
}

static int read_stat(pid_t pid, pid_t *ppid, pid_t *pgrp)
{
	char state;
	return read_stat_state(pid, &state, ppid, pgrp);
}

static int is_my_child(pid_t pid)
{
	pid_t ppid, pgrp;
	return read_stat(pid, &ppid, &pgrp) == 0 && ppid == nl_sys_getpid();
}

static int leads_own_group(pid_t pid)
{
	return nl_sys_getpgid(pid) == pid;
}

/* --- kill --- */

static int terminating(int sig)
{
	return sig == SIGTERM || sig == SIGKILL || sig == SIGINT || sig == SIGQUIT;
}

static void note_signalled(pid_t pgid)
{
	unsigned i = atomic_fetch_add(&signalled_next, 1) % SIGNALLED_MAX;
	atomic_store_explicit(&signalled[i], pgid, memory_order_relaxed);
}

static int was_signalled(pid_t pgid)
{
	for (int i = 0; i < SIGNALLED_MAX; i++)
		if (atomic_load_explicit(&signalled[i], memory_order_relaxed) == pgid)
			return 1;
	return 0;
}

static void log_kill(const char *action, pid_t pid, int sig)
{
	if (!nl_event_enabled())
		return;
	struct nl_event ev;
	nl_event_begin(&ev, "kill_escalated");
	nl_event_str(&ev, "action", action);
	nl_event_int(&ev, "child", pid);
	nl_event_int(&ev, "signal", sig);
	nl_event_emit(&ev);
}

/* A regrouped child of ours that still leads its group: its group is its
 * tree.  The parent check keeps a reused pid from being escalated. */
static int escalates(pid_t pid, int audit)
{
	return nl_pgroup_is_regrouped(pid) && (audit || leads_own_group(pid)) &&
	       is_my_child(pid);
}

static void signal_split_groups(int sig, int (*real_kill)(pid_t, int),
				int audit)
{
	for (int i = 0; i < REGROUPED_MAX; i++) {
		pid_t child = atomic_load_explicit(&regrouped[i], memory_order_relaxed);
		if (child <= 0 || !escalates(child, audit))
			continue;
		log_kill(audit ? "would_signal_group" : "signal_group", child, sig);
		if (!audit) {
			note_signalled(child);
			real_kill(-child, sig);
		}
	}
}

int nl_pgroup_kill(pid_t pid, int sig, int (*real_kill)(pid_t, int))
{
	nl_pgroup_tick();
	enum nl_mode mode = nl_mode();
	if (mode == NL_MODE_OFF || !terminating(sig))
		return real_kill(pid, sig);
	int audit = mode == NL_MODE_AUDIT;
	if (pid > 0) {
		if (!escalates(pid, audit))
			return real_kill(pid, sig);
		log_kill(audit ? "would_escalate" : "escalated", pid, sig);
		if (audit)
			return real_kill(pid, sig);
		note_signalled(pid);
		return real_kill(-pid, sig);
	}
	/* kill(0) and killpg(own group) also reach the groups split off for
	 * children: `trap 'kill 0' EXIT` keeps working under an init system. */
	if (pid == 0 || pid == -nl_sys_getpgid(0)) {
		int saved = errno;
		signal_split_groups(sig, real_kill, audit);
		errno = saved;
	}
	return real_kill(pid, sig);
}

/* --- orphans --- */

struct member_scan {
	pid_t pgid;
	pid_t self;
	pid_t token;             /* audit: find members by their marker */
	int count;
	pid_t pids[32];
};

/* Whether /proc/PID/environ holds NOLEAK_PGROUP_FROM=<self>:<any>:<token>. */
static int carries_marker(pid_t pid, pid_t self, pid_t token)
{
	char path[48] = "/proc/", want[64];
	size_t n = 6 + nl_fmt_int(path + 6, sizeof path - 6, pid);
	memcpy(path + n, "/environ", 9);
	size_t w = sizeof NL_PGROUP_FROM_ENV;
	memcpy(want, NL_PGROUP_FROM_ENV "=", w);
	w += nl_fmt_int(want + w, sizeof want - w, self);
	want[w++] = ':';
	/* The environment is read in chunks of arena memory (log/arena.h),
	 * not on the stack of the waitpid() caller. */
	enum { CHUNK = 4096 };
	size_t mark = nl_arena_enter();
	char *buf = nl_arena_get(CHUNK);
	int fd = buf ? nl_sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0) : -1;
	if (fd < 0) {
		nl_arena_leave(mark);
		return 0;
	}
	size_t have = 0;
	int found = 0;
	for (;;) {
		ssize_t r = nl_sys_read(fd, buf + have, CHUNK - have);
		if (r <= 0)
			break;
		have += (size_t)r;
		/* Whole entries only; a partial last one waits for more. */
		size_t start = 0;
		for (size_t i = 0; i < have && !found; i++) {
			if (buf[i] != '\0')
				continue;
			const char *e = buf + start;
			if (i - start > w && !memcmp(e, want, w)) {
				const char *t = memchr(e + w, ':', i - start - w);
				long v = 0;
				for (t = t ? t + 1 : buf + i; t < buf + i && *t >= '0' && *t <= '9'; t++)
					v = v * 10 + (*t - '0');
				found = t == buf + i && v == token;
			}
			start = i + 1;
		}
		if (found)
			break;
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have == CHUNK)
			have = 0;  /* an entry longer than the buffer: not ours */
	}
	nl_sys_close(fd);
	nl_arena_leave(mark);
	return found;
}

/* Live members only: a zombie is already dead, waiting for its reaper. */
static void collect_member(int pid, void *arg)
{
	struct member_scan *m = arg;
	pid_t ppid, pgrp;
	char state;
	if (m->count >= 32 || pid == m->self ||
	    read_stat_state(pid, &state, &ppid, &pgrp) < 0 ||
	    state == 'Z' || state == 'X')
		return;
	/* Both ways, a member that detached (setsid, another group) is not
	 * one: it left on purpose. */
	if (pgrp == m->pgid && (!m->token || carries_marker(pid, m->self, m->token)))
		m->pids[m->count++] = pid;
}

/* Members of a group that was just signalled may need a moment to die:
 * look again a few times, 1 ms apart, before calling them orphans. */
static void find_members(struct member_scan *m, int just_signalled)
{
	for (int tries = just_signalled ? 20 : 1; tries > 0; tries--) {
		m->count = 0;
		nl_for_each_number("/proc", collect_member, m);
		if (!m->count || tries == 1)
			return;
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
}

/* Our pipes and sockets, to say which of them an orphan holds. */
#define OWN_MAX 64
struct own_objects {
	int n;
	int fd[OWN_MAX];
	char link[OWN_MAX][40];
};

static ssize_t fd_link(pid_t pid, int fd, char *out, size_t cap)
{
	char path[64] = "/proc/";
	size_t n = 6;
	if (pid > 0)
		n += nl_fmt_int(path + n, sizeof path - n, pid);
	else {
		memcpy(path + n, "self", 4);
		n += 4;
	}
	memcpy(path + n, "/fd/", 4);
	n += 4;
	nl_fmt_int(path + n, sizeof path - n, fd);
	ssize_t len = nl_sys_readlink(path, out, cap - 1);
	out[len > 0 ? len : 0] = '\0';
	return len;
}

static int is_pipe_or_socket(const char *link)
{
	return !strncmp(link, "pipe:", 5) || !strncmp(link, "socket:", 7);
}

static void collect_own(int fd, void *arg)
{
	struct own_objects *own = arg;
	if (own->n < OWN_MAX &&
	    fd_link(0, fd, own->link[own->n], sizeof own->link[0]) > 0 &&
	    is_pipe_or_socket(own->link[own->n]))
		own->fd[own->n++] = fd;
}

struct held_scan {
	const struct own_objects *own;
	pid_t pid;
	char list[200];
	size_t len;
};

static void note_held(int fd, void *arg)
{
	struct held_scan *h = arg;
	char link[40];
	if (fd_link(h->pid, fd, link, sizeof link) <= 0 || !is_pipe_or_socket(link))
		return;
	for (int i = 0; i < h->own->n; i++) {
		if (strcmp(link, h->own->link[i]) || h->len + 12 >= sizeof h->list)
			continue;
		if (h->len)
			h->list[h->len++] = ',';
		h->len += nl_fmt_int(h->list + h->len, sizeof h->list - h->len,
				     h->own->fd[i]);
	}
}

static void log_orphan(pid_t pgid, pid_t orphan, const char *action,
		       const struct own_objects *own)
{
	struct nl_event ev;
	char dir[48] = "/proc/";
	size_t mark = nl_arena_enter();
	struct held_scan *held = nl_arena_get(sizeof *held);
	char *exe = nl_arena_get(512);
	if (!held || !exe) {
		nl_arena_leave(mark);
		return;
	}
	*held = (struct held_scan){ .own = own, .pid = orphan };
	size_t dn = 6 + nl_fmt_int(dir + 6, sizeof dir - 6, orphan);
	memcpy(dir + dn, "/fd", 4);
	nl_for_each_number(dir, note_held, held);
	held->list[held->len] = '\0';
	char path[64] = "/proc/";
	size_t n = 6 + nl_fmt_int(path + 6, sizeof path - 6, orphan);
	memcpy(path + n, "/exe", 5);
	ssize_t len = exe ? nl_sys_readlink(path, exe, 511) : -1;
	if (len > 0)
		exe[len] = '\0';
	nl_event_begin(&ev, "orphans");
	nl_event_str(&ev, "action", action);
	nl_event_int(&ev, "child", pgid);
	nl_event_int(&ev, "orphan", orphan);
	nl_event_str(&ev, "orphan_exe", len > 0 ? exe : "unknown (permission)");
	nl_event_str(&ev, "holds_fds", held->list);
	nl_event_emit(&ev);
	nl_arena_leave(mark);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void schedule_kill(pid_t pgid)
{
	for (int i = 0; i < PENDING_MAX; i++) {
		pid_t empty = 0;
		if (atomic_compare_exchange_strong(&pending_pgid[i], &empty, pgid)) {
			pending_deadline[i] = now_ms() + 2000;
			atomic_fetch_add(&pending_count, 1);
			return;
		}
	}
}

void nl_pgroup_reaped(pid_t pid, int status)
{
	pid_t token = token_of(pid);
	if (!token || WIFSTOPPED(status) || WIFCONTINUED(status))
		return;
	forget(pid);
	const struct nl_policy *p = nl_policy();
	int audit = p->mode == NL_MODE_AUDIT;
	if (p->orphans == NL_ORPHANS_KEEP || (!audit && nl_sys_kill(-pid, 0) < 0))
		return;  /* the group died with its leader */
	int saved = errno;
	/* Enforce: the members of the child's group.  Audit moved nobody:
	 * the processes that carry the child's marker. */
	/* The scan and the log's buffers live in arena memory, not on the
	 * stack of the waitpid() caller. */
	size_t mark = nl_arena_enter();
	struct member_scan *m = nl_arena_get(sizeof *m);
	if (!m) {
		nl_arena_leave(mark);
		errno = saved;
		return;
	}
	*m = (struct member_scan){ .pgid = audit ? nl_sys_getpgid(0) : pid,
				   .self = nl_sys_getpid(), .token = audit ? token : 0 };
	find_members(m, !audit && was_signalled(pid));
	if (!m->count) {
		nl_arena_leave(mark);
		errno = saved;
		return;
	}
	int kill_them = p->orphans == NL_ORPHANS_KILL;
	const char *action = !kill_them ? "logged"
			     : p->mode == NL_MODE_AUDIT ? "would_kill" : "killed";
	struct own_objects *own = nl_event_enabled() ? nl_arena_get(sizeof *own)
						       : NULL;
	if (own) {
		own->n = 0;
		nl_for_each_open_fd(collect_own, own);
		for (int i = 0; i < m->count; i++)
			log_orphan(pid, m->pids[i], action, own);
	}
	nl_arena_leave(mark);
	if (kill_them && p->mode == NL_MODE_ENFORCE) {
		nl_sys_kill(-pid, SIGTERM);
		schedule_kill(pid);
	}
	errno = saved;
}

void nl_pgroup_tick(void)
{
	if (!atomic_load_explicit(&pending_count, memory_order_relaxed))
		return;
	long long now = now_ms();
	for (int i = 0; i < PENDING_MAX; i++) {
		pid_t pgid = atomic_load(&pending_pgid[i]);
		if (pgid <= 0 || now < pending_deadline[i])
			continue;
		if (atomic_compare_exchange_strong(&pending_pgid[i], &pgid, 0)) {
			atomic_fetch_sub(&pending_count, 1);
			nl_sys_kill(-pgid, SIGKILL);
		}
	}
}

/* --- setsid --- */

pid_t nl_pgroup_retry_setsid(pid_t (*real_setsid)(void))
{
	pid_t self = nl_sys_getpid();
	if (!came_from_pgid || came_from_spawner != nl_sys_getppid() ||
	    nl_sys_getpgid(0) != self ||
	    nl_sys_setpgid(0, came_from_pgid) < 0) {
		errno = EPERM;
		return -1;
	}
	return real_setsid();
}

static long parse_long(const char **p)
{
	long v = 0;
	for (; **p >= '0' && **p <= '9' && v < (1L << 31); (*p)++)
		v = v * 10 + (**p - '0');
	return v;
}

void nl_pgroup_init(char *const envp[])
{
	size_t klen = sizeof NL_PGROUP_FROM_ENV - 1;
	if (!envp)
		return;
	const char *launched = nl_policy_env_value(envp, "NOLEAK_LAUNCHED");
	if (launched) {
		long pid = parse_long(&launched);
		launched_pid = *launched == '\0' && pid > 0 ? (pid_t)pid : 0;
	}
	for (char *const *e = envp; *e; e++) {
		if (strncmp(*e, NL_PGROUP_FROM_ENV, klen) || (*e)[klen] != '=')
			continue;
		const char *p = *e + klen + 1;
		long spawner = parse_long(&p);
		if (*p++ != ':')
			return;
		long pgid = parse_long(&p);
		if (*p == ':') {
			p++;
			parse_long(&p);  /* the token, for the spawner */
		}
		if (*p == '\0' && spawner > 0 && pgid > 0) {
			came_from_spawner = (pid_t)spawner;
			came_from_pgid = (pid_t)pgid;
		}
		return;
	}
}

void nl_pgroup_after_fork(pid_t parent)
{
	spawner = parent;
	spawner_pgid = nl_sys_getpgid(0);
	spawner_manages = atomic_load(&manages_groups);
	atomic_store(&manages_groups, 0);
	for (int i = 0; i < REGROUPED_MAX; i++)
		atomic_store_explicit(&regrouped[i], 0, memory_order_relaxed);
	for (int i = 0; i < PENDING_MAX; i++)
		atomic_store_explicit(&pending_pgid[i], 0, memory_order_relaxed);
	atomic_store(&pending_count, 0);
	came_from_pgid = 0;
}

void nl_pgroup_note_manages(void)
{
	if (!nl_in_foreign_child())
		atomic_store(&manages_groups, 1);
}

int nl_pgroup_manages(void)
{
	return atomic_load(&manages_groups);
}

pid_t nl_pgroup_spawner(void)
{
	return nl_sys_getpid() == nl_proc.pid && spawner ? spawner
							 : nl_proc.pid;
}
