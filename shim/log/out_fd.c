/* The outputs' own fds: placed where the program does not look, dropped
 * (never closed) once the program takes the number over, and never written
 * once it has (output.h: the hold and the yield).
 *
 * Programs assume the fds they did not open are free: a daemon closes
 * 0..1023 at start, a shell dup2()s onto 3..9, a server expects its first
 * socket() to return 3, a program under a low fd limit counts on every
 * number below it.  So an output keeps an fd only at 100 or above; the
 * program's dup2()s onto it and range closes that the shim sees retire it
 * first (nl_out_fd_yield), its close(), dup() and fcntl() of the number
 * while the file is the output's answer EBADF (nl_out_fd_owned), and
 * before each use its identity is checked again, for the calls the shim
 * does not see.  Where no number at 100 or above is free (a fd
 * limit at or below 100), each line goes through a transient fd, opened,
 * written and closed, and the program finds every number it could open
 * free again after the line. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sys/uio.h>

#include "common/forkdata.h"
#include "common/sys.h"
#include "log/arena.h"
#include "log/output.h"

/* Slots tried below RLIMIT_NOFILE when 100 and above are not available. */
#define NL_OUT_FD_TOP_TRIES 16

struct nl_out_fd nl_out_fds[NL_OUT_SLOTS] = {
	[0 ... NL_OUT_SLOTS - 1] = { .fd = -1, .closing = -1 },
};
/* The lowest number an output ever had: closes below it need no look, and
 * a fork child has nothing to reset while it is INT_MAX (common/forkdata.h:
 * read by every close, and by every fork child). */
atomic_int nl_out_fd_low NL_FORK_DATA = INT_MAX;
/* Where the pid of the process whose closers retire and whose writers
 * count is kept (nl_proc.pid: a fork child the shim saw updates it).  Set
 * at every start-up: with the after-fork data, on a page the loader has
 * written, not on a .bss page that every process would fault in. */
static const _Atomic int *owner NL_FORK_DATA;
/* Per thread and slot: the holds of this thread (and of the handlers that
 * interrupted it), which a closer on this thread must not wait for. */
static __thread unsigned char mine[NL_OUT_SLOTS]
	__attribute__((tls_model("initial-exec")));
/* The placing gate (output.h, nl_out_fd_enter): the program's closing or
 * replacing calls at or above the floor under way, also counted per
 * thread, for a placement made by a handler that interrupted one of its
 * own thread's. */
static atomic_uint acting;
static __thread unsigned char own_acting
	__attribute__((tls_model("initial-exec")));
/* This thread's placements settling (a handler that interrupts one and
 * writes does not wait for it). */
static __thread unsigned char own_settling
	__attribute__((tls_model("initial-exec")));
/* Placements that found such a call under way, and those of them that
 * went ahead at the bound (output.h). */
atomic_uint nl_out_gate_waited, nl_out_gate_bounded;

static size_t slot_of(const struct nl_out_fd *o)
{
	return (size_t)(o - nl_out_fds);
}

void nl_out_fd_owner(const _Atomic int *pid)
{
	owner = pid;
}

int nl_out_fd_foreign(void)
{
	return owner && nl_sys_getpid() != atomic_load_explicit(owner,
							memory_order_relaxed);
}

static int counting(void)
{
	return owner && !nl_out_fd_foreign();
}

/* The number is o's from now on; closers look at it from here. */
static void publish(struct nl_out_fd *o, int fd)
{
	int low = atomic_load(&nl_out_fd_low);

	while (fd < low &&
	       !atomic_compare_exchange_weak(&nl_out_fd_low, &low, fd))
		;
	atomic_store(&o->fd, fd);
}

/* From a hold to its release no signal handler runs on this thread: one
 * that left with siglongjmp() (an alarm's timeout around a connect that
 * logs), or a thread cancelled there, would leave the hold behind for
 * good, and a closer of the number waits for every other thread's holds
 * without a bound (wait_unused: it must not close the number under a
 * write).  So every blockable signal is blocked from before the count to
 * after it is given back, the program's mask kept in hush_old; holds nest
 * (a close's, a replace's), the outermost blocks and restores.  The
 * file's write takes hush_old as the program's mask (nl_out_write). */
