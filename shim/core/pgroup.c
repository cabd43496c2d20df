/* Process trees: see pgroup.h. */
#include "common/errno.h"
#include "common/forkdata.h"
#include "core/pgroup.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "log/event.h"
#include "core/fdlist.h"
#include "core/fdtable.h"
#include "log/arena.h"
#include "base/state.h"
#include "common/scratch.h"
#include "common/str.h"
#include "common/sys.h"
#include "log/json.h"

#ifndef PIDFD_SIGNAL_PROCESS_GROUP
#define PIDFD_SIGNAL_PROCESS_GROUP (1U << 2)
#endif

#define PAGE_BYTES 4096

/* From NOLEAK_PGROUP_FROM: "spawner:pgid" when our spawner marked us (the
 * move is due, or made).  This and the other state a fork child resets
 * live with the other after-fork data (common/forkdata.h). */
static pid_t came_from_spawner NL_FORK_DATA, came_from_pgid NL_FORK_DATA;
/* The pid of this process while the move its marker makes due has not
 * been made (nor cancelled: its own setpgid(0, 0) or setsid()), else 0;
 * how (NL_MOVE_*); and whether audit has logged it (once, whichever
 * thread gets there first: nl_pgroup_before_child).  A pid, not a flag: a
 * child the shim did not see forking has another. */
static _Atomic pid_t move_due NL_FORK_DATA;
static char move_how NL_FORK_DATA;
static atomic_int move_logged NL_FORK_DATA;
/* The whole marker entry this process started with, taken out of environ
 * ("" for none): what its execs pass on.  Kept across fork.  Respelt
 * (NL_PGROUP_GONE_ENV) once the process moved itself or started a
 * session, as the one in its environment block (respell). */
static char inherited[NL_PGROUP_MARKER_MAX] NL_FORK_DATA;
/* The start-up environment's LD_PRELOAD named the shim: it came through
 * it, and a child's environment whose LD_PRELOAD does not name it would
 * not load it. */
static int preloaded NL_FORK_DATA;

/* This process's pid when it is the one the noleak launcher started (it
 * execs the command in place, so the command has that pid: NOLEAK_LAUNCHED,
 * launched_here()), else 0. */
static pid_t launched_pid NL_FORK_DATA;
/* The launched process started in a group of its own or its parent's. */
static char launched_grouped NL_FORK_DATA;
/* The pid that made itself a session leader with its own setsid() (or
 * daemon()) in this program image, 0 for none.  A pid, not a flag: a fork
 * child keeps its parent's, which names its spawner (the parent) and never
 * itself, and a vfork child reads its parent's. */
static pid_t own_session NL_FORK_DATA;
/* The pid of a systemd service's main process, when this image started as
 * one (nl_pgroup_init), 0 otherwise. */
static pid_t service_pid NL_FORK_DATA;
/* This process called setpgid/setpgrp/tcsetpgrp itself. */
static atomic_int manages_groups NL_FORK_DATA;
/* ... and made itself a group leader (setpgid(0, 0)), and where the marker
 * it started with lies in its environment block (what /proc/PID/environ
 * shows its spawner), NULL when none. */
static atomic_int moved_self NL_FORK_DATA;
static char *marker_in_env NL_FORK_DATA;
/* In a fork child: the parent's pid, its group (read only when the parent
 * is the launched process: a session leader's group is its pid) and
 * manages_groups at the fork; 0 in a process not forked under the shim
 * since it started. */
static pid_t spawner NL_FORK_DATA, spawner_pgid NL_FORK_DATA;
static int spawner_manages NL_FORK_DATA;
/* manages_groups as it is now, in a page shared with the fork children:
 * a child forked just before its parent's setpgid(child, ...) reads it at
 * its exec.  Mapped before the first fork of a process that may regroup
 * (nl_pgroup_forget_decision), and written only by its owner; a fork
 * child reads its parent's (shared_owner names it) and maps its own when
 * it comes to regroup.  shared_owner is read without touching the page. */
struct shared_manages {
	atomic_int manages;
};
static struct shared_manages *shared NL_FORK_DATA;
static pid_t shared_owner NL_FORK_DATA;

/* What /proc/PID/stat tells (read_pstat, below). */
struct pstat {
	char state;
	char dying;                /* exiting, or killed: see parse_pstat() */
	char forknoexec;           /* forked and never exec'd (PF_FORKNOEXEC,
				    * which a zombie keeps) */
	pid_t ppid, pgrp, sid;
	int tty;                   /* the session's controlling terminal, 0
				    * for none */
	unsigned long long start;  /* clock ticks after boot */
	char comm[16];
};

static int read_pstat(pid_t pid, struct pstat *s);

/* --- who regroups --- */

/* Whether the session of this process has a controlling terminal, where a
 * job of the terminal may be brought to the foreground at any time (an
 * interactive shell's `fg`): its children need ^C and the terminal then,
 * whichever group is in the foreground now.  tty_nr of /proc/PID/stat,
 * which touches no terminal; without /proc, whether /dev/tty opens. */
static int has_terminal(void)
{
	struct pstat st;
	if (read_pstat(nl_sys_getpid(), &st) == 0)
		return st.tty != 0;
	int tty = nl_sys_openat(AT_FDCWD, "/dev/tty",
				O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK, 0);
	if (tty < 0)
		return 0;
	nl_sys_close(tty);
	return 1;
}

/* Whether `who` is the process the launcher started and regroups: only
 * when it started in a group that is neither its own nor its parent's,
 * or with pgroup = always.  A parent that made its group (timeout(1)'s
 * setpgid(), Python's start_new_session or process_group, a test harness,
 * a supervisor) stops it by signalling that group, which must then still
 * hold the whole tree, as for a session leader its parent made.  Its
 * group as it started: one it makes later is its own doing (it then
 * manages groups, or leads a session of its own). */
static int launched_regroups(pid_t who)
{
	return launched_pid && launched_pid == who &&
	       (!launched_grouped || nl_policy()->pgroup == NL_PGROUP_ALWAYS);
}

/* A session leader or the launched process: the only ones that can have
 * children in groups the shim made. */
static int leads(pid_t who)
{
	return nl_sys_getsid(0) == who || launched_regroups(who);
}

/* The part of the decision that needs no terminal: one getsid(), which is
 * all most spawners (no session leader) pay.  *by_session: `who` leads the
 * session of the calling process, so that its group is its own pid (a
 * session leader can neither leave its group nor be moved).
 *
 * A session leader regroups only when the session is its own doing (its
 * setsid() in this image) or it is a systemd service's main process.  One
 * whose parent made it a session leader (setsid(1) without -f, Python's
 * start_new_session, dumb-init) is stopped by that parent signalling its
 * group, which must then still hold its children. */
static int may_regroup(pid_t who, int who_manages, int *by_session)
{
	const struct nl_policy *p = nl_policy();
	*by_session = 0;
	if (p->mode == NL_MODE_OFF || p->pgroup == NL_PGROUP_NEVER ||
	    who_manages)
		return 0;
	*by_session = nl_sys_getsid(0) == who;
	return (*by_session && (own_session == who || service_pid == who)) ||
	       launched_regroups(who);
}

static int terminal_allows(void)
{
	return nl_policy()->pgroup == NL_PGROUP_ALWAYS || !has_terminal();
}

int nl_pgroup_regroups(pid_t who, int who_manages)
{
	int by_session;
	return may_regroup(who, who_manages, &by_session) && terminal_allows();
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

/* --- the marker --- */

/* `sh -c LINE`, `bash -ec LINE`, `sh -e -c LINE`: a shell with c in one of
 * the option clusters before its first operand. */
static int is_shell_c(const char *path, char *const argv[])
{
	const char *shells = nl_policy()->fd_transparent;
	if (!argv || !argv[0] || !(nl_names_contain(shells, path) ||
				   nl_names_contain(shells, argv[0])))
		return 0;
	for (size_t i = 1; argv[i] && argv[i][0] == '-' && argv[i][1] &&
			   argv[i][1] != '-'; i++)
		if (strchr(argv[i], 'c'))
			return 1;
	return 0;
}

char nl_pgroup_origin(const char *via, const char *path, char *const argv[])
{
	if (via && (!strcmp(via, "system") || !strcmp(via, "popen")))
		return NL_ORIGIN_SYSTEM;
	return is_shell_c(path, argv) ? NL_ORIGIN_SHELL_C : NL_ORIGIN_PROGRAM;
}

void nl_pgroup_format_marker(char *buf, pid_t spawner, pid_t from,
			     pid_t token, char origin, char move)
{
	size_t n = sizeof NL_PGROUP_FROM_ENV;
	memcpy(buf, NL_PGROUP_FROM_ENV "=", n);
	n += nl_fmt_int(buf + n, NL_PGROUP_MARKER_MAX - n, spawner);
	buf[n++] = ':';
	n += nl_fmt_int(buf + n, NL_PGROUP_MARKER_MAX - n, from);
	buf[n++] = ':';
	n += nl_fmt_int(buf + n, NL_PGROUP_MARKER_MAX - n, token);
	buf[n++] = ':';
	buf[n++] = origin;
	buf[n++] = ':';
	buf[n++] = move;
	buf[n] = '\0';
}

static int is_entry(const char *e, const char *name, size_t n)
{
	return nl_mem_eq(e, name, n) && e[n] == '=';
}

/* A marker entry, in either spelling (NL_PGROUP_GONE_ENV). */
static int is_marker(const char *e)
{
	return (e[0] == 'N' || e[0] == 'n') &&
	       is_entry(e + 1, NL_PGROUP_FROM_ENV + 1,
			sizeof NL_PGROUP_FROM_ENV - 2);
}

/* Whether an LD_PRELOAD value names the shim: one of its entries
 * (separated by blanks or colons, as ld.so splits them) is a file whose
 * name starts with "libnoleak" (libnoleak.so, wherever installed, or
 * through $LIB).  An empty value or another library's does not. */
static int names_the_shim(const char *v)
{
	static const char name[] = "libnoleak";
	for (const char *p = v; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ':')
			p++;
		const char *start = p, *base = p;
		for (; *p && *p != ' ' && *p != '\t' && *p != ':'; p++)
			if (*p == '/')
				base = p + 1;
		if (p > start && (size_t)(p - base) >= sizeof name - 1 &&
		    nl_mem_eq(base, name, sizeof name - 1))
			return 1;
	}
	return 0;
}

