/* sigaction() and the signal() family: see signals.h for why handlers go
 * through a trampoline.
 *
 * glibc's signal(), sysv_signal(), sigset() and siginterrupt() call its
 * internal sigaction, which no preload sees, so they are reimplemented here
 * on the interposed one, with glibc 2.36's semantics: the same checks, the
 * same flags and mask given to the kernel, the same answers.  __sigaction,
 * glibc's other name of sigaction, is the same interposer.
 *
 * Each signal has NL_SIG_TRAMPOLINES trampolines, and trampoline i calls
 * the handler recorded at index i of the signal's slot.  A query past the
 * interposer (a raw rt_sigaction) learns the trampoline; a program that
 * gives that back to sigaction() gets the handler it stood for when it
 * learnt it, with the flags it gives: installed as that trampoline again,
 * never recorded as a handler of its own, which would call itself.  So that
 * an index keeps its handler while its trampoline may still be held, a new
 * handler takes the index that holds the same handler already, or else the
 * one whose handler was in force least recently: a program that learns a
 * handler, installs others and gives the old one back gets it back, as
 * without the shim, while at most NL_SIG_TRAMPOLINES - 1 other handlers
 * were in force since (README, Signals: Limits).
 *
 * Invariant: slots[sig].cur names the index of the last handler installed
 * through the interposer for sig exactly while that install gave the
 * kernel a trampoline; any other install through it clears it.  So a
 * kernel answer of SIG_DFL with cur set means the kernel reset the handler
 * on delivery (SA_RESETHAND), and the flags it reports are the
 * trampoline's. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "init.h"
#include "base/real.h"
#include "core/signals.h"
#include "core/watchdog.h"
#include "common/sys.h"
#include "common/target.h"

#ifndef SA_INTERRUPT
#define SA_INTERRUPT 0x20000000  /* glibc's name (musl lacks it); no effect */
#endif

typedef void (*sig_fn)(int);
typedef void (*siginfo_fn)(int, siginfo_t *, void *);

/* What the trampoline and the answers need of a handler's flags. */
enum { B_SIGINFO = 1, B_RESTART = 2, B_RESETHAND = 4 };

static unsigned char flag_bits(int flags)
{
	return (unsigned char)(((flags & SA_SIGINFO) ? B_SIGINFO : 0) |
			       ((flags & SA_RESTART) ? B_RESTART : 0) |
			       ((flags & SA_RESETHAND) ? B_RESETHAND : 0));
}

/* One signal's state, together: the program's handler behind each of its
 * trampolines, with what the program gave of its flags (B_*). */
struct sig_slot {
	void *_Atomic handler[NL_SIG_TRAMPOLINES];
	atomic_uchar bits[NL_SIG_TRAMPOLINES];
	atomic_uchar cur;           /* 1 + the index in force, 0: none */
	atomic_uchar order;         /* the indices, last in force first */
	/* siginterrupt() made the signal interrupting: signal() then leaves
	 * out SA_RESTART for it, as glibc's does. */
	atomic_uchar interrupting;
};
static struct sig_slot slots[_NSIG];

static inline __attribute__((always_inline)) void
run(int i, int sig, siginfo_t *info, void *ctx)
{
	/* A program may call a trampoline it learnt itself, with any sig. */
	if (sig <= 0 || sig >= _NSIG)
		return;
	struct sig_slot *s = &slots[sig];
	void *h = atomic_load_explicit(&s->handler[i], memory_order_acquire);
	int bits = atomic_load_explicit(&s->bits[i], memory_order_relaxed);
	/* Counted before the handler runs (it may longjmp away), and noted
	 * after it, in one store: the handler that returns last decides
	 * (signals.h). */
	unsigned seq = nl_sig_record.seq + 2;
	nl_sig_record.seq = seq;
	if (h) {
		if (bits & B_SIGINFO)
			((siginfo_fn)h)(sig, info, ctx);
		else
			((sig_fn)h)(sig);
	}
	nl_sig_record.errno_after = errno;
	atomic_signal_fence(memory_order_seq_cst);
	nl_sig_record.last = seq | ((bits & B_RESTART) ? 1u : 0u);
}

#define TRAMPOLINE(i)                                                        \
	static void trampoline##i(int sig, siginfo_t *info, void *ctx)       \
	{                                                                    \
		run(i, sig, info, ctx);                                      \
	}
TRAMPOLINE(0)
TRAMPOLINE(1)
TRAMPOLINE(2)
TRAMPOLINE(3)
_Static_assert(NL_SIG_TRAMPOLINES == 4, "one TRAMPOLINE() per index");

static void *const trampolines[NL_SIG_TRAMPOLINES] = {
	(void *)trampoline0, (void *)trampoline1, (void *)trampoline2,
	(void *)trampoline3,
};