static __thread nl_ksigset hush_old __attribute__((tls_model("initial-exec")));
static __thread unsigned char hush_depth
	__attribute__((tls_model("initial-exec")));

__attribute__((noinline)) static void hush(void)
{
	static const nl_ksigset all = ~(nl_ksigset)0;

	if (hush_depth == 0)
		nl_sys_sigprocmask(SIG_BLOCK, &all, &hush_old);
	hush_depth++;
}

__attribute__((noinline)) static void unhush(void)
{
	if (--hush_depth == 0)
		nl_sys_sigprocmask(SIG_SETMASK, &hush_old, NULL);
}

/* The thread's own count goes up first and down last: a handler that
 * interrupts in between and closes the number does not wait for it. */
static void own_count(size_t i, int delta)
{
	__atomic_store_n(&mine[i], (unsigned char)(mine[i] + delta),
			 __ATOMIC_RELAXED);
	atomic_signal_fence(memory_order_seq_cst);
}

__attribute__((noinline)) static void wait_settled(struct nl_out_fd *o);

/* Inline: the hold runs at the end of the deepest async-signal-safe
 * paths (a timed-out recvmsg's event), within 1 KiB (make stack). */
static inline int same_identity(const struct nl_out_fd *o, int fd)
	__attribute__((always_inline));

/* The number is still o's, and then (the last look, under the hold) still
 * holds o's file: a fresh fd is published after it was placed, and a
 * program that put its own file onto the placed number in between had
 * it written into before this look was made here. */
int nl_out_fd_hold(struct nl_out_fd *o, int fd)
{
	if (fd < 0)
		return -1;
	if (!counting())
		return atomic_load(&o->fd) == fd && same_identity(o, fd) > 0
			       ? 0 : -1;
	wait_settled(o);
	hush();
	own_count(slot_of(o), 1);
	atomic_fetch_add(&o->users, 1);
	if (atomic_load(&o->fd) == fd &&
	    (!atomic_load(&o->settling) || own_settling) &&
	    same_identity(o, fd) > 0)
		return 1;
	nl_out_fd_release(o, 1);
	return -1;
}

void nl_out_fd_release(struct nl_out_fd *o, int held)
{
	if (held <= 0)
		return;
	atomic_fetch_sub(&o->users, 1);
	atomic_signal_fence(memory_order_seq_cst);
	own_count(slot_of(o), -1);
	unhush();
}

/* The n-th pause of a wait for other threads: a few yields, then
 * millisecond naps (a write to a slow disk may take that long). */
#define NL_OUT_YIELDS 64
static void pause_n(unsigned n)
{
	if (n < NL_OUT_YIELDS)
		NL_SYS(SYS_sched_yield, 0, 0, 0);
	else
		nl_sys_poll(NULL, 0, 1);
}

/* How long a placement waits for the program's calls under way (and
 * writers for a placement): NL_OUT_GATE_YIELDS yields, then
 * NL_OUT_GATE_MS millisecond naps.  A call's part between its look at the
 * slots and its real call is a few instructions (a close takes the number
 * at once, even one that then lingers); past the wait the placement goes
 * ahead with the identity check before each write as the backstop, which
 * only a call still between its look and its real call can pass.  A call
 * blocked in a close that lingers (SO_LINGER) keeps its count for as
 * long, and a count left behind (by a call a handler left with
 * siglongjmp(), a thread cancelled inside close(), a vfork child killed
 * there) for good: each placement meanwhile waits this out. */
#define NL_OUT_GATE_YIELDS 8
#define NL_OUT_GATE_MS 5
#define NL_OUT_GATE_STEPS (NL_OUT_GATE_YIELDS + NL_OUT_GATE_MS)

