/* The fd table: what the shim knows about each fd number.
 *
 * One slot per fd, in an array mmap'd on first use (MAP_NORESERVE, so only
 * the pages of fd numbers in use cost memory).  Slots are updated with
 * atomics and never under a lock, so the table can be read in a vfork child
 * and after fork() in a multithreaded process.
 *
 * Keep bits (DELIBERATE, LOCKED, INHERITED) and SHIM_CLOEXEC carry the
 * identity (dev, inode) of the open file they were set for; a bit whose fd
 * now holds another file (closed and reused behind the shim's back, or by
 * another thread while a spawned child reads the table) is ignored.
 *
 * A vfork child shares this memory with its parent, so what it does to its
 * fds (CPython calls ioctl(FIONCLEX) there; children dup2 over their stdio,
 * close, open) never writes the parent's slots: its marks go to a
 * per-thread stash tagged with the child's pid (any number of them), used
 * for that child's exec only, and the parent's view stays as it was. */
#ifndef NL_FDTABLE_H
#define NL_FDTABLE_H

#include <stdint.h>
#include <sys/types.h>

enum {
	NL_FD_SHIM_CLOEXEC = 1u << 0, /* shim added FD_CLOEXEC the program did not ask for */
	NL_FD_DELIBERATE   = 1u << 1, /* made inheritable on purpose: dup2 target, F_SETFD, FIONCLEX */
	NL_FD_LOCKED       = 1u << 2, /* holds a flock/lockf/fcntl lock */
	NL_FD_INHERITED    = 1u << 3, /* open at start-up: handed over by the parent */
};
#define NL_FD_KEEP_BITS (NL_FD_DELIBERATE | NL_FD_LOCKED | NL_FD_INHERITED)
/* A slot's `bits` word holds the bits above in its low byte; the rest
 * counts the fds recorded on the number (a birth count), so that a close
 * that takes the marks off after the real call takes off its own fd's
 * only (nl_fd_close_done). */
#define NL_FD_FLAGS     0xffu
#define NL_FD_BIRTH_ONE (1u << 8)

/* Creating calls, for the leak log (rows of base/calls.def). */
enum nl_call {
#define NL_CALL_ID(id, name) NL_CALL_##id,
#include "base/calls.def"
	NL_CALL_COUNT
};
const char *nl_call_name(enum nl_call c);

#define NL_FD_TABLE_SIZE (1 << 20)   /* the kernel's default nr_open */

/* What a read on an fd can wait for, as the read watchdog sees it. */
enum nl_fd_kind {
	NL_KIND_UNKNOWN,
	NL_KIND_OTHER,     /* regular file, directory, eventfd, a character
			    * device that is no terminal: not watched */
	NL_KIND_PIPE,      /* pipe or FIFO */
	NL_KIND_SOCKET,
	NL_KIND_TTY,       /* terminal (a character device that answers
			    * TCGETS) */
};
/* The kind of fd, from the table or (once) from fstat. */
enum nl_fd_kind nl_fd_kind(int fd);

struct nl_fd_slot {
	_Atomic uint32_t bits;
	uint16_t call;                /* enum nl_call */
	uint8_t kind;                 /* enum nl_fd_kind, cached by the read watchdog */
	uint8_t pad;
	uintptr_t site;               /* return address in the creating caller */
	dev_t dev;                    /* identity for the keep bits */
	ino_t ino;
	/* The exec generation (below) at which SHIM_CLOEXEC or a keep bit
	 * was last set here, stored before the bits: a child sharing this
	 * memory ignores what was set after it was made (nl_fd_bits_here,
	 * nl_fd_keep_bits). */
	uint64_t stamp;
};

/* A new fd from an interposed call: forget what the number held before.
 * Returns the inode it read for the identity (with shim_cloexec), else 0. */
uint64_t nl_fd_created(int fd, enum nl_call call, const void *site,
		       int shim_cloexec);
/* Set or clear a keep bit (identity taken with fstat). */
void nl_fd_mark(int fd, uint32_t bit);
void nl_fd_unmark(int fd, uint32_t bit);
/* The fd was closed by the program (nl_fd_closing and nl_fd_close_done
 * at once, for a close that is over). */
void nl_fd_closed(int fd);
/* A close in two steps around the real call.  The marks of the fd go
 * after it, and not while a fork another thread makes is under way (see
 * nl_fd_fork_begin): a fork child made between the two has the fd open,
 * and its exec must see the marks.  After the call they go only if no new
 * fd was recorded on the number since (the birth count).  What is not
 * the sweep's (the creator, the kind, a vfork child's own view) goes
 * before.  `pending` says whether nl_fd_close_done has anything to do. */
