/* The fd table: see fdtable.h. */
#include "core/fdtable.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <termios.h>

#include "common/forkdata.h"
#include "core/fdlist.h"
#include "log/event.h"
#include "base/state.h"
#include "common/scratch.h"
#include "common/sys.h"

/* Where the table is, read by every fd call, and written once: with the
 * after-fork data (common/forkdata.h), on a page the loader has written.
 * In .bss the first process to create an fd paid two page faults for the
 * page (a read of it, then the write of the pointer). */
static struct nl_fd_slot *_Atomic table NL_FORK_DATA;
/* The table could not be mapped (out of address space): marks are lost,
 * so the sweep must keep every fd rather than drop deliberate ones. */
static atomic_int table_failed NL_FORK_DATA;

int nl_fd_table_failed(void)
{
	return atomic_load_explicit(&table_failed, memory_order_relaxed);
}
static atomic_int high_water NL_FORK_DATA;
/* One past the highest fd whose slot was ever written (a creator, a
 * cached kind: no bit needed), for a range close to clear them all. */
static atomic_int used_high NL_FORK_DATA;
/* On a line of its own (fd creation bumps it, every fd call reads
 * `table`), with the after-fork data: an exec attempt in a fork child reads
 * it, and the first bump needs no page of its own. */
/* 64 bits: it also stamps the slots (fdtable.h), and a stamp must never
 * wrap around in a process's life. */
static _Alignas(64) _Atomic uint64_t exec_generation NL_FORK_DATA;

unsigned nl_exec_generation(void)
{
	return (unsigned)atomic_load_explicit(&exec_generation,
					      memory_order_acquire);
}

/* Returns the new generation, the stamp of what the caller sets. */
static uint64_t generation_bump(void)
{
	return atomic_fetch_add_explicit(&exec_generation, 1,
					 memory_order_acq_rel) + 1;
}

void nl_exec_generation_bump(void)
{
	generation_bump();
}

/* Forks under way (nl_fd_fork_begin), tagged with the pid of the process
 * that counts them: pid << 32 | count.  A fork child inherits its parent's
 * count, its own fork among it, and by the tag knows it is not its own:
 * it never has to write this page to reset it. */
static _Atomic uint64_t forking NL_FORK_DATA;
/* Another thread may exist: pthread_create was called (fdtable.h). */
static atomic_int threads_seen NL_FORK_DATA;
/* Which of fds 0-2 may be free (bit fd): see nl_fd_cloexec_at_creation. */
static atomic_uint stdio_free NL_FORK_DATA;
/* The nomem event for the table was written (once per process). */
static atomic_int table_nomem_said NL_FORK_DATA;

void nl_fd_threads_started(void)
{
	if (!atomic_load_explicit(&threads_seen, memory_order_relaxed))
		atomic_store(&threads_seen, 1);
}

int nl_fd_threaded(void)
{
	return atomic_load_explicit(&threads_seen, memory_order_relaxed);
}

int nl_fd_fork_begin(void)
{
	if (!atomic_load_explicit(&threads_seen, memory_order_relaxed))
		return 0;
	uint64_t self = (uint64_t)(uint32_t)atomic_load_explicit(
				&nl_proc.pid, memory_order_relaxed) << 32;
	uint64_t f = atomic_load(&forking), next;
	do
		next = (f & ~0xffffffffULL) == self ? f + 1 : self | 1;
	while (!atomic_compare_exchange_weak(&forking, &f, next));
	return 1;
}

void nl_fd_fork_end(void)
{
	atomic_fetch_sub(&forking, 1);
}

/* Whether a fork of this process is under way, asked after a real close:
 * if none is, any fork that starts later copies the fd table without the
 * closed fd (the fence orders the close before the look, and the forker
 * counts before its call). */
static int fork_under_way(void)
{
	atomic_thread_fence(memory_order_seq_cst);
	uint64_t f = atomic_load_explicit(&forking, memory_order_relaxed);
	return (uint32_t)f != 0 &&
	       (pid_t)(f >> 32) == atomic_load_explicit(&nl_proc.pid,
							memory_order_relaxed);
}

/* Marks made in a vfork child: per thread, tagged with the child's pid so
 * that the parent, sharing this memory, ignores them.  Any number: the
 * first STASH_INLINE in thread-local storage, the rest in a scratch block
 * (CPython marks every pass_fds fd in its vfork child).  The block belongs
 * to the thread and is reused by its next child: a child sharing our
 * memory cannot give it back before its exec (a failed exec of a PATH walk
 * still needs the marks), and the parent cannot tell when a CLONE_VM child
 * is done with it.  So at most one block per thread stays mapped, sized
 * for the most marks one of its children made.  When the block cannot
 * grow, the stash is "lost" and the child's exec keeps every fd. */
#define STASH_INLINE 64
struct stash_entry {
	int fd;
	uint32_t bits;      /* the child's marks for fd */
	uint32_t cleared;   /* bits the child took off (of its parent's too) */
};
struct stash {
	pid_t pid;
	int n;
	int lost;
	struct stash_entry *more;
	size_t more_bytes;
	struct stash_entry first[STASH_INLINE];
};
static __thread struct stash stash __attribute__((tls_model("initial-exec")));

static struct stash_entry *stash_at(int i)
{
	return i < STASH_INLINE ? &stash.first[i]
				: &stash.more[i - STASH_INLINE];
}

/* The pid of the process whose thread this is, set just before that thread
 * makes a child sharing its memory (vfork, clone(CLONE_VM)): until the
 * parent is back, code on this thread may be that child.  0: no such child
 * made since, so the hot paths pay one thread-local load. */
static __thread pid_t sharing_parent __attribute__((tls_model("initial-exec")));

static int in_shared_child(void)
{
	pid_t parent = sharing_parent;
	if (__builtin_expect(parent == 0, 1))
		return 0;
	if (nl_sys_getpid() != parent)
		return 1;
	sharing_parent = 0;   /* the parent, back */
	return 0;
}

int nl_fd_shared_child(void)
{
	return in_shared_child();
}

/* As in_shared_child() and then the mark, with one getpid(); and the
 * snapshot of keep bits the child plans from, when the parent waits. */
