/* sigaction() and the signal() family: see signals.h for why handlers go
 * through a trampoline.
 *
 * glibc's signal(), sysv_signal(), sigset() and siginterrupt() call its
 * internal sigaction, which no preload sees, so they are reimplemented here
 * on the interposed one, with glibc 2.36's semantics: the same checks, the
 * same flags and mask given to the kernel, the same answers.
 *
 * Invariant: slots[sig].handler is set exactly while the last handler
 * installed through the interposer for sig was given to the kernel as the
 * trampoline; any other install through it clears the slot.  So a kernel
 * answer of SIG_DFL with a slot set means the kernel reset the handler on
 * delivery (SA_RESETHAND), and the flags it reports are the trampoline's. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "init.h"
#include "base/real.h"
#include "core/signals.h"
#include "common/sys.h"

#ifndef SA_INTERRUPT
#define SA_INTERRUPT 0x20000000  /* glibc's name (musl lacks it); no effect */
#endif

typedef void (*sig_fn)(int);
typedef void (*siginfo_fn)(int, siginfo_t *, void *);

/* The program's handler for each signal while the kernel has the
 * trampoline, and the flags the program gave. */
struct sig_slot {
	void *_Atomic handler;
	atomic_int flags;
};
static struct sig_slot slots[_NSIG];

/* Signals siginterrupt() made interrupting: signal() then leaves out
 * SA_RESTART for them, as glibc's does. */
static atomic_uchar interrupting[_NSIG];

static void trampoline(int sig, siginfo_t *info, void *ctx)
{
	struct sig_slot *s = &slots[sig];
	void *h = atomic_load_explicit(&s->handler, memory_order_acquire);
	int flags = atomic_load_explicit(&s->flags, memory_order_relaxed);
	/* Counted before the handler runs (it may longjmp away), and noted
	 * after it, in one store: the handler that returns last decides
	 * (signals.h). */
	unsigned seq = nl_sig_record.seq + 2;
	nl_sig_record.seq = seq;
	if (h) {
		if (flags & SA_SIGINFO)
			((siginfo_fn)h)(sig, info, ctx);
		else
			((sig_fn)h)(sig);
	}
	nl_sig_record.last = seq | ((flags & SA_RESTART) ? 1u : 0u);
}

static int is_handler(void *h)
{
	return h != (void *)SIG_DFL && h != (void *)SIG_IGN &&
	       h != (void *)SIG_ERR
#ifdef SIG_HOLD
	       && h != (void *)SIG_HOLD
#endif
		;
}

/* Whether a handler for sig goes through the trampoline: the shim may set
 * socket timeouts in this process, and the caller is not a vfork child,
 * whose changes to the shared slots would mislead its parent. */
static int use_trampoline(int sig, const struct sigaction *act)
{
	return sig > 0 && sig < _NSIG && sig != SIGKILL && sig != SIGSTOP &&
	       is_handler((void *)act->sa_handler) && nl_fd_policy_active() &&
	       !nl_in_foreign_child();
}

/* A kernel answer naming the trampoline becomes the program's handler,
 * with the program's SA_SIGINFO.  After an SA_RESETHAND delivery the
 * kernel answers SIG_DFL but keeps the trampoline's flags: the program's
 * SA_SIGINFO again.  A SIG_DFL set since by a call the shim does not see
 * (glibc's ssignal) comes with flags of its own, without SA_RESETHAND. */
static void translate_old(struct sigaction *old, void *handler, int flags)
{
	if ((void *)old->sa_sigaction == (void *)trampoline)
		old->sa_sigaction = (siginfo_fn)handler;
	else if (!handler || old->sa_handler != SIG_DFL ||
		 !(flags & SA_RESETHAND) || !(old->sa_flags & SA_RESETHAND))
		return;
	old->sa_flags = (old->sa_flags & ~SA_SIGINFO) | (flags & SA_SIGINFO);
}

