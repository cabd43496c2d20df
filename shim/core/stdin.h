/* stdin=detach: a daemon-like program must not block, or fail, reading a
 * terminal that is not its own any more.
 *
 * At start-up, when fd 0 is a terminal and the process has no controlling
 * terminal or is not in its foreground group (started with `nohup … &`),
 * fd 0 becomes /dev/null.  When a read on fd 0 from a terminal fails with
 * EIO (the terminal hung up), fd 0 becomes /dev/null and the read returns
 * end-of-file.  Audit mode only logs.  Both are logged as stdin_detached. */
#ifndef NL_STDIN_H
#define NL_STDIN_H

#include <sys/types.h>

void nl_stdin_check_at_start(void);

/* A read on fd 0 failed with EIO: returns 0 (EOF) after detaching, or -1
 * (errno EIO kept) when the policy leaves stdin alone. */
ssize_t nl_stdin_after_eio(void);

#endif
