/* The stderr output (log=stderr): the line goes to whatever fd 2 is.
 *
 * Chosen by the user for interactive runs, so fd 2 is taken as it is found
 * at each event: if the program redirected its stderr, the log follows. */
#include <errno.h>

#include "common/sys.h"
#include "log/output.h"

int nl_out_stderr_write(const char *line, size_t len)
{
	ssize_t n;

	do
		n = nl_sys_write(2, line, len);
	while (n == -EINTR);
	return n == (ssize_t)len ? (int)n : -1;
}