/* The n-th pause of a wait at the gate. */
static inline __attribute__((always_inline)) void gate_pause(unsigned n)
{
	if (n < NL_OUT_GATE_YIELDS)
		NL_SYS(SYS_sched_yield, 0, 0, 0);
	else
		nl_sys_poll(NULL, 0, 1);
}

/* A thread's own count (own_acting, own_settling) goes up first and down
 * last: a handler that interrupts in between does not wait for it. */
static void own_gate_count(unsigned char *c, int delta)
{
	__atomic_store_n(c, (unsigned char)(*c + delta), __ATOMIC_RELAXED);
	atomic_signal_fence(memory_order_seq_cst);
}

/* Until o's fresh fd is settled (place_publish), unless this thread is
 * settling one: bounded as the settling is. */
static void wait_settled(struct nl_out_fd *o)
{
	for (unsigned n = 0; atomic_load(&o->settling) && !own_settling &&
			     n < NL_OUT_GATE_STEPS + 2; n++)
		gate_pause(n);
}

int nl_out_fd_enter_slow(void)
{
	own_gate_count(&own_acting, 1);
	atomic_fetch_add(&acting, 1);
	/* The call's looks at the slots (some of them relaxed loads) come
	 * after its count, as a placement's look at the count comes after
	 * its publication. */
	atomic_thread_fence(memory_order_seq_cst);
	return 1;
}

void nl_out_fd_leave_slow(void)
{
	atomic_fetch_sub(&acting, 1);
	own_gate_count(&own_acting, -1);
}

/* After a fresh fd is published: until the program's calls that were
 * under way on other threads are over.  One that looked at the slots
 * before the publication may act on the fresh fd (close it, put its own
 * file onto it) until its real call returns; after, the identity check
 * before each write sees what it did.  One that looks after sees the
 * number published.  (The publication and the count are sequentially
 * consistent: the call's count is seen here, or the call sees the
 * number.) */
static inline __attribute__((always_inline)) void placement_settle(void)
{
	unsigned n = 0;

	for (; atomic_load(&acting) > own_acting; n++) {
		if (n == NL_OUT_GATE_STEPS) {
			atomic_fetch_add(&nl_out_gate_bounded, 1);
			break;
		}
		gate_pause(n);
	}
	if (n)
		atomic_fetch_add(&nl_out_gate_waited, 1);
}

/* A fresh fd at `fd`, o's identity stored: published (the program's
 * calls see it from here: a close() answers EBADF, a dup2() or a range
 * close retires it, waiting for its writers), and written through only
 * once the calls that looked at the slots before are over
 * (placement_settle; meanwhile o->settling holds the writers back in
 * nl_out_fd_hold): a writer never uses the number while a call that did
 * not see it may still act on it. */
static inline __attribute__((always_inline))
void place_publish(struct nl_out_fd *o, int fd)
{
	own_gate_count(&own_settling, 1);
	atomic_store(&o->settling, 1);
	publish(o, fd);
	placement_settle();
	atomic_store(&o->settling, 0);
	own_gate_count(&own_settling, -1);
}

/* Until no other thread holds o. */
static void wait_unused(struct nl_out_fd *o)
{
	for (unsigned n = 0;
	     atomic_load(&o->users) >
	     __atomic_load_n(&mine[slot_of(o)], __ATOMIC_RELAXED); n++)
		pause_n(n);
}

static int in_range(int fd, unsigned lo, unsigned hi)
{
	return fd >= 0 && (unsigned)fd >= lo && (unsigned)fd <= hi;
}

void nl_out_fd_yield_slow(unsigned lo, unsigned hi)
{
	int counts = -1;

	for (size_t i = 0; i < NL_OUT_SLOTS; i++) {
		struct nl_out_fd *o = &nl_out_fds[i];
		int fd = atomic_load(&o->fd), c = atomic_load(&o->closing);
		int retired = 0;

		if (!in_range(fd, lo, hi) && !in_range(c, lo, hi))
			continue;
		/* getpid() only now: a match is rare. */
		if (counts < 0)
			counts = counting();
		if (!counts)
			return;
		while (in_range(fd, lo, hi) &&
		       !(retired = atomic_compare_exchange_strong(&o->fd, &fd, -1)))
			;
		/* The shim closing it itself: the program's call goes after. */
		c = atomic_load(&o->closing);
		if (in_range(c, lo, hi) &&
		    atomic_compare_exchange_strong(&o->closing, &c, -1))
			retired = 1;
		if (retired)
			wait_unused(o);
	}
}

