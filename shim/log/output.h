/* Outputs (out_*.c): each writes one whole line with one write().  Used by
 * event.c, and by interposers that must leave the outputs' fds alone; the
 * unit tests reach the syslog hook. */
#ifndef NL_OUTPUT_H
#define NL_OUTPUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

/* Open lazily; return the bytes written, -1, or NL_OUT_BUSY (below: the
 * line found no fd to go through).  Never block (a wait for a transient
 * slot is bounded, out_fd.c; a regular file's write waits for the disk
 * only; the program's fd 2 not writable now drops the line, out_stderr.c;
 * the sockets are sent to with MSG_DONTWAIT), never write to a file that
 * is not the log's own.  A log file path is refused for good
 * (see out_file.c) when its last component is a symlink or not a regular
 * file, or when others could swap the file under it: the write that finds
 * out returns NL_OUT_REFUSED, every later one -1, until the path changes;
 * nl_out_file_refusal() says why. */
#define NL_OUT_REFUSED (-2)
int nl_out_file_write(const char *path, const char *line, size_t len);
const char *nl_out_file_refusal(void);
int nl_out_stderr_write(const char *line, size_t len);
/* fd 2 was closed at start-up, the program closed it (close, close_range,
 * closefrom, fclose(stderr)), or put an fd onto 2 (dup2, dup3): see
 * out_stderr.c. */
void nl_out_stderr_at_start(void);
void nl_out_stderr_closed(void);
/* The same in a child sharing our memory (`pid`: the child's; 0 before
 * one starts): fd 2 given up (1) or replaced (0), the child's alone. */
void nl_out_stderr_child(pid_t pid, int gave_up);
void nl_out_stderr_replaced(void);
/* A seccomp filter is, or may be, in force (core/sandbox.h): the stderr
 * output makes no call the program may not (a socket on fd 2 is written
 * as any fd, with the blocking that may bring). */
void nl_out_stderr_filtered(void);
int nl_out_syslog_write(const char *line, size_t len);
/* One native journal entry made from the JSON line (out_journal.c).
 * NL_OUT_NO_JOURNAL: there is no journal socket; the caller hands the line
 * to syslog (not from here: the stack of the logging paths is small). */
#define NL_OUT_NO_JOURNAL (-3)
int nl_out_journal_write(const char *line, size_t len);
/* The outputs' write(): the iovecs written to fd, retried after EINTR;
 * the bytes written or -errno.  A write the kernel answers with a signal
 * to the writer (SIGXFSZ: the file at the program's RLIMIT_FSIZE; SIGPIPE:
 * a pipe or socket without a reader, as stderr may be) fails with EFBIG
 * or EPIPE and leaves the program no signal: both are blocked around the
 * write and the one it raised is taken back before the mask is restored.
 * One the program blocks and had pending before stays.  SIGTTOU (stderr
 * the terminal of a background group under TOSTOP) is blocked too: the
 * kernel then writes and raises none.  Two system calls more per line;
 * raw calls only, errno untouched: for signal handlers, fork and vfork
 * children.  It waits as the write does: the stderr output looks first
 * whether fd 2 is writable (out_stderr.c); a file's fd always is. */
struct iovec;
ssize_t nl_out_write(int fd, const struct iovec *iov, int n);

/* Reset after fork (the syslog socket and file fd are shared and fine; only
 * per-process state resets: flags a vanished thread may have held). */
void nl_out_after_fork(void);

/* --- the outputs' own fds (out_fd.c) ---
 *
 * An fd the shim opened for itself, kept at 100 or above with FD_CLOEXEC
 * (where the fd limit leaves no number there, each line opens one of its
 * own: a transient fd, below), and remembered with its identity (dev,
 * inode).  Once the
 * program closes that number or puts a file of its own onto it, the number
 * is the program's: the shim stops using it and never closes it.
 *
 * No write may land in a file of the program's, even when another thread
 * closes the number and opens a file onto it, or dup2()s one onto it,
 * between the shim's look at the number and its write.  So:
 *   - a writer holds the fd (nl_out_fd_hold: `users` counted, then o->fd
 *     read again and the file under it checked) from its last look until
 *     its write returns;
 *   - the interposed calls that close or replace numbers (close, fclose,
 *     freopen, dup2, dup3, close_range, closefrom: nl_out_fd_yield) first
 *     retire every output fd among them (o->fd = -1) and return only once
 *     no writer holds it; then the real call runs.  A close() of a number
 *     that still holds the output's own file is not the program's: it
 *     answers EBADF and retires nothing (nl_out_fd_program_close).
 * Both steps are sequentially consistent: a writer either sees the number
 * retired or is waited for.  The shim's own closes go through the same
 * hold (`closing`), so it never closes a number the program took over.
 *
 * Edges, each with the identity check before every write as the backstop:
 *   - closes and dup2s the shim does not see: raw system calls, glibc's
 *     internal ones, another process sharing the fd table;
 *   - a signal handler that takes the number over while it interrupts a
 *     write of its own thread: the closer cannot wait for the writer it
 *     interrupted (that would never return), so it waits for the other
 *     threads only;
 *   - a number the program closes, or dup2()s onto, without owning it,
 *     at the very moment the shim places a fresh fd there: at or above
 *     the floor the placing gate below makes sure the check sees what
 *     the call did; below it (the file just opened, before it is moved
 *     up; under an fd limit at or below the floor, the first placement
 *     there) the check alone;
 *   - a process other than the one that configured the log (a vfork child
 *     sharing our memory, a child the shim did not see forking): its fds
 *     are its own, so it neither retires nor counts writers (nothing of
 *     the parent's to change, no count a killed child could leave
 *     behind); only the placing gate counts its calls, as the process
 *     cannot tell it is a child without a system call, and a count a
 *     killed child leaves costs later placements a bounded wait.
 * The closers' fast path is one load: numbers below the lowest an output
 * ever had (nl_out_fd_low) are not looked at further. */