/* The index of a trampoline, or -1 for any other handler. */
static int trampoline_index(void *h)
{
	for (int i = 0; i < NL_SIG_TRAMPOLINES; i++)
		if (h == trampolines[i])
			return i;
	return -1;
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
 * socket timeouts in this process (enforce), or reads and waits are
 * watched (read_warn with a log; the watchdog, poll.c's split waits), and
 * the caller is not a vfork child, whose changes to the shared slots would
 * mislead its parent.  Audit without a log, or with the watchdog off,
 * leaves the program's handlers as they are. */
static int use_trampoline(int sig, const struct sigaction *act)
{
	return sig > 0 && sig < _NSIG && sig != SIGKILL && sig != SIGSTOP &&
	       is_handler((void *)act->sa_handler) && nl_fd_policy_active() &&
	       (nl_mode() == NL_MODE_ENFORCE || nl_watching_reads()) &&
	       !nl_in_foreign_child();
}

/* sig_slot.order: the four indices, two bits each, the one in force most
 * recently in the lowest bits; stored XORed with 0xe4 so that the zeroed
 * slot holds 0, 1, 2, 3. */
#define ORDER_ZERO 0xe4
static int order_at(unsigned order, int pos)
{
	return (int)(((order ^ ORDER_ZERO) >> (2 * pos)) & 3);
}

/* Index i comes first, the others keep their order. */
static void order_first(struct sig_slot *s, int i)
{
	unsigned char was = atomic_load(&s->order), now;
	do {
		unsigned o = (unsigned)i;
		for (int pos = 0, k = 1; pos < NL_SIG_TRAMPOLINES; pos++)
			if (order_at(was, pos) != i)
				o |= (unsigned)order_at(was, pos) << (2 * k++);
		now = (unsigned char)(o ^ ORDER_ZERO);
	} while (now != was &&
		 !atomic_compare_exchange_weak(&s->order, &was, now));
}

/* The index a new handler takes: the one that stands for the same handler
 * already (its trampoline means the same to whoever holds it), else the
 * one in force least recently, never the one in force (`cur`: 1 + its
 * index, or 0). */
static int pick_index(struct sig_slot *s, void *h, unsigned char bits,
		      int cur)
{
	for (int i = 0; i < NL_SIG_TRAMPOLINES; i++)
		if (atomic_load(&s->handler[i]) == h &&
		    !((atomic_load(&s->bits[i]) ^ bits) & B_SIGINFO))
			return i;
	unsigned order = atomic_load(&s->order);
	int i = order_at(order, NL_SIG_TRAMPOLINES - 1);
	return i == cur - 1 ? order_at(order, NL_SIG_TRAMPOLINES - 2) : i;
}

/* What the slot held before a change: `cur` and the bits of the handler
 * then in force, and index `i`'s handler and bits before they were
 * rewritten (i: -1 when none was). */
struct sig_before {
	int cur;
	unsigned cur_bits;
	int i;
	void *h;
	unsigned bits;
};

/* A kernel answer naming a trampoline becomes the handler it stood for,
 * with the program's SA_SIGINFO.  After an SA_RESETHAND delivery the
 * kernel answers SIG_DFL but keeps the trampoline's flags: the program's
 * SA_SIGINFO again.  A SIG_DFL set since by a call the shim does not see
 * (glibc's ssignal) comes with flags of its own, without SA_RESETHAND. */
static void translate_old(struct sigaction *old, struct sig_slot *s,
			  const struct sig_before *b)
{
	int i = s ? trampoline_index((void *)old->sa_sigaction) : -1;
	unsigned bits = b->cur_bits;
	if (i >= 0 && i == b->i) {
		old->sa_sigaction = (siginfo_fn)b->h;
		bits = b->bits;
	} else if (i >= 0) {
		old->sa_sigaction = (siginfo_fn)atomic_load(&s->handler[i]);
		bits = atomic_load(&s->bits[i]);
	} else if (!b->cur || old->sa_handler != SIG_DFL ||
		   !(bits & B_RESETHAND) || !(old->sa_flags & SA_RESETHAND)) {
		return;
	}
	old->sa_flags = (old->sa_flags & ~SA_SIGINFO) |
			((bits & B_SIGINFO) ? SA_SIGINFO : 0);
}

NL_REAL_DECL(sigaction);
static int do_sigaction(int sig, const struct sigaction *act,
			struct sigaction *old)
{
	__typeof__(&sigaction) real = NL_REAL(sigaction);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	/* Every real symbol looked up before the first handler can run: a
	 * handler's calls never enter the loader (base/real.h). */
	if (act && is_handler((void *)act->sa_handler))
		nl_real_resolve_all();
	int in_range = sig > 0 && sig < _NSIG;
	struct sig_slot *s = in_range ? &slots[sig] : NULL;
	if (!act || !use_trampoline(sig, act)) {
		struct sig_before b = { s ? atomic_load(&s->cur) : 0, 0, -1,
					NULL, 0 };
		if (b.cur)
			b.cur_bits = atomic_load(&s->bits[b.cur - 1]);
		int r = real(sig, act, old);
		if (r == 0 && old)
			translate_old(old, s, &b);
		/* Stored only when it changes: a fork child that sets
		 * SIG_DFL copies no page for it. */
		if (r == 0 && act && b.cur && !nl_in_foreign_child())
			atomic_store(&s->cur, 0);
		return r;
	}
	/* Copied first: act and old may be the same struct. */
	struct sigaction t = *act;
	void *mine = (void *)act->sa_handler;
	unsigned char bits = flag_bits(act->sa_flags);
	atomic_store_explicit(&nl_sig_trampolines, trampolines,
			      memory_order_relaxed);
	int i = trampoline_index(mine);
	if (i >= 0) {
		/* A trampoline learnt past the interposer, given back: the
		 * handler it stands for, with the flags given and its own
		 * SA_SIGINFO (the kernel was told SA_SIGINFO for it). */
		mine = atomic_load(&s->handler[i]);
		bits = (unsigned char)((bits & ~B_SIGINFO) |
				       (atomic_load(&s->bits[i]) & B_SIGINFO));
	} else {
		i = pick_index(s, mine, bits, atomic_load(&s->cur));
	}
	/* Exchanged, not read and then written: of two threads installing
	 * handlers at once, the later learns the earlier's, unless the
	 * kernel, which sees the trampoline only, takes the two calls in the
	 * other order (README, Known limits). */
	struct sig_before b = { 0, 0, i, NULL, 0 };
	b.bits = atomic_exchange(&s->bits[i], bits);
	b.h = atomic_exchange_explicit(&s->handler[i], mine,
				       memory_order_acq_rel);
	b.cur = atomic_exchange(&s->cur, (unsigned char)(i + 1));
	if (b.cur)
		b.cur_bits = b.cur == i + 1 ? b.bits
					    : atomic_load(&s->bits[b.cur - 1]);
	order_first(s, i);
	t.sa_sigaction = (siginfo_fn)trampolines[i];
	t.sa_flags |= SA_SIGINFO;
	int r = real(sig, &t, old);
	if (r != 0) {
		int e = errno;
		unsigned char mine_cur = (unsigned char)(i + 1);
		if (atomic_compare_exchange_strong(&s->cur, &mine_cur,
						   (unsigned char)b.cur)) {
			atomic_store(&s->handler[i], b.h);
			atomic_store(&s->bits[i], (unsigned char)b.bits);
		}
		errno = e;
		return r;
	}
	if (old)
		translate_old(old, s, &b);
	return r;
}

NL_EXPORT int sigaction(int sig, const struct sigaction *act,
			struct sigaction *old)
{
	nl_enter();
	return do_sigaction(sig, act, old);
}

#ifndef NL_LIBC_MUSL
/* glibc exports its sigaction under this name too (musl does not). */
int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);
NL_EXPORT int __sigaction(int sig, const struct sigaction *act,
			  struct sigaction *old)
{
	nl_enter();
	return do_sigaction(sig, act, old);
}
#endif

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
	int intr = sig > 0 && sig < _NSIG &&
		   atomic_load(&slots[sig].interrupting);
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
 * signal was blocked before.  Async-signal-safe (POSIX.1-2017): one struct
 * sigaction, which sigaction() both reads and answers in, and whose mask
 * takes the old signal mask: within the 1 KiB of such a call. */
NL_EXPORT sighandler_t sigset(int sig, sighandler_t h)
{
	nl_enter();
	sigset_t set;
	struct sigaction act;
	sigemptyset(&set);
	if (sigaddset(&set, sig) < 0)
		return SIG_ERR;
	if (h == SIG_HOLD) {
		if (sigprocmask(SIG_BLOCK, &set, &act.sa_mask) < 0)
			return SIG_ERR;
		if (sigismember(&act.sa_mask, sig))
			return SIG_HOLD;
		if (sigaction(sig, NULL, &act) < 0)
			return SIG_ERR;
		return act.sa_handler;
	}
	memset(&act, 0, sizeof act);
	act.sa_handler = h;
	sigemptyset(&act.sa_mask);
	if (sigaction(sig, &act, &act) < 0)
		return SIG_ERR;
	if (sigprocmask(SIG_UNBLOCK, &set, &act.sa_mask) < 0)
		return SIG_ERR;
	return sigismember(&act.sa_mask, sig) ? SIG_HOLD : act.sa_handler;
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
	atomic_store(&slots[sig].interrupting, flag != 0);
	if (flag)
		act.sa_flags &= ~SA_RESTART;
	else
		act.sa_flags |= SA_RESTART;
	return sigaction(sig, &act, NULL);
}