/* Close fd, o's, unless the program takes the number over first: then it is
 * the program's to close.  Writers that saw the number finish first. */
static void close_own(struct nl_out_fd *o, int fd)
{
	int expected = fd;

	if (!counting()) {
		/* A foreign process: its fds are its own. */
		atomic_compare_exchange_strong(&o->fd, &expected, -1);
		nl_sys_close(fd);
		return;
	}
	atomic_store(&o->closing, fd);
	if (!atomic_compare_exchange_strong(&o->fd, &expected, -1)) {
		atomic_compare_exchange_strong(&o->closing, &fd, -1);
		return;
	}
	wait_unused(o);
	/* A closer that cleared `closing` before this count is not waited
	 * for, and the number is its; one that clears it later waits for
	 * this close. */
	hush();
	own_count(slot_of(o), 1);
	atomic_fetch_add(&o->users, 1);
	if (atomic_load(&o->closing) == fd)
		nl_sys_close(fd);
	atomic_compare_exchange_strong(&o->closing, &expected, -1);
	nl_out_fd_release(o, 1);
}

/* fstat into arena memory (struct stat is 144 bytes, and this runs on
 * whatever stack emitted the event): 1 same file, 0 another, -1 unknown. */
static inline int same_identity(const struct nl_out_fd *o, int fd)
{
	size_t mark = nl_arena_enter();
	struct stat *st = nl_arena_get(sizeof *st);
	int r = -1;

	if (st && nl_sys_fstat(fd, st) == 0)
		r = (unsigned long long)st->st_dev == atomic_load(&o->dev) &&
		    (unsigned long long)st->st_ino == atomic_load(&o->ino);
	else if (st)
		r = 0;
	nl_arena_leave(mark);
	return r;
}

int nl_out_fd_get(struct nl_out_fd *o)
{
	int fd = atomic_load_explicit(&o->fd, memory_order_acquire);
	int same;

	if (fd < 0)
		return -1;
	same = same_identity(o, fd);
	if (same)
		return same > 0 ? fd : -1;   /* unknown: not used this time */
	/* A process sharing our memory: the number is its own, the parent's
	 * fd stays the output's. */
	if (nl_out_fd_foreign())
		return -1;
	/* Someone else's file now: forget it, unless another thread already
	 * replaced it with a fresh one, or is replacing the file under the
	 * number right now (nl_out_fd_replace, with the flag held). */
	if (atomic_exchange(&o->busy, 1))
		return -1;
	atomic_compare_exchange_strong(&o->fd, &fd, -1);
	atomic_store(&o->busy, 0);
	return -1;
}

int nl_out_fd_is_ours(int fd)
{
	if (fd < atomic_load_explicit(&nl_out_fd_low, memory_order_relaxed))
		return 0;
	for (int i = 0; i < NL_OUT_SLOTS; i++)
		if (atomic_load(&nl_out_fds[i].fd) == fd &&
		    same_identity(&nl_out_fds[i], fd) > 0)
			return 1;
	return 0;
}

/* A slot's number (or the one the shim is closing) with the slot's file
 * under it.  A number the shim closes meanwhile, and the program opens
 * again, holds another file: the program's. */
int nl_out_fd_owned_slow(int fd)
{
	if (fd < 0)
		return 0;
	for (int i = 0; i < NL_OUT_SLOTS; i++) {
		struct nl_out_fd *o = &nl_out_fds[i];
		if ((atomic_load(&o->fd) == fd ||
		     atomic_load(&o->closing) == fd) &&
		    same_identity(o, fd) > 0)
			return 1;
	}
	return 0;
}