void nl_fd_before_shared_child(int parent_waits)
{
	pid_t parent = sharing_parent, self = nl_sys_getpid();
	if (parent == 0 || parent == self) {
		if (parent != self)
			sharing_parent = self;
	}
	if (parent_waits)
		nl_fd_snapshot_take(self);
}

/* The keep bits as they were just before a child sharing this memory was
 * made (posix_spawn's, vfork's, clone(CLONE_VM)'s).  The child's fds are a
 * copy of its parent's at that moment, but the table it plans its exec
 * from is the parent's, which other threads go on changing while the child
 * runs file actions or the program's code: a deliberate fd another thread
 * closes (or closes and reuses) then must still cross, as the child's copy
 * would without the shim.  So the child keeps an fd that either the
 * snapshot or the table marks (identity checked for both).
 *
 * The other way, what another thread sets in the table after the clone
 * (a new fd on the number, made without close-on-exec; a keep bit) is not
 * the child's: its copy may be another file of the same identity (one
 * inode serves every eventfd, timerfd, signalfd, epoll and inotify fd).
 * Each slot's stamp says when its bits were last set, `clock` the exec
 * generation when the snapshot was taken: the child ignores the table's
 * bits stamped after it.  A slot is stamped after its fd was made (the
 * interposers record after the real call) and its bits are stored after
 * its stamp, so bits the child reads with a stamp at or below `clock`
 * were set for an fd that existed before the clone.  A close clears the
 * slot after the fd goes (and not while a fork is under way), so a slot
 * may say more than the number now holds: every reader checks the bits
 * against the file's identity.  An fd another thread made just before the
 * clone and recorded after it is withheld: the child errs on withholding.
 *
 * Taken by the parent (nl_fd_snapshot_take), counted only in a process
 * whose parent took it, or in posix_spawn's child, which says so
 * (nl_fd_snapshot_child); forgotten by the parent once it is back (or
 * before any other child).  Per thread and any size, as the stash:
 * SNAP_INLINE entries here, more in a block the thread keeps for its next
 * child.  Sorted by fd, for a binary search. */
#define SNAP_INLINE 8
struct snap_entry {
	int fd;
	uint32_t bits;
	dev_t dev;
	ino_t ino;
};
struct snap {
	pid_t taker;          /* 0: none (posix_spawn's: in_child says) */
	pid_t child;          /* the child that found its parent took it */
	int in_child;         /* set by posix_spawn's child itself */
	uint64_t clock;       /* the exec generation when taken */
	int n;
	int lost;             /* no memory for every entry: keep every fd */
	int in_block;         /* the entries are in `more` */
	struct snap_entry *more;
	size_t more_bytes;
	struct snap_entry first[SNAP_INLINE];
};
static __thread struct snap snap __attribute__((tls_model("initial-exec")));

static const char *const call_names[NL_CALL_COUNT] = {
#define NL_CALL_ID(id, name) [NL_CALL_##id] = name,
#include "base/calls.def"
};

const char *nl_call_name(enum nl_call c)
{
	return (unsigned)c < NL_CALL_COUNT && call_names[c] ? call_names[c]
							    : "unknown";
}

/* The table, mapped on first use.  Two threads racing here both map; the
 * loser unmaps its copy.  A raw system call: safe after fork, and a failure
 * leaves errno alone (the fd call that needed the table succeeded).  The
 * first page (fds 0-101, what most processes use) is mapped in writable
 * at once: the first look at a slot there (the read watchdog's cached
 * kind) is followed by a write, and each was a page fault, tens of
 * microseconds on a virtual machine.  Without MADV_POPULATE_WRITE (before
 * Linux 5.14) the call fails and the page faults in as before. */
static struct nl_fd_slot *table_get(int create)
{
	struct nl_fd_slot *t = atomic_load_explicit(&table, memory_order_acquire);
	if (t || !create)
		return t;
	size_t size = sizeof(struct nl_fd_slot) * NL_FD_TABLE_SIZE;
	long m = nl_sys_mmap_anon_flags(size, MAP_NORESERVE);
	if (nl_sys_mmap_failed(m)) {
		atomic_store(&table_failed, 1);
		return NULL;
	}
	nl_sys_madvise((void *)m, 4096, MADV_POPULATE_WRITE);
	struct nl_fd_slot *expected = NULL;
	if (!atomic_compare_exchange_strong(&table, &expected,
					    (struct nl_fd_slot *)m)) {
		nl_sys_munmap((void *)m, size);
		return expected;
	}
	return (struct nl_fd_slot *)m;
}

/* No table, no record of the shim's flag: a new fd that got it could
 * never have it taken off for an exec that names it (the sweep keeps
 * every fd then, but the flag stays).  So no flag, as without the shim,
 * and the log says so once; the next creation tries to map it again. */
int nl_fd_cloexec_at_creation(void)
{
	if (__builtin_expect(!atomic_load_explicit(&table, memory_order_acquire),
			     0) &&
	    !table_get(1)) {
		nl_event_nomem_once(&table_nomem_said, "fd_table",
				    "no_cloexec");
		return 0;
	}
	return atomic_load_explicit(&stdio_free, memory_order_relaxed) ? 2 : 1;
}

void nl_fd_stdio_freed(unsigned lo, unsigned hi)
{
	if (lo > 2)
		return;
	unsigned m = 0;
	for (unsigned fd = lo; fd <= hi && fd <= 2; fd++)
		m |= 1u << fd;
	if ((atomic_load_explicit(&stdio_free, memory_order_relaxed) & m) != m)
		atomic_fetch_or(&stdio_free, m);
}

void nl_fd_stdio_filled(int fd)
{
	if (fd >= 0 && fd <= 2 &&
	    (atomic_load_explicit(&stdio_free, memory_order_relaxed) &
	     (1u << fd)))
		atomic_fetch_and(&stdio_free, ~(1u << fd));
}

void nl_fd_stdio_recheck(void)
{
	unsigned m = atomic_load(&stdio_free);
	for (int fd = 0; fd <= 2; fd++)
		if ((m & (1u << fd)) && nl_sys_fcntl(fd, F_GETFD, 0) >= 0)
			atomic_fetch_and(&stdio_free, ~(1u << fd));
}