struct nl_fd_close {
	uint32_t word;     /* the slot's bits word before the call */
	int pending;
};
struct nl_fd_close nl_fd_closing(int fd);
void nl_fd_close_done(int fd, struct nl_fd_close c);

/* A mark the program asks for with a call that makes the fd inheritable
 * (F_SETFD 0, FIONCLEX): set before the real call, so that a fork another
 * thread makes in between never has the inheritable fd without it (one
 * made before the call has the fd close-on-exec, which the mark cannot
 * undo).  Returns what nl_fd_mark_undo needs when the call fails (0:
 * nothing was set). */
uint32_t nl_fd_mark_before(int fd, uint32_t bit);
void nl_fd_mark_undo(int fd, uint32_t bit, uint32_t token);

/* F_SETFD with FD_CLOEXEC, FIOCLEX: the shim's flag on fd is the
 * program's from before the call on (a child made in between must not
 * clear it for its exec); the deliberate mark comes off after it
 * (nl_fd_cloexec_done, when the call succeeded and nl_fd_cloexec_before
 * returned 1), and not while a fork is under way: the fork may have
 * copied the fds before the call and the memory after it.  A
 * close-on-exec fd the mark keeps, the exec closes anyway. */
int nl_fd_cloexec_before(int fd);
void nl_fd_cloexec_done(int fd);

/* dup2/dup3 onto newfd without close-on-exec: newfd recorded as created
 * by `call` and DELIBERATE, for oldfd's file, before the real call; the
 * slot as it was is kept in *saved and put back when the call fails.
 * Returns 0 when nothing was recorded (oldfd not open, newfd out of the
 * table, a vfork child): the caller records after the call then. */
struct nl_fd_saved {
	uint32_t word, set;
	uint16_t call;
	uint8_t kind;
	uintptr_t site;
	dev_t dev;
	ino_t ino;
	uint64_t stamp;
};
int nl_fd_dup_before(int oldfd, int newfd, enum nl_call call,
		     const void *site, struct nl_fd_saved *saved);
void nl_fd_dup_failed(int newfd, const struct nl_fd_saved *saved);

/* A fork (fork, daemon, forkpty, posix_spawn) is under way: from before
 * the real call to its return in the parent.  Closes meanwhile leave the
 * marks (nl_fd_closing).  Counted only once the process may have another
 * thread (nl_fd_threads_started): a single thread cannot close while it
 * forks, and a count written around every fork would cost each one a
 * page fault of the parent's (the page is write-protected by the fork).
 * Returns whether it counted, for nl_fd_fork_end (the parent only). */
int nl_fd_fork_begin(void);
void nl_fd_fork_end(void);
void nl_fd_threads_started(void);
/* Whether another thread may share this fd table (nl_fd_threads_started
 * was called). */
int nl_fd_threaded(void);

/* Whether a new fd gets the shim's close-on-exec flag at creation
 * (enforce mode asked): 0 no (the table cannot be had, so the flag could
 * never be taken off for an fd named to an exec: a nomem event says so,
 * once, and the next creation tries again), 1 yes, 2 after the call (one
 * of fds 0-2 may be free, and a new fd landing there refills stdio: it
 * must never be close-on-exec, not even for an instant a fork could
 * see). */
int nl_fd_cloexec_at_creation(void);
/* The bookkeeping of the free numbers among 0-2: [lo, hi] may be closed
 * (before a close); fd (<= 2) is open now (a new fd or a dup2 landed
 * there); a new fd above 2 was made without the flag because one of 0-2
 * seemed free: look which still are (one F_GETFD each, rarely). */
void nl_fd_stdio_freed(unsigned lo, unsigned hi);
void nl_fd_stdio_filled(int fd);
void nl_fd_stdio_recheck(void);
/* At start-up (init): note socket activation (LISTEN_FDS, LISTEN_PID in
 * envp; NULL in a secure process, whose caller chose the environment) and
 * snapshot the fds open now as INHERITED. */
void nl_fd_init(char *const envp[]);
/* A socket-activated daemon's listener (fds 3..3+LISTEN_FDS-1), handed to
 * it for its own pid only, seen from another process (a vfork child). */
int nl_fd_listener_elsewhere(int fd);
/* The fds listed as inherited at start-up (check with nl_fd_keep_bits). */
int nl_fd_inherited_count(void);
int nl_fd_inherited_fd(int i);