/* The highest free slot below the fd limit, for a transient fd in a
 * process whose limit is at or below 100.  F_DUPFD_CLOEXEC only searches
 * upwards, so try a few starting points going down. */
__attribute__((noinline)) static int dup_near_limit(int fd)
{
	struct rlimit rl;
	long top;

	if (nl_sys_prlimit(RLIMIT_NOFILE, NULL, &rl) < 0)
		return -1;
	top = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576
		      ? 1048576 : (long)rl.rlim_cur;
	for (long slot = top - 1;
	     slot > 2 && slot >= top - NL_OUT_FD_TOP_TRIES; slot--) {
		int nfd = nl_sys_fcntl(fd, F_DUPFD_CLOEXEC, slot);
		if (nfd >= 0)
			return nfd;
	}
	return -1;
}

/* fd moved to 100 or above (the original closed), or -1: no number there
 * (the fd limit is at or below 100, or every number above is taken), fd
 * left as it was. */
static int place_high(int fd)
{
	int nfd;

	if (fd >= NL_OUT_FD_FLOOR)
		return fd;
	nfd = nl_sys_fcntl(fd, F_DUPFD_CLOEXEC, NL_OUT_FD_FLOOR);
	if (nfd >= 0)
		nl_sys_close(fd);
	return nfd < 0 ? -1 : nfd;
}

/* Move a freshly opened fd for one line to 100 or above (or else the
 * highest free slot below the fd limit; never 0-2), closing the original.
 * Returns the new number, or -1 (the fd closed) when it cannot be placed
 * above 2.  Inline in nl_out_fd_transient: its frame, not one more, on
 * the deepest async-signal-safe paths (make stack). */
static inline __attribute__((always_inline)) int place_fd(int fd)
{
	int nfd = place_high(fd);

	if (nfd >= 0)
		return nfd;
	nfd = dup_near_limit(fd);
	if (nfd < 0 && fd > 2)
		return fd;       /* no better place, but at least not stdio */
	if (nfd < 0)
		nfd = nl_sys_fcntl(fd, F_DUPFD_CLOEXEC, 3);
	nl_sys_close(fd);
	return nfd < 0 ? -1 : nfd;
}

int nl_out_fd_adopt(struct nl_out_fd *o, int fd)
{
	size_t mark = nl_arena_enter();
	struct stat *st = nl_arena_get(sizeof *st);
	int nfd;

	/* The identity of the file opened, taken before it is placed: a
	 * program that puts a file of its own onto the placed number before
	 * it is published then fails the check before every write. */
	if (!st || nl_sys_fstat(fd, st) < 0) {
		nl_sys_close(fd);
		fd = -1;
	} else if ((nfd = place_high(fd)) < 0) {
		fd = NL_OUT_FD_LOW;      /* left open, for one line */
	} else {
		/* Identity first, number last: a reader that sees the number
		 * sees the identity that goes with it. */
		fd = nfd;
		atomic_store(&o->dev, (unsigned long long)st->st_dev);
		atomic_store(&o->ino, (unsigned long long)st->st_ino);
		place_publish(o, fd);
	}
	nl_arena_leave(mark);
	return fd;
}

int nl_out_fd_replace(struct nl_out_fd *o, int nfd)
{
	int fd = atomic_load(&o->fd);
	/* Held through the dup3: a close or dup2 of the program's onto the
	 * number waits for it, and one that came first leaves nothing to
	 * replace (the number is the program's). */
	int held = nl_out_fd_hold(o, fd);
	size_t mark;
	struct stat *st;

	if (held < 0)
		return NL_OUT_FD_TAKEN;
	mark = nl_arena_enter();
	st = nl_arena_get(sizeof *st);
	if (!st || nl_sys_fstat(nfd, st) < 0) {
		nl_arena_leave(mark);
		nl_out_fd_release(o, held);
		nl_sys_close(nfd);
		return -1;
	}
	/* Identity first: a reader between the two steps sees a mismatch,
	 * finds the flag held and skips one line. */
	atomic_store(&o->dev, (unsigned long long)st->st_dev);
	atomic_store(&o->ino, (unsigned long long)st->st_ino);
	nl_arena_leave(mark);
	if (nl_sys_dup3(nfd, fd, O_CLOEXEC) < 0) {
		atomic_compare_exchange_strong(&o->fd, &fd, -1);
		fd = -1;                     /* neither file is known now */
	}
	nl_out_fd_release(o, held);
	nl_sys_close(nfd);
	return fd;
}