static void raise_to(atomic_int *mark, int fd)
{
	int h = atomic_load_explicit(mark, memory_order_relaxed);
	while (fd + 1 > h && !atomic_compare_exchange_weak(mark, &h, fd + 1))
		;
}

/* `create`: the caller writes the slot, whose number then counts for
 * used_high. */
static struct nl_fd_slot *slot_for(int fd, int create)
{
	if (fd < 0 || fd >= NL_FD_TABLE_SIZE)
		return NULL;
	struct nl_fd_slot *t = table_get(create);
	if (t && create)
		raise_to(&used_high, fd);
	return t ? &t[fd] : NULL;
}

static void raise_high_water(int fd)
{
	raise_to(&high_water, fd);
}

/* Sets bit on fd's slot, which now holds the file st describes; `stamp`:
 * the generation of the change. */
static struct nl_fd_slot *mark_slot(int fd, uint32_t bit,
				       const struct stat *st, uint64_t stamp)
{
	struct nl_fd_slot *s = slot_for(fd, 1);
	if (!s)
		return NULL;
	uint32_t old = atomic_load(&s->bits);
	/* A keep bit set for another file is stale: drop it first. */
	if ((old & NL_FD_KEEP_BITS) &&
	    (__atomic_load_n(&s->dev, __ATOMIC_RELAXED) != st->st_dev ||
	     __atomic_load_n(&s->ino, __ATOMIC_RELAXED) != st->st_ino))
		atomic_fetch_and(&s->bits, ~(uint32_t)NL_FD_KEEP_BITS);
	__atomic_store_n(&s->stamp, stamp, __ATOMIC_RELAXED);
	__atomic_store_n(&s->dev, st->st_dev, __ATOMIC_RELAXED);
	__atomic_store_n(&s->ino, st->st_ino, __ATOMIC_RELAXED);
	atomic_fetch_or(&s->bits, bit);
	raise_high_water(fd);
	return s;
}

/* Every fd > 2 open at start-up was handed over by whoever started us.
 * Most processes get none or a few, so the first 16 are kept in a small
 * list rather than the table: a process that never creates an fd never
 * maps the table at all.  (Room for more would not fit on the page every
 * start-up writes: shim/layout.ld.) */
#define INHERITED_MAX 16
static struct inherited {
	int fd;
	dev_t dev;
	ino_t ino;
} inherited[INHERITED_MAX] __attribute__((section(".data")));
/* Both in .data (a page the loader has written): in .bss the list spanned
 * two pages of its own, two page faults in a process handed an fd, and a
 * count read before the list is first written would cost a read fault and
 * then a copy-on-write fault of the same page. */
static int n_inherited __attribute__((section(".data")));

static void mark_inherited(int fd, void *ctx)
{
	(void)ctx;
	struct stat st;
	if (fd <= 2 || nl_sys_fstat(fd, &st) < 0)
		return;
	if (n_inherited < INHERITED_MAX) {
		inherited[n_inherited].fd = fd;
		inherited[n_inherited].dev = st.st_dev;
		inherited[n_inherited].ino = st.st_ino;
		n_inherited++;
	} else {
		/* Start-up: no child yet, and the file was just asked about
		 * (stamp 0: before any child). */
		mark_slot(fd, NL_FD_INHERITED, &st, 0);
	}
}

/* No /proc: every number below the soft RLIMIT_NOFILE (where an fd can
 * have been opened, unless the limit was lowered since) is asked about,
 * PROBE_CHUNK at a time, with one poll() that waits for nothing: a closed
 * number comes back POLLNVAL.  Where poll fails, each number is asked on
 * its own (fstat). */
#define PROBE_CHUNK 64   /* 512 bytes of stack */
static void probe_inherited(void)
{
	struct rlimit rl;
	long end = 1024;
	if (nl_sys_prlimit(RLIMIT_NOFILE, NULL, &rl) == 0)
		end = rl.rlim_cur > NL_FD_TABLE_SIZE ? NL_FD_TABLE_SIZE
						     : (long)rl.rlim_cur;
	struct pollfd p[PROBE_CHUNK];
	for (long base = 3; base < end; base += PROBE_CHUNK) {
		int n = end - base < PROBE_CHUNK ? (int)(end - base) : PROBE_CHUNK;
		for (int i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = (int)base + i };
		int polled = nl_sys_poll(p, (nfds_t)n, 0) >= 0;
		for (int i = 0; i < n; i++)
			if (!polled || !(p[i].revents & POLLNVAL))
				mark_inherited((int)base + i, NULL);
	}
}

/* Without /proc while the process's fd table is small, as it is in most
 * processes: a first look into /proc/self costs a new process tens of
 * microseconds (the kernel builds the directory's entries for the pid),
 * more than the rest of start-up.  The kernel sizes a new process's fd
 * table to its parent's highest open fd (64 at least, then 128, 256 and on
 * by doubling), and select() looks only at the numbers within the table:
 * asked about a closed fd N alone, it fails with EBADF when the table
 * reaches past N and returns 0 when it does not, and then no fd above N
 * can be open.  So every number up to 64 is asked about with one poll(),
 * then fd 64 with one select(); a larger table, up to PROBE_TABLE_MAX,
 * the same way by doubling.  Returns -1, having listed nothing, when the
 * table is larger still or a call fails (a seccomp filter, an emulated
 * kernel): /proc is read then.  poll() does not look at O_PATH fds: one
 * handed over below the table's end is not seen here (one at the end is:
 * select() sees it). */
#define PROBE_TABLE_MAX 1024
static int snapshot_by_table_size(void)
{
	/* The first poll asks about 0-2 as well, for stdio_free. */
	struct pollfd p[PROBE_CHUNK + 3];
	unsigned long only[PROBE_TABLE_MAX / (8 * sizeof(long)) + 1];
	int next = 0;
	for (int end = 64; end <= PROBE_TABLE_MAX; end *= 2) {
		int end_open = 0;
		while (next <= end) {
			int cap = next == 0 ? PROBE_CHUNK + 3 : PROBE_CHUNK;
			int n = end + 1 - next < cap ? end + 1 - next : cap;
			for (int i = 0; i < n; i++)
				p[i] = (struct pollfd){ .fd = next + i };
			if (nl_sys_poll(p, (nfds_t)n, 0) < 0)
				goto fail;
			for (int i = 0; i < n; i++) {
				if (next + i <= 2) {
					if (p[i].revents & POLLNVAL)
						nl_fd_stdio_freed((unsigned)(next + i),
								  (unsigned)(next + i));
					continue;
				}
				if (p[i].revents & POLLNVAL)
					continue;
				end_open |= next + i == end;
				mark_inherited(next + i, NULL);
			}
			next += n;
		}
		if (end_open)
			continue;   /* fd `end` is open: the table is larger */
		int past = nl_fd_table_past(end, only);
		if (past == 0)
			return 0;
		if (past < 0)
			goto fail;
		if (past == 2)   /* O_PATH: poll() called it closed */
			mark_inherited(end, NULL);
	}
fail:
	n_inherited = 0;
	return -1;
}

