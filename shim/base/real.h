/* Real-symbol lookup.
 *
 * Each interposer declares the libc function it forwards to with
 * NL_REAL_DECL(name) and calls it through NL_REAL(name).  The address is
 * looked up on first use with dlsym(RTLD_NEXT) (dlvsym for a versioned
 * symbol) and cached in an atomic slot.  The slots live in one linker
 * section so that nl_real_resolve_all() can fill every one of them before
 * fork(): a child of a multithreaded process must never call dlsym, whose
 * loader lock another thread may have held at the fork.
 *
 * A lookup that re-enters itself on the same thread (dlsym may call calloc,
 * and a malloc replacement may call open or read) yields NULL; every caller
 * then falls back to the raw system call or fails with ENOSYS. */
#ifndef NL_REAL_H
#define NL_REAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <unistd.h>

struct nl_real_sym {
	const char *name;
	const char *version;  /* NULL: default version */
	void *_Atomic addr;
};

#define NL_REAL_SECTION "nl_real_syms"

#define NL_REAL_DECL_AS(var, sym, ver)                                       \
	static struct nl_real_sym nl_real_##var                              \
	__attribute__((section(NL_REAL_SECTION), used, aligned(8))) =        \
		{ sym, ver, NULL }
#define NL_REAL_DECL(fn) NL_REAL_DECL_AS(fn, #fn, NULL)

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

/* Call the real `fn` with `args`, or, when its lookup recursed, make the
 * system call `sysargs` instead; the result has fn's type:
 *
 *   int r = NL_CALL_REAL(dup2, (oldfd, newfd), (SYS_dup3, oldfd, newfd, 0));
 */
#define NL_CALL_REAL(fn, args, sysargs)                                      \
	({                                                                   \
		__typeof__(&fn) real_ = NL_REAL(fn);                         \
		real_ ? real_ args : (__typeof__(fn args))syscall sysargs;   \
	})

/* Look up every declared symbol now (before fork). */
void nl_real_resolve_all(void);

#endif
