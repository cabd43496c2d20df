/* The exec sweep: see sweep.h. */
#include "core/sweep.h"

#include <errno.h>
#include <limits.h>
#include <linux/close_range.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>

#include "log/arena.h"
#include "log/event.h"
#include "core/fdevent.h"
#include "core/fdintent.h"
#include "core/fdlist.h"
#include "core/fdtable.h"
#include "base/state.h"
#include "common/scratch.h"
#include "common/sys.h"

static void add_range(struct nl_plan *pl, int lo, int hi)
{
	if (lo > hi || pl->nomem)
		return;
	/* Adjoining the last range (stdio, then fds 3, 4...): grow it. */
	if (pl->n > 0 && lo >= pl->keep[pl->n - 1].lo &&
	    lo - 1 <= pl->keep[pl->n - 1].hi) {
		if (hi > pl->keep[pl->n - 1].hi)
			pl->keep[pl->n - 1].hi = hi;
		return;
	}
	size_t need = ((size_t)pl->n + 1) * sizeof *pl->keep;
	if (!pl->bytes && need <= sizeof pl->inline_keep) {
		pl->keep = pl->inline_keep;
	} else if (need > pl->bytes) {
		size_t had = pl->bytes;
		void *block = had ? pl->keep : NULL;
		if (nl_scratch_grow(&block, &pl->bytes, need) < 0) {
			pl->nomem = 1;
			return;
		}
		if (!had)
			memcpy(block, pl->inline_keep,
			       (size_t)pl->n * sizeof *pl->keep);
		pl->keep = block;
	}
	pl->keep[pl->n].lo = lo;
	pl->keep[pl->n].hi = hi;
	pl->n++;
}

/* Heapsort by lo: no recursion, no extra memory, O(n log n) for any n. */
static void sift_down(struct nl_fd_range *a, int root, int n)
{
	for (;;) {
		int child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && a[child + 1].lo > a[child].lo)
			child++;
		if (a[root].lo >= a[child].lo)
			return;
		struct nl_fd_range t = a[root];
		a[root] = a[child];
		a[child] = t;
		root = child;
	}
}

static void sort_and_merge(struct nl_plan *pl)
{
	struct nl_fd_range *a = pl->keep;
	for (int i = pl->n / 2 - 1; i >= 0; i--)
		sift_down(a, i, pl->n);
	for (int end = pl->n - 1; end > 0; end--) {
		struct nl_fd_range t = a[0];
		a[0] = a[end];
		a[end] = t;
		sift_down(a, 0, end);
	}
	int out = 0;
	for (int i = 0; i < pl->n; i++) {
		if (out && (long)a[i].lo <= (long)a[out - 1].hi + 1) {
			if (a[i].hi > a[out - 1].hi)
				a[out - 1].hi = a[i].hi;
		} else {
			a[out++] = a[i];
		}
	}
	pl->n = out;
}