static void snapshot_inherited(void)
{
	if (snapshot_by_table_size() == 0)
		return;
	/* Which of 0-2 are open is not known: the first new fd says. */
	nl_fd_stdio_freed(0, 2);
	if (nl_for_each_open_fd(mark_inherited, NULL) != 0)
		probe_inherited();
}

/* Socket activation handed fds 3..3+listen_n-1 to listen_pid only. */
static int listen_n;
static pid_t listen_pid;

static long env_number(char *const envp[], const char *name)
{
	const char *v = nl_policy_env_value(envp, name);
	long n = 0;
	if (!v || !*v)
		return -1;
	for (; *v >= '0' && *v <= '9' && n < (1L << 30); v++)
		n = n * 10 + (*v - '0');
	return *v ? -1 : n;
}

void nl_fd_init(char *const envp[])
{
	long n = envp ? env_number(envp, "LISTEN_FDS") : -1;
	long pid = envp ? env_number(envp, "LISTEN_PID") : -1;
	if (n > 0 && n < NL_FD_TABLE_SIZE - 3 && pid > 0) {
		listen_n = (int)n;
		listen_pid = (pid_t)pid;
	}
	snapshot_inherited();
}

int nl_fd_listener_elsewhere(int fd)
{
	return listen_n && fd >= 3 && fd < 3 + listen_n &&
	       nl_sys_getpid() != listen_pid;
}

static int inherited_index(int fd)
{
	for (int i = 0; i < n_inherited; i++)
		if (inherited[i].fd == fd)
			return i;
	return -1;
}

int nl_fd_inherited_count(void)
{
	return n_inherited;
}

int nl_fd_inherited_fd(int i)
{
	return inherited[i].fd;
}

/* The program closed an fd it was handed (not in a vfork child, whose
 * parent keeps its own). */
static void forget_inherited(int fd)
{
	int i = inherited_index(fd);
	if (i < 0 || nl_in_foreign_child())
		return;
	inherited[i] = inherited[--n_inherited];
}

/* The same for every fd of [lo, hi] (close_range, closefrom). */
static void forget_inherited_range(unsigned lo, unsigned hi)
{
	if (nl_in_foreign_child())
		return;
	for (int i = 0; i < n_inherited;) {
		unsigned fd = (unsigned)inherited[i].fd;
		if (fd >= lo && fd <= hi)
			inherited[i] = inherited[--n_inherited];
		else
			i++;
	}
}

static void stash_update(int fd, uint32_t set, uint32_t clear);

uint64_t nl_fd_created(int fd, enum nl_call call, const void *site,
		       int shim_cloexec)
{
	uint64_t stamp = generation_bump();
	/* A child sharing the parent's memory: the new fd is the child's
	 * alone, and so is what it says: close-on-exec by the shim or not,
	 * without the parent's keep bits for the number.  Recorded in the
	 * child's own view (the stash), which the readers take over the
	 * parent's slot; the parent's slot stays as it was. */
	if (in_shared_child()) {
		/* The high water is a bound for the walks, no mark: raising it
		 * costs the parent a few empty slots to look at. */
		if (shim_cloexec) {
			stash_update(fd, NL_FD_SHIM_CLOEXEC, NL_FD_KEEP_BITS);
			raise_high_water(fd);
		} else
			stash_update(fd, 0, NL_FD_KEEP_BITS | NL_FD_SHIM_CLOEXEC);
		return 0;
	}
	struct nl_fd_slot *s = slot_for(fd, 1);
	if (!s)
		return 0;
	/* Relaxed atomics: another thread may read the slot of an fd number
	 * being reused; it sees an old or a new value, never a torn one. */
	__atomic_store_n(&s->call, (uint16_t)call, __ATOMIC_RELAXED);
	__atomic_store_n(&s->kind, NL_KIND_UNKNOWN, __ATOMIC_RELAXED);
	__atomic_store_n(&s->site, (uintptr_t)site, __ATOMIC_RELAXED);
	/* Whose close-on-exec flag it is must be told apart from a file
	 * another thread opens onto the same number: the identity goes with
	 * SHIM_CLOEXEC too. */
	struct stat st;
	uint64_t ino = 0;
	__atomic_store_n(&s->stamp, stamp, __ATOMIC_RELAXED);
	if (shim_cloexec && nl_sys_fstat(fd, &st) == 0) {
		__atomic_store_n(&s->dev, st.st_dev, __ATOMIC_RELAXED);
		__atomic_store_n(&s->ino, st.st_ino, __ATOMIC_RELAXED);
		ino = (uint64_t)st.st_ino;
	}
	/* A new fd on the number: one more birth (only the interposer of
	 * the call that made it writes here now).  The keep bits of an fd
	 * it replaced (dup3 with O_CLOEXEC) stay while a fork is under way,
	 * as after a close (nl_fd_close_done): the fork may have copied the
	 * fds before the call and the memory after it.  Checked against the
	 * file the number holds, they keep nothing of another file, and a
	 * close-on-exec fd they keep the exec closes anyway. */
	uint32_t old = atomic_load_explicit(&s->bits, memory_order_relaxed);
	uint32_t word = ((old & ~NL_FD_FLAGS) + NL_FD_BIRTH_ONE) |
			(shim_cloexec ? NL_FD_SHIM_CLOEXEC : 0);
	if (__builtin_expect(old & NL_FD_KEEP_BITS, 0) && fork_under_way())
		word |= old & NL_FD_KEEP_BITS;
	atomic_store_explicit(&s->bits, word, memory_order_release);
	if (shim_cloexec)
		raise_high_water(fd);
	return ino;
}

