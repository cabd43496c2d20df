/* Real-symbol lookup: see real.h for why it looks the way it does. */
#include "common/errno.h"
#include "base/real.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#include "base/state.h"
#include "common/sys.h"
#include "common/str.h"
#include "common/target.h"

extern struct nl_real_sym __start_nl_real_syms[]
	__attribute__((weak, visibility("hidden")));
extern struct nl_real_sym __stop_nl_real_syms[]
	__attribute__((weak, visibility("hidden")));

/* initial-exec: a global-dynamic TLS access may itself allocate. */
static __thread int resolving __attribute__((tls_model("initial-exec")));

/* Every slot has been looked up, or none may be any more (a fork child of
 * a process that could not look them up): no lookup calls dlsym. */
static atomic_int complete;

/* A child made behind the shim's back: a pid other than the one init or
 * the fork interposer recorded (none yet: not a child). */
static int in_foreign_child(void)
{
	pid_t pid = nl_proc_pid();
	return pid != 0 && nl_sys_getpid() != pid;
}

/* The lookup itself, once the caller has checked that it may look up. */
static void *lookup(struct nl_real_sym *s)
{
	int saved = errno;
	resolving = 1;
#ifdef NL_LIBC_MUSL
	void *p = dlsym(RTLD_NEXT, s->name);  /* no symbol versions */
#else
	const char *version = s->name + nl_strlen(s->name) + 1;
	void *p = version[0] ? dlvsym(RTLD_NEXT, s->name, version)
			     : dlsym(RTLD_NEXT, s->name);
#endif
	resolving = 0;
	nl_errno_restore(saved);
	if (p)
		atomic_store_explicit(&s->addr, p, memory_order_release);
	return p;
}

void *nl_real_resolve(struct nl_real_sym *s)
{
	if (resolving ||
	    atomic_load_explicit(&complete, memory_order_acquire) ||
	    in_foreign_child())
		return NULL;
	return lookup(s);
}

/* The loop below asks whether it may look up once (one getpid()), not
 * once per slot: dash's first sigaction() asked 40 times. */
static void resolve_slot(struct nl_real_sym *s)
{
	if (!atomic_load_explicit(&s->addr, memory_order_acquire) && !resolving)
		(void)lookup(s);
}

void nl_real_resolve_all(void)
{
	if (atomic_load_explicit(&complete, memory_order_acquire) ||
	    resolving || in_foreign_child())
		return;
	for (struct nl_real_sym *s = __start_nl_real_syms;
	     s && s < __stop_nl_real_syms; s++)
		resolve_slot(s);
	atomic_store_explicit(&complete, 1, memory_order_release);
}

/* The fork interposer's parent looked every slot up before the fork
 * unless it could not: it was itself a child the shim did not see made
 * (or forked in the middle of a lookup).  Then this child may not either:
 * the loader's lock may have been held at that first fork by a thread it
 * has no copy of, and its lookups would wait for it forever.  Its pid is
 * the one the shim recorded, so only this stops them. */
void nl_real_after_fork_child(void)
{
	if (!atomic_load_explicit(&complete, memory_order_relaxed))
		atomic_store_explicit(&complete, 1, memory_order_release);
}
