/* popen streams made by the shim (interpose/shell.c). */
#ifndef NL_SHELL_H
#define NL_SHELL_H

#include <stdio.h>

/* If fp came from the shim's popen, close it and wait for its child as
 * pclose() does, set *handled and return the status; else *handled = 0.
 * fclose() on a popen stream waits too, as in glibc. */
int nl_proc_stream_close(FILE *fp, int (*real_fclose)(FILE *), int *handled);

/* Called in a fork child (interpose/fork.c). */
void nl_shell_after_fork(void);

#endif
