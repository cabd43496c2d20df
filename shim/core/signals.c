/* The per-thread record of signal handlers that ran, and the questions
 * asked of it (signals.h); the trampoline that fills it is in
 * interpose/signal.c, with the interposers. */
#include "core/signals.h"

#include <signal.h>
#include <stdatomic.h>

#include "common/sys.h"

__thread struct nl_sig_record nl_sig_record
	__attribute__((tls_model("initial-exec")));

void *const *_Atomic nl_sig_trampolines;

static int is_trampoline(void *const *tramps, void *h)
{
	for (int i = 0; tramps && i < NL_SIG_TRAMPOLINES; i++)
		if (h == tramps[i])
			return 1;
	return 0;
}

int nl_signals_would_restart(struct nl_sig_mark m)
{
	unsigned last = nl_sig_record.last;
	if ((int)((last & ~1u) - m.seq) <= 0)
		return nl_signals_untracked_restart();
	return last & 1;
}

int nl_signals_untracked_restart(void)
{
	void *const *tramps = atomic_load_explicit(&nl_sig_trampolines,
						   memory_order_relaxed);
	for (int sig = 1; sig < _NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		struct nl_ksigaction k;
		if (nl_sys_sigaction(sig, NULL, &k) < 0)
			continue;
		if (k.handler == SIG_DFL || k.handler == SIG_IGN ||
		    is_trampoline(tramps, k.handler))
			continue;
		if (!(k.flags & SA_RESTART))
			return 0;
	}
	return 1;
}

