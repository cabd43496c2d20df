/* stdin=detach: a daemon-like program must not block, or fail, reading a
 * terminal that is not its own any more.
 *
 * At start-up, when fd 0 is a terminal and the process has no controlling
 * terminal or is not in its foreground group (started with `nohup … &`),
 * fd 0 becomes /dev/null.  When a read on fd 0 from a terminal fails with
 * EIO because the terminal hung up, fd 0 becomes /dev/null and the read
 * returns end-of-file; an EIO for a read from a background process group
 * is left as it is.  The master side of a pseudo-terminal is not a
 * terminal here.  Audit mode only logs.  Both are logged as
 * stdin_detached. */
#ifndef NL_STDIN_H
#define NL_STDIN_H

#include <sys/types.h>

void nl_stdin_check_at_start(void);

/* A read on fd 0 failed with EIO: returns 0 (EOF, errno put back to
 * errno_before, its value when the read was called) after detaching, or
 * -1 (errno EIO) when the policy leaves stdin alone or the terminal did
 * not hang up. */
ssize_t nl_stdin_after_eio(int errno_before);

#endif