NL_REAL_DECL(sigaction);
NL_EXPORT int sigaction(int sig, const struct sigaction *act,
			struct sigaction *old)
{
	nl_enter();
	__typeof__(&sigaction) real = NL_REAL(sigaction);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	if (act && is_handler((void *)act->sa_handler))
		nl_real_resolve_for_handlers();
	int in_range = sig > 0 && sig < _NSIG;
	struct sig_slot *s = in_range ? &slots[sig] : NULL;
	if (!act || !use_trampoline(sig, act)) {
		void *prev_h = s ? atomic_load(&s->handler) : NULL;
		int prev_flags = s ? atomic_load(&s->flags) : 0;
		int r = real(sig, act, old);
		if (r == 0 && old)
			translate_old(old, prev_h, prev_flags);
		if (r == 0 && act && s && !nl_in_foreign_child())
			atomic_store(&s->handler, NULL);
		return r;
	}
	/* Copied first: act and old may be the same struct. */
	struct sigaction t = *act;
	void *mine = (void *)act->sa_handler;
	atomic_store_explicit(&nl_sig_trampoline, (void *)trampoline,
			      memory_order_relaxed);
	/* Exchanged, not read and then written: of two threads installing
	 * handlers at once, the later learns the earlier's, unless the
	 * kernel, which sees the trampoline only, takes the two calls in the
	 * other order (README, Known limits). */
	int prev_flags = atomic_exchange_explicit(&s->flags, act->sa_flags,
						  memory_order_relaxed);
	void *prev_h = atomic_exchange_explicit(&s->handler, mine,
						memory_order_acq_rel);
	t.sa_sigaction = trampoline;
	t.sa_flags |= SA_SIGINFO;
	int r = real(sig, &t, old);
	if (r != 0) {
		int e = errno;
		if (atomic_compare_exchange_strong(&s->handler, &mine, prev_h))
			atomic_store(&s->flags, prev_flags);
		errno = e;
		return r;
	}
	if (old)
		translate_old(old, prev_h, prev_flags);
	return r;
}

/* One handler change through the interposed sigaction; returns the
 * previous handler or SIG_ERR.  glibc refuses SIG_ERR as a handler. */
static sighandler_t install(int sig, sighandler_t h, int flags)
{
	if (h == SIG_ERR || sig <= 0 || sig >= _NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	struct sigaction act, old;
	memset(&act, 0, sizeof act);
	act.sa_handler = h;
	sigemptyset(&act.sa_mask);
	/* Not sigaddset(): it refuses glibc's internal signals, which
	 * sigaction() below refuses with the same EINVAL. */
	if (!(flags & SA_NODEFER))
		((unsigned char *)&act.sa_mask)[(sig - 1) / 8] |=
			(unsigned char)(1U << ((sig - 1) % 8));
	act.sa_flags = flags;
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

/* BSD semantics, glibc's signal() under _DEFAULT_SOURCE: restarting unless
 * siginterrupt() said otherwise, the signal blocked in its handler. */
NL_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	nl_enter();
	int intr = sig > 0 && sig < _NSIG && atomic_load(&interrupting[sig]);
	return install(sig, h, intr ? 0 : SA_RESTART);
}

NL_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h)
{
	nl_enter();
	return signal(sig, h);
}

/* glibc's third name for signal(). */
sighandler_t ssignal(int sig, sighandler_t h);
NL_EXPORT sighandler_t ssignal(int sig, sighandler_t h)
{
	nl_enter();
	return signal(sig, h);
}

/* System V semantics, what strict ISO C programs get from signal(): the
 * handler is reset on delivery and calls are not restarted. */
NL_EXPORT sighandler_t sysv_signal(int sig, sighandler_t h)
{
	nl_enter();
	return install(sig, h, SA_RESETHAND | SA_NODEFER | SA_INTERRUPT);
}

NL_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t h)
{
	nl_enter();
	return sysv_signal(sig, h);
}

/* System V's sigset(): a handler with no flags and an empty mask, and the
 * signal unblocked; SIG_HOLD blocks it instead.  Returns SIG_HOLD when the
 * signal was blocked before. */
NL_EXPORT sighandler_t sigset(int sig, sighandler_t h)
{
	nl_enter();
	sigset_t set, oset;
	struct sigaction act, old;
	sigemptyset(&set);
	if (sigaddset(&set, sig) < 0)
		return SIG_ERR;
	if (h == SIG_HOLD) {
		if (sigprocmask(SIG_BLOCK, &set, &oset) < 0)
			return SIG_ERR;
		if (sigismember(&oset, sig))
			return SIG_HOLD;
		if (sigaction(sig, NULL, &old) < 0)
			return SIG_ERR;
		return old.sa_handler;
	}
	memset(&act, 0, sizeof act);
	act.sa_handler = h;
	sigemptyset(&act.sa_mask);
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	if (sigprocmask(SIG_UNBLOCK, &set, &oset) < 0)
		return SIG_ERR;
	return sigismember(&oset, sig) ? SIG_HOLD : old.sa_handler;
}

NL_EXPORT int siginterrupt(int sig, int flag)
{
	nl_enter();
	if (sig <= 0 || sig >= _NSIG) {
		errno = EINVAL;
		return -1;
	}
	struct sigaction act;
	if (sigaction(sig, NULL, &act) < 0)
		return -1;
	atomic_store(&interrupting[sig], flag != 0);
	if (flag)
		act.sa_flags &= ~SA_RESTART;
	else
		act.sa_flags |= SA_RESTART;
	return sigaction(sig, &act, NULL);
}