void nl_out_fd_close(struct nl_out_fd *o)
{
	int fd = nl_out_fd_get(o);

	if (fd >= 0)
		close_own(o, fd);
}

/* A child sharing our memory writes a line through an fd of its own that
 * no table holds: in a published slot, a fork by one of its parent's
 * threads would take it for a transient fd of a thread that is gone, and
 * close that number in its child.  The parent's thread is stopped in
 * vfork() while the child runs, so that thread's TLS is the child's to
 * use. */
static __thread struct nl_out_fd foreign_transient
	__attribute__((tls_model("initial-exec")));

/* A free transient slot, taken (its busy flag set), or NULL.  Each slot
 * is held for one line (a place, a write, a close), so when more threads
 * than slots write their lines at once (the first lines of a program whose
 * threads all start logging while one of them opens the log), the others
 * wait for one to come free rather than lose their lines: as a closer
 * waits for writers, a few yields and then millisecond naps.  At most
 * NL_OUT_SLOT_WAIT_MS naps: a signal handler that interrupted a holder on
 * its own thread, or writes to a disk that hangs, cost the line (counted,
 * and reported in the "suppressed" event) rather than the program's time. */
#define NL_OUT_SLOT_WAIT_MS 250
static struct nl_out_fd *take_slot(void)
{
	for (unsigned n = 0;; n++) {
		for (size_t i = NL_OUT_TRANSIENT; i < NL_OUT_SLOTS; i++) {
			struct nl_out_fd *t = &nl_out_fds[i];

			if (!atomic_load(&t->busy) &&
			    !atomic_exchange(&t->busy, 1))
				return t;
		}
		if (n >= NL_OUT_YIELDS + NL_OUT_SLOT_WAIT_MS)
			return NULL;
		pause_n(n);
	}
}

/* The foreign process's slot (see foreign_transient), taken, or NULL. */
__attribute__((noinline)) static struct nl_out_fd *foreign_slot(void)
{
	struct nl_out_fd *t = &foreign_transient;

	/* busy holds the pid of the child using it.  Its own: a handler's
	 * line in the middle of the child's own, dropped.  Another's: a
	 * child that died or exec'd in the middle of a line (the thread runs
	 * one child at a time). */
	int me = nl_sys_getpid(), was = atomic_load(&t->busy);
	if (was == me || !atomic_compare_exchange_strong(&t->busy, &was, me))
		return NULL;
	return t;
}

/* The identity of fd into t, as nl_out_fd_adopt() takes it: before
 * placing.  0 when fd cannot be looked at. */
static int take_identity(struct nl_out_fd *t, int fd)
{
	size_t mark = nl_arena_enter();
	struct stat *st = nl_arena_get(sizeof *st);
	int ok = st && nl_sys_fstat(fd, st) == 0;

	if (ok) {
		atomic_store(&t->dev, (unsigned long long)st->st_dev);
		atomic_store(&t->ino, (unsigned long long)st->st_ino);
	}
	nl_arena_leave(mark);
	return ok;
}

struct nl_out_fd *nl_out_fd_transient(int fd, int *placed)
{
	/* The slot first: a wait for one holds no number above the
	 * program's, and the identity goes straight into it. */
	int foreign = nl_out_fd_foreign();
	struct nl_out_fd *t = foreign ? foreign_slot() : take_slot();