struct nl_out_fd {
	atomic_int fd;                /* -1: none */
	atomic_uint users;            /* writers holding fd */
	atomic_int closing;           /* the shim is closing this number */
	atomic_int settling;          /* fd just published, not written
	                               * through yet (the placing gate) */
	_Atomic unsigned long long dev, ino;
	atomic_int busy;              /* held while (re)opening; try-acquire
	                               * only (transient slots: taken); an
	                               * int: a fork child reads it unwritten */
};

/* Every output fd, in one table the closers can walk: the three outputs,
 * then slots for transient fds (a line written through a fresh fd while
 * another thread opens the output; no free slot: the writer waits for one,
 * a bounded while, see out_fd.c). */
enum {
	NL_OUT_FILE, NL_OUT_SYSLOG, NL_OUT_JOURNAL, NL_OUT_TRANSIENT,
	NL_OUT_SLOTS = NL_OUT_TRANSIENT + 8
};
extern struct nl_out_fd nl_out_fds[NL_OUT_SLOTS]
	__attribute__((visibility("hidden")));
extern atomic_int nl_out_fd_low __attribute__((visibility("hidden")));
/* How often a placement found a program's call under way on another
 * thread (and waited), and how often it went ahead at the wait's bound
 * (out_fd.c, placement_settle): what the tests look at, not times. */
extern atomic_uint nl_out_gate_waited, nl_out_gate_bounded
	__attribute__((visibility("hidden")));

/* The fd when it is still the one we opened, else -1 (and it is forgotten,
 * unless o->busy is held: then it is only skipped). */
int nl_out_fd_get(struct nl_out_fd *o);
/* Whether fd is an output's fd, still holding the file the shim opened:
 * for walks over the process's fds that must leave the shim's own out. */
int nl_out_fd_is_ours(int fd);
/* Hold fd, just returned by nl_out_fd_get(), for one write: 1 held, 0 used
 * without a count (a foreign process, see above), -1 retired meanwhile
 * (skip the write).  Release with what it returned. */
int nl_out_fd_hold(struct nl_out_fd *o, int fd);
void nl_out_fd_release(struct nl_out_fd *o, int held);
/* The program is about to close or replace fds lo..hi: retire the outputs'
 * fds among them and wait until no writer (of another thread) holds one.
 * Async-signal-safe: no lock, no allocation. */
void nl_out_fd_yield_slow(unsigned lo, unsigned hi);
static inline void nl_out_fd_yield(unsigned lo, unsigned hi)
{
	if (hi >= (unsigned)atomic_load_explicit(&nl_out_fd_low,
						 memory_order_relaxed))
		nl_out_fd_yield_slow(lo, hi);
}
/* The program's calls on a number that is an output's own fd: without the
 * shim that number would not be open, so close(), dup(), dup2() and dup3()
 * from it, fcntl() and ioctl() answer EBADF and leave the shim's fd as it
 * is (interpose/fdmarks.c, fdcreate.c).  An output's own: the number
 * published in a slot (or being closed by the shim, o->closing) and the
 * file under it the one the shim opened (dev, inode: a file of the
 * program's put there by a call the shim did not see, or a number the
 * program took over, is the program's).  One load for a number below the
 * outputs' (nl_out_fd_low); above it a look at each slot, and an fstat
 * only for a number a slot holds.  Async-signal-safe. */
int nl_out_fd_owned_slow(int fd);
static inline int nl_out_fd_owned(int fd)
{
	if (__builtin_expect(fd < atomic_load_explicit(&nl_out_fd_low,
						       memory_order_relaxed), 1))
		return 0;
	return nl_out_fd_owned_slow(fd);
}
/* close(fd) by the program: 1 when fd is an output's own (the caller
 * answers EBADF, and the fd stays the shim's), else 0 with the number
 * retired first (nl_out_fd_yield).  One load below the outputs'. */
