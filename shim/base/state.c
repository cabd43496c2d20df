/* Per-process state: see state.h. */
#include "base/state.h"

#include "common/sys.h"

struct nl_proc nl_proc;

const struct nl_policy nl_pass_through = { .mode = NL_MODE_OFF };

int nl_in_foreign_child(void)
{
	return nl_foreign_pid(nl_sys_getpid());
}