int nl_plan_keeps(const struct nl_plan *pl, int fd)
{
	if (pl->keep_all)
		return 1;
	int lo = 0, hi = pl->n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (fd < pl->keep[mid].lo)
			hi = mid - 1;
		else if (fd > pl->keep[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

/* Keep fd when a keep bit still holds for it (identity checked). */
static void keep_if_marked(struct nl_plan *pl, int fd)
{
	uint32_t bits = nl_fd_keep_bits(fd);
	/* A socket-activated daemon's listeners were inherited for its own
	 * pid only: a child it spawns must not get them by the start-up rule. */
	if (bits == NL_FD_INHERITED && nl_fd_listener_elsewhere(fd))
		return;
	if (bits)
		add_range(pl, fd, fd);
}

/* The places marks live: the table, the start-up list, a vfork child's
 * stash, and the snapshot a child sharing its parent's memory was made
 * with. */
static void keep_marked_fds(struct nl_plan *pl)
{
	int high = nl_fd_high_water();
	for (int fd = 3; fd < high; fd++) {
		const struct nl_fd_slot *s = nl_fd_slot(fd);
		if (s && (atomic_load_explicit(&s->bits, memory_order_relaxed) &
			  NL_FD_KEEP_BITS))
			keep_if_marked(pl, fd);
	}
	for (int i = 0; i < nl_fd_inherited_count(); i++)
		keep_if_marked(pl, nl_fd_inherited_fd(i));
	for (int i = 0; i < nl_fd_stash_count(); i++)
		keep_if_marked(pl, nl_fd_stash_fd(i));
	for (int i = 0, n = nl_fd_snapshot_count(); i < n; i++) {
		int fd = nl_fd_snapshot_fd(i);
		if (fd >= 0)
			keep_if_marked(pl, fd);
	}
	if (nl_fd_stash_lost() || nl_fd_snapshot_lost())
		pl->nomem = 1;
}

/* As this process sees it: a vfork child that made the fd close-on-exec
 * itself took the flag for its own. */
static int shim_made_cloexec(int fd)
{
	return (nl_fd_bits_here(fd) & NL_FD_SHIM_CLOEXEC) != 0;
}

/* The same, and fd still holds the file the shim flagged: in a spawned
 * child the table is the parent's, which another thread may be changing
 * (closing the fd and opening a file with O_CLOEXEC onto its number); a
 * vfork child's own fds are its own record's. */
static int shim_made_cloexec_here(int fd)
{
	return nl_fd_shim_cloexec_holds(fd);
}

/* No memory for the plan: every fd is kept, and the log says why. */
static void fail_open(struct nl_plan *pl)
{
	nl_plan_release(pl);
	pl->keep_all = 1;
	if (!nl_event_enabled())
		return;
	struct nl_event ev;
	nl_event_begin(&ev, "nomem");
	nl_event_str(&ev, "feature", "exec_sweep");
	nl_event_str(&ev, "fallback", "kept_every_fd");
	nl_event_str(&ev, "via", pl->via);
	nl_event_str(&ev, "target", pl->target);
	nl_event_emit(&ev);
}

/* A run of named numbers (LISTEN_FDS=N: 3 .. 3+N-1) may be a million long
 * with a handful open.  Up to NAMED_RUN_ASK numbers are asked about one by
 * one (no /proc for a daemon's few listeners); a longer run is matched
 * against the open fds, listed once, so that the cost follows what is
 * open and not N.  Only when the open fds cannot be listed is each number
 * asked. */
#define NAMED_RUN_ASK 64

struct named_run {
	struct nl_plan *pl;
	int lo, hi;
};

static void keep_if_in_run(int fd, void *ctx)
{
	struct named_run *run = ctx;
	if (fd >= run->lo && fd <= run->hi && nl_fd_meant_inheritable(fd))
		add_range(run->pl, fd, fd);
}

static void keep_named_run(struct nl_plan *pl, int lo, int n)
{
	struct named_run run = { pl, lo, lo + n - 1 };
	if (n > NAMED_RUN_ASK && nl_for_each_open_fd(keep_if_in_run, &run) == 0)
		return;
	for (int fd = run.lo; fd <= run.hi; fd++)
		keep_if_in_run(fd, &run);
}

/* uWSGI's master re-execs itself on a reload (UWSGI_RELOADS=N in the new
 * environment) and the new master finds its listening sockets by looking
 * at its fds, naming none: the caller's inheritable listeners cross.  Asked
 * only for such an exec, one getsockopt per open fd.  Not tied to the
 * process's own executable: the exec is execvp("uwsgi") by its bare name
 * (or --binary-path, or python for pyuwsgi), which only a PATH walk could
 * match. */
static int is_listener(int fd)
{
	int on = 0;
	socklen_t len = sizeof on;
	return nl_sys6(SYS_getsockopt, fd, SOL_SOCKET, SO_ACCEPTCONN, (long)&on,
		       (long)&len, 0) == 0 && on;
}

static void keep_if_listener(int fd, void *ctx)
{
	if (fd > 2 && is_listener(fd) && nl_fd_meant_inheritable(fd))
		add_range(ctx, fd, fd);
}

/* Without a listing of the open fds: those the table knows of, and the
 * ones handed over at start-up (a reloaded master's listeners).  Not in
 * plan_named's frame: the exec paths have 1 KiB of stack. */
__attribute__((noinline)) static void keep_listeners(struct nl_plan *pl)
{
	if (nl_for_each_open_fd(keep_if_listener, pl) == 0)
		return;
	for (int fd = 3, high = nl_fd_high_water(); fd < high; fd++)
		keep_if_listener(fd, pl);
	for (int i = 0; i < nl_fd_inherited_count(); i++)
		keep_if_listener(nl_fd_inherited_fd(i), pl);
}

/* The fields every plan has; returns whether there is more to plan. */
static int plan_begin(struct nl_plan *pl, const char *via, const char *path,
		      char *const argv[])
{
	const struct nl_policy *p = nl_policy();
	pl->n = pl->keep_all = pl->nomem = pl->swept = pl->listeners = 0;
	pl->keep = NULL;
	pl->bytes = 0;
	pl->self = 0;
	pl->gen = 0;
	pl->args = 0;
	pl->via = via;
	pl->target = path ? path : "";
	pl->argv0 = argv && argv[0] ? argv[0] : "";
	pl->enforce = p->mode == NL_MODE_ENFORCE;
	pl->active = nl_fd_policy_active() && (pl->enforce || nl_event_enabled());
	return pl->active;
}

/* The fds the plan keeps by policy and by name; 1 when it keeps them all
 * (a trampoline).  A frame of its own: the list of named fds is off the
 * stack by the time the plan may log (fail_open). */
__attribute__((noinline)) static int plan_named(struct nl_plan *pl,
						pid_t self, const char *path,
						char *const argv[],
						char *const envp[])
{
	const struct nl_policy *p = nl_policy();
	struct nl_fdlist named;
	int trampoline = nl_named_fds(argv, envp, self, &named);
	if (path && nl_names_contain(p->fd_trampolines, path))
		trampoline = 1;
	/* A trampoline gets exactly what it would have got without the shim:
	 * nothing is swept, and the shim's own flags come off.  Without the
	 * table (it could not be mapped) the deliberate fds are unknown: keep
	 * everything rather than break the program. */
	if (trampoline || nl_fd_table_failed()) {
		nl_fdlist_release(&named);
		pl->keep_all = 1;
		return 1;
	}
	add_range(pl, 0, 2);
	const struct nl_fd_range *keep = nl_policy_keep_fds(p);
	for (int i = 0; i < p->n_keep_fds; i++)
		add_range(pl, keep[i].lo, keep[i].hi);
	for (int i = 0; i < named.n; i++)
		if (nl_fd_meant_inheritable(named.fd[i]))
			add_range(pl, named.fd[i], named.fd[i]);
	if (named.run_n)
		keep_named_run(pl, named.run_lo, named.run_n);
	pl->listeners = named.listeners != 0;
	if (named.overflow)
		pl->nomem = 1;
	nl_fdlist_release(&named);
	return 0;
}

/* Inlined into both callers: a frame of its own between the exec
 * interposer and plan_named would take the exec paths over 1 KiB. */
static inline __attribute__((always_inline)) void
plan_compute(struct nl_plan *pl, pid_t self, const char *path,
			 char *const argv[], char *const envp[],
			 const int *extra_keep, int n_extra)
{
	if (plan_named(pl, self, path, argv, envp))
		return;
	if (pl->listeners)
		keep_listeners(pl);
	for (int i = 0; i < n_extra; i++)
		add_range(pl, extra_keep[i], extra_keep[i]);
	keep_marked_fds(pl);
	if (pl->nomem)
		fail_open(pl);
	else
		sort_and_merge(pl);
}

void nl_plan_exec(struct nl_plan *pl, const char *via, const char *path,
		  char *const argv[], char *const envp[],
		  const int *extra_keep, int n_extra)
{
	if (plan_begin(pl, via, path, argv))
		plan_compute(pl, nl_sys_getpid(), path, argv, envp,
			     extra_keep, n_extra);
}

/* --- the next attempt of a PATH walk (sweep.h) --- */

/* The last plan an exec attempt of this thread applied, fds outside it all
 * marked: written pid last, so that a signal handler's exec never takes a
 * half-written one. */
#define LAST_PLAN_RANGES 8
static __thread struct {
	pid_t pid;              /* 0: none */
	unsigned gen;
	uintptr_t args;
	/* What the strings said when that attempt failed (args_content),
	 * once `said` is set: a program may write other text into the same
	 * strings before it tries again. */
	uintptr_t content;
	int said;
	int n;
	struct nl_fd_range keep[LAST_PLAN_RANGES];
} last_plan __attribute__((tls_model("initial-exec")));

static uintptr_t mix(uintptr_t h, uintptr_t v)
{
	h ^= v;
	h *= sizeof h > 4 ? (uintptr_t)0x100000001b3ULL : (uintptr_t)16777619u;
	return h ^ (h >> 29);
}

/* The arrays and every pointer in them: a PATH walk passes the same. */
static uintptr_t args_identity(char *const argv[], char *const envp[],
			       const int *extra_keep, int n_extra)
{
	uintptr_t h = mix(mix(1, (uintptr_t)argv), (uintptr_t)envp);
	for (size_t i = 0; argv && argv[i]; i++)
		h = mix(h, (uintptr_t)argv[i]);
	for (size_t i = 0; envp && envp[i]; i++)
		h = mix(h, (uintptr_t)envp[i]);
	h = mix(h, (uintptr_t)n_extra);
	for (int i = 0; i < n_extra; i++)
		h = mix(h, (uintptr_t)extra_keep[i]);
	return h;
}

/* The text of every string: asked only of an exec that failed, and of the
 * next attempt with the same pointers (a PATH walk), so that an exec that
 * succeeds at once pays nothing for it. */
static uintptr_t args_content(char *const argv[], char *const envp[])
{
	uintptr_t h = 1;
	for (int k = 0; k < 2; k++) {
		char *const *v = k ? envp : argv;
		for (size_t i = 0; v && v[i]; i++) {
			const unsigned char *c = (const unsigned char *)v[i];
			for (; *c; c++)
				h = (h ^ *c) * (uintptr_t)0x100000001b3ULL;
			h = mix(h, 0);
		}
		h = mix(h, 1);
	}
	return h;
}

void nl_plan_exec_failed(const struct nl_plan *pl, char *const argv[],
			 char *const envp[])
{
	if (!pl->self || last_plan.pid != pl->self ||
	    last_plan.args != pl->args || last_plan.said)
		return;
	last_plan.content = args_content(argv, envp);
	atomic_signal_fence(memory_order_seq_cst);
	last_plan.said = 1;
}

void nl_plan_forget_last(void)
{
	if (last_plan.pid)
		last_plan.pid = 0;
}

static void remember_plan(const struct nl_plan *pl)
{
	last_plan.pid = 0;
	if (pl->n > LAST_PLAN_RANGES)
		return;
	atomic_signal_fence(memory_order_seq_cst);
	last_plan.gen = pl->gen;
	last_plan.args = pl->args;
	last_plan.said = 0;
	last_plan.n = pl->n;
	for (int i = 0; i < pl->n; i++)   /* no libc page in a fork child */
		last_plan.keep[i] = pl->keep[i];
	atomic_signal_fence(memory_order_seq_cst);
	last_plan.pid = pl->self;
}

void nl_plan_exec_attempt(struct nl_plan *pl, pid_t self, const char *via,
			  const char *path, char *const argv[],
			  char *const envp[], const int *extra_keep,
			  int n_extra)
{
	if (!plan_begin(pl, via, path, argv))
		return;
	pl->self = self;
	pl->gen = nl_exec_generation();   /* before anything is read */
	pl->args = args_identity(argv, envp, extra_keep, n_extra);
	const struct nl_policy *p = nl_policy();
	if (last_plan.pid == self && last_plan.gen == pl->gen &&
	    last_plan.args == pl->args && pl->enforce &&
	    !(path && nl_names_contain(p->fd_trampolines, path)) &&
	    !nl_fd_table_failed() && last_plan.said &&
	    last_plan.content == args_content(argv, envp)) {
		for (int i = 0; i < last_plan.n; i++)
			add_range(pl, last_plan.keep[i].lo, last_plan.keep[i].hi);
		if (pl->nomem)
			fail_open(pl);
		else
			pl->swept = 1;
		return;
	}
	plan_compute(pl, self, path, argv, envp, extra_keep, n_extra);
}

void nl_plan_release(struct nl_plan *pl)
{
	void *block = pl->bytes ? pl->keep : NULL;
	nl_scratch_free(&block, &pl->bytes);
	pl->keep = NULL;
	pl->n = 0;
}

/* --- logging --- */

/* In arena memory, off the exec path's 1 KiB of stack. */
struct leak_walk {
	const struct nl_plan *pl;
	struct nl_withheld w;
	struct nl_site_map sites;
};

static void maybe_log_leak(int fd, void *ctx)
{
	const struct leak_walk *lw = ctx;
	if (fd > 2 && !nl_plan_keeps(lw->pl, fd))
		nl_event_fd_withheld(fd, &lw->w);
}

void nl_plan_log_leaks(const struct nl_plan *pl)
{
	if (!pl->active || !nl_event_enabled())
		return;
	size_t mark = nl_arena_enter();
	struct leak_walk *lw = nl_arena_get(sizeof *lw);
	if (lw) {
		lw->pl = pl;
		lw->w = (struct nl_withheld){ pl->enforce, pl->via, pl->target,
					      pl->argv0, &lw->sites };
		lw->sites.hi = 0;
		nl_for_each_open_fd(maybe_log_leak, lw);
	}
	nl_arena_leave(mark);
}

/* --- changing flags --- */

static void set_cloexec_one(int fd, void *ctx)
{
	const struct nl_plan *pl = ctx;
	if (fd > 2 && !nl_plan_keeps(pl, fd)) {
		int flags = nl_sys_fcntl(fd, F_GETFD, 0);
		if (flags >= 0 && !(flags & FD_CLOEXEC))
			nl_sys_fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
}

/* Without close_range (old kernel, seccomp): list the open fds instead, and
 * without /proc probe up to the fd limit, capped. */
static void mark_cloexec_slowly(const struct nl_plan *pl)
{
	if (nl_for_each_open_fd(set_cloexec_one, (void *)pl) == 0)
		return;
	struct rlimit rl;
	long limit = 65536;
	if (nl_sys_prlimit(RLIMIT_NOFILE, NULL, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)limit)
		limit = (long)rl.rlim_cur;
	for (int fd = 3; fd < limit; fd++)
		set_cloexec_one(fd, (void *)pl);
}

int nl_plan_mark_cloexec(const struct nl_plan *pl)
{
	if (!pl->active || !pl->enforce || pl->keep_all)
		return 0;
	unsigned next = 0;
	for (int i = 0; i < pl->n; i++) {
		if ((unsigned)pl->keep[i].lo > next &&
		    nl_sys_close_range(next, (unsigned)pl->keep[i].lo - 1,
				       CLOSE_RANGE_CLOEXEC) < 0) {
			mark_cloexec_slowly(pl);
			return 0;
		}
		next = (unsigned)pl->keep[i].hi + 1;
	}
	if (next != 0 && nl_sys_close_range(next, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		mark_cloexec_slowly(pl);
		return 0;
	}
	return next != 0;
}

/* The first shim-made fd in from..to (below the table's high water), or
 * -1. */
static int next_shim_made(int from, int to)
{
	int high = nl_fd_high_water();
	if (to >= high)
		to = high - 1;
	for (int fd = from < 3 ? 3 : from; fd <= to; fd++)
		if (shim_made_cloexec(fd) && shim_made_cloexec_here(fd))
			return fd;
	return -1;
}

/* Kept fds that are close-on-exec only because the shim made them so: the
 * program meant them to reach the child.  Walked in the table, so their
 * number has no bound; only within the keep ranges, so that a process
 * with many fds, all withheld, pays nothing for them here. */
int nl_plan_next_pass(const struct nl_plan *pl, int fd)
{
	if (!pl->active || !pl->enforce)
		return -1;
	if (pl->keep_all)
		return next_shim_made(fd, INT_MAX - 1);
	for (int i = 0; i < pl->n; i++) {
		if (pl->keep[i].hi < fd)
			continue;
		int found = next_shim_made(pl->keep[i].lo > fd ? pl->keep[i].lo
							       : fd,
					   pl->keep[i].hi);
		if (found >= 0)
			return found;
	}
	return -1;
}

struct nl_fd_range nl_plan_pass_kept(const struct nl_plan *pl)
{
	struct nl_fd_range passed = { 1, 0 };
	for (int fd = nl_plan_next_pass(pl, 3); fd >= 0;
	     fd = nl_plan_next_pass(pl, fd + 1)) {
		int flags = nl_sys_fcntl(fd, F_GETFD, 0);
		if (flags >= 0 && (flags & FD_CLOEXEC)) {
			nl_sys_fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
			if (passed.lo > passed.hi)
				passed.lo = fd;
			passed.hi = fd;
		}
	}
	return passed;
}

/* A shim-made fd without the flag was cleared by pass_kept, unless the
 * program cleared it itself (F_SETFD 0, FIONCLEX: a deliberate mark, also
 * in a vfork child's stash). */
void nl_plan_undo_pass(const struct nl_plan *pl)
{
	if (!pl->active || !pl->enforce)
		return;
	int high = nl_fd_high_water();
	for (int fd = pl->passed.lo; fd <= pl->passed.hi && fd < high; fd++) {
		if (!shim_made_cloexec(fd))
			continue;
		int flags = nl_sys_fcntl(fd, F_GETFD, 0);
		if (flags >= 0 && !(flags & FD_CLOEXEC) &&
		    !(nl_fd_keep_bits(fd) & NL_FD_DELIBERATE))
			nl_sys_fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
}

void nl_sweep_before_exec(struct nl_plan *pl)
{
	nl_plan_log_leaks(pl);
	struct nl_fd_range passed = nl_plan_pass_kept(pl);
	/* Swept: the last attempt's marks hold.  Otherwise mark, and an
	 * attempt that may be followed by another (pl->self) says whether the
	 * next one may rely on these marks. */
	if (!pl->swept) {
		int marked = nl_plan_mark_cloexec(pl);
		if (pl->self && marked)
			remember_plan(pl);
		else if (pl->self)
			nl_plan_forget_last();
	}
	nl_plan_release(pl);
	pl->passed = passed;
}
