/* Per-process state: see state.h. */
#include "base/state.h"

#include <stddef.h>

#include "common/sys.h"

/* First in .bss, on the page of .data (shim/layout.ld): its first 512
 * bytes, which every start-up writes, cost no page of their own. */
struct nl_proc nl_proc __attribute__((section(".bss.nl_startup")));
_Static_assert(offsetof(struct nl_proc, pol) +
		       offsetof(struct nl_policy, config_path) + 64 <= 512,
	       "the fields every start-up writes, and the start of the config "
	       "file's path, in the 512 bytes layout.ld keeps on that page");

const struct nl_policy nl_pass_through = { .mode = NL_MODE_OFF };

int nl_in_foreign_child(void)
{
	pid_t pid = atomic_load_explicit(&nl_proc.pid, memory_order_relaxed);
	return nl_sys_getpid() != pid;
}
