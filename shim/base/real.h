/* Real-symbol lookup.
 *
 * Each interposer declares the libc function it forwards to with
 * NL_REAL_DECL(name) and calls it through NL_REAL(name).  The address is
 * looked up on first use with dlsym(RTLD_NEXT) (dlvsym for a versioned
 * symbol) and cached in an atomic slot.
 *
 * A child of a multithreaded process must never call dlsym: another thread
 * may have held the loader lock at the fork, and the child would wait for
 * it forever.  So:
 *   - the slots live in one linker section, and nl_real_resolve_all() fills
 *     every one of them before anything can make a second thread or a child
 *     (pthread_create, fork, vfork, _Fork, clone: their interposers call
 *     it first).  It runs once; from then on no lookup calls dlsym again,
 *     not even for a symbol libc lacks;
 *   - a signal handler never calls dlsym (a handler may interrupt the
 *     loader itself, and dlsym's frames, some 1 KiB, would take a
 *     MINSIGSTKSZ stack past the shim's budget): the sigaction interposer
 *     calls nl_real_resolve_all() before it installs the first handler, so
 *     that a handler finds every slot looked up and the lookup closed,
 *     whatever it calls: the exec family, __open_2, and fork and _Fork,
 *     whose own nl_real_resolve_all() is then one load.  No list of the
 *     calls a handler may make (signal-safety(7)) is kept here to drift
 *     from the interposers: every slot is one.  (Looking up only such a
 *     list cost no less time: each slot's name was compared against it.)
 *   - a child the shim did not see forking (made by syscall(SYS_clone) or
 *     before any of those) never calls dlsym either, nor do the children
 *     it forks: an unresolved slot yields NULL there, and the caller falls
 *     back to the raw system call (the exec family, dup2, dup3, close,
 *     open, fcntl, setsid, ...) or fails with ENOSYS.
 * Resolving eagerly at start-up instead would cost every process some 90
 * lookups; programs that never install a handler, start a thread or make
 * a child never pay.
 *
 * A lookup that re-enters itself on the same thread (dlsym may call calloc,
 * and a malloc replacement may call open or read) also yields NULL. */
#ifndef NL_REAL_H
#define NL_REAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <unistd.h>

/* 8-aligned as a type, so that its size is the spacing of the slots in the
 * section on every target (8 bytes on i386, 16 on 64-bit targets); each
 * slot is aligned(8) itself, so that the compiler never spaces them wider
 * (x86_64 aligns a large enough object to 16 unless told).  Two words: the
 * slots share one page with the state every start-up writes (layout.ld),
 * and a third word each took 0.7 KiB of it. */
struct nl_real_sym {
	/* The symbol's name, then after its NUL the version to ask for, ""
	 * for the default one: "posix_spawn\0GLIBC_2.2.5" (real.c, lookup) */
	const char *name;
	void *_Atomic addr;
} __attribute__((aligned(8)));

#define NL_REAL_SECTION "nl_real_syms"

/* `sym` and `ver` string literals; ver "" for the default version. */
#define NL_REAL_DECL_AS(var, sym, ver)                                       \
	static struct nl_real_sym nl_real_##var                              \
	__attribute__((section(NL_REAL_SECTION), used, aligned(8))) =        \
		{ sym "\0" ver, NULL }
#define NL_REAL_DECL(fn) NL_REAL_DECL_AS(fn, #fn, "")

void *nl_real_resolve(struct nl_real_sym *s);

static inline void *nl_real_get(struct nl_real_sym *s)
{
	void *p = atomic_load_explicit(&s->addr, memory_order_acquire);
	return __builtin_expect(p != NULL, 1) ? p : nl_real_resolve(s);
}

/* The real function, typed like the libc declaration of `fn`. */
#define NL_REAL(fn) ((__typeof__(&fn))nl_real_get(&nl_real_##fn))
/* The same for a slot declared with NL_REAL_DECL_AS and an explicit type. */
#define NL_REAL_AS(var, type) ((type)nl_real_get(&nl_real_##var))

/* Call the real `fn` with `args`, or, when its lookup recursed or is not
 * allowed (a child the shim did not see forking), make the system call
 * `sysargs` instead; the result has fn's type:
 *
 *   int r = NL_CALL_REAL(dup2, (oldfd, newfd), (SYS_dup3, oldfd, newfd, 0));
 */
#define NL_CALL_REAL(fn, args, sysargs)                                      \
	({                                                                   \
		__typeof__(&fn) real_ = NL_REAL(fn);                         \
		real_ ? real_ args : (__typeof__(fn args))syscall sysargs;   \
	})

/* Look up every declared symbol now, once (before a thread, a child or a
 * signal handler can exist); one load after the first call. */
void nl_real_resolve_all(void);

/* In a fork child the shim saw made, first thing: no lookup at all when
 * the parent had not looked every symbol up (it was a child the shim did
 * not see made, which could not). */
void nl_real_after_fork_child(void);

#endif
