/* Signal handlers and system-call restarts.
 *
 * The kernel restarts a blocking call interrupted by a handler installed
 * with SA_RESTART, but not a read or write on a socket that has a timeout:
 * there the call fails with EINTR whatever the handler's flags.  Once the
 * shim has given a socket a timeout, it must restart such calls itself to
 * keep the program's signal semantics, so it needs to know whether the
 * handler that interrupted a call had SA_RESTART.
 *
 * sigaction() and signal() are interposed.  A handler the program installs
 * is recorded per signal, with its flags, and the kernel is given a
 * trampoline with the same flags, mask and stack: it notes in a per-thread
 * record that a handler ran and whether it had SA_RESTART, then calls the
 * program's handler.  sigaction() queries report the program's handler, never
 * the trampoline, and a trampoline learnt past the interposer and given
 * back to sigaction() installs the handler it stands for.
 *
 * Which handler decides: the kernel decides from the handler of the signal
 * it delivered first, the one that interrupted the call.  Signals pending
 * together are delivered in one go, each frame on top of the last, so the
 * first delivered runs last; a signal delivered while a handler runs nests
 * inside it.  Either way the first delivered is the handler that returns
 * last, into the interrupted call.  So the trampoline notes, as it returns,
 * which handler that was and its SA_RESTART, in one store (a handler that
 * nests in the trampoline's own code cannot tear it).
 *
 * Use around one blocking call:
 *
 *   struct nl_sig_mark m = nl_signals_mark();
 *   r = the call;
 *   if (r < 0 && errno == EINTR && nl_signals_would_restart(m)) retry;
 *
 * The mark costs a thread-local read: no system call. */
#ifndef NL_SIGNALS_H
#define NL_SIGNALS_H

struct nl_sig_mark {
	unsigned seq;
};

/* The per-thread record; a handler trampoline updates it. */
struct nl_sig_record {
	unsigned seq;            /* 2 for each handler entered on this thread */
	unsigned last;           /* the seq the last handler to return got at
				  * its entry, | 1 when it had SA_RESTART */
	int errno_after;         /* errno as the last handler to return left
				  * it (glibc saves nothing around one) */
};
extern __thread struct nl_sig_record nl_sig_record
	__attribute__((tls_model("initial-exec"), visibility("hidden")));

/* Remember where this thread is before a blocking call. */
static inline struct nl_sig_mark nl_signals_mark(void)
{
	struct nl_sig_mark m = { nl_sig_record.seq };
	return m;
}

/* Whether the kernel would have restarted a call begun at `m` that failed
 * with EINTR, had the fd no timeout: the handler that returned last on
 * this thread, when it entered after the mark, had SA_RESTART (the handler
 * that interrupted the call: see above).  Handlers that ran inside it, or
 * were delivered with it, do not count.  When none returned through the
 * trampoline (a stop signal and SIGCONT, which interrupt timed socket
 * calls too), the trampolined handlers certainly did not interrupt it; the
 * answer is then whether every other handler installed (behind the
 * interposer's back, with a raw system call) has SA_RESTART, vacuously
 * true when there is none. */
int nl_signals_would_restart(struct nl_sig_mark m);

/* What errno is after the kernel restarts a call begun at `m` with errno
 * `before` (a restart leaves errno alone: no EINTR): as the handler that
 * returned last on this thread left it, when it entered after the mark;
 * else, no handler through the trampoline (a stop and SIGCONT), `before`. */
static inline int nl_signals_errno_since(struct nl_sig_mark m, int before)
{
	unsigned last = __atomic_load_n(&nl_sig_record.last, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if ((int)((last & ~1u) - m.seq) <= 0)
		return before;
	return nl_sig_record.errno_after;
}
/* The trampolines: the kernel holds one of them for every signal whose
 * handler went through the interposer (each stands for one of the
 * handlers recorded for the signal: interpose/signal.c).  The table of
 * them, set by the interposer before the first install. */
#define NL_SIG_TRAMPOLINES 4
extern void *const *_Atomic nl_sig_trampolines
	__attribute__((visibility("hidden")));

/* Whether every handler installed in the process that is not the
 * trampoline has SA_RESTART (the kernel's view).  Costs one rt_sigaction
 * per signal: rare paths only. */
int nl_signals_untracked_restart(void);

#endif