int nl_pgroup_env_takes_marker(char *const envp[])
{
	if (!envp || !envp[0])
		return 0;
	if (!preloaded)
		return 1;
	for (char *const *e = envp; *e; e++)
		if (is_entry(*e, "LD_PRELOAD", 10))
			return names_the_shim(*e + 11);
	return 0;
}

const char *nl_pgroup_marker_to_pass(char *const envp[])
{
	if (!inherited[0] || !nl_pgroup_env_takes_marker(envp))
		return NULL;
	for (char *const *e = envp; *e; e++)
		if (is_marker(*e))
			return NULL;
	return inherited;
}

int nl_pgroup_secure_matters(void)
{
	return preloaded;
}

/* As the kernel decides AT_SECURE for the credentials an exec gives
 * (security/commoncap.c): the new effective uid or gid differs from the
 * real one, which the exec keeps.  The new effective ids are the file's
 * owner with S_ISUID and its group with S_ISGID and S_IXGRP (S_ISGID alone
 * is mandatory locking), else the caller's own; so a caller whose
 * effective ids already differ from its real ones makes every exec
 * secure, without a look at the file; a stat of it otherwise.
 *
 * Taken for secure too, where the kernel does not make the exec so: a
 * set-id file on a nosuid mount, under no_new_privs, or a set-id script
 * (the kernel ignores the bits of each); such a child only loses its
 * move, never anything it could see.  Not seen: file capabilities and LSM
 * transitions (README, Known limits), and a script whose interpreter is
 * set-id (the stat is of the script).  A file that cannot be looked at
 * is not secure: its exec fails, or runs a program the shim loads. */