/* This vfork child's own entry for fd, or NULL. */
static struct stash_entry *stash_find(int fd)
{
	if (stash.n == 0 || stash.pid != nl_sys_getpid())
		return NULL;
	for (int i = 0; i < stash.n; i++)
		if (stash_at(i)->fd == fd)
			return stash_at(i);
	return NULL;
}

static void stash_reset_if_stale(void)
{
	pid_t self = nl_sys_getpid();
	if (stash.pid != self) {
		stash.pid = self;
		stash.n = 0;
		stash.lost = 0;
	}
}

static void stash_update(int fd, uint32_t set, uint32_t clear)
{
	stash_reset_if_stale();
	for (int i = 0; i < stash.n; i++) {
		struct stash_entry *e = stash_at(i);
		if (e->fd == fd) {
			e->bits = (e->bits | set) & ~clear;
			e->cleared = (e->cleared | clear) & ~set;
			return;
		}
	}
	if (stash.n >= STASH_INLINE) {
		void *block = stash.more;
		size_t need = (size_t)(stash.n - STASH_INLINE + 1) *
			      sizeof *stash.more;
		if (nl_scratch_grow(&block, &stash.more_bytes, need) < 0) {
			stash.lost = 1;
			return;
		}
		stash.more = block;
	}
	struct stash_entry *e = stash_at(stash.n++);
	e->fd = fd;
	e->bits = set & ~clear;
	e->cleared = clear & ~set;
}

void nl_fd_mark(int fd, uint32_t bit)
{
	uint64_t stamp = generation_bump();
	if (nl_in_foreign_child()) {
		stash_update(fd, bit, 0);
		return;
	}
	struct stat st;
	if (nl_sys_fstat(fd, &st) == 0)
		mark_slot(fd, bit, &st, stamp);
}

uint32_t nl_fd_mark_before(int fd, uint32_t bit)
{
	/* A child sharing this memory marks its own view (the stash) after
	 * the call, as before: no fork of its parent copies that. */
	if (nl_in_foreign_child())
		return 0;
	uint64_t stamp = generation_bump();
	struct stat st;
	if (nl_sys_fstat(fd, &st) < 0)
		return 0;
	const struct nl_fd_slot *s = mark_slot(fd, bit, &st, stamp);
	return s ? (atomic_load(&s->bits) & ~NL_FD_FLAGS) | bit : 0;
}

/* The call failed (the fd was closed meanwhile): the bit comes off again,
 * unless a new fd was recorded on the number since. */
void nl_fd_mark_undo(int fd, uint32_t bit, uint32_t token)
{
	struct nl_fd_slot *s = token ? slot_for(fd, 0) : NULL;
	if (!s)
		return;
	uint32_t w = atomic_load(&s->bits);
	while ((w & ~NL_FD_FLAGS) == (token & ~NL_FD_FLAGS) && (w & bit) &&
	       !atomic_compare_exchange_weak(&s->bits, &w, w & ~bit))
		;
}

int nl_fd_dup_before(int oldfd, int newfd, enum nl_call call,
		     const void *site, struct nl_fd_saved *sv)
{
	struct stat st;
	if (newfd < 0 || newfd >= NL_FD_TABLE_SIZE || nl_in_foreign_child() ||
	    nl_sys_fstat(oldfd, &st) < 0)
		return 0;
	struct nl_fd_slot *s = slot_for(newfd, 1);
	if (!s)
		return 0;
	uint64_t stamp = generation_bump();
	uint32_t w = atomic_load(&s->bits);
	sv->word = w;
	sv->call = __atomic_load_n(&s->call, __ATOMIC_RELAXED);
	sv->kind = __atomic_load_n(&s->kind, __ATOMIC_RELAXED);
	sv->site = __atomic_load_n(&s->site, __ATOMIC_RELAXED);
	sv->dev = __atomic_load_n(&s->dev, __ATOMIC_RELAXED);
	sv->ino = __atomic_load_n(&s->ino, __ATOMIC_RELAXED);
	sv->stamp = __atomic_load_n(&s->stamp, __ATOMIC_RELAXED);
	/* As nl_fd_created and mark_slot would after the call, stamp and
	 * identity before the bits. */
	__atomic_store_n(&s->call, (uint16_t)call, __ATOMIC_RELAXED);
	__atomic_store_n(&s->kind, NL_KIND_UNKNOWN, __ATOMIC_RELAXED);
	__atomic_store_n(&s->site, (uintptr_t)site, __ATOMIC_RELAXED);
	__atomic_store_n(&s->stamp, stamp, __ATOMIC_RELAXED);
	__atomic_store_n(&s->dev, st.st_dev, __ATOMIC_RELAXED);
	__atomic_store_n(&s->ino, st.st_ino, __ATOMIC_RELAXED);
	sv->set = ((w & ~NL_FD_FLAGS) + NL_FD_BIRTH_ONE) | NL_FD_DELIBERATE;
	atomic_store_explicit(&s->bits, sv->set, memory_order_release);
	raise_high_water(newfd);
	return 1;
}

/* The slot as it was, if it is still as the failed call's record left it;
 * the birth count stays where it went. */
void nl_fd_dup_failed(int newfd, const struct nl_fd_saved *sv)
{
	struct nl_fd_slot *s = slot_for(newfd, 0);
	if (!s || atomic_load(&s->bits) != sv->set)
		return;
	__atomic_store_n(&s->call, sv->call, __ATOMIC_RELAXED);
	__atomic_store_n(&s->kind, sv->kind, __ATOMIC_RELAXED);
	__atomic_store_n(&s->site, sv->site, __ATOMIC_RELAXED);
	__atomic_store_n(&s->stamp, sv->stamp, __ATOMIC_RELAXED);
	__atomic_store_n(&s->dev, sv->dev, __ATOMIC_RELAXED);
	__atomic_store_n(&s->ino, sv->ino, __ATOMIC_RELAXED);
	uint32_t w = sv->set;
	atomic_compare_exchange_strong(&s->bits, &w,
				       (sv->set & ~NL_FD_FLAGS) |
					       (sv->word & NL_FD_FLAGS));
}