	if (!t) {
		*placed = foreign ? -1 : NL_OUT_BUSY;
		goto fail;
	}
	if (!take_identity(t, fd)) {
		*placed = -1;
		goto fail;
	}
	*placed = fd = place_fd(fd);
	if (fd < 0)
		goto fail;
	/* A foreign process's fds are its own: no other thread acts on
	 * them; its slot is in no table (see foreign_transient). */
	if (t == &foreign_transient) {
		atomic_store(&t->fd, fd);
	} else {
		place_publish(t, fd);
	}
	return t;
fail:
	if (fd >= 0)
		nl_sys_close(fd);
	if (t)
		atomic_store(&t->busy, 0);
	return NULL;
}

void nl_out_fd_transient_done(struct nl_out_fd *t)
{
	int fd = atomic_load(&t->fd);

	if (fd >= 0)
		close_own(t, fd);
	atomic_store(&t->busy, 0);
}

/* --- writing --- */

ssize_t nl_out_write(int fd, const struct iovec *iov, int cnt)
{
	/* SIGTTOU: blocked, the kernel lets a write to the terminal from a
	 * background group under TOSTOP through and sends no signal (to the
	 * whole group, which it would stop), so there is none to take back
	 * and one pending before stays pending. */
	static const nl_ksigset taken = NL_KSIGBIT(SIGXFSZ) | NL_KSIGBIT(SIGPIPE);
	static const nl_ksigset quiet = taken | NL_KSIGBIT(SIGTTOU);
	static const struct timespec now = { 0, 0 };
	nl_ksigset old, before = 0, raised;
	ssize_t n;

	/* Not blocked, a signal cannot be pending for this thread: it would
	 * have been delivered.  Blocked, one may be, and is the program's.
	 * Under a hold every signal is blocked already (hush). */
	int hushed = hush_depth > 0;
	if (hushed)
		old = hush_old;
	else if (nl_sys_sigprocmask(SIG_BLOCK, &quiet, &old) < 0)
		return -EAGAIN;
	/* Under a hold every signal was blocked since its start: one sent
	 * meanwhile (another thread's pthread_kill) is pending too. */
	if ((hushed || (old & taken)) && nl_sys_sigpending(&before) < 0)
		before = taken;          /* unknown: take nothing back */
	do
		n = nl_sys_writev(fd, iov, cnt);
	while (n == -EINTR);
	raised = n == -EFBIG ? NL_KSIGBIT(SIGXFSZ)
		 : n == -EPIPE ? NL_KSIGBIT(SIGPIPE) : 0;
	/* The kernel sends it to this thread: taken from the thread's own
	 * pending set first, before one sent to the whole process. */
	if (raised & ~before)
		nl_sys_sigtimedwait(&raised, &now);
	if (!hushed)
		nl_sys_sigprocmask(SIG_SETMASK, &old, NULL);
	return n;
}

/* Each store only when the value must change: the child shares these pages
 * with its parent until one of them writes (common/forkdata.h). */
static void reset(atomic_int *v, int to)
{
	if (atomic_load(v) != to)
		atomic_store(v, to);
}

void nl_out_fd_after_fork(void)
{
	/* Only this thread's calls survived the fork. */
	if (atomic_load(&acting) != own_acting)
		atomic_store(&acting, own_acting);
	if (atomic_load(&nl_out_fd_low) == INT_MAX)
		return;                     /* no output fd ever */
	for (size_t i = 0; i < NL_OUT_SLOTS; i++) {
		struct nl_out_fd *o = &nl_out_fds[i];
		int fd = atomic_load(&o->fd);

		/* Only this thread's holds survived the fork. */
		if (atomic_load(&o->users) != mine[i])
			atomic_store(&o->users, mine[i]);
		reset(&o->closing, -1);
		reset(&o->settling, own_settling);
		if (i >= NL_OUT_TRANSIENT && mine[i])
			continue;           /* this thread's, in use */
		/* A transient fd of a thread that is gone: ours to close. */
		if (i >= NL_OUT_TRANSIENT && fd >= 0 &&
		    atomic_compare_exchange_strong(&o->fd, &fd, -1))
			nl_sys_close(fd);
		reset(&o->busy, 0);
	}
}
