/* fork(): make sure the child never needs the dynamic loader.
 *
 * A child of a multithreaded process must not call dlsym (another thread
 * may have held the loader lock at the fork), so every real symbol is
 * looked up in the parent before the first fork. */
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"
#include "state.h"

static atomic_int resolved;

NL_REAL_DECL(fork);
NL_EXPORT pid_t fork(void)
{
	if (!atomic_load_explicit(&resolved, memory_order_relaxed)) {
		nl_real_resolve_all();
		atomic_store(&resolved, 1);
	}
	__typeof__(&fork) real = NL_REAL(fork);
	pid_t pid = real ? real() : (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		nl_after_fork_child();
	return pid;
}