int nl_fd_cloexec_before(int fd)
{
	nl_exec_generation_bump();
	if (nl_in_foreign_child()) {
		stash_update(fd, 0, NL_FD_DELIBERATE | NL_FD_SHIM_CLOEXEC);
		return 0;
	}
	struct nl_fd_slot *s = slot_for(fd, 0);
	if (s && (atomic_load(&s->bits) & NL_FD_SHIM_CLOEXEC))
		atomic_fetch_and(&s->bits, ~(uint32_t)NL_FD_SHIM_CLOEXEC);
	return s != NULL;
}

void nl_fd_cloexec_done(int fd)
{
	struct nl_fd_slot *s = slot_for(fd, 0);
	if (s && (atomic_load(&s->bits) & NL_FD_DELIBERATE) &&
	    !fork_under_way())
		atomic_fetch_and(&s->bits, ~(uint32_t)NL_FD_DELIBERATE);
}

void nl_fd_unmark(int fd, uint32_t bit)
{
	nl_exec_generation_bump();
	if (nl_in_foreign_child()) {
		stash_update(fd, 0, bit);
		return;
	}
	struct nl_fd_slot *s = slot_for(fd, 0);
	if (s)
		atomic_fetch_and(&s->bits, ~bit);
}

/* close() is hot, so the common case costs the loads of one slot and a
 * store for each of its fields that is set.  A child sharing the parent's
 * memory closes its own copy: the parent's slot stays, the child's view
 * loses the keep bits (the stash). */
struct nl_fd_close nl_fd_closing(int fd)
{
	struct nl_fd_close c = { 0, 0 };
	/* The start-up list, as the bits: after the call (nl_fd_close_done). */
	if (__builtin_expect(n_inherited != 0, 0) && inherited_index(fd) >= 0)
		c.pending = 1;
	struct nl_fd_slot *s = slot_for(fd, 0);
	if (!s)
		return c;
	uint32_t word = atomic_load_explicit(&s->bits, memory_order_relaxed);
	uint32_t bits = word & NL_FD_FLAGS;
	uintptr_t site = __atomic_load_n(&s->site, __ATOMIC_RELAXED);
	uint8_t kind = __atomic_load_n(&s->kind, __ATOMIC_RELAXED);
	/* What a vfork child recorded of its own fd goes with it too: a
	 * number a raw system call takes next is nothing the shim knows. */
	if (!bits && !site && kind == NL_KIND_UNKNOWN) {
		if (__builtin_expect(stash.n != 0, 0) && in_shared_child() &&
		    stash_find(fd))
			stash_update(fd, 0, NL_FD_KEEP_BITS | NL_FD_SHIM_CLOEXEC);
		return c;
	}
	if (in_shared_child()) {
		if ((bits & NL_FD_KEEP_BITS) || stash_find(fd))
			stash_update(fd, 0, NL_FD_KEEP_BITS | NL_FD_SHIM_CLOEXEC);
		c.pending = 0;
		return c;
	}
	if ((bits & NL_FD_KEEP_BITS) && nl_in_foreign_child()) {
		stash_update(fd, 0, NL_FD_KEEP_BITS);
		c.pending = 0;
		return c;
	}
	/* The creator and the kind go with the fd: a number a raw system
	 * call takes next is "unseen" in the log, not the closed fd's call
	 * and site, and the read watchdog looks at what it is. */
	if (site)
		__atomic_store_n(&s->site, 0, __ATOMIC_RELAXED);
	if (kind != NL_KIND_UNKNOWN)
		__atomic_store_n(&s->kind, NL_KIND_UNKNOWN, __ATOMIC_RELAXED);
	if (bits) {
		c.word = word;
		c.pending = 1;
	}
	return c;
}

/* After the real close.  Taken off before it, the marks were missing in a
 * fork child made in between, which has the fd open; taken off after it
 * while a fork is under way, they could be missing too: the kernel copies
 * the fds before the memory.  So they stay then, on a number no fd holds,
 * until a new fd is recorded there; every reader checks them against the
 * file the number holds.  Nor do they go when another thread recorded a
 * new fd on the number since (the birth count in the word). */
void nl_fd_close_done(int fd, struct nl_fd_close c)
{
	if (fork_under_way())
		return;
	if (__builtin_expect(n_inherited != 0, 0))
		forget_inherited(fd);
	if (!(c.word & NL_FD_FLAGS))
		return;
	struct nl_fd_slot *s = slot_for(fd, 0);
	uint32_t w = c.word;
	if (s)
		atomic_compare_exchange_strong(&s->bits, &w,
					       c.word & ~NL_FD_FLAGS);
}

void nl_fd_closed(int fd)
{
	struct nl_fd_close c = nl_fd_closing(fd);
	if (c.pending)
		nl_fd_close_done(fd, c);
}

const struct nl_fd_slot *nl_fd_slot(int fd)
{
	return slot_for(fd, 0);
}

static int snap_counts(void);
static uint32_t snap_bits(int fd, const struct stat *st);

/* Whether the bits just read (acquire) from slot s were set after the
 * child this process is was made (see struct snap): one load, unless they
 * were set after the last snapshot this thread took. */
static int set_after_clone(const struct nl_fd_slot *s)
{
	return __atomic_load_n(&s->stamp, __ATOMIC_RELAXED) > snap.clock &&
	       snap_counts();
}

/* The table's bits for fd as this process may take them. */
static uint32_t table_bits(const struct nl_fd_slot *s)
{
	uint32_t bits = s ? atomic_load_explicit(&s->bits, memory_order_acquire) &
				    NL_FD_FLAGS
			  : 0;
	return bits && set_after_clone(s) ? 0 : bits;
}

uint32_t nl_fd_bits_here(int fd)
{
	uint32_t bits = table_bits(slot_for(fd, 0));
	/* The parent's bits but what the child took off, and the child's. */
	const struct stash_entry *e = stash_find(fd);
	return e ? (bits & ~e->cleared) | e->bits : bits;
}

