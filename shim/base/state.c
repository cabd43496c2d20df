/* Per-process state: see state.h. */
#include "base/state.h"

#include "common/sys.h"

struct nl_proc nl_proc;

const struct nl_policy nl_pass_through = { .mode = NL_MODE_OFF };

int nl_in_foreign_child(void)
{
	pid_t pid = atomic_load_explicit(&nl_proc.pid, memory_order_relaxed);
	return nl_sys_getpid() != pid;
}