int nl_pgroup_secure_exec(int dirfd, const char *path, int flags)
{
	if (!preloaded || !path)
		return 0;
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	if (nl_sys_getresuid(&ruid, &euid, &suid) < 0 ||
	    nl_sys_getresgid(&rgid, &egid, &sgid) < 0)
		return 0;
	if (euid != ruid || egid != rgid)
		return 1;
	struct stat st;
	if (nl_sys_fstatat(dirfd, path, &st,
			   flags & (AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) < 0 ||
	    !S_ISREG(st.st_mode))
		return 0;
	if ((st.st_mode & S_ISUID) && st.st_uid != ruid)
		return 1;
	return (st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
	       st.st_gid != rgid;
}

char *const *nl_pgroup_env_with_marker(char **out, char *const envp[],
				       const char *marker)
{
	size_t k = 0;
	for (size_t i = 0; envp && envp[i]; i++)
		if (!is_marker(envp[i]))
			out[k++] = envp[i];
	out[k++] = (char *)marker;
	out[k] = NULL;
	return out;
}

/* --- exec and spawn --- */

/* The decision of the last exec attempt, for the next one of a PATH walk:
 * what it reads (the groups of the spawner and of this process, this
 * process's session, the terminal) changes between two attempts only when
 * the process moves itself, which bumps the exec generation
 * (core/fdtable.h).  Per thread and tagged with the pid, as the
 * fd table's stash: a vfork child writes it in its parent's memory, where
 * the parent never takes it for its own; forgotten before every fork,
 * vfork and clone, so that a later child with a reused pid never takes it
 * either. */
static __thread struct {
	pid_t pid;        /* 0: none */
	unsigned gen;
	pid_t from;       /* what the attempt decided */
} last_decision __attribute__((tls_model("initial-exec")));

/* Whether the spawner regroups comes first: for a spawner that leads no
 * session (most) one getsid() decides, and the groups are never read.  A
 * child's session is its spawner's from the fork, or its own after a
 * setsid(): it names the spawner only when the spawner led its session at
 * the fork, and then the spawner's group was the spawner's pid. */
/* Audit only logs the moves it would make: without a log it marks no
 * child (the marker would reach a static child's environment, and the
 * child's look at its terminal take an fd number, for nothing). */
static int moves_seen(void)
{
	return nl_mode() != NL_MODE_AUDIT || nl_event_enabled();
}

static pid_t decide_regroup(pid_t self)
{
	if (!moves_seen())
		return 0;
	pid_t from;
	int manages, shared_ = self != nl_proc_pid();
	if (shared_) {  /* vfork child: nl_proc is the parent's */
		from = nl_proc_pid();
		manages = atomic_load(&manages_groups);
	} else if (spawner) {
		/* A spawner that has gone (the middle process of a double
		 * fork, which exits as soon as it has forked the daemon)
		 * signals no group: the move would only make the new program
		 * a group leader, whose own setsid() then fails. */
		if (nl_sys_getppid() != spawner)
			return 0;
		from = spawner;
		manages = spawner_manages;
	} else {
		return 0;  /* exec in place: not a spawned child */
	}
	int by_session;
	if (!may_regroup(from, manages, &by_session) ||
	    (!shared_ && shared && shared_owner == spawner &&
	     atomic_load(&shared->manages)))
		return 0;
	/* A child the shim did not see forking (vfork, _Fork, clone) is the
	 * child of the process whose state it has, unless that process's own
	 * such child made it: a grandchild is its parent's to mark. */
	if (shared_ && nl_sys_getppid() != from)
		return 0;
	pid_t from_pgid = by_session ? from
			  : shared_  ? nl_sys_getpgid(from)
				     : spawner_pgid;
	pid_t mine = nl_sys_getpgid(0);
	/* Already moved: its own setpgid or setsid. */
	if (mine != from_pgid || mine == self)
		return 0;
	return terminal_allows() ? mine : 0;
}

pid_t nl_pgroup_before_exec(pid_t self)
{
	unsigned gen = nl_exec_generation();
	if (last_decision.pid == self && last_decision.gen == gen)
		return last_decision.from;
	pid_t mine = decide_regroup(self);
	last_decision.pid = self;
	last_decision.gen = gen;
	last_decision.from = mine;
	return mine;
}

char nl_pgroup_move_how(void)
{
	return nl_mode() == NL_MODE_AUDIT ? NL_MOVE_AUDIT : NL_MOVE_DUE;
}

static void share_manages(pid_t self)
{
#ifdef SYS_mmap2
	long m = nl_sys6(SYS_mmap2, 0, PAGE_BYTES, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
#else
	long m = nl_sys6(SYS_mmap, 0, PAGE_BYTES, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
#endif
	if (nl_sys_mmap_failed(m))
		return;   /* the children read the flag as it was at the fork */
	struct shared_manages *page = (struct shared_manages *)m;
	atomic_store(&page->manages, atomic_load(&manages_groups));
	if (shared)
		nl_sys_munmap(shared, PAGE_BYTES);   /* its parent's */
	shared = page;
	shared_owner = self;
}

void nl_pgroup_forget_decision(void)
{
	if (last_decision.pid)
		last_decision.pid = 0;
	pid_t self = nl_proc_pid();
	if ((own_session == self || service_pid == self ||
	     launched_regroups(self)) && self > 0 && shared_owner != self &&
	    !nl_in_foreign_child())
		share_manages(self);
}

void nl_pgroup_exec_unmarked(const char *path, pid_t from)
{
	if (!from)
		return;
	int e = errno;
	log_pgroup("untracked", path, nl_sys_getpid(), from);
	errno = e;
}

char nl_pgroup_for_spawn(const posix_spawnattr_t *attr)
{
	short flags = 0;
	if (attr && posix_spawnattr_getflags(attr, &flags) == 0 &&
	    (flags & (POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSID)))
		return 0;
	if (!moves_seen() ||
	    !nl_pgroup_regroups(nl_sys_getpid(), atomic_load(&manages_groups)))
		return 0;
	return nl_pgroup_move_how();
}

/* --- the move --- */

/* The move is made (audit: logged) only when it still stands as it was
 * when the spawner marked us: the spawner is still our parent (a spawner
 * that exited signals no group, and a group leader whose group it came
 * from is gone can no longer get a session), we are still in the group we
 * came from, have not moved ourselves nor started a session, and the
 * session has no terminal (pgroup=always: whatever it has). */
static void make_move(pid_t self)
{
	const struct nl_policy *p = nl_policy();
	if (p->mode == NL_MODE_OFF || p->pgroup == NL_PGROUP_NEVER ||
	    nl_sys_getppid() != came_from_spawner ||
	    nl_sys_getpgid(0) != came_from_pgid || came_from_pgid == self ||
	    atomic_load(&moved_self) || nl_sys_getsid(0) == self ||
	    !terminal_allows())
		return;
	if (move_how == NL_MOVE_DUE && p->mode == NL_MODE_ENFORCE) {
		nl_sys_setpgid(0, 0);
		return;
	}
	if (!nl_event_enabled() || atomic_exchange(&move_logged, 1))
		return;
	struct nl_event ev;
	nl_event_begin(&ev, "pgroup");
	nl_event_str(&ev, "action", "would_regroup");
	nl_event_int(&ev, "child", self);
	nl_event_int(&ev, "from_pgid", came_from_pgid);
	nl_event_str(&ev, "target", nl_event_exe(&ev));
	nl_event_emit(&ev);
}

void nl_pgroup_before_child(void)
{
	pid_t due = atomic_load_explicit(&move_due, memory_order_acquire);
	if (__builtin_expect(!due, 1))
		return;
	int saved = errno;
	pid_t self = nl_sys_getpid();
	/* Not ours (a child the shim did not see forking, which has our
	 * memory or a copy of it): never written.  Each thread that gets
	 * here while the move is due makes it itself, before its child:
	 * setpgid(0, 0) acts on the whole process and make_move() checks
	 * again what it stands on, so a second thread's move changes
	 * nothing, and no thread waits for another (one that left the move
	 * by a longjmp from a signal handler, or is stopped, or blocked in
	 * its log line). */
	if (due == self) {
		make_move(self);
		atomic_compare_exchange_strong(&move_due, &due, 0);
	}
	nl_errno_restore(saved);
}

/* The due move no longer is: the program moved itself or started a
 * session.  Never in a vfork child (the memory is its parent's). */
static void cancel_move(void)
{
	pid_t due = atomic_load(&move_due);
	if (due && due == nl_sys_getpid())
		atomic_compare_exchange_strong(&move_due, &due, 0);
}

/* --- /proc --- */


static int parse_pstat(char *buf, ssize_t len, struct pstat *s);

static int read_pstat(pid_t pid, struct pstat *s)
{
	char path[40] = "/proc/";
	size_t n = strlen(path);
	n += nl_fmt_int(path + n, sizeof path - n, pid);
	memcpy(path + n, "/stat", 6);
	/* Scratch memory (log/arena.h): this runs for every process of a
	 * /proc scan, inside kill() and waitpid(). */
	enum { STAT_MAX = 512 };
	size_t mark = nl_arena_enter();
	char *buf = nl_arena_get(STAT_MAX);
	int fd = buf ? nl_sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0) : -1;
	ssize_t len = fd < 0 ? -1 : nl_sys_read(fd, buf, STAT_MAX - 1);
	if (fd >= 0)
		nl_sys_close(fd);
	int r = len > 0 ? parse_pstat(buf, len, s) : -1;
	nl_arena_leave(mark);
	return r;
}

static int parse_pstat(char *buf, ssize_t len, struct pstat *s)
{
	buf[len] = '\0';
	char *open = strchr(buf, '('), *p = strrchr(buf, ')');
	if (!open || !p || p < open || p[1] != ' ' || !p[2])
		return -1;
	size_t c = (size_t)(p - open - 1);
	c = c < sizeof s->comm ? c : sizeof s->comm - 1;
	memcpy(s->comm, open + 1, c);
	s->comm[c] = '\0';
	s->state = p[2];
	p += 3;
	/* Fields 4 (ppid) to 31 (signal: the main thread's pending signals).
	 * A process is dying once it runs do_exit (PF_EXITING in field 9,
	 * flags), and from the moment a fatal signal was sent to it: the
	 * kernel then marks every thread with a pending SIGKILL (field 31),
	 * however long the process waits for a CPU to act on it. */
	unsigned long long flags = 0, pending = 0;
	for (int f = 4; f <= 31; f++) {
		while (*p == ' ')
			p++;
		if (*p == '-')
			p++;
		unsigned long long v = 0;
		for (; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (unsigned)(*p - '0');
		if (*p != ' ')
			return -1;
		switch (f) {
		case 4: s->ppid = (pid_t)v; break;
		case 5: s->pgrp = (pid_t)v; break;
		case 6: s->sid = (pid_t)v; break;
		case 7: s->tty = (int)v; break;
		case 9: flags = v; break;
		case 22: s->start = v; break;
		case 31: pending = v; break;
		}
	}
	enum { PF_EXITING_FLAG = 0x4, PF_FORKNOEXEC_FLAG = 0x40 };
	s->dying = (flags & PF_EXITING_FLAG) ||
		   (pending & (1ull << (SIGKILL - 1)));
	s->forknoexec = (flags & PF_FORKNOEXEC_FLAG) != 0;
	return 0;
}

struct marker {
	pid_t spawner, from, token;
	char origin;
	char move;        /* NL_MOVE_*, 0 when the marker says none */
	char respelled;   /* read_marker found only the spelling of a process
			   * that moved itself or started a session
			   * (respell), and read these fields from it */
};

static int parse_marker(const char *p, struct marker *m)
{
	long long v[3] = { 0, 0, 0 };
	for (int f = 0; f < 3; f++) {
		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9' && v[f] < (1LL << 31); p++)
			v[f] = v[f] * 10 + (*p - '0');
		if (f < 2 && *p++ != ':')
			return -1;
	}
	m->origin = NL_ORIGIN_PROGRAM;
	m->move = 0;
	if (*p == ':' && p[1] && !p[2])
		m->origin = p[1];
	else if (*p == ':' && p[1] && p[2] == ':' && p[3] && !p[4]) {
		m->origin = p[1];
		m->move = p[3];
	} else if (*p)
		return -1;
	m->spawner = (pid_t)v[0];
	m->from = (pid_t)v[1];
	m->token = (pid_t)v[2];
	return 0;
}

/* The first NOLEAK_PGROUP_FROM entry of /proc/PID/environ.  Unreadable (a
 * set-user-ID program) or overwritten (a program that reuses the area for
 * its process title) counts as absent. */
static int read_marker(pid_t pid, struct marker *m)
{
	static const char key[] = NL_PGROUP_FROM_ENV "=";
	char path[48] = "/proc/";
	size_t n = 6 + nl_fmt_int(path + 6, sizeof path - 6, pid);
	memcpy(path + n, "/environ", 9);
	enum { CHUNK = 1024 };
	size_t mark = nl_arena_enter();
	char *chunk = nl_arena_get(CHUNK + NL_PGROUP_MARKER_MAX);
	char *entry = chunk + CHUNK;
	int fd = chunk ? nl_sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0) : -1;
	if (fd < 0) {
		nl_arena_leave(mark);
		return -1;
	}
	size_t len = 0, total = 0;
	int skip = 0, found = -1;
	ssize_t r;
	m->respelled = 0;
	m->spawner = 0;
	while (found < 0 && (r = nl_sys_read(fd, chunk, CHUNK)) > 0) {
		total += (size_t)r;
		for (ssize_t i = 0; i < r && found < 0; i++) {
			char c = chunk[i];
			if (c == '\0') {
				if (!skip && len >= sizeof key) {
					entry[len] = '\0';
					if (entry[0] == key[0])
						found = parse_marker(entry + sizeof key - 1, m);
					else
						m->respelled = parse_marker(
							entry + sizeof key - 1, m) == 0;
				}
				len = 0;
				skip = 0;
			} else if (!skip) {
				/* Not the key (nor its other spelling), or longer
				 * than a marker. */
				if ((len < sizeof key - 1 && c != key[len] &&
				     (len != 0 || c != 'n')) ||
				    len == NL_PGROUP_MARKER_MAX - 1)
					skip = 1;
				else
					entry[len++] = c;
			}
		}
	}
	nl_sys_close(fd);
	nl_arena_leave(mark);
	return total ? found : -2;
}

/* The basename of what PID runs: its executable, else its command name
 * (a set-user-ID program's exe link is not ours to read). */
static const char *running(pid_t pid, const struct pstat *st, char *buf,
			   size_t cap)
{
	char path[48] = "/proc/";
	size_t n = 6 + nl_fmt_int(path + 6, sizeof path - 6, pid);
	memcpy(path + n, "/exe", 5);
	ssize_t len = nl_sys_readlink(path, buf, cap - 1);
	if (len <= 0 || (size_t)len == cap - 1)
		return st->comm;
	buf[len] = '\0';
	/* " (deleted)": an upgraded binary still runs under its name. */
	if (len > 10 && !strcmp(buf + len - 10, " (deleted)"))
		buf[len - 10] = '\0';
	return nl_basename(buf);
}

/* --- which groups the shim made --- */

struct me {
	pid_t pid, sid, pgid;
	int audit;
};

static void who_am_i(struct me *me)
{
	me->pid = nl_sys_getpid();
	me->sid = nl_sys_getsid(0);
	me->pgid = nl_sys_getpgid(0);
	me->audit = nl_mode() == NL_MODE_AUDIT;
}

/* Whether PID is a live child of this process that the shim moved into a
 * group of its own (audit: would have), and that has not moved since: it
 * leads that group, in this process's session, and carries our marker. */
static int shim_made(pid_t pid, const struct me *me, struct pstat *st,
		     struct marker *mk)
{
	if (pid <= 0 || pid == me->pid || read_pstat(pid, st) < 0 ||
	    st->ppid != me->pid || st->state == 'Z' || st->state == 'X' ||
	    st->sid != me->sid || (!me->audit && st->pgrp != pid))
		return 0;
	return read_marker(pid, mk) == 0 && mk->spawner == me->pid;
}

/* kill_escalate: why a kill of this shim-made child goes to its group, or
 * NULL when it does not. */
static const char *escalation_reason(pid_t pid, const struct pstat *st,
				     const struct marker *mk)
{
	const struct nl_policy *p = nl_policy();
	if (p->kill_escalate == NL_ESCALATE_ALWAYS)
		return "always";
	if (p->kill_escalate == NL_ESCALATE_NEVER)
		return NULL;
	if (mk->origin == NL_ORIGIN_SYSTEM)
		return "system";
	const char *why = mk->origin == NL_ORIGIN_SHELL_C ? "shell" : NULL;
	size_t mark = nl_arena_enter();
	char *exe = nl_arena_get(PATH_MAX);
	const char *name = exe ? running(pid, st, exe, PATH_MAX) : st->comm;
	if (nl_names_contain(p->fd_transparent, name))
		why = "shell";
	else if (nl_names_contain(p->kill_wrappers, name))
		why = "wrapper";
	nl_arena_leave(mark);
	return why;
}

/* --- sending signals to verified targets --- */

static int pidfd_open_(pid_t pid)
{
	return (int)NL_SYS(SYS_pidfd_open, pid, 0, 0);
}

static int pidfd_signal(int fd, int sig, unsigned flags)
{
	return (int)nl_sys6(SYS_pidfd_send_signal, fd, sig, 0, flags, 0, 0);
}

/* What the kernel offers, found once: 1 no pidfds (before 5.3), 2 pidfds
 * (5.3), 3 pidfds that signal the group they lead (6.9). */
enum { PIDFD_NONE = 1, PIDFD_PROCESS, PIDFD_GROUP };
static atomic_int pidfd_level;

static int pidfd_support(void)
{
	int level = atomic_load_explicit(&pidfd_level, memory_order_relaxed);
	if (level)
		return level;
	int fd = pidfd_open_(nl_sys_getpid());
	if (fd < 0) {
		level = PIDFD_NONE;
	} else {
		/* Signal 0 to the group our pid names: only the flag is tested
		 * (EINVAL before 6.9, else 0 or ESRCH). */
		level = pidfd_signal(fd, 0, PIDFD_SIGNAL_PROCESS_GROUP) != -EINVAL
				? PIDFD_GROUP : PIDFD_PROCESS;
		nl_sys_close(fd);
	}
	atomic_store_explicit(&pidfd_level, level, memory_order_relaxed);
	return level;
}

typedef int (*still_fn)(pid_t pid, const void *arg);

/* Send sig to TARGET, or to the group it leads, only if still(target, arg)
 * holds at the moment of sending.  The pidfd is opened before the check,
 * so the process checked is the one signalled.  Returns 0 or -errno. */
static int send_verified(pid_t target, int group, int sig, still_fn still,
			 const void *arg, int (*real_kill)(pid_t, int))
{
	int level = pidfd_support();
	int r;
	if (level == PIDFD_NONE) {
		/* Documented fallback: check, then kill at once. */
		if (!still(target, arg))
			return -ESRCH;
		return real_kill(group ? -target : target, sig) < 0 ? -errno : 0;
	}
	int fd = pidfd_open_(target);
	if (fd < 0)
		return fd;
	if (!still(target, arg))
		r = -ESRCH;
	else if (!group)
		r = pidfd_signal(fd, sig, 0);
	else if (level == PIDFD_GROUP)
		r = pidfd_signal(fd, sig, PIDFD_SIGNAL_PROCESS_GROUP);
	/* The leader still lives, so its number still names its group. */
	else if ((r = pidfd_signal(fd, 0, 0)) == 0)
		r = real_kill(-target, sig) < 0 ? -errno : 0;
	nl_sys_close(fd);
	return r;
}

/* The leader checked by shim_made() a moment ago: still the same process,
 * still leading its group.  It may have died since (timeout(1) signals its
 * command and then its group at once): an unreaped child keeps its number
 * and its group's, so its group is still the one that was checked. */
static int still_leader(pid_t pid, const void *arg)
{
	const struct pstat *was = arg;
	struct pstat now;
	return read_pstat(pid, &now) == 0 && now.start == was->start &&
	       now.ppid == was->ppid && now.pgrp == pid;
}

/* --- kill --- */

static int terminating(int sig)
{
	return sig == SIGTERM || sig == SIGKILL || sig == SIGINT || sig == SIGQUIT;
}

static void note_signalled(pid_t pgid);   /* records, below */

static void log_kill(const char *action, pid_t pid, int sig, const char *reason)
{
	if (!nl_event_enabled())
		return;
	struct nl_event ev;
	nl_event_begin(&ev, "kill_escalated");
	nl_event_str(&ev, "action", action);
	nl_event_int(&ev, "child", pid);
	nl_event_int(&ev, "signal", sig);
	nl_event_str(&ev, "reason", reason);
	nl_event_emit(&ev);
}

/* Signal the group of a shim-made child (the leader just checked). */
static int signal_group(pid_t leader, const struct pstat *st, int sig,
			int (*real_kill)(pid_t, int))
{
	note_signalled(leader);
	return send_verified(leader, 1, sig, still_leader, st, real_kill);
}

static int zombie_made(pid_t pid, const struct me *me, struct pstat *st,
		       struct marker *mk);

struct fan_out {
	struct me me;
	int sig;
	int (*real_kill)(pid_t, int);
	struct pstat st;
	struct marker mk;
};

/* kill(0) and killpg(own group): every child group the shim split off is
 * signalled as a whole, as the program's own group would have been
 * without the shim. */
static void fan_out_one(int pid, void *arg)
{
	struct fan_out *f = arg;
	struct pstat *st = &f->st;
	struct marker *mk = &f->mk;
	/* Audit moved nobody: say what enforce would reach. */
	if ((!shim_made(pid, &f->me, st, mk) &&
	     !zombie_made(pid, &f->me, st, mk)) ||
	    (!f->me.audit && st->pgrp == f->me.pgid))
		return;
	/* Split off from a group this process has left since (its own
	 * setpgid() or setsid()): without the shim it is still in that
	 * one, which kill(0) no longer reaches. */
	if (mk->from != f->me.pgid)
		return;
	const char *why = escalation_reason(pid, st, mk);
	log_kill(f->me.audit ? "would_signal_group" : "signal_group", pid,
		 f->sig, why ? why : "group");
	if (!f->me.audit)
		signal_group(pid, st, f->sig, f->real_kill);
}

/* --- the group a moved process reports --- */

/* This process, in group pgid, is in one the shim made for it and could
 * go back to the group it came from (setsid() does): it moved neither
 * itself nor into a session, and its spawner is still its parent. */
static int could_go_back(pid_t self, pid_t pgid)
{
	return came_from_pgid && pgid == self && !atomic_load(&moved_self) &&
	       came_from_spawner == nl_sys_getppid() &&
	       nl_sys_getsid(0) != self;
}

pid_t nl_pgroup_shown(pid_t pid, pid_t pgid)
{
	if (__builtin_expect(!came_from_pgid, 1) || pgid <= 0 ||
	    nl_policy()->mode != NL_MODE_ENFORCE)
		return pgid;
	pid_t self = nl_sys_getpid();
	if ((pid != 0 && pid != self) || !could_go_back(self, pgid))
		return pgid;
	return came_from_pgid;
}

pid_t nl_pgroup_shown_to_real(pid_t pgid)
{
	if (__builtin_expect(!came_from_pgid, 1) || pgid != came_from_pgid ||
	    nl_policy()->mode != NL_MODE_ENFORCE)
		return pgid;
	pid_t self = nl_sys_getpid();
	return could_go_back(self, nl_sys_getpgid(0)) ? self : pgid;
}

/* A signal to the group such a process reports reaches its own group
 * too, as without the shim, where it and its descendants are in the
 * other: the other first, so that one the caller takes comes last.  It
 * worked when either did. */
static int kill_shown_group(pid_t pid, int sig, int (*real_kill)(pid_t, int))
{
	pid_t self = nl_sys_getpid();
	if (!could_go_back(self, nl_sys_getpgid(0)))
		return real_kill(pid, sig);
	int r = real_kill(pid, sig), e = errno;
	if (real_kill(-self, sig) == 0 && r < 0) {
		r = 0;
		e = 0;
	}
	if (r < 0)
		errno = e;
	return r;
}

int nl_pgroup_kill(pid_t pid, int sig, int (*real_kill)(pid_t, int))
{
	nl_pgroup_tick();
	const struct nl_policy *p = nl_policy();
	if (__builtin_expect(came_from_pgid != 0, 0) && pid < -1 &&
	    -pid == came_from_pgid && p->mode == NL_MODE_ENFORCE)
		return kill_shown_group(pid, sig, real_kill);
	/* kill(pid) is escalated for the four signals that end a tree; a
	 * signal to the own group goes on to the groups split off from it
	 * whatever it is, as it reached them all without the shim. */
	if (p->mode == NL_MODE_OFF || sig == 0 ||
	    (pid > 0 && !terminating(sig)) ||
	    p->kill_escalate == NL_ESCALATE_NEVER ||
	    p->pgroup == NL_PGROUP_NEVER || pid == -1)
		return real_kill(pid, sig);
	if (!leads(nl_sys_getpid()) || (pid < -1 && -pid != nl_sys_getpgid(0)))
		return real_kill(pid, sig);
	int saved = errno;
	/* The scan's state lives in arena memory, not on the caller's stack
	 * (kill() may run in a signal handler). */
	size_t mark = nl_arena_enter();
	struct fan_out *f = nl_arena_get(sizeof *f);
	if (!f) {
		nl_arena_leave(mark);
		return real_kill(pid, sig);
	}
	*f = (struct fan_out){ .sig = sig, .real_kill = real_kill };
	who_am_i(&f->me);
	int sent = 0;
	if (pid > 0) {
		int made = shim_made(pid, &f->me, &f->st, &f->mk);
		/* A child of ours still in our group, whose move may be due:
		 * it makes it just before its first child, which may be now. */
		int may_move = !made && !f->me.audit && f->st.ppid == f->me.pid &&
			       f->st.pgrp == f->me.pgid && !f->st.forknoexec;
		const char *why = made ? escalation_reason(pid, &f->st, &f->mk)
				       : NULL;
		if (why) {
			log_kill(f->me.audit ? "would_escalate" : "escalated", pid,
				 sig, why);
			sent = !f->me.audit &&
			       signal_group(pid, &f->st, sig, real_kill) == 0;
		} else if (may_move) {
			/* It reaches the child alone, its whole tree unless it
			 * moved meanwhile: then its group too, with the child
			 * it may have made since (the child gets the signal
			 * twice then). */
			int r = real_kill(pid, sig), e = errno;
			if (shim_made(pid, &f->me, &f->st, &f->mk) &&
			    (why = escalation_reason(pid, &f->st, &f->mk))) {
				log_kill("escalated", pid, sig, why);
				signal_group(pid, &f->st, sig, real_kill);
			}
			nl_arena_leave(mark);
			if (r < 0)
				errno = e;
			else
				nl_errno_restore(saved);
			return r;
		}
	} else {
		/* kill(0) or killpg(own group). */
		nl_for_each_number("/proc", fan_out_one, f);
	}
	nl_arena_leave(mark);
	nl_errno_restore(saved);
	return sent ? 0 : real_kill(pid, sig);
}

/* --- waiting for the program's own group --- */

struct wait_scan {
	struct me me;
	int foreign;              /* a child in a group of another's making */
	int moved;                /* a child in a group the shim made */
	int movable;              /* a child in our group that may still move
				   * (forked, not yet exec'd, by a spawner
				   * that regroups; or exec'd with our marker
				   * and its move still due) */
	int regroups;             /* this process regroups its children (-1:
				   * not asked yet) */
	struct pstat st;
	struct marker mk;
	char path[64];
	char list[4096];          /* a thread's /proc children file, in parts */
};

static int placed_here(pid_t pid, unsigned long long start);

enum { CHILD_FOREIGN, CHILD_OURS, CHILD_MOVED };

/* Where child pid would be without the shim: in the caller's group
 * (CHILD_OURS: it is, or it is gone), or there but for the shim
 * (CHILD_MOVED: it leads a group the shim made: alive with our marker, or
 * a zombie leading a group of its own in our session that exec'd and that
 * the program did not place there: see the README's limits), or elsewhere
 * by its own or the program's doing (CHILD_FOREIGN).  A child in our group
 * that may yet move (its exec to come may mark it, or its marker makes
 * the move due at its first child) is noted as movable. */
static int where_child(pid_t pid, struct wait_scan *w)
{
	struct pstat *st = &w->st;
	if (read_pstat(pid, st) < 0 || st->ppid != w->me.pid)
		return CHILD_OURS;   /* reaped meanwhile: nothing to tell */
	if (st->pgrp == w->me.pgid) {
		if (w->movable)
			return CHILD_OURS;
		int marked = -1;
		if (!st->forknoexec && st->state != 'Z' && st->state != 'X')
			marked = read_marker(pid, &w->mk);
		if (marked == 0 && w->mk.spawner == w->me.pid &&
		    w->mk.token == pid && w->mk.move == NL_MOVE_DUE) {
			w->movable = 1;
		} else if (st->forknoexec || marked == -2) {
			/* Not exec'd yet, or in its exec: a posix_spawn child
			 * whose new environment is not in place yet (the
			 * kernel lets the spawner go on first, and /proc then
			 * shows an empty one) may carry our marker. */
			if (w->regroups < 0)
				w->regroups = nl_pgroup_regroups(
					w->me.pid, atomic_load(&manages_groups));
			w->movable = w->regroups;
		}
		return CHILD_OURS;
	}
	if (st->sid != w->me.sid || st->pgrp != pid ||
	    placed_here(pid, st->start))
		return CHILD_FOREIGN;
	/* The shim moves a child only after an exec: one that never exec'd
	 * moved itself, or its parent moved it. */
	if (st->state == 'Z' || st->state == 'X')
		return st->forknoexec ? CHILD_FOREIGN : CHILD_MOVED;
	/* Split off from the group this process is in now: one it has
	 * left since is no group a wait for its own reaches. */
	int marked = read_marker(pid, &w->mk) == 0;
	return marked && w->mk.spawner == w->me.pid &&
			       w->mk.from == w->me.pgid
		       ? CHILD_MOVED
		       : CHILD_FOREIGN;
}

static void tell_child(pid_t pid, struct wait_scan *w)
{
	switch (where_child(pid, w)) {
	case CHILD_FOREIGN: w->foreign = 1; break;
	case CHILD_MOVED: w->moved = 1; break;
	}
}

static void scan_thread_children(int tid, void *arg)
{
	struct wait_scan *w = arg;
	size_t n = 0;
	memcpy(w->path, "/proc/self/task/", 16);
	n = 16 + nl_fmt_int(w->path + 16, sizeof w->path - 16, tid);
	memcpy(w->path + n, "/children", 10);
	int fd = nl_sys_openat(AT_FDCWD, w->path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		w->foreign = 1;   /* cannot tell */
		return;
	}
	/* "PID PID ... ": read in parts, a number cut at a part's end is
	 * carried to the next. */
	pid_t pid = 0;
	ssize_t r;
	while (!w->foreign && (r = nl_sys_read(fd, w->list, sizeof w->list)) > 0)
		for (ssize_t i = 0; i < r && !w->foreign; i++) {
			char c = w->list[i];
			if (c >= '0' && c <= '9') {
				pid = pid * 10 + (c - '0');
				continue;
			}
			if (pid > 0)
				tell_child(pid, w);
			pid = 0;
		}
	if (pid > 0 && !w->foreign)
		tell_child(pid, w);
	nl_sys_close(fd);
}

static struct wait_scan *wait_scan_begin(void)
{
	struct wait_scan *w = nl_arena_get(sizeof *w);
	if (w) {
		w->foreign = w->moved = w->movable = 0;
		w->regroups = -1;
		who_am_i(&w->me);
	}
	return w;
}

int nl_pgroup_wait_plan(pid_t *pid)
{
	const struct nl_policy *p = nl_policy();
	if (*pid != 0 && *pid >= -1)
		return NL_WAIT_AS_ASKED;
	/* The group getpgrp() names in a process the shim moved holds its
	 * children, as without the shim: its own. */
	if (__builtin_expect(came_from_pgid > 1, 0) && *pid == -came_from_pgid &&
	    p->mode == NL_MODE_ENFORCE &&
	    could_go_back(nl_sys_getpid(), nl_sys_getpgid(0)))
		*pid = 0;
	if (p->mode != NL_MODE_ENFORCE || p->pgroup == NL_PGROUP_NEVER ||
	    !leads(nl_sys_getpid()))
		return NL_WAIT_AS_ASKED;
	int saved = errno;
	size_t mark = nl_arena_enter();
	struct wait_scan *w = wait_scan_begin();
	int plan = NL_WAIT_AS_ASKED;
	if (w && (*pid == 0 || -*pid == w->me.pgid)) {
		nl_for_each_number("/proc/self/task", scan_thread_children, w);
		if (!w->foreign && (w->moved || w->movable))
			plan = NL_WAIT_PEEK;
	}
	nl_arena_leave(mark);
	nl_errno_restore(saved);
	return plan;
}

int nl_pgroup_wait_takes(pid_t child)
{
	int saved = errno;
	size_t mark = nl_arena_enter();
	struct wait_scan *w = wait_scan_begin();
	/* A process traced by this one, not its child, is in no group of
	 * ours. */
	int takes = w && (read_pstat(child, &w->st) < 0 ||
			  w->st.ppid == w->me.pid) &&
		    where_child(child, w) != CHILD_FOREIGN;
	nl_arena_leave(mark);
	nl_errno_restore(saved);
	return takes;
}

/* --- records: children the program placed, signalled groups and
 * pending kills, in mmap'd pages ---
 *
 * No fixed limit: pages are added as needed and never freed but in a fork
 * child (which starts with none).  A slot is claimed by moving its pid from
 * 0 to -1, filled, then published; a placed child's record goes when it is
 * reaped, or as stale (its pid no longer our child with the same start
 * time: reaped behind our back) when a page is full.  Without memory the
 * record is not kept: a placed child's group may be taken for the shim's
 * once the child has exited, and a pending SIGKILL is not sent. */

enum { REC_PENDING = 1, REC_SIGNALLED, REC_PLACED };

struct rec {
	_Atomic pid_t pid;        /* 0 free, -1 being filled */
	int kind;                 /* REC_PLACED: pid is a child the program
				   * moved with setpgid() itself */
				  /* REC_SIGNALLED: pid is a group this
				   * process signalled as a whole, not yet
				   * reaped */
	unsigned long long start; /* PLACED: the child's; PENDING: latest
				   * member's */
	long long deadline;       /* ms, CLOCK_MONOTONIC: REC_PENDING: when
				   * to SIGKILL; REC_SIGNALLED: the end of
				   * the members' moment to die */
};

struct page {
	struct page *next;
	struct rec r[(PAGE_BYTES - sizeof(struct page *)) / sizeof(struct rec)];
};
#define PAGE_RECS (sizeof(((struct page *)0)->r) / sizeof(struct rec))

static struct page *_Atomic pages NL_FORK_DATA;
static atomic_int pending_count NL_FORK_DATA;

static struct rec *claim_in_pages(void)
{
	for (struct page *pg = atomic_load(&pages); pg; pg = pg->next)
		for (size_t i = 0; i < PAGE_RECS; i++) {
			pid_t empty = 0;
			if (atomic_compare_exchange_strong(&pg->r[i].pid, &empty, -1))
				return &pg->r[i];
		}
	return NULL;
}

/* Whether record r (holding pid) still stands: a placed child not reaped
 * behind our back, a signalled group that still exists. */
static int still_stands(const struct rec *r, pid_t pid, pid_t self)
{
	struct pstat st;
	switch (r->kind) {
	case REC_PLACED:
		return read_pstat(pid, &st) == 0 && st.ppid == self &&
		       st.start == r->start;
	case REC_SIGNALLED:
		return nl_sys_kill(-pid, 0) != -ESRCH;
	default:
		return 1;
	}
}

/* Free the records that no longer stand. */
static int drop_stale(void)
{
	pid_t self = nl_sys_getpid();
	int freed = 0;
	for (struct page *pg = atomic_load(&pages); pg; pg = pg->next)
		for (size_t i = 0; i < PAGE_RECS; i++) {
			struct rec *r = &pg->r[i];
			pid_t pid = atomic_load(&r->pid);
			if (pid <= 0 || still_stands(r, pid, self))
				continue;
			freed += atomic_compare_exchange_strong(&r->pid, &pid, 0);
		}
	return freed;
}

static struct rec *claim(void)
{
	struct rec *r = claim_in_pages();
	if (r || (drop_stale() && (r = claim_in_pages())))
		return r;
	long m = nl_sys_mmap_anon(PAGE_BYTES);   /* errno left alone */
	if (nl_sys_mmap_failed(m)) {
		log_pgroup("untracked", "no memory", 0, 0);
		return NULL;
	}
	struct page *pg = (struct page *)m;
	atomic_store(&pg->r[0].pid, -1);
	pg->next = atomic_load(&pages);
	while (!atomic_compare_exchange_weak(&pages, &pg->next, pg))
		;
	return &pg->r[0];
}

static void publish(struct rec *r, pid_t pid)
{
	atomic_store_explicit(&r->pid, pid, memory_order_release);
}

/* The record of that kind published for pid, or NULL. */
static struct rec *find_rec(pid_t pid, int kind)
{
	for (struct page *pg = atomic_load(&pages); pg; pg = pg->next)
		for (size_t i = 0; i < PAGE_RECS; i++) {
			struct rec *r = &pg->r[i];
			if (atomic_load_explicit(&r->pid, memory_order_acquire) == pid &&
			    r->kind == kind)
				return r;
		}
	return NULL;
}

/* Whether the program itself placed child pid, started at `start`, with
 * setpgid(): its group is the program's doing, never the shim's, even once
 * the child is a zombie whose environment is gone. */
static int placed_here(pid_t pid, unsigned long long start)
{
	const struct rec *r = find_rec(pid, REC_PLACED);
	return r && r->start == start;
}

void nl_pgroup_placed(pid_t child)
{
	struct pstat st;
	if (nl_in_foreign_child() || child <= 0 || child == nl_sys_getpid() ||
	    !leads(nl_sys_getpid()) || read_pstat(child, &st) < 0 ||
	    st.ppid != nl_sys_getpid() || placed_here(child, st.start))
		return;
	int saved = errno;
	struct rec *r = claim();
	if (r) {
		r->kind = REC_PLACED;
		r->start = st.start;
		publish(r, child);
	}
	nl_errno_restore(saved);
}

/* Take (free) the record of that kind for pid: whether there was one;
 * *deadline gets its deadline. */
static int take_rec_at(pid_t pid, int kind, long long *deadline)
{
	struct rec *r;
	while ((r = find_rec(pid, kind))) {
		pid_t was = pid;
		long long d = r->deadline;
		if (atomic_compare_exchange_strong(&r->pid, &was, 0)) {
			if (deadline)
				*deadline = d;
			return 1;
		}
	}
	return 0;
}

static long long now_ms(void);

/* Every group this process signals as a whole is remembered until its
 * leader is reaped (or the group is gone when records run short): its
 * members get a moment to die before they are called orphans: until
 * DYING_MS after the signal, however fast the machine scans /proc, and at
 * least REAPED_MS after the leader is reaped (a leader that handled the
 * signal and took its time, its members a little longer).  Without
 * memory, they get one look. */
#define DYING_MS 50
#define REAPED_MS 25
static void note_signalled(pid_t pgid)
{
	/* Signalled again: the first signal's moment stands (a record is
	 * written only while it is claimed, never once published). */
	if (find_rec(pgid, REC_SIGNALLED))
		return;
	struct rec *r = claim();
	if (!r)
		return;
	r->kind = REC_SIGNALLED;
	r->deadline = now_ms() + DYING_MS;
	publish(r, pgid);
}

/* The end of the moment to die of the group pgid that this process
 * signalled as a whole (its record taken), or 0. */
static long long signalled_until(pid_t pgid)
{
	long long until = 0;
	return take_rec_at(pgid, REC_SIGNALLED, &until) ? until : 0;
}

/* --- orphans --- */

struct member_scan {
	pid_t pgid;              /* the group they are in */
	pid_t child;             /* the reaped child they outlived (log) */
	pid_t token;             /* audit: the marker token they carry */
	unsigned long long started_by;  /* only those started by then (kill) */
	struct me me;
	int count;
	/* What to do with each member: NULL to count only. */
	void (*act)(pid_t pid, const struct pstat *st, struct member_scan *m);
	const struct own_objects *own;
	const char *action;
	unsigned long long latest;   /* latest start among those acted on */
	struct marker first;         /* the marker of the first one found */
	struct pstat st;             /* scratch of the scan (arena memory) */
	struct marker mk;
};

/* A live member of the group with our marker (audit: with the reaped
 * child's token).  Both ways, a process that detached (setsid, another
 * group) is not one: it left on purpose; nor is one that is dying (a
 * signal of the group's killed it, and it has yet to run). */
static int is_member(pid_t pid, const struct member_scan *m, struct pstat *st,
		     struct marker *mk)
{
	return pid != m->me.pid && read_pstat(pid, st) == 0 &&
	       st->state != 'Z' && st->state != 'X' && !st->dying &&
	       st->pgrp == m->pgid &&
	       (!m->started_by || st->start <= m->started_by) &&
	       read_marker(pid, mk) == 0 && mk->spawner == m->me.pid &&
	       (!m->token || mk->token == m->token);
}

static void scan_member(int pid, void *arg)
{
	struct member_scan *m = arg;
	if (!is_member(pid, m, &m->st, &m->mk))
		return;
	if (!m->count++)
		m->first = m->mk;
	if (m->act)
		m->act(pid, &m->st, m);
}

/* Our pipes and sockets, to say which of them an orphan holds: as many as
 * we have, in scratch memory (the reaping may be in a signal handler).
 * With no memory for more, those found so far are named. */
struct own_object {
	int fd;
	char link[40];
};
struct own_objects {
	size_t n, len;
	struct own_object *v;   /* scratch block of len bytes */
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
	char link[40];
	if (fd_link(0, fd, link, sizeof link) <= 0 || !is_pipe_or_socket(link) ||
	    nl_scratch_grow((void **)&own->v, &own->len,
			    (own->n + 1) * sizeof *own->v) != 0)
		return;
	own->v[own->n].fd = fd;
	memcpy(own->v[own->n].link, link, sizeof link);
	own->n++;
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
	for (size_t i = 0; i < h->own->n; i++) {
		if (strcmp(link, h->own->v[i].link) || h->len + 12 >= sizeof h->list)
			continue;
		if (h->len)
			h->list[h->len++] = ',';
		h->len += nl_fmt_int(h->list + h->len, sizeof h->list - h->len,
				     h->own->v[i].fd);
	}
}

static void log_orphan(pid_t child, pid_t orphan, const char *action,
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
	nl_event_int(&ev, "child", child);
	nl_event_int(&ev, "orphan", orphan);
	nl_event_str(&ev, "orphan_exe", len > 0 ? exe : "unknown (permission)");
	nl_event_str(&ev, "holds_fds", held->list);
	nl_event_emit(&ev);
	nl_arena_leave(mark);
}

static int raw_kill(pid_t pid, int sig)
{
	int r = nl_sys_kill(pid, sig);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

struct member_was {
	const struct member_scan *m;
	unsigned long long start;
};

/* The member checked a moment ago: the same process, still a member. */
static int still_member(pid_t pid, const void *arg)
{
	const struct member_was *w = arg;
	struct pstat st;
	struct marker mk;
	return is_member(pid, w->m, &st, &mk) && st.start == w->start;
}

static void log_member(pid_t pid, const struct pstat *st, struct member_scan *m)
{
	(void)st;
	if (m->own)
		log_orphan(m->child, pid, m->action, m->own);
}

/* Each member on its own, through a pidfd verified after it is opened. */
static void signal_member(pid_t pid, const struct pstat *st, int sig,
			  struct member_scan *m)
{
	struct member_was w = { m, st->start };
	send_verified(pid, 0, sig, still_member, &w, raw_kill);
	if (st->start > m->latest)
		m->latest = st->start;
}

static void term_member(pid_t pid, const struct pstat *st, struct member_scan *m)
{
	log_member(pid, st, m);
	signal_member(pid, st, SIGTERM, m);
}

static void kill_member(pid_t pid, const struct pstat *st, struct member_scan *m)
{
	signal_member(pid, st, SIGKILL, m);
}

/* Members of a group that was just signalled may need a moment to die:
 * those a fatal signal hit are not counted (is_member), those that handle
 * it are counted again 1 ms apart until `until` (ms, CLOCK_MONOTONIC; 0:
 * one look) before they are called orphans. */
static int count_members(struct member_scan *m, long long until)
{
	for (;;) {
		m->count = 0;
		nl_for_each_number("/proc", scan_member, m);
		if (!m->count || !until || now_ms() >= until)
			return m->count;
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
}

/* A child that died or is dying (unreaped, so its number is still its
 * own; its environment already unreadable) leading a group the shim made:
 * its live members carry our marker.  kill(0) must still reach them, as it
 * would have in our group — timeout(1) signals its command, then its own
 * group at once, and the command may be exiting in between. */
static int zombie_made(pid_t pid, const struct me *me, struct pstat *st,
		       struct marker *mk)
{
	if (me->audit || pid == me->pid || read_pstat(pid, st) < 0 ||
	    st->ppid != me->pid || st->sid != me->sid || st->pgrp != pid)
		return 0;
	/* Alive with its environment readable: shim_made() decided. */
	if (st->state != 'Z' && st->state != 'X' && read_marker(pid, mk) == 0)
		return 0;
	size_t mark = nl_arena_enter();
	struct member_scan *m = nl_arena_get(sizeof *m);
	int found = 0;
	if (m) {
		*m = (struct member_scan){ .pgid = pid, .me = *me };
		found = count_members(m, 0) > 0;
		if (found)
			*mk = m->first;
	}
	nl_arena_leave(mark);
	return found;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void schedule_kill(pid_t pgid, unsigned long long latest)
{
	struct rec *r = claim();
	if (!r)
		return;
	r->kind = REC_PENDING;
	r->start = latest;
	r->deadline = now_ms() + 2000;
	atomic_fetch_add(&pending_count, 1);
	publish(r, pgid);
}

void nl_pgroup_reaped(pid_t pid, int status)
{
	if (WIFSTOPPED(status) || WIFCONTINUED(status))
		return;
	/* Every marked child's token is its pid (the exec that marks it, or
	 * the spawn child, writes its own). */
	pid_t token = pid;
	take_rec_at(pid, REC_PLACED, NULL);
	long long dying_until = signalled_until(pid);
	if (dying_until) {
		long long reaped_until = now_ms() + REAPED_MS;
		if (dying_until < reaped_until)
			dying_until = reaped_until;
	}
	const struct nl_policy *p = nl_policy();
	int audit = p->mode == NL_MODE_AUDIT;
	int kill_them = p->orphans == NL_ORPHANS_KILL;
	/* Orphans that are only logged, with no log: nothing to look for.
	 * Enforce: the group died with its leader, or never was one — what a
	 * child of a process that leads no session always finds, so this is
	 * asked before that. */
	if (p->orphans == NL_ORPHANS_KEEP || p->pgroup == NL_PGROUP_NEVER ||
	    (!kill_them && !nl_event_enabled()) ||
	    (!audit && nl_sys_kill(-pid, 0) < 0) || !leads(nl_sys_getpid()))
		return;
	int saved = errno;
	/* The scan and the log's buffers live in arena memory, not on the
	 * stack of the waitpid() caller. */
	size_t mark = nl_arena_enter();
	struct member_scan *m = nl_arena_get(sizeof *m);
	if (!m)
		goto out;
	*m = (struct member_scan){ .pgid = pid, .child = pid };
	who_am_i(&m->me);
	/* Enforce: the members of the child's group with our marker.  Audit
	 * moved nobody: the processes of our group with the child's token. */
	if (audit) {
		m->pgid = m->me.pgid;
		m->token = token;
	}
	if (!count_members(m, audit ? 0 : dying_until))
		goto out;
	m->action = !kill_them ? "logged" : audit ? "would_kill" : "killed";
	struct own_objects *own = nl_event_enabled() ? nl_arena_get(sizeof *own)
						       : NULL;
	if (own) {
		*own = (struct own_objects){ 0 };
		nl_for_each_open_fd(collect_own, own);
		m->own = own;
	}
	m->act = kill_them && !audit ? term_member : log_member;
	nl_for_each_number("/proc", scan_member, m);
	if (own)
		nl_scratch_free((void **)&own->v, &own->len);
	if (kill_them && !audit && m->latest)
		schedule_kill(pid, m->latest);
out:
	nl_arena_leave(mark);
	nl_errno_restore(saved);
}

/* SIGKILL the members that were there at the SIGTERM: a process that
 * took the group's number since started later. */
void nl_pgroup_tick(void)
{
	if (!atomic_load_explicit(&pending_count, memory_order_relaxed))
		return;
	long long now = now_ms();
	for (struct page *pg = atomic_load(&pages); pg; pg = pg->next)
		for (size_t i = 0; i < PAGE_RECS; i++) {
			struct rec *r = &pg->r[i];
			pid_t pgid = atomic_load_explicit(&r->pid, memory_order_acquire);
			if (pgid <= 0 || r->kind != REC_PENDING || now < r->deadline)
				continue;
			unsigned long long started_by = r->start;
			if (!atomic_compare_exchange_strong(&r->pid, &pgid, 0))
				continue;
			atomic_fetch_sub(&pending_count, 1);
			int saved = errno;
			size_t mark = nl_arena_enter();
			struct member_scan *m = nl_arena_get(sizeof *m);
			if (m) {
				*m = (struct member_scan){ .pgid = pgid,
							   .started_by = started_by,
							   .act = kill_member };
				who_am_i(&m->me);
				nl_for_each_number("/proc", scan_member, m);
			}
			nl_arena_leave(mark);
			nl_errno_restore(saved);
		}
}

/* --- setsid --- */

pid_t nl_pgroup_retry_setsid(pid_t (*real_setsid)(void))
{
	pid_t self = nl_sys_getpid();
	/* A process that moved itself (setpgid(0, 0)) is the leader of a
	 * group of its own making: glibc's EPERM stands. */
	if (!could_go_back(self, nl_sys_getpgid(0)) ||
	    nl_sys_setpgid(0, came_from_pgid) < 0) {
		errno = EPERM;
		return -1;
	}
	pid_t r = real_setsid();
	/* Still refused: a process it started keeps its pid alive as a
	 * group's id.  Back into its own group, with its descendants, as
	 * the failed call found it. */
	if (r < 0) {
		int e = errno;
		nl_sys_setpgid(0, 0);
		errno = e;
	}
	return r;
}

static long long parse_long(const char **p)
{
	long long v = 0;
	for (; **p >= '0' && **p <= '9' && v < (1LL << 31); (*p)++)
		v = v * 10 + (**p - '0');
	return v;
}

/* A systemd service's main process: systemd set INVOCATION_ID, and
 * SYSTEMD_EXEC_PID (systemd 248 and later) names this very process, not
 * the one that started a descendant; its parent is PID 1 (read here, at
 * start-up: systemd forked it and lives on, so it stays so, while a
 * process of the service that was reparented to PID 1 later, as the
 * command of `setsid -f`, is not taken).  The init system stops a service
 * by its cgroup, whatever groups its processes are in. */
static void note_service(char **envp)
{
	if (!nl_policy_env_value(envp, "INVOCATION_ID"))
		return;
	const char *exec_pid = nl_policy_env_value(envp, "SYSTEMD_EXEC_PID");
	if (exec_pid) {
		long long pid = parse_long(&exec_pid);
		if (*exec_pid || pid != nl_proc_pid())
			return;
	}
	if (nl_sys_getppid() == 1)
		service_pid = nl_proc_pid();
}

/* The rest of NOLEAK_LAUNCHED=PID:START:PIDNS after the pid, in a process
 * with that pid: is it the one the launcher started (tools/noleak/run.c),
 * and not one that got the same number in another pid namespace, or
 * after the first one ended, and inherited the variable?  Its start time
 * (exec keeps it) and pid namespace say; what cannot be read is 0 on both
 * sides.  Only that one process pays for the look into /proc. */
static int launched_here(const char *rest)
{
	unsigned long long start = 0, ns = 0;
	for (; *rest >= '0' && *rest <= '9'; rest++)
		start = start * 10 + (unsigned)(*rest - '0');
	if (*rest++ != ':')
		return 0;
	for (; *rest >= '0' && *rest <= '9'; rest++)
		ns = ns * 10 + (unsigned)(*rest - '0');
	if (*rest)
		return 0;
	struct stat st;
	if (nl_sys_stat("/proc/self/ns/pid", &st) < 0)
		st.st_ino = 0;
	if ((unsigned long long)st.st_ino != ns)
		return 0;
	enum { STAT_MAX = 512 };
	struct pstat ps = { .start = 0 };
	size_t mark = nl_arena_enter();
	char *buf = nl_arena_get(STAT_MAX);
	int fd = buf ? nl_sys_openat(AT_FDCWD, "/proc/self/stat",
				     O_RDONLY | O_CLOEXEC, 0) : -1;
	ssize_t len = fd < 0 ? -1 : nl_sys_read(fd, buf, STAT_MAX - 1);
	if (fd >= 0)
		nl_sys_close(fd);
	if (len <= 0 || parse_pstat(buf, len, &ps) < 0)
		ps.start = 0;
	nl_arena_leave(mark);
	return ps.start == start;
}

/* Keep the marker entry whose value is `value` (name: its key and '=')
 * for the execs to pass on, and take it out of environ. */
static void keep_entry(char **envp, const char *value, const char *name,
		       size_t name_len)
{
	/* A longer one is no marker: not passed on. */
	const char *entry = value - name_len - 1;
	size_t len = strlen(entry);
	if (len < sizeof inherited)
		memcpy(inherited, entry, len + 1);
	nl_policy_env_remove(envp, name);
}

/* A marker respelt by a process that moved itself or started a session
 * (respell), which exec'd in place since: nothing is due and no group is
 * the shim's, but it is the program's no more than the marker is: kept
 * for the execs to pass on, out of environ (mode off leaves it). */
static void keep_gone(char **envp, int take_marker)
{
	const char *value = take_marker
			    ? nl_policy_env_value(envp, NL_PGROUP_GONE_ENV) : NULL;
	if (value)
		keep_entry(envp, value, NL_PGROUP_GONE_ENV "=",
			   sizeof NL_PGROUP_GONE_ENV - 1);
}

/* Whether the group of the process the launcher started, as it starts,
 * is neither its own nor its parent's (launched_regroups). */
static int in_an_ancestors_group(pid_t self)
{
	pid_t pg = nl_sys_getpgid(0);
	return pg != self && pg != nl_sys_getppid();
}

void nl_pgroup_init(char **envp, int take_marker)
{
	if (!envp)
		return;
	const char *launched = nl_policy_env_value(envp, "NOLEAK_LAUNCHED");
	if (launched) {
		long long pid = parse_long(&launched);
		if (pid > 0 && pid == nl_proc_pid() && *launched == ':' &&
		    launched_here(launched + 1)) {
			launched_pid = (pid_t)pid;
			launched_grouped = !in_an_ancestors_group((pid_t)pid);
		}
	}
	const char *preload = nl_policy_env_value(envp, "LD_PRELOAD");
	preloaded = preload && names_the_shim(preload);
	if (take_marker)
		note_service(envp);
	const char *value = nl_policy_env_value(envp, NL_PGROUP_FROM_ENV);
	if (!value) {
		keep_gone(envp, take_marker);
		return;
	}
	marker_in_env = (char *)value - sizeof NL_PGROUP_FROM_ENV;
	struct marker m;
	if (parse_marker(value, &m) == 0 && m.spawner > 0 && m.from > 0) {
		came_from_spawner = m.spawner;
		came_from_pgid = m.from;
		/* Ours when the token is this process's pid: the exec that
		 * marked it, or an exec in place since, which passes the
		 * marker on; a descendant carries its ancestor's. */
		if (take_marker && m.token == nl_proc_pid() &&
		    (m.move == NL_MOVE_DUE || m.move == NL_MOVE_AUDIT)) {
			move_how = m.move;
			atomic_store(&move_due, m.token);
		}
	}
	if (!take_marker)
		return;
	keep_entry(envp, value, NL_PGROUP_FROM_ENV "=",
		   sizeof NL_PGROUP_FROM_ENV - 1);
	nl_policy_env_remove(envp, NL_PGROUP_GONE_ENV "=");
}

/* A fork child starts with no records: its parent's children are not its
 * own.  Only the forking thread exists here, so the pages can go. */
void nl_pgroup_after_fork(pid_t parent)
{
	spawner = parent;
	/* Needed only when the parent regroups without leading its session
	 * (decide_regroup): as the process the launcher started. */
	spawner_pgid = launched_regroups(parent) ? nl_sys_getpgid(0) : 0;
	spawner_manages = atomic_load(&manages_groups);
	if (spawner_manages)
		atomic_store(&manages_groups, 0);
	struct page *pg = atomic_load(&pages);
	if (pg)
		atomic_store(&pages, NULL);
	while (pg) {
		struct page *next = pg->next;
		nl_sys_munmap(pg, PAGE_BYTES);
		pg = next;
	}
	if (atomic_load(&pending_count))
		atomic_store(&pending_count, 0);
	if (came_from_pgid)
		came_from_pgid = 0;
	/* The parent made its move, or gave it up, before the fork
	 * (nl_pgroup_before_child); none is due here even when a signal
	 * handler forked in the middle of it. */
	if (atomic_load_explicit(&move_due, memory_order_relaxed))
		atomic_store(&move_due, 0);
}

/* The group (or session) is the process's own making now, as without the
 * shim: the spawner must no longer take it for one it made, nor the
 * program an exec in place runs for one it could go back from (it would
 * report the spawner's group and get a session where glibc says EPERM).
 * The key in the environment block (taken out of environ at start-up, so
 * the program never sees it) and in the kept marker its execs pass on is
 * spelt NL_PGROUP_GONE_ENV from here on.  Stores only what changes. */
static void respell(void)
{
	if (marker_in_env && marker_in_env[0] == NL_PGROUP_FROM_ENV[0])
		marker_in_env[0] = NL_PGROUP_GONE_ENV[0];
	if (inherited[0] == NL_PGROUP_FROM_ENV[0])
		inherited[0] = NL_PGROUP_GONE_ENV[0];
}

void nl_pgroup_started_session(void)
{
	if (nl_in_foreign_child())
		return;   /* a vfork child: the memory is its parent's */
	pid_t self = nl_sys_getpid();
	if (nl_sys_getsid(0) == self && own_session != self)
		own_session = self;
	cancel_move();
	respell();
}

void nl_pgroup_note_manages(void)
{
	nl_exec_generation_bump();
	if (nl_in_foreign_child())
		return;
	atomic_store(&manages_groups, 1);
	if (shared && shared_owner == nl_proc_pid())
		atomic_store(&shared->manages, 1);
}

void nl_pgroup_moved_self(void)
{
	if (nl_in_foreign_child())
		return;   /* a vfork child: the memory is its parent's */
	atomic_store(&moved_self, 1);
	cancel_move();
	respell();
}

int nl_pgroup_manages(void)
{
	return atomic_load(&manages_groups);
}

pid_t nl_pgroup_spawner(void)
{
	return nl_sys_getpid() == nl_proc_pid() && spawner ? spawner
							 : nl_proc_pid();
}
