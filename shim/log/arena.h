/* The arena: room for the shim's big buffers (an event line, a path,
 * a /proc listing) off the caller's stack.
 *
 * The shim runs on whatever stack the program gives it: a signal handler
 * on a MINSIGSTKSZ alternate stack, a thread with a 16 KiB stack.  So no
 * interposed call may take more than 1 KiB of stack on the paths of the
 * calls POSIX lists as async-signal-safe, nor 4 KiB on any path
 * (tests/stack/check.sh enforces both at build time).  Anything bigger
 * lives here.
 *
 *   size_t mark = nl_arena_enter();
 *   char *buf = nl_arena_get(4096);     NULL: none left, skip the work
 *   ...
 *   nl_arena_leave(mark);               frees everything got since enter
 *
 * Design.  Each thread borrows one arena (NL_ARENA_SIZE bytes) while it
 * is inside at least one enter/leave bracket, and allocates from it like a
 * stack: get() bumps a top, leave() puts the top back.  Arenas come from a
 * static pool claimed with a try-acquire flag, or, when all are taken, from
 * a private mmap() unmapped when the thread leaves its last bracket.  The
 * per-thread state is a few words of initial-exec TLS (no allocation: the
 * library is loaded at start-up, so its TLS is static); the arenas
 * themselves are not TLS, which glibc would carve out of every thread's
 * stack, used or not.
 *
 * Invariants, and why each context is safe:
 *  - No locks, no malloc, no loader: flags and two raw system calls.
 *  - Signal handlers: a handler that interrupts a bracket on the same
 *    thread allocates above the interrupted code's top and puts it back
 *    before returning; brackets nest like the handlers do.  The bracket
 *    count and the arena pointer are changed with single atomic operations,
 *    so a handler arriving between any two steps sees a consistent state.
 *  - vfork child: it runs on its parent thread's TLS and shares the pool;
 *    every bracket it opens it closes before exec or _exit (the shim never
 *    holds arena memory across a call into libc), so the parent finds the TLS
 *    and the pool as it left them, and no mapping is left behind.
 *  - fork child of a threaded process: arenas that other threads held at
 *    the fork are returned to the pool (nl_arena_after_fork); this
 *    thread's own stays with it.
 *  - A bracket left by siglongjmp() out of a handler is never closed: that
 *    thread keeps its arena (and the space it held) for good.  Nothing
 *    breaks; later brackets on that thread have less room.
 *  - Running out (arena full, or no pool slot and mmap fails) makes get()
 *    return NULL; callers then drop what they were building (an event is
 *    counted as dropped), never fall back to a big stack buffer. */
#ifndef NL_ARENA_H
#define NL_ARENA_H

#include <stddef.h>

#define NL_ARENA_SIZE (32 * 1024)

/* Opens a bracket; returns the mark to leave with. */
size_t nl_arena_enter(void);
/* n bytes (16-byte aligned) until the bracket closes, or NULL.  Only inside
 * a bracket. */
void *nl_arena_get(size_t n);
/* Closes the bracket opened by the enter that returned mark. */
void nl_arena_leave(size_t mark);

/* In a fork child: give back the arenas other threads held at the fork. */
void nl_arena_after_fork(void);

/* Tests: pool arenas currently claimed, and whether this thread has one. */
int nl_arena_pool_used(void);
int nl_arena_bound(void);

#endif