int nl_fd_shim_cloexec_holds(int fd)
{
	/* A vfork child's record of an fd it made, or marked close-on-exec
	 * itself, describes its own fd. */
	const struct stash_entry *e = stash_find(fd);
	if (e && ((e->bits | e->cleared) & NL_FD_SHIM_CLOEXEC))
		return (e->bits & NL_FD_SHIM_CLOEXEC) != 0;
	/* The table's, for the file fd holds (another thread may be closing
	 * the fd and opening a file with O_CLOEXEC onto its number), and
	 * still set after the fstat. */
	const struct nl_fd_slot *s = slot_for(fd, 0);
	struct stat st;
	return (table_bits(s) & NL_FD_SHIM_CLOEXEC) &&
	       nl_sys_fstat(fd, &st) == 0 &&
	       st.st_dev == __atomic_load_n(&s->dev, __ATOMIC_RELAXED) &&
	       st.st_ino == __atomic_load_n(&s->ino, __ATOMIC_RELAXED) &&
	       (table_bits(s) & NL_FD_SHIM_CLOEXEC);
}

uint32_t nl_fd_keep_bits(int fd)
{
	/* The vfork child's own marks override the parent's for that fd. */
	const struct stash_entry *e = stash_find(fd);
	if (e)
		return e->bits & NL_FD_KEEP_BITS;
	const struct nl_fd_slot *s = slot_for(fd, 0);
	uint32_t bits = table_bits(s) & NL_FD_KEEP_BITS;
	int snapped = (snap.n || snap.lost) && snap_counts();
	int inherited_at = n_inherited ? inherited_index(fd) : -1;
	if (!bits && !snapped && inherited_at < 0)
		return 0;
	/* One look at the file for the three. */
	struct stat st;
	if (nl_sys_fstat(fd, &st) < 0)
		return 0;
	if (bits && (st.st_dev != __atomic_load_n(&s->dev, __ATOMIC_RELAXED) ||
		     st.st_ino != __atomic_load_n(&s->ino, __ATOMIC_RELAXED)))
		bits = 0;
	if (snapped)
		bits |= snap_bits(fd, &st);
	if (inherited_at >= 0 && st.st_dev == inherited[inherited_at].dev &&
	    st.st_ino == inherited[inherited_at].ino)
		bits |= NL_FD_INHERITED;
	return bits;
}

int nl_fd_high_water(void)
{
	return atomic_load_explicit(&high_water, memory_order_relaxed);
}

int nl_fd_stash_count(void)
{
	return stash.n && stash.pid == nl_sys_getpid() ? stash.n : 0;
}

int nl_fd_stash_fd(int i)
{
	return stash_at(i)->fd;
}

int nl_fd_stash_lost(void)
{
	return stash.lost && stash.pid == nl_sys_getpid();
}

void nl_fd_after_fork(void)
{
	/* Written only when set: a fork child shares the page with its
	 * parent until one of them writes it. */
	if (stash.n || stash.pid || stash.lost) {
		stash.n = 0;
		stash.pid = 0;
		stash.lost = 0;
	}
	nl_fd_snapshot_forget();
}

/* --- the snapshot of keep bits for a child sharing this memory --- */

static struct snap_entry *snap_entries(void)
{
	return snap.in_block ? snap.more : snap.first;
}

static void snap_add(int fd, uint32_t bits, dev_t dev, ino_t ino)
{
	if (snap.lost)
		return;
	size_t need = (size_t)(snap.n + 1) * sizeof *snap.more;
	if (snap.n >= SNAP_INLINE &&
	    nl_scratch_grow((void **)&snap.more, &snap.more_bytes, need) < 0) {
		snap.lost = 1;
		return;
	}
	if (snap.n == SNAP_INLINE && !snap.in_block) {
		memcpy(snap.more, snap.first, sizeof snap.first);
		snap.in_block = 1;
	}
	snap_entries()[snap.n++] = (struct snap_entry){ fd, bits, dev, ino };
}

/* Shell sort by fd, in place: the inherited list comes first, unsorted. */
static void snap_sort(void)
{
	struct snap_entry *e = snap_entries();
	for (int gap = snap.n / 2; gap > 0; gap /= 2)
		for (int i = gap; i < snap.n; i++) {
			struct snap_entry x = e[i];
			int j = i;
			for (; j >= gap && e[j - gap].fd > x.fd; j -= gap)
				e[j] = e[j - gap];
			e[j] = x;
		}
}

void nl_fd_snapshot_take(pid_t self)
{
	snap.taker = 0;
	snap.in_child = 0;
	snap.child = 0;
	/* Before any slot is read: what is stamped later is the child's to
	 * ignore. */
	snap.clock = atomic_load_explicit(&exec_generation, memory_order_acquire);
	snap.n = 0;
	snap.lost = 0;
	snap.in_block = 0;
	for (int i = 0; i < n_inherited; i++)
		snap_add(inherited[i].fd, NL_FD_INHERITED, inherited[i].dev,
			 inherited[i].ino);
	int high = nl_fd_high_water();
	for (int fd = 3; fd < high; fd++) {
		const struct nl_fd_slot *s = slot_for(fd, 0);
		uint32_t bits = s ? atomic_load_explicit(&s->bits,
							 memory_order_acquire) &
					    NL_FD_KEEP_BITS
				  : 0;
		if (bits)
			snap_add(fd, bits, __atomic_load_n(&s->dev, __ATOMIC_RELAXED),
				 __atomic_load_n(&s->ino, __ATOMIC_RELAXED));
	}
	snap_sort();
	/* posix_spawn's child says it is one (nl_fd_snapshot_child): its
	 * spawner does not ask its pid. */
	snap.taker = self;
}

void nl_fd_snapshot_forget(void)
{
	/* Written only when set (see nl_fd_after_fork). */
	if (snap.taker)
		snap.taker = 0;
	if (snap.in_child)
		snap.in_child = 0;
}

void nl_fd_snapshot_child(void)
{
	snap.in_child = 1;
}

/* Whether this process is the child the snapshot was taken for: its
 * parent took it.  The taker itself, back from its vfork, drops it.  Asked
 * only when the snapshot holds entries or a slot was stamped after it:
 * a child pays nothing otherwise. */