/* The slot of fd, or NULL when nothing was ever recorded for it. */
const struct nl_fd_slot *nl_fd_slot(int fd);
/* fd's bits as this process sees them: a vfork child's own marks (the
 * stash) over its parent's table.  In a child sharing its parent's memory
 * the parent's bits count only when they were set before the child was
 * made: a later one (another thread made a new fd on the number, or marked
 * it) describes the parent's fd, not the child's copy, which may be
 * another file of the same identity (every eventfd, timerfd, signalfd,
 * epoll and inotify fd shares one inode).  So such a child errs on
 * withholding. */
uint32_t nl_fd_bits_here(int fd);
/* SHIM_CLOEXEC as this process sees it, and still for the file it was set
 * for: a vfork child's own record of an fd it made is its own; the
 * table's is checked by identity. */
int nl_fd_shim_cloexec_holds(int fd);
/* The keep bits of fd that still hold (identity checked), including marks
 * stashed by this vfork child; in a child sharing its parent's memory,
 * the table's bits as for nl_fd_bits_here, and the snapshot's. */
uint32_t nl_fd_keep_bits(int fd);
/* Whether the table could not be mapped, so marks may have been lost. */
int nl_fd_table_failed(void);
/* One past the highest fd that ever carried a keep bit or SHIM_CLOEXEC. */
int nl_fd_high_water(void);
/* Visit every fd marked in this vfork child's stash. */
int nl_fd_stash_count(void);
int nl_fd_stash_fd(int i);
/* This vfork child made marks the stash could not hold (no memory): its
 * exec must keep every fd. */
int nl_fd_stash_lost(void);
/* Reset the stash (fork child). */
void nl_fd_after_fork(void);
/* This thread is about to make a child that shares its memory (vfork,
 * clone(CLONE_VM)): until the parent is back, what that child creates,
 * closes or marks stays out of the parent's slots.  `parent_waits`: the
 * parent is suspended until the child's exec or exit (vfork,
 * CLONE_VFORK), so the child may plan from a snapshot of keep bits in the
 * parent thread's memory (below); a child running beside its parent
 * (clone(CLONE_VM) alone) plans from the table, as the parent's next
 * child would take the snapshot over under it. */
void nl_fd_before_shared_child(int parent_waits);
/* Whether this is such a child (made since nl_fd_before_shared_child):
 * one thread-local load on the paths of a thread that made none, one
 * getpid() the first time after it did. */
int nl_fd_shared_child(void);

/* Just before making a child that shares this memory (posix_spawn's,
 * vfork's, clone(CLONE_VM)'s), with this process's pid: the keep bits as
 * they are now, which that child's exec keeps besides what the table says
 * when it plans (other threads go on changing the table; the child's fds
 * are a copy of the parent's at the clone), and the exec generation, which
 * tells that child which of the table's bits were set after it was made.
 * Forgotten before any other child is made, and by the parent once it is
 * back.  `self`: this process's pid (vfork's, clone's), or 0 for
 * posix_spawn, whose child says it is one (nl_fd_snapshot_child). */
void nl_fd_snapshot_take(pid_t self);
void nl_fd_snapshot_forget(void);
/* posix_spawn's child, first thing: the snapshot is its own. */
void nl_fd_snapshot_child(void);
/* In that child: the fds the snapshot has, to visit as the stash's;
 * nl_fd_snapshot_fd gives -1 for an fd the table's marked slots, the
 * start-up list or the stash list already, so each is looked at once. */
int nl_fd_snapshot_count(void);
int nl_fd_snapshot_fd(int i);
/* The snapshot could not hold every entry (no memory): keep every fd. */
int nl_fd_snapshot_lost(void);

/* A counter of the changes an exec's preparation depends on, so that the
 * next exec attempt of a PATH walk can reuse what the last one found
 * (sweep.c, pgroup.c): bumped when an interposed call creates, marks or
 * re-flags an fd or a range of fds, and when the process changes its group
 * or session.  Not by close(): a closed fd is swept by no exec, and
 * whatever later takes its number is created.  A vfork child bumps it in
 * its parent's memory: the parent only recomputes once more. */
unsigned nl_exec_generation(void);
void nl_exec_generation_bump(void);

/* The program closed or re-flagged a whole range (close_range, closefrom):
 * drop the marks of [lo, hi], and when closed what it was handed there at
 * start-up (as nl_fd_closed); with cloexec set the fds stay open but are
 * now close-on-exec by the program's own choice. */
void nl_fd_range_changed(unsigned lo, unsigned hi, int cloexec);

#endif