static inline int nl_out_fd_program_close(int fd)
{
	if (__builtin_expect(fd < atomic_load_explicit(&nl_out_fd_low,
						       memory_order_relaxed), 1))
		return 0;
	if (nl_out_fd_owned_slow(fd))
		return 1;
	nl_out_fd_yield_slow((unsigned)fd, (unsigned)fd);
	return 0;
}
/* The placing gate.  The shim places a fresh fd with F_DUPFD_CLOEXEC at
 * the lowest free number at or above NL_OUT_FD_FLOOR and publishes it in
 * its slot after.  A program's call that closes or replaces numbers and
 * looked at the slots before the publication, but makes its real call
 * after the placement, acts on the shim's fresh fd without knowing it (a
 * close() of a number it never opened closes it, a dup2() onto a free
 * number replaces it); were that after a writer's last look at the number
 * and before its write, the line would land in the program's file.  So
 * the program's calls on numbers at or above the floor (or the lowest an
 * output ever had, when lower) are counted from before their look at the
 * slots to after their real call (nl_out_fd_enter ... nl_out_fd_leave:
 * close, dup2, dup3, close_range, closefrom, freopen; fclose only for its
 * look, as its number is the stream's own until its real call, which may
 * wait for a popen child), and a placement, once it has published the
 * number, waits until the calls under way on other threads are over
 * (out_fd.c, place_publish; o->settling holds the other threads'
 * writers back meanwhile) before the number is written through:
 * what they did to it, the identity check before each write sees.  The
 * publication and the count are sequentially consistent: a call either
 * counted before the publication and is waited for, or looks after it
 * and sees the number.  The program's calls never wait; the placement's
 * wait is bounded (NL_OUT_GATE_MS).  A close the placement waited for may
 * still have closed the fresh fd (it answers 0 where without the shim it
 * is EBADF: README, Known limits); no line goes where it put a file.
 * Below the floor the gate costs one load and two compares; at or above
 * it, two atomic additions and a fence.  Async-signal-safe. */
#define NL_OUT_FD_FLOOR 100
int nl_out_fd_enter_slow(void);
void nl_out_fd_leave_slow(void);
static inline int nl_out_fd_enter(unsigned lo, unsigned hi)
{
	(void)lo;
	if (__builtin_expect(hi < NL_OUT_FD_FLOOR &&
			     hi < (unsigned)atomic_load_explicit(&nl_out_fd_low,
						memory_order_relaxed), 1))
		return 0;
	return nl_out_fd_enter_slow();
}
static inline void nl_out_fd_leave(int entered)
{
	if (entered)
		nl_out_fd_leave_slow();
}
/* Whether the caller is a process other than the one that counts: a child
 * sharing its memory (vfork, posix_spawn), or one the shim did not see
 * forking (_Fork, clone), which it treats alike.  It writes a line through
 * a transient fd of its own, in no table, when the output's is not usable,
 * never changes which fd the output has, and leaves the counting process's
 * counts and rotation check alone.  One getpid(). */
int nl_out_fd_foreign(void);
/* The process that counts: the one whose pid *pid holds (init's, updated
 * in each fork child; NULL: none). */
void nl_out_fd_owner(const _Atomic int *pid);
/* Move a freshly opened fd to 100 or above and make it o's fd, identity
 * recorded.  Returns the new number, -1 (the fd closed), or NL_OUT_FD_LOW:
 * no number at 100 or above is free, and fd is left open as it was, for
 * one line through a transient slot (nl_out_fd_transient): an output
 * keeps no number the program could open under its fd limit.  Caller
 * holds o->busy. */
#define NL_OUT_FD_LOW (-6)
int nl_out_fd_adopt(struct nl_out_fd *o, int fd);
/* Put the freshly opened nfd in place of o's fd, under the same number
 * (dup3, then nfd is closed), identity recorded: a thread writing through
 * the number meanwhile writes to one file or the other.  Returns the
 * number, -1, or NL_OUT_FD_TAKEN: the program took the number meanwhile,
 * nfd is left as it was (for nl_out_fd_adopt()).  Caller holds o->busy and
 * has just checked o's fd is still ours. */
#define NL_OUT_FD_TAKEN (-4)
int nl_out_fd_replace(struct nl_out_fd *o, int nfd);
/* Close the fd if it is still ours, and forget it.  Caller holds o->busy. */
void nl_out_fd_close(struct nl_out_fd *o);
/* A freshly opened fd for one line: placed (its number in *placed), in a
 * free transient slot, and the slot returned: write through it with
 * nl_out_fd_hold(), then give it back with nl_out_fd_transient_done().
 * NULL: the fd closed; *placed is NL_OUT_BUSY when no slot came free in
 * time (the outputs return it for the line, which event.c reports as
 * dropped), else -1 (no place above 2). */
#define NL_OUT_BUSY (-5)
struct nl_out_fd *nl_out_fd_transient(int fd, int *placed);
/* Close a transient slot's fd (if still ours) and free the slot. */
void nl_out_fd_transient_done(struct nl_out_fd *t);
/* In a fork child: busy flags and counts of threads that did not survive
 * the fork, and their transient fds. */
void nl_out_fd_after_fork(void);

/* Tests: send syslog datagrams to this socket path instead of /dev/log
 * (NULL: /dev/log again). */
void nl_out_syslog_test_path(const char *path);
/* Tests: the journal's socket path (NULL: the real one again). */
void nl_out_journal_test_path(const char *path);

#endif