static int snap_counts(void)
{
	if (snap.in_child)
		return 1;
	pid_t taker = snap.taker;
	if (__builtin_expect(taker == 0, 1))
		return 0;
	pid_t self = nl_sys_getpid();
	if (self == taker) {
		snap.taker = 0;
		return 0;
	}
	if (self == snap.child)
		return 1;
	if (nl_sys_getppid() != taker)
		return 0;
	snap.child = self;
	return 1;
}

/* The keep bits the snapshot has for fd holding the file st. */
static uint32_t snap_bits(int fd, const struct stat *st)
{
	const struct snap_entry *e = snap_entries();
	int lo = 0, hi = snap.n;
	while (lo < hi) {       /* the first entry for fd or above */
		int mid = lo + (hi - lo) / 2;
		if (e[mid].fd < fd)
			lo = mid + 1;
		else
			hi = mid;
	}
	uint32_t bits = 0;
	for (; lo < snap.n && e[lo].fd == fd; lo++)
		if (e[lo].dev == st->st_dev && e[lo].ino == st->st_ino)
			bits |= e[lo].bits;
	return bits;
}

int nl_fd_snapshot_count(void)
{
	return snap.n && snap_counts() ? snap.n : 0;
}

int nl_fd_snapshot_fd(int i)
{
	const struct snap_entry *e = snap_entries();
	int fd = e[i].fd;
	/* Listed already, by what the sweep visits first: the entry before
	 * (the start-up list and the table may both have the fd), the
	 * start-up list (it never grows), the stash (this child's own), or a
	 * slot marked since before the clone (a mark set again since has a
	 * later stamp: the table walk may have missed it, so it counts as not
	 * listed). */
	if ((i > 0 && e[i - 1].fd == fd) || inherited_index(fd) >= 0 ||
	    stash_find(fd) || (table_bits(slot_for(fd, 0)) & NL_FD_KEEP_BITS))
		return -1;
	return fd;
}

int nl_fd_snapshot_lost(void)
{
	return snap.lost && snap_counts();
}

void nl_fd_range_changed(unsigned lo, unsigned hi, int cloexec)
{
	nl_exec_generation_bump();
	/* Closed, after the real call: as after close() (nl_fd_close_done),
	 * nothing goes while a fork is under way. */
	if (!cloexec && fork_under_way())
		return;
	/* Made close-on-exec: the shim's flag is the program's now; the
	 * deliberate mark stays while a fork is under way (as in
	 * nl_fd_cloexec_done). */
	uint32_t clear = NL_FD_SHIM_CLOEXEC;
	if (cloexec && !fork_under_way())
		clear |= NL_FD_DELIBERATE;
	/* Closed: what the program was handed there is gone, as after
	 * close() (those past the list's room are slots: cleared below). */
	if (!cloexec && n_inherited)
		forget_inherited_range(lo, hi);
	unsigned high = (unsigned)nl_fd_high_water();
	if (!cloexec && !nl_in_foreign_child()) {
		unsigned used = (unsigned)atomic_load_explicit(
			&used_high, memory_order_relaxed);
		high = used > high ? used : high;
	}
	if (hi >= high)
		hi = high ? high - 1 : 0;
	/* In a vfork child the parent's marks stay: the child's own view
	 * (the stash) loses them for the fds it made close-on-exec itself.
	 * Closed ones need nothing: the child's sweep checks each kept fd is
	 * still open. */
	if (nl_in_foreign_child()) {
		for (unsigned fd = lo; cloexec && fd <= hi && fd < high; fd++) {
			const struct nl_fd_slot *s = slot_for((int)fd, 0);
			if (!s)
				return;
			if (atomic_load(&s->bits) &
			    (NL_FD_DELIBERATE | NL_FD_SHIM_CLOEXEC))
				stash_update((int)fd, 0, NL_FD_DELIBERATE |
							 NL_FD_SHIM_CLOEXEC);
		}
		return;
	}
	for (unsigned fd = lo; fd <= hi && fd < high; fd++) {
		struct nl_fd_slot *s = slot_for((int)fd, 0);
		if (!s)
			return;
		if (cloexec) {
			atomic_fetch_and(&s->bits, ~clear);
			continue;
		}
		/* As nl_fd_closed: the creator and the kind go too, or a
		 * number a raw system call takes next passes for one the
		 * shim saw created. */
		if (__atomic_load_n(&s->site, __ATOMIC_RELAXED))
			__atomic_store_n(&s->site, 0, __ATOMIC_RELAXED);
		if (__atomic_load_n(&s->kind, __ATOMIC_RELAXED) != NL_KIND_UNKNOWN)
			__atomic_store_n(&s->kind, NL_KIND_UNKNOWN, __ATOMIC_RELAXED);
		if (atomic_load(&s->bits) & NL_FD_FLAGS)
			atomic_fetch_and(&s->bits, ~NL_FD_FLAGS);
	}
}

/* A character device that is no terminal (/dev/zero, /dev/urandom) stays
 * none: only a terminal's read is ever watched (watchdog.c), and asking
 * once here spares every read of dd bs=1 a TCGETS. */
static enum nl_fd_kind char_kind(int fd)
{
	struct termios t;
	return nl_sys_ioctl(fd, TCGETS, &t) == -ENOTTY ? NL_KIND_OTHER
						       : NL_KIND_TTY;
}

/* Cached per fd number.  A stale entry (fd closed and reused behind the
 * shim's back) costs the watchdog a needless non-blocking try or a missed
 * warning, never a wrong result. */
enum nl_fd_kind nl_fd_kind(int fd)
{
	struct nl_fd_slot *s = slot_for(fd, 1);
	uint8_t cached = s ? __atomic_load_n(&s->kind, __ATOMIC_RELAXED) : 0;
	if (cached != NL_KIND_UNKNOWN)
		return (enum nl_fd_kind)cached;
	struct stat st;
	enum nl_fd_kind k;
	if (nl_sys_fstat(fd, &st) < 0)
		return NL_KIND_OTHER;
	switch (st.st_mode & S_IFMT) {
	case S_IFIFO: k = NL_KIND_PIPE; break;
	case S_IFSOCK: k = NL_KIND_SOCKET; break;
	case S_IFCHR: k = char_kind(fd); break;
	default: k = NL_KIND_OTHER;
	}
	if (s)
		__atomic_store_n(&s->kind, (uint8_t)k, __ATOMIC_RELAXED);
	return k;
}
